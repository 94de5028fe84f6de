//! One account's tokens for the life of the process: [`TokenStore`].
//!
//! A single-account deployment has one store; a many-account deployment has one per account
//! ([`super::accounts`]). Either way this is where a token is loaded, kept, re-read after a
//! signature mismatch and, after a failed read, where reads are spaced ([`RETRY_AFTER_FAILURE`]):
//! the rules of the parent module's table hold per store. Every read is given the [`Deadline`] of
//! the request that asked for it (the constructor's first read, the deadline of the callback the
//! cold start is for).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use super::accounts::Budget;
use super::ssm::{self, ReadStats, SsmParameters};
use super::{Deadline, RETRY_AFTER_FAILURE, TokenError, TokenSet, TokenSource};

/// The auth tokens for the life of the process: loaded once, re-read only after a signature
/// mismatch (rotation) or a failed load.
///
/// Shared by reference between requests; all methods take `&self` and are safe to call
/// concurrently. Concurrent callers that need a read share one.
pub struct TokenStore {
    origin: Origin,
    description: String,
    refresh_interval: Duration,
    /// Spent by every re-read after a mismatch, on top of `refresh_interval`: with many accounts
    /// the per-store interval alone would allow one re-read per account per interval. Present
    /// exactly when the store is one account of many.
    mismatch_budget: Option<Arc<Budget>>,
    /// Whether `slot` holds a set, readable without the lock.
    loaded: AtomicBool,
    /// The last good set, or why there is none yet. Once a set is loaded it is only ever replaced
    /// by a newer good set: a failed re-read keeps it.
    slot: RwLock<Slot>,
    /// Held for the duration of a read, so concurrent callers wait for its outcome instead of
    /// starting reads of their own.
    gate: Mutex<Gate>,
    reads: AtomicU64,
    /// Reads finished: a caller that saw this change while it waited for the gate takes the
    /// outcome of the read it waited for.
    finished: AtomicU64,
}

/// What can be read again.
enum Origin {
    /// Tokens given in the configuration: nothing to re-read.
    Fixed,
    /// SSM parameters.
    Ssm(SsmParameters),
    /// Replies handed out in order, for testing the caching rules without a network.
    #[cfg(test)]
    Scripted(tests::Script),
}

enum Slot {
    /// Nothing read yet (a store built lazily, for an account of a many-account deployment).
    Unloaded,
    Ready(Arc<TokenSet>),
    Failed(TokenError),
}

struct Gate {
    /// When the last read began and when it ended, successful or not.
    last_read: Option<(Instant, Instant)>,
}

impl Gate {
    /// Whether the last read ended less than `interval` ago.
    fn ended_within(&self, interval: Duration) -> bool {
        self.last_read
            .is_some_and(|(_, ended)| ended.elapsed() < interval)
    }

    /// Whether the last read began less than `interval` ago.
    fn began_within(&self, interval: Duration) -> bool {
        self.last_read
            .is_some_and(|(began, _)| began.elapsed() < interval)
    }
}

impl TokenStore {
    /// Builds the store. `Env`: ready at once, without touching AWS. `Parameter`: loads the AWS
    /// SDK configuration the standard way (`AWS_REGION`, credentials, and `AWS_ENDPOINT_URL` /
    /// `AWS_ENDPOINT_URL_SSM` when set), then tries the first read. A failed read is remembered,
    /// not fatal: [`TokenStore::tokens`] reports it and reads again later.
    ///
    /// `refresh_interval` bounds how often [`TokenStore::refresh_after_mismatch`] reads SSM;
    /// the first read ends by `first_read` (the deadline of the callback the cold start is for).
    pub async fn new(
        source: TokenSource,
        refresh_interval: Duration,
        first_read: Deadline,
    ) -> TokenStore {
        Self::from_source(source, refresh_interval, None, first_read).await
    }

    /// As [`TokenStore::new`], with an SDK configuration built by the caller (an endpoint,
    /// region or credentials of its choosing). The SSM client's timeouts and retries are set here
    /// whatever `sdk_config` says, so a read always fits TaskRouter's deadline. `sdk_config` is
    /// ignored for an `Env` source.
    pub async fn with_sdk_config(
        source: TokenSource,
        refresh_interval: Duration,
        sdk_config: &SdkConfig,
        first_read: Deadline,
    ) -> TokenStore {
        Self::from_source(source, refresh_interval, Some(sdk_config), first_read).await
    }

