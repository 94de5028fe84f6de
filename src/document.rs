//! What the JSON documents this crate reads have in common, and the one way they are read.
//!
//! Rules documents and their schedules, rule tests, Workflow configurations, workspace documents
//! of workers and queues: every document a user writes is read through a [`Reader`], a cursor
//! that knows the file, the JSON pointer and (when something is wrong) the line and column of
//! every value. It collects **every** problem of a document instead of stopping at the first,
//! suggests the nearest key for a misspelled one, and each document type declares the keys its
//! objects may have once, as a [`Keys`]. Problems print as a compiler prints them:
//!
//! ```text
//! rules/vip.json:7:15: error: rules[1] (`vip`): `when` is not a valid expression: …
//! rules/vip.json:9:7: error: rules[1] (`vip`): unknown key `instrucion`: did you mean `instruction`?
//! ```
//!
//! Lines and columns are worked out only when there is a problem to report: a document read
//! without one (a rules document at every cold start) costs a `serde_json` parse and nothing
//! more. They come from a second, positional parse of the same text by `jsonc-parser` (dprint's
//! JSON parser, which keeps the byte range of every value), in strict JSON mode.
//!
//! The older helpers below ([`json_kind`], `unknown_keys`, `suggest`) name JSON types and typos
//! for the messages of values that are not documents (callback attributes).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Legal, but almost certainly not what was meant: reported, and fails only under
    /// `--strict`.
    Warning,
    /// The document cannot be used.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

/// One problem of a document, where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The document's name: its path, or the setting that held it (`ASSIGNMENT_RULES`).
    pub source: String,
    /// The 1-based line and column of the value (or key) at fault; `None` only when the text
    /// cannot be located (never for a document read by a [`Reader`]).
    pub position: Option<(usize, usize)>,
    /// The RFC 6901 JSON pointer of the value at fault (`/rules/1/when`; `""` for the root).
    pub pointer: String,
    /// Where the value is, in the document's own words: ``rules[1] (`vip`)``, `default`; empty
    /// for the document as a whole.
    pub place: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl Problem {
    /// The place, then the message (``rules[1] (`vip`): unknown key …``), without the source,
    /// position or severity: for a message that gives those its own way.
    pub fn describe(&self) -> String {
        if self.place.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.place, self.message)
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}: ", self.severity)?;
        if !self.place.is_empty() {
            write!(f, "{}: ", self.place)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem of one or more documents, errors and warnings, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(Vec<Problem>);

impl Problems {
    /// No problems.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every problem, in order.
    pub fn all(&self) -> &[Problem] {
        &self.0
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter().filter(|p| p.severity == Severity::Error)
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter().filter(|p| p.severity == Severity::Warning)
    }

    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// Whether there is no problem at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds the problems of `other` after these.
    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    /// Adds one problem.
    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

impl IntoIterator for Problems {
    type Item = Problem;
    type IntoIter = std::vec::IntoIter<Problem>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The keys an object of a document may have: declared once per object type, checked by
/// [`Node::object`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    /// What the object is, for messages (`a rule`, `a schedule`).
    pub what: &'static str,
    /// Keys that must be present.
    pub required: &'static [&'static str],
    /// Keys that may be present.
    pub optional: &'static [&'static str],
}

impl Keys {
    /// Whether `key` is one of the object's keys.
    pub fn allows(&self, key: &str) -> bool {
        self.required.contains(&key) || self.optional.contains(&key)
    }

    /// Every key, required first, for messages and suggestions.
    pub fn all(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.required.iter().chain(self.optional).copied()
    }

    /// ``the keys `a`, `b` or `c` ``, for messages.
    pub fn listed(&self) -> String {
        let keys: Vec<String> = self.all().map(|key| format!("`{key}`")).collect();
        match keys.as_slice() {
            [] => "no keys".to_owned(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        }
    }
}

/// Whether a problem points at an object's key or at a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Key,
    Value,
}

/// A problem found while reading, before it is located in the text.
#[derive(Debug)]
struct Found {
    severity: Severity,
    pointer: String,
    target: Target,
    place: String,
    message: String,
}

/// Reads one document: parses its text, then hands out [`Node`]s that record every problem
/// found while the caller walks it. [`Reader::finish`] turns them into located [`Problems`].
#[derive(Debug)]
pub struct Reader<'t> {
    source: String,
    text: &'t str,
    found: RefCell<Vec<Found>>,
}

