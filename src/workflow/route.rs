//! Where a task goes, and why: the Workflow's decision for one task, worked out offline.
//!
//! As TaskRouter documents it (<https://www.twilio.com/docs/taskrouter/lifecycle-task-workflows-and-assignment>,
//! <https://www.twilio.com/docs/taskrouter/task-evaluation>):
//!
//! 1. Filters are tried top to bottom; the first whose expression matches the task's attributes
//!    takes the task. Each filter tried is explained: the comparisons that decided it, with the
//!    values the task gave them ([`Expression::explain`]).
//! 2. The task walks that filter's targets in order. A target's timeout counts against the
//!    task's age, so a step ends when the task is as old as the sum of the timeouts so far; a step
//!    without a timeout holds the task until its TTL. When the last step times out TaskRouter
//!    fires `workflow.timeout` and cancels the task.
//! 3. No filter matches: `default_filter`'s queue, until the task's TTL.
//!
//! Given the workspace's workers ([`Workspace`]), each step lists the workers it would offer the
//! task to: members of the step's queue (its `target_workers`), matching the target's
//! `expression` and, with `known_worker_sid` / `known_worker_friendly_name`, the one worker the
//! task names; ordered by `order_by` (workers lacking an attribute after those having it, in
//! either direction, as <https://www.twilio.com/docs/taskrouter/order-workers> says), and in
//! file order where TaskRouter would put the worker idle longest first. Workers that do not
//! qualify are listed with the reason. `skip_if` is evaluated as
//! <https://www.twilio.com/docs/taskrouter/worker-presence> says: only when no qualifying worker
//! is available when the task enters the step; when it holds, the task moves on at once, and a
//! task that skips every step of its filter is evaluated as if the filter had not matched.
//! Whether a step skipped at once still ends its successor at the summed timeouts is not
//! documented; here it does (the timeout counts against the task's age).
//!
//! # Time of day
//!
//! Every scope below sends `taskrouter.…` to [`time_of_day`], one match arm each: the time-of-day
//! variables read null until that function resolves them for an instant.

use std::cmp::Ordering;

use serde_json::Value;

use super::{Direction, Filter, KnownWorker, OrderBy, Queue, Target, Worker, Workflow, Workspace};
use crate::expression::{Explanation, Operand, Reference, Scope, Segment, lookup};
use crate::sid::{ActivitySid, TaskQueueSid};

/// The Workflow's decision for one task.
#[derive(Debug, Clone, PartialEq)]
pub struct Route<'w> {
    /// Every filter tried, in order, up to and including the one that took the task.
    pub filters: Vec<Tried<'w>>,
    /// Where the task went.
    pub destination: Destination<'w>,
    /// Its routing steps, in order (one for `default_filter`, none when it went nowhere).
    pub steps: Vec<Step<'w>>,
}

/// A filter tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Tried<'w> {
    /// Its position in `filters`.
    pub index: usize,
    /// The filter.
    pub filter: &'w Filter,
    /// Why its expression matched or not.
    pub explanation: Explanation,
    /// It matched, but every step would be skipped at once (`skip_if`), so the task went on to
    /// the next filters.
    pub skipped: bool,
}

/// Where a task went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Destination<'w> {
    /// The filter at this index.
    Filter(usize, &'w Filter),
    /// No filter took it: `default_filter`.
    Default(&'w Target),
    /// No filter took it and there is no `default_filter`.
    Nowhere,
}

/// One routing step of the task.
#[derive(Debug, Clone, PartialEq)]
pub struct Step<'w> {
    /// `targets[i]` or `default_filter`.
    pub place: String,
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
    /// It was evaluated; when it holds the task skips the step.
    Evaluated(Explanation),
}

impl Step<'_> {
    /// Whether the task leaves this step at once because of `skip_if`.
    pub fn is_skipped(&self) -> bool {
        matches!(&self.skip, Skip::Evaluated(explanation) if explanation.holds)
    }
}

impl Workflow {
    /// Where `task` (its attributes, a JSON object) goes, and why (see the module
    /// documentation).
    pub fn route<'w>(&'w self, task: &Value, workspace: &'w Workspace) -> Route<'w> {
        let mut tried = Vec::new();
        for (index, filter) in self.filters.iter().enumerate() {
            let explanation = filter.expression.explain(&FilterScope { task });
            if !explanation.holds {
                tried.push(Tried {
                    index,
                    filter,
                    explanation,
                    skipped: false,
                });
                continue;
            }
            let steps = steps(&filter.targets, task, workspace, |position| {
                format!("targets[{position}]")
            });
            let skipped = steps.iter().all(Step::is_skipped);
            tried.push(Tried {
                index,
                filter,
                explanation,
                skipped,
            });
            if !skipped {
                return Route {
                    filters: tried,
                    destination: Destination::Filter(index, filter),
                    steps,
                };
            }
        }
        match &self.default_filter {
            Some(target) => {
                let mut steps = steps(std::slice::from_ref(target), task, workspace, |_| {
                    "default_filter".to_owned()
                });
                // The default queue holds the task until its TTL (the lifecycle page).
                for step in &mut steps {
                    step.leaves = None;
                }
                Route {
                    filters: tried,
                    destination: Destination::Default(target),
                    steps,
                }
            }
            None => Route {
                filters: tried,
                destination: Destination::Nowhere,
                steps: Vec::new(),
            },
        }
    }
}

