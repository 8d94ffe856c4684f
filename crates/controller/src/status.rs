//! A Function's status from its children's: pure, so every rule has a unit test.
//!
//! `BuildSucceeded` (only for a Function the cluster builds from its `source`) says how
//! its latest build went; `ServiceReady` mirrors the Knative Service's `Ready`;
//! `TriggersReady` rolls up the Triggers' (true when there are none). `Ready` is false
//! when any of them is false, unknown when any is unknown, true otherwise, with the
//! reason and message of the condition that decided it (the build's first).
//!
//! Every status carries `latestImage` and `build`: a failure, or a build in progress,
//! keeps the image the Function is served from.

use motif_api::knative::{self, KnativeService, Trigger};
use motif_api::{BuildStatus, Condition, Function, FunctionStatus};

/// The condition types the controller writes.
pub const READY: &str = "Ready";
/// How the cluster build of the Function's current source went.
pub const BUILD_SUCCEEDED: &str = "BuildSucceeded";
/// Mirrors the Knative Service's `Ready`.
pub const SERVICE_READY: &str = "ServiceReady";
/// Rolls up the Triggers' `Ready`.
pub const TRIGGERS_READY: &str = "TriggersReady";

/// The cluster build of a Function, as the controller found it: how the current build
/// goes, and the image to serve meanwhile (the latest successful build's, if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildState {
    /// `BuildSucceeded`.
    pub condition: Condition,
    /// The image to serve, by digest: `status.latestImage`.
    pub latest_image: Option<String>,
    /// The build `latest_image` came from: `status.build`.
    pub build: Option<BuildStatus>,
}

impl BuildState {
    /// The current build is done: `image` is served.
    pub fn built(image: String, build: BuildStatus) -> BuildState {
        BuildState {
            condition: condition(BUILD_SUCCEEDED, "True", None, None),
            latest_image: Some(image),
            build: Some(build),
        }
    }

    /// The current build runs (`status` `Unknown`) or failed (`False`): the Function
    /// keeps the image of its previous successful build, if any.
    pub fn pending(function: &Function, status: &str, reason: &str, message: String) -> BuildState {
        let previous = function.status.clone().unwrap_or_default();
        BuildState {
            condition: condition(BUILD_SUCCEEDED, status, Some(reason), Some(message)),
            latest_image: previous.latest_image,
            build: previous.build,
        }
    }
}

/// A condition without its transition time (added by [`with_times`]).
fn condition(
    type_: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<String>,
) -> Condition {
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.map(Into::into),
        message,
        last_transition_time: None,
    }
}

/// What a child's `Ready` says, as a condition of `type_`.
fn mirror(type_: &str, ready: Option<&Condition>, waiting: String) -> Condition {
    match ready {
        Some(c) if c.is_true() => condition(type_, "True", None, None),
        Some(c) if c.is_false() => condition(
            type_,
            "False",
            Some(c.reason.as_deref().unwrap_or("NotReady")),
            c.message.clone(),
        ),
        Some(c) => condition(
            type_,
            "Unknown",
            Some(c.reason.as_deref().unwrap_or("Deploying")),
            Some(c.message.clone().unwrap_or(waiting)),
        ),
        None => condition(type_, "Unknown", Some("Deploying"), Some(waiting)),
    }
}

/// The Service's readiness. A status older than the Service's spec counts as unknown.
pub fn service_ready(service: &KnativeService) -> Condition {
    let name = service.metadata.name.as_deref().unwrap_or_default();
    let waiting = format!("waiting for Knative Serving to make Service `{name}` ready");
    let Some(status) = &service.status else {
        return mirror(SERVICE_READY, None, waiting);
    };
    let stale = matches!(
        (status.observed_generation, service.metadata.generation),
        (Some(seen), Some(current)) if seen < current
    );
    if stale {
        return mirror(SERVICE_READY, None, waiting);
    }
    mirror(SERVICE_READY, knative::ready(&status.conditions), waiting)
}

