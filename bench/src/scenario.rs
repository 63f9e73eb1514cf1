//! The runs, on one stand-in: an S3 server and two emulated domains on loopback.
//!
//! - **Cold starts**: `register` exec'd `runs` times (after one discarded run), each
//!   registering a new repository and then the same one again (warm); AWS's Python client
//!   registering a repository the same number of times.
//! - **Ordinary work**: each function once, cold, on a small domain (snapshot, verify,
//!   restore, prune), with its peak memory, its requests to the domain, and for `snapshot`
//!   the proof that it does not wait for the domain.
//! - **Scale**: a repository seeded with `snapshots` snapshots: a brief and a verbose
//!   listing compared, `verify` of `latest` and of one name, `prune` dry run and real.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use http::Method;
use serde_json::{Value, json};
use signing::{DomainClient, DomainRequest, DomainResponse};
use standin::domain::{DEFAULT_SNAPSHOT_ROLE, RequestCounts, SeedPlan};
use standin::s3::S3Server;
use standin::{Domain, DomainConfig};

use crate::BenchError;
use crate::function::{ACCESS_KEY, FunctionRun, SECRET_KEY, run_function};
use crate::python::{PythonRun, SCRIPT, register_with_python};
use crate::report::{Row, count, mb, mb2, median, ms};

const BUCKET: &str = "snapshots";
/// How long a snapshot stays `IN_PROGRESS` on the small domain: far longer than `snapshot`
/// may take, so an invocation that waited for it would show.
const SNAPSHOT_DURATION: Duration = Duration::from_secs(2);
/// Indices every seeded snapshot holds.
const SEEDED_INDICES: [&str; 5] = ["logs-app", "logs-audit", "metrics", "orders", "users"];
/// The retention rule of the scale runs, dry and real: hourly snapshots, so about 9,300 of
/// 10,000 go (the largest decision, and 186 batched deletions).
const PRUNE_RULE: &str = r#"{"max_age": "30d", "min_count": 7}"#;
const FUNCTIONS: [&str; 5] = ["register", "snapshot", "verify", "restore", "prune"];

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// The built function binaries (`<dir>/register`, …).
    pub bin_dir: PathBuf,
    /// A Python with requests and requests-aws4auth; the comparison is skipped without it.
    pub python: Option<PathBuf>,
    /// Cold starts measured per subject (after one discarded run).
    pub runs: usize,
    /// Snapshots seeded for the scale runs.
    pub snapshots: usize,
    /// `(architecture, folder)`: `<folder>/<function>/bootstrap.zip`.
    pub zips: Vec<(String, PathBuf)>,
    /// criterion's output folder, for the signing figures.
    pub criterion: Option<PathBuf>,
    /// Only the cold starts and the Python comparison (needs only `register` built).
    pub cold_starts_only: bool,
    /// Where the stand-in keeps its S3 files (the system's temporary folder if not given).
    pub storage: Option<PathBuf>,
}

/// A folder removed when dropped.
#[derive(Debug)]
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The stand-in the runs use.
struct World {
    _root: TempDir,
    s3: S3Server,
    small: Domain,
    big: Domain,
}

impl World {
    async fn start(storage: &Path) -> Result<Self, BenchError> {
        let root = TempDir(storage.join(format!("osnap-bench-{}", std::process::id())));
        let s3 = S3Server::start(&root.0.join("s3"), ACCESS_KEY, SECRET_KEY).await?;
        s3.create_bucket(BUCKET).await?;
        let mut config = DomainConfig::new("bench-small", s3.endpoint(), s3.credentials());
        config.snapshot_duration = SNAPSHOT_DURATION;
        let small = Domain::start(config).await?;
        let big = Domain::start(DomainConfig::new(
            "bench-big",
            s3.endpoint(),
            s3.credentials(),
        ))
        .await?;
        Ok(Self {
            _root: root,
            s3,
            small,
            big,
        })
    }

    async fn stop(self) {
        self.small.shutdown().await;
        self.big.shutdown().await;
        self.s3.shutdown().await;
    }
}

