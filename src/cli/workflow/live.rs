//! `workflow diff`, `workflow apply` and `workflow pull`: a Workflow configuration file compared
//! with the live Workflow over the REST API, applied to it, and the live one saved to a file.
//!
//! The live side is `FetchWorkflow`'s `configuration`, a string that TaskRouter normally holds as
//! JSON; both sides are parsed into the [`Workflow`] model and compared by
//! [`crate::workflow::diff`], so whitespace, key order, number formatting and the spelling of
//! expressions never count as a difference (the noise a Terraform plan shows,
//! docs/taskrouter.md §9). `apply` sends `UpdateWorkflow` with `Configuration` alone, exactly as
//! the file is written (so a Terraform `file()` of the same file then matches byte for byte); the
//! callback URLs are `connect`'s and are never sent. It then reads the Workflow back and compares
//! again.
//!
//! A live configuration that does not parse (such as the example Workflow of Twilio's OpenAPI
//! description, `task-routing:\n  - filter: …`, which is not JSON) cannot be compared filter by
//! filter: both commands say so, show the start of
//! what it holds, and `apply` may still replace it.
//!
//! `pull` writes the live configuration to a file (or stdout) written one way: the JSON with its
//! keys sorted, pretty-printed with two spaces, and a final newline. So `pull`, then `diff` of
//! the file, answers "no differences", and `apply` of the file sends nothing until it is edited;
//! committed to version control, a pulled file changes only where the routing does. A live
//! configuration that is JSON but fails `workflow check` is written all the same (it is what
//! TaskRouter routes with) and its errors listed, exit 1: `apply` would refuse the file until
//! they are fixed. One that is not JSON is not written (exit 1).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::Value;

use super::file::{Local, load};
use crate::cli::{CliError, FAILED, OK, Output, USAGE, rest_client};
use crate::document::Problems;
use crate::rest::resources::{Workflow as LiveWorkflow, WorkflowUpdate};
use crate::sid::{WorkflowSid, WorkspaceSid};
use crate::workflow::Workflow;
use crate::workflow::diff::diff as differences;

/// `diff`'s exit code when no comparison could be made (an invalid file, missing credentials, a
/// failed request): as diff(1), 1 means "different", so all trouble is [`crate::cli::Exit::Usage`].
const TROUBLE: u8 = USAGE;

