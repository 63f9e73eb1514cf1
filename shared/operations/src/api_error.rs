//! Mapping transport and API failures onto the error taxonomy, with advice for the operator.

use signing::{EndpointError, SigningError};

use crate::OsnapError;

/// A failure to sign or deliver a request.
pub fn from_signing(error: &SigningError) -> OsnapError {
    match error {
        SigningError::Endpoint(EndpointError::NotAllowed { .. }) => {
            OsnapError::EndpointNotAllowed {
                reason: error.to_string(),
            }
        }
        SigningError::Endpoint(_) | SigningError::InvalidRequest(_) => OsnapError::InvalidRequest {
            reason: error.to_string(),
        },
        SigningError::Credentials(_) | SigningError::Sign(_) => OsnapError::AccessDenied {
            message: error_chain(error),
            advice: "; check the function's role, and for assume_role_arn that the role trusts it"
                .into(),
        },
        SigningError::Connect { .. } | SigningError::Transport { .. } => {
            OsnapError::DomainUnavailable {
                message: error_chain(error),
            }
        }
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
