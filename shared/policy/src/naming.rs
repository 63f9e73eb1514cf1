//! Snapshot names: the template osnap expands (`nightly-{now:%Y.%m.%d-%H%M}`, in UTC), the
//! time a name made from a template carries, and the server's naming rules, checked before a
//! request is sent so a bad name is an `InvalidRequest` and not a failed snapshot.

use std::time::SystemTime;

use crate::time::UtcDateTime;

/// The name the snapshot function uses when the event gives none.
pub const DEFAULT_TEMPLATE: &str = "nightly-{now:%Y.%m.%d-%H%M%S}";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "snapshot name template `{template}` is invalid: {reason} (placeholders look like \
         {{now:%Y.%m.%d-%H%M}}; supported: %Y %m %d %H %M %S %%)"
    )]
    BadTemplate {
        template: String,
        reason: &'static str,
    },
    #[error("snapshot name `{name}` is invalid: {reason}")]
    BadName { name: String, reason: &'static str },
}

/// One piece of a compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

/// A parsed name template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTemplate {
    source: String,
    pieces: Vec<Piece>,
}

impl NameTemplate {
    pub fn parse(template: &str) -> Result<Self, NameError> {
        let bad = |reason| NameError::BadTemplate {
            template: template.to_owned(),
            reason,
        };
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = template;
        while let Some(c) = rest.chars().next() {
            match c {
                '{' => {
                    let end = rest.find('}').ok_or_else(|| bad("a `{` is not closed"))?;
                    let format = rest[1..end]
                        .strip_prefix("now:")
                        .ok_or_else(|| bad("only `{now:FORMAT}` placeholders exist"))?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    parse_format(format, &mut pieces).map_err(bad)?;
                    rest = &rest[end + 1..];
                }
                '}' => return Err(bad("a `}` has no `{`")),
                c => {
                    literal.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        if pieces.is_empty() {
            return Err(bad("it is empty"));
        }
        Ok(Self {
            source: template.to_owned(),
            pieces,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether names made from this template carry their own time.
    pub fn has_date(&self) -> bool {
        [Piece::Year, Piece::Month, Piece::Day]
            .iter()
            .all(|p| self.pieces.contains(p))
    }

    /// The name for `now` (UTC), checked against the naming rules.
    pub fn expand(&self, now: SystemTime) -> Result<String, NameError> {
        let t = UtcDateTime::from_system_time(now);
        let mut name = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => name.push_str(s),
                Piece::Year => name.push_str(&format!("{:04}", t.year)),
                Piece::Month => name.push_str(&format!("{:02}", t.month)),
                Piece::Day => name.push_str(&format!("{:02}", t.day)),
                Piece::Hour => name.push_str(&format!("{:02}", t.hour)),
                Piece::Minute => name.push_str(&format!("{:02}", t.minute)),
                Piece::Second => name.push_str(&format!("{:02}", t.second)),
            }
        }
        validate_snapshot_name(&name)?;
        Ok(name)
    }

    /// The time a name made from this template carries, or `None` when the name was not made
    /// from it (or the template has no date). Missing time-of-day parts count as zero.
    pub fn time_of(&self, name: &str) -> Option<SystemTime> {
        if !self.has_date() {
            return None;
        }
        let mut t = UtcDateTime {
            year: 0,
            month: 0,
            day: 0,
            hour: 0,
            minute: 0,
            second: 0,
        };
        let mut rest = name;
        for piece in &self.pieces {
            let width = match piece {
                Piece::Literal(s) => {
                    rest = rest.strip_prefix(s.as_str())?;
                    continue;
                }
                Piece::Year => 4,
                _ => 2,
            };
            let digits = rest.get(..width)?;
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let value: u32 = digits.parse().ok()?;
            match piece {
                Piece::Year => t.year = i64::from(value),
                Piece::Month => t.month = value,
                Piece::Day => t.day = value,
                Piece::Hour => t.hour = value,
                Piece::Minute => t.minute = value,
                Piece::Second => t.second = value,
                Piece::Literal(_) => {}
            }
            rest = &rest[width..];
        }
        if !rest.is_empty() {
            return None;
        }
        t.to_system_time()
    }
}

fn parse_format(format: &str, pieces: &mut Vec<Piece>) -> Result<(), &'static str> {
    let mut literal = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        let piece = match chars.next() {
            Some('Y') => Piece::Year,
            Some('m') => Piece::Month,
            Some('d') => Piece::Day,
            Some('H') => Piece::Hour,
            Some('M') => Piece::Minute,
            Some('S') => Piece::Second,
            Some('%') => {
                literal.push('%');
                continue;
            }
            _ => return Err("an unsupported % specifier"),
        };
        if !literal.is_empty() {
            pieces.push(Piece::Literal(std::mem::take(&mut literal)));
        }
        pieces.push(piece);
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(())
}

/// The snapshot naming rules of OpenSearch and Elasticsearch: lowercase, no whitespace, none
/// of `\ / * ? " < > | , #`, not starting with `_` or `-`, at most 255 bytes.
pub fn validate_snapshot_name(name: &str) -> Result<(), NameError> {
    let bad = |reason| NameError::BadName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.len() > 255 {
        return Err(bad("it is longer than 255 bytes"));
    }
    if name.starts_with('_') || name.starts_with('-') {
        return Err(bad("it must not start with `_` or `-`"));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(bad("it must not contain whitespace"));
    }
    if name.chars().any(char::is_uppercase) {
        return Err(bad("it must be lowercase"));
    }
    if name.contains(['\\', '/', '*', '?', '"', '<', '>', '|', ',', '#']) {
        return Err(bad("it must not contain any of \\ / * ? \" < > | , #"));
    }
    if name == "." || name == ".." {
        return Err(bad("it must not be `.` or `..`"));
    }
    Ok(())
}

/// The engine's rules for a repository name, which are not the snapshot rules: uppercase is
/// allowed. OpenSearch's and Elasticsearch's `RepositoriesService` refuse an empty name, `#`,
/// and the characters a file name may not hold (space, `,`, `"`, `*`, `\`, `<`, `|`, `>`, `/`,
/// `?`).
pub fn validate_repository_name(name: &str) -> Result<(), NameError> {
    let bad = |reason| NameError::BadName {
        name: crate::quote::short(name),
        reason,
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.contains('#') {
        return Err(bad("it must not contain `#`"));
    }
    if name.chars().any(char::is_whitespace)
        || name.contains(['\\', '/', '*', '?', '"', '<', '>', '|', ','])
    {
        return Err(bad(
            "it must not contain whitespace or any of \\ / * ? \" < > | ,",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn expands_in_utc() {
        let template = NameTemplate::parse("nightly-{now:%Y.%m.%d-%H%M}").unwrap();
        assert_eq!(
            template.expand(at(1_795_000_000)).unwrap(),
            "nightly-2026.11.18-1106"
        );
        let default = NameTemplate::parse(DEFAULT_TEMPLATE).unwrap();
        assert_eq!(
            default.expand(at(1_795_000_000)).unwrap(),
            "nightly-2026.11.18-110640"
        );
        let plain = NameTemplate::parse("before-upgrade").unwrap();
        assert_eq!(plain.expand(at(0)).unwrap(), "before-upgrade");
    }

    #[test]
    fn names_carry_their_time_back() {
        let template = NameTemplate::parse(DEFAULT_TEMPLATE).unwrap();
        let name = template.expand(at(1_795_000_000)).unwrap();
        assert_eq!(template.time_of(&name), Some(at(1_795_000_000)));
        let minutes = NameTemplate::parse("n-{now:%Y%m%d}-{now:%H%M}").unwrap();
        assert_eq!(
            minutes.time_of("n-20261118-1106"),
            Some(at(1_795_000_000 - 40))
        );
        // Foreign names, and dates that cannot be, carry no time.
        for foreign in [
            "manual-1",
            "nightly-2026.11.18-1106",
            "nightly-2026.02.30-000000",
            "nightly-2026.11.18-110640x",
        ] {
            assert_eq!(template.time_of(foreign), None, "{foreign}");
        }
        assert_eq!(NameTemplate::parse("plain").unwrap().time_of("plain"), None);
    }

    #[test]
    fn refuses_bad_templates() {
        for template in ["", "{now:%Y", "x}", "{then:%Y}", "{now:%Q}"] {
            assert!(NameTemplate::parse(template).is_err(), "{template}");
        }
        // A template whose expansion breaks the naming rules fails at expansion.
        let upper = NameTemplate::parse("Nightly-{now:%Y}").unwrap();
        assert!(matches!(
            upper.expand(at(0)),
            Err(NameError::BadName { .. })
        ));
    }

    #[test]
    fn enforces_the_servers_naming_rules() {
        for good in ["nightly-2026.11.28", "a", "snap_1", "x.y-z", "ünïcode"] {
            assert_eq!(validate_snapshot_name(good), Ok(()), "{good}");
        }
        let long = "a".repeat(256);
        for bad in [
            "",
            "_x",
            "-x",
            "a b",
            "A",
            "a/b",
            "a*",
            "a?",
            "a\"",
            "a<",
            "a>",
            "a|",
            "a,b",
            "a#",
            "a\\b",
            "..",
            long.as_str(),
        ] {
            assert!(validate_snapshot_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repository_names_follow_the_engines_own_rules() {
        for good in ["nightly", "Nightly-Backups", "logs_2026", "a.b"] {
            assert!(validate_repository_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a#b", "a b", "a,b", "a/b", "a*", "a\"b", "a?b", "a|b"] {
            assert!(validate_repository_name(bad).is_err(), "{bad:?}");
        }
    }
}
