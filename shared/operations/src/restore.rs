//! restore: bring indices back from a snapshot without losing any.
//!
//! The plan is worked out first, from the snapshot and the cluster as they are, and checked
//! whole; only then is anything changed (`dry_run` stops after the plan):
//! - system indices are never restored or replaced unless named (`.kibana*`, `.opendistro*`,
//!   `.plugins*`, `.tasks`, anything starting with `.`);
//! - a snapshot that is not SUCCESS is refused (PARTIAL only with `partial: true`);
//! - `fail` (default): any existing index with a target name stops the restore;
//!   `rename`: indices are restored under new names, which must be free;
//!   `replace`: existing indices are restored over in place, only when the snapshot is
//!   SUCCESS and holds an index of that very name, and never while an alias on them has moved
//!   on to another index (restoring the aliases would point them back at the old data);
//! - a target name that is an alias on the domain, and settings a restore may not change or
//!   drop, are refused before anything changes.
//!
//! `replace` never deletes. The engine restores over an existing index only when it is closed
//! (`RestoreService.validateExistingIndex`), keeping its UUID, so replace closes the indices it
//! replaces and restores over them in one request, which the domain accepts or refuses whole
//! (shard counts, the shard limit, name clashes, settings). On a refusal the closed indices are
//! opened again, unchanged. Amazon OpenSearch Service closes indices only from Elasticsearch
//! 7.4 on (the engine table's `close_index`): on older domains replace is refused, since it
//! could only delete first.
//!
//! A restore is idempotent: an index whose primary shards the domain is restoring (or has
//! restored) from this very snapshot and repository is this restore's own work, from an
//! earlier invocation whose answer was lost. It is neither a conflict nor replaced again, nor
//! restored again. When the answer to the restore itself is lost (the gateway's 504, a broken
//! connection), the recoveries say whether the domain accepted it. An invocation that ends
//! between the close and the restore leaves the indices closed, never gone: the next one
//! closes them again (a no-op) and restores.

use std::collections::{BTreeMap, BTreeSet};

use policy::engines::Capabilities;
use policy::indices::{IndexSelection, backing_stream, is_system_index};
use policy::restore_rules;
use regex::Regex;
use serde_json::Value;
use snapshot_api::cluster::ShardLimit;
use snapshot_api::indices::{AliasesByIndex, CatIndex};
use snapshot_api::restore::RestoreRequest as RestoreBody;
use snapshot_api::snapshot::{SnapshotInfo, SnapshotState};
use snapshot_api::{ApiError, SnapshotApi};

use crate::OsnapError;
use crate::api_error::{Subject, from_api};
use crate::bounded::Bounded;
use crate::context::Context;
use crate::contract::{DomainInput, Target, parse_event};
use crate::listing::newest_name;
use crate::name_batches;
use crate::preflight;
use crate::requests::{
    OnConflict, RestoreRequest, RestoreResponse, RestoreSelection, RestoredIndex,
};

/// What `on_conflict: rename` uses when no pattern is given.
const DEFAULT_RENAME_PATTERN: &str = "(.+)";
const DEFAULT_RENAME_REPLACEMENT: &str = "restored-$1";

/// Handles one `restore` event.
pub async fn handle(ctx: Context, event: Value) -> Result<RestoreResponse, OsnapError> {
    let (request, target) = parse_event::<RestoreRequest>(event, &ctx.defaults)?;
    restore(&ctx, &request, &target).await
}

pub async fn restore(
    ctx: &Context,
    request: &RestoreRequest,
    target: &Target,
) -> Result<RestoreResponse, OsnapError> {
    let repository = target.repository.as_str();
    if let Some(source) = &request.source {
        return migration_preflight(ctx, request, target, source).await;
    }
    let api = ctx.api(target).await?;
    let name = if request.snapshot == "latest" {
        let usable = |s: &SnapshotState| {
            *s == SnapshotState::Success || (request.partial && *s == SnapshotState::Partial)
        };
        newest_name(
            &api,
            repository,
            &request.name_pattern,
            "successful snapshot",
            usable,
        )
        .await?
    } else {
        request.snapshot.clone()
    };
    let subject = Subject {
        repository,
        snapshot: Some(&name),
    };
    let info = api
        .get_snapshot(repository, &name)
        .await
        .map_err(|e| from_api(e, subject))?;
    let cluster = api
        .cat_indices(None)
        .await
        .map_err(|e| from_api(e, subject))?;
    let aliases = api
        .get_aliases(None)
        .await
        .map_err(|e| from_api(e, subject))?;
    let existing: BTreeSet<&str> = cluster.iter().map(|c| c.index.as_str()).collect();
    let present: Vec<RestoredIndex> = targets(&request.selection(&name), &info)?
        .into_iter()
        .filter(|r| existing.contains(r.to.as_str()))
        .collect();
    let ours = restored_from(&api, repository, &name, &present)
        .await
        .map_err(|e| from_api(e, subject))?;
    let capabilities = api.capabilities().await.map_err(|e| from_api(e, subject))?;
    let plan = plan(request, &info, &cluster, &aliases, &ours, &capabilities)?;
    if !plan.replace.is_empty() {
        // Closing makes writes fail until the restore takes over: check first what the domain
        // would refuse (the snapshot's shard counts, the shard limit).
        let status = api
            .snapshot_status(repository, &name)
            .await
            .map_err(|e| from_api(e, subject))?;
        let primaries: BTreeMap<String, u64> = status
            .indices
            .iter()
            .map(|(index, s)| (index.clone(), s.shards_stats.total))
            .collect();
        let limit = api.shard_limit().await.map_err(|e| from_api(e, subject))?;
        check_room(&plan, &cluster, &primaries, limit)?;
    }
    if !ours.is_empty() {
        tracing::info!(repository, snapshot = %name, count = ours.len(),
            "indices already being restored from this snapshot: taken as this restore's own");
    }

    if !request.dry_run
        && let Some(body) = &plan.body
    {
        let replaced: Vec<&str> = plan.replace.iter().map(String::as_str).collect();
        if !replaced.is_empty() {
            close_for_replace(&api, &replaced)
                .await
                .map_err(|e| from_api(e, subject))?;
        }
        if let Err(error) = start(&api, repository, &name, body, &plan.pending()).await {
            let error = from_api(error, subject);
            return Err(if replaced.is_empty() {
                error
            } else {
                reopen_after_refusal(&api, &replaced, error).await
            });
        }
        tracing::info!(repository, snapshot = %name, count = plan.restored.len(),
            replaced = plan.replace.len(), "restore started");
    }
    let report = if request.dry_run {
        let mut incoming = preflight::read_snapshot(&api, request, repository, &info).await?;
        incoming.incoming.retain(|i| !ours.contains(&i.to));
        let state = preflight::read_target(&api, repository).await?;
        Some(logged(preflight::check(
            &incoming,
            &state,
            request.on_conflict,
            false,
        )))
    } else {
        None
    };
    let targets: Vec<&str> = plan.restored.iter().map(|r| r.to.as_str()).collect();
    let already: Vec<&String> = ours.iter().collect();
    if targets.len() > crate::bounded::SAMPLE {
        tracing::info!(repository, snapshot = %name, restored = ?plan.restored,
            "every index of the restore, from and to");
    }
    Ok(RestoreResponse {
        repository: repository.to_owned(),
        snapshot: name,
        restored: Bounded::from_slice(&targets),
        data_streams: Bounded::from_slice(&plan.streams),
        replaced: Bounded::from_slice(&plan.replace),
        already_restoring: Bounded::from_slice(&already),
        dry_run: request.dry_run,
        preflight: report,
    })
}

