//! Snapshots on the emulated domain: the lifecycle IN_PROGRESS → SUCCESS, PARTIAL and FAILED
//! outcomes, the concurrency limit and naming rules, listings (verbose or not, and what they
//! read from S3), status progress, the cat table, and deletion (aborting a running one).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Api, BUCKET, Env, error_type, reason};
use serde_json::json;

#[tokio::test]
async fn a_snapshot_runs_then_succeeds_and_is_written_to_s3() {
    let env = Env::new("lifecycle").await;
    let mut config = env.config("lifecycle");
    config.snapshot_duration = Duration::from_millis(400);
    let domain = standin::Domain::start(config).await.unwrap();
    let api = Api::new(&domain);
    api.ingest("logs-1", 5).await;
    api.register("nightly", "osnap", false).await;

    let (status, body) = api
        .put(
            "/_snapshot/nightly/snap-1?wait_for_completion=false",
            json!({"metadata": {"taken_by": "test"}}),
        )
        .await;
    assert_eq!((status, body), (200, json!({"accepted": true})));

    let (_, listing) = api.get("/_snapshot/nightly/snap-1").await;
    let running = &listing["snapshots"][0];
    assert_eq!(running["state"], "IN_PROGRESS");
    // As the engine writes a verbose description of a running snapshot: end time 0.
    assert_eq!(running["end_time_in_millis"], 0);
    assert_eq!(running["end_time"], "1970-01-01T00:00:00.000Z");
    assert_eq!(running["duration_in_millis"], 0);
    assert!(running["start_time_in_millis"].as_u64().unwrap() > 0);
    assert_eq!(
        running["shards"],
        json!({"total": 0, "failed": 0, "successful": 0})
    );
    assert_eq!(
        running["indices"],
        json!([".kibana_1", ".opendistro_security", "logs-1"]),
        "by default every open index is taken, system ones included"
    );

    let (status, first) = api.get("/_snapshot/nightly/snap-1/_status").await;
    assert_eq!(status, 200);
    let first = first["snapshots"][0].clone();
    assert_eq!(first["state"], "STARTED");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (_, second) = api.get("/_snapshot/nightly/snap-1/_status").await;
    let second = second["snapshots"][0].clone();
    let processed =
        |s: &serde_json::Value| s["stats"]["processed"]["size_in_bytes"].as_u64().unwrap();
    assert!(
        processed(&second) > processed(&first),
        "{first} then {second}"
    );
    assert!(processed(&second) < second["stats"]["total"]["size_in_bytes"].as_u64().unwrap());

    let done = api.wait_done("nightly", "snap-1").await;
    assert_eq!(done["state"], "SUCCESS");
    assert_eq!(
        done["shards"],
        json!({"total": 3, "failed": 0, "successful": 3})
    );
    assert_eq!(done["metadata"], json!({"taken_by": "test"}));
    assert_eq!(done["version"], "2.13.0");
    for field in [
        "uuid",
        "version_id",
        "start_time",
        "start_time_in_millis",
        "end_time",
        "end_time_in_millis",
        "duration_in_millis",
        "failures",
        "include_global_state",
        "data_streams",
    ] {
        assert!(done.get(field).is_some(), "{field} missing from {done}");
    }
    let (_, status) = api.get("/_snapshot/nightly/snap-1/_status").await;
    let status = &status["snapshots"][0];
    assert_eq!(status["state"], "SUCCESS");
    assert_eq!(status["shards_stats"]["done"], 3);
    assert_eq!(status["indices"]["logs-1"]["shards"]["0"]["stage"], "DONE");

    let listed = env
        .s3
        .client()
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("osnap/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    let uuid = done["uuid"].as_str().unwrap();
    assert!(keys.contains(&"osnap/standin-index.json"), "{keys:?}");
    assert!(keys.contains(&format!("osnap/snapshots/{uuid}/manifest.json").as_str()));
    assert!(keys.contains(&format!("osnap/snapshots/{uuid}/indices/logs-1.json").as_str()));

    // Waiting for completion answers the finished snapshot.
    let snap = api
        .snapshot("nightly", "snap-2", json!({"indices": "logs-*"}))
        .await;
    assert_eq!(snap["state"], "SUCCESS");
    assert_eq!(snap["indices"], json!(["logs-1"]));

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn one_snapshot_at_a_time_and_names_follow_the_rules() {
    let env = Env::new("concurrency").await;
    let domain = env.domain("concurrency").await;
    let api = Api::new(&domain);
    api.ingest("logs-1", 2).await;
    api.register("nightly", "", false).await;

    let (status, _) = api.put("/_snapshot/nightly/first", json!({})).await;
    assert_eq!(status, 200);
    let (status, body) = api.put("/_snapshot/nightly/second", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (503, "concurrent_snapshot_execution_exception")
    );
    assert_eq!(
        reason(&body),
        "[nightly:second] a snapshot is already running"
    );
    let (status, body) = api.put("/_snapshot/nightly/first", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "invalid_snapshot_name_exception")
    );
    api.wait_done("nightly", "first").await;

    let (status, body) = api.put("/_snapshot/nightly/first", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "invalid_snapshot_name_exception")
    );
    assert_eq!(
        reason(&body),
        "[nightly:first] Invalid snapshot name [first], snapshot with the same name already exists"
    );
    for (name, why) in [
        ("Upper", "must be lowercase"),
        ("_under", "must not start with '_'"),
        ("a,b", "must not contain ','"),
        ("a#b", "must not contain '#'"),
        (
            "a*b",
            "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]",
        ),
        (
            "a|b",
            "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]",
        ),
    ] {
        let (status, body) = api
            .put(&format!("/_snapshot/nightly/{name}"), json!({}))
            .await;
        assert_eq!(
            (status, error_type(&body)),
            (400, "invalid_snapshot_name_exception"),
            "{name}"
        );
        assert!(reason(&body).ends_with(why), "{name}: {body}");
    }
    let (status, body) = api.put("/_snapshot/missing/snap", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "repository_missing_exception")
    );
    let (status, body) = api
        .put("/_snapshot/nightly/x", json!({"indices": "nope"}))
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "index_not_found_exception")
    );
    let (status, _) = api
        .put(
            "/_snapshot/nightly/x?wait_for_completion=true",
            json!({"indices": "nope,logs-1", "ignore_unavailable": true}),
        )
        .await;
    assert_eq!(status, 200);

    api.register("archive", "", true).await;
    let (status, body) = api.put("/_snapshot/archive/y", json!({})).await;
    assert_eq!((status, error_type(&body)), (500, "repository_exception"));
    assert_eq!(
        reason(&body),
        "[archive] cannot create snapshot in a readonly repository"
    );

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn red_indices_make_partial_or_failed_snapshots() {
    let env = Env::new("partial").await;
    let domain = env.domain("partial").await;
    let api = Api::new(&domain);
    api.ingest("good", 3).await;
    api.ingest("bad", 3).await;
    api.register("nightly", "p", false).await;
    assert!(domain.mark_index_red("bad"));

    let partial = api
        .snapshot(
            "nightly",
            "partial",
            json!({"indices": "good,bad", "partial": true}),
        )
        .await;
    assert_eq!(partial["state"], "PARTIAL");
    assert_eq!(
        partial["shards"],
        json!({"total": 2, "failed": 1, "successful": 1})
    );
    assert_eq!(partial["failures"][0]["index"], "bad");
    assert_eq!(
        partial["failures"][0]["reason"],
        "primary shard is not allocated"
    );

    let failed = api
        .snapshot("nightly", "failed", json!({"indices": "good,bad"}))
        .await;
    assert_eq!(failed["state"], "FAILED");
    assert_eq!(failed["reason"], "Indices don't have primary shards [bad]");
    assert_eq!(failed["shards"]["successful"], 0);

    let (status, health) = api.get("/_cluster/health").await;
    assert_eq!((status, health["status"].clone()), (200, json!("red")));
    let (status, body) = api.get("/bad/_count").await;
    assert_eq!(
        (status, error_type(&body)),
        (503, "search_phase_execution_exception")
    );

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn listings_read_one_description_per_snapshot_unless_not_verbose() {
    let env = Env::new("listing").await;
    let domain = env.domain("listing").await;
    let api = Api::new(&domain);
    api.ingest("logs-1", 1).await;
    api.register("nightly", "l", false).await;
    for name in ["a-1", "a-2", "b-1"] {
        api.snapshot("nightly", name, json!({"indices": "logs-1"}))
            .await;
    }

    let before = domain.snapshot_info_reads();
    let (status, body) = api.get("/_snapshot/nightly/_all?verbose=false").await;
    assert_eq!(status, 200);
    assert_eq!(
        domain.snapshot_info_reads(),
        before,
        "verbose=false reads only the index"
    );
    let first = body["snapshots"][0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["data_streams", "indices", "snapshot", "state", "uuid"]
    );

    let (_, body) = api.get("/_snapshot/nightly/_all").await;
    assert_eq!(body["snapshots"].as_array().unwrap().len(), 3);
    assert_eq!(domain.snapshot_info_reads(), before + 3);
    let (_, body) = api.get("/_snapshot/nightly/a-*").await;
    let names: Vec<&str> = body["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["snapshot"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a-1", "a-2"]);
    let (_, body) = api.get("/_snapshot/nightly/a-1,b-1").await;
    assert_eq!(body["snapshots"].as_array().unwrap().len(), 2);
    let (status, body) = api.get("/_snapshot/nightly/a-1,zz").await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "snapshot_missing_exception")
    );
    assert_eq!(reason(&body), "[nightly:zz] is missing");
    let (status, body) = api
        .get("/_snapshot/nightly/a-1,zz?ignore_unavailable=true")
        .await;
    assert_eq!(
        (status, body["snapshots"].as_array().unwrap().len()),
        (200, 1)
    );
    let (status, body) = api.get("/_snapshot/nightly/zz/_status").await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "snapshot_missing_exception")
    );

    // Past the verbose-listing limit the gateway gives up on a verbose listing; the brief one
    // and named verbose GETs within the limit still answer.
    let mut config = env.config("listing-limit");
    config.verbose_listing_limit = 2;
    let limited = standin::Domain::start(config).await.unwrap();
    let limited_api = Api::new(&limited);
    limited_api.register("nightly", "l", false).await;
    let (status, body) = limited_api.get("/_snapshot/nightly/_all").await;
    assert_eq!(status, 504, "{body}");
    let (status, body) = limited_api
        .get("/_snapshot/nightly/_all?verbose=false")
        .await;
    assert_eq!(
        (status, body["snapshots"].as_array().map(Vec::len)),
        (200, Some(3))
    );
    let (status, body) = limited_api.get("/_snapshot/nightly/a-1,b-1").await;
    assert_eq!(
        (status, body["snapshots"].as_array().map(Vec::len)),
        (200, Some(2))
    );
    limited.shutdown().await;

    let (status, rows) = api.get("/_cat/snapshots/nightly?format=json").await;
    assert_eq!(status, 200);
    let row = &rows[0];
    assert_eq!(row["id"], "a-1");
    assert_eq!(row["status"], "SUCCESS");
    assert_eq!(row["indices"], "1");
    assert_eq!(row["total_shards"], "1");
    assert!(row["start_epoch"].as_str().unwrap().parse::<u64>().is_ok());

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn deleting_snapshots_by_list_and_aborting_a_running_one() {
    let env = Env::new("delete").await;
    let mut config = env.config("delete");
    config.snapshot_duration = Duration::from_secs(30);
    let domain = standin::Domain::start(config).await.unwrap();
    let api = Api::new(&domain);
    api.ingest("logs-1", 1).await;
    api.register("nightly", "d", false).await;

    // A long snapshot, waited for by another caller, is aborted by its deletion.
    let waiter = {
        let client = common::client(
            &domain.endpoint(),
            "standin-secret",
            signing::RetryPolicy::none(),
        );
        tokio::spawn(async move {
            Api::with_client(client)
                .put(
                    "/_snapshot/nightly/long?wait_for_completion=true",
                    json!({}),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, _) = api.delete("/_snapshot/nightly/long").await;
    assert_eq!(status, 200);
    let (status, body) = waiter.await.unwrap();
    assert_eq!((status, error_type(&body)), (500, "snapshot_exception"));
    let (status, _) = api.get("/_snapshot/nightly/long").await;
    assert_eq!(status, 404);

    let domain2 = {
        domain.shutdown().await;
        env.domain("delete2").await
    };
    let api = Api::new(&domain2);
    api.ingest("logs-1", 1).await;
    api.register("nightly", "d", false).await;
    for name in ["a", "b", "c"] {
        api.snapshot("nightly", name, json!({})).await;
    }
    let (status, body) = api.delete("/_snapshot/nightly/a,b").await;
    assert_eq!((status, body), (200, json!({"acknowledged": true})));
    let (_, body) = api.get("/_snapshot/nightly/_all?verbose=false").await;
    assert_eq!(body["snapshots"][0]["snapshot"], "c");
    assert_eq!(body["snapshots"].as_array().unwrap().len(), 1);
    let uuid = body["snapshots"][0]["uuid"].as_str().unwrap().to_owned();
    let (status, body) = api.delete("/_snapshot/nightly/a").await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "snapshot_missing_exception")
    );
    let listed = env
        .s3
        .client()
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("d/snapshots/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 4, "a manifest and three indices: {keys:?}");
    assert!(
        keys.iter().all(|k| k.contains(&uuid)),
        "deleted snapshots' blobs are gone"
    );
    domain2.shutdown().await;
    env.shutdown().await;
}
