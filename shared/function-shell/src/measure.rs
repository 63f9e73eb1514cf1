//! osnap's metrics: what each operation's outcome is worth to CloudWatch. The operations
//! return outcomes and know nothing of metrics; this turns an outcome (or a failure) into
//! the values the shell writes as one EMF line, labelled with the domain and repository.
//!
//! The names here are a contract with the alarms and the dashboard in `infra/template.yaml`
//! (the end-to-end tests read both and check that they agree) and with the README.

use std::time::{Duration, SystemTime};

use operations::OsnapError;
use operations::contract::Target;
use operations::requests::{
    PruneResponse, RegisterResponse, RestoreResponse, SnapshotResponse, VerifyResponse,
};

use crate::emf::{Document, EmfError, Metric, Unit};

/// The CloudWatch namespace of every osnap metric.
pub const NAMESPACE: &str = "osnap";
/// The dimension naming the domain: its endpoint's host (and port, where one is given).
pub const DOMAIN: &str = "Domain";
/// The dimension naming the snapshot repository.
pub const REPOSITORY: &str = "Repository";

/// `snapshot`: a create was sent and the domain started the snapshot.
pub const SNAPSHOT_STARTED: &str = "SnapshotStarted";
/// `verify`: a finished snapshot judged good. Emitted only then: the dead-man's switch
/// alarms when it is missing.
pub const SNAPSHOT_SUCCEEDED: &str = "SnapshotSucceeded";
/// `verify`: a finished snapshot judged not good (failed, partial, missing an expected index,
/// or too old).
pub const SNAPSHOT_FAILED: &str = "SnapshotFailed";
/// `verify`: how long a finished snapshot took.
pub const SNAPSHOT_DURATION: &str = "SnapshotDuration";
/// `verify`: the shards a finished snapshot failed to copy.
pub const SHARDS_FAILED: &str = "ShardsFailed";
/// `verify`: the primaries' store size of the indices a snapshot holds, from its manifest,
/// once per snapshot (when the manifest is completed).
pub const SNAPSHOT_INDEX_BYTES: &str = "SnapshotIndexBytes";
/// `verify`: how old a snapshot judged good was when judged (for `latest`, the newest).
pub const SNAPSHOT_AGE: &str = "SnapshotAge";
/// `restore`: indices a restore was started for, and those it closed and restored over (`replace`).
pub const INDICES_RESTORED: &str = "IndicesRestored";
pub const INDICES_REPLACED: &str = "IndicesReplaced";
/// `verify` with `check: restore`: every restored shard has recovered, and how long the
/// slowest took.
pub const RESTORE_RECOVERED: &str = "RestoreRecovered";
pub const RESTORE_DURATION: &str = "RestoreDuration";
/// `verify` with `check: counts`: every restored index holds its source's documents, or not.
pub const RESTORE_SUCCEEDED: &str = "RestoreSucceeded";
pub const RESTORE_FAILED: &str = "RestoreFailed";
/// `verify` with `check: drill`: a drill judged (every copy as the manifest records it), or
/// not; a run the drill was not due on emits neither.
pub const DRILL_PASSED: &str = "DrillPassed";
pub const DRILL_FAILED: &str = "DrillFailed";
/// `prune` (not in a dry run): snapshots deleted, kept, and left for the next run.
pub const SNAPSHOTS_DELETED: &str = "SnapshotsDeleted";
pub const SNAPSHOTS_KEPT: &str = "SnapshotsKept";
pub const SNAPSHOTS_PENDING: &str = "SnapshotsPending";

/// An operation's outcome, as metrics.
pub trait Measured {
    /// The metrics of an invocation that returned `self`.
    fn metrics(&self) -> Vec<Metric>;

    /// The time the metrics are about, given the invocation's time: that time itself unless
    /// the outcome is about an earlier event.
    fn measured_at(&self, now: SystemTime) -> SystemTime {
        now
    }

    /// The metrics of an invocation that failed with `error` (none by default: Lambda's own
    /// `Errors` metric and the workflows' alarms count failures to run).
    fn error_metrics(_error: &OsnapError) -> Vec<Metric> {
        Vec::new()
    }
}

