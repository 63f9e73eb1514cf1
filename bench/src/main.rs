//! `osnap-bench --bin-dir DIR [--python PATH] [--runs N] [--snapshots N]
//! [--zips ARCH=DIR]... [--criterion DIR] [--storage DIR] [--cold-starts-only]`: measures the
//! built functions on the stand-in and prints one markdown table. `./dev bench` runs it with
//! everything; `--cold-starts-only` measures `register` against the Python client and nothing
//! else; `--storage` puts the stand-in's S3 files in `DIR` (the temporary folder otherwise).

use std::io::Write;
use std::path::PathBuf;

use osnap_bench::BenchError;
use osnap_bench::report::markdown;
use osnap_bench::scenario::{Options, run};

fn options(mut args: impl Iterator<Item = String>) -> Result<Options, BenchError> {
    let mut options = Options {
        bin_dir: PathBuf::new(),
        python: None,
        runs: 21,
        snapshots: 10_000,
        zips: Vec::new(),
        criterion: None,
        cold_starts_only: false,
        storage: None,
    };
    let usage = |what: &str| BenchError::Usage(format!("osnap-bench: {what}"));
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--cold-starts-only" => options.cold_starts_only = true,
            "--bin-dir" => options.bin_dir = PathBuf::from(value()?),
            "--python" => options.python = Some(PathBuf::from(value()?)),
            "--storage" => options.storage = Some(PathBuf::from(value()?)),
            "--criterion" => options.criterion = Some(PathBuf::from(value()?)),
            "--runs" => {
                options.runs = value()?
                    .parse()
                    .map_err(|_| usage("--runs takes a number"))?;
            }
            "--snapshots" => {
                options.snapshots = value()?
                    .parse()
                    .map_err(|_| usage("--snapshots takes a number"))?;
            }
            "--zips" => {
                let value = value()?;
                let (arch, folder) = value
                    .split_once('=')
                    .ok_or_else(|| usage("--zips takes ARCH=DIR"))?;
                options.zips.push((arch.to_owned(), PathBuf::from(folder)));
            }
            other => return Err(usage(&format!("unknown argument {other}"))),
        }
    }
    if options.bin_dir.as_os_str().is_empty() {
        return Err(usage("--bin-dir is required"));
    }
    if options.runs == 0 {
        return Err(usage("--runs must be at least 1"));
    }
    Ok(options)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let mut rows = Vec::new();
    let outcome = match options(std::env::args().skip(1)) {
        Ok(options) => run(&options, &mut rows).await,
        Err(error) => Err(error),
    };
    // What was measured is printed even when a later measurement failed.
    if !rows.is_empty() {
        let mut out = std::io::stdout().lock();
        if let Err(error) = out.write_all(markdown(&rows).as_bytes()) {
            eprintln!("osnap-bench: cannot print the table: {error}");
            return std::process::ExitCode::FAILURE;
        }
    }
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let message = standin::error_chain(&error);
            eprintln!("osnap-bench: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
