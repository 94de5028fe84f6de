//! Twilio auth tokens: where they come from and the caches that keep them for the process.
//!
//! `X-Twilio-Signature` is an HMAC keyed with the account's auth token (docs/taskrouter.md §4), so
//! every callback needs a token before anything else can be trusted. This module is the only one
//! that touches the network: it reads tokens from SSM Parameter Store or AWS Secrets Manager and
//! keeps them.
//!
//! | part | owns |
//! |---|---|
//! | this file | [`AuthToken`] (a secret), [`TokenSet`] (primary, secondary, and a previous token during its grace), [`TokenSource`], [`TokenError`] |
//! | [`store`] | [`TokenStore`]: one account's tokens, loaded, cached, re-read as they age and after a mismatch, dropped when the source says they are gone, the spacing of reads after a failure; one store whatever the source, reading through `store::Origin` |
//! | [`ssm`] | the Parameter Store source: `GetParameters` (or `GetParameter`), and the listing of a prefix (`GetParametersByPath`) |
//! | [`secrets`] | the Secrets Manager source: a secret's staged versions (`GetSecretValue`), and the listing of a name prefix (`ListSecrets`) |
//! | `retry` | what every read shares: the client's timeouts, the classification of a failed request, the loop that retries it until the read's deadline |
//! | [`accounts`] | [`AccountTokens`]: one deployment, many accounts, a [`TokenStore`] per account under a prefix, and what an attacker who invents `AccountSid`s can and cannot do to it |
//!
//! # Sources
//!
//! The config module turns the environment into a [`TokenSource`] (one account) or an
//! [`AccountSettings`] (many); this module never reads the environment itself.
//!
//! - [`TokenSource::Env`]: the token in `TWILIO_AUTH_TOKEN` (and optionally
//!   `TWILIO_AUTH_TOKEN_SECONDARY`). Ready at once; AWS is never contacted, which keeps the cold
//!   start short.
//! - [`TokenSource::Parameter`]: the name in `TWILIO_AUTH_TOKEN_PARAMETER` of an SSM Parameter
//!   Store `SecureString` (and optionally `TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER`), read with
//!   `WithDecryption=true`: `GetParameter` for the primary alone, one `GetParameters` for both.
//!   A secondary parameter that does not exist is not an error: there is simply no secondary
//!   token.
//! - [`TokenSource::Secret`]: the name or ARN in `TWILIO_AUTH_TOKEN_SECRET_ID` of a Secrets
//!   Manager secret whose `SecretString` is `{"account_sid": …, "auth_token": …}`, read in its
//!   staged versions (`AWSCURRENT`, `AWSPENDING` while a rotation is under way, `AWSPREVIOUS` for
//!   a grace after a promotion: [`secrets`] has the details). Its client is built only then: the
//!   other sources never pay for it.
//! - [`AccountSettings`]: `TWILIO_AUTH_TOKEN_PARAMETER_PREFIX`, one `SecureString` per account
//!   named `<prefix><AccountSid>`, its rotation secondary at `<prefix>secondary/<AccountSid>`; or
//!   `TWILIO_AUTH_TOKEN_SECRET_PREFIX`, one secret per account named `<prefix><AccountSid>`. The
//!   callback's `AccountSid` selects which one verifies it ([`accounts`] has the details).
//!
//! A Secrets Manager secret can also be read through Parameter Store, by naming it
//! `/aws/reference/secretsmanager/<secret-id>` in `TWILIO_AUTH_TOKEN_PARAMETER`
//! (<https://docs.aws.amazon.com/systems-manager/latest/userguide/integration-ps-secretsmanager.html>):
//! the secret then holds the bare token, its staged versions are not seen, and each read is one
//! of Parameter Store's 40 a second. [`TokenSource::Secret`] has none of these limits.
//!
//! # Rotation and revocation
//!
//! Twilio accepts the secondary auth token while a rotation is under way (docs/taskrouter.md §4),
//! so a [`TokenSet`] holds a primary and an optional secondary and a signature matching either is
//! accepted (from Secrets Manager, `AWSCURRENT` and `AWSPENDING`; and `AWSPREVIOUS` until the
//! instant its grace ends, after which the store no longer hands it out, read or not). Tokens
//! held are re-read from their source in two cases, both per account and neither spending
//! anything other accounts share:
//!
//! - **As they age**, so a token removed from SSM stops verifying: at the end of a rotation the
//!   old token is deleted (or overwritten), and Twilio signs with the one that remains, so no
//!   callback ever mismatches to tell the instance. With `I` the refresh interval
//!   (`AUTH_TOKEN_REFRESH_SECONDS`), a set `I / 2` old is re-read in the background while
//!   callbacks are answered with it, and a set `I` old is re-read before it is used: a token
//!   removed from SSM stops verifying within `I` ([`store`] has the details).
//! - **After a mismatch**: when a signature matches neither, the caller asks
//!   [`TokenStore::refresh_after_mismatch`], so a token rotated in SSM is picked up without a cold
//!   start and without waiting for the age.
//!
//! Whatever asks, a store's re-reads are spaced by `I / 2`: at most two reads per interval per
//! account while the source answers them (four while it does not), however many forged requests
//! name it.
//!
//! # Failing closed, within TaskRouter's deadline
//!
//! TaskRouter waits five seconds for an answer, cold start included, then calls the fallback URL
//! (docs/taskrouter.md §2, docs/taskrouter.md §3). Without a token nothing can be verified, so
//! [`TokenStore::tokens`] returns an error (the transport answers 503) and a later call reads
//! again. Parameter Store serves 40 transactions a second per account and region by default
//! (docs/taskrouter.md §11), and when many instances start at once (a contact center opening, a
//! deploy) their reads are throttled: a read is then worth repeating, spaced out, for as long as
//! the callback waiting on it can wait. So every read has a [`Deadline`], [`READ_BUDGET`] after
//! TaskRouter's 5 s began for that callback: at the process start for the callback a cold start was
//! for (the init read of one account, or an account's first callback right after init), at the
//! callback's arrival otherwise. The figures:
//!
//! | what | figure | why |
//! |---|---|---|
//! | a read's deadline | [`READ_BUDGET`], 3 s after TaskRouter's 5 s began | leaves 2 s for what happens before the process runs (Lambda placing the instance, fetching the code) and for the answer's way back; a read that has not succeeded by then fails closed, `503` |
//! | throttled attempts | retried until the deadline | a bucket of 40 refilled at 40 a second has a token for the last of 100 simultaneous reads after 1.5 s, of 150 after 2.75 s: throttling is a queue, and waiting in it is how an instance gets served (BENCHMARKS.md, section 5) |
//! | pause before a retry | full jitter: uniform in 0 … min(1 s, 200 ms × 2ⁿ) | spreads retries of instances throttled at the same moment instead of bringing them back together; one second at most, so a token refilled is taken soon after it appears |
//! | other transient failures (refused or dropped connection, timeout, 5xx) | 2 attempts | one retry rides out a blip; more would keep every callback waiting through an outage that retrying does not end |
//! | one attempt | all the time left before the deadline | an attempt abandoned while SSM is answering it spends one of the 40 transactions for nothing, exactly when they are scarce; no attempt begins in the last 250 ms |
//! | TCP + TLS connect | 1 s | an endpoint that does not accept a connection in a second is not going to; the attempt is then retried on a new connection |
//! | requests per attempt | Parameter Store, one: `GetParameters` for a primary and a secondary, `GetParameter` for a primary alone; Secrets Manager, one `GetSecretValue` per staged version, `AWSCURRENT` and `AWSPENDING` sent together (and `AWSPREVIOUS` after them during a grace) | each request is one of the 40 a second Parameter Store serves, whatever it asks for; a version selector, an ARN or a Secrets Manager reference is read with one `GetParameter` each (see `ssm.rs`); Secrets Manager serves 10,000 a second, and two requests in one round trip cost a cold start no more time than one (see `secrets.rs`) |
//! | requests per read | at most 12 per request it is made of | a hard bound on what one read can cost whatever the jitter draws; pauses drawn as above reach the deadline after about 8 attempts on average |
//! | a new read after a failed one | at most one per second per account ([`RETRY_AFTER_FAILURE`]), counted from the start of the failed read | while reads fail at once (a denial, a missing parameter, an endpoint refusing connections), requests answer 503 at once instead of each asking SSM; a read that was throttled until its deadline lasted longer than that, so the next callback reads again at once and an instance is not left refusing after the storm. With many accounts an answer without a token (no parameter, access denied, a blank value) is remembered for the refresh interval instead, listed account or not ([`accounts`]) |
//! | how old the tokens held may get | the refresh interval `I` (config, e.g. [`DEFAULT_REFRESH_INTERVAL`]): re-read in the background by a callback that finds them `I / 2` old, before use by one that finds them `I` old | a token removed from SSM must stop verifying though nothing mismatches; a callback of a busy instance never waits for a periodic read, and one of an instance idle for `I` waits for the read it needs, as a cold start does |
//! | re-reads of the tokens held | per account, whatever asks (their age, a mismatch): reads callbacks wait for at least `I / 2` apart, reads in the background too, a successful one counting for both, so at most two per interval while SSM answers and four while it does not; never from a budget other accounts share | forged signatures must not drive SSM traffic, nor keep an account from picking up its rotated token |
//! | a re-read SSM does not answer (throttled, unreachable) | the tokens held are kept, their age unchanged; the next re-read of its kind `I / 2` after it began | an outage of SSM says nothing about the tokens, and must not take down instances that hold them |
//! | a re-read SSM answers without a token (no parameter, access denied, a blank value) | the tokens held are dropped; requests are refused as at a cold start with that answer | a revoked token stops verifying; every instance ends up where a new one would be |
//!
//! The retries are this crate's own loop (`retry.rs`), not the SDK's retry policy (whose client is
//! built with retries off), for four reasons read in `aws-smithy-runtime` 1.16: the SDK's
//! standard and adaptive modes count attempts (`max_attempts`), not time, so a deadline can only
//! be imposed by its operation timeout, which ends a throttled read with a timeout error instead
//! of the `ThrottlingException` that tells the operator what happened; its pause is drawn without
//! regard to the deadline, so a read can sleep past it instead of making one last attempt; every
//! retry spends from a retry quota shared by the whole process (500 units, 5 per throttled retry:
//! `token_bucket.rs`), which about a dozen reads throttled all the way through would drain, after
//! which the SDK stops retrying until successes refill it one unit at a time (a many-account
//! instance reads an account at a time, storms included); and adaptive mode's client-side rate
//! limiter learns from one process's own requests, while a storm is many processes with one
//! request each. What the loop takes from the SDK: its lists of throttling and transient error
//! codes (`aws-runtime`'s `THROTTLING_ERRORS`, `TRANSIENT_ERRORS`), and the full-jitter formula of
//! its standard mode.
//!
//! Measured with 100 to 250 instances starting against a stand-in serving 40 requests a second
//! (BENCHMARKS.md, section 5): every callback of 100 instances starting over one second, or all
//! at once, answered `200` within 5 s, where the reads before this loop refused 18–26 and 46–49 of
//! them; past about 130 instances over a second (110 at once) the instances that wait longest
//! fail closed at the deadline, and every one answers its next callback. Against a stand-in
//! serving Secrets Manager's 10,000 a second the storm is not throttled at all (BENCHMARKS.md,
//! section 10).
//!
//! A read is logged once, `auth token loaded` or `auth token not loaded`, with the requests it
//! sent (`attempts`), how many were throttled (`throttled`) and how long it took (`read_ms`):
//! the dashboard's *auth token reads* table sums them per minute, so a storm that was ridden out
//! still shows. Callers arriving while a read is under way wait for it and take its outcome
//! instead of starting another read.

