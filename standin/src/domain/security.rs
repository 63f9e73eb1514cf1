//! Fine-grained access control: the OpenSearch security plugin as a domain with it on
//! enforces it. Every request is mapped to the transport actions the engine runs for it, and
//! each action is checked against the roles the caller is mapped to; a missing one is the
//! plugin's 403 `security_exception`. Where the stand-in does not know which actions a
//! request needs, it refuses the request rather than let it through.
//!
//! Sources (opensearch-project/security):
//! - built-in action groups and roles: `src/main/resources/static_config/
//!   static_action_groups.yml` and `static_roles.yml` (copied below as data);
//! - evaluation: `privileges/PrivilegesEvaluatorImpl.java`: an action is a cluster action
//!   when `isClusterPerm` says so (`cluster:*`, `indices:data/write/bulk`, …) and is granted
//!   by `cluster_permissions` only; any other action is an index action, granted by the
//!   `index_permissions` whose `index_patterns` match every index the request names. A
//!   restore needs `cluster:admin/snapshot/restore`, then `indices:admin/create` and
//!   `indices:data/write/index` on every index it writes (after renaming,
//!   `SECURITY_SNAPSHOT_RESTORE_NEEDED_WRITE_PRIVILEGES`); `SnapshotRestoreEvaluator.java`
//!   refuses `include_global_state` and the security index before that;
//! - the denial: `filter/SecurityFilter.java`, `no permissions for <missing> and <user>`,
//!   with `User.toString()`: `User [name=…, backend_roles=[…], requestedTenant=null]`.
//!
//! AWS maps IAM callers by ARN (AWS, "Fine-grained access control in Amazon OpenSearch
//! Service", mapping roles to users): an IAM role is a backend role (an assumed-role session
//! is named by its role's ARN), an IAM user is a user. `do_not_fail_on_forbidden` is off, the
//! plugin's default: a request naming an index the caller may not reach fails whole.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::domain::blobstore::{SnapshotRecord, manifest_key};
use crate::domain::names::{filter_snapshot_indices, simple_match, split_list};
use crate::domain::rename::Rename;
use crate::domain::reply::{EsError, Reply};
use crate::domain::repository;
use crate::domain::routes::Route;
use crate::domain::service::Call;
use crate::domain::snapshots::{body_indices, read_index};
use crate::domain::{Shared, indices::SECURITY_INDEX};

/// One role, in the security plugin's REST and YAML shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub cluster_permissions: Vec<String>,
    #[serde(default)]
    pub index_permissions: Vec<IndexPermission>,
    /// Dashboards tenants: kept, never consulted (no tenant is ever requested).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenant_permissions: Vec<Value>,
}

/// Actions on the indices some patterns match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexPermission {
    pub index_patterns: Vec<String>,
    #[serde(default)]
    pub allowed_actions: Vec<String>,
    /// Document- and field-level security are not modelled: a role using them is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dls: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fls: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked_fields: Vec<String>,
}

/// Who a role applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMapping {
    #[serde(default)]
    pub backend_roles: Vec<String>,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The plugin's configuration: custom roles (the built-in ones always exist) and mappings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityConfig {
    pub roles: BTreeMap<String, Role>,
    pub mappings: BTreeMap<String, RoleMapping>,
}

impl SecurityConfig {
    /// A domain whose master user is the IAM principal `arn`: AWS maps it to `all_access` and
    /// `security_manager` when fine-grained access control is turned on.
    pub fn with_master_user(arn: &str) -> Self {
        let master = RoleMapping {
            users: vec![arn.to_owned()],
            ..RoleMapping::default()
        };
        let mut mappings = BTreeMap::new();
        mappings.insert("all_access".to_owned(), master.clone());
        mappings.insert("security_manager".to_owned(), master);
        Self {
            roles: BTreeMap::new(),
            mappings,
        }
    }

