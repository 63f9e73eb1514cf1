//! Index patterns and system indices.
//!
//! A system index (any name starting with `.`: `.kibana_1`, `.opendistro_security`,
//! `.plugins-ml-config`, `.tasks`…) is never matched by a wildcard: osnap restores or deletes
//! one only when a pattern that itself starts with `.` names it.

/// Whether `name` is a system or hidden index that wildcards must not reach.
pub fn is_system_index(name: &str) -> bool {
    name.starts_with('.')
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
    /// unless named: osnap never sends a bare `*`. A domain applies `-x` only after a
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
            parts.push("-.*".to_owned());
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

    #[test]
    fn request_strings_exclude_system_indices() {
        assert_eq!(IndexSelection::all().to_request_string(), "*,-.*");
        assert_eq!(
            IndexSelection::new(&["logs-*", "-logs-2"]).to_request_string(),
            "logs-*,-logs-2,-.*"
        );
        assert_eq!(
            IndexSelection::new(&[".kibana_1", "x"]).to_request_string(),
            ".kibana_1,x"
        );
    }

    #[test]
    fn concrete_names_are_the_unwildcarded_inclusions() {
        let selection = IndexSelection::new(&["a", "b*", "-c", "d"]);
        assert_eq!(selection.concrete_names().collect::<Vec<_>>(), ["a", "d"]);
    }
}
