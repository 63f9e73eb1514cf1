//! `osnap`, the operator command line: the operations osnap's Lambda functions run, from a
//! terminal or a script, plus `osnap standin` (a local stand-in to try them on) and `osnap
//! demo` (a whole migration on it).

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod demo;
mod error;
mod exit;
mod fixture;
mod session;
mod terminal;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // --help and --version are answers (stdout, 0); anything else is a usage error.
            let _ = error.print();
            let code = if error.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            };
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.common.verbose);
    let json = cli.common.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            terminal::note(&format!("osnap: cannot start the runtime: {error}"));
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(error) => {
            let message = policy::quote::bounded_message(&error.to_string());
            terminal::note(&format!("osnap: {message}"));
            if json {
                // The shape a function's failure has in Lambda.
                let _ = terminal::print_json(&serde_json::json!({
                    "errorType": error.error_type(),
                    "errorMessage": message,
                }));
            }
            ExitCode::from(error.exit_code())
        }
    }
}

/// Logs on stderr: warnings by default, more with -v.
fn init_tracing(verbosity: u8) {
    let level = match verbosity {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .try_init();
}
