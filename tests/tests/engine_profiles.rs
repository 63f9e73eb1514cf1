//! osnap's whole life cycle on a domain of each engine profile (Elasticsearch 6.8, 7.4, 7.10,
//! OpenSearch 1.3, 2.13, 3.1): register, snapshot, verify, restore (dry run, then for real
//! with a rename) and prune, each operation called directly. The stand-in refuses what that
//! engine version refuses (`policy::engines`), so a pass means every request osnap sent is
//! one that version takes; the test also asks the stand-in that none was refused as
//! unrecognized. Every request osnap sent (method, path, query parameters) must also be one
//! upstream's REST API specs declare (`standin/tests/upstream/catalog.rs`: the JSON specs and
//! the OpenAPI spec, read from `$OSNAP_UPSTREAM_CHECKS` or `../shared/`; without them the check
//! says it was skipped).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../../standin/tests/upstream/catalog.rs"]
#[allow(dead_code)]
mod catalog;
mod common;

use std::time::Duration;

use serde_json::{Value, json};
use standin::Engine;

use common::{World, context, domain_json, operator_send, put_doc, snapshot_names, world_on};

fn event(world: &World, extra: Value) -> Value {
    let mut e = json!({"domain": domain_json(world), "repository": "nightly"});
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    e
}

async fn snapshot_and_wait(world: &World, name: &str) {
    let taken = operations::snapshot::handle(
        context(None),
        event(world, json!({"snapshot": name, "indices": ["logs-*"]})),
    )
    .await
    .unwrap();
    assert!(taken.started, "{taken:?}");
    for _ in 0..100 {
        let verdict =
            operations::verify::handle(context(None), event(world, json!({"snapshot": name})))
                .await
                .unwrap();
        if verdict.done {
            assert!(verdict.ok, "{verdict:?}");
            assert_eq!(verdict.state, "SUCCESS");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} never finished");
}

async fn life_cycle(engine: Engine) {
    let tag = format!(
        "profile-{}",
        engine.to_string().to_lowercase().replace([' ', '.'], "-")
    );
    let world = world_on(&tag, engine.clone()).await;
    put_doc(&world, "logs-1", "1").await;
    put_doc(&world, "logs-2", "1").await;
    // What the test seeded is not osnap's.
    world.domain.take_requests();

    let registered = operations::register::handle(
        context(None),
        event(
            &world,
            json!({"settings": {"bucket": "snapshots", "base_path": tag, "region": "us-east-1",
                "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE}}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(registered.repository, "nightly", "{engine}");

    for name in ["nightly-a", "nightly-b", "nightly-c"] {
        snapshot_and_wait(&world, name).await;
    }

    let dry = operations::restore::handle(
        context(None),
        event(
            &world,
            json!({"snapshot": "nightly-c", "dry_run": true, "on_conflict": "rename",
                "rename_pattern": "(.+)", "rename_replacement": "restored-$1"}),
        ),
    )
    .await
    .unwrap();
    assert!(dry.dry_run, "{engine}: {dry:?}");
    assert!(
        !world
            .domain
            .index_names()
            .iter()
            .any(|n| n.starts_with("restored-"))
    );

    let restored = operations::restore::handle(
        context(None),
        event(
            &world,
            json!({"snapshot": "nightly-c", "on_conflict": "rename",
                "rename_pattern": "(.+)", "rename_replacement": "restored-$1"}),
        ),
    )
    .await
    .unwrap();
    let mut targets: Vec<&str> = restored.restored.names.iter().map(String::as_str).collect();
    targets.sort_unstable();
    assert_eq!(targets, ["restored-logs-1", "restored-logs-2"], "{engine}");
    assert_eq!(restored.replaced.count, 0, "{engine}: {restored:?}");
    for index in ["logs-1", "logs-2", "restored-logs-1", "restored-logs-2"] {
        assert!(
            world.domain.index_names().iter().any(|n| n == index),
            "{engine}: {index}"
        );
    }

    // replace goes over closed indices where the version closes them (Elasticsearch 7.4 on);
    // elsewhere it is refused before anything changes, since it could only delete first.
    put_doc(&world, "logs-1", "after-the-snapshot").await;
    let replaced = operations::restore::handle(
        context(None),
        event(
            &world,
            json!({"snapshot": "nightly-c", "indices": ["logs-1"], "on_conflict": "replace"}),
        ),
    )
    .await;
    if engine.capabilities().close_index {
        let replaced = replaced.unwrap();
        assert_eq!(replaced.replaced.names, ["logs-1"], "{engine}");
        assert_eq!(world.domain.doc_count("logs-1"), Some(1), "{engine}");
    } else {
        let refused = replaced.unwrap_err();
        assert_eq!(
            refused.error_type(),
            "UnsafeOperation",
            "{engine}: {refused}"
        );
        assert_eq!(world.domain.doc_count("logs-1"), Some(2), "{engine}");
    }

    let plan = operations::prune::handle(
        context(None),
        event(&world, json!({"keep_last": 1, "dry_run": true})),
    )
    .await
    .unwrap();
    assert_eq!(plan.deleted.count, 2, "{engine}: {plan:?}");
    let pruned = operations::prune::handle(context(None), event(&world, json!({"keep_last": 1})))
        .await
        .unwrap();
    assert_eq!(pruned.deleted.count, 2, "{engine}: {pruned:?}");
    assert_eq!(
        snapshot_names(&world, "nightly").await,
        ["nightly-c"],
        "{engine}"
    );

    streams(&world, &engine).await;

    assert_eq!(
        world.domain.unrecognized_parameters(),
        Vec::<String>::new(),
        "{engine}: a request carried a parameter this version does not read"
    );
    declared_upstream(&engine, &world.domain.take_requests());
}

/// Parameters the server reads that upstream's specs leave out, each with the source that
/// reads it; nothing else is excused.
const READ_BUT_UNDECLARED: &[(&str, &str, &str)] = &[(
    "indices.recovery",
    "ignore_unavailable",
    "RestRecoveryAction reads IndicesOptions.fromRequest (ignore_unavailable, allow_no_indices, \
     expand_wildcards); indices.recovery's spec declares only active_only and detailed",
)];

/// Requests to APIs that exist on real domains but outside the specs this check reads: each
/// with where it is declared.
const OUTSIDE_THE_SPECS: &[(&str, &str, &str)] = &[
    (
        "GET",
        "_cold/indices/_search",
        "Amazon OpenSearch Service's own API (developer guide, cold-storage: \"GET _cold/indices/_search\"); \
         no open-source engine has it",
    ),
    (
        "GET",
        "_plugins/_security/authinfo",
        "the security plugin's API; the specs read here hold core's namespaces only",
    ),
    (
        "GET",
        "_opendistro/_security/authinfo",
        "the security plugin's legacy path: opensearch-api-spec's _superseded_operations.yaml lists it, \
         superseded by _plugins/_security/authinfo",
    ),
];

/// Every request is an operation upstream's specs declare, with parameters they declare (the
/// most specific URL form decides: the one with the fewest `{parts}`).
fn declared_upstream(engine: &Engine, seen: &[standin::domain::SeenRequest]) {
    let dir = std::env::var_os("OSNAP_UPSTREAM_CHECKS").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
        std::path::PathBuf::from,
    );
    if !dir.join("opensearch-rest-tests/api").is_dir()
        || !dir.join("opensearch-api-spec/spec").is_dir()
    {
        println!(
            "osnap's requests against upstream's API specs: skipped: no opensearch-rest-tests/api and opensearch-api-spec/spec under {} (set OSNAP_UPSTREAM_CHECKS)",
            dir.display()
        );
        return;
    }
    let catalog = catalog::Catalog::load(
        &dir.join("opensearch-rest-tests"),
        &dir.join("opensearch-api-spec"),
    )
    .unwrap();
    let mut undeclared = Vec::new();
    let mut distinct = std::collections::BTreeSet::new();
    let mut outside = 0;
    for request in seen {
        let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
        let path = segments.join("/");
        if OUTSIDE_THE_SPECS
            .iter()
            .any(|(method, outside, _)| *method == request.method && *outside == path)
        {
            outside += 1;
            continue;
        }
        let fitting: Vec<(usize, &str, &catalog::Api)> = catalog
            .apis
            .iter()
            .flat_map(|(name, api)| {
                api.forms
                    .iter()
                    .filter(|f| f.methods.contains(&request.method) && f.fits(&segments))
                    .map(move |f| (f.parts().len(), name.as_str(), api))
            })
            .collect();
        let Some(fewest) = fitting.iter().map(|f| f.0).min() else {
            undeclared.push(format!(
                "{} /{}: no upstream API",
                request.method,
                segments.join("/")
            ));
            continue;
        };
        let apis: Vec<&(usize, &str, &catalog::Api)> =
            fitting.iter().filter(|f| f.0 == fewest).collect();
        for name in &request.query {
            if !catalog.global_params.contains(name)
                && !apis.iter().any(|a| a.2.params.contains(name))
                && !READ_BUT_UNDECLARED
                    .iter()
                    .any(|(api, param, _)| *param == name && apis.iter().any(|a| a.1 == *api))
            {
                let names: Vec<&str> = apis.iter().map(|a| a.1).collect();
                undeclared.push(format!(
                    "{} /{}: `{name}` is not a parameter of {names:?}",
                    request.method,
                    segments.join("/")
                ));
            }
        }
        distinct.insert((
            apis[0].1.to_owned(),
            request.method.clone(),
            request.query.clone(),
        ));
    }
    assert!(
        undeclared.is_empty(),
        "{engine}: osnap sent what upstream does not declare:\n{}",
        undeclared.join("\n")
    );
    println!(
        "osnap's requests against upstream's API specs on {engine}: {} requests, {} distinct (API, method, parameters), all declared; {outside} to APIs outside these specs (OUTSIDE_THE_SPECS)",
        seen.len(),
        distinct.len()
    );
}

/// Where the table says the engine has data streams, a stream of two generations goes
/// through the `logs-*` snapshot and comes back renamed as a stream; elsewhere the stand-in
/// refuses streams and osnap sends nothing about them.
async fn streams(world: &World, engine: &Engine) {
    let (status, body) = operator_send(
        world,
        http::Method::PUT,
        &["_index_template", "logs"],
        &[],
        Some(json!({"index_patterns": ["logs-web*"], "data_stream": {}})),
    )
    .await;
    if !engine.capabilities().data_streams {
        assert_eq!(status, 501, "{engine}: {body}");
        return;
    }
    assert_eq!(status, 200, "{engine}: {body}");
    for (i, id) in ["a", "b", "c"].iter().enumerate() {
        if i == 2 {
            let (status, _) = operator_send(
                world,
                http::Method::POST,
                &["logs-web", "_rollover"],
                &[],
                None,
            )
            .await;
            assert_eq!(status, 200, "{engine}");
        }
        let (status, body) = operator_send(
            world,
            http::Method::PUT,
            &["logs-web", "_create", id],
            &[],
            Some(json!({"@timestamp": "2026-12-01T00:00:00Z"})),
        )
        .await;
        assert_eq!(status, 201, "{engine}: {body}");
    }
    snapshot_and_wait(world, "nightly-streams").await;
    let restored = operations::restore::handle(
        context(None),
        event(
            world,
            json!({"snapshot": "nightly-streams", "indices": ["logs-web"], "on_conflict": "rename"}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        restored.data_streams.names,
        ["restored-logs-web"],
        "{engine}: {restored:?}"
    );
    assert_eq!(restored.restored.count, 2, "{engine}: {restored:?}");
    for index in [
        ".ds-restored-logs-web-000001",
        ".ds-restored-logs-web-000002",
    ] {
        assert!(
            world.domain.index_names().iter().any(|n| n == index),
            "{engine}: {index}"
        );
    }
    assert_eq!(
        world.domain.doc_count(".ds-restored-logs-web-000002"),
        Some(1),
        "{engine}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn elasticsearch_6_8() {
    life_cycle(Engine::es_6_8()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn elasticsearch_7_4() {
    life_cycle(Engine::es_7_4()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn elasticsearch_7_10() {
    life_cycle(Engine::es_7_10()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn opensearch_1_3() {
    life_cycle(Engine::os_1_3()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn opensearch_2_13() {
    life_cycle(Engine::os_2()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn opensearch_3_1() {
    life_cycle(Engine::os_3()).await;
}
