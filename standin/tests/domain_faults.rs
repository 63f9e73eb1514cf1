//! Injected faults: the gateway's 504 after the domain acted and before it did, 429 and 403 throttles,
//! latency, dropped connections, stuck snapshots, and seeded randomness.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Api, Env, client, request};
use http::Method;
use serde_json::json;
use signing::RetryPolicy;
use standin::{Fault, FaultPlan, FaultRule};

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        time_budget: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn a_gateway_timeout_still_creates_the_snapshot() {
    let env = Env::new("gateway").await;
    let domain = env.domain("gateway").await;
    let api = Api::new(&domain);
    api.ingest("logs-1", 2).await;
    api.register("nightly", "g", false).await;

    domain
        .faults()
        .push(FaultRule::new(Fault::GatewayTimeout).on(Method::PUT, "/_snapshot/nightly/"));
    let raw = client(&domain.endpoint(), "standin-secret", fast_retries());
    let response = raw
        .send(&request(Method::PUT, "/_snapshot/nightly/snap").json_body("{}"))
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 504);
    assert_eq!(response.attempts, 1, "a create is not retried after a 504");
    assert!(String::from_utf8_lossy(&response.body).contains("<h1>504 Gateway Time-out</h1>"));
    assert_eq!(domain.faults().injected(), 1);

    let info = api.wait_done("nightly", "snap").await;
    assert_eq!(info["state"], "SUCCESS", "the domain went on with the work");
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn a_gateway_timeout_before_the_create_is_taken_shows_it_only_after_the_next_answer() {
    let env = Env::new("queued").await;
    let domain = env.domain("queued").await;
    let api = Api::new(&domain);
    api.ingest("logs-1", 2).await;
    api.register("nightly", "q", false).await;

    domain
        .faults()
        .push(FaultRule::new(Fault::GatewayTimeoutQueued).on(Method::PUT, "/_snapshot/nightly/"));
    let raw = client(&domain.endpoint(), "standin-secret", fast_retries());
    let response = raw
        .send(&request(Method::PUT, "/_snapshot/nightly/snap").json_body("{}"))
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 504);
    assert_eq!(response.attempts, 1, "a create is not retried after a 504");
    // The lookup right after is answered before the queued create runs; the next one is not.
    let (status, body) = api.get("_snapshot/nightly/snap").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["error"]["type"], "snapshot_missing_exception",
        "{body}"
    );
    let (status, body) = api.get("_snapshot/nightly/snap").await;
    assert_eq!(status, 200, "{body}");
    let info = api.wait_done("nightly", "snap").await;
    assert_eq!(info["state"], "SUCCESS", "the domain did the queued work");
    assert_eq!(domain.faults().injected(), 1);
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn throttles_are_answered_unprocessed_and_retried_by_the_client() {
    let env = Env::new("throttle").await;
    let mut config = env.config("throttle");
    config.faults = FaultPlan {
        rules: vec![
            FaultRule::new(Fault::TooManyRequests)
                .on(Method::PUT, "/_snapshot/nightly/")
                .times(2),
            FaultRule::new(Fault::Throttled)
                .on(Method::GET, "/_cat/")
                .times(1),
        ],
        ..FaultPlan::default()
    };
    let domain = standin::Domain::start(config).await.unwrap();
    let api = Api::new(&domain);
    api.ingest("logs-1", 1).await;
    api.register("nightly", "t", false).await;

    let raw = client(&domain.endpoint(), "standin-secret", fast_retries());
    let response = raw
        .send(
            &request(
                Method::PUT,
                "/_snapshot/nightly/once?wait_for_completion=true",
            )
            .json_body("{}"),
        )
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 200);
    assert_eq!(response.attempts, 3, "two 429s, then the create");
    let (_, body) = api.get("/_snapshot/nightly/_all?verbose=false").await;
    assert_eq!(
        body["snapshots"].as_array().unwrap().len(),
        1,
        "created exactly once"
    );

    let (status, body) = api.get("/_cat/indices?format=json").await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"message": "Request throttled due to too many requests"})
    );
    let (status, _) = api.get("/_cat/indices?format=json").await;
    assert_eq!(status, 200);

    domain.faults().push(FaultRule::new(Fault::TooManyRequests));
    let (status, body) = api.get("/").await;
    assert_eq!(
        (status, body),
        (429, json!({"message": "Too Many Requests"}))
    );
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn latency_and_dropped_connections() {
    let env = Env::new("drop").await;
    let domain = env.domain("drop").await;
    domain.faults().set_latency(Duration::from_millis(120));
    let api = Api::new(&domain);
    let started = Instant::now();
    let (status, _) = api.get("/").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(120));
    domain.faults().clear();

    domain
        .faults()
        .push(FaultRule::new(Fault::DropConnection).on(Method::GET, "/"));
    let once = client(&domain.endpoint(), "standin-secret", RetryPolicy::none());
    let outcome = once.send(&request(Method::GET, "/")).await;
    assert!(outcome.is_err(), "no answer: {outcome:?}");

    domain
        .faults()
        .push(FaultRule::new(Fault::DropConnection).on(Method::GET, "/"));
    let retrying = client(&domain.endpoint(), "standin-secret", fast_retries());
    let response = retrying.send(&request(Method::GET, "/")).await.unwrap();
    assert_eq!((response.status.as_u16(), response.attempts), (200, 2));
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn a_stuck_snapshot_stays_in_progress_until_released() {
    let env = Env::new("stuck").await;
    let domain = env.domain("stuck").await;
    let api = Api::new(&domain);
    api.ingest("logs-1", 1).await;
    api.register("nightly", "s", false).await;
    domain.faults().set_stuck_snapshots(true);

    let (status, _) = api.put("/_snapshot/nightly/stuck", json!({})).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_, body) = api.get("/_snapshot/nightly/stuck").await;
    assert_eq!(body["snapshots"][0]["state"], "IN_PROGRESS");
    let (_, status_body) = api.get("/_snapshot/nightly/stuck/_status").await;
    assert_eq!(status_body["snapshots"][0]["state"], "STARTED");
    let (status, body) = api.put("/_snapshot/nightly/next", json!({})).await;
    assert_eq!(
        (status, common::error_type(&body)),
        (503, "concurrent_snapshot_execution_exception")
    );

    domain.faults().set_stuck_snapshots(false);
    assert_eq!(api.wait_done("nightly", "stuck").await["state"], "SUCCESS");
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn shards_failing_during_a_snapshot_make_it_partial_without_the_partial_flag() {
    let env = Env::new("shard-fail").await;
    let domain = env.domain("shard-fail").await;
    let api = Api::new(&domain);
    api.ingest("logs-1", 2).await;
    api.ingest("logs-2", 2).await;
    api.register("nightly", "s", false).await;
    domain.faults().fail_shards_during_snapshots("logs-2");

    let (status, _) = api
        .put("/_snapshot/nightly/half", json!({"indices": "logs-*"}))
        .await;
    assert_eq!(status, 200);
    let done = api.wait_done("nightly", "half").await;
    assert_eq!(done["state"], "PARTIAL", "{done}");
    let failures = done["failures"].as_array().unwrap();
    assert!(!failures.is_empty());
    assert!(failures.iter().all(|f| f["index"] == "logs-2"), "{done}");
    assert_eq!(
        done["shards"]["failed"].as_u64(),
        Some(failures.len() as u64)
    );

    domain.faults().clear();
    api.put("/_snapshot/nightly/whole", json!({"indices": "logs-*"}))
        .await;
    assert_eq!(api.wait_done("nightly", "whole").await["state"], "SUCCESS");
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn random_faults_follow_the_seed() {
    let env = Env::new("seed").await;
    let statuses = |seed: u64| {
        let env = &env;
        async move {
            let mut config = env.config("seed");
            config.seed = seed;
            config.faults.rules = vec![
                FaultRule::new(Fault::TooManyRequests)
                    .always()
                    .with_probability(0.5),
            ];
            let domain = standin::Domain::start(config).await.unwrap();
            let api = Api::new(&domain);
            let mut out = Vec::new();
            for _ in 0..16 {
                out.push(api.get("/").await.0);
            }
            domain.shutdown().await;
            out
        }
    };
    let first = statuses(42).await;
    assert_eq!(first, statuses(42).await);
    assert!(first.contains(&429) && first.contains(&200), "{first:?}");
    env.shutdown().await;
}
