//! `workflow check` and `workflow route`: a Workflow configuration checked, and a task routed
//! through it, offline; the subcommands' arguments, `diff` and `apply` (over the REST API,
//! [`live`]) included.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use jiff::Timestamp;
use serde_json::{Value, json};

pub(crate) mod file;
pub mod live;

use super::report::{self, FileReport, Finding, Style};
use super::{CliError, FAILED, OK, Output, json_object, json_text, parse_now};
use crate::document::Problems;
use crate::sid::{WorkflowSid, WorkspaceSid};
use crate::sim::document::WorkspaceDocument;
use crate::time_of_day::{TimeOfDay, day_name};
use crate::workflow::route::{Destination, End, Leg};
use crate::workflow::step::{Leaving, Place, Skip, Step, because};
use crate::workflow::walk::Cause;
use crate::workflow::{
    Filter, Queue, Route, Worker, Workflow, Workspace, filter_place, order_by_text,
};
use file::{load, read};

/// A `taskrouter workflow` subcommand.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum WorkflowCommand {
    /// Check Workflow configurations (`{"task_routing": …}`): every error (exit 1), warnings
    /// for what is legal but almost certainly wrong (exit 0 unless `--strict`).
    Check {
        /// The configuration files (JSON).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Warnings fail the check (exit 1).
        #[arg(long)]
        strict: bool,
        /// Print one JSON document: `{"files": [{"file", "errors": [{"line", "column",
        /// "pointer", "message"}], "warnings": […]}], "ok": bool}`.
        #[arg(long)]
        json: bool,
    },
    /// Where a task goes and why: each filter tried, then the steps of the one that takes it.
    Route {
        /// The configuration file (JSON).
        file: PathBuf,
        /// The task's attributes (a JSON object).
        #[arg(long)]
        task: String,
        /// A workspace document (its workers and queues; docs/simulator.md), e.g.
        /// workflows/workspace.json: each step then lists who qualifies.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["workers", "queues"])]
        workspace: Option<PathBuf>,
        /// The workspace's workers: a JSON array of {"sid", "attributes", "activity_name", …}
        /// or a saved answer of TaskRouter's Workers list; each step then lists who qualifies.
        #[arg(long)]
        workers: Option<PathBuf>,
        /// The workspace's queues: a JSON array of {"sid", "target_workers", "friendly_name"} or
        /// a saved answer of TaskRouter's TaskQueues list.
        #[arg(long)]
        queues: Option<PathBuf>,
        /// The instant the task is created at, e.g. 2026-12-03T10:00:00Z: what `taskrouter.*`
        /// (time of day, in UTC) reads [default: the current time].
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<Timestamp>,
        /// Print one JSON object instead of the explanation.
        #[arg(long)]
        json: bool,
    },
    /// Compare the file with the live Workflow's configuration, semantically (whitespace, key
    /// order, number formatting are not differences): exit 0 equal, 1 different, 2 trouble.
    /// Credentials: TWILIO_* variables.
    Diff {
        /// The configuration file (JSON).
        file: PathBuf,
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// The workflow (WW…).
        #[arg(long, value_name = "WW…")]
        workflow: WorkflowSid,
    },
    /// Check the file (errors: nothing sent), show the differences, and set the live Workflow's
    /// Configuration to it (never the callback URLs); then read it back.
    Apply {
        /// The configuration file (JSON).
        file: PathBuf,
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// The workflow (WW…).
        #[arg(long, value_name = "WW…")]
        workflow: WorkflowSid,
        /// Show the differences; send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// `pull` (src/cli/workflow/live.rs).
    #[command(flatten)]
    Live(live::LiveCommand),
}

/// Runs a subcommand; `env` reads the REST commands' variables (`diff`, `apply`).
pub(crate) fn run(
    command: WorkflowCommand,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Output, CliError> {
    match command {
        WorkflowCommand::Diff {
            file,
            workspace,
            workflow,
        } => Ok(live::diff(&file, &workspace, &workflow, env)),
        WorkflowCommand::Apply {
            file,
            workspace,
            workflow,
            dry_run,
        } => live::apply(&file, &workspace, &workflow, dry_run, env),
        WorkflowCommand::Live(command) => live::run(command, env),
        WorkflowCommand::Check {
            files,
            strict,
            json,
        } => Ok(check(&files, Style { strict, json })),
        WorkflowCommand::Route {
            file,
            task,
            workspace,
            workers,
            queues,
            now,
            json,
        } => {
            let staff = match workspace {
                Some(document) => Staff::Document(document),
                None => Staff::Lists(workers, queues),
            };
            route(
                &file,
                &task,
                &staff,
                now.unwrap_or_else(Timestamp::now),
                json,
            )
        }
    }
}

/// Checks every configuration: its errors, or its warnings and what it holds
/// ([`super::report`] prints them).
fn check(paths: &[PathBuf], style: Style) -> Output {
    let files: Vec<FileReport> = paths.iter().map(|path| check_one(path)).collect();
    report::render(&files, style, "")
}

fn check_one(path: &Path) -> FileReport {
    let mut report = FileReport::new(&path.display().to_string());
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            report.unreadable = true;
            report
                .errors
                .push(Finding::unplaced(format!("cannot read it: {error}")));
            return report;
        }
    };
    let workflow = match Workflow::check(&report.file, &text) {
        Ok((workflow, warnings)) => {
            report.add(&warnings);
            workflow
        }
        Err(problems) => {
            report.add(&problems);
            return report;
        }
    };
    let filters = workflow.filters().len();
    let targets = workflow.target_count();
    report.summary = Some(format!(
        "{filters} {}, {targets} {}, {}",
        plural(filters, "filter", "filters"),
        plural(targets, "target", "targets"),
        if workflow.default_filter().is_some() {
            "a default filter"
        } else {
            "no default filter"
        }
    ));
    report
}

fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 { one } else { many }
}

/// Where `route` finds the workspace's workers and queues.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Staff {
    /// `--workspace`: a workspace document.
    Document(PathBuf),
    /// `--workers` and `--queues`, either or both.
    Lists(Option<PathBuf>, Option<PathBuf>),
}

/// `staff`: the workspace document, or the `--workers` and `--queues` files; `now`: the
/// instant, read once.
fn route(
    path: &Path,
    task: &str,
    staff: &Staff,
    now: Timestamp,
    as_json: bool,
) -> Result<Output, CliError> {
    let workflow = match load(path)? {
        Ok(local) => local.workflow,
        Err(output) => return Ok(output),
    };
    let task = json_object("--task", task)?;
    let (workers, queues) = match staff {
        Staff::Document(document) => {
            let text = read(document)?;
            let source = document.display().to_string();
            return match WorkspaceDocument::read(&source, &text) {
                Ok(document) => Ok(answer(&workflow, &task, &document.routing(), now, as_json)),
                Err(problems) => Ok(Output {
                    stdout: String::new(),
                    stderr: format!("{problems}\n"),
                    code: FAILED,
                }),
            };
        }
        Staff::Lists(workers, queues) => (workers.as_deref(), queues.as_deref()),
    };
    let workers = match workers {
        Some(path) => Some(Worker::read_list(&path.display().to_string(), &read(path)?)),
        None => None,
    };
    let queues = match queues {
        Some(path) => Queue::read_list(&path.display().to_string(), &read(path)?),
        None => Ok(Vec::new()),
    };
    let (workers, queues) = match (workers.transpose(), queues) {
        (Ok(workers), Ok(queues)) => (workers, queues),
        (workers, queues) => {
            let mut problems = Problems::new();
            problems.extend(workers.err().unwrap_or_default());
            problems.extend(queues.err().unwrap_or_default());
            return Ok(Output {
                stdout: String::new(),
                stderr: format!("{problems}\n"),
                code: FAILED,
            });
        }
    };
    let workspace = Workspace::new(workers, queues);
    Ok(answer(&workflow, &task, &workspace, now, as_json))
}

/// The route of `task` against `workspace`, explained or as JSON.
fn answer(
    workflow: &Workflow,
    task: &Value,
    workspace: &Workspace,
    now: Timestamp,
    as_json: bool,
) -> Output {
    let route = workflow.route(task, workspace, now);
    let stdout = if as_json {
        json_text(&to_json(&route))
    } else {
        explain(workflow, &route)
    };
    Output {
        stdout,
        stderr: String::new(),
        code: OK,
    }
}

/// A filter as the JSON names it: its `filter_friendly_name`, or `filters[i]` when it has none.
fn filter_name(index: usize, filter: &Filter) -> Value {
    match filter.name() {
        Some(name) => Value::from(name),
        None => Value::from(format!("filters[{index}]")),
    }
}

/// Where a task went, as the JSON names it: [`filter_name`], `default_filter`, or null when it
/// went nowhere.
fn destination_name(destination: Destination<'_>) -> Value {
    match destination {
        Destination::Filter(index, filter) => filter_name(index, filter),
        Destination::Default(_) => Value::from("default_filter"),
        Destination::Nowhere => Value::Null,
    }
}

/// The filter a leg's search started from, and why: `(filter, target, "timeout" | "skip_if")`.
fn left(cause: Cause) -> Option<(usize, usize, &'static str)> {
    match cause {
        Cause::Created => None,
        Cause::TimedOut { filter, target } => Some((filter, target, "timeout")),
        Cause::Skipped { filter, target } => Some((filter, target, "skip_if")),
    }
}

