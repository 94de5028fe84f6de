//! What every token read shares, whichever AWS service it reads: the client's timeouts, the
//! classification of a failed request (throttled, transient, final), and the loop that retries a
//! request until the read's [`Deadline`].
//!
//! The parent module's table gives the figures and why this retries by itself rather than through
//! the SDK's retry policy; [`super::ssm`] and [`super::secrets`] send the requests.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_runtime::retries::classifiers::{THROTTLING_ERRORS, TRANSIENT_ERRORS};
use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use tokio::time::Instant;

use super::{Deadline, TokenError};

/// Establishing the connection (TCP and TLS): an endpoint that does not accept a connection
/// within a second is not going to, and the attempt is retried once on a new one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The ceiling of the first pause after a failed attempt; it doubles with every pause.
pub(crate) const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// The highest ceiling of a pause.
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(1);
/// No attempt begins with less of the budget left than this: an in-region call takes tens of
/// milliseconds, and an attempt cut short by the deadline has spent a request for nothing.
pub(crate) const LAST_ATTEMPT: Duration = Duration::from_millis(250);
/// The most requests one read sends (per request it is made of, when it sends several): a hard
/// bound on what one read can cost, whatever the jitter draws. Pauses drawn as below reach the
/// end of the budget after about 8 attempts on average; 12 cuts short about one read in a
/// hundred of those throttled all the way through, a few hundred milliseconds early.
pub(crate) const MAX_ATTEMPTS: u32 = 12;
/// Attempts, the first included, when a failure is not throttling (a refused or dropped
/// connection, a timeout, a 5xx): one retry rides out a blip; more would keep callbacks waiting
/// through an outage that retrying does not end.
pub(crate) const TRANSIENT_ATTEMPTS: u32 = 2;

/// The cause of the error of a read that had no time for a single request.
pub(crate) const NO_TIME_LEFT: &str = "no time was left to read it before TaskRouter's deadline";

/// The timeouts every token client is built with, whatever the SDK configuration says: the
/// connect timeout above, and no operation timeout (each attempt is bounded by the read's
/// deadline instead, in [`retrying`]).
pub(crate) fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .disable_operation_timeout()
        .disable_operation_attempt_timeout()
        .build()
}

/// The SDK's own retries, switched off: [`retrying`] retries instead.
pub(crate) fn retry_config() -> RetryConfig {
    RetryConfig::disabled()
}

/// What one read did, for its log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReadStats {
    /// Requests sent.
    pub(crate) attempts: u32,
    /// Of those, the ones the service answered with a throttling error.
    pub(crate) throttled: u32,
}

impl ReadStats {
    /// Adds the requests of another part of the same read.
    pub(crate) fn add(&mut self, other: ReadStats) {
        self.attempts += other.attempts;
        self.throttled += other.throttled;
    }
}

/// Whether a failed attempt is worth another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// The service is up and refusing for now (over its rate): wait and ask again, until the
    /// deadline.
    Throttled,
    /// A refused or dropped connection, a timeout, a 5xx: worth one more attempt.
    Transient,
    /// Asking again would get the same answer (not found, denied, not a token).
    No,
}

impl Retry {
    /// Whether an SDK failure is worth retrying, as the SDK's own standard retry policy would
    /// decide: the SDK's lists of throttling and transient error codes (`aws-runtime`), 429 and
    /// 5xx answers, timeouts and connection failures. `transient_codes` adds the codes a service
    /// documents as transient although it answers them with a 4xx status.
    pub(crate) fn of<E>(error: &SdkError<E, HttpResponse>, transient_codes: &[&str]) -> Self
    where
        E: ProvideErrorMetadata,
    {
        let code = error.code();
        let listed = |list: &[&str]| code.is_some_and(|code| list.contains(&code));
        match error {
            _ if listed(THROTTLING_ERRORS) => Self::Throttled,
            SdkError::ServiceError(service) if service.raw().status().as_u16() == 429 => {
                Self::Throttled
            }
            _ if listed(TRANSIENT_ERRORS) || listed(transient_codes) => Self::Transient,
            SdkError::ServiceError(service) if service.raw().status().is_server_error() => {
                Self::Transient
            }
            SdkError::TimeoutError(_) | SdkError::ResponseError(_) => Self::Transient,
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
                Self::Transient
            }
            _ => Self::No,
        }
    }
}

