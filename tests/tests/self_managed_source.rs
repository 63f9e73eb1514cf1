//! Migrating onto AWS from a self-managed cluster, with the operations called directly: a
//! source reached with basic authentication (its password read from Secrets Manager, both on
//! loopback) or none, its repository registered with `repository-s3`'s own settings, and an
//! AWS target restoring from the same bucket read-only. And every refusal on the way, typed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use serde_json::{Value, json};
use signing::EndpointPolicy;
use standin::s3::S3Server;
use standin::secrets::{SecretsServer, StoredSecret};
use standin::{Domain, DomainConfig, SelfManagedAccess};

const USER: &str = "osnap";
/// Shaped so the harness's log check knows it (`tests/src/hygiene.rs`).
const PASSWORD: &str = "standin-cluster-password-1";
const DOCS: [(&str, usize); 2] = [("logs-2026.11.28", 4), ("orders", 3)];

struct Migration {
    _root: common::tempdir::Dir,
    s3: S3Server,
    secrets: SecretsServer,
    source: Domain,
    target: Domain,
    secret_arn: String,
}

impl Migration {
    /// S3 with bucket `migration`, a secret holding the source's login, a self-managed
    /// Elasticsearch 7.10 source with `access` holding [`DOCS`], and an AWS target.
    async fn start(name: &str, access: SelfManagedAccess, secret: &str) -> Self {
        let root = std::env::temp_dir().join(format!("osnap-sm-{name}-{}", std::process::id()));
        let s3 = S3Server::start(&root, "AKIDSTANDIN", "standin-secret")
            .await
            .unwrap();
        s3.create_bucket("migration").await.unwrap();
        let stored = StoredSecret::new("osnap/source-login", secret);
        let secret_arn = stored.arn.clone();
        let secrets = SecretsServer::start(
            vec![standin::auth::TestPrincipal::default_operator()],
            vec![stored],
        )
        .await
        .unwrap();
        let mut config = DomainConfig::self_managed(
            format!("{name}-old"),
            s3.endpoint(),
            s3.credentials(),
            access.clone(),
        );
        config.engine = standin::Engine::elasticsearch();
        config.snapshot_duration = Duration::from_millis(20);
        config.recovery_duration = Duration::from_millis(20);
        let source = Domain::start(config).await.unwrap();
        let mut config = DomainConfig::new(format!("{name}-new"), s3.endpoint(), s3.credentials());
        config.snapshot_duration = Duration::from_millis(20);
        config.recovery_duration = Duration::from_millis(20);
        let target = Domain::start(config).await.unwrap();
        let migration = Self {
            _root: common::tempdir::Dir(root),
            s3,
            secrets,
            source,
            target,
            secret_arn,
        };
        let login = match &access {
            SelfManagedAccess::Basic { username, password } => {
                Some((username.as_str(), password.as_str()))
            }
            SelfManagedAccess::Open => None,
        };
        let client = common::cluster_client(&migration.source, login);
        for (index, docs) in DOCS {
            common::put_docs_with(&client, index, docs).await;
        }
        migration
    }

    /// A context as the functions have it: their keys, the world's S3 and Secrets Manager.
    fn context(&self) -> operations::Context {
        use operations::connect::{Connector, CredentialMode};
        use signing::{SharedTimeSource, SystemTimeSource};
        let time = SharedTimeSource::new(SystemTimeSource::new());
        operations::Context {
            connector: Connector::new(
                CredentialMode::Fixed(self.s3.credentials()),
                EndpointPolicy::aws_only().allowing_loopback_for_tests(),
                time.clone(),
            )
            .unwrap(),
            defaults: operations::contract::Defaults {
                s3_endpoint: Some(self.s3.endpoint()),
                secrets_endpoint: Some(self.secrets.endpoint()),
                ..operations::contract::Defaults::default()
            },
            time,
            deadline: None,
        }
    }

    fn source_domain(&self, auth: Value) -> Value {
        json!({"endpoint": self.source.endpoint(), "region": "us-east-1", "auth": auth})
    }

    fn basic(&self) -> Value {
        json!({"type": "basic", "secret_arn": self.secret_arn})
    }

    fn target_domain(&self) -> Value {
        json!({"endpoint": self.target.endpoint(), "region": "us-east-1"})
    }

    async fn shutdown(self) {
        self.source.shutdown().await;
        self.target.shutdown().await;
        self.secrets.shutdown().await;
        self.s3.shutdown().await;
    }
}

fn login(user: &str, password: &str) -> String {
    json!({"username": user, "password": password}).to_string()
}

/// Registers the source's repository with repository-s3's settings.
async fn register_source(
    migration: &Migration,
    auth: Value,
) -> operations::requests::RegisterResponse {
    operations::register::handle(
        migration.context(),
        json!({"domain": migration.source_domain(auth), "repository": "migration",
            "settings": {"bucket": "migration", "base_path": "from-old"}}),
    )
    .await
    .unwrap()
}

