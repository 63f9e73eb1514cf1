//! The error taxonomy: every failure of a function is one of these, and its `errorType` is
//! the stable name Step Functions `Retry`/`Catch` match on.

/// A failed operation. The message says what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum OsnapError {
    #[error("invalid request: {reason}")]
    InvalidRequest { reason: String },
    #[error("endpoint not allowed: {reason}")]
    EndpointNotAllowed { reason: String },
    #[error("access denied: {message}{advice}")]
    AccessDenied { message: String, advice: String },
    #[error("the domain is throttling requests: {message}; retry with backoff")]
    Throttled { message: String },
    #[error("the domain is unavailable: {message}; retry later")]
    DomainUnavailable { message: String },
    #[error("repository `{repository}` is not registered on the domain; run register first")]
    RepositoryMissing { repository: String },
    #[error(
        "repository `{repository}` is registered with other settings: {difference}; pass \"replace\": true to update it"
    )]
    RepositoryConflict {
        repository: String,
        difference: String,
    },
    #[error("snapshot `{snapshot}` does not exist in repository `{repository}`")]
    SnapshotMissing {
        repository: String,
        snapshot: String,
    },
    #[error("another snapshot or deletion is running on the domain: {message}; retry when it ends")]
    SnapshotInProgress { message: String },
    #[error("snapshot `{snapshot}` is {state}: {detail}")]
    SnapshotFailed {
        snapshot: String,
        state: String,
        detail: String,
    },
    #[error("the newest snapshot `{snapshot}` is {age} old, older than the allowed {max_age}")]
    SnapshotStale {
        snapshot: String,
        age: String,
        max_age: String,
    },
    #[error(
        "restore would overwrite open indices {indices:?}; choose on_conflict \"rename\" or \"replace\", or delete or close them"
    )]
    RestoreConflict { indices: Vec<String> },
    #[error("refused: {reason}")]
    UnsafeOperation { reason: String },
}

impl OsnapError {
    /// Every `errorType` a function can return, for documentation and state-machine checks.
    pub const ERROR_TYPES: [&'static str; 13] = [
        "InvalidRequest",
        "EndpointNotAllowed",
        "AccessDenied",
        "Throttled",
        "DomainUnavailable",
        "RepositoryMissing",
        "RepositoryConflict",
        "SnapshotMissing",
        "SnapshotInProgress",
        "SnapshotFailed",
        "SnapshotStale",
        "RestoreConflict",
        "UnsafeOperation",
    ];

    /// The stable Lambda `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidRequest { .. } => "InvalidRequest",
            Self::EndpointNotAllowed { .. } => "EndpointNotAllowed",
            Self::AccessDenied { .. } => "AccessDenied",
            Self::Throttled { .. } => "Throttled",
            Self::DomainUnavailable { .. } => "DomainUnavailable",
            Self::RepositoryMissing { .. } => "RepositoryMissing",
            Self::RepositoryConflict { .. } => "RepositoryConflict",
            Self::SnapshotMissing { .. } => "SnapshotMissing",
            Self::SnapshotInProgress { .. } => "SnapshotInProgress",
            Self::SnapshotFailed { .. } => "SnapshotFailed",
            Self::SnapshotStale { .. } => "SnapshotStale",
            Self::RestoreConflict { .. } => "RestoreConflict",
            Self::UnsafeOperation { .. } => "UnsafeOperation",
        }
    }

    /// Whether Step Functions should retry the same input later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Throttled { .. }
                | Self::DomainUnavailable { .. }
                | Self::SnapshotInProgress { .. }
        )
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Self::InvalidRequest {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_the_documented_list() {
        let samples = [
            OsnapError::invalid("x"),
            OsnapError::EndpointNotAllowed { reason: "x".into() },
            OsnapError::AccessDenied {
                message: "x".into(),
                advice: String::new(),
            },
            OsnapError::Throttled {
                message: "x".into(),
            },
            OsnapError::DomainUnavailable {
                message: "x".into(),
            },
            OsnapError::RepositoryMissing {
                repository: "r".into(),
            },
            OsnapError::RepositoryConflict {
                repository: "r".into(),
                difference: "d".into(),
            },
            OsnapError::SnapshotMissing {
                repository: "r".into(),
                snapshot: "s".into(),
            },
            OsnapError::SnapshotInProgress {
                message: "x".into(),
            },
            OsnapError::SnapshotFailed {
                snapshot: "s".into(),
                state: "FAILED".into(),
                detail: "d".into(),
            },
            OsnapError::SnapshotStale {
                snapshot: "s".into(),
                age: "2d".into(),
                max_age: "1d".into(),
            },
            OsnapError::RestoreConflict {
                indices: vec!["a".into()],
            },
            OsnapError::UnsafeOperation { reason: "x".into() },
        ];
        let types: Vec<&str> = samples.iter().map(OsnapError::error_type).collect();
        assert_eq!(types, OsnapError::ERROR_TYPES);
    }
}
