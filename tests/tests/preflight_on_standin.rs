//! The preflight, one finding at a time: the restore operation's dry run called directly on
//! two stand-in domains (a source and a target sharing one S3 server), each test setting up
//! on the target, or between the two, the one thing the finding is about.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use http::Method;
use operations::preflight::{FindingCode, PreflightReport, Severity};
use serde_json::{Value, json};
use standin::auth::TestPrincipal;
use standin::domain::security::{IndexPermission, Role, RoleMapping, SecurityConfig};
use standin::{Domain, DomainConfig, Engine, NodeDisk};

use common::{World, context, domain_call, domain_json, put_doc, world_on};

/// A source domain (the world's) and a target on the same S3 server.
struct Pair {
    source: World,
    target: Domain,
}

async fn pair(name: &str, source: Engine, target: Engine) -> Pair {
    pair_with(name, source, |config| config.engine = target).await
}

async fn pair_with(name: &str, source: Engine, setup: impl FnOnce(&mut DomainConfig)) -> Pair {
    let source = world_on(name, source).await;
    let mut config = DomainConfig::new(
        format!("{name}-target"),
        source.s3.endpoint(),
        source.s3.credentials(),
    );
    setup(&mut config);
    let target = Domain::start(config).await.unwrap();
    put_doc(&source, "orders", "1").await;
    put_doc(&source, "orders", "2").await;
    Pair { source, target }
}

fn target_json(pair: &Pair) -> Value {
    json!({"endpoint": pair.target.endpoint(), "region": "us-east-1"})
}

async fn on_target(pair: &Pair, method: Method, segments: &[&str], body: Option<Value>) {
    let (status, answer) = domain_call(&pair.target, method, segments, &[], body).await;
    assert!((200..300).contains(&status), "{status} {answer}");
}

async fn preflight(pair: &Pair, extra: Value) -> PreflightReport {
    let mut event = json!({"domain": target_json(pair), "repository": "migration",
        "source": domain_json(&pair.source), "dry_run": true, "indices": ["orders"]});
    event
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let answer = operations::restore::handle(context(None), event)
        .await
        .unwrap();
    assert!(answer.dry_run);
    let report = answer.preflight.expect("a dry run carries its preflight");
    // Bounded: one finding per code at most, each sample within its bound.
    let codes: std::collections::BTreeSet<FindingCode> =
        report.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes.len(), report.findings.len(), "{report:?}");
    assert!(report.findings.iter().all(|f| f.sample.names.len() <= 10));
    assert!(serde_json::to_vec(&report).unwrap().len() < 16 * 1024);
    report
}

fn finding(report: &PreflightReport, code: FindingCode) -> &operations::preflight::Finding {
    report
        .findings
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code:?} in {report:#?}"))
}

#[tokio::test]
async fn a_clear_migration_blocks_nothing_and_names_the_system_indices_it_leaves() {
    let pair = pair("pf-clear", Engine::os_2(), Engine::os_2()).await;
    let report = preflight(&pair, json!({})).await;
    assert_eq!(report.blocking, 0, "{report:#?}");
    let skipped = finding(&report, FindingCode::SystemIndicesSkipped);
    assert_eq!(skipped.severity, Severity::Warning);
    assert!(
        skipped.sample.names.iter().any(|n| n == ".kibana_1"),
        "{skipped:?}"
    );
    // Named, a system index is no longer skipped.
    let named = preflight(&pair, json!({"indices": ["orders", ".kibana_1"]})).await;
    let left: Vec<&String> = named
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::SystemIndicesSkipped)
        .flat_map(|f| &f.sample.names)
        .collect();
    assert!(!left.iter().any(|n| *n == ".kibana_1"), "{named:#?}");
}

