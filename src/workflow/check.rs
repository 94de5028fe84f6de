//! Warnings: what a Workflow configuration may legally say but almost certainly does not mean.
//!
//! | warning | when |
//! |---|---|
//! | a filter is never reached | an earlier filter matches every task, or has the very same expression, and keeps every task it takes: one of its targets has neither `timeout` nor `skip_if`, so it holds a task until its TTL. A filter whose every target has a `timeout` or a `skip_if` lets tasks go on to the next matching filters when its last step times out or is skipped ([`walk`](super::walk)), so the filters below it are reached |
//! | a filter never matches | its expression is false whatever the task |
//! | a duplicate `filter_friendly_name` | two filters share a name, so the Console and `workflow.target-matched` events cannot tell them apart |
//! | a target waits forever before others | a target other than the last has neither `timeout` nor `skip_if`: tasks wait there until their TTL and the later targets are never reached |
//! | no `default_filter` | a task matching no filter has no queue to wait in |
//! | `skip_if` on `default_filter` | no step follows the default filter, so there is nothing to skip to: the expression is never evaluated |
//! | a prefixed reference in a filter | `task.type` or `worker.level` in a filter's expression: filters read task attributes by bare keys, so these read attributes named `task` or `worker` |
//! | a time-of-day test that never holds | a comparison of a `taskrouter.*` attribute with constants that holds at no minute of the week: `taskrouter.currentHour > 1700` (an hour is 0–23), `taskrouter.currentTime == 1275` (no minute 75), `taskrouter.dayOfWeek == null` (TaskRouter always fills it in) |
//! | a time-of-day expression that never holds | an expression reading only `taskrouter.*` that is false at every minute of the week, such as a range across midnight written with `AND` (`taskrouter.currentTime > 2200 AND taskrouter.currentTime < 600`) |
//!
//! What the expression parser already refuses is not repeated here: unknown `taskrouter.*`
//! names (with a suggestion), literals that are no day compared with `taskrouter.dayOfWeek`,
//! words compared with the numeric attributes. Day names are read in any case there, so Twilio's
//! own `'THU'` means Thursday and needs no warning.
//!
//! "Matches every task" is what [`Expression::constant`] proves: comparisons between constants
//! (`1 == 1`, `true == true`, `'a' IN ['a']`), `x == null OR x != null`, and `AND`/`OR` of those.
//! A tautology it cannot prove (`level > 0 OR level <= 0`, which a missing `level` fails anyway)
//! gives no warning.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use super::{Target, Workflow, filter_place};
use crate::expression::{Expression, JsonScope, Reference, Segment, Side};
use crate::time_of_day::{self, Attribute, TimeOfDay};

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
    /// `default_filter` has a `skip_if`.
    DefaultSkipIf,
    /// A filter expression reads `task.…` or `worker.…`.
    PrefixedFilterReference {
        /// The filter.
        at: String,
        /// The reference.
        reference: String,
    },
    /// A comparison of a time-of-day attribute with constants that holds at no minute of the
    /// week.
    TimeNeverHolds {
        /// The filter or target.
        at: String,
        /// The key holding the expression.
        field: &'static str,
        /// The comparison as written.
        comparison: String,
        /// The attribute it reads.
        attribute: Attribute,
    },
    /// An expression reading only the time of day that is false at every minute of the week.
    NeverAtAnyTime {
        /// The filter or target.
        at: String,
        /// The key holding the expression.
        field: &'static str,
        /// The expression as written.
        expression: String,
    },
}

impl Warning {
    /// Where it is, in the document's words: ``filters[1] (`open`)``, `task_routing`.
    pub fn place(&self) -> String {
        match self {
            Warning::AlwaysMatchedBefore { at, .. }
            | Warning::SameExpressionBefore { at, .. }
            | Warning::NeverMatches { at, .. }
            | Warning::DuplicateName { at, .. }
            | Warning::PrefixedFilterReference { at, .. }
            | Warning::TimeNeverHolds { at, .. }
            | Warning::NeverAtAnyTime { at, .. } => at.clone(),
            Warning::NoTimeout { at, target, .. } => format!("{at}, targets[{target}]"),
            Warning::NoDefaultFilter => "task_routing".to_owned(),
            Warning::DefaultSkipIf => "default_filter".to_owned(),
        }
    }

