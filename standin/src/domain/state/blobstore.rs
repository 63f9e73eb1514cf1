//! Where a repository's snapshots live in S3, written through the real S3 API so that any
//! domain registering the same bucket and base path sees the same snapshots.
//!
//! Layout under `<base_path>/`:
//! - `standin-index.json`: the repository index, every snapshot's name, uuid, state,
//!   indices and times (all a `verbose=false` listing needs);
//! - `snapshots/<uuid>/manifest.json`: the snapshot's full description;
//! - `snapshots/<uuid>/indices/<index>.json`: one index's settings, mappings, aliases and
//!   documents;
//! - `tests-<id>/`: short-lived blobs written while a repository is verified.

use std::collections::BTreeMap;

use aws_sdk_s3::error::{BuildError, DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::state::data_streams::DataStream;
use crate::domain::wire::reply::EsError;

/// Why a blob operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BlobError {
    #[error("The specified bucket does not exist")]
    NoSuchBucket,
    #[error("S3 answered {code}: {message}")]
    S3 { code: String, message: String },
    #[error("blob [{key}] is not readable: {reason}")]
    Corrupt { key: String, reason: String },
}

impl BlobError {
    fn from_sdk<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
        error: aws_sdk_s3::error::SdkError<E, R>,
    ) -> Self {
        match error.code() {
            Some("NoSuchBucket") => Self::NoSuchBucket,
            code => Self::S3 {
                code: code.unwrap_or("unknown").to_owned(),
                message: error
                    .message()
                    .map_or_else(|| DisplayErrorContext(&error).to_string(), str::to_owned),
            },
        }
    }

    /// As the engine's S3 client names the failure in a shard's failure reason.
    pub fn as_exception(&self) -> String {
        match self {
            Self::NoSuchBucket => "AmazonS3Exception[The specified bucket does not exist \
                                   (Service: Amazon S3; Error Code: NoSuchBucket)]"
                .to_owned(),
            Self::S3 { code, message } => {
                format!("AmazonS3Exception[{message} (Service: Amazon S3; Error Code: {code})]")
            }
            Self::Corrupt { .. } => format!("CorruptStateException[{self}]"),
        }
    }

    /// The exception chain the engine's S3 client reports: an I/O failure caused by S3.
    pub fn to_cause(&self, what: String) -> EsError {
        let s3 = match self {
            Self::NoSuchBucket => EsError::internal(
                "amazon_s3_exception",
                "The specified bucket does not exist (Service: Amazon S3; Status Code: 404; \
                 Error Code: NoSuchBucket; Request ID: STANDIN; S3 Extended Request ID: STANDIN)",
            ),
            Self::S3 { code, message } => EsError::internal(
                "amazon_s3_exception",
                format!("{message} (Service: Amazon S3; Error Code: {code})"),
            ),
            Self::Corrupt { .. } => {
                return EsError::internal("corrupt_state_exception", self.to_string());
            }
        };
        EsError::internal("i_o_exception", what).caused_by(s3)
    }
}

/// A repository's place in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlobLocation {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub base: String,
}

impl BlobLocation {
    pub fn new(bucket: &str, base_path: &str) -> Self {
        Self {
            bucket: bucket.to_owned(),
            base: base_path.trim_matches('/').to_owned(),
        }
    }

    pub fn key(&self, relative: &str) -> String {
        if self.base.is_empty() {
            relative.to_owned()
        } else {
            format!("{}/{relative}", self.base)
        }
    }

    /// The base path as the engine prints a blob path: `[a][b]`, or nothing for the root.
    pub fn display(&self) -> String {
        self.base
            .split('/')
            .filter(|p| !p.is_empty())
            .map(|p| format!("[{p}]"))
            .collect()
    }
}

pub(crate) const INDEX_BLOB: &str = "standin-index.json";

pub(crate) fn manifest_key(uuid: &str) -> String {
    format!("snapshots/{uuid}/manifest.json")
}

pub(crate) fn index_key(uuid: &str, index: &str) -> String {
    format!("snapshots/{uuid}/indices/{index}.json")
}

/// Every blob a snapshot may have written, for its deletion (known from the repository
/// index, as the engine knows them, so nothing is listed). The trailing-`/` keys remove the
/// then empty folders of the file-backed S3 server; real S3 takes them as missing keys.
pub(crate) fn snapshot_keys(entry: &IndexEntry) -> Vec<String> {
    let uuid = &entry.uuid;
    let mut keys: Vec<String> = entry.indices.iter().map(|i| index_key(uuid, i)).collect();
    keys.push(manifest_key(uuid));
    keys.push(format!("snapshots/{uuid}/indices/"));
    keys.push(format!("snapshots/{uuid}/"));
    keys
}

