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
        let output = taskrouter(&["check", "--rules", &path]);
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
    assert_eq!(stdout(&output), "ok: 2 rules (2 warnings)\n");
    let path = rules.path();
    assert_eq!(
        stderr(&output),
        format!(
            "{path}:3:17: warning: rules[0] (`trusted-twiml`): `url` inserts `{{{{raw task.twiml_url}}}}` as it is, so whoever sets that value chooses where the URL points and its parameters; remove `raw` unless the value is trusted\n\
             {path}:5:17: warning: rules[1] (`pbx`): `to` inserts `{{{{raw worker.pbx}}}}` as it is, so whoever sets that value chooses any address the field takes; remove `raw` unless the value is trusted\n"
        )
    );
}

#[test]
fn check_reads_several_files_and_reports_every_error_and_warning_of_each() {
    let broken = TempFile::new(
        "broken.json",
        r#"{"rules": [
  {"name": "vip", "whn": "tier == 'gold'", "instruction": {"instruction": "accept"}},
  {"name": "late", "when": "schedules.ny.open == true", "instruction": {}}
], "defualt": {}}"#,
    );
    let doubtful = TempFile::new(
        "doubtful.json",
        r#"{"rules": [
  {"name": "night", "when": "taskrouter.currentTime >= 2200 AND taskrouter.currentTime < 600", "instruction": {}},
  {"name": "late", "when": "taskrouter.currentHour > 23", "instruction": {}},
  {"name": "all", "when": "1 == 1", "instruction": {"instruction": "accept"}},
  {"name": "after", "when": "vip == true", "instruction": {}}
]}"#,
    );
    let valid = example("voice-dequeue.json");
    let output = taskrouter(&["check", broken.path(), doubtful.path(), &valid]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!(
            "ok: {}: 4 rules (3 warnings)\nok: {valid}: 3 rules\n",
            doubtful.path()
        )
    );
    let (broken, doubtful) = (broken.path(), doubtful.path());
    assert_eq!(
        stderr(&output),
        format!(
            "{broken}:4:4: error: unknown key `defualt`: did you mean `default`?\n\
             {broken}:2:19: error: rules[0] (`vip`): unknown key `whn`: did you mean `when`?\n\
             {broken}:2:3: error: rules[0] (`vip`): missing key `when`: write `\"when\": \"1 == 1\"` for a rule that matches every callback\n\
             {broken}:3:28: error: rules[1] (`late`), `when`: `schedules.ny.open` names no schedule: the document defines no schedules: add one under `schedules`\n\
             {doubtful}:2:29: warning: rules[0] (`night`): `when`: `taskrouter.currentTime >= 2200 AND taskrouter.currentTime < 600` is false at every minute of the week (TaskRouter reads the time in UTC); a range across midnight needs OR, e.g. `taskrouter.currentTime >= 2200 OR taskrouter.currentTime < 600`\n\
             {doubtful}:3:28: warning: rules[1] (`late`): `when`: `taskrouter.currentHour > 23` holds at no minute of the week: `taskrouter.currentHour` is the UTC hour, 0 to 23, never null; compare it with a value it takes\n\
             {doubtful}:5:29: warning: rules[3] (`after`): never reached: rules[2] (`all`) matches every callback (`1 == 1`) and answers it; move this rule above it\n"
        )
    );

    let strict = taskrouter(&["check", "--strict", doubtful]);
    assert_eq!(
        strict.status.code(),
        Some(1),
        "warnings fail under --strict"
    );
    assert_eq!(stdout(&strict), "");
    assert!(
        stderr(&strict).ends_with(&format!("{doubtful}: error: 3 warnings with --strict\n")),
        "{}",
        stderr(&strict)
    );
}

