//! Shard recoveries over time: a restored index's primaries go INIT → INDEX → VERIFY_INDEX →
//! TRANSLOG → FINALIZE → DONE from the snapshot, then its replicas copy them from their
//! primaries; the index is red until its primaries are done, yellow until its replicas are.
//! Everything is a function of the elapsed time, so there is no task to run or stop.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use crate::domain::state::cluster::Node;
use crate::domain::wire::time::millis;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RecoverySource {
    EmptyStore,
    Snapshot {
        repository: String,
        snapshot: String,
        version: String,
        index: String,
        restore_uuid: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Recovery {
    pub source: RecoverySource,
    pub started: SystemTime,
    pub started_at: Instant,
    /// Zero for indices created empty: they are done at once.
    pub duration: Duration,
    /// Primary bytes and files to copy.
    pub total_bytes: u64,
    pub total_files: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    Init,
    Index,
    VerifyIndex,
    Translog,
    Finalize,
    Done,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Self::Init => "INIT",
            Self::Index => "INDEX",
            Self::VerifyIndex => "VERIFY_INDEX",
            Self::Translog => "TRANSLOG",
            Self::Finalize => "FINALIZE",
            Self::Done => "DONE",
        }
    }

    /// The stage at `fraction` of a recovery, and how much of the files are copied.
    fn at(fraction: f64) -> (Self, f64) {
        match fraction {
            f if f < 0.1 => (Self::Init, 0.0),
            f if f < 0.55 => (Self::Index, (f - 0.1) / 0.45),
            f if f < 0.65 => (Self::VerifyIndex, 1.0),
            f if f < 0.75 => (Self::Translog, 1.0),
            f if f < 1.0 => (Self::Finalize, 1.0),
            _ => (Self::Done, 1.0),
        }
    }
}

/// Where a shard copy is in its recovery.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Progress {
    pub stage: Stage,
    pub copied: f64,
    pub elapsed: Duration,
    pub window: Duration,
}

impl Recovery {
    pub fn empty(now: SystemTime) -> Self {
        Self {
            source: RecoverySource::EmptyStore,
            started: now,
            started_at: Instant::now(),
            duration: Duration::ZERO,
            total_bytes: 0,
            total_files: 0,
        }
    }

    /// The part of the recovery the primaries take (all of it without replicas).
    fn primary_window(&self, replicas: u32) -> Duration {
        if replicas == 0 {
            self.duration
        } else {
            self.duration.mul_f64(0.8)
        }
    }

    fn progress(elapsed: Duration, window: Duration) -> Progress {
        let fraction = if window.is_zero() {
            1.0
        } else {
            elapsed.as_secs_f64() / window.as_secs_f64()
        };
        let (stage, copied) = Stage::at(fraction);
        Progress {
            stage,
            copied,
            elapsed: elapsed.min(window),
            window,
        }
    }

    pub fn primary(&self, now: Instant, replicas: u32) -> Progress {
        let elapsed = now.saturating_duration_since(self.started_at);
        Self::progress(elapsed, self.primary_window(replicas))
    }

    /// `None` while the replicas wait for their primaries.
    pub fn replica(&self, now: Instant, replicas: u32) -> Option<Progress> {
        let elapsed = now.saturating_duration_since(self.started_at);
        let start = self.primary_window(replicas);
        if elapsed < start && !self.duration.is_zero() {
            return None;
        }
        Some(Self::progress(
            elapsed.saturating_sub(start),
            self.duration.saturating_sub(start),
        ))
    }

    pub fn primaries_done(&self, now: Instant, replicas: u32) -> bool {
        self.primary(now, replicas).stage == Stage::Done
    }

    pub fn replicas_done(&self, now: Instant, replicas: u32) -> bool {
        replicas == 0
            || self
                .replica(now, replicas)
                .is_some_and(|p| p.stage == Stage::Done)
    }

    pub fn is_snapshot(&self) -> bool {
        matches!(self.source, RecoverySource::Snapshot { .. })
    }
}

fn percent(part: u64, total: u64) -> String {
    if total == 0 {
        return "0.0%".into();
    }
    let value = (part as f64) * 100.0 / (total as f64);
    format!("{value:.1}%")
}

fn node_json(node: &Node) -> Value {
    json!({
        "id": node.id, "host": node.ip, "transport_address": format!("{}:9300", node.ip),
        "ip": node.ip, "name": node.name
    })
}

