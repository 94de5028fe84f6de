//! The decider function (`taskrouter-decider`): each deferred reservation on the queue is asked
//! about, and decided at most once.
//!
//! For each SQS message ([`Decider::handle`]):
//!
//! 1. the message is read back ([`super::queue::Message::parse`]); one that is not ours is
//!    counted `invalid` and dropped (retrying cannot make it readable);
//! 2. the reservation is fetched over REST: **not pending → `gone`**, nothing asked, nothing
//!    updated (it timed out, was canceled or rescinded, or was accepted elsewhere);
//! 3. before the deadline, the `decider` URL is asked: a `POST` of the callback's own form
//!    parameters plus `Deadline` (RFC 3339), signed with `X-Twilio-Signature` by the account's
//!    token ([`crate::signature::sign`]), so any Twilio helper library's validator accepts it. Its
//!    answer is read as an assignment callback's: an instruction is validated
//!    ([`Instruction::from_json`]) and applied over REST ([`Instruction::to_form`]) → `applied`;
//!    `{}`, an error or no answer → `retried`: the message is reported in `batchItemFailures` and
//!    hidden for a backoff that never runs past the deadline;
//! 4. from the deadline on, `otherwise` is applied → `otherwise`.
//!
//! An update refused because the reservation is no longer pending (docs/taskrouter.md §7,
//! docs/taskrouter.md §12: `400` "not in expected state", errors 40123 / 40135) is a normal
//! outcome: the reservation is fetched again and, no longer pending, counted `gone`. So a duplicate
//! delivery, two deliveries racing, or the worker accepting in their own UI meanwhile never apply a
//! second decision nor fail the message for good: TaskRouter itself holds the line (only a pending
//! reservation can be updated), and every path ends by reading what it says.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::instruction::Instruction;
use crate::metrics::Metrics;
use crate::metrics::MetricsSink;
use crate::rest::client::{Client, ReservationOf};
use crate::rest::config::{Credentials, RestConfig};
use crate::rest::resources::ReservationStatus;
use crate::rest::transport::{RestError, RetryPolicy, http_agent};
use crate::sid::AccountSid;
use crate::signature;
use crate::token::{AccountTokens, Deadline, TokenSet, TokenStore};

use super::queue::{DeferralQueue, Deferred, Message};

/// How long one read of a token may take, in the decider (no caller is waiting five seconds).
const TOKEN_READ: Duration = Duration::from_secs(5);

/// The longest the decider URL is waited for, per ask.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest pause between two asks.
const MAX_BACKOFF_SECONDS: i64 = 60;

/// An SQS event, as Lambda delivers it (the fields read here).
#[derive(Debug, Clone, Deserialize)]
pub struct SqsEvent {
    /// The messages.
    #[serde(rename = "Records", default)]
    pub records: Vec<SqsRecord>,
}

/// One message of an [`SqsEvent`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsRecord {
    /// The message's id: what `batchItemFailures` names.
    pub message_id: String,
    /// The handle that changes its visibility.
    pub receipt_handle: String,
    /// The message.
    pub body: String,
    /// SQS's attributes (`ApproximateReceiveCount`, …).
    #[serde(default)]
    pub attributes: std::collections::HashMap<String, String>,
}

impl SqsRecord {
    /// How many times the message was received, this time included (1 when unknown).
    fn receive_count(&self) -> u32 {
        self.attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1)
    }
}

/// The partial batch response (`ReportBatchItemFailures`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct BatchResponse {
    /// The messages to deliver again.
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

/// One message to deliver again.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ItemFailure {
    /// Its message id.
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The decider's instruction was applied.
    Applied(&'static str),
    /// No answer by the deadline: `otherwise` was applied.
    Otherwise(&'static str),
    /// The reservation is no longer pending: nothing was applied.
    Gone(String),
    /// Asked again after this many seconds.
    Retried {
        /// Why.
        reason: String,
        /// The visibility backoff.
        after_seconds: i32,
    },
    /// Not a deferred reservation.
    Invalid(String),
}

impl Outcome {
    /// The `Deferrals` metric's `Outcome`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Applied(_) => "applied",
            Self::Otherwise(_) => "otherwise",
            Self::Gone(_) => "gone",
            Self::Retried { .. } => "retried",
            Self::Invalid(_) => "invalid",
        }
    }
}

