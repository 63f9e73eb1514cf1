//! What the domain tests share: a stand-in S3 with a bucket, emulated domains with short
//! durations, and a signed client that sends a request as a path and a JSON body.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use aws_credential_types::Credentials;
use http::Method;
use serde_json::Value;
use signing::{DomainClient, DomainRequest, RetryPolicy};
use standin::s3::S3Server;
use standin::{Domain, DomainConfig};

pub const BUCKET: &str = "snapshots";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/osnap-snapshots";
pub const CALLER: &str = "arn:aws:iam::123456789012:user/osnap-test";

/// A stand-in S3 server on its own folder, with the `snapshots` bucket.
pub struct Env {
    pub s3: S3Server,
    root: PathBuf,
}

impl Env {
    pub async fn new(tag: &str) -> Self {
        let root = std::env::temp_dir().join(format!(
            "standin-{tag}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let s3 = S3Server::start(&root, "AKIDS3", "s3-secret").await.unwrap();
        s3.create_bucket(BUCKET).await.unwrap();
        Self { s3, root }
    }

    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    /// A domain configuration with short durations, writing to this S3.
    pub fn config(&self, name: &str) -> DomainConfig {
        let mut config = DomainConfig::new(name, self.s3.endpoint(), self.s3.credentials());
        config.snapshot_duration = Duration::from_millis(150);
        config.recovery_duration = Duration::from_millis(150);
        config
    }

    pub async fn domain(&self, name: &str) -> Domain {
        Domain::start(self.config(name)).await.unwrap()
    }

    pub async fn shutdown(self) {
        self.s3.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A signed client for one domain; no retries unless asked, so answers are seen as sent.
pub struct Api {
    client: DomainClient,
}

pub fn client(endpoint: &str, secret: &str, retry: RetryPolicy) -> DomainClient {
    let credentials = Credentials::new("AKIDSTANDIN", secret, None, None, "test");
    standin::client::client_for(endpoint, credentials)
        .unwrap()
        .with_retry_policy(retry)
}

/// `/a/b?x=1&y` → segments and query pairs.
pub fn request(method: Method, target: &str) -> DomainRequest {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut request = DomainRequest::new(method, &segments);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        request = request.query(k, v);
    }
    request
}

fn parse(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

impl Api {
    pub fn new(domain: &Domain) -> Self {
        Self {
            client: client(&domain.endpoint(), "standin-secret", RetryPolicy::none()),
        }
    }

    pub fn with_client(client: DomainClient) -> Self {
        Self { client }
    }

    pub async fn call(&self, method: Method, target: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = request(method, target);
        if let Some(body) = body {
            request = request.json_body(body.to_string());
        }
        let response = self.client.send(&request).await.unwrap();
        (response.status.as_u16(), parse(&response.body))
    }

    pub async fn get(&self, target: &str) -> (u16, Value) {
        self.call(Method::GET, target, None).await
    }

    pub async fn put(&self, target: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, target, Some(body)).await
    }

    pub async fn post(&self, target: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, target, Some(body)).await
    }

    pub async fn delete(&self, target: &str) -> (u16, Value) {
        self.call(Method::DELETE, target, None).await
    }

    /// Sends NDJSON lines to `_bulk`.
    pub async fn bulk(&self, target: &str, lines: &[Value]) -> (u16, Value) {
        let mut body = String::new();
        for line in lines {
            body.push_str(&line.to_string());
            body.push('\n');
        }
        let request = request(Method::POST, target).json_body(body);
        let response = self.client.send(&request).await.unwrap();
        (response.status.as_u16(), parse(&response.body))
    }

    /// Indexes `n` small documents into `index` with one bulk request.
    pub async fn ingest(&self, index: &str, n: usize) {
        let mut lines = Vec::new();
        for i in 0..n {
            lines.push(serde_json::json!({"index": {"_index": index, "_id": i.to_string()}}));
            lines.push(serde_json::json!({"n": i, "message": format!("event {i}")}));
        }
        let (status, body) = self.bulk("/_bulk", &lines).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["errors"], false, "{body}");
    }

    pub async fn count(&self, index: &str) -> u64 {
        let (status, body) = self.get(&format!("/{index}/_count")).await;
        assert_eq!(status, 200, "{body}");
        body["count"].as_u64().unwrap()
    }

    /// Registers the `snapshots` bucket as `name`.
    pub async fn register(&self, name: &str, base_path: &str, readonly: bool) {
        let (status, body) = self
            .put(
                &format!("/_snapshot/{name}"),
                serde_json::json!({"type": "s3", "settings": {
                    "bucket": BUCKET, "base_path": base_path, "region": "us-east-1",
                    "role_arn": ROLE, "readonly": readonly
                }}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Takes a snapshot and waits for it.
    pub async fn snapshot(&self, repo: &str, name: &str, body: Value) -> Value {
        let (status, answer) = self
            .put(
                &format!("/_snapshot/{repo}/{name}?wait_for_completion=true"),
                body,
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        answer["snapshot"].clone()
    }

    /// Polls the snapshot until its state is not `IN_PROGRESS` (bounded).
    pub async fn wait_done(&self, repo: &str, name: &str) -> Value {
        for _ in 0..400 {
            let (status, body) = self.get(&format!("/_snapshot/{repo}/{name}")).await;
            assert_eq!(status, 200, "{body}");
            let info = body["snapshots"][0].clone();
            if info["state"] != "IN_PROGRESS" {
                return info;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("snapshot {repo}:{name} never finished");
    }
}

/// The error `type` of an engine error envelope.
pub fn error_type(body: &Value) -> &str {
    body["error"]["type"].as_str().unwrap_or_default()
}

pub fn reason(body: &Value) -> &str {
    body["error"]["reason"].as_str().unwrap_or_default()
}