    /// [`TokenStore::new`] when `sdk_config` is `None`, else [`TokenStore::with_sdk_config`].
    async fn from_source(
        source: TokenSource,
        refresh_interval: Duration,
        sdk_config: Option<&SdkConfig>,
        first_read: Deadline,
    ) -> TokenStore {
        let description = source.to_string();
        match source {
            TokenSource::Env { primary, secondary } => {
                let set = Arc::new(TokenSet::new(primary, secondary));
                Self::with_slot(
                    Origin::Fixed,
                    description,
                    refresh_interval,
                    None,
                    Slot::Ready(set),
                )
            }
            TokenSource::Parameter { name, secondary } => {
                let client = match sdk_config {
                    Some(sdk_config) => ssm::client(sdk_config),
                    // Loaded only here: the env source must not pay for AWS configuration at
                    // cold start.
                    None => {
                        ssm::client(&aws_config::defaults(BehaviorVersion::latest()).load().await)
                    }
                };
                let parameters = SsmParameters::new(client, name, secondary);
                Self::loading(
                    Origin::Ssm(parameters),
                    description,
                    refresh_interval,
                    first_read,
                )
                .await
            }
        }
    }

    /// A store of SSM `parameters` that reads nothing until it is first asked: one account of a
    /// many-account deployment. Its re-reads after a mismatch also spend from `mismatch_budget`.
    pub(crate) fn lazy(
        parameters: SsmParameters,
        description: String,
        refresh_interval: Duration,
        mismatch_budget: Arc<Budget>,
    ) -> TokenStore {
        Self::with_slot(
            Origin::Ssm(parameters),
            description,
            refresh_interval,
            Some(mismatch_budget),
            Slot::Unloaded,
        )
    }

    /// A store holding `slot`, nothing read yet. A store with a `mismatch_budget` is one account
    /// of many.
    fn with_slot(
        origin: Origin,
        description: String,
        refresh_interval: Duration,
        mismatch_budget: Option<Arc<Budget>>,
        slot: Slot,
    ) -> TokenStore {
        TokenStore {
            origin,
            description,
            refresh_interval,
            mismatch_budget,
            loaded: AtomicBool::new(matches!(slot, Slot::Ready(_))),
            slot: RwLock::new(slot),
            gate: Mutex::new(Gate { last_read: None }),
            reads: AtomicU64::new(0),
            finished: AtomicU64::new(0),
        }
    }

    /// A store over `origin` after its first read, successful or not.
    async fn loading(
        origin: Origin,
        description: String,
        refresh_interval: Duration,
        deadline: Deadline,
    ) -> Self {
        let store = Self::with_slot(origin, description, refresh_interval, None, Slot::Unloaded);
        {
            // Nobody else holds the store yet: the gate is free.
            let mut gate = store.gate.lock().await;
            let began = Instant::now();
            let (outcome, stats) = store.read(&mut gate, deadline).await;
            log_load(&store.description, &outcome, stats, began.elapsed());
            // The first read's failure is kept like any other: the error is in the slot.
            let _ = store.settle(outcome).await;
        }
        store
    }

    /// The current tokens, read by `deadline` if they have to be read.
    ///
    /// # Errors
    ///
    /// The reason no token has been loaded yet. After a failure the source is read again on the
    /// first call at least [`RETRY_AFTER_FAILURE`] after the failed read began; calls in between
    /// get the same error at once, as do calls that waited for a read under way, and calls whose
    /// deadline leaves no time for a read. A store built lazily reads on its first call.
    pub async fn tokens(&self, deadline: Deadline) -> Result<Arc<TokenSet>, TokenError> {
        if let Some(set) = self.ready().await {
            return Ok(set);
        }
        let seen = self.finished.load(Ordering::Acquire);
        let Some(mut gate) = self.gate(deadline).await else {
            return Err(self.failure_while_waiting().await);
        };
        self.load_unless_recently_failed(&mut gate, deadline, seen)
            .await
    }

