//! The workspace document: one JSON file describing a TaskRouter workspace (its activities,
//! workers, queues and Workflows with their configuration inline, callback URLs, timeouts).
//! `taskrouter sim serve --workspace FILE` starts from one, `taskrouter sim export` writes the
//! running workspace back in the same format, and `taskrouter workflow route --workspace FILE`
//! routes against its workers and queues.
//!
//! ```json
//! {
//!   "sid": "WS00000000000000000000000000000001",
//!   "friendly_name": "Tutorial",
//!   "event_callback_url": "http://127.0.0.1:9000/taskrouter/events",
//!   "default_activity": "Offline",
//!   "timeout_activity": "Offline",
//!   "activities": [
//!     { "sid": "WA00000000000000000000000000000001", "friendly_name": "Offline", "available": false },
//!     { "sid": "WA00000000000000000000000000000002", "friendly_name": "Available", "available": true }
//!   ],
//!   "workers": [
//!     { "sid": "WK00000000000000000000000000000001", "friendly_name": "alice", "activity": "Available",
//!       "attributes": { "skills": ["support"] }, "channels": { "chat": 3 } }
//!   ],
//!   "task_queues": [
//!     { "sid": "WQ00000000000000000000000000000001", "friendly_name": "Support",
//!       "target_workers": "skills HAS 'support'", "max_reserved_workers": 1, "task_order": "FIFO" }
//!   ],
//!   "workflows": [
//!     { "sid": "WW00000000000000000000000000000001", "friendly_name": "Support",
//!       "assignment_callback_url": "http://127.0.0.1:9000/taskrouter/assignment_callback",
//!       "task_reservation_timeout": 120,
//!       "configuration": { "task_routing": { "default_filter": { "queue": "WQ00000000000000000000000000000001" } } } }
//!   ]
//! }
//! ```
//!
//! Every resource carries its `sid`: Workflow configurations name queues by SID, rules name
//! activities by SID, and a document read twice gives the same workspace. An activity is
//! referred to by its name or its SID (`activity`, `default_activity`, `timeout_activity`);
//! `default_activity` defaults to the first activity listed, `timeout_activity` to the default
//! one, a worker's activity to the default one. Left out: `multi_task_enabled` true,
//! `prioritize_queue_order` `FIFO`, `target_workers` `1==1`, `max_reserved_workers` 1,
//! `task_order` `FIFO`, `task_reservation_timeout` 120, `attributes` `{}`, a channel's capacity 1.
//!
//! The document is read with [`crate::document::Reader`]: every problem is reported at once,
//! each at its file, line and column, unknown keys with the nearest known one.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use crate::document::{Keys, Node, Problems, Reader};
use crate::expression::Expression;
use crate::instruction::HttpUrl;
use crate::rest::resources::EventsFilter;
use crate::sid::{ActivitySid, SidError, TaskQueueSid, WorkerSid, WorkflowSid, WorkspaceSid};
use crate::workflow::{self, Workflow};

use super::engine::{
    self, CHANNELS, DEFAULT_RESERVATION_TIMEOUT, Engine, MAX_RESERVATION_TIMEOUT,
    MAX_RESERVED_WORKERS, NewQueue, NewWorker, NewWorkflow, SimError,
};
use super::state::{Activity, Order};

const WORKSPACE: Keys = Keys {
    what: "a workspace document",
    required: &["sid", "friendly_name", "activities"],
    optional: &[
        "event_callback_url",
        "events_filter",
        "default_activity",
        "timeout_activity",
        "multi_task_enabled",
        "prioritize_queue_order",
        "workers",
        "task_queues",
        "workflows",
    ],
};
const ACTIVITY: Keys = Keys {
    what: "an activity",
    required: &["sid", "friendly_name", "available"],
    optional: &[],
};
const WORKER: Keys = Keys {
    what: "a worker",
    required: &["sid", "friendly_name"],
    optional: &["activity", "attributes", "channels"],
};
const QUEUE: Keys = Keys {
    what: "a task queue",
    required: &["sid", "friendly_name"],
    optional: &["target_workers", "max_reserved_workers", "task_order"],
};
const WORKFLOW: Keys = Keys {
    what: "a workflow",
    required: &["sid", "friendly_name", "configuration"],
    optional: &[
        "assignment_callback_url",
        "fallback_assignment_callback_url",
        "task_reservation_timeout",
    ],
};

/// The largest capacity a document gives a worker on one channel.
pub const MAX_CAPACITY: u32 = 1_000;

