//! The Lambda function: initialises logging, reads the configuration, builds the application once
//! and serves requests until the runtime stops it. Everything else lives in the library.

use std::process::ExitCode;
use std::sync::Arc;

use taskrouter_lambda::app::App;
use taskrouter_lambda::config::Config;
use taskrouter_lambda::http;
use taskrouter_lambda::metrics::StdoutSink;
use taskrouter_lambda::telemetry::LogSettings;

// One thread: a callback is a few microseconds of CPU, and a single-threaded runtime starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    LogSettings::from_env().install();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => return refuse_to_start(&error),
    };
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok();
    let app = match App::build(config, function_name.as_deref(), Arc::new(StdoutSink)).await {
        Ok(app) => app,
        Err(error) => return refuse_to_start(&error),
    };
    let rules = app.rules.default_rules().len();
    let tenant_documents = app.rules.tenant_documents();
    match app.verification.describe_source() {
        Some(token_source) => {
            tracing::info!(token_source, rules, tenant_documents, "ready");
        }
        None => {
            tracing::warn!(
                rules,
                tenant_documents,
                "ready WITHOUT signature verification (TASKROUTER_INSECURE_SKIP_SIGNATURE=true)"
            );
        }
    }

    let served = lambda_http::lambda_runtime::run(http::function(&app)).await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

/// Logs why the function cannot start (naming the setting) and exits non-zero, so Lambda reports
/// an init failure instead of answering callbacks wrongly.
fn refuse_to_start(error: &dyn std::error::Error) -> ExitCode {
    tracing::error!("cannot start: {error}");
    ExitCode::FAILURE
}
