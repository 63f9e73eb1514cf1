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

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

    pub(crate) fn role(&self, name: &str) -> Option<Role> {
        builtin_role(name).or_else(|| self.roles.get(name).cloned())
    }

    /// The roles `user` is mapped to, with their definitions.
    pub(crate) fn roles_of(&self, user: &User) -> Vec<Role> {
        self.role_names_of(user)
            .iter()
            .filter_map(|name| self.role(name))
            .collect()
    }

    /// The names of the roles `user` is mapped to.
    pub(crate) fn role_names_of(&self, user: &User) -> Vec<String> {
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
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
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
pub(crate) fn expand(permissions: &[String]) -> BTreeSet<String> {
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
    pub(crate) fn unmodelled(&self) -> Option<&'static str> {
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
pub(crate) struct User {
    pub name: String,
    pub backend_roles: Vec<String>,
}

impl User {
    /// An assumed-role session (`arn:aws:sts::A:assumed-role/R/S`) is role `R`, named and
    /// mapped by the role's ARN; any other principal is a user named by its ARN.
    pub(crate) fn of(arn: &str) -> Self {
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

impl SecurityPlugin {
    pub fn new(config: SecurityConfig) -> Self {
        Self {
            config: Mutex::new(config),
            checked: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn config(&self) -> std::sync::MutexGuard<'_, SecurityConfig> {
        self.config.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn take_checked(&self) -> Vec<CheckedAction> {
        std::mem::take(&mut *self.checked.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn record(&self, user: &User, action: &str, granted: bool) {
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