    /// Reads the source again after a signature matched none of the current tokens, in case the
    /// token was rotated. Returns the new set when the read succeeded and found tokens different
    /// from those held; `None` when there is nothing new to try: the source was read less than
    /// the refresh interval ago, `deadline` leaves no time for a read, the shared budget of a
    /// many-account deployment is spent, the read failed (the tokens held are kept), the tokens
    /// are unchanged, or the source is `Env`.
    ///
    /// Callers that arrive while another caller's read is under way wait for it and get its
    /// result instead of reading again. The read ends by `deadline`.
    pub async fn refresh_after_mismatch(&self, deadline: Deadline) -> Option<Arc<TokenSet>> {
        if matches!(self.origin, Origin::Fixed) {
            return None;
        }
        let seen_reads = self.finished.load(Ordering::Acquire);
        let seen = self.ready().await;
        let mut gate = self.gate(deadline).await?;
        let Some(seen) = seen else {
            // Nothing was loaded, so there was nothing to mismatch: load as `tokens()` would.
            return self
                .load_unless_recently_failed(&mut gate, deadline, seen_reads)
                .await
                .ok();
        };
        // Once a set is loaded the slot only ever holds a set.
        let held = self.ready().await?;
        if !Arc::ptr_eq(&seen, &held) {
            // Another caller's read replaced the set while this one waited for the gate.
            return Some(held);
        }
        if gate.ended_within(self.refresh_interval) || !deadline.leaves_time_for_an_attempt() {
            return None;
        }
        if let Some(budget) = &self.mismatch_budget
            && !budget.try_take()
        {
            tracing::debug!(source = %self.description, "auth token not re-read: the look-up budget is spent");
            return None;
        }
        let (outcome, _) = self.read(&mut gate, deadline).await;
        match outcome {
            Ok(fresh) if fresh.same_tokens(&held) => {
                tracing::info!(source = %self.description, "auth token re-read: unchanged");
                None
            }
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                self.store(&fresh).await;
                tracing::info!(
                    source = %self.description,
                    secondary = fresh.secondary().is_some(),
                    "auth token re-read: replaced"
                );
                Some(fresh)
            }
            Err(error) => {
                tracing::warn!(
                    source = %self.description,
                    %error,
                    "auth token re-read failed; keeping the tokens already loaded"
                );
                None
            }
        }
    }

    /// Where the tokens come from, for logs: e.g. `env TWILIO_AUTH_TOKEN` or
    /// `ssm parameter /taskrouter/auth-token`. Never a token.
    pub fn describe_source(&self) -> String {
        self.description.clone()
    }

    /// How many times the source has been read since the store was built, the first load
    /// included (each read is one request for the primary and any secondary together, or one each
    /// when they are read separately, and more when SSM throttles it). Always `0` for `Env`.
    /// For metrics and tests.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Whether a set of tokens has been loaded (and so is held until the process ends).
    pub(crate) fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// Replaces the held set (only ever by a good one).
    async fn store(&self, set: &Arc<TokenSet>) {
        *self.slot.write().await = Slot::Ready(Arc::clone(set));
        self.loaded.store(true, Ordering::Release);
    }

    /// The loaded set, if any.
    async fn ready(&self) -> Option<Arc<TokenSet>> {
        match &*self.slot.read().await {
            Slot::Ready(set) => Some(Arc::clone(set)),
            Slot::Unloaded | Slot::Failed(_) => None,
        }
    }

    /// The gate, or `None` when `deadline` passed while another caller's read held it.
    async fn gate(&self, deadline: Deadline) -> Option<tokio::sync::MutexGuard<'_, Gate>> {
        tokio::time::timeout_at(deadline.instant(), self.gate.lock())
            .await
            .ok()
    }

    /// What a caller whose deadline passed while it waited for another caller's read is told.
    async fn failure_while_waiting(&self) -> TokenError {
        match &*self.slot.read().await {
            Slot::Failed(error) => error.clone(),
            Slot::Unloaded | Slot::Ready(_) => TokenError::Unavailable {
                name: self.origin.name().to_owned(),
                cause: "a read for another request was still under way at TaskRouter's deadline"
                    .to_owned(),
            },
        }
    }

    /// With the gate held: the loaded set; the outcome of a read that finished while this caller
    /// waited (`seen` is the count of finished reads it saw before); the last failure if the
    /// read that failed began recently or no time is left for another; or a new read.
    async fn load_unless_recently_failed(
        &self,
        gate: &mut Gate,
        deadline: Deadline,
        seen: u64,
    ) -> Result<Arc<TokenSet>, TokenError> {
        match &*self.slot.read().await {
            Slot::Ready(set) => return Ok(Arc::clone(set)),
            Slot::Failed(error)
                if self.finished.load(Ordering::Acquire) != seen
                    || gate.began_within(RETRY_AFTER_FAILURE)
                    || !deadline.leaves_time_for_an_attempt() =>
            {
                return Err(error.clone());
            }
            Slot::Unloaded if !deadline.leaves_time_for_an_attempt() => {
                // Nothing is read, and nothing is remembered: the next caller, with a deadline
                // of its own, reads.
                return Err(TokenError::Unavailable {
                    name: self.origin.name().to_owned(),
                    cause: ssm::NO_TIME_LEFT.to_owned(),
                });
            }
            Slot::Failed(_) | Slot::Unloaded => {}
        }
        let began = Instant::now();
        let (outcome, stats) = self.read(gate, deadline).await;
        // One account of many: a parameter that does not exist is that account's layer to report
        // (it knows what to tell the operator), so this store does not log it.
        let reported_elsewhere = self.mismatch_budget.is_some()
            && matches!(outcome, Err(TokenError::ParameterNotFound { .. }));
        if !reported_elsewhere {
            log_load(&self.description, &outcome, stats, began.elapsed());
        }
        self.settle(outcome).await
    }

    /// Keeps the outcome of a load: a set replaces what the slot held, a failure is remembered
    /// (a loaded set is never replaced by a failure: only a load of an unloaded or failed store
    /// gets here).
    async fn settle(
        &self,
        outcome: Result<TokenSet, TokenError>,
    ) -> Result<Arc<TokenSet>, TokenError> {
        match outcome {
            Ok(set) => {
                let set = Arc::new(set);
                self.store(&set).await;
                Ok(set)
            }
            Err(error) => {
                *self.slot.write().await = Slot::Failed(error.clone());
                Err(error)
            }
        }
    }

    /// Reads the source once by `deadline`, counting the read and recording when it began and
    /// ended.
    async fn read(
        &self,
        gate: &mut Gate,
        deadline: Deadline,
    ) -> (Result<TokenSet, TokenError>, ReadStats) {
        let began = Instant::now();
        self.reads.fetch_add(1, Ordering::Relaxed);
        let (outcome, stats) = self.origin.read(deadline).await;
        gate.last_read = Some((began, Instant::now()));
        self.finished.fetch_add(1, Ordering::Release);
        (outcome, stats)
    }
}

