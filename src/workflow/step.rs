//! One routing step, evaluated at an instant: who qualifies, in which order, and whether
//! `skip_if` moves the task on at once.
//!
//! A step's workers are the members of its queue (the queue's `target_workers`), matching the
//! target's `expression` and, with `known_worker_sid` / `known_worker_friendly_name`, the one
//! worker the task names; ordered by `order_by`, and in file order where TaskRouter would put
//! the worker idle longest first. Workers that do not qualify are listed with the reason.
//!
//! - **Worker properties.** In a target expression `worker.sid`, `worker.friendly_name`,
//!   `worker.activity_sid` and `worker.activity_name` read the worker's own properties
//!   (<https://www.twilio.com/docs/taskrouter/expression-syntax>,
//!   <https://www.twilio.com/docs/taskrouter/activity-based-routing>); an attribute of the same
//!   name is read only when the property is not given. Every other `worker.…` reads the
//!   attributes.
//! - **`order_by`** orders by integer attributes only
//!   (<https://www.twilio.com/docs/taskrouter/order-workers>: a clause is "an integer value in a
//!   Worker's JSON Attributes"): a worker whose value is not a JSON integer (a fraction such as
//!   `1.5`, `2.0`, a string, nothing) is ordered as one without the attribute, after those with
//!   it in either direction, as the page says of a missing attribute.
//! - **`skip_if`** is evaluated as <https://www.twilio.com/docs/taskrouter/worker-presence> says:
//!   only when no qualifying worker is available as the task enters the step, over the counts of
//!   the queue's workers (`workers.available`, `workers.unavailable`, `workers.WA…`).

use std::cmp::Ordering;

use serde_json::Value;

use super::{Direction, KnownWorker, OrderBy, Queue, Target, Worker, Workspace};
use crate::expression::{Explanation, Operand, Reference, Scope, Segment, lookup};
use crate::sid::{ActivitySid, TaskQueueSid};
use crate::time_of_day::TimeOfDay;

/// Where a routing step sits in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// `filters[filter]`, `targets[target]`.
    Target {
        /// The filter's index.
        filter: usize,
        /// The target's index in the filter.
        target: usize,
    },
    /// `default_filter`.
    Default,
}

/// How a task leaves a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaving {
    /// The step's timeout passed (the summed timeouts, against the task's age).
    TimedOut,
    /// `skip_if` held as the task entered, so it moved on at once.
    Skipped,
}

/// One routing step of a task, evaluated at an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Step<'w> {
    /// Where it sits.
    pub place: Place,
    /// The target.
    pub target: &'w Target,
    /// Its queue, inherited from an earlier target when it names none.
    pub queue: &'w TaskQueueSid,
    /// The queue as the workspace describes it, when listed.
    pub queue_details: Option<&'w Queue>,
    /// The task's age, in seconds, when it enters the step; `None`: never reached, because an
    /// earlier step holds the task until its TTL.
    pub enters: Option<u64>,
    /// The task's age when it leaves; `None`: it stays until its TTL (or never enters).
    pub leaves: Option<u64>,
    /// `known_worker_*`: the task reference and the value it holds.
    pub known_worker: Option<(&'w Reference, String)>,
    /// The workers, when the workspace's workers are known.
    pub workers: Option<Candidates<'w>>,
    /// What `skip_if` does.
    pub skip: Skip,
}

/// The workers of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidates<'w> {
    /// Qualifying workers in offer order, available or not.
    pub qualifying: Vec<&'w Worker>,
    /// Workers that do not qualify, with the reason.
    pub excluded: Vec<(&'w Worker, String)>,
}

impl<'w> Candidates<'w> {
    /// The qualifying workers that are available: who TaskRouter would reserve now, first one
    /// first.
    pub fn available(&self) -> impl Iterator<Item = &'w Worker> + '_ {
        self.qualifying
            .iter()
            .copied()
            .filter(|worker| worker.is_available())
    }
}

/// What a step's `skip_if` does.
#[derive(Debug, Clone, PartialEq)]
pub enum Skip {
    /// The target has no `skip_if`.
    Never,
    /// It is not evaluated: the workspace's workers are unknown.
    Unknown,
    /// It is not evaluated: a qualifying worker is available when the task enters.
    NotNeeded,
    /// It is not evaluated: the step is `default_filter`, which no step follows.
    NoLaterStep,
    /// It was evaluated; when it holds the task skips the step.
    Evaluated(Explanation),
}

impl Step<'_> {
    /// Whether the task leaves this step at once because of `skip_if` (never for a step it
    /// does not reach).
    pub fn is_skipped(&self) -> bool {
        self.enters.is_some()
            && matches!(&self.skip, Skip::Evaluated(explanation) if explanation.holds)
    }

    /// How the task leaves the step, and at which age: `None` when it stays until its TTL or
    /// never enters.
    pub fn leaving(&self) -> Option<(u64, Leaving)> {
        let leaves = self.leaves?;
        Some(if self.is_skipped() {
            (leaves, Leaving::Skipped)
        } else {
            (leaves, Leaving::TimedOut)
        })
    }
}

