//! Warnings: what a Workflow configuration may legally say but almost certainly does not mean.
//!
//! | warning | when |
//! |---|---|
//! | a filter is never reached | an earlier filter matches every task, or has the very same expression, and has a target without `skip_if` (a task skipping every step of a filter falls through to the next ones, so such a filter can let tasks by) |
//! | a filter never matches | its expression is false whatever the task |
//! | a duplicate `filter_friendly_name` | two filters share a name, so the Console and `workflow.target-matched` events cannot tell them apart |
//! | a target waits forever before others | a target other than the last has neither `timeout` nor `skip_if`: tasks wait there until their TTL and the later targets are never reached |
//! | no `default_filter` | a task matching no filter has no queue to wait in |
//! | a prefixed reference in a filter | `task.type` or `worker.level` in a filter's expression: filters read task attributes by bare keys, so these read attributes named `task` or `worker` |
//! | an impossible day of the week | `taskrouter.dayOfWeek` compared with anything but `'Mon'` … `'Sun'` (case matters: Twilio's own time-of-day example writes `'THU'`) |
//!
//! "Matches every task" is what [`Expression::constant`] proves: comparisons between constants
//! (`1 == 1`, `true == true`, `'a' IN ['a']`), `x == null OR x != null`, and `AND`/`OR` of those.
//! A tautology it cannot prove (`level > 0 OR level <= 0`, which a missing `level` fails anyway)
//! gives no warning.

use std::collections::HashMap;
use std::fmt;

use super::{Target, Workflow, filter_place};
use crate::expression::{Expression, Literal, Reference, Segment, Side};

