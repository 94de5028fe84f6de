//! Typed answers and request bodies of the TaskRouter operations this client uses.
//!
//! Answers are read leniently: Twilio adds fields without notice (docs/taskrouter.md §1), so
//! unknown ones are ignored and only what the commands use is typed; the whole answer stays
//! available as JSON ([`super::Answer::json`]). Field names and value sets are those of Twilio's
//! OpenAPI description (`twilio_taskrouter_v1.json`, schemas `taskrouter.v1.workspace.*`, the
//! request bodies of `CreateTask`, `UpdateTask`, `UpdateWorker`, `UpdateWorkflow`,
//! `UpdateWorkspace`, and the query parameters of `ListTask` and `ListWorker`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::document::suggest;
use crate::event::EventType;
use crate::instruction::HttpUrl;
use crate::sid::{
    ActivitySid, ReservationSid, TaskQueueSid, TaskSid, WorkerSid, WorkflowSid, WorkspaceSid,
};

/// A reservation's status (`task_reservation_enum_status`). The client reads it, the simulator
/// (`crate::sim`) writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReservationStatus {
    /// Waiting for an accept, a reject or an instruction.
    Pending,
    /// Accepted: the task is assigned to the worker.
    Accepted,
    /// Rejected: the task is routed again.
    Rejected,
    /// Nobody answered within the Workflow's `TaskReservationTimeout`.
    Timeout,
    /// The task was canceled while the reservation was pending.
    Canceled,
    /// TaskRouter withdrew it (another worker of a multi-reservation accepted first, or the task
    /// moved on).
    Rescinded,
    /// Accepted, and the task is in wrap-up.
    Wrapping,
    /// Accepted, and the task is completed.
    Completed,
    /// A status this client does not know yet, kept as sent.
    #[serde(untagged)]
    Other(String),
}

impl ReservationStatus {
    /// The status as TaskRouter writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Timeout => "timeout",
            Self::Canceled => "canceled",
            Self::Rescinded => "rescinded",
            Self::Wrapping => "wrapping",
            Self::Completed => "completed",
            Self::Other(other) => other,
        }
    }

    /// What the status means for the worker, for a reservation that is no longer pending.
    pub fn meaning(&self) -> &'static str {
        match self {
            Self::Pending => "the reservation still waits for an answer",
            Self::Accepted => "the worker has the task",
            Self::Rejected => {
                "the worker rejected it and moved to the reject activity; the task is routed again"
            }
            Self::Timeout => {
                "nobody answered in time: the worker was moved to the workspace's timeout activity and the task is routed again"
            }
            Self::Canceled => "the task was canceled: there is nothing for the worker to do",
            Self::Rescinded => {
                "TaskRouter withdrew it (another worker took the task, or it moved on): the worker is free for other tasks"
            }
            Self::Wrapping => "the worker accepted it and is wrapping the task up",
            Self::Completed => "the worker accepted it and the task is completed",
            Self::Other(_) => {
                "a status this tool does not know; see the reservation in the Twilio Console"
            }
        }
    }
}

impl fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reservation (`taskrouter.v1.workspace.task.task_reservation`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reservation {
    /// The reservation.
    pub sid: ReservationSid,
    /// Its status.
    pub reservation_status: ReservationStatus,
    /// The task reserved.
    pub task_sid: TaskSid,
    /// The worker reserved.
    pub worker_sid: WorkerSid,
    /// The worker's friendly name.
    #[serde(default)]
    pub worker_name: Option<String>,
}

/// A task's assignment status (`task_enum_status`; docs/taskrouter.md §12's lifecycle: pending →
/// reserved → assigned → wrapping → completed, or canceled).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Waiting for a worker.
    Pending,
    /// A worker holds a reservation for it.
    Reserved,
    /// A worker accepted it.
    Assigned,
    /// Canceled: by the REST API, its timeout, or falling off the Workflow.
    Canceled,
    /// Completed.
    Completed,
    /// The worker is wrapping it up.
    Wrapping,
    /// A status this client does not know yet, kept as sent.
    #[serde(untagged)]
    Other(String),
}

