//! [`SnapshotApi`]: one method per endpoint osnap uses.
//!
//! Names are checked before anything is sent: an empty name would collapse the path
//! (`DELETE _snapshot/<repo>/` is not what was meant), and a delete never takes a wildcard,
//! a list or `_all` where one name is expected, so a bad input cannot delete more than named.
//!
//! Every request is shaped for the domain's engine and version: `GET /` is read once per
//! [`SnapshotApi`] (on the first request that depends on it, then cached) and
//! `policy::engines::Capabilities` says what that version accepts.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use policy::engines::{Capabilities, Engine};
use serde::Serialize;
use serde::de::DeserializeOwned;
use signing::{DomainClient, DomainRequest, DomainResponse};
use tokio::sync::OnceCell;

use crate::cluster::{ClusterHealth, ClusterInfo, ClusterSettings, ShardLimit};
use crate::error::{ApiError, parse_error};
use crate::indices::{
    AliasAction, AliasesByIndex, AuthInfo, BOX_TYPE_SETTING, CatAllocation, CatIndex, CatShard,
    ColdIndices, CountResponse, IndicesByName, SettingsByIndex,
};
use crate::recovery::RecoveryByIndex;
use crate::repository::{Repository, VerifyResponse};
use crate::restore::{RestoreRequest, RestoreResponse};
use crate::snapshot::{
    CatSnapshot, CreateSnapshotRequest, CreateSnapshotResponse, SnapshotInfo, SnapshotStatus,
    StatusList, parse_snapshot_list,
};

/// The snapshot REST API of one domain. Clones share the engine read from `GET /`.
#[derive(Debug, Clone)]
pub struct SnapshotApi {
    domain: DomainClient,
    engine: Arc<OnceCell<Engine>>,
}

impl SnapshotApi {
    pub fn new(domain: DomainClient) -> Self {
        Self {
            domain,
            engine: Arc::new(OnceCell::new()),
        }
    }

    /// An API for a domain whose engine is already known (no `GET /` is sent).
    pub fn with_engine(domain: DomainClient, engine: Engine) -> Self {
        Self {
            domain,
            engine: Arc::new(OnceCell::new_with(Some(engine))),
        }
    }

    /// The domain's engine and version: `GET /` on the first call, then cached.
    pub async fn engine(&self) -> Result<Engine, ApiError> {
        self.engine
            .get_or_try_init(|| async {
                let info = self.cluster_info().await?;
                let engine = info.engine()?;
                tracing::debug!(%engine, "the domain's engine");
                Ok::<Engine, ApiError>(engine)
            })
            .await
            .copied()
    }

    /// What the domain's engine version accepts and writes.
    pub async fn capabilities(&self) -> Result<Capabilities, ApiError> {
        Ok(self.engine().await?.capabilities())
    }

    pub fn domain(&self) -> &DomainClient {
        &self.domain
    }

    /// `GET /`.
    pub async fn cluster_info(&self) -> Result<ClusterInfo, ApiError> {
        self.json(DomainRequest::get::<&str>(&[]), "cluster info")
            .await
    }

    /// `PUT _snapshot/<repo>`. Idempotent: the same definition twice is the same repository.
    pub async fn put_repository(
        &self,
        repository: &str,
        definition: &Repository,
        verify: bool,
    ) -> Result<(), ApiError> {
        concrete("repository", repository)?;
        let mut request = DomainRequest::new(Method::PUT, &["_snapshot", repository])
            .json_body(to_body(definition)?)
            .idempotent();
        if !verify {
            request = request.query("verify", "false");
        }
        self.acknowledged(request).await
    }

