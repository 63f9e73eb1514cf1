//! One authenticated request as the endpoints read it, and what an endpoint answers.

use bytes::Bytes;
use http::Method;

use crate::domain::wire::reply::{EsError, Reply};
use crate::domain::wire::routes::Query;

/// One authenticated request, decoded.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    /// As sent, for messages.
    pub path: String,
    pub segments: Vec<String>,
    pub query: Query,
    pub raw_query: Option<String>,
    pub body: Bytes,
    pub content_type: Option<String>,
    /// Who signed the request.
    pub caller_arn: String,
}

impl Call {
    /// Path and query as sent, as the engine quotes a request.
    pub fn uri(&self) -> String {
        match &self.raw_query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// The body as JSON; an empty body is `None`.
    pub fn json(&self) -> Result<Option<serde_json::Value>, EsError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&self.body).map(Some).map_err(|e| {
            EsError::bad_request(
                "json_parse_exception",
                format!("Unexpected character in the request body: {e}"),
            )
        })
    }

    /// The body as a JSON object; an empty body is an empty object.
    pub fn json_object(&self) -> Result<serde_json::Map<String, serde_json::Value>, EsError> {
        match self.json()? {
            None => Ok(serde_json::Map::new()),
            Some(serde_json::Value::Object(map)) => Ok(map),
            Some(_) => Err(EsError::bad_request(
                "parse_exception",
                "request body must be a JSON object",
            )),
        }
    }
}

/// An endpoint's outcome: its answer, or the error it answered with.
pub(crate) type Answer = Result<Reply, Reply>;
