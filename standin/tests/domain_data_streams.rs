//! Data streams on the emulated domain: templates, creation on first write, backing indices
//! and their names, the stream's rules for writes and deletes, rollover, and streams through
//! a snapshot and back (by name, renamed, over an existing stream), on the engines that have
//! them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Env, error_type, reason};
use serde_json::{Value, json};

async fn template(api: &Api) {
    let (status, body) = api
        .put(
            "/_index_template/logs",
            json!({"index_patterns": ["logs-*"], "data_stream": {}, "priority": 10,
                   "template": {"settings": {"index.number_of_replicas": 0}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Writes `n` documents into `stream` (created on the first one).
async fn write(api: &Api, stream: &str, from: usize, n: usize) {
    let mut lines = Vec::new();
    for i in from..from + n {
        lines.push(json!({"create": {"_index": stream}}));
        lines.push(json!({"@timestamp": format!("2026-12-01T00:00:{:02}Z", i % 60), "n": i}));
    }
    let (status, body) = api.bulk("/_bulk", &lines).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"], false, "{body}");
}

fn backing(body: &Value) -> Vec<String> {
    body["data_streams"][0]["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["index_name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_stream_is_made_written_rolled_and_guarded() {
    let env = Env::new("streams").await;
    let domain = env.domain("streams").await;
    let api = Api::new(&domain);

    // No template: no stream.
    let (status, body) = api.put("/_data_stream/logs-web", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "illegal_argument_exception")
    );
    assert_eq!(
        reason(&body),
        "no matching index template found for data stream [logs-web]"
    );
    template(&api).await;
    let (status, body) = api.get("/_index_template/logs").await;
    assert_eq!(status, 200);
    assert_eq!(body["index_templates"][0]["name"], "logs");

    // The first write makes the stream; writes must be creates with a timestamp.
    write(&api, "logs-web", 0, 3).await;
    let (status, body) = api.get("/_data_stream/logs-web").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(backing(&body), [".ds-logs-web-000001"]);
    assert_eq!(body["data_streams"][0]["generation"], 1);
    assert_eq!(body["data_streams"][0]["template"], "logs");
    assert_eq!(
        body["data_streams"][0]["timestamp_field"]["name"],
        "@timestamp"
    );
    let (status, body) = api
        .post(
            "/logs-web/_doc",
            json!({"@timestamp": "2026-12-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "illegal_argument_exception")
    );
    assert_eq!(
        reason(&body),
        "only write ops with an op_type of create are allowed in data streams"
    );
    let (status, body) = api.put("/logs-web/_create/x", json!({"n": 1})).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "mapper_parsing_exception"),
        "{body}"
    );

    // Rollover: a second generation becomes the write index.
    let (status, body) = api.post("/logs-web/_rollover", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["old_index"], ".ds-logs-web-000001");
    assert_eq!(body["new_index"], ".ds-logs-web-000002");
    write(&api, "logs-web", 3, 2).await;
    assert_eq!(api.count("logs-web").await, 5);
    assert_eq!(api.count(".ds-logs-web-000002").await, 2);

    // Backing indices are hidden: wildcards pass over them unless asked, the stream's name
    // reaches them.
    let (_, cat) = api.get("/_cat/indices?format=json").await;
    let listed: Vec<&str> = cat
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["index"].as_str())
        .collect();
    assert!(!listed.iter().any(|i| i.starts_with(".ds-")), "{cat}");
    let (_, cat) = api
        .get("/_cat/indices?format=json&expand_wildcards=all")
        .await;
    assert!(cat.to_string().contains(".ds-logs-web-000002"), "{cat}");
    assert_eq!(api.count("logs-*").await, 5);

    // The write index cannot be deleted; an older backing index leaves its stream.
    let (status, body) = api.delete("/.ds-logs-web-000002").await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "illegal_argument_exception")
    );
    assert_eq!(
        reason(&body),
        "index [.ds-logs-web-000002] is the write index for data stream [logs-web] and cannot be deleted"
    );
    let (status, body) = api.delete("/logs-web").await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "illegal_argument_exception"),
        "{body}"
    );
    let (status, _) = api.delete("/.ds-logs-web-000001").await;
    assert_eq!(status, 200);
    let (_, body) = api.get("/_data_stream/logs-web").await;
    assert_eq!(backing(&body), [".ds-logs-web-000002"]);

    // Deleting the stream deletes its backing indices.
    let (status, _) = api.delete("/_data_stream/logs-web").await;
    assert_eq!(status, 200);
    let (status, body) = api.get("/_data_stream/logs-web").await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "resource_not_found_exception")
    );
    assert!(!domain.index_names().iter().any(|i| i.starts_with(".ds-")));
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn streams_go_through_a_snapshot_and_back() {
    let env = Env::new("stream-snapshots").await;
    let domain = env.domain("stream-snapshots").await;
    let api = Api::new(&domain);
    template(&api).await;
    write(&api, "logs-app", 0, 4).await;
    let (status, _) = api.post("/logs-app/_rollover", json!({})).await;
    assert_eq!(status, 200);
    write(&api, "logs-app", 4, 3).await;
    api.ingest("orders", 2).await;
    api.register("nightly", "stream-snapshots", false).await;

    // `-.*` drops the backing indices, so the stream is not in the snapshot.
    let dropped = api
        .snapshot(
            "nightly",
            "dots-excluded",
            json!({"indices": "*,-.*", "include_global_state": false}),
        )
        .await;
    assert_eq!(dropped["data_streams"], json!([]), "{dropped}");
    assert!(!dropped.to_string().contains(".ds-"), "{dropped}");

    // By name: the stream and every backing index.
    let taken = api
        .snapshot(
            "nightly",
            "by-name",
            json!({"indices": "logs-app,orders", "include_global_state": false}),
        )
        .await;
    assert_eq!(taken["data_streams"], json!(["logs-app"]), "{taken}");
    let mut indices: Vec<&str> = taken["indices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    indices.sort_unstable();
    assert_eq!(
        indices,
        [".ds-logs-app-000001", ".ds-logs-app-000002", "orders"]
    );

    // Restored renamed, as a stream: `.ds-` kept, the rest renamed.
    let (status, body) = api
        .post(
            "/_snapshot/nightly/by-name/_restore?wait_for_completion=true",
            json!({"indices": "logs-app", "include_global_state": false,
                   "rename_pattern": "logs-(.+)", "rename_replacement": "restored-logs-$1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api.get("/_data_stream/restored-logs-app").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        backing(&body),
        [
            ".ds-restored-logs-app-000001",
            ".ds-restored-logs-app-000002"
        ]
    );
    assert_eq!(body["data_streams"][0]["generation"], 2);
    assert_eq!(api.count("restored-logs-app").await, 7);

    // Over the live stream: its backing indices are open, so the engine refuses.
    let (status, body) = api
        .post(
            "/_snapshot/nightly/by-name/_restore",
            json!({"indices": "logs-app"}),
        )
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "snapshot_restore_exception"),
        "{body}"
    );
    assert!(
        reason(&body).contains("[.ds-logs-app-000001] because an open index"),
        "{body}"
    );

    // After the stream is deleted, restoring it by pattern brings it back whole.
    let (status, _) = api.delete("/_data_stream/logs-app").await;
    assert_eq!(status, 200);
    let (status, body) = api
        .post(
            "/_snapshot/nightly/by-name/_restore?wait_for_completion=true",
            json!({"indices": "logs-*"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = api.get("/_data_stream/logs-app").await;
    assert_eq!(
        backing(&body),
        [".ds-logs-app-000001", ".ds-logs-app-000002"]
    );
    assert_eq!(api.count("logs-app").await, 7);
    // Writes go on into the restored write index.
    write(&api, "logs-app", 7, 1).await;
    assert_eq!(api.count(".ds-logs-app-000002").await, 4);
    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn engines_without_streams_refuse_them() {
    let env = Env::new("no-streams").await;
    let mut config = env.config("no-streams");
    config.engine = standin::Engine::es_7_4();
    let domain = standin::Domain::start(config).await.unwrap();
    let api = Api::new(&domain);
    let (status, body) = api
        .put(
            "/_index_template/logs",
            json!({"index_patterns": ["logs-*"], "data_stream": {}}),
        )
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (501, "stand_in_refusal"),
        "{body}"
    );
    let (status, _) = api.get("/_data_stream").await;
    assert_eq!(status, 501);
    domain.shutdown().await;
    env.shutdown().await;
}