//! # Secrets
//!
//! Tokens are held as [`secrecy::SecretString`]: its `Debug` prints nothing of the value, it has
//! no `Display`, it cannot be serialised (the `serde` feature of `secrecy` is not enabled, and
//! [`AuthToken`] implements no serde trait), and `zeroize` overwrites its memory when it is
//! dropped: a re-read that replaces a token, or an account forgotten, leaves no copy behind in the
//! heap. Strings a token passes through on its way in (the SSM answer, the environment variable's
//! value) are overwritten too once the token is wrapped. What this cannot reach: the process
//! environment block itself (`TWILIO_AUTH_TOKEN` stays there for the life of the process, as in
//! every program configured through the environment), buffers inside the AWS SDK's HTTP and JSON
//! layers, and the HMAC's key block on the stack during one verification.

pub mod accounts;
pub(crate) mod retry;
pub mod secrets;
pub mod ssm;
pub mod store;

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroize;

use crate::sid::AccountSid;

pub use accounts::{
    AccountError, AccountSettings, AccountTokens, Clock, Footprint, ManualClock, SystemClock,
};
pub use store::TokenStore;

/// The environment variable holding the auth token itself (read by the config module).
pub const TOKEN_VAR: &str = "TWILIO_AUTH_TOKEN";
/// The environment variable holding the secondary auth token during a rotation.
pub const SECONDARY_TOKEN_VAR: &str = "TWILIO_AUTH_TOKEN_SECONDARY";
/// The environment variable naming the SSM parameter that holds the auth token.
pub const PARAMETER_VAR: &str = "TWILIO_AUTH_TOKEN_PARAMETER";
/// The environment variable naming the SSM parameter that holds the secondary auth token.
pub const SECONDARY_PARAMETER_VAR: &str = "TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER";

