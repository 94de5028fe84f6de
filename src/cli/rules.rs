//! `check`, `decide` and `eval`: trying assignment rules and expressions without a callback.

use std::path::Path;

use crate::callback::AssignmentCallback;
use crate::expression::{Expression, JsonScope};
use crate::rules::Rules;

use super::{CliError, OK, Output, json_object, sample_callback};

fn load_rules(path: &Path) -> Result<Rules, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Rules::compile(&text).map_err(|source| CliError::Rules {
        path: path.display().to_string(),
        source: Box::new(source),
    })
}

pub(crate) fn check(path: &Path) -> Result<Output, CliError> {
    let rules = load_rules(path)?;
    let noun = if rules.len() == 1 { "rule" } else { "rules" };
    Ok(Output {
        stdout: format!("ok: {} {noun}\n", rules.len()),
        ..Output::default()
    })
}

pub(crate) fn decide(
    rules: Option<&Path>,
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

pub(crate) fn eval(expression: &str, task: &str, worker: &str) -> Result<Output, CliError> {
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::cli::test_support::params;
    use crate::cli::{Command, Output, run};

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
}
