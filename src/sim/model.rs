//! TaskRouter's resources as the REST API answers them: one struct per schema of Twilio's
//! OpenAPI description (`twilio_taskrouter_v1.json`, `components.schemas.taskrouter.v1.*`), with
//! its field names and types, its `url` and `links`, and the paging envelope of the list
//! operations ([`page`]). Serialising one is the answer; `tests/function/sim.rs` checks every
//! answer against the description.
//!
//! Each is a view of the engine's state at one moment, built with the base URL the client used
//! ([`Urls`]), so that `url`, `links` and the paging URLs lead back to the simulator. Fields
//! TaskRouter fills and the simulator does not model (`addons`, a queue's reservation and
//! assignment activities, an event's `source_ip_address`) are answered as TaskRouter answers
//! them when unset: `{}` or `null`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::rest::resources::ReservationStatus;
use crate::sid::{
    AccountSid, ActivitySid, EventSid, ReservationSid, TaskChannelSid, TaskQueueSid, TaskSid,
    WorkerChannelSid, WorkerSid, WorkflowSid, WorkspaceSid,
};

use super::events::snake_case;
use super::state::{
    Activity as ActivityState, Channel, EventRecord, QueueState, ReservationState, Space,
    TaskState, WorkerChannel as ChannelState, WorkflowState,
};

/// The base URL answers point at: the scheme and host the client called, e.g.
/// `http://127.0.0.1:4010`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urls {
    base: String,
}

