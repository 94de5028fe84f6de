//! From JSON text to a [`Workflow`]: every problem in the document, each with its place.
//!
//! The configuration is read through the crate's one document reader
//! ([`crate::document::Reader`]), as rules documents are: every problem at once, each with its
//! line, column and JSON pointer, an unknown key with the nearest known one. Messages name the
//! place in the document's words (``filters[1] (`Sales Calls`), targets[0]``) and then the key,
//! and numbers written as strings are read as Twilio's own pages write them.

use serde_json::Value;

use super::{
    Direction, Filter, KnownWorker, MAX_CONFIGURATION_BYTES, MAX_PRIORITY, MAX_TIMEOUT,
    MIN_TIMEOUT, OrderBy, Target, Workflow, filter_place,
};
use crate::document::{
    Keys, Node, Object, Problem, Problems, Reader, Severity, json_kind, suggest,
};
use crate::expression::{Expression, Reference, Segment};
use crate::sid::{ActivitySid, TaskQueueSid};

/// What a configuration read from text alone is called in messages.
const CONFIGURATION: &str = "the configuration";

/// The document's keys (`task_routing` is required, with a message of its own).
const DOCUMENT_KEYS: Keys = Keys {
    what: "a Workflow configuration",
    required: &[],
    optional: &["task_routing"],
};
/// Keys of `task_routing`.
const ROUTING_KEYS: Keys = Keys {
    what: "`task_routing`",
    required: &[],
    optional: &["filters", "default_filter"],
};
/// Keys of a filter (`expression` and `targets` are required, with messages of their own).
const FILTER_KEYS: Keys = Keys {
    what: "a filter",
    required: &[],
    optional: &[
        "filter_friendly_name",
        "friendly_name",
        "expression",
        "targets",
    ],
};
/// Keys of a target and of `default_filter`.
const TARGET_KEYS: Keys = Keys {
    what: "a target",
    required: &[],
    optional: &[
        "queue",
        "expression",
        "priority",
        "timeout",
        "order_by",
        "skip_if",
        "known_worker_sid",
        "known_worker_friendly_name",
    ],
};

impl Workflow {
    /// Parses a Workflow configuration, the `Configuration` JSON (`{"task_routing": …}`), called
    /// `the configuration` in messages.
    ///
    /// # Errors
    ///
    /// [`Problems`] with every problem found (see [`Workflow::read`]).
    pub fn parse(text: &str) -> Result<Workflow, Problems> {
        Self::read(CONFIGURATION, text)
    }

    /// Reads the configuration called `source` (its path, or the parameter that held it).
    ///
    /// # Errors
    ///
    /// [`Problems`] with every problem found, each at its line and column: JSON that does not
    /// parse, wrong types, unknown keys (with a suggestion), missing keys, expressions that do
    /// not parse (with a caret) or reference what their place cannot read, malformed SIDs,
    /// numbers out of range, malformed `order_by` clauses, a filter without targets, a
    /// `timeout` on `default_filter`, a text over 1 MB.
    pub fn read(source: &str, text: &str) -> Result<Workflow, Problems> {
        read(source, text, false).map(|(workflow, _)| workflow)
    }

    /// Reads the configuration called `source` as `workflow check` does: the configuration and
    /// its warnings ([`Workflow::warnings`], and keys given twice in one object), each at its
    /// line and column.
    ///
    /// # Errors
    ///
    /// As [`Workflow::read`].
    pub fn check(source: &str, text: &str) -> Result<(Workflow, Problems), Problems> {
        read(source, text, true)
    }

    /// The configuration held by `node`, a value of a larger document (a workspace document's
    /// Workflow): its problems are recorded on that document's reader, each placed after
    /// `node`'s place. `None` when there was any.
    pub(crate) fn from_node(node: &Node<'_>) -> Option<Workflow> {
        let before = node.errors_recorded();
        let size = node.value().to_string().len();
        if size > MAX_CONFIGURATION_BYTES {
            node.error(too_large(size));
        }
        let walker = Walker {
            prefix: format!("{}, ", node.place()),
        };
        let workflow = walker.document(node);
        workflow.filter(|_| node.errors_recorded() == before)
    }
}

fn read(source: &str, text: &str, check: bool) -> Result<(Workflow, Problems), Problems> {
    let size = text.len();
    let (reader, value) = match Reader::parse(source, text) {
        Ok(parsed) => parsed,
        Err(syntax) => {
            if size <= MAX_CONFIGURATION_BYTES {
                return Err(syntax);
            }
            // The size too: it alone makes the configuration unusable.
            let mut problems = Problems::new();
            problems.push(Problem {
                severity: Severity::Error,
                source: source.to_owned(),
                position: Some((1, 1)),
                pointer: String::new(),
                place: CONFIGURATION.to_owned(),
                message: too_large(size),
            });
            problems.extend(syntax);
            return Err(problems);
        }
    };
    let root = reader.root(&value).named(CONFIGURATION.to_owned());
    if size > MAX_CONFIGURATION_BYTES {
        root.error(too_large(size));
    }
    let walker = Walker {
        prefix: String::new(),
    };
    let workflow = walker.document(&root);
    if check && root.errors_recorded() == 0 {
        if let Some(workflow) = &workflow {
            for (pointer, warning) in workflow.located_warnings() {
                reader.report(
                    Severity::Warning,
                    &pointer,
                    &format!("{}{}", walker.prefix, warning.place()),
                    warning.message(),
                );
            }
        }
        reader.warn_repeated_keys();
    }
    let problems = reader.finish();
    match workflow {
        Some(workflow) if !problems.has_errors() => Ok((workflow, problems)),
        _ => Err(problems),
    }
}

fn too_large(bytes: usize) -> String {
    format!(
        "{bytes} bytes is over TaskRouter's limit of 1 MB ({MAX_CONFIGURATION_BYTES} bytes, \
         https://www.twilio.com/docs/taskrouter/limits); split the routing across Workflows or \
         shorten the expressions"
    )
}

