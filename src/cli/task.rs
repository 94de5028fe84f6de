//! `task create|show|list|complete|cancel`: tasks over the REST API (docs/taskrouter.md §7,
//! `CreateTask`, `FetchTask`, `ListTask`, `UpdateTask`).
//!
//! `complete` and `cancel` set the task's `AssignmentStatus` with a `Reason`, which Twilio's
//! description requires for both. A task moves pending → reserved → assigned → wrapping →
//! completed, or is canceled (docs/taskrouter.md §12): `cancel` is for a task no worker has
//! accepted yet, `complete` for one a worker has. When TaskRouter refuses, the task is fetched and
//! its real status decides, as for reservations:
//!
//! | outcome | exit |
//! |---|---|
//! | applied, or the task already is in the requested state | 0 |
//! | too late: completed or canceled already, or (for `cancel`) accepted by a worker | 3, with what to do |
//! | anything else (too early to complete, credentials, network) | 1, with Twilio's code and link |

use std::fmt::Write as _;

use clap::Subcommand;

use crate::expression::Expression;
use crate::rest::resources::{
    MAX_TASK_TIMEOUT, NewTask, Task, TaskFilter, TaskStatus, TaskTransition, TaskUpdate,
};
use crate::rest::{Answer, Client, RestError};
use crate::sid::{TaskQueueSid, TaskSid, WorkflowSid, WorkspaceSid};

use super::{CliError, FAILED, OK, Output, TOO_LATE, json_map, json_text};

/// How many tasks or workers a list prints unless told otherwise.
pub(crate) const DEFAULT_LIMIT: u32 = 50;