/// A sensible refresh interval for [`TokenStore::new`]: a token removed from SSM stops verifying
/// within a minute, a rotated one is picked up within half a minute, and an account's tokens are
/// read at most twice a minute per instance whatever the requests.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// After a failed read, how long from its start [`TokenStore::tokens`] answers with that failure
/// before it reads again (a read that lasted longer than this is followed by a new one at once).
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// How long after TaskRouter's 5 s began for a callback (docs/taskrouter.md §2) a token read for it
/// may go on: see the module docs' table.
pub const READ_BUDGET: Duration = Duration::from_secs(3);

/// The instant by which a token read must be over: no attempt begins in its last 250 ms, and an
/// attempt under way when it comes is abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    /// [`READ_BUDGET`] after `began`, the moment TaskRouter's 5 s began for the callback that
    /// waits on the read: the process start for the callback a cold start was for, the
    /// callback's arrival otherwise.
    pub fn after(began: std::time::Instant) -> Self {
        Self(Instant::from_std(began) + READ_BUDGET)
    }

    /// A deadline at `instant` (tests and tools set their own).
    pub fn at(instant: Instant) -> Self {
        Self(instant)
    }

    /// The instant itself.
    pub fn instant(self) -> Instant {
        self.0
    }

    /// Whether it still leaves time for an attempt to begin (see `retry::LAST_ATTEMPT`).
    pub(crate) fn leaves_time_for_an_attempt(self) -> bool {
        self.0
            .checked_sub(retry::LAST_ATTEMPT)
            .is_some_and(|latest| Instant::now() <= latest)
    }
}

