//! `taskrouter sim replay`: a day or a week of tasks routed through a Workflow on a virtual
//! clock, measured as a contact centre measures itself.
//!
//! A discrete-event simulation: one time-ordered queue of timers (ties broken by the order
//! they were set), state that changes only at an event, arrivals read one line ahead from the
//! tasks file ([`tasks`]). Routing is [`crate::workflow`]'s, the same calls the simulator's
//! engine makes: [`Workflow::arrive`] walks a task to the step it waits in (filters, `skip_if`,
//! a step's timeout counted from the task's age and summed over steps, the step's priority),
//! [`Workflow::timed_out`] moves it on when that timeout passes, [`Workflow::admits`] says
//! whether a worker qualifies, [`offer_order`] orders the workers (`order_by`, then the one
//! idle longest).
//!
//! # Why not [`crate::sim::Engine`]
//!
//! The engine is the REST API's state: it keeps every task, reservation and event for
//! `GET` (so its memory grows with the day), names them by string SIDs, formats every event's
//! description and sorts every open task each time a worker frees up. A replay needs none of
//! that, and must keep memory proportional to the tasks open and the workers. This loop holds
//! only waiting tasks (a slab, reused) and a dispatch order (a `BTreeSet` by priority, then
//! place in line), and forgets a task once it is assigned.
//!
//! # The model (docs/taskrouter.md §12)
//!
//! - A task arrives, enters its Workflow and is offered at once to the qualifying workers who
//!   are idle in an available activity; without `--rules` the first in offer order accepts at
//!   once (so `MaxReservedWorkers` and the reservation timeout play no part), is busy for
//!   `handle_seconds`, then is available again.
//! - A task no worker takes waits; when a worker frees up it is offered the waiting tasks it
//!   qualifies for, highest priority first, then oldest (newest in a `LIFO` queue).
//! - A step timeout moves a waiting task on; falling off the Workflow cancels it. A task whose
//!   `patience_seconds` passes while it waits is abandoned.
//! - With rules ([`Setup::with_rules`]) each reservation is answered by the rules engine
//!   in-process, with the callback the function would get (the task's attributes and age, the
//!   worker's attributes, the queue; SIDs made up from counters): `reject` offers the task to
//!   the next worker in offer order and never again to this one (the worker stays available:
//!   the instruction's activity is not applied); `{}` (defer) holds the worker for
//!   `defer_seconds`, the time a backend takes to accept through the REST API, then accepts; any
//!   other instruction accepts. A step timeout passing while a deferred reservation is pending
//!   is void (it would take effect when the reservation ends, which is an accept); a caller
//!   hanging up cancels it and frees the worker.
//! - A worker takes one task at a time, whatever its channels' capacities; a worker whose
//!   activity is not available never takes one.
//! - Time-of-day expressions read the instant `start` + the virtual clock, in UTC.
//!
//! # What is counted where
//!
//! A task is counted in the queue it ends in: where it was assigned, abandoned, or waited last
//! before the Workflow canceled it. Its wait runs from its creation, across steps. Service
//! level is the share of offered tasks answered within the threshold.

pub mod history;
pub mod report;
pub mod stats;
pub mod tasks;

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::Value;

use crate::callback::AssignmentCallback;
use crate::form::FormParams;
use crate::rules::Rules;
use crate::sid::{
    AccountSid, ReservationSid, TaskQueueSid, TaskSid, WorkerSid, WorkflowSid, WorkspaceSid,
};
use crate::time_of_day::TimeOfDay;
use crate::workflow::step::{Place, offer_order};
use crate::workflow::walk::{Cause, Entry, Move, Progress, Rest};
use crate::workflow::{self, Workflow};

use super::document::WorkspaceDocument;
use super::state::Order;
use stats::{Ending, QueueReport, QueueTally, Series, WorkerReport};
use tasks::{TaskRow, TasksError};

/// What a replay runs: one configuration against one workspace's workers and queues.
#[derive(Debug, Clone)]
pub struct Setup {
    workflow: Workflow,
    routing: workflow::Workspace,
    /// `routing` without workers: what [`Workflow::arrive`] is given when no step has
    /// `skip_if`, so it does not list every worker for every task (nobody reads the list).
    queues_only: workflow::Workspace,
    uses_skip_if: bool,
    queues: Vec<QueueInfo>,
    workers: Vec<WorkerInfo>,
    service_level_ms: u64,
    start: Timestamp,
    answering: Option<Answering>,
    workspace: WorkspaceSid,
    workflow_sid: Option<WorkflowSid>,
}