/// A workspace document, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceDocument {
    /// `sid`.
    pub sid: WorkspaceSid,
    /// `friendly_name`.
    pub friendly_name: String,
    /// `event_callback_url`.
    pub event_callback_url: Option<HttpUrl>,
    /// `events_filter`, a comma-separated list of event types.
    pub events_filter: Option<String>,
    /// `default_activity`, resolved to its SID.
    pub default_activity: ActivitySid,
    /// `timeout_activity`, resolved to its SID.
    pub timeout_activity: ActivitySid,
    /// `multi_task_enabled`.
    pub multi_task_enabled: bool,
    /// `prioritize_queue_order`.
    pub prioritize_queue_order: Order,
    /// `activities`, in order.
    pub activities: Vec<ActivityEntry>,
    /// `workers`, in order.
    pub workers: Vec<WorkerEntry>,
    /// `task_queues`, in order.
    pub task_queues: Vec<QueueEntry>,
    /// `workflows`, in order.
    pub workflows: Vec<WorkflowEntry>,
}

/// An activity of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEntry {
    /// `sid`.
    pub sid: ActivitySid,
    /// `friendly_name`, unique among the activities.
    pub friendly_name: String,
    /// `available`: whether a worker in it can be reserved.
    pub available: bool,
}

/// A worker of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerEntry {
    /// `sid`.
    pub sid: WorkerSid,
    /// `friendly_name`.
    pub friendly_name: String,
    /// `activity`, resolved to its SID.
    pub activity: ActivitySid,
    /// `attributes`, a JSON object.
    pub attributes: Map<String, Value>,
    /// `channels`: capacity by channel unique name, where it is not 1.
    pub channels: BTreeMap<String, u32>,
}

/// A task queue of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// `sid`.
    pub sid: TaskQueueSid,
    /// `friendly_name`.
    pub friendly_name: String,
    /// `target_workers`, an expression that parses.
    pub target_workers: String,
    /// `max_reserved_workers`.
    pub max_reserved_workers: u32,
    /// `task_order`.
    pub task_order: Order,
}

/// A Workflow of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowEntry {
    /// `sid`.
    pub sid: WorkflowSid,
    /// `friendly_name`.
    pub friendly_name: String,
    /// `configuration`, the routing document (docs/taskrouter.md §9), valid, naming only the
    /// document's queues.
    pub configuration: Value,
    /// `assignment_callback_url`.
    pub assignment_callback_url: Option<HttpUrl>,
    /// `fallback_assignment_callback_url`.
    pub fallback_assignment_callback_url: Option<HttpUrl>,
    /// `task_reservation_timeout`, seconds.
    pub task_reservation_timeout: u32,
}

impl WorkspaceDocument {
    /// Reads the document `text`, called `source` in messages (its path).
    ///
    /// # Errors
    ///
    /// Every [`Problems`] of the document, each located: not JSON, unknown or missing keys,
    /// wrong types, malformed or repeated SIDs, activity names repeated or unknown, a
    /// `target_workers` or a configuration that does not parse, a configuration naming a queue
    /// the document does not have, numbers out of range, unknown channels.
    pub fn read(source: &str, text: &str) -> Result<Self, Problems> {
        let (reader, value) = Reader::parse(source, text)?;
        let document = read_document(&reader.root(&value));
        let problems = reader.finish();
        match document {
            Some(document) if !problems.has_errors() => Ok(document),
            _ => Err(problems),
        }
    }

    /// The workers and queues as `src/workflow` routes against them (`workflow route
    /// --workspace`): each worker available when its activity is.
    pub fn routing(&self) -> workflow::Workspace {
        let activity = |sid: &ActivitySid| self.activities.iter().find(|entry| &entry.sid == sid);
        let workers = self
            .workers
            .iter()
            .map(|entry| {
                let mut worker = workflow::Worker::new(
                    entry.sid.clone(),
                    Value::Object(entry.attributes.clone()),
                );
                worker.set_friendly_name(Some(entry.friendly_name.clone()));
                let found = activity(&entry.activity);
                worker.set_activity(
                    found.map(|found| found.friendly_name.clone()),
                    Some(entry.activity.clone()),
                );
                worker.set_available(found.is_some_and(|found| found.available));
                worker
            })
            .collect();
        let queues = self
            .task_queues
            .iter()
            .filter_map(|entry| {
                let expression = Expression::parse(&entry.target_workers).ok()?;
                Some(workflow::Queue::new(
                    entry.sid.clone(),
                    Some(entry.friendly_name.clone()),
                    expression,
                ))
            })
            .collect();
        workflow::Workspace::new(Some(workers), queues)
    }

