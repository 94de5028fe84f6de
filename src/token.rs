//! The Twilio auth token: where it comes from and the cache that keeps it for the process.
//!
//! `X-Twilio-Signature` is an HMAC keyed with the account's auth token (contract §4), so every
//! callback needs the token before anything else can be trusted. This module is the only one that
//! touches the network: it reads the token once per cold start and keeps it.
//!
//! # Sources
//!
//! The config module turns the environment into a [`TokenSource`]; this module never reads the
//! environment itself.
//!
//! - [`TokenSource::Env`]: the token in `TWILIO_AUTH_TOKEN` (and optionally
//!   `TWILIO_AUTH_TOKEN_SECONDARY`). Ready at once; AWS is never contacted, which keeps the cold
//!   start short.
//! - [`TokenSource::Parameter`]: the name in `TWILIO_AUTH_TOKEN_PARAMETER` of an SSM Parameter
//!   Store `SecureString` (and optionally `TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER`), read with
//!   `GetParameter` and `WithDecryption=true`. A secondary parameter that does not exist is not an
//!   error: there is simply no secondary token.
//!
//! A Secrets Manager secret is read through the same `GetParameter` call by naming it
//! `/aws/reference/secretsmanager/<secret-id>`
//! (<https://docs.aws.amazon.com/systems-manager/latest/userguide/integration-ps-secretsmanager.html>).
//! The secret must hold the bare token as its plaintext value, not a JSON key/value object; the
//! function's role then needs `secretsmanager:GetSecretValue` on the secret as well as
//! `ssm:GetParameter`.
//!
//! # Rotation
//!
//! Twilio accepts the secondary auth token while a rotation is under way (contract §4), so a
//! [`TokenSet`] holds a primary and an optional secondary and a signature matching either is
//! accepted. When a signature matches neither, the caller asks
//! [`TokenStore::refresh_after_mismatch`]: the parameters are read again, at most once per refresh
//! interval, so a token rotated in SSM is picked up without a cold start while a stream of forged
//! requests cannot turn into a stream of SSM calls.
//!
//! # Failing closed, within TaskRouter's deadline
//!
//! TaskRouter waits five seconds for an answer, cold start included, then calls the fallback URL
//! (contract §2, §3). Without a token nothing can be verified, so [`TokenStore::tokens`] returns an
//! error (the transport answers 503) and a later call reads again. The figures:
//!
//! | what | figure | why |
//! |---|---|---|
//! | whole `GetParameter` call, retries included | 2 s | leaves 3 s of the 5 s for the cold start and the answer |
//! | one attempt | 1 s | an in-region SSM call takes tens of milliseconds; a hung connection should not use the whole budget |
//! | TCP + TLS connect | 1 s | as above |
//! | attempts | 2, backoff ≤ 200 ms | one retry rides out a dropped connection; more would not fit |
//! | reads after a failure | at most one per second ([`RETRY_AFTER_FAILURE`]) | under load, requests answer 503 at once instead of queueing behind SSM |
//! | re-reads after a mismatch | at most one per refresh interval (config, e.g. [`DEFAULT_REFRESH_INTERVAL`]) | forged signatures must not drive SSM traffic |
//!
//! Both intervals run from the end of the last read, so callers queued behind a slow read see its
//! outcome instead of starting another read. The primary and secondary parameters are read
//! concurrently, so a read of both is bounded by the same 2 s.
//!
//! The token is never logged: [`AuthToken`]'s `Debug` prints `AuthToken(***)` and it has no
//! `Display`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use aws_sdk_ssm::types::ParameterType;
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

/// The environment variable holding the auth token itself (read by the config module).
pub const TOKEN_VAR: &str = "TWILIO_AUTH_TOKEN";
/// The environment variable holding the secondary auth token during a rotation.
pub const SECONDARY_TOKEN_VAR: &str = "TWILIO_AUTH_TOKEN_SECONDARY";
/// The environment variable naming the SSM parameter that holds the auth token.
pub const PARAMETER_VAR: &str = "TWILIO_AUTH_TOKEN_PARAMETER";
/// The environment variable naming the SSM parameter that holds the secondary auth token.
pub const SECONDARY_PARAMETER_VAR: &str = "TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER";

