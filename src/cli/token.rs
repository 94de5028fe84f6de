//! `taskrouter token rotate`: rotates the account's auth token kept in Parameter Store, the
//! steps of [`crate::rotate::rotate_parameters`], from a terminal or a scheduled job.
//!
//! Reads `TWILIO_ACCOUNT_SID` (the account), `TWILIO_AUTH_TOKEN_PARAMETER` and
//! `TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER` (the function's settings; `--parameter` and
//! `--secondary-parameter` override them), `AUTH_TOKEN_REFRESH_SECONDS` (the function's, default
//! 60: how long the promotion waits; `--settle-seconds` overrides it), where Twilio is
//! (`TWILIO_ACCOUNTS_API_URL`, `TASKROUTER_API_URL`, `TWILIO_REGION`, `TWILIO_EDGE`) and the AWS
//! SDK's usual settings. The tokens are read from and written to the parameters only: none is
//! taken from the environment or printed.

use std::time::Duration;

use clap::Subcommand;

use crate::rest::accounts::accounts_base_url;
use crate::rest::config::{API_URL, EDGE, REGION, base_url};
use crate::rotate::{Parameters, Timing, TwilioAccounts, rotate_parameters};
use crate::sid::AccountSid;
use crate::token::{DEFAULT_REFRESH_INTERVAL, PARAMETER_VAR, SECONDARY_PARAMETER_VAR};

use super::{Exit, Output};

/// What `taskrouter token` does.
#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Rotate the auth token kept in Parameter Store with Twilio's secondary token, in the
    /// order that keeps every callback verified; run again after a failure, it goes on.
    Rotate {
        /// The primary parameter [default: TWILIO_AUTH_TOKEN_PARAMETER].
        #[arg(long, value_name = "NAME")]
        parameter: Option<String>,
        /// The secondary parameter [default: TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER].
        #[arg(long, value_name = "NAME")]
        secondary_parameter: Option<String>,
        /// How old the secondary parameter must be before the promotion: the function's
        /// AUTH_TOKEN_REFRESH_SECONDS [default: that variable, else 60].
        #[arg(long, value_name = "SECONDS")]
        settle_seconds: Option<u64>,
        /// Ask Twilio not to e-mail the account's owners about the new token.
        #[arg(long)]
        suppress_email: bool,
    },
}

/// Runs `command`.
pub fn run(command: TokenCommand, env: &dyn Fn(&str) -> Option<String>) -> Output {
    let TokenCommand::Rotate {
        parameter,
        secondary_parameter,
        settle_seconds,
        suppress_email,
    } = command;
    let get = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let usage = |message: String| Output {
        stdout: String::new(),
        stderr: format!("error: {message}\n"),
        code: Exit::Usage.code(),
    };
    let Some(primary) = parameter.or_else(|| get(PARAMETER_VAR)) else {
        return usage(format!(
            "name the primary parameter: --parameter or {PARAMETER_VAR}"
        ));
    };
    let Some(secondary) = secondary_parameter.or_else(|| get(SECONDARY_PARAMETER_VAR)) else {
        return usage(format!(
            "name the secondary parameter: --secondary-parameter or {SECONDARY_PARAMETER_VAR}"
        ));
    };
    let account = match get("TWILIO_ACCOUNT_SID").map(|sid| AccountSid::parse(sid.trim())) {
        Some(Ok(account)) => account,
        Some(Err(error)) => return usage(format!("TWILIO_ACCOUNT_SID: {error}")),
        None => return usage("set TWILIO_ACCOUNT_SID: the account whose token rotates".to_owned()),
    };
    let settle = match settle_seconds {
        Some(seconds) => Duration::from_secs(seconds),
        None => match get("AUTH_TOKEN_REFRESH_SECONDS") {
            None => DEFAULT_REFRESH_INTERVAL,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(seconds) => Duration::from_secs(seconds),
                Err(_) => {
                    return usage(format!(
                        "AUTH_TOKEN_REFRESH_SECONDS: expected whole seconds, got `{text}`"
                    ));
                }
            },
        },
    };
    let twilio = match (
        accounts_base_url(get),
        base_url(
            get(API_URL).as_deref(),
            get(REGION).as_deref(),
            get(EDGE).as_deref(),
        ),
    ) {
        (Ok(accounts_url), Ok(taskrouter_url)) => TwilioAccounts {
            accounts_url,
            taskrouter_url,
            suppress_email,
        },
        (Err(error), _) | (_, Err(error)) => return usage(error.to_string()),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return usage(format!("cannot start the runtime: {error}")),
    };
    let timing = Timing {
        settle,
        ..Timing::for_refresh(settle)
    };
    let outcome = runtime.block_on(async {
        let sdk_config = aws_config::load_from_env().await;
        let parameters = Parameters {
            client: aws_sdk_ssm::Client::new(&sdk_config),
            primary,
            secondary,
        };
        rotate_parameters(&parameters, &account, &twilio, timing).await
    });
    match outcome {
        Ok(done) => Output {
            stdout: done.iter().map(|line| format!("{line}\n")).collect(),
            stderr: String::new(),
            code: Exit::Success.code(),
        },
        Err(error) => Output {
            stdout: String::new(),
            stderr: format!("error: {error}\n"),
            code: Exit::Findings.code(),
        },
    }
}
