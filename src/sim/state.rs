//! What the engine holds: one [`Space`] per workspace, with its activities, workers, queues,
//! Workflows, tasks, reservations and events, each in creation order (the order TaskRouter's
//! lists answer in) and found by SID through an index.
//!
//! The workers' and queues' routing side (attributes, activity, `target_workers`) lives in the
//! space's [`workflow::Workspace`], the view `src/workflow` routes
//! against, kept up to date in place: worker `i` of [`Space::workers`] is worker `i` of the
//! view, and likewise for queues. Nothing is stored twice.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use crate::instruction::HttpUrl;
use crate::rest::resources::ReservationStatus;
use crate::sid::{
    ActivitySid, EventSid, ReservationSid, TaskChannelSid, TaskQueueSid, TaskSid, WorkerChannelSid,
    WorkerSid, WorkflowSid, WorkspaceSid,
};
use crate::workflow::step::Place;
use crate::workflow::{self, Workflow};

/// Items kept in creation order and found by SID.
#[derive(Debug, Clone)]
pub(crate) struct Table<K, V> {
    items: Vec<V>,
    index: HashMap<K, usize>,
}

impl<K: Eq + Hash + Clone, V> Default for Table<K, V> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Clone, V> Table<K, V> {
    /// Adds `item` under `key`; its position.
    pub(crate) fn push(&mut self, key: K, item: V) -> usize {
        let at = self.items.len();
        self.items.push(item);
        self.index.insert(key, at);
        at
    }

    /// The position of `key`.
    pub(crate) fn find(&self, key: &K) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// The item at `at`.
    pub(crate) fn at(&self, at: usize) -> &V {
        &self.items[at]
    }

    /// The item at `at`, to change.
    pub(crate) fn at_mut(&mut self, at: usize) -> &mut V {
        &mut self.items[at]
    }

    /// The item under `key`.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.find(key).map(|at| &self.items[at])
    }

    /// Every item, in creation order.
    pub(crate) fn all(&self) -> &[V] {
        &self.items
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

/// How a queue hands out its tasks at equal priority (`task_queue_enum_task_order`), and which
/// kind of queue a workspace serves first (`workspace_enum_queue_order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first (TaskRouter's default).
    Fifo,
    /// Newest first.
    Lifo,
}

impl Order {
    /// `FIFO` or `LIFO`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fifo => "FIFO",
            Self::Lifo => "LIFO",
        }
    }

    /// Reads `FIFO` or `LIFO`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "FIFO" => Some(Self::Fifo),
            "LIFO" => Some(Self::Lifo),
            _ => None,
        }
    }
}

/// A task's assignment status (`task_enum_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskStatus {
    /// Waiting in a routing step for a worker.
    Pending,
    /// Offered: one or more reservations are pending.
    Reserved,
    /// A worker accepted it.
    Assigned,
    /// The worker is wrapping it up.
    Wrapping,
    /// Done.
    Completed,
    /// Canceled: through REST, by its TTL, by the Workflow, or after 1,000 reservations.
    Canceled,
}

impl TaskStatus {
    /// The status as TaskRouter writes it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Reserved => "reserved",
            Self::Assigned => "assigned",
            Self::Wrapping => "wrapping",
            Self::Completed => "completed",
            Self::Canceled => "canceled",
        }
    }

    /// Reads a status as TaskRouter writes it.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Reserved,
            Self::Assigned,
            Self::Wrapping,
            Self::Completed,
            Self::Canceled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    /// Whether the task still waits for a worker (pending or reserved).
    pub(crate) fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Reserved)
    }
}