/// A migration's preflight: the source domain's indices as its snapshot will take them,
/// checked against the target, before anything is registered or taken.
async fn migration_preflight(
    ctx: &Context,
    request: &RestoreRequest,
    target: &Target,
    source: &DomainInput,
) -> Result<RestoreResponse, OsnapError> {
    if !request.dry_run {
        return Err(OsnapError::invalid(
            "\"source\" is read by the dry run's preflight only: add \"dry_run\": true",
        ));
    }
    let repository = target.repository.as_str();
    let there = ctx
        .api(&Target {
            domain: source.clone(),
            repository: target.repository.clone(),
            event_time: None,
        })
        .await?;
    let here = ctx.api(target).await?;
    let incoming =
        preflight::read_source(&there, request, repository, source.is_self_managed()).await?;
    let state = preflight::read_target(&here, repository).await?;
    let report = logged(preflight::check(
        &incoming,
        &state,
        request.on_conflict,
        true,
    ));
    let targets: Vec<&str> = incoming.incoming.iter().map(|i| i.to.as_str()).collect();
    let replaced = report
        .findings
        .iter()
        .find(|f| f.code == preflight::FindingCode::ReplacesExisting)
        .map(|f| f.sample.clone())
        .unwrap_or_default();
    Ok(RestoreResponse {
        repository: repository.to_owned(),
        snapshot: request.snapshot.clone(),
        restored: Bounded::from_slice(&targets),
        data_streams: Bounded::default(),
        replaced,
        already_restoring: Bounded::default(),
        dry_run: true,
        preflight: Some(report),
    })
}

fn logged(report: preflight::PreflightReport) -> preflight::PreflightReport {
    // The answer carries the report; a blocked preflight is an outcome, not a failure.
    tracing::info!(blocking = report.blocking, warnings = report.warnings,
        findings = ?report.findings, "preflight");
    report
}

/// Indices per close or open request (names in the request line stay within 4 KB).
const STATE_CHANGE_BATCH: usize = 100;

/// Closes the indices `replace` restores over. A failure part way opens again the ones it
/// had closed, so nothing is left closed by a replace that never started.
async fn close_for_replace(api: &SnapshotApi, indices: &[&str]) -> Result<(), ApiError> {
    let room = name_batches::room(&[], "/_close");
    let mut closed: Vec<&str> = Vec::new();
    for batch in name_batches::batches(indices, STATE_CHANGE_BATCH, room, name_batches::encoded_len)
    {
        if let Err(error) = api.close_indices(batch).await {
            // The failed batch may be partly closed: open it too (opening an open index is a
            // no-op).
            closed.extend_from_slice(batch);
            if let Err(reopen) = open_all(api, &closed).await {
                tracing::error!(%reopen, indices = ?closed, "could not open again after a failed close");
            }
            return Err(error);
        }
        closed.extend_from_slice(batch);
    }
    tracing::info!(indices = ?indices, "closed the indices to be restored over");
    Ok(())
}

async fn open_all(api: &SnapshotApi, indices: &[&str]) -> Result<(), ApiError> {
    let room = name_batches::room(&[], "/_open");
    for batch in name_batches::batches(indices, STATE_CHANGE_BATCH, room, name_batches::encoded_len)
    {
        api.open_indices(batch).await?;
    }
    Ok(())
}

/// After the domain refused the restore (or its answer was lost and the recoveries show it
/// was not taken), the closed indices are opened again as they were. An index the domain
/// did start restoring is open already, so opening it changes nothing.
async fn reopen_after_refusal(
    api: &SnapshotApi,
    indices: &[&str],
    error: OsnapError,
) -> OsnapError {
    match open_all(api, indices).await {
        Ok(()) => {
            tracing::warn!(%error, indices = ?indices,
                "the restore was refused: the indices to be replaced are open again, unchanged");
            error
        }
        Err(reopen) => {
            tracing::error!(%error, %reopen, indices = ?indices,
                "the restore was refused and the indices to be replaced are still closed");
            OsnapError::UnsafeOperation {
                reason: format!(
                    "{error}; the indices to be replaced ({}) were closed for the restore and \
                     could not be opened again ({}): they are intact but closed; open them with \
                     POST <index>/_open",
                    policy::quote::short(&indices.join(",")),
                    policy::quote::short(&reopen.to_string()),
                ),
            }
        }
    }
}

/// Sends the restore. When its answer is lost, the recoveries of the indices it would create
/// say whether the domain took it: all of them restoring from this snapshot means it did.
async fn start(
    api: &SnapshotApi,
    repository: &str,
    snapshot: &str,
    body: &RestoreBody,
    pending: &[RestoredIndex],
) -> Result<(), ApiError> {
    let error = match api.restore(repository, snapshot, body, false).await {
        Ok(_) => return Ok(()),
        Err(error) if crate::snapshot::answer_was_lost(&error) => error,
        Err(error) => return Err(error),
    };
    tracing::warn!(repository, snapshot, %error, "restore answer lost; looking at the recoveries");
    let ours = restored_from(api, repository, snapshot, pending).await?;
    if !pending.is_empty() && ours.len() == pending.len() {
        tracing::info!(repository, snapshot, "the domain had accepted the restore");
        Ok(())
    } else {
        Err(error)
    }
}

/// The targets in `candidates` whose every primary shard is (being) restored from
/// `repository`/`snapshot`, from the index of the same `from` name.
async fn restored_from(
    api: &SnapshotApi,
    repository: &str,
    snapshot: &str,
    candidates: &[RestoredIndex],
) -> Result<BTreeSet<String>, ApiError> {
    let names: Vec<&str> = candidates.iter().map(|r| r.to.as_str()).collect();
    let room = name_batches::room(&[], RECOVERY_PATH_AND_QUERY);
    let mut ours = BTreeSet::new();
    for batch in name_batches::batches(&names, RECOVERY_BATCH, room, name_batches::encoded_len) {
        let recoveries = api.recovery_of_existing(batch).await?;
        for pair in candidates.iter().filter(|r| batch.contains(&r.to.as_str())) {
            let from_this_snapshot = recoveries.get(&pair.to).is_some_and(|index| {
                restored_from_snapshot(&index.shards, repository, snapshot, &pair.from)
            });
            if from_this_snapshot {
                ours.insert(pair.to.clone());
            }
        }
    }
    Ok(ours)
}