#[tokio::test]
async fn versions_that_do_not_restore_onto_each_other_block() {
    for (n, (source, target, blocked)) in [
        (Engine::os_2(), Engine::es_7_10(), true),
        (Engine::os_1_3(), Engine::os_3(), true),
        (Engine::os_2(), Engine::os_1_3(), true),
        (Engine::es_7_10(), Engine::os_2(), false),
        (Engine::es_6_8(), Engine::os_1_3(), false),
    ]
    .into_iter()
    .enumerate()
    {
        let label = format!("{source} onto {target}");
        let pair = pair(&format!("pf-version-{n}"), source.clone(), target.clone()).await;
        let report = preflight(&pair, json!({})).await;
        assert_eq!(
            report.has(FindingCode::VersionIncompatible),
            blocked,
            "{label}: {report:#?}"
        );
        if blocked {
            let found = finding(&report, FindingCode::VersionIncompatible);
            assert_eq!(found.severity, Severity::Blocking);
            assert!(found.subject.contains(source.version()), "{found:?}");
            assert!(report.is_blocked());
        }
    }
}

#[tokio::test]
async fn existing_names_block_as_on_conflict_says() {
    let pair = pair("pf-names", Engine::os_2(), Engine::os_2()).await;
    on_target(&pair, Method::PUT, &["orders"], None).await;
    let fail = preflight(&pair, json!({"on_conflict": "fail"})).await;
    let clash = finding(&fail, FindingCode::NameClash);
    assert_eq!(clash.severity, Severity::Blocking);
    assert_eq!(clash.sample.names, ["orders"]);
    // replace restores over it: a warning, not a block.
    let replace = preflight(&pair, json!({"on_conflict": "replace"})).await;
    assert!(!replace.has(FindingCode::NameClash), "{replace:#?}");
    assert_eq!(
        finding(&replace, FindingCode::ReplacesExisting)
            .sample
            .names,
        ["orders"]
    );
    assert_eq!(replace.blocking, 0, "{replace:#?}");
    // rename restores as restored-orders, which is free.
    let rename = preflight(&pair, json!({"on_conflict": "rename"})).await;
    assert_eq!(rename.blocking, 0, "{rename:#?}");
}

#[tokio::test]
async fn replace_blocks_where_the_target_cannot_close_indices() {
    let pair = pair("pf-noclose", Engine::es_6_8(), Engine::es_6_8()).await;
    on_target(&pair, Method::PUT, &["orders"], None).await;
    let report = preflight(&pair, json!({"on_conflict": "replace"})).await;
    assert!(report.has(FindingCode::NameClash), "{report:#?}");
    assert!(!report.has(FindingCode::ReplacesExisting));
}

