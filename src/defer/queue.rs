//! The deferral queue: what the callback puts on SQS for the decider, and the client that sends it.
//!
//! A [`Message`] holds everything the decision needs and nothing secret: the callback's own form
//! parameters (so the decider can sign and send them on as they came), the rule that deferred, the
//! instant the callback arrived, the deadline (`arrived_at` + `within_seconds`), the decider's URL
//! and the `otherwise` instruction. No token travels: the decider reads the account's token from
//! the same store as the callback. [`Message::parse`] is the decider's side: it types every field
//! again, since a queue can hold anything anyone with send rights put on it.
//!
//! [`DeferralQueue`] is built at start only when a rule defers (`DEFERRED_QUEUE_URL`), so a
//! deployment without `defer` rules builds no SQS client. [`DeferralQueue::send`] is bounded by
//! the callback's deadline; the transport answers `503` when it fails, so TaskRouter calls the
//! fallback URL instead of waiting for a decision nobody will make (docs/taskrouter.md §2,
//! docs/taskrouter.md §3).

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sqs::error::DisplayErrorContext;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

use crate::callback::{AssignmentCallback, CallbackError};
use crate::form::FormParams;
use crate::instruction::{HttpUrl, Instruction, InstructionError};
use crate::token::Deadline;

use super::Deferral;

/// The message format's version, so a decider can refuse one it does not know.
pub const VERSION: u32 = 1;

/// Establishing a connection to SQS: as for the token reads (`token/retry.rs`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A deferred reservation as it travels on the queue (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// [`VERSION`].
    pub version: u32,
    /// The rule that deferred.
    pub rule: String,
    /// When the callback arrived, RFC 3339.
    pub arrived_at: String,
    /// `arrived_at` + `within_seconds`, RFC 3339: after it `otherwise` is applied.
    pub deadline: String,
    /// The decider's URL.
    pub decider: String,
    /// The instruction applied when no answer came by the deadline, as callback JSON.
    pub otherwise: Value,
    /// The callback's form parameters, in the order received.
    pub params: Vec<(String, String)>,
}

/// A message the decider cannot use: it is not ours, or was changed on the way.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Not the JSON of a [`Message`].
    #[error("the message is not a deferred reservation: {0}")]
    Json(String),
    /// A version this build does not know.
    #[error("the message has version {0}; this decider reads version {VERSION}")]
    Version(u32),
    /// A time that is not RFC 3339.
    #[error("the message's `{field}` is not an RFC 3339 instant")]
    Instant {
        /// `arrived_at` or `deadline`.
        field: &'static str,
    },
    /// The decider URL is not an absolute http(s) URL.
    #[error("the message's `decider` is not an absolute http(s) URL")]
    Decider,
    /// `otherwise` is not a valid instruction.
    #[error("the message's `otherwise` is not a valid instruction: {0}")]
    Otherwise(Box<InstructionError>),
    /// The parameters are not an assignment callback.
    #[error("the message's parameters are not an assignment callback: {0}")]
    Callback(#[from] CallbackError),
}

/// A [`Message`] read back and typed, for the decider.
#[derive(Debug, Clone)]
pub struct Deferred {
    /// The rule that deferred.
    pub rule: String,
    /// When the callback arrived.
    pub arrived_at: Timestamp,
    /// After it, `otherwise` is applied.
    pub deadline: Timestamp,
    /// Where to ask.
    pub decider: HttpUrl,
    /// What to apply when no answer came in time.
    pub otherwise: Instruction,
    /// The callback, as it arrived.
    pub callback: AssignmentCallback,
}

impl Message {
    /// The message for `callback`, deferred by `rule` at `arrived_at`.
    pub fn new(
        rule: &str,
        deferral: &Deferral,
        callback: &AssignmentCallback,
        arrived_at: Timestamp,
    ) -> Self {
        let deadline = arrived_at
            .checked_add(SignedDuration::from_secs(i64::from(
                deferral.within_seconds,
            )))
            .unwrap_or(arrived_at);
        Self {
            version: VERSION,
            rule: rule.to_owned(),
            arrived_at: arrived_at.to_string(),
            deadline: deadline.to_string(),
            decider: deferral.decider.as_str().to_owned(),
            otherwise: serde_json::to_value(&deferral.otherwise).unwrap_or(Value::Null),
            params: callback.params.pairs().to_vec(),
        }
    }

    /// The message's JSON, as sent.
    pub fn to_body(&self) -> String {
        // A struct of strings and JSON values always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a message body and types every field.
    ///
    /// # Errors
    ///
    /// [`MessageError`] naming the field that cannot be used.
    pub fn parse(body: &str) -> Result<Deferred, MessageError> {
        let message: Message =
            serde_json::from_str(body).map_err(|error| MessageError::Json(error.to_string()))?;
        if message.version != VERSION {
            return Err(MessageError::Version(message.version));
        }
        let instant = |text: &str, field| {
            text.parse::<Timestamp>()
                .map_err(|_| MessageError::Instant { field })
        };
        Ok(Deferred {
            arrived_at: instant(&message.arrived_at, "arrived_at")?,
            deadline: instant(&message.deadline, "deadline")?,
            decider: HttpUrl::new(message.decider).ok_or(MessageError::Decider)?,
            otherwise: Instruction::from_json(&message.otherwise)
                .map_err(|error| MessageError::Otherwise(Box::new(error)))?,
            callback: AssignmentCallback::try_from(FormParams::from_pairs(message.params))?,
            rule: message.rule,
        })
    }
}

/// Why a deferral could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// SQS refused or failed the request.
    #[error("SendMessage to the deferral queue failed: {0}")]
    Send(String),
    /// No answer before the callback's deadline.
    #[error("SendMessage to the deferral queue did not finish before the callback's deadline")]
    Deadline,
}