/// Indices per recovery look-up, and what follows their names in its request target.
/// Whether every primary of an index (it has at least one) is, or was, restored from
/// `repository`/`snapshot`, from the snapshot's index `from`.
pub(crate) fn restored_from_snapshot(
    shards: &[snapshot_api::recovery::ShardRecovery],
    repository: &str,
    snapshot: &str,
    from: &str,
) -> bool {
    let mut primaries = shards.iter().filter(|s| s.primary).peekable();
    primaries.peek().is_some()
        && primaries.all(|s| {
            s.recovery_type == "SNAPSHOT"
                && s.source.repository.as_deref() == Some(repository)
                && s.source.snapshot.as_deref() == Some(snapshot)
                && s.source.index.as_deref().is_none_or(|i| i == from)
        })
}

pub(crate) const RECOVERY_BATCH: usize = 100;
pub(crate) const RECOVERY_PATH_AND_QUERY: &str = "/_recovery?ignore_unavailable=true";

/// A checked restore: what will be restored over, what restored under which name, and the
/// body (`None` when every index is already being restored from this snapshot).
#[derive(Debug, Clone, PartialEq)]
pub struct RestorePlan {
    /// Every index of the restore, those already restoring included.
    pub restored: Vec<RestoredIndex>,
    /// The data streams restored, by their names on the target.
    pub streams: Vec<String>,
    /// Existing indices closed and restored over in place.
    pub replace: Vec<String>,
    pub body: Option<RestoreBody>,
    /// Targets already being restored from this snapshot (this restore's own earlier work).
    pub already: BTreeSet<String>,
}

impl RestorePlan {
    /// The indices this invocation still has to restore.
    pub fn pending(&self) -> Vec<RestoredIndex> {
        self.restored
            .iter()
            .filter(|r| !self.already.contains(&r.to))
            .cloned()
            .collect()
    }
}

/// The restore `restore_of` describes, worked out again from its snapshot: each index with
/// the name it was restored under.
pub async fn restored_pairs(
    api: &SnapshotApi,
    repository: &str,
    selection: &RestoreSelection,
) -> Result<Vec<RestoredIndex>, OsnapError> {
    if selection.snapshot == "latest" || selection.snapshot.trim().is_empty() {
        return Err(OsnapError::invalid(
            "restore_of needs the snapshot's name (the restore answered it), not `latest`",
        ));
    }
    let subject = Subject {
        repository,
        snapshot: Some(&selection.snapshot),
    };
    let info = api
        .get_snapshot(repository, &selection.snapshot)
        .await
        .map_err(|e| from_api(e, subject))?;
    targets(selection, &info)
}

/// The snapshot's indices a restore selects, each with the name it is restored under: the
/// one rule the restore, its plan and `verify`'s `restore_of` share.
pub fn targets(
    selected: &RestoreSelection,
    snapshot: &SnapshotInfo,
) -> Result<Vec<RestoredIndex>, OsnapError> {
    let chosen = select_from(&selection(selected.indices.as_deref()), snapshot);
    Ok(pairs(&chosen, &renaming(selected)?))
}

/// What a selection takes from a snapshot: its data streams the selection names (by name or
/// pattern), and its indices, with every backing index of those streams (`RestoreService`
/// restores a stream with all its backing indices).
struct Chosen<'a> {
    indices: Vec<&'a str>,
    streams: Vec<&'a str>,
}

fn select_from<'a>(selection: &IndexSelection, snapshot: &'a SnapshotInfo) -> Chosen<'a> {
    let streams: Vec<&str> = snapshot
        .data_streams
        .iter()
        .map(String::as_str)
        .filter(|s| selection.matches(s))
        .collect();
    let mut indices = selection.select(&snapshot.indices);
    for index in &snapshot.indices {
        if backing_stream(index).is_some_and(|s| streams.contains(&s))
            && !indices.contains(&index.as_str())
        {
            indices.push(index);
        }
    }
    Chosen { indices, streams }
}

fn renamed(name: &str, rename: &Option<(Regex, String)>) -> String {
    match rename {
        Some((pattern, replacement)) => {
            pattern.replace_all(name, replacement.as_str()).into_owned()
        }
        None => name.to_owned(),
    }
}

/// The indices of `available` a restore's `indices` select, each with the name its rename
/// gives it: the restore's own rule, for the preflight of a snapshot not yet taken.
pub(crate) fn select_and_rename(
    selected: &RestoreSelection,
    available: &[String],
) -> Result<Vec<RestoredIndex>, OsnapError> {
    // A live source's streams are not known here: its indices are renamed as plain ones.
    let chosen = Chosen {
        indices: selection(selected.indices.as_deref()).select(available),
        streams: Vec::new(),
    };
    Ok(pairs(&chosen, &renaming(selected)?))
}

fn selection(indices: Option<&[String]>) -> IndexSelection {
    IndexSelection::new(indices.unwrap_or(&["*".to_owned()]))
}

/// Each selected index with the name `rename` gives it; a backing index of a restored stream
/// keeps its `.ds-` prefix and the rest is renamed (`RestoreService.renameIndex`).
fn pairs(chosen: &Chosen<'_>, rename: &Option<(Regex, String)>) -> Vec<RestoredIndex> {
    chosen
        .indices
        .iter()
        .map(|from| {
            let of_stream = backing_stream(from).is_some_and(|s| chosen.streams.contains(&s));
            let to = match from.strip_prefix(".ds-") {
                Some(rest) if of_stream => format!(".ds-{}", renamed(rest, rename)),
                _ => renamed(from, rename),
            };
            RestoredIndex {
                from: (*from).to_owned(),
                to,
            }
        })
        .collect()
}

