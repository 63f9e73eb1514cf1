//! Each engine profile refuses what the real engine of that version refuses, and writes only
//! the fields that version writes (the table is `policy::engines`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Env, error_type, reason};
use serde_json::json;
use standin::{Domain, Engine};

async fn domain(env: &Env, name: &str, engine: Engine) -> Domain {
    let mut config = env.config(name);
    config.engine = engine;
    Domain::start(config).await.unwrap()
}

#[tokio::test]
async fn the_root_answer_names_each_profile() {
    let env = Env::new("engine-roots").await;
    for (at, engine) in Engine::profiles().into_iter().enumerate() {
        let domain = domain(&env, &format!("root-{at}"), engine.clone()).await;
        let (status, body) = Api::new(&domain).get("/").await;
        assert_eq!(status, 200);
        assert_eq!(body["version"]["number"], engine.version());
        let read = policy::engines::Engine::from_root(
            body["version"]["number"].as_str().unwrap(),
            body["version"]["distribution"].as_str(),
            body["tagline"].as_str(),
        )
        .unwrap();
        assert_eq!(read, engine.policy());
        domain.shutdown().await;
    }
    env.shutdown().await;
}

#[tokio::test]
async fn elasticsearch_7_4_refuses_expand_wildcards_on_cat_indices() {
    let env = Env::new("engine-cat").await;
    let old = domain(&env, "old", Engine::es_7_4()).await;
    let api = Api::new(&old);
    api.put("/logs-1", json!({})).await;
    api.post("/logs-1/_close", json!({})).await;
    let (status, body) = api
        .get("/_cat/indices?format=json&expand_wildcards=all")
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_type(&body), "illegal_argument_exception");
    assert_eq!(
        reason(&body),
        "request [/_cat/indices] contains unrecognized parameter: [expand_wildcards]"
    );
    // Without the parameter, every index is listed, closed ones included.
    let (status, rows) = api.get("/_cat/indices?format=json&bytes=b").await;
    assert_eq!(status, 200, "{rows}");
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"logs-1") && names.contains(&".kibana_1"),
        "{names:?}"
    );

    let new = domain(&env, "new", Engine::es_7_10()).await;
    let (status, _) = Api::new(&new)
        .get("/_cat/indices?format=json&expand_wildcards=all")
        .await;
    assert_eq!(status, 200);
    old.shutdown().await;
    new.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn elasticsearch_before_7_8_deletes_one_named_snapshot_per_request() {
    let env = Env::new("engine-delete").await;
    for engine in [Engine::es_6_8(), Engine::es_7_4()] {
        let name = format!("del-{}", engine.version().replace('.', "-"));
        let domain = domain(&env, &name, engine.clone()).await;
        let api = Api::new(&domain);
        api.register("nightly", &name, false).await;
        api.snapshot("nightly", "a", json!({})).await;
        api.snapshot("nightly", "b", json!({})).await;
        let (status, body) = api.delete("/_snapshot/nightly/a,b").await;
        assert_eq!(status, 404, "{engine}: {body}");
        assert_eq!(error_type(&body), "snapshot_missing_exception");
        assert_eq!(reason(&body), "[nightly:a,b] is missing");
        let (status, body) = api.delete("/_snapshot/nightly/*").await;
        assert_eq!(status, 404, "{engine}: {body}");
        let (status, body) = api.delete("/_snapshot/nightly/a").await;
        assert_eq!(status, 200, "{engine}: {body}");
        let (_, listing) = api.get("/_snapshot/nightly/_all?verbose=false").await;
        assert_eq!(listing["snapshots"].as_array().unwrap().len(), 1);
        domain.shutdown().await;
    }
    env.shutdown().await;
}

#[tokio::test]
async fn elasticsearch_refuses_cluster_manager_timeout() {
    let env = Env::new("engine-timeout").await;
    for engine in Engine::profiles() {
        let name = format!("t-{}", engine.version().replace('.', "-"));
        let domain = domain(&env, &name, engine.clone()).await;
        let api = Api::new(&domain);
        let (status, body) = api.get("/_snapshot?cluster_manager_timeout=30s").await;
        let reads_it = engine.is_opensearch() && engine.version() != "1.3.20";
        if reads_it {
            assert_eq!(status, 200, "{engine}: {body}");
        } else {
            assert_eq!(status, 400, "{engine}: {body}");
            assert_eq!(
                reason(&body),
                "request [/_snapshot] contains unrecognized parameter: [cluster_manager_timeout]"
            );
        }
        let (status, body) = api.get("/_snapshot?master_timeout=30s").await;
        assert_eq!(status, 200, "{engine}: {body}");
        domain.shutdown().await;
    }
    env.shutdown().await;
}

#[tokio::test]
async fn old_versions_write_no_field_they_do_not_have() {
    let env = Env::new("engine-fields").await;
    let old = domain(&env, "old", Engine::es_6_8()).await;
    let api = Api::new(&old);
    api.register("nightly", "fields", false).await;
    let info = api
        .snapshot("nightly", "a", json!({"metadata": {"taken_by": "osnap"}}))
        .await;
    assert!(info.get("data_streams").is_none(), "{info}");
    assert!(info.get("metadata").is_none(), "{info}");
    assert!(info.get("remote_store_index_shallow_copy").is_none());
    let (_, brief) = api.get("/_snapshot/nightly/_all?verbose=false").await;
    assert!(brief["snapshots"][0].get("data_streams").is_none());

    let new = domain(&env, "new", Engine::os_3()).await;
    let api = Api::new(&new);
    api.register("nightly", "fields-new", false).await;
    let info = api
        .snapshot("nightly", "a", json!({"metadata": {"taken_by": "osnap"}}))
        .await;
    assert_eq!(info["metadata"]["taken_by"], "osnap");
    assert_eq!(info["data_streams"], json!([]));
    assert_eq!(info["remote_store_index_shallow_copy"], false);
    old.shutdown().await;
    new.shutdown().await;
    env.shutdown().await;
}