/// Polls `event` through verify until done.
async fn verified(migration: &Migration, event: Value) -> operations::requests::VerifyResponse {
    for _ in 0..300 {
        let verdict = operations::verify::handle(migration.context(), event.clone())
            .await
            .unwrap();
        if verdict.done {
            return verdict;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never done: {event}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_managed_cluster_migrates_onto_aws_with_its_password_from_secrets_manager() {
    let access = SelfManagedAccess::Basic {
        username: USER.into(),
        password: PASSWORD.into(),
    };
    let migration = Migration::start("basic", access, &login(USER, PASSWORD)).await;
    let registered = register_source(&migration, migration.basic()).await;
    assert!(!registered.verified_nodes.is_empty(), "{registered:?}");
    let indices = json!(["logs-2026.11.28", "orders"]);
    let snapshot = operations::snapshot::handle(
        migration.context(),
        json!({"domain": migration.source_domain(migration.basic()), "repository": "migration",
            "snapshot": "migration-1", "indices": indices}),
    )
    .await
    .unwrap();
    assert!(snapshot.started, "{snapshot:?}");
    assert!(
        !snapshot.cold.listed && snapshot.cold.note.contains("self-managed"),
        "no _cold asked of a self-managed cluster: {:?}",
        snapshot.cold
    );
    let verdict = verified(
        &migration,
        json!({"domain": migration.source_domain(migration.basic()), "repository": "migration",
            "snapshot": "migration-1"}),
    )
    .await;
    assert!(verdict.ok, "{verdict:?}");

    operations::register::handle(
        migration.context(),
        json!({"domain": migration.target_domain(), "repository": "migration",
            "settings": {"bucket": "migration", "region": "us-east-1", "base_path": "from-old",
                "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE, "readonly": true}}),
    )
    .await
    .unwrap();
    let restore_of = json!({"snapshot": "migration-1", "indices": indices, "on_conflict": "fail"});
    let mut dry_run = restore_of.clone();
    dry_run["dry_run"] = json!(true);
    dry_run["source"] = migration.source_domain(migration.basic());
    dry_run["domain"] = migration.target_domain();
    dry_run["repository"] = json!("migration");
    let preflight = operations::restore::handle(migration.context(), dry_run)
        .await
        .unwrap();
    let report = serde_json::to_value(&preflight).unwrap();
    assert_eq!(report["preflight"]["blocking"], 0, "{report}");

    let mut restore = restore_of.clone();
    restore["domain"] = migration.target_domain();
    restore["repository"] = json!("migration");
    let restored = operations::restore::handle(migration.context(), restore)
        .await
        .unwrap();
    assert_eq!(restored.restored.count, 2, "{restored:?}");
    let recovery = verified(
        &migration,
        json!({"domain": migration.target_domain(), "repository": "migration",
            "check": "restore", "restore_of": restore_of}),
    )
    .await;
    assert!(recovery.ok, "{recovery:?}");
    let counts = operations::verify::handle(
        migration.context(),
        json!({"domain": migration.target_domain(), "repository": "migration",
            "check": "counts", "restore_of": restore_of,
            "source": migration.source_domain(migration.basic())}),
    )
    .await
    .unwrap();
    assert!(counts.ok, "{counts:?}");
    assert_eq!(counts.state, "MATCH", "{counts:?}");
    for (index, docs) in DOCS {
        assert_eq!(migration.target.doc_count(index), Some(docs), "{index}");
        assert_eq!(migration.source.doc_count(index), Some(docs), "{index}");
    }
    migration.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_without_a_security_plugin_is_reached_with_no_login() {
    let migration = Migration::start("open", SelfManagedAccess::Open, "unused").await;
    let registered = register_source(&migration, json!({"type": "none"})).await;
    assert!(!registered.verified_nodes.is_empty(), "{registered:?}");
    migration.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_refusal_on_the_way_is_typed_and_names_the_fix() {
    let access = SelfManagedAccess::Basic {
        username: USER.into(),
        password: PASSWORD.into(),
    };
    let migration = Migration::start(
        "refusals",
        access,
        &login(USER, "standin-cluster-password-old"),
    )
    .await;
    let register = |domain: Value, settings: Value| {
        operations::register::handle(
            migration.context(),
            json!({"domain": domain, "repository": "migration", "settings": settings}),
        )
    };
    let plain = json!({"bucket": "migration", "base_path": "from-old"});

    // The secret holds an old password: the cluster's 401.
    let error = register(migration.source_domain(migration.basic()), plain.clone())
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "AccessDenied", "{error}");
    assert!(
        !error.to_string().contains("standin-cluster-password"),
        "{error}"
    );

    // No such secret.
    let missing = json!({"type": "basic",
        "secret_arn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:nothing-AbCdEf"});
    let error = register(migration.source_domain(missing), plain.clone())
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "InvalidRequest", "{error}");
    assert!(error.to_string().contains("does not exist"), "{error}");

    // A user name the secret contradicts.
    let contradicted = json!({"type": "basic", "secret_arn": migration.secret_arn,
        "username": "someone-else"});
    let error = register(migration.source_domain(contradicted), plain.clone())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("differs"), "{error}");

    // AWS's repository settings on a self-managed cluster.
    let with_role = json!({"bucket": "migration", "base_path": "from-old",
        "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE});
    let error = register(migration.source_domain(migration.basic()), with_role)
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "InvalidRequest", "{error}");
    assert!(error.to_string().contains("repository-s3"), "{error}");

    // A login the function's role may not read.
    let unreadable = StoredSecret::new("osnap/source-login", &login(USER, PASSWORD))
        .readable_by(&["AKIDSOMEONEELSE"]);
    let secrets = SecretsServer::start(
        vec![standin::auth::TestPrincipal::default_operator()],
        vec![unreadable],
    )
    .await
    .unwrap();
    let mut context = migration.context();
    context.defaults.secrets_endpoint = Some(secrets.endpoint());
    let error = operations::register::handle(
        context,
        json!({"domain": migration.source_domain(migration.basic()), "repository": "migration",
            "settings": plain}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.error_type(), "AccessDenied", "{error}");
    assert!(
        error.to_string().contains("secretsmanager:GetSecretValue"),
        "{error}"
    );
    secrets.shutdown().await;
    migration.shutdown().await;
}
