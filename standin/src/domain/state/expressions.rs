//! How the index APIs resolve `logs-*,-logs-old,orders` into concrete indices: names,
//! aliases, wildcards over both, and `-` exclusions, which apply only after a wildcard (a
//! leading `-x` is just a name that does not exist). Which index states a wildcard reaches
//! is each API's `expand_wildcards`.

use std::collections::BTreeSet;

use crate::domain::state::cluster::Cluster;
use crate::domain::state::tiers::{self, Tier};
use crate::domain::wire::names::{is_pattern, simple_match};
use crate::domain::wire::reply::EsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndicesOptions {
    pub ignore_unavailable: bool,
    pub allow_no_indices: bool,
    pub open: bool,
    pub closed: bool,
    pub hidden: bool,
    /// An alias may not stand for its indices (index deletion, alias updates).
    pub forbid_aliases: bool,
}

impl IndicesOptions {
    /// Missing names fail; wildcards reach open, visible indices.
    pub const STRICT: Self = Self {
        ignore_unavailable: false,
        allow_no_indices: true,
        open: true,
        closed: false,
        hidden: false,
        forbid_aliases: false,
    };

    /// Applies `expand_wildcards=open,closed,hidden,all,none`.
    pub fn with_expand(mut self, value: &str) -> Result<Self, EsError> {
        self.open = false;
        self.closed = false;
        self.hidden = false;
        for part in value.split(',').map(str::trim) {
            match part {
                "open" => self.open = true,
                "closed" => self.closed = true,
                "hidden" => self.hidden = true,
                "all" => {
                    self.open = true;
                    self.closed = true;
                    self.hidden = true;
                }
                "none" => {}
                other => {
                    return Err(EsError::illegal_argument(format!(
                        "No enum constant org.opensearch.action.support.IndicesOptions.WildcardStates.{}",
                        other.to_uppercase()
                    )));
                }
            }
        }
        Ok(self)
    }

    pub fn with_query(
        mut self,
        query: &crate::domain::wire::routes::Query,
    ) -> Result<Self, EsError> {
        if let Some(v) = query.get("expand_wildcards") {
            self = self.with_expand(v)?;
        }
        if let Some(v) = query.bool("ignore_unavailable")? {
            self.ignore_unavailable = v;
        }
        if let Some(v) = query.bool("allow_no_indices")? {
            self.allow_no_indices = v;
        }
        Ok(self)
    }
}

fn alias_not_supported(expression: &str) -> EsError {
    EsError::illegal_argument(format!(
        "The provided expression [{expression}] matches an alias, specify the corresponding \
         concrete indices instead."
    ))
}

/// An API that takes only indices was given a data stream (`IndexNameExpressionResolver`).
fn data_stream_not_supported(expression: &str) -> EsError {
    EsError::illegal_argument(format!(
        "The provided expression [{expression}] matches a data stream, specify the \
         corresponding concrete indices instead."
    ))
}

/// The tier `_warm` or `_hot` stands for.
fn tier_expression(expression: &str) -> Option<Tier> {
    match expression {
        "_warm" => Some(Tier::Warm),
        "_hot" => Some(Tier::Hot),
        _ => None,
    }
}

impl Cluster {
    fn exists(&self, name: &str, options: IndicesOptions) -> bool {
        self.indices.contains_key(name)
            || (!options.forbid_aliases
                && (self.has_alias(name) || self.data_streams.contains_key(name)))
    }