/// A sensible refresh interval for [`TokenStore::new`]: a rotated token is picked up within a
/// minute, and forged requests cost at most one SSM read a minute per instance.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// After a failed read, how long [`TokenStore::tokens`] answers with that failure before it reads
/// again.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// The whole `GetParameter` call, retries and backoff included.
const SSM_OPERATION_TIMEOUT: Duration = Duration::from_secs(2);
/// One attempt of the call.
const SSM_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
/// Establishing the connection (TCP and TLS).
const SSM_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Attempts per call, the first included.
const SSM_MAX_ATTEMPTS: u32 = 2;
/// Upper bound of the jittered backoff before the retry.
const SSM_MAX_BACKOFF: Duration = Duration::from_millis(200);

/// Why no usable auth token is available.
///
/// At request time every variant means "cannot verify": the transport answers 503 so TaskRouter
/// tries the fallback URL. From the constructors of [`AuthToken`] and [`TokenSource`] they are
/// configuration errors that stop the function from starting.
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
        "reading ssm parameter `{name}` was denied: allow the function's role ssm:GetParameter on it and kms:Decrypt on its key ({cause})"
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
}

/// A Twilio auth token: the HMAC key of `X-Twilio-Signature`.
///
/// It is a secret: `Debug` prints `AuthToken(***)`, there is no `Display`, and there is no
/// `PartialEq` that could tempt a comparison with attacker-supplied bytes in variable time.
#[derive(Clone)]
pub struct AuthToken(String);

impl AuthToken {
    /// Wraps a token, dropping surrounding whitespace (a value pasted from a file often ends in a
    /// newline, and no auth token contains whitespace, so the newline could only break every
    /// signature).
    ///
    /// # Errors
    ///
    /// [`TokenError::Empty`] when nothing but whitespace is left, [`TokenError::JsonObject`] when
    /// the value is a JSON object.
    pub fn new(value: String) -> Result<Self, TokenError> {
        Self::from_origin(value, "the auth token")
    }

    /// As [`AuthToken::new`], naming `origin` in the error.
    fn from_origin(value: String, origin: &str) -> Result<Self, TokenError> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(TokenError::Empty {
                origin: origin.to_owned(),
            });
        }
        if trimmed.starts_with('{') {
            return Err(TokenError::JsonObject {
                origin: origin.to_owned(),
            });
        }
        if trimmed.len() == value.len() {
            Ok(Self(value))
        } else {
            Ok(Self(trimmed.to_owned()))
        }
    }

    /// The token's bytes, to key the HMAC with. Never log them.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthToken(***)")
    }
}

/// The tokens a signature may be made with: the primary and, during a rotation, the secondary.
#[derive(Debug, Clone)]
pub struct TokenSet {
    primary: AuthToken,
    secondary: Option<AuthToken>,
}

impl TokenSet {
    /// A set of the primary token and an optional secondary one.
    pub fn new(primary: AuthToken, secondary: Option<AuthToken>) -> Self {
        Self { primary, secondary }
    }

    /// The primary token.
    pub fn primary(&self) -> &AuthToken {
        &self.primary
    }

    /// The secondary token, present while a rotation is under way.
    pub fn secondary(&self) -> Option<&AuthToken> {
        self.secondary.as_ref()
    }

    /// The HMAC keys to try, primary first.
    pub fn as_keys(&self) -> Vec<&[u8]> {
        std::iter::once(&self.primary)
            .chain(self.secondary.as_ref())
            .map(AuthToken::expose)
            .collect()
    }

    /// Whether `other` holds the same tokens. Both sides are ours (never request input), so a
    /// variable-time comparison leaks nothing.
    fn same_tokens(&self, other: &Self) -> bool {
        self.as_keys() == other.as_keys()
    }
}

/// Where the auth token comes from, as the config module parsed it from the environment.
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
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                Err(TokenError::InvalidParameterName { name })
            } else {
                Ok(name)
            }
        }
        Ok(Self::Parameter {
            name: checked(name)?,
            secondary: secondary.map(checked).transpose()?,
        })
    }
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
        }
    }
}

/// The auth tokens for the life of the process: loaded once, re-read only after a signature
/// mismatch (rotation) or a failed load.
///
/// Shared by reference between requests; all methods take `&self` and are safe to call
/// concurrently. Concurrent callers that need a read share one.
pub struct TokenStore {
    origin: Origin,
    description: String,
    refresh_interval: Duration,
    /// The last good set, or why there is none yet. Once a set is loaded it is only ever replaced
    /// by a newer good set: a failed re-read keeps it.
    slot: RwLock<Slot>,
    /// Held for the duration of a read, so concurrent callers wait for its outcome instead of
    /// starting reads of their own.
    gate: Mutex<Gate>,
    reads: AtomicU64,
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
    Ready(Arc<TokenSet>),
    Failed(TokenError),
}

