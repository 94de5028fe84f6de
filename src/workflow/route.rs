//! Where a task goes, and why: the Workflow's decision for one task, worked out offline.
//!
//! As TaskRouter documents it (<https://www.twilio.com/docs/taskrouter/lifecycle-task-workflows-and-assignment>,
//! <https://www.twilio.com/docs/taskrouter/task-evaluation>):
//!
//! 1. Filters are tried top to bottom; the first whose expression matches the task's attributes
//!    takes the task. Each filter tried is explained: the comparisons that decided it, with the
//!    values the task gave them ([`Expression::explain`](crate::expression::Expression::explain)).
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
//! The caller passes the instant the task is created at, already read as TaskRouter's time-of-day
//! attributes ([`TimeOfDay`], in UTC); the filter, target and queue scopes below each give it as
//! their [`Scope::now`], so `taskrouter.…` reads it in filter, target and queue expressions alike
//! (`skip_if` has no instant: there the attributes are null). The same instant serves every step: TaskRouter's
//! documentation does not say whether a later step re-reads the clock, and a timeline that moved
//! its own clock would explain less.

use std::cmp::Ordering;

use serde_json::Value;

use super::{Direction, Filter, KnownWorker, OrderBy, Queue, Target, Worker, Workflow, Workspace};
use crate::expression::{Explanation, Operand, Reference, Scope, Segment, lookup};
use crate::sid::{ActivitySid, TaskQueueSid};
use crate::time_of_day::TimeOfDay;

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
    /// Where `task` (its attributes, a JSON object) goes, and why, when it is created at `now`
    /// (see the module documentation).
    pub fn route<'w>(
        &'w self,
        task: &Value,
        workspace: &'w Workspace,
        now: TimeOfDay,
    ) -> Route<'w> {
        let mut tried = Vec::new();
        for (index, filter) in self.filters.iter().enumerate() {
            let explanation = filter.expression.explain(&FilterScope { task, now });
            if !explanation.holds {
                tried.push(Tried {
                    index,
                    filter,
                    explanation,
                    skipped: false,
                });
                continue;
            }
            let steps = steps(&filter.targets, task, workspace, now, |position| {
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
                let mut steps = steps(std::slice::from_ref(target), task, workspace, now, |_| {
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
    now: TimeOfDay,
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
            .map(|workers| candidates(target, queue_details, workers, task, now));
        let skip = match (&target.skip_if, &workers) {
            (None, _) => Skip::Never,
            (Some(_), None) => Skip::Unknown,
            (Some(_), Some(candidates)) if candidates.available().next().is_some() => {
                Skip::NotNeeded
            }
            (Some(skip_if), Some(_)) => {
                let counts =
                    Counts::of(queue_details, workspace.workers().unwrap_or_default(), now);
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

/// A filter's expression: bare keys are task attributes.
struct FilterScope<'a> {
    task: &'a Value,
    now: TimeOfDay,
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn file(path: &str) -> String {
        let path = format!("{}/workflows/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
    }

    /// The sample workspace of `workflows/workspace/`.
    fn sample_workspace() -> Workspace {
        Workspace::new(
            Some(Worker::parse_list(&file("workspace/workers.json")).expect("valid workers")),
            Queue::parse_list(&file("workspace/queues.json")).expect("valid queues"),
        )
    }

    /// A Wednesday noon, UTC: an instant for the routes that do not read the time.
    fn noon() -> TimeOfDay {
        at("2026-12-02T12:00:00Z")
    }

    fn at(instant: &str) -> TimeOfDay {
        TimeOfDay::utc(instant.parse().expect("an RFC 3339 instant"))
    }

    fn example(name: &str) -> Workflow {
        Workflow::parse(&file(&format!("examples/{name}"))).expect("a valid example")
    }

    /// Where the task went, and each step as `Queue enters–leaves: worker worker…` with the
    /// qualifying workers by friendly name in offer order.
    fn summary(route: &Route<'_>) -> (String, Vec<String>) {
        let destination = match route.destination {
            Destination::Filter(index, filter) => super::super::filter_place(index, filter.name()),
            Destination::Default(_) => "default_filter".to_owned(),
            Destination::Nowhere => "nowhere".to_owned(),
        };
        let steps = route
            .steps
            .iter()
            .map(|step| {
                let queue = step
                    .queue_details
                    .and_then(Queue::friendly_name)
                    .map_or_else(|| step.queue.to_string(), str::to_owned);
                let age =
                    |age: Option<u64>| age.map_or_else(|| "TTL".to_owned(), |a| a.to_string());
                let window = if step.is_skipped() {
                    format!("skipped at {}", age(step.enters))
                } else {
                    format!("{}–{}", age(step.enters), age(step.leaves))
                };
                let workers = step.workers.as_ref().map_or_else(
                    || "?".to_owned(),
                    |candidates| {
                        candidates
                            .qualifying
                            .iter()
                            .map(|worker| worker.friendly_name().unwrap_or("?"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    },
                );
                format!("{queue} {window}: {workers}")
            })
            .collect();
        (destination, steps)
    }

    #[test]
    fn the_examples_route_tasks_as_twilio_documents() {
        let workspace = sample_workspace();
        #[rustfmt::skip]
        let cases: &[(&str, Value, &str, &[&str], &str)] = &[
            // Twilio's lifecycle page: support, sales, everyone else.
            ("lifecycle-support-sales.json", json!({"type": "Support", "preferred_agents": ["carol", "alice"]}),
             "filters[0] (`Support Calls`)",
             &["Just Support 0–15: alice carol", "Just Support 15–30: alice carol dave erin"],
             "a support call to its preferred agents, then to the inherited queue"),
            ("lifecycle-support-sales.json", json!({"type": "Support"}),
             "filters[0] (`Support Calls`)",
             &["Just Support 0–15: ", "Just Support 15–30: alice carol dave erin"],
             "no preferred agents: nobody in the first step"),
            ("lifecycle-support-sales.json", json!({"type": "Sales"}),
             "filters[1] (`Sales Calls`)", &["Just Sales 0–15: alice bob erin"], "a sales call"),
            ("lifecycle-support-sales.json", json!({"type": "Billing"}),
             "default_filter", &["Everyone 0–TTL: alice bob carol dave erin"], "anything else falls through"),
            ("lifecycle-support-sales.json", json!({"type": "support"}),
             "default_filter", &["Everyone 0–TTL: alice bob carol dave erin"], "values are case-sensitive"),
            // Twilio's time-of-day page, on a Wednesday at noon: open.
            ("time-of-day.json", json!({}), "filters[0] (`MyFilterName`)", &["Open Hours 0–TTL: alice bob carol dave erin"], "open hours"),
            // Transfers and known workers.
            ("transfer.json", json!({"transferTargetType": "worker", "transferTargetSid": "WK00000000000000000000000000000002", "workerSidsInConversation": ["WK00000000000000000000000000000001"]}),
             "filters[0] (`Transfer to a worker`)",
             &["Everyone 0–30: bob", "Everyone 30–TTL: bob carol dave erin"],
             "to a worker, then to anyone not already in the conversation"),
            ("transfer.json", json!({"transferTargetType": "worker", "transferTargetSid": null, "workerSidsInConversation": []}),
             "filters[0] (`Transfer to a worker`)",
             &["Everyone 0–30: ", "Everyone 30–TTL: alice bob carol dave erin"],
             "a null known worker: nobody, until the timeout"),
            ("transfer.json", json!({"transferTargetType": "queue", "transferQueueName": "Spanish", "workerSidsInConversation": ["WK00000000000000000000000000000002"]}),
             "filters[1] (`Transfer to the Spanish queue`)", &["Spanish 0–TTL: dave erin"], "to a queue, without the transferring worker"),
            ("transfer.json", json!({"lastAgentName": "carol"}),
             "filters[2] (`Back to the last agent`)",
             &["Everyone 0–20: carol", "Everyone 20–TTL: alice bob carol dave erin"],
             "the last agent by friendly name; offline, but three workers are available so skip_if is false"),
            // A production-style helpline.
            ("helpline.json", json!({"priority_level": "emergency", "channelType": "chat"}),
             "filters[1] (`Emergency`)",
             &["Supervisors skipped at 0: carol", "Counsellors 0–TTL: carol alice"],
             "no supervisor available: skipped at once; counsellors by level, highest first"),
            ("helpline.json", json!({"keywords": ["suicide"], "channelType": "voice"}),
             "filters[1] (`Emergency`)",
             &["Supervisors skipped at 0: carol", "Counsellors 0–TTL: carol erin"],
             "a keyword; voice: workers free on chat"),
            ("helpline.json", json!({"language": "es-MX"}),
             "filters[2] (`Spanish`)",
             &["Spanish 0–120: bob dave erin", "Counsellors 120–420: dave erin", "Everyone 420–TTL: alice bob carol dave erin"],
             "Spanish: by level (erin has none: last), then Spanish-speaking counsellors, then everyone"),
            ("helpline.json", json!({"helpline": "youth", "channelType": "sms"}),
             "filters[3] (`Youth line`)",
             &["Counsellors 0–180: carol alice", "Counsellors 180–780: alice carol dave erin", "Everyone 780–TTL: alice bob carol dave erin"],
             "the long expression, two order_by clauses, escalation with priority"),
            ("helpline.json", json!({"channelType": "email", "helpline": "adult"}),
             "default_filter", &["Everyone 0–TTL: alice bob carol dave erin"], "nothing matches"),
            ("helpline.json", json!({"transferTargetType": "worker", "transferTargetSid": "WK00000000000000000000000000000003"}),
             "filters[0] (`Transfer to a counsellor`)",
             &["Everyone 0–60: carol", "Counsellors 60–TTL: alice carol dave erin"],
             "a transfer to an offline counsellor waits 60 s for her"),
        ];
        for (name, task, destination, steps, why) in cases {
            let workflow = example(name);
            let route = workflow.route(task, &workspace, noon());
            let (went, walked) = summary(&route);
            assert_eq!(
                (
                    went.as_str(),
                    walked
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .as_slice()
                ),
                (*destination, *steps),
                "{name}: {why}"
            );
        }
    }

    #[test]
    fn twilios_time_of_day_example_routes_by_day_and_hour_as_its_prose_says() {
        // https://www.twilio.com/docs/taskrouter/time-of-day-routing: Mon, Tue, Thu 08:00–17:30,
        // Wed and Fri 09:00–18:30, Sat 11:00–15:30, in UTC, bounds excluded (`>` and `<`); the
        // page writes `'THU'` and `= 'Sat'`, and the example keeps both.
        let workflow = example("time-of-day.json");
        let workspace = sample_workspace();
        let open = (
            "filters[0] (`MyFilterName`)",
            "Open Hours 0–TTL: alice bob carol dave erin",
        );
        let closed = ("default_filter", "After Hours 0–TTL: dave");
        #[rustfmt::skip]
        let cases = [
            ("2026-12-03T10:00:00Z", open, "a Thursday morning: 'THU' is Thursday"),
            ("2026-12-03T08:00:00Z", closed, "Thursday 08:00: `> 800` excludes the opening minute"),
            ("2026-12-03T08:01:00Z", open, "Thursday 08:01"),
            ("2026-12-03T17:29:00Z", open, "Thursday 17:29"),
            ("2026-12-03T17:30:00Z", closed, "Thursday 17:30: closed"),
            ("2026-11-30T08:30:00Z", open, "a Monday at 08:30"),
            ("2026-12-02T08:30:00Z", closed, "a Wednesday at 08:30: Wednesday opens at 09:00"),
            ("2026-12-04T18:29:00Z", open, "a Friday at 18:29"),
            ("2026-12-05T12:00:00Z", open, "a Saturday at noon: the single `=`"),
            ("2026-12-05T16:00:00Z", closed, "a Saturday at 16:00: closed"),
            ("2026-12-06T12:00:00Z", closed, "a Sunday: closed all day"),
            ("2026-12-03T12:00:00-08:00", closed, "noon in California is 20:00 UTC: closed"),
            ("2026-12-04T01:30:00+09:00", open, "Friday 01:30 in Tokyo is Thursday 16:30 UTC"),
        ];
        for (instant, (destination, step), why) in cases {
            let route = workflow.route(&json!({}), &workspace, at(instant));
            assert_eq!(
                summary(&route),
                (destination.to_owned(), vec![step.to_owned()]),
                "{why}: {instant}"
            );
        }
        let route = workflow.route(&json!({}), &workspace, at("2026-12-06T12:00:00Z"));
        let because = because(&route.filters[0].explanation);
        assert_eq!(
            because,
            r#"`taskrouter.dayOfWeek IN ['Mon', 'Tue', 'THU']` is false (taskrouter.dayOfWeek = "Sun"); `taskrouter.dayOfWeek IN ['Wed', 'Fri']` is false (taskrouter.dayOfWeek = "Sun"); `taskrouter.dayOfWeek = 'Sat'` is false (taskrouter.dayOfWeek = "Sun")"#,
            "each alternative says which day it read"
        );
    }

    #[test]
    fn target_and_queue_expressions_read_the_time_of_day_too() {
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [{"expression": "1 == 1", "targets": [
                {"queue": "WQ00000000000000000000000000000009", "expression": "taskrouter.currentHour < 12 OR worker.shift == 'late'"}
            ]}]}}"#,
        )
        .expect("valid");
        // The weekend worker is in the queue on Saturdays and Sundays only.
        let workers = Worker::parse_list(
            r#"[
                {"sid": "WK00000000000000000000000000000001", "friendly_name": "early", "attributes": {"shift": "early", "weekend": false}},
                {"sid": "WK00000000000000000000000000000002", "friendly_name": "late", "attributes": {"shift": "late", "weekend": false}},
                {"sid": "WK00000000000000000000000000000003", "friendly_name": "weekend", "attributes": {"shift": "late", "weekend": true}}
            ]"#,
        )
        .expect("valid");
        let workspace = Workspace::new(
            Some(workers),
            Queue::parse_list(
                r#"[{"sid": "WQ00000000000000000000000000000009", "friendly_name": "Rota", "target_workers": "weekend == false OR taskrouter.dayOfWeek IN ['sat', 'SUN']"}]"#,
            )
            .expect("valid"),
        );
        #[rustfmt::skip]
        let cases = [
            ("2026-12-02T09:00:00Z", "Rota 0–TTL: early late", "a weekday morning: the early and late shifts; the weekend worker is not in the queue"),
            ("2026-12-02T15:00:00Z", "Rota 0–TTL: late", "a weekday afternoon: only the late shift"),
            ("2026-12-05T09:00:00Z", "Rota 0–TTL: early late weekend", "a Saturday morning: the weekend worker joins the queue"),
            ("2026-12-06T15:00:00Z", "Rota 0–TTL: late weekend", "a Sunday afternoon"),
        ];
        for (instant, step, why) in cases {
            let route = workflow.route(&json!({}), &workspace, at(instant));
            assert_eq!(summary(&route).1, [step], "{why}");
        }
    }

    #[test]
    fn each_filter_tried_is_explained_with_the_task_values() {
        let workflow = example("lifecycle-support-sales.json");
        let workspace = Workspace::default();
        let route = workflow.route(&json!({"type": "Billing"}), &workspace, noon());
        let explained: Vec<(usize, bool, String)> = route
            .filters
            .iter()
            .map(|tried| {
                (
                    tried.index,
                    tried.explanation.holds,
                    because(&tried.explanation),
                )
            })
            .collect();
        assert_eq!(
            explained,
            [
                (
                    0,
                    false,
                    r#"`type=="Support"` is false (type = "Billing")"#.to_owned()
                ),
                (
                    1,
                    false,
                    r#"`type=="Sales"` is false (type = "Billing")"#.to_owned()
                ),
            ]
        );
    }

    #[test]
    fn without_workers_steps_list_no_one_and_skip_if_is_not_evaluated() {
        let workflow = example("helpline.json");
        let workspace = Workspace::default();
        let route = workflow.route(&json!({"priority_level": "emergency"}), &workspace, noon());
        assert_eq!(
            summary(&route),
            (
                "filters[1] (`Emergency`)".to_owned(),
                vec![
                    "WQ00000000000000000000000000000007 0–30: ?".to_owned(),
                    "WQ00000000000000000000000000000008 30–TTL: ?".to_owned(),
                ]
            )
        );
        assert_eq!(route.steps[0].skip, Skip::Unknown);
    }

    #[test]
    fn a_filter_whose_every_step_is_skipped_lets_the_task_through_to_the_next_filters() {
        // https://www.twilio.com/docs/taskrouter/worker-presence: "If a Task skips a filter,
        // it's evaluated as if the Task didn't match the filter expression."
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [
                {"filter_friendly_name": "supervisors", "expression": "1 == 1", "targets": [
                    {"queue": "WQ00000000000000000000000000000007", "skip_if": "workers.available == 0", "timeout": 30}
                ]},
                {"filter_friendly_name": "sales", "expression": "type == 'sales'", "targets": [
                    {"queue": "WQ00000000000000000000000000000002"}
                ]}
            ], "default_filter": {"queue": "WQ00000000000000000000000000000003"}}}"#,
        )
        .expect("valid");
        let workspace = sample_workspace();
        let route = workflow.route(&json!({"type": "sales"}), &workspace, noon());
        assert_eq!(
            summary(&route),
            (
                "filters[1] (`sales`)".to_owned(),
                vec!["Just Sales 0–TTL: alice bob erin".to_owned()]
            )
        );
        assert!(route.filters[0].explanation.holds && route.filters[0].skipped);
        let route = workflow.route(&json!({"type": "support"}), &workspace, noon());
        assert_eq!(summary(&route).0, "default_filter", "then the default");
    }

    #[test]
    fn skip_if_is_evaluated_only_when_no_qualifying_worker_is_available() {
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [{"expression": "1 == 1", "targets": [
                {"queue": "WQ00000000000000000000000000000002", "skip_if": "workers.available > 0", "timeout": 10},
                {"queue": "WQ00000000000000000000000000000002", "expression": "worker.id == 'erin'", "skip_if": "workers.available > 0", "timeout": 10},
                {"queue": "WQ00000000000000000000000000000002", "expression": "worker.id == 'erin'", "skip_if": "workers.WA00000000000000000000000000000003 == 0"}
            ]}], "default_filter": {"queue": "WQ00000000000000000000000000000003"}}}"#,
        )
        .expect("valid");
        let workspace = sample_workspace();
        let route = workflow.route(&json!({}), &workspace, noon());
        assert_eq!(
            route.steps[0].skip,
            Skip::NotNeeded,
            "alice and bob are available"
        );
        assert!(
            route.steps[1].is_skipped(),
            "only erin qualifies, on a break; two sales workers are available"
        );
        assert_eq!(
            because(match &route.steps[1].skip {
                Skip::Evaluated(explanation) => explanation,
                other => panic!("evaluated, got {other:?}"),
            }),
            "`workers.available > 0` is true (workers.available = 2)"
        );
        assert_eq!(
            (route.steps[1].enters, route.steps[1].leaves),
            (Some(10), Some(10))
        );
        assert!(
            !route.steps[2].is_skipped(),
            "one sales worker is on a break (WA…3)"
        );
        assert_eq!(
            (route.steps[2].enters, route.steps[2].leaves),
            (Some(10), None)
        );
    }

    #[test]
    fn order_by_puts_workers_without_the_attribute_last_in_either_direction() {
        // https://www.twilio.com/docs/taskrouter/order-workers
        let workers = Worker::parse_list(
            r#"[
                {"sid": "WK00000000000000000000000000000001", "friendly_name": "none", "attributes": {}},
                {"sid": "WK00000000000000000000000000000002", "friendly_name": "f10s8", "attributes": {"finance": 10, "support": 8}},
                {"sid": "WK00000000000000000000000000000003", "friendly_name": "f10s5", "attributes": {"finance": 10, "support": 5}},
                {"sid": "WK00000000000000000000000000000004", "friendly_name": "f10", "attributes": {"finance": 10}},
                {"sid": "WK00000000000000000000000000000005", "friendly_name": "f2.5", "attributes": {"finance": 2.5, "support": "high"}}
            ]"#,
        )
        .expect("valid");
        let workspace = Workspace::new(Some(workers), Vec::new());
        let cases = [
            (
                "worker.finance ASC, worker.support ASC",
                "f2.5 f10s5 f10s8 f10 none",
                "Twilio's example: Bob (5) before Alice (8); no support after",
            ),
            (
                "worker.finance DESC, worker.support DESC",
                "f10s8 f10s5 f10 f2.5 none",
                "descending, still missing last",
            ),
            (
                "worker.support DESC",
                "f10s8 f10s5 none f10 f2.5",
                "a string counts as missing; ties keep file order",
            ),
        ];
        for (order_by, expected, why) in cases {
            let workflow = Workflow::parse(&format!(
                r#"{{"task_routing": {{"filters": [{{"expression": "1 == 1", "targets": [
                    {{"queue": "WQ00000000000000000000000000000001", "order_by": "{order_by}"}}
                ]}}]}}}}"#
            ))
            .expect("valid");
            let route = workflow.route(&json!({}), &workspace, noon());
            assert_eq!(
                summary(&route).1,
                [format!(
                    "WQ00000000000000000000000000000001 0–TTL: {expected}"
                )],
                "{why}"
            );
        }
    }

    #[test]
    fn target_expressions_read_activity_and_sid_from_the_worker() {
        // https://www.twilio.com/docs/taskrouter/activity-based-routing
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [{"expression": "1 == 1", "targets": [
                {"queue": "WQ00000000000000000000000000000003", "expression": "worker.activity_name IN ['Offline', 'Break'] OR worker.sid == task.pinned OR worker.activity_sid == task.activity"}
            ]}]}}"#,
        )
        .expect("valid");
        let workspace = sample_workspace();
        let route = workflow.route(
            &json!({"pinned": "WK00000000000000000000000000000001", "activity": "WA00000000000000000000000000000001"}),
            &workspace,
            noon(),
        );
        assert_eq!(
            summary(&route).1,
            ["Everyone 0–TTL: alice bob carol dave erin"]
        );
        let route = workflow.route(
            &json!({"pinned": "WK00000000000000000000000000000001"}),
            &workspace,
            noon(),
        );
        assert_eq!(summary(&route).1, ["Everyone 0–TTL: alice carol erin"]);
    }

    #[test]
    fn a_queue_missing_from_the_queues_takes_every_worker_and_an_unmatched_task_goes_nowhere_without_a_default()
     {
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [{"expression": "type == 'x'", "targets": [
                {"queue": "WQ0000000000000000000000000000000f"}
            ]}]}}"#,
        )
        .expect("valid");
        let workspace = sample_workspace();
        let route = workflow.route(&json!({"type": "x"}), &workspace, noon());
        assert_eq!(
            summary(&route).1,
            ["WQ0000000000000000000000000000000f 0–TTL: alice bob carol dave erin"]
        );
        let route = workflow.route(&json!({"type": "y"}), &workspace, noon());
        assert_eq!(summary(&route), ("nowhere".to_owned(), Vec::new()));
    }

    #[test]
    fn excluded_workers_carry_the_first_reason() {
        let workflow = example("transfer.json");
        let workspace = sample_workspace();
        let route = workflow.route(
            &json!({"transferTargetType": "queue", "transferQueueName": "Spanish", "workerSidsInConversation": ["WK00000000000000000000000000000002"]}),
            &workspace,
            noon(),
        );
        let reasons: Vec<(String, String)> = route.steps[0]
            .workers
            .as_ref()
            .expect("workers known")
            .excluded
            .iter()
            .map(|(worker, reason)| {
                (
                    worker.friendly_name().unwrap_or("?").to_owned(),
                    reason.clone(),
                )
            })
            .collect();
        assert_eq!(
            reasons,
            [
                ("alice".to_owned(), r#"not in the queue: `languages HAS 'es'` is false (languages = ["en"])"#.to_owned()),
                ("bob".to_owned(), r#"`worker.sid NOT IN task.workerSidsInConversation` is false (worker.sid = "WK00000000000000000000000000000002", task.workerSidsInConversation = ["WK00000000000000000000000000000002"])"#.to_owned()),
                ("carol".to_owned(), r#"not in the queue: `languages HAS 'es'` is false (languages = ["en"])"#.to_owned()),
            ]
        );
    }
}
