//! snapshot: start a snapshot, safe to retry.
//!
//! A create is sent once. If the domain answers that the name exists (a retried invocation),
//! or the answer is lost (a 504 from the AWS gateway, a broken connection) the snapshot is
//! looked up instead of sending the create again.
//!
//! Just before the create, the indices it selects are read for the snapshot's manifest
//! (`crate::manifest`), which is written once the domain has taken the create. A manifest is
//! written only from counts read before this invocation's own create: a retried invocation
//! that finds the snapshot already taken keeps the earlier invocation's manifest, and writes
//! none when there is none (its counts would be read after the snapshot began).

use policy::indices::{IndexSelection, backing_stream};
use policy::naming::{DEFAULT_TEMPLATE, NameTemplate};
use serde_json::Value;
use snapshot_api::snapshot::CreateSnapshotRequest;
use snapshot_api::{ApiError, SnapshotApi};

use crate::OsnapError;
use crate::api_error::{Subject, from_api};
use crate::bounded::Bounded;
use crate::cold_tier::{self, ColdListing};
use crate::context::Context;
use crate::contract::{Target, parse_event, parse_rfc3339_utc};
use crate::manifest::{self, Lookup, Manifest, ManifestStore, StoreMissing};
use crate::requests::{
    ColdReport, ManifestNote, SnapshotRequest, SnapshotResponse, WarmChoice, WarmReport,
};
use crate::validate::validate_repository_name;

/// Handles one `snapshot` event.
pub async fn handle(ctx: Context, event: Value) -> Result<SnapshotResponse, OsnapError> {
    let (request, target) = parse_event::<SnapshotRequest>(event, &ctx.defaults)?;
    snapshot(&ctx, &request, &target).await
}

pub async fn snapshot(
    ctx: &Context,
    request: &SnapshotRequest,
    target: &Target,
) -> Result<SnapshotResponse, OsnapError> {
    let repository = target.repository.as_str();
    validate_repository_name(repository)?;
    let template = NameTemplate::parse(request.snapshot.as_deref().unwrap_or(DEFAULT_TEMPLATE))
        .map_err(|e| OsnapError::invalid(e.to_string()))?;
    // A time that travels with the event keeps the name stable when it is retried.
    let time = match request.time.as_deref() {
        Some(text) => parse_rfc3339_utc(text).ok_or_else(|| {
            OsnapError::invalid(format!("time `{text}` is not an RFC 3339 UTC time"))
        })?,
        None => target.event_time.unwrap_or_else(|| ctx.now()),
    };
    let name = template
        .expand(time)
        .map_err(|e| OsnapError::invalid(e.to_string()))?;
    let api = ctx.api(target).await?;
    let subject = Subject {
        repository,
        snapshot: Some(&name),
    };
    let engine = api.engine().await.map_err(|e| from_api(e, subject))?;
    let mut body = create_body(request, engine.capabilities().snapshot_metadata).map_err(|()| {
        OsnapError::invalid(format!(
            "{engine} keeps no snapshot metadata (Elasticsearch 7.3 and later do): leave `metadata` out"
        ))
    })?;
    let pattern = body.indices.clone().unwrap_or_default();
    let tiers = read_tiers(&api, &pattern)
        .await
        .map_err(|e| from_api(e, subject))?;
    if let Some(names) = explicit_hot_names(&tiers, &pattern)? {
        body.indices = Some(names);
    }
    let report = TierOutcome {
        hot: Bounded::from_slice(&tiers.hot),
        warm: warm_report(request.warm, &tiers.warm),
        cold: cold_report(cold_tier::list(&api, target.domain.is_self_managed()).await),
    };
    tracing::info!(
        repository, snapshot = %name, hot = tiers.hot.len(), warm = tiers.warm.len(),
        warm_indices = ?tiers.warm, cold = report.cold.indices.count, "indices by tier"
    );
    let response = |state: &str, started: bool, note: ManifestNote| {
        let mut r = response(repository, &name, state, started, note);
        r.hot = report.hot.clone();
        r.warm = report.warm.clone();
        r.cold = report.cold.clone();
        r
    };
    let recorded = read_manifest(ctx, target, &api, request, &name).await;
    let outcome = api.create_snapshot(repository, &name, &body, false).await;

    let existing = match outcome {
        Ok(_) => {
            tracing::info!(repository, snapshot = %name, "snapshot started");
            let note = write_manifest(recorded).await;
            return Ok(response("IN_PROGRESS", true, note));
        }
        Err(ApiError::InvalidSnapshotName {
            already_exists: true,
            ..
        }) => Existing::AlreadyThere,
        Err(ApiError::ConcurrentSnapshotExecution { reason }) => Existing::BusyWith(reason),
        Err(error) if answer_was_lost(&error) => {
            tracing::warn!(repository, snapshot = %name, %error, "create answer lost; looking the snapshot up");
            Existing::Unknown(error)
        }
        Err(error) => return Err(from_api(error, subject)),
    };

    // Decide from what the domain says now, never by sending the create again.
    match api.get_snapshot(repository, &name).await {
        Ok(info) => {
            let state = info.state.as_ref().map_or("IN_PROGRESS", |s| s.as_str());
            let started = matches!(existing, Existing::Unknown(_));
            // Only this invocation's create (its answer lost) makes its counts the ones read
            // before the snapshot.
            let note = keep_or_write_manifest(recorded, started).await;
            Ok(response(state, started, note))
        }
        Err(ApiError::SnapshotMissing { .. }) => Err(match existing {
            Existing::BusyWith(message) => OsnapError::SnapshotInProgress { message },
            Existing::Unknown(error) => {
                // The create may still be queued on the domain: its counts, read before it,
                // are recorded now so the retry that finds the snapshot keeps them.
                let note = write_manifest(recorded).await;
                tracing::warn!(repository, snapshot = %name, manifest = ?note, "the lost create is not visible (yet)");
                from_api(error, subject)
            }
            Existing::AlreadyThere => OsnapError::SnapshotInProgress {
                message: format!("`{name}` was reported to exist but cannot be read yet"),
            },
        }),
        Err(error) => Err(from_api(error, subject)),
    }
}