/// A workspace and everything in it.
#[derive(Debug, Clone)]
pub(crate) struct Space {
    pub(crate) sid: WorkspaceSid,
    pub(crate) friendly_name: String,
    pub(crate) event_callback_url: Option<HttpUrl>,
    /// `EventsFilter` as given, and its items; `None`: every event.
    pub(crate) events_filter: Option<(String, Vec<String>)>,
    pub(crate) default_activity: ActivitySid,
    pub(crate) timeout_activity: ActivitySid,
    pub(crate) multi_task_enabled: bool,
    pub(crate) prioritize_queue_order: Order,
    pub(crate) created: Timestamp,
    pub(crate) updated: Timestamp,
    pub(crate) activities: Table<ActivitySid, Activity>,
    pub(crate) channels: Table<TaskChannelSid, Channel>,
    pub(crate) workers: Table<WorkerSid, WorkerState>,
    pub(crate) queues: Table<TaskQueueSid, QueueState>,
    pub(crate) workflows: Table<WorkflowSid, WorkflowState>,
    pub(crate) tasks: Table<TaskSid, TaskState>,
    pub(crate) reservations: Table<ReservationSid, ReservationState>,
    pub(crate) events: Table<EventSid, EventRecord>,
    /// The workers' and queues' routing side, aligned with `workers` and `queues`.
    pub(crate) routing: workflow::Workspace,
    /// The tasks waiting for a worker (pending or reserved), by position.
    pub(crate) open: BTreeSet<usize>,
}

impl Space {
    /// The activity with this SID; every SID a space holds names one of its activities.
    pub(crate) fn activity(&self, sid: &ActivitySid) -> Option<&Activity> {
        self.activities.get(sid)
    }

    /// The routing side of worker `at`.
    pub(crate) fn routing_worker(&self, at: usize) -> &workflow::Worker {
        &self.routing.workers().unwrap_or_default()[at]
    }

    /// The routing side of queue `at`.
    pub(crate) fn routing_queue(&self, at: usize) -> &workflow::Queue {
        &self.routing.queues()[at]
    }

    /// The channel with this unique name.
    pub(crate) fn channel_named(&self, name: &str) -> Option<&Channel> {
        self.channels
            .all()
            .iter()
            .find(|channel| channel.unique_name == name)
    }
}

/// An activity (`WA…`).
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    pub(crate) sid: ActivitySid,
    pub(crate) friendly_name: String,
    pub(crate) available: bool,
    pub(crate) created: Timestamp,
    pub(crate) updated: Timestamp,
}

/// A task channel (`TC…`).
#[derive(Debug, Clone)]
pub(crate) struct Channel {
    pub(crate) sid: TaskChannelSid,
    pub(crate) unique_name: String,
    pub(crate) friendly_name: String,
    pub(crate) created: Timestamp,
}

/// A worker's non-routing side; its attributes and name are in [`Space::routing`].
#[derive(Debug, Clone)]
pub(crate) struct WorkerState {
    pub(crate) sid: WorkerSid,
    pub(crate) activity: ActivitySid,
    /// The attributes as given (TaskRouter answers them as the string it was sent).
    pub(crate) attributes_text: String,
    pub(crate) created: Timestamp,
    pub(crate) updated: Timestamp,
    /// When the activity last changed.
    pub(crate) status_changed: Timestamp,
    /// Since when it has had nothing to do: its activity changed, or a reservation or task of
    /// its ended. Who has been idle longest is offered a task first.
    pub(crate) idle_since: Timestamp,
    /// One per workspace channel, in the workspace's order.
    pub(crate) channels: Vec<WorkerChannel>,
}

impl WorkerState {
    /// The channel called `name`.
    pub(crate) fn channel(&self, name: &str) -> Option<&WorkerChannel> {
        self.channels
            .iter()
            .find(|channel| channel.unique_name == name)
    }

    /// The channel called `name`, to change.
    pub(crate) fn channel_mut(&mut self, name: &str) -> Option<&mut WorkerChannel> {
        self.channels
            .iter_mut()
            .find(|channel| channel.unique_name == name)
    }

    /// Reservations pending plus tasks held, over every channel.
    pub(crate) fn total_load(&self) -> u32 {
        self.channels.iter().map(|channel| channel.load).sum()
    }
}

/// A worker's capacity on one channel (`WC…`).
#[derive(Debug, Clone)]
pub(crate) struct WorkerChannel {
    pub(crate) sid: WorkerChannelSid,
    pub(crate) channel: TaskChannelSid,
    pub(crate) unique_name: String,
    /// How many tasks of this channel it takes at once.
    pub(crate) capacity: u32,
    /// Whether it takes this channel's tasks at all.
    pub(crate) available: bool,
    /// Its pending reservations and accepted, unfinished tasks on this channel.
    pub(crate) load: u32,
    pub(crate) created: Timestamp,
    pub(crate) updated: Timestamp,
}

