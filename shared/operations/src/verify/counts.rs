//! `check: counts`: each restored copy's count judged against the snapshot's manifest, the
//! source's drift since the snapshot reported beside it (pure, so every rule is tested).

use std::collections::BTreeMap;

use crate::bounded::Bounded;
use crate::manifest::Manifest;
use crate::manifest::judge::{CountVerdict, judge_count};
use crate::requests::{CountBasis, CountsReport, ShardCounts, VerifyResponse};

/// Index → its open `docs.count` (`None`: closed).
pub(super) type Counts = BTreeMap<String, Option<u64>>;

/// The verdicts, one per restored pair, and what is reported beside them.
#[derive(Debug)]
pub(super) struct Judged {
    basis: CountBasis,
    no_manifest: Option<String>,
    verdicts: Vec<(CountVerdict, String)>,
    drift: Vec<String>,
    deleted_on_source: Vec<String>,
}

/// Judges each `(from, to)` pair: against the manifest when there is one (`Err`: why not),
/// else against the source as it is now, else not at all.
pub(super) fn judge(
    pairs: &[(&str, &str)],
    manifest: Result<&Manifest, &str>,
    found: &Counts,
    source: Option<&Counts>,
) -> Judged {
    let mut drift = Vec::new();
    let mut deleted_on_source = Vec::new();
    let mut verdicts = Vec::new();
    let count_of = |counts: &Counts, name: &str| counts.get(name).copied().flatten();
    for &(from, to) in pairs {
        let copy = count_of(found, to);
        let now = source.map(|s| (s.contains_key(from), count_of(s, from)));
        let verdict = match manifest {
            Ok(manifest) => {
                let record = manifest.indices.get(from);
                if let (Some(record), Some((present, now))) = (record, now) {
                    let at_snapshot = record.docs_after.or(record.docs_before);
                    match (present, now, at_snapshot) {
                        (false, _, _) => deleted_on_source.push(from.to_owned()),
                        (true, Some(now), Some(then)) if now != then => drift.push(format!(
                            "{from}: {then} at the snapshot, {now} now ({:+})",
                            i128::from(now) - i128::from(then)
                        )),
                        _ => {}
                    }
                }
                judge_count(record, copy)
            }
            Err(_) => match (now, copy) {
                (Some((false, _)), _) => {
                    deleted_on_source.push(from.to_owned());
                    (
                        CountVerdict::Unverified,
                        "deleted on the source since, and no manifest to judge by".to_owned(),
                    )
                }
                (Some((true, Some(now))), Some(copy)) if now == copy => (
                    CountVerdict::Exact,
                    format!("{copy} documents, as the source has now"),
                ),
                (Some((true, now)), copy) => (
                    CountVerdict::Unverified,
                    format!(
                        "source {} now, copy {}; with no manifest, writes since the snapshot \
                         cannot be told from loss",
                        show(now),
                        show(copy)
                    ),
                ),
                (None, copy) => (
                    CountVerdict::Unverified,
                    format!("{}; no manifest and no source to judge by", show(copy)),
                ),
            },
        };
        verdicts.push(verdict);
    }
    let (basis, no_manifest) = match (manifest, source) {
        (Ok(_), _) => (CountBasis::Manifest, None),
        (Err(why), Some(_)) => (CountBasis::LiveSource, Some(why.to_owned())),
        (Err(why), None) => (CountBasis::Nothing, Some(why.to_owned())),
    };
    Judged {
        basis,
        no_manifest,
        verdicts,
        drift,
        deleted_on_source,
    }
}

fn show(count: Option<u64>) -> String {
    count.map_or_else(|| "not countable".to_owned(), |c| c.to_string())
}

