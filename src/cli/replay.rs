//! `sim replay`: a day of tasks through a Workflow on a virtual clock ([`crate::sim::replay`]),
//! printed as a table or as JSON.
//!
//! Exit 0 when the replay ran; 1 for a workspace document, a Workflow or a tasks file with
//! problems (each located); 2 for a file that cannot be read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::sim::document::WorkspaceDocument;
use crate::sim::replay::stats::QueueReport;
use crate::sim::replay::tasks::TaskReader;
use crate::sim::replay::{self, Outcome, Setup, history, report};

use super::workflow::file;
use super::{CliError, FAILED, OK, Output, json_text};

/// The instant the virtual clock starts at unless told otherwise: a Monday, midnight UTC, so
/// time-of-day filters read a working week from the first task on.
pub const DEFAULT_START: &str = "2026-01-05T00:00:00Z";

/// What `sim replay` was asked for: its flags.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ReplayArgs {
    /// The workspace document: workers, activities, queues, Workflows.
    #[arg(long, value_name = "FILE")]
    pub workspace: PathBuf,
    /// The tasks: CSV with arrival_seconds,attributes,handle_seconds and optionally
    /// patience_seconds,channel; or, for a file ending in .json, an Events API export
    /// (TaskRouter's history) from which they are derived.
    #[arg(long, value_name = "FILE")]
    pub tasks: PathBuf,
    /// A Workflow configuration replacing the workspace's first Workflow.
    #[arg(long, value_name = "FILE")]
    pub workflow: Option<PathBuf>,
    /// A second Workflow configuration: the same tasks are replayed through it and both
    /// are shown side by side, with the differences.
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// Answer each reservation with this rules document, in-process, as the function
    /// would: `reject` offers the task to the next worker, `{}` is accepted
    /// --defer-seconds later, any other instruction accepts. Without it every reservation
    /// is accepted at once.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// With --rules: how long a deferred reservation (`{}`) stays pending before it is
    /// accepted, the time a backend takes to accept through the REST API.
    #[arg(long, default_value_t = 5)]
    pub defer_seconds: u64,
    /// The service-level threshold: answered within this many seconds.
    #[arg(long, default_value_t = 20)]
    pub service_level_seconds: u64,
    /// The instant the virtual clock starts at (what time-of-day filters read).
    #[arg(long, value_name = "RFC3339", value_parser = crate::cli::parse_now, default_value = DEFAULT_START)]
    pub start: Timestamp,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML page with the figures and charts (wait, service
    /// level and occupancy over time; both configurations with --compare).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

fn failed(message: String) -> Output {
    Output {
        stdout: String::new(),
        stderr: format!("{message}\n"),
        code: FAILED,
    }
}

/// Runs `sim replay`.
pub(crate) fn run(args: &ReplayArgs) -> Result<Output, CliError> {
    let text = std::fs::read_to_string(&args.workspace).map_err(|source| CliError::Read {
        path: args.workspace.display().to_string(),
        source,
    })?;
    let document = match WorkspaceDocument::read(&args.workspace.display().to_string(), &text) {
        Ok(document) => document,
        Err(problems) => return Ok(failed(problems.to_string())),
    };
    let configuration = match &args.workflow {
        Some(path) => match file::load(path)? {
            Ok(local) => Some(local.workflow),
            Err(output) => return Ok(output),
        },
        None => None,
    };
    let compared = match &args.compare {
        Some(path) => match file::load(path)? {
            Ok(local) => Some(local.workflow),
            Err(output) => return Ok(output),
        },
        None => None,
    };
    let rules = match &args.rules {
        Some(path) => Some(super::rules::load_rules(path)?),
        None => None,
    };
    let setup = |configuration| {
        Setup::new(
            &document,
            configuration,
            args.service_level_seconds,
            args.start,
        )
        .map(|setup| match &rules {
            Some(rules) => setup.with_rules(rules.clone(), args.defer_seconds),
            None => setup,
        })
        .map_err(|error| failed(format!("error: {}: {error}", args.workspace.display())))
    };
    let baseline = match setup(configuration) {
        Ok(setup) => setup,
        Err(output) => return Ok(output),
    };
    let started = Instant::now();
    let outcome = match replay_file(&baseline, &args.tasks)? {
        Ok(outcome) => outcome,
        Err(output) => return Ok(output),
    };
    let wall = started.elapsed().as_secs_f64();
    let baseline_name = args.workflow.as_ref().map_or_else(
        || "the workspace's Workflow".to_owned(),
        |path| path.display().to_string(),
    );
    let Some(compared) = compared else {
        write_report(args, &[(baseline_name, &outcome)])?;
        let stdout = if args.json {
            json_text(&to_json(&outcome, wall))
        } else {
            table(&outcome, wall)
        };
        return Ok(Output {
            stdout,
            stderr: String::new(),
            code: OK,
        });
    };
    let second = match setup(Some(compared)) {
        Ok(setup) => setup,
        Err(output) => return Ok(output),
    };
    let started = Instant::now();
    let other = match replay_file(&second, &args.tasks)? {
        Ok(outcome) => outcome,
        Err(output) => return Ok(output),
    };
    let other_wall = started.elapsed().as_secs_f64();
    let compare_name = args
        .compare
        .as_ref()
        .map(|path| path.display().to_string())
        .unwrap_or_default();
    write_report(
        args,
        &[
            (baseline_name.clone(), &outcome),
            (compare_name.clone(), &other),
        ],
    )?;
    let stdout = if args.json {
        let mut value = to_json(&outcome, wall);
        if let Some(object) = value.as_object_mut() {
            object.insert("compare".to_owned(), to_json(&other, other_wall));
            object.insert("differences".to_owned(), differences(&outcome, &other));
        }
        json_text(&value)
    } else {
        format!(
            "{baseline_name}\n{}\n{compare_name}\n{}\n{}",
            table(&outcome, wall),
            table(&other, other_wall),
            difference_table(&outcome, &other)
        )
    };
    Ok(Output {
        stdout,
        stderr: String::new(),
        code: OK,
    })
}

/// Per queue, overall and per filter, the second configuration's figures less the first's.
fn differences(first: &Outcome, second: &Outcome) -> Value {
    let round = |value: f64| (value * 1000.0).round() / 1000.0;
    let difference = |a: &QueueReport, b: &QueueReport| {
        json!({
            "friendly_name": a.friendly_name,
            "sid": a.sid,
            "answered": i128::from(b.answered) - i128::from(a.answered),
            "abandoned": i128::from(b.abandoned) - i128::from(a.abandoned),
            "canceled": i128::from(b.canceled) - i128::from(a.canceled),
            "service_level": round(b.service_level - a.service_level),
            "wait_seconds": {
                "mean": round(b.wait_seconds.mean - a.wait_seconds.mean),
                "p90": round(b.wait_seconds.p90 - a.wait_seconds.p90),
                "max": round(b.wait_seconds.max - a.wait_seconds.max),
            },
        })
    };
    let pairs = |a: &[QueueReport], b: &[QueueReport]| -> Vec<Value> {
        a.iter().zip(b).map(|(a, b)| difference(a, b)).collect()
    };
    json!({
        "queues": pairs(&first.queues, &second.queues),
        "overall": difference(&first.overall, &second.overall),
        "filters": pairs(&first.filters, &second.filters),
    })
}

/// The differences as a table: each figure before → after.
fn difference_table(first: &Outcome, second: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:>22} {:>22} {:>18}",
        "difference", "service level", "wait avg", "abandoned"
    );
    let pairs = first
        .queues
        .iter()
        .zip(&second.queues)
        .map(|(a, b)| (a.friendly_name.clone(), a, b))
        .chain([("overall".to_owned(), &first.overall, &second.overall)])
        .chain(
            first
                .filters
                .iter()
                .zip(&second.filters)
                .map(|(a, b)| (format!("filter {}", a.friendly_name), a, b)),
        );
    for (name, a, b) in pairs {
        let name: String = name.chars().take(24).collect();
        let _ = writeln!(
            out,
            "{:<24} {:>22} {:>22} {:>18}",
            name,
            format!(
                "{:.1}% → {:.1}%",
                a.service_level * 100.0,
                b.service_level * 100.0
            ),
            format!("{:.1}s → {:.1}s", a.wait_seconds.mean, b.wait_seconds.mean),
            format!("{} → {}", a.abandoned, b.abandoned)
        );
    }
    out
}

