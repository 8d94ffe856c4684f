//! Outbound HTTP: denied unless the function's manifest allows the destination.
//!
//! An allow-list entry is `scheme://host[:port]`, as Spin's `allowed_outbound_hosts`:
//! - `scheme` is `http`, `https` or `*`;
//! - `host` is a name or address (`api.example.com`, `127.0.0.1`, `[::1]`), `*` for any
//!   host, or `*.example.com` for any name below `example.com` (not `example.com`
//!   itself);
//! - `port` is a number or `*`; without one, the scheme's default port (80 or 443).
//!
//! The check runs on every request a guest sends through `wasi:http/outgoing-handler`,
//! before any connection is made; a denied request fails in the guest with
//! `error-code.HTTP-request-denied`. Redirects are not followed by the host, so a guest
//! cannot reach a host through one.

use std::fmt;
use std::sync::Arc;

use http::uri::Scheme;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The destinations a function may send HTTP requests to. Empty: none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// `None` is `*`.
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    /// `*.example.com`, kept as `.example.com`.
    Below(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    Any,
    Default,
    Exact(u16),
}

/// An allow-list entry that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid allowed outbound host `{entry}`: {reason}")]
pub struct AllowedHostError {
    entry: String,
    reason: &'static str,
}

impl AllowedHosts {
    /// Nothing allowed.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses entries such as `https://api.example.com` or `http://127.0.0.1:8080`.
    pub fn parse<I, S>(entries: I) -> Result<Self, AllowedHostError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let entries = entries
            .into_iter()
            .map(|e| Entry::parse(e.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a request to `uri` may be sent.
    pub fn allows(&self, uri: &http::Uri) -> bool {
        let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return false;
        };
        let scheme = scheme.to_ascii_lowercase();
        let host = host.to_ascii_lowercase();
        let port = uri.port_u16().or(match scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        });
        self.entries.iter().any(|e| e.allows(&scheme, &host, port))
    }
}

impl Entry {
    fn parse(text: &str) -> Result<Self, AllowedHostError> {
        let error = |reason| AllowedHostError {
            entry: text.to_owned(),
            reason,
        };
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| error("expected `scheme://host[:port]`"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "*" => None,
            s @ ("http" | "https") => Some(s.to_owned()),
            _ => return Err(error("the scheme must be `http`, `https` or `*`")),
        };
        if rest.contains(['/', '?', '#', '@']) {
            return Err(error("only a scheme, a host and a port: no path or user"));
        }
        let (host, port) = split_port(rest).ok_or_else(|| error("the port is not a number"))?;
        let host = host.to_ascii_lowercase();
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(below) = host.strip_prefix("*.") {
            if below.is_empty() || below.contains('*') {
                return Err(error("a wildcard host is `*` or `*.domain`"));
            }
            HostPattern::Below(format!(".{below}"))
        } else if host.is_empty() || host.contains('*') {
            return Err(error("a wildcard host is `*` or `*.domain`"));
        } else {
            HostPattern::Exact(host)
        };
        Ok(Self { scheme, host, port })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        if self.scheme.as_deref().is_some_and(|s| s != scheme) {
            return false;
        }
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Exact(h) => h == host,
            HostPattern::Below(suffix) => host.len() > suffix.len() && host.ends_with(&**suffix),
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Exact(p) => port == Some(p),
            PortPattern::Default => match scheme {
                "http" => port == Some(80),
                "https" => port == Some(443),
                _ => false,
            },
        };
        host_ok && port_ok
    }
}

/// Splits `host[:port]`, where `host` may be a bracketed IPv6 address. `None` when the
/// port is not a number or `*`.
fn split_port(authority: &str) -> Option<(&str, PortPattern)> {
    let colon = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => i,
        _ => return Some((authority, PortPattern::Default)),
    };
    let (host, port) = (&authority[..colon], &authority[colon + 1..]);
    let port = match port {
        "*" => PortPattern::Any,
        p => PortPattern::Exact(p.parse().ok()?),
    };
    Some((host, port))
}

impl fmt::Display for AllowedHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries.is_empty() {
            return f.write_str("(none)");
        }
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let scheme = e.scheme.as_deref().unwrap_or("*");
            let host = match &e.host {
                HostPattern::Any => "*".to_owned(),
                HostPattern::Exact(h) => h.clone(),
                HostPattern::Below(s) => format!("*{s}"),
            };
            write!(f, "{scheme}://{host}")?;
            match e.port {
                PortPattern::Any => f.write_str(":*")?,
                PortPattern::Exact(p) => write!(f, ":{p}")?,
                PortPattern::Default => {}
            }
        }
        Ok(())
    }
}

/// The `wasi:http` hooks of one Store: the allow-list is checked before a request is
/// sent; everything else is wasmtime's default behaviour.
pub(crate) struct OutboundHooks {
    pub(crate) allowed: Arc<AllowedHosts>,
    pub(crate) function: String,
}

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

impl WasiHttpHooks for OutboundHooks {
    fn is_supported_scheme(&mut self, scheme: &Scheme) -> bool {
        *scheme == Scheme::HTTP || *scheme == Scheme::HTTPS
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        if !self.allowed.allows(request.uri()) {
            tracing::warn!(
                function = %self.function,
                uri = %request.uri(),
                allowed = %self.allowed,
                "outbound request denied: the destination is not an allowed outbound host"
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        drop(fut);
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entries: &[&str], uri: &str) -> bool {
        AllowedHosts::parse(entries)
            .unwrap()
            .allows(&uri.parse().unwrap())
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        assert!(!AllowedHosts::none().allows(&"http://example.com/".parse().unwrap()));
    }

    #[test]
    fn exact_hosts_and_default_ports() {
        let list = ["https://api.example.com"];
        assert!(allows(&list, "https://api.example.com/v1"));
        assert!(allows(&list, "https://API.example.com:443/"));
        assert!(!allows(&list, "http://api.example.com/"));
        assert!(!allows(&list, "https://api.example.com:8443/"));
        assert!(!allows(&list, "https://evil.com/?api.example.com"));
        assert!(!allows(&list, "https://api.example.com.evil.com/"));
    }

    #[test]
    fn explicit_and_wildcard_ports() {
        assert!(allows(
            &["http://127.0.0.1:8080"],
            "http://127.0.0.1:8080/x"
        ));
        assert!(!allows(
            &["http://127.0.0.1:8080"],
            "http://127.0.0.1:8081/x"
        ));
        assert!(allows(&["http://127.0.0.1:*"], "http://127.0.0.1:1/"));
        assert!(allows(&["http://[::1]:9000"], "http://[::1]:9000/"));
    }

    #[test]
    fn wildcard_hosts_and_schemes() {
        let list = ["*://*.example.com:*"];
        assert!(allows(&list, "http://a.example.com:81/"));
        assert!(allows(&list, "https://a.b.example.com/"));
        assert!(!allows(&list, "https://example.com/"));
        assert!(!allows(&list, "https://badexample.com/"));
        assert!(allows(&["https://*"], "https://anything.test/"));
        assert!(!allows(&["https://*"], "http://anything.test/"));
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in [
            "example.com",
            "ftp://example.com",
            "http://example.com/path",
            "http://user@example.com",
            "http://example.com:port",
            "http://ex*ample.com",
            "http://*.",
            "http://",
        ] {
            let e = AllowedHosts::parse([bad]).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn display_round_trips() {
        let text = "https://api.example.com, http://127.0.0.1:8080, *://*.example.com:*";
        let list = AllowedHosts::parse(text.split(", ")).unwrap();
        assert_eq!(list.to_string(), text);
    }
}
