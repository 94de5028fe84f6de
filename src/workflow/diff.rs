//! The semantic differences between two Workflow configurations, filter by filter and target by
//! target: the offline half of `taskrouter workflow diff`.
//!
//! Both sides are parsed [`Workflow`]s, so what never differs between equal models never shows:
//! whitespace, key order, number formatting (`10`, `10.0`, `"10"`), `friendly_name` for
//! `filter_friendly_name`, and the spelling of expressions ([`Expression::same_condition`]).
//!
//! # Pairing
//!
//! Each filter of one side is paired with the filter of the other it most likely is, so that a
//! filter inserted above others shows as one addition, not as a change to every filter below it:
//!
//! 1. the same `filter_friendly_name` (a name used once on each side);
//! 2. then, in order, filters equal but for their name (a rename);
//! 3. then, in order, filters with the same expression (their targets changed);
//! 4. then the rest by position, unless both are named, differently (a filter replaced by
//!    another shows as removed and added).
//!
//! Targets have no names: within a pair of filters they are paired when equal, then by the same
//! queue and expression, then by position. "In order" is a longest common subsequence, as line
//! diffs do. Order matters to TaskRouter (the first matching filter takes the task; targets are
//! tried in turn), so a paired filter or target whose place among the others changed is reported
//! as moved; one that only shifted because another was added or removed above it is not.
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
//! # Ok::<(), taskrouter_lambda::document::Problems>(())
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
    /// Its place among the others changed: in the old configuration it was `from`
    /// (`filters[2]`, `targets[0]`).
    Moved {
        /// Its place in the old configuration.
        from: String,
    },
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
            Change::Moved { from } => write!(f, "{}: moved: it was {from}", self.at),
            Change::Changed { key, old, new } => write!(f, "{}: `{key}`: {old} → {new}", self.at),
        }
    }
}

