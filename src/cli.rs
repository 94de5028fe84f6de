//! The `taskrouter` command line, as functions that return their output and exit code.
//!
//! `src/bin/taskrouter.rs` only parses the arguments with [`Cli`], calls [`run`] and prints the
//! [`Output`]; everything here is testable without a process.
//!
//! | command | does | exit code |
//! |---|---|---|
//! | `check RULES.json` | compiles a rules document | 0 valid, 1 invalid |
//! | `decide [--rules RULES.json] --task JSON --worker JSON [--param Name=Value …]` | the body the function would answer | 0, 1 on bad input |
//! | `eval EXPRESSION --task JSON --worker JSON` | evaluates a TaskRouter expression | 0 (`true` or `false`), 2 on a syntax error |
//! | `sign --url URL --token TOKEN [--param Name=Value …] [--body FORM]` | computes `X-Twilio-Signature` | 0 |
//! | `send [--url URL] [--token TOKEN] [--task JSON] [--worker JSON] [--param Name=Value …]` | POSTs a signed sample callback | 0 on a 2xx answer, else 1 |
//!
//! Usage errors (clap's) exit with 2 as well.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::callback::{AssignmentCallback, CallbackError};
use crate::expression::{Expression, JsonScope, SyntaxError};
use crate::form::{FormError, FormParams};
use crate::rules::{Rules, RulesError};
use crate::signature;

/// Where `send` posts by default: `cargo lambda watch`'s address and the function's route.
pub const DEFAULT_URL: &str = "http://127.0.0.1:9000/taskrouter/assignment_callback";

/// The token `send` signs with when neither `--token` nor `TWILIO_AUTH_TOKEN` is set; a local
/// function configured with the same token accepts the request.
pub const LOCAL_DEV_TOKEN: &str = "local-dev-token";

/// How long `send` waits for the whole exchange; TaskRouter itself waits 5 s (contract §2).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Placeholder SIDs for sample callbacks: well formed (prefix + 32 hex digits, contract §1) and
/// obviously not real.
const SAMPLE_SIDS: &[(&str, &str)] = &[
    ("AccountSid", "AC00000000000000000000000000000000"),
    ("WorkspaceSid", "WS00000000000000000000000000000000"),
    ("WorkflowSid", "WW00000000000000000000000000000000"),
    ("TaskQueueSid", "WQ00000000000000000000000000000000"),
    ("WorkerSid", "WK00000000000000000000000000000000"),
    ("TaskSid", "WT00000000000000000000000000000000"),
    ("ReservationSid", "WR00000000000000000000000000000000"),
];

/// The exit code for success.
const OK: u8 = 0;
/// The exit code for a failure (invalid rules, bad input, a non-2xx answer).
const FAILED: u8 = 1;
/// The exit code for an expression syntax error (and clap's usage errors).
const SYNTAX: u8 = 2;

/// Tools for TaskRouter assignment rules and callbacks.
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
    },
    /// Evaluate a TaskRouter expression; prints `true` or `false`.
    Eval {
        /// The expression; bare references read the task, `task.` and `worker.` either side.
        expression: String,
        /// The task's attributes (a JSON object).
        #[arg(long, default_value = "{}")]
        task: String,
        /// The worker's attributes (a JSON object).
        #[arg(long, default_value = "{}")]
        worker: String,
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
        /// Where to post; plain http only (for https, use `sign` with curl).
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
    /// `send` was given an https URL; it speaks plain http only, to stay small.
    #[error(
        "send speaks plain http only, got {url}: for https, print the signature with `taskrouter sign` and POST with curl"
    )]
    Https {
        /// The URL.
        url: String,
    },
    /// The request could not be made or its answer not read.
    #[error(
        "cannot POST to {url}: {reason}; is the function running (e.g. `cargo lambda watch`)? For https, use `taskrouter sign` with curl"
    )]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
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

