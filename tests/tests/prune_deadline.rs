//! prune near Lambda's deadline: it stops between batches, reports what it left, and the
//! next run finishes. (The deadline is set on the context directly: the local Runtime API
//! does not let a test choose it.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, SystemTime};

use operations::bounded::{Bounded, SAMPLE};
use policy::retention::Protected;
use serde_json::json;
use standin::domain::SeedPlan;

use common::{context, domain_json, register_nightly, snapshot_names, world};

fn sorted(names: &[String]) -> Vec<String> {
    let mut names = names.to_vec();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_short_of_time_stops_between_batches_and_the_next_run_finishes() {
    let world = world("prune-deadline").await;
    register_nightly(&world, "prune-deadline").await;
    let plan = SeedPlan {
        template: policy::naming::DEFAULT_TEMPLATE.to_owned(),
        count: 60,
        newest: SystemTime::now() - Duration::from_secs(3_600),
        interval: Duration::from_secs(3_600),
        indices: vec!["logs".to_owned()],
    };
    let seeded = world.domain.seed_snapshots("nightly", &plan).await.unwrap();
    let event = json!({"domain": domain_json(&world), "repository": "nightly",
        "keep_last": 5, "min_count": 5});

    // Four seconds left: each request waits at most 2 s (the rest is kept to report), the
    // first batch of 50 goes, then no other batch fits (prune wants at least 5 s for one).
    let short = context(Some(SystemTime::now() + Duration::from_secs(4)));
    let first = operations::prune::handle(short, event.clone())
        .await
        .unwrap();
    // Oldest first: the seeded names are newest first.
    let oldest_first: Vec<String> = seeded.iter().rev().cloned().collect();
    assert_eq!(
        (first.deleted.count, first.deleted.truncated),
        (50, true),
        "{first:?}"
    );
    assert_eq!(first.deleted.names, oldest_first[..SAMPLE], "{first:?}");
    assert_eq!(
        first.pending,
        Bounded {
            count: 5,
            names: oldest_first[50..55].to_vec(),
            truncated: false
        },
        "{first:?}"
    );
    assert_eq!(
        first.kept,
        Bounded {
            count: 5,
            names: seeded[..5].to_vec(),
            truncated: false
        },
        "the 5 newest are kept, newest first"
    );
    assert_eq!(
        first.protected,
        Protected {
            min_count: 5,
            ..Protected::default()
        }
    );
    let left = snapshot_names(&world, "nightly").await;
    let expected: Vec<String> = first
        .kept
        .names
        .iter()
        .chain(&first.pending.names)
        .cloned()
        .collect();
    assert_eq!(
        sorted(&left),
        sorted(&expected),
        "exactly the deleted ones are gone"
    );

    // The next run, with time enough, deletes what was pending.
    let next = operations::prune::handle(context(None), event)
        .await
        .unwrap();
    assert_eq!(next.deleted, first.pending);
    assert_eq!(next.pending, Bounded::from_slice::<&str>(&[]));
    assert_eq!(next.kept, first.kept);
    assert_eq!(
        sorted(&snapshot_names(&world, "nightly").await),
        sorted(&first.kept.names)
    );
}
