//! The metrics the built functions write, read from their real log output (through the real
//! Lambda Runtime API, with Lambda's JSON log format), checked against the Embedded Metric
//! Format's rules and against what the alarms and the dashboard in `infra/template.yaml` ask
//! for: the same namespace, metric names and dimension names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod common;

use common::{domain_json, ok, poll_done, put_doc, world_with_nightly};
use e2e::LambdaFunction;
use serde_json::{Value, json};

/// The template as JSON, read by cfn-lint's own decoder (which knows CloudFormation's tags),
/// from the project's pinned tools, as `./dev test` installs them.
fn template() -> Value {
    let root = e2e::workspace_root();
    let python = root.join(".tools/venv/bin/python");
    let output = std::process::Command::new(&python)
        .args([
            "-c",
            "import json, sys; from cfnlint.decode import cfn_yaml; \
             print(json.dumps(cfn_yaml.load(sys.argv[1])))",
        ])
        .arg(root.join("infra/template.yaml"))
        .output()
        .unwrap_or_else(|e| panic!("{} (./dev test installs it): {e}", python.display()));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A function logging to its own file.
async fn start(name: &str, dir: &Path, s3: &str) -> (LambdaFunction, PathBuf) {
    let log = dir.join(format!("{name}.log"));
    let function = LambdaFunction::start_logging_to(
        name,
        &[("AWS_LAMBDA_LOG_FORMAT", "JSON"), ("OSNAP_S3_ENDPOINT", s3)],
        Some(&log),
    )
    .await
    .unwrap();
    (function, log)
}

/// The EMF documents among a log's lines. Every line must be JSON: Lambda's JSON format
/// takes each line as one event.
fn emf_documents(log: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(log).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|l| l.get("_aws").is_some())
        .collect()
}

/// The specification's rules, checked on a document as CloudWatch Logs would receive it.
fn check_emf(doc: &Value) {
    let aws = &doc["_aws"];
    assert!(aws["Timestamp"].is_u64(), "Timestamp in ms: {doc}");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let at = aws["Timestamp"].as_u64().unwrap();
    assert!(
        at <= now_ms && now_ms - at < 600_000,
        "the invocation's time: {doc}"
    );
    let directives = aws["CloudWatchMetrics"].as_array().unwrap();
    assert!(!directives.is_empty(), "{doc}");
    for directive in directives {
        assert!(directive["Namespace"].is_string(), "{doc}");
        let sets = directive["Dimensions"].as_array().unwrap();
        assert!(!sets.is_empty(), "{doc}");
        for set in sets {
            let set = set.as_array().unwrap();
            assert!(set.len() <= 30, "{doc}");
            for name in set {
                let value = &doc[name.as_str().unwrap()];
                assert!(
                    value
                        .as_str()
                        .is_some_and(|v| !v.is_empty() && v.len() <= 1024),
                    "dimension {name} must be a string member: {doc}"
                );
            }
        }
        let metrics = directive["Metrics"].as_array().unwrap();
        assert!(!metrics.is_empty() && metrics.len() <= 100, "{doc}");
        for metric in metrics {
            let name = metric["Name"].as_str().unwrap();
            assert!(
                doc[name].is_number(),
                "metric {name} must be a number: {doc}"
            );
            assert!(metric["Unit"].is_string(), "{doc}");
        }
    }
}

/// (namespace, metric name, dimension names, the document) of every metric written.
fn written(docs: &[Value]) -> Vec<(String, String, BTreeSet<String>, Value)> {
    let mut all = Vec::new();
    for doc in docs {
        for directive in doc["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            for set in directive["Dimensions"].as_array().unwrap() {
                let dimensions: BTreeSet<String> = set
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_str().unwrap().to_owned())
                    .collect();
                for metric in directive["Metrics"].as_array().unwrap() {
                    all.push((
                        directive["Namespace"].as_str().unwrap().to_owned(),
                        metric["Name"].as_str().unwrap().to_owned(),
                        dimensions.clone(),
                        doc.clone(),
                    ));
                }
            }
        }
    }
    all
}

