//! The fields each family of workspace events carries (docs/taskrouter.md §6,
//! docs/taskrouter.md §12).
//!
//! An event's fields are kept PascalCase, as the `EventCallbackUrl` receives them; the Events
//! API answers the same fields in `event_data`, snake_case.

use crate::sid::WorkspaceSid;

pub use super::state::EventType;
use super::state::{Space, TaskState};

/// `TaskQueueSid` → `task_queue_sid`: an event field as the Events API's `event_data` names it.
pub(crate) fn snake_case(pascal: &str) -> String {
    let mut snake = String::with_capacity(pascal.len() + 4);
    for (at, c) in pascal.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if at > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

/// The fields of a task (docs/taskrouter.md §6), with its queue, Workflow and channel.
pub(crate) fn task_fields(
    space: &Space,
    task: &TaskState,
    age: u64,
) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("TaskSid", task.sid.to_string()),
        ("TaskAttributes", task.attributes_text.clone()),
        ("TaskAge", age.to_string()),
        ("TaskPriority", task.priority.to_string()),
        ("TaskAssignmentStatus", task.status.as_str().to_owned()),
    ];
    if let Some(channel) = space.channels.get(&task.channel) {
        fields.push(("TaskChannelSid", channel.sid.to_string()));
        fields.push(("TaskChannelUniqueName", channel.unique_name.clone()));
    }
    match task.status {
        super::state::TaskStatus::Canceled => {
            fields.push((
                "TaskCanceledReason",
                task.reason.clone().unwrap_or_default(),
            ));
        }
        super::state::TaskStatus::Completed => {
            fields.push((
                "TaskCompletedReason",
                task.reason.clone().unwrap_or_default(),
            ));
        }
        _ => {}
    }
    if let Some(queue) = &task.queue {
        fields.extend(queue_fields(space, queue));
    }
    if let Some(workflow) = space.workflows.get(&task.workflow) {
        fields.push(("WorkflowSid", workflow.sid.to_string()));
        fields.push(("WorkflowName", workflow.friendly_name.clone()));
    }
    fields
}

/// The fields of a queue.
pub(crate) fn queue_fields(
    space: &Space,
    queue: &crate::sid::TaskQueueSid,
) -> Vec<(&'static str, String)> {
    let mut fields = vec![("TaskQueueSid", queue.to_string())];
    if let Some(at) = space.queues.find(queue) {
        let routing = space.routing_queue(at);
        fields.push((
            "TaskQueueName",
            routing.friendly_name().unwrap_or_default().to_owned(),
        ));
        fields.push((
            "TaskQueueTargetExpression",
            routing.target_workers().source().to_owned(),
        ));
    }
    fields
}

/// The fields of worker `at`.
pub(crate) fn worker_fields(space: &Space, at: usize) -> Vec<(&'static str, String)> {
    let worker = space.workers.at(at);
    let routing = space.routing_worker(at);
    let mut fields = vec![
        ("WorkerSid", worker.sid.to_string()),
        (
            "WorkerName",
            routing.friendly_name().unwrap_or_default().to_owned(),
        ),
        ("WorkerAttributes", worker.attributes_text.clone()),
        ("WorkerActivitySid", worker.activity.to_string()),
    ];
    if let Some(activity) = space.activity(&worker.activity) {
        fields.push(("WorkerActivityName", activity.friendly_name.clone()));
    }
    fields
}

/// The fields every event carries besides its own (docs/taskrouter.md §6), in the order posted.
pub(crate) fn common_fields(
    account: &crate::sid::AccountSid,
    workspace: &WorkspaceSid,
    workspace_name: &str,
    event: &super::state::EventRecord,
) -> Vec<(String, String)> {
    vec![
        ("EventType".to_owned(), event.event_type.as_str().to_owned()),
        ("AccountSid".to_owned(), account.to_string()),
        ("WorkspaceSid".to_owned(), workspace.to_string()),
        ("WorkspaceName".to_owned(), workspace_name.to_owned()),
        ("EventDescription".to_owned(), event.description.clone()),
        ("ResourceType".to_owned(), event.resource_type.to_owned()),
        ("ResourceSid".to_owned(), event.resource_sid.clone()),
        ("Timestamp".to_owned(), event.date.as_second().to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_fields_are_written_snake_case_for_the_events_api() {
        let cases = [
            ("TaskQueueSid", "task_queue_sid"),
            (
                "WorkerTimeInPreviousActivity",
                "worker_time_in_previous_activity",
            ),
            ("TaskAge", "task_age"),
        ];
        for (pascal, snake) in cases {
            assert_eq!(snake_case(pascal), snake, "{pascal}");
        }
    }

    #[test]
    fn every_type_names_its_resource() {
        for event in EventType::ALL {
            let expected = match event.as_str().split('.').next() {
                Some("task-queue") => "taskqueue",
                Some(family) => family,
                None => unreachable!("every type has a family"),
            };
            assert_eq!(event.resource_type(), expected, "{}", event.as_str());
        }
    }
}
