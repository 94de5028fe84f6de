//! `test`: the test documents that come with rules documents.
//!
//! Rules route customers; they deserve tests that run in CI like any code. A test document names
//! its rules document and lists cases, each a callback (task and worker attributes, callback
//! parameters, an instant) and what it must get: the rule that must match, the exact answer, or
//! both.
//!
//! ```json
//! {
//!   "description": "optional text, ignored",
//!   "rules": "business-hours.json",
//!   "now": "2026-12-02T15:00:00Z",
//!   "cases": [
//!     {
//!       "name": "a call during office hours rings the agent",
//!       "description": "optional text, ignored",
//!       "task": { "call_sid": "CA0123456789abcdef0123456789abcdef", "to": "+18005550199" },
//!       "worker": { "contact_uri": "client:alice" },
//!       "params": { "TaskQueueSid": "WQ0123456789abcdef0123456789abcdef" },
//!       "extra_params": { "BrandNewParameter": "x" },
//!       "now": "2026-12-01T14:30:00Z",
//!       "expect": { "rule": "office-hours-voice", "answer": { "instruction": "accept" } }
//!     }
//!   ]
//! }
//! ```
//!
//! - `rules` (required): the rules document's path, relative to the test document.
//! - `now` (optional, document and case): the RFC 3339 instant the case is decided at; a case's
//!   own wins. When the rules read the time (a `taskrouter.` or `schedules.` reference) every case
//!   needs one, so a result never depends on when the test runs.
//! - `task`, `worker` (JSON objects, default `{}`) and `params` (callback parameters by their
//!   Twilio name, strings or integers) complete the sample callback of `taskrouter decide`. A
//!   name the callback does not document is an error with the closest documented one (a typo
//!   would otherwise be ignored and the case would test something else); a parameter Twilio
//!   added since goes in `extra_params`, which takes any name but the documented ones.
//! - `expect` needs `rule` (a rule of the document, or `default`), `answer` (the exact JSON
//!   body, compared as JSON: `{}` is the deferral; a rule that hands the decision to a decider
//!   answers `{"defer": {…}}`, its `defer` object as written), or both.
//!
//! Output: one line per case, `ok` or `FAIL`, the document and the case's name; under a failure
//! the expected and the actual rule, the expected and the actual answer as a line diff of the
//! two written the same way (keys sorted, pretty-printed, so only real differences show), and
//! any rule skipped on the way. Then a note for each rule (and the default) no case of a
//! document reached, and the summary `N passed, N failed`.
//!
//! Exit codes ([`super::Exit`]): 0 when every case passes; 1 when a case fails or a document has
//! errors (not JSON, an unknown key, a missing `now`, rules that do not compile or cannot be
//! found from the document…: every problem of the document at once, each on stderr as
//! `file:line:column: error:` with the case and what to write, read through
//! [`crate::document::Reader`]; the other documents still run); 2 when a file named on the
//! command line cannot be read. `--json` prints the findings in `check --json`'s shape.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::Value;

use crate::callback::AssignmentCallback;
use crate::document::{Keys, Node, Problems, Reader};
use crate::rules::{Chosen, Decision, Rules};

use super::callback::{documented_extra, unknown_parameter};
use super::report::{self, FileReport, Finding, Style};
use super::{CallbackArgs, FAILED, OK, Output, USAGE, rules::load_rules, sample_callback};

/// How far the lines under a failing case are indented.
const INDENT: &str = "       ";
/// What `expect` may hold, for messages.
const EXPECT_KEYS: &str = "`rule` and/or `answer`";
/// The rule name of the document's default answer (as [`crate::rules::Chosen::name`] says).
const DEFAULT_RULE: &str = "default";