impl TaskStatus {
    /// The documented statuses, as TaskRouter writes them (`ListTask`'s `AssignmentStatus`).
    pub const NAMES: [&'static str; 6] = [
        "pending",
        "reserved",
        "assigned",
        "canceled",
        "completed",
        "wrapping",
    ];

    /// A documented status by its name.
    ///
    /// # Errors
    ///
    /// A message listing the statuses.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "pending" => Ok(Self::Pending),
            "reserved" => Ok(Self::Reserved),
            "assigned" => Ok(Self::Assigned),
            "canceled" => Ok(Self::Canceled),
            "completed" => Ok(Self::Completed),
            "wrapping" => Ok(Self::Wrapping),
            _ => Err(format!(
                "`{text}` is not a task status: write one of {}",
                Self::NAMES.join(", ")
            )),
        }
    }

    /// The status as TaskRouter writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Reserved => "reserved",
            Self::Assigned => "assigned",
            Self::Canceled => "canceled",
            Self::Completed => "completed",
            Self::Wrapping => "wrapping",
            Self::Other(other) => other,
        }
    }

    /// What the status means, for messages.
    pub fn meaning(&self) -> &'static str {
        match self {
            Self::Pending => "it waits for a worker",
            Self::Reserved => "a worker holds a reservation for it",
            Self::Assigned => "a worker accepted it",
            Self::Canceled => "it was canceled",
            Self::Completed => "it is completed",
            Self::Wrapping => "the worker is wrapping it up",
            Self::Other(_) => {
                "a status this tool does not know; see the task in the Twilio Console"
            }
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task (`taskrouter.v1.workspace.task`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Task {
    /// The task.
    pub sid: TaskSid,
    /// Where it is in its lifecycle.
    pub assignment_status: TaskStatus,
    /// The queue the task is in, once routed.
    #[serde(default)]
    pub task_queue_sid: Option<TaskQueueSid>,
    /// The queue's name.
    #[serde(default)]
    pub task_queue_friendly_name: Option<String>,
    /// The workflow routing it.
    #[serde(default)]
    pub workflow_sid: Option<WorkflowSid>,
    /// The workflow's name.
    #[serde(default)]
    pub workflow_friendly_name: Option<String>,
    /// Its priority.
    #[serde(default)]
    pub priority: Option<i64>,
    /// Seconds since it was created.
    #[serde(default)]
    pub age: Option<u64>,
    /// Its channel's unique name, e.g. `default`, `voice`.
    #[serde(default)]
    pub task_channel_unique_name: Option<String>,
    /// Why it was canceled or completed.
    #[serde(default, deserialize_with = "empty_is_none")]
    pub reason: Option<String>,
    /// Its attributes, a JSON object as a string. Customer data: printed on request, never
    /// logged.
    #[serde(default)]
    pub attributes: Option<String>,
}

/// A worker (`taskrouter.v1.workspace.worker`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Worker {
    /// The worker.
    pub sid: WorkerSid,
    /// Its name.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// Its activity.
    #[serde(default)]
    pub activity_sid: Option<ActivitySid>,
    /// The activity's name.
    #[serde(default)]
    pub activity_name: Option<String>,
    /// Whether it can take tasks (its activity's availability).
    #[serde(default)]
    pub available: bool,
    /// When its activity last changed (ISO 8601, as sent).
    #[serde(default)]
    pub date_status_changed: Option<String>,
    /// Its attributes, a JSON object as a string.
    #[serde(default)]
    pub attributes: Option<String>,
}

/// The largest page `ListTask` and `ListWorker` answer (`PageSize`'s maximum).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// `ListTask`'s filters: only what is set is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Tasks in any of these statuses (`AssignmentStatus`, an array: one key per status).
    pub statuses: Vec<TaskStatus>,
    /// Tasks routed by this workflow (`WorkflowSid`).
    pub workflow: Option<WorkflowSid>,
    /// Tasks in this queue (`TaskQueueSid`).
    pub queue: Option<TaskQueueSid>,
    /// Tasks whose attributes match this expression (`EvaluateTaskAttributes`; TaskRouter
    /// allows 3 such requests a second, docs/taskrouter.md §12).
    pub expression: Option<String>,
}

