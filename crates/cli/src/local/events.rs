//! `motif events send|tail|triggers`: publish CloudEvents to a broker, watch what a
//! broker takes in, and see how far each trigger has got.

use motif_contract::Event;
use motif_contract::http as binding;
use motif_events::TriggerStatus;
use reqwest::{Method, StatusCode};

use crate::error::{CliError, Kind};
use crate::local::{Admin, StateArgs, print_json_lines, problem_error};
use crate::output::{Format, status};

/// Events: publish to a broker of motif serve, follow one, show its triggers.
#[derive(Debug, clap::Subcommand)]
pub enum EventsCommand {
    /// Publish a CloudEvent to a broker (motif serve's, or any broker's URL with --to).
    Send(SendArgs),
    /// Print the events a broker of motif serve accepts, as they come, until interrupted.
    Tail(TailArgs),
    /// Show motif serve's triggers: subscriber, cursor, lag, deliveries, retries, dead
    /// letters and latency.
    Triggers(TriggersArgs),
}

/// Publish one CloudEvent. It is sent in binary mode to
/// http://127.0.0.1:PORT/broker/BROKER (the same as http://broker.localhost:PORT/BROKER),
/// which answers 202 once the event is durably stored.
///
/// Example: motif events send --type order.created --source /shop --data '{"id": 42}'
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// The event's `type`.
    #[arg(long = "type", value_name = "TYPE")]
    ty: String,
    /// The event's `source`.
    #[arg(long, default_value = "/motif/cli")]
    source: String,
    /// The event's `id` [default: a new UUID].
    #[arg(long)]
    id: Option<String>,
    /// The event's `subject`.
    #[arg(long)]
    subject: Option<String>,
    /// The data: a literal, `@FILE` for a file's contents, or `@-` for stdin.
    #[arg(short, long, value_name = "JSON|TEXT|@FILE|@-")]
    data: Option<String>,
    /// The data's media type [default: application/json when the data is JSON, else
    /// text/plain].
    #[arg(long, value_name = "MEDIA-TYPE")]
    content_type: Option<String>,
    /// An extension attribute, NAME=VALUE (repeatable).
    #[arg(short = 'e', long = "extension", value_name = "NAME=VALUE")]
    extensions: Vec<String>,
    /// The broker of motif serve.
    #[arg(short, long, default_value = "default")]
    broker: String,
    /// Send to this broker URL instead (a Knative broker's address, say).
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    #[command(flatten)]
    state: StateArgs,
}

/// Follow a broker.
#[derive(Debug, clap::Args)]
pub struct TailArgs {
    /// Only this broker's events [default: every broker's].
    #[arg(short, long)]
    broker: Option<String>,
    /// Print the last N events first (those the log still holds).
    #[arg(long, default_value_t = 0)]
    last: u64,
    /// Stop after N events.
    #[arg(long)]
    count: Option<u64>,
    #[command(flatten)]
    state: StateArgs,
}

/// Show the triggers.
#[derive(Debug, clap::Args)]
pub struct TriggersArgs {
    #[command(flatten)]
    state: StateArgs,
}

/// Runs `motif events`.
pub async fn command(command: EventsCommand, format: Format) -> Result<(), CliError> {
    match command {
        EventsCommand::Send(args) => send(args, format).await,
        EventsCommand::Tail(args) => tail(args, format).await,
        EventsCommand::Triggers(args) => triggers(args, format).await,
    }
}

async fn send(args: SendArgs, format: Format) -> Result<(), CliError> {
    let event = event(&args)?;
    let url = match &args.to {
        Some(url) => url.clone(),
        None => {
            let admin = Admin::connect(&args.state)?;
            format!(
                "http://127.0.0.1:{}/broker/{}",
                admin.endpoints.gateway.port(),
                args.broker
            )
        }
    };
    let (headers, body) = binding::encode_binary(&event);
    let mut request = reqwest::Client::new()
        .request(Method::POST, &url)
        .body(body);
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_bytes());
    }
    let response = request.send().await.map_err(|e| {
        CliError::new(
            Kind::Network,
            anyhow::Error::new(e).context(format!("cannot reach the broker at {url}")),
        )
        .hint("is motif serve running? start it with `motif serve`")
    })?;
    if !response.status().is_success() {
        return Err(problem_error(response).await);
    }
    let code = response.status();
    status(format!(
        "accepted by {url} ({code}): {} from {}",
        event.id(),
        event.source()
    ));
    let sent = serde_json::json!({
        "id": event.id(),
        "source": event.source(),
        "type": event.ty(),
        "broker": url,
        "status": code.as_u16(),
    });
    format.print(&sent, |out| {
        let _ = writeln!(out, "{}", event.id());
    });
    if code != StatusCode::ACCEPTED && code != StatusCode::OK {
        status(format!("note: the broker answered {code}, not 202"));
    }
    Ok(())
}

