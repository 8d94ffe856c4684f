//! Settings of a function server, read from the environment (CONTRACT.md §1 and §5).

use std::net::IpAddr;
use std::time::Duration;

/// What kind of function is served (CONTRACT.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Request in, response out; the function owns every path but `/_/`.
    Http,
    /// One CloudEvent in, an optional CloudEvent out, on `POST /`.
    #[value(name = "cloudevent")]
    CloudEvent,
}

impl std::str::FromStr for Kind {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "http" => Ok(Self::Http),
            "cloudevent" => Ok(Self::CloudEvent),
            _ => Err(ConfigError::new(
                "MOTIF_FUNCTION_KIND",
                s,
                "`http` or `cloudevent`",
            )),
        }
    }
}

/// A setting with a value that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{name}=`{value}` is not valid: expected {expected}")]
pub struct ConfigError {
    /// The environment variable.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// What it should have been.
    pub expected: &'static str,
}

impl ConfigError {
    fn new(name: &'static str, value: &str, expected: &'static str) -> Self {
        Self {
            name,
            value: value.to_owned(),
            expected,
        }
    }
}

/// Everything the server needs to know, resolved once at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `$PORT` (default 8080; 0 picks a free port).
    pub port: u16,
    /// `MOTIF_HOST`: the address to bind (default 0.0.0.0, as Knative needs).
    pub host: IpAddr,
    /// `MOTIF_FUNCTION_KIND` (default `http`).
    pub kind: Kind,
    /// `MOTIF_TIMEOUT` (seconds, default 60): the handler's deadline.
    pub timeout: Duration,
    /// `MOTIF_CONCURRENCY` (default 0 = unlimited): requests handled at once.
    pub concurrency: usize,
    /// `MOTIF_QUEUE` (default 10 × concurrency, as Knative's queue-proxy): requests that
    /// may wait for a slot before the server answers 429.
    pub queue: usize,
    /// `MOTIF_MAX_BODY` (bytes, default 6 MiB).
    pub max_body: usize,
    /// `MOTIF_DRAIN_SECONDS` (default 30): how long in-flight requests may run on SIGTERM.
    pub drain: Duration,
    /// The function's name: `MOTIF_FUNCTION_NAME`, else `K_SERVICE`, else `function`.
    pub name: String,
    /// `K_SERVICE`, `K_CONFIGURATION`, `K_REVISION`, when set (never required).
    pub knative: KnativeEnv,
}

/// The names Knative gives a revision's containers.
#[derive(Debug, Clone, Default)]
pub struct KnativeEnv {
    /// `K_SERVICE`.
    pub service: Option<String>,
    /// `K_CONFIGURATION`.
    pub configuration: Option<String>,
    /// `K_REVISION`.
    pub revision: Option<String>,
}

/// The contract's default timeout, in seconds.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 60;
/// The contract's default body limit: 6 MiB, as AWS Lambda's synchronous payload limit.
pub const DEFAULT_MAX_BODY: usize = 6 * 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 8080,
            host: IpAddr::from([0, 0, 0, 0]),
            kind: Kind::Http,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
            concurrency: 0,
            queue: 0,
            max_body: DEFAULT_MAX_BODY,
            drain: Duration::from_secs(30),
            name: "function".into(),
            knative: KnativeEnv::default(),
        }
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let parse = |name: &'static str, expected: &'static str| {
            let get = &get;
            move |default| -> Result<u64, ConfigError> {
                match get(name).filter(|v| !v.is_empty()) {
                    None => Ok(default),
                    Some(v) => v
                        .trim()
                        .parse()
                        .map_err(|_| ConfigError::new(name, &v, expected)),
                }
            }
        };
        let port = parse("PORT", "a port number 0-65535")(u64::from(d.port))?;
        let port = u16::try_from(port)
            .map_err(|_| ConfigError::new("PORT", &port.to_string(), "a port number 0-65535"))?;
        let host = match get("MOTIF_HOST").filter(|v| !v.is_empty()) {
            None => d.host,
            Some(v) => v
                .parse()
                .map_err(|_| ConfigError::new("MOTIF_HOST", &v, "an IP address"))?,
        };
        let kind = match get("MOTIF_FUNCTION_KIND").filter(|v| !v.is_empty()) {
            None => d.kind,
            Some(v) => v.parse()?,
        };
        let timeout =
            parse("MOTIF_TIMEOUT", "a whole number of seconds above 0")(DEFAULT_TIMEOUT_SECONDS)?;
        if timeout == 0 {
            return Err(ConfigError::new(
                "MOTIF_TIMEOUT",
                "0",
                "a whole number of seconds above 0",
            ));
        }
        let concurrency = parse("MOTIF_CONCURRENCY", "a whole number (0 = unlimited)")(0)? as usize;
        let queue = parse("MOTIF_QUEUE", "a whole number")(10 * concurrency as u64)? as usize;
        let max_body = parse("MOTIF_MAX_BODY", "a number of bytes")(d.max_body as u64)? as usize;
        let drain = parse("MOTIF_DRAIN_SECONDS", "a whole number of seconds")(30)?;
        let knative = KnativeEnv {
            service: get("K_SERVICE"),
            configuration: get("K_CONFIGURATION"),
            revision: get("K_REVISION"),
        };
        let name = get("MOTIF_FUNCTION_NAME")
            .or_else(|| knative.service.clone())
            .unwrap_or(d.name);
        Ok(Self {
            port,
            host,
            kind,
            timeout: Duration::from_secs(timeout),
            concurrency,
            queue,
            max_body,
            drain: Duration::from_secs(drain),
            name,
            knative,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = from(&[]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.timeout, Duration::from_secs(60));
        assert_eq!(c.concurrency, 0);
        assert_eq!(c.max_body, 6 * 1024 * 1024);
        assert_eq!(c.drain, Duration::from_secs(30));
        assert_eq!(c.kind, Kind::Http);
    }

    #[test]
    fn knative_names_are_read_but_not_required() {
        let c = from(&[("K_SERVICE", "hello"), ("K_REVISION", "hello-00001")]).unwrap();
        assert_eq!(c.name, "hello");
        assert_eq!(c.knative.revision.as_deref(), Some("hello-00001"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = from(&[("MOTIF_TIMEOUT", "soon")]).unwrap_err();
        assert_eq!(e.name, "MOTIF_TIMEOUT");
        assert!(from(&[("PORT", "70000")]).is_err());
        assert!(from(&[("MOTIF_FUNCTION_KIND", "grpc")]).is_err());
        assert!(from(&[("MOTIF_TIMEOUT", "0")]).is_err());
    }

    #[test]
    fn the_queue_defaults_to_ten_per_slot() {
        assert_eq!(from(&[("MOTIF_CONCURRENCY", "4")]).unwrap().queue, 40);
        assert_eq!(
            from(&[("MOTIF_CONCURRENCY", "4"), ("MOTIF_QUEUE", "0")])
                .unwrap()
                .queue,
            0
        );
    }
}