/// The keys of a test document; `rules` and `cases` are required, with their own hints.
const DOCUMENT: Keys = Keys {
    what: "a test document",
    required: &[],
    optional: &["rules", "cases", "now", "description"],
};
/// The keys of a case; `name` and `expect` are required, with their own hints.
const CASE: Keys = Keys {
    what: "a case",
    required: &[],
    optional: &[
        "name",
        "task",
        "worker",
        "params",
        "extra_params",
        "now",
        "expect",
        "description",
    ],
};
/// The keys of a case's `expect`.
const EXPECT: Keys = Keys {
    what: "`expect`",
    required: &[],
    optional: &["rule", "answer"],
};

/// A test document that cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// The file cannot be read (exit 2).
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
    /// Every problem of the document, each with its line and column (exit 1).
    #[error("{0}")]
    Document(Problems),
}

impl TestError {
    /// The exit code of a run with this document ([`super::Exit`]).
    fn code(&self) -> u8 {
        match self {
            Self::Read(_) => USAGE,
            Self::Document(_) => FAILED,
        }
    }
}

/// One case, ready to run.
#[derive(Debug)]
struct Case {
    name: String,
    callback: AssignmentCallback,
    now: Timestamp,
    rule: Option<String>,
    answer: Option<Value>,
}

/// Runs every document and prints the report (module docs); with `json`, the findings in the
/// shape `check` prints ([`super::report`]): a document's errors and each failed case as
/// errors, each rule no case reaches as a warning.
pub(crate) fn run(files: &[PathBuf], json: bool) -> Output {
    let mut reports = Vec::with_capacity(files.len());
    // The instant of cases that need none (rules that do not read the time): any will do.
    let now = Timestamp::now();
    let mut output = Output::default();
    let (mut passed, mut failed) = (0_usize, 0_usize);
    let mut code = OK;
    for file in files {
        let shown = file.display();
        let mut report = FileReport::new(&shown.to_string());
        match load(file, now) {
            Err(error) => {
                code = code.max(error.code());
                match &error {
                    TestError::Read(_) => {
                        report.unreadable = true;
                        report.errors.push(Finding::unplaced(error.to_string()));
                        let _ = writeln!(output.stderr, "{shown}: error: {error}");
                    }
                    // Each problem already says `file:line:column: error:`.
                    TestError::Document(problems) => {
                        report.add(problems);
                        let _ = writeln!(output.stderr, "{problems}");
                    }
                }
            }
            Ok((rules, cases)) => {
                let mut reached = vec![false; rules.len() + 1];
                for (position, case) in cases.iter().enumerate() {
                    let decision = rules.decide(&case.callback, case.now);
                    let index = match decision.rule {
                        Chosen::Rule { index, .. } => index,
                        Chosen::Default => rules.len(),
                    };
                    reached[index] = true;
                    // A rule that defers is expected as `{"defer": {…}}`, the object it was written
                    // with, not as the `{}` the callback answers.
                    let actual: Value = match decision.deferral {
                        Some(deferral) => serde_json::json!({"defer": deferral.to_json()}),
                        None => serde_json::from_str(&decision.body).unwrap_or_default(),
                    };
                    let rule_ok = case
                        .rule
                        .as_deref()
                        .is_none_or(|rule| rule == decision.rule.name());
                    let answer_ok = case.answer.as_ref().is_none_or(|answer| *answer == actual);
                    if rule_ok && answer_ok {
                        passed += 1;
                        let _ = writeln!(output.stdout, "ok   {shown}: {}", case.name);
                        continue;
                    }
                    failed += 1;
                    report.errors.push(Finding::at(
                        format!("/cases/{position}"),
                        format!(
                            "case `{}` (cases[{position}]): failed: rule `{}`, answer {}",
                            case.name,
                            decision.rule.name(),
                            decision.body
                        ),
                    ));
                    let _ = writeln!(output.stdout, "FAIL {shown}: {}", case.name);
                    report_failure(&mut output.stdout, case, &decision, &actual);
                }
                let unreached: Vec<String> = rules
                    .names()
                    .chain([DEFAULT_RULE])
                    .zip(&reached)
                    .filter(|(_, reached)| !**reached)
                    .map(|(name, _)| format!("`{name}`"))
                    .collect();
                if !unreached.is_empty() {
                    report.warnings.push(Finding::unplaced(format!(
                        "no case reaches {}",
                        unreached.join(", ")
                    )));
                    let _ = writeln!(
                        output.stdout,
                        "note: {shown}: no case reaches {}",
                        unreached.join(", ")
                    );
                }
            }
        }
        reports.push(report);
    }
    if json {
        return report::render(&reports, Style::default().json(), "");
    }
    let _ = writeln!(output.stdout, "{passed} passed, {failed} failed");
    if failed > 0 {
        code = code.max(FAILED);
    }
    output.code = code;
    output
}

