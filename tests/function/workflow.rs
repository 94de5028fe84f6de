//! `taskrouter workflow check` and `route` as a user runs them: every example in
//! `workflows/examples/` checked, and routed against the sample workspace document
//! `workflows/workspace.json`, through the compiled binary.

use std::process::Output;

use serde_json::Value;

use crate::support::cli::{taskrouter, text};
use crate::support::{TempFile, repo};

/// Runs the compiled `taskrouter workflow …` from the repository root, so paths read as in the
/// README.
fn workflow(args: &[&str]) -> Output {
    taskrouter()
        .arg("workflow")
        .args(args)
        .output()
        .expect("the taskrouter binary runs")
}

/// A step as the JSON names it: its queue and the SIDs of its workers in offer order.
type Step<'a> = (&'a str, &'a [&'a str]);

const WORKSPACE: [&str; 2] = ["--workspace", "workflows/workspace.json"];

#[test]
fn every_example_passes_check_without_warnings() {
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(repo().join("workflows/examples")).expect("the examples") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|extension| extension != "json") {
            continue;
        }
        let relative = path.strip_prefix(repo()).expect("inside the repository");
        let relative = relative.to_str().expect("a UTF-8 path");
        let output = workflow(&["check", relative]);
        assert_eq!(
            (output.status.code(), text(&output.stderr).as_str()),
            (Some(0), ""),
            "{relative}"
        );
        assert!(text(&output.stdout).starts_with("ok: "), "{relative}");
        checked.push(relative.to_owned());
    }
    checked.sort();
    assert_eq!(
        checked,
        [
            "workflows/examples/helpline.json",
            "workflows/examples/lifecycle-support-sales.json",
            "workflows/examples/overflow.json",
            "workflows/examples/time-of-day.json",
            "workflows/examples/transfer.json",
        ]
    );
}

#[test]
fn route_json_gives_the_filter_and_the_workers_of_each_step() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &[Step<'_>], &str)] = &[
        ("lifecycle-support-sales.json", r#"{"type": "Sales"}"#, "Sales Calls",
         &[("WQ00000000000000000000000000000002", &["WK00000000000000000000000000000001", "WK00000000000000000000000000000002", "WK00000000000000000000000000000005"])],
         "a sales call to the sales queue"),
        ("lifecycle-support-sales.json", r#"{"type": "Billing"}"#, "default_filter",
         &[("WQ00000000000000000000000000000003", &["WK00000000000000000000000000000001", "WK00000000000000000000000000000002", "WK00000000000000000000000000000003", "WK00000000000000000000000000000004", "WK00000000000000000000000000000005"])],
         "anything else to everyone"),
        ("transfer.json", r#"{"transferTargetType": "worker", "transferTargetSid": "WK00000000000000000000000000000004", "workerSidsInConversation": ["WK00000000000000000000000000000004"]}"#, "Transfer to a worker",
         &[("WQ00000000000000000000000000000003", &["WK00000000000000000000000000000004"]),
           ("WQ00000000000000000000000000000003", &["WK00000000000000000000000000000001", "WK00000000000000000000000000000002", "WK00000000000000000000000000000003", "WK00000000000000000000000000000005"])],
         "the known worker, then everyone else"),
        ("helpline.json", r#"{"language": "es"}"#, "Spanish",
         &[("WQ00000000000000000000000000000006", &["WK00000000000000000000000000000002", "WK00000000000000000000000000000004", "WK00000000000000000000000000000005"]),
           ("WQ00000000000000000000000000000008", &["WK00000000000000000000000000000004", "WK00000000000000000000000000000005"]),
           ("WQ00000000000000000000000000000003", &["WK00000000000000000000000000000001", "WK00000000000000000000000000000002", "WK00000000000000000000000000000003", "WK00000000000000000000000000000004", "WK00000000000000000000000000000005"])],
         "ordered by level, then escalated"),
    ];
    for (example, task, filter, steps, why) in cases {
        let file = format!("workflows/examples/{example}");
        // A Wednesday noon (UTC): these examples do not read the time, so any instant will do.
        let mut args = vec![
            "route",
            file.as_str(),
            "--task",
            task,
            "--now",
            "2026-12-02T12:00:00Z",
            "--json",
        ];
        args.extend(WORKSPACE);
        let output = workflow(&args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{why}: {}",
            text(&output.stderr)
        );
        let answer: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
        assert_eq!(answer["filter"], *filter, "{why}");
        let walked: Vec<(String, Vec<String>)> = answer["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|step| {
                let workers = step["workers"]
                    .as_array()
                    .expect("workers with --workers")
                    .iter()
                    .map(|sid| sid.as_str().expect("a SID").to_owned())
                    .collect();
                (step["queue"].as_str().expect("a queue").to_owned(), workers)
            })
            .collect();
        let expected: Vec<(String, Vec<String>)> = steps
            .iter()
            .map(|(queue, workers)| {
                (
                    (*queue).to_owned(),
                    workers.iter().map(|sid| (*sid).to_owned()).collect(),
                )
            })
            .collect();
        assert_eq!(walked, expected, "{why}");
    }
}

