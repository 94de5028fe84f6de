//! `taskrouter workflow diff` and `apply` as a user runs them, against the live Workflow: a
//! stand-in for Twilio that holds a Workflow's configuration and keeps what is applied to it
//! (support/standin.rs; the equal, different and apply-then-read-back paths, which need a
//! Workflow that remembers), and Stoplight Prism serving Twilio's OpenAPI description (the
//! requests are the ones Twilio documents; its example Workflow holds a configuration that is
//! not JSON, so it shows what the commands do with one they cannot parse).

use std::process::Output;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::support::cli::{self, ACCOUNT, WS, WW, taskrouter_on, text};
use crate::support::prism::Prism;
use crate::support::standin::{Recorded, Reply, Server};
use crate::support::{TempFile, repo};

/// A token that must never appear in any output.
const TOKEN: &str = "workflow-token-that-must-stay-secret";
/// The file applied in these tests: the production-style example.
const FILE: &str = "workflows/examples/helpline.json";

/// Runs the compiled `taskrouter workflow …` from the repository root against `url`.
fn taskrouter(url: &str, args: &[&str]) -> Output {
    taskrouter_on(url, TOKEN)
        .arg("workflow")
        .args(args)
        .output()
        .expect("the taskrouter binary runs")
}

/// `diff`'s or `apply`'s arguments for `file`, then `extra`.
fn args<'a>(verb: &'a str, file: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![verb, file, "--workspace", WS, "--workflow", WW];
    args.extend_from_slice(extra);
    args
}

fn file_text() -> String {
    std::fs::read_to_string(repo().join(FILE)).expect("the example")
}

/// The example written as a tool would rewrite it: one line, keys sorted (serde_json's map),
/// every `timeout` as a string and every `priority` as a float, as Twilio's own pages write them.
fn reformatted(change: impl Fn(&mut Value)) -> String {
    let mut document: Value = serde_json::from_str(&file_text()).expect("JSON");
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    match (key.as_str(), item.as_u64()) {
                        ("timeout", Some(n)) => *item = json!(n.to_string()),
                        ("priority", Some(n)) => *item = json!(n as f64),
                        _ => walk(item),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut document);
    change(&mut document);
    document.to_string()
}

/// A Workflow as TaskRouter answers it (`taskrouter.v1.workspace.workflow`).
fn workflow_answer(configuration: &str) -> String {
    json!({
        "sid": WW, "workspace_sid": WS, "account_sid": ACCOUNT, "friendly_name": "Helpline",
        "assignment_callback_url": "https://example.com/taskrouter/assignment_callback",
        "fallback_assignment_callback_url": "https://example.com/taskrouter/assignment_callback",
        "task_reservation_timeout": 120, "document_content_type": "application/json",
        "configuration": configuration,
    })
    .to_string()
}

/// How the stand-in treats an update.
#[derive(Clone, Copy)]
enum OnUpdate {
    /// Keeps the `Configuration` sent, as TaskRouter does.
    Keep,
    /// Answers 200 and keeps the old one.
    Ignore,
    /// Refuses it in Twilio's error format (docs/taskrouter.md §7); the code and message are the
    /// stand-in's own, for illustration.
    Refuse,
}

/// A stand-in holding one Workflow with `configuration`; every request is recorded.
fn twilio_holding(configuration: String, on_update: OnUpdate) -> Server {
    let held = Arc::new(Mutex::new(configuration));
    Server::start(move |request: &Recorded| {
        let path = format!("/v1/Workspaces/{WS}/Workflows/{WW}");
        if request.path != path {
            return Reply::twilio_error(404, 20404, "The requested resource was not found");
        }
        let mut held = held.lock().expect("lock");
        if request.method == "POST" {
            match on_update {
                OnUpdate::Refuse => {
                    return Reply::twilio_error(
                        400,
                        20001,
                        "Invalid workflow configuration: queue WQ00000000000000000000000000000007 not found",
                    );
                }
                OnUpdate::Ignore => {}
                OnUpdate::Keep => {
                    if let Some((_, sent)) = request
                        .form()
                        .into_iter()
                        .find(|(key, _)| key == "Configuration")
                    {
                        *held = sent;
                    }
                }
            }
        }
        Reply::json(200, &workflow_answer(&held))
    })
}

