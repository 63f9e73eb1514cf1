//! A stand-in for AWS STS `AssumeRole` on loopback, so the cross-account path (a domain in
//! another account, reached through a role) runs for real: aws-config's STS client signs the
//! call, this server checks the signature, and the temporary credentials it hands out are the
//! only ones the other account's emulated domain accepts.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use policy::time::UtcDateTime;
use tokio::net::TcpListener;

use crate::auth::{AuthConfig, TestPrincipal, verify_request};
use crate::server::{ServerHandle, serve};
use crate::{StandinError, TEST_REGION};

/// How long the credentials STS hands out are valid.
const SESSION_LIFETIME: Duration = Duration::from_secs(3600);

/// A role callers may assume, and the temporary identity assuming it gives.
#[derive(Debug, Clone)]
pub struct AssumableRole {
    pub role_arn: String,
    /// Callers (by access key) the role's trust policy lets in.
    pub trusted_access_keys: Vec<String>,
    /// The credentials handed out; the other account's domain knows this principal.
    pub session: TestPrincipal,
    pub session_token: String,
}

impl AssumableRole {
    /// A role trusted by the stand-in's default caller, with credentials derived from its ARN.
    pub fn trusting_default_caller(role_arn: &str) -> Self {
        let role_name = role_arn.rsplit('/').next().unwrap_or("role");
        let account = role_arn.split(':').nth(4).unwrap_or("000000000000");
        Self {
            role_arn: role_arn.to_owned(),
            trusted_access_keys: vec![TestPrincipal::default_operator().access_key],
            session: TestPrincipal {
                access_key: format!("ASIA{}", role_name.to_ascii_uppercase().replace('-', "")),
                secret_key: format!("session-secret-for-{role_name}"),
                arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/osnap"),
            },
            session_token: format!("standin-session-token-{role_name}"),
        }
    }
}

/// The stand-in STS server.
#[derive(Debug)]
pub struct StsServer {
    handle: ServerHandle,
}

impl StsServer {
    /// Serves `AssumeRole` on `127.0.0.1:0` for `callers`, who may assume `roles`.
    pub async fn start(
        callers: Vec<TestPrincipal>,
        roles: Vec<AssumableRole>,
    ) -> Result<Self, StandinError> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| StandinError::io("bind the STS server", e))?;
        let state = Arc::new(Sts {
            auth: AuthConfig {
                region: TEST_REGION.to_owned(),
                service: "sts".to_owned(),
                principals: callers,
            },
            roles,
        });
        Ok(Self {
            handle: serve(listener, StsService(state))?,
        })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_STS`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.handle.address())
    }

    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

#[derive(Debug)]
struct Sts {
    auth: AuthConfig,
    roles: Vec<AssumableRole>,
}

#[derive(Debug, Clone)]
struct StsService(Arc<Sts>);

impl hyper::service::Service<Request<Incoming>> for StsService {
    type Response = Response<Body>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let sts = self.0.clone();
        Box::pin(async move { Ok(answer(&sts, request).await) })
    }
}

async fn answer(sts: &Sts, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(Body::new(body), 64 * 1024).await else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "request body too large",
        );
    };
    let caller = match verify_request(&parts, &body, &sts.auth, SystemTime::now()) {
        Ok(caller) => caller,
        Err(failure) => {
            return error(
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                &failure.to_string(),
            );
        }
    };
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if field("Action") != Some("AssumeRole") {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            "only AssumeRole is emulated",
        );
    }
    let (Some(role_arn), Some(session_name)) = (field("RoleArn"), field("RoleSessionName")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            "RoleArn and RoleSessionName are required",
        );
    };
    let role = sts
        .roles
        .iter()
        .find(|r| r.role_arn == role_arn && r.trusted_access_keys.contains(&caller.access_key));
    let Some(role) = role else {
        return error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            ),
        );
    };
    let expiry = UtcDateTime::from_system_time(SystemTime::now() + SESSION_LIFETIME);
    let expiration = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        expiry.year, expiry.month, expiry.day, expiry.hour, expiry.minute, expiry.second
    );
    let xml = format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <AssumeRoleResult><Credentials>\
         <AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration>\
         </Credentials><AssumedRoleUser><Arn>{}</Arn>\
         <AssumedRoleId>AROASTANDIN:{}</AssumedRoleId></AssumedRoleUser>\
         </AssumeRoleResult><ResponseMetadata><RequestId>standin</RequestId>\
         </ResponseMetadata></AssumeRoleResponse>",
        role.session.access_key,
        role.session.secret_key,
        role.session_token,
        escape(&role.session.arn),
        escape(session_name),
    );
    xml_response(StatusCode::OK, xml)
}

/// STS's error document.
fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    xml_response(
        status,
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
             <Type>{kind}</Type><Code>{code}</Code><Message>{}</Message></Error>\
             <RequestId>standin</RequestId></ErrorResponse>",
            escape(message)
        ),
    )
}

fn xml_response(status: StatusCode, xml: String) -> Response<Body> {
    let mut response = Response::new(Body::from(xml));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/xml"),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
