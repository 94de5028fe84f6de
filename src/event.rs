//! The typed workspace event callback.
//!
//! A Workspace's `EventCallbackUrl` receives a form-encoded `POST` for every TaskRouter event
//! (docs/taskrouter.md §6; <https://www.twilio.com/docs/taskrouter/api/event/reference>). This
//! module turns the already signature-verified [`FormParams`] into a [`WorkspaceEvent`]: the common
//! fields every event carries, plus the reservation, task, worker, queue and workflow fields of the
//! events that carry them.
//!
//! Only `EventType`, `AccountSid` and `WorkspaceSid` are required. Everything else is optional
//! because which fields an event carries depends on its type, and Twilio adds parameters without
//! notice (docs/taskrouter.md §1). Unknown event types are kept as [`EventType::Other`], never
//! rejected, so a new Twilio event cannot turn into failed callbacks.
//!
//! Task and worker attributes are customer data (caller numbers, names). They are parsed so a
//! malformed payload is caught, but their `Debug` output is redacted and [`WorkspaceEvent::log_fields`]
//! leaves them out, together with the fields Twilio marks as PII (`WorkspaceName`,
//! `EventDescription`) and the worker's name.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::document::json_kind;
use crate::form::FormParams;
use crate::sid::{
    AccountSid, ActivitySid, ReservationSid, SidError, TaskQueueSid, TaskSid, WorkerSid,
    WorkflowSid, WorkspaceSid,
};

/// A workspace event callback that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// A parameter every workspace event carries is absent or empty.
    #[error(
        "the workspace event has no `{parameter}`: TaskRouter sends it with every event, so check \
         that this URL is configured as a Workspace EventCallbackUrl and not elsewhere"
    )]
    Missing {
        /// The missing form parameter.
        parameter: &'static str,
    },
    /// A SID parameter is not a well-formed SID of its type.
    #[error("the workspace event parameter `{parameter}` is malformed: {source}")]
    Sid {
        /// The form parameter holding the SID.
        parameter: &'static str,
        /// What was wrong, including the rejected value.
        #[source]
        source: SidError,
    },
    /// An attributes parameter is not JSON at all.
    ///
    /// The value is customer data, so only the parser's position-based message is kept.
    #[error(
        "the workspace event parameter `{parameter}` is not valid JSON ({reason}): expected a JSON \
         object serialised once"
    )]
    AttributesNotJson {
        /// `TaskAttributes` or `WorkerAttributes`.
        parameter: &'static str,
        /// The JSON parser's message (a position, never the content).
        reason: String,
    },
    /// An attributes parameter is JSON but not an object.
    #[error(
        "the workspace event parameter `{parameter}` holds {found}: TaskRouter attributes \
         are always a JSON object"
    )]
    AttributesNotObject {
        /// `TaskAttributes` or `WorkerAttributes`.
        parameter: &'static str,
        /// The kind of JSON value found instead (`an array`, `a string`, ...), not its content.
        found: &'static str,
    },
    /// A numeric parameter is not an integer.
    #[error("the workspace event parameter `{parameter}` must be an integer, got `{value}`")]
    NotAnInteger {
        /// The form parameter.
        parameter: &'static str,
        /// The rejected text (numbers and statuses are not customer data).
        value: String,
    },
}

impl EventError {
    /// A stable machine-readable code for the JSON error body (shared with the callback's codes).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "missing_parameter",
            Self::Sid { .. } => "invalid_sid",
            Self::AttributesNotJson { .. } | Self::AttributesNotObject { .. } => {
                "invalid_attributes"
            }
            Self::NotAnInteger { .. } => "invalid_integer",
        }
    }
}

macro_rules! event_types {
    ($($(#[$doc:meta])* $variant:ident => $wire:literal,)*) => {
        /// The `EventType` of a workspace event.
        ///
        /// Wire names from <https://www.twilio.com/docs/taskrouter/api/event/reference>
        /// (docs/taskrouter.md §6). Any other name is kept verbatim as [`EventType::Other`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($(#[$doc])* $variant,)*
            /// An event type this crate does not know yet, kept as sent.
            Other(String),
        }

        impl EventType {
            /// Every documented wire name, in the reference's order.
            pub const KNOWN: &'static [&'static str] = &[$($wire,)*];

            /// Reads a wire name; unknown names become [`EventType::Other`].
            pub fn parse(wire: &str) -> Self {
                match wire {
                    $($wire => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }

            /// The wire name, e.g. `reservation.accepted`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(other) => other,
                }
            }
        }
    };
}

