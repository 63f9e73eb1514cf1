//! Names and patterns as the engine reads them: `*` wildcards, the naming rules for indices,
//! aliases and snapshots (in the order the engine checks them, so the first broken rule is
//! the one reported), and the way a restore picks indices out of a snapshot.

use crate::domain::wire::reply::EsError;

/// `*` matches any run of characters; nothing else is special.
pub(crate) fn simple_match(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

pub(crate) fn is_pattern(text: &str) -> bool {
    text.contains('*')
}

/// Splits a comma list, dropping empty parts.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The characters no file name, and so no index or snapshot name, may hold, in the order
/// the engine prints its set of them.
const INVALID_FILENAME_CHARS: [char; 10] = [' ', '"', '*', '\\', '<', '|', ',', '>', '/', '?'];

fn invalid_chars_text() -> String {
    let parts: Vec<String> = INVALID_FILENAME_CHARS.iter().map(char::to_string).collect();
    format!("[{}]", parts.join(", "))
}

fn has_invalid_filename_char(name: &str) -> bool {
    name.contains(INVALID_FILENAME_CHARS)
}

/// The rules index and alias names share; `Err` holds the reason.
fn index_or_alias_rules(name: &str, colon_forbidden: bool) -> Result<(), String> {
    if has_invalid_filename_char(name) {
        return Err(format!(
            "must not contain the following characters {}",
            invalid_chars_text()
        ));
    }
    if name.contains('#') {
        return Err("must not contain '#'".into());
    }
    if colon_forbidden && name.contains(':') {
        return Err("must not contain ':'".into());
    }
    if name.starts_with(['_', '-', '+']) {
        return Err("must not start with '_', '-', or '+'".into());
    }
    if name.len() > 255 {
        return Err(format!("index name is too long, ({} > 255)", name.len()));
    }
    if name == "." || name == ".." {
        return Err("must not be '.' or '..'".into());
    }
    Ok(())
}

/// A new index's name. OpenSearch refuses `:`; Elasticsearch 7 only deprecates it.
pub(crate) fn validate_index_name(name: &str, opensearch: bool) -> Result<(), EsError> {
    index_or_alias_rules(name, opensearch)
        .map_err(|why| EsError::invalid_index_name(name, &why))?;
    if name.to_lowercase() != name {
        return Err(EsError::invalid_index_name(name, "must be lowercase"));
    }
    Ok(())
}

pub(crate) fn validate_alias_name(name: &str, opensearch: bool) -> Result<(), EsError> {
    index_or_alias_rules(name, opensearch).map_err(|why| {
        EsError::bad_request(
            "invalid_alias_name_exception",
            format!("Invalid alias name [{name}], {why}"),
        )
    })
}

/// A new snapshot's name; `Err` holds the reason.
pub(crate) fn snapshot_name_rules(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("cannot be empty");
    }
    if name.contains(' ') {
        return Err("must not contain whitespace");
    }
    if name.contains(',') {
        return Err("must not contain ','");
    }
    if name.contains('#') {
        return Err("must not contain '#'");
    }
    if name.starts_with('_') {
        return Err("must not start with '_'");
    }
    if name.to_lowercase() != name {
        return Err("must be lowercase");
    }
    if has_invalid_filename_char(name) {
        return Err("must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]");
    }
    Ok(())
}

/// The indices a restore takes from a snapshot's `available` ones: names, wildcards, and
/// `-` exclusions (a leading exclusion starts from everything). Wildcards reach every index
/// of the snapshot, system ones included.
pub(crate) fn filter_snapshot_indices(
    available: &[String],
    selected: &[String],
    ignore_unavailable: bool,
) -> Result<Vec<String>, EsError> {
    let is_all = selected.is_empty()
        || (selected.len() == 1 && (selected[0] == "_all" || selected[0] == "*"));
    if is_all {
        return Ok(available.to_vec());
    }
    let mut result: Vec<String> = Vec::new();
    let mut started = false;
    let add = |result: &mut Vec<String>, name: &str| {
        if !result.iter().any(|r| r == name) {
            result.push(name.to_owned());
        }
    };
    for (i, raw) in selected.iter().enumerate() {
        if available.contains(raw) {
            started = true;
            add(&mut result, raw);
            continue;
        }
        let (include, pattern) = match raw.strip_prefix('-') {
            Some(rest) => {
                if i == 0 {
                    result = available.to_vec();
                }
                (false, rest)
            }
            None => (true, raw.strip_prefix('+').unwrap_or(raw)),
        };
        started = true;
        if !is_pattern(pattern) {
            if !available.iter().any(|a| a == pattern) {
                if !ignore_unavailable {
                    return Err(EsError::index_not_found(pattern));
                }
                continue;
            }
            if include {
                add(&mut result, pattern);
            } else {
                result.retain(|r| r != pattern);
            }
            continue;
        }
        for name in available.iter().filter(|a| simple_match(pattern, a)) {
            if include {
                add(&mut result, name);
            } else {
                result.retain(|r| r != name);
            }
        }
    }
    if !started {
        return Ok(selected.to_vec());
    }
    result.sort();
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(simple_match("*", ".kibana_1"));
        assert!(simple_match("logs-*", "logs-2026"));
        assert!(!simple_match("logs-*", "logs"));
        assert!(simple_match("a*b*c", "axxbyyc"));
        assert!(!simple_match("a*b*c", "axxbyy"));
    }

    #[test]
    fn snapshot_names_report_the_first_broken_rule() {
        assert_eq!(snapshot_name_rules("nightly-1"), Ok(()));
        assert_eq!(
            snapshot_name_rules("a b"),
            Err("must not contain whitespace")
        );
        assert_eq!(snapshot_name_rules("_a"), Err("must not start with '_'"));
        assert_eq!(snapshot_name_rules("Abc"), Err("must be lowercase"));
        assert!(snapshot_name_rules("a*b").is_err());
        assert!(snapshot_name_rules("a/b").is_err());
    }

    #[test]
    fn index_names() {
        assert!(validate_index_name("logs-1", true).is_ok());
        assert!(validate_index_name(".kibana_2", true).is_ok());
        for bad in ["Logs", "_x", "-x", "a b", "a,b", "a#b", ".", "a:b"] {
            assert!(validate_index_name(bad, true).is_err(), "{bad}");
        }
        assert!(validate_index_name("a:b", false).is_ok());
    }

    #[test]
    fn restores_pick_from_the_snapshot_with_exclusions() {
        let available: Vec<String> = [".kibana_1", "logs-1", "logs-2", "orders"]
            .map(String::from)
            .to_vec();
        let pick = |sel: &[&str]| {
            let sel: Vec<String> = sel.iter().map(|s| (*s).to_owned()).collect();
            filter_snapshot_indices(&available, &sel, false)
        };
        assert_eq!(pick(&["*"]).unwrap(), available);
        assert_eq!(pick(&["logs-*", "-logs-2"]).unwrap(), ["logs-1"]);
        assert_eq!(
            pick(&["-.kibana*"]).unwrap(),
            ["logs-1", "logs-2", "orders"]
        );
        assert_eq!(pick(&["orders"]).unwrap(), ["orders"]);
        assert!(pick(&["missing"]).is_err());
    }
}
