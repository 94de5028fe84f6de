//! Credentials and the base URL of the REST API, read from the environment as Twilio's own tools
//! read them.
//!
//! - Credentials (docs/taskrouter.md §7; Twilio's CLI, `@twilio/cli-core` `src/services/config.js`,
//!   `getProfileFromEnvironment`): `TWILIO_ACCOUNT_SID` always; with `TWILIO_API_KEY` and
//!   `TWILIO_API_SECRET` when both are set (HTTP Basic with the key SID and its secret), otherwise
//!   with `TWILIO_AUTH_TOKEN` (Basic with the account SID and the token).
//! - The host (twilio-node `BaseTwilio.getHostname`, twilio-python `ClientBase.get_hostname`):
//!   `taskrouter.twilio.com`, or with a region and an edge `taskrouter.{edge}.{region}.twilio.com`;
//!   an edge without a region uses the region `us1`, a region without an edge gives
//!   `taskrouter.{region}.twilio.com`.
//! - `TASKROUTER_API_URL` replaces the scheme and host (a proxy, a mock such as Prism); with it
//!   set, nothing else changes: the same paths, the same credentials.
//!
//! Reading goes through a lookup function ([`RestConfig::from_lookup`]) so tests never change the
//! process environment. An empty value counts as unset, as in the function's configuration.

use secrecy::{ExposeSecret, SecretString};

use crate::sid::{AccountSid, ApiKeySid, SidError};

/// The account the requests act for.
pub const ACCOUNT_SID: &str = "TWILIO_ACCOUNT_SID";
/// The account's auth token: the variable the function reads its token from too.
pub const AUTH_TOKEN: &str = crate::token::TOKEN_VAR;
/// An API key SID (`SK…`), used with [`API_SECRET`] instead of the auth token.
pub const API_KEY: &str = "TWILIO_API_KEY";
/// The API key's secret.
pub const API_SECRET: &str = "TWILIO_API_SECRET";
/// A Twilio region, e.g. `au1`, `ie1`.
pub const REGION: &str = "TWILIO_REGION";
/// A Twilio edge location, e.g. `sydney`, `dublin`.
pub const EDGE: &str = "TWILIO_EDGE";
/// A base URL replacing `https://taskrouter.twilio.com` (tests, proxies).
pub const API_URL: &str = "TASKROUTER_API_URL";

/// The default host (docs/taskrouter.md §7; the `servers` entry of Twilio's OpenAPI description).
const PRODUCT: &str = "taskrouter";
/// The domain every regional host ends with.
const DOMAIN: &str = "twilio.com";
/// The region an edge alone implies (twilio-node `getHostname`: `defaultRegion = "us1"`).
const DEFAULT_REGION: &str = "us1";

/// Who the requests authenticate as.
///
/// The auth token and the API key's secret are [`SecretString`]s, as the function holds its
/// tokens (`crate::token`): `Debug` prints `[REDACTED]`, there is no `Display`, and the memory is
/// overwritten when dropped. No `PartialEq` either: nothing should compare secrets.
#[derive(Debug, Clone)]
pub struct Credentials {
    account_sid: AccountSid,
    login: Login,
    auth_token: Option<SecretString>,
}

/// The HTTP Basic user name and password.
#[derive(Debug, Clone)]
enum Login {
    /// The account SID and its auth token.
    AuthToken,
    /// An API key SID and its secret.
    ApiKey {
        key: ApiKeySid,
        secret: SecretString,
    },
}

impl Credentials {
    /// The account SID with its auth token.
    pub fn auth_token(account_sid: AccountSid, auth_token: SecretString) -> Self {
        Self {
            account_sid,
            login: Login::AuthToken,
            auth_token: Some(auth_token),
        }
    }

    /// An API key and its secret for the account; `auth_token`, when also known, is kept for
    /// signing (`connect --check`), never used to log in.
    pub fn api_key(
        account_sid: AccountSid,
        key: ApiKeySid,
        secret: SecretString,
        auth_token: Option<SecretString>,
    ) -> Self {
        Self {
            account_sid,
            login: Login::ApiKey { key, secret },
            auth_token,
        }
    }

    /// The account the requests act for.
    pub fn account_sid(&self) -> &AccountSid {
        &self.account_sid
    }

    /// The auth token, when configured: what Twilio signs webhooks with (docs/taskrouter.md §4).
    pub fn signing_token(&self) -> Option<&SecretString> {
        self.auth_token.as_ref()
    }