/// Writes the HTML report when `--report` asks for one.
fn write_report(args: &ReplayArgs, runs: &[(String, &Outcome)]) -> Result<(), CliError> {
    let Some(path) = &args.report else {
        return Ok(());
    };
    std::fs::write(path, report::html(runs)).map_err(|source| CliError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// Replays the tasks file at `path` through `setup`.
fn replay_file(setup: &Setup, path: &Path) -> Result<Result<Outcome, Output>, CliError> {
    let read_error = |source| CliError::Read {
        path: path.display().to_string(),
        source,
    };
    if path
        .extension()
        .is_some_and(|extension| extension == "json")
    {
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        return Ok(history::read(&path.display().to_string(), &text)
            .and_then(|rows| replay::replay(setup, rows.into_iter().map(Ok)))
            .map_err(|error| failed(format!("error: {error}"))));
    }
    let input = std::io::BufReader::new(std::fs::File::open(path).map_err(read_error)?);
    let tasks = match TaskReader::new(&path.display().to_string(), input) {
        Ok(tasks) => tasks,
        Err(error) => return Ok(Err(failed(format!("error: {error}")))),
    };
    Ok(replay::replay(setup, tasks).map_err(|error| failed(format!("error: {error}"))))
}

/// The outcome as `--json` prints it, with the wall-clock time it took.
fn to_json(outcome: &Outcome, wall_seconds: f64) -> Value {
    let mut value = serde_json::to_value(outcome).unwrap_or_else(|_| json!({}));
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "wall_seconds".to_owned(),
            json!((wall_seconds * 1000.0).round() / 1000.0),
        );
    }
    value
}