/// The Triggers' readiness: the first false one decides, then the first unknown one.
pub fn triggers_ready(triggers: &[Trigger]) -> Condition {
    let each: Vec<Condition> = triggers
        .iter()
        .map(|trigger| {
            let name = trigger.metadata.name.as_deref().unwrap_or_default();
            let waiting = format!("waiting for Knative Eventing to make Trigger `{name}` ready");
            let ready = trigger
                .status
                .as_ref()
                .and_then(|s| knative::ready(&s.conditions));
            let mut c = mirror(TRIGGERS_READY, ready, waiting);
            if !c.is_true() {
                c.message = c.message.map(|m| format!("Trigger `{name}`: {m}"));
            }
            c
        })
        .collect();
    each.iter()
        .find(|c| c.is_false())
        .or_else(|| each.iter().find(|c| !c.is_true()))
        .cloned()
        .unwrap_or_else(|| condition(TRIGGERS_READY, "True", None, None))
}

/// `Ready` from the others: false wins, then unknown, in their order.
fn rolled_up(conditions: &[&Condition]) -> Condition {
    let decider = conditions
        .iter()
        .find(|c| c.is_false())
        .or_else(|| conditions.iter().find(|c| !c.is_true()));
    match decider {
        Some(c) => condition(READY, &c.status, c.reason.as_deref(), c.message.clone()),
        None => condition(READY, "True", None, None),
    }
}

/// A status with `ready`, then `build`'s condition, then `conditions`; the image and
/// build of `build` (else the previous ones) and the previous URL and revision; its
/// transition times set against the previous status.
fn status(
    function: &Function,
    build: Option<&BuildState>,
    ready: Condition,
    conditions: Vec<Condition>,
    now: &str,
) -> FunctionStatus {
    let previous = function.status.clone().unwrap_or_default();
    let (latest_image, build_status) = match build {
        Some(b) => (b.latest_image.clone(), b.build.clone()),
        None => (previous.latest_image.clone(), previous.build.clone()),
    };
    let mut all = vec![ready];
    all.extend(build.map(|b| b.condition.clone()));
    all.extend(conditions);
    let mut status = FunctionStatus {
        observed_generation: function.metadata.generation,
        url: previous.url.clone(),
        latest_ready_revision: previous.latest_ready_revision.clone(),
        latest_image,
        build: build_status,
        conditions: all,
    };
    with_times(&mut status, &previous, now);
    status
}

/// A status that says the Function could not be compiled or applied: `Ready` and the
/// failing aspect are false with `reason` and `message`. `build` is the cluster build of
/// a Function built from its source.
pub fn failed(
    function: &Function,
    build: Option<&BuildState>,
    type_: &str,
    reason: &str,
    message: String,
    now: &str,
) -> FunctionStatus {
    status(
        function,
        build,
        condition(READY, "False", Some(reason), Some(message.clone())),
        vec![condition(type_, "False", Some(reason), Some(message))],
        now,
    )
}

/// The status of a Function built by the cluster that has no image to serve yet (its
/// first build runs, or failed): `Ready` is `BuildSucceeded`.
pub fn unbuilt(function: &Function, build: &BuildState, now: &str) -> FunctionStatus {
    status(
        function,
        Some(build),
        rolled_up(&[&build.condition]),
        Vec::new(),
        now,
    )
}

/// The status of a Function whose children were applied: `service` and `triggers` as the
/// API server returned them. `triggers_unavailable` is a reason and message when the
/// Function subscribes to events but Knative Eventing is not installed.
pub fn observed(
    function: &Function,
    build: Option<&BuildState>,
    service: &KnativeService,
    triggers: &[Trigger],
    triggers_unavailable: Option<(&str, String)>,
    now: &str,
) -> FunctionStatus {
    let service_status = service.status.clone().unwrap_or_default();
    let service_cond = service_ready(service);
    let triggers_cond = match triggers_unavailable {
        Some((reason, message)) => condition(TRIGGERS_READY, "False", Some(reason), Some(message)),
        None => triggers_ready(triggers),
    };
    let mut deciding: Vec<&Condition> = build.map(|b| &b.condition).into_iter().collect();
    deciding.extend([&service_cond, &triggers_cond]);
    let ready = rolled_up(&deciding);
    let mut status = status(
        function,
        build,
        ready,
        vec![service_cond, triggers_cond],
        now,
    );
    status.url = service_status.url;
    status.latest_ready_revision = service_status.latest_ready_revision_name;
    status
}

