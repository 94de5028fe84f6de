//! The `taskrouter` command line, as functions that return their output and exit code.
//!
//! `src/bin/taskrouter.rs` only parses the arguments with [`Cli`], calls [`run`] and prints the
//! [`Output`]; everything here is testable without a process.
//!
//! | command | does | exit code |
//! |---|---|---|
//! | `check RULES.json` | compiles a rules document | 0 valid, 1 invalid |
//! | `decide [--rules RULES.json] --task JSON --worker JSON [--param Name=Value …] [--now RFC3339]` | the body the function would answer | 0, 1 on bad input |
//! | `eval EXPRESSION --task JSON --worker JSON [--now RFC3339]` | evaluates a TaskRouter expression | 0 (`true` or `false`), 2 on a syntax error |
//! | `test FILE.test.json …` | runs the cases of test documents against their rules | 0 all pass, 1 a case failed, 2 a document is invalid |
//! | `sign --url URL --token TOKEN [--param Name=Value …] [--body FORM]` | computes `X-Twilio-Signature` | 0 |
//! | `send [--url URL] [--token TOKEN] [--task JSON] [--worker JSON] [--param Name=Value …]` | POSTs a signed sample callback (http or https) | 0 on a 2xx answer, else 1 |
//! | `workflow check FILE` | checks a Workflow configuration: every error, and warnings | 0 valid (warnings on stderr), 1 invalid |
//! | `workflow route FILE --task JSON [--workers FILE] [--queues FILE] [--now RFC3339] [--json]` | where a task goes and why | 0, 1 on an invalid configuration or bad input |
//! | `workflow diff FILE --workspace WS… --workflow WW…` | compares the file with the live Workflow's configuration, semantically | 0 equal, 1 different, 2 no comparison (invalid file, credentials, request) |
//! | `workflow apply FILE --workspace WS… --workflow WW… [--dry-run]` | checks the file, shows the differences, sets the Workflow's `Configuration` (nothing else), reads it back | 0 applied or nothing to apply, 1 invalid file (nothing sent) or failure |
//! | `task create --workspace WS… --workflow WW… [--attributes JSON] …` | creates a task over the REST API | 0, 1 on failure |
//! | `reservation accept\|reject\|dequeue\|call\|redirect\|conference\|show …` | decides or shows a reservation over the REST API | 0 done (or already in the requested state), 3 no longer pending, 1 otherwise |
//! | `connect --workspace WS… --workflow WW… --assignment-url URL [--events-url URL] [--events-filter a,b] [--dry-run] [--check]` | sets the callback URLs, reads them back, optionally proves a signed callback verifies | 0, 1 on failure |
//! | `sim serve [--port 4010] [--clock real\|manual] [--workspace FILE …] [--listen ADDR] [--start RFC3339] [--seed N]` | runs a local TaskRouter: REST API, signed callbacks, a clock (`sim.rs`) | runs until stopped; 1 when it cannot start |
//! | `sim export [--url URL] [--workspace WS…] [--output FILE]` | prints the running simulator's workspace document | 0, 1 on failure |
//!
//! Usage errors (clap's) exit with 2 as well. The REST commands read their credentials from the
//! environment ([`crate::rest::config`]).
//!
//! The clock is read at most once per command: by `decide`, `eval` and `workflow route` without
//! `--now`, and by `test` for the cases of rules that do not read the time.
//!
//! Each command group lives in its own file: [`rules`] (`check`, `decide`, `eval`),
//! [`callback`] (`sign`, `send`), [`test`](mod@test) (`test`), [`workflow`] (`workflow check`,
//! `workflow route`), [`workflow_live`] (`workflow diff`, `workflow apply`), [`task`],
//! [`reservation`] and [`connect`].

pub mod callback;
pub mod connect;
pub mod reservation;
pub mod rules;
pub mod sim;
pub mod task;
pub mod test;
pub mod workflow;
pub mod workflow_live;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use jiff::Timestamp;
use serde_json::Value;

use crate::callback::CallbackError;
use crate::expression::SyntaxError;
use crate::form::FormError;
use crate::instruction::InstructionError;
use crate::rest::{Client, ConfigError, RestConfig, RestError};
use crate::rules::RulesError;
use crate::workflow::WorkspaceError;

pub use callback::{DEFAULT_URL, LOCAL_DEV_TOKEN, resolve_token, sample_callback};

