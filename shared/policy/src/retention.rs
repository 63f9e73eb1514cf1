//! Which snapshots a prune may delete.
//!
//! Only snapshots whose names match the rule's pattern are considered. Rules mark snapshots
//! for deletion; protections then veto, and a protection always wins.
//!
//! # Rules
//! - `max_age`: a finished snapshot older than this is marked.
//! - `keep_last`: a SUCCESS snapshot beyond the `keep_last` newest SUCCESS snapshots is marked.
//! - With neither given, `max_age` is [`DEFAULT_MAX_AGE`] (30 days).
//!
//! # Failed snapshots
//! FAILED, PARTIAL and INCOMPATIBLE snapshots count toward neither `keep_last` nor
//! `min_count`, and protect no index: they are no good copy of anything. One is marked when
//! `max_age` marks it, or when it is older than the oldest SUCCESS snapshot `keep_last` keeps
//! (it lies outside the kept window). Failures newer than that stay, as evidence for
//! diagnosis; while fewer than `keep_last` SUCCESS snapshots exist, the window reaches back to
//! the oldest snapshot and `keep_last` marks no failure.
//!
//! # Protections
//! A kept snapshot is reported with the first of these that applies, in this order (and
//! counted under it in [`Protected`]), whether or not a rule marked it:
//! 1. `in_progress`: a snapshot still running, or in a state this version does not know;
//! 2. `unknown_time`: a snapshot whose time is unknown, since its age cannot be judged;
//! 3. `min_count`: one of the `min_count` newest SUCCESS snapshots (with a known time);
//! 4. `pinned`: named in the rule's `pinned` list, or pinned in its own metadata;
//! 5. `last_copy`: for an index matching one of `protect_last_copy_of`, the newest SUCCESS
//!    snapshot holding it. Opt-in: with daily or rollover indices that the cluster deletes
//!    after some days, every snapshot is the newest copy of some index that aged out just
//!    after it, so protecting every index would keep every snapshot forever.
//!
//! A kept snapshot no protection applies to is [`KeepReason::Retained`]: no rule marks it.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use crate::indices::glob_match;

/// The `max_age` of a rule that gives neither `keep_last` nor `max_age`.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 86_400);

/// A snapshot's state, as far as retention cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotState {
    InProgress,
    Success,
    Partial,
    Failed,
    Incompatible,
    /// A state this version does not know; treated like a running one (never deleted).
    Unknown,
}

/// What retention needs to know of one snapshot.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotFacts<'a> {
    pub name: &'a str,
    pub state: SnapshotState,
    /// When it was taken; `None` when neither its name nor the listing tells.
    pub time: Option<SystemTime>,
    pub indices: &'a [String],
    /// Pinned by the snapshot itself (its metadata), never pruned.
    pub pinned: bool,
}

/// The operator's retention rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionRule {
    /// Only snapshots whose names match this pattern (`*` wildcards) are considered.
    pub name_pattern: String,
    pub keep_last: Option<usize>,
    pub max_age: Option<Duration>,
    pub min_count: usize,
    /// Index patterns (`*` wildcards) whose newest SUCCESS copy is kept. Empty: none.
    pub protect_last_copy_of: Vec<String>,
    /// Snapshot names (exact) that are never pruned.
    pub pinned: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("keep_last must be at least 1 (0 would delete every snapshot)")]
    KeepLastZero,
}

/// Why a snapshot stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeepReason {
    /// No rule marks it, and no protection applies.
    Retained,
    InProgress,
    UnknownTime,
    /// One of the `min_count` newest successful snapshots.
    MinCount,
    /// Pinned by the rule or by its own metadata.
    Pinned,
    /// The newest successful snapshot holding this index (the first such index it holds).
    LastCopyOf(String),
}

/// How many kept snapshots each protection covers; each snapshot is counted once, under the
/// first protection that applies (the order of the fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Protected {
    pub in_progress: usize,
    pub unknown_time: usize,
    pub min_count: usize,
    pub pinned: usize,
    pub last_copy: usize,
}

impl Protected {
    fn count(&mut self, reason: &KeepReason) {
        match reason {
            KeepReason::Retained => {}
            KeepReason::InProgress => self.in_progress += 1,
            KeepReason::UnknownTime => self.unknown_time += 1,
            KeepReason::MinCount => self.min_count += 1,
            KeepReason::Pinned => self.pinned += 1,
            KeepReason::LastCopyOf(_) => self.last_copy += 1,
        }
    }
}

