//! Restore drills end to end, with the built functions over the real Runtime API: the
//! snapshot function writes the manifest, verify completes it, and verify's `check: drill`
//! restores a sample under its prefix, judges each copy against the manifest and deletes
//! exactly its own copies, while the tests try to make it delete something else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, ok, operator_call, operator_send, poll_done, put_doc};
use e2e::LambdaFunction;
use http::Method;
use serde_json::{Value, json};

struct Functions {
    snapshot: LambdaFunction,
    verify: LambdaFunction,
}

impl Functions {
    async fn start(world: &World) -> Self {
        let s3 = world.s3.endpoint();
        let env = [("OSNAP_S3_ENDPOINT", s3.as_str())];
        Self {
            snapshot: LambdaFunction::start("snapshot", &env).await.unwrap(),
            verify: LambdaFunction::start("verify", &env).await.unwrap(),
        }
    }

    async fn stop(self) {
        self.snapshot.stop().await;
        self.verify.stop().await;
    }
}

fn event(world: &World, extra: &Value) -> Value {
    common::event_in(world, "nightly", extra)
}

/// A domain with `logs-1` (3 documents) and `orders` (1), snapshotted as `nightly-d1` by the
/// snapshot function, its manifest completed by verify.
async fn snapshotted(name: &str) -> (World, Functions) {
    snapshotted_with(name, |_| ()).await
}

/// As [`snapshotted`], on a domain `configure` changes.
async fn snapshotted_with(
    name: &str,
    configure: impl FnOnce(&mut standin::DomainConfig),
) -> (World, Functions) {
    let world = common::world_with(name, configure).await;
    for id in ["1", "2", "3"] {
        put_doc(&world, "logs-1", id).await;
    }
    put_doc(&world, "orders", "1").await;
    common::register_nightly(&world, name).await;
    let functions = Functions::start(&world).await;
    ok(
        functions
            .snapshot
            .invoke(&event(&world, &json!({"snapshot": "nightly-d1"})))
            .await
            .unwrap(),
        "snapshot",
    );
    let verdict = poll_done(
        &functions.verify,
        &event(&world, &json!({"snapshot": "nightly-d1"})),
    )
    .await;
    assert_eq!(verdict["state"], "SUCCESS", "{verdict}");
    assert_eq!(verdict["manifest"]["status"], "written", "{verdict}");
    (world, functions)
}

fn drill(world: &World, phase: &str, spec: &Value) -> Value {
    event(
        world,
        &json!({"check": "drill", "snapshot": "nightly-d1", "drill": spec, "drill_phase": phase}),
    )
}

/// One drill phase through the verify function, its answer required to be a success.
async fn drill_call(verify: &LambdaFunction, world: &World, phase: &str, spec: &Value) -> Value {
    ok(
        verify.invoke(&drill(world, phase, spec)).await.unwrap(),
        phase,
    )
}

