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

use crate::document::json_kind;
use crate::expression::{Expression, SyntaxError};
use crate::sid::{ActivitySid, SidError, TaskQueueSid, WorkerSid};

/// TaskRouter's default target workers of a queue: every worker.
const EVERY_WORKER: &str = "1==1";

/// A workers or queues document that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkspaceError {
    /// The text is not JSON.
    #[error("the {what} file is not valid JSON: {reason}")]
    Json {
        /// `workers` or `queues`.
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// The document is neither an array nor a REST list answer.
    #[error(
        "the {what} file must be a JSON array of {what}, or a TaskRouter list answer with `{key}`; found {found}"
    )]
    Shape {
        /// `workers` or `queues`.
        what: &'static str,
        /// The list key of the REST answer.
        key: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// A value has the wrong type.
    #[error("{at}: `{key}` must be {expected}, found {found}")]
    Type {
        /// The entry, e.g. `workers[2]`.
        at: String,
        /// The key.
        key: &'static str,
        /// What was expected.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// An entry is not an object or lacks its SID.
    #[error("{at}: expected an object with a `sid`")]
    NoSid {
        /// The entry.
        at: String,
    },
    /// A SID is malformed.
    #[error("{at}: `{key}`: {source}")]
    Sid {
        /// The entry.
        at: String,
        /// The key.
        key: &'static str,
        /// What is wrong.
        source: SidError,
    },
    /// `attributes` is a string that does not hold a JSON object.
    #[error("{at}: `attributes` is a string that does not hold a JSON object: {reason}")]
    Attributes {
        /// The entry.
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// A queue's `target_workers` does not parse.
    #[error("{at}: `target_workers` is not a valid expression: {source}")]
    Syntax {
        /// The entry.
        at: String,
        /// The parser's error.
        source: SyntaxError,
    },
    /// A SID appears twice.
    #[error("{at}: `{sid}` is listed twice: {what} are told apart by SID")]
    Duplicate {
        /// The later entry.
        at: String,
        /// The SID.
        sid: String,
        /// `workers` or `queues`.
        what: &'static str,
    },
}

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

    /// Parses a workers document (see the module documentation).
    ///
    /// # Errors
    ///
    /// [`WorkspaceError`] naming the entry: invalid JSON, a document that is not a list of
    /// workers, an entry without a well-formed `WK…` SID, a SID listed twice, attributes that are
    /// not an object, a malformed `activity_sid`, a wrong type.
    pub fn parse_list(text: &str) -> Result<Vec<Worker>, WorkspaceError> {
        let entries = entries(text, "workers", "workers", WorkerSid::parse)?;
        let mut workers = Vec::with_capacity(entries.len());
        for Entry { at, map, sid } in entries {
            let map = &map;
            let attributes = match map.get("attributes") {
                None | Some(Value::Null) => Value::Object(Map::new()),
                Some(value @ Value::Object(_)) => value.clone(),
                Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                    Ok(value @ Value::Object(_)) => value,
                    Ok(other) => {
                        return Err(WorkspaceError::Attributes {
                            at,
                            reason: format!("it holds {}", json_kind(&other)),
                        });
                    }
                    Err(error) => {
                        return Err(WorkspaceError::Attributes {
                            at,
                            reason: error.to_string(),
                        });
                    }
                },
                Some(other) => {
                    return Err(type_error(
                        &at,
                        "attributes",
                        "an object (or a string holding one)",
                        other,
                    ));
                }
            };
            let friendly_name = optional_string(map, &at, "friendly_name")?;
            let activity_name = optional_string(map, &at, "activity_name")?;
            let activity_sid = match optional_string(map, &at, "activity_sid")? {
                None => None,
                Some(text) => {
                    Some(
                        ActivitySid::parse(&text).map_err(|source| WorkspaceError::Sid {
                            at: at.clone(),
                            key: "activity_sid",
                            source,
                        })?,
                    )
                }
            };
            let available = match map.get("available") {
                None | Some(Value::Null) => activity_name
                    .as_deref()
                    .is_none_or(|name| name == "Available"),
                Some(Value::Bool(available)) => *available,
                Some(other) => return Err(type_error(&at, "available", "true or false", other)),
            };
            workers.push(Worker {
                sid,
                friendly_name,
                attributes,
                activity_name,
                activity_sid,
                available,
            });
        }
        Ok(workers)
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

    /// Parses a queues document (see the module documentation).
    ///
    /// # Errors
    ///
    /// [`WorkspaceError`] naming the entry: invalid JSON, a document that is not a list of
    /// queues, an entry without a well-formed `WQ…` SID, a SID listed twice, a `target_workers`
    /// that does not parse, a wrong type.
    pub fn parse_list(text: &str) -> Result<Vec<Queue>, WorkspaceError> {
        let entries = entries(text, "queues", "task_queues", TaskQueueSid::parse)?;
        let mut queues = Vec::with_capacity(entries.len());
        for Entry { at, map, sid } in entries {
            let map = &map;
            let friendly_name = optional_string(map, &at, "friendly_name")?;
            let text = optional_string(map, &at, "target_workers")?;
            let text = text.as_deref().unwrap_or(EVERY_WORKER);
            let target_workers =
                Expression::parse(text).map_err(|source| WorkspaceError::Syntax {
                    at: at.clone(),
                    source,
                })?;
            queues.push(Queue {
                sid,
                friendly_name,
                target_workers,
            });
        }
        Ok(queues)
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

/// The entries of a list document: a bare array, or a REST list answer's `key` array.
fn list(text: &str, what: &'static str, key: &'static str) -> Result<Vec<Value>, WorkspaceError> {
    let document: Value = serde_json::from_str(text).map_err(|error| WorkspaceError::Json {
        what,
        reason: error.to_string(),
    })?;
    match document {
        Value::Array(entries) => Ok(entries),
        Value::Object(mut map) => match map.remove(key) {
            Some(Value::Array(entries)) => Ok(entries),
            _ => Err(WorkspaceError::Shape {
                what,
                key,
                found: "an object without it",
            }),
        },
        other => Err(WorkspaceError::Shape {
            what,
            key,
            found: json_kind(&other),
        }),
    }
}

/// One entry of a list document: an object with a well-formed SID that no earlier entry has.
struct Entry<S> {
    /// Its place, by index and SID: ``workers[2] (`WK…`)``.
    at: String,
    /// Its fields.
    map: Map<String, Value>,
    /// Its SID.
    sid: S,
}

/// The entries of a list document ([`list`]), each checked to be an object with a well-formed
/// SID listed once.
fn entries<S: Clone + Eq + Hash + fmt::Display>(
    text: &str,
    what: &'static str,
    key: &'static str,
    parse: impl Fn(&str) -> Result<S, SidError>,
) -> Result<Vec<Entry<S>>, WorkspaceError> {
    let entries = list(text, what, key)?;
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let at = format!("{what}[{index}]");
        let Value::Object(map) = entry else {
            return Err(WorkspaceError::NoSid { at });
        };
        let sid = sid(&map, &at, &parse)?;
        if !seen.insert(sid.clone()) {
            return Err(WorkspaceError::Duplicate {
                at,
                sid: sid.to_string(),
                what,
            });
        }
        checked.push(Entry {
            at: format!("{at} (`{sid}`)"),
            map,
            sid,
        });
    }
    Ok(checked)
}

fn sid<T>(
    map: &Map<String, Value>,
    at: &str,
    parse: impl Fn(&str) -> Result<T, SidError>,
) -> Result<T, WorkspaceError> {
    match map.get("sid") {
        Some(Value::String(text)) => parse(text).map_err(|source| WorkspaceError::Sid {
            at: at.to_owned(),
            key: "sid",
            source,
        }),
        _ => Err(WorkspaceError::NoSid { at: at.to_owned() }),
    }
}

fn optional_string(
    map: &Map<String, Value>,
    at: &str,
    key: &'static str,
) -> Result<Option<String>, WorkspaceError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(type_error(at, key, "a string", other)),
    }
}

fn type_error(
    at: &str,
    key: &'static str,
    expected: &'static str,
    found: &Value,
) -> WorkspaceError {
    WorkspaceError::Type {
        at: at.to_owned(),
        key,
        expected,
        found: json_kind(found),
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
            ("{", "the workers file is not valid JSON: EOF while parsing an object at line 1 column 1", "not JSON"),
            ("7", "the workers file must be a JSON array of workers, or a TaskRouter list answer with `workers`; found a number", "a number"),
            (r#"{"items": []}"#, "the workers file must be a JSON array of workers, or a TaskRouter list answer with `workers`; found an object without it", "another list key"),
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
                Worker::parse_list(text).expect_err(why).to_string(),
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
                Queue::parse_list(text).expect_err(why).to_string(),
                message,
                "{why}"
            );
        }
    }
}
