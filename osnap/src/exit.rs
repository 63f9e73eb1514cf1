//! Exit codes: one per `errorType` of the taxonomy, so a script branches on them as a state
//! machine's `Retry` and `Catch` do. Grouped by what a caller does next: 10-19 fix the call
//! or the access, 20-29 retry later, 30-39 set up the repository or the name, 40-49 look at
//! the snapshot, 50-59 choose another restore or prune. The README's table is this one.

/// Done.
pub const SUCCESS: u8 = 0;
/// A failure outside the taxonomy (the local stand-in could not start, output lost).
pub const FAILURE: u8 = 1;
/// The command line could not be read (clap's own code).
pub const USAGE: u8 = 2;
/// A destructive command was not confirmed: no terminal to ask on and no `--yes`, or the
/// operator answered no. Nothing was changed.
pub const NOT_CONFIRMED: u8 = 3;
/// `osnap migrate` stopped on its preflight's blocking findings (the migrate workflow's
/// `PreflightBlocked`). Nothing was changed.
pub const PREFLIGHT_BLOCKED: u8 = 4;

/// `errorType` → exit code, in the order of `OsnapError::ERROR_TYPES`.
pub const BY_ERROR_TYPE: [(&str, u8); 13] = [
    ("InvalidRequest", 10),
    ("EndpointNotAllowed", 11),
    ("AccessDenied", 12),
    ("Throttled", 20),
    ("DomainUnavailable", 21),
    ("RepositoryMissing", 30),
    ("RepositoryConflict", 31),
    ("SnapshotMissing", 32),
    ("SnapshotInProgress", 22),
    ("SnapshotFailed", 40),
    ("SnapshotStale", 41),
    ("RestoreConflict", 50),
    ("UnsafeOperation", 51),
];

/// The exit code for an `errorType`; [`FAILURE`] for one this build does not know.
pub fn for_error_type(error_type: &str) -> u8 {
    BY_ERROR_TYPE
        .iter()
        .find(|(name, _)| *name == error_type)
        .map_or(FAILURE, |&(_, code)| code)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use operations::OsnapError;

    use super::*;

    #[test]
    fn every_error_type_has_its_own_code() {
        let names: Vec<&str> = BY_ERROR_TYPE.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, OsnapError::ERROR_TYPES);
        let codes: HashSet<u8> = BY_ERROR_TYPE.iter().map(|&(_, code)| code).collect();
        assert_eq!(codes.len(), BY_ERROR_TYPE.len(), "codes are distinct");
        for reserved in [SUCCESS, FAILURE, USAGE, NOT_CONFIRMED, PREFLIGHT_BLOCKED] {
            assert!(!codes.contains(&reserved), "{reserved} is reserved");
        }
        assert_eq!(for_error_type("Throttled"), 20);
        assert_eq!(for_error_type("SomethingNew"), FAILURE);
    }

    #[test]
    fn the_readme_table_is_this_one() {
        let readme = include_str!("../../README.md");
        let documented: Vec<(String, u8)> = readme
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let code = cells.get(1)?.parse().ok()?;
                let name = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((name.to_owned(), code))
            })
            .collect();
        let expected: Vec<(String, u8)> = BY_ERROR_TYPE
            .iter()
            .map(|&(name, code)| (name.to_owned(), code))
            .collect();
        let mut sorted = expected.clone();
        sorted.sort_by_key(|&(_, code)| code);
        assert_eq!(documented, sorted);
    }

    #[test]
    fn transient_errors_are_the_retry_group() {
        let transient = [
            OsnapError::Throttled {
                message: String::new(),
            },
            OsnapError::DomainUnavailable {
                message: String::new(),
            },
            OsnapError::SnapshotInProgress {
                message: String::new(),
            },
        ];
        for error in &transient {
            assert!(error.is_transient());
            assert!((20..30).contains(&for_error_type(error.error_type())));
        }
        let retry_group = BY_ERROR_TYPE
            .iter()
            .filter(|&&(_, code)| (20..30).contains(&code))
            .count();
        assert_eq!(retry_group, transient.len());
    }
}
