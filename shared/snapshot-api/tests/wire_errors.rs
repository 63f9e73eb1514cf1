//! Errors as a real server sends them, through the whole client: the classification the
//! callers branch on, and the failures that never got an answer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::error::Error as _;

use common::{api, api_with_retries, envelope, signed};
use http::StatusCode;
use serde_json::json;
use signing::{RetryPolicy, SigningError};
use snapshot_api::ApiError;
use wiremock::{MockServer, ResponseTemplate};

#[tokio::test]
async fn missing_repository_in_progress_and_rejected() {
    let server = MockServer::start().await;
    signed("GET", "/_snapshot/nightly/_all")
        .respond_with(envelope(
            "repository_missing_exception",
            "[nightly] missing",
            404,
        ))
        .mount(&server)
        .await;
    signed("DELETE", "/_snapshot/r/being-restored")
        .respond_with(envelope(
            "snapshot_in_progress_exception",
            "[r:being-restored/Xq1] Cannot delete snapshot while it is being restored",
            400,
        ))
        .mount(&server)
        .await;
    signed("GET", "/_cat/indices")
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"error": {"root_cause": [{"type": "es_rejected_execution_exception", "reason": "rejected execution of org.opensearch.transport.TransportService$7@1b2c3d on OpenSearchThreadPoolExecutor[name = node-1/management, queue capacity = 100]"}], "type": "es_rejected_execution_exception", "reason": "rejected execution of org.opensearch.transport.TransportService$7@1b2c3d on OpenSearchThreadPoolExecutor[name = node-1/management, queue capacity = 100]"}, "status": 429})))
        .mount(&server)
        .await;
    signed("GET", "/_snapshot/r/s/_status")
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Request throttled due to too many requests"})),
        )
        .mount(&server)
        .await;

    let api = api(&server);
    let missing = api.list_snapshots("nightly", true).await.unwrap_err();
    assert!(
        matches!(missing, ApiError::RepositoryMissing { ref reason } if reason == "[nightly] missing")
    );
    assert_eq!(missing.status(), Some(StatusCode::NOT_FOUND));
    assert!(matches!(
        api.delete_snapshots("r", &["being-restored"]).await,
        Err(ApiError::SnapshotInProgress { .. })
    ));
    assert!(matches!(
        api.cat_indices(None).await,
        Err(ApiError::Throttled { status, .. }) if status == StatusCode::TOO_MANY_REQUESTS
    ));
    assert!(matches!(
        api.snapshot_status("r", "s").await,
        Err(ApiError::Throttled { status, .. }) if status == StatusCode::FORBIDDEN
    ));
}

#[tokio::test]
async fn denials_unavailability_and_other_server_errors() {
    let server = MockServer::start().await;
    signed("POST", "/_snapshot/nightly/s1/_restore")
        .respond_with(envelope(
            "security_exception",
            "no permissions for [cluster:admin/snapshot/restore] and User [name=arn:aws:iam::123456789012:role/osnap-fn, backend_roles=[arn:aws:iam::123456789012:role/osnap-fn], requestedTenant=null]",
            403,
        ))
        .mount(&server)
        .await;
    signed("GET", "/_snapshot/nightly")
        .respond_with(envelope(
            "master_not_discovered_exception",
            "FailedToCommitClusterStateException[publication failed]",
            503,
        ))
        .mount(&server)
        .await;
    signed("PUT", "/_snapshot/nightly")
        .respond_with(envelope(
            "repository_verification_exception",
            "[nightly] path [prod] is not accessible on master node",
            500,
        ))
        .mount(&server)
        .await;
    signed("GET", "/logs-1/_count")
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "Incorrect HTTP method", "status": 400})),
        )
        .mount(&server)
        .await;
    signed("DELETE", "/logs-9")
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {"root_cause": [{"type": "index_not_found_exception", "reason": "no such index [logs-9]", "resource.type": "index_or_alias", "resource.id": "logs-9", "index_uuid": "_na_", "index": "logs-9"}], "type": "index_not_found_exception", "reason": "no such index [logs-9]", "resource.type": "index_or_alias", "resource.id": "logs-9", "index_uuid": "_na_", "index": "logs-9"}, "status": 404})))
        .mount(&server)
        .await;

    let api = api(&server);
    let body = snapshot_api::restore::RestoreRequest::default();
    match api.restore("nightly", "s1", &body, false).await {
        Err(ApiError::AccessDenied { action, .. }) => {
            assert_eq!(action.as_deref(), Some("cluster:admin/snapshot/restore"))
        }
        other => panic!("{other:?}"),
    }
    match api.get_repository("nightly").await {
        Err(ApiError::Unavailable { status, message }) => {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(message.contains("master_not_discovered_exception"));
        }
        other => panic!("{other:?}"),
    }
    let repo = snapshot_api::repository::Repository::s3(Default::default());
    match api.put_repository("nightly", &repo, true).await {
        Err(ApiError::Server {
            status,
            error_type,
            reason,
        }) => {
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(error_type, "repository_verification_exception");
            assert!(reason.contains("not accessible"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        api.count("logs-1").await,
        Err(ApiError::Server { status, .. }) if status == StatusCode::BAD_REQUEST
    ));
    assert!(
        matches!(api.delete_indices(&["logs-9"]).await, Err(ApiError::IndexNotFound { ref index }) if index == "logs-9")
    );
}

#[tokio::test]
async fn a_success_with_an_unexpected_body_is_a_decode_error() {
    let server = MockServer::start().await;
    signed("GET", "/_snapshot/nightly/_all")
        .respond_with(
            ResponseTemplate::new(200).set_body_string("<html><body>Kibana</body></html>"),
        )
        .mount(&server)
        .await;
    let err = api(&server)
        .list_snapshots("nightly", false)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ApiError::Decode {
            what: "snapshot listing",
            ..
        }
    ));
    assert_eq!(err.to_string(), "unexpected response to snapshot listing");
    assert!(err.source().is_some(), "the parser's error is the source");
}

#[tokio::test]
async fn no_answer_is_a_transport_error_with_its_cause() {
    // Bound but never listening: the connection is refused, and no other server can be given
    // the port meanwhile (as it could after binding and closing it).
    let refusing = tokio::net::TcpSocket::new_v4().unwrap();
    refusing.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = refusing.local_addr().unwrap().port();
    let api = api_with_retries(&format!("http://127.0.0.1:{port}"), RetryPolicy::none());
    let err = api.cluster_info().await.unwrap_err();
    match &err {
        ApiError::Transport(SigningError::Connect { attempts, .. }) => assert_eq!(*attempts, 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.status(), None);
    assert_eq!(err.to_string(), "request not delivered");
    let cause = err.source().expect("the signing error");
    assert!(
        cause
            .to_string()
            .starts_with("could not connect to the domain")
    );
}
