//! The `taskrouter` command line, as functions that return their output and exit code.
//!
//! `src/bin/taskrouter.rs` only parses the arguments with [`Cli`], calls [`run_with`] and writes
//! the [`Output`] ([`write_output`]); everything here is testable without a process.
//!
//! | command | does |
//! |---|---|
//! | `check --rules RULES.json` | compiles a rules document |
//! | `decide [--rules RULES.json] [--task JSON] [--worker JSON] [--param Name=Value …] [--now RFC3339]` | the body the function would answer |
//! | `eval EXPRESSION [--rules RULES.json] [--task JSON] [--worker JSON] [--param Name=Value …] [--now RFC3339]` | evaluates a TaskRouter expression as a rule's `when` |
//! | `test FILE.test.json …` | runs the cases of test documents against their rules |
//! | `sign --url URL [--param Name=Value …] [--body FORM]` | computes `X-Twilio-Signature` with `TWILIO_AUTH_TOKEN` |
//! | `send [--url URL] [--task JSON] [--worker JSON] [--param Name=Value …]` | POSTs a signed sample callback (http or https) |
//! | `workflow check\|route FILE …` | checks a Workflow configuration, routes a task through it |
//! | `workflow diff\|apply FILE --workspace WS… --workflow WW…`, `workflow pull --workspace WS… --workflow WW… [--out FILE]` | compares the file with the live Workflow, applies it, saves the live one |
//! | `task create\|show\|list\|complete\|cancel …` | tasks over the REST API |
//! | `worker list\|show\|activity …` | workers over the REST API |
//! | `reservation accept\|reject\|dequeue\|call\|redirect\|conference\|show …` | decides or shows a reservation over the REST API |
//! | `connect --workspace WS… --workflow WW… --assignment-url URL …` | sets the callback URLs, reads them back, optionally proves a signed callback verifies |
//! | `sim serve [--port 4010] [--clock real\|manual] [--workspace FILE …] [--listen ADDR] [--start RFC3339] [--seed N]` | runs a local TaskRouter: REST API, signed callbacks, a clock (`sim.rs`) |
//! | `sim export [--url URL] [--workspace WS…] [--output FILE]` | prints the running simulator's workspace document |
//!
//! Every command ends with one of the codes of [`Exit`], defined once here and printed by
//! `--help` ([`EXIT_CODES`]). The REST commands read their credentials from the environment
//! ([`crate::rest::config`]); `sign` and `send` read `TWILIO_AUTH_TOKEN`.
//!
//! Flags mean one thing everywhere: a flag named after a resource takes its SID (`--workspace
//! WS…`, `--task WT…` in the REST commands, `--activity WA…` for the activity a worker moves to),
//! `--rules FILE` is a rules document, `--record` is a switch, `--json` prints Twilio's answer
//! (the findings of `check`, `test` and `workflow check`, in one shape: `cli/report.rs`). In
//! the offline commands (`decide`, `eval`, `send`, `workflow route`), which have no SIDs to name,
//! `--task` and `--worker` are the attributes (JSON objects).
//!
//! The clock is read at most once per command: by `decide`, `eval` and `workflow route` without
//! `--now`, and by `test` for the cases of rules that do not read the time.
//!
//! Each command group lives in its own file: [`rules`] (`check`, `decide`, `eval`),
//! [`callback`] (`sign`, `send`), [`test`](mod@test) (`test`), [`workflow`] (`workflow check`,
//! `workflow route`), [`workflow::live`] (`workflow diff`, `apply`, `pull`), [`task`],
//! [`worker`], [`reservation`] and [`connect`].

pub mod callback;
pub mod connect;
pub mod replay;
pub(crate) mod report;
pub mod reservation;
pub mod rules;
pub mod sim;
pub mod task;
pub mod test;
pub mod token;
pub mod worker;
pub mod workflow;

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::Value;

use crate::callback::CallbackError;
use crate::expression::SyntaxError;
use crate::form::FormError;
use crate::instruction::InstructionError;
use crate::rest::{Client, ConfigError, RestConfig, RestError};
use crate::rules::RulesError;

pub use callback::{DEFAULT_URL, LOCAL_DEV_TOKEN, resolve_token, sample_callback};