/// Logs the outcome of a load (never the token), with what the read took: the requests it sent,
/// how many were throttled, and its duration.
fn log_load(
    description: &str,
    outcome: &Result<TokenSet, TokenError>,
    stats: ReadStats,
    took: Duration,
) {
    let read_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(set) => tracing::info!(
            source = description,
            secondary = set.secondary().is_some(),
            attempts = stats.attempts,
            throttled = stats.throttled,
            read_ms,
            "auth token loaded"
        ),
        Err(error) => tracing::warn!(
            source = description,
            %error,
            attempts = stats.attempts,
            throttled = stats.throttled,
            read_ms,
            "auth token not loaded"
        ),
    }
}

impl Origin {
    /// The parameter read, for errors.
    fn name(&self) -> &str {
        match self {
            Self::Fixed => "(none)",
            Self::Ssm(parameters) => parameters.name(),
            #[cfg(test)]
            Self::Scripted(_) => "scripted",
        }
    }

    async fn read(&self, deadline: Deadline) -> (Result<TokenSet, TokenError>, ReadStats) {
        match self {
            // Never asked: a fixed store's slot always holds its set and it is never refreshed.
            Self::Fixed => (
                Err(TokenError::Unavailable {
                    name: "(none)".to_owned(),
                    cause: "tokens given in the configuration cannot be re-read".to_owned(),
                }),
                ReadStats::default(),
            ),
            Self::Ssm(parameters) => parameters.read(deadline).await,
            #[cfg(test)]
            Self::Scripted(script) => script.next(deadline).await,
        }
    }
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("source", &self.description)
            .field("refresh_interval", &self.refresh_interval)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::num::NonZeroU32;