/// A `task` action.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Action {
    /// Create a task; prints it.
    Create {
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// The workflow that routes it (WW…).
        #[arg(long, value_name = "WW…")]
        workflow: WorkflowSid,
        /// The task's attributes (a JSON object), e.g. '{"selected_language":"es"}'.
        #[arg(long, value_name = "JSON", default_value = "{}")]
        attributes: String,
        /// Its priority, 0-2147483647, higher first [default: the matching Workflow target's].
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=i64::from(i32::MAX)))]
        priority: Option<u32>,
        /// Seconds the task may wait to be assigned, 1-1209600 [default: 86400] (CreateTask's
        /// Timeout in Twilio's OpenAPI description; then task.canceled fires).
        #[arg(long, value_name = "S", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_TASK_TIMEOUT)))]
        timeout: Option<u32>,
        /// Its task channel: a unique name such as voice or chat, or a TC… SID.
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
        /// Print Twilio's answer as JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Show a task: status, queue, workflow, age, priority, attributes.
    Show {
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// The task (WT…).
        #[arg(long, value_name = "WT…")]
        task: TaskSid,
        /// Print Twilio's answer as JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// List the workspace's tasks, one line each (a count on stderr).
    List {
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// Only tasks in these statuses: pending, reserved, assigned, canceled, completed,
        /// wrapping; repeatable or comma-separated.
        #[arg(long = "status", value_name = "STATUS", value_delimiter = ',', value_parser = TaskStatus::parse)]
        statuses: Vec<TaskStatus>,
        /// Only tasks in this queue (WQ…).
        #[arg(long, value_name = "WQ…")]
        queue: Option<TaskQueueSid>,
        /// Only tasks routed by this workflow (WW…).
        #[arg(long, value_name = "WW…")]
        workflow: Option<WorkflowSid>,
        /// Only tasks whose attributes match this TaskRouter expression, e.g. "type == 'support'"
        /// (TaskRouter answers 3 such requests a second).
        #[arg(long, value_name = "EXPRESSION")]
        expression: Option<String>,
        /// At most this many tasks, 1-10000.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_LIMIT, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// Print Twilio's answers as one JSON array (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Complete a task a worker accepted (assigned or wrapping).
    Complete {
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// The task (WT…).
        #[arg(long, value_name = "WT…")]
        task: TaskSid,
        /// Why, kept on the task (Twilio requires one).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Print Twilio's answer as JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Cancel a task no worker has accepted yet (pending or reserved).
    Cancel {
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// The task (WT…).
        #[arg(long, value_name = "WT…")]
        task: TaskSid,
        /// Why, kept on the task (Twilio requires one).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Print Twilio's answer as JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(action: &Action, client: &Client) -> Result<Output, CliError> {
    match action {
        Action::Create {
            workspace,
            workflow,
            attributes,
            priority,
            timeout,
            channel,
            json,
        } => {
            let attributes = json_map("--attributes", attributes)?;
            let task = NewTask {
                attributes,
                workflow_sid: Some(workflow.clone()),
                priority: *priority,
                timeout: *timeout,
                task_channel: channel.clone(),
            };
            let answer = client.create_task(workspace, &task)?;
            Ok(print_task(&answer, *json, false))
        }
        Action::Show {
            workspace,
            task,
            json,
        } => Ok(print_task(
            &client.fetch_task(workspace, task)?,
            *json,
            true,
        )),
        Action::List {
            workspace,
            statuses,
            queue,
            workflow,
            expression,
            limit,
            json,
        } => {
            if let Some(expression) = expression {
                // Refused here with a caret rather than by TaskRouter with a bare 400.
                Expression::parse(expression)?;
            }
            let filter = TaskFilter {
                statuses: statuses.clone(),
                workflow: workflow.clone(),
                queue: queue.clone(),
                expression: expression.clone(),
            };
            let listing = client.list_tasks(workspace, &filter, *limit)?;
            let stdout = if *json {
                json_text(&serde_json::Value::Array(listing.json))
            } else {
                listing.resources.iter().map(task_line).collect()
            };
            Ok(Output {
                stdout,
                stderr: count(listing.resources.len(), listing.truncated, "task", "tasks"),
                code: OK,
            })
        }
        Action::Complete {
            workspace,
            task,
            reason,
            json,
        } => transition(
            client,
            workspace,
            task,
            TaskTransition::Completed,
            reason,
            *json,
        ),
        Action::Cancel {
            workspace,
            task,
            reason,
            json,
        } => transition(
            client,
            workspace,
            task,
            TaskTransition::Canceled,
            reason,
            *json,
        ),
    }
}

/// `N tasks`, and how to see more when the list was cut.
pub(crate) fn count(shown: usize, truncated: bool, one: &str, many: &str) -> String {
    let noun = if shown == 1 { one } else { many };
    if truncated {
        format!("{shown} {noun} shown; there are more: raise --limit or narrow the filters\n")
    } else {
        format!("{shown} {noun}\n")
    }
}

/// `complete` or `cancel`, and what a refusal means (module docs).
fn transition(
    client: &Client,
    workspace: &WorkspaceSid,
    task: &TaskSid,
    to: TaskTransition,
    reason: &str,
    as_json: bool,
) -> Result<Output, CliError> {
    let update = TaskUpdate {
        assignment_status: Some(to),
        reason: Some(reason.to_owned()),
        ..TaskUpdate::default()
    };
    let refused = match client.update_task(workspace, task, &update) {
        Ok(answer) => return Ok(print_task(&answer, as_json, false)),
        Err(refused) => refused,
    };
    let failed = |refused: &RestError, note: &str| Output {
        stdout: String::new(),
        stderr: format!("error: {refused}{note}\n"),
        code: FAILED,
    };
    // Credentials and rate limits say nothing about the task.
    if refused
        .api()
        .is_none_or(|api| matches!(api.status, 401 | 403 | 429))
    {
        return Ok(failed(&refused, ""));
    }
    let answer = match client.fetch_task(workspace, task) {
        Ok(answer) => answer,
        Err(fetch) => {
            return Ok(failed(
                &refused,
                &format!("\n(the task could not be fetched either: {fetch})"),
            ));
        }
    };
    let status = &answer.resource.assignment_status;
    let (wanted, verb) = match to {
        TaskTransition::Completed => (TaskStatus::Completed, "complete"),
        TaskTransition::Canceled => (TaskStatus::Canceled, "cancel"),
        TaskTransition::Wrapping => (TaskStatus::Wrapping, "wrap up"),
    };
    if *status == wanted {
        let mut output = print_task(&answer, as_json, false);
        output.stderr = format!(
            "the task was already {status}: nothing to do (TaskRouter refused to {verb} it again: {refused})\n"
        );
        return Ok(output);
    }
    let too_late = match to {
        TaskTransition::Completed => matches!(status, TaskStatus::Canceled),
        TaskTransition::Canceled => matches!(
            status,
            TaskStatus::Completed | TaskStatus::Assigned | TaskStatus::Wrapping
        ),
        TaskTransition::Wrapping => matches!(status, TaskStatus::Completed | TaskStatus::Canceled),
    };
    let instead = match (to, status) {
        (TaskTransition::Canceled, TaskStatus::Assigned | TaskStatus::Wrapping) => {
            ": complete it instead"
        }
        (TaskTransition::Completed, TaskStatus::Pending | TaskStatus::Reserved) => {
            ": only a task a worker accepted can be completed; cancel it instead"
        }
        _ => "",
    };
    let mut output = print_task(&answer, as_json, false);
    output.stderr = format!(
        "error: the task is {status}: {}{instead}\n(TaskRouter refused to {verb} it: {refused})\n",
        status.meaning()
    );
    output.code = if too_late { TOO_LATE } else { FAILED };
    Ok(output)
}

/// A task as `create`, `show`, `complete` and `cancel` print it (`attributes`: with its
/// attributes), or Twilio's answer with `--json`.
fn print_task(answer: &Answer<Task>, as_json: bool, attributes: bool) -> Output {
    if as_json {
        return Output {
            stdout: json_text(&answer.json),
            ..Output::default()
        };
    }
    let task = &answer.resource;
    let named = |sid: String, name: &Option<String>| match name {
        Some(name) => format!("{sid} ({name})"),
        None => sid,
    };
    let mut out = format!(
        "task:       {}\nstatus:     {}\n",
        task.sid, task.assignment_status
    );
    let queue = match &task.task_queue_sid {
        Some(sid) => named(sid.to_string(), &task.task_queue_friendly_name),
        None => "none yet (the workflow has not routed it)".to_owned(),
    };
    let _ = writeln!(out, "queue:      {queue}");
    if let Some(workflow) = &task.workflow_sid {
        let _ = writeln!(
            out,
            "workflow:   {}",
            named(workflow.to_string(), &task.workflow_friendly_name)
        );
    }
    if let Some(priority) = task.priority {
        let _ = writeln!(out, "priority:   {priority}");
    }
    if let Some(age) = task.age {
        let _ = writeln!(out, "age:        {age} s");
    }
    if let Some(channel) = &task.task_channel_unique_name {
        let _ = writeln!(out, "channel:    {channel}");
    }
    if let Some(reason) = &task.reason {
        let _ = writeln!(out, "reason:     {reason}");
    }
    if attributes && let Some(attributes) = &task.attributes {
        let _ = writeln!(out, "attributes: {attributes}");
    }
    Output {
        stdout: out,
        ..Output::default()
    }
}

/// One task of `list`: SID, status, age, priority, queue.
fn task_line(task: &Task) -> String {
    let queue = match (&task.task_queue_sid, &task.task_queue_friendly_name) {
        (Some(_), Some(name)) => name.clone(),
        (Some(sid), None) => sid.to_string(),
        (None, _) => "-".to_owned(),
    };
    let age = task
        .age
        .map_or_else(|| "-".to_owned(), |age| format!("{age} s"));
    let priority = task
        .priority
        .map_or_else(|| "-".to_owned(), |priority| priority.to_string());
    format!(
        "{}  {:<9}  age {age:<9}  priority {priority:<4}  {queue}\n",
        task.sid,
        task.assignment_status.as_str()
    )
}
