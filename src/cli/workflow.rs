//! `workflow check` and `workflow route`: a Workflow configuration checked, and a task routed
//! through it, offline.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::{Value, json};

use super::{CliError, FAILED, OK, Output, json_object};
use crate::workflow::route::{Destination, Skip, Step, because};
use crate::workflow::{Queue, Route, Worker, Workflow, Workspace, filter_place};

/// A `taskrouter workflow` subcommand.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum WorkflowCommand {
    /// Check a Workflow configuration (`{"task_routing": …}`): every error (exit 1), warnings
    /// for what is legal but almost certainly wrong (exit 0).
    Check {
        /// The configuration file (JSON).
        file: PathBuf,
    },
    /// Where a task goes and why: each filter tried, then the steps of the one that takes it.
    Route {
        /// The configuration file (JSON).
        file: PathBuf,
        /// The task's attributes (a JSON object).
        #[arg(long)]
        task: String,
        /// The workspace's workers: a JSON array of {"sid", "attributes", "activity_name", …}
        /// or a saved answer of TaskRouter's Workers list; each step then lists who qualifies.
        #[arg(long)]
        workers: Option<PathBuf>,
        /// The workspace's queues: a JSON array of {"sid", "target_workers", "friendly_name"} or
        /// a saved answer of TaskRouter's TaskQueues list.
        #[arg(long)]
        queues: Option<PathBuf>,
        /// Print one JSON object instead of the explanation.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(command: WorkflowCommand) -> Result<Output, CliError> {
    match command {
        WorkflowCommand::Check { file } => check(&file),
        WorkflowCommand::Route {
            file,
            task,
            workers,
            queues,
            json,
        } => route(&file, &task, workers.as_deref(), queues.as_deref(), json),
    }
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// The parsed configuration, or the output listing its errors.
fn load(path: &Path) -> Result<Result<Workflow, Output>, CliError> {
    let text = read(path)?;
    Ok(Workflow::parse(&text).map_err(|invalid| {
        let mut stderr = String::new();
        for error in &invalid.errors {
            let _ = writeln!(stderr, "error: {}: {error}", path.display());
        }
        Output {
            stdout: String::new(),
            stderr,
            code: FAILED,
        }
    }))
}

fn check(path: &Path) -> Result<Output, CliError> {
    let workflow = match load(path)? {
        Ok(workflow) => workflow,
        Err(output) => return Ok(output),
    };
    let warnings = workflow.warnings();
    let mut stderr = String::new();
    for warning in &warnings {
        let _ = writeln!(stderr, "warning: {}: {warning}", path.display());
    }
    let filters = workflow.filters().len();
    let targets = workflow.target_count();
    let mut stdout = format!(
        "ok: {filters} {}, {targets} {}, {}",
        plural(filters, "filter", "filters"),
        plural(targets, "target", "targets"),
        if workflow.default_filter().is_some() {
            "a default filter"
        } else {
            "no default filter"
        }
    );
    if !warnings.is_empty() {
        let _ = write!(
            stdout,
            " ({} {})",
            warnings.len(),
            plural(warnings.len(), "warning", "warnings")
        );
    }
    stdout.push('\n');
    Ok(Output {
        stdout,
        stderr,
        code: OK,
    })
}

fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 { one } else { many }
}

fn route(
    path: &Path,
    task: &str,
    workers: Option<&Path>,
    queues: Option<&Path>,
    as_json: bool,
) -> Result<Output, CliError> {
    let workflow = match load(path)? {
        Ok(workflow) => workflow,
        Err(output) => return Ok(output),
    };
    let task = json_object("--task", task)?;
    let workers = match workers {
        Some(path) => {
            Some(
                Worker::parse_list(&read(path)?).map_err(|source| CliError::Workspace {
                    path: path.display().to_string(),
                    source: Box::new(source),
                })?,
            )
        }
        None => None,
    };
    let queues = match queues {
        Some(path) => Queue::parse_list(&read(path)?).map_err(|source| CliError::Workspace {
            path: path.display().to_string(),
            source: Box::new(source),
        })?,
        None => Vec::new(),
    };
    let workspace = Workspace::new(workers, queues);
    let route = workflow.route(&task, &workspace);
    let stdout = if as_json {
        let mut text = serde_json::to_string_pretty(&to_json(&route))
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
        text.push('\n');
        text
    } else {
        explain(&workflow, &route)
    };
    Ok(Output {
        stdout,
        stderr: String::new(),
        code: OK,
    })
}

/// The `filter` the JSON names: the matching filter's name, `filters[i]` when it has
/// none, `default_filter`, or null when the task went nowhere.
fn destination_name(route: &Route<'_>) -> Value {
    match route.destination {
        Destination::Filter(index, filter) => match filter.name() {
            Some(name) => Value::from(name),
            None => Value::from(format!("filters[{index}]")),
        },
        Destination::Default(_) => Value::from("default_filter"),
        Destination::Nowhere => Value::Null,
    }
}

fn to_json(route: &Route<'_>) -> Value {
    let filters: Vec<Value> = route
        .filters
        .iter()
        .map(|tried| {
            json!({
                "index": tried.index,
                "name": tried.filter.name(),
                "matched": tried.explanation.holds,
                "skipped": tried.skipped,
                "because": tried.explanation.comparisons.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })
        })
        .collect();
    let steps: Vec<Value> = route.steps.iter().map(step_json).collect();
    json!({
        "filter": destination_name(route),
        "filters": filters,
        "steps": steps,
    })
}