#[test]
fn check_json_lists_every_file_with_located_errors_and_warnings() {
    let typo = TempFile::new("typo.json", r#"{"rules": [], "defualt": {}}"#);
    let output = taskrouter(&["check", "--json", typo.path(), "/nonexistent/rules.json"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unreadable file is exit 2"
    );
    assert_eq!(stderr(&output), "");
    let document: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["ok"], false);
    assert_eq!(
        document["files"][0],
        serde_json::json!({"file": typo.path(), "warnings": [], "errors": [
            {"line": 1, "column": 15, "pointer": "/defualt", "message": "unknown key `defualt`: did you mean `default`?"}
        ]})
    );
    assert_eq!(document["files"][1]["file"], "/nonexistent/rules.json");
    assert_eq!(
        document["files"][1]["errors"][0]["line"],
        serde_json::Value::Null
    );

    let valid = taskrouter(&[
        "check",
        "--json",
        "--strict",
        &example("voice-dequeue.json"),
    ]);
    assert_eq!(valid.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_str(&stdout(&valid)).expect("JSON");
    assert_eq!(document["ok"], true);
    assert_eq!(document["files"][0]["errors"], serde_json::json!([]));
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
    let output = taskrouter(&["check", "--rules", rules.path()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!(
            "{}:3:22: error: rules[1] (`vip`), `name`: the name is already used by rules[0]: rule names must be unique\n",
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
fn decide_names_the_flag_with_bad_json_and_exits_2() {
    let output = taskrouter(&["decide", "--task", "not json"]);
    assert_eq!(output.status.code(), Some(2));
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
    // Twilio's worked example, verbatim (docs/taskrouter.md §5): 2026-12-03 is a Thursday.
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
             \x20      expected: rule `office-hours`\n\
             \x20      actual:   rule `after-hours-reject`\n\
             \x20      answer:   - expected, + actual\n\
             \x20        {{\n\
             \x20      -   \"instruction\": \"accept\"\n\
             \x20      +   \"activity_sid\": \"WA00000000000000000000000000000002\",\n\
             \x20      +   \"instruction\": \"reject\"\n\
             \x20        }}\n\
             note: {path}: no case reaches `office-hours-voice`, `after-hours-on-call-voice`, `default`\n\
             1 passed, 1 failed\n"
        )
    );
}

#[test]
fn test_json_reports_failed_cases_as_errors_and_unreached_rules_as_warnings() {
    let rules = example("business-hours.json");
    let test = TempFile::new(
        "wrong.test.json",
        &format!(
            r#"{{"rules": "{rules}", "now": "2026-12-25T15:00:00Z", "cases": [
                {{"name": "christmas is open (it is not)", "task": {{"type": "chat"}},
                  "expect": {{"rule": "office-hours"}}}}
            ]}}"#
        ),
    );
    let output = taskrouter(&["test", "--json", test.path()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let document: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(
        document,
        serde_json::json!({"ok": false, "files": [{"file": test.path(),
            "errors": [{"line": null, "column": null, "pointer": "/cases/0",
                "message": "case `christmas is open (it is not)` (cases[0]): failed: rule `after-hours-reject`, answer {\"instruction\":\"reject\",\"activity_sid\":\"WA00000000000000000000000000000002\"}"}],
            "warnings": [{"line": null, "column": null, "pointer": null,
                "message": "no case reaches `office-hours-voice`, `office-hours`, `after-hours-on-call-voice`, `default`"}]}]})
    );
}

/// The 1-based column where `needle` starts on the first line of `file` that holds it: the
/// documents embed the repository's absolute path, so their columns depend on the checkout.
fn column(file: &TempFile, needle: &str) -> usize {
    let text = std::fs::read_to_string(file.path()).expect("the document");
    text.lines()
        .find_map(|line| line.find(needle))
        .map(|at| at + 1)
        .unwrap_or_else(|| panic!("`{needle}` is in the document"))
}

#[test]
fn invalid_test_documents_are_named_with_the_case_and_a_missing_one_makes_the_run_exit_2() {
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
        lines,
        [
            format!("{}:2:68: error: cases[0] (`weekday`): unknown key `exepct`: did you mean `expect`?", typo.path()),
            format!("{}:2:17: error: cases[0] (`weekday`): missing key `expect`: give the expected `rule` and/or `answer`", typo.path()),
            format!("{}:1:{}: error: cases[0] (`whenever`): missing key `now`: the rules read the time (`taskrouter.` or `schedules.`), so give the case a `now` such as \"2026-12-01T14:30:00Z\", or the document a default one, and the result will not depend on when the test runs", no_now.path(), column(&no_now, r#"{"name": "whenever""#)),
            format!("{}:1:{}: error: cases[0] (`weekday`), `expect`, `rule`: `office_hours` is not a rule of the document: expect one of `office-hours-voice`, `office-hours`, `after-hours-on-call-voice`, `after-hours-reject`, `default`", unknown_rule.path(), column(&unknown_rule, r#""office_hours""#)),
            "/nonexistent/missing.test.json: error: cannot read it: No such file or directory (os error 2)".to_owned(),
        ],
        "every problem of every document, each with its line and column"
    );
}

#[test]
fn a_test_document_with_errors_exits_1_and_one_that_cannot_be_read_exits_2() {
    let rules = example("voice-dequeue.json");
    let typo = TempFile::new(
        "param-typo.test.json",
        &format!(
            r#"{{"rules": "{rules}", "cases": [{{"name": "old", "params": {{"TaskAgee": 300}}, "expect": {{"rule": "default"}}}}]}}"#
        ),
    );
    let output = taskrouter(&["test", typo.path()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "{}:1:{}: error: cases[0] (`old`), `params`: `TaskAgee` is not a parameter of the assignment callback: did you mean `TaskAge`?; a parameter Twilio added since goes in `extra_params`\n",
            typo.path(),
            column(&typo, r#"{"TaskAgee""#)
        )
    );
    let output = taskrouter(&["test", "/nonexistent/missing.test.json"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn sign_prints_the_official_test_vector() {
    // docs/taskrouter.md §4: token 12345, the base URL and the common parameters.
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
    let output = taskrouter(&["sign"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--url"), "{}", stderr(&output));
}

#[test]
fn the_top_level_help_and_the_readme_carry_the_same_exit_code_table() {
    let output = taskrouter(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    let table = taskrouter_lambda::cli::EXIT_CODES;
    assert!(help.contains(table), "{help}");
    let readme = std::fs::read_to_string(crate::support::repo().join("README.md")).expect("README");
    assert!(
        readme.contains(table),
        "README.md's section on the `taskrouter` command shows the table of `taskrouter --help`, verbatim"
    );
}

#[test]
fn every_command_exits_by_the_one_table() {
    // The REST variables point at a port nothing listens on: a command that reached the network
    // would fail with 1, so a 2 below was decided before anything was sent.
    let port = crate::support::loopback::free_port();
    let nowhere = format!("http://127.0.0.1:{port}");
    let not_json = TempFile::new("not-json.json", "{\"rules\": [");
    let workflow_not_json = TempFile::new("workflow-not-json.json", "task_routing:\n  filters: []");
    let (ws, ww, wt, wk) = (
        crate::support::cli::WS,
        crate::support::cli::WW,
        crate::support::cli::WT,
        crate::support::cli::WK,
    );
    let missing = "/nonexistent/file.json";
    let routed = "workflows/examples/transfer.json";
    #[rustfmt::skip]
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["check", "--rules", missing], 2, "check: a file that cannot be read"),
        (vec!["check", "--rules", not_json.path()], 1, "check: a document that is not JSON"),
        (vec!["decide", "--rules", missing], 2, "decide: rules that cannot be read"),
        (vec!["decide", "--rules", not_json.path()], 1, "decide: rules with errors"),
        (vec!["decide", "--worker", "[1]"], 2, "decide: a flag's JSON of the wrong type"),
        (vec!["decide", "--param", "TaskSid=WT1"], 2, "decide: a malformed SID in a parameter"),
        (vec!["decide", "--param", "TaskAgee=1"], 2, "decide: an unknown parameter"),
        (vec!["eval", "type =="], 2, "eval: a syntax error"),
        (vec!["eval", "1 == 1", "--rules", missing], 2, "eval: rules that cannot be read"),
        (vec!["eval", "schedules.office.open == true"], 2, "eval: a schedule without its document"),
        (vec!["test", missing], 2, "test: a file that cannot be read"),
        (vec!["send", "--url", &nowhere, "--param", "Channel=voice"], 2, "send: an unknown parameter"),
        (vec!["send", "--url", &nowhere], 1, "send: no answer"),
        (vec!["workflow", "check", missing], 2, "workflow check: a file that cannot be read"),
        (vec!["workflow", "check", workflow_not_json.path()], 1, "workflow check: not JSON"),
        (vec!["workflow", "route", routed, "--task", "{"], 2, "workflow route: bad JSON in --task"),
        (vec!["workflow", "route", routed, "--task", "{}", "--workers", missing], 2, "workflow route: --workers cannot be read"),
        (vec!["workflow", "diff", missing, "--workspace", ws, "--workflow", ww], 2, "workflow diff: no comparison"),
        (vec!["workflow", "apply", missing, "--workspace", ws, "--workflow", ww], 2, "workflow apply: a file that cannot be read"),
        (vec!["workflow", "apply", workflow_not_json.path(), "--workspace", ws, "--workflow", ww], 1, "workflow apply: a file with errors, nothing sent"),
        (vec!["workflow", "pull", "--workspace", ws, "--workflow", ww], 1, "workflow pull: no answer"),
        (vec!["task", "show", "--workspace", "WS1", "--task", wt], 2, "task: a malformed SID"),
        (vec!["task", "create", "--workspace", ws, "--workflow", ww, "--attributes", "not json"], 2, "task create: bad JSON"),
        (vec!["task", "list", "--workspace", ws, "--expression", "type =="], 2, "task list: an expression that does not parse"),
        (vec!["task", "list", "--workspace", ws, "--status", "open"], 2, "task list: an unknown status"),
        (vec!["task", "show", "--workspace", ws, "--task", wt], 1, "task show: no answer"),
        (vec!["worker", "activity", "--workspace", ws, "--worker", wk, "--activity", "WA1"], 2, "worker activity: a malformed SID"),
        (vec!["reservation", "dequeue", "--workspace", ws, "--task", wt, "--reservation", "WR0123456789abcdef0123456789abcdef", "--timeout", "abc"], 2, "reservation: flags that make no instruction"),
        (vec!["connect", "--workspace", ws, "--workflow", ww, "--assignment-url", "https://example.com/cb", "--events-filter", "reservation.acepted"], 2, "connect: an unknown event type"),
    ];
    for (args, code, why) in cases {
        let output = crate::support::cli::taskrouter_on(&nowhere, "exit-code-token")
            .args(&args)
            .output()
            .expect("the taskrouter binary runs");
        assert_eq!(
            output.status.code(),
            Some(code),
            "{why}: {}",
            stderr(&output)
        );
        let said = stderr(&output);
        assert!(
            said.starts_with("error: ")
                || said
                    .lines()
                    .next()
                    .is_some_and(|line| line.contains(": error: ")),
            "{why}: an error says so, first or after its file (and line and column): {said}"
        );
    }
    let output = taskrouter(&[
        "workflow",
        "diff",
        missing,
        "--workspace",
        ws,
        "--workflow",
        ww,
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "diff without credentials: no comparison"
    );
}

#[test]
fn eval_refuses_a_schedule_without_its_document_and_reads_it_with_rules() {
    let expression = "schedules.new_york_office.open == true";
    let output = taskrouter(&["eval", expression, "--now", "2026-12-02T14:30:00Z"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "", "no answer is printed");
    assert_eq!(
        stderr(&output),
        "error: `schedules.new_york_office.open` reads the schedule `new_york_office`, which only a rules document defines: pass the document that defines it with --rules FILE (without one the answer would be a guess)\n"
    );
    let rules = example("business-hours.json");
    for (now, expected) in [
        ("2026-12-02T14:30:00Z", "true\n"),
        ("2026-12-25T15:00:00Z", "false\n"),
    ] {
        let output = taskrouter(&["eval", expression, "--rules", &rules, "--now", now]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stdout(&output), expected, "at {now}");
    }
}

#[test]
fn callback_parameters_are_checked_by_name_and_extra_ones_are_spelled_out() {
    let output = taskrouter(&["decide", "--param", "TaskAgee=300"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(
            "`TaskAgee` is not a parameter of the assignment callback: did you mean `TaskAge`?; a parameter Twilio added since goes in --extra-param TaskAgee=…"
        ),
        "{}",
        stderr(&output)
    );
    let rules = TempFile::new(
        "extra.json",
        r#"{"rules": [{"name": "voice", "when": "callback.Channel == 'voice'", "instruction": {"instruction": "accept"}}]}"#,
    );
    let output = taskrouter(&[
        "decide",
        "--rules",
        rules.path(),
        "--extra-param",
        "Channel=voice",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "rule: voice\n");
    let output = taskrouter(&["decide", "--extra-param", "TaskAge=300"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`TaskAge` is a documented parameter of the assignment callback, not an extra one: pass it with --param"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_time_zone_abbreviation_or_offset_is_explained_not_corrected() {
    #[rustfmt::skip]
    let cases = [
        ("PST", "`PST` is an abbreviation, not a time zone: it stands for US Pacific time (America/Los_Angeles, America/Vancouver) or the Philippines (Asia/Manila); write the place", "an abbreviation"),
        ("GMT+5", "`GMT+5` is an offset (UTC+05:00), not a time zone", "an offset"),
        ("Etc/GMT+5", "`Etc/GMT+5` is UTC-05:00 all year: in the IANA database's `Etc/GMT` names the sign is inverted", "the POSIX sign"),
    ];
    for (zone, message, why) in cases {
        let rules = TempFile::new(
            "zone.json",
            &format!(
                r#"{{"schedules": {{"office": {{"time_zone": "{zone}", "open": {{"Mon-Fri": ["08:00-18:00"]}}}}}},
                    "rules": [{{"name": "open", "when": "schedules.office.open == true", "instruction": {{"instruction": "accept"}}}}]}}"#
            ),
        );
        let output = taskrouter(&["check", "--rules", rules.path()]);
        assert_eq!(output.status.code(), Some(1), "{why}");
        let error = stderr(&output);
        assert!(
            error.starts_with(&format!(
                "{}:1:40: error: schedule `office` (read by rule `open`), `time_zone`: {message}",
                rules.path()
            )),
            "{why}: {error}"
        );
        assert!(
            !error.contains("did you mean"),
            "{why}: nothing is guessed: {error}"
        );
    }
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_the_output_not_in_a_panic() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    // Far more output than a pipe holds (64 KiB on Linux): the writer must meet the closed end.
    let cases: Vec<String> = (0..3000)
        .map(|i| {
            format!(r#"{{"name": "case {i:04} with a name long enough to fill the pipe quickly", "expect": {{"rule": "default"}}}}"#)
        })
        .collect();
    let test = TempFile::new(
        "many.test.json",
        &format!(
            r#"{{"rules": "{}", "cases": [{}]}}"#,
            example("accept-all.json"),
            cases.join(",")
        ),
    );
    let mut child = crate::support::cli::taskrouter()
        .args(["test", test.path()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the taskrouter binary runs");
    let mut first = String::new();
    {
        // `| head -1`: read one line, then close the pipe.
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        reader.read_line(&mut first).expect("a first line");
    }
    let output = child.wait_with_output().expect("it ends");
    assert!(first.starts_with("ok   "), "{first}");
    let error = stderr(&output);
    assert!(!error.contains("panicked"), "{error}");
    assert_eq!(
        output.status.code(),
        Some(0),
        "the command's own code (every case passed), not 101: {error}"
    );
    assert_eq!(error, "");
}

#[test]
fn sign_reads_the_token_from_the_environment_and_never_shows_it() {
    let args = [
        "sign",
        "--url",
        "https://mycompany.com/myapp.php?foo=1&bar=2",
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
    ];
    let output = crate::support::cli::taskrouter()
        .args(args)
        .env("TWILIO_AUTH_TOKEN", "12345")
        .output()
        .expect("the taskrouter binary runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "RSOYDt4T1cUTdK1PDd93/VVr8B8=\n");
    let output = taskrouter(&args);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: sign needs the auth token: set TWILIO_AUTH_TOKEN (or pass --token, which other users can see in `ps`)\n"
    );
    let secret = "a-token-that-must-stay-secret";
    for args in [vec!["sign", "--help"], vec!["send", "--help"]] {
        let output = crate::support::cli::taskrouter()
            .args(&args)
            .env("TWILIO_AUTH_TOKEN", secret)
            .output()
            .expect("the taskrouter binary runs");
        assert_eq!(output.status.code(), Some(0));
        crate::support::cli::assert_no_secret(&output, secret);
        assert!(
            stdout(&output).contains("TWILIO_AUTH_TOKEN"),
            "{args:?}: the help names the variable"
        );
    }
}

#[test]
fn flags_are_spelled_one_way_and_the_older_spellings_still_run() {
    // `check FILE` (positional) and `check --rules FILE` are the same document.
    let rules = example("voice-dequeue.json");
    for args in [vec!["check", "--rules", &rules], vec!["check", &rules]] {
        let output = taskrouter(&args);
        assert_eq!(
            (output.status.code(), stdout(&output).as_str()),
            (Some(0), "ok: 3 rules\n"),
            "{args:?}"
        );
    }
    let output = taskrouter(&["check", "--help"]);
    assert!(
        stdout(&output).contains("--rules <FILE>"),
        "{}",
        stdout(&output)
    );
    for verb in ["reject", "dequeue", "redirect", "conference"] {
        let output = taskrouter(&["reservation", verb, "--help"]);
        let help = stdout(&output);
        assert!(help.contains("--activity <WA…>"), "{verb}: {help}");
        assert!(
            !help.contains("--post-work-activity"),
            "{verb}: one spelling shown"
        );
    }
    for verb in ["dequeue", "call", "conference"] {
        let output = taskrouter(&["reservation", verb, "--help"]);
        let help = stdout(&output);
        let line = help
            .lines()
            .find(|line| line.trim_start().starts_with("--record"))
            .unwrap_or_else(|| panic!("{verb}: {help}"));
        assert_eq!(line.trim(), "--record", "{verb}: --record takes no value");
    }
}