/// Sets each condition's transition time: the previous one when its status did not
/// change, else `now`. An unchanged Function thus gets an equal status, and no write.
fn with_times(status: &mut FunctionStatus, previous: &FunctionStatus, now: &str) {
    for c in &mut status.conditions {
        c.last_transition_time = match previous.condition(&c.type_) {
            Some(before) if before.status == c.status => before.last_transition_time.clone(),
            _ => Some(now.to_owned()),
        };
    }
}

#[cfg(test)]
mod tests {
    use motif_api::knative::{ServiceStatus, TriggerStatus};

    use super::*;

    const NOW: &str = "2026-11-22T10:00:00Z";
    const LATER: &str = "2026-11-22T11:00:00Z";

    fn ready(status: &str, reason: Option<&str>, message: Option<&str>) -> Vec<Condition> {
        vec![Condition {
            type_: "Ready".into(),
            status: status.into(),
            reason: reason.map(Into::into),
            message: message.map(Into::into),
            last_transition_time: None,
        }]
    }

    fn service(conditions: Vec<Condition>, generation: i64, observed: i64) -> KnativeService {
        let mut s = KnativeService::new("fn", Default::default());
        s.metadata.generation = Some(generation);
        s.status = Some(ServiceStatus {
            observed_generation: Some(observed),
            url: Some("http://fn.default.example.com".into()),
            latest_ready_revision_name: Some("fn-00001".into()),
            conditions,
            ..ServiceStatus::default()
        });
        s
    }

    fn trigger(name: &str, conditions: Vec<Condition>) -> Trigger {
        let mut t = Trigger::new(name, Default::default());
        t.status = Some(TriggerStatus {
            conditions,
            ..TriggerStatus::default()
        });
        t
    }

    fn function() -> Function {
        let mut f = Function::new("fn", Default::default());
        f.metadata.generation = Some(3);
        f
    }

