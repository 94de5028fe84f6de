//! The assignment callback TaskRouter POSTs when it reserves a worker for a task.
//!
//! [`AssignmentCallback`] is the typed view of the form body: every documented parameter
//! (docs/taskrouter.md §1, <https://www.twilio.com/docs/taskrouter/handle-assignment-callbacks>)
//! with SIDs as newtypes, the attributes parsed as JSON objects and age and priority as integers.
//! The original [`FormParams`] stay attached, so parameters Twilio adds without notice are kept
//! too.

use serde_json::Value;

use crate::document::json_kind;
use crate::form::FormParams;
use crate::sid::{
    AccountSid, ReservationSid, SidError, TaskQueueSid, TaskSid, WorkerSid, WorkflowSid,
    WorkspaceSid,
};

/// Every parameter TaskRouter documents for the assignment callback, in docs/taskrouter.md's order
/// (docs/taskrouter.md §1). Twilio adds parameters without notice, so the function accepts others;
/// the `taskrouter` command refuses other names in `--param` (a typo would be ignored silently) and
/// takes them through `--extra-param` instead.
pub const PARAMETERS: [&str; 12] = [
    "AccountSid",
    "WorkspaceSid",
    "WorkflowSid",
    "TaskQueueSid",
    "WorkerSid",
    "WorkerAttributes",
    "TaskSid",
    "TaskAttributes",
    "TaskAge",
    "TaskPriority",
    "ReservationSid",
    "Timestamp",
];

/// A form body that is not a well-formed assignment callback.
///
/// Every variant is a client error (`400`); messages name the parameter and never echo attribute
/// contents, which hold customers' phone numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// A documented parameter is absent.
    #[error("missing parameter `{parameter}`: TaskRouter sends it with every assignment callback")]
    Missing {
        /// The parameter's name.
        parameter: &'static str,
    },
    /// A documented parameter appears more than once, so its value is ambiguous.
    #[error("parameter `{parameter}` appears more than once")]
    Repeated {
        /// The parameter's name.
        parameter: &'static str,
    },
    /// A SID parameter is malformed.
    #[error("parameter `{parameter}`: {source}")]
    Sid {
        /// The parameter's name.
        parameter: &'static str,
        /// What was wrong with it.
        source: SidError,
    },
    /// `TaskAttributes` or `WorkerAttributes` is not a JSON object.
    #[error("parameter `{parameter}` must hold a JSON object: {reason}")]
    Attributes {
        /// The parameter's name.
        parameter: &'static str,
        /// Why it is not one (a position or the JSON type found; never the content).
        reason: String,
    },
    /// `TaskAge` or `TaskPriority` is not a non-negative integer in range.
    #[error("parameter `{parameter}` must be an integer from 0 to {max}, got `{value}`")]
    Integer {
        /// The parameter's name.
        parameter: &'static str,
        /// The largest accepted value.
        max: u64,
        /// The rejected text.
        value: String,
    },
}

impl CallbackError {
    /// A stable machine-readable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "missing_parameter",
            Self::Repeated { .. } => "repeated_parameter",
            Self::Sid { .. } => "invalid_sid",
            Self::Attributes { .. } => "invalid_attributes",
            Self::Integer { .. } => "invalid_integer",
        }
    }
}

/// A typed assignment callback.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentCallback {
    /// The account (`AccountSid`).
    pub account_sid: AccountSid,
    /// The workspace of task and worker (`WorkspaceSid`).
    pub workspace_sid: WorkspaceSid,
    /// The workflow that routed the task (`WorkflowSid`).
    pub workflow_sid: WorkflowSid,
    /// The queue the task was in when assigned (`TaskQueueSid`).
    pub task_queue_sid: TaskQueueSid,
    /// The reserved worker (`WorkerSid`).
    pub worker_sid: WorkerSid,
    /// The task (`TaskSid`).
    pub task_sid: TaskSid,
    /// The reservation this callback is about (`ReservationSid`); several per task are normal.
    pub reservation_sid: ReservationSid,
    /// The task's attributes (`TaskAttributes`), a JSON object. Customer data: never log it at info.
    pub task_attributes: Value,
    /// The worker's attributes (`WorkerAttributes`), a JSON object.
    pub worker_attributes: Value,
    /// Age of the task at assignment, in seconds (`TaskAge`).
    pub task_age: u64,
    /// Priority of the task at assignment (`TaskPriority`), 0 to 2^31−1.
    pub task_priority: u32,
    /// Time of assignment (`Timestamp`); its format is undocumented, so it stays opaque.
    pub timestamp: Option<String>,
    /// Every parameter as received, including ones not modelled above.
    pub params: FormParams,
}