fn to_json(route: &Route<'_>) -> Value {
    let filters: Vec<Value> = route
        .legs
        .iter()
        .flat_map(|leg| leg.tried.iter().map(move |tried| (leg.age, tried)))
        .map(|(age, tried)| {
            json!({
                "index": tried.index,
                "name": tried.filter.name(),
                "age": age,
                "matched": tried.explanation.holds,
                "because": tried.explanation.comparisons.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })
        })
        .collect();
    let steps: Vec<Value> = route
        .legs
        .iter()
        .flat_map(|leg| leg.steps.iter().map(move |step| step_json(leg, step)))
        .collect();
    let moves: Vec<Value> = route
        .legs
        .iter()
        .filter_map(|leg| {
            let (filter, target, because) = left(leg.cause)?;
            let from = route
                .legs
                .iter()
                .find_map(|earlier| match earlier.destination {
                    Destination::Filter(index, found) if index == filter => {
                        Some(filter_name(index, found))
                    }
                    _ => None,
                });
            Some(json!({
                "age": leg.age,
                "from": from,
                "target": format!("targets[{target}]"),
                "because": because,
                "to": destination_name(leg.destination),
            }))
        })
        .collect();
    let end = match route.end {
        End::Waits => json!({"outcome": "waits", "age": null}),
        End::Canceled(age) => json!({"outcome": "canceled", "age": age}),
        End::NoQueue(age) => json!({"outcome": "no_queue", "age": age}),
    };
    json!({
        "filter": destination_name(route.first),
        "filters": filters,
        "now": route.created.to_string(),
        "steps": steps,
        "moves": moves,
        "end": end,
    })
}

