//! `taskrouter-rotate`: the rotation function of the auth-token secret. Secrets Manager invokes it
//! with `{"SecretId", "ClientRequestToken", "Step"}`; the steps are [`taskrouter_lambda::rotate`].
//!
//! Reads `TWILIO_ACCOUNTS_API_URL` and `TASKROUTER_API_URL` (or `TWILIO_REGION` /
//! `TWILIO_EDGE`) for where Twilio is, as the `taskrouter` command does, and the callback
//! function's `AUTH_TOKEN_REFRESH_SECONDS` (default 60) for how long the promotion waits. A step that fails is an
//! error of the invocation, which is how Secrets Manager learns to call it again.

use std::process::ExitCode;

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use std::time::Duration;
use taskrouter_lambda::rest::accounts::accounts_base_url;
use taskrouter_lambda::rest::config::{API_URL, EDGE, REGION, base_url};

use taskrouter_lambda::rotate::{self, RotationEvent, Secret, Timing, TwilioAccounts};
use taskrouter_lambda::telemetry::LogSettings;
use taskrouter_lambda::token::DEFAULT_REFRESH_INTERVAL;

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
    // The function's own setting: the promotion waits until every instance holds the new token.
    let timing = match lookup("AUTH_TOKEN_REFRESH_SECONDS") {
        None => Timing::for_refresh(DEFAULT_REFRESH_INTERVAL),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(seconds) if (1..=86_400).contains(&seconds) => {
                Timing::for_refresh(Duration::from_secs(seconds))
            }
            _ => {
                tracing::error!(
                    "cannot start: AUTH_TOKEN_REFRESH_SECONDS: expected whole seconds from 1 to 86400, got `{text}`"
                );
                return ExitCode::FAILURE;
            }
        },
    };
    let sdk_config = aws_config::load_from_env().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config);
    let twilio = &twilio;
    let client = &client;
    let handler = service_fn(move |event: LambdaEvent<RotationEvent>| async move {
        let RotationEvent {
            secret_id,
            version_id,
            step,
        } = event.payload;
        let secret = Secret::new(client.clone(), secret_id.clone());
        match rotate::run(&secret, &version_id, step, twilio, timing).await {
            Ok(outcome) => {
                tracing::info!(secret = %secret_id, version = %version_id, ?step, ?outcome, "rotation step");
                Ok::<(), lambda_runtime::Error>(())
            }
            Err(error) => {
                tracing::error!(secret = %secret_id, version = %version_id, ?step, "rotation step failed: {error}");
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