/// A failed attempt: the error it would end the read with, and whether to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) error: TokenError,
    pub(crate) retry: Retry,
}

impl Failure {
    /// A failure no retry can change.
    pub(crate) fn permanent(error: TokenError) -> Self {
        Self {
            error,
            retry: Retry::No,
        }
    }
}

/// Full-jitter exponential backoff: the n-th pause (from 0) is drawn uniformly from
/// `[0, min(BACKOFF_CAP, BACKOFF_BASE × 2ⁿ))`. Full jitter spreads the retries of instances
/// that were throttled at the same moment, instead of bringing them back together
/// (<https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/>; the SDK's
/// standard retry mode draws its pauses the same way, `aws-smithy-runtime`'s
/// `calculate_exponential_backoff`).
pub(crate) struct Backoff {
    rng: fastrand::Rng,
    pauses: u32,
}

impl Backoff {
    /// Seeded from the operating system's randomness (the keys of the standard library's
    /// `RandomState`, drawn once per process), so instances that start at the same moment do
    /// not draw the same pauses. (`fastrand`'s own default seed is a hash of the time and the
    /// thread, with fixed keys.)
    pub(crate) fn new() -> Self {
        let seed = RandomState::new().hash_one(std::time::Instant::now());
        Self::with_rng(fastrand::Rng::with_seed(seed))
    }

    pub(crate) fn with_rng(rng: fastrand::Rng) -> Self {
        Self { rng, pauses: 0 }
    }

    /// The ceiling of the next pause.
    fn ceiling(&self) -> Duration {
        BACKOFF_BASE
            .saturating_mul(1 << self.pauses.min(16))
            .min(BACKOFF_CAP)
    }

    /// The next pause.
    pub(crate) fn next_pause(&mut self) -> Duration {
        let pause = self.ceiling().mul_f64(self.rng.f64());
        self.pauses += 1;
        pause
    }
}

