//! The templates of a rules document's instructions: `{{reference}}` in instruction strings,
//! found and checked when a document is compiled, filled from a callback when deciding.
//!
//! The format and what happens when a template cannot be filled are documented with the rules
//! document ([`crate::rules`], *Templates*); this module is the engine [`crate::rules`] uses.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::expression::{Operand, Reference, Scope};
use crate::instruction::{Answer, Instruction, InstructionError};
use crate::rules::{RulesError, check_callback_reference};

/// An instruction with templates in some of its strings.
#[derive(Debug, Clone)]
pub(crate) struct Templated {
    pub(crate) node: Node,
}

/// The instruction's JSON with its templated strings marked.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A value without templates, copied as is.
    Fixed(Value),
    /// A string with at least one template.
    Text(Template),
    /// An object with a template somewhere below.
    Object(Vec<(String, Node)>),
    /// An array with a template somewhere below.
    Array(Vec<Node>),
}

/// A string holding templates.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    /// Where the string sits in the instruction, e.g. `to`; named in skip reasons.
    pub(crate) field: String,
    /// The key directly holding the string, which decides the compile-time stand-in.
    key: String,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Text(String),
    Reference(Reference),
}

/// Marks the templated strings of an object; `path` is the object's place in the instruction.
pub(crate) fn scan_object(
    spec: &Map<String, Value>,
    path: &str,
    at: &str,
) -> Result<Node, RulesError> {
    // Keys in alphabetical order whatever the map's own order (serde_json's `preserve_order`
    // feature changes it), so the template a skip reason names does not depend on a feature.
    let mut entries: Vec<(&String, &Value)> = spec.iter().collect();
    entries.sort_unstable_by_key(|(key, _)| *key);
    let mut children = Vec::with_capacity(entries.len());
    let mut templated = false;
    for (key, value) in entries {
        let field = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let node = scan(value, field, key, at)?;
        templated |= !matches!(node, Node::Fixed(_));
        children.push((key.clone(), node));
    }
    if templated {
        Ok(Node::Object(children))
    } else {
        Ok(Node::Fixed(Value::Object(spec.clone())))
    }
}

fn scan(value: &Value, field: String, key: &str, at: &str) -> Result<Node, RulesError> {
    match value {
        Value::String(text) => match parse_template(text, &field, key, at)? {
            Some(template) => Ok(Node::Text(template)),
            None => Ok(Node::Fixed(value.clone())),
        },
        Value::Object(map) => scan_object(map, &field, at),
        Value::Array(items) => {
            let mut children = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                children.push(scan(item, format!("{field}[{index}]"), key, at)?);
            }
            if children.iter().all(|child| matches!(child, Node::Fixed(_))) {
                Ok(Node::Fixed(value.clone()))
            } else {
                Ok(Node::Array(children))
            }
        }
        _ => Ok(Node::Fixed(value.clone())),
    }
}

/// Splits `text` into literal text and `{{reference}}`s; `None` when it holds no template.
fn parse_template(
    text: &str,
    field: &str,
    key: &str,
    at: &str,
) -> Result<Option<Template>, RulesError> {
    if !text.contains("{{") {
        return Ok(None);
    }
    let malformed = |problem: String| RulesError::Template {
        at: at.to_owned(),
        field: field.to_owned(),
        problem,
    };
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(malformed(format!(
                "`{}` is not closed with `}}}}`",
                &rest[open..]
            )));
        };
        let inner = after[..close].trim();
        if inner.is_empty() {
            return Err(malformed(format!(
                "`{}` names no reference",
                &rest[open..open + 4 + close]
            )));
        }
        let reference = Reference::parse(inner).map_err(|error| {
            malformed(format!(
                "`{{{{{inner}}}}}` is not a valid reference: {} at column {} of the reference: {}",
                error.message(),
                error.column(),
                error.help()
            ))
        })?;
        check_callback_reference(&reference, &format!("{at}: `{field}`"))?;
        pieces.push(Piece::Reference(reference));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Ok(Some(Template {
        field: field.to_owned(),
        key: key.to_owned(),
        pieces,
    }))
}

impl Templated {
    /// Fills the templates from the scope and validates the result; `Err` is the skip reason.
    pub(crate) fn fill(&self, scope: &impl Scope) -> Result<Answer, String> {
        let filled = self
            .node
            .render(&mut |template: &Template| template.fill(scope))?;
        let instruction =
            Instruction::from_json(&filled).map_err(|error| self.rejection(&error))?;
        Ok(Answer::Instruction(instruction))
    }
}

impl Templated {
    /// The skip reason for a filled instruction that failed validation. The validation message
    /// may quote the filled value, which is customer data, so only the field, the template and
    /// the kind of problem are named.
    fn rejection(&self, error: &InstructionError) -> String {
        let (field, problem) = match error {
            InstructionError::InvalidSid { field, error, .. } => (
                *field,
                format!(
                    "is not a valid {} SID: expected `{}` followed by 32 hex digits",
                    error.kind, error.prefix
                ),
            ),
            InstructionError::InvalidUrl { field, reason, .. } => (
                *field,
                format!("is not an absolute http(s) URL with a host: {reason}"),
            ),
            InstructionError::Empty { field, .. } => (*field, "is empty".to_owned()),
            InstructionError::NotInSet { field, allowed, .. } => {
                (*field, format!("is not one of {allowed}"))
            }
            InstructionError::NotInList { field, allowed, .. } => (
                *field,
                format!("lists a value that is not one of {allowed}"),
            ),
            InstructionError::SipTimeout { .. } => (
                "timeout",
                "is above 600, the most a SIP `to` allows".to_owned(),
            ),
            InstructionError::WrongType {
                field, expected, ..
            } => (*field, format!("must be {expected}")),
            InstructionError::OutOfRange {
                field, min, max, ..
            } => (*field, format!("must be between {min} and {max}")),
            // Structural problems, ruled out at compile time with stand-in values; these
            // messages name the instruction and its parameters, never filled values.
            other => return format!("the filled instruction is invalid: {other}"),
        };
        match self
            .node
            .templates()
            .find(|template| template.field == field)
        {
            Some(template) => format!("`{field}` filled from `{}` {problem}", template.source()),
            None => format!("`{field}` {problem} once the templates are filled"),
        }
    }
}

