//! The tasks file of a replay: one task a line, read one record at a time so a week of traffic
//! never sits in memory.
//!
//! ```csv
//! arrival_seconds,attributes,handle_seconds,patience_seconds,channel
//! 0.0,"{""language"": ""es""}",240,60,voice
//! 12.5,"{""language"": ""en""}",180,,
//! ```
//!
//! - `arrival_seconds`: when the task is created, in seconds from the start of the replay; the
//!   lines are in arrival order (equal arrivals keep file order).
//! - `attributes`: the task's attributes, a JSON object (CSV quoting doubles its quotes).
//! - `handle_seconds`: how long the worker is busy once the task is assigned.
//! - `patience_seconds` (optional column, empty for none): the caller hangs up after waiting
//!   this long, and the task is canceled if it is still waiting.
//! - `channel` (optional column): the task channel's unique name, `default` when empty.
//!
//! Columns are found by name in the header, in any order; unknown columns are refused so a
//! misspelt `patience_second` is not silently ignored. Seconds may have fractions and are kept
//! to the millisecond.

use std::io::Read;

use serde_json::{Map, Value};

/// The columns a tasks file must have.
pub const REQUIRED: [&str; 3] = ["arrival_seconds", "attributes", "handle_seconds"];
/// The columns it may have.
pub const OPTIONAL: [&str; 2] = ["patience_seconds", "channel"];

/// The longest time a tasks file can name, in seconds: a year, far beyond any replay, so the
/// millisecond clock never overflows.
const MAX_SECONDS: f64 = 366.0 * 86_400.0;

/// One task of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// The line it was read from (1 is the header).
    pub line: u64,
    /// When it arrives, in milliseconds from the start.
    pub arrival_ms: u64,
    /// Its attributes, a JSON object.
    pub attributes: Value,
    /// How long its worker is busy with it, in milliseconds.
    pub handle_ms: u64,
    /// How long its caller waits before hanging up, in milliseconds.
    pub patience_ms: Option<u64>,
    /// Its channel's unique name.
    pub channel: String,
}

/// A tasks file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TasksError {
    /// The header lacks a required column or names an unknown one.
    #[error("{file}: line 1: {message}")]
    Header {
        /// The file, as the user named it.
        file: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// A line that is not a valid task.
    #[error("{file}: line {line}: {message}")]
    Line {
        /// The file, as the user named it.
        file: String,
        /// The line, 1 being the header.
        line: u64,
        /// What is wrong and what to write instead.
        message: String,
    },
}

/// The position of each known column in the header.
#[derive(Debug, Clone, Copy)]
struct Columns {
    arrival: usize,
    attributes: usize,
    handle: usize,
    patience: Option<usize>,
    channel: Option<usize>,
}

/// Reads the tasks of a CSV file in order, one [`TaskRow`] at a time.
pub struct TaskReader<R: Read> {
    reader: csv::Reader<R>,
    source: String,
    columns: Columns,
    record: csv::StringRecord,
    last_arrival: u64,
    failed: bool,
}

impl<R: Read> TaskReader<R> {
    /// Opens a tasks file called `source` in messages (its path), reading its header.
    ///
    /// # Errors
    ///
    /// [`TasksError::Header`] when the header is missing, lacks a required column, repeats one
    /// or names an unknown one.
    pub fn new(source: &str, input: R) -> Result<Self, TasksError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let header_error = |message: String| TasksError::Header {
            file: source.to_owned(),
            message,
        };
        let headers = reader
            .headers()
            .map_err(|error| header_error(format!("no readable header: {error}")))?
            .clone();
        let mut found: [Option<usize>; 5] = [None; 5];
        for (index, name) in headers.iter().enumerate() {
            let name = name.trim();
            let Some(slot) = REQUIRED
                .iter()
                .chain(OPTIONAL.iter())
                .position(|&known| known == name)
            else {
                return Err(header_error(format!(
                    "unknown column `{name}`: the columns are {} and optionally {}",
                    REQUIRED.join(", "),
                    OPTIONAL.join(", ")
                )));
            };
            if found[slot].replace(index).is_some() {
                return Err(header_error(format!("column `{name}` appears twice")));
            }
        }
        let required = |slot: usize| {
            found[slot].ok_or_else(|| {
                header_error(format!(
                    "missing column `{}`: the header must name {}",
                    REQUIRED[slot],
                    REQUIRED.join(", ")
                ))
            })
        };
        let columns = Columns {
            arrival: required(0)?,
            attributes: required(1)?,
            handle: required(2)?,
            patience: found[3],
            channel: found[4],
        };
        Ok(TaskReader {
            reader,
            source: source.to_owned(),
            columns,
            record: csv::StringRecord::new(),
            last_arrival: 0,
            failed: false,
        })
    }

    fn line_error(&self, line: u64, message: String) -> TasksError {
        TasksError::Line {
            file: self.source.clone(),
            line,
            message,
        }
    }

    /// The record just read, as a task.
    fn task(&self, line: u64) -> Result<TaskRow, TasksError> {
        let field = |index: usize| self.record.get(index).unwrap_or("").trim();
        let seconds = |name: &str, index: usize| -> Result<u64, TasksError> {
            let text = field(index);
            let value: f64 = text.parse().map_err(|_| {
                self.line_error(
                    line,
                    format!("{name} `{text}` is not a number of seconds (e.g. 12 or 12.5)"),
                )
            })?;
            if !value.is_finite() || !(0.0..=MAX_SECONDS).contains(&value) {
                return Err(self.line_error(
                    line,
                    format!("{name} `{text}` must be between 0 and {MAX_SECONDS} seconds"),
                ));
            }
            // In range, so the cast neither truncates nor wraps.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok((value * 1000.0).round() as u64)
        };
        let arrival_ms = seconds("arrival_seconds", self.columns.arrival)?;
        if arrival_ms < self.last_arrival {
            return Err(self.line_error(
                line,
                format!(
                    "arrival_seconds `{}` is earlier than the line before: sort the file by arrival_seconds",
                    field(self.columns.arrival)
                ),
            ));
        }
        let text = field(self.columns.attributes);
        let attributes: Value = if text.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_str(text).map_err(|error| {
                self.line_error(line, format!("attributes are not JSON: {error}"))
            })?
        };
        if !attributes.is_object() {
            return Err(self.line_error(
                line,
                "attributes must be a JSON object, e.g. {\"language\": \"es\"}".to_owned(),
            ));
        }
        let handle_ms = seconds("handle_seconds", self.columns.handle)?;
        let patience_ms = match self.columns.patience {
            Some(index) if !field(index).is_empty() => Some(seconds("patience_seconds", index)?),
            _ => None,
        };
        let channel = match self.columns.channel {
            Some(index) if !field(index).is_empty() => field(index).to_owned(),
            _ => "default".to_owned(),
        };
        Ok(TaskRow {
            line,
            arrival_ms,
            attributes,
            handle_ms,
            patience_ms,
            channel,
        })
    }
}