#[test]
fn twilios_time_of_day_example_routes_at_now_as_its_prose_says() {
    // https://www.twilio.com/docs/taskrouter/time-of-day-routing, as printed (`'THU'`, `= 'Sat'`):
    // open Mon, Tue, Thu 08:00–17:30, Wed and Fri 09:00–18:30, Sat 11:00–15:30, UTC.
    let open = ("MyFilterName", "WQ00000000000000000000000000000004");
    let closed = ("default_filter", "WQ00000000000000000000000000000005");
    #[rustfmt::skip]
    let cases = [
        ("2026-12-03T10:00:00Z", open, "a Thursday, written 'THU'"),
        ("2026-12-03T17:30:00Z", closed, "Thursday at closing time"),
        ("2026-12-02T08:45:00Z", closed, "a Wednesday before 09:00"),
        ("2026-12-04T18:00:00Z", open, "a Friday evening before 18:30"),
        ("2026-12-05T11:30:00Z", open, "a Saturday, written with a single ="),
        ("2026-12-05T15:30:00Z", closed, "a Saturday at 15:30"),
        ("2026-12-06T12:00:00Z", closed, "a Sunday"),
        ("2026-12-03T22:00:00-05:00", closed, "22:00 in New York on Thursday is Friday 03:00 UTC"),
    ];
    for (now, (filter, queue), why) in cases {
        let output = workflow(&[
            "route",
            "workflows/examples/time-of-day.json",
            "--task",
            "{}",
            "--now",
            now,
            "--json",
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{why}: {}",
            text(&output.stderr)
        );
        let answer: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
        assert_eq!(
            (
                answer["filter"].as_str(),
                answer["steps"][0]["queue"].as_str()
            ),
            (Some(filter), Some(queue)),
            "{why}: {now}"
        );
    }
    let output = workflow(&[
        "route",
        "workflows/examples/time-of-day.json",
        "--task",
        "{}",
        "--now",
        "Thursday 10am",
    ]);
    assert_eq!(output.status.code(), Some(2), "a usage error");
    assert!(
        text(&output.stderr).contains(
            "`Thursday 10am` is not an RFC 3339 timestamp with an offset: write e.g. 2026-12-01T14:30:00Z (UTC)"
        ),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn route_explains_why_a_task_fell_through_to_the_default_filter() {
    let mut args = vec![
        "route",
        "workflows/examples/helpline.json",
        "--task",
        r#"{"channelType": "email", "helpline": "adult"}"#,
    ];
    args.extend(WORKSPACE);
    let output = workflow(&args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().take(6).collect();
    assert_eq!(
        lines,
        [
            "filter: default_filter (no filter matched)",
            "  filters[0] (`Transfer to a counsellor`): no match: `transferTargetType == 'worker'` is false (transferTargetType = null)",
            "  filters[1] (`Emergency`): no match: `priority_level == 'emergency'` is false (priority_level = null); `keywords HAS 'suicide'` is false (keywords = null)",
            "  filters[2] (`Spanish`): no match: `language == 'es'` is false (language = null); `language IN ['es-MX', 'es-ES', 'es-US']` is false (language = null)",
            "  filters[3] (`Youth line`): no match: `helpline == 'youth'` is false (helpline = \"adult\")",
            "steps:",
        ]
    );
}

#[test]
fn an_invalid_configuration_exits_1_with_every_error_on_stderr() {
    let invalid = TempFile::new(
        "invalid.json",
        r#"{"task_routing": {"filters": [{"expression": "type == 'a' OR taskrouter.dayofweek == 'Mon'", "targets": [{"queue": "WQ00000000000000000000000000000001", "timout": 5}]}]}}"#,
    );
    let file = invalid.path();
    for args in [vec!["check", file], vec!["route", file, "--task", "{}"]] {
        let output = workflow(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&output.stdout), "", "{args:?}");
        let stderr = text(&output.stderr);
        assert_eq!(stderr.matches("error: ").count(), 2, "{stderr}");
        assert!(
            stderr.contains(
                "unknown time-of-day attribute `taskrouter.dayofweek` at column 16\n  type == 'a' OR taskrouter.dayofweek == 'Mon'\n                 ^ did you mean `taskrouter.dayOfWeek`? Names are case-sensitive"
            ),
            "{stderr}"
        );
        assert!(
            stderr.contains("unknown key `timout`: did you mean `timeout`?"),
            "{stderr}"
        );
    }
}

#[test]
fn route_takes_a_workspace_document_or_worker_and_queue_lists_not_both() {
    let output = workflow(&[
        "route",
        "workflows/examples/helpline.json",
        "--task",
        "{}",
        "--workspace",
        "workflows/workspace.json",
        "--workers",
        "workers.json",
    ]);
    assert_eq!(output.status.code(), Some(2), "a usage error");
    assert!(
        text(&output.stderr).contains("cannot be used with"),
        "{}",
        text(&output.stderr)
    );
    let broken = TempFile::new("workspace.json", r#"{"sid": "WS1"}"#);
    let output = workflow(&[
        "route",
        "workflows/examples/helpline.json",
        "--task",
        "{}",
        "--workspace",
        broken.path(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let file = broken.path();
    assert_eq!(
        text(&output.stderr),
        format!(
            "{file}:1:1: error: missing key `friendly_name`\n\
             {file}:1:1: error: missing key `activities`\n\
             {file}:1:9: error: sid: `WS1` is not a valid workspace SID: expected `WS` followed by 32 hex digits\n"
        ),
        "every problem of the document, located"
    );
}

#[test]
fn route_without_task_is_a_usage_error() {
    let output = workflow(&["route", "workflows/examples/transfer.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("--task"),
        "{}",
        text(&output.stderr)
    );
}

/// `route --json` of `file` for `task` against the sample workspace (or a `--workers` file
/// alone: every queue then takes every worker), on a Wednesday noon; the answer, after checking
/// the exit code.
fn route_json(file: &str, task: &str, workers: Option<&str>) -> Value {
    let mut args = vec![
        "route",
        file,
        "--task",
        task,
        "--now",
        "2026-12-02T12:00:00Z",
        "--json",
    ];
    match workers {
        Some(workers) => args.extend(["--workers", workers]),
        None => args.extend(WORKSPACE),
    }
    let output = workflow(&args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{file} {task}: {}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

/// A configuration file, a task, its steps ([`walked`]), its `moves` and `end`, and why.
type FallThrough<'a> = (&'a str, &'a str, &'a [&'a str], Value, Value, &'a str);

/// Each step as `filter target enters–leaves leaves_by`.
fn walked(answer: &Value) -> Vec<String> {
    answer["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|step| {
            format!(
                "{} {} {}–{} {}",
                step["filter"].as_str().unwrap_or("?"),
                step["target"].as_str().unwrap_or("?"),
                step["enters"],
                step["leaves"],
                step["leaves_by"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn route_json_follows_a_task_out_of_its_filter_into_the_next_matching_one() {
    // https://www.twilio.com/docs/taskrouter/workflow-configuration: "Timeouts control the flow
    // from one target to the next, or from one filter to the next matching filter (if
    // existing)"; https://www.twilio.com/docs/taskrouter/worker-presence: a task that skips a
    // filter still qualifies for the default_filter.
    let skip_to_default = TempFile::new(
        "skip-to-default.json",
        r#"{"task_routing": {"filters": [
            {"filter_friendly_name": "Support", "expression": "type == 'support'", "targets": [
                {"queue": "WQ00000000000000000000000000000001", "timeout": 45},
                {"queue": "WQ00000000000000000000000000000007", "skip_if": "workers.available == 0", "timeout": 30}
            ]}
        ], "default_filter": {"queue": "WQ00000000000000000000000000000005"}}}"#,
    );
    #[rustfmt::skip]
    let cases: &[FallThrough<'_>] = &[
        ("workflows/examples/overflow.json", r#"{"type": "sales"}"#,
         &["Sales targets[0] 0–60 timeout", "Overflow targets[0] 60–180 timeout", "Voicemail targets[0] 180–null -"],
         serde_json::json!([
             {"age": 60, "from": "Sales", "target": "targets[0]", "because": "timeout", "to": "Overflow"},
             {"age": 180, "from": "Overflow", "target": "targets[0]", "because": "timeout", "to": "Voicemail"}
         ]),
         serde_json::json!({"outcome": "waits", "age": null}),
         "timed out of Sales into Overflow, then into Voicemail (the same expression as Overflow, reached by its timeout)"),
        ("workflows/examples/overflow.json", r#"{"type": "support"}"#,
         &["Support targets[0] 0–60 timeout", "Support targets[1] 60–60 skip_if", "Overflow targets[0] 60–240 timeout", "Voicemail targets[0] 240–null -"],
         serde_json::json!([
             {"age": 60, "from": "Support", "target": "targets[1]", "because": "skip_if", "to": "Overflow"},
             {"age": 240, "from": "Overflow", "target": "targets[0]", "because": "timeout", "to": "Voicemail"}
         ]),
         serde_json::json!({"outcome": "waits", "age": null}),
         "no supervisor available at 60 s: the last Support step is skipped into Overflow"),
        (skip_to_default.path(), r#"{"type": "support"}"#,
         &["Support targets[0] 0–45 timeout", "Support targets[1] 45–45 skip_if", "default_filter default_filter 45–null -"],
         serde_json::json!([{"age": 45, "from": "Support", "target": "targets[1]", "because": "skip_if", "to": "default_filter"}]),
         serde_json::json!({"outcome": "waits", "age": null}),
         "skipped after waiting 45 s, no later filter: default_filter"),
        ("workflows/examples/lifecycle-support-sales.json", r#"{"type": "Sales"}"#,
         &["Sales Calls targets[0] 0–15 timeout"],
         serde_json::json!([{"age": 15, "from": "Sales Calls", "target": "targets[0]", "because": "timeout", "to": null}]),
         serde_json::json!({"outcome": "canceled", "age": 15}),
         "timed out with no later filter: canceled, the default_filter not counting"),
    ];
    for (file, task, steps, moves, end, why) in cases {
        let answer = route_json(file, task, None);
        assert_eq!(walked(&answer), *steps, "{why}");
        assert_eq!(answer["moves"], *moves, "{why}");
        assert_eq!(answer["end"], *end, "{why}");
    }
}

#[test]
fn route_json_ends_a_step_after_one_skipped_at_once_at_its_timeout() {
    let file = TempFile::new(
        "skipped-first.json",
        r#"{"task_routing": {"filters": [{"filter_friendly_name": "f", "expression": "1 == 1", "targets": [
            {"queue": "WQ00000000000000000000000000000007", "skip_if": "workers.available == 0"},
            {"queue": "WQ00000000000000000000000000000002", "timeout": 5},
            {"queue": "WQ00000000000000000000000000000003"}
        ]}], "default_filter": {"queue": "WQ00000000000000000000000000000003"}}}"#,
    );
    let answer = route_json(file.path(), "{}", None);
    assert_eq!(
        walked(&answer),
        [
            "f targets[0] 0–0 skip_if",
            "f targets[1] 0–5 timeout",
            "f targets[2] 5–null -"
        ],
        "the 5 s timeout ends the step although the first step has none"
    );
}

#[test]
fn route_json_reads_worker_properties_and_orders_by_integers_only() {
    let file = TempFile::new(
        "properties.json",
        r#"{"task_routing": {"filters": [{"filter_friendly_name": "f", "expression": "1 == 1", "targets": [
            {"queue": "WQ00000000000000000000000000000003", "expression": "worker.friendly_name != task.excluded", "order_by": "worker.rating DESC"}
        ]}], "default_filter": {"queue": "WQ00000000000000000000000000000003"}}}"#,
    );
    let workers = TempFile::new(
        "rated-workers.json",
        r#"[
            {"sid": "WK00000000000000000000000000000001", "friendly_name": "ann", "attributes": {"rating": 1.5}},
            {"sid": "WK00000000000000000000000000000002", "friendly_name": "ben", "attributes": {"rating": 3.5}},
            {"sid": "WK00000000000000000000000000000003", "friendly_name": "cat", "attributes": {"rating": 2.5}},
            {"sid": "WK00000000000000000000000000000004", "friendly_name": "dan", "attributes": {"rating": 2.5}}
        ]"#,
    );
    let answer = route_json(file.path(), r#"{"excluded": "dan"}"#, Some(workers.path()));
    assert_eq!(
        answer["steps"][0]["workers"],
        serde_json::json!([
            "WK00000000000000000000000000000001",
            "WK00000000000000000000000000000002",
            "WK00000000000000000000000000000003"
        ]),
        "dan excluded by his friendly name; ratings 1.5, 3.5, 2.5 are not integers, so not sorted"
    );
}

#[test]
fn check_refuses_the_bounds_twilio_documents_citing_the_page() {
    let invalid = TempFile::new(
        "bounds.json",
        r#"{"task_routing": {"filters": [{"filter_friendly_name": "f", "expression": "1 == 1", "targets": [
            {"queue": "WQ00000000000000000000000000000001", "timeout": 0}
        ]}], "default_filter": {"queue": "WQ00000000000000000000000000000003", "timeout": 60}}}"#,
    );
    let output = workflow(&["check", invalid.path()]);
    assert_eq!(output.status.code(), Some(1));
    let file = invalid.path();
    assert_eq!(
        text(&output.stderr),
        format!(
            "{file}:2:72: error: filters[0] (`f`), targets[0]: `timeout` is 0: expected a whole number from 1 to 1209600 (seconds: a target's timeout must be a positive integer, https://www.twilio.com/docs/taskrouter/workflow-configuration; no step can outlast the longest task TTL, 14 days)\n\
             {file}:3:91: error: default_filter: `timeout` is not allowed here: the default filter holds a task until its TTL, and it does not count as a subsequent filter for the purposes of a timeout (https://www.twilio.com/docs/taskrouter/workflow-configuration); remove it\n"
        )
    );
}