    use super::super::accounts::ManualClock;
    use super::super::{AuthToken, DEFAULT_REFRESH_INTERVAL, READ_BUDGET};
    use super::*;

    /// Replies for [`Origin::Scripted`], each after `delay` so concurrent callers overlap.
    pub(super) struct Script {
        replies: std::sync::Mutex<VecDeque<Result<TokenSet, TokenError>>>,
        delay: Duration,
    }

    impl Script {
        pub(super) async fn next(
            &self,
            _deadline: Deadline,
        ) -> (Result<TokenSet, TokenError>, ReadStats) {
            tokio::time::sleep(self.delay).await;
            let reply = self
                .replies
                .lock()
                .expect("the script's lock is never poisoned")
                .pop_front()
                .expect("the script has a reply for every read the test expects");
            let stats = ReadStats {
                attempts: 1,
                throttled: 0,
            };
            (reply, stats)
        }
    }

    fn token(value: &str) -> AuthToken {
        AuthToken::new(value.to_owned()).expect("a test token is not empty")
    }

    fn set(primary: &str, secondary: Option<&str>) -> TokenSet {
        TokenSet::new(token(primary), secondary.map(token))
    }

    fn unreachable() -> TokenError {
        TokenError::Unavailable {
            name: "/taskrouter/auth-token".to_owned(),
            cause: "dispatch failure".to_owned(),
        }
    }

    fn script_taking(delay: Duration, replies: Vec<Result<TokenSet, TokenError>>) -> Origin {
        Origin::Scripted(Script {
            replies: std::sync::Mutex::new(replies.into()),
            delay,
        })
    }

    fn script(replies: Vec<Result<TokenSet, TokenError>>) -> Origin {
        script_taking(Duration::from_millis(50), replies)
    }

    /// A deadline a request arriving now would have.
    fn deadline() -> Deadline {
        Deadline::at(Instant::now() + READ_BUDGET)
    }

    async fn scripted(
        replies: Vec<Result<TokenSet, TokenError>>,
        refresh_interval: Duration,
    ) -> TokenStore {
        TokenStore::loading(
            script(replies),
            "scripted".to_owned(),
            refresh_interval,
            deadline(),
        )
        .await
    }

    /// One account's store of a many-account deployment over `origin`, nothing read yet, whose
    /// re-reads after a mismatch share a budget of one look-up.
    fn one_of_many(origin: Origin, refresh_interval: Duration) -> TokenStore {
        TokenStore::with_slot(
            origin,
            "scripted".to_owned(),
            refresh_interval,
            Some(Arc::new(Budget::new(
                NonZeroU32::MIN,
                Arc::new(ManualClock::new()),
            ))),
            Slot::Unloaded,
        )
    }

    const HOUR: Duration = Duration::from_secs(3600);

    fn keys(set: &TokenSet) -> Vec<String> {
        set.as_keys()
            .into_iter()
            .map(|key| String::from_utf8_lossy(key).into_owned())
            .collect()
    }

