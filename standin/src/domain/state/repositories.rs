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

    /// Where its blobs are. AWS's own repositories keep theirs in a bucket callers never see
    /// (the stand-in's, once `Domain::take_automated_snapshot` has made it): `None` before.
    pub fn location(&self) -> Option<BlobLocation> {
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

/// Gives AWS's repository `name` its hidden bucket (`standin-aws-<domain>`, made through the
/// S3 API if missing), where AWS's own snapshots into it are written.
pub(crate) async fn provision_managed(shared: &Shared, name: &str) -> Result<(), BlobError> {
    let domain: String = shared
        .config
        .name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    let bucket = format!("standin-aws-{}", domain.trim_matches('-'));
    let made = shared.s3.create_bucket().bucket(&bucket).send().await;
    if let Err(error) = made {
        use aws_sdk_s3::error::ProvideErrorMetadata;
        if !matches!(
            error.code(),
            Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
        ) {
            return Err(BlobError::S3 {
                code: error.code().unwrap_or("unknown").to_owned(),
                message: aws_sdk_s3::error::DisplayErrorContext(&error).to_string(),
            });
        }
    }
    if let Some(repository) = shared.cluster().repositories.get_mut(name) {
        repository.settings.insert("bucket".into(), bucket);
        repository
            .settings
            .insert("base_path".into(), name.to_owned());
    }
    Ok(())
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
