//! One deployment, many Twilio accounts: a [`TokenStore`] per account, chosen by the callback's
//! `AccountSid`.
//!
//! Each Twilio account and subaccount signs its callbacks with its own auth token
//! (docs/taskrouter.md §10). With `TWILIO_AUTH_TOKEN_PARAMETER_PREFIX=/taskrouter/accounts/` the
//! token of account `AC…` is the SSM `SecureString` `/taskrouter/accounts/AC…` and its rotation
//! secondary, while one is under way, `/taskrouter/accounts/secondary/AC…`
//! ([`AccountSettings::primary_parameter`], [`AccountSettings::secondary_parameter`]); with
//! `TWILIO_AUTH_TOKEN_SECRET_PREFIX=taskrouter/accounts/` it is the Secrets Manager secret
//! `taskrouter/accounts/AC…`, whose `account_sid` must be `AC…` ([`AccountSettings::secret_name`],
//! [`super::secrets`]). They are read on the account's first callback, then kept by that account's
//! store with every rule of [`TokenStore`]: re-read as they age and after a mismatch, at most twice
//! per refresh interval, dropped when the source says they are gone, failures spaced and failing
//! closed for that account only.
//!
//! The `AccountSid` only *selects* the token; the signature decides. A callback that claims
//! account B but was signed with account A's token is checked with B's token and fails.
//!
//! # An attacker controls `AccountSid`
//!
//! The parameter arrives in a body nobody has verified yet (docs/taskrouter.md §10), so whoever can
//! reach the URL chooses which account is looked up. An account this instance does not know is
//! found in one of three ways, the first that applies:
//!
//! 1. **The last listing of the prefix holds it**, and is younger than the refresh interval: its
//!    tokens are read, and nothing is spent.
//! 2. **A look-up is left in the budget**, `ACCOUNT_LOOKUPS_PER_MINUTE` (default
//!    [`DEFAULT_LOOKUPS_PER_MINUTE`]) for all accounts together, refilled evenly over the minute:
//!    its tokens are read directly (one `GetParameters`, or `GetSecretValue` of `AWSCURRENT` and
//!    `AWSPENDING`), and a look-up that finds the account gives its share back, so only look-ups
//!    that find nothing spend it. An account just created is found this way at once.
//! 3. **Otherwise the prefix is listed** (`GetParametersByPath`, 10 names a page, or `ListSecrets`,
//!    100 a page; names only, no value), unless a listing is younger than the refresh interval, or
//!    one began less than half of it ago: the account is then answered from the listing, refused
//!    `403` without a read when it is not there. A listing that fails refuses accounts not seen
//!    yet, `503` (failing closed), until one succeeds.
//!
//! A listing must end within the deadline of the callback that started it: at Parameter Store's
//! 10 names a request in sequence that is roughly 1,500 accounts when nothing else takes its 40
//! requests a second (BENCHMARKS.md, section 7, has the request counts); past a few hundred
//! accounts, `TWILIO_ACCOUNT_SIDS` or Secrets Manager (100 names a request, on a quota of its
//! own) is the better choice.
//!
//! So a flood of invented SIDs spends the budget, causes one listing, and is then refused from
//! memory, while a real account whose parameter or secret existed at that listing is answered on
//! its first callback however large the flood before it. (One created after the listing is found
//! by the next listing, or at once by a look-up when the budget has one.) Listing at every cold
//! start instead would cost a cold start what a listing costs, about one request per 10 accounts
//! (BENCHMARKS.md, section 7): the listing waits for a flood to need it.
//!
//! | an unverified request cannot | because |
//! |---|---|
//! | make the store be read more than a few times a minute, however many SIDs it invents | look-ups spend the budget: at most its size at once and as much again over a minute; after that, one listing of the prefix per refresh interval while listings succeed, two while they fail (listings begin at least half the interval apart), each at most `ceil(n / page)` requests for `n` accounts (each retried as reads are, within the deadline of the callback that started it). An account answered without a token (no parameter or secret, or one the role may not read or that holds no token) is remembered for the refresh interval (`AUTH_TOKEN_REFRESH_SECONDS`), listed or not, so repeating one SID costs one look-up per interval. With `TWILIO_ACCOUNT_SIDS` an account not on the list is refused before anything is read, no listing is ever made, and a listed account without a readable token costs one look-up per interval |
//! | keep a real account from its first callback | once the budget is spent, the listing answers: an invented SID is refused from it, a real one found in it without spending anything. The flood's own look-ups never touch the listing, and the listing is not made per request |
//! | make a known account's tokens be read more than twice per refresh interval | a known account's re-reads, whatever asks for them (the age of its tokens, a signature matching none of them), are spaced by half the refresh interval ([`TokenStore`]): with `n` known accounts, at most `2n` re-reads per interval while the source answers them (`4n` while it does not), and none spends the budget |
//! | keep a known account from picking up its rotated token | a known account's re-reads are its own, never charged to the budget that invented SIDs (or forged requests naming other accounts) spend; a forged request can only make a re-read happen earlier, and a read is as good whoever asked for it. A token stored at instant `T` verifies from `T` plus half the refresh interval at the latest while the source answers, whatever other requests do |
//! | push a known account's token out of the cache | an account whose token was loaded stays in the cache until its source itself answers that it has no token any more (its parameter or secret deleted, emptied, or no longer readable by the role): then it is remembered without one, like an account never found. Nothing a request chooses evicts it |
//! | grow memory without bound | the accounts cached are those whose parameter or secret exists (a set only the operator can grow) or, with `TWILIO_ACCOUNT_SIDS`, those listed; the listing holds the SIDs under the prefix, at most as many as the service holds for one account and region; accounts remembered without a token are kept in a cache of at most [`ABSENT_CAPACITY`] entries, oldest first out; a look-up in flight holds an entry only until it ends. The budget itself is two numbers |
//! | slow down callbacks of known accounts | a known account's tokens are a hash-map look-up under a lock that is never held across a read: no known account waits for another account's read, for the budget, for a listing or for a cache of absent accounts; its own re-reads run in the background while its tokens are younger than the refresh interval ([`TokenStore`]) |
//!
//! The bounds are per instance: an attacker whose flood makes Lambda start more instances gets a
//! budget and a listing per instance. The function's reserved concurrency caps the instances (and
//! the cost of the flood itself); `TWILIO_ACCOUNT_SIDS` removes the question.
//!
//! # Time
//!
//! The budget and the memory of absent accounts read the time from a [`Clock`] the caller passes
//! in ([`SystemClock`] in the function), so their per-minute behaviour is tested by moving a
//! [`ManualClock`] instead of sleeping.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, SdkConfig};

