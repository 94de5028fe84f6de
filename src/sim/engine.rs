//! The simulator's engine: TaskRouter's state and its timers, advanced only when told, deciding
//! with `src/workflow` and `src/expression`, answering with values.
//!
//! It is a discrete-event simulation: one time-ordered queue of timers (ties
//! broken by the order they were set), state that changes only when a command comes in or a
//! timer fires, and a seeded random source for SIDs, so the same commands give the same state,
//! SIDs included. Time enters through one seam: [`Engine::advance_to`] (or
//! [`Engine::fire_next`], one timer at a time); every command acts at [`Engine::now`].
//!
//! Nothing here does I/O. What should happen outside (an assignment callback to POST, an event
//! to post to the `EventCallbackUrl`, a line of narration) is an [`Effect`], collected until
//! [`Engine::take_effects`]; the callback's answer comes back as a command
//! ([`Engine::callback_answered`], [`Engine::callback_failed`]).
//!
//! # What it reproduces (docs/taskrouter.md §3, docs/taskrouter.md §9, docs/taskrouter.md §12)
//!
//! - A new task enters its Workflow: [`Workflow::arrive`] walks it to the step it waits in
//!   (filters in order, `skip_if` evaluated only when no worker can be reserved at once, a
//!   step's timeout counted from the task's age and summed across steps); the step's `priority`
//!   replaces the task's while it is there. Each step timeout moves it on with
//!   [`Workflow::timed_out`]; falling off the last filter cancels it (`workflow.timeout`).
//! - A waiting task is offered to the step's workers ([`Workflow::admits`]: the queue's
//!   `TargetWorkers`, the target's `expression`, a known worker) that can take it now: an
//!   available activity, room on the task's channel (with multitasking, each channel's
//!   capacity, `default` 1; without, one task at a time), no reservation of this task pending
//!   already. Order: `order_by`, then the worker idle longest. Up to the queue's
//!   `MaxReservedWorkers` reservations are pending at once.
//! - When a worker becomes free (an available activity, a reservation or task of theirs ending,
//!   new attributes), the tasks waiting that it qualifies for are offered to it: highest priority
//!   first, then by age (the queue's `TaskOrder`: oldest first, or newest with `LIFO`).
//! - A reservation waits for the Workflow's `TaskReservationTimeout`. Accepted: the task is
//!   assigned and the other pending reservations are rescinded. Rejected: the worker moves to
//!   the activity given (REST may give none) and the task is offered again. Timed out: the worker
//!   moves to the workspace's `TimeoutActivitySid` and the task is offered again. A step timeout
//!   that passes while the task is reserved takes effect when its reservations end (the
//!   task-evaluation page's worked example, docs/taskrouter.md §12).
//! - A task's `Timeout` (TTL) cancels it while it waits; so does its 1,000th reservation.
//! - `dequeue`, `call`, `redirect` and `conference` are recorded, not performed: their telephony
//!   is outside the simulation; `dequeue` and `conference` accept, `call` and `redirect` accept
//!   when their `accept` says so, and a `post_work_activity_sid` is applied when the task ends.
//! - Events are emitted in the order measured on a live account (docs/taskrouter.md §12): at
//!   creation `workflow.entered`, `task-queue.entered`, `task.created`, `workflow.target-matched`, then
//!   `reservation.created`; on completion `task.completed`, `reservation.completed`,
//!   `task.updated`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::str::FromStr;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::expression::Expression;
use crate::instruction::{Answer, HttpUrl, Instruction};
use crate::rest::resources::{EventsFilter, MAX_TASK_TIMEOUT, ReservationStatus};
use crate::sid::{
    AccountSid, ActivitySid, ReservationSid, SidError, TaskChannelSid, TaskQueueSid, TaskSid,
    WorkerSid, WorkflowSid, WorkspaceSid,
};
use crate::time_of_day::TimeOfDay;
use crate::workflow::step::{Place, offer_order};
use crate::workflow::walk::{Cause, Entry, Move, Progress, Rest};
use crate::workflow::{self, Workflow};

use super::events::{self, EventType};
use super::state::{
    Activity, Channel, EventRecord, Order, QueueState, ReservationState, Space, Table, TaskState,
    TaskStatus, Walk, WorkerChannel, WorkerState, WorkflowState,
};

/// The longest attributes of a task or a worker, in characters (docs/taskrouter.md §12).
pub const MAX_ATTRIBUTES: usize = 4096;
/// A task's `Timeout` when none is given, in seconds (`CreateTask`, docs/taskrouter.md §7).
pub const DEFAULT_TASK_TIMEOUT: u32 = 86_400;
/// A Workflow's `TaskReservationTimeout` when none is given, in seconds (docs/taskrouter.md §3).
pub const DEFAULT_RESERVATION_TIMEOUT: u32 = 120;
/// The longest `TaskReservationTimeout`, in seconds (docs/taskrouter.md §3).
pub const MAX_RESERVATION_TIMEOUT: u32 = 86_400;
/// The most reservations a queue holds pending for one task (`MaxReservedWorkers`,
/// docs/taskrouter.md §12).
pub const MAX_RESERVED_WORKERS: u32 = 50;
/// After this many reservations a task is canceled (docs/taskrouter.md §12).
pub const MAX_RESERVATIONS_PER_TASK: u32 = 1_000;
/// The channels every workspace has, unique name and friendly name. TaskRouter creates these
/// in a new workspace; a worker takes one task at a time on each unless told otherwise.
pub const CHANNELS: [(&str, &str); 6] = [
    ("default", "Default"),
    ("voice", "Voice"),
    ("chat", "Chat"),
    ("sms", "SMS"),
    ("video", "Video"),
    ("email", "Email"),
];
/// The activities a workspace created over REST starts with: name and availability. The first
/// is its default and its timeout activity.
pub const DEFAULT_ACTIVITIES: [(&str, bool); 3] = [
    ("Offline", false),
    ("Available", true),
    ("Unavailable", false),
];
/// The largest task priority (docs/taskrouter.md §1).
const MAX_PRIORITY: i64 = i32::MAX as i64;

/// A command the engine refuses. Each variant's doc gives the HTTP status and Twilio error
/// code the REST layer answers with ([`SimError::status`], [`SimError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// `404`, `20404`: no such resource (Twilio's "The requested resource … was not found").
    #[error("the requested resource {path} was not found")]
    NotFound {
        /// The resource's path, e.g. `/Workspaces/WS…/Tasks/WT…`.
        path: String,
    },
    /// `400`, `20001`: a parameter is missing or invalid.
    #[error("{parameter}: {reason}")]
    Invalid {
        /// The form parameter, PascalCase.
        parameter: &'static str,
        /// What is wrong and what to send instead.
        reason: String,
    },
    /// `400`, `20001`: the reservation has left `pending` (docs/taskrouter.md §12: "not in expected
    /// state \[pending\]").
    #[error(
        "reservation {reservation} is {status}, not in expected state [pending]: only a pending reservation can be accepted, rejected or given an instruction"
    )]
    NotPending {
        /// The reservation.
        reservation: ReservationSid,
        /// Its status.
        status: ReservationStatus,
    },
    /// `400`, `20001`: the task's status does not allow the change.
    #[error("task {task} is {status}: {reason}")]
    TaskState {
        /// The task.
        task: TaskSid,
        /// Its status.
        status: &'static str,
        /// What is allowed.
        reason: &'static str,
    },
    /// `412`, `20001`: `If-Match` names another version of the task.
    #[error(
        "task {task} is at version {current}, not {given}: fetch it again and retry with its ETag"
    )]
    Version {
        /// The task.
        task: TaskSid,
        /// Its version (the `ETag`).
        current: u64,
        /// The `If-Match` sent.
        given: String,
    },
}

impl SimError {
    /// The HTTP status the REST layer answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound { .. } => 404,
            Self::Version { .. } => 412,
            Self::Invalid { .. } | Self::NotPending { .. } | Self::TaskState { .. } => 400,
        }
    }

    /// Twilio's error code.
    pub fn code(&self) -> u32 {
        match self {
            Self::NotFound { .. } => 20404,
            _ => 20001,
        }
    }

    fn invalid(parameter: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            parameter,
            reason: reason.into(),
        }
    }
}

/// Which URL an assignment callback goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The Workflow's `AssignmentCallbackUrl`.
    Primary,
    /// Its `FallbackAssignmentCallbackUrl`, after the first gave no usable answer.
    Fallback,
}

/// An assignment callback to POST (docs/taskrouter.md §1), signed by the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The workspace.
    pub workspace: WorkspaceSid,
    /// The reservation it is about.
    pub reservation: ReservationSid,
    /// Which URL.
    pub attempt: Attempt,
    /// The URL, exactly as configured.
    pub url: HttpUrl,
    /// The form parameters, in docs/taskrouter.md's order.
    pub params: Vec<(String, String)>,
}

/// An event that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurred {
    /// The workspace.
    pub workspace: WorkspaceSid,
    /// Its type.
    pub event_type: EventType,
    /// What happened, in a sentence (names and SIDs, never attributes).
    pub description: String,
    /// Where to post it, when the workspace has an `EventCallbackUrl` and its `EventsFilter`
    /// lets the type through: the URL and the form parameters.
    pub delivery: Option<(HttpUrl, Vec<(String, String)>)>,
}

/// What should happen outside the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// POST an assignment callback and report its answer.
    Callback(Callback),
    /// An event happened (and may be posted).
    Event(Occurred),
    /// Something worth a line of narration that is not an event (telephony recorded rather than
    /// performed, a task no filter takes).
    Note(String),
}

/// How an update reaches a reservation: through its task or its worker (docs/taskrouter.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Through<'a> {
    /// `…/Tasks/{WT}/Reservations/{WR}`.
    Task(&'a TaskSid),
    /// `…/Workers/{WK}/Reservations/{WR}`.
    Worker(&'a WorkerSid),
}

/// A change to a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReservationUpdate {
    /// An instruction, from a callback answer or a REST update (read by [`Instruction`]).
    Instruction(Instruction),
    /// `ReservationStatus=rejected` without `WorkerActivitySid`: the worker keeps its activity.
    RejectInPlace,
    /// `ReservationStatus=wrapping` on an accepted reservation.
    Wrapping,
    /// `ReservationStatus=completed` on an accepted or wrapping reservation.
    Completed,
}

/// A new workspace (`CreateWorkspace`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewWorkspace {
    /// `FriendlyName`.
    pub friendly_name: String,
    /// `EventCallbackUrl`.
    pub event_callback_url: Option<HttpUrl>,
    /// `EventsFilter`.
    pub events_filter: Option<String>,
    /// `MultiTaskEnabled` (default true).
    pub multi_task_enabled: Option<bool>,
    /// `PrioritizeQueueOrder` (default FIFO).
    pub prioritize_queue_order: Option<Order>,
}

/// Changes to a workspace (`UpdateWorkspace`); `None` leaves a field alone, an empty URL or
/// filter clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceChanges {
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// `EventCallbackUrl`; `Some(None)` clears it.
    pub event_callback_url: Option<Option<HttpUrl>>,
    /// `EventsFilter`; `Some(None)` clears it.
    pub events_filter: Option<Option<String>>,
    /// `DefaultActivitySid`.
    pub default_activity: Option<ActivitySid>,
    /// `TimeoutActivitySid`.
    pub timeout_activity: Option<ActivitySid>,
    /// `MultiTaskEnabled`.
    pub multi_task_enabled: Option<bool>,
    /// `PrioritizeQueueOrder`.
    pub prioritize_queue_order: Option<Order>,
}

/// A new worker (`CreateWorker`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewWorker {
    /// Its SID, when the caller chooses it (a workspace document); otherwise one is made.
    pub sid: Option<WorkerSid>,
    /// `FriendlyName`.
    pub friendly_name: String,
    /// `ActivitySid` (default: the workspace's default activity).
    pub activity: Option<ActivitySid>,
    /// `Attributes`, a JSON object as text (default `{}`).
    pub attributes: Option<String>,
    /// Capacities by channel unique name (the others: 1).
    pub capacities: Vec<(String, u32)>,
}

/// Changes to a worker (`UpdateWorker`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerChanges {
    /// `ActivitySid`.
    pub activity: Option<ActivitySid>,
    /// `Attributes`.
    pub attributes: Option<String>,
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// `RejectPendingReservations`: with an unavailable activity, reject what is pending.
    pub reject_pending_reservations: bool,
}

/// A new task queue (`CreateTaskQueue`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewQueue {
    /// Its SID, when the caller chooses it.
    pub sid: Option<TaskQueueSid>,
    /// `FriendlyName`.
    pub friendly_name: String,
    /// `TargetWorkers` (default `1==1`).
    pub target_workers: Option<String>,
    /// `MaxReservedWorkers` (default 1).
    pub max_reserved_workers: Option<u32>,
    /// `TaskOrder` (default FIFO).
    pub task_order: Option<Order>,
}

/// Changes to a task queue (`UpdateTaskQueue`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueChanges {
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// `TargetWorkers`.
    pub target_workers: Option<String>,
    /// `MaxReservedWorkers`.
    pub max_reserved_workers: Option<u32>,
    /// `TaskOrder`.
    pub task_order: Option<Order>,
}

/// A new Workflow (`CreateWorkflow`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewWorkflow {
    /// Its SID, when the caller chooses it.
    pub sid: Option<WorkflowSid>,
    /// `FriendlyName`.
    pub friendly_name: String,
    /// `Configuration`, the routing document as text (docs/taskrouter.md §9).
    pub configuration: String,
    /// `AssignmentCallbackUrl`.
    pub assignment_callback_url: Option<HttpUrl>,
    /// `FallbackAssignmentCallbackUrl`.
    pub fallback_assignment_callback_url: Option<HttpUrl>,
    /// `TaskReservationTimeout` (default 120).
    pub task_reservation_timeout: Option<u32>,
}

/// Changes to a Workflow (`UpdateWorkflow`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkflowChanges {
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// `Configuration`.
    pub configuration: Option<String>,
    /// `AssignmentCallbackUrl`; `Some(None)` clears it.
    pub assignment_callback_url: Option<Option<HttpUrl>>,
    /// `FallbackAssignmentCallbackUrl`; `Some(None)` clears it.
    pub fallback_assignment_callback_url: Option<Option<HttpUrl>>,
    /// `TaskReservationTimeout`.
    pub task_reservation_timeout: Option<u32>,
    /// `ReEvaluateTasks`: route the tasks waiting without a reservation again with the new
    /// configuration (otherwise tasks keep the configuration they started with).
    pub re_evaluate_tasks: bool,
}

/// A new task (`CreateTask`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewTask {
    /// `Attributes`, a JSON object as text (default `{}`).
    pub attributes: Option<String>,
    /// `WorkflowSid` (may be left out when the workspace has one Workflow).
    pub workflow: Option<WorkflowSid>,
    /// `Priority` (default 0).
    pub priority: Option<i64>,
    /// `Timeout`, seconds (default 86,400).
    pub timeout: Option<u32>,
    /// `TaskChannel`: a unique name or a `TC…` SID (default `default`).
    pub channel: Option<String>,
    /// `VirtualStartTime`: its place in line (default: now).
    pub virtual_start_time: Option<Timestamp>,
    /// `RoutingTarget`, kept and answered.
    pub routing_target: Option<String>,
    /// `IgnoreCapacity`, kept and answered.
    pub ignore_capacity: Option<bool>,
}

/// Changes to a task (`UpdateTask`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    /// `Attributes`.
    pub attributes: Option<String>,
    /// `AssignmentStatus`: `canceled`, `wrapping` or `completed`.
    pub assignment_status: Option<String>,
    /// `Reason`.
    pub reason: Option<String>,
    /// `Priority`.
    pub priority: Option<i64>,
    /// The `If-Match` header.
    pub if_match: Option<String>,
}

