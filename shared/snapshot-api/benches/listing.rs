//! Parsing a 10,000-snapshot listing, verbose and brief (`verbose=false`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use snapshot_api::snapshot::parse_snapshot_list;

const SNAPSHOTS: u64 = 10_000;

fn listing(verbose: bool) -> Vec<u8> {
    let snapshots: Vec<serde_json::Value> = (0..SNAPSHOTS)
        .map(|i| {
            let start = 1_700_000_000_000 + i * 86_400_000;
            let indices: Vec<String> = (0..5).map(|k| format!("logs-{:05}-{k}", i / 7)).collect();
            if verbose {
                serde_json::json!({
                    "snapshot": format!("nightly-{i:05}"), "uuid": format!("uuid-{i:016x}"),
                    "version_id": 136_327_827, "version": "2.13.0",
                    "remote_store_index_shallow_copy": false,
                    "indices": indices, "data_streams": [], "include_global_state": false,
                    "state": "SUCCESS", "start_time": "2026-11-28T03:00:00.000Z",
                    "start_time_in_millis": start, "end_time": "2026-11-28T03:01:00.000Z",
                    "end_time_in_millis": start + 60_000, "duration_in_millis": 60_000,
                    "failures": [], "shards": {"total": 5, "failed": 0, "successful": 5},
                    "metadata": {"taken_by": "osnap"}
                })
            } else {
                serde_json::json!({
                    "snapshot": format!("nightly-{i:05}"), "uuid": format!("uuid-{i:016x}"),
                    "indices": indices, "data_streams": [], "state": "SUCCESS"
                })
            }
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "snapshots": snapshots })).unwrap()
}

fn bench_listing(c: &mut Criterion) {
    for (name, verbose) in [("verbose", true), ("brief", false)] {
        let body = listing(verbose);
        let mut group = c.benchmark_group(format!("listing/parse 10k snapshots {name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{} bytes", body.len()), |b| {
            b.iter(|| black_box(parse_snapshot_list(black_box(&body)).unwrap()))
        });
        group.finish();
    }
}

criterion_group!(benches, bench_listing);
criterion_main!(benches);
