//! `task create`: the first step of the tutorial's REST half (contract §7, `CreateTask`).

use clap::Subcommand;

use crate::rest::Client;
use crate::rest::resources::{MAX_TASK_TIMEOUT, NewTask};
use crate::sid::{WorkflowSid, WorkspaceSid};

use super::{CliError, OK, Output, json_map, json_text};

/// A `task` action.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Action {
    /// Create a task; prints its SID, status and queue.
    Create {
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// The workflow that routes it (WW…).
        #[arg(long, value_name = "WW…")]
        workflow: WorkflowSid,
        /// The task's attributes (a JSON object), e.g. '{"selected_language":"es"}'.
        #[arg(long, default_value = "{}")]
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
}

pub(crate) fn run(action: &Action, client: &Client) -> Result<Output, CliError> {
    let Action::Create {
        workspace,
        workflow,
        attributes,
        priority,
        timeout,
        channel,
        json,
    } = action;
    let attributes = json_map("--attributes", attributes)?;
    let task = NewTask {
        attributes,
        workflow_sid: Some(workflow.clone()),
        priority: *priority,
        timeout: *timeout,
        task_channel: channel.clone(),
    };
    let answer = client.create_task(workspace, &task)?;
    if *json {
        return Ok(Output {
            stdout: json_text(&answer.json),
            ..Output::default()
        });
    }
    let task = &answer.resource;
    let queue = match (&task.task_queue_sid, &task.task_queue_friendly_name) {
        (Some(sid), Some(name)) => format!("{sid} ({name})"),
        (Some(sid), None) => sid.to_string(),
        (None, _) => "none yet (the workflow has not routed it)".to_owned(),
    };
    Ok(Output {
        stdout: format!(
            "task:   {}\nstatus: {}\nqueue:  {queue}\n",
            task.sid, task.assignment_status
        ),
        stderr: String::new(),
        code: OK,
    })
}
