//! Rotating an account's auth token without a human: Secrets Manager's four rotation steps driving
//! Twilio's secondary auth token (docs/tokens.md, "What a rotation must do").
//!
//! Secrets Manager calls a rotation function with `{"SecretId", "ClientRequestToken", "Step"}`
//! four times, one step each, and calls a step again when it fails
//! (<https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html>).
//! The new version's id is the `ClientRequestToken`. Each step first looks at where the rotation
//! stands and does only what is left, so running it twice, or after a failure half-way, ends in
//! the same state:
//!
//! | step | does | when it already happened |
//! |---|---|---|
//! | `createSecret` | creates Twilio's secondary token (logged in with `AWSCURRENT`'s token), stores it as the version `ClientRequestToken` labelled `AWSPENDING`, with the same `account_sid` | the version exists: nothing |
//! | `setSecret` | nothing: the token exists at Twilio from its creation, and nothing else holds a copy | – |
//! | `testSecret` | an authenticated read of the account with the pending token (TaskRouter's `ListWorkspace`, one item): a secondary logs in as the primary does | – (a read) |
//! | `finishSecret` | waits until the pending version is [`Timing::settle`] old, promotes the secondary at Twilio, waits [`Timing::drain`], moves `AWSCURRENT` to the new version, deletes Twilio's secondary if one is left | `AWSCURRENT` already on the version: only the deletion, which finds none; a promotion refused because there is no secondary counts as done when the pending token logs in and the old one no longer does |
//!
//! Every request to Twilio after `createSecret`'s logs in with the pending token, which works
//! before the promotion (as the secondary) and after it (as the primary).
//!
//! **A failure before the promotion leaves callbacks as they were**: Twilio keeps signing with the
//! primary, which is still `AWSCURRENT`; the function accepts the pending version too, which Twilio
//! does not sign with. A secondary left at Twilio by a failed rotation is replaced by the next
//! `createSecret`. After the promotion Twilio signs with the pending token, which the function
//! accepts from `AWSPENDING` until `AWSCURRENT` moves to it, and the old token from `AWSPREVIOUS`
//! for the grace after that (`crate::token::secrets`).
//!
//! **Zero refused callbacks** needs two waits in `finishSecret` ([`Timing`]). Before the
//! promotion: every instance of the function must hold the pending token by then, and an instance
//! re-reads its tokens at the latest once they are `AUTH_TOKEN_REFRESH_SECONDS` old, so the
//! promotion waits until the pending version is that old ([`Timing::settle`]). After it: callbacks
//! Twilio signed with the old token just before may still be on their way (TaskRouter waits 5 s
//! for an answer, docs/taskrouter.md §2), and the old token is `AWSCURRENT` until the label moves,
//! so the move waits that long ([`Timing::drain`]); the `AWSPREVIOUS` grace is then a margin, not
//! a need.
//!
//! The Twilio side is the [`Twilio`] trait ([`TwilioAccounts`] is the real one, over
//! [`crate::rest`]); its calls block, which a rotation function, handling one event at a time,
//! can afford.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::rest::accounts::AccountsClient;
use crate::rest::transport::{Request, Transport};
use crate::rest::{Credentials, RestConfig, RestError, RetryPolicy};
use crate::sid::AccountSid;

/// The label of the token in use.
pub const CURRENT: &str = "AWSCURRENT";
/// The label of the token being rotated in.
pub const PENDING: &str = "AWSPENDING";

/// One of Secrets Manager's four rotation steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Step {
    /// Create the new token and store it as `AWSPENDING`.
    #[serde(rename = "createSecret")]
    CreateSecret,
    /// Set it where it is used: nothing to do for a Twilio token.
    #[serde(rename = "setSecret")]
    SetSecret,
    /// Check that it works.
    #[serde(rename = "testSecret")]
    TestSecret,
    /// Make it the current token.
    #[serde(rename = "finishSecret")]
    FinishSecret,
}

/// What Secrets Manager sends the rotation function.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RotationEvent {
    /// The secret's name or ARN.
    #[serde(rename = "SecretId")]
    pub secret_id: String,
    /// The id of the version being rotated in.
    #[serde(rename = "ClientRequestToken")]
    pub version_id: String,
    /// The step.
    #[serde(rename = "Step")]
    pub step: Step,
}