/// Where the decider's tokens come from: the callback's own settings.
pub enum Tokens {
    /// One account's ([`TokenStore`]).
    One(Arc<TokenStore>),
    /// A token per account ([`AccountTokens`]).
    PerAccount(Box<AccountTokens>),
}

impl Tokens {
    async fn get(&self, account: &AccountSid) -> Result<Arc<TokenSet>, String> {
        let deadline = Deadline::at(tokio::time::Instant::now() + TOKEN_READ);
        match self {
            Self::One(store) => store
                .tokens(deadline)
                .await
                .map_err(|error| error.to_string()),
            Self::PerAccount(accounts) => accounts
                .tokens(account, deadline)
                .await
                .map(|(_, set)| set)
                .map_err(|error| error.to_string()),
        }
    }
}

/// Everything the decider needs, built once per cold start.
pub struct Decider {
    /// The account tokens.
    pub tokens: Tokens,
    /// The REST API's base URL (`TASKROUTER_API_URL`, or Twilio's).
    pub api_base: String,
    /// The queue, to change a retried message's visibility.
    pub queue: DeferralQueue,
    /// The first backoff, in seconds; it doubles with each receive.
    pub retry_base_seconds: i64,
    /// Metric lines.
    pub metrics: Metrics,
    /// Where they go.
    pub sink: Arc<dyn MetricsSink>,
    /// The clock (tests fix it).
    pub clock: fn() -> Timestamp,
}

