//! Workflow configurations: TaskRouter's routing document, parsed into a typed model, checked,
//! and routed offline.
//!
//! A Workflow's `Configuration` (docs/taskrouter.md §9,
//! <https://www.twilio.com/docs/taskrouter/workflow-configuration>) sends each new task through the
//! **first filter whose expression matches** its attributes, then through that filter's targets
//! (routing steps) in order, waiting `timeout` seconds in each; a task that matches no filter goes
//! to `default_filter`. When the last step of its filter times out or is skipped, the task goes on
//! to the **next filter below that matches** ([`walk`]):
//!
//! ```json
//! {
//!   "task_routing": {
//!     "filters": [
//!       {
//!         "filter_friendly_name": "Sales Calls",
//!         "expression": "type == 'Sales'",
//!         "targets": [
//!           { "queue": "WQ00000000000000000000000000000002", "timeout": 15, "priority": 5 },
//!           { "queue": "WQ00000000000000000000000000000003", "expression": "worker.level >= 2",
//!             "order_by": "worker.level DESC", "skip_if": "workers.available == 0" }
//!         ]
//!       }
//!     ],
//!     "default_filter": { "queue": "WQ00000000000000000000000000000003" }
//!   }
//! }
//! ```
//!
//! [`Workflow::parse`] turns the text into a [`Workflow`] (every error at once, each naming its
//! place: ``filters[1] (`Sales Calls`), targets[0]: …``); [`Workflow::warnings`] lists what is
//! legal but almost certainly wrong ([`check`]). [`Workflow::arrive`] and
//! [`Workflow::timed_out`] are the routing engine, one move at a time ([`walk`]): given a task,
//! how far it has walked, the workspace's workers and the instant, where it waits and until
//! when; a step is evaluated by [`step`]. [`Workflow::route`] drives them from creation to the
//! end of the walk and answers "where does this task go, and why?" ([`route`]) against the
//! workers and queues of a [`Workspace`], from an instant the caller passes in. Nothing here
//! reads files, the clock or the network.
//!
//! # What each expression reads
//!
//! | where | expression | bare keys | prefixed keys |
//! |---|---|---|---|
//! | filter `expression` | TaskRouter expression | task attributes | `taskrouter.*` (time of day) |
//! | target `expression` | TaskRouter expression | refused: write `task.` or `worker.` | `task.…`, `worker.…` (attributes, and the worker's properties `worker.sid`, `worker.friendly_name`, `worker.activity_sid`, `worker.activity_name`), `taskrouter.*` |
//! | queue `target_workers` | TaskRouter expression | worker attributes | `taskrouter.*` |
//! | target `skip_if` | TaskRouter expression | refused | `workers.available`, `workers.unavailable`, `workers.WA…` (counts of the queue's workers) |
//! | `known_worker_sid` / `known_worker_friendly_name` | one reference | refused | `task.…`: the task attribute holding the worker's SID / friendly name |
//! | `order_by` | `worker.<attribute> ASC\|DESC`, comma-separated | refused | `worker.…` (integer attributes; any other value is ignored) |
//!
//! Sources: <https://www.twilio.com/docs/taskrouter/expression-syntax> (worker properties),
//! <https://www.twilio.com/docs/taskrouter/worker-presence> (`skip_if`),
//! <https://www.twilio.com/docs/taskrouter/order-workers> (`order_by`),
//! <https://www.twilio.com/docs/taskrouter/known-agent-routing> (known workers),
//! <https://www.twilio.com/docs/taskrouter/activity-based-routing> (`worker.activity_*`),
//! <https://www.twilio.com/docs/taskrouter/time-of-day-routing> (`taskrouter.*`).
//!
//! # Decisions where Twilio is silent or loose
//!
//! | question | decision |
//! |---|---|
//! | keys the format does not define | refused, with a suggestion (`timout` → `timeout`) |
//! | `friendly_name` on a filter | accepted as `filter_friendly_name` (Twilio's Java helper reads both, `WorkflowRule.java`); not both |
//! | numbers written as strings (`"priority": "100"`, as on Twilio's known-agent page) or as `10.0` | accepted when they hold a whole number; the model keeps the number |
//! | `priority` | 0 to 2,147,483,647, the range of a task's priority (docs/taskrouter.md §1); the
//! Workflow pages state no range of their own |
//! | `timeout` | 1 to 1,209,600 s: a target's timeout "must be a positive integer"
//! (<https://www.twilio.com/docs/taskrouter/workflow-configuration>); the upper bound is ours: a
//! step cannot usefully wait longer than the longest task TTL, `Timeout` ≤ 1,209,600 s on
//! `CreateTask` (docs/taskrouter.md §7) |
//! | the document's size | at most 1 MB (<https://www.twilio.com/docs/taskrouter/limits>,
//! docs/taskrouter.md §12), read as 1,048,576 bytes of the text as written, whitespace included |
//! | the number of filters and targets | not bounded: the Workflow pages state no bound; the 1 MB document bounds them in practice |
//! | a target without `queue` | inherits the previous target's queue (Twilio's lifecycle example and known-agent page: "the inherited TaskQueue"); the first target of a filter must name one |
//! | `default_filter` | optional (a warning when absent); takes the keys of a target, `queue` required (Twilio's Java helper reads it as a target), except `timeout`, refused: it holds a task until its TTL and "does not count as a subsequent filter for the purposes of a timeout" (<https://www.twilio.com/docs/taskrouter/workflow-configuration>); its `skip_if` is never evaluated, since no step follows it (a warning) |
//! | a filter without targets | refused: a matching task would wait nowhere |
//! | `known_worker_sid` and `known_worker_friendly_name` together | refused (the known-agent page: "one or the other") |
//! | `order_by` direction | required, `ASC` or `DESC` in any case |
//! | `order_by` on a value that is not a JSON integer (`1.5`, `2.0`, `"high"`) | that worker is ordered as one without the attribute: last, in either direction (<https://www.twilio.com/docs/taskrouter/order-workers> orders by "an integer value" and puts workers without it last) |
//! | the last step of a filter times out | the task goes on to the next filter below that matches;
//! when none does it is canceled, `default_filter` not counting
//! (<https://www.twilio.com/docs/taskrouter/workflow-configuration>). Twilio's pages disagree here:
//! the task lifecycle pages (docs/taskrouter.md §12) count "falling off the last Workflow step"
//! among the ways a task is canceled, with no word of the filters below; the workflow-configuration page says the task first goes on to the next matching filter and is canceled only when none matches. That statement is the more specific one and is followed |
//! | the last step of a filter is skipped (`skip_if`) | the task goes on to the next filter below that matches, else to `default_filter` (<https://www.twilio.com/docs/taskrouter/worker-presence>), also when it waited in an earlier step of that filter |
//! | the timeout of a step after one skipped at once | the summed timeouts of every step walked, skipped ones included, count against the task's age (<https://www.twilio.com/docs/taskrouter/task-evaluation> sums them); a skipped step without `timeout` adds nothing |
//! | `taskrouter.*` after a fall-through | read at the instant the task looks for the next filter (creation plus its age), not at creation |
//! | `taskrouter.<name>` | the expression parser's rules, in every expression: only `currentTime`, `currentHour`, `currentMin`, `dayOfWeek` (anything else is a syntax error with a suggestion), day literals in any case (`'THU'`), `=` for `==` ([`crate::expression`]); a target expression may read them without `task.` or `worker.`; `skip_if` may not |
//!
//! # Equality and the canonical form
//!
//! [`Workflow`]'s equality is semantic: whitespace and key order of the JSON, number formatting
//! (`10`, `10.0`, `"10"`), `friendly_name` for `filter_friendly_name`, and the spelling of an
//! expression (quotes, keyword case, spaces, redundant parentheses; see
//! [`Expression::same_condition`]) never make two configurations differ. [`Workflow::to_json`]
//! writes the one canonical document of a model; [`diff`] lists the differences between two,
//! filter by filter and target by target.

