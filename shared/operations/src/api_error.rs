//! Mapping transport and API failures onto the error taxonomy, with advice for the operator.

use signing::{EndpointError, SigningError};
use snapshot_api::ApiError;

use crate::OsnapError;

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
                    "; the function's role needs iam:PassRole on {role}, and with fine-grained \
                     access control that role must be mapped to the manage_snapshots role"
                ),
                _ => "; check the domain's access policy allows the function's role (es:ESHttp*), \
                      and with fine-grained access control map the role to manage_snapshots"
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
