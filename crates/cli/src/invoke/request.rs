//! From flags to the request `motif invoke` sends: the target URL, the method, the body
//! and its type, and the CloudEvent when one is sent.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use motif_contract::Event;
use motif_contract::http::Mode;
use reqwest::Url;

use super::{DEFAULT_PORT, DEFAULT_SOURCE, DEFAULT_TYPE, InvokeArgs};
use crate::error::{CliError, Kind, ResultExt};

/// A request ready to send.
#[derive(Debug)]
pub struct Prepared {
    /// Where it goes.
    pub url: Url,
    /// How.
    pub method: Method,
    /// The headers, `ce-` ones included in binary mode.
    pub headers: HeaderMap,
    /// The body (a structured event, or the data).
    pub body: Bytes,
    /// Whether it carries a CloudEvent.
    pub cloudevent: bool,
    /// How long to wait for the whole answer.
    pub timeout: Duration,
}

/// What to do about a CloudEvent flag on a plain HTTP request.
const CLOUDEVENT_HINT: &str = "add --cloudevent, or set kind = \"cloudevent\" in the \
                               function's motif.toml";

impl Prepared {
    /// Resolves the flags, reading motif.toml, `@FILE` or stdin as they ask.
    pub fn resolve(args: InvokeArgs) -> Result<Prepared, CliError> {
        let cloudevent = match args.cloudevent {
            Some(explicit) => explicit,
            None => function_kind(args.dir.as_deref())? == motif_api::Kind::Cloudevent,
        };
        if !cloudevent {
            let event_flags = [
                ("--type", args.event_type.is_some()),
                ("--source", args.source.is_some()),
                ("--id", args.id.is_some()),
                ("--structured", args.structured),
            ];
            if let Some((flag, _)) = event_flags.iter().find(|(_, given)| *given) {
                return Err(CliError::input(format!(
                    "{flag} is for a CloudEvent, and this request is plain HTTP"
                ))
                .hint(CLOUDEVENT_HINT));
            }
        }
        let url = target_url(args.target.as_deref(), args.path.as_deref())?;
        let extra_headers = parse_headers(&args.headers)?;
        // Stdin is read last of all, so that a mistake in the flags does not wait for it.
        let data = args.data.as_deref().map(read_data).transpose()?;
        if args.content_type.is_some() && data.is_none() {
            return Err(
                CliError::input("--content-type describes --data, which is not given")
                    .hint("give the body with --data JSON|TEXT|@FILE|@-"),
            );
        }
        let method = match &args.method {
            Some(method) => Method::from_bytes(method.as_bytes()).map_err(|_| {
                CliError::input(format!("`{method}` is not an HTTP method"))
                    .hint("give a method such as GET, POST or PUT")
            })?,
            None if cloudevent || data.is_some() => Method::POST,
            None => Method::GET,
        };
        let data = data.map(|data| {
            let content_type = args
                .content_type
                .clone()
                .unwrap_or_else(|| default_content_type(&data).to_owned());
            (content_type, data)
        });
        let (mut headers, body) = if cloudevent {
            let event = build_event(&args, data)?;
            let mode = if args.structured {
                Mode::Structured
            } else {
                Mode::Binary
            };
            motif_contract::http::encode(&event, mode)
        } else {
            let mut headers = HeaderMap::new();
            match data {
                Some((content_type, data)) => {
                    let value = HeaderValue::try_from(content_type.as_str()).map_err(|_| {
                        CliError::input(format!("`{content_type}` is not a valid content type"))
                            .hint("give a media type such as application/json")
                    })?;
                    headers.insert(CONTENT_TYPE, value);
                    (headers, data)
                }
                None => (headers, Bytes::new()),
            }
        };
        // A user's header replaces ours of the same name; the user may repeat a name.
        let mut replaced = std::collections::HashSet::new();
        for (name, value) in extra_headers {
            if replaced.insert(name.clone()) {
                headers.remove(&name);
            }
            headers.append(name, value);
        }
        Ok(Prepared {
            url,
            method,
            headers,
            body,
            cloudevent,
            timeout: args.timeout,
        })
    }
}

/// The kind motif.toml gives the function in `dir`; `http` when there is none.
fn function_kind(dir: Option<&Path>) -> Result<motif_api::Kind, CliError> {
    let dir = crate::function_dir(dir.map(Path::to_owned));
    if !dir.is_dir() {
        return Err(
            CliError::input(format!("`{}` is not a directory", dir.display()))
                .hint("give the function's directory, or leave PATH out"),
        );
    }
    match motif_api::FunctionFile::load(&dir) {
        Ok(file) => Ok(file.spec.kind),
        Err(motif_api::FileError::Missing(_)) => Ok(motif_api::Kind::Http),
        Err(e) => Err(e.into()),
    }
}

