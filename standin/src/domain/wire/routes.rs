//! Which endpoint a method and path name, the query parameters each endpoint accepts (the
//! engine refuses any other), and the engine's answers for unknown paths and wrong methods.

use http::Method;
use policy::engines::Capabilities;

use crate::domain::wire::reply::{EsError, Reply};

/// The decoded query string.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(b) = hex {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A path segment: `%XX` decoded, `+` kept.
pub(crate) fn decode_segment(text: &str) -> String {
    decode(&text.replace('+', "%2B"))
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Self { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `?flag` and `?flag=true` are true, `?flag=false` false; anything else is refused.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, EsError> {
        match self.get(name) {
            None => Ok(None),
            Some("" | "true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(EsError::illegal_argument(format!(
                "Failed to parse value [{other}] as only [true] or [false] are allowed."
            ))),
        }
    }

    pub fn flag(&self, name: &str, default: bool) -> Result<bool, EsError> {
        Ok(self.bool(name)?.unwrap_or(default))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }
}

/// Every endpoint the domain serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Root,
    ClusterHealth(Option<String>),
    CreateIndex(String),
    DeleteIndex(String),
    GetIndex(String),
    /// `GET <indices>/_settings[/<names>]`.
    GetSettings {
        index: String,
        names: Option<String>,
    },
    /// `GET _cold/indices/_search` (cold storage).
    ColdIndices,
    IndexExists(String),
    OpenIndex(String),
    CloseIndex(String),
    IndexDoc {
        index: String,
        id: Option<String>,
        create: bool,
    },
    Bulk(Option<String>),
    Count(Option<String>),
    CatIndices(Option<String>),
    CatSnapshots(Option<String>),
    /// `GET _cat/allocation[/<nodes>]`: each data node's shards and disk.
    CatAllocation(Option<String>),
    /// `GET _cat/shards[/<indices>]`: every shard copy, its state and why it is unassigned.
    CatShards(Option<String>),
    GetAliases {
        index: Option<String>,
        name: Option<String>,
    },
    UpdateAliases,
    PutAlias {
        index: String,
        name: String,
    },
    DeleteAlias {
        index: String,
        name: String,
    },
    Recovery(Option<String>),
    PutRepository(String),
    GetRepositories(Option<String>),
    VerifyRepository(String),
    DeleteRepository(String),
    CreateSnapshot {
        repository: String,
        snapshot: String,
    },
    GetSnapshots {
        repository: String,
        snapshots: String,
    },
    SnapshotStatus {
        repository: Option<String>,
        snapshots: Option<String>,
    },
    DeleteSnapshots {
        repository: String,
        snapshots: String,
    },
    Restore {
        repository: String,
        snapshot: String,
    },
    GetClusterSettings,
    PutClusterSettings,
    /// `PUT _index_template/<name>` (composable templates, as much as data streams need).
    PutIndexTemplate(String),
    GetIndexTemplates(Option<String>),
    PutDataStream(String),
    GetDataStreams(Option<String>),
    DeleteDataStream(String),
    /// `POST <stream>/_rollover`.
    Rollover(String),
    /// `PUT _plugins|_opendistro/_security/api/roles|rolesmapping/<name>` (security plugin on
    /// only).
    PutSecurityConfig {
        opendistro: bool,
        kind: String,
        name: String,
    },
    /// `GET|POST _plugins|_opendistro/_security/authinfo`: who the caller is to the plugin.
    AuthInfo {
        opendistro: bool,
    },
}

/// Whether a path segment can name indices (`_all` does, and UltraWarm's `_warm` and `_hot`;
/// other `_` names are APIs).
fn index_segment(segment: &str) -> bool {
    !segment.starts_with('_') || matches!(segment, "_all" | "_warm" | "_hot")
}