/// A timer: when it fires, in what order among those set for the same instant, and what.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    at: Timestamp,
    seq: u64,
    kind: TimerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKind {
    /// A task's step times out, unless it has moved on since (`epoch`).
    Step {
        space: usize,
        task: usize,
        epoch: u64,
    },
    /// A reservation times out, unless it has ended.
    Reservation { space: usize, reservation: usize },
    /// A task's TTL passes.
    Ttl { space: usize, task: usize },
}

/// What an event is about, for its fields and resource.
#[derive(Debug, Clone, Default)]
struct About {
    task: Option<usize>,
    worker: Option<usize>,
    reservation: Option<usize>,
    queue: Option<TaskQueueSid>,
    extra: Vec<(&'static str, String)>,
}

/// TaskRouter for one account, in memory.
#[derive(Debug)]
pub struct Engine {
    account: AccountSid,
    now: Timestamp,
    random: fastrand::Rng,
    spaces: Table<WorkspaceSid, Space>,
    timers: BinaryHeap<Reverse<Timer>>,
    timer_seq: u64,
    effects: Vec<Effect>,
}

impl Engine {
    /// An engine for `account` whose clock reads `start`, making SIDs from `seed`.
    pub fn new(account: AccountSid, start: Timestamp, seed: u64) -> Self {
        Self {
            account,
            now: start,
            random: fastrand::Rng::with_seed(seed),
            spaces: Table::default(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            effects: Vec::new(),
        }
    }

    /// The account.
    pub fn account(&self) -> &AccountSid {
        &self.account
    }

    /// The engine's clock.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// When the next timer fires, if any is set.
    pub fn next_timer(&self) -> Option<Timestamp> {
        self.timers.peek().map(|Reverse(timer)| timer.at)
    }

    /// Fires every timer due up to `instant` in order, then sets the clock to `instant` (the
    /// clock never goes back). Effects collect as for commands.
    pub fn advance_to(&mut self, instant: Timestamp) {
        while self.fire_next(instant) {}
        self.now = self.now.max(instant);
    }

    /// Fires the earliest timer if it is due by `until`, moving the clock to its instant;
    /// `false` when none is. A transport that must act on each timer's effects before the next
    /// fires (deliver a callback, apply its answer) calls this in a loop.
    pub fn fire_next(&mut self, until: Timestamp) -> bool {
        let due = self
            .timers
            .peek()
            .is_some_and(|Reverse(timer)| timer.at <= until);
        if !due {
            return false;
        }
        let Some(Reverse(timer)) = self.timers.pop() else {
            return false;
        };
        self.now = self.now.max(timer.at);
        match timer.kind {
            TimerKind::Step { space, task, epoch } => self.step_timed_out(space, task, epoch),
            TimerKind::Reservation { space, reservation } => {
                self.reservation_timed_out(space, reservation);
            }
            TimerKind::Ttl { space, task } => {
                if self.spaces.at(space).tasks.at(task).status.is_open() {
                    self.cancel(space, task, "Task TTL Exceeded");
                }
            }
        }
        true
    }

    /// The effects collected since the last call, in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// The workspaces, in creation order.
    pub(crate) fn spaces(&self) -> &[Space] {
        self.spaces.all()
    }

    /// The workspace `sid`.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`].
    pub(crate) fn space(&self, sid: &WorkspaceSid) -> Result<&Space, SimError> {
        self.spaces.get(sid).ok_or_else(|| SimError::NotFound {
            path: format!("/Workspaces/{sid}"),
        })
    }

    fn space_index(&self, sid: &WorkspaceSid) -> Result<usize, SimError> {
        self.spaces.find(sid).ok_or_else(|| SimError::NotFound {
            path: format!("/Workspaces/{sid}"),
        })
    }

    /// A new SID of type `T` (prefix + 32 hex digits from the seeded source).
    fn sid<T: FromStr<Err = SidError>>(&mut self, prefix: &str) -> T {
        let text = format!("{prefix}{:032x}", self.random.u128(..));
        match T::from_str(&text) {
            Ok(sid) => sid,
            Err(_) => unreachable!("a prefix and 32 lower-case hex digits is a SID"),
        }
    }

    fn set_timer(&mut self, at: Timestamp, kind: TimerKind) {
        self.timer_seq += 1;
        self.timers.push(Reverse(Timer {
            at,
            seq: self.timer_seq,
            kind,
        }));
    }

    // ---- Workspaces -------------------------------------------------------------------------

    /// `CreateWorkspace`: with the default channels and activities (`Offline`, its default and
    /// timeout activity; `Available`; `Unavailable`).
    ///
    /// # Errors
    ///
    /// [`SimError::Invalid`] for an empty name, an invalid `EventsFilter`.
    pub fn create_workspace(&mut self, new: NewWorkspace) -> Result<WorkspaceSid, SimError> {
        let sid: WorkspaceSid = self.sid("WS");
        let offline: ActivitySid = self.sid("WA");
        let mut space = self.new_space(sid.clone(), &new.friendly_name, offline.clone())?;
        space.event_callback_url = new.event_callback_url;
        space.events_filter = events_filter(new.events_filter.as_deref())?;
        space.multi_task_enabled = new.multi_task_enabled.unwrap_or(true);
        space.prioritize_queue_order = new.prioritize_queue_order.unwrap_or(Order::Fifo);
        for (at, (name, available)) in DEFAULT_ACTIVITIES.into_iter().enumerate() {
            let sid = if at == 0 {
                offline.clone()
            } else {
                self.sid("WA")
            };
            let activity = Activity {
                sid: sid.clone(),
                friendly_name: name.to_owned(),
                available,
                created: self.now,
                updated: self.now,
            };
            space.activities.push(sid, activity);
        }
        self.spaces.push(sid.clone(), space);
        Ok(sid)
    }

    /// A workspace with its channels and nothing else; `activity` is its default and timeout
    /// activity, which the caller adds.
    pub(crate) fn new_space(
        &mut self,
        sid: WorkspaceSid,
        friendly_name: &str,
        activity: ActivitySid,
    ) -> Result<Space, SimError> {
        let friendly_name = required_name(friendly_name)?;
        let mut channels = Table::default();
        for (unique_name, friendly) in CHANNELS {
            let sid: TaskChannelSid = self.sid("TC");
            channels.push(
                sid.clone(),
                Channel {
                    sid,
                    unique_name: unique_name.to_owned(),
                    friendly_name: friendly.to_owned(),
                    created: self.now,
                },
            );
        }
        Ok(Space {
            sid,
            friendly_name,
            event_callback_url: None,
            events_filter: None,
            default_activity: activity.clone(),
            timeout_activity: activity,
            multi_task_enabled: true,
            prioritize_queue_order: Order::Fifo,
            created: self.now,
            updated: self.now,
            activities: Table::default(),
            channels,
            workers: Table::default(),
            queues: Table::default(),
            workflows: Table::default(),
            tasks: Table::default(),
            reservations: Table::default(),
            events: Table::default(),
            routing: workflow::Workspace::new(Some(Vec::new()), Vec::new()),
            open: Default::default(),
        })
    }

    /// Adds a workspace built elsewhere (a workspace document).
    pub(crate) fn add_space(&mut self, space: Space) -> Result<(), SimError> {
        if self.spaces.find(&space.sid).is_some() {
            return Err(SimError::invalid(
                "Sid",
                format!(
                    "workspace {} exists already: each workspace document needs its own `sid`",
                    space.sid
                ),
            ));
        }
        let sid = space.sid.clone();
        self.spaces.push(sid, space);
        Ok(())
    }

    /// `UpdateWorkspace`.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`]; [`SimError::Invalid`] for an empty name, an invalid filter, an
    /// activity the workspace does not have.
    pub fn update_workspace(
        &mut self,
        ws: &WorkspaceSid,
        changes: WorkspaceChanges,
    ) -> Result<(), SimError> {
        let s = self.space_index(ws)?;
        let filter = match &changes.events_filter {
            Some(filter) => Some(events_filter(filter.as_deref())?),
            None => None,
        };
        let now = self.now;
        let space = self.spaces.at_mut(s);
        for (parameter, activity) in [
            ("DefaultActivitySid", &changes.default_activity),
            ("TimeoutActivitySid", &changes.timeout_activity),
        ] {
            if let Some(activity) = activity
                && space.activity(activity).is_none()
            {
                return Err(unknown_activity(parameter, activity, ws));
            }
        }
        if let Some(name) = changes.friendly_name {
            space.friendly_name = required_name(&name)?;
        }
        if let Some(url) = changes.event_callback_url {
            space.event_callback_url = url;
        }
        if let Some(filter) = filter {
            space.events_filter = filter;
        }
        if let Some(activity) = changes.default_activity {
            space.default_activity = activity;
        }
        if let Some(activity) = changes.timeout_activity {
            space.timeout_activity = activity;
        }
        if let Some(enabled) = changes.multi_task_enabled {
            space.multi_task_enabled = enabled;
        }
        if let Some(order) = changes.prioritize_queue_order {
            space.prioritize_queue_order = order;
        }
        space.updated = now;
        Ok(())
    }

    // ---- Activities -------------------------------------------------------------------------

    /// `CreateActivity`.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`]; [`SimError::Invalid`] for an empty or taken name.
    pub fn create_activity(
        &mut self,
        ws: &WorkspaceSid,
        sid: Option<ActivitySid>,
        friendly_name: &str,
        available: bool,
    ) -> Result<ActivitySid, SimError> {
        let s = self.space_index(ws)?;
        let friendly_name = required_name(friendly_name)?;
        if self
            .spaces
            .at(s)
            .activities
            .all()
            .iter()
            .any(|activity| activity.friendly_name == friendly_name)
        {
            return Err(SimError::invalid(
                "FriendlyName",
                format!(
                    "an activity is already called `{friendly_name}`: activity names are unique in a workspace"
                ),
            ));
        }
        let sid = sid.unwrap_or_else(|| self.sid("WA"));
        let now = self.now;
        self.spaces.at_mut(s).activities.push(
            sid.clone(),
            Activity {
                sid: sid.clone(),
                friendly_name,
                available,
                created: now,
                updated: now,
            },
        );
        Ok(sid)
    }

    /// `UpdateActivity`: its name (availability cannot change once created, as in TaskRouter).
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`]; [`SimError::Invalid`] for an empty name.
    pub fn update_activity(
        &mut self,
        ws: &WorkspaceSid,
        sid: &ActivitySid,
        friendly_name: Option<&str>,
    ) -> Result<(), SimError> {
        let s = self.space_index(ws)?;
        let now = self.now;
        let space = self.spaces.at_mut(s);
        let at = space
            .activities
            .find(sid)
            .ok_or_else(|| SimError::NotFound {
                path: format!("/Workspaces/{ws}/Activities/{sid}"),
            })?;
        if let Some(name) = friendly_name {
            let name = required_name(name)?;
            let activity = space.activities.at_mut(at);
            activity.friendly_name = name.clone();
            activity.updated = now;
            // `worker.activity_name` reads the name.
            for worker in 0..space.workers.len() {
                if &space.workers.at(worker).activity == sid {
                    space.routing.workers_mut()[worker]
                        .set_activity(Some(name.clone()), Some(sid.clone()));
                }
            }
        }
        Ok(())
    }

    // ---- Workers ----------------------------------------------------------------------------

    /// `CreateWorker`. An available worker is offered the tasks waiting for it at once.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`]; [`SimError::Invalid`] for an empty name, attributes that are not
    /// a JSON object (or too long), an unknown activity or channel, a SID in use.
    pub fn create_worker(
        &mut self,
        ws: &WorkspaceSid,
        new: NewWorker,
    ) -> Result<WorkerSid, SimError> {
        let s = self.space_index(ws)?;
        let friendly_name = required_name(&new.friendly_name)?;
        let text = new.attributes.unwrap_or_else(|| "{}".to_owned());
        let attributes = attributes("Attributes", &text)?;
        let space = self.spaces.at(s);
        let activity = new
            .activity
            .unwrap_or_else(|| space.default_activity.clone());
        if space.activity(&activity).is_none() {
            return Err(unknown_activity("ActivitySid", &activity, ws));
        }
        for (channel, _) in &new.capacities {
            if space.channel_named(channel).is_none() {
                return Err(SimError::invalid(
                    "TaskChannel",
                    format!(
                        "the workspace has no channel `{channel}`: use one of {}",
                        channel_names()
                    ),
                ));
            }
        }
        if let Some(sid) = &new.sid
            && space.workers.find(sid).is_some()
        {
            return Err(SimError::invalid(
                "Sid",
                format!("worker {sid} exists already"),
            ));
        }
        let sid = new.sid.unwrap_or_else(|| self.sid("WK"));
        let channels: Vec<(TaskChannelSid, String)> = self
            .spaces
            .at(s)
            .channels
            .all()
            .iter()
            .map(|channel| (channel.sid.clone(), channel.unique_name.clone()))
            .collect();
        let mut worker_channels = Vec::with_capacity(channels.len());
        for (channel, unique_name) in channels {
            let capacity = new
                .capacities
                .iter()
                .rev()
                .find(|(name, _)| *name == unique_name)
                .map_or(1, |(_, capacity)| *capacity);
            worker_channels.push(WorkerChannel {
                sid: self.sid("WC"),
                channel,
                unique_name,
                capacity,
                available: true,
                load: 0,
                created: self.now,
                updated: self.now,
            });
        }
        let now = self.now;
        let space = self.spaces.at_mut(s);
        let activity_name = space
            .activity(&activity)
            .map(|activity| activity.friendly_name.clone());
        let mut routing = workflow::Worker::new(sid.clone(), attributes);
        routing.set_friendly_name(Some(friendly_name));
        routing.set_activity(activity_name, Some(activity.clone()));
        space.routing.workers_mut().push(routing);
        let at = space.workers.push(
            sid.clone(),
            WorkerState {
                sid: sid.clone(),
                activity,
                attributes_text: text,
                created: now,
                updated: now,
                status_changed: now,
                idle_since: now,
                channels: worker_channels,
            },
        );
        self.worker_freed(s, at);
        Ok(sid)
    }

    /// `UpdateWorker`: a new activity (with `RejectPendingReservations`, an unavailable one
    /// rejects what is pending), attributes, name. A worker that becomes available, or whose
    /// attributes change, is offered the tasks waiting for it.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`]; [`SimError::Invalid`] as for [`Engine::create_worker`].
    pub fn update_worker(
        &mut self,
        ws: &WorkspaceSid,
        sid: &WorkerSid,
        changes: WorkerChanges,
    ) -> Result<(), SimError> {
        let s = self.space_index(ws)?;
        let w = self.worker_index(s, sid)?;
        let parsed = match &changes.attributes {
            Some(text) => Some(attributes("Attributes", text)?),
            None => None,
        };
        let name = match &changes.friendly_name {
            Some(name) => Some(required_name(name)?),
            None => None,
        };
        if let Some(activity) = &changes.activity
            && self.spaces.at(s).activity(activity).is_none()
        {
            return Err(unknown_activity("ActivitySid", activity, ws));
        }
        let now = self.now;
        if let Some(name) = name {
            let space = self.spaces.at_mut(s);
            space.routing.workers_mut()[w].set_friendly_name(Some(name));
            space.workers.at_mut(w).updated = now;
        }
        if let (Some(value), Some(text)) = (parsed, changes.attributes) {
            let space = self.spaces.at_mut(s);
            space.routing.workers_mut()[w].set_attributes(value);
            let worker = space.workers.at_mut(w);
            worker.attributes_text = text;
            worker.updated = now;
            let name = self.worker_name(s, w);
            self.emit(
                s,
                EventType::WorkerAttributesUpdate,
                format!("Worker {name} updated its attributes"),
                About {
                    worker: Some(w),
                    ..About::default()
                },
            );
        }
        if let Some(activity) = changes.activity {
            self.set_activity(s, w, &activity);
            let available = self
                .spaces
                .at(s)
                .activity(&activity)
                .is_some_and(|a| a.available);
            if !available && changes.reject_pending_reservations {
                let pending: Vec<usize> = self
                    .spaces
                    .at(s)
                    .reservations
                    .all()
                    .iter()
                    .enumerate()
                    .filter(|(_, reservation)| {
                        reservation.worker == w && reservation.status == ReservationStatus::Pending
                    })
                    .map(|(at, _)| at)
                    .collect();
                for r in pending {
                    let t = self.spaces.at(s).reservations.at(r).task;
                    self.end_reservation(s, r, ReservationStatus::Rejected);
                    self.task_lost_reservation(s, t);
                }
            }
        }
        self.worker_freed(s, w);
        Ok(())
    }