use super::secrets::{self, SecretVersions};
use super::ssm::{self, SsmParameters};
use super::store::{Origin, TokenStore};
use super::{Deadline, TokenError, TokenSet, TokenSource, usable_parameter_name};
use crate::sid::{AccountSid, SidError};

/// The environment variable naming the parameter prefix of a many-account deployment.
pub const PREFIX_VAR: &str = "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX";
/// The environment variable listing the accounts served (optional).
pub const ACCOUNT_SIDS_VAR: &str = "TWILIO_ACCOUNT_SIDS";
/// The environment variable setting the look-up budget.
pub const LOOKUPS_VAR: &str = "ACCOUNT_LOOKUPS_PER_MINUTE";

/// The look-ups a minute unverified requests may cause by default before the prefix is listed:
/// enough for an operator's new account to be found within seconds, small against SSM's default
/// 40 transactions a second shared by the whole AWS account and region (docs/taskrouter.md §11;
/// each look-up is one request, two with Secrets Manager).
pub const DEFAULT_LOOKUPS_PER_MINUTE: NonZeroU32 = NonZeroU32::new(10).expect("not zero");

/// The most look-ups a minute `ACCOUNT_LOOKUPS_PER_MINUTE` may allow: 10 a second, a quarter of
/// SSM's default limit (docs/taskrouter.md §11).
pub const MAX_LOOKUPS_PER_MINUTE: u32 = 600;

/// The most accounts remembered without a token. At the default budget and refresh interval at
/// most about 20 invented ones are alive at once (and, with a list, at most the accounts listed);
/// the cap holds whatever the settings.
pub const ABSENT_CAPACITY: usize = 1024;

/// The longest prefix accepted, leaving room for `secondary/` and an account SID within SSM's
/// 1,011-character parameter names
/// (<https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html>).
const MAX_PREFIX_LEN: usize = 900;

/// The path under the prefix where accounts' secondary tokens live.
const SECONDARY_PATH: &str = "secondary/";

/// Why a callback's account cannot be verified. The transport answers `403` for every variant
/// but [`AccountError::LookupsExhausted`] and [`AccountError::Unavailable`], which are `503`.
///
/// Messages are safe to return to the caller: they name the claimed account, never a parameter
/// name or a token. The operator's detail (which parameter to create) is logged where the
/// look-up happens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// `403`: the callback has no `AccountSid`.
    #[error(
        "the callback has no AccountSid, so no auth token can be chosen to check its X-Twilio-Signature"
    )]
    Missing,
    /// `403`: the callback has more than one `AccountSid`.
    #[error(
        "the callback has more than one AccountSid, so no auth token can be chosen to check its X-Twilio-Signature"
    )]
    Repeated,
    /// `403`: the `AccountSid` is not an account SID.
    #[error(
        "parameter `AccountSid`: {0}; no auth token can be chosen to check the X-Twilio-Signature"
    )]
    Malformed(SidError),
    /// `403`: the account is not in `TWILIO_ACCOUNT_SIDS`.
    #[error(
        "account `{0}` is not served by this function, so its X-Twilio-Signature cannot be checked"
    )]
    NotAllowed(AccountSid),
    /// `403`: the account has no token parameter or secret (now, at a look-up less than the
    /// refresh interval ago, or at the last listing of the prefix).
    #[error(
        "account `{0}` is not served by this function, so its X-Twilio-Signature cannot be checked"
    )]
    NoParameter(AccountSid),
    /// `503`: the account is not known to this instance, the look-up budget is spent and no
    /// listing of the prefix could be made (one began less than half the refresh interval ago,
    /// or no time was left for one).
    #[error(
        "account `{0}` has not been seen by this instance and too many unknown accounts were looked up in the last minute: try again shortly"
    )]
    LookupsExhausted(AccountSid),
    /// `503`: the account's token parameter or secret exists but cannot be read (now, or, when
    /// the source answered that it holds no token or may not be read, at a look-up less than the
    /// refresh interval ago), or, the look-up budget spent, the prefix could not be listed.
    #[error("the auth token of account `{account}` is unavailable: {source}")]
    Unavailable {
        /// The account.
        account: AccountSid,
        /// Why its parameter cannot be read.
        source: TokenError,
    },
}