/// The outcome for the considered snapshots (those matching the name pattern).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionDecision<'a> {
    /// Oldest first.
    pub delete: Vec<&'a str>,
    /// Newest first.
    pub keep: Vec<(&'a str, KeepReason)>,
    pub protected: Protected,
}

/// What [`RetentionRule::decide`] carries from one snapshot to the next (newest first).
#[derive(Default)]
struct Walk<'a> {
    /// Indices whose newest SUCCESS copy has been seen.
    claimed: HashSet<&'a str>,
    /// SUCCESS snapshots with a known time seen so far, this one included.
    successes: usize,
}

impl RetentionRule {
    pub fn validate(&self) -> Result<(), RetentionError> {
        match self.keep_last {
            Some(0) => Err(RetentionError::KeepLastZero),
            _ => Ok(()),
        }
    }

    /// The `max_age` that applies: the rule's own, or [`DEFAULT_MAX_AGE`] when the rule gives
    /// no rule at all.
    pub fn effective_max_age(&self) -> Option<Duration> {
        match (self.keep_last, self.max_age) {
            (None, None) => Some(DEFAULT_MAX_AGE),
            (_, max_age) => max_age,
        }
    }

    /// Decides which of `snapshots` to delete at time `now`.
    pub fn decide<'a>(
        &self,
        snapshots: &[SnapshotFacts<'a>],
        now: SystemTime,
    ) -> Result<RetentionDecision<'a>, RetentionError> {
        self.validate()?;
        let max_age = self.effective_max_age();
        let mut considered: Vec<&SnapshotFacts<'a>> = snapshots
            .iter()
            .filter(|s| glob_match(&self.name_pattern, s.name))
            .collect();
        // Newest first; unknown times sort last and are kept anyway.
        considered.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| b.name.cmp(a.name)));

        let mut walk = Walk::default();
        let mut decision = RetentionDecision::default();
        for snapshot in considered {
            // Counted before marking: a SUCCESS snapshot's rank includes itself.
            let protection = self.protection(snapshot, &mut walk);
            let marked = match snapshot.time {
                Some(time) if is_completed(snapshot.state) => {
                    let too_old = max_age
                        .is_some_and(|max| now.duration_since(time).unwrap_or_default() > max);
                    let outside_window = self.keep_last.is_some_and(|n| {
                        if snapshot.state == SnapshotState::Success {
                            walk.successes > n
                        } else {
                            walk.successes >= n
                        }
                    });
                    too_old || outside_window
                }
                _ => false,
            };
            match (marked, protection) {
                (true, None) => decision.delete.push(snapshot.name),
                (_, Some(reason)) => {
                    decision.protected.count(&reason);
                    decision.keep.push((snapshot.name, reason));
                }
                (false, None) => decision.keep.push((snapshot.name, KeepReason::Retained)),
            }
        }
        decision.delete.reverse();
        Ok(decision)
    }

    /// The first protection that applies to `snapshot`, if any. Called newest first.
    fn protection<'a>(
        &self,
        snapshot: &SnapshotFacts<'a>,
        walk: &mut Walk<'a>,
    ) -> Option<KeepReason> {
        let success = snapshot.state == SnapshotState::Success;
        // Every protected index this snapshot is the newest good copy of: all are claimed,
        // even when another protection keeps the snapshot, so that an older copy is not taken
        // for the newest one.
        let mut last_copy_of = None;
        if success {
            for index in snapshot.indices {
                if self.protects_index(index) && walk.claimed.insert(index.as_str()) {
                    last_copy_of.get_or_insert_with(|| index.clone());
                }
            }
            if snapshot.time.is_some() {
                walk.successes += 1;
            }
        }
        if !is_completed(snapshot.state) {
            return Some(KeepReason::InProgress);
        }
        if snapshot.time.is_none() {
            return Some(KeepReason::UnknownTime);
        }
        if success && walk.successes <= self.min_count {
            return Some(KeepReason::MinCount);
        }
        if snapshot.pinned || self.pinned.iter().any(|p| p == snapshot.name) {
            return Some(KeepReason::Pinned);
        }
        last_copy_of.map(KeepReason::LastCopyOf)
    }

    fn protects_index(&self, index: &str) -> bool {
        self.protect_last_copy_of
            .iter()
            .any(|pattern| glob_match(pattern, index))
    }
}