/// The SQS queue deferred reservations are sent to (`DEFERRED_QUEUE_URL`).
#[derive(Debug, Clone)]
pub struct DeferralQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl DeferralQueue {
    /// A client for the queue at `url`, configured from `sdk_config` (region, credentials,
    /// `AWS_ENDPOINT_URL`) with a one-second connect timeout and the SDK's standard retries
    /// (every send is bounded by the callback's deadline anyway).
    pub fn new(url: String, sdk_config: &SdkConfig) -> Self {
        let config = aws_sdk_sqs::config::Builder::from(sdk_config)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard())
            .build();
        Self {
            client: aws_sdk_sqs::Client::from_conf(config),
            url,
        }
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The SQS client (the decider changes messages' visibility with it).
    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    /// Sends `message`, giving up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`QueueError::Send`] when SQS answers an error (after the SDK's retries),
    /// [`QueueError::Deadline`] when it has not answered by `deadline`.
    pub async fn send(&self, message: &Message, deadline: Deadline) -> Result<(), QueueError> {
        let send = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(message.to_body())
            .send();
        match tokio::time::timeout_at(deadline.instant(), send).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(QueueError::Send(DisplayErrorContext(&error).to_string())),
            Err(_) => Err(QueueError::Deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn callback() -> AssignmentCallback {
        AssignmentCallback::try_from(FormParams::from_pairs([
            ("AccountSid", "AC00000000000000000000000000000001"),
            ("WorkspaceSid", "WS00000000000000000000000000000002"),
            ("WorkflowSid", "WW00000000000000000000000000000003"),
            ("TaskQueueSid", "WQ00000000000000000000000000000004"),
            ("WorkerSid", "WK00000000000000000000000000000005"),
            ("TaskSid", "WT00000000000000000000000000000006"),
            ("ReservationSid", "WR00000000000000000000000000000007"),
            ("TaskAttributes", r#"{"customer_tier":"premium"}"#),
            ("WorkerAttributes", "{}"),
            ("TaskAge", "3"),
            ("TaskPriority", "0"),
            ("SomethingNew", "kept"),
        ]))
        .expect("a valid callback")
    }

    #[test]
    fn a_message_carries_the_callback_the_rule_and_the_deadline_and_reads_back() {
        let deferral = Deferral::parse(&json!({
            "decider": "https://decider.example.com/assign",
            "within_seconds": 90,
            "otherwise": {"instruction": "reject", "activity_sid": "WA0123456789abcdef0123456789abcdef"},
        })
        .to_string())
        .expect("valid");
        let arrived: Timestamp = "2026-12-07T12:00:00Z".parse().expect("instant");
        let message = Message::new("crm", &deferral, &callback(), arrived);
        let body: Value = serde_json::from_str(&message.to_body()).expect("JSON");
        assert_eq!(body["version"], 1);
        assert_eq!(body["rule"], "crm");
        assert_eq!(body["arrived_at"], "2026-12-07T12:00:00Z");
        assert_eq!(body["deadline"], "2026-12-07T12:01:30Z");
        assert_eq!(body["decider"], "https://decider.example.com/assign");
        assert_eq!(body["otherwise"]["instruction"], "reject");
        assert_eq!(body["params"][11], json!(["SomethingNew", "kept"]));

        let deferred = Message::parse(&message.to_body()).expect("reads back");
        assert_eq!(deferred.rule, "crm");
        assert_eq!(deferred.arrived_at, arrived);
        assert_eq!(deferred.deadline.as_second() - arrived.as_second(), 90);
        assert_eq!(deferred.otherwise, deferral.otherwise);
        assert_eq!(deferred.callback.params.pairs(), callback().params.pairs());
    }

    #[test]
    fn a_message_that_is_not_ours_is_refused_naming_the_field() {
        let arrived: Timestamp = "2026-12-07T12:00:00Z".parse().expect("instant");
        let deferral = Deferral::parse(
            &json!({
                "decider": "https://d.example", "within_seconds": 5,
                "otherwise": {"instruction": "accept"},
            })
            .to_string(),
        )
        .expect("valid");
        let good: Value =
            serde_json::from_str(&Message::new("r", &deferral, &callback(), arrived).to_body())
                .expect("JSON");
        let changed = |key: &str, value: Value| {
            let mut message = good.clone();
            message[key] = value;
            message.to_string()
        };
        let cases = [
            ("{}".to_owned(), "the message is not a deferred reservation"),
            (changed("version", json!(2)), "the message has version 2"),
            (
                changed("deadline", json!("soon")),
                "`deadline` is not an RFC 3339",
            ),
            (changed("decider", json!("ftp://x")), "`decider` is not"),
            (
                changed("otherwise", json!({"instruction": "wait"})),
                "`otherwise` is not",
            ),
            (
                changed("params", json!([["AccountSid", "nope"]])),
                "not an assignment callback",
            ),
        ];
        for (body, expected) in cases {
            let error = Message::parse(&body).expect_err(expected);
            assert!(error.to_string().contains(expected), "{expected}: {error}");
        }
    }
}