impl<'t> Reader<'t> {
    /// Parses `text`, the document called `source` (a path, or the setting that held it).
    ///
    /// # Errors
    ///
    /// One [`Problem`] with the line and column of the first syntax error when `text` is not
    /// JSON.
    pub fn parse(source: &str, text: &'t str) -> Result<(Self, Value), Problems> {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => Ok((
                Self {
                    source: source.to_owned(),
                    text,
                    found: RefCell::new(Vec::new()),
                },
                value,
            )),
            Err(error) => {
                let message = error.to_string();
                // serde_json appends " at line L column C"; the position goes first instead.
                let message = message
                    .rsplit_once(" at line ")
                    .map_or(message.as_str(), |(message, _)| message);
                Err(Problems(vec![Problem {
                    severity: Severity::Error,
                    source: source.to_owned(),
                    position: Some((error.line(), error.column())),
                    pointer: String::new(),
                    place: String::new(),
                    message: format!("not valid JSON: {message}"),
                }]))
            }
        }
    }

    /// The document's root, to walk.
    pub fn root<'r>(&'r self, value: &'r Value) -> Node<'r> {
        Node {
            reader: self,
            value,
            pointer: String::new(),
            place: String::new(),
        }
    }

    /// The document's name.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Records a problem at `pointer` found after the walk (a check over the compiled model),
    /// with `place` in the document's words.
    pub fn report(&self, severity: Severity, pointer: &str, place: &str, message: String) {
        self.found.borrow_mut().push(Found {
            severity,
            pointer: pointer.to_owned(),
            target: Target::Value,
            place: place.to_owned(),
            message,
        });
    }

    /// Records a warning for each key given more than once in one object: JSON parsers keep one
    /// of the values (`serde_json` the last) and drop the others without a word, so a rule with
    /// two `when`s means only one of them. Parses the text a second time: for checks, not for
    /// every start.
    pub fn warn_repeated_keys(&self) {
        let Some(value) = positional(self.text) else {
            return;
        };
        let mut repeated = Vec::new();
        repeated_keys(&value, "", &mut repeated);
        for (pointer, key) in repeated {
            self.found.borrow_mut().push(Found {
                severity: Severity::Warning,
                pointer,
                target: Target::Key,
                place: String::new(),
                message: format!(
                    "`{key}` is given more than once in the same object: only the last one is \
                     read; remove the others"
                ),
            });
        }
    }

    /// Every problem found, located in the text, in the order found. Empty when there was none.
    pub fn finish(self) -> Problems {
        let found = self.found.into_inner();
        if found.is_empty() {
            return Problems::new();
        }
        let positions = Positions::of(self.text);
        Problems(
            found
                .into_iter()
                .map(|found| Problem {
                    position: positions.locate(&found.pointer, found.target),
                    severity: found.severity,
                    source: self.source.clone(),
                    pointer: found.pointer,
                    place: found.place,
                    message: found.message,
                })
                .collect(),
        )
    }
}

/// A value of a document being read, with where it is.
#[derive(Debug, Clone)]
pub struct Node<'r> {
    reader: &'r Reader<'r>,
    value: &'r Value,
    pointer: String,
    place: String,
}