impl TaskFilter {
    /// The query parameters, `PageSize` last.
    pub fn to_query(&self, page_size: u32) -> Vec<(&'static str, String)> {
        let mut query: Vec<(&'static str, String)> = self
            .statuses
            .iter()
            .map(|status| ("AssignmentStatus", status.as_str().to_owned()))
            .collect();
        if let Some(workflow) = &self.workflow {
            query.push(("WorkflowSid", workflow.to_string()));
        }
        if let Some(queue) = &self.queue {
            query.push(("TaskQueueSid", queue.to_string()));
        }
        if let Some(expression) = &self.expression {
            query.push(("EvaluateTaskAttributes", expression.clone()));
        }
        query.push(("PageSize", page_size.to_string()));
        query
    }
}

/// `ListWorker`'s filters: only what is set is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerFilter {
    /// Workers in this activity (`ActivitySid`).
    pub activity: Option<ActivitySid>,
    /// Only the workers that can take tasks (`Available=true`).
    pub available: bool,
    /// Workers eligible for this queue (`TaskQueueSid`).
    pub queue: Option<TaskQueueSid>,
    /// Workers whose attributes match this expression (`TargetWorkersExpression`; TaskRouter
    /// allows 3 such requests a second, docs/taskrouter.md §12).
    pub expression: Option<String>,
}

impl WorkerFilter {
    /// The query parameters, `PageSize` last.
    pub fn to_query(&self, page_size: u32) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(activity) = &self.activity {
            query.push(("ActivitySid", activity.to_string()));
        }
        if self.available {
            query.push(("Available", "true".to_owned()));
        }
        if let Some(queue) = &self.queue {
            query.push(("TaskQueueSid", queue.to_string()));
        }
        if let Some(expression) = &self.expression {
            query.push(("TargetWorkersExpression", expression.clone()));
        }
        query.push(("PageSize", page_size.to_string()));
        query
    }
}

/// The body of `UpdateWorker` as `worker activity` uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerUpdate {
    /// The activity the worker moves to.
    pub activity_sid: Option<ActivitySid>,
    /// Reject the worker's pending reservations too (valid only when the new activity is
    /// unavailable, Twilio's description says).
    pub reject_pending_reservations: bool,
}

impl WorkerUpdate {
    /// The form parameters.
    pub fn to_form(&self) -> Vec<(&'static str, String)> {
        let mut form = Vec::new();
        if let Some(activity) = &self.activity_sid {
            form.push(("ActivitySid", activity.to_string()));
        }
        if self.reject_pending_reservations {
            form.push(("RejectPendingReservations", "true".to_owned()));
        }
        form
    }
}

/// A workflow (`taskrouter.v1.workspace.workflow`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Workflow {
    /// The workflow.
    pub sid: WorkflowSid,
    /// Its name.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// Where TaskRouter posts assignment callbacks.
    #[serde(default, deserialize_with = "empty_is_none")]
    pub assignment_callback_url: Option<String>,
    /// Where it posts them when the first URL fails or is late.
    #[serde(default, deserialize_with = "empty_is_none")]
    pub fallback_assignment_callback_url: Option<String>,
    /// How long a reservation waits, in seconds.
    #[serde(default)]
    pub task_reservation_timeout: Option<u32>,
    /// The routing document (docs/taskrouter.md §9) as TaskRouter holds it: a string, normally
    /// JSON, which `workflow diff` parses rather than trusts.
    #[serde(default)]
    pub configuration: Option<String>,
}

