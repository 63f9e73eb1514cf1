//! One typed error for every way the snapshot API can fail, parsed from the shapes the
//! service really sends: the OpenSearch/Elasticsearch envelope
//! `{"error":{"root_cause":[…],"type":…,"reason":…},"status":N}`, AWS's IAM and gateway
//! shapes (`{"Message":…}`, `{"message":…}`), and bodies that are not JSON at all (an HTML
//! 504 from the gateway).

use http::StatusCode;
use serde::Deserialize;
use signing::SigningError;

/// A failed snapshot API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// IAM refused the request (e.g. `iam:PassRole` for the snapshot role), or fine-grained
    /// access control did (`security_exception`).
    #[error("access denied: {message}")]
    AccessDenied {
        message: String,
        /// The IAM action named by the message, e.g. `iam:PassRole`.
        action: Option<String>,
        /// The resource named by the message, e.g. the snapshot role's ARN.
        resource: Option<String>,
    },
    #[error("throttled by the domain: {message}")]
    Throttled { status: StatusCode, message: String },
    /// 502/503/504 (incl. the AWS gateway's 504 while the domain may still be working).
    #[error("domain unavailable ({status}): {message}")]
    Unavailable { status: StatusCode, message: String },
    #[error("repository missing: {reason}")]
    RepositoryMissing { reason: String },
    #[error("snapshot missing: {reason}")]
    SnapshotMissing { reason: String },
    /// Another snapshot is being created (`concurrent_snapshot_execution_exception`).
    #[error("a snapshot is already running: {reason}")]
    ConcurrentSnapshotExecution { reason: String },
    /// The operation conflicts with a running snapshot or deletion.
    #[error("snapshot in progress: {reason}")]
    SnapshotInProgress { reason: String },
    #[error("invalid snapshot name: {reason}")]
    InvalidSnapshotName {
        reason: String,
        already_exists: bool,
    },
    /// A restore would overwrite open indices with the same names.
    #[error("restore conflict with open indices {indices:?}: {reason}")]
    RestoreConflict {
        indices: Vec<String>,
        reason: String,
    },
    #[error("index not found: {index}")]
    IndexNotFound { index: String },
    /// Any other error the domain answered with.
    #[error("the domain answered {status} {error_type}: {reason}")]
    Server {
        status: StatusCode,
        error_type: String,
        reason: String,
    },
    /// No answer was had (connection, credentials, endpoint guard).
    #[error("request not delivered")]
    Transport(#[from] SigningError),
    /// A successful answer that does not have the documented shape.
    #[error("unexpected response to {what}")]
    Decode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A call refused before anything was sent.
    #[error("invalid call: {0}")]
    InvalidArgument(String),
    /// A call this engine version cannot take (see `policy::engines`), refused before it was
    /// sent.
    #[error("{engine} does not support {what}")]
    Unsupported { engine: String, what: &'static str },
    /// `GET /` answered a version osnap cannot read.
    #[error("unknown engine version")]
    UnknownEngine(#[from] policy::engines::EngineError),
}

impl ApiError {
    /// The HTTP status of the domain's answer, where there was one. Variants without a
    /// `status` field report the status that error is sent with (404 for the missing ones,
    /// 503 for a concurrent snapshot, 400 for invalid names and snapshots in progress, 500
    /// for a restore conflict, 403 for an access denial).
    pub fn status(&self) -> Option<StatusCode> {
        Some(match self {
            Self::AccessDenied { .. } => StatusCode::FORBIDDEN,
            Self::Throttled { status, .. }
            | Self::Unavailable { status, .. }
            | Self::Server { status, .. } => *status,
            Self::RepositoryMissing { .. }
            | Self::SnapshotMissing { .. }
            | Self::IndexNotFound { .. } => StatusCode::NOT_FOUND,
            Self::ConcurrentSnapshotExecution { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::InvalidSnapshotName { .. } | Self::SnapshotInProgress { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::RestoreConflict { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Transport(_)
            | Self::Decode { .. }
            | Self::InvalidArgument(_)
            | Self::Unsupported { .. }
            | Self::UnknownEngine(_) => return None,
        })
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EnvelopeError {
    Detailed(ErrorCause),
    /// Very old servers answer `{"error":"text","status":N}`.
    Text(String),
}

#[derive(Deserialize)]
struct ErrorCause {
    #[serde(rename = "type", default)]
    error_type: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    root_cause: Vec<ErrorCause>,
    #[serde(default)]
    index: Option<String>,
    #[serde(default)]
    caused_by: Option<Box<ErrorCause>>,
}

/// AWS's own shapes: `Message` from IAM, `message` from the gateway and signature checks.
#[derive(Deserialize)]
struct AwsMessage {
    #[serde(alias = "Message")]
    message: String,
}

/// Parses a non-2xx answer into an [`ApiError`]. The domain's text is quoted bounded (see
/// [`ApiError::bounded`]): it is classified whole, but never carried whole into a message.
pub fn parse_error(status: StatusCode, body: &[u8]) -> ApiError {
    parse_unbounded(status, body).bounded()
}

fn parse_unbounded(status: StatusCode, body: &[u8]) -> ApiError {
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(body) {
        return match envelope.error {
            EnvelopeError::Detailed(cause) => classify(status, cause),
            EnvelopeError::Text(text) => by_status(status, text),
        };
    }
    let message = match serde_json::from_slice::<AwsMessage>(body) {
        Ok(aws) => aws.message,
        Err(_) => summarize_text(body),
    };
    by_status(status, message)
}

/// The innermost of the causes an engine nests in a failure's text (`A[...]; nested:
/// B[...]; nested: C[...]` → `C[...]`): the one that says what went wrong, kept when a
/// message is quoted short.
pub fn innermost_cause(reason: &str) -> &str {
    reason.rsplit("nested: ").next().unwrap_or(reason)
}

/// Index names a restore conflict carries at most.
const MAX_CONFLICTING_NAMED: usize = 20;

impl ApiError {
    /// The same error with the domain's texts cut to a bounded length and hidden characters
    /// escaped (`policy::quote`), and names quoted short.
    fn bounded(self) -> Self {
        use policy::quote::{bounded_message as text, short};
        let name = |n: Option<String>| n.map(|n| short(&n));
        match self {
            Self::AccessDenied {
                message,
                action,
                resource,
            } => Self::AccessDenied {
                message: text(&message),
                action: name(action),
                resource: name(resource),
            },
            Self::Throttled { status, message } => Self::Throttled {
                status,
                message: text(&message),
            },
            Self::Unavailable { status, message } => Self::Unavailable {
                status,
                message: text(&message),
            },
            Self::RepositoryMissing { reason } => Self::RepositoryMissing {
                reason: text(&reason),
            },
            Self::SnapshotMissing { reason } => Self::SnapshotMissing {
                reason: text(&reason),
            },
            Self::ConcurrentSnapshotExecution { reason } => Self::ConcurrentSnapshotExecution {
                reason: text(&reason),
            },
            Self::SnapshotInProgress { reason } => Self::SnapshotInProgress {
                reason: text(&reason),
            },
            Self::InvalidSnapshotName {
                reason,
                already_exists,
            } => Self::InvalidSnapshotName {
                reason: text(&reason),
                already_exists,
            },
            Self::RestoreConflict { indices, reason } => Self::RestoreConflict {
                indices: indices
                    .iter()
                    .take(MAX_CONFLICTING_NAMED)
                    .map(|i| short(i))
                    .collect(),
                reason: text(&reason),
            },
            Self::IndexNotFound { index } => Self::IndexNotFound {
                index: short(&index),
            },
            Self::Server {
                status,
                error_type,
                reason,
            } => Self::Server {
                status,
                error_type: short(&error_type),
                reason: text(&reason),
            },
            other => other,
        }
    }
}

/// Errors without a server-side type, classified by status and message.
fn by_status(status: StatusCode, message: String) -> ApiError {
    match status {
        StatusCode::TOO_MANY_REQUESTS => ApiError::Throttled { status, message },
        StatusCode::FORBIDDEN if mentions_throttling(&message) => {
            ApiError::Throttled { status, message }
        }
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => {
            let (action, resource) = iam_action_and_resource(&message);
            ApiError::AccessDenied {
                message,
                action,
                resource,
            }
        }
        status if is_unavailable(status) => ApiError::Unavailable { status, message },
        _ => ApiError::Server {
            status,
            error_type: String::new(),
            reason: message,
        },
    }
}

fn classify(status: StatusCode, top: ErrorCause) -> ApiError {
    // A wrapper (`remote_transport_exception`, say) carries the precise type and reason in
    // its `caused_by` chain or its root causes; look at all of them, outermost first.
    let mut causes: Vec<&ErrorCause> = vec![&top];
    let mut next = top.caused_by.as_deref();
    while let Some(cause) = next {
        causes.push(cause);
        next = cause.caused_by.as_deref();
    }
    causes.extend(top.root_cause.iter());
    let find = |t: &str| causes.iter().copied().find(|c| c.error_type == t);
    let fallback_reason = || {
        causes
            .iter()
            .find_map(|c| c.reason.clone())
            .unwrap_or_default()
    };
    let reason_of = |cause: &ErrorCause| cause.reason.clone().unwrap_or_else(fallback_reason);

    if let Some(c) = find("concurrent_snapshot_execution_exception") {
        // Answered with 503: must come before the generic unavailability rule.
        return ApiError::ConcurrentSnapshotExecution {
            reason: reason_of(c),
        };
    }
    if let Some(c) = find("repository_missing_exception") {
        return ApiError::RepositoryMissing {
            reason: reason_of(c),
        };
    }
    if let Some(c) = find("snapshot_missing_exception") {
        return ApiError::SnapshotMissing {
            reason: reason_of(c),
        };
    }
    if let Some(c) = find("invalid_snapshot_name_exception") {
        let reason = reason_of(c);
        // Taken and finished, or taken and still running (OpenSearch says so while the
        // snapshot with that name is in progress).
        let already_exists = reason.contains("with the same name already exists")
            || reason.contains("with the same name is already in-progress")
            || reason.contains("snapshot with such name already exists");
        return ApiError::InvalidSnapshotName {
            reason,
            already_exists,
        };
    }
    if let Some(c) = find("snapshot_in_progress_exception") {
        return ApiError::SnapshotInProgress {
            reason: reason_of(c),
        };
    }
    if let Some(c) = find("snapshot_restore_exception") {
        let reason = reason_of(c);
        if reason.contains("with same name already exists") {
            return ApiError::RestoreConflict {
                indices: bracketed_after(&reason, "cannot restore index ["),
                reason,
            };
        }
    }
    if let Some(c) = find("index_not_found_exception") {
        let reason = reason_of(c);
        let index = c
            .index
            .clone()
            .or_else(|| causes.iter().find_map(|c| c.index.clone()))
            .or_else(|| {
                bracketed_after(&reason, "no such index [")
                    .into_iter()
                    .next()
            })
            .unwrap_or_default();
        return ApiError::IndexNotFound { index };
    }
    let top_reason = reason_of(&top);
    if find("es_rejected_execution_exception").is_some()
        || find("rejected_execution_exception").is_some()
        || status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN && mentions_throttling(&top_reason))
    {
        return ApiError::Throttled {
            status,
            message: top_reason,
        };
    }
    if let Some(c) = find("security_exception") {
        // Fine-grained access control: "no permissions for [cluster:admin/snapshot/create]
        // and User [name=…, backend_roles=[…]]".
        let message = reason_of(c);
        return ApiError::AccessDenied {
            action: bracketed_after(&message, "no permissions for [")
                .into_iter()
                .next(),
            resource: None,
            message,
        };
    }
    if is_unavailable(status) {
        return ApiError::Unavailable {
            status,
            message: format!("{}: {top_reason}", top.error_type),
        };
    }
    ApiError::Server {
        status,
        error_type: top.error_type.clone(),
        reason: top_reason,
    }
}

fn is_unavailable(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    )
}

/// AWS answers some throttles with 403 and "Request throttled due to too many requests".
fn mentions_throttling(message: &str) -> bool {
    message.to_ascii_lowercase().contains("throttl")
}

/// Every `[...]` that follows `marker` in `text`, each searched for after the last one's `]`:
/// the parts never overlap, so together they are never longer than `text` (a marker repeated
/// inside the brackets would otherwise copy the rest of the text once per repetition).
fn bracketed_after(text: &str, marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let inside = &rest[at + marker.len()..];
        let Some(end) = inside.find(']') else {
            break;
        };
        found.push(inside[..end].to_owned());
        rest = &inside[end + 1..];
    }
    found
}

/// `User: X is not authorized to perform: iam:PassRole on resource: arn:…` → action, resource.
fn iam_action_and_resource(message: &str) -> (Option<String>, Option<String>) {
    let word_after = |marker: &str| {
        message.split_once(marker).map(|(_, rest)| {
            rest.trim_start()
                .split(|c: char| c.is_whitespace() || c == '"')
                .next()
                .unwrap_or_default()
                .trim_end_matches(['.', ','])
                .to_owned()
        })
    };
    (
        word_after("not authorized to perform:"),
        word_after("on resource:"),
    )
}

/// A short, single-line version of a non-JSON body (an HTML error page, say).
fn summarize_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let collapsed: Vec<&str> = out.split_whitespace().collect();
    let mut summary = collapsed.join(" ");
    if summary.len() > 200 {
        let mut cut = 200;
        while !summary.is_char_boundary(cut) {
            cut -= 1;
        }
        summary.truncate(cut);
        summary.push('…');
    }
    if summary.is_empty() {
        summary.push_str("(empty body)");
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> ApiError {
        parse_error(StatusCode::from_u16(status).unwrap(), body.as_bytes())
    }

    fn envelope(error_type: &str, reason: &str, status: u16) -> String {
        serde_json::json!({
            "error": {
                "root_cause": [{"type": error_type, "reason": reason}],
                "type": error_type, "reason": reason
            },
            "status": status
        })
        .to_string()
    }

    #[test]
    fn repository_and_snapshot_missing() {
        let e = parse(
            404,
            &envelope("repository_missing_exception", "[nightly] missing", 404),
        );
        assert!(
            matches!(e, ApiError::RepositoryMissing { ref reason } if reason == "[nightly] missing")
        );
        let e = parse(
            404,
            &envelope(
                "snapshot_missing_exception",
                "[nightly:snap-1] is missing",
                404,
            ),
        );
        assert!(matches!(e, ApiError::SnapshotMissing { .. }));
        assert_eq!(e.status(), Some(StatusCode::NOT_FOUND));
    }

    #[test]
    fn concurrent_execution_is_not_mistaken_for_unavailability() {
        let body = envelope(
            "concurrent_snapshot_execution_exception",
            "[nightly:snap-2] a snapshot is already running",
            503,
        );
        assert!(matches!(
            parse(503, &body),
            ApiError::ConcurrentSnapshotExecution { .. }
        ));
    }

    #[test]
    fn invalid_names_say_whether_the_name_exists() {
        let exists = envelope(
            "invalid_snapshot_name_exception",
            "[nightly:snap-1] Invalid snapshot name [snap-1], snapshot with the same name already exists",
            400,
        );
        assert!(matches!(
            parse(400, &exists),
            ApiError::InvalidSnapshotName {
                already_exists: true,
                ..
            }
        ));
        let running = envelope(
            "invalid_snapshot_name_exception",
            "[nightly:snap-2] Invalid snapshot name [snap-2], snapshot with the same name is already in-progress",
            400,
        );
        assert!(matches!(
            parse(400, &running),
            ApiError::InvalidSnapshotName {
                already_exists: true,
                ..
            }
        ));
        let bad = envelope(
            "invalid_snapshot_name_exception",
            "[nightly:Snap] Invalid snapshot name [Snap], must be lowercase",
            400,
        );
        assert!(matches!(
            parse(400, &bad),
            ApiError::InvalidSnapshotName {
                already_exists: false,
                ..
            }
        ));
    }

    #[test]
    fn a_repeated_marker_is_not_copied_once_per_repetition() {
        // Found by the error_classifier fuzz target: each repetition used to copy the rest of
        // the reason, so a 3 KB answer made a 250 KB message.
        let reason = format!(
            "{}a] because an open index with same name already exists",
            "cannot restore index [".repeat(150)
        );
        let body = serde_json::json!({
            "error": {"type": "snapshot_restore_exception", "reason": reason},
            "status": 500
        })
        .to_string();
        let err = parse(500, &body);
        match &err {
            ApiError::RestoreConflict { indices, .. } => {
                assert_eq!(indices.len(), 1);
                // The one odd "name" is quoted short, like every name from a domain.
                assert!(indices[0].starts_with("cannot restore index ["));
                assert!(indices[0].len() < 200, "{}", indices[0].len());
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string().len() < 3 * body.len(),
            "{}",
            err.to_string().len()
        );
        assert_eq!(
            bracketed_after(
                "cannot restore index [a], cannot restore index [b]",
                "index ["
            ),
            ["a", "b"]
        );
    }

    #[test]
    fn restore_conflict_names_the_index() {
        let reason = "[nightly:snap-1/Xq1] cannot restore index [logs-1] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name";
        match parse(500, &envelope("snapshot_restore_exception", reason, 500)) {
            ApiError::RestoreConflict { indices, .. } => assert_eq!(indices, ["logs-1"]),
            other => panic!("{other:?}"),
        }
        // Other restore failures stay server errors.
        let other = envelope(
            "snapshot_restore_exception",
            "[r:s] snapshot has failed shards",
            500,
        );
        assert!(matches!(parse(500, &other), ApiError::Server { .. }));
    }

    #[test]
    fn index_not_found_reads_the_index_field() {
        let body = r#"{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [logs-9]","index":"logs-9","resource.id":"logs-9","resource.type":"index_or_alias","index_uuid":"_na_"}],"type":"index_not_found_exception","reason":"no such index [logs-9]","index":"logs-9","resource.id":"logs-9","resource.type":"index_or_alias","index_uuid":"_na_"},"status":404}"#;
        assert!(
            matches!(parse(404, body), ApiError::IndexNotFound { ref index } if index == "logs-9")
        );
    }

    #[test]
    fn iam_pass_role_denial_names_action_and_resource() {
        let body = r#"{"Message":"User: arn:aws:sts::123456789012:assumed-role/osnap-fn/osnap is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/osnap-snapshots"}"#;
        match parse(403, body) {
            ApiError::AccessDenied {
                action, resource, ..
            } => {
                assert_eq!(action.as_deref(), Some("iam:PassRole"));
                assert_eq!(
                    resource.as_deref(),
                    Some("arn:aws:iam::123456789012:role/osnap-snapshots")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn security_exception_is_access_denied() {
        let body = envelope(
            "security_exception",
            "no permissions for [cluster:admin/snapshot/create] and User [name=osnap, backend_roles=[], requestedTenant=null]",
            403,
        );
        assert!(matches!(parse(403, &body), ApiError::AccessDenied { .. }));
    }

    #[test]
    fn throttling_in_every_shape() {
        assert!(matches!(
            parse(429, r#"{"message":"Too Many Requests"}"#),
            ApiError::Throttled { .. }
        ));
        assert!(matches!(
            parse(
                403,
                r#"{"message":"Request throttled due to too many requests"}"#
            ),
            ApiError::Throttled { .. }
        ));
        let rejected = envelope("es_rejected_execution_exception", "rejected execution", 429);
        assert!(matches!(parse(429, &rejected), ApiError::Throttled { .. }));
    }

    #[test]
    fn gateway_timeouts_and_other_bodies() {
        let html = "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>";
        match parse(504, html) {
            ApiError::Unavailable { status, message } => {
                assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
                assert_eq!(
                    message,
                    "504 Gateway Time-out The server didn't respond in time."
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(502, ""), ApiError::Unavailable { .. }));
        let other = envelope("illegal_argument_exception", "unknown setting [x]", 400);
        match parse(400, &other) {
            ApiError::Server {
                error_type,
                reason,
                status,
            } => {
                assert_eq!(
                    (error_type.as_str(), reason.as_str(), status.as_u16()),
                    ("illegal_argument_exception", "unknown setting [x]", 400)
                );
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            parse(400, r#"{"error":"old style","status":400}"#),
            ApiError::Server { .. }
        ));
    }

    #[test]
    fn snapshot_in_progress() {
        let body = envelope(
            "snapshot_in_progress_exception",
            "[nightly:snap-1/Xq1] Cannot delete snapshot while it is being restored",
            400,
        );
        let e = parse(400, &body);
        assert!(
            matches!(e, ApiError::SnapshotInProgress { ref reason } if reason.contains("being restored"))
        );
        assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn a_wrapped_cause_gives_its_own_type_and_reason() {
        let body = r#"{"error":{"root_cause":[{"type":"remote_transport_exception","reason":"[node-1][10.0.0.1:9300][cluster:admin/snapshot/get]"}],"type":"remote_transport_exception","reason":"[node-1][10.0.0.1:9300][cluster:admin/snapshot/get]","caused_by":{"type":"snapshot_missing_exception","reason":"[nightly:snap-9] is missing"}},"status":404}"#;
        assert!(
            matches!(parse(404, body), ApiError::SnapshotMissing { ref reason } if reason == "[nightly:snap-9] is missing")
        );
    }

    #[test]
    fn fine_grained_denials_name_the_permission() {
        let body = envelope(
            "security_exception",
            "no permissions for [cluster:admin/snapshot/restore] and User [name=arn:aws:iam::123456789012:role/osnap-fn, backend_roles=[arn:aws:iam::123456789012:role/osnap-fn], requestedTenant=null]",
            403,
        );
        match parse(403, &body) {
            ApiError::AccessDenied {
                action, resource, ..
            } => {
                assert_eq!(action.as_deref(), Some("cluster:admin/snapshot/restore"));
                assert_eq!(resource, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn iam_denials_without_pass_role() {
        let body = r#"{"Message":"User: arn:aws:sts::123456789012:assumed-role/osnap-fn/osnap is not authorized to perform: es:ESHttpPut because no identity-based policy allows the es:ESHttpPut action"}"#;
        match parse(403, body) {
            ApiError::AccessDenied {
                action, resource, ..
            } => assert_eq!((action.as_deref(), resource), (Some("es:ESHttpPut"), None)),
            other => panic!("{other:?}"),
        }
        let bad_signature = r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#;
        assert!(matches!(
            parse(403, bad_signature),
            ApiError::AccessDenied { action: None, .. }
        ));
    }

    #[test]
    fn throttles_in_an_envelope_and_the_generic_unavailable_rule() {
        let throttled = envelope("status_exception", "Request throttled, retry later", 403);
        assert!(matches!(
            parse(403, &throttled),
            ApiError::Throttled { status, .. } if status == StatusCode::FORBIDDEN
        ));
        let rejected = r#"{"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation [shard_detail=[logs-1][0][C], shard_coordinating_and_primary_bytes=0, shard_operation_bytes=98, shard_max_coordinating_and_primary_bytes=0]"}],"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"},"status":429}"#;
        assert!(matches!(parse(429, rejected), ApiError::Throttled { .. }));
        let no_master = envelope(
            "master_not_discovered_exception",
            "FailedToCommitClusterStateException[publication failed]",
            503,
        );
        match parse(503, &no_master) {
            ApiError::Unavailable { status, message } => {
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
                assert!(message.starts_with("master_not_discovered_exception: "));
            }
            other => panic!("{other:?}"),
        }
        // A 403 that is not a denial stays a server error (a read-only index block).
        let block = envelope(
            "cluster_block_exception",
            "index [logs-1] blocked by: [FORBIDDEN/8/index write (api)];",
            403,
        );
        assert!(matches!(parse(403, &block), ApiError::Server { .. }));
    }

    #[test]
    fn statuses_and_messages() {
        let concurrent = parse(
            503,
            &envelope(
                "concurrent_snapshot_execution_exception",
                "[r:s] a snapshot is already running",
                503,
            ),
        );
        assert_eq!(concurrent.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(
            concurrent.to_string(),
            "a snapshot is already running: [r:s] a snapshot is already running"
        );
        let unavailable = parse(504, "<html>504 Gateway Time-out</html>");
        assert_eq!(unavailable.status(), Some(StatusCode::GATEWAY_TIMEOUT));
        assert_eq!(
            unavailable.to_string(),
            "domain unavailable (504 Gateway Timeout): 504 Gateway Time-out"
        );
        assert_eq!(ApiError::InvalidArgument("x".into()).status(), None);
        assert_eq!(
            parse(502, "").to_string(),
            "domain unavailable (502 Bad Gateway): (empty body)"
        );
    }
}
