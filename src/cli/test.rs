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
//! found from the document…: named on stderr with the case and the problem; the other documents
//! still run); 2 when a file named on the command line cannot be read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::callback::AssignmentCallback;
use crate::document::{json_kind, suggest, unknown_keys};
use crate::rules::{Decision, Rules};

use super::callback::{documented_extra, unknown_parameter};
use super::{CallbackArgs, FAILED, OK, Output, USAGE, rules::load_rules, sample_callback};

/// Keys a test document may have.
const DOCUMENT_KEYS: &str = "`rules`, `cases`, `now` or `description`";
/// Keys a case may have.
const CASE_KEYS: &str =
    "`name`, `task`, `worker`, `params`, `extra_params`, `now`, `expect` or `description`";
/// How far the lines under a failing case are indented.
const INDENT: &str = "       ";
/// Keys `expect` may have.
const EXPECT_KEYS: &str = "`rule` and/or `answer`";
/// The rule name of the document's default answer (as [`crate::rules::Decision::rule`] says).
const DEFAULT_RULE: &str = "default";

/// A test document that cannot be run. Each message names where: the case (by name and index)
/// or the document, and what to write.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// The file cannot be read (exit 2; every other variant is a document with errors, exit 1).
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
    /// The text is not JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// A value has the wrong type, or a key is unknown or missing.
    #[error("{at}: {problem}")]
    Shape {
        /// Where: `the test document`, ``case `x` (cases[1])``, ….
        at: String,
        /// What is wrong and what to write.
        problem: String,
    },
    /// The rules document cannot be loaded.
    #[error("`rules`: {0}")]
    Rules(String),
}