    /// `UpdateWorkerChannel`: a worker's capacity on one channel, and whether it takes that
    /// channel's tasks; a worker with more room is offered the tasks waiting.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`] for an unknown worker or channel.
    pub fn update_worker_channel(
        &mut self,
        ws: &WorkspaceSid,
        sid: &WorkerSid,
        channel: &str,
        capacity: Option<u32>,
        available: Option<bool>,
    ) -> Result<(), SimError> {
        let s = self.space_index(ws)?;
        let w = self.worker_index(s, sid)?;
        let now = self.now;
        let found = self
            .spaces
            .at_mut(s)
            .workers
            .at_mut(w)
            .channel_mut(channel)
            .ok_or_else(|| SimError::NotFound {
                path: format!("/Workspaces/{ws}/Workers/{sid}/Channels/{channel}"),
            })?;
        if let Some(capacity) = capacity {
            found.capacity = capacity;
        }
        if let Some(available) = available {
            found.available = available;
        }
        found.updated = now;
        self.worker_freed(s, w);
        Ok(())
    }

    fn worker_index(&self, s: usize, sid: &WorkerSid) -> Result<usize, SimError> {
        let space = self.spaces.at(s);
        space.workers.find(sid).ok_or_else(|| SimError::NotFound {
            path: format!("/Workspaces/{}/Workers/{sid}", space.sid),
        })
    }

    fn worker_name(&self, s: usize, w: usize) -> String {
        let space = self.spaces.at(s);
        let sid = &space.workers.at(w).sid;
        match space.routing_worker(w).friendly_name() {
            Some(name) => format!("{name} ({sid})"),
            None => sid.to_string(),
        }
    }

    /// Moves worker `w` to `activity`, with its event; a no-op when it is there already.
    fn set_activity(&mut self, s: usize, w: usize, activity: &ActivitySid) {
        let now = self.now;
        let space = self.spaces.at_mut(s);
        let worker = space.workers.at_mut(w);
        if &worker.activity == activity {
            return;
        }
        let previous = std::mem::replace(&mut worker.activity, activity.clone());
        let in_previous = now.duration_since(worker.status_changed).as_secs().max(0);
        worker.status_changed = now;
        worker.idle_since = now;
        worker.updated = now;
        let (name, available) = space
            .activity(activity)
            .map(|a| (a.friendly_name.clone(), a.available))
            .unwrap_or_default();
        let routing = &mut space.routing.workers_mut()[w];
        routing.set_activity(Some(name.clone()), Some(activity.clone()));
        routing.set_available(available);
        let worker_name = self.worker_name(s, w);
        self.emit(
            s,
            EventType::WorkerActivityUpdate,
            format!("Worker {worker_name} updated to {name} Activity"),
            About {
                worker: Some(w),
                extra: vec![
                    ("WorkerPreviousActivitySid", previous.to_string()),
                    ("WorkerTimeInPreviousActivity", in_previous.to_string()),
                ],
                ..About::default()
            },
        );
    }

    // ---- Queues and Workflows ---------------------------------------------------------------

    /// `CreateTaskQueue`.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`]; [`SimError::Invalid`] for an empty name, a `TargetWorkers` that
    /// does not parse, `MaxReservedWorkers` outside 1–50, a SID in use.
    pub fn create_queue(
        &mut self,
        ws: &WorkspaceSid,
        new: NewQueue,
    ) -> Result<TaskQueueSid, SimError> {
        let s = self.space_index(ws)?;
        let friendly_name = required_name(&new.friendly_name)?;
        let target_workers = target_workers(new.target_workers.as_deref().unwrap_or("1==1"))?;
        let max_reserved_workers = max_reserved(new.max_reserved_workers.unwrap_or(1))?;
        if let Some(sid) = &new.sid
            && self.spaces.at(s).queues.find(sid).is_some()
        {
            return Err(SimError::invalid(
                "Sid",
                format!("task queue {sid} exists already"),
            ));
        }
        let sid = new.sid.unwrap_or_else(|| self.sid("WQ"));
        let now = self.now;
        let space = self.spaces.at_mut(s);
        space.routing.queues_mut().push(workflow::Queue::new(
            sid.clone(),
            Some(friendly_name),
            target_workers,
        ));
        space.queues.push(
            sid.clone(),
            QueueState {
                sid: sid.clone(),
                max_reserved_workers,
                task_order: new.task_order.unwrap_or(Order::Fifo),
                created: now,
                updated: now,
            },
        );
        Ok(sid)
    }

    /// `UpdateTaskQueue`; the tasks waiting are offered again under the new settings.
    ///
    /// # Errors
    ///
    /// As [`Engine::create_queue`].
    pub fn update_queue(
        &mut self,
        ws: &WorkspaceSid,
        sid: &TaskQueueSid,
        changes: QueueChanges,
    ) -> Result<(), SimError> {
        let s = self.space_index(ws)?;
        let q = self
            .spaces
            .at(s)
            .queues
            .find(sid)
            .ok_or_else(|| SimError::NotFound {
                path: format!("/Workspaces/{ws}/TaskQueues/{sid}"),
            })?;
        let expression = match &changes.target_workers {
            Some(text) => Some(target_workers(text)?),
            None => None,
        };
        let max = match changes.max_reserved_workers {
            Some(max) => Some(max_reserved(max)?),
            None => None,
        };
        let name = match &changes.friendly_name {
            Some(name) => Some(required_name(name)?),
            None => None,
        };
        let now = self.now;
        let space = self.spaces.at_mut(s);
        let routing = &mut space.routing.queues_mut()[q];
        if let Some(name) = name {
            routing.set_friendly_name(Some(name));
        }
        if let Some(expression) = expression {
            routing.set_target_workers(expression);
        }
        let queue = space.queues.at_mut(q);
        if let Some(max) = max {
            queue.max_reserved_workers = max;
        }
        if let Some(order) = changes.task_order {
            queue.task_order = order;
        }
        queue.updated = now;
        let open: Vec<usize> = self.dispatch_order(s);
        for t in open {
            self.offer(s, t);
        }
        Ok(())
    }

    /// `CreateWorkflow`.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`]; [`SimError::Invalid`] for an empty name, a configuration that
    /// does not parse or names a queue the workspace does not have, a reservation timeout
    /// outside 1–86,400, a SID in use.
    pub fn create_workflow(
        &mut self,
        ws: &WorkspaceSid,
        new: NewWorkflow,
    ) -> Result<WorkflowSid, SimError> {
        let s = self.space_index(ws)?;
        let friendly_name = required_name(&new.friendly_name)?;
        let configuration = self.configuration(s, &new.configuration)?;
        let timeout = reservation_timeout(
            new.task_reservation_timeout
                .unwrap_or(DEFAULT_RESERVATION_TIMEOUT),
        )?;
        if let Some(sid) = &new.sid
            && self.spaces.at(s).workflows.find(sid).is_some()
        {
            return Err(SimError::invalid(
                "Sid",
                format!("workflow {sid} exists already"),
            ));
        }
        let sid = new.sid.unwrap_or_else(|| self.sid("WW"));
        let now = self.now;
        self.spaces.at_mut(s).workflows.push(
            sid.clone(),
            WorkflowState {
                sid: sid.clone(),
                friendly_name,
                configuration_text: new.configuration,
                configuration: Arc::new(configuration),
                assignment_callback_url: new.assignment_callback_url,
                fallback_assignment_callback_url: new.fallback_assignment_callback_url,
                task_reservation_timeout: timeout,
                created: now,
                updated: now,
            },
        );
        Ok(sid)
    }

    /// `UpdateWorkflow`. A new configuration routes new tasks; with `ReEvaluateTasks` the tasks
    /// waiting without a reservation are routed again with it too.
    ///
    /// # Errors
    ///
    /// As [`Engine::create_workflow`].
    pub fn update_workflow(
        &mut self,
        ws: &WorkspaceSid,
        sid: &WorkflowSid,
        changes: WorkflowChanges,
    ) -> Result<(), SimError> {
        let s = self.space_index(ws)?;
        let f = self
            .spaces
            .at(s)
            .workflows
            .find(sid)
            .ok_or_else(|| SimError::NotFound {
                path: format!("/Workspaces/{ws}/Workflows/{sid}"),
            })?;
        let configuration = match &changes.configuration {
            Some(text) => Some(Arc::new(self.configuration(s, text)?)),
            None => None,
        };
        let timeout = match changes.task_reservation_timeout {
            Some(timeout) => Some(reservation_timeout(timeout)?),
            None => None,
        };
        let name = match &changes.friendly_name {
            Some(name) => Some(required_name(name)?),
            None => None,
        };
        let now = self.now;
        let workflow = self.spaces.at_mut(s).workflows.at_mut(f);
        if let Some(name) = name {
            workflow.friendly_name = name;
        }
        if let (Some(configuration), Some(text)) = (&configuration, changes.configuration) {
            workflow.configuration = Arc::clone(configuration);
            workflow.configuration_text = text;
        }
        if let Some(url) = changes.assignment_callback_url {
            workflow.assignment_callback_url = url;
        }
        if let Some(url) = changes.fallback_assignment_callback_url {
            workflow.fallback_assignment_callback_url = url;
        }
        if let Some(timeout) = timeout {
            workflow.task_reservation_timeout = timeout;
        }
        workflow.updated = now;
        if let (Some(configuration), true) = (configuration, changes.re_evaluate_tasks) {
            let waiting: Vec<usize> = self
                .dispatch_order(s)
                .into_iter()
                .filter(|&t| {
                    let task = self.spaces.at(s).tasks.at(t);
                    &task.workflow == sid && task.status == TaskStatus::Pending
                })
                .collect();
            for t in waiting {
                self.spaces.at_mut(s).tasks.at_mut(t).walk.configuration =
                    Arc::clone(&configuration);
                self.route_from_top(s, t);
            }
        }
        Ok(())
    }

    /// Parses a configuration and checks that every queue it names is in workspace `s`.
    fn configuration(&self, s: usize, text: &str) -> Result<Workflow, SimError> {
        let configuration = Workflow::parse(text).map_err(|problems| {
            let found: Vec<String> = problems
                .errors()
                .map(|problem| match problem.position {
                    Some((line, column)) => {
                        format!("{} (line {line}, column {column})", problem.describe())
                    }
                    None => problem.describe(),
                })
                .collect();
            SimError::invalid(
                "Configuration",
                format!("invalid workflow configuration: {}", found.join("; ")),
            )
        })?;
        let space = self.spaces.at(s);
        let queues = configuration
            .filters()
            .iter()
            .flat_map(|filter| filter.targets())
            .chain(configuration.default_filter())
            .filter_map(workflow::Target::queue);
        for queue in queues {
            if space.queues.find(queue).is_none() {
                return Err(SimError::invalid(
                    "Configuration",
                    format!(
                        "invalid workflow configuration: queue {queue} not found in workspace {}",
                        space.sid
                    ),
                ));
            }
        }
        Ok(configuration)
    }

    // ---- Tasks ------------------------------------------------------------------------------

    /// `CreateTask`: the task enters its Workflow at once (see the module documentation).
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`]; [`SimError::Invalid`] for attributes that are not a JSON object
    /// (or too long), a priority or timeout out of range, an unknown channel or Workflow, no
    /// `WorkflowSid` in a workspace with several Workflows.
    pub fn create_task(&mut self, ws: &WorkspaceSid, new: NewTask) -> Result<TaskSid, SimError> {
        let s = self.space_index(ws)?;
        let text = new.attributes.unwrap_or_else(|| "{}".to_owned());
        let value = attributes("Attributes", &text)?;
        let priority = priority(new.priority.unwrap_or(0))?;
        let timeout = new.timeout.unwrap_or(DEFAULT_TASK_TIMEOUT);
        if !(1..=MAX_TASK_TIMEOUT).contains(&timeout) {
            return Err(SimError::invalid(
                "Timeout",
                format!("{timeout} is out of range: send 1 to {MAX_TASK_TIMEOUT} seconds"),
            ));
        }
        let space = self.spaces.at(s);
        let workflow = match new.workflow {
            Some(sid) => space.workflows.get(&sid).ok_or_else(|| {
                SimError::invalid(
                    "WorkflowSid",
                    format!("workflow {sid} is not in workspace {ws}"),
                )
            })?,
            None => match space.workflows.all() {
                [only] => only,
                _ => {
                    return Err(SimError::invalid(
                        "WorkflowSid",
                        "required: the workspace has more than one Workflow (or none)",
                    ));
                }
            },
        };
        let channel_name = new.channel.as_deref().unwrap_or("default");
        let channel = space
            .channels
            .all()
            .iter()
            .find(|channel| {
                channel.unique_name == channel_name || channel.sid.as_str() == channel_name
            })
            .ok_or_else(|| {
                SimError::invalid(
                    "TaskChannel",
                    format!(
                        "`{channel_name}` is not a channel of the workspace: use one of {}",
                        channel_names()
                    ),
                )
            })?
            .sid
            .clone();
        let walk = Walk {
            configuration: Arc::clone(&workflow.configuration),
            place: None,
            until: None,
            epoch: 0,
        };
        let workflow = workflow.sid.clone();
        let sid: TaskSid = self.sid("WT");
        let now = self.now;
        let space = self.spaces.at_mut(s);
        let t = space.tasks.push(
            sid.clone(),
            TaskState {
                sid: sid.clone(),
                workflow,
                channel,
                attributes: value,
                attributes_text: text,
                own_priority: priority,
                priority,
                timeout,
                status: TaskStatus::Pending,
                reason: None,
                created: now,
                updated: now,
                virtual_start: new.virtual_start_time.unwrap_or(now),
                queue: None,
                queue_entered: None,
                walk,
                pending: Vec::new(),
                accepted: None,
                reserved_times: 0,
                version: 0,
                ignore_capacity: new.ignore_capacity.unwrap_or(false),
                routing_target: new.routing_target,
            },
        );
        space.open.insert(t);
        self.set_timer(
            after(now, u64::from(timeout)),
            TimerKind::Ttl { space: s, task: t },
        );
        let workflow_name = self.workflow_name(s, t);
        self.emit(
            s,
            EventType::WorkflowEntered,
            format!("Task {sid} entered Workflow {workflow_name}"),
            About {
                task: Some(t),
                ..About::default()
            },
        );
        self.route(
            s,
            t,
            Entry::Filters {
                from: 0,
                cause: Cause::Created,
            },
            Progress::default(),
            true,
        );
        Ok(sid)
    }

    /// `UpdateTask`: attributes (a task waiting without a reservation is routed again with
    /// them), priority, and the status changes a client makes: `canceled` (pending or
    /// reserved), `wrapping` (assigned), `completed` (assigned or wrapping), each with its
    /// `Reason`.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`]; [`SimError::Version`] when `If-Match` is not the task's
    /// version; [`SimError::Invalid`] for bad attributes, priority or status;
    /// [`SimError::TaskState`] for a status change the task's status does not allow.
    pub fn update_task(
        &mut self,
        ws: &WorkspaceSid,
        sid: &TaskSid,
        changes: TaskChanges,
    ) -> Result<(), SimError> {
        let s = self.space_index(ws)?;
        let t = self.task_index(s, sid)?;
        let task = self.spaces.at(s).tasks.at(t);
        if let Some(given) = &changes.if_match
            && given.trim_matches('"') != task.version.to_string()
        {
            return Err(SimError::Version {
                task: sid.clone(),
                current: task.version,
                given: given.clone(),
            });
        }
        let value = match &changes.attributes {
            Some(text) => Some(attributes("Attributes", text)?),
            None => None,
        };
        let priority = match changes.priority {
            Some(value) => Some(priority(value)?),
            None => None,
        };
        let status = match changes.assignment_status.as_deref() {
            None => None,
            Some(text) => match TaskStatus::parse(text) {
                Some(
                    status @ (TaskStatus::Canceled | TaskStatus::Wrapping | TaskStatus::Completed),
                ) => Some(status),
                Some(_) => {
                    return Err(SimError::invalid(
                        "AssignmentStatus",
                        format!(
                            "`{text}` is set by TaskRouter itself: send canceled, wrapping or completed"
                        ),
                    ));
                }
                None => {
                    return Err(SimError::invalid(
                        "AssignmentStatus",
                        format!(
                            "`{text}` is not a task status: send canceled, wrapping or completed"
                        ),
                    ));
                }
            },
        };
        let current = task.status;
        let allowed = match status {
            None => Ok(()),
            Some(TaskStatus::Canceled) if current.is_open() => Ok(()),
            Some(TaskStatus::Canceled) => Err("only a pending or reserved task can be canceled"),
            Some(TaskStatus::Wrapping) if current == TaskStatus::Assigned => Ok(()),
            Some(TaskStatus::Wrapping) => Err("only an assigned task can move to wrapping"),
            Some(_) if matches!(current, TaskStatus::Assigned | TaskStatus::Wrapping) => Ok(()),
            Some(_) => Err("only an assigned or wrapping task can be completed"),
        };
        allowed.map_err(|reason| SimError::TaskState {
            task: sid.clone(),
            status: current.as_str(),
            reason,
        })?;
        let now = self.now;
        let mut reroute = false;
        {
            let task = self.spaces.at_mut(s).tasks.at_mut(t);
            if let (Some(value), Some(text)) = (value, changes.attributes) {
                task.attributes = value;
                task.attributes_text = text;
                reroute = task.status == TaskStatus::Pending;
            }
            if let Some(priority) = priority {
                task.own_priority = priority;
                task.priority = priority;
            }
            task.version += 1;
            task.updated = now;
        }
        let reason = changes.reason.unwrap_or_default();
        match status {
            Some(TaskStatus::Canceled) => self.cancel(s, t, &reason),
            Some(TaskStatus::Wrapping) => self.wrap(s, t, &reason),
            Some(TaskStatus::Completed) => self.complete(s, t, &reason),
            _ => {
                self.emit(
                    s,
                    EventType::TaskUpdated,
                    format!("Task {sid} updated"),
                    About {
                        task: Some(t),
                        ..About::default()
                    },
                );
                if reroute {
                    self.route_from_top(s, t);
                } else if priority.is_some() {
                    self.offer(s, t);
                }
            }
        }
        Ok(())
    }