impl AssignmentCallback {
    /// The value of any received parameter, modelled or not (e.g. one Twilio added recently).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name)
    }
}

/// Reads a parameter that must appear exactly once.
fn single<'a>(params: &'a FormParams, parameter: &'static str) -> Result<&'a str, CallbackError> {
    let mut values = params
        .pairs()
        .iter()
        .filter(|(key, _)| key == parameter)
        .map(|(_, value)| value.as_str());
    let value = values.next().ok_or(CallbackError::Missing { parameter })?;
    if values.next().is_some() {
        return Err(CallbackError::Repeated { parameter });
    }
    Ok(value)
}

fn sid<T>(
    params: &FormParams,
    parameter: &'static str,
    parse: fn(&str) -> Result<T, SidError>,
) -> Result<T, CallbackError> {
    parse(single(params, parameter)?).map_err(|source| CallbackError::Sid { parameter, source })
}

fn attributes(params: &FormParams, parameter: &'static str) -> Result<Value, CallbackError> {
    let text = single(params, parameter)?;
    let invalid = |reason: String| CallbackError::Attributes { parameter, reason };
    // serde_json's messages carry positions, never the offending content.
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(invalid(format!("found {}", json_kind(&other)))),
        Err(error) => Err(invalid(error.to_string())),
    }
}

fn integer(params: &FormParams, parameter: &'static str, max: u64) -> Result<u64, CallbackError> {
    let text = single(params, parameter)?;
    text.parse::<u64>()
        .ok()
        .filter(|&value| value <= max)
        .ok_or_else(|| CallbackError::Integer {
            parameter,
            max,
            value: text.chars().take(40).collect(),
        })
}

impl TryFrom<FormParams> for AssignmentCallback {
    type Error = CallbackError;

