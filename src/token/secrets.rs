//! The Secrets Manager source: an account's token in a secret whose `SecretString` is
//! `{"account_sid": "AC…", "auth_token": "…"}` (those two names exactly), read in each of the
//! secret's staged versions, and the accounts under a name prefix listed with `ListSecrets`, each
//! request retried as `retry` says until the read's [`Deadline`].
//!
//! # Which versions verify
//!
//! A secret keeps its versions under staging labels
//! (<https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html>):
//! `AWSCURRENT` (the token in use), `AWSPENDING` (the next one, while a rotation is under way) and
//! `AWSPREVIOUS` (the one `AWSCURRENT` last moved away from). A read asks for them as follows:
//!
//! | version | accepted | requests |
//! |---|---|---|
//! | `AWSCURRENT` | always | one `GetSecretValue` |
//! | `AWSPENDING` | while it exists and is not `AWSCURRENT`'s version: a rotation is under way, and Twilio signs with it once the rotation promotes it at Twilio, before `AWSCURRENT` moves to it | one `GetSecretValue`, sent with the first (a secret without it answers `ResourceNotFoundException`, which is no error here) |
//! | `AWSPREVIOUS` | only within the grace (`AUTH_TOKEN_PREVIOUS_GRACE_SECONDS`, default [`DEFAULT_PREVIOUS_GRACE`]) after `AWSCURRENT`'s version was created, for callbacks Twilio signed before its promotion and still in flight | one more `GetSecretValue`, and only within the grace |
//!
//! So a read is two requests, sent together (one round trip), and three in the minute after a
//! rotation. A set holding the previous token carries the instant its grace ends, and the store
//! stops handing the token out then, whether or not anything is read again
//! ([`super::TokenSet::with_previous`]): a rotated-out token stops working at the end of the
//! grace on every instance, at the same moment, however recently the instance read.
//!
//! **When the promotion happened.** The grace counts from the creation of `AWSCURRENT`'s version
//! (`CreatedDate` in the `GetSecretValue` answer: Secrets Manager's own clock, the same for every
//! instance, at no extra request). A version stored as `AWSCURRENT` at once (`PutSecretValue`)
//! was promoted when it was created; one created as `AWSPENDING` by a rotation was promoted
//! later, so the grace then ends earlier than the promotion plus the grace, never later: the
//! previous token is never accepted for longer than the grace after the promotion. The
//! alternatives cost a request more per read and say no more: `DescribeSecret`'s
//! `LastChangedDate` moves with any change to the secret (a tag, a description), so it could
//! keep a rotated-out token alive, and `ListSecretVersionIds` gives each version's creation
//! date and the day it was last read, not when a label moved. An instance that held the old
//! token as `AWSCURRENT` keeps accepting it until its next read, as with Parameter Store: at
//! most the refresh interval.
//!
//! **Whose token.** The `account_sid` of every version must be the account the secret serves:
//! the one its name ends with (many accounts, `<prefix><AccountSid>`), or, for the secret of a
//! single-account deployment, the one its `AWSCURRENT` version holds. A version holding another
//! account's SID fails the read with an error naming both ([`TokenError::SecretAccountMismatch`]),
//! so a token is never used for an account it does not belong to.
//!
//! # Throttling
//!
//! `GetSecretValue` and `DescribeSecret` share 10,000 requests a second per account and region,
//! `ListSecrets` has 100 a second
//! (<https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html>). Secrets
//! Manager answers over its rate with the codes its quotas page lists under "Add retries to your
//! application", the same list as the SDK's `THROTTLING_ERRORS` (`ThrottlingException`,
//! `TooManyRequestsException`, …), and documents `InternalServiceError` as a server-side failure
//! though it may come with a `400`: that one is retried once like any other transient failure
//! (`TRANSIENT_CODES`).

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;
use zeroize::Zeroize;

use super::retry::{self, Backoff, Failure, ReadStats, Retry, retrying};
use super::{AuthToken, Deadline, TokenError, TokenSet};
use crate::sid::AccountSid;

/// The environment variable naming the secret of a single-account deployment.
pub const SECRET_ID_VAR: &str = "TWILIO_AUTH_TOKEN_SECRET_ID";
/// The environment variable holding the secret name prefix of a many-account deployment.
pub const SECRET_PREFIX_VAR: &str = "TWILIO_AUTH_TOKEN_SECRET_PREFIX";
/// The environment variable setting the grace of a rotated-out token.
pub const GRACE_VAR: &str = "AUTH_TOKEN_PREVIOUS_GRACE_SECONDS";

