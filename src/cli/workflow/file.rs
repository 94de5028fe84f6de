//! A Workflow configuration file as the `workflow` commands read it: the path, the text exactly
//! as written (what `apply` sends) and the parsed model, or every error of an invalid file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::{CliError, FAILED, Output};
use crate::document::Problems;
use crate::workflow::Workflow;

pub(super) fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// A configuration file: where it is, its text as written, and its model.
pub(crate) struct Local {
    /// The path given.
    pub(crate) path: PathBuf,
    /// The text, exactly as read.
    pub(crate) text: String,
    /// The parsed configuration.
    pub(crate) workflow: Workflow,
    /// Its warnings, each at its line and column.
    pub(crate) warnings: Problems,
}

/// The parsed configuration, or the output listing its errors (exit code 1).
pub(crate) fn load(path: &Path) -> Result<Result<Local, Output>, CliError> {
    let text = read(path)?;
    Ok(match Workflow::check(&path.display().to_string(), &text) {
        Ok((workflow, warnings)) => Ok(Local {
            path: path.to_owned(),
            text,
            workflow,
            warnings,
        }),
        Err(problems) => Err(errors(&problems)),
    })
}

/// Every problem of an invalid file, one `FILE:LINE:COLUMN: error: …` line each (exit code 1).
fn errors(problems: &Problems) -> Output {
    let mut stderr = String::new();
    for problem in problems.all() {
        let _ = writeln!(stderr, "{problem}");
    }
    Output {
        stdout: String::new(),
        stderr,
        code: FAILED,
    }
}