    /// The document as JSON, keys in the documented order, defaults written out.
    pub fn to_json(&self) -> Value {
        let name = |sid: &ActivitySid| {
            self.activities
                .iter()
                .find(|entry| &entry.sid == sid)
                .map_or_else(|| sid.to_string(), |entry| entry.friendly_name.clone())
        };
        let mut document = Map::new();
        document.insert("sid".to_owned(), json!(self.sid));
        document.insert("friendly_name".to_owned(), json!(self.friendly_name));
        if let Some(url) = &self.event_callback_url {
            document.insert("event_callback_url".to_owned(), json!(url.as_str()));
        }
        if let Some(filter) = &self.events_filter {
            document.insert("events_filter".to_owned(), json!(filter));
        }
        document.insert(
            "default_activity".to_owned(),
            json!(name(&self.default_activity)),
        );
        document.insert(
            "timeout_activity".to_owned(),
            json!(name(&self.timeout_activity)),
        );
        document.insert(
            "multi_task_enabled".to_owned(),
            json!(self.multi_task_enabled),
        );
        document.insert(
            "prioritize_queue_order".to_owned(),
            json!(self.prioritize_queue_order.as_str()),
        );
        let activities: Vec<Value> = self
            .activities
            .iter()
            .map(|entry| {
                json!({"sid": entry.sid, "friendly_name": entry.friendly_name, "available": entry.available})
            })
            .collect();
        document.insert("activities".to_owned(), Value::Array(activities));
        let workers: Vec<Value> = self
            .workers
            .iter()
            .map(|entry| {
                let mut worker = Map::new();
                worker.insert("sid".to_owned(), json!(entry.sid));
                worker.insert("friendly_name".to_owned(), json!(entry.friendly_name));
                worker.insert("activity".to_owned(), json!(name(&entry.activity)));
                worker.insert(
                    "attributes".to_owned(),
                    Value::Object(entry.attributes.clone()),
                );
                if !entry.channels.is_empty() {
                    worker.insert("channels".to_owned(), json!(entry.channels));
                }
                Value::Object(worker)
            })
            .collect();
        document.insert("workers".to_owned(), Value::Array(workers));
        let queues: Vec<Value> = self
            .task_queues
            .iter()
            .map(|entry| {
                json!({
                    "sid": entry.sid,
                    "friendly_name": entry.friendly_name,
                    "target_workers": entry.target_workers,
                    "max_reserved_workers": entry.max_reserved_workers,
                    "task_order": entry.task_order.as_str(),
                })
            })
            .collect();
        document.insert("task_queues".to_owned(), Value::Array(queues));
        let workflows: Vec<Value> = self
            .workflows
            .iter()
            .map(|entry| {
                let mut workflow = Map::new();
                workflow.insert("sid".to_owned(), json!(entry.sid));
                workflow.insert("friendly_name".to_owned(), json!(entry.friendly_name));
                if let Some(url) = &entry.assignment_callback_url {
                    workflow.insert("assignment_callback_url".to_owned(), json!(url.as_str()));
                }
                if let Some(url) = &entry.fallback_assignment_callback_url {
                    workflow.insert(
                        "fallback_assignment_callback_url".to_owned(),
                        json!(url.as_str()),
                    );
                }
                workflow.insert(
                    "task_reservation_timeout".to_owned(),
                    json!(entry.task_reservation_timeout),
                );
                workflow.insert("configuration".to_owned(), entry.configuration.clone());
                Value::Object(workflow)
            })
            .collect();
        document.insert("workflows".to_owned(), Value::Array(workflows));
        Value::Object(document)
    }