fn event(args: &SendArgs) -> Result<Event, CliError> {
    let id = args
        .id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut builder = Event::builder(id, args.source.clone(), args.ty.clone());
    if let Some(subject) = &args.subject {
        builder = builder.subject(subject.clone());
    }
    for extension in &args.extensions {
        let (name, value) = extension.split_once('=').ok_or_else(|| {
            CliError::input(format!("`{extension}` is not NAME=VALUE"))
                .hint("write an extension as -e tenant=acme")
        })?;
        builder = builder.extension(name, value);
    }
    if let Some(data) = &args.data {
        let bytes = read_data(data)?;
        let content_type = args.content_type.clone().unwrap_or_else(|| {
            if serde_json::from_slice::<serde_json::Value>(&bytes).is_ok() {
                "application/json".into()
            } else {
                "text/plain".into()
            }
        });
        builder = builder.data(content_type, bytes);
    }
    builder.build().map_err(|e| {
        CliError::new(
            Kind::Input,
            anyhow::Error::new(e).context("not a valid CloudEvent"),
        )
    })
}

fn read_data(data: &str) -> Result<Vec<u8>, CliError> {
    match data.strip_prefix('@') {
        Some("-") => {
            let mut buffer = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buffer)
                .map_err(|e| CliError::new(Kind::Input, e))?;
            Ok(buffer)
        }
        Some(file) => std::fs::read(file).map_err(|e| {
            CliError::new(
                Kind::Input,
                anyhow::Error::new(e).context(format!("cannot read `{file}`")),
            )
        }),
        None => Ok(data.as_bytes().to_vec()),
    }
}

async fn tail(args: TailArgs, format: Format) -> Result<(), CliError> {
    let admin = Admin::connect(&args.state)?;
    let mut path = format!("/v1/events/tail?last={}", args.last);
    if let Some(broker) = &args.broker {
        path.push_str(&format!("&broker={broker}"));
    }
    let response = admin.send(Method::GET, &path, None::<&()>).await?;
    print_json_lines(response, args.count, |line: serde_json::Value| {
        Some(match format {
            Format::Text => text_line(&line),
            _ => line.to_string(),
        })
    })
    .await
}

/// `OFFSET BROKER TYPE SOURCE ID DATA`, the data cut to one short line.
fn text_line(line: &serde_json::Value) -> String {
    let event = &line["event"];
    let field = |name: &str| event[name].as_str().unwrap_or("-").to_owned();
    let data = match (&event["data"], &event["data_base64"]) {
        (serde_json::Value::Null, serde_json::Value::Null) => String::new(),
        (serde_json::Value::Null, b64) => format!("base64:{}", b64.as_str().unwrap_or("")),
        (serde_json::Value::String(s), _) => s.clone(),
        (value, _) => value.to_string(),
    };
    let mut data: String = data.chars().take(80).collect();
    data = data.replace('\n', " ");
    format!(
        "{} {} {} {} {} {data}",
        line["offset"],
        line["broker"].as_str().unwrap_or("-"),
        field("type"),
        field("source"),
        field("id"),
    )
}

async fn triggers(args: TriggersArgs, format: Format) -> Result<(), CliError> {
    let admin = Admin::connect(&args.state)?;
    let triggers: Vec<TriggerStatus> = admin
        .call(Method::GET, "/v1/events/triggers", None::<&()>)
        .await?;
    format.print(&triggers, |out| {
        let _ = writeln!(
            out,
            "{:<32} {:<10} {:<24} {:>8} {:>9} {:>9} {:>7} {:>6} {:>7} {:>9}",
            "TRIGGER",
            "BROKER",
            "SUBSCRIBER",
            "LAG",
            "MATCHED",
            "DELIVERED",
            "RETRIES",
            "DEAD",
            "DROPPED",
            "P99 MS"
        );
        for t in &triggers {
            let _ = writeln!(
                out,
                "{:<32} {:<10} {:<24} {:>8} {:>9} {:>9} {:>7} {:>6} {:>7} {:>9}",
                t.name,
                t.broker,
                t.subscriber,
                t.lag,
                t.matched,
                t.delivered,
                t.retries,
                t.dead_lettered,
                t.dropped,
                t.latency_p99_ms.map_or("-".into(), |p| format!("{p:.1}")),
            );
        }
    });
    Ok(())
}
