//! The answers that complete the endpoints' shapes on the wire: both engines' `GET /`, the
//! completed forms of create and restore (`wait_for_completion=true`), verbose listings,
//! status, the cat tables, aliases with filters, and names refused before anything is sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{api, ok, signed};
use policy::engines::Engine;
use serde_json::json;
use snapshot_api::ApiError;
use snapshot_api::restore::{RestoreRequest, RestoreResponse};
use snapshot_api::snapshot::{
    CreateSnapshotRequest, CreateSnapshotResponse, SnapshotState, SnapshotStatusState,
};
use wiremock::matchers::{any, body_json, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn cluster_info_tells_the_engines_apart() {
    let elasticsearch = MockServer::start().await;
    signed("GET", "/")
        .respond_with(ok(json!({
            "name": "5a1b2c3d4e5f", "cluster_name": "123456789012:logs",
            "cluster_uuid": "Yx0KZ3hGQ6OqN2n9v0F4dA",
            "version": {
                "number": "7.10.2", "build_flavor": "oss", "build_type": "tar",
                "build_hash": "747e1cc71def077253878a59143c1f785afa92b9",
                "build_date": "2021-01-13T00:42:12.435326Z", "build_snapshot": false,
                "lucene_version": "8.7.0", "minimum_wire_compatibility_version": "6.8.0",
                "minimum_index_compatibility_version": "6.0.0-beta1"
            },
            "tagline": "You Know, for Search"
        })))
        .expect(1)
        .mount(&elasticsearch)
        .await;
    let info = api(&elasticsearch).cluster_info().await.unwrap();
    assert_eq!(info.engine(), Ok(Engine::elasticsearch((7, 10, 2))));
    assert_eq!(info.version.build_flavor.as_deref(), Some("oss"));
    assert_eq!(info.cluster_name, "123456789012:logs");

    let opensearch = MockServer::start().await;
    signed("GET", "/")
        .respond_with(ok(json!({
            "name": "9f8e7d6c5b4a", "cluster_name": "123456789012:logs",
            "cluster_uuid": "a1B2c3D4e5F6g7H8i9J0kA",
            "version": {
                "distribution": "opensearch", "number": "2.17.0", "build_type": "tar",
                "build_hash": "unknown", "build_date": "2025-03-05T10:00:00.000000Z",
                "build_snapshot": false, "lucene_version": "9.11.1",
                "minimum_wire_compatibility_version": "7.10.0",
                "minimum_index_compatibility_version": "7.0.0"
            },
            "tagline": "The OpenSearch Project: https://opensearch.org/"
        })))
        .expect(1)
        .mount(&opensearch)
        .await;
    let info = api(&opensearch).cluster_info().await.unwrap();
    assert_eq!(info.engine(), Ok(Engine::opensearch((2, 17, 0))));
}

#[tokio::test]
async fn every_repository_including_aws_managed_ones() {
    let server = MockServer::start().await;
    signed("GET", "/_snapshot")
        .respond_with(ok(json!({
            "cs-automated-enc": {"type": "s3"},
            "nightly": {"type": "s3", "settings": {
                "bucket": "osnap-snapshots", "region": "us-east-1", "base_path": "prod",
                "role_arn": "arn:aws:iam::123456789012:role/osnap-snapshots",
                "server_side_encryption": "true", "readonly": "false", "compress": "true"
            }}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let all = api(&server).get_repositories().await.unwrap();
    assert_eq!(all.len(), 2);
    let nightly = &all["nightly"].settings;
    assert_eq!(
        (nightly.server_side_encryption, nightly.readonly),
        (Some(true), Some(false))
    );
    assert_eq!(nightly.other["compress"], "true");
    assert!(all["cs-automated-enc"].settings.bucket.is_empty());
}

#[tokio::test]
async fn create_and_restore_waiting_for_completion() {
    let server = MockServer::start().await;
    signed("PUT", "/_snapshot/nightly/nightly-2026.11.18")
        .and(query_param("wait_for_completion", "true"))
        .and(body_json(
            json!({"indices": "logs-*,orders", "include_global_state": false}),
        ))
        .respond_with(ok(json!({"snapshot": {
            "snapshot": "nightly-2026.11.18", "uuid": "Qm9vbGVhbi1zbmFwc2hvdA",
            "version_id": 136_377_827, "version": "2.17.0",
            "remote_store_index_shallow_copy": false,
            "indices": ["logs-1", "logs-2", "orders"], "data_streams": [],
            "include_global_state": false, "metadata": {"taken_by": "osnap"},
            "state": "PARTIAL",
            "start_time": "2026-11-18T11:06:40.000Z", "start_time_in_millis": 1_795_000_000_000_u64,
            "end_time": "2026-11-18T11:07:10.500Z", "end_time_in_millis": 1_795_000_030_500_u64,
            "duration_in_millis": 30_500,
            "failures": [{"index": "orders", "index_uuid": "b3JkZXJz", "shard_id": 1,
                          "reason": "IndexShardSnapshotFailedException[shard is closed]",
                          "node_id": "7kHh0ZK1SqWqJ8nE4mU1Bw", "status": "INTERNAL_SERVER_ERROR"}],
            "shards": {"total": 6, "failed": 1, "successful": 5}
        }})))
        .expect(1)
        .mount(&server)
        .await;
    signed("POST", "/_snapshot/nightly/nightly-2026.11.18/_restore")
        .and(query_param("wait_for_completion", "true"))
        .and(body_json(json!({"indices": "logs-1", "include_aliases": false, "rename_pattern": "(.+)", "rename_replacement": "restored-$1"})))
        .respond_with(ok(json!({"snapshot": {
            "snapshot": "nightly-2026.11.18", "indices": ["restored-logs-1"],
            "shards": {"total": 2, "failed": 0, "successful": 2}
        }})))
        .expect(1)
        .mount(&server)
        .await;

    let api = api(&server);
    let body = CreateSnapshotRequest {
        indices: Some("logs-*,orders".into()),
        include_global_state: Some(false),
        ..CreateSnapshotRequest::default()
    };
    let created = api
        .create_snapshot("nightly", "nightly-2026.11.18", &body, true)
        .await
        .unwrap();
    let CreateSnapshotResponse::Completed { snapshot } = created else {
        panic!("{created:?}")
    };
    assert_eq!(snapshot.state, Some(SnapshotState::Partial));
    assert_eq!(snapshot.duration_in_millis, Some(30_500));
    assert_eq!(snapshot.failures[0].index.as_deref(), Some("orders"));
    assert_eq!(snapshot.shards.map(|s| s.failed), Some(1));
    assert_eq!(snapshot.metadata.unwrap()["taken_by"], "osnap");

    let body = RestoreRequest {
        indices: Some("logs-1".into()),
        include_aliases: Some(false),
        rename_pattern: Some("(.+)".into()),
        rename_replacement: Some("restored-$1".into()),
        ..RestoreRequest::default()
    };
    let restored = api
        .restore("nightly", "nightly-2026.11.18", &body, true)
        .await
        .unwrap();
    let RestoreResponse::Completed { snapshot } = restored else {
        panic!("{restored:?}")
    };
    assert_eq!(snapshot.indices, ["restored-logs-1"]);
    assert_eq!(snapshot.shards.successful, 2);
}

#[tokio::test]
async fn verbose_listing_status_and_cat_snapshots() {
    let server = MockServer::start().await;
    signed("GET", "/_snapshot/nightly/_all")
        .and(query_param_is_missing("verbose"))
        .respond_with(ok(json!({"snapshots": [
            {"snapshot": "nightly-1", "uuid": "u1", "version_id": 7_100_299, "version": "7.10.2",
             "indices": ["logs-1"], "data_streams": [], "include_global_state": false,
             "state": "SUCCESS", "start_time": "2026-11-17T03:00:00.000Z",
             "start_time_in_millis": 1_795_000_000_000_u64, "end_time": "2026-11-17T03:00:09.000Z",
             "end_time_in_millis": 1_795_000_009_000_u64, "duration_in_millis": 9000,
             "failures": [], "shards": {"total": 1, "failed": 0, "successful": 1}},
            {"snapshot": "nightly-2", "uuid": "u2", "version_id": 7_100_299, "version": "7.10.2",
             "indices": ["logs-1", "logs-2"], "data_streams": [], "include_global_state": false,
             "state": "IN_PROGRESS", "start_time": "2026-11-18T03:00:00.000Z",
             "start_time_in_millis": 1_795_100_000_000_u64, "end_time_in_millis": 0,
             "duration_in_millis": 0, "failures": [],
             "shards": {"total": 0, "failed": 0, "successful": 0}}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    signed("GET", "/_snapshot/nightly/nightly-2/_status")
        .and(query_param_is_missing("wait_for_completion"))
        .respond_with(ok(json!({"snapshots": [{
            "snapshot": "nightly-2", "repository": "nightly", "uuid": "u2", "state": "STARTED",
            "include_global_state": false,
            "shards_stats": {"initializing": 0, "started": 1, "finalizing": 0, "done": 1, "failed": 0, "total": 2},
            "stats": {"incremental": {"file_count": 8, "size_in_bytes": 40_960},
                      "processed": {"file_count": 3, "size_in_bytes": 10_240},
                      "total": {"file_count": 9, "size_in_bytes": 45_056},
                      "start_time_in_millis": 1_795_100_000_000_u64, "time_in_millis": 1200},
            "indices": {"logs-2": {
                "shards_stats": {"initializing": 0, "started": 1, "finalizing": 0, "done": 0, "failed": 0, "total": 1},
                "stats": {"incremental": {"file_count": 4, "size_in_bytes": 20_480},
                          "total": {"file_count": 4, "size_in_bytes": 20_480},
                          "start_time_in_millis": 1_795_100_000_000_u64, "time_in_millis": 1200},
                "shards": {"0": {"stage": "STARTED", "node": "n1",
                                 "stats": {"incremental": {"file_count": 4, "size_in_bytes": 20_480},
                                           "total": {"file_count": 4, "size_in_bytes": 20_480},
                                           "start_time_in_millis": 1_795_100_000_000_u64,
                                           "time_in_millis": 1200}}}
            }}
        }]})))
        .expect(1)
        .mount(&server)
        .await;
    signed("GET", "/_cat/snapshots/nightly")
        .and(query_param("format", "json"))
        .respond_with(ok(json!([
            {"id": "nightly-1", "status": "SUCCESS", "start_epoch": "1795000000", "start_time": "03:00:00",
             "end_epoch": "1795000009", "end_time": "03:00:09", "duration": "9s", "indices": "1",
             "successful_shards": "1", "failed_shards": "0", "total_shards": "1"}
        ])))
        .expect(1)
        .mount(&server)
        .await;

    let api = api(&server);
    let listed = api.list_snapshots("nightly", true).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].end_time_in_millis, Some(1_795_000_009_000));
    assert_eq!(listed[1].state, Some(SnapshotState::InProgress));
    assert!(!listed[1].state.as_ref().unwrap().is_done());

    let status = api.snapshot_status("nightly", "nightly-2").await.unwrap();
    assert_eq!(status.state, SnapshotStatusState::Started);
    assert_eq!(status.stats.incremental.size_in_bytes, 40_960);
    assert_eq!(status.indices["logs-2"].shards["0"].stage, "STARTED");

    let rows = api.cat_snapshots("nightly").await.unwrap();
    assert_eq!(
        (rows[0].id.as_str(), rows[0].end_epoch),
        ("nightly-1", Some(1_795_000_009))
    );
}

#[tokio::test]
async fn cat_indices_aliases_and_recovery_of_everything() {
    let server = MockServer::start().await;
    signed("GET", "/_cat/indices")
        .and(query_param("format", "json"))
        .and(query_param("bytes", "b"))
        .and(query_param("expand_wildcards", "all"))
        .respond_with(ok(json!([
            {"health": "green", "status": "open", "index": ".kibana_1", "uuid": "k", "pri": "1", "rep": "1",
             "docs.count": "3", "docs.deleted": "0", "store.size": "20890", "pri.store.size": "10445"},
            {"health": null, "status": "close", "index": "logs-old", "uuid": "o", "pri": "1", "rep": "1",
             "docs.count": null, "docs.deleted": null, "store.size": null, "pri.store.size": null}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    signed("GET", "/_alias")
        .and(query_param("expand_wildcards", "all"))
        .respond_with(ok(json!({
            "logs-1": {"aliases": {
                "logs": {"is_write_index": true},
                "errors": {"filter": {"term": {"level": "error"}}, "index_routing": "1", "search_routing": "1,2"}
            }},
            "orders": {"aliases": {}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    signed("GET", "/_recovery")
        .respond_with(ok(json!({"restored-logs-1": {"shards": [{
            "id": 0, "type": "SNAPSHOT", "stage": "INDEX", "primary": true,
            "start_time_in_millis": 1_795_000_000_000_u64, "total_time_in_millis": 1500,
            "source": {"repository": "nightly", "snapshot": "nightly-1", "version": "2.17.0",
                       "index": "logs-1", "restoreUUID": "r"},
            "target": {"id": "n1", "host": "10.0.0.1", "transport_address": "10.0.0.1:9300", "ip": "10.0.0.1", "name": "node-1"},
            "index": {"size": {"total_in_bytes": 1000, "reused_in_bytes": 0, "recovered_in_bytes": 250, "percent": "25.0%"},
                      "files": {"total": 4, "reused": 0, "recovered": 1, "percent": "25.0%"},
                      "total_time_in_millis": 1400, "source_throttle_time_in_millis": 0, "target_throttle_time_in_millis": 0},
            "translog": {"recovered": 0, "total": 0, "percent": "100.0%", "total_on_start": 0, "total_time_in_millis": 0},
            "verify_index": {"check_index_time_in_millis": 0, "total_time_in_millis": 0}
        }]}})))
        .expect(1)
        .mount(&server)
        .await;

    let api = api(&server);
    let rows = api.cat_indices(None).await.unwrap();
    assert_eq!(rows[0].store_size, Some(20_890));
    assert!(!rows[1].is_open());
    assert_eq!(rows[1].docs_count, None);

    let aliases = api.get_aliases(None).await.unwrap();
    let errors = &aliases["logs-1"].aliases["errors"];
    assert_eq!(errors.filter, Some(json!({"term": {"level": "error"}})));
    assert_eq!(errors.search_routing.as_deref(), Some("1,2"));
    assert!(aliases["orders"].aliases.is_empty());

    let recovery = api.recovery(&[]).await.unwrap();
    let shard = &recovery["restored-logs-1"].shards[0];
    assert_eq!(
        (shard.recovery_type.as_str(), shard.stage.as_str()),
        ("SNAPSHOT", "INDEX")
    );
    let size = shard.index.as_ref().and_then(|i| i.size.as_ref()).unwrap();
    assert_eq!(
        (size.recovered_in_bytes, size.percent.as_deref()),
        (250, Some("25.0%"))
    );
}

#[tokio::test]
async fn bad_names_are_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let api = api(&server);
    let invalid = |r: Result<(), ApiError>| matches!(r, Err(ApiError::InvalidArgument(_)));
    assert!(invalid(api.delete_snapshots("nightly", &[]).await));
    assert!(invalid(
        api.delete_snapshots("nightly", &["nightly-1", "*"]).await
    ));
    assert!(invalid(api.delete_snapshots("nightly", &["_all"]).await));
    assert!(invalid(api.delete_snapshots("", &["nightly-1"]).await));
    assert!(invalid(api.delete_repository("*").await));
    assert!(invalid(api.delete_indices(&[]).await));
    assert!(invalid(api.delete_indices(&["logs-1", "logs-*"]).await));
    assert!(invalid(api.update_aliases(&[]).await));
    let body = CreateSnapshotRequest::default();
    assert!(matches!(
        api.create_snapshot("nightly", "", &body, false).await,
        Err(ApiError::InvalidArgument(_))
    ));
    assert!(matches!(
        api.get_snapshot("", "nightly-1").await,
        Err(ApiError::InvalidArgument(_))
    ));
    assert!(matches!(
        api.count("").await,
        Err(ApiError::InvalidArgument(_))
    ));
}
