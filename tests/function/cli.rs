//! The `taskrouter` binary as a user runs it: arguments in, stdout, stderr and exit code out.

use std::path::PathBuf;
use std::process::Output;

use crate::support::TempFile;
use crate::support::cli::text;

/// Runs the compiled `taskrouter` with `args`, without `TWILIO_AUTH_TOKEN` from the caller.
fn taskrouter(args: &[&str]) -> Output {
    crate::support::cli::taskrouter()
        .args(args)
        .env_remove("TWILIO_AUTH_TOKEN")
        .output()
        .expect("the taskrouter binary runs")
}

fn stdout(output: &Output) -> String {
    text(&output.stdout)
}

fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

fn example(name: &str) -> String {
    format!("{}/rules/examples/{name}", env!("CARGO_MANIFEST_DIR"))
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
        (example("business-hours.json"), "ok: 4 rules, 1 schedule\n"),
        (example("twilio-time-of-day.json"), "ok: 2 rules\n"),
    ];
    for (path, expected) in cases {
        let output = taskrouter(&["check", &path]);
        assert_eq!(output.status.code(), Some(0), "{path}: {}", stderr(&output));
        assert_eq!(stdout(&output), expected, "{path}");
        assert_eq!(stderr(&output), "", "{path}: no warnings");
    }
}

#[test]
fn check_warns_about_every_raw_template_and_still_exits_with_0() {
    let rules = TempFile::new(
        "raw.json",
        r#"{"rules": [
            {"name": "trusted-twiml", "when": "call_sid != null", "instruction":
                {"instruction": "redirect", "call_sid": "{{call_sid}}", "url": "{{raw task.twiml_url}}"}},
            {"name": "pbx", "when": "1 == 1", "instruction":
                {"instruction": "dequeue", "to": "sip:{{worker.extension}}@{{raw worker.pbx}}",
                 "status_callback_url": "https://example.com/status?worker={{worker.name}}"}}
        ]}"#,
    );
    let output = taskrouter(&["check", rules.path()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "ok: 2 rules\n");
    let path = rules.path();
    assert_eq!(
        stderr(&output),
        format!(
            "warning: {path}: rule `trusted-twiml` (rules[0]): `url` inserts `{{{{raw task.twiml_url}}}}` as it is, so whoever sets that value chooses where the URL points and its parameters; remove `raw` unless the value is trusted\n\
             warning: {path}: rule `pbx` (rules[1]): `to` inserts `{{{{raw worker.pbx}}}}` as it is, so whoever sets that value chooses any address the field takes; remove `raw` unless the value is trusted\n"
        )
    );
}