/// Works out the restore without touching anything (pure, so each rule is tested directly).
/// `already` are targets the domain is restoring from this very snapshot (see the module
/// doc): they are left as they are.
pub fn plan(
    request: &RestoreRequest,
    snapshot: &SnapshotInfo,
    cluster: &[CatIndex],
    aliases: &AliasesByIndex,
    already: &BTreeSet<String>,
    capabilities: &Capabilities,
) -> Result<RestorePlan, OsnapError> {
    check_state(request, snapshot)?;
    check_settings(request)?;
    let selection = selection(request.indices.as_deref());
    let missing: Vec<&str> = selection
        .concrete_names()
        .filter(|n| !snapshot.indices.iter().any(|i| i == n))
        .filter(|n| !snapshot.data_streams.iter().any(|s| s == n))
        .collect();
    if !missing.is_empty() {
        return Err(OsnapError::invalid(format!(
            "snapshot `{}` does not hold {missing:?}",
            snapshot.snapshot
        )));
    }
    let chosen = select_from(&selection, snapshot);
    if chosen.indices.is_empty() {
        return Err(OsnapError::invalid(format!(
            "no index of snapshot `{}` matches {:?} (system indices only match when named)",
            snapshot.snapshot,
            selection.patterns()
        )));
    }

    let rename = renaming(&request.selection(&snapshot.snapshot))?;
    let restored = pairs(&chosen, &rename);
    let mut targets = BTreeSet::new();
    for RestoredIndex { from, to } in &restored {
        validate_target(from, to)?;
        if !targets.insert(to.as_str()) {
            return Err(OsnapError::invalid(format!(
                "two indices would be restored as `{to}`: change the rename pattern"
            )));
        }
    }

    check_alias_names(&restored, aliases)?;
    let existing: BTreeSet<&str> = cluster.iter().map(|c| c.index.as_str()).collect();
    let conflicts: Vec<String> = restored
        .iter()
        .filter(|r| existing.contains(r.to.as_str()) && !already.contains(&r.to))
        .map(|r| r.to.clone())
        .collect();
    check_streams(request, &chosen, &rename, &restored, cluster, already)?;
    let mut include_aliases = request.include_aliases;
    let replace = match (request.on_conflict, conflicts.is_empty()) {
        (_, true) => Vec::new(),
        (OnConflict::Fail | OnConflict::Rename, false) => {
            return Err(red_targets(cluster, &conflicts)
                .unwrap_or(OsnapError::RestoreConflict { indices: conflicts }));
        }
        (OnConflict::Replace, false) => {
            check_replaceable(snapshot, &restored, &conflicts)?;
            if !capabilities.close_index {
                return Err(OsnapError::UnsafeOperation {
                    reason: format!(
                        "replace restores over closed indices, and this domain's version cannot \
                         close them (Amazon OpenSearch Service allows _close from Elasticsearch \
                         7.4 on); osnap never deletes an index before its replacement is \
                         accepted: restore with on_conflict rename instead ({} exist)",
                        policy::quote::short(&conflicts.join(","))
                    ),
                });
            }
            if let Some(hazard) = moved_alias(&conflicts, aliases) {
                if request.include_aliases == Some(true) {
                    return Err(OsnapError::UnsafeOperation {
                        reason: format!(
                            "{hazard}; restoring aliases would point it back at the restored \
                             index: set include_aliases to false"
                        ),
                    });
                }
                tracing::warn!(%hazard, "restoring without aliases");
                include_aliases = Some(false);
            }
            // Restored over with aliases, an index holds only the snapshot's: the engine drops
            // the live ones (`RestoreService` adds the existing aliases only without them). So
            // unless asked, an index that holds aliases keeps them.
            if request.include_aliases.is_none()
                && conflicts
                    .iter()
                    .any(|c| aliases.get(c).is_some_and(|e| !e.aliases.is_empty()))
            {
                include_aliases = Some(false);
            }
            conflicts
        }
    };
    if rename.is_some() {
        include_aliases = renamed_aliases(request, &restored, aliases)?;
    }

    // A restored stream is named by its name (the domain adds its backing indices); naming
    // only its backing indices would bring them back as plain indices.
    let mut to_restore: Vec<&str> = Vec::new();
    for r in restored.iter().filter(|r| !already.contains(&r.to)) {
        let name = match backing_stream(&r.from).filter(|s| chosen.streams.contains(s)) {
            Some(stream) => stream,
            None => r.from.as_str(),
        };
        if !to_restore.contains(&name) {
            to_restore.push(name);
        }
    }
    let body = (!to_restore.is_empty()).then(|| RestoreBody {
        indices: Some(to_restore.join(",")),
        ignore_unavailable: Some(false),
        include_global_state: Some(request.include_global_state),
        include_aliases,
        partial: Some(request.partial),
        index_settings: request.index_settings.clone(),
        ignore_index_settings: request.ignore_index_settings.clone(),
        rename_pattern: rename.as_ref().map(|(p, _)| p.as_str().to_owned()),
        rename_replacement: rename.as_ref().map(|_| {
            request
                .rename_replacement
                .clone()
                .unwrap_or_else(|| DEFAULT_RENAME_REPLACEMENT.to_owned())
        }),
    });
    Ok(RestorePlan {
        streams: chosen.streams.iter().map(|s| renamed(s, &rename)).collect(),
        restored,
        replace,
        body,
        already: already.clone(),
    })
}

/// What the domain would refuse once a replace has closed its indices, checked before: a
/// replaced index whose primary shard count differs from its snapshot copy's
/// (`RestoreService.validateExistingIndex`), and a new index beside them that the shard limit
/// has no room for (`ShardLimitValidator`, each new index against the cluster with the
/// replaced ones closed). Replica counts come from the snapshot's settings, which only the
/// domain reads: the limit is checked with primaries alone, so what passes here may still be
/// refused by the domain, whose refusal reopens the replaced indices unchanged.
/// `primaries` maps each snapshot index to its primary shard count.
pub fn check_room(
    plan: &RestorePlan,
    cluster: &[CatIndex],
    primaries: &BTreeMap<String, u64>,
    limit: ShardLimit,
) -> Result<(), OsnapError> {
    let by_name: BTreeMap<&str, &CatIndex> =
        cluster.iter().map(|c| (c.index.as_str(), c)).collect();
    let copies = |c: &CatIndex| c.pri.unwrap_or(0) * (1 + c.rep.unwrap_or(0));
    let replaced: BTreeSet<&str> = plan.replace.iter().map(String::as_str).collect();
    for pair in plan
        .restored
        .iter()
        .filter(|r| replaced.contains(r.to.as_str()))
    {
        let existing = by_name.get(pair.to.as_str()).and_then(|c| c.pri);
        let snapshot = primaries.get(&pair.from).copied();
        if let (Some(existing), Some(snapshot)) = (existing, snapshot)
            && existing != snapshot
        {
            return Err(OsnapError::UnsafeOperation {
                reason: format!(
                    "`{}` has {existing} primary shards and its snapshot copy {snapshot}: the \
                     engine restores only over an index of the same shard count; restore with \
                     on_conflict rename instead (nothing was changed)",
                    policy::quote::short(&pair.to)
                ),
            });
        }
    }
    let open: u64 = cluster
        .iter()
        .filter(|c| c.is_open() && !replaced.contains(c.index.as_str()))
        .map(copies)
        .sum();
    for pair in plan.pending() {
        if by_name.contains_key(pair.to.as_str()) {
            continue;
        }
        let Some(&shards) = primaries.get(&pair.from) else {
            continue;
        };
        if let Some(refusal) =
            restore_rules::shard_limit_exceeded(shards, open, limit.max_per_node, limit.data_nodes)
        {
            return Err(OsnapError::UnsafeOperation {
                reason: format!(
                    "restoring `{}` as a new index would pass the shard limit \
                     (cluster.max_shards_per_node): {refusal}, counting its primaries alone \
                     (nothing was changed)",
                    policy::quote::short(&pair.to)
                ),
            });
        }
    }
    Ok(())
}

