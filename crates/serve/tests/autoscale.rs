//! The autoscaler's behaviour over simulated time: one sample and one decision a
//! second, as `motif serve`'s loop runs it.

use std::time::{Duration, Instant};

use motif_api::{FunctionSpec, Scale};
use motif_serve::autoscale::{Autoscaler, Config, Decision};

/// A revision under simulated load: instances become ready as soon as they are wanted
/// unless `ready` is pinned.
struct Sim {
    scaler: Autoscaler,
    start: Instant,
    second: u64,
    ready: u32,
}

impl Sim {
    fn new(config: Config, ready: u32) -> Sim {
        Sim {
            scaler: Autoscaler::new(config),
            start: Instant::now(),
            second: 0,
            ready,
        }
    }

    fn now(&self) -> Instant {
        self.start + Duration::from_secs(self.second)
    }

    /// One second with `in_flight` requests; instances follow the decision.
    fn tick(&mut self, in_flight: u32) -> Decision {
        let decision = self.tick_pinned(in_flight);
        self.ready = decision.desired;
        decision
    }

    /// One second with `in_flight` requests; the ready instances stay as they are
    /// (still starting, say).
    fn tick_pinned(&mut self, in_flight: u32) -> Decision {
        let now = self.now();
        self.scaler.record(now, in_flight);
        let decision = self.scaler.desired(now, self.ready);
        self.second += 1;
        decision
    }

    fn run(&mut self, seconds: u64, in_flight: u32) -> Decision {
        let mut last = None;
        for _ in 0..seconds {
            last = Some(self.tick(in_flight));
        }
        last.expect("at least one second")
    }
}

fn config(min_scale: u32, max_scale: u32) -> Config {
    Config {
        min_scale,
        max_scale,
        ..Config::default()
    }
}

#[test]
fn steady_load_of_250_with_target_100_wants_3_instances() {
    let mut sim = Sim::new(Config::default(), 1);
    let decision = sim.run(180, 250);
    assert_eq!(decision.desired, 3);
    assert!(!decision.panicking);
    assert_eq!(decision.stable_concurrency, 250.0);
}

#[test]
fn min_scale_is_a_floor_and_max_scale_a_ceiling() {
    let mut floor = Sim::new(config(4, 0), 4);
    assert_eq!(floor.run(180, 50).desired, 4);

    let mut ceiling = Sim::new(config(0, 5), 1);
    for _ in 0..300 {
        assert!(ceiling.tick(10_000).desired <= 5);
    }
    assert_eq!(ceiling.ready, 5);
}

#[test]
fn max_scale_0_is_unbounded() {
    let mut sim = Sim::new(config(0, 0), 1);
    assert_eq!(sim.run(180, 100_000).desired, 1000);
}

#[test]
fn a_hard_concurrency_limit_without_target_aims_for_70_percent_of_it() {
    let spec = FunctionSpec {
        concurrency: Some(10),
        ..FunctionSpec::default()
    };
    let config = Config::from_spec(&spec);
    assert!((config.target - 7.0).abs() < 1e-9);

    // 22 in flight at 7 an instance want 4; at 10 they would want 3.
    let mut sim = Sim::new(config, 1);
    assert_eq!(sim.run(180, 22).desired, 4);
}

#[test]
fn an_explicit_target_is_kept_but_capped_at_the_hard_limit() {
    let with = |target, concurrency| {
        Config::from_spec(&FunctionSpec {
            concurrency,
            scale: Scale {
                target: Some(target),
                ..Scale::default()
            },
            ..FunctionSpec::default()
        })
        .target
    };
    // Knative aims for 70 % of any target.
    assert!((with(50, None) - 35.0).abs() < 1e-9);
    assert!((with(50, Some(0)) - 35.0).abs() < 1e-9);
    assert!((with(50, Some(80)) - 35.0).abs() < 1e-9);
    assert!((with(50, Some(20)) - 14.0).abs() < 1e-9);
}

#[test]
fn from_spec_takes_min_and_max_and_defaults_the_rest_to_knatives() {
    let spec = FunctionSpec {
        scale: Scale {
            min: Some(1),
            max: Some(10),
            target: None,
        },
        ..FunctionSpec::default()
    };
    let config = Config::from_spec(&spec);
    assert_eq!(
        config,
        Config {
            min_scale: 1,
            max_scale: 10,
            target: 70.0,
            ..Config::default()
        }
    );
    assert_eq!(config.stable_window, Duration::from_secs(60));
    assert_eq!(config.scale_to_zero_grace, Duration::from_secs(30));
}