event_types! {
    /// `activity.created`
    ActivityCreated => "activity.created",
    /// `activity.updated`
    ActivityUpdated => "activity.updated",
    /// `activity.deleted`
    ActivityDeleted => "activity.deleted",
    /// `reservation.created`: a task was reserved for a worker.
    ReservationCreated => "reservation.created",
    /// `reservation.accepted`
    ReservationAccepted => "reservation.accepted",
    /// `reservation.rejected`
    ReservationRejected => "reservation.rejected",
    /// `reservation.timeout`: nobody answered within the workflow's reservation timeout.
    ReservationTimeout => "reservation.timeout",
    /// `reservation.canceled`: the task was canceled while reserved.
    ReservationCanceled => "reservation.canceled",
    /// `reservation.rescinded`: another reservation of a multi-reservation won.
    ReservationRescinded => "reservation.rescinded",
    /// `reservation.completed`
    ReservationCompleted => "reservation.completed",
    /// `reservation.wrapup`
    ReservationWrapup => "reservation.wrapup",
    /// `reservation.failed`
    ReservationFailed => "reservation.failed",
    /// `task.created`
    TaskCreated => "task.created",
    /// `task.updated`
    TaskUpdated => "task.updated",
    /// `task.canceled`
    TaskCanceled => "task.canceled",
    /// `task.wrapup`
    TaskWrapup => "task.wrapup",
    /// `task.completed`
    TaskCompleted => "task.completed",
    /// `task.deleted`
    TaskDeleted => "task.deleted",
    /// `task.system-deleted`: removed by TaskRouter when its TTL ran out.
    TaskSystemDeleted => "task.system-deleted",
    /// `task.transfer-initiated`
    TaskTransferInitiated => "task.transfer-initiated",
    /// `task.transfer-attempt-failed`
    TaskTransferAttemptFailed => "task.transfer-attempt-failed",
    /// `task.transfer-failed`
    TaskTransferFailed => "task.transfer-failed",
    /// `task.transfer-canceled`
    TaskTransferCanceled => "task.transfer-canceled",
    /// `task.transfer-completed`
    TaskTransferCompleted => "task.transfer-completed",
    /// `task-channel.created`
    TaskChannelCreated => "task-channel.created",
    /// `task-channel.updated`
    TaskChannelUpdated => "task-channel.updated",
    /// `task-channel.deleted`
    TaskChannelDeleted => "task-channel.deleted",
    /// `task-queue.created`
    TaskQueueCreated => "task-queue.created",
    /// `task-queue.deleted`
    TaskQueueDeleted => "task-queue.deleted",
    /// `task-queue.entered`
    TaskQueueEntered => "task-queue.entered",
    /// `task-queue.timeout`
    TaskQueueTimeout => "task-queue.timeout",
    /// `task-queue.moved`
    TaskQueueMoved => "task-queue.moved",
    /// `task-queue.expression.updated`
    TaskQueueExpressionUpdated => "task-queue.expression.updated",
    /// `worker.created`
    WorkerCreated => "worker.created",
    /// `worker.activity.update`: the worker changed activity.
    WorkerActivityUpdate => "worker.activity.update",
    /// `worker.attributes.update`
    WorkerAttributesUpdate => "worker.attributes.update",
    /// `worker.capacity.update`
    WorkerCapacityUpdate => "worker.capacity.update",
    /// `worker.channel.availability.update`
    WorkerChannelAvailabilityUpdate => "worker.channel.availability.update",
    /// `worker.deleted`
    WorkerDeleted => "worker.deleted",
    /// `workflow.created`
    WorkflowCreated => "workflow.created",
    /// `workflow.updated`
    WorkflowUpdated => "workflow.updated",
    /// `workflow.deleted`
    WorkflowDeleted => "workflow.deleted",
    /// `workflow.entered`
    WorkflowEntered => "workflow.entered",
    /// `workflow.target-matched`
    WorkflowTargetMatched => "workflow.target-matched",
    /// `workflow.timeout`
    WorkflowTimeout => "workflow.timeout",
    /// `workflow.skipped`
    WorkflowSkipped => "workflow.skipped",
    /// `workspace.created`
    WorkspaceCreated => "workspace.created",
    /// `workspace.updated`
    WorkspaceUpdated => "workspace.updated",
    /// `workspace.deleted`
    WorkspaceDeleted => "workspace.deleted",
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `ResourceType` of a workspace event: the kind of object it is most relevant to.
///
/// Twilio's reference lists `Task, Reservation, Worker, Activity, Workflow, Workspace`
/// capitalised, while deployed handlers compare lower-case values, so the match ignores case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResourceType {
    /// A task.
    Task,
    /// A reservation.
    Reservation,
    /// A worker.
    Worker,
    /// An activity.
    Activity,
    /// A workflow.
    Workflow,
    /// The workspace itself.
    Workspace,
    /// Any other value, kept as sent.
    Other(String),
}

impl ResourceType {
    /// Reads a resource type, ignoring ASCII case.
    pub fn parse(wire: &str) -> Self {
        const KNOWN: [(&str, ResourceType); 6] = [
            ("task", ResourceType::Task),
            ("reservation", ResourceType::Reservation),
            ("worker", ResourceType::Worker),
            ("activity", ResourceType::Activity),
            ("workflow", ResourceType::Workflow),
            ("workspace", ResourceType::Workspace),
        ];
        KNOWN
            .into_iter()
            .find(|(name, _)| wire.eq_ignore_ascii_case(name))
            .map_or_else(|| Self::Other(wire.to_owned()), |(_, kind)| kind)
    }

    /// A lower-case name for known types, the value as sent otherwise.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Task => "task",
            Self::Reservation => "reservation",
            Self::Worker => "worker",
            Self::Activity => "activity",
            Self::Workflow => "workflow",
            Self::Workspace => "workspace",
            Self::Other(other) => other,
        }
    }
}

/// Task or worker attributes: a JSON object of customer data.
///
/// `Debug` prints only the number of keys so that an event logged by accident with `{:?}` does not
/// leak phone numbers.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Attributes(Map<String, Value>);

impl Attributes {
    /// One top-level attribute.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The whole object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Attributes({} keys, redacted)", self.0.len())
    }
}

/// The reservation an event concerns (reservation events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationFields {
    /// `ReservationSid`.
    pub sid: ReservationSid,
}