/// Every difference from `old` to `new`, in the order of `new` (what `old` alone has, where it
/// stood); empty exactly when the two are equal.
pub fn diff(old: &Workflow, new: &Workflow) -> Vec<Difference> {
    let mut differences = Vec::new();
    let pairs = pair_filters(&old.filters, &new.filters);
    for slot in walk(old.filters.len(), new.filters.len(), &pairs) {
        match slot {
            Slot::Paired {
                old: i,
                new: j,
                moved,
            } => {
                let (old, new) = (&old.filters[i], &new.filters[j]);
                let at = filter_place(j, new.name().or(old.name()));
                if moved {
                    differences.push(Difference {
                        at: at.clone(),
                        change: Change::Moved {
                            from: format!("filters[{i}]"),
                        },
                    });
                }
                filter(&at, old, new, &mut differences);
            }
            Slot::Added(j) => differences.push(Difference {
                at: filter_place(j, new.filters[j].name()),
                change: Change::Added(new.filters[j].to_json().to_string()),
            }),
            Slot::Removed(i) => differences.push(Difference {
                at: filter_place(i, old.filters[i].name()),
                change: Change::Removed(old.filters[i].to_json().to_string()),
            }),
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

fn filter(at: &str, old: &Filter, new: &Filter, out: &mut Vec<Difference>) {
    let mut changed = |key: &'static str, old: String, new: String| {
        out.push(Difference {
            at: at.to_owned(),
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
    let pairs = pair_targets(&old.targets, &new.targets);
    for slot in walk(old.targets.len(), new.targets.len(), &pairs) {
        match slot {
            Slot::Paired {
                old: i,
                new: j,
                moved,
            } => {
                let at = format!("{at}, targets[{j}]");
                if moved {
                    out.push(Difference {
                        at: at.clone(),
                        change: Change::Moved {
                            from: format!("targets[{i}]"),
                        },
                    });
                }
                target(&at, &old.targets[i], &new.targets[j], out);
            }
            Slot::Added(j) => out.push(Difference {
                at: format!("{at}, targets[{j}]"),
                change: Change::Added(new.targets[j].to_json().to_string()),
            }),
            Slot::Removed(i) => out.push(Difference {
                at: format!("{at}, targets[{i}]"),
                change: Change::Removed(old.targets[i].to_json().to_string()),
            }),
        }
    }
}

/// Filters paired `(old, new)` as the module documentation says.
pub fn pair_filters(old: &[Filter], new: &[Filter]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let once = |filters: &[Filter], name: &str| {
        filters
            .iter()
            .filter(|filter| filter.name() == Some(name))
            .count()
            == 1
    };
    for (i, filter) in old.iter().enumerate() {
        let Some(name) = filter.name() else { continue };
        if once(old, name)
            && once(new, name)
            && let Some(j) = new.iter().position(|other| other.name() == Some(name))
        {
            pairs.push((i, j));
        }
    }
    in_order(&mut pairs, old.len(), new.len(), |i, j| {
        old[i].expression.same_condition(&new[j].expression) && old[i].targets == new[j].targets
    });
    in_order(&mut pairs, old.len(), new.len(), |i, j| {
        old[i].expression.same_condition(&new[j].expression)
    });
    in_order(&mut pairs, old.len(), new.len(), |i, j| {
        match (old[i].name(), new[j].name()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    });
    pairs
}

/// Targets paired `(old, new)` as the module documentation says.
pub fn pair_targets(old: &[Target], new: &[Target]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    in_order(&mut pairs, old.len(), new.len(), |i, j| old[i] == new[j]);
    in_order(&mut pairs, old.len(), new.len(), |i, j| {
        old[i].queue == new[j].queue
            && same_expression(old[i].expression.as_ref(), new[j].expression.as_ref())
    });
    in_order(&mut pairs, old.len(), new.len(), |_, _| true);
    pairs
}

/// Adds to `pairs` the longest run, in order on both sides, of items not yet paired that `same`
/// pairs (a longest common subsequence: the lists are a Workflow's filters or a filter's
/// targets, a few dozen at most, so the quadratic table is small).
fn in_order(
    pairs: &mut Vec<(usize, usize)>,
    old_len: usize,
    new_len: usize,
    same: impl Fn(usize, usize) -> bool,
) {
    let old: Vec<usize> = (0..old_len)
        .filter(|i| !pairs.iter().any(|(paired, _)| paired == i))
        .collect();
    let new: Vec<usize> = (0..new_len)
        .filter(|j| !pairs.iter().any(|(_, paired)| paired == j))
        .collect();
    // longest[a][b]: the longest run within old[a..] and new[b..].
    let mut longest = vec![vec![0_usize; new.len() + 1]; old.len() + 1];
    for a in (0..old.len()).rev() {
        for b in (0..new.len()).rev() {
            longest[a][b] = if same(old[a], new[b]) {
                longest[a + 1][b + 1] + 1
            } else {
                longest[a + 1][b].max(longest[a][b + 1])
            };
        }
    }
    let (mut a, mut b) = (0, 0);
    while a < old.len() && b < new.len() {
        if same(old[a], new[b]) && longest[a][b] == longest[a + 1][b + 1] + 1 {
            pairs.push((old[a], new[b]));
            a += 1;
            b += 1;
        } else if longest[a + 1][b] >= longest[a][b + 1] {
            a += 1;
        } else {
            b += 1;
        }
    }
}

/// One item of the walk through two paired lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// `old[old]` is `new[new]`; `moved`: its place among the others changed.
    Paired { old: usize, new: usize, moved: bool },
    /// Only in the new list.
    Added(usize),
    /// Only in the old list.
    Removed(usize),
}

/// The items in the order of the new list, each removed one right after the new place of the
/// paired item that preceded it in the old list. The pairs kept in place are a longest run
/// increasing on both sides; any other pair is `moved`.
fn walk(old_len: usize, new_len: usize, pairs: &[(usize, usize)]) -> Vec<Slot> {
    let mut by_old: Vec<(usize, usize)> = pairs.to_vec();
    by_old.sort_unstable();
    let kept = increasing_run(&by_old);
    let new_of_old = |i: usize| {
        by_old
            .iter()
            .find(|(old, _)| *old == i)
            .map(|(_, new)| *new)
    };
    let mut slots: Vec<((usize, usize), Slot)> = Vec::with_capacity(old_len + new_len);
    for j in 0..new_len {
        let slot = match by_old.iter().position(|(_, new)| *new == j) {
            Some(index) => Slot::Paired {
                old: by_old[index].0,
                new: j,
                moved: !kept.contains(&index),
            },
            None => Slot::Added(j),
        };
        // New items at even keys, removed ones at the odd key after their anchor.
        slots.push(((2 * j + 2, 0), slot));
    }
    for i in (0..old_len).filter(|i| new_of_old(*i).is_none()) {
        let anchor = (0..i).rev().find_map(new_of_old).map_or(0, |j| 2 * j + 2);
        slots.push(((anchor + 1, i), Slot::Removed(i)));
    }
    slots.sort_by_key(|(key, _)| *key);
    slots.into_iter().map(|(_, slot)| slot).collect()
}

/// The indexes into `pairs` (sorted by old position) of a longest run whose new positions
/// increase too: the items that kept their order.
fn increasing_run(pairs: &[(usize, usize)]) -> Vec<usize> {
    // best[k]: the length of the longest increasing run ending at k, and its previous index.
    let mut best: Vec<(usize, Option<usize>)> = Vec::with_capacity(pairs.len());
    for (k, &(_, new)) in pairs.iter().enumerate() {
        let previous = (0..k)
            .filter(|&p| pairs[p].1 < new)
            .max_by_key(|&p| (best[p].0, std::cmp::Reverse(p)));
        best.push(match previous {
            Some(p) => (best[p].0 + 1, Some(p)),
            None => (1, None),
        });
    }
    let mut run = Vec::new();
    let mut at = (0..pairs.len()).max_by_key(|&k| (best[k].0, std::cmp::Reverse(k)));
    while let Some(k) = at {
        run.push(k);
        at = best[k].1;
    }
    run.reverse();
    run
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

    /// A document of these filters (JSON objects, comma-separated) and a default filter.
    fn document(filters: &[&str]) -> String {
        format!(
            r#"{{"task_routing": {{"filters": [{}], "default_filter": {{"queue": "WQ00000000000000000000000000000009"}}}}}}"#,
            filters.join(",")
        )
    }

    const VIP: &str = r#"{"filter_friendly_name": "VIP", "expression": "vip == true", "targets": [{"queue": "WQ00000000000000000000000000000005"}]}"#;
    const SALES: &str = r#"{"filter_friendly_name": "Sales", "expression": "type == 'sales'", "targets": [{"queue": "WQ00000000000000000000000000000001", "timeout": 15}, {"queue": "WQ00000000000000000000000000000002"}]}"#;
    const SUPPORT: &str = r#"{"filter_friendly_name": "Support", "expression": "type == 'support'", "targets": [{"queue": "WQ00000000000000000000000000000003"}]}"#;
    const UNNAMED: &str = r#"{"expression": "channel == 'chat'", "targets": [{"queue": "WQ00000000000000000000000000000004"}]}"#;

    #[test]
    fn filters_pair_by_name_then_as_renamed_then_by_expression_then_by_position() {
        let workflow = |filters: &[&str]| parse(&document(filters));
        let renamed = SALES.replace("\"Sales\"", "\"Sales team\"");
        let retargeted = SUPPORT.replace(
            "WQ00000000000000000000000000000003",
            "WQ00000000000000000000000000000007",
        );
        let rewritten = UNNAMED.replace("channel == 'chat'", "channel == 'sms'");
        #[rustfmt::skip]
        type Case<'a> = (Vec<&'a str>, Vec<&'a str>, Vec<(usize, usize)>, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                vec![SALES, SUPPORT],
                vec![VIP, SALES, SUPPORT],
                vec![(0, 1), (1, 2)],
                "an insertion at the top leaves the others paired by name",
            ),
            (
                vec![SALES, SUPPORT],
                vec![SUPPORT, SALES],
                vec![(0, 1), (1, 0)],
                "a reordering pairs by name",
            ),
            (
                vec![SALES, SUPPORT],
                vec![&renamed, SUPPORT],
                vec![(1, 1), (0, 0)],
                "a rename pairs as the same filter with another name",
            ),
            (
                vec![SUPPORT, UNNAMED],
                vec![&retargeted, UNNAMED],
                vec![(0, 0), (1, 1)],
                "new targets, same name",
            ),
            (
                vec![UNNAMED, SALES],
                vec![SALES, &rewritten],
                vec![(1, 0), (0, 1)],
                "an unnamed filter whose expression changed pairs with the unnamed one left",
            ),
            (
                vec![SALES],
                vec![VIP],
                vec![],
                "two names, two expressions: a different filter, not a rename",
            ),
        ];
        for (old, new, expected, why) in cases {
            let (old, new) = (workflow(&old), workflow(&new));
            let mut pairs = pair_filters(old.filters(), new.filters());
            let mut expected = expected;
            pairs.sort_unstable();
            expected.sort_unstable();
            assert_eq!(pairs, expected, "{why}");
        }
    }

    #[test]
    fn a_filter_inserted_removed_or_moved_shows_once() {
        let inserted = differences(
            &document(&[SALES, SUPPORT]),
            &document(&[VIP, SALES, SUPPORT]),
        );
        assert_eq!(
            inserted,
            [
                r#"filters[0] (`VIP`): added: {"expression":"vip == true","filter_friendly_name":"VIP","targets":[{"queue":"WQ00000000000000000000000000000005"}]}"#
            ],
            "one addition, not a change to every filter below it"
        );
        let removed = differences(
            &document(&[VIP, SALES, SUPPORT]),
            &document(&[VIP, SUPPORT]),
        );
        assert_eq!(
            removed,
            [
                r#"filters[1] (`Sales`): removed: {"expression":"type == 'sales'","filter_friendly_name":"Sales","targets":[{"queue":"WQ00000000000000000000000000000001","timeout":15},{"queue":"WQ00000000000000000000000000000002"}]}"#
            ],
            "one removal, named by its old place"
        );
        let moved = differences(
            &document(&[VIP, SALES, SUPPORT]),
            &document(&[SUPPORT, VIP, SALES]),
        );
        assert_eq!(
            moved,
            ["filters[0] (`Support`): moved: it was filters[2]"],
            "the one filter that changed places; the others only shifted"
        );
        let replaced = differences(&document(&[SALES, UNNAMED]), &document(&[VIP, UNNAMED]));
        assert_eq!(
            replaced,
            [
                r#"filters[0] (`Sales`): removed: {"expression":"type == 'sales'","filter_friendly_name":"Sales","targets":[{"queue":"WQ00000000000000000000000000000001","timeout":15},{"queue":"WQ00000000000000000000000000000002"}]}"#,
                r#"filters[0] (`VIP`): added: {"expression":"vip == true","filter_friendly_name":"VIP","targets":[{"queue":"WQ00000000000000000000000000000005"}]}"#,
            ],
            "a filter replaced by another is not a rename: removed, then added, as line diffs show it"
        );
    }

    #[test]
    fn targets_pair_by_content_so_a_new_first_step_shows_once() {
        let escalation = |targets: &str| {
            document(&[&format!(
                r#"{{"filter_friendly_name": "Sales", "expression": "type == 'sales'", "targets": [{targets}]}}"#
            )])
        };
        let first = r#"{"queue": "WQ00000000000000000000000000000001", "timeout": 15}"#;
        let second = r#"{"queue": "WQ00000000000000000000000000000002", "timeout": 30}"#;
        let last = r#"{"queue": "WQ00000000000000000000000000000003"}"#;
        let known = r#"{"queue": "WQ00000000000000000000000000000001", "known_worker_sid": "task.agent", "timeout": 20}"#;
        let old = escalation(&[first, second, last].join(","));
        assert_eq!(
            differences(&old, &escalation(&[known, first, second, last].join(","))),
            [
                r#"filters[0] (`Sales`), targets[0]: added: {"known_worker_sid":"task.agent","queue":"WQ00000000000000000000000000000001","timeout":20}"#
            ],
            "a known-worker step put first"
        );
        let longer = second.replace("30", "45");
        assert_eq!(
            differences(&old, &escalation(&[known, first, &longer, last].join(","))),
            [
                r#"filters[0] (`Sales`), targets[0]: added: {"known_worker_sid":"task.agent","queue":"WQ00000000000000000000000000000001","timeout":20}"#,
                "filters[0] (`Sales`), targets[2]: `timeout`: 30 → 45",
            ],
            "and a changed step, named by its new place"
        );
        assert_eq!(
            differences(&old, &escalation(&[second, first, last].join(","))),
            ["filters[0] (`Sales`), targets[0]: moved: it was targets[1]"],
            "two steps swapped: TaskRouter tries them in the other order"
        );
    }
}