pub(crate) fn route(method: &Method, segments: &[&str]) -> Option<Route> {
    let s = |x: &str| x.to_owned();
    let opt = |x: Option<&&str>| x.map(|v| (*v).to_owned());
    let (get, put, post, delete, head) = (
        *method == Method::GET,
        *method == Method::PUT,
        *method == Method::POST,
        *method == Method::DELETE,
        *method == Method::HEAD,
    );
    Some(match segments {
        [] if get || head => Route::Root,
        ["_cluster", "health", rest @ ..] if get && rest.len() <= 1 => {
            Route::ClusterHealth(opt(rest.first()))
        }
        ["_cat", "indices", rest @ ..] if get && rest.len() <= 1 => {
            Route::CatIndices(opt(rest.first()))
        }
        ["_cat", "snapshots", rest @ ..] if get && rest.len() <= 1 => {
            Route::CatSnapshots(opt(rest.first()))
        }
        ["_cat", "allocation", rest @ ..] if get && rest.len() <= 1 => {
            Route::CatAllocation(opt(rest.first()))
        }
        ["_cat", "shards", rest @ ..] if get && rest.len() <= 1 => {
            Route::CatShards(opt(rest.first()))
        }
        [
            prefix @ ("_plugins" | "_opendistro"),
            "_security",
            "authinfo",
        ] if get || post => Route::AuthInfo {
            opendistro: *prefix == "_opendistro",
        },
        ["_cluster", "settings"] if get => Route::GetClusterSettings,
        ["_cluster", "settings"] if put => Route::PutClusterSettings,
        ["_alias" | "_aliases"] if get => Route::GetAliases {
            index: None,
            name: None,
        },
        // `HEAD` is `indices.exists_alias`: the same lookup, 200 or 404 without a body.
        ["_alias", name] if get || head => Route::GetAliases {
            index: None,
            name: Some(s(name)),
        },
        ["_aliases"] if post => Route::UpdateAliases,
        [index, "_alias" | "_aliases"] if (get || head) && index_segment(index) => {
            Route::GetAliases {
                index: Some(s(index)),
                name: None,
            }
        }
        [index, "_alias", name] if (get || head) && index_segment(index) => Route::GetAliases {
            index: Some(s(index)),
            name: Some(s(name)),
        },
        [index, "_alias" | "_aliases", name] if (put || post) && index_segment(index) => {
            Route::PutAlias {
                index: s(index),
                name: s(name),
            }
        }
        [index, "_alias" | "_aliases", name] if delete && index_segment(index) => {
            Route::DeleteAlias {
                index: s(index),
                name: s(name),
            }
        }
        ["_cold", "indices", "_search"] if get || post => Route::ColdIndices,
        [index, "_settings", rest @ ..] if get && rest.len() <= 1 && index_segment(index) => {
            Route::GetSettings {
                index: s(index),
                names: opt(rest.first()),
            }
        }
        ["_recovery"] if get => Route::Recovery(None),
        [index, "_recovery"] if get && index_segment(index) => Route::Recovery(Some(s(index))),
        ["_count"] if get || post => Route::Count(None),
        [index, "_count"] if (get || post) && index_segment(index) => Route::Count(Some(s(index))),
        ["_bulk"] if put || post => Route::Bulk(None),
        [index, "_bulk"] if (put || post) && index_segment(index) => Route::Bulk(Some(s(index))),
        [index, "_doc", id] if put || post => Route::IndexDoc {
            index: s(index),
            id: Some(s(id)),
            create: false,
        },
        [index, "_create", id] if put || post => Route::IndexDoc {
            index: s(index),
            id: Some(s(id)),
            create: true,
        },
        [index, "_doc"] if post => Route::IndexDoc {
            index: s(index),
            id: None,
            create: false,
        },
        [index, "_open"] if post => Route::OpenIndex(s(index)),
        [index, "_close"] if post => Route::CloseIndex(s(index)),
        ["_snapshot"] if get => Route::GetRepositories(None),
        ["_snapshot", "_status"] if get => Route::SnapshotStatus {
            repository: None,
            snapshots: None,
        },
        ["_snapshot", repository] if get => Route::GetRepositories(Some(s(repository))),
        ["_snapshot", repository] if put || post => Route::PutRepository(s(repository)),
        ["_snapshot", repository] if delete => Route::DeleteRepository(s(repository)),
        ["_snapshot", repository, "_verify"] if post => Route::VerifyRepository(s(repository)),
        ["_snapshot", repository, "_status"] if get => Route::SnapshotStatus {
            repository: Some(s(repository)),
            snapshots: None,
        },
        ["_snapshot", repository, snapshots, "_status"] if get => Route::SnapshotStatus {
            repository: Some(s(repository)),
            snapshots: Some(s(snapshots)),
        },
        ["_snapshot", repository, snapshot, "_restore"] if post => Route::Restore {
            repository: s(repository),
            snapshot: s(snapshot),
        },
        ["_snapshot", repository, snapshot] if put || post => Route::CreateSnapshot {
            repository: s(repository),
            snapshot: s(snapshot),
        },
        ["_snapshot", repository, snapshots] if get => Route::GetSnapshots {
            repository: s(repository),
            snapshots: s(snapshots),
        },
        ["_snapshot", repository, snapshots] if delete => Route::DeleteSnapshots {
            repository: s(repository),
            snapshots: s(snapshots),
        },
        ["_index_template", name] if put || post => Route::PutIndexTemplate(s(name)),
        ["_index_template", rest @ ..] if get && rest.len() <= 1 => {
            Route::GetIndexTemplates(opt(rest.first()))
        }
        ["_data_stream", name] if put => Route::PutDataStream(s(name)),
        ["_data_stream", rest @ ..] if get && rest.len() <= 1 => {
            Route::GetDataStreams(opt(rest.first()))
        }
        ["_data_stream", name] if delete => Route::DeleteDataStream(s(name)),
        [target, "_rollover"] if post && index_segment(target) => Route::Rollover(s(target)),
        // OpenSearch's prefix, and Open Distro's, which OpenSearch keeps (on Elasticsearch
        // only the latter is served: see `service::dispatch`).
        [
            prefix @ ("_plugins" | "_opendistro"),
            "_security",
            "api",
            kind @ ("roles" | "rolesmapping"),
            name,
        ] if put => Route::PutSecurityConfig {
            opendistro: *prefix == "_opendistro",
            kind: s(kind),
            name: s(name),
        },
        [index] if put && *index != "_snapshot" => Route::CreateIndex(s(index)),
        [index] if delete && *index != "_snapshot" => Route::DeleteIndex(s(index)),
        [index] if get && index_segment(index) => Route::GetIndex(s(index)),
        [index] if head && index_segment(index) => Route::IndexExists(s(index)),
        _ => return None,
    })
}

