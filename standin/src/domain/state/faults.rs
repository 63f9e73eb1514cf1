//! Faults a domain injects, as AWS and a busy domain produce them: the gateway timing out
//! after the domain acted or before it did, throttles, dropped connections, latency, answers held
//! back after the work is done, and snapshots that never finish. Set per test in a [`FaultPlan`], changed at run time through
//! [`FaultControl`]; every random choice comes from the seeded generator.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::Method;
use tokio::sync::watch;

/// One kind of injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The AWS gateway answers 504 with its HTML page after the domain has acted on the
    /// request: the answer is lost on its way back (a snapshot create answered this way has
    /// really started, and a lookup finds it).
    GatewayTimeout,
    /// The AWS gateway answers 504 before the domain has acted: the request waits in the
    /// cluster manager's queue of cluster-state updates (what `_cluster/pending_tasks` lists;
    /// a create, a restore and a delete are such updates, a read of the state is not). The
    /// domain carries it out once it has answered its next request, so a lookup sent right
    /// after the 504 does not find it yet, and anything after that lookup does.
    GatewayTimeoutQueued,
    /// 429 Too Many Requests; the request is not processed.
    TooManyRequests,
    /// 403 "Request throttled due to too many requests"; not processed.
    Throttled,
    /// The connection is closed without an answer; not processed.
    DropConnection,
    /// The connection is closed without an answer after the domain has acted on the request
    /// (a node or a load balancer dropping it on the way back): the work is done, the caller
    /// sees only a reset.
    DropAfterActing,
    /// The domain does the work at once but holds its answer back this long (a busy cluster
    /// manager); a caller that stops waiting first loses the answer, not the work.
    SlowAnswer(Duration),
    /// The request reaches the engine only this long after it was sent (a busy coordinating
    /// node, a slow hop), then is acted on and answered as usual: what it reads is the state
    /// at its arrival, which may be newer than what the caller's previous request read.
    LateArrival(Duration),
}

/// Which requests a fault hits, and how often.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// `None` matches every method.
    pub method: Option<Method>,
    /// Matched against the request path as sent (`/_snapshot/repo`); `/` matches all.
    pub path_prefix: String,
    pub fault: Fault,
    /// How many matching requests get the fault; `None` means all of them.
    pub times: Option<u32>,
    /// The chance that a matching request gets the fault (1.0: always).
    pub probability: f64,
}

impl FaultRule {
    /// The next matching request (any method, any path) gets `fault`, once.
    pub fn new(fault: Fault) -> Self {
        Self {
            method: None,
            path_prefix: "/".into(),
            fault,
            times: Some(1),
            probability: 1.0,
        }
    }

    /// Only requests with this method and a path starting with `path_prefix`.
    #[must_use]
    pub fn on(mut self, method: Method, path_prefix: impl Into<String>) -> Self {
        self.method = Some(method);
        self.path_prefix = path_prefix.into();
        self
    }

    /// The next `n` matching requests.
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Every matching request, until the rule is cleared.
    #[must_use]
    pub fn always(mut self) -> Self {
        self.times = None;
        self
    }

    /// Each matching request gets the fault with this chance, drawn from the domain's seed.
    #[must_use]
    pub fn with_probability(mut self, probability: f64) -> Self {
        self.probability = probability;
        self
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && path.starts_with(&self.path_prefix)
    }
}

/// The faults a domain starts with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    pub rules: Vec<FaultRule>,
    /// Added before every answer.
    pub latency: Duration,
    /// Snapshots stay `IN_PROGRESS` until this is turned off.
    pub stuck_snapshots: bool,
}

/// Changes a running domain's faults.
#[derive(Debug, Clone)]
pub struct FaultControl {
    state: Arc<Mutex<FaultState>>,
    stuck: Arc<watch::Sender<bool>>,
}