/// A rotation step that did not finish. Each says what to look at; none holds a token.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// A Secrets Manager or Parameter Store request failed.
    #[error("{operation} on `{secret_id}`: {reason}")]
    Secrets {
        /// The operation.
        operation: &'static str,
        /// The secret's name or ARN.
        secret_id: String,
        /// The SDK's description.
        reason: String,
    },
    /// A version of the secret is not `{"account_sid": …, "auth_token": …}`.
    #[error("secret `{secret_id}` ({stage}) is not {{\"account_sid\", \"auth_token\"}}: {reason}")]
    Malformed {
        /// The secret's name or ARN.
        secret_id: String,
        /// The version or label read.
        stage: String,
        /// What is wrong, without the value.
        reason: String,
    },
    /// A Twilio request failed.
    #[error("twilio: {0}")]
    Twilio(#[from] RestError),
    /// The pending token does not log in to the account.
    #[error(
        "the pending token of `{secret_id}` does not log in to {account}: the rotation stops before the promotion and callbacks are verified as before; delete the AWSPENDING version to start again"
    )]
    PendingRefused {
        /// The secret's name or ARN.
        secret_id: String,
        /// The account.
        account: AccountSid,
    },
    /// Twilio refused the promotion and the old token still logs in: it did not happen.
    #[error(
        "twilio refused to promote the secondary token of {account} and the current token still logs in: {cause}"
    )]
    NotPromoted {
        /// The account.
        account: AccountSid,
        /// Twilio's refusal.
        cause: RestError,
    },
    /// The rotation's version is neither pending nor current: another rotation replaced it.
    #[error(
        "version {version} of `{secret_id}` is not AWSPENDING: another rotation replaced it; nothing was changed"
    )]
    NotPending {
        /// The secret's name or ARN.
        secret_id: String,
        /// The version.
        version: String,
    },
}

/// The value of a version, as stored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    account_sid: String,
    auth_token: SecretString,
}

/// A version's account and token.
#[derive(Debug, Clone)]
pub struct AccountToken {
    /// The account.
    pub account: AccountSid,
    /// Its token.
    pub token: SecretString,
}

/// Twilio, as far as a rotation needs it. Every method logs in as `login`'s account with its
/// token.
pub trait Twilio {
    /// `CreateSecondaryAuthToken`.
    ///
    /// # Errors
    ///
    /// Twilio's refusal or no answer.
    fn create_secondary(&self, login: &AccountToken) -> Result<SecretString, RestError>;
    /// `UpdateAuthTokenPromotion`.
    ///
    /// # Errors
    ///
    /// As [`Twilio::create_secondary`].
    fn promote(&self, login: &AccountToken) -> Result<(), RestError>;
    /// `DeleteSecondaryAuthToken`: whether there was one.
    ///
    /// # Errors
    ///
    /// As [`Twilio::create_secondary`].
    fn delete_secondary(&self, login: &AccountToken) -> Result<bool, RestError>;
    /// Whether `login` logs in: an authenticated read answered `2xx` (`true`) or `401` (`false`).
    ///
    /// # Errors
    ///
    /// Any other answer, or none.
    fn logs_in(&self, login: &AccountToken) -> Result<bool, RestError>;
}

/// Twilio's APIs over [`crate::rest`]: the Accounts API for the tokens, TaskRouter's
/// `ListWorkspace` for the authenticated read.
#[derive(Debug, Clone)]
pub struct TwilioAccounts {
    /// The Accounts API's base URL ([`crate::rest::accounts::accounts_base_url`]).
    pub accounts_url: String,
    /// TaskRouter's base URL ([`crate::rest::config::base_url`]).
    pub taskrouter_url: String,
    /// Ask Twilio not to e-mail the account's owners about each change.
    pub suppress_email: bool,
}

impl TwilioAccounts {
    fn accounts(&self, login: &AccountToken) -> Result<AccountsClient, RestError> {
        AccountsClient::new(
            credentials(login),
            self.accounts_url.clone(),
            RetryPolicy::default(),
        )
    }
}

fn credentials(login: &AccountToken) -> Credentials {
    Credentials::auth_token(login.account.clone(), login.token.clone())
}

impl Twilio for TwilioAccounts {
    fn create_secondary(&self, login: &AccountToken) -> Result<SecretString, RestError> {
        self.accounts(login)?
            .create_secondary_auth_token(self.suppress_email)
    }

    fn promote(&self, login: &AccountToken) -> Result<(), RestError> {
        self.accounts(login)?
            .promote_auth_token(self.suppress_email)
    }

