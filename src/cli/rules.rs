//! `check`, `decide` and `eval`: trying assignment rules and expressions without a callback.
//!
//! `eval` evaluates its expression exactly as a rule's `when`: it compiles a one-rule document
//! (with the `schedules` of `--rules`, when given) and decides the sample callback with it, so
//! `eval` and the function can never disagree on what an expression means. A reference it
//! cannot answer (a `schedules.` one without the document that defines the schedule, a
//! `callback.` one in the wrong case) is an error, never a silent `false`.

use std::path::Path;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::callback::AssignmentCallback;
use crate::expression::{Expression, Segment};
use crate::rules::{Chosen, Rules};

use super::report::{self, FileReport, Finding, Style};
use super::{CallbackArgs, CliError, OK, Output, sample_callback};

/// The name of `eval`'s one rule.
const EVAL_RULE: &str = "eval";

/// The root of references to a rules document's schedules (crate::rules).
const SCHEDULES: &str = "schedules";

/// A rules document's text, read from `path`.
fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn compile(path: &Path, text: &str) -> Result<Rules, CliError> {
    Rules::compile_named(&path.display().to_string(), text).map_err(|source| CliError::Rules {
        path: path.display().to_string(),
        source: Box::new(source),
    })
}

/// A rules document: unreadable is [`CliError::Read`] (exit 2), invalid or not JSON is
/// [`CliError::Rules`] (exit 1).
pub(crate) fn load_rules(path: &Path) -> Result<Rules, CliError> {
    compile(path, &read(path)?)
}

/// Checks every document: its errors and warnings, located, and for each without errors how
/// many rules (and schedules) it has ([`super::report`] prints them).
pub(crate) fn check(paths: &[std::path::PathBuf], style: Style) -> Output {
    let files: Vec<FileReport> = paths.iter().map(|path| check_one(path)).collect();
    report::render(&files, style, "")
}

fn check_one(path: &Path) -> FileReport {
    let shown = path.display().to_string();
    let mut report = FileReport::new(&shown);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            report.unreadable = true;
            report
                .errors
                .push(Finding::unplaced(format!("cannot read it: {error}")));
            return report;
        }
    };
    match Rules::read(&shown, &text) {
        Ok((rules, warnings)) => {
            report.add(&warnings);
            let noun = if rules.len() == 1 { "rule" } else { "rules" };
            let schedules = match rules.schedule_count() {
                0 => String::new(),
                1 => ", 1 schedule".to_owned(),
                count => format!(", {count} schedules"),
            };
            report.summary = Some(format!("{} {noun}{schedules}", rules.len()));
        }
        Err(error) => report.add(error.problems()),
    }
    report
}

pub(crate) fn decide(
    rules: Option<&Path>,
    callback: &CallbackArgs,
    now: Timestamp,
) -> Result<Output, CliError> {
    let rules = match rules {
        Some(path) => load_rules(path)?,
        None => Rules::builtin(),
    };
    let callback = AssignmentCallback::try_from(sample_callback(callback)?)?;
    let decision = rules.decide(&callback, now);
    let mut stderr = String::new();
    for skipped in &decision.skipped {
        stderr.push_str(&format!("skipped: {}: {}\n", skipped.rule, skipped.reason));
    }
    stderr.push_str(&format!("rule: {}\n", decision.rule));
    if let Some(deferral) = decision.deferral {
        // The callback answers `{}`; the decision is the decider's, within the deadline.
        stderr.push_str(&format!(
            "deferred: decider {}, within {} s, otherwise {}\n",
            deferral.decider.as_str(),
            deferral.within_seconds,
            deferral.to_json()["otherwise"]
        ));
    }
    Ok(Output {
        stdout: format!("{}\n", decision.body),
        stderr,
        code: OK,
    })
}