/// Where a target stands, which decides what it must and may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A filter's first target: it names its queue.
    First,
    /// A later target of a filter: it may inherit the previous one's queue.
    Later,
    /// `default_filter`: it names its queue and takes no `timeout`.
    Default,
}

/// Which references an expression may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A filter's `expression`: bare keys are task attributes.
    Filter,
    /// A target's `expression`: `task.` and `worker.`.
    Target,
    /// `skip_if`: `workers.*`.
    SkipIf,
}

/// The value of `key` in `object`, for a message that names the key itself (``filters[0]:
/// `targets` is empty``): the node keeps the object's place and points at the value.
fn field<'r>(object: &Object<'r>, key: &str) -> Option<Node<'r>> {
    object
        .get(key)
        .map(|node| node.named(object.node().place().to_owned()))
}

/// Records that the value of `key` is not of the JSON type `expected`.
fn wrong_type(node: &Node<'_>, key: &str, expected: &str) {
    node.error(format_args!(
        "`{key}`: expected {expected}, found {}",
        json_kind(node.value())
    ));
}

/// Walks a configuration's value; problems are recorded on its reader.
struct Walker {
    /// Put before every place: empty for a configuration of its own, the holding value's place
    /// and `, ` for one inside a larger document.
    prefix: String,
}

impl Walker {
    fn document(&self, root: &Node<'_>) -> Option<Workflow> {
        if let Value::Object(map) = root.value()
            && !map.contains_key("task_routing")
        {
            let pasted_inside = map.contains_key("filters") || map.contains_key("default_filter");
            root.error(if pasted_inside {
                "missing key `task_routing`: `filters` and `default_filter` belong inside it: {\"task_routing\": {\"filters\": […], \"default_filter\": {…}}}"
            } else {
                "missing key `task_routing`: the configuration is {\"task_routing\": {\"filters\": […], \"default_filter\": {…}}}"
            });
            if !pasted_inside {
                root.object(&DOCUMENT_KEYS);
            }
            return None;
        }
        let document = root.object(&DOCUMENT_KEYS)?;
        let routing = document
            .get("task_routing")?
            .named(format!("{}task_routing", self.prefix))
            .object(&ROUTING_KEYS)?;
        let filters = match field(&routing, "filters") {
            None => Some(Vec::new()),
            Some(node) if node.value().is_array() => {
                let filters: Vec<Option<Filter>> = node
                    .array()?
                    .into_iter()
                    .enumerate()
                    .map(|(index, node)| self.filter(index, node))
                    .collect();
                filters.into_iter().collect()
            }
            Some(node) => {
                wrong_type(&node, "filters", "an array of filters");
                None
            }
        };
        let default_filter = match routing.get("default_filter") {
            None => Some(None),
            Some(node) => self
                .target(
                    node.named(format!("{}default_filter", self.prefix)),
                    Slot::Default,
                )
                .map(Some),
        };
        Some(Workflow {
            filters: filters?,
            default_filter: default_filter?,
        })
    }

    fn filter(&self, index: usize, node: Node<'_>) -> Option<Filter> {
        let node = node.named(format!("{}{}", self.prefix, filter_place(index, None)));
        let name = filter_name(&node);
        let node = match &name {
            Some(Some(name)) => node.named(format!(
                "{}{}",
                self.prefix,
                filter_place(index, Some(name))
            )),
            _ => node,
        };
        let spec = node.object(&FILTER_KEYS)?;
        let expression = spec
            .require(
                "expression",
                "write `\"expression\": \"1 == 1\"` to match every task",
            )
            .and_then(|node| {
                let node = node.named(spec.node().place().to_owned());
                expression(&node, "expression", Place::Filter)
            });
        let targets = match field(&spec, "targets") {
            None => {
                spec.node().error(
                    "missing key `targets`: list the queues a matching task waits in, e.g. [{\"queue\": \"WQ…\"}]",
                );
                None
            }
            Some(node) => match node.value() {
                Value::Array(items) if items.is_empty() => {
                    node.error(
                        "`targets` is empty: a matching task would have no queue to wait in; add a target or remove the filter",
                    );
                    None
                }
                Value::Array(_) => {
                    let at = spec.node().place();
                    let targets: Vec<Option<Target>> = node
                        .array()?
                        .into_iter()
                        .enumerate()
                        .map(|(position, target)| {
                            let target = target.named(format!("{at}, targets[{position}]"));
                            let slot = if position == 0 {
                                Slot::First
                            } else {
                                Slot::Later
                            };
                            self.target(target, slot)
                        })
                        .collect();
                    targets.into_iter().collect()
                }
                _ => {
                    wrong_type(&node, "targets", "an array of targets");
                    None
                }
            },
        };
        Some(Filter {
            name: name?,
            expression: expression?,
            targets: targets?,
        })
    }

