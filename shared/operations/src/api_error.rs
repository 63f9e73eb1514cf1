//! Mapping transport and API failures onto the error taxonomy, with advice for the operator.

use signing::{EndpointError, SigningError};
use snapshot_api::ApiError;

use crate::OsnapError;

/// A security plugin action (`cluster:admin/snapshot/create`, `indices:monitor/recovery`),
/// as opposed to an IAM one (`es:ESHttpGet`, `iam:PassRole`).
fn is_transport_action(action: &str) -> bool {
    action.starts_with("cluster:") || action.starts_with("indices:")
}

/// A failure to sign or deliver a request.
pub fn from_signing(error: &SigningError) -> OsnapError {
    match error {
        SigningError::Endpoint(EndpointError::NotAllowed { .. })
        | SigningError::Redirected { .. } => OsnapError::EndpointNotAllowed {
            reason: error.to_string(),
        },
        SigningError::Endpoint(_) | SigningError::InvalidRequest(_) => OsnapError::InvalidRequest {
            reason: error.to_string(),
        },
        SigningError::Credentials(_) | SigningError::Sign(_) => OsnapError::AccessDenied {
            message: error_chain(error),
            advice: "; check the function's role, and for assume_role_arn that the role trusts it"
                .into(),
        },
        SigningError::Connect { .. }
        | SigningError::Transport { .. }
        | SigningError::OutOfTime { .. } => OsnapError::DomainUnavailable {
            message: error_chain(error),
        },
    }
}

/// The error and its sources, `: `-separated, for messages that reach an operator.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What an API call was about, so errors can name it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub repository: &'a str,
    pub snapshot: Option<&'a str>,
}

/// An API failure in the taxonomy, with advice where the fix is known.
pub fn from_api(error: ApiError, subject: Subject<'_>) -> OsnapError {
    match error {
        ApiError::AccessDenied {
            message,
            action,
            resource,
        } => {
            let advice = match (action.as_deref(), resource.as_deref()) {
                (Some("iam:PassRole"), Some(role)) => format!(
                    "; the function's role needs iam:PassRole on {}, and with fine-grained \
                     access control it must be mapped to a role granting \
                     cluster:admin/repository/put (the osnap role, infra/fgac/osnap-role.json; \
                     AWS's guide maps manage_snapshots)",
                    policy::quote::short(role)
                ),
                // The security plugin refuses a restore of the global state or of its own
                // index whatever the role (`SnapshotRestoreEvaluator`).
                (Some(""), None) => "; fine-grained access control never lets a restore take \
                                     the global state or the security index"
                    .to_owned(),
                (Some(action), None) if is_transport_action(action) => format!(
                    "; with fine-grained access control the function's role must be mapped \
                     to a role granting `{}`: the osnap role (infra/fgac/osnap-role.json) \
                     grants every action osnap sends",
                    policy::quote::short(action)
                ),
                _ => "; check the domain's access policy allows the function's role (es:ESHttp*), \
                      and with fine-grained access control map the role to the osnap role \
                      (infra/fgac/osnap-role.json)"
                    .to_owned(),
            };
            OsnapError::AccessDenied { message, advice }
        }
        ApiError::Throttled { message, .. } => OsnapError::Throttled { message },
        ApiError::Unavailable { status, message } => OsnapError::DomainUnavailable {
            message: format!("{status}: {message}"),
        },
        ApiError::RepositoryMissing { .. } => OsnapError::RepositoryMissing {
            repository: subject.repository.to_owned(),
        },
        ApiError::SnapshotMissing { reason } => OsnapError::SnapshotMissing {
            repository: subject.repository.to_owned(),
            snapshot: subject.snapshot.map_or(reason, str::to_owned),
        },
        ApiError::ConcurrentSnapshotExecution { reason }
        | ApiError::SnapshotInProgress { reason } => {
            OsnapError::SnapshotInProgress { message: reason }
        }
        ApiError::InvalidSnapshotName { reason, .. } => OsnapError::InvalidRequest { reason },
        ApiError::RestoreConflict { indices, .. } => OsnapError::RestoreConflict { indices },
        ApiError::IndexNotFound { index } => OsnapError::InvalidRequest {
            reason: format!("index `{index}` does not exist on the domain"),
        },
        ApiError::Server {
            status,
            error_type,
            reason,
        } if status.is_client_error() => OsnapError::InvalidRequest {
            reason: format!("the domain refused the request ({status} {error_type}): {reason}"),
        },
        ApiError::Server {
            status,
            error_type,
            reason,
        } => OsnapError::DomainUnavailable {
            message: format!("{status} {error_type}: {reason}"),
        },
        ApiError::Transport(e) => from_signing(&e),
        error @ ApiError::Decode { .. } => OsnapError::DomainUnavailable {
            message: error_chain(&error),
        },
        ApiError::InvalidArgument(reason) => OsnapError::InvalidRequest { reason },
        error @ ApiError::Unsupported { .. } => OsnapError::InvalidRequest {
            reason: error.to_string(),
        },
        error @ ApiError::UnknownEngine(_) => OsnapError::InvalidRequest {
            reason: error_chain(&error),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denial(reason: &str) -> OsnapError {
        let body = serde_json::json!({
            "error": {"root_cause": [{"type": "security_exception", "reason": reason}],
                "type": "security_exception", "reason": reason},
            "status": 403
        });
        let error = snapshot_api::error::parse_error(
            http::StatusCode::FORBIDDEN,
            body.to_string().as_bytes(),
        );
        from_api(
            error,
            Subject {
                repository: "nightly",
                snapshot: None,
            },
        )
    }

    #[test]
    fn a_security_exception_is_access_denied_naming_the_action() {
        let error = denial(
            "no permissions for [indices:monitor/recovery] and User [name=arn:aws:iam::123456789012:role/fn, backend_roles=[arn:aws:iam::123456789012:role/fn], requestedTenant=null]",
        );
        assert_eq!(error.error_type(), "AccessDenied");
        let message = error.to_string();
        assert!(
            message.contains("granting `indices:monitor/recovery`"),
            "{message}"
        );
        assert!(message.contains("infra/fgac/osnap-role.json"), "{message}");
    }

    #[test]
    fn a_long_action_is_quoted_short() {
        let action = format!("cluster:{}", "x".repeat(5_000));
        let error = denial(&format!("no permissions for [{action}] and User [name=u]"));
        let OsnapError::AccessDenied { advice, .. } = &error else {
            panic!("{error:?}");
        };
        assert!(advice.len() < 600, "{advice}");
        assert!(advice.contains("more characters"), "{advice}");
    }

    #[test]
    fn the_refused_global_state_says_why() {
        let error = denial(
            "no permissions for [] and User [name=u, backend_roles=[], requestedTenant=null]",
        );
        assert!(error.to_string().contains("global state"), "{error}");
    }
}