    /// Adds `backend_role` (an IAM role ARN) to the mapping of `role`.
    #[must_use]
    pub fn map_backend_role(mut self, role: &str, backend_role: &str) -> Self {
        self.mappings
            .entry(role.to_owned())
            .or_default()
            .backend_roles
            .push(backend_role.to_owned());
        self
    }

    fn role(&self, name: &str) -> Option<Role> {
        builtin_role(name).or_else(|| self.roles.get(name).cloned())
    }

    /// The roles `user` is mapped to, with their definitions.
    fn roles_of(&self, user: &User) -> Vec<Role> {
        self.role_names_of(user)
            .iter()
            .filter_map(|name| self.role(name))
            .collect()
    }

    /// The names of the roles `user` is mapped to.
    fn role_names_of(&self, user: &User) -> Vec<String> {
        self.mappings
            .iter()
            .filter(|(_, m)| {
                m.users.iter().any(|u| glob(u, &user.name))
                    || m.backend_roles
                        .iter()
                        .any(|b| user.backend_roles.iter().any(|r| glob(b, r)))
            })
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// The built-in action groups (`static_action_groups.yml`).
fn action_group(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "cluster_all" => &["cluster:*"],
        "crud" => &["read", "write"],
        "search" => &[
            "indices:data/read/search*",
            "indices:data/read/msearch*",
            "suggest",
        ],
        "data_access" => &["indices:data/*", "crud"],
        "create_index" => &["indices:admin/create", "indices:admin/mapping/put"],
        "write" => &["indices:data/write*", "indices:admin/mapping/put"],
        "manage_aliases" => &["indices:admin/aliases*"],
        "read" => &["indices:data/read*", "indices:admin/mappings/fields/get*"],
        "indices_all" => &["indices:*"],
        "delete" => &["indices:data/write/delete*"],
        "cluster_composite_ops" => &[
            "indices:data/write/bulk",
            "indices:admin/aliases*",
            "indices:data/write/reindex",
            "cluster_composite_ops_ro",
        ],
        "cluster_composite_ops_ro" => &[
            "indices:data/read/mget",
            "indices:data/read/msearch",
            "indices:data/read/mtv",
            "indices:admin/aliases/exists*",
            "indices:admin/aliases/get*",
            "indices:data/read/scroll",
        ],
        "get" => &["indices:data/read/get*", "indices:data/read/mget*"],
        "manage" => &["indices:monitor/*", "indices:admin/*"],
        "cluster_monitor" => &["cluster:monitor/*"],
        "manage_snapshots" => &["cluster:admin/snapshot/*", "cluster:admin/repository/*"],
        "index" => &[
            "indices:data/write/index*",
            "indices:data/write/update*",
            "indices:admin/mapping/put",
            "indices:data/write/bulk*",
        ],
        "unlimited" => &["*"],
        "indices_monitor" => &["indices:monitor/*"],
        "suggest" => &["indices:data/read/suggest*"],
        "cluster_manage_index_templates" => &["indices:admin/template/*"],
        "cluster_manage_pipelines" => &["cluster:admin/ingest/pipeline/*"],
        "manage_data_streams" => &[
            "indices:admin/data_stream/*",
            "indices:monitor/data_stream/stats",
        ],
        _ => return None,
    })
}

/// The built-in roles osnap's tests use (`static_roles.yml`); `security_manager` is AWS's
/// role for the security REST API, whose own actions are not modelled here.
pub fn builtin_role(name: &str) -> Option<Role> {
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let on_every_index = |actions: &[&str]| {
        vec![IndexPermission {
            index_patterns: strings(&["*"]),
            allowed_actions: strings(actions),
            ..IndexPermission::default()
        }]
    };
    Some(match name {
        "all_access" => Role {
            cluster_permissions: strings(&["*"]),
            index_permissions: on_every_index(&["*"]),
            ..Role::default()
        },
        "manage_snapshots" => Role {
            cluster_permissions: strings(&["manage_snapshots"]),
            index_permissions: on_every_index(&[
                "indices:data/write/index",
                "indices:admin/create",
            ]),
            ..Role::default()
        },
        "readall" => Role {
            cluster_permissions: strings(&["cluster_composite_ops_ro"]),
            index_permissions: on_every_index(&["read"]),
            ..Role::default()
        },
        "readall_and_monitor" => Role {
            cluster_permissions: strings(&["cluster_monitor", "cluster_composite_ops_ro"]),
            index_permissions: on_every_index(&["read"]),
            ..Role::default()
        },
        "security_manager" => Role::default(),
        _ => return None,
    })
}

