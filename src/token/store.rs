//! One account's tokens for the life of the process: [`TokenStore`].
//!
//! A single-account deployment has one store; a many-account deployment has one per account
//! ([`super::accounts`]). Either way this is where a token is loaded, kept, re-read as it ages
//! and after a signature mismatch, dropped when its source says it is gone and, after a failed
//! read, where reads are spaced ([`RETRY_AFTER_FAILURE`]): the rules of the parent module's table
//! hold per store, and the same whatever the source (SSM parameters or a Secrets Manager secret:
//! the store reads through `Origin`, and nothing else in it knows which). Every read is given the [`Deadline`] of the request that asked for it (the
//! constructor's first read, the deadline of the callback the cold start is for).
//!
//! # Age
//!
//! A set of tokens is as good as the read that found it: a token removed from its source since
//! (the secondary deleted at the end of a rotation, a leaked primary overwritten, an account's
//! parameter or secret deleted) would keep verifying for the life of the instance, since the callbacks
//! Twilio signs with the remaining token never mismatch. So a held set has an age, counted from
//! the start of the last read that found it, and with `I` the refresh interval:
//!
//! | a callback finds the set | what happens |
//! |---|---|
//! | younger than `I / 2` | served as held |
//! | `I / 2` old or more, younger than `I` | served as held, and re-read on a task of its own ("in the background"): the callback does not wait for it |
//! | `I` old or more | the callback waits for a re-read (or the one under way), within its own deadline: the set may hold a revoked token, and only a read can tell |
//!
//! So the callbacks of an instance that answers one at least every `I / 2` never wait for a
//! re-read, and an instance idle for longer than `I` reads before its next callback, once, as a
//! cold start would. Lambda freezes an instance between requests, so on a quiet instance the
//! read in the background may only resume with the next request, past its deadline: a read in
//! the background that gets no answer changes nothing but its own spacing and is not reported as
//! a failure, and the read a callback then needs is not held back by it.
//!
//! Re-reads are spaced per store: those a callback waits for (the age, a mismatch) begin at least
//! `I / 2` apart, and so do those in the background; a successful one counts for both. So while
//! the source answers them, any two re-reads begin at least `I / 2` apart, at most two per
//! interval; while it does not, at most four (two of each kind).
//!
//! What a re-read finds:
//!
//! | outcome | the store then holds |
//! |---|---|
//! | the same tokens | them, their age counted from this read |
//! | other tokens (a rotation, a secondary added or removed) | the new set |
//! | no token: the parameter or secret does not exist, the role may not read it, its value is not a token ([`TokenError::means_no_token`]) | nothing: callbacks are refused as at a cold start with that answer, and the source is read again as after a failed load |
//! | no answer: throttled until its deadline, the service unreachable | the set it held, its age unchanged: an outage does not take tokens away; the next re-read of the same kind begins `I / 2` after this one did (after one a callback waited for, no read in the background begins before then either) |
//!
//! So a token removed from its source stops verifying within `I` of its removal, whenever the
//! source answers.
//!
//! A set from Secrets Manager may also hold the token rotated out, until an instant
//! ([`TokenSet::with_previous`]): from that instant the store hands out the set without it, its
//! age unchanged and nothing read, so the grace ends on time whatever the refresh interval.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use super::retry::{self, ReadStats};
use super::secrets::{self, SecretVersions};
use super::ssm::{self, SsmParameters};
use super::{Deadline, RETRY_AFTER_FAILURE, TokenError, TokenSet, TokenSource};

/// The auth tokens for the life of the process: loaded once, re-read as they age (see the
/// module docs), after a signature mismatch (a rotation) and after a failed load.
///
/// Built in an [`Arc`] (a re-read in the background runs on a task that holds the store) and
/// shared by reference between requests; all methods take `&self` and are safe to call
/// concurrently. Concurrent callers that need a read share one.
pub struct TokenStore {
    origin: Origin,
    description: String,
    refresh_interval: Duration,
    /// Whether the store is one account of many, whose layer reports a parameter that does not
    /// exist (it knows what to tell the operator).
    one_of_many: bool,
    /// The store itself, for the task of a re-read in the background.
    this: Weak<TokenStore>,
    /// Whether `slot` holds a set, readable without the lock.
    loaded: AtomicBool,
    /// The set held, or why there is none. Written only with `gate` held.
    slot: RwLock<Slot>,
    /// Held for the duration of a read, so concurrent callers wait for its outcome instead of
    /// starting reads of their own.
    gate: Mutex<Gate>,
    /// Whether a re-read in the background has been started and has not ended: one at a time.
    refreshing: AtomicBool,
    reads: AtomicU64,
    /// Reads finished: a caller that saw this change while it waited for the gate takes the
    /// outcome of the read it waited for.
    finished: AtomicU64,
}

