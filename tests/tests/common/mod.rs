//! What the end-to-end tests share: a world of S3 and one emulated domain on loopback, and
//! signed calls to it as the stand-in's operator.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::time::Duration;

use e2e::{LambdaFunction, Outcome};
use http::Method;
use serde_json::{Value, json};
use standin::s3::S3Server;
use standin::{Domain, DomainConfig};

pub struct World {
    pub _root: tempdir::Dir,
    pub s3: S3Server,
    pub domain: Domain,
}

pub mod tempdir {
    /// A folder removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub async fn world(name: &str) -> World {
    world_on(name, standin::Engine::opensearch()).await
}

/// A world whose domain runs `engine`.
pub async fn world_on(name: &str, engine: standin::Engine) -> World {
    world_with(name, |config| config.engine = engine).await
}

/// A world whose domain's configuration `configure` changes from the usual one.
pub async fn world_with(name: &str, configure: impl FnOnce(&mut DomainConfig)) -> World {
    let root = std::env::temp_dir().join(format!("osnap-e2e-{name}-{}", std::process::id()));
    let s3 = S3Server::start(&root, "AKIDSTANDIN", "standin-secret")
        .await
        .unwrap();
    s3.create_bucket("snapshots").await.unwrap();
    let mut config = DomainConfig::new(name, s3.endpoint(), s3.credentials());
    config.snapshot_duration = Duration::from_millis(200);
    config.recovery_duration = Duration::from_millis(200);
    configure(&mut config);
    let domain = Domain::start(config).await.unwrap();
    World {
        _root: tempdir::Dir(root),
        s3,
        domain,
    }
}

/// An event for `repository` on the world's domain, with `extra`'s fields.
pub fn event_in(world: &World, repository: &str, extra: &Value) -> Value {
    let mut event = json!({"domain": domain_json(world), "repository": repository});
    event
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    event
}

pub fn domain_json(world: &World) -> Value {
    json!({"endpoint": world.domain.endpoint(), "region": "us-east-1"})
}

/// A prune output list naming all of `names` (few enough to fit its sample), exactly as the
/// function returns it.
pub fn listed<S: AsRef<str>>(names: &[S]) -> Value {
    assert!(
        names.len() <= operations::bounded::SAMPLE,
        "too many to list whole"
    );
    let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    json!({"count": names.len(), "names": names, "truncated": false})
}

pub fn ok(outcome: Outcome, what: &str) -> Value {
    match outcome {
        Outcome::Ok(v) => v,
        Outcome::Error {
            error_type,
            message,
        } => panic!("{what}: {error_type}: {message}"),
    }
}

pub async fn signed(world: &World, method: Method, segments: &[&str], body: Option<&str>) {
    let client = standin::client::operator_client(&world.domain.endpoint()).unwrap();
    let mut request = signing::DomainRequest::new(method, segments).query("refresh", "true");
    if let Some(body) = body {
        request = request.json_body(body.to_owned());
    }
    let response = client.send(&request).await.unwrap();
    assert!(
        response.status.is_success(),
        "{}",
        String::from_utf8_lossy(&response.body)
    );
}