struct Gate {
    /// When the last read finished, successful or not.
    last_read: Option<Instant>,
}

impl Gate {
    fn read_within(&self, interval: Duration) -> bool {
        self.last_read
            .is_some_and(|finished| finished.elapsed() < interval)
    }
}

impl TokenStore {
    /// Builds the store. `Env`: ready at once, without touching AWS. `Parameter`: loads the AWS
    /// SDK configuration the standard way (`AWS_REGION`, credentials, and `AWS_ENDPOINT_URL` /
    /// `AWS_ENDPOINT_URL_SSM` when set), then tries the first read. A failed read is remembered,
    /// not fatal: [`TokenStore::tokens`] reports it and reads again later.
    ///
    /// `refresh_interval` bounds how often [`TokenStore::refresh_after_mismatch`] reads SSM.
    pub async fn new(source: TokenSource, refresh_interval: Duration) -> TokenStore {
        let description = source.to_string();
        match source {
            TokenSource::Env { primary, secondary } => Self::fixed(
                TokenSet::new(primary, secondary),
                description,
                refresh_interval,
            ),
            TokenSource::Parameter { name, secondary } => {
                // Loaded only here: the env source must not pay for AWS configuration at cold start.
                let sdk_config = aws_config::defaults(BehaviorVersion::latest()).load().await;
                let parameters = SsmParameters::new(&sdk_config, name, secondary);
                Self::loading(Origin::Ssm(parameters), description, refresh_interval).await
            }
        }
    }

    /// As [`TokenStore::new`], with an SDK configuration built by the caller (an endpoint,
    /// region or credentials of its choosing). The SSM client's timeouts and retries are set here
    /// whatever `sdk_config` says, so a read always fits TaskRouter's deadline. `sdk_config` is
    /// ignored for an `Env` source.
    pub async fn with_sdk_config(
        source: TokenSource,
        refresh_interval: Duration,
        sdk_config: &SdkConfig,
    ) -> TokenStore {
        let description = source.to_string();
        match source {
            TokenSource::Env { primary, secondary } => Self::fixed(
                TokenSet::new(primary, secondary),
                description,
                refresh_interval,
            ),
            TokenSource::Parameter { name, secondary } => {
                let parameters = SsmParameters::new(sdk_config, name, secondary);
                Self::loading(Origin::Ssm(parameters), description, refresh_interval).await
            }
        }
    }

    fn fixed(set: TokenSet, description: String, refresh_interval: Duration) -> TokenStore {
        TokenStore {
            origin: Origin::Fixed,
            description,
            refresh_interval,
            slot: RwLock::new(Slot::Ready(Arc::new(set))),
            gate: Mutex::new(Gate { last_read: None }),
            reads: AtomicU64::new(0),
        }
    }

    /// A store over `origin` after its first read, successful or not.
    async fn loading(origin: Origin, description: String, refresh_interval: Duration) -> Self {
        let outcome = origin.read().await;
        log_load(&description, &outcome);
        let slot = match outcome {
            Ok(set) => Slot::Ready(Arc::new(set)),
            Err(error) => Slot::Failed(error),
        };
        TokenStore {
            origin,
            description,
            refresh_interval,
            slot: RwLock::new(slot),
            gate: Mutex::new(Gate {
                last_read: Some(Instant::now()),
            }),
            reads: AtomicU64::new(1),
        }
    }

    /// The current tokens.
    ///
    /// # Errors
    ///
    /// The reason no token has been loaded yet. After a failure the source is read again on the
    /// first call at least [`RETRY_AFTER_FAILURE`] after the failed read ended; calls in between
    /// get the same error at once.
    pub async fn tokens(&self) -> Result<Arc<TokenSet>, TokenError> {
        if let Ok(set) = self.current().await {
            return Ok(set);
        }
        let mut gate = self.gate.lock().await;
        self.load_unless_recently_failed(&mut gate).await
    }

