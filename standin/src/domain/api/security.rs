//! Fine-grained access control as the security plugin enforces it on a request: the
//! transport actions each route runs, checked against the roles the caller is mapped to
//! (the roles, mappings and their evaluation are `state::security`), and the plugin's REST
//! API for roles and role mappings. A request whose actions the stand-in does not know is
//! refused rather than let through.
//!
//! Sources: see `state::security`.

use std::collections::BTreeSet;

use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::domain::state::Shared;
use crate::domain::state::blobstore::{SnapshotRecord, manifest_key};
use crate::domain::state::cluster::SECURITY_INDEX;
use crate::domain::state::repositories;
use crate::domain::state::repositories::read_index;
use crate::domain::state::security::{
    Role, RoleMapping, SecurityPlugin, User, builtin_role, expand, glob,
};
use crate::domain::wire::body::body_indices;
use crate::domain::wire::call::Call;
use crate::domain::wire::names::{filter_snapshot_indices, simple_match, split_list};
use crate::domain::wire::rename::Rename;
use crate::domain::wire::reply::{EsError, Reply};
use crate::domain::wire::routes::Route;

/// What a request needs, in the order the engine checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    Cluster(&'static str),
    /// Every action on every index named.
    Index {
        actions: Vec<&'static str>,
        indices: Vec<String>,
    },
    /// An action on indices only the body names (bulk items, alias actions): granted only
    /// where a role grants it on every index name, else refused as not modelled.
    OnEveryIndex(&'static str),
    /// The plugin refuses the request outright (`insufficient(action)`).
    Refused(&'static str),
}

/// The transport action a cluster-level route runs, `None` for routes that touch indices.
fn cluster_action(route: &Route) -> Option<&'static str> {
    Some(match route {
        Route::Root => "cluster:monitor/main",
        Route::ClusterHealth(_) => "cluster:monitor/health",
        Route::CatSnapshots(_) | Route::GetSnapshots { .. } => "cluster:admin/snapshot/get",
        Route::PutRepository(_) => "cluster:admin/repository/put",
        Route::GetRepositories(_) => "cluster:admin/repository/get",
        Route::VerifyRepository(_) => "cluster:admin/repository/verify",
        Route::DeleteRepository(_) => "cluster:admin/repository/delete",
        Route::CreateSnapshot { .. } => "cluster:admin/snapshot/create",
        Route::SnapshotStatus { .. } => "cluster:admin/snapshot/status",
        Route::DeleteSnapshots { .. } => "cluster:admin/snapshot/delete",
        // `RestClusterGetSettingsAction` reads the cluster state.
        Route::GetClusterSettings => "cluster:monitor/state",
        Route::PutClusterSettings => "cluster:admin/settings/update",
        _ => return None,
    })
}

/// The restore's cluster action.
pub(crate) const RESTORE: &str = "cluster:admin/snapshot/restore";
/// What a restore needs on each index it writes.
const RESTORE_WRITES: [&str; 2] = ["indices:admin/create", "indices:data/write/index"];

/// The names an index expression reaches, as the plugin checks them: wildcards over the
/// existing indices, other names as written (existing or not). `-` exclusions are ignored,
/// so the check covers at least what the request reaches.
fn named(shared: &Shared, expression: Option<&str>) -> Vec<String> {
    let parts = expression.map_or_else(|| vec!["_all".to_owned()], split_list);
    let cluster = shared.cluster();
    let mut out = BTreeSet::new();
    for part in parts.iter().filter(|p| !p.starts_with('-')) {
        if part == "_all" || part.contains('*') {
            let pattern = if part == "_all" { "*" } else { part.as_str() };
            out.extend(
                cluster
                    .indices
                    .keys()
                    .filter(|n| simple_match(pattern, n))
                    .cloned(),
            );
        } else {
            out.insert(part.clone());
        }
    }
    out.into_iter().collect()
}

fn index(action: &'static str, indices: Vec<String>) -> Need {
    Need::Index {
        actions: vec![action],
        indices,
    }
}

