//! The snapshot's manifest end to end: the built snapshot function writes it into the
//! stand-in's S3 under the repository's base path, verify completes it once the snapshot is
//! SUCCESS, and verify's count check judges a restored copy against it, or says there is none.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, domain_json, ok, operator_call, operator_send, poll_done, put_doc};
use e2e::LambdaFunction;
use http::Method;
use serde_json::{Value, json};

/// The object `key` of the world's bucket, read through the S3 protocol.
async fn s3_object(world: &World, key: &str) -> Option<Value> {
    let answer = world
        .s3
        .client()
        .get_object()
        .bucket("snapshots")
        .key(key)
        .send()
        .await
        .ok()?;
    let bytes = answer.body.collect().await.unwrap().into_bytes();
    Some(serde_json::from_slice(&bytes).unwrap())
}

/// Every key of the world's bucket.
async fn s3_keys(world: &World) -> Vec<String> {
    let listing = world
        .s3
        .client()
        .list_objects_v2()
        .bucket("snapshots")
        .send()
        .await
        .unwrap();
    listing
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

async fn functions(world: &World, names: &[&str]) -> Vec<LambdaFunction> {
    let s3 = world.s3.endpoint();
    let mut started = Vec::new();
    for name in names {
        started.push(
            LambdaFunction::start(name, &[("OSNAP_S3_ENDPOINT", &s3)])
                .await
                .unwrap(),
        );
    }
    started
}

fn event(world: &World, extra: Value) -> Value {
    common::event_in(world, "nightly", &extra)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snapshot_function_writes_the_manifest_and_verify_completes_it() {
    let world = common::world("manifest-written").await;
    for id in ["1", "2", "3"] {
        put_doc(&world, "logs-1", id).await;
    }
    put_doc(&world, "orders", "1").await;
    let (status, body) = operator_send(
        &world,
        Method::PUT,
        &["logs-1", "_alias", "logs"],
        &[],
        Some(json!({"is_write_index": true})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    common::register_nightly(&world, "prod/logs").await;
    let mut started = functions(&world, &["snapshot", "verify"]).await;
    let verify = started.pop().unwrap();
    let snapshot = started.pop().unwrap();

    let taken = ok(
        snapshot
            .invoke(&event(&world, json!({"snapshot": "nightly-m1"})))
            .await
            .unwrap(),
        "snapshot",
    );
    let key = "prod/logs/osnap/manifests/nightly-m1.json";
    assert_eq!(
        taken["manifest"],
        json!({"status": "written", "key": key}),
        "{taken}"
    );
    let written = s3_object(&world, key).await.expect("the manifest is in S3");
    assert_eq!(written["format"], "osnap-manifest/1");
    assert_eq!(written["snapshot"], "nightly-m1");
    assert_eq!(written["engine"], "OpenSearch 2.13.0");
    assert_eq!(written["completed"], Value::Null, "{written}");
    let indices = written["indices"].as_object().unwrap();
    let mut names: Vec<&str> = indices.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["logs-1", "orders"],
        "system indices are not snapshotted"
    );
    let logs = &indices["logs-1"];
    assert_eq!(logs["docs_before"], 3);
    assert_eq!(logs["primary_shards"], 1);
    assert!(logs["primary_store_bytes"].as_u64().unwrap() > 0, "{logs}");
    assert_eq!(logs["aliases"], json!({"logs": {"is_write_index": true}}));
    // The fingerprint is the mappings' as the domain shows them.
    let (_, described) = operator_call(&world, Method::GET, &["logs-1"], &[]).await;
    assert_eq!(
        logs["mapping_sha256"].as_str().unwrap(),
        operations::manifest::fingerprint::mapping_fingerprint(&described["logs-1"]["mappings"])
    );
    assert_eq!(
        logs["settings_sha256"].as_str().unwrap(),
        operations::manifest::fingerprint::settings_fingerprint(&described["logs-1"]["settings"])
    );
    // osnap's object is beside the engine's files, never among them.
    let keys = s3_keys(&world).await;
    assert!(keys.iter().any(|k| k == key), "{keys:?}");
    assert!(
        keys.iter()
            .filter(|k| k.contains("/osnap/"))
            .all(|k| k == key),
        "{keys:?}"
    );

    // Documents written while it runs count after, not before.
    put_doc(&world, "logs-1", "4").await;
    let verdict = poll_done(&verify, &event(&world, json!({"snapshot": "nightly-m1"}))).await;
    assert_eq!(verdict["state"], "SUCCESS", "{verdict}");
    assert_eq!(verdict["manifest"]["status"], "written", "{verdict}");
    let completed = s3_object(&world, key).await.unwrap();
    assert_eq!(completed["completed"]["state"], "SUCCESS", "{completed}");
    assert!(completed["completed"]["snapshot_uuid"].is_string());
    assert_eq!(completed["indices"]["logs-1"]["docs_before"], 3);
    assert_eq!(completed["indices"]["logs-1"]["docs_after"], 4);
    assert_eq!(completed["indices"]["orders"]["docs_after"], 1);
    // Completed once: a later check leaves it as it is.
    put_doc(&world, "logs-1", "5").await;
    let again = ok(
        verify
            .invoke(&event(&world, json!({"snapshot": "nightly-m1"})))
            .await
            .unwrap(),
        "verify",
    );
    assert_eq!(again["manifest"], json!({"status": "kept", "key": key}));
    assert_eq!(s3_object(&world, key).await.unwrap(), completed);

    // A retried invocation finds the snapshot taken and keeps the first manifest.
    let retried = ok(
        snapshot
            .invoke(&event(&world, json!({"snapshot": "nightly-m1"})))
            .await
            .unwrap(),
        "snapshot",
    );
    assert_eq!(retried["started"], false);
    assert_eq!(retried["manifest"]["status"], "kept", "{retried}");
    assert_eq!(s3_object(&world, key).await.unwrap(), completed);
    snapshot.stop().await;
    verify.stop().await;
}

/// The gateway's 504 before the domain took the create (the create still queued): the lookup
/// finds nothing, so the invocation fails retryably, with its manifest written from the counts
/// read before the create; the retry finds the snapshot taken and keeps that manifest.
#[tokio::test(flavor = "multi_thread")]
async fn a_create_answered_504_before_the_domain_took_it_keeps_its_manifest_through_the_retry() {
    let world = common::world("manifest-queued").await;
    for id in ["1", "2"] {
        put_doc(&world, "logs-1", id).await;
    }
    common::register_nightly(&world, "prod").await;
    world.domain.faults().push(
        standin::FaultRule::new(standin::Fault::GatewayTimeoutQueued)
            .on(Method::PUT, "/_snapshot/nightly/")
            .times(1),
    );
    let mut started = functions(&world, &["snapshot", "verify"]).await;
    let verify = started.pop().unwrap();
    let snapshot = started.pop().unwrap();
    let request = event(&world, json!({"snapshot": "nightly-q1"}));

    let first = snapshot.invoke(&request).await.unwrap();
    assert_eq!(first.error_type(), Some("DomainUnavailable"), "{first:?}");
    assert_eq!(world.domain.faults().injected(), 1);
    let key = "prod/osnap/manifests/nightly-q1.json";
    let written = s3_object(&world, key)
        .await
        .expect("written before the failure");
    assert_eq!(written["indices"]["logs-1"]["docs_before"], 2);

    // Written after the first invocation's counts: not in its manifest's "before".
    put_doc(&world, "logs-1", "3").await;
    let retried = ok(snapshot.invoke(&request).await.unwrap(), "retried snapshot");
    assert_eq!(retried["started"], false, "{retried}");
    assert_eq!(
        retried["manifest"],
        json!({"status": "kept", "key": key}),
        "{retried}"
    );
    assert_eq!(
        common::snapshot_names(&world, "nightly").await,
        ["nightly-q1"]
    );
    let verdict = poll_done(&verify, &request).await;
    assert_eq!(verdict["state"], "SUCCESS", "{verdict}");
    let completed = s3_object(&world, key).await.unwrap();
    assert_eq!(
        completed["indices"]["logs-1"]["docs_before"], 2,
        "{completed}"
    );
    snapshot.stop().await;
    verify.stop().await;
}

/// A snapshot osnap did not take has no manifest: the count check says so and compares with
/// the source as it is now, which passes only while the counts are equal.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_manifest_the_count_check_says_so_and_never_passes_a_difference() {
    let world = common::world_with_nightly("manifest-none", &["orders"]).await;
    put_doc(&world, "orders", "2").await;
    let (status, body) = operator_send(
        &world,
        Method::PUT,
        &["_snapshot", "nightly", "other-tool-1"],
        &[("wait_for_completion", "true")],
        Some(json!({"indices": "orders"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let restore_of =
        json!({"snapshot": "other-tool-1", "indices": ["orders"], "on_conflict": "rename"});
    let restored = operations::restore::handle(
        common::context(None),
        event(
            &world,
            json!({"snapshot": "other-tool-1", "indices": ["orders"], "on_conflict": "rename"}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(restored.restored.names, ["restored-orders"]);
    common::recovered(&world, &["restored-orders"]).await;
    let mut started = functions(&world, &["verify"]).await;
    let verify = started.pop().unwrap();
    let check = event(
        &world,
        json!({"check": "counts", "restore_of": restore_of, "source": domain_json(&world)}),
    );

    let same = ok(verify.invoke(&check).await.unwrap(), "verify");
    assert_eq!(
        (same["ok"].as_bool(), same["state"].as_str()),
        (Some(true), Some("MATCH_LIVE_SOURCE")),
        "{same}"
    );
    assert_eq!(same["counts"]["basis"], "live_source");
    let why = same["counts"]["no_manifest"].as_str().unwrap();
    assert!(
        why.contains("manifest-none/osnap/manifests/other-tool-1.json")
            && why.contains("not taken by osnap"),
        "{why}"
    );

    put_doc(&world, "orders", "3").await;
    let moved = ok(verify.invoke(&check).await.unwrap(), "verify");
    assert_eq!(
        (moved["ok"].as_bool(), moved["state"].as_str()),
        (Some(false), Some("UNVERIFIED")),
        "{moved}"
    );
    assert!(
        moved["failures"][0]
            .as_str()
            .unwrap()
            .contains("cannot be told"),
        "{moved}"
    );
    verify.stop().await;
}
