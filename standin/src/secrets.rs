//! A stand-in for AWS Secrets Manager `GetSecretValue` on loopback, so a self-managed
//! cluster's password is read as the functions read it on AWS: a SigV4-signed AWS JSON 1.1
//! call (service `secretsmanager`, the test region), checked here, answered with the secrets
//! the test stored.
//!
//! Sources: the Secrets Manager API Reference, `GetSecretValue` (request `SecretId`,
//! `VersionId`, `VersionStage`; response `ARN`, `Name`, `VersionId`, `SecretString`,
//! `VersionStages`, `CreatedDate`; `ResourceNotFoundException` "Secrets Manager can't find the
//! specified secret.") and "Common Errors" (`AccessDeniedException`, HTTP 400). Error bodies
//! are the AWS JSON 1.1 shape `{"__type": …, "Message"|"message": …}` with
//! `Content-Type: application/x-amz-json-1.1`; the signature failures carry the `__type` names
//! JSON-protocol services send (`UnrecognizedClientException` with "The security token included
//! in the request is invalid.", `InvalidSignatureException`, `IncompleteSignatureException`,
//! `MissingAuthenticationTokenException`), each with status 400. What the service would answer
//! beyond that (other operations' fields, versions but the current one, request validation)
//! is refused with a 501 whose `__type` is `StandInRefusal`, never guessed.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

use crate::auth::{AuthConfig, AuthFailure, TestPrincipal, verify_request};
use crate::server::{ServerHandle, serve};
use crate::{StandinError, TEST_REGION};

/// The account the stand-in's secrets live in.
pub const SECRETS_ACCOUNT: &str = "111122223333";

/// The only operation served (the `X-Amz-Target` value).
const GET_SECRET_VALUE: &str = "secretsmanager.GetSecretValue";
const JSON_1_1: &str = "application/x-amz-json-1.1";
/// The stage of a secret's current version, the only one kept.
const CURRENT_STAGE: &str = "AWSCURRENT";
/// A request body larger than this is not read (GetSecretValue's is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;

/// One secret: its identity, its current value, and who may read it.
#[derive(Clone)]
pub struct StoredSecret {
    /// `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`.
    pub arn: String,
    pub name: String,
    pub secret_string: String,
    /// The current version's id (its stage is `AWSCURRENT`).
    pub version_id: String,
    pub created: SystemTime,
    /// Access keys whose identity policy allows `secretsmanager:GetSecretValue` on it.
    pub readers: Vec<String>,
}

impl std::fmt::Debug for StoredSecret {
    // The value is the secret: never formatted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecret")
            .field("arn", &self.arn)
            .field("readers", &self.readers)
            .finish_non_exhaustive()
    }
}

impl StoredSecret {
    /// A secret in the test region and [`SECRETS_ACCOUNT`] (ARN suffix `-AbCdEf`), readable
    /// by the stand-in's default caller.
    pub fn new(name: &str, secret_string: &str) -> Self {
        Self {
            arn: format!(
                "arn:aws:secretsmanager:{TEST_REGION}:{SECRETS_ACCOUNT}:secret:{name}-AbCdEf"
            ),
            name: name.to_owned(),
            secret_string: secret_string.to_owned(),
            version_id: version_id(),
            created: SystemTime::now(),
            readers: vec![TestPrincipal::default_operator().access_key],
        }
    }

    /// The same secret, readable by these access keys only.
    #[must_use]
    pub fn readable_by(mut self, access_keys: &[&str]) -> Self {
        self.readers = access_keys.iter().map(|k| (*k).to_owned()).collect();
        self
    }

    /// Whether `secret_id` names it: its ARN, its name, or its ARN without the random suffix
    /// (a partial ARN, which the API accepts too).
    fn named_by(&self, secret_id: &str) -> bool {
        secret_id == self.arn
            || secret_id == self.name
            || self
                .arn
                .rsplit_once('-')
                .is_some_and(|(partial, _)| partial == secret_id)
    }
}

/// A version id in the UUID form the service uses.
fn version_id() -> String {
    let hex = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(..16)]))
            .collect()
    };
    format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
}

/// The stand-in Secrets Manager server.
#[derive(Debug)]
pub struct SecretsServer {
    handle: ServerHandle,
}

impl SecretsServer {
    /// Serves `GetSecretValue` on `127.0.0.1:0` for `callers` (whose signatures it accepts),
    /// over `secrets`.
    pub async fn start(
        callers: Vec<TestPrincipal>,
        secrets: Vec<StoredSecret>,
    ) -> Result<Self, StandinError> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| StandinError::io("bind the Secrets Manager server", e))?;
        let state = Arc::new(Secrets {
            auth: AuthConfig {
                region: TEST_REGION.to_owned(),
                service: "secretsmanager".to_owned(),
                principals: callers,
            },
            secrets,
        });
        Ok(Self {
            handle: serve(listener, SecretsService(state))?,
        })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.handle.address())
    }

    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

#[derive(Debug)]
struct Secrets {
    auth: AuthConfig,
    secrets: Vec<StoredSecret>,
}

#[derive(Debug, Clone)]
struct SecretsService(Arc<Secrets>);

impl hyper::service::Service<Request<Incoming>> for SecretsService {
    type Response = Response<Body>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let secrets = self.0.clone();
        Box::pin(async move { Ok(answer(&secrets, request).await) })
    }
}