    /// A filter's target, or `default_filter`.
    fn target(&self, node: Node<'_>, slot: Slot) -> Option<Target> {
        let is_default = slot == Slot::Default;
        let spec = node.object(&TARGET_KEYS)?;
        let queue = match field(&spec, "queue") {
            None if slot != Slot::Later => {
                spec.node().error(if is_default {
                    "missing key `queue`: name the queue of tasks no filter matches, e.g. {\"queue\": \"WQ…\"}"
                } else {
                    "missing key `queue`: the first target of a filter has no earlier target to inherit a queue from"
                });
                None
            }
            None => Some(None),
            Some(node) => match node.value() {
                Value::String(text) => match TaskQueueSid::parse(text) {
                    Ok(sid) => Some(Some(sid)),
                    Err(error) => {
                        node.error(format_args!("`queue`: {error}"));
                        None
                    }
                },
                _ => {
                    wrong_type(&node, "queue", "a task queue SID (WQ…)");
                    None
                }
            },
        };
        let expression = optional_expression(&spec, "expression", Place::Target);
        let priority = number(
            &spec,
            "priority",
            (0, MAX_PRIORITY),
            "a task's priority is at most 2^31 − 1",
        );
        let timeout = match field(&spec, "timeout") {
            Some(node) if is_default => {
                node.error(
                    "`timeout` is not allowed here: the default filter holds a task until its TTL, and it does not count as a subsequent filter for the purposes of a timeout (https://www.twilio.com/docs/taskrouter/workflow-configuration); remove it",
                );
                None
            }
            _ => number(
                &spec,
                "timeout",
                (MIN_TIMEOUT, MAX_TIMEOUT),
                "seconds: a target's timeout must be a positive integer, https://www.twilio.com/docs/taskrouter/workflow-configuration; no step can outlast the longest task TTL, 14 days",
            ),
        };
        let order_by = match field(&spec, "order_by") {
            None => Some(Vec::new()),
            Some(node) => match node.value() {
                Value::String(text) => order_by(&node, text),
                _ => {
                    wrong_type(&node, "order_by", "a string such as \"worker.level DESC\"");
                    None
                }
            },
        };
        let skip_if = optional_expression(&spec, "skip_if", Place::SkipIf);
        let known_worker = known_worker(&spec);
        Some(Target {
            queue: queue?,
            expression: expression?,
            priority: priority?,
            timeout: timeout?,
            order_by: order_by?,
            skip_if: skip_if?,
            known_worker: known_worker?,
        })
    }
}

/// `filter_friendly_name`, or Twilio's older spelling `friendly_name`, of a filter that may not
/// be an object yet (then it has none).
fn filter_name(node: &Node<'_>) -> Option<Option<String>> {
    let (key, value) = match (
        node.member("filter_friendly_name"),
        node.member("friendly_name"),
    ) {
        (Some(_), Some(_)) => {
            node.error(
                "both `filter_friendly_name` and `friendly_name`: they name the same thing; keep `filter_friendly_name`",
            );
            return None;
        }
        (Some(value), None) => ("filter_friendly_name", value),
        (None, Some(value)) => ("friendly_name", value),
        (None, None) => return Some(None),
    };
    let value = value.named(node.place().to_owned());
    match value.value() {
        Value::String(name) => Some(Some(name.clone())),
        _ => {
            wrong_type(&value, key, "a string");
            None
        }
    }
}

fn optional_expression(spec: &Object<'_>, key: &str, place: Place) -> Option<Option<Expression>> {
    match field(spec, key) {
        None => Some(None),
        Some(node) => expression(&node, key, place).map(Some),
    }
}

/// The expression at `node`, the value of `key`: it parses, and every reference is one `place`
/// may read.
fn expression(node: &Node<'_>, key: &str, place: Place) -> Option<Expression> {
    let Value::String(text) = node.value() else {
        wrong_type(node, key, "an expression string");
        return None;
    };
    if text.trim().is_empty() {
        node.error(format_args!(
            "`{key}` is empty: {}",
            match place {
                Place::Filter => "write `1 == 1` to match every task",
                Place::Target => "leave it out to offer the task to every worker of the queue",
                Place::SkipIf => "leave it out, or write e.g. `workers.available == 0`",
            }
        ));
        return None;
    }
    let expression = match Expression::parse(text) {
        Ok(expression) => expression,
        Err(error) => {
            node.error(format_args!("`{key}` is not a valid expression: {error}"));
            return None;
        }
    };
    let mut valid = true;
    for reference in expression.references() {
        if let Some(problem) = reference_problem(reference, place) {
            node.error(format_args!("`{key}`: `{}` {problem}", reference.as_str()));
            valid = false;
        }
    }
    valid.then_some(expression)
}

/// `priority` or `timeout`: absent, or a whole number from `min` to `max`, possibly written as a
/// string (Twilio's known-agent page writes `"priority": "100"`) or as `10.0`.
fn number(spec: &Object<'_>, key: &str, (min, max): (u64, u64), why: &str) -> Option<Option<u64>> {
    let Some(node) = field(spec, key) else {
        return Some(None);
    };
    let shown = node.value().to_string();
    let out_of_range = || {
        node.error(format_args!(
            "`{key}` is {shown}: expected a whole number from {min} to {max} ({why})"
        ));
    };
    let not_whole = || node.error(format_args!("`{key}` is {shown}: expected a whole number"));
    let whole = match node.value() {
        Value::Number(number) => match (number.as_u64(), number.as_i64(), number.as_f64()) {
            (Some(whole), _, _) => Some(whole),
            (None, Some(_negative), _) => None,
            // Beyond u64, which is beyond every bound here, counts as out of range.
            (None, None, Some(float)) if float.fract() == 0.0 && float >= 0.0 => {
                (float < 18_446_744_073_709_551_615.0).then_some(float as u64)
            }
            (None, None, Some(float)) if float.fract() == 0.0 => None,
            _ => {
                not_whole();
                return None;
            }
        },
        Value::String(text) => match text.trim().parse::<u64>() {
            Ok(whole) => Some(whole),
            Err(_) if text.trim().parse::<i64>().is_ok() => None,
            Err(_) => {
                not_whole();
                return None;
            }
        },
        _ => {
            wrong_type(&node, key, "a whole number");
            return None;
        }
    };
    match whole {
        Some(whole) if (min..=max).contains(&whole) => Some(Some(whole)),
        _ => {
            out_of_range();
            None
        }
    }
}