/// The selection's indices by UltraWarm tier, sorted.
struct Tiers {
    hot: Vec<String>,
    warm: Vec<String>,
}

/// What the response says about the tiers.
struct TierOutcome {
    hot: Bounded,
    warm: WarmReport,
    cold: ColdReport,
}

/// Resolves the selection on the domain, with each index's box type (warm indexes carry
/// `index.routing.allocation.require.box_type: warm`, ultrawarm.md, "Migrating indexes to
/// UltraWarm storage"). One request whatever the number of indices.
async fn read_tiers(api: &SnapshotApi, pattern: &str) -> Result<Tiers, ApiError> {
    let by_index = api.box_types(pattern).await?;
    let (warm, hot): (Vec<_>, Vec<_>) = by_index.iter().partition(|(_, s)| s.is_warm());
    Ok(Tiers {
        hot: hot.into_iter().map(|(n, _)| n.clone()).collect(),
        warm: warm.into_iter().map(|(n, _)| n.clone()).collect(),
    })
}

/// The create's `indices`: the hot indices by name, so that no wildcard reaches a warm index
/// (AWS fails such a snapshot). They go in the body, which has no 4 KB limit, and with
/// `ignore_unavailable` (sent on every create) an index deleted since the read is skipped,
/// not a failure. An empty selection keeps its pattern (nothing to name); one that reaches
/// only warm indices has nothing to snapshot and is refused.
///
/// A data stream is named by its own name when all its backing indices are hot: the engine
/// records in a snapshot only the streams its request names (`SnapshotsService` resolves the
/// request's expressions with `dataStreamNames`), and only a recorded stream restores as a
/// stream. Naming its backing indices one by one would keep their documents but lose the
/// stream.
fn explicit_hot_names(tiers: &Tiers, pattern: &str) -> Result<Option<String>, OsnapError> {
    match (tiers.hot.is_empty(), tiers.warm.is_empty()) {
        (true, true) => Ok(None),
        (true, false) => Err(OsnapError::invalid(format!(
            "the selection `{}` reaches only warm indices ({}), which the snapshot skips",
            policy::quote::short(pattern),
            tiers.warm.len()
        ))),
        (false, _) => Ok(Some(hot_names_with_streams(tiers).join(","))),
    }
}

/// The hot indices, each backing index of a stream with no warm backing index replaced by its
/// stream's name (once).
fn hot_names_with_streams(tiers: &Tiers) -> Vec<String> {
    let partly_warm: Vec<&str> = tiers
        .warm
        .iter()
        .filter_map(|i| backing_stream(i))
        .collect();
    let mut names: Vec<String> = Vec::new();
    for index in &tiers.hot {
        match backing_stream(index) {
            Some(stream) if !partly_warm.contains(&stream) => {
                if !names.iter().any(|n| n == stream) {
                    names.push(stream.to_owned());
                }
            }
            _ => names.push(index.clone()),
        }
    }
    names
}

