//! One module per command; each reads its flags, calls the operations, prints the answer.

mod list;
mod migrate;
mod prune;
mod register;
mod repos;
mod restore;
mod snapshot;
pub mod standin;
mod status;
mod verify;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::error::CliError;
use crate::session::Session;

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let common = &cli.common;
    match cli.command {
        Command::Demo => crate::demo::run(&mut std::io::stdout())
            .await
            .map_err(|e| CliError::Other(format!("osnap demo failed: {e}"))),
        Command::Standin(args) => standin::run(&args).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "osnap", &mut std::io::stdout());
            Ok(())
        }
        Command::Repos => repos::run(&Session::new(common)?, common).await,
        Command::List(args) => list::run(&Session::new(common)?, common, &args).await,
        Command::Register(args) => register::run(&Session::new(common)?, common, &args).await,
        Command::Snapshot(args) => snapshot::run(&Session::new(common)?, common, &args).await,
        Command::Status(args) => status::run(&Session::new(common)?, common, &args).await,
        Command::Verify(args) => verify::run(&Session::new(common)?, common, &args).await,
        Command::Restore(args) => restore::run(&Session::new(common)?, common, &args).await,
        Command::Prune(args) => prune::run(&Session::new(common)?, common, &args).await,
        Command::Migrate(args) => migrate::run(&Session::new(common)?, common, &args).await,
    }
}

/// A table for the terminal: plain columns, no borders, so it also reads well in a pipe.
pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(header.to_vec());
    table
}

/// `2026-11-28 03:00:00` (UTC).
pub fn utc(time: std::time::SystemTime) -> String {
    let t = policy::time::UtcDateTime::from_system_time(time);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}
