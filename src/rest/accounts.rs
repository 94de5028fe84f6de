//! Twilio's Accounts API v1: the account's auth tokens, for their rotation.
//!
//! Three operations, named after their `operationId` in Twilio's description of the API
//! (`twilio_accounts_v1.json` in `@twilio/cli-core`, pinned by `tests/prism/package-lock.json`):
//!
//! | method | operation | request | answer |
//! |---|---|---|---|
//! | [`AccountsClient::create_secondary_auth_token`] | `CreateSecondaryAuthToken` | `POST /v1/AuthTokens/Secondary` | `201`, `secondary_auth_token` |
//! | [`AccountsClient::promote_auth_token`] | `UpdateAuthTokenPromotion` | `POST /v1/AuthTokens/Promote` | `200`, the promoted `auth_token` |
//! | [`AccountsClient::delete_secondary_auth_token`] | `DeleteSecondaryAuthToken` | `DELETE /v1/AuthTokens/Secondary` | `204` |
//!
//! All three log in as the account with its auth token (the description's `accountSid_authToken`
//! security scheme). A secondary token authenticates REST requests as the primary does; webhooks
//! are signed with the primary only, and a promotion makes the secondary the primary, after which
//! the old primary is refused (docs/taskrouter.md §4, "Token rotation"; the description of
//! `UpdateAuthTokenPromotion`).
//!
//! The API lives on its own host, `https://accounts.twilio.com` (the description's `servers`);
//! `TWILIO_ACCOUNTS_API_URL` replaces it (tests, proxies) as `TASKROUTER_API_URL` replaces
//! TaskRouter's. The tokens in answers become [`SecretString`]s as they are read, and the JSON
//! they came in is not kept.

use secrecy::SecretString;
use serde::Deserialize;

use crate::sid::AccountSid;

use super::config::{ConfigError, Credentials, RestConfig, api_url};
use super::transport::{Replay, Request, RestError, RetryPolicy, Transport};

/// A base URL replacing `https://accounts.twilio.com` (tests, proxies).
pub const ACCOUNTS_API_URL: &str = "TWILIO_ACCOUNTS_API_URL";
/// The Accounts API's host (the `servers` entry of `twilio_accounts_v1.json`).
pub const DEFAULT_ACCOUNTS_URL: &str = "https://accounts.twilio.com";

/// The path of the secondary auth token (create, delete).
const SECONDARY: &str = "/v1/AuthTokens/Secondary";
/// The path of its promotion.
const PROMOTE: &str = "/v1/AuthTokens/Promote";

/// The base URL of the Accounts API: `TWILIO_ACCOUNTS_API_URL` through `lookup` when set (an
/// empty value counts as unset), else [`DEFAULT_ACCOUNTS_URL`].
///
/// # Errors
///
/// [`ConfigError::InvalidApiUrl`] when the override is not an http(s) base URL.
pub fn accounts_base_url(lookup: impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    match lookup(ACCOUNTS_API_URL).filter(|value| !value.trim().is_empty()) {
        Some(url) => api_url(url.trim()).map_err(|error| match error {
            ConfigError::InvalidApiUrl { value, reason } => {
                ConfigError::InvalidAccountsUrl { value, reason }
            }
            other => other,
        }),
        None => Ok(DEFAULT_ACCOUNTS_URL.to_owned()),
    }
}

/// `CreateSecondaryAuthToken`'s answer (`accounts.v1.secondary_auth_token`).
#[derive(Deserialize)]
struct SecondaryAnswer {
    account_sid: Option<String>,
    secondary_auth_token: Option<SecretString>,
}

/// `UpdateAuthTokenPromotion`'s answer (`accounts.v1.auth_token_promotion`).
#[derive(Deserialize)]
struct PromotionAnswer {
    account_sid: Option<String>,
}

/// The Accounts API client: one account, logged in with one of its tokens.
#[derive(Debug)]
pub struct AccountsClient {
    transport: Transport,
    account: AccountSid,
}

impl AccountsClient {
    /// A client for the account of `credentials` at `base_url` (see [`accounts_base_url`]).
    ///
    /// # Errors
    ///
    /// [`RestError::NoRootCertificates`] for an https base URL on a system without root
    /// certificates.
    pub fn new(
        credentials: Credentials,
        base_url: String,
        policy: RetryPolicy,
    ) -> Result<Self, RestError> {
        let account = credentials.account_sid().clone();
        let config = RestConfig {
            credentials,
            base_url,
        };
        Ok(Self {
            transport: Transport::new(&config, policy)?,
            account,
        })
    }

    /// `CreateSecondaryAuthToken`: a new secondary token, with notification e-mails suppressed
    /// when `suppress_email` (Twilio sends one to the account's owners otherwise).
    ///
    /// Creating again while a secondary exists gives a new one; the one answered last is the one
    /// Twilio holds, so a repeat after an answer was lost leaves a token the caller knows.
    ///
    /// # Errors
    ///
    /// [`RestError`] as [`Transport::send`] says; [`RestError::Decode`] for an answer without a
    /// token or for another account.
    pub fn create_secondary_auth_token(
        &self,
        suppress_email: bool,
    ) -> Result<SecretString, RestError> {
        let request = Request::post(SECONDARY.to_owned(), suppress(suppress_email), Replay::Safe);
        let answer: SecondaryAnswer = self.call(&request)?;
        self.same_account(&request, answer.account_sid.as_deref())?;
        answer
            .secondary_auth_token
            .ok_or_else(|| self.decode(&request, "no `secondary_auth_token` in the answer"))
    }