/// A workspace (`taskrouter.v1.workspace`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Workspace {
    /// The workspace.
    pub sid: WorkspaceSid,
    /// Its name.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// Where TaskRouter posts workspace events.
    #[serde(default, deserialize_with = "empty_is_none")]
    pub event_callback_url: Option<String>,
    /// Which events it posts (a comma list); all when unset.
    #[serde(default, deserialize_with = "empty_is_none")]
    pub events_filter: Option<String>,
    /// The activity a worker moves to when a reservation times out.
    #[serde(default)]
    pub timeout_activity_sid: Option<ActivitySid>,
}

/// Twilio writes "no URL" as `null` or `""`: both are `None`.
fn empty_is_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.filter(|text| !text.is_empty()))
}

pub use crate::limits::MAX_TASK_TIMEOUT;

/// The body of `CreateTask`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// The task's attributes: a JSON object, as text.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// The workflow that routes it.
    pub workflow_sid: Option<WorkflowSid>,
    /// Its priority, 0 … 2^31−1 (`CreateTask`'s `Priority`); unset, the matching Workflow target's.
    pub priority: Option<u32>,
    /// Seconds the task may wait to be assigned, 1 … [`MAX_TASK_TIMEOUT`]; Twilio's default is
    /// 86,400 (`CreateTask`'s `Timeout` in the OpenAPI description).
    pub timeout: Option<u32>,
    /// Its channel: a unique name (`default`, `voice`, `chat`, …) or a `TC…` SID.
    pub task_channel: Option<String>,
}

impl NewTask {
    /// The form parameters, PascalCase as in the OpenAPI description.
    pub fn to_form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![(
            "Attributes",
            serde_json::Value::Object(self.attributes.clone()).to_string(),
        )];
        if let Some(workflow) = &self.workflow_sid {
            form.push(("WorkflowSid", workflow.to_string()));
        }
        if let Some(priority) = self.priority {
            form.push(("Priority", priority.to_string()));
        }
        if let Some(timeout) = self.timeout {
            form.push(("Timeout", timeout.to_string()));
        }
        if let Some(channel) = &self.task_channel {
            form.push(("TaskChannel", channel.clone()));
        }
        form
    }
}

/// A task's assignment status as `UpdateTask` sets it (`task_enum_status`; only these two are
/// transitions a client makes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskTransition {
    /// Cancel a task that is pending or reserved.
    Canceled,
    /// Complete an assigned or wrapping task.
    Completed,
    /// Move an assigned task to wrap-up.
    Wrapping,
}

impl TaskTransition {
    fn as_str(self) -> &'static str {
        match self {
            Self::Canceled => "canceled",
            Self::Completed => "completed",
            Self::Wrapping => "wrapping",
        }
    }
}

/// The body of `UpdateTask`: only what is set is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskUpdate {
    /// New attributes (replacing the old ones).
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// A new assignment status.
    pub assignment_status: Option<TaskTransition>,
    /// Why (with a status change).
    pub reason: Option<String>,
    /// A new priority.
    pub priority: Option<u32>,
}

impl TaskUpdate {
    /// The form parameters.
    pub fn to_form(&self) -> Vec<(&'static str, String)> {
        let mut form = Vec::new();
        if let Some(attributes) = &self.attributes {
            form.push((
                "Attributes",
                serde_json::Value::Object(attributes.clone()).to_string(),
            ));
        }
        if let Some(status) = self.assignment_status {
            form.push(("AssignmentStatus", status.as_str().to_owned()));
        }
        if let Some(reason) = &self.reason {
            form.push(("Reason", reason.clone()));
        }
        if let Some(priority) = self.priority {
            form.push(("Priority", priority.to_string()));
        }
        form
    }
}

