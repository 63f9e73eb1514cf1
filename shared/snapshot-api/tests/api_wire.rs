//! Every endpoint against a real HTTP server on loopback: the request on the wire (method,
//! path, query, body, signature headers) and the parsing of real answers and errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{api, ok, signed};
use serde_json::json;
use snapshot_api::ApiError;
use snapshot_api::indices::AliasAction;
use snapshot_api::repository::{Repository, S3Settings};
use snapshot_api::restore::{RestoreRequest, RestoreResponse};
use snapshot_api::snapshot::{CreateSnapshotRequest, CreateSnapshotResponse, SnapshotState};
use wiremock::matchers::{body_json, header_regex, query_param};
use wiremock::{MockServer, ResponseTemplate};

#[tokio::test]
async fn repositories() {
    let server = MockServer::start().await;
    let settings = S3Settings {
        bucket: "osnap-snapshots".into(),
        region: Some("us-east-1".into()),
        base_path: Some("prod".into()),
        role_arn: Some("arn:aws:iam::123456789012:role/osnap-snapshots".into()),
        ..S3Settings::default()
    };
    signed("PUT", "/_snapshot/nightly")
        .and(body_json(json!({"type": "s3", "settings": {"bucket": "osnap-snapshots", "region": "us-east-1", "base_path": "prod", "role_arn": "arn:aws:iam::123456789012:role/osnap-snapshots"}})))
        .and(header_regex("content-type", "^application/json$"))
        .respond_with(ok(json!({"acknowledged": true})))
        .expect(1)
        .mount(&server)
        .await;
    signed("PUT", "/_snapshot/unverified")
        .and(query_param("verify", "false"))
        .respond_with(ok(json!({"acknowledged": true})))
        .expect(1)
        .mount(&server)
        .await;
    signed("GET", "/_snapshot/nightly")
        .respond_with(ok(json!({"nightly": {"type": "s3", "settings": {"bucket": "osnap-snapshots", "region": "us-east-1", "base_path": "prod", "role_arn": "arn:aws:iam::123456789012:role/osnap-snapshots", "readonly": "false"}}})))
        .mount(&server)
        .await;
    signed("GET", "/_snapshot/gone")
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {"root_cause": [{"type": "repository_missing_exception", "reason": "[gone] missing"}], "type": "repository_missing_exception", "reason": "[gone] missing"}, "status": 404})))
        .mount(&server)
        .await;
    signed("POST", "/_snapshot/nightly/_verify")
        .respond_with(ok(json!({"nodes": {"aBc": {"name": "7f3e"}}})))
        .mount(&server)
        .await;
    signed("DELETE", "/_snapshot/nightly")
        .respond_with(ok(json!({"acknowledged": true})))
        .expect(1)
        .mount(&server)
        .await;

    let api = api(&server);
    let definition = Repository::s3(settings.clone());
    api.put_repository("nightly", &definition, true)
        .await
        .unwrap();
    api.put_repository("unverified", &definition, false)
        .await
        .unwrap();
    let got = api.get_repository("nightly").await.unwrap().unwrap();
    assert_eq!(got.settings.readonly, Some(false));
    assert_eq!(got.settings.bucket, settings.bucket);
    assert_eq!(api.get_repository("gone").await.unwrap(), None);
    let verified = api.verify_repository("nightly").await.unwrap();
    assert_eq!(verified.nodes["aBc"].name, "7f3e");
    api.delete_repository("nightly").await.unwrap();
}