/// `METHOD` of each request, in order.
fn methods(server: &Server) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|request| request.method.clone())
        .collect()
}

fn assert_no_secret(output: &Output) {
    cli::assert_no_secret(output, TOKEN);
}

/// The file with its Spanish step's timeout changed from 120 s to 90 s, and a filter inserted at
/// the top: the real differences of these tests.
fn with_real_changes(document: &mut Value) {
    let filters = document["task_routing"]["filters"]
        .as_array_mut()
        .expect("filters");
    let spanish = filters
        .iter_mut()
        .find(|filter| filter["filter_friendly_name"] == "Spanish")
        .expect("the Spanish filter");
    spanish["targets"][0]["timeout"] = json!("90");
    filters.insert(
        0,
        json!({"filter_friendly_name": "Test calls", "expression": "test == true",
               "targets": [{"queue": "WQ00000000000000000000000000000003"}]}),
    );
}

#[test]
fn diff_ignores_formatting_and_exits_0_when_the_live_workflow_routes_as_the_file() {
    let twilio = twilio_holding(reformatted(|_| {}), OnUpdate::Keep);
    let output = taskrouter(&twilio.url, &args("diff", FILE, &[]));
    assert_eq!(
        (output.status.code(), text(&output.stderr).as_str()),
        (Some(0), "")
    );
    assert_eq!(
        text(&output.stdout),
        format!(
            "--- {WW} (Helpline), live\n+++ {FILE}\nno differences: {WW} routes as this file says; the texts differ only in whitespace, key order, number formatting or the spelling of expressions\n"
        )
    );
    assert_eq!(methods(&twilio), ["GET"], "diff only reads");
    assert_no_secret(&output);

    let twilio = twilio_holding(file_text(), OnUpdate::Keep);
    let output = taskrouter(&twilio.url, &args("diff", FILE, &[]));
    assert_eq!(output.status.code(), Some(0));
    assert!(
        text(&output.stdout).ends_with("holds this file, byte for byte\n"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn diff_shows_the_real_changes_beside_formatting_noise_and_exits_1() {
    // The live side has both: a rewritten document (noise) and two real changes.
    let twilio = twilio_holding(reformatted(with_real_changes), OnUpdate::Keep);
    let output = taskrouter(&twilio.url, &args("diff", FILE, &[]));
    assert_eq!(
        (output.status.code(), text(&output.stderr).as_str()),
        (Some(1), "")
    );
    insta::assert_snapshot!(text(&output.stdout), @r#"
    --- WW0123456789abcdef0123456789abcdef (Helpline), live
    +++ workflows/examples/helpline.json
    filters[0] (`Test calls`): removed: {"expression":"test == true","filter_friendly_name":"Test calls","targets":[{"queue":"WQ00000000000000000000000000000003"}]}
    filters[2] (`Spanish`), targets[0]: `timeout`: 90 → 120
    2 differences; whitespace, key order, number formatting and the spelling of expressions are not counted
    "#);
}

#[test]
fn apply_sends_the_configuration_alone_as_written_and_reads_it_back() {
    let twilio = twilio_holding(reformatted(with_real_changes), OnUpdate::Keep);
    let output = taskrouter(&twilio.url, &args("apply", FILE, &[]));
    assert_eq!(
        (output.status.code(), text(&output.stderr).as_str()),
        (Some(0), "")
    );
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("filters[2] (`Spanish`), targets[0]: `timeout`: 90 → 120\n"),
        "the differences first: {stdout}"
    );
    assert!(
        stdout.ends_with(&format!("applied: {WW} now routes as {FILE} (read back)\n")),
        "{stdout}"
    );
    assert_eq!(
        methods(&twilio),
        ["GET", "POST", "GET"],
        "fetch, update, read back"
    );
    let update = &twilio.requests()[1];
    assert_eq!(
        update.form(),
        [("Configuration".to_owned(), file_text())],
        "Configuration only, byte for byte as the file: never the callback URLs"
    );
    assert_no_secret(&output);

    // Applied, the live Workflow now holds the file: diff agrees, and apply sends nothing.
    let output = taskrouter(&twilio.url, &args("diff", FILE, &[]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let output = taskrouter(&twilio.url, &args("apply", FILE, &[]));
    assert_eq!(output.status.code(), Some(0));
    assert!(
        text(&output.stdout).ends_with("byte for byte\nnothing to apply: nothing sent\n"),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(
        methods(&twilio),
        ["GET", "POST", "GET", "GET", "GET"],
        "no second update"
    );
}

#[test]
fn apply_dry_run_and_an_invalid_file_send_nothing() {
    let twilio = twilio_holding(reformatted(with_real_changes), OnUpdate::Keep);
    let output = taskrouter(&twilio.url, &args("apply", FILE, &["--dry-run"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).ends_with(&format!(
            "--dry-run: nothing sent; without it, apply sets {WW}'s Configuration to this file (and nothing else)\n"
        )),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(methods(&twilio), ["GET"]);

    let broken = TempFile::new(
        "broken.json",
        r#"{"task_routing": {"filters": [{"expression": "type ==", "targets": [{"queue": "WQ00000000000000000000000000000001"}]}]}}"#,
    );
    let path = broken.path();
    let output = taskrouter(&twilio.url, &args("apply", path, &[]));
    assert_eq!(
        (output.status.code(), text(&output.stdout).as_str()),
        (Some(1), "")
    );
    assert_eq!(
        text(&output.stderr),
        format!(
            "{path}:1:46: error: filters[0]: `expression` is not a valid expression: unexpected end of expression at column 8\n  type ==\n         ^ expected a value after ==\n\
             {path}: error: nothing applied: fix the errors above (`taskrouter workflow check` lists them too)\n"
        )
    );
    assert_eq!(methods(&twilio), ["GET"], "the invalid file reached no one");
    let output = taskrouter(&twilio.url, &args("diff", path, &[]));
    assert_eq!(
        output.status.code(),
        Some(2),
        "diff cannot compare: trouble"
    );
}

#[test]
fn apply_fails_when_twilio_refuses_or_does_not_keep_the_configuration() {
    let twilio = twilio_holding(reformatted(with_real_changes), OnUpdate::Refuse);
    let output = taskrouter(&twilio.url, &args("apply", FILE, &[]));
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: POST {}/v1/Workspaces/{WS}/Workflows/{WW} answered 400, error 20001: Invalid workflow configuration: queue WQ00000000000000000000000000000007 not found (https://www.twilio.com/docs/errors/20001)",
            twilio.url
        )),
        "Twilio's message, with the request: {stderr}"
    );
    assert_no_secret(&output);

    let twilio = twilio_holding(reformatted(with_real_changes), OnUpdate::Ignore);
    let output = taskrouter(&twilio.url, &args("apply", FILE, &[]));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: {WW} does not hold what was applied: read back, it differs from the file ({FILE} → read back):\n  \
             filters[0] (`Test calls`): added: {{\"expression\":\"test == true\",\"filter_friendly_name\":\"Test calls\",\"targets\":[{{\"queue\":\"WQ00000000000000000000000000000003\"}}]}}\n  \
             filters[3] (`Spanish`), targets[0]: `timeout`: 120 → 90\n"
        )
    );
}

#[test]
fn diff_and_apply_need_credentials_and_name_the_variable() {
    let output = cli::taskrouter()
        .args([
            "workflow",
            "diff",
            FILE,
            "--workspace",
            WS,
            "--workflow",
            WW,
        ])
        .current_dir(repo())
        .env_remove("TWILIO_ACCOUNT_SID")
        .env_remove("TWILIO_AUTH_TOKEN")
        .env_remove("TWILIO_API_KEY")
        .env_remove("TWILIO_API_SECRET")
        .output()
        .expect("the taskrouter binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).starts_with("error: ")
            && text(&output.stderr).contains("TWILIO_ACCOUNT_SID"),
        "{}",
        text(&output.stderr)
    );
    let output = taskrouter(
        "http://127.0.0.1:9",
        &["diff", FILE, "--workspace", WS, "--workflow", "WW1"],
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "a malformed SID is a usage error"
    );
    assert!(
        text(&output.stderr).contains("`WW1` is not a valid workflow SID"),
        "{}",
        text(&output.stderr)
    );
}

/// Requests Prism received for the Workflow, as `method path` from its log (its readiness
/// probes ask for a workspace).
fn received(prism: &Prism) -> Vec<String> {
    prism
        .log()
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("[HTTP SERVER] ")?;
            let mut words = rest.split_whitespace();
            Some(format!("{} {}", words.next()?, words.next()?))
        })
        .filter(|request| request.contains("/Workflows/"))
        .collect()
}

#[test]
fn against_twilios_description_the_live_configuration_that_does_not_parse_is_named_and_apply_replaces_it()
 {
    // Prism answers FetchWorkflow and UpdateWorkflow with the description's example, whose
    // `configuration` is the `task-routing:\n  - filter: …` text (with literal
    // backslash-n): not JSON. So diff reports it as unparsable, and a read back after apply still
    // holds it (Prism keeps nothing): apply must say Twilio does not hold what was sent.
    let prism = Prism::start();
    let workflow_path = format!("/v1/Workspaces/{WS}/Workflows/{WW}");
    let output = taskrouter(&prism.url, &args("diff", FILE, &[]));
    assert_eq!(
        (output.status.code(), text(&output.stderr).as_str()),
        (Some(1), ""),
        "{}",
        prism.log()
    );
    insta::assert_snapshot!(text(&output.stdout), @r#"
    --- WWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (Default Fifo Workflow), live
    +++ workflows/examples/helpline.json
    the live configuration of WWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa does not parse, so it cannot be compared filter by filter:
      the live configuration:1:2: error: not valid JSON: expected ident
    it holds: "task-routing:\\n  - filter: \\n      - 1 == 1\\n    target:\\n      - queue: WQaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\n        set-priority: 0\\n"
    every filter of this file is new to it; `taskrouter workflow apply` replaces it
    "#);
    let output = taskrouter(&prism.url, &args("apply", FILE, &["--dry-run"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        received(&prism),
        [
            format!("get {workflow_path}"),
            format!("get {workflow_path}")
        ],
        "diff and a dry run only read"
    );
    let output = taskrouter(&prism.url, &args("apply", FILE, &[]));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        received(&prism)[2..],
        [
            format!("get {workflow_path}"),
            format!("post {workflow_path}"),
            format!("get {workflow_path}"),
        ],
        "apply fetches, updates, reads back"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: {WW} does not hold what was applied: the configuration read back does not parse (the live configuration:1:2: error: not valid JSON: expected ident): \"task-routing:"
        )),
        "the update was accepted (a refusal would read `answered 422`), and the read back is the example again: {stderr}"
    );
    assert!(
        prism
            .log()
            .contains("The request passed the validation rules"),
        "Prism validated the UpdateWorkflow body against Twilio's schema"
    );
    assert_no_secret(&output);
}

#[test]
fn pull_saves_the_live_configuration_so_diff_and_apply_round_trip() {
    let twilio = twilio_holding(reformatted(|_| {}), OnUpdate::Keep);
    let out = TempFile::new("pulled.json", "an older version, replaced");
    let pull = ["pull", "--workspace", WS, "--workflow", WW];
    let output = taskrouter(&twilio.url, &[&pull[..], &["--out", out.path()]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        text(&output.stderr),
        format!("pulled: {WW}'s configuration written to {}\n", out.path())
    );
    let pulled = std::fs::read_to_string(out.path()).expect("the file");
    let expected: Value = serde_json::from_str(&reformatted(|_| {})).expect("JSON");
    assert_eq!(
        pulled,
        format!(
            "{}\n",
            serde_json::to_string_pretty(&expected).expect("pretty")
        ),
        "keys sorted, two-space indents, a final newline"
    );
    assert!(
        !std::path::Path::new(&format!("{}.partial", out.path())).exists(),
        "no partial file left behind"
    );
    let to_stdout = taskrouter(&twilio.url, &pull);
    assert_eq!(text(&to_stdout.stdout), pulled, "stdout without --out");

    // The round trip: the pulled file routes as the live Workflow, and applying it sends nothing.
    let output = taskrouter(&twilio.url, &args("diff", out.path(), &[]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let output = taskrouter(&twilio.url, &args("apply", out.path(), &[]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).ends_with("nothing to apply: nothing sent\n"),
        "{}",
        text(&output.stdout)
    );
    assert!(
        methods(&twilio).iter().all(|method| method == "GET"),
        "nothing was sent"
    );

    // Edited and applied, the live Workflow holds the file; pulled again, it is the same file.
    let mut edited: Value = serde_json::from_str(&pulled).expect("JSON");
    with_real_changes(&mut edited);
    let edited = format!(
        "{}\n",
        serde_json::to_string_pretty(&edited).expect("pretty")
    );
    std::fs::write(out.path(), &edited).expect("written");
    let output = taskrouter(&twilio.url, &args("apply", out.path(), &[]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let output = taskrouter(&twilio.url, &pull);
    assert_eq!(text(&output.stdout), edited, "pulled back byte for byte");
    assert_no_secret(&output);
}

#[test]
fn pull_writes_a_live_configuration_with_errors_but_says_so_and_refuses_one_that_is_not_json() {
    let mut broken: Value = serde_json::from_str(&file_text()).expect("JSON");
    broken["task_routing"]["filters"][0]["targets"][0]["timout"] = json!(5);
    let twilio = twilio_holding(broken.to_string(), OnUpdate::Keep);
    let out = TempFile::new("broken.json", "");
    let output = taskrouter(
        &twilio.url,
        &[
            "pull",
            "--workspace",
            WS,
            "--workflow",
            WW,
            "--out",
            out.path(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("unknown key `timout`: did you mean `timeout`?")
            && stderr.ends_with(
                "`workflow apply` will refuse the file until the errors above are fixed\n"
            ),
        "{stderr}"
    );
    assert!(
        std::fs::read_to_string(out.path())
            .expect("written")
            .contains("\"timout\": 5"),
        "what TaskRouter holds is saved all the same"
    );

    let twilio = twilio_holding("task-routing:\n  - filter: 1".to_owned(), OnUpdate::Keep);
    let output = taskrouter(&twilio.url, &["pull", "--workspace", WS, "--workflow", WW]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    assert!(
        text(&output.stderr).starts_with(&format!(
            "error: the live configuration of {WW} is not JSON, so it cannot be written as a configuration file: nothing written; it holds: \"task-routing:\\n  - filter: 1\""
        )),
        "{}",
        text(&output.stderr)
    );

    let twilio = twilio_holding(file_text(), OnUpdate::Keep);
    let output = taskrouter(
        &twilio.url,
        &[
            "pull",
            "--workspace",
            WS,
            "--workflow",
            WW,
            "--out",
            "/nonexistent/dir/pulled.json",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "a file that cannot be written"
    );
    assert!(
        text(&output.stderr).starts_with("error: cannot write `/nonexistent/dir/pulled.json`: "),
        "{}",
        text(&output.stderr)
    );
}
