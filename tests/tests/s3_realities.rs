//! S3 failing under the engine, as on a real domain: the repository's bucket answers 500
//! `InternalError` or 503 `SlowDown`, the engine's S3 client retries (`repository-s3`'s
//! `max_retries`, 3 by default), and what still fails fails a shard, a snapshot's finalization
//! or a restored shard's recovery. Each test checks what osnap reports, and that no live
//! index is touched.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use http::Method;
use serde_json::{Value, json};
use standin::{S3Fault, S3FaultRule, S3Requests};

use common::{World, domain_json, operator_send, put_doc};

fn context_in(world: &World) -> operations::Context {
    common::context_in(world, None)
}

const DOCS: [(&str, usize); 2] = [("logs-1", 3), ("orders", 2)];

/// A world holding `logs-1` and `orders`, repository `nightly`, and with `snapshotted` the
/// snapshot `nightly-x` of both.
async fn world(name: &str, snapshotted: bool) -> World {
    let world = common::world_with(name, |config| {
        config.snapshot_duration = std::time::Duration::from_millis(20);
        config.recovery_duration = std::time::Duration::from_millis(20);
    })
    .await;
    for (index, docs) in DOCS {
        for id in 0..docs {
            put_doc(&world, index, &id.to_string()).await;
        }
    }
    operations::register::handle(
        context_in(&world),
        json!({"domain": domain_json(&world), "repository": "nightly",
            "settings": {"bucket": "snapshots", "region": "us-east-1", "base_path": name,
                "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE}}),
    )
    .await
    .unwrap();
    if snapshotted {
        let (status, body) = operator_send(
            &world,
            Method::PUT,
            &["_snapshot", "nightly", "nightly-x"],
            &[("wait_for_completion", "true")],
            Some(json!({"indices": "logs-1,orders"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    world
}

fn event(world: &World, extra: Value) -> Value {
    common::event_in(world, "nightly", &extra)
}

/// Every live index still holds its documents.
fn live_indices_intact(world: &World) {
    for (index, docs) in DOCS {
        assert_eq!(world.domain.doc_count(index), Some(docs), "{index}");
    }
}

/// Takes `nightly-new` through the snapshot function and polls verify until it is done: the
/// verdict, or verify's error (a snapshot in no listing is `SnapshotMissing`).
async fn snapshot_then_verify(
    world: &World,
) -> Result<operations::requests::VerifyResponse, operations::OsnapError> {
    let started = operations::snapshot::handle(
        context_in(world),
        event(
            world,
            json!({"snapshot": "nightly-new", "indices": ["logs-1", "orders"]}),
        ),
    )
    .await
    .unwrap();
    assert!(started.started, "{started:?}");
    for _ in 0..200 {
        let verdict = operations::verify::handle(
            context_in(world),
            event(world, json!({"snapshot": "nightly-new"})),
        )
        .await?;
        if verdict.done {
            return Ok(verdict);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the snapshot never finished");
}

#[tokio::test(flavor = "multi_thread")]
async fn shard_data_s3_refuses_fails_its_shards_and_verify_reports_the_snapshot_partial() {
    let world = world("s3-shard-data", false).await;
    world.s3.faults().push(
        S3FaultRule::new(S3Fault::InternalError)
            .on(S3Requests::Writes)
            .where_path_contains("/indices/"),
    );
    let verdict = snapshot_then_verify(&world).await.unwrap();
    assert_eq!(verdict.state, "PARTIAL", "{verdict:?}");
    assert!(!verdict.ok);
    assert_eq!(verdict.shards.failed, 2, "{verdict:?}");
    assert!(
        verdict
            .failures
            .iter()
            .any(|f| f.contains("AmazonS3Exception[We encountered an internal error")),
        "the shard failures say S3 refused: {:?}",
        verdict.failures
    );
    // The engine's client tried each upload four times.
    assert_eq!(
        world.s3.faults().injected(),
        2 * u64::from(standin::s3::ENGINE_S3_ATTEMPTS)
    );
    // With raise_on_failure (the backup workflow's VerifySnapshot), a typed error to notify.
    let raised = operations::verify::handle(
        context_in(&world),
        event(
            &world,
            json!({"snapshot": "nightly-new", "raise_on_failure": true}),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(raised.error_type(), "SnapshotFailed", "{raised}");
    live_indices_intact(&world);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_whose_metadata_s3_refuses_is_in_no_listing_and_verify_says_missing() {
    let world = world("s3-metadata", false).await;
    // The engine's own blobs, not osnap's manifest (`<base>/osnap/manifests/`).
    world.s3.faults().push(
        S3FaultRule::new(S3Fault::InternalError)
            .on(S3Requests::Writes)
            .where_path_contains("/snapshots/"),
    );
    let error = snapshot_then_verify(&world).await.unwrap_err();
    assert_eq!(error.error_type(), "SnapshotMissing", "{error}");
    world.s3.faults().clear();
    // The same name can be taken again once S3 is well: nothing of the failed one is listed.
    let verdict = snapshot_then_verify(&world).await.unwrap();
    assert!(verdict.ok, "{verdict:?}");
    live_indices_intact(&world);
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_slowing_down_once_per_object_is_absorbed_by_every_client() {
    let world = world("s3-slow-down", false).await;
    world
        .s3
        .faults()
        .push(S3FaultRule::new(S3Fault::SlowDown).first_per_path(1));
    let verdict = snapshot_then_verify(&world).await.unwrap();
    assert!(verdict.ok, "{verdict:?}");
    let manifest = verdict.manifest.expect("a manifest note");
    assert!(
        format!("{manifest:?}").contains("osnap/manifests/nightly-new.json"),
        "osnap's own S3 client retried too: {manifest:?}"
    );
    let restored = operations::restore::handle(
        context_in(&world),
        event(
            &world,
            json!({"snapshot": "nightly-new", "indices": ["logs-1", "orders"],
                "on_conflict": "rename"}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(restored.restored.count, 2, "{restored:?}");
    common::recovered(&world, &["restored-logs-1", "restored-orders"]).await;
    for (index, docs) in DOCS {
        assert_eq!(
            world.domain.doc_count(&format!("restored-{index}")),
            Some(docs)
        );
    }
    assert!(world.s3.faults().injected() > 4, "faults were injected");
    live_indices_intact(&world);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_whose_data_s3_refuses_while_it_recovers_is_reported_failed_not_waited_on() {
    let world = world("s3-recovery", true).await;
    // The restore reads each index's metadata, is accepted, then S3 fails the data reads of
    // every recovery the engine tries.
    world.s3.faults().push(
        S3FaultRule::new(S3Fault::InternalError)
            .on(S3Requests::Reads)
            .where_path_contains("/indices/")
            .after_per_path(1),
    );
    let restore_of = json!({"snapshot": "nightly-x", "indices": ["logs-1", "orders"],
        "on_conflict": "rename"});
    let restored =
        operations::restore::handle(context_in(&world), event(&world, restore_of.clone()))
            .await
            .unwrap();
    assert_eq!(restored.restored.count, 2, "accepted: {restored:?}");
    let check = json!({"check": "restore", "restore_of": restore_of});
    let verdict = operations::verify::handle(context_in(&world), event(&world, check.clone()))
        .await
        .unwrap();
    assert!(verdict.done && !verdict.ok, "{verdict:?}");
    assert_eq!(verdict.state, operations::verify::RESTORE_FAILED);
    let said = verdict.failures.join(" ");
    assert!(
        said.contains("restored-") && said.contains("InternalError"),
        "names a copy and the cause: {said}"
    );
    // The migrate workflow's VerifyRestore raises it, to be notified.
    let mut raising = check;
    raising["raise_on_failure"] = json!(true);
    let raised = operations::verify::handle(context_in(&world), event(&world, raising))
        .await
        .unwrap_err();
    assert_eq!(raised.error_type(), "SnapshotFailed", "{raised}");
    assert!(raised.to_string().contains("RESTORE_FAILED"), "{raised}");
    // The live indices the copies were renamed from are untouched.
    live_indices_intact(&world);
    world.s3.faults().clear();
}
