//! Runs a built function binary behind `cargo lambda watch`, the local Lambda Runtime API, and
//! invokes it the way the Lambda service does: the event goes in through the invoke API, the
//! function polls the Runtime API for it and posts its response or error back.
//!
//! The binaries are the workspace's own debug builds (`./dev test` builds them first);
//! `cargo-lambda` comes from the project's tool folder (`.tools/venv/bin`) or `PATH`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

pub mod hygiene;
pub mod ports;

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{0}")]
    Setup(String),
    #[error("invoke failed: {0}")]
    Invoke(#[from] reqwest::Error),
}

/// A function's answer: its response, or the error it reported.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Value),
    Error { error_type: String, message: String },
}

impl Outcome {
    pub fn error_type(&self) -> Option<&str> {
        self.error().map(|(error_type, _)| error_type)
    }

    /// The error's type and message, if the function reported one.
    pub fn error(&self) -> Option<(&str, &str)> {
        match self {
            Self::Ok(_) => None,
            Self::Error {
                error_type,
                message,
            } => Some((error_type, message)),
        }
    }
}

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn cargo_lambda() -> PathBuf {
    let pinned = workspace_root().join(".tools/venv/bin/cargo-lambda");
    if pinned.exists() {
        pinned
    } else {
        PathBuf::from("cargo-lambda")
    }
}

/// The debug build of a function binary.
pub fn function_binary(name: &str) -> Result<PathBuf, HarnessError> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let path = target.join("debug").join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(HarnessError::Setup(format!(
            "{} is not built: run `cargo build --workspace --bins` first (./dev test does)",
            path.display()
        )))
    }
}

/// One function behind its own local Runtime API. Both processes end when this is dropped.
#[derive(Debug)]
pub struct LambdaFunction {
    runtime_api: Child,
    function: Child,
    port: u16,
    /// Held while the Runtime API runs, so that no other one is given its port.
    _reserved: ports::ReservedPort,
    http: reqwest::Client,
    name: String,
    /// Where the function's stdout and stderr go (a scratch file when the test gave none).
    log: PathBuf,
    scratch_log: bool,
    /// The secret values the function was given, looked for in what it writes.
    secrets: Vec<String>,
}

impl LambdaFunction {
    /// Starts `cargo lambda watch --only-lambda-apis` and the function binary `name` with
    /// `env` (plus the Runtime API variables and test credentials).
    pub async fn start(name: &str, env: &[(&str, &str)]) -> Result<Self, HarnessError> {
        Self::start_logging_to(name, env, None).await
    }

    /// As [`LambdaFunction::start`], with the function's stdout and stderr (its logs) written
    /// to `log` instead of discarded.
    pub async fn start_logging_to(
        name: &str,
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> Result<Self, HarnessError> {
        let binary = function_binary(name)?;
        let reserved = ports::reserve()?;
        let port = reserved.port();
        // Every function's log is kept, so that its hygiene is checked when it stops.
        let scratch_log = log.is_none();
        let log_path = log.map_or_else(
            || std::env::temp_dir().join(format!("osnap-{name}-{port}-{}.log", std::process::id())),
            Path::to_path_buf,
        );
        let (stdout, stderr) = {
            let file = std::fs::File::create(&log_path)
                .map_err(|e| HarnessError::Setup(format!("cannot create the log file: {e}")))?;
            let copy = file
                .try_clone()
                .map_err(|e| HarnessError::Setup(format!("cannot share the log file: {e}")))?;
            (Stdio::from(file), Stdio::from(copy))
        };
        // The Runtime API's own log goes beside the function's, as `<log>.rt`, always: when
        // it does not start, its log is what says why.
        let runtime_api_log_path = log_path.with_extension("rt");
        let runtime_api_log = std::fs::File::create(&runtime_api_log_path)
            .map(Stdio::from)
            .map_err(|e| HarnessError::Setup(format!("cannot create the log file: {e}")))?;
        let mut runtime_api = Command::new(cargo_lambda())
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(runtime_api_log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| HarnessError::Setup(format!("cannot run cargo-lambda: {e}")))?;
        if let Err(error) = wait_for_port(port, &mut runtime_api).await {
            let _ = runtime_api.kill().await;
            let tail = log_tail(&runtime_api_log_path, 20);
            if scratch_log {
                let _ = std::fs::remove_file(&log_path);
                let _ = std::fs::remove_file(&runtime_api_log_path);
            }
            return Err(HarnessError::Setup(format!(
                "{error}; the end of its log:\n{tail}"
            )));
        }
        let function = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // The stand-in is on loopback, which deployed functions refuse; a test that wants
            // the deployed behaviour overrides this in `env`.
            .env(
                signing::endpoint::LOOPBACK_SWITCH,
                signing::endpoint::LOOPBACK_SWITCH_VALUE,
            )
            .env("AWS_ACCESS_KEY_ID", "AKIDSTANDIN")
            .env("AWS_SECRET_ACCESS_KEY", "standin-secret")
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| HarnessError::Setup(format!("cannot run {name}: {e}")))?;
        let mut secrets = vec!["standin-secret".to_owned()];
        secrets.extend(
            env.iter()
                .filter(|(k, _)| matches!(*k, "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN"))
                .map(|(_, v)| (*v).to_owned()),
        );
        Ok(Self {
            runtime_api,
            function,
            port,
            _reserved: reserved,
            http: reqwest::Client::new(),
            name: name.to_owned(),
            log: log_path,
            scratch_log,
            secrets,
        })
    }