fn warm_report(choice: WarmChoice, warm: &[String]) -> WarmReport {
    let note = match choice {
        WarmChoice::Skip if warm.is_empty() => "no warm index selected".to_owned(),
        WarmChoice::Skip => format!(
            "{} warm indices skipped: AWS's automated `{ULTRAWARM_REPOSITORY}` repository \
             holds a snapshot of each, taken when it migrated",
            warm.len()
        ),
    };
    WarmReport {
        choice,
        indices: Bounded::from_slice(warm),
        note,
    }
}

/// AWS's automated repository for warm indexes (ultrawarm.md, "Restoring warm indexes from
/// snapshots").
const ULTRAWARM_REPOSITORY: &str = "cs-ultrawarm";

/// The report of the domain's cold indices, from the first page of the listing
/// (cold-storage.md, "Listing cold indexes"). The snapshot goes on whatever it says.
fn cold_report(listing: ColdListing) -> ColdReport {
    match listing {
        ColdListing::Listed(page) => {
            let names: Vec<&str> = page.indices.iter().map(|c| c.index.as_str()).collect();
            let mut indices = Bounded::from_slice(&names);
            let total = page
                .total_results
                .and_then(|t| usize::try_from(t).ok())
                .unwrap_or(names.len());
            if total > indices.count {
                indices.count = total;
                indices.truncated = true;
            }
            let note = format!(
                "{} cold indices: detached from the cluster, in no snapshot of it",
                indices.count
            );
            ColdReport {
                listed: true,
                indices,
                note,
            }
        }
        ColdListing::NoTier => ColdReport {
            listed: false,
            indices: Bounded::default(),
            note: "a self-managed cluster has no cold storage (an Amazon OpenSearch Service tier)"
                .into(),
        },
        ColdListing::Refused(error) => {
            tracing::info!(%error, "no cold index listing");
            ColdReport {
                listed: false,
                indices: Bounded::default(),
                note: format!(
                    "the domain did not list cold indices (`_cold/indices/_search`: {}); taken \
                     as no cold storage",
                    policy::quote::bounded_message(&error.to_string())
                ),
            }
        }
    }
}

/// What a failed create leaves us knowing.
enum Existing {
    /// The name exists: an earlier invocation created it.
    AlreadyThere,
    /// Another snapshot is running (maybe this very one, from an earlier invocation).
    BusyWith(String),
    /// The answer was lost; the domain may or may not have started it.
    Unknown(ApiError),
}

/// Whether the domain may have acted on a request whose answer never arrived.
pub(crate) fn answer_was_lost(error: &ApiError) -> bool {
    match error {
        ApiError::Unavailable { status, .. } => status.as_u16() == 504 || status.as_u16() == 502,
        ApiError::Transport(signing::SigningError::Transport { .. }) => true,
        _ => false,
    }
}

/// The create body. Where the engine keeps no metadata (before Elasticsearch 7.3) none is
/// sent, and a request that asks for some is refused (`Err`): a pin that is not stored would
/// not protect anything.
fn create_body(
    request: &SnapshotRequest,
    keeps_metadata: bool,
) -> Result<CreateSnapshotRequest, ()> {
    let selection = request
        .indices
        .as_deref()
        .map_or_else(IndexSelection::all, IndexSelection::new);
    let metadata = if keeps_metadata {
        let mut metadata = request.metadata.clone().unwrap_or_default();
        metadata
            .entry("taken_by")
            .or_insert_with(|| Value::String("osnap".into()));
        Some(metadata)
    } else if request.metadata.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(());
    } else {
        None
    };
    Ok(CreateSnapshotRequest {
        indices: Some(selection.to_request_string()),
        ignore_unavailable: Some(true),
        include_global_state: Some(request.include_global_state),
        partial: Some(request.partial),
        metadata,
    })
}

fn response(
    repository: &str,
    snapshot: &str,
    state: &str,
    started: bool,
    manifest: ManifestNote,
) -> SnapshotResponse {
    SnapshotResponse {
        repository: repository.to_owned(),
        snapshot: snapshot.to_owned(),
        state: state.to_owned(),
        started,
        hot: Bounded::default(),
        warm: warm_report(WarmChoice::default(), &[]),
        cold: ColdReport {
            listed: false,
            indices: Bounded::default(),
            note: String::new(),
        },
        manifest,
    }
}

