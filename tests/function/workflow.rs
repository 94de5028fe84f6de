//! `taskrouter workflow check` and `route` as a user runs them: every example in
//! `workflows/examples/` checked, and routed against the sample workspace in
//! `workflows/workspace/`, through the compiled binary.

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

const WORKSPACE: [&str; 4] = [
    "--workers",
    "workflows/workspace/workers.json",
    "--queues",
    "workflows/workspace/queues.json",
];

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
fn route_without_task_is_a_usage_error() {
    let output = workflow(&["route", "workflows/examples/transfer.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("--task"),
        "{}",
        text(&output.stderr)
    );
}
