//! Waiting for a Function to become ready, as `motif deploy --wait` does.
//!
//! # Guarantees
//! - Ready means the controller has seen the Function's current spec
//!   (`status.observedGeneration >= metadata.generation`) and says `Ready=True`; a status
//!   left over from an older generation counts for nothing, either way.
//! - `Ready=False` on the current generation ends the wait at once, with the condition's
//!   reason and message (the controller copies them from the child that failed).
//!
//! # Caveats
//! - A watch error (the connection dropped) is retried with backoff until the timeout;
//!   the timeout's message then names it as the last thing seen.

use std::time::Duration;

use futures_util::StreamExt;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use motif_api::Function;

/// Where a Function stands.
#[derive(Debug, PartialEq, Eq)]
pub enum State {
    /// The controller has seen the current generation and it is ready.
    Ready,
    /// The controller has seen the current generation and it failed: the `Ready`
    /// condition's reason and message.
    Failed(String),
    /// Not yet: what is awaited, for the timeout's message.
    Pending(String),
}

/// Where `function` stands.
pub fn state(function: &Function) -> State {
    let generation = function.metadata.generation.unwrap_or(0);
    let status = function.status.clone().unwrap_or_default();
    let observed = status.observed_generation;
    if observed.is_none_or(|observed| observed < generation) {
        let seen = observed.map_or_else(|| "none".to_owned(), |g| g.to_string());
        return State::Pending(format!(
            "the controller has not observed generation {generation} yet (observed: {seen})"
        ));
    }
    match status.condition("Ready") {
        Some(ready) if ready.is_true() => State::Ready,
        Some(ready) => {
            let reason = ready.reason.as_deref().unwrap_or("no reason given");
            let text = match &ready.message {
                Some(message) => format!("{reason}: {message}"),
                None => reason.to_owned(),
            };
            if ready.is_false() {
                State::Failed(text)
            } else {
                State::Pending(format!("Ready={} ({text})", ready.status))
            }
        }
        None => State::Pending("no Ready condition yet".to_owned()),
    }
}

/// How a wait ended.
#[derive(Debug)]
pub enum Outcome {
    /// Ready: the Function as last seen.
    Ready(Box<Function>),
    /// Ready=False on the current generation: its reason and message.
    Failed(String),
    /// The time ran out.
    TimedOut {
        /// The last thing seen.
        last: String,
        /// Whether the controller ever wrote a status (if not, is it running?).
        controller_seen: bool,
    },
}

/// Watches the Function `name` until it is ready or failed, for at most `timeout`.
pub async fn until_ready(api: Api<Function>, name: &str, timeout: Duration) -> Outcome {
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let stream = watcher(api, config).default_backoff().applied_objects();
    let mut last = format!("the Function `{name}` was not seen");
    let mut controller_seen = false;
    let waiting = async {
        let mut stream = std::pin::pin!(stream);
        // The watcher's stream ends only when it is dropped.
        while let Some(event) = stream.next().await {
            match event {
                Ok(function) => {
                    controller_seen |= function
                        .status
                        .as_ref()
                        .is_some_and(|s| s.observed_generation.is_some());
                    match state(&function) {
                        State::Ready => return Some(Outcome::Ready(Box::new(function))),
                        State::Failed(text) => return Some(Outcome::Failed(text)),
                        State::Pending(text) => last = text,
                    }
                }
                Err(e) => last = format!("watching the Function failed: {e}"),
            }
        }
        None
    };
    let outcome = tokio::time::timeout(timeout, waiting).await;
    match outcome {
        Ok(Some(outcome)) => outcome,
        Ok(None) | Err(_) => Outcome::TimedOut {
            last,
            controller_seen,
        },
    }
}

/// A duration as it is written on the command line: `90s`, `2m`, `1h`, `1m30s`.
pub fn human(duration: Duration) -> String {
    let total = duration.as_secs();
    if duration.subsec_millis() != 0 || total == 0 {
        return format!("{}ms", duration.as_millis());
    }
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    let mut text = String::new();
    for (value, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if value != 0 {
            text.push_str(&format!("{value}{unit}"));
        }
    }
    text
}

/// Parses a duration: numbers with units (`ms`, `s`, `m`, `h`), such as `90s`, `2m`,
/// `1h`, `1m30s`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    positive(parse_any_duration(text)?)
}

/// A duration as `parse_duration` reads it, zero included (`0s`: none).
pub fn parse_any_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let invalid = || format!("`{text}` is not a duration such as 90s, 2m or 1h");
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(invalid());
        }
        let value: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit] {
            "ms" => Duration::from_millis(value),
            "s" => Duration::from_secs(value),
            "m" => Duration::from_secs(value.saturating_mul(60)),
            "h" => Duration::from_secs(value.saturating_mul(3600)),
            _ => return Err(invalid()),
        };
        total = total.saturating_add(part);
        rest = &rest[unit..];
    }
    Ok(total)
}

fn positive(duration: Duration) -> Result<Duration, String> {
    if duration.is_zero() {
        Err("it must be more than 0".to_owned())
    } else {
        Ok(duration)
    }
}

#[cfg(test)]
mod tests {
    use motif_api::{Condition, FunctionStatus};

    use super::*;

    fn function(generation: i64, observed: Option<i64>, ready: Option<(&str, &str)>) -> Function {
        let mut function = Function::new("hello", motif_api::FunctionSpec::default());
        function.metadata.generation = Some(generation);
        function.status = Some(FunctionStatus {
            observed_generation: observed,
            conditions: ready
                .map(|(status, reason)| Condition {
                    type_: "Ready".into(),
                    status: status.into(),
                    reason: Some(reason.into()),
                    message: Some("the image cannot be pulled".into()),
                    last_transition_time: None,
                })
                .into_iter()
                .collect(),
            ..FunctionStatus::default()
        });
        function
    }

    #[test]
    fn a_status_of_an_older_generation_counts_for_nothing() {
        let stale = function(2, Some(1), Some(("False", "RevisionFailed")));
        assert_eq!(
            state(&stale),
            State::Pending("the controller has not observed generation 2 yet (observed: 1)".into())
        );
        let unseen = function(1, None, None);
        assert!(matches!(state(&unseen), State::Pending(_)));
    }

    #[test]
    fn ready_false_on_the_current_generation_fails_with_reason_and_message() {
        assert_eq!(
            state(&function(2, Some(2), Some(("False", "RevisionFailed")))),
            State::Failed("RevisionFailed: the image cannot be pulled".into())
        );
        assert_eq!(
            state(&function(2, Some(3), Some(("True", "Ready")))),
            State::Ready
        );
        assert_eq!(
            state(&function(2, Some(2), Some(("Unknown", "Deploying")))),
            State::Pending("Ready=Unknown (Deploying: the image cannot be pulled)".into())
        );
    }

    #[test]
    fn durations_read_as_written() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("2 minutes").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(human(Duration::from_secs(120)), "2m");
        assert_eq!(human(Duration::from_secs(90)), "1m30s");
        assert_eq!(human(Duration::from_millis(1500)), "1500ms");
    }
}
