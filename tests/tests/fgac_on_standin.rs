//! osnap on domains with fine-grained access control (the stand-in's security plugin: the
//! built-in roles and action groups, role mappings by IAM ARN, `security_exception` 403s).
//! The function signs as an assumed role; the operator is the domain's master user, and
//! installs the shipped `osnap` role (`infra/fgac/osnap-role.json`) through the security
//! REST API, as the README tells an operator to. With that role the whole life cycle and a
//! migration between two such domains run, and every action the domain checked for each
//! function is exactly what `operations::permissions` says it needs. With `manage_snapshots`
//! alone, what AWS's guide maps, each function that needs more fails with AccessDenied
//! naming an action it lacks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_credential_types::Credentials;
use http::Method;
use operations::permissions::{self, Permissions};
use serde_json::{Value, json};
use standin::auth::TestPrincipal;
use standin::domain::security::{SecurityConfig, builtin_role};
use standin::s3::S3Server;
use standin::{Domain, DomainConfig, Fault, FaultRule};

use common::{domain_call, tempdir};

/// The function's role, and the session the function signs with.
const FUNCTION_ROLE: &str = "arn:aws:iam::123456789012:role/osnap-function";

fn function_principal() -> TestPrincipal {
    TestPrincipal {
        access_key: "AKIDOSNAPFUNCTION".into(),
        secret_key: "function-secret".into(),
        arn: "arn:aws:sts::123456789012:assumed-role/osnap-function/osnap-session".into(),
    }
}

/// A context signing as the function's role.
/// The functions' context; with `s3`, the S3 endpoint the manifests are written to.
fn function_context_with(s3: Option<&str>) -> operations::Context {
    use operations::connect::{Connector, CredentialMode};
    use signing::{EndpointPolicy, SharedTimeSource, SystemTimeSource};
    let principal = function_principal();
    let time = SharedTimeSource::new(SystemTimeSource::new());
    operations::Context {
        connector: Connector::new(
            CredentialMode::Fixed(Credentials::new(
                principal.access_key,
                principal.secret_key,
                None,
                None,
                "osnap-function",
            )),
            EndpointPolicy::aws_only().allowing_loopback_for_tests(),
            time.clone(),
        )
        .unwrap(),
        defaults: operations::contract::Defaults {
            s3_endpoint: s3.map(str::to_owned),
            ..operations::contract::Defaults::default()
        },
        time,
        deadline: None,
    }
}

fn function_context() -> operations::Context {
    function_context_with(None)
}

/// S3 and any number of FGAC domains writing to its bucket `snapshots`.
struct Fgac {
    _root: tempdir::Dir,
    _s3: S3Server,
    /// The S3 endpoint, which takes the functions' credentials too (their manifests).
    s3_endpoint: String,
    domains: Vec<Domain>,
}

async fn fgac(name: &str, domains: usize) -> Fgac {
    fgac_on(name, domains, standin::Engine::opensearch()).await
}

async fn fgac_on(name: &str, domains: usize, engine: standin::Engine) -> Fgac {
    let root = std::env::temp_dir().join(format!("osnap-fgac-{name}-{}", std::process::id()));
    let principal = function_principal();
    let s3 = S3Server::start(&root, &principal.access_key, &principal.secret_key)
        .await
        .unwrap();
    s3.create_bucket("snapshots").await.unwrap();
    let mut started = Vec::new();
    for n in 0..domains {
        let mut config = DomainConfig::new(format!("{name}-{n}"), s3.endpoint(), s3.credentials());
        config.engine = engine.clone();
        config.credentials.push(function_principal());
        config.snapshot_duration = Duration::from_millis(200);
        config.recovery_duration = Duration::from_millis(200);
        config.security = Some(SecurityConfig::with_master_user(
            &TestPrincipal::default_operator().arn,
        ));
        started.push(Domain::start(config).await.unwrap());
    }
    Fgac {
        _root: tempdir::Dir(root),
        s3_endpoint: s3.endpoint(),
        _s3: s3,
        domains: started,
    }
}

/// What the operator runs (`infra/fgac`): the shipped role, and its mapping to the
/// function's role.
async fn install_osnap_role(domain: &Domain) {
    install_role(domain, shipped_role()).await;
}

