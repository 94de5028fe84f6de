//! A task's walk through a Workflow, one move at a time: the engine under [`Workflow::route`]
//! and under anything that advances tasks as time passes.
//!
//! A task is either looking for a filter or waiting in a routing step. [`Workflow::arrive`]
//! takes it from where it is headed ([`Entry`]) to where it waits ([`Rest`]), making every move
//! that happens at once on the way (filters tried, steps skipped by `skip_if`), each returned as
//! a [`Move`]; [`Workflow::timed_out`] says where a waiting task is headed when its step's
//! timeout passes. Both are pure: the caller passes the task's attributes, the workspace's
//! workers and queues as they are at that moment, the instant (what `taskrouter.*` reads) and
//! how far the task has walked ([`Progress`]).
//!
//! As TaskRouter documents it:
//!
//! 1. Filters are tried top to bottom; the first whose expression matches takes the task, which
//!    enters its first target (<https://www.twilio.com/docs/taskrouter/workflow-configuration>:
//!    "like a case statement").
//! 2. Targets are walked in order. A step's timeout counts against the task's age, cumulatively:
//!    a step ends when the task is as old as the sum of the timeouts of the steps it has walked
//!    (<https://www.twilio.com/docs/taskrouter/task-evaluation>), a step skipped at once
//!    included; a skipped step without `timeout` adds nothing. A step without `timeout` holds the
//!    task until its TTL. `skip_if` is evaluated on entering a step ([`step`]).
//! 3. When the **last** step of a filter times out, the task goes on to the next filter below
//!    that matches; "If a timeout is applied on a target and there are no subsequent targets or
//!    filters, or the Task doesn't match a subsequent filter, then the Task will fall out of the
//!    Workflow and be canceled", and "the `default_filter` does not count as a subsequent filter
//!    for the purposes of a timeout" (the workflow-configuration page). TaskRouter fires
//!    `workflow.timeout`.
//! 4. When the last step of a filter is **skipped**, the task likewise goes on to the next
//!    matching filter, and when none matches it still qualifies for `default_filter`
//!    (<https://www.twilio.com/docs/taskrouter/worker-presence>: "If a Task skips a filter, it's
//!    evaluated as if the Task didn't match the filter expression", and such tasks "still
//!    qualify for the `default_filter`"), whether or not it waited in an earlier step.
//! 5. A task no filter takes at creation goes to `default_filter`, which holds it until its TTL;
//!    without one it has no queue.
//!
//! Filters below the current one are evaluated with the attributes and the instant the caller
//! passes, so a task that times out of a filter at 17:35 meets the time-of-day filters as they
//! read at 17:35.

use serde_json::Value;

use super::step::{self, FilterScope, Leaving, Place, Step};
use super::{Filter, Target, Worker, Workflow, Workspace};
use crate::expression::Explanation;
use crate::sid::TaskQueueSid;
use crate::time_of_day::TimeOfDay;

/// Where a task is headed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The filters from `from` on, top to bottom, for the first that matches.
    Filters {
        /// The first filter to try (0 for a new task).
        from: usize,
        /// Why the task is looking: it decides whether `default_filter` takes it when no filter
        /// matches.
        cause: Cause,
    },
    /// A filter's target.
    Target {
        /// The filter's index.
        filter: usize,
        /// The target's index in the filter.
        target: usize,
    },
}

/// Why a task looks for a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// It was just created: when no filter matches, `default_filter`.
    Created,
    /// `targets[target]`, the last step of `filters[filter]`, timed out: when no later filter
    /// matches, the task is canceled (`default_filter` does not count after a timeout).
    TimedOut {
        /// The filter it leaves.
        filter: usize,
        /// Its last target.
        target: usize,
    },
    /// `targets[target]`, the last step of `filters[filter]`, was skipped (`skip_if`): when no
    /// later filter matches, `default_filter`.
    Skipped {
        /// The filter it leaves.
        filter: usize,
        /// Its last target.
        target: usize,
    },
}

impl Cause {
    /// Whether `default_filter` takes a task no filter matches.
    pub fn default_counts(self) -> bool {
        !matches!(self, Cause::TimedOut { .. })
    }
}

/// How far a task has walked: its age and the summed timeouts of the steps it has been through,
/// both in seconds. They differ only when a step was left early (skipped at once, or left
/// before its timeout by the caller's own rules), since a timeout passes when the age reaches
/// the sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// The task's age now.
    pub age: u64,
    /// The summed timeouts of the steps walked so far.
    pub timeouts: u64,
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
}