impl Measured for RegisterResponse {
    fn metrics(&self) -> Vec<Metric> {
        Vec::new()
    }
}

impl Measured for SnapshotResponse {
    fn metrics(&self) -> Vec<Metric> {
        if self.started {
            vec![Metric::count(SNAPSHOT_STARTED, 1)]
        } else {
            Vec::new()
        }
    }
}

impl Measured for VerifyResponse {
    fn metrics(&self) -> Vec<Metric> {
        if !self.done {
            // A poll of work still running: its outcome is measured once, when it is done.
            return Vec::new();
        }
        if self.drill.is_some() {
            return match self.state.as_str() {
                "NOT_DUE" => Vec::new(),
                _ if self.ok => vec![Metric::count(DRILL_PASSED, 1)],
                _ => vec![Metric::count(DRILL_FAILED, 1)],
            };
        }
        // `check: counts` (any verdict: MATCH, MATCH_WITHIN_INTERVAL, MATCH_LIVE_SOURCE,
        // MISMATCH, UNVERIFIED): good or not.
        if self.counts.is_some() {
            let name = if self.ok {
                RESTORE_SUCCEEDED
            } else {
                RESTORE_FAILED
            };
            return vec![Metric::count(name, 1)];
        }
        match self.state.as_str() {
            // `check: restore`: primaries the domain gave up recovering.
            operations::verify::RESTORE_FAILED => vec![Metric::count(RESTORE_FAILED, 1)],
            // `check: restore`.
            "DONE" => {
                let mut metrics = vec![Metric::count(RESTORE_RECOVERED, 1)];
                if let Some(millis) = self.duration_millis {
                    metrics.push(Metric::new(
                        RESTORE_DURATION,
                        Unit::Milliseconds,
                        millis as f64,
                    ));
                }
                metrics
            }
            // `check: snapshot`: a snapshot state.
            _ => {
                let mut metrics = vec![
                    Metric::count(
                        if self.ok {
                            SNAPSHOT_SUCCEEDED
                        } else {
                            SNAPSHOT_FAILED
                        },
                        1,
                    ),
                    Metric::count(SHARDS_FAILED, self.shards.failed),
                ];
                if let Some(millis) = self.duration_millis {
                    metrics.push(Metric::new(
                        SNAPSHOT_DURATION,
                        Unit::Milliseconds,
                        millis as f64,
                    ));
                }
                if let Some(bytes) = self.index_bytes {
                    metrics.push(Metric::new(SNAPSHOT_INDEX_BYTES, Unit::Bytes, bytes as f64));
                }
                if let (true, Some(age)) = (self.ok, self.age_seconds) {
                    metrics.push(Metric::new(SNAPSHOT_AGE, Unit::Seconds, age as f64));
                }
                metrics
            }
        }
    }

    /// A snapshot's verdict is stamped with the snapshot's time (now less its age), not the
    /// time it was judged: a snapshot verified again later still counts for the hour it was
    /// taken, so re-verifying an old snapshot never keeps the dead-man's switch quiet, and
    /// one older than CloudWatch takes (two weeks) is not written at all.
    fn measured_at(&self, now: SystemTime) -> SystemTime {
        let snapshot_check = self.counts.is_none() && self.drill.is_none() && self.state != "DONE";
        match (snapshot_check, self.age_seconds) {
            (true, Some(age)) => now
                .checked_sub(Duration::from_secs(age))
                .unwrap_or(SystemTime::UNIX_EPOCH),
            _ => now,
        }
    }

    /// With `raise_on_failure`, a bad verdict is an error: it is still a verdict.
    fn error_metrics(error: &OsnapError) -> Vec<Metric> {
        match error {
            OsnapError::SnapshotFailed { state, .. } if state == "DRILL_FAILED" => {
                vec![Metric::count(DRILL_FAILED, 1)]
            }
            OsnapError::SnapshotFailed { state, .. }
                if state == "MISMATCH"
                    || state == "UNVERIFIED"
                    || state == operations::verify::RESTORE_FAILED =>
            {
                vec![Metric::count(RESTORE_FAILED, 1)]
            }
            OsnapError::SnapshotFailed { .. } | OsnapError::SnapshotStale { .. } => {
                vec![Metric::count(SNAPSHOT_FAILED, 1)]
            }
            _ => Vec::new(),
        }
    }
}