/// Runs `attempt` until it succeeds, fails for good, or the deadline leaves no room for another:
/// throttled attempts are retried for as long as the deadline allows (at most [`MAX_ATTEMPTS`]
/// in all), other transient failures up to [`TRANSIENT_ATTEMPTS`] attempts, and nothing else.
/// Each attempt may take all the time left; no attempt begins within [`LAST_ATTEMPT`] of the
/// deadline, and a pause that would end later than that ends then instead, for one last attempt.
/// The error is the last attempt's, or, when no attempt could begin or the last one got no answer
/// in time, `unavailable` of a cause saying so. `stats` counts the attempts.
pub(crate) async fn retrying<T, F, Fut>(
    deadline: Deadline,
    mut backoff: Backoff,
    stats: &mut ReadStats,
    unavailable: &(dyn Fn(String) -> TokenError + Sync),
    mut attempt: F,
) -> Result<T, TokenError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let latest_start = deadline.instant().checked_sub(LAST_ATTEMPT);
    let mut transient = 0;
    let mut attempts = 0;
    let mut last = None;
    loop {
        let now = Instant::now();
        if !deadline.leaves_time_for_an_attempt() {
            return Err(last.unwrap_or_else(|| unavailable(NO_TIME_LEFT.to_owned())));
        }
        attempts += 1;
        stats.attempts += 1;
        let failure = match tokio::time::timeout_at(deadline.instant(), attempt()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(failure)) => failure,
            Err(_) => Failure {
                error: unavailable(format!(
                    "no answer within the {:.2} s left before TaskRouter's deadline",
                    deadline
                        .instant()
                        .saturating_duration_since(now)
                        .as_secs_f64()
                )),
                retry: Retry::Transient,
            },
        };
        let again = match failure.retry {
            Retry::Throttled => {
                stats.throttled += 1;
                true
            }
            Retry::Transient => {
                transient += 1;
                transient < TRANSIENT_ATTEMPTS
            }
            Retry::No => false,
        };
        if !again || attempts >= MAX_ATTEMPTS {
            return Err(failure.error);
        }
        last = Some(failure.error);
        let resume = Instant::now() + backoff.next_pause();
        if let Some(latest) = latest_start {
            tokio::time::sleep_until(resume.min(latest)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::super::READ_BUDGET;
    use super::*;

    fn unavailable(cause: String) -> TokenError {
        TokenError::Unavailable {
            name: "/p".to_owned(),
            cause,
        }
    }

    fn throttled() -> Failure {
        Failure {
            error: unavailable("ThrottlingException: Rate exceeded".to_owned()),
            retry: Retry::Throttled,
        }
    }

    fn dropped() -> Failure {
        Failure {
            error: unavailable("dispatch failure: connection reset".to_owned()),
            retry: Retry::Transient,
        }
    }

    fn denied() -> Failure {
        Failure::permanent(TokenError::AccessDenied {
            name: "/p".to_owned(),
            cause: "AccessDeniedException".to_owned(),
        })
    }

    /// Replies handed out one per attempt, with the (paused) instant each attempt began.
    struct Script {
        replies: Mutex<Vec<Result<&'static str, Failure>>>,
        began: Mutex<Vec<Instant>>,
        /// How long each attempt takes to answer.
        takes: Duration,
    }

    impl Script {
        fn new(replies: Vec<Result<&'static str, Failure>>, takes: Duration) -> Arc<Self> {
            Arc::new(Self {
                replies: Mutex::new(replies.into_iter().rev().collect()),
                began: Mutex::new(Vec::new()),
                takes,
            })
        }

        async fn attempt(self: Arc<Self>) -> Result<&'static str, Failure> {
            self.began.lock().expect("lock").push(Instant::now());
            tokio::time::sleep(self.takes).await;
            // An empty script means "throttled for ever".
            self.replies
                .lock()
                .expect("lock")
                .pop()
                .unwrap_or_else(|| Err(throttled()))
        }

        /// When each attempt began, relative to `start`.
        fn began_after(&self, start: Instant) -> Vec<Duration> {
            self.began
                .lock()
                .expect("lock")
                .iter()
                .map(|at| *at - start)
                .collect()
        }
    }

    async fn run(
        script: &Arc<Script>,
        budget: Duration,
        seed: u64,
    ) -> (Result<&'static str, TokenError>, ReadStats, Instant) {
        let start = Instant::now();
        let deadline = Deadline::at(start + budget);
        let mut stats = ReadStats::default();
        let backoff = Backoff::with_rng(fastrand::Rng::with_seed(seed));
        let outcome = retrying(deadline, backoff, &mut stats, &unavailable, || {
            Arc::clone(script).attempt()
        })
        .await;
        (outcome, stats, start)
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn pauses_are_drawn_below_a_ceiling_that_doubles_from_200_ms_up_to_one_second() {
        let mut backoff = Backoff::with_rng(fastrand::Rng::with_seed(7));
        let ceilings: Vec<Duration> = (0..6)
            .map(|_| {
                let ceiling = backoff.ceiling();
                backoff.next_pause();
                ceiling
            })
            .collect();
        assert_eq!(
            ceilings,
            [
                200 * MS,
                400 * MS,
                800 * MS,
                1000 * MS,
                1000 * MS,
                1000 * MS
            ]
        );
        // Full jitter: over many draws the pauses fill the whole range below the ceiling.
        let mut backoff = Backoff::with_rng(fastrand::Rng::with_seed(7));
        backoff.pauses = 10;
        let pauses: Vec<Duration> = (0..1000).map(|_| backoff.next_pause()).collect();
        assert!(pauses.iter().all(|pause| *pause < BACKOFF_CAP));
        assert!(pauses.iter().any(|pause| *pause < 100 * MS), "short ones");
        assert!(pauses.iter().any(|pause| *pause > 900 * MS), "long ones");
    }

    #[test]
    fn reads_begun_at_the_same_moment_draw_different_pauses() {
        let draws = || {
            let mut backoff = Backoff::new();
            (0..8).map(|_| backoff.next_pause()).collect::<Vec<_>>()
        };
        assert_ne!(draws(), draws());
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_read_is_retried_until_it_is_served_within_the_budget() {
        let script = Script::new(
            vec![
                Err(throttled()),
                Err(throttled()),
                Err(throttled()),
                Ok("token"),
            ],
            10 * MS,
        );
        let (outcome, stats, start) = run(&script, READ_BUDGET, 1).await;
        assert_eq!(outcome, Ok("token"));
        assert_eq!(
            stats,
            ReadStats {
                attempts: 4,
                throttled: 3
            }
        );
        let began = script.began_after(start);
        for (n, pair) in began.windows(2).enumerate() {
            let gap = pair[1] - pair[0];
            let ceiling = BACKOFF_BASE * (1 << n) + 10 * MS;
            assert!(
                gap <= ceiling.min(BACKOFF_CAP + 10 * MS),
                "pause {n}: {gap:?} is above its ceiling: {began:?}"
            );
        }
        assert!(Instant::now() - start < READ_BUDGET);
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_throttled_throughout_gives_up_with_the_throttling_error_once_the_budget_is_spent()
     {
        for seed in 0..20 {
            let script = Script::new(Vec::new(), 10 * MS);
            let (outcome, stats, start) = run(&script, READ_BUDGET, seed).await;
            assert_eq!(outcome, Err(throttled().error), "seed {seed}");
            let began = script.began_after(start);
            let last = *began.last().expect("attempts");
            assert!(
                last <= READ_BUDGET - LAST_ATTEMPT,
                "seed {seed}: an attempt began {last:?} after the start, within the last {LAST_ATTEMPT:?}"
            );
            assert!(
                last >= READ_BUDGET - LAST_ATTEMPT - BACKOFF_CAP || stats.attempts == MAX_ATTEMPTS,
                "seed {seed}: gave up at {last:?}, more than one pause before the end of the budget"
            );
            assert!(
                stats.attempts >= 4,
                "seed {seed}: only {} attempts in {READ_BUDGET:?}",
                stats.attempts
            );
            assert_eq!(stats.attempts, stats.throttled, "seed {seed}");
            assert_eq!(stats.attempts as usize, began.len(), "seed {seed}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn however_long_the_budget_a_read_sends_at_most_twelve_requests() {
        let script = Script::new(Vec::new(), MS);
        let (outcome, stats, _) = run(&script, Duration::from_secs(600), 11).await;
        assert_eq!(outcome, Err(throttled().error));
        assert_eq!(stats.attempts, MAX_ATTEMPTS);
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_may_use_all_the_time_left_but_not_a_moment_more() {
        // An answer that would take 10 s: the attempt is cut at the deadline, not after a
        // fixed second, and a timed-out attempt at the deadline is not retried.
        let script = Script::new(vec![Ok("too late")], 10_000 * MS);
        let (outcome, stats, start) = run(&script, READ_BUDGET, 3).await;
        assert_eq!(Instant::now() - start, READ_BUDGET);
        assert_eq!(stats.attempts, 1);
        match outcome {
            Err(TokenError::Unavailable { cause, .. }) => {
                assert!(cause.contains("no answer within the 3.00 s"), "{cause}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn other_failures_get_one_retry_or_none() {
        // (replies, outcome, attempts, why)
        type Case = (
            Vec<Result<&'static str, Failure>>,
            Result<&'static str, TokenError>,
            u32,
            &'static str,
        );
        let cases: [Case; 4] = [
            (
                vec![Err(dropped()), Ok("token")],
                Ok("token"),
                2,
                "a dropped connection is retried once",
            ),
            (
                vec![Err(dropped()), Err(dropped()), Ok("token")],
                Err(dropped().error),
                2,
                "but not twice",
            ),
            (
                vec![Err(denied()), Ok("token")],
                Err(denied().error),
                1,
                "a denial is final",
            ),
            (
                vec![
                    Err(throttled()),
                    Err(dropped()),
                    Err(throttled()),
                    Ok("token"),
                ],
                Ok("token"),
                4,
                "throttling does not use up the retry of a transient failure",
            ),
        ];
        for (replies, expected, attempts, why) in cases {
            let script = Script::new(replies, 10 * MS);
            let (outcome, stats, _) = run(&script, READ_BUDGET, 5).await;
            assert_eq!(outcome, expected, "{why}");
            assert_eq!(stats.attempts, attempts, "{why}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_with_no_time_left_makes_no_request() {
        let script = Script::new(vec![Ok("token")], 10 * MS);
        let (outcome, stats, _) = run(&script, LAST_ATTEMPT - MS, 0).await;
        assert_eq!(stats.attempts, 0);
        match outcome {
            Err(TokenError::Unavailable { name, cause }) => {
                assert_eq!(name, "/p");
                assert_eq!(
                    cause,
                    "no time was left to read it before TaskRouter's deadline"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