/// The plugin's wildcards: `*` any run of characters, `?` one character. A pattern in
/// `/…/` is a regular expression, which the stand-in does not evaluate (roles with one are
/// refused when defined).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Action names and groups, groups replaced by what they hold (recursively).
fn expand(permissions: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<String> = permissions.to_vec();
    while let Some(item) = todo.pop() {
        if !out.insert(item.clone()) {
            continue;
        }
        if let Some(members) = action_group(&item) {
            todo.extend(members.iter().map(|m| (*m).to_owned()));
        }
    }
    out
}

impl Role {
    /// Whether the role grants the cluster action `action`.
    pub fn grants_cluster(&self, action: &str) -> bool {
        expand(&self.cluster_permissions)
            .iter()
            .any(|p| glob(p, action))
    }

    /// Whether the role grants the index action `action` on `index`.
    pub fn grants_index(&self, action: &str, index: &str) -> bool {
        self.index_permissions.iter().any(|permission| {
            permission.index_patterns.iter().any(|p| glob(p, index))
                && expand(&permission.allowed_actions)
                    .iter()
                    .any(|a| glob(a, action))
        })
    }

    /// Why the stand-in cannot enforce this role, if it cannot.
    fn unmodelled(&self) -> Option<&'static str> {
        let patterns = self
            .index_permissions
            .iter()
            .flat_map(|p| p.index_patterns.iter().chain(&p.allowed_actions))
            .chain(&self.cluster_permissions);
        if patterns
            .clone()
            .any(|p| p.starts_with('/') || p.contains("${"))
        {
            return Some("regular-expression patterns and ${…} variables in roles");
        }
        if self
            .index_permissions
            .iter()
            .any(|p| p.dls.is_some() || !p.fls.is_empty() || !p.masked_fields.is_empty())
        {
            return Some("document- and field-level security");
        }
        None
    }
}

/// The user the plugin sees for a SigV4 caller.
#[derive(Debug, Clone, PartialEq, Eq)]
struct User {
    name: String,
    backend_roles: Vec<String>,
}

impl User {
    /// An assumed-role session (`arn:aws:sts::A:assumed-role/R/S`) is role `R`, named and
    /// mapped by the role's ARN; any other principal is a user named by its ARN.
    fn of(arn: &str) -> Self {
        let assumed = arn.strip_prefix("arn:aws:sts::").and_then(|rest| {
            let (account, rest) = rest.split_once(":assumed-role/")?;
            let role = rest.split('/').next()?;
            Some(format!("arn:aws:iam::{account}:role/{role}"))
        });
        match assumed {
            Some(role) => Self {
                name: role.clone(),
                backend_roles: vec![role],
            },
            None => Self {
                name: arn.to_owned(),
                backend_roles: Vec::new(),
            },
        }
    }
}

impl std::fmt::Display for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "User [name={}, backend_roles=[{}], requestedTenant=null]",
            self.name,
            self.backend_roles.join(", ")
        )
    }
}

/// One action the plugin checked for a caller, for tests that compare what a function
/// needs with what it was asked for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CheckedAction {
    /// The user's name (an IAM role's or user's ARN).
    pub user: String,
    pub action: String,
    pub granted: bool,
}

/// The plugin on one domain: its configuration, changed through its REST API, and a record
/// of every check.
#[derive(Debug)]
pub(crate) struct SecurityPlugin {
    config: Mutex<SecurityConfig>,
    checked: Mutex<Vec<CheckedAction>>,
}

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

