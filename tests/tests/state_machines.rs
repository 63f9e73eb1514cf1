//! The two Step Functions workflows (`infra/statemachines/`) executed end to end: each
//! definition runs in aws-local-stepfunctions on the pinned Node 22
//! (`tests/stepfunctions/run-execution.mjs`), every Lambda task goes to the built function
//! behind `cargo lambda watch`, and the functions work on the stand-in's domains and S3. The
//! inputs are the samples `events/workflow-*.json` with only the endpoints and the timing
//! replaced. Each test checks the execution's result and the domains' real state after it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use e2e::LambdaFunction;
use http::Method;
use policy::naming::NameTemplate;
use serde_json::{Value, json};
use standin::s3::S3Server;
use standin::{Domain, DomainConfig, Fault, FaultRule};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

const DAY: Duration = Duration::from_secs(86_400);

/// S3 and the named domains, all writing to the same S3; removed when dropped.
struct Standin {
    root: PathBuf,
    s3: Option<S3Server>,
    domains: Vec<Domain>,
}

impl Standin {
    async fn start(test: &str, buckets: &[&str], domains: &[&str]) -> Self {
        let root = std::env::temp_dir().join(format!("osnap-sfn-{test}-{}", std::process::id()));
        let s3 = S3Server::start(&root, "AKIDSTANDIN", "standin-secret")
            .await
            .unwrap();
        for bucket in buckets {
            s3.create_bucket(bucket).await.unwrap();
        }
        let mut started = Vec::new();
        for name in domains {
            let mut config = DomainConfig::new(*name, s3.endpoint(), s3.credentials());
            config.snapshot_duration = Duration::from_millis(100);
            config.recovery_duration = Duration::from_millis(100);
            started.push(Domain::start(config).await.unwrap());
        }
        Self {
            root,
            s3: Some(s3),
            domains: started,
        }
    }

    /// Where the functions reach the stand-in's S3 (the manifests' bucket).
    fn s3_endpoint(&self) -> String {
        self.s3.as_ref().map(S3Server::endpoint).unwrap_or_default()
    }