#[test]
fn a_burst_panics_and_scales_up_at_once_then_holds_for_a_stable_window() {
    let mut sim = Sim::new(Config::default(), 1);
    assert_eq!(sim.run(60, 100).desired, 1);

    // Ten times the load: the first second of it already panics and grows.
    let first = sim.tick(1000);
    assert!(first.panicking);
    assert!(first.desired > 1, "{first:?}");
    let panic_began = sim.second - 1;
    let mut peak = first.desired;
    for _ in 1..6 {
        let decision = sim.tick(1000);
        assert!(decision.panicking);
        assert!(
            decision.desired >= peak,
            "no shrinking in panic: {decision:?}"
        );
        peak = decision.desired;
    }
    assert_eq!(peak, 10);

    // Back to the old load: held at the peak for a stable window after panic began.
    while sim.second <= panic_began + 60 {
        let decision = sim.tick(100);
        assert!(decision.panicking, "at {}: {decision:?}", sim.second - 1);
        assert_eq!(decision.desired, 10);
    }
    // Then down, at most halving a decision, and back to one.
    let decision = sim.tick(100);
    assert!(!decision.panicking);
    assert!(
        decision.desired < 10 && decision.desired >= 5,
        "{decision:?}"
    );
    assert_eq!(sim.run(120, 100).desired, 1);
}

#[test]
fn a_burst_while_instances_start_holds_until_a_stable_window_after_it() {
    // The burst is over before any new instance is ready: every second of it is over the
    // threshold, so panic lasts a stable window past its end.
    let mut sim = Sim::new(Config::default(), 1);
    sim.run(60, 100);
    for _ in 0..6 {
        let decision = sim.tick_pinned(1000);
        assert!(decision.panicking);
    }
    assert_eq!(sim.tick_pinned(1000).desired, 10);
    let burst_end = sim.second - 1;
    sim.ready = 10;
    while sim.second <= burst_end + 60 {
        let decision = sim.tick(100);
        assert_eq!(decision.desired, 10, "at {}: {decision:?}", sim.second - 1);
        assert!(decision.panicking);
    }
    sim.run(5, 100);
    assert!(sim.ready < 10);
}

#[test]
fn panic_needs_twice_the_ready_instances() {
    let six_seconds_of = |in_flight| {
        let mut sim = Sim::new(Config::default(), 2);
        sim.run(60, 200);
        (0..6).map(|_| sim.tick_pinned(in_flight)).last().unwrap()
    };
    // 300 in flight want 3 of 2 ready: 1.5 times, calm. 400 want 4: twice, panic.
    assert!(!six_seconds_of(300).panicking);
    let decision = six_seconds_of(400);
    assert!(decision.panicking);
    assert_eq!(decision.desired, 4);
}

#[test]
fn idle_scales_to_zero_only_after_the_stable_window_and_the_grace() {
    let mut sim = Sim::new(Config::default(), 1);
    sim.run(30, 5);
    let last_request = sim.second - 1;
    // 60 s of stable window and 30 s of grace after the last request: one instance.
    while sim.second < last_request + 90 {
        let decision = sim.tick(0);
        assert_eq!(decision.desired, 1, "at {}", sim.second - 1);
    }
    assert_eq!(sim.tick(0).desired, 0);
    assert_eq!(sim.run(600, 0).desired, 0);
}

#[test]
fn a_new_revision_is_idle_from_its_first_tick() {
    let mut sim = Sim::new(Config::default(), 1);
    for _ in 0..90 {
        assert_eq!(sim.tick(0).desired, 1);
    }
    assert_eq!(sim.tick(0).desired, 0);
}

#[test]
fn idle_never_scales_to_zero_with_min_scale() {
    let mut sim = Sim::new(config(1, 0), 3);
    sim.run(10, 50);
    assert_eq!(sim.run(3600, 0).desired, 1);
}

#[test]
fn a_request_at_zero_wants_one_instance_at_once() {
    let mut sim = Sim::new(Config::default(), 0);
    assert_eq!(sim.run(300, 0).desired, 0);
    let decision = sim.tick(1);
    assert_eq!(decision.desired, 1);
    assert!(!decision.panicking);
}

#[test]
fn a_crowd_at_zero_gets_what_it_needs_at_once() {
    let mut sim = Sim::new(Config::default(), 0);
    sim.run(300, 0);
    assert_eq!(sim.tick(450).desired, 5);
}

#[test]
fn scaling_down_at_most_halves_in_one_decision() {
    // Ten ready for a load one instance handles: 5 at once, not 1.
    let mut sim = Sim::new(Config::default(), 10);
    let first = sim.tick(50);
    assert_eq!(first.desired, 5);
    assert_eq!(sim.tick(50).desired, 2);
    assert_eq!(sim.tick(50).desired, 1);
}

#[test]
fn a_fading_load_steps_down_without_halving_more_than_once_a_decision() {
    let mut sim = Sim::new(Config::default(), 10);
    sim.run(120, 1000);
    assert_eq!(sim.ready, 10);
    let mut seen = vec![sim.ready];
    for _ in 0..200 {
        let decision = sim.tick(1);
        let previous = *seen.last().unwrap();
        assert!(
            decision.desired >= previous / 2,
            "{seen:?} then {decision:?}"
        );
        seen.push(decision.desired);
    }
    assert_eq!(*seen.last().unwrap(), 1);
}

#[test]
fn decisions_are_deterministic() {
    let load = |second: u64| ((second * 37) % 500) as u32;
    let run = || {
        let mut sim = Sim::new(Config::default(), 1);
        (0..600).map(|s| sim.tick(load(s))).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}