/// How a command ends: the one table of exit codes, printed by `--help` ([`EXIT_CODES`]) and in
/// the README.
///
/// The line between 1 and 2 is where the fault lies. A command that ran and found something
/// wrong in what it was pointed at (a document's content, a test's answer, the live Workflow,
/// Twilio's answer) exits 1. A command that could not run as it was given (a bad flag or
/// argument, a file that cannot be read, missing credentials) exits 2, as clap's own usage
/// errors do. `workflow diff` is the one exception, as diff(1): 1 means "different", so
/// everything that prevents the comparison is 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: done, and nothing wrong found.
    Success,
    /// 1: findings or failure: a document with errors (including one that is not JSON; with
    /// `--strict`, one with warnings), a failed test case, differences (`workflow diff`), a
    /// non-2xx answer (`send`), a request Twilio refused or that got no answer.
    Findings,
    /// 2: usage: a bad flag or argument, a file that cannot be read, missing credentials, an
    /// expression that cannot be evaluated as given; `workflow diff`: no comparison made.
    Usage,
    /// 3: too late: the reservation is no longer pending, or the task has moved past the state
    /// the command needs (already completed or canceled, or assigned for a cancel).
    TooLate,
}

impl Exit {
    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Findings => 1,
            Self::Usage => 2,
            Self::TooLate => 3,
        }
    }
}

/// The exit code table as `--help` prints it.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done: the document is valid, every case passed, the request was applied (or already was)
  1  findings: a document with errors (or not JSON; with --strict, warnings too), a failed
     test case, differences (workflow diff), an answer that is not 2xx (send), a request
     Twilio refused or that failed
  2  usage: a bad flag or argument, a file that cannot be read, missing credentials, an
     expression that cannot be evaluated as given; workflow diff: no comparison was made
  3  too late: the reservation is no longer pending, or the task has already moved on";

/// [`Exit::Success`] as the byte an [`Output`] carries.
pub(crate) const OK: u8 = Exit::Success.code();
/// [`Exit::Findings`] as the byte an [`Output`] carries.
pub(crate) const FAILED: u8 = Exit::Findings.code();
/// [`Exit::Usage`] as the byte an [`Output`] carries.
pub(crate) const USAGE: u8 = Exit::Usage.code();
/// [`Exit::TooLate`] as the byte an [`Output`] carries.
pub(crate) const TOO_LATE: u8 = Exit::TooLate.code();

/// Tools for TaskRouter: assignment rules, signed callbacks, Workflow configurations, and the
/// REST API (tasks, workers, reservations, connecting a Workflow to the function).
#[derive(Debug, Parser)]
#[command(name = "taskrouter", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The sample callback of `decide`, `eval` and `send`: attributes and parameters.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct CallbackArgs {
    /// The task's attributes (a JSON object).
    #[arg(long, value_name = "JSON", default_value = "{}")]
    pub task: String,
    /// The worker's attributes (a JSON object).
    #[arg(long, value_name = "JSON", default_value = "{}")]
    pub worker: String,
    /// A documented callback parameter (TaskAge, TaskQueueSid, …), overriding the sample's;
    /// repeatable. An unknown name is an error with a suggestion.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = callback::parse_callback_param)]
    pub params: Vec<(String, String)>,
    /// A parameter the assignment callback does not document (one Twilio added since), sent
    /// as given; repeatable.
    #[arg(long = "extra-param", value_name = "NAME=VALUE", value_parser = callback::parse_extra_param)]
    pub extra_params: Vec<(String, String)>,
}

impl Default for CallbackArgs {
    fn default() -> Self {
        Self {
            task: "{}".to_owned(),
            worker: "{}".to_owned(),
            params: Vec::new(),
            extra_params: Vec::new(),
        }
    }
}

