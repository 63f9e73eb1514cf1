//! `standin`: runs the stand-in S3 server on a folder and/or an emulated search domain, for
//! tests and the demo. Prints the endpoints as one JSON line on stdout, then runs until stdin
//! closes, SIGTERM or Ctrl-C. `standin --help` lists the flags.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use aws_credential_types::Credentials;
use clap::Parser;
use standin::s3::S3Server;
use standin::{Domain, DomainConfig, Engine, StandinError};
use tokio::net::TcpListener;

/// Default keys of the local S3 server (test credentials, not secrets).
const S3_ACCESS_KEY: &str = "AKIDSTANDIN";
const S3_SECRET_KEY: &str = "standin-secret";

/// The local stand-in, for tests and the demo: an S3 server on a folder and/or an emulated
/// search domain, on loopback. Prints the endpoints as one JSON line, then runs until stdin
/// closes, SIGTERM or Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "standin")]
#[command(group = clap::ArgGroup::new("s3").args(["s3_root", "s3_endpoint"]).multiple(false))]
struct Args {
    /// Serve S3 from this folder (one sub-folder per bucket)
    #[arg(long, value_name = "DIR")]
    s3_root: Option<PathBuf>,
    /// The local S3 server's port (default: any free one)
    #[arg(long, default_value_t = 0, requires = "s3_root")]
    s3_port: u16,
    /// Create this bucket in the local S3 server
    #[arg(long = "bucket", value_name = "NAME", requires = "s3_root")]
    buckets: Vec<String>,
    /// Write the domain's snapshots to this S3 server instead of a local one
    #[arg(long, value_name = "URL")]
    s3_endpoint: Option<String>,
    #[arg(long, default_value = S3_ACCESS_KEY, value_name = "KEY")]
    s3_access_key: String,
    #[arg(long, default_value = S3_SECRET_KEY, value_name = "SECRET")]
    s3_secret_key: String,
    /// Run an emulated domain of this name (needs an S3 server: --s3-root or --s3-endpoint)
    #[arg(long, value_name = "NAME", requires = "s3")]
    domain: Option<String>,
    /// The domain's port (default: any free one)
    #[arg(long, default_value_t = 0, requires = "domain")]
    port: u16,
    /// opensearch[:VERSION] or elasticsearch[:VERSION]
    #[arg(long, default_value = "opensearch", value_parser = standin::parse_engine, requires = "domain")]
    engine: Engine,
    /// How long a snapshot stays IN_PROGRESS, in milliseconds
    #[arg(long, value_name = "MS", requires = "domain")]
    snapshot_ms: Option<u64>,
    /// How long a restored index recovers, in milliseconds
    #[arg(long, value_name = "MS", requires = "domain")]
    recovery_ms: Option<u64>,
    /// Seeds the fault injection's random choices
    #[arg(long, default_value_t = 0, requires = "domain")]
    seed: u64,
}

/// Why the arguments name nothing to run.
#[derive(Debug, thiserror::Error)]
#[error("nothing to run: give --s3-root and/or --domain")]
struct Nothing;

fn check(args: &Args) -> Result<(), Nothing> {
    if args.s3_root.is_none() && args.domain.is_none() {
        return Err(Nothing);
    }
    Ok(())
}

/// Resolves when stdin closes, on SIGTERM, or on Ctrl-C.
async fn stopped() {
    let (tx, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = tx.send(());
    });
    tokio::select! {
        _ = stdin_closed => {}
        () = standin::terminated() => {}
    }
}

async fn run(args: Args) -> Result<(), StandinError> {
    let credentials = Credentials::new(
        &args.s3_access_key,
        &args.s3_secret_key,
        None,
        None,
        "standin",
    );
    let mut line = serde_json::Map::new();
    let (server, s3_endpoint) = match (&args.s3_root, &args.s3_endpoint) {
        (Some(root), _) => {
            let address = Some(std::net::SocketAddr::from(([127, 0, 0, 1], args.s3_port)));
            let server =
                S3Server::start_on(root, &args.s3_access_key, &args.s3_secret_key, address).await?;
            for bucket in &args.buckets {
                server.create_bucket(bucket).await?;
            }
            let endpoint = server.endpoint();
            line.insert("s3_endpoint".into(), endpoint.clone().into());
            (Some(server), Some(endpoint))
        }
        (None, Some(endpoint)) => (None, Some(endpoint.clone())),
        (None, None) => (None, None),
    };
    let domain = match (args.domain, s3_endpoint) {
        (Some(name), Some(endpoint)) => {
            let mut config = DomainConfig::new(&name, endpoint, credentials);
            config.engine = args.engine;
            config.seed = args.seed;
            if let Some(ms) = args.snapshot_ms {
                config.snapshot_duration = Duration::from_millis(ms);
            }
            if let Some(ms) = args.recovery_ms {
                config.recovery_duration = Duration::from_millis(ms);
            }
            let listener = TcpListener::bind(("127.0.0.1", args.port))
                .await
                .map_err(|e| StandinError::Io {
                    what: "bind the domain's listener",
                    source: e,
                })?;
            let region = config.region.clone();
            let domain = Domain::start_on(listener, config)?;
            line.insert("domain".into(), name.into());
            line.insert("domain_endpoint".into(), domain.endpoint().into());
            line.insert("region".into(), region.into());
            Some(domain)
        }
        _ => None,
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::Value::Object(line))
        .and_then(|()| stdout.flush())
        .map_err(|e| StandinError::Io {
            what: "write the endpoints",
            source: e,
        })?;
    drop(stdout);
    stopped().await;
    if let Some(domain) = domain {
        domain.shutdown().await;
    }
    if let Some(server) = server {
        server.shutdown().await;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(error) = check(&args) {
        eprintln!("standin: {error}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("standin: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = standin::error_chain(&error);
            eprintln!("standin: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn args(list: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("standin").chain(list.iter().copied()))
    }

    #[test]
    fn flags_are_read_and_checked() {
        Args::command().debug_assert();
        let a = args(&[
            "--s3-root",
            "/tmp/x",
            "--bucket",
            "b",
            "--domain",
            "d",
            "--engine",
            "elasticsearch",
        ])
        .unwrap();
        assert_eq!(a.s3_port, 0);
        assert_eq!(a.buckets, ["b"]);
        assert_eq!(a.engine, Engine::elasticsearch());
        assert!(matches!(check(&args(&[]).unwrap()), Err(Nothing)));
        assert!(
            args(&["--domain", "d"]).is_err(),
            "a domain needs an S3 server"
        );
        assert!(args(&["--s3-root", "x", "--port"]).is_err());
        assert!(args(&["--nope"]).is_err());
        assert!(args(&["--s3-root", "x", "--s3-port", "many"]).is_err());
        assert!(args(&["--s3-root", "x", "--domain", "d", "--engine", "solr"]).is_err());
        assert!(args(&["--s3-root", "x", "--s3-endpoint", "http://127.0.0.1:1"]).is_err());
    }
}
