//! The safety rules, each proved on an emulated domain through the built functions: what the
//! domain holds afterwards, not only what the function answered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    World, domain_json, listed, ok, operator_send, poll_done, put_doc, register_nightly,
    snapshot_names, world,
};
use e2e::LambdaFunction;
use http::Method;
use serde_json::{Value, json};

/// A snapshot taken by the operator (not osnap), of `indices`, finished before it returns.
async fn operator_snapshot(world: &World, name: &str, indices: &str) {
    let (status, body) = operator_send(
        world,
        Method::PUT,
        &["_snapshot", "nightly", name],
        &[("wait_for_completion", "true")],
        Some(json!({"indices": indices, "include_global_state": false})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

fn counts(world: &World, indices: &[&str]) -> Vec<Option<usize>> {
    indices.iter().map(|i| world.domain.doc_count(i)).collect()
}

/// The names of a bounded output list (`{"count", "names", "truncated"}`) or of a plain one.
fn names(list: &Value) -> Vec<String> {
    list.get("names")
        .unwrap_or(list)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn restores_never_touch_system_indices_and_a_conflict_changes_nothing() {
    let world = world("safety-restore").await;
    for (index, id) in [("logs", "1"), ("logs", "2"), ("orders", "1")] {
        put_doc(&world, index, id).await;
    }
    for index in [
        ".kibana_1",
        ".opendistro-job-scheduler-lock",
        ".plugins-ml-config",
    ] {
        put_doc(&world, index, "1").await;
    }
    register_nightly(&world, "safety").await;
    // An operator's snapshot that holds system indices too.
    operator_snapshot(
        &world,
        "with-system",
        "logs,orders,.kibana_1,.opendistro-job-scheduler-lock,.plugins-ml-config",
    )
    .await;
    // Life goes on after the snapshot.
    put_doc(&world, "logs", "3").await;
    put_doc(&world, ".kibana_1", "2").await;
    let watched = [
        "logs",
        "orders",
        ".kibana_1",
        ".opendistro-job-scheduler-lock",
        ".plugins-ml-config",
    ];
    let before = counts(&world, &watched);
    assert_eq!(before[..2], [Some(3), Some(1)]);
    assert!(before.iter().all(Option::is_some), "{before:?}");

    let domain = domain_json(&world);
    let restore = LambdaFunction::start("restore", &[]).await.unwrap();
    let event = |extra: Value| {
        let mut event =
            json!({"domain": domain, "repository": "nightly", "snapshot": "with-system"});
        event
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        event
    };

    // on_conflict fail (the default): refused, naming the conflicts, nothing changed.
    let conflict = restore.invoke(&event(json!({}))).await.unwrap();
    assert_eq!(
        conflict.error_type(),
        Some("RestoreConflict"),
        "{conflict:?}"
    );
    let message = format!("{conflict:?}");
    assert!(
        message.contains("logs") && message.contains("orders"),
        "{message}"
    );
    assert_eq!(counts(&world, &watched), before);

    // replace, dry run: the plan, and still nothing changed.
    let plan = ok(
        restore
            .invoke(&event(json!({"on_conflict": "replace", "dry_run": true})))
            .await
            .unwrap(),
        "replace dry run",
    );
    assert_eq!(plan["dry_run"], true);
    assert_eq!(names(&plan["replaced"]), ["logs", "orders"]);
    assert_eq!(counts(&world, &watched), before);

    // Naming a system index explicitly still never deletes or overwrites it.
    let named = restore
        .invoke(&event(
            json!({"on_conflict": "replace", "indices": [".kibana_1"]}),
        ))
        .await
        .unwrap();
    assert_eq!(named.error_type(), Some("UnsafeOperation"), "{named:?}");
    assert_eq!(counts(&world, &watched), before);

    // replace: the user indices go back to the snapshot; every system index is untouched.
    let replaced = ok(
        restore
            .invoke(&event(json!({"on_conflict": "replace"})))
            .await
            .unwrap(),
        "replace",
    );
    assert_eq!(names(&replaced["replaced"]), ["logs", "orders"]);
    assert_eq!(names(&replaced["restored"]), ["logs", "orders"]);
    restore.stop().await;
    let verify = LambdaFunction::start("verify", &[]).await.unwrap();
    poll_done(
        &verify,
        &json!({"domain": domain, "repository": "nightly", "check": "restore", "indices": ["logs", "orders"]}),
    )
    .await;
    verify.stop().await;
    // `logs` is back to its two snapshot documents; the system indices are as they were.
    let after = counts(&world, &watched);
    assert_eq!(after[..2], [Some(2), Some(1)]);
    assert_eq!(after[2..], before[2..]);
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_that_is_not_success_is_never_restored_over_live_indices() {
    let world = world("safety-partial").await;
    put_doc(&world, "logs", "1").await;
    put_doc(&world, "broken", "1").await;
    register_nightly(&world, "partial").await;
    world.domain.mark_index_red("broken");
    let domain = domain_json(&world);
    let snapshot = LambdaFunction::start("snapshot", &[]).await.unwrap();
    ok(
        snapshot
            .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "half", "partial": true}))
            .await
            .unwrap(),
        "partial snapshot",
    );
    snapshot.stop().await;
    let verify = LambdaFunction::start("verify", &[]).await.unwrap();
    let verified = poll_done(
        &verify,
        &json!({"domain": domain, "repository": "nightly", "snapshot": "half"}),
    )
    .await;
    verify.stop().await;
    assert_eq!(
        (verified["state"].as_str(), verified["ok"].as_bool()),
        (Some("PARTIAL"), Some(false)),
        "{verified}"
    );
    put_doc(&world, "logs", "2").await;

    let restore = LambdaFunction::start("restore", &[]).await.unwrap();
    let refused = restore
        .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "half", "on_conflict": "replace"}))
        .await
        .unwrap();
    assert_eq!(refused.error_type(), Some("SnapshotFailed"), "{refused:?}");
    // Even when partial is accepted, replace never deletes for a snapshot that is not SUCCESS.
    let refused = restore
        .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "half", "on_conflict": "replace", "partial": true}))
        .await
        .unwrap();
    assert_eq!(refused.error_type(), Some("UnsafeOperation"), "{refused:?}");
    restore.stop().await;
    assert_eq!(world.domain.doc_count("logs"), Some(2));
    assert_eq!(world.domain.doc_count("broken"), Some(1));
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_keeps_min_count_pinned_snapshots_protected_last_copies_and_running_snapshots() {
    let world = world("safety-prune").await;
    put_doc(&world, "logs", "1").await;
    put_doc(&world, "archive", "1").await;
    register_nightly(&world, "prune").await;
    // The oldest snapshot is pinned in its own metadata, which the brief listing lacks.
    let (status, body) = operator_send(
        &world,
        Method::PUT,
        &["_snapshot", "nightly", "nightly-2026.11.19-030000"],
        &[("wait_for_completion", "true")],
        Some(
            json!({"indices": "logs", "include_global_state": false, "metadata": {"pinned": true}}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The only copy of `archive` is the next oldest; the index is then dropped.
    operator_snapshot(&world, "nightly-2026.11.20-030000", "logs,archive").await;
    let (status, _) = operator_send(&world, Method::DELETE, &["archive"], &[], None).await;
    assert_eq!(status, 200);
    for day in 21..=25 {
        operator_snapshot(&world, &format!("nightly-2026.11.{day}-030000"), "logs").await;
    }
    let domain = domain_json(&world);
    let prune = LambdaFunction::start("prune", &[]).await.unwrap();

    // Everything is older than a day, but min_count keeps the three newest successes and the
    // pinned one stays. No index is protected unless asked: the only copy of `archive` would go.
    let plain = ok(
        prune
            .invoke(&json!({"domain": domain, "repository": "nightly", "max_age": "1d", "min_count": 3, "dry_run": true}))
            .await
            .unwrap(),
        "prune by age, dry run",
    );
    assert_eq!(
        plain["deleted"],
        listed(&[
            "nightly-2026.11.20-030000",
            "nightly-2026.11.21-030000",
            "nightly-2026.11.22-030000"
        ])
    );
    assert_eq!(
        plain["kept"],
        listed(&[
            "nightly-2026.11.25-030000",
            "nightly-2026.11.24-030000",
            "nightly-2026.11.23-030000",
            "nightly-2026.11.19-030000"
        ])
    );
    assert_eq!(
        plain["protected"],
        json!({"in_progress": 0, "unknown_time": 0, "min_count": 3, "pinned": 1, "last_copy": 0})
    );
    assert_eq!(snapshot_names(&world, "nightly").await.len(), 7);

    // Asked to, it keeps the newest (only) copy of `archive`.
    let aged = ok(
        prune
            .invoke(&json!({"domain": domain, "repository": "nightly", "max_age": "1d", "min_count": 3, "protect_last_copy_of": ["archive"]}))
            .await
            .unwrap(),
        "prune by age",
    );
    assert_eq!(
        aged["deleted"],
        listed(&["nightly-2026.11.21-030000", "nightly-2026.11.22-030000"])
    );
    assert_eq!(
        aged["protected"],
        json!({"in_progress": 0, "unknown_time": 0, "min_count": 3, "pinned": 1, "last_copy": 1})
    );
    assert_eq!(
        snapshot_names(&world, "nightly").await,
        [
            "nightly-2026.11.19-030000",
            "nightly-2026.11.20-030000",
            "nightly-2026.11.23-030000",
            "nightly-2026.11.24-030000",
            "nightly-2026.11.25-030000"
        ]
    );

    // A snapshot still running is never deleted, whatever the rule says.
    world.domain.faults().set_stuck_snapshots(true);
    let snapshot = LambdaFunction::start("snapshot", &[]).await.unwrap();
    ok(
        snapshot
            .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "nightly-2026.11.26-030000"}))
            .await
            .unwrap(),
        "running snapshot",
    );
    snapshot.stop().await;
    let pruned = ok(
        prune
            .invoke(&json!({"domain": domain, "repository": "nightly", "keep_last": 1, "protect_last_copy_of": ["archive"]}))
            .await
            .unwrap(),
        "prune keep_last 1",
    );
    let deleted = names(&pruned["deleted"]["names"]);
    assert_eq!(pruned["deleted"]["count"], deleted.len());
    assert!(
        !deleted.iter().any(|d| d.ends_with("26-030000")
            || d.ends_with("20-030000")
            || d.ends_with("19-030000")),
        "{deleted:?}"
    );
    assert_eq!(pruned["protected"]["in_progress"], 1, "{pruned}");
    let left = snapshot_names(&world, "nightly").await;
    assert!(
        left.contains(&"nightly-2026.11.20-030000".to_owned()),
        "{left:?}"
    );
    assert!(
        left.contains(&"nightly-2026.11.26-030000".to_owned()),
        "{left:?}"
    );
    assert!(
        left.contains(&"nightly-2026.11.19-030000".to_owned()),
        "{left:?}"
    );
    world.domain.faults().set_stuck_snapshots(false);
    prune.stop().await;
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}
