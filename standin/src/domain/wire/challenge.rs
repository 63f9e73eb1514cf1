//! A self-managed cluster's answer to a request its basic authentication refuses: 401 with a
//! `WWW-Authenticate` challenge, in each engine's own form.
//!
//! - OpenSearch security plugin (opensearch-project/security, `HTTPBasicAuthenticator.
//!   reRequestAuthentication` and `BackendRegistry.authenticate`): a missing header, another
//!   scheme (SigV4 included) and wrong credentials all get the same challenge,
//!   `WWW-Authenticate: Basic realm="OpenSearch Security"`, as a plain-text `BytesRestResponse`.
//!   Its body is empty up to 2.13 and `Unauthorized` from 2.14 (tags 2.13.0.0 and 2.14.0.0;
//!   PR #4233 "Ensure that challenge response contains body").
//! - Elasticsearch security (x-pack `DefaultAuthenticationFailureHandler`): a 401
//!   `security_exception` whose `header` carries the challenge, `Basic realm="security"
//!   charset="UTF-8"` (the token and API-key services, which add `Bearer` and `ApiKey`, are off
//!   by default without TLS on HTTP: `XPackSettings`, 7.x). Without credentials it is
//!   `missing authentication credentials for REST request [<uri>]` ("token" before 7.0:
//!   elastic/elasticsearch PR #36750); with wrong ones `unable to authenticate user [<name>]
//!   for REST request [<uri>]`.

use http::StatusCode;
use policy::engines::{self, Feature};
use serde_json::json;

use crate::domain::wire::reply::{EsError, Reply};

/// Why basic authentication refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `Authorization: Basic` header (none, or another scheme).
    NoCredentials,
    /// Credentials that do not match the cluster's user.
    WrongCredentials { username: String },
}

/// A 401 and the `WWW-Authenticate` header that goes with it.
#[derive(Debug, Clone)]
pub(crate) struct Challenge {
    pub reply: Reply,
    pub www_authenticate: &'static str,
}

const OPENSEARCH_CHALLENGE: &str = "Basic realm=\"OpenSearch Security\"";
const ELASTICSEARCH_CHALLENGE: &str = "Basic realm=\"security\" charset=\"UTF-8\"";

/// The engine's 401 for `refusal` of a request to `uri` (path and query as sent). What
/// differs by version is in the engine table (`policy::engines`: `UnauthorizedBody`,
/// `MissingCredentialsWording`).
pub(crate) fn unauthorized(engine: &engines::Engine, refusal: &Refusal, uri: &str) -> Challenge {
    if engine.is_opensearch() {
        let body = if engine.supports(Feature::UnauthorizedBody) {
            "Unauthorized"
        } else {
            ""
        };
        return Challenge {
            reply: Reply::text(StatusCode::UNAUTHORIZED, body.to_owned()),
            www_authenticate: OPENSEARCH_CHALLENGE,
        };
    }
    let reason = match refusal {
        Refusal::NoCredentials => {
            let what = if engine.supports(Feature::MissingCredentialsWording) {
                "credentials"
            } else {
                "token"
            };
            format!("missing authentication {what} for REST request [{uri}]")
        }
        Refusal::WrongCredentials { username } => {
            format!("unable to authenticate user [{username}] for REST request [{uri}]")
        }
    };
    let error = EsError::new(StatusCode::UNAUTHORIZED, "security_exception", reason).with(
        "header",
        json!({ "WWW-Authenticate": ELASTICSEARCH_CHALLENGE }),
    );
    Challenge {
        reply: error.reply(),
        www_authenticate: ELASTICSEARCH_CHALLENGE,
    }
}

/// A `Basic` header that is not base64 of `user:password`: the engines' answers to it are not
/// modelled.
pub(crate) fn malformed_basic_header() -> Reply {
    Reply::json(
        StatusCode::NOT_IMPLEMENTED,
        &json!({"error": "stand-in: an `Authorization: Basic` value that is not base64 of \
                          `user:password` is not modelled"}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opensearch_answers_with_its_realm_and_a_version_dependent_body() {
        let old = unauthorized(
            &engines::Engine::opensearch((2, 13, 0)),
            &Refusal::NoCredentials,
            "/",
        );
        assert_eq!(old.reply.status, StatusCode::UNAUTHORIZED);
        assert!(old.reply.body.is_empty());
        assert_eq!(old.www_authenticate, "Basic realm=\"OpenSearch Security\"");
        let new = unauthorized(
            &engines::Engine::opensearch((3, 1, 0)),
            &Refusal::WrongCredentials {
                username: "admin".into(),
            },
            "/",
        );
        assert_eq!(&new.reply.body[..], b"Unauthorized");
        assert!(new.reply.content_type.starts_with("text/plain"));
    }

    #[test]
    fn elasticsearch_answers_with_a_security_exception() {
        let missing = unauthorized(
            &engines::Engine::elasticsearch((7, 10, 2)),
            &Refusal::NoCredentials,
            "/_snapshot?v",
        );
        let body: serde_json::Value = serde_json::from_slice(&missing.reply.body).unwrap();
        assert_eq!(body["status"], 401);
        assert_eq!(body["error"]["type"], "security_exception");
        assert_eq!(
            body["error"]["reason"],
            "missing authentication credentials for REST request [/_snapshot?v]"
        );
        assert_eq!(
            body["error"]["root_cause"][0]["header"]["WWW-Authenticate"],
            "Basic realm=\"security\" charset=\"UTF-8\""
        );
        let old = unauthorized(
            &engines::Engine::elasticsearch((6, 8, 23)),
            &Refusal::NoCredentials,
            "/",
        );
        assert!(String::from_utf8_lossy(&old.reply.body).contains("authentication token"));
    }
}