/// The lines under a failing case: the rules expected and found, the answers as a diff, and
/// the rules skipped on the way.
fn report_failure(out: &mut String, case: &Case, decision: &Decision<'_>, actual: &Value) {
    if let Some(rule) = &case.rule {
        let _ = writeln!(out, "{INDENT}expected: rule `{rule}`");
    }
    match &case.answer {
        None => {
            let _ = writeln!(
                out,
                "{INDENT}actual:   rule `{}`, answer {}",
                decision.rule, decision.body
            );
        }
        Some(answer) => {
            let _ = writeln!(out, "{INDENT}actual:   rule `{}`", decision.rule);
            if answer == actual {
                let _ = writeln!(out, "{INDENT}answer:   as expected");
            } else {
                let _ = writeln!(out, "{INDENT}answer:   - expected, + actual");
                out.push_str(&answer_diff(answer, actual));
            }
        }
    }
    for skipped in &decision.skipped {
        let _ = writeln!(
            out,
            "{INDENT}skipped:  rule `{}`: {}",
            skipped.rule, skipped.reason
        );
    }
}

/// The two answers written the same way (keys sorted, as `serde_json`'s map keeps them, and
/// pretty-printed), then a line diff: a key order or a spacing never shows as a difference.
fn answer_diff(expected: &Value, actual: &Value) -> String {
    let pretty = |value: &Value| {
        let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
        text.push('\n');
        text
    };
    let (expected, actual) = (pretty(expected), pretty(actual));
    let mut out = String::new();
    for change in similar::TextDiff::from_lines(&expected, &actual).iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        let _ = write!(out, "{INDENT}{sign} {change}");
    }
    out
}

/// Reads a test document, its rules, and every case's callback.
fn load(file: &Path, clock: Timestamp) -> Result<(Rules, Vec<Case>), TestError> {
    let text = std::fs::read_to_string(file).map_err(TestError::Read)?;
    let (reader, value) =
        Reader::parse(&file.display().to_string(), &text).map_err(TestError::Document)?;
    let loaded = read_document(&reader.root(&value), file, clock);
    let problems = reader.finish();
    match loaded {
        Some(loaded) if !problems.has_errors() => Ok(loaded),
        _ => Err(TestError::Document(problems)),
    }
}

/// The document at `root`, every problem recorded; `None` when there was any.
fn read_document(root: &Node<'_>, file: &Path, clock: Timestamp) -> Option<(Rules, Vec<Case>)> {
    let document = root.object(&DOCUMENT)?;
    if let Some(description) = document.get("description") {
        description.string();
    }
    let rules = document
        .require(
            "rules",
            "name the rules document, relative to this file, e.g. \"rules\": \"business-hours.json\"",
        )
        .and_then(|node| {
            let Some(path) = node.value().as_str() else {
                node.wrong_type("a path");
                return None;
            };
            let path = file.parent().unwrap_or(Path::new("")).join(path);
            load_rules(&path).map_err(|error| node.error(error)).ok()
        });
    let default_now = document.get("now").map(|node| instant(&node));
    let specs = document
        .require("cases", "list the cases to run")
        .and_then(|node| {
            let specs = node.array()?;
            if specs.is_empty() {
                node.error("is empty: add at least one case");
                return None;
            }
            Some(specs)
        });
    // Without the rules, cases are still read for their shape, against no rules.
    let mut cases: Vec<Case> = Vec::new();
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut ok = true;
    for (index, spec) in specs.into_iter().flatten().enumerate() {
        match read_case(
            index,
            spec,
            rules.as_ref(),
            default_now.flatten(),
            clock,
            &mut names,
        ) {
            Some(case) => cases.push(case),
            None => ok = false,
        }
    }
    if default_now.is_some_and(|now| now.is_none()) || !ok {
        return None;
    }
    Some((rules?, cases))
}

