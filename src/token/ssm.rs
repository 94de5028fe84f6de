//! The SSM Parameter Store source: an account's primary and secondary parameters read with
//! `WithDecryption=true` (one `GetParameters` call for both, or one `GetParameter` for a primary
//! alone), and the accounts under a prefix listed with `GetParametersByPath`, each request retried
//! as `retry` says until the read's [`Deadline`], failures classified into
//! [`TokenError`]s.
//!
//! Every read of a parameter goes through here, whether the deployment serves one account or
//! many: [`client`] is the only place the SSM client is configured, `SsmParameters::read` the only
//! place parameters are read and `list_accounts` the only place a prefix is listed.

use std::collections::HashSet;

use aws_config::SdkConfig;
use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{Parameter, ParameterType};

use super::retry::{self, Backoff, Failure, ReadStats, Retry, retrying};
use super::{AuthToken, Deadline, TokenError, TokenSet};
use crate::sid::AccountSid;

/// An SSM client for `sdk_config` with this module's connect timeout and without the SDK's own
/// retries (the read path retries, see the module docs), whatever `sdk_config` says. Cheap to
/// clone: clones share the connection pool, so every account of a many-account deployment reads
/// through one.
pub fn client(sdk_config: &SdkConfig) -> aws_sdk_ssm::Client {
    let ssm_config = aws_sdk_ssm::config::Builder::from(sdk_config)
        .timeout_config(retry::timeout_config())
        .retry_config(retry::retry_config())
        .build();
    aws_sdk_ssm::Client::from_conf(ssm_config)
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
                let primary = retrying(
                    deadline,
                    Backoff::new(),
                    &mut stats,
                    &unavailable(&self.name),
                    || self.get(&self.name),
                )
                .await;
                (primary.map(|primary| TokenSet::new(primary, None)), stats)
            }
            Some(secondary) if batchable(&self.name, secondary) => {
                let mut stats = ReadStats::default();
                let both = retrying(
                    deadline,
                    Backoff::new(),
                    &mut stats,
                    &unavailable(&self.name),
                    || self.get_both(secondary),
                )
                .await;
                let set = both.map(|(primary, secondary)| TokenSet::new(primary, secondary));
                (set, stats)
            }
            Some(secondary) => {
                let (mut primary_stats, mut secondary_stats) =
                    (ReadStats::default(), ReadStats::default());
                let (primary_unavailable, secondary_unavailable) =
                    (unavailable(&self.name), unavailable(secondary));
                let (primary, secondary) = tokio::join!(
                    retrying(
                        deadline,
                        Backoff::new(),
                        &mut primary_stats,
                        &primary_unavailable,
                        || self.get(&self.name)
                    ),
                    retrying(
                        deadline,
                        Backoff::new(),
                        &mut secondary_stats,
                        &secondary_unavailable,
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
            .map_err(|error| classify(name, &error))?;
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
    /// Parameter Store serves, where two `GetParameter`s would be two (docs/taskrouter.md §11). A
    /// name it cannot find comes back in `InvalidParameters` rather than as an error.
    async fn get_both(&self, secondary: &str) -> Result<(AuthToken, Option<AuthToken>), Failure> {
        let output = self
            .client
            .get_parameters()
            .names(&self.name)
            .names(secondary)
            .with_decryption(true)
            .send()
            .await
            .map_err(|error| classify(&self.name, &error))?;
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

/// The most a `GetParametersByPath` request answers: 10 parameters
/// (<https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html>,
/// `MaxResults`, "Maximum value of 10"; moto enforces the same).
const PAGE_SIZE: i32 = 10;

/// The most parameters a listing goes through: Parameter Store holds at most 100,000 per account
/// and region (advanced tier; 10,000 standard), so a listing past it is not one of a prefix of
/// account tokens, and memory stays bounded whatever the prefix holds
/// (<https://docs.aws.amazon.com/general/latest/gr/ssm.html>, "Maximum number of parameters").
pub(crate) const MAX_LISTED: usize = 100_000;

/// The accounts with a parameter directly under `prefix` (`<prefix>AC…`; the `secondary/` path
/// below it and names that are not an account SID are left out), listed with
/// `GetParametersByPath` (not recursive, not decrypted: only the names are kept), a page of
/// [`PAGE_SIZE`] a request, each request retried as [`retrying`] says within `deadline`.
///
/// The request's path is the prefix as configured, trailing `/` included: IAM authorises
/// `ssm:GetParametersByPath` on exactly that path (the template grants it there).
pub(crate) async fn list_accounts(
    client: &aws_sdk_ssm::Client,
    prefix: &str,
    deadline: Deadline,
) -> (Result<HashSet<AccountSid>, TokenError>, ReadStats) {
    let mut stats = ReadStats::default();
    let mut accounts = HashSet::new();
    let mut listed = 0;
    let mut next: Option<String> = None;
    loop {
        let page = retrying(
            deadline,
            Backoff::new(),
            &mut stats,
            &unavailable(prefix),
            || {
                let request = client
                    .get_parameters_by_path()
                    .path(prefix)
                    .recursive(false)
                    .with_decryption(false)
                    .max_results(PAGE_SIZE)
                    .set_next_token(next.clone())
                    .send();
                async move {
                    request
                        .await
                        .map_err(|error| classify_listing(prefix, &error))
                }
            },
        )
        .await;
        let page = match page {
            Ok(page) => page,
            Err(error) => return (Err(error), stats),
        };
        for parameter in page.parameters.unwrap_or_default() {
            listed += 1;
            let account = parameter
                .name()
                .and_then(|name| name.strip_prefix(prefix))
                .and_then(|sid| AccountSid::parse(sid).ok());
            accounts.extend(account);
        }
        if listed > MAX_LISTED {
            let error = TokenError::Unavailable {
                name: prefix.to_owned(),
                cause: format!(
                    "more than {MAX_LISTED} parameters under the prefix, more than Parameter                      Store holds for one account and region: give the accounts' tokens a path of                      their own"
                ),
            };
            return (Err(error), stats);
        }
        match page.next_token {
            Some(token) if !token.is_empty() => next = Some(token),
            _ => return (Ok(accounts), stats),
        }
    }
}

/// As [`classify`], for a listing: a denial names the action to allow.
fn classify_listing<E>(prefix: &str, error: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if error.code() == Some("AccessDeniedException") {
        return Failure::permanent(TokenError::ListingDenied {
            prefix: prefix.to_owned(),
            action: "ssm:GetParametersByPath",
            cause: DisplayErrorContext(error).to_string(),
        });
    }
    classify(prefix, error)
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

/// Turns an SDK failure into the variant that tells the operator what to fix, and decides
/// whether it is worth retrying ([`Retry::of`]).
fn classify<E>(name: &str, error: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let name = name.to_owned();
    let code = error.code();
    if code == Some("ParameterNotFound") {
        return Failure::permanent(TokenError::ParameterNotFound { name });
    }
    let cause = DisplayErrorContext(error).to_string();
    // SSM has no modelled error for a missing permission; it arrives as an unmodelled code.
    if code == Some("AccessDeniedException") {
        return Failure::permanent(TokenError::AccessDenied { name, cause });
    }
    Failure {
        retry: Retry::of(error, &[]),
        error: TokenError::Unavailable { name, cause },
    }
}

/// The error of a read of `name` that got no answer, for [`retrying`].
fn unavailable(name: &str) -> impl Fn(String) -> TokenError + Sync + '_ {
    move |cause| TokenError::Unavailable {
        name: name.to_owned(),
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