impl<'r> Node<'r> {
    /// The JSON value.
    pub fn value(&self) -> &'r Value {
        self.value
    }

    /// Its JSON pointer.
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// Where it is, in the document's words (empty for the root).
    pub fn place(&self) -> &str {
        &self.place
    }

    /// The same value, called `place` in messages (e.g. ``rules[1] (`vip`)`` once the rule's
    /// name is known).
    pub fn named(mut self, place: String) -> Self {
        self.place = place;
        self
    }

    /// How many errors the document has had recorded so far: compare the count before and after
    /// reading a part of it to learn whether that part had any.
    pub fn errors_recorded(&self) -> usize {
        self.reader
            .found
            .borrow()
            .iter()
            .filter(|found| found.severity == Severity::Error)
            .count()
    }

    /// Records an error about this value.
    pub fn error(&self, message: impl fmt::Display) {
        self.record(Severity::Error, Target::Value, message.to_string());
    }

    /// Records a warning about this value.
    pub fn warn(&self, message: impl fmt::Display) {
        self.record(Severity::Warning, Target::Value, message.to_string());
    }

    fn record(&self, severity: Severity, target: Target, message: String) {
        self.reader.found.borrow_mut().push(Found {
            severity,
            pointer: self.pointer.clone(),
            target,
            place: self.place.clone(),
            message,
        });
    }

    /// Records that the value is not of the JSON type `expected` (e.g. `a string`).
    pub fn wrong_type(&self, expected: &str) {
        self.error(format_args!(
            "expected {expected}, found {}",
            json_kind(self.value)
        ));
    }

    /// The value as an object with `keys`: every key it does not allow is an error (with the
    /// nearest allowed key suggested), every required key it lacks is an error, and the object
    /// is handed out anyway so the rest of it is still read. `None`, with an error, when the
    /// value is not an object.
    pub fn object(&self, keys: &Keys) -> Option<Object<'r>> {
        let Value::Object(map) = self.value else {
            self.wrong_type(&format!("{} (an object)", keys.what));
            return None;
        };
        for key in map.keys().filter(|key| !keys.allows(key)) {
            let child = self.child_key(key);
            let hint = match suggest(key, keys.all()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("{} has {}", keys.what, keys.listed()),
            };
            child.record(
                Severity::Error,
                Target::Key,
                format!("unknown key `{key}`: {hint}"),
            );
        }
        for key in keys.required.iter().filter(|key| !map.contains_key(**key)) {
            self.error(format_args!("missing key `{key}`"));
        }
        Some(Object {
            node: self.clone(),
            map,
        })
    }

    /// The value as an array of nodes (`place[0]`, `place[1]`, …); `None`, with an error, when
    /// it is not an array.
    pub fn array(&self) -> Option<Vec<Node<'r>>> {
        let Value::Array(items) = self.value else {
            self.wrong_type("an array");
            return None;
        };
        Some(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| Node {
                    reader: self.reader,
                    value: item,
                    pointer: format!("{}/{index}", self.pointer),
                    place: format!("{}[{index}]", self.place),
                })
                .collect(),
        )
    }

    /// The value as a string; `None`, with an error, when it is not one.
    pub fn string(&self) -> Option<&'r str> {
        let text = self.value.as_str();
        if text.is_none() {
            self.wrong_type("a string");
        }
        text
    }

    /// The value as a boolean; `None`, with an error, when it is not one.
    pub fn boolean(&self) -> Option<bool> {
        let flag = self.value.as_bool();
        if flag.is_none() {
            self.wrong_type("a boolean");
        }
        flag
    }

    /// The value as a whole number from `min` to `max`; `None`, with an error, otherwise.
    pub fn integer(&self, min: i64, max: i64) -> Option<i64> {
        let Some(number) = self.value.as_i64() else {
            self.wrong_type(&format!("a whole number from {min} to {max}"));
            return None;
        };
        if !(min..=max).contains(&number) {
            self.error(format_args!(
                "{number} is out of range: expected a whole number from {min} to {max}"
            ));
            return None;
        }
        Some(number)
    }

    /// The value of `key` in this object, for an object whose keys are data (days, dates,
    /// names) rather than a [`Keys`] declaration. Its place is this node's, then `key`.
    pub fn member(&self, key: &str) -> Option<Node<'r>> {
        let value = self.value.as_object()?.get(key)?;
        let place = if self.place.is_empty() {
            key.to_owned()
        } else {
            format!("{}, `{key}`", self.place)
        };
        Some(Node {
            reader: self.reader,
            value,
            pointer: format!("{}/{}", self.pointer, escape(key)),
            place,
        })
    }

    /// The node of `key` in this object, for a problem about the key itself.
    fn child_key(&self, key: &str) -> Node<'r> {
        Node {
            reader: self.reader,
            value: self.value,
            pointer: format!("{}/{}", self.pointer, escape(key)),
            place: self.place.clone(),
        }
    }
}

/// An object of a document being read: its keys were checked against its [`Keys`].
#[derive(Debug, Clone)]
pub struct Object<'r> {
    node: Node<'r>,
    map: &'r Map<String, Value>,
}

