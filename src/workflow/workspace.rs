//! The workers and queues a route is computed against.
//!
//! Both come as JSON documents: a bare array, or the answer of TaskRouter's list operation
//! (`{"workers": […], "meta": …}` from `GET /v1/Workspaces/{WS}/Workers`, `{"task_queues": […]}`
//! from `…/TaskQueues`), so a file saved from the REST API can be used as it is. Keys the entries
//! do not need are ignored for the same reason (REST answers carry many).
//!
//! A worker: `{"sid": "WK…", "attributes": {…}, "activity_name": "Available", "activity_sid":
//! "WA…", "available": true, "friendly_name": "alice"}`, only `sid` required. `attributes` may
//! be an object or, as the REST API returns it, a string holding one. Whether a worker is
//! available (can be reserved now, and counts in `workers.available`): `available` when given
//! (the REST Worker resource has it); otherwise true when `activity_name` is `Available`, the
//! available activity TaskRouter creates in every workspace, false for any other activity name,
//! and true when neither is given. `worker.activity_name`, `worker.activity_sid` and
//! `worker.sid` in target expressions read these properties (an attribute of the same name is
//! used only when the property is not given); `workers.WA…` in `skip_if` counts workers by
//! `activity_sid`.
//!
//! A queue: `{"sid": "WQ…", "target_workers": "skills HAS 'support'", "friendly_name":
//! "Support"}`, only `sid` required; `target_workers` absent or null is `1==1`, the REST
//! default ("every worker").

use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;

use serde_json::{Map, Value};

use crate::document::{Node, Problems, Reader, json_kind};
use crate::expression::Expression;
use crate::sid::{ActivitySid, SidError, TaskQueueSid, WorkerSid};

/// TaskRouter's default target workers of a queue: every worker.
const EVERY_WORKER: &str = "1==1";

/// A worker of the workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Worker {
    sid: WorkerSid,
    friendly_name: Option<String>,
    attributes: Value,
    activity_name: Option<String>,
    activity_sid: Option<ActivitySid>,
    available: bool,
}

/// A task queue of the workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    sid: TaskQueueSid,
    friendly_name: Option<String>,
    target_workers: Expression,
}

/// What a route knows about the workspace: its workers (when given) and queues (any subset).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workspace {
    workers: Option<Vec<Worker>>,
    queues: Vec<Queue>,
}

impl Workspace {
    /// A workspace with these workers (`None`: unknown, so no step lists workers) and queues (a
    /// queue not listed takes every worker, TaskRouter's default `1==1`).
    pub fn new(workers: Option<Vec<Worker>>, queues: Vec<Queue>) -> Self {
        Workspace { workers, queues }
    }

    /// The workers, when known.
    pub fn workers(&self) -> Option<&[Worker]> {
        self.workers.as_deref()
    }

    /// The queue with this SID, when listed.
    pub fn queue(&self, sid: &TaskQueueSid) -> Option<&Queue> {
        self.queues.iter().find(|queue| &queue.sid == sid)
    }

    /// The workers, to keep up to date as they change (the simulator's live view); unknown
    /// workers become an empty list.
    pub fn workers_mut(&mut self) -> &mut Vec<Worker> {
        self.workers.get_or_insert_with(Vec::new)
    }

    /// The queues listed.
    pub fn queues(&self) -> &[Queue] {
        &self.queues
    }

    /// The queues, to keep up to date as they change.
    pub fn queues_mut(&mut self) -> &mut Vec<Queue> {
        &mut self.queues
    }
}

impl Worker {
    /// A worker with these attributes (a JSON object), available, with no name or activity
    /// until set.
    pub fn new(sid: WorkerSid, attributes: Value) -> Worker {
        Worker {
            sid,
            friendly_name: None,
            attributes,
            activity_name: None,
            activity_sid: None,
            available: true,
        }
    }

    /// Sets the friendly name.
    pub fn set_friendly_name(&mut self, name: Option<String>) {
        self.friendly_name = name;
    }

    /// Replaces the attributes (a JSON object).
    pub fn set_attributes(&mut self, attributes: Value) {
        self.attributes = attributes;
    }

    /// Sets the activity: its name and SID, which `worker.activity_*` read.
    pub fn set_activity(&mut self, name: Option<String>, sid: Option<ActivitySid>) {
        self.activity_name = name;
        self.activity_sid = sid;
    }