/// Case `index` at `node`, checked against `rules` when they loaded; `names` holds the names of
/// the cases before it.
fn read_case<'r>(
    index: usize,
    node: Node<'r>,
    rules: Option<&Rules>,
    default_now: Option<Timestamp>,
    clock: Timestamp,
    names: &mut HashMap<&'r str, usize>,
) -> Option<Case> {
    let written = node.value().get("name").and_then(Value::as_str);
    let place = match written {
        Some(name) if !name.trim().is_empty() => format!("cases[{index}] (`{name}`)"),
        _ => format!("cases[{index}]"),
    };
    let spec = node.named(place).object(&CASE)?;
    if let Some(description) = spec.get("description") {
        description.string();
    }
    let name = spec
        .require("name", "name every case, it is printed with its result")
        .and_then(|node| {
            let name = node.string()?;
            if name.trim().is_empty() {
                node.error("is empty: name every case");
                return None;
            }
            if let Some(&first) = names.get(name) {
                node.error(format_args!(
                    "the name is already used by cases[{first}]: case names must be unique"
                ));
                return None;
            }
            names.insert(name, index);
            Some(name.to_owned())
        });
    let attributes = |key: &str| match spec.get(key) {
        None => Some("{}".to_owned()),
        Some(node) if node.value().is_object() => Some(node.value().to_string()),
        Some(node) => {
            node.wrong_type("a JSON object of attributes");
            None
        }
    };
    let (task, worker) = (attributes("task"), attributes("worker"));
    let params = spec.get("params").map_or(Some(Vec::new()), |node| {
        let params = parameters(&node)?;
        let mut ok = true;
        for (name, _) in &params {
            if let Some(problem) = unknown_parameter(name) {
                node.error(format_args!(
                    "{problem}; a parameter Twilio added since goes in `extra_params`"
                ));
                ok = false;
            }
        }
        ok.then_some(params)
    });
    let extra_params = spec.get("extra_params").map_or(Some(Vec::new()), |node| {
        let params = parameters(&node)?;
        let mut ok = true;
        for (name, _) in &params {
            if let Some(problem) = documented_extra(name, "put it in `params`") {
                node.error(problem);
                ok = false;
            }
        }
        ok.then_some(params)
    });
    let callback = match (task, worker, params, extra_params) {
        (Some(task), Some(worker), Some(params), Some(extra_params)) => {
            let args = CallbackArgs {
                task,
                worker,
                params,
                extra_params,
            };
            match sample_callback(&args).map(AssignmentCallback::try_from) {
                Ok(Ok(callback)) => Some(callback),
                Ok(Err(error)) => {
                    spec.node().error(format_args!(
                        "the callback is invalid: {error}; check `params`"
                    ));
                    None
                }
                Err(error) => {
                    spec.node().error(error);
                    None
                }
            }
        }
        _ => None,
    };
    let now = match (spec.get("now"), default_now) {
        (Some(node), _) => instant(&node),
        (None, Some(now)) => Some(now),
        (None, None) if rules.is_some_and(Rules::reads_clock) => {
            spec.node().error(
                "missing key `now`: the rules read the time (`taskrouter.` or `schedules.`), so \
                 give the case a `now` such as \"2026-12-01T14:30:00Z\", or the document a \
                 default one, and the result will not depend on when the test runs",
            );
            None
        }
        (None, None) => Some(clock),
    };
    let expect = spec
        .require("expect", &format!("give the expected {EXPECT_KEYS}"))
        .and_then(|node| read_expect(&node, rules));
    let (rule, answer) = expect?;
    Some(Case {
        name: name?,
        callback: callback?,
        now: now?,
        rule,
        answer,
    })
}