impl TestError {
    /// The exit code of a run with this document ([`super::Exit`]).
    fn code(&self) -> u8 {
        match self {
            Self::Read(_) => USAGE,
            Self::Json(_) | Self::Shape { .. } | Self::Rules(_) => FAILED,
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

/// Runs every document and prints the report (module docs).
pub(crate) fn run(files: &[PathBuf]) -> Output {
    // The instant of cases that need none (rules that do not read the time): any will do.
    let now = Timestamp::now();
    let mut output = Output::default();
    let (mut passed, mut failed) = (0_usize, 0_usize);
    let mut code = OK;
    for file in files {
        let shown = file.display();
        match load(file, now) {
            Err(error) => {
                code = code.max(error.code());
                let _ = writeln!(output.stderr, "error: {shown}: {error}");
            }
            Ok((rules, cases)) => {
                let mut reached = vec![false; rules.len() + 1];
                for case in &cases {
                    let decision = rules.decide(&case.callback, case.now);
                    let index = rules
                        .names()
                        .position(|name| name == decision.rule)
                        .unwrap_or(rules.len());
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
                        .is_none_or(|rule| rule == decision.rule);
                    let answer_ok = case.answer.as_ref().is_none_or(|answer| *answer == actual);
                    if rule_ok && answer_ok {
                        passed += 1;
                        let _ = writeln!(output.stdout, "ok   {shown}: {}", case.name);
                        continue;
                    }
                    failed += 1;
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
                    let _ = writeln!(
                        output.stdout,
                        "note: {shown}: no case reaches {}",
                        unreached.join(", ")
                    );
                }
            }
        }
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
    let document: Value =
        serde_json::from_str(&text).map_err(|error| TestError::Json(error.to_string()))?;
    let at = "the test document";
    let document = object(&document, at, "a JSON object with `rules` and `cases`")?;
    check_keys(
        document,
        at,
        &["rules", "cases", "now", "description"],
        DOCUMENT_KEYS,
    )?;
    optional_string(document, "description", at)?;
    let rules_path = match document.get("rules") {
        Some(Value::String(path)) => file.parent().unwrap_or(Path::new("")).join(path),
        Some(other) => {
            return Err(shape(
                at,
                format!("`rules` must be a path, found {}", json_kind(other)),
            ));
        }
        None => {
            return Err(shape(
                at,
                "missing key `rules`: name the rules document, relative to this file, e.g. \"rules\": \"business-hours.json\"",
            ));
        }
    };
    let rules = load_rules(&rules_path).map_err(|error| TestError::Rules(error.to_string()))?;
    let default_now = match document.get("now") {
        None => None,
        Some(value) => Some(instant(value, at)?),
    };
    let specs = match document.get("cases") {
        Some(Value::Array(specs)) if !specs.is_empty() => specs,
        Some(Value::Array(_)) => return Err(shape(at, "`cases` is empty: add at least one case")),
        Some(other) => {
            return Err(shape(
                at,
                format!(
                    "`cases` must be an array of cases, found {}",
                    json_kind(other)
                ),
            ));
        }
        None => return Err(shape(at, "missing key `cases`: list the cases to run")),
    };
    let mut cases: Vec<Case> = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let case = load_case(index, spec, &rules, default_now, clock)?;
        if let Some(first) = cases.iter().position(|known| known.name == case.name) {
            return Err(shape(
                &format!("case `{}` (cases[{index}])", case.name),
                format!("the name is already used by cases[{first}]: case names must be unique"),
            ));
        }
        cases.push(case);
    }
    Ok((rules, cases))
}

fn load_case(
    index: usize,
    spec: &Value,
    rules: &Rules,
    default_now: Option<Timestamp>,
    clock: Timestamp,
) -> Result<Case, TestError> {
    let bare = format!("cases[{index}]");
    let spec = object(spec, &bare, "a case object with `name` and `expect`")?;
    let name = match spec.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        Some(Value::String(_)) => return Err(shape(&bare, "`name` is empty: name every case")),
        Some(other) => {
            return Err(shape(
                &bare,
                format!("`name` must be a string, found {}", json_kind(other)),
            ));
        }
        None => {
            return Err(shape(
                &bare,
                "missing key `name`: name every case, it is printed with its result",
            ));
        }
    };
    let at = format!("case `{name}` ({bare})");
    check_keys(
        spec,
        &at,
        &[
            "name",
            "task",
            "worker",
            "params",
            "extra_params",
            "now",
            "expect",
            "description",
        ],
        CASE_KEYS,
    )?;
    optional_string(spec, "description", &at)?;
    let attributes = |key: &str| match spec.get(key) {
        None => Ok("{}".to_owned()),
        Some(value @ Value::Object(_)) => Ok(value.to_string()),
        Some(other) => Err(shape(
            &at,
            format!(
                "`{key}` must be a JSON object of attributes, found {}",
                json_kind(other)
            ),
        )),
    };
    let (task, worker) = (attributes("task")?, attributes("worker")?);
    let params = parameters(spec, &at, "params")?;
    for (name, _) in &params {
        if let Some(problem) = unknown_parameter(name) {
            return Err(shape(
                &at,
                format!(
                    "`params`: {problem}; a parameter Twilio added since goes in `extra_params`"
                ),
            ));
        }
    }
    let extra_params = parameters(spec, &at, "extra_params")?;
    for (name, _) in &extra_params {
        if let Some(problem) = documented_extra(name, "put it in `params`") {
            return Err(shape(&at, format!("`extra_params`: {problem}")));
        }
    }
    let callback = sample_callback(&CallbackArgs {
        task,
        worker,
        params,
        extra_params,
    })
    .map_err(|error| shape(&at, error.to_string()))
    .and_then(|form| {
        AssignmentCallback::try_from(form).map_err(|error| {
            shape(
                &at,
                format!("the callback is invalid: {error}; check `params`"),
            )
        })
    })?;
    let now = match (spec.get("now"), default_now) {
        (Some(value), _) => instant(value, &at)?,
        (None, Some(now)) => now,
        (None, None) if rules.reads_clock() => {
            return Err(shape(
                &at,
                "missing key `now`: the rules read the time (`taskrouter.` or `schedules.`), so give the case a `now` such as \"2026-12-01T14:30:00Z\", or the document a default one, and the result will not depend on when the test runs",
            ));
        }
        (None, None) => clock,
    };
    let expect = match spec.get("expect") {
        Some(Value::Object(expect)) => expect,
        Some(other) => {
            return Err(shape(
                &at,
                format!(
                    "`expect` must be an object with {EXPECT_KEYS}, found {}",
                    json_kind(other)
                ),
            ));
        }
        None => {
            return Err(shape(
                &at,
                format!("missing key `expect`: give the expected {EXPECT_KEYS}"),
            ));
        }
    };
    let expect_at = format!("{at}: `expect`");
    check_keys(expect, &expect_at, &["rule", "answer"], EXPECT_KEYS)?;
    let rule = match expect.get("rule") {
        None => None,
        Some(Value::String(rule)) => {
            if rule != DEFAULT_RULE && !rules.names().any(|name| name == rule) {
                let names: Vec<String> = rules
                    .names()
                    .chain([DEFAULT_RULE])
                    .map(|name| format!("`{name}`"))
                    .collect();
                return Err(shape(
                    &expect_at,
                    format!(
                        "`rule`: `{rule}` is not a rule of the document: expect one of {}",
                        names.join(", ")
                    ),
                ));
            }
            Some(rule.clone())
        }
        Some(other) => {
            return Err(shape(
                &expect_at,
                format!("`rule` must be a rule's name, found {}", json_kind(other)),
            ));
        }
    };
    let answer = match expect.get("answer") {
        None => None,
        Some(answer @ Value::Object(_)) => Some(answer.clone()),
        Some(other) => {
            return Err(shape(
                &expect_at,
                format!(
                    "`answer` must be the answer's JSON object ({{}} for the deferral), found {}",
                    json_kind(other)
                ),
            ));
        }
    };
    if rule.is_none() && answer.is_none() {
        return Err(shape(&expect_at, format!("give {EXPECT_KEYS}")));
    }
    Ok(Case {
        name,
        callback,
        now,
        rule,
        answer,
    })
}

/// A case's `params` or `extra_params`: callback parameters by name, strings or integers.
fn parameters(
    spec: &Map<String, Value>,
    at: &str,
    key: &str,
) -> Result<Vec<(String, String)>, TestError> {
    let mut params = Vec::new();
    match spec.get(key) {
        None => {}
        Some(Value::Object(map)) => {
            for (parameter, value) in map {
                let value = match value {
                    Value::String(text) => text.clone(),
                    Value::Number(number) if number.is_u64() || number.is_i64() => {
                        number.to_string()
                    }
                    other => {
                        return Err(shape(
                            at,
                            format!(
                                "`{key}`: `{parameter}` must be a string or an integer, found {}",
                                json_kind(other)
                            ),
                        ));
                    }
                };
                params.push((parameter.clone(), value));
            }
        }
        Some(other) => {
            return Err(shape(
                at,
                format!(
                    "`{key}` must be an object of callback parameters, e.g. {{\"TaskAge\": 300}}, found {}",
                    json_kind(other)
                ),
            ));
        }
    }
    Ok(params)
}

fn shape(at: &str, problem: impl Into<String>) -> TestError {
    TestError::Shape {
        at: at.to_owned(),
        problem: problem.into(),
    }
}

fn object<'v>(
    value: &'v Value,
    at: &str,
    expected: &str,
) -> Result<&'v Map<String, Value>, TestError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(shape(
            at,
            format!("expected {expected}, found {}", json_kind(other)),
        )),
    }
}

