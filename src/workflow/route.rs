//! Where a task goes, and why: its whole walk through the Workflow, worked out offline.
//!
//! [`Workflow::route`] drives the engine ([`walk`](super::walk)) from the task's creation to
//! where its walk ends: it waits in a step until its TTL, TaskRouter cancels it (the last step
//! of a filter timed out and no later filter matches), or it has no queue. Each time the task
//! looks for a filter (at creation, and again whenever it leaves a filter by a timeout or a
//! skip) is a [`Leg`]: why it looked, at which age, each filter tried with the comparisons
//! that decided it and the values the task gave them
//! ([`Expression::explain`](crate::expression::Expression::explain)), the filter that took it,
//! and the steps it walked there ([`Step`]): the workers each offers the task to, in order, and
//! what `skip_if` does. After a step that holds the task until its TTL, the filter's remaining
//! targets are listed as never reached.
//!
//! A route knows no task TTL: a step without `timeout` holds the task "until its TTL", and
//! later timeouts are shown even when a short TTL would cancel the task first.
//!
//! # Time of day
//!
//! The caller passes the instant the task is created at; each leg reads `taskrouter.*` (in UTC,
//! as TaskRouter does, [`TimeOfDay`]) at the instant the task looks for a filter: creation plus
//! its age then. Filter, target and queue expressions of that leg read it alike (`skip_if` has
//! no instant: there the attributes are null). The workers are those of the [`Workspace`]
//! throughout: a route is a picture of one moment's staff.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::step::{Place, Step};
use super::walk::{Cause, Entry, Move, Progress, Rest, Tried};
use super::{Filter, Target, Workflow, Workspace};
use crate::time_of_day::TimeOfDay;

/// The Workflow's decision for one task: its walk, leg by leg.
#[derive(Debug, Clone, PartialEq)]
pub struct Route<'w> {
    /// The instant the task is created at.
    pub created: Timestamp,
    /// Each time the task looked for a filter, in order; never empty.
    pub legs: Vec<Leg<'w>>,
    /// Where the task first waits: the destination of the leg where its walk rests at creation
    /// (after the steps skipped at once).
    pub first: Destination<'w>,
    /// How the walk ends.
    pub end: End,
}

/// One search for a filter and the steps that followed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg<'w> {
    /// Why the task looked for a filter.
    pub cause: Cause,
    /// The task's age then, in seconds.
    pub age: u64,
    /// The filters tried, in order, up to and including the one that took the task.
    pub tried: Vec<Tried<'w>>,
    /// Where the task went.
    pub destination: Destination<'w>,
    /// Its steps there, in order (with the never reached ones after a step that holds the task
    /// until its TTL).
    pub steps: Vec<Step<'w>>,
}

/// Where a task went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Destination<'w> {
    /// The filter at this index.
    Filter(usize, &'w Filter),
    /// No filter took it: `default_filter`.
    Default(&'w Target),
    /// No filter took it, and `default_filter` did not (there is none, or it does not count
    /// after a timeout).
    Nowhere,
}

/// How a walk ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The task waits in its last step until its TTL.
    Waits,
    /// At this age the last step of a filter timed out and no later filter matched:
    /// TaskRouter cancels the task (`workflow.timeout`).
    Canceled(u64),
    /// From this age no filter takes the task and there is no `default_filter`.
    NoQueue(u64),
}

impl<'w> Route<'w> {
    /// Every step of the walk, in order.
    pub fn steps(&self) -> impl Iterator<Item = &Step<'w>> {
        self.legs.iter().flat_map(|leg| leg.steps.iter())
    }

    /// The instant the task is `age` seconds old (the latest instant there is, past it).
    pub fn instant(&self, age: u64) -> Timestamp {
        at_age(self.created, age)
    }
}

fn at_age(created: Timestamp, age: u64) -> Timestamp {
    let age = SignedDuration::from_secs(i64::try_from(age).unwrap_or(i64::MAX));
    created.checked_add(age).unwrap_or(Timestamp::MAX)
}