    fn get<'a>(status: &'a FunctionStatus, type_: &str) -> &'a Condition {
        status.condition(type_).unwrap()
    }

    #[test]
    fn a_ready_service_without_triggers_is_ready() {
        let s = observed(
            &function(),
            None,
            &service(ready("True", None, None), 1, 1),
            &[],
            None,
            NOW,
        );
        assert_eq!(get(&s, READY).status, "True");
        assert_eq!(s.observed_generation, Some(3));
        assert_eq!(s.url.as_deref(), Some("http://fn.default.example.com"));
        assert_eq!(s.latest_ready_revision.as_deref(), Some("fn-00001"));
    }

    #[test]
    fn a_failing_service_decides_with_its_reason_and_message() {
        let failing = ready("False", Some("RevisionFailed"), Some("image pull backoff"));
        let triggers = [trigger("fn-default-1", ready("Unknown", None, None))];
        let s = observed(
            &function(),
            None,
            &service(failing, 1, 1),
            &triggers,
            None,
            NOW,
        );
        let r = get(&s, READY);
        assert_eq!(
            (r.status.as_str(), r.reason.as_deref(), r.message.as_deref()),
            ("False", Some("RevisionFailed"), Some("image pull backoff"))
        );
        assert_eq!(get(&s, TRIGGERS_READY).status, "Unknown");
    }

    #[test]
    fn a_stale_or_missing_service_status_is_unknown() {
        let s = observed(
            &function(),
            None,
            &service(ready("True", None, None), 2, 1),
            &[],
            None,
            NOW,
        );
        assert_eq!(get(&s, READY).status, "Unknown");
        let mut bare = KnativeService::new("fn", Default::default());
        bare.status = None;
        let s = observed(&function(), None, &bare, &[], None, NOW);
        let r = get(&s, READY);
        assert_eq!(
            (r.status.as_str(), r.reason.as_deref()),
            ("Unknown", Some("Deploying"))
        );
        assert!(r.message.as_deref().unwrap().contains("Knative Serving"));
    }

    #[test]
    fn a_failing_trigger_is_named() {
        let triggers = [
            trigger("fn-a", ready("True", None, None)),
            trigger(
                "fn-b",
                ready("False", Some("BrokerDoesNotExist"), Some("broker missing")),
            ),
        ];
        let s = observed(
            &function(),
            None,
            &service(ready("True", None, None), 1, 1),
            &triggers,
            None,
            NOW,
        );
        let r = get(&s, READY);
        assert_eq!(r.reason.as_deref(), Some("BrokerDoesNotExist"));
        assert_eq!(r.message.as_deref(), Some("Trigger `fn-b`: broker missing"));
    }

    #[test]
    fn missing_eventing_fails_the_triggers() {
        let why = Some(("EventingNotInstalled", "no Triggers".to_owned()));
        let s = observed(
            &function(),
            None,
            &service(ready("True", None, None), 1, 1),
            &[],
            why,
            NOW,
        );
        assert_eq!(
            get(&s, READY).reason.as_deref(),
            Some("EventingNotInstalled")
        );
    }

    #[test]
    fn transition_times_change_only_with_the_status() {
        let svc = service(ready("Unknown", None, None), 1, 1);
        let mut f = function();
        let first = observed(&f, None, &svc, &[], None, NOW);
        f.status = Some(first.clone());
        assert_eq!(observed(&f, None, &svc, &[], None, LATER), first);
        let now_ready = service(ready("True", None, None), 1, 1);
        let second = observed(&f, None, &now_ready, &[], None, LATER);
        assert_eq!(
            get(&second, READY).last_transition_time.as_deref(),
            Some(LATER)
        );
        assert_eq!(
            get(&second, TRIGGERS_READY).last_transition_time.as_deref(),
            Some(NOW)
        );
    }

    #[test]
    fn a_failure_keeps_the_last_url() {
        let mut f = function();
        f.status = Some(observed(
            &f,
            None,
            &service(ready("True", None, None), 1, 1),
            &[],
            None,
            NOW,
        ));
        let s = failed(
            &f,
            None,
            SERVICE_READY,
            "ApplyFailed",
            "rejected".into(),
            LATER,
        );
        assert_eq!(get(&s, READY).status, "False");
        assert_eq!(get(&s, SERVICE_READY).message.as_deref(), Some("rejected"));
        assert!(s.url.is_some());
    }

    const OLD: &str = "127.0.0.1:5000/fns/fn@sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const NEW: &str = "127.0.0.1:5000/fns/fn@sha256:2222222222222222222222222222222222222222222222222222222222222222";

    /// A Function built by the cluster once, served from `OLD`.
    fn built_function() -> Function {
        let mut f = function();
        f.status = Some(FunctionStatus {
            latest_image: Some(OLD.into()),
            build: Some(BuildStatus {
                job: "fn-build-0123456789".into(),
                key: "0123456789abcdef".into(),
                commit: Some("c0ffee".into()),
            }),
            ..FunctionStatus::default()
        });
        f
    }

    #[test]
    fn a_build_in_progress_decides_ready_while_the_previous_image_serves() {
        let f = built_function();
        let build = BuildState::pending(&f, "Unknown", "Building", "in Job `j`".into());
        let svc = service(ready("True", None, None), 1, 1);
        let s = observed(&f, Some(&build), &svc, &[], None, NOW);
        let r = get(&s, READY);
        assert_eq!(
            (r.status.as_str(), r.reason.as_deref(), r.message.as_deref()),
            ("Unknown", Some("Building"), Some("in Job `j`"))
        );
        assert_eq!(get(&s, BUILD_SUCCEEDED).status, "Unknown");
        assert_eq!(get(&s, SERVICE_READY).status, "True");
        assert_eq!(s.latest_image.as_deref(), Some(OLD));
        assert_eq!(s.build, f.status.unwrap().build);
    }

    #[test]
    fn a_failed_build_fails_ready_and_keeps_the_previous_image() {
        let f = built_function();
        let build = BuildState::pending(&f, "False", "BuildFailed", "npm failed".into());
        let svc = service(ready("True", None, None), 1, 1);
        let s = observed(&f, Some(&build), &svc, &[], None, NOW);
        let r = get(&s, READY);
        assert_eq!(
            (r.status.as_str(), r.reason.as_deref(), r.message.as_deref()),
            ("False", Some("BuildFailed"), Some("npm failed"))
        );
        assert_eq!(s.latest_image.as_deref(), Some(OLD));
    }

    #[test]
    fn a_failing_service_wins_over_a_build_in_progress() {
        let f = built_function();
        let build = BuildState::pending(&f, "Unknown", "Building", "in Job `j`".into());
        let failing = ready("False", Some("RevisionFailed"), Some("image pull backoff"));
        let s = observed(&f, Some(&build), &service(failing, 1, 1), &[], None, NOW);
        assert_eq!(get(&s, READY).reason.as_deref(), Some("RevisionFailed"));
    }

    #[test]
    fn a_finished_build_is_recorded_and_the_service_decides() {
        let f = built_function();
        let record = BuildStatus {
            job: "fn-build-fedcba9876".into(),
            key: "fedcba9876543210".into(),
            commit: Some("beef".into()),
        };
        let build = BuildState::built(NEW.into(), record.clone());
        let svc = service(ready("Unknown", None, None), 1, 1);
        let s = observed(&f, Some(&build), &svc, &[], None, NOW);
        assert_eq!(get(&s, BUILD_SUCCEEDED).status, "True");
        assert_eq!(get(&s, READY).status, "Unknown");
        assert_eq!(get(&s, READY).reason.as_deref(), Some("Deploying"));
        assert_eq!(s.latest_image.as_deref(), Some(NEW));
        assert_eq!(s.build, Some(record));
        let ready_svc = service(ready("True", None, None), 1, 1);
        let s = observed(&f, Some(&build), &ready_svc, &[], None, NOW);
        assert_eq!(get(&s, READY).status, "True");
    }

    #[test]
    fn a_function_without_an_image_yet_is_ready_as_its_build() {
        let f = function();
        let build = BuildState::pending(&f, "Unknown", "Building", "in Job `j`".into());
        let s = unbuilt(&f, &build, NOW);
        let types: Vec<_> = s.conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, [READY, BUILD_SUCCEEDED]);
        assert_eq!(get(&s, READY).reason.as_deref(), Some("Building"));
        assert_eq!(s.latest_image, None);
        let build = BuildState::pending(&f, "False", "NoBuildImage", "set build.image".into());
        let s = unbuilt(&f, &build, NOW);
        assert_eq!(
            (
                get(&s, READY).status.as_str(),
                get(&s, READY).reason.as_deref()
            ),
            ("False", Some("NoBuildImage"))
        );
    }

    #[test]
    fn a_failure_keeps_the_latest_image_and_build() {
        let f = built_function();
        let s = failed(&f, None, SERVICE_READY, "InvalidSpec", "bad".into(), NOW);
        assert_eq!(s.latest_image.as_deref(), Some(OLD));
        assert_eq!(s.build, f.status.as_ref().unwrap().build);
        let build = BuildState::pending(&f, "Unknown", "Building", "in Job `j`".into());
        let s = failed(
            &f,
            Some(&build),
            SERVICE_READY,
            "ServiceApplyFailed",
            "no".into(),
            NOW,
        );
        assert_eq!(get(&s, READY).reason.as_deref(), Some("ServiceApplyFailed"));
        assert_eq!(get(&s, BUILD_SUCCEEDED).reason.as_deref(), Some("Building"));
        assert_eq!(s.latest_image.as_deref(), Some(OLD));
    }
}
