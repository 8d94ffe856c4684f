//! Sources: events a function's ping sources put into a broker on a cron schedule, in
//! Knative Eventing's terms (a PingSource each, its sink the broker).

use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cron::{Schedule, parse_timezone};
use crate::subscription::{DEFAULT_BROKER, shorten};

/// A ping source: an event put into a broker on a cron schedule, as Knative's
/// PingSource (`sources.knative.dev/v1`) sends one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    /// Tells this source apart (a DNS label); its PingSource is `FUNCTION-NAME`
    /// [default: `FUNCTION-ping-N`, N counting the unnamed sources].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The broker the events go into [default: `default`].
    #[serde(default = "default_broker")]
    pub broker: String,
    /// When events are sent: five cron fields (minute hour day-of-month month
    /// day-of-week), e.g. `*/5 * * * *`, or `@yearly`, `@annually`, `@monthly`,
    /// `@weekly`, `@daily`, `@midnight`, `@hourly`.
    pub schedule: String,
    /// The time zone the schedule is read in: `UTC` or a fixed offset such as `+02:00`
    /// [default: `UTC`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The event's data, as text. Not with `dataBase64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The event's data, binary, in base64. Not with `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_base64: Option<String>,
    /// The media type of the data [default: `application/json` when `data` is JSON,
    /// `text/plain` for other text, `application/octet-stream` for `dataBase64`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

fn default_broker() -> String {
    DEFAULT_BROKER.to_owned()
}

impl Source {
    /// The schedule, read in the source's time zone.
    pub fn parsed_schedule(&self) -> Result<Schedule, String> {
        let offset = match &self.timezone {
            Some(zone) => parse_timezone(zone)?,
            None => time::UtcOffset::UTC,
        };
        Ok(Schedule::parse(&self.schedule)?.with_offset(offset))
    }

    /// The event's data as bytes: `data`'s text, or `dataBase64` decoded; `None` when
    /// the events carry no data.
    pub fn data_bytes(&self) -> Result<Option<Vec<u8>>, String> {
        match (&self.data, &self.data_base64) {
            (Some(_), Some(_)) => Err("set at most one of `data` and `dataBase64`".into()),
            (Some(text), None) => Ok(Some(text.clone().into_bytes())),
            (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map(Some)
                .map_err(|e| format!("`dataBase64` is not base64: {e}")),
            (None, None) => Ok(None),
        }
    }

    /// The data's media type: `contentType`, else `application/json` for `data` that
    /// parses as JSON, `text/plain` for other `data` and `application/octet-stream` for
    /// `dataBase64`; `None` without data. The cluster and `motif serve` send the same.
    pub fn data_content_type(&self) -> Option<String> {
        if let Some(content_type) = &self.content_type {
            return Some(content_type.clone());
        }
        match (&self.data, &self.data_base64) {
            (Some(text), _) if serde_json::from_str::<serde_json::Value>(text).is_ok() => {
                Some("application/json".into())
            }
            (Some(_), _) => Some("text/plain".into()),
            (None, Some(_)) => Some("application/octet-stream".into()),
            (None, None) => None,
        }
    }
}

/// The sources' names (their PingSources'), one per source, the same on every
/// compilation: `FUNCTION-NAME` for a named source, else `FUNCTION-ping-N` with N
/// counting the unnamed sources from 1. A name longer than 63 characters is cut and
/// ends with a hash of the whole.
pub fn source_names(function: &str, sources: &[Source]) -> Vec<String> {
    let mut unnamed = 0;
    sources
        .iter()
        .map(|source| {
            let full = match &source.name {
                Some(name) => format!("{function}-{name}"),
                None => {
                    unnamed += 1;
                    format!("{function}-ping-{unnamed}")
                }
            };
            shorten(full)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: Option<&str>) -> Source {
        Source {
            name: name.map(Into::into),
            broker: DEFAULT_BROKER.into(),
            schedule: "* * * * *".into(),
            timezone: None,
            data: None,
            data_base64: None,
            content_type: None,
        }
    }

    #[test]
    fn source_names_are_stable_and_short() {
        let sources = [source(None), source(Some("tick")), source(None)];
        assert_eq!(
            source_names("fn", &sources),
            ["fn-ping-1", "fn-tick", "fn-ping-2"]
        );
        let long = "a".repeat(60);
        let names = source_names(&long, &sources);
        assert!(names.iter().all(|n| n.len() <= 63), "{names:?}");
        assert_ne!(names[0], names[2]);
        assert_eq!(names, source_names(&long, &sources));
    }

    #[test]
    fn the_content_type_follows_the_data() {
        let with = |data: Option<&str>, base64: Option<&str>, ty: Option<&str>| Source {
            data: data.map(Into::into),
            data_base64: base64.map(Into::into),
            content_type: ty.map(Into::into),
            ..source(None)
        };
        let json = with(Some(r#"{"hello": "world"}"#), None, None);
        assert_eq!(
            json.data_content_type().as_deref(),
            Some("application/json")
        );
        assert_eq!(
            json.data_bytes().unwrap().as_deref(),
            Some(br#"{"hello": "world"}"#.as_slice())
        );
        let text = with(Some("hello"), None, None);
        assert_eq!(text.data_content_type().as_deref(), Some("text/plain"));
        let typed = with(Some("<a/>"), None, Some("application/xml"));
        assert_eq!(
            typed.data_content_type().as_deref(),
            Some("application/xml")
        );
        let binary = with(None, Some("AAEC/w=="), None);
        assert_eq!(
            binary.data_content_type().as_deref(),
            Some("application/octet-stream")
        );
        assert_eq!(
            binary.data_bytes().unwrap().as_deref(),
            Some([0, 1, 2, 255].as_slice())
        );
        let none = with(None, None, None);
        assert_eq!(
            (none.data_content_type(), none.data_bytes()),
            (None, Ok(None))
        );
        assert!(with(None, Some("not base64!"), None).data_bytes().is_err());
        assert!(with(Some("a"), Some("YQ=="), None).data_bytes().is_err());
    }

    #[test]
    fn the_schedule_is_read_in_the_time_zone() {
        let mut s = source(None);
        assert_eq!(s.parsed_schedule().unwrap().offset(), time::UtcOffset::UTC);
        s.timezone = Some("-05:00".into());
        assert_eq!(
            s.parsed_schedule().unwrap().offset(),
            time::UtcOffset::from_hms(-5, 0, 0).unwrap()
        );
        s.timezone = Some("America/New_York".into());
        assert!(s.parsed_schedule().is_err());
    }
}