    /// What is wrong and what to do, without the place.
    pub fn message(&self) -> String {
        match self {
            Warning::AlwaysMatchedBefore {
                earlier,
                expression,
                ..
            } => format!(
                "never reached: {earlier} matches every task (`{expression}`) and keeps it; move this filter above it"
            ),
            Warning::SameExpressionBefore { earlier, .. } => format!(
                "never reached: {earlier} has the same expression and keeps every task it matches; merge the two filters or change one expression"
            ),
            Warning::NeverMatches { expression, .. } => format!(
                "`{expression}` is false for every task, so the filter never matches; fix the expression or remove the filter"
            ),
            Warning::DuplicateName { name, first, .. } => format!(
                "filters[{first}] has the same name `{name}`; give each filter its own name so the Console and routing events tell them apart"
            ),
            Warning::NoTimeout { target, last, .. } => {
                let later = if target + 1 == *last {
                    format!("targets[{last}] is")
                } else {
                    format!("targets[{}] to targets[{last}] are", target + 1)
                };
                format!(
                    "no `timeout` and no `skip_if`: a task waits there until its TTL, so {later} never reached; give it a timeout"
                )
            }
            Warning::NoDefaultFilter => "no `default_filter`: a task that matches no filter has no queue to wait in; add \"default_filter\": {\"queue\": \"WQ…\"}".to_owned(),
            Warning::DefaultSkipIf => "`skip_if` has no effect: no step follows the default filter, so there is nothing to skip to; remove it".to_owned(),
            Warning::PrefixedFilterReference { reference, .. } => {
                let (root, rest) = reference.split_once('.').unwrap_or((reference, ""));
                if root == "worker" {
                    format!(
                        "`expression`: `{reference}` reads a task attribute named `worker`: a filter reads only the task's attributes; worker conditions belong in a target's `expression`"
                    )
                } else {
                    format!(
                        "`expression`: `{reference}` reads a task attribute named `task`: filters name task attributes without a prefix; write `{rest}`"
                    )
                }
            }
            Warning::TimeNeverHolds {
                field,
                comparison,
                attribute,
                ..
            } => format!(
                "`{field}`: `{comparison}` holds at no minute of the week: `taskrouter.{}` is {}; compare it with a value it takes",
                attribute.name(),
                domain(*attribute)
            ),
            Warning::NeverAtAnyTime {
                field, expression, ..
            } => format!(
                "`{field}`: `{expression}` is false at every minute of the week (TaskRouter reads the time in UTC); a range across midnight needs OR, e.g. `taskrouter.currentTime >= 2200 OR taskrouter.currentTime < 600`"
            ),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place(), self.message())
    }
}

/// What an attribute holds, for messages (<https://www.twilio.com/docs/taskrouter/time-of-day-routing>).
fn domain(attribute: Attribute) -> &'static str {
    match attribute {
        Attribute::CurrentTime => {
            "the UTC time as one number HHMM, 0 to 2359, never null (09:30 is 930)"
        }
        Attribute::CurrentHour => "the UTC hour, 0 to 23, never null",
        Attribute::CurrentMin => "the minute, 0 to 59, never null",
        Attribute::DayOfWeek => "the UTC day, Mon to Sun, never null",
    }
}

impl Workflow {
    /// What is legal but almost certainly wrong, in document order (see the module
    /// documentation).
    pub fn warnings(&self) -> Vec<Warning> {
        self.located_warnings()
            .into_iter()
            .map(|(_, warning)| warning)
            .collect()
    }

    /// [`Workflow::warnings`], each with the JSON pointer of the value it is about.
    pub(crate) fn located_warnings(&self) -> Vec<(String, Warning)> {
        let mut warnings = Vec::new();
        let mut pointers = Vec::new();
        // Every warning pushed since the last call is about the value at `pointer`.
        let locate = |pointers: &mut Vec<String>, warnings: &Vec<Warning>, pointer: String| {
            pointers.resize(warnings.len(), pointer);
        };
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (index, filter) in self.filters.iter().enumerate() {
            let pointer = format!("/task_routing/filters/{index}");
            let at = filter_place(index, filter.name());
            let blocking = self.filters[..index]
                .iter()
                .enumerate()
                .filter(|(_, earlier)| !earlier.can_be_left())
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
            locate(&mut pointers, &warnings, pointer.clone());
            time_of_day(&filter.expression, &at, "expression", &mut warnings);
            locate(&mut pointers, &warnings, format!("{pointer}/expression"));
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
                locate(
                    &mut pointers,
                    &warnings,
                    format!("{pointer}/targets/{target}"),
                );
            }
            for (position, target) in filter.targets.iter().enumerate() {
                target_time_of_day(target, &format!("{at}, targets[{position}]"), &mut warnings);
                locate(
                    &mut pointers,
                    &warnings,
                    format!("{pointer}/targets/{position}/expression"),
                );
            }
        }
        match &self.default_filter {
            None => {
                warnings.push(Warning::NoDefaultFilter);
                locate(&mut pointers, &warnings, "/task_routing".to_owned());
            }
            Some(target) => {
                if target.skip_if.is_some() {
                    warnings.push(Warning::DefaultSkipIf);
                    locate(
                        &mut pointers,
                        &warnings,
                        "/task_routing/default_filter/skip_if".to_owned(),
                    );
                }
                target_time_of_day(target, "default_filter", &mut warnings);
                locate(
                    &mut pointers,
                    &warnings,
                    "/task_routing/default_filter/expression".to_owned(),
                );
            }
        }
        pointers.into_iter().zip(warnings).collect()
    }
}