const COMMON: [&str; 7] = [
    "pretty",
    "human",
    "error_trace",
    "filter_path",
    "format",
    "source",
    "source_content_type",
];

/// The query parameters an endpoint reads, beside the common ones.
fn params(route: &Route) -> &'static [&'static str] {
    match route {
        Route::Root => &[],
        Route::ClusterHealth(_) => &[
            "level",
            "local",
            "timeout",
            "wait_for_active_shards",
            "wait_for_nodes",
            "wait_for_events",
            "wait_for_no_relocating_shards",
            "wait_for_no_initializing_shards",
            "wait_for_status",
            "expand_wildcards",
        ],
        Route::CreateIndex(_) => &["wait_for_active_shards", "timeout"],
        Route::GetClusterSettings => &["flat_settings", "include_defaults", "timeout"],
        Route::PutClusterSettings => &["flat_settings", "timeout"],
        Route::DeleteIndex(_) | Route::OpenIndex(_) | Route::CloseIndex(_) => &[
            "timeout",
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
            "wait_for_active_shards",
        ],
        Route::ColdIndices => &[
            "page_size",
            "sort",
            "pagination_id",
            "min_index_creation_date",
            "max_index_creation_date",
            "min_size",
            "max_size",
        ],
        Route::GetSettings { .. } => &[
            "local",
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
            "flat_settings",
            "include_defaults",
        ],
        Route::GetIndex(_) | Route::IndexExists(_) => &[
            "local",
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
            "flat_settings",
            "include_defaults",
        ],
        Route::IndexDoc { .. } => &[
            "refresh",
            "routing",
            "timeout",
            "version",
            "version_type",
            "op_type",
            "pipeline",
            "if_seq_no",
            "if_primary_term",
            "wait_for_active_shards",
            "require_alias",
        ],
        Route::Bulk(_) => &[
            "refresh",
            "routing",
            "timeout",
            "pipeline",
            "wait_for_active_shards",
            "require_alias",
            "_source",
            "_source_includes",
            "_source_excludes",
        ],
        Route::Count(_) => &[
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
            "q",
            "df",
            "routing",
            "preference",
            "terminate_after",
            "min_score",
        ],
        Route::CatIndices(_) => &[
            "h",
            "help",
            "v",
            "s",
            "bytes",
            "health",
            "pri",
            "expand_wildcards",
            "local",
            "time",
        ],
        Route::CatSnapshots(_) => &["h", "help", "v", "s", "ignore_unavailable", "time"],
        // `RestAllocationAction`.
        Route::CatAllocation(_) => &["h", "help", "v", "s", "bytes", "local"],
        // `RestShardsAction` (the API spec's `cat.shards` parameters).
        Route::CatShards(_) => &["h", "help", "v", "s", "bytes", "local", "time"],
        // The security plugin's `SecurityInfoAction`.
        Route::AuthInfo { .. } => &["verbose", "auth_type"],
        Route::GetAliases { .. } => &[
            "local",
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
        ],
        Route::UpdateAliases | Route::PutAlias { .. } | Route::DeleteAlias { .. } => &["timeout"],
        Route::Recovery(_) => &[
            "detailed",
            "active_only",
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
        ],
        Route::PutRepository(_) => &["verify", "timeout"],
        Route::GetRepositories(_) => &["local"],
        Route::VerifyRepository(_) | Route::DeleteRepository(_) => &["timeout"],
        Route::CreateSnapshot { .. } | Route::Restore { .. } => &["wait_for_completion"],
        Route::GetSnapshots { .. } => &["verbose", "ignore_unavailable"],
        Route::SnapshotStatus { .. } => &["ignore_unavailable"],
        Route::DeleteSnapshots { .. } | Route::PutSecurityConfig { .. } => &[],
        Route::PutIndexTemplate(_) => &["create", "cause", "timeout"],
        Route::GetIndexTemplates(_) => &["flat_settings", "local"],
        Route::PutDataStream(_) | Route::DeleteDataStream(_) => &["timeout"],
        Route::GetDataStreams(_) => &[],
        Route::Rollover(_) => &["dry_run", "wait_for_active_shards", "timeout"],
    }
}