pub(crate) fn eval(
    expression: &str,
    rules: Option<&Path>,
    callback: &CallbackArgs,
    now: Timestamp,
) -> Result<Output, CliError> {
    // Syntax first, with the caret of the expression as written.
    let parsed = Expression::parse(expression)?;
    let schedules = match rules {
        Some(path) => {
            let text = read(path)?;
            compile(path, &text)?;
            // The document compiled, so it is a JSON object.
            serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|document| document.get(SCHEDULES).cloned())
        }
        None => {
            if let Some((reference, schedule)) =
                parsed
                    .references()
                    .find_map(|reference| match reference.segments() {
                        [Segment::Key(root), Segment::Key(name), ..] if root == SCHEDULES => {
                            Some((reference.as_str().to_owned(), name.clone()))
                        }
                        _ => None,
                    })
            {
                return Err(CliError::ScheduleWithoutRules {
                    reference,
                    schedule,
                });
            }
            None
        }
    };
    let mut document = json!({
        "rules": [{"name": EVAL_RULE, "when": expression, "instruction": {"instruction": "accept"}}]
    });
    if let Some(schedules) = schedules {
        document[SCHEDULES] = schedules;
    }
    let one_rule = Rules::compile(&document.to_string()).map_err(|error| {
        let shown = rules.map_or_else(String::new, |path| format!(" (in {})", path.display()));
        // The expression parsed, so what is left is about its references: say the first.
        let problem = error
            .problems()
            .errors()
            .next()
            .map_or_else(|| error.to_string(), |problem| problem.message.clone());
        CliError::Reference(format!("{problem}{shown}"))
    })?;
    let callback = AssignmentCallback::try_from(sample_callback(callback)?)?;
    let matched = matches!(one_rule.decide(&callback, now).rule, Chosen::Rule { .. });
    Ok(Output {
        stdout: format!("{matched}\n"),
        ..Output::default()
    })
}

#[cfg(test)]
mod tests {
    use crate::cli::test_support::TempFile;
    use std::path::PathBuf;

    use crate::cli::test_support::params;
    use crate::cli::{CallbackArgs, Cli, Command, Output, parse_now, run};
    use clap::Parser as _;

    fn callback(task: &str, worker: &str, pairs: &[(&str, &str)]) -> CallbackArgs {
        CallbackArgs {
            task: task.to_owned(),
            worker: worker.to_owned(),
            params: params(pairs),
            extra_params: Vec::new(),
        }
    }

