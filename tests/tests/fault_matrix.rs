//! The fault matrix: every operation the functions run, against the stand-in, under every
//! fault the domain and the gateway produce, across seeds, with the invariants checked after
//! each case once the workflow's retry (the same request, the fault gone) has run:
//! - no index lost or left short of documents;
//! - no snapshot lost that retention keeps, and a prune deletes exactly what it should;
//! - a snapshot is taken once, a restore restores once;
//! - every failure is a documented `errorType`, and only a transient one is retried;
//! - no credential, token or signature in any log line the operations write, in any answer or
//!   in any error message (`e2e::hygiene`).
//!
//! A snapshot and a restore are followed by the workflow's verify, as the workflows do, and a
//! failure that is not transient must be one the workflow notifies. S3's faults hit every
//! client of the bucket, the engine's (which retries as `repository-s3` does) and osnap's.
//!
//! It prints the matrix (operation × fault: outcomes) and its totals. `OSNAP_FAULT_SEEDS`
//! runs more seeds (two by default, which fits `./dev test`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use common::{World, domain_json, operator_call, operator_send, put_doc};
use http::Method;
use operations::OsnapError;
use serde_json::{Value, json};
use standin::{Fault, FaultRule, S3Fault, S3FaultRule, S3Requests};

/// The live indices every case starts from, with their documents.
const DOCS: [(&str, usize); 2] = [("logs-1", 3), ("orders", 2)];

/// The snapshot the snapshot operation takes.
const NEW_SNAPSHOT: &str = "nightly-2026.11.25-030000";

/// The snapshots a case starts from, oldest first.
const SEEDED: [&str; 5] = [
    "nightly-2026.11.20-030000",
    "nightly-2026.11.21-030000",
    "nightly-2026.11.22-030000",
    "nightly-2026.11.23-030000",
    "nightly-2026.11.24-030000",
];

#[derive(Debug, Clone, Copy)]
enum Injected {
    /// One of the domain's injected faults, on a share of the operation's requests.
    Domain(Fault),
    /// Another snapshot runs (and does not finish) while the operation runs.
    SnapshotRunning,
    /// Each request takes 150 ms and the invocation has 400 ms: Lambda's timeout mid-step.
    DeadlinePassed,
    /// The operation's own act (the create, the restore, prune's first delete, verify's first
    /// read of the snapshot) is done at once but answered only after the attempt waiting for
    /// it has given up: the answer is lost, the work is not.
    AnswerPastAttempt,
    /// S3 answers each object's first request with 503 `SlowDown`.
    S3SlowDownOnce,
    /// S3 answers every request with 500 `InternalError` (its clients' retries fail too).
    S3Down,
    /// S3 fails once the engine has begun: every upload of index data, and every read of it
    /// after the first (a restore's metadata read passes, its recoveries' reads fail).
    S3FailsMidWork,
}

const FAULTS: [(&str, Injected); 12] = [
    ("504 after", Injected::Domain(Fault::GatewayTimeout)),
    ("504 before", Injected::Domain(Fault::GatewayTimeoutQueued)),
    ("429", Injected::Domain(Fault::TooManyRequests)),
    ("403 throttled", Injected::Domain(Fault::Throttled)),
    ("dropped", Injected::Domain(Fault::DropConnection)),
    ("dropped after", Injected::Domain(Fault::DropAfterActing)),
    ("snapshot running", Injected::SnapshotRunning),
    ("deadline", Injected::DeadlinePassed),
    ("answer past attempt", Injected::AnswerPastAttempt),
    ("S3 503 once", Injected::S3SlowDownOnce),
    ("S3 down", Injected::S3Down),
    ("S3 fails mid-work", Injected::S3FailsMidWork),
];

/// The invocation's time in the `AnswerPastAttempt` cases. With it, an attempt at a request
/// that is not idempotent waits at most 3 s (`signing::deadline::LOOKUP_RESERVE` is kept for
/// the lookup), an idempotent one at most 11 s (`REPORT_RESERVE` is kept).
const PAST_ATTEMPT_BUDGET: Duration = Duration::from_secs(13);

