//! `DomainClient` against real HTTP servers on loopback: what goes on the wire, and which
//! failures are retried.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_credential_types::Credentials;
use http::Method;
use signing::sigv4::{RequestToSign, SignatureOptions, SigningScope, sign_request};
use signing::{
    Authentication, BasicCredentials, CredentialSource, DomainClient, DomainEndpoint,
    DomainRequest, EndpointPolicy, RetryPolicy, SharedTimeSource, SigningError, StaticTimeSource,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const NOW_SECS: u64 = 1_795_000_000;

fn credentials() -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("TOKEN".into()),
        None,
        "test",
    )
}

fn time() -> SharedTimeSource {
    SharedTimeSource::new(StaticTimeSource::from_secs(NOW_SECS))
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        time_budget: Duration::from_secs(10),
    }
}

fn client_for(base: &str, retry: RetryPolicy) -> DomainClient {
    let endpoint = DomainEndpoint::parse(
        base,
        Some("us-east-1"),
        &EndpointPolicy::aws_only().allowing_loopback_for_tests(),
    )
    .unwrap();
    DomainClient::new(
        endpoint,
        CredentialSource::fixed(credentials(), time()),
        time(),
    )
    .unwrap()
    .with_retry_policy(retry)
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

/// Re-signs what the server received: if the client sent anything other than what it signed
/// (another path encoding, a missing header, another body), the signatures differ.
fn signature_of_received(request: &Request) -> String {
    let target = match request.url.query() {
        Some(q) => format!(
            "http://{}{}?{q}",
            header(request, "host"),
            request.url.path()
        ),
        None => format!("http://{}{}", header(request, "host"), request.url.path()),
    };
    let mut headers = vec![("host", header(request, "host"))];
    if request.headers.contains_key("content-type") {
        headers.push(("content-type", header(request, "content-type")));
    }
    let signed = sign_request(
        &RequestToSign {
            method: request.method.as_str(),
            uri: &target,
            headers: &headers,
            body: &request.body,
        },
        &credentials(),
        &SigningScope {
            region: "us-east-1",
            service: "es",
            time: time().now(),
        },
        &SignatureOptions::default(),
    )
    .unwrap();
    signed
        .headers
        .into_iter()
        .find(|(n, _)| *n == "authorization")
        .unwrap()
        .1
}

#[tokio::test]
async fn sends_exactly_what_it_signed() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"accepted":true}"#))
        .mount(&server)
        .await;
    let client = client_for(&server.uri(), RetryPolicy::none());
    let body = r#"{"indices":"logs-*","include_global_state":false}"#;
    let request = DomainRequest::new(Method::PUT, &["_snapshot", "nightly", "snap 2026.11.28+x"])
        .query("wait_for_completion", "false")
        .json_body(body);

    let response = client.send(&request).await.unwrap();
    assert_eq!((response.status.as_u16(), response.attempts), (200, 1));

    let received = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        received.url.path(),
        "/_snapshot/nightly/snap%202026.11.28%2Bx"
    );
    assert_eq!(received.url.query(), Some("wait_for_completion=false"));
    assert_eq!(received.body, body.as_bytes());
    assert_eq!(header(received, "content-type"), "application/json");
    assert_eq!(header(received, "x-amz-date"), "20261118T110640Z");
    assert_eq!(header(received, "x-amz-security-token"), "TOKEN");
    let authorization = header(received, "authorization");
    assert!(
        authorization.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261118/us-east-1/es/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="
        ),
        "{authorization}"
    );
    assert_eq!(authorization, signature_of_received(received));
}

#[tokio::test]
async fn the_signed_request_hides_its_secrets_from_debug() {
    let client = client_for("http://127.0.0.1:9", RetryPolicy::none());
    let built = client
        .build_signed(&DomainRequest::get(&["_snapshot"]))
        .await
        .unwrap();
    let shown = format!("{built:?}");
    assert!(built.headers().contains_key("authorization"));
    assert!(
        !shown.contains("AWS4-HMAC-SHA256") && !shown.contains("TOKEN"),
        "{shown}"
    );
    assert!(!format!("{client:?}").contains("wJalrXUtnFEMI"));
}

/// A client for a self-managed cluster at `base` (loopback).
fn self_managed_client(base: &str, auth: Authentication) -> DomainClient {
    let endpoint = DomainEndpoint::parse(
        base,
        Some("us-east-1"),
        &EndpointPolicy::aws_only().allowing_loopback_for_tests(),
    )
    .unwrap();
    DomainClient::with_authentication(
        signing::client::http_client().unwrap(),
        endpoint,
        auth,
        time(),
    )
}

