//! The terminal: results on stdout, everything else (progress, plans, questions) on stderr;
//! bars and questions only where there is a terminal to show them.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, HumanDuration, ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::error::CliError;

/// Prints `value` as JSON on stdout.
pub fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Other(format!("cannot write JSON: {e}")))?;
    print_out(&text)
}

/// Prints a result line (or block) on stdout.
pub fn print_out(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::Other(format!("cannot write the output: {e}")))
}

/// Prints a line for the operator on stderr.
pub fn note(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

/// Asks before a destructive step. `--yes` answers for a script; without it, and without a
/// terminal to ask on, the step is refused.
pub fn confirm(yes: bool, question: &str) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::NotConfirmed(format!(
            "{question} needs confirmation, and there is no terminal to ask on; pass --yes to \
             proceed, or --dry-run to see the plan only. Nothing was changed."
        )));
    }
    {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{question}? [y/N] ");
        let _ = stderr.flush();
    }
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::Other(format!("cannot read the answer: {e}")))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(CliError::NotConfirmed(
            "answered no; nothing was changed".into(),
        )),
    }
}

/// One reading of something that advances: shards and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub done: u64,
    pub total: u64,
}

/// Progress of a snapshot or a restore on stderr: a bar with throughput and ETA on a
/// terminal, else a plain line at most every `every`.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    started: Instant,
    first_bytes: Option<u64>,
    last_line: Option<Instant>,
    every: Duration,
}

impl Progress {
    pub fn new(label: &str, every: Duration) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let style = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            ProgressBar::new(0)
                .with_style(style)
                .with_prefix(label.to_owned())
        });
        Self {
            bar,
            label: label.to_owned(),
            started: Instant::now(),
            first_bytes: None,
            last_line: None,
            every,
        }
    }

    /// Shows a reading; `state` is the domain's word for it.
    pub fn update(&mut self, state: &str, shards: Counts, bytes: Counts) {
        let message = format!("{}/{} shards, {state}", shards.done, shards.total);
        if let Some(bar) = &self.bar {
            bar.set_length(bytes.total);
            bar.set_position(bytes.done.min(bytes.total));
            bar.set_message(message);
            return;
        }
        if self
            .last_line
            .is_some_and(|last| last.elapsed() < self.every)
        {
            return;
        }
        self.last_line = Some(Instant::now());
        note(&self.plain_line(&message, bytes));
    }

    fn plain_line(&mut self, message: &str, bytes: Counts) -> String {
        self.plain_line_with_rate(message, bytes, true)
    }

    fn plain_line_with_rate(&mut self, message: &str, bytes: Counts, rate: bool) -> String {
        let first = *self.first_bytes.get_or_insert(bytes.done);
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut line = format!(
            "{}: {message}, {} of {}",
            self.label,
            HumanBytes(bytes.done),
            HumanBytes(bytes.total)
        );
        let moved = bytes.done.saturating_sub(first);
        if rate && moved > 0 && elapsed > 0.0 {
            let rate = moved as f64 / elapsed;
            let left = bytes.total.saturating_sub(bytes.done) as f64 / rate;
            line.push_str(&format!(
                ", {}/s, ETA {}",
                HumanBytes(rate as u64),
                HumanDuration(Duration::from_secs_f64(left))
            ));
        }
        line
    }

    /// Ends the bar with the final reading, or prints the final plain line.
    pub fn finish(&mut self, state: &str, shards: Counts, bytes: Counts) {
        let message = format!(
            "{}/{} shards, {state} in {:.1} s",
            shards.done,
            shards.total,
            self.started.elapsed().as_secs_f64()
        );
        if let Some(bar) = &self.bar {
            bar.set_length(bytes.total);
            bar.set_position(bytes.done.min(bytes.total));
            bar.finish_with_message(message);
        } else {
            let line = self.plain_line_with_rate(&message, bytes, false);
            note(&line);
        }
    }
}