    /// Reads the source again after a signature matched none of the current tokens, in case the
    /// token was rotated. Returns the new set when the read succeeded and found tokens different
    /// from those held; `None` when there is nothing new to try: the source was read less than
    /// the refresh interval ago, the read failed (the tokens held are kept), the tokens are
    /// unchanged, or the source is `Env`.
    ///
    /// Callers that arrive while another caller's read is under way wait for it and get its
    /// result instead of reading again.
    pub async fn refresh_after_mismatch(&self) -> Option<Arc<TokenSet>> {
        if matches!(self.origin, Origin::Fixed) {
            return None;
        }
        let seen = self.current().await.ok();
        let mut gate = self.gate.lock().await;
        let Some(seen) = seen else {
            // Nothing was loaded, so there was nothing to mismatch: load as `tokens()` would.
            return self.load_unless_recently_failed(&mut gate).await.ok();
        };
        // Once a set is loaded the slot only ever holds a set.
        let held = self.current().await.ok()?;
        if !Arc::ptr_eq(&seen, &held) {
            // Another caller's read replaced the set while this one waited for the gate.
            return Some(held);
        }
        if gate.read_within(self.refresh_interval) {
            return None;
        }
        match self.read(&mut gate).await {
            Ok(fresh) if fresh.same_tokens(&held) => {
                tracing::info!(source = %self.description, "auth token re-read: unchanged");
                None
            }
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *self.slot.write().await = Slot::Ready(Arc::clone(&fresh));
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
    /// included (each read is one `GetParameter` per configured parameter). Always `0` for `Env`.
    /// For metrics and tests.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    async fn current(&self) -> Result<Arc<TokenSet>, TokenError> {
        match &*self.slot.read().await {
            Slot::Ready(set) => Ok(Arc::clone(set)),
            Slot::Failed(error) => Err(error.clone()),
        }
    }

    /// With the gate held: the loaded set, or the last failure if it is recent, or a new read.
    async fn load_unless_recently_failed(
        &self,
        gate: &mut Gate,
    ) -> Result<Arc<TokenSet>, TokenError> {
        match self.current().await {
            Ok(set) => return Ok(set),
            Err(error) if gate.read_within(RETRY_AFTER_FAILURE) => return Err(error),
            Err(_) => {}
        }
        let outcome = self.read(gate).await;
        log_load(&self.description, &outcome);
        match outcome {
            Ok(set) => {
                let set = Arc::new(set);
                *self.slot.write().await = Slot::Ready(Arc::clone(&set));
                Ok(set)
            }
            Err(error) => {
                *self.slot.write().await = Slot::Failed(error.clone());
                Err(error)
            }
        }
    }

    /// Reads the source once, counting the read and recording when it ended.
    async fn read(&self, gate: &mut Gate) -> Result<TokenSet, TokenError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let outcome = self.origin.read().await;
        gate.last_read = Some(Instant::now());
        outcome
    }
}

/// Logs the outcome of a load (never the token).
fn log_load(description: &str, outcome: &Result<TokenSet, TokenError>) {
    match outcome {
        Ok(set) => tracing::info!(
            source = description,
            secondary = set.secondary().is_some(),
            "auth token loaded"
        ),
        Err(error) => tracing::warn!(source = description, %error, "auth token not loaded"),
    }
}