/// Why the decider cannot start. Messages name the variable.
#[derive(Debug, thiserror::Error)]
pub enum DeciderStartError {
    /// The callback's settings (tokens, metrics namespace) are invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// `DEFERRED_QUEUE_URL` is not set.
    #[error("DEFERRED_QUEUE_URL is not set: set it to the URL of the queue this function reads")]
    NoQueue,
    /// The REST API's base URL settings are invalid.
    #[error(transparent)]
    Api(#[from] crate::rest::ConfigError),
    /// `DECIDER_RETRY_SECONDS` is not 0 to 60.
    #[error("DECIDER_RETRY_SECONDS is invalid: expected whole seconds from 0 to 60, got `{0}`")]
    Retry(String),
    /// The metrics namespace is invalid.
    #[error("METRICS_NAMESPACE is invalid: {0}")]
    Metrics(#[from] crate::metrics::MetricsError),
}

impl Decider {
    /// Builds the decider from the environment read through `lookup`: the callback's token
    /// settings (one account's, or a prefix), `DEFERRED_QUEUE_URL`, `TASKROUTER_API_URL` (or
    /// `TWILIO_REGION` / `TWILIO_EDGE`), `DECIDER_RETRY_SECONDS` (the first backoff, default 5),
    /// `METRICS_NAMESPACE`.
    ///
    /// # Errors
    ///
    /// [`DeciderStartError`] naming the variable.
    pub async fn build(
        lookup: impl Fn(&str) -> Option<String>,
        function_name: Option<&str>,
        sink: Arc<dyn MetricsSink>,
    ) -> Result<Self, DeciderStartError> {
        use crate::config::{Config, Signatures};
        use crate::rest::config::{API_URL, EDGE, REGION, base_url};
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let config = Config::from_lookup(&lookup)?;
        let url = config
            .deferred_queue_url
            .ok_or(DeciderStartError::NoQueue)?;
        let api_base = base_url(
            get(API_URL).as_deref(),
            get(REGION).as_deref(),
            get(EDGE).as_deref(),
        )?;
        let retry_base_seconds = match get("DECIDER_RETRY_SECONDS") {
            None => 5,
            Some(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|seconds| (0..=60).contains(seconds))
                .ok_or(DeciderStartError::Retry(text))?,
        };
        let metrics = Metrics::new(
            &config.metrics_namespace,
            function_name.unwrap_or("local-decider"),
        )?;
        let first_read = Deadline::at(tokio::time::Instant::now() + TOKEN_READ);
        let tokens = match config.signatures {
            Signatures::OneAccount(source) => {
                Tokens::One(TokenStore::new(source, config.token_refresh, first_read).await)
            }
            Signatures::PerAccount(accounts) => Tokens::PerAccount(Box::new(
                AccountTokens::new(accounts, config.token_refresh).await,
            )),
            // The decider signs its requests: it always needs the tokens.
            Signatures::Unchecked => return Err(crate::config::ConfigError::NoToken.into()),
        };
        let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        Ok(Self {
            tokens,
            api_base,
            queue: DeferralQueue::new(url, &sdk_config),
            retry_base_seconds,
            metrics,
            sink,
            clock: Timestamp::now,
        })
    }

    /// What Lambda's event source mapping does, once, for local runs without Lambda
    /// (`DECIDER_POLL=true`, `make decider`): receives a batch from the queue (waiting up to
    /// `wait_seconds` for one), handles it, and deletes every message not reported failed. The
    /// number of messages received.
    ///
    /// # Errors
    ///
    /// The SQS error of a receive that failed, as text.
    pub async fn poll_once(&self, wait_seconds: i32) -> Result<usize, String> {
        use aws_sdk_sqs::error::DisplayErrorContext;
        use aws_sdk_sqs::types::MessageSystemAttributeName;
        let received = self
            .queue
            .client()
            .receive_message()
            .queue_url(self.queue.url())
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|error| DisplayErrorContext(&error).to_string())?;
        let messages = received.messages();
        let records = messages
            .iter()
            .map(|message| SqsRecord {
                message_id: message.message_id().unwrap_or_default().to_owned(),
                receipt_handle: message.receipt_handle().unwrap_or_default().to_owned(),
                body: message.body().unwrap_or_default().to_owned(),
                attributes: message
                    .attributes()
                    .into_iter()
                    .flatten()
                    .map(|(key, value)| (key.as_str().to_owned(), value.clone()))
                    .collect(),
            })
            .collect::<Vec<_>>();
        let response = self
            .handle(SqsEvent {
                records: records.clone(),
            })
            .await;
        for record in &records {
            let failed = response
                .batch_item_failures
                .iter()
                .any(|failure| failure.item_identifier == record.message_id);
            if !failed {
                let deleted = self
                    .queue
                    .client()
                    .delete_message()
                    .queue_url(self.queue.url())
                    .receipt_handle(&record.receipt_handle)
                    .send()
                    .await;
                if let Err(error) = deleted {
                    tracing::warn!(message_id = %record.message_id, error = %DisplayErrorContext(&error), "message not deleted: it will be delivered again");
                }
            }
        }
        Ok(records.len())
    }

    /// Handles one batch: every message decided, retried or dropped; the retried ones listed.
    pub async fn handle(&self, event: SqsEvent) -> BatchResponse {
        let mut response = BatchResponse::default();
        for record in &event.records {
            let outcome = self.decide(record).await;
            if let Outcome::Retried { after_seconds, .. } = &outcome {
                let changed = self
                    .queue
                    .client()
                    .change_message_visibility()
                    .queue_url(self.queue.url())
                    .receipt_handle(&record.receipt_handle)
                    .visibility_timeout(*after_seconds)
                    .send()
                    .await;
                if let Err(error) = changed {
                    tracing::warn!(message_id = %record.message_id, error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "visibility not changed: the queue's own timeout applies");
                }
                response.batch_item_failures.push(ItemFailure {
                    item_identifier: record.message_id.clone(),
                });
            }
        }
        response
    }

    async fn decide(&self, record: &SqsRecord) -> Outcome {
        let deferred = match Message::parse(&record.body) {
            Ok(deferred) => deferred,
            Err(error) => {
                tracing::error!(message_id = %record.message_id, %error, "not a deferred reservation: dropped");
                self.sink
                    .emit(self.metrics.deferral(now_ms(), "invalid", None, None));
                return Outcome::Invalid(error.to_string());
            }
        };
        let now = (self.clock)();
        let outcome = match self.tokens.get(&deferred.callback.account_sid).await {
            Err(reason) => self.retry(&deferred, record, now, format!("no token: {reason}")),
            Ok(tokens) => {
                let token = SecretString::from(
                    String::from_utf8_lossy(tokens.primary().expose()).into_owned(),
                );
                let job = Job {
                    deferred: deferred.clone(),
                    token,
                    api_base: self.api_base.clone(),
                    now,
                };
                match tokio::task::spawn_blocking(move || job.run()).await {
                    Ok(Step::Done(outcome)) => outcome,
                    Ok(Step::Again(reason)) => self.retry(&deferred, record, now, reason),
                    Err(error) => self.retry(&deferred, record, now, error.to_string()),
                }
            }
        };
        let age = now.duration_since(deferred.arrived_at).as_secs_f64();
        let final_age = (!matches!(outcome, Outcome::Retried { .. })).then_some(age);
        let callback = &deferred.callback;
        match &outcome {
            Outcome::Retried {
                reason,
                after_seconds,
            } => tracing::info!(
                account_sid = %callback.account_sid,
                reservation_sid = %callback.reservation_sid,
                rule = %deferred.rule,
                outcome = outcome.name(),
                after_seconds,
                reason = %reason,
                "deferred reservation asked again later"
            ),
            other => tracing::info!(
                account_sid = %callback.account_sid,
                reservation_sid = %callback.reservation_sid,
                task_sid = %callback.task_sid,
                rule = %deferred.rule,
                outcome = other.name(),
                detail = %describe(other),
                age_s = age,
                "deferred reservation decided"
            ),
        }
        self.sink.emit(self.metrics.deferral(
            now_ms(),
            outcome.name(),
            Some(callback.account_sid.as_str()),
            final_age,
        ));
        outcome
    }

    /// Asks again after a backoff doubling with each receive, never past the deadline (at the
    /// deadline, `otherwise` is applied).
    fn retry(
        &self,
        deferred: &Deferred,
        record: &SqsRecord,
        now: Timestamp,
        reason: String,
    ) -> Outcome {
        let left = deferred.deadline.as_second() - now.as_second();
        Outcome::Retried {
            reason,
            after_seconds: backoff(self.retry_base_seconds, record.receive_count(), left),
        }
    }
}

/// The visibility backoff of the `receive_count`th delivery: `base` doubled with each earlier
/// delivery, at most [`MAX_BACKOFF_SECONDS`], and never past the deadline, `left` seconds away
/// (at the deadline the next delivery applies `otherwise`).
fn backoff(base: i64, receive_count: u32, left: i64) -> i32 {
    let exponent = receive_count.saturating_sub(1).min(10);
    let doubled = base
        .saturating_mul(1_i64 << exponent)
        .min(MAX_BACKOFF_SECONDS);
    i32::try_from(doubled.min(left).max(0)).unwrap_or(0)
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Applied(name) | Outcome::Otherwise(name) => (*name).to_owned(),
        Outcome::Gone(status) => format!("reservation {status}"),
        Outcome::Retried { reason, .. } | Outcome::Invalid(reason) => reason.clone(),
    }
}