    /// Sets whether the worker can be reserved now.
    pub fn set_available(&mut self, available: bool) {
        self.available = available;
    }

    /// Parses a workers document (see the module documentation), called `the workers` in
    /// messages.
    ///
    /// # Errors
    ///
    /// As [`Worker::read_list`].
    pub fn parse_list(text: &str) -> Result<Vec<Worker>, Problems> {
        Self::read_list("the workers", text)
    }

    /// Reads the workers document called `source` (its path).
    ///
    /// # Errors
    ///
    /// [`Problems`] with every problem found, each at its line and column: invalid JSON, a
    /// document that is not a list of workers, an entry without a well-formed `WK…` SID, a SID
    /// listed twice, attributes that are not an object, a malformed `activity_sid`, a wrong
    /// type.
    pub fn read_list(source: &str, text: &str) -> Result<Vec<Worker>, Problems> {
        let list = List {
            what: "workers",
            key: "workers",
        };
        list.read(source, text, WorkerSid::parse, |node, sid| {
            let attributes = match field(node, "attributes") {
                None => Some(Value::Object(Map::new())),
                Some(value) => attributes(&value),
            };
            let friendly_name = optional_string(node, "friendly_name");
            let activity_name = optional_string(node, "activity_name");
            let activity_sid = match field(node, "activity_sid") {
                Some(value) if value.value().is_string() => {
                    let text = value.value().as_str().unwrap_or_default();
                    match ActivitySid::parse(text) {
                        Ok(sid) => Some(Some(sid)),
                        Err(error) => {
                            value.error(format_args!("`activity_sid`: {error}"));
                            None
                        }
                    }
                }
                _ => optional_string(node, "activity_sid").map(|_| None),
            };
            let available = match field(node, "available") {
                None => None,
                Some(value) => match value.value() {
                    Value::Null => None,
                    Value::Bool(available) => Some(*available),
                    _ => {
                        wrong_type(&value, "available", "true or false");
                        return None;
                    }
                },
            };
            let activity_name = activity_name?;
            let available = available.unwrap_or_else(|| {
                activity_name
                    .as_deref()
                    .is_none_or(|name| name == "Available")
            });
            Some(Worker {
                sid,
                friendly_name: friendly_name?,
                attributes: attributes?,
                activity_name,
                activity_sid: activity_sid?,
                available,
            })
        })
    }

    /// The worker's SID.
    pub fn sid(&self) -> &WorkerSid {
        &self.sid
    }

    /// Its friendly name, when given.
    pub fn friendly_name(&self) -> Option<&str> {
        self.friendly_name.as_deref()
    }

    /// Its attributes (a JSON object).
    pub fn attributes(&self) -> &Value {
        &self.attributes
    }

    /// The name of its activity, when given.
    pub fn activity_name(&self) -> Option<&str> {
        self.activity_name.as_deref()
    }

    /// The SID of its activity, when given.
    pub fn activity_sid(&self) -> Option<&ActivitySid> {
        self.activity_sid.as_ref()
    }

    /// Whether it can be reserved now (see the module documentation).
    pub fn is_available(&self) -> bool {
        self.available
    }
}

impl Queue {
    /// A queue whose members are the workers `target_workers` holds for.
    pub fn new(
        sid: TaskQueueSid,
        friendly_name: Option<String>,
        target_workers: Expression,
    ) -> Queue {
        Queue {
            sid,
            friendly_name,
            target_workers,
        }
    }

    /// Sets the friendly name.
    pub fn set_friendly_name(&mut self, name: Option<String>) {
        self.friendly_name = name;
    }

    /// Replaces `target_workers`.
    pub fn set_target_workers(&mut self, target_workers: Expression) {
        self.target_workers = target_workers;
    }

    /// Parses a queues document (see the module documentation), called `the queues` in
    /// messages.
    ///
    /// # Errors
    ///
    /// As [`Queue::read_list`].
    pub fn parse_list(text: &str) -> Result<Vec<Queue>, Problems> {
        Self::read_list("the queues", text)
    }