    fn delete_secondary(&self, login: &AccountToken) -> Result<bool, RestError> {
        self.accounts(login)?
            .delete_secondary_auth_token(self.suppress_email)
    }

    fn logs_in(&self, login: &AccountToken) -> Result<bool, RestError> {
        let config = RestConfig {
            credentials: credentials(login),
            base_url: self.taskrouter_url.clone(),
        };
        let transport = Transport::new(&config, RetryPolicy::default())?;
        match transport.send(&Request::get("/v1/Workspaces?PageSize=1".to_owned())) {
            Ok(_) => Ok(true),
            Err(RestError::Api(error)) if error.status == 401 => Ok(false),
            Err(error) => Err(error),
        }
    }
}

/// The secret being rotated: its Secrets Manager client and id.
#[derive(Debug, Clone)]
pub struct Secret {
    client: aws_sdk_secretsmanager::Client,
    id: String,
}

impl Secret {
    /// The secret `id` read and written through `client`.
    pub fn new(client: aws_sdk_secretsmanager::Client, id: impl Into<String>) -> Self {
        Self {
            client,
            id: id.into(),
        }
    }

    fn failed<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        operation: &'static str,
        error: &aws_sdk_secretsmanager::error::SdkError<
            E,
            aws_sdk_secretsmanager::config::http::HttpResponse,
        >,
    ) -> RotateError {
        RotateError::Secrets {
            operation,
            secret_id: self.id.clone(),
            reason: DisplayErrorContext(error).to_string(),
        }
    }

    /// Each version's labels.
    async fn stages(&self) -> Result<HashMap<String, Vec<String>>, RotateError> {
        let described = self
            .client
            .describe_secret()
            .secret_id(&self.id)
            .send()
            .await
            .map_err(|error| self.failed("DescribeSecret", &error))?;
        Ok(described.version_ids_to_stages.unwrap_or_default())
    }

    /// The version with `label`, or the version `version` if it has `label`; `None` when there
    /// is none.
    async fn read(
        &self,
        label: &str,
        version: Option<&str>,
    ) -> Result<Option<AccountToken>, RotateError> {
        Ok(self
            .read_dated(label, version)
            .await?
            .map(|(value, _)| value))
    }

    /// As [`Secret::read`], with the version's creation date.
    async fn read_dated(
        &self,
        label: &str,
        version: Option<&str>,
    ) -> Result<Option<(AccountToken, Option<SystemTime>)>, RotateError> {
        let answer = self
            .client
            .get_secret_value()
            .secret_id(&self.id)
            .version_stage(label)
            .set_version_id(version.map(str::to_owned))
            .send()
            .await;
        let output = match answer {
            Ok(output) => output,
            Err(error)
                if error.as_service_error().is_some_and(
                    aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError::is_resource_not_found_exception,
                ) =>
            {
                return Ok(None);
            }
            Err(error) => return Err(self.failed("GetSecretValue", &error)),
        };
        let malformed = |reason: String| RotateError::Malformed {
            secret_id: self.id.clone(),
            stage: label.to_owned(),
            reason,
        };
        let created = output
            .created_date
            .and_then(|created| SystemTime::try_from(created).ok());
        let Some(mut text) = output.secret_string else {
            return Err(malformed("it holds no SecretString".to_owned()));
        };
        let parsed = serde_json::from_str::<Stored>(&text);
        text.zeroize();
        // serde's messages for these two strings name fields and positions, never the value.
        let stored = parsed.map_err(|error| {
            malformed(format!(
                "line {} column {}: {:?}",
                error.line(),
                error.column(),
                error.classify()
            ))
        })?;
        let account = AccountSid::parse(&stored.account_sid)
            .map_err(|error| malformed(format!("`account_sid`: {error}")))?;
        Ok(Some((
            AccountToken {
                account,
                token: stored.auth_token,
            },
            created,
        )))
    }

    async fn put_pending(&self, version: &str, value: &AccountToken) -> Result<(), RotateError> {
        let mut text = serde_json::to_string(&serde_json::json!({
            "account_sid": value.account.as_str(),
            "auth_token": value.token.expose_secret(),
        }))
        .unwrap_or_default();
        let sent = self
            .client
            .put_secret_value()
            .secret_id(&self.id)
            .client_request_token(version)
            .secret_string(text.as_str())
            .version_stages(PENDING)
            .send()
            .await;
        text.zeroize();
        sent.map(|_| ())
            .map_err(|error| self.failed("PutSecretValue", &error))
    }

    async fn make_current(&self, version: &str, from: &str) -> Result<(), RotateError> {
        self.client
            .update_secret_version_stage()
            .secret_id(&self.id)
            .version_stage(CURRENT)
            .move_to_version_id(version)
            .remove_from_version_id(from)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| self.failed("UpdateSecretVersionStage", &error))
    }
}