    /// The document of workspace `ws` as it is now in `engine` (what `taskrouter sim export`
    /// writes).
    ///
    /// # Errors
    ///
    /// [`SimError::NotFound`] when the engine has no such workspace.
    pub fn of(engine: &Engine, ws: &WorkspaceSid) -> Result<Self, SimError> {
        let space = engine.space(ws)?;
        let activities = space
            .activities
            .all()
            .iter()
            .map(|activity: &Activity| ActivityEntry {
                sid: activity.sid.clone(),
                friendly_name: activity.friendly_name.clone(),
                available: activity.available,
            })
            .collect();
        let workers = (0..space.workers.len())
            .map(|at| {
                let worker = space.workers.at(at);
                let routing = space.routing_worker(at);
                WorkerEntry {
                    sid: worker.sid.clone(),
                    friendly_name: routing.friendly_name().unwrap_or_default().to_owned(),
                    activity: worker.activity.clone(),
                    attributes: routing
                        .attributes()
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    channels: worker
                        .channels
                        .iter()
                        .filter(|channel| channel.capacity != 1)
                        .map(|channel| (channel.unique_name.clone(), channel.capacity))
                        .collect(),
                }
            })
            .collect();
        let task_queues = (0..space.queues.len())
            .map(|at| {
                let queue = space.queues.at(at);
                let routing = space.routing_queue(at);
                QueueEntry {
                    sid: queue.sid.clone(),
                    friendly_name: routing.friendly_name().unwrap_or_default().to_owned(),
                    target_workers: routing.target_workers().source().to_owned(),
                    max_reserved_workers: queue.max_reserved_workers,
                    task_order: queue.task_order,
                }
            })
            .collect();
        let workflows = space
            .workflows
            .all()
            .iter()
            .map(|workflow| WorkflowEntry {
                sid: workflow.sid.clone(),
                friendly_name: workflow.friendly_name.clone(),
                // It parsed when it was set, so it is JSON.
                configuration: serde_json::from_str(&workflow.configuration_text)
                    .unwrap_or(Value::Null),
                assignment_callback_url: workflow.assignment_callback_url.clone(),
                fallback_assignment_callback_url: workflow.fallback_assignment_callback_url.clone(),
                task_reservation_timeout: workflow.task_reservation_timeout,
            })
            .collect();
        Ok(Self {
            sid: space.sid.clone(),
            friendly_name: space.friendly_name.clone(),
            event_callback_url: space.event_callback_url.clone(),
            events_filter: space.events_filter.as_ref().map(|(text, _)| text.clone()),
            default_activity: space.default_activity.clone(),
            timeout_activity: space.timeout_activity.clone(),
            multi_task_enabled: space.multi_task_enabled,
            prioritize_queue_order: space.prioritize_queue_order,
            activities,
            workers,
            task_queues,
            workflows,
        })
    }

    /// Adds the workspace to `engine`, as the document describes it; its SID.
    ///
    /// # Errors
    ///
    /// [`SimError`] when the engine already has the workspace; a document that was read with
    /// [`WorkspaceDocument::read`] is otherwise accepted as it is.
    pub fn load(&self, engine: &mut Engine) -> Result<WorkspaceSid, SimError> {
        let mut space = engine.new_space(
            self.sid.clone(),
            &self.friendly_name,
            self.default_activity.clone(),
        )?;
        space.timeout_activity = self.timeout_activity.clone();
        space.event_callback_url = self.event_callback_url.clone();
        space.events_filter = self
            .events_filter
            .as_ref()
            .map(|text| (text.clone(), text.split(',').map(str::to_owned).collect()));
        space.multi_task_enabled = self.multi_task_enabled;
        space.prioritize_queue_order = self.prioritize_queue_order;
        let now = engine.now();
        for entry in &self.activities {
            space.activities.push(
                entry.sid.clone(),
                Activity {
                    sid: entry.sid.clone(),
                    friendly_name: entry.friendly_name.clone(),
                    available: entry.available,
                    created: now,
                    updated: now,
                },
            );
        }
        engine.add_space(space)?;
        let ws = &self.sid;
        for entry in &self.task_queues {
            engine.create_queue(
                ws,
                NewQueue {
                    sid: Some(entry.sid.clone()),
                    friendly_name: entry.friendly_name.clone(),
                    target_workers: Some(entry.target_workers.clone()),
                    max_reserved_workers: Some(entry.max_reserved_workers),
                    task_order: Some(entry.task_order),
                },
            )?;
        }
        for entry in &self.workflows {
            engine.create_workflow(
                ws,
                NewWorkflow {
                    sid: Some(entry.sid.clone()),
                    friendly_name: entry.friendly_name.clone(),
                    configuration: entry.configuration.to_string(),
                    assignment_callback_url: entry.assignment_callback_url.clone(),
                    fallback_assignment_callback_url: entry
                        .fallback_assignment_callback_url
                        .clone(),
                    task_reservation_timeout: Some(entry.task_reservation_timeout),
                },
            )?;
        }
        for entry in &self.workers {
            engine.create_worker(
                ws,
                NewWorker {
                    sid: Some(entry.sid.clone()),
                    friendly_name: entry.friendly_name.clone(),
                    activity: Some(entry.activity.clone()),
                    attributes: Some(Value::Object(entry.attributes.clone()).to_string()),
                    capacities: entry
                        .channels
                        .iter()
                        .map(|(name, capacity)| (name.clone(), *capacity))
                        .collect(),
                },
            )?;
        }
        Ok(self.sid.clone())
    }
}