pub mod check;
pub mod diff;
mod parse;
pub mod route;
pub mod step;
pub mod walk;
pub mod workspace;

use std::fmt;

use serde_json::{Map, Value, json};

use crate::expression::{Expression, Reference};
use crate::sid::TaskQueueSid;

pub use check::Warning;
pub use route::Route;
pub use step::{Place, Step};
pub use walk::{Arrival, Cause, Entry, Move, Progress, Rest};
pub use workspace::{Queue, Worker, Workspace};

/// The largest `priority`: a task's priority is at most 2^31 − 1 (docs/taskrouter.md §1).
pub const MAX_PRIORITY: u64 = i32::MAX as u64;

/// The largest `timeout`, in seconds: the longest task TTL (`Timeout` on `CreateTask`,
/// docs/taskrouter.md §7). Twilio documents no upper bound for a step's timeout.
pub const MAX_TIMEOUT: u64 = crate::limits::MAX_TASK_TIMEOUT as u64;

/// The smallest `timeout`, in seconds: a target's timeout "must be a positive integer"
/// (<https://www.twilio.com/docs/taskrouter/workflow-configuration>).
pub const MIN_TIMEOUT: u64 = 1;

/// The largest configuration, in bytes of its text: TaskRouter's limit on a Workflow
/// configuration is 1 MB (docs/taskrouter.md §12, <https://www.twilio.com/docs/taskrouter/limits>),
/// read as 1,048,576 bytes.
pub const MAX_CONFIGURATION_BYTES: usize = 1024 * 1024;

