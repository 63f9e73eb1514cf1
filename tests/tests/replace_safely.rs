//! `replace` on a domain that refuses: whatever the domain refuses once the replace has begun
//! (shard counts, the shard limit, index and alias names), the target still holds the original
//! index, open, with all its documents; what the plan can see (settings a restore cannot
//! change, a target named like an alias) is refused before anything changes. The operations
//! are called directly on the stand-in, whose refusals follow the engine's `RestoreService`
//! and `ShardLimitValidator` (see standin/README.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use http::Method;
use serde_json::{Value, json};

use common::{
    World, context, domain_json, operator_send, put_doc, recovered, register_nightly, world,
};

/// `orders` holds 2 documents and `logs-1` 3 when snapshot `nightly-x` is taken; `logs-1` has
/// 3 primaries, so restoring it as a new index takes 6 shard copies (one replica each).
async fn snapshotted(name: &str) -> World {
    let world = world(name).await;
    let (status, body) = operator_send(
        &world,
        Method::PUT,
        &["logs-1"],
        &[],
        Some(json!({"settings": {"index.number_of_shards": 3}, "aliases": {"logs-all": {}}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for (index, count) in [("orders", 2), ("logs-1", 3)] {
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
        Some(json!({"indices": "orders,logs-1"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The live `orders` moved on since the snapshot.
    put_doc(&world, "orders", "after-the-snapshot").await;
    world
}

async fn replace(
    world: &World,
    extra: Value,
) -> Result<operations::requests::RestoreResponse, operations::OsnapError> {
    let mut event = json!({"domain": domain_json(world), "repository": "nightly",
        "snapshot": "nightly-x", "on_conflict": "replace"});
    event
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    operations::restore::handle(context(None), event).await
}

/// Every index as `_cat/indices` lists it, closed and hidden ones too.
async fn cat_rows(world: &World) -> Vec<Value> {
    let (status, rows) = operator_send(
        world,
        Method::GET,
        &["_cat", "indices"],
        &[("format", "json"), ("expand_wildcards", "all")],
        None,
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    rows.as_array().unwrap().clone()
}

/// `(status, uuid, primaries)` of an index, as `_cat/indices` lists it.
async fn listed(world: &World, index: &str) -> Option<(String, String, String)> {
    cat_rows(world)
        .await
        .iter()
        .find(|r| r["index"] == index)
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (text("status"), text("uuid"), text("pri"))
        })
}

/// The target still holds `index` as it was: open, same uuid, all `docs` documents.
async fn intact(
    world: &World,
    index: &str,
    before: &(String, String, String),
    docs: usize,
    why: &str,
) {
    let now = listed(world, index).await;
    assert_eq!(now.as_ref(), Some(before), "{why}: {index} as it was");
    assert_eq!(now.unwrap().0, "open", "{why}: {index} open again");
    assert_eq!(
        world.domain.doc_count(index),
        Some(docs),
        "{why}: {index} documents"
    );
}

/// Every shard copy of the open indices (what the engine's shard limit counts).
async fn open_shard_copies(world: &World) -> u64 {
    let number = |r: &Value, k: &str| r[k].as_str().unwrap().parse::<u64>().unwrap();
    cat_rows(world)
        .await
        .iter()
        .filter(|r| r["status"] == "open")
        .map(|r| number(r, "pri") * (1 + number(r, "rep")))
        .sum()
}

async fn delete_index(world: &World, index: &str) {
    let (status, body) = operator_send(world, Method::DELETE, &[index], &[], None).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn replace_restores_over_the_closed_index_keeping_its_uuid_and_aliases() {
    let world = snapshotted("replace-in-place").await;
    let (status, body) = operator_send(
        &world,
        Method::PUT,
        &["orders", "_alias", "orders-live"],
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let before = listed(&world, "orders").await.unwrap();

    let dry = replace(&world, json!({"indices": ["orders"], "dry_run": true}))
        .await
        .unwrap();
    assert_eq!(dry.replaced.names, ["orders"]);
    intact(&world, "orders", &before, 3, "dry run").await;

    let done = replace(&world, json!({"indices": ["orders"]}))
        .await
        .unwrap();
    assert_eq!(done.replaced.names, ["orders"]);
    recovered(&world, &["orders"]).await;
    let after = listed(&world, "orders").await.unwrap();
    assert_eq!(
        (after.0.as_str(), &after.1),
        ("open", &before.1),
        "restored in place: {after:?}"
    );
    assert_eq!(
        world.domain.doc_count("orders"),
        Some(2),
        "the snapshot's documents"
    );
    let (status, aliases) =
        operator_send(&world, Method::GET, &["orders", "_alias"], &[], None).await;
    assert_eq!(status, 200, "{aliases}");
    assert!(
        aliases["orders"]["aliases"].get("orders-live").is_some(),
        "{aliases}"
    );
}

/// Sets `cluster.max_shards_per_node`.
async fn limit_shards_per_node(world: &World, limit: u64) {
    let (status, body) = operator_send(
        world,
        Method::PUT,
        &["_cluster", "settings"],
        &[],
        Some(json!({"persistent": {"cluster.max_shards_per_node": limit}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_restore_leaves_every_replaced_index_open_with_all_its_documents() {
    // The shard limit, tipped by replicas the plan cannot see: `logs-1` comes back as a new
    // index beside the replaced `orders`; its 3 primaries fit, its 6 copies do not.
    let world = snapshotted("replace-shard-limit").await;
    delete_index(&world, "logs-1").await;
    let open = open_shard_copies(&world).await;
    limit_shards_per_node(&world, open / 2 + 1).await;
    let before = listed(&world, "orders").await.unwrap();
    let refused = replace(&world, json!({})).await.unwrap_err();
    assert!(
        refused.to_string().contains("maximum shards open"),
        "{refused}"
    );
    assert_ne!(
        refused.error_type(),
        "UnsafeOperation",
        "the domain's refusal: {refused}"
    );
    intact(&world, "orders", &before, 3, "the shard limit").await;
    assert_eq!(listed(&world, "logs-1").await, None, "nothing restored");

    // Names: `logs-1` brings its alias `logs-all`, which is now an index of its own.
    let world = snapshotted("replace-alias-name").await;
    delete_index(&world, "logs-1").await;
    put_doc(&world, "logs-all", "1").await;
    let before = listed(&world, "orders").await.unwrap();
    let refused = replace(&world, json!({"include_aliases": true}))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("logs-all"), "{refused}");
    intact(&world, "orders", &before, 3, "an alias named like an index").await;
    assert_eq!(world.domain.doc_count("logs-all"), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn what_the_plan_can_see_is_refused_before_anything_changes() {
    // Shard counts: `orders` was recreated with 2 primaries since the snapshot (1).
    let world = snapshotted("replace-plan-shards").await;
    delete_index(&world, "orders").await;
    let (status, body) = operator_send(
        &world,
        Method::PUT,
        &["orders"],
        &[],
        Some(json!({"settings": {"index.number_of_shards": 2}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for id in 0..4 {
        put_doc(&world, "orders", &format!("new-{id}")).await;
    }
    let before = listed(&world, "orders").await.unwrap();
    let refused = replace(&world, json!({"indices": ["orders"]}))
        .await
        .unwrap_err();
    assert_eq!(refused.error_type(), "UnsafeOperation", "{refused}");
    assert!(
        refused.to_string().contains("2 primary shards"),
        "{refused}"
    );
    intact(&world, "orders", &before, 4, "different shard counts").await;

    // Settings a restore cannot change or drop.
    let world = snapshotted("replace-plan").await;
    let before = listed(&world, "orders").await.unwrap();
    for extra in [
        json!({"index_settings": {"index.number_of_shards": 4}}),
        json!({"ignore_index_settings": ["index.number_of_replicas"]}),
    ] {
        let refused = replace(&world, extra.clone()).await.unwrap_err();
        assert_eq!(refused.error_type(), "InvalidRequest", "{extra}: {refused}");
        intact(&world, "orders", &before, 3, &extra.to_string()).await;
    }

    // The shard limit with primaries alone: `logs-1`'s 3 do not fit.
    delete_index(&world, "logs-1").await;
    let open = open_shard_copies(&world).await;
    limit_shards_per_node(&world, open / 2).await;
    let refused = replace(&world, json!({})).await.unwrap_err();
    assert_eq!(refused.error_type(), "UnsafeOperation", "{refused}");
    assert!(refused.to_string().contains("shard limit"), "{refused}");
    intact(&world, "orders", &before, 3, "the shard limit").await;
    limit_shards_per_node(&world, 1000).await;

    // A target named like an alias on the domain: `logs-1` is now an alias of another index.
    put_doc(&world, "logs-2", "1").await;
    let (status, body) = operator_send(
        &world,
        Method::PUT,
        &["logs-2", "_alias", "logs-1"],
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let refused = replace(&world, json!({})).await.unwrap_err();
    assert_eq!(refused.error_type(), "RestoreConflict", "{refused}");
    intact(&world, "orders", &before, 3, "a target named like an alias").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invocation_that_ended_after_the_close_is_finished_by_the_retry() {
    let world = snapshotted("replace-after-close").await;
    // What an invocation that timed out between its close and its restore leaves behind.
    let (status, body) =
        operator_send(&world, Method::POST, &["orders", "_close"], &[], None).await;
    assert_eq!(status, 200, "{body}");
    let retried = replace(&world, json!({"indices": ["orders"]}))
        .await
        .unwrap();
    assert_eq!(retried.replaced.names, ["orders"]);
    recovered(&world, &["orders"]).await;
    assert_eq!(listed(&world, "orders").await.unwrap().0, "open");
    assert_eq!(world.domain.doc_count("orders"), Some(2));
}