/// The task an event concerns (task and reservation events), present when `TaskSid` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFields {
    /// `TaskSid`.
    pub sid: TaskSid,
    /// `TaskAttributes`, parsed a second time from its JSON string (customer data).
    pub attributes: Option<Attributes>,
    /// `TaskAge`, in seconds.
    pub age_s: Option<i64>,
    /// `TaskPriority`.
    pub priority: Option<i64>,
    /// `TaskAssignmentStatus` (`pending`, `reserved`, `assigned`, `wrapping`, `completed`,
    /// `canceled`), kept as text so a new status is not an error.
    pub assignment_status: Option<String>,
    /// `TaskCanceledReason`.
    pub canceled_reason: Option<String>,
    /// `TaskCompletedReason`.
    pub completed_reason: Option<String>,
}

/// The worker an event concerns (worker and reservation events), present when `WorkerSid` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerFields {
    /// `WorkerSid`.
    pub sid: WorkerSid,
    /// `WorkerAttributes`, parsed a second time from its JSON string (customer data).
    pub attributes: Option<Attributes>,
    /// `WorkerActivitySid`: the activity the worker is in now.
    pub activity_sid: Option<ActivitySid>,
    /// `WorkerActivityName`.
    pub activity_name: Option<String>,
    /// `WorkerPreviousActivitySid` (`worker.activity.update`).
    pub previous_activity_sid: Option<ActivitySid>,
    /// `WorkerPreviousActivityName` (`worker.activity.update`).
    pub previous_activity_name: Option<String>,
    /// `WorkerTimeInPreviousActivity`, in seconds (`worker.activity.update`).
    pub time_in_previous_activity_s: Option<i64>,
}

/// A parsed workspace event callback.
///
/// Built with [`TryFrom<&FormParams>`] after the signature has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceEvent {
    /// `EventType`.
    pub event_type: EventType,
    /// `ResourceType`, when sent.
    pub resource_type: Option<ResourceType>,
    /// `ResourceSid`: a SID whose kind depends on `resource_type`, so it stays text.
    pub resource_sid: Option<String>,
    /// `AccountSid`.
    pub account_sid: AccountSid,
    /// `WorkspaceSid`.
    pub workspace_sid: WorkspaceSid,
    /// `Timestamp`: its format is undocumented, so it is kept opaque (docs/taskrouter.md §1).
    pub timestamp: Option<String>,
    /// `EventDescription` (Twilio marks it PII: never logged).
    pub description: Option<String>,
    /// Present when `ReservationSid` is.
    pub reservation: Option<ReservationFields>,
    /// Present when `TaskSid` is.
    pub task: Option<TaskFields>,
    /// Present when `WorkerSid` is.
    pub worker: Option<WorkerFields>,
    /// `TaskQueueSid` (reservation, task and task-queue events).
    pub task_queue_sid: Option<TaskQueueSid>,
    /// `WorkflowSid` (reservation, task and workflow events).
    pub workflow_sid: Option<WorkflowSid>,
}

/// How a reservation ended, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationOutcome {
    /// `reservation.accepted`
    Accepted,
    /// `reservation.rejected`
    Rejected,
    /// `reservation.timeout`
    Timeout,
    /// `reservation.canceled`
    Canceled,
    /// `reservation.rescinded`
    Rescinded,
}

impl ReservationOutcome {
    /// A lower-case name, e.g. `timeout`, used as a metric dimension value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Timeout => "timeout",
            Self::Canceled => "canceled",
            Self::Rescinded => "rescinded",
        }
    }
}

/// The fields of one info-level log line about an event, holding no customer data.
///
/// Attributes, the worker's name and the fields Twilio marks as PII (`WorkspaceName`,
/// `EventDescription`) are left out by construction: this struct has no field that could hold
/// them. Absent values are skipped when serialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventLogFields<'a> {
    /// `EventType`.
    pub event_type: &'a str,
    /// `ResourceType`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<&'a str>,
    /// `ResourceSid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_sid: Option<&'a str>,
    /// `WorkspaceSid`.
    pub workspace_sid: &'a str,
    /// `Timestamp`, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<&'a str>,
    /// `ReservationSid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_sid: Option<&'a str>,
    /// `TaskSid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_sid: Option<&'a str>,
    /// `TaskQueueSid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_queue_sid: Option<&'a str>,
    /// `WorkflowSid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_sid: Option<&'a str>,
    /// `WorkerSid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_sid: Option<&'a str>,
    /// `TaskAge`, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_age_s: Option<i64>,
    /// `TaskPriority`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_priority: Option<i64>,
    /// `TaskAssignmentStatus`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_assignment_status: Option<&'a str>,
    /// `TaskCanceledReason`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_canceled_reason: Option<&'a str>,
    /// `TaskCompletedReason`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_completed_reason: Option<&'a str>,
    /// `WorkerActivitySid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_activity_sid: Option<&'a str>,
    /// `WorkerActivityName` (an activity such as `Available`, not a person's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_activity_name: Option<&'a str>,
    /// `WorkerPreviousActivitySid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_previous_activity_sid: Option<&'a str>,
    /// `WorkerPreviousActivityName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_previous_activity_name: Option<&'a str>,
    /// `WorkerTimeInPreviousActivity`, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_time_in_previous_activity_s: Option<i64>,
}

impl WorkspaceEvent {
    /// Maps the five reservation events that end a reservation without completing the work
    /// (`accepted`, `rejected`, `timeout`, `canceled`, `rescinded`) to an outcome; `None` for
    /// every other event.
    pub fn reservation_outcome(&self) -> Option<ReservationOutcome> {
        match self.event_type {
            EventType::ReservationAccepted => Some(ReservationOutcome::Accepted),
            EventType::ReservationRejected => Some(ReservationOutcome::Rejected),
            EventType::ReservationTimeout => Some(ReservationOutcome::Timeout),
            EventType::ReservationCanceled => Some(ReservationOutcome::Canceled),
            EventType::ReservationRescinded => Some(ReservationOutcome::Rescinded),
            _ => None,
        }
    }