    /// A stream's backing indices in the states a wildcard reaches: hidden as they are, they
    /// are reached through their stream.
    fn stream_members(&self, stream: &str, options: IndicesOptions) -> Vec<String> {
        self.data_streams
            .get(stream)
            .map(|s| {
                s.indices
                    .iter()
                    .filter(|i| {
                        self.indices
                            .get(*i)
                            .is_some_and(|m| if m.open { options.open } else { options.closed })
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a wildcard reaches this index.
    fn reachable(&self, index: &str, expression: &str, options: IndicesOptions) -> bool {
        let Some(meta) = self.indices.get(index) else {
            return false;
        };
        let state_ok = if meta.open {
            options.open
        } else {
            options.closed
        };
        let implicit = index.starts_with('.') && expression.starts_with('.');
        state_ok && (!meta.is_hidden() || options.hidden || implicit)
    }

    fn expand(&self, expression: &str, options: IndicesOptions) -> (bool, BTreeSet<String>) {
        let mut matched = false;
        let mut out = BTreeSet::new();
        for name in self.indices.keys().filter(|n| simple_match(expression, n)) {
            matched = true;
            if self.reachable(name, expression, options) {
                out.insert(name.clone());
            }
        }
        if !options.forbid_aliases {
            for stream in self
                .data_streams
                .keys()
                .filter(|n| simple_match(expression, n))
            {
                matched = true;
                out.extend(self.stream_members(stream, options));
            }
            for alias in self
                .alias_names()
                .into_iter()
                .filter(|a| simple_match(expression, a))
            {
                matched = true;
                for index in self.alias_indices(&alias) {
                    if self.reachable(&index, expression, options) {
                        out.insert(index);
                    }
                }
            }
        }
        (matched, out)
    }

    /// The concrete indices `expressions` name, sorted.
    pub fn resolve(
        &self,
        expressions: &[String],
        options: IndicesOptions,
    ) -> Result<Vec<String>, EsError> {
        let trivial = expressions.is_empty()
            || (expressions.len() == 1 && (expressions[0] == "_all" || expressions[0] == "*"));
        let names: Vec<String> = if trivial {
            self.indices
                .keys()
                .filter(|n| self.reachable(n, "*", options))
                .cloned()
                .collect()
        } else {
            self.resolve_expressions(expressions, options)?
        };
        let mut concrete = BTreeSet::new();
        for name in &names {
            if self.indices.contains_key(name) {
                concrete.insert(name.clone());
            } else if self.data_streams.contains_key(name) {
                if options.forbid_aliases {
                    return Err(data_stream_not_supported(name));
                }
                concrete.extend(self.data_streams[name].indices.iter().cloned());
            } else if self.has_alias(name) {
                if options.forbid_aliases {
                    return Err(alias_not_supported(name));
                }
                concrete.extend(self.alias_indices(name));
            } else if !options.ignore_unavailable {
                return Err(EsError::index_not_found(name));
            }
        }
        if concrete.is_empty() && !options.allow_no_indices {
            let mut error = EsError::index_not_found("null");
            error.extra.insert(
                "resource.id".into(),
                serde_json::Value::from(expressions.join(",")),
            );
            return Err(error);
        }
        Ok(concrete.into_iter().collect())
    }

    fn resolve_expressions(
        &self,
        expressions: &[String],
        options: IndicesOptions,
    ) -> Result<Vec<String>, EsError> {
        let mut result: Option<Vec<String>> = None;
        let mut wildcard_seen = false;
        for (i, raw) in expressions.iter().enumerate() {
            if raw.is_empty() {
                return Err(EsError::index_not_found(raw));
            }
            if let Some(tier) = tier_expression(raw).filter(|_| !self.cold.no_ultrawarm) {
                // UltraWarm's `_warm` and `_hot` work like `_all`, for one tier (Developer
                // Guide, ultrawarm.md, "Listing hot and warm indexes").
                let members = self
                    .indices
                    .iter()
                    .filter(|(n, i)| {
                        tiers::tier(&i.settings) == tier && self.reachable(n, "*", options)
                    })
                    .map(|(n, _)| n.clone());
                result
                    .get_or_insert_with(|| expressions[..i].to_vec())
                    .extend(members);
                wildcard_seen = true;
                continue;
            }
            if raw.starts_with('_') {
                return Err(EsError::invalid_index_name(raw, "must not start with '_'."));
            }
            if self.exists(raw, options) {
                if let Some(result) = result.as_mut() {
                    result.push(raw.clone());
                }
                continue;
            }
            if options.forbid_aliases && self.has_alias(raw) && !options.ignore_unavailable {
                return Err(alias_not_supported(raw));
            }
            if options.forbid_aliases && self.data_streams.contains_key(raw) {
                return Err(data_stream_not_supported(raw));
            }
            let (add, expression) = match raw.strip_prefix('-') {
                Some(rest) if wildcard_seen => (false, rest),
                _ => (true, raw.as_str()),
            };
            let result = result.get_or_insert_with(|| expressions[..i].to_vec());
            if !is_pattern(expression) {
                if !options.ignore_unavailable && !self.exists(expression, options) {
                    return Err(EsError::index_not_found(expression));
                }
                if add {
                    result.push(expression.to_owned());
                } else {
                    result.retain(|r| r != expression);
                }
                continue;
            }
            let (matched, expanded) = self.expand(expression, options);
            if add {
                result.extend(expanded);
            } else {
                result.retain(|r| !expanded.contains(r));
            }
            if !options.allow_no_indices && !matched {
                return Err(EsError::index_not_found(expression));
            }
            wildcard_seen = true;
        }
        Ok(result.unwrap_or_else(|| expressions.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::state::cluster::Index;
    use crate::domain::state::settings::Settings;

    fn cluster() -> Cluster {
        let mut cluster = Cluster::default();
        for name in [".kibana_1", "logs-1", "logs-2", "orders"] {
            cluster.indices.insert(
                name.into(),
                Index::new(
                    name,
                    "u".into(),
                    Settings::new(),
                    1,
                    std::time::SystemTime::now(),
                ),
            );
        }
        if let Some(i) = cluster.indices.get_mut("logs-2") {
            i.aliases.insert("logs".into(), serde_json::json!({}));
        }
        cluster
    }

    fn resolve(exprs: &[&str]) -> Result<Vec<String>, EsError> {
        let exprs: Vec<String> = exprs.iter().map(|s| (*s).to_owned()).collect();
        cluster().resolve(&exprs, IndicesOptions::STRICT)
    }

    #[test]
    fn wildcards_exclusions_and_aliases() {
        assert_eq!(resolve(&[]).unwrap().len(), 4);
        assert_eq!(resolve(&["logs-*", "-logs-2"]).unwrap(), ["logs-1"]);
        assert_eq!(resolve(&["logs"]).unwrap(), ["logs-2"]);
        assert_eq!(
            resolve(&["*", "-.*"]).unwrap(),
            ["logs-1", "logs-2", "orders"]
        );
        assert_eq!(resolve(&["nothing-*"]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn an_exclusion_before_any_wildcard_is_a_missing_name() {
        let error = resolve(&["-orders", "-.*"]).unwrap_err();
        assert_eq!(error.kind, "index_not_found_exception");
        assert_eq!(error.reason, "no such index [-orders]");
        assert!(resolve(&["missing"]).is_err());
        assert!(resolve(&["_bad"]).is_err());
    }
}