/// The indices on the domain, sorted.
async fn index_names(world: &World) -> Vec<String> {
    let (status, rows) = operator_call(
        world,
        Method::GET,
        &["_cat", "indices"],
        &[("format", "json"), ("expand_wildcards", "all")],
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    let mut names: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_str().unwrap().to_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

fn names(bounded: &Value) -> Vec<&str> {
    bounded["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drill_restores_its_sample_judges_it_by_the_manifest_and_deletes_only_its_copies() {
    let (world, functions) = snapshotted("drill-pass").await;
    let verify = &functions.verify;

    let started = drill_call(verify, &world, "start", &json!({})).await;
    assert_eq!(started["state"], "DRILL_RESTORING", "{started}");
    assert_eq!(
        (
            started["done"].as_bool(),
            started["drill"]["phase"].as_str()
        ),
        (Some(false), Some("check"))
    );
    assert_eq!(names(&started["drill"]["sample"]), ["logs-1", "orders"]);
    // The copies come without aliases and without replicas.
    let (_, settings) = operator_call(
        &world,
        Method::GET,
        &["osnap-drill-logs-1", "_settings"],
        &[],
    )
    .await;
    assert_eq!(
        settings["osnap-drill-logs-1"]["settings"]["index"]["number_of_replicas"], "0",
        "{settings}"
    );

    let done = poll_done(verify, &drill(&world, "check", &json!({}))).await;
    assert_eq!(
        (done["state"].as_str(), done["ok"].as_bool()),
        (Some("DRILL_PASSED"), Some(true)),
        "{done}"
    );
    let report = &done["drill"];
    assert_eq!(report["phase"], "done");
    assert_eq!(names(&report["passed"]), ["logs-1", "orders"]);
    assert_eq!(
        names(&report["deleted"]),
        ["osnap-drill-logs-1", "osnap-drill-orders"]
    );
    assert_eq!(report["kept"]["count"], 0);
    assert!(
        report["results"][0]
            .as_str()
            .unwrap()
            .contains("3 documents, as recorded"),
        "{report}"
    );
    assert_eq!(
        index_names(&world).await,
        ["logs-1", "orders"],
        "the copies are gone, the live indices stay"
    );
    assert_eq!(world.domain.doc_count("logs-1"), Some(3));

    // The verdict is in the manifest; a check repeated after the delete answers it again.
    let again = drill_call(verify, &world, "check", &json!({})).await;
    assert_eq!(
        (again["state"].as_str(), again["ok"].as_bool()),
        (Some("DRILL_PASSED"), Some(true)),
        "{again}"
    );
    functions.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_index_put_in_place_of_a_copy_is_never_deleted_and_fails_the_drill() {
    let (world, functions) = snapshotted("drill-swap").await;
    let verify = &functions.verify;
    drill_call(verify, &world, "start", &json!({})).await;
    // Someone deletes a copy and creates an index of its name with data of their own.
    let (status, body) =
        operator_send(&world, Method::DELETE, &["osnap-drill-orders"], &[], None).await;
    assert_eq!(status, 200, "{body}");
    put_doc(&world, "osnap-drill-orders", "theirs").await;

    let done = poll_done(verify, &drill(&world, "check", &json!({}))).await;
    assert_eq!(
        (done["state"].as_str(), done["ok"].as_bool()),
        (Some("DRILL_FAILED"), Some(false)),
        "{done}"
    );
    assert_eq!(names(&done["drill"]["failed"]), ["orders"]);
    assert!(
        done["failures"][0].as_str().unwrap().contains("left alone"),
        "{done}"
    );
    assert_eq!(names(&done["drill"]["deleted"]), ["osnap-drill-logs-1"]);
    assert_eq!(
        world.domain.doc_count("osnap-drill-orders"),
        Some(1),
        "their index is untouched"
    );
    functions.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prefix_already_in_use_or_unsafe_stops_the_drill_before_anything_is_restored() {
    let (world, functions) = snapshotted("drill-prefix").await;
    let verify = &functions.verify;
    put_doc(&world, "osnap-drill-notes", "1").await;
    let refused = verify
        .invoke(&drill(&world, "start", &json!({})))
        .await
        .unwrap();
    assert_eq!(refused.error_type(), Some("UnsafeOperation"), "{refused:?}");
    assert_eq!(
        index_names(&world).await,
        ["logs-1", "orders", "osnap-drill-notes"]
    );

    // A prefix that names a live index's copy by the live index itself, or a system index.
    for prefix in ["", ".", "-"] {
        let refused = verify
            .invoke(&drill(&world, "check", &json!({"prefix": prefix})))
            .await
            .unwrap();
        assert_eq!(
            refused.error_type(),
            Some("InvalidRequest"),
            "{prefix:?}: {refused:?}"
        );
    }
    // `done` is an answer's phase: a request sending it back starts nothing.
    let refused = verify
        .invoke(&drill(&world, "done", &json!({"prefix": "osnap-drill-x-"})))
        .await
        .unwrap();
    assert_eq!(refused.error_type(), Some("InvalidRequest"), "{refused:?}");
    assert!(
        !index_names(&world)
            .await
            .iter()
            .any(|n| n.starts_with("osnap-drill-x-"))
    );
    // A check whose copy's name is a live index deletes nothing: `orders` under `logs-` is
    // `logs-orders`, which the snapshot did not restore.
    put_doc(&world, "logs-orders", "mine").await;
    let done = ok(
        verify
            .invoke(&drill(
                &world,
                "check",
                &json!({"prefix": "logs-", "sample": {"indices": ["orders"]}}),
            ))
            .await
            .unwrap(),
        "check",
    );
    assert_eq!(done["state"], "DRILL_FAILED", "{done}");
    assert_eq!(done["drill"]["deleted"]["count"], 0, "{done}");
    assert_eq!(world.domain.doc_count("logs-orders"), Some(1));
    assert_eq!(world.domain.doc_count("orders"), Some(1));
    functions.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_altered_in_the_bucket_fail_the_drill_and_the_failed_copy_is_kept() {
    let (world, functions) = snapshotted("drill-corrupt").await;
    let verify = &functions.verify;
    let changed =
        standin::domain::drop_a_stored_document(&world.s3.client(), "snapshots", "logs-1").await;
    assert_eq!(changed, 1);

    drill_call(verify, &world, "start", &json!({})).await;
    let done = poll_done(verify, &drill(&world, "check", &json!({}))).await;
    assert_eq!(
        (done["state"].as_str(), done["ok"].as_bool()),
        (Some("DRILL_FAILED"), Some(false)),
        "{done}"
    );
    assert_eq!(names(&done["drill"]["failed"]), ["logs-1"]);
    assert!(
        done["failures"][0]
            .as_str()
            .unwrap()
            .contains("CorruptIndexException"),
        "{done}"
    );
    assert_eq!(names(&done["drill"]["passed"]), ["orders"]);
    assert_eq!(names(&done["drill"]["deleted"]), ["osnap-drill-orders"]);
    assert_eq!(names(&done["drill"]["kept"]), ["osnap-drill-logs-1"]);
    assert_eq!(
        index_names(&world).await,
        ["logs-1", "orders", "osnap-drill-logs-1"]
    );
    assert_eq!(
        world.domain.doc_count("logs-1"),
        Some(3),
        "the live index is untouched"
    );
    functions.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drill_not_due_today_restores_nothing() {
    let (world, functions) = snapshotted("drill-not-due").await;
    // Tomorrow's weekday (UTC), by the real clock the function also reads.
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    let weekdays = [
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
    ];
    let tomorrow = weekdays[usize::try_from((days + 1) % 7).unwrap()];
    let answer = drill_call(&functions.verify, &world, "start", &json!({"on": tomorrow})).await;
    assert_eq!(
        (
            answer["state"].as_str(),
            answer["done"].as_bool(),
            answer["ok"].as_bool()
        ),
        (Some("NOT_DUE"), Some(true), Some(true)),
        "{answer}"
    );
    assert_eq!(index_names(&world).await, ["logs-1", "orders"]);
    functions.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drill_on_a_scratch_domain_restores_there_and_leaves_the_source_alone() {
    let (world, functions) = snapshotted("drill-scratch").await;
    // A second domain on the same bucket, the repository registered there read-only.
    let mut config = standin::DomainConfig::new(
        "drill-scratch-2",
        world.s3.endpoint(),
        world.s3.credentials(),
    );
    config.recovery_duration = std::time::Duration::from_millis(200);
    let scratch = standin::Domain::start(config).await.unwrap();
    let scratch_json = json!({"endpoint": scratch.endpoint(), "region": "us-east-1"});
    let registered = operations::register::handle(
        common::context(None),
        json!({"domain": scratch_json, "repository": "nightly",
            "settings": {"bucket": "snapshots", "region": "us-east-1", "base_path": "drill-scratch",
                "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE, "readonly": true}}),
    )
    .await;
    registered.unwrap();

    let spec = json!({"domain": scratch_json});
    let started = drill_call(&functions.verify, &world, "start", &spec).await;
    assert_eq!(
        started["drill"]["domain"],
        scratch.endpoint().trim_start_matches("http://")
    );
    let done = poll_done(&functions.verify, &drill(&world, "check", &spec)).await;
    assert_eq!(
        (done["state"].as_str(), done["ok"].as_bool()),
        (Some("DRILL_PASSED"), Some(true)),
        "{done}"
    );
    assert_eq!(
        names(&done["drill"]["deleted"]),
        ["osnap-drill-logs-1", "osnap-drill-orders"]
    );
    assert!(
        scratch
            .index_names()
            .iter()
            .all(|n| !n.starts_with("osnap-drill-")),
        "{:?}",
        scratch.index_names()
    );
    // Nothing was restored on the snapshot's own domain.
    assert_eq!(index_names(&world).await, ["logs-1", "orders"]);
    scratch.shutdown().await;
    functions.stop().await;
}

/// A copy whose recovery ends between the check's index listing and its read of the
/// recoveries was judged "cannot be counted": the listing, read first, had no count for an
/// index still recovering (`_cat/indices` leaves `docs.count` empty until its primaries are
/// active). The check counts what it has seen recovered, read after it saw it.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_that_recovers_while_the_check_reads_is_counted_not_failed() {
    let (world, functions) = snapshotted_with("drill-recovering", |config| {
        config.recovery_duration = std::time::Duration::from_secs(2);
    })
    .await;
    let spec = json!({});
    drill_call(&functions.verify, &world, "start", &spec).await;
    // The check's read of the copies' recoveries reaches the domain after they have ended;
    // its listing of the indices, sent just before, while they were still recovering.
    world.domain.faults().push(
        standin::FaultRule::new(standin::Fault::LateArrival(std::time::Duration::from_secs(
            3,
        )))
        .on(Method::GET, "/osnap-drill-"),
    );
    let judged = drill_call(&functions.verify, &world, "check", &spec).await;
    assert_eq!(world.domain.faults().injected(), 1, "{judged}");
    assert_eq!(
        (judged["state"].as_str(), judged["done"].as_bool()),
        (Some("DRILL_PASSED"), Some(true)),
        "{judged}"
    );
    assert_eq!(index_names(&world).await, ["logs-1", "orders"]);
    functions.stop().await;
}