/// Where a store reads its tokens: the one thing that differs between sources. Every rule of the
/// store (age, mismatches, spacing, failing closed) is the same whatever reads.
pub(crate) enum Origin {
    /// Tokens given in the configuration: nothing to re-read, and they never age.
    Fixed,
    /// SSM parameters: a primary and a secondary ([`ssm`]).
    Ssm(SsmParameters),
    /// A Secrets Manager secret's staged versions ([`secrets`]).
    Secret(SecretVersions),
    /// Replies handed out in order, for testing the caching rules without a network.
    #[cfg(test)]
    Scripted(tests::Script),
}

enum Slot {
    /// Nothing read yet (a store built lazily, for an account of a many-account deployment).
    Unloaded,
    Ready(Held),
    Failed(TokenError),
}

/// A set of tokens held, with what its age is counted from and when it may be read again.
#[derive(Clone)]
struct Held {
    set: Arc<TokenSet>,
    /// When the last read that found `set` in the source began: the source held it then.
    confirmed: Instant,
    /// No re-read a callback waits for (the set as old as the interval, a mismatch) begins
    /// before this: half the refresh interval after the last such read, or the last successful
    /// one, began.
    next_read: Instant,
    /// No re-read in the background begins before this: half the refresh interval after the
    /// last read of any kind began.
    next_background: Instant,
}

impl Held {
    /// `set`, just found by a read that began at `began`.
    fn found(set: Arc<TokenSet>, began: Instant, refresh_interval: Duration) -> Self {
        let next = began + refresh_interval / 2;
        Self {
            set,
            confirmed: began,
            next_read: next,
            next_background: next,
        }
    }
}

struct Gate {
    /// When the last read began and when it ended, successful or not.
    last_read: Option<(Instant, Instant)>,
}

impl Gate {
    /// Whether the last read began less than `interval` ago.
    fn began_within(&self, interval: Duration) -> bool {
        self.last_read
            .is_some_and(|(began, _)| began.elapsed() < interval)
    }
}

/// What a re-read of a held set left the store holding.
enum ReRead {
    /// A set: the one held before (found again, or kept because the source did not answer) or a new
    /// one.
    Held {
        set: Arc<TokenSet>,
        /// Whether it differs from the set held before.
        replaced: bool,
    },
    /// Nothing: the source answered that there is no token.
    Dropped(TokenError),
}

/// What asked for a re-read, for its log line and its spacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// A set half as old as the refresh interval: nobody waits for the read.
    Background,
    /// A set as old as the refresh interval: the callback waits for the read.
    Age,
    /// A signature that matched none of the tokens held: the callback waits for the read.
    Mismatch,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Background => "background",
            Self::Age => "age",
            Self::Mismatch => "mismatch",
        }
    }
}

impl TokenStore {
    /// Builds the store. `Env`: ready at once, without touching AWS. `Parameter` and `Secret`:
    /// loads the AWS SDK configuration the standard way (`AWS_REGION`, credentials, and
    /// `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL_SECRETS_MANAGER` when set),
    /// builds the client of that service alone, then tries the first read. A failed read is remembered,
    /// not fatal: [`TokenStore::tokens`] reports it and reads again later.
    ///
    /// `refresh_interval` is how old the tokens held may get (see the module docs); the first
    /// read ends by `first_read` (the deadline of the callback the cold start is for).
    pub async fn new(
        source: TokenSource,
        refresh_interval: Duration,
        first_read: Deadline,
    ) -> Arc<TokenStore> {
        Self::from_source(source, refresh_interval, None, first_read).await
    }

    /// As [`TokenStore::new`], with an SDK configuration built by the caller (an endpoint,
    /// region or credentials of its choosing). The client's timeouts and retries are set here
    /// whatever `sdk_config` says, so a read always fits TaskRouter's deadline. `sdk_config` is
    /// ignored for an `Env` source.
    pub async fn with_sdk_config(
        source: TokenSource,
        refresh_interval: Duration,
        sdk_config: &SdkConfig,
        first_read: Deadline,
    ) -> Arc<TokenStore> {
        Self::from_source(source, refresh_interval, Some(sdk_config), first_read).await
    }