/// Why no usable auth token is available.
///
/// At request time every variant means "cannot verify": the transport answers 503 so TaskRouter
/// tries the fallback URL (with many accounts, a parameter that does not exist is answered 403
/// instead: see [`AccountError`]). From the constructors of [`AuthToken`] and [`TokenSource`] they
/// are configuration errors that stop the function from starting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The value is empty or only whitespace.
    #[error("{origin} is empty: store the Twilio account's auth token there")]
    Empty {
        /// Where the value came from, e.g. ``ssm parameter `/taskrouter/auth-token` ``.
        origin: String,
    },
    /// The value is a JSON object, as the Secrets Manager console stores key/value secrets.
    #[error(
        "{origin} holds a JSON object, not an auth token: store the bare token as the plaintext value"
    )]
    JsonObject {
        /// Where the value came from.
        origin: String,
    },
    /// The configured parameter name cannot name an SSM parameter.
    #[error(
        "`{name}` is not a usable ssm parameter name: give a name or path without spaces, e.g. `/taskrouter/auth-token`"
    )]
    InvalidParameterName {
        /// The rejected name.
        name: String,
    },
    /// The parameter prefix of a many-account deployment cannot prefix SSM parameter names.
    #[error(
        "`{prefix}` is not a usable ssm parameter prefix: give a path that starts and ends with `/`, without spaces, at most 900 characters, e.g. `/taskrouter/accounts/`"
    )]
    InvalidParameterPrefix {
        /// The rejected prefix.
        prefix: String,
    },
    /// The primary parameter does not exist (in this account and region).
    #[error(
        "ssm parameter `{name}` not found: create it as a SecureString holding the Twilio account's auth token, or correct TWILIO_AUTH_TOKEN_PARAMETER (and check the region)"
    )]
    ParameterNotFound {
        /// The parameter that was asked for.
        name: String,
    },
    /// SSM (or KMS, decrypting) refused the function's role.
    #[error(
        "reading ssm parameter `{name}` was denied: allow the function's role ssm:GetParameter and ssm:GetParameters on it (and on its secondary) and kms:Decrypt on its key ({cause})"
    )]
    AccessDenied {
        /// The parameter that was asked for.
        name: String,
        /// The SDK's description of the failure.
        cause: String,
    },
    /// SSM could not be reached or did not answer in time, or answered with an unexpected error.
    #[error(
        "could not read ssm parameter `{name}`: {cause}; requests are refused until a later read succeeds"
    )]
    Unavailable {
        /// The parameter that was asked for.
        name: String,
        /// The SDK's description of the failure.
        cause: String,
    },
    /// Listing the accounts under a prefix was refused to the function's role.
    #[error(
        "listing the accounts under `{prefix}` was denied: allow the function's role {action} on it ({cause})"
    )]
    ListingDenied {
        /// The prefix listed.
        prefix: String,
        /// The IAM action to allow.
        action: &'static str,
        /// The SDK's description of the failure.
        cause: String,
    },
    /// The configured secret id cannot name a Secrets Manager secret.
    #[error(
        "`{id}` is not a usable secrets manager secret id: give the secret's name or ARN without spaces, e.g. `taskrouter/auth-token`"
    )]
    InvalidSecretId {
        /// The rejected id.
        id: String,
    },
    /// The secret name prefix of a many-account deployment cannot prefix secret names.
    #[error(
        "`{prefix}` is not a usable secrets manager name prefix: give letters, digits and / _ + = . @ - only, at most 400 characters, ending with `/`, e.g. `taskrouter/accounts/`"
    )]
    InvalidSecretPrefix {
        /// The rejected prefix.
        prefix: String,
    },
    /// The secret does not exist (in this account and region), or is scheduled for deletion.
    #[error(
        "secrets manager secret `{id}` not found: create it with the SecretString {{\"account_sid\": \"AC…\", \"auth_token\": \"…\"}}, or correct the secret's name (and check the region)"
    )]
    SecretNotFound {
        /// The secret that was asked for.
        id: String,
    },
    /// Secrets Manager (or KMS, decrypting) refused the function's role.
    #[error(
        "reading secrets manager secret `{id}` was denied: allow the function's role secretsmanager:GetSecretValue on it, and kms:Decrypt on its key when the key is customer-managed ({cause})"
    )]
    SecretAccessDenied {
        /// The secret that was asked for.
        id: String,
        /// The SDK's description of the failure.
        cause: String,
    },
    /// A version of the secret does not hold `{"account_sid": …, "auth_token": …}`.
    #[error(
        "secrets manager secret `{id}` ({stage}) is not usable: {reason}; store {{\"account_sid\": \"AC…\", \"auth_token\": \"…\"}} as its SecretString"
    )]
    SecretMalformed {
        /// The secret.
        id: String,
        /// The staging label of the version read (`AWSCURRENT`, `AWSPENDING`, `AWSPREVIOUS`).
        stage: &'static str,
        /// What is wrong with it (never the token).
        reason: String,
    },
    /// A version of the secret holds the token of another account than the one it serves.
    #[error(
        "secrets manager secret `{id}` ({stage}) holds the token of account `{found}` but serves account `{expected}`: store account `{expected}`'s SID and token in it"
    )]
    SecretAccountMismatch {
        /// The secret.
        id: String,
        /// The staging label of the version read.
        stage: &'static str,
        /// The account the secret serves: the one its name ends with, or, for the secret of a
        /// single-account deployment, the one its `AWSCURRENT` version holds.
        expected: AccountSid,
        /// The account the version holds.
        found: AccountSid,
    },
    /// Secrets Manager could not be reached or did not answer in time, or answered with an
    /// unexpected error.
    #[error(
        "could not read secrets manager secret `{id}`: {cause}; requests are refused until a later read succeeds"
    )]
    SecretUnavailable {
        /// The secret that was asked for.
        id: String,
        /// The SDK's description of the failure.
        cause: String,
    },
}