fn takes_manager_timeout(route: &Route) -> bool {
    !matches!(
        route,
        Route::Root
            | Route::IndexDoc { .. }
            | Route::Bulk(_)
            | Route::Count(_)
            | Route::Recovery(_)
            | Route::PutSecurityConfig { .. }
            | Route::AuthInfo { .. }
    )
}

/// Parameters an endpoint reads only from some engine version on: whether this version reads
/// `name` on `route`, from the engine table (`policy::engines`); `None` where the version does
/// not matter.
fn read_from_version(route: &Route, name: &str, capabilities: &Capabilities) -> Option<bool> {
    match (route, name) {
        (Route::CatIndices(_), "expand_wildcards") => {
            Some(capabilities.expand_wildcards_on_cat_indices)
        }
        (Route::GetSnapshots { .. }, "verbose") => Some(capabilities.verbose_listing_param),
        (_, "master_timeout") => Some(capabilities.master_timeout && takes_manager_timeout(route)),
        (_, "cluster_manager_timeout") => {
            Some(capabilities.cluster_manager_timeout && takes_manager_timeout(route))
        }
        _ => None,
    }
}

/// Refuses query parameters the endpoint does not read on this engine version, as the engine
/// does.
pub(crate) fn check_params(
    route: &Route,
    query: &Query,
    path: &str,
    capabilities: &Capabilities,
) -> Result<(), EsError> {
    let allowed = |name: &str| {
        COMMON.contains(&name)
            || read_from_version(route, name, capabilities)
                .unwrap_or_else(|| params(route).contains(&name))
    };
    let mut unknown: Vec<&str> = query.names().filter(|n| !allowed(n)).collect();
    unknown.dedup();
    if unknown.is_empty() {
        return Ok(());
    }
    let plural = if unknown.len() > 1 { "s" } else { "" };
    let list: Vec<String> = unknown.iter().map(|n| format!("[{n}]")).collect();
    Err(EsError::illegal_argument(format!(
        "request [{path}] contains unrecognized parameter{plural}: {}",
        list.join(", ")
    )))
}

/// Endpoints and forms that OpenSearch serves (upstream's REST API specs declare them) but the
/// stand-in does not model: what it would answer is refused instead of guessed. Checked before
/// routing, since some of them would otherwise be read as names (`_cleanup` as a snapshot).
pub(crate) fn not_modelled(method: &Method, segments: &[&str], query: &Query) -> Option<String> {
    let (put_or_post, get) = (
        *method == Method::PUT || *method == Method::POST,
        *method == Method::GET,
    );
    let what = match segments {
        ["_snapshot", _, "_cleanup"] if *method == Method::POST => "snapshot.cleanup_repository",
        ["_snapshot", _, _, "_clone", _] if put_or_post => "snapshot.clone",
        ["_cat", "repositories" | "recovery", ..] => "this _cat API",
        // `help` lists each column's aliases and description, which the stand-in lacks.
        ["_cat", ..] if query.get("help").is_some() => "_cat help",
        [.., "_mapping"] | [.., "_mapping", "field", _] if get => "indices.get_mapping",
        // `<indices>/_settings` is modelled (the UltraWarm box type); all indices at once is not.
        ["_settings"] | ["_settings", _] if get => "indices.get_settings of every index",
        // `indices.put_alias` with the index or the alias in the body.
        ["_alias" | "_aliases", ..] | [_, "_alias" | "_aliases"]
            if put_or_post && !(segments == ["_aliases"] && *method == Method::POST) =>
        {
            "indices.put_alias with the index or alias named in the body"
        }
        ["_cluster", "health", ..] if matches!(query.get("level"), Some("indices" | "shards")) => {
            "cluster.health at level indices or shards"
        }
        [.., "_bulk"] if query.get("require_alias").is_some() => "_bulk with require_alias",
        _ => return None,
    };
    Some(format!(
        "stand-in: {what} is not modelled ({method} /{})",
        segments.join("/")
    ))
}

