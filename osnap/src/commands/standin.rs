//! `osnap standin`: a local stand-in (a real S3 protocol server and one emulated OpenSearch
//! domain, on loopback) with sample indices, and the environment every other command needs
//! to use it, printed as `export` lines on stdout. Runs until Ctrl-C or SIGTERM. Nothing
//! touches AWS.

use std::path::PathBuf;

use signing::endpoint::{LOOPBACK_SWITCH, LOOPBACK_SWITCH_VALUE};
use standin::auth::TestPrincipal;
use standin::domain::DEFAULT_SNAPSHOT_ROLE;
use standin::s3::S3Server;
use standin::{Domain, DomainConfig};

use crate::cli::StandinArgs;
use crate::error::CliError;
use crate::fixture::{SAMPLE_INDICES, load_sample_data};
use crate::terminal::{note, print_out};

/// The stand-in's bucket and the repository the printed environment names.
pub const BUCKET: &str = "osnap-standin";
pub const REPOSITORY: &str = "standin";

fn failed(what: &str) -> impl FnOnce(String) -> CliError + '_ {
    move |e| CliError::Other(format!("the local stand-in could not {what}: {e}"))
}

pub async fn run(args: &StandinArgs) -> Result<(), CliError> {
    let engine = standin::parse_engine(&args.engine).map_err(failed("start"))?;
    let (root, temporary) = match &args.root {
        Some(root) => (root.clone(), false),
        None => (
            std::env::temp_dir().join(format!("osnap-standin-{}", std::process::id())),
            true,
        ),
    };
    let principal = TestPrincipal::default_operator();
    let s3 = S3Server::start(&root, &principal.access_key, &principal.secret_key)
        .await
        .map_err(|e| failed("start S3")(standin::error_chain(&e)))?;
    s3.create_bucket(BUCKET)
        .await
        .map_err(|e| failed("create its bucket")(standin::error_chain(&e)))?;
    let mut config = DomainConfig::new("standin", s3.endpoint(), s3.credentials());
    config.engine = engine;
    config.snapshot_duration = args.snapshot_time;
    config.recovery_duration = args.recovery_time;
    let description = config.engine.to_string();
    let domain = Domain::start(config)
        .await
        .map_err(|e| failed("start the domain")(standin::error_chain(&e)))?;
    if !args.empty {
        load_sample_data(&domain.endpoint())
            .await
            .map_err(failed("load the sample data"))?;
    }
    print_out(&exports(&domain.endpoint(), &s3.endpoint(), &principal))?;
    note(&format!(
        "osnap standin: a LOCAL STAND-IN (S3 and an emulated {description} domain on loopback; nothing touches AWS)"
    ));
    if !args.empty {
        let indices: Vec<String> = SAMPLE_INDICES
            .iter()
            .map(|(name, docs)| format!("{name} ({docs} docs)"))
            .collect();
        note(&format!(
            "  sample indices: {}, alias `logs`",
            indices.join(", ")
        ));
    }
    note(&format!(
        "  with the environment above, first: osnap register --bucket {BUCKET} --snapshot-role {DEFAULT_SNAPSHOT_ROLE}"
    ));
    note("  Ctrl-C stops it");
    standin::terminated().await;
    domain.shutdown().await;
    s3.shutdown().await;
    if temporary {
        remove(&root);
    }
    Ok(())
}

/// The environment that points every command at the stand-in, as shell lines.
pub fn exports(domain: &str, s3: &str, principal: &TestPrincipal) -> String {
    [
        format!("export OSNAP_DOMAIN_ENDPOINT={domain}"),
        format!("export OSNAP_DOMAIN_REGION={}", standin::TEST_REGION),
        format!("export OSNAP_REPOSITORY={REPOSITORY}"),
        format!("export OSNAP_S3_ENDPOINT={s3}"),
        // Loopback is signed for only with the test-only switch, exactly as in the functions.
        format!("export {LOOPBACK_SWITCH}='{LOOPBACK_SWITCH_VALUE}'"),
        format!("export AWS_ACCESS_KEY_ID={}", principal.access_key),
        format!("export AWS_SECRET_ACCESS_KEY={}", principal.secret_key),
        "unset AWS_SESSION_TOKEN AWS_PROFILE".to_owned(),
    ]
    .join("\n")
}

fn remove(root: &PathBuf) {
    if let Err(error) = std::fs::remove_dir_all(root) {
        note(&format!("could not remove {}: {error}", root.display()));
    }
}
