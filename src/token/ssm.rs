//! The one SSM read path: `GetParameter` with `WithDecryption=true`, bounded by the timeouts and
//! retries of the parent module's table, its failures classified into [`TokenError`]s.
//!
//! Every read of a token goes through here, whether the deployment serves one account or many:
//! [`client`] is the only place the SSM client's timeouts and retries are set, and
//! `SsmParameters::read` the only place a primary and its secondary are read.

use std::fmt;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use aws_sdk_ssm::types::ParameterType;

use super::{AuthToken, TokenError, TokenSet};

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

/// An SSM client for `sdk_config` with this module's timeouts and retries, whatever `sdk_config`
/// says, so a read always fits TaskRouter's deadline. Cheap to clone: clones share the connection
/// pool, so every account of a many-account deployment reads through one.
pub fn client(sdk_config: &SdkConfig) -> aws_sdk_ssm::Client {
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

    /// Reads the primary and, concurrently, the secondary: one `GetParameter` each.
    pub(crate) async fn read(&self) -> Result<TokenSet, TokenError> {
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
        // `from_origin` overwrites the SDK's string once the token is copied into its secret.
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
