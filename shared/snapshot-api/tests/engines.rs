//! Requests shaped by the engine version: `GET /` read once, then each request gated on
//! `policy::engines::Capabilities`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{api_reading_engine, ok, signed};
use serde_json::json;
use snapshot_api::ApiError;
use snapshot_api::snapshot::CreateSnapshotRequest;
use wiremock::matchers::query_param;
use wiremock::{Mock, MockServer};

async fn root(server: &MockServer, number: &str, distribution: Option<&str>) {
    let mut version = json!({"number": number, "build_type": "tar"});
    if let Some(d) = distribution {
        version["distribution"] = json!(d);
    }
    signed("GET", "/")
        .respond_with(ok(json!({"name": "n", "cluster_name": "c", "cluster_uuid": "u", "version": version, "tagline": "You Know, for Search"})))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn elasticsearch_7_4_gets_no_expand_wildcards_and_one_delete_per_snapshot() {
    let server = MockServer::start().await;
    root(&server, "7.4.2", None).await;
    signed("GET", "/_cat/indices")
        .and(query_param("format", "json"))
        .respond_with(ok(json!([{"index": "logs-1", "status": "close"}])))
        .expect(1)
        .mount(&server)
        .await;
    for name in ["a", "b"] {
        signed("DELETE", &format!("/_snapshot/nightly/{name}"))
            .respond_with(ok(json!({"acknowledged": true})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let api = api_reading_engine(&server);
    let rows = api.cat_indices(None).await.unwrap();
    assert_eq!(rows.len(), 1);
    api.delete_snapshots("nightly", &["a", "b"]).await.unwrap();
    assert_eq!(
        api.engine().await.unwrap(),
        policy::engines::Engine::elasticsearch((7, 4, 2))
    );
    let requests = server.received_requests().await.unwrap();
    let cat = requests
        .iter()
        .find(|r| r.url.path() == "/_cat/indices")
        .unwrap();
    assert!(!cat.url.query().unwrap().contains("expand_wildcards"));
    // `GET /` once (the mock expects exactly one).
}

#[tokio::test]
async fn opensearch_gets_the_list_and_expand_wildcards() {
    let server = MockServer::start().await;
    root(&server, "1.3.20", Some("opensearch")).await;
    signed("GET", "/_cat/indices")
        .and(query_param("expand_wildcards", "all"))
        .respond_with(ok(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    signed("DELETE", "/_snapshot/nightly/a,b")
        .respond_with(ok(json!({"acknowledged": true})))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_reading_engine(&server);
    api.cat_indices(None).await.unwrap();
    api.clone()
        .delete_snapshots("nightly", &["a", "b"])
        .await
        .unwrap();
}

#[tokio::test]
async fn elasticsearch_6_8_is_sent_no_snapshot_metadata() {
    let server = MockServer::start().await;
    root(&server, "6.8.23", None).await;
    Mock::given(wiremock::matchers::method("PUT"))
        .respond_with(ok(json!({"accepted": true})))
        .expect(0)
        .mount(&server)
        .await;
    let api = api_reading_engine(&server);
    let body = CreateSnapshotRequest {
        metadata: Some(json!({"pinned": true}).as_object().unwrap().clone()),
        ..CreateSnapshotRequest::default()
    };
    let error = api
        .create_snapshot("nightly", "s", &body, false)
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Unsupported { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        "Elasticsearch 6.8.23 does not support snapshot metadata (Elasticsearch 7.3 and later)"
    );
}
