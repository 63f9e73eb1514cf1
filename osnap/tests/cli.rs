//! The built `osnap` binary, driven as an operator or a script drives it, against `osnap
//! standin` (a spawned local stand-in: real S3 protocol, an emulated domain, real SigV4 over
//! loopback). Each test checks what the domain holds afterwards, not only what osnap said.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use snapshot_api::SnapshotApi;

const OSNAP: &str = env!("CARGO_BIN_EXE_osnap");
const SNAPSHOT_ROLE: &str = "arn:aws:iam::123456789012:role/osnap-snapshots";

/// A running `osnap standin` and the environment it printed.
struct World {
    child: Child,
    env: BTreeMap<String, String>,
    root: PathBuf,
}

impl World {
    fn start(name: &str) -> Self {
        let root = std::env::temp_dir().join(format!("osnap-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut child = Command::new(OSNAP)
            .args([
                "standin",
                "--snapshot-time",
                "1s",
                "--recovery-time",
                "1s",
                "--root",
            ])
            .arg(&root)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut env = BTreeMap::new();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        for line in stdout.lines() {
            let line = line.unwrap();
            if line.starts_with("unset ") {
                break;
            }
            let (name, value) = line
                .strip_prefix("export ")
                .and_then(|l| l.split_once('='))
                .unwrap_or_else(|| panic!("not an export line: {line}"));
            env.insert(name.to_owned(), value.trim_matches('\'').to_owned());
        }
        assert!(env.contains_key("OSNAP_DOMAIN_ENDPOINT"), "{env:?}");
        Self { child, env, root }
    }

    /// Runs osnap with the stand-in's environment (and nothing else), no terminal.
    fn osnap(&self, args: &[&str]) -> Output {
        Command::new(OSNAP)
            .args(args)
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs osnap and parses its stdout as JSON; it must succeed.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let output = self.osnap(&all);
        assert!(output.status.success(), "{args:?}: {}", text(&output));
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&output)))
    }

    fn register(&self) {
        self.json(&[
            "register",
            "--bucket",
            "osnap-standin",
            "--snapshot-role",
            SNAPSHOT_ROLE,
        ]);
    }

    /// The domain itself, read with the stand-in's operator client.
    fn api(&self) -> SnapshotApi {
        SnapshotApi::new(
            standin::client::operator_client(&self.env["OSNAP_DOMAIN_ENDPOINT"]).unwrap(),
        )
    }

    async fn snapshots(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .api()
            .list_snapshots("standin", false)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.snapshot)
            .collect();
        names.sort();
        names
    }

    async fn indices(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .api()
            .cat_indices(None)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.index)
            .collect();
        names.sort();
        names
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // SIGTERM: the stand-in shuts down as on Ctrl-C.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_is_followed_with_status_to_completion() {
    let world = World::start("status");
    let registered = world.json(&[
        "register",
        "--bucket",
        "osnap-standin",
        "--snapshot-role",
        SNAPSHOT_ROLE,
    ]);
    assert_eq!(registered["status"], "created");
    assert_eq!(
        world.json(&["repos"])["standin"]["settings"]["bucket"],
        "osnap-standin"
    );

    let taken = world.json(&["snapshot", "nightly-2026.11.28-030000"]);
    assert_eq!(taken["snapshot"], "nightly-2026.11.28-030000");
    assert_eq!(taken["state"], "IN_PROGRESS");
    assert_eq!(taken["started"], true);

    let output = world.osnap(&[
        "status",
        "nightly-2026.11.28-030000",
        "--interval",
        "200ms",
        "--json",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["state"], "SUCCESS");
    assert_eq!(status["done"], true);
    assert_eq!(status["shards"]["done"], 3);
    assert_eq!(status["shards"]["total"], 3);
    assert_eq!(status["bytes"]["done"], status["bytes"]["total"]);
    assert!(status["bytes"]["total"].as_u64().unwrap() > 0);
    // No terminal: plain progress lines on stderr, no bar, nothing but the answer on stdout.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("snapshot nightly-2026.11.28-030000: 3/3 shards, SUCCESS"),
        "{stderr}"
    );
    assert!(!stderr.contains('\r'), "{stderr}");

    // The domain holds it, finished.
    let info = world
        .api()
        .get_snapshot("standin", "nightly-2026.11.28-030000")
        .await
        .unwrap();
    assert_eq!(info.state.unwrap().as_str(), "SUCCESS");
    let verified = world.json(&["verify", "nightly-2026.11.28-030000"]);
    assert_eq!(verified["ok"], true);

    // Proven restorable: restored under the drill's prefix, judged by the manifest, deleted.
    let drilled = world.json(&[
        "verify",
        "nightly-2026.11.28-030000",
        "--drill",
        "--sample",
        "random:1",
        "--interval",
        "200ms",
    ]);
    assert_eq!(
        (drilled["state"].as_str(), drilled["ok"].as_bool()),
        (Some("DRILL_PASSED"), Some(true)),
        "{drilled}"
    );
    assert_eq!(drilled["drill"]["sample"]["count"], 1, "{drilled}");
    assert_eq!(drilled["drill"]["deleted"]["count"], 1, "{drilled}");
    let listed = world.api().cat_indices(None).await.unwrap();
    assert!(
        listed
            .iter()
            .all(|row| !row.index.starts_with("osnap-drill-")),
        "{listed:?}"
    );
    let refused = world.osnap(&["verify", "--drill", "--sample", "some"]);
    assert!(!refused.status.success(), "{}", text(&refused));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_is_planned_refused_without_confirmation_then_done_with_yes() {
    let world = World::start("restore");
    world.register();
    let taken = world.json(&[
        "snapshot",
        "nightly-2026.11.28-030000",
        "--wait",
        "--interval",
        "200ms",
    ]);
    assert_eq!(taken["state"], "SUCCESS");
    let restore = [
        "restore",
        "nightly-2026.11.28-030000",
        "--index",
        "orders",
        "--rename",
        "(.+)",
        "restored-$1",
    ];

    let mut dry_run = restore.to_vec();
    dry_run.push("--dry-run");
    let plan = world.json(&dry_run);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(
        plan["restored"],
        serde_json::json!({"count": 1, "names": ["restored-orders"], "truncated": false})
    );
    assert!(
        !world
            .indices()
            .await
            .contains(&"restored-orders".to_owned())
    );

    // No terminal and no --yes: refused, with its own exit code, and nothing restored.
    let refused = world.osnap(&restore);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("pass --yes"),
        "{}",
        text(&refused)
    );
    assert!(
        !world
            .indices()
            .await
            .contains(&"restored-orders".to_owned())
    );

    let mut confirmed = restore.to_vec();
    confirmed.push("--yes");
    let done = world.json(&confirmed);
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["restored"], plan["restored"]);
    let recovered = world.json(&[
        "status",
        "--restore",
        "--index",
        "restored-orders",
        "--interval",
        "200ms",
    ]);
    assert_eq!(recovered["done"], true);
    assert_eq!(recovered["shards"]["done"], recovered["shards"]["total"]);
    assert_eq!(world.api().count("restored-orders").await.unwrap(), 350);
    assert_eq!(
        world.api().count("orders").await.unwrap(),
        350,
        "the original is untouched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_is_planned_refused_without_confirmation_then_done_with_yes() {
    let world = World::start("prune");
    world.register();
    for name in ["nightly-2026.11.27-030000", "nightly-2026.11.28-030000"] {
        world.json(&["snapshot", name, "--wait", "--interval", "200ms"]);
    }
    let both = vec![
        "nightly-2026.11.27-030000".to_owned(),
        "nightly-2026.11.28-030000".to_owned(),
    ];

    let plan = world.json(&["prune", "--keep-last", "1", "--dry-run"]);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(
        plan["deleted"]["names"],
        serde_json::json!(["nightly-2026.11.27-030000"])
    );
    assert_eq!(world.snapshots().await, both);

    let refused = world.osnap(&["prune", "--keep-last", "1"]);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
    assert_eq!(
        world.snapshots().await,
        both,
        "a refused prune deletes nothing"
    );

    let done = world.json(&["prune", "--keep-last", "1", "--yes"]);
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["deleted"]["count"], 1);
    assert_eq!(world.snapshots().await, ["nightly-2026.11.28-030000"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_shows_the_newest_first_and_filters_by_name() {
    let world = World::start("list");
    world.register();
    for name in [
        "nightly-2026.11.27-030000",
        "nightly-2026.11.28-030000",
        "adhoc-before-upgrade",
    ] {
        world.json(&["snapshot", name, "--wait", "--interval", "200ms"]);
    }
    let listing = world.json(&["list"]);
    assert_eq!(listing["matching"], 3);
    let names: Vec<&str> = listing["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["snapshot"].as_str().unwrap())
        .collect();
    // The ad-hoc one was taken last (its start time), the others are dated by their names.
    assert_eq!(
        names,
        [
            "adhoc-before-upgrade",
            "nightly-2026.11.28-030000",
            "nightly-2026.11.27-030000"
        ]
    );
    let first = &listing["snapshots"][0];
    assert_eq!(first["state"], "SUCCESS");
    assert_eq!(first["indices"], 3);
    assert_eq!(first["shards"]["successful"], 3);

    let nightly = world.json(&["list", "--match", "nightly-*", "--limit", "1"]);
    assert_eq!(nightly["matching"], 2);
    assert_eq!(nightly["snapshots"].as_array().unwrap().len(), 1);
    assert_eq!(
        nightly["snapshots"][0]["snapshot"],
        "nightly-2026.11.28-030000"
    );

    let table = world.osnap(&["list"]);
    let stdout = String::from_utf8_lossy(&table.stdout);
    let header: Vec<&str> = stdout.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "snapshot", "state", "start", "(UTC)", "duration", "indices", "shards"
        ]
    );
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_follow_the_error_type() {
    let world = World::start("errors");
    world.register();
    let cases: [(&[&str], &str, i32); 4] = [
        (&["--repository", "nope", "list"], "RepositoryMissing", 30),
        (
            &["verify", "nightly-2026.01.01-000000"],
            "SnapshotMissing",
            32,
        ),
        (
            &["--endpoint", "https://example.com", "repos"],
            "EndpointNotAllowed",
            11,
        ),
        (
            &["prune", "--max-age", "soon", "--dry-run"],
            "InvalidRequest",
            10,
        ),
    ];
    for (args, error_type, code) in cases {
        let mut all = args.to_vec();
        all.push("--json");
        let output = world.osnap(&all);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&output)
        );
        let error: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(error["errorType"], error_type, "{args:?}");
        assert!(error["errorMessage"].as_str().unwrap().len() > 10);
    }
    // Restoring every index onto the domain they came from: each one conflicts.
    world.json(&[
        "snapshot",
        "nightly-2026.11.28-030000",
        "--wait",
        "--interval",
        "200ms",
    ]);
    let before = world.indices().await;
    let output = world.osnap(&["restore", "nightly-2026.11.28-030000", "--yes"]);
    assert_eq!(output.status.code(), Some(50), "{}", text(&output));
    assert_eq!(
        world.indices().await,
        before,
        "nothing was restored or deleted"
    );
    // A usage error is clap's.
    assert_eq!(
        world
            .osnap(&["restore", "--on-conflict", "merge"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn help_and_completions_are_printed() {
    let help = Command::new(OSNAP).arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let shown = readme
        .split("<!-- osnap --help -->\n```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows `osnap --help` after its marker");
    assert_eq!(
        shown.trim_end(),
        help.trim_end(),
        "the README's `osnap --help` is out of date"
    );

    let bash = Command::new(OSNAP)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(bash.status.success());
    let script = String::from_utf8(bash.stdout).unwrap();
    assert!(
        script.contains("_osnap()") && script.contains("restore"),
        "{script}"
    );
}

/// Two emulated domains, `old` (with `orders`, 3 documents) and `new`, writing to one S3
/// bucket, started in this process; osnap reaches them by `--from` and `--to`.
struct TwoDomains {
    root: PathBuf,
    s3: standin::s3::S3Server,
    old: standin::Domain,
    new: standin::Domain,
    env: BTreeMap<String, String>,
}

const MIGRATION_BUCKET: &str = "osnap-migration";

/// Writes `orders`' three documents through `client`.
async fn put_orders(client: &signing::DomainClient) {
    for id in 0..3 {
        let id = id.to_string();
        let request = signing::DomainRequest::new(http::Method::PUT, &["orders", "_doc", &id])
            .query("refresh", "true")
            .json_body(r#"{"item":"x"}"#.to_owned());
        assert!(client.send(&request).await.unwrap().status.is_success());
    }
}

impl TwoDomains {
    async fn start(name: &str) -> Self {
        let root = std::env::temp_dir().join(format!("osnap-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let principal = standin::auth::TestPrincipal::default_operator();
        let s3 = standin::s3::S3Server::start(&root, &principal.access_key, &principal.secret_key)
            .await
            .unwrap();
        s3.create_bucket(MIGRATION_BUCKET).await.unwrap();
        let domain = |name: &str| {
            let mut config = standin::DomainConfig::new(name, s3.endpoint(), s3.credentials());
            config.snapshot_duration = std::time::Duration::from_millis(300);
            config.recovery_duration = std::time::Duration::from_millis(300);
            config
        };
        let old = standin::Domain::start(domain("old")).await.unwrap();
        let new = standin::Domain::start(domain("new")).await.unwrap();
        put_orders(&standin::client::operator_client(&old.endpoint()).unwrap()).await;
        let env = BTreeMap::from([
            ("OSNAP_DOMAIN_REGION".to_owned(), "us-east-1".to_owned()),
            ("OSNAP_REPOSITORY".to_owned(), "migration".to_owned()),
            ("OSNAP_S3_ENDPOINT".to_owned(), s3.endpoint()),
            (
                signing::endpoint::LOOPBACK_SWITCH.to_owned(),
                signing::endpoint::LOOPBACK_SWITCH_VALUE.to_owned(),
            ),
            ("AWS_ACCESS_KEY_ID".to_owned(), principal.access_key.clone()),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                principal.secret_key.clone(),
            ),
        ]);
        Self {
            root,
            s3,
            old,
            new,
            env,
        }
    }

    /// As [`TwoDomains::start`], with `old` a self-managed Elasticsearch cluster reached with
    /// basic authentication, its login in the stand-in's Secrets Manager (whose ARN is
    /// returned beside).
    async fn start_self_managed(name: &str) -> (Self, standin::secrets::SecretsServer, String) {
        let mut domains = Self::start(name).await;
        domains.old.shutdown().await;
        let login = serde_json::json!({"username": "osnap", "password": CLUSTER_PASSWORD});
        let stored = standin::secrets::StoredSecret::new("osnap/source-login", &login.to_string());
        let arn = stored.arn.clone();
        let secrets = standin::secrets::SecretsServer::start(
            vec![standin::auth::TestPrincipal::default_operator()],
            vec![stored],
        )
        .await
        .unwrap();
        let mut config = standin::DomainConfig::self_managed(
            "corp-es",
            domains.s3.endpoint(),
            domains.s3.credentials(),
            standin::SelfManagedAccess::Basic {
                username: "osnap".into(),
                password: CLUSTER_PASSWORD.into(),
            },
        );
        config.engine = standin::Engine::elasticsearch();
        config.snapshot_duration = std::time::Duration::from_millis(300);
        config.recovery_duration = std::time::Duration::from_millis(300);
        domains.old = standin::Domain::start(config).await.unwrap();
        let client = signing::DomainClient::with_authentication(
            signing::client::http_client().unwrap(),
            signing::DomainEndpoint::parse(
                &domains.old.endpoint(),
                Some("us-east-1"),
                &signing::EndpointPolicy::aws_only().allowing_loopback_for_tests(),
            )
            .unwrap(),
            signing::Authentication::Basic(
                signing::BasicCredentials::new("osnap", CLUSTER_PASSWORD).unwrap(),
            ),
            signing::SharedTimeSource::default(),
        );
        put_orders(&client).await;
        domains
            .env
            .insert("OSNAP_SECRETS_ENDPOINT".to_owned(), secrets.endpoint());
        (domains, secrets, arn)
    }

    /// `osnap migrate --from old --to new …` with no terminal, off the runtime's threads.
    async fn migrate(&self, extra: &[&str]) -> Output {
        let mut args: Vec<String> = [
            "migrate",
            "--from",
            &self.old.endpoint(),
            "--to",
            &self.new.endpoint(),
            "--bucket",
            MIGRATION_BUCKET,
            "--snapshot-role",
            SNAPSHOT_ROLE,
            "--interval",
            "100ms",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let env = self.env.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(OSNAP)
                .args(&args)
                .env_clear()
                .envs(&env)
                .stdin(Stdio::null())
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }

    async fn shutdown(self) {
        self.old.shutdown().await;
        self.new.shutdown().await;
        self.s3.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn api_of(domain: &standin::Domain) -> SnapshotApi {
    SnapshotApi::new(standin::client::operator_client(&domain.endpoint()).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_is_planned_refused_without_confirmation_then_done_with_yes() {
    let domains = TwoDomains::start("migrate").await;
    let (old, new) = (api_of(&domains.old), api_of(&domains.new));

    // --dry-run: the preflight report and the plan, nothing registered.
    let output = domains.migrate(&["--dry-run", "--json"]).await;
    assert!(output.status.success(), "{}", text(&output));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["preflight"]["preflight"]["blocking"], 0, "{plan}");
    assert_eq!(
        plan["preflight"]["restored"]["names"][0], "orders",
        "{plan}"
    );
    assert!(plan.get("snapshot").is_none(), "{plan}");
    assert!(old.get_repository("migration").await.unwrap().is_none());

    // No terminal and no --yes: refused, nothing changed.
    let output = domains.migrate(&[]).await;
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert!(old.get_repository("migration").await.unwrap().is_none());

    let output = domains.migrate(&["--yes", "--json"]).await;
    assert!(output.status.success(), "{}", text(&output));
    let done: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(done["registered_source"]["status"], "created", "{done}");
    assert_eq!(done["registered_target"]["status"], "created", "{done}");
    assert_eq!(
        done["restore"]["restored"]["names"],
        serde_json::json!(["orders"])
    );
    assert_eq!(done["counts"]["ok"], true, "{done}");
    assert!(
        done["snapshot"]["snapshot"]
            .as_str()
            .unwrap()
            .starts_with("migration-"),
        "{done}"
    );
    // What the domains hold: the documents on the target, the repository read-only there.
    assert_eq!(new.count("orders").await.unwrap(), 3);
    let registered = new.get_repository("migration").await.unwrap().unwrap();
    assert_eq!(registered.settings.readonly, Some(true));
    assert_eq!(
        old.get_repository("migration")
            .await
            .unwrap()
            .unwrap()
            .settings
            .readonly,
        None
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("snapshot migration-"), "{stderr}");
    assert!(stderr.contains("restore:"), "{stderr}");
    domains.shutdown().await;
}

/// A self-managed cluster's password; the output is checked for it.
const CLUSTER_PASSWORD: &str = "standin-cluster-password-cli";

#[tokio::test(flavor = "multi_thread")]
async fn a_self_managed_cluster_migrates_with_its_login_from_secrets_manager() {
    let (domains, secrets, arn) = TwoDomains::start_self_managed("migrate-self-managed").await;
    let new = api_of(&domains.new);
    let output = domains
        .migrate(&["--from-secret-arn", &arn, "--yes", "--json"])
        .await;
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        !text(&output).contains(CLUSTER_PASSWORD),
        "{}",
        text(&output)
    );
    let done: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(done["registered_source"]["status"], "created", "{done}");
    assert_eq!(done["counts"]["ok"], true, "{done}");
    assert_eq!(new.count("orders").await.unwrap(), 3);
    // Without the login, the cluster's 401: AccessDenied, exit 12.
    let output = domains.migrate(&["--yes"]).await;
    assert_eq!(output.status.code(), Some(12), "{}", text(&output));
    // --from-client needs a self-managed source.
    let output = domains
        .migrate(&["--from-client", "backups", "--yes"])
        .await;
    assert_eq!(output.status.code(), Some(10), "{}", text(&output));
    secrets.shutdown().await;
    domains.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_blocked_by_its_preflight_changes_nothing_and_exits_4() {
    let domains = TwoDomains::start("migrate-blocked").await;
    let (old, new) = (api_of(&domains.old), api_of(&domains.new));
    // The target has its own `orders`: on_conflict fail refuses it.
    let client = standin::client::operator_client(&domains.new.endpoint()).unwrap();
    let request = signing::DomainRequest::new(http::Method::PUT, &["orders"]);
    assert!(client.send(&request).await.unwrap().status.is_success());

    let output = domains.migrate(&["--yes", "--json"]).await;
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    let error: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(error["errorType"], "PreflightBlocked", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("name_clash"),
        "{error}"
    );
    // Without --json the report is on stderr.
    let output = domains.migrate(&["--yes"]).await;
    assert_eq!(output.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("BLOCKING name_clash"), "{stderr}");
    assert!(old.get_repository("migration").await.unwrap().is_none());
    assert!(new.get_repository("migration").await.unwrap().is_none());
    assert_eq!(new.count("orders").await.unwrap(), 0);
    domains.shutdown().await;
}