/// `target` at `place`, routing to `queue`, evaluated for `task` against the workspace's
/// workers at `now`; `enters` and `leaves` are left for the caller (`None`). `skip_if` is
/// evaluated unless the step is `default_filter`.
pub(crate) fn evaluate<'w>(
    place: Place,
    target: &'w Target,
    queue: &'w TaskQueueSid,
    task: &Value,
    workspace: &'w Workspace,
    now: TimeOfDay,
) -> Step<'w> {
    let queue_details = workspace.queue(queue);
    let known_worker = target.known_worker.as_ref().map(|known| {
        let value = known_value(known, task);
        (known.reference(), value.to_string())
    });
    let workers = workspace
        .workers()
        .map(|workers| candidates(target, queue_details, workers, task, now));
    let skip = match (&target.skip_if, &workers) {
        (None, _) => Skip::Never,
        (Some(_), _) if place == Place::Default => Skip::NoLaterStep,
        (Some(_), None) => Skip::Unknown,
        (Some(_), Some(candidates)) if candidates.available().next().is_some() => Skip::NotNeeded,
        (Some(skip_if), Some(_)) => {
            let counts = Counts::of(queue_details, workspace.workers().unwrap_or_default(), now);
            Skip::Evaluated(skip_if.explain(&counts))
        }
    };
    Step {
        place,
        target,
        queue,
        queue_details,
        enters: None,
        leaves: None,
        known_worker,
        workers,
        skip,
    }
}

/// The workers of one step, qualifying ones in offer order.
fn candidates<'w>(
    target: &'w Target,
    queue: Option<&Queue>,
    workers: &'w [Worker],
    task: &Value,
    now: TimeOfDay,
) -> Candidates<'w> {
    let known = target
        .known_worker
        .as_ref()
        .map(|known| (known, known_value(known, task)));
    let mut qualifying = Vec::new();
    let mut excluded = Vec::new();
    for worker in workers {
        let reason = exclusion(target, queue, known.as_ref(), worker, task, now);
        match reason {
            Some(reason) => excluded.push((worker, reason)),
            None => qualifying.push(worker),
        }
    }
    // Stable: ties keep file order, standing in for "idle longest first".
    qualifying.sort_by(|a, b| offer_order(&target.order_by, a, b));
    Candidates {
        qualifying,
        excluded,
    }
}

/// Whether `worker` qualifies for `target` (routing to `queue`) for `task` at `now`: a member of
/// the queue, the known worker when the target names one, and matching the target's
/// expression. Availability is not looked at. The same checks as [`exclusion`], with the
/// allocation-free evaluator: the simulator and the replay ask this once per worker freed and
/// task waiting, so it must not build the reasons nobody reads.
pub(crate) fn admits(
    target: &Target,
    queue: Option<&Queue>,
    worker: &Worker,
    task: &Value,
    now: TimeOfDay,
) -> bool {
    if let Some(queue) = queue
        && !queue.target_workers().evaluate(&QueueScope { worker, now })
    {
        return false;
    }
    if let Some(known) = &target.known_worker
        && !is_known_worker(known, known_value(known, task), worker)
    {
        return false;
    }
    target
        .expression
        .as_ref()
        .is_none_or(|expression| expression.evaluate(&TargetScope { task, worker, now }))
}

/// Why `worker` does not qualify for the step, or `None` when it does: the first failing check
/// of queue membership, the known worker, the target's expression.
fn exclusion(
    target: &Target,
    queue: Option<&Queue>,
    known: Option<&(&KnownWorker, Operand<'_>)>,
    worker: &Worker,
    task: &Value,
    now: TimeOfDay,
) -> Option<String> {
    if let Some(queue) = queue {
        let explanation = queue.target_workers().explain(&QueueScope { worker, now });
        if !explanation.holds {
            return Some(format!("not in the queue: {}", because(&explanation)));
        }
    }
    if let Some((known, value)) = known
        && !is_known_worker(known, *value, worker)
    {
        return Some(format!(
            "not the known worker ({} = {value})",
            known.reference()
        ));
    }
    let explanation = target
        .expression
        .as_ref()?
        .explain(&TargetScope { task, worker, now });
    (!explanation.holds).then(|| because(&explanation))
}

/// The comparisons of an explanation, for one line.
pub fn because(explanation: &Explanation) -> String {
    explanation
        .comparisons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn known_value<'t>(known: &KnownWorker, task: &'t Value) -> Operand<'t> {
    match known.reference().segments() {
        [_, rest @ ..] => lookup(task, rest),
        [] => Operand::Null,
    }
}