    #[tokio::test]
    async fn debug_of_a_store_hides_the_token() {
        let source = TokenSource::env("s3cret-primary".to_owned(), Some("s3cret-next".to_owned()))
            .expect("valid tokens");
        let store = TokenStore::new(source, DEFAULT_REFRESH_INTERVAL, deadline()).await;
        let printed = format!("{store:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
    }

    #[tokio::test]
    async fn an_env_source_is_ready_at_once_and_never_re_read() {
        let source = TokenSource::env("abc".to_owned(), Some("def".to_owned())).expect("valid");
        let store = TokenStore::new(source, Duration::ZERO, deadline()).await;
        let tokens = store
            .tokens(deadline())
            .await
            .expect("env tokens are always ready");
        assert_eq!(keys(&tokens), ["abc", "def"]);
        assert!(store.refresh_after_mismatch(deadline()).await.is_none());
        assert_eq!(store.reads(), 0);
        assert_eq!(
            store.describe_source(),
            "env TWILIO_AUTH_TOKEN and TWILIO_AUTH_TOKEN_SECONDARY"
        );
    }

    // Tokio's clock is paused in every test below: time moves only when every task waits on a
    // timer, straight to the next one, so the spacing of reads is exact and takes no real time.

    #[tokio::test(start_paused = true)]
    async fn a_failed_load_is_answered_from_memory_until_the_retry_spacing_has_passed() {
        let store = scripted(vec![Err(unreachable()), Ok(set("abc", None))], HOUR).await;
        assert_eq!(
            store.reads(),
            1,
            "the first load happens in the constructor"
        );

        assert_eq!(
            store.tokens(deadline()).await.expect_err("still failed"),
            unreachable()
        );
        assert_eq!(
            store.reads(),
            1,
            "within the spacing the failure is not re-read"
        );

        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
        let tokens = store
            .tokens(deadline())
            .await
            .expect("the second read succeeds");
        assert_eq!(keys(&tokens), ["abc"]);
        assert_eq!(store.reads(), 2);

        store
            .tokens(deadline())
            .await
            .expect("a loaded set is kept");
        assert_eq!(store.reads(), 2, "a loaded set is not read again");
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_that_failed_after_waiting_out_its_budget_is_followed_by_a_new_read_at_once() {
        // A read throttled until its deadline lasts longer than the spacing: the next caller,
        // with a deadline of its own, must not be refused for another second.
        let store = TokenStore::loading(
            script_taking(
                READ_BUDGET - Duration::from_millis(250),
                vec![Err(unreachable()), Ok(set("abc", None))],
            ),
            "scripted".to_owned(),
            HOUR,
            deadline(),
        )
        .await;
        let tokens = store
            .tokens(deadline())
            .await
            .expect("read again at once, and served");
        assert_eq!(keys(&tokens), ["abc"]);
        assert_eq!(store.reads(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_whose_deadline_leaves_no_time_gets_the_last_failure_without_a_read() {
        let store = scripted(vec![Err(unreachable()), Ok(set("abc", None))], HOUR).await;
        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
        // The callback a failed cold start was for: its deadline has passed with the init read.
        let passed = Deadline::at(Instant::now());
        assert_eq!(
            store.tokens(passed).await.expect_err("no time for a read"),
            unreachable()
        );
        assert_eq!(store.reads(), 1, "nothing was read");
        let tokens = store
            .tokens(deadline())
            .await
            .expect("the next callback, with time of its own, reads");
        assert_eq!(keys(&tokens), ["abc"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lazy_store_reads_nothing_until_asked_then_keeps_what_it_read() {
        let store = one_of_many(script(vec![Ok(set("abc", None))]), HOUR);
        assert_eq!(store.reads(), 0, "built without reading");
        assert!(!store.is_loaded());
        assert!(
            store
                .tokens(Deadline::at(Instant::now()))
                .await
                .is_err_and(|error| error.to_string().contains("no time was left")),
            "with no time left nothing is read"
        );
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("read on first use")),
            ["abc"]
        );
        assert!(store.is_loaded());
        store.tokens(deadline()).await.expect("kept");
        assert_eq!(store.reads(), 1, "read once");
    }

    #[tokio::test(start_paused = true)]
    async fn re_reads_after_a_mismatch_stop_when_the_shared_budget_is_spent() {
        let store = one_of_many(
            script(vec![Ok(set("old", None)), Ok(set("old", None))]),
            Duration::ZERO,
        );
        store
            .tokens(deadline())
            .await
            .expect("the first load is not charged");
        assert!(
            store.refresh_after_mismatch(deadline()).await.is_none(),
            "unchanged"
        );
        assert_eq!(store.reads(), 2, "the one look-up of the budget was spent");
        assert!(store.refresh_after_mismatch(deadline()).await.is_none());
        assert_eq!(
            store.reads(),
            2,
            "with the budget spent a mismatch reads nothing, whatever the interval"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_after_a_failure_share_one_read() {
        let store = scripted(vec![Err(unreachable()), Ok(set("abc", None))], HOUR).await;
        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
        let store = Arc::new(store);
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let store = Arc::clone(&store);
            callers.spawn(async move { store.tokens(deadline()).await });
        }
        for result in callers.join_all().await {
            let tokens = result.expect("every caller gets the one read's tokens");
            assert_eq!(keys(&tokens), ["abc"]);
        }
        assert_eq!(store.reads(), 2, "eight callers, one read");
    }

    #[tokio::test(start_paused = true)]
    async fn callers_that_waited_for_a_long_failed_read_take_its_failure_instead_of_reading_again()
    {
        let store = Arc::new(one_of_many(
            script_taking(
                Duration::from_secs(2),
                vec![Err(unreachable()), Ok(set("abc", None))],
            ),
            HOUR,
        ));
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let store = Arc::clone(&store);
            callers.spawn(async move { store.tokens(deadline()).await });
        }
        for result in callers.join_all().await {
            assert_eq!(result.expect_err("the one read failed"), unreachable());
        }
        assert_eq!(store.reads(), 1, "eight callers, one read");
    }

    #[tokio::test(start_paused = true)]
    async fn a_mismatch_within_the_refresh_interval_does_not_read_again() {
        let store = scripted(vec![Ok(set("abc", None))], HOUR).await;
        assert!(store.refresh_after_mismatch(deadline()).await.is_none());
        assert_eq!(store.reads(), 1, "only the first load");
    }

    #[tokio::test(start_paused = true)]
    async fn a_mismatch_past_the_refresh_interval_returns_only_a_changed_set() {
        let store = scripted(
            vec![
                Ok(set("old", None)),
                Ok(set("new", Some("old"))),
                Ok(set("new", Some("old"))),
            ],
            Duration::ZERO,
        )
        .await;
        let fresh = store
            .refresh_after_mismatch(deadline())
            .await
            .expect("a rotated token");
        assert_eq!(keys(&fresh), ["new", "old"]);
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("loaded")),
            ["new", "old"]
        );
        assert_eq!(store.reads(), 2);

        assert!(
            store.refresh_after_mismatch(deadline()).await.is_none(),
            "an unchanged set offers nothing new to try"
        );
        assert_eq!(store.reads(), 3, "but it was read");
    }

    #[tokio::test(start_paused = true)]
    async fn a_mismatch_with_no_time_left_reads_nothing_and_spends_nothing() {
        let store = one_of_many(
            script(vec![Ok(set("old", None)), Ok(set("new", None))]),
            Duration::ZERO,
        );
        store.tokens(deadline()).await.expect("loaded");
        assert!(
            store
                .refresh_after_mismatch(Deadline::at(Instant::now()))
                .await
                .is_none()
        );
        assert_eq!(store.reads(), 1, "nothing read");
        let fresh = store
            .refresh_after_mismatch(deadline())
            .await
            .expect("the budget's one re-read was kept for a request with time to use it");
        assert_eq!(keys(&fresh), ["new"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_re_read_keeps_the_tokens_already_loaded() {
        let store = scripted(
            vec![Ok(set("abc", None)), Err(unreachable())],
            Duration::ZERO,
        )
        .await;
        assert!(store.refresh_after_mismatch(deadline()).await.is_none());
        assert_eq!(store.reads(), 2, "the re-read was attempted");
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("kept")),
            ["abc"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_mismatches_share_one_re_read_and_all_get_its_tokens() {
        // A zero interval would let every caller read; only the waiting makes them share.
        let store = scripted(
            vec![Ok(set("old", None)), Ok(set("new", None))],
            Duration::ZERO,
        )
        .await;
        let store = Arc::new(store);
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let store = Arc::clone(&store);
            callers.spawn(async move { store.refresh_after_mismatch(deadline()).await });
        }
        for result in callers.join_all().await {
            let fresh = result.expect("every caller gets the re-read set");
            assert_eq!(keys(&fresh), ["new"]);
        }
        assert_eq!(store.reads(), 2, "eight callers, one re-read");
    }
}