    /// [`TokenStore::new`] when `sdk_config` is `None`, else [`TokenStore::with_sdk_config`].
    async fn from_source(
        source: TokenSource,
        refresh_interval: Duration,
        sdk_config: Option<&SdkConfig>,
        first_read: Deadline,
    ) -> Arc<TokenStore> {
        let description = source.to_string();
        match source {
            TokenSource::Env { primary, secondary } => {
                let set = Arc::new(TokenSet::new(primary, secondary));
                let held = Held::found(set, Instant::now(), refresh_interval);
                Self::with_slot(
                    Origin::Fixed,
                    description,
                    refresh_interval,
                    false,
                    Slot::Ready(held),
                )
            }
            TokenSource::Parameter { name, secondary } => {
                // The AWS configuration is loaded only for a source that reads AWS: the env
                // source must not pay for it at cold start.
                let sdk_config = loaded(sdk_config).await;
                let parameters = SsmParameters::new(ssm::client(&sdk_config), name, secondary);
                Self::loading(
                    Origin::Ssm(parameters),
                    description,
                    refresh_interval,
                    first_read,
                )
                .await
            }
            TokenSource::Secret { id, grace } => {
                // The only place a single-account deployment builds a Secrets Manager client.
                let sdk_config = loaded(sdk_config).await;
                let secret = SecretVersions::new(secrets::client(&sdk_config), id, None, grace);
                Self::loading(
                    Origin::Secret(secret),
                    description,
                    refresh_interval,
                    first_read,
                )
                .await
            }
        }
    }

    /// A store of `origin` that reads nothing until it is first asked: one account of a
    /// many-account deployment.
    pub(crate) fn lazy(
        origin: Origin,
        description: String,
        refresh_interval: Duration,
    ) -> Arc<TokenStore> {
        Self::with_slot(origin, description, refresh_interval, true, Slot::Unloaded)
    }

    /// A store holding `slot`, nothing read yet.
    fn with_slot(
        origin: Origin,
        description: String,
        refresh_interval: Duration,
        one_of_many: bool,
        slot: Slot,
    ) -> Arc<TokenStore> {
        Arc::new_cyclic(|this| TokenStore {
            origin,
            description,
            refresh_interval,
            one_of_many,
            this: this.clone(),
            loaded: AtomicBool::new(matches!(slot, Slot::Ready(_))),
            slot: RwLock::new(slot),
            gate: Mutex::new(Gate { last_read: None }),
            refreshing: AtomicBool::new(false),
            reads: AtomicU64::new(0),
            finished: AtomicU64::new(0),
        })
    }

    /// A store over `origin` after its first read, successful or not.
    async fn loading(
        origin: Origin,
        description: String,
        refresh_interval: Duration,
        deadline: Deadline,
    ) -> Arc<Self> {
        let store = Self::with_slot(origin, description, refresh_interval, false, Slot::Unloaded);
        {
            // Nobody else holds the store yet: the gate is free.
            let mut gate = store.gate.lock().await;
            let (began, outcome, stats) = store.read(&mut gate, deadline).await;
            log_load(&store.description, &outcome, stats, began.elapsed());
            // The first read's failure is kept like any other: the error is in the slot.
            let _ = store.settle(began, outcome).await;
        }
        store
    }

