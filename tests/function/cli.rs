//! The `taskrouter` binary as a user runs it: arguments in, stdout, stderr and exit code out.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the compiled `taskrouter` with `args`, without `TWILIO_AUTH_TOKEN` from the caller.
fn taskrouter(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskrouter"))
        .args(args)
        .env_remove("TWILIO_AUTH_TOKEN")
        .output()
        .expect("the taskrouter binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 stderr")
}

fn example(name: &str) -> String {
    format!("{}/rules/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A rules file in the temp directory, unique to this process and `name`, removed on drop.
struct TempRules(PathBuf);

impl TempRules {
    fn new(name: &str, contents: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("taskrouter-bin-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("the temp directory is writable");
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempRules {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn check_accepts_every_shipped_document_with_exit_code_0() {
    let cases = [
        (
            format!("{}/rules/default.json", env!("CARGO_MANIFEST_DIR")),
            "ok: 0 rules\n",
        ),
        (example("accept-all.json"), "ok: 0 rules\n"),
        (example("voice-dequeue.json"), "ok: 3 rules\n"),
        (example("voice-conference.json"), "ok: 2 rules\n"),
        (example("reject-missing-skill.json"), "ok: 2 rules\n"),
        (example("redirect-to-twiml.json"), "ok: 1 rule\n"),
    ];
    for (path, expected) in cases {
        let output = taskrouter(&["check", &path]);
        assert_eq!(output.status.code(), Some(0), "{path}: {}", stderr(&output));
        assert_eq!(stdout(&output), expected, "{path}");
    }
}

#[test]
fn check_refuses_an_invalid_document_with_exit_code_1_and_the_problem_on_stderr() {
    let rules = TempRules::new(
        "duplicate.json",
        r#"{"rules": [
            {"name": "vip", "when": "1 == 1", "instruction": {}},
            {"name": "vip", "when": "1 == 1", "instruction": {}}
        ]}"#,
    );
    let output = taskrouter(&["check", rules.path()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!(
            "error: {}: rule `vip` (rules[1]): the name is already used by rules[0]: rule names must be unique\n",
            rules.path()
        )
    );
}

#[test]
fn decide_prints_the_exact_body_and_names_the_rule() {
    let output = taskrouter(&[
        "decide",
        "--rules",
        &example("redirect-to-twiml.json"),
        "--task",
        r#"{"call_sid": "CA0123456789abcdef0123456789abcdef"}"#,
        "--worker",
        "{}",
        "--param",
        "ReservationSid=WR0123456789abcdef0123456789abcdef",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "{\"instruction\":\"redirect\",\"call_sid\":\"CA0123456789abcdef0123456789abcdef\",\
         \"url\":\"https://example.com/twiml/connect-agent?reservation=WR0123456789abcdef0123456789abcdef\",\
         \"accept\":true}\n"
    );
    assert_eq!(stderr(&output), "rule: redirect-voice-call\n");
}

#[test]
fn decide_without_rules_defers() {
    let output = taskrouter(&["decide", "--task", "{}", "--worker", "{}"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "{}\n");
    assert_eq!(stderr(&output), "rule: default\n");
}

#[test]
fn decide_names_the_flag_with_bad_json() {
    let output = taskrouter(&["decide", "--task", "not json"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: --task is not valid JSON: "),
        "{}",
        stderr(&output)
    );
}

#[test]
fn eval_prints_true_or_false_and_exits_with_2_on_a_syntax_error() {
    let task = r#"{"required_skill": "billing"}"#;
    let cases = [
        (
            "worker.skills HAS task.required_skill",
            r#"{"skills": ["billing"]}"#,
            "true\n",
        ),
        (
            "worker.skills HAS task.required_skill",
            r#"{"skills": ["sales"]}"#,
            "false\n",
        ),
        ("required_skill == 'billing'", "{}", "true\n"),
    ];
    for (expression, worker, expected) in cases {
        let output = taskrouter(&["eval", expression, "--task", task, "--worker", worker]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{expression}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), expected, "{expression} with {worker}");
    }
    let output = taskrouter(&["eval", "language = 'en'"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let error = stderr(&output);
    assert!(error.starts_with("error: "), "{error}");
    assert!(
        error.contains("\n  language = 'en'\n           ^"),
        "a caret under `=`: {error}"
    );
}

#[test]
fn sign_prints_the_official_test_vector() {
    // Contract §4: token 12345, the base URL and the common parameters.
    let output = taskrouter(&[
        "sign",
        "--url",
        "https://mycompany.com/myapp.php?foo=1&bar=2",
        "--token",
        "12345",
        "--param",
        "CallSid=CA1234567890ABCDE",
        "--param",
        "Caller=+14158675309",
        "--param",
        "Digits=1234",
        "--param",
        "From=+14158675309",
        "--param",
        "To=+18005551212",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "RSOYDt4T1cUTdK1PDd93/VVr8B8=\n");
}

#[test]
fn a_usage_error_exits_with_2() {
    let output = taskrouter(&["sign", "--url", "https://example.com"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--token"), "{}", stderr(&output));
}