fn step_json(step: &Step<'_>) -> Value {
    let mut value = json!({
        "target": step.place,
        "queue": step.queue.as_str(),
        "priority": step.target.priority(),
        "timeout": step.target.timeout(),
        "enters": step.enters,
        "leaves": step.leaves,
    });
    if let (Some(candidates), Value::Object(map)) = (&step.workers, &mut value) {
        map.insert(
            "workers".to_owned(),
            candidates
                .qualifying
                .iter()
                .map(|worker| Value::from(worker.sid().as_str()))
                .collect(),
        );
        map.insert(
            "available_workers".to_owned(),
            candidates
                .available()
                .map(|worker| Value::from(worker.sid().as_str()))
                .collect(),
        );
        map.insert("skipped".to_owned(), Value::from(step.is_skipped()));
    }
    value
}

/// The human explanation.
fn explain(workflow: &Workflow, route: &Route<'_>) -> String {
    let mut out = String::new();
    let _ = match route.destination {
        Destination::Filter(index, filter) => {
            writeln!(out, "filter: {}", filter_place(index, filter.name()))
        }
        Destination::Default(_) => writeln!(out, "filter: default_filter (no filter matched)"),
        Destination::Nowhere => writeln!(
            out,
            "filter: none: no filter matched and there is no default_filter, so the task has no queue"
        ),
    };
    for tried in &route.filters {
        let verdict = match (tried.explanation.holds, tried.skipped) {
            (false, _) => "no match",
            (true, false) => "match",
            (true, true) => {
                "match, but every step is skipped at once (skip_if), so it counts as no match"
            }
        };
        let _ = writeln!(
            out,
            "  {}: {verdict}: {}",
            filter_place(tried.index, tried.filter.name()),
            because(&tried.explanation)
        );
    }
    if !route.steps.is_empty() {
        out.push_str("steps:\n");
    }
    for (number, step) in route.steps.iter().enumerate() {
        explain_step(&mut out, number + 1, step);
    }
    if let (Destination::Filter(..), Some(last)) = (route.destination, route.steps.last())
        && let Some(age) = last.leaves
    {
        let _ = writeln!(
            out,
            "then: at task age {age} s the last step is over: workflow.timeout, TaskRouter cancels the task"
        );
    }
    if workflow.uses_time_of_day() {
        out.push_str(
            "note: taskrouter.* (time of day) reads null here: time-of-day expressions are not evaluated yet\n",
        );
    }
    out
}

fn explain_step(out: &mut String, number: usize, step: &Step<'_>) {
    let queue = match step.queue_details.and_then(Queue::friendly_name) {
        Some(name) => format!("{} ({name})", step.queue),
        None => step.queue.to_string(),
    };
    let window = match (step.enters, step.leaves) {
        (None, _) => "never reached: an earlier step holds the task until its TTL".to_owned(),
        (Some(enters), _) if step.is_skipped() => format!("skipped at task age {enters} s"),
        (Some(enters), Some(leaves)) => format!("task age {enters} s to {leaves} s"),
        (Some(enters), None) => format!("from task age {enters} s until the task's TTL"),
    };
    let priority = match step.target.priority() {
        Some(priority) => format!("priority {priority}"),
        None => "priority unchanged".to_owned(),
    };
    let _ = writeln!(
        out,
        "  {number}. {}: queue {queue}, {window}, {priority}",
        step.place
    );
    let indent = "       ";
    if let Some(expression) = step.target.expression() {
        let _ = writeln!(out, "{indent}expression: {expression}");
    }
    if let Some((reference, value)) = &step.known_worker {
        let _ = writeln!(out, "{indent}known worker: {reference} = {value}");
    }
    if !step.target.order_by().is_empty() {
        let clauses: Vec<String> = step
            .target
            .order_by()
            .iter()
            .map(ToString::to_string)
            .collect();
        let _ = writeln!(out, "{indent}order_by: {}", clauses.join(", "));
    }
    if let Some(skip_if) = step.target.skip_if() {
        let _ = match &step.skip {
            Skip::Never => Ok(()),
            Skip::Unknown => writeln!(
                out,
                "{indent}skip_if `{skip_if}`: evaluated with --workers only"
            ),
            Skip::NotNeeded => writeln!(
                out,
                "{indent}skip_if `{skip_if}`: not evaluated: a qualifying worker is available"
            ),
            Skip::Evaluated(explanation) => writeln!(
                out,
                "{indent}skip_if: {}: {}",
                because(explanation),
                if explanation.holds {
                    "the task skips this step"
                } else {
                    "the task waits"
                }
            ),
        };
    }
    if let Some(candidates) = &step.workers {
        if step.queue_details.is_none() {
            let _ = writeln!(
                out,
                "{indent}queue not in --queues: every worker taken as a member (TaskRouter's default target_workers, 1==1)"
            );
        }
        let offered: Vec<String> = candidates
            .qualifying
            .iter()
            .map(|worker| worker_label(worker, true))
            .collect();
        let _ = writeln!(
            out,
            "{indent}workers in offer order: {}",
            if offered.is_empty() {
                "none".to_owned()
            } else {
                offered.join(", ")
            }
        );
        for (worker, reason) in &candidates.excluded {
            let _ = writeln!(
                out,
                "{indent}not qualifying: {}: {reason}",
                worker_label(worker, false)
            );
        }
    }
}

/// `WK… (alice)`, with `not available: Offline` when asked and so.
fn worker_label(worker: &Worker, availability: bool) -> String {
    let mut notes = Vec::new();
    if let Some(name) = worker.friendly_name() {
        notes.push(name.to_owned());
    }
    if availability && !worker.is_available() {
        notes.push(match worker.activity_name() {
            Some(activity) => format!("not available: {activity}"),
            None => "not available".to_owned(),
        });
    }
    if notes.is_empty() {
        worker.sid().to_string()
    } else {
        format!("{} ({})", worker.sid(), notes.join("; "))
    }
}