/// Reservations answered by a rules document, as the function answers them.
#[derive(Debug, Clone)]
struct Answering {
    rules: Rules,
    defer_ms: u64,
    account: AccountSid,
    workspace: WorkspaceSid,
    workflow: WorkflowSid,
}

/// An answer to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Accept,
    Reject,
    Defer,
}

#[derive(Debug, Clone)]
struct QueueInfo {
    sid: TaskQueueSid,
    friendly_name: String,
    lifo: bool,
}

#[derive(Debug, Clone)]
struct WorkerInfo {
    sid: WorkerSid,
    friendly_name: String,
    available: bool,
}

/// A replay that cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The workspace has no Workflow and none was given.
    #[error(
        "the workspace document has no workflows: add one, or give the configuration with --workflow FILE"
    )]
    NoWorkflow,
    /// The configuration in the document does not parse.
    #[error("workflow {name}: {message}")]
    Configuration {
        /// The Workflow's friendly name.
        name: String,
        /// Why.
        message: String,
    },
}

impl Setup {
    /// The replay of `document`'s workers and queues through `configuration` (`None`: the
    /// document's first Workflow), with the service level measured at `service_level_seconds`
    /// and time-of-day expressions reading `start` plus the virtual clock.
    ///
    /// # Errors
    ///
    /// [`SetupError`] when there is no configuration to replay.
    pub fn new(
        document: &WorkspaceDocument,
        configuration: Option<Workflow>,
        service_level_seconds: u64,
        start: Timestamp,
    ) -> Result<Self, SetupError> {
        let workflow = match configuration {
            Some(workflow) => workflow,
            None => {
                let entry = document.workflows.first().ok_or(SetupError::NoWorkflow)?;
                Workflow::parse(&entry.configuration.to_string()).map_err(|invalid| {
                    SetupError::Configuration {
                        name: entry.friendly_name.clone(),
                        message: invalid.to_string(),
                    }
                })?
            }
        };
        let routing = document.routing();
        let queues_only = workflow::Workspace::new(None, routing.queues().to_vec());
        let uses_skip_if = workflow
            .filters()
            .iter()
            .flat_map(|filter| filter.targets())
            .chain(workflow.default_filter())
            .any(|target| target.skip_if().is_some());
        let queues = document
            .task_queues
            .iter()
            .map(|entry| QueueInfo {
                sid: entry.sid.clone(),
                friendly_name: entry.friendly_name.clone(),
                lifo: entry.task_order == Order::Lifo,
            })
            .collect();
        let workers = document
            .workers
            .iter()
            .zip(routing.workers().unwrap_or_default())
            .map(|(entry, routed)| WorkerInfo {
                sid: entry.sid.clone(),
                friendly_name: entry.friendly_name.clone(),
                available: routed.is_available(),
            })
            .collect();
        Ok(Setup {
            workflow,
            routing,
            queues_only,
            uses_skip_if,
            queues,
            workers,
            service_level_ms: service_level_seconds.saturating_mul(1000),
            start,
            answering: None,
            workspace: document.sid.clone(),
            workflow_sid: document.workflows.first().map(|entry| entry.sid.clone()),
        })
    }

    /// Reservations answered by `rules` (the function's decisions, made in-process) instead of
    /// accepted at once: a `reject` offers the task to the next worker, `{}` (defer) is
    /// accepted `defer_seconds` later, as a backend accepting through the REST API would;
    /// every other instruction accepts. See the module documentation.
    #[must_use]
    pub fn with_rules(mut self, rules: Rules, defer_seconds: u64) -> Self {
        let zeros = "0".repeat(32);
        let workflow = self
            .workflow_sid
            .clone()
            .or_else(|| WorkflowSid::parse(&format!("WW{zeros}")).ok());
        let account = AccountSid::parse(&format!("AC{zeros}")).ok();
        if let (Some(workflow), Some(account)) = (workflow, account) {
            self.answering = Some(Answering {
                rules,
                defer_ms: defer_seconds.saturating_mul(1000),
                account,
                workspace: self.workspace.clone(),
                workflow,
            });
        }
        self
    }
}