/// `role`, installed as `osnap` and mapped to the function's role.
async fn install_role(domain: &Domain, role: Value) {
    let (status, body) = domain_call(
        domain,
        Method::PUT,
        &["_plugins", "_security", "api", "roles", "osnap"],
        &[],
        Some(role),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    map_function_role(domain, "osnap").await;
}

async fn map_function_role(domain: &Domain, role: &str) {
    let (status, body) = domain_call(
        domain,
        Method::PUT,
        &["_plugins", "_security", "api", "rolesmapping", role],
        &[],
        Some(json!({"backend_roles": [FUNCTION_ROLE]})),
    )
    .await;
    assert!(status == 200 || status == 201, "{body}");
}

/// Indexes documents as the operator.
async fn seed(domain: &Domain, index: &str, ids: &[&str]) {
    for id in ids {
        let (status, body) = domain_call(
            domain,
            Method::PUT,
            &[index, "_doc", id],
            &[("refresh", "true")],
            Some(json!({"m": "x"})),
        )
        .await;
        assert!(status == 200 || status == 201, "{body}");
    }
}

fn event(domain: &Domain, extra: Value) -> Value {
    let mut e = json!({"domain": {"endpoint": domain.endpoint(), "region": "us-east-1"},
        "repository": "nightly"});
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    e
}

fn settings(base_path: &str) -> Value {
    json!({"settings": {"bucket": "snapshots", "base_path": base_path, "region": "us-east-1",
        "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE}})
}

/// Actions checked for the function's role per function, over every call, and those refused.
#[derive(Default)]
struct Seen {
    checked: BTreeMap<&'static str, BTreeSet<String>>,
    refused: BTreeSet<String>,
    /// Why each snapshot's manifest was not recorded, when it was not.
    manifests_not_recorded: Vec<String>,
}

impl Seen {
    /// Takes what `domain` checked since the last call, for `function`.
    fn add(&mut self, function: &'static str, domain: &Domain) {
        for check in domain.take_checked_actions() {
            if check.user == FUNCTION_ROLE {
                if !check.granted {
                    self.refused.insert(check.action.clone());
                }
                self.checked
                    .entry(function)
                    .or_default()
                    .insert(check.action);
            }
        }
    }
}

fn needs(function: &str) -> &'static Permissions {
    permissions::BY_FUNCTION
        .iter()
        .find(|p| p.function == function)
        .unwrap()
}

fn all_of(p: &Permissions) -> BTreeSet<String> {
    p.cluster
        .iter()
        .chain(p.index)
        .chain(p.drill_copies)
        .map(|a| (*a).to_owned())
        .collect()
}

type Step<T> = Result<T, operations::OsnapError>;

async fn snapshot_and_wait(domain: &Domain, s3: &str, name: &str, seen: &mut Seen) -> Step<()> {
    let ctx = function_context_with(Some(s3));
    let taken = operations::snapshot::handle(
        ctx.clone(),
        event(
            domain,
            json!({"snapshot": name, "indices": ["logs-*", "orders"]}),
        ),
    )
    .await;
    seen.add("snapshot", domain);
    let taken = taken?;
    assert!(taken.started);
    if let Some(reason) = taken.manifest.reason {
        seen.manifests_not_recorded.push(reason);
    }
    for _ in 0..100 {
        let verdict =
            operations::verify::handle(ctx.clone(), event(domain, json!({"snapshot": name}))).await;
        seen.add("verify", domain);
        let verdict = verdict?;
        if verdict.done {
            assert!(verdict.ok, "{verdict:?}");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} never finished");
}

async fn recovered(domain: &Domain, targets: &[String], seen: &mut Seen) -> Step<()> {
    for _ in 0..100 {
        let verdict = operations::verify::handle(
            function_context(),
            event(domain, json!({"check": "restore", "indices": targets})),
        )
        .await;
        seen.add("verify", domain);
        let verdict = verdict?;
        if verdict.done {
            assert!(verdict.ok, "{verdict:?}");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{targets:?} never recovered");
}

/// A domain holding `logs-1` (2 documents) and `orders` (1), with `role` installed under the
/// name `osnap` and mapped to the function's role.
async fn life_cycle_world(name: &str, role: Value) -> Fgac {
    let world = fgac(name, 1).await;
    let domain = &world.domains[0];
    seed(domain, "logs-1", &["1", "2"]).await;
    seed(domain, "orders", &["1"]).await;
    install_role(domain, role).await;
    let _ = domain.take_checked_actions();
    world
}

/// register, snapshot (and its retry), verify (snapshot, newest, restore, counts), restore
/// (dry run, rename, replace) and prune (dry run, then for real), as the function's role;
/// stops at the first refusal.
async fn life_cycle(domain: &Domain, s3: &str, base_path: &str, seen: &mut Seen) -> Step<()> {
    let ctx = function_context_with(Some(s3));
    let registered =
        operations::register::handle(ctx.clone(), event(domain, settings(base_path))).await;
    seen.add("register", domain);
    registered?;
    for name in ["nightly-a", "nightly-b"] {
        snapshot_and_wait(domain, s3, name, seen).await?;
    }
    // A workflow's retry of a create already done: the function reads the snapshot instead.
    let again = operations::snapshot::handle(
        ctx.clone(),
        event(
            domain,
            json!({"snapshot": "nightly-b", "indices": ["logs-*", "orders"]}),
        ),
    )
    .await;
    seen.add("snapshot", domain);
    assert_eq!(again?.state, "SUCCESS");
    let newest =
        operations::verify::handle(ctx.clone(), event(domain, json!({"max_age": "1h"}))).await;
    seen.add("verify", domain);
    assert!(newest?.ok);

    let rename = json!({"snapshot": "nightly-b", "on_conflict": "rename",
        "rename_pattern": "(.+)", "rename_replacement": "restored-$1"});
    let mut dry = rename.clone();
    dry["dry_run"] = json!(true);
    let plan = operations::restore::handle(ctx.clone(), event(domain, dry)).await;
    seen.add("restore", domain);
    assert!(plan?.dry_run);
    assert!(
        !domain
            .index_names()
            .iter()
            .any(|n| n.starts_with("restored-"))
    );

    let renamed = operations::restore::handle(ctx.clone(), event(domain, rename.clone())).await;
    seen.add("restore", domain);
    let renamed = renamed?;
    let targets = renamed.restored.names.clone();
    assert_eq!(targets.len(), 2, "{renamed:?}");
    recovered(domain, &targets, seen).await?;
    assert_eq!(domain.doc_count("restored-logs-1"), Some(2));
    let counts = operations::verify::handle(
        ctx.clone(),
        event(
            domain,
            json!({"check": "counts", "restore_of": rename,
                "source": {"endpoint": domain.endpoint(), "region": "us-east-1"}}),
        ),
    )
    .await;
    seen.add("verify", domain);
    assert!(counts?.ok);

    // A restore drill of one index: restored under its prefix, judged, deleted.
    let drill = |phase: &str| {
        json!({"check": "drill", "snapshot": "nightly-b", "drill_phase": phase,
            "drill": {"sample": {"indices": ["logs-1"]}}})
    };
    let started = operations::verify::handle(ctx.clone(), event(domain, drill("start"))).await;
    seen.add("verify", domain);
    assert_eq!(started?.state, "DRILL_RESTORING");
    let mut judged = None;
    for _ in 0..100 {
        let answer = operations::verify::handle(ctx.clone(), event(domain, drill("check"))).await;
        seen.add("verify", domain);
        let answer = answer?;
        if answer.done {
            judged = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let judged = judged.expect("the drill ends");
    assert!(judged.ok, "{judged:?}");
    assert_eq!(
        domain.doc_count("osnap-drill-logs-1"),
        None,
        "deleted once judged"
    );

    // The live index moved on since the snapshot: replace brings it back.
    seed(domain, "logs-1", &["after"]).await;
    let _ = domain.take_checked_actions();
    let replaced = operations::restore::handle(
        ctx.clone(),
        event(
            domain,
            json!({"snapshot": "nightly-b", "indices": ["logs-1"], "on_conflict": "replace"}),
        ),
    )
    .await;
    seen.add("restore", domain);
    assert_eq!(replaced?.replaced.names, ["logs-1"]);
    recovered(domain, &["logs-1".to_owned()], seen).await?;
    assert_eq!(domain.doc_count("logs-1"), Some(2));

    // A replace the domain refuses after closing the index (here throttled past every
    // retry): the index is opened again, unchanged.
    domain.faults().push(
        FaultRule::new(Fault::TooManyRequests)
            .on(Method::POST, "/_snapshot/nightly/nightly-a/_restore")
            .times(10),
    );
    let refused = operations::restore::handle(
        ctx.clone(),
        event(
            domain,
            json!({"snapshot": "nightly-a", "indices": ["logs-1"], "on_conflict": "replace"}),
        ),
    )
    .await;
    domain.faults().clear();
    seen.add("restore", domain);
    match refused {
        Err(error) if error.error_type() == "Throttled" => {}
        Err(error) => return Err(error),
        Ok(answer) => panic!("the restore was refused: {answer:?}"),
    }
    assert_eq!(index_state(domain, "logs-1").await, "open");
    assert_eq!(domain.doc_count("logs-1"), Some(2));

    let pruning = operations::prune::handle(
        ctx.clone(),
        event(domain, json!({"keep_last": 1, "dry_run": true})),
    )
    .await;
    seen.add("prune", domain);
    assert_eq!(pruning?.deleted.count, 1);
    let pruned =
        operations::prune::handle(ctx.clone(), event(domain, json!({"keep_last": 1}))).await;
    seen.add("prune", domain);
    assert_eq!(pruned?.deleted.count, 1);
    Ok(())
}

/// `open` or `close`, as the operator reads it.
async fn index_state(domain: &Domain, index: &str) -> String {
    let (status, rows) = domain_call(
        domain,
        Method::GET,
        &["_cat", "indices", index],
        &[("format", "json"), ("h", "status")],
        None,
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    rows[0]["status"].as_str().unwrap().to_owned()
}

fn shipped_role() -> Value {
    serde_json::from_str(include_str!("../../infra/fgac/osnap-role.json")).unwrap()
}

/// The operator's script (curl signing with SigV4, the stand-in checking the signature)
/// installs the role, under the security API's prefix for the engine: the function's life
/// cycle then runs.
async fn script_installs_the_role(engine: standin::Engine, security_api: Option<&str>) {
    let name = format!("script-{}", engine.version().replace('.', "-"));
    let world = fgac_on(&name, 1, engine).await;
    let domain = &world.domains[0];
    seed(domain, "logs-1", &["1", "2"]).await;
    seed(domain, "orders", &["1"]).await;
    let operator = TestPrincipal::default_operator();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/fgac/apply-osnap-role.sh"
    );
    let mut command = tokio::process::Command::new("sh");
    command
        .arg(script)
        .args([domain.endpoint().as_str(), "us-east-1", FUNCTION_ROLE])
        .env("AWS_ACCESS_KEY_ID", &operator.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &operator.secret_key)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("SECURITY_API");
    if let Some(api) = security_api {
        command.env("SECURITY_API", api);
    }
    let output = command.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("'osnap' created."), "{stdout}");
    let _ = domain.take_checked_actions();
    let mut seen = Seen::default();
    life_cycle(domain, &world.s3_endpoint, &name, &mut seen)
        .await
        .unwrap();
    assert!(seen.refused.is_empty(), "{:?}", seen.refused);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_script_installs_the_role_on_opensearch() {
    script_installs_the_role(standin::Engine::opensearch(), None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_script_installs_the_role_on_elasticsearch() {
    script_installs_the_role(
        standin::Engine::elasticsearch(),
        Some("_opendistro/_security"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_role_runs_the_whole_life_cycle() {
    let world = life_cycle_world("life-cycle", shipped_role()).await;
    let domain = &world.domains[0];
    let mut seen = Seen::default();
    life_cycle(domain, &world.s3_endpoint, "life-cycle", &mut seen)
        .await
        .unwrap();
    assert!(seen.refused.is_empty(), "{:?}", seen.refused);
    for (function, actions) in &seen.checked {
        assert_eq!(
            actions,
            &all_of(needs(function)),
            "{function}: what the domain checked differs from operations::permissions"
        );
    }
    assert_eq!(seen.checked.len(), permissions::BY_FUNCTION.len());
}

/// The shipped role without `action`.
fn without(action: &str) -> Value {
    let mut role = shipped_role();
    for pointer in [
        "/cluster_permissions",
        "/index_permissions/0/allowed_actions",
        "/index_permissions/1/allowed_actions",
    ] {
        let list = role.pointer_mut(pointer).unwrap().as_array_mut().unwrap();
        list.retain(|a| a != action);
    }
    role
}

#[tokio::test(flavor = "multi_thread")]
async fn every_action_of_the_shipped_role_is_needed() {
    let all: Vec<&str> = permissions::cluster_actions()
        .into_iter()
        .chain(permissions::index_actions())
        .chain(permissions::drill_copy_actions())
        .collect();
    for (n, action) in all.into_iter().enumerate() {
        let name = format!("one-short-{n}");
        let world = life_cycle_world(&name, without(action)).await;
        let mut seen = Seen::default();
        let outcome = life_cycle(&world.domains[0], &world.s3_endpoint, &name, &mut seen).await;
        assert_eq!(seen.refused, BTreeSet::from([action.to_owned()]));
        if action == "indices:admin/get" {
            // The manifest reads mappings: without it every snapshot is still taken, and its
            // answer says that no manifest was recorded, and why; the drill, which reads its
            // copies' mappings, is then refused.
            assert!(
                !seen.manifests_not_recorded.is_empty()
                    && seen
                        .manifests_not_recorded
                        .iter()
                        .all(|r| r.contains(&format!("no permissions for [{action}"))),
                "{:?}",
                seen.manifests_not_recorded
            );
        }
        let error = outcome.expect_err(action);
        let message = error.to_string();
        assert!(
            message.contains(&format!("no permissions for [{action}")),
            "without {action}: {message}"
        );
        if action == "indices:admin/open" {
            // Only a refused replace reopens: it says the index is left closed, and why.
            assert_eq!(error.error_type(), "UnsafeOperation", "{error}");
        } else {
            assert_eq!(error.error_type(), "AccessDenied", "{action}: {error}");
            assert!(message.contains(&format!("`{action}")), "{message}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_between_two_fgac_domains() {
    let world = fgac("migration", 2).await;
    let (source, target) = (&world.domains[0], &world.domains[1]);
    seed(source, "logs-1", &["1", "2", "3"]).await;
    seed(source, "orders", &["1"]).await;
    for domain in [source, target] {
        install_osnap_role(domain).await;
        let _ = domain.take_checked_actions();
    }
    let ctx = function_context();
    let mut seen = Seen::default();
    // The migrate workflow's steps, in its order.
    for domain in [source, target] {
        operations::register::handle(ctx.clone(), event(domain, settings("migration")))
            .await
            .unwrap();
        seen.add("register", domain);
    }
    snapshot_and_wait(source, &world.s3_endpoint, "migration-1", &mut seen)
        .await
        .unwrap();
    let restore = json!({"snapshot": "migration-1", "indices": ["logs-1", "orders"],
        "on_conflict": "fail"});
    let mut preflight = restore.clone();
    preflight["dry_run"] = json!(true);
    operations::restore::handle(ctx.clone(), event(target, preflight))
        .await
        .unwrap();
    seen.add("restore", target);
    let restored = operations::restore::handle(ctx.clone(), event(target, restore.clone()))
        .await
        .unwrap();
    seen.add("restore", target);
    assert_eq!(restored.restored.count, 2, "{restored:?}");
    // As the workflow follows it: by the restore it asked for.
    for _ in 0..100 {
        let verdict = operations::verify::handle(
            ctx.clone(),
            event(target, json!({"check": "restore", "restore_of": restore})),
        )
        .await
        .unwrap();
        seen.add("verify", target);
        if verdict.done {
            assert!(verdict.ok, "{verdict:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let counts = operations::verify::handle(
        ctx.clone(),
        event(
            target,
            json!({"check": "counts", "restore_of": restore,
                "source": {"endpoint": source.endpoint(), "region": "us-east-1"}}),
        ),
    )
    .await
    .unwrap();
    assert!(counts.ok, "{counts:?}");
    seen.add("verify", target);
    seen.add("verify", source);
    assert_eq!(target.doc_count("logs-1"), Some(3));

    assert!(seen.refused.is_empty(), "{:?}", seen.refused);
    for (function, actions) in &seen.checked {
        let allowed = all_of(needs(function));
        assert!(
            actions.is_subset(&allowed),
            "{function} was checked for {:?}, beyond operations::permissions",
            actions.difference(&allowed).collect::<Vec<_>>()
        );
    }
}

/// What `manage_snapshots` lacks of a function's needs.
fn beyond_manage_snapshots(p: &Permissions) -> Vec<&'static str> {
    let role = builtin_role("manage_snapshots").unwrap();
    let cluster = p.cluster.iter().filter(|a| !role.grants_cluster(a));
    let index = p.index.iter().filter(|a| !role.grants_index(a, "logs-1"));
    cluster.chain(index).copied().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_manage_snapshots_alone_each_function_names_the_missing_action() {
    let world = fgac("manage-snapshots", 1).await;
    let domain = &world.domains[0];
    seed(domain, "logs-1", &["1"]).await;
    map_function_role(domain, "manage_snapshots").await;
    // The state each call needs, made as the master user.
    let admin = common::context(None);
    operations::register::handle(admin.clone(), event(domain, settings("manage-snapshots")))
        .await
        .unwrap();
    let taken = operations::snapshot::handle(
        admin.clone(),
        event(
            domain,
            json!({"snapshot": "nightly-a", "indices": ["logs-1"]}),
        ),
    )
    .await
    .unwrap();
    assert!(taken.started);
    tokio::time::sleep(Duration::from_millis(400)).await;

    let ctx = function_context();
    let source = json!({"endpoint": domain.endpoint(), "region": "us-east-1"});
    // Each call, and the action the domain refuses it for (`None`: it runs).
    let calls: [(&str, Value, Option<&str>); 10] = [
        ("register", settings("manage-snapshots"), None),
        (
            "snapshot",
            json!({"snapshot": "nightly-b", "indices": ["logs-1"]}),
            Some("cluster:monitor/main"),
        ),
        ("verify", json!({"snapshot": "nightly-a"}), None),
        (
            "verify",
            json!({"max_age": "1h"}),
            Some("cluster:monitor/main"),
        ),
        (
            "verify",
            json!({"check": "restore", "indices": ["logs-1"]}),
            Some("indices:monitor/recovery"),
        ),
        (
            "verify",
            json!({"check": "counts", "restore_of": {"snapshot": "nightly-a",
                "indices": ["logs-1"], "on_conflict": "replace"}, "source": source}),
            Some("cluster:monitor/main"),
        ),
        (
            "restore",
            json!({"snapshot": "nightly-a", "on_conflict": "rename", "dry_run": true}),
            Some("cluster:monitor/main"),
        ),
        (
            "restore",
            json!({"snapshot": "nightly-a", "on_conflict": "replace"}),
            Some("cluster:monitor/main"),
        ),
        (
            "prune",
            json!({"keep_last": 5, "dry_run": true}),
            Some("cluster:monitor/main"),
        ),
        (
            "prune",
            json!({"keep_last": 5}),
            Some("cluster:monitor/main"),
        ),
    ];
    for (function, extra, refused_for) in calls {
        let e = event(domain, extra.clone());
        let outcome = match function {
            "register" => operations::register::handle(ctx.clone(), e)
                .await
                .map(|_| ()),
            "snapshot" => operations::snapshot::handle(ctx.clone(), e)
                .await
                .map(|_| ()),
            "verify" => operations::verify::handle(ctx.clone(), e).await.map(|_| ()),
            "restore" => operations::restore::handle(ctx.clone(), e)
                .await
                .map(|_| ()),
            _ => operations::prune::handle(ctx.clone(), e).await.map(|_| ()),
        };
        println!("{function} {extra}: {outcome:?}");
        match (outcome, refused_for) {
            (Ok(()), None) => {}
            (Err(error), Some(action)) => {
                // What the table says the function needs and manage_snapshots lacks.
                assert!(
                    beyond_manage_snapshots(needs(function)).contains(&action),
                    "{function}: {action} is not among its needs beyond manage_snapshots"
                );
                assert_eq!(error.error_type(), "AccessDenied", "{function}: {error}");
                let message = error.to_string();
                assert!(
                    message.contains(&format!("no permissions for [{action}]")),
                    "{function} {extra}: {message}"
                );
                assert!(
                    message.contains(&format!("granting `{action}`"))
                        && message.contains("infra/fgac/osnap-role.json"),
                    "{function} {extra}: {message}"
                );
            }
            (outcome, _) => panic!("{function} {extra}: {outcome:?}, expected {refused_for:?}"),
        }
    }
    // Every function but register needs more than manage_snapshots grants.
    for p in &permissions::BY_FUNCTION {
        assert_eq!(
            beyond_manage_snapshots(p).is_empty(),
            p.function == "register",
            "{}",
            p.function
        );
    }
    // The restore that was refused wrote and deleted nothing.
    assert_eq!(domain.doc_count("logs-1"), Some(1));
}