#[test]
fn check_refuses_an_invalid_document_with_exit_code_1_and_the_problem_on_stderr() {
    let rules = TempFile::new(
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
    let output = taskrouter(&["eval", "taskrouter.dayOfWeek = 'Thurs'"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let error = stderr(&output);
    assert!(error.starts_with("error: "), "{error}");
    assert!(
        error.contains("\n  taskrouter.dayOfWeek = 'Thurs'\n                         ^"),
        "a caret under the day that is no day: {error}"
    );
}

#[test]
fn eval_and_decide_take_now_as_an_rfc_3339_timestamp() {
    // Twilio's worked example, verbatim (contract §5): 2026-12-03 is a Thursday.
    let worked = "(taskrouter.dayOfWeek IN ['Mon', 'Tue', 'THU'] AND taskrouter.currentTime > 800 AND taskrouter.currentTime < 1730) OR (taskrouter.dayOfWeek IN ['Wed', 'Fri'] AND taskrouter.currentTime > 900 AND taskrouter.currentTime < 1830) OR (taskrouter.dayOfWeek = 'Sat' AND taskrouter.currentTime > 1100 AND taskrouter.currentTime < 1530)";
    for (now, expected) in [
        ("2026-12-03T14:30:00Z", "true\n"),
        ("2026-12-03T18:30:00Z", "false\n"),
    ] {
        let output = taskrouter(&["eval", worked, "--now", now]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stdout(&output), expected, "at {now}");
    }
    let output = taskrouter(&[
        "decide",
        "--rules",
        &example("business-hours.json"),
        "--task",
        r#"{"type": "chat"}"#,
        "--now",
        "2026-12-25T15:00:00Z",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "{\"instruction\":\"reject\",\"activity_sid\":\"WA00000000000000000000000000000002\"}\n"
    );
    assert_eq!(stderr(&output), "rule: after-hours-reject\n");
    let output = taskrouter(&["eval", "1 == 1", "--now", "2026-12-03 14:30"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(
            "`2026-12-03 14:30` is not an RFC 3339 timestamp with an offset: write e.g. 2026-12-01T14:30:00Z (UTC) or 2026-12-01T09:30:00-05:00"
        ),
        "{}",
        stderr(&output)
    );
}

/// Every rules document in `rules/examples/`, and the test document beside each.
fn examples_and_tests() -> Vec<(PathBuf, PathBuf)> {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules/examples");
    let mut pairs: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(&directory)
        .expect("rules/examples exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            let name = path.to_string_lossy();
            name.ends_with(".json") && !name.ends_with(".test.json")
        })
        .map(|rules| {
            let test = rules.with_extension("test.json");
            (rules, test)
        })
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn taskrouter_test_passes_every_example_and_reaches_each_of_its_rules_and_its_default() {
    let pairs = examples_and_tests();
    assert!(pairs.len() >= 7, "{pairs:?}");
    for (rules, test) in &pairs {
        assert!(
            test.exists(),
            "{} has no test document: add {}",
            rules.display(),
            test.display()
        );
    }
    let tests: Vec<&str> = pairs
        .iter()
        .map(|(_, test)| test.to_str().expect("a UTF-8 path"))
        .collect();
    let mut args = vec!["test"];
    args.extend(&tests);
    let output = taskrouter(&args);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let lines: Vec<&str> = out.lines().collect();
    let (summary, cases) = lines.split_last().expect("a summary line");
    assert!(
        cases.iter().all(|line| line.starts_with("ok   ")),
        "every line is a passing case; a `note:` names a rule no case reaches:\n{out}"
    );
    assert_eq!(*summary, format!("{} passed, 0 failed", cases.len()));
    for test in &tests {
        assert!(
            out.contains(&format!("ok   {test}: ")),
            "{test} ran:\n{out}"
        );
    }
}

#[test]
fn a_wrong_expectation_fails_the_run_showing_the_expected_and_the_actual_answer() {
    let rules = example("business-hours.json");
    let test = TempFile::new(
        "wrong.test.json",
        &format!(
            r#"{{
              "rules": "{rules}",
              "now": "2026-12-25T15:00:00Z",
              "cases": [
                {{"name": "a chat on a weekday morning is accepted", "now": "2026-12-02T14:30:00Z",
                  "task": {{"type": "chat"}}, "expect": {{"rule": "office-hours"}}}},
                {{"name": "christmas is open (it is not)", "task": {{"type": "chat"}},
                  "expect": {{"rule": "office-hours", "answer": {{"instruction": "accept"}}}}}}
              ]
            }}"#
        ),
    );
    let output = taskrouter(&["test", test.path()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let path = test.path();
    assert_eq!(
        stdout(&output),
        format!(
            "ok   {path}: a chat on a weekday morning is accepted\n\
             FAIL {path}: christmas is open (it is not)\n\
             \x20      expected: rule `office-hours`, answer {{\"instruction\":\"accept\"}}\n\
             \x20      actual:   rule `after-hours-reject`, answer {{\"instruction\":\"reject\",\"activity_sid\":\"WA00000000000000000000000000000002\"}}\n\
             note: {path}: no case reaches `office-hours-voice`, `after-hours-on-call-voice`, `default`\n\
             1 passed, 1 failed\n"
        )
    );
}

#[test]
fn an_invalid_test_document_exits_with_2_naming_the_file_the_case_and_the_problem() {
    let rules = example("business-hours.json");
    let typo = TempFile::new(
        "typo.test.json",
        &format!(
            r#"{{"rules": "{rules}", "cases": [
                {{"name": "weekday", "now": "2026-12-02T14:30:00Z", "exepct": {{"rule": "office-hours"}}}}
            ]}}"#
        ),
    );
    let no_now = TempFile::new(
        "no-now.test.json",
        &format!(
            r#"{{"rules": "{rules}", "cases": [{{"name": "whenever", "expect": {{"rule": "office-hours"}}}}]}}"#
        ),
    );
    let unknown_rule = TempFile::new(
        "unknown-rule.test.json",
        &format!(
            r#"{{"rules": "{rules}", "now": "2026-12-02T14:30:00Z", "cases": [{{"name": "weekday", "expect": {{"rule": "office_hours"}}}}]}}"#
        ),
    );
    let passing = TempFile::new(
        "passing.test.json",
        &format!(
            r#"{{"rules": "{rules}", "cases": [{{"name": "weekday", "now": "2026-12-02T14:30:00Z", "expect": {{"rule": "office-hours"}}}}]}}"#
        ),
    );
    let output = taskrouter(&[
        "test",
        typo.path(),
        no_now.path(),
        unknown_rule.path(),
        passing.path(),
        "/nonexistent/missing.test.json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stdout(&output),
        format!(
            "ok   {path}: weekday\n\
             note: {path}: no case reaches `office-hours-voice`, `after-hours-on-call-voice`, `after-hours-reject`, `default`\n\
             1 passed, 0 failed\n",
            path = passing.path()
        ),
        "the valid document still runs"
    );
    let errors = stderr(&output);
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(
        lines[..4],
        [
            format!("error: {}: case `weekday` (cases[0]): unknown key `exepct`: expected `name`, `task`, `worker`, `params`, `now`, `expect` or `description`", typo.path()),
            format!("error: {}: case `whenever` (cases[0]): missing key `now`: the rules read the time (`taskrouter.` or `schedules.`), so give the case a `now` such as \"2026-12-01T14:30:00Z\", or the document a default one, and the result will not depend on when the test runs", no_now.path()),
            format!("error: {}: case `weekday` (cases[0]): `expect`: `rule`: `office_hours` is not a rule of the document: expect one of `office-hours-voice`, `office-hours`, `after-hours-on-call-voice`, `after-hours-reject`, `default`", unknown_rule.path()),
            "error: /nonexistent/missing.test.json: cannot read it: No such file or directory (os error 2)".to_owned(),
        ]
    );
    assert_eq!(lines.len(), 4, "{errors}");
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