impl SecurityPlugin {
    pub fn new(config: SecurityConfig) -> Self {
        Self {
            config: Mutex::new(config),
            checked: Mutex::new(Vec::new()),
        }
    }

    fn config(&self) -> std::sync::MutexGuard<'_, SecurityConfig> {
        self.config.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn take_checked(&self) -> Vec<CheckedAction> {
        std::mem::take(&mut *self.checked.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn record(&self, user: &User, action: &str, granted: bool) {
        self.checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(CheckedAction {
                user: user.name.clone(),
                action: action.to_owned(),
                granted,
            });
    }
}

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
        // `RestAllocationAction`: the cluster state, then the nodes' stats (their disks).
        Route::CatAllocation(_) => vec![
            Need::Cluster("cluster:monitor/state"),
            Need::Cluster("cluster:monitor/nodes/stats"),
        ],
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
    let repository = repository::lookup(shared, repo).ok()?;
    let listing = read_index(shared, &repository).await.ok()?;
    let entry = listing.snapshots.iter().find(|s| s.name == snapshot)?;
    let blobs = repository::blobs(shared, &repository)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_groups_expand_as_the_plugin_ships_them() {
        let manage = builtin_role("manage_snapshots").unwrap();
        assert!(manage.grants_cluster("cluster:admin/snapshot/restore"));
        assert!(manage.grants_cluster("cluster:admin/repository/put"));
        assert!(!manage.grants_cluster("cluster:monitor/main"));
        assert!(manage.grants_index("indices:admin/create", "logs-1"));
        assert!(!manage.grants_index("indices:admin/delete", "logs-1"));
        assert!(!manage.grants_index("indices:monitor/recovery", "logs-1"));
        let monitor = builtin_role("readall_and_monitor").unwrap();
        assert!(monitor.grants_cluster("cluster:monitor/state"));
        // `cluster_composite_ops_ro` lists it among cluster permissions, but an index action
        // is granted by index permissions only.
        assert!(!monitor.grants_index("indices:admin/aliases/get", "x"));
        assert!(monitor.grants_index("indices:data/read/search", "x"));
    }

    #[test]
    fn wildcards_are_the_plugins() {
        assert!(glob("logs-?", "logs-1"));
        assert!(!glob("logs-?", "logs-12"));
        assert!(glob("indices:monitor/*", "indices:monitor/recovery"));
        assert!(glob("*", ""));
        assert!(!glob(
            "cluster:admin/snapshot/get",
            "cluster:admin/snapshot/g"
        ));
    }

    #[test]
    fn sigv4_callers_become_users() {
        let role = User::of("arn:aws:sts::123456789012:assumed-role/osnap-fn/session-1");
        assert_eq!(
            role.to_string(),
            "User [name=arn:aws:iam::123456789012:role/osnap-fn, backend_roles=[arn:aws:iam::123456789012:role/osnap-fn], requestedTenant=null]"
        );
        let user = User::of("arn:aws:iam::123456789012:user/alice");
        assert_eq!(
            user.to_string(),
            "User [name=arn:aws:iam::123456789012:user/alice, backend_roles=[], requestedTenant=null]"
        );
    }

    #[test]
    fn roles_the_stand_in_cannot_enforce_are_named() {
        let dls = Role {
            index_permissions: vec![IndexPermission {
                index_patterns: vec!["*".into()],
                allowed_actions: vec!["read".into()],
                dls: Some("{}".into()),
                ..IndexPermission::default()
            }],
            ..Role::default()
        };
        assert!(dls.unmodelled().is_some());
        let regex = Role {
            cluster_permissions: vec!["/cluster:.*/".into()],
            ..Role::default()
        };
        assert!(regex.unmodelled().is_some());
        assert!(builtin_role("all_access").unwrap().unmodelled().is_none());
    }
}