impl<'r> Object<'r> {
    /// The object itself, to report a problem about it as a whole.
    pub fn node(&self) -> &Node<'r> {
        &self.node
    }

    /// The value of `key`, when present. Its place is the object's, then `key` (``rules[1]
    /// (`vip`)``, then `when` reads ``rules[1] (`vip`), `when` ``), unless the object is the
    /// root, where it is `key` alone.
    pub fn get(&self, key: &str) -> Option<Node<'r>> {
        let value = self.map.get(key)?;
        let place = if self.node.place.is_empty() {
            key.to_owned()
        } else {
            format!("{}, `{key}`", self.node.place)
        };
        Some(Node {
            reader: self.node.reader,
            value,
            pointer: format!("{}/{}", self.node.pointer, escape(key)),
            place,
        })
    }

    /// The value of `key`, which the object must have: when it is absent, an error says so and
    /// what to write (`hint`). For a required key whose message needs more than
    /// [`Node::object`]'s generic one; such a key is listed in [`Keys::optional`].
    pub fn require(&self, key: &str, hint: &str) -> Option<Node<'r>> {
        let node = self.get(key);
        if node.is_none() {
            self.node.error(format_args!("missing key `{key}`: {hint}"));
        }
        node
    }

    /// Every key and value, in document order.
    pub fn entries(&self) -> impl Iterator<Item = (&'r str, Node<'r>)> + '_ {
        self.map
            .keys()
            .filter_map(|key| Some((key.as_str(), self.get(key)?)))
    }

    /// The underlying map.
    pub fn map(&self) -> &'r Map<String, Value> {
        self.map
    }
}

/// `key` escaped for a JSON pointer (RFC 6901: `~` as `~0`, `/` as `~1`).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Where each value (and each object key) of a text starts, by JSON pointer.
struct Positions<'t> {
    text: &'t str,
    /// Byte offset of each value's start, and of the key naming it when it is an object member.
    starts: HashMap<String, (usize, Option<usize>)>,
    /// Byte offsets of the starts of lines after the first.
    line_starts: Vec<usize>,
}

impl<'t> Positions<'t> {
    /// Indexes `text`. A text that `serde_json` accepted is strict JSON, which `jsonc-parser`
    /// parses with every extension off; should it disagree, nothing is located (the problems
    /// still print, without a position).
    fn of(text: &'t str) -> Self {
        let mut starts = HashMap::new();
        if let Some(value) = positional(text) {
            index(&value, String::new(), None, &mut starts);
        }
        let line_starts = text
            .char_indices()
            .filter(|&(_, c)| c == '\n')
            .map(|(at, _)| at + 1)
            .collect();
        Self {
            text,
            starts,
            line_starts,
        }
    }

    /// The 1-based line and column (in characters) of `pointer`'s value or key; a pointer the
    /// text does not have (a missing key) is located at its nearest ancestor.
    fn locate(&self, pointer: &str, target: Target) -> Option<(usize, usize)> {
        let mut at = pointer;
        loop {
            if let Some(&(value, key)) = self.starts.get(at) {
                let offset = match target {
                    Target::Key if at == pointer => key.unwrap_or(value),
                    _ => value,
                };
                return Some(self.line_column(offset));
            }
            at = &at[..at.rfind('/')?];
        }
    }

    fn line_column(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = line.checked_sub(1).map_or(0, |at| self.line_starts[at]);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |before| before.chars().count());
        (line + 1, column + 1)
    }
}

/// `text` parsed by `jsonc-parser` with every extension off (strict JSON), keeping the byte range
/// of every value; `None` should it refuse what `serde_json` accepted.
fn positional(text: &str) -> Option<jsonc_parser::ast::Value<'_>> {
    let strict = jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    jsonc_parser::parse_to_ast(text, &jsonc_parser::CollectOptions::default(), &strict)
        .ok()?
        .value
}

/// The pointer and name of every key given more than once in one object, below `value`.
fn repeated_keys(
    value: &jsonc_parser::ast::Value<'_>,
    pointer: &str,
    out: &mut Vec<(String, String)>,
) {
    use jsonc_parser::ast::Value as Ast;
    match value {
        Ast::Object(object) => {
            let mut seen = std::collections::HashSet::new();
            for property in &object.properties {
                let name = property.name.as_str();
                let child = format!("{pointer}/{}", escape(name));
                if !seen.insert(name) && !out.iter().any(|(known, _)| *known == child) {
                    out.push((child.clone(), name.to_owned()));
                }
                repeated_keys(&property.value, &child, out);
            }
        }
        Ast::Array(array) => {
            for (at, element) in array.elements.iter().enumerate() {
                repeated_keys(element, &format!("{pointer}/{at}"), out);
            }
        }
        _ => {}
    }
}