impl TokenError {
    /// Whether SSM answered and its answer holds no usable token: the parameter does not exist,
    /// the function's role may not read it, or its value is not a token. Asking again gets the
    /// same answer until someone changes the parameter or the role, so a store that held tokens
    /// drops them (as a cold start would refuse), and an account is remembered without a token
    /// for the refresh interval. [`TokenError::Unavailable`] (throttled, unreachable, no answer in
    /// time) is not such an answer: it says nothing about the tokens.
    pub fn means_no_token(&self) -> bool {
        !matches!(
            self,
            Self::Unavailable { .. } | Self::SecretUnavailable { .. }
        )
    }

    /// Whether the answer says the parameter or secret does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::ParameterNotFound { .. } | Self::SecretNotFound { .. }
        )
    }
}

/// A Twilio auth token: the HMAC key of `X-Twilio-Signature`.
///
/// A secret, held as a [`SecretString`]: `Debug` prints `AuthToken(***)`, there is no `Display`,
/// no serde trait, and no `PartialEq` that could tempt a comparison with attacker-supplied bytes
/// in variable time; its memory is overwritten when the last clone is dropped.
///
/// ```compile_fail
/// // An auth token cannot be serialised: this does not compile.
/// let token = taskrouter_lambda::token::AuthToken::new("s3cret".to_owned()).unwrap();
/// let _ = serde_json::to_string(&token);
/// ```
#[derive(Clone)]
pub struct AuthToken(SecretString);

