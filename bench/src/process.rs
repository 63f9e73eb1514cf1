//! Reading a running process's peak memory and CPU time from `/proc`.

use std::time::Duration;

/// A process at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// The peak resident set so far (`VmHWM`), in bytes.
    pub peak_rss_bytes: u64,
    /// CPU time of the process's live threads so far (their `schedstat` run times).
    pub cpu: Duration,
}

/// Samples process `pid`; what cannot be read stays zero.
pub fn sample(pid: u32) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    Sample {
        peak_rss_bytes: peak_rss(&status).unwrap_or(0),
        cpu: cpu_time(pid),
    }
}

/// `VmHWM` from a `/proc/<pid>/status` text, in bytes.
pub fn peak_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The first field of a `schedstat`: nanoseconds on a CPU.
pub fn schedstat_run_time(schedstat: &str) -> Option<Duration> {
    let nanos = schedstat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// The CPU time of every live thread of `pid`, to the nanosecond.
fn cpu_time(pid: u32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|text| schedstat_run_time(&text))
        .sum()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn parses_proc_texts() {
        let status =
            "Name:\tbootstrap\nVmPeak:\t  20000 kB\nVmHWM:\t    8764 kB\nVmRSS:\t 8000 kB\n";
        assert_eq!(peak_rss(status), Some(8764 * 1024));
        assert_eq!(peak_rss("Name:\tx\n"), None);
        assert_eq!(
            schedstat_run_time("175647478 58431030 64\n"),
            Some(Duration::from_nanos(175_647_478))
        );
    }

    #[test]
    fn samples_this_process() {
        let now = sample(std::process::id());
        assert!(now.peak_rss_bytes > 0);
    }
}
