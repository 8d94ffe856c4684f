//! The function contract's wire types: CloudEvents 1.0.2, its HTTP binding in binary,
//! structured and batched modes, `Accept` negotiation, and RFC 9457 problem details.
//!
//! Everything a motif invoker decodes from a request or encodes into a reply goes
//! through this crate, so every language and packaging shares one reading of the specs.
//! It is not a server (that is `motif-runtime`) and holds no I/O.
//!
//! ```
//! use motif_contract::http::{self, Message, Mode};
//! use motif_contract::Event;
//!
//! let event = Event::builder("42", "/orders", "com.example.order.placed")
//!     .data("application/json", r#"{"total":12}"#)
//!     .build()?;
//! let (headers, body) = http::encode(&event, Mode::Binary);
//! assert_eq!(headers["ce-id"], "42");
//! assert_eq!(http::decode(&headers, body)?, Message::Event(event, Mode::Binary));
//! # Ok::<_, motif_contract::Error>(())
//! ```
//!
//! # Why not the `cloudevents-sdk` crate
//!
//! The CNCF Rust SDK (0.9) was evaluated against the conformance data and the MUST rules
//! of CloudEvents 1.0.2 before this crate was written; see `EVALUATION.md` beside this
//! crate's manifest for each check and its result. In short, its `Event` cannot hold
//! the rules this contract must enforce, so motif keeps its own:
//! - its HTTP binding has no batched mode;
//! - its header decoding is not the binding's strict one (quoted-strings, exactly one
//!   round of percent-decoding, invalid UTF-8 rejected);
//! - its typed attributes normalise what they hold (`time` to UTC; integers as i64).
//!
//! # Data
//!
//! An [`Event`] keeps its data as bytes plus `datacontenttype`, as the binary mode carries
//! it; the JSON format chooses `data` or `data_base64` from the content type (see
//! [`json`]). A binary-mode echo thus never parses its body.

#![deny(missing_docs)]

mod error;
mod event;
pub mod http;
pub mod json;
pub mod media;
mod problem;
mod validate;

pub use error::Error;
pub use event::{Event, EventBuilder, ExtensionValue, SPEC_VERSION};
pub use problem::Problem;
