//! The semantic differences between two Workflow configurations, filter by filter and target by
//! target: the offline half of `taskrouter workflow diff`.
//!
//! Both sides are parsed [`Workflow`]s, so what never differs between equal models never shows:
//! whitespace, key order, number formatting (`10`, `10.0`, `"10"`), `friendly_name` for
//! `filter_friendly_name`, and the spelling of expressions ([`Expression::same_condition`]).
//! Filters are paired by position, as TaskRouter evaluates them, and so are the targets of a
//! pair; a filter inserted above others therefore shows as changes to each filter below it.
//!
//! ```
//! use taskrouter_lambda::workflow::{Workflow, diff::diff};
//!
//! let live = Workflow::parse(r#"{"task_routing": {"filters": [{"expression": "type=='sales'",
//!     "targets": [{"queue": "WQ00000000000000000000000000000001", "timeout": "15"}]}]}}"#)?;
//! let file = Workflow::parse(r#"{"task_routing": {"filters": [{"expression": "type == 'sales'",
//!     "targets": [{"timeout": 30, "queue": "WQ00000000000000000000000000000001"}]}]}}"#)?;
//! let differences: Vec<String> = diff(&live, &file).iter().map(ToString::to_string).collect();
//! assert_eq!(differences, ["filters[0], targets[0]: `timeout`: 15 → 30"]);
//! # Ok::<(), taskrouter_lambda::workflow::Invalid>(())
//! ```

use std::fmt;

use super::{Filter, Target, Workflow, filter_place, order_by_text, same_expression};
use crate::expression::Expression;

/// One difference between two configurations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Where: ``filters[1] (`Sales Calls`)``, ``filters[1] (`Sales Calls`), targets[0]`` or
    /// `default_filter` (filters named as in the new configuration when they exist there).
    pub at: String,
    /// What changed.
    pub change: Change,
}

/// What changed at a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Only the new configuration has it; its canonical JSON.
    Added(String),
    /// Only the old configuration has it; its canonical JSON.
    Removed(String),
    /// A key's value differs; `(none)` stands for an absent key.
    Changed {
        /// The key, e.g. `timeout`.
        key: &'static str,
        /// The old value.
        old: String,
        /// The new value.
        new: String,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.change {
            Change::Added(json) => write!(f, "{}: added: {json}", self.at),
            Change::Removed(json) => write!(f, "{}: removed: {json}", self.at),
            Change::Changed { key, old, new } => write!(f, "{}: `{key}`: {old} → {new}", self.at),
        }
    }
}

/// Every difference from `old` to `new`, in document order; empty exactly when the two are
/// equal.
pub fn diff(old: &Workflow, new: &Workflow) -> Vec<Difference> {
    let mut differences = Vec::new();
    let longest = old.filters.len().max(new.filters.len());
    for index in 0..longest {
        match (old.filters.get(index), new.filters.get(index)) {
            (Some(old), Some(new)) => filter(index, old, new, &mut differences),
            (None, Some(new)) => differences.push(Difference {
                at: filter_place(index, new.name()),
                change: Change::Added(new.to_json().to_string()),
            }),
            (Some(old), None) => differences.push(Difference {
                at: filter_place(index, old.name()),
                change: Change::Removed(old.to_json().to_string()),
            }),
            (None, None) => {}
        }
    }
    let at = "default_filter".to_owned();
    match (&old.default_filter, &new.default_filter) {
        (Some(old), Some(new)) => target(&at, old, new, &mut differences),
        (None, Some(new)) => differences.push(Difference {
            at,
            change: Change::Added(new.to_json().to_string()),
        }),
        (Some(old), None) => differences.push(Difference {
            at,
            change: Change::Removed(old.to_json().to_string()),
        }),
        (None, None) => {}
    }
    differences
}

fn filter(index: usize, old: &Filter, new: &Filter, out: &mut Vec<Difference>) {
    let at = filter_place(index, new.name().or(old.name()));
    let mut changed = |key: &'static str, old: String, new: String| {
        out.push(Difference {
            at: at.clone(),
            change: Change::Changed { key, old, new },
        });
    };
    if old.name != new.name {
        changed(
            "filter_friendly_name",
            text(old.name.as_deref()),
            text(new.name.as_deref()),
        );
    }
    if !old.expression.same_condition(&new.expression) {
        changed(
            "expression",
            quoted(&old.expression),
            quoted(&new.expression),
        );
    }
    let longest = old.targets.len().max(new.targets.len());
    for position in 0..longest {
        let at = format!("{at}, targets[{position}]");
        match (old.targets.get(position), new.targets.get(position)) {
            (Some(old), Some(new)) => target(&at, old, new, out),
            (None, Some(new)) => out.push(Difference {
                at,
                change: Change::Added(new.to_json().to_string()),
            }),
            (Some(old), None) => out.push(Difference {
                at,
                change: Change::Removed(old.to_json().to_string()),
            }),
            (None, None) => {}
        }
    }
}

