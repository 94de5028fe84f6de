//! What a replay measures, per queue, overall and per worker, and how it is kept in memory that
//! does not grow with the length of the day.
//!
//! Waits go into a [`Histogram`] rather than a list: a week of a large centre is millions of
//! answered tasks, and a list of waits would be the one thing in a replay proportional to the
//! traffic. The histogram has a fixed number of buckets (3,776, 30 KiB per queue) whose
//! width is under 1/64 of their value, so every percentile is within 1.6 % of the exact one;
//! the mean and the longest wait are kept exactly beside it.

use serde::Serialize;

/// Buckets below this many milliseconds hold one millisecond each.
const EXACT: u64 = 128;
/// Buckets per doubling above [`EXACT`].
const PER_DOUBLING: u64 = 64;
/// Enough buckets for any `u64` of milliseconds.
const BUCKETS: usize = (EXACT + PER_DOUBLING * 57) as usize;

/// Waits in milliseconds, counted in buckets of bounded relative width.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    sum_ms: u128,
    max_ms: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            count: 0,
            sum_ms: 0,
            max_ms: 0,
        }
    }
}

/// The bucket of `value` milliseconds.
fn bucket(value: u64) -> usize {
    if value < EXACT {
        return value as usize;
    }
    // value >= 128, so its highest bit is at 7 or above and the shift is at least 1.
    let shift = u64::from(63 - value.leading_zeros()) - 6;
    let top = value >> shift; // in 64..128
    (EXACT + (shift - 1) * PER_DOUBLING + (top - PER_DOUBLING)) as usize
}

/// The smallest value of bucket `index` and its width, in milliseconds.
fn bounds(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < EXACT {
        return (index, 1);
    }
    let shift = (index - EXACT) / PER_DOUBLING + 1;
    let top = (index - EXACT) % PER_DOUBLING + PER_DOUBLING;
    (top << shift, 1 << shift)
}

impl Histogram {
    /// Counts one wait.
    pub fn record(&mut self, wait_ms: u64) {
        self.counts[bucket(wait_ms)] += 1;
        self.count += 1;
        self.sum_ms += u128::from(wait_ms);
        self.max_ms = self.max_ms.max(wait_ms);
    }

    /// Adds another histogram's waits to these.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum_ms += other.sum_ms;
        self.max_ms = self.max_ms.max(other.max_ms);
    }

    /// How many waits.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The waits as seconds: mean, percentiles, longest; zeros when there are none.
    pub fn summary(&self) -> WaitSummary {
        if self.count == 0 {
            return WaitSummary::default();
        }
        #[allow(clippy::cast_precision_loss)]
        let mean = self.sum_ms as f64 / self.count as f64 / 1000.0;
        WaitSummary {
            mean: round(mean),
            p50: self.percentile(0.50),
            p90: self.percentile(0.90),
            p99: self.percentile(0.99),
            max: seconds(self.max_ms),
        }
    }

    /// The nearest-rank percentile `p` (0 < p ≤ 1), in seconds: the middle of the bucket that
    /// holds it, never above the longest wait.
    fn percentile(&self, p: f64) -> f64 {
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let rank = ((p * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let (low, width) = bounds(index);
                let middle = if width == 1 { low } else { low + width / 2 };
                return seconds(middle.min(self.max_ms));
            }
        }
        seconds(self.max_ms)
    }
}

/// Milliseconds as seconds, to the millisecond.
fn seconds(ms: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let value = ms as f64 / 1000.0;
    value
}

/// A figure rounded to the millisecond (or to 1/1000 of a ratio), so the JSON reads cleanly and
/// is the same on every machine.
pub(crate) fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// Waits in seconds, as `--json` prints them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct WaitSummary {
    /// The mean.
    pub mean: f64,
    /// The median.
    pub p50: f64,
    /// The 90th percentile.
    pub p90: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// The longest.
    pub max: f64,
}