pub async fn poll_done(verify: &LambdaFunction, event: &Value) -> Value {
    for _ in 0..100 {
        let answer = ok(verify.invoke(event).await.unwrap(), "verify");
        if answer["done"] == true {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never done: {event}");
}

/// Registers repository `nightly` under `base_path` through the register function, which asks
/// the stand-in S3 for the bucket's region.
pub async fn register_nightly(world: &World, base_path: &str) {
    let s3 = world.s3.endpoint();
    let register = LambdaFunction::start("register", &[("OSNAP_S3_ENDPOINT", &s3)])
        .await
        .unwrap();
    let event = json!({"domain": domain_json(world), "repository": "nightly", "settings": {"bucket": "snapshots", "base_path": base_path, "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE}});
    ok(register.invoke(&event).await.unwrap(), "register");
    register.stop().await;
}

/// A signed request as the stand-in's operator, returning the status and the JSON answer.
pub async fn operator_call(
    world: &World,
    method: Method,
    segments: &[&str],
    query: &[(&str, &str)],
) -> (u16, Value) {
    operator_send(world, method, segments, query, None).await
}

/// As [`operator_call`], with a JSON body.
pub async fn operator_send(
    world: &World,
    method: Method,
    segments: &[&str],
    query: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    domain_call(&world.domain, method, segments, query, body).await
}

/// A signed request as the stand-in's operator to any emulated domain.
pub async fn domain_call(
    domain: &Domain,
    method: Method,
    segments: &[&str],
    query: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let client = standin::client::operator_client(&domain.endpoint()).unwrap();
    let mut request = signing::DomainRequest::new(method, segments);
    for (name, value) in query {
        request = request.query(name, *value);
    }
    if let Some(body) = body {
        request = request.json_body(body.to_string());
    }
    let response = client.send(&request).await.unwrap();
    let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status.as_u16(), body)
}

/// A world whose domain holds one document in each of `indices` and has repository `nightly`
/// registered (base path: the world's name).
pub async fn world_with_nightly(name: &str, indices: &[&str]) -> World {
    let world = world(name).await;
    for index in indices {
        put_doc(&world, index, "1").await;
    }
    register_nightly(&world, name).await;
    world
}

/// Indexes a small document `id` into `index` (created on the way).
pub async fn put_doc(world: &World, index: &str, id: &str) {
    signed(
        world,
        Method::PUT,
        &[index, "_doc", id],
        Some(r#"{"m":"x"}"#),
    )
    .await;
}

/// The repository's snapshot names, as the domain lists them.
pub async fn snapshot_names(world: &World, repository: &str) -> Vec<String> {
    let (status, listing) = operator_call(
        world,
        Method::GET,
        &["_snapshot", repository, "_all"],
        &[("verbose", "false")],
    )
    .await;
    assert_eq!(status, 200, "{listing}");
    listing["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["snapshot"].as_str().unwrap().to_owned())
        .collect()
}

/// A context for calling the operations directly (not through a function binary), signing as
/// the stand-in's operator, with Lambda's `deadline` if given.
pub fn context(deadline: Option<std::time::SystemTime>) -> operations::Context {
    use operations::connect::{Connector, CredentialMode};
    use signing::{EndpointPolicy, SharedTimeSource, SystemTimeSource};
    let time = SharedTimeSource::new(SystemTimeSource::new());
    operations::Context {
        connector: Connector::new(
            CredentialMode::Fixed(standin::client::operator_credentials()),
            EndpointPolicy::aws_only().allowing_loopback_for_tests(),
            time.clone(),
        )
        .unwrap(),
        defaults: operations::contract::Defaults::default(),
        time,
        deadline,
    }
}

/// A context as a function has it on the world: the functions' keys (the S3 server's), and
/// the world's S3 for the manifests.
pub fn context_in(world: &World, deadline: Option<std::time::SystemTime>) -> operations::Context {
    use operations::connect::{Connector, CredentialMode};
    use signing::{EndpointPolicy, SharedTimeSource, SystemTimeSource};
    let time = SharedTimeSource::new(SystemTimeSource::new());
    operations::Context {
        connector: Connector::new(
            CredentialMode::Fixed(world.s3.credentials()),
            EndpointPolicy::aws_only().allowing_loopback_for_tests(),
            time.clone(),
        )
        .unwrap(),
        defaults: operations::contract::Defaults {
            s3_endpoint: Some(world.s3.endpoint()),
            ..operations::contract::Defaults::default()
        },
        time,
        deadline,
    }
}

/// Waits until the domain reports every one of `targets` recovered (verify's `check:
/// restore`, called directly), polling every 100 ms for at most 10 s.
pub async fn recovered<S: AsRef<str>>(world: &World, targets: &[S]) {
    let targets: Vec<&str> = targets.iter().map(AsRef::as_ref).collect();
    for _ in 0..100 {
        let verdict = operations::verify::handle(
            context(None),
            json!({"domain": domain_json(world), "repository": "nightly",
                "check": "restore", "indices": targets}),
        )
        .await
        .unwrap();
        if verdict.done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{targets:?} did not recover");
}

/// A self-managed cluster's own client, as its operator has it: basic authentication with
/// `login` (user, password), or none.
pub fn cluster_client(domain: &Domain, login: Option<(&str, &str)>) -> signing::DomainClient {
    use signing::{Authentication, BasicCredentials, DomainEndpoint, EndpointPolicy};
    let endpoint = DomainEndpoint::parse(
        &domain.endpoint(),
        Some("us-east-1"),
        &EndpointPolicy::aws_only().allowing_loopback_for_tests(),
    )
    .unwrap();
    let auth = match login {
        Some((user, password)) => {
            Authentication::Basic(BasicCredentials::new(user, password).unwrap())
        }
        None => Authentication::Anonymous,
    };
    signing::DomainClient::with_authentication(
        signing::client::http_client().unwrap(),
        endpoint,
        auth,
        signing::SharedTimeSource::default(),
    )
}

/// Writes documents `0..count` to `index` through a cluster's own client.
pub async fn put_docs_with(client: &signing::DomainClient, index: &str, count: usize) {
    for id in 0..count {
        let request = signing::DomainRequest::new(Method::PUT, &[index, "_doc", &id.to_string()])
            .query("refresh", "true")
            .json_body(json!({"n": id}).to_string());
        let response = client.send(&request).await.unwrap();
        assert!(
            response.status.is_success(),
            "{}",
            String::from_utf8_lossy(&response.body)
        );
    }
}
