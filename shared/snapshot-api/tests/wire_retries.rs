//! What is retried, seen from the server: a snapshot create or a restore is sent once even
//! when the answer is a 5xx (it may have started), a throttle is retried whatever the
//! method (the domain did nothing), and a repository PUT is declared idempotent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{api_with_retries, envelope, ok, quick_retries, signed};
use serde_json::json;
use snapshot_api::ApiError;
use snapshot_api::repository::{Repository, S3Settings};
use snapshot_api::restore::RestoreRequest;
use snapshot_api::snapshot::{CreateSnapshotRequest, CreateSnapshotResponse};
use wiremock::{MockServer, ResponseTemplate};

#[tokio::test]
async fn create_and_restore_are_sent_once_after_a_gateway_timeout() {
    let server = MockServer::start().await;
    signed("PUT", "/_snapshot/nightly/nightly-1")
        .respond_with(
            ResponseTemplate::new(504)
                .set_body_string("<html><body><h1>504 Gateway Time-out</h1></body></html>"),
        )
        .expect(1)
        .mount(&server)
        .await;
    signed("POST", "/_snapshot/nightly/nightly-1/_restore")
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with_retries(&server.uri(), quick_retries());
    let created = api
        .create_snapshot(
            "nightly",
            "nightly-1",
            &CreateSnapshotRequest::default(),
            false,
        )
        .await;
    assert!(matches!(created, Err(ApiError::Unavailable { status, .. }) if status == 504));
    let restored = api
        .restore("nightly", "nightly-1", &RestoreRequest::default(), false)
        .await;
    assert!(matches!(restored, Err(ApiError::Unavailable { status, .. }) if status == 502));
}

#[tokio::test]
async fn a_concurrent_snapshot_rejection_is_not_retried_either() {
    let server = MockServer::start().await;
    signed("PUT", "/_snapshot/nightly/nightly-2")
        .respond_with(envelope(
            "concurrent_snapshot_execution_exception",
            "[nightly:nightly-2] a snapshot is already running",
            503,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with_retries(&server.uri(), quick_retries());
    let body = CreateSnapshotRequest::default();
    assert!(matches!(
        api.create_snapshot("nightly", "nightly-2", &body, false)
            .await,
        Err(ApiError::ConcurrentSnapshotExecution { .. })
    ));
}

#[tokio::test]
async fn a_throttled_create_is_retried() {
    let server = MockServer::start().await;
    signed("PUT", "/_snapshot/nightly/nightly-3")
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"message": "Too Many Requests"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    signed("PUT", "/_snapshot/nightly/nightly-3")
        .respond_with(ok(json!({"accepted": true})))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with_retries(&server.uri(), quick_retries());
    let body = CreateSnapshotRequest::default();
    let created = api
        .create_snapshot("nightly", "nightly-3", &body, false)
        .await
        .unwrap();
    assert_eq!(created, CreateSnapshotResponse::Accepted { accepted: true });
}

#[tokio::test]
async fn a_repository_put_is_retried_after_a_503() {
    let server = MockServer::start().await;
    signed("PUT", "/_snapshot/nightly")
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    signed("PUT", "/_snapshot/nightly")
        .respond_with(ok(json!({"acknowledged": true})))
        .expect(1)
        .mount(&server)
        .await;
    let api = api_with_retries(&server.uri(), quick_retries());
    let repo = Repository::s3(S3Settings {
        bucket: "osnap-snapshots".into(),
        ..S3Settings::default()
    });
    api.put_repository("nightly", &repo, false).await.unwrap();
}