/// TaskRouter's values of `taskrouter.dayOfWeek` (<https://www.twilio.com/docs/taskrouter/time-of-day-routing>).
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Something legal but almost certainly wrong. `Display` names the place and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// An earlier filter matches every task.
    AlwaysMatchedBefore {
        /// The unreachable filter.
        at: String,
        /// The earlier filter.
        earlier: String,
        /// The earlier filter's expression.
        expression: String,
    },
    /// An earlier filter has the same expression.
    SameExpressionBefore {
        /// The unreachable filter.
        at: String,
        /// The earlier filter.
        earlier: String,
    },
    /// The filter's expression is false for every task.
    NeverMatches {
        /// The filter.
        at: String,
        /// Its expression.
        expression: String,
    },
    /// Two filters share a name.
    DuplicateName {
        /// The later filter.
        at: String,
        /// The name.
        name: String,
        /// The earlier filter's index.
        first: usize,
    },
    /// A target other than the last can hold a task until its TTL.
    NoTimeout {
        /// The filter.
        at: String,
        /// The target without timeout.
        target: usize,
        /// The filter's last target.
        last: usize,
    },
    /// There is no `default_filter`.
    NoDefaultFilter,
    /// A filter expression reads `task.…` or `worker.…`.
    PrefixedFilterReference {
        /// The filter.
        at: String,
        /// The reference.
        reference: String,
    },
    /// `taskrouter.dayOfWeek` compared with a value it never takes.
    DayOfWeek {
        /// The filter or target.
        at: String,
        /// The key holding the expression.
        field: &'static str,
        /// The value, in expression syntax.
        value: String,
        /// The day it probably means.
        suggestion: Option<&'static str>,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::AlwaysMatchedBefore {
                at,
                earlier,
                expression,
            } => write!(
                f,
                "{at}: never reached: {earlier} matches every task (`{expression}`) and keeps it; move this filter above it"
            ),
            Warning::SameExpressionBefore { at, earlier } => write!(
                f,
                "{at}: never reached: {earlier} has the same expression and keeps every task it matches; merge the two filters or change one expression"
            ),
            Warning::NeverMatches { at, expression } => write!(
                f,
                "{at}: `{expression}` is false for every task, so the filter never matches; fix the expression or remove the filter"
            ),
            Warning::DuplicateName { at, name, first } => write!(
                f,
                "{at}: filters[{first}] has the same name `{name}`; give each filter its own name so the Console and routing events tell them apart"
            ),
            Warning::NoTimeout { at, target, last } => {
                let later = if target + 1 == *last {
                    format!("targets[{last}] is")
                } else {
                    format!("targets[{}] to targets[{last}] are", target + 1)
                };
                write!(
                    f,
                    "{at}, targets[{target}]: no `timeout` and no `skip_if`: a task waits there until its TTL, so {later} never reached; give it a timeout"
                )
            }
            Warning::NoDefaultFilter => f.write_str(
                "task_routing: no `default_filter`: a task that matches no filter has no queue to wait in; add \"default_filter\": {\"queue\": \"WQ…\"}",
            ),
            Warning::PrefixedFilterReference { at, reference } => {
                let (root, rest) = reference.split_once('.').unwrap_or((reference, ""));
                if root == "worker" {
                    write!(
                        f,
                        "{at}: `expression`: `{reference}` reads a task attribute named `worker`: a filter reads only the task's attributes; worker conditions belong in a target's `expression`"
                    )
                } else {
                    write!(
                        f,
                        "{at}: `expression`: `{reference}` reads a task attribute named `task`: filters name task attributes without a prefix; write `{rest}`"
                    )
                }
            }
            Warning::DayOfWeek {
                at,
                field,
                value,
                suggestion,
            } => {
                write!(
                    f,
                    "{at}: `{field}`: `taskrouter.dayOfWeek` is never {value}: it is one of 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun' (case matters)"
                )?;
                match suggestion {
                    Some(day) => write!(f, "; did you mean '{day}'?"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl Workflow {
    /// What is legal but almost certainly wrong, in document order (see the module
    /// documentation).
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (index, filter) in self.filters.iter().enumerate() {
            let at = filter_place(index, filter.name());
            let blocking = self.filters[..index]
                .iter()
                .enumerate()
                .filter(|(_, earlier)| !earlier.can_be_skipped())
                .find_map(|(position, earlier)| {
                    let place = filter_place(position, earlier.name());
                    if earlier.expression.constant() == Some(true) {
                        Some(Warning::AlwaysMatchedBefore {
                            at: at.clone(),
                            earlier: place,
                            expression: earlier.expression.source().to_owned(),
                        })
                    } else if earlier.expression.same_condition(&filter.expression) {
                        Some(Warning::SameExpressionBefore {
                            at: at.clone(),
                            earlier: place,
                        })
                    } else {
                        None
                    }
                });
            warnings.extend(blocking);
            if filter.expression.constant() == Some(false) {
                warnings.push(Warning::NeverMatches {
                    at: at.clone(),
                    expression: filter.expression.source().to_owned(),
                });
            }
            if let Some(name) = filter.name() {
                match names.get(name) {
                    Some(&first) => warnings.push(Warning::DuplicateName {
                        at: at.clone(),
                        name: name.to_owned(),
                        first,
                    }),
                    None => {
                        names.insert(name, index);
                    }
                }
            }
            for reference in filter.expression.references() {
                if is_prefixed(reference) {
                    warnings.push(Warning::PrefixedFilterReference {
                        at: at.clone(),
                        reference: reference.as_str().to_owned(),
                    });
                }
            }
            day_of_week(&filter.expression, &at, "expression", &mut warnings);
            let last = filter.targets.len() - 1;
            if let Some(target) = filter.targets[..last]
                .iter()
                .position(|target| target.timeout.is_none() && target.skip_if.is_none())
            {
                warnings.push(Warning::NoTimeout {
                    at: at.clone(),
                    target,
                    last,
                });
            }
            for (position, target) in filter.targets.iter().enumerate() {
                target_day_of_week(target, &format!("{at}, targets[{position}]"), &mut warnings);
            }
        }
        match &self.default_filter {
            None => warnings.push(Warning::NoDefaultFilter),
            Some(target) => target_day_of_week(target, "default_filter", &mut warnings),
        }
        warnings
    }
}

/// `task.x` or `worker.x` (a first segment and at least one more).
fn is_prefixed(reference: &Reference) -> bool {
    matches!(
        reference.segments(),
        [Segment::Key(root), _, ..] if root == "task" || root == "worker"
    )
}

fn target_day_of_week(target: &Target, at: &str, warnings: &mut Vec<Warning>) {
    if let Some(expression) = &target.expression {
        day_of_week(expression, at, "expression", warnings);
    }
}

fn day_of_week(expression: &Expression, at: &str, field: &'static str, out: &mut Vec<Warning>) {
    let is_day = |side: &Side<'_>| matches!(side, Side::Reference(reference) if reference.as_str() == "taskrouter.dayOfWeek");
    for comparison in expression.comparisons() {
        let other = if is_day(&comparison.left) {
            comparison.right
        } else if is_day(&comparison.right) {
            comparison.left
        } else {
            continue;
        };
        let values: Vec<&Literal> = match other {
            Side::Literal(literal) => vec![literal],
            Side::Array(items) => items.iter().collect(),
            Side::Reference(_) => continue,
        };
        for value in values {
            let suggestion = match value {
                Literal::String(day) if DAYS.contains(&day.as_str()) => continue,
                Literal::String(day) => DAYS
                    .iter()
                    .copied()
                    .find(|known| known.eq_ignore_ascii_case(day)),
                _ => None,
            };
            out.push(Warning::DayOfWeek {
                at: at.to_owned(),
                field,
                value: value.to_string(),
                suggestion,
            });
        }
    }
}