#[test]
fn check_takes_several_files_fails_warnings_under_strict_and_answers_json() {
    let warned = TempFile::new(
        "no-default.json",
        r#"{"task_routing": {"filters": [{"filter_friendly_name": "all", "expression": "1 == 1", "targets": [{"queue": "WQ00000000000000000000000000000001"}]}]}}"#,
    );
    let example = "workflows/examples/helpline.json";
    let relaxed = workflow(&["check", example, warned.path()]);
    assert_eq!(relaxed.status.code(), Some(0), "{}", text(&relaxed.stderr));
    assert!(
        text(&relaxed.stdout).contains(&format!(
            "ok: {}: 1 filter, 1 target, no default filter (1 warning)\n",
            warned.path()
        )),
        "{}",
        text(&relaxed.stdout)
    );
    let strict = workflow(&["check", "--strict", example, warned.path()]);
    assert_eq!(
        strict.status.code(),
        Some(1),
        "a warning fails under --strict"
    );
    assert!(
        text(&strict.stderr).ends_with(&format!(
            "{}: error: 1 warning with --strict\n",
            warned.path()
        )),
        "{}",
        text(&strict.stderr)
    );
    let json = workflow(&["check", "--json", "--strict", warned.path()]);
    assert_eq!(json.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(document["ok"], false);
    assert_eq!(document["files"][0]["file"], warned.path());
    assert_eq!(document["files"][0]["errors"], serde_json::json!([]));
    assert!(
        document["files"][0]["warnings"][0]["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("task_routing: no `default_filter`")),
        "{document}"
    );
}

#[test]
fn check_does_not_call_a_filter_reached_by_a_timeout_unreachable() {
    let file = TempFile::new(
        "same-expression.json",
        r#"{"task_routing": {"filters": [
            {"filter_friendly_name": "sales", "expression": "type == 'sales'", "targets": [{"queue": "WQ00000000000000000000000000000002", "timeout": 60}]},
            {"filter_friendly_name": "sales overflow", "expression": "type == 'sales'", "targets": [{"queue": "WQ00000000000000000000000000000003"}]},
            {"filter_friendly_name": "sales voicemail", "expression": "type == 'sales'", "targets": [{"queue": "WQ00000000000000000000000000000005"}]}
        ], "default_filter": {"queue": "WQ00000000000000000000000000000003"}}}"#,
    );
    let output = workflow(&["check", file.path()]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stderr),
        format!(
            "{}:4:13: warning: filters[2] (`sales voicemail`): never reached: filters[1] (`sales overflow`) has the same expression and keeps every task it matches; merge the two filters or change one expression\n",
            file.path()
        ),
        "`sales overflow` is reached when `sales` times out; only the filter behind one without a timeout is unreachable"
    );
}