impl Measured for RestoreResponse {
    fn metrics(&self) -> Vec<Metric> {
        if self.dry_run {
            return Vec::new();
        }
        vec![
            Metric::count(INDICES_RESTORED, self.restored.count as u64),
            Metric::count(INDICES_REPLACED, self.replaced.count as u64),
        ]
    }
}

impl Measured for PruneResponse {
    fn metrics(&self) -> Vec<Metric> {
        // A dry run changes nothing: counting its plan would double the real run's figures.
        if self.dry_run {
            return Vec::new();
        }
        vec![
            Metric::count(SNAPSHOTS_DELETED, self.deleted.count as u64),
            Metric::count(SNAPSHOTS_KEPT, self.kept.count as u64),
            Metric::count(SNAPSHOTS_PENDING, self.pending.count as u64),
        ]
    }
}

/// What labels an invocation's metrics: the domain and repository its event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    pub domain: String,
    pub repository: String,
}

impl Labels {
    /// The labels of `target`; `None` where its endpoint has no host to name.
    pub fn of(target: &Target) -> Option<Self> {
        Some(Self {
            domain: domain_host(&target.domain.endpoint)?,
            repository: target.repository.clone(),
        })
    }
}

/// The `Domain` dimension of an endpoint: its host in lower case, with the port where one is
/// given (`https://` is assumed where no scheme is, as the endpoint guard does). A host is
/// bounded where the whole endpoint is not, and the same for every event naming the domain.
pub fn domain_host(endpoint: &str) -> Option<String> {
    let trimmed = endpoint.trim();
    let url = if trimmed.contains("://") {
        url::Url::parse(trimmed)
    } else {
        url::Url::parse(&format!("https://{trimmed}"))
    }
    .ok()?;
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// The EMF line of `metrics` about `at` under `labels`, written `now`, or `None` where there
/// is nothing to write.
pub fn emf_line(
    labels: &Labels,
    metrics: &[Metric],
    request_id: &str,
    at: SystemTime,
    now: SystemTime,
) -> Option<Result<String, EmfError>> {
    if metrics.is_empty() {
        return None;
    }
    let dimensions = [
        (DOMAIN, labels.domain.clone()),
        (REPOSITORY, labels.repository.clone()),
    ];
    Some(
        Document {
            namespace: NAMESPACE,
            timestamp: at,
            now,
            dimensions: &dimensions,
            metrics,
            properties: &[("request_id", request_id.to_owned())],
        }
        .to_line(),
    )
}

#[cfg(test)]
mod tests {
    use operations::bounded::Bounded;
    use operations::requests::ShardCounts;

    use super::*;

    fn names(metrics: &[Metric]) -> Vec<&str> {
        metrics.iter().map(|m| m.name).collect()
    }

    fn verdict(state: &str, done: bool, ok: bool) -> VerifyResponse {
        VerifyResponse {
            repository: "nightly".into(),
            snapshot: "nightly-1".into(),
            state: state.into(),
            done,
            ok,
            indices: Bounded::default(),
            shards: ShardCounts {
                total: 3,
                successful: 2,
                failed: 1,
            },
            failures: Vec::new(),
            failure_count: 0,
            age_seconds: Some(3_600),
            duration_millis: Some(1_500),
            manifest: None,
            counts: None,
            drill: None,
            index_bytes: None,
        }
    }

    #[test]
    fn a_judged_drill_counts_as_passed_or_failed_and_a_run_not_due_as_nothing() {
        let drill = |state: &str, done: bool, ok: bool| {
            let mut v = verdict(state, done, ok);
            v.drill = Some(operations::requests::DrillReport {
                phase: operations::requests::DrillPhase::Done,
                domain: "d".into(),
                prefix: "osnap-drill-".into(),
                sample: Bounded::default(),
                passed: Bounded::default(),
                failed: Bounded::default(),
                deleted: Bounded::default(),
                kept: Bounded::default(),
                results: Vec::new(),
            });
            v.metrics()
                .iter()
                .map(|m| m.name.to_owned())
                .collect::<Vec<String>>()
        };
        assert_eq!(drill("DRILL_PASSED", true, true), [DRILL_PASSED]);
        assert_eq!(drill("DRILL_FAILED", true, false), [DRILL_FAILED]);
        assert!(drill("NOT_DUE", true, true).is_empty());
        assert!(drill("DRILL_RESTORING", false, false).is_empty());
    }

    #[test]
    fn only_a_good_finished_snapshot_counts_as_a_success() {
        let good = verdict("SUCCESS", true, true).metrics();
        assert_eq!(
            names(&good),
            [
                SNAPSHOT_SUCCEEDED,
                SHARDS_FAILED,
                SNAPSHOT_DURATION,
                SNAPSHOT_AGE
            ]
        );
        assert_eq!(good[2].unit, Unit::Milliseconds);
        assert_eq!((good[3].unit, good[3].value), (Unit::Seconds, 3_600.0));
        let partial = verdict("PARTIAL", true, false).metrics();
        assert_eq!(
            names(&partial),
            [SNAPSHOT_FAILED, SHARDS_FAILED, SNAPSHOT_DURATION]
        );
        assert_eq!(partial[1].value, 1.0);
        assert!(verdict("IN_PROGRESS", false, false).metrics().is_empty());
    }

    #[test]
    fn a_verdict_is_about_the_snapshot_time() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let good = verdict("SUCCESS", true, true);
        assert_eq!(good.measured_at(now), now - Duration::from_secs(3_600));
        let mut unknown_age = good.clone();
        unknown_age.age_seconds = None;
        assert_eq!(unknown_age.measured_at(now), now);
        // A recovery is about the time it was seen (a count check's too, tested below).
        assert_eq!(verdict("DONE", true, true).measured_at(now), now);
        let prune = PruneResponse {
            repository: "nightly".into(),
            dry_run: false,
            deleted: Bounded::default(),
            kept: Bounded::default(),
            pending: Bounded::default(),
            protected: Default::default(),
        };
        assert_eq!(prune.measured_at(now), now);
    }

    #[test]
    fn restore_checks_have_their_own_metrics() {
        // The helper's verdict carries a duration: the slowest shard's, for a restore.
        assert_eq!(
            names(&verdict("DONE", true, true).metrics()),
            [RESTORE_RECOVERED, RESTORE_DURATION]
        );
        let mut unknown = verdict("DONE", true, true);
        unknown.duration_millis = None;
        assert_eq!(names(&unknown.metrics()), [RESTORE_RECOVERED]);
        assert!(verdict("IN_PROGRESS", false, false).metrics().is_empty());
        // A count check's verdicts, whatever their state, are the restore's.
        let counted = |state: &str, ok: bool| VerifyResponse {
            counts: Some(operations::requests::CountsReport {
                basis: operations::requests::CountBasis::Manifest,
                no_manifest: None,
                exact: 1,
                within_interval: 0,
                mismatch: 0,
                unverified: 0,
                drift: Bounded::default(),
                deleted_on_source: Bounded::default(),
            }),
            age_seconds: None,
            ..verdict(state, true, ok)
        };
        for (state, ok, metric) in [
            ("MATCH", true, RESTORE_SUCCEEDED),
            ("MATCH_WITHIN_INTERVAL", true, RESTORE_SUCCEEDED),
            ("MATCH_LIVE_SOURCE", true, RESTORE_SUCCEEDED),
            ("MISMATCH", false, RESTORE_FAILED),
            ("UNVERIFIED", false, RESTORE_FAILED),
        ] {
            assert_eq!(names(&counted(state, ok).metrics()), [metric], "{state}");
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
            assert_eq!(counted(state, ok).measured_at(now), now, "{state}");
        }
    }

    #[test]
    fn a_raised_verdict_still_counts() {
        let failed = OsnapError::SnapshotFailed {
            snapshot: "s".into(),
            state: "PARTIAL".into(),
            detail: "d".into(),
        };
        assert_eq!(
            names(&VerifyResponse::error_metrics(&failed)),
            [SNAPSHOT_FAILED]
        );
        let stale = OsnapError::SnapshotStale {
            snapshot: "s".into(),
            age: "3d".into(),
            max_age: "1d".into(),
        };
        assert_eq!(
            names(&VerifyResponse::error_metrics(&stale)),
            [SNAPSHOT_FAILED]
        );
        let mismatch = OsnapError::SnapshotFailed {
            snapshot: "s".into(),
            state: "MISMATCH".into(),
            detail: "d".into(),
        };
        assert_eq!(
            names(&VerifyResponse::error_metrics(&mismatch)),
            [RESTORE_FAILED]
        );
        let unverified = OsnapError::SnapshotFailed {
            snapshot: "s".into(),
            state: "UNVERIFIED".into(),
            detail: "d".into(),
        };
        assert_eq!(
            names(&VerifyResponse::error_metrics(&unverified)),
            [RESTORE_FAILED]
        );
        let unrecovered = OsnapError::SnapshotFailed {
            snapshot: "s".into(),
            state: operations::verify::RESTORE_FAILED.into(),
            detail: "d".into(),
        };
        assert_eq!(
            names(&VerifyResponse::error_metrics(&unrecovered)),
            [RESTORE_FAILED]
        );
        let not_raised = VerifyResponse {
            state: operations::verify::RESTORE_FAILED.into(),
            done: true,
            ok: false,
            ..verdict("DONE", true, true)
        };
        assert_eq!(names(&not_raised.metrics()), [RESTORE_FAILED]);
        let unavailable = OsnapError::DomainUnavailable {
            message: "m".into(),
        };
        assert!(VerifyResponse::error_metrics(&unavailable).is_empty());
        // Another operation's SnapshotFailed (restore from a failed snapshot) is no verdict.
        assert!(RestoreResponse::error_metrics(&failed).is_empty());
    }

    #[test]
    fn dry_runs_are_not_counted() {
        let prune = |dry_run| PruneResponse {
            repository: "nightly".into(),
            dry_run,
            deleted: Bounded::from_slice(&["a", "b"]),
            kept: Bounded::from_slice(&["c"]),
            pending: Bounded::default(),
            protected: Default::default(),
        };
        assert!(prune(true).metrics().is_empty());
        let values: Vec<(&str, f64)> = prune(false)
            .metrics()
            .iter()
            .map(|m| (m.name, m.value))
            .collect();
        assert_eq!(
            values,
            [
                (SNAPSHOTS_DELETED, 2.0),
                (SNAPSHOTS_KEPT, 1.0),
                (SNAPSHOTS_PENDING, 0.0)
            ]
        );
    }

    #[test]
    fn the_domain_dimension_is_the_endpoint_host() {
        for (endpoint, host) in [
            (
                "https://search-logs-abc.eu-west-1.es.amazonaws.com",
                "search-logs-abc.eu-west-1.es.amazonaws.com",
            ),
            (
                "https://Search-Logs-ABC.eu-west-1.es.amazonaws.com/",
                "search-logs-abc.eu-west-1.es.amazonaws.com",
            ),
            ("search.example.com", "search.example.com"),
            ("https://search.example.com:443", "search.example.com"),
            ("http://127.0.0.1:9200", "127.0.0.1:9200"),
        ] {
            assert_eq!(domain_host(endpoint).as_deref(), Some(host), "{endpoint}");
        }
        assert_eq!(domain_host("https://"), None);
    }

    #[test]
    fn a_line_carries_both_dimensions() {
        let labels = Labels {
            domain: "search.example.com".into(),
            repository: "nightly".into(),
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert!(emf_line(&labels, &[], "r", now, now).is_none());
        let line = emf_line(
            &labels,
            &[Metric::count(SNAPSHOT_SUCCEEDED, 1)],
            "r-1",
            now - Duration::from_secs(60),
            now,
        )
        .unwrap()
        .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc[DOMAIN], "search.example.com");
        assert_eq!(doc[REPOSITORY], "nightly");
        assert_eq!(doc["request_id"], "r-1");
        assert_eq!(doc["_aws"]["Timestamp"], 1_794_999_940_000u64);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([[DOMAIN, REPOSITORY]])
        );
    }
}