/// Runs every measurement, adding the table's rows to `rows` as they are measured (so a
/// failure still leaves what was measured before it).
pub async fn run(options: &Options, rows: &mut Vec<Row>) -> Result<(), BenchError> {
    let binary = |name: &str| options.bin_dir.join(name);
    let needed: &[&str] = if options.cold_starts_only {
        &["register"]
    } else {
        &FUNCTIONS
    };
    for &name in needed {
        if !binary(name).exists() {
            return Err(BenchError::Usage(format!(
                "{} is not built",
                binary(name).display()
            )));
        }
    }
    let storage = options.storage.clone().unwrap_or_else(std::env::temp_dir);
    let world = World::start(&storage).await?;
    rows.push(Row::info(
        "the stand-in's S3 files (its speed is part of every whole run below)",
        format!("`{}` ({})", storage.display(), file_system_of(&storage)),
    ));
    if !options.cold_starts_only {
        sizes(options, rows);
        signing_figures(options, rows);
    }
    let outcome = async {
        eprintln!("osnap-bench: cold starts ({} runs each)", options.runs);
        cold_starts(options, &world, rows).await?;
        if options.cold_starts_only {
            return Ok(());
        }
        eprintln!("osnap-bench: each function's ordinary work");
        ordinary_work(options, &world, rows).await?;
        eprintln!("osnap-bench: {} snapshots", options.snapshots);
        scale(options, &world, rows).await
    }
    .await;
    world.stop().await;
    outcome
}

fn domain_json(domain: &Domain) -> Value {
    json!({"endpoint": domain.endpoint(), "region": "us-east-1"})
}

fn register_event(domain: &Domain, repository: &str) -> Value {
    json!({"domain": domain_json(domain), "repository": repository, "settings": {
        "bucket": BUCKET, "base_path": repository, "region": "us-east-1",
        "role_arn": DEFAULT_SNAPSHOT_ROLE}})
}

/// Merges `fields` into an event for `repository` on `domain`.
fn event(domain: &Domain, repository: &str, fields: Value) -> Value {
    let mut event = json!({"domain": domain_json(domain), "repository": repository});
    if let (Some(event), Value::Object(fields)) = (event.as_object_mut(), fields) {
        event.extend(fields);
    }
    event
}

fn requests_text(counts: &RequestCounts) -> String {
    let mut parts = Vec::new();
    for (n, method) in [
        (counts.get, "GET"),
        (counts.put, "PUT"),
        (counts.post, "POST"),
        (counts.delete, "DELETE"),
        (counts.head, "HEAD"),
        (counts.other, "other"),
    ] {
        if n > 0 {
            parts.push(format!("{} {method}", count(n)));
        }
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(" + ")
    }
}

async fn signed(
    client: &DomainClient,
    request: DomainRequest,
    what: &str,
) -> Result<DomainResponse, BenchError> {
    let response = client.send(&request).await?;
    if response.status.is_success() {
        Ok(response)
    } else {
        Err(BenchError::Refused {
            what: what.to_owned(),
            status: response.status.as_u16(),
            body: String::from_utf8_lossy(&response.body).into_owned(),
        })
    }
}

/// Runs a function once, cold, counting the requests `domain` was sent meanwhile.
async fn counted(
    binary: &Path,
    domain: &Domain,
    events: Vec<Value>,
    limit: Duration,
) -> Result<(FunctionRun, RequestCounts, u64), BenchError> {
    let requests = domain.requests();
    let reads = domain.snapshot_info_reads();
    let run = run_function(binary, events, limit).await?;
    run.first_response()?;
    Ok((
        run,
        domain.requests().since(&requests),
        domain.snapshot_info_reads() - reads,
    ))
}

