//! From JSON text to a [`Workflow`]: every problem in the document, each with its place.
//!
//! The document is walked as a [`serde_json::Value`] rather than derived with serde, as the
//! rules document is, so that all problems are reported at once (serde stops at the first), each
//! unknown key gets a suggestion, and numbers written as strings are read as Twilio's own pages
//! write them.

use std::fmt;

use serde_json::{Map, Value};

use super::{
    Direction, Filter, KnownWorker, MAX_CONFIGURATION_BYTES, MAX_PRIORITY, MAX_TIMEOUT,
    MIN_TIMEOUT, OrderBy, Target, Workflow, filter_place,
};
use crate::document::{json_kind, suggest, unknown_keys};
use crate::expression::{Expression, Reference, Segment, SyntaxError};
use crate::sid::{ActivitySid, SidError, TaskQueueSid};

/// Keys of the document.
const DOCUMENT_KEYS: &[&str] = &["task_routing"];
/// Keys of `task_routing`.
const ROUTING_KEYS: &[&str] = &["filters", "default_filter"];
/// Keys of a filter.
const FILTER_KEYS: &[&str] = &[
    "filter_friendly_name",
    "friendly_name",
    "expression",
    "targets",
];
/// Keys of a target and of `default_filter`.
const TARGET_KEYS: &[&str] = &[
    "queue",
    "expression",
    "priority",
    "timeout",
    "order_by",
    "skip_if",
    "known_worker_sid",
    "known_worker_friendly_name",
];

/// A problem that makes a Workflow configuration unusable.
///
/// `at` names the place: `the configuration`, `task_routing`, ``filters[1] (`Sales Calls`)``,
/// ``filters[1] (`Sales Calls`), targets[0]`` or `default_filter`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkflowError {
    /// The text is larger than TaskRouter accepts.
    #[error(
        "the configuration is {bytes} bytes: TaskRouter takes at most 1 MB ({max} bytes, https://www.twilio.com/docs/taskrouter/limits); split the routing across Workflows or shorten the expressions"
    )]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The largest size.
        max: usize,
    },
    /// The text is not JSON.
    #[error("the configuration is not valid JSON: {reason}")]
    Json {
        /// The parser's message, with line and column.
        reason: String,
    },
    /// A value has the wrong JSON type.
    #[error("{at}: expected {expected}, found {found}")]
    Type {
        /// Where, including the key.
        at: String,
        /// What was expected.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// An object has a key the format does not define.
    #[error("{at}: unknown key `{key}`: {}", unknown_key_hint(.suggestion, .expected))]
    UnknownKey {
        /// The object holding the key.
        at: String,
        /// The key.
        key: String,
        /// A defined key close to it.
        suggestion: Option<&'static str>,
        /// The keys defined there.
        expected: &'static [&'static str],
    },
    /// A required key is absent.
    #[error("{at}: missing key `{key}`{hint}")]
    MissingKey {
        /// The object lacking the key.
        at: String,
        /// The key.
        key: &'static str,
        /// What to write, starting with `: `, or empty.
        hint: &'static str,
    },
    /// Two keys that exclude each other are both present.
    #[error("{at}: both `{first}` and `{second}`: {hint}")]
    BothKeys {
        /// The object.
        at: String,
        /// One key.
        first: &'static str,
        /// The other.
        second: &'static str,
        /// What to do.
        hint: &'static str,
    },
    /// A string that must say something is empty.
    #[error("{at}: `{field}` is empty: {hint}")]
    Empty {
        /// The object.
        at: String,
        /// The key.
        field: &'static str,
        /// What to write instead.
        hint: &'static str,
    },
    /// An expression does not parse.
    #[error("{at}: `{field}` is not a valid expression: {source}")]
    Syntax {
        /// The object.
        at: String,
        /// The key holding the expression.
        field: &'static str,
        /// The parser's error: message and column, the text, a caret under the problem.
        source: SyntaxError,
    },
    /// A SID is malformed.
    #[error("{at}: `{field}`: {source}")]
    Sid {
        /// The object.
        at: String,
        /// The key holding the SID.
        field: &'static str,
        /// What is wrong with it.
        source: SidError,
    },
    /// A number that must be whole is not.
    #[error("{at}: `{field}` is {value}: expected a whole number")]
    NotWholeNumber {
        /// The object.
        at: String,
        /// The key.
        field: &'static str,
        /// The value as written.
        value: String,
    },
    /// A number is out of its range.
    #[error("{at}: `{field}` is {value}: expected a whole number from {min} to {max} ({why})")]
    OutOfRange {
        /// The object.
        at: String,
        /// The key.
        field: &'static str,
        /// The value as written.
        value: String,
        /// The smallest value allowed.
        min: u64,
        /// The largest value allowed.
        max: u64,
        /// Where the bound comes from.
        why: &'static str,
    },
    /// A reference that cannot name what its place reads.
    #[error("{at}: `{field}`: `{reference}` {problem}")]
    Reference {
        /// The object.
        at: String,
        /// The key holding the expression or reference.
        field: &'static str,
        /// The reference as written.
        reference: String,
        /// What is wrong and what to write.
        problem: String,
    },
    /// A key the format defines, in a place that does not take it.
    #[error("{at}: `{key}` is not allowed here: {why}")]
    NotAllowed {
        /// The object.
        at: String,
        /// The key.
        key: &'static str,
        /// Why, and what to do.
        why: &'static str,
    },
    /// A filter has no targets.
    #[error(
        "{at}: `targets` is empty: a matching task would have no queue to wait in; add a target or remove the filter"
    )]
    NoTargets {
        /// The filter.
        at: String,
    },
    /// An `order_by` clause is malformed.
    #[error("{at}: `order_by` clause `{clause}` {problem}")]
    OrderBy {
        /// The target.
        at: String,
        /// The clause as written.
        clause: String,
        /// What is wrong and what to write.
        problem: String,
    },
}