/// Runs a command. `environment_token` is `TWILIO_AUTH_TOKEN`, read by the caller.
pub fn run(command: Command, environment_token: Option<String>) -> Output {
    let result = match command {
        Command::Check { rules } => check(&rules),
        Command::Decide {
            rules,
            task,
            worker,
            params,
        } => decide(rules.as_deref(), &task, &worker, &params),
        Command::Eval {
            expression,
            task,
            worker,
        } => eval(&expression, &task, &worker),
        Command::Sign {
            url,
            token,
            params,
            body,
        } => sign(&url, &token, &params, body.as_deref()),
        Command::Send {
            url,
            token,
            task,
            worker,
            params,
        } => {
            let token = resolve_token(token, environment_token);
            send(&url, &token, &task, &worker, &params)
        }
    };
    result.unwrap_or_else(|error| Output {
        stdout: String::new(),
        stderr: format!("error: {error}\n"),
        code: error.code(),
    })
}

/// `--token`, else a non-empty `TWILIO_AUTH_TOKEN`, else [`LOCAL_DEV_TOKEN`].
pub fn resolve_token(flag: Option<String>, environment: Option<String>) -> String {
    flag.or(environment.filter(|token| !token.is_empty()))
        .unwrap_or_else(|| LOCAL_DEV_TOKEN.to_owned())
}

fn load_rules(path: &std::path::Path) -> Result<Rules, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Rules::compile(&text).map_err(|source| CliError::Rules {
        path: path.display().to_string(),
        source: Box::new(source),
    })
}

fn check(path: &std::path::Path) -> Result<Output, CliError> {
    let rules = load_rules(path)?;
    let noun = if rules.len() == 1 { "rule" } else { "rules" };
    Ok(Output {
        stdout: format!("ok: {} {noun}\n", rules.len()),
        ..Output::default()
    })
}

fn decide(
    rules: Option<&std::path::Path>,
    task: &str,
    worker: &str,
    params: &[(String, String)],
) -> Result<Output, CliError> {
    let rules = match rules {
        Some(path) => load_rules(path)?,
        None => Rules::builtin(),
    };
    let callback = AssignmentCallback::try_from(sample_callback(task, worker, params)?)?;
    let decision = rules.decide(&callback);
    let mut stderr = String::new();
    for skipped in &decision.skipped {
        stderr.push_str(&format!("skipped: {}: {}\n", skipped.rule, skipped.reason));
    }
    stderr.push_str(&format!("rule: {}\n", decision.rule));
    Ok(Output {
        stdout: format!("{}\n", decision.body),
        stderr,
        code: OK,
    })
}

fn eval(expression: &str, task: &str, worker: &str) -> Result<Output, CliError> {
    let expression = Expression::parse(expression)?;
    let task = json_object("--task", task)?;
    let worker = json_object("--worker", worker)?;
    let matched = expression.evaluate(&JsonScope {
        task: &task,
        worker: &worker,
    });
    Ok(Output {
        stdout: format!("{matched}\n"),
        ..Output::default()
    })
}

fn sign(
    url: &str,
    token: &str,
    params: &[(String, String)],
    body: Option<&str>,
) -> Result<Output, CliError> {
    let mut pairs = match body {
        Some(body) if !body.trim().is_empty() => {
            FormParams::parse(body.as_bytes())?.pairs().to_vec()
        }
        _ => Vec::new(),
    };
    pairs.extend_from_slice(params);
    Ok(Output {
        stdout: format!("{}\n", signature::sign(token.as_bytes(), url, &pairs)),
        ..Output::default()
    })
}