/// A queue's non-routing side; its `target_workers` and name are in [`Space::routing`].
#[derive(Debug, Clone)]
pub(crate) struct QueueState {
    pub(crate) sid: TaskQueueSid,
    pub(crate) max_reserved_workers: u32,
    pub(crate) task_order: Order,
    pub(crate) created: Timestamp,
    pub(crate) updated: Timestamp,
}

/// A Workflow.
#[derive(Debug, Clone)]
pub(crate) struct WorkflowState {
    pub(crate) sid: WorkflowSid,
    pub(crate) friendly_name: String,
    /// `Configuration` as given.
    pub(crate) configuration_text: String,
    /// It parsed; shared with the tasks it routes, which keep the one they started with.
    pub(crate) configuration: Arc<Workflow>,
    pub(crate) assignment_callback_url: Option<HttpUrl>,
    pub(crate) fallback_assignment_callback_url: Option<HttpUrl>,
    /// `TaskReservationTimeout`, seconds.
    pub(crate) task_reservation_timeout: u32,
    pub(crate) created: Timestamp,
    pub(crate) updated: Timestamp,
}

/// Where a task is in its Workflow.
#[derive(Debug, Clone)]
pub(crate) struct Walk {
    /// The configuration it walks (the Workflow's when it was routed).
    pub(crate) configuration: Arc<Workflow>,
    /// The step it waits in; `None`: no filter took it and there is no `default_filter`.
    pub(crate) place: Option<Place>,
    /// The task's age when the step times out; `None`: never (until the TTL).
    pub(crate) until: Option<u64>,
    /// Bumped at every move, so a step timer set for an earlier step is ignored.
    pub(crate) epoch: u64,
}

/// A task.
#[derive(Debug, Clone)]
pub(crate) struct TaskState {
    pub(crate) sid: TaskSid,
    pub(crate) workflow: WorkflowSid,
    pub(crate) channel: TaskChannelSid,
    pub(crate) attributes: Value,
    pub(crate) attributes_text: String,
    /// Its own priority, as created or updated.
    pub(crate) own_priority: i64,
    /// Its priority now: a routing step's `priority` replaces the task's own while it is there.
    pub(crate) priority: i64,
    /// `Timeout` (TTL), seconds.
    pub(crate) timeout: u32,
    pub(crate) status: TaskStatus,
    pub(crate) reason: Option<String>,
    pub(crate) created: Timestamp,
    pub(crate) updated: Timestamp,
    pub(crate) virtual_start: Timestamp,
    pub(crate) queue: Option<TaskQueueSid>,
    pub(crate) queue_entered: Option<Timestamp>,
    pub(crate) walk: Walk,
    /// Reservations pending now, by position.
    pub(crate) pending: Vec<usize>,
    /// The accepted reservation.
    pub(crate) accepted: Option<usize>,
    /// How many times it went from pending to reserved.
    pub(crate) reserved_times: u32,
    /// Bumped at every change: the `ETag` an `If-Match` is compared with.
    pub(crate) version: u64,
    /// `IgnoreCapacity` and `RoutingTarget`, kept and answered, not acted on.
    pub(crate) ignore_capacity: bool,
    pub(crate) routing_target: Option<String>,
}

/// A reservation.
#[derive(Debug, Clone)]
pub(crate) struct ReservationState {
    pub(crate) sid: ReservationSid,
    pub(crate) task: usize,
    pub(crate) worker: usize,
    pub(crate) queue: TaskQueueSid,
    pub(crate) channel: String,
    pub(crate) status: ReservationStatus,
    pub(crate) created: Timestamp,
    pub(crate) updated: Timestamp,
    /// The assignment callback's parameters, sent again as they were to the fallback URL.
    pub(crate) callback: Vec<(String, String)>,
    /// The activity an instruction asked for once the call ends; applied when the task ends.
    pub(crate) post_work_activity: Option<ActivitySid>,
}