/// How long `finishSecret` waits around the promotion (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// How old the pending version must be before the promotion: the function's
    /// `AUTH_TOKEN_REFRESH_SECONDS`, after which every instance has read it.
    pub settle: Duration,
    /// How long after the promotion `AWSCURRENT` moves: TaskRouter's callback deadline and a
    /// margin, for callbacks signed with the old token just before.
    pub drain: Duration,
}

impl Timing {
    /// The waits for a function with `refresh` as its `AUTH_TOKEN_REFRESH_SECONDS`.
    pub fn for_refresh(refresh: Duration) -> Self {
        Self {
            settle: refresh,
            drain: DRAIN,
        }
    }
}

/// TaskRouter's 5 s callback deadline (docs/taskrouter.md §2) and a second of margin.
pub const DRAIN: Duration = Duration::from_secs(6);

/// What a step did, for the log line (no token in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The step did its work.
    Done,
    /// Nothing was left to do: a repeat, or a step with nothing to do.
    AlreadyDone,
}

/// Runs `step` of the rotation to version `version` of `secret`.
///
/// # Errors
///
/// [`RotateError`]: Secrets Manager calls the step again, and a repeat does only what is left.
pub async fn run(
    secret: &Secret,
    version: &str,
    step: Step,
    twilio: &impl Twilio,
    timing: Timing,
) -> Result<Outcome, RotateError> {
    let stages = secret.stages().await?;
    let labels = stages.get(version).map(Vec::as_slice).unwrap_or_default();
    if labels.iter().any(|label| label == CURRENT) {
        // Finished already; a finishSecret repeated after its deletion failed tries that again.
        if step == Step::FinishSecret {
            let current = secret
                .read(CURRENT, None)
                .await?
                .ok_or_else(|| missing(secret, CURRENT))?;
            twilio.delete_secondary(&current)?;
        }
        return Ok(Outcome::AlreadyDone);
    }
    match step {
        Step::CreateSecret => create(secret, version, twilio).await,
        Step::SetSecret => Ok(Outcome::AlreadyDone),
        Step::TestSecret => {
            let pending = pending(secret, version).await?;
            if twilio.logs_in(&pending)? {
                Ok(Outcome::Done)
            } else {
                Err(RotateError::PendingRefused {
                    secret_id: secret.id.clone(),
                    account: pending.account,
                })
            }
        }
        Step::FinishSecret => finish(secret, version, &stages, twilio, timing).await,
    }
}

async fn create(
    secret: &Secret,
    version: &str,
    twilio: &impl Twilio,
) -> Result<Outcome, RotateError> {
    if secret.read(PENDING, Some(version)).await?.is_some() {
        return Ok(Outcome::AlreadyDone);
    }
    let current = secret
        .read(CURRENT, None)
        .await?
        .ok_or_else(|| missing(secret, CURRENT))?;
    let token = twilio.create_secondary(&current)?;
    let pending = AccountToken {
        account: current.account,
        token,
    };
    secret.put_pending(version, &pending).await?;
    Ok(Outcome::Done)
}

async fn pending(secret: &Secret, version: &str) -> Result<AccountToken, RotateError> {
    secret
        .read(PENDING, Some(version))
        .await?
        .ok_or_else(|| RotateError::NotPending {
            secret_id: secret.id.clone(),
            version: version.to_owned(),
        })
}