/// How long after a promotion the token rotated out is accepted by default: TaskRouter gives up
/// on a callback after 5 s (docs/taskrouter.md §2), so a callback signed before the promotion is
/// answered or abandoned within seconds; a minute also covers the steps of a rotation between the
/// creation of the new version, from which the grace counts, and its promotion.
pub const DEFAULT_PREVIOUS_GRACE: Duration = Duration::from_secs(60);

/// The longest grace `AUTH_TOKEN_PREVIOUS_GRACE_SECONDS` may give: a rotated-out token must stop
/// working soon, or rotating after a leak would protect nothing.
pub const MAX_PREVIOUS_GRACE: Duration = Duration::from_secs(900);

/// The longest secret name prefix accepted: a secret's name is at most 512 characters, and the
/// prefix leaves room for an account SID
/// (<https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html>).
pub(crate) const MAX_PREFIX_LEN: usize = 400;

/// The most secrets a `ListSecrets` request answers
/// (<https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html>,
/// `MaxResults`, 1–100).
const PAGE_SIZE: i32 = 100;

/// The most secrets a listing goes through: Secrets Manager holds at most 500,000 per account and
/// region (the quotas page above), and memory stays bounded whatever the prefix holds.
pub(crate) const MAX_LISTED: usize = 500_000;

/// Codes Secrets Manager documents as server-side failures that may come with a 4xx status
/// (<https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html>): worth one
/// retry, like a 5xx.
const TRANSIENT_CODES: &[&str] = &["InternalServiceError"];

/// A Secrets Manager client for `sdk_config` with the timeouts of every token client and without
/// the SDK's own retries (`retry`), whatever `sdk_config` says. Built only when a secret
/// is configured. Cheap to clone: clones share the connection pool.
pub fn client(sdk_config: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::config::Builder::from(sdk_config)
        .timeout_config(retry::timeout_config())
        .retry_config(retry::retry_config())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// Whether `prefix` can prefix secret names: Secrets Manager's characters
/// (letters, digits, `/_+=.@-`), ending with `/` so the account SID is a name part of its own, and
/// at most [`MAX_PREFIX_LEN`] characters.
pub(crate) fn usable_prefix(prefix: &str) -> bool {
    prefix.ends_with('/')
        && prefix.len() <= MAX_PREFIX_LEN
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

/// A staging label a read asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Current,
    Pending,
    Previous,
}

impl Stage {
    fn label(self) -> &'static str {
        match self {
            Self::Current => "AWSCURRENT",
            Self::Pending => "AWSPENDING",
            Self::Previous => "AWSPREVIOUS",
        }
    }
}

/// One version of the secret, as read.
struct Version {
    /// Secrets Manager's id of the version.
    id: String,
    account: AccountSid,
    token: AuthToken,
    /// When the version was created, by Secrets Manager's clock.
    created: Option<SystemTime>,
}

/// The secret's value, as stored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    account_sid: String,
    /// A secret from the moment it is read, so a value dropped half-read is wiped too.
    auth_token: SecretString,
}

/// The secret of one account's tokens and the client that reads it.
pub(crate) struct SecretVersions {
    client: aws_sdk_secretsmanager::Client,
    id: String,
    /// The account the secret serves, when its name says (many accounts); otherwise the one its
    /// `AWSCURRENT` version holds.
    account: Option<AccountSid>,
    grace: Duration,
}

impl SecretVersions {
    /// The secret `id` (a name or an ARN) read with `client` (see [`client`]); the version rotated
    /// out is accepted for `grace` after `AWSCURRENT`'s version was created. With `account`,
    /// every version must hold that account's SID.
    pub(crate) fn new(
        client: aws_sdk_secretsmanager::Client,
        id: String,
        account: Option<AccountSid>,
        grace: Duration,
    ) -> Self {
        Self {
            client,
            id,
            account,
            grace,
        }
    }

    /// The error of a read that got no answer.
    pub(crate) fn unavailable(&self, cause: String) -> TokenError {
        TokenError::SecretUnavailable {
            id: self.id.clone(),
            cause,
        }
    }