impl AuthToken {
    /// Wraps a token, dropping surrounding whitespace (a value pasted from a file often ends in a
    /// newline, and no auth token contains whitespace, so the newline could only break every
    /// signature). `value` is overwritten before it is dropped, whatever the outcome.
    ///
    /// # Errors
    ///
    /// [`TokenError::Empty`] when nothing but whitespace is left, [`TokenError::JsonObject`] when
    /// the value is a JSON object.
    pub fn new(value: String) -> Result<Self, TokenError> {
        Self::from_origin(value, "the auth token")
    }

    /// As [`AuthToken::new`], naming `origin` in the error.
    pub(crate) fn from_origin(mut value: String, origin: &str) -> Result<Self, TokenError> {
        let wrapped = {
            let trimmed = value.trim();
            if trimmed.is_empty() {
                Err(TokenError::Empty {
                    origin: origin.to_owned(),
                })
            } else if trimmed.starts_with('{') {
                Err(TokenError::JsonObject {
                    origin: origin.to_owned(),
                })
            } else {
                // A copy of exactly the token's bytes into the secret's own allocation, so the
                // original string (whose capacity may be larger, and which a conversion to a
                // boxed str could reallocate without wiping) is ours to overwrite below.
                Ok(Self(SecretString::from(trimmed)))
            }
        };
        value.zeroize();
        wrapped
    }

    /// The token's bytes, to key the HMAC with. Never log them.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthToken(***)")
    }
}

/// The tokens a signature may be made with: the primary and, during a rotation, the secondary;
/// from Secrets Manager, also the previous token for a short grace after a rotation's promotion.
#[derive(Debug, Clone)]
pub struct TokenSet {
    primary: AuthToken,
    secondary: Option<AuthToken>,
    /// A token rotated out, accepted until the instant given (see [`secrets`]).
    previous: Option<(AuthToken, Instant)>,
}

impl TokenSet {
    /// A set of the primary token and an optional secondary one.
    pub fn new(primary: AuthToken, secondary: Option<AuthToken>) -> Self {
        Self {
            primary,
            secondary,
            previous: None,
        }
    }

    /// This set, also accepting `previous` until `until`. The store that holds the set stops
    /// handing it out with `previous` at `until` ([`TokenStore::tokens`]).
    pub fn with_previous(self, previous: AuthToken, until: Instant) -> Self {
        Self {
            previous: Some((previous, until)),
            ..self
        }
    }

    /// The primary token.
    pub fn primary(&self) -> &AuthToken {
        &self.primary
    }

    /// The secondary token, present while a rotation is under way.
    pub fn secondary(&self) -> Option<&AuthToken> {
        self.secondary.as_ref()
    }

    /// The token rotated out and until when it is accepted, during the grace after a promotion.
    pub fn previous(&self) -> Option<(&AuthToken, Instant)> {
        self.previous.as_ref().map(|(token, until)| (token, *until))
    }

    /// The HMAC keys to try, primary first, then the secondary, then the previous token.
    pub fn as_keys(&self) -> Vec<&[u8]> {
        std::iter::once(&self.primary)
            .chain(self.secondary.as_ref())
            .chain(self.previous.as_ref().map(|(token, _)| token))
            .map(AuthToken::expose)
            .collect()
    }

    /// This set without a previous token whose grace is over at `now`, or `None` when there is
    /// nothing to take out.
    pub(crate) fn without_expired(&self, now: Instant) -> Option<Self> {
        match self.previous {
            Some((_, until)) if now >= until => Some(Self {
                previous: None,
                ..self.clone()
            }),
            _ => None,
        }
    }

    /// Whether `other` holds the same tokens. Both sides are ours (never request input), so a
    /// variable-time comparison leaks nothing.
    pub(crate) fn same_tokens(&self, other: &Self) -> bool {
        self.as_keys() == other.as_keys()
    }
}

