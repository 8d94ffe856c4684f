//! `motif subscribe FUNCTION` and `motif unsubscribe FUNCTION NAME`: a trigger made on
//! its own (as `kn trigger create`), beside the subscriptions of the function's
//! `motif.toml`, on motif serve.

use std::collections::BTreeMap;

use motif_api::{
    AttributesFilter, BackoffPolicy, DEFAULT_BROKER, Delivery, Destination, Filter, Subscription,
};
use reqwest::Method;

use crate::cluster::{Target, TargetArgs};
use crate::error::CliError;
use crate::local::{Admin, StateArgs};
use crate::output::{Format, status};

/// Subscribe a function of motif serve to a broker's events.
///
/// `--filter NAME=VALUE` alone is Knative's attribute filter (exact matches; an empty
/// VALUE matches any value of a present attribute). With `--prefix`, `--suffix` or
/// `--cesql`, every filter given must pass (Knative's `filters`). The subscription is
/// kept by motif serve until `motif unsubscribe` or the function's deletion. With
/// `--cluster` it is added to the Function's `spec.subscriptions` on the cluster (its
/// Trigger is FUNCTION-NAME); a later `motif deploy --cluster` sets the subscriptions of
/// the `motif.toml` again.
///
/// Example: motif subscribe audit --filter type=order.created --cesql "amount > 100"
#[derive(Debug, clap::Args)]
pub struct SubscribeArgs {
    /// The function that gets the events.
    function: String,
    /// The subscription's name [default: derived from its broker and filters, so the
    /// same command twice makes one subscription]; its trigger is FUNCTION-NAME.
    #[arg(long)]
    name: Option<String>,
    /// The broker.
    #[arg(short, long, default_value = DEFAULT_BROKER)]
    broker: String,
    /// ATTRIBUTE=VALUE: the attribute equals the value (repeatable).
    #[arg(short, long = "filter", value_name = "ATTRIBUTE=VALUE")]
    filters: Vec<String>,
    /// ATTRIBUTE=VALUE: the attribute starts with the value (repeatable).
    #[arg(long = "prefix", value_name = "ATTRIBUTE=VALUE")]
    prefixes: Vec<String>,
    /// ATTRIBUTE=VALUE: the attribute ends with the value (repeatable).
    #[arg(long = "suffix", value_name = "ATTRIBUTE=VALUE")]
    suffixes: Vec<String>,
    /// A CloudEvents SQL expression that must be true.
    #[arg(long, value_name = "EXPRESSION")]
    cesql: Option<String>,
    /// Retries before an event goes to the dead-letter sink [default: 3].
    #[arg(long)]
    retry: Option<u32>,
    /// How retries are spaced [default: exponential].
    #[arg(long, value_parser = ["linear", "exponential"])]
    backoff_policy: Option<String>,
    /// The base delay between retries, ISO 8601 [default: PT0.2S].
    #[arg(long, value_name = "DURATION")]
    backoff_delay: Option<String>,
    /// How long one attempt may take, ISO 8601 [default: PT60S].
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Where undeliverable events go: a function's name or an http(s) URL.
    #[arg(long, value_name = "FUNCTION|URL")]
    dead_letter: Option<String>,
    /// Events delivered at once [default: 100].
    #[arg(long)]
    concurrency: Option<u32>,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    state: StateArgs,
}

/// Remove a subscription that `motif subscribe` made.
#[derive(Debug, clap::Args)]
pub struct UnsubscribeArgs {
    /// The function.
    function: String,
    /// The subscription's name (`motif describe FUNCTION` lists its triggers, named
    /// FUNCTION-NAME).
    name: String,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    state: StateArgs,
}

/// Runs `motif subscribe`.
pub async fn subscribe(args: SubscribeArgs, format: Format) -> Result<(), CliError> {
    let mut subscription = subscription(&args)?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => derived_name(&subscription),
    };
    subscription.name = Some(name.clone());
    if args.target.cluster {
        return on_cluster(
            &args.target,
            &args.function,
            Change::Add(subscription),
            format,
        )
        .await;
    }
    let admin = Admin::connect(&args.state)?;
    let response = admin
        .send(
            Method::PUT,
            &format!("/v1/functions/{}/subscriptions/{name}", args.function),
            Some(&subscription),
        )
        .await?;
    let replaced = response.status() == reqwest::StatusCode::OK;
    let trigger = format!("{}-{name}", args.function);
    status(format!(
        "{} `{}` to broker `{}` as trigger `{trigger}`",
        if replaced {
            "resubscribed"
        } else {
            "subscribed"
        },
        args.function,
        args.broker
    ));
    format.print(&subscription, |out| {
        let _ = writeln!(out, "{trigger}");
    });
    Ok(())
}