/// What a replay measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Per queue, in the document's order.
    pub queues: Vec<QueueReport>,
    /// Every queue together, with the tasks that never reached one.
    pub overall: QueueReport,
    /// Per filter of the Workflow, by the filter that first took each task (`default_filter`
    /// last), whichever queue the task ended in: what happened to Spanish callers, where
    /// `queues` says what happened in the Spanish queue.
    pub filters: Vec<QueueReport>,
    /// Per worker, in the document's order.
    pub workers: Vec<WorkerReport>,
    /// Tasks read.
    pub tasks: u64,
    /// The service-level threshold, in seconds.
    pub service_level_seconds: f64,
    /// The virtual time from the start to the last task's end, in seconds.
    pub simulated_seconds: f64,
    /// The figures per interval, for the report.
    #[serde(skip)]
    pub series: Series,
}

/// A timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// Worker `0` finishes its task.
    Done(usize),
    /// The step timeout of the task in slot `slot`, if it is still generation `generation`.
    Step { slot: usize, generation: u64 },
    /// The caller of that task hangs up.
    Patience { slot: usize, generation: u64 },
    /// A deferred reservation of that task is accepted by `worker`.
    Accept {
        slot: usize,
        generation: u64,
        worker: usize,
    },
}

/// A task waiting.
#[derive(Debug)]
struct Waiting {
    attributes: Value,
    arrival: u64,
    /// Its place in the file, which keeps equal arrivals in file order.
    seq: u64,
    handle: u64,
    place: Place,
    /// The step's deadline, as an age in seconds.
    until: Option<u64>,
    queue: Option<usize>,
    /// The filter that took it first (`filters.len()` for `default_filter`).
    filter: Option<usize>,
    /// Its key in the dispatch order.
    key: (Reverse<u64>, i64, u64),
    /// Workers who rejected it, never offered it again.
    rejected: Vec<usize>,
    /// The worker holding a deferred reservation of it.
    reserved: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
struct WorkerState {
    busy: bool,
    idle_since: u64,
    busy_ms: u64,
    answered: u64,
}

/// The replay's state between events.
struct Run<'s> {
    setup: &'s Setup,
    routing: workflow::Workspace,
    now: u64,
    timers: BinaryHeap<Reverse<(u64, u64, Timer)>>,
    timer_seq: u64,
    slots: Vec<Option<Waiting>>,
    generations: Vec<u64>,
    free: Vec<usize>,
    /// The waiting tasks in the order a freed worker is offered them.
    line: BTreeSet<(Reverse<u64>, i64, u64, usize)>,
    arrivals: u64,
    workers: Vec<WorkerState>,
    tallies: Vec<QueueTally>,
    /// Tasks that never reached a queue.
    unrouted: QueueTally,
    /// Per filter that first took the task, `default_filter` last.
    by_filter: Vec<QueueTally>,
    series: Series,
    /// Reservations made, for their SIDs.
    reservations: u64,
    /// The workers who can take a task now (available and not busy): a new task is offered to
    /// these only, not to every worker (at 90 % occupancy, one in ten).
    idle: BTreeSet<usize>,
}