/// The answer for a path no endpoint serves: 405 when another method would serve it.
pub(crate) fn unmatched(method: &Method, segments: &[&str], uri: &str) -> Reply {
    let allowed: Vec<&str> = [
        Method::GET,
        Method::PUT,
        Method::POST,
        Method::DELETE,
        Method::HEAD,
    ]
    .iter()
    .filter(|m| route(m, segments).is_some())
    .map(Method::as_str)
    .collect();
    if allowed.is_empty() {
        Reply::json(
            http::StatusCode::BAD_REQUEST,
            &serde_json::json!({
                "error": format!("no handler found for uri [{uri}] and method [{method}]")
            }),
        )
    } else {
        Reply::plain_error(
            http::StatusCode::METHOD_NOT_ALLOWED,
            &format!(
                "Incorrect HTTP method for uri [{uri}] and method [{method}], allowed: [{}]",
                allowed.join(", ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::engines::{Engine, PROFILES};

    #[test]
    fn specific_routes_win_over_names() {
        assert_eq!(
            route(&Method::POST, &["_snapshot", "r", "_verify"]),
            Some(Route::VerifyRepository("r".into()))
        );
        assert_eq!(
            route(&Method::GET, &["_snapshot", "r", "_status"]),
            Some(Route::SnapshotStatus {
                repository: Some("r".into()),
                snapshots: None
            })
        );
        assert_eq!(
            route(&Method::GET, &["_snapshot", "r", "a,b"]),
            Some(Route::GetSnapshots {
                repository: "r".into(),
                snapshots: "a,b".into()
            })
        );
        assert_eq!(
            route(&Method::GET, &["logs", "_count"]),
            Some(Route::Count(Some("logs".into())))
        );
        assert_eq!(route(&Method::GET, &["_nope", "_count"]), None);
    }

    #[test]
    fn wrong_methods_get_405_and_unknown_paths_400() {
        let reply = unmatched(&Method::PUT, &["_cat", "indices"], "/_cat/indices");
        assert_eq!(reply.status, http::StatusCode::METHOD_NOT_ALLOWED);
        let reply = unmatched(&Method::GET, &["a", "b", "c", "d"], "/a/b/c/d");
        assert_eq!(reply.status, http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn unknown_parameters_are_refused() {
        let os = Engine::opensearch((2, 13, 0)).capabilities();
        let route = Route::GetSnapshots {
            repository: "r".into(),
            snapshots: "_all".into(),
        };
        let ok = Query::parse(Some("verbose=false&pretty"));
        assert!(check_params(&route, &ok, "/_snapshot/r/_all", &os).is_ok());
        let bad = Query::parse(Some("verbos=false"));
        let error = check_params(&route, &bad, "/_snapshot/r/_all", &os).unwrap_err();
        assert_eq!(
            error.reason,
            "request [/_snapshot/r/_all] contains unrecognized parameter: [verbos]"
        );
    }

    #[test]
    fn parameters_follow_the_engine_table() {
        let snapshots = Route::GetSnapshots {
            repository: "r".into(),
            snapshots: "_all".into(),
        };
        let manager = Query::parse(Some("cluster_manager_timeout=30s"));
        let master = Query::parse(Some("master_timeout=30s"));
        for engine in PROFILES {
            let caps = engine.capabilities();
            let takes_new = engine.is_opensearch() && engine.version >= (2, 0, 0);
            assert_eq!(
                check_params(&snapshots, &manager, "/x", &caps).is_ok(),
                takes_new,
                "{engine}"
            );
            assert!(
                check_params(&snapshots, &master, "/x", &caps).is_ok(),
                "{engine}"
            );
        }
        let cat = Route::CatIndices(None);
        let expand = Query::parse(Some("format=json&expand_wildcards=all"));
        let old = Engine::elasticsearch((7, 4, 2)).capabilities();
        let error = check_params(&cat, &expand, "/_cat/indices", &old).unwrap_err();
        assert_eq!(
            error.reason,
            "request [/_cat/indices] contains unrecognized parameter: [expand_wildcards]"
        );
        assert!(
            check_params(
                &cat,
                &expand,
                "/_cat/indices",
                &Engine::elasticsearch((7, 10, 2)).capabilities()
            )
            .is_ok()
        );
        // Where the endpoint never reads a manager timeout, no version accepts one.
        let count = Route::Count(None);
        assert!(check_params(&count, &master, "/_count", &old).is_err());
    }
}