/// Runs `motif unsubscribe`.
pub async fn unsubscribe(args: UnsubscribeArgs, format: Format) -> Result<(), CliError> {
    let name = args
        .name
        .strip_prefix(&format!("{}-", args.function))
        .unwrap_or(&args.name);
    if args.target.cluster {
        let change = Change::Remove(name.to_owned());
        return on_cluster(&args.target, &args.function, change, format).await;
    }
    let admin = Admin::connect(&args.state)?;
    admin
        .send(
            Method::DELETE,
            &format!("/v1/functions/{}/subscriptions/{name}", args.function),
            None::<&()>,
        )
        .await?;
    status(format!("unsubscribed `{}` ({name})", args.function));
    Ok(())
}

enum Change {
    Add(Subscription),
    Remove(String),
}

/// Adds a subscription to, or removes one from, the Function's spec on the cluster:
/// read, change, checked as `motif deploy` would, replaced (a concurrent change makes
/// the replace fail with a conflict rather than be lost).
async fn on_cluster(
    target: &TargetArgs,
    function: &str,
    change: Change,
    format: Format,
) -> Result<(), CliError> {
    let target = Target::connect(target).await?;
    let api = target.functions();
    let mut current = api
        .get(function)
        .await
        .map_err(|e| target.fail_function(e, function, "reading"))?;
    let subscriptions = &mut current.spec.subscriptions;
    let message = match change {
        Change::Add(subscription) => {
            let name = subscription.name.clone();
            subscriptions.retain(|s| s.name != name);
            subscriptions.push(subscription);
            format!(
                "subscribed Function {}/{function} as {function}-{}",
                target.namespace,
                name.unwrap_or_default()
            )
        }
        Change::Remove(name) => {
            let before = subscriptions.len();
            subscriptions.retain(|s| s.name.as_deref() != Some(name.as_str()));
            if subscriptions.len() == before {
                return Err(CliError::new(
                    crate::error::Kind::Function,
                    anyhow::anyhow!("the Function `{function}` has no subscription `{name}`"),
                )
                .hint(format!(
                    "`motif describe {function} --cluster` shows its Triggers"
                )));
            }
            format!(
                "unsubscribed Function {}/{function} ({name})",
                target.namespace
            )
        }
    };
    let problems = motif_api::validate_function(function, &current.spec);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(CliError::input(list.join("; ")));
    }
    let replaced = api
        .replace(function, &kube::api::PostParams::default(), &current)
        .await
        .map_err(|e| target.fail_function(e, function, "updating"))?;
    status(message);
    format.print(&replaced.spec.subscriptions, |out| {
        for s in &replaced.spec.subscriptions {
            let _ = writeln!(out, "{}", s.name.as_deref().unwrap_or("-"));
        }
    });
    Ok(())
}

fn subscription(args: &SubscribeArgs) -> Result<Subscription, CliError> {
    let exact = pairs(&args.filters, "--filter")?;
    let prefix = pairs(&args.prefixes, "--prefix")?;
    let suffix = pairs(&args.suffixes, "--suffix")?;
    let dialects = !prefix.is_empty() || !suffix.is_empty() || args.cesql.is_some();
    let mut filters = Vec::new();
    let mut filter = None;
    if dialects {
        if !exact.is_empty() {
            filters.push(Filter::Exact(exact));
        }
        if !prefix.is_empty() {
            filters.push(Filter::Prefix(prefix));
        }
        if !suffix.is_empty() {
            filters.push(Filter::Suffix(suffix));
        }
        if let Some(cesql) = &args.cesql {
            filters.push(Filter::Cesql(cesql.clone()));
        }
    } else if !exact.is_empty() {
        filter = Some(AttributesFilter { attributes: exact });
    }
    let dead_letter_sink = args.dead_letter.as_ref().map(|sink| {
        if sink.contains("://") {
            Destination {
                function: None,
                uri: Some(sink.clone()),
            }
        } else {
            Destination {
                function: Some(sink.clone()),
                uri: None,
            }
        }
    });
    let delivery = Delivery {
        retry: args.retry,
        backoff_policy: args.backoff_policy.as_deref().map(|p| match p {
            "linear" => BackoffPolicy::Linear,
            _ => BackoffPolicy::Exponential,
        }),
        backoff_delay: args.backoff_delay.clone(),
        timeout: args.timeout.clone(),
        dead_letter_sink,
    };
    Ok(Subscription {
        name: None,
        broker: args.broker.clone(),
        filter,
        filters,
        delivery: (delivery != Delivery::default()).then_some(delivery),
        concurrency: args.concurrency,
    })
}

fn pairs(values: &[String], flag: &str) -> Result<BTreeMap<String, String>, CliError> {
    values
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| {
                    CliError::input(format!("`{pair}` is not ATTRIBUTE=VALUE"))
                        .hint(format!("write it as {flag} type=order.created"))
                })
        })
        .collect()
}

/// `s` and eight hex digits of a hash of the subscription: stable across runs.
fn derived_name(subscription: &Subscription) -> String {
    let json = serde_json::to_string(subscription).unwrap_or_default();
    // FNV-1a: the same on every build and platform.
    let hash = json.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("s{:08x}", hash as u32)
}