impl Urls {
    /// URLs under `base` (no trailing slash).
    pub fn new(base: impl Into<String>) -> Self {
        let base: String = base.into();
        Self {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// `base` + `path`.
    pub fn of(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn workspace(&self, ws: &WorkspaceSid) -> String {
        self.of(&format!("/v1/Workspaces/{ws}"))
    }

    fn links(&self, entries: &[(&'static str, String)]) -> BTreeMap<&'static str, String> {
        entries
            .iter()
            .map(|(name, path)| (*name, self.of(path)))
            .collect()
    }
}

/// An instant as TaskRouter writes it: RFC 3339, whole seconds, UTC (`2014-05-14T10:50:02Z`).
pub fn date(instant: Timestamp) -> String {
    instant.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `taskrouter.v1.workspace`.
#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    account_sid: AccountSid,
    date_created: String,
    date_updated: String,
    default_activity_name: Option<String>,
    default_activity_sid: ActivitySid,
    event_callback_url: Option<String>,
    events_filter: Option<String>,
    friendly_name: String,
    multi_task_enabled: bool,
    sid: WorkspaceSid,
    timeout_activity_name: Option<String>,
    timeout_activity_sid: ActivitySid,
    prioritize_queue_order: &'static str,
    url: String,
    links: BTreeMap<&'static str, String>,
}

impl Workspace {
    pub(crate) fn of(account: &AccountSid, space: &Space, urls: &Urls) -> Self {
        let ws = &space.sid;
        let name = |sid: &ActivitySid| space.activity(sid).map(|a| a.friendly_name.clone());
        let path = |tail: &str| format!("/v1/Workspaces/{ws}/{tail}");
        Self {
            account_sid: account.clone(),
            date_created: date(space.created),
            date_updated: date(space.updated),
            default_activity_name: name(&space.default_activity),
            default_activity_sid: space.default_activity.clone(),
            event_callback_url: space
                .event_callback_url
                .as_ref()
                .map(|url| url.as_str().to_owned()),
            events_filter: space.events_filter.as_ref().map(|(text, _)| text.clone()),
            friendly_name: space.friendly_name.clone(),
            multi_task_enabled: space.multi_task_enabled,
            sid: ws.clone(),
            timeout_activity_name: name(&space.timeout_activity),
            timeout_activity_sid: space.timeout_activity.clone(),
            prioritize_queue_order: space.prioritize_queue_order.as_str(),
            url: urls.workspace(ws),
            links: urls.links(&[
                ("activities", path("Activities")),
                ("statistics", path("Statistics")),
                ("real_time_statistics", path("RealTimeStatistics")),
                ("cumulative_statistics", path("CumulativeStatistics")),
                ("task_queues", path("TaskQueues")),
                ("tasks", path("Tasks")),
                ("workers", path("Workers")),
                ("workflows", path("Workflows")),
                ("task_channels", path("TaskChannels")),
                ("events", path("Events")),
            ]),
        }
    }
}

/// `taskrouter.v1.workspace.activity`.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    account_sid: AccountSid,
    available: bool,
    date_created: String,
    date_updated: String,
    friendly_name: String,
    sid: ActivitySid,
    workspace_sid: WorkspaceSid,
    url: String,
    links: BTreeMap<&'static str, String>,
}

impl Activity {
    pub(crate) fn of(
        account: &AccountSid,
        space: &Space,
        activity: &ActivityState,
        urls: &Urls,
    ) -> Self {
        let ws = &space.sid;
        Self {
            account_sid: account.clone(),
            available: activity.available,
            date_created: date(activity.created),
            date_updated: date(activity.updated),
            friendly_name: activity.friendly_name.clone(),
            sid: activity.sid.clone(),
            workspace_sid: ws.clone(),
            url: urls.of(&format!("/v1/Workspaces/{ws}/Activities/{}", activity.sid)),
            links: urls.links(&[("workspace", format!("/v1/Workspaces/{ws}"))]),
        }
    }
}

/// `taskrouter.v1.workspace.worker`.
#[derive(Debug, Clone, Serialize)]
pub struct Worker {
    account_sid: AccountSid,
    activity_name: Option<String>,
    activity_sid: ActivitySid,
    attributes: String,
    available: bool,
    date_created: String,
    date_status_changed: String,
    date_updated: String,
    friendly_name: Option<String>,
    sid: WorkerSid,
    workspace_sid: WorkspaceSid,
    url: String,
    links: BTreeMap<&'static str, String>,
}

impl Worker {
    pub(crate) fn of(account: &AccountSid, space: &Space, at: usize, urls: &Urls) -> Self {
        let ws = &space.sid;
        let worker = space.workers.at(at);
        let routing = space.routing_worker(at);
        let activity = space.activity(&worker.activity);
        let sid = &worker.sid;
        let path = |tail: &str| format!("/v1/Workspaces/{ws}/Workers/{tail}");
        Self {
            account_sid: account.clone(),
            activity_name: activity.map(|a| a.friendly_name.clone()),
            activity_sid: worker.activity.clone(),
            attributes: worker.attributes_text.clone(),
            available: activity.is_some_and(|a| a.available),
            date_created: date(worker.created),
            date_status_changed: date(worker.status_changed),
            date_updated: date(worker.updated),
            friendly_name: routing.friendly_name().map(str::to_owned),
            sid: sid.clone(),
            workspace_sid: ws.clone(),
            url: urls.of(&path(sid.as_str())),
            links: urls.links(&[
                ("channels", path(&format!("{sid}/Channels"))),
                (
                    "activity",
                    format!("/v1/Workspaces/{ws}/Activities/{}", worker.activity),
                ),
                ("workspace", format!("/v1/Workspaces/{ws}")),
                ("statistics", path("Statistics")),
                ("real_time_statistics", path("RealTimeStatistics")),
                ("cumulative_statistics", path("CumulativeStatistics")),
                ("worker_statistics", path(&format!("{sid}/Statistics"))),
                ("worker_channels", path(&format!("{sid}/Channels"))),
                ("reservations", path(&format!("{sid}/Reservations"))),
            ]),
        }
    }
}

/// `taskrouter.v1.workspace.worker.worker_channel`.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerChannel {
    account_sid: AccountSid,
    assigned_tasks: u32,
    available: bool,
    available_capacity_percentage: u32,
    configured_capacity: u32,
    date_created: String,
    date_updated: String,
    sid: WorkerChannelSid,
    task_channel_sid: TaskChannelSid,
    task_channel_unique_name: String,
    worker_sid: WorkerSid,
    workspace_sid: WorkspaceSid,
    url: String,
}

impl WorkerChannel {
    pub(crate) fn of(
        account: &AccountSid,
        space: &Space,
        worker: usize,
        channel: &ChannelState,
        urls: &Urls,
    ) -> Self {
        let ws = &space.sid;
        let sid = &space.workers.at(worker).sid;
        let assigned = space
            .reservations
            .all()
            .iter()
            .filter(|reservation| {
                reservation.worker == worker
                    && reservation.channel == channel.unique_name
                    && matches!(
                        reservation.status,
                        ReservationStatus::Accepted | ReservationStatus::Wrapping
                    )
            })
            .count();
        let assigned = u32::try_from(assigned).unwrap_or(u32::MAX);
        let free = channel.capacity.saturating_sub(channel.load);
        let percentage = free
            .saturating_mul(100)
            .checked_div(channel.capacity)
            .unwrap_or(0);
        Self {
            account_sid: account.clone(),
            assigned_tasks: assigned,
            available: channel.available,
            available_capacity_percentage: percentage,
            configured_capacity: channel.capacity,
            date_created: date(channel.created),
            date_updated: date(channel.updated),
            sid: channel.sid.clone(),
            task_channel_sid: channel.channel.clone(),
            task_channel_unique_name: channel.unique_name.clone(),
            worker_sid: sid.clone(),
            workspace_sid: ws.clone(),
            url: urls.of(&format!(
                "/v1/Workspaces/{ws}/Workers/{sid}/Channels/{}",
                channel.sid
            )),
        }
    }
}

/// `taskrouter.v1.workspace.task_channel`.
#[derive(Debug, Clone, Serialize)]
pub struct TaskChannel {
    account_sid: AccountSid,
    date_created: String,
    date_updated: String,
    friendly_name: String,
    sid: TaskChannelSid,
    unique_name: String,
    workspace_sid: WorkspaceSid,
    channel_optimized_routing: Option<bool>,
    url: String,
    links: BTreeMap<&'static str, String>,
}

impl TaskChannel {
    pub(crate) fn of(account: &AccountSid, space: &Space, channel: &Channel, urls: &Urls) -> Self {
        let ws = &space.sid;
        Self {
            account_sid: account.clone(),
            date_created: date(channel.created),
            date_updated: date(channel.created),
            friendly_name: channel.friendly_name.clone(),
            sid: channel.sid.clone(),
            unique_name: channel.unique_name.clone(),
            workspace_sid: ws.clone(),
            channel_optimized_routing: None,
            url: urls.of(&format!("/v1/Workspaces/{ws}/TaskChannels/{}", channel.sid)),
            links: urls.links(&[("workspace", format!("/v1/Workspaces/{ws}"))]),
        }
    }
}

/// `taskrouter.v1.workspace.task_queue`.
#[derive(Debug, Clone, Serialize)]
pub struct TaskQueue {
    account_sid: AccountSid,
    assignment_activity_sid: Option<ActivitySid>,
    assignment_activity_name: Option<String>,
    date_created: String,
    date_updated: String,
    friendly_name: Option<String>,
    max_reserved_workers: u32,
    reservation_activity_sid: Option<ActivitySid>,
    reservation_activity_name: Option<String>,
    sid: TaskQueueSid,
    target_workers: String,
    task_order: &'static str,
    url: String,
    workspace_sid: WorkspaceSid,
    links: BTreeMap<&'static str, String>,
}

impl TaskQueue {
    pub(crate) fn of(account: &AccountSid, space: &Space, at: usize, urls: &Urls) -> Self {
        let ws = &space.sid;
        let queue: &QueueState = space.queues.at(at);
        let routing = space.routing_queue(at);
        let sid = &queue.sid;
        let path = |tail: &str| format!("/v1/Workspaces/{ws}/TaskQueues/{tail}");
        Self {
            account_sid: account.clone(),
            assignment_activity_sid: None,
            assignment_activity_name: None,
            date_created: date(queue.created),
            date_updated: date(queue.updated),
            friendly_name: routing.friendly_name().map(str::to_owned),
            max_reserved_workers: queue.max_reserved_workers,
            reservation_activity_sid: None,
            reservation_activity_name: None,
            sid: sid.clone(),
            target_workers: routing.target_workers().source().to_owned(),
            task_order: queue.task_order.as_str(),
            url: urls.of(&path(sid.as_str())),
            workspace_sid: ws.clone(),
            links: urls.links(&[
                ("workspace", format!("/v1/Workspaces/{ws}")),
                ("statistics", path(&format!("{sid}/Statistics"))),
                (
                    "real_time_statistics",
                    path(&format!("{sid}/RealTimeStatistics")),
                ),
                (
                    "cumulative_statistics",
                    path(&format!("{sid}/CumulativeStatistics")),
                ),
                ("list_statistics", path("Statistics")),
                ("bulk_real_time_statistics", path("RealTimeStatistics")),
            ]),
        }
    }
}

/// `taskrouter.v1.workspace.workflow`.
#[derive(Debug, Clone, Serialize)]
pub struct Workflow {
    account_sid: AccountSid,
    assignment_callback_url: Option<String>,
    configuration: String,
    date_created: String,
    date_updated: String,
    document_content_type: &'static str,
    fallback_assignment_callback_url: Option<String>,
    friendly_name: String,
    sid: WorkflowSid,
    task_reservation_timeout: u32,
    workspace_sid: WorkspaceSid,
    url: String,
    links: BTreeMap<&'static str, String>,
}

impl Workflow {
    pub(crate) fn of(
        account: &AccountSid,
        space: &Space,
        workflow: &WorkflowState,
        urls: &Urls,
    ) -> Self {
        let ws = &space.sid;
        let sid = &workflow.sid;
        let path = |tail: &str| format!("/v1/Workspaces/{ws}/Workflows/{sid}{tail}");
        Self {
            account_sid: account.clone(),
            assignment_callback_url: workflow
                .assignment_callback_url
                .as_ref()
                .map(|url| url.as_str().to_owned()),
            configuration: workflow.configuration_text.clone(),
            date_created: date(workflow.created),
            date_updated: date(workflow.updated),
            document_content_type: "application/json",
            fallback_assignment_callback_url: workflow
                .fallback_assignment_callback_url
                .as_ref()
                .map(|url| url.as_str().to_owned()),
            friendly_name: workflow.friendly_name.clone(),
            sid: sid.clone(),
            task_reservation_timeout: workflow.task_reservation_timeout,
            workspace_sid: ws.clone(),
            url: urls.of(&path("")),
            links: urls.links(&[
                ("statistics", path("/Statistics")),
                ("real_time_statistics", path("/RealTimeStatistics")),
                ("cumulative_statistics", path("/CumulativeStatistics")),
            ]),
        }
    }
}

/// `taskrouter.v1.workspace.task`.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    account_sid: AccountSid,
    age: u64,
    assignment_status: &'static str,
    attributes: String,
    addons: &'static str,
    date_created: String,
    date_updated: String,
    task_queue_entered_date: Option<String>,
    priority: i64,
    reason: Option<String>,
    sid: TaskSid,
    task_queue_sid: Option<TaskQueueSid>,
    task_queue_friendly_name: Option<String>,
    task_channel_sid: TaskChannelSid,
    task_channel_unique_name: Option<String>,
    timeout: u32,
    workflow_sid: WorkflowSid,
    workflow_friendly_name: Option<String>,
    workspace_sid: WorkspaceSid,
    url: String,
    links: BTreeMap<&'static str, String>,
    virtual_start_time: String,
    ignore_capacity: bool,
    routing_target: Option<String>,
}

impl Task {
    pub(crate) fn of(
        account: &AccountSid,
        space: &Space,
        task: &TaskState,
        now: Timestamp,
        urls: &Urls,
    ) -> Self {
        let ws = &space.sid;
        let sid = &task.sid;
        let queue_name = task.queue.as_ref().and_then(|queue| {
            space
                .queues
                .find(queue)
                .and_then(|at| space.routing_queue(at).friendly_name())
                .map(str::to_owned)
        });
        let mut links = vec![
            (
                "workflow",
                format!("/v1/Workspaces/{ws}/Workflows/{}", task.workflow),
            ),
            ("workspace", format!("/v1/Workspaces/{ws}")),
            (
                "reservations",
                format!("/v1/Workspaces/{ws}/Tasks/{sid}/Reservations"),
            ),
        ];
        if let Some(queue) = &task.queue {
            links.push((
                "task_queue",
                format!("/v1/Workspaces/{ws}/TaskQueues/{queue}"),
            ));
        }
        Self {
            account_sid: account.clone(),
            age: u64::try_from(now.duration_since(task.created).as_secs()).unwrap_or(0),
            assignment_status: task.status.as_str(),
            attributes: task.attributes_text.clone(),
            addons: "{}",
            date_created: date(task.created),
            date_updated: date(task.updated),
            task_queue_entered_date: task.queue_entered.map(date),
            priority: task.priority,
            reason: task.reason.clone(),
            sid: sid.clone(),
            task_queue_sid: task.queue.clone(),
            task_queue_friendly_name: queue_name,
            task_channel_sid: task.channel.clone(),
            task_channel_unique_name: space
                .channels
                .get(&task.channel)
                .map(|channel| channel.unique_name.clone()),
            timeout: task.timeout,
            workflow_sid: task.workflow.clone(),
            workflow_friendly_name: space
                .workflows
                .get(&task.workflow)
                .map(|workflow| workflow.friendly_name.clone()),
            workspace_sid: ws.clone(),
            url: urls.of(&format!("/v1/Workspaces/{ws}/Tasks/{sid}")),
            links: urls.links(&links),
            virtual_start_time: date(task.virtual_start),
            ignore_capacity: task.ignore_capacity,
            routing_target: task.routing_target.clone(),
        }
    }
}

/// `taskrouter.v1.workspace.task.task_reservation` and
/// `taskrouter.v1.workspace.worker.worker_reservation` (the same fields; the `url` is the path it
/// was reached by).
#[derive(Debug, Clone, Serialize)]
pub struct Reservation {
    account_sid: AccountSid,
    date_created: String,
    date_updated: String,
    reservation_status: ReservationStatus,
    sid: ReservationSid,
    task_sid: TaskSid,
    worker_name: Option<String>,
    worker_sid: WorkerSid,
    workspace_sid: WorkspaceSid,
    url: String,
    links: BTreeMap<&'static str, String>,
}

/// Which path a reservation is answered under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReachedBy {
    /// `…/Tasks/{WT}/Reservations/{WR}`.
    Task,
    /// `…/Workers/{WK}/Reservations/{WR}`.
    Worker,
}

impl Reservation {
    pub(crate) fn of(
        account: &AccountSid,
        space: &Space,
        reservation: &ReservationState,
        by: ReachedBy,
        urls: &Urls,
    ) -> Self {
        let ws = &space.sid;
        let task = &space.tasks.at(reservation.task).sid;
        let worker = &space.workers.at(reservation.worker).sid;
        let sid = &reservation.sid;
        let path = match by {
            ReachedBy::Task => format!("/v1/Workspaces/{ws}/Tasks/{task}/Reservations/{sid}"),
            ReachedBy::Worker => format!("/v1/Workspaces/{ws}/Workers/{worker}/Reservations/{sid}"),
        };
        Self {
            account_sid: account.clone(),
            date_created: date(reservation.created),
            date_updated: date(reservation.updated),
            reservation_status: reservation.status.clone(),
            sid: sid.clone(),
            task_sid: task.clone(),
            worker_name: space
                .routing_worker(reservation.worker)
                .friendly_name()
                .map(str::to_owned),
            worker_sid: worker.clone(),
            workspace_sid: ws.clone(),
            url: urls.of(&path),
            links: urls.links(&[
                ("task", format!("/v1/Workspaces/{ws}/Tasks/{task}")),
                ("worker", format!("/v1/Workspaces/{ws}/Workers/{worker}")),
                ("workspace", format!("/v1/Workspaces/{ws}")),
            ]),
        }
    }
}

/// `taskrouter.v1.workspace.event`.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    account_sid: AccountSid,
    actor_sid: WorkspaceSid,
    actor_type: &'static str,
    actor_url: String,
    description: String,
    event_data: Map<String, Value>,
    event_date: String,
    event_date_ms: i64,
    event_type: &'static str,
    resource_sid: String,
    resource_type: &'static str,
    resource_url: String,
    sid: EventSid,
    source: &'static str,
    source_ip_address: Option<String>,
    url: String,
    workspace_sid: WorkspaceSid,
}

impl Event {
    pub(crate) fn of(
        account: &AccountSid,
        space: &Space,
        event: &EventRecord,
        urls: &Urls,
    ) -> Self {
        let ws = &space.sid;
        let mut data = Map::new();
        data.insert("workspace_sid".to_owned(), json!(ws));
        data.insert("workspace_name".to_owned(), json!(space.friendly_name));
        for (name, value) in &event.data {
            data.insert(snake_case(name), Value::from(value.as_str()));
        }
        Self {
            account_sid: account.clone(),
            // TaskRouter itself acts: the workspace.
            actor_sid: ws.clone(),
            actor_type: "workspace",
            actor_url: urls.workspace(ws),
            description: event.description.clone(),
            event_data: data,
            event_date: date(event.date),
            event_date_ms: event.date.as_millisecond(),
            event_type: event.event_type.as_str(),
            resource_sid: event.resource_sid.clone(),
            resource_type: event.resource_type,
            resource_url: urls.of(&event.resource_path),
            sid: event.sid.clone(),
            source: "twilio",
            source_ip_address: None,
            url: urls.of(&format!("/v1/Workspaces/{ws}/Events/{}", event.sid)),
            workspace_sid: ws.clone(),
        }
    }
}

/// The paging envelope of a list answer (`meta` in every `List…` operation of the description).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meta {
    first_page_url: String,
    key: &'static str,
    next_page_url: Option<String>,
    page: usize,
    page_size: usize,
    previous_page_url: Option<String>,
    url: String,
}

