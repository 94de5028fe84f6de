//! `worker list|show|activity`: workers over the REST API (docs/taskrouter.md §7; `ListWorker`,
//! `FetchWorker`, `UpdateWorker`).
//!
//! `activity` moves a worker to an activity, as an agent's softphone does; with
//! `--reject-pending-reservations` TaskRouter also rejects the reservations the worker has not
//! answered yet (docs/taskrouter.md §12), which Twilio accepts only when the new activity is
//! unavailable.

use std::fmt::Write as _;

use clap::Subcommand;

use crate::expression::Expression;
use crate::rest::resources::{Worker, WorkerFilter, WorkerUpdate};
use crate::rest::{Answer, Client};
use crate::sid::{ActivitySid, TaskQueueSid, WorkerSid, WorkspaceSid};

use super::task::{DEFAULT_LIMIT, count};
use super::{CliError, OK, Output, json_text};

/// A `worker` action.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Action {
    /// List the workspace's workers, one line each (a count on stderr).
    List {
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// Only workers in this activity (WA…).
        #[arg(long, value_name = "WA…")]
        activity: Option<ActivitySid>,
        /// Only the workers that can take a task now.
        #[arg(long)]
        available: bool,
        /// Only workers eligible for this queue (WQ…).
        #[arg(long, value_name = "WQ…")]
        queue: Option<TaskQueueSid>,
        /// Only workers whose attributes match this TaskRouter expression, e.g.
        /// "skills HAS 'billing'" (TaskRouter answers 3 such requests a second).
        #[arg(long, value_name = "EXPRESSION")]
        expression: Option<String>,
        /// At most this many workers, 1-10000.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_LIMIT, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// Print Twilio's answers as one JSON array (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Show a worker: activity, availability, attributes.
    Show {
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// The worker (WK…).
        #[arg(long, value_name = "WK…")]
        worker: WorkerSid,
        /// Print Twilio's answer as JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Move a worker to an activity, optionally rejecting its pending reservations.
    Activity {
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// The worker (WK…).
        #[arg(long, value_name = "WK…")]
        worker: WorkerSid,
        /// The activity the worker moves to now (WA…).
        #[arg(long, value_name = "WA…")]
        activity: ActivitySid,
        /// Reject the worker's pending reservations too (the activity must be unavailable).
        #[arg(long)]
        reject_pending_reservations: bool,
        /// Print Twilio's answer as JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(action: &Action, client: &Client) -> Result<Output, CliError> {
    match action {
        Action::List {
            workspace,
            activity,
            available,
            queue,
            expression,
            limit,
            json,
        } => {
            if let Some(expression) = expression {
                // Refused here with a caret rather than by TaskRouter with a bare 400.
                Expression::parse(expression)?;
            }
            let filter = WorkerFilter {
                activity: activity.clone(),
                available: *available,
                queue: queue.clone(),
                expression: expression.clone(),
            };
            let listing = client.list_workers(workspace, &filter, *limit)?;
            let stdout = if *json {
                json_text(&serde_json::Value::Array(listing.json))
            } else {
                listing.resources.iter().map(worker_line).collect()
            };
            Ok(Output {
                stdout,
                stderr: count(
                    listing.resources.len(),
                    listing.truncated,
                    "worker",
                    "workers",
                ),
                code: OK,
            })
        }
        Action::Show {
            workspace,
            worker,
            json,
        } => Ok(print_worker(
            &client.fetch_worker(workspace, worker)?,
            *json,
            true,
        )),
        Action::Activity {
            workspace,
            worker,
            activity,
            reject_pending_reservations,
            json,
        } => {
            let update = WorkerUpdate {
                activity_sid: Some(activity.clone()),
                reject_pending_reservations: *reject_pending_reservations,
            };
            let answer = client.update_worker(workspace, worker, &update)?;
            let mut output = print_worker(&answer, *json, false);
            if *reject_pending_reservations {
                output.stderr = "its pending reservations were rejected\n".to_owned();
            }
            Ok(output)
        }
    }
}

/// A worker as `show` and `activity` print it (`attributes`: with its attributes), or Twilio's
/// answer with `--json`.
fn print_worker(answer: &Answer<Worker>, as_json: bool, attributes: bool) -> Output {
    if as_json {
        return Output {
            stdout: json_text(&answer.json),
            ..Output::default()
        };
    }
    let worker = &answer.resource;
    let mut out = format!("worker:     {}", worker.sid);
    if let Some(name) = &worker.friendly_name {
        let _ = write!(out, " ({name})");
    }
    out.push('\n');
    let activity = match (&worker.activity_sid, &worker.activity_name) {
        (Some(sid), Some(name)) => format!("{sid} ({name})"),
        (Some(sid), None) => sid.to_string(),
        (None, Some(name)) => name.clone(),
        (None, None) => "-".to_owned(),
    };
    let _ = writeln!(out, "activity:   {activity}");
    let _ = writeln!(
        out,
        "available:  {}",
        if worker.available { "yes" } else { "no" }
    );
    if let Some(since) = &worker.date_status_changed {
        let _ = writeln!(out, "since:      {since}");
    }
    if attributes && let Some(attributes) = &worker.attributes {
        let _ = writeln!(out, "attributes: {attributes}");
    }
    Output {
        stdout: out,
        ..Output::default()
    }
}

/// One worker of `list`: SID, availability, activity, name.
fn worker_line(worker: &Worker) -> String {
    format!(
        "{}  {:<11}  {:<12}  {}\n",
        worker.sid,
        if worker.available {
            "available"
        } else {
            "unavailable"
        },
        worker.activity_name.as_deref().unwrap_or("-"),
        worker.friendly_name.as_deref().unwrap_or("-"),
    )
}