/// An event, as listed by the Events API and posted to the `EventCallbackUrl`.
#[derive(Debug, Clone)]
pub(crate) struct EventRecord {
    pub(crate) sid: EventSid,
    pub(crate) event_type: EventType,
    pub(crate) date: Timestamp,
    pub(crate) description: String,
    /// `task`, `reservation`, `worker`, `taskqueue`, `workflow`.
    pub(crate) resource_type: &'static str,
    pub(crate) resource_sid: String,
    /// The path of the resource under the base URL.
    pub(crate) resource_path: String,
    pub(crate) task: Option<TaskSid>,
    pub(crate) worker: Option<WorkerSid>,
    pub(crate) reservation: Option<ReservationSid>,
    pub(crate) queue: Option<TaskQueueSid>,
    pub(crate) workflow: Option<WorkflowSid>,
    pub(crate) channel: Option<String>,
    /// The fields of its type, PascalCase as posted (docs/taskrouter.md §6), in order.
    pub(crate) data: Vec<(&'static str, String)>,
}

/// The event types the simulator emits (docs/taskrouter.md §12's list; the others are never
/// emitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `task.created`
    TaskCreated,
    /// `task.updated`
    TaskUpdated,
    /// `task.canceled`
    TaskCanceled,
    /// `task.wrapup`
    TaskWrapup,
    /// `task.completed`
    TaskCompleted,
    /// `reservation.created`
    ReservationCreated,
    /// `reservation.accepted`
    ReservationAccepted,
    /// `reservation.rejected`
    ReservationRejected,
    /// `reservation.timeout`
    ReservationTimeout,
    /// `reservation.canceled`
    ReservationCanceled,
    /// `reservation.rescinded`
    ReservationRescinded,
    /// `reservation.completed`
    ReservationCompleted,
    /// `reservation.wrapup`
    ReservationWrapup,
    /// `task-queue.entered`
    TaskQueueEntered,
    /// `task-queue.timeout`
    TaskQueueTimeout,
    /// `workflow.entered`
    WorkflowEntered,
    /// `workflow.target-matched`
    WorkflowTargetMatched,
    /// `workflow.timeout`
    WorkflowTimeout,
    /// `workflow.skipped`
    WorkflowSkipped,
    /// `worker.activity.update`
    WorkerActivityUpdate,
    /// `worker.attributes.update`
    WorkerAttributesUpdate,
}

impl EventType {
    /// Every type, for reading a filter.
    pub const ALL: [EventType; 21] = [
        Self::TaskCreated,
        Self::TaskUpdated,
        Self::TaskCanceled,
        Self::TaskWrapup,
        Self::TaskCompleted,
        Self::ReservationCreated,
        Self::ReservationAccepted,
        Self::ReservationRejected,
        Self::ReservationTimeout,
        Self::ReservationCanceled,
        Self::ReservationRescinded,
        Self::ReservationCompleted,
        Self::ReservationWrapup,
        Self::TaskQueueEntered,
        Self::TaskQueueTimeout,
        Self::WorkflowEntered,
        Self::WorkflowTargetMatched,
        Self::WorkflowTimeout,
        Self::WorkflowSkipped,
        Self::WorkerActivityUpdate,
        Self::WorkerAttributesUpdate,
    ];

    /// The type as TaskRouter writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TaskCreated => "task.created",
            Self::TaskUpdated => "task.updated",
            Self::TaskCanceled => "task.canceled",
            Self::TaskWrapup => "task.wrapup",
            Self::TaskCompleted => "task.completed",
            Self::ReservationCreated => "reservation.created",
            Self::ReservationAccepted => "reservation.accepted",
            Self::ReservationRejected => "reservation.rejected",
            Self::ReservationTimeout => "reservation.timeout",
            Self::ReservationCanceled => "reservation.canceled",
            Self::ReservationRescinded => "reservation.rescinded",
            Self::ReservationCompleted => "reservation.completed",
            Self::ReservationWrapup => "reservation.wrapup",
            Self::TaskQueueEntered => "task-queue.entered",
            Self::TaskQueueTimeout => "task-queue.timeout",
            Self::WorkflowEntered => "workflow.entered",
            Self::WorkflowTargetMatched => "workflow.target-matched",
            Self::WorkflowTimeout => "workflow.timeout",
            Self::WorkflowSkipped => "workflow.skipped",
            Self::WorkerActivityUpdate => "worker.activity.update",
            Self::WorkerAttributesUpdate => "worker.attributes.update",
        }
    }

    /// The resource an event of this type is about, as `ResourceType` names it.
    pub(crate) fn resource_type(self) -> &'static str {
        match self.as_str().split('.').next() {
            Some("reservation") => "reservation",
            Some("task-queue") => "taskqueue",
            Some("workflow") => "workflow",
            Some("worker") => "worker",
            _ => "task",
        }
    }
}