/// The value the template's dead-man's switch gives its Domain dimension for an endpoint
/// passed as DomainEndpoint: the text between `https://` and the first slash (the stand-in
/// speaks plain http on loopback, so its scheme is read as https's).
fn template_domain_value(endpoint: &str) -> String {
    let https = endpoint.replacen("http://", "https://", 1);
    let joined: String = https.split("https://").collect();
    joined.split('/').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_functions_write_the_metrics_the_alarms_and_dashboard_read() {
    let world = world_with_nightly("metrics", &["orders"]).await;
    let domain = domain_json(&world);
    let dir = std::env::temp_dir().join(format!("osnap-e2e-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = common::tempdir::Dir(dir.clone());
    let s3 = world.s3.endpoint();

    let (snapshot, snapshot_log) = start("snapshot", &dir, &s3).await;
    let (verify, verify_log) = start("verify", &dir, &s3).await;
    let mut names = Vec::new();
    for hour in ["01", "02"] {
        let event = json!({"domain": domain, "repository": "nightly", "time": format!("2026-11-28T{hour}:00:00Z")});
        let taken = ok(snapshot.invoke(&event).await.unwrap(), "snapshot");
        let name = taken["snapshot"].as_str().unwrap().to_owned();
        let verdict = poll_done(
            &verify,
            &json!({"domain": domain, "repository": "nightly", "snapshot": name}),
        )
        .await;
        assert_eq!(verdict["ok"], true, "{verdict}");
        names.push(name);
    }
    let mut end_times = Vec::new();
    for name in &names {
        let (_, found) = common::operator_call(
            &world,
            http::Method::GET,
            &["_snapshot", "nightly", name],
            &[],
        )
        .await;
        end_times.push(
            found["snapshots"][0]["end_time_in_millis"]
                .as_f64()
                .unwrap(),
        );
    }
    // Judged again later, the first snapshot still counts for the time it was taken.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let again = ok(
        verify
            .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": names[0]}))
            .await
            .unwrap(),
        "verify again",
    );
    assert_eq!(again["ok"], true, "{again}");
    // A bad verdict raised as an error is still counted.
    let raised = verify
        .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": names[0], "expect_indices": ["missing-*"], "raise_on_failure": true}))
        .await
        .unwrap();
    assert_eq!(raised.error_type(), Some("SnapshotFailed"));
    snapshot.stop().await;

    let (restore, restore_log) = start("restore", &dir, &s3).await;
    let restored = ok(
        restore
            .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": names[1], "on_conflict": "rename"}))
            .await
            .unwrap(),
        "restore",
    );
    assert_eq!(restored["restored"]["names"], json!(["restored-orders"]));
    poll_done(
        &verify,
        &json!({"domain": domain, "repository": "nightly", "check": "restore", "indices": ["restored-orders"]}),
    )
    .await;
    let counts = json!({"domain": domain, "repository": "nightly", "check": "counts", "source": domain,
        "restore_of": {"snapshot": names[1], "on_conflict": "rename"}});
    assert_eq!(
        ok(verify.invoke(&counts).await.unwrap(), "counts")["ok"],
        true
    );
    put_doc(&world, "restored-orders", "extra").await;
    assert_eq!(
        ok(verify.invoke(&counts).await.unwrap(), "counts")["ok"],
        false
    );
    // A drill that passes, then one of documents altered in the bucket, which fails.
    let drill = |phase: &str| {
        json!({"domain": domain, "repository": "nightly", "check": "drill", "snapshot": names[1],
            "drill": {"sample": {"indices": ["orders"]}}, "drill_phase": phase})
    };
    for (altered, state) in [(false, "DRILL_PASSED"), (true, "DRILL_FAILED")] {
        if altered {
            let changed =
                standin::domain::drop_a_stored_document(&world.s3.client(), "snapshots", "orders")
                    .await;
            assert!(changed >= 1);
        }
        ok(verify.invoke(&drill("start")).await.unwrap(), "drill start");
        let judged = poll_done(&verify, &drill("check")).await;
        assert_eq!(judged["state"], state, "{judged}");
    }
    restore.stop().await;
    verify.stop().await;

    let (prune, prune_log) = start("prune", &dir, &s3).await;
    ok(
        prune
            .invoke(&json!({"domain": domain, "repository": "nightly", "keep_last": 1, "dry_run": true}))
            .await
            .unwrap(),
        "prune dry run",
    );
    ok(
        prune
            .invoke(&json!({"domain": domain, "repository": "nightly", "keep_last": 1}))
            .await
            .unwrap(),
        "prune",
    );
    prune.stop().await;

    let snapshot_docs = emf_documents(&snapshot_log);
    let verify_docs = emf_documents(&verify_log);
    let restore_docs = emf_documents(&restore_log);
    let prune_docs = emf_documents(&prune_log);
    let docs: Vec<Value> = [&snapshot_docs, &verify_docs, &restore_docs, &prune_docs]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    docs.iter().for_each(check_emf);
    assert_eq!(snapshot_docs.len(), 2, "one per started snapshot");
    // Three good verdicts, one raised, a recovery, a match and a mismatch, two drills; no
    // line for polls of work still running.
    assert_eq!(verify_docs.len(), 9, "{verify_docs:#?}");
    assert_eq!(restore_docs.len(), 1);
    assert_eq!(prune_docs.len(), 1, "the dry run writes none");
    let endpoint = world.domain.endpoint();
    for doc in &docs {
        assert_eq!(doc["Domain"], template_domain_value(&endpoint), "{doc}");
        assert_eq!(doc["Repository"], "nightly", "{doc}");
        assert!(doc["request_id"].is_string(), "{doc}");
    }
    let value_of = |name: &str| -> Vec<f64> {
        docs.iter()
            .filter_map(|d| d.get(name).and_then(Value::as_f64))
            .collect()
    };
    assert_eq!(value_of("SnapshotSucceeded"), [1.0, 1.0, 1.0]);
    // A verdict is about the snapshot's time, not the time it was judged (the third is the
    // first snapshot's, judged 3 s later).
    let verdict_times: Vec<f64> = docs
        .iter()
        .filter(|d| d.get("SnapshotSucceeded").is_some())
        .map(|d| d["_aws"]["Timestamp"].as_f64().unwrap())
        .collect();
    let taken = [end_times[0], end_times[1], end_times[0]];
    for (at, end) in verdict_times.iter().zip(taken) {
        assert!((at - end).abs() < 1_500.0, "stamped {at}, taken {end}");
    }
    assert_eq!(value_of("SnapshotFailed"), [1.0]);
    assert_eq!(value_of("ShardsFailed"), [0.0, 0.0, 0.0]);
    assert_eq!(value_of("SnapshotDuration").len(), 3);
    // Once per snapshot, from its manifest: the data it protects.
    let sizes = value_of("SnapshotIndexBytes");
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    assert!(sizes.iter().all(|b| *b > 0.0), "{sizes:?}");
    assert!(value_of("SnapshotAge").iter().all(|age| *age < 600.0));
    assert_eq!(value_of("IndicesRestored"), [1.0]);
    assert_eq!(value_of("IndicesReplaced"), [0.0]);
    assert_eq!(value_of("RestoreRecovered"), [1.0]);
    assert_eq!(value_of("RestoreDuration").len(), 1);
    assert_eq!(value_of("RestoreSucceeded"), [1.0]);
    assert_eq!(value_of("RestoreFailed"), [1.0]);
    assert_eq!(value_of("DrillPassed"), [1.0]);
    assert_eq!(value_of("DrillFailed"), [1.0]);
    assert_eq!(value_of("SnapshotsDeleted"), [1.0]);
    assert_eq!(value_of("SnapshotsKept"), [1.0]);
    assert_eq!(value_of("SnapshotsPending"), [0.0]);

    // Every osnap alarm's metric is written, with its namespace and exactly its dimensions.
    let template = template();
    let resources = template["Resources"].as_object().unwrap();
    let all = written(&docs);
    let mut osnap_alarms = 0;
    for (name, resource) in resources {
        if resource["Type"] != "AWS::CloudWatch::Alarm"
            || resource["Properties"]["Namespace"] != "osnap"
        {
            continue;
        }
        osnap_alarms += 1;
        let props = &resource["Properties"];
        let metric = props["MetricName"].as_str().unwrap();
        let dimensions: BTreeSet<String> = props["Dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["Name"].as_str().unwrap().to_owned())
            .collect();
        let matching: Vec<&Value> = all
            .iter()
            .filter(|(ns, m, dims, _)| ns == "osnap" && m == metric && *dims == dimensions)
            .map(|(_, _, _, doc)| doc)
            .collect();
        assert!(
            !matching.is_empty(),
            "{name} reads {metric} {dimensions:?}, which no function wrote"
        );
        if props["TreatMissingData"] == "breaching" {
            // A dead-man's switch: its metric is written only for good outcomes.
            assert_eq!(matching.len(), 3, "{name}: only the good verdicts");
            let repository = &props["Dimensions"].as_array().unwrap()[1];
            assert_eq!(repository["Value"], json!({"Ref": "RepositoryName"}));
        }
    }
    assert!(osnap_alarms >= 1, "the template has no osnap alarm");

    // Every metric the dashboard shows is one the functions write.
    let body = resources["BackupDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
        .as_str()
        .unwrap();
    let searched: BTreeSet<&str> = body
        .split("MetricName=\\\"")
        .skip(1)
        .map(|rest| rest.split('\\').next().unwrap())
        .chain(
            body.contains("\"osnap\", \"SnapshotSucceeded\"")
                .then_some("SnapshotSucceeded"),
        )
        .collect();
    assert!(searched.len() >= 8, "{searched:?}");
    for metric in searched {
        assert!(
            all.iter().any(|(ns, m, dims, _)| ns == "osnap"
                && m == metric
                && dims.iter().map(String::as_str).eq(["Domain", "Repository"])),
            "the dashboard shows {metric}, which no function wrote"
        );
    }
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}