// ---- Reading --------------------------------------------------------------------------------

fn read_document(root: &Node<'_>) -> Option<WorkspaceDocument> {
    let object = root.object(&WORKSPACE)?;
    let sid = object
        .get("sid")
        .and_then(|node| sid(&node, WorkspaceSid::parse));
    let friendly_name = object.get("friendly_name").and_then(|node| name(&node));
    let event_callback_url = object.get("event_callback_url").and_then(|node| url(&node));
    let events_filter = object.get("events_filter").and_then(|node| {
        let text = node.string()?;
        match EventsFilter::parse(text) {
            Ok(_) => Some(text.to_owned()),
            Err(reason) => {
                node.error(reason);
                None
            }
        }
    });
    let multi_task_enabled = object
        .get("multi_task_enabled")
        .and_then(|node| node.boolean())
        .unwrap_or(true);
    let prioritize_queue_order = object
        .get("prioritize_queue_order")
        .and_then(|node| order(&node))
        .unwrap_or(Order::Fifo);
    let activities = read_list(&object.get("activities"), read_activity);
    let mut seen_names = HashSet::new();
    for (node, entry) in &activities {
        if !seen_names.insert(entry.friendly_name.clone()) {
            node.error(format_args!(
                "the activity name `{}` is used twice: workers and settings name activities by it",
                entry.friendly_name
            ));
        }
    }
    unique(&activities, |entry| entry.sid.to_string(), "activity");
    let activities: Vec<ActivityEntry> = activities.into_iter().map(|(_, entry)| entry).collect();
    if activities.is_empty()
        && let Some(node) = object.get("activities")
        && node.value().is_array()
    {
        node.error("a workspace needs at least one activity: its default activity");
    }
    let resolve = |node: &Node<'_>| -> Option<ActivitySid> {
        let text = node.string()?;
        let found = activities
            .iter()
            .find(|entry| entry.sid.as_str() == text || entry.friendly_name == text);
        match found {
            Some(entry) => Some(entry.sid.clone()),
            None => {
                let mut known: Vec<String> = Vec::new();
                for entry in &activities {
                    let name = format!("`{}`", entry.friendly_name);
                    if !known.contains(&name) {
                        known.push(name);
                    }
                }
                node.error(format_args!(
                    "no activity is called `{text}`: name one of {} (or give its SID)",
                    known.join(", ")
                ));
                None
            }
        }
    };
    let default_activity = match object.get("default_activity") {
        Some(node) => resolve(&node),
        None => activities.first().map(|entry| entry.sid.clone()),
    };
    let timeout_activity = match object.get("timeout_activity") {
        Some(node) => resolve(&node),
        None => default_activity.clone(),
    };
    let task_queues = read_list(&object.get("task_queues"), read_queue);
    unique(&task_queues, |entry| entry.sid.to_string(), "task queue");
    let queue_sids: HashSet<TaskQueueSid> = task_queues
        .iter()
        .map(|(_, entry)| entry.sid.clone())
        .collect();
    let workflows = read_list(&object.get("workflows"), |node| {
        read_workflow(node, &queue_sids)
    });
    unique(&workflows, |entry| entry.sid.to_string(), "workflow");
    let workers = read_list(&object.get("workers"), |node| {
        read_worker(node, &resolve, default_activity.as_ref())
    });
    unique(&workers, |entry| entry.sid.to_string(), "worker");
    Some(WorkspaceDocument {
        sid: sid?,
        friendly_name: friendly_name?,
        event_callback_url,
        events_filter,
        default_activity: default_activity?,
        timeout_activity: timeout_activity?,
        multi_task_enabled,
        prioritize_queue_order,
        activities,
        workers: workers.into_iter().map(|(_, entry)| entry).collect(),
        task_queues: task_queues.into_iter().map(|(_, entry)| entry).collect(),
        workflows: workflows.into_iter().map(|(_, entry)| entry).collect(),
    })
}

/// The entries of a list that read well, each with its node; absent: none.
fn read_list<'r, T>(
    node: &Option<Node<'r>>,
    read: impl Fn(&Node<'r>) -> Option<T>,
) -> Vec<(Node<'r>, T)> {
    let Some(items) = node.as_ref().and_then(Node::array) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|item| {
            let item = named(&item);
            let entry = read(&item)?;
            Some((item, entry))
        })
        .collect()
}

