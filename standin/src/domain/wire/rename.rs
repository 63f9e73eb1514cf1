//! Restore's `rename_pattern` / `rename_replacement`, with Java's `String.replaceAll`
//! semantics: every match is replaced, `$1` and `${name}` refer to groups, `\` escapes.

use regex::Regex;

use crate::domain::wire::reply::EsError;

/// A compiled rename rule.
#[derive(Debug, Clone)]
pub(crate) struct Rename {
    pattern: Regex,
    replacement: String,
}

fn illegal_group(replacement: &str) -> EsError {
    EsError::illegal_argument(format!("Illegal group reference in [{replacement}]"))
}

/// Java's replacement syntax in the regex crate's: `$1` → `${1}` (as many digits as form a
/// group that exists), `\x` → `x`, a literal `$` → `$$`.
fn translate(replacement: &str, groups: usize) -> Result<String, EsError> {
    let chars: Vec<char> = replacement.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let next = *chars.get(i + 1).ok_or_else(|| {
                    EsError::illegal_argument("character to be escaped is missing")
                })?;
                if next == '$' {
                    out.push_str("$$");
                } else {
                    out.push(next);
                }
                i += 2;
            }
            '$' => match chars.get(i + 1) {
                Some('{') => {
                    let end = chars[i + 2..]
                        .iter()
                        .position(|c| *c == '}')
                        .ok_or_else(|| illegal_group(replacement))?;
                    let name: String = chars[i + 2..i + 2 + end].iter().collect();
                    out.push_str(&format!("${{{name}}}"));
                    i += end + 3;
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut group = d.to_digit(10).unwrap_or(0) as usize;
                    let mut j = i + 2;
                    while let Some(n) = chars.get(j).and_then(|c| c.to_digit(10)) {
                        let longer = group * 10 + n as usize;
                        if longer > groups {
                            break;
                        }
                        group = longer;
                        j += 1;
                    }
                    if group > groups {
                        return Err(EsError::illegal_argument(format!("No group {group}")));
                    }
                    out.push_str(&format!("${{{group}}}"));
                    i = j;
                }
                _ => return Err(illegal_group(replacement)),
            },
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

impl Rename {
    pub fn new(pattern: &str, replacement: &str) -> Result<Self, EsError> {
        let compiled = Regex::new(pattern)
            .map_err(|e| EsError::bad_request("pattern_syntax_exception", format!("{e}")))?;
        let groups = compiled.captures_len() - 1;
        Ok(Self {
            replacement: translate(replacement, groups)?,
            pattern: compiled,
        })
    }

    pub fn apply(&self, name: &str) -> String {
        self.pattern
            .replace_all(name, self.replacement.as_str())
            .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_style_renames() {
        let rule = Rename::new("(.+)", "restored-$1").unwrap();
        assert_eq!(rule.apply("logs-1"), "restored-logs-1");
        let rule = Rename::new("logs-(\\d+)", "old-$1x").unwrap();
        assert_eq!(rule.apply("logs-7"), "old-7x");
        let rule = Rename::new("a", "b").unwrap();
        assert_eq!(rule.apply("banana"), "bbnbnb");
        let rule = Rename::new("(?<base>.+)", "${base}-copy").unwrap();
        assert_eq!(rule.apply("orders"), "orders-copy");
        let rule = Rename::new("(x)", "\\$1").unwrap();
        assert_eq!(rule.apply("x"), "$1");
        assert!(Rename::new("(.+)", "$2").is_err());
        assert!(Rename::new("(", "x").is_err());
    }
}