async fn finish(
    secret: &Secret,
    version: &str,
    stages: &HashMap<String, Vec<String>>,
    twilio: &impl Twilio,
    timing: Timing,
) -> Result<Outcome, RotateError> {
    let (pending, created) = secret
        .read_dated(PENDING, Some(version))
        .await?
        .ok_or_else(|| RotateError::NotPending {
            secret_id: secret.id.clone(),
            version: version.to_owned(),
        })?;
    let current = secret
        .read(CURRENT, None)
        .await?
        .ok_or_else(|| missing(secret, CURRENT))?;
    // Secrets Manager's clock dates the version; a version without a date waits the whole time.
    let age = created
        .and_then(|created| SystemTime::now().duration_since(created).ok())
        .unwrap_or_default();
    if let Some(left) = timing
        .settle
        .checked_sub(age)
        .filter(|left| !left.is_zero())
    {
        tracing::info!(
            wait_ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
            "waiting until every instance holds the pending token"
        );
        tokio::time::sleep(left).await;
    }
    let promoted_now = twilio.promote(&pending);
    if let Err(cause) = promoted_now {
        // Refused: perhaps because an earlier attempt promoted it and then failed to move
        // AWSCURRENT. Which token logs in says which.
        let refused = cause.api().is_some_and(|error| error.status < 500);
        let promoted = refused && twilio.logs_in(&pending)? && !twilio.logs_in(&current)?;
        if !promoted {
            return Err(RotateError::NotPromoted {
                account: pending.account,
                cause,
            });
        }
    }
    tokio::time::sleep(timing.drain).await;
    let from = stages
        .iter()
        .find(|(_, labels)| labels.iter().any(|label| label == CURRENT))
        .map(|(id, _)| id.clone())
        .ok_or_else(|| missing(secret, CURRENT))?;
    secret.make_current(version, &from).await?;
    twilio.delete_secondary(&pending)?;
    Ok(Outcome::Done)
}

fn missing(secret: &Secret, label: &str) -> RotateError {
    RotateError::Malformed {
        secret_id: secret.id.clone(),
        stage: label.to_owned(),
        reason: "there is no such version".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_managers_event_is_read_with_its_four_steps() {
        for (name, step) in [
            ("createSecret", Step::CreateSecret),
            ("setSecret", Step::SetSecret),
            ("testSecret", Step::TestSecret),
            ("finishSecret", Step::FinishSecret),
        ] {
            let event: RotationEvent = serde_json::from_value(serde_json::json!({
                "SecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:taskrouter/token-AbCdEf",
                "ClientRequestToken": "0c5e2a7b-5f0a-4f64-9d0b-3c1f5e6a7b8c",
                "Step": name,
            }))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(event.step, step, "{name}");
        }
        let unknown = serde_json::from_value::<RotationEvent>(serde_json::json!({
            "SecretId": "s", "ClientRequestToken": "t", "Step": "rotate",
        }));
        assert!(unknown.is_err(), "an unknown step is refused");
    }

    #[test]
    fn a_malformed_version_is_described_without_its_value() {
        let error =
            serde_json::from_str::<Stored>(r#"{"account_sid": "AC1", "auth_token": 12345678}"#)
                .err()
                .map(|error| {
                    format!(
                        "line {} column {}: {:?}",
                        error.line(),
                        error.column(),
                        error.classify()
                    )
                })
                .expect("a number is not a token");
        assert!(!error.contains("12345678"), "{error}");
    }
}

/// Parameter Store: the function's token (`TWILIO_AUTH_TOKEN_PARAMETER`) and its secondary
/// (`TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER`), two `SecureString`s, rotated in the safe order by
/// [`rotate_parameters`] (`taskrouter token rotate`).
#[derive(Debug, Clone)]
pub struct Parameters {
    /// The SSM client.
    pub client: aws_sdk_ssm::Client,
    /// The primary's name.
    pub primary: String,
    /// The secondary's name.
    pub secondary: String,
}

impl Parameters {
    fn failed<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        operation: &'static str,
        name: &str,
        error: &aws_sdk_ssm::error::SdkError<E, aws_sdk_ssm::config::http::HttpResponse>,
    ) -> RotateError {
        RotateError::Secrets {
            operation,
            secret_id: name.to_owned(),
            reason: aws_sdk_ssm::error::DisplayErrorContext(error).to_string(),
        }
    }

    /// The token in `name` and when it was last written; `None` when there is no such parameter.
    async fn read(
        &self,
        name: &str,
    ) -> Result<Option<(SecretString, Option<SystemTime>)>, RotateError> {
        match self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
        {
            Ok(output) => {
                let parameter = output.parameter.unwrap_or_else(|| {
                    aws_sdk_ssm::types::Parameter::builder().build()
                });
                let modified = parameter
                    .last_modified_date
                    .and_then(|date| SystemTime::try_from(date).ok());
                let mut value = parameter.value.unwrap_or_default();
                let token = SecretString::from(value.trim());
                value.zeroize();
                Ok(Some((token, modified)))
            }
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(aws_sdk_ssm::operation::get_parameter::GetParameterError::is_parameter_not_found) =>
            {
                Ok(None)
            }
            Err(error) => Err(self.failed("GetParameter", name, &error)),
        }
    }

    async fn write(&self, name: &str, token: &SecretString) -> Result<(), RotateError> {
        self.client
            .put_parameter()
            .name(name)
            .value(token.expose_secret())
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| self.failed("PutParameter", name, &error))
    }

    async fn delete(&self, name: &str) -> Result<(), RotateError> {
        match self.client.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(aws_sdk_ssm::operation::delete_parameter::DeleteParameterError::is_parameter_not_found) =>
            {
                Ok(())
            }
            Err(error) => Err(self.failed("DeleteParameter", name, &error)),
        }
    }
}