    /// Where the Lambda invoke API of this function listens (what a Step Functions task, or
    /// anything else, posts an event to).
    pub fn invoke_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/2015-03-31/functions/_/invocations",
            self.port
        )
    }

    /// Invokes the function with `event` and waits for its answer.
    pub async fn invoke(&self, event: &Value) -> Result<Outcome, HarnessError> {
        let response = self
            .http
            .post(self.invoke_url())
            .body(event.to_string())
            .timeout(Duration::from_secs(60))
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        hygiene::assert_clean(
            &format!("{}'s answer", self.name),
            &String::from_utf8_lossy(&body),
            &self.secrets,
        );
        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(Outcome::Ok(value));
        }
        // cargo lambda answers a function error with HTTP 500 and the Lambda error body.
        match (value.get("errorType"), value.get("errorMessage")) {
            (Some(Value::String(t)), Some(Value::String(m))) => Ok(Outcome::Error {
                error_type: t.clone(),
                message: m.clone(),
            }),
            _ => Err(HarnessError::Setup(format!(
                "unexpected answer {status}: {}",
                String::from_utf8_lossy(&body)
            ))),
        }
    }

    /// Whether the function and its Runtime API are still running, in words.
    pub fn status(&mut self) -> String {
        let describe = |child: &mut Child| match child.try_wait() {
            Ok(None) => "running".to_owned(),
            Ok(Some(status)) => format!("exited ({status})"),
            Err(error) => format!("unknown ({error})"),
        };
        format!(
            "function {}, runtime API {}",
            describe(&mut self.function),
            describe(&mut self.runtime_api)
        )
    }

    /// Stops both processes, then checks the function's log: no secret in any line.
    pub async fn stop(mut self) {
        let _ = self.function.kill().await;
        let _ = self.runtime_api.kill().await;
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        if self.scratch_log {
            let _ = std::fs::remove_file(&self.log);
            let _ = std::fs::remove_file(self.log.with_extension("rt"));
        }
        hygiene::assert_clean(&format!("{}'s log", self.name), &log, &self.secrets);
    }
}

/// Waits until the Runtime API listens on `port`, or says why it does not: it ended (with its
/// exit status), or it is still starting after 10 s.
async fn wait_for_port(port: u16, runtime_api: &mut Child) -> Result<(), HarnessError> {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if let Ok(Some(status)) = runtime_api.try_wait() {
            return Err(HarnessError::Setup(format!(
                "cargo lambda watch ended ({status}) before it opened port {port}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(HarnessError::Setup(format!(
        "cargo lambda watch was still running but had not opened port {port} after 10 s"
    )))
}

/// The last `lines` lines of a log file (or why it could not be read).
fn log_tail(path: &Path, lines: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let tail: Vec<&str> = text.lines().rev().take(lines).collect();
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        }
        Err(error) => format!("(its log {} cannot be read: {error})", path.display()),
    }
}
