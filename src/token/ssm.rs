//! The one SSM read path: the primary and secondary parameters read with `WithDecryption=true`
//! (one `GetParameters` call for both, or one `GetParameter` for a primary alone), throttled
//! attempts retried with full-jitter backoff until the read's [`Deadline`], failures classified
//! into [`TokenError`]s.
//!
//! Every read of a token goes through here, whether the deployment serves one account or many:
//! [`client`] is the only place the SSM client is configured, and `SsmParameters::read` the only
//! place parameters are read. The parent module's table gives the figures and why this retries
//! by itself rather than through the SDK's retry policy.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_runtime::retries::classifiers::{THROTTLING_ERRORS, TRANSIENT_ERRORS};
use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{Parameter, ParameterType};
use tokio::time::Instant;

use super::{AuthToken, Deadline, TokenError, TokenSet};

/// Establishing the connection (TCP and TLS): an endpoint that does not accept a connection
/// within a second is not going to, and the attempt is retried once on a new one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The ceiling of the first pause after a failed attempt; it doubles with every pause.
pub(crate) const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// The highest ceiling of a pause.
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(1);
/// No attempt begins with less of the budget left than this: an in-region SSM call takes tens of
/// milliseconds, and an attempt cut short by the deadline has spent a request for nothing.
pub(crate) const LAST_ATTEMPT: Duration = Duration::from_millis(250);
/// The most requests one read sends (per parameter, when they are read separately): a hard
/// bound on what one read can cost, whatever the jitter draws. Pauses drawn as below reach the
/// end of the budget after about 8 attempts on average; 12 cuts short about one read in a
/// hundred of those throttled all the way through, a few hundred milliseconds early.
pub(crate) const MAX_ATTEMPTS: u32 = 12;
/// Attempts, the first included, when a failure is not throttling (a refused or dropped
/// connection, a timeout, a 5xx): one retry rides out a blip; more would keep callbacks waiting
/// through an outage that retrying does not end.
pub(crate) const TRANSIENT_ATTEMPTS: u32 = 2;

/// An SSM client for `sdk_config` with this module's connect timeout and without the SDK's own
/// retries (the read path retries, see the module docs), whatever `sdk_config` says. Cheap to
/// clone: clones share the connection pool, so every account of a many-account deployment reads
/// through one.
pub fn client(sdk_config: &SdkConfig) -> aws_sdk_ssm::Client {
    let ssm_config = aws_sdk_ssm::config::Builder::from(sdk_config)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                // Each attempt is bounded by the read's deadline instead (`retrying`).
                .disable_operation_timeout()
                .disable_operation_attempt_timeout()
                .build(),
        )
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_ssm::Client::from_conf(ssm_config)
}

/// What one read did, for its log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReadStats {
    /// Requests sent to SSM.
    pub(crate) attempts: u32,
    /// Of those, the ones SSM answered with a throttling error.
    pub(crate) throttled: u32,
}

impl ReadStats {
    fn add(&mut self, other: ReadStats) {
        self.attempts += other.attempts;
        self.throttled += other.throttled;
    }
}

/// The SSM parameters of one account's tokens and the client that reads them.
pub(crate) struct SsmParameters {
    client: aws_sdk_ssm::Client,
    name: String,
    secondary: Option<String>,
}

impl SsmParameters {
    /// The primary parameter `name` and an optional `secondary`, read with `client` (see
    /// [`client`]).
    pub(crate) fn new(
        client: aws_sdk_ssm::Client,
        name: String,
        secondary: Option<String>,
    ) -> Self {
        Self {
            client,
            name,
            secondary,
        }
    }

    /// The primary parameter's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Reads the primary and the secondary (which may not exist), retrying as the module docs
    /// say until `deadline`: with one `GetParameters` call for both when their names allow it
    /// (see [`batchable`]), otherwise one `GetParameter` each, concurrently.
    pub(crate) async fn read(
        &self,
        deadline: Deadline,
    ) -> (Result<TokenSet, TokenError>, ReadStats) {
        match &self.secondary {
            None => {
                let mut stats = ReadStats::default();
                let primary = retrying(deadline, Backoff::new(), &mut stats, &self.name, || {
                    self.get(&self.name)
                })
                .await;
                (primary.map(|primary| TokenSet::new(primary, None)), stats)
            }
            Some(secondary) if batchable(&self.name, secondary) => {
                let mut stats = ReadStats::default();
                let both = retrying(deadline, Backoff::new(), &mut stats, &self.name, || {
                    self.get_both(secondary)
                })
                .await;
                let set = both.map(|(primary, secondary)| TokenSet::new(primary, secondary));
                (set, stats)
            }
            Some(secondary) => {
                let (mut primary_stats, mut secondary_stats) =
                    (ReadStats::default(), ReadStats::default());
                let (primary, secondary) = tokio::join!(
                    retrying(
                        deadline,
                        Backoff::new(),
                        &mut primary_stats,
                        &self.name,
                        || self.get(&self.name)
                    ),
                    retrying(
                        deadline,
                        Backoff::new(),
                        &mut secondary_stats,
                        secondary,
                        || self.get_if_present(secondary)
                    ),
                );
                primary_stats.add(secondary_stats);
                let set = primary.and_then(|primary| Ok(TokenSet::new(primary, secondary?)));
                (set, primary_stats)
            }
        }
    }