/// `task.x` or `worker.x` (a first segment and at least one more).
fn is_prefixed(reference: &Reference) -> bool {
    matches!(
        reference.segments(),
        [Segment::Key(root), _, ..] if root == "task" || root == "worker"
    )
}

fn target_time_of_day(target: &Target, at: &str, warnings: &mut Vec<Warning>) {
    if let Some(expression) = &target.expression {
        time_of_day(expression, at, "expression", warnings);
    }
}

/// Time-of-day tests that hold at no minute of the week. Each comparison of an attribute with
/// constants is tried at every minute; an expression reading nothing but the time of day is
/// tried whole when none of its comparisons is already at fault. Values TaskRouter fills in
/// cover a week, so trying them all proves the point rather than guessing it (10,080 readings).
pub(crate) fn time_of_day(
    expression: &Expression,
    at: &str,
    field: &'static str,
    out: &mut Vec<Warning>,
) {
    let before = out.len();
    for comparison in expression.comparisons() {
        let attribute = match (comparison.left, comparison.right) {
            (Side::Reference(reference), Side::Literal(_) | Side::Array(_))
            | (Side::Literal(_) | Side::Array(_), Side::Reference(reference)) => {
                reference.time_of_day()
            }
            _ => None,
        };
        let Some(attribute) = attribute else { continue };
        let holds = |now: TimeOfDay| comparison.evaluate(&at_minute(now));
        if !time_of_day::every_minute_of_the_week().any(holds) {
            out.push(Warning::TimeNeverHolds {
                at: at.to_owned(),
                field,
                comparison: comparison.text.clone(),
                attribute,
            });
        }
    }
    let only_time = expression
        .references()
        .all(|reference| reference.time_of_day().is_some());
    let reads_time = expression.references().next().is_some();
    if out.len() == before
        && only_time
        && reads_time
        && !time_of_day::every_minute_of_the_week().any(|now| expression.evaluate(&at_minute(now)))
    {
        out.push(Warning::NeverAtAnyTime {
            at: at.to_owned(),
            field,
            expression: expression.source().to_owned(),
        });
    }
}