/// A case's `expect`: the rule that must answer (checked against `rules` when they loaded), the
/// exact answer, or both.
fn read_expect(node: &Node<'_>, rules: Option<&Rules>) -> Option<(Option<String>, Option<Value>)> {
    let expect = node.object(&EXPECT)?;
    let rule = match expect.get("rule") {
        None => Some(None),
        Some(node) => node.string().and_then(|rule| {
            let Some(rules) = rules else {
                return Some(Some(rule.to_owned()));
            };
            if rule == DEFAULT_RULE || rules.names().any(|name| name == rule) {
                return Some(Some(rule.to_owned()));
            }
            let names: Vec<String> = rules
                .names()
                .chain([DEFAULT_RULE])
                .map(|name| format!("`{name}`"))
                .collect();
            node.error(format_args!(
                "`{rule}` is not a rule of the document: expect one of {}",
                names.join(", ")
            ));
            None
        }),
    };
    let answer = match expect.get("answer") {
        None => Some(None),
        Some(node) if node.value().is_object() => Some(Some(node.value().clone())),
        Some(node) => {
            node.wrong_type("the answer's JSON object ({} for the deferral)");
            None
        }
    };
    let (rule, answer) = (rule?, answer?);
    if rule.is_none() && answer.is_none() {
        node.error(format_args!("give {EXPECT_KEYS}"));
        return None;
    }
    Some((rule, answer))
}

/// A case's `params` or `extra_params` at `node`: callback parameters by name, strings or
/// integers.
fn parameters(node: &Node<'_>) -> Option<Vec<(String, String)>> {
    let Some(map) = node.value().as_object() else {
        node.wrong_type("an object of callback parameters, e.g. {\"TaskAge\": 300}");
        return None;
    };
    let mut params = Vec::new();
    let mut ok = true;
    for parameter in map.keys() {
        let Some(value) = node.member(parameter) else {
            continue;
        };
        match value.value() {
            Value::String(text) => params.push((parameter.clone(), text.clone())),
            Value::Number(number) if number.is_u64() || number.is_i64() => {
                params.push((parameter.clone(), number.to_string()));
            }
            _ => {
                value.wrong_type("a string or an integer");
                ok = false;
            }
        }
    }
    ok.then_some(params)
}