/// What `route` needs, from the REST handler's transport actions (OpenSearch's `Rest*Action`
/// classes and the action names of their `ActionType`s).
async fn needs(shared: &Shared, call: &Call, route: &Route) -> Result<Vec<Need>, String> {
    if let Some(action) = cluster_action(route) {
        return Ok(vec![Need::Cluster(action)]);
    }
    let body = || call.json_object().unwrap_or_default();
    Ok(match route {
        Route::CreateIndex(name) => {
            let mut actions = vec!["indices:admin/create"];
            if body()
                .get("aliases")
                .and_then(Value::as_object)
                .is_some_and(|a| !a.is_empty())
            {
                actions.push("indices:admin/aliases");
            }
            vec![Need::Index {
                actions,
                indices: vec![name.clone()],
            }]
        }
        Route::DeleteIndex(e) => vec![index("indices:admin/delete", named(shared, Some(e)))],
        Route::GetIndex(e) | Route::IndexExists(e) => {
            vec![index("indices:admin/get", named(shared, Some(e)))]
        }
        Route::GetSettings { index: e, .. } => {
            vec![index(
                "indices:monitor/settings/get",
                named(shared, Some(e)),
            )]
        }
        Route::OpenIndex(e) => vec![index("indices:admin/open", named(shared, Some(e)))],
        Route::CloseIndex(e) => vec![index("indices:admin/close", named(shared, Some(e)))],
        Route::IndexDoc { index: name, .. } => {
            vec![index("indices:data/write/index", vec![name.clone()])]
        }
        // `_count` runs a search of size 0 (`RestCountAction`).
        Route::Count(e) => vec![index(
            "indices:data/read/search",
            named(shared, e.as_deref()),
        )],
        // `RestIndicesAction`: get-settings first, then cluster state, health and index
        // stats (sent together; the stand-in checks them in this order).
        Route::CatIndices(e) => {
            let names = named(shared, e.as_deref());
            vec![
                index("indices:monitor/settings/get", names.clone()),
                Need::Cluster("cluster:monitor/state"),
                Need::Cluster("cluster:monitor/health"),
                index("indices:monitor/stats", names),
            ]
        }
        Route::GetAliases { index: e, .. } => {
            vec![index(
                "indices:admin/aliases/get",
                named(shared, e.as_deref()),
            )]
        }
        Route::PutAlias { index: e, .. } | Route::DeleteAlias { index: e, .. } => {
            vec![index("indices:admin/aliases", named(shared, Some(e)))]
        }
        Route::UpdateAliases => {
            let removes_index = body()
                .get("actions")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x.get("remove_index").is_some()));
            let mut needs = vec![Need::OnEveryIndex("indices:admin/aliases")];
            if removes_index {
                needs.push(Need::OnEveryIndex("indices:admin/delete"));
            }
            needs
        }
        Route::Recovery(e) => vec![index(
            "indices:monitor/recovery",
            named(shared, e.as_deref()),
        )],
        // Bulk is a cluster action; its items are checked on the shards, per item type.
        Route::Bulk(_) => vec![
            Need::Cluster("indices:data/write/bulk"),
            Need::OnEveryIndex("indices:data/write/index"),
            Need::OnEveryIndex("indices:data/write/delete"),
            Need::OnEveryIndex("indices:data/write/update"),
        ],
        Route::Restore {
            repository,
            snapshot,
        } => restore_needs(shared, call, repository, snapshot).await,
        // The REST API checks its caller itself (`plugins.security.restapi.roles_enabled`),
        // not through transport actions: see `put_config`.
        Route::PutSecurityConfig { .. } => Vec::new(),
        // `authinfo` answers any authenticated caller (the plugin serves it itself, no
        // transport action: `SecurityInfoAction`).
        Route::AuthInfo { .. } => Vec::new(),
        // `RestShardsAction`: the cluster state, then the indices' stats.
        Route::CatShards(e) => vec![
            Need::Cluster("cluster:monitor/state"),
            index("indices:monitor/stats", named(shared, e.as_deref())),
        ],
        // `RestAllocationAction`: the cluster state, then the nodes' stats (their disks).
        Route::CatAllocation(_) => vec![
            Need::Cluster("cluster:monitor/state"),
            Need::Cluster("cluster:monitor/nodes/stats"),
        ],
        Route::PutIndexTemplate(_)
        | Route::GetIndexTemplates(_)
        | Route::PutDataStream(_)
        | Route::GetDataStreams(_)
        | Route::DeleteDataStream(_)
        | Route::Rollover(_) => {
            return Err("the index template and data stream APIs".into());
        }
        other => return Err(format!("the actions of {other:?}")),
    })
}