/// A `taskrouter` subcommand.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Check rules documents: every error (exit 1) and every warning, each as
    /// `file:line:column`; prints `ok: N rules` for a document without errors. Warnings (a rule
    /// never reached, a `when` that never holds, a time-of-day test no minute satisfies, a
    /// `{{raw …}}` template, a key given twice) leave the exit code 0 unless `--strict`.
    Check {
        /// A rules document (JSON); repeatable.
        #[arg(long, value_name = "FILE", required_unless_present = "files")]
        rules: Vec<PathBuf>,
        /// Rules documents as positional arguments, after any `--rules`.
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Warnings fail the check (exit 1).
        #[arg(long)]
        strict: bool,
        /// Print one JSON document: `{"files": [{"file", "errors": [{"line", "column",
        /// "pointer", "message"}], "warnings": […]}], "ok": bool}`.
        #[arg(long)]
        json: bool,
    },
    /// Print the exact JSON body the function would answer for a callback.
    Decide {
        /// The rules document; the built-in rules (defer with `{}`) when absent.
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// The callback.
        #[command(flatten)]
        callback: CallbackArgs,
        /// The instant to decide at, e.g. 2026-12-01T14:30:00Z [default: the current time].
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<Timestamp>,
    },
    /// Evaluate a TaskRouter expression as a rule's `when` would be; prints `true` or `false`.
    Eval {
        /// The expression; bare references read the task, `task.` and `worker.` either side,
        /// `callback.` a callback parameter, `taskrouter.` the time of day in UTC,
        /// `schedules.` a schedule of the --rules document.
        expression: String,
        /// The rules document whose `schedules` the expression reads.
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// The callback.
        #[command(flatten)]
        callback: CallbackArgs,
        /// The instant `taskrouter.` and `schedules.` references are read at, e.g.
        /// 2026-12-01T14:30:00Z [default: the current time].
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<Timestamp>,
    },
    /// Run test documents: each case's callback against the rules, compared with its expected
    /// rule and answer.
    Test {
        /// Test documents (JSON), e.g. rules/examples/*.test.json.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Print one JSON document, in `check --json`'s shape: each document's errors and failed
        /// cases as `errors`, the rules no case reaches as `warnings`.
        #[arg(long)]
        json: bool,
    },
    /// Print the X-Twilio-Signature of form parameters posted to a URL, signed with
    /// TWILIO_AUTH_TOKEN.
    Sign {
        /// The full URL Twilio calls, exactly as configured.
        #[arg(long)]
        url: String,
        /// The auth token instead of TWILIO_AUTH_TOKEN. Visible to other users in `ps` and kept
        /// in shell history: use it only for test values such as Twilio's published vector.
        #[arg(long, value_name = "TOKEN", value_parser = parse_token)]
        token: Option<SecretString>,
        /// A form parameter (any name: every parameter of any webhook is signed); repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// A form-encoded body whose parameters are signed too (`A=1&B=2`).
        #[arg(long)]
        body: Option<String>,
    },
    /// POST a signed sample assignment callback and print the answer; signed with
    /// TWILIO_AUTH_TOKEN, else the local development token.
    Send {
        /// Where to post (http or https).
        #[arg(long, default_value = DEFAULT_URL)]
        url: String,
        /// The auth token instead of TWILIO_AUTH_TOKEN. Visible to other users in `ps` and kept
        /// in shell history: use it only for test values.
        #[arg(long, value_name = "TOKEN", value_parser = parse_token)]
        token: Option<SecretString>,
        /// The callback.
        #[command(flatten)]
        callback: CallbackArgs,
    },
    /// Check Workflow configurations and route tasks through them, offline; compare them with
    /// the live Workflow, apply them and save the live one (REST API, TWILIO_* variables).
    Workflow {
        /// What to do with the configuration.
        #[command(subcommand)]
        command: workflow::WorkflowCommand,
    },
    /// Create, show, list, complete or cancel tasks over the REST API (TWILIO_* variables).
    Task {
        /// What to do.
        #[command(subcommand)]
        action: task::Action,
    },
    /// List and show workers, and change a worker's activity, over the REST API.
    Worker {
        /// What to do.
        #[command(subcommand)]
        action: worker::Action,
    },
    /// Accept, reject or instruct a reservation over the REST API, or show it.
    Reservation {
        /// What to do.
        #[command(subcommand)]
        action: reservation::Action,
    },
    /// Point a Workflow (and its Workspace's events) at the function, then read back.
    Connect(connect::Connect),
    /// Run TaskRouter on this machine (REST API, signed callbacks, a clock you control), or
    /// export its workspace.
    Sim {
        /// What to do.
        #[command(subcommand)]
        command: sim::SimCommand,
    },
    /// Rotate the account's auth token kept in Parameter Store (Twilio's secondary token,
    /// promoted in the order that keeps every callback verified).
    Token {
        /// What to do.
        #[command(subcommand)]
        command: token::TokenCommand,
    },
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    /// Text for standard output.
    pub stdout: String,
    /// Text for standard error.
    pub stderr: String,
    /// The process exit code: one of [`Exit`]'s.
    pub code: u8,
}

