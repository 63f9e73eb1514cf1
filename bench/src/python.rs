//! The comparison: AWS's Python client (requests + requests-aws4auth) registering a
//! repository, timed from process start to exit.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::Command;

use crate::BenchError;
use crate::function::{ACCESS_KEY, REGION, SECRET_KEY};

/// The script, as AWS's guide writes it (credentials from the environment).
pub const SCRIPT: &str = include_str!("../python/register_repository.py");

/// One run of the Python client.
#[derive(Debug, Clone)]
pub struct PythonRun {
    pub wall: Duration,
    pub status: u64,
    pub peak_rss_bytes: u64,
    /// CPU time of the whole process, as it reports it at its end.
    pub cpu: Duration,
}

/// Runs `script` with `python` to register `repository` on the domain at `endpoint`.
pub async fn register_with_python(
    python: &Path,
    script: &Path,
    endpoint: &str,
    repository: &str,
    bucket: &str,
    role_arn: &str,
) -> Result<PythonRun, BenchError> {
    let mut command = Command::new(python);
    command
        .arg(script)
        .args([endpoint, repository, bucket, repository, role_arn, REGION])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "en_US.UTF-8")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let output = command
        .output()
        .await
        .map_err(|e| BenchError::io("run the Python client", e))?;
    let wall = started.elapsed();
    let failed = || {
        BenchError::Python(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    };
    if !output.status.success() {
        return Err(failed());
    }
    let report: Value = serde_json::from_slice(&output.stdout).map_err(|_| failed())?;
    let status = report["status"].as_u64().unwrap_or(0);
    if status != 200 {
        return Err(failed());
    }
    Ok(PythonRun {
        wall,
        status,
        peak_rss_bytes: report["peak_rss_kib"].as_u64().unwrap_or(0) * 1024,
        cpu: Duration::try_from_secs_f64(report["cpu_seconds"].as_f64().unwrap_or(0.0))
            .unwrap_or_default(),
    })
}
