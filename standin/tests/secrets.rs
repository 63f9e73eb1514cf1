//! The Secrets Manager stand-in, driven as an SDK drives it: AWS JSON 1.1 over `POST /`,
//! signed with SigV4 for `secretsmanager` by the project's own signer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::SystemTime;

use aws_credential_types::Credentials;
use serde_json::{Value, json};
use signing::sigv4::{RequestToSign, SignatureOptions, SigningScope, sign_request};
use standin::auth::TestPrincipal;
use standin::secrets::{SecretsServer, StoredSecret};

const TARGET: &str = "secretsmanager.GetSecretValue";

struct Caller {
    credentials: Credentials,
    service: &'static str,
}

impl Caller {
    fn new(access_key: &str, secret_key: &str) -> Self {
        Self {
            credentials: Credentials::new(access_key, secret_key, None, None, "test"),
            service: "secretsmanager",
        }
    }

    fn operator() -> Self {
        Self::new("AKIDSTANDIN", "standin-secret")
    }

    async fn call(&self, endpoint: &str, target: &str, body: &Value) -> (u16, String, Value) {
        let body = body.to_string();
        let host = endpoint.trim_start_matches("http://");
        let headers = [
            ("host", host),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target),
        ];
        let signature = sign_request(
            &RequestToSign {
                method: "POST",
                uri: "/",
                headers: &headers,
                body: body.as_bytes(),
            },
            &self.credentials,
            &SigningScope {
                region: "us-east-1",
                service: self.service,
                time: SystemTime::now(),
            },
            &SignatureOptions::default(),
        )
        .unwrap();
        let mut request = reqwest::Client::new()
            .post(format!("{endpoint}/"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(body);
        for (name, value) in &signature.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        (status, content_type, serde_json::from_str(&text).unwrap())
    }
}

fn other_caller() -> TestPrincipal {
    TestPrincipal {
        access_key: "AKIDOTHER".into(),
        secret_key: "other-secret".into(),
        arn: "arn:aws:iam::123456789012:user/someone-else".into(),
    }
}

async fn server() -> (SecretsServer, StoredSecret) {
    let secret = StoredSecret::new(
        "osnap/source",
        r#"{"username":"admin","password":"correct horse"}"#,
    );
    let server = SecretsServer::start(
        vec![TestPrincipal::default_operator(), other_caller()],
        vec![secret.clone()],
    )
    .await
    .unwrap();
    (server, secret)
}

#[tokio::test]
async fn the_current_value_is_read_by_arn_name_or_partial_arn() {
    let (server, secret) = server().await;
    let endpoint = server.endpoint();
    for id in [
        secret.arn.as_str(),
        "osnap/source",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:osnap/source",
    ] {
        let (status, content_type, body) = Caller::operator()
            .call(&endpoint, TARGET, &json!({"SecretId": id}))
            .await;
        assert_eq!(status, 200, "{id}: {body}");
        assert_eq!(content_type, "application/x-amz-json-1.1");
        assert_eq!(body["ARN"], secret.arn);
        assert_eq!(body["Name"], "osnap/source");
        assert_eq!(body["VersionId"], secret.version_id);
        assert_eq!(body["VersionStages"], json!(["AWSCURRENT"]));
        assert_eq!(
            body["SecretString"],
            r#"{"username":"admin","password":"correct horse"}"#
        );
        assert!(body["CreatedDate"].as_f64().unwrap() > 1.7e9);
    }
    let (status, _, _) = Caller::operator()
        .call(
            &endpoint,
            TARGET,
            &json!({"SecretId": "osnap/source", "VersionStage": "AWSCURRENT",
                    "VersionId": secret.version_id}),
        )
        .await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn the_service_errors_come_in_the_json_1_1_shape() {
    let (server, secret) = server().await;
    let endpoint = server.endpoint();

    let (status, _, body) = Caller::operator()
        .call(&endpoint, TARGET, &json!({"SecretId": "osnap/missing"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"__type": "ResourceNotFoundException",
               "Message": "Secrets Manager can't find the specified secret."})
    );

    let (status, _, body) = Caller::new("AKIDOTHER", "other-secret")
        .call(&endpoint, TARGET, &json!({"SecretId": secret.arn}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "AccessDeniedException");
    assert_eq!(
        body["Message"],
        format!(
            "User: arn:aws:iam::123456789012:user/someone-else is not authorized to perform: \
             secretsmanager:GetSecretValue on resource: {} because no identity-based policy \
             allows the secretsmanager:GetSecretValue action",
            secret.arn
        )
    );

    let (status, _, body) = Caller::operator()
        .call(
            &endpoint,
            "secretsmanager.PutSecretValue",
            &json!({"SecretId": secret.arn}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"__type": "UnknownOperationException"}));

    for refused in [
        json!({"SecretId": secret.arn, "VersionStage": "AWSPREVIOUS"}),
        json!({"SecretId": secret.arn, "VersionId": "0000"}),
        json!({"SecretId": secret.arn, "Unknown": true}),
    ] {
        let (status, _, body) = Caller::operator().call(&endpoint, TARGET, &refused).await;
        assert_eq!(status, 501, "{refused}");
        assert_eq!(body["__type"], "StandInRefusal");
        assert!(body["message"].as_str().unwrap().starts_with("stand-in: "));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn signatures_are_checked_for_secretsmanager() {
    let (server, secret) = server().await;
    let endpoint = server.endpoint();
    let request = json!({"SecretId": secret.arn});

    let (status, _, body) = Caller::new("AKIDUNKNOWN", "x")
        .call(&endpoint, TARGET, &request)
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"__type": "UnrecognizedClientException",
               "message": "The security token included in the request is invalid."})
    );

    let (status, _, body) = Caller::new("AKIDSTANDIN", "wrong-secret")
        .call(&endpoint, TARGET, &request)
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidSignatureException");

    let mut es = Caller::operator();
    es.service = "es";
    let (status, _, body) = es.call(&endpoint, TARGET, &request).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "Credential should be scoped to correct service: 'secretsmanager'. "
    );

    let unsigned = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", TARGET)
        .body(request.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 400);
    let body: Value = serde_json::from_str(&unsigned.text().await.unwrap()).unwrap();
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    server.shutdown().await;
}

#[tokio::test]
async fn readers_are_configurable() {
    let secret = StoredSecret::new("shared", "pw").readable_by(&["AKIDOTHER"]);
    let server = SecretsServer::start(
        vec![TestPrincipal::default_operator(), other_caller()],
        vec![secret],
    )
    .await
    .unwrap();
    let endpoint = server.endpoint();
    let (status, _, _) = Caller::new("AKIDOTHER", "other-secret")
        .call(&endpoint, TARGET, &json!({"SecretId": "shared"}))
        .await;
    assert_eq!(status, 200);
    let (status, _, body) = Caller::operator()
        .call(&endpoint, TARGET, &json!({"SecretId": "shared"}))
        .await;
    assert_eq!(status, 400);
    // The resource is named as the caller named it.
    assert!(
        body["Message"]
            .as_str()
            .unwrap()
            .contains("on resource: shared because")
    );
    server.shutdown().await;
}
