//! A self-managed cluster (`DomainConfig::self_managed`): basic authentication and its 401
//! challenges as each engine sends them, an open cluster, no AWS-only APIs, and a repository
//! registered without `role_arn` through which a snapshot goes to S3 and comes back — on the
//! cluster itself, and on an AWS domain reading the same bucket (the migration onto AWS).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, BUCKET, Env, error_type};
use http::Method;
use serde_json::{Value, json};
use standin::{Domain, DomainConfig, Engine, Fault, FaultRule, SelfManagedAccess};

const USER: &str = "admin";
const PASSWORD: &str = "correct horse:battery";

/// An HTTP client that sends a fixed `Authorization` header (or none).
struct Raw {
    http: reqwest::Client,
    endpoint: String,
    authorization: Option<String>,
}

struct Answer {
    status: u16,
    challenge: Option<String>,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::String(self.text.clone()))
    }
}

impl Raw {
    fn new(domain: &Domain, authorization: Option<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            endpoint: domain.endpoint(),
            authorization,
        }
    }

    fn basic(domain: &Domain) -> Self {
        Self::new(
            domain,
            Some(standin::client::basic_authorization(USER, PASSWORD)),
        )
    }

    async fn send(&self, method: Method, target: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{target}", self.endpoint));
        if let Some(value) = &self.authorization {
            request = request.header("authorization", value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        Answer {
            status: response.status().as_u16(),
            challenge: header("www-authenticate"),
            content_type: header("content-type").unwrap_or_default(),
            text: response.text().await.unwrap(),
        }
    }

    async fn get(&self, target: &str) -> (u16, Value) {
        let answer = self.send(Method::GET, target, None).await;
        (answer.status, answer.json())
    }

    async fn put(&self, target: &str, body: Value) -> (u16, Value) {
        let answer = self.send(Method::PUT, target, Some(body)).await;
        (answer.status, answer.json())
    }

    async fn post(&self, target: &str, body: Value) -> (u16, Value) {
        let answer = self.send(Method::POST, target, Some(body)).await;
        (answer.status, answer.json())
    }

    async fn ingest(&self, index: &str, n: usize) {
        let mut body = String::new();
        for i in 0..n {
            body.push_str(&json!({"index": {"_index": index, "_id": i.to_string()}}).to_string());
            body.push('\n');
            body.push_str(&json!({"n": i}).to_string());
            body.push('\n');
        }
        let mut request = self
            .http
            .post(format!("{}/_bulk", self.endpoint))
            .header("content-type", "application/x-ndjson")
            .body(body);
        if let Some(value) = &self.authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
}

fn basic_config(env: &Env, name: &str, engine: Engine) -> DomainConfig {
    let mut config = DomainConfig::self_managed(
        name,
        env.s3.endpoint(),
        env.s3.credentials(),
        SelfManagedAccess::Basic {
            username: USER.into(),
            password: PASSWORD.into(),
        },
    );
    config.engine = engine;
    config.snapshot_duration = std::time::Duration::from_millis(100);
    config.recovery_duration = std::time::Duration::from_millis(100);
    config
}

#[tokio::test]
async fn opensearch_takes_its_user_and_challenges_everyone_else_as_the_security_plugin_does() {
    let env = Env::new("self-managed-os").await;
    for (engine, body) in [
        (Engine::os_2(), ""),
        (Engine::os_3(), "Unauthorized"),
        (Engine::os_1_3(), ""),
    ] {
        let domain = Domain::start(basic_config(&env, "onprem", engine.clone()))
            .await
            .unwrap();
        let (status, root) = Raw::basic(&domain).get("/").await;
        assert_eq!(status, 200, "{engine}: {root}");
        assert_eq!(root["cluster_name"], "onprem", "no AWS account prefix");

        let wrong = Raw::new(
            &domain,
            Some(standin::client::basic_authorization(USER, "nope")),
        );
        let missing = Raw::new(&domain, None);
        let other_user = Raw::new(
            &domain,
            Some(standin::client::basic_authorization("kibanaro", PASSWORD)),
        );
        for client in [&wrong, &missing, &other_user] {
            let answer = client.send(Method::GET, "/_snapshot", None).await;
            assert_eq!(answer.status, 401, "{engine}");
            assert_eq!(
                answer.challenge.as_deref(),
                Some("Basic realm=\"OpenSearch Security\"")
            );
            assert_eq!(answer.text, body, "{engine}");
            assert!(answer.content_type.starts_with("text/plain"));
        }
        // A SigV4 signature is another scheme: no basic credentials, the same challenge.
        let (status, signed) = Api::new(&domain).get("/_cat/indices").await;
        assert_eq!(status, 401, "{engine}: {signed}");
        domain.shutdown().await;
    }
    env.shutdown().await;
}

#[tokio::test]
async fn elasticsearch_security_answers_a_security_exception_with_its_challenge() {
    let env = Env::new("self-managed-es").await;
    let domain = Domain::start(basic_config(&env, "onprem", Engine::es_7_10()))
        .await
        .unwrap();
    let (status, root) = Raw::basic(&domain).get("/").await;
    assert_eq!(status, 200, "{root}");
    assert_eq!(root["version"]["build_flavor"], "default");

    let missing = Raw::new(&domain, None)
        .send(Method::GET, "/_snapshot/_all?pretty", None)
        .await;
    assert_eq!(missing.status, 401);
    let challenge = "Basic realm=\"security\" charset=\"UTF-8\"";
    assert_eq!(missing.challenge.as_deref(), Some(challenge));
    let body = missing.json();
    assert_eq!(error_type(&body), "security_exception");
    assert_eq!(
        body["error"]["reason"],
        "missing authentication credentials for REST request [/_snapshot/_all?pretty]"
    );
    assert_eq!(body["error"]["header"]["WWW-Authenticate"], challenge);
    assert_eq!(
        body["error"]["root_cause"][0]["header"]["WWW-Authenticate"],
        challenge
    );
    assert_eq!(body["status"], 401);

    let wrong = Raw::new(
        &domain,
        Some(standin::client::basic_authorization("elastic", "changeme")),
    )
    .get("/")
    .await;
    assert_eq!(wrong.0, 401);
    assert_eq!(
        wrong.1["error"]["reason"],
        "unable to authenticate user [elastic] for REST request [/]"
    );
    let (status, signed) = Api::new(&domain).get("/").await;
    assert_eq!(status, 401);
    assert!(
        signed["error"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("missing")
    );
    domain.shutdown().await;

    // Before 7.0 the same refusal said "token".
    let old = Domain::start(basic_config(&env, "onprem", Engine::es_6_8()))
        .await
        .unwrap();
    let (status, body) = Raw::new(&old, None).get("/").await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["reason"],
        "missing authentication token for REST request [/]"
    );
    old.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn an_open_cluster_reads_no_authorization_header() {
    let env = Env::new("self-managed-open").await;
    let domain = Domain::start(DomainConfig::self_managed(
        "lab",
        env.s3.endpoint(),
        env.s3.credentials(),
        SelfManagedAccess::Open,
    ))
    .await
    .unwrap();
    for authorization in [
        None,
        Some("Basic bm9ib2R5OndoYXRldmVy".to_owned()),
        Some("Bearer x".to_owned()),
    ] {
        let (status, root) = Raw::new(&domain, authorization).get("/").await;
        assert_eq!(status, 200, "{root}");
        assert_eq!(root["version"]["build_flavor"], Value::Null, "OpenSearch");
    }
    let (status, _) = Api::new(&domain).get("/_cluster/health").await;
    assert_eq!(status, 200);

    // Faults are still injected (a proxy in front, an overloaded node).
    domain
        .faults()
        .push(FaultRule::new(Fault::TooManyRequests).times(1));
    let (status, _) = Raw::new(&domain, None).get("/").await;
    assert_eq!(status, 429);
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn aws_only_apis_are_paths_nothing_serves() {
    let env = Env::new("self-managed-aws-only").await;
    let domain = Domain::start(basic_config(&env, "onprem", Engine::os_2()))
        .await
        .unwrap();
    let api = Raw::basic(&domain);
    api.ingest("logs-1", 2).await;
    domain.enable_cold_storage();
    assert!(!domain.migrate_to_warm("logs-1"));
    assert!(!domain.migrate_to_cold("logs-1"));
    assert!(domain.take_automated_snapshot("hourly").await.is_err());

    for target in [
        "/_cold/indices/_search",
        "/_warm/_settings",
        "/_hot/_count",
        "/_ultrawarm/migration/_status",
    ] {
        let (status, body) = api.get(target).await;
        assert_eq!(status, 400, "{target}: {body}");
        assert_eq!(
            body["error"],
            format!("no handler found for uri [{target}] and method [GET]")
        );
    }
    // No `cs-automated`, and `cs-` names are the operator's to use.
    let (status, repositories) = api.get("/_snapshot").await;
    assert_eq!((status, repositories), (200, json!({})));
    let (status, body) = api
        .put(
            "/_snapshot/cs-nightly",
            json!({"type": "s3", "settings": {"bucket": BUCKET, "base_path": "cs"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn a_snapshot_without_role_arn_round_trips_through_s3_and_onto_aws() {
    let env = Env::new("self-managed-round-trip").await;
    let domain = Domain::start(basic_config(&env, "onprem", Engine::os_2()))
        .await
        .unwrap();
    let api = Raw::basic(&domain);
    api.ingest("orders", 5).await;

    // repository-s3 reads only the settings it knows: `role_arn` is AWS's, kept and ignored.
    let (status, body) = api
        .put(
            "/_snapshot/nightly",
            json!({"type": "s3", "settings": {"bucket": BUCKET, "base_path": "onprem"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api
        .put(
            "/_snapshot/with-role",
            json!({"type": "s3", "settings": {
                "bucket": BUCKET, "base_path": "other", "region": "us-east-1",
                "role_arn": "arn:aws:iam::123456789012:role/not-passable"
            }}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, listed) = api.get("/_snapshot/with-role").await;
    assert_eq!(
        listed["with-role"]["settings"]["role_arn"],
        "arn:aws:iam::123456789012:role/not-passable"
    );

    let (status, created) = api
        .put(
            "/_snapshot/nightly/before-move?wait_for_completion=true",
            json!({"indices": "orders"}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["snapshot"]["state"], "SUCCESS");

    let answer = api.send(Method::DELETE, "/orders", None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let (status, restored) = api
        .post(
            "/_snapshot/nightly/before-move/_restore?wait_for_completion=true",
            json!({"indices": "orders"}),
        )
        .await;
    assert_eq!(status, 200, "{restored}");
    let (status, health) = api
        .get("/_cluster/health/orders?wait_for_status=green&timeout=10s")
        .await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(domain.doc_count("orders"), Some(5));

    // The migration: an AWS domain registers the same bucket and base path and restores.
    let aws = env.domain("target").await;
    let target = Api::new(&aws);
    target.register("onprem", "onprem", true).await;
    let (status, body) = target
        .post(
            "/_snapshot/onprem/before-move/_restore?wait_for_completion=true",
            json!({"indices": "orders"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(target.count("orders").await, 5);
    aws.shutdown().await;
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn fine_grained_access_control_on_a_self_managed_cluster_is_refused() {
    let env = Env::new("self-managed-fgac").await;
    let mut config = basic_config(&env, "onprem", Engine::os_2());
    config.security = Some(standin::domain::security::SecurityConfig::with_master_user(
        "arn:aws:iam::123456789012:user/osnap-test",
    ));
    let refused = Domain::start(config).await.unwrap_err();
    assert!(refused.to_string().contains("not modelled"), "{refused}");
    env.shutdown().await;
}