/// One snapshot in the repository index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct IndexEntry {
    pub name: String,
    pub uuid: String,
    pub state: String,
    pub indices: Vec<String>,
    #[serde(default)]
    pub data_streams: Vec<String>,
    pub start_time_in_millis: u64,
    pub end_time_in_millis: u64,
    pub version: String,
}

/// `standin-index.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct RepositoryIndex {
    pub generation: u64,
    pub snapshots: Vec<IndexEntry>,
}

/// A shard that could not be snapshotted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ShardFailure {
    pub index: String,
    pub index_uuid: String,
    pub shard_id: u32,
    pub reason: String,
    pub status: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ShardCounts {
    pub total: u64,
    pub failed: u64,
    pub successful: u64,
}

/// What a snapshot holds of one index, for status and restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexStats {
    pub uuid: String,
    pub shards: u32,
    pub bytes: u64,
    pub files: u64,
    pub failed_shards: Vec<u32>,
    /// The checksum of the index's documents as written ([`docs_checksum`]). The engine
    /// records each file's checksum and length in the shard's snapshot metadata
    /// (`BlobStoreIndexShardSnapshot.FileInfo`) and a restore verifies every file it copies
    /// against it, failing the shard's recovery on a mismatch (`CorruptIndexException`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_sha256: Option<String>,
}

/// The checksum a restore verifies an index's documents against.
pub(crate) fn docs_checksum(docs: &[StoredDoc]) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(docs).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `manifest.json`: everything `GET _snapshot/<repo>/<snapshot>` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SnapshotRecord {
    pub snapshot: String,
    pub uuid: String,
    pub version_id: u64,
    pub version: String,
    pub indices: Vec<String>,
    pub data_streams: Vec<String>,
    /// The streams' definitions (backing indices, generation), as the snapshot's global
    /// metadata keeps them for restore.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_stream_defs: Vec<DataStream>,
    pub include_global_state: bool,
    pub metadata: Option<Map<String, Value>>,
    pub state: String,
    pub reason: Option<String>,
    pub start_time_in_millis: u64,
    pub end_time_in_millis: u64,
    pub failures: Vec<ShardFailure>,
    pub shards: ShardCounts,
    pub index_stats: BTreeMap<String, IndexStats>,
}

impl SnapshotRecord {
    pub fn entry(&self) -> IndexEntry {
        IndexEntry {
            name: self.snapshot.clone(),
            uuid: self.uuid.clone(),
            state: self.state.clone(),
            indices: self.indices.clone(),
            data_streams: self.data_streams.clone(),
            start_time_in_millis: self.start_time_in_millis,
            end_time_in_millis: self.end_time_in_millis,
            version: self.version.clone(),
        }
    }
}

/// One document of a snapshotted index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredDoc {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "_source")]
    pub source: Value,
}

/// `indices/<index>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct IndexContents {
    pub name: String,
    pub uuid: String,
    pub settings: BTreeMap<String, String>,
    pub mappings: Value,
    pub aliases: BTreeMap<String, Value>,
    pub docs: Vec<StoredDoc>,
}

/// Blob operations on one repository.
#[derive(Debug, Clone)]
pub(crate) struct Blobs {
    pub s3: aws_sdk_s3::Client,
    pub location: BlobLocation,
}

impl Blobs {
    pub async fn put_bytes(&self, relative: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        self.s3
            .put_object()
            .bucket(&self.location.bucket)
            .key(self.location.key(relative))
            .content_type("application/json")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(BlobError::from_sdk)
    }

    /// Puts several blobs side by side, as several nodes do, `at_most` at a time. A failure
    /// names its key.
    pub async fn put_concurrently(
        &self,
        blobs: Vec<(String, Vec<u8>)>,
        at_most: usize,
    ) -> Result<(), (String, BlobError)> {
        match self.put_each(blobs, at_most).await.into_iter().next() {
            Some(refused) => Err(refused),
            None => Ok(()),
        }
    }

    /// Puts several blobs side by side, `at_most` at a time, and answers the ones refused,
    /// each with its key.
    pub async fn put_each(
        &self,
        blobs: Vec<(String, Vec<u8>)>,
        at_most: usize,
    ) -> Vec<(String, BlobError)> {
        let mut puts = tokio::task::JoinSet::new();
        let mut refused = Vec::new();
        for (relative, bytes) in blobs {
            if puts.len() >= at_most.max(1)
                && let Some(joined) = puts.join_next().await
                && let Err(failure) = put_finished(joined)
            {
                refused.push(failure);
            }
            let this = self.clone();
            puts.spawn(async move {
                let outcome = this.put_bytes(&relative, bytes).await;
                outcome.map_err(|e| (relative, e))
            });
        }
        while let Some(joined) = puts.join_next().await {
            if let Err(failure) = put_finished(joined) {
                refused.push(failure);
            }
        }
        refused
    }

    pub async fn put_json<T: Serialize>(&self, relative: &str, value: &T) -> Result<(), BlobError> {
        let bytes = serde_json::to_vec(value).map_err(|e| BlobError::Corrupt {
            key: relative.to_owned(),
            reason: e.to_string(),
        })?;
        self.put_bytes(relative, bytes).await
    }