/// Settings the engine would refuse to change (`index_settings`) or drop
/// (`ignore_index_settings`), refused here before anything changes.
fn check_settings(request: &RestoreRequest) -> Result<(), OsnapError> {
    let changed = request
        .index_settings
        .iter()
        .flat_map(|m| m.keys().map(String::as_str));
    if let Some(key) = restore_rules::unmodifiable(changed) {
        return Err(OsnapError::invalid(format!(
            "index_settings may not change `{key}`: a restore keeps it from the snapshot"
        )));
    }
    let dropped = request
        .ignore_index_settings
        .iter()
        .flatten()
        .map(String::as_str);
    if let Some(key) = restore_rules::unremovable(dropped) {
        return Err(OsnapError::invalid(format!(
            "ignore_index_settings may not drop `{key}`: an index cannot do without it"
        )));
    }
    Ok(())
}

/// Targets that exist and are red, said as a refusal: most often the copies of a restore
/// whose primaries never recovered (a repository the domain could not read, a corrupt file).
/// Nothing of them is readable, but nothing proves they are osnap's own copies either, so
/// osnap does not restore over them: their operator deletes them first.
fn red_targets(cluster: &[CatIndex], conflicts: &[String]) -> Option<OsnapError> {
    let red: Vec<&str> = cluster
        .iter()
        .filter(|c| c.health.as_deref() == Some("red") && conflicts.contains(&c.index))
        .map(|c| c.index.as_str())
        .collect();
    let first = red.first()?;
    let more = match red.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    Some(OsnapError::UnsafeOperation {
        reason: format!(
            "`{}`{more} exist red (their primaries never recovered, as after a failed \
             restore): osnap restores over no index it cannot tell is its own copy. Delete \
             them (nothing of them is readable) and restore again",
            policy::quote::short(first)
        ),
    })
}

/// A target name that is an alias on the domain: the engine refuses to create an index of
/// that name ("already exists as alias").
fn check_alias_names(
    restored: &[RestoredIndex],
    aliases: &AliasesByIndex,
) -> Result<(), OsnapError> {
    let alias_names: BTreeSet<&str> = aliases
        .values()
        .flat_map(|entry| entry.aliases.keys().map(String::as_str))
        .collect();
    match restored
        .iter()
        .find(|r| alias_names.contains(r.to.as_str()))
    {
        Some(clash) => Err(OsnapError::RestoreConflict {
            indices: vec![format!("{} (an alias on the domain)", clash.to)],
        }),
        None => Ok(()),
    }
}

fn check_state(request: &RestoreRequest, snapshot: &SnapshotInfo) -> Result<(), OsnapError> {
    match snapshot.state.as_ref() {
        Some(SnapshotState::Success) => Ok(()),
        Some(SnapshotState::Partial) if request.partial => Ok(()),
        Some(SnapshotState::InProgress) | None => Err(OsnapError::SnapshotInProgress {
            message: format!("snapshot `{}` has not finished", snapshot.snapshot),
        }),
        Some(state) => Err(OsnapError::SnapshotFailed {
            snapshot: snapshot.snapshot.clone(),
            state: state.as_str().to_owned(),
            detail: if *state == SnapshotState::Partial {
                "refusing to restore from it; pass \"partial\": true to restore its complete indices".into()
            } else {
                "a snapshot in this state cannot be restored".into()
            },
        }),
    }
}

/// The compiled rename, in the server's syntax (Java regex, `$1` groups) translated to
/// what this evaluates, so the plan names exactly what the domain will create.
fn renaming(request: &RestoreSelection) -> Result<Option<(Regex, String)>, OsnapError> {
    let (pattern, replacement) = match (
        request.rename_pattern.as_deref(),
        request.rename_replacement.as_deref(),
        request.on_conflict,
    ) {
        (Some(p), Some(r), _) => (p, r),
        (None, None, OnConflict::Rename) => (DEFAULT_RENAME_PATTERN, DEFAULT_RENAME_REPLACEMENT),
        (None, None, _) => return Ok(None),
        _ => {
            return Err(OsnapError::invalid(
                "rename_pattern and rename_replacement go together",
            ));
        }
    };
    let regex = Regex::new(pattern).map_err(|e| {
        OsnapError::invalid(format!(
            "rename_pattern `{pattern}` is not a usable regex: {e}"
        ))
    })?;
    Ok(Some((regex, braced_groups(replacement))))
}

/// `$1abc` (Java: group 1, then `abc`) → `${1}abc` (the same here).
fn braced_groups(replacement: &str) -> String {
    let mut out = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push_str("${");
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                out.push(d);
                chars.next();
            }
            out.push('}');
        } else {
            out.push(c);
        }
    }
    out
}

fn validate_target(from: &str, to: &str) -> Result<(), OsnapError> {
    let bad = |why: &str| {
        OsnapError::invalid(format!("`{from}` would be restored as `{to}`, which {why}"))
    };
    if to.is_empty() || to.starts_with(['_', '-', '+']) || to == "." || to == ".." {
        return Err(bad("is not a valid index name"));
    }
    if to.chars().any(|c| c.is_uppercase() || c.is_whitespace())
        || to.contains(['\\', '/', '*', '?', '"', '<', '>', '|', ',', '#', ':'])
    {
        return Err(bad("is not a valid index name"));
    }
    // A leading `.` is for system and hidden indices (and streams' backing indices, which
    // keep their prefix when renamed).
    if to.starts_with('.') && !from.starts_with('.') {
        return Err(bad("is a system index name"));
    }
    Ok(())
}