/// The subcommands of `taskrouter workflow` that live here, beside `diff` and `apply`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum LiveCommand {
    /// Save the live Workflow's configuration to a file (or stdout), written one way (keys
    /// sorted, pretty-printed): `diff` of the file then finds no differences, and `apply` sends
    /// nothing until it is edited. Credentials: TWILIO_* variables.
    Pull {
        /// The workspace (WS…).
        #[arg(long, value_name = "WS…")]
        workspace: WorkspaceSid,
        /// The workflow (WW…).
        #[arg(long, value_name = "WW…")]
        workflow: WorkflowSid,
        /// Where to write it (replaced) [default: standard output].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Runs a subcommand; `env` reads the REST variables.
pub(crate) fn run(
    command: LiveCommand,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Output, CliError> {
    match command {
        LiveCommand::Pull {
            workspace,
            workflow,
            out,
        } => pull(&workspace, &workflow, out.as_deref(), env),
    }
}

/// How much of an unparsable live configuration is shown.
const SHOWN_CHARS: usize = 240;

/// The live configuration, as far as it could be read.
enum Live {
    /// It parses (boxed: the model is large).
    Parsed(Box<Workflow>),
    /// It does not.
    Unparsed(Problems),
    /// The Workflow holds none (null or empty).
    Missing,
}

impl Live {
    fn read(workflow: &LiveWorkflow) -> Live {
        match workflow.configuration.as_deref() {
            None => Live::Missing,
            Some(text) if text.trim().is_empty() => Live::Missing,
            Some(text) => match Workflow::read("the live configuration", text) {
                Ok(parsed) => Live::Parsed(Box::new(parsed)),
                Err(invalid) => Live::Unparsed(invalid),
            },
        }
    }
}

/// The comparison as printed, and whether the two are the same routing.
struct Report {
    text: String,
    equal: bool,
}

/// `--- WW… (name), live` and `+++ FILE`: the direction every `old → new` below reads in.
fn header(live: &LiveWorkflow, path: &Path) -> String {
    let name = live
        .friendly_name
        .as_deref()
        .map_or_else(String::new, |name| format!(" ({name})"));
    format!("--- {}{name}, live\n+++ {}\n", live.sid, path.display())
}

fn report(live: &LiveWorkflow, local: &Local) -> Report {
    let mut text = header(live, &local.path);
    let sid = &live.sid;
    match Live::read(live) {
        Live::Parsed(parsed) => {
            let found = differences(&parsed, &local.workflow);
            for difference in &found {
                let _ = writeln!(text, "{difference}");
            }
            let same_text = live.configuration.as_deref() == Some(local.text.as_str());
            let _ = if found.is_empty() && same_text {
                writeln!(text, "no differences: {sid} holds this file, byte for byte")
            } else if found.is_empty() {
                writeln!(
                    text,
                    "no differences: {sid} routes as this file says; the texts differ only in whitespace, key order, number formatting or the spelling of expressions"
                )
            } else {
                writeln!(
                    text,
                    "{} {}; whitespace, key order, number formatting and the spelling of expressions are not counted",
                    found.len(),
                    if found.len() == 1 {
                        "difference"
                    } else {
                        "differences"
                    }
                )
            };
            Report {
                text,
                equal: found.is_empty(),
            }
        }
        Live::Unparsed(invalid) => {
            let _ = writeln!(
                text,
                "the live configuration of {sid} does not parse, so it cannot be compared filter by filter:"
            );
            for error in invalid.all() {
                let _ = writeln!(text, "  {error}");
            }
            let held = live.configuration.as_deref().unwrap_or_default();
            let _ = writeln!(text, "it holds: {}", shown(held));
            let _ = writeln!(
                text,
                "every filter of this file is new to it; `taskrouter workflow apply` replaces it"
            );
            Report { text, equal: false }
        }
        Live::Missing => {
            let _ = writeln!(
                text,
                "{sid} holds no configuration; `taskrouter workflow apply` sets this file's"
            );
            Report { text, equal: false }
        }
    }
}

/// A live text as a JSON string (line breaks visible), cut after [`SHOWN_CHARS`] characters.
fn shown(text: &str) -> String {
    let total = text.chars().count();
    let cut: String = text.chars().take(SHOWN_CHARS).collect();
    let quoted = serde_json::to_string(&cut).unwrap_or_default();
    if total > SHOWN_CHARS {
        format!("{quoted}… ({total} characters)")
    } else {
        quoted
    }
}

/// `workflow diff`: 0 equal, 1 different, 2 when no comparison could be made.
pub(crate) fn diff(
    path: &Path,
    workspace: &WorkspaceSid,
    workflow: &WorkflowSid,
    env: &dyn Fn(&str) -> Option<String>,
) -> Output {
    let compared = || -> Result<Output, CliError> {
        let local = match load(path)? {
            Ok(local) => local,
            Err(mut errors) => {
                errors.code = TROUBLE;
                return Ok(errors);
            }
        };
        let (client, _) = rest_client(env)?;
        let live = client.fetch_workflow(workspace, workflow)?.resource;
        let report = report(&live, &local);
        Ok(Output {
            stdout: report.text,
            stderr: String::new(),
            code: if report.equal { OK } else { FAILED },
        })
    };
    compared().unwrap_or_else(|error| Output {
        stdout: String::new(),
        stderr: format!("error: {error}\n"),
        code: TROUBLE,
    })
}

/// The live configuration written one way: keys sorted (`serde_json`'s map keeps them so),
/// two-space indents, a final newline. `None` when it is not JSON.
pub(crate) fn canonical(configuration: &str) -> Option<String> {
    let value: Value = serde_json::from_str(configuration).ok()?;
    let mut text = serde_json::to_string_pretty(&value).ok()?;
    text.push('\n');
    Some(text)
}

/// `workflow pull`: the live configuration, written canonically to `out` or stdout.
///
/// # Errors
///
/// [`CliError`] for missing credentials, a failed request, or a file that cannot be written.
pub(crate) fn pull(
    workspace: &WorkspaceSid,
    workflow: &WorkflowSid,
    out: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Output, CliError> {
    let (client, _) = rest_client(env)?;
    let live = client.fetch_workflow(workspace, workflow)?.resource;
    let held = live.configuration.as_deref().unwrap_or_default();
    if held.trim().is_empty() {
        return Ok(Output {
            stdout: String::new(),
            stderr: format!(
                "error: {workflow} holds no configuration: nothing written; `taskrouter workflow apply` sets one\n"
            ),
            code: FAILED,
        });
    }
    let Some(text) = canonical(held) else {
        return Ok(Output {
            stdout: String::new(),
            stderr: format!(
                "error: the live configuration of {workflow} is not JSON, so it cannot be written as a configuration file: nothing written; it holds: {}\n",
                shown(held)
            ),
            code: FAILED,
        });
    };
    let mut output = match out {
        None => Output {
            stdout: text.clone(),
            ..Output::default()
        },
        Some(path) => {
            write_replacing(path, &text)?;
            Output {
                stderr: format!(
                    "pulled: {workflow}'s configuration written to {}\n",
                    path.display()
                ),
                ..Output::default()
            }
        }
    };
    let shown_as = out.map_or_else(
        || "the live configuration".to_owned(),
        |path| path.display().to_string(),
    );
    match Workflow::check(&shown_as, &text) {
        Ok((_, warnings)) => {
            for warning in warnings.all() {
                let _ = writeln!(output.stderr, "{warning}");
            }
        }
        Err(problems) => {
            for problem in problems.all() {
                let _ = writeln!(output.stderr, "{problem}");
            }
            let _ = writeln!(
                output.stderr,
                "error: {workflow} routes with a configuration `workflow check` refuses: `workflow apply` will refuse the file until the errors above are fixed"
            );
            output.code = FAILED;
        }
    }
    Ok(output)
}

/// Writes `text` to `path` through a file beside it, renamed over it once complete: an
/// interrupted write never leaves half a configuration where a whole one was.
fn write_replacing(path: &Path, text: &str) -> Result<(), CliError> {
    let error = |source| CliError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, text).map_err(error)?;
    std::fs::rename(&partial, path).map_err(|source| {
        let _ = std::fs::remove_file(&partial);
        error(source)
    })
}

/// `workflow apply`: checks the file, shows the differences, updates `Configuration` unless
/// there are none or `dry_run`, and reads the Workflow back.
///
/// # Errors
///
/// [`CliError`] for missing credentials and failed requests; an invalid file is an [`Output`]
/// with exit code 1 and nothing sent.
pub(crate) fn apply(
    path: &Path,
    workspace: &WorkspaceSid,
    workflow: &WorkflowSid,
    dry_run: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Output, CliError> {
    let local = match load(path)? {
        Ok(local) => local,
        Err(mut errors) => {
            let _ = writeln!(
                errors.stderr,
                "{}: error: nothing applied: fix the errors above (`taskrouter workflow check` lists them too)",
                path.display()
            );
            return Ok(errors);
        }
    };
    let mut stderr = String::new();
    for warning in local.warnings.all() {
        let _ = writeln!(stderr, "{warning}");
    }
    let (client, _) = rest_client(env)?;
    let live = client.fetch_workflow(workspace, workflow)?.resource;
    let report = report(&live, &local);
    let mut stdout = report.text;
    if report.equal {
        let _ = writeln!(stdout, "nothing to apply: nothing sent");
        return Ok(Output {
            stdout,
            stderr,
            code: OK,
        });
    }
    if dry_run {
        let _ = writeln!(
            stdout,
            "--dry-run: nothing sent; without it, apply sets {workflow}'s Configuration to this file (and nothing else)"
        );
        return Ok(Output {
            stdout,
            stderr,
            code: OK,
        });
    }
    let update = WorkflowUpdate {
        configuration: Some(local.text.clone()),
        ..WorkflowUpdate::default()
    };
    client.update_workflow(workspace, workflow, &update)?;
    // Read back rather than trust the update's answer: this is what TaskRouter routes with.
    let back = client.fetch_workflow(workspace, workflow)?.resource;
    let problem = match Live::read(&back) {
        Live::Parsed(parsed) => {
            let left = differences(&local.workflow, &parsed);
            if left.is_empty() {
                None
            } else {
                let lines: Vec<String> = left.iter().map(ToString::to_string).collect();
                Some(format!(
                    "read back, it differs from the file ({} → read back):\n  {}",
                    path.display(),
                    lines.join("\n  ")
                ))
            }
        }
        Live::Unparsed(invalid) => Some(format!(
            "the configuration read back does not parse ({}): {}",
            invalid
                .all()
                .first()
                .map(ToString::to_string)
                .unwrap_or_default(),
            shown(back.configuration.as_deref().unwrap_or_default())
        )),
        Live::Missing => Some("it reads back with no configuration".to_owned()),
    };
    match problem {
        None => {
            let _ = writeln!(
                stdout,
                "applied: {workflow} now routes as {} (read back)",
                path.display()
            );
            Ok(Output {
                stdout,
                stderr,
                code: OK,
            })
        }
        Some(problem) => {
            let _ = writeln!(
                stderr,
                "error: {workflow} does not hold what was applied: {problem}"
            );
            Ok(Output {
                stdout,
                stderr,
                code: FAILED,
            })
        }
    }
}