    /// The current tokens, read by `deadline` if they have to be read: when none are held yet,
    /// or when those held are as old as the refresh interval (see the module docs; a set half
    /// that old is served, and re-read without waiting).
    ///
    /// # Errors
    ///
    /// The reason no token is held. After a failure the source is read again on the first call
    /// at least [`RETRY_AFTER_FAILURE`] after the failed read began; calls in between get the
    /// same error at once, as do calls that waited for a read under way, and calls whose
    /// deadline leaves no time for a read. A store built lazily reads on its first call. A set
    /// held is given up only when a re-read finds no token ([`TokenError::means_no_token`]),
    /// whose error this then is.
    pub async fn tokens(&self, deadline: Deadline) -> Result<Arc<TokenSet>, TokenError> {
        if let Some(held) = self.held().await {
            return self.young(held, deadline).await;
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
    /// from those held; `None` when there is nothing new to try: the last successful read, or
    /// the last read a callback waited for, began less than half the refresh interval ago (see
    /// the module docs), `deadline` leaves no time for a read, the read found the
    /// same tokens, found none (they are dropped: see [`TokenStore::tokens`]) or failed (the
    /// tokens held are kept), or the source is `Env`.
    ///
    /// Callers that arrive while another read is under way (another caller's, or one in the
    /// background) wait for it and get its result instead of reading again. The read ends by
    /// `deadline`.
    pub async fn refresh_after_mismatch(&self, deadline: Deadline) -> Option<Arc<TokenSet>> {
        if matches!(self.origin, Origin::Fixed) {
            return None;
        }
        let seen_reads = self.finished.load(Ordering::Acquire);
        let seen = self.held().await;
        let mut gate = self.gate(deadline).await?;
        let Some(seen) = seen else {
            // Nothing was loaded, so there was nothing to mismatch: load as `tokens()` would.
            return self
                .load_unless_recently_failed(&mut gate, deadline, seen_reads)
                .await
                .ok();
        };
        // A read while this caller waited may have dropped the set: nothing to try then.
        let held = self.held().await?;
        if !Arc::ptr_eq(&seen.set, &held.set) {
            // Another read replaced the set while this caller waited for the gate.
            return Some(held.set);
        }
        if Instant::now() < held.next_read || !deadline.leaves_time_for_an_attempt() {
            return None;
        }
        match self
            .re_read(&mut gate, deadline, held, Trigger::Mismatch)
            .await
        {
            ReRead::Held {
                set,
                replaced: true,
            } => Some(set),
            ReRead::Held { .. } | ReRead::Dropped(_) => None,
        }
    }

    /// Where the tokens come from, for logs: e.g. `env TWILIO_AUTH_TOKEN` or
    /// `ssm parameter /taskrouter/auth-token`. Never a token.
    pub fn describe_source(&self) -> String {
        self.description.clone()
    }

    /// How many times the source has been read since the store was built, the first load and
    /// re-reads included (each read is one request for the primary and any secondary together,
    /// or one each when they are read separately, and more when SSM throttles it). Always `0`
    /// for `Env`. For metrics and tests.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Whether a set of tokens is held.
    pub(crate) fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// The held set, if any, without a previous token whose grace is over (see
    /// [`TokenSet::with_previous`]): the slot then holds the set without it, its age unchanged.
    async fn held(&self) -> Option<Held> {
        let held = match &*self.slot.read().await {
            Slot::Ready(held) => held.clone(),
            Slot::Unloaded | Slot::Failed(_) => return None,
        };
        let Some(trimmed) = held.set.without_expired(Instant::now()) else {
            return Some(held);
        };
        let trimmed = Held {
            set: Arc::new(trimmed),
            ..held.clone()
        };
        let mut slot = self.slot.write().await;
        match &*slot {
            // Unless a read replaced the set meanwhile: then it is the read's to say.
            Slot::Ready(now) if Arc::ptr_eq(&now.set, &held.set) => {
                *slot = Slot::Ready(trimmed.clone());
                tracing::info!(
                    source = self.description.as_str(),
                    "the grace of the token rotated out is over: it no longer verifies"
                );
                Some(trimmed)
            }
            Slot::Ready(now) => Some(now.clone()),
            Slot::Unloaded | Slot::Failed(_) => None,
        }
    }

    /// Replaces what the slot holds (with the gate held).
    async fn put(&self, slot: Slot) {
        let loaded = matches!(slot, Slot::Ready(_));
        *self.slot.write().await = slot;
        self.loaded.store(loaded, Ordering::Release);
    }

    /// `held`'s set if it is younger than the refresh interval, starting a re-read in the
    /// background when it is half that old; otherwise what a re-read leaves (see the module
    /// docs).
    async fn young(&self, held: Held, deadline: Deadline) -> Result<Arc<TokenSet>, TokenError> {
        if matches!(self.origin, Origin::Fixed) {
            return Ok(held.set);
        }
        let now = Instant::now();
        if now.saturating_duration_since(held.confirmed) < self.refresh_interval {
            if now >= held.next_background {
                self.re_read_in_background(deadline);
            }
            return Ok(held.set);
        }
        self.re_read_expired(deadline).await
    }

    /// Starts a re-read on a task of its own, unless one is under way; it ends by `deadline`,
    /// the deadline of the callback that found the set half as old as the refresh interval.
    ///
    /// Lambda freezes an instance once it has answered and no other request is waiting, and the
    /// task then resumes with the instance's next request, its deadline long gone. So a read in
    /// the background is only an optimisation, which pays off on a busy instance: when it gets no
    /// answer, nothing changes but the spacing of reads in the background (it is not logged as a
    /// failure, and a callback that finds the set as old as the interval reads as if it had not
    /// happened).
    fn re_read_in_background(&self, deadline: Deadline) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(store) = self.this.upgrade() else {
            // Not built by a constructor of this module: nothing to run the task on. The
            // callback that finds the set as old as the interval reads instead.
            self.refreshing.store(false, Ordering::Release);
            return;
        };
        tokio::spawn(async move {
            if let Some(mut gate) = store.gate(deadline).await
                && let Some(held) = store.held().await
                // Another read (a mismatch's) may have come first.
                && Instant::now() >= held.next_background
                && deadline.leaves_time_for_an_attempt()
            {
                store
                    .re_read(&mut gate, deadline, held, Trigger::Background)
                    .await;
            }
            store.refreshing.store(false, Ordering::Release);
        });
    }

    /// A set as old as the refresh interval: re-read within the caller's `deadline` (or the
    /// read under way waited for), and what that leaves returned. When no re-read may begin (the
    /// last one, which the source did not answer, began less than half the interval ago; no time
    /// left; a read under way outlasting `deadline`), the set held: no answer says nothing
    /// about the tokens.
    async fn re_read_expired(&self, deadline: Deadline) -> Result<Arc<TokenSet>, TokenError> {
        let gate = self.gate(deadline).await;
        let Some(held) = self.held().await else {
            // A read while this caller waited found no token.
            return Err(self.failure_while_waiting().await);
        };
        let now = Instant::now();
        let expired = now.saturating_duration_since(held.confirmed) >= self.refresh_interval;
        match gate {
            Some(mut gate)
                if expired && now >= held.next_read && deadline.leaves_time_for_an_attempt() =>
            {
                match self.re_read(&mut gate, deadline, held, Trigger::Age).await {
                    ReRead::Held { set, .. } => Ok(set),
                    ReRead::Dropped(error) => Err(error),
                }
            }
            _ => Ok(held.set),
        }
    }

    /// With the gate held: reads the source again and keeps what the module docs' table says,
    /// logging the outcome.
    async fn re_read(
        &self,
        gate: &mut Gate,
        deadline: Deadline,
        held: Held,
        trigger: Trigger,
    ) -> ReRead {
        let (began, outcome, stats) = self.read(gate, deadline).await;
        let read_ms = u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = began + self.refresh_interval / 2;
        let source = self.description.as_str();
        let trigger_name = trigger.as_str();
        let (attempts, throttled) = (stats.attempts, stats.throttled);
        match outcome {
            Ok(fresh) => {
                let replaced = !fresh.same_tokens(&held.set);
                let set = if replaced {
                    Arc::new(fresh)
                } else {
                    Arc::clone(&held.set)
                };
                self.put(Slot::Ready(Held::found(
                    Arc::clone(&set),
                    began,
                    self.refresh_interval,
                )))
                .await;
                if replaced {
                    tracing::info!(
                        source,
                        trigger = trigger_name,
                        secondary = set.secondary().is_some(),
                        previous = set.previous().is_some(),
                        attempts,
                        throttled,
                        read_ms,
                        "auth token re-read: replaced"
                    );
                } else {
                    tracing::debug!(
                        source,
                        trigger = trigger_name,
                        attempts,
                        throttled,
                        read_ms,
                        "auth token re-read: unchanged"
                    );
                }
                ReRead::Held { set, replaced }
            }
            Err(error) if error.means_no_token() => {
                self.put(Slot::Failed(error.clone())).await;
                tracing::warn!(
                    source,
                    trigger = trigger_name,
                    %error,
                    attempts,
                    throttled,
                    read_ms,
                    "auth token re-read: no token any more; requests are refused until a read finds one"
                );
                ReRead::Dropped(error)
            }
            Err(error) if trigger == Trigger::Background => {
                self.put(Slot::Ready(Held {
                    next_background: next,
                    ..held.clone()
                }))
                .await;
                tracing::debug!(
                    source,
                    trigger = trigger_name,
                    %error,
                    attempts,
                    throttled,
                    read_ms,
                    "auth token re-read in the background got no answer; a callback reads when the tokens are as old as the refresh interval"
                );
                ReRead::Held {
                    set: held.set,
                    replaced: false,
                }
            }
            Err(error) => {
                self.put(Slot::Ready(Held {
                    next_read: next,
                    next_background: next,
                    ..held.clone()
                }))
                .await;
                tracing::warn!(
                    source,
                    trigger = trigger_name,
                    %error,
                    attempts,
                    throttled,
                    read_ms,
                    "auth token re-read failed; keeping the tokens already loaded"
                );
                ReRead::Held {
                    set: held.set,
                    replaced: false,
                }
            }
        }
    }

    /// The gate, or `None` when `deadline` passed while another read held it.
    async fn gate(&self, deadline: Deadline) -> Option<tokio::sync::MutexGuard<'_, Gate>> {
        tokio::time::timeout_at(deadline.instant(), self.gate.lock())
            .await
            .ok()
    }

