//! Running a built function binary as Lambda does: exec `bootstrap` with Lambda's
//! environment, serve it events through the Runtime API, and time and sample it.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::Command;

use crate::BenchError;
use crate::process::Sample;
use crate::runtime_api::{Mark, RuntimeApi};

/// The credentials the functions sign with: the stand-in's default caller, passed the way
/// Lambda passes the function role's credentials.
pub const ACCESS_KEY: &str = "AKIDSTANDIN";
pub const SECRET_KEY: &str = "standin-secret";
pub const REGION: &str = "us-east-1";

/// One invocation, from the function taking the event to its answer.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub wall: Duration,
    /// CPU the process used meanwhile.
    pub cpu: Duration,
    pub answer: Result<Value, String>,
}

/// A function process's whole life in the bench.
#[derive(Debug, Clone)]
pub struct FunctionRun {
    /// From exec to its first `GET …/invocation/next`.
    pub init: Duration,
    /// CPU the process used until then.
    pub init_cpu: Duration,
    /// From exec to the first answer posted.
    pub first_answer: Duration,
    pub invocations: Vec<Invocation>,
    /// After the last invocation, waiting for the next.
    pub end: Sample,
}

impl FunctionRun {
    /// The first invocation's response, or why there is none.
    pub fn first_response(&self) -> Result<&Value, BenchError> {
        match self.invocations.first().map(|i| &i.answer) {
            Some(Ok(value)) => Ok(value),
            Some(Err(error)) => Err(BenchError::Function(error.clone())),
            None => Err(BenchError::Function("no invocation".into())),
        }
    }
}

/// Runs `binary` for `events`, then stops it. Gives up after `limit`.
pub async fn run_function(
    binary: &Path,
    events: Vec<Value>,
    limit: Duration,
) -> Result<FunctionRun, BenchError> {
    let count = events.len();
    let mut api = RuntimeApi::start(events).await?;
    let name = binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "en_US.UTF-8")
        .env("TZ", ":UTC")
        .env("AWS_LAMBDA_RUNTIME_API", api.address().to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", REGION)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // The stand-in is on loopback, which deployed functions refuse.
        .env(
            signing::endpoint::LOOPBACK_SWITCH,
            signing::endpoint::LOOPBACK_SWITCH_VALUE,
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| BenchError::io("start a function binary", e))?;
    if let Some(pid) = child.id() {
        api.set_pid(pid);
    }
    let outcome = tokio::time::timeout(limit, observe(&mut api, started, count)).await;
    let _ = child.kill().await;
    api.stop();
    match outcome {
        Ok(result) => result,
        Err(_) => Err(BenchError::Function(format!(
            "{name} did not finish {count} invocation(s) within {limit:?}"
        ))),
    }
}

async fn observe(
    api: &mut RuntimeApi,
    started: Instant,
    count: usize,
) -> Result<FunctionRun, BenchError> {
    let gone = || BenchError::Function("the function stopped talking to the Runtime API".into());
    let (mut asked_at, mut asked) = match api.next_mark().await.ok_or_else(gone)? {
        Mark::Next { at, sample } => (at, sample),
        Mark::InitError { body, .. } => {
            return Err(BenchError::Function(format!(
                "init failed: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        other => return Err(BenchError::Function(format!("unexpected {other:?}"))),
    };
    let init = asked_at.duration_since(started);
    let init_cpu = asked.cpu;
    let mut first_answer = None;
    let mut invocations = Vec::with_capacity(count);
    for _ in 0..count {
        let (at, cpu, answer) = match api.next_mark().await.ok_or_else(gone)? {
            Mark::Response { at, sample, body } => {
                let value = serde_json::from_slice(&body)
                    .map_err(|e| BenchError::Function(format!("unreadable response: {e}")))?;
                (at, sample.cpu.saturating_sub(asked.cpu), Ok(value))
            }
            Mark::Error { at, body } => (
                at,
                Duration::ZERO,
                Err(String::from_utf8_lossy(&body).into_owned()),
            ),
            other => return Err(BenchError::Function(format!("unexpected {other:?}"))),
        };
        first_answer.get_or_insert(at.duration_since(started));
        invocations.push(Invocation {
            wall: at.duration_since(asked_at),
            cpu,
            answer,
        });
        match api.next_mark().await.ok_or_else(gone)? {
            Mark::Next { at, sample } => (asked_at, asked) = (at, sample),
            other => return Err(BenchError::Function(format!("unexpected {other:?}"))),
        }
    }
    Ok(FunctionRun {
        init,
        init_cpu,
        first_answer: first_answer.unwrap_or(init),
        invocations,
        end: asked,
    })
}