    fn task_index(&self, s: usize, sid: &TaskSid) -> Result<usize, SimError> {
        let space = self.spaces.at(s);
        space.tasks.find(sid).ok_or_else(|| SimError::NotFound {
            path: format!("/Workspaces/{}/Tasks/{sid}", space.sid),
        })
    }

    fn workflow_name(&self, s: usize, t: usize) -> String {
        let space = self.spaces.at(s);
        let sid = &space.tasks.at(t).workflow;
        space.workflows.get(sid).map_or_else(
            || sid.to_string(),
            |workflow| workflow.friendly_name.clone(),
        )
    }

    fn queue_name(&self, s: usize, queue: &TaskQueueSid) -> String {
        let space = self.spaces.at(s);
        space
            .queues
            .find(queue)
            .and_then(|q| space.routing_queue(q).friendly_name())
            .map_or_else(|| queue.to_string(), |name| format!("{name} ({queue})"))
    }

    // ---- Routing ----------------------------------------------------------------------------

    /// The task's age now, in whole seconds.
    fn age(&self, s: usize, t: usize) -> u64 {
        let created = self.spaces.at(s).tasks.at(t).created;
        u64::try_from(self.now.duration_since(created).as_secs()).unwrap_or(0)
    }

    /// Routes a task waiting without a reservation again from the top (its attributes or its
    /// configuration changed).
    fn route_from_top(&mut self, s: usize, t: usize) {
        let age = self.age(s, t);
        self.route(
            s,
            t,
            Entry::Filters {
                from: 0,
                cause: Cause::Created,
            },
            Progress { age, timeouts: 0 },
            false,
        );
    }

    /// Walks task `t` from `entry` to where it waits ([`Workflow::arrive`]), with the events of
    /// the way, then offers it to the step's workers.
    fn route(&mut self, s: usize, t: usize, entry: Entry, progress: Progress, created: bool) {
        let now = self.now;
        let time = TimeOfDay::utc(now);
        // `skip_if` is evaluated only when no worker can be reserved at once
        // (docs/taskrouter.md §12): the view's availability is, for this task, whether a worker can
        // take it now.
        for w in 0..self.spaces.at(s).workers.len() {
            let can = self.can_take(s, w, t);
            self.spaces.at_mut(s).routing.workers_mut()[w].set_available(can);
        }
        let space = self.spaces.at(s);
        let task = space.tasks.at(t);
        let configuration = Arc::clone(&task.walk.configuration);
        let arrival = configuration.arrive(entry, progress, &task.attributes, &space.routing, time);
        let mut skipped = Vec::new();
        let mut entered = None;
        for happened in &arrival.moves {
            if let Move::Entered(step) = happened {
                let name = filter_name(&configuration, step.place);
                let priority = step.target.priority();
                if step.is_skipped() {
                    skipped.push((name, step.queue.clone()));
                } else {
                    entered = Some((name, step.queue.clone(), priority));
                }
            }
        }
        let rest = arrival.rest;
        drop(arrival);
        self.restore_availability(s);
        let sid = self.spaces.at(s).tasks.at(t).sid.clone();
        for (name, queue) in skipped {
            let queue_name = self.queue_name(s, &queue);
            self.emit(
                s,
                EventType::WorkflowSkipped,
                format!("Task {sid} skipped the step of filter `{name}` to TaskQueue {queue_name}"),
                About {
                    task: Some(t),
                    queue: Some(queue),
                    extra: vec![("WorkflowFilterName", name)],
                    ..About::default()
                },
            );
        }
        let epoch = {
            let task = self.spaces.at_mut(s).tasks.at_mut(t);
            task.walk.epoch += 1;
            task.walk.epoch
        };
        match (rest, entered) {
            (Rest::Waits { place, until }, Some((name, queue, step_priority))) => {
                {
                    let task = self.spaces.at_mut(s).tasks.at_mut(t);
                    task.walk.place = Some(place);
                    task.walk.until = until;
                    if task.queue.as_ref() != Some(&queue) {
                        task.queue_entered = Some(now);
                    }
                    task.queue = Some(queue.clone());
                    task.priority = step_priority
                        .and_then(|priority| i64::try_from(priority).ok())
                        .unwrap_or(task.own_priority);
                    task.version += 1;
                    task.updated = now;
                }
                let queue_name = self.queue_name(s, &queue);
                self.emit(
                    s,
                    EventType::TaskQueueEntered,
                    format!("Task {sid} entered TaskQueue {queue_name}"),
                    About {
                        task: Some(t),
                        queue: Some(queue.clone()),
                        ..About::default()
                    },
                );
                if created {
                    self.emit_task_created(s, t);
                }
                let workflow_name = self.workflow_name(s, t);
                self.emit(
                    s,
                    EventType::WorkflowTargetMatched,
                    format!(
                        "Task {sid} matched filter `{name}` of Workflow {workflow_name}: TaskQueue {queue_name}"
                    ),
                    About {
                        task: Some(t),
                        queue: Some(queue),
                        extra: vec![("WorkflowFilterName", name)],
                        ..About::default()
                    },
                );
                if let Some(until) = until {
                    let created_at = self.spaces.at(s).tasks.at(t).created;
                    self.set_timer(
                        after(created_at, until),
                        TimerKind::Step {
                            space: s,
                            task: t,
                            epoch,
                        },
                    );
                }
                self.offer(s, t);
            }
            (Rest::Canceled, _) => {
                let workflow_name = self.workflow_name(s, t);
                self.emit(
                    s,
                    EventType::WorkflowTimeout,
                    format!(
                        "Task {sid} timed out of Workflow {workflow_name}: no later filter matched"
                    ),
                    About {
                        task: Some(t),
                        ..About::default()
                    },
                );
                self.cancel(s, t, "Workflow Timeout");
            }
            _ => {
                {
                    let task = self.spaces.at_mut(s).tasks.at_mut(t);
                    task.walk.place = None;
                    task.walk.until = None;
                    task.queue = None;
                    task.queue_entered = None;
                }
                if created {
                    self.emit_task_created(s, t);
                }
                let workflow_name = self.workflow_name(s, t);
                self.effects.push(Effect::Note(format!(
                    "task {sid}: no filter of Workflow {workflow_name} takes it and it has no default_filter; it waits in no queue until its TTL"
                )));
            }
        }
    }

    fn emit_task_created(&mut self, s: usize, t: usize) {
        let sid = self.spaces.at(s).tasks.at(t).sid.clone();
        self.emit(
            s,
            EventType::TaskCreated,
            format!("Task {sid} created"),
            About {
                task: Some(t),
                ..About::default()
            },
        );
    }

    /// The routing view's availability back to what the Events API and `skip_if` elsewhere
    /// read: the worker's activity.
    fn restore_availability(&mut self, s: usize) {
        let space = self.spaces.at_mut(s);
        for w in 0..space.workers.len() {
            let available = space
                .activity(&space.workers.at(w).activity)
                .is_some_and(|activity| activity.available);
            space.routing.workers_mut()[w].set_available(available);
        }
    }

    /// Whether worker `w` can be reserved for task `t` now: an available activity, room on the
    /// task's channel (one task at a time without multitasking), no reservation of this task
    /// pending already.
    fn can_take(&self, s: usize, w: usize, t: usize) -> bool {
        let space = self.spaces.at(s);
        let worker = space.workers.at(w);
        let task = space.tasks.at(t);
        let available = space
            .activity(&worker.activity)
            .is_some_and(|activity| activity.available);
        if !available {
            return false;
        }
        if task
            .pending
            .iter()
            .any(|&r| space.reservations.at(r).worker == w)
        {
            return false;
        }
        if !space.multi_task_enabled {
            return worker.total_load() == 0;
        }
        let channel = space
            .channels
            .get(&task.channel)
            .map_or("default", |channel| channel.unique_name.as_str());
        worker
            .channel(channel)
            .is_some_and(|channel| channel.available && channel.load < channel.capacity)
    }

    /// How many more reservations task `t` may have pending: its queue's
    /// `MaxReservedWorkers` less those pending.
    fn free_slots(&self, s: usize, t: usize) -> usize {
        let space = self.spaces.at(s);
        let task = space.tasks.at(t);
        let max = task
            .queue
            .as_ref()
            .and_then(|queue| space.queues.get(queue))
            .map_or(1, |queue| queue.max_reserved_workers);
        usize::try_from(max)
            .unwrap_or(usize::MAX)
            .saturating_sub(task.pending.len())
    }

    /// Offers task `t`, waiting in its step, to the step's workers who can take it, in offer
    /// order, up to its free slots.
    fn offer(&mut self, s: usize, t: usize) {
        let space = self.spaces.at(s);
        let task = space.tasks.at(t);
        let Some(place) = task.walk.place else {
            return;
        };
        if !task.status.is_open() {
            return;
        }
        let slots = self.free_slots(s, t);
        if slots == 0 {
            return;
        }
        let configuration = Arc::clone(&task.walk.configuration);
        let Some((target, _)) = configuration.target_at(place) else {
            return;
        };
        let time = TimeOfDay::utc(self.now);
        let mut candidates: Vec<usize> = (0..space.workers.len())
            .filter(|&w| {
                self.can_take(s, w, t)
                    && configuration.admits(
                        place,
                        &task.attributes,
                        space.routing_worker(w),
                        &space.routing,
                        time,
                    )
            })
            .collect();
        candidates.sort_by(|&a, &b| {
            offer_order(
                target.order_by(),
                space.routing_worker(a),
                space.routing_worker(b),
            )
            .then_with(|| {
                space
                    .workers
                    .at(a)
                    .idle_since
                    .cmp(&space.workers.at(b).idle_since)
            })
            .then(a.cmp(&b))
        });
        for w in candidates.into_iter().take(slots) {
            self.reserve(s, t, w);
        }
    }

    /// The tasks waiting in workspace `s`, in the order a free worker is offered them: highest
    /// priority first, then by place in line (`VirtualStartTime`, oldest first, or newest
    /// first in a `LIFO` queue), then by creation.
    fn dispatch_order(&self, s: usize) -> Vec<usize> {
        let space = self.spaces.at(s);
        let mut open: Vec<usize> = space.open.iter().copied().collect();
        let key = |t: usize| {
            let task = space.tasks.at(t);
            let lifo = task
                .queue
                .as_ref()
                .and_then(|queue| space.queues.get(queue))
                .is_some_and(|queue| queue.task_order == Order::Lifo);
            let line = task.virtual_start.as_nanosecond();
            (Reverse(task.priority), if lifo { -line } else { line }, t)
        };
        open.sort_by_key(|&t| key(t));
        open
    }

    /// Worker `w` may have room now: offers it the waiting tasks it qualifies for, in
    /// [`Engine::dispatch_order`], while it can take more.
    fn worker_freed(&mut self, s: usize, w: usize) {
        let available = {
            let space = self.spaces.at(s);
            space
                .activity(&space.workers.at(w).activity)
                .is_some_and(|activity| activity.available)
        };
        if !available {
            return;
        }
        let time = TimeOfDay::utc(self.now);
        for t in self.dispatch_order(s) {
            if !self.can_take(s, w, t) || self.free_slots(s, t) == 0 {
                continue;
            }
            let space = self.spaces.at(s);
            let task = space.tasks.at(t);
            let Some(place) = task.walk.place else {
                continue;
            };
            if task.walk.configuration.admits(
                place,
                &task.attributes,
                space.routing_worker(w),
                &space.routing,
                time,
            ) {
                self.reserve(s, t, w);
            }
        }
    }