/// A scope with nothing but the time of day: every other reference is null.
fn at_minute(now: TimeOfDay) -> JsonScope<'static> {
    JsonScope {
        task: &Value::Null,
        worker: &Value::Null,
        now: Some(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The warnings of a document with these filters (JSON objects, comma-separated) and a
    /// default filter.
    fn warnings(filters: &str) -> Vec<String> {
        let text = format!(
            r#"{{"task_routing": {{"filters": [{filters}], "default_filter": {{"queue": "WQ00000000000000000000000000000009"}}}}}}"#
        );
        Workflow::parse(&text)
            .unwrap_or_else(|invalid| panic!("valid: {invalid}"))
            .warnings()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// A filter named `name` with this expression and one plain target.
    fn filter(name: &str, expression: &str) -> String {
        format!(
            r#"{{"filter_friendly_name": "{name}", "expression": "{expression}", "targets": [{{"queue": "WQ00000000000000000000000000000001"}}]}}"#
        )
    }

    #[test]
    fn the_shipped_examples_have_no_warnings() {
        for (path, text) in crate::workflow::test_support::examples() {
            let workflow = Workflow::parse(&text).expect("valid");
            assert_eq!(workflow.warnings(), [], "{}", path.display());
        }
    }

    #[test]
    fn a_filter_after_one_that_always_matches_is_never_reached() {
        #[rustfmt::skip]
        let cases: Vec<(String, Vec<&str>, &str)> = vec![
            (
                [filter("all", "1 == 1"), filter("vip", "vip == true")].join(","),
                vec!["filters[1] (`vip`): never reached: filters[0] (`all`) matches every task (`1 == 1`) and keeps it; move this filter above it"],
                "Twilio's match-everything idiom",
            ),
            (
                [filter("all", "true == true OR vip == true"), filter("vip", "vip == true"), filter("b", "b == 1")].join(","),
                vec![
                    "filters[1] (`vip`): never reached: filters[0] (`all`) matches every task (`true == true OR vip == true`) and keeps it; move this filter above it",
                    "filters[2] (`b`): never reached: filters[0] (`all`) matches every task (`true == true OR vip == true`) and keeps it; move this filter above it",
                ],
                "a tautology behind an OR; every later filter is named",
            ),
            (
                [filter("a", "agent == null OR agent != null"), filter("b", "b == 1")].join(","),
                vec!["filters[1] (`b`): never reached: filters[0] (`a`) matches every task (`agent == null OR agent != null`) and keeps it; move this filter above it"],
                "presence or absence",
            ),
            (
                [filter("sales", "type == 'sales'"), filter("sales again", "(type==\\\"sales\\\")")].join(","),
                vec!["filters[1] (`sales again`): never reached: filters[0] (`sales`) has the same expression and keeps every task it matches; merge the two filters or change one expression"],
                "the same condition, written differently",
            ),
            (
                [
                    r#"{"filter_friendly_name": "all", "expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001", "skip_if": "workers.available == 0"}]}"#.to_owned(),
                    filter("vip", "vip == true"),
                ].join(","),
                vec![],
                "every target of the earlier filter can be skipped, so tasks fall through",
            ),
            (
                [
                    r#"{"filter_friendly_name": "sales", "expression": "type == 'sales'", "targets": [{"queue": "WQ00000000000000000000000000000001", "timeout": 60}]}"#.to_owned(),
                    filter("sales again", "type == 'sales'"),
                ].join(","),
                vec![],
                "the same expression below a filter whose last step times out: reached by that timeout",
            ),
            (
                [
                    r#"{"filter_friendly_name": "all", "expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001", "timeout": 30}, {"skip_if": "workers.available == 0"}]}"#.to_owned(),
                    filter("vip", "vip == true"),
                ].join(","),
                vec![],
                "a catch-all whose steps all end (a timeout, then a skip) lets tasks through",
            ),
            (
                [
                    r#"{"filter_friendly_name": "all", "expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001", "timeout": 30}, {}]}"#.to_owned(),
                    filter("vip", "vip == true"),
                ].join(","),
                vec!["filters[1] (`vip`): never reached: filters[0] (`all`) matches every task (`1 == 1`) and keeps it; move this filter above it"],
                "a catch-all whose last step holds the task until its TTL keeps it",
            ),
            (
                [filter("sales", "type == 'sales'"), filter("all", "1 == 1")].join(","),
                vec![],
                "a catch-all last is fine",
            ),
        ];
        for (filters, expected, why) in cases {
            assert_eq!(warnings(&filters), expected, "{why}");
        }
    }

    #[test]
    fn each_kind_of_warning_names_its_place_and_what_to_do() {
        #[rustfmt::skip]
        let cases: Vec<(String, &str, &str)> = vec![
            (filter("none", "1 == 2"),
             "filters[0] (`none`): `1 == 2` is false for every task, so the filter never matches; fix the expression or remove the filter",
             "a filter that never matches"),
            ([filter("vip", "vip == true"), filter("vip", "tier == 'gold'")].join(","),
             "filters[1] (`vip`): filters[0] has the same name `vip`; give each filter its own name so the Console and routing events tell them apart",
             "a duplicate name"),
            (r#"{"expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001"}, {"queue": "WQ00000000000000000000000000000002"}]}"#.to_owned(),
             "filters[0], targets[0]: no `timeout` and no `skip_if`: a task waits there until its TTL, so targets[1] is never reached; give it a timeout",
             "a target without timeout before another"),
            (r#"{"expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001", "timeout": 5}, {}, {}, {"timeout": 5}]}"#.to_owned(),
             "filters[0], targets[1]: no `timeout` and no `skip_if`: a task waits there until its TTL, so targets[2] to targets[3] are never reached; give it a timeout",
             "an inherited queue without timeout before two more"),
            (filter("f", "task.type == 'chat'"),
             "filters[0] (`f`): `expression`: `task.type` reads a task attribute named `task`: filters name task attributes without a prefix; write `type`",
             "a task prefix in a filter"),
            (filter("f", "worker.level > 2"),
             "filters[0] (`f`): `expression`: `worker.level` reads a task attribute named `worker`: a filter reads only the task's attributes; worker conditions belong in a target's `expression`",
             "a worker prefix in a filter"),
            (filter("f", "vip == true AND taskrouter.currentHour > 1700"),
             "filters[0] (`f`): `expression`: `taskrouter.currentHour > 1700` holds at no minute of the week: `taskrouter.currentHour` is the UTC hour, 0 to 23, never null; compare it with a value it takes",
             "an HHMM time compared with the hour, beside a task attribute"),
            (filter("f", "taskrouter.currentTime IN [1260, 2400]"),
             "filters[0] (`f`): `expression`: `taskrouter.currentTime IN [1260, 2400]` holds at no minute of the week: `taskrouter.currentTime` is the UTC time as one number HHMM, 0 to 2359, never null (09:30 is 930); compare it with a value it takes",
             "minute 60 and 24:00 never come: 23:59 is followed by 0"),
            (r#"{"expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001", "expression": "taskrouter.dayOfWeek == null OR worker.on_call == true"}]}"#.to_owned(),
             "filters[0], targets[0]: `expression`: `taskrouter.dayOfWeek == null` holds at no minute of the week: `taskrouter.dayOfWeek` is the UTC day, Mon to Sun, never null; compare it with a value it takes",
             "a presence test on an attribute TaskRouter always fills in, in a target"),
            (filter("night", "taskrouter.currentTime > 2200 AND taskrouter.currentTime < 600"),
             "filters[0] (`night`): `expression`: `taskrouter.currentTime > 2200 AND taskrouter.currentTime < 600` is false at every minute of the week (TaskRouter reads the time in UTC); a range across midnight needs OR, e.g. `taskrouter.currentTime >= 2200 OR taskrouter.currentTime < 600`",
             "a night shift written with AND"),
        ];
        for (filters, expected, why) in cases {
            assert_eq!(warnings(&filters), [expected], "{why}");
        }
    }

    #[test]
    fn time_of_day_tests_that_hold_at_some_minute_give_no_warning() {
        for expression in [
            "taskrouter.currentHour > 8 AND taskrouter.currentHour < 18",
            "taskrouter.currentTime >= 2200 OR taskrouter.currentTime < 600",
            "taskrouter.dayOfWeek IN ['sat', 'SUN'] AND taskrouter.currentMin < 30",
            "taskrouter.currentTime == '0930' AND taskrouter.dayOfWeek != 'Mon'",
            "taskrouter.currentHour == task_hour",
            "taskrouter.dayOfWeek != null",
        ] {
            assert_eq!(
                warnings(&filter("f", expression)),
                Vec::<String>::new(),
                "{expression}"
            );
        }
    }

    #[test]
    fn no_default_filter_is_a_warning() {
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [{"expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001"}]}]}}"#,
        )
        .expect("valid");
        assert_eq!(
            workflow
                .warnings()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "task_routing: no `default_filter`: a task that matches no filter has no queue to wait in; add \"default_filter\": {\"queue\": \"WQ…\"}"
            ]
        );
    }

    #[test]
    fn skip_if_on_the_default_filter_is_a_warning() {
        let workflow = Workflow::parse(
            r#"{"task_routing": {"filters": [], "default_filter": {"queue": "WQ00000000000000000000000000000001", "skip_if": "workers.available == 0"}}}"#,
        )
        .expect("valid");
        assert_eq!(
            workflow
                .warnings()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "default_filter: `skip_if` has no effect: no step follows the default filter, so there is nothing to skip to; remove it"
            ]
        );
    }

    #[test]
    fn skip_if_or_a_timeout_lets_tasks_reach_later_targets() {
        let filters = r#"{"expression": "1 == 1", "targets": [
            {"queue": "WQ00000000000000000000000000000001", "skip_if": "workers.available == 0"},
            {"queue": "WQ00000000000000000000000000000002", "timeout": 10},
            {"queue": "WQ00000000000000000000000000000003"}
        ]}"#;
        assert_eq!(warnings(filters), Vec::<String>::new());
    }
}