    /// The fields for one structured log line about this event, without any customer data.
    pub fn log_fields(&self) -> EventLogFields<'_> {
        let task = self.task.as_ref();
        let worker = self.worker.as_ref();
        EventLogFields {
            event_type: self.event_type.as_str(),
            resource_type: self.resource_type.as_ref().map(ResourceType::as_str),
            resource_sid: self.resource_sid.as_deref(),
            workspace_sid: self.workspace_sid.as_str(),
            timestamp: self.timestamp.as_deref(),
            reservation_sid: self.reservation.as_ref().map(|r| r.sid.as_str()),
            task_sid: task.map(|t| t.sid.as_str()),
            task_queue_sid: self.task_queue_sid.as_ref().map(TaskQueueSid::as_str),
            workflow_sid: self.workflow_sid.as_ref().map(WorkflowSid::as_str),
            worker_sid: worker.map(|w| w.sid.as_str()),
            task_age_s: task.and_then(|t| t.age_s),
            task_priority: task.and_then(|t| t.priority),
            task_assignment_status: task.and_then(|t| t.assignment_status.as_deref()),
            task_canceled_reason: task.and_then(|t| t.canceled_reason.as_deref()),
            task_completed_reason: task.and_then(|t| t.completed_reason.as_deref()),
            worker_activity_sid: worker
                .and_then(|w| w.activity_sid.as_ref())
                .map(ActivitySid::as_str),
            worker_activity_name: worker.and_then(|w| w.activity_name.as_deref()),
            worker_previous_activity_sid: worker
                .and_then(|w| w.previous_activity_sid.as_ref())
                .map(ActivitySid::as_str),
            worker_previous_activity_name: worker.and_then(|w| w.previous_activity_name.as_deref()),
            worker_time_in_previous_activity_s: worker.and_then(|w| w.time_in_previous_activity_s),
        }
    }
}

impl TryFrom<&FormParams> for WorkspaceEvent {
    type Error = EventError;

    /// Parses the event fields out of the verified form.
    ///
    /// # Errors
    ///
    /// [`EventError::Missing`] without `EventType`, `AccountSid` or `WorkspaceSid`;
    /// [`EventError::Sid`] for a malformed SID; [`EventError::AttributesNotJson`] /
    /// [`EventError::AttributesNotObject`] for attributes that are not a JSON object;
    /// [`EventError::NotAnInteger`] for a non-integer age, priority or time in activity.
    fn try_from(params: &FormParams) -> Result<Self, EventError> {
        let form = Form(params);
        let task = match form.sid("TaskSid", TaskSid::parse)? {
            Some(sid) => Some(TaskFields {
                sid,
                attributes: form.attributes("TaskAttributes")?,
                age_s: form.integer("TaskAge")?,
                priority: form.integer("TaskPriority")?,
                assignment_status: form.text("TaskAssignmentStatus"),
                canceled_reason: form.text("TaskCanceledReason"),
                completed_reason: form.text("TaskCompletedReason"),
            }),
            None => None,
        };
        let worker = match form.sid("WorkerSid", WorkerSid::parse)? {
            Some(sid) => Some(WorkerFields {
                sid,
                attributes: form.attributes("WorkerAttributes")?,
                activity_sid: form.sid("WorkerActivitySid", ActivitySid::parse)?,
                activity_name: form.text("WorkerActivityName"),
                previous_activity_sid: form.sid("WorkerPreviousActivitySid", ActivitySid::parse)?,
                previous_activity_name: form.text("WorkerPreviousActivityName"),
                time_in_previous_activity_s: form.integer("WorkerTimeInPreviousActivity")?,
            }),
            None => None,
        };
        Ok(Self {
            event_type: EventType::parse(form.required("EventType")?),
            resource_type: form.value("ResourceType").map(ResourceType::parse),
            resource_sid: form.text("ResourceSid"),
            account_sid: form.required_sid("AccountSid", AccountSid::parse)?,
            workspace_sid: form.required_sid("WorkspaceSid", WorkspaceSid::parse)?,
            timestamp: form.text("Timestamp"),
            description: form.text("EventDescription"),
            reservation: form
                .sid("ReservationSid", ReservationSid::parse)?
                .map(|sid| ReservationFields { sid }),
            task,
            worker,
            task_queue_sid: form.sid("TaskQueueSid", TaskQueueSid::parse)?,
            workflow_sid: form.sid("WorkflowSid", WorkflowSid::parse)?,
        })
    }
}

/// Typed reads of single form parameters.
///
/// An empty value counts as absent: form posts send `Key=` for a field with no value, and an
/// empty SID or reason carries no information.
struct Form<'a>(&'a FormParams);