/// A command that could not do its work. [`CliError::exit`] says which [`Exit`] each ends with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file named on the command line cannot be read (exit 2).
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file cannot be written (exit 2).
    #[error("cannot write `{path}`: {source}")]
    Write {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A rules document is invalid, or not JSON (exit 1).
    #[error("{source}")]
    Rules {
        /// The path given.
        path: String,
        /// Every problem, each naming the path, line and column (boxed: it is large).
        source: Box<RulesError>,
    },
    /// A flag's value is not JSON (exit 2).
    #[error(
        "{flag} is not valid JSON: {reason}; pass a JSON object such as '{{\"call_sid\": \"CA…\"}}'"
    )]
    Json {
        /// The flag, e.g. `--task`.
        flag: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A flag's JSON is not an object (exit 2).
    #[error("{flag} must be a JSON object, found {found}")]
    NotObject {
        /// The flag.
        flag: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// The sample callback is invalid once the `--param` values are applied (exit 2).
    #[error("the callback is invalid: {0}; check the --param values")]
    Callback(#[from] CallbackError),
    /// An expression does not parse (exit 2).
    #[error("{0}")]
    Syntax(#[from] SyntaxError),
    /// An expression's reference cannot be answered as given (exit 2).
    #[error("{0}")]
    Reference(String),
    /// `eval` reads a schedule and no rules document defines it (exit 2).
    #[error(
        "`{reference}` reads the schedule `{schedule}`, which only a rules document defines: pass the document that defines it with --rules FILE (without one the answer would be a guess)"
    )]
    ScheduleWithoutRules {
        /// The reference as written.
        reference: String,
        /// The schedule's name.
        schedule: String,
    },
    /// `--body` is not a form body (exit 2).
    #[error("--body is not a form body: {0}")]
    Form(#[from] FormError),
    /// The request could not be made or its answer not read (exit 1).
    #[error("cannot POST to {url}: {reason}; is the function running and reachable at this URL?")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// `check` without a rules document (exit 2).
    #[error("name the rules document: check --rules FILE")]
    NoRules,
    /// `sign` without a token (exit 2).
    #[error(
        "sign needs the auth token: set TWILIO_AUTH_TOKEN (or pass --token, which other users can see in `ps`)"
    )]
    NoToken,
    /// The REST commands' credentials or base URL (exit 2).
    #[error("{0}")]
    RestConfig(#[from] ConfigError),
    /// A REST request failed (exit 1).
    #[error("{0}")]
    Rest(#[from] RestError),
    /// The flags do not make a valid instruction (exit 2).
    #[error("{0}")]
    Instruction(InstructionError),
    /// A reservation given neither through its task nor its worker (exit 2).
    #[error("name the reservation's task (--task WT…) or worker (--worker WK…)")]
    NoReservationPath,
    /// `connect --check` without the auth token (exit 2).
    #[error(
        "connect --check needs the auth token: Twilio signs callbacks with the account's auth token, and an API key cannot stand in for it; set TWILIO_AUTH_TOKEN as well (API keys still log in)"
    )]
    CheckNeedsAuthToken,
    /// `connect --check` and the Workflow has no URL (exit 1).
    #[error(
        "the workflow has no AssignmentCallbackUrl to check: run connect without --dry-run first"
    )]
    NothingToCheck,
}

