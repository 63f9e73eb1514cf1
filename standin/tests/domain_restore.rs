//! Restores on the emulated domain: renames, exclusions, aliases, settings changes, the
//! conflicts the engine refuses (open indices, system indices under `*`), partial snapshots,
//! and restored indices recovering stage by stage.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Api, Env, error_type, reason};
use serde_json::json;

/// A domain holding `logs-1` (5 documents, alias `logs`) and `logs-2` (2), snapshotted
/// whole as `nightly:all`.
async fn prepared(env: &Env, name: &str, recovery: Duration) -> (standin::Domain, Api, String) {
    let mut config = env.config(name);
    config.recovery_duration = recovery;
    let domain = standin::Domain::start(config).await.unwrap();
    let api = Api::new(&domain);
    api.ingest("logs-1", 5).await;
    api.ingest("logs-2", 2).await;
    let (status, _) = api.put("/logs-1/_alias/logs", json!({})).await;
    assert_eq!(status, 200);
    api.register("nightly", name, false).await;
    let snap = api.snapshot("nightly", "all", json!({})).await;
    let uuid = snap["uuid"].as_str().unwrap().to_owned();
    (domain, api, uuid)
}

#[tokio::test]
async fn restores_rename_select_and_change_settings() {
    let env = Env::new("restore").await;
    let (domain, api, _) = prepared(&env, "restore", Duration::from_millis(60)).await;

    let (status, body) = api
        .post(
            "/_snapshot/nightly/all/_restore?wait_for_completion=true",
            json!({"indices": "logs-*", "rename_pattern": "(.+)", "rename_replacement": "restored-$1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"snapshot": {"snapshot": "all", "indices": ["restored-logs-1", "restored-logs-2"],
                            "shards": {"total": 2, "failed": 0, "successful": 2}}})
    );
    assert_eq!(api.count("restored-logs-1").await, 5);
    assert_eq!(api.count("restored-logs-2").await, 2);
    let (_, aliases) = api.get("/_alias/logs").await;
    assert!(
        aliases.get("restored-logs-1").is_some(),
        "aliases come back by default: {aliases}"
    );

    let (status, _) = api
        .post(
            "/_snapshot/nightly/all/_restore?wait_for_completion=true",
            json!({"indices": "logs-*,-logs-2", "include_aliases": false,
                   "rename_pattern": "logs-(\\d+)", "rename_replacement": "copy-$1",
                   "index_settings": {"index.number_of_replicas": 0},
                   "ignore_index_settings": ["index.refresh_interval"]}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, copy) = api.get("/copy-1").await;
    assert_eq!(copy["copy-1"]["aliases"], json!({}));
    assert_eq!(
        copy["copy-1"]["settings"]["index"]["number_of_replicas"],
        "0"
    );
    assert_eq!(api.count("copy-1").await, 5);
    let (_, missing) = api.get("/copy-2").await;
    assert_eq!(error_type(&missing), "index_not_found_exception");

    let (status, body) = api
        .post("/_snapshot/nightly/all/_restore", json!({"indices": "logs-2", "index_settings": {"number_of_shards": 3}, "rename_pattern": "(.+)", "rename_replacement": "x-$1"}))
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "snapshot_restore_exception")
    );
    assert!(reason(&body).ends_with("cannot modify setting [index.number_of_shards] on restore"));
    let (status, body) = api
        .post("/_snapshot/nightly/all/_restore", json!({"indices": "logs-*", "rename_pattern": "logs-\\d", "rename_replacement": "same"}))
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "snapshot_restore_exception")
    );
    assert!(
        reason(&body).contains("are renamed into the same index [same]"),
        "{body}"
    );
    let (status, body) = api
        .post(
            "/_snapshot/nightly/all/_restore",
            json!({"indices": "nope"}),
        )
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "index_not_found_exception")
    );
    let (status, body) = api
        .post(
            "/_snapshot/nightly/all/_restore",
            json!({"indexes": "logs-1"}),
        )
        .await;
    assert_eq!((status, reason(&body)), (400, "Unknown parameter indexes"));

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn restoring_over_open_indices_is_refused_as_on_aws() {
    let env = Env::new("conflict").await;
    let (domain, api, uuid) = prepared(&env, "conflict", Duration::from_millis(60)).await;

    let (status, body) = api
        .post(
            "/_snapshot/nightly/all/_restore",
            json!({"indices": "logs-1"}),
        )
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "snapshot_restore_exception")
    );
    assert_eq!(
        reason(&body),
        format!(
            "[nightly:all/{uuid}] cannot restore index [logs-1] because an open index with same \
             name already exists in the cluster. Either close or delete the existing index or \
             restore the index under a different name by providing a rename pattern and \
             replacement name"
        )
    );

    // Everything, as a careless restore asks: the system indices are open too.
    api.delete("/logs-*").await;
    let (status, body) = api
        .post("/_snapshot/nightly/all/_restore", json!({"indices": "*"}))
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "snapshot_restore_exception")
    );
    assert!(
        reason(&body).contains("cannot restore index [.kibana_1]"),
        "{body}"
    );
    let (status, _) = api
        .post(
            "/_snapshot/nightly/all/_restore?wait_for_completion=true",
            json!({"indices": "-.*"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(api.count("logs-1").await, 5);

    // A closed index may be restored over.
    let (status, _) = api.post("/logs-2/_close", json!({})).await;
    assert_eq!(status, 200);
    let (status, body) = api.get("/logs-2/_count").await;
    assert_eq!((status, error_type(&body)), (400, "index_closed_exception"));
    let (status, body) = api
        .post(
            "/_snapshot/nightly/all/_restore?wait_for_completion=true",
            json!({"indices": "logs-2"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.count("logs-2").await, 2);

    let (status, body) = api
        .post("/_snapshot/nightly/nope/_restore", json!({}))
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "snapshot_restore_exception")
    );
    assert_eq!(reason(&body), "[nightly:nope] snapshot does not exist");
    let (status, body) = api.post("/_snapshot/gone/all/_restore", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "repository_missing_exception")
    );

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn restored_indices_recover_stage_by_stage() {
    let env = Env::new("recovery").await;
    let (domain, api, _) = prepared(&env, "recovery", Duration::from_millis(600)).await;
    api.delete("/logs-1").await;

    let (status, body) = api
        .post(
            "/_snapshot/nightly/all/_restore",
            json!({"indices": "logs-1"}),
        )
        .await;
    assert_eq!((status, body), (200, json!({"accepted": true})));
    let (_, health) = api.get("/_cluster/health/logs-1").await;
    assert_eq!(health["status"], "red");
    let (status, body) = api.get("/logs-1/_count").await;
    assert_eq!(
        (status, error_type(&body)),
        (503, "search_phase_execution_exception")
    );

    let mut stages: Vec<String> = Vec::new();
    for _ in 0..300 {
        let (status, body) = api.get("/logs-1/_recovery").await;
        assert_eq!(status, 200);
        let primary = body["logs-1"]["shards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["primary"] == true)
            .unwrap()
            .clone();
        assert_eq!(primary["type"], "SNAPSHOT");
        assert_eq!(primary["source"]["snapshot"], "all");
        let stage = primary["stage"].as_str().unwrap().to_owned();
        if stages.last() != Some(&stage) {
            stages.push(stage.clone());
        }
        if stage == "DONE" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let order = [
        "INIT",
        "INDEX",
        "VERIFY_INDEX",
        "TRANSLOG",
        "FINALIZE",
        "DONE",
    ];
    let positions: Vec<usize> = stages
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{stages:?}");
    assert!(
        stages.contains(&"INDEX".to_owned()) && stages.last().map(String::as_str) == Some("DONE"),
        "{stages:?}"
    );

    let (status, health) = api
        .get("/_cluster/health/logs-1?wait_for_status=green&timeout=5s")
        .await;
    assert_eq!((status, health["status"].clone()), (200, json!("green")));
    assert_eq!(api.count("logs-1").await, 5);
    let (_, body) = api.get("/logs-1/_recovery?active_only=true").await;
    assert_eq!(body, json!({}));

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn partial_snapshots_restore_only_when_asked() {
    let env = Env::new("partial-restore").await;
    let domain = env.domain("partial-restore").await;
    let api = Api::new(&domain);
    api.ingest("good", 2).await;
    api.ingest("bad", 2).await;
    api.register("nightly", "pr", false).await;
    domain.mark_index_red("bad");
    api.snapshot(
        "nightly",
        "p",
        json!({"indices": "good,bad", "partial": true}),
    )
    .await;
    api.delete("/good,bad").await;

    let (status, body) = api.post("/_snapshot/nightly/p/_restore", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "snapshot_restore_exception")
    );
    assert!(reason(&body).ends_with("index [bad] wasn't fully snapshotted - cannot restore"));
    let (status, body) = api
        .post(
            "/_snapshot/nightly/p/_restore?wait_for_completion=true",
            json!({"partial": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["snapshot"]["shards"],
        json!({"total": 2, "failed": 1, "successful": 1})
    );
    assert_eq!(api.count("good").await, 2);
    assert_eq!(api.count("bad").await, 0);

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn an_older_engine_cannot_restore_a_newer_snapshot() {
    let env = Env::new("versions").await;
    let (newer, _api, uuid) = prepared(&env, "versions", Duration::from_millis(60)).await;
    let mut config = env.config("legacy");
    config.engine = standin::Engine::elasticsearch();
    let older = standin::Domain::start(config).await.unwrap();
    let legacy = Api::new(&older);
    legacy.register("nightly", "versions", true).await;
    let (status, body) = legacy
        .post(
            "/_snapshot/nightly/all/_restore",
            json!({"indices": "logs-1"}),
        )
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "snapshot_restore_exception")
    );
    assert_eq!(
        reason(&body),
        format!(
            "[nightly:all/{uuid}] the snapshot was created with Elasticsearch version \
             [136.34.78] which is higher than the version of this node [7.10.2]"
        )
    );
    newer.shutdown().await;
    older.shutdown().await;
    env.shutdown().await;
}

/// An index's documents altered in the bucket after the snapshot: the restore is accepted
/// (the metadata reads), its primary's recovery fails the checksum, and the index stays red
/// with its primary `UNASSIGNED` as `ALLOCATION_FAILED`; no recovery is listed for it.
#[tokio::test]
async fn a_restore_of_documents_altered_in_the_bucket_leaves_the_index_red_and_failed() {
    let env = Env::new("corrupt").await;
    let (domain, api, _) = prepared(&env, "corrupt", Duration::from_millis(40)).await;
    let changed =
        standin::domain::drop_a_stored_document(&env.s3.client(), common::BUCKET, "logs-1").await;
    assert_eq!(changed, 1);

    let (status, body) = api
        .post(
            "/_snapshot/nightly/all/_restore",
            json!({"indices": "logs-1,logs-2", "rename_pattern": "(.+)", "rename_replacement": "drill-$1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"accepted": true}));
    tokio::time::sleep(Duration::from_millis(120)).await;

    let (status, shards) = api
        .get("/_cat/shards/drill-*?format=json&h=index,shard,prirep,state,unassigned.reason,unassigned.details")
        .await;
    assert_eq!(status, 200, "{shards}");
    let rows = shards.as_array().unwrap();
    let of = |index: &str| rows.iter().find(|r| r["index"] == index).unwrap().clone();
    assert_eq!(of("drill-logs-2")["state"], "STARTED", "{shards}");
    assert_eq!(
        of("drill-logs-2")["unassigned.reason"],
        serde_json::Value::Null
    );
    let failed = of("drill-logs-1");
    assert_eq!(
        (
            failed["prirep"].as_str(),
            failed["state"].as_str(),
            failed["unassigned.reason"].as_str()
        ),
        (Some("p"), Some("UNASSIGNED"), Some("ALLOCATION_FAILED")),
        "{shards}"
    );
    assert!(
        failed["unassigned.details"]
            .as_str()
            .unwrap()
            .contains("CorruptIndexException"),
        "{failed}"
    );
    let (_, health) = api.get("/_cluster/health/drill-logs-1").await;
    assert_eq!(health["status"], "red", "{health}");
    let (_, recovery) = api.get("/drill-*/_recovery").await;
    assert!(recovery.get("drill-logs-1").is_none(), "{recovery}");
    assert!(recovery.get("drill-logs-2").is_some(), "{recovery}");
    assert_eq!(api.count("logs-1").await, 5, "the live index is untouched");
    domain.shutdown().await;
    env.shutdown().await;
}
