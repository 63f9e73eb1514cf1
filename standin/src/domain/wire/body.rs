//! Fields of request bodies, read as the engine reads them.

use serde_json::{Map, Value};

use crate::domain::wire::names::split_list;
use crate::domain::wire::reply::EsError;

/// A boolean body field, as a JSON boolean or `"true"`/`"false"`.
pub(crate) fn body_bool(
    body: &Map<String, Value>,
    key: &str,
    default: bool,
) -> Result<bool, EsError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" => Ok(false),
        Some(other) => Err(EsError::illegal_argument(format!(
            "Failed to parse value [{}] as only [true] or [false] are allowed.",
            other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_owned)
        ))),
    }
}

/// The `indices` field: a comma list or an array of strings.
pub(crate) fn body_indices(body: &Map<String, Value>) -> Result<Vec<String>, EsError> {
    let malformed =
        || EsError::illegal_argument("malformed indices section, should be an array of strings");
    match body.get("indices") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(split_list(s)),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(malformed))
            .collect(),
        Some(_) => Err(malformed()),
    }
}
