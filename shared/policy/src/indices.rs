//! Index patterns and system indices.
//!
//! A system index (one of [`SYSTEM_INDEX_PATTERNS`]: `.kibana_1`, `.opendistro_security`,
//! `.plugins-ml-config`, `.tasks`…) is never matched by a wildcard: osnap restores or deletes
//! one only when a pattern that itself starts with `.` names it. Other names that start with
//! `.` are data: above all a data stream's backing indices (`.ds-<stream>-<generation>`).

/// The system indices of Amazon OpenSearch Service domains, excluded by name from every
/// wildcard selection (not `-.*`, which drops data streams' `.ds-*` backing indices too).
/// Sources: the AWS developer guide, *Creating index snapshots*, restoring "all indexes
/// except the Dashboards and fine-grained access control indexes" (`-.kibana*,-.opendistro*`;
/// its Python sample: `-.kibana*,-.opendistro_security,-.opendistro-*`); OpenSearch's
/// `SystemIndices` (`.tasks`, from `TaskResultsService`) and the system index descriptors the
/// bundled plugins register (`.plugins-*`: ML commons, flow framework, security's
/// `.plugins-security-*`; `.opendistro-*`: alerting, ISM, job scheduler, asynchronous search,
/// reports; `.opensearch-*`: notifications, observability; `.ql-datasources`: SQL); and
/// OpenSearch Dashboards' own index (`.opensearch_dashboards*`, `.kibana*` on Elasticsearch
/// and Open Distro).
pub const SYSTEM_INDEX_PATTERNS: [&str; 7] = [
    ".kibana*",
    ".opensearch_dashboards*",
    ".opendistro*",
    ".plugins-*",
    ".opensearch-*",
    ".tasks*",
    ".ql-datasources*",
];

/// Whether `name` is a system index that wildcards must not reach.
pub fn is_system_index(name: &str) -> bool {
    SYSTEM_INDEX_PATTERNS.iter().any(|p| glob_match(p, name))
}

/// The data stream a backing index belongs to, read from its name: `.ds-<stream>-<generation>`
/// (`DataStream.getDefaultBackingIndexName`: the generation at least six digits), with the
/// `<yyyy.MM.dd>-` Elasticsearch 7.11+ puts before the generation. `None` for other names.
pub fn backing_stream(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(".ds-")?;
    let (stream, generation) = rest.rsplit_once('-')?;
    if generation.len() < 6 || !generation.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let dated = stream.rsplit_once('-').filter(|(_, date)| {
        date.len() == 10
            && date.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'.'
                } else {
                    b.is_ascii_digit()
                }
            })
    });
    let stream = dated.map_or(stream, |(s, _)| s);
    (!stream.is_empty()).then_some(stream)
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((star, matched)) = backtrack {
            pi = star + 1;
            ni = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// Index patterns as the snapshot API takes them: names and wildcards, with `-pattern`
/// excluding what earlier patterns matched. Only exclusions means "everything but".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSelection {
    patterns: Vec<String>,
}

impl IndexSelection {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Self {
        Self {
            patterns: patterns
                .iter()
                .flat_map(|p| p.as_ref().split(','))
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Every non-system index.
    pub fn all() -> Self {
        Self::new(&["*"])
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `name` is selected.
    pub fn matches(&self, name: &str) -> bool {
        let only_exclusions = self.patterns.iter().all(|p| p.starts_with('-'));
        let mut selected = only_exclusions && !is_system_index(name);
        for pattern in &self.patterns {
            match pattern.strip_prefix('-') {
                Some(excluded) => {
                    if glob_match(excluded, name) {
                        selected = false;
                    }
                }
                None => {
                    if pattern_reaches(pattern, name) {
                        selected = true;
                    }
                }
            }
        }
        selected
    }

    /// The selected names among `available`, in their order.
    pub fn select<'a, S: AsRef<str>>(&self, available: &'a [S]) -> Vec<&'a str> {
        available
            .iter()
            .map(AsRef::as_ref)
            .filter(|n| self.matches(n))
            .collect()
    }

    /// The concrete names (no wildcard) among the inclusions: each must exist.
    pub fn concrete_names(&self) -> impl Iterator<Item = &str> {
        self.patterns
            .iter()
            .filter(|p| !p.starts_with('-') && !p.contains('*'))
            .map(String::as_str)
    }