/// A restore: refused with the global state or the security index, then its cluster action,
/// then create and write on every index it would write (the snapshot's selected indices,
/// renamed). Where the snapshot cannot be read the endpoint answers for itself, but the
/// writes are then granted only by roles that grant them on every index.
async fn restore_needs(shared: &Shared, call: &Call, repo: &str, snapshot: &str) -> Vec<Need> {
    let body = call.json_object().unwrap_or_default();
    if body
        .get("include_global_state")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return vec![Need::Refused(RESTORE)];
    }
    let mut needs = vec![Need::Cluster(RESTORE)];
    match restore_targets(shared, &body, repo, snapshot).await {
        Some((sources, _)) if sources.iter().any(|s| s == SECURITY_INDEX) => {
            needs.insert(0, Need::Refused(""));
        }
        Some((_, targets)) => needs.push(Need::Index {
            actions: RESTORE_WRITES.to_vec(),
            indices: targets,
        }),
        None => needs.extend(RESTORE_WRITES.map(Need::OnEveryIndex)),
    }
    needs
}

/// The indices a restore selects from the snapshot, and the names it writes them to.
async fn restore_targets(
    shared: &Shared,
    body: &Map<String, Value>,
    repo: &str,
    snapshot: &str,
) -> Option<(Vec<String>, Vec<String>)> {
    let repository = repositories::lookup(shared, repo).ok()?;
    let listing = read_index(shared, &repository).await.ok()?;
    let entry = listing.snapshots.iter().find(|s| s.name == snapshot)?;
    let blobs = repositories::blobs(shared, &repository)?;
    let record: SnapshotRecord = blobs
        .get_json(&manifest_key(&entry.uuid))
        .await
        .ok()
        .flatten()?;
    let ignore_unavailable = body
        .get("ignore_unavailable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let selected = filter_snapshot_indices(
        &record.indices,
        &body_indices(body).ok()?,
        ignore_unavailable,
    )
    .ok()?;
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    let rename = match (text("rename_pattern"), text("rename_replacement")) {
        (Some(p), Some(r)) => Some(Rename::new(p, r).ok()?),
        _ => None,
    };
    let targets = selected
        .iter()
        .map(|s| rename.as_ref().map_or_else(|| s.clone(), |r| r.apply(s)))
        .collect();
    Some((selected, targets))
}

/// The plugin's 403.
fn denial(missing: &[&str], user: &User) -> Reply {
    EsError::new(
        StatusCode::FORBIDDEN,
        "security_exception",
        format!("no permissions for [{}] and {user}", missing.join(", ")),
    )
    .reply()
}

/// A request the stand-in cannot judge.
fn not_modelled(what: &str) -> Reply {
    Reply::json(
        StatusCode::NOT_IMPLEMENTED,
        &json!({"error": format!(
            "the stand-in does not model fine-grained access control for {what}; it refuses \
             rather than guess a permission"
        )}),
    )
}