    /// `auth token` or `API key SK…`, for messages.
    pub fn describe(&self) -> String {
        match &self.login {
            Login::AuthToken => format!("{} with its auth token", self.account_sid),
            Login::ApiKey { key, .. } => format!("API key {key} of {}", self.account_sid),
        }
    }

    /// The `Authorization` header value: HTTP Basic (docs/taskrouter.md §7).
    pub(crate) fn authorization(&self) -> SecretString {
        use base64::Engine;
        use zeroize::Zeroize;
        let (user, password) = match &self.login {
            Login::AuthToken => (
                self.account_sid.as_str(),
                self.auth_token
                    .as_ref()
                    .map_or("", |token| token.expose_secret()),
            ),
            Login::ApiKey { key, secret } => (key.as_str(), secret.expose_secret()),
        };
        // The intermediate strings hold the secret too: overwritten once the header is wrapped.
        let mut pair = format!("{user}:{password}");
        let mut encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
        pair.zeroize();
        let header = secret(format!("Basic {encoded}"));
        encoded.zeroize();
        header
    }
}

/// Everything the REST client needs: who it is and where it sends.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// The credentials.
    pub credentials: Credentials,
    /// The base URL, without a trailing slash: `https://taskrouter.twilio.com`, a regional host,
    /// or `TASKROUTER_API_URL`.
    pub base_url: String,
}

impl RestConfig {
    /// Reads the variables named in the module docs through `lookup` (e.g.
    /// `|name| std::env::var(name).ok()`).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the variable: no account SID, no auth token or API key, a key
    /// without its secret, a malformed SID, a region or edge that is not a host label, a
    /// `TASKROUTER_API_URL` that is not an http(s) base URL.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let base_url = base_url(
            get(API_URL).as_deref(),
            get(REGION).as_deref(),
            get(EDGE).as_deref(),
        )?;
        let account_sid = get(ACCOUNT_SID).ok_or(ConfigError::MissingAccount)?;
        let account_sid =
            AccountSid::parse(account_sid.trim()).map_err(|error| ConfigError::InvalidSid {
                variable: ACCOUNT_SID,
                error,
            })?;
        let auth_token = get(AUTH_TOKEN).map(secret);
        let credentials = match (get(API_KEY), get(API_SECRET)) {
            (Some(key), Some(secret)) => {
                let key =
                    ApiKeySid::parse(key.trim()).map_err(|error| ConfigError::InvalidSid {
                        variable: API_KEY,
                        error,
                    })?;
                Credentials::api_key(account_sid, key, self::secret(secret), auth_token)
            }
            (Some(_), None) => {
                return Err(ConfigError::Incomplete {
                    set: API_KEY,
                    missing: API_SECRET,
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::Incomplete {
                    set: API_SECRET,
                    missing: API_KEY,
                });
            }
            (None, None) => match auth_token {
                Some(token) => Credentials::auth_token(account_sid, token),
                None => return Err(ConfigError::MissingSecret),
            },
        };
        Ok(Self {
            credentials,
            base_url,
        })
    }
}

/// `value` as a [`SecretString`], copied into the secret's own allocation so that `value` (whose
/// capacity may be larger, and which a conversion to a boxed `str` could reallocate without
/// wiping) is overwritten before it is dropped, as `crate::token::AuthToken::new` does.
pub(crate) fn secret(mut value: String) -> SecretString {
    use zeroize::Zeroize;
    let wrapped = SecretString::from(value.as_str());
    value.zeroize();
    wrapped
}

