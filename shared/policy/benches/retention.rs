//! A retention decision over 10,000 snapshots, each holding several indices, with times
//! read back from osnap's own names.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use policy::naming::{DEFAULT_TEMPLATE, NameTemplate};
use policy::retention::{RetentionRule, SnapshotFacts, SnapshotState};

const SNAPSHOTS: u64 = 10_000;

fn bench_retention(c: &mut Criterion) {
    let template = NameTemplate::parse(DEFAULT_TEMPLATE).unwrap();
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    let names: Vec<String> = (0..SNAPSHOTS)
        .map(|i| {
            template
                .expand(start + Duration::from_secs(i * 3_600))
                .unwrap()
        })
        .collect();
    let indices: Vec<Vec<String>> = (0..SNAPSHOTS)
        .map(|i| (0..5).map(|k| format!("logs-{}-{k}", i / 24)).collect())
        .collect();
    let now = start + Duration::from_secs(SNAPSHOTS * 3_600);
    let rule = RetentionRule {
        name_pattern: "nightly-*".into(),
        keep_last: Some(30),
        max_age: Some(Duration::from_secs(90 * 86_400)),
        min_count: 3,
        protect_last_copy_of: vec!["logs-*".into()],
        pinned: vec![],
    };

    c.bench_function("retention/decide 10k snapshots (times from names)", |b| {
        b.iter(|| {
            let facts: Vec<SnapshotFacts<'_>> = names
                .iter()
                .zip(&indices)
                .map(|(name, indices)| SnapshotFacts {
                    name,
                    state: SnapshotState::Success,
                    time: template.time_of(name),
                    indices,
                    pinned: false,
                })
                .collect();
            black_box(rule.decide(&facts, now).unwrap())
        })
    });
}

criterion_group!(benches, bench_retention);
criterion_main!(benches);
