//! A Function's status from its children's: pure, so every rule has a unit test.
//!
//! `ServiceReady` mirrors the Knative Service's `Ready`; `TriggersReady` rolls up the
//! Triggers' (true when there are none); `Ready` is false when either is false, unknown
//! when either is unknown, true otherwise, with the reason and message of the child that
//! decided it.

use motif_api::knative::{self, KnativeService, Trigger};
use motif_api::{Condition, Function, FunctionStatus};

/// The condition types the controller writes.
pub const READY: &str = "Ready";
/// Mirrors the Knative Service's `Ready`.
pub const SERVICE_READY: &str = "ServiceReady";
/// Rolls up the Triggers' `Ready`.
pub const TRIGGERS_READY: &str = "TriggersReady";

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

/// `Ready` from the other two: false wins, then unknown.
fn rolled_up(service: &Condition, triggers: &Condition) -> Condition {
    let decider = [service, triggers]
        .into_iter()
        .find(|c| c.is_false())
        .or_else(|| [service, triggers].into_iter().find(|c| !c.is_true()));
    match decider {
        Some(c) => condition(READY, &c.status, c.reason.as_deref(), c.message.clone()),
        None => condition(READY, "True", None, None),
    }
}

/// A status that says the Function could not be compiled or applied: `Ready` and the
/// failing aspect are false with `reason` and `message`.
pub fn failed(
    function: &Function,
    type_: &str,
    reason: &str,
    message: String,
    now: &str,
) -> FunctionStatus {
    let previous = function.status.clone().unwrap_or_default();
    let mut status = FunctionStatus {
        observed_generation: function.metadata.generation,
        url: previous.url.clone(),
        latest_ready_revision: previous.latest_ready_revision.clone(),
        conditions: vec![
            condition(READY, "False", Some(reason), Some(message.clone())),
            condition(type_, "False", Some(reason), Some(message)),
        ],
    };
    with_times(&mut status, &previous, now);
    status
}

/// The status of a Function whose children were applied: `service` and `triggers` as the
/// API server returned them. `triggers_unavailable` is a reason and message when the
/// Function subscribes to events but Knative Eventing is not installed.
pub fn observed(
    function: &Function,
    service: &KnativeService,
    triggers: &[Trigger],
    triggers_unavailable: Option<(&str, String)>,
    now: &str,
) -> FunctionStatus {
    let previous = function.status.clone().unwrap_or_default();
    let service_status = service.status.clone().unwrap_or_default();
    let service_cond = service_ready(service);
    let triggers_cond = match triggers_unavailable {
        Some((reason, message)) => condition(TRIGGERS_READY, "False", Some(reason), Some(message)),
        None => triggers_ready(triggers),
    };
    let ready = rolled_up(&service_cond, &triggers_cond);
    let mut status = FunctionStatus {
        observed_generation: function.metadata.generation,
        url: service_status.url,
        latest_ready_revision: service_status.latest_ready_revision_name,
        conditions: vec![ready, service_cond, triggers_cond],
    };
    with_times(&mut status, &previous, now);
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
        let s = observed(&function(), &service(failing, 1, 1), &triggers, None, NOW);
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
            &service(ready("True", None, None), 2, 1),
            &[],
            None,
            NOW,
        );
        assert_eq!(get(&s, READY).status, "Unknown");
        let mut bare = KnativeService::new("fn", Default::default());
        bare.status = None;
        let s = observed(&function(), &bare, &[], None, NOW);
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
        let first = observed(&f, &svc, &[], None, NOW);
        f.status = Some(first.clone());
        assert_eq!(observed(&f, &svc, &[], None, LATER), first);
        let now_ready = service(ready("True", None, None), 1, 1);
        let second = observed(&f, &now_ready, &[], None, LATER);
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
            &service(ready("True", None, None), 1, 1),
            &[],
            None,
            NOW,
        ));
        let s = failed(&f, SERVICE_READY, "ApplyFailed", "rejected".into(), LATER);
        assert_eq!(get(&s, READY).status, "False");
        assert_eq!(get(&s, SERVICE_READY).message.as_deref(), Some("rejected"));
        assert!(s.url.is_some());
    }
}