/// A restored stream whose name is already a stream on the domain: the engine would put the
/// snapshot's stream in its place (`RestoreService` replaces a stream of the same name), and
/// the live backing indices the snapshot does not hold (the write index above all) would
/// leave it. So it is a conflict, and `replace` never goes over a stream: restore it under a
/// new name. A stream is taken to exist where an index named as its backing index exists.
fn check_streams(
    request: &RestoreRequest,
    chosen: &Chosen<'_>,
    rename: &Option<(Regex, String)>,
    restored: &[RestoredIndex],
    cluster: &[CatIndex],
    already: &BTreeSet<String>,
) -> Result<(), OsnapError> {
    let live: BTreeSet<&str> = cluster
        .iter()
        .filter_map(|c| backing_stream(&c.index))
        .collect();
    let clashing: Vec<String> = chosen
        .streams
        .iter()
        .map(|s| (*s, renamed(s, rename)))
        .filter(|(_, to)| live.contains(to.as_str()))
        .filter(|(from, _)| {
            // This restore's own earlier work is not a clash.
            !restored
                .iter()
                .filter(|r| backing_stream(&r.from) == Some(*from))
                .all(|r| already.contains(&r.to))
        })
        .map(|(_, to)| to)
        .collect();
    if clashing.is_empty() {
        return Ok(());
    }
    if request.on_conflict == OnConflict::Replace {
        return Err(OsnapError::UnsafeOperation {
            reason: format!(
                "replace never restores over a data stream: the snapshot's stream would take the \
                 live one's place and the live write index would leave it; restore under a new \
                 name (rename_pattern) instead ({} exist)",
                policy::quote::short(&clashing.join(","))
            ),
        });
    }
    Err(OsnapError::RestoreConflict { indices: clashing })
}

fn check_replaceable(
    snapshot: &SnapshotInfo,
    restored: &[RestoredIndex],
    conflicts: &[String],
) -> Result<(), OsnapError> {
    if snapshot.state != Some(SnapshotState::Success) {
        return Err(OsnapError::UnsafeOperation {
            reason: format!(
                "replace deletes indices, so it needs a SUCCESS snapshot; `{}` is not",
                snapshot.snapshot
            ),
        });
    }
    for name in conflicts {
        if is_system_index(name) {
            return Err(OsnapError::UnsafeOperation {
                reason: format!("`{name}` is a system index and is never deleted"),
            });
        }
        let same_name_in_snapshot = restored.iter().any(|r| &r.to == name && &r.from == name);
        if !same_name_in_snapshot {
            return Err(OsnapError::UnsafeOperation {
                reason: format!(
                    "`{name}` exists but the snapshot holds no index of that name to replace it \
                     with (renamed restores never replace)"
                ),
            });
        }
    }
    Ok(())
}

/// Whether a renamed restore brings its aliases. The engine restores them by default, so a
/// renamed old copy would join the live index's alias (searches then see old and new
/// documents; a write alias fails with "more than one write index"): with a rename, aliases
/// come only when asked, and asking is refused while an index of a source name holds aliases
/// on the target (the snapshot holds them too, as the indices it was taken from did).
fn renamed_aliases(
    request: &RestoreRequest,
    restored: &[RestoredIndex],
    aliases: &AliasesByIndex,
) -> Result<Option<bool>, OsnapError> {
    if request.include_aliases != Some(true) {
        return Ok(Some(false));
    }
    for pair in restored {
        if let Some(held) = aliases
            .get(&pair.from)
            .filter(|entry| !entry.aliases.is_empty())
        {
            let names: Vec<&str> = held.aliases.keys().map(String::as_str).collect();
            return Err(OsnapError::UnsafeOperation {
                reason: format!(
                    "`{}` holds aliases {names:?} here: restored as `{}` with its aliases, the \
                     copy would join them; leave include_aliases out (or false) when renaming",
                    policy::quote::short(&pair.from),
                    policy::quote::short(&pair.to),
                ),
            });
        }
    }
    Ok(Some(true))
}