    fn example(name: &str) -> PathBuf {
        PathBuf::from(format!(
            "{}/rules/examples/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
    }

    fn decide(rules: Option<PathBuf>, task: &str, worker: &str, pairs: &[(&str, &str)]) -> Output {
        decide_at(rules, task, worker, pairs, None)
    }

    fn decide_at(
        rules: Option<PathBuf>,
        task: &str,
        worker: &str,
        pairs: &[(&str, &str)],
        now: Option<&str>,
    ) -> Output {
        run(
            Command::Decide {
                rules,
                callback: callback(task, worker, pairs),
                now: now.map(|text| parse_now(text).expect("a valid --now")),
            },
            None,
        )
    }

    fn eval(expression: &str, task: &str, worker: &str) -> Output {
        eval_at(expression, task, worker, None)
    }

    fn eval_at(expression: &str, task: &str, worker: &str, now: Option<&str>) -> Output {
        eval_with(expression, None, callback(task, worker, &[]), now)
    }

    fn eval_with(
        expression: &str,
        rules: Option<PathBuf>,
        callback: CallbackArgs,
        now: Option<&str>,
    ) -> Output {
        run(
            Command::Eval {
                expression: expression.to_owned(),
                rules,
                callback,
                now: now.map(|text| parse_now(text).expect("a valid --now")),
            },
            None,
        )
    }

    #[test]
    fn check_counts_the_rules_of_a_valid_document() {
        let output = run(
            Command::Check {
                rules: vec![example("voice-dequeue.json")],
                files: Vec::new(),
                strict: false,
                json: false,
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
                rules: Vec::new(),
                files: vec![example("redirect-to-twiml.json")],
                strict: false,
                json: false,
            },
            None,
        );
        assert_eq!(
            output.stdout, "ok: 1 rule\n",
            "the positional spelling still works"
        );
    }

    #[test]
    fn check_reports_every_problem_with_the_path_line_and_column_and_exit_code_1() {
        let file = TempFile::new(
            "typo.json",
            r#"{"rules": [{"name": "vip", "whn": "1 == 1", "instruction": {}}]}"#,
        );
        let output = run(
            Command::Check {
                rules: vec![file.0.clone()],
                files: Vec::new(),
                strict: false,
                json: false,
            },
            None,
        );
        assert_eq!(output.code, 1);
        assert_eq!(output.stdout, "");
        assert_eq!(
            output.stderr,
            format!(
                "{path}:1:28: error: rules[0] (`vip`): unknown key `whn`: did you mean `when`?\n\
                 {path}:1:12: error: rules[0] (`vip`): missing key `when`: write `\"when\": \"1 == 1\"` \
                 for a rule that matches every callback\n",
                path = file.0.display()
            )
        );
    }

    #[test]
    fn check_reports_a_file_that_cannot_be_read_with_exit_code_2() {
        let output = run(
            Command::Check {
                rules: vec![PathBuf::from("/nonexistent/rules.json")],
                files: Vec::new(),
                strict: false,
                json: false,
            },
            None,
        );
        assert_eq!(output.code, 2);
        assert!(
            output
                .stderr
                .starts_with("/nonexistent/rules.json: error: cannot read it: "),
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
        let decide_with = |pairs: &[(&str, &str)]| {
            run(
                Command::Decide {
                    rules: Some(rules.0.clone()),
                    callback: CallbackArgs {
                        params: params(pairs),
                        extra_params: params(&[("Channel", "voice")]),
                        ..CallbackArgs::default()
                    },
                    now: None,
                },
                None,
            )
        };
        assert_eq!(decide_with(&[]).stderr, "rule: default\n");
        assert_eq!(decide_with(&[("TaskAge", "300")]).stderr, "rule: old\n");
    }

    #[test]
    fn decide_names_the_flag_holding_bad_json_and_the_parameter_holding_a_bad_value_with_exit_code_2()
     {
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
                (message, 2),
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
    fn eval_reads_the_time_of_day_at_now() {
        // Twilio's worked example (docs/taskrouter.md §5): 'THU' is Thursday, `=` is equality.
        let expression = "(taskrouter.dayOfWeek IN ['Mon', 'Tue', 'THU'] AND taskrouter.currentTime > 800 AND taskrouter.currentTime < 1730) OR (taskrouter.dayOfWeek = 'Sat' AND taskrouter.currentTime > 1100 AND taskrouter.currentTime < 1530)";
        #[rustfmt::skip]
        let cases = [
            ("2026-12-03T10:00:00Z", "true\n", "Thursday 10:00 UTC"),
            ("2026-12-03T05:00:00-05:00", "true\n", "the same instant written with an offset"),
            ("2026-12-03T18:00:00Z", "false\n", "Thursday 18:00 UTC"),
            ("2026-12-05T12:00:00Z", "true\n", "Saturday 12:00 UTC"),
            ("2026-12-06T12:00:00Z", "false\n", "Sunday"),
        ];
        for (now, expected, why) in cases {
            let output = eval_at(expression, "{}", "{}", Some(now));
            assert_eq!(
                (output.stdout.as_str(), output.code),
                (expected, 0),
                "{why}: {}",
                output.stderr
            );
        }
    }

    #[test]
    fn without_now_eval_and_decide_read_the_current_time() {
        // Whatever the time, the day of the week is one of the seven.
        let output = eval(
            "taskrouter.dayOfWeek IN ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']",
            "{}",
            "{}",
        );
        assert_eq!(output.stdout, "true\n");
        let rules = TempFile::new(
            "any-day.json",
            r#"{"rules": [{"name": "any-day", "when": "taskrouter.currentTime >= 0 AND taskrouter.currentTime < 2400", "instruction": {"instruction": "accept"}}]}"#,
        );
        let output = decide(Some(rules.0.clone()), "{}", "{}", &[]);
        assert_eq!(output.stderr, "rule: any-day\n");
    }

    #[test]
    fn decide_at_now_reads_schedules_in_their_time_zone() {
        // The same UTC time, 12:30, on both sides of New York's spring change (2026-03-08).
        let business = example("business-hours.json");
        let task = r#"{"call_sid": "CA0123456789abcdef0123456789abcdef", "to": "+18005550199"}"#;
        let worker = r#"{"contact_uri": "client:alice"}"#;
        let before = decide_at(
            Some(business.clone()),
            task,
            worker,
            &[],
            Some("2026-03-06T12:30:00Z"),
        );
        let after = decide_at(
            Some(business),
            task,
            worker,
            &[],
            Some("2026-03-09T12:30:00Z"),
        );
        assert_eq!(
            before.stderr, "rule: after-hours-reject\n",
            "07:30 EST: {}",
            before.stdout
        );
        assert_eq!(
            after.stderr, "rule: office-hours-voice\n",
            "08:30 EDT: {}",
            after.stdout
        );
    }

    #[test]
    fn now_must_be_an_rfc_3339_timestamp_with_an_offset() {
        assert_eq!(
            parse_now("2026-12-01T14:30:00Z"),
            Ok("2026-12-01T14:30:00Z".parse().expect("valid"))
        );
        for bad in [
            "2026-12-01T14:30:00",
            "2026-12-01",
            "yesterday",
            "1764599400",
        ] {
            assert_eq!(
                parse_now(bad),
                Err(format!(
                    "`{bad}` is not an RFC 3339 timestamp with an offset: write e.g. 2026-12-01T14:30:00Z (UTC) or 2026-12-01T09:30:00-05:00"
                )),
                "{bad}"
            );
        }
        let error = Cli::try_parse_from(["taskrouter", "eval", "1 == 1", "--now", "tomorrow"])
            .expect_err("an invalid --now is a usage error");
        assert_eq!(error.exit_code(), 2);
        assert!(
            error
                .to_string()
                .contains("`tomorrow` is not an RFC 3339 timestamp with an offset"),
            "{error}"
        );
    }

    #[test]
    fn check_counts_schedules_when_a_document_has_some() {
        let output = run(
            Command::Check {
                rules: vec![example("business-hours.json")],
                files: Vec::new(),
                strict: false,
                json: false,
            },
            None,
        );
        assert_eq!(
            (output.stdout.as_str(), output.code),
            ("ok: 4 rules, 1 schedule\n", 0),
            "{}",
            output.stderr
        );
    }

    #[test]
    fn eval_refuses_a_schedule_it_cannot_know_and_names_the_flag_that_provides_it() {
        let output = eval("schedules.new_york_office.open == true", "{}", "{}");
        assert_eq!(
            output,
            Output {
                stdout: String::new(),
                stderr: "error: `schedules.new_york_office.open` reads the schedule `new_york_office`, which only a rules document defines: pass the document that defines it with --rules FILE (without one the answer would be a guess)\n".to_owned(),
                code: 2,
            }
        );
    }

    #[test]
    fn eval_reads_schedules_from_the_rules_document_at_now() {
        let business = example("business-hours.json");
        let open = |now: &str| {
            eval_with(
                "schedules.new_york_office.open == true",
                Some(business.clone()),
                CallbackArgs::default(),
                Some(now),
            )
        };
        #[rustfmt::skip]
        let cases = [
            ("2026-12-02T14:30:00Z", "true\n", "a Wednesday, 09:30 in New York"),
            ("2026-12-25T15:00:00Z", "false\n", "Christmas, a holiday of the document"),
            ("2026-03-06T12:30:00Z", "false\n", "07:30 EST: before opening"),
            ("2026-03-09T12:30:00Z", "true\n", "08:30 EDT: the same UTC time after the change"),
        ];
        for (now, expected, why) in cases {
            let output = open(now);
            assert_eq!(
                (output.stdout.as_str(), output.code),
                (expected, 0),
                "{why}: {}",
                output.stderr
            );
        }
        let unknown = eval_with(
            "schedules.paris.open == true",
            Some(business.clone()),
            CallbackArgs::default(),
            Some("2026-12-02T14:30:00Z"),
        );
        assert_eq!(unknown.code, 2);
        assert_eq!(
            unknown.stderr,
            format!(
                "error: `schedules.paris.open` names no schedule: the document defines new_york_office (in {})\n",
                business.display()
            )
        );
    }

    #[test]
    fn eval_reads_callback_parameters_and_refuses_one_in_the_wrong_case() {
        let old = eval_with(
            "callback.TaskAge >= 300",
            None,
            CallbackArgs {
                params: params(&[("TaskAge", "301")]),
                ..CallbackArgs::default()
            },
            None,
        );
        assert_eq!(
            (old.stdout.as_str(), old.code),
            ("true\n", 0),
            "{}",
            old.stderr
        );
        let young = eval("callback.TaskAge >= 300", "{}", "{}");
        assert_eq!(young.stdout, "false\n", "the sample's TaskAge is 0");
        let typo = eval("callback.taskage >= 300", "{}", "{}");
        assert_eq!(
            (typo.stderr.as_str(), typo.code),
            (
                "error: `callback.taskage` does not name a parameter: parameter names are case-sensitive, write `callback.TaskAge`\n",
                2
            )
        );
    }
}