    /// One `GetParameter` of `name`.
    async fn get(&self, name: &str) -> Result<AuthToken, Failure> {
        let output = self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|error| Failure::classify(name, &error))?;
        let parameter = output.parameter.ok_or_else(|| Failure {
            error: TokenError::Unavailable {
                name: name.to_owned(),
                cause: "the answer held no parameter".to_owned(),
            },
            retry: Retry::No,
        })?;
        token(name, parameter).map_err(Failure::permanent)
    }

    /// One `GetParameter` of a secondary: one that does not exist just means no rotation is
    /// under way.
    async fn get_if_present(&self, name: &str) -> Result<Option<AuthToken>, Failure> {
        match self.get(name).await {
            Ok(token) => Ok(Some(token)),
            Err(Failure {
                error: TokenError::ParameterNotFound { .. },
                ..
            }) => Ok(None),
            Err(failure) => Err(failure),
        }
    }

    /// One `GetParameters` of the primary and `secondary`: one request, one of the 40 a second
    /// Parameter Store serves, where two `GetParameter`s would be two (contract §11). A name it
    /// cannot find comes back in `InvalidParameters` rather than as an error.
    async fn get_both(&self, secondary: &str) -> Result<(AuthToken, Option<AuthToken>), Failure> {
        let output = self
            .client
            .get_parameters()
            .names(&self.name)
            .names(secondary)
            .with_decryption(true)
            .send()
            .await
            .map_err(|error| Failure::classify(&self.name, &error))?;
        let invalid = output.invalid_parameters.unwrap_or_default();
        let missing = |name: &str| invalid.iter().any(|n| n == name);
        if missing(&self.name) {
            return Err(Failure::permanent(TokenError::ParameterNotFound {
                name: self.name.clone(),
            }));
        }
        let mut primary = None;
        let mut second = None;
        for parameter in output.parameters.unwrap_or_default() {
            match parameter.name() {
                Some(name) if name == self.name => {
                    primary = Some(token(&self.name, parameter).map_err(Failure::permanent)?);
                }
                Some(name) if name == secondary => {
                    second = Some(token(secondary, parameter).map_err(Failure::permanent)?);
                }
                other => {
                    return Err(Failure::permanent(TokenError::Unavailable {
                        name: self.name.clone(),
                        cause: format!(
                            "GetParameters answered with parameter `{}`, which was not asked for",
                            other.unwrap_or_default()
                        ),
                    }));
                }
            }
        }
        let absent = |name: &str| TokenError::Unavailable {
            name: name.to_owned(),
            cause: "GetParameters neither returned it nor listed it as invalid".to_owned(),
        };
        let primary = primary.ok_or_else(|| Failure::permanent(absent(&self.name)))?;
        match second {
            Some(second) => Ok((primary, Some(second))),
            None if missing(secondary) => Ok((primary, None)),
            None => Err(Failure::permanent(absent(secondary))),
        }
    }
}

/// Whether a primary and its secondary can be read with one `GetParameters`: two different,
/// plain parameter names. A version or label selector (`name:3`) or an ARN comes back in the
/// answer under the parameter's bare name, and a Secrets Manager reference
/// (`/aws/reference/secretsmanager/…`) under a name of Secrets Manager's choosing, so for those
/// the answers could not be told apart: they are read with one `GetParameter` each.
fn batchable(primary: &str, secondary: &str) -> bool {
    let plain = |name: &str| !name.contains(':') && !name.starts_with("/aws/reference/");
    primary != secondary && plain(primary) && plain(secondary)
}

/// The token in `parameter`, which answered for `name`.
fn token(name: &str, parameter: Parameter) -> Result<AuthToken, TokenError> {
    if parameter.r#type() != Some(&ParameterType::SecureString) {
        tracing::warn!(
            parameter = name,
            "ssm parameter is not a SecureString: store the auth token encrypted"
        );
    }
    // `from_origin` overwrites the SDK's string once the token is copied into its secret.
    AuthToken::from_origin(
        parameter.value.unwrap_or_default(),
        &format!("ssm parameter `{name}`"),
    )
}

/// Whether a failed attempt is worth another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// SSM is up and refusing for now (over its rate): wait and ask again, until the deadline.
    Throttled,
    /// A refused or dropped connection, a timeout, a 5xx: worth one more attempt.
    Transient,
    /// Asking again would get the same answer (not found, denied, not a token).
    No,
}

/// A failed attempt: the error it would end the read with, and whether to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) error: TokenError,
    pub(crate) retry: Retry,
}