    /// `UpdateAuthTokenPromotion`: the secondary becomes the primary; Twilio signs with it from
    /// now on and refuses the old primary.
    ///
    /// Not repeated when its outcome is unknown: a repeat finds no secondary and is refused. A
    /// caller that needs to know whether it happened asks which token logs in (the rotation does).
    ///
    /// # Errors
    ///
    /// As [`AccountsClient::create_secondary_auth_token`]; Twilio refuses it (`RestError::Api`)
    /// when the account has no secondary token.
    pub fn promote_auth_token(&self, suppress_email: bool) -> Result<(), RestError> {
        let request = Request::post(PROMOTE.to_owned(), suppress(suppress_email), Replay::Unsafe);
        let answer: PromotionAnswer = self.call(&request)?;
        self.same_account(&request, answer.account_sid.as_deref())
    }

    /// `DeleteSecondaryAuthToken`. Whether there was one to delete is the second value: `false`
    /// when Twilio answered `404` (none, or already deleted), which makes a repeat harmless.
    ///
    /// # Errors
    ///
    /// [`RestError`] as [`Transport::send`] says, except a `404`.
    pub fn delete_secondary_auth_token(&self, suppress_email: bool) -> Result<bool, RestError> {
        let query: String = suppress(suppress_email)
            .into_iter()
            .map(|(key, value)| format!("?{key}={value}"))
            .collect();
        match self
            .transport
            .send(&Request::delete(format!("{SECONDARY}{query}")))
        {
            Ok(_) => Ok(true),
            Err(RestError::Api(error)) if error.status == 404 => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn call<T: for<'de> Deserialize<'de>>(&self, request: &Request) -> Result<T, RestError> {
        let response = self.transport.send(request)?;
        serde_json::from_str(&response.body)
            .map_err(|error| self.decode(request, &error.to_string()))
    }

    /// An answer naming another account would mean the token belongs elsewhere: refused.
    fn same_account(&self, request: &Request, answered: Option<&str>) -> Result<(), RestError> {
        match answered {
            Some(sid) if sid != self.account.as_str() => Err(self.decode(
                request,
                &format!("the answer is for account {sid}, not {}", self.account),
            )),
            _ => Ok(()),
        }
    }

    fn decode(&self, request: &Request, reason: &str) -> RestError {
        RestError::Decode {
            method: request.method.as_str(),
            url: format!("{}{}", self.transport.base_url(), request.path),
            reason: reason.to_owned(),
        }
    }
}

/// The form of the create and promote requests (and, as a query, of the delete).
pub fn suppress(suppress_email: bool) -> Vec<(&'static str, String)> {
    if suppress_email {
        vec![("SuppressEmailNotification", "true".to_owned())]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accounts_host_is_twilios_unless_overridden() {
        let cases = [
            (None, Ok(DEFAULT_ACCOUNTS_URL.to_owned()), "unset"),
            (
                Some(""),
                Ok(DEFAULT_ACCOUNTS_URL.to_owned()),
                "empty is unset",
            ),
            (
                Some("http://127.0.0.1:4010/"),
                Ok("http://127.0.0.1:4010".to_owned()),
                "an override, its trailing slash removed",
            ),
        ];
        for (value, expected, why) in cases {
            let got = accounts_base_url(|name| {
                assert_eq!(name, ACCOUNTS_API_URL);
                value.map(str::to_owned)
            });
            assert_eq!(got, expected, "{why}");
        }
        let error =
            accounts_base_url(|_| Some("ftp://example.com".to_owned())).expect_err("not http");
        assert_eq!(
            error.to_string(),
            "TWILIO_ACCOUNTS_API_URL must be a base URL such as http://127.0.0.1:4010, got \"ftp://example.com\": its scheme is not http or https"
        );
    }

    #[test]
    fn the_suppression_is_sent_only_when_asked() {
        assert_eq!(
            suppress(true),
            vec![("SuppressEmailNotification", "true".to_owned())]
        );
        assert!(suppress(false).is_empty());
    }

    #[test]
    fn a_secondary_token_is_read_as_a_secret() {
        let answer: SecondaryAnswer = serde_json::from_str(
            r#"{"account_sid": "AC0123456789abcdef0123456789abcdef", "secondary_auth_token": "the-new-token", "date_created": null, "date_updated": null, "url": null}"#,
        )
        .expect("the description's shape");
        let debug = format!("{:?}", answer.secondary_auth_token);
        assert!(!debug.contains("the-new-token"), "{debug}");
        assert_eq!(
            answer
                .secondary_auth_token
                .as_ref()
                .map(secrecy::ExposeSecret::expose_secret),
            Some("the-new-token")
        );
    }
}