/// Checks `call` against the caller's roles: `Ok` lets the endpoint run.
pub(crate) async fn authorize(
    shared: &Shared,
    plugin: &SecurityPlugin,
    call: &Call,
    route: &Route,
) -> Result<(), Reply> {
    let user = User::of(&call.caller_arn);
    let needs = needs(shared, call, route)
        .await
        .map_err(|what| not_modelled(&what))?;
    let roles = plugin.config().roles_of(&user);
    for need in needs {
        match need {
            Need::Refused(action) => {
                if !action.is_empty() {
                    plugin.record(&user, action, false);
                }
                let missing: Vec<&str> = [action].into_iter().filter(|a| !a.is_empty()).collect();
                return Err(denial(&missing, &user));
            }
            Need::Cluster(action) => {
                let granted = roles.iter().any(|r| r.grants_cluster(action));
                plugin.record(&user, action, granted);
                if !granted {
                    return Err(denial(&[action], &user));
                }
            }
            Need::Index { actions, indices } => {
                let missing: Vec<&str> = actions
                    .iter()
                    .copied()
                    .filter(|action| {
                        let granted = indices
                            .iter()
                            .all(|i| roles.iter().any(|r| r.grants_index(action, i)));
                        plugin.record(&user, action, granted);
                        !granted
                    })
                    .collect();
                if !missing.is_empty() {
                    return Err(denial(&missing, &user));
                }
            }
            Need::OnEveryIndex(action) => {
                let granted = roles.iter().any(|r| {
                    r.index_permissions.iter().any(|p| {
                        p.index_patterns.iter().any(|x| x == "*")
                            && expand(&p.allowed_actions).iter().any(|a| glob(a, action))
                    })
                });
                plugin.record(&user, action, granted);
                if !granted {
                    return Err(not_modelled(&format!(
                        "{action} on indices named in the body, without a role granting it on \
                         every index"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// `GET _plugins/_security/authinfo`: the caller as the plugin sees it, with the names of the
/// roles it is mapped to (`SecurityInfoAction`; the fields of the plugin's documented
/// answer). The roles' actions are not part of it: reading them takes the REST API's access.
pub(crate) fn authinfo(plugin: &SecurityPlugin, call: &Call) -> Reply {
    let user = User::of(&call.caller_arn);
    let roles = plugin.config().role_names_of(&user);
    Reply::ok(&json!({
        "user": user.to_string(),
        "user_name": user.name,
        "user_requested_tenant": null,
        "backend_roles": user.backend_roles,
        "custom_attribute_names": [],
        "roles": roles,
        "tenants": {},
        "principal": null,
        "peer_certificates": "0",
        "sso_logout_url": null,
    }))
}

/// `PUT _plugins/_security/api/roles/<name>` and `…/rolesmapping/<name>`, for the master
/// user (mapped to `all_access`); built-in roles cannot be redefined.
pub(crate) fn put_config(
    plugin: &SecurityPlugin,
    call: &Call,
    kind: &str,
    name: &str,
) -> Result<Reply, Reply> {
    let user = User::of(&call.caller_arn);
    let is_admin = {
        let config = plugin.config();
        config.mappings.get("all_access").is_some_and(|m| {
            m.users.iter().any(|u| glob(u, &user.name))
                || m.backend_roles
                    .iter()
                    .any(|b| user.backend_roles.iter().any(|r| glob(b, r)))
        })
    };
    if !is_admin {
        return Err(not_modelled(
            "the security REST API called by a user other than the master user",
        ));
    }
    let bad = |message: String| {
        Reply::json(
            StatusCode::BAD_REQUEST,
            &json!({"status": "error", "reason": message}),
        )
    };
    let created = {
        let mut config = plugin.config();
        match kind {
            "roles" => {
                if builtin_role(name).is_some() {
                    return Err(not_modelled("redefining a built-in role"));
                }
                let role: Role = serde_json::from_slice(&call.body)
                    .map_err(|e| bad(format!("Invalid role definition: {e}")))?;
                if let Some(what) = role.unmodelled() {
                    return Err(not_modelled(what));
                }
                config.roles.insert(name.to_owned(), role).is_none()
            }
            _ => {
                if config.role(name).is_none() {
                    return Err(Reply::json(
                        StatusCode::NOT_FOUND,
                        &json!({"status": "NOT_FOUND", "message": format!("The role '{name}' does not exist.")}),
                    ));
                }
                let mapping: RoleMapping = serde_json::from_slice(&call.body)
                    .map_err(|e| bad(format!("Invalid role mapping: {e}")))?;
                config.mappings.insert(name.to_owned(), mapping).is_none()
            }
        }
    };
    Ok(if created {
        Reply::json(
            StatusCode::CREATED,
            &json!({"status": "CREATED", "message": format!("'{name}' created.")}),
        )
    } else {
        Reply::ok(&json!({"status": "OK", "message": format!("'{name}' updated.")}))
    })
}