    /// Reads the versions as the module docs say, each request retried until `deadline`.
    pub(crate) async fn read(
        &self,
        deadline: Deadline,
    ) -> (Result<TokenSet, TokenError>, ReadStats) {
        let unavailable = |cause: String| self.unavailable(cause);
        let (mut stats, mut pending_stats) = (ReadStats::default(), ReadStats::default());
        let (current, pending) = tokio::join!(
            retrying(deadline, Backoff::new(), &mut stats, &unavailable, || self
                .get(Stage::Current)),
            retrying(
                deadline,
                Backoff::new(),
                &mut pending_stats,
                &unavailable,
                || self.get_if_present(Stage::Pending)
            ),
        );
        stats.add(pending_stats);
        let outcome = async {
            let current = current?;
            let expected = self.account.clone().unwrap_or(current.account.clone());
            self.check(Stage::Current, &expected, &current)?;
            let pending = match pending? {
                Some(pending) if pending.id != current.id => {
                    self.check(Stage::Pending, &expected, &pending)?;
                    Some(pending.token)
                }
                _ => None,
            };
            let set = TokenSet::new(current.token, pending);
            let left = current
                .created
                .and_then(|created| grace_left(created, SystemTime::now(), self.grace));
            let Some(left) = left else {
                return Ok(set);
            };
            let previous = retrying(deadline, Backoff::new(), &mut stats, &unavailable, || {
                self.get_if_present(Stage::Previous)
            })
            .await?;
            match previous {
                Some(previous) if previous.id != current.id => {
                    self.check(Stage::Previous, &expected, &previous)?;
                    Ok(set.with_previous(previous.token, Instant::now() + left))
                }
                _ => Ok(set),
            }
        }
        .await;
        (outcome, stats)
    }

    /// Fails when `version` holds another account than `expected`.
    fn check(
        &self,
        stage: Stage,
        expected: &AccountSid,
        version: &Version,
    ) -> Result<(), TokenError> {
        if &version.account == expected {
            Ok(())
        } else {
            Err(TokenError::SecretAccountMismatch {
                id: self.id.clone(),
                stage: stage.label(),
                expected: expected.clone(),
                found: version.account.clone(),
            })
        }
    }

    /// One `GetSecretValue` of the version labelled `stage`.
    async fn get(&self, stage: Stage) -> Result<Version, Failure> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.id)
            .version_stage(stage.label())
            .send()
            .await
            .map_err(|error| classify(&self.id, &error))?;
        version(&self.id, stage, output).map_err(Failure::permanent)
    }

    /// As [`SecretVersions::get`], for a label the secret may not have: `None` then.
    async fn get_if_present(&self, stage: Stage) -> Result<Option<Version>, Failure> {
        match self.get(stage).await {
            Ok(version) => Ok(Some(version)),
            Err(Failure {
                error: TokenError::SecretNotFound { .. },
                ..
            }) => Ok(None),
            Err(failure) => Err(failure),
        }
    }
}

/// How much of the grace after a promotion at `promoted` is left at `now`; `None` when it is over.
/// Both instants are Secrets Manager's and this machine's wall clocks: a clock running behind
/// Secrets Manager's shortens the grace, never lengthens it past `grace` after `promoted` by
/// more than the skew.
fn grace_left(promoted: SystemTime, now: SystemTime, grace: Duration) -> Option<Duration> {
    let end = promoted.checked_add(grace)?;
    end.duration_since(now)
        .ok()
        .filter(|left| !left.is_zero())
        .map(|left| left.min(grace))
}

/// The version in `output`, which answered for `stage` of secret `id`. The secret's text is
/// overwritten once the token is wrapped, whatever the outcome.
fn version(id: &str, stage: Stage, output: GetSecretValueOutput) -> Result<Version, TokenError> {
    let malformed = |reason: &str| TokenError::SecretMalformed {
        id: id.to_owned(),
        stage: stage.label(),
        reason: reason.to_owned(),
    };
    let Some(mut text) = output.secret_string else {
        return Err(malformed(if output.secret_binary.is_some() {
            "it holds a binary value, not a SecretString"
        } else {
            "it holds no value"
        }));
    };
    let parsed = serde_json::from_str::<Stored>(&text);
    text.zeroize();
    let stored = parsed.map_err(|error| malformed(&json_problem(&error)))?;
    let Stored {
        account_sid,
        auth_token,
    } = stored;
    // The token first: `from_origin` overwrites the string whatever else fails.
    let token = AuthToken::from_origin(
        auth_token.expose_secret().to_owned(),
        &format!(
            "secrets manager secret `{id}` ({}), `auth_token`,",
            stage.label()
        ),
    )?;
    let account = AccountSid::parse(&account_sid)
        .map_err(|error| malformed(&format!("`account_sid`: {error}")))?;
    Ok(Version {
        id: output.version_id.unwrap_or_default(),
        account,
        token,
        created: output
            .created_date
            .and_then(|created| SystemTime::try_from(created).ok()),
    })
}