async fn cold_starts(
    options: &Options,
    world: &World,
    rows: &mut Vec<Row>,
) -> Result<(), BenchError> {
    let register = options.bin_dir.join("register");
    let script_dir =
        TempDir(std::env::temp_dir().join(format!("osnap-bench-python-{}", std::process::id())));
    let script = script_dir.0.join("register_repository.py");
    if options.python.is_some() {
        std::fs::create_dir_all(&script_dir.0)
            .map_err(|e| BenchError::io("create the script folder", e))?;
        std::fs::write(&script, SCRIPT)
            .map_err(|e| BenchError::io("write the Python script", e))?;
    }
    // osnap and the Python client take turns, so that a slower moment of the machine
    // weighs on both alike. The first round of each warms the file cache and is not kept.
    let mut runs = Vec::new();
    let mut python_runs: Vec<PythonRun> = Vec::new();
    for i in 0..=options.runs {
        let event = register_event(&world.small, &format!("bench-{i}"));
        let run = run_function(
            &register,
            vec![event.clone(), event],
            Duration::from_secs(60),
        )
        .await?;
        let first = run.first_response()?;
        if first["status"] != "created" {
            return Err(BenchError::Function(format!("register answered {first}")));
        }
        let python_run = match &options.python {
            Some(python) => Some(
                register_with_python(
                    python,
                    &script,
                    &world.small.endpoint(),
                    &format!("py-{i}"),
                    BUCKET,
                    DEFAULT_SNAPSHOT_ROLE,
                )
                .await?,
            ),
            None => None,
        };
        if i > 0 {
            runs.push(run);
            python_runs.extend(python_run);
        }
    }
    let init = median(&runs.iter().map(|r| r.init).collect::<Vec<_>>());
    let whole = median(&runs.iter().map(|r| r.first_answer).collect::<Vec<_>>());
    let warm = median(
        &runs
            .iter()
            .filter_map(|r| r.invocations.get(1).map(|i| i.wall))
            .collect::<Vec<_>>(),
    );
    let first_cpu = median(
        &runs
            .iter()
            .map(|r| r.init_cpu + r.invocations.first().map(|i| i.cpu).unwrap_or_default())
            .collect::<Vec<_>>(),
    );
    let n = options.runs;
    rows.push(Row::goal(
        format!("`register` init: exec → first `/next` (median of {n})"),
        ms(init),
        "< 15 ms",
        init < Duration::from_millis(15),
    ));
    rows.push(Row::info(
        format!("`register` cold: exec → response posted (median of {n})"),
        format!("{} (the function's own CPU: {})", ms(whole), ms(first_cpu)),
    ));
    rows.push(Row::info(
        "`register` warm invocation: event → response (client reused)",
        ms(warm),
    ));

    if python_runs.is_empty() {
        rows.push(Row::info(
            "Python client (requests + requests-aws4auth)",
            "not run",
        ));
        return Ok(());
    }
    let python_wall = median(&python_runs.iter().map(|r| r.wall).collect::<Vec<_>>());
    let python_cpu = median(&python_runs.iter().map(|r| r.cpu).collect::<Vec<_>>());
    let python_peak = python_runs
        .iter()
        .map(|r| r.peak_rss_bytes)
        .max()
        .unwrap_or(0);
    rows.push(Row::info(
        format!(
            "Python client (requests + requests-aws4auth): process start → exit (median of {n})"
        ),
        format!(
            "{} (CPU: {}), peak RSS {}",
            ms(python_wall),
            ms(python_cpu),
            mb(python_peak)
        ),
    ));
    let ratio = python_wall.as_secs_f64() / whole.as_secs_f64().max(1e-9);
    rows.push(Row::goal(
        "register speed-up over the Python client (whole run)",
        format!("{ratio:.0}×"),
        "≥ 20×",
        ratio >= 20.0,
    ));
    let cpu_ratio = python_cpu.as_secs_f64() / first_cpu.as_secs_f64().max(1e-9);
    rows.push(Row::info(
        "register CPU: the Python client's over osnap's (whole run)",
        format!("{cpu_ratio:.0}×"),
    ));
    Ok(())
}

/// The type of the file system holding `path` (from `/proc/mounts`: the longest mount point
/// that contains it), or `unknown`.
fn file_system_of(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, point, kind) = (fields.next()?, fields.next()?, fields.next()?);
            path.starts_with(point)
                .then(|| (point.len(), kind.to_owned()))
        })
        .max_by_key(|(length, _)| *length)
        .map_or_else(|| "unknown".to_owned(), |(_, kind)| kind)
}