/// The target with `--path` appended: `--target`, else `http://localhost:$PORT`.
fn target_url(target: Option<&str>, path: Option<&str>) -> Result<Url, CliError> {
    let target = match target {
        Some(target) if target.contains("://") => target.to_owned(),
        // `localhost:8080` would parse as a URL of scheme `localhost`.
        Some(target) => format!("http://{target}"),
        None => format!("http://localhost:{}", default_port()?),
    };
    let mut url = Url::parse(&target).map_err(|e| {
        CliError::new(
            Kind::Input,
            anyhow::Error::new(e).context(format!("`{target}` is not a URL")),
        )
        .hint("give --target as http://HOST:PORT")
    })?;
    // HTTPS is verified against the platform's roots (reqwest's rustls platform verifier).
    if !matches!(url.scheme(), "http" | "https") {
        return Err(CliError::input(format!(
            "`{target}` has scheme `{}`, not http or https",
            url.scheme()
        ))
        .hint("give --target as http://HOST:PORT or https://HOST"));
    }
    if let Some(path) = path {
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path, None),
        };
        let joined = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        if query.is_some() {
            url.set_query(query);
        }
    }
    Ok(url)
}

/// `$PORT`, else 8080.
fn default_port() -> Result<u16, CliError> {
    match std::env::var("PORT") {
        Ok(port) if !port.is_empty() => port.trim().parse().map_err(|_| {
            CliError::input(format!("PORT `{port}` is not a port number"))
                .hint("set PORT to the port the function serves on, or give --target")
        }),
        _ => Ok(DEFAULT_PORT),
    }
}

/// Whether a URL names this machine, so that no proxy should be used for it.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `--data`: the literal, the file of `@FILE`, or stdin for `@-`.
fn read_data(data: &str) -> Result<Bytes, CliError> {
    match data.strip_prefix('@') {
        Some("-") => {
            let mut buffer = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buffer)
                .or_fail(Kind::Input, "cannot read the data from stdin")?;
            Ok(buffer.into())
        }
        Some(file) => std::fs::read(file).map(Bytes::from).map_err(|e| {
            CliError::new(
                Kind::Input,
                anyhow::Error::new(e).context(format!("cannot read the data file `{file}`")),
            )
            .hint("give --data @FILE with a readable file, @- for stdin, or the data itself")
        }),
        None => Ok(Bytes::copy_from_slice(data.as_bytes())),
    }
}

/// The media type of data given without `--content-type`.
fn default_content_type(data: &[u8]) -> &'static str {
    if serde_json::from_slice::<serde::de::IgnoredAny>(data).is_ok() {
        "application/json"
    } else if std::str::from_utf8(data).is_ok() {
        "text/plain; charset=utf-8"
    } else {
        motif_contract::media::OCTET_STREAM
    }
}

/// The event of `--type`, `--source` and `--id`, with the data.
fn build_event(args: &InvokeArgs, data: Option<(String, Bytes)>) -> Result<Event, CliError> {
    let id = args
        .id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let source = args.source.as_deref().unwrap_or(DEFAULT_SOURCE);
    let ty = args.event_type.as_deref().unwrap_or(DEFAULT_TYPE);
    let mut builder = Event::builder(id, source, ty);
    if let Some((content_type, data)) = data {
        builder = builder.data(content_type, data);
    }
    builder.build().map_err(|e| {
        let hint = match e.attribute() {
            // An IRI is not a URI-reference, but its percent-encoded form is.
            Some("source") if !source.is_ascii() => format!(
                "a source is a URI-reference, which is ASCII: give --source {}",
                percent_encode_non_ascii(source)
            ),
            Some("source") => "give --source as a URI-reference, such as /orders".to_owned(),
            Some("id") => "give a non-empty --id".to_owned(),
            Some("type") => "give a non-empty --type, such as com.example.order.placed".to_owned(),
            Some("datacontenttype") => {
                "give --content-type as a media type, such as application/json".to_owned()
            }
            _ => "check --id, --source, --type and --content-type".to_owned(),
        };
        CliError::new(
            Kind::Input,
            anyhow::Error::new(e).context("cannot build the CloudEvent"),
        )
        .hint(hint)
    })
}

/// `text` with every non-ASCII byte percent-encoded (RFC 3987 §3.1's IRI-to-URI step).
fn percent_encode_non_ascii(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `-H 'Name: value'` flags as header names and values.
fn parse_headers(headers: &[String]) -> Result<Vec<(HeaderName, HeaderValue)>, CliError> {
    headers
        .iter()
        .filter(|header| !header.trim().is_empty())
        .map(|header| {
            let invalid = |why: &str| {
                CliError::input(format!("header `{header}` {why}"))
                    .hint("give headers as -H 'Name: value'")
            };
            let (name, value) = header
                .split_once(':')
                .ok_or_else(|| invalid("has no `:` between its name and value"))?;
            let name =
                HeaderName::try_from(name.trim()).map_err(|_| invalid("has an invalid name"))?;
            let value =
                HeaderValue::try_from(value.trim()).map_err(|_| invalid("has an invalid value"))?;
            Ok((name, value))
        })
        .collect()
}