/// What happened to the tasks that ended in one queue (answered or abandoned there, or canceled
/// by the Workflow after waiting there).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueTally {
    /// Answered (assigned to a worker).
    pub answered: u64,
    /// Answered within the service-level threshold.
    pub answered_within: u64,
    /// Abandoned: the caller's patience ran out while the task waited.
    pub abandoned: u64,
    /// Canceled by the Workflow: its last step timed out and no later filter took it.
    pub canceled: u64,
    /// The waits of the answered tasks, from creation to assignment.
    pub waits: Histogram,
    /// The waits of the abandoned tasks, from creation to hanging up.
    pub abandoned_waits: Histogram,
}

impl QueueTally {
    /// Every task that ended here.
    pub fn offered(&self) -> u64 {
        self.answered + self.abandoned + self.canceled
    }

    /// Adds another tally to this one.
    pub fn merge(&mut self, other: &QueueTally) {
        self.answered += other.answered;
        self.answered_within += other.answered_within;
        self.abandoned += other.abandoned;
        self.canceled += other.canceled;
        self.waits.merge(&other.waits);
        self.abandoned_waits.merge(&other.abandoned_waits);
    }

    /// The service level: the share of offered tasks answered within the threshold (abandoned
    /// and canceled tasks count against it); 1 when nothing was offered.
    pub fn service_level(&self) -> f64 {
        ratio(self.answered_within, self.offered()).unwrap_or(1.0)
    }
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Assigned after `wait` milliseconds, `within` the service-level threshold or not.
    Answered {
        /// From creation to assignment.
        wait: u64,
        /// Whether that is within the threshold.
        within: bool,
    },
    /// Abandoned after `wait` milliseconds.
    Abandoned {
        /// From creation to hanging up.
        wait: u64,
    },
    /// Canceled by the Workflow, or never routed.
    Canceled,
}

impl Ending {
    /// Counts it in `tally`.
    pub fn add_to(self, tally: &mut QueueTally) {
        match self {
            Ending::Answered { wait, within } => {
                tally.answered += 1;
                tally.answered_within += u64::from(within);
                tally.waits.record(wait);
            }
            Ending::Abandoned { wait } => {
                tally.abandoned += 1;
                tally.abandoned_waits.record(wait);
            }
            Ending::Canceled => tally.canceled += 1,
        }
    }
}

/// The length of a report's interval, in milliseconds: a quarter of an hour, the interval
/// contact centres plan staff by.
pub const INTERVAL_MS: u64 = 900_000;

/// One queue's tasks that arrived in one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntervalTally {
    /// Tasks that arrived.
    pub offered: u64,
    /// Of those, answered.
    pub answered: u64,
    /// Of those, answered within the threshold.
    pub answered_within: u64,
    /// Of those, abandoned.
    pub abandoned: u64,
    /// The answered ones' waits, summed, in milliseconds.
    pub wait_ms: u64,
}

/// The figures per [`INTERVAL_MS`] over the replay, for the report: 96 entries per queue a day,
/// the one thing that grows with the length of the replay, by design.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Per queue, per interval of arrival.
    pub queues: Vec<Vec<IntervalTally>>,
    /// Per interval, the milliseconds all workers spent busy.
    pub busy_ms: Vec<u64>,
    /// How many workers were staffed (in an available activity).
    pub staffed: usize,
}

impl Series {
    /// Empty, for `queues` queues.
    pub fn new(queues: usize) -> Self {
        Series {
            queues: vec![Vec::new(); queues],
            busy_ms: Vec::new(),
            staffed: 0,
        }
    }

    /// Counts a task of `queue` that arrived at `arrival` and ended so.
    pub fn count(&mut self, queue: usize, arrival: u64, ending: Ending) {
        let Some(intervals) = self.queues.get_mut(queue) else {
            return;
        };
        let index = usize::try_from(arrival / INTERVAL_MS).unwrap_or(usize::MAX);
        if intervals.len() <= index {
            intervals.resize(index + 1, IntervalTally::default());
        }
        let interval = &mut intervals[index];
        interval.offered += 1;
        match ending {
            Ending::Answered { wait, within } => {
                interval.answered += 1;
                interval.answered_within += u64::from(within);
                interval.wait_ms += wait;
            }
            Ending::Abandoned { .. } => interval.abandoned += 1,
            Ending::Canceled => {}
        }
    }