impl Node {
    /// Builds the JSON value, filling each template with `fill`.
    pub(crate) fn render<E>(
        &self,
        fill: &mut impl FnMut(&Template) -> Result<String, E>,
    ) -> Result<Value, E> {
        Ok(match self {
            Node::Fixed(value) => value.clone(),
            Node::Text(template) => Value::String(fill(template)?),
            Node::Object(children) => {
                let mut map = Map::with_capacity(children.len());
                for (key, child) in children {
                    map.insert(key.clone(), child.render(fill)?);
                }
                Value::Object(map)
            }
            Node::Array(children) => Value::Array(
                children
                    .iter()
                    .map(|child| child.render(fill))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// Every template, in document order.
    pub(crate) fn templates(&self) -> Box<dyn Iterator<Item = &Template> + '_> {
        match self {
            Node::Fixed(_) => Box::new(std::iter::empty()),
            Node::Text(template) => Box::new(std::iter::once(template)),
            Node::Object(children) => {
                Box::new(children.iter().flat_map(|(_, child)| child.templates()))
            }
            Node::Array(children) => Box::new(children.iter().flat_map(Node::templates)),
        }
    }

    pub(crate) fn first_template(&self) -> Option<&Template> {
        self.templates().next()
    }
}

impl Template {
    /// The string as written in the document.
    fn source(&self) -> String {
        let mut text = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(literal) => text.push_str(literal),
                Piece::Reference(reference) => {
                    let _ = write!(text, "{{{{{}}}}}", reference.as_str());
                }
            }
        }
        text
    }

    /// The references, in order.
    pub(crate) fn references(&self) -> impl Iterator<Item = &Reference> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Reference(reference) => Some(reference),
            Piece::Text(_) => None,
        })
    }

    /// The first `{{reference}}`, for messages.
    pub(crate) fn first_reference(&self) -> String {
        self.pieces
            .iter()
            .find_map(|piece| match piece {
                Piece::Reference(reference) => Some(format!("{{{{{}}}}}", reference.as_str())),
                Piece::Text(_) => None,
            })
            .unwrap_or_default()
    }

    /// Fills every reference from `scope`; `Err` names the field and the reference.
    fn fill(&self, scope: &impl Scope) -> Result<String, String> {
        let mut text = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(literal) => text.push_str(literal),
                Piece::Reference(reference) => {
                    let unfilled = |what: &str| {
                        format!(
                            "`{{{{{}}}}}` in `{}` {what}",
                            reference.as_str(),
                            self.field
                        )
                    };
                    match scope.resolve(reference) {
                        Operand::String(value) => text.push_str(value),
                        Operand::Integer(value) => {
                            let _ = write!(text, "{value}");
                        }
                        Operand::Float(value) => {
                            let _ = write!(text, "{value}");
                        }
                        Operand::Bool(value) => {
                            let _ = write!(text, "{value}");
                        }
                        Operand::Null => return Err(unfilled("is missing or null")),
                        Operand::Array(..) => {
                            return Err(unfilled("is an array, which cannot fill text"));
                        }
                        Operand::Object => {
                            return Err(unfilled("is an object, which cannot fill text"));
                        }
                    }
                }
            }
        }
        Ok(text)
    }

    /// The string with each reference replaced by a well-formed value: the field's own shape for
    /// a reference that starts the string, a plain `0` after literal text.
    pub(crate) fn stand_in(&self) -> String {
        let mut text = String::new();
        for (position, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Text(literal) => text.push_str(literal),
                Piece::Reference(_) if position == 0 => text.push_str(stand_in(&self.key)),
                Piece::Reference(_) => text.push('0'),
            }
        }
        text
    }
}

/// A well-formed value for an instruction field, by its key: the shapes and value sets of
/// contract §2 as [`Instruction::from_json`] checks them.
fn stand_in(key: &str) -> &'static str {
    match key {
        "activity_sid" | "post_work_activity_sid" => "WA00000000000000000000000000000000",
        "call_sid" => "CA00000000000000000000000000000000",
        "record" => "do-not-record",
        "beep" | "conference_record" => "true",
        "status_callback_events" | "status_callback_event" => "completed",
        "conference_status_callback_event" => "end",
        "conference_trim" => "do-not-trim",
        "recording_channels" => "mono",
        "region" => "us1",
        "jitter_buffer_size" => "small",
        _ if key.ends_with("_method") => "POST",
        _ if key == "url" || key.ends_with("_url") || key.ends_with("status_callback") => {
            "https://example.com"
        }
        // `to` and `from` take phone numbers, client and SIP addresses; this is Twilio's
        // documented valid test number.
        _ => "+15005550006",
    }
}