/// A `now` value: an RFC 3339 timestamp with an offset.
fn instant(node: &Node<'_>) -> Option<Timestamp> {
    let Some(text) = node.value().as_str() else {
        node.wrong_type("an RFC 3339 timestamp such as \"2026-12-01T14:30:00Z\"");
        return None;
    };
    super::parse_now(text)
        .map_err(|problem| node.error(problem))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::test_support::TempFile;

    fn example(name: &str) -> String {
        format!("{}/rules/examples/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    /// A test document for `rules` with `cases` (JSON text).
    fn document(rules: &str, cases: &str) -> String {
        format!(r#"{{"rules": "{}", "cases": {cases}}}"#, example(rules))
    }

    #[test]
    fn every_mistake_in_a_test_document_is_named_with_its_case() {
        let dequeue = "voice-dequeue.json";
        let hours = "business-hours.json";
        #[rustfmt::skip]
        let cases = [
            ("[]".to_owned(), "expected a test document (an object), found an array", "not an object"),
            (r#"{"cases": []}"#.to_owned(), "missing key `rules`: name the rules document, relative to this file, e.g. \"rules\": \"business-hours.json\"", "no rules"),
            (format!(r#"{{"rules": "{}", "case": []}}"#, example(dequeue)), "unknown key `case`: did you mean `cases`?", "a typo at the top"),
            (format!(r#"{{"rules": "{}", "cases": [], "owner": "x"}}"#, example(dequeue)), "unknown key `owner`: a test document has `rules`, `cases`, `now` or `description`", "nothing close"),
            ("{".to_owned(), "not valid JSON: EOF while parsing an object", "not JSON"),
            (document(dequeue, "[]"), "cases: is empty: add at least one case", "no cases"),
            (document(dequeue, r#"[{"expect": {"rule": "default"}}]"#), "cases[0]: missing key `name`: name every case, it is printed with its result", "a case without a name"),
            (document(dequeue, r#"[{"name": "a", "expect": {"rule": "default"}}, {"name": "a", "expect": {"rule": "default"}}]"#), "cases[1] (`a`), `name`: the name is already used by cases[0]: case names must be unique", "a repeated name"),
            (document(dequeue, r#"[{"name": "a"}]"#), "cases[0] (`a`): missing key `expect`: give the expected `rule` and/or `answer`", "no expectation"),
            (document(dequeue, r#"[{"name": "a", "expect": {}}]"#), "cases[0] (`a`), `expect`: give `rule` and/or `answer`", "an empty expectation"),
            (document(dequeue, r#"[{"name": "a", "expect": {"answer": "accept"}}]"#), "cases[0] (`a`), `expect`, `answer`: expected the answer's JSON object ({} for the deferral), found a string", "an answer that is not an object"),
            (document(dequeue, r#"[{"name": "a", "task": "voice", "expect": {"rule": "default"}}]"#), "cases[0] (`a`), `task`: expected a JSON object of attributes, found a string", "attributes that are not an object"),
            (document(dequeue, r#"[{"name": "a", "params": {"TaskAge": true}, "expect": {"rule": "default"}}]"#), "cases[0] (`a`), `params`, `TaskAge`: expected a string or an integer, found a boolean", "a boolean parameter"),
            (document(dequeue, r#"[{"name": "a", "params": {"TaskAgee": 300}, "expect": {"rule": "default"}}]"#), "cases[0] (`a`), `params`: `TaskAgee` is not a parameter of the assignment callback: did you mean `TaskAge`?; a parameter Twilio added since goes in `extra_params`", "a misspelled parameter"),
            (document(dequeue, r#"[{"name": "a", "extra_params": {"TaskAge": 300}, "expect": {"rule": "default"}}]"#), "cases[0] (`a`), `extra_params`: `TaskAge` is a documented parameter of the assignment callback, not an extra one: put it in `params`", "a documented parameter among the extra ones"),
            (document(dequeue, r#"[{"name": "a", "extra_params": {"Channel": ["voice"]}, "expect": {"rule": "default"}}]"#), "cases[0] (`a`), `extra_params`, `Channel`: expected a string or an integer, found an array", "an extra parameter that is not a string"),
            (document(dequeue, r#"[{"name": "a", "params": {"TaskSid": "WT1"}, "expect": {"rule": "default"}}]"#), "cases[0] (`a`): the callback is invalid: parameter `TaskSid`: `WT1` is not a valid task SID: expected `WT` followed by 32 hex digits; check `params`", "a malformed SID"),
            (document(dequeue, r#"[{"name": "a", "now": "noon", "expect": {"rule": "default"}}]"#), "cases[0] (`a`), `now`: `noon` is not an RFC 3339 timestamp with an offset: write e.g. 2026-12-01T14:30:00Z (UTC) or 2026-12-01T09:30:00-05:00", "a malformed instant"),
            (document(hours, r#"[{"name": "a", "expect": {"rule": "default"}}]"#), "cases[0] (`a`): missing key `now`: the rules read the time (`taskrouter.` or `schedules.`), so give the case a `now` such as \"2026-12-01T14:30:00Z\", or the document a default one, and the result will not depend on when the test runs", "no instant for rules that read the time"),
            (format!(r#"{{"rules": "{}", "cases": [{{"name": "a", "expect": {{"rule": "default"}}}}]}}"#, "/nonexistent/rules.json"), "rules: cannot read `/nonexistent/rules.json`: No such file or directory (os error 2)", "rules that cannot be read"),
        ];
        for (json, message, why) in cases {
            let file = TempFile::new("invalid.test.json", &json);
            let error = load(&file.0, Timestamp::UNIX_EPOCH).expect_err(why);
            let shown = match &error {
                TestError::Document(problems) => {
                    let problem = &problems.errors().next().expect("an error");
                    if problem.place.is_empty() {
                        problem.message.clone()
                    } else {
                        format!("{}: {}", problem.place, problem.message)
                    }
                }
                TestError::Read(_) => error.to_string(),
            };
            assert_eq!(shown, message, "{why}");
        }
    }

    #[test]
    fn a_case_passes_on_the_rule_alone_on_the_answer_alone_or_on_both() {
        let call = r#"{"call_sid": "CA0123456789abcdef0123456789abcdef", "to": "+18005550199"}"#;
        let dequeue = r#"{"instruction": "dequeue", "post_work_activity_sid": "WA00000000000000000000000000000000", "from": "+18005550199", "to": "client:alice"}"#;
        let file = TempFile::new(
            "kinds.test.json",
            &document(
                "voice-dequeue.json",
                &format!(
                    r#"[
                    {{"name": "rule", "task": {call}, "worker": {{"contact_uri": "client:alice"}}, "expect": {{"rule": "dequeue-from-dialed-number"}}}},
                    {{"name": "answer, keys in any order", "task": {call}, "worker": {{"contact_uri": "client:alice"}}, "expect": {{"answer": {dequeue}}}}},
                    {{"name": "both", "task": {call}, "worker": {{"contact_uri": "client:alice"}}, "expect": {{"rule": "dequeue-from-dialed-number", "answer": {dequeue}}}}},
                    {{"name": "wrong answer", "task": {call}, "worker": {{"contact_uri": "client:alice"}}, "expect": {{"rule": "dequeue-from-dialed-number", "answer": {{}}}}}}
                ]"#
                ),
            ),
        );
        let output = run(std::slice::from_ref(&file.0), false);
        let shown = file.0.display();
        assert_eq!(output.code, FAILED, "{}", output.stderr);
        assert_eq!(
            output.stdout,
            format!(
                "ok   {shown}: rule\n\
                 ok   {shown}: answer, keys in any order\n\
                 ok   {shown}: both\n\
                 FAIL {shown}: wrong answer\n\
                 \x20      expected: rule `dequeue-from-dialed-number`\n\
                 \x20      actual:   rule `dequeue-from-dialed-number`\n\
                 \x20      answer:   - expected, + actual\n\
                 \x20      - {{}}\n\
                 \x20      + {{\n\
                 \x20      +   \"from\": \"+18005550199\",\n\
                 \x20      +   \"instruction\": \"dequeue\",\n\
                 \x20      +   \"post_work_activity_sid\": \"WA00000000000000000000000000000000\",\n\
                 \x20      +   \"to\": \"client:alice\"\n\
                 \x20      + }}\n\
                 note: {shown}: no case reaches `dequeue-from-called-number`, `voice-call-not-dequeued`, `default`\n\
                 3 passed, 1 failed\n"
            )
        );
    }

    #[test]
    fn a_failure_lists_the_rules_skipped_on_the_way() {
        let file = TempFile::new(
            "skipped.test.json",
            &document(
                "voice-dequeue.json",
                r#"[{"name": "no contact", "task": {"call_sid": "CA0123456789abcdef0123456789abcdef"}, "expect": {"rule": "default"}}]"#,
            ),
        );
        let output = run(std::slice::from_ref(&file.0), false);
        let shown = file.0.display();
        assert_eq!(output.code, FAILED);
        assert_eq!(
            output.stdout,
            format!(
                "FAIL {shown}: no contact\n\
                 \x20      expected: rule `default`\n\
                 \x20      actual:   rule `voice-call-not-dequeued`, answer {{}}\n\
                 \x20      skipped:  rule `dequeue-from-dialed-number`: `{{{{task.to}}}}` in `from` is missing or null\n\
                 \x20      skipped:  rule `dequeue-from-called-number`: `{{{{task.called}}}}` in `from` is missing or null\n\
                 note: {shown}: no case reaches `dequeue-from-dialed-number`, `dequeue-from-called-number`, `default`\n\
                 0 passed, 1 failed\n"
            )
        );
    }

    #[test]
    fn a_failing_answer_is_shown_as_a_diff_of_the_two_written_the_same_way() {
        // Expected with its keys in another order than the answer's, and one value wrong: only
        // that value shows as a difference.
        let file = TempFile::new(
            "diff.test.json",
            &document(
                "reject-missing-skill.json",
                r#"[{"name": "rejected into the wrong activity",
                     "task": {"required_skill": "billing"}, "worker": {"skills": ["sales"]},
                     "expect": {"answer": {"activity_sid": "WA00000000000000000000000000000009", "instruction": "reject"}}}]"#,
            ),
        );
        let output = run(std::slice::from_ref(&file.0), false);
        assert_eq!(output.code, FAILED, "{}", output.stderr);
        let diff: Vec<&str> = output
            .stdout
            .lines()
            .skip_while(|line| !line.contains("answer:"))
            .take_while(|line| line.starts_with(INDENT))
            .collect();
        assert_eq!(
            diff,
            [
                "       answer:   - expected, + actual",
                "         {",
                "       -   \"activity_sid\": \"WA00000000000000000000000000000009\",",
                "       +   \"activity_sid\": \"WA00000000000000000000000000000000\",",
                "           \"instruction\": \"reject\"",
                "         }",
            ],
            "{}",
            output.stdout
        );
    }

    #[test]
    fn unknown_parameters_are_errors_and_extra_ones_reach_the_callback() {
        let rules = TempFile::new(
            "extra.json",
            r#"{"rules": [{"name": "voice", "when": "callback.Channel == 'voice' AND callback.TaskAge > 30", "instruction": {"instruction": "accept"}}]}"#,
        );
        let test = TempFile::new(
            "extra.test.json",
            &format!(
                r#"{{"rules": "{}", "cases": [
                    {{"name": "an extra parameter is read", "params": {{"TaskAge": 31}}, "extra_params": {{"Channel": "voice"}}, "expect": {{"rule": "voice"}}}},
                    {{"name": "without it", "params": {{"TaskAge": 31}}, "expect": {{"rule": "default"}}}}
                ]}}"#,
                rules.0.display()
            ),
        );
        let output = run(std::slice::from_ref(&test.0), false);
        assert_eq!(
            (output.code, output.stderr.as_str()),
            (OK, ""),
            "{}",
            output.stdout
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_exits_2_and_a_document_with_errors_1() {
        let unreadable = run(&[PathBuf::from("/nonexistent/a.test.json")], false);
        assert_eq!(unreadable.code, USAGE, "{}", unreadable.stderr);
        let invalid = TempFile::new("invalid.test.json", "{");
        let output = run(std::slice::from_ref(&invalid.0), false);
        assert_eq!(output.code, FAILED, "{}", output.stderr);
        let both = run(
            &[invalid.0.clone(), PathBuf::from("/nonexistent/a.test.json")],
            false,
        );
        assert_eq!(both.code, USAGE, "the worse of the two");
    }
}