/// Rotates the token of `account` kept in Parameter Store, in the order that keeps every callback
/// verified, and returns what it did, a line per step (no token in them). Run again after a
/// failure, it goes on from where the parameters and Twilio stand:
///
/// 1. no secondary parameter: Twilio's secondary token is created (logged in with the primary)
///    and written to the secondary parameter; one already there is taken as this rotation's;
/// 2. the promotion waits until the secondary parameter is [`Timing::settle`] old (every instance
///    of the function then holds both tokens), and checks that the secondary logs in;
/// 3. the secondary is promoted at Twilio (a refusal counts as done when the secondary logs in
///    and the primary no longer does), then, [`Timing::drain`] later, written over the primary;
/// 4. the secondary parameter is deleted, and Twilio's secondary if one is left.
///
/// A failure before step 3 leaves the primary in use at Twilio and in the primary parameter.
///
/// # Errors
///
/// [`RotateError`]: a parameter cannot be read or written, Twilio refuses or does not answer, or
/// the secondary does not log in (delete the secondary parameter and run again).
pub async fn rotate_parameters(
    parameters: &Parameters,
    account: &AccountSid,
    twilio: &impl Twilio,
    timing: Timing,
) -> Result<Vec<String>, RotateError> {
    let mut done = Vec::new();
    let login = |token: &SecretString| AccountToken {
        account: account.clone(),
        token: token.clone(),
    };
    let (primary, _) =
        parameters
            .read(&parameters.primary)
            .await?
            .ok_or_else(|| RotateError::Malformed {
                secret_id: parameters.primary.clone(),
                stage: "primary".to_owned(),
                reason: "there is no such parameter".to_owned(),
            })?;
    let (secondary, written) = match parameters.read(&parameters.secondary).await? {
        Some(existing) => {
            done.push(format!(
                "secondary: {} already holds a token, taken as this rotation's",
                parameters.secondary
            ));
            existing
        }
        None => {
            let token = twilio.create_secondary(&login(&primary))?;
            parameters.write(&parameters.secondary, &token).await?;
            done.push(format!(
                "secondary: created at Twilio and written to {}",
                parameters.secondary
            ));
            (token, Some(SystemTime::now()))
        }
    };
    let same = secondary.expose_secret() == primary.expose_secret();
    if !same {
        let age = written
            .and_then(|written| SystemTime::now().duration_since(written).ok())
            .unwrap_or_default();
        if let Some(left) = timing
            .settle
            .checked_sub(age)
            .filter(|left| !left.is_zero())
        {
            done.push(format!(
                "waited {} s for every instance of the function to read it",
                left.as_secs()
            ));
            tokio::time::sleep(left).await;
        }
        if !twilio.logs_in(&login(&secondary))? {
            return Err(RotateError::PendingRefused {
                secret_id: parameters.secondary.clone(),
                account: account.clone(),
            });
        }
        if let Err(cause) = twilio.promote(&login(&secondary)) {
            let refused = cause.api().is_some_and(|error| error.status < 500);
            let promoted = refused
                && twilio.logs_in(&login(&secondary))?
                && !twilio.logs_in(&login(&primary))?;
            if !promoted {
                return Err(RotateError::NotPromoted {
                    account: account.clone(),
                    cause,
                });
            }
        }
        done.push("promoted at Twilio: it signs with the new token".to_owned());
        tokio::time::sleep(timing.drain).await;
        parameters.write(&parameters.primary, &secondary).await?;
        done.push(format!(
            "primary: {} holds the new token",
            parameters.primary
        ));
    }
    parameters.delete(&parameters.secondary).await?;
    done.push(format!("secondary: {} deleted", parameters.secondary));
    twilio.delete_secondary(&login(&secondary))?;
    Ok(done)
}