/// What is wrong with a value that is not `{"account_sid": …, "auth_token": …}`, without quoting
/// it: serde's message for a wrong type quotes the value, which may be the token itself.
fn json_problem(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let message = error.to_string();
    match error.classify() {
        Category::Syntax | Category::Eof => {
            "it is not JSON (a bare token must be stored as the `auth_token` of a JSON object)"
                .to_owned()
        }
        Category::Data
            if ["missing field", "unknown field", "duplicate field"]
                .iter()
                .any(|start| message.starts_with(start)) =>
        {
            // These name fields, never values.
            message
        }
        Category::Data | Category::Io => {
            "it is not a JSON object of two strings, `account_sid` and `auth_token`".to_owned()
        }
    }
}

/// Turns an SDK failure into the variant that tells the operator what to fix, and decides
/// whether it is worth retrying ([`Retry::of`], with Secrets Manager's own transient codes).
fn classify<E>(id: &str, error: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let id = id.to_owned();
    let cause = || DisplayErrorContext(error).to_string();
    match error.code() {
        // A secret that does not exist, or a label no version carries.
        Some("ResourceNotFoundException") => Failure::permanent(TokenError::SecretNotFound { id }),
        // KMS refusing to decrypt for the role is a denial too.
        Some("AccessDeniedException" | "DecryptionFailure") => {
            Failure::permanent(TokenError::SecretAccessDenied { id, cause: cause() })
        }
        // Scheduled for deletion, or managed by another service: reading it again gets the same.
        Some("InvalidRequestException") => Failure::permanent(TokenError::SecretMalformed {
            id,
            stage: Stage::Current.label(),
            reason: format!(
                "Secrets Manager refuses to read it ({}); a secret scheduled for deletion can be restored with `aws secretsmanager restore-secret`",
                cause()
            ),
        }),
        _ => Failure {
            retry: Retry::of(error, TRANSIENT_CODES),
            error: TokenError::SecretUnavailable { id, cause: cause() },
        },
    }
}