/// Where the auth token of a single-account deployment comes from, as the config module parsed it
/// from the environment.
///
/// `Debug` never shows a token; `Display` describes the source for logs.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// The token itself, from `TWILIO_AUTH_TOKEN` (and `TWILIO_AUTH_TOKEN_SECONDARY`).
    Env {
        /// The primary token.
        primary: AuthToken,
        /// The secondary token during a rotation.
        secondary: Option<AuthToken>,
    },
    /// SSM parameters holding the token, from `TWILIO_AUTH_TOKEN_PARAMETER` (and
    /// `TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER`).
    Parameter {
        /// The name (or path, or `/aws/reference/secretsmanager/<id>`) of the primary parameter.
        name: String,
        /// The parameter of the secondary token; it may not exist.
        secondary: Option<String>,
    },
    /// A Secrets Manager secret holding `{"account_sid": …, "auth_token": …}` in each of its
    /// staged versions, from `TWILIO_AUTH_TOKEN_SECRET_ID` ([`secrets`]).
    Secret {
        /// The secret's name or ARN.
        id: String,
        /// How long after a promotion the version rotated out (`AWSPREVIOUS`) is still accepted
        /// (`AUTH_TOKEN_PREVIOUS_GRACE_SECONDS`).
        grace: Duration,
    },
}

impl TokenSource {
    /// The tokens given directly, e.g. the values of `TWILIO_AUTH_TOKEN` and
    /// `TWILIO_AUTH_TOKEN_SECONDARY` (pass `None` when the latter is unset).
    ///
    /// # Errors
    ///
    /// [`TokenError::Empty`] (or [`TokenError::JsonObject`]) naming the variable whose value is
    /// not a token.
    pub fn env(primary: String, secondary: Option<String>) -> Result<Self, TokenError> {
        Ok(Self::Env {
            primary: AuthToken::from_origin(primary, &format!("env {TOKEN_VAR}"))?,
            secondary: secondary
                .map(|value| AuthToken::from_origin(value, &format!("env {SECONDARY_TOKEN_VAR}")))
                .transpose()?,
        })
    }

    /// The token in SSM parameter `name`, e.g. the values of `TWILIO_AUTH_TOKEN_PARAMETER` and
    /// `TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER` (pass `None` when the latter is unset).
    ///
    /// # Errors
    ///
    /// [`TokenError::InvalidParameterName`] when a name is empty or holds whitespace or control
    /// characters (a stray newline in the configuration would otherwise surface only as
    /// "not found" at every cold start).
    pub fn parameter(name: String, secondary: Option<String>) -> Result<Self, TokenError> {
        fn checked(name: String) -> Result<String, TokenError> {
            if usable_parameter_name(&name) {
                Ok(name)
            } else {
                Err(TokenError::InvalidParameterName { name })
            }
        }
        Ok(Self::Parameter {
            name: checked(name)?,
            secondary: secondary.map(checked).transpose()?,
        })
    }

    /// The Secrets Manager secret `id` (a name or an ARN), e.g. the value of
    /// `TWILIO_AUTH_TOKEN_SECRET_ID`, its previous version accepted for `grace` after a promotion.
    ///
    /// # Errors
    ///
    /// [`TokenError::InvalidSecretId`] when `id` is empty or holds whitespace or control
    /// characters.
    pub fn secret(id: String, grace: Duration) -> Result<Self, TokenError> {
        if usable_parameter_name(&id) {
            Ok(Self::Secret { id, grace })
        } else {
            Err(TokenError::InvalidSecretId { id })
        }
    }
}