/// Replays `tasks` through `setup`.
///
/// # Errors
///
/// The first [`TasksError`] of the tasks file; nothing is reported then.
pub fn replay(
    setup: &Setup,
    tasks: impl IntoIterator<Item = Result<TaskRow, TasksError>>,
) -> Result<Outcome, TasksError> {
    let mut run = Run {
        setup,
        routing: setup.routing.clone(),
        now: 0,
        timers: BinaryHeap::new(),
        timer_seq: 0,
        slots: Vec::new(),
        generations: Vec::new(),
        free: Vec::new(),
        line: BTreeSet::new(),
        arrivals: 0,
        workers: vec![
            WorkerState {
                busy: false,
                idle_since: 0,
                busy_ms: 0,
                answered: 0,
            };
            setup.workers.len()
        ],
        tallies: vec![QueueTally::default(); setup.queues.len()],
        unrouted: QueueTally::default(),
        by_filter: vec![QueueTally::default(); setup.workflow.filters().len() + 1],
        series: Series::new(setup.queues.len()),
        reservations: 0,
        idle: (0..setup.workers.len())
            .filter(|&w| setup.workers[w].available)
            .collect(),
    };
    let mut tasks = tasks.into_iter().peekable();
    loop {
        let next_timer = run.timers.peek().map(|Reverse((at, _, _))| *at);
        let next_arrival = match tasks.peek() {
            Some(Ok(task)) => Some(task.arrival_ms),
            Some(Err(_)) => {
                if let Some(Err(error)) = tasks.next() {
                    return Err(error);
                }
                None
            }
            None => None,
        };
        match (next_timer, next_arrival) {
            (None, None) => break,
            // A timer due at the instant of an arrival fires first: a worker finishing at
            // 10:00:00 is free for the call arriving at 10:00:00.
            (Some(at), arrival) if arrival.is_none_or(|arrival| at <= arrival) => {
                if let Some(Reverse((at, _, timer))) = run.timers.pop() {
                    run.now = at;
                    run.fire(timer);
                }
            }
            _ => {
                if let Some(Ok(task)) = tasks.next() {
                    run.now = task.arrival_ms;
                    run.arrive(task);
                }
            }
        }
    }
    Ok(run.outcome())
}