/// The line a record starts on. The CSV reader counts `\n`s, but a record may also end with a
/// lone `\r` (old Mac files, which it reads as such): then every record would be on line 1.
/// A record starts no earlier than its own count of records, the header being the first.
fn line_of(position: &csv::Position) -> u64 {
    position.line().max(position.record() + 1)
}

impl<R: Read> Iterator for TaskReader<R> {
    type Item = Result<TaskRow, TasksError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = match self.reader.read_record(&mut self.record) {
            Ok(false) => return None,
            Ok(true) => {
                let line = self.record.position().map_or(0, line_of);
                self.task(line)
            }
            Err(error) => {
                let line = error.position().map_or(0, line_of);
                Err(self.line_error(line, format!("not a CSV record: {error}")))
            }
        };
        match &result {
            Ok(task) => self.last_arrival = task.arrival_ms,
            Err(_) => self.failed = true,
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<TaskRow>, TasksError> {
        TaskReader::new("tasks.csv", text.as_bytes())?.collect()
    }

    #[test]
    fn lines_ended_by_a_lone_carriage_return_are_counted() {
        // Found by fuzzing: a header ended by `\r` alone put its first task on "line 1".
        let tasks =
            read("arrival_seconds,attributes,handle_seconds\r0,{},240\r1,{},240\r").expect("valid");
        let lines: Vec<u64> = tasks.iter().map(|task| task.line).collect();
        assert_eq!(lines, [2, 3]);
        let error = read("arrival_seconds,attributes,handle_seconds\r0,{},240\r1,[],240\r")
            .expect_err("attributes that are not an object");
        assert!(
            error
                .to_string()
                .starts_with("tasks.csv: line 3: attributes must be a JSON object"),
            "{error}"
        );
        let mixed = read("arrival_seconds,attributes,handle_seconds\r\n0,\"{\n}\",240\n1,{},240\n")
            .expect("valid");
        let lines: Vec<u64> = mixed.iter().map(|task| task.line).collect();
        assert_eq!(
            lines,
            [2, 4],
            "a quoted field over two lines still counts both"
        );
    }

    #[test]
    fn a_file_with_every_column_reads_as_tasks_in_milliseconds() {
        let tasks = read(
            "arrival_seconds,attributes,handle_seconds,patience_seconds,channel\n\
             0,\"{\"\"language\"\": \"\"es\"\"}\",240,60,voice\n\
             12.5,{},180.25,,\n",
        )
        .expect("valid");
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[0].line, 2);
        assert_eq!(tasks[0].attributes["language"], "es");
        assert_eq!(tasks[0].patience_ms, Some(60_000));
        assert_eq!(tasks[0].channel, "voice");
        assert_eq!(tasks[1].arrival_ms, 12_500);
        assert_eq!(tasks[1].handle_ms, 180_250);
        assert_eq!(tasks[1].patience_ms, None);
        assert_eq!(tasks[1].channel, "default");
    }

    #[test]
    fn each_bad_file_is_refused_at_its_line_with_what_to_do() {
        let cases = [
            (
                "arrival_seconds,attributes\n",
                "line 1: missing column `handle_seconds`",
            ),
            (
                "arrival_seconds,attributes,handle_seconds,patience_second\n",
                "line 1: unknown column `patience_second`",
            ),
            (
                "arrival_seconds,attributes,handle_seconds\n0,{},1\nsoon,{},1\n",
                "line 3: arrival_seconds `soon` is not a number",
            ),
            (
                "arrival_seconds,attributes,handle_seconds\n5,{},1\n4,{},1\n",
                "line 3: arrival_seconds `4` is earlier than the line before",
            ),
            (
                "arrival_seconds,attributes,handle_seconds\n0,[1],1\n",
                "line 2: attributes must be a JSON object",
            ),
            (
                "arrival_seconds,attributes,handle_seconds\n0,{nope,1\n",
                "line 2: attributes are not JSON",
            ),
            (
                "arrival_seconds,attributes,handle_seconds\n0,{},-1\n",
                "line 2: handle_seconds `-1` must be between 0",
            ),
            (
                "arrival_seconds,attributes,handle_seconds\n0,{},1,2\n",
                "line 2: not a CSV record",
            ),
        ];
        for (text, expected) in cases {
            let error = read(text).expect_err(text).to_string();
            assert!(error.starts_with("tasks.csv: "), "{error}");
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