/// The manifest's first reading and where it goes, or why there is none. Never fails the
/// snapshot: a backup without a manifest is still a backup.
type Recorded = Result<(ManifestStore, Manifest), String>;

async fn read_manifest(
    ctx: &Context,
    target: &Target,
    api: &SnapshotApi,
    request: &SnapshotRequest,
    name: &str,
) -> Recorded {
    let selection = request
        .indices
        .as_deref()
        .map_or_else(IndexSelection::all, IndexSelection::new);
    let manifest = manifest::record_before(api, &target.repository, name, &selection, ctx.now())
        .await
        .map_err(|e| format!("the indices could not be read before the snapshot: {e}"))?;
    match ManifestStore::of_repository(ctx, target).await {
        Ok(store) => Ok((store, manifest)),
        Err(StoreMissing::NoBucket(why)) => Err(why),
        Err(StoreMissing::Failed(error)) => Err(format!(
            "the repository's bucket could not be reached: {error}"
        )),
    }
}

async fn write_manifest(recorded: Recorded) -> ManifestNote {
    let (store, manifest) = match recorded {
        Ok(found) => found,
        Err(why) => return ManifestNote::not_recorded(&why),
    };
    match store.put(&manifest).await {
        Ok(key) => {
            tracing::info!(key, indices = manifest.indices.len(), "manifest written");
            ManifestNote::written(key)
        }
        Err(error) => {
            ManifestNote::not_recorded(&format!("the manifest could not be written: {error}"))
        }
    }
}

/// After a create that found the snapshot there: an earlier invocation's manifest is kept;
/// without one, this invocation's is written only if its own create was taken.
async fn keep_or_write_manifest(recorded: Recorded, own_create: bool) -> ManifestNote {
    let (store, manifest) = match recorded {
        Ok(found) => found,
        Err(why) => return ManifestNote::not_recorded(&why),
    };
    match store.get(&manifest.snapshot).await {
        Ok(Lookup::Found(_)) => ManifestNote::kept(store.location().key(&manifest.snapshot)),
        Ok(Lookup::Missing(_)) if own_create => write_manifest(Ok((store, manifest))).await,
        Ok(Lookup::Missing(_)) => ManifestNote::not_recorded(
            "the snapshot was started by an earlier invocation, which wrote no manifest; counts \
             read now would be read after it began",
        ),
        Err(error) => {
            ManifestNote::not_recorded(&format!("the manifest could not be looked up: {error}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_all_hot_stream_is_named_by_its_stream_and_a_partly_warm_one_by_its_indices() {
        let tiers = Tiers {
            hot: vec![
                ".ds-app-000001".into(),
                ".ds-app-000002".into(),
                ".ds-web-000002".into(),
                "logs-1".into(),
            ],
            warm: vec![".ds-web-000001".into(), "logs-0".into()],
        };
        assert_eq!(
            hot_names_with_streams(&tiers),
            ["app", ".ds-web-000002", "logs-1"]
        );
        assert_eq!(
            explicit_hot_names(&tiers, "*").unwrap().as_deref(),
            Some("app,.ds-web-000002,logs-1")
        );
    }

    fn request(json: Value) -> SnapshotRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn default_body_excludes_system_indices_and_tags_osnap() {
        let excluded: Vec<String> = policy::indices::SYSTEM_INDEX_PATTERNS
            .iter()
            .map(|p| format!("-{p}"))
            .collect();
        let excluded = excluded.join(",");
        let body = create_body(&request(serde_json::json!({})), true).unwrap();
        assert_eq!(body.indices.unwrap(), format!("*,{excluded}"));
        assert!(!excluded.contains("-.*,") && excluded.contains("-.kibana*"));
        assert_eq!(body.include_global_state, Some(false));
        assert_eq!(body.metadata.unwrap()["taken_by"], "osnap");
        let asked = request(serde_json::json!({
            "indices": ["logs-*"], "metadata": {"taken_by": "ops", "ticket": 7}, "partial": true
        }));
        let body = create_body(&asked, true).unwrap();
        assert_eq!(body.indices.unwrap(), format!("logs-*,{excluded}"));
        assert_eq!(body.partial, Some(true));
        assert_eq!(body.metadata.unwrap()["taken_by"], "ops");
    }

    #[test]
    fn no_metadata_where_the_engine_keeps_none() {
        let body = create_body(&request(serde_json::json!({})), false).unwrap();
        assert!(body.metadata.is_none());
        let asked = request(serde_json::json!({"metadata": {"pinned": true}}));
        assert!(create_body(&asked, false).is_err());
    }
}