/// A parsed Workflow configuration.
#[derive(Debug, Clone)]
pub struct Workflow {
    filters: Vec<Filter>,
    default_filter: Option<Target>,
}

/// A filter: an expression over task attributes and the routing steps of the tasks it matches.
#[derive(Debug, Clone)]
pub struct Filter {
    name: Option<String>,
    expression: Expression,
    targets: Vec<Target>,
}

/// A target (a routing step, in the Console's words).
#[derive(Debug, Clone)]
pub struct Target {
    queue: Option<TaskQueueSid>,
    expression: Option<Expression>,
    priority: Option<u64>,
    timeout: Option<u64>,
    order_by: Vec<OrderBy>,
    skip_if: Option<Expression>,
    known_worker: Option<KnownWorker>,
}

/// One `order_by` clause: `worker.level DESC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// The worker attribute, as written (`worker.level`).
    pub attribute: Reference,
    /// Its direction.
    pub direction: Direction,
}

/// The direction of an [`OrderBy`] clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `ASC`: smallest value first.
    Ascending,
    /// `DESC`: largest value first.
    Descending,
}

/// How a target names its known worker: by the task attribute holding the worker's SID or its
/// friendly name (<https://www.twilio.com/docs/taskrouter/known-agent-routing>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KnownWorker {
    /// `known_worker_sid`: e.g. `task.agent_sid`.
    Sid(Reference),
    /// `known_worker_friendly_name`: e.g. `task.agent_name`.
    FriendlyName(Reference),
}

impl KnownWorker {
    /// The key as the configuration writes it.
    pub fn key(&self) -> &'static str {
        match self {
            KnownWorker::Sid(_) => "known_worker_sid",
            KnownWorker::FriendlyName(_) => "known_worker_friendly_name",
        }
    }

    /// The task reference, e.g. `task.agent_sid`.
    pub fn reference(&self) -> &Reference {
        match self {
            KnownWorker::Sid(reference) | KnownWorker::FriendlyName(reference) => reference,
        }
    }
}

impl Workflow {
    /// The filters, top to bottom.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// The target of tasks no filter matches, if any.
    pub fn default_filter(&self) -> Option<&Target> {
        self.default_filter.as_ref()
    }

    /// The number of targets of all filters, not counting the default.
    pub fn target_count(&self) -> usize {
        self.filters.iter().map(|filter| filter.targets.len()).sum()
    }

    /// Whether some expression reads TaskRouter's time of day (`taskrouter.*`).
    pub fn uses_time_of_day(&self) -> bool {
        let targets = self
            .filters
            .iter()
            .flat_map(|filter| filter.targets.iter())
            .chain(self.default_filter.iter());
        self.filters
            .iter()
            .map(|filter| &filter.expression)
            .chain(targets.filter_map(|target| target.expression.as_ref()))
            .any(|expression| {
                expression
                    .references()
                    .any(|reference| reference.time_of_day().is_some())
            })
    }

    /// The canonical document: `task_routing` with `filters` and `default_filter`, keys in a
    /// fixed order, numbers as JSON integers, `filter_friendly_name` for either spelling,
    /// expressions in their [canonical form](Expression::canonical), absent optional keys left
    /// out. Two equal workflows give the same document.
    pub fn to_json(&self) -> Value {
        let filters: Vec<Value> = self.filters.iter().map(Filter::to_json).collect();
        let mut routing = Map::new();
        routing.insert("filters".to_owned(), Value::Array(filters));
        if let Some(default) = &self.default_filter {
            routing.insert("default_filter".to_owned(), default.to_json());
        }
        json!({ "task_routing": routing })
    }
}

impl PartialEq for Workflow {
    fn eq(&self, other: &Self) -> bool {
        self.filters == other.filters && self.default_filter == other.default_filter
    }
}

impl Filter {
    /// `filter_friendly_name`, if given.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The expression over task attributes.
    pub fn expression(&self) -> &Expression {
        &self.expression
    }

    /// The targets, in order; never empty.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Whether a matching task can leave the filter for the next ones: every target has a
    /// `timeout` or a `skip_if`, so no step holds it until its TTL. A task leaves a filter when
    /// its last step times out or is skipped ([`walk`]).
    pub fn can_be_left(&self) -> bool {
        self.targets
            .iter()
            .all(|target| target.timeout.is_some() || target.skip_if.is_some())
    }

