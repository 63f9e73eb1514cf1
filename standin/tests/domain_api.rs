//! The emulated domain's cluster, index, document, alias and cat APIs over loopback HTTP with
//! real SigV4, and the answers it refuses with.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Env, client, error_type, reason};
use http::Method;
use serde_json::json;
use signing::RetryPolicy;
use standin::Engine;

#[tokio::test]
async fn root_and_health_describe_the_engine() {
    let env = Env::new("root").await;
    let opensearch = env.domain("logs").await;
    let api = Api::new(&opensearch);
    let (status, body) = api.get("/").await;
    assert_eq!(status, 200);
    assert_eq!(body["version"]["distribution"], "opensearch");
    assert_eq!(body["version"]["number"], "2.13.0");
    assert_eq!(body["cluster_name"], "123456789012:logs");
    assert_eq!(
        body["tagline"],
        "The OpenSearch Project: https://opensearch.org/"
    );

    let mut config = env.config("legacy");
    config.engine = Engine::elasticsearch();
    let elasticsearch = standin::Domain::start(config).await.unwrap();
    let (_, body) = Api::new(&elasticsearch).get("/").await;
    assert!(body["version"].get("distribution").is_none());
    assert_eq!(body["version"]["number"], "7.10.2");
    assert_eq!(body["version"]["build_flavor"], "oss");
    assert_eq!(body["tagline"], "You Know, for Search");

    let (status, health) = api.get("/_cluster/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "green");
    assert_eq!(health["active_primary_shards"], 2); // the two system indices
    assert_eq!(health["number_of_data_nodes"], 2);

    opensearch.shutdown().await;
    elasticsearch.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn a_wrong_signature_or_none_is_refused_in_the_aws_shape() {
    let env = Env::new("auth").await;
    let domain = env.domain("auth").await;
    let wrong = Api::with_client(client(
        &domain.endpoint(),
        "not-the-secret",
        RetryPolicy::none(),
    ));
    let (status, body) = wrong.get("/").await;
    assert_eq!(status, 403);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("The request signature we calculated does not match")
    );

    let unsigned = reqwest::Client::new()
        .put(format!("{}/logs", domain.endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    let body: serde_json::Value = serde_json::from_slice(&unsigned.bytes().await.unwrap()).unwrap();
    assert!(body["Message"].as_str().unwrap().contains("es:ESHttpPut"));
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn indices_are_created_listed_and_deleted_with_the_engine_errors() {
    let env = Env::new("indices").await;
    let domain = env.domain("indices").await;
    let api = Api::new(&domain);

    let (status, body) = api
        .put(
            "/orders",
            json!({"settings": {"number_of_shards": 2, "number_of_replicas": 0},
                   "mappings": {"properties": {"sku": {"type": "keyword"}}},
                   "aliases": {"shop": {}}}),
        )
        .await;
    assert_eq!(
        (status, body["index"].clone()),
        (200, json!("orders")),
        "{body}"
    );
    let (status, body) = api.put("/orders", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "resource_already_exists_exception")
    );
    let (status, body) = api.put("/Orders", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "invalid_index_name_exception")
    );
    assert_eq!(
        reason(&body),
        "Invalid index name [Orders], must be lowercase"
    );
    let (status, body) = api.put("/shop", json!({})).await;
    assert_eq!(
        (status, reason(&body)),
        (400, "Invalid index name [shop], already exists as alias")
    );
    let (status, body) = api
        .put("/x", json!({"settings": {"numbr_of_shards": 1}}))
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "illegal_argument_exception")
    );

    let (status, body) = api.get("/orders").await;
    assert_eq!(status, 200);
    assert_eq!(body["orders"]["settings"]["index"]["number_of_shards"], "2");
    assert_eq!(
        body["orders"]["mappings"]["properties"]["sku"]["type"],
        "keyword"
    );

    api.ingest("logs-1", 3).await;
    api.ingest("logs-2", 2).await;
    let (status, rows) = api
        .get("/_cat/indices?format=json&bytes=b&expand_wildcards=all")
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            ".kibana_1",
            ".opendistro_security",
            "logs-1",
            "logs-2",
            "orders"
        ]
    );
    let logs = &rows[2];
    assert_eq!(logs["docs.count"], "3");
    assert_eq!(logs["pri"], "1");
    assert_eq!(logs["health"], "green");
    let store: u64 = logs["store.size"].as_str().unwrap().parse().unwrap();
    let primary: u64 = logs["pri.store.size"].as_str().unwrap().parse().unwrap();
    assert_eq!(store, primary * 2, "one replica on the second node");
    let (_, rows) = api
        .get("/_cat/indices/logs-*?format=json&h=index,docs.count")
        .await;
    assert_eq!(
        rows,
        json!([{"index": "logs-1", "docs.count": "3"}, {"index": "logs-2", "docs.count": "2"}])
    );
    let (status, text) = api.get("/_cat/indices/logs-1?v&h=index,dc").await;
    assert_eq!(status, 200);
    assert_eq!(text, json!("index  dc\nlogs-1  3\n"));

    let (status, body) = api.delete("/missing").await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "index_not_found_exception")
    );
    assert_eq!(body["error"]["index"], "missing");
    let (status, _) = api.delete("/logs-*").await;
    assert_eq!(status, 200);
    let (status, _) = api.delete("/orders,missing-*").await;
    assert_eq!(status, 200);
    let (status, body) = api.delete("/.opendistro_security").await;
    assert_eq!((status, error_type(&body)), (403, "security_exception"));
    let (status, _) = api.delete("/_all").await;
    assert_eq!(status, 200);
    assert_eq!(domain.index_names(), [".opendistro_security"]);

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn documents_are_written_one_by_one_and_in_bulk_and_counted() {
    let env = Env::new("docs").await;
    let domain = env.domain("docs").await;
    let api = Api::new(&domain);

    let (status, body) = api.put("/logs/_doc/1", json!({"msg": "a"})).await;
    assert_eq!(
        (status, body["result"].clone()),
        (201, json!("created")),
        "{body}"
    );
    assert!(body.get("_type").is_none());
    let (status, body) = api.put("/logs/_doc/1", json!({"msg": "b"})).await;
    assert_eq!((status, body["_version"].clone()), (200, json!(2)));
    let (status, body) = api.post("/logs/_doc", json!({"msg": "c"})).await;
    assert_eq!(status, 201);
    assert_eq!(body["_id"].as_str().unwrap().len(), 20);
    let (status, body) = api.put("/logs/_create/1", json!({"msg": "d"})).await;
    assert_eq!(
        (status, error_type(&body)),
        (409, "version_conflict_engine_exception")
    );

    let (status, body) = api
        .bulk(
            "/logs/_bulk",
            &[
                json!({"index": {"_id": "2"}}),
                json!({"msg": "e"}),
                json!({"create": {"_id": "1"}}),
                json!({"msg": "f"}),
                json!({"delete": {"_id": "missing"}}),
                json!({"index": {"_index": "other"}}),
                json!({"msg": "g"}),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"], true);
    let statuses: Vec<u64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i.as_object().unwrap().values().next().unwrap()["status"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses, [201, 409, 404, 201]);
    assert_eq!(api.count("logs").await, 3);
    assert_eq!(api.count("other").await, 1);
    let (status, body) = api.get("/logs,oth*/_count").await;
    assert_eq!((status, body["count"].clone()), (200, json!(4)), "{body}");

    let (status, body) = api
        .post("/logs/_count", json!({"query": {"term": {"msg": "a"}}}))
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "illegal_argument_exception")
    );
    let (status, body) = api.get("/missing/_count").await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "index_not_found_exception")
    );

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn aliases_are_read_and_changed_atomically() {
    let env = Env::new("aliases").await;
    let domain = env.domain("aliases").await;
    let api = Api::new(&domain);
    api.ingest("logs-1", 1).await;
    api.ingest("logs-2", 1).await;

    let (status, body) = api
        .post(
            "/_aliases",
            json!({"actions": [
                {"add": {"index": "logs-1", "alias": "logs"}},
                {"add": {"index": "logs-2", "alias": "logs", "is_write_index": true}}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = api.get("/_alias/logs").await;
    assert_eq!(
        body,
        json!({"logs-1": {"aliases": {"logs": {}}}, "logs-2": {"aliases": {"logs": {"is_write_index": true}}}})
    );
    let (_, body) = api.get("/_alias").await;
    assert_eq!(body[".kibana_1"]["aliases"][".kibana"], json!({}));
    assert_eq!(body[".opendistro_security"]["aliases"], json!({}));

    // Writes through the alias land in its write index.
    let (status, body) = api.post("/logs/_doc", json!({"x": 1})).await;
    assert_eq!((status, body["_index"].clone()), (201, json!("logs-2")));

    let (status, body) = api
        .post("/_aliases", json!({"actions": [{"add": {"index": "logs-1", "alias": "logs", "is_write_index": true}}]}))
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "illegal_state_exception")
    );
    let (status, body) = api
        .post(
            "/_aliases",
            json!({"actions": [
                {"remove": {"index": "logs-1", "alias": "logs"}},
                {"add": {"index": "missing", "alias": "logs"}}
            ]}),
        )
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "index_not_found_exception")
    );
    let (_, body) = api.get("/logs-1/_alias").await;
    assert_eq!(
        body["logs-1"]["aliases"]["logs"],
        json!({}),
        "nothing was applied"
    );

    let (status, body) = api.get("/_alias/nope").await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "alias [nope] missing", "status": 404}))
    );
    let (status, body) = api
        .post(
            "/_aliases",
            json!({"actions": [{"remove": {"index": "logs-1", "alias": "nope"}}]}),
        )
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "aliases_not_found_exception")
    );
    let (status, _) = api.put("/logs-1/_alias/old", json!({})).await;
    assert_eq!(status, 200);
    let (status, body) = api.put("/logs-1/_alias/logs-2", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "invalid_alias_name_exception")
    );

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_methods_and_parameters_are_refused_as_the_engine_does() {
    let env = Env::new("routes").await;
    let domain = env.domain("routes").await;
    let api = Api::new(&domain);
    let (status, body) = api.call(Method::PUT, "/_cat/indices", None).await;
    assert_eq!(status, 405);
    assert_eq!(
        body["error"],
        "Incorrect HTTP method for uri [/_cat/indices] and method [PUT], allowed: [GET]"
    );
    let (status, body) = api.get("/a/b/c/d/e").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "no handler found for uri [/a/b/c/d/e] and method [GET]"
    );
    let (status, body) = api.get("/_snapshot/cs-automated/_all?verbos=false").await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "illegal_argument_exception")
    );
    assert_eq!(
        reason(&body),
        "request [/_snapshot/cs-automated/_all] contains unrecognized parameter: [verbos]"
    );
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn a_request_line_over_4_kb_is_refused_before_anything_else() {
    let env = Env::new("line").await;
    let domain = env.domain("line").await;
    let api = Api::new(&domain);
    api.register("nightly", "line", false).await;
    // `GET /_snapshot/nightly/<names> HTTP/1.1` and its CR: 4096 bytes fit, 4097 do not.
    let prefix = "/_snapshot/nightly/";
    let fixed = "GET ".len() + prefix.len() + " HTTP/1.1".len() + 1;
    let names = |len: usize| "n".repeat(len - fixed);
    let (status, body) = api.get(&format!("{prefix}{}", names(4096))).await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "snapshot_missing_exception"),
        "a line of exactly 4 KB is read"
    );
    let (status, body) = api.get(&format!("{prefix}{}", names(4097))).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "too_long_frame_exception")
    );
    assert_eq!(reason(&body), "An HTTP line is larger than 4096 bytes.");
    // Also unsigned: the line is refused before the signature is looked at.
    let unsigned = reqwest::Client::new()
        .get(format!("{}{prefix}{}", domain.endpoint(), names(4097)))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 400);
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn allocation_reports_each_nodes_disk_with_its_shards_and_the_unassigned_copies() {
    let env = Env::new("allocation").await;
    let mut config = env.config("disks");
    config.node_disk = standin::NodeDisk {
        total_bytes: 1 << 30,
        other_used_bytes: 1 << 20,
    };
    let domain = standin::Domain::start(config).await.unwrap();
    let api = Api::new(&domain);
    let (status, before) = api.get("/_cat/allocation?format=json&bytes=b").await;
    assert_eq!(status, 200, "{before}");
    let rows = before.as_array().unwrap();
    assert_eq!(
        rows.len(),
        2,
        "two data nodes, every copy assigned: {before}"
    );
    for row in rows {
        let used: u64 = row["disk.used"].as_str().unwrap().parse().unwrap();
        let avail: u64 = row["disk.avail"].as_str().unwrap().parse().unwrap();
        let indices: u64 = row["disk.indices"].as_str().unwrap().parse().unwrap();
        assert_eq!(row["disk.total"], (1u64 << 30).to_string());
        assert_eq!(used + avail, 1 << 30);
        assert_eq!(used, (1 << 20) + indices, "{row}");
    }
    // Two replicas on two nodes: one copy of each shard has no node.
    let (status, _) = api
        .put(
            "/wide",
            json!({"settings": {"index.number_of_shards": 2, "index.number_of_replicas": 2}}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, after) = api.get("/_cat/allocation?format=json").await;
    let unassigned = after
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == "UNASSIGNED")
        .unwrap_or_else(|| panic!("{after}"));
    assert_eq!(unassigned["shards"], "2");
    assert!(unassigned["disk.avail"].is_null());
    let shards: u64 = after
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["node"] != "UNASSIGNED")
        .map(|r| r["shards"].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    // The two system indices (1 primary, 1 replica each) and `wide`'s 2 × 2 placed copies.
    assert_eq!(shards, 8, "{after}");
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn authinfo_is_served_only_by_the_security_plugin() {
    let env = Env::new("authinfo").await;
    let plain = env.domain("plain").await;
    let (status, body) = Api::new(&plain).get("/_plugins/_security/authinfo").await;
    assert_eq!(status, 400, "no plugin, no handler: {body}");

    let mut config = env.config("secured");
    config.security = Some(standin::domain::security::SecurityConfig::with_master_user(
        &standin::auth::TestPrincipal::default_operator().arn,
    ));
    let secured = standin::Domain::start(config).await.unwrap();
    let (status, body) = Api::new(&secured).get("/_plugins/_security/authinfo").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["roles"], json!(["all_access", "security_manager"]));
    assert_eq!(
        body["user_name"],
        standin::auth::TestPrincipal::default_operator().arn
    );
    plain.shutdown().await;
    secured.shutdown().await;
    env.shutdown().await;
}