/// The act `AnswerPastAttempt` slows, and an answer a second later than its attempt can wait
/// (4 s for the create and the restore, 12 s for the delete and the read).
fn act_answered_past_its_attempt(operation: Operation) -> FaultRule {
    use signing::deadline::{LOOKUP_RESERVE, REPORT_RESERVE};
    let (method, reserve) = match operation {
        Operation::Snapshot => (Method::PUT, LOOKUP_RESERVE),
        Operation::RestoreRename | Operation::RestoreReplace => (Method::POST, LOOKUP_RESERVE),
        Operation::Prune => (Method::DELETE, REPORT_RESERVE),
        Operation::Verify => (Method::GET, REPORT_RESERVE),
    };
    let attempt = PAST_ATTEMPT_BUDGET - reserve;
    FaultRule::new(Fault::SlowAnswer(attempt + Duration::from_secs(1)))
        .on(method, "/_snapshot/nightly/nightly-")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Operation {
    Snapshot,
    Verify,
    RestoreRename,
    RestoreReplace,
    Prune,
}

const OPERATIONS: [Operation; 5] = [
    Operation::Snapshot,
    Operation::Verify,
    Operation::RestoreRename,
    Operation::RestoreReplace,
    Operation::Prune,
];

/// A world for one case: S3, a domain whose random faults follow `seed`, the live indices,
/// repository `nightly` and the seeded snapshots.
async fn world(case: &str, seed: u64) -> World {
    let world = common::world_with(&format!("matrix-{case}"), |config| {
        config.seed = seed;
        config.snapshot_duration = Duration::from_millis(20);
        config.recovery_duration = Duration::from_millis(20);
    })
    .await;
    for (index, docs) in DOCS {
        for id in 0..docs {
            put_doc(&world, index, &id.to_string()).await;
        }
    }
    world.s3.faults().reseed(seed);
    let registered = operations::register::handle(
        common::context_in(&world, None),
        json!({"domain": domain_json(&world), "repository": "nightly",
            "settings": {"bucket": "snapshots", "region": "us-east-1", "base_path": case,
                "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE}}),
    )
    .await;
    registered.unwrap();
    for name in SEEDED {
        let (status, body) = operator_send(
            &world,
            Method::PUT,
            &["_snapshot", "nightly", name],
            &[("wait_for_completion", "true")],
            Some(json!({"indices": "logs-1,orders"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    world
}

fn event(world: &World, extra: &Value) -> Value {
    common::event_in(world, "nightly", extra)
}

/// The request of `operation`, the same on the first try and on the workflow's retry.
fn request(operation: Operation) -> Value {
    match operation {
        Operation::Snapshot => json!({"snapshot": NEW_SNAPSHOT}),
        Operation::Verify => json!({"snapshot": SEEDED[4]}),
        Operation::RestoreRename => {
            json!({"snapshot": SEEDED[4], "indices": ["logs-1", "orders"], "on_conflict": "rename"})
        }
        Operation::RestoreReplace => {
            json!({"snapshot": SEEDED[4], "indices": ["logs-1", "orders"], "on_conflict": "replace"})
        }
        Operation::Prune => json!({"keep_last": 2}),
    }
}

/// An operation's answer as JSON.
macro_rules! json_of {
    ($answer:expr) => {
        $answer.map(|a| serde_json::to_value(a).unwrap())
    };
}

/// Runs `operation` once; `Ok` carries its answer as JSON.
async fn run(
    world: &World,
    operation: Operation,
    deadline: Option<SystemTime>,
) -> Result<Value, OsnapError> {
    let ctx = common::context_in(world, deadline);
    let event = event(world, &request(operation));
    match operation {
        Operation::Snapshot => json_of!(operations::snapshot::handle(ctx, event).await),
        Operation::Verify => json_of!(operations::verify::handle(ctx, event).await),
        Operation::RestoreRename | Operation::RestoreReplace => {
            json_of!(operations::restore::handle(ctx, event).await)
        }
        Operation::Prune => json_of!(operations::prune::handle(ctx, event).await),
    }
}

/// The domain's snapshots in `nightly`, with their states.
async fn snapshots(world: &World) -> BTreeMap<String, String> {
    let (status, listing) = operator_call(
        world,
        Method::GET,
        &["_snapshot", "nightly", "_all"],
        &[("verbose", "false")],
    )
    .await;
    assert_eq!(status, 200, "{listing}");
    listing["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["snapshot"].as_str().unwrap().to_owned(),
                s["state"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

/// Waits for the snapshots in `nightly` to be done.
async fn settled(world: &World) {
    for _ in 0..200 {
        if snapshots(world).await.values().all(|s| s != "IN_PROGRESS") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("snapshots never finished: {:?}", snapshots(world).await);
}

/// The invariants once the retry has run; each broken one is returned, said plainly. With
/// `notified`, the operation's own snapshot failed and the workflow said so: it is kept, as
/// the domain has it, and need not have succeeded.
async fn violations(
    world: &World,
    operation: Operation,
    answers: &[Value],
    notified: bool,
) -> Vec<String> {
    let mut broken = Vec::new();
    for (index, docs) in DOCS {
        if world.domain.doc_count(index) != Some(docs) {
            broken.push(format!(
                "{index} holds {:?} documents, not {docs}",
                world.domain.doc_count(index)
            ));
        }
    }
    let found = snapshots(world).await;
    let expected: Vec<&str> = match operation {
        Operation::Snapshot => SEEDED.iter().copied().chain([NEW_SNAPSHOT]).collect(),
        Operation::Prune => SEEDED[3..].to_vec(),
        _ => SEEDED.to_vec(),
    };
    let names: Vec<&str> = found
        .keys()
        .map(String::as_str)
        .filter(|n| n.starts_with("nightly-"))
        .collect();
    if names != expected {
        broken.push(format!("snapshots {names:?}, not {expected:?}"));
    }
    let excused = |name: &str| notified && name == NEW_SNAPSHOT;
    if found
        .iter()
        .any(|(name, s)| s != "SUCCESS" && !excused(name))
    {
        broken.push(format!("a snapshot did not succeed: {found:?}"));
    }
    if operation == Operation::RestoreRename {
        for (index, docs) in DOCS {
            let copy = format!("restored-{index}");
            if world.domain.doc_count(&copy) != Some(docs) {
                broken.push(format!(
                    "{copy} holds {:?} documents, not {docs}",
                    world.domain.doc_count(&copy)
                ));
            }
        }
        let copies = world
            .domain
            .index_names()
            .into_iter()
            .filter(|n| n.starts_with("restored-"))
            .count();
        if copies != DOCS.len() {
            broken.push(format!("{copies} restored copies, not {}", DOCS.len()));
        }
    }
    // The last answer (after the retry, if any) is the operation's outcome.
    if let Some(last) = answers.last()
        && operation == Operation::Verify
        && last["ok"] != true
    {
        broken.push(format!("verify judged a good snapshot not ok: {last}"));
    }
    broken
}

/// Waits for any restored copies to recover, so the counts are the copies' own.
async fn restored_recovered(world: &World, operation: Operation) {
    let names: Vec<String> = match operation {
        Operation::RestoreRename => DOCS.iter().map(|(i, _)| format!("restored-{i}")).collect(),
        Operation::RestoreReplace => DOCS.iter().map(|(i, _)| (*i).to_owned()).collect(),
        _ => return,
    };
    common::recovered(world, &names).await;
}

/// The verify a workflow runs after a snapshot or a restore (the backup workflow's
/// VerifySnapshot, the migrate workflow's VerifyRestore): polled until done, a bad verdict
/// raised as the workflows raise it. Other operations are not followed by one.
async fn workflow_verify(world: &World, operation: Operation) -> Result<(), OsnapError> {
    let check = match operation {
        Operation::Snapshot => json!({"snapshot": NEW_SNAPSHOT, "raise_on_failure": true}),
        Operation::RestoreRename | Operation::RestoreReplace => {
            json!({"check": "restore", "restore_of": request(operation), "raise_on_failure": true})
        }
        Operation::Verify | Operation::Prune => return Ok(()),
    };
    for _ in 0..500 {
        let verdict =
            operations::verify::handle(common::context_in(world, None), event(world, &check))
                .await?;
        if verdict.done {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{operation:?}: the workflow's verify never ended");
}

/// Every log line the operations write while the matrix runs, for the hygiene check.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

struct Case {
    outcome: String,
    /// Every answer and error message, for the hygiene check.
    said: String,
    injected: u64,
    broken: Vec<String>,
}

async fn case(operation: Operation, fault: Injected, seed: u64, label: &str) -> Case {
    let name = format!("{operation:?}-{label}-{seed}")
        .to_lowercase()
        .replace(' ', "-");
    let world = world(&name, seed).await;
    let faults = world.domain.faults();
    let mut deadline = None;
    match fault {
        Injected::Domain(fault) => {
            faults.push(FaultRule::new(fault).always().with_probability(0.35))
        }
        Injected::SnapshotRunning => {
            faults.set_stuck_snapshots(true);
            let (status, body) = operator_send(
                &world,
                Method::PUT,
                &["_snapshot", "nightly", "manual-running"],
                &[],
                Some(json!({"indices": "orders"})),
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
        Injected::DeadlinePassed => {
            faults.set_latency(Duration::from_millis(150));
            deadline = Some(SystemTime::now() + Duration::from_millis(400));
        }
        Injected::AnswerPastAttempt => {
            faults.push(act_answered_past_its_attempt(operation));
            deadline = Some(SystemTime::now() + PAST_ATTEMPT_BUDGET);
        }
        Injected::S3SlowDownOnce => world
            .s3
            .faults()
            .push(S3FaultRule::new(S3Fault::SlowDown).first_per_path(1)),
        Injected::S3Down => world
            .s3
            .faults()
            .push(S3FaultRule::new(S3Fault::InternalError)),
        Injected::S3FailsMidWork => {
            let s3 = world.s3.faults();
            s3.push(
                S3FaultRule::new(S3Fault::InternalError)
                    .on(S3Requests::Writes)
                    .where_path_contains("/indices/"),
            );
            s3.push(
                S3FaultRule::new(S3Fault::InternalError)
                    .on(S3Requests::Reads)
                    .where_path_contains("/indices/")
                    .after_per_path(1),
            );
        }
    }
    let first = run(&world, operation, deadline).await;
    // What S3 does to a snapshot or a restore shows once the domain has done its part.
    let s3_mid_work = matches!(fault, Injected::S3FailsMidWork);
    let verified_under_fault = if s3_mid_work && first.is_ok() {
        settled(&world).await;
        Some(workflow_verify(&world, operation).await)
    } else {
        None
    };
    let injected = faults.injected() + world.s3.faults().injected();
    // The fault passes; the workflow retries what is transient, with the same request.
    faults.clear();
    faults.set_latency(Duration::ZERO);
    world.s3.faults().clear();
    if matches!(fault, Injected::SnapshotRunning) {
        faults.set_stuck_snapshots(false);
        settled(&world).await;
        let (status, _) = operator_send(
            &world,
            Method::DELETE,
            &["_snapshot", "nightly", "manual-running"],
            &[],
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
    let mut broken = Vec::new();
    let mut answers = Vec::new();
    let mut errors: Vec<String> = first
        .as_ref()
        .err()
        .map(ToString::to_string)
        .into_iter()
        .collect();
    let outcome = match first {
        Ok(answer) => {
            answers.push(answer);
            "ok".to_owned()
        }
        Err(error) => {
            let kind = error.error_type();
            if !OsnapError::ERROR_TYPES.contains(&kind) {
                broken.push(format!("undocumented errorType {kind}"));
            }
            if error.is_transient() {
                match run(&world, operation, None).await {
                    Ok(answer) => answers.push(answer),
                    Err(again) => broken.push(format!("the retry failed too: {again}")),
                }
                format!("{kind}→ok")
            } else {
                broken.push(format!("a fault the retry cannot fix: {error}"));
                kind.to_owned()
            }
        }
    };
    settled(&world).await;
    // A prune the deadline cut short leaves the rest pending for its next run: run it.
    if operation == Operation::Prune
        && answers
            .last()
            .is_some_and(|a| a["pending"]["count"].as_u64().unwrap_or(0) > 0)
        && let Ok(answer) = run(&world, operation, None).await
    {
        answers.push(answer);
    }
    let verified = match verified_under_fault {
        Some(verdict) => verdict,
        None if broken.is_empty() => workflow_verify(&world, operation).await,
        None => Ok(()),
    };
    let mut outcome = outcome;
    let mut notified = false;
    if let Err(error) = verified {
        errors.push(error.to_string());
        let kind = error.error_type();
        if !OsnapError::ERROR_TYPES.contains(&kind) || error.is_transient() {
            broken.push(format!("the workflow's verify failed with {kind}: {error}"));
        } else if !s3_mid_work {
            broken.push(format!("the workflow's verify failed: {error}"));
        } else {
            notified = true;
            outcome = format!("{outcome}, {kind} notified");
        }
    }
    // A notified restore is run again by its operator once S3 is well. A renamed restore's
    // red copies cannot be told apart from indices osnap must not overwrite, so the re-run is
    // refused until the operator deletes them, as the notification and the refusal say.
    if notified && operation != Operation::Snapshot {
        let mut rerun = run(&world, operation, None).await;
        if let Err(error) = &rerun {
            errors.push(error.to_string());
        }
        if operation == Operation::RestoreRename
            && let Err(OsnapError::UnsafeOperation { reason }) = &rerun
            && reason.contains("red")
        {
            for (index, _) in DOCS {
                let copy = format!("restored-{index}");
                let (status, body) =
                    operator_send(&world, Method::DELETE, &[copy.as_str()], &[], None).await;
                assert_eq!(status, 200, "{body}");
            }
            outcome = format!("{outcome}, re-run UnsafeOperation, red copies deleted");
            rerun = run(&world, operation, None).await;
        }
        match rerun {
            Ok(answer) => {
                answers.push(answer);
                match workflow_verify(&world, operation).await {
                    Ok(()) => outcome = format!("{outcome}, re-run ok"),
                    Err(error) => broken.push(format!("the re-run's verify failed: {error}")),
                }
            }
            Err(error) => broken.push(format!("the re-run failed: {error}")),
        }
        notified = false;
    }
    if broken.is_empty() {
        restored_recovered(&world, operation).await;
    }
    broken.extend(violations(&world, operation, &answers, notified).await);
    world.domain.shutdown().await;
    world.s3.shutdown().await;
    let mut said: Vec<String> = answers.iter().map(Value::to_string).collect();
    said.extend(broken.iter().cloned());
    said.extend(errors);
    Case {
        outcome,
        said: said.join("\n"),
        injected,
        broken,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_under_every_fault_keeps_every_index_and_every_kept_snapshot() {
    // osnap's crates only: the stand-in runs in this process too, and its own S3 client logs
    // the requests it signs at debug level, as the AWS SDK does.
    let logs = Captured::default();
    let osnap = tracing_subscriber::filter::Targets::new()
        .with_target("operations", tracing::Level::DEBUG)
        .with_target("signing", tracing::Level::DEBUG)
        .with_target("snapshot_api", tracing::Level::DEBUG)
        .with_target("policy", tracing::Level::DEBUG);
    {
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(logs.clone())
                    .with_ansi(false),
            )
            .with(osnap)
            .init();
    }
    let mut said = String::new();
    let seeds: u64 = std::env::var("OSNAP_FAULT_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let mut matrix: BTreeMap<(Operation, &str), Vec<String>> = BTreeMap::new();
    let (mut cases, mut injected) = (0u64, 0u64);
    let mut broken = Vec::new();
    for (label, fault) in FAULTS {
        // The cases that wait out an attempt run side by side: they wait, they do not work.
        let side_by_side = matches!(fault, Injected::AnswerPastAttempt);
        let mut running = tokio::task::JoinSet::new();
        let mut results = Vec::new();
        for operation in OPERATIONS {
            for seed in 1..=seeds {
                if side_by_side {
                    running.spawn(async move {
                        (operation, seed, case(operation, fault, seed, label).await)
                    });
                } else {
                    results.push((operation, seed, case(operation, fault, seed, label).await));
                }
            }
        }
        results.extend(running.join_all().await);
        for (operation, seed, result) in results {
            cases += 1;
            injected += result.injected;
            said.push_str(&result.said);
            said.push('\n');
            for violation in result.broken {
                broken.push(format!(
                    "{operation:?} × {label} (seed {seed}): {violation}"
                ));
            }
            matrix
                .entry((operation, label))
                .or_default()
                .push(result.outcome);
        }
    }
    let mut table = format!("{:<16}", "operation");
    for (label, _) in FAULTS {
        table.push_str(&format!(" | {label:<26}"));
    }
    for operation in OPERATIONS {
        table.push_str(&format!("\n{:<16}", format!("{operation:?}")));
        for (label, _) in FAULTS {
            let mut outcomes = matrix[&(operation, label)].clone();
            outcomes.sort();
            outcomes.dedup();
            table.push_str(&format!(" | {:<26}", outcomes.join(", ")));
        }
    }
    println!("{table}");
    println!(
        "fault matrix: {cases} cases ({} operations × {} faults × {seeds} seeds), {injected} faults injected, {} invariant violations",
        OPERATIONS.len(),
        FAULTS.len(),
        broken.len()
    );
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    assert!(injected > 0, "no fault was injected");
    // The keys the operations signed with (the S3 server's, the functions' in the tests).
    let secrets = vec!["standin-secret".to_owned()];
    let logged = logs.text();
    assert!(
        logged.lines().count() > 100,
        "the operations' logs were captured: {} lines",
        logged.lines().count()
    );
    e2e::hygiene::assert_clean("the fault matrix's logs", &logged, &secrets);
    e2e::hygiene::assert_clean("the fault matrix's answers and errors", &said, &secrets);
    println!(
        "log hygiene: {} log lines and {} bytes of answers and errors, no secret",
        logged.lines().count(),
        said.len()
    );
}