fn target(at: &str, old: &Target, new: &Target, out: &mut Vec<Difference>) {
    let mut changed = |key: &'static str, old: String, new: String| {
        out.push(Difference {
            at: at.to_owned(),
            change: Change::Changed { key, old, new },
        });
    };
    if old.queue != new.queue {
        let queue = |target: &Target| match &target.queue {
            Some(queue) => queue.to_string(),
            None => "(inherited)".to_owned(),
        };
        changed("queue", queue(old), queue(new));
    }
    for (key, old, new) in [
        ("expression", &old.expression, &new.expression),
        ("skip_if", &old.skip_if, &new.skip_if),
    ] {
        if !same_expression(old.as_ref(), new.as_ref()) {
            changed(
                key,
                optional_expression(old.as_ref()),
                optional_expression(new.as_ref()),
            );
        }
    }
    for (key, old, new) in [
        ("priority", old.priority, new.priority),
        ("timeout", old.timeout, new.timeout),
    ] {
        if old != new {
            let number =
                |value: Option<u64>| value.map_or_else(|| "(none)".to_owned(), |n| n.to_string());
            changed(key, number(old), number(new));
        }
    }
    if old.order_by != new.order_by {
        let clauses = |target: &Target| {
            if target.order_by.is_empty() {
                "(none)".to_owned()
            } else {
                format!("`{}`", order_by_text(&target.order_by))
            }
        };
        changed("order_by", clauses(old), clauses(new));
    }
    if old.known_worker != new.known_worker {
        let known = |target: &Target| match &target.known_worker {
            Some(known) => format!("{} `{}`", known.key(), known.reference()),
            None => "(none)".to_owned(),
        };
        changed("known worker", known(old), known(new));
    }
}

fn text(value: Option<&str>) -> String {
    value.map_or_else(|| "(none)".to_owned(), |text| format!("`{text}`"))
}

fn quoted(expression: &Expression) -> String {
    format!("`{}`", expression.source())
}

fn optional_expression(expression: Option<&Expression>) -> String {
    expression.map_or_else(|| "(none)".to_owned(), quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Workflow {
        Workflow::parse(text).unwrap_or_else(|invalid| panic!("valid: {invalid}"))
    }

    fn differences(old: &str, new: &str) -> Vec<String> {
        diff(&parse(old), &parse(new))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const BASE: &str = r#"{"task_routing": {"filters": [
        {"filter_friendly_name": "Sales", "expression": "type == 'sales'", "targets": [
            {"queue": "WQ00000000000000000000000000000001", "priority": 5, "timeout": 15},
            {"queue": "WQ00000000000000000000000000000002", "order_by": "worker.level DESC"}
        ]}
    ], "default_filter": {"queue": "WQ00000000000000000000000000000003"}}}"#;

    #[test]
    fn formatting_never_shows_as_a_difference() {
        let same = r#"{
          "task_routing": {
            "default_filter": {"queue": "WQ00000000000000000000000000000003"},
            "filters": [
              {
                "targets": [
                  {"timeout": "15", "priority": 5.0, "queue": "WQ00000000000000000000000000000001"},
                  {"order_by": "worker.level  desc", "queue": "WQ00000000000000000000000000000002"}
                ],
                "expression": "(type==\"sales\")",
                "friendly_name": "Sales"
              }
            ]
          }
        }"#;
        assert_eq!(differences(BASE, same), Vec::<String>::new());
        assert_eq!(parse(BASE), parse(same));
        assert_eq!(
            parse(BASE).to_json(),
            parse(same).to_json(),
            "one canonical document"
        );
    }

    #[test]
    fn real_differences_are_shown_filter_by_filter_and_target_by_target() {
        let new = r#"{"task_routing": {"filters": [
            {"filter_friendly_name": "Sales", "expression": "type == 'sales' AND vip == true", "targets": [
                {"queue": "WQ00000000000000000000000000000001", "timeout": 30, "skip_if": "workers.available == 0"},
                {"queue": "WQ00000000000000000000000000000002", "order_by": "worker.level ASC", "known_worker_sid": "task.agent"},
                {"queue": "WQ00000000000000000000000000000004"}
            ]},
            {"expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000003"}]}
        ]}}"#;
        insta::assert_snapshot!(differences(BASE, new).join("\n"), @r#"
        filters[0] (`Sales`): `expression`: `type == 'sales'` → `type == 'sales' AND vip == true`
        filters[0] (`Sales`), targets[0]: `skip_if`: (none) → `workers.available == 0`
        filters[0] (`Sales`), targets[0]: `priority`: 5 → (none)
        filters[0] (`Sales`), targets[0]: `timeout`: 15 → 30
        filters[0] (`Sales`), targets[1]: `order_by`: `worker.level DESC` → `worker.level ASC`
        filters[0] (`Sales`), targets[1]: `known worker`: (none) → known_worker_sid `task.agent`
        filters[0] (`Sales`), targets[2]: added: {"queue":"WQ00000000000000000000000000000004"}
        filters[1]: added: {"expression":"1 == 1","targets":[{"queue":"WQ00000000000000000000000000000003"}]}
        default_filter: removed: {"queue":"WQ00000000000000000000000000000003"}
        "#);
        assert_ne!(parse(BASE), parse(new));
    }

    #[test]
    fn renames_and_removals_are_named() {
        let new = r#"{"task_routing": {"filters": [
            {"filter_friendly_name": "Sales team", "expression": "type == 'sales'", "targets": [
                {"queue": "WQ00000000000000000000000000000009", "priority": 5, "timeout": 15}
            ]}
        ], "default_filter": {"queue": "WQ00000000000000000000000000000003"}}}"#;
        assert_eq!(
            differences(BASE, new),
            [
                "filters[0] (`Sales team`): `filter_friendly_name`: `Sales` → `Sales team`",
                "filters[0] (`Sales team`), targets[0]: `queue`: WQ00000000000000000000000000000001 → WQ00000000000000000000000000000009",
                "filters[0] (`Sales team`), targets[1]: removed: {\"order_by\":\"worker.level DESC\",\"queue\":\"WQ00000000000000000000000000000002\"}",
            ]
        );
    }
}