impl CliError {
    /// How this error ends the command ([`Exit`]'s table).
    pub fn exit(&self) -> Exit {
        match self {
            Self::Read { .. }
            | Self::Write { .. }
            | Self::Json { .. }
            | Self::NotObject { .. }
            | Self::Callback(_)
            | Self::Syntax(_)
            | Self::Reference(_)
            | Self::ScheduleWithoutRules { .. }
            | Self::Form(_)
            | Self::NoRules
            | Self::NoToken
            | Self::RestConfig(_)
            | Self::Instruction(_)
            | Self::NoReservationPath
            | Self::CheckNeedsAuthToken => Exit::Usage,
            Self::Rules { .. } | Self::Http { .. } | Self::Rest(_) | Self::NothingToCheck => {
                Exit::Findings
            }
        }
    }

    /// The exit code this error ends the process with.
    pub fn code(&self) -> u8 {
        self.exit().code()
    }
}

/// Parses `Name=Value` (split at the first `=`, so values may contain `=`).
///
/// # Errors
///
/// A message when there is no `=` or the name is empty.
pub fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got `{text}`")),
    }
}

/// Parses `--now`: an RFC 3339 timestamp with an offset (`Z` for UTC).
///
/// # Errors
///
/// A message quoting the text and showing the format.
pub fn parse_now(text: &str) -> Result<Timestamp, String> {
    text.parse::<Timestamp>().map_err(|_| {
        format!(
            "`{text}` is not an RFC 3339 timestamp with an offset: write e.g. 2026-12-01T14:30:00Z (UTC) or 2026-12-01T09:30:00-05:00"
        )
    })
}

/// Parses `--token`: any non-empty text, held as a secret from here on.
///
/// # Errors
///
/// A message (without the value) when it is empty.
pub fn parse_token(text: &str) -> Result<SecretString, String> {
    if text.trim().is_empty() {
        Err("the token is empty".to_owned())
    } else {
        Ok(SecretString::from(text))
    }
}

/// Runs a command with only `TWILIO_AUTH_TOKEN` from the environment (`environment_token`); the
/// REST commands then find no credentials. See [`run_with`].
pub fn run(command: Command, environment_token: Option<String>) -> Output {
    run_with(command, &|name| {
        if name == crate::rest::config::AUTH_TOKEN {
            environment_token.clone()
        } else {
            None
        }
    })
}

/// Runs a command, reading the environment through `env` (e.g. `|name| std::env::var(name).ok()`):
/// `TWILIO_AUTH_TOKEN` for `sign` and `send`, the variables of [`crate::rest::config`] for the
/// REST commands.
pub fn run_with(command: Command, env: &dyn Fn(&str) -> Option<String>) -> Output {
    let environment_token = || {
        env(crate::rest::config::AUTH_TOKEN)
            .filter(|token| !token.trim().is_empty())
            .map(crate::rest::config::secret)
    };
    let result = match command {
        Command::Check {
            mut rules,
            files,
            strict,
            json,
        } => {
            rules.extend(files);
            if rules.is_empty() {
                // clap requires one; a value built by hand may have none.
                Err(CliError::NoRules)
            } else {
                Ok(rules::check(&rules, report::Style { strict, json }))
            }
        }
        Command::Decide {
            rules,
            callback,
            now,
        } => rules::decide(
            rules.as_deref(),
            &callback,
            now.unwrap_or_else(Timestamp::now),
        ),
        Command::Eval {
            expression,
            rules,
            callback,
            now,
        } => rules::eval(
            &expression,
            rules.as_deref(),
            &callback,
            now.unwrap_or_else(Timestamp::now),
        ),
        Command::Test { files, json } => Ok(test::run(&files, json)),
        Command::Sign {
            url,
            token,
            params,
            body,
        } => token
            .or_else(environment_token)
            .ok_or(CliError::NoToken)
            .and_then(|token| callback::sign(&url, &token, &params, body.as_deref())),
        Command::Send {
            url,
            token,
            callback,
        } => {
            let token = resolve_token(token, environment_token());
            callback::send(&url, &token, &callback)
        }
        Command::Workflow { command } => workflow::run(command, env),
        Command::Task { action } => {
            rest_client(env).and_then(|(client, _)| task::run(&action, &client))
        }
        Command::Worker { action } => {
            rest_client(env).and_then(|(client, _)| worker::run(&action, &client))
        }
        Command::Reservation { action } => {
            rest_client(env).and_then(|(client, _)| reservation::run(&action, &client))
        }
        Command::Connect(args) => {
            rest_client(env).and_then(|(client, config)| connect::run(&args, &client, &config))
        }
        Command::Sim { command } => sim::run(command, env),
        Command::Token { command } => return token::run(command, env),
    };
    result.unwrap_or_else(|error| Output {
        stdout: String::new(),
        stderr: match &error {
            // Each problem of a document already says `path:line:column: error:`.
            CliError::Rules { .. } => format!("{error}\n"),
            _ => format!("error: {error}\n"),
        },
        code: error.code(),
    })
}