async fn answer(secrets: &Secrets, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(Body::new(body), MAX_BODY).await else {
        return refusal("a request body over 64 KiB");
    };
    let caller = match verify_request(&parts, &body, &secrets.auth, SystemTime::now()) {
        Ok(caller) => caller,
        Err(failure) => return signature_error(&failure),
    };
    // The operation is read from the target before the body: any other is unknown here.
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok());
    if target != Some(GET_SECRET_VALUE) {
        return aws_error("UnknownOperationException", None);
    }
    if parts.method != http::Method::POST || parts.uri.path() != "/" {
        return refusal("a GetSecretValue call other than `POST /`");
    }
    let media = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if media != Some(JSON_1_1) {
        return refusal("a Content-Type other than application/x-amz-json-1.1");
    }
    let request = match parse_request(&body) {
        Ok(request) => request,
        Err(what) => return refusal(&what),
    };
    let Some(secret) = secrets
        .secrets
        .iter()
        .find(|s| s.named_by(&request.secret_id))
    else {
        return aws_error(
            "ResourceNotFoundException",
            Some((
                "Message",
                "Secrets Manager can't find the specified secret.",
            )),
        );
    };
    if !secret.readers.contains(&caller.access_key) {
        // IAM names the resource as the caller named it (name or ARN).
        let message = format!(
            "User: {} is not authorized to perform: secretsmanager:GetSecretValue on resource: \
             {} because no identity-based policy allows the secretsmanager:GetSecretValue action",
            caller.arn, request.secret_id
        );
        return aws_error("AccessDeniedException", Some(("Message", &message)));
    }
    if request
        .version_id
        .as_deref()
        .is_some_and(|v| v != secret.version_id)
    {
        return refusal("a VersionId other than the secret's current version");
    }
    let created = secret
        .created
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64 / 1000.0);
    json_response(
        StatusCode::OK,
        &json!({
            "ARN": secret.arn,
            "Name": secret.name,
            "VersionId": secret.version_id,
            "SecretString": secret.secret_string,
            "VersionStages": [CURRENT_STAGE],
            "CreatedDate": created,
        }),
    )
}

/// A `GetSecretValue` request body.
struct GetSecretValue {
    secret_id: String,
    version_id: Option<String>,
}

/// The body's fields; what the stand-in does not model is named in the error.
fn parse_request(body: &[u8]) -> Result<GetSecretValue, String> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Err("a request body that is not a JSON object".into());
    };
    let text = |fields: &Map<String, Value>, key: &str| -> Result<Option<String>, String> {
        match fields.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("a non-string {key}")),
        }
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "SecretId" | "VersionId" | "VersionStage"))
    {
        return Err(format!("the request field {unknown}"));
    }
    let Some(secret_id) = text(&fields, "SecretId")?.filter(|s| !s.is_empty()) else {
        return Err("a request without SecretId (its validation error)".into());
    };
    if let Some(stage) = text(&fields, "VersionStage")?
        && stage != CURRENT_STAGE
    {
        return Err(format!(
            "VersionStage {stage}: only {CURRENT_STAGE} is kept"
        ));
    }
    Ok(GetSecretValue {
        secret_id,
        version_id: text(&fields, "VersionId")?,
    })
}

/// A signature failure as JSON-protocol services answer it.
fn signature_error(failure: &AuthFailure) -> Response<Body> {
    let (kind, message) = match failure {
        AuthFailure::Missing { .. } => (
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".to_owned(),
        ),
        AuthFailure::Malformed(_) => (
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' \
             parameters."
                .to_owned(),
        ),
        AuthFailure::UnknownAccessKey => (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".to_owned(),
        ),
        AuthFailure::WrongRegion(region) => (
            "InvalidSignatureException",
            format!("Credential should be scoped to a valid region, not '{region}'. "),
        ),
        AuthFailure::WrongService(_) => (
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'secretsmanager'. ".to_owned(),
        ),
        AuthFailure::Expired(detail) => (
            "InvalidSignatureException",
            format!("Signature expired: {detail}"),
        ),
        AuthFailure::SignatureMismatch => (
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
                .to_owned(),
        ),
    };
    aws_error(kind, Some(("message", &message)))
}

/// An AWS JSON 1.1 error: `__type`, and the message under the key the service uses.
fn aws_error(kind: &str, message: Option<(&str, &str)>) -> Response<Body> {
    let mut body = Map::new();
    body.insert("__type".into(), Value::from(kind));
    if let Some((key, text)) = message {
        body.insert(key.into(), Value::from(text));
    }
    json_response(StatusCode::BAD_REQUEST, &Value::Object(body))
}

/// What the stand-in does not model, said as such.
fn refusal(what: &str) -> Response<Body> {
    json_response(
        StatusCode::NOT_IMPLEMENTED,
        &json!({
            "__type": "StandInRefusal",
            "message": format!("stand-in: {what} is not modelled by the Secrets Manager stand-in"),
        }),
    )
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_1_1),
    );
    headers.insert("x-amzn-requestid", HeaderValue::from_static("standin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_named_by_arn_name_or_partial_arn() {
        let secret = StoredSecret::new("osnap/source", "pw");
        assert_eq!(
            secret.arn,
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:osnap/source-AbCdEf"
        );
        assert!(secret.named_by("osnap/source"));
        assert!(secret.named_by(&secret.arn));
        assert!(
            secret.named_by("arn:aws:secretsmanager:us-east-1:111122223333:secret:osnap/source")
        );
        assert!(!secret.named_by("osnap"));
        assert!(!format!("{secret:?}").contains("pw\""));
    }

    #[test]
    fn requests_are_read_strictly() {
        let ok = parse_request(br#"{"SecretId":"x","VersionStage":"AWSCURRENT"}"#).unwrap();
        assert_eq!(ok.secret_id, "x");
        assert!(parse_request(br#"{"SecretId":"x","VersionStage":"AWSPREVIOUS"}"#).is_err());
        assert!(parse_request(br#"{"SecretId":"x","Extra":1}"#).is_err());
        assert!(parse_request(br#"{}"#).is_err());
        assert!(parse_request(b"[]").is_err());
    }
}