    /// Reads the queues document called `source` (its path).
    ///
    /// # Errors
    ///
    /// [`Problems`] with every problem found, each at its line and column: invalid JSON, a
    /// document that is not a list of queues, an entry without a well-formed `WQ…` SID, a SID
    /// listed twice, a `target_workers` that does not parse, a wrong type.
    pub fn read_list(source: &str, text: &str) -> Result<Vec<Queue>, Problems> {
        let list = List {
            what: "queues",
            key: "task_queues",
        };
        list.read(source, text, TaskQueueSid::parse, |node, sid| {
            let friendly_name = optional_string(node, "friendly_name");
            let target_workers = match optional_string(node, "target_workers")? {
                None => Expression::parse(EVERY_WORKER).ok(),
                Some(text) => match Expression::parse(&text) {
                    Ok(expression) => Some(expression),
                    Err(error) => {
                        let value = field(node, "target_workers")?;
                        value.error(format_args!(
                            "`target_workers` is not a valid expression: {error}"
                        ));
                        None
                    }
                },
            };
            Some(Queue {
                sid,
                friendly_name: friendly_name?,
                target_workers: target_workers?,
            })
        })
    }

    /// The queue's SID.
    pub fn sid(&self) -> &TaskQueueSid {
        &self.sid
    }

    /// Its friendly name, when given.
    pub fn friendly_name(&self) -> Option<&str> {
        self.friendly_name.as_deref()
    }

    /// `target_workers`: which workers belong to it (bare keys are worker attributes).
    pub fn target_workers(&self) -> &Expression {
        &self.target_workers
    }
}

/// A list document: a bare array of `what`, or a REST list answer holding it under `key`.
struct List {
    /// `workers` or `queues`, for places and messages.
    what: &'static str,
    /// The list key of the REST answer.
    key: &'static str,
}

impl List {
    /// Reads every entry: each must be an object with a well-formed SID that no earlier entry
    /// has, then `entry` reads the rest of it (recording its problems, `None` when it had any).
    fn read<S: Clone + Eq + Hash + fmt::Display, T>(
        &self,
        source: &str,
        text: &str,
        parse: impl Fn(&str) -> Result<S, SidError>,
        entry: impl Fn(&Node<'_>, S) -> Option<T>,
    ) -> Result<Vec<T>, Problems> {
        let (reader, value) = Reader::parse(source, text)?;
        let root = reader.root(&value);
        let entries = match (&value, root.member(self.key)) {
            (Value::Array(_), _) => root.array(),
            (_, Some(list)) if list.value().is_array() => list.array(),
            (value, _) => {
                root.error(format_args!(
                    "expected a JSON array of {what}, or a TaskRouter list answer with `{key}`; found {}",
                    if value.is_object() {
                        "an object without it"
                    } else {
                        json_kind(value)
                    },
                    what = self.what,
                    key = self.key,
                ));
                None
            }
        };
        let mut seen = HashSet::new();
        let mut read = Vec::new();
        for (index, node) in entries.into_iter().flatten().enumerate() {
            let node = node.named(format!("{}[{index}]", self.what));
            let Some(sid) = node.member("sid").filter(|sid| sid.value().is_string()) else {
                node.error("expected an object with a `sid`");
                continue;
            };
            let sid = match parse(sid.value().as_str().unwrap_or_default()) {
                Ok(parsed) => parsed,
                Err(error) => {
                    sid.named(node.place().to_owned())
                        .error(format_args!("`sid`: {error}"));
                    continue;
                }
            };
            if !seen.insert(sid.clone()) {
                node.error(format_args!(
                    "`{sid}` is listed twice: {} are told apart by SID",
                    self.what
                ));
                continue;
            }
            let node = node.named(format!("{}[{index}] (`{sid}`)", self.what));
            read.extend(entry(&node, sid));
        }
        let problems = reader.finish();
        if problems.has_errors() {
            Err(problems)
        } else {
            Ok(read)
        }
    }
}

/// The value of `key` in the entry `node`, for a message that names the key itself: the node
/// keeps the entry's place and points at the value.
fn field<'r>(node: &Node<'r>, key: &str) -> Option<Node<'r>> {
    node.member(key)
        .map(|value| value.named(node.place().to_owned()))
}

/// Records that the value of `key` is not of the JSON type `expected`.
fn wrong_type(node: &Node<'_>, key: &str, expected: &str) {
    node.error(format_args!(
        "`{key}` must be {expected}, found {}",
        json_kind(node.value())
    ));
}