fn send(
    url: &str,
    token: &str,
    task: &str,
    worker: &str,
    params: &[(String, String)],
) -> Result<Output, CliError> {
    if url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    {
        return Err(CliError::Https {
            url: url.to_owned(),
        });
    }
    let params = sample_callback(task, worker, params)?;
    // Refuse what the function would refuse, before the network is involved.
    AssignmentCallback::try_from(params.clone())?;
    let signature = signature::sign(token.as_bytes(), url, params.pairs());
    let http = |error: ureq::Error| CliError::Http {
        url: url.to_owned(),
        reason: error.to_string(),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(SEND_TIMEOUT))
        .build()
        .into();
    let mut response = agent
        .post(url)
        .header("X-Twilio-Signature", &signature)
        .content_type("application/x-www-form-urlencoded")
        .send(params.encode())
        .map_err(http)?;
    let status = response.status();
    let body = response.body_mut().read_to_string().map_err(http)?;
    Ok(Output {
        stdout: if body.ends_with('\n') {
            body
        } else {
            format!("{body}\n")
        },
        stderr: format!("status: {status}\n"),
        code: if status.is_success() { OK } else { FAILED },
    })
}

/// A complete assignment callback's form parameters: placeholder SIDs, `TaskAge` and
/// `TaskPriority` 0, the given attributes, then each `params` pair replacing the parameter of
/// that name or added after the others.
///
/// # Errors
///
/// [`CliError::Json`] or [`CliError::NotObject`] naming `--task` or `--worker`.
pub fn sample_callback(
    task: &str,
    worker: &str,
    params: &[(String, String)],
) -> Result<FormParams, CliError> {
    json_object("--task", task)?;
    json_object("--worker", worker)?;
    let mut pairs: Vec<(String, String)> = SAMPLE_SIDS
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    pairs.extend([
        ("TaskAttributes".to_owned(), task.to_owned()),
        ("WorkerAttributes".to_owned(), worker.to_owned()),
        ("TaskAge".to_owned(), "0".to_owned()),
        ("TaskPriority".to_owned(), "0".to_owned()),
    ]);
    for (name, value) in params {
        match pairs.iter_mut().find(|(existing, _)| existing == name) {
            Some(pair) => pair.1.clone_from(value),
            None => pairs.push((name.clone(), value.clone())),
        }
    }
    Ok(FormParams::from_pairs(pairs))
}