impl Run<'_> {
    fn set_timer(&mut self, at: u64, timer: Timer) {
        self.timer_seq += 1;
        self.timers.push(Reverse((at, self.timer_seq, timer)));
    }

    /// The instant of the virtual clock.
    fn instant(&self) -> Timestamp {
        let offset = SignedDuration::from_millis(i64::try_from(self.now).unwrap_or(i64::MAX));
        self.setup
            .start
            .saturating_add(offset)
            .unwrap_or(self.setup.start)
    }

    fn time_of_day(&self) -> TimeOfDay {
        TimeOfDay::utc(self.instant())
    }

    fn arrive(&mut self, task: TaskRow) {
        self.arrivals += 1;
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.generations.push(0);
            self.slots.len() - 1
        });
        if let Some(patience) = task.patience_ms {
            let generation = self.generations[slot];
            self.set_timer(
                self.now.saturating_add(patience),
                Timer::Patience { slot, generation },
            );
        }
        self.slots[slot] = Some(Waiting {
            attributes: task.attributes,
            arrival: task.arrival_ms,
            seq: self.arrivals,
            handle: task.handle_ms,
            place: Place::Default,
            until: None,
            queue: None,
            filter: None,
            key: (Reverse(0), 0, 0),
            rejected: Vec::new(),
            reserved: None,
        });
        let entry = Entry::Filters {
            from: 0,
            cause: Cause::Created,
        };
        self.route(slot, entry, Progress::default());
    }

    /// Walks the task in `slot` from `entry` to where it waits, then offers it.
    fn route(&mut self, slot: usize, entry: Entry, progress: Progress) {
        let time = self.time_of_day();
        let Some(task) = self.slots[slot].as_ref() else {
            return;
        };
        let workflow = &self.setup.workflow;
        let view = if self.setup.uses_skip_if {
            &self.routing
        } else {
            &self.setup.queues_only
        };
        let arrival = workflow.arrive(entry, progress, &task.attributes, view, time);
        let priority = arrival
            .moves
            .iter()
            .rev()
            .find_map(|happened| match happened {
                Move::Entered(step) if !step.is_skipped() => Some(step.target.priority()),
                _ => None,
            });
        let rest = arrival.rest;
        drop(arrival);
        match rest {
            Rest::Waits { place, until } => {
                let queue = workflow.target_at(place).and_then(|(_, sid)| {
                    self.setup.queues.iter().position(|queue| &queue.sid == sid)
                });
                let lifo = queue.is_some_and(|queue| self.setup.queues[queue].lifo);
                let Some(task) = self.slots[slot].as_mut() else {
                    return;
                };
                let arrival = i64::try_from(task.arrival).unwrap_or(i64::MAX);
                task.place = place;
                task.until = until;
                task.filter = task.filter.or(Some(match place {
                    Place::Target { filter, .. } => filter,
                    Place::Default => workflow.filters().len(),
                }));
                task.queue = queue;
                task.key = (
                    Reverse(priority.flatten().unwrap_or(0)),
                    if lifo { -arrival } else { arrival },
                    task.seq,
                );
                if let Some(until) = until {
                    let deadline = task.arrival.saturating_add(until.saturating_mul(1000));
                    let generation = self.generations[slot];
                    self.set_timer(deadline.max(self.now), Timer::Step { slot, generation });
                }
                self.offer(slot);
            }
            Rest::Canceled | Rest::NoQueue => {
                let (queue, filter, arrival) = self.slots[slot]
                    .as_ref()
                    .map_or((None, None, self.now), |task| {
                        (task.queue, task.filter, task.arrival)
                    });
                self.count(queue, filter, arrival, Ending::Canceled);
                self.forget(slot);
            }
        }
    }

    /// Counts a task that ended in `queue` (none: it never reached one), first taken by
    /// `filter`.
    fn count(&mut self, queue: Option<usize>, filter: Option<usize>, arrival: u64, ending: Ending) {
        ending.add_to(match queue {
            Some(queue) => &mut self.tallies[queue],
            None => &mut self.unrouted,
        });
        if let Some(tally) = filter.and_then(|filter| self.by_filter.get_mut(filter)) {
            ending.add_to(tally);
        }
        if let Some(queue) = queue {
            self.series.count(queue, arrival, ending);
        }
    }

    /// The slot is free again; its timers are void.
    fn forget(&mut self, slot: usize) {
        if let Some(task) = self.slots[slot].take() {
            self.line
                .remove(&(task.key.0, task.key.1, task.key.2, slot));
        }
        self.generations[slot] += 1;
        self.free.push(slot);
    }

    fn can_take(&self, w: usize) -> bool {
        self.setup.workers[w].available && !self.workers[w].busy
    }

    /// Offers the task in `slot` to the idle workers of its step; it waits in line when none
    /// qualifies (or, with rules, every one rejects).
    fn offer(&mut self, slot: usize) {
        for w in self.candidates(slot) {
            match self.answer(slot, w) {
                Reply::Accept => return self.assign(slot, w),
                Reply::Defer => return self.reserve(slot, w),
                Reply::Reject => {
                    if let Some(task) = self.slots[slot].as_mut() {
                        task.rejected.push(w);
                    }
                }
            }
        }
        if let Some(task) = self.slots[slot].as_ref() {
            let key = task.key;
            self.line.insert((key.0, key.1, key.2, slot));
        }
    }

    /// The idle workers who qualify for the task in `slot`, in offer order (`order_by`, then
    /// idle longest). Without rules only the first, since it accepts.
    fn candidates(&self, slot: usize) -> Vec<usize> {
        let time = self.time_of_day();
        let Some(task) = self.slots[slot].as_ref() else {
            return Vec::new();
        };
        let workflow = &self.setup.workflow;
        let Some((target, _)) = workflow.target_at(task.place) else {
            return Vec::new();
        };
        let workers = self.routing.workers().unwrap_or_default();
        let order = |a: usize, b: usize| {
            offer_order(target.order_by(), &workers[a], &workers[b])
                .then(self.workers[a].idle_since.cmp(&self.workers[b].idle_since))
                .then(a.cmp(&b))
        };
        let qualifies = |w: &usize| {
            self.can_take(*w)
                && !task.rejected.contains(w)
                && workflow.admits(
                    task.place,
                    &task.attributes,
                    &workers[*w],
                    &self.routing,
                    time,
                )
        };
        if self.setup.answering.is_none() {
            return self
                .idle
                .iter()
                .copied()
                .filter(qualifies)
                .min_by(|&a, &b| order(a, b))
                .into_iter()
                .collect();
        }
        let mut all: Vec<usize> = self.idle.iter().copied().filter(qualifies).collect();
        all.sort_by(|&a, &b| order(a, b));
        all
    }

    /// How the reservation of worker `w` for the task in `slot` is answered.
    fn answer(&mut self, slot: usize, w: usize) -> Reply {
        let Some(answering) = &self.setup.answering else {
            return Reply::Accept;
        };
        let Some(task) = self.slots[slot].as_ref() else {
            return Reply::Accept;
        };
        self.reservations += 1;
        let queue = task
            .queue
            .map(|q| self.setup.queues[q].sid.clone())
            .or_else(|| {
                self.setup
                    .workflow
                    .target_at(task.place)
                    .map(|(_, sid)| sid.clone())
            });
        let (Ok(task_sid), Ok(reservation_sid), Some(task_queue_sid)) = (
            TaskSid::parse(&format!("WT{:032x}", task.seq)),
            ReservationSid::parse(&format!("WR{:032x}", self.reservations)),
            queue,
        ) else {
            return Reply::Accept;
        };
        let worker = &self.routing.workers().unwrap_or_default()[w];
        let callback = AssignmentCallback {
            account_sid: answering.account.clone(),
            workspace_sid: answering.workspace.clone(),
            workflow_sid: answering.workflow.clone(),
            task_queue_sid,
            worker_sid: self.setup.workers[w].sid.clone(),
            task_sid,
            reservation_sid,
            task_attributes: task.attributes.clone(),
            worker_attributes: worker.attributes().clone(),
            task_age: (self.now - task.arrival) / 1000,
            task_priority: u32::try_from(task.key.0.0).unwrap_or(u32::MAX),
            timestamp: None,
            params: FormParams::from_pairs(Vec::<(String, String)>::new()),
        };
        match answering.rules.decide(&callback, self.instant()).answer {
            "defer" => Reply::Defer,
            "reject" => Reply::Reject,
            _ => Reply::Accept,
        }
    }

    /// Worker `w` holds a deferred reservation of the task in `slot` until it is accepted.
    fn reserve(&mut self, slot: usize, w: usize) {
        let defer = self.setup.answering.as_ref().map_or(0, |a| a.defer_ms);
        let Some(task) = self.slots[slot].as_mut() else {
            return;
        };
        task.reserved = Some(w);
        let key = (task.key.0, task.key.1, task.key.2, slot);
        self.line.remove(&key);
        self.workers[w].busy = true;
        self.idle.remove(&w);
        self.set_available(w, false);
        let generation = self.generations[slot];
        self.set_timer(
            self.now.saturating_add(defer),
            Timer::Accept {
                slot,
                generation,
                worker: w,
            },
        );
    }

    /// Worker `w` is idle again.
    fn free_worker(&mut self, w: usize) {
        self.workers[w].busy = false;
        if self.setup.workers[w].available {
            self.idle.insert(w);
        }
        self.workers[w].idle_since = self.now;
        self.set_available(w, true);
        self.worker_freed(w);
    }

    /// Worker `w` takes the task in `slot`.
    fn assign(&mut self, slot: usize, w: usize) {
        let Some(task) = self.slots[slot].as_ref() else {
            return;
        };
        let wait = self.now - task.arrival;
        let handle = task.handle;
        let (queue, filter) = (task.queue, task.filter);
        let within = wait <= self.setup.service_level_ms;
        let arrival = task.arrival;
        self.count(queue, filter, arrival, Ending::Answered { wait, within });
        self.forget(slot);
        self.series.busy(self.now, handle);
        let worker = &mut self.workers[w];
        worker.busy = true;
        self.idle.remove(&w);
        worker.busy_ms += handle;
        worker.answered += 1;
        self.set_available(w, false);
        self.set_timer(self.now.saturating_add(handle), Timer::Done(w));
    }

    /// Keeps the routing view's availability (what `skip_if`'s counts read) as "can take a
    /// task now".
    fn set_available(&mut self, w: usize, available: bool) {
        if self.setup.uses_skip_if {
            self.routing.workers_mut()[w].set_available(available);
        }
    }

    fn fire(&mut self, timer: Timer) {
        match timer {
            Timer::Done(w) => self.free_worker(w),
            Timer::Accept {
                slot,
                generation,
                worker,
            } => {
                if self.generations[slot] == generation {
                    self.assign(slot, worker);
                }
            }
            Timer::Step { slot, generation } => {
                if self.generations[slot] != generation {
                    return;
                }
                let Some(task) = self.slots[slot].as_ref() else {
                    return;
                };
                // A step timeout that passes while a reservation is pending takes effect when
                // it ends (docs/taskrouter.md §12); a deferred reservation here always ends
                // accepted, so it never does.
                if task.reserved.is_some() {
                    return;
                }
                let Some(entry) = self.setup.workflow.timed_out(task.place) else {
                    return;
                };
                let progress = Progress {
                    age: (self.now - task.arrival) / 1000,
                    timeouts: task.until.unwrap_or(0),
                };
                let key = (task.key.0, task.key.1, task.key.2, slot);
                self.line.remove(&key);
                self.route(slot, entry, progress);
            }
            Timer::Patience { slot, generation } => {
                if self.generations[slot] != generation {
                    return;
                }
                let Some(task) = self.slots[slot].as_ref() else {
                    return;
                };
                let wait = self.now - task.arrival;
                let (queue, filter, arrival) = (task.queue, task.filter, task.arrival);
                let reserved = task.reserved;
                self.count(queue, filter, arrival, Ending::Abandoned { wait });
                self.forget(slot);
                // The task is canceled, and its pending reservation with it.
                if let Some(w) = reserved {
                    self.free_worker(w);
                }
            }
        }
    }

    /// Worker `w` is idle: it takes the first waiting task it qualifies for (with rules, the
    /// first it does not reject).
    fn worker_freed(&mut self, w: usize) {
        while self.can_take(w) {
            let time = self.time_of_day();
            let worker = &self.routing.workers().unwrap_or_default()[w];
            let found = self.line.iter().find(|&&(_, _, _, slot)| {
                self.slots[slot].as_ref().is_some_and(|task| {
                    !task.rejected.contains(&w)
                        && self.setup.workflow.admits(
                            task.place,
                            &task.attributes,
                            worker,
                            &self.routing,
                            time,
                        )
                })
            });
            let Some(&(_, _, _, slot)) = found else {
                return;
            };
            match self.answer(slot, w) {
                Reply::Accept => return self.assign(slot, w),
                Reply::Defer => return self.reserve(slot, w),
                Reply::Reject => {
                    if let Some(task) = self.slots[slot].as_mut() {
                        task.rejected.push(w);
                    }
                }
            }
        }
    }

    fn outcome(&self) -> Outcome {
        let queues: Vec<QueueReport> = self
            .setup
            .queues
            .iter()
            .zip(&self.tallies)
            .map(|(queue, tally)| {
                QueueReport::of(
                    queue.friendly_name.clone(),
                    Some(queue.sid.to_string()),
                    tally,
                )
            })
            .collect();
        let mut all = self.unrouted.clone();
        for tally in &self.tallies {
            all.merge(tally);
        }
        let end = self.now;
        let filters = self
            .setup
            .workflow
            .filters()
            .iter()
            .enumerate()
            .map(|(index, filter)| {
                filter
                    .name()
                    .map_or_else(|| format!("filters[{index}]"), ToOwned::to_owned)
            })
            .chain(
                self.setup
                    .workflow
                    .default_filter()
                    .map(|_| "default_filter".to_owned()),
            )
            .zip(&self.by_filter)
            .map(|(name, tally)| QueueReport::of(name, None, tally))
            .collect();
        let workers = self
            .setup
            .workers
            .iter()
            .zip(&self.workers)
            .map(|(info, state)| {
                let staffed = if info.available { end } else { 0 };
                WorkerReport {
                    friendly_name: info.friendly_name.clone(),
                    sid: info.sid.to_string(),
                    answered: state.answered,
                    busy_seconds: stats::round(ms_seconds(state.busy_ms)),
                    staffed_seconds: ms_seconds(staffed),
                    occupancy: stats::ratio(state.busy_ms, staffed),
                }
            })
            .collect();
        Outcome {
            queues,
            overall: QueueReport::of("overall".to_owned(), None, &all),
            filters,
            workers,
            tasks: self.arrivals,
            service_level_seconds: ms_seconds(self.setup.service_level_ms),
            simulated_seconds: ms_seconds(end),
            series: self.series.finish(
                self.setup
                    .workers
                    .iter()
                    .filter(|worker| worker.available)
                    .count(),
            ),
        }
    }
}