/// The answer: `MATCH` when every copy is exact, `MATCH_WITHIN_INTERVAL` when some are only
/// within their interval, `MATCH_LIVE_SOURCE` when there was no manifest and every copy equals
/// the source now, `MISMATCH` on any mismatch, else `UNVERIFIED`. Only the three matches are
/// ok.
pub(super) fn response(
    repository: &str,
    snapshot: &str,
    pairs: &[(&str, &str)],
    judged: Judged,
) -> VerifyResponse {
    let tally = |wanted: CountVerdict| judged.verdicts.iter().filter(|(v, _)| *v == wanted).count();
    let (exact, within, mismatch, unverified) = (
        tally(CountVerdict::Exact),
        tally(CountVerdict::WithinInterval),
        tally(CountVerdict::Mismatch),
        tally(CountVerdict::Unverified),
    );
    let state = if mismatch > 0 {
        "MISMATCH"
    } else if unverified > 0 {
        "UNVERIFIED"
    } else if judged.basis == CountBasis::LiveSource {
        "MATCH_LIVE_SOURCE"
    } else if within > 0 {
        "MATCH_WITHIN_INTERVAL"
    } else {
        "MATCH"
    };
    let failures: Vec<String> = pairs
        .iter()
        .zip(&judged.verdicts)
        .filter(|(_, (v, _))| matches!(v, CountVerdict::Mismatch | CountVerdict::Unverified))
        .map(|((_, to), (_, why))| format!("{to}: {why}"))
        .collect();
    for ((from, to), (verdict, why)) in pairs.iter().zip(&judged.verdicts) {
        tracing::info!(index = %to, from = %from, ?verdict, %why, "count judged");
    }
    let total = pairs.len() as u64;
    let failed = (mismatch + unverified) as u64;
    let quoted = |lines: &[String]| {
        let short: Vec<String> = lines.iter().map(|l| policy::quote::short(l)).collect();
        Bounded::from_slice(&short)
    };
    VerifyResponse {
        repository: repository.to_owned(),
        snapshot: snapshot.to_owned(),
        state: state.to_owned(),
        done: true,
        ok: failed == 0,
        indices: Bounded::from_slice(&pairs.iter().map(|(_, to)| *to).collect::<Vec<_>>()),
        shards: ShardCounts {
            total,
            successful: total - failed,
            failed,
        },
        failure_count: failures.len(),
        failures: super::capped(failures),
        age_seconds: None,
        duration_millis: None,
        manifest: None,
        drill: None,
        index_bytes: None,
        counts: Some(CountsReport {
            basis: judged.basis,
            no_manifest: judged.no_manifest.as_deref().map(policy::quote::short),
            exact,
            within_interval: within,
            mismatch,
            unverified,
            drift: quoted(&judged.drift),
            deleted_on_source: quoted(&judged.deleted_on_source),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{FORMAT, IndexRecord};

    fn manifest(records: &[(&str, Option<u64>, Option<u64>)]) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            repository: "r".into(),
            snapshot: "s".into(),
            engine: "OpenSearch 2.13.0".into(),
            counted_before_millis: 1,
            completed: None,
            indices: records
                .iter()
                .map(|(name, before, after)| {
                    (
                        (*name).to_owned(),
                        IndexRecord {
                            docs_before: *before,
                            docs_after: *after,
                            ..IndexRecord::default()
                        },
                    )
                })
                .collect(),
            data_streams: BTreeMap::new(),
            last_drill: None,
        }
    }

    fn counts(rows: &[(&str, Option<u64>)]) -> Counts {
        rows.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
    }

    #[test]
    fn a_live_source_drifts_without_failing_the_check() {
        let m = manifest(&[("logs", Some(8), Some(11)), ("orders", Some(5), Some(5))]);
        let pairs = [("logs", "logs"), ("orders", "orders"), ("gone", "gone")];
        let mut m2 = m.clone();
        m2.indices.insert(
            "gone".into(),
            IndexRecord {
                docs_before: Some(3),
                docs_after: Some(3),
                ..IndexRecord::default()
            },
        );
        let found = counts(&[("logs", Some(10)), ("orders", Some(5)), ("gone", Some(3))]);
        // The source kept taking writes and deleted `gone`.
        let source = counts(&[("logs", Some(40)), ("orders", Some(5))]);
        let answer = response(
            "r",
            "s",
            &pairs,
            judge(&pairs, Ok(&m2), &found, Some(&source)),
        );
        assert!(answer.ok, "{answer:?}");
        assert_eq!(answer.state, "MATCH_WITHIN_INTERVAL");
        let report = answer.counts.unwrap();
        assert_eq!(report.basis, CountBasis::Manifest);
        assert_eq!((report.exact, report.within_interval), (2, 1));
        assert_eq!(
            report.drift.names,
            ["logs: 11 at the snapshot, 40 now (+29)"]
        );
        assert_eq!(report.deleted_on_source.names, ["gone"]);
    }

    #[test]
    fn a_lost_document_is_a_mismatch_whatever_the_source_does() {
        let m = manifest(&[("orders", Some(5), Some(5))]);
        let pairs = [("orders", "restored-orders")];
        let found = counts(&[("restored-orders", Some(4))]);
        let answer = response("r", "s", &pairs, judge(&pairs, Ok(&m), &found, None));
        assert!(!answer.ok);
        assert_eq!(answer.state, "MISMATCH");
        assert_eq!(answer.failures.len(), 1);
        assert!(
            answer.failures[0].starts_with("restored-orders: 4 documents, not the 5"),
            "{:?}",
            answer.failures
        );
        let all_exact = counts(&[("restored-orders", Some(5))]);
        let answer = response("r", "s", &pairs, judge(&pairs, Ok(&m), &all_exact, None));
        assert_eq!((answer.ok, answer.state.as_str()), (true, "MATCH"));
    }

    #[test]
    fn without_a_manifest_only_equal_live_counts_pass_and_say_so() {
        let pairs = [("logs", "logs"), ("orders", "orders")];
        let found = counts(&[("logs", Some(8)), ("orders", Some(5))]);
        let same = counts(&[("logs", Some(8)), ("orders", Some(5))]);
        let answer = response(
            "r",
            "s",
            &pairs,
            judge(&pairs, Err("no manifest at `k`"), &found, Some(&same)),
        );
        assert_eq!(
            (answer.ok, answer.state.as_str()),
            (true, "MATCH_LIVE_SOURCE")
        );
        let report = answer.counts.unwrap();
        assert_eq!(report.basis, CountBasis::LiveSource);
        assert_eq!(report.no_manifest.as_deref(), Some("no manifest at `k`"));
        // The source moved on: not a mismatch (it cannot be told), not a match either.
        let moved = counts(&[("logs", Some(9)), ("orders", Some(5))]);
        let answer = response(
            "r",
            "s",
            &pairs,
            judge(&pairs, Err("no manifest"), &found, Some(&moved)),
        );
        assert_eq!((answer.ok, answer.state.as_str()), (false, "UNVERIFIED"));
        assert!(
            answer.failures[0].contains("cannot be told"),
            "{:?}",
            answer.failures
        );
        let nothing = response("r", "s", &pairs, judge(&pairs, Err("none"), &found, None));
        assert_eq!((nothing.ok, nothing.state.as_str()), (false, "UNVERIFIED"));
        assert_eq!(nothing.counts.unwrap().basis, CountBasis::Nothing);
    }

    #[test]
    fn every_list_is_bounded() {
        let names: Vec<String> = (0..40).map(|i| format!("logs-{i:02}")).collect();
        let pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), n.as_str())).collect();
        let records: Vec<(&str, Option<u64>, Option<u64>)> = names
            .iter()
            .map(|n| (n.as_str(), Some(1), Some(2)))
            .collect();
        let found: Counts = names.iter().map(|n| (n.clone(), Some(7))).collect();
        let source: Counts = names.iter().map(|n| (n.clone(), Some(9))).collect();
        let answer = response(
            "r",
            "s",
            &pairs,
            judge(&pairs, Ok(&manifest(&records)), &found, Some(&source)),
        );
        assert_eq!((answer.failures.len(), answer.failure_count), (10, 40));
        let report = answer.counts.unwrap();
        assert_eq!((report.drift.count, report.drift.names.len()), (40, 10));
        assert!(report.drift.truncated && answer.indices.truncated);
    }
}