    /// `GET _snapshot/<repo>`; `None` when the repository does not exist.
    pub async fn get_repository(&self, repository: &str) -> Result<Option<Repository>, ApiError> {
        named("repository", repository)?;
        let request = DomainRequest::get(&["_snapshot", repository]);
        match self
            .json::<BTreeMap<String, Repository>>(request, "repository")
            .await
        {
            Ok(mut found) => Ok(found.remove(repository)),
            Err(ApiError::RepositoryMissing { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET _snapshot`: every registered repository (AWS's own `cs-automated*` ones included,
    /// with empty settings).
    pub async fn get_repositories(&self) -> Result<BTreeMap<String, Repository>, ApiError> {
        self.json(DomainRequest::get(&["_snapshot"]), "repositories")
            .await
    }

    /// `POST _snapshot/<repo>/_verify`: the domain writes and deletes a test blob.
    pub async fn verify_repository(&self, repository: &str) -> Result<VerifyResponse, ApiError> {
        named("repository", repository)?;
        let request =
            DomainRequest::new(Method::POST, &["_snapshot", repository, "_verify"]).idempotent();
        self.json(request, "repository verification").await
    }

    /// `DELETE _snapshot/<repo>` (unregisters; the bucket's contents stay).
    pub async fn delete_repository(&self, repository: &str) -> Result<(), ApiError> {
        concrete("repository", repository)?;
        self.acknowledged(DomainRequest::new(
            Method::DELETE,
            &["_snapshot", repository],
        ))
        .await
    }

    /// `PUT _snapshot/<repo>/<snapshot>`. Never retried blindly: after a timeout, look the
    /// snapshot up instead.
    pub async fn create_snapshot(
        &self,
        repository: &str,
        snapshot: &str,
        body: &CreateSnapshotRequest,
        wait_for_completion: bool,
    ) -> Result<CreateSnapshotResponse, ApiError> {
        named("repository", repository)?;
        concrete("snapshot", snapshot)?;
        if body.metadata.is_some() {
            let engine = self.engine().await?;
            if !engine.capabilities().snapshot_metadata {
                return Err(ApiError::Unsupported {
                    engine: engine.to_string(),
                    what: "snapshot metadata (Elasticsearch 7.3 and later)",
                });
            }
        }
        let request = DomainRequest::new(Method::PUT, &["_snapshot", repository, snapshot])
            .query("wait_for_completion", bool_text(wait_for_completion))
            .json_body(to_body(body)?);
        self.json(request, "snapshot creation").await
    }

    /// `GET _snapshot/<repo>/<snapshot>`.
    pub async fn get_snapshot(
        &self,
        repository: &str,
        snapshot: &str,
    ) -> Result<SnapshotInfo, ApiError> {
        named("repository", repository)?;
        named("snapshot", snapshot)?;
        let request = DomainRequest::get(&["_snapshot", repository, snapshot]);
        let response = self.send_ok(request).await?;
        let mut list = parse_snapshot_list(&response.body)?;
        match list.iter().position(|s| s.snapshot == snapshot) {
            Some(at) => Ok(list.swap_remove(at)),
            None => Err(ApiError::SnapshotMissing {
                reason: format!("[{repository}:{snapshot}] is missing"),
            }),
        }
    }

    /// `GET _snapshot/<repo>/<a>,<b>?ignore_unavailable=true`: the named snapshots in full
    /// (metadata included), read from one manifest each. A name that no longer exists is left
    /// out of the answer instead of failing the request. Every name must be a concrete one,
    /// and at least one is required; the caller keeps the list short enough for a request
    /// line (OpenSearch refuses one over 4 KB).
    pub async fn get_snapshots(
        &self,
        repository: &str,
        snapshots: &[&str],
    ) -> Result<Vec<SnapshotInfo>, ApiError> {
        named("repository", repository)?;
        if snapshots.is_empty() {
            return Err(ApiError::InvalidArgument("no snapshot named".into()));
        }
        for snapshot in snapshots {
            concrete("snapshot", snapshot)?;
        }
        let names = snapshots.join(",");
        let request = DomainRequest::get(&["_snapshot", repository, &names])
            .query("ignore_unavailable", "true");
        let response = self.send_ok(request).await?;
        parse_snapshot_list(&response.body)
    }

    /// `GET _snapshot/<repo>/_all`. `verbose=false` reads only the repository index on the
    /// domain (cheap with thousands of snapshots) but carries no times. The answer is parsed
    /// straight from the received bytes (see [`parse_snapshot_list`]).
    pub async fn list_snapshots(
        &self,
        repository: &str,
        verbose: bool,
    ) -> Result<Vec<SnapshotInfo>, ApiError> {
        named("repository", repository)?;
        let mut request = DomainRequest::get(&["_snapshot", repository, "_all"]);
        if !verbose {
            let engine = self.engine().await?;
            if !engine.capabilities().verbose_listing_param {
                return Err(ApiError::Unsupported {
                    engine: engine.to_string(),
                    what: "brief snapshot listings (`verbose=false`, Elasticsearch 5.5 and later)",
                });
            }
            request = request.query("verbose", "false");
        }
        let response = self.send_ok(request).await?;
        parse_snapshot_list(&response.body)
    }

    /// `GET _cat/snapshots/<repo>?format=json`: one row per snapshot, with start and end
    /// times, read from the same repository data as a verbose listing.
    pub async fn cat_snapshots(&self, repository: &str) -> Result<Vec<CatSnapshot>, ApiError> {
        named("repository", repository)?;
        let request =
            DomainRequest::get(&["_cat", "snapshots", repository]).query("format", "json");
        self.json(request, "snapshot table").await
    }

    /// `GET _snapshot/<repo>/<snapshot>/_status`: shard and byte progress.
    pub async fn snapshot_status(
        &self,
        repository: &str,
        snapshot: &str,
    ) -> Result<SnapshotStatus, ApiError> {
        named("repository", repository)?;
        concrete("snapshot", snapshot)?;
        let request = DomainRequest::get(&["_snapshot", repository, snapshot, "_status"]);
        let mut list: StatusList = self.json(request, "snapshot status").await?;
        list.snapshots
            .pop()
            .ok_or_else(|| ApiError::SnapshotMissing {
                reason: format!("[{repository}:{snapshot}] has no status"),
            })
    }

    /// `DELETE _snapshot/<repo>/<a>,<b>`: one request for several snapshots where the engine
    /// takes a list (Elasticsearch 7.8 and later, OpenSearch), else one request per name, in
    /// order, stopping at the first refusal. Every name must be a concrete one (no wildcard,
    /// no `_all`), and at least one is required.
    pub async fn delete_snapshots(
        &self,
        repository: &str,
        snapshots: &[&str],
    ) -> Result<(), ApiError> {
        named("repository", repository)?;
        if snapshots.is_empty() {
            return Err(ApiError::InvalidArgument(
                "no snapshot named for deletion".into(),
            ));
        }
        for snapshot in snapshots {
            concrete("snapshot", snapshot)?;
        }
        let per_request = self
            .capabilities()
            .await?
            .snapshots_per_delete(snapshots.len());
        for batch in snapshots.chunks(per_request) {
            let names = batch.join(",");
            self.acknowledged(DomainRequest::new(
                Method::DELETE,
                &["_snapshot", repository, &names],
            ))
            .await?;
        }
        Ok(())
    }

    /// `POST _snapshot/<repo>/<snapshot>/_restore`. Not idempotent: never retried after the
    /// domain may have started it.
    pub async fn restore(
        &self,
        repository: &str,
        snapshot: &str,
        body: &RestoreRequest,
        wait_for_completion: bool,
    ) -> Result<RestoreResponse, ApiError> {
        named("repository", repository)?;
        concrete("snapshot", snapshot)?;
        let request = DomainRequest::new(
            Method::POST,
            &["_snapshot", repository, snapshot, "_restore"],
        )
        .query("wait_for_completion", bool_text(wait_for_completion))
        .json_body(to_body(body)?);
        self.json(request, "restore").await
    }

    /// `GET _cat/indices[/<pattern>]?format=json&bytes=b&expand_wildcards=all`: every index,
    /// hidden and closed ones included, sizes in bytes. Before Elasticsearch 7.7 the endpoint
    /// refuses `expand_wildcards`; there its default already lists open and closed indices,
    /// and no index is hidden, so the answer is the same without it.
    pub async fn cat_indices(&self, pattern: Option<&str>) -> Result<Vec<CatIndex>, ApiError> {
        let mut segments = vec!["_cat", "indices"];
        segments.extend(pattern.filter(|p| !p.is_empty()));
        let mut request = DomainRequest::get(&segments)
            .query("format", "json")
            .query("bytes", "b");
        if self.capabilities().await?.expand_wildcards_on_cat_indices {
            request = request.query("expand_wildcards", "all");
        }
        self.json(request, "index listing").await
    }

    /// `GET _cat/allocation?format=json&bytes=b`: each data node's shard copies and disk.
    pub async fn cat_allocation(&self) -> Result<Vec<CatAllocation>, ApiError> {
        let request = DomainRequest::get(&["_cat", "allocation"])
            .query("format", "json")
            .query("bytes", "b");
        self.json(request, "allocation").await
    }

    /// `GET _cat/shards/<indices>?format=json&h=...`: each copy of the named indices' shards,
    /// its state and why it is unassigned. The names must exist (the API takes no
    /// `ignore_unavailable`); the caller keeps the URL within the request line.
    pub async fn cat_shards(&self, indices: &[&str]) -> Result<Vec<CatShard>, ApiError> {
        let names = indices.join(",");
        let request = DomainRequest::get(&["_cat", "shards", &names])
            .query("format", "json")
            .query(
                "h",
                "index,shard,prirep,state,unassigned.reason,unassigned.details",
            );
        self.json(request, "shard listing").await
    }

    /// `GET _plugins/_security/authinfo`, then Open Distro's `_opendistro/_security/authinfo`
    /// (the only prefix on Elasticsearch): the caller's user and roles under fine-grained
    /// access control; `None` where no security plugin answers (no handler: 400, or 404).
    /// It needs no permission, and no `GET /` first: a caller mapped to no role can still
    /// learn that it is.
    pub async fn authinfo(&self) -> Result<Option<AuthInfo>, ApiError> {
        for prefix in ["_plugins", "_opendistro"] {
            let request = DomainRequest::get(&[prefix, "_security", "authinfo"]);
            match self.json::<AuthInfo>(request, "authinfo").await {
                Ok(info) => return Ok(Some(info)),
                Err(ApiError::Server { status, .. })
                    if status == http::StatusCode::BAD_REQUEST
                        || status == http::StatusCode::NOT_FOUND => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// `GET <selection>/_settings/index.routing.allocation.require.box_type`: every index the
    /// selection reaches (open, closed and, where the engine has them, hidden ones, as a
    /// snapshot's selection does), each with its UltraWarm box type if it has one.
    pub async fn box_types(&self, selection: &str) -> Result<SettingsByIndex, ApiError> {
        named("selection", selection)?;
        let expand = if self.capabilities().await?.hidden_indices {
            "all"
        } else {
            "open,closed"
        };
        let request = DomainRequest::get(&[selection, "_settings", BOX_TYPE_SETTING])
            .query("flat_settings", "true")
            .query("expand_wildcards", expand)
            .query("ignore_unavailable", "true")
            .query("allow_no_indices", "true");
        self.json(request, "index tiers").await
    }

    /// `GET _cold/indices/_search`: the first page of the domain's cold indexes.
    pub async fn cold_indices(&self) -> Result<ColdIndices, ApiError> {
        let request = DomainRequest::get(&["_cold", "indices", "_search"]);
        self.json(request, "cold indices").await
    }

    /// `GET <a>,<b>`: the named indices' aliases, mappings and settings. Concrete names only
    /// (hidden and closed ones resolve by name), at least one; the caller keeps the list within
    /// the request line.
    pub async fn get_indices(&self, indices: &[&str]) -> Result<IndicesByName, ApiError> {
        let names = concrete_list(indices, "reading")?;
        self.json(DomainRequest::get(&[names.as_str()]), "index descriptions")
            .await
    }

    /// `DELETE <a>,<b>`: concrete names only, so a stray wildcard can never delete more.
    pub async fn delete_indices(&self, indices: &[&str]) -> Result<(), ApiError> {
        let names = concrete_list(indices, "deletion")?;
        self.acknowledged(DomainRequest::new(Method::DELETE, &[names.as_str()]))
            .await
    }

    /// `POST <a>,<b>/_close`: concrete names only. Closing a closed index changes nothing, so
    /// the call is retried like a read. Amazon OpenSearch Service accepts it from
    /// Elasticsearch 7.4 on (`Capabilities::close_index`).
    pub async fn close_indices(&self, indices: &[&str]) -> Result<(), ApiError> {
        let names = concrete_list(indices, "closing")?;
        let request = DomainRequest::new(Method::POST, &[names.as_str(), "_close"]).idempotent();
        self.acknowledged(request).await
    }

    /// `POST <a>,<b>/_open`: concrete names only; opening an open index changes nothing.
    pub async fn open_indices(&self, indices: &[&str]) -> Result<(), ApiError> {
        let names = concrete_list(indices, "opening")?;
        let request = DomainRequest::new(Method::POST, &[names.as_str(), "_open"]).idempotent();
        self.acknowledged(request).await
    }

    /// The cluster's shard limit: `cluster.max_shards_per_node` (`GET _cluster/settings`
    /// with defaults, flat) and the data nodes it applies to (`GET _cluster/health`).
    pub async fn shard_limit(&self) -> Result<ShardLimit, ApiError> {
        let settings = DomainRequest::get(&["_cluster", "settings"])
            .query("include_defaults", "true")
            .query("flat_settings", "true");
        let settings: ClusterSettings = self.json(settings, "cluster settings").await?;
        let health: ClusterHealth = self
            .json(
                DomainRequest::get(&["_cluster", "health"]),
                "cluster health",
            )
            .await?;
        Ok(ShardLimit {
            max_per_node: settings.max_shards_per_node(),
            data_nodes: health.number_of_data_nodes,
        })
    }

    /// `GET [<pattern>/]_alias`.
    pub async fn get_aliases(&self, pattern: Option<&str>) -> Result<AliasesByIndex, ApiError> {
        let mut segments: Vec<&str> = pattern.into_iter().filter(|p| !p.is_empty()).collect();
        segments.push("_alias");
        let request = DomainRequest::get(&segments).query("expand_wildcards", "all");
        self.json(request, "aliases").await
    }

    /// `POST _aliases`: applied atomically by the domain.
    pub async fn update_aliases(&self, actions: &[AliasAction]) -> Result<(), ApiError> {
        #[derive(Serialize)]
        struct Body<'a> {
            actions: &'a [AliasAction],
        }
        if actions.is_empty() {
            return Err(ApiError::InvalidArgument("no alias action given".into()));
        }
        let request = DomainRequest::new(Method::POST, &["_aliases"])
            .json_body(to_body(&Body { actions })?)
            .idempotent();
        self.acknowledged(request).await
    }

    /// `GET <index>/_count`: the documents of an index (or a pattern's indices).
    pub async fn count(&self, index: &str) -> Result<u64, ApiError> {
        named("index", index)?;
        let response: CountResponse = self
            .json(DomainRequest::get(&[index, "_count"]), "document count")
            .await?;
        Ok(response.count)
    }

    /// `GET <indices>/_recovery`; no names means every index.
    pub async fn recovery(&self, indices: &[&str]) -> Result<RecoveryByIndex, ApiError> {
        let names = indices.join(",");
        let mut segments: Vec<&str> = Vec::new();
        if !names.is_empty() {
            segments.push(&names);
        }
        segments.push("_recovery");
        self.json(DomainRequest::get(&segments), "recovery").await
    }

    /// `GET <indices>/_recovery?ignore_unavailable=true`: as [`SnapshotApi::recovery`], with
    /// the indices that do not exist left out instead of failing the call.
    pub async fn recovery_of_existing(
        &self,
        indices: &[&str],
    ) -> Result<RecoveryByIndex, ApiError> {
        if indices.is_empty() {
            return Ok(RecoveryByIndex::new());
        }
        let names = indices.join(",");
        let request =
            DomainRequest::get(&[names.as_str(), "_recovery"]).query("ignore_unavailable", "true");
        self.json(request, "recovery").await
    }

    /// Sends `request` and turns an error status into an [`ApiError`]. Logs the method, path
    /// and classified error, never a body.
    async fn send_ok(&self, request: DomainRequest) -> Result<DomainResponse, ApiError> {
        let response = self.domain.send(&request).await?;
        if response.status.is_success() {
            return Ok(response);
        }
        let error = parse_error(response.status, &response.body);
        tracing::debug!(
            method = %request.method(), path = request.path(), status = response.status.as_u16(),
            attempts = response.attempts, error = %error, "the domain refused the request"
        );
        Err(error)
    }

    async fn json<T: DeserializeOwned>(
        &self,
        request: DomainRequest,
        what: &'static str,
    ) -> Result<T, ApiError> {
        let response = self.send_ok(request).await?;
        serde_json::from_slice(&response.body).map_err(|source| {
            tracing::warn!(
                what, status = response.status.as_u16(), bytes = response.body.len(),
                error = %source, "the domain's answer does not have the expected shape"
            );
            ApiError::Decode { what, source }
        })
    }

    async fn acknowledged(&self, request: DomainRequest) -> Result<(), ApiError> {
        self.send_ok(request).await.map(|_| ())
    }
}

/// A name that must not be empty.
fn named(kind: &str, name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::InvalidArgument(format!("no {kind} name given")));
    }
    Ok(())
}

/// `a,b`, from names each concrete, at least one.
fn concrete_list(indices: &[&str], purpose: &str) -> Result<String, ApiError> {
    if indices.is_empty() {
        return Err(ApiError::InvalidArgument(format!(
            "no index named for {purpose}"
        )));
    }
    for index in indices {
        concrete("index", index)?;
    }
    Ok(indices.join(","))
}

/// A single concrete name: no wildcard, no list, not `_all`.
fn concrete(kind: &str, name: &str) -> Result<(), ApiError> {
    named(kind, name)?;
    if name.contains(['*', ',']) || name == "_all" {
        return Err(ApiError::InvalidArgument(format!(
            "`{name}` is not a concrete {kind} name"
        )));
    }
    Ok(())
}

fn to_body<T: Serialize>(body: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|source| ApiError::Decode {
            what: "request body",
            source,
        })
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(named("repository", "nightly").is_ok());
        assert!(matches!(
            named("repository", " "),
            Err(ApiError::InvalidArgument(_))
        ));
        assert!(concrete("snapshot", "nightly-2026.11.28").is_ok());
        for bad in ["", "*", "nightly-*", "a,b", "_all"] {
            assert!(
                matches!(concrete("snapshot", bad), Err(ApiError::InvalidArgument(_))),
                "{bad}"
            );
        }
    }
}