/// The outcome as a table: one line per queue and overall, then the workers' occupancy.
fn table(outcome: &Outcome, wall_seconds: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:>8} {:>8} {:>9} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8}",
        "queue",
        "offered",
        "answered",
        "abandoned",
        "canceled",
        format!("SL{}s", outcome.service_level_seconds),
        "wait avg",
        "p90",
        "p99",
        "max"
    );
    for queue in outcome.queues.iter().chain([&outcome.overall]) {
        let _ = writeln!(out, "{}", row(queue));
    }
    for filter in &outcome.filters {
        let mut filter = filter.clone();
        filter.friendly_name = format!("filter {}", filter.friendly_name);
        let _ = writeln!(out, "{}", row(&filter));
    }
    let occupancies: Vec<f64> = outcome
        .workers
        .iter()
        .filter_map(|worker| worker.occupancy)
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let mean = if occupancies.is_empty() {
        0.0
    } else {
        occupancies.iter().sum::<f64>() / occupancies.len() as f64
    };
    let _ = writeln!(
        out,
        "\n{} tasks, {} workers staffed, mean occupancy {:.1} %",
        outcome.tasks,
        occupancies.len(),
        mean * 100.0
    );
    #[allow(clippy::cast_precision_loss)]
    let speed = outcome.simulated_seconds / wall_seconds.max(1e-9);
    let _ = writeln!(
        out,
        "{:.0} s simulated in {wall_seconds:.2} s ({speed:.0}× real time)",
        outcome.simulated_seconds
    );
    out
}

fn row(queue: &QueueReport) -> String {
    let name: String = queue.friendly_name.chars().take(24).collect();
    format!(
        "{:<24} {:>8} {:>8} {:>9} {:>8} {:>6.1}% {:>7.1}s {:>7.1}s {:>7.1}s {:>7.1}s",
        name,
        queue.offered,
        queue.answered,
        queue.abandoned,
        queue.canceled,
        queue.service_level * 100.0,
        queue.wait_seconds.mean,
        queue.wait_seconds.p90,
        queue.wait_seconds.p99,
        queue.wait_seconds.max
    )
}
