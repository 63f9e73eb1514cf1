//! What each function asks of a domain with fine-grained access control: the transport
//! actions the security plugin checks for the requests it sends (cluster actions are granted
//! by a role's `cluster_permissions`, index actions by its `index_permissions`). One function
//! role runs all five, so the shipped `osnap` role (`infra/fgac/osnap-role.json`) grants the
//! union; the tests compare each list with what the stand-in's security plugin checked.
//! Deleting an index is granted only on the drill's copies (`osnap-drill-*`, the default
//! drill prefix): even a bug cannot delete another index through the role.

/// One function's needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions {
    pub function: &'static str,
    pub cluster: &'static [&'static str],
    /// On every index the function names (the role grants them on `*`).
    pub index: &'static [&'static str],
    /// On the drill's copies only (the role grants them on [`DRILL_COPIES`]).
    pub drill_copies: &'static [&'static str],
}

/// The index pattern of the drill's copies, with the default prefix.
pub const DRILL_COPIES: &str = "osnap-drill-*";

/// Each function's needs, and the request that needs each action.
pub const BY_FUNCTION: [Permissions; 5] = [
    Permissions {
        function: "register",
        cluster: &[
            "cluster:admin/repository/get",    // GET _snapshot/<repo>
            "cluster:admin/repository/put",    // PUT _snapshot/<repo>
            "cluster:admin/repository/verify", // POST _snapshot/<repo>/_verify
        ],
        index: &[],
        drill_copies: &[],
    },
    Permissions {
        function: "snapshot",
        cluster: &[
            "cluster:monitor/main",          // GET / (the engine and version)
            "cluster:admin/snapshot/create", // PUT _snapshot/<repo>/<snapshot>
            "cluster:admin/snapshot/get",    // GET _snapshot/<repo>/<snapshot>
            "cluster:admin/repository/get",  // GET _snapshot/<repo> (the manifest's bucket)
            "cluster:monitor/state",         // GET _cat/indices (the manifest's counts)
            "cluster:monitor/health",        // GET _cat/indices
        ],
        index: &[
            "indices:monitor/settings/get", // GET _cat/indices; GET <selection>/_settings (tiers)
            "indices:monitor/stats",        // GET _cat/indices
            "indices:admin/get",            // GET <indices> (mappings, settings, aliases)
        ],
        drill_copies: &[],
    },
    Permissions {
        function: "verify",
        cluster: &[
            "cluster:monitor/main",           // GET / (the newest snapshot: how to list)
            "cluster:admin/snapshot/get",     // GET _snapshot/<repo>/…
            "cluster:admin/repository/get",   // GET _snapshot/<repo> (the manifest's bucket)
            "cluster:monitor/state",          // GET _cat/indices (counts), GET _cat/shards (drill)
            "cluster:monitor/health",         // GET _cat/indices
            "cluster:admin/snapshot/restore", // POST …/_restore (check "drill")
        ],
        index: &[
            "indices:monitor/recovery", // GET <indices>/_recovery (check "restore", "drill")
            "indices:monitor/settings/get", // GET _cat/indices (counts)
            "indices:monitor/stats",    // GET _cat/indices, GET _cat/shards (drill)
            "indices:admin/aliases/get", // GET _alias (the drill's restore plan)
            "indices:admin/create",     // the drill's restore, on each copy
            "indices:data/write/index", // the drill's restore, on each copy
            "indices:admin/get",        // GET <copies> (the drill's fingerprints)
        ],
        drill_copies: &[
            "indices:admin/delete", // DELETE <copies> (the drill, once judged)
        ],
    },
    Permissions {
        function: "restore",
        cluster: &[
            "cluster:monitor/main",           // GET /
            "cluster:admin/snapshot/get",     // GET _snapshot/<repo>/<snapshot>
            "cluster:monitor/state",          // GET _cat/indices, GET _cluster/settings
            "cluster:monitor/health",         // GET _cat/indices, GET _cluster/health
            "cluster:admin/snapshot/status",  // GET _snapshot/<repo>/<snapshot>/_status (replace)
            "cluster:admin/snapshot/restore", // POST _snapshot/<repo>/<snapshot>/_restore
            "cluster:monitor/nodes/stats",    // GET _cat/allocation (the dry run's preflight)
            "cluster:admin/repository/get",   // GET _snapshot/<repo> (the preflight: read-only?)
        ],
        index: &[
            "indices:monitor/settings/get", // GET _cat/indices
            "indices:monitor/stats",        // GET _cat/indices
            "indices:admin/aliases/get",    // GET _alias
            "indices:admin/close",          // POST <indices>/_close (on_conflict "replace")
            "indices:admin/open",           // POST <indices>/_open (a refused replace)
            "indices:admin/create",         // the restore, on every index it writes
            "indices:data/write/index",     // the restore, on every index it writes
            "indices:monitor/recovery",     // GET <indices>/_recovery
        ],
        drill_copies: &[],
    },
    Permissions {
        function: "prune",
        cluster: &[
            "cluster:monitor/main",          // GET /
            "cluster:admin/snapshot/get",    // GET _snapshot/<repo>/_all
            "cluster:admin/snapshot/delete", // DELETE _snapshot/<repo>/<a>,<b>
        ],
        index: &[],
        drill_copies: &[],
    },
];

fn union(pick: impl Fn(&Permissions) -> &'static [&'static str]) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = BY_FUNCTION.iter().flat_map(pick).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// Every cluster action some function needs, sorted.
pub fn cluster_actions() -> Vec<&'static str> {
    union(|p| p.cluster)
}

/// Every index action some function needs, sorted.
pub fn index_actions() -> Vec<&'static str> {
    union(|p| p.index)
}

/// Every action some function needs on the drill's copies only, sorted.
pub fn drill_copy_actions() -> Vec<&'static str> {
    union(|p| p.drill_copies)
}

/// The README's table of these needs, one row per function.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Function | Cluster actions | Index actions (on `*`) | On the drill's copies (`osnap-drill-*`) |\n| --- | --- | --- | --- |\n",
    );
    let list = |actions: &[&str]| {
        if actions.is_empty() {
            "—".to_owned()
        } else {
            actions
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    for p in &BY_FUNCTION {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            p.function,
            list(p.cluster),
            list(p.index),
            list(p.drill_copies)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_shipped_role_grants_exactly_the_union() {
        let role: Value =
            serde_json::from_str(include_str!("../../../infra/fgac/osnap-role.json")).unwrap();
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect()
        };
        let mut cluster = strings(&role["cluster_permissions"]);
        cluster.sort();
        assert_eq!(cluster, cluster_actions());
        let index = role["index_permissions"].as_array().unwrap();
        assert_eq!(index.len(), 2);
        assert_eq!(strings(&index[0]["index_patterns"]), ["*"]);
        let mut actions = strings(&index[0]["allowed_actions"]);
        actions.sort();
        assert_eq!(actions, index_actions());
        assert_eq!(strings(&index[1]["index_patterns"]), [DRILL_COPIES]);
        let mut actions = strings(&index[1]["allowed_actions"]);
        actions.sort();
        assert_eq!(actions, drill_copy_actions());
    }

    #[test]
    fn the_readme_shows_this_table() {
        let readme = include_str!("../../../README.md");
        assert!(
            readme.contains(&markdown_table()),
            "README.md's table of actions per function differs from:\n{}",
            markdown_table()
        );
    }
}