fn steps<'w>(
    targets: &'w [Target],
    task: &Value,
    workspace: &'w Workspace,
    place: impl Fn(usize) -> String,
) -> Vec<Step<'w>> {
    let mut steps = Vec::with_capacity(targets.len());
    let mut queue: Option<&TaskQueueSid> = None;
    // The task's age when the current step began, and the summed timeouts so far.
    let mut enters = Some(0_u64);
    let mut summed = Some(0_u64);
    for (position, target) in targets.iter().enumerate() {
        queue = target.queue.as_ref().or(queue);
        // The parser makes the first target of every filter, and the default, name a queue.
        let Some(queue) = queue else { break };
        summed = summed
            .zip(target.timeout)
            .map(|(sum, timeout)| sum + timeout);
        let queue_details = workspace.queue(queue);
        let known_worker = target.known_worker.as_ref().map(|known| {
            let value = known_value(known, task);
            (known.reference(), value.to_string())
        });
        let workers = workspace
            .workers()
            .map(|workers| candidates(target, queue_details, workers, task));
        let skip = match (&target.skip_if, &workers) {
            (None, _) => Skip::Never,
            (Some(_), None) => Skip::Unknown,
            (Some(_), Some(candidates)) if candidates.available().next().is_some() => {
                Skip::NotNeeded
            }
            (Some(skip_if), Some(_)) => {
                let counts = Counts::of(queue_details, workspace.workers().unwrap_or_default());
                Skip::Evaluated(skip_if.explain(&counts))
            }
        };
        let mut step = Step {
            place: place(position),
            target,
            queue,
            queue_details,
            enters,
            leaves: if enters.is_some() { summed } else { None },
            known_worker,
            workers,
            skip,
        };
        if step.is_skipped() {
            step.leaves = step.enters;
        }
        enters = step.leaves;
        steps.push(step);
    }
    steps
}

/// The workers of one step, qualifying ones in offer order.
fn candidates<'w>(
    target: &'w Target,
    queue: Option<&Queue>,
    workers: &'w [Worker],
    task: &Value,
) -> Candidates<'w> {
    let known = target
        .known_worker
        .as_ref()
        .map(|known| (known, known_value(known, task)));
    let mut qualifying = Vec::new();
    let mut excluded = Vec::new();
    for worker in workers {
        let reason = exclusion(target, queue, known.as_ref(), worker, task);
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

/// Why `worker` does not qualify for the step, or `None` when it does: the first failing check
/// of queue membership, the known worker, the target's expression.
fn exclusion(
    target: &Target,
    queue: Option<&Queue>,
    known: Option<&(&KnownWorker, Operand<'_>)>,
    worker: &Worker,
    task: &Value,
) -> Option<String> {
    if let Some(queue) = queue {
        let explanation = queue.target_workers().explain(&QueueScope { worker });
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
        .explain(&TargetScope { task, worker });
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

/// `order_by`: clause by clause, numbers only; a worker without a number comes after one with
/// it whatever the direction.
fn offer_order(clauses: &[OrderBy], a: &Worker, b: &Worker) -> Ordering {
    for clause in clauses {
        let rest = match clause.attribute.segments() {
            [_, rest @ ..] => rest,
            [] => continue,
        };
        let value = |worker: &Worker| match lookup(worker.attributes(), rest) {
            Operand::Integer(value) => Some(value as f64),
            Operand::Float(value) => Some(value),
            _ => None,
        };
        let ordering = match (value(a), value(b)) {
            (Some(x), Some(y)) => {
                let ascending = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                match clause.direction {
                    Direction::Ascending => ascending,
                    Direction::Descending => ascending.reverse(),
                }
            }
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

/// TaskRouter's time-of-day variables (`taskrouter.currentTime`, …; contract §5). They are not
/// resolved for an instant yet, so they read null.
pub fn time_of_day(_name: &[Segment]) -> Operand<'static> {
    Operand::Null
}

/// A filter's expression: bare keys are task attributes.
struct FilterScope<'a> {
    task: &'a Value,
}

impl Scope for FilterScope<'_> {
    fn resolve(&self, reference: &Reference) -> Operand<'_> {
        match reference.segments() {
            [Segment::Key(root), rest @ ..] if root == "taskrouter" => time_of_day(rest),
            all => lookup(self.task, all),
        }
    }
}

/// A target's expression: `task.…` and `worker.…`.
struct TargetScope<'a> {
    task: &'a Value,
    worker: &'a Worker,
}

impl Scope for TargetScope<'_> {
    fn resolve(&self, reference: &Reference) -> Operand<'_> {
        match reference.segments() {
            [Segment::Key(root), rest @ ..] if root == "taskrouter" => time_of_day(rest),
            [Segment::Key(root), rest @ ..] if root == "task" => lookup(self.task, rest),
            [Segment::Key(root), rest @ ..] if root == "worker" => worker_value(self.worker, rest),
            _ => Operand::Null,
        }
    }
}

/// `worker.sid`, `worker.activity_name`, `worker.activity_sid` from the worker's properties
/// (activity-based routing), anything else from its attributes.
fn worker_value<'a>(worker: &'a Worker, rest: &[Segment]) -> Operand<'a> {
    let property = match rest {
        [Segment::Key(key)] if key == "sid" => Some(worker.sid().as_str()),
        [Segment::Key(key)] if key == "activity_name" => worker.activity_name(),
        [Segment::Key(key)] if key == "activity_sid" => {
            worker.activity_sid().map(ActivitySid::as_str)
        }
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
}

impl Scope for QueueScope<'_> {
    fn resolve(&self, reference: &Reference) -> Operand<'_> {
        match reference.segments() {
            [Segment::Key(root), rest @ ..] if root == "taskrouter" => time_of_day(rest),
            all => lookup(self.worker.attributes(), all),
        }
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
    fn of(queue: Option<&Queue>, workers: &'w [Worker]) -> Self {
        let members = workers.iter().filter(|worker| {
            queue.is_none_or(|queue| queue.target_workers().evaluate(&QueueScope { worker }))
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
    fn resolve(&self, reference: &Reference) -> Operand<'_> {
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
