//! Restores whose answer is lost, as on a real domain: the gateway's 504 while the domain
//! goes on restoring, and a connection dropped before the domain read the request or after
//! it acted. Whatever
//! the conflict mode, the restore ends with every index present with all its documents,
//! restored exactly once, however often it is retried (the operations are called directly
//! on the stand-in, as a workflow's Retry would call the function again).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use http::Method;
use serde_json::{Value, json};
use standin::{Fault, FaultRule};

use common::{
    World, context, domain_json, operator_send, put_doc, recovered, register_nightly, world,
};

const DOCS: [(&str, usize); 2] = [("logs-1", 3), ("orders", 2)];

/// A world holding `logs-1` (3 documents) and `orders` (2) and their snapshot `nightly-x`.
async fn snapshotted(name: &str) -> World {
    let world = world(name).await;
    for (index, count) in DOCS {
        for id in 0..count {
            put_doc(&world, index, &id.to_string()).await;
        }
    }
    register_nightly(&world, name).await;
    let (status, body) = operator_send(
        &world,
        Method::PUT,
        &["_snapshot", "nightly", "nightly-x"],
        &[("wait_for_completion", "true")],
        Some(json!({"indices": "logs-1,orders"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    world
}

/// Index name → uuid, for the named indices that exist.
async fn uuids(world: &World, names: &[String]) -> Vec<(String, String)> {
    let (status, rows) = operator_send(
        world,
        Method::GET,
        &["_cat", "indices"],
        &[
            ("format", "json"),
            ("h", "index,uuid"),
            ("expand_wildcards", "all"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    let mut found: Vec<(String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| names.iter().any(|n| r["index"] == n.as_str()))
        .map(|r| {
            (
                r["index"].as_str().unwrap().to_owned(),
                r["uuid"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

async fn restore(
    world: &World,
    extra: &Value,
) -> Result<operations::requests::RestoreResponse, operations::OsnapError> {
    let mut event = json!({"domain": domain_json(world), "repository": "nightly",
        "snapshot": "nightly-x", "indices": ["logs-1", "orders"]});
    event
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    operations::restore::handle(context(None), event).await
}

/// Runs one mode: the restore's answer is lost to `fault`, then the restore is retried; every
/// target must end with the snapshot's documents, restored once.
async fn lost_answer_then_retry(mode: &str, fault: Fault) {
    let name = format!("restore-{mode}-{fault:?}").to_lowercase();
    let world = snapshotted(&name).await;
    let extra = match mode {
        "fail" => {
            for (index, _) in DOCS {
                let (status, _) = operator_send(&world, Method::DELETE, &[index], &[], None).await;
                assert_eq!(status, 200);
            }
            json!({"on_conflict": "fail"})
        }
        "rename" => json!({"on_conflict": "rename"}),
        // The live indices moved on since the snapshot: replace brings them back.
        _ => {
            put_doc(&world, "logs-1", "after-the-snapshot").await;
            json!({"on_conflict": "replace"})
        }
    };
    world
        .domain
        .faults()
        .push(FaultRule::new(fault).on(Method::POST, "/_snapshot/nightly/nightly-x/_restore"));

    let first = restore(&world, &extra).await;
    let targets: Vec<String> = match &first {
        Ok(answer) => answer.restored.names.clone(),
        Err(_) => DOCS
            .iter()
            .map(|(i, _)| match mode {
                "rename" => format!("restored-{i}"),
                _ => (*i).to_owned(),
            })
            .collect(),
    };
    match fault {
        // The domain went on restoring: the lost answer is made up for by the recoveries.
        Fault::GatewayTimeout | Fault::DropAfterActing => {
            assert!(first.is_ok(), "{mode}: {first:?}");
        }
        // Nothing reached the domain, or the restore waited in its queue while the recoveries
        // were read: a retryable failure.
        _ => assert_eq!(
            first.as_ref().err().map(operations::OsnapError::error_type),
            Some("DomainUnavailable"),
            "{mode}: {first:?}"
        ),
    }
    let after_first = uuids(&world, &targets).await;

    // The workflow's retry: the same request again.
    let second = restore(&world, &extra).await.unwrap();
    // The restore was taken by the domain, at once or from its queue: the retry finds it.
    if fault != Fault::DropConnection {
        assert_eq!(
            second.already_restoring.names, targets,
            "{mode}: {second:?}"
        );
        assert!(
            second.replaced.names.is_empty(),
            "{mode}: nothing replaced again on a retry"
        );
        assert_eq!(
            uuids(&world, &targets).await,
            after_first,
            "{mode}: restored once, not deleted and restored again"
        );
    }
    recovered(&world, &targets).await;
    for ((_, count), target) in DOCS.iter().zip(&targets) {
        assert_eq!(
            world.domain.doc_count(target),
            Some(*count),
            "{mode}: {target} holds the snapshot's documents"
        );
    }
    // A third call changes nothing either.
    let third = restore(&world, &extra).await.unwrap();
    assert_eq!(third.already_restoring.names, targets, "{mode}: {third:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_answered_with_504_is_found_started_and_never_repeated() {
    for mode in ["fail", "rename", "replace"] {
        lost_answer_then_retry(mode, Fault::GatewayTimeout).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_answered_with_504_before_the_domain_took_it_is_found_by_the_retry() {
    for mode in ["fail", "rename", "replace"] {
        lost_answer_then_retry(mode, Fault::GatewayTimeoutQueued).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_whose_connection_dropped_is_retried_and_restores_once() {
    for mode in ["fail", "rename", "replace"] {
        lost_answer_then_retry(mode, Fault::DropConnection).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_whose_connection_dropped_after_the_domain_took_it_is_found_started() {
    for mode in ["fail", "rename", "replace"] {
        lost_answer_then_retry(mode, Fault::DropAfterActing).await;
    }
}

/// The indices an alias points at, as the domain answers.
async fn alias_members(world: &World, alias: &str) -> Vec<String> {
    let (status, body) = operator_send(world, Method::GET, &["_alias", alias], &[], None).await;
    if status == 404 {
        return Vec::new();
    }
    assert_eq!(status, 200, "{body}");
    let mut members: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
    members.sort();
    members
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_copy_never_joins_the_live_alias() {
    let world = world("rename-alias").await;
    put_doc(&world, "orders", "1").await;
    let (status, body) = operator_send(
        &world,
        Method::PUT,
        &["orders", "_alias", "orders-live"],
        &[],
        Some(json!({"is_write_index": true})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    register_nightly(&world, "rename-alias").await;
    let (status, _) = operator_send(
        &world,
        Method::PUT,
        &["_snapshot", "nightly", "nightly-x"],
        &[("wait_for_completion", "true")],
        Some(json!({"indices": "orders"})),
    )
    .await;
    assert_eq!(status, 200);
    let event = |extra: Value| {
        let mut e = json!({"domain": domain_json(&world), "repository": "nightly",
            "snapshot": "nightly-x", "indices": ["orders"], "on_conflict": "rename"});
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    };

    // Asked to bring the aliases along while `orders` holds them here: refused, nothing done.
    let refused =
        operations::restore::handle(context(None), event(json!({"include_aliases": true})))
            .await
            .unwrap_err();
    assert_eq!(refused.error_type(), "UnsafeOperation", "{refused}");
    assert!(refused.to_string().contains("orders-live"), "{refused}");
    assert_eq!(world.domain.doc_count("restored-orders"), None);

    // By default a renamed copy comes without aliases (the engine's default would add them).
    let restored = operations::restore::handle(context(None), event(json!({})))
        .await
        .unwrap();
    assert_eq!(restored.restored.names, ["restored-orders"]);
    recovered(&world, &["restored-orders".to_owned()]).await;
    assert_eq!(alias_members(&world, "orders-live").await, ["orders"]);
    assert_eq!(world.domain.doc_count("restored-orders"), Some(1));
}