/// The exit code for success.
pub(crate) const OK: u8 = 0;
/// The exit code for a failure (invalid rules, bad input, a non-2xx answer).
pub(crate) const FAILED: u8 = 1;
/// The exit code for an expression syntax error (and clap's usage errors).
pub(crate) const SYNTAX: u8 = 2;
/// The exit code of `reservation …` when the reservation is no longer pending.
pub(crate) const NOT_PENDING: u8 = 3;

/// Tools for TaskRouter: assignment rules, signed callbacks, Workflow configurations, and the
/// REST API (tasks, reservations, connecting a Workflow to the function).
#[derive(Debug, Parser)]
#[command(name = "taskrouter", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A `taskrouter` subcommand.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Compile a rules document; prints `ok: N rules` or the first problem.
    Check {
        /// The rules document (JSON).
        rules: PathBuf,
    },
    /// Print the exact JSON body the function would answer for a callback.
    Decide {
        /// The rules document; the built-in rules (defer with `{}`) when absent.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The task's attributes (a JSON object).
        #[arg(long, default_value = "{}")]
        task: String,
        /// The worker's attributes (a JSON object).
        #[arg(long, default_value = "{}")]
        worker: String,
        /// A callback parameter, overriding the sample's or added to it; repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// The instant to decide at, e.g. 2026-12-01T14:30:00Z [default: the current time].
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<Timestamp>,
    },
    /// Evaluate a TaskRouter expression; prints `true` or `false`.
    Eval {
        /// The expression; bare references read the task, `task.` and `worker.` either side,
        /// `taskrouter.` the time of day in UTC.
        expression: String,
        /// The task's attributes (a JSON object).
        #[arg(long, default_value = "{}")]
        task: String,
        /// The worker's attributes (a JSON object).
        #[arg(long, default_value = "{}")]
        worker: String,
        /// The instant `taskrouter.` attributes are read at, e.g. 2026-12-01T14:30:00Z
        /// [default: the current time].
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<Timestamp>,
    },
    /// Run test documents: each case's callback against the rules, compared with its expected
    /// rule and answer.
    Test {
        /// Test documents (JSON), e.g. rules/examples/*.test.json.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the X-Twilio-Signature of form parameters posted to a URL.
    Sign {
        /// The full URL Twilio calls, exactly as configured.
        #[arg(long)]
        url: String,
        /// The auth token.
        #[arg(long)]
        token: String,
        /// A form parameter; repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// A form-encoded body whose parameters are signed too (`A=1&B=2`).
        #[arg(long)]
        body: Option<String>,
    },
    /// POST a signed sample assignment callback and print the answer.
    Send {
        /// Where to post (http or https).
        #[arg(long, default_value = DEFAULT_URL)]
        url: String,
        /// The auth token to sign with [default: $TWILIO_AUTH_TOKEN, else local-dev-token].
        #[arg(long)]
        token: Option<String>,
        /// The task's attributes (a JSON object).
        #[arg(long, default_value = "{}")]
        task: String,
        /// The worker's attributes (a JSON object).
        #[arg(long, default_value = "{}")]
        worker: String,
        /// A callback parameter, overriding the sample's or added to it; repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
    },
    /// Check Workflow configurations and route tasks through them, offline; compare them with
    /// the live Workflow and apply them (REST API, TWILIO_* variables).
    Workflow {
        /// What to do with the configuration.
        #[command(subcommand)]
        command: workflow::WorkflowCommand,
    },
    /// Create TaskRouter tasks over the REST API (credentials: TWILIO_* variables).
    Task {
        /// What to do.
        #[command(subcommand)]
        action: task::Action,
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
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    /// Text for standard output.
    pub stdout: String,
    /// Text for standard error.
    pub stderr: String,
    /// The process exit code.
    pub code: u8,
}

/// A command that could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A rules file cannot be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A rules document is invalid.
    #[error("{path}: {source}")]
    Rules {
        /// The path given.
        path: String,
        /// The first problem (boxed: it is large).
        source: Box<RulesError>,
    },
    /// A flag's value is not JSON.
    #[error(
        "{flag} is not valid JSON: {reason}; pass a JSON object such as '{{\"call_sid\": \"CA…\"}}'"
    )]
    Json {
        /// The flag, e.g. `--task`.
        flag: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A flag's JSON is not an object.
    #[error("{flag} must be a JSON object, found {found}")]
    NotObject {
        /// The flag.
        flag: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// The sample callback is invalid once the `--param` overrides are applied.
    #[error("the callback is invalid: {0}; check the --param values")]
    Callback(#[from] CallbackError),
    /// An expression does not parse.
    #[error("{0}")]
    Syntax(#[from] SyntaxError),
    /// `--body` is not a form body.
    #[error("--body is not a form body: {0}")]
    Form(#[from] FormError),
    /// A `--workers` or `--queues` file cannot be used.
    #[error("{path}: {source}")]
    Workspace {
        /// The path given.
        path: String,
        /// The first problem (boxed: it is large).
        source: Box<WorkspaceError>,
    },
    /// The request could not be made or its answer not read.
    #[error("cannot POST to {url}: {reason}; is the function running and reachable at this URL?")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The REST commands' credentials or base URL.
    #[error("{0}")]
    RestConfig(#[from] ConfigError),
    /// A REST request failed.
    #[error("{0}")]
    Rest(#[from] RestError),
    /// The flags do not make a valid instruction.
    #[error("{0}")]
    Instruction(InstructionError),
    /// A reservation given neither through its task nor its worker.
    #[error("name the reservation's task (--task WT…) or worker (--worker WK…)")]
    NoReservationPath,
    /// `connect --check` without the auth token.
    #[error(
        "connect --check needs the auth token: Twilio signs callbacks with the account's auth token, and an API key cannot stand in for it; set TWILIO_AUTH_TOKEN as well (API keys still log in)"
    )]
    CheckNeedsAuthToken,
    /// `connect --check` and the Workflow has no URL.
    #[error(
        "the workflow has no AssignmentCallbackUrl to check: run connect without --dry-run first"
    )]
    NothingToCheck,
}

impl CliError {
    /// The exit code this error ends the process with.
    pub fn code(&self) -> u8 {
        match self {
            Self::Syntax(_) => SYNTAX,
            _ => FAILED,
        }
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
/// `TWILIO_AUTH_TOKEN` for `send`, the variables of [`crate::rest::config`] for the REST commands.
pub fn run_with(command: Command, env: &dyn Fn(&str) -> Option<String>) -> Output {
    let environment_token = env(crate::rest::config::AUTH_TOKEN);
    let result = match command {
        Command::Check { rules } => rules::check(&rules),
        Command::Decide {
            rules,
            task,
            worker,
            params,
            now,
        } => rules::decide(
            rules.as_deref(),
            &task,
            &worker,
            &params,
            now.unwrap_or_else(Timestamp::now),
        ),
        Command::Eval {
            expression,
            task,
            worker,
            now,
        } => rules::eval(
            &expression,
            &task,
            &worker,
            now.unwrap_or_else(Timestamp::now),
        ),
        Command::Test { files } => Ok(test::run(&files)),
        Command::Sign {
            url,
            token,
            params,
            body,
        } => callback::sign(&url, &token, &params, body.as_deref()),
        Command::Send {
            url,
            token,
            task,
            worker,
            params,
        } => {
            let token = resolve_token(token, environment_token);
            callback::send(&url, &token, &task, &worker, &params)
        }
        Command::Workflow { command } => workflow::run(command, env),
        Command::Task { action } => {
            rest_client(env).and_then(|(client, _)| task::run(&action, &client))
        }
        Command::Reservation { action } => {
            rest_client(env).and_then(|(client, _)| reservation::run(&action, &client))
        }
        Command::Connect(args) => {
            rest_client(env).and_then(|(client, config)| connect::run(&args, &client, &config))
        }
        Command::Sim { command } => sim::run(command, env),
    };
    result.unwrap_or_else(|error| Output {
        stdout: String::new(),
        stderr: format!("error: {error}\n"),
        code: error.code(),
    })
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
        let cli = Cli::try_parse_from(["taskrouter", "send", "--param", "A=1", "--param", "B=2=3"])
            .expect("valid");
        assert_eq!(
            cli.command,
            Command::Send {
                url: DEFAULT_URL.to_owned(),
                token: None,
                task: "{}".to_owned(),
                worker: "{}".to_owned(),
                params: params(&[("A", "1"), ("B", "2=3")]),
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
}