impl Form<'_> {
    fn value(&self, parameter: &str) -> Option<&str> {
        self.0.get(parameter).filter(|value| !value.is_empty())
    }

    fn text(&self, parameter: &str) -> Option<String> {
        self.value(parameter).map(str::to_owned)
    }

    fn required(&self, parameter: &'static str) -> Result<&str, EventError> {
        self.value(parameter)
            .ok_or(EventError::Missing { parameter })
    }

    fn sid<T>(
        &self,
        parameter: &'static str,
        parse: fn(&str) -> Result<T, SidError>,
    ) -> Result<Option<T>, EventError> {
        self.value(parameter)
            .map(|value| parse(value).map_err(|source| EventError::Sid { parameter, source }))
            .transpose()
    }

    fn required_sid<T>(
        &self,
        parameter: &'static str,
        parse: fn(&str) -> Result<T, SidError>,
    ) -> Result<T, EventError> {
        self.sid(parameter, parse)?
            .ok_or(EventError::Missing { parameter })
    }

    fn integer(&self, parameter: &'static str) -> Result<Option<i64>, EventError> {
        self.value(parameter)
            .map(|value| {
                value.parse().map_err(|_| EventError::NotAnInteger {
                    parameter,
                    value: value.to_owned(),
                })
            })
            .transpose()
    }

    fn attributes(&self, parameter: &'static str) -> Result<Option<Attributes>, EventError> {
        let Some(text) = self.value(parameter) else {
            return Ok(None);
        };
        // serde_json's syntax errors name a line and column, never the offending text, so the
        // message is safe to return even though the attributes are customer data.
        let value: Value =
            serde_json::from_str(text).map_err(|error| EventError::AttributesNotJson {
                parameter,
                reason: error.to_string(),
            })?;
        match value {
            Value::Object(map) => Ok(Some(Attributes(map))),
            other => Err(EventError::AttributesNotObject {
                parameter,
                found: json_kind(&other),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const WORKSPACE: &str = "WS0123456789abcdef0123456789abcdef";
    const RESERVATION: &str = "WR0123456789abcdef0123456789abcdef";
    const TASK: &str = "WT0123456789abcdef0123456789abcdef";
    const WORKER: &str = "WK0123456789abcdef0123456789abcdef";
    const QUEUE: &str = "WQ0123456789abcdef0123456789abcdef";
    const WORKFLOW: &str = "WW0123456789abcdef0123456789abcdef";
    const AVAILABLE: &str = "WA0123456789abcdef0123456789abcdef";
    const OFFLINE: &str = "WAfedcba9876543210fedcba9876543210";
    const PHONE: &str = "+14155550100";

    /// The common fields plus `extra`, as TaskRouter would post them.
    fn form(event_type: &str, extra: &[(&str, &str)]) -> FormParams {
        let mut pairs = vec![
            ("EventType", event_type),
            ("AccountSid", ACCOUNT),
            ("WorkspaceSid", WORKSPACE),
            ("WorkspaceName", "Support"),
            ("Timestamp", "1715000000"),
        ];
        pairs.extend_from_slice(extra);
        FormParams::from_pairs(pairs)
    }

    fn reservation_form(event_type: &str) -> FormParams {
        form(
            event_type,
            &[
                ("EventDescription", "Reservation accepted by Ana"),
                ("ResourceType", "reservation"),
                ("ResourceSid", RESERVATION),
                ("ReservationSid", RESERVATION),
                ("TaskQueueSid", QUEUE),
                ("WorkflowSid", WORKFLOW),
                ("TaskSid", TASK),
                (
                    "TaskAttributes",
                    r#"{"from":"+14155550100","call_sid":"CA1"}"#,
                ),
                ("TaskAge", "42"),
                ("TaskPriority", "10"),
                ("TaskAssignmentStatus", "assigned"),
                ("TaskCanceledReason", ""),
                ("WorkerSid", WORKER),
                ("WorkerName", "Ana"),
                ("WorkerAttributes", r#"{"contact_uri":"client:ana"}"#),
                ("WorkerActivitySid", AVAILABLE),
                ("WorkerActivityName", "Available"),
            ],
        )
    }

    fn attributes(json: &str) -> Attributes {
        match serde_json::from_str(json).expect("test attributes are JSON") {
            Value::Object(map) => Attributes(map),
            other => panic!("test attributes must be an object, got {other}"),
        }
    }

    fn account() -> AccountSid {
        AccountSid::parse(ACCOUNT).expect("valid account SID")
    }

    fn workspace() -> WorkspaceSid {
        WorkspaceSid::parse(WORKSPACE).expect("valid workspace SID")
    }

    fn activity(sid: &str) -> ActivitySid {
        ActivitySid::parse(sid).expect("valid activity SID")
    }

    #[test]
    fn each_kind_of_event_parses_into_its_typed_fields() {
        let cases = [
            (
                "a reservation event carries task, worker, queue and workflow",
                reservation_form("reservation.accepted"),
                WorkspaceEvent {
                    event_type: EventType::ReservationAccepted,
                    resource_type: Some(ResourceType::Reservation),
                    resource_sid: Some(RESERVATION.to_owned()),
                    account_sid: account(),
                    workspace_sid: workspace(),
                    timestamp: Some("1715000000".to_owned()),
                    description: Some("Reservation accepted by Ana".to_owned()),
                    reservation: Some(ReservationFields {
                        sid: ReservationSid::parse(RESERVATION).expect("valid"),
                    }),
                    task: Some(TaskFields {
                        sid: TaskSid::parse(TASK).expect("valid"),
                        attributes: Some(attributes(r#"{"from":"+14155550100","call_sid":"CA1"}"#)),
                        age_s: Some(42),
                        priority: Some(10),
                        assignment_status: Some("assigned".to_owned()),
                        canceled_reason: None,
                        completed_reason: None,
                    }),
                    worker: Some(WorkerFields {
                        sid: WorkerSid::parse(WORKER).expect("valid"),
                        attributes: Some(attributes(r#"{"contact_uri":"client:ana"}"#)),
                        activity_sid: Some(activity(AVAILABLE)),
                        activity_name: Some("Available".to_owned()),
                        previous_activity_sid: None,
                        previous_activity_name: None,
                        time_in_previous_activity_s: None,
                    }),
                    task_queue_sid: Some(TaskQueueSid::parse(QUEUE).expect("valid")),
                    workflow_sid: Some(WorkflowSid::parse(WORKFLOW).expect("valid")),
                },
            ),
            (
                "a task event carries the task and its end reason, no worker",
                form(
                    "task.canceled",
                    &[
                        ("ResourceType", "Task"),
                        ("ResourceSid", TASK),
                        ("TaskSid", TASK),
                        ("TaskAttributes", "{}"),
                        ("TaskAge", "300"),
                        ("TaskPriority", "0"),
                        ("TaskAssignmentStatus", "canceled"),
                        ("TaskCanceledReason", "Task TTL Exceeded"),
                        ("WorkflowSid", WORKFLOW),
                    ],
                ),
                WorkspaceEvent {
                    event_type: EventType::TaskCanceled,
                    resource_type: Some(ResourceType::Task),
                    resource_sid: Some(TASK.to_owned()),
                    account_sid: account(),
                    workspace_sid: workspace(),
                    timestamp: Some("1715000000".to_owned()),
                    description: None,
                    reservation: None,
                    task: Some(TaskFields {
                        sid: TaskSid::parse(TASK).expect("valid"),
                        attributes: Some(Attributes::default()),
                        age_s: Some(300),
                        priority: Some(0),
                        assignment_status: Some("canceled".to_owned()),
                        canceled_reason: Some("Task TTL Exceeded".to_owned()),
                        completed_reason: None,
                    }),
                    worker: None,
                    task_queue_sid: None,
                    workflow_sid: Some(WorkflowSid::parse(WORKFLOW).expect("valid")),
                },
            ),
            (
                "a worker.activity.update carries the current and previous activity",
                form(
                    "worker.activity.update",
                    &[
                        ("ResourceType", "worker"),
                        ("ResourceSid", WORKER),
                        ("WorkerSid", WORKER),
                        ("WorkerName", "Ana"),
                        ("WorkerAttributes", r#"{"phone":"+14155550100"}"#),
                        ("WorkerActivitySid", OFFLINE),
                        ("WorkerActivityName", "Offline"),
                        ("WorkerPreviousActivitySid", AVAILABLE),
                        ("WorkerPreviousActivityName", "Available"),
                        ("WorkerTimeInPreviousActivity", "3600"),
                        ("WorkerTimeInPreviousActivityMs", "3600123"),
                    ],
                ),
                WorkspaceEvent {
                    event_type: EventType::WorkerActivityUpdate,
                    resource_type: Some(ResourceType::Worker),
                    resource_sid: Some(WORKER.to_owned()),
                    account_sid: account(),
                    workspace_sid: workspace(),
                    timestamp: Some("1715000000".to_owned()),
                    description: None,
                    reservation: None,
                    task: None,
                    worker: Some(WorkerFields {
                        sid: WorkerSid::parse(WORKER).expect("valid"),
                        attributes: Some(attributes(r#"{"phone":"+14155550100"}"#)),
                        activity_sid: Some(activity(OFFLINE)),
                        activity_name: Some("Offline".to_owned()),
                        previous_activity_sid: Some(activity(AVAILABLE)),
                        previous_activity_name: Some("Available".to_owned()),
                        time_in_previous_activity_s: Some(3600),
                    }),
                    task_queue_sid: None,
                    workflow_sid: None,
                },
            ),
            (
                "an unknown event type and resource type are kept, not rejected",
                form(
                    "task.teleported",
                    &[("ResourceType", "Teleporter"), ("NewTwilioField", "x")],
                ),
                WorkspaceEvent {
                    event_type: EventType::Other("task.teleported".to_owned()),
                    resource_type: Some(ResourceType::Other("Teleporter".to_owned())),
                    resource_sid: None,
                    account_sid: account(),
                    workspace_sid: workspace(),
                    timestamp: Some("1715000000".to_owned()),
                    description: None,
                    reservation: None,
                    task: None,
                    worker: None,
                    task_queue_sid: None,
                    workflow_sid: None,
                },
            ),
        ];
        for (why, params, expected) in cases {
            let parsed = WorkspaceEvent::try_from(&params).expect(why);
            assert_eq!(parsed, expected, "{why}");
        }
    }

    #[test]
    fn malformed_events_are_rejected_naming_the_parameter() {
        let without = |key: &str| {
            FormParams::from_pairs(
                form("task.created", &[])
                    .pairs()
                    .iter()
                    .filter(|(k, _)| k != key)
                    .cloned(),
            )
        };
        let bad_sid = |kind, prefix, input: &str| SidError {
            kind,
            prefix,
            input: input.to_owned(),
        };
        let cases = [
            (
                "no EventType",
                without("EventType"),
                EventError::Missing {
                    parameter: "EventType",
                },
            ),
            (
                "an empty EventType",
                FormParams::from_pairs([
                    ("EventType", ""),
                    ("AccountSid", ACCOUNT),
                    ("WorkspaceSid", WORKSPACE),
                ]),
                EventError::Missing {
                    parameter: "EventType",
                },
            ),
            (
                "no AccountSid",
                without("AccountSid"),
                EventError::Missing {
                    parameter: "AccountSid",
                },
            ),
            (
                "no WorkspaceSid",
                without("WorkspaceSid"),
                EventError::Missing {
                    parameter: "WorkspaceSid",
                },
            ),
            (
                "an AccountSid with another resource's prefix",
                FormParams::from_pairs([
                    ("EventType", "task.created"),
                    ("AccountSid", WORKSPACE),
                    ("WorkspaceSid", WORKSPACE),
                ]),
                EventError::Sid {
                    parameter: "AccountSid",
                    source: bad_sid("account", "AC", WORKSPACE),
                },
            ),
            (
                "a truncated optional ReservationSid",
                form("reservation.created", &[("ReservationSid", "WR123")]),
                EventError::Sid {
                    parameter: "ReservationSid",
                    source: bad_sid("reservation", "WR", "WR123"),
                },
            ),
            (
                "a malformed WorkerActivitySid",
                form(
                    "worker.activity.update",
                    &[("WorkerSid", WORKER), ("WorkerActivitySid", "Available")],
                ),
                EventError::Sid {
                    parameter: "WorkerActivitySid",
                    source: bad_sid("activity", "WA", "Available"),
                },
            ),
            (
                "TaskAttributes that are not JSON",
                form(
                    "task.created",
                    &[("TaskSid", TASK), ("TaskAttributes", "{from:")],
                ),
                EventError::AttributesNotJson {
                    parameter: "TaskAttributes",
                    reason: "key must be a string at line 1 column 2".to_owned(),
                },
            ),
            (
                "TaskAttributes escaped twice (a JSON string)",
                form(
                    "task.created",
                    &[
                        ("TaskSid", TASK),
                        ("TaskAttributes", r#""{\"from\":\"+1\"}""#),
                    ],
                ),
                EventError::AttributesNotObject {
                    parameter: "TaskAttributes",
                    found: "a string",
                },
            ),
            (
                "WorkerAttributes that are a JSON array",
                form(
                    "worker.attributes.update",
                    &[("WorkerSid", WORKER), ("WorkerAttributes", "[1,2]")],
                ),
                EventError::AttributesNotObject {
                    parameter: "WorkerAttributes",
                    found: "an array",
                },
            ),
            (
                "a fractional TaskAge",
                form("task.created", &[("TaskSid", TASK), ("TaskAge", "1.5")]),
                EventError::NotAnInteger {
                    parameter: "TaskAge",
                    value: "1.5".to_owned(),
                },
            ),
            (
                "a word for TaskPriority",
                form(
                    "task.created",
                    &[("TaskSid", TASK), ("TaskPriority", "high")],
                ),
                EventError::NotAnInteger {
                    parameter: "TaskPriority",
                    value: "high".to_owned(),
                },
            ),
            (
                "a non-numeric WorkerTimeInPreviousActivity",
                form(
                    "worker.activity.update",
                    &[
                        ("WorkerSid", WORKER),
                        ("WorkerTimeInPreviousActivity", "1h"),
                    ],
                ),
                EventError::NotAnInteger {
                    parameter: "WorkerTimeInPreviousActivity",
                    value: "1h".to_owned(),
                },
            ),
        ];
        for (why, params, expected) in cases {
            let error = WorkspaceEvent::try_from(&params).expect_err(why);
            assert_eq!(error, expected, "{why}");
        }
    }

    #[test]
    fn error_messages_name_the_parameter_and_the_offending_value() {
        let cases = [
            (
                "a malformed SID shows parameter and value",
                form("task.created", &[("TaskSid", "WTnope")]),
                "the workspace event parameter `TaskSid` is malformed: `WTnope` is not a valid \
                 task SID: expected `WT` followed by 32 hex digits",
            ),
            (
                "a non-integer shows parameter and value",
                form("task.created", &[("TaskSid", TASK), ("TaskAge", "old")]),
                "the workspace event parameter `TaskAge` must be an integer, got `old`",
            ),
            (
                "attributes of the wrong kind show the kind, not the content",
                form(
                    "task.created",
                    &[("TaskSid", TASK), ("TaskAttributes", r#""+14155550100""#)],
                ),
                "the workspace event parameter `TaskAttributes` holds a string: TaskRouter \
                 attributes are always a JSON object",
            ),
        ];
        for (why, params, expected) in cases {
            let error = WorkspaceEvent::try_from(&params).expect_err(why);
            assert_eq!(error.to_string(), expected, "{why}");
        }
    }

    #[test]
    fn attribute_errors_never_echo_the_attribute_content() {
        let cases = [
            ("not JSON", r#"{"from": +14155550100}"#),
            ("a JSON string", r#""+14155550100""#),
            ("a JSON number", "14155550100"),
        ];
        for (why, attributes) in cases {
            let params = form(
                "task.created",
                &[("TaskSid", TASK), ("TaskAttributes", attributes)],
            );
            let error = WorkspaceEvent::try_from(&params).expect_err(why);
            let shown = format!("{error} / {error:?}");
            assert!(!shown.contains("4155550100"), "{why}: {shown}");
        }
    }

    #[test]
    fn log_fields_of_an_event_with_a_phone_number_in_its_attributes_do_not_contain_it() {
        let event = WorkspaceEvent::try_from(&reservation_form("reservation.accepted"))
            .expect("valid reservation event");
        let line = serde_json::to_string(&event.log_fields()).expect("log fields serialise");
        assert!(!line.contains(PHONE), "phone number leaked: {line}");
        assert!(
            !line.contains("client:ana"),
            "worker attributes leaked: {line}"
        );
        assert!(
            !line.contains("Ana"),
            "worker name or description leaked: {line}"
        );
        assert!(!line.contains("Support"), "workspace name leaked: {line}");
        // The test is only meaningful if the phone number really is in the parsed event.
        let task = event.task.as_ref().expect("task fields");
        let from = task.attributes.as_ref().and_then(|a| a.get("from"));
        assert_eq!(from, Some(&Value::from(PHONE)));
    }

    #[test]
    fn debug_output_of_an_event_redacts_its_attributes() {
        let event = WorkspaceEvent::try_from(&reservation_form("reservation.accepted"))
            .expect("valid reservation event");
        let debug = format!("{event:?}");
        assert!(!debug.contains(PHONE), "{debug}");
        assert!(debug.contains("Attributes(2 keys, redacted)"), "{debug}");
    }

    #[test]
    fn log_fields_hold_the_operational_fields_of_a_reservation_event() {
        let event = WorkspaceEvent::try_from(&reservation_form("reservation.accepted"))
            .expect("valid reservation event");
        insta::assert_json_snapshot!("reservation_event_log_fields", event.log_fields());
    }

    #[test]
    fn log_fields_hold_the_activities_of_a_worker_activity_update() {
        let params = form(
            "worker.activity.update",
            &[
                ("ResourceType", "worker"),
                ("ResourceSid", WORKER),
                ("WorkerSid", WORKER),
                ("WorkerActivitySid", OFFLINE),
                ("WorkerActivityName", "Offline"),
                ("WorkerPreviousActivitySid", AVAILABLE),
                ("WorkerPreviousActivityName", "Available"),
                ("WorkerTimeInPreviousActivity", "3600"),
            ],
        );
        let event = WorkspaceEvent::try_from(&params).expect("valid worker event");
        let fields = event.log_fields();
        assert_eq!(fields.event_type, "worker.activity.update");
        assert_eq!(fields.worker_sid, Some(WORKER));
        assert_eq!(fields.worker_activity_name, Some("Offline"));
        assert_eq!(fields.worker_previous_activity_sid, Some(AVAILABLE));
        assert_eq!(fields.worker_previous_activity_name, Some("Available"));
        assert_eq!(fields.worker_time_in_previous_activity_s, Some(3600));
        assert_eq!(fields.task_sid, None);
    }

    #[test]
    fn reservation_outcomes_come_only_from_the_five_ending_events() {
        use ReservationOutcome::{Accepted, Canceled, Rejected, Rescinded, Timeout};
        let cases = [
            (
                "reservation.accepted",
                Some((Accepted, "accepted")),
                "accepted",
            ),
            (
                "reservation.rejected",
                Some((Rejected, "rejected")),
                "rejected",
            ),
            (
                "reservation.timeout",
                Some((Timeout, "timeout")),
                "timed out",
            ),
            (
                "reservation.canceled",
                Some((Canceled, "canceled")),
                "canceled",
            ),
            (
                "reservation.rescinded",
                Some((Rescinded, "rescinded")),
                "rescinded",
            ),
            (
                "reservation.created",
                None,
                "a new reservation has no outcome yet",
            ),
            (
                "reservation.completed",
                None,
                "completion follows acceptance",
            ),
            ("reservation.wrapup", None, "wrap-up follows acceptance"),
            ("task.canceled", None, "a task event"),
            ("reservation.exploded", None, "an unknown reservation event"),
        ];
        for (event_type, expected, why) in cases {
            let event = WorkspaceEvent::try_from(&form(event_type, &[])).expect(why);
            let outcome = event.reservation_outcome();
            assert_eq!(outcome, expected.map(|(outcome, _)| outcome), "{why}");
            assert_eq!(
                outcome.map(ReservationOutcome::as_str),
                expected.map(|(_, name)| name),
                "{why}: metric name"
            );
        }
    }

    #[test]
    fn every_known_event_type_round_trips_through_its_wire_name() {
        let known = [
            EventType::ActivityCreated,
            EventType::ReservationCreated,
            EventType::ReservationAccepted,
            EventType::ReservationRejected,
            EventType::ReservationTimeout,
            EventType::ReservationCanceled,
            EventType::ReservationRescinded,
            EventType::ReservationCompleted,
            EventType::ReservationWrapup,
            EventType::ReservationFailed,
            EventType::TaskCreated,
            EventType::TaskSystemDeleted,
            EventType::TaskTransferAttemptFailed,
            EventType::TaskQueueExpressionUpdated,
            EventType::WorkerActivityUpdate,
            EventType::WorkerChannelAvailabilityUpdate,
            EventType::WorkflowTargetMatched,
            EventType::WorkspaceDeleted,
        ];
        for event_type in known {
            let wire = event_type.as_str();
            assert_eq!(EventType::parse(wire), event_type, "{wire}");
            assert_eq!(event_type.to_string(), wire);
        }
        assert_eq!(
            EventType::parse("Reservation.Accepted").as_str(),
            "Reservation.Accepted"
        );
        assert!(matches!(
            EventType::parse("Reservation.Accepted"),
            EventType::Other(_)
        ));
    }

    #[test]
    fn resource_types_match_in_either_case() {
        let cases = [
            (
                "Task",
                ResourceType::Task,
                "capitalised as in Twilio's reference",
            ),
            (
                "reservation",
                ResourceType::Reservation,
                "lower case as sent",
            ),
            ("WORKFLOW", ResourceType::Workflow, "upper case"),
            (
                "TaskQueue",
                ResourceType::Other("TaskQueue".to_owned()),
                "not documented",
            ),
        ];
        for (wire, expected, why) in cases {
            assert_eq!(ResourceType::parse(wire), expected, "{why}");
        }
        assert_eq!(ResourceType::parse("Worker").as_str(), "worker");
    }
}
