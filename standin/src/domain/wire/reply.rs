//! Answers and errors in the shapes the service sends: JSON bodies, the error envelope
//! `{"error":{"root_cause":[…],"type","reason",…},"status":N}`, AWS's own `{"Message":…}`
//! refusals, and the few APIs that answer `{"error":"text","status":N}`.

use bytes::Bytes;
use http::StatusCode;
use serde_json::{Map, Value, json};

/// A finished answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
    pub content_type: &'static str,
    pub server: Option<&'static str>,
}

const JSON: &str = "application/json; charset=UTF-8";

impl Reply {
    pub fn json(status: StatusCode, value: &Value) -> Self {
        Self {
            status,
            body: Bytes::from(value.to_string()),
            content_type: JSON,
            server: None,
        }
    }

    pub fn ok(value: &Value) -> Self {
        Self::json(StatusCode::OK, value)
    }

    pub fn acknowledged() -> Self {
        Self::ok(&json!({"acknowledged": true}))
    }

    pub fn text(status: StatusCode, text: String) -> Self {
        Self {
            status,
            body: Bytes::from(text),
            content_type: "text/plain; charset=UTF-8",
            server: None,
        }
    }

    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            body: Bytes::new(),
            content_type: JSON,
            server: None,
        }
    }

    /// `{"error":"text","status":N}`, as a few APIs still answer.
    pub fn plain_error(status: StatusCode, text: &str) -> Self {
        Self::json(status, &json!({"error": text, "status": status.as_u16()}))
    }

    /// AWS's own refusals (IAM, restricted operations): `{"Message": …}`.
    pub fn aws_message(status: StatusCode, message: &str) -> Self {
        Self::json(status, &json!({"Message": message}))
    }
}

/// An engine exception as the REST layer renders it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EsError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub reason: String,
    /// Extra fields rendered beside `type` and `reason` (`index`, `resource.id`, …).
    pub extra: Map<String, Value>,
    pub caused_by: Option<Box<EsError>>,
}

impl EsError {
    pub fn new(status: StatusCode, kind: &'static str, reason: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            reason: reason.into(),
            extra: Map::new(),
            caused_by: None,
        }
    }

    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    #[must_use]
    pub fn caused_by(mut self, cause: EsError) -> Self {
        self.caused_by = Some(Box::new(cause));
        self
    }

    fn cause_json(&self, with_cause: bool) -> Value {
        let mut object = Map::new();
        object.insert("type".into(), Value::from(self.kind));
        object.insert("reason".into(), Value::from(self.reason.clone()));
        for (k, v) in &self.extra {
            object.insert(k.clone(), v.clone());
        }
        if with_cause && let Some(cause) = &self.caused_by {
            object.insert("caused_by".into(), cause.cause_json(true));
        }
        Value::Object(object)
    }

    pub fn to_json(&self) -> Value {
        let mut error = self.cause_json(true);
        if let Value::Object(map) = &mut error {
            map.insert("root_cause".into(), json!([self.cause_json(false)]));
        }
        json!({"error": error, "status": self.status.as_u16()})
    }

    pub fn reply(&self) -> Reply {
        Reply::json(self.status, &self.to_json())
    }

    // The exceptions the emulation raises, with the status each carries.

    pub fn bad_request(kind: &'static str, reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, kind, reason)
    }

    pub fn internal(kind: &'static str, reason: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, kind, reason)
    }

    pub fn illegal_argument(reason: impl Into<String>) -> Self {
        Self::bad_request("illegal_argument_exception", reason)
    }

    pub fn parse(reason: impl Into<String>) -> Self {
        Self::bad_request("parse_exception", reason)
    }

    pub fn index_not_found(index: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "index_not_found_exception",
            format!("no such index [{index}]"),
        )
        .with("resource.type", "index_or_alias")
        .with("resource.id", index)
        .with("index_uuid", "_na_")
        .with("index", index)
    }

    pub fn invalid_index_name(index: &str, why: &str) -> Self {
        Self::bad_request(
            "invalid_index_name_exception",
            format!("Invalid index name [{index}], {why}"),
        )
        .with("index_uuid", "_na_")
        .with("index", index)
    }

    pub fn repository_missing(repository: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "repository_missing_exception",
            format!("[{repository}] missing"),
        )
    }

    /// `repository_exception` carries no status of its own, so it answers 500.
    pub fn repository(repository: &str, message: &str) -> Self {
        Self::internal("repository_exception", format!("[{repository}] {message}"))
    }

    pub fn snapshot_missing(repository: &str, snapshot: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "snapshot_missing_exception",
            format!("[{repository}:{snapshot}] is missing"),
        )
    }

    pub fn invalid_snapshot_name(repository: &str, snapshot: &str, why: &str) -> Self {
        Self::bad_request(
            "invalid_snapshot_name_exception",
            format!("[{repository}:{snapshot}] Invalid snapshot name [{snapshot}], {why}"),
        )
    }

    pub fn concurrent_snapshot(repository: &str, snapshot: &str, why: &str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "concurrent_snapshot_execution_exception",
            format!("[{repository}:{snapshot}] {why}"),
        )
    }

    /// `[repo:snap]` or `[repo:snap/uuid]` followed by the message; answers 500.
    pub fn snapshot_restore(snapshot: &str, message: &str) -> Self {
        Self::internal(
            "snapshot_restore_exception",
            format!("[{snapshot}] {message}"),
        )
    }

    pub fn illegal_state(reason: impl Into<String>) -> Self {
        Self::internal("illegal_state_exception", reason)
    }

    pub fn resource_already_exists(index: &str, uuid: &str) -> Self {
        Self::bad_request(
            "resource_already_exists_exception",
            format!("index [{index}/{uuid}] already exists"),
        )
        .with("index_uuid", uuid)
        .with("index", index)
    }
}

impl From<EsError> for Reply {
    fn from(error: EsError) -> Self {
        error.reply()
    }
}

/// The body AWS's load balancer sends when the domain took too long to answer.
pub(crate) const GATEWAY_TIMEOUT_PAGE: &str = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n";

impl Reply {
    pub fn gateway_timeout() -> Self {
        Self {
            status: StatusCode::GATEWAY_TIMEOUT,
            body: Bytes::from_static(GATEWAY_TIMEOUT_PAGE.as_bytes()),
            content_type: "text/html",
            server: Some("awselb/2.0"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_repeats_the_top_cause_as_root_cause_without_its_chain() {
        let error = EsError::repository("nightly", "failed to create repository")
            .caused_by(EsError::illegal_argument("bad value"));
        let body = error.to_json();
        assert_eq!(body["status"], 500);
        assert_eq!(body["error"]["type"], "repository_exception");
        assert_eq!(
            body["error"]["root_cause"][0]["reason"],
            "[nightly] failed to create repository"
        );
        assert!(body["error"]["root_cause"][0].get("caused_by").is_none());
        assert_eq!(
            body["error"]["caused_by"]["type"],
            "illegal_argument_exception"
        );
    }

    #[test]
    fn index_not_found_names_the_index() {
        let body = EsError::index_not_found("logs").to_json();
        assert_eq!(body["status"], 404);
        assert_eq!(body["error"]["index"], "logs");
        assert_eq!(body["error"]["root_cause"][0]["resource.id"], "logs");
    }
}