fn unknown_key_hint(suggestion: &Option<&'static str>, expected: &[&str]) -> String {
    match suggestion {
        Some(suggestion) => format!("did you mean `{suggestion}`?"),
        None => format!(
            "expected one of {}",
            expected
                .iter()
                .map(|key| format!("`{key}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Every problem found in a Workflow configuration, in document order; never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The problems.
    pub errors: Vec<WorkflowError>,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.errors.iter().map(WorkflowError::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for Invalid {}

impl Workflow {
    /// Parses a Workflow configuration: the `Configuration` JSON, `{"task_routing": …}`.
    ///
    /// # Errors
    ///
    /// [`Invalid`] with every problem found: JSON that does not parse, wrong types, unknown keys
    /// (with a suggestion), missing keys, expressions that do not parse (with a caret) or
    /// reference what their place cannot read, malformed SIDs, numbers out of range, malformed
    /// `order_by` clauses, a filter without targets, a `timeout` on `default_filter`, a text
    /// over 1 MB.
    pub fn parse(text: &str) -> Result<Workflow, Invalid> {
        let mut parser = Parser::default();
        if text.len() > MAX_CONFIGURATION_BYTES {
            // Reported with whatever else is wrong: the size alone makes it unusable.
            parser.errors.push(WorkflowError::TooLarge {
                bytes: text.len(),
                max: MAX_CONFIGURATION_BYTES,
            });
        }
        let document: Value = match serde_json::from_str(text) {
            Ok(document) => document,
            Err(error) => {
                parser.errors.push(WorkflowError::Json {
                    reason: error.to_string(),
                });
                return Err(Invalid {
                    errors: parser.errors,
                });
            }
        };
        let workflow = parser.document(&document);
        match workflow {
            Some(workflow) if parser.errors.is_empty() => Ok(workflow),
            _ => Err(Invalid {
                errors: parser.errors,
            }),
        }
    }
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

#[derive(Default)]
struct Parser {
    errors: Vec<WorkflowError>,
}

impl Parser {
    fn document(&mut self, document: &Value) -> Option<Workflow> {
        let document = self.object(document, "the configuration", "a JSON object")?;
        let Some(routing) = document.get("task_routing") else {
            let pasted_inside =
                document.contains_key("filters") || document.contains_key("default_filter");
            self.errors.push(WorkflowError::MissingKey {
                at: "the configuration".to_owned(),
                key: "task_routing",
                hint: if pasted_inside {
                    ": `filters` and `default_filter` belong inside it: {\"task_routing\": {\"filters\": […], \"default_filter\": {…}}}"
                } else {
                    ": the configuration is {\"task_routing\": {\"filters\": […], \"default_filter\": {…}}}"
                },
            });
            if !pasted_inside {
                self.check_keys(document, "the configuration", DOCUMENT_KEYS);
            }
            return None;
        };
        self.check_keys(document, "the configuration", DOCUMENT_KEYS);
        let routing = self.object(
            routing,
            "task_routing",
            "an object with `filters` and `default_filter`",
        )?;
        self.check_keys(routing, "task_routing", ROUTING_KEYS);
        let filters = match routing.get("filters") {
            None => Some(Vec::new()),
            Some(Value::Array(specs)) => {
                let filters: Vec<Option<Filter>> = specs
                    .iter()
                    .enumerate()
                    .map(|(index, spec)| self.filter(index, spec))
                    .collect();
                filters.into_iter().collect()
            }
            Some(other) => {
                self.type_error("task_routing: `filters`", "an array of filters", other);
                None
            }
        };
        let default_filter = match routing.get("default_filter") {
            None => Some(None),
            Some(spec) => self
                .target("default_filter".to_owned(), spec, true)
                .map(Some),
        };
        Some(Workflow {
            filters: filters?,
            default_filter: default_filter?,
        })
    }

    fn filter(&mut self, index: usize, spec: &Value) -> Option<Filter> {
        let bare = filter_place(index, None);
        let spec = self.object(
            spec,
            &bare,
            "a filter object with `expression` and `targets`",
        )?;
        let name = self.filter_name(spec, &bare);
        let at = match &name {
            Some(Some(name)) => filter_place(index, Some(name)),
            _ => bare,
        };
        self.check_keys(spec, &at, FILTER_KEYS);
        let expression = match spec.get("expression") {
            None => {
                self.errors.push(WorkflowError::MissingKey {
                    at: at.clone(),
                    key: "expression",
                    hint: ": write `\"expression\": \"1 == 1\"` to match every task",
                });
                None
            }
            Some(value) => self.expression(value, &at, "expression", Place::Filter),
        };
        let targets = match spec.get("targets") {
            None => {
                self.errors.push(WorkflowError::MissingKey {
                    at: at.clone(),
                    key: "targets",
                    hint: ": list the queues a matching task waits in, e.g. [{\"queue\": \"WQ…\"}]",
                });
                None
            }
            Some(Value::Array(specs)) if specs.is_empty() => {
                self.errors
                    .push(WorkflowError::NoTargets { at: at.clone() });
                None
            }
            Some(Value::Array(specs)) => {
                let targets: Vec<Option<Target>> = specs
                    .iter()
                    .enumerate()
                    .map(|(position, spec)| {
                        self.target(format!("{at}, targets[{position}]"), spec, position == 0)
                    })
                    .collect();
                targets.into_iter().collect()
            }
            Some(other) => {
                self.type_error(&format!("{at}: `targets`"), "an array of targets", other);
                None
            }
        };
        Some(Filter {
            name: name?,
            expression: expression?,
            targets: targets?,
        })
    }

    /// `filter_friendly_name`, or Twilio's older spelling `friendly_name`.
    fn filter_name(&mut self, spec: &Map<String, Value>, at: &str) -> Option<Option<String>> {
        if spec.contains_key("filter_friendly_name") && spec.contains_key("friendly_name") {
            self.errors.push(WorkflowError::BothKeys {
                at: at.to_owned(),
                first: "filter_friendly_name",
                second: "friendly_name",
                hint: "they name the same thing; keep `filter_friendly_name`",
            });
            return None;
        }
        let (key, value) = match (spec.get("filter_friendly_name"), spec.get("friendly_name")) {
            (Some(value), _) => ("filter_friendly_name", value),
            (None, Some(value)) => ("friendly_name", value),
            (None, None) => return Some(None),
        };
        match value {
            Value::String(name) => Some(Some(name.clone())),
            other => {
                self.type_error(&format!("{at}: `{key}`"), "a string", other);
                None
            }
        }
    }

    fn target(&mut self, at: String, spec: &Value, needs_queue: bool) -> Option<Target> {
        let spec = self.object(spec, &at, "a target object with `queue`")?;
        self.check_keys(spec, &at, TARGET_KEYS);
        let queue = match spec.get("queue") {
            None if needs_queue => {
                self.errors.push(WorkflowError::MissingKey {
                    at: at.clone(),
                    key: "queue",
                    hint: if at == "default_filter" {
                        ": name the queue of tasks no filter matches, e.g. {\"queue\": \"WQ…\"}"
                    } else {
                        ": the first target of a filter has no earlier target to inherit a queue from"
                    },
                });
                None
            }
            None => Some(None),
            Some(Value::String(text)) => match TaskQueueSid::parse(text) {
                Ok(sid) => Some(Some(sid)),
                Err(source) => {
                    self.errors.push(WorkflowError::Sid {
                        at: at.clone(),
                        field: "queue",
                        source,
                    });
                    None
                }
            },
            Some(other) => {
                self.type_error(&format!("{at}: `queue`"), "a task queue SID (WQ…)", other);
                None
            }
        };
        let expression = self.optional_expression(spec, &at, "expression", Place::Target);
        let priority = self.number(
            spec,
            &at,
            "priority",
            (0, MAX_PRIORITY),
            "a task's priority is at most 2^31 − 1",
        );
        let timeout = if at == "default_filter" && spec.contains_key("timeout") {
            self.errors.push(WorkflowError::NotAllowed {
                at: at.clone(),
                key: "timeout",
                why: "the default filter holds a task until its TTL, and it does not count as a subsequent filter for the purposes of a timeout (https://www.twilio.com/docs/taskrouter/workflow-configuration); remove it",
            });
            None
        } else {
            self.number(
                spec,
                &at,
                "timeout",
                (MIN_TIMEOUT, MAX_TIMEOUT),
                "seconds: a target's timeout must be a positive integer, https://www.twilio.com/docs/taskrouter/workflow-configuration; no step can outlast the longest task TTL, 14 days",
            )
        };
        let order_by = match spec.get("order_by") {
            None => Some(Vec::new()),
            Some(Value::String(text)) => self.order_by(text, &at),
            Some(other) => {
                self.type_error(
                    &format!("{at}: `order_by`"),
                    "a string such as \"worker.level DESC\"",
                    other,
                );
                None
            }
        };
        let skip_if = self.optional_expression(spec, &at, "skip_if", Place::SkipIf);
        let known_worker = self.known_worker(spec, &at);
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

    fn optional_expression(
        &mut self,
        spec: &Map<String, Value>,
        at: &str,
        field: &'static str,
        place: Place,
    ) -> Option<Option<Expression>> {
        match spec.get(field) {
            None => Some(None),
            Some(value) => self.expression(value, at, field, place).map(Some),
        }
    }

    fn expression(
        &mut self,
        value: &Value,
        at: &str,
        field: &'static str,
        place: Place,
    ) -> Option<Expression> {
        let Value::String(text) = value else {
            self.type_error(&format!("{at}: `{field}`"), "an expression string", value);
            return None;
        };
        if text.trim().is_empty() {
            self.errors.push(WorkflowError::Empty {
                at: at.to_owned(),
                field,
                hint: match place {
                    Place::Filter => "write `1 == 1` to match every task",
                    Place::Target => "leave it out to offer the task to every worker of the queue",
                    Place::SkipIf => "leave it out, or write e.g. `workers.available == 0`",
                },
            });
            return None;
        }
        let expression = match Expression::parse(text) {
            Ok(expression) => expression,
            Err(source) => {
                self.errors.push(WorkflowError::Syntax {
                    at: at.to_owned(),
                    field,
                    source,
                });
                return None;
            }
        };
        let before = self.errors.len();
        for reference in expression.references() {
            if let Some(problem) = reference_problem(reference, place) {
                self.errors.push(WorkflowError::Reference {
                    at: at.to_owned(),
                    field,
                    reference: reference.as_str().to_owned(),
                    problem,
                });
            }
        }
        (self.errors.len() == before).then_some(expression)
    }

    /// `priority` or `timeout`: absent, or a whole number from `min` to `max`, possibly written
    /// as a string (Twilio's known-agent page writes `"priority": "100"`) or as `10.0`.
    fn number(
        &mut self,
        spec: &Map<String, Value>,
        at: &str,
        field: &'static str,
        (min, max): (u64, u64),
        why: &'static str,
    ) -> Option<Option<u64>> {
        let value = match spec.get(field) {
            None => return Some(None),
            Some(value) => value,
        };
        let shown = value.to_string();
        let out_of_range = |value: &str| WorkflowError::OutOfRange {
            at: at.to_owned(),
            field,
            value: value.to_owned(),
            min,
            max,
            why,
        };
        let number = match value {
            Value::Number(number) => match (number.as_u64(), number.as_i64(), number.as_f64()) {
                (Some(whole), _, _) => Ok(whole),
                (None, Some(_negative), _) => Err(out_of_range(&shown)),
                (None, None, Some(float)) if float.fract() == 0.0 && float >= 0.0 => {
                    // Beyond u64, which is beyond every bound here.
                    if float < 18_446_744_073_709_551_615.0 {
                        Ok(float as u64)
                    } else {
                        Err(out_of_range(&shown))
                    }
                }
                (None, None, Some(float)) if float.fract() == 0.0 => Err(out_of_range(&shown)),
                _ => Err(WorkflowError::NotWholeNumber {
                    at: at.to_owned(),
                    field,
                    value: shown.clone(),
                }),
            },
            Value::String(text) => match text.trim().parse::<u64>() {
                Ok(whole) => Ok(whole),
                Err(_) if text.trim().parse::<i64>().is_ok() => Err(out_of_range(&shown)),
                Err(_) => Err(WorkflowError::NotWholeNumber {
                    at: at.to_owned(),
                    field,
                    value: shown.clone(),
                }),
            },
            other => {
                self.type_error(&format!("{at}: `{field}`"), "a whole number", other);
                return None;
            }
        };
        match number {
            Ok(whole) if (min..=max).contains(&whole) => Some(Some(whole)),
            Ok(_) => {
                self.errors.push(out_of_range(&shown));
                None
            }
            Err(error) => {
                self.errors.push(error);
                None
            }
        }
    }

    /// `worker.a DESC, worker.b ASC` (<https://www.twilio.com/docs/taskrouter/order-workers>).
    fn order_by(&mut self, text: &str, at: &str) -> Option<Vec<OrderBy>> {
        if text.trim().is_empty() {
            self.errors.push(WorkflowError::Empty {
                at: at.to_owned(),
                field: "order_by",
                hint: "leave it out (the worker idle longest goes first), or write e.g. `worker.level DESC`",
            });
            return None;
        }
        let mut clauses = Vec::new();
        let mut valid = true;
        for clause in text.split(',') {
            let clause = clause.trim();
            let problem = |problem: &str| WorkflowError::OrderBy {
                at: at.to_owned(),
                clause: clause.to_owned(),
                problem: problem.to_owned(),
            };
            let words: Vec<&str> = clause.split_whitespace().collect();
            let parsed = match words.as_slice() {
                [] => Err(problem(
                    "is empty: separate clauses with single commas, e.g. `worker.level DESC, worker.tenure ASC`",
                )),
                [_] => Err(problem("has no direction: add ASC or DESC")),
                [attribute, direction] => {
                    let direction = if direction.eq_ignore_ascii_case("asc") {
                        Ok(Direction::Ascending)
                    } else if direction.eq_ignore_ascii_case("desc") {
                        Ok(Direction::Descending)
                    } else {
                        Err(problem(&format!(
                            "has the direction `{direction}`: write ASC or DESC"
                        )))
                    };
                    match (Reference::parse(attribute), direction) {
                        (Ok(reference), Ok(direction)) if is_worker_attribute(&reference) => {
                            Ok(OrderBy {
                                attribute: reference,
                                direction,
                            })
                        }
                        (Ok(_), Ok(_)) => Err(problem(&format!(
                            "does not name a worker attribute: write `worker.{attribute} {}`",
                            words[1]
                        ))),
                        (Err(error), _) => Err(problem(&format!(
                            "does not start with a reference: {} at column {} of `{attribute}`: {}",
                            error.message(),
                            error.column(),
                            error.help()
                        ))),
                        (_, Err(error)) => Err(error),
                    }
                }
                _ => Err(problem(
                    "has more than an attribute and a direction: write `worker.<attribute> ASC|DESC` and separate clauses with commas",
                )),
            };
            match parsed {
                Ok(clause) => clauses.push(clause),
                Err(error) => {
                    self.errors.push(error);
                    valid = false;
                }
            }
        }
        valid.then_some(clauses)
    }

    fn known_worker(&mut self, spec: &Map<String, Value>, at: &str) -> Option<Option<KnownWorker>> {
        let (key, value, by_sid) = match (
            spec.get("known_worker_sid"),
            spec.get("known_worker_friendly_name"),
        ) {
            (None, None) => return Some(None),
            (Some(_), Some(_)) => {
                self.errors.push(WorkflowError::BothKeys {
                    at: at.to_owned(),
                    first: "known_worker_sid",
                    second: "known_worker_friendly_name",
                    hint: "TaskRouter takes one or the other; keep one",
                });
                return None;
            }
            (Some(value), None) => ("known_worker_sid", value, true),
            (None, Some(value)) => ("known_worker_friendly_name", value, false),
        };
        let Value::String(text) = value else {
            self.type_error(
                &format!("{at}: `{key}`"),
                "a task attribute reference such as \"task.agent_sid\"",
                value,
            );
            return None;
        };
        let reference = match Reference::parse(text) {
            Ok(reference) => reference,
            Err(source) => {
                self.errors.push(WorkflowError::Syntax {
                    at: at.to_owned(),
                    field: key,
                    source,
                });
                return None;
            }
        };
        let is_task_attribute = matches!(
            reference.segments(),
            [Segment::Key(root), _, ..] if root == "task"
        );
        if !is_task_attribute {
            self.errors.push(WorkflowError::Reference {
                at: at.to_owned(),
                field: key,
                reference: reference.as_str().to_owned(),
                problem: format!(
                    "does not name a task attribute: write `task.` and the attribute holding the worker's {}, e.g. `task.{}`",
                    if by_sid { "SID" } else { "friendly name" },
                    if by_sid { "agent_sid" } else { "agent_name" }
                ),
            });
            return None;
        }
        Some(Some(if by_sid {
            KnownWorker::Sid(reference)
        } else {
            KnownWorker::FriendlyName(reference)
        }))
    }

    fn object<'v>(
        &mut self,
        value: &'v Value,
        at: &str,
        expected: &'static str,
    ) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            other => {
                self.type_error(at, expected, other);
                None
            }
        }
    }

    fn type_error(&mut self, at: &str, expected: &'static str, found: &Value) {
        self.errors.push(WorkflowError::Type {
            at: at.to_owned(),
            expected,
            found: json_kind(found),
        });
    }

    fn check_keys(&mut self, map: &Map<String, Value>, at: &str, allowed: &'static [&'static str]) {
        for key in unknown_keys(map, allowed) {
            self.errors.push(WorkflowError::UnknownKey {
                at: at.to_owned(),
                key: key.clone(),
                suggestion: suggest(key, allowed.iter().copied()),
                expected: allowed,
            });
        }
    }
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

    /// The messages of a document that must not parse.
    fn errors(text: &str) -> Vec<String> {
        Workflow::parse(text)
            .expect_err("the document is invalid")
            .errors
            .iter()
            .map(ToString::to_string)
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
            ("[]", "the configuration: expected a JSON object, found an array", "not an object"),
            ("{}", "the configuration: missing key `task_routing`: the configuration is {\"task_routing\": {\"filters\": […], \"default_filter\": {…}}}", "empty"),
            (r#"{"filters": []}"#, "the configuration: missing key `task_routing`: `filters` and `default_filter` belong inside it: {\"task_routing\": {\"filters\": […], \"default_filter\": {…}}}", "the inside pasted alone"),
            (r#"{"task_routing": {}, "taskrouting": 1}"#, "the configuration: unknown key `taskrouting`: did you mean `task_routing`?", "a typo at the top"),
            (r#"{"task_routing": {"filter": []}}"#, "task_routing: unknown key `filter`: did you mean `filters`?", "singular filters"),
            (r#"{"task_routing": {"filters": {}}}"#, "task_routing: `filters`: expected an array of filters, found an object", "filters as an object"),
            (r#"{"task_routing": {"filters": [1]}}"#, "filters[0]: expected a filter object with `expression` and `targets`, found a number", "a filter that is a number"),
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
            (r#"{"queue": "WQ00000000000000000000000000000001", "max_workers": 2}"#, "unknown key `max_workers`: expected one of `queue`, `expression`, `priority`, `timeout`, `order_by`, `skip_if`, `known_worker_sid`, `known_worker_friendly_name`", "no close key"),
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
                "the configuration is 1048577 bytes: TaskRouter takes at most 1 MB (1048576 bytes, https://www.twilio.com/docs/taskrouter/limits); split the routing across Workflows or shorten the expressions"
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
        assert_eq!(
            errors("{\"task_routing\": {\n  \"filters\": [,]}}"),
            ["the configuration is not valid JSON: expected value at line 2 column 15"]
        );
    }
}