#[tokio::test]
async fn index_and_alias_names_clash_in_both_directions() {
    let pair = pair("pf-alias", Engine::os_2(), Engine::os_2()).await;
    // The target's alias `orders` (on orders-v2) has the name the restore would create.
    on_target(
        &pair,
        Method::PUT,
        &["orders-v2"],
        Some(json!({"aliases": {"orders": {}}})),
    )
    .await;
    let report = preflight(&pair, json!({})).await;
    let clash = finding(&report, FindingCode::AliasClash);
    assert_eq!(clash.severity, Severity::Blocking);
    assert!(clash.sample.names[0].contains("orders"), "{clash:?}");

    // The other way: the source's `logs-1` brings alias `logs`, an index on the target.
    let other = pair_with("pf-alias-back", Engine::os_2(), |_| {}).await;
    let (status, body) = domain_call(
        &other.source.domain,
        Method::PUT,
        &["logs-1"],
        &[],
        Some(json!({"aliases": {"logs": {}}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    on_target(&other, Method::PUT, &["logs"], None).await;
    let report = preflight(&other, json!({"indices": ["logs-1"]})).await;
    assert!(report.has(FindingCode::AliasClash), "{report:#?}");
    // Without the aliases nothing clashes.
    let without = preflight(
        &other,
        json!({"indices": ["logs-1"], "include_aliases": false}),
    )
    .await;
    assert!(!without.has(FindingCode::AliasClash), "{without:#?}");
}

#[tokio::test]
async fn no_shard_headroom_blocks() {
    let pair = pair("pf-shards", Engine::os_2(), Engine::os_2()).await;
    // 3 primaries, 1 replica: 6 new copies.
    let (status, body) = domain_call(
        &pair.source.domain,
        Method::PUT,
        &["logs-1"],
        &[],
        Some(json!({"settings": {"index.number_of_shards": 3}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let roomy = preflight(&pair, json!({"indices": ["logs-1"]})).await;
    assert!(!roomy.has(FindingCode::ShardHeadroom), "{roomy:#?}");
    on_target(
        &pair,
        Method::PUT,
        &["_cluster", "settings"],
        Some(json!({"persistent": {"cluster.max_shards_per_node": 3}})),
    )
    .await;
    let report = preflight(&pair, json!({"indices": ["logs-1"]})).await;
    let full = finding(&report, FindingCode::ShardHeadroom);
    assert_eq!(full.severity, Severity::Blocking);
    assert_eq!(full.sample.names, ["logs-1"]);
}

#[tokio::test]
async fn a_target_without_the_disk_blocks() {
    let roomy = pair("pf-disk-ok", Engine::os_2(), Engine::os_2()).await;
    assert!(
        !preflight(&roomy, json!({}))
            .await
            .has(FindingCode::DiskSpace)
    );
    // 1 GiB disks already 89.99% full: below the 90% high watermark by less than a document.
    let total: u64 = 1 << 30;
    let full = pair_with("pf-disk-full", Engine::os_2(), |config| {
        config.node_disk = NodeDisk {
            total_bytes: total,
            other_used_bytes: total / 100 * 90 - 64,
        };
    })
    .await;
    let report = preflight(&full, json!({})).await;
    let disk = finding(&report, FindingCode::DiskSpace);
    assert_eq!(disk.severity, Severity::Blocking);
    assert!(disk.subject.contains("90%"), "{disk:?}");
}

fn full_access(name: &str) -> SecurityConfig {
    let mut config = SecurityConfig::default();
    config.roles.insert(
        name.to_owned(),
        Role {
            cluster_permissions: vec!["*".into()],
            index_permissions: vec![IndexPermission {
                index_patterns: vec!["*".into()],
                allowed_actions: vec!["*".into()],
                ..IndexPermission::default()
            }],
            ..Role::default()
        },
    );
    config.mappings = BTreeMap::from([(
        name.to_owned(),
        RoleMapping {
            users: vec![TestPrincipal::default_operator().arn],
            ..RoleMapping::default()
        },
    )]);
    config
}

#[tokio::test]
async fn a_caller_mapped_to_no_role_is_blocked_and_unknown_roles_warn() {
    // Fine-grained access control whose master user is someone else.
    let unmapped = pair_with("pf-perm-none", Engine::os_2(), |config| {
        config.security = Some(SecurityConfig::with_master_user(
            "arn:aws:iam::123456789012:user/someone-else",
        ));
    })
    .await;
    let report = preflight(&unmapped, json!({})).await;
    assert_eq!(
        finding(&report, FindingCode::PermissionsMissing).severity,
        Severity::Blocking
    );

    let custom = pair_with("pf-perm-custom", Engine::os_2(), |config| {
        config.security = Some(full_access("ops"));
    })
    .await;
    let report = preflight(&custom, json!({})).await;
    let unverified = finding(&report, FindingCode::PermissionsUnverified);
    assert_eq!(unverified.severity, Severity::Warning);
    assert_eq!(unverified.sample.names, ["ops"]);
    assert!(!report.has(FindingCode::PermissionsMissing));

    // The shipped role's name is known to grant what the restore needs.
    let shipped = pair_with("pf-perm-osnap", Engine::os_2(), |config| {
        config.security = Some(full_access("osnap"));
    })
    .await;
    let report = preflight(&shipped, json!({})).await;
    assert!(
        !report.has(FindingCode::PermissionsUnverified),
        "{report:#?}"
    );
    assert!(!report.has(FindingCode::PermissionsMissing));

    // Without the plugin, IAM alone decides: nothing to report.
    let plain = pair("pf-perm-off", Engine::os_2(), Engine::os_2()).await;
    let report = preflight(&plain, json!({})).await;
    assert!(
        !report.has(FindingCode::PermissionsUnverified),
        "{report:#?}"
    );
}

#[tokio::test]
async fn a_repository_the_target_could_write_to_warns() {
    let pair = pair("pf-repo", Engine::os_2(), Engine::os_2()).await;
    let definition = |readonly: bool| {
        json!({"type": "s3", "settings": {"bucket": "snapshots", "base_path": "pf-repo",
            "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE, "readonly": readonly}})
    };
    let report = preflight(&pair, json!({})).await;
    assert!(
        !report.has(FindingCode::RepositoryWritable),
        "not registered yet"
    );
    on_target(
        &pair,
        Method::PUT,
        &["_snapshot", "migration"],
        Some(definition(false)),
    )
    .await;
    let report = preflight(&pair, json!({})).await;
    assert_eq!(
        finding(&report, FindingCode::RepositoryWritable).severity,
        Severity::Warning
    );
    on_target(
        &pair,
        Method::PUT,
        &["_snapshot", "migration"],
        Some(definition(true)),
    )
    .await;
    let report = preflight(&pair, json!({})).await;
    assert!(!report.has(FindingCode::RepositoryWritable), "{report:#?}");
}

#[tokio::test]
async fn a_source_is_read_by_the_dry_run_only() {
    let pair = pair("pf-dry-only", Engine::os_2(), Engine::os_2()).await;
    let error = operations::restore::handle(
        context(None),
        json!({"domain": target_json(&pair), "repository": "migration",
            "source": domain_json(&pair.source), "indices": ["orders"]}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.error_type(), "InvalidRequest");
    assert!(error.to_string().contains("dry_run"), "{error}");
}

#[tokio::test]
async fn a_restore_dry_run_from_a_snapshot_carries_the_report_and_a_restore_does_not() {
    let world = common::world_with_nightly("pf-snapshot", &["orders"]).await;
    let (status, body) = common::operator_send(
        &world,
        Method::PUT,
        &["_snapshot", "nightly", "nightly-1"],
        &[("wait_for_completion", "true")],
        Some(json!({"indices": "orders,.kibana_1"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        common::operator_send(&world, Method::DELETE, &["orders"], &[], None).await;
    assert_eq!(status, 200, "{body}");
    let event = |dry_run: bool| {
        json!({"domain": domain_json(&world), "repository": "nightly",
            "snapshot": "nightly-1", "dry_run": dry_run})
    };
    let dry = operations::restore::handle(context(None), event(true))
        .await
        .unwrap();
    let report = dry.preflight.expect("the dry run's report");
    assert_eq!(report.blocking, 0, "{report:#?}");
    // The snapshot holds .kibana_1, which a restore of everything leaves out.
    assert_eq!(
        finding(&report, FindingCode::SystemIndicesSkipped)
            .sample
            .names,
        [".kibana_1"]
    );
    let done = operations::restore::handle(context(None), event(false))
        .await
        .unwrap();
    assert!(done.preflight.is_none());
    let serialized = serde_json::to_value(&done).unwrap();
    assert!(serialized.get("preflight").is_none(), "{serialized}");
}

#[tokio::test]
async fn warm_and_cold_indices_of_the_source_are_named_as_left_behind() {
    let pair = pair("pf-tiers", Engine::os_2(), Engine::os_2()).await;
    let clear = preflight(&pair, json!({"indices": ["orders", "logs-*"]})).await;
    assert!(!clear.has(FindingCode::WarmOrColdIndices), "{clear:#?}");

    put_doc(&pair.source, "logs-old", "1").await;
    put_doc(&pair.source, "logs-older", "1").await;
    assert!(pair.source.domain.migrate_to_warm("logs-old"));
    // Cold storage takes warm indices only.
    assert!(pair.source.domain.migrate_to_warm("logs-older"));
    pair.source.domain.enable_cold_storage();
    assert!(pair.source.domain.migrate_to_cold("logs-older"));
    put_doc(&pair.source, "notes", "1").await;
    assert!(pair.source.domain.migrate_to_warm("notes"));
    let report = preflight(&pair, json!({"indices": ["orders", "logs-*"]})).await;
    let tiers = finding(&report, FindingCode::WarmOrColdIndices);
    assert_eq!(tiers.severity, Severity::Warning);
    assert_eq!(tiers.sample.names, ["logs-old", "logs-older"], "{tiers:?}");
    assert!(
        tiers.subject.starts_with("1 UltraWarm and 1 cold"),
        "{tiers:?}"
    );
    assert_eq!(report.blocking, 0, "{report:#?}");
}
