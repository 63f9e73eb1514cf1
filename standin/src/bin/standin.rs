//! `standin`: runs the stand-in S3 server on a folder and/or an emulated search domain, for
//! tests and the demo. Prints the endpoints as one JSON line on stdout, then runs until stdin
//! closes, SIGTERM or Ctrl-C.
//!
//! ```text
//! standin [--s3-root DIR] [--s3-port PORT] [--bucket NAME]...
//!         [--s3-endpoint URL]  [--s3-access-key KEY] [--s3-secret-key SECRET]
//!         [--domain NAME] [--port PORT] [--engine opensearch:2.13.0|elasticsearch:7.10.2]
//!         [--snapshot-ms MS] [--recovery-ms MS] [--seed N]
//! ```

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use aws_credential_types::Credentials;
use standin::s3::S3Server;
use standin::{Domain, DomainConfig, Engine, StandinError};
use tokio::net::TcpListener;

/// Default keys of the local S3 server (test credentials, not secrets).
const S3_ACCESS_KEY: &str = "AKIDSTANDIN";
const S3_SECRET_KEY: &str = "standin-secret";

#[derive(Debug, thiserror::Error)]
enum ArgsError {
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("unknown argument {0}")]
    Unknown(String),
    #[error("{flag}: {reason}")]
    Invalid { flag: &'static str, reason: String },
    #[error("nothing to run: give --s3-root and/or --domain")]
    Nothing,
    #[error("--domain needs an S3 server: --s3-root, or --s3-endpoint")]
    NoS3,
}

/// The command line as given.
#[derive(Debug, Default)]
struct RawArgs {
    s3_root: Option<String>,
    s3_port: Option<String>,
    buckets: Vec<String>,
    s3_endpoint: Option<String>,
    s3_access_key: Option<String>,
    s3_secret_key: Option<String>,
    domain: Option<String>,
    port: Option<String>,
    engine: Option<String>,
    snapshot_ms: Option<String>,
    recovery_ms: Option<String>,
    seed: Option<String>,
}

fn read_args(args: impl IntoIterator<Item = String>) -> Result<RawArgs, ArgsError> {
    let mut raw = RawArgs::default();
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| ArgsError::MissingValue(flag.clone()))
        };
        match flag.as_str() {
            "--s3-root" => raw.s3_root = Some(value()?),
            "--s3-port" => raw.s3_port = Some(value()?),
            "--bucket" => raw.buckets.push(value()?),
            "--s3-endpoint" => raw.s3_endpoint = Some(value()?),
            "--s3-access-key" => raw.s3_access_key = Some(value()?),
            "--s3-secret-key" => raw.s3_secret_key = Some(value()?),
            "--domain" => raw.domain = Some(value()?),
            "--port" => raw.port = Some(value()?),
            "--engine" => raw.engine = Some(value()?),
            "--snapshot-ms" => raw.snapshot_ms = Some(value()?),
            "--recovery-ms" => raw.recovery_ms = Some(value()?),
            "--seed" => raw.seed = Some(value()?),
            _ => return Err(ArgsError::Unknown(flag)),
        }
    }
    Ok(raw)
}

/// Where the domain's S3 is.
#[derive(Debug)]
enum S3Plan {
    Local { root: PathBuf, port: u16 },
    Remote { endpoint: String },
}

/// The command line, checked.
#[derive(Debug)]
struct Args {
    s3: Option<S3Plan>,
    buckets: Vec<String>,
    access_key: String,
    secret_key: String,
    domain: Option<DomainArgs>,
}

#[derive(Debug)]
struct DomainArgs {
    name: String,
    port: u16,
    engine: Engine,
    snapshot: Option<Duration>,
    recovery: Option<Duration>,
    seed: u64,
}

fn number<T: std::str::FromStr>(
    flag: &'static str,
    value: Option<String>,
) -> Result<Option<T>, ArgsError> {
    value
        .map(|v| {
            v.parse().map_err(|_| ArgsError::Invalid {
                flag,
                reason: format!("`{v}` is not a number"),
            })
        })
        .transpose()
}

fn engine(value: Option<String>) -> Result<Engine, ArgsError> {
    let Some(value) = value else {
        return Ok(Engine::opensearch());
    };
    let (kind, version) = value.split_once(':').unwrap_or((value.as_str(), ""));
    match (kind, version) {
        ("opensearch", "") => Ok(Engine::opensearch()),
        ("opensearch", v) => Engine::opensearch_at(v).map_err(|e| invalid_engine(&value, &e)),
        ("elasticsearch", "") => Ok(Engine::elasticsearch()),
        ("elasticsearch", v) => Engine::elasticsearch_at(v).map_err(|e| invalid_engine(&value, &e)),
        _ => Err(ArgsError::Invalid {
            flag: "--engine",
            reason: format!("`{value}` is not opensearch[:VERSION] or elasticsearch[:VERSION]"),
        }),
    }
}