fn json_object(flag: &'static str, text: &str) -> Result<Value, CliError> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(CliError::NotObject {
            flag,
            found: crate::expression::json_kind(&other),
        }),
        Err(error) => Err(CliError::Json {
            flag,
            reason: error.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    fn example(name: &str) -> PathBuf {
        PathBuf::from(format!(
            "{}/rules/examples/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
    }

    /// A file in the temp directory, unique to this process and `name`, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("taskrouter-cli-{}-{name}", std::process::id()));
            std::fs::write(&path, contents).expect("the temp directory is writable");
            Self(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn decide(rules: Option<PathBuf>, task: &str, worker: &str, pairs: &[(&str, &str)]) -> Output {
        run(
            Command::Decide {
                rules,
                task: task.to_owned(),
                worker: worker.to_owned(),
                params: params(pairs),
            },
            None,
        )
    }

    fn eval(expression: &str, task: &str, worker: &str) -> Output {
        run(
            Command::Eval {
                expression: expression.to_owned(),
                task: task.to_owned(),
                worker: worker.to_owned(),
            },
            None,
        )
    }

    #[test]
    fn check_counts_the_rules_of_a_valid_document() {
        let output = run(
            Command::Check {
                rules: example("voice-dequeue.json"),
            },
            None,
        );
        assert_eq!(
            output,
            Output {
                stdout: "ok: 3 rules\n".to_owned(),
                stderr: String::new(),
                code: 0
            }
        );
        let output = run(
            Command::Check {
                rules: example("redirect-to-twiml.json"),
            },
            None,
        );
        assert_eq!(output.stdout, "ok: 1 rule\n");
    }

    #[test]
    fn check_reports_the_first_problem_with_the_path_and_exit_code_1() {
        let file = TempFile::new(
            "typo.json",
            r#"{"rules": [{"name": "vip", "whn": "1 == 1", "instruction": {}}]}"#,
        );
        let output = run(
            Command::Check {
                rules: file.0.clone(),
            },
            None,
        );
        assert_eq!(output.code, 1);
        assert_eq!(output.stdout, "");
        assert_eq!(
            output.stderr,
            format!(
                "error: {}: rule `vip` (rules[0]): unknown key `whn`: expected `name`, `when`, `instruction` or `description`\n",
                file.0.display()
            )
        );
    }

    #[test]
    fn check_reports_a_file_that_cannot_be_read() {
        let output = run(
            Command::Check {
                rules: PathBuf::from("/nonexistent/rules.json"),
            },
            None,
        );
        assert_eq!(output.code, 1);
        assert!(
            output
                .stderr
                .starts_with("error: cannot read `/nonexistent/rules.json`: "),
            "{}",
            output.stderr
        );
    }

    #[test]
    fn decide_prints_the_body_on_stdout_and_the_rule_on_stderr() {
        let task = r#"{"call_sid": "CA0123456789abcdef0123456789abcdef", "to": "+18005550199"}"#;
        let output = decide(
            Some(example("voice-dequeue.json")),
            task,
            r#"{"contact_uri": "client:alice"}"#,
            &[],
        );
        assert_eq!(
            output,
            Output {
                stdout: "{\"instruction\":\"dequeue\",\"to\":\"client:alice\",\"from\":\"+18005550199\",\"post_work_activity_sid\":\"WA00000000000000000000000000000000\"}\n".to_owned(),
                stderr: "rule: dequeue-from-dialed-number\n".to_owned(),
                code: 0,
            }
        );
    }

    #[test]
    fn decide_lists_skipped_rules_before_the_chosen_one() {
        let task = r#"{"call_sid": "CA0123456789abcdef0123456789abcdef"}"#;
        let output = decide(Some(example("voice-dequeue.json")), task, "{}", &[]);
        assert_eq!(output.stdout, "{}\n");
        assert_eq!(
            output.stderr,
            "skipped: dequeue-from-dialed-number: `{{task.to}}` in `from` is missing or null\n\
             skipped: dequeue-from-called-number: `{{task.called}}` in `from` is missing or null\n\
             rule: voice-call-not-dequeued\n"
        );
    }

    #[test]
    fn decide_without_rules_uses_the_built_in_deferral() {
        let output = decide(None, "{}", "{}", &[]);
        assert_eq!(
            (output.stdout.as_str(), output.stderr.as_str(), output.code),
            ("{}\n", "rule: default\n", 0)
        );
    }

    #[test]
    fn decide_params_override_the_sample_and_reach_callback_references() {
        let rules = TempFile::new(
            "params.json",
            r#"{"rules": [
                {"name": "old", "when": "callback.TaskAge >= 300 AND callback.Channel == 'voice'",
                 "instruction": {"instruction": "accept"}}
            ]}"#,
        );
        let young = decide(Some(rules.0.clone()), "{}", "{}", &[("Channel", "voice")]);
        assert_eq!(young.stderr, "rule: default\n");
        let old = decide(
            Some(rules.0.clone()),
            "{}",
            "{}",
            &[("TaskAge", "300"), ("Channel", "voice")],
        );
        assert_eq!(old.stderr, "rule: old\n");
    }

    #[test]
    fn decide_names_the_flag_holding_bad_json_and_the_parameter_holding_a_bad_value() {
        let cases = [
            (
                "{",
                "{}",
                &[][..],
                "error: --task is not valid JSON: EOF while parsing an object at line 1 column 1; pass a JSON object such as '{\"call_sid\": \"CA…\"}'\n",
            ),
            (
                "{}",
                "[1]",
                &[][..],
                "error: --worker must be a JSON object, found an array\n",
            ),
            (
                "{}",
                "{}",
                &[("TaskSid", "WT1")][..],
                "error: the callback is invalid: parameter `TaskSid`: `WT1` is not a valid task SID: expected `WT` followed by 32 hex digits; check the --param values\n",
            ),
        ];
        for (task, worker, pairs, message) in cases {
            let output = decide(None, task, worker, pairs);
            assert_eq!(
                (output.stderr.as_str(), output.code),
                (message, 1),
                "{task} {worker} {pairs:?}"
            );
        }
    }

    #[test]
    fn eval_prints_true_or_false_and_bare_references_read_the_task() {
        let task = r#"{"type": "support", "required_skill": "billing"}"#;
        let worker = r#"{"skills": ["billing"], "type": "agent"}"#;
        let cases = [
            (
                "type == 'support'",
                "true\n",
                "a bare reference reads the task",
            ),
            ("task.type == 'support'", "true\n", "task."),
            ("worker.type == 'agent'", "true\n", "worker."),
            (
                "worker.skills HAS task.required_skill",
                "true\n",
                "both sides",
            ),
            (
                "type == 'agent'",
                "false\n",
                "a bare reference never reads the worker",
            ),
        ];
        for (expression, expected, why) in cases {
            let output = eval(expression, task, worker);
            assert_eq!(
                (output.stdout.as_str(), output.code),
                (expected, 0),
                "{why}"
            );
        }
    }

    #[test]
    fn eval_exits_with_2_and_a_caret_on_a_syntax_error() {
        let output = eval("skills HAS )", "{}", "{}");
        assert_eq!(output.code, 2);
        assert_eq!(output.stdout, "");
        assert_eq!(
            output.stderr,
            "error: unexpected `)` at column 12\n  skills HAS )\n             ^ expected a value after HAS\n"
        );
    }

    #[test]
    fn sign_matches_the_official_vector() {
        // Contract §4: token 12345, the base URL and the common parameters.
        let common = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ];
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let with_params = run(
            Command::Sign {
                url: url.to_owned(),
                token: "12345".to_owned(),
                params: params(&common),
                body: None,
            },
            None,
        );
        assert_eq!(with_params.stdout, "RSOYDt4T1cUTdK1PDd93/VVr8B8=\n");
        let body =
            "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309";
        let with_body = run(
            Command::Sign {
                url: url.to_owned(),
                token: "12345".to_owned(),
                params: params(&[("To", "+18005551212")]),
                body: Some(body.to_owned()),
            },
            None,
        );
        assert_eq!(
            with_body.stdout, "RSOYDt4T1cUTdK1PDd93/VVr8B8=\n",
            "--body and --param combine"
        );
        let none = run(
            Command::Sign {
                url: url.to_owned(),
                token: "12345".to_owned(),
                params: Vec::new(),
                body: None,
            },
            None,
        );
        assert_eq!(none.stdout, "zYQTYrRWXE7LtzbG4PfP7/bkkGo=\n");
    }

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
    fn the_token_comes_from_the_flag_then_the_environment_then_the_local_default() {
        let some = |text: &str| Some(text.to_owned());
        assert_eq!(resolve_token(some("flag"), some("env")), "flag");
        assert_eq!(resolve_token(None, some("env")), "env");
        assert_eq!(resolve_token(None, some("")), LOCAL_DEV_TOKEN);
        assert_eq!(resolve_token(None, None), LOCAL_DEV_TOKEN);
    }

    #[test]
    fn the_sample_callback_is_complete_and_params_replace_or_extend_it() {
        let form = sample_callback(
            "{\"a\":1}",
            "{}",
            &params(&[("TaskAge", "30"), ("Extra", "x")]),
        )
        .expect("valid input");
        let callback = AssignmentCallback::try_from(form.clone()).expect("a complete callback");
        assert_eq!(callback.task_age, 30);
        assert_eq!(callback.task_attributes["a"], 1);
        assert_eq!(
            form.pairs().iter().filter(|(k, _)| k == "TaskAge").count(),
            1,
            "replaced, not repeated"
        );
        assert_eq!(
            form.pairs().last(),
            Some(&("Extra".to_owned(), "x".to_owned()))
        );
    }

    /// Answers one request on a loopback port with `status` and `body`; yields the raw request.
    fn serve_once(status: &str, body: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!(
            "http://{}/taskrouter/assignment_callback",
            listener.local_addr().expect("bound")
        );
        let status = status.to_owned();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("one connection");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout set");
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            // Read the headers, then exactly Content-Length bytes of body.
            loop {
                let read = stream.read(&mut buffer).expect("the request arrives");
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|line| {
                            line.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_owned)
                        })
                        .and_then(|value| value.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length || read == 0 {
                        break;
                    }
                }
                if read == 0 {
                    break;
                }
            }
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream
                .write_all(response.as_bytes())
                .expect("the response is written");
            String::from_utf8(request).expect("a UTF-8 request")
        });
        (url, handle)
    }

    #[test]
    fn send_posts_a_signed_callback_and_prints_status_and_body() {
        let (url, server) = serve_once("200 OK", "{\"instruction\":\"accept\"}");
        let output = run(
            Command::Send {
                url: url.clone(),
                token: None,
                task: "{\"type\":\"chat\"}".to_owned(),
                worker: "{}".to_owned(),
                params: params(&[("TaskPriority", "5")]),
            },
            Some("secret-token".to_owned()),
        );
        assert_eq!(
            output,
            Output {
                stdout: "{\"instruction\":\"accept\"}\n".to_owned(),
                stderr: "status: 200 OK\n".to_owned(),
                code: 0
            }
        );
        let request = server.join().expect("the server thread ends");
        let (head, body) = request.split_once("\r\n\r\n").expect("headers and body");
        assert!(
            head.starts_with("POST /taskrouter/assignment_callback HTTP/1.1\r\n"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/x-www-form-urlencoded"),
            "{head}"
        );
        let header = head
            .lines()
            .find_map(|line| {
                line.strip_prefix("X-Twilio-Signature: ")
                    .or_else(|| line.strip_prefix("x-twilio-signature: "))
            })
            .expect("a signature header");
        let form = FormParams::parse(body.as_bytes()).expect("a form body");
        assert_eq!(form.get("TaskPriority"), Some("5"));
        assert_eq!(form.get("TaskAttributes"), Some("{\"type\":\"chat\"}"));
        assert_eq!(
            header,
            signature::sign(b"secret-token", &url, form.pairs()),
            "signed with the environment token for this URL"
        );
    }

    #[test]
    fn send_exits_with_1_on_an_answer_that_is_not_2xx() {
        let (url, server) = serve_once("403 Forbidden", "{\"error\":\"invalid_signature\"}");
        let output = run(
            Command::Send {
                url,
                token: Some("wrong".to_owned()),
                task: "{}".to_owned(),
                worker: "{}".to_owned(),
                params: Vec::new(),
            },
            None,
        );
        server.join().expect("the server thread ends");
        assert_eq!(output.code, 1);
        assert_eq!(output.stderr, "status: 403 Forbidden\n");
        assert_eq!(output.stdout, "{\"error\":\"invalid_signature\"}\n");
    }

    #[test]
    fn send_refuses_https_and_points_to_sign() {
        let output = run(
            Command::Send {
                url: "https://example.com/taskrouter/assignment_callback".to_owned(),
                token: None,
                task: "{}".to_owned(),
                worker: "{}".to_owned(),
                params: Vec::new(),
            },
            None,
        );
        assert_eq!(
            (output.stderr.as_str(), output.code),
            (
                "error: send speaks plain http only, got https://example.com/taskrouter/assignment_callback: for https, print the signature with `taskrouter sign` and POST with curl\n",
                1
            )
        );
    }

    #[test]
    fn send_explains_a_connection_failure() {
        // Bind and drop a listener so the port is very likely closed.
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("a port")
            .local_addr()
            .expect("bound")
            .port();
        let url = format!("http://127.0.0.1:{port}/taskrouter/assignment_callback");
        let output = run(
            Command::Send {
                url: url.clone(),
                token: None,
                task: "{}".to_owned(),
                worker: "{}".to_owned(),
                params: Vec::new(),
            },
            None,
        );
        assert_eq!(output.code, 1);
        assert!(
            output
                .stderr
                .starts_with(&format!("error: cannot POST to {url}: ")),
            "{}",
            output.stderr
        );
        assert!(
            output.stderr.contains("is the function running"),
            "{}",
            output.stderr
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