/// Records the start of `value` (and of the `key` naming it) at `pointer`, then its children.
fn index(
    value: &jsonc_parser::ast::Value<'_>,
    pointer: String,
    key: Option<usize>,
    starts: &mut HashMap<String, (usize, Option<usize>)>,
) {
    use jsonc_parser::ast::Value as Ast;
    use jsonc_parser::common::Ranged as _;
    match value {
        Ast::Object(object) => {
            for property in &object.properties {
                let child = format!("{pointer}/{}", escape(property.name.as_str()));
                index(&property.value, child, Some(property.range.start), starts);
            }
        }
        Ast::Array(array) => {
            for (at, element) in array.elements.iter().enumerate() {
                index(element, format!("{pointer}/{at}"), None, starts);
            }
        }
        _ => {}
    }
    starts.insert(pointer, (value.range().start, key));
}

/// The kind of a JSON value with its article (`a string`, `an array`, `null`), for messages
/// that must name what was found without echoing it (attributes hold customer data).
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The keys of `map` that are not in `allowed`, in document order.
pub(crate) fn unknown_keys<'m>(
    map: &'m Map<String, Value>,
    allowed: &[&str],
) -> impl Iterator<Item = &'m String> {
    map.keys().filter(|key| !allowed.contains(&key.as_str()))
}

/// The candidate closest to `input`, if close enough to be a likely typo. Case, `_` and `-` are
/// ignored, so `PostWorkActivitySid` (the REST spelling) and `onenter` find their match.
pub(crate) fn suggest(
    input: &str,
    candidates: impl IntoIterator<Item = &'static str>,
) -> Option<&'static str> {
    let input = fold(input);
    candidates
        .into_iter()
        .map(|candidate| {
            let folded = fold(candidate);
            let distance = edit_distance(&input, &folded);
            (
                distance,
                distance <= (folded.chars().count() / 4).max(1),
                candidate,
            )
        })
        .filter(|&(_, close, _)| close)
        .min_by_key(|&(distance, _, _)| distance)
        .map(|(_, _, candidate)| candidate)
}

fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment), so
/// `form` is one edit from `from`. Twenty lines here rather than a dependency (`strsim`'s
/// `osa_distance` is the same measure) for the error path of a few messages.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before_previous = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &a_char) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != b_char);
            let mut best = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            if i > 0 && j > 0 && a_char == b[j - 1] && a[i - 1] == b_char {
                best = best.min(before_previous[j - 1] + 1);
            }
            current[j + 1] = best;
        }
        std::mem::swap(&mut before_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Keys = Keys {
        what: "a rule",
        required: &["name", "when"],
        optional: &["description", "priority"],
    };
    const DOCUMENT: Keys = Keys {
        what: "a rules document",
        required: &["rules"],
        optional: &["description"],
    };

    /// Reads `text` as a tiny document type: `rules`, each with a string `name`, a string `when`
    /// and an optional `priority` from 0 to 10.
    fn read(text: &str) -> Problems {
        let (reader, value) = match Reader::parse("rules.json", text) {
            Ok(parsed) => parsed,
            Err(problems) => return problems,
        };
        let root = reader.root(&value);
        if let Some(document) = root.object(&DOCUMENT)
            && let Some(rules) = document.get("rules").and_then(|rules| rules.array())
        {
            for rule in rules {
                if let Some(rule) = rule.object(&RULE) {
                    if let Some(name) = rule.get("name") {
                        name.string();
                    }
                    if let Some(when) = rule.get("when") {
                        when.string();
                    }
                    if let Some(priority) = rule.get("priority") {
                        priority.integer(0, 10);
                    }
                }
            }
        }
        reader.finish()
    }

    fn lines(problems: &Problems) -> Vec<String> {
        problems.all().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn every_problem_of_a_document_is_reported_at_once_with_its_line_and_column() {
        let text = r#"{
  "rules": [
    {"name": "vip", "whne": "tier == 'gold'"},
    {"name": 7, "when": "1 == 1", "priority": 11},
    "not a rule"
  ],
  "descripton": "typo"
}"#;
        assert_eq!(
            lines(&read(text)),
            [
                "rules.json:7:3: error: unknown key `descripton`: did you mean `description`?",
                "rules.json:3:21: error: rules[0]: unknown key `whne`: did you mean `when`?",
                "rules.json:3:5: error: rules[0]: missing key `when`",
                "rules.json:4:14: error: rules[1], `name`: expected a string, found a number",
                "rules.json:4:47: error: rules[1], `priority`: 11 is out of range: expected a whole \
                 number from 0 to 10",
                "rules.json:5:5: error: rules[2]: expected a rule (an object), found a string",
            ]
        );
    }

    #[test]
    fn a_document_without_problems_reports_none() {
        let problems = read(r#"{"rules": [{"name": "a", "when": "1 == 1", "priority": 3}]}"#);
        assert!(problems.is_empty(), "{problems}");
        assert!(!problems.has_errors());
    }

    #[test]
    fn text_that_is_not_json_is_one_error_at_the_first_syntax_error() {
        let problems = read("{\n  \"rules\": [,]\n}");
        assert_eq!(
            lines(&problems),
            ["rules.json:2:13: error: not valid JSON: expected value"]
        );
        assert_eq!(problems.all()[0].pointer, "");
    }

    #[test]
    fn a_key_problem_points_at_the_key_and_a_value_problem_at_the_value() {
        let text = "{\"rules\": [{\"name\": \"a\",\n    \"when\": true, \"prio\": 1}]}";
        let problems = read(text);
        let located: Vec<(&str, Option<(usize, usize)>)> = problems
            .all()
            .iter()
            .map(|p| (p.pointer.as_str(), p.position))
            .collect();
        assert_eq!(
            located,
            [
                ("/rules/0/prio", Some((2, 19))),
                ("/rules/0/when", Some((2, 13)))
            ]
        );
    }

    #[test]
    fn columns_count_characters_and_pointers_escape_slashes_and_tildes() {
        let text = "{\"description\": \"ñáé\", \"rules\": [{\"name\": \"x\", \"when\": \"y\", \"a/b~c\": 1}]}";
        let problems = read(text);
        let problem = &problems.all()[0];
        assert_eq!(problem.pointer, "/rules/0/a~1b~0c");
        assert_eq!(
            problem.position,
            Some((1, 61)),
            "the key's column, counted in characters: {problem}"
        );
    }

    #[test]
    fn a_problem_reported_after_the_walk_is_located_by_its_pointer() {
        let text = "{\n  \"rules\": [\n    {\"name\": \"a\", \"when\": \"1 == 1\"}\n  ]\n}";
        let (reader, value) = Reader::parse("rules.json", text).expect("JSON");
        let _ = reader.root(&value).object(&DOCUMENT);
        reader.report(
            Severity::Warning,
            "/rules/0/when",
            "rules[0] (`a`)",
            "always true: every rule after it is never reached".to_owned(),
        );
        reader.report(
            Severity::Warning,
            "/rules/0/missing",
            "rules[0] (`a`)",
            "located at its nearest ancestor".to_owned(),
        );
        let problems = reader.finish();
        assert_eq!(
            lines(&problems),
            [
                "rules.json:3:27: warning: rules[0] (`a`): always true: every rule after it is \
                 never reached",
                "rules.json:3:5: warning: rules[0] (`a`): located at its nearest ancestor",
            ]
        );
        assert!(!problems.has_errors());
        assert_eq!(problems.warnings().count(), 2);
    }

    #[test]
    fn a_required_key_with_a_hint_and_members_whose_keys_are_data_are_located() {
        let text = "{\"rules\": [],\n \"hours\": {\"Mon\": 1, \"a/b\": \"x\"}}";
        let (reader, value) = Reader::parse("doc.json", text).expect("JSON");
        let root = reader.root(&value);
        let document = root.object(&Keys {
            what: "a document",
            required: &[],
            optional: &["rules", "hours", "when"],
        });
        let document = document.expect("an object");
        assert!(
            document
                .require("when", "write `\"when\": \"1 == 1\"`")
                .is_none()
        );
        let hours = document.get("hours").expect("hours");
        hours.member("Mon").expect("Mon").string();
        assert!(hours.member("Tue").is_none());
        hours.member("a/b").expect("a/b").integer(0, 1);
        assert_eq!(
            lines(&reader.finish()),
            [
                "doc.json:1:1: error: missing key `when`: write `\"when\": \"1 == 1\"`",
                "doc.json:2:19: error: hours, `Mon`: expected a string, found a number",
                "doc.json:2:29: error: hours, `a/b`: expected a whole number from 0 to 1, found a \
                 string",
            ]
        );
    }

    #[test]
    fn keys_list_themselves_for_messages_without_a_near_match() {
        let problems = read(r#"{"rules": [{"name": "a", "when": "b", "zzzzzzzz": 1}]}"#);
        assert_eq!(
            problems.all()[0].message,
            "unknown key `zzzzzzzz`: a rule has `name`, `when`, `description` or `priority`"
        );
    }
}