    async fn shutdown(mut self) {
        for domain in std::mem::take(&mut self.domains) {
            domain.shutdown().await;
        }
        if let Some(s3) = self.s3.take() {
            s3.shutdown().await;
        }
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A domain as the functions' events name it.
fn domain_input(domain: &Domain) -> Value {
    json!({"endpoint": domain.endpoint(), "region": "us-east-1"})
}

/// A signed operator request to `domain`; the answer's JSON body (it must be a success).
async fn call(
    domain: &Domain,
    method: Method,
    path: &[&str],
    query: &[(&str, &str)],
    body: Option<Value>,
) -> Value {
    let (status, answer) = common::domain_call(domain, method, path, query, body).await;
    assert!((200..300).contains(&status), "{path:?}: {status} {answer}");
    answer
}

async fn put_docs(domain: &Domain, index: &str, count: usize) {
    for id in 0..count {
        let doc = json!({"index": index, "n": id});
        call(
            domain,
            Method::PUT,
            &[index, "_doc", &id.to_string()],
            &[("refresh", "true")],
            Some(doc),
        )
        .await;
    }
}

/// Registers repository `nightly` in bucket `snapshots` as an operator would.
async fn register_nightly(domain: &Domain) {
    let settings = json!({"bucket": "snapshots", "region": "us-east-1", "base_path": domain.name(), "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE});
    call(
        domain,
        Method::PUT,
        &["_snapshot", "nightly"],
        &[],
        Some(json!({"type": "s3", "settings": settings})),
    )
    .await;
}

/// Takes a finished snapshot of `logs` named as the nightly schedule would have `age` ago.
async fn seed_nightly(domain: &Domain, age: Duration) -> String {
    let template = NameTemplate::parse("nightly-{now:%Y.%m.%d-%H%M%S}").unwrap();
    let name = template.expand(SystemTime::now() - age).unwrap();
    let body = json!({"indices": "logs", "include_global_state": false});
    call(
        domain,
        Method::PUT,
        &["_snapshot", "nightly", &name],
        &[("wait_for_completion", "true")],
        Some(body),
    )
    .await;
    name
}

/// The snapshots in `repository`: name → state.
async fn snapshots(domain: &Domain, repository: &str) -> Vec<(String, String)> {
    let listing = call(
        domain,
        Method::GET,
        &["_snapshot", repository, "_all"],
        &[],
        None,
    )
    .await;
    let mut found: Vec<(String, String)> = listing["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["snapshot"].as_str().unwrap().to_owned(),
                s["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

/// A sample execution input from `events/`.
fn sample(file: &str) -> Value {
    let path = e2e::workspace_root().join("events").join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The backup sample pointed at `domain`, polling quickly.
fn backup_input(domain: &Domain) -> Value {
    let mut input = sample("workflow-backup.json");
    let domains = input["domains"].as_array_mut().unwrap();
    assert_eq!(domains.len(), 1, "the sample backs up one domain");
    domains[0]["domain"] = domain_input(domain);
    input["max_polls"] = json!(100);
    input
}

/// The migration sample from `source` to `target`, polling quickly.
fn migrate_input(source: &Domain, target: &Domain) -> Value {
    let mut input = sample("workflow-migrate.json");
    input["source"]["domain"] = domain_input(source);
    input["target"]["domain"] = domain_input(target);
    input["max_polls"] = json!(100);
    input
}

/// Numbers the function logs of this test process.
static LOGS: AtomicUsize = AtomicUsize::new(0);

/// The functions a workflow invokes, each under its definition's placeholder, with their
/// logs (shown when an execution does not end).
struct Functions(Vec<(&'static str, LambdaFunction, PathBuf)>);

impl Functions {
    /// Starts them all at once, reaching the stand-in's S3 at `s3`.
    async fn start(names: &[(&'static str, &'static str)], s3: &str) -> Self {
        Self::start_with_env(names, s3, &[]).await
    }

    /// As [`Functions::start`], each with `env` added to its environment.
    async fn start_with_env(
        names: &[(&'static str, &'static str)],
        s3: &str,
        env: &[(&'static str, String)],
    ) -> Self {
        let logs = std::env::temp_dir().join(format!("osnap-sfn-logs-{}", std::process::id()));
        std::fs::create_dir_all(&logs).unwrap();
        let starting: Vec<_> = names
            .iter()
            .map(|&(placeholder, name)| {
                let log = logs.join(format!(
                    "{name}-{}.log",
                    LOGS.fetch_add(1, Ordering::Relaxed)
                ));
                let mut env = env.to_vec();
                env.push(("OSNAP_S3_ENDPOINT", s3.to_owned()));
                tokio::spawn(async move {
                    let env: Vec<(&str, &str)> =
                        env.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let function = LambdaFunction::start_logging_to(name, &env, Some(&log)).await;
                    (placeholder, function, log)
                })
            })
            .collect();
        let mut started = Vec::new();
        for handle in starting {
            let (placeholder, function, log) = handle.await.unwrap();
            started.push((placeholder, function.unwrap(), log));
        }
        Self(started)
    }

    /// Each function's state and the end of its log, for a failure message.
    fn report(&mut self) -> String {
        let mut report = String::new();
        for (placeholder, function, log) in &mut self.0 {
            let mut text = std::fs::read_to_string(&*log).unwrap_or_default();
            text.push_str(&std::fs::read_to_string(log.with_extension("rt")).unwrap_or_default());
            text.push_str(&format!("\ninvoked at {}", function.invoke_url()));
            let tail: Vec<&str> = text.lines().rev().take(20).collect();
            report.push_str(&format!(
                "--- {placeholder}: {}\n{}\n",
                function.status(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        report
    }

    fn urls(&self) -> Value {
        self.0
            .iter()
            .map(|(placeholder, f, _)| ((*placeholder).to_owned(), Value::String(f.invoke_url())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    async fn stop(self) {
        for (_, function, log) in self.0 {
            function.stop().await;
            let _ = std::fs::remove_file(log.with_extension("rt"));
            let _ = std::fs::remove_file(log);
        }
    }
}

/// Node 22 and aws-local-stepfunctions, as `./dev test` installs them.
fn node22() -> PathBuf {
    let tools = e2e::workspace_root().join(".tools/node22/node_modules");
    let node = tools.join(".bin/node");
    assert!(
        node.exists() && tools.join("aws-local-stepfunctions/package.json").exists(),
        "Node 22 and aws-local-stepfunctions are not installed under .tools/node22: run `./dev test` \
         (it installs the pinned test tools) before these tests"
    );
    node
}

/// Runs one execution of `infra/statemachines/<workflow>.asl.json` and returns the driver's
/// result: `status`, `output` or `error`/`cause`, `notifications`, `states`, `retries`.
/// `on_event` sees each retry and caught error as it happens.
async fn execute(
    workflow: &str,
    input: &Value,
    functions: &mut Functions,
    on_event: impl FnMut(&Value),
) -> Value {
    execute_started_at(workflow, input, functions, None, None, on_event).await
}

/// As [`execute`], as if a schedule had started the execution at `start_time` (ISO 8601).
/// With `pause_before`, the driver stops before that Task state first runs and reports a
/// `Paused` event; the execution goes on once `on_event` has returned from it.
async fn execute_started_at(
    workflow: &str,
    input: &Value,
    functions: &mut Functions,
    start_time: Option<&str>,
    pause_before: Option<&str>,
    mut on_event: impl FnMut(&Value),
) -> Value {
    let root = e2e::workspace_root();
    let mut command = Command::new(node22());
    if let Some(start_time) = start_time {
        command.env("OSNAP_SFN_START_TIME", start_time);
    }
    if let Some(state) = pause_before {
        command.env("OSNAP_SFN_PAUSE_BEFORE", state);
    }
    let mut child = command
        .arg(root.join("tests/stepfunctions/run-execution.mjs"))
        .arg(root.join(format!("infra/statemachines/{workflow}.asl.json")))
        .arg(input.to_string())
        .arg(functions.urls().to_string())
        .env("OSNAP_SFN_WAIT_MS", "100")
        .env("OSNAP_SFN_RETRY_MS", "200")
        .stdin(if pause_before.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut resume = child.stdin.take();
    let mut stdout = child.stdout.take().unwrap();
    let mut events = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    let run = async {
        let mut output = String::new();
        let read_output = stdout.read_to_string(&mut output);
        let read_events = async {
            while let Some(line) = events.next_line().await.unwrap() {
                if let Ok(event) = serde_json::from_str::<Value>(&line) {
                    on_event(&event);
                    if event["event"] == "Paused"
                        && let Some(mut stdin) = resume.take()
                    {
                        use tokio::io::AsyncWriteExt;
                        stdin.write_all(b"go\n").await.unwrap();
                        stdin.flush().await.unwrap();
                    }
                }
                log.push_str(&line);
                log.push('\n');
            }
        };
        let (read, ()) = tokio::join!(read_output, read_events);
        read.unwrap();
        output
    };
    let Ok(output) = tokio::time::timeout(Duration::from_secs(60), run).await else {
        panic!(
            "the execution did not end within 60 s:\n{log}\n{}",
            functions.report()
        );
    };
    let status = child.wait().await.unwrap();
    assert!(status.success(), "the driver failed ({status}): {log}");
    let result: Value = serde_json::from_str(&output)
        .unwrap_or_else(|e| panic!("the driver's output is not JSON ({e}): {output}\n{log}"));
    assert_within_payload_limits(&result);
    result
}

/// Step Functions' limit on a state's input or output and on a Lambda result (UTF-8 bytes).
/// Over it an execution fails with `States.DataLimitExceeded`, which no Catch sees.
const PAYLOAD_LIMIT: u64 = 256 * 1024;

fn assert_within_payload_limits(result: &Value) {
    let payloads = &result["payloads"];
    for (size, what) in [
        ("max_state_bytes", "largest_state"),
        ("max_lambda_result_bytes", "largest_lambda_result"),
    ] {
        let bytes = payloads[size]
            .as_u64()
            .expect("the driver measures payloads");
        assert!(
            bytes < PAYLOAD_LIMIT,
            "{} is {bytes} bytes, over Step Functions' 256 KB",
            payloads[what]
        );
    }
}

/// The message of a failed execution's one notification, after checking the failure's name
/// and the notification's subject.
fn failure_notice<'a>(result: &'a Value, error: &str, subject: &str) -> &'a str {
    assert_eq!(result["status"], "FAILED", "{result}");
    assert_eq!(result["error"], error, "{result}");
    let notifications = result["notifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 1, "{result}");
    assert_eq!(notifications[0]["subject"], subject);
    notifications[0]["message"].as_str().unwrap()
}

fn states(result: &Value) -> Vec<&str> {
    result["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

const BACKUP_FUNCTIONS: &[(&str, &str)] = &[
    ("SnapshotFunctionArn", "snapshot"),
    ("VerifyFunctionArn", "verify"),
    ("PruneFunctionArn", "prune"),
];

const MIGRATE_FUNCTIONS: &[(&str, &str)] = &[
    ("RegisterFunctionArn", "register"),
    ("SnapshotFunctionArn", "snapshot"),
    ("VerifyFunctionArn", "verify"),
    ("RestoreFunctionArn", "restore"),
];

/// One domain, `logs`, holding `logs` (`docs` documents) with repository `nightly` registered.
async fn backup_standin(test: &str, docs: usize) -> Standin {
    node22();
    let standin = Standin::start(test, &["snapshots"], &["logs"]).await;
    put_docs(&standin.domains[0], "logs", docs).await;
    register_nightly(&standin.domains[0]).await;
    standin
}

#[tokio::test(flavor = "multi_thread")]
async fn nightly_backup_snapshots_verifies_and_prunes_by_the_samples_retention() {
    let standin = backup_standin("backup", 5).await;
    let domain = &standin.domains[0];
    // The sample keeps 14 and at least 7, none older than 30 days: of these nine, the three
    // oldest are beyond the seven newest successes and older than 30 days.
    let mut recent = Vec::new();
    for days in 1..=3 {
        recent.push(seed_nightly(domain, DAY * days).await);
    }
    let mut old = Vec::new();
    for days in 40..=45 {
        old.push(seed_nightly(domain, DAY * days).await);
    }
    let mut functions = Functions::start(BACKUP_FUNCTIONS, &standin.s3_endpoint()).await;

    let result = execute("backup", &backup_input(domain), &mut functions, |_| {}).await;
    // An input that lists no domain is refused rather than reported as a backup.
    let mut nothing = backup_input(domain);
    nothing["domains"] = json!([]);
    let refused = execute("backup", &nothing, &mut functions, |_| {}).await;
    functions.stop().await;
    let message = failure_notice(&refused, "InvalidRequest", "osnap nightly backup failed");
    assert!(message.contains("non-empty list"), "{message}");

    assert_eq!(result["status"], "SUCCEEDED", "{result}");
    assert_eq!(result["notifications"], json!([]));
    let outcome = &result["output"]["results"]["results"][0];
    assert_eq!(outcome["outcome"], "ok", "{result}");
    let taken = outcome["snapshot"].as_str().unwrap().to_owned();
    assert!(taken.starts_with("nightly-"), "{taken}");
    // Deleted oldest first.
    let expected_deleted: Vec<&String> = old[3..].iter().rev().collect();
    assert_eq!(
        outcome["deleted"],
        common::listed(&expected_deleted),
        "{result}"
    );
    assert_eq!(outcome["pending"], common::listed::<&str>(&[]), "{result}");
    // The sample's min_count keeps the seven newest successes.
    assert_eq!(
        outcome["protected"],
        json!({"in_progress": 0, "unknown_time": 0, "min_count": 7, "pinned": 0, "last_copy": 0}),
        "{result}"
    );

    let mut kept: Vec<String> = recent.iter().chain(&old[..3]).cloned().collect();
    kept.push(taken);
    kept.sort();
    let remaining = snapshots(domain, "nightly").await;
    assert_eq!(
        remaining.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        kept
    );
    assert!(
        remaining.iter().all(|(_, state)| state == "SUCCESS"),
        "{remaining:?}"
    );
    standin.shutdown().await;
}

/// The indices on `domain` whose names start with `prefix`.
fn indices_under(domain: &Domain, prefix: &str) -> Vec<String> {
    domain
        .index_names()
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drill_proves_the_night_s_snapshot_and_a_drill_of_altered_files_is_notified() {
    let standin = backup_standin("drill", 4).await;
    let domain = &standin.domains[0];
    let mut functions = Functions::start(BACKUP_FUNCTIONS, &standin.s3_endpoint()).await;
    let mut input = backup_input(domain);
    input["domains"][0]["drill"] = json!({"sample": "all", "on": "daily"});

    let passed = execute("backup", &input, &mut functions, |_| {}).await;
    assert_eq!(passed["status"], "SUCCEEDED", "{passed}");
    assert_eq!(passed["notifications"], json!([]));
    let outcome = &passed["output"]["results"]["results"][0];
    assert_eq!(outcome["drill"], "DRILL_PASSED", "{passed}");
    let visited = states(&passed);
    assert!(
        visited.contains(&"DrillStart")
            && visited.contains(&"WaitForDrill")
            && visited.contains(&"DrillCheck"),
        "{visited:?}"
    );
    assert!(indices_under(domain, "osnap-drill-").is_empty());

    // The next night, the snapshot's files are altered in the bucket once it is taken.
    let s3 = standin.s3.as_ref().unwrap().client();
    let altered = std::sync::Arc::new(AtomicUsize::new(0));
    let count = altered.clone();
    let failed = execute_started_at(
        "backup",
        &input,
        &mut functions,
        Some("2026-11-30T03:00:00Z"),
        Some("DrillStart"),
        move |event| {
            if event["event"] == "Paused" {
                let changed = tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(
                        standin::domain::drop_a_stored_document(&s3, "snapshots", "logs"),
                    )
                });
                count.fetch_add(changed, Ordering::SeqCst);
            }
        },
    )
    .await;
    functions.stop().await;
    assert!(altered.load(Ordering::SeqCst) >= 1);
    let message = failure_notice(&failed, "BackupFailed", "osnap nightly backup failed");
    assert!(
        message.contains("DrillFailed") && message.contains("CorruptIndexException"),
        "{message}"
    );
    assert!(states(&failed).contains(&"DrillNotOk"));
    // The copy that failed is left for inspection; the live index is untouched.
    assert_eq!(indices_under(domain, "osnap-drill-"), ["osnap-drill-logs"]);
    assert_eq!(domain.doc_count("logs"), Some(4));
    standin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_snapshot_is_notified_and_nothing_is_pruned() {
    let standin = backup_standin("unhealthy", 3).await;
    let domain = &standin.domains[0];
    let mut seeded = Vec::new();
    for days in [1, 40, 41, 42, 43, 44, 45, 46, 47] {
        seeded.push(seed_nightly(domain, DAY * days).await);
    }
    // A shard fails while the snapshot copies it (a node leaving): the domain ends the
    // snapshot PARTIAL although the workflow never asks for `partial`.
    domain.faults().fail_shards_during_snapshots("logs");
    let mut functions = Functions::start(BACKUP_FUNCTIONS, &standin.s3_endpoint()).await;

    let result = execute("backup", &backup_input(domain), &mut functions, |_| {}).await;
    functions.stop().await;

    let message = failure_notice(&result, "BackupFailed", "osnap nightly backup failed");
    assert!(
        message.contains("position 0")
            && message.contains("execution:backup:")
            && message.contains("SnapshotFailed"),
        "{message}"
    );
    assert!(
        message.contains("PARTIAL") && message.contains("IndexShardSnapshotFailedException"),
        "{message}"
    );
    let visited = states(&result);
    assert!(
        visited.contains(&"SnapshotNotOk") && !visited.contains(&"Prune"),
        "{visited:?}"
    );

    // Nothing pruned: every seeded snapshot is still there, next to the failed one.
    let remaining = snapshots(domain, "nightly").await;
    let failed: Vec<_> = remaining
        .iter()
        .filter(|(_, state)| state != "SUCCESS")
        .collect();
    assert_eq!(failed.len(), 1, "{remaining:?}");
    assert_eq!(failed[0].1, "PARTIAL");
    let mut successes: Vec<String> = remaining
        .iter()
        .filter(|(_, s)| s == "SUCCESS")
        .map(|(n, _)| n.clone())
        .collect();
    successes.sort();
    seeded.sort();
    assert_eq!(successes, seeded);
    standin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_refused_while_another_runs_is_retried_until_it_succeeds_without_pruning() {
    let standin = backup_standin("concurrent", 3).await;
    let domain = &standin.domains[0];
    // An operator's snapshot that keeps running until the workflow has been refused once.
    domain.faults().set_stuck_snapshots(true);
    call(
        domain,
        Method::PUT,
        &["_snapshot", "nightly", "manual-before-upgrade"],
        &[],
        Some(json!({"indices": "logs"})),
    )
    .await;
    let mut functions = Functions::start(BACKUP_FUNCTIONS, &standin.s3_endpoint()).await;

    // A domain listed without `retention` is backed up and nothing is pruned.
    let mut input = backup_input(domain);
    input["domains"][0]
        .as_object_mut()
        .unwrap()
        .remove("retention");
    let faults = domain.faults().clone();
    let result = execute("backup", &input, &mut functions, move |event| {
        if event["event"] == "StateRetried" && event["state"] == "Snapshot" {
            faults.set_stuck_snapshots(false);
        }
    })
    .await;
    functions.stop().await;

    assert_eq!(result["status"], "SUCCEEDED", "{result}");
    // Retried for the other snapshot, and for nothing else (other states may meet a domain's
    // passing 500, which their own Retry covers).
    let snapshot_retries: Vec<&Value> = result["retries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "Snapshot")
        .collect();
    assert!(!snapshot_retries.is_empty(), "{result}");
    assert!(
        snapshot_retries
            .iter()
            .all(|r| r["error"] == "SnapshotInProgress"),
        "{result}"
    );
    let outcome = &result["output"]["results"]["results"][0];
    assert_eq!(outcome["outcome"], "ok", "{result}");
    assert_eq!(outcome["deleted"], common::listed::<&str>(&[]), "{result}");
    assert_eq!(outcome["pending"], common::listed::<&str>(&[]), "{result}");
    assert_eq!(
        outcome["protected"],
        json!({"in_progress": 0, "unknown_time": 0, "min_count": 0, "pinned": 0, "last_copy": 0}),
        "{result}"
    );
    let taken = outcome["snapshot"].as_str().unwrap();
    let remaining = snapshots(domain, "nightly").await;
    assert_eq!(
        remaining,
        vec![
            ("manual-before-upgrade".to_owned(), "SUCCESS".to_owned()),
            (taken.to_owned(), "SUCCESS".to_owned())
        ]
    );
    standin.shutdown().await;
}

/// Executes the migration sample from `source` to `target` with its functions started for it.
async fn run_migration(standin: &Standin) -> Value {
    let (source, target) = (&standin.domains[0], &standin.domains[1]);
    let mut functions = Functions::start(MIGRATE_FUNCTIONS, &standin.s3_endpoint()).await;
    let result = execute(
        "migrate",
        &migrate_input(source, target),
        &mut functions,
        |_| {},
    )
    .await;
    functions.stop().await;
    result
}

/// Domains `old` and `new` sharing the sample's migration bucket; `old` holds
/// `logs-2026.11.28` (8 documents) and `orders` (5).
async fn migration_standin(test: &str) -> Standin {
    node22();
    let bucket = sample("workflow-migrate.json")["source"]["settings"]["bucket"]
        .as_str()
        .unwrap()
        .to_owned();
    let standin = Standin::start(test, &[&bucket], &["old", "new"]).await;
    put_docs(&standin.domains[0], "logs-2026.11.28", 8).await;
    put_docs(&standin.domains[0], "orders", 5).await;
    standin
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_moves_every_index_but_the_system_ones_with_equal_counts() {
    let standin = migration_standin("migrate").await;
    let (source, target) = (&standin.domains[0], &standin.domains[1]);
    put_docs(source, "logs-2026.11.27", 12).await;
    // The source's dashboards index differs from the target's, which must stay as it is.
    call(
        source,
        Method::PUT,
        &[".kibana_1", "_doc", "visualization:orders"],
        &[("refresh", "true")],
        Some(json!({"type": "visualization"})),
    )
    .await;
    let kibana_source = source.doc_count(".kibana_1").unwrap();
    let kibana_target = target.doc_count(".kibana_1").unwrap();
    assert_ne!(kibana_source, kibana_target);

    let result = run_migration(&standin).await;

    assert_eq!(result["status"], "SUCCEEDED", "{result}");
    assert_eq!(result["notifications"], json!([]));
    let output = &result["output"];
    assert_eq!(output["registered_target"]["status"], "created");
    assert_eq!(
        output["restore"]["restored"],
        json!({"count": 3, "names": ["logs-2026.11.27", "logs-2026.11.28", "orders"], "truncated": false}),
        "{result}"
    );
    assert_eq!(
        (
            output["verify"]["ok"].as_bool(),
            output["verify"]["failures"].as_array().map(Vec::len)
        ),
        (Some(true), Some(0)),
        "{result}"
    );
    // A source that took no writes: every count exactly as the manifest recorded it.
    assert_eq!(output["verify"]["state"], "MATCH", "{result}");
    assert_eq!(output["verify"]["counts"]["basis"], "manifest");
    assert_eq!(output["verify"]["counts"]["exact"], 3);
    assert_eq!(output["verify"]["counts"]["drift"]["count"], 0);
    for index in ["logs-2026.11.27", "logs-2026.11.28", "orders"] {
        assert_eq!(target.doc_count(index), source.doc_count(index), "{index}");
        assert!(target.doc_count(index).unwrap() > 0);
    }
    assert_eq!(
        target.doc_count(".kibana_1"),
        Some(kibana_target),
        "the target's system index was restored over"
    );
    let snapshot = output["snapshot"]["snapshot"].as_str().unwrap();
    let listing = call(
        source,
        Method::GET,
        &["_snapshot", "migration", snapshot],
        &[],
        None,
    )
    .await;
    let mut in_snapshot: Vec<&str> = listing["snapshots"][0]["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    in_snapshot.sort_unstable();
    assert_eq!(
        in_snapshot,
        ["logs-2026.11.27", "logs-2026.11.28", "orders"],
        "system indices are not snapshotted"
    );
    standin.shutdown().await;
}

/// The migration the AWS guide calls the most common: from a self-managed Elasticsearch
/// cluster (basic authentication, its login in Secrets Manager) onto an AWS domain, with the
/// sample `events/workflow-migrate-self-managed.json`. The functions' logs and answers are
/// checked for the password by the harness, as for every credential.
#[tokio::test(flavor = "multi_thread")]
async fn a_self_managed_cluster_migrates_onto_an_aws_domain() {
    node22();
    const PASSWORD: &str = "standin-cluster-password-sfn";
    let sample = sample("workflow-migrate-self-managed.json");
    let bucket = sample["source"]["settings"]["bucket"].as_str().unwrap();
    let root = std::env::temp_dir().join(format!("osnap-sfn-self-managed-{}", std::process::id()));
    let s3 = S3Server::start(&root, "AKIDSTANDIN", "standin-secret")
        .await
        .unwrap();
    s3.create_bucket(bucket).await.unwrap();
    let login = json!({"username": "osnap", "password": PASSWORD}).to_string();
    let stored = standin::secrets::StoredSecret::new("osnap/source-login", &login);
    let secret_arn = stored.arn.clone();
    let secrets = standin::secrets::SecretsServer::start(
        vec![standin::auth::TestPrincipal::default_operator()],
        vec![stored],
    )
    .await
    .unwrap();
    let mut config = DomainConfig::self_managed(
        "corp-es",
        s3.endpoint(),
        s3.credentials(),
        standin::SelfManagedAccess::Basic {
            username: "osnap".into(),
            password: PASSWORD.into(),
        },
    );
    config.engine = standin::Engine::elasticsearch();
    config.snapshot_duration = Duration::from_millis(100);
    config.recovery_duration = Duration::from_millis(100);
    let source = Domain::start(config).await.unwrap();
    let mut config = DomainConfig::new("new", s3.endpoint(), s3.credentials());
    config.snapshot_duration = Duration::from_millis(100);
    config.recovery_duration = Duration::from_millis(100);
    let target = Domain::start(config).await.unwrap();
    let client = common::cluster_client(&source, Some(("osnap", PASSWORD)));
    common::put_docs_with(&client, "logs-2026.11.28", 8).await;
    common::put_docs_with(&client, "orders", 5).await;

    let mut input = sample.clone();
    input["source"]["domain"]["endpoint"] = json!(source.endpoint());
    input["source"]["domain"]["auth"]["secret_arn"] = json!(secret_arn);
    input["target"]["domain"] = domain_input(&target);
    input["max_polls"] = json!(100);
    let mut functions = Functions::start_with_env(
        MIGRATE_FUNCTIONS,
        &s3.endpoint(),
        &[("OSNAP_SECRETS_ENDPOINT", secrets.endpoint())],
    )
    .await;
    let result = execute("migrate", &input, &mut functions, |_| {}).await;
    functions.stop().await;

    assert_within_payload_limits(&result);
    assert_eq!(result["status"], "SUCCEEDED", "{result}");
    assert_eq!(result["notifications"], json!([]));
    let output = &result["output"];
    assert_eq!(
        output["restore"]["restored"],
        json!({"count": 2, "names": ["logs-2026.11.28", "orders"], "truncated": false}),
        "{result}"
    );
    assert_eq!(output["verify"]["state"], "MATCH", "{result}");
    assert_eq!(output["verify"]["counts"]["basis"], "manifest", "{result}");
    for (index, docs) in [("logs-2026.11.28", 8), ("orders", 5)] {
        assert_eq!(target.doc_count(index), Some(docs), "{index}");
        assert_eq!(source.doc_count(index), Some(docs), "{index}");
    }
    assert!(
        !result.to_string().contains(PASSWORD),
        "the password is in the execution's history"
    );
    source.shutdown().await;
    target.shutdown().await;
    secrets.shutdown().await;
    s3.shutdown().await;
    let _ = std::fs::remove_dir_all(root);
}

/// Writes documents to `index` on `domain`, one after another, until `stop` is set; how many.
async fn keep_writing(domain: &Domain, index: &str, stop: &std::sync::atomic::AtomicBool) -> usize {
    let mut written = 0;
    while !stop.load(Ordering::Relaxed) {
        let id = format!("live-{written}");
        call(
            domain,
            Method::PUT,
            &[index, "_doc", &id],
            &[("refresh", "true")],
            Some(json!({"n": written})),
        )
        .await;
        written += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    written
}

/// A source that keeps taking writes through the whole workflow, and loses an index once the
/// snapshot is taken: the copy is judged against the snapshot's manifest (counts read before
/// the create and once it was SUCCESS), so the migration succeeds, with the source's drift
/// and the deleted index reported beside the verdict.
#[tokio::test(flavor = "multi_thread")]
async fn a_migration_of_a_live_source_succeeds_and_reports_its_drift() {
    let standin = migration_standin("migrate-live").await;
    let (source, target) = (&standin.domains[0], &standin.domains[1]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (entered, mut restore_planned) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut functions = Functions::start(MIGRATE_FUNCTIONS, &standin.s3_endpoint()).await;
    let input = migrate_input(source, target);
    let execution = async {
        let result = execute("migrate", &input, &mut functions, |event| {
            if event["event"] == "StateEntered" && event["state"] == "PreflightRestore" {
                let _ = entered.send(());
            }
        })
        .await;
        stop.store(true, Ordering::Relaxed);
        result
    };
    let delete_after_snapshot = async {
        // Once the snapshot is verified, `orders` goes from the source.
        if restore_planned.recv().await.is_some() {
            call(source, Method::DELETE, &["orders"], &[], None).await;
        }
    };
    let (result, written, ()) = tokio::join!(
        execution,
        keep_writing(source, "logs-2026.11.28", &stop),
        delete_after_snapshot
    );
    functions.stop().await;

    assert_eq!(result["status"], "SUCCEEDED", "{result}");
    let verify = &result["output"]["verify"];
    assert_eq!(verify["ok"], true, "{result}");
    assert_eq!(verify["state"], "MATCH_WITHIN_INTERVAL", "{result}");
    let counts = &verify["counts"];
    assert_eq!(counts["basis"], "manifest", "{result}");
    assert_eq!(
        (counts["exact"].as_u64(), counts["within_interval"].as_u64()),
        (Some(1), Some(1)),
        "orders exact, the written index within its interval: {result}"
    );
    assert_eq!(
        (counts["mismatch"].as_u64(), counts["unverified"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(counts["drift"]["count"], 1, "{result}");
    let drift = counts["drift"]["names"][0].as_str().unwrap();
    assert!(
        drift.starts_with("logs-2026.11.28: ") && drift.contains(" now (+"),
        "{drift}"
    );
    assert_eq!(
        counts["deleted_on_source"],
        json!({"count": 1, "names": ["orders"], "truncated": false})
    );
    // What the target holds is the snapshot's: more than before the workflow, fewer than the
    // source has now.
    let copied = target.doc_count("logs-2026.11.28").unwrap();
    let now = source.doc_count("logs-2026.11.28").unwrap();
    assert!(
        written > 0 && copied >= 8 && copied < now,
        "{copied} of {now}"
    );
    assert_eq!(target.doc_count("orders"), Some(5));
    standin.shutdown().await;
}

/// A blocked migration: the preflight finds the target's own `orders`, which `on_conflict:
/// fail` refuses, and the workflow stops, notified, before anything is registered, taken or
/// restored.
#[tokio::test(flavor = "multi_thread")]
async fn a_migration_onto_a_conflicting_index_stops_before_touching_the_target() {
    assert_eq!(
        sample("workflow-migrate.json")["on_conflict"],
        "fail",
        "the sample stops on a conflict"
    );
    let standin = migration_standin("conflict").await;
    let (source, target) = (&standin.domains[0], &standin.domains[1]);
    // The target already has its own `orders`.
    call(
        target,
        Method::PUT,
        &["orders", "_doc", "t-1"],
        &[("refresh", "true")],
        Some(json!({"item": "written on the target"})),
    )
    .await;
    let indices_before = target.index_names();
    let orders_before = call(target, Method::GET, &["orders"], &[], None).await;

    let result = run_migration(&standin).await;

    assert_within_payload_limits(&result);
    let message = failure_notice(&result, "PreflightBlocked", "osnap migration stopped");
    assert!(
        message.contains("name_clash") && message.contains("orders"),
        "{message}"
    );
    assert!(message.contains("1 blocking findings"), "{message}");
    let visited = states(&result);
    assert!(
        visited.contains(&"Preflight") && !visited.contains(&"RegisterOnSource"),
        "{visited:?}"
    );
    // Nothing was registered on either domain.
    for domain in [source, target] {
        let repositories = call(domain, Method::GET, &["_snapshot"], &[], None).await;
        assert!(repositories.get("migration").is_none(), "{repositories}");
    }

    // The target is as it was: the same indices, its own `orders` (same uuid, settings and
    // mappings) with its one document.
    assert_eq!(target.index_names(), indices_before);
    assert_eq!(target.doc_count("orders"), Some(1));
    let orders_after = call(target, Method::GET, &["orders"], &[], None).await;
    assert_eq!(orders_after, orders_before);
    assert!(
        orders_before["orders"]["mappings"]
            .to_string()
            .contains("item"),
        "{orders_before}"
    );
    standin.shutdown().await;
}

/// S3 fails once the target has begun restoring: the engine reads each index's metadata, then
/// cannot read its data for any recovery it tries. The migration is notified as soon as the
/// domain gives up (not after the restore polls run out), and the source is untouched.
#[tokio::test(flavor = "multi_thread")]
async fn a_migration_whose_restore_cannot_read_its_data_is_notified_at_once() {
    let standin = migration_standin("restore-failed").await;
    standin.s3.as_ref().unwrap().faults().push(
        standin::S3FaultRule::new(standin::S3Fault::InternalError)
            .on(standin::S3Requests::Reads)
            .where_path_contains("/indices/")
            .after_per_path(1),
    );
    let result = run_migration(&standin).await;
    assert_within_payload_limits(&result);
    let message = failure_notice(&result, "MigrationFailed", "osnap migration failed");
    assert!(
        message.contains("SnapshotFailed") && message.contains("RESTORE_FAILED"),
        "{message}"
    );
    assert!(
        message.contains("InternalError") || message.contains("internal error"),
        "{message}"
    );
    let visited = states(&result);
    assert!(
        visited.contains(&"VerifyRestore") && !visited.contains(&"CompareCounts"),
        "{visited:?}"
    );
    assert_eq!(
        visited.iter().filter(|s| **s == "VerifyRestore").count(),
        1,
        "no polling once the domain gave up: {visited:?}"
    );
    let source = &standin.domains[0];
    assert_eq!(source.doc_count("logs-2026.11.28"), Some(8));
    assert_eq!(source.doc_count("orders"), Some(5));
    standin.shutdown().await;
}

/// An endpoint of any length (here 70,000 characters) is never carried into a notification:
/// the message names the domain by its position and the execution, and the function's error
/// quotes the endpoint short.
#[tokio::test(flavor = "multi_thread")]
async fn a_huge_endpoint_never_reaches_the_notification() {
    let huge = format!(
        "https://search-{}.us-east-1.es.amazonaws.com",
        "x".repeat(70_000)
    );
    let run = "x".repeat(1_000);
    let standin = backup_standin("huge-endpoint", 1).await;
    let mut functions = Functions::start(BACKUP_FUNCTIONS, &standin.s3_endpoint()).await;
    let mut input = backup_input(&standin.domains[0]);
    input["domains"][0]["domain"]["endpoint"] = json!(huge);
    let result = execute("backup", &input, &mut functions, |_| {}).await;
    functions.stop().await;
    let message = failure_notice(&result, "BackupFailed", "osnap nightly backup failed");
    assert!(message.contains("position 0"), "{message}");
    assert!(!message.contains(&run), "{} characters", message.len());
    assert!(message.len() < 4_000, "{} characters", message.len());
    standin.shutdown().await;

    let migration = migration_standin("huge-endpoint-migration").await;
    let (source, target) = (&migration.domains[0], &migration.domains[1]);
    let mut functions = Functions::start(MIGRATE_FUNCTIONS, &migration.s3_endpoint()).await;
    let mut input = migrate_input(source, target);
    input["target"]["domain"]["endpoint"] = json!(huge);
    let result = execute("migrate", &input, &mut functions, |_| {}).await;
    functions.stop().await;
    let message = failure_notice(&result, "MigrationFailed", "osnap migration failed");
    assert!(message.contains("execution:migrate:"), "{message}");
    assert!(!message.contains(&run), "{} characters", message.len());
    assert!(message.len() < 4_000, "{} characters", message.len());
    migration.shutdown().await;
}

/// What a workflow does with an input it cannot run: notified, failed as `InvalidRequest`
/// (or the domain's own failure), never a runtime error that no Catch sees.
#[tokio::test(flavor = "multi_thread")]
async fn an_incomplete_input_is_refused_and_notified_before_any_function_runs() {
    let standin = backup_standin("invalid", 1).await;
    let domain = &standin.domains[0];
    let mut functions = Functions::start(BACKUP_FUNCTIONS, &standin.s3_endpoint()).await;

    let mut no_polls = backup_input(domain);
    no_polls.as_object_mut().unwrap().remove("wait_seconds");
    let result = execute("backup", &no_polls, &mut functions, |_| {}).await;
    let message = failure_notice(&result, "InvalidRequest", "osnap nightly backup failed");
    assert!(message.contains("wait_seconds"), "{message}");
    assert!(!states(&result).contains(&"Snapshot"), "{result}");

    let mut wrong_type = backup_input(domain);
    wrong_type["max_polls"] = json!("many");
    let result = execute("backup", &wrong_type, &mut functions, |_| {}).await;
    failure_notice(&result, "InvalidRequest", "osnap nightly backup failed");

    // One domain without its repository: that domain fails, notified; the other is backed up.
    let mut one_bad = backup_input(domain);
    let good = one_bad["domains"][0].clone();
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("repository");
    one_bad["domains"] = json!([bad, good]);
    let result = execute("backup", &one_bad, &mut functions, |_| {}).await;
    let message = failure_notice(&result, "BackupFailed", "osnap nightly backup failed");
    assert!(
        message.contains("position 0") && message.contains("repository"),
        "{message}"
    );
    let outcomes = &result["output"];
    assert!(
        outcomes.is_null(),
        "a failed execution has no output: {result}"
    );
    assert_eq!(
        states(&result).iter().filter(|s| **s == "Snapshot").count(),
        1,
        "the valid domain is backed up: {result}"
    );
    functions.stop().await;

    let migration = migration_standin("invalid-migration").await;
    let (source, target) = (&migration.domains[0], &migration.domains[1]);
    let mut functions = Functions::start(MIGRATE_FUNCTIONS, &migration.s3_endpoint()).await;
    let mut no_settings = migrate_input(source, target);
    no_settings["target"]
        .as_object_mut()
        .unwrap()
        .remove("settings");
    let result = execute("migrate", &no_settings, &mut functions, |_| {}).await;
    let message = failure_notice(&result, "InvalidRequest", "osnap migration failed");
    assert!(message.contains("settings"), "{message}");
    assert!(!states(&result).contains(&"RegisterOnSource"), "{result}");
    // AWS's automated snapshots restore only on the domain that took them.
    let mut automated = migrate_input(source, target);
    automated["repository"] = json!("cs-automated-enc");
    let result = execute("migrate", &automated, &mut functions, |_| {}).await;
    functions.stop().await;
    let message = failure_notice(&result, "UnsafeOperation", "osnap migration failed");
    assert!(
        message.contains("cannot be restored on another domain"),
        "{message}"
    );
    assert!(!states(&result).contains(&"RegisterOnSource"), "{result}");
    migration.shutdown().await;
    standin.shutdown().await;
}

/// The nightly backup on a large domain: 3,000 indices and 10,000 snapshots. Every state's
/// input and output and every Lambda result stays under 256 KB (`execute` checks each
/// execution), and the outputs carry counts with short samples, not the lists.
#[tokio::test(flavor = "multi_thread")]
async fn a_backup_at_scale_stays_within_step_functions_payload_limits() {
    const INDICES: usize = 3_000;
    const SNAPSHOTS: usize = 10_000;
    node22();
    let standin = Standin::start("scale", &["snapshots"], &["big"]).await;
    let domain = &standin.domains[0];
    let mut bulk = String::new();
    for i in 0..INDICES {
        bulk.push_str(&format!(
            "{}\n{}\n",
            json!({"index": {"_index": format!("logs-2026.11.28-{i:04}")}}),
            json!({"n": i})
        ));
    }
    let client = standin::client::operator_client(&domain.endpoint()).unwrap();
    let response = client
        .send(
            &signing::DomainRequest::new(Method::POST, &["_bulk"])
                .query("refresh", "true")
                .json_body(bulk),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    register_nightly(domain).await;
    let plan = standin::domain::SeedPlan {
        template: policy::naming::DEFAULT_TEMPLATE.to_owned(),
        count: SNAPSHOTS,
        newest: SystemTime::now() - DAY,
        interval: Duration::from_secs(3_000),
        indices: vec!["logs-2026.11.28-0000".to_owned()],
    };
    domain.seed_snapshots("nightly", &plan).await.unwrap();
    let mut functions = Functions::start(BACKUP_FUNCTIONS, &standin.s3_endpoint()).await;

    let mut input = backup_input(domain);
    // Everything seeded is younger than this: nothing to delete, 10,000 to keep.
    input["domains"][0]["retention"] = json!({"max_age": "400d", "min_count": 7});
    let result = execute("backup", &input, &mut functions, |_| {}).await;
    functions.stop().await;

    assert_eq!(result["status"], "SUCCEEDED", "{result}");
    let outcome = &result["output"]["results"]["results"][0];
    assert_eq!(outcome["deleted"]["count"], 0, "{outcome}");
    assert_eq!(outcome["pending"]["count"], 0, "{outcome}");
    let payloads = &result["payloads"];
    println!("largest payloads at scale: {payloads}");
    assert!(
        payloads["max_state_bytes"].as_u64().unwrap() < 64 * 1024,
        "bounded outputs keep every state small: {payloads}"
    );
    standin.shutdown().await;
}

/// `2026-12-02T03:00:00Z`, as Step Functions writes an execution's start time.
fn iso(time: SystemTime) -> String {
    let t = policy::time::UtcDateTime::from_system_time(time);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// `logs-2026.12.02`: the daily index of the day `time` falls on.
fn daily_index(time: SystemTime) -> String {
    let t = policy::time::UtcDateTime::from_system_time(time);
    format!("logs-{:04}.{:02}.{:02}", t.year, t.month, t.day)
}

/// The user's (non-system) indices the domain holds now.
async fn live_indices(domain: &Domain) -> Vec<String> {
    let rows = call(
        domain,
        Method::GET,
        &["_cat", "indices"],
        &[("format", "json")],
        None,
    )
    .await;
    let mut names: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["index"].as_str().unwrap().to_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// What snapshot `name` holds: its indices and its data streams, each sorted.
async fn snapshot_contents(domain: &Domain, name: &str) -> (Vec<String>, Vec<String>) {
    let answer = call(
        domain,
        Method::GET,
        &["_snapshot", "nightly", name],
        &[],
        None,
    )
    .await;
    let names = |field: &str| {
        let mut names: Vec<String> = answer["snapshots"][0][field]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    (names("indices"), names("data_streams"))
}

/// Sixty simulated nights of a log cluster under the backup workflow: a daily index each day,
/// moved to UltraWarm after 3 days and deleted by index management after a week; a data
/// stream written every night, rolled over weekly, keeping its 3 newest backing indices; and
/// an audit index that lives from night 5 to night 19. The domain's calendar and the functions' (test) calendar move a day each night,
/// and each execution starts as the schedule would have started it. Retention keeps 7, with
/// the audit index's last copy protected and night 10's snapshot pinned by the operator once
/// it exists: the repository must end at exactly those 9 snapshots, every night's snapshot
/// must hold every live hot index and the stream (warm indices are reported as skipped, as
/// AWS's `cs-ultrawarm` holds them), and no night may fail. The old rule ("keep the newest copy of every index")
/// kept every snapshot here, since each was the last copy of the daily index deleted after it.
#[tokio::test(flavor = "multi_thread")]
async fn sixty_nights_of_a_log_cluster_end_at_the_retentions_size() {
    const NIGHTS: u64 = 60;
    const KEEP_LAST: usize = 7;
    const DAILY_INDEX_DAYS: u64 = 7;
    const HOT_DAYS: u64 = 3;
    const STREAM: &str = "app-events";
    node22();
    let standin = Standin::start("nights", &["snapshots"], &["logs"]).await;
    let domain = &standin.domains[0];
    register_nightly(domain).await;
    call(
        domain,
        Method::PUT,
        &["_index_template", "app"],
        &[],
        Some(json!({"index_patterns": ["app-*"], "data_stream": {}})),
    )
    .await;
    let mut warm = Vec::new();
    let calendar_file = standin.root.join("calendar");
    std::fs::create_dir_all(&standin.root).unwrap();
    std::fs::write(&calendar_file, "0").unwrap();
    let env = [(
        function_shell::calendar::CALENDAR_FILE,
        calendar_file.display().to_string(),
    )];
    let mut functions =
        Functions::start_with_env(BACKUP_FUNCTIONS, &standin.s3_endpoint(), &env).await;
    let mut input = backup_input(domain);
    let mut retention =
        json!({"keep_last": KEEP_LAST, "min_count": 3, "protect_last_copy_of": ["audit-*"]});
    input["domains"][0]["retention"] = retention.clone();

    let mut taken = Vec::new();
    let mut largest_repository = 0;
    for night in 0..NIGHTS {
        if night > 0 {
            domain.calendar().advance(DAY);
        }
        let offset = domain.calendar().offset_seconds();
        std::fs::write(&calendar_file, offset.to_string()).unwrap();
        let today = domain.calendar().now();
        // The day's logs, and index management's deletion of the week-old index.
        put_docs(domain, &daily_index(today), 3).await;
        let expired = daily_index(today - DAY * u32::try_from(DAILY_INDEX_DAYS).unwrap());
        if live_indices(domain).await.contains(&expired) {
            call(domain, Method::DELETE, &[&expired], &[], None).await;
        }
        // UltraWarm after three days.
        let cooling = daily_index(today - DAY * u32::try_from(HOT_DAYS).unwrap());
        if domain.migrate_to_warm(&cooling) {
            warm.push(cooling);
        }
        warm.retain(|index| *index != expired);
        // The stream: tonight's events, a weekly rollover, its 3 newest generations kept.
        for event in 0..2 {
            call(
                domain,
                Method::PUT,
                &[STREAM, "_create", &format!("{night}-{event}")],
                &[("refresh", "true")],
                Some(json!({"@timestamp": iso(today), "event": event})),
            )
            .await;
        }
        if night % 7 == 6 {
            call(domain, Method::POST, &[STREAM, "_rollover"], &[], None).await;
        }
        let described = call(domain, Method::GET, &["_data_stream", STREAM], &[], None).await;
        let backing: Vec<String> = described["data_streams"][0]["indices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["index_name"].as_str().unwrap().to_owned())
            .collect();
        for old in backing.iter().rev().skip(3) {
            call(domain, Method::DELETE, &[old.as_str()], &[], None).await;
        }
        match night {
            5 => put_docs(domain, "audit-2026", 4).await,
            20 => {
                call(domain, Method::DELETE, &["audit-2026"], &[], None).await;
            }
            _ => {}
        }

        let result = execute_started_at(
            "backup",
            &input,
            &mut functions,
            Some(&iso(today)),
            None,
            |_| {},
        )
        .await;
        assert_eq!(result["status"], "SUCCEEDED", "night {night}: {result}");
        assert_eq!(result["notifications"], json!([]), "night {night}");
        let outcome = &result["output"]["results"]["results"][0];
        assert_eq!(outcome["outcome"], "ok", "night {night}: {result}");
        let name = outcome["snapshot"].as_str().unwrap().to_owned();
        // Named by the schedule's (simulated) day, so one new name each night.
        let day = NameTemplate::parse("nightly-{now:%Y.%m.%d}-")
            .unwrap()
            .expand(today)
            .unwrap();
        assert!(name.starts_with(&day), "night {night}: {name}, not {day}…");
        assert!(!taken.contains(&name), "night {night}: {name} again");
        taken.push(name);
        if night == 10 {
            // The operator pins night 10's snapshot from then on.
            retention["pinned"] = json!([taken[10]]);
            input["domains"][0]["retention"] = retention.clone();
        }
        largest_repository = largest_repository.max(snapshots(domain, "nightly").await.len());
        // Every live hot index and the stream are in tonight's snapshot; the warm ones are
        // reported as skipped.
        let tonight = &taken[usize::try_from(night).unwrap()];
        let (newest, streams) = snapshot_contents(domain, tonight).await;
        for index in live_indices(domain).await {
            assert_eq!(
                newest.contains(&index),
                !warm.contains(&index),
                "night {night}: {index} (warm: {}) in {newest:?}",
                warm.contains(&index)
            );
        }
        assert_eq!(streams, [STREAM], "night {night}");
        assert_eq!(
            outcome["warm"]["indices"]["count"],
            json!(warm.len()),
            "night {night}: {result}"
        );
    }
    functions.stop().await;

    // The seven newest, night 10's (pinned) and night 19's (the audit index's last copy).
    let mut expected: Vec<String> = taken[taken.len() - KEEP_LAST..].to_vec();
    expected.push(taken[10].clone());
    expected.push(taken[19].clone());
    expected.sort();
    let remaining = snapshots(domain, "nightly").await;
    assert_eq!(
        remaining.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(
        remaining.iter().all(|(_, state)| state == "SUCCESS"),
        "{remaining:?}"
    );
    assert!(
        largest_repository <= expected.len() + 1,
        "{largest_repository}"
    );
    assert!(
        snapshot_contents(domain, &taken[19])
            .await
            .0
            .contains(&"audit-2026".to_owned())
    );
    standin.shutdown().await;
}

/// The faults the workflows are run under, each on a share of every domain request.
const WORKFLOW_FAULTS: [(&str, Fault); 4] = [
    ("504 after", Fault::GatewayTimeout),
    ("504 before", Fault::GatewayTimeoutQueued),
    ("429", Fault::TooManyRequests),
    ("dropped", Fault::DropConnection),
];

#[tokio::test(flavor = "multi_thread")]
async fn both_workflows_under_each_fault_succeed_and_lose_nothing() {
    let mut rows = Vec::new();
    for (label, fault) in WORKFLOW_FAULTS {
        // The backup: a snapshot taken, verified and pruned; every seeded snapshot kept.
        let standin = backup_standin(&format!("faulty-backup-{}", rows.len()), 4).await;
        let domain = &standin.domains[0];
        let seeded = [
            seed_nightly(domain, DAY).await,
            seed_nightly(domain, DAY * 2).await,
        ];
        domain
            .faults()
            .push(FaultRule::new(fault).always().with_probability(0.25));
        let mut functions = Functions::start(BACKUP_FUNCTIONS, &standin.s3_endpoint()).await;
        let backup = execute("backup", &backup_input(domain), &mut functions, |_| {}).await;
        functions.stop().await;
        let backup_faults = domain.faults().injected();
        domain.faults().clear();
        assert_eq!(backup["status"], "SUCCEEDED", "{label}: {backup}");
        assert_eq!(backup["notifications"], json!([]), "{label}");
        assert_eq!(domain.doc_count("logs"), Some(4), "{label}");
        let after = snapshots(domain, "nightly").await;
        assert!(
            seeded
                .iter()
                .all(|s| after.iter().any(|(n, state)| n == s && state == "SUCCESS")),
            "{label}: {after:?}"
        );
        assert_eq!(after.len(), 3, "{label}: one snapshot taken: {after:?}");
        standin.shutdown().await;

        // The migration: every index on the target with all its documents, restored once.
        let standin = migration_standin(&format!("faulty-migrate-{}", rows.len())).await;
        for domain in &standin.domains {
            domain
                .faults()
                .push(FaultRule::new(fault).always().with_probability(0.25));
        }
        let migration = run_migration(&standin).await;
        let migrate_faults: u64 = standin.domains.iter().map(|d| d.faults().injected()).sum();
        let (source, target) = (&standin.domains[0], &standin.domains[1]);
        for domain in &standin.domains {
            domain.faults().clear();
        }
        assert_eq!(migration["status"], "SUCCEEDED", "{label}: {migration}");
        for index in ["logs-2026.11.28", "orders"] {
            assert_eq!(
                target.doc_count(index),
                source.doc_count(index),
                "{label}: {index}"
            );
        }
        assert_eq!(source.doc_count("orders"), Some(5), "{label}");
        standin.shutdown().await;
        rows.push(format!(
            "{label}: backup SUCCEEDED ({backup_faults} faults), migration SUCCEEDED ({migrate_faults} faults)"
        ));
    }
    println!("workflows under faults:\n{}", rows.join("\n"));
}