#[tokio::test]
async fn a_self_managed_cluster_gets_basic_authentication_and_no_signature() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let basic = BasicCredentials::new("osnap", "s3cret:with colon").unwrap();
    let client = self_managed_client(&server.uri(), Authentication::Basic(basic));
    client
        .send(&DomainRequest::get(&["_cat", "indices"]))
        .await
        .unwrap();
    let open = self_managed_client(&server.uri(), Authentication::Anonymous);
    open.send(&DomainRequest::get(&["_cat", "indices"]))
        .await
        .unwrap();

    let received = server.received_requests().await.unwrap();
    // RFC 7617: base64("osnap:s3cret:with colon"); a password may hold `:`.
    assert_eq!(
        header(&received[0], "authorization"),
        "Basic b3NuYXA6czNjcmV0OndpdGggY29sb24="
    );
    for request in &received {
        for signed in ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"] {
            assert!(!request.headers.contains_key(signed), "{signed} sent");
        }
    }
    assert!(!received[1].headers.contains_key("authorization"));
    let built = client
        .build_signed(&DomainRequest::get(&["_cat"]))
        .await
        .unwrap();
    assert!(built.headers()["authorization"].is_sensitive());
    assert!(!format!("{client:?}").contains("b3NuYXA6"), "{client:?}");
    assert!(
        BasicCredentials::new("a:b", "p").is_err(),
        "a user id cannot hold `:`"
    );
}

#[tokio::test]
async fn an_aws_json_call_signs_its_target() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let client = client_for(&server.uri(), RetryPolicy::none());
    let request = DomainRequest::new(Method::POST, &[] as &[&str])
        .aws_json("secretsmanager.GetSecretValue", r#"{"SecretId":"s"}"#);
    client.send(&request).await.unwrap();
    let received = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        header(received, "content-type"),
        "application/x-amz-json-1.1"
    );
    assert_eq!(
        header(received, "x-amz-target"),
        "secretsmanager.GetSecretValue"
    );
    assert!(
        header(received, "authorization").contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        ),
        "{}",
        header(received, "authorization")
    );
}

/// Answers the first `failures` requests with `status` and `body`, then 200.
async fn flaky_server(failures: u64, status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .up_to_n_times(failures)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn idempotent_requests_retry_gateway_errors_until_answered() {
    for status in [502, 503, 504] {
        let server = flaky_server(2, status, "").await;
        let client = client_for(&server.uri(), fast_retries(5));
        let response = client.send(&DomainRequest::get(&["x"])).await.unwrap();
        assert_eq!(
            (response.status.as_u16(), response.attempts),
            (200, 3),
            "{status}"
        );
    }
}

#[tokio::test]
async fn a_create_that_timed_out_at_the_gateway_is_not_sent_again() {
    for status in [502, 503, 504] {
        let server = flaky_server(1, status, "").await;
        let client = client_for(&server.uri(), fast_retries(5));
        let response = client
            .send(&DomainRequest::new(Method::PUT, &["x"]))
            .await
            .unwrap();
        assert_eq!((response.status.as_u16(), response.attempts), (status, 1));
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn throttles_are_retried_even_for_creates() {
    let throttled_403 = r#"{"message":"Request throttled due to too many requests"}"#;
    for (status, body) in [(429, "{}"), (403, throttled_403)] {
        let server = flaky_server(2, status, body).await;
        let client = client_for(&server.uri(), fast_retries(5));
        let response = client
            .send(&DomainRequest::new(Method::PUT, &["x"]))
            .await
            .unwrap();
        assert_eq!(
            (response.status.as_u16(), response.attempts),
            (200, 3),
            "{status}"
        );
    }
}

#[tokio::test]
async fn access_denied_is_final() {
    let body = r#"{"Message":"User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: iam:PassRole"}"#;
    let server = flaky_server(5, 403, body).await;
    let client = client_for(&server.uri(), fast_retries(5));
    let response = client.send(&DomainRequest::get(&["x"])).await.unwrap();
    assert_eq!((response.status.as_u16(), response.attempts), (403, 1));
    assert_eq!(response.body, body.as_bytes());
}

#[tokio::test]
async fn retries_stop_at_the_attempt_limit_and_return_the_last_answer() {
    let server = flaky_server(10, 503, "busy").await;
    let client = client_for(&server.uri(), fast_retries(3));
    let response = client.send(&DomainRequest::get(&["x"])).await.unwrap();
    assert_eq!((response.status.as_u16(), response.attempts), (503, 3));
    assert_eq!(&response.body[..], b"busy");
}

#[tokio::test]
async fn retries_stop_when_the_time_budget_is_spent() {
    let server = flaky_server(10, 503, "").await;
    let policy = RetryPolicy {
        max_attempts: 100,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(20),
        time_budget: Duration::from_millis(100),
    };
    let client = client_for(&server.uri(), policy);
    let response = client.send(&DomainRequest::get(&["x"])).await.unwrap();
    // Waits of 10–20 ms each: at least 5 attempts fit in 100 ms, at most 11.
    assert!(
        (5..=11).contains(&response.attempts),
        "{}",
        response.attempts
    );
}

#[tokio::test]
async fn retry_after_from_the_server_sets_the_wait() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&server)
        .await;
    let policy = RetryPolicy {
        max_delay: Duration::from_millis(300),
        ..fast_retries(3)
    };
    let client = client_for(&server.uri(), policy);
    let started = std::time::Instant::now();
    let response = client.send(&DomainRequest::get(&["x"])).await.unwrap();
    assert_eq!(response.attempts, 2);
    // Retry-After 1 s, capped at max_delay (300 ms), far above the 1–5 ms backoff.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn connection_refused_is_retried_for_any_request() {
    // Bound but never listening: every connection is refused, and no other server can be
    // given the port meanwhile (as it could after binding and closing it).
    let refusing = tokio::net::TcpSocket::new_v4().unwrap();
    refusing.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = refusing.local_addr().unwrap().port();
    let client = client_for(&format!("http://127.0.0.1:{port}"), fast_retries(3));
    let error = client
        .send(&DomainRequest::new(Method::PUT, &["x"]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SigningError::Connect { attempts: 3, .. }),
        "{error:?}"
    );
}

/// A server on loopback that counts the connections it accepts and hands each to `serve`.
async fn counting_server<F, Fut>(serve: F) -> (String, Arc<AtomicU32>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicU32::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(socket));
        }
    });
    (address, accepted)
}