/// The body of `UpdateWorkflow`: the two callback URLs (`connect`) or the routing document
/// (`workflow apply`); what is unset is not sent, so each command leaves the other's settings
/// alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkflowUpdate {
    /// The assignment callback URL.
    pub assignment_callback_url: Option<HttpUrl>,
    /// The fallback assignment callback URL.
    pub fallback_assignment_callback_url: Option<HttpUrl>,
    /// `Configuration`: the routing document, sent as written (a JSON string,
    /// docs/taskrouter.md §9).
    pub configuration: Option<String>,
}

impl WorkflowUpdate {
    /// The form parameters.
    pub fn to_form(&self) -> Vec<(&'static str, String)> {
        let mut form = Vec::new();
        if let Some(url) = &self.assignment_callback_url {
            form.push(("AssignmentCallbackUrl", url.as_str().to_owned()));
        }
        if let Some(url) = &self.fallback_assignment_callback_url {
            form.push(("FallbackAssignmentCallbackUrl", url.as_str().to_owned()));
        }
        if let Some(configuration) = &self.configuration {
            form.push(("Configuration", configuration.clone()));
        }
        form
    }
}

/// The body of `UpdateWorkspace` as `connect` uses it: the event callback and its filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceUpdate {
    /// The event callback URL.
    pub event_callback_url: Option<HttpUrl>,
    /// The events to send.
    pub events_filter: Option<EventsFilter>,
}

impl WorkspaceUpdate {
    /// The form parameters.
    pub fn to_form(&self) -> Vec<(&'static str, String)> {
        let mut form = Vec::new();
        if let Some(url) = &self.event_callback_url {
            form.push(("EventCallbackUrl", url.as_str().to_owned()));
        }
        if let Some(filter) = &self.events_filter {
            form.push(("EventsFilter", filter.to_string()));
        }
        form
    }
}

/// A workspace's `EventsFilter`: event types such as `reservation.accepted`
/// (docs/taskrouter.md §6), sent as one comma-separated string (the parameter is a string in the
/// OpenAPI description).
///
/// Only the documented types ([`EventType::KNOWN`]) are accepted: a misspelled type in the filter
/// would silently stop those events for good, which is worse than having to add a type Twilio
/// introduces to `src/event.rs` first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsFilter(Vec<String>);

impl EventsFilter {
    /// Parses `a.b,c.d`: each item a documented event type.
    ///
    /// # Errors
    ///
    /// A message naming the item that is not an event type, with the closest documented one.
    pub fn parse(text: &str) -> Result<Self, String> {
        let items: Vec<String> = text.split(',').map(str::to_owned).collect();
        for item in &items {
            let well_formed = item.contains('.')
                && item.split('.').all(|part| {
                    !part.is_empty()
                        && part
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit())
                });
            if !well_formed {
                return Err(format!(
                    "`{item}` is not an event type such as reservation.accepted or task.created; separate types with commas and no spaces"
                ));
            }
            if !EventType::KNOWN.contains(&item.as_str()) {
                let hint = match suggest(item, EventType::KNOWN.iter().copied()) {
                    Some(known) => format!("did you mean `{known}`?"),
                    None => format!(
                        "the {} documented types start with activity., reservation., task., task-channel., task-queue., worker., workflow. or workspace.",
                        EventType::KNOWN.len()
                    ),
                };
                return Err(format!(
                    "`{item}` is not a workspace event type TaskRouter documents: {hint}"
                ));
            }
        }
        Ok(Self(items))
    }
}

