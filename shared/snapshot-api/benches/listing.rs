//! Parsing a 10,000-snapshot `GET _snapshot/<repo>/_all` answer, verbose and brief
//! (`verbose=false`), with the crate's parser; a parse into `serde_json::Value` of the same
//! bytes is measured alongside as the cost the typed parser avoids.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use snapshot_api::snapshot::parse_snapshot_list;

const SNAPSHOTS: u64 = 10_000;

/// A listing shaped like OpenSearch 2.x's: hourly snapshots of five indices each, one in
/// fifty `PARTIAL` with a shard failure, the last one still running.
fn listing(verbose: bool) -> Vec<u8> {
    let snapshots: Vec<Value> = (0..SNAPSHOTS)
        .map(|i| {
            let start: u64 = 1_760_000_000_000 + i * 3_600_000;
            let day = i / 24;
            let indices: Vec<String> = ["logs-app", "logs-nginx", "metrics", "orders", "audit"]
                .iter()
                .map(|prefix| format!("{prefix}-{day:05}"))
                .collect();
            let name = format!("osnap-hourly-{i:05}");
            let uuid = format!("{:022x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let running = i == SNAPSHOTS - 1;
            let partial = i % 50 == 7;
            let state = if running {
                "IN_PROGRESS"
            } else if partial {
                "PARTIAL"
            } else {
                "SUCCESS"
            };
            if !verbose {
                return json!({
                    "snapshot": name, "uuid": uuid, "indices": indices,
                    "data_streams": [], "state": state
                });
            }
            let failures = if partial {
                json!([{
                    "index": indices[3], "index_uuid": "b3JkZXJzLWluZGV4LXV1aWQ", "shard_id": 2,
                    "reason": "IndexShardSnapshotFailedException[Aborted]",
                    "node_id": "7kHh0ZK1SqWqJ8nE4mU1Bw", "status": "INTERNAL_SERVER_ERROR"
                }])
            } else {
                json!([])
            };
            let duration: u64 = if running { 0 } else { 40_000 + (i % 97) * 313 };
            json!({
                "snapshot": name, "uuid": uuid, "version_id": 136_377_827, "version": "2.17.0",
                "remote_store_index_shallow_copy": false,
                "indices": indices, "data_streams": [], "include_global_state": false,
                "metadata": {"taken_by": "osnap", "policy": "hourly", "domain": "logs-prod"},
                "state": state,
                "start_time": "2025-10-09T08:53:20.000Z", "start_time_in_millis": start,
                "end_time": "2025-10-09T08:54:00.000Z", "end_time_in_millis": if running { 0 } else { start + duration },
                "duration_in_millis": duration,
                "failures": failures,
                "shards": {"total": 25, "failed": u8::from(partial), "successful": 25 - u8::from(partial)}
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "snapshots": snapshots, "total": SNAPSHOTS, "remaining": 0 }))
        .unwrap()
}

fn bench_listing(c: &mut Criterion) {
    for (name, verbose) in [("verbose", true), ("brief", false)] {
        let body = listing(verbose);
        let parsed = parse_snapshot_list(&body).unwrap();
        assert_eq!(parsed.len() as u64, SNAPSHOTS);
        eprintln!(
            "listing {name}: {} snapshots, {} bytes",
            parsed.len(),
            body.len()
        );

        let mut group = c.benchmark_group(format!("listing_10k_{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("parse_snapshot_list", |b| {
            b.iter(|| black_box(parse_snapshot_list(black_box(&body)).unwrap()))
        });
        group.bench_function("serde_json_value_baseline", |b| {
            b.iter(|| black_box(serde_json::from_slice::<Value>(black_box(&body)).unwrap()))
        });
        group.finish();
    }
}

criterion_group!(benches, bench_listing);
criterion_main!(benches);