impl Origin {
    async fn read(&self) -> Result<TokenSet, TokenError> {
        match self {
            // Never asked: a fixed store's slot always holds its set and it is never refreshed.
            Self::Fixed => Err(TokenError::Unavailable {
                name: "(none)".to_owned(),
                cause: "tokens given in the configuration cannot be re-read".to_owned(),
            }),
            Self::Ssm(parameters) => parameters.read().await,
            #[cfg(test)]
            Self::Scripted(script) => script.next().await,
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

/// The SSM parameters of a [`TokenSource::Parameter`] and the client that reads them.
struct SsmParameters {
    client: aws_sdk_ssm::Client,
    name: String,
    secondary: Option<String>,
}

impl SsmParameters {
    /// A client for `sdk_config` with this module's timeouts and retries (see the module docs).
    fn new(sdk_config: &SdkConfig, name: String, secondary: Option<String>) -> Self {
        let ssm_config = aws_sdk_ssm::config::Builder::from(sdk_config)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(SSM_CONNECT_TIMEOUT)
                    .operation_attempt_timeout(SSM_ATTEMPT_TIMEOUT)
                    .operation_timeout(SSM_OPERATION_TIMEOUT)
                    .build(),
            )
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(SSM_MAX_ATTEMPTS)
                    .with_initial_backoff(SSM_MAX_BACKOFF / 2)
                    .with_max_backoff(SSM_MAX_BACKOFF),
            )
            .build();
        Self {
            client: aws_sdk_ssm::Client::from_conf(ssm_config),
            name,
            secondary,
        }
    }

    async fn read(&self) -> Result<TokenSet, TokenError> {
        match &self.secondary {
            None => Ok(TokenSet::new(self.get(&self.name).await?, None)),
            Some(secondary) => {
                let (primary, secondary) =
                    tokio::join!(self.get(&self.name), self.get_if_present(secondary));
                Ok(TokenSet::new(primary?, secondary?))
            }
        }
    }

    /// The secondary parameter: one that does not exist just means no rotation is under way.
    async fn get_if_present(&self, name: &str) -> Result<Option<AuthToken>, TokenError> {
        match self.get(name).await {
            Ok(token) => Ok(Some(token)),
            Err(TokenError::ParameterNotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn get(&self, name: &str) -> Result<AuthToken, TokenError> {
        let output = self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|error| classify(name, &error))?;
        let Some(parameter) = output.parameter else {
            return Err(TokenError::Unavailable {
                name: name.to_owned(),
                cause: "the answer held no parameter".to_owned(),
            });
        };
        if parameter.r#type() != Some(&ParameterType::SecureString) {
            tracing::warn!(
                parameter = name,
                "ssm parameter is not a SecureString: store the auth token encrypted"
            );
        }
        AuthToken::from_origin(
            parameter.value.unwrap_or_default(),
            &format!("ssm parameter `{name}`"),
        )
    }
}

/// Turns an SDK failure into the variant that tells the operator what to fix.
fn classify<R>(name: &str, error: &SdkError<GetParameterError, R>) -> TokenError
where
    R: fmt::Debug,
{
    let name = name.to_owned();
    if matches!(
        error.as_service_error(),
        Some(GetParameterError::ParameterNotFound(_))
    ) {
        return TokenError::ParameterNotFound { name };
    }
    let cause = DisplayErrorContext(error).to_string();
    // SSM has no modelled error for a missing permission; it arrives as an unmodelled code.
    if error.code() == Some("AccessDeniedException") {
        TokenError::AccessDenied { name, cause }
    } else {
        TokenError::Unavailable { name, cause }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// Replies for [`Origin::Scripted`], each after `delay` so concurrent callers overlap.
    pub(super) struct Script {
        replies: std::sync::Mutex<VecDeque<Result<TokenSet, TokenError>>>,
        delay: Duration,
    }

    impl Script {
        pub(super) async fn next(&self) -> Result<TokenSet, TokenError> {
            tokio::time::sleep(self.delay).await;
            self.replies
                .lock()
                .expect("the script's lock is never poisoned")
                .pop_front()
                .expect("the script has a reply for every read the test expects")
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

    async fn scripted(
        replies: Vec<Result<TokenSet, TokenError>>,
        refresh_interval: Duration,
    ) -> TokenStore {
        let script = Script {
            replies: std::sync::Mutex::new(replies.into()),
            delay: Duration::from_millis(50),
        };
        TokenStore::loading(
            Origin::Scripted(script),
            "scripted".to_owned(),
            refresh_interval,
        )
        .await
    }

    const HOUR: Duration = Duration::from_secs(3600);

    fn keys(set: &TokenSet) -> Vec<String> {
        set.as_keys()
            .into_iter()
            .map(|key| String::from_utf8_lossy(key).into_owned())
            .collect()
    }

    #[tokio::test]
    async fn debug_of_every_token_type_hides_the_token() {
        let source = TokenSource::env("s3cret-primary".to_owned(), Some("s3cret-next".to_owned()))
            .expect("valid tokens");
        let TokenSource::Env { primary, secondary } = source.clone() else {
            panic!("an env source");
        };
        let set = TokenSet::new(primary.clone(), secondary);
        let store = TokenStore::new(source.clone(), DEFAULT_REFRESH_INTERVAL).await;
        let printed = [
            (format!("{primary:?}"), "AuthToken"),
            (format!("{set:?}"), "TokenSet"),
            (format!("{source:?}"), "TokenSource"),
            (format!("{source}"), "TokenSource as Display"),
            (format!("{store:?}"), "TokenStore"),
        ];
        for (text, what) in &printed {
            assert!(!text.contains("s3cret"), "{what} leaked the token: {text}");
        }
        assert_eq!(printed[0].0, "AuthToken(***)");
        assert!(printed[1].0.contains("AuthToken(***)"), "{}", printed[1].0);
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
                unreachable(),
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

    #[tokio::test]
    async fn an_env_source_is_ready_at_once_and_never_re_read() {
        let source = TokenSource::env("abc".to_owned(), Some("def".to_owned())).expect("valid");
        let store = TokenStore::new(source, Duration::ZERO).await;
        let tokens = store.tokens().await.expect("env tokens are always ready");
        assert_eq!(keys(&tokens), ["abc", "def"]);
        assert!(store.refresh_after_mismatch().await.is_none());
        assert_eq!(store.reads(), 0);
        assert_eq!(
            store.describe_source(),
            "env TWILIO_AUTH_TOKEN and TWILIO_AUTH_TOKEN_SECONDARY"
        );
    }

    // The tests below run on real time: pausing it needs tokio's `test-util` feature. They only
    // rely on "less than a second passes between two statements" and on sleeps lasting at least
    // as long as asked.

    #[tokio::test]
    async fn a_failed_load_is_answered_from_memory_until_the_retry_spacing_has_passed() {
        let store = scripted(vec![Err(unreachable()), Ok(set("abc", None))], HOUR).await;
        assert_eq!(
            store.reads(),
            1,
            "the first load happens in the constructor"
        );

        assert_eq!(
            store.tokens().await.expect_err("still failed"),
            unreachable()
        );
        assert_eq!(
            store.reads(),
            1,
            "within the spacing the failure is not re-read"
        );

        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
        let tokens = store.tokens().await.expect("the second read succeeds");
        assert_eq!(keys(&tokens), ["abc"]);
        assert_eq!(store.reads(), 2);

        store.tokens().await.expect("a loaded set is kept");
        assert_eq!(store.reads(), 2, "a loaded set is not read again");
    }

    #[tokio::test]
    async fn concurrent_callers_after_a_failure_share_one_read() {
        let store = scripted(vec![Err(unreachable()), Ok(set("abc", None))], HOUR).await;
        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
        let store = Arc::new(store);
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let store = Arc::clone(&store);
            callers.spawn(async move { store.tokens().await });
        }
        for result in callers.join_all().await {
            let tokens = result.expect("every caller gets the one read's tokens");
            assert_eq!(keys(&tokens), ["abc"]);
        }
        assert_eq!(store.reads(), 2, "eight callers, one read");
    }

    #[tokio::test]
    async fn a_mismatch_within_the_refresh_interval_does_not_read_again() {
        let store = scripted(vec![Ok(set("abc", None))], HOUR).await;
        assert!(store.refresh_after_mismatch().await.is_none());
        assert_eq!(store.reads(), 1, "only the first load");
    }

    #[tokio::test]
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
            .refresh_after_mismatch()
            .await
            .expect("a rotated token");
        assert_eq!(keys(&fresh), ["new", "old"]);
        assert_eq!(keys(&store.tokens().await.expect("loaded")), ["new", "old"]);
        assert_eq!(store.reads(), 2);

        assert!(
            store.refresh_after_mismatch().await.is_none(),
            "an unchanged set offers nothing new to try"
        );
        assert_eq!(store.reads(), 3, "but it was read");
    }

    #[tokio::test]
    async fn a_failed_re_read_keeps_the_tokens_already_loaded() {
        let store = scripted(
            vec![Ok(set("abc", None)), Err(unreachable())],
            Duration::ZERO,
        )
        .await;
        assert!(store.refresh_after_mismatch().await.is_none());
        assert_eq!(store.reads(), 2, "the re-read was attempted");
        assert_eq!(keys(&store.tokens().await.expect("kept")), ["abc"]);
    }

    #[tokio::test]
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
            callers.spawn(async move { store.refresh_after_mismatch().await });
        }
        for result in callers.join_all().await {
            let fresh = result.expect("every caller gets the re-read set");
            assert_eq!(keys(&fresh), ["new"]);
        }
        assert_eq!(store.reads(), 2, "eight callers, one re-read");
    }
}
