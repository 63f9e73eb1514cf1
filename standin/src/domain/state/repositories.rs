//! Registered repositories: their definitions, AWS's reserved `cs-` names, and access to
//! a repository's blobs and index in S3.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

use crate::domain::state::Shared;
use crate::domain::state::blobstore::{BlobError, BlobLocation, Blobs, RepositoryIndex};
use crate::domain::wire::call::Call;
use crate::domain::wire::reply::{EsError, Reply};

/// A registered repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RepositoryDef {
    pub name: String,
    pub kind: String,
    pub settings: BTreeMap<String, String>,
    /// AWS's own automated-snapshot repository: its settings are hidden and it is read-only.
    pub aws_managed: bool,
}

impl RepositoryDef {
    pub fn aws_managed(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: "s3".into(),
            settings: BTreeMap::new(),
            aws_managed: true,
        }
    }

    pub fn readonly(&self) -> bool {
        self.aws_managed || self.settings.get("readonly").is_some_and(|v| v == "true")
    }

    /// `None` for AWS's repositories, whose bucket callers never see.
    pub fn location(&self) -> Option<BlobLocation> {
        if self.aws_managed {
            return None;
        }
        let bucket = self.settings.get("bucket")?;
        let base = self.settings.get("base_path").map_or("", String::as_str);
        Some(BlobLocation::new(bucket, base))
    }

    pub fn to_json(&self) -> Value {
        if self.aws_managed {
            return json!({"type": self.kind});
        }
        json!({"type": self.kind, "settings": self.settings})
    }
}

/// AWS refuses writes to its reserved `cs-` repositories before the engine sees them.
pub(crate) fn reserved(name: &str) -> bool {
    name.starts_with("cs-")
}

pub(crate) fn reserved_refusal(call: &Call) -> Reply {
    Reply::aws_message(
        StatusCode::UNAUTHORIZED,
        &format!("Your request: '{}' is not allowed.", call.path),
    )
}

pub(crate) fn lookup(shared: &Shared, name: &str) -> Result<RepositoryDef, EsError> {
    shared
        .cluster()
        .repositories
        .get(name)
        .cloned()
        .ok_or_else(|| EsError::repository_missing(name))
}

pub(crate) fn blobs(shared: &Shared, repository: &RepositoryDef) -> Option<Blobs> {
    repository.location().map(|location| Blobs {
        s3: shared.s3.clone(),
        location,
    })
}

pub(crate) fn repository_data_error(repository: &str, error: &BlobError) -> EsError {
    EsError::repository(repository, "could not read repository data from index blob")
        .caused_by(error.to_cause("Exception when listing blobs by prefix [index-]".into()))
}

/// The repository index, or an empty one for a repository without blobs of its own.
pub(crate) async fn read_index(
    shared: &Shared,
    repository: &RepositoryDef,
) -> Result<RepositoryIndex, EsError> {
    match blobs(shared, repository) {
        None => Ok(RepositoryIndex::default()),
        Some(blobs) => blobs
            .read_index()
            .await
            .map_err(|e| repository_data_error(&repository.name, &e)),
    }
}