    /// The queue of `targets[position]`: its own, or the nearest earlier target's; `None` only
    /// past the last target (the parser makes the first target name a queue).
    pub fn queue_of(&self, position: usize) -> Option<&TaskQueueSid> {
        self.targets
            .get(..=position)?
            .iter()
            .rev()
            .find_map(|target| target.queue.as_ref())
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        if let Some(name) = &self.name {
            map.insert(
                "filter_friendly_name".to_owned(),
                Value::from(name.as_str()),
            );
        }
        map.insert(
            "expression".to_owned(),
            Value::from(self.expression.canonical()),
        );
        map.insert(
            "targets".to_owned(),
            Value::Array(self.targets.iter().map(Target::to_json).collect()),
        );
        Value::Object(map)
    }
}

impl PartialEq for Filter {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.expression.same_condition(&other.expression)
            && self.targets == other.targets
    }
}

impl Target {
    /// `queue`; `None` when the target inherits the previous target's queue.
    pub fn queue(&self) -> Option<&TaskQueueSid> {
        self.queue.as_ref()
    }

    /// `expression` over `task.` and `worker.`; `None` means every worker of the queue.
    pub fn expression(&self) -> Option<&Expression> {
        self.expression.as_ref()
    }

    /// `priority`: the task's priority while in this step; `None` keeps the task's own.
    pub fn priority(&self) -> Option<u64> {
        self.priority
    }

    /// `timeout` in seconds; `None` waits until the task's TTL.
    pub fn timeout(&self) -> Option<u64> {
        self.timeout
    }

    /// `order_by` clauses, in order; empty means the worker idle longest goes first.
    pub fn order_by(&self) -> &[OrderBy] {
        &self.order_by
    }

    /// `skip_if`, over `workers.*`.
    pub fn skip_if(&self) -> Option<&Expression> {
        self.skip_if.as_ref()
    }

    /// `known_worker_sid` or `known_worker_friendly_name`.
    pub fn known_worker(&self) -> Option<&KnownWorker> {
        self.known_worker.as_ref()
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        if let Some(queue) = &self.queue {
            map.insert("queue".to_owned(), Value::from(queue.as_str()));
        }
        if let Some(expression) = &self.expression {
            map.insert("expression".to_owned(), Value::from(expression.canonical()));
        }
        if let Some(priority) = self.priority {
            map.insert("priority".to_owned(), Value::from(priority));
        }
        if let Some(timeout) = self.timeout {
            map.insert("timeout".to_owned(), Value::from(timeout));
        }
        if !self.order_by.is_empty() {
            map.insert(
                "order_by".to_owned(),
                Value::from(order_by_text(&self.order_by)),
            );
        }
        if let Some(skip_if) = &self.skip_if {
            map.insert("skip_if".to_owned(), Value::from(skip_if.canonical()));
        }
        if let Some(known) = &self.known_worker {
            map.insert(
                known.key().to_owned(),
                Value::from(known.reference().as_str()),
            );
        }
        Value::Object(map)
    }
}

impl PartialEq for Target {
    fn eq(&self, other: &Self) -> bool {
        self.queue == other.queue
            && same_expression(self.expression.as_ref(), other.expression.as_ref())
            && self.priority == other.priority
            && self.timeout == other.timeout
            && self.order_by == other.order_by
            && same_expression(self.skip_if.as_ref(), other.skip_if.as_ref())
            && self.known_worker == other.known_worker
    }
}

impl fmt::Display for OrderBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let direction = match self.direction {
            Direction::Ascending => "ASC",
            Direction::Descending => "DESC",
        };
        write!(f, "{} {direction}", self.attribute)
    }
}

/// `worker.a DESC, worker.b ASC`
/// `order_by` clauses as written in a configuration, comma-separated.
pub(crate) fn order_by_text(clauses: &[OrderBy]) -> String {
    clauses
        .iter()
        .map(OrderBy::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn same_expression(a: Option<&Expression>, b: Option<&Expression>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same_condition(b),
        _ => false,
    }
}

/// Where something sits in the document, for messages: ``filters[1] (`Sales Calls`)``.
pub(crate) fn filter_place(index: usize, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("filters[{index}] (`{name}`)"),
        None => format!("filters[{index}]"),
    }
}

/// Test helpers shared by the Workflow modules' tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    /// Every `workflows/examples/*.json`, with its text.
    pub(crate) fn examples() -> Vec<(PathBuf, String)> {
        let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/workflows/examples");
        std::fs::read_dir(directory)
            .expect("the examples directory")
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| {
                path.extension()
                    .is_some_and(|extension| extension == "json")
            })
            .map(|path| {
                let text = std::fs::read_to_string(&path).expect("readable");
                (path, text)
            })
            .collect()
    }
}