/// `worker.a DESC, worker.b ASC` (<https://www.twilio.com/docs/taskrouter/order-workers>), the
/// text of `node`.
fn order_by(node: &Node<'_>, text: &str) -> Option<Vec<OrderBy>> {
    if text.trim().is_empty() {
        node.error(
            "`order_by` is empty: leave it out (the worker idle longest goes first), or write e.g. `worker.level DESC`",
        );
        return None;
    }
    let mut clauses = Vec::new();
    let mut valid = true;
    for clause in text.split(',') {
        let clause = clause.trim();
        let words: Vec<&str> = clause.split_whitespace().collect();
        let parsed = match words.as_slice() {
            [] => Err(
                "is empty: separate clauses with single commas, e.g. `worker.level DESC, worker.tenure ASC`"
                    .to_owned(),
            ),
            [_] => Err("has no direction: add ASC or DESC".to_owned()),
            [attribute, direction] => {
                let direction = if direction.eq_ignore_ascii_case("asc") {
                    Ok(Direction::Ascending)
                } else if direction.eq_ignore_ascii_case("desc") {
                    Ok(Direction::Descending)
                } else {
                    Err(format!("has the direction `{direction}`: write ASC or DESC"))
                };
                match (Reference::parse(attribute), direction) {
                    (Ok(reference), Ok(direction)) if is_worker_attribute(&reference) => {
                        Ok(OrderBy {
                            attribute: reference,
                            direction,
                        })
                    }
                    (Ok(_), Ok(_)) => Err(format!(
                        "does not name a worker attribute: write `worker.{attribute} {}`",
                        words[1]
                    )),
                    (Err(error), _) => Err(format!(
                        "does not start with a reference: {} at column {} of `{attribute}`: {}",
                        error.message(),
                        error.column(),
                        error.help()
                    )),
                    (_, Err(problem)) => Err(problem),
                }
            }
            _ => Err(
                "has more than an attribute and a direction: write `worker.<attribute> ASC|DESC` and separate clauses with commas"
                    .to_owned(),
            ),
        };
        match parsed {
            Ok(clause) => clauses.push(clause),
            Err(problem) => {
                node.error(format_args!("`order_by` clause `{clause}` {problem}"));
                valid = false;
            }
        }
    }
    valid.then_some(clauses)
}

/// `known_worker_sid` or `known_worker_friendly_name`: a `task.` reference to the attribute
/// naming the worker.
fn known_worker(spec: &Object<'_>) -> Option<Option<KnownWorker>> {
    let (key, node, by_sid) = match (
        field(spec, "known_worker_sid"),
        field(spec, "known_worker_friendly_name"),
    ) {
        (None, None) => return Some(None),
        (Some(_), Some(_)) => {
            spec.node().error(
                "both `known_worker_sid` and `known_worker_friendly_name`: TaskRouter takes one or the other; keep one",
            );
            return None;
        }
        (Some(node), None) => ("known_worker_sid", node, true),
        (None, Some(node)) => ("known_worker_friendly_name", node, false),
    };
    let Value::String(text) = node.value() else {
        wrong_type(
            &node,
            key,
            "a task attribute reference such as \"task.agent_sid\"",
        );
        return None;
    };
    let reference = match Reference::parse(text) {
        Ok(reference) => reference,
        Err(error) => {
            node.error(format_args!("`{key}` is not a valid expression: {error}"));
            return None;
        }
    };
    let is_task_attribute = matches!(
        reference.segments(),
        [Segment::Key(root), _, ..] if root == "task"
    );
    if !is_task_attribute {
        node.error(format_args!(
            "`{key}`: `{}` does not name a task attribute: write `task.` and the attribute holding the worker's {}, e.g. `task.{}`",
            reference.as_str(),
            if by_sid { "SID" } else { "friendly name" },
            if by_sid { "agent_sid" } else { "agent_name" }
        ));
        return None;
    }
    Some(Some(if by_sid {
        KnownWorker::Sid(reference)
    } else {
        KnownWorker::FriendlyName(reference)
    }))
}

fn is_worker_attribute(reference: &Reference) -> bool {
    matches!(reference.segments(), [Segment::Key(root), _, ..] if root == "worker")
}

/// What is wrong with `reference` at `place`, or `None`. A `taskrouter.` reference reaching
/// here names one of TaskRouter's time-of-day attributes: the expression parser refuses any
/// other (with a suggestion), in every place.
fn reference_problem(reference: &Reference, place: Place) -> Option<String> {
    let segments = reference.segments();
    match place {
        Place::Filter => None,
        Place::Target => match segments {
            _ if reference.time_of_day().is_some() => None,
            [Segment::Key(root), ..] if root == "task" || root == "worker" => None,
            _ => Some(format!(
                "is not prefixed: in a target expression every reference starts with `task.` or `worker.`; write `task.{reference}` or `worker.{reference}`"
            )),
        },
        Place::SkipIf => skip_if_problem(segments),
    }
}

