//! The migration path: a snapshot taken on one domain is listed and restored by another that
//! registers the same bucket and base path read-only — two domains in one process, and two
//! `standin` processes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{Api, BUCKET, Env};
use serde_json::{Value, json};
use signing::RetryPolicy;

/// Ingests into the source, snapshots it, restores on the target; returns both counts.
async fn migrate(source: &Api, target: &Api) {
    source.ingest("orders", 7).await;
    source.ingest("logs-2026.11.28", 4).await;
    source.register("migrate", "migration", false).await;
    let snapshot = source
        .snapshot("migrate", "move-1", json!({"indices": "orders,logs-*"}))
        .await;
    assert_eq!(snapshot["state"], "SUCCESS");

    target.register("migrate", "migration", true).await;
    let (status, listing) = target.get("/_snapshot/migrate/_all").await;
    assert_eq!(status, 200, "{listing}");
    let names: Vec<&str> = listing["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["snapshot"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["move-1"]);
    assert_eq!(listing["snapshots"][0]["uuid"], snapshot["uuid"]);

    let (status, body) = target
        .post(
            "/_snapshot/migrate/move-1/_restore?wait_for_completion=true",
            json!({"indices": "orders,logs-*", "include_global_state": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for index in ["orders", "logs-2026.11.28"] {
        assert_eq!(
            source.count(index).await,
            target.count(index).await,
            "{index}"
        );
    }
    assert_eq!(target.count("orders").await, 7);
    let (status, body) = target
        .put("/_snapshot/migrate/from-target", json!({}))
        .await;
    assert_eq!(
        (status, common::error_type(&body)),
        (500, "repository_exception"),
        "read-only"
    );
}

#[tokio::test]
async fn a_second_domain_restores_what_the_first_wrote() {
    let env = Env::new("migration").await;
    let a = env.domain("source").await;
    let b = env.domain("target").await;
    migrate(&Api::new(&a), &Api::new(&b)).await;
    a.shutdown().await;
    b.shutdown().await;
    env.shutdown().await;
}

/// A `standin` process; closing its stdin stops it.
struct Process {
    child: Child,
    line: Value,
}

impl Process {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_standin"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let line = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}: {first:?}"));
        Self { child, line }
    }

    fn endpoint(&self, key: &str) -> String {
        self.line[key].as_str().unwrap().to_owned()
    }

    fn stop(mut self) {
        drop(self.child.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

#[tokio::test]
async fn two_standin_processes_migrate_through_one_bucket() {
    let root = std::env::temp_dir().join(format!("standin-processes-{}", std::process::id()));
    let root_text = root.to_string_lossy().into_owned();
    let source = Process::start(&[
        "--s3-root",
        &root_text,
        "--bucket",
        BUCKET,
        "--domain",
        "source",
        "--snapshot-ms",
        "50",
        "--recovery-ms",
        "50",
    ]);
    let s3 = source.endpoint("s3_endpoint");
    assert_eq!(source.line["region"], "us-east-1");
    let target = Process::start(&[
        "--s3-endpoint",
        &s3,
        "--domain",
        "target",
        "--engine",
        "opensearch:2.17.0",
        "--recovery-ms",
        "50",
    ]);
    assert!(target.line.get("s3_endpoint").is_none());

    let api = |p: &Process| {
        Api::with_client(common::client(
            &p.endpoint("domain_endpoint"),
            "standin-secret",
            RetryPolicy::none(),
        ))
    };
    let (a, b) = (api(&source), api(&target));
    let (_, info) = b.get("/").await;
    assert_eq!(info["version"]["number"], "2.17.0");
    migrate(&a, &b).await;

    target.stop();
    source.stop();
    let _ = std::fs::remove_dir_all(&root);
}