/// Writes an [`Output`] to `stdout` and `stderr` and returns the exit code to end with.
///
/// A reader that stops early (`taskrouter test … | head -1`, `| grep -q ok`) closes its end of
/// the pipe; the Rust runtime ignores SIGPIPE, so the next write fails with
/// [`std::io::ErrorKind::BrokenPipe`] (and `print!` would panic, exit 101). The reader has what
/// it wanted, so writing to that stream stops there and the command's own exit code stands
/// (with `set -o pipefail`, a failed test still fails the pipeline). Any other write error (a
/// full disk) is reported on `stderr` and ends the command with 1 if it would have succeeded:
/// the output is incomplete.
pub fn write_output(output: &Output, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let mut code = output.code;
    let mut problems = Vec::new();
    if let Err(error) = write_all(stdout, &output.stdout) {
        problems.push(format!("error: cannot write to standard output: {error}\n"));
    }
    if let Err(error) = write_all(stderr, &output.stderr) {
        problems.push(format!("error: cannot write to standard error: {error}\n"));
    }
    for problem in problems {
        let _ = write_all(stderr, &problem);
        code = code.max(FAILED);
    }
    code
}

/// Writes and flushes `text`; a closed pipe is not an error ([`write_output`]).
fn write_all(stream: &mut dyn Write, text: &str) -> std::io::Result<()> {
    match stream
        .write_all(text.as_bytes())
        .and_then(|()| stream.flush())
    {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The REST client configured from the environment.
pub(crate) fn rest_client(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Client, RestConfig), CliError> {
    let config = RestConfig::from_lookup(env)?;
    Ok((Client::new(&config)?, config))
}

/// Twilio's answer for `--json`: pretty, one trailing newline.
pub(crate) fn json_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

/// A flag's JSON object as a map.
pub(crate) fn json_map(
    flag: &'static str,
    text: &str,
) -> Result<serde_json::Map<String, Value>, CliError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(CliError::NotObject {
            flag,
            found: crate::document::json_kind(&other),
        }),
        Err(error) => Err(CliError::Json {
            flag,
            reason: error.to_string(),
        }),
    }
}

/// A flag's JSON object as a value.
pub(crate) fn json_object(flag: &'static str, text: &str) -> Result<Value, CliError> {
    json_map(flag, text).map(Value::Object)
}