/// Something that happens at once on the way to where a task waits, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Move<'w> {
    /// The task looks for a filter, from `from` on.
    Looks {
        /// The first filter tried.
        from: usize,
        /// Why.
        cause: Cause,
    },
    /// A filter's expression was evaluated.
    Tried(Tried<'w>),
    /// A step was entered; when [skipped](Step::is_skipped), it was left at once.
    Entered(Step<'w>),
}

/// Where a walk stops for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rest {
    /// The task waits in the step at `place` (the last step entered) until its age is `until`
    /// (`None`: until its TTL).
    Waits {
        /// The step.
        place: Place,
        /// The task's age when the step times out.
        until: Option<u64>,
    },
    /// The last step of a filter timed out and no later filter matches: TaskRouter cancels the
    /// task (`workflow.timeout`).
    Canceled,
    /// No filter takes the task and there is no `default_filter`: it has no queue.
    NoQueue,
}

/// What [`Workflow::arrive`] did: the moves made at once, and where the task is now.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival<'w> {
    /// Every move, in order.
    pub moves: Vec<Move<'w>>,
    /// Where the walk stops.
    pub rest: Rest,
}

impl Workflow {
    /// Walks `task` from `entry`, at `progress`, against the workspace and the instant as they
    /// are now, through every move that happens at once, to where it waits or leaves the
    /// Workflow (see the module documentation).
    pub fn arrive<'w>(
        &'w self,
        entry: Entry,
        progress: Progress,
        task: &Value,
        workspace: &'w Workspace,
        now: TimeOfDay,
    ) -> Arrival<'w> {
        let mut moves = Vec::new();
        let mut entry = entry;
        let mut timeouts = progress.timeouts;
        let age = progress.age;
        // Each turn moves forward (a later target, or filters below the current one), so the
        // loop ends within the number of targets and filters.
        loop {
            let (filter, position) = match entry {
                Entry::Filters { from, cause } => {
                    moves.push(Move::Looks { from, cause });
                    let Some(filter) = self.first_match(from, task, now, &mut moves) else {
                        let rest = if !cause.default_counts() {
                            Rest::Canceled
                        } else if let Some(mut step) = self.default_step(task, workspace, now) {
                            step.enters = Some(age);
                            moves.push(Move::Entered(step));
                            Rest::Waits {
                                place: Place::Default,
                                until: None,
                            }
                        } else {
                            Rest::NoQueue
                        };
                        return Arrival { moves, rest };
                    };
                    (filter, 0)
                }
                Entry::Target { filter, target } => (filter, target),
            };
            let place = Place::Target {
                filter,
                target: position,
            };
            let Some(mut step) = self.target_step(filter, position, task, workspace, now) else {
                // Only a document the parser refused names no such target or queue.
                return Arrival {
                    moves,
                    rest: Rest::NoQueue,
                };
            };
            step.enters = Some(age);
            let timeout = step.target.timeout;
            if step.is_skipped() {
                timeouts = timeouts.saturating_add(timeout.unwrap_or(0));
                step.leaves = Some(age);
                moves.push(Move::Entered(step));
                entry = self.next(filter, position, Leaving::Skipped);
                continue;
            }
            // A deadline already passed (a caller that moved the task on late) ends the step
            // at once rather than in the past.
            let until = timeout.map(|timeout| timeouts.saturating_add(timeout).max(age));
            step.leaves = until;
            moves.push(Move::Entered(step));
            return Arrival {
                moves,
                rest: Rest::Waits { place, until },
            };
        }
    }

    /// Where a task waiting at `place` is headed when the step's timeout passes: the next
    /// target, or the filters below (see the module documentation). `None` for
    /// `default_filter`, which has no timeout.
    pub fn timed_out(&self, place: Place) -> Option<Entry> {
        match place {
            Place::Default => None,
            Place::Target { filter, target } => Some(self.next(filter, target, Leaving::TimedOut)),
        }
    }

    /// The step after `filters[filter]`, `targets[target]`, left for `why`.
    fn next(&self, filter: usize, target: usize, why: Leaving) -> Entry {
        let count = self
            .filters
            .get(filter)
            .map_or(0, |filter| filter.targets.len());
        if target + 1 < count {
            return Entry::Target {
                filter,
                target: target + 1,
            };
        }
        let cause = match why {
            Leaving::TimedOut => Cause::TimedOut { filter, target },
            Leaving::Skipped => Cause::Skipped { filter, target },
        };
        Entry::Filters {
            from: filter + 1,
            cause,
        }
    }

    /// The first filter from `from` on that matches, each one tried recorded.
    fn first_match<'w>(
        &'w self,
        from: usize,
        task: &Value,
        now: TimeOfDay,
        moves: &mut Vec<Move<'w>>,
    ) -> Option<usize> {
        for (index, filter) in self.filters.iter().enumerate().skip(from) {
            let explanation = filter.expression.explain(&FilterScope { task, now });
            let holds = explanation.holds;
            moves.push(Move::Tried(Tried {
                index,
                filter,
                explanation,
            }));
            if holds {
                return Some(index);
            }
        }
        None
    }

    /// Whether `worker` qualifies for the step at `place` for `task` (its attributes) at `now`:
    /// the one-worker question asked when a worker becomes free while tasks wait, answered as
    /// [`Step::workers`] answers it for all of them. Availability is not looked at; `false`
    /// for a place the configuration does not have.
    pub fn admits(
        &self,
        place: Place,
        task: &Value,
        worker: &Worker,
        workspace: &Workspace,
        now: TimeOfDay,
    ) -> bool {
        let Some((target, queue)) = self.target_at(place) else {
            return false;
        };
        step::admits(target, workspace.queue(queue), worker, task, now)
    }

    /// The target at `place` and the queue it routes to; `None` for a place the configuration
    /// does not have.
    pub fn target_at(&self, place: Place) -> Option<(&Target, &TaskQueueSid)> {
        match place {
            Place::Target { filter, target } => {
                let filter = self.filters.get(filter)?;
                Some((filter.targets.get(target)?, filter.queue_of(target)?))
            }
            Place::Default => {
                let target = self.default_filter.as_ref()?;
                Some((target, target.queue.as_ref()?))
            }
        }
    }

    /// `filters[filter]`, `targets[target]` as a step, evaluated now; `None` when there is no
    /// such target.
    pub(crate) fn target_step<'w>(
        &'w self,
        filter: usize,
        target: usize,
        task: &Value,
        workspace: &'w Workspace,
        now: TimeOfDay,
    ) -> Option<Step<'w>> {
        let place = Place::Target { filter, target };
        let filter = self.filters.get(filter)?;
        let queue = filter.queue_of(target)?;
        let target: &Target = filter.targets.get(target)?;
        Some(step::evaluate(place, target, queue, task, workspace, now))
    }

    /// `default_filter`'s step, evaluated now, when there is one.
    fn default_step<'w>(
        &'w self,
        task: &Value,
        workspace: &'w Workspace,
        now: TimeOfDay,
    ) -> Option<Step<'w>> {
        let target = self.default_filter.as_ref()?;
        let queue = target.queue.as_ref()?;
        Some(step::evaluate(
            Place::Default,
            target,
            queue,
            task,
            workspace,
            now,
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::workflow::{Queue, Worker};

    fn noon() -> TimeOfDay {
        TimeOfDay::utc("2026-12-02T12:00:00Z".parse().expect("an instant"))
    }

    fn workspace() -> Workspace {
        let workers = Worker::parse_list(
            r#"[
                {"sid": "WK00000000000000000000000000000001", "friendly_name": "ann", "activity_name": "Offline", "attributes": {"team": "sales"}},
                {"sid": "WK00000000000000000000000000000002", "friendly_name": "ben", "activity_name": "Available", "attributes": {"team": "support"}}
            ]"#,
        )
        .expect("valid");
        let queues = Queue::parse_list(
            r#"[
                {"sid": "WQ00000000000000000000000000000001", "target_workers": "team == 'sales'"},
                {"sid": "WQ00000000000000000000000000000002", "target_workers": "team == 'support'"}
            ]"#,
        )
        .expect("valid");
        Workspace::new(Some(workers), queues)
    }

    /// Sales first (30 s, then 30 s more in the same queue), then anyone in support, with a
    /// default queue.
    fn workflow() -> Workflow {
        Workflow::parse(
            r#"{"task_routing": {"filters": [
                {"filter_friendly_name": "sales", "expression": "type == 'sales'", "targets": [
                    {"queue": "WQ00000000000000000000000000000001", "timeout": 30},
                    {"timeout": 30}
                ]},
                {"filter_friendly_name": "vip", "expression": "vip == true", "targets": [
                    {"queue": "WQ00000000000000000000000000000002", "timeout": 60}
                ]}
            ], "default_filter": {"queue": "WQ00000000000000000000000000000002"}}}"#,
        )
        .expect("valid")
    }

    /// A step entered: where, and the ages it enters and leaves at.
    type Entered = (Place, Option<u64>, Option<u64>);

    /// The places entered and where the walk stops.
    fn summary(arrival: &Arrival<'_>) -> (Vec<Entered>, Rest) {
        let entered = arrival
            .moves
            .iter()
            .filter_map(|event| match event {
                Move::Entered(step) => Some((step.place, step.enters, step.leaves)),
                _ => None,
            })
            .collect();
        (entered, arrival.rest)
    }

    #[test]
    fn a_new_task_waits_in_its_first_step_until_the_timeout() {
        let workflow = workflow();
        let workspace = workspace();
        let arrival = workflow.arrive(
            Entry::Filters {
                from: 0,
                cause: Cause::Created,
            },
            Progress::default(),
            &json!({"type": "sales"}),
            &workspace,
            noon(),
        );
        let first = Place::Target {
            filter: 0,
            target: 0,
        };
        assert_eq!(
            summary(&arrival),
            (
                vec![(first, Some(0), Some(30))],
                Rest::Waits {
                    place: first,
                    until: Some(30)
                }
            )
        );
        assert_eq!(
            workflow.timed_out(first),
            Some(Entry::Target {
                filter: 0,
                target: 1
            }),
            "then the next target"
        );
    }

    #[test]
    fn the_last_step_timing_out_leads_to_the_next_matching_filter_or_cancels_the_task() {
        let workflow = workflow();
        let workspace = workspace();
        let last = Place::Target {
            filter: 0,
            target: 1,
        };
        let entry = workflow.timed_out(last).expect("a target times out");
        assert_eq!(
            entry,
            Entry::Filters {
                from: 1,
                cause: Cause::TimedOut {
                    filter: 0,
                    target: 1
                }
            }
        );
        let at_60 = Progress {
            age: 60,
            timeouts: 60,
        };
        let vip = Place::Target {
            filter: 1,
            target: 0,
        };
        #[rustfmt::skip]
        let cases = [
            (json!({"type": "sales", "vip": true}), (vec![(vip, Some(60), Some(120))], Rest::Waits { place: vip, until: Some(120) }),
             "a VIP sales task: on to `vip`, whose 60 s add to the 60 s walked"),
            (json!({"type": "sales"}), (vec![], Rest::Canceled),
             "no later filter matches: canceled, default_filter does not count after a timeout"),
        ];
        for (task, expected, why) in cases {
            let arrival = workflow.arrive(entry, at_60, &task, &workspace, noon());
            assert_eq!(summary(&arrival), expected, "{why}");
        }
    }

    #[test]
    fn a_skipped_last_step_leads_to_the_next_matching_filter_then_to_the_default() {
        // ann, the only sales worker, is offline: the second sales step is skipped after the
        // task waited 30 s in the first.
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [
                {"expression": "type == 'sales'", "targets": [
                    {"queue": "WQ00000000000000000000000000000001", "timeout": 30},
                    {"skip_if": "workers.available == 0"}
                ]},
                {"expression": "vip == true", "targets": [{"queue": "WQ00000000000000000000000000000002", "timeout": 5}]}
            ], "default_filter": {"queue": "WQ00000000000000000000000000000002"}}}"#,
        )
        .expect("valid");
        let workspace = workspace();
        let skipped = Place::Target {
            filter: 0,
            target: 1,
        };
        let entry = workflow
            .timed_out(Place::Target {
                filter: 0,
                target: 0,
            })
            .expect("a target");
        let at_30 = Progress {
            age: 30,
            timeouts: 30,
        };
        let vip = Place::Target {
            filter: 1,
            target: 0,
        };
        #[rustfmt::skip]
        let cases = [
            (json!({"type": "sales", "vip": true}),
             (vec![(skipped, Some(30), Some(30)), (vip, Some(30), Some(35))], Rest::Waits { place: vip, until: Some(35) }),
             "skipped at 30 s, then `vip` for its 5 s"),
            (json!({"type": "sales"}),
             (vec![(skipped, Some(30), Some(30)), (Place::Default, Some(30), None)], Rest::Waits { place: Place::Default, until: None }),
             "skipped, no later filter matches: default_filter, until the TTL"),
        ];
        for (task, expected, why) in cases {
            let arrival = workflow.arrive(entry, at_30, &task, &workspace, noon());
            assert_eq!(summary(&arrival), expected, "{why}");
        }
    }

    #[test]
    fn a_timeout_after_a_step_skipped_at_once_counts_from_the_summed_timeouts() {
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [{"expression": "1 == 1", "targets": [
                {"queue": "WQ00000000000000000000000000000001", "skip_if": "workers.available == 0"},
                {"queue": "WQ00000000000000000000000000000001", "skip_if": "workers.available == 0", "timeout": 20},
                {"queue": "WQ00000000000000000000000000000002", "timeout": 5}
            ]}]}}"#,
        )
        .expect("valid");
        let workspace = workspace();
        let arrival = workflow.arrive(
            Entry::Filters {
                from: 0,
                cause: Cause::Created,
            },
            Progress::default(),
            &json!({}),
            &workspace,
            noon(),
        );
        let at = |target| Place::Target { filter: 0, target };
        assert_eq!(
            summary(&arrival),
            (
                vec![
                    (at(0), Some(0), Some(0)),
                    (at(1), Some(0), Some(0)),
                    (at(2), Some(0), Some(25))
                ],
                Rest::Waits {
                    place: at(2),
                    until: Some(25)
                }
            ),
            "a skipped step without timeout adds nothing; one with 20 s adds its 20 s"
        );
    }

    #[test]
    fn admits_answers_for_one_worker_what_the_step_answers_for_all() {
        let workflow = workflow();
        let workspace = workspace();
        let workers = workspace.workers().expect("known");
        #[rustfmt::skip]
        let cases = [
            (Place::Target { filter: 0, target: 0 }, json!({"type": "sales"}), "a sales step"),
            (Place::Target { filter: 0, target: 1 }, json!({"type": "sales"}), "an inherited queue"),
            (Place::Target { filter: 1, target: 0 }, json!({"vip": true}), "a support step"),
            (Place::Default, json!({}), "default_filter"),
        ];
        for (place, task, why) in cases {
            let step = match place {
                Place::Target { filter, target } => workflow
                    .target_step(filter, target, &task, &workspace, noon())
                    .expect(why),
                Place::Default => workflow.default_step(&task, &workspace, noon()).expect(why),
            };
            let qualifying = &step.workers.as_ref().expect("workers known").qualifying;
            for worker in workers {
                assert_eq!(
                    workflow.admits(place, &task, worker, &workspace, noon()),
                    qualifying.contains(&worker),
                    "{why}: {}",
                    worker.sid()
                );
            }
        }
        assert!(
            !workflow.admits(
                Place::Target {
                    filter: 5,
                    target: 0
                },
                &json!({}),
                &workers[0],
                &workspace,
                noon()
            ),
            "a place the configuration does not have admits nobody"
        );
    }

    #[test]
    fn a_deadline_already_passed_ends_the_step_at_once() {
        // A caller moving a task on before its timeout (after a reservation timed out, say)
        // passes the summed timeouts so far; a later entry is never given a past deadline.
        let workflow = workflow();
        let workspace = workspace();
        let arrival = workflow.arrive(
            Entry::Target {
                filter: 0,
                target: 1,
            },
            Progress {
                age: 75,
                timeouts: 30,
            },
            &json!({"type": "sales"}),
            &workspace,
            noon(),
        );
        assert_eq!(
            arrival.rest,
            Rest::Waits {
                place: Place::Target {
                    filter: 0,
                    target: 1
                },
                until: Some(75)
            }
        );
    }

    #[test]
    fn the_moves_say_why_the_task_looked_and_which_filters_it_tried() {
        let workflow = workflow();
        let workspace = workspace();
        let arrival = workflow.arrive(
            Entry::Filters {
                from: 0,
                cause: Cause::Created,
            },
            Progress::default(),
            &json!({"type": "billing"}),
            &workspace,
            noon(),
        );
        let moves: Vec<String> = arrival
            .moves
            .iter()
            .map(|event| match event {
                Move::Looks { from, cause } => format!("looks from {from}: {cause:?}"),
                Move::Tried(tried) => format!(
                    "tried {}: {}",
                    tried.index,
                    step::because(&tried.explanation)
                ),
                Move::Entered(step) => format!("entered {:?}", step.place),
            })
            .collect();
        assert_eq!(
            moves,
            [
                "looks from 0: Created",
                r#"tried 0: `type == 'sales'` is false (type = "billing")"#,
                "tried 1: `vip == true` is false (vip = null)",
                "entered Default",
            ]
        );
        assert_eq!(
            arrival.rest,
            Rest::Waits {
                place: Place::Default,
                until: None
            }
        );
    }
}