fn is_known_worker(known: &KnownWorker, value: Operand<'_>, worker: &Worker) -> bool {
    match (known, value) {
        (KnownWorker::Sid(_), Operand::String(sid)) => worker.sid().as_str() == sid,
        (KnownWorker::FriendlyName(_), Operand::String(name)) => {
            worker.friendly_name() == Some(name)
        }
        _ => false,
    }
}

/// `order_by`: clause by clause, JSON integers only; a worker without an integer comes after
/// one with it whatever the direction. `Equal` leaves the choice to the caller (TaskRouter's
/// "idle longest first").
pub fn offer_order(clauses: &[OrderBy], a: &Worker, b: &Worker) -> Ordering {
    for clause in clauses {
        let rest = match clause.attribute.segments() {
            [_, rest @ ..] => rest,
            [] => continue,
        };
        let value = |worker: &Worker| match lookup(worker.attributes(), rest) {
            Operand::Integer(value) => Some(value),
            _ => None,
        };
        let ordering = match (value(a), value(b)) {
            (Some(x), Some(y)) => match clause.direction {
                Direction::Ascending => x.cmp(&y),
                Direction::Descending => y.cmp(&x),
            },
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// A filter's expression: bare keys are task attributes.
pub(crate) struct FilterScope<'a> {
    /// The task's attributes.
    pub(crate) task: &'a Value,
    /// The instant `taskrouter.*` reads.
    pub(crate) now: TimeOfDay,
}

impl Scope for FilterScope<'_> {
    fn now(&self) -> Option<&TimeOfDay> {
        Some(&self.now)
    }

    fn value(&self, reference: &Reference) -> Operand<'_> {
        lookup(self.task, reference.segments())
    }
}

/// A target's expression: `task.…` and `worker.…`.
struct TargetScope<'a> {
    task: &'a Value,
    worker: &'a Worker,
    now: TimeOfDay,
}

impl Scope for TargetScope<'_> {
    fn now(&self) -> Option<&TimeOfDay> {
        Some(&self.now)
    }

    fn value(&self, reference: &Reference) -> Operand<'_> {
        match reference.segments() {
            [Segment::Key(root), rest @ ..] if root == "task" => lookup(self.task, rest),
            [Segment::Key(root), rest @ ..] if root == "worker" => worker_value(self.worker, rest),
            _ => Operand::Null,
        }
    }
}

/// `worker.sid`, `worker.friendly_name`, `worker.activity_name`, `worker.activity_sid` from the
/// worker's properties (see the module documentation), anything else from its attributes.
fn worker_value<'a>(worker: &'a Worker, rest: &[Segment]) -> Operand<'a> {
    let property = match rest {
        [Segment::Key(key)] => match key.as_str() {
            "sid" => Some(worker.sid().as_str()),
            "friendly_name" => worker.friendly_name(),
            "activity_name" => worker.activity_name(),
            "activity_sid" => worker.activity_sid().map(ActivitySid::as_str),
            _ => None,
        },
        _ => None,
    };
    match property {
        Some(value) => Operand::String(value),
        None => lookup(worker.attributes(), rest),
    }
}

/// A queue's `target_workers`: bare keys are worker attributes.
struct QueueScope<'a> {
    worker: &'a Worker,
    now: TimeOfDay,
}

impl Scope for QueueScope<'_> {
    fn now(&self) -> Option<&TimeOfDay> {
        Some(&self.now)
    }

    fn value(&self, reference: &Reference) -> Operand<'_> {
        lookup(self.worker.attributes(), reference.segments())
    }
}

/// `skip_if`: counts of the queue's workers by activity.
struct Counts<'w> {
    available: i64,
    unavailable: i64,
    activities: Vec<&'w ActivitySid>,
}

impl<'w> Counts<'w> {
    /// Counts the members of `queue` (every worker when the queue is not listed).
    fn of(queue: Option<&Queue>, workers: &'w [Worker], now: TimeOfDay) -> Self {
        let members = workers.iter().filter(|worker| {
            queue.is_none_or(|queue| queue.target_workers().evaluate(&QueueScope { worker, now }))
        });
        let mut counts = Counts {
            available: 0,
            unavailable: 0,
            activities: Vec::new(),
        };
        for worker in members {
            if worker.is_available() {
                counts.available += 1;
            } else {
                counts.unavailable += 1;
            }
            counts.activities.extend(worker.activity_sid());
        }
        counts
    }
}

impl Scope for Counts<'_> {
    fn value(&self, reference: &Reference) -> Operand<'_> {
        match reference.segments() {
            [Segment::Key(root), Segment::Key(name)] if root == "workers" => match name.as_str() {
                "available" => Operand::Integer(self.available),
                "unavailable" => Operand::Integer(self.unavailable),
                activity => Operand::Integer(
                    self.activities
                        .iter()
                        .filter(|sid| sid.as_str().eq_ignore_ascii_case(activity))
                        .count() as i64,
                ),
            },
            _ => Operand::Null,
        }
    }
}