/// Test helpers shared by the command groups' tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A file in the temp directory, unique to this process and this call, removed on drop.
    pub(crate) struct TempFile(pub(crate) PathBuf);

    impl TempFile {
        /// Writes `contents` to a new file whose name ends with `name`.
        pub(crate) fn new(name: &str, contents: &str) -> Self {
            static CREATED: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "taskrouter-cli-{}-{}-{name}",
                std::process::id(),
                CREATED.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::write(&path, contents).expect("the temp directory is writable");
            Self(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// `(name, value)` pairs as the owned pairs `--param` produces.
    pub(crate) fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::params;
    use super::*;

    #[test]
    fn params_split_at_the_first_equals_sign() {
        assert_eq!(parse_param("A=b=c"), Ok(("A".to_owned(), "b=c".to_owned())));
        assert_eq!(
            parse_param("Empty="),
            Ok(("Empty".to_owned(), String::new()))
        );
        assert_eq!(
            parse_param("NoValue"),
            Err("expected NAME=VALUE, got `NoValue`".to_owned())
        );
        assert_eq!(
            parse_param("=x"),
            Err("expected NAME=VALUE, got `=x`".to_owned())
        );
    }

    #[test]
    fn the_command_line_parses_repeated_params_and_defaults() {
        let cli = Cli::try_parse_from([
            "taskrouter",
            "send",
            "--param",
            "TaskAge=1",
            "--param",
            "Timestamp=2=3",
            "--extra-param",
            "BrandNew=x",
        ])
        .expect("valid");
        let Command::Send {
            url,
            token,
            callback,
        } = cli.command
        else {
            panic!("not send: {:?}", cli.command);
        };
        assert_eq!(url, DEFAULT_URL);
        assert!(token.is_none());
        assert_eq!(
            callback,
            CallbackArgs {
                params: params(&[("TaskAge", "1"), ("Timestamp", "2=3")]),
                extra_params: params(&[("BrandNew", "x")]),
                ..CallbackArgs::default()
            }
        );
        let error = Cli::try_parse_from([
            "taskrouter",
            "sign",
            "--url",
            "u",
            "--token",
            "t",
            "--param",
            "oops",
        ])
        .expect_err("a param without =");
        assert!(
            error
                .to_string()
                .contains("expected NAME=VALUE, got `oops`"),
            "{error}"
        );
    }

    #[test]
    fn every_error_has_its_exit_code_from_the_one_table() {
        use std::io::{Error, ErrorKind};
        let read = || Error::new(ErrorKind::NotFound, "gone");
        #[rustfmt::skip]
        let cases = [
            (CliError::Read { path: "f".to_owned(), source: read() }, Exit::Usage, "a file that cannot be read"),
            (CliError::Write { path: "f".to_owned(), source: read() }, Exit::Usage, "a file that cannot be written"),
            (CliError::Json { flag: "--task", reason: "eof".to_owned() }, Exit::Usage, "bad JSON in a flag"),
            (CliError::NotObject { flag: "--task", found: "an array" }, Exit::Usage, "a flag's JSON of the wrong type"),
            (CliError::NoToken, Exit::Usage, "no token"),
            (CliError::NoRules, Exit::Usage, "check without a document"),
            (CliError::RestConfig(ConfigError::MissingAccount), Exit::Usage, "no credentials"),
            (CliError::NoReservationPath, Exit::Usage, "a reservation without its path"),
            (CliError::CheckNeedsAuthToken, Exit::Usage, "connect --check without the token"),
            (CliError::Rules { path: "f".to_owned(), source: Box::new(crate::rules::Rules::compile("{").expect_err("not JSON")) }, Exit::Findings, "a document that is not JSON"),
            (CliError::Http { url: "u".to_owned(), reason: "refused".to_owned() }, Exit::Findings, "no answer"),
            (CliError::NothingToCheck, Exit::Findings, "the live Workflow has no URL"),
        ];
        for (error, exit, why) in cases {
            assert_eq!(error.exit(), exit, "{why}");
            assert_eq!(error.code(), exit.code(), "{why}");
        }
        assert_eq!(
            [Exit::Success, Exit::Findings, Exit::Usage, Exit::TooLate].map(Exit::code),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn the_exit_code_table_is_in_the_top_level_help() {
        use clap::CommandFactory as _;
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains(EXIT_CODES), "{help}");
        for code in ["  0  done", "  1  findings", "  2  usage", "  3  too late"] {
            assert!(help.contains(code), "{code}: {help}");
        }
    }

    /// A stream that fails every write with `kind`.
    struct Failing(std::io::ErrorKind);

    impl std::io::Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_writing_quietly_and_keeps_the_exit_code() {
        let output = Output {
            stdout: "ok\n".to_owned(),
            stderr: "note\n".to_owned(),
            code: FAILED,
        };
        let mut stderr = Vec::new();
        let code = write_output(
            &output,
            &mut Failing(std::io::ErrorKind::BrokenPipe),
            &mut stderr,
        );
        assert_eq!((code, stderr.as_slice()), (FAILED, b"note\n".as_slice()));
        let mut stderr = Vec::new();
        let code = write_output(
            &Output {
                code: OK,
                ..output.clone()
            },
            &mut Failing(std::io::ErrorKind::StorageFull),
            &mut stderr,
        );
        assert_eq!(code, FAILED, "an incomplete output is not a success");
        let stderr = String::from_utf8(stderr).expect("text");
        assert!(
            stderr.starts_with("note\nerror: cannot write to standard output: "),
            "{stderr}"
        );
    }
}