/// `workers.available`, `workers.unavailable`, `workers.WA…`
/// (<https://www.twilio.com/docs/taskrouter/worker-presence>).
fn skip_if_problem(segments: &[Segment]) -> Option<String> {
    let listed = "skip_if reads `workers.available`, `workers.unavailable` and `workers.WA…` (how many of the queue's workers are in an available activity, an unavailable one, or that activity)";
    match segments {
        [Segment::Key(root), Segment::Key(name)] if root == "workers" => {
            if name == "available" || name == "unavailable" {
                None
            } else if name.len() > 2 && name[..2].eq_ignore_ascii_case("wa") {
                ActivitySid::parse(name)
                    .err()
                    .map(|error| format!("names no activity: {error}"))
            } else {
                Some(match suggest(name, ["available", "unavailable"]) {
                    Some(known) => {
                        format!("is not a skip_if variable: did you mean `workers.{known}`?")
                    }
                    None => format!("is not a skip_if variable: {listed}"),
                })
            }
        }
        _ => Some(format!("is not a skip_if variable: {listed}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q1: &str = "WQ00000000000000000000000000000001";

    /// The messages of a document that must not parse, each after its place.
    fn errors(text: &str) -> Vec<String> {
        Workflow::parse(text)
            .expect_err("the document is invalid")
            .all()
            .iter()
            .map(|problem| {
                assert_eq!(problem.severity, Severity::Error);
                problem.describe()
            })
            .collect()
    }

    /// A document with one filter holding `target`, then the same filter with `filter` keys.
    fn with_target(target: &str) -> String {
        format!(
            r#"{{"task_routing": {{"filters": [{{"filter_friendly_name": "f", "expression": "1 == 1", "targets": [{target}]}}], "default_filter": {{"queue": "{Q1}"}}}}}}"#
        )
    }

    fn with_filter(filter: &str) -> String {
        format!(r#"{{"task_routing": {{"filters": [{filter}]}}}}"#)
    }

    #[test]
    fn every_shipped_example_parses() {
        let mut parsed = 0;
        for (path, text) in crate::workflow::test_support::examples() {
            if let Err(invalid) = Workflow::parse(&text) {
                panic!("{}:\n{invalid}", path.display());
            }
            parsed += 1;
        }
        assert_eq!(parsed, 5, "the five documented examples");
    }

    #[test]
    fn a_minimal_document_parses_into_the_model() {
        let workflow = Workflow::parse(&with_target(&format!(
            r#"{{"queue": "{Q1}", "expression": "worker.level > 1", "priority": 5, "timeout": 30,
                "order_by": "worker.level desc, worker.tenure ASC", "skip_if": "workers.available == 0"}},
               {{"known_worker_friendly_name": "task.agent"}}"#
        )))
        .expect("valid");
        let filter = &workflow.filters()[0];
        assert_eq!(filter.name(), Some("f"));
        assert_eq!(filter.expression().source(), "1 == 1");
        let [first, second] = filter.targets() else {
            panic!("two targets")
        };
        assert_eq!(first.queue().map(TaskQueueSid::as_str), Some(Q1));
        assert_eq!(
            first.expression().map(Expression::source),
            Some("worker.level > 1")
        );
        assert_eq!((first.priority(), first.timeout()), (Some(5), Some(30)));
        let clauses: Vec<String> = first.order_by().iter().map(ToString::to_string).collect();
        assert_eq!(clauses, ["worker.level DESC", "worker.tenure ASC"]);
        assert_eq!(
            first.skip_if().map(Expression::source),
            Some("workers.available == 0")
        );
        assert_eq!(second.queue(), None, "inherited");
        assert_eq!(
            second.known_worker(),
            Some(&KnownWorker::FriendlyName(
                Reference::parse("task.agent").expect("valid")
            ))
        );
        assert_eq!(
            workflow
                .default_filter()
                .and_then(Target::queue)
                .map(TaskQueueSid::as_str),
            Some(Q1)
        );
    }

    #[test]
    fn numbers_may_be_written_as_strings_or_whole_floats() {
        // Twilio's known-agent page writes "priority": "100", "timeout": "10".
        let cases = [
            (r#""100""#, Some(100), "a string"),
            (r#"" 7 ""#, Some(7), "a string with spaces"),
            ("12.0", Some(12), "a whole float"),
            ("0", Some(0), "zero"),
            ("2147483647", Some(2_147_483_647), "the largest priority"),
        ];
        for (written, expected, why) in cases {
            let workflow = Workflow::parse(&with_target(&format!(
                r#"{{"queue": "{Q1}", "priority": {written}}}"#
            )))
            .unwrap_or_else(|invalid| panic!("{why}: {invalid}"));
            assert_eq!(
                workflow.filters()[0].targets()[0].priority(),
                expected,
                "{why}"
            );
        }
    }

    #[test]
    fn structural_errors_name_the_place_and_what_to_write() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str)] = &[
            ("[]", "the configuration: expected a Workflow configuration (an object), found an array", "not an object"),
            ("{}", "the configuration: missing key `task_routing`: the configuration is {\"task_routing\": {\"filters\": […], \"default_filter\": {…}}}", "empty"),
            (r#"{"filters": []}"#, "the configuration: missing key `task_routing`: `filters` and `default_filter` belong inside it: {\"task_routing\": {\"filters\": […], \"default_filter\": {…}}}", "the inside pasted alone"),
            (r#"{"task_routing": {}, "taskrouting": 1}"#, "the configuration: unknown key `taskrouting`: did you mean `task_routing`?", "a typo at the top"),
            (r#"{"task_routing": {"filter": []}}"#, "task_routing: unknown key `filter`: did you mean `filters`?", "singular filters"),
            (r#"{"task_routing": {"filters": {}}}"#, "task_routing: `filters`: expected an array of filters, found an object", "filters as an object"),
            (r#"{"task_routing": {"filters": [1]}}"#, "filters[0]: expected a filter (an object), found a number", "a filter that is a number"),
            (r#"{"task_routing": {"default_filter": {}}}"#, "default_filter: missing key `queue`: name the queue of tasks no filter matches, e.g. {\"queue\": \"WQ…\"}", "a default without queue"),
            (r#"{"task_routing": {"default_filter": {"queue": "WQ00000000000000000000000000000001", "timeout": 30}}}"#, "default_filter: `timeout` is not allowed here: the default filter holds a task until its TTL, and it does not count as a subsequent filter for the purposes of a timeout (https://www.twilio.com/docs/taskrouter/workflow-configuration); remove it", "a timeout on the default filter"),
        ];
        for (text, message, why) in cases {
            assert_eq!(errors(text), [*message], "{why}");
        }
    }

    #[test]
    fn filter_errors_name_the_filter_by_index_and_name() {
        #[rustfmt::skip]
        let cases: &[(String, &str, &str)] = &[
            (with_filter(r#"{"filter_friendly_name": "vip", "targets": [{"queue": "WQ00000000000000000000000000000001"}]}"#),
             "filters[0] (`vip`): missing key `expression`: write `\"expression\": \"1 == 1\"` to match every task", "no expression"),
            (with_filter(r#"{"expression": "1 == 1"}"#),
             "filters[0]: missing key `targets`: list the queues a matching task waits in, e.g. [{\"queue\": \"WQ…\"}]", "no targets"),
            (with_filter(r#"{"filter_friendly_name": "vip", "expression": "1 == 1", "targets": []}"#),
             "filters[0] (`vip`): `targets` is empty: a matching task would have no queue to wait in; add a target or remove the filter", "empty targets"),
            (with_filter(r#"{"filter_friendly_name": "vip", "expression": " ", "targets": [{"queue": "WQ00000000000000000000000000000001"}]}"#),
             "filters[0] (`vip`): `expression` is empty: write `1 == 1` to match every task", "blank expression"),
            (with_filter(r#"{"filter_friendly_name": 7, "expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001"}]}"#),
             "filters[0]: `filter_friendly_name`: expected a string, found a number", "a numeric name"),
            (with_filter(r#"{"filter_friendly_name": "a", "friendly_name": "b", "expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001"}]}"#),
             "filters[0]: both `filter_friendly_name` and `friendly_name`: they name the same thing; keep `filter_friendly_name`", "both spellings"),
            (with_filter(r#"{"friendly_name": "old", "expresion": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001"}]}"#),
             "filters[0] (`old`): unknown key `expresion`: did you mean `expression`?\nfilters[0] (`old`): missing key `expression`: write `\"expression\": \"1 == 1\"` to match every task",
             "the older spelling names the filter; a typo, and so no expression"),
            (with_filter(r#"{"expression": "1 == 1", "targets": [{"timeout": 5}]}"#),
             "filters[0], targets[0]: missing key `queue`: the first target of a filter has no earlier target to inherit a queue from", "nothing to inherit"),
        ];
        for (text, message, why) in cases {
            assert_eq!(errors(text).join("\n"), *message, "{why}");
        }
    }

    #[test]
    fn target_errors_name_the_target_and_the_key() {
        let at = "filters[0] (`f`), targets[0]";
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str)] = &[
            (r#"{"queue": "WQ1"}"#, "`queue`: `WQ1` is not a valid task queue SID: expected `WQ` followed by 32 hex digits", "a short SID"),
            (r#"{"queue": "WK00000000000000000000000000000001"}"#, "`queue`: `WK00000000000000000000000000000001` is not a valid task queue SID: expected `WQ` followed by 32 hex digits", "a worker SID"),
            (r#"{"queue": 1}"#, "`queue`: expected a task queue SID (WQ…), found a number", "a number"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "timout": 10}"#, "unknown key `timout`: did you mean `timeout`?", "a typo"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "Queue": "x"}"#, "unknown key `Queue`: did you mean `queue`?", "case"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "max_workers": 2}"#, "unknown key `max_workers`: a target has `queue`, `expression`, `priority`, `timeout`, `order_by`, `skip_if`, `known_worker_sid` or `known_worker_friendly_name`", "no close key"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "priority": -1}"#, "`priority` is -1: expected a whole number from 0 to 2147483647 (a task's priority is at most 2^31 − 1)", "negative priority"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "priority": 2147483648}"#, "`priority` is 2147483648: expected a whole number from 0 to 2147483647 (a task's priority is at most 2^31 − 1)", "priority too large"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "timeout": 1209601}"#, "`timeout` is 1209601: expected a whole number from 1 to 1209600 (seconds: a target's timeout must be a positive integer, https://www.twilio.com/docs/taskrouter/workflow-configuration; no step can outlast the longest task TTL, 14 days)", "timeout too large"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "timeout": 0}"#, "`timeout` is 0: expected a whole number from 1 to 1209600 (seconds: a target's timeout must be a positive integer, https://www.twilio.com/docs/taskrouter/workflow-configuration; no step can outlast the longest task TTL, 14 days)", "a zero timeout: Twilio requires a positive integer"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "timeout": "0"}"#, "`timeout` is \"0\": expected a whole number from 1 to 1209600 (seconds: a target's timeout must be a positive integer, https://www.twilio.com/docs/taskrouter/workflow-configuration; no step can outlast the longest task TTL, 14 days)", "zero as a string"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "timeout": "-5"}"#, "`timeout` is \"-5\": expected a whole number from 1 to 1209600 (seconds: a target's timeout must be a positive integer, https://www.twilio.com/docs/taskrouter/workflow-configuration; no step can outlast the longest task TTL, 14 days)", "a negative string"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "timeout": 1.5}"#, "`timeout` is 1.5: expected a whole number", "a fraction"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "timeout": "soon"}"#, "`timeout` is \"soon\": expected a whole number", "words"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "timeout": true}"#, "`timeout`: expected a whole number, found a boolean", "a boolean"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "expression": ""}"#, "`expression` is empty: leave it out to offer the task to every worker of the queue", "an empty target expression"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "expression": "level > 1"}"#, "`expression`: `level` is not prefixed: in a target expression every reference starts with `task.` or `worker.`; write `task.level` or `worker.level`", "a bare key in a target"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "skip_if": "workers.availble == 0"}"#, "`skip_if`: `workers.availble` is not a skip_if variable: did you mean `workers.available`?", "a typo in skip_if"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "skip_if": "worker.level == 0"}"#, "`skip_if`: `worker.level` is not a skip_if variable: skip_if reads `workers.available`, `workers.unavailable` and `workers.WA…` (how many of the queue's workers are in an available activity, an unavailable one, or that activity)", "a worker attribute in skip_if"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "skip_if": "workers.WA123 > 2"}"#, "`skip_if`: `workers.WA123` names no activity: `WA123` is not a valid activity SID: expected `WA` followed by 32 hex digits", "a short activity SID"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "skip_if": ""}"#, "`skip_if` is empty: leave it out, or write e.g. `workers.available == 0`", "an empty skip_if"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "known_worker_sid": "agent_sid"}"#, "`known_worker_sid`: `agent_sid` does not name a task attribute: write `task.` and the attribute holding the worker's SID, e.g. `task.agent_sid`", "a bare known worker"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "known_worker_friendly_name": "worker.name"}"#, "`known_worker_friendly_name`: `worker.name` does not name a task attribute: write `task.` and the attribute holding the worker's friendly name, e.g. `task.agent_name`", "a worker reference"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "known_worker_sid": "task.a", "known_worker_friendly_name": "task.b"}"#, "both `known_worker_sid` and `known_worker_friendly_name`: TaskRouter takes one or the other; keep one", "both known worker keys"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "known_worker_sid": 5}"#, "`known_worker_sid`: expected a task attribute reference such as \"task.agent_sid\", found a number", "a number"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "order_by": "worker.level"}"#, "`order_by` clause `worker.level` has no direction: add ASC or DESC", "no direction"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "order_by": "worker.level UP"}"#, "`order_by` clause `worker.level UP` has the direction `UP`: write ASC or DESC", "a wrong direction"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "order_by": "level DESC"}"#, "`order_by` clause `level DESC` does not name a worker attribute: write `worker.level DESC`", "a bare attribute"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "order_by": "worker.level DESC,"}"#, "`order_by` clause `` is empty: separate clauses with single commas, e.g. `worker.level DESC, worker.tenure ASC`", "a trailing comma"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "order_by": "worker.level DESC worker.tenure ASC"}"#, "`order_by` clause `worker.level DESC worker.tenure ASC` has more than an attribute and a direction: write `worker.<attribute> ASC|DESC` and separate clauses with commas", "a missing comma"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "order_by": ""}"#, "`order_by` is empty: leave it out (the worker idle longest goes first), or write e.g. `worker.level DESC`", "empty"),
            (r#"{"queue": "WQ00000000000000000000000000000001", "order_by": ["worker.level DESC"]}"#, "`order_by`: expected a string such as \"worker.level DESC\", found an array", "an array"),
        ];
        for (target, message, why) in cases {
            assert_eq!(
                errors(&with_target(target)),
                [format!("{at}: {message}")],
                "{why}"
            );
        }
    }

    #[test]
    fn time_of_day_references_are_checked_by_the_expression_parser_in_every_place() {
        // The parser refuses what TaskRouter does not fill in, with its caret and suggestion;
        // the workflow adds only where each place may read it.
        let text = with_filter(&format!(
            r#"{{"filter_friendly_name": "open", "expression": "taskrouter.currentTme > 800", "targets": [{{"queue": "{Q1}", "expression": "taskrouter.dayofweek == 'Mon'"}}]}}"#
        ));
        insta::assert_snapshot!(errors(&text).join("\n"), @r"
        filters[0] (`open`): `expression` is not a valid expression: unknown time-of-day attribute `taskrouter.currentTme` at column 1
          taskrouter.currentTme > 800
          ^ did you mean `taskrouter.currentTime`? TaskRouter fills taskrouter. followed by one of currentTime, currentHour, currentMin, dayOfWeek
        filters[0] (`open`), targets[0]: `expression` is not a valid expression: unknown time-of-day attribute `taskrouter.dayofweek` at column 1
          taskrouter.dayofweek == 'Mon'
          ^ did you mean `taskrouter.dayOfWeek`? Names are case-sensitive
        ");
        let accepted = with_target(&format!(
            r#"{{"queue": "{Q1}", "expression": "worker.shift == 'day' AND taskrouter.currentHour >= 8"}}"#
        ));
        assert!(
            Workflow::parse(&accepted).is_ok(),
            "a target expression may read the time of day unprefixed by task. or worker."
        );
        let in_skip_if = with_target(&format!(
            r#"{{"queue": "{Q1}", "skip_if": "taskrouter.currentHour > 17"}}"#
        ));
        assert_eq!(
            errors(&in_skip_if),
            [
                "filters[0] (`f`), targets[0]: `skip_if`: `taskrouter.currentHour` is not a skip_if variable: skip_if reads `workers.available`, `workers.unavailable` and `workers.WA…` (how many of the queue's workers are in an available activity, an unavailable one, or that activity)"
            ],
            "skip_if reads worker counts only"
        );
    }

    #[test]
    fn an_expression_error_shows_the_caret_of_the_rules() {
        let text = with_filter(&format!(
            r#"{{"filter_friendly_name": "voice", "expression": "call_sid != null AND", "targets": [{{"queue": "{Q1}"}}]}}"#
        ));
        insta::assert_snapshot!(errors(&text).join("\n"), @r"
        filters[0] (`voice`): `expression` is not a valid expression: unexpected end of expression at column 21
          call_sid != null AND
                              ^ a condition starts with a value, a key or (
        ");
    }

    #[test]
    fn twilios_time_of_day_example_as_printed_parses_with_its_single_equals_sign_and_thu() {
        // https://www.twilio.com/docs/taskrouter/time-of-day-routing (docs/taskrouter.md §5),
        // verbatim.
        let printed = "(taskrouter.dayOfWeek IN ['Mon', 'Tue', 'THU'] AND taskrouter.currentTime > 800 AND taskrouter.currentTime < 1730) OR (taskrouter.dayOfWeek IN ['Wed', 'Fri'] AND taskrouter.currentTime > 900 AND taskrouter.currentTime < 1830) OR (taskrouter.dayOfWeek = 'Sat' AND taskrouter.currentTime > 1100 AND taskrouter.currentTime < 1530)";
        let text = with_filter(&format!(
            r#"{{"filter_friendly_name": "MyFilterName", "expression": "{printed}", "targets": [{{"queue": "{Q1}"}}]}}"#
        ));
        let workflow = Workflow::parse(&text).unwrap_or_else(|invalid| panic!("{invalid}"));
        assert!(workflow.uses_time_of_day());
        assert_eq!(
            workflow.filters()[0].expression().canonical(),
            "(taskrouter.dayOfWeek IN ['Mon', 'Tue', 'Thu'] AND taskrouter.currentTime > 800 AND taskrouter.currentTime < 1730) OR (taskrouter.dayOfWeek IN ['Wed', 'Fri'] AND taskrouter.currentTime > 900 AND taskrouter.currentTime < 1830) OR (taskrouter.dayOfWeek == 'Sat' AND taskrouter.currentTime > 1100 AND taskrouter.currentTime < 1530)",
            "`=` is `==` and 'THU' is Thursday"
        );
    }

    #[test]
    fn every_error_of_a_document_is_reported_at_once_in_document_order() {
        let text = r#"{"task_routing": {
            "filters": [
              {"filter_friendly_name": "a", "expression": "type ==", "targets": [{"queue": "WQ1", "timout": 5}]},
              {"filter_friendly_name": "b", "expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001", "priority": -3}]}
            ],
            "default_filter": {"queue": "nope"}
        }}"#;
        insta::assert_snapshot!(errors(text).join("\n"), @r"
        filters[0] (`a`): `expression` is not a valid expression: unexpected end of expression at column 8
          type ==
                 ^ expected a value after ==
        filters[0] (`a`), targets[0]: unknown key `timout`: did you mean `timeout`?
        filters[0] (`a`), targets[0]: `queue`: `WQ1` is not a valid task queue SID: expected `WQ` followed by 32 hex digits
        filters[1] (`b`), targets[0]: `priority` is -3: expected a whole number from 0 to 2147483647 (a task's priority is at most 2^31 − 1)
        default_filter: `queue`: `nope` is not a valid task queue SID: expected `WQ` followed by 32 hex digits
        ");
    }

    #[test]
    fn a_document_over_1_mb_is_refused_with_its_other_errors() {
        // https://www.twilio.com/docs/taskrouter/limits (docs/taskrouter.md §12): 1 MB, whitespace
        // included.
        let document = r#"{"task_routing": {"filters": []}}"#;
        let padded = |size: usize| format!("{document}{}", " ".repeat(size - document.len()));
        assert!(
            Workflow::parse(&padded(MAX_CONFIGURATION_BYTES)).is_ok(),
            "exactly 1,048,576 bytes"
        );
        assert_eq!(
            errors(&padded(MAX_CONFIGURATION_BYTES + 1)),
            [
                "the configuration: 1048577 bytes is over TaskRouter's limit of 1 MB (1048576 bytes, https://www.twilio.com/docs/taskrouter/limits); split the routing across Workflows or shorten the expressions"
            ]
        );
        let broken = format!(
            "{{\"task_routing\": 1}}{}",
            " ".repeat(MAX_CONFIGURATION_BYTES)
        );
        assert_eq!(
            errors(&broken).len(),
            2,
            "the size, and what else is wrong: {:?}",
            errors(&broken)
        );
    }

    #[test]
    fn invalid_json_is_one_error_with_line_and_column() {
        let problems = Workflow::read(
            "flows/helpline.json",
            "{\"task_routing\": {\n  \"filters\": [,]}}",
        )
        .expect_err("not JSON");
        assert_eq!(
            problems.to_string(),
            "flows/helpline.json:2:15: error: not valid JSON: expected value"
        );
    }

    #[test]
    fn every_problem_is_at_its_line_column_and_pointer() {
        let text = r#"{"task_routing": {
  "filters": [
    {"filter_friendly_name": "a", "expression": "type ==",
     "targets": [{"queue": "WQ1", "timout": 5}]}
  ],
  "default_filter": {"queue": 7}
}}"#;
        let problems = Workflow::read("flow.json", text).expect_err("invalid");
        let found: Vec<(Option<(usize, usize)>, &str)> = problems
            .all()
            .iter()
            .map(|problem| (problem.position, problem.pointer.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (Some((3, 49)), "/task_routing/filters/0/expression"),
                (Some((4, 35)), "/task_routing/filters/0/targets/0/timout"),
                (Some((4, 28)), "/task_routing/filters/0/targets/0/queue"),
                (Some((6, 31)), "/task_routing/default_filter/queue"),
            ],
            "{problems}"
        );
        assert!(
            problems.to_string().starts_with(
                "flow.json:3:49: error: filters[0] (`a`): `expression` is not a valid expression"
            ),
            "{problems}"
        );
    }

    #[test]
    fn a_check_locates_each_warning_and_a_repeated_key() {
        let text = format!(
            r#"{{"task_routing": {{
  "filters": [
    {{"filter_friendly_name": "all", "expression": "1 == 1", "targets": [{{"queue": "{Q1}"}}]}},
    {{"filter_friendly_name": "late", "expression": "type == 'x'", "expression": "2 == 2",
     "targets": [{{"queue": "{Q1}"}}]}}
  ]
}}}}"#
        );
        let (_, warnings) = Workflow::check("flow.json", &text).expect("valid");
        let lines: Vec<String> = warnings.all().iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "flow.json:4:5: warning: filters[1] (`late`): never reached: filters[0] (`all`) matches every task (`1 == 1`) and keeps it; move this filter above it",
                "flow.json:1:18: warning: task_routing: no `default_filter`: a task that matches no filter has no queue to wait in; add \"default_filter\": {\"queue\": \"WQ…\"}",
                "flow.json:4:67: warning: `expression` is given more than once in the same object: only the last one is read; remove the others",
            ]
        );
        assert!(
            Workflow::read("flow.json", &text).is_ok(),
            "warnings are not errors"
        );
    }

    #[test]
    fn a_configuration_inside_a_larger_document_is_read_by_the_same_walk() {
        let text = r#"{"workflows": [{"configuration": {"task_routing": {"filters": [{"expression": "1 ==", "targets": []}]}}}]}"#;
        let (reader, value) = Reader::parse("workspace.json", text).expect("JSON");
        let root = reader.root(&value);
        let workflows = root
            .member("workflows")
            .expect("present")
            .array()
            .expect("an array");
        let node = workflows[0].member("configuration").expect("present");
        assert!(Workflow::from_node(&node).is_none());
        let problems = reader.finish();
        let lines: Vec<String> = problems.all().iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 2, "{problems}");
        assert!(
            lines[0].starts_with("workspace.json:1:79: error: workflows[0], `configuration`, filters[0]: `expression` is not a valid expression"),
            "{problems}"
        );
        assert_eq!(
            lines[1],
            "workspace.json:1:98: error: workflows[0], `configuration`, filters[0]: `targets` is empty: a matching task would have no queue to wait in; add a target or remove the filter"
        );
    }
}
