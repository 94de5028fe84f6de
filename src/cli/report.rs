//! What the checking commands (`check`, `test`, `workflow check`) found, file by file, printed
//! for people or, with `--json`, in one shape for scripts and editors:
//!
//! ```json
//! {"files": [{"file": "rules.json",
//!             "errors": [{"line": 3, "column": 5, "pointer": "/rules/0", "message": "…"}],
//!             "warnings": []}],
//!  "ok": false}
//! ```
//!
//! `line`, `column` and `pointer` are `null` for a problem that has no place in the text (a file
//! that cannot be read, a test case that failed to run as expected); `message` starts with the
//! place in the document's words (``rules[1] (`vip`), `when`: …``). `ok` is whether the exit
//! code is 0. The exit codes are [`super::Exit`]'s: 1 for errors (and for warnings under
//! `--strict`), 2 when a file cannot be read.

use serde_json::{Value, json};

use crate::document::{Problem, Problems, Severity};

use super::{FAILED, OK, Output, USAGE};

/// One finding: where it is, when known, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// 1-based line and column.
    position: Option<(usize, usize)>,
    /// The RFC 6901 JSON pointer of the value at fault.
    pointer: Option<String>,
    /// The place in the document's words, then the message.
    message: String,
}

impl Finding {
    /// A finding with no place in the text.
    pub(crate) fn unplaced(message: String) -> Self {
        Self {
            position: None,
            pointer: None,
            message,
        }
    }

    /// A finding about the value at `pointer`, which has no line and column to report.
    pub(crate) fn at(pointer: String, message: String) -> Self {
        Self {
            position: None,
            pointer: Some(pointer),
            message,
        }
    }

    fn of(problem: &Problem) -> Self {
        Self {
            position: problem.position,
            pointer: Some(problem.pointer.clone()),
            message: problem.describe(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "line": self.position.map(|(line, _)| line),
            "column": self.position.map(|(_, column)| column),
            "pointer": self.pointer,
            "message": self.message,
        })
    }

    /// `file:line:column: severity: message`, as a compiler prints it.
    fn line(&self, file: &str, severity: Severity) -> String {
        match self.position {
            Some((line, column)) => format!("{file}:{line}:{column}: {severity}: {}", self.message),
            None => format!("{file}: {severity}: {}", self.message),
        }
    }
}

/// What was found in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FileReport {
    /// The path as given.
    pub(crate) file: String,
    /// Errors, in document order.
    pub(crate) errors: Vec<Finding>,
    /// Warnings, in document order.
    pub(crate) warnings: Vec<Finding>,
    /// Whether the file could not be read (exit 2).
    pub(crate) unreadable: bool,
    /// The line printed for a file that passed (`ok: 3 rules`), without the path.
    pub(crate) summary: Option<String>,
}

impl FileReport {
    /// A report for `file`, with nothing found yet.
    pub(crate) fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            ..Self::default()
        }
    }

    /// Adds `problems` (errors and warnings).
    pub(crate) fn add(&mut self, problems: &Problems) {
        for problem in problems.all() {
            match problem.severity {
                Severity::Error => self.errors.push(Finding::of(problem)),
                Severity::Warning => self.warnings.push(Finding::of(problem)),
            }
        }
    }

    /// Whether this file fails the run: an error, or a warning under `--strict`.
    fn fails(&self, strict: bool) -> bool {
        self.unreadable || !self.errors.is_empty() || (strict && !self.warnings.is_empty())
    }
}

/// How the findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Style {
    /// Warnings fail the run (exit 1).
    pub(crate) strict: bool,
    /// One JSON document on standard output instead of lines.
    pub(crate) json: bool,
}

impl Style {
    /// The same style, as JSON.
    pub(crate) fn json(self) -> Self {
        Self { json: true, ..self }
    }
}

