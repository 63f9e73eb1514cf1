//! What every wire test needs: a client signing with fixed credentials at a fixed time for a
//! local server, and mocks that only answer correctly signed requests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_credential_types::Credentials;
use signing::{
    CredentialSource, DomainClient, DomainEndpoint, EndpointPolicy, RetryPolicy, SharedTimeSource,
    StaticTimeSource,
};
use snapshot_api::SnapshotApi;
use wiremock::matchers::{header_regex, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

/// 2026-11-18T11:06:40Z.
pub const NOW_SECS: u64 = 1_795_000_000;

/// The signature headers of a request signed at [`NOW_SECS`] for `us-east-1`, service `es`.
pub const AUTHORIZATION: &str = r"^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261118/us-east-1/es/aws4_request, SignedHeaders=[a-z;-]*host;x-amz-date, Signature=[0-9a-f]{64}$";
pub const AMZ_DATE: &str = "^20261118T110640Z$";

/// A client for `server` that never retries.
pub fn api(server: &MockServer) -> SnapshotApi {
    api_with_retries(&server.uri(), RetryPolicy::none())
}

/// A client that reads the engine from the server's `GET /`.
pub fn api_reading_engine(server: &MockServer) -> SnapshotApi {
    SnapshotApi::new(api(server).domain().clone())
}

/// A client for `base` with this retry policy.
pub fn api_with_retries(base: &str, retry: RetryPolicy) -> SnapshotApi {
    let time = SharedTimeSource::new(StaticTimeSource::from_secs(NOW_SECS));
    let endpoint = DomainEndpoint::parse(
        base,
        Some("us-east-1"),
        &EndpointPolicy::aws_only().allowing_loopback_for_tests(),
    )
    .unwrap();
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let client = DomainClient::new(
        endpoint,
        CredentialSource::fixed(credentials, time.clone()),
        time,
    )
    .unwrap()
    .with_retry_policy(retry);
    // The wire tests describe an OpenSearch 2.13 domain; `engines.rs` covers the others.
    SnapshotApi::with_engine(client, policy::engines::Engine::opensearch((2, 13, 0)))
}

/// Retries with delays short enough for a test.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        time_budget: Duration::from_secs(5),
    }
}

/// A mock that only answers a correctly signed request with this method and path.
pub fn signed(verb: &str, p: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(p))
        .and(header_regex("authorization", AUTHORIZATION))
        .and(header_regex("x-amz-date", AMZ_DATE))
}

pub fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// The error envelope OpenSearch and Elasticsearch answer with.
pub fn envelope(error_type: &str, reason: &str, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(serde_json::json!({
        "error": {
            "root_cause": [{"type": error_type, "reason": reason}],
            "type": error_type,
            "reason": reason
        },
        "status": status
    }))
}
