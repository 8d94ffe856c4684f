//! `motif invoke`: send one request or CloudEvent to a function and print its answer.
//!
//! The flags resolve into a [`request::Prepared`] request (target, method, headers, body,
//! with the CloudEvent built and encoded by `motif-contract`), which is sent once; the
//! answer becomes a [`show::Reply`] (decoded as a CloudEvent or a problem where it is
//! one), printed as text or as one `-o json|yaml` document.

mod request;
mod show;

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{CliError, Kind};
use crate::output::Format;

/// Send a request or a CloudEvent to a function and print the answer.
///
/// PATH names the function: when PATH/motif.toml says `kind = "cloudevent"`, a
/// CloudEvent is sent without `--cloudevent`. Without `--data` an HTTP request is a GET
/// and a CloudEvent a POST with no data.
///
/// With `-o json` or `-o yaml` the answer is one document with these fields:
///
/// - `status`: the HTTP status code (a number);
/// - `headers`: every response header, lower-case name to value (repeated headers
///   joined with `, `);
/// - `cloudevent`: the reply event's attributes (`id`, `source`, `specversion`, `type`,
///   `datacontenttype`, ..., and extensions), or `null` when the answer is no event;
/// - `mode`: `binary`, `structured` or `batch` for an event, else `null`;
/// - `body`: the body (for an event, its data): a JSON value when its content type is
///   JSON and it parses, else a string when it is UTF-8, else `{"base64": "..."}`;
///   `null` when empty.
///
/// Exit codes: 0 for a 1xx-3xx answer, 6 for 4xx/5xx (after printing it), 5 when the
/// function cannot be reached, 3 for bad flags.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct InvokeArgs {
    /// The function's directory; its motif.toml, if any, says whether it takes
    /// CloudEvents.
    #[arg(value_name = "PATH")]
    dir: Option<PathBuf>,

    /// The function's URL [default: http://localhost:$PORT, PORT from the environment,
    /// else 8080, where `motif run` serves].
    #[arg(long, env = "MOTIF_TARGET", value_name = "URL")]
    target: Option<String>,

    /// A path (and query) to append to the target's, such as `/orders?limit=1`.
    #[arg(long, env = "MOTIF_INVOKE_PATH", value_name = "/PATH")]
    path: Option<String>,

    /// The body: a literal, `@FILE` for a file's contents, or `@-` for stdin.
    #[arg(
        short,
        long,
        env = "MOTIF_INVOKE_DATA",
        value_name = "JSON|TEXT|@FILE|@-"
    )]
    data: Option<String>,

    /// The body's media type [default: application/json if the data parses as JSON,
    /// else text/plain; charset=utf-8 if it is UTF-8, else application/octet-stream].
    #[arg(long, env = "MOTIF_INVOKE_CONTENT_TYPE", value_name = "TYPE")]
    content_type: Option<String>,

    /// Send a CloudEvent (the default for a `cloudevent` function); `--cloudevent=false`
    /// sends plain HTTP even to one.
    #[arg(
        long,
        env = "MOTIF_INVOKE_CLOUDEVENT",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    cloudevent: Option<bool>,

    /// The event's `type`.
    #[arg(long = "type", env = "MOTIF_INVOKE_TYPE", value_name = "TYPE")]
    event_type: Option<String>,

    /// The event's `source`, a URI-reference [default: /motif/invoke].
    #[arg(long, env = "MOTIF_INVOKE_SOURCE", value_name = "URI")]
    source: Option<String>,

    /// The event's `id` [default: a fresh UUID v4].
    #[arg(long, env = "MOTIF_INVOKE_ID", value_name = "ID")]
    id: Option<String>,

    /// Send the event in structured mode (`application/cloudevents+json`) rather than
    /// binary mode (`ce-` headers).
    #[arg(
        long,
        env = "MOTIF_INVOKE_STRUCTURED",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    structured: bool,

    /// The HTTP method [default: POST with data or for a CloudEvent, else GET].
    #[arg(short = 'X', long, env = "MOTIF_INVOKE_METHOD", value_name = "METHOD")]
    method: Option<String>,

    /// A request header, `Name: value`; repeat for more (in the environment, one a line).
    /// It replaces a header of the same name that motif would send.
    #[arg(
        short = 'H',
        long = "header",
        env = "MOTIF_INVOKE_HEADER",
        value_name = "NAME: VALUE",
        value_delimiter = '\n'
    )]
    headers: Vec<String>,

    /// How long to wait for the whole answer, in seconds.
    #[arg(
        long,
        env = "MOTIF_INVOKE_TIMEOUT",
        value_name = "SECONDS",
        default_value = "30",
        value_parser = parse_seconds,
    )]
    timeout: Duration,
}