impl AccountError {
    /// The account named, when the request named a well-formed one.
    pub fn account(&self) -> Option<&AccountSid> {
        match self {
            Self::Missing | Self::Repeated | Self::Malformed(_) => None,
            Self::NotAllowed(account)
            | Self::NoParameter(account)
            | Self::LookupsExhausted(account)
            | Self::Unavailable { account, .. } => Some(account),
        }
    }
}

/// Where the tokens of a many-account deployment are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixSource {
    /// SSM Parameter Store: `<prefix><AccountSid>` and `<prefix>secondary/<AccountSid>`
    /// (`TWILIO_AUTH_TOKEN_PARAMETER_PREFIX`).
    ParameterStore,
    /// Secrets Manager: the secret `<prefix><AccountSid>` (`TWILIO_AUTH_TOKEN_SECRET_PREFIX`),
    /// read as [`super::secrets`] says.
    SecretsManager {
        /// How long after a promotion the version rotated out is accepted.
        grace: Duration,
    },
}

/// The settings of a many-account deployment, as the config module read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSettings {
    source: PrefixSource,
    prefix: String,
    allowed: Option<Vec<AccountSid>>,
    lookups_per_minute: NonZeroU32,
}

impl AccountSettings {
    /// Tokens in SSM parameters under `prefix` (e.g. `/taskrouter/accounts/`), for the accounts
    /// in `allowed` only when it is given, with at most `lookups_per_minute` look-ups a minute
    /// caused by unverified requests (see the module docs).
    ///
    /// # Errors
    ///
    /// [`TokenError::InvalidParameterPrefix`] when `prefix` does not start and end with `/`, holds
    /// whitespace or control characters, or is longer than 900 characters. SSM requires a leading
    /// `/` in a name with a hierarchy; the trailing one keeps `/taskrouter/accounts` from
    /// silently becoming `/taskrouter/accountsAC…`.
    pub fn new(
        prefix: String,
        allowed: Option<Vec<AccountSid>>,
        lookups_per_minute: NonZeroU32,
    ) -> Result<Self, TokenError> {
        let usable = prefix.starts_with('/')
            && prefix.ends_with('/')
            && prefix.len() <= MAX_PREFIX_LEN
            && usable_parameter_name(&prefix);
        if !usable {
            return Err(TokenError::InvalidParameterPrefix { prefix });
        }
        Ok(Self {
            source: PrefixSource::ParameterStore,
            prefix,
            allowed,
            lookups_per_minute,
        })
    }

    /// Tokens in Secrets Manager secrets named `<prefix><AccountSid>` (e.g.
    /// `taskrouter/accounts/`), each version rotated out accepted for `grace` after its
    /// promotion; `allowed` and `lookups_per_minute` as in [`AccountSettings::new`].
    ///
    /// # Errors
    ///
    /// [`TokenError::InvalidSecretPrefix`] when `prefix` holds a character Secrets Manager does
    /// not allow in a name, does not end with `/`, or is longer than 400 characters.
    pub fn secrets(
        prefix: String,
        allowed: Option<Vec<AccountSid>>,
        lookups_per_minute: NonZeroU32,
        grace: Duration,
    ) -> Result<Self, TokenError> {
        if !secrets::usable_prefix(&prefix) {
            return Err(TokenError::InvalidSecretPrefix { prefix });
        }
        Ok(Self {
            source: PrefixSource::SecretsManager { grace },
            prefix,
            allowed,
            lookups_per_minute,
        })
    }

    /// Where the tokens are kept.
    pub fn source(&self) -> &PrefixSource {
        &self.source
    }

    /// The parameter prefix, or the secret name prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The accounts served, when the deployment lists them.
    pub fn allowed(&self) -> Option<&[AccountSid]> {
        self.allowed.as_deref()
    }

    /// The look-up budget per minute.
    pub fn lookups_per_minute(&self) -> NonZeroU32 {
        self.lookups_per_minute
    }

    /// The parameter holding `account`'s auth token: `<prefix><AccountSid>`.
    pub fn primary_parameter(&self, account: &AccountSid) -> String {
        format!("{}{account}", self.prefix)
    }

    /// The parameter holding `account`'s secondary token during a rotation:
    /// `<prefix>secondary/<AccountSid>`. It may not exist.
    ///
    /// A separate path rather than `<prefix><AccountSid>/secondary`, so no parameter name is also
    /// the path of another.
    pub fn secondary_parameter(&self, account: &AccountSid) -> String {
        format!("{}{SECONDARY_PATH}{account}", self.prefix)
    }

    /// The secret holding `account`'s token: `<prefix><AccountSid>`.
    pub fn secret_name(&self, account: &AccountSid) -> String {
        format!("{}{account}", self.prefix)
    }
}