impl Failure {
    /// A failure no retry can change.
    fn permanent(error: TokenError) -> Self {
        Self {
            error,
            retry: Retry::No,
        }
    }

    /// Turns an SDK failure into the variant that tells the operator what to fix, and decides
    /// whether it is worth retrying as the SDK's own standard retry policy would: the SDK's lists
    /// of throttling and transient error codes (`aws-runtime`), 5xx answers, timeouts and
    /// connection failures.
    fn classify<E>(name: &str, error: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let name = name.to_owned();
        let code = error.code();
        if code == Some("ParameterNotFound") {
            return Self::permanent(TokenError::ParameterNotFound { name });
        }
        let cause = DisplayErrorContext(error).to_string();
        // SSM has no modelled error for a missing permission; it arrives as an unmodelled code.
        if code == Some("AccessDeniedException") {
            return Self::permanent(TokenError::AccessDenied { name, cause });
        }
        let retry = match error {
            _ if code.is_some_and(|code| THROTTLING_ERRORS.contains(&code)) => Retry::Throttled,
            SdkError::ServiceError(service) if service.raw().status().as_u16() == 429 => {
                Retry::Throttled
            }
            _ if code.is_some_and(|code| TRANSIENT_ERRORS.contains(&code)) => Retry::Transient,
            SdkError::ServiceError(service) if service.raw().status().is_server_error() => {
                Retry::Transient
            }
            SdkError::TimeoutError(_) | SdkError::ResponseError(_) => Retry::Transient,
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
                Retry::Transient
            }
            _ => Retry::No,
        };
        Self {
            error: TokenError::Unavailable { name, cause },
            retry,
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

/// The cause of the error of a read that had no time for a single request.
pub(crate) const NO_TIME_LEFT: &str = "no time was left to read it before TaskRouter's deadline";

/// Runs `attempt` until it succeeds, fails for good, or the deadline leaves no room for another:
/// throttled attempts are retried for as long as the deadline allows (at most [`MAX_ATTEMPTS`]
/// in all), other transient failures up to [`TRANSIENT_ATTEMPTS`] attempts, and nothing else. Each attempt may take all the time
/// left; no attempt begins within [`LAST_ATTEMPT`] of the deadline, and a pause that would end
/// later than that ends then instead, for one last attempt. The error is the last attempt's, or,
/// when no attempt could begin, one saying so. `stats` counts the attempts.
pub(crate) async fn retrying<T, F, Fut>(
    deadline: Deadline,
    mut backoff: Backoff,
    stats: &mut ReadStats,
    name: &str,
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
            return Err(last.unwrap_or_else(|| TokenError::Unavailable {
                name: name.to_owned(),
                cause: NO_TIME_LEFT.to_owned(),
            }));
        }
        attempts += 1;
        stats.attempts += 1;
        let failure = match tokio::time::timeout_at(deadline.instant(), attempt()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(failure)) => failure,
            Err(_) => Failure {
                error: TokenError::Unavailable {
                    name: name.to_owned(),
                    cause: format!(
                        "no answer from ssm within the {:.2} s left before TaskRouter's deadline",
                        deadline
                            .instant()
                            .saturating_duration_since(now)
                            .as_secs_f64()
                    ),
                },
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

    fn throttled() -> Failure {
        Failure {
            error: TokenError::Unavailable {
                name: "/p".to_owned(),
                cause: "ThrottlingException: Rate exceeded".to_owned(),
            },
            retry: Retry::Throttled,
        }
    }

    fn dropped() -> Failure {
        Failure {
            error: TokenError::Unavailable {
                name: "/p".to_owned(),
                cause: "dispatch failure: connection reset".to_owned(),
            },
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
        let outcome = retrying(deadline, backoff, &mut stats, "/p", || {
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
                assert!(
                    cause.contains("no answer from ssm within the 3.00 s"),
                    "{cause}"
                )
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

    #[test]
    fn only_two_plain_distinct_names_are_read_with_one_get_parameters() {
        let cases = [
            (
                "/taskrouter/auth-token",
                "/taskrouter/auth-token-secondary",
                true,
                "the template's names",
            ),
            (
                "/t/accounts/AC01",
                "/t/accounts/secondary/AC01",
                true,
                "an account's names",
            ),
            ("/t/token", "/t/token", false, "the same name twice"),
            ("/t/token", "/t/token:3", false, "a version selector"),
            ("/t/token:current", "/t/other", false, "a label selector"),
            (
                "arn:aws:ssm:us-east-1:123456789012:parameter/t/token",
                "/t/other",
                false,
                "an ARN",
            ),
            (
                "/aws/reference/secretsmanager/token",
                "/t/other",
                false,
                "a Secrets Manager reference",
            ),
        ];
        for (primary, secondary, expected, why) in cases {
            assert_eq!(batchable(primary, secondary), expected, "{why}");
        }
    }
}