#[tokio::test]
async fn snapshots() {
    let server = MockServer::start().await;
    signed("PUT", "/_snapshot/nightly/nightly-2026.11.28")
        .and(query_param("wait_for_completion", "false"))
        .and(body_json(json!({"indices": "*,-.*", "ignore_unavailable": true, "include_global_state": false, "partial": false, "metadata": {"taken_by": "osnap"}})))
        .respond_with(ok(json!({"accepted": true})))
        .expect(1)
        .mount(&server)
        .await;
    signed("GET", "/_snapshot/nightly/nightly-2026.11.28")
        .respond_with(ok(json!({"snapshots": [{"snapshot": "nightly-2026.11.28", "uuid": "u", "indices": ["logs-1"], "state": "IN_PROGRESS", "start_time_in_millis": 1, "shards": {"total": 0, "failed": 0, "successful": 0}}]})))
        .mount(&server)
        .await;
    signed("GET", "/_snapshot/nightly/_all")
        .and(query_param("verbose", "false"))
        .respond_with(ok(json!({"snapshots": [{"snapshot": "a", "uuid": "1", "indices": [], "state": "SUCCESS"}, {"snapshot": "b", "uuid": "2", "indices": []}]})))
        .mount(&server)
        .await;
    signed("GET", "/_snapshot/nightly/a/_status")
        .respond_with(ok(json!({"snapshots": [{"snapshot": "a", "repository": "nightly", "uuid": "1", "state": "STARTED", "include_global_state": false, "shards_stats": {"initializing": 0, "started": 1, "finalizing": 0, "done": 2, "failed": 0, "total": 3}, "stats": {"incremental": {"file_count": 10, "size_in_bytes": 2048}, "total": {"file_count": 12, "size_in_bytes": 4096}, "start_time_in_millis": 5, "time_in_millis": 100}, "indices": {}}]})))
        .mount(&server)
        .await;
    signed("DELETE", "/_snapshot/nightly/a,b")
        .respond_with(ok(json!({"acknowledged": true})))
        .expect(1)
        .mount(&server)
        .await;

    let api = api(&server);
    let body = CreateSnapshotRequest {
        indices: Some("*,-.*".into()),
        ignore_unavailable: Some(true),
        include_global_state: Some(false),
        partial: Some(false),
        metadata: Some(json!({"taken_by": "osnap"}).as_object().unwrap().clone()),
    };
    let created = api
        .create_snapshot("nightly", "nightly-2026.11.28", &body, false)
        .await
        .unwrap();
    assert_eq!(created, CreateSnapshotResponse::Accepted { accepted: true });
    let info = api
        .get_snapshot("nightly", "nightly-2026.11.28")
        .await
        .unwrap();
    assert_eq!(info.state, Some(SnapshotState::InProgress));
    let listed = api.list_snapshots("nightly", false).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|s| s.snapshot.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    let status = api.snapshot_status("nightly", "a").await.unwrap();
    assert_eq!(
        (
            status.state.as_str(),
            status.shards_stats.done,
            status.stats.total.size_in_bytes
        ),
        ("STARTED", 2, 4096)
    );
    api.delete_snapshots("nightly", &["a", "b"]).await.unwrap();
    assert!(matches!(
        api.delete_snapshots("nightly", &[]).await,
        Err(ApiError::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn named_snapshots_in_one_request_with_their_metadata() {
    let server = MockServer::start().await;
    signed("GET", "/_snapshot/nightly/a,b,gone")
        .and(query_param("ignore_unavailable", "true"))
        .respond_with(ok(json!({"snapshots": [
            {"snapshot": "a", "state": "SUCCESS", "indices": ["logs"], "metadata": {"pinned": true}},
            {"snapshot": "b", "state": "FAILED", "indices": []}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);
    let found = api
        .get_snapshots("nightly", &["a", "b", "gone"])
        .await
        .unwrap();
    assert_eq!(
        found
            .iter()
            .map(|s| (
                s.snapshot.as_str(),
                s.metadata.as_ref().map(|m| m["pinned"].clone())
            ))
            .collect::<Vec<_>>(),
        [("a", Some(json!(true))), ("b", None)]
    );
    let invalid = |r: Result<Vec<_>, ApiError>| matches!(r, Err(ApiError::InvalidArgument(_)));
    assert!(invalid(api.get_snapshots("nightly", &[]).await));
    assert!(invalid(api.get_snapshots("nightly", &["a", "b*"]).await));
    assert!(invalid(api.get_snapshots("nightly", &["_all"]).await));
}

#[tokio::test]
async fn restore_and_indices() {
    let server = MockServer::start().await;
    signed("POST", "/_snapshot/nightly/s1/_restore")
        .and(query_param("wait_for_completion", "false"))
        .and(body_json(json!({"indices": "logs-*", "ignore_unavailable": true, "include_global_state": false, "include_aliases": false, "partial": false, "index_settings": {"index.number_of_replicas": 0}, "ignore_index_settings": ["index.refresh_interval"], "rename_pattern": "(.+)", "rename_replacement": "restored-$1"})))
        .respond_with(ok(json!({"accepted": true})))
        .expect(1)
        .mount(&server)
        .await;
    signed("GET", "/_cat/indices/logs-*")
        .and(query_param("format", "json"))
        .and(query_param("bytes", "b"))
        .and(query_param("expand_wildcards", "all"))
        .respond_with(ok(json!([{"health": "green", "status": "open", "index": "logs-1", "uuid": "u", "pri": "1", "rep": "0", "docs.count": "7", "docs.deleted": "0", "store.size": "512", "pri.store.size": "512"}])))
        .mount(&server)
        .await;
    signed("DELETE", "/logs-1,logs-2")
        .respond_with(ok(json!({"acknowledged": true})))
        .expect(1)
        .mount(&server)
        .await;
    signed("GET", "/logs-1/_alias")
        .respond_with(ok(
            json!({"logs-1": {"aliases": {"logs": {"is_write_index": true}}}}),
        ))
        .mount(&server)
        .await;
    signed("POST", "/_aliases")
        .and(body_json(
            json!({"actions": [{"remove": {"index": "logs-1", "alias": "logs"}}]}),
        ))
        .respond_with(ok(json!({"acknowledged": true})))
        .expect(1)
        .mount(&server)
        .await;
    signed("GET", "/logs-1/_count")
        .respond_with(ok(json!({"count": 7, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}})))
        .mount(&server)
        .await;
    signed("GET", "/restored-logs-1/_recovery")
        .respond_with(ok(json!({"restored-logs-1": {"shards": [{"id": 0, "type": "SNAPSHOT", "stage": "DONE", "primary": true, "source": {"repository": "nightly", "snapshot": "s1", "index": "logs-1"}}]}})))
        .mount(&server)
        .await;
    signed("GET", "/")
        .respond_with(ok(json!({"name": "n", "cluster_name": "c", "cluster_uuid": "u", "version": {"distribution": "opensearch", "number": "2.13.0"}})))
        .mount(&server)
        .await;

    let api = api(&server);
    let body = RestoreRequest {
        indices: Some("logs-*".into()),
        ignore_unavailable: Some(true),
        include_global_state: Some(false),
        include_aliases: Some(false),
        partial: Some(false),
        index_settings: Some(
            json!({"index.number_of_replicas": 0})
                .as_object()
                .unwrap()
                .clone(),
        ),
        ignore_index_settings: Some(vec!["index.refresh_interval".into()]),
        rename_pattern: Some("(.+)".into()),
        rename_replacement: Some("restored-$1".into()),
    };
    let restored = api.restore("nightly", "s1", &body, false).await.unwrap();
    assert_eq!(restored, RestoreResponse::Accepted { accepted: true });
    let rows = api.cat_indices(Some("logs-*")).await.unwrap();
    assert_eq!(
        (rows[0].index.as_str(), rows[0].docs_count),
        ("logs-1", Some(7))
    );
    api.delete_indices(&["logs-1", "logs-2"]).await.unwrap();
    for unsafe_name in ["*", "logs-*", "_all", "a,b", ""] {
        let refused = api.delete_indices(&[unsafe_name]).await;
        assert!(
            matches!(refused, Err(ApiError::InvalidArgument(_))),
            "{unsafe_name}"
        );
    }
    let aliases = api.get_aliases(Some("logs-1")).await.unwrap();
    assert_eq!(aliases["logs-1"].aliases["logs"].is_write_index, Some(true));
    api.update_aliases(&[AliasAction::Remove {
        index: "logs-1".into(),
        alias: "logs".into(),
    }])
    .await
    .unwrap();
    assert_eq!(api.count("logs-1").await.unwrap(), 7);
    let recovery = api.recovery(&["restored-logs-1"]).await.unwrap();
    assert!(recovery["restored-logs-1"].shards[0].is_done());
    assert_eq!(
        api.cluster_info().await.unwrap().engine().unwrap().version,
        (2, 13, 0)
    );
}

#[tokio::test]
async fn errors_from_real_shapes() {
    let server = MockServer::start().await;
    let envelope = |t: &str, reason: &str, status: u16| {
        ResponseTemplate::new(status).set_body_json(json!({"error": {"root_cause": [{"type": t, "reason": reason}], "type": t, "reason": reason}, "status": status}))
    };
    signed("PUT", "/_snapshot/r/running")
        .respond_with(envelope(
            "concurrent_snapshot_execution_exception",
            "[r:running] a snapshot is already running",
            503,
        ))
        .mount(&server)
        .await;
    signed("PUT", "/_snapshot/r/dup")
        .respond_with(envelope(
            "invalid_snapshot_name_exception",
            "[r:dup] Invalid snapshot name [dup], snapshot with the same name already exists",
            400,
        ))
        .mount(&server)
        .await;
    signed("GET", "/_snapshot/r/nope")
        .respond_with(envelope(
            "snapshot_missing_exception",
            "[r:nope] is missing",
            404,
        ))
        .mount(&server)
        .await;
    signed("POST", "/_snapshot/r/s/_restore")
        .respond_with(envelope("snapshot_restore_exception", "[r:s/u] cannot restore index [logs-1] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name", 500))
        .mount(&server)
        .await;
    signed("PUT", "/_snapshot/denied")
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"Message": "User: arn:aws:sts::123456789012:assumed-role/osnap/fn is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/osnap-snapshots"})))
        .mount(&server)
        .await;
    signed("GET", "/_snapshot/r/_all")
        .respond_with(
            ResponseTemplate::new(504)
                .set_body_string("<html><body><h1>504 Gateway Time-out</h1></body></html>"),
        )
        .mount(&server)
        .await;
    signed("GET", "/missing/_count")
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {"root_cause": [{"type": "index_not_found_exception", "reason": "no such index [missing]", "index": "missing"}], "type": "index_not_found_exception", "reason": "no such index [missing]", "index": "missing"}, "status": 404})))
        .mount(&server)
        .await;
    signed("GET", "/")
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"message": "Too Many Requests"})),
        )
        .mount(&server)
        .await;

    let api = api(&server);
    let body = CreateSnapshotRequest::default();
    assert!(matches!(
        api.create_snapshot("r", "running", &body, false).await,
        Err(ApiError::ConcurrentSnapshotExecution { .. })
    ));
    assert!(matches!(
        api.create_snapshot("r", "dup", &body, false).await,
        Err(ApiError::InvalidSnapshotName {
            already_exists: true,
            ..
        })
    ));
    assert!(matches!(
        api.get_snapshot("r", "nope").await,
        Err(ApiError::SnapshotMissing { .. })
    ));
    match api
        .restore("r", "s", &RestoreRequest::default(), false)
        .await
    {
        Err(ApiError::RestoreConflict { indices, .. }) => assert_eq!(indices, ["logs-1"]),
        other => panic!("{other:?}"),
    }
    let repo = Repository::s3(S3Settings {
        bucket: "b".into(),
        ..S3Settings::default()
    });
    match api.put_repository("denied", &repo, true).await {
        Err(ApiError::AccessDenied { action, .. }) => {
            assert_eq!(action.as_deref(), Some("iam:PassRole"))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        api.list_snapshots("r", true).await,
        Err(ApiError::Unavailable { .. })
    ));
    assert!(
        matches!(api.count("missing").await, Err(ApiError::IndexNotFound { ref index }) if index == "missing")
    );
    assert!(matches!(
        api.cluster_info().await,
        Err(ApiError::Throttled { .. })
    ));
}
