//! How a restored index's document count is judged against the manifest (pure).

use serde::{Deserialize, Serialize};

use super::IndexRecord;

/// The verdict on one restored index's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountVerdict {
    /// The count read before the snapshot, and after it where it was read again.
    Exact,
    /// Between the counts read before and after the snapshot: what an index that only takes
    /// new documents holds when it was written to while the snapshot ran.
    WithinInterval,
    /// Outside what the snapshot can hold: documents were lost or added.
    Mismatch,
    /// Nothing to judge by (not in the manifest, not countable, no second reading where one
    /// is needed).
    Unverified,
}

/// The verdict on `found` documents in a copy of the index `record` describes, with why.
pub fn judge_count(record: Option<&IndexRecord>, found: Option<u64>) -> (CountVerdict, String) {
    let Some(found) = found else {
        return (
            CountVerdict::Unverified,
            "the restored copy cannot be counted (closed or missing)".into(),
        );
    };
    let Some(record) = record else {
        return (
            CountVerdict::Unverified,
            format!("{found} documents; the manifest has no record of this index"),
        );
    };
    match (record.docs_before, record.docs_after) {
        (Some(before), Some(after)) => {
            let (low, high) = (before.min(after), before.max(after));
            if found == before && found == after {
                (
                    CountVerdict::Exact,
                    format!("{found} documents, as recorded"),
                )
            } else if (low..=high).contains(&found) {
                (
                    CountVerdict::WithinInterval,
                    format!(
                        "{found} documents, within the {low}..{high} before and after the \
                         snapshot (written to while it ran)"
                    ),
                )
            } else if low == high {
                (
                    CountVerdict::Mismatch,
                    format!("{found} documents, not the {low} before and after the snapshot"),
                )
            } else {
                (
                    CountVerdict::Mismatch,
                    format!(
                        "{found} documents, outside the {low}..{high} before and after the \
                         snapshot"
                    ),
                )
            }
        }
        (Some(before), None) if found == before => (
            CountVerdict::Exact,
            format!("{found} documents, as recorded before the snapshot"),
        ),
        (Some(before), None) if found < before => (
            CountVerdict::Mismatch,
            format!("{found} documents, fewer than the {before} recorded before the snapshot"),
        ),
        (Some(before), None) => (
            CountVerdict::Unverified,
            format!(
                "{found} documents, above the {before} before the snapshot; the manifest has no \
                 count after it"
            ),
        ),
        (None, Some(after)) if found <= after => (
            CountVerdict::WithinInterval,
            format!("{found} documents, at most the {after} after the snapshot (none before)"),
        ),
        (None, Some(after)) => (
            CountVerdict::Mismatch,
            format!("{found} documents, more than the {after} recorded after the snapshot"),
        ),
        (None, None) => (
            CountVerdict::Unverified,
            format!("{found} documents; the manifest recorded no count for this index"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(before: Option<u64>, after: Option<u64>) -> IndexRecord {
        IndexRecord {
            docs_before: before,
            docs_after: after,
            ..IndexRecord::default()
        }
    }

    #[test]
    fn each_reading_gives_its_verdict() {
        use CountVerdict::*;
        let cases = [
            (Some(5), Some(5), Some(5), Exact),
            (Some(5), Some(5), Some(6), Mismatch),
            (Some(5), Some(5), Some(4), Mismatch),
            (Some(5), Some(9), Some(5), WithinInterval),
            (Some(5), Some(9), Some(7), WithinInterval),
            (Some(5), Some(9), Some(9), WithinInterval),
            (Some(5), Some(9), Some(4), Mismatch),
            (Some(5), Some(9), Some(10), Mismatch),
            // Deletes while it ran: the interval is the two readings, whichever is larger.
            (Some(9), Some(5), Some(7), WithinInterval),
            // Never completed: only the first reading.
            (Some(5), None, Some(5), Exact),
            (Some(5), None, Some(4), Mismatch),
            (Some(5), None, Some(6), Unverified),
            // Created between the first reading and the create.
            (None, Some(3), Some(3), WithinInterval),
            (None, Some(3), Some(4), Mismatch),
            (None, None, Some(3), Unverified),
            (Some(5), Some(5), None, Unverified),
        ];
        for (before, after, found, expected) in cases {
            let (verdict, why) = judge_count(Some(&record(before, after)), found);
            assert_eq!(
                verdict, expected,
                "{before:?}..{after:?} found {found:?}: {why}"
            );
        }
        assert_eq!(judge_count(None, Some(3)).0, Unverified);
    }

    #[test]
    fn the_reason_names_the_interval() {
        let (_, why) = judge_count(Some(&record(Some(5), Some(9))), Some(7));
        assert!(why.contains("7 documents") && why.contains("5..9"), "{why}");
    }
}