fn rss_row(name: &str, what: &str, run: &FunctionRun, limit_mb: u64) -> Row {
    let peak = run.end.peak_rss_bytes;
    Row::goal(
        format!("`{name}` peak RSS, {what}"),
        format!(
            "{} (init {}, cold {})",
            mb(peak),
            ms(run.init),
            ms(run.first_answer)
        ),
        format!("< {limit_mb} MB"),
        peak > 0 && peak < limit_mb * 1_000_000,
    )
}

async fn ordinary_work(
    options: &Options,
    world: &World,
    rows: &mut Vec<Row>,
) -> Result<(), BenchError> {
    let binary = |name: &str| options.bin_dir.join(name);
    let domain = &world.small;
    let operator = standin::client::operator_client(&domain.endpoint())?;
    for (index, id, doc) in [
        ("orders", "1", r#"{"item":"book"}"#),
        ("orders", "2", r#"{"item":"pen"}"#),
        ("logs-2026.11.28", "1", r#"{"message":"hello"}"#),
    ] {
        let request = DomainRequest::new(Method::PUT, &[index, "_doc", id])
            .query("refresh", "true")
            .json_body(doc.to_owned());
        signed(&operator, request, "index a document").await?;
    }
    let register = run_function(
        &binary("register"),
        vec![register_event(domain, "ordinary")],
        Duration::from_secs(60),
    )
    .await?;
    register.first_response()?;
    rows.push(rss_row(
        "register",
        "registering and verifying a repository",
        &register,
        30,
    ));

    let snapshot_event = event(
        domain,
        "ordinary",
        json!({"snapshot": "bench-1", "indices": ["orders", "logs-*"]}),
    );
    let (snapshot, requests, _) = counted(
        &binary("snapshot"),
        domain,
        vec![snapshot_event],
        Duration::from_secs(60),
    )
    .await?;
    let state = snapshot.first_response()?["state"].clone();
    rows.push(rss_row("snapshot", "starting a snapshot", &snapshot, 30));
    let invocation = snapshot
        .invocations
        .first()
        .map(|i| i.wall)
        .unwrap_or_default();
    rows.push(Row::goal(
        "`snapshot` does not wait for the domain",
        format!(
            "answered {state} after {} ({}), the domain took {} s",
            ms(invocation),
            requests_text(&requests),
            SNAPSHOT_DURATION.as_secs()
        ),
        "no sleep in any function",
        state == "IN_PROGRESS" && invocation < SNAPSHOT_DURATION / 2,
    ));
    wait_for_snapshot(&operator, "ordinary", "bench-1").await?;

    let (verify, requests, _) = counted(
        &binary("verify"),
        domain,
        vec![event(domain, "ordinary", json!({"snapshot": "bench-1"}))],
        Duration::from_secs(60),
    )
    .await?;
    rows.push(rss_row("verify", "one snapshot by name", &verify, 30));
    rows.push(Row::goal(
        "one `verify` poll (Step Functions loop)",
        requests_text(&requests),
        "a GET, and one for the repository (its manifest) once SUCCESS",
        requests.get <= 2 && requests.total() == requests.get,
    ));

    let restore = run_function(
        &binary("restore"),
        vec![event(
            domain,
            "ordinary",
            json!({"snapshot": "bench-1", "indices": ["orders"], "on_conflict": "rename"}),
        )],
        Duration::from_secs(60),
    )
    .await?;
    restore.first_response()?;
    rows.push(rss_row(
        "restore",
        "restoring an index renamed",
        &restore,
        30,
    ));

    let prune = run_function(
        &binary("prune"),
        vec![event(
            domain,
            "ordinary",
            json!({"match": "bench-*", "max_age": "30d"}),
        )],
        Duration::from_secs(60),
    )
    .await?;
    prune.first_response()?;
    rows.push(rss_row("prune", "a small repository", &prune, 30));
    Ok(())
}

async fn wait_for_snapshot(
    operator: &DomainClient,
    repository: &str,
    snapshot: &str,
) -> Result<(), BenchError> {
    let started = Instant::now();
    while started.elapsed() < SNAPSHOT_DURATION * 10 {
        let request = DomainRequest::new(Method::GET, &["_snapshot", repository, snapshot]);
        let response = signed(operator, request, "look at the snapshot").await?;
        let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        if body["snapshots"][0]["state"] == "SUCCESS" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(BenchError::Function(format!(
        "snapshot {snapshot} never finished"
    )))
}

fn sizes(options: &Options, rows: &mut Vec<Row>) {
    if options.zips.is_empty() {
        return;
    }
    for name in FUNCTIONS {
        let mut parts = Vec::new();
        let mut arm64_ok = true;
        let mut arm64_seen = false;
        for (arch, folder) in &options.zips {
            let size = std::fs::metadata(folder.join(name).join("bootstrap.zip"))
                .map(|m| m.len())
                .ok();
            match size {
                Some(size) => {
                    parts.push(format!("{arch} {}", mb2(size)));
                    if arch == "arm64" {
                        arm64_seen = true;
                        arm64_ok = size < 4_000_000;
                    }
                }
                None => parts.push(format!("{arch} missing")),
            }
        }
        rows.push(Row::goal(
            format!("`{name}` zip"),
            parts.join(", "),
            "arm64 < 4 MB",
            arm64_seen && arm64_ok,
        ));
    }
}

async fn scale(options: &Options, world: &World, rows: &mut Vec<Row>) -> Result<(), BenchError> {
    let binary = |name: &str| options.bin_dir.join(name);
    let domain = &world.big;
    let n = count(options.snapshots as u64);
    let operator = standin::client::operator_client(&domain.endpoint())?;
    let body = json!({"type": "s3", "settings": {"bucket": BUCKET, "base_path": "scale",
        "role_arn": DEFAULT_SNAPSHOT_ROLE}});
    let request = DomainRequest::new(Method::PUT, &["_snapshot", "nightly"])
        .idempotent()
        .json_body(body.to_string());
    signed(&operator, request, "register the scale repository").await?;
    let plan = SeedPlan {
        template: policy::naming::DEFAULT_TEMPLATE.to_owned(),
        count: options.snapshots,
        newest: SystemTime::now() - Duration::from_secs(30 * 60),
        interval: Duration::from_secs(3_600),
        indices: SEEDED_INDICES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let seeding = Instant::now();
    let names = domain.seed_snapshots("nightly", &plan).await?;
    rows.push(Row::info(
        format!(
            "seeding {n} snapshots (hourly, {} indices each)",
            SEEDED_INDICES.len()
        ),
        format!("{:.1} s", seeding.elapsed().as_secs_f64()),
    ));

    for verbose in [false, true] {
        let requests = domain.requests();
        let reads = domain.snapshot_info_reads();
        let started = Instant::now();
        let request = DomainRequest::new(Method::GET, &["_snapshot", "nightly", "_all"])
            .query("verbose", if verbose { "true" } else { "false" });
        // A verbose listing of thousands outlasts the client's 60 s per attempt.
        let mut request = operator.build_signed(&request).await?;
        *request.timeout_mut() = Some(Duration::from_secs(1_800));
        let response = reqwest::Client::new()
            .execute(request)
            .await
            .map_err(|e| BenchError::Function(format!("listing failed: {e}")))?;
        if !response.status().is_success() {
            return Err(BenchError::Refused {
                what: "list the snapshots".into(),
                status: response.status().as_u16(),
                body: response.text().await.unwrap_or_default(),
            });
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| BenchError::Function(format!("listing failed: {e}")))?;
        let took = started.elapsed();
        rows.push(Row::info(
            format!("listing {n} snapshots, `verbose={verbose}` (operator client)"),
            format!(
                "{}, {} in {}, {} S3 manifest reads",
                requests_text(&domain.requests().since(&requests)),
                mb(body.len() as u64),
                ms(took),
                count(domain.snapshot_info_reads() - reads)
            ),
        ));
    }

    let limit = Duration::from_secs(120);
    let (verify, requests, reads) = counted(
        &binary("verify"),
        domain,
        vec![event(
            domain,
            "nightly",
            json!({"snapshot": "latest", "max_age": "26h"}),
        )],
        limit,
    )
    .await?;
    let newest = names.first().cloned().unwrap_or_default();
    if verify.first_response()?["snapshot"] != newest.as_str() {
        return Err(BenchError::Function(format!(
            "verify latest chose {} instead of {newest}",
            verify.first_response()?["snapshot"]
        )));
    }
    let cpu = verify
        .invocations
        .first()
        .map(|i| i.cpu)
        .unwrap_or_default();
    rows.push(Row::goal(
        format!("`verify` latest of {n}: CPU of the invocation"),
        format!(
            "{} ({}, {} S3 manifest read)",
            ms(cpu),
            requests_text(&requests),
            count(reads)
        ),
        "< 50 ms",
        cpu < Duration::from_millis(50),
    ));
    rows.push(rss_row("verify", &format!("latest of {n}"), &verify, 64));

    let (by_name, requests, _) = counted(
        &binary("verify"),
        domain,
        vec![event(domain, "nightly", json!({"snapshot": newest}))],
        limit,
    )
    .await?;
    rows.push(Row::goal(
        format!("one `verify` poll by name, repository of {n}"),
        format!(
            "{} ({})",
            requests_text(&requests),
            ms(by_name
                .invocations
                .first()
                .map(|i| i.wall)
                .unwrap_or_default())
        ),
        "a GET, and one for the repository (its manifest) once SUCCESS",
        requests.get <= 2 && requests.total() == requests.get,
    ));

    for dry_run in [true, false] {
        let rule = PRUNE_RULE;
        let mut fields: Value = serde_json::from_str(rule).unwrap_or(Value::Null);
        fields["dry_run"] = json!(dry_run);
        let (prune, requests, reads) = counted(
            &binary("prune"),
            domain,
            vec![event(domain, "nightly", fields)],
            Duration::from_secs(900),
        )
        .await?;
        let answer = prune.first_response()?;
        // Bounded lists: the counts are whole, the names a sample.
        let deleted = answer["deleted"]["count"].as_u64().unwrap_or(0);
        let kept = answer["kept"]["count"].as_u64().unwrap_or(0);
        let invocation = prune.invocations.first();
        let cpu = invocation.map(|i| i.cpu).unwrap_or_default();
        let wall = invocation.map(|i| i.wall).unwrap_or_default();
        let what = if dry_run { "dry run" } else { "real" };
        rows.push(Row::info(
            format!("`prune` {what} of {n} (`{rule}`)"),
            format!(
                "{} to delete, {} kept; {}; {} S3 manifest reads; {} wall",
                count(deleted),
                count(kept),
                requests_text(&requests),
                count(reads),
                ms(wall)
            ),
        ));
        if dry_run {
            rows.push(Row::goal(
                format!("`prune` listing + retention decision over {n}: CPU of the invocation"),
                ms(cpu),
                "< 50 ms",
                cpu < Duration::from_millis(50),
            ));
        }
        rows.push(rss_row("prune", &format!("{what} over {n}"), &prune, 64));
    }
    Ok(())
}

fn signing_figures(options: &Options, rows: &mut Vec<Row>) {
    let Some(root) = &options.criterion else {
        return;
    };
    for estimate in crate::criterion::estimates(root) {
        let micros = estimate.time.as_secs_f64() * 1e6;
        let text = if micros < 1_000.0 {
            format!("{micros:.1} µs")
        } else {
            ms(estimate.time)
        };
        if estimate.id.starts_with("sigv4/") || estimate.id.starts_with("client/") {
            rows.push(Row::goal(
                format!("criterion `{}`", estimate.id),
                text,
                "< 20 µs",
                micros < 20.0,
            ));
        } else {
            rows.push(Row::info(format!("criterion `{}`", estimate.id), text));
        }
    }
}
