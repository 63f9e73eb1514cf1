//! Data streams through the backup and restore operations, called directly on the stand-in
//! (which models streams: standin/README.md, *Data streams*): the nightly selection takes a
//! stream of two generations whole, the snapshot lists it, and restore brings it back as a
//! stream onto an empty domain, under its own name and renamed, with every document; a
//! stream that exists on the target is a conflict, and `replace` never goes over it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use http::Method;
use serde_json::{Value, json};
use standin::{Domain, DomainConfig};

use common::{context, domain_call, domain_json, put_doc, world};

/// Registers `nightly` on `domain` directly (the register function is tested elsewhere).
async fn register(domain: &Domain, base_path: &str) {
    let (status, body) = domain_call(
        domain,
        Method::PUT,
        &["_snapshot", "nightly"],
        &[],
        Some(
            json!({"type": "s3", "settings": {"bucket": "snapshots", "base_path": base_path,
            "region": "us-east-1", "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE}}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// A `logs-web` stream of two generations (3 documents, then 2) and a plain `orders` index.
async fn log_cluster(domain: &Domain) {
    let (status, body) = domain_call(
        domain,
        Method::PUT,
        &["_index_template", "logs"],
        &[],
        Some(json!({"index_patterns": ["logs-*"], "data_stream": {}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for i in 0..5 {
        if i == 3 {
            let (status, body) =
                domain_call(domain, Method::POST, &["logs-web", "_rollover"], &[], None).await;
            assert_eq!(status, 200, "{body}");
        }
        let (status, body) = domain_call(
            domain,
            Method::PUT,
            &["logs-web", "_create", &format!("e{i}")],
            &[],
            Some(json!({"@timestamp": format!("2026-12-01T00:00:0{i}Z"), "message": "hit"})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
}

async fn count(domain: &Domain, target: &str) -> u64 {
    let (status, body) = domain_call(domain, Method::GET, &[target, "_count"], &[], None).await;
    assert_eq!(status, 200, "{body}");
    body["count"].as_u64().unwrap()
}

async fn backing(domain: &Domain, stream: &str) -> Vec<String> {
    let (status, body) =
        domain_call(domain, Method::GET, &["_data_stream", stream], &[], None).await;
    assert_eq!(status, 200, "{body}");
    body["data_streams"][0]["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["index_name"].as_str().unwrap().to_owned())
        .collect()
}

fn target(domain: &Domain) -> Value {
    json!({"endpoint": domain.endpoint(), "region": "us-east-1"})
}

/// Waits until every index of `restored` on `domain` has recovered (bounded).
async fn recovered(domain: &Domain, restored: &[&str]) {
    for _ in 0..100 {
        let verdict = operations::verify::handle(
            context(None),
            json!({"domain": target(domain), "repository": "nightly", "check": "restore",
                "indices": restored}),
        )
        .await
        .unwrap();
        if verdict.done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{restored:?} did not recover");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_is_backed_up_nightly_and_restored_as_a_stream() {
    let world = world("streams-nightly").await;
    log_cluster(&world.domain).await;
    put_doc(&world, "orders", "1").await;
    register(&world.domain, "streams-nightly").await;

    // The nightly selection (no `indices`): the stream's backing indices are data.
    let taken = operations::snapshot::handle(
        context(None),
        json!({"domain": domain_json(&world), "repository": "nightly",
            "snapshot": "nightly-streams"}),
    )
    .await
    .unwrap();
    assert!(taken.started);
    let mut verdict = None;
    for _ in 0..100 {
        let v = operations::verify::handle(
            context(None),
            json!({"domain": domain_json(&world), "repository": "nightly",
                "snapshot": "nightly-streams"}),
        )
        .await
        .unwrap();
        if v.done {
            verdict = Some(v);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let verdict = verdict.expect("the snapshot ended");
    assert!(verdict.ok, "{verdict:?}");
    let (_, listing) = domain_call(
        &world.domain,
        Method::GET,
        &["_snapshot", "nightly", "nightly-streams"],
        &[],
        None,
    )
    .await;
    let info = &listing["snapshots"][0];
    assert_eq!(info["data_streams"], json!(["logs-web"]), "{info}");
    let indices: Vec<&str> = info["indices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for held in [".ds-logs-web-000001", ".ds-logs-web-000002", "orders"] {
        assert!(indices.contains(&held), "{held} in {info}");
    }
    assert!(
        !indices
            .iter()
            .any(|i| i.starts_with(".kibana") || i.starts_with(".opendistro")),
        "system indices stay out: {info}"
    );

    // An empty domain on the same bucket restores the stream by name.
    let mut config =
        DomainConfig::new("streams-empty", world.s3.endpoint(), world.s3.credentials());
    config.recovery_duration = Duration::from_millis(100);
    let empty = Domain::start(config).await.unwrap();
    register(&empty, "streams-nightly").await;
    let restore = |extra: Value| {
        let mut event = json!({"domain": target(&empty), "repository": "nightly",
            "snapshot": "nightly-streams", "indices": ["logs-web"]});
        for (k, v) in extra.as_object().unwrap() {
            event[k] = v.clone();
        }
        operations::restore::handle(context(None), event)
    };
    let answer = restore(json!({})).await.unwrap();
    assert_eq!(answer.data_streams.count, 1, "{answer:?}");
    assert_eq!(answer.data_streams.names, ["logs-web"]);
    assert_eq!(answer.restored.count, 2, "{answer:?}");
    recovered(&empty, &[".ds-logs-web-000001", ".ds-logs-web-000002"]).await;
    assert_eq!(
        backing(&empty, "logs-web").await,
        [".ds-logs-web-000001", ".ds-logs-web-000002"]
    );
    assert_eq!(count(&empty, "logs-web").await, 5);

    // Again: the same restore is this restore's own earlier work, left as it is.
    let again = restore(json!({})).await.unwrap();
    assert_eq!(again.already_restoring.count, 2, "{again:?}");

    // Renamed: a second stream beside it, `.ds-` kept, every document.
    let renamed = restore(json!({"on_conflict": "rename"})).await.unwrap();
    assert_eq!(
        renamed.data_streams.names,
        ["restored-logs-web"],
        "{renamed:?}"
    );
    recovered(
        &empty,
        &[
            ".ds-restored-logs-web-000001",
            ".ds-restored-logs-web-000002",
        ],
    )
    .await;
    assert_eq!(
        backing(&empty, "restored-logs-web").await,
        [
            ".ds-restored-logs-web-000001",
            ".ds-restored-logs-web-000002"
        ]
    );
    assert_eq!(count(&empty, "restored-logs-web").await, 5);
    empty.shutdown().await;

    // A domain whose own `logs-web` stream lives on in generation 3 only: none of the
    // snapshot's backing indices exist there, but the stream does. Restoring it is a
    // conflict, and `replace` refuses to go over a stream.
    let mut config = DomainConfig::new("streams-live", world.s3.endpoint(), world.s3.credentials());
    config.recovery_duration = Duration::from_millis(100);
    let live = Domain::start(config).await.unwrap();
    register(&live, "streams-nightly").await;
    log_cluster(&live).await;
    let (status, _) = domain_call(&live, Method::POST, &["logs-web", "_rollover"], &[], None).await;
    assert_eq!(status, 200);
    for old in [".ds-logs-web-000001", ".ds-logs-web-000002"] {
        let (status, body) = domain_call(&live, Method::DELETE, &[old], &[], None).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(backing(&live, "logs-web").await, [".ds-logs-web-000003"]);
    let event = |extra: Value| {
        let mut event = json!({"domain": target(&live), "repository": "nightly",
            "snapshot": "nightly-streams", "indices": ["logs-web"]});
        for (k, v) in extra.as_object().unwrap() {
            event[k] = v.clone();
        }
        event
    };
    let conflict = operations::restore::handle(context(None), event(json!({})))
        .await
        .unwrap_err();
    assert_eq!(conflict.error_type(), "RestoreConflict", "{conflict}");
    assert!(conflict.to_string().contains("logs-web"), "{conflict}");
    let replace =
        operations::restore::handle(context(None), event(json!({"on_conflict": "replace"})))
            .await
            .unwrap_err();
    assert_eq!(replace.error_type(), "UnsafeOperation", "{replace}");
    assert_eq!(
        backing(&live, "logs-web").await,
        [".ds-logs-web-000003"],
        "nothing was touched"
    );
    live.shutdown().await;
}