fn now_ms() -> u64 {
    u64::try_from(Timestamp::now().as_millisecond()).unwrap_or(0)
}

/// The blocking part of one message: REST and the decider's URL.
struct Job {
    deferred: Deferred,
    token: SecretString,
    api_base: String,
    now: Timestamp,
}

/// What the blocking part found.
enum Step {
    Done(Outcome),
    Again(String),
}

impl Job {
    fn run(self) -> Step {
        let callback = &self.deferred.callback;
        let config = RestConfig {
            credentials: Credentials::auth_token(callback.account_sid.clone(), self.token.clone()),
            base_url: self.api_base.clone(),
        };
        let client = match Client::with_policy(&config, RetryPolicy::default()) {
            Ok(client) => client,
            Err(error) => return Step::Again(error.to_string()),
        };
        let of = ReservationOf::Task(callback.task_sid.clone());
        match client.fetch_reservation(&callback.workspace_sid, &of, &callback.reservation_sid) {
            Err(error) => return Step::Again(format!("fetch: {error}")),
            Ok(answer) if answer.resource.reservation_status != ReservationStatus::Pending => {
                return Step::Done(Outcome::Gone(
                    answer.resource.reservation_status.as_str().to_owned(),
                ));
            }
            Ok(_) => {}
        }
        if self.now >= self.deferred.deadline {
            let otherwise = self.deferred.otherwise.clone();
            return self.apply(
                &client,
                &of,
                &otherwise,
                Outcome::Otherwise(otherwise.name()),
            );
        }
        match self.ask() {
            Ok(Some(instruction)) => {
                let name = instruction.name();
                self.apply(&client, &of, &instruction, Outcome::Applied(name))
            }
            Ok(None) => Step::Again("the decider answered {}: not yet".to_owned()),
            Err(reason) => Step::Again(reason),
        }
    }

