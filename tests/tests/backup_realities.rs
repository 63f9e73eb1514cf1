//! The backup path against what real domains do that the happy world did not: a running
//! snapshot's zero end time, FAILED snapshots that carry only a `reason`, other tools'
//! snapshots in the same repository, repositories too large for a verbose listing, and the
//! documented defaults. The operations are called directly on the stand-in, which models each
//! of these (see standin/README.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, SystemTime};

use http::Method;
use serde_json::{Value, json};
use standin::domain::SeedPlan;

use common::{context, domain_json, operator_send, put_doc, register_nightly, world};

fn seed(template: &str, count: usize, newest_age: Duration) -> SeedPlan {
    SeedPlan {
        template: template.to_owned(),
        count,
        newest: SystemTime::now() - newest_age,
        interval: Duration::from_secs(3_600),
        indices: vec!["logs".to_owned()],
    }
}

const HOUR: Duration = Duration::from_secs(3_600);

#[tokio::test(flavor = "multi_thread")]
async fn a_running_snapshot_is_not_judged_by_its_zero_end_time() {
    let world = world("running-age").await;
    put_doc(&world, "logs", "1").await;
    register_nightly(&world, "running-age").await;
    world.domain.faults().set_stuck_snapshots(true);
    let (status, _) = operator_send(
        &world,
        Method::PUT,
        &["_snapshot", "nightly", "nightly-running"],
        &[],
        Some(json!({"indices": "logs"})),
    )
    .await;
    assert_eq!(status, 200);

    let event = json!({"domain": domain_json(&world), "repository": "nightly",
        "snapshot": "nightly-running", "max_age": "1h"});
    let verdict = operations::verify::handle(context(None), event)
        .await
        .unwrap();
    assert_eq!(
        (verdict.state.as_str(), verdict.done),
        ("IN_PROGRESS", false)
    );
    // Its age counts from its start, seconds ago, not from 1970.
    assert!(verdict.age_seconds.is_some_and(|a| a < 600), "{verdict:?}");
    assert_eq!(verdict.failure_count, 0, "{verdict:?}");
    world.domain.faults().set_stuck_snapshots(false);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_snapshot_reports_the_domains_reason() {
    let world = world("failed-reason").await;
    put_doc(&world, "good", "1").await;
    put_doc(&world, "bad", "1").await;
    register_nightly(&world, "failed-reason").await;
    assert!(world.domain.mark_index_red("bad"));
    let taken = operations::snapshot::handle(
        context(None),
        json!({"domain": domain_json(&world), "repository": "nightly",
            "snapshot": "nightly-red", "indices": ["good", "bad"]}),
    )
    .await
    .unwrap();
    assert!(taken.started);
    let mut verdict = None;
    for _ in 0..50 {
        let v = operations::verify::handle(
            context(None),
            json!({"domain": domain_json(&world), "repository": "nightly",
                "snapshot": "nightly-red"}),
        )
        .await
        .unwrap();
        if v.done {
            verdict = Some(v);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let verdict = verdict.expect("the snapshot ended");
    let (_, listing_after) = operator_send(
        &world,
        Method::GET,
        &["_snapshot", "nightly", "nightly-red"],
        &[],
        None,
    )
    .await;
    let reason = listing_after["snapshots"][0]["reason"].as_str().unwrap();
    assert!(!reason.is_empty(), "{listing_after}");
    assert_eq!((verdict.state.as_str(), verdict.ok), ("FAILED", false));
    assert!(
        verdict.failures.iter().any(|f| f.contains(reason)),
        "the domain's reason `{reason}` is reported: {verdict:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn latest_is_tonights_backup_not_another_tools_snapshot() {
    let world = world("latest-scope").await;
    put_doc(&world, "logs", "1").await;
    register_nightly(&world, "latest-scope").await;
    world
        .domain
        .seed_snapshots(
            "nightly",
            &seed(policy::naming::DEFAULT_TEMPLATE, 3, 2 * HOUR),
        )
        .await
        .unwrap();
    // An operator's snapshot, newer than the nightly ones, without a date in its name.
    let (status, _) = operator_send(
        &world,
        Method::PUT,
        &["_snapshot", "nightly", "before-upgrade"],
        &[("wait_for_completion", "true")],
        Some(json!({"indices": "logs"})),
    )
    .await;
    assert_eq!(status, 200);
    let event = |extra: Value| {
        let mut e = json!({"domain": domain_json(&world), "repository": "nightly"});
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    };

    let verdict = operations::verify::handle(context(None), event(json!({})))
        .await
        .unwrap();
    assert!(verdict.snapshot.starts_with("nightly-"), "{verdict:?}");
    let dry = operations::restore::handle(
        context(None),
        event(
            json!({"dry_run": true, "indices": ["logs"], "on_conflict": "rename",
            "rename_pattern": "(.+)", "rename_replacement": "restored-$1"}),
        ),
    )
    .await
    .unwrap();
    assert!(dry.snapshot.starts_with("nightly-"), "{dry:?}");
    // Asked for, the operator's own naming is followed.
    let theirs = operations::verify::handle(context(None), event(json!({"match": "before-*"})))
        .await
        .unwrap();
    assert_eq!(theirs.snapshot, "before-upgrade");
}

#[tokio::test(flavor = "multi_thread")]
async fn latest_in_a_large_repository_never_lists_it_verbosely() {
    let world = world("latest-large").await;
    put_doc(&world, "logs", "1").await;
    register_nightly(&world, "latest-large").await;
    let count = standin::domain::VERBOSE_LISTING_LIMIT + 500;
    world
        .domain
        .seed_snapshots(
            "nightly",
            &seed(policy::naming::DEFAULT_TEMPLATE, count, HOUR),
        )
        .await
        .unwrap();
    // A few undated names match too: they are read by name, a bounded number of requests.
    for name in ["nightly-manual-a", "nightly-manual-b"] {
        world
            .domain
            .seed_snapshots("nightly", &seed(name, 1, 3 * HOUR))
            .await
            .unwrap();
    }
    let before = world.domain.requests();
    let verdict = operations::verify::handle(
        context(None),
        json!({"domain": domain_json(&world), "repository": "nightly"}),
    )
    .await
    .unwrap();
    let sent = world.domain.requests().since(&before);
    assert!(verdict.ok, "{verdict:?}");
    // The engine (`GET /`, once), one brief listing, one read of the two undated names, one
    // of the newest, and the repository's settings (where its manifest would be).
    assert!(sent.total() <= 5, "{sent:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_latest_is_stale_after_26_hours_by_default() {
    let world = world("stale").await;
    put_doc(&world, "logs", "1").await;
    register_nightly(&world, "stale").await;
    world
        .domain
        .seed_snapshots(
            "nightly",
            &seed(policy::naming::DEFAULT_TEMPLATE, 2, 27 * HOUR),
        )
        .await
        .unwrap();
    let event = json!({"domain": domain_json(&world), "repository": "nightly",
        "raise_on_failure": true});
    let error = operations::verify::handle(context(None), event)
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "SnapshotStale", "{error}");
    assert!(error.to_string().contains("allowed 1d2h"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_answered_too_slowly_is_looked_up_before_lambdas_deadline() {
    let world = world("slow-create").await;
    put_doc(&world, "logs", "1").await;
    register_nightly(&world, "slow-create").await;
    // The domain starts the snapshot at once but answers only after 30 s.
    world.domain.faults().push(
        standin::FaultRule::new(standin::Fault::SlowAnswer(Duration::from_secs(30)))
            .on(Method::PUT, "/_snapshot/nightly/"),
    );
    let budget = signing::deadline::LOOKUP_RESERVE + Duration::from_secs(3);
    let deadline = SystemTime::now() + budget;
    let started = std::time::Instant::now();
    let taken = operations::snapshot::handle(
        context(Some(deadline)),
        json!({"domain": domain_json(&world), "repository": "nightly",
            "snapshot": "nightly-slow"}),
    )
    .await
    .unwrap();
    let took = started.elapsed();
    assert!(took < budget, "answered after {took:?}, past the deadline");
    // The lost answer was made up for by looking: started, and really running or done.
    assert!(taken.started, "{taken:?}");
    let (status, listing) = operator_send(
        &world,
        Method::GET,
        &["_snapshot", "nightly", "nightly-slow"],
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200, "{listing}");
}

/// AWS fails a manual snapshot whose wildcard reaches hot and warm indexes (Developer Guide,
/// ultrawarm.md, "Manual snapshots of warm indexes"): the nightly default `*,-.*` must name
/// the hot indices instead, skip the warm ones and report them, and report cold ones.
#[tokio::test(flavor = "multi_thread")]
async fn the_nightly_snapshot_names_hot_indices_and_reports_warm_and_cold_ones() {
    let world = world("tiers-nightly").await;
    for index in ["hot-1", "hot-2", "warm-1", "warm-2", "cold-1"] {
        put_doc(&world, index, "1").await;
    }
    for index in ["warm-1", "warm-2", "cold-1"] {
        assert!(world.domain.migrate_to_warm(index));
    }
    assert!(world.domain.migrate_to_cold("cold-1"));
    register_nightly(&world, "tiers-nightly").await;

    let taken = operations::snapshot::handle(
        context(None),
        json!({"domain": domain_json(&world), "repository": "nightly",
            "snapshot": "nightly-tiers"}),
    )
    .await
    .unwrap();
    assert!(taken.started);
    assert_eq!(taken.hot.names, ["hot-1", "hot-2"]);
    assert_eq!(taken.warm.indices.names, ["warm-1", "warm-2"]);
    assert_eq!(
        serde_json::to_value(taken.warm.choice).unwrap(),
        json!("skip")
    );
    assert!(
        taken.warm.note.contains("cs-ultrawarm"),
        "{}",
        taken.warm.note
    );
    assert!(taken.cold.listed);
    assert_eq!(taken.cold.indices.names, ["cold-1"]);

    let mut state = String::new();
    for _ in 0..50 {
        let (_, listing) = operator_send(
            &world,
            Method::GET,
            &["_snapshot", "nightly", "nightly-tiers"],
            &[],
            None,
        )
        .await;
        state = listing["snapshots"][0]["state"]
            .as_str()
            .unwrap()
            .to_owned();
        if state != "IN_PROGRESS" {
            assert_eq!(
                listing["snapshots"][0]["indices"],
                json!(["hot-1", "hot-2"])
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, "SUCCESS");
}

/// A domain without cold storage refuses `_cold/indices/_search`; that must not fail the
/// snapshot, and a selection of warm indices alone has nothing to snapshot.
#[tokio::test(flavor = "multi_thread")]
async fn no_cold_storage_is_reported_and_a_warm_only_selection_is_refused() {
    let world = world("tiers-nocold").await;
    put_doc(&world, "hot-1", "1").await;
    put_doc(&world, "warm-1", "1").await;
    assert!(world.domain.migrate_to_warm("warm-1"));
    register_nightly(&world, "tiers-nocold").await;
    let taken = operations::snapshot::handle(
        context(None),
        json!({"domain": domain_json(&world), "repository": "nightly",
            "snapshot": "nightly-nocold", "indices": ["*-1"]}),
    )
    .await
    .unwrap();
    assert!(taken.started);
    assert_eq!(taken.hot.names, ["hot-1"]);
    assert!(!taken.cold.listed);
    assert!(
        taken.cold.note.contains("); taken as no cold storage"),
        "{}",
        taken.cold.note
    );

    let refused = operations::snapshot::handle(
        context(None),
        json!({"domain": domain_json(&world), "repository": "nightly",
            "snapshot": "nightly-warm", "indices": ["warm-*"]}),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.error_type(), "InvalidRequest");
}