impl fmt::Display for AccountSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            PrefixSource::ParameterStore => write!(
                f,
                "ssm parameters {prefix}<AccountSid> (secondary {prefix}{SECONDARY_PATH}<AccountSid>), ",
                prefix = self.prefix
            )?,
            PrefixSource::SecretsManager { .. } => write!(
                f,
                "secrets manager secrets {prefix}<AccountSid>, ",
                prefix = self.prefix
            )?,
        }
        match &self.allowed {
            Some(allowed) => write!(f, "{} accounts listed", allowed.len()),
            None => write!(
                f,
                "any account, at most {} look-ups a minute",
                self.lookups_per_minute
            ),
        }
    }
}

/// Where the budget and the memory of absent accounts read the time.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock: what the function uses.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told: for tests and tools that check per-minute behaviour
/// without waiting for the minute.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    elapsed: Mutex<Duration>,
}

impl ManualClock {
    /// A clock standing at the moment it is created.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.elapsed.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.elapsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A token bucket: `capacity` look-ups, refilled one at a time, evenly, `capacity` a minute.
///
/// Written here rather than taken from a rate-limiting crate because a look-up that finds an
/// account gives its share back ([`Budget::give_back`]), which the GCRA limiters of the crates
/// cannot express; the whole algorithm is the dozen lines of `refill`.
struct Budget {
    capacity: u32,
    refill_every: Duration,
    clock: Arc<dyn Clock>,
    state: Mutex<BudgetState>,
}

struct BudgetState {
    available: u32,
    /// The instant the last refill step was counted from.
    counted_from: Instant,
}

impl Budget {
    /// A full budget of `per_minute` look-ups.
    fn new(per_minute: NonZeroU32, clock: Arc<dyn Clock>) -> Self {
        let capacity = per_minute.get();
        let now = clock.now();
        Self {
            capacity,
            refill_every: Duration::from_secs(60) / capacity,
            clock,
            state: Mutex::new(BudgetState {
                available: capacity,
                counted_from: now,
            }),
        }
    }

    /// Spends one look-up if one is left.
    fn try_take(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.refill(&mut state);
        if state.available == 0 {
            return false;
        }
        state.available -= 1;
        true
    }

    /// Returns a look-up that turned out not to need the budget.
    fn give_back(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.refill(&mut state);
        state.available = (state.available + 1).min(self.capacity);
    }

    fn refill(&self, state: &mut BudgetState) {
        let now = self.clock.now();
        if state.available >= self.capacity {
            // A full bucket accumulates nothing: the next step counts from now.
            state.counted_from = now;
            return;
        }
        let elapsed = now.saturating_duration_since(state.counted_from);
        let steps = elapsed.as_nanos() / self.refill_every.as_nanos();
        if steps == 0 {
            return;
        }
        let missing = self.capacity - state.available;
        let added = u32::try_from(steps).unwrap_or(u32::MAX).min(missing);
        state.available += added;
        state.counted_from = if state.available == self.capacity {
            now
        } else {
            state.counted_from + self.refill_every * added
        };
    }
}

/// Accounts SSM recently answered for without a token ([`TokenError::means_no_token`]), each
/// with that answer until its time is up; oldest first out.
///
/// Entries are inserted with the same lifetime, so insertion order is expiry order and a queue is
/// the whole eviction policy.
struct Absent {
    until: HashMap<AccountSid, (Instant, TokenError)>,
    order: VecDeque<(AccountSid, Instant)>,
    lifetime: Duration,
}

impl Absent {
    fn new(lifetime: Duration) -> Self {
        Self {
            until: HashMap::new(),
            order: VecDeque::new(),
            lifetime,
        }
    }

    /// What SSM answered for `account`, while it is remembered.
    fn get(&self, account: &AccountSid, now: Instant) -> Option<&TokenError> {
        self.until
            .get(account)
            .filter(|(until, _)| now < *until)
            .map(|(_, answer)| answer)
    }

    fn insert(&mut self, account: AccountSid, answer: TokenError, now: Instant) {
        self.purge(now);
        while self.order.len() >= ABSENT_CAPACITY {
            self.pop_oldest();
        }
        let until = now + self.lifetime;
        self.until.insert(account.clone(), (until, answer));
        self.order.push_back((account, until));
    }

    /// Drops the entries whose time is up.
    fn purge(&mut self, now: Instant) {
        while self.order.front().is_some_and(|(_, until)| *until <= now) {
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((account, until)) = self.order.pop_front()
            // A later insert of the same account owns the map entry now.
            && self.until.get(&account).is_some_and(|(held, _)| *held == until)
        {
            self.until.remove(&account);
        }
    }

    fn len(&self) -> usize {
        self.order.len()
    }
}

/// What the cache of a many-account deployment holds, for tests and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// Accounts with a store: loaded, listed, or being looked up.
    pub accounts: usize,
    /// Accounts remembered without a token (no parameter, or one that holds no token or may not
    /// be read).
    pub absent: usize,
    /// Accounts the last listing of the prefix found (0 before any listing).
    pub listed: usize,
}

/// The accounts under the prefix as the last listing found them: the answer, from memory, to
/// "does this account exist?" once the look-up budget is spent.
#[derive(Default)]
struct Directory {
    /// The accounts the last successful listing found, and when it began.
    listed: Option<(HashSet<AccountSid>, Instant)>,
    /// When the last listing began, successful or not.
    attempted: Option<Instant>,
    /// Why the last listing failed, while no later one succeeded.
    failure: Option<TokenError>,
}

impl Directory {
    /// The accounts listed, if the listing began less than `interval` before `now`.
    fn fresh(&self, now: Instant, interval: Duration) -> Option<&HashSet<AccountSid>> {
        self.listed
            .as_ref()
            .filter(|(_, began)| now.saturating_duration_since(*began) < interval)
            .map(|(accounts, _)| accounts)
    }