    /// What a caller whose deadline passed while it waited for another caller's read is told.
    async fn failure_while_waiting(&self) -> TokenError {
        match &*self.slot.read().await {
            Slot::Failed(error) => error.clone(),
            Slot::Unloaded | Slot::Ready(_) => self.origin.unavailable(
                "a read for another request was still under way at TaskRouter's deadline"
                    .to_owned(),
            ),
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
        if let Some(held) = self.held().await {
            return Ok(held.set);
        }
        match &*self.slot.read().await {
            Slot::Ready(held) => return Ok(Arc::clone(&held.set)),
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
                return Err(self.origin.unavailable(retry::NO_TIME_LEFT.to_owned()));
            }
            Slot::Failed(_) | Slot::Unloaded => {}
        }
        let (began, outcome, stats) = self.read(gate, deadline).await;
        // One account of many: a parameter that does not exist is that account's layer to report
        // (it knows what to tell the operator), so this store does not log it.
        let reported_elsewhere =
            self.one_of_many && outcome.as_ref().is_err_and(TokenError::is_not_found);
        if !reported_elsewhere {
            log_load(&self.description, &outcome, stats, began.elapsed());
        }
        self.settle(began, outcome).await
    }

    /// Keeps the outcome of a load that began at `began`: a set replaces what the slot held, a
    /// failure is remembered (only a load of an unloaded or failed store gets here; a held set
    /// is re-read by `re_read`).
    async fn settle(
        &self,
        began: Instant,
        outcome: Result<TokenSet, TokenError>,
    ) -> Result<Arc<TokenSet>, TokenError> {
        match outcome {
            Ok(set) => {
                let set = Arc::new(set);
                self.put(Slot::Ready(Held::found(
                    Arc::clone(&set),
                    began,
                    self.refresh_interval,
                )))
                .await;
                Ok(set)
            }
            Err(error) => {
                self.put(Slot::Failed(error.clone())).await;
                Err(error)
            }
        }
    }

