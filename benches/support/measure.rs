//! What the whole-process benchmarks (`coldstart`, `storm`) read from Linux's `/proc` and the
//! file system, and how they summarise a set of durations.

use std::path::Path;
use std::time::Duration;

/// The nearest-rank percentile of sorted `values`; `None` when there are none.
pub(crate) fn percentile(values: &[Duration], percent: usize) -> Option<Duration> {
    let rank = (values.len() * percent).div_ceil(100).max(1);
    values.get(rank - 1).copied()
}

/// CPU time summed over the process's threads (`/proc/<pid>/task/*/schedstat`, in nanoseconds,
/// so a millisecond-long start is measurable); `None` when `/proc` cannot tell.
pub(crate) fn cpu_time(pid: u32) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = Duration::ZERO;
    for task in tasks.flatten() {
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        let nanos = schedstat.split_whitespace().next()?.parse::<u64>().ok()?;
        total += Duration::from_nanos(nanos);
    }
    Some(total)
}

/// The size of a file in bytes, `0` when it cannot be read.
pub(crate) fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}
