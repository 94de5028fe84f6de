//! `taskrouter-rotate`: the rotation function of the auth-token secret. Secrets Manager invokes it
//! with `{"SecretId", "ClientRequestToken", "Step"}`; the steps are [`taskrouter_lambda::rotate`].
//!
//! Reads `TWILIO_ACCOUNTS_API_URL` and `TASKROUTER_API_URL` (or `TWILIO_REGION` /
//! `TWILIO_EDGE`) for where Twilio is, as the `taskrouter` command does. A step that fails is an
//! error of the invocation, which is how Secrets Manager learns to call it again.

use std::process::ExitCode;

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use taskrouter_lambda::rest::accounts::accounts_base_url;
use taskrouter_lambda::rest::config::{API_URL, EDGE, REGION, base_url};
use taskrouter_lambda::rotate::{self, RotationEvent, Secret, TwilioAccounts};
use taskrouter_lambda::telemetry::LogSettings;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    LogSettings::from_env().install();
    let lookup = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let twilio = match (
        accounts_base_url(lookup),
        base_url(
            lookup(API_URL).as_deref(),
            lookup(REGION).as_deref(),
            lookup(EDGE).as_deref(),
        ),
    ) {
        (Ok(accounts_url), Ok(taskrouter_url)) => TwilioAccounts {
            accounts_url,
            taskrouter_url,
            suppress_email: false,
        },
        (Err(error), _) | (_, Err(error)) => {
            tracing::error!("cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let sdk_config = aws_config::load_from_env().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config);
    let twilio = &twilio;
    let client = &client;
    let handler = service_fn(move |event: LambdaEvent<RotationEvent>| async move {
        let RotationEvent {
            secret_id,
            client_request_token,
            step,
        } = event.payload;
        let secret = Secret::new(client.clone(), secret_id.clone());
        match rotate::run(&secret, &client_request_token, step, twilio).await {
            Ok(outcome) => {
                tracing::info!(secret = %secret_id, version = %client_request_token, ?step, ?outcome, "rotation step");
                Ok::<(), lambda_runtime::Error>(())
            }
            Err(error) => {
                tracing::error!(secret = %secret_id, version = %client_request_token, ?step, "rotation step failed: {error}");
                Err(lambda_runtime::Error::from(error))
            }
        }
    });
    match lambda_runtime::run(handler).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}