impl Workflow {
    /// Where `task` (its attributes, a JSON object) goes, and why, when it is created at
    /// `created` (see the module documentation).
    pub fn route<'w>(
        &'w self,
        task: &Value,
        workspace: &'w Workspace,
        created: Timestamp,
    ) -> Route<'w> {
        let mut legs: Vec<Leg<'w>> = Vec::new();
        let mut first = None;
        let mut entry = Entry::Filters {
            from: 0,
            cause: Cause::Created,
        };
        let mut progress = Progress::default();
        // Each arrival starts further down the document than the last, so this ends.
        let end = loop {
            let now = TimeOfDay::utc(at_age(created, progress.age));
            let arrival = self.arrive(entry, progress, task, workspace, now);
            for happened in arrival.moves {
                match happened {
                    Move::Looks { cause, .. } => legs.push(Leg {
                        cause,
                        age: progress.age,
                        tried: Vec::new(),
                        destination: Destination::Nowhere,
                        steps: Vec::new(),
                    }),
                    Move::Tried(tried) => {
                        if let Some(leg) = legs.last_mut() {
                            leg.tried.push(tried);
                        }
                    }
                    Move::Entered(step) => {
                        if let Some(leg) = legs.last_mut() {
                            leg.destination = self.destination(step.place);
                            leg.steps.push(step);
                        }
                    }
                }
            }
            first.get_or_insert_with(|| {
                legs.last()
                    .map_or(Destination::Nowhere, |leg| leg.destination)
            });
            match arrival.rest {
                Rest::Waits {
                    place,
                    until: Some(until),
                } => match self.timed_out(place) {
                    Some(next) => {
                        entry = next;
                        progress = Progress {
                            age: until,
                            timeouts: until,
                        };
                    }
                    None => break End::Waits,
                },
                Rest::Waits { place, until: None } => {
                    if let (Place::Target { filter, target }, Some(leg)) = (place, legs.last_mut())
                    {
                        let count = self.filters.get(filter).map_or(0, |f| f.targets.len());
                        let unreached = (target + 1..count).filter_map(|later| {
                            self.target_step(filter, later, task, workspace, now)
                        });
                        leg.steps.extend(unreached);
                    }
                    break End::Waits;
                }
                Rest::Canceled => break End::Canceled(progress.age),
                Rest::NoQueue => break End::NoQueue(progress.age),
            }
        };
        Route {
            created,
            legs,
            first: first.unwrap_or(Destination::Nowhere),
            end,
        }
    }

    fn destination(&self, place: Place) -> Destination<'_> {
        match place {
            Place::Target { filter, .. } => self
                .filters
                .get(filter)
                .map_or(Destination::Nowhere, |found| {
                    Destination::Filter(filter, found)
                }),
            Place::Default => self
                .default_filter
                .as_ref()
                .map_or(Destination::Nowhere, Destination::Default),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::workflow::step::{Skip, because};
    use crate::workflow::{Queue, Worker};

    fn file(path: &str) -> String {
        let path = format!("{}/workflows/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
    }

    /// The sample workspace document, `workflows/workspace.json`.
    fn sample_workspace() -> Workspace {
        crate::sim::document::WorkspaceDocument::read("workspace.json", &file("workspace.json"))
            .expect("a valid workspace document")
            .routing()
    }

    /// A Wednesday noon, UTC: an instant for the routes that do not read the time.
    fn noon() -> Timestamp {
        at("2026-12-02T12:00:00Z")
    }

    fn at(instant: &str) -> Timestamp {
        instant.parse().expect("an RFC 3339 instant")
    }

    fn example(name: &str) -> Workflow {
        Workflow::parse(&file(&format!("examples/{name}"))).expect("a valid example")
    }

    /// Where the task first waits, and each step of its walk as `Queue enters–leaves: worker
    /// worker…` with the qualifying workers by friendly name in offer order.
    fn summary(route: &Route<'_>) -> (String, Vec<String>) {
        let destination = match route.first {
            Destination::Filter(index, filter) => super::super::filter_place(index, filter.name()),
            Destination::Default(_) => "default_filter".to_owned(),
            Destination::Nowhere => "nowhere".to_owned(),
        };
        let steps = route
            .steps()
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
            // Overflow: the last step of a filter times out (or is skipped) into the next
            // filter that matches.
            ("overflow.json", json!({"type": "sales"}),
             "filters[0] (`Sales`)",
             &["Just Sales 0–60: bob alice erin", "Everyone 60–180: alice bob carol dave erin", "After Hours 180–TTL: dave"],
             "Sales times out into Overflow, which times out into Voicemail (the same expression, reached by the timeout)"),
            ("overflow.json", json!({"type": "support"}),
             "filters[1] (`Support`)",
             &["Just Support 0–60: alice carol dave erin", "Supervisors skipped at 60: carol", "Everyone 60–240: alice bob carol dave erin", "After Hours 240–TTL: dave"],
             "no supervisor available at 60 s: the last Support step is skipped into Overflow, whose 120 s add to the 120 s summed so far"),
            ("overflow.json", json!({"type": "billing"}),
             "default_filter", &["Everyone 0–TTL: alice bob carol dave erin"], "no filter matches"),
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

    /// A task, its legs ([`legs`]), its steps ([`summary`]), how its walk ends, and why.
    type Walk<'a> = (Value, &'a [&'a str], &'a [&'a str], End, &'a str);

    /// Each leg as `cause at age → destination`.
    fn legs(route: &Route<'_>) -> Vec<String> {
        route
            .legs
            .iter()
            .map(|leg| {
                let cause = match leg.cause {
                    Cause::Created => "created".to_owned(),
                    Cause::TimedOut { filter, target } => format!("timed out of {filter}.{target}"),
                    Cause::Skipped { filter, target } => format!("skipped {filter}.{target}"),
                };
                let destination = match leg.destination {
                    Destination::Filter(index, _) => format!("filters[{index}]"),
                    Destination::Default(_) => "default_filter".to_owned(),
                    Destination::Nowhere => "nowhere".to_owned(),
                };
                format!("{cause} at {} → {destination}", leg.age)
            })
            .collect()
    }

    #[test]
    fn a_task_timing_out_of_its_filter_goes_on_to_the_next_matching_filter() {
        // https://www.twilio.com/docs/taskrouter/workflow-configuration: "Timeouts control the
        // flow from one target to the next, or from one filter to the next matching filter (if
        // existing)"; the default filter does not count after a timeout.
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [
                {"filter_friendly_name": "sales", "expression": "type == 'sales'", "targets": [
                    {"queue": "WQ00000000000000000000000000000002", "timeout": 30},
                    {"timeout": 30}
                ]},
                {"filter_friendly_name": "vip", "expression": "vip == true", "targets": [
                    {"queue": "WQ00000000000000000000000000000007", "timeout": 10}
                ]},
                {"filter_friendly_name": "sales again", "expression": "type == 'sales'", "targets": [
                    {"queue": "WQ00000000000000000000000000000003", "timeout": 20}
                ]}
            ], "default_filter": {"queue": "WQ00000000000000000000000000000003"}}}"#,
        )
        .expect("valid");
        let workspace = sample_workspace();
        #[rustfmt::skip]
        let cases: &[Walk<'_>] = &[
            (json!({"type": "sales"}),
             &["created at 0 → filters[0]", "timed out of 0.1 at 60 → filters[2]", "timed out of 2.0 at 80 → nowhere"],
             &["Just Sales 0–30: alice bob erin", "Just Sales 30–60: alice bob erin", "Everyone 60–80: alice bob carol dave erin"],
             End::Canceled(80),
             "the same expression below is reached by the timeout, `vip` tried on the way; then no later filter: canceled"),
            (json!({"type": "sales", "vip": true}),
             &["created at 0 → filters[0]", "timed out of 0.1 at 60 → filters[1]", "timed out of 1.0 at 70 → filters[2]", "timed out of 2.0 at 90 → nowhere"],
             &["Just Sales 0–30: alice bob erin", "Just Sales 30–60: alice bob erin", "Supervisors 60–70: carol", "Everyone 70–90: alice bob carol dave erin"],
             End::Canceled(90),
             "each filter below that matches, in order"),
            (json!({"vip": true}),
             &["created at 0 → filters[1]", "timed out of 1.0 at 10 → nowhere"],
             &["Supervisors 0–10: carol"],
             End::Canceled(10),
             "no later filter matches: canceled, although there is a default_filter"),
        ];
        for (task, expected_legs, steps, end, why) in cases {
            let route = workflow.route(task, &workspace, noon());
            assert_eq!(legs(&route), *expected_legs, "{why}");
            assert_eq!(summary(&route).1, *steps, "{why}");
            assert_eq!(route.end, *end, "{why}");
        }
    }

    #[test]
    fn a_task_skipping_the_last_step_after_waiting_goes_to_the_next_filter_then_the_default() {
        // https://www.twilio.com/docs/taskrouter/worker-presence: a task that skips a filter is
        // evaluated as if it had not matched, and still qualifies for the default_filter.
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [
                {"filter_friendly_name": "support", "expression": "type == 'support'", "targets": [
                    {"queue": "WQ00000000000000000000000000000001", "timeout": 45},
                    {"queue": "WQ00000000000000000000000000000007", "skip_if": "workers.available == 0", "timeout": 30}
                ]},
                {"filter_friendly_name": "spanish", "expression": "language == 'es'", "targets": [
                    {"queue": "WQ00000000000000000000000000000006", "timeout": 60}
                ]}
            ], "default_filter": {"queue": "WQ00000000000000000000000000000005"}}}"#,
        )
        .expect("valid");
        let workspace = sample_workspace();
        #[rustfmt::skip]
        let cases: &[Walk<'_>] = &[
            (json!({"type": "support"}),
             &["created at 0 → filters[0]", "skipped 0.1 at 45 → default_filter"],
             &["Just Support 0–45: alice carol dave erin", "Supervisors skipped at 45: carol", "After Hours 45–TTL: dave"],
             End::Waits,
             "no supervisor available: skipped at 45 s, no later filter matches: default_filter"),
            (json!({"type": "support", "language": "es"}),
             &["created at 0 → filters[0]", "skipped 0.1 at 45 → filters[1]", "timed out of 1.0 at 135 → nowhere"],
             &["Just Support 0–45: alice carol dave erin", "Supervisors skipped at 45: carol", "Spanish 45–135: bob dave erin"],
             End::Canceled(135),
             "skipped into the next matching filter; the skipped step's 30 s add to its deadline"),
        ];
        for (task, expected_legs, steps, end, why) in cases {
            let route = workflow.route(task, &workspace, noon());
            assert_eq!(legs(&route), *expected_legs, "{why}");
            assert_eq!(summary(&route).1, *steps, "{why}");
            assert_eq!(route.end, *end, "{why}");
        }
    }

    #[test]
    fn a_timeout_after_a_step_skipped_at_once_still_ends_its_step() {
        // The first step is skipped at once (no sales worker is a supervisor); the second has a
        // timeout of 5 s, which ends it at 5 s rather than never.
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [{"filter_friendly_name": "f", "expression": "1 == 1", "targets": [
                {"queue": "WQ00000000000000000000000000000007", "skip_if": "workers.available == 0"},
                {"queue": "WQ00000000000000000000000000000002", "timeout": 5},
                {"queue": "WQ00000000000000000000000000000003"}
            ]}], "default_filter": {"queue": "WQ00000000000000000000000000000003"}}}"#,
        )
        .expect("valid");
        let workspace = sample_workspace();
        let route = workflow.route(&json!({}), &workspace, noon());
        assert_eq!(
            summary(&route).1,
            [
                "Supervisors skipped at 0: carol",
                "Just Sales 0–5: alice bob erin",
                "Everyone 5–TTL: alice bob carol dave erin"
            ]
        );
    }

    #[test]
    fn a_step_holding_the_task_until_its_ttl_lists_the_rest_of_its_filter_as_never_reached() {
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [{"expression": "1 == 1", "targets": [
                {"queue": "WQ00000000000000000000000000000002"},
                {"queue": "WQ00000000000000000000000000000003", "timeout": 5}
            ]}]}}"#,
        )
        .expect("valid");
        let workspace = sample_workspace();
        let route = workflow.route(&json!({}), &workspace, noon());
        assert_eq!(
            summary(&route).1,
            [
                "Just Sales 0–TTL: alice bob erin",
                "Everyone TTL–TTL: alice bob carol dave erin"
            ],
            "the second step has no entry age"
        );
        assert_eq!(route.end, End::Waits);
    }

    #[test]
    fn filters_tried_after_a_fall_through_read_the_time_of_day_at_that_instant() {
        // Created on a Wednesday at 17:25 UTC; open until 17:30. After 10 minutes in the queue
        // the task looks for the next filter at 17:35, when the after-hours filter matches.
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [
                {"filter_friendly_name": "open", "expression": "taskrouter.currentTime < 1730", "targets": [
                    {"queue": "WQ00000000000000000000000000000004", "timeout": 600}
                ]},
                {"filter_friendly_name": "closed", "expression": "taskrouter.currentTime >= 1730", "targets": [
                    {"queue": "WQ00000000000000000000000000000005"}
                ]}
            ]}}"#,
        )
        .expect("valid");
        let workspace = sample_workspace();
        let route = workflow.route(&json!({}), &workspace, at("2026-12-02T17:25:00Z"));
        assert_eq!(
            legs(&route),
            [
                "created at 0 → filters[0]",
                "timed out of 0.0 at 600 → filters[1]"
            ]
        );
        assert_eq!(
            because(&route.legs[1].tried[0].explanation),
            "`taskrouter.currentTime >= 1730` is true (taskrouter.currentTime = 1735)"
        );
        assert_eq!(route.instant(600), at("2026-12-02T17:35:00Z"));
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
        let because = because(&route.legs[0].tried[0].explanation);
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
        let explained: Vec<(usize, bool, String)> = route.legs[0]
            .tried
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
        assert_eq!(route.legs[0].steps[0].skip, Skip::Unknown);
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
                vec![
                    "Supervisors skipped at 0: carol".to_owned(),
                    "Just Sales 0–TTL: alice bob erin".to_owned()
                ]
            )
        );
        assert_eq!(
            route.legs[1].cause,
            Cause::Skipped {
                filter: 0,
                target: 0
            },
            "the second search starts from the skip"
        );
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
        let steps: Vec<&Step<'_>> = route.steps().collect();
        assert_eq!(
            steps[0].skip,
            Skip::NotNeeded,
            "alice and bob are available"
        );
        assert!(
            steps[1].is_skipped(),
            "only erin qualifies, on a break; two sales workers are available"
        );
        assert_eq!(
            because(match &steps[1].skip {
                Skip::Evaluated(explanation) => explanation,
                other => panic!("evaluated, got {other:?}"),
            }),
            "`workers.available > 0` is true (workers.available = 2)"
        );
        assert_eq!((steps[1].enters, steps[1].leaves), (Some(10), Some(10)));
        assert!(
            !steps[2].is_skipped(),
            "one sales worker is on a break (WA…3)"
        );
        assert_eq!((steps[2].enters, steps[2].leaves), (Some(10), None));
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
                {"sid": "WK00000000000000000000000000000005", "friendly_name": "f2", "attributes": {"finance": 2, "support": "high"}}
            ]"#,
        )
        .expect("valid");
        let workspace = Workspace::new(Some(workers), Vec::new());
        let cases = [
            (
                "worker.finance ASC, worker.support ASC",
                "f2 f10s5 f10s8 f10 none",
                "Twilio's example: Bob (5) before Alice (8); no support after",
            ),
            (
                "worker.finance DESC, worker.support DESC",
                "f10s8 f10s5 f10 f2 none",
                "descending, still missing last",
            ),
            (
                "worker.support DESC",
                "f10s8 f10s5 none f10 f2",
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
    fn order_by_ignores_values_that_are_not_integers() {
        // https://www.twilio.com/docs/taskrouter/order-workers: a clause is "an integer value
        // in a Worker's JSON Attributes". Ratings 1.5, 3.5, 2.5 and 2.0 are not integers: those
        // workers are ordered as if they had no rating, after the one who has, in file order.
        let workers = Worker::parse_list(
            r#"[
                {"sid": "WK00000000000000000000000000000001", "friendly_name": "r1.5", "attributes": {"rating": 1.5}},
                {"sid": "WK00000000000000000000000000000002", "friendly_name": "r3.5", "attributes": {"rating": 3.5}},
                {"sid": "WK00000000000000000000000000000003", "friendly_name": "r2.5", "attributes": {"rating": 2.5}},
                {"sid": "WK00000000000000000000000000000004", "friendly_name": "r2.0", "attributes": {"rating": 2.0}},
                {"sid": "WK00000000000000000000000000000005", "friendly_name": "r1", "attributes": {"rating": 1}}
            ]"#,
        )
        .expect("valid");
        let workspace = Workspace::new(Some(workers), Vec::new());
        for direction in ["DESC", "ASC"] {
            let workflow = Workflow::parse(&format!(
                r#"{{"task_routing": {{"filters": [{{"expression": "1 == 1", "targets": [
                    {{"queue": "WQ00000000000000000000000000000001", "order_by": "worker.rating {direction}"}}
                ]}}]}}}}"#
            ))
            .expect("valid");
            let route = workflow.route(&json!({}), &workspace, noon());
            assert_eq!(
                summary(&route).1,
                ["WQ00000000000000000000000000000001 0–TTL: r1 r1.5 r3.5 r2.5 r2.0"],
                "{direction}: the integer first, the fractions unsorted"
            );
        }
    }

    #[test]
    fn target_expressions_read_the_workers_own_properties() {
        // https://www.twilio.com/docs/taskrouter/expression-syntax,
        // https://www.twilio.com/docs/taskrouter/activity-based-routing
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [{"expression": "1 == 1", "targets": [
                {"queue": "WQ00000000000000000000000000000003", "expression": "worker.activity_name IN ['Offline', 'Break'] OR worker.sid == task.pinned OR worker.activity_sid == task.activity OR worker.friendly_name == task.agent"}
            ]}]}}"#,
        )
        .expect("valid");
        let workspace = sample_workspace();
        let route = workflow.route(&json!({"agent": "dave"}), &workspace, noon());
        assert_eq!(
            summary(&route).1,
            ["Everyone 0–TTL: carol dave erin"],
            "dave by his friendly name; carol and erin by activity"
        );
        // The property wins over an attribute of the same name, which stands in only when the
        // property is not given.
        let workers = Worker::parse_list(
            r#"[
                {"sid": "WK00000000000000000000000000000001", "friendly_name": "ann", "attributes": {"friendly_name": "someone else"}},
                {"sid": "WK00000000000000000000000000000002", "attributes": {"friendly_name": "ann"}}
            ]"#,
        )
        .expect("valid");
        let named = Workspace::new(Some(workers), Vec::new());
        let by_name = Workflow::parse(
            r#"{"task_routing": {"filters": [{"expression": "1 == 1", "targets": [
                {"queue": "WQ00000000000000000000000000000003", "expression": "worker.friendly_name == task.agent"}
            ]}]}}"#,
        )
        .expect("valid");
        let route = by_name.route(&json!({"agent": "ann"}), &named, noon());
        let qualifying: Vec<&str> = route.legs[0].steps[0]
            .workers
            .as_ref()
            .expect("workers known")
            .qualifying
            .iter()
            .map(|worker| worker.sid().as_str())
            .collect();
        assert_eq!(
            qualifying,
            [
                "WK00000000000000000000000000000001",
                "WK00000000000000000000000000000002"
            ]
        );
        let route = by_name.route(&json!({"agent": "someone else"}), &named, noon());
        assert_eq!(
            route.legs[0].steps[0]
                .workers
                .as_ref()
                .expect("workers known")
                .qualifying,
            Vec::<&Worker>::new(),
            "the attribute does not shadow the property"
        );
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
        let reasons: Vec<(String, String)> = route.legs[0].steps[0]
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