    /// Reserves worker `w` for task `t`: the reservation, its timer, `reservation.created` and
    /// the assignment callback.
    fn reserve(&mut self, s: usize, t: usize, w: usize) {
        let sid: ReservationSid = self.sid("WR");
        let now = self.now;
        let age = self.age(s, t);
        let account = self.account.clone();
        let space = self.spaces.at_mut(s);
        let r = space.reservations.len();
        let task = space.tasks.at_mut(t);
        if task.status == TaskStatus::Pending {
            task.reserved_times += 1;
        }
        task.status = TaskStatus::Reserved;
        task.pending.push(r);
        task.version += 1;
        task.updated = now;
        let queue = task.queue.clone().unwrap_or_else(|| {
            unreachable!("a task is offered only while it waits in a step, which has a queue")
        });
        let channel = space.channels.get(&task.channel).map_or_else(
            || "default".to_owned(),
            |channel| channel.unique_name.clone(),
        );
        let worker = space.workers.at_mut(w);
        if let Some(load) = worker.channel_mut(&channel) {
            load.load += 1;
        }
        let task = space.tasks.at(t);
        let workflow = space.workflows.get(&task.workflow);
        let timeout = workflow.map_or(DEFAULT_RESERVATION_TIMEOUT, |wf| {
            wf.task_reservation_timeout
        });
        let url = workflow.and_then(|wf| wf.assignment_callback_url.clone());
        // docs/taskrouter.md §1, in its order.
        let callback: Vec<(String, String)> = [
            ("AccountSid", account.to_string()),
            ("WorkspaceSid", space.sid.to_string()),
            ("WorkflowSid", task.workflow.to_string()),
            ("TaskQueueSid", queue.to_string()),
            ("WorkerSid", space.workers.at(w).sid.to_string()),
            (
                "WorkerAttributes",
                space.workers.at(w).attributes_text.clone(),
            ),
            ("TaskSid", task.sid.to_string()),
            ("TaskAttributes", task.attributes_text.clone()),
            ("TaskAge", age.to_string()),
            ("TaskPriority", task.priority.to_string()),
            ("ReservationSid", sid.to_string()),
            ("Timestamp", now.as_second().to_string()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        space.reservations.push(
            sid.clone(),
            ReservationState {
                sid: sid.clone(),
                task: t,
                worker: w,
                queue,
                channel,
                status: ReservationStatus::Pending,
                created: now,
                updated: now,
                callback: callback.clone(),
                post_work_activity: None,
            },
        );
        let workspace = space.sid.clone();
        self.set_timer(
            after(now, u64::from(timeout)),
            TimerKind::Reservation {
                space: s,
                reservation: r,
            },
        );
        let worker_name = self.worker_name(s, w);
        let task_sid = self.spaces.at(s).tasks.at(t).sid.clone();
        self.emit(
            s,
            EventType::ReservationCreated,
            format!("Reservation {sid} created for Worker {worker_name} on Task {task_sid}"),
            About {
                task: Some(t),
                worker: Some(w),
                reservation: Some(r),
                ..About::default()
            },
        );
        if let Some(url) = url {
            self.effects.push(Effect::Callback(Callback {
                workspace,
                reservation: sid,
                attempt: Attempt::Primary,
                url,
                params: callback,
            }));
        }
    }

    // ---- Reservations -----------------------------------------------------------------------

    /// A callback's answer: `{}` leaves the reservation pending; an instruction is applied as a
    /// REST update would be.
    ///
    /// # Errors
    ///
    /// [`SimError`] as [`Engine::update_reservation`] says: what TaskRouter reports in the
    /// Console (errors 40100 to 40157, 40123 for a reservation no longer pending).
    pub fn callback_answered(
        &mut self,
        ws: &WorkspaceSid,
        reservation: &ReservationSid,
        answer: &Answer,
    ) -> Result<(), SimError> {
        let s = self.space_index(ws)?;
        let r = self.reservation_index(s, reservation)?;
        match answer {
            Answer::Defer => Ok(()),
            Answer::Instruction(instruction) => {
                self.apply(s, r, ReservationUpdate::Instruction(instruction.clone()))
            }
        }
    }

    /// A callback got no usable answer (not `200` with `application/json` within 5 s): after
    /// the primary URL, the fallback URL is called when the Workflow has one and the
    /// reservation is still pending; after that, the reservation waits for its timeout. Whether
    /// the fallback was called.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`].
    pub fn callback_failed(
        &mut self,
        ws: &WorkspaceSid,
        reservation: &ReservationSid,
        attempt: Attempt,
    ) -> Result<bool, SimError> {
        let s = self.space_index(ws)?;
        let r = self.reservation_index(s, reservation)?;
        let space = self.spaces.at(s);
        let state = space.reservations.at(r);
        if attempt == Attempt::Fallback || state.status != ReservationStatus::Pending {
            return Ok(false);
        }
        let task = space.tasks.at(state.task);
        let Some(url) = space
            .workflows
            .get(&task.workflow)
            .and_then(|workflow| workflow.fallback_assignment_callback_url.clone())
        else {
            return Ok(false);
        };
        self.effects.push(Effect::Callback(Callback {
            workspace: ws.clone(),
            reservation: reservation.clone(),
            attempt: Attempt::Fallback,
            url,
            params: state.callback.clone(),
        }));
        Ok(true)
    }

    /// `UpdateTaskReservation` / `UpdateWorkerReservation`.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`] (also for a reservation not of that task or worker);
    /// [`SimError::NotPending`] for an instruction to a reservation that has left `pending`;
    /// [`SimError::Invalid`] for an activity the workspace does not have, or `wrapping` /
    /// `completed` on a reservation that is not accepted.
    pub fn update_reservation(
        &mut self,
        ws: &WorkspaceSid,
        through: Through<'_>,
        reservation: &ReservationSid,
        update: ReservationUpdate,
    ) -> Result<(), SimError> {
        let s = self.space_index(ws)?;
        let r = self.reservation_through(s, through, reservation)?;
        self.apply(s, r, update)
    }

    /// The reservation `sid`, reached through its task or its worker.
    pub(crate) fn reservation_through(
        &self,
        s: usize,
        through: Through<'_>,
        sid: &ReservationSid,
    ) -> Result<usize, SimError> {
        let space = self.spaces.at(s);
        let (path, belongs) = match through {
            Through::Task(task) => (
                format!("/Workspaces/{}/Tasks/{task}/Reservations/{sid}", space.sid),
                space.tasks.find(task),
            ),
            Through::Worker(worker) => (
                format!(
                    "/Workspaces/{}/Workers/{worker}/Reservations/{sid}",
                    space.sid
                ),
                space.workers.find(worker),
            ),
        };
        space
            .reservations
            .find(sid)
            .filter(|&r| {
                let state = space.reservations.at(r);
                let owner = match through {
                    Through::Task(_) => state.task,
                    Through::Worker(_) => state.worker,
                };
                belongs == Some(owner)
            })
            .ok_or(SimError::NotFound { path })
    }

    /// The position of reservation `sid` in workspace `ws`, reached through its task or worker.
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`].
    pub(crate) fn reservation_at(
        &self,
        ws: &WorkspaceSid,
        through: Through<'_>,
        sid: &ReservationSid,
    ) -> Result<usize, SimError> {
        let s = self.space_index(ws)?;
        self.reservation_through(s, through, sid)
    }

    fn reservation_index(&self, s: usize, sid: &ReservationSid) -> Result<usize, SimError> {
        let space = self.spaces.at(s);
        space
            .reservations
            .find(sid)
            .ok_or_else(|| SimError::NotFound {
                path: format!("/Workspaces/{}/Reservations/{sid}", space.sid),
            })
    }

    fn apply(&mut self, s: usize, r: usize, update: ReservationUpdate) -> Result<(), SimError> {
        let space = self.spaces.at(s);
        let state = space.reservations.at(r);
        let status = state.status.clone();
        let sid = state.sid.clone();
        let not_pending = || SimError::NotPending {
            reservation: sid.clone(),
            status: status.clone(),
        };
        match update {
            ReservationUpdate::Wrapping => {
                if status != ReservationStatus::Accepted {
                    return Err(SimError::invalid(
                        "ReservationStatus",
                        format!(
                            "reservation {sid} is {status}: only an accepted reservation moves to wrapping"
                        ),
                    ));
                }
                self.wrap(s, state.task, "");
                return Ok(());
            }
            ReservationUpdate::Completed => {
                if !matches!(
                    status,
                    ReservationStatus::Accepted | ReservationStatus::Wrapping
                ) {
                    return Err(SimError::invalid(
                        "ReservationStatus",
                        format!(
                            "reservation {sid} is {status}: only an accepted or wrapping reservation can be completed"
                        ),
                    ));
                }
                self.complete(s, state.task, "");
                return Ok(());
            }
            _ if status != ReservationStatus::Pending => return Err(not_pending()),
            ReservationUpdate::RejectInPlace => {
                self.reject(s, r, None);
                return Ok(());
            }
            ReservationUpdate::Instruction(instruction) => {
                self.check_activities(s, &instruction)?;
                self.instruct(s, r, instruction);
            }
        }
        Ok(())
    }

    /// Every activity an instruction names must be the workspace's.
    fn check_activities(&self, s: usize, instruction: &Instruction) -> Result<(), SimError> {
        let space = self.spaces.at(s);
        let named = match instruction {
            Instruction::Reject(reject) => Some(("WorkerActivitySid", &reject.activity_sid)),
            Instruction::Dequeue(dequeue) => dequeue
                .post_work_activity_sid
                .as_ref()
                .map(|sid| ("DequeuePostWorkActivitySid", sid)),
            Instruction::Redirect(redirect) => redirect
                .post_work_activity_sid
                .as_ref()
                .map(|sid| ("PostWorkActivitySid", sid)),
            Instruction::Conference(conference) => conference
                .post_work_activity_sid
                .as_ref()
                .map(|sid| ("PostWorkActivitySid", sid)),
            Instruction::Accept | Instruction::Call(_) => None,
        };
        match named {
            Some((parameter, activity)) if space.activity(activity).is_none() => {
                Err(unknown_activity(parameter, activity, &space.sid))
            }
            _ => Ok(()),
        }
    }

    /// Applies an instruction to pending reservation `r` (see the module documentation).
    fn instruct(&mut self, s: usize, r: usize, instruction: Instruction) {
        let sid = self.spaces.at(s).reservations.at(r).sid.clone();
        let (post_work, accepts) = match &instruction {
            Instruction::Accept => (None, true),
            Instruction::Reject(reject) => {
                self.reject(s, r, Some(&reject.activity_sid));
                return;
            }
            Instruction::Dequeue(dequeue) => (dequeue.post_work_activity_sid.clone(), true),
            Instruction::Conference(conference) => {
                (conference.post_work_activity_sid.clone(), true)
            }
            Instruction::Call(call) => (None, call.accept == Some(true)),
            Instruction::Redirect(redirect) => {
                (redirect.post_work_activity_sid.clone(), redirect.accept)
            }
        };
        if !matches!(instruction, Instruction::Accept) {
            let outcome = if accepts {
                "the reservation is accepted"
            } else {
                "the reservation stays pending"
            };
            self.effects.push(Effect::Note(format!(
                "reservation {sid}: `{}` recorded, its telephony not performed (the simulator places no calls); {outcome}",
                instruction.name()
            )));
        }
        if post_work.is_some() {
            self.spaces
                .at_mut(s)
                .reservations
                .at_mut(r)
                .post_work_activity = post_work;
        }
        if accepts {
            self.accept(s, r);
        }
    }

    /// Accepts pending reservation `r`: the task is assigned, the other reservations pending
    /// for it are rescinded.
    fn accept(&mut self, s: usize, r: usize) {
        let now = self.now;
        let space = self.spaces.at_mut(s);
        let reservation = space.reservations.at_mut(r);
        reservation.status = ReservationStatus::Accepted;
        reservation.updated = now;
        let (t, w) = (reservation.task, reservation.worker);
        let sid = reservation.sid.clone();
        let task = space.tasks.at_mut(t);
        task.pending.retain(|&pending| pending != r);
        let others = std::mem::take(&mut task.pending);
        task.accepted = Some(r);
        task.status = TaskStatus::Assigned;
        task.version += 1;
        task.updated = now;
        space.open.remove(&t);
        let worker_name = self.worker_name(s, w);
        self.emit(
            s,
            EventType::ReservationAccepted,
            format!("Reservation {sid} accepted by Worker {worker_name}"),
            About {
                task: Some(t),
                worker: Some(w),
                reservation: Some(r),
                ..About::default()
            },
        );
        let mut freed = Vec::new();
        for other in others {
            freed.push(self.end_reservation(s, other, ReservationStatus::Rescinded));
        }
        for worker in freed {
            self.worker_freed(s, worker);
        }
    }

    /// Rejects pending reservation `r`, moving the worker to `activity` when given, and offers
    /// the task again.
    fn reject(&mut self, s: usize, r: usize, activity: Option<&ActivitySid>) {
        let t = self.spaces.at(s).reservations.at(r).task;
        let w = self.end_reservation(s, r, ReservationStatus::Rejected);
        if let Some(activity) = activity {
            self.set_activity(s, w, activity);
        }
        self.task_lost_reservation(s, t);
        self.worker_freed(s, w);
    }

    /// Ends reservation `r` with `status` (its event; the worker's room back unless it
    /// accepted); the worker's position.
    fn end_reservation(&mut self, s: usize, r: usize, status: ReservationStatus) -> usize {
        let now = self.now;
        let space = self.spaces.at_mut(s);
        let reservation = space.reservations.at_mut(r);
        let was = std::mem::replace(&mut reservation.status, status.clone());
        reservation.updated = now;
        let (t, w) = (reservation.task, reservation.worker);
        let channel = reservation.channel.clone();
        let sid = reservation.sid.clone();
        let holds = matches!(
            status,
            ReservationStatus::Accepted | ReservationStatus::Wrapping
        );
        let held = matches!(
            was,
            ReservationStatus::Pending | ReservationStatus::Accepted | ReservationStatus::Wrapping
        );
        if held && !holds {
            let worker = space.workers.at_mut(w);
            if let Some(load) = worker.channel_mut(&channel) {
                load.load = load.load.saturating_sub(1);
            }
            worker.idle_since = now;
        }
        space
            .tasks
            .at_mut(t)
            .pending
            .retain(|&pending| pending != r);
        let (event, verb) = match status {
            ReservationStatus::Rejected => (EventType::ReservationRejected, "rejected"),
            ReservationStatus::Timeout => (EventType::ReservationTimeout, "timed out"),
            ReservationStatus::Canceled => (EventType::ReservationCanceled, "canceled"),
            ReservationStatus::Rescinded => (EventType::ReservationRescinded, "rescinded"),
            ReservationStatus::Completed => (EventType::ReservationCompleted, "completed"),
            ReservationStatus::Wrapping => (EventType::ReservationWrapup, "wrapping up"),
            _ => (EventType::ReservationAccepted, "accepted"),
        };
        let worker_name = self.worker_name(s, w);
        self.emit(
            s,
            event,
            format!("Reservation {sid} {verb} for Worker {worker_name}"),
            About {
                task: Some(t),
                worker: Some(w),
                reservation: Some(r),
                ..About::default()
            },
        );
        w
    }

    /// A reservation of task `t` ended without an accept: with none pending left, the task is
    /// pending again and moves on if its step timed out meanwhile, else is offered again.
    fn task_lost_reservation(&mut self, s: usize, t: usize) {
        let age = self.age(s, t);
        let task = self.spaces.at_mut(s).tasks.at_mut(t);
        if task.status != TaskStatus::Reserved || !task.pending.is_empty() {
            return;
        }
        task.status = TaskStatus::Pending;
        task.version += 1;
        if task.reserved_times >= MAX_RESERVATIONS_PER_TASK {
            self.cancel(s, t, "Task was reserved 1000 times without being assigned");
            return;
        }
        if task.walk.until.is_some_and(|until| until <= age) {
            self.move_on(s, t);
        } else {
            self.offer(s, t);
        }
    }

    fn reservation_timed_out(&mut self, s: usize, r: usize) {
        if self.spaces.at(s).reservations.at(r).status != ReservationStatus::Pending {
            return;
        }
        let t = self.spaces.at(s).reservations.at(r).task;
        let w = self.end_reservation(s, r, ReservationStatus::Timeout);
        let activity = self.spaces.at(s).timeout_activity.clone();
        self.set_activity(s, w, &activity);
        self.task_lost_reservation(s, t);
        self.worker_freed(s, w);
    }

    fn step_timed_out(&mut self, s: usize, t: usize, epoch: u64) {
        let task = self.spaces.at(s).tasks.at(t);
        if task.walk.epoch != epoch || !task.status.is_open() {
            return;
        }
        // A reserved task moves on once its reservations end (docs/taskrouter.md §12's worked
        // example).
        if task.status == TaskStatus::Pending {
            self.move_on(s, t);
        }
    }

    /// Task `t`'s step timed out: `task-queue.timeout`, then on to the next step.
    fn move_on(&mut self, s: usize, t: usize) {
        let age = self.age(s, t);
        let task = self.spaces.at(s).tasks.at(t);
        let (Some(place), Some(until)) = (task.walk.place, task.walk.until) else {
            return;
        };
        let Some(entry) = task.walk.configuration.timed_out(place) else {
            return;
        };
        let sid = task.sid.clone();
        if let Some(queue) = task.queue.clone() {
            let queue_name = self.queue_name(s, &queue);
            self.emit(
                s,
                EventType::TaskQueueTimeout,
                format!("Task {sid} timed out of TaskQueue {queue_name}"),
                About {
                    task: Some(t),
                    queue: Some(queue),
                    ..About::default()
                },
            );
        }
        self.route(
            s,
            t,
            entry,
            Progress {
                age,
                timeouts: until,
            },
            false,
        );
    }

    // ---- Task ends --------------------------------------------------------------------------

    /// Cancels open task `t`: `task.canceled`, its pending reservations canceled.
    fn cancel(&mut self, s: usize, t: usize, reason: &str) {
        let now = self.now;
        let space = self.spaces.at_mut(s);
        let task = space.tasks.at_mut(t);
        task.status = TaskStatus::Canceled;
        task.reason = Some(reason.to_owned());
        task.version += 1;
        task.updated = now;
        task.walk.epoch += 1;
        let pending = task.pending.clone();
        let sid = task.sid.clone();
        space.open.remove(&t);
        self.emit(
            s,
            EventType::TaskCanceled,
            format!("Task {sid} canceled: {reason}"),
            About {
                task: Some(t),
                ..About::default()
            },
        );
        let mut freed = Vec::new();
        for r in pending {
            freed.push(self.end_reservation(s, r, ReservationStatus::Canceled));
        }
        for w in freed {
            self.worker_freed(s, w);
        }
    }

    /// Moves assigned task `t` to wrapping.
    fn wrap(&mut self, s: usize, t: usize, reason: &str) {
        let now = self.now;
        let task = self.spaces.at_mut(s).tasks.at_mut(t);
        task.status = TaskStatus::Wrapping;
        if !reason.is_empty() {
            task.reason = Some(reason.to_owned());
        }
        task.version += 1;
        task.updated = now;
        let sid = task.sid.clone();
        let accepted = task.accepted;
        self.emit(
            s,
            EventType::TaskWrapup,
            format!("Task {sid} wrapping up"),
            About {
                task: Some(t),
                ..About::default()
            },
        );
        if let Some(r) = accepted {
            self.end_reservation(s, r, ReservationStatus::Wrapping);
        }
    }

    /// Completes assigned or wrapping task `t`: `task.completed`, `reservation.completed`,
    /// `task.updated`; the worker's post-work activity; the worker is free again.
    fn complete(&mut self, s: usize, t: usize, reason: &str) {
        let now = self.now;
        let task = self.spaces.at_mut(s).tasks.at_mut(t);
        task.status = TaskStatus::Completed;
        task.reason = Some(reason.to_owned());
        task.version += 1;
        task.updated = now;
        let sid = task.sid.clone();
        let accepted = task.accepted;
        self.emit(
            s,
            EventType::TaskCompleted,
            format!("Task {sid} completed"),
            About {
                task: Some(t),
                ..About::default()
            },
        );
        let mut worker = None;
        if let Some(r) = accepted {
            let w = self.end_reservation(s, r, ReservationStatus::Completed);
            worker = Some((
                w,
                self.spaces
                    .at(s)
                    .reservations
                    .at(r)
                    .post_work_activity
                    .clone(),
            ));
        }
        self.emit(
            s,
            EventType::TaskUpdated,
            format!("Task {sid} updated"),
            About {
                task: Some(t),
                ..About::default()
            },
        );
        if let Some((w, post_work)) = worker {
            if let Some(activity) = post_work {
                self.set_activity(s, w, &activity);
            }
            self.worker_freed(s, w);
        }
    }

    // ---- Events -----------------------------------------------------------------------------

    /// Records an event, and its effect (with its delivery when the workspace posts events of
    /// its type).
    fn emit(&mut self, s: usize, event_type: EventType, description: String, about: About) {
        let sid: crate::sid::EventSid = self.sid("EV");
        let now = self.now;
        let space = self.spaces.at(s);
        let task = about.task.map(|t| space.tasks.at(t));
        let reservation = about.reservation.map(|r| space.reservations.at(r));
        let age = about.task.map_or(0, |t| self.age(s, t));
        let mut data = Vec::new();
        if let Some(task) = task {
            data.extend(events::task_fields(space, task, age));
        }
        if let Some(w) = about.worker {
            data.extend(events::worker_fields(space, w));
        }
        if let Some(reservation) = reservation {
            data.push(("ReservationSid", reservation.sid.to_string()));
        }
        let queue = about
            .queue
            .clone()
            .or_else(|| reservation.map(|reservation| reservation.queue.clone()))
            .or_else(|| task.and_then(|task| task.queue.clone()));
        if about.queue.is_some()
            && task.and_then(|task| task.queue.as_ref()) != about.queue.as_ref()
            && let Some(queue) = &about.queue
        {
            data.retain(|(name, _)| !name.starts_with("TaskQueue"));
            data.extend(events::queue_fields(space, queue));
        }
        data.extend(about.extra);
        let ws = &space.sid;
        let (resource_sid, resource_path) = match event_type.resource_type() {
            "reservation" => match (reservation, task) {
                (Some(reservation), Some(task)) => (
                    reservation.sid.to_string(),
                    format!(
                        "/v1/Workspaces/{ws}/Tasks/{}/Reservations/{}",
                        task.sid, reservation.sid
                    ),
                ),
                _ => (ws.to_string(), format!("/v1/Workspaces/{ws}")),
            },
            "worker" => match about.worker {
                Some(w) => {
                    let sid = &space.workers.at(w).sid;
                    (
                        sid.to_string(),
                        format!("/v1/Workspaces/{ws}/Workers/{sid}"),
                    )
                }
                None => (ws.to_string(), format!("/v1/Workspaces/{ws}")),
            },
            "taskqueue" => match &queue {
                Some(queue) => (
                    queue.to_string(),
                    format!("/v1/Workspaces/{ws}/TaskQueues/{queue}"),
                ),
                None => (ws.to_string(), format!("/v1/Workspaces/{ws}")),
            },
            "workflow" => match task {
                Some(task) => (
                    task.workflow.to_string(),
                    format!("/v1/Workspaces/{ws}/Workflows/{}", task.workflow),
                ),
                None => (ws.to_string(), format!("/v1/Workspaces/{ws}")),
            },
            _ => match task {
                Some(task) => (
                    task.sid.to_string(),
                    format!("/v1/Workspaces/{ws}/Tasks/{}", task.sid),
                ),
                None => (ws.to_string(), format!("/v1/Workspaces/{ws}")),
            },
        };
        let record = EventRecord {
            sid: sid.clone(),
            event_type,
            date: now,
            description: description.clone(),
            resource_type: event_type.resource_type(),
            resource_sid,
            resource_path,
            task: task.map(|task| task.sid.clone()),
            worker: about.worker.map(|w| space.workers.at(w).sid.clone()),
            reservation: reservation.map(|reservation| reservation.sid.clone()),
            queue,
            workflow: task.map(|task| task.workflow.clone()),
            channel: task.and_then(|task| {
                space
                    .channels
                    .get(&task.channel)
                    .map(|channel| channel.unique_name.clone())
            }),
            data,
        };
        let passes = space
            .events_filter
            .as_ref()
            .is_none_or(|(_, types)| types.iter().any(|item| item == event_type.as_str()));
        let delivery = match (&space.event_callback_url, passes) {
            (Some(url), true) => {
                let mut params =
                    events::common_fields(&self.account, ws, &space.friendly_name, &record);
                params.extend(
                    record
                        .data
                        .iter()
                        .map(|(name, value)| ((*name).to_owned(), value.clone())),
                );
                Some((url.clone(), params))
            }
            _ => None,
        };
        let workspace = ws.clone();
        self.spaces.at_mut(s).events.push(sid, record);
        self.effects.push(Effect::Event(Occurred {
            workspace,
            event_type,
            description,
            delivery,
        }));
    }
}

/// `after(instant, seconds)`: the instant `seconds` later (the latest instant there is, past
/// it).
fn after(instant: Timestamp, seconds: u64) -> Timestamp {
    let span = SignedDuration::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX));
    instant.checked_add(span).unwrap_or(Timestamp::MAX)
}

/// The name a filter is known by in events: `filter_friendly_name`, its position, or
/// `default_filter`.
fn filter_name(configuration: &Workflow, place: Place) -> String {
    match place {
        Place::Target { filter, .. } => configuration
            .filters()
            .get(filter)
            .and_then(workflow::Filter::name)
            .map_or_else(|| format!("filters[{filter}]"), str::to_owned),
        Place::Default => "default_filter".to_owned(),
    }
}

fn required_name(name: &str) -> Result<String, SimError> {
    if name.trim().is_empty() {
        return Err(SimError::invalid(
            "FriendlyName",
            "required: send a name that is not blank",
        ));
    }
    Ok(name.to_owned())
}

fn unknown_activity(
    parameter: &'static str,
    activity: &ActivitySid,
    ws: &WorkspaceSid,
) -> SimError {
    SimError::invalid(
        parameter,
        format!("activity {activity} is not in workspace {ws}"),
    )
}

fn channel_names() -> String {
    CHANNELS.map(|(name, _)| name).join(", ")
}

/// Attributes: a JSON object of at most [`MAX_ATTRIBUTES`] characters.
pub(crate) fn attributes(parameter: &'static str, text: &str) -> Result<Value, SimError> {
    let length = text.chars().count();
    if length > MAX_ATTRIBUTES {
        return Err(SimError::invalid(
            parameter,
            format!("{length} characters: TaskRouter takes at most {MAX_ATTRIBUTES}"),
        ));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(SimError::invalid(
            parameter,
            format!(
                "must be a JSON object, found {}",
                crate::document::json_kind(&other)
            ),
        )),
        Err(error) => Err(SimError::invalid(
            parameter,
            format!("not valid JSON: {error}"),
        )),
    }
}

/// `EventsFilter`: `None` or empty sends every event.
fn events_filter(text: Option<&str>) -> Result<Option<(String, Vec<String>)>, SimError> {
    let Some(text) = text.filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    EventsFilter::parse(text).map_err(|reason| SimError::invalid("EventsFilter", reason))?;
    Ok(Some((
        text.to_owned(),
        text.split(',').map(str::to_owned).collect(),
    )))
}

pub(crate) fn target_workers(text: &str) -> Result<Expression, SimError> {
    Expression::parse(text).map_err(|error| {
        SimError::invalid("TargetWorkers", format!("not a valid expression: {error}"))
    })
}

fn max_reserved(max: u32) -> Result<u32, SimError> {
    if (1..=MAX_RESERVED_WORKERS).contains(&max) {
        Ok(max)
    } else {
        Err(SimError::invalid(
            "MaxReservedWorkers",
            format!("{max} is out of range: send 1 to {MAX_RESERVED_WORKERS}"),
        ))
    }
}

fn reservation_timeout(seconds: u32) -> Result<u32, SimError> {
    if (1..=MAX_RESERVATION_TIMEOUT).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(SimError::invalid(
            "TaskReservationTimeout",
            format!("{seconds} is out of range: send 1 to {MAX_RESERVATION_TIMEOUT} seconds"),
        ))
    }
}

fn priority(value: i64) -> Result<i64, SimError> {
    if (0..=MAX_PRIORITY).contains(&value) {
        Ok(value)
    } else {
        Err(SimError::invalid(
            "Priority",
            format!("{value} is out of range: send 0 to {MAX_PRIORITY}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const Q1: &str = "WQ00000000000000000000000000000001";
    const Q2: &str = "WQ00000000000000000000000000000002";

    fn start() -> Timestamp {
        "2026-12-02T12:00:00Z".parse().expect("an instant")
    }

    /// An engine with one workspace: activities `Offline` (default, timeout), `Available`,
    /// `Unavailable`, `Break`; queues Q1 (`skills HAS 'support'`) and Q2 (everyone); one
    /// Workflow with `configuration` and callback URLs; the workers given (name, attributes),
    /// available, created one second apart so the first is idle longest.
    struct Sim {
        engine: Engine,
        ws: WorkspaceSid,
        workers: Vec<WorkerSid>,
        available: ActivitySid,
        offline: ActivitySid,
        break_: ActivitySid,
    }

    fn sim(configuration: Value, workers: &[(&str, Value)]) -> Sim {
        sim_with(configuration, workers, 1, DEFAULT_RESERVATION_TIMEOUT)
    }

    fn sim_with(
        configuration: Value,
        workers: &[(&str, Value)],
        max_reserved: u32,
        reservation_timeout: u32,
    ) -> Sim {
        let mut engine = Engine::new(WorkerSid::parse_account(), start(), 7);
        let ws = engine
            .create_workspace(NewWorkspace {
                friendly_name: "test".to_owned(),
                ..NewWorkspace::default()
            })
            .expect("a workspace");
        let space = engine.space(&ws).expect("there");
        let activity = |name: &str| {
            space
                .activities
                .all()
                .iter()
                .find(|activity| activity.friendly_name == name)
                .expect("a default activity")
                .sid
                .clone()
        };
        let (available, offline) = (activity("Available"), activity("Offline"));
        let break_ = engine
            .create_activity(&ws, None, "Break", false)
            .expect("an activity");
        for (sid, target) in [(Q1, "skills HAS 'support'"), (Q2, "1==1")] {
            engine
                .create_queue(
                    &ws,
                    NewQueue {
                        sid: Some(TaskQueueSid::parse(sid).expect("sid")),
                        friendly_name: sid[32..].to_owned(),
                        target_workers: Some(target.to_owned()),
                        max_reserved_workers: Some(max_reserved),
                        task_order: None,
                    },
                )
                .expect("a queue");
        }
        engine
            .create_workflow(
                &ws,
                NewWorkflow {
                    friendly_name: "routing".to_owned(),
                    configuration: configuration.to_string(),
                    assignment_callback_url: HttpUrl::new("https://example.com/assign"),
                    fallback_assignment_callback_url: HttpUrl::new("https://example.com/fallback"),
                    task_reservation_timeout: Some(reservation_timeout),
                    ..NewWorkflow::default()
                },
            )
            .expect("a workflow");
        let mut sim = Sim {
            engine,
            ws,
            workers: Vec::new(),
            available,
            offline,
            break_,
        };
        for (name, attributes) in workers {
            let sid = sim
                .engine
                .create_worker(
                    &sim.ws,
                    NewWorker {
                        friendly_name: (*name).to_owned(),
                        activity: Some(sim.available.clone()),
                        attributes: Some(attributes.to_string()),
                        ..NewWorker::default()
                    },
                )
                .expect("a worker");
            sim.workers.push(sid);
            sim.later(1);
        }
        sim.engine.take_effects();
        sim
    }

    trait AccountOf {
        fn parse_account() -> AccountSid;
    }

    impl AccountOf for WorkerSid {
        fn parse_account() -> AccountSid {
            AccountSid::parse(ACCOUNT).expect("sid")
        }
    }

    /// Everywhere: Q2, everyone, with no timeout.
    fn everyone() -> Value {
        json!({"task_routing": {"filters": [], "default_filter": {"queue": Q2}}})
    }

    impl Sim {
        fn later(&mut self, seconds: u64) {
            let until = after(self.engine.now(), seconds);
            self.engine.advance_to(until);
        }

        fn task(&mut self, attributes: Value) -> TaskSid {
            self.task_with(NewTask {
                attributes: Some(attributes.to_string()),
                ..NewTask::default()
            })
        }

        fn task_with(&mut self, new: NewTask) -> TaskSid {
            self.engine.create_task(&self.ws, new).expect("a task")
        }

        fn space(&self) -> &Space {
            self.engine.space(&self.ws).expect("there")
        }

        fn status(&self, task: &TaskSid) -> &'static str {
            self.space()
                .tasks
                .get(task)
                .expect("a task")
                .status
                .as_str()
        }

        fn queue_of(&self, task: &TaskSid) -> Option<&str> {
            self.space()
                .tasks
                .get(task)
                .expect("a task")
                .queue
                .as_ref()
                .map(|queue| &queue.as_str()[32..])
        }

        /// The task's reservations: worker name and status, in creation order.
        fn reservations(&self, task: &TaskSid) -> Vec<(String, String)> {
            let space = self.space();
            let t = space.tasks.find(task).expect("a task");
            space
                .reservations
                .all()
                .iter()
                .filter(|reservation| reservation.task == t)
                .map(|reservation| {
                    let name = space
                        .routing_worker(reservation.worker)
                        .friendly_name()
                        .unwrap_or("?")
                        .to_owned();
                    (name, reservation.status.as_str().to_owned())
                })
                .collect()
        }

        fn pending(&self, task: &TaskSid) -> ReservationSid {
            let space = self.space();
            let t = space.tasks.find(task).expect("a task");
            let r = *space
                .tasks
                .at(t)
                .pending
                .first()
                .expect("a pending reservation");
            space.reservations.at(r).sid.clone()
        }

        fn activity_of(&self, worker: usize) -> &ActivitySid {
            &self
                .space()
                .workers
                .get(&self.workers[worker])
                .expect("a worker")
                .activity
        }

        fn update(
            &mut self,
            reservation: &ReservationSid,
            task: &TaskSid,
            update: ReservationUpdate,
        ) -> Result<(), SimError> {
            self.engine
                .update_reservation(&self.ws, Through::Task(task), reservation, update)
        }

        fn accept(&mut self, task: &TaskSid) {
            let reservation = self.pending(task);
            self.update(
                &reservation,
                task,
                ReservationUpdate::Instruction(Instruction::Accept),
            )
            .expect("accepted");
        }

        fn event_types(&mut self) -> Vec<&'static str> {
            self.engine
                .take_effects()
                .into_iter()
                .filter_map(|effect| match effect {
                    Effect::Event(event) => Some(event.event_type.as_str()),
                    _ => None,
                })
                .collect()
        }
    }

    fn worker(skills: &[&str]) -> Value {
        json!({"skills": skills})
    }

    #[test]
    fn a_new_task_is_reserved_with_the_events_in_the_order_measured_and_the_callback_of_the_contract()
     {
        let mut sim = sim(everyone(), &[("alice", worker(&["support"]))]);
        let task = sim.task(json!({"type": "support"}));
        let effects = sim.engine.take_effects();
        let events: Vec<&str> = effects
            .iter()
            .filter_map(|effect| match effect {
                Effect::Event(event) => Some(event.event_type.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            events,
            [
                "workflow.entered",
                "task-queue.entered",
                "task.created",
                "workflow.target-matched",
                "reservation.created"
            ],
            "docs/taskrouter.md §12"
        );
        let callback = effects
            .iter()
            .find_map(|effect| match effect {
                Effect::Callback(callback) => Some(callback),
                _ => None,
            })
            .expect("an assignment callback");
        assert_eq!(callback.url.as_str(), "https://example.com/assign");
        assert_eq!(callback.attempt, Attempt::Primary);
        let names: Vec<&str> = callback
            .params
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(
            names,
            [
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
                "Timestamp"
            ],
            "docs/taskrouter.md §1, in its order"
        );
        let get = |name: &str| {
            callback
                .params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(get("TaskSid"), Some(task.as_str()));
        assert_eq!(get("WorkerSid"), Some(sim.workers[0].as_str()));
        assert_eq!(get("TaskQueueSid"), Some(Q2));
        assert_eq!(get("TaskAttributes"), Some(r#"{"type":"support"}"#));
        assert_eq!(get("TaskAge"), Some("0"));
        assert_eq!(sim.status(&task), "reserved");
    }

    #[test]
    fn an_accepted_task_is_assigned_then_completed_with_the_events_in_the_order_measured() {
        let mut sim = sim(everyone(), &[("alice", worker(&[]))]);
        let task = sim.task(json!({}));
        sim.accept(&task);
        assert_eq!(sim.status(&task), "assigned");
        sim.event_types();
        sim.engine
            .update_task(
                &sim.ws,
                &task,
                TaskChanges {
                    assignment_status: Some("completed".to_owned()),
                    reason: Some("resolved".to_owned()),
                    ..TaskChanges::default()
                },
            )
            .expect("completed");
        assert_eq!(
            sim.event_types(),
            ["task.completed", "reservation.completed", "task.updated"],
            "docs/taskrouter.md §12"
        );
        assert_eq!(sim.status(&task), "completed");
        assert_eq!(
            sim.reservations(&task),
            [("alice".to_owned(), "completed".to_owned())]
        );
        let next = sim.task(json!({}));
        assert_eq!(sim.status(&next), "reserved", "alice is free again");
    }

    #[test]
    fn a_reservation_that_times_out_moves_the_worker_to_the_timeout_activity_and_offers_the_task_again()
     {
        let mut sim = sim(everyone(), &[("alice", worker(&[])), ("bob", worker(&[]))]);
        let task = sim.task(json!({}));
        sim.later(119);
        assert_eq!(
            sim.reservations(&task),
            [("alice".to_owned(), "pending".to_owned())],
            "alice was idle longest"
        );
        sim.event_types();
        sim.later(1);
        assert_eq!(
            sim.reservations(&task),
            [
                ("alice".to_owned(), "timeout".to_owned()),
                ("bob".to_owned(), "pending".to_owned())
            ],
            "at 120 s, the default TaskReservationTimeout"
        );
        assert_eq!(
            sim.activity_of(0),
            &sim.offline,
            "the workspace's TimeoutActivitySid"
        );
        assert_eq!(
            sim.event_types(),
            [
                "reservation.timeout",
                "worker.activity.update",
                "reservation.created"
            ]
        );
    }

    #[test]
    fn a_reject_moves_the_worker_to_its_activity_and_the_next_worker_is_offered_the_task() {
        let mut sim = sim(everyone(), &[("alice", worker(&[])), ("bob", worker(&[]))]);
        let task = sim.task(json!({}));
        let reservation = sim.pending(&task);
        let reject = Instruction::from_json(
            &json!({"instruction": "reject", "activity_sid": sim.break_.as_str()}),
        )
        .expect("valid");
        sim.event_types();
        sim.update(&reservation, &task, ReservationUpdate::Instruction(reject))
            .expect("rejected");
        assert_eq!(
            sim.reservations(&task),
            [
                ("alice".to_owned(), "rejected".to_owned()),
                ("bob".to_owned(), "pending".to_owned())
            ]
        );
        assert_eq!(sim.activity_of(0), &sim.break_);
        assert_eq!(
            sim.event_types(),
            [
                "reservation.rejected",
                "worker.activity.update",
                "reservation.created"
            ]
        );
        // A REST reject without an activity keeps the worker available: the task may come back
        // to the same worker once nobody else is free (docs/taskrouter.md §2: "or TaskRouter may
        // offer the same worker the same task again").
        let reservation = sim.pending(&task);
        sim.update(&reservation, &task, ReservationUpdate::RejectInPlace)
            .expect("rejected");
        assert_eq!(
            sim.reservations(&task)[2],
            ("bob".to_owned(), "pending".to_owned())
        );
    }

    #[test]
    fn a_reservation_that_left_pending_refuses_updates() {
        let mut sim = sim(everyone(), &[("alice", worker(&[]))]);
        let task = sim.task(json!({}));
        let reservation = sim.pending(&task);
        sim.accept(&task);
        let error = sim
            .update(
                &reservation,
                &task,
                ReservationUpdate::Instruction(Instruction::Accept),
            )
            .expect_err("accepted already");
        assert_eq!(
            error,
            SimError::NotPending {
                reservation: reservation.clone(),
                status: ReservationStatus::Accepted
            }
        );
        assert_eq!((error.status(), error.code()), (400, 20001));
        assert!(
            error
                .to_string()
                .contains("not in expected state [pending]"),
            "{error}"
        );
        let other = sim.workers[0].clone();
        let error = sim
            .engine
            .update_reservation(
                &sim.ws,
                Through::Worker(&other),
                &ReservationSid::parse("WR00000000000000000000000000000009").expect("sid"),
                ReservationUpdate::RejectInPlace,
            )
            .expect_err("no such reservation");
        assert_eq!(error.status(), 404);
    }

    #[test]
    fn with_max_reserved_workers_several_reservations_are_pending_and_an_accept_rescinds_the_others()
     {
        let mut sim = sim_with(
            everyone(),
            &[
                ("alice", worker(&[])),
                ("bob", worker(&[])),
                ("carol", worker(&[])),
            ],
            2,
            DEFAULT_RESERVATION_TIMEOUT,
        );
        let task = sim.task(json!({}));
        assert_eq!(
            sim.reservations(&task),
            [
                ("alice".to_owned(), "pending".to_owned()),
                ("bob".to_owned(), "pending".to_owned())
            ],
            "MaxReservedWorkers 2: the two idle longest"
        );
        let space = sim.space();
        let t = space.tasks.find(&task).expect("a task");
        let bob = space.tasks.at(t).pending[1];
        let bob = space.reservations.at(bob).sid.clone();
        sim.event_types();
        sim.update(
            &bob,
            &task,
            ReservationUpdate::Instruction(Instruction::Accept),
        )
        .expect("accepted");
        assert_eq!(
            sim.reservations(&task),
            [
                ("alice".to_owned(), "rescinded".to_owned()),
                ("bob".to_owned(), "accepted".to_owned())
            ]
        );
        assert_eq!(
            sim.event_types(),
            ["reservation.accepted", "reservation.rescinded"]
        );
    }

    #[test]
    fn a_task_whose_ttl_passes_while_it_waits_is_canceled_with_its_reservations() {
        let mut sim = sim(everyone(), &[("alice", worker(&[]))]);
        let task = sim.task_with(NewTask {
            timeout: Some(60),
            ..NewTask::default()
        });
        let waiting = sim.task_with(NewTask {
            timeout: Some(30),
            ..NewTask::default()
        });
        assert_eq!(
            (sim.status(&task), sim.status(&waiting)),
            ("reserved", "pending")
        );
        sim.event_types();
        sim.later(30);
        assert_eq!(sim.status(&waiting), "canceled");
        assert_eq!(sim.event_types(), ["task.canceled"]);
        sim.later(30);
        assert_eq!(sim.status(&task), "canceled");
        assert_eq!(
            sim.reservations(&task),
            [("alice".to_owned(), "canceled".to_owned())]
        );
        assert_eq!(sim.event_types(), ["task.canceled", "reservation.canceled"]);
        let space = sim.space();
        assert_eq!(
            space.tasks.get(&task).expect("a task").reason.as_deref(),
            Some("Task TTL Exceeded")
        );
    }

    /// Support for 20 s in Q1, then 10 s in Q2, then the next filter (`vip`), else canceled.
    fn escalation() -> Value {
        json!({"task_routing": {"filters": [
            {"filter_friendly_name": "support", "expression": "type == 'support'", "targets": [
                {"queue": Q1, "timeout": 20},
                {"queue": Q2, "timeout": 10, "priority": 9}
            ]},
            {"filter_friendly_name": "vip", "expression": "vip == true", "targets": [
                {"queue": Q2, "timeout": 30}
            ]}
        ], "default_filter": {"queue": Q2}}})
    }

    #[test]
    fn step_timeouts_count_the_task_age_across_steps_and_fall_through_to_the_next_filter() {
        // Nobody is available: the task walks its steps by age alone.
        let mut sim = sim(escalation(), &[]);
        let plain = sim.task(json!({"type": "support"}));
        let vip = sim.task(json!({"type": "support", "vip": true}));
        #[rustfmt::skip]
        let cases = [
            (19, Some("01"), Some("01"), "pending", "both wait in the first step until 20 s"),
            (1, Some("02"), Some("02"), "pending", "at 20 s the second step, in Q2"),
            (10, None, Some("02"), "canceled", "at 30 s, 20 + 10: the plain task matches no later filter; the VIP task enters `vip`"),
            (30, None, None, "canceled", "at 60 s `vip` times out too"),
        ];
        for (seconds, plain_queue, vip_queue, plain_status, why) in cases {
            sim.later(seconds);
            if plain_status == "pending" {
                assert_eq!(sim.queue_of(&plain), plain_queue, "{why}");
            }
            assert_eq!(sim.status(&plain), plain_status, "{why}");
            if let Some(queue) = vip_queue {
                assert_eq!(sim.queue_of(&vip), Some(queue), "{why}");
                assert_eq!(sim.status(&vip), "pending", "{why}");
            }
        }
        assert_eq!(sim.status(&vip), "canceled");
        let space = sim.space();
        assert_eq!(
            space.tasks.get(&plain).expect("a task").reason.as_deref(),
            Some("Workflow Timeout")
        );
        let types: Vec<&str> = space
            .events
            .all()
            .iter()
            .filter(|event| event.task.as_ref() == Some(&plain))
            .map(|event| event.event_type.as_str())
            .collect();
        assert_eq!(
            types,
            [
                "workflow.entered",
                "task-queue.entered",
                "task.created",
                "workflow.target-matched",
                "task-queue.timeout",
                "task-queue.entered",
                "workflow.target-matched",
                "task-queue.timeout",
                "workflow.timeout",
                "task.canceled"
            ]
        );
    }

    #[test]
    fn a_step_priority_replaces_the_task_priority_while_it_is_there() {
        let mut sim = sim(escalation(), &[]);
        let task = sim.task_with(NewTask {
            attributes: Some(json!({"type": "support"}).to_string()),
            priority: Some(3),
            ..NewTask::default()
        });
        let priority = |sim: &Sim| sim.space().tasks.get(&task).expect("a task").priority;
        assert_eq!(priority(&sim), 3);
        sim.later(20);
        assert_eq!(priority(&sim), 9, "the second step's priority");
    }

    #[test]
    fn a_step_that_times_out_while_the_task_is_reserved_moves_it_on_when_the_reservation_ends() {
        // The task-evaluation page's worked example (docs/taskrouter.md §12): a first step of 5 s,
        // a reservation made at 3 s that times out at 8 s (a 5 s TaskReservationTimeout): the
        // task is re-evaluated into the next step then, which ends at 20 s of age.
        let configuration = json!({"task_routing": {"filters": [
            {"expression": "1 == 1", "targets": [
                {"queue": Q1, "timeout": 5},
                {"queue": Q2, "timeout": 15}
            ]}
        ]}});
        let mut sim = sim_with(configuration, &[], 1, 5);
        let task = sim.task(json!({}));
        sim.later(3);
        let alice = sim
            .engine
            .create_worker(
                &sim.ws,
                NewWorker {
                    friendly_name: "alice".to_owned(),
                    activity: Some(sim.available.clone()),
                    attributes: Some(worker(&["support"]).to_string()),
                    ..NewWorker::default()
                },
            )
            .expect("a worker");
        assert_eq!(
            sim.reservations(&task),
            [("alice".to_owned(), "pending".to_owned())]
        );
        sim.later(2);
        assert_eq!(
            sim.queue_of(&task),
            Some("01"),
            "at 5 s the step timed out, but the task is reserved"
        );
        sim.later(3);
        assert_eq!(
            sim.reservations(&task),
            [("alice".to_owned(), "timeout".to_owned())]
        );
        assert_eq!(
            sim.queue_of(&task),
            Some("02"),
            "at 8 s, re-evaluated into the next step"
        );
        let until = sim.space().tasks.get(&task).expect("a task").walk.until;
        assert_eq!(until, Some(20), "5 + 15 s of age: 12 s left at 8 s");
        let _ = alice;
    }

    #[test]
    fn skip_if_is_evaluated_only_when_nobody_can_be_reserved_at_once() {
        let configuration = json!({"task_routing": {"filters": [
            {"expression": "1 == 1", "targets": [
                {"queue": Q1, "skip_if": "workers.available == 0", "timeout": 60},
                {"queue": Q2}
            ]}
        ]}});
        let mut sim = sim(configuration.clone(), &[("bob", worker(&[]))]);
        let task = sim.task(json!({}));
        assert_eq!(
            sim.queue_of(&task),
            Some("02"),
            "no support worker: Q1 skipped at once"
        );
        assert!(
            sim.space()
                .events
                .all()
                .iter()
                .any(|event| event.event_type == EventType::WorkflowSkipped),
            "workflow.skipped"
        );
        let mut sim = sim_with(configuration, &[("alice", worker(&["support"]))], 1, 120);
        let task = sim.task(json!({}));
        assert_eq!(
            sim.queue_of(&task),
            Some("01"),
            "alice can be reserved: not skipped"
        );
        let second = sim.task(json!({}));
        assert_eq!(
            sim.queue_of(&second),
            Some("02"),
            "alice is busy with the first task: nobody can be reserved at once, skip_if counts her as unavailable"
        );
    }

    #[test]
    fn a_free_worker_takes_the_highest_priority_then_the_oldest_waiting_task() {
        let mut sim = sim(everyone(), &[]);
        let low = sim.task_with(NewTask {
            priority: Some(1),
            ..NewTask::default()
        });
        sim.later(1);
        let high_old = sim.task_with(NewTask {
            priority: Some(5),
            ..NewTask::default()
        });
        sim.later(1);
        let high_new = sim.task_with(NewTask {
            priority: Some(5),
            ..NewTask::default()
        });
        let alice = sim
            .engine
            .create_worker(
                &sim.ws,
                NewWorker {
                    friendly_name: "alice".to_owned(),
                    activity: Some(sim.available.clone()),
                    ..NewWorker::default()
                },
            )
            .expect("a worker");
        assert_eq!(
            [
                sim.status(&low),
                sim.status(&high_old),
                sim.status(&high_new)
            ],
            ["pending", "reserved", "pending"]
        );
        let _ = alice;
        sim.engine
            .update_queue(
                &sim.ws,
                &TaskQueueSid::parse(Q2).expect("sid"),
                QueueChanges {
                    task_order: Some(Order::Lifo),
                    ..QueueChanges::default()
                },
            )
            .expect("updated");
        sim.accept(&high_old);
        sim.engine
            .update_task(
                &sim.ws,
                &high_old,
                TaskChanges {
                    assignment_status: Some("completed".to_owned()),
                    ..TaskChanges::default()
                },
            )
            .expect("completed");
        assert_eq!(
            sim.status(&high_new),
            "reserved",
            "next: the other priority-5 task"
        );
    }

    #[test]
    fn channel_capacity_bounds_what_a_worker_holds_at_once() {
        let mut sim = sim(everyone(), &[]);
        sim.engine
            .create_worker(
                &sim.ws,
                NewWorker {
                    friendly_name: "alice".to_owned(),
                    activity: Some(sim.available.clone()),
                    capacities: vec![("chat".to_owned(), 2)],
                    ..NewWorker::default()
                },
            )
            .expect("a worker");
        let chat = |sim: &mut Sim| {
            sim.task_with(NewTask {
                channel: Some("chat".to_owned()),
                ..NewTask::default()
            })
        };
        let first = chat(&mut sim);
        let second = chat(&mut sim);
        let third = chat(&mut sim);
        let voice = sim.task_with(NewTask {
            channel: Some("voice".to_owned()),
            ..NewTask::default()
        });
        let default = sim.task(json!({}));
        assert_eq!(
            [
                sim.status(&first),
                sim.status(&second),
                sim.status(&third),
                sim.status(&voice),
                sim.status(&default)
            ],
            ["reserved", "reserved", "pending", "reserved", "reserved"],
            "chat capacity 2; voice and default 1 each, with multitasking"
        );
        sim.engine
            .update_workspace(
                &sim.ws,
                WorkspaceChanges {
                    multi_task_enabled: Some(false),
                    ..WorkspaceChanges::default()
                },
            )
            .expect("updated");
        sim.accept(&first);
        sim.engine
            .update_task(
                &sim.ws,
                &first,
                TaskChanges {
                    assignment_status: Some("completed".to_owned()),
                    ..TaskChanges::default()
                },
            )
            .expect("completed");
        assert_eq!(
            sim.status(&third),
            "pending",
            "without multitasking one task at a time, and alice holds three"
        );
    }

    #[test]
    fn an_unusable_callback_answer_goes_to_the_fallback_url_once() {
        let mut sim = sim(everyone(), &[("alice", worker(&[]))]);
        let task = sim.task(json!({}));
        let reservation = sim.pending(&task);
        sim.engine.take_effects();
        let ws = sim.ws.clone();
        assert_eq!(
            sim.engine
                .callback_failed(&ws, &reservation, Attempt::Primary),
            Ok(true)
        );
        let effects = sim.engine.take_effects();
        let [Effect::Callback(fallback)] = effects.as_slice() else {
            panic!("one fallback callback: {effects:?}")
        };
        assert_eq!(fallback.url.as_str(), "https://example.com/fallback");
        assert_eq!(fallback.attempt, Attempt::Fallback);
        assert_eq!(
            sim.engine
                .callback_failed(&ws, &reservation, Attempt::Fallback),
            Ok(false)
        );
        assert!(
            sim.engine.take_effects().is_empty(),
            "then the reservation waits for its timeout"
        );
        assert_eq!(
            sim.reservations(&task),
            [("alice".to_owned(), "pending".to_owned())]
        );
    }

    #[test]
    fn callback_answers_apply_as_instructions_and_telephony_is_recorded_not_performed() {
        let activity = "WA0123456789abcdef0123456789abcdef";
        #[rustfmt::skip]
        let cases = [
            (json!({}), "pending", "{} defers"),
            (json!({"instruction": "accept"}), "accepted", "accept"),
            (json!({"instruction": "dequeue", "from": "+18001234567"}), "accepted", "dequeue accepts"),
            (json!({"instruction": "conference"}), "accepted", "conference accepts"),
            (json!({"instruction": "call", "url": "https://example.com/t", "from": "+1"}), "pending", "call without accept"),
            (json!({"instruction": "call", "url": "https://example.com/t", "from": "+1", "accept": true}), "accepted", "call with accept"),
            (json!({"instruction": "redirect", "call_sid": "CA0123456789abcdef0123456789abcdef", "url": "https://example.com/t"}), "pending", "redirect without accept"),
        ];
        for (body, status, why) in cases {
            let mut sim = sim(everyone(), &[("alice", worker(&[]))]);
            let task = sim.task(json!({}));
            let reservation = sim.pending(&task);
            sim.engine.take_effects();
            let answer = if body == json!({}) {
                Answer::Defer
            } else {
                Answer::Instruction(Instruction::from_json(&body).expect(why))
            };
            let ws = sim.ws.clone();
            sim.engine
                .callback_answered(&ws, &reservation, &answer)
                .expect(why);
            assert_eq!(sim.reservations(&task)[0].1, status, "{why}");
            let noted = sim
                .engine
                .take_effects()
                .iter()
                .any(|effect| matches!(effect, Effect::Note(note) if note.contains("telephony not performed")));
            assert_eq!(
                noted,
                !matches!(
                    answer,
                    Answer::Defer | Answer::Instruction(Instruction::Accept)
                ),
                "{why}"
            );
        }
        let mut sim = sim(everyone(), &[("alice", worker(&[]))]);
        let task = sim.task(json!({}));
        let reservation = sim.pending(&task);
        let unknown =
            Instruction::from_json(&json!({"instruction": "reject", "activity_sid": activity}))
                .expect("valid");
        let ws = sim.ws.clone();
        let error = sim
            .engine
            .callback_answered(&ws, &reservation, &Answer::Instruction(unknown))
            .expect_err("not the workspace's");
        assert_eq!(
            error.to_string(),
            format!(
                "WorkerActivitySid: activity {activity} is not in workspace {}",
                sim.ws
            )
        );
    }

    #[test]
    fn a_post_work_activity_is_applied_when_the_task_ends() {
        let mut sim = sim(everyone(), &[("alice", worker(&[]))]);
        let task = sim.task(json!({}));
        let reservation = sim.pending(&task);
        let dequeue = Instruction::from_json(
            &json!({"instruction": "dequeue", "post_work_activity_sid": sim.break_.as_str()}),
        )
        .expect("valid");
        sim.update(&reservation, &task, ReservationUpdate::Instruction(dequeue))
            .expect("applied");
        assert_eq!(sim.activity_of(0), &sim.available, "during the call");
        sim.update(&reservation, &task, ReservationUpdate::Wrapping)
            .expect("wrapping");
        assert_eq!(sim.status(&task), "wrapping");
        sim.update(&reservation, &task, ReservationUpdate::Completed)
            .expect("completed");
        assert_eq!(sim.status(&task), "completed");
        assert_eq!(sim.activity_of(0), &sim.break_, "after it");
    }

    #[test]
    fn reject_pending_reservations_rejects_what_a_worker_going_unavailable_holds() {
        let mut sim = sim(everyone(), &[("alice", worker(&[]))]);
        let task = sim.task(json!({}));
        let alice = sim.workers[0].clone();
        let break_ = sim.break_.clone();
        sim.engine
            .update_worker(
                &sim.ws,
                &alice,
                WorkerChanges {
                    activity: Some(break_),
                    reject_pending_reservations: true,
                    ..WorkerChanges::default()
                },
            )
            .expect("updated");
        assert_eq!(
            sim.reservations(&task),
            [("alice".to_owned(), "rejected".to_owned())]
        );
        assert_eq!(sim.status(&task), "pending");
        let available = sim.available.clone();
        sim.engine
            .update_worker(
                &sim.ws,
                &alice,
                WorkerChanges {
                    activity: Some(available),
                    ..WorkerChanges::default()
                },
            )
            .expect("updated");
        assert_eq!(
            sim.reservations(&task)[1],
            ("alice".to_owned(), "pending".to_owned()),
            "back: offered again"
        );
    }

    #[test]
    fn a_task_reserved_a_thousand_times_is_canceled() {
        let mut sim = sim(everyone(), &[("alice", worker(&[]))]);
        let task = sim.task(json!({}));
        for _ in 0..MAX_RESERVATIONS_PER_TASK {
            let reservation = sim.pending(&task);
            sim.update(&reservation, &task, ReservationUpdate::RejectInPlace)
                .expect("rejected");
        }
        assert_eq!(sim.status(&task), "canceled");
        assert_eq!(sim.reservations(&task).len(), 1000);
    }

    #[test]
    fn task_updates_check_if_match_and_the_status_they_move_from() {
        let mut sim = sim(everyone(), &[]);
        let task = sim.task(json!({}));
        let version = sim.space().tasks.get(&task).expect("a task").version;
        let ws = sim.ws.clone();
        let stale = sim.engine.update_task(
            &ws,
            &task,
            TaskChanges {
                priority: Some(2),
                if_match: Some("999".to_owned()),
                ..TaskChanges::default()
            },
        );
        assert_eq!(stale.map_err(|error| error.status()), Err(412));
        sim.engine
            .update_task(
                &ws,
                &task,
                TaskChanges {
                    priority: Some(2),
                    if_match: Some(format!("\"{version}\"")),
                    ..TaskChanges::default()
                },
            )
            .expect("the current version");
        #[rustfmt::skip]
        let cases = [
            ("completed", "task {task} is pending: only an assigned or wrapping task can be completed"),
            ("wrapping", "task {task} is pending: only an assigned task can move to wrapping"),
            ("assigned", "AssignmentStatus: `assigned` is set by TaskRouter itself: send canceled, wrapping or completed"),
            ("done", "AssignmentStatus: `done` is not a task status: send canceled, wrapping or completed"),
        ];
        for (status, message) in cases {
            let error = sim
                .engine
                .update_task(
                    &ws,
                    &task,
                    TaskChanges {
                        assignment_status: Some(status.to_owned()),
                        ..TaskChanges::default()
                    },
                )
                .expect_err(status);
            assert_eq!(
                error.to_string(),
                message.replace("{task}", task.as_str()),
                "{status}"
            );
            assert_eq!(error.status(), 400, "{status}");
        }
    }

    #[test]
    fn invalid_resources_are_refused_naming_the_parameter() {
        let mut sim = sim(everyone(), &[]);
        let ws = sim.ws.clone();
        #[rustfmt::skip]
        let cases: Vec<(Result<(), SimError>, &str)> = vec![
            (sim.engine.create_task(&ws, NewTask { attributes: Some("[1]".to_owned()), ..NewTask::default() }).map(drop), "Attributes: must be a JSON object, found an array"),
            (sim.engine.create_task(&ws, NewTask { priority: Some(-1), ..NewTask::default() }).map(drop), "Priority: -1 is out of range: send 0 to 2147483647"),
            (sim.engine.create_task(&ws, NewTask { timeout: Some(1_209_601), ..NewTask::default() }).map(drop), "Timeout: 1209601 is out of range: send 1 to 1209600 seconds"),
            (sim.engine.create_task(&ws, NewTask { channel: Some("fax".to_owned()), ..NewTask::default() }).map(drop), "TaskChannel: `fax` is not a channel of the workspace: use one of default, voice, chat, sms, video, email"),
            (sim.engine.create_queue(&ws, NewQueue { friendly_name: "q".to_owned(), target_workers: Some("skills HAS".to_owned()), ..NewQueue::default() }).map(drop), "TargetWorkers: not a valid expression"),
            (sim.engine.create_queue(&ws, NewQueue { friendly_name: "q".to_owned(), max_reserved_workers: Some(51), ..NewQueue::default() }).map(drop), "MaxReservedWorkers: 51 is out of range: send 1 to 50"),
            (sim.engine.create_workflow(&ws, NewWorkflow { friendly_name: "w".to_owned(), configuration: json!({"task_routing": {"default_filter": {"queue": "WQ0000000000000000000000000000000f"}}}).to_string(), ..NewWorkflow::default() }).map(drop), "Configuration: invalid workflow configuration: queue WQ0000000000000000000000000000000f not found"),
            (sim.engine.create_workflow(&ws, NewWorkflow { friendly_name: "w".to_owned(), configuration: "{".to_owned(), ..NewWorkflow::default() }).map(drop), "Configuration: invalid workflow configuration: not valid JSON"),
            (sim.engine.create_worker(&ws, NewWorker { friendly_name: " ".to_owned(), ..NewWorker::default() }).map(drop), "FriendlyName: required"),
            (sim.engine.create_activity(&ws, None, "Available", true).map(drop), "FriendlyName: an activity is already called `Available`"),
        ];
        for (result, message) in cases {
            let error = result.expect_err(message);
            assert!(error.to_string().starts_with(message), "{error}");
            assert_eq!((error.status(), error.code()), (400, 20001), "{message}");
        }
    }

    #[test]
    fn the_same_commands_give_the_same_state_sids_included() {
        let run = || {
            let mut sim = sim(
                escalation(),
                &[("alice", worker(&["support"])), ("bob", worker(&[]))],
            );
            let task = sim.task(json!({"type": "support"}));
            sim.later(200);
            let other = sim.task(json!({"vip": true}));
            sim.later(500);
            let space = sim.space();
            let events: Vec<String> = space
                .events
                .all()
                .iter()
                .map(|event| {
                    format!(
                        "{} {} {}",
                        event.sid,
                        event.event_type.as_str(),
                        event.description
                    )
                })
                .collect();
            (task, other, events)
        };
        assert_eq!(run(), run());
    }
}