/// The base URL: `override_url` as given (trailing `/` removed), else the product host with the
/// region and edge, built as Twilio's helper libraries build it.
///
/// # Errors
///
/// [`ConfigError::InvalidApiUrl`] or [`ConfigError::InvalidHostLabel`].
pub fn base_url(
    override_url: Option<&str>,
    region: Option<&str>,
    edge: Option<&str>,
) -> Result<String, ConfigError> {
    if let Some(url) = override_url {
        return api_url(url.trim());
    }
    for (variable, value) in [(REGION, region), (EDGE, edge)] {
        if let Some(value) = value
            && !is_host_label(value)
        {
            return Err(ConfigError::InvalidHostLabel {
                variable,
                value: value.to_owned(),
            });
        }
    }
    let region = region.or(edge.map(|_| DEFAULT_REGION));
    let host = [Some(PRODUCT), edge, region, Some(DOMAIN)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(".");
    Ok(format!("https://{host}"))
}

/// A region or edge: lower-case letters, digits and `-`, as in `au1`, `sydney`, `us1`.
fn is_host_label(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 63
        && !value.starts_with('-')
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `url` checked as an http(s) base URL without credentials, query or fragment; its trailing `/`
/// removed.
pub(crate) fn api_url(url: &str) -> Result<String, ConfigError> {
    let invalid = |reason: &'static str| ConfigError::InvalidApiUrl {
        value: url.to_owned(),
        reason,
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("it is not absolute; write it as https://host[:port]"))?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(invalid("its scheme is not http or https"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(invalid("it has no host"));
    }
    if authority.contains('@') {
        // Credentials come from TWILIO_* only, so none can leak through a URL in a message.
        return Err(invalid(
            "it contains a user name or password; set the TWILIO_* variables instead",
        ));
    }
    if rest.contains(['?', '#']) || url.chars().any(char::is_whitespace) {
        return Err(invalid("it has a query, a fragment or whitespace"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The REST client cannot be configured: every message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `TWILIO_ACCOUNT_SID` is not set.
    #[error(
        "no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET (preferred in production)"
    )]
    MissingAccount,
    /// The account is set but neither an auth token nor an API key.
    #[error(
        "TWILIO_ACCOUNT_SID is set but no secret: set TWILIO_API_KEY and TWILIO_API_SECRET (preferred in production), or TWILIO_AUTH_TOKEN"
    )]
    MissingSecret,
    /// Half of an API key pair.
    #[error("{set} is set but {missing} is not: an API key needs both")]
    Incomplete {
        /// The variable that is set.
        set: &'static str,
        /// The one that is missing.
        missing: &'static str,
    },
    /// A SID variable is malformed.
    #[error("{variable}: {error}")]
    InvalidSid {
        /// The variable.
        variable: &'static str,
        /// What is wrong with the SID (a SID is not a secret).
        error: SidError,
    },
    /// `TWILIO_REGION` or `TWILIO_EDGE` cannot be part of a host name.
    #[error(
        "{variable} must be a region or edge name such as `au1` or `sydney` (lower-case letters, digits, -), got {value:?}"
    )]
    InvalidHostLabel {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// `TASKROUTER_API_URL` is not an http(s) base URL.
    #[error(
        "TASKROUTER_API_URL must be a base URL such as http://127.0.0.1:4010, got {value:?}: {reason}"
    )]
    InvalidApiUrl {
        /// Its value (refused when it holds credentials, so never a secret in practice).
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// `TWILIO_ACCOUNTS_API_URL` is not an http(s) base URL.
    #[error(
        "TWILIO_ACCOUNTS_API_URL must be a base URL such as http://127.0.0.1:4010, got {value:?}: {reason}"
    )]
    InvalidAccountsUrl {
        /// Its value (refused when it holds credentials).
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";

    fn config(vars: &[(&str, &str)]) -> Result<RestConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        RestConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_host_is_built_from_region_and_edge_as_the_helper_libraries_build_it() {
        // The expectations are twilio-node's `getHostname` applied to taskrouter.twilio.com.
        let cases = [
            (None, None, "https://taskrouter.twilio.com", "neither"),
            (
                Some("au1"),
                None,
                "https://taskrouter.au1.twilio.com",
                "a region alone",
            ),
            (
                None,
                Some("sydney"),
                "https://taskrouter.sydney.us1.twilio.com",
                "an edge alone implies us1",
            ),
            (
                Some("au1"),
                Some("sydney"),
                "https://taskrouter.sydney.au1.twilio.com",
                "both",
            ),
        ];
        for (region, edge, expected, why) in cases {
            assert_eq!(
                base_url(None, region, edge).as_deref(),
                Ok(expected),
                "{why}"
            );
        }
    }

    #[test]
    fn the_api_url_override_wins_and_changes_nothing_else() {
        let with = config(&[
            (ACCOUNT_SID, ACCOUNT),
            (AUTH_TOKEN, "token"),
            (REGION, "au1"),
            (EDGE, "sydney"),
            (API_URL, "http://127.0.0.1:4010/"),
        ])
        .expect("valid");
        let without = config(&[(ACCOUNT_SID, ACCOUNT), (AUTH_TOKEN, "token")]).expect("valid");
        assert_eq!(with.base_url, "http://127.0.0.1:4010");
        assert_eq!(with.credentials.describe(), without.credentials.describe());
        assert_eq!(
            with.credentials.authorization().expose_secret(),
            without.credentials.authorization().expose_secret()
        );
    }

    #[test]
    fn an_api_key_pair_is_preferred_over_the_auth_token_which_is_kept_for_signing() {
        let config = config(&[
            (ACCOUNT_SID, ACCOUNT),
            (AUTH_TOKEN, "token"),
            (API_KEY, KEY),
            (API_SECRET, "key-secret"),
        ])
        .expect("valid");
        let credentials = &config.credentials;
        assert_eq!(
            credentials.authorization().expose_secret(),
            "Basic U0swMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjprZXktc2VjcmV0",
            "SK…:key-secret"
        );
        assert_eq!(
            credentials.signing_token().map(ExposeSecret::expose_secret),
            Some("token")
        );
        assert_eq!(
            credentials.describe(),
            format!("API key {KEY} of {ACCOUNT}")
        );
    }

    #[test]
    fn the_auth_token_logs_in_with_the_account_sid() {
        let config = config(&[(ACCOUNT_SID, ACCOUNT), (AUTH_TOKEN, "token")]).expect("valid");
        use base64::Engine;
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:token"));
        assert_eq!(
            config.credentials.authorization().expose_secret(),
            format!("Basic {expected}")
        );
    }

    #[test]
    fn missing_or_malformed_settings_are_named_in_the_error() {
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Vars<'_>, &str, &str); 8] = [
            (
                &[],
                "no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET (preferred in production)",
                "nothing set",
            ),
            (
                &[(AUTH_TOKEN, "token")],
                "no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET (preferred in production)",
                "a token without its account",
            ),
            (
                &[(ACCOUNT_SID, ACCOUNT), (AUTH_TOKEN, "")],
                "TWILIO_ACCOUNT_SID is set but no secret: set TWILIO_API_KEY and TWILIO_API_SECRET (preferred in production), or TWILIO_AUTH_TOKEN",
                "an empty token is unset",
            ),
            (
                &[(ACCOUNT_SID, ACCOUNT), (API_KEY, KEY)],
                "TWILIO_API_KEY is set but TWILIO_API_SECRET is not: an API key needs both",
                "a key without its secret",
            ),
            (
                &[(ACCOUNT_SID, ACCOUNT), (API_SECRET, "s"), (AUTH_TOKEN, "t")],
                "TWILIO_API_SECRET is set but TWILIO_API_KEY is not: an API key needs both",
                "a secret without its key",
            ),
            (
                &[(ACCOUNT_SID, "AC123"), (AUTH_TOKEN, "t")],
                "TWILIO_ACCOUNT_SID: `AC123` is not a valid account SID: expected `AC` followed by 32 hex digits",
                "a short account SID",
            ),
            (
                &[(ACCOUNT_SID, ACCOUNT), (AUTH_TOKEN, "t"), (REGION, "AU1")],
                "TWILIO_REGION must be a region or edge name such as `au1` or `sydney` (lower-case letters, digits, -), got \"AU1\"",
                "an upper-case region",
            ),
            (
                &[
                    (ACCOUNT_SID, ACCOUNT),
                    (AUTH_TOKEN, "t"),
                    (API_URL, "http://user:pw@127.0.0.1:4010"),
                ],
                "TASKROUTER_API_URL must be a base URL such as http://127.0.0.1:4010, got \"http://user:pw@127.0.0.1:4010\": it contains a user name or password; set the TWILIO_* variables instead",
                "credentials in the URL",
            ),
        ];
        for (vars, expected, why) in cases {
            let error = config(vars).expect_err(why);
            assert_eq!(error.to_string(), expected, "{why}");
        }
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let config = config(&[
            (ACCOUNT_SID, ACCOUNT),
            (AUTH_TOKEN, "the-auth-token"),
            (API_KEY, KEY),
            (API_SECRET, "the-key-secret"),
        ])
        .expect("valid");
        let debug = format!("{config:?} {:?}", config.credentials.authorization());
        for secret in ["the-auth-token", "the-key-secret", "Basic "] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(debug.contains(KEY), "SIDs are not secrets: {debug}");
    }
}