/// An alias on an index to be replaced that also points at an index that stays.
fn moved_alias(replaced: &[String], aliases: &AliasesByIndex) -> Option<String> {
    let mut holders: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (index, entry) in aliases {
        for alias in entry.aliases.keys() {
            holders
                .entry(alias.as_str())
                .or_default()
                .push(index.as_str());
        }
    }
    for index in replaced {
        let Some(entry) = aliases.get(index) else {
            continue;
        };
        for alias in entry.aliases.keys() {
            let elsewhere: Vec<&&str> = holders[alias.as_str()]
                .iter()
                .filter(|i| !replaced.iter().any(|r| r == **i))
                .collect();
            if !elsewhere.is_empty() {
                return Some(format!(
                    "alias `{alias}` of `{index}` now also points at {elsewhere:?}"
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn snapshot(state: &str) -> SnapshotInfo {
        serde_json::from_value(json!({
            "snapshot": "nightly-1", "state": state,
            "indices": ["logs-1", "logs-2", "orders", ".kibana_1", ".opendistro_security"]
        }))
        .unwrap()
    }

    fn cluster(names: &[&str]) -> Vec<CatIndex> {
        names
            .iter()
            .map(|n| serde_json::from_value(json!({"index": n, "status": "open"})).unwrap())
            .collect()
    }

    fn request(extra: Value) -> RestoreRequest {
        let mut base = json!({"repository": "r"});
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn names(plan: &RestorePlan) -> Vec<(&str, &str)> {
        plan.restored
            .iter()
            .map(|r| (r.from.as_str(), r.to.as_str()))
            .collect()
    }

    const SYSTEM: [&str; 2] = [".kibana_1", ".opendistro_security"];

    /// A domain that can close indices (Elasticsearch 7.4 and later, every OpenSearch).
    fn closing() -> Capabilities {
        policy::engines::Engine::opensearch((2, 13, 0)).capabilities()
    }

    fn streams_snapshot() -> SnapshotInfo {
        serde_json::from_value(json!({
            "snapshot": "nightly-1", "state": "SUCCESS",
            "indices": [".ds-logs-000001", ".ds-logs-000002", ".ds-logs-app-000001", "orders",
                        ".kibana_1"],
            "data_streams": ["logs", "logs-app"]
        }))
        .unwrap()
    }

    #[test]
    fn streams_are_restored_by_name_with_every_backing_index() {
        let run = |extra: Value, live: &[&str]| {
            plan(
                &request(extra),
                &streams_snapshot(),
                &cluster(live),
                &AliasesByIndex::new(),
                &BTreeSet::new(),
                &closing(),
            )
        };
        let by_name = run(json!({"indices": ["logs"]}), &[]).unwrap();
        assert_eq!(
            names(&by_name),
            [
                (".ds-logs-000001", ".ds-logs-000001"),
                (".ds-logs-000002", ".ds-logs-000002")
            ]
        );
        assert_eq!(by_name.streams, ["logs"]);
        let body = by_name.body.unwrap();
        assert_eq!(
            body.indices.as_deref(),
            Some("logs"),
            "the stream, not its indices"
        );

        // Everything: both streams named, the plain index beside them, no system index.
        let all = run(json!({}), &[]).unwrap();
        assert_eq!(all.streams, ["logs", "logs-app"]);
        assert_eq!(
            all.body.unwrap().indices.as_deref(),
            Some("logs,logs-app,orders")
        );

        // Renamed: the prefix stays, the rest is renamed, like the stream.
        let renamed = run(
            json!({"indices": ["logs-app"], "on_conflict": "rename"}),
            &[],
        )
        .unwrap();
        assert_eq!(
            names(&renamed),
            [(".ds-logs-app-000001", ".ds-restored-logs-app-000001")]
        );
        assert_eq!(renamed.streams, ["restored-logs-app"]);

        // A live stream of the same name (seen through its backing index) is a conflict,
        // whatever its generations; replace never goes over it.
        let clash = run(json!({"indices": ["logs"]}), &[".ds-logs-000007"]).unwrap_err();
        assert_eq!(clash.error_type(), "RestoreConflict");
        let replace = run(
            json!({"indices": ["logs"], "on_conflict": "replace"}),
            &[".ds-logs-000007"],
        )
        .unwrap_err();
        assert_eq!(replace.error_type(), "UnsafeOperation");
        // `logs-app`'s backing index does not make `logs` live.
        assert!(run(json!({"indices": ["logs"]}), &[".ds-logs-app-000001"]).is_ok());
    }

    #[test]
    fn all_means_every_non_system_index() {
        let plan = plan(
            &request(json!({})),
            &snapshot("SUCCESS"),
            &cluster(&SYSTEM),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap();
        assert_eq!(
            names(&plan),
            [
                ("logs-1", "logs-1"),
                ("logs-2", "logs-2"),
                ("orders", "orders")
            ]
        );
        assert_eq!(
            plan.body.as_ref().unwrap().indices.as_deref(),
            Some("logs-1,logs-2,orders")
        );
        assert!(plan.replace.is_empty());
        assert_eq!(
            plan.body.as_ref().unwrap().include_global_state,
            Some(false)
        );
    }

    #[test]
    fn system_indices_only_when_named_and_never_deleted() {
        let named = request(json!({"indices": [".kibana_1"]}));
        let plan = plan(
            &named,
            &snapshot("SUCCESS"),
            &cluster(&[]),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap();
        assert_eq!(names(&plan), [(".kibana_1", ".kibana_1")]);
        let replace = request(json!({"indices": [".kibana_1"], "on_conflict": "replace"}));
        let error = super::plan(
            &replace,
            &snapshot("SUCCESS"),
            &cluster(&SYSTEM),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap_err();
        assert_eq!(error.error_type(), "UnsafeOperation");
    }

    #[test]
    fn only_success_snapshots_are_restored_unless_partial_is_asked() {
        for (state, partial, expected) in [
            ("PARTIAL", false, Some("SnapshotFailed")),
            ("PARTIAL", true, None),
            ("FAILED", true, Some("SnapshotFailed")),
            ("IN_PROGRESS", false, Some("SnapshotInProgress")),
        ] {
            let r = request(json!({"partial": partial}));
            let got = plan(
                &r,
                &snapshot(state),
                &cluster(&[]),
                &AliasesByIndex::new(),
                &BTreeSet::new(),
                &closing(),
            );
            assert_eq!(
                got.err().map(|e| e.error_type()),
                expected,
                "{state} partial={partial}"
            );
        }
    }

    #[test]
    fn conflicts_fail_by_default_and_nothing_is_planned() {
        let error = plan(
            &request(json!({})),
            &snapshot("SUCCESS"),
            &cluster(&["orders", "logs-1"]),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap_err();
        match error {
            OsnapError::RestoreConflict { indices } => assert_eq!(indices, ["logs-1", "orders"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rename_restores_under_new_names_that_must_be_free() {
        let r = request(json!({"on_conflict": "rename"}));
        let plan = plan(
            &r,
            &snapshot("SUCCESS"),
            &cluster(&["orders"]),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap();
        assert_eq!(names(&plan)[2], ("orders", "restored-orders"));
        assert_eq!(
            plan.body.as_ref().unwrap().rename_pattern.as_deref(),
            Some("(.+)")
        );
        assert_eq!(
            plan.body.as_ref().unwrap().rename_replacement.as_deref(),
            Some("restored-$1")
        );
        let taken = super::plan(
            &r,
            &snapshot("SUCCESS"),
            &cluster(&["restored-orders"]),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &closing(),
        );
        assert_eq!(taken.unwrap_err().error_type(), "RestoreConflict");

        let custom = request(
            json!({"indices": ["logs-*"], "rename_pattern": "logs-(\\d+)", "rename_replacement": "old-logs-$1x"}),
        );
        let plan = super::plan(
            &custom,
            &snapshot("SUCCESS"),
            &cluster(&[]),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap();
        assert_eq!(
            names(&plan),
            [("logs-1", "old-logs-1x"), ("logs-2", "old-logs-2x")]
        );
        let collide = request(json!({"rename_pattern": ".*", "rename_replacement": "same"}));
        assert_eq!(
            super::plan(
                &collide,
                &snapshot("SUCCESS"),
                &cluster(&[]),
                &AliasesByIndex::new(),
                &BTreeSet::new(),
                &closing()
            )
            .unwrap_err()
            .error_type(),
            "InvalidRequest"
        );
        let into_system = request(
            json!({"indices": ["orders"], "rename_pattern": "(.+)", "rename_replacement": ".$1"}),
        );
        assert_eq!(
            super::plan(
                &into_system,
                &snapshot("SUCCESS"),
                &cluster(&[]),
                &AliasesByIndex::new(),
                &BTreeSet::new(),
                &closing()
            )
            .unwrap_err()
            .error_type(),
            "InvalidRequest"
        );
    }

    #[test]
    fn replace_goes_only_over_same_named_indices_of_a_success_snapshot() {
        let r = request(json!({"on_conflict": "replace", "indices": ["orders", "logs-1"]}));
        let plan = plan(
            &r,
            &snapshot("SUCCESS"),
            &cluster(&["orders", "unrelated"]),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap();
        assert_eq!(plan.replace, ["orders"]);
        let partial = request(json!({"on_conflict": "replace", "partial": true}));
        let error = super::plan(
            &partial,
            &snapshot("PARTIAL"),
            &cluster(&["orders"]),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap_err();
        assert_eq!(error.error_type(), "UnsafeOperation");
    }

    #[test]
    fn replace_is_refused_where_the_domain_cannot_close_indices() {
        let r = request(json!({"on_conflict": "replace", "indices": ["orders"]}));
        let es_6 = policy::engines::Engine::elasticsearch((6, 8, 23)).capabilities();
        let error = plan(
            &r,
            &snapshot("SUCCESS"),
            &cluster(&["orders"]),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &es_6,
        )
        .unwrap_err();
        assert_eq!(error.error_type(), "UnsafeOperation");
        assert!(error.to_string().contains("7.4"), "{error}");
        // Nothing to replace: the same domain restores.
        let free = plan(
            &r,
            &snapshot("SUCCESS"),
            &cluster(&[]),
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &es_6,
        )
        .unwrap();
        assert!(free.replace.is_empty() && free.body.is_some());
    }

    #[test]
    fn room_for_a_replace_is_checked_from_shard_counts_and_the_limit() {
        let r = request(json!({"on_conflict": "replace", "indices": ["orders", "logs-1"]}));
        let rows: Vec<CatIndex> = serde_json::from_value(json!([
            {"index": "orders", "status": "open", "pri": "1", "rep": "1"},
            {"index": ".kibana_1", "status": "open", "pri": "1", "rep": "1"}
        ]))
        .unwrap();
        let plan = plan(
            &r,
            &snapshot("SUCCESS"),
            &rows,
            &AliasesByIndex::new(),
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap();
        let primaries: BTreeMap<String, u64> =
            [("orders".to_owned(), 1), ("logs-1".to_owned(), 3)].into();
        let roomy = ShardLimit {
            max_per_node: 1000,
            data_nodes: 2,
        };
        assert!(check_room(&plan, &rows, &primaries, roomy).is_ok());
        // With `orders` closed, 2 copies stay open: 3 more primaries pass a limit of 4.
        let tight = ShardLimit {
            max_per_node: 2,
            data_nodes: 2,
        };
        let error = check_room(&plan, &rows, &primaries, tight).unwrap_err();
        assert!(error.to_string().contains("[2]/[4]"), "{error}");
        let fits = ShardLimit {
            max_per_node: 3,
            data_nodes: 2,
        };
        assert!(check_room(&plan, &rows, &primaries, fits).is_ok());
        let resharded: BTreeMap<String, u64> =
            [("orders".to_owned(), 2), ("logs-1".to_owned(), 3)].into();
        let error = check_room(&plan, &rows, &resharded, roomy).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("1 primary shards and its snapshot copy 2"),
            "{error}"
        );
    }

    #[test]
    fn settings_a_restore_cannot_change_or_drop_are_refused_in_the_plan() {
        for (extra, key) in [
            (
                json!({"index_settings": {"number_of_shards": 3}}),
                "index.number_of_shards",
            ),
            (json!({"index_settings": {"index.uuid": "x"}}), "index.uuid"),
            (
                json!({"ignore_index_settings": ["index.number_of_replicas"]}),
                "index.number_of_replicas",
            ),
        ] {
            let error = plan(
                &request(extra),
                &snapshot("SUCCESS"),
                &cluster(&[]),
                &AliasesByIndex::new(),
                &BTreeSet::new(),
                &closing(),
            )
            .unwrap_err();
            assert_eq!(error.error_type(), "InvalidRequest");
            assert!(error.to_string().contains(key), "{error}");
        }
    }

    #[test]
    fn a_target_named_like_an_alias_on_the_domain_is_a_conflict() {
        let aliases: AliasesByIndex = serde_json::from_value(json!({
            "orders-v2": {"aliases": {"orders": {}}}
        }))
        .unwrap();
        for mode in ["fail", "replace"] {
            let error = plan(
                &request(json!({"on_conflict": mode, "indices": ["orders"]})),
                &snapshot("SUCCESS"),
                &cluster(&["orders-v2"]),
                &aliases,
                &BTreeSet::new(),
                &closing(),
            )
            .unwrap_err();
            assert_eq!(error.error_type(), "RestoreConflict", "{mode}");
            assert!(error.to_string().contains("alias"), "{error}");
        }
    }

    #[test]
    fn replace_never_points_a_moved_alias_back() {
        let aliases: AliasesByIndex = serde_json::from_value(json!({
            "orders": {"aliases": {"orders-current": {}}},
            "orders-v2": {"aliases": {"orders-current": {"is_write_index": true}}}
        }))
        .unwrap();
        let r = request(json!({"on_conflict": "replace", "indices": ["orders"]}));
        let plan = plan(
            &r,
            &snapshot("SUCCESS"),
            &cluster(&["orders", "orders-v2"]),
            &aliases,
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap();
        assert_eq!(plan.body.as_ref().unwrap().include_aliases, Some(false));
        let explicit = request(
            json!({"on_conflict": "replace", "indices": ["orders"], "include_aliases": true}),
        );
        let error = super::plan(
            &explicit,
            &snapshot("SUCCESS"),
            &cluster(&["orders", "orders-v2"]),
            &aliases,
            &BTreeSet::new(),
            &closing(),
        )
        .unwrap_err();
        assert_eq!(error.error_type(), "UnsafeOperation");
    }

    #[test]
    fn unknown_names_and_empty_selections_are_invalid() {
        for extra in [
            json!({"indices": ["users"]}),
            json!({"indices": ["nothing-*"]}),
            json!({"rename_pattern": "x"}),
        ] {
            let error = plan(
                &request(extra.clone()),
                &snapshot("SUCCESS"),
                &cluster(&[]),
                &AliasesByIndex::new(),
                &BTreeSet::new(),
                &closing(),
            )
            .unwrap_err();
            assert_eq!(error.error_type(), "InvalidRequest", "{extra}");
        }
    }

    #[test]
    fn java_group_references_translate() {
        assert_eq!(braced_groups("restored-$1"), "restored-${1}");
        assert_eq!(braced_groups("$12x$"), "${12}x$");
    }

    #[test]
    fn indices_already_restoring_from_this_snapshot_are_neither_conflicts_nor_replaced() {
        let ours: BTreeSet<String> = ["logs-1".to_owned()].into();
        let existing = cluster(&["logs-1", "orders"]);
        // fail: only the index that is not ours conflicts.
        let error = plan(
            &request(json!({"indices": ["logs-1", "orders"]})),
            &snapshot("SUCCESS"),
            &existing,
            &AliasesByIndex::new(),
            &ours,
            &closing(),
        )
        .unwrap_err();
        assert!(
            matches!(&error, OsnapError::RestoreConflict { indices } if indices == &["orders"]),
            "{error:?}"
        );
        // replace: ours is neither deleted nor restored again.
        let replaced = plan(
            &request(json!({"indices": ["logs-1", "orders"], "on_conflict": "replace"})),
            &snapshot("SUCCESS"),
            &existing,
            &AliasesByIndex::new(),
            &ours,
            &closing(),
        )
        .unwrap();
        assert_eq!(replaced.replace, ["orders"]);
        assert_eq!(
            replaced.body.as_ref().unwrap().indices.as_deref(),
            Some("orders")
        );
        assert_eq!(replaced.restored.len(), 2, "the answer names both");
        // All ours: nothing to send.
        let done = plan(
            &request(json!({"indices": ["logs-1"]})),
            &snapshot("SUCCESS"),
            &existing,
            &AliasesByIndex::new(),
            &ours,
            &closing(),
        )
        .unwrap();
        assert!(done.body.is_none() && done.replace.is_empty(), "{done:?}");
        assert!(done.pending().is_empty());
    }
}