    /// Applies `instruction`; a refusal is read back: no longer pending is `gone`.
    fn apply(
        &self,
        client: &Client,
        of: &ReservationOf,
        instruction: &Instruction,
        done: Outcome,
    ) -> Step {
        let callback = &self.deferred.callback;
        match client.update_reservation(
            &callback.workspace_sid,
            of,
            &callback.reservation_sid,
            instruction,
        ) {
            Ok(_) => Step::Done(done),
            Err(RestError::Api(error)) if error.status < 500 && error.status != 429 => {
                // Refused: most often because the reservation is no longer pending (it timed
                // out, was rescinded, or was accepted meanwhile). Read what it is now.
                match client.fetch_reservation(
                    &callback.workspace_sid,
                    of,
                    &callback.reservation_sid,
                ) {
                    Ok(answer)
                        if answer.resource.reservation_status != ReservationStatus::Pending =>
                    {
                        Step::Done(Outcome::Gone(
                            answer.resource.reservation_status.as_str().to_owned(),
                        ))
                    }
                    Ok(_) => Step::Again(format!("update refused while pending: {error}")),
                    Err(fetch) => {
                        Step::Again(format!("update refused ({error}), then fetch: {fetch}"))
                    }
                }
            }
            Err(error) => Step::Again(format!("update: {error}")),
        }
    }

    /// POSTs the callback's parameters and `Deadline`, signed, to the decider; its instruction,
    /// `None` for `{}`.
    fn ask(&self) -> Result<Option<Instruction>, String> {
        use secrecy::ExposeSecret;
        let url = self.deferred.decider.as_str();
        let mut params = self.deferred.callback.params.pairs().to_vec();
        params.retain(|(key, _)| key != "Deadline");
        params.push(("Deadline".to_owned(), self.deferred.deadline.to_string()));
        let signature = signature::sign(self.token.expose_secret().as_bytes(), url, &params);
        let left = self
            .deferred
            .deadline
            .duration_since(self.now)
            .as_secs_f64()
            .max(1.0);
        let timeout = ASK_TIMEOUT.min(Duration::from_secs_f64(left));
        let agent = http_agent(url, Duration::from_secs(2), timeout).map_err(|e| e.to_string())?;
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        let mut response = agent
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", &signature)
            .send(body.as_str())
            .map_err(|error| format!("the decider did not answer: {error}"))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(format!("the decider answered {status}"));
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .map_err(|error| format!("the decider's answer cannot be read: {error}"))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|_| "the decider's answer is not JSON".to_owned())?;
        if value.as_object().is_some_and(serde_json::Map::is_empty) {
            return Ok(None);
        }
        Instruction::from_json(&value)
            .map(Some)
            .map_err(|error| format!("the decider's answer is not a valid instruction: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_per_delivery_up_to_a_minute_and_never_runs_past_the_deadline() {
        let cases = [
            (5, 1, 100, 5, "first delivery: the base"),
            (5, 2, 100, 10, "second: doubled"),
            (5, 4, 100, 40, "fourth: doubled twice more"),
            (5, 9, 100, 60, "capped at a minute"),
            (5, 3, 7, 7, "not past the deadline"),
            (
                5,
                3,
                -4,
                0,
                "past the deadline: at once, to apply otherwise",
            ),
            (0, 5, 100, 0, "no backoff at all"),
            (5, u32::MAX, 100, 60, "no overflow"),
        ];
        for (base, count, left, expected, why) in cases {
            assert_eq!(backoff(base, count, left), expected, "{why}");
        }
    }

    #[test]
    fn an_sqs_event_and_the_partial_batch_response_have_lambdas_shapes() {
        let event: SqsEvent = serde_json::from_value(serde_json::json!({"Records": [{
            "messageId": "m-1", "receiptHandle": "r-1", "body": "{}",
            "attributes": {"ApproximateReceiveCount": "3"}, "eventSource": "aws:sqs"}]}))
        .expect("an SQS event");
        assert_eq!(event.records[0].receive_count(), 3);
        let response = BatchResponse {
            batch_item_failures: vec![ItemFailure {
                item_identifier: "m-1".to_owned(),
            }],
        };
        assert_eq!(
            serde_json::to_value(&response).expect("JSON"),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]})
        );
    }
}