/// A worker's `attributes`: an object, `null` (none), or a string holding an object, as the
/// REST API returns them.
fn attributes(value: &Node<'_>) -> Option<Value> {
    let holds = |what: String| {
        value.error(format_args!(
            "`attributes` is a string that does not hold a JSON object: {what}"
        ));
    };
    match value.value() {
        Value::Null => Some(Value::Object(Map::new())),
        object @ Value::Object(_) => Some(object.clone()),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(object @ Value::Object(_)) => Some(object),
            Ok(other) => {
                holds(format!("it holds {}", json_kind(&other)));
                None
            }
            Err(error) => {
                holds(error.to_string());
                None
            }
        },
        _ => {
            wrong_type(value, "attributes", "an object (or a string holding one)");
            None
        }
    }
}

/// A string of the entry, absent or `null` for none; `None` (with an error) for another type.
fn optional_string(node: &Node<'_>, key: &str) -> Option<Option<String>> {
    let Some(value) = field(node, key) else {
        return Some(None);
    };
    match value.value() {
        Value::Null => Some(None),
        Value::String(text) => Some(Some(text.clone())),
        _ => {
            wrong_type(&value, key, "a string");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_saved_rest_answer_is_read_as_it_is() {
        // The shape of GET /v1/Workspaces/{WS}/Workers: attributes as a string holding JSON,
        // `available`, and many keys a route does not need.
        let answer = json!({
            "meta": {"key": "workers", "page": 0},
            "workers": [{
                "sid": "WK00000000000000000000000000000001",
                "account_sid": "AC00000000000000000000000000000001",
                "friendly_name": "alice",
                "activity_name": "Generally Available",
                "activity_sid": "WA00000000000000000000000000000007",
                "available": true,
                "attributes": "{\"skills\": [\"support\"]}",
                "date_created": "2024-01-01T00:00:00Z",
                "links": {"channels": "https://taskrouter.twilio.com/…"}
            }]
        });
        let workers = Worker::parse_list(&answer.to_string()).expect("valid");
        let [alice] = workers.as_slice() else {
            panic!("one worker")
        };
        assert_eq!(alice.sid().as_str(), "WK00000000000000000000000000000001");
        assert_eq!(alice.friendly_name(), Some("alice"));
        assert_eq!(alice.attributes(), &json!({"skills": ["support"]}));
        assert_eq!(alice.activity_name(), Some("Generally Available"));
        assert_eq!(
            alice.activity_sid().map(ActivitySid::as_str),
            Some("WA00000000000000000000000000000007")
        );
        assert!(
            alice.is_available(),
            "`available` decides over the activity's name"
        );

        let queues = Queue::parse_list(
            &json!({"task_queues": [
                {"sid": "WQ00000000000000000000000000000001", "friendly_name": "Support", "target_workers": "skills HAS 'support'", "max_reserved_workers": 1},
                {"sid": "WQ00000000000000000000000000000002", "target_workers": null}
            ]})
            .to_string(),
        )
        .expect("valid");
        assert_eq!(queues[0].friendly_name(), Some("Support"));
        assert_eq!(queues[0].target_workers().source(), "skills HAS 'support'");
        assert_eq!(
            queues[1].target_workers().source(),
            "1==1",
            "TaskRouter's default"
        );
    }

    #[test]
    fn availability_follows_available_then_the_activity_name() {
        let cases = [
            (
                json!({"available": false, "activity_name": "Available"}),
                false,
                "`available` wins",
            ),
            (
                json!({"activity_name": "Available"}),
                true,
                "TaskRouter's default available activity",
            ),
            (
                json!({"activity_name": "Offline"}),
                false,
                "any other activity name",
            ),
            (
                json!({"activity_name": "available"}),
                false,
                "activity names are case-sensitive",
            ),
            (json!({}), true, "nothing said: taken as available"),
        ];
        for (mut entry, expected, why) in cases {
            entry["sid"] = json!("WK00000000000000000000000000000001");
            let workers = Worker::parse_list(&json!([entry]).to_string()).expect(why);
            assert_eq!(workers[0].is_available(), expected, "{why}");
        }
    }

    #[test]
    fn unusable_entries_are_named() {
        #[rustfmt::skip]
        let cases = [
            ("{", "not valid JSON: EOF while parsing an object", "not JSON"),
            ("7", "expected a JSON array of workers, or a TaskRouter list answer with `workers`; found a number", "a number"),
            (r#"{"items": []}"#, "expected a JSON array of workers, or a TaskRouter list answer with `workers`; found an object without it", "another list key"),
            (r#"[{"friendly_name": "alice"}]"#, "workers[0]: expected an object with a `sid`", "no SID"),
            (r#"[{"sid": "WQ00000000000000000000000000000001"}]"#, "workers[0]: `sid`: `WQ00000000000000000000000000000001` is not a valid worker SID: expected `WK` followed by 32 hex digits", "a queue SID"),
            (r#"[{"sid": "WK00000000000000000000000000000001"}, {"sid": "WK00000000000000000000000000000001"}]"#, "workers[1]: `WK00000000000000000000000000000001` is listed twice: workers are told apart by SID", "twice"),
            (r#"[{"sid": "WK00000000000000000000000000000001", "attributes": "[1]"}]"#, "workers[0] (`WK00000000000000000000000000000001`): `attributes` is a string that does not hold a JSON object: it holds an array", "attributes holding an array"),
            (r#"[{"sid": "WK00000000000000000000000000000001", "attributes": 3}]"#, "workers[0] (`WK00000000000000000000000000000001`): `attributes` must be an object (or a string holding one), found a number", "numeric attributes"),
            (r#"[{"sid": "WK00000000000000000000000000000001", "available": "yes"}]"#, "workers[0] (`WK00000000000000000000000000000001`): `available` must be true or false, found a string", "a string for available"),
            (r#"[{"sid": "WK00000000000000000000000000000001", "activity_sid": "WA1"}]"#, "workers[0] (`WK00000000000000000000000000000001`): `activity_sid`: `WA1` is not a valid activity SID: expected `WA` followed by 32 hex digits", "a short activity SID"),
        ];
        for (text, message, why) in cases {
            assert_eq!(
                described(Worker::parse_list(text).expect_err(why)),
                message,
                "{why}"
            );
        }
        #[rustfmt::skip]
        let cases = [
            (r#"[{"sid": "WQ00000000000000000000000000000001", "target_workers": "skills HAS"}]"#, "queues[0] (`WQ00000000000000000000000000000001`): `target_workers` is not a valid expression: unexpected end of expression at column 11\n  skills HAS\n            ^ expected a value after HAS", "a broken expression"),
            (r#"[{"sid": "WQ00000000000000000000000000000001", "target_workers": "taskrouter.currentHr > 8"}]"#, "queues[0] (`WQ00000000000000000000000000000001`): `target_workers` is not a valid expression: unknown time-of-day attribute `taskrouter.currentHr` at column 1\n  taskrouter.currentHr > 8\n  ^ did you mean `taskrouter.currentHour`? TaskRouter fills taskrouter. followed by one of currentTime, currentHour, currentMin, dayOfWeek", "an unknown time attribute, refused by the expression parser"),
            (r#"{"task_queues": [{"sid": "WQ00000000000000000000000000000001", "friendly_name": 1}]}"#, "queues[0] (`WQ00000000000000000000000000000001`): `friendly_name` must be a string, found a number", "a numeric name"),
        ];
        for (text, message, why) in cases {
            assert_eq!(
                described(Queue::parse_list(text).expect_err(why)),
                message,
                "{why}"
            );
        }
    }

    /// Each problem's place and message, one per line.
    fn described(problems: Problems) -> String {
        let lines: Vec<String> = problems.all().iter().map(|p| p.describe()).collect();
        lines.join("\n")
    }

    #[test]
    fn every_problem_of_a_list_is_reported_at_its_line_and_column() {
        let text = "{\"workers\": [\n  {\"sid\": \"WK1\"},\n  {\"sid\": \"WK00000000000000000000000000000001\", \"available\": 1, \"friendly_name\": 2}\n]}";
        let problems = Worker::read_list("workers.json", text).expect_err("three problems");
        let lines: Vec<String> = problems.all().iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "workers.json:2:11: error: workers[0]: `sid`: `WK1` is not a valid worker SID: expected `WK` followed by 32 hex digits",
                "workers.json:3:82: error: workers[1] (`WK00000000000000000000000000000001`): `friendly_name` must be a string, found a number",
                "workers.json:3:62: error: workers[1] (`WK00000000000000000000000000000001`): `available` must be true or false, found a number",
            ]
        );
    }
}
