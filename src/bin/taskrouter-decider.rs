//! The decider function: initialises logging, builds the decider once and serves SQS batches of
//! deferred reservations until the runtime stops it. Everything else lives in
//! `taskrouter_lambda::defer::decider`.

use std::process::ExitCode;
use std::sync::Arc;

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use taskrouter_lambda::defer::decider::{BatchResponse, Decider, SqsEvent};
use taskrouter_lambda::metrics::StdoutSink;
use taskrouter_lambda::telemetry::LogSettings;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    LogSettings::from_env().install();
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok();
    let decider = match Decider::build(
        |name| std::env::var(name).ok(),
        function_name.as_deref(),
        Arc::new(StdoutSink),
    )
    .await
    {
        Ok(decider) => decider,
        Err(error) => {
            tracing::error!("cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("ready");
    if std::env::var("DECIDER_POLL").is_ok_and(|value| value == "true") {
        // Local runs (`make decider`): poll the queue as Lambda's event source mapping would.
        loop {
            if let Err(error) = decider.poll_once(20).await {
                tracing::error!(%error, "the queue cannot be read");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
    let decider = &decider;
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<BatchResponse, std::convert::Infallible>(decider.handle(event.payload).await)
    }))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}