/// One shard copy's entry in `GET _recovery`.
pub(crate) struct ShardView<'a> {
    pub shard: u32,
    pub primary: bool,
    pub progress: Progress,
    pub recovery: &'a Recovery,
    pub target: &'a Node,
    pub source_node: Option<&'a Node>,
    pub bytes: u64,
    pub files: u64,
}

impl ShardView<'_> {
    pub fn to_json(&self) -> Value {
        let p = self.progress;
        let kind = if !self.primary {
            "PEER"
        } else if self.recovery.is_snapshot() {
            "SNAPSHOT"
        } else {
            "EMPTY_STORE"
        };
        let source = match (&self.recovery.source, self.source_node) {
            (_, Some(node)) => node_json(node),
            (
                RecoverySource::Snapshot {
                    repository,
                    snapshot,
                    version,
                    index,
                    restore_uuid,
                },
                None,
            ) => json!({
                "repository": repository, "snapshot": snapshot, "version": version,
                "index": index, "restoreUUID": restore_uuid
            }),
            (RecoverySource::EmptyStore, None) => json!({}),
        };
        let started = millis(self.recovery.started)
            + if self.primary {
                0
            } else {
                u64::try_from(self.recovery.primary_window(1).as_millis()).unwrap_or(0)
            };
        let elapsed = u64::try_from(p.elapsed.as_millis()).unwrap_or(u64::MAX);
        let recovered_bytes = (self.bytes as f64 * p.copied) as u64;
        let recovered_files = (self.files as f64 * p.copied) as u64;
        let mut entry = json!({
            "id": self.shard,
            "type": kind,
            "stage": p.stage.as_str(),
            "primary": self.primary,
            "start_time_in_millis": started,
            "total_time_in_millis": elapsed,
            "source": source,
            "target": node_json(self.target),
            "index": {
                "size": {
                    "total_in_bytes": self.bytes, "reused_in_bytes": 0,
                    "recovered_in_bytes": recovered_bytes,
                    "percent": percent(recovered_bytes, self.bytes)
                },
                "files": {
                    "total": self.files, "reused": 0, "recovered": recovered_files,
                    "percent": percent(recovered_files, self.files)
                },
                "total_time_in_millis": elapsed,
                "source_throttle_time_in_millis": 0,
                "target_throttle_time_in_millis": 0
            },
            "translog": {
                "recovered": 0, "total": 0, "percent": "100.0%", "total_on_start": 0,
                "total_time_in_millis": 0
            },
            "verify_index": {"check_index_time_in_millis": 0, "total_time_in_millis": 0}
        });
        if p.stage == Stage::Done
            && let Value::Object(map) = &mut entry
        {
            map.insert("stop_time_in_millis".into(), json!(started + elapsed));
        }
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restore(duration_ms: u64) -> Recovery {
        Recovery {
            source: RecoverySource::Snapshot {
                repository: "r".into(),
                snapshot: "s".into(),
                version: "2.13.0".into(),
                index: "logs".into(),
                restore_uuid: "u".into(),
            },
            started: SystemTime::now(),
            started_at: Instant::now(),
            duration: Duration::from_millis(duration_ms),
            total_bytes: 1000,
            total_files: 4,
        }
    }

    #[test]
    fn stages_advance_in_order_then_replicas_follow() {
        let recovery = restore(1000);
        let at = |ms| recovery.started_at + Duration::from_millis(ms);
        let stages: Vec<Stage> = [0, 100, 500, 700, 800, 900]
            .iter()
            .map(|ms| recovery.primary(at(*ms), 1).stage)
            .collect();
        assert_eq!(
            stages,
            [
                Stage::Init,
                Stage::Index,
                Stage::VerifyIndex,
                Stage::Finalize,
                Stage::Done,
                Stage::Done
            ]
        );
        assert!(recovery.replica(at(500), 1).is_none());
        assert!(!recovery.replicas_done(at(900), 1));
        assert!(recovery.replicas_done(at(1000), 1));
        assert!(recovery.primaries_done(at(1000), 0));
        assert!(!recovery.primaries_done(at(900), 0));
    }

    #[test]
    fn empty_indices_are_done_at_once() {
        let recovery = Recovery::empty(SystemTime::now());
        assert!(recovery.primaries_done(Instant::now(), 1));
        assert!(recovery.replicas_done(Instant::now(), 1));
    }
}