    /// Reads the source once by `deadline`, counting the read and recording when it began and
    /// ended; returns when it began.
    async fn read(
        &self,
        gate: &mut Gate,
        deadline: Deadline,
    ) -> (Instant, Result<TokenSet, TokenError>, ReadStats) {
        let began = Instant::now();
        self.reads.fetch_add(1, Ordering::Relaxed);
        let (outcome, stats) = self.origin.read(deadline).await;
        gate.last_read = Some((began, Instant::now()));
        self.finished.fetch_add(1, Ordering::Release);
        (began, outcome, stats)
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
            previous = set.previous().is_some(),
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
    /// The error of a read that got no answer, naming what was read.
    fn unavailable(&self, cause: String) -> TokenError {
        match self {
            Self::Ssm(parameters) => TokenError::Unavailable {
                name: parameters.name().to_owned(),
                cause,
            },
            Self::Secret(secret) => secret.unavailable(cause),
            Self::Fixed => TokenError::Unavailable {
                name: "(none)".to_owned(),
                cause,
            },
            #[cfg(test)]
            Self::Scripted(_) => TokenError::Unavailable {
                name: "scripted".to_owned(),
                cause,
            },
        }
    }

    async fn read(&self, deadline: Deadline) -> (Result<TokenSet, TokenError>, ReadStats) {
        match self {
            // Never asked: a fixed store's slot always holds its set and it is never refreshed.
            Self::Fixed => (
                Err(self
                    .unavailable("tokens given in the configuration cannot be re-read".to_owned())),
                ReadStats::default(),
            ),
            Self::Ssm(parameters) => parameters.read(deadline).await,
            Self::Secret(secret) => secret.read(deadline).await,
            #[cfg(test)]
            Self::Scripted(script) => script.next(deadline).await,
        }
    }
}

/// `sdk_config`, or the configuration loaded the standard way.
async fn loaded(sdk_config: Option<&SdkConfig>) -> SdkConfig {
    match sdk_config {
        Some(sdk_config) => sdk_config.clone(),
        None => aws_config::defaults(BehaviorVersion::latest()).load().await,
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
    use std::future::Future as _;
    use std::task::{Context, Poll, Waker};

    use super::super::{AuthToken, DEFAULT_REFRESH_INTERVAL, READ_BUDGET};
    use super::*;

    /// Replies for [`Origin::Scripted`], each after `delay` so concurrent callers overlap; once
    /// they are spent, `then` for every read (or a panic, when the test expects no more reads).
    /// Records when each read began.
    pub(crate) struct Script {
        replies: std::sync::Mutex<VecDeque<Result<TokenSet, TokenError>>>,
        then: Option<Result<TokenSet, TokenError>>,
        delay: Duration,
        began: Arc<std::sync::Mutex<Vec<Instant>>>,
    }

    impl Script {
        pub(crate) async fn next(
            &self,
            _deadline: Deadline,
        ) -> (Result<TokenSet, TokenError>, ReadStats) {
            self.began
                .lock()
                .expect("the script's lock is never poisoned")
                .push(Instant::now());
            tokio::time::sleep(self.delay).await;
            let reply = self
                .replies
                .lock()
                .expect("the script's lock is never poisoned")
                .pop_front()
                .or_else(|| self.then.clone())
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

    fn not_found() -> TokenError {
        TokenError::ParameterNotFound {
            name: "/taskrouter/auth-token".to_owned(),
        }
    }

    fn script_taking(delay: Duration, replies: Vec<Result<TokenSet, TokenError>>) -> Origin {
        Origin::Scripted(Script {
            replies: std::sync::Mutex::new(replies.into()),
            then: None,
            delay,
            began: Arc::default(),
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
    ) -> Arc<TokenStore> {
        TokenStore::loading(
            script(replies),
            "scripted".to_owned(),
            refresh_interval,
            deadline(),
        )
        .await
    }

    /// One account's store of a many-account deployment over `origin`, nothing read yet.
    fn one_of_many(origin: Origin, refresh_interval: Duration) -> Arc<TokenStore> {
        TokenStore::with_slot(
            origin,
            "scripted".to_owned(),
            refresh_interval,
            true,
            Slot::Unloaded,
        )
    }

    const HOUR: Duration = Duration::from_secs(3600);
    const MINUTE: Duration = Duration::from_secs(60);

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

    #[tokio::test(start_paused = true)]
    async fn an_env_source_is_ready_at_once_never_re_read_and_never_too_old() {
        let source = TokenSource::env("abc".to_owned(), Some("def".to_owned())).expect("valid");
        let store = TokenStore::new(source, MINUTE, deadline()).await;
        tokio::time::sleep(HOUR).await;
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
    async fn concurrent_callers_after_a_failure_share_one_read() {
        let store = scripted(vec![Err(unreachable()), Ok(set("abc", None))], HOUR).await;
        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
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
        let store = one_of_many(
            script_taking(
                Duration::from_secs(2),
                vec![Err(unreachable()), Ok(set("abc", None))],
            ),
            HOUR,
        );
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

    // Age: a set half the refresh interval old is re-read without keeping anyone waiting, one
    // as old as the interval before it is used.

    #[tokio::test(start_paused = true)]
    async fn a_set_half_the_interval_old_is_served_at_once_and_re_read_in_the_background() {
        let store = scripted(
            vec![Ok(set("old", None)), Ok(set("new", Some("old")))],
            MINUTE,
        )
        .await;
        tokio::time::sleep(MINUTE / 2).await;

        let mut call = std::pin::pin!(store.tokens(deadline()));
        match call.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(set)) => assert_eq!(keys(&set), ["old"], "the set held"),
            Poll::Ready(Err(error)) => panic!("refused: {error}"),
            Poll::Pending => panic!("the callback waited for the re-read"),
        }
        assert_eq!(store.reads(), 1, "the re-read was started, not waited for");

        // The task of the re-read runs once the caller has gone.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(store.reads(), 2, "re-read in the background");
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("held")),
            ["new", "old"],
            "what the re-read found"
        );
        assert_eq!(store.reads(), 2, "a set just read is young");
    }

    #[tokio::test(start_paused = true)]
    async fn a_set_as_old_as_the_interval_is_re_read_before_it_is_used() {
        // A rotation under way, then finished while the instance was idle: the old token,
        // deleted from the secondary parameter, must not verify any more.
        let store = scripted(
            vec![Ok(set("new", Some("old"))), Ok(set("new", None))],
            MINUTE,
        )
        .await;
        tokio::time::sleep(MINUTE).await;
        let tokens = store.tokens(deadline()).await.expect("re-read");
        assert_eq!(keys(&tokens), ["new"], "the revoked token is gone");
        assert_eq!(store.reads(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_re_read_that_finds_no_parameter_drops_the_tokens_and_reads_again_as_after_a_failed_load()
     {
        let store = scripted(
            vec![Ok(set("abc", None)), Err(not_found()), Ok(set("def", None))],
            MINUTE,
        )
        .await;
        tokio::time::sleep(MINUTE).await;
        assert_eq!(
            store
                .tokens(deadline())
                .await
                .expect_err("no token any more"),
            not_found()
        );
        assert!(!store.is_loaded());
        assert_eq!(
            store.tokens(deadline()).await.expect_err("still"),
            not_found(),
            "answered from memory within the retry spacing"
        );
        assert_eq!(store.reads(), 2);
        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("created again")),
            ["def"]
        );
        assert_eq!(store.reads(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_re_read_ssm_does_not_answer_keeps_the_tokens_until_the_next_re_read_may_begin() {
        let store = scripted(
            vec![
                Ok(set("abc", None)),
                Err(unreachable()),
                Ok(set("def", None)),
            ],
            MINUTE,
        )
        .await;
        tokio::time::sleep(MINUTE).await;
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("kept")),
            ["abc"],
            "an outage of SSM takes no token away"
        );
        assert_eq!(store.reads(), 2, "the re-read was attempted");
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("kept")),
            ["abc"]
        );
        assert!(store.refresh_after_mismatch(deadline()).await.is_none());
        assert_eq!(
            store.reads(),
            2,
            "neither age nor a mismatch re-reads within half the interval of the failed read"
        );
        tokio::time::sleep(MINUTE / 2).await;
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("re-read")),
            ["def"]
        );
        assert_eq!(store.reads(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_re_read_in_the_background_that_gets_no_answer_does_not_hold_back_the_read_a_callback_needs()
     {
        // On Lambda, a read in the background started by the last callback before the instance
        // is frozen resumes with the next one, past its deadline: it gets no answer.
        let store = scripted(
            vec![
                Ok(set("new", Some("old"))),
                Err(unreachable()),
                Ok(set("new", None)),
            ],
            MINUTE,
        )
        .await;
        tokio::time::sleep(MINUTE * 9 / 10).await;
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("held")),
            ["new", "old"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(store.reads(), 2, "the read in the background, unanswered");

        tokio::time::sleep(MINUTE / 10).await;
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("re-read")),
            ["new"],
            "as old as the interval: read before use, though the read in the background began \
             less than half the interval ago"
        );
        assert_eq!(store.reads(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn whatever_asks_for_them_re_reads_begin_at_least_half_the_interval_apart() {
        let began = Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = TokenStore::loading(
            Origin::Scripted(Script {
                replies: std::sync::Mutex::default(),
                then: Some(Ok(set("abc", None))),
                delay: Duration::from_millis(50),
                began: Arc::clone(&began),
            }),
            "scripted".to_owned(),
            MINUTE,
            deadline(),
        )
        .await;
        // Ten minutes of callbacks every 100 ms, each one a mismatch as forged requests are:
        // the most that could ask for reads.
        for _ in 0..6000 {
            store.tokens(deadline()).await.expect("served");
            assert!(store.refresh_after_mismatch(deadline()).await.is_none());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let began = began.lock().expect("not poisoned").clone();
        assert!(
            began.windows(2).all(|pair| pair[1] - pair[0] >= MINUTE / 2),
            "{began:?}"
        );
        assert!(
            (20..=21).contains(&began.len()),
            "the load and a re-read every half interval: {} reads",
            began.len()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_token_rotated_out_stops_verifying_at_the_end_of_its_grace_without_a_read() {
        let grace = Duration::from_secs(30);
        let rotated = set("new", None).with_previous(token("old"), Instant::now() + grace);
        let store = scripted(vec![Ok(rotated)], HOUR).await;
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("held")),
            ["new", "old"],
            "within the grace"
        );
        tokio::time::sleep(grace).await;
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("held")),
            ["new"],
            "at its end, though the set is young"
        );
        assert!(
            store.refresh_after_mismatch(deadline()).await.is_none(),
            "a callback signed with the old token finds nothing new"
        );
        assert_eq!(store.reads(), 1, "nothing was read for it");
    }

    // Re-reads after a mismatch.

    #[tokio::test(start_paused = true)]
    async fn a_mismatch_within_half_the_refresh_interval_does_not_read_again() {
        let store = scripted(vec![Ok(set("abc", None))], MINUTE).await;
        tokio::time::sleep(MINUTE / 2 - Duration::from_secs(1)).await;
        assert!(store.refresh_after_mismatch(deadline()).await.is_none());
        assert_eq!(store.reads(), 1, "only the first load");
    }

    #[tokio::test(start_paused = true)]
    async fn a_mismatch_past_half_the_refresh_interval_returns_only_a_changed_set() {
        let store = scripted(
            vec![
                Ok(set("old", None)),
                Ok(set("new", Some("old"))),
                Ok(set("new", Some("old"))),
            ],
            MINUTE,
        )
        .await;
        tokio::time::sleep(MINUTE / 2).await;
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

        tokio::time::sleep(MINUTE / 2).await;
        assert!(
            store.refresh_after_mismatch(deadline()).await.is_none(),
            "an unchanged set offers nothing new to try"
        );
        assert_eq!(store.reads(), 3, "but it was read");
    }

    #[tokio::test(start_paused = true)]
    async fn a_mismatch_with_no_time_left_reads_nothing_and_leaves_the_next_read_to_a_request_with_time()
     {
        let store = one_of_many(
            script(vec![Ok(set("old", None)), Ok(set("new", None))]),
            MINUTE,
        );
        store.tokens(deadline()).await.expect("loaded");
        tokio::time::sleep(MINUTE / 2).await;
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
            .expect("the re-read was kept for a request with time to use it");
        assert_eq!(keys(&fresh), ["new"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_mismatch_re_read_that_finds_no_token_drops_the_tokens_held() {
        let store = scripted(vec![Ok(set("abc", None)), Err(not_found())], MINUTE).await;
        tokio::time::sleep(MINUTE / 2).await;
        assert!(store.refresh_after_mismatch(deadline()).await.is_none());
        assert_eq!(
            store.tokens(deadline()).await.expect_err("dropped"),
            not_found()
        );
        assert_eq!(store.reads(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_mismatches_share_one_re_read_and_all_get_its_tokens() {
        let store = scripted(vec![Ok(set("old", None)), Ok(set("new", None))], MINUTE).await;
        tokio::time::sleep(MINUTE / 2).await;
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

    #[tokio::test(start_paused = true)]
    async fn a_mismatch_during_a_re_read_in_the_background_waits_for_it_and_gets_its_tokens() {
        let store = scripted(vec![Ok(set("old", None)), Ok(set("new", None))], MINUTE).await;
        tokio::time::sleep(MINUTE / 2).await;
        // The callback that starts the background re-read mismatches: signed with the new token.
        assert_eq!(
            keys(&store.tokens(deadline()).await.expect("held")),
            ["old"]
        );
        let fresh = store
            .refresh_after_mismatch(deadline())
            .await
            .expect("the background re-read's tokens");
        assert_eq!(keys(&fresh), ["new"]);
        assert_eq!(store.reads(), 2, "one read for both");
    }
}