    /// The selection as the snapshot API's `indices` string, with system indices excluded
    /// by name ([`SYSTEM_INDEX_PATTERNS`]) unless one is named: osnap never sends a bare `*`. A domain applies `-x` only after a
    /// wildcard (a leading `-orders` is read as an index name), so exclusions alone are sent
    /// after `*`.
    pub fn to_request_string(&self) -> String {
        let mut parts = self.patterns.clone();
        if parts.first().is_none_or(|p| p.starts_with('-')) {
            parts.insert(0, "*".to_owned());
        }
        let names_system = parts
            .iter()
            .any(|p| !p.starts_with('-') && p.starts_with('.'));
        if !names_system {
            parts.extend(SYSTEM_INDEX_PATTERNS.iter().map(|p| format!("-{p}")));
        }
        parts.join(",")
    }
}

/// A wildcard reaches a system index only if the pattern itself starts with `.`.
fn pattern_reaches(pattern: &str, name: &str) -> bool {
    if is_system_index(name) && !pattern.starts_with('.') {
        return false;
    }
    glob_match(pattern, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (p, n, m) in [
            ("*", "logs", true),
            ("logs-*", "logs-2026", true),
            ("logs-*", "logs", false),
            ("*-2026*", "logs-2026.11", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("exact", "exact", true),
            ("exact", "exact2", false),
            ("**", "", true),
        ] {
            assert_eq!(glob_match(p, n), m, "{p} ~ {n}");
        }
    }

    const CLUSTER: [&str; 7] = [
        ".kibana_1",
        ".opendistro_security",
        ".plugins-ml-config",
        ".tasks",
        "logs-1",
        "logs-2",
        "orders",
    ];

    #[test]
    fn wildcards_never_reach_system_indices() {
        assert_eq!(
            IndexSelection::all().select(&CLUSTER),
            ["logs-1", "logs-2", "orders"]
        );
        assert_eq!(
            IndexSelection::new(&["*s*"]).select(&CLUSTER),
            ["logs-1", "logs-2", "orders"]
        );
        assert_eq!(
            IndexSelection::new(&["-orders"]).select(&CLUSTER),
            ["logs-1", "logs-2"]
        );
    }

    #[test]
    fn system_indices_only_when_named() {
        assert_eq!(
            IndexSelection::new(&[".kibana_1"]).select(&CLUSTER),
            [".kibana_1"]
        );
        assert_eq!(
            IndexSelection::new(&[".plugins*", "orders"]).select(&CLUSTER),
            [".plugins-ml-config", "orders"]
        );
    }

    #[test]
    fn exclusions_apply_in_order() {
        let selection = IndexSelection::new(&["logs-*,-logs-2", "orders"]);
        assert_eq!(selection.select(&CLUSTER), ["logs-1", "orders"]);
        assert_eq!(
            IndexSelection::new(&["*", "-logs-*"]).select(&CLUSTER),
            ["orders"]
        );
    }

    const EXCLUDED: &str = "-.kibana*,-.opensearch_dashboards*,-.opendistro*,-.plugins-*,\
                            -.opensearch-*,-.tasks*,-.ql-datasources*";

    #[test]
    fn request_strings_exclude_system_indices() {
        assert_eq!(
            IndexSelection::all().to_request_string(),
            format!("*,{EXCLUDED}")
        );
        assert_eq!(
            IndexSelection::new(&["logs-*", "-logs-2"]).to_request_string(),
            format!("logs-*,-logs-2,{EXCLUDED}")
        );
        assert_eq!(
            IndexSelection::new(&[".kibana_1", "x"]).to_request_string(),
            ".kibana_1,x"
        );
    }

    #[test]
    fn data_stream_backing_indices_are_data() {
        for backing in [".ds-logs-000001", ".ds-metrics-app-000012"] {
            assert!(!is_system_index(backing), "{backing}");
            assert!(IndexSelection::all().matches(backing), "{backing}");
        }
        for system in [
            ".kibana",
            ".opendistro-job-scheduler-lock",
            ".plugins-ml-config",
            ".tasks",
        ] {
            assert!(is_system_index(system), "{system}");
            assert!(!IndexSelection::all().matches(system), "{system}");
        }
    }

    #[test]
    fn backing_indices_name_their_stream() {
        assert_eq!(backing_stream(".ds-logs-000001"), Some("logs"));
        assert_eq!(backing_stream(".ds-logs-app-000012"), Some("logs-app"));
        assert_eq!(backing_stream(".ds-logs-2026.12.01-000003"), Some("logs"));
        assert_eq!(backing_stream(".ds-x-1234567"), Some("x"));
        for other in [
            "logs-000001",
            ".ds-logs-0001",
            ".ds--000001",
            ".ds-logs-00000a",
            ".ds-logs",
        ] {
            assert_eq!(backing_stream(other), None, "{other}");
        }
    }

    #[test]
    fn concrete_names_are_the_unwildcarded_inclusions() {
        let selection = IndexSelection::new(&["a", "b*", "-c", "d"]);
        assert_eq!(selection.concrete_names().collect::<Vec<_>>(), ["a", "d"]);
    }
}