fn is_completed(state: SnapshotState) -> bool {
    !matches!(state, SnapshotState::InProgress | SnapshotState::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    fn at_day(day: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + day * DAY)
    }

    #[derive(Default)]
    struct Fixture {
        names: Vec<String>,
        states: Vec<SnapshotState>,
        days: Vec<Option<u64>>,
        indices: Vec<Vec<String>>,
        pinned: Vec<bool>,
    }

    impl Fixture {
        /// `n` daily successful snapshots of the same two indices, day 0 oldest.
        fn daily(n: u64) -> Self {
            let mut f = Self::default();
            for day in 0..n {
                f.push(
                    &format!("nightly-{day:03}"),
                    SnapshotState::Success,
                    Some(day),
                    &["logs", "orders"],
                );
            }
            f
        }

        fn push(&mut self, name: &str, state: SnapshotState, day: Option<u64>, indices: &[&str]) {
            self.names.push(name.to_owned());
            self.states.push(state);
            self.days.push(day);
            self.indices
                .push(indices.iter().map(|s| (*s).to_owned()).collect());
            self.pinned.push(false);
        }

        fn facts(&self) -> Vec<SnapshotFacts<'_>> {
            (0..self.names.len())
                .map(|i| SnapshotFacts {
                    name: &self.names[i],
                    state: self.states[i],
                    time: self.days[i].map(at_day),
                    indices: &self.indices[i],
                    pinned: self.pinned[i],
                })
                .collect()
        }
    }

    fn rule(
        keep_last: Option<usize>,
        max_age_days: Option<u64>,
        min_count: usize,
    ) -> RetentionRule {
        RetentionRule {
            name_pattern: "*".into(),
            keep_last,
            max_age: max_age_days.map(|d| Duration::from_secs(d * DAY)),
            min_count,
            ..RetentionRule::default()
        }
    }

    fn kept_names<'a>(decision: &RetentionDecision<'a>) -> Vec<&'a str> {
        decision.keep.iter().map(|(n, _)| *n).collect()
    }

    #[test]
    fn keep_last_deletes_the_oldest_beyond_n() {
        let fixture = Fixture::daily(10);
        let decision = rule(Some(7), None, 1)
            .decide(&fixture.facts(), at_day(10))
            .unwrap();
        assert_eq!(
            decision.delete,
            ["nightly-000", "nightly-001", "nightly-002"]
        );
        assert_eq!(decision.keep.len(), 7);
        assert_eq!(decision.keep[0], ("nightly-009", KeepReason::MinCount));
        assert_eq!(
            decision.protected,
            Protected {
                min_count: 1,
                ..Protected::default()
            }
        );
    }

    #[test]
    fn max_age_deletes_what_is_older() {
        let fixture = Fixture::daily(10);
        let decision = rule(None, Some(3), 1)
            .decide(&fixture.facts(), at_day(10))
            .unwrap();
        // Days 0..=6 are more than 3 days old at day 10.
        assert_eq!(decision.delete.len(), 7);
        assert_eq!(decision.delete.first(), Some(&"nightly-000"));
        assert_eq!(decision.delete.last(), Some(&"nightly-006"));
    }

    #[test]
    fn min_count_keeps_successes_even_when_all_are_too_old() {
        let fixture = Fixture::daily(10);
        let decision = rule(None, Some(1), 4)
            .decide(&fixture.facts(), at_day(100))
            .unwrap();
        assert_eq!(decision.delete.len(), 6);
        assert_eq!(
            kept_names(&decision),
            ["nightly-009", "nightly-008", "nightly-007", "nightly-006"]
        );
        assert!(
            decision
                .keep
                .iter()
                .all(|(_, r)| *r == KeepReason::MinCount)
        );
        assert_eq!(decision.protected.min_count, 4);
    }

    #[test]
    fn failures_count_toward_neither_keep_last_nor_min_count() {
        // Successes on days 0..=4, failures on the days between and after them.
        let mut fixture = Fixture::default();
        for day in 0..5 {
            fixture.push(
                &format!("nightly-{:03}", day * 2),
                SnapshotState::Success,
                Some(day * 2),
                &["logs"],
            );
            fixture.push(
                &format!("nightly-{:03}", day * 2 + 1),
                SnapshotState::Failed,
                Some(day * 2 + 1),
                &["logs"],
            );
        }
        let decision = rule(Some(2), None, 2)
            .decide(&fixture.facts(), at_day(10))
            .unwrap();
        // keep_last 2 keeps the two newest successes (days 8 and 6) and the failures newer
        // than the older of them (days 9 and 7); min_count's two are the same successes.
        assert_eq!(
            kept_names(&decision),
            ["nightly-009", "nightly-008", "nightly-007", "nightly-006"]
        );
        assert_eq!(
            decision.delete,
            [
                "nightly-000",
                "nightly-001",
                "nightly-002",
                "nightly-003",
                "nightly-004",
                "nightly-005"
            ]
        );
        assert_eq!(decision.protected.min_count, 2);
    }

    #[test]
    fn failures_newer_than_the_kept_window_stay_as_evidence() {
        let mut fixture = Fixture::daily(3);
        for day in 3..8 {
            fixture.push(
                &format!("nightly-{day:03}"),
                SnapshotState::Failed,
                Some(day),
                &["logs", "orders"],
            );
        }
        fixture.push(
            "nightly-partial",
            SnapshotState::Partial,
            Some(8),
            &["logs"],
        );
        fixture.push(
            "nightly-incompatible",
            SnapshotState::Incompatible,
            Some(9),
            &["logs"],
        );
        let decision = rule(Some(2), None, 2)
            .decide(&fixture.facts(), at_day(10))
            .unwrap();
        // The seven newest are failures, all newer than the two kept successes (days 1, 2).
        assert_eq!(decision.delete, ["nightly-000"]);
        assert_eq!(decision.keep.len(), 9);
        for failed in [
            "nightly-003",
            "nightly-007",
            "nightly-partial",
            "nightly-incompatible",
        ] {
            assert!(
                decision.keep.contains(&(failed, KeepReason::Retained)),
                "{failed}: {decision:?}"
            );
        }
    }

    #[test]
    fn with_fewer_successes_than_keep_last_no_failure_is_outside_the_window() {
        let mut fixture = Fixture::daily(2);
        fixture.push("nightly-failed-old", SnapshotState::Failed, Some(0), &[]);
        let decision = rule(Some(5), None, 0)
            .decide(&fixture.facts(), at_day(50))
            .unwrap();
        assert!(decision.delete.is_empty(), "{decision:?}");
    }

    #[test]
    fn max_age_deletes_failures_inside_the_window() {
        let mut fixture = Fixture::daily(3);
        fixture.push("nightly-failed", SnapshotState::Failed, Some(2), &["logs"]);
        fixture.push(
            "nightly-partial",
            SnapshotState::Partial,
            Some(9),
            &["logs"],
        );
        let decision = rule(Some(14), Some(5), 1)
            .decide(&fixture.facts(), at_day(10))
            .unwrap();
        // Successes on days 0..=2 are too old too, but min_count keeps the newest of them.
        assert_eq!(
            decision.delete,
            ["nightly-000", "nightly-001", "nightly-failed"]
        );
        assert_eq!(kept_names(&decision), ["nightly-partial", "nightly-002"]);
    }

    #[test]
    fn never_deletes_a_running_snapshot() {
        let mut fixture = Fixture::daily(5);
        fixture.push("old-running", SnapshotState::InProgress, Some(0), &["logs"]);
        fixture.push("odd-state", SnapshotState::Unknown, Some(0), &["logs"]);
        let decision = rule(Some(1), Some(1), 0)
            .decide(&fixture.facts(), at_day(50))
            .unwrap();
        assert!(
            decision
                .keep
                .contains(&("old-running", KeepReason::InProgress))
        );
        assert!(
            decision
                .keep
                .contains(&("odd-state", KeepReason::InProgress))
        );
        assert!(!decision.delete.contains(&"old-running"));
        assert_eq!(decision.protected.in_progress, 2);
    }

    #[test]
    fn last_copy_protection_is_opt_in_and_only_for_matching_indices() {
        let mut fixture = Fixture::daily(5);
        // An index that only old snapshots hold (deleted from the cluster since).
        fixture.push(
            "nightly-legacy",
            SnapshotState::Success,
            Some(0),
            &["retired-index"],
        );
        fixture.push(
            "nightly-legacy-older",
            SnapshotState::Success,
            Some(0),
            &["retired-index"],
        );
        fixture.push(
            "nightly-other",
            SnapshotState::Success,
            Some(0),
            &["other-index"],
        );
        // A failed snapshot is no copy.
        fixture.push(
            "nightly-failed",
            SnapshotState::Failed,
            Some(1),
            &["retired-index", "failed-only"],
        );
        let facts = fixture.facts();

        // By default no index is protected: only the newest snapshot stays.
        let plain = rule(Some(1), None, 1).decide(&facts, at_day(30)).unwrap();
        assert_eq!(kept_names(&plain), ["nightly-004"]);
        assert_eq!(plain.delete.len(), 8);
        assert_eq!(plain.protected.last_copy, 0);

        let mut protecting = rule(Some(1), None, 1);
        protecting.protect_last_copy_of = vec!["retired-*".into(), "failed-only".into()];
        let decision = protecting.decide(&facts, at_day(30)).unwrap();
        // Of the two legacy snapshots at the same time, the name sorting last is the newer.
        assert_eq!(
            decision.keep,
            [
                ("nightly-004", KeepReason::MinCount),
                (
                    "nightly-legacy-older",
                    KeepReason::LastCopyOf("retired-index".into())
                ),
            ]
        );
        assert!(decision.delete.contains(&"nightly-failed"));
        assert!(decision.delete.contains(&"nightly-other"));
        assert_eq!(decision.delete.len(), 7);
        assert_eq!(decision.protected.last_copy, 1);
    }

    /// A log cluster: daily indices that the cluster deletes after three days, so each
    /// night's snapshot holds that day's index and the two before it. Protecting the last
    /// copy of every index (the old, always-on behaviour) keeps one snapshot per day forever.
    #[test]
    fn daily_indices_that_age_out_do_not_keep_every_snapshot() {
        let mut fixture = Fixture::default();
        for day in 0..60u64 {
            let indices: Vec<String> = (day.saturating_sub(2)..=day)
                .map(|d| format!("logs-{d:03}"))
                .collect();
            let indices: Vec<&str> = indices.iter().map(String::as_str).collect();
            fixture.push(
                &format!("nightly-{day:03}"),
                SnapshotState::Success,
                Some(day),
                &indices,
            );
        }
        let facts = fixture.facts();
        let plain = rule(Some(7), None, 1).decide(&facts, at_day(60)).unwrap();
        assert_eq!(plain.delete.len(), 53);
        assert_eq!(plain.delete.first(), Some(&"nightly-000"));
        assert_eq!(plain.delete.last(), Some(&"nightly-052"));
        assert_eq!(plain.keep.len(), 7);

        // Every snapshot from day 2 on is the newest copy of the index two days older.
        let mut protecting = rule(Some(7), None, 1);
        protecting.protect_last_copy_of = vec!["logs-*".into()];
        let decision = protecting.decide(&facts, at_day(60)).unwrap();
        assert_eq!(decision.delete, ["nightly-000", "nightly-001"]);
        assert_eq!(decision.keep.len(), 58);
        assert!(
            decision
                .keep
                .contains(&("nightly-010", KeepReason::LastCopyOf("logs-008".into())))
        );
        assert_eq!(
            decision.protected,
            Protected {
                min_count: 1,
                last_copy: 57,
                ..Protected::default()
            }
        );
    }

    #[test]
    fn pinned_snapshots_are_never_pruned() {
        let mut fixture = Fixture::daily(10);
        fixture.pinned[2] = true;
        fixture.push("nightly-failed", SnapshotState::Failed, Some(0), &[]);
        let mut r = rule(Some(2), Some(1), 1);
        r.pinned = vec![
            "nightly-004".into(),
            "nightly-failed".into(),
            "nightly-009".into(),
        ];
        let decision = r.decide(&fixture.facts(), at_day(10)).unwrap();
        assert_eq!(
            decision.keep,
            [
                // min_count comes first among the protections.
                ("nightly-009", KeepReason::MinCount),
                ("nightly-004", KeepReason::Pinned),
                ("nightly-002", KeepReason::Pinned),
                ("nightly-failed", KeepReason::Pinned),
            ]
        );
        assert_eq!(decision.delete.len(), 7);
        assert_eq!(
            decision.protected,
            Protected {
                min_count: 1,
                pinned: 3,
                ..Protected::default()
            }
        );
    }

    #[test]
    fn unknown_times_and_other_names_are_left_alone() {
        let mut fixture = Fixture::daily(3);
        fixture.push("nightly-foreign", SnapshotState::Success, None, &["logs"]);
        fixture.push(
            "manual-before-upgrade",
            SnapshotState::Success,
            Some(0),
            &["logs"],
        );
        let mut r = rule(Some(1), None, 0);
        r.name_pattern = "nightly-*".into();
        let decision = r.decide(&fixture.facts(), at_day(3)).unwrap();
        assert!(
            decision
                .keep
                .contains(&("nightly-foreign", KeepReason::UnknownTime))
        );
        assert!(!decision.delete.contains(&"manual-before-upgrade"));
        assert!(
            decision
                .keep
                .iter()
                .all(|(n, _)| *n != "manual-before-upgrade")
        );
        assert_eq!(decision.delete, ["nightly-000", "nightly-001"]);
        assert_eq!(decision.protected.unknown_time, 1);
    }

    #[test]
    fn without_keep_last_or_max_age_the_default_max_age_applies() {
        let fixture = Fixture::daily(40);
        let defaults = rule(None, None, 1);
        assert_eq!(defaults.validate(), Ok(()));
        assert_eq!(defaults.effective_max_age(), Some(DEFAULT_MAX_AGE));
        assert_eq!(DEFAULT_MAX_AGE, Duration::from_secs(30 * DAY));
        let decision = defaults.decide(&fixture.facts(), at_day(40)).unwrap();
        // Days 0..=9 are more than 30 days old at day 40.
        assert_eq!(decision.delete.len(), 10);
        assert_eq!(decision.delete.last(), Some(&"nightly-009"));
        // keep_last alone sets no age limit.
        assert_eq!(rule(Some(3), None, 1).effective_max_age(), None);
        assert_eq!(
            rule(Some(0), None, 1).decide(&fixture.facts(), at_day(3)),
            Err(RetentionError::KeepLastZero)
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        const INDICES: [&str; 6] = ["logs-1", "logs-2", "logs-3", "orders", "archive", ".kibana"];
        const STATES: [SnapshotState; 6] = [
            SnapshotState::InProgress,
            SnapshotState::Success,
            SnapshotState::Partial,
            SnapshotState::Failed,
            SnapshotState::Incompatible,
            SnapshotState::Unknown,
        ];

        #[derive(Debug, Clone)]
        struct Snap {
            name: String,
            state: SnapshotState,
            day: Option<u64>,
            indices: Vec<String>,
            pinned: bool,
        }

        fn snap(i: usize) -> impl Strategy<Value = Snap> {
            (
                prop::bool::weighted(0.8),
                // Success is weighted up: it is what the protections are about.
                prop_oneof![4 => Just(1usize), 3 => 0..STATES.len()],
                prop::option::weighted(0.9, 0..60u64),
                prop::sample::subsequence(INDICES.to_vec(), 0..=3),
                prop::bool::weighted(0.1),
            )
                .prop_map(move |(nightly, state, day, indices, pinned)| Snap {
                    name: format!("{}-{i:02}", if nightly { "nightly" } else { "manual" }),
                    state: STATES[state],
                    day,
                    indices: indices.into_iter().map(str::to_owned).collect(),
                    pinned,
                })
        }

        fn repository() -> impl Strategy<Value = Vec<Snap>> {
            (0..30usize).prop_flat_map(|n| (0..n).map(snap).collect::<Vec<_>>())
        }

        fn rule_for(names: usize) -> impl Strategy<Value = RetentionRule> {
            (
                prop::sample::select(vec!["nightly-*", "*", "manual-*", "nightly-0*"]),
                prop::option::of(1..8usize),
                prop::option::of(0..40u64),
                0..5usize,
                prop::sample::select(vec![
                    vec![],
                    vec!["logs-*"],
                    vec!["orders", "archive"],
                    vec!["*"],
                ]),
                prop::collection::vec(0..names.max(1), 0..3),
            )
                .prop_map(
                    |(pattern, keep_last, max_age, min_count, protect, pinned)| {
                        RetentionRule {
                            name_pattern: pattern.to_owned(),
                            keep_last,
                            max_age: max_age.map(|d| Duration::from_secs(d * DAY)),
                            min_count,
                            protect_last_copy_of: protect.into_iter().map(str::to_owned).collect(),
                            // Either prefix: some pins name no snapshot at all.
                            pinned: pinned
                                .into_iter()
                                .flat_map(|i| [format!("nightly-{i:02}"), format!("manual-{i:02}")])
                                .collect(),
                        }
                    },
                )
        }

        fn facts(snaps: &[Snap]) -> Vec<SnapshotFacts<'_>> {
            snaps
                .iter()
                .map(|s| SnapshotFacts {
                    name: &s.name,
                    state: s.state,
                    time: s.day.map(at_day),
                    indices: &s.indices,
                    pinned: s.pinned,
                })
                .collect()
        }

        fn case() -> impl Strategy<Value = (Vec<Snap>, RetentionRule)> {
            repository().prop_flat_map(|snaps| {
                let n = snaps.len();
                (Just(snaps), rule_for(n))
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]

            #[test]
            fn retention_keeps_its_promises((snaps, rule) in case()) {
                let now = at_day(60);
                let all = facts(&snaps);
                let decision = rule.decide(&all, now).unwrap();
                let matching: Vec<&SnapshotFacts<'_>> = all
                    .iter()
                    .filter(|s| glob_match(&rule.name_pattern, s.name))
                    .collect();
                let deleted: HashSet<&str> = decision.delete.iter().copied().collect();
                let kept: HashSet<&str> = decision.keep.iter().map(|(n, _)| *n).collect();

                // Only matching names, each once, either deleted or kept.
                prop_assert_eq!(deleted.len(), decision.delete.len());
                prop_assert_eq!(kept.len(), decision.keep.len());
                prop_assert!(deleted.is_disjoint(&kept));
                let matching_names: HashSet<&str> = matching.iter().map(|s| s.name).collect();
                let decided: HashSet<&str> = deleted.union(&kept).copied().collect();
                prop_assert_eq!(&decided, &matching_names);

                for s in matching.iter().filter(|s| deleted.contains(s.name)) {
                    prop_assert!(
                        !matches!(s.state, SnapshotState::InProgress | SnapshotState::Unknown),
                        "deleted a running snapshot {}", s.name
                    );
                    prop_assert!(s.time.is_some(), "deleted {} of unknown time", s.name);
                    prop_assert!(
                        !s.pinned && !rule.pinned.iter().any(|p| p == s.name),
                        "deleted pinned {}", s.name
                    );
                }

                let successes = |names: &dyn Fn(&str) -> bool| {
                    matching
                        .iter()
                        .filter(|s| s.state == SnapshotState::Success && names(s.name))
                        .count()
                };
                let all_successes = successes(&|_| true);
                let kept_successes = successes(&|n| kept.contains(n));
                prop_assert!(kept_successes >= rule.min_count.min(all_successes));

                // The newest SUCCESS copy of every protected index stays.
                for index in INDICES {
                    if !rule.protect_last_copy_of.iter().any(|p| glob_match(p, index)) {
                        continue;
                    }
                    let newest = matching
                        .iter()
                        .filter(|s| {
                            s.state == SnapshotState::Success
                                && s.indices.iter().any(|i| i == index)
                        })
                        .max_by_key(|s| (s.time, s.name));
                    if let Some(newest) = newest {
                        prop_assert!(
                            !deleted.contains(newest.name),
                            "deleted {}, the last copy of {}", newest.name, index
                        );
                    }
                }

                let protected = decision.protected;
                let counted = protected.in_progress
                    + protected.unknown_time
                    + protected.min_count
                    + protected.pinned
                    + protected.last_copy;
                let retained = decision
                    .keep
                    .iter()
                    .filter(|(_, r)| *r == KeepReason::Retained)
                    .count();
                prop_assert_eq!(counted + retained, decision.keep.len());

                // Deciding again on what is left deletes nothing more.
                let left: Vec<SnapshotFacts<'_>> = all
                    .iter()
                    .filter(|s| !deleted.contains(s.name))
                    .copied()
                    .collect();
                let again = rule.decide(&left, now).unwrap();
                prop_assert!(again.delete.is_empty(), "then deleted {:?}", again.delete);
            }
        }
    }
}