fn step_json(leg: &Leg<'_>, step: &Step<'_>) -> Value {
    let target = match step.place {
        Place::Target { target, .. } => format!("targets[{target}]"),
        Place::Default => "default_filter".to_owned(),
    };
    let leaves_by = step.leaving().map(|(_, leaving)| match leaving {
        Leaving::TimedOut => "timeout",
        Leaving::Skipped => "skip_if",
    });
    let mut value = json!({
        "filter": destination_name(leg.destination),
        "target": target,
        "queue": step.queue.as_str(),
        "priority": step.target.priority(),
        "timeout": step.target.timeout(),
        "enters": step.enters,
        "leaves": step.leaves,
        "leaves_by": leaves_by,
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

/// `time: …: taskrouter.* reads Sat 16:45 UTC`
fn time_line(out: &mut String, instant: Timestamp) {
    let reading = TimeOfDay::utc(instant);
    let _ = writeln!(
        out,
        "time: {instant}: taskrouter.* reads {} {:02}:{:02} UTC",
        day_name(reading.weekday()),
        reading.hour(),
        reading.minute()
    );
}

/// The human explanation, leg by leg: why the task looked for a filter, where it went, each
/// filter tried, the steps. It gives the instant each leg reads when the configuration reads
/// the time of day, since the route then depends on it.
fn explain(workflow: &Workflow, route: &Route<'_>) -> String {
    let mut out = String::new();
    let reads_time = workflow.uses_time_of_day();
    let mut number = 0;
    for leg in &route.legs {
        let later = left(leg.cause);
        if let Some((filter, target, _)) = later {
            let from = workflow.filters().get(filter).map_or_else(
                || format!("filters[{filter}]"),
                |found| filter_place(filter, found.name()),
            );
            let _ = match leg.cause {
                Cause::Skipped { .. } => writeln!(
                    out,
                    "moved: at task age {} s {from}, targets[{target}] (the filter's last step) was skipped (skip_if): the task goes on to the next filter that matches, else default_filter",
                    leg.age
                ),
                _ => writeln!(
                    out,
                    "moved: at task age {} s {from}, targets[{target}] (the filter's last step) timed out: the task goes on to the next filter that matches",
                    leg.age
                ),
            };
        }
        if reads_time {
            time_line(&mut out, route.instant(leg.age));
        }
        let from = if later.is_some() {
            format!(", from task age {} s", leg.age)
        } else {
            String::new()
        };
        let none_matched = if later.is_some() {
            "no later filter matched"
        } else {
            "no filter matched"
        };
        let _ = match leg.destination {
            Destination::Filter(index, filter) => {
                writeln!(out, "filter: {}{from}", filter_place(index, filter.name()))
            }
            Destination::Default(_) => {
                writeln!(out, "filter: default_filter ({none_matched}){from}")
            }
            Destination::Nowhere if !leg.cause.default_counts() => writeln!(
                out,
                "filter: none: {none_matched} and default_filter does not count after a timeout: TaskRouter cancels the task (workflow.timeout)"
            ),
            Destination::Nowhere => writeln!(
                out,
                "filter: none: {none_matched} and there is no default_filter, so the task has no queue"
            ),
        };
        for tried in &leg.tried {
            let verdict = if tried.explanation.holds {
                "match"
            } else {
                "no match"
            };
            let _ = writeln!(
                out,
                "  {}: {verdict}: {}",
                filter_place(tried.index, tried.filter.name()),
                because(&tried.explanation)
            );
        }
        if !leg.steps.is_empty() {
            out.push_str("steps:\n");
        }
        for step in &leg.steps {
            number += 1;
            explain_step(&mut out, number, step);
        }
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
        (Some(enters), Some(leaves))
            if step
                .target
                .timeout()
                .is_some_and(|timeout| enters.checked_add(timeout) != Some(leaves)) =>
        {
            format!(
                "task age {enters} s to {leaves} s (timeouts add up over the steps walked, skipped ones included)"
            )
        }
        (Some(enters), Some(leaves)) => format!("task age {enters} s to {leaves} s"),
        (Some(enters), None) => format!("from task age {enters} s until the task's TTL"),
    };
    let priority = match step.target.priority() {
        Some(priority) => format!("priority {priority}"),
        None => "priority unchanged".to_owned(),
    };
    let place = match step.place {
        Place::Target { target, .. } => format!("targets[{target}]"),
        Place::Default => "default_filter".to_owned(),
    };
    let _ = writeln!(
        out,
        "  {number}. {place}: queue {queue}, {window}, {priority}"
    );
    let indent = "       ";
    if let Some(expression) = step.target.expression() {
        let _ = writeln!(out, "{indent}expression: {expression}");
    }
    if let Some((reference, value)) = &step.known_worker {
        let _ = writeln!(out, "{indent}known worker: {reference} = {value}");
    }
    if !step.target.order_by().is_empty() {
        let clauses = order_by_text(step.target.order_by());
        let _ = writeln!(out, "{indent}order_by: {clauses}");
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
            Skip::NoLaterStep => writeln!(
                out,
                "{indent}skip_if `{skip_if}`: not evaluated: no step follows default_filter"
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

#[cfg(test)]
mod tests {
    use crate::cli::test_support::TempFile;
    use std::path::PathBuf;

    use super::WorkflowCommand;
    use crate::cli::{Command, Output, run};

    fn path(relative: &str) -> PathBuf {
        PathBuf::from(format!(
            "{}/workflows/{relative}",
            env!("CARGO_MANIFEST_DIR")
        ))
    }

    fn check(file: PathBuf) -> Output {
        run(
            Command::Workflow {
                command: WorkflowCommand::Check {
                    files: vec![file],
                    strict: false,
                    json: false,
                },
            },
            None,
        )
    }

    /// A Wednesday noon, UTC.
    const NOON: &str = "2026-12-02T12:00:00Z";

    fn route(example: &str, task: &str, workspace: bool, json: bool) -> Output {
        route_at(example, task, workspace, json, NOON)
    }

    fn route_at(example: &str, task: &str, workspace: bool, json: bool, now: &str) -> Output {
        run(
            Command::Workflow {
                command: WorkflowCommand::Route {
                    file: path(&format!("examples/{example}")),
                    task: task.to_owned(),
                    workspace: workspace.then(|| path("workspace.json")),
                    workers: None,
                    queues: None,
                    now: Some(now.parse().expect("an instant")),
                    json,
                },
            },
            None,
        )
    }

    #[test]
    fn check_counts_what_a_valid_configuration_holds() {
        let cases = [
            (
                "lifecycle-support-sales.json",
                "ok: 2 filters, 3 targets, a default filter\n",
            ),
            (
                "time-of-day.json",
                "ok: 1 filter, 1 target, a default filter\n",
            ),
            (
                "transfer.json",
                "ok: 3 filters, 5 targets, a default filter\n",
            ),
            (
                "helpline.json",
                "ok: 4 filters, 10 targets, a default filter\n",
            ),
            (
                "overflow.json",
                "ok: 4 filters, 5 targets, a default filter\n",
            ),
        ];
        for (example, stdout) in cases {
            let output = check(path(&format!("examples/{example}")));
            assert_eq!(
                output,
                Output {
                    stdout: stdout.to_owned(),
                    stderr: String::new(),
                    code: 0
                },
                "{example}"
            );
        }
    }

    #[test]
    fn check_prints_warnings_on_stderr_and_still_exits_0() {
        let file = TempFile::new(
            "warnings.json",
            r#"{"task_routing": {"filters": [
                {"filter_friendly_name": "everything", "expression": "1==1", "targets": [{"queue": "WQ00000000000000000000000000000001"}, {"queue": "WQ00000000000000000000000000000002"}]},
                {"filter_friendly_name": "open", "expression": "taskrouter.dayOfWeek IN ['Mon', 'THU'] AND taskrouter.currentHour > 1700", "targets": [{"queue": "WQ00000000000000000000000000000001"}]}
            ]}}"#,
        );
        let output = check(file.0.clone());
        assert_eq!(output.code, 0);
        assert_eq!(
            output.stdout,
            "ok: 2 filters, 3 targets, no default filter (4 warnings)\n"
        );
        insta::assert_snapshot!(output.stderr.replace(&file.0.display().to_string(), "FILE"), @r#"
        FILE:2:90: warning: filters[0] (`everything`), targets[0]: no `timeout` and no `skip_if`: a task waits there until its TTL, so targets[1] is never reached; give it a timeout
        FILE:3:17: warning: filters[1] (`open`): never reached: filters[0] (`everything`) matches every task (`1==1`) and keeps it; move this filter above it
        FILE:3:64: warning: filters[1] (`open`): `expression`: `taskrouter.currentHour > 1700` holds at no minute of the week: `taskrouter.currentHour` is the UTC hour, 0 to 23, never null; compare it with a value it takes
        FILE:1:18: warning: task_routing: no `default_filter`: a task that matches no filter has no queue to wait in; add "default_filter": {"queue": "WQ…"}
        "#);
    }

    #[test]
    fn check_lists_every_error_with_the_path_and_exits_1() {
        let file = TempFile::new(
            "errors.json",
            r#"{"task_routing": {"filters": [{"expression": "type ==", "targets": [{"queue": "WQ1", "timout": 5}]}]}}"#,
        );
        let output = check(file.0.clone());
        assert_eq!((output.code, output.stdout.as_str()), (1, ""));
        insta::assert_snapshot!(output.stderr.replace(&file.0.display().to_string(), "FILE"), @r"
        FILE:1:46: error: filters[0]: `expression` is not a valid expression: unexpected end of expression at column 8
          type ==
                 ^ expected a value after ==
        FILE:1:86: error: filters[0], targets[0]: unknown key `timout`: did you mean `timeout`?
        FILE:1:79: error: filters[0], targets[0]: `queue`: `WQ1` is not a valid task queue SID: expected `WQ` followed by 32 hex digits
        ");
    }

    #[test]
    fn check_reports_a_file_that_cannot_be_read() {
        let output = check(PathBuf::from("/nonexistent/workflow.json"));
        assert_eq!(
            output.code, 2,
            "a file that cannot be read: usage (cli::Exit)"
        );
        assert!(
            output
                .stderr
                .starts_with("/nonexistent/workflow.json: error: cannot read it: "),
            "{}",
            output.stderr
        );
    }

    #[test]
    fn route_explains_a_task_that_falls_through_to_the_default_filter() {
        let output = route(
            "lifecycle-support-sales.json",
            r#"{"type": "Billing"}"#,
            true,
            false,
        );
        assert_eq!((output.code, output.stderr.as_str()), (0, ""));
        insta::assert_snapshot!(output.stdout, @r#"
        filter: default_filter (no filter matched)
          filters[0] (`Support Calls`): no match: `type=="Support"` is false (type = "Billing")
          filters[1] (`Sales Calls`): no match: `type=="Sales"` is false (type = "Billing")
        steps:
          1. default_filter: queue WQ00000000000000000000000000000003 (Everyone), from task age 0 s until the task's TTL, priority unchanged
               workers in offer order: WK00000000000000000000000000000001 (alice), WK00000000000000000000000000000002 (bob), WK00000000000000000000000000000003 (carol; not available: Offline), WK00000000000000000000000000000004 (dave), WK00000000000000000000000000000005 (erin; not available: Break)
        "#);
    }

    #[test]
    fn route_shows_the_escalation_timeline_with_skips_order_and_exclusions() {
        let output = route(
            "helpline.json",
            r#"{"priority_level": "emergency", "channelType": "chat"}"#,
            true,
            false,
        );
        assert_eq!(output.code, 0);
        insta::assert_snapshot!(output.stdout, @r#"
        filter: filters[1] (`Emergency`)
          filters[0] (`Transfer to a counsellor`): no match: `transferTargetType == 'worker'` is false (transferTargetType = null)
          filters[1] (`Emergency`): match: `priority_level == 'emergency'` is true (priority_level = "emergency")
        steps:
          1. targets[0]: queue WQ00000000000000000000000000000007 (Supervisors), skipped at task age 0 s, priority 100
               skip_if: `workers.available == 0` is true (workers.available = 0): the task skips this step
               workers in offer order: WK00000000000000000000000000000003 (carol; not available: Offline)
               not qualifying: WK00000000000000000000000000000001 (alice): not in the queue: `role == 'supervisor'` is false (role = null)
               not qualifying: WK00000000000000000000000000000002 (bob): not in the queue: `role == 'supervisor'` is false (role = null)
               not qualifying: WK00000000000000000000000000000004 (dave): not in the queue: `role == 'supervisor'` is false (role = null)
               not qualifying: WK00000000000000000000000000000005 (erin): not in the queue: `role == 'supervisor'` is false (role = null)
          2. targets[1]: queue WQ00000000000000000000000000000008 (Counsellors), from task age 0 s until the task's TTL, priority 100
               expression: (worker.waitingOfflineContact != true AND ((task.channelType == 'voice' AND worker.channel.chat.assigned_tasks == 0) OR (task.channelType != 'voice' AND worker.channel.voice.assigned_tasks == 0)))
               order_by: worker.level DESC
               workers in offer order: WK00000000000000000000000000000003 (carol; not available: Offline), WK00000000000000000000000000000001 (alice)
               not qualifying: WK00000000000000000000000000000002 (bob): not in the queue: `skills HAS 'counselling'` is false (skills = ["sales"])
               not qualifying: WK00000000000000000000000000000004 (dave): `worker.waitingOfflineContact != true` is false (worker.waitingOfflineContact = true)
               not qualifying: WK00000000000000000000000000000005 (erin): `task.channelType == 'voice'` is false (task.channelType = "chat"); `worker.channel.voice.assigned_tasks == 0` is false (worker.channel.voice.assigned_tasks = 1)
        "#);
    }

    #[test]
    fn route_explains_each_fall_through_with_its_cause_and_the_filter_it_leads_to() {
        let output = route("overflow.json", r#"{"type": "sales"}"#, true, false);
        assert_eq!((output.code, output.stderr.as_str()), (0, ""));
        insta::assert_snapshot!(output.stdout, @r#"
        filter: filters[0] (`Sales`)
          filters[0] (`Sales`): match: `type == 'sales'` is true (type = "sales")
        steps:
          1. targets[0]: queue WQ00000000000000000000000000000002 (Just Sales), task age 0 s to 60 s, priority unchanged
               order_by: worker.level DESC
               workers in offer order: WK00000000000000000000000000000002 (bob), WK00000000000000000000000000000001 (alice), WK00000000000000000000000000000005 (erin; not available: Break)
               not qualifying: WK00000000000000000000000000000003 (carol): not in the queue: `skills HAS 'sales'` is false (skills = ["support","counselling"])
               not qualifying: WK00000000000000000000000000000004 (dave): not in the queue: `skills HAS 'sales'` is false (skills = ["support","counselling","voicemail"])
        moved: at task age 60 s filters[0] (`Sales`), targets[0] (the filter's last step) timed out: the task goes on to the next filter that matches
        filter: filters[2] (`Overflow`), from task age 60 s
          filters[1] (`Support`): no match: `type == 'support'` is false (type = "sales")
          filters[2] (`Overflow`): match: `type IN ['sales', 'support']` is true (type = "sales")
        steps:
          2. targets[0]: queue WQ00000000000000000000000000000003 (Everyone), task age 60 s to 180 s, priority 20
               workers in offer order: WK00000000000000000000000000000001 (alice), WK00000000000000000000000000000002 (bob), WK00000000000000000000000000000003 (carol; not available: Offline), WK00000000000000000000000000000004 (dave), WK00000000000000000000000000000005 (erin; not available: Break)
        moved: at task age 180 s filters[2] (`Overflow`), targets[0] (the filter's last step) timed out: the task goes on to the next filter that matches
        filter: filters[3] (`Voicemail`), from task age 180 s
          filters[3] (`Voicemail`): match: `type IN ['sales', 'support']` is true (type = "sales")
        steps:
          3. targets[0]: queue WQ00000000000000000000000000000005 (After Hours), from task age 180 s until the task's TTL, priority 20
               workers in offer order: WK00000000000000000000000000000004 (dave)
               not qualifying: WK00000000000000000000000000000001 (alice): not in the queue: `skills HAS 'voicemail'` is false (skills = ["support","sales","counselling"])
               not qualifying: WK00000000000000000000000000000002 (bob): not in the queue: `skills HAS 'voicemail'` is false (skills = ["sales"])
               not qualifying: WK00000000000000000000000000000003 (carol): not in the queue: `skills HAS 'voicemail'` is false (skills = ["support","counselling"])
               not qualifying: WK00000000000000000000000000000005 (erin): not in the queue: `skills HAS 'voicemail'` is false (skills = ["sales","support","counselling"])
        "#);
        let skipped = route("overflow.json", r#"{"type": "support"}"#, true, false);
        let lines: Vec<&str> = skipped
            .stdout
            .lines()
            .filter(|line| {
                line.starts_with("moved:")
                    || line.contains("skipped at")
                    || line.contains("60 s to 240 s")
            })
            .collect();
        assert_eq!(
            lines,
            [
                "  2. targets[1]: queue WQ00000000000000000000000000000007 (Supervisors), skipped at task age 60 s, priority unchanged",
                "moved: at task age 60 s filters[1] (`Support`), targets[1] (the filter's last step) was skipped (skip_if): the task goes on to the next filter that matches, else default_filter",
                "  3. targets[0]: queue WQ00000000000000000000000000000003 (Everyone), task age 60 s to 240 s (timeouts add up over the steps walked, skipped ones included), priority 20",
                "moved: at task age 240 s filters[2] (`Overflow`), targets[0] (the filter's last step) timed out: the task goes on to the next filter that matches",
            ]
        );
    }

    #[test]
    fn route_explains_that_a_task_timing_out_with_no_later_match_is_canceled() {
        let output = route(
            "lifecycle-support-sales.json",
            r#"{"type": "Sales"}"#,
            false,
            false,
        );
        insta::assert_snapshot!(output.stdout, @r#"
        filter: filters[1] (`Sales Calls`)
          filters[0] (`Support Calls`): no match: `type=="Support"` is false (type = "Sales")
          filters[1] (`Sales Calls`): match: `type=="Sales"` is true (type = "Sales")
        steps:
          1. targets[0]: queue WQ00000000000000000000000000000002, task age 0 s to 15 s, priority unchanged
        moved: at task age 15 s filters[1] (`Sales Calls`), targets[0] (the filter's last step) timed out: the task goes on to the next filter that matches
        filter: none: no later filter matched and default_filter does not count after a timeout: TaskRouter cancels the task (workflow.timeout)
        "#);
    }

    #[test]
    fn route_gives_the_instant_each_search_for_a_filter_reads() {
        let file = TempFile::new(
            "closing.json",
            r#"{"task_routing": {"filters": [
                {"filter_friendly_name": "open", "expression": "taskrouter.currentTime < 1730", "targets": [{"queue": "WQ00000000000000000000000000000004", "timeout": 600}]},
                {"filter_friendly_name": "closed", "expression": "taskrouter.currentTime >= 1730", "targets": [{"queue": "WQ00000000000000000000000000000005"}]}
            ], "default_filter": {"queue": "WQ00000000000000000000000000000005"}}}"#,
        );
        let output = run(
            Command::Workflow {
                command: WorkflowCommand::Route {
                    file: file.0.clone(),
                    task: "{}".to_owned(),
                    workspace: None,
                    workers: None,
                    queues: None,
                    now: Some("2026-12-02T17:25:00Z".parse().expect("an instant")),
                    json: false,
                },
            },
            None,
        );
        insta::assert_snapshot!(output.stdout, @r"
        time: 2026-12-02T17:25:00Z: taskrouter.* reads Wed 17:25 UTC
        filter: filters[0] (`open`)
          filters[0] (`open`): match: `taskrouter.currentTime < 1730` is true (taskrouter.currentTime = 1725)
        steps:
          1. targets[0]: queue WQ00000000000000000000000000000004, task age 0 s to 600 s, priority unchanged
        moved: at task age 600 s filters[0] (`open`), targets[0] (the filter's last step) timed out: the task goes on to the next filter that matches
        time: 2026-12-02T17:35:00Z: taskrouter.* reads Wed 17:35 UTC
        filter: filters[1] (`closed`), from task age 600 s
          filters[1] (`closed`): match: `taskrouter.currentTime >= 1730` is true (taskrouter.currentTime = 1735)
        steps:
          2. targets[0]: queue WQ00000000000000000000000000000005, from task age 600 s until the task's TTL, priority unchanged
        ");
    }

    #[test]
    fn route_without_workers_shows_the_timeline_alone() {
        let output = route(
            "transfer.json",
            r#"{"lastAgentName": "carol"}"#,
            false,
            false,
        );
        insta::assert_snapshot!(output.stdout, @r#"
        filter: filters[2] (`Back to the last agent`)
          filters[0] (`Transfer to a worker`): no match: `transferTargetType == 'worker'` is false (transferTargetType = null)
          filters[1] (`Transfer to the Spanish queue`): no match: `transferTargetType == 'queue'` is false (transferTargetType = null)
          filters[2] (`Back to the last agent`): match: `lastAgentName != null` is true (lastAgentName = "carol")
        steps:
          1. targets[0]: queue WQ00000000000000000000000000000003, task age 0 s to 20 s, priority unchanged
               known worker: task.lastAgentName = "carol"
               skip_if `workers.available == 0`: evaluated with --workers only
          2. targets[1]: queue WQ00000000000000000000000000000003, from task age 20 s until the task's TTL, priority unchanged
        "#);
    }

    #[test]
    fn route_reads_the_time_of_day_at_now_and_says_which_instant() {
        // A Saturday after 15:30 UTC: Twilio's example is closed, at its single `=`.
        let output = route_at(
            "time-of-day.json",
            "{}",
            true,
            false,
            "2026-12-05T16:45:00Z",
        );
        assert_eq!((output.code, output.stderr.as_str()), (0, ""));
        insta::assert_snapshot!(output.stdout, @r#"
        time: 2026-12-05T16:45:00Z: taskrouter.* reads Sat 16:45 UTC
        filter: default_filter (no filter matched)
          filters[0] (`MyFilterName`): no match: `taskrouter.dayOfWeek IN ['Mon', 'Tue', 'THU']` is false (taskrouter.dayOfWeek = "Sat"); `taskrouter.dayOfWeek IN ['Wed', 'Fri']` is false (taskrouter.dayOfWeek = "Sat"); `taskrouter.currentTime < 1530` is false (taskrouter.currentTime = 1645)
        steps:
          1. default_filter: queue WQ00000000000000000000000000000005 (After Hours), from task age 0 s until the task's TTL, priority unchanged
               workers in offer order: WK00000000000000000000000000000004 (dave)
               not qualifying: WK00000000000000000000000000000001 (alice): not in the queue: `skills HAS 'voicemail'` is false (skills = ["support","sales","counselling"])
               not qualifying: WK00000000000000000000000000000002 (bob): not in the queue: `skills HAS 'voicemail'` is false (skills = ["sales"])
               not qualifying: WK00000000000000000000000000000003 (carol): not in the queue: `skills HAS 'voicemail'` is false (skills = ["support","counselling"])
               not qualifying: WK00000000000000000000000000000005 (erin): not in the queue: `skills HAS 'voicemail'` is false (skills = ["sales","support","counselling"])
        "#);
        let thursday = route_at(
            "time-of-day.json",
            "{}",
            false,
            true,
            "2026-12-03T09:00:00-05:00",
        );
        let value: serde_json::Value = serde_json::from_str(&thursday.stdout).expect("JSON");
        assert_eq!(
            (&value["filter"], &value["now"]),
            (
                &serde_json::json!("MyFilterName"),
                &serde_json::json!("2026-12-03T14:00:00Z")
            ),
            "'THU' at 14:00 UTC: open; the instant is given back in UTC"
        );
    }

    #[test]
    fn route_without_now_reads_the_clock_once() {
        let output = run(
            Command::Workflow {
                command: WorkflowCommand::Route {
                    file: path("examples/time-of-day.json"),
                    task: "{}".to_owned(),
                    workspace: None,
                    workers: None,
                    queues: None,
                    now: None,
                    json: true,
                },
            },
            None,
        );
        let value: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
        let now: jiff::Timestamp = value["now"]
            .as_str()
            .expect("the instant used")
            .parse()
            .expect("RFC 3339");
        let age = jiff::Timestamp::now().duration_since(now);
        assert!(
            age >= jiff::SignedDuration::ZERO && age < jiff::SignedDuration::from_secs(600),
            "the current time, not a fixed one: {now}"
        );
    }

    #[test]
    fn route_json_names_the_filter_and_each_step_with_its_workers() {
        let output = route(
            "lifecycle-support-sales.json",
            r#"{"type": "Support", "preferred_agents": ["carol", "alice"]}"#,
            true,
            true,
        );
        assert_eq!(output.code, 0);
        let value: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
        insta::assert_json_snapshot!(value, @r#"
        {
          "end": {
            "age": 30,
            "outcome": "canceled"
          },
          "filter": "Support Calls",
          "filters": [
            {
              "age": 0,
              "because": [
                "`type==\"Support\"` is true (type = \"Support\")"
              ],
              "index": 0,
              "matched": true,
              "name": "Support Calls"
            },
            {
              "age": 30,
              "because": [
                "`type==\"Sales\"` is false (type = \"Support\")"
              ],
              "index": 1,
              "matched": false,
              "name": "Sales Calls"
            }
          ],
          "moves": [
            {
              "age": 30,
              "because": "timeout",
              "from": "Support Calls",
              "target": "targets[1]",
              "to": null
            }
          ],
          "now": "2026-12-02T12:00:00Z",
          "steps": [
            {
              "available_workers": [
                "WK00000000000000000000000000000001"
              ],
              "enters": 0,
              "filter": "Support Calls",
              "leaves": 15,
              "leaves_by": "timeout",
              "priority": null,
              "queue": "WQ00000000000000000000000000000001",
              "skipped": false,
              "target": "targets[0]",
              "timeout": 15,
              "workers": [
                "WK00000000000000000000000000000001",
                "WK00000000000000000000000000000003"
              ]
            },
            {
              "available_workers": [
                "WK00000000000000000000000000000001",
                "WK00000000000000000000000000000004"
              ],
              "enters": 15,
              "filter": "Support Calls",
              "leaves": 30,
              "leaves_by": "timeout",
              "priority": null,
              "queue": "WQ00000000000000000000000000000001",
              "skipped": false,
              "target": "targets[1]",
              "timeout": 15,
              "workers": [
                "WK00000000000000000000000000000001",
                "WK00000000000000000000000000000003",
                "WK00000000000000000000000000000004",
                "WK00000000000000000000000000000005"
              ]
            }
          ]
        }
        "#);
    }

    #[test]
    fn route_json_without_workers_has_no_workers_key_and_names_the_default() {
        let output = route("lifecycle-support-sales.json", "{}", false, true);
        let value: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
        assert_eq!(value["filter"], "default_filter");
        let step = value["steps"][0].as_object().expect("one step");
        assert_eq!(step["queue"], "WQ00000000000000000000000000000003");
        assert!(!step.contains_key("workers"), "{step:?}");
    }

    #[test]
    fn route_refuses_bad_input_naming_the_flag_or_file() {
        let output = route("lifecycle-support-sales.json", "[1]", false, false);
        assert_eq!(
            (output.code, output.stderr.as_str()),
            (2, "error: --task must be a JSON object, found an array\n")
        );
        let workers = TempFile::new("workers.json", r#"[{"sid": "WK1"}]"#);
        let output = run(
            Command::Workflow {
                command: WorkflowCommand::Route {
                    file: path("examples/transfer.json"),
                    task: "{}".to_owned(),
                    workspace: None,
                    workers: Some(workers.0.clone()),
                    queues: None,
                    now: None,
                    json: false,
                },
            },
            None,
        );
        assert_eq!(output.code, 1);
        assert_eq!(
            output.stderr,
            format!(
                "{}:1:10: error: workers[0]: `sid`: `WK1` is not a valid worker SID: expected `WK` followed by 32 hex digits\n",
                workers.0.display()
            )
        );
        let broken = TempFile::new("broken.json", r#"{"task_routing": {"filters": 1}}"#);
        let output = run(
            Command::Workflow {
                command: WorkflowCommand::Route {
                    file: broken.0.clone(),
                    task: "{}".to_owned(),
                    workspace: None,
                    workers: None,
                    queues: None,
                    now: None,
                    json: true,
                },
            },
            None,
        );
        assert_eq!((output.code, output.stdout.as_str()), (1, ""));
        assert_eq!(
            output.stderr,
            format!(
                "{}:1:30: error: task_routing: `filters`: expected an array of filters, found a number\n",
                broken.0.display()
            )
        );
    }
}