    /// Whether a listing may begin at `now`: none began less than half of `interval` ago.
    fn may_list(&self, now: Instant, interval: Duration) -> bool {
        self.attempted
            .is_none_or(|began| now.saturating_duration_since(began) >= interval / 2)
    }
}

struct State {
    stores: HashMap<AccountSid, Arc<TokenStore>>,
    absent: Absent,
    directory: Directory,
}

/// The client of the service the tokens are kept in: only that one is built.
enum Client {
    Ssm(aws_sdk_ssm::Client),
    Secrets {
        client: aws_sdk_secretsmanager::Client,
        /// How long after a promotion the version rotated out is accepted.
        grace: Duration,
    },
}

/// What [`AccountTokens`] knows about an account before reading anything.
enum Lookup {
    /// Its store, and whether building it spent the budget.
    Store(Arc<TokenStore>, bool),
    /// The budget is spent and no fresh listing says whether the account exists.
    NeedsListing,
}

/// The tokens of many accounts: a lazily built [`TokenStore`] per account under the settings'
/// prefix, with the protections of the module docs.
pub struct AccountTokens {
    settings: AccountSettings,
    allowed: Option<HashSet<AccountSid>>,
    client: Client,
    refresh_interval: Duration,
    clock: Arc<dyn Clock>,
    /// Spent by look-ups of accounts this instance does not know, never by known accounts.
    budget: Budget,
    /// Never held across an `.await`: look-ups of known accounts never wait on a read.
    state: Mutex<State>,
    /// Held for the duration of a listing, so concurrent callers wait for its outcome instead of
    /// starting listings of their own.
    listing: tokio::sync::Mutex<()>,
}

impl AccountTokens {
    /// Builds the cache, loading the AWS SDK configuration the standard way (`AWS_REGION`,
    /// credentials, `AWS_ENDPOINT_URL` and the service's own `AWS_ENDPOINT_URL_SSM` or
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER` when set). Nothing is read until an account's first
    /// callback.
    ///
    /// `refresh_interval` is how old each account's tokens may get ([`TokenStore`]), how long
    /// an account answered for without a token is remembered, and how long a listing of the
    /// prefix is used.
    pub async fn new(settings: AccountSettings, refresh_interval: Duration) -> Self {
        let sdk_config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Self::with_sdk_config(
            settings,
            refresh_interval,
            &sdk_config,
            Arc::new(SystemClock),
        )
    }

    /// As [`AccountTokens::new`], with an SDK configuration and a clock of the caller's choosing.
    /// The client's timeouts and retries are the token module's whatever `sdk_config` says; only
    /// the client of the configured service is built.
    pub fn with_sdk_config(
        settings: AccountSettings,
        refresh_interval: Duration,
        sdk_config: &SdkConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let budget = Budget::new(settings.lookups_per_minute, Arc::clone(&clock));
        let client = match settings.source {
            PrefixSource::ParameterStore => Client::Ssm(ssm::client(sdk_config)),
            // The only place a many-account deployment builds a Secrets Manager client.
            PrefixSource::SecretsManager { grace } => Client::Secrets {
                client: secrets::client(sdk_config),
                grace,
            },
        };
        Self {
            allowed: settings
                .allowed
                .as_ref()
                .map(|accounts| accounts.iter().cloned().collect()),
            settings,
            client,
            refresh_interval,
            clock,
            budget,
            state: Mutex::new(State {
                stores: HashMap::new(),
                absent: Absent::new(refresh_interval),
                directory: Directory::default(),
            }),
            listing: tokio::sync::Mutex::new(()),
        }
    }

    /// The tokens of `account`, with the store that holds them (for
    /// [`TokenStore::refresh_after_mismatch`]); an account not read yet, or whose tokens are as
    /// old as the refresh interval, is read by `deadline` (the deadline of the callback asking,
    /// see [`Deadline`]), and so is the listing of the prefix when one is needed.
    ///
    /// # Errors
    ///
    /// [`AccountError::NotAllowed`] when a list of accounts is configured and `account` is not on
    /// it (nothing is read); [`AccountError::NoParameter`] when its parameter or secret does not
    /// exist, now, at a look-up less than the refresh interval ago, or at the last listing of the
    /// prefix when the budget is spent; [`AccountError::LookupsExhausted`] when `account` is
    /// unknown here, the budget is spent and no listing could be made (nothing is read);
    /// [`AccountError::Unavailable`] when its parameter or secret cannot be read, or, the budget
    /// spent, the prefix cannot be listed.
    pub async fn tokens(
        &self,
        account: &AccountSid,
        deadline: Deadline,
    ) -> Result<(Arc<TokenStore>, Arc<TokenSet>), AccountError> {
        let (store, charged) = match self.store_for(account)? {
            Lookup::Store(store, charged) => (store, charged),
            Lookup::NeedsListing => {
                self.list(deadline).await;
                self.store_after_listing(account)?
            }
        };
        match store.tokens(deadline).await {
            Ok(set) => {
                if charged {
                    // The account exists: finding it was not the attacker's doing to pay for.
                    self.budget.give_back();
                }
                Ok((store, set))
            }
            Err(error) if error.means_no_token() => {
                // Logged once per look-up that found no token (the budget, the listing and the
                // memory of absent accounts bound those, listed accounts included); the store
                // logs the other answers itself.
                if self.remember_without_token(account, &store, &error) && error.is_not_found() {
                    let what = match self.settings.source {
                        PrefixSource::ParameterStore => {
                            "create the parameter as a SecureString holding the account's auth token"
                        }
                        PrefixSource::SecretsManager { .. } => {
                            "create the secret with the SecretString {\"account_sid\": \"AC…\", \"auth_token\": \"…\"}"
                        }
                    };
                    tracing::warn!(
                        account_sid = %account,
                        parameter = %self.settings.primary_parameter(account),
                        "no auth token for this account: its callbacks are refused; to serve it, {what}"
                    );
                }
                Err(refusal(account, error))
            }
            Err(source) => {
                self.forget_failed(account, &store);
                Err(AccountError::Unavailable {
                    account: account.clone(),
                    source,
                })
            }
        }
    }

    /// Where the tokens come from, for logs. Never a token.
    pub fn describe_source(&self) -> String {
        self.settings.to_string()
    }

    /// What the cache holds now.
    pub fn footprint(&self) -> Footprint {
        let mut state = self.lock();
        let now = self.clock.now();
        state.absent.purge(now);
        Footprint {
            accounts: state.stores.len(),
            absent: state.absent.len(),
            listed: state
                .directory
                .listed
                .as_ref()
                .map_or(0, |(accounts, _)| accounts.len()),
        }
    }

    /// The store of `account`, built (and, for an account not listed, paid for from the budget)
    /// if it has none; or, when the budget is spent and no fresh listing of the prefix knows,
    /// that one is needed.
    fn store_for(&self, account: &AccountSid) -> Result<Lookup, AccountError> {
        if let Some(allowed) = &self.allowed
            && !allowed.contains(account)
        {
            return Err(AccountError::NotAllowed(account.clone()));
        }
        let mut state = self.lock();
        if let Some(store) = state.stores.get(account) {
            return Ok(Lookup::Store(Arc::clone(store), false));
        }
        let now = self.clock.now();
        if let Some(answer) = state.absent.get(account, now) {
            return Err(refusal(account, answer.clone()));
        }
        let listed = state.directory.fresh(now, self.refresh_interval);
        // A listed account is the operator's, and so is one the prefix holds: their first
        // look-up is not the attacker's to spend.
        let exists = self.allowed.is_some() || listed.is_some_and(|found| found.contains(account));
        if !exists && !self.budget.try_take() {
            return if listed.is_some() {
                // Not under the prefix at the last listing, and no look-up left to check since.
                Err(AccountError::NoParameter(account.clone()))
            } else {
                Ok(Lookup::NeedsListing)
            };
        }
        let store = self.build_store(account);
        state.stores.insert(account.clone(), Arc::clone(&store));
        Ok(Lookup::Store(store, !exists))
    }

    /// After a listing (or an attempt that could not list): the store of `account` if the
    /// listing found it, the refusal otherwise.
    fn store_after_listing(
        &self,
        account: &AccountSid,
    ) -> Result<(Arc<TokenStore>, bool), AccountError> {
        let mut state = self.lock();
        if let Some(store) = state.stores.get(account) {
            return Ok((Arc::clone(store), false));
        }
        let now = self.clock.now();
        match state.directory.fresh(now, self.refresh_interval) {
            Some(found) if found.contains(account) => {
                let store = self.build_store(account);
                state.stores.insert(account.clone(), Arc::clone(&store));
                Ok((store, false))
            }
            Some(_) => Err(AccountError::NoParameter(account.clone())),
            None => Err(match &state.directory.failure {
                Some(failure) => AccountError::Unavailable {
                    account: account.clone(),
                    source: failure.clone(),
                },
                None => AccountError::LookupsExhausted(account.clone()),
            }),
        }
    }

    /// Lists the prefix by `deadline` unless a listing is fresh, began less than half the
    /// refresh interval ago, or is under way (then this waits for it, within `deadline`).
    async fn list(&self, deadline: Deadline) {
        let Ok(_listing) = tokio::time::timeout_at(deadline.instant(), self.listing.lock()).await
        else {
            return;
        };
        let began = self.clock.now();
        {
            let mut state = self.lock();
            let directory = &mut state.directory;
            if directory.fresh(began, self.refresh_interval).is_some()
                || !directory.may_list(began, self.refresh_interval)
                || !deadline.leaves_time_for_an_attempt()
            {
                return;
            }
            directory.attempted = Some(began);
        }
        let started = tokio::time::Instant::now();
        let prefix = self.settings.prefix.as_str();
        let (outcome, stats) = match &self.client {
            Client::Ssm(client) => ssm::list_accounts(client, prefix, deadline).await,
            Client::Secrets { client, .. } => {
                secrets::list_accounts(client, prefix, deadline).await
            }
        };
        let read_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut state = self.lock();
        match outcome {
            Ok(accounts) => {
                tracing::info!(
                    prefix,
                    accounts = accounts.len(),
                    attempts = stats.attempts,
                    throttled = stats.throttled,
                    read_ms,
                    "accounts listed: the look-up budget is spent, so accounts not seen yet are answered from this list until the refresh interval has passed"
                );
                state.directory.listed = Some((accounts, began));
                state.directory.failure = None;
            }
            Err(error) => {
                tracing::warn!(
                    prefix,
                    %error,
                    attempts = stats.attempts,
                    throttled = stats.throttled,
                    read_ms,
                    "accounts not listed: accounts not seen yet are refused until a listing succeeds"
                );
                state.directory.failure = Some(error);
            }
        }
    }

    /// After the service answered for `account` without a token (`answer`), on its first
    /// look-up or on a re-read of tokens it held: its store is dropped and the answer remembered
    /// for the refresh interval, whether the account is listed or not, so asking for it again
    /// costs no read until then. `true` when this call did it (callers sharing the same read
    /// find it done).
    fn remember_without_token(
        &self,
        account: &AccountSid,
        store: &Arc<TokenStore>,
        answer: &TokenError,
    ) -> bool {
        let mut state = self.lock();
        let ours = state
            .stores
            .get(account)
            .is_some_and(|held| Arc::ptr_eq(held, store));
        if !ours {
            return false;
        }
        state.stores.remove(account);
        let now = self.clock.now();
        state.absent.insert(account.clone(), answer.clone(), now);
        true
    }

    /// After a first load the service did not answer (throttled, unreachable): without a list,
    /// the store is dropped, so nothing stays behind for an account that may not exist and its
    /// next look-up spends the budget again (or consults the listing). A listed account keeps its
    /// store, whose own spacing of reads after a failure then applies.
    fn forget_failed(&self, account: &AccountSid, store: &Arc<TokenStore>) {
        if self.allowed.is_some() || store.is_loaded() {
            return;
        }
        let mut state = self.lock();
        let ours = state
            .stores
            .get(account)
            .is_some_and(|held| Arc::ptr_eq(held, store));
        if ours {
            // Otherwise another caller sharing the same failed load already did this.
            state.stores.remove(account);
        }
    }

    fn build_store(&self, account: &AccountSid) -> Arc<TokenStore> {
        let (origin, source) = match &self.client {
            Client::Ssm(client) => {
                let name = self.settings.primary_parameter(account);
                let secondary = self.settings.secondary_parameter(account);
                let source = TokenSource::Parameter {
                    name: name.clone(),
                    secondary: Some(secondary.clone()),
                };
                let parameters = SsmParameters::new(client.clone(), name, Some(secondary));
                (Origin::Ssm(parameters), source)
            }
            Client::Secrets { client, grace } => {
                let id = self.settings.secret_name(account);
                let source = TokenSource::Secret {
                    id: id.clone(),
                    grace: *grace,
                };
                let secret = SecretVersions::new(client.clone(), id, Some(account.clone()), *grace);
                (Origin::Secret(secret), source)
            }
        };
        TokenStore::lazy(origin, source.to_string(), self.refresh_interval)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a cache: a panic elsewhere while it was held leaves nothing inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a request naming `account` is told when the service answered `answer` for it.
fn refusal(account: &AccountSid, answer: TokenError) -> AccountError {
    if answer.is_not_found() {
        AccountError::NoParameter(account.clone())
    } else {
        AccountError::Unavailable {
            account: account.clone(),
            source: answer,
        }
    }
}

impl fmt::Debug for AccountTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountTokens")
            .field("source", &self.describe_source())
            .field("refresh_interval", &self.refresh_interval)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_minute(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).expect("a budget")
    }

    fn sid(n: u32) -> AccountSid {
        AccountSid::parse(&format!("AC{n:032x}")).expect("a valid account SID")
    }

    #[test]
    fn a_budget_spends_its_capacity_then_refills_one_look_up_at_a_time() {
        let clock = Arc::new(ManualClock::new());
        let budget = Budget::new(per_minute(10), clock.clone());
        let taken = (0..25).filter(|_| budget.try_take()).count();
        assert_eq!(taken, 10, "a full budget allows its capacity at once");

        clock.advance(Duration::from_secs(5));
        assert!(!budget.try_take(), "5 s is less than one step of 6 s");
        clock.advance(Duration::from_secs(1));
        assert!(budget.try_take(), "one step of 60 s / 10 has passed");
        assert!(!budget.try_take(), "and only one");

        clock.advance(Duration::from_secs(60 * 60));
        let taken = (0..25).filter(|_| budget.try_take()).count();
        assert_eq!(taken, 10, "an hour refills no more than the capacity");
    }

    #[test]
    fn over_any_minute_a_budget_allows_at_most_twice_its_rate() {
        // Capacity at the start of a minute plus the minute's refill: the bound the tests of the
        // function rely on. A try every 100 ms from 0 s to 60 s inclusive.
        let clock = Arc::new(ManualClock::new());
        let budget = Budget::new(per_minute(6), clock.clone());
        let mut taken = 0;
        for _ in 0..=600 {
            taken += usize::from(budget.try_take());
            clock.advance(Duration::from_millis(100));
        }
        assert_eq!(taken, 6 + 6, "six at once, then one every ten seconds");
    }

    #[test]
    fn a_look_up_given_back_can_be_spent_again_but_never_beyond_the_capacity() {
        let clock = Arc::new(ManualClock::new());
        let budget = Budget::new(per_minute(2), clock);
        assert!(budget.try_take());
        assert!(budget.try_take());
        assert!(!budget.try_take());
        budget.give_back();
        assert!(budget.try_take(), "given back");
        budget.give_back();
        budget.give_back();
        budget.give_back();
        let taken = (0..5).filter(|_| budget.try_take()).count();
        assert_eq!(taken, 2, "giving back never overfills");
    }

    fn no_parameter(n: u32) -> TokenError {
        TokenError::ParameterNotFound {
            name: format!("/t/{}", sid(n)),
        }
    }

    #[test]
    fn absent_accounts_are_remembered_with_their_answer_for_their_lifetime_and_at_most_the_capacity()
     {
        let clock = ManualClock::new();
        let mut absent = Absent::new(Duration::from_secs(60));
        let blank = TokenError::Empty {
            origin: "ssm parameter `/t/AC…`".to_owned(),
        };
        absent.insert(sid(1), no_parameter(1), clock.now());
        absent.insert(sid(2), blank.clone(), clock.now());
        clock.advance(Duration::from_secs(59));
        assert_eq!(
            absent.get(&sid(1), clock.now()),
            Some(&no_parameter(1)),
            "within its lifetime"
        );
        assert_eq!(
            absent.get(&sid(2), clock.now()),
            Some(&blank),
            "each with the answer SSM gave"
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(absent.get(&sid(1), clock.now()), None, "past its lifetime");

        for n in 0..(ABSENT_CAPACITY as u32 * 3) {
            absent.insert(sid(n + 100), no_parameter(n + 100), clock.now());
            assert!(absent.len() <= ABSENT_CAPACITY, "never above the capacity");
        }
        assert_eq!(absent.len(), ABSENT_CAPACITY);
        let newest = 100 + ABSENT_CAPACITY as u32 * 3 - 1;
        assert!(
            absent.get(&sid(newest), clock.now()).is_some(),
            "the newest is kept"
        );
        assert!(
            absent.get(&sid(100), clock.now()).is_none(),
            "the oldest went first"
        );
        assert_eq!(
            absent.until.len(),
            absent.order.len(),
            "map and queue agree"
        );
    }

    #[test]
    fn an_account_remembered_again_is_not_forgotten_by_its_older_entry() {
        let clock = ManualClock::new();
        let mut absent = Absent::new(Duration::from_secs(60));
        absent.insert(sid(1), no_parameter(1), clock.now());
        clock.advance(Duration::from_secs(30));
        absent.insert(sid(1), no_parameter(1), clock.now());
        clock.advance(Duration::from_secs(40));
        absent.purge(clock.now());
        assert!(
            absent.get(&sid(1), clock.now()).is_some(),
            "the first entry expired, the second has 20 s left"
        );
    }

    #[test]
    fn settings_name_each_accounts_parameters_and_refuse_unusable_prefixes() {
        let budget = NonZeroU32::new(10).expect("non-zero");
        let settings =
            AccountSettings::new("/taskrouter/accounts/".to_owned(), None, budget).expect("valid");
        assert_eq!(
            settings.primary_parameter(&sid(1)),
            "/taskrouter/accounts/AC00000000000000000000000000000001"
        );
        assert_eq!(
            settings.secondary_parameter(&sid(1)),
            "/taskrouter/accounts/secondary/AC00000000000000000000000000000001"
        );
        assert_eq!(
            settings.to_string(),
            "ssm parameters /taskrouter/accounts/<AccountSid> (secondary \
             /taskrouter/accounts/secondary/<AccountSid>), any account, at most 10 look-ups a minute"
        );
        let listed = AccountSettings::new("/t/".to_owned(), Some(vec![sid(1), sid(2)]), budget)
            .expect("valid");
        assert!(
            listed.to_string().ends_with("2 accounts listed"),
            "{listed}"
        );

        for (prefix, why) in [
            ("/taskrouter/accounts", "no trailing slash"),
            ("taskrouter/accounts/", "no leading slash"),
            ("/task router/", "a space"),
            ("", "empty"),
        ] {
            assert_eq!(
                AccountSettings::new(prefix.to_owned(), None, budget),
                Err(TokenError::InvalidParameterPrefix {
                    prefix: prefix.to_owned()
                }),
                "{why}"
            );
        }
        let long = format!("/{}/", "a".repeat(MAX_PREFIX_LEN));
        assert!(
            AccountSettings::new(long, None, budget).is_err(),
            "too long"
        );
    }
}