#[derive(Debug)]
struct FaultState {
    rules: Vec<FaultRule>,
    latency: Duration,
    rng: fastrand::Rng,
    injected: u64,
    /// Indices whose shards fail while a snapshot copies them.
    failing_shards: BTreeSet<String>,
}

impl FaultControl {
    pub(crate) fn new(plan: FaultPlan, seed: u64) -> Self {
        let (stuck, _) = watch::channel(plan.stuck_snapshots);
        Self {
            state: Arc::new(Mutex::new(FaultState {
                rules: plan.rules,
                latency: plan.latency,
                rng: fastrand::Rng::with_seed(seed),
                injected: 0,
                failing_shards: BTreeSet::new(),
            })),
            stuck: Arc::new(stuck),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a rule after the existing ones (the first matching rule wins).
    pub fn push(&self, rule: FaultRule) {
        self.state().rules.push(rule);
    }

    /// Removes every rule and the latency, and lets stuck snapshots finish.
    pub fn clear(&self) {
        let mut state = self.state();
        state.rules.clear();
        state.latency = Duration::ZERO;
        state.failing_shards.clear();
        drop(state);
        self.set_stuck_snapshots(false);
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// While on, snapshots stay `IN_PROGRESS`; turning it off lets them finish.
    pub fn set_stuck_snapshots(&self, stuck: bool) {
        self.stuck.send_replace(stuck);
    }

    /// From now on, `index`'s shards fail while a snapshot copies them (a node leaving, a
    /// write error): the snapshot ends PARTIAL, whatever its `partial` flag, as the engine
    /// does for failures after the start.
    pub fn fail_shards_during_snapshots(&self, index: &str) {
        self.state().failing_shards.insert(index.to_owned());
    }

    pub(crate) fn shards_fail_during_snapshots(&self, index: &str) -> bool {
        self.state().failing_shards.contains(index)
    }

    /// How many faults have been injected so far.
    pub fn injected(&self) -> u64 {
        self.state().injected
    }

    pub(crate) fn latency(&self) -> Duration {
        self.state().latency
    }

    pub(crate) fn stuck_snapshots(&self) -> watch::Receiver<bool> {
        self.stuck.subscribe()
    }

    /// The fault this request gets, if any; counts it against its rule.
    pub(crate) fn decide(&self, method: &Method, path: &str) -> Option<Fault> {
        let mut state = self.state();
        let FaultState {
            rules,
            rng,
            injected,
            ..
        } = &mut *state;
        let rule = rules
            .iter_mut()
            .find(|r| r.times != Some(0) && r.matches(method, path))?;
        if rule.probability < 1.0 && rng.f64() >= rule.probability {
            return None;
        }
        if let Some(times) = rule.times.as_mut() {
            *times -= 1;
        }
        *injected += 1;
        Some(rule.fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_fire_the_given_number_of_times_on_matching_requests() {
        let control = FaultControl::new(FaultPlan::default(), 1);
        control.push(
            FaultRule::new(Fault::GatewayTimeout)
                .on(Method::PUT, "/_snapshot/r/")
                .times(2),
        );
        assert_eq!(control.decide(&Method::GET, "/_snapshot/r/s"), None);
        assert_eq!(control.decide(&Method::PUT, "/_snapshot/q/s"), None);
        for _ in 0..2 {
            assert_eq!(
                control.decide(&Method::PUT, "/_snapshot/r/s"),
                Some(Fault::GatewayTimeout)
            );
        }
        assert_eq!(control.decide(&Method::PUT, "/_snapshot/r/s"), None);
        assert_eq!(control.injected(), 2);
    }

    #[test]
    fn random_faults_repeat_under_the_same_seed() {
        let run = |seed| {
            let control = FaultControl::new(FaultPlan::default(), seed);
            control.push(
                FaultRule::new(Fault::TooManyRequests)
                    .always()
                    .with_probability(0.5),
            );
            (0..64)
                .map(|_| control.decide(&Method::GET, "/").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }
}