impl fmt::Display for EventsFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_documented_reservation_status_reads_and_an_unknown_one_is_kept() {
        for status in [
            "pending",
            "accepted",
            "rejected",
            "timeout",
            "canceled",
            "rescinded",
            "wrapping",
            "completed",
        ] {
            let parsed: ReservationStatus =
                serde_json::from_value(json!(status)).expect("a documented status");
            assert_eq!(parsed.as_str(), status);
            assert!(!matches!(parsed, ReservationStatus::Other(_)), "{status}");
        }
        let new: ReservationStatus = serde_json::from_value(json!("paused")).expect("lenient");
        assert_eq!(new, ReservationStatus::Other("paused".to_owned()));
    }

    #[test]
    fn empty_urls_read_as_none() {
        let workspace: Workspace = serde_json::from_value(json!({
            "sid": "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "event_callback_url": "",
            "events_filter": null,
            "unknown_new_field": 1,
        }))
        .expect("lenient");
        assert_eq!(workspace.event_callback_url, None);
        assert_eq!(workspace.events_filter, None);
    }

    #[test]
    fn events_filters_are_checked_item_by_item() {
        assert_eq!(
            EventsFilter::parse("reservation.accepted,task.created,task-queue.entered")
                .map(|filter| filter.to_string()),
            Ok("reservation.accepted,task.created,task-queue.entered".to_owned())
        );
        let cases = [
            (
                "reservation.accepted, task.created",
                " task.created",
                "a space",
            ),
            ("reservation", "reservation", "no dot"),
            ("task.created,", "", "a trailing comma"),
            ("Task.Created", "Task.Created", "upper case"),
        ];
        for (input, item, why) in cases {
            assert_eq!(
                EventsFilter::parse(input),
                Err(format!(
                    "`{item}` is not an event type such as reservation.accepted or task.created; separate types with commas and no spaces"
                )),
                "{why}"
            );
        }
        #[rustfmt::skip]
        let unknown = [
            ("reservation.accepted,reservation.acepted", "`reservation.acepted` is not a workspace event type TaskRouter documents: did you mean `reservation.accepted`?", "a typo"),
            ("task.cancelled", "`task.cancelled` is not a workspace event type TaskRouter documents: did you mean `task.canceled`?", "the British spelling"),
            ("taskqueue.entered", "`taskqueue.entered` is not a workspace event type TaskRouter documents: did you mean `task-queue.entered`?", "a missing hyphen"),
            ("call.ringing", "`call.ringing` is not a workspace event type TaskRouter documents: the 49 documented types start with activity., reservation., task., task-channel., task-queue., worker., workflow. or workspace.", "nothing close"),
        ];
        for (input, message, why) in unknown {
            assert_eq!(EventsFilter::parse(input), Err(message.to_owned()), "{why}");
        }
        for known in EventType::KNOWN {
            assert!(EventsFilter::parse(known).is_ok(), "{known}");
        }
    }

    #[test]
    fn request_bodies_send_only_what_is_set() {
        let task = NewTask {
            attributes: json!({"selected_language": "es"})
                .as_object()
                .cloned()
                .expect("an object"),
            workflow_sid: None,
            priority: Some(5),
            timeout: None,
            task_channel: None,
        };
        assert_eq!(
            task.to_form(),
            [
                ("Attributes", "{\"selected_language\":\"es\"}".to_owned()),
                ("Priority", "5".to_owned())
            ]
        );
        assert!(TaskUpdate::default().to_form().is_empty());
        assert!(WorkerUpdate::default().to_form().is_empty());
        assert_eq!(
            TaskFilter::default().to_query(50),
            [("PageSize", "50".to_owned())]
        );
        assert_eq!(
            WorkerFilter::default().to_query(50),
            [("PageSize", "50".to_owned())]
        );
        let filter = TaskFilter {
            statuses: vec![TaskStatus::Pending, TaskStatus::Reserved],
            ..TaskFilter::default()
        };
        assert_eq!(
            filter.to_query(10),
            [
                ("AssignmentStatus", "pending".to_owned()),
                ("AssignmentStatus", "reserved".to_owned()),
                ("PageSize", "10".to_owned())
            ],
            "an array goes out as one key per value"
        );
        assert!(WorkflowUpdate::default().to_form().is_empty());
        assert!(WorkspaceUpdate::default().to_form().is_empty());
    }
}