    /// Counts a worker busy from `start` for `length` milliseconds, split over the intervals.
    pub fn busy(&mut self, start: u64, length: u64) {
        let mut at = start;
        let end = start.saturating_add(length);
        while at < end {
            let index = usize::try_from(at / INTERVAL_MS).unwrap_or(usize::MAX);
            let boundary = (at / INTERVAL_MS + 1) * INTERVAL_MS;
            let until = boundary.min(end);
            if self.busy_ms.len() <= index {
                self.busy_ms.resize(index + 1, 0);
            }
            self.busy_ms[index] += until - at;
            at = until;
        }
    }

    /// The series, with `staffed` workers.
    pub fn finish(&self, staffed: usize) -> Series {
        Series {
            staffed,
            ..self.clone()
        }
    }
}

/// `part / whole`, rounded; `None` for an empty whole.
pub(crate) fn ratio(part: u64, whole: u64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (whole > 0).then(|| round(part as f64 / whole as f64))
}

/// One queue's figures, as `--json` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueReport {
    /// The queue's friendly name (`overall` for the whole workspace).
    pub friendly_name: String,
    /// Its SID (`null` overall).
    pub sid: Option<String>,
    /// Tasks that ended in this queue.
    pub offered: u64,
    /// Tasks assigned to a worker.
    pub answered: u64,
    /// Tasks whose caller hung up while waiting.
    pub abandoned: u64,
    /// Tasks the Workflow canceled (its last step timed out, no later filter matched).
    pub canceled: u64,
    /// Answered within the threshold over offered.
    pub service_level: f64,
    /// Offered tasks not answered at once (answered after a wait, abandoned, canceled) over
    /// offered: Erlang C's and Erlang A's probability of waiting.
    pub waited: f64,
    /// Abandoned over offered.
    pub abandonment: f64,
    /// The waits of the answered tasks, in seconds.
    pub wait_seconds: WaitSummary,
    /// How long the abandoned tasks waited before hanging up, in seconds.
    pub abandoned_wait_seconds: WaitSummary,
}

impl QueueReport {
    /// The figures of `tally`.
    pub fn of(friendly_name: String, sid: Option<String>, tally: &QueueTally) -> Self {
        let at_once = tally.waits.counts[0];
        QueueReport {
            friendly_name,
            sid,
            offered: tally.offered(),
            answered: tally.answered,
            abandoned: tally.abandoned,
            canceled: tally.canceled,
            service_level: tally.service_level(),
            waited: ratio(tally.offered() - at_once, tally.offered()).unwrap_or(0.0),
            abandonment: ratio(tally.abandoned, tally.offered()).unwrap_or(0.0),
            wait_seconds: tally.waits.summary(),
            abandoned_wait_seconds: tally.abandoned_waits.summary(),
        }
    }
}

/// One worker's figures, as `--json` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerReport {
    /// The worker's friendly name.
    pub friendly_name: String,
    /// Its SID.
    pub sid: String,
    /// Tasks it handled.
    pub answered: u64,
    /// Seconds it was busy with tasks.
    pub busy_seconds: f64,
    /// Seconds it was in an available activity.
    pub staffed_seconds: f64,
    /// Busy over staffed; `null` for a worker never available.
    pub occupancy: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_in_a_bucket_that_holds_it_and_is_at_most_a_64th_of_it_wide() {
        let mut value = 0_u64;
        while value < 1 << 40 {
            let (low, width) = bounds(bucket(value));
            assert!(
                low <= value && value < low + width,
                "{value} in {low}+{width}"
            );
            assert!(width == 1 || width * 64 <= low, "{value}: {low}+{width}");
            value = value * 9 / 8 + 1;
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_of_known_waits_are_within_the_bucket_width() {
        let mut histogram = Histogram::default();
        for wait in 1..=1000 {
            histogram.record(wait * 100);
        }
        let summary = histogram.summary();
        assert_eq!(summary.mean, 50.05);
        assert_eq!(summary.max, 100.0);
        for (got, exact) in [
            (summary.p50, 50.0),
            (summary.p90, 90.0),
            (summary.p99, 99.0),
        ] {
            assert!((got - exact).abs() <= exact / 64.0, "{got} vs {exact}");
        }
    }
}