/// Reports every entry whose SID an earlier entry has.
fn unique<T>(entries: &[(Node<'_>, T)], key: impl Fn(&T) -> String, what: &str) {
    let mut seen = HashSet::new();
    for (node, entry) in entries {
        let sid = key(entry);
        if !seen.insert(sid.clone()) {
            node.error(format_args!(
                "{what} {sid} is listed twice: resources are told apart by SID"
            ));
        }
    }
}

/// The entry, called by its name in messages once it has one: ``workers[1] (`alice`)``.
fn named<'r>(node: &Node<'r>) -> Node<'r> {
    match node.value().get("friendly_name").and_then(Value::as_str) {
        Some(name) => node.clone().named(format!("{} (`{name}`)", node.place())),
        None => node.clone(),
    }
}

fn read_activity(node: &Node<'_>) -> Option<ActivityEntry> {
    let object = node.object(&ACTIVITY)?;
    Some(ActivityEntry {
        sid: object
            .get("sid")
            .and_then(|node| sid(&node, ActivitySid::parse))?,
        friendly_name: object.get("friendly_name").and_then(|node| name(&node))?,
        available: object.get("available").and_then(|node| node.boolean())?,
    })
}

fn read_worker(
    node: &Node<'_>,
    resolve: &dyn Fn(&Node<'_>) -> Option<ActivitySid>,
    default_activity: Option<&ActivitySid>,
) -> Option<WorkerEntry> {
    let object = node.object(&WORKER)?;
    let sid = object
        .get("sid")
        .and_then(|node| sid(&node, WorkerSid::parse));
    let friendly_name = object.get("friendly_name").and_then(|node| name(&node));
    let activity = match object.get("activity") {
        Some(node) => resolve(&node),
        None => default_activity.cloned(),
    };
    let attributes = match object.get("attributes") {
        None => Some(Map::new()),
        Some(node) => match node.value() {
            Value::Object(map) => {
                let text = Value::Object(map.clone()).to_string();
                if text.chars().count() > engine::MAX_ATTRIBUTES {
                    node.error(format_args!(
                        "the attributes are {} characters as JSON: TaskRouter takes at most {}",
                        text.chars().count(),
                        engine::MAX_ATTRIBUTES
                    ));
                    None
                } else {
                    Some(map.clone())
                }
            }
            _ => {
                node.wrong_type("an object");
                None
            }
        },
    };
    let channels = match object.get("channels") {
        None => Some(BTreeMap::new()),
        Some(node) => read_channels(&node),
    };
    Some(WorkerEntry {
        sid: sid?,
        friendly_name: friendly_name?,
        activity: activity?,
        attributes: attributes?,
        channels: channels?,
    })
}

fn read_channels(node: &Node<'_>) -> Option<BTreeMap<String, u32>> {
    let Value::Object(map) = node.value() else {
        node.wrong_type("an object of capacities by channel, e.g. {\"chat\": 3}");
        return None;
    };
    let keys = Keys {
        what: "a channel map",
        required: &[],
        optional: &["default", "voice", "chat", "sms", "video", "email"],
    };
    debug_assert!(CHANNELS.iter().all(|(name, _)| keys.allows(name)));
    let object = node.object(&keys)?;
    let mut channels = BTreeMap::new();
    let mut complete = true;
    for key in map.keys() {
        if !keys.allows(key) {
            complete = false;
            continue;
        }
        let Some(capacity) = object
            .get(key)
            .and_then(|node| node.integer(0, i64::from(MAX_CAPACITY)))
        else {
            complete = false;
            continue;
        };
        let capacity = u32::try_from(capacity).unwrap_or(1);
        if capacity != 1 {
            channels.insert(key.clone(), capacity);
        }
    }
    complete.then_some(channels)
}

fn read_queue(node: &Node<'_>) -> Option<QueueEntry> {
    let object = node.object(&QUEUE)?;
    let sid = object
        .get("sid")
        .and_then(|node| sid(&node, TaskQueueSid::parse));
    let friendly_name = object.get("friendly_name").and_then(|node| name(&node));
    let target_workers = match object.get("target_workers") {
        None => Some("1==1".to_owned()),
        Some(node) => node
            .string()
            .and_then(|text| match Expression::parse(text) {
                Ok(_) => Some(text.to_owned()),
                Err(error) => {
                    node.error(format_args!("not a valid expression: {error}"));
                    None
                }
            }),
    };
    let max_reserved_workers = match object.get("max_reserved_workers") {
        None => Some(1),
        Some(node) => node
            .integer(1, i64::from(MAX_RESERVED_WORKERS))
            .and_then(|max| u32::try_from(max).ok()),
    };
    let task_order = match object.get("task_order") {
        None => Some(Order::Fifo),
        Some(node) => order(&node),
    };
    Some(QueueEntry {
        sid: sid?,
        friendly_name: friendly_name?,
        target_workers: target_workers?,
        max_reserved_workers: max_reserved_workers?,
        task_order: task_order?,
    })
}

fn read_workflow(node: &Node<'_>, queues: &HashSet<TaskQueueSid>) -> Option<WorkflowEntry> {
    let object = node.object(&WORKFLOW)?;
    let sid = object
        .get("sid")
        .and_then(|node| sid(&node, WorkflowSid::parse));
    let friendly_name = object.get("friendly_name").and_then(|node| name(&node));
    let configuration = object
        .get("configuration")
        .and_then(|node| configuration(&node, queues));
    let assignment_callback_url = object
        .get("assignment_callback_url")
        .and_then(|node| url(&node));
    let fallback_assignment_callback_url = object
        .get("fallback_assignment_callback_url")
        .and_then(|node| url(&node));
    let task_reservation_timeout = match object.get("task_reservation_timeout") {
        None => Some(DEFAULT_RESERVATION_TIMEOUT),
        Some(node) => node
            .integer(1, i64::from(MAX_RESERVATION_TIMEOUT))
            .and_then(|seconds| u32::try_from(seconds).ok()),
    };
    Some(WorkflowEntry {
        sid: sid?,
        friendly_name: friendly_name?,
        configuration: configuration?,
        assignment_callback_url,
        fallback_assignment_callback_url,
        task_reservation_timeout: task_reservation_timeout?,
    })
}

/// A configuration inline: it parses, and every queue it names is one of the document's.
fn configuration(node: &Node<'_>, queues: &HashSet<TaskQueueSid>) -> Option<Value> {
    if !node.value().is_object() {
        node.wrong_type("the routing document as an object: {\"task_routing\": {…}}");
        return None;
    }
    let parsed = Workflow::from_node(node)?;
    let mut complete = true;
    let named = parsed
        .filters()
        .iter()
        .flat_map(|filter| filter.targets())
        .chain(parsed.default_filter())
        .filter_map(workflow::Target::queue);
    for queue in named {
        if !queues.contains(queue) {
            node.error(format_args!(
                "the configuration routes to queue {queue}, which `task_queues` does not list"
            ));
            complete = false;
        }
    }
    complete.then(|| node.value().clone())
}

fn sid<T>(node: &Node<'_>, parse: fn(&str) -> Result<T, SidError>) -> Option<T> {
    let text = node.string()?;
    match parse(text) {
        Ok(sid) => Some(sid),
        Err(error) => {
            node.error(error);
            None
        }
    }
}

fn name(node: &Node<'_>) -> Option<String> {
    let text = node.string()?;
    if text.trim().is_empty() {
        node.error("a name must not be blank");
        return None;
    }
    Some(text.to_owned())
}

fn url(node: &Node<'_>) -> Option<HttpUrl> {
    let text = node.string()?;
    let url = HttpUrl::new(text);
    if url.is_none() {
        node.error(format_args!(
            "`{text}` is not an absolute http:// or https:// URL with a host"
        ));
    }
    url
}

fn order(node: &Node<'_>) -> Option<Order> {
    let text = node.string()?;
    let order = Order::parse(text);
    if order.is_none() {
        node.error(format_args!("`{text}` is not FIFO or LIFO"));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sid::AccountSid;

    fn sample() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/workflows/workspace.json"
        ))
        .expect("the sample workspace document")
    }

    fn engine() -> Engine {
        Engine::new(
            AccountSid::parse("AC0123456789abcdef0123456789abcdef").expect("sid"),
            "2026-12-02T12:00:00Z".parse().expect("an instant"),
            1,
        )
    }

    #[test]
    fn a_document_loaded_then_exported_is_the_same_document() {
        let mut text = sample();
        // Every key used, the optional ones included.
        let mut value: Value = serde_json::from_str(&text).expect("JSON");
        value["event_callback_url"] = json!("http://127.0.0.1:9000/taskrouter/events");
        value["events_filter"] = json!("task.created,reservation.accepted");
        value["workers"][0]["channels"] = json!({"chat": 3, "voice": 0});
        value["workflows"] = json!([{
            "sid": "WW00000000000000000000000000000001",
            "friendly_name": "Support",
            "assignment_callback_url": "http://127.0.0.1:9000/taskrouter/assignment_callback",
            "fallback_assignment_callback_url": "http://127.0.0.1:9000/taskrouter/assignment_callback",
            "task_reservation_timeout": 30,
            "configuration": {"task_routing": {"filters": [
                {"filter_friendly_name": "support", "expression": "type == 'support'", "targets": [{"queue": "WQ00000000000000000000000000000001", "timeout": 20}]}
            ], "default_filter": {"queue": "WQ00000000000000000000000000000003"}}}
        }]);
        text = serde_json::to_string_pretty(&value).expect("JSON");
        let document = WorkspaceDocument::read("workspace.json", &text).expect("valid");
        let mut engine = engine();
        let ws = document.load(&mut engine).expect("loaded");
        let exported = WorkspaceDocument::of(&engine, &ws).expect("exported");
        assert_eq!(exported, document);
        let again = WorkspaceDocument::read("export.json", &exported.to_json().to_string())
            .expect("the export reads back");
        assert_eq!(again, document);
        assert_eq!(
            document
                .load(&mut engine)
                .expect_err("loaded twice")
                .to_string(),
            "Sid: workspace WS00000000000000000000000000000001 exists already: each workspace document needs its own `sid`"
        );
    }

    #[test]
    fn the_sample_routes_as_the_workers_and_queues_files_did() {
        let document = WorkspaceDocument::read("workspace.json", &sample()).expect("valid");
        let routing = document.routing();
        let workers = routing.workers().expect("known");
        let summary: Vec<(&str, Option<&str>, bool)> = workers
            .iter()
            .map(|worker| {
                (
                    worker.friendly_name().unwrap_or("?"),
                    worker.activity_name(),
                    worker.is_available(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("alice", Some("Available"), true),
                ("bob", Some("Available"), true),
                ("carol", Some("Offline"), false),
                ("dave", Some("Available"), true),
                ("erin", Some("Break"), false)
            ]
        );
        assert_eq!(routing.queues().len(), 8);
    }

    #[test]
    fn every_problem_of_a_document_is_reported_at_once_with_its_line_and_column() {
        let text = r#"{
  "sid": "WS1",
  "friendly_name": "x",
  "activites": [],
  "activities": [
    {"sid": "WA00000000000000000000000000000001", "friendly_name": "Available", "available": true},
    {"sid": "WA00000000000000000000000000000002", "friendly_name": "Available", "available": false},
    {"sid": "WA00000000000000000000000000000003", "friendly_name": "Busy", "available": "no"}
  ],
  "timeout_activity": "Lunch",
  "workers": [
    {"sid": "WK00000000000000000000000000000001", "friendly_name": "alice", "attributes": [], "channels": {"fax": 2}}
  ],
  "task_queues": [
    {"sid": "WQ00000000000000000000000000000001", "friendly_name": "q", "target_workers": "skills HAS", "max_reserved_workers": 51}
  ],
  "workflows": [
    {"sid": "WW00000000000000000000000000000001", "friendly_name": "w",
     "configuration": {"task_routing": {"default_filter": {"queue": "WQ00000000000000000000000000000009"}}}}
  ]
}"#;
        let problems = WorkspaceDocument::read("bad.json", text).expect_err("invalid");
        let lines: Vec<String> = problems.all().iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "bad.json:4:3: error: unknown key `activites`: did you mean `activities`?",
                "bad.json:2:10: error: sid: `WS1` is not a valid workspace SID: expected `WS` followed by 32 hex digits",
                "bad.json:8:89: error: activities[2] (`Busy`), `available`: expected a boolean, found a string",
                "bad.json:7:5: error: activities[1] (`Available`): the activity name `Available` is used twice: workers and settings name activities by it",
                "bad.json:10:23: error: timeout_activity: no activity is called `Lunch`: name one of `Available` (or give its SID)",
                "bad.json:15:91: error: task_queues[0] (`q`), `target_workers`: not a valid expression: unexpected end of expression at column 11\n  skills HAS\n            ^ expected a value after HAS",
                "bad.json:15:129: error: task_queues[0] (`q`), `max_reserved_workers`: 51 is out of range: expected a whole number from 1 to 50",
                "bad.json:19:23: error: workflows[0] (`w`), `configuration`: the configuration routes to queue WQ00000000000000000000000000000009, which `task_queues` does not list",
                "bad.json:12:91: error: workers[0] (`alice`), `attributes`: expected an object, found an array",
                "bad.json:12:108: error: workers[0] (`alice`), `channels`: unknown key `fax`: a channel map has `default`, `voice`, `chat`, `sms`, `video` or `email`",
            ],
            "{problems}"
        );
    }
}