/// Whether `name` can name an SSM parameter as far as this function can tell: not empty, no
/// whitespace, no control characters. SSM itself checks the rest.
pub(crate) fn usable_parameter_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env {
                secondary: None, ..
            } => write!(f, "env {TOKEN_VAR}"),
            Self::Env {
                secondary: Some(_), ..
            } => write!(f, "env {TOKEN_VAR} and {SECONDARY_TOKEN_VAR}"),
            Self::Parameter {
                name,
                secondary: None,
            } => write!(f, "ssm parameter {name}"),
            Self::Parameter {
                name,
                secondary: Some(secondary),
            } => write!(f, "ssm parameter {name} (secondary {secondary})"),
            Self::Secret { id, .. } => write!(f, "secrets manager secret {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_tokens_sets_and_sources_hides_the_token() {
        let source = TokenSource::env("s3cret-primary".to_owned(), Some("s3cret-next".to_owned()))
            .expect("valid tokens");
        let TokenSource::Env { primary, secondary } = source.clone() else {
            panic!("an env source");
        };
        let set = TokenSet::new(primary.clone(), secondary);
        let printed = [
            (format!("{primary:?}"), "AuthToken"),
            (format!("{primary:#?}"), "AuthToken, pretty"),
            (format!("{set:?}"), "TokenSet"),
            (format!("{source:?}"), "TokenSource"),
            (format!("{source}"), "TokenSource as Display"),
        ];
        for (text, what) in &printed {
            assert!(!text.contains("s3cret"), "{what} leaked the token: {text}");
        }
        assert_eq!(printed[0].0, "AuthToken(***)");
        assert!(printed[2].0.contains("AuthToken(***)"), "{}", printed[2].0);
    }

    #[test]
    fn empty_and_json_values_are_refused_and_surrounding_whitespace_is_dropped() {
        let refused = [
            ("", "empty"),
            ("   ", "spaces"),
            ("\n", "a lone newline"),
            (
                "{\"token\":\"abc\"}",
                "a Secrets Manager key/value secret is JSON",
            ),
        ];
        for (value, why) in refused {
            assert!(AuthToken::new(value.to_owned()).is_err(), "{why}");
        }
        let kept = [
            ("abc123", "abc123", "a plain token is kept as given"),
            (
                "abc123\n",
                "abc123",
                "a trailing newline from a file is dropped",
            ),
            ("  abc123 ", "abc123", "surrounding spaces are dropped"),
        ];
        for (value, expected, why) in kept {
            let token = AuthToken::new(value.to_owned()).expect(why);
            assert_eq!(token.expose(), expected.as_bytes(), "{why}");
        }
    }

    #[test]
    fn a_token_is_held_in_a_secret_that_is_wiped_on_drop() {
        // The type is the guarantee: `SecretBox<str>` zeroizes its allocation in `Drop`
        // (secrecy's own tests cover the wiping). This pins that the token is held in one, so a
        // change back to a plain `String` fails here.
        fn held_in_a_secret(token: &AuthToken) -> &SecretString {
            &token.0
        }
        let token = AuthToken::new("abc123".to_owned()).expect("a token");
        assert_eq!(held_in_a_secret(&token).expose_secret(), "abc123");
    }

    #[test]
    fn errors_name_their_input_and_say_what_to_do() {
        let cases = [
            (
                TokenSource::env(" ".to_owned(), None).expect_err("blank primary"),
                "env TWILIO_AUTH_TOKEN is empty: store the Twilio account's auth token there",
            ),
            (
                TokenSource::env("abc".to_owned(), Some(String::new()))
                    .expect_err("empty secondary"),
                "env TWILIO_AUTH_TOKEN_SECONDARY is empty: store the Twilio account's auth token there",
            ),
            (
                TokenSource::parameter("/taskrouter/auth-token\n".to_owned(), None)
                    .expect_err("a newline in the name"),
                "`/taskrouter/auth-token\n` is not a usable ssm parameter name: give a name or path without spaces, e.g. `/taskrouter/auth-token`",
            ),
            (
                TokenSource::parameter("/a".to_owned(), Some(String::new()))
                    .expect_err("an empty secondary name"),
                "`` is not a usable ssm parameter name: give a name or path without spaces, e.g. `/taskrouter/auth-token`",
            ),
            (
                TokenError::ParameterNotFound {
                    name: "/taskrouter/auth-token".to_owned(),
                },
                "ssm parameter `/taskrouter/auth-token` not found: create it as a SecureString holding the Twilio account's auth token, or correct TWILIO_AUTH_TOKEN_PARAMETER (and check the region)",
            ),
            (
                TokenError::Unavailable {
                    name: "/taskrouter/auth-token".to_owned(),
                    cause: "dispatch failure".to_owned(),
                },
                "could not read ssm parameter `/taskrouter/auth-token`: dispatch failure; requests are refused until a later read succeeds",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn sources_describe_themselves_without_tokens() {
        let cases = [
            (
                TokenSource::env("abc".to_owned(), None),
                "env TWILIO_AUTH_TOKEN",
                "env, primary only",
            ),
            (
                TokenSource::env("abc".to_owned(), Some("def".to_owned())),
                "env TWILIO_AUTH_TOKEN and TWILIO_AUTH_TOKEN_SECONDARY",
                "env with a secondary",
            ),
            (
                TokenSource::parameter("/x/y".to_owned(), None),
                "ssm parameter /x/y",
                "one parameter",
            ),
            (
                TokenSource::parameter("/x/y".to_owned(), Some("/x/z".to_owned())),
                "ssm parameter /x/y (secondary /x/z)",
                "with a secondary parameter",
            ),
        ];
        for (source, expected, why) in cases {
            assert_eq!(source.expect(why).to_string(), expected, "{why}");
        }
    }
}