    /// Parses the form parameters of an assignment callback.
    ///
    /// Parameters are checked in the order of docs/taskrouter.md's table, so the first problem
    /// found is reported.
    fn try_from(params: FormParams) -> Result<Self, CallbackError> {
        let timestamp = match single(&params, "Timestamp") {
            Ok(value) => Some(value.to_owned()),
            Err(CallbackError::Missing { .. }) => None,
            Err(other) => return Err(other),
        };
        Ok(Self {
            account_sid: sid(&params, "AccountSid", AccountSid::parse)?,
            workspace_sid: sid(&params, "WorkspaceSid", WorkspaceSid::parse)?,
            workflow_sid: sid(&params, "WorkflowSid", WorkflowSid::parse)?,
            task_queue_sid: sid(&params, "TaskQueueSid", TaskQueueSid::parse)?,
            worker_sid: sid(&params, "WorkerSid", WorkerSid::parse)?,
            worker_attributes: attributes(&params, "WorkerAttributes")?,
            task_sid: sid(&params, "TaskSid", TaskSid::parse)?,
            task_attributes: attributes(&params, "TaskAttributes")?,
            task_age: integer(&params, "TaskAge", u64::from(u32::MAX))?,
            task_priority: u32::try_from(integer(&params, "TaskPriority", i32::MAX as u64)?)
                .unwrap_or(u32::MAX),
            reservation_sid: sid(&params, "ReservationSid", ReservationSid::parse)?,
            timestamp,
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &[(&str, &str)] = &[
        ("AccountSid", "AC00000000000000000000000000000001"),
        ("WorkspaceSid", "WS00000000000000000000000000000002"),
        ("WorkflowSid", "WW00000000000000000000000000000003"),
        ("TaskQueueSid", "WQ00000000000000000000000000000004"),
        ("WorkerSid", "WK00000000000000000000000000000005"),
        (
            "WorkerAttributes",
            r#"{"contact_uri":"client:alice","skills":["billing"]}"#,
        ),
        ("TaskSid", "WT00000000000000000000000000000006"),
        (
            "TaskAttributes",
            r#"{"call_sid":"CA0000","from":"+14155550100"}"#,
        ),
        ("TaskAge", "42"),
        ("TaskPriority", "7"),
        ("ReservationSid", "WR00000000000000000000000000000007"),
        ("Timestamp", "1700000000"),
    ];

    fn with(changes: &[(&str, Option<&str>)]) -> FormParams {
        let mut pairs: Vec<(String, String)> = VALID
            .iter()
            .filter(|(key, _)| !changes.iter().any(|(k, v)| k == key && v.is_none()))
            .map(|(key, value)| {
                let changed = changes.iter().find(|(k, _)| k == key).and_then(|(_, v)| *v);
                ((*key).to_owned(), changed.unwrap_or(value).to_owned())
            })
            .collect();
        for (key, value) in changes {
            if let Some(value) = value
                && !VALID.iter().any(|(k, _)| k == key)
            {
                pairs.push(((*key).to_owned(), (*value).to_owned()));
            }
        }
        FormParams::from_pairs(pairs)
    }

    #[test]
    fn a_complete_callback_parses_into_typed_fields() {
        let callback = AssignmentCallback::try_from(with(&[("NewParameter", Some("kept"))]))
            .expect("valid callback");
        assert_eq!(
            callback.task_sid.as_str(),
            "WT00000000000000000000000000000006"
        );
        assert_eq!(
            callback.reservation_sid.as_str(),
            "WR00000000000000000000000000000007"
        );
        assert_eq!(callback.task_age, 42);
        assert_eq!(callback.task_priority, 7);
        assert_eq!(callback.task_attributes["from"], "+14155550100");
        assert_eq!(callback.worker_attributes["skills"][0], "billing");
        assert_eq!(callback.timestamp.as_deref(), Some("1700000000"));
        assert_eq!(
            callback.param("NewParameter"),
            Some("kept"),
            "unknown parameters are kept"
        );
    }

    #[test]
    fn timestamp_is_optional() {
        let callback = AssignmentCallback::try_from(with(&[("Timestamp", None)])).expect("valid");
        assert_eq!(callback.timestamp, None);
    }

    /// Parameters to change (`None` removes one), the expected code and message.
    type Case = (
        &'static [(&'static str, Option<&'static str>)],
        &'static str,
        &'static str,
    );

    #[test]
    fn malformed_callbacks_are_rejected_with_a_code_and_a_message_naming_the_parameter() {
        let cases: &[Case] = &[
            (
                &[("TaskSid", None)],
                "missing_parameter",
                "missing parameter `TaskSid`: TaskRouter sends it with every assignment callback",
            ),
            (
                &[("WorkerSid", Some("WK123"))],
                "invalid_sid",
                "parameter `WorkerSid`: `WK123` is not a valid worker SID: expected `WK` followed by 32 hex digits",
            ),
            (
                &[("ReservationSid", Some("WT00000000000000000000000000000006"))],
                "invalid_sid",
                "parameter `ReservationSid`: `WT00000000000000000000000000000006` is not a valid reservation SID: expected `WR` followed by 32 hex digits",
            ),
            (
                &[("TaskAttributes", Some("[1,2]"))],
                "invalid_attributes",
                "parameter `TaskAttributes` must hold a JSON object: found an array",
            ),
            (
                &[("WorkerAttributes", Some("{\"phone\": \"+1415"))],
                "invalid_attributes",
                "parameter `WorkerAttributes` must hold a JSON object: EOF while parsing a string at line 1 column 16",
            ),
            (
                &[("TaskAge", Some("4.5"))],
                "invalid_integer",
                "parameter `TaskAge` must be an integer from 0 to 4294967295, got `4.5`",
            ),
            (
                &[("TaskAge", Some("-1"))],
                "invalid_integer",
                "parameter `TaskAge` must be an integer from 0 to 4294967295, got `-1`",
            ),
            (
                &[("TaskPriority", Some("2147483648"))],
                "invalid_integer",
                "parameter `TaskPriority` must be an integer from 0 to 2147483647, got `2147483648`",
            ),
        ];
        for (changes, code, message) in cases {
            let error = AssignmentCallback::try_from(with(changes)).expect_err(message);
            assert_eq!(error.code(), *code, "{changes:?}");
            assert_eq!(error.to_string(), *message, "{changes:?}");
        }
    }

    #[test]
    fn a_repeated_documented_parameter_is_ambiguous_and_rejected() {
        let mut pairs = VALID.to_vec();
        pairs.push(("TaskSid", "WT00000000000000000000000000000009"));
        let error =
            AssignmentCallback::try_from(FormParams::from_pairs(pairs)).expect_err("repeat");
        assert_eq!(
            error,
            CallbackError::Repeated {
                parameter: "TaskSid"
            }
        );
    }

    #[test]
    fn attribute_errors_never_echo_attribute_content() {
        let error =
            AssignmentCallback::try_from(with(&[("TaskAttributes", Some("\"+14155550100\""))]))
                .expect_err("a string is not an object");
        assert!(!error.to_string().contains("4155550100"), "{error}");
    }
}