    /// `None` when there is no such blob.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        relative: &str,
    ) -> Result<Option<T>, BlobError> {
        let key = self.location.key(relative);
        let object = match self
            .s3
            .get_object()
            .bucket(&self.location.bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(object) => object,
            Err(error) if error.code() == Some("NoSuchKey") => return Ok(None),
            Err(error) => return Err(BlobError::from_sdk(error)),
        };
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| BlobError::S3 {
                code: "ReadError".into(),
                message: e.to_string(),
            })?
            .into_bytes();
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| BlobError::Corrupt {
                key,
                reason: e.to_string(),
            })
    }

    /// Deletes the blobs at `relative` keys with `DeleteObjects`, a thousand per request, as
    /// the engine's S3 repository does. Missing keys are not an error (S3 reports them as
    /// deleted). The keys are known, so nothing is listed: the file-backed S3 server walks
    /// the whole bucket for every listing.
    pub async fn delete_keys(&self, relative: &[String]) -> Result<(), BlobError> {
        let invalid = |e: BuildError| BlobError::S3 {
            code: "InvalidRequest".into(),
            message: e.to_string(),
        };
        for batch in relative.chunks(1000) {
            let objects = batch
                .iter()
                .map(|key| {
                    ObjectIdentifier::builder()
                        .key(self.location.key(key))
                        .build()
                        .map_err(invalid)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(invalid)?;
            let output = self
                .s3
                .delete_objects()
                .bucket(&self.location.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(BlobError::from_sdk)?;
            if let Some(failed) = output.errors().first() {
                return Err(BlobError::S3 {
                    code: failed.code().unwrap_or("unknown").to_owned(),
                    message: format!(
                        "{} ({})",
                        failed.message().unwrap_or("not deleted"),
                        failed.key().unwrap_or_default()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Fails as listing the bucket fails (a missing bucket, refused credentials).
    pub async fn check_readable(&self) -> Result<(), BlobError> {
        self.s3
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(self.location.key(INDEX_BLOB))
            .max_keys(1)
            .send()
            .await
            .map(|_| ())
            .map_err(BlobError::from_sdk)
    }

    pub async fn read_index(&self) -> Result<RepositoryIndex, BlobError> {
        Ok(self.get_json(INDEX_BLOB).await?.unwrap_or_default())
    }

    pub async fn write_index(&self, index: &RepositoryIndex) -> Result<(), BlobError> {
        self.put_json(INDEX_BLOB, index).await
    }
}

/// One put's outcome; a task that did not finish counts as a failed put.
fn put_finished(
    joined: Result<Result<(), (String, BlobError)>, tokio::task::JoinError>,
) -> Result<(), (String, BlobError)> {
    joined.map_err(|e| {
        let error = BlobError::S3 {
            code: "InternalError".into(),
            message: e.to_string(),
        };
        (String::new(), error)
    })?
}

/// Takes one document out of every stored copy of `index` in `bucket`'s snapshots, through
/// the S3 API: what an object overwritten in the bucket (a tool, a lifecycle rule, a bad
/// copy) leaves. The snapshot's checksums are left as they were, so a restore of the index
/// finds the mismatch, as the engine does. Answers how many objects were changed.
pub async fn drop_a_stored_document(s3: &aws_sdk_s3::Client, bucket: &str, index: &str) -> usize {
    let suffix = format!("/indices/{index}.json");
    let Ok(listing) = s3.list_objects_v2().bucket(bucket).send().await else {
        return 0;
    };
    let keys: Vec<String> = listing
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .filter(|k| k.ends_with(&suffix))
        .map(str::to_owned)
        .collect();
    let mut changed = 0;
    for key in keys {
        let Ok(object) = s3.get_object().bucket(bucket).key(&key).send().await else {
            continue;
        };
        let Ok(bytes) = object.body.collect().await.map(|b| b.into_bytes()) else {
            continue;
        };
        let Ok(mut contents) = serde_json::from_slice::<IndexContents>(&bytes) else {
            continue;
        };
        if contents.docs.pop().is_none() {
            continue;
        }
        let Ok(body) = serde_json::to_vec(&contents) else {
            continue;
        };
        let put = s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .body(ByteStream::from(body))
            .send()
            .await;
        if put.is_ok() {
            changed += 1;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_paths() {
        let root = BlobLocation::new("b", "");
        assert_eq!(root.key(INDEX_BLOB), "standin-index.json");
        assert_eq!(root.display(), "");
        let nested = BlobLocation::new("b", "/osnap/prod/");
        assert_eq!(
            nested.key(&manifest_key("u")),
            "osnap/prod/snapshots/u/manifest.json"
        );
        assert_eq!(nested.display(), "[osnap][prod]");
    }
}
