//! Which snapshots a prune may delete.
//!
//! Rules mark snapshots for deletion (older than `max_age`, or beyond the `keep_last` newest);
//! protections then veto, and a protection always wins:
//! - a snapshot still running is never deleted;
//! - the `min_count` newest successful snapshots are kept;
//! - for every index, the newest successful snapshot that holds it is kept, so no index ever
//!   loses its last good copy to retention;
//! - a snapshot whose time is unknown is kept, since its age cannot be judged.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use crate::indices::glob_match;

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
}

/// The operator's retention rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRule {
    /// Only snapshots whose names match this pattern (`*` wildcards) are considered.
    pub name_pattern: String,
    pub keep_last: Option<usize>,
    pub max_age: Option<Duration>,
    pub min_count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("a retention rule needs keep_last or max_age; with neither, nothing could be pruned")]
    NoRule,
    #[error("keep_last must be at least 1 (0 would delete every snapshot)")]
    KeepLastZero,
}

/// Why a snapshot stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeepReason {
    /// Neither rule marks it.
    Retained,
    InProgress,
    /// One of the `min_count` newest successful snapshots.
    MinCount,
    /// The newest successful snapshot holding this index.
    NewestCopyOf(String),
    UnknownTime,
}

/// The outcome for the considered snapshots (those matching the name pattern).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionDecision<'a> {
    /// Oldest first.
    pub delete: Vec<&'a str>,
    /// Newest first.
    pub keep: Vec<(&'a str, KeepReason)>,
}

impl RetentionRule {
    pub fn validate(&self) -> Result<(), RetentionError> {
        match (self.keep_last, self.max_age) {
            (None, None) => Err(RetentionError::NoRule),
            (Some(0), _) => Err(RetentionError::KeepLastZero),
            _ => Ok(()),
        }
    }

    /// Decides which of `snapshots` to delete at time `now`.
    pub fn decide<'a>(
        &self,
        snapshots: &[SnapshotFacts<'a>],
        now: SystemTime,
    ) -> Result<RetentionDecision<'a>, RetentionError> {
        self.validate()?;
        let mut considered: Vec<&SnapshotFacts<'a>> = snapshots
            .iter()
            .filter(|s| glob_match(&self.name_pattern, s.name))
            .collect();
        // Newest first; unknown times sort last and are kept anyway.
        considered.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| b.name.cmp(a.name)));

        let mut seen_indices: HashSet<&str> = HashSet::new();
        let mut successes = 0usize;
        let mut completed_rank = 0usize;
        let mut decision = RetentionDecision::default();
        for snapshot in considered {
            let protection = self.protection(snapshot, &mut seen_indices, &mut successes);
            let marked = match snapshot.time {
                Some(time) if is_completed(snapshot.state) => {
                    completed_rank += 1;
                    let too_old = self
                        .max_age
                        .is_some_and(|max| now.duration_since(time).unwrap_or_default() > max);
                    let beyond_count = self.keep_last.is_some_and(|n| completed_rank > n);
                    too_old || beyond_count
                }
                _ => false,
            };
            match (marked, protection) {
                (true, None) => decision.delete.push(snapshot.name),
                (_, Some(reason)) => decision.keep.push((snapshot.name, reason)),
                (false, None) => decision.keep.push((snapshot.name, KeepReason::Retained)),
            }
        }
        decision.delete.reverse();
        Ok(decision)
    }

    /// The protection that vetoes deleting `snapshot`, if any. Called newest first.
    fn protection<'a>(
        &self,
        snapshot: &SnapshotFacts<'a>,
        seen_indices: &mut HashSet<&'a str>,
        successes: &mut usize,
    ) -> Option<KeepReason> {
        if !is_completed(snapshot.state) {
            return Some(KeepReason::InProgress);
        }
        if snapshot.time.is_none() {
            return Some(KeepReason::UnknownTime);
        }
        if snapshot.state != SnapshotState::Success {
            return None;
        }
        *successes += 1;
        // Every index this snapshot is the newest good copy of (record them all).
        let mut newest_copy_of = None;
        for index in snapshot.indices {
            if seen_indices.insert(index.as_str()) && newest_copy_of.is_none() {
                newest_copy_of = Some(index.clone());
            }
        }
        if *successes <= self.min_count {
            return Some(KeepReason::MinCount);
        }
        newest_copy_of.map(KeepReason::NewestCopyOf)
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

    struct Fixture {
        names: Vec<String>,
        states: Vec<SnapshotState>,
        days: Vec<Option<u64>>,
        indices: Vec<Vec<String>>,
    }

    impl Fixture {
        /// `n` daily successful snapshots of the same two indices, day 0 oldest.
        fn daily(n: u64) -> Self {
            let mut f = Self {
                names: vec![],
                states: vec![],
                days: vec![],
                indices: vec![],
            };
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
        }

        fn facts(&self) -> Vec<SnapshotFacts<'_>> {
            (0..self.names.len())
                .map(|i| SnapshotFacts {
                    name: &self.names[i],
                    state: self.states[i],
                    time: self.days[i].map(at_day),
                    indices: &self.indices[i],
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
        }
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
        let kept: Vec<&str> = decision.keep.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            kept,
            ["nightly-009", "nightly-008", "nightly-007", "nightly-006"]
        );
        assert!(
            decision
                .keep
                .iter()
                .all(|(_, r)| *r == KeepReason::MinCount)
        );
    }

    #[test]
    fn failed_snapshots_do_not_count_toward_min_count() {
        let mut fixture = Fixture::daily(3);
        for day in 3..8 {
            fixture.push(
                &format!("nightly-{day:03}"),
                SnapshotState::Failed,
                Some(day),
                &["logs", "orders"],
            );
        }
        let decision = rule(Some(2), None, 2)
            .decide(&fixture.facts(), at_day(8))
            .unwrap();
        // The five newest are failures; the two newest successes (days 1 and 2) stay.
        assert!(decision.delete.contains(&"nightly-003"));
        assert!(!decision.delete.contains(&"nightly-002"));
        assert!(!decision.delete.contains(&"nightly-001"));
        assert!(decision.delete.contains(&"nightly-000"));
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
    }

    #[test]
    fn keeps_the_newest_good_copy_of_every_index() {
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
        // A failed snapshot is no copy.
        fixture.push("nightly-failed", SnapshotState::Failed, Some(1), &["other"]);
        let decision = rule(Some(1), None, 1)
            .decide(&fixture.facts(), at_day(30))
            .unwrap();
        let kept_for_index: Vec<&str> = decision
            .keep
            .iter()
            .filter(|(_, r)| matches!(r, KeepReason::NewestCopyOf(_)))
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(kept_for_index.len(), 1);
        assert!(kept_for_index[0].starts_with("nightly-legacy"));
        assert!(decision.delete.contains(&"nightly-failed"));
        assert_eq!(decision.delete.len() + decision.keep.len(), 8);
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
    }

    #[test]
    fn a_rule_is_required() {
        let fixture = Fixture::daily(3);
        assert_eq!(
            rule(None, None, 1).decide(&fixture.facts(), at_day(3)),
            Err(RetentionError::NoRule)
        );
        assert_eq!(
            rule(Some(0), None, 1).decide(&fixture.facts(), at_day(3)),
            Err(RetentionError::KeepLastZero)
        );
    }
}
