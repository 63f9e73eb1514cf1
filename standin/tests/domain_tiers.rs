//! UltraWarm and cold storage on the emulated domain (Amazon OpenSearch Service Developer
//! Guide, ultrawarm.md and cold-storage.md): the warm box type and read-only warm indexes,
//! `_warm`/`_hot` expressions, AWS's rules for warm indexes in manual snapshots, and cold
//! indexes detached from the index list and listed by `_cold/indices/_search`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Env, error_type};
use serde_json::{Value, json};

fn keys(body: &Value) -> Vec<String> {
    body.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn a_warm_index_carries_the_box_type_is_read_only_and_answers_to_warm() {
    let env = Env::new("tiers-warm").await;
    let domain = env.domain("tiers-warm").await;
    let api = Api::new(&domain);
    api.ingest("logs-1", 3).await;
    api.ingest("logs-2", 3).await;
    assert!(domain.migrate_to_warm("logs-1"));
    assert!(!domain.migrate_to_warm("missing"));

    let (status, settings) = api
        .get("/logs-*/_settings/index.routing.allocation.require.box_type?flat_settings=true")
        .await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(
        settings,
        json!({
            "logs-1": {"settings": {"index.routing.allocation.require.box_type": "warm"}},
            "logs-2": {"settings": {}}
        })
    );
    let (_, nested) = api.get("/logs-1/_settings").await;
    assert_eq!(
        nested["logs-1"]["settings"]["index"]["routing"]["allocation"]["require"]["box_type"],
        "warm"
    );

    let (_, warm) = api.get("/_warm/_settings").await;
    assert_eq!(keys(&warm), ["logs-1"]);
    let (_, hot) = api.get("/_hot/_settings").await;
    assert_eq!(keys(&hot), [".kibana_1", ".opendistro_security", "logs-2"]);

    let (status, refused) = api.put("/logs-1/_doc/9", json!({"n": 9})).await;
    assert_eq!(status, 429, "{refused}");
    assert_eq!(error_type(&refused), "cluster_block_exception");
    let (status, bulk) = api
        .bulk(
            "/_bulk",
            &[json!({"delete": {"_index": "logs-1", "_id": "0"}})],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(bulk["items"][0]["delete"]["status"], 429, "{bulk}");
    assert_eq!(
        api.count("logs-1").await,
        3,
        "a warm index keeps its documents"
    );
    let (status, _) = api.put("/logs-2/_doc/9", json!({"n": 9})).await;
    assert_eq!(status, 201, "hot indices still take writes");
    env.shutdown().await;
}

#[tokio::test]
async fn manual_snapshots_follow_the_warm_rules_of_the_guide() {
    let env = Env::new("tiers-snap").await;
    let domain = env.domain("tiers-snap").await;
    let api = Api::new(&domain);
    for index in ["hot-1", "warm-1", "warm-2"] {
        api.ingest(index, 2).await;
    }
    assert!(domain.migrate_to_warm("warm-1"));
    assert!(domain.migrate_to_warm("warm-2"));
    api.register("manual", "tiers", false).await;

    let all = api.snapshot("manual", "no-indices", json!({})).await;
    let taken: Vec<&str> = all["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(taken.contains(&"hot-1"), "{all}");
    assert!(!taken.iter().any(|n| n.starts_with("warm")), "{all}");

    for (name, indices) in [
        ("mixed", json!("warm-1,hot-1")),
        ("wildcard", json!("*")),
        ("two-warm", json!("warm-1,warm-2")),
        ("warm-pattern", json!("warm-*")),
    ] {
        let (status, body) = api
            .put(
                &format!("/_snapshot/manual/{name}?wait_for_completion=true"),
                json!({"indices": indices, "include_global_state": false}),
            )
            .await;
        assert_eq!(status, 501, "{name}: {body}");
        assert!(
            body["error"].as_str().unwrap().starts_with("stand-in:"),
            "{name}: {body}"
        );
    }
    let one = api
        .snapshot("manual", "one-warm", json!({"indices": "warm-1"}))
        .await;
    assert_eq!(one["indices"], json!(["warm-1"]));
    // A manual snapshot restores to hot storage, even of a warm index.
    let (status, restored) = api
        .post(
            "/_snapshot/manual/one-warm/_restore?wait_for_completion=true",
            json!({"indices": "warm-1", "rename_pattern": "(.+)", "rename_replacement": "back-$1"}),
        )
        .await;
    assert_eq!(status, 200, "{restored}");
    let (_, settings) = api.get("/back-warm-1/_settings?flat_settings=true").await;
    assert!(
        settings["back-warm-1"]["settings"]
            .get("index.routing.allocation.require.box_type")
            .is_none(),
        "{settings}"
    );
    let (status, _) = api.put("/back-warm-1/_doc/9", json!({"n": 9})).await;
    assert_eq!(status, 201, "the restored copy is hot, hence writable");
    let hot = api
        .snapshot(
            "manual",
            "hot-only",
            json!({"indices": "hot-1,warm-gone", "ignore_unavailable": true}),
        )
        .await;
    assert_eq!(hot["indices"], json!(["hot-1"]));
    env.shutdown().await;
}

#[tokio::test]
async fn cold_indices_leave_the_index_list_and_are_listed_by_the_cold_api() {
    let env = Env::new("tiers-cold").await;
    let domain = env.domain("tiers-cold").await;
    let api = Api::new(&domain);
    let (status, body) = api.get("/_cold/indices/_search").await;
    assert_eq!(status, 501, "no cold storage yet: {body}");
    assert!(body["error"].as_str().unwrap().starts_with("stand-in:"));

    api.ingest("old-1", 2).await;
    assert!(
        !domain.migrate_to_cold("old-1"),
        "only a warm index goes cold"
    );
    assert!(domain.migrate_to_warm("old-1"));
    assert!(domain.migrate_to_cold("old-1"));
    assert!(!domain.index_names().contains(&"old-1".to_owned()));
    let (status, missing) = api.get("/old-1/_settings").await;
    assert_eq!(status, 404, "{missing}");

    let (status, cold) = api.get("/_cold/indices/_search").await;
    assert_eq!(status, 200, "{cold}");
    assert_eq!(cold["total_results"], 1);
    assert_eq!(cold["indices"][0]["index"], "old-1");
    for field in ["index_cold_uuid", "size", "creation_date"] {
        assert!(!cold["indices"][0][field].is_null(), "{field}: {cold}");
    }
    env.shutdown().await;
}
