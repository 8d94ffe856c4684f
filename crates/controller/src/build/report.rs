//! A build's report: the JSON object the builder writes as its `build` container's
//! termination message, read from the Job's pods.
//!
//! `{"image": "HOST/REPO@sha256:...", "commit": "..."}` is a build; anything else is a
//! failure that says why: the builder's `error`, or, when the builder died before it
//! reported, the tail of its log (`FallbackToLogsOnError` puts it there).

use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client};
use serde::Deserialize;

use super::{BUILD_CONTAINER, JOB_NAME_LABEL};
use crate::reconcile::ReconcileError;

/// The most of a builder's output kept as a failure's message: a status is for people,
/// and `FallbackToLogsOnError` leaves up to 2 KiB of the log's tail.
const MAX_MESSAGE: usize = 1024;

/// The termination message of the `build` container of the Job's pods: the one that
/// exited 0 when the Job succeeded, else one that failed, else any.
pub(super) async fn read(
    client: &Client,
    namespace: &str,
    job: &str,
    succeeded: bool,
) -> Result<Option<String>, ReconcileError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let listed = pods
        .list(&ListParams::default().labels(&format!("{JOB_NAME_LABEL}={job}")))
        .await
        .map_err(|source| ReconcileError::Kube {
            what: format!("list the pods of Job {namespace}/{job}"),
            source,
        })?;
    let terminated: Vec<(i32, String)> = listed
        .iter()
        .filter_map(|pod| {
            let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
            let build = statuses.iter().find(|s| s.name == BUILD_CONTAINER)?;
            let terminated = build.state.as_ref()?.terminated.as_ref()?;
            Some((terminated.exit_code, terminated.message.clone()?))
        })
        .collect();
    let wanted = terminated
        .iter()
        .find(|(code, _)| (*code == 0) == succeeded)
        .or(terminated.first());
    Ok(wanted.map(|(_, message)| message.clone()))
}

/// What a builder reported.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Report {
    /// It pushed `image`, by digest, built from `commit`.
    Built {
        image: String,
        commit: Option<String>,
    },
    /// It failed, or reported nothing usable: why.
    Failed(String),
}

/// The report as the builder writes it.
#[derive(Deserialize)]
struct Wire {
    image: Option<String>,
    commit: Option<String>,
    error: Option<String>,
}

/// Reads a termination message. Text that is not the builder's JSON is the tail of its
/// log (`FallbackToLogsOnError`), kept as the failure's message.
pub(super) fn parse(message: &str) -> Report {
    let Ok(wire) = serde_json::from_str::<Wire>(message.trim()) else {
        return Report::Failed(tail(message.trim()));
    };
    match (wire.error, wire.image) {
        (Some(error), _) => Report::Failed(error),
        (None, Some(image)) if by_digest(&image) => Report::Built {
            image,
            commit: wire.commit,
        },
        (None, Some(image)) => Report::Failed(format!(
            "the builder reported the image `{image}`, which is not by digest \
             (HOST/REPO@sha256:...)"
        )),
        (None, None) => Report::Failed(format!(
            "the builder's report has neither `image` nor `error`: {}",
            tail(message.trim())
        )),
    }
}

/// Whether `image` is `NAME@sha256:` and 64 lower-case hex digits.
fn by_digest(image: &str) -> bool {
    image.rsplit_once("@sha256:").is_some_and(|(name, hex)| {
        !name.is_empty()
            && hex.len() == 64
            && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// The last [`MAX_MESSAGE`] characters of `text` (a log's tail says the most).
fn tail(text: &str) -> String {
    let count = text.chars().count();
    if count <= MAX_MESSAGE {
        return text.to_owned();
    }
    let kept: String = text.chars().skip(count - MAX_MESSAGE).collect();
    format!("...{kept}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "registry.test/fns/square@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_report_with_an_image_by_digest_is_a_build() {
        let report = format!(r#"{{"image":"{DIGEST}","commit":"c0ffee"}}"#);
        assert_eq!(
            parse(&report),
            Report::Built {
                image: DIGEST.into(),
                commit: Some("c0ffee".into())
            }
        );
    }

    #[test]
    fn anything_else_is_a_failure_that_says_why() {
        let cases = [
            (r#"{"error":"npm install failed"}"#, "npm install failed"),
            (
                r#"{"image":"registry.test/fns/square:latest"}"#,
                "not by digest",
            ),
            (r#"{"image":"x@sha256:abc"}"#, "not by digest"),
            (r#"{"commit":"c0ffee"}"#, "neither `image` nor `error`"),
            ("error: cannot clone\n", "error: cannot clone"),
        ];
        for (text, expected) in cases {
            let Report::Failed(why) = parse(text) else {
                panic!("{text} is a build")
            };
            assert!(why.contains(expected), "{text}: {why}");
        }
        let Report::Failed(why) = parse(&format!("{}end", "x".repeat(5000))) else {
            panic!()
        };
        assert_eq!(why.chars().count(), MAX_MESSAGE + 3);
        assert!(why.ends_with("end"));
    }
}