/// The end of `motif invoke --help`: what the doc comment of [`InvokeArgs`] says of
/// the output and the exit codes, for a user.
const AFTER_HELP: &str = "\
With -o json|yaml: one document with `status` (a number), `headers` (name to value),
`cloudevent` (the reply event's attributes, or null), `mode` (binary, structured, batch
or null) and `body` (for an event, its data: a JSON value if it is JSON, else a string
if UTF-8, else {\"base64\": \"...\"}; null when empty).

Exit codes: 0 for a 1xx-3xx answer, 6 for 4xx/5xx (printed first), 5 when the function
cannot be reached or is too slow, 3 for bad flags.";

/// The event `type` sent when `--type` is not given.
const DEFAULT_TYPE: &str = "dev.motif.invoke";
/// The event `source` sent when `--source` is not given.
const DEFAULT_SOURCE: &str = "/motif/invoke";
/// The port `motif run` serves on when `PORT` is not set (CONTRACT.md §1).
const DEFAULT_PORT: u16 = 8080;

/// What to do when the function cannot be reached.
const NOT_RUNNING_HINT: &str = "is the function running? start it with `motif run` (it serves \
                                on $PORT, 8080 by default), or give --target";

/// Runs `motif invoke`.
pub async fn invoke(args: InvokeArgs, format: Format) -> Result<(), CliError> {
    let prepared = request::Prepared::resolve(args)?;
    let sent_cloudevent = prepared.cloudevent;
    let reply = send(prepared).await?;
    format.print(&reply.document(), |out| {
        // A closed stdout (`| head`) is not an error of the function's.
        let _ = reply.write_text(out);
    });
    if reply.status.is_client_error() || reply.status.is_server_error() {
        let error = CliError::new(
            Kind::Function,
            anyhow::anyhow!("the function answered {}", show::status_line(reply.status)),
        );
        return Err(match reply.hint(sent_cloudevent) {
            Some(hint) => error.hint(hint),
            None => error,
        });
    }
    Ok(())
}

/// Sends the request and reads the whole answer.
async fn send(prepared: request::Prepared) -> Result<show::Reply, CliError> {
    let url = prepared.url.clone();
    let timeout = prepared.timeout;
    let mut client = reqwest::Client::builder().timeout(timeout);
    // A proxy from the environment is meant for the outside world: a function on this
    // machine is reached directly.
    if request::is_loopback(&url) {
        client = client.no_proxy();
    }
    // `NAME.localhost` is loopback (RFC 6761), as browsers and curl take it, but this
    // machine's resolver may not know it: motif serve's functions live there.
    if let Some(host) = url.host_str()
        && host.to_ascii_lowercase().ends_with(".localhost")
    {
        let port = url.port_or_known_default().unwrap_or(80);
        client = client.resolve(host, std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let client = client.build().map_err(|e| {
        CliError::new(
            Kind::Other,
            anyhow::Error::new(e).context("cannot start the HTTP client"),
        )
    })?;
    let unreachable = |e: reqwest::Error| {
        let hint = if e.is_timeout() && !e.is_connect() {
            format!(
                "the function did not answer within {} s: give it longer with --timeout \
                 (MOTIF_INVOKE_TIMEOUT), or check that it is running (`motif run`)",
                timeout.as_secs_f64()
            )
        } else {
            NOT_RUNNING_HINT.to_owned()
        };
        // The innermost cause says what happened (`Connection refused`); the layers of
        // the HTTP client above it add nothing a user can act on.
        let e = e.without_url();
        let mut root: &dyn std::error::Error = &e;
        while let Some(source) = root.source() {
            root = source;
        }
        let error = anyhow::anyhow!("{root}").context(format!("cannot reach `{url}`"));
        CliError::new(Kind::Network, error).hint(hint)
    };
    let response = client
        .request(prepared.method, prepared.url.clone())
        .headers(prepared.headers)
        .body(prepared.body)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(unreachable)?;
    Ok(show::Reply::read(status, headers, body))
}

/// Parses `--timeout`: positive seconds, fractions allowed.
fn parse_seconds(value: &str) -> Result<Duration, String> {
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number of seconds"))?;
    if seconds <= 0.0 {
        return Err("the timeout must be more than 0 seconds".to_owned());
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{value}` seconds is too long"))
}