/// The output of a run over `files`: for people, each error and warning on standard error as
/// `file:line:column: error: …` and, for each file that passed, its summary on standard output
/// (prefixed by the path when there are several files); or the JSON document. `extra` is text
/// for standard output that only people read (a test run's case lines), before the summaries.
pub(crate) fn render(files: &[FileReport], style: Style, extra: &str) -> Output {
    let code = files
        .iter()
        .map(|file| {
            if file.unreadable {
                USAGE
            } else if file.fails(style.strict) {
                FAILED
            } else {
                OK
            }
        })
        .max()
        .unwrap_or(OK);
    if style.json {
        let document = json!({
            "files": files.iter().map(|file| json!({
                "file": file.file,
                "errors": file.errors.iter().map(Finding::to_json).collect::<Vec<_>>(),
                "warnings": file.warnings.iter().map(Finding::to_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "ok": code == OK,
        });
        return Output {
            stdout: format!("{document}\n"),
            stderr: String::new(),
            code,
        };
    }
    let mut stdout = extra.to_owned();
    let mut stderr = String::new();
    for file in files {
        for error in &file.errors {
            stderr.push_str(&error.line(&file.file, Severity::Error));
            stderr.push('\n');
        }
        for warning in &file.warnings {
            stderr.push_str(&warning.line(&file.file, Severity::Warning));
            stderr.push('\n');
        }
        if file.fails(style.strict) {
            if style.strict && file.errors.is_empty() && !file.unreadable {
                stderr.push_str(&format!(
                    "{}: error: {} {} with --strict\n",
                    file.file,
                    file.warnings.len(),
                    if file.warnings.len() == 1 {
                        "warning"
                    } else {
                        "warnings"
                    }
                ));
            }
            continue;
        }
        if let Some(summary) = &file.summary {
            let warnings = match file.warnings.len() {
                0 => String::new(),
                1 => " (1 warning)".to_owned(),
                count => format!(" ({count} warnings)"),
            };
            if files.len() == 1 {
                stdout.push_str(&format!("ok: {summary}{warnings}\n"));
            } else {
                stdout.push_str(&format!("ok: {}: {summary}{warnings}\n", file.file));
            }
        }
    }
    Output {
        stdout,
        stderr,
        code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn report(file: &str, text: &str) -> FileReport {
        let mut report = FileReport::new(file);
        match Rules::read(file, text) {
            Ok((_, warnings)) => {
                report.add(&warnings);
                report.summary = Some("1 rule".to_owned());
            }
            Err(error) => report.add(error.problems()),
        }
        report
    }

    const ALWAYS: &str = r#"{"rules": [
  {"name": "all", "when": "1 == 1", "instruction": {}},
  {"name": "vip", "when": "vip == true", "instruction": {}}
]}"#;

    #[test]
    fn the_json_shape_lists_every_file_with_its_errors_and_warnings() {
        let files = [
            report("a.json", ALWAYS),
            report("b.json", r#"{"rules": [], "defualt": {}}"#),
            FileReport {
                unreadable: true,
                errors: vec![Finding::unplaced("cannot read it: gone".to_owned())],
                ..FileReport::new("c.json")
            },
        ];
        let output = render(
            &files,
            Style {
                strict: false,
                json: true,
            },
            "ignored",
        );
        let document: Value = serde_json::from_str(&output.stdout).expect("JSON");
        assert_eq!(
            document,
            json!({"files": [
                {"file": "a.json", "errors": [], "warnings": [{"line": 3, "column": 27, "pointer": "/rules/1/when",
                  "message": "rules[1] (`vip`): never reached: rules[0] (`all`) matches every callback (`1 == 1`) and answers it; move this rule above it"}]},
                {"file": "b.json", "errors": [{"line": 1, "column": 15, "pointer": "/defualt",
                  "message": "unknown key `defualt`: did you mean `default`?"}], "warnings": []},
                {"file": "c.json", "errors": [{"line": null, "column": null, "pointer": null,
                  "message": "cannot read it: gone"}], "warnings": []},
            ], "ok": false})
        );
        assert_eq!((output.code, output.stderr.as_str()), (2, ""));
    }

    #[test]
    fn warnings_fail_only_under_strict() {
        let files = [report("a.json", ALWAYS)];
        let relaxed = render(&files, Style::default(), "");
        assert_eq!(
            (relaxed.code, relaxed.stdout.as_str()),
            (0, "ok: 1 rule (1 warning)\n")
        );
        let strict = render(
            &files,
            Style {
                strict: true,
                json: false,
            },
            "",
        );
        assert_eq!((strict.code, strict.stdout.as_str()), (1, ""));
        assert!(
            strict
                .stderr
                .ends_with("a.json: error: 1 warning with --strict\n"),
            "{}",
            strict.stderr
        );
        let strict_json = render(
            &files,
            Style {
                strict: true,
                json: true,
            },
            "",
        );
        assert!(
            strict_json.stdout.ends_with("\"ok\":false}\n"),
            "{}",
            strict_json.stdout
        );
    }
}