fn ms_seconds(ms: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let seconds = ms as f64 / 1000.0;
    seconds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::replay::tasks::TaskReader;

    /// One Spanish speaker and one English speaker; Spanish tasks wait `timeout` seconds for
    /// the Spanish queue, then go to the English one.
    fn setup(timeout: u64) -> Setup {
        let text = serde_json::json!({
            "sid": "WS00000000000000000000000000000001",
            "friendly_name": "Two",
            "activities": [
                {"sid": "WA00000000000000000000000000000001", "friendly_name": "Available", "available": true}
            ],
            "workers": [
                {"sid": "WK00000000000000000000000000000001", "friendly_name": "ana", "attributes": {"languages": ["es"]}},
                {"sid": "WK00000000000000000000000000000002", "friendly_name": "bob", "attributes": {"languages": ["en"]}}
            ],
            "task_queues": [
                {"sid": "WQ00000000000000000000000000000001", "friendly_name": "Spanish", "target_workers": "languages HAS 'es'"},
                {"sid": "WQ00000000000000000000000000000002", "friendly_name": "English", "target_workers": "languages HAS 'en'"}
            ],
            "workflows": [{"sid": "WW00000000000000000000000000000001", "friendly_name": "Languages",
                "configuration": {"task_routing": {"filters": [
                    {"filter_friendly_name": "Spanish", "expression": "language == 'es'", "targets": [
                        {"queue": "WQ00000000000000000000000000000001", "timeout": timeout},
                        {"queue": "WQ00000000000000000000000000000002", "timeout": 100}
                    ]}
                ], "default_filter": {"queue": "WQ00000000000000000000000000000002"}}}}]
        })
        .to_string();
        let document = WorkspaceDocument::read("workspace.json", &text).expect("valid");
        let start = "2026-01-05T00:00:00Z".parse().expect("an instant");
        Setup::new(&document, None, 20, start).expect("a configuration")
    }

    fn run(setup: &Setup, csv: &str) -> Outcome {
        let reader = TaskReader::new("tasks.csv", csv.as_bytes()).expect("a header");
        replay(setup, reader).expect("valid tasks")
    }

    const TASKS: &str = "arrival_seconds,attributes,handle_seconds,patience_seconds\n\
        0,{\"language\": \"es\"},100,\n\
        1,{\"language\": \"es\"},100,\n\
        2,{\"language\": \"es\"},100,\n\
        3,{\"language\": \"es\"},100,50\n";

    #[test]
    fn spanish_tasks_wait_for_the_spanish_speaker_then_move_on_or_hang_up() {
        let outcome = run(&setup(30), TASKS);
        // Ana takes the first at 0. Bob is idle, but not in the Spanish queue: the second
        // waits its 30 s there, then goes to English where Bob takes it at 31 (wait 30); the
        // third does the same at 32 but Bob is busy until 131, and Ana frees at 100 yet is not
        // in the English queue: it waits until Bob frees (wait 129). The fourth hangs up at 53.
        let [spanish, english] = &outcome.queues[..] else {
            panic!("two queues");
        };
        assert_eq!((spanish.offered, spanish.answered), (1, 1));
        assert_eq!(spanish.wait_seconds.max, 0.0);
        assert_eq!(
            (english.offered, english.answered, english.abandoned),
            (3, 2, 1)
        );
        assert_eq!(english.wait_seconds.mean, 79.5);
        assert_eq!(english.wait_seconds.max, 129.0);
        assert_eq!(english.abandoned_wait_seconds.max, 50.0);
        assert_eq!(outcome.overall.offered, 4);
        assert_eq!(outcome.overall.service_level, 0.25);
        assert_eq!(outcome.simulated_seconds, 231.0);
        let bob = &outcome.workers[1];
        assert_eq!((bob.answered, bob.busy_seconds), (2, 200.0));
        assert_eq!(bob.occupancy, Some(0.866));
    }

    #[test]
    fn a_longer_first_step_keeps_spanish_tasks_for_the_spanish_speaker() {
        let outcome = run(&setup(200), TASKS);
        // The second is Ana's at 100 (wait 99), the third at 200 (wait 198); the fourth hangs
        // up at 53.
        let spanish = &outcome.queues[0];
        assert_eq!((spanish.answered, spanish.abandoned), (3, 1));
        assert_eq!(spanish.wait_seconds.max, 198.0);
        assert_eq!(outcome.workers[1].answered, 0);
    }

    #[test]
    fn the_same_tasks_give_the_same_outcome() {
        let setup = setup(30);
        assert_eq!(run(&setup, TASKS), run(&setup, TASKS));
    }
}
