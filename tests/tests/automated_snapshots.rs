//! Restores from AWS's automated snapshots (`cs-automated`): the stand-in takes them as the
//! service does every hour (the whole cluster, system indices included, into a repository
//! callers can only read), and osnap restores one index or every non-system index from them
//! exactly as from a manual repository, while refusing to register, snapshot into or prune
//! them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{context, operator_call, operator_send, put_doc, recovered};
use http::Method;
use serde_json::{Value, json};

/// AWS names its automated snapshots by their time and a UUID.
const AUTOMATED: &str = "2026-12-01t03-10-21.0e1c4f2a-8d5b-4c7e-9c1a-2b3d4e5f6a7b";

fn event(world: &common::World, extra: &Value) -> Value {
    common::event_in(world, "cs-automated", extra)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_index_or_every_non_system_index_restores_from_an_automated_snapshot() {
    let world = common::world("cs-automated").await;
    for id in ["1", "2", "3"] {
        put_doc(&world, "logs-1", id).await;
    }
    put_doc(&world, "orders", "1").await;
    put_doc(&world, "orders", "2").await;
    world
        .domain
        .take_automated_snapshot(AUTOMATED)
        .await
        .unwrap();

    // The repository lists it, system indices and all, and shows no settings.
    let (status, listed) = operator_call(
        &world,
        Method::GET,
        &["_snapshot", "cs-automated", AUTOMATED],
        &[],
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let indices: Vec<&str> = listed["snapshots"][0]["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert!(
        indices.contains(&"orders") && indices.iter().any(|i| i.starts_with('.')),
        "{listed}"
    );
    let (_, repositories) =
        operator_call(&world, Method::GET, &["_snapshot", "cs-automated"], &[]).await;
    assert_eq!(repositories["cs-automated"], json!({"type": "s3"}));
    let judged = operations::verify::handle(
        context(None),
        event(&world, &json!({"snapshot": AUTOMATED})),
    )
    .await
    .unwrap();
    assert!(judged.ok, "{judged:?}");

    // One index, lost on the domain, comes back with its documents.
    let (status, _) = operator_send(&world, Method::DELETE, &["orders"], &[], None).await;
    assert_eq!(status, 200);
    let one = operations::restore::handle(
        context(None),
        event(
            &world,
            &json!({"snapshot": AUTOMATED, "indices": ["orders"]}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(one.restored.names, ["orders"]);
    recovered(&world, &["orders"]).await;
    assert_eq!(world.domain.doc_count("orders"), Some(2));

    // Every index but the system ones, under new names beside the live ones.
    let all = operations::restore::handle(
        context(None),
        event(
            &world,
            &json!({"snapshot": AUTOMATED, "on_conflict": "rename"}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        all.restored.names,
        ["restored-logs-1", "restored-orders"],
        "{all:?}"
    );
    recovered(&world, &["restored-logs-1", "restored-orders"]).await;
    assert_eq!(world.domain.doc_count("restored-logs-1"), Some(3));

    // osnap never writes to it.
    for (function, extra) in [
        ("snapshot", json!({"snapshot": "mine"})),
        ("prune", json!({"keep_last": 1})),
        (
            "register",
            json!({"settings": {"bucket": "snapshots", "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE}}),
        ),
    ] {
        let refused = match function {
            "snapshot" => operations::snapshot::handle(context(None), event(&world, &extra))
                .await
                .map(|_| ()),
            "prune" => operations::prune::handle(context(None), event(&world, &extra))
                .await
                .map(|_| ()),
            _ => operations::register::handle(context(None), event(&world, &extra))
                .await
                .map(|_| ()),
        };
        let error = refused.expect_err(function);
        assert_eq!(error.error_type(), "UnsafeOperation", "{function}: {error}");
    }
    // Nor can anyone else: AWS refuses a manual snapshot into it.
    let (status, _) = operator_send(
        &world,
        Method::PUT,
        &["_snapshot", "cs-automated", "by-hand"],
        &[],
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 401);
}