/// The answer of a list operation: page `page` of `items` under `key`, `page_size` to a page,
/// with the paging URLs built from `path` and the list's filters (`query`, without `Page` and
/// `PageSize`) so a client following `next_page_url` keeps its filters.
pub fn page<T: Serialize>(
    key: &'static str,
    items: &[T],
    page: usize,
    page_size: usize,
    urls: &Urls,
    path: &str,
    query: &[(String, String)],
) -> Value {
    let at = |number: usize| {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        for (name, value) in query {
            pairs.append_pair(name, value);
        }
        pairs.append_pair("PageSize", &page_size.to_string());
        pairs.append_pair("Page", &number.to_string());
        urls.of(&format!("{path}?{}", pairs.finish()))
    };
    let start = page.saturating_mul(page_size).min(items.len());
    let end = start.saturating_add(page_size).min(items.len());
    let meta = Meta {
        first_page_url: at(0),
        key,
        next_page_url: (end < items.len()).then(|| at(page + 1)),
        page,
        page_size,
        previous_page_url: (page > 0).then(|| at(page - 1)),
        url: at(page),
    };
    json!({ key: &items[start..end], "meta": meta })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::instruction::{HttpUrl, Instruction};
    use crate::sim::engine::{
        Engine, NewQueue, NewTask, NewWorker, NewWorkflow, NewWorkspace, ReservationUpdate, Through,
    };

    /// A workspace with one worker, queue and Workflow, and a task accepted, at a fixed instant
    /// and seed: every SID and date is the same on every run.
    fn scenario() -> (Engine, WorkspaceSid, TaskSid) {
        let start: Timestamp = "2026-12-02T12:00:00Z".parse().expect("an instant");
        let account = AccountSid::parse("AC0123456789abcdef0123456789abcdef").expect("sid");
        let mut engine = Engine::new(account, start, 1);
        let ws = engine
            .create_workspace(NewWorkspace {
                friendly_name: "Tutorial".to_owned(),
                event_callback_url: HttpUrl::new("https://example.com/events"),
                ..NewWorkspace::default()
            })
            .expect("a workspace");
        let available = engine.space(&ws).expect("there").activities.all()[1]
            .sid
            .clone();
        let queue = engine
            .create_queue(
                &ws,
                NewQueue {
                    friendly_name: "Support".to_owned(),
                    target_workers: Some("skills HAS 'support'".to_owned()),
                    ..NewQueue::default()
                },
            )
            .expect("a queue");
        engine
            .create_workflow(
                &ws,
                NewWorkflow {
                    friendly_name: "Support".to_owned(),
                    configuration:
                        json!({"task_routing": {"filters": [], "default_filter": {"queue": queue}}})
                            .to_string(),
                    assignment_callback_url: HttpUrl::new("https://example.com/assign"),
                    ..NewWorkflow::default()
                },
            )
            .expect("a workflow");
        engine
            .create_worker(
                &ws,
                NewWorker {
                    friendly_name: "alice".to_owned(),
                    activity: Some(available),
                    attributes: Some(r#"{"skills": ["support"]}"#.to_owned()),
                    ..NewWorker::default()
                },
            )
            .expect("a worker");
        engine.advance_to("2026-12-02T12:00:07Z".parse().expect("an instant"));
        let task = engine
            .create_task(
                &ws,
                NewTask {
                    attributes: Some(r#"{"type": "support"}"#.to_owned()),
                    ..NewTask::default()
                },
            )
            .expect("a task");
        let reservation = engine.space(&ws).expect("there").reservations.all()[0]
            .sid
            .clone();
        engine.advance_to("2026-12-02T12:00:09Z".parse().expect("an instant"));
        engine
            .update_reservation(
                &ws,
                Through::Task(&task),
                &reservation,
                ReservationUpdate::Instruction(Instruction::Accept),
            )
            .expect("accepted");
        (engine, ws, task)
    }

    #[test]
    fn every_resource_answers_in_the_shape_pinned_by_its_snapshot() {
        let (engine, ws, task) = scenario();
        let urls = Urls::new("http://127.0.0.1:4010/");
        let account = engine.account();
        let space = engine.space(&ws).expect("there");
        let now = engine.now();
        let answers = json!({
            "workspace": Workspace::of(account, space, &urls),
            "activity": Activity::of(account, space, &space.activities.all()[0], &urls),
            "worker": Worker::of(account, space, 0, &urls),
            "worker_channel": WorkerChannel::of(account, space, 0, &space.workers.at(0).channels[0], &urls),
            "task_channel": TaskChannel::of(account, space, &space.channels.all()[0], &urls),
            "task_queue": TaskQueue::of(account, space, 0, &urls),
            "workflow": Workflow::of(account, space, &space.workflows.all()[0], &urls),
            "task": Task::of(account, space, space.tasks.get(&task).expect("a task"), now, &urls),
            "task_reservation": Reservation::of(account, space, &space.reservations.all()[0], ReachedBy::Task, &urls),
            "worker_reservation": Reservation::of(account, space, &space.reservations.all()[0], ReachedBy::Worker, &urls),
            "event": Event::of(account, space, space.events.all().last().expect("an event"), &urls),
        });
        insta::assert_snapshot!(
            "resources",
            serde_json::to_string_pretty(&answers).expect("JSON")
        );
    }

    #[test]
    fn a_list_answer_pages_and_keeps_its_filters_in_the_paging_urls() {
        let urls = Urls::new("http://127.0.0.1:4010");
        let items: Vec<u32> = (0..5).collect();
        let filters = [("AssignmentStatus".to_owned(), "pending".to_owned())];
        let answer = page(
            "tasks",
            &items,
            1,
            2,
            &urls,
            "/v1/Workspaces/WS1/Tasks",
            &filters,
        );
        assert_eq!(answer["tasks"], json!([2, 3]));
        assert_eq!(
            answer["meta"],
            json!({
                "first_page_url": "http://127.0.0.1:4010/v1/Workspaces/WS1/Tasks?AssignmentStatus=pending&PageSize=2&Page=0",
                "key": "tasks",
                "next_page_url": "http://127.0.0.1:4010/v1/Workspaces/WS1/Tasks?AssignmentStatus=pending&PageSize=2&Page=2",
                "page": 1,
                "page_size": 2,
                "previous_page_url": "http://127.0.0.1:4010/v1/Workspaces/WS1/Tasks?AssignmentStatus=pending&PageSize=2&Page=0",
                "url": "http://127.0.0.1:4010/v1/Workspaces/WS1/Tasks?AssignmentStatus=pending&PageSize=2&Page=1"
            })
        );
        let last = page(
            "tasks",
            &items,
            2,
            2,
            &urls,
            "/v1/Workspaces/WS1/Tasks",
            &[],
        );
        assert_eq!(
            (last["tasks"].clone(), last["meta"]["next_page_url"].clone()),
            (json!([4]), Value::Null)
        );
        let beyond = page(
            "tasks",
            &items,
            9,
            2,
            &urls,
            "/v1/Workspaces/WS1/Tasks",
            &[],
        );
        assert_eq!(beyond["tasks"], json!([]), "a page past the end is empty");
    }
}