/// Refuses the first key of `map` not in `allowed`: with the closest allowed key for a typo,
/// else with `expected`, the list.
fn check_keys(
    map: &Map<String, Value>,
    at: &str,
    allowed: &[&'static str],
    expected: &str,
) -> Result<(), TestError> {
    match unknown_keys(map, allowed).next() {
        Some(key) => Err(shape(
            at,
            match suggest(key, allowed.iter().copied()) {
                Some(known) => format!("unknown key `{key}`: did you mean `{known}`?"),
                None => format!("unknown key `{key}`: expected {expected}"),
            },
        )),
        None => Ok(()),
    }
}

fn optional_string(map: &Map<String, Value>, key: &str, at: &str) -> Result<(), TestError> {
    match map.get(key) {
        None | Some(Value::String(_)) => Ok(()),
        Some(other) => Err(shape(
            at,
            format!("`{key}` must be a string, found {}", json_kind(other)),
        )),
    }
}

/// A `now` value: an RFC 3339 timestamp with an offset.
fn instant(value: &Value, at: &str) -> Result<Timestamp, TestError> {
    match value {
        Value::String(text) => {
            super::parse_now(text).map_err(|problem| shape(at, format!("`now`: {problem}")))
        }
        other => Err(shape(
            at,
            format!(
                "`now` must be an RFC 3339 timestamp such as \"2026-12-01T14:30:00Z\", found {}",
                json_kind(other)
            ),
        )),
    }
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
            ("[]".to_owned(), "the test document: expected a JSON object with `rules` and `cases`, found an array", "not an object"),
            (r#"{"cases": []}"#.to_owned(), "the test document: missing key `rules`: name the rules document, relative to this file, e.g. \"rules\": \"business-hours.json\"", "no rules"),
            (format!(r#"{{"rules": "{}", "case": []}}"#, example(dequeue)), "the test document: unknown key `case`: did you mean `cases`?", "a typo at the top"),
            (format!(r#"{{"rules": "{}", "cases": [], "owner": "x"}}"#, example(dequeue)), "the test document: unknown key `owner`: expected `rules`, `cases`, `now` or `description`", "nothing close"),
            ("{".to_owned(), "not valid JSON: EOF while parsing an object at line 1 column 1", "not JSON"),
            (document(dequeue, "[]"), "the test document: `cases` is empty: add at least one case", "no cases"),
            (document(dequeue, r#"[{"expect": {"rule": "default"}}]"#), "cases[0]: missing key `name`: name every case, it is printed with its result", "a case without a name"),
            (document(dequeue, r#"[{"name": "a", "expect": {"rule": "default"}}, {"name": "a", "expect": {"rule": "default"}}]"#), "case `a` (cases[1]): the name is already used by cases[0]: case names must be unique", "a repeated name"),
            (document(dequeue, r#"[{"name": "a"}]"#), "case `a` (cases[0]): missing key `expect`: give the expected `rule` and/or `answer`", "no expectation"),
            (document(dequeue, r#"[{"name": "a", "expect": {}}]"#), "case `a` (cases[0]): `expect`: give `rule` and/or `answer`", "an empty expectation"),
            (document(dequeue, r#"[{"name": "a", "expect": {"answer": "accept"}}]"#), "case `a` (cases[0]): `expect`: `answer` must be the answer's JSON object ({} for the deferral), found a string", "an answer that is not an object"),
            (document(dequeue, r#"[{"name": "a", "task": "voice", "expect": {"rule": "default"}}]"#), "case `a` (cases[0]): `task` must be a JSON object of attributes, found a string", "attributes that are not an object"),
            (document(dequeue, r#"[{"name": "a", "params": {"TaskAge": true}, "expect": {"rule": "default"}}]"#), "case `a` (cases[0]): `params`: `TaskAge` must be a string or an integer, found a boolean", "a boolean parameter"),
            (document(dequeue, r#"[{"name": "a", "params": {"TaskAgee": 300}, "expect": {"rule": "default"}}]"#), "case `a` (cases[0]): `params`: `TaskAgee` is not a parameter of the assignment callback: did you mean `TaskAge`?; a parameter Twilio added since goes in `extra_params`", "a misspelled parameter"),
            (document(dequeue, r#"[{"name": "a", "extra_params": {"TaskAge": 300}, "expect": {"rule": "default"}}]"#), "case `a` (cases[0]): `extra_params`: `TaskAge` is a documented parameter of the assignment callback, not an extra one: put it in `params`", "a documented parameter among the extra ones"),
            (document(dequeue, r#"[{"name": "a", "extra_params": {"Channel": ["voice"]}, "expect": {"rule": "default"}}]"#), "case `a` (cases[0]): `extra_params`: `Channel` must be a string or an integer, found an array", "an extra parameter that is not a string"),
            (document(dequeue, r#"[{"name": "a", "params": {"TaskSid": "WT1"}, "expect": {"rule": "default"}}]"#), "case `a` (cases[0]): the callback is invalid: parameter `TaskSid`: `WT1` is not a valid task SID: expected `WT` followed by 32 hex digits; check `params`", "a malformed SID"),
            (document(dequeue, r#"[{"name": "a", "now": "noon", "expect": {"rule": "default"}}]"#), "case `a` (cases[0]): `now`: `noon` is not an RFC 3339 timestamp with an offset: write e.g. 2026-12-01T14:30:00Z (UTC) or 2026-12-01T09:30:00-05:00", "a malformed instant"),
            (document(hours, r#"[{"name": "a", "expect": {"rule": "default"}}]"#), "case `a` (cases[0]): missing key `now`: the rules read the time (`taskrouter.` or `schedules.`), so give the case a `now` such as \"2026-12-01T14:30:00Z\", or the document a default one, and the result will not depend on when the test runs", "no instant for rules that read the time"),
            (format!(r#"{{"rules": "{}", "cases": [{{"name": "a", "expect": {{"rule": "default"}}}}]}}"#, "/nonexistent/rules.json"), "`rules`: cannot read `/nonexistent/rules.json`: No such file or directory (os error 2)", "rules that cannot be read"),
        ];
        for (json, message, why) in cases {
            let file = TempFile::new("invalid.test.json", &json);
            let error = load(&file.0, Timestamp::UNIX_EPOCH).expect_err(why);
            assert_eq!(error.to_string(), message, "{why}");
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
        let output = run(std::slice::from_ref(&file.0));
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
        let output = run(std::slice::from_ref(&file.0));
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
        let output = run(std::slice::from_ref(&file.0));
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
        let output = run(std::slice::from_ref(&test.0));
        assert_eq!(
            (output.code, output.stderr.as_str()),
            (OK, ""),
            "{}",
            output.stdout
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_exits_2_and_a_document_with_errors_1() {
        let unreadable = run(&[PathBuf::from("/nonexistent/a.test.json")]);
        assert_eq!(unreadable.code, USAGE, "{}", unreadable.stderr);
        let invalid = TempFile::new("invalid.test.json", "{");
        let output = run(std::slice::from_ref(&invalid.0));
        assert_eq!(output.code, FAILED, "{}", output.stderr);
        let both = run(&[invalid.0.clone(), PathBuf::from("/nonexistent/a.test.json")]);
        assert_eq!(both.code, USAGE, "the worse of the two");
    }
}