fn invalid_engine(value: &str, error: &policy::engines::EngineError) -> ArgsError {
    ArgsError::Invalid {
        flag: "--engine",
        reason: format!("`{value}`: {error}"),
    }
}

fn check(raw: RawArgs) -> Result<Args, ArgsError> {
    let s3 = match (raw.s3_root, raw.s3_endpoint) {
        (Some(root), _) => Some(S3Plan::Local {
            root: PathBuf::from(root),
            port: number("--s3-port", raw.s3_port)?.unwrap_or(0),
        }),
        (None, Some(endpoint)) => Some(S3Plan::Remote { endpoint }),
        (None, None) => None,
    };
    let domain = match raw.domain {
        None => None,
        Some(name) => Some(DomainArgs {
            name,
            port: number("--port", raw.port)?.unwrap_or(0),
            engine: engine(raw.engine)?,
            snapshot: number("--snapshot-ms", raw.snapshot_ms)?.map(Duration::from_millis),
            recovery: number("--recovery-ms", raw.recovery_ms)?.map(Duration::from_millis),
            seed: number("--seed", raw.seed)?.unwrap_or(0),
        }),
    };
    match (&s3, &domain) {
        (None, None) => return Err(ArgsError::Nothing),
        (None, Some(_)) => return Err(ArgsError::NoS3),
        _ => {}
    }
    Ok(Args {
        s3,
        buckets: raw.buckets,
        access_key: raw
            .s3_access_key
            .unwrap_or_else(|| S3_ACCESS_KEY.to_owned()),
        secret_key: raw
            .s3_secret_key
            .unwrap_or_else(|| S3_SECRET_KEY.to_owned()),
        domain,
    })
}

/// Resolves when stdin closes, on SIGTERM, or on Ctrl-C.
async fn stopped() {
    let (tx, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = tx.send(());
    });
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = stdin_closed => {}
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

async fn run(args: Args) -> Result<(), StandinError> {
    let credentials = Credentials::new(&args.access_key, &args.secret_key, None, None, "standin");
    let mut line = serde_json::Map::new();
    let (server, s3_endpoint) = match &args.s3 {
        Some(S3Plan::Local { root, port }) => {
            let address = Some(std::net::SocketAddr::from(([127, 0, 0, 1], *port)));
            let server =
                S3Server::start_on(root, &args.access_key, &args.secret_key, address).await?;
            for bucket in &args.buckets {
                server.create_bucket(bucket).await?;
            }
            let endpoint = server.endpoint();
            line.insert("s3_endpoint".into(), endpoint.clone().into());
            (Some(server), Some(endpoint))
        }
        Some(S3Plan::Remote { endpoint }) => (None, Some(endpoint.clone())),
        None => (None, None),
    };
    let domain = match (args.domain, s3_endpoint) {
        (Some(d), Some(endpoint)) => {
            let mut config = DomainConfig::new(&d.name, endpoint, credentials);
            config.engine = d.engine;
            config.seed = d.seed;
            if let Some(snapshot) = d.snapshot {
                config.snapshot_duration = snapshot;
            }
            if let Some(recovery) = d.recovery {
                config.recovery_duration = recovery;
            }
            let listener = TcpListener::bind(("127.0.0.1", d.port))
                .await
                .map_err(|e| StandinError::Io {
                    what: "bind the domain's listener",
                    source: e,
                })?;
            let region = config.region.clone();
            let domain = Domain::start_on(listener, config)?;
            line.insert("domain".into(), d.name.into());
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
    let args = match read_args(std::env::args().skip(1)).and_then(check) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("standin: {error}");
            return ExitCode::from(2);
        }
    };
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
    use super::*;

    fn args(list: &[&str]) -> Result<Args, ArgsError> {
        read_args(list.iter().map(|s| (*s).to_owned())).and_then(check)
    }

    #[test]
    fn flags_are_read_and_checked() {
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
        assert!(matches!(a.s3, Some(S3Plan::Local { port: 0, .. })));
        assert_eq!(a.domain.unwrap().engine, Engine::elasticsearch());
        assert!(matches!(args(&[]), Err(ArgsError::Nothing)));
        assert!(matches!(args(&["--domain", "d"]), Err(ArgsError::NoS3)));
        assert!(matches!(args(&["--port"]), Err(ArgsError::MissingValue(_))));
        assert!(matches!(args(&["--nope"]), Err(ArgsError::Unknown(_))));
        assert!(args(&["--s3-root", "x", "--s3-port", "many"]).is_err());
        assert!(args(&["--s3-root", "x", "--domain", "d", "--engine", "solr"]).is_err());
    }
}