/// Accepts connections, reads the request, and closes without answering.
async fn hanging_up_server() -> (String, Arc<AtomicU32>) {
    counting_server(|mut socket| async move {
        let mut buffer = [0u8; 4096];
        let _ = socket.read(&mut buffer).await;
        let _ = socket.shutdown().await;
    })
    .await
}

#[tokio::test]
async fn a_dropped_connection_is_retried_only_when_idempotent() {
    let (address, accepted) = hanging_up_server().await;
    let client = client_for(&address, fast_retries(3));
    let error = client
        .send(&DomainRequest::new(Method::POST, &["x"]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SigningError::Transport { attempts: 1, .. }),
        "{error:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    let error = client.send(&DomainRequest::get(&["x"])).await.unwrap_err();
    assert!(
        matches!(error, SigningError::Transport { attempts: 3, .. }),
        "{error:?}"
    );
}

/// Accepts connections and reads requests, and never answers.
async fn silent_server() -> (String, Arc<AtomicU32>) {
    counting_server(|mut socket| async move {
        let mut buffer = [0u8; 4096];
        while matches!(socket.read(&mut buffer).await, Ok(n) if n > 0) {}
    })
    .await
}

#[tokio::test]
async fn attempts_end_in_time_for_the_invocation_to_report_or_look_up() {
    use signing::deadline::{LOOKUP_RESERVE, REPORT_RESERVE};
    let (address, accepted) = silent_server().await;
    let now = std::time::UNIX_EPOCH + Duration::from_secs(NOW_SECS);

    // A read with 4 s left waits 2 s, leaving the rest to report the failure.
    let client = client_for(&address, RetryPolicy::none())
        .with_deadline(Some(now + REPORT_RESERVE + Duration::from_secs(2)));
    let started = std::time::Instant::now();
    let error = client.send(&DomainRequest::get(&["x"])).await.unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(error, SigningError::Transport { .. }), "{error:?}");
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(4),
        "{waited:?}"
    );

    // A create keeps room to look up what the domain did.
    let client = client_for(&address, RetryPolicy::none())
        .with_deadline(Some(now + LOOKUP_RESERVE + Duration::from_secs(2)));
    let started = std::time::Instant::now();
    let error = client
        .send(&DomainRequest::new(Method::PUT, &["_snapshot", "r", "s"]))
        .await
        .unwrap_err();
    assert!(matches!(error, SigningError::Transport { .. }), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 2);

    // Without time for an attempt, nothing is sent.
    let client = client_for(&address, fast_retries(3))
        .with_deadline(Some(now + LOOKUP_RESERVE + Duration::from_millis(500)));
    let error = client
        .send(&DomainRequest::new(Method::PUT, &["_snapshot", "r", "s"]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SigningError::OutOfTime { attempts: 0, .. }),
        "{error:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "nothing was sent");
}

#[tokio::test]
async fn a_redirect_is_never_followed_and_names_only_the_host() {
    // Where the redirect points: counts every connection it gets.
    let (elsewhere, reached) = hanging_up_server().await;
    let server = MockServer::start().await;
    for status in [301, 302, 307, 308] {
        Mock::given(method("PUT"))
            .and(path(format!("/_snapshot/r/s{status}")))
            .respond_with(ResponseTemplate::new(status).insert_header(
                "location",
                format!("{elsewhere}/_snapshot/r/s?X-Amz-Security-Token=stolen"),
            ))
            .mount(&server)
            .await;
    }
    let client = client_for(&server.uri(), fast_retries(3));
    for status in [301, 302, 307, 308] {
        let name = format!("s{status}");
        let error = client
            .send(
                &DomainRequest::new(Method::PUT, &["_snapshot", "r", &name])
                    .json_body(r#"{"indices":"*"}"#),
            )
            .await
            .unwrap_err();
        let SigningError::Redirected { status: got, host } = &error else {
            panic!("{error:?}");
        };
        assert_eq!((*got, host.as_str()), (status, "127.0.0.1"));
        assert!(!error.to_string().contains("stolen"), "{error}");
    }
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "no request reached the redirect's host"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        4,
        "no retries"
    );
}