/// The accounts with a secret named `<prefix><AccountSid>` (names that are not an account SID
/// after the prefix are left out), listed with `ListSecrets` filtered by name prefix, a page of
/// [`PAGE_SIZE`] a request, each request retried as [`retrying`] says within `deadline`. Only
/// names are kept; `ListSecrets` returns no values.
pub(crate) async fn list_accounts(
    client: &aws_sdk_secretsmanager::Client,
    prefix: &str,
    deadline: Deadline,
) -> (Result<HashSet<AccountSid>, TokenError>, ReadStats) {
    let unavailable = |cause: String| TokenError::SecretUnavailable {
        id: prefix.to_owned(),
        cause,
    };
    let mut stats = ReadStats::default();
    let mut accounts = HashSet::new();
    let mut listed = 0;
    let mut next: Option<String> = None;
    loop {
        let page = retrying(deadline, Backoff::new(), &mut stats, &unavailable, || {
            let request = client
                .list_secrets()
                .filters(
                    Filter::builder()
                        .key(FilterNameStringType::Name)
                        .values(prefix)
                        .build(),
                )
                .max_results(PAGE_SIZE)
                .set_next_token(next.clone())
                .send();
            async move {
                request.await.map_err(|error| {
                    if error.code() == Some("AccessDeniedException") {
                        Failure::permanent(TokenError::ListingDenied {
                            prefix: prefix.to_owned(),
                            action: "secretsmanager:ListSecrets",
                            cause: DisplayErrorContext(&error).to_string(),
                        })
                    } else {
                        classify(prefix, &error)
                    }
                })
            }
        })
        .await;
        let page = match page {
            Ok(page) => page,
            Err(error) => return (Err(error), stats),
        };
        for secret in page.secret_list.unwrap_or_default() {
            listed += 1;
            let account = secret
                .name()
                .and_then(|name| name.strip_prefix(prefix))
                .and_then(|sid| AccountSid::parse(sid).ok());
            accounts.extend(account);
        }
        if listed > MAX_LISTED {
            let error = unavailable(format!(
                "more than {MAX_LISTED} secrets under the prefix, more than Secrets Manager \
                 holds for one account and region"
            ));
            return (Err(error), stats);
        }
        match page.next_token {
            Some(token) if !token.is_empty() => next = Some(token),
            _ => return (Ok(accounts), stats),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_grace_counts_from_the_promotion_and_is_never_longer_than_configured() {
        let promoted = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let grace = 60 * SECOND;
        let cases = [
            (promoted, Some(grace), "at the promotion: all of it"),
            (promoted + 59 * SECOND, Some(SECOND), "a second left"),
            (promoted + grace, None, "over at its end"),
            (promoted + 3600 * SECOND, None, "long over"),
            (
                promoted - 30 * SECOND,
                Some(grace),
                "a local clock behind Secrets Manager's: never more than the grace",
            ),
        ];
        for (now, expected, why) in cases {
            assert_eq!(grace_left(promoted, now, grace), expected, "{why}");
        }
        assert_eq!(
            grace_left(promoted, promoted, Duration::ZERO),
            None,
            "no grace"
        );
    }

    fn output(text: Option<&str>) -> GetSecretValueOutput {
        GetSecretValueOutput::builder()
            .set_secret_string(text.map(str::to_owned))
            .version_id("v1")
            .build()
    }

    #[test]
    fn a_version_holds_exactly_an_account_sid_and_a_token() {
        let account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let read = version(
            "taskrouter/auth-token",
            Stage::Current,
            output(Some(&format!(
                r#"{{"account_sid": "{account}", "auth_token": "s3cret\n"}}"#
            ))),
        )
        .expect("a usable version");
        assert_eq!(read.account.as_str(), account);
        assert_eq!(read.token.expose(), b"s3cret");
        assert_eq!(read.id, "v1");
    }

    #[test]
    fn unusable_versions_are_refused_saying_why_without_quoting_the_token() {
        let id = "taskrouter/auth-token";
        let account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let cases = [
            (
                Some("s3cret-token"),
                "it is not JSON (a bare token must be stored as the `auth_token` of a JSON object)",
                "a bare token",
            ),
            (
                Some(r#""s3cret-token""#),
                "it is not a JSON object of two strings, `account_sid` and `auth_token`",
                "a JSON string: serde would quote it",
            ),
            (
                Some(r#"{"auth_token": "s3cret-token"}"#),
                "missing field `account_sid` at line 1 column 30",
                "no account",
            ),
            (
                Some(&format!(
                    r#"{{"account_sid": "{account}", "authToken": "s3cret-token"}}"#
                )),
                "unknown field `authToken`, expected `account_sid` or `auth_token` at line 1 column 65",
                "a misspelt name",
            ),
            (
                Some(r#"{"account_sid": "AC123", "auth_token": "s3cret-token"}"#),
                "`account_sid`: `AC123` is not a valid account SID: expected `AC` followed by 32 hex digits",
                "not an account SID",
            ),
            (None, "it holds no value", "nothing stored"),
        ];
        for (text, reason, why) in cases {
            let error = version(id, Stage::Pending, output(text))
                .err()
                .unwrap_or_else(|| panic!("{why}: accepted"));
            assert_eq!(
                error,
                TokenError::SecretMalformed {
                    id: id.to_owned(),
                    stage: "AWSPENDING",
                    reason: reason.to_owned()
                },
                "{why}"
            );
            assert!(!error.to_string().contains("s3cret"), "{why}: {error}");
        }
        let blank = version(
            id,
            Stage::Current,
            output(Some(&format!(
                r#"{{"account_sid": "{account}", "auth_token": "  "}}"#
            ))),
        )
        .err()
        .expect("a blank token");
        assert_eq!(
            blank.to_string(),
            "secrets manager secret `taskrouter/auth-token` (AWSCURRENT), `auth_token`, is empty: store the Twilio account's auth token there"
        );
    }

    #[test]
    fn a_secret_name_prefix_ends_with_a_slash_and_holds_only_secrets_managers_characters() {
        for (prefix, usable, why) in [
            ("taskrouter/accounts/", true, "a path"),
            ("/taskrouter/accounts/", true, "a leading slash is allowed"),
            ("prod+tr@x=y.z_w-v/", true, "every allowed symbol"),
            ("taskrouter/accounts", false, "no trailing slash"),
            ("task router/", false, "a space"),
            ("taskrouter:accounts/", false, "a colon"),
            ("", false, "empty"),
        ] {
            assert_eq!(usable_prefix(prefix), usable, "{why}");
        }
        assert!(!usable_prefix(&format!("{}/", "a".repeat(MAX_PREFIX_LEN))));
    }
}
