//! The templates of a rules document's instructions: `{{reference}}` in instruction strings,
//! found and checked when a document is compiled, filled from a callback when deciding.
//!
//! The format is documented with the rules document ([`crate::rules`], *Templates*); this module
//! is the engine [`crate::rules`] uses, and says here how each kind of field treats a value.
//!
//! # A value fills data, never structure
//!
//! Templated values are often what a customer typed (an IVR's digits, a chat form's fields,
//! copied into task attributes), so a value may fill only a place the document's literal text
//! leaves open, and cannot change what that text fixes. How, by the parameter's kind
//! ([`Instruction::text_kind`], from the instruction's documentation, docs/taskrouter.md §2):
//!
//! - **URLs** (`url`, `status_callback_url`, `status_callback`, `wait_url`,
//!   `conference_status_callback`, `recording_status_callback`,
//!   `conference_recording_status_callback`): the literal text must write the scheme and the
//!   host, up to the `/`, `?` or `#` that ends them; a template before that is a compile error,
//!   since its value could choose where the URL points (`https://example.com{{x}}` with
//!   `.evil.example`). A template in the path fills part of one segment, percent-encoded with
//!   [`PATH_SEGMENT`] (so `/`, `?`, `#` and `%` are data), and the segment it fills must not end
//!   up empty, `.` or `..` (which would move up the path once normalised, even written `%2e`):
//!   the rule is skipped. A template in the query is percent-encoded with [`QUERY`] (so `&`, `=`,
//!   `+` and `#` are data: it cannot add a parameter). A template in the fragment is a compile
//!   error: Twilio reads a URL's fragment as its own connection settings (`#rc=…`,
//!   docs/taskrouter.md §12) and never sends it.
//! - **Addresses** (`to`, `from`): a value is not encoded (an address has no escaping TaskRouter
//!   documents) but checked: a template that is the whole string fills a whole address; a
//!   template next to literal text (`client:{{worker.name}}`, `sip:{{worker.extension}}@pbx…`)
//!   fills only letters, digits, `_`, `.` and `-`, and in a `sip:` address only the user part, so
//!   a compile error puts one after the `@`. Filled, the string must be an address of a kind the
//!   parameter takes ([`AddressKind::TO`], [`AddressKind::FROM`]), or the rule is skipped.
//! - **SIDs** and **documented values** (`record`, `beep`, the `*_method`s, event lists,
//!   `region`, ...) fill as they are and are validated once filled: a value can only be a SID of
//!   the right kind or one of the documented values.
//! - **Free text** (`sip_auth_username`, `sip_auth_password`) fills as it is: the body is
//!   serialised by `serde_json`, so no value can add a key or an instruction.
//!
//! A rule skipped for any of these says why in [`crate::rules::Decision::skipped`], naming the
//! field and the template, never the value.
//!
//! **`{{raw reference}}`** inserts the value as it is, anywhere in a URL or an address: the
//! explicit way to let a trusted attribute choose a whole URL (`{{raw task.twiml_url}}`). The
//! filled string is still validated (an absolute http(s) URL, an address of the right kind),
//! and the places of the other templates are read from the literal text as if the raw value
//! held no delimiter. `raw` is refused in other fields, where values are never encoded, and
//! `taskrouter check` warns about every use ([`crate::rules::Rules::warnings`]).

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::ops::Range;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::expression::{Operand, Reference, Scope, Segment};
use crate::instruction::{AddressKind, Answer, Instruction, InstructionError, TextKind};

/// What a value filling part of a URL path segment keeps as it is: RFC 3986's `unreserved`
/// (RFC 3986 §2.3: letters, digits, `-`, `.`, `_`, `~`). Everything else is percent-encoded, as
/// RFC 3986 §2.1 says data must be when it could be read as a delimiter: `/` (segments), `?` and
/// `#` (the path's end), `%` (escapes), and the sub-delimiters (`;` and `,` are read as structure
/// inside a segment by some servers, `+` as a space).
pub const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What a value filling part of a URL query keeps as it is: RFC 3986's `unreserved`, and `:`,
/// `@`, `/` and `?`, which RFC 3986 §3.4 allows in a query and no query parser reads as a delimiter
/// (a URL passed as a value stays readable). Everything else is percent-encoded, notably `&` and
/// `=` (which would start a parameter or a value: the HTML form encoding TwiML servers read),
/// `+` (a space in that encoding), `#` (the query's end) and `%`.
pub const QUERY: &AsciiSet = &PATH_SEGMENT
    .remove(b':')
    .remove(b'@')
    .remove(b'/')
    .remove(b'?');

/// What a value filling part of an address, next to literal text, may hold.
const ADDRESS_PART: &str = "letters, digits, `_`, `.` and `-`";

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
    /// How the parameter reads the string; `None` below a parameter (never valid) or for a key
    /// the instruction does not take (refused when the stand-ins are validated).
    kind: Option<TextKind>,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Text(String),
    Reference {
        reference: Reference,
        /// Written `{{raw reference}}`.
        raw: bool,
        /// Where the value lands, decided when compiling.
        place: Place,
    },
}

/// Where a value lands, which decides how it is written in (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// As it is: a raw template, or a field validated whole once filled.
    Verbatim,
    /// Part of a URL path segment: percent-encoded with [`PATH_SEGMENT`].
    PathSegment,
    /// Part of a URL query: percent-encoded with [`QUERY`].
    Query,
    /// Part of an address, next to literal text: [`ADDRESS_PART`] only.
    AddressPart,
}

/// A template, or a `callback.` reference, that a rules document cannot use. Messages name the
/// field (the reader puts the rule's place before them) and say what to write instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    /// A `callback.` reference that cannot name a parameter.
    #[error("{}`{reference}` {problem}", in_field(.field))]
    CallbackReference {
        /// The instruction field holding the template; `None` in `when`.
        field: Option<String>,
        /// The reference as written.
        reference: String,
        /// What is wrong and what to write.
        problem: String,
    },
    /// A template in an instruction string is malformed.
    #[error("`{field}` holds a malformed template: {problem}")]
    Template {
        /// The instruction field holding the template, e.g. `to`.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A template where its value could change what the document's literal text fixes: the
    /// scheme or host of a URL, its fragment, the host of a `sip:` address; `raw` in a field
    /// that takes values as they are; an address no value could complete
    /// ([`crate::template`]).
    #[error("`{field}`: {problem}")]
    MisplacedTemplate {
        /// The instruction field holding the template, e.g. `url`.
        field: String,
        /// What is wrong, naming the template, and what to write.
        problem: String,
    },
    /// A templated instruction is invalid even with well-formed values in its templates.
    #[error(
        "invalid instruction with its templates filled with stand-in values (a template always fills a string): {source}"
    )]
    TemplatedInstruction {
        /// What the instruction's validation found (boxed: it is large).
        source: Box<InstructionError>,
    },
}

fn in_field(field: &Option<String>) -> String {
    field
        .as_ref()
        .map_or_else(String::new, |field| format!("`{field}`: "))
}

/// Rejects `callback.` references that can never name a parameter, and names differing from a
/// documented one only in case (parameter names are case-sensitive, so that is a typo). `field`
/// is the instruction field of a template, `None` for `when`.
pub(crate) fn check_callback_reference(
    reference: &Reference,
    field: Option<&str>,
) -> Result<(), TemplateError> {
    let problem = |problem: String| TemplateError::CallbackReference {
        field: field.map(str::to_owned),
        reference: reference.as_str().to_owned(),
        problem,
    };
    match reference.segments() {
        [Segment::Key(root), rest @ ..] if root == "callback" => match rest {
            [Segment::Key(name)] => match crate::callback::PARAMETERS
                .iter()
                .find(|known| known.eq_ignore_ascii_case(name) && **known != name)
            {
                Some(known) => Err(problem(format!(
                    "does not name a parameter: parameter names are case-sensitive, write `callback.{known}`"
                ))),
                None => Ok(()),
            },
            _ => Err(problem(
                "does not name a parameter: write `callback.` and one parameter name, e.g. `callback.TaskQueueSid`"
                    .to_owned(),
            )),
        },
        _ => Ok(()),
    }
}

/// Marks the templated strings of an instruction object.
pub(crate) fn scan_instruction(spec: &Map<String, Value>) -> Result<Node, TemplateError> {
    let instruction = spec.get("instruction").and_then(Value::as_str);
    scan_object(spec, "", instruction)
}

/// Marks the templated strings of an object; `path` is the object's place in the instruction,
/// `instruction` the instruction's name when the object is the instruction itself.
fn scan_object(
    spec: &Map<String, Value>,
    path: &str,
    instruction: Option<&str>,
) -> Result<Node, TemplateError> {
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
        let node = scan(value, field, key, instruction)?;
        templated |= !matches!(node, Node::Fixed(_));
        children.push((key.clone(), node));
    }
    if templated {
        Ok(Node::Object(children))
    } else {
        Ok(Node::Fixed(Value::Object(spec.clone())))
    }
}

fn scan(
    value: &Value,
    field: String,
    key: &str,
    instruction: Option<&str>,
) -> Result<Node, TemplateError> {
    match value {
        Value::String(text) => {
            let kind = instruction.and_then(|name| Instruction::text_kind(name, key));
            match parse_template(text, &field, key, kind)? {
                Some(template) => Ok(Node::Text(template)),
                None => Ok(Node::Fixed(value.clone())),
            }
        }
        Value::Object(map) => scan_object(map, &field, None),
        Value::Array(items) => {
            let mut children = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                children.push(scan(item, format!("{field}[{index}]"), key, None)?);
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

/// Splits `text` into literal text and `{{reference}}`s, and decides where each value lands;
/// `None` when it holds no template.
fn parse_template(
    text: &str,
    field: &str,
    key: &str,
    kind: Option<TextKind>,
) -> Result<Option<Template>, TemplateError> {
    if !text.contains("{{") {
        return Ok(None);
    }
    let malformed = |problem: String| TemplateError::Template {
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
        // A reference holds no space, so `raw` and a space cannot start one: `{{raw}}` is still
        // the attribute named `raw`.
        let (raw, inner) = match inner.strip_prefix("raw") {
            Some(reference) if reference.starts_with(char::is_whitespace) => {
                (true, reference.trim_start())
            }
            _ => (false, inner),
        };
        let reference = Reference::parse(inner).map_err(|error| {
            malformed(format!(
                "`{{{{{inner}}}}}` is not a valid reference: {} at column {} of the reference: {}",
                error.message(),
                error.column(),
                error.help()
            ))
        })?;
        check_callback_reference(&reference, Some(field))?;
        pieces.push(Piece::Reference {
            reference,
            raw,
            place: Place::Verbatim,
        });
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    let misplaced = |problem: String| TemplateError::MisplacedTemplate {
        field: field.to_owned(),
        problem,
    };
    match kind {
        Some(TextKind::Url) => place_in_url(&mut pieces).map_err(misplaced)?,
        Some(TextKind::Address(_)) => place_in_address(&mut pieces).map_err(misplaced)?,
        // Not a string parameter of the instruction (a misspelt key, a boolean): the stand-ins'
        // validation says so, which helps more than a word about `raw`.
        None => {}
        Some(TextKind::Sid | TextKind::Choice | TextKind::Free) => {
            if let Some(reference) = pieces.iter().find_map(|piece| match piece {
                Piece::Reference {
                    reference,
                    raw: true,
                    ..
                } => Some(reference),
                _ => None,
            }) {
                return Err(misplaced(format!(
                    "`{{{{raw {0}}}}}`: `raw` only applies to URLs and addresses, whose values are \
                     otherwise encoded or checked part by part; this field takes its value as it \
                     is, so write `{{{{{0}}}}}`",
                    reference.as_str()
                )));
            }
        }
    }
    Ok(Some(Template {
        field: field.to_owned(),
        key: key.to_owned(),
        kind,
        pieces,
    }))
}

/// The part of a URL the literal text has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlPart {
    /// Before `://`.
    Scheme,
    /// After `://`, before the `/`, `?` or `#` that ends the host (and any port or user).
    Authority,
    Path,
    Query,
    Fragment,
}

/// Decides where each value of a URL template lands, from the literal text before it (module
/// docs). `Err` is the problem, naming the template.
fn place_in_url(pieces: &mut [Piece]) -> Result<(), String> {
    let mut part = UrlPart::Scheme;
    let mut scheme = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(literal) => {
                for c in literal.chars() {
                    part = match (part, c) {
                        (UrlPart::Scheme, c) => {
                            scheme.push(c);
                            if scheme.ends_with("://") {
                                UrlPart::Authority
                            } else {
                                UrlPart::Scheme
                            }
                        }
                        (UrlPart::Authority, '/') => UrlPart::Path,
                        (UrlPart::Authority | UrlPart::Path, '?') => UrlPart::Query,
                        (UrlPart::Authority | UrlPart::Path | UrlPart::Query, '#') => {
                            UrlPart::Fragment
                        }
                        (part, _) => part,
                    };
                }
            }
            Piece::Reference {
                raw: true, place, ..
            } => {
                *place = Place::Verbatim;
                // A raw value at the start is trusted to write the scheme and the host.
                if part == UrlPart::Scheme {
                    part = UrlPart::Authority;
                }
            }
            Piece::Reference {
                reference,
                raw: false,
                place,
            } => {
                let reference = reference.as_str();
                *place = match part {
                    UrlPart::Scheme | UrlPart::Authority => {
                        return Err(format!(
                            "`{{{{{reference}}}}}` cannot fill the scheme or the host of the URL, \
                             since its value would choose where the URL points: write them \
                             literally before it and end the host with `/` or `?` \
                             (`https://example.com/twiml?value={{{{{reference}}}}}`), or write \
                             `{{{{raw {reference}}}}}` if the value is trusted to choose"
                        ));
                    }
                    UrlPart::Path => Place::PathSegment,
                    UrlPart::Query => Place::Query,
                    UrlPart::Fragment => {
                        return Err(format!(
                            "`{{{{{reference}}}}}` cannot fill the fragment (after `#`), which \
                             Twilio reads as its own connection settings and never sends: put it \
                             in the query (`?value={{{{{reference}}}}}`)"
                        ));
                    }
                };
            }
        }
    }
    Ok(())
}

/// Decides where each value of an address template lands (module docs). `Err` is the problem,
/// naming the template.
fn place_in_address(pieces: &mut [Piece]) -> Result<(), String> {
    // A template that is the whole string fills a whole address, checked once filled.
    if let [Piece::Reference { .. }] = pieces {
        return Ok(());
    }
    let sip = matches!(
        pieces.first(),
        Some(Piece::Text(literal))
            if literal.get(..4).is_some_and(|scheme| scheme.eq_ignore_ascii_case("sip:"))
    );
    let mut after_at = false;
    let mut last = None;
    for piece in pieces.iter_mut() {
        match piece {
            Piece::Text(literal) => after_at |= literal.contains('@'),
            Piece::Reference { raw: true, .. } => {}
            Piece::Reference {
                reference,
                raw: false,
                place,
            } => {
                if sip && after_at {
                    return Err(host_in_sip(reference.as_str()));
                }
                *place = Place::AddressPart;
                last = Some(reference.as_str().to_owned());
            }
        }
    }
    // Without a literal `@host`, a `sip:` value would be the host itself.
    match last {
        Some(reference) if sip && !after_at => Err(host_in_sip(&reference)),
        _ => Ok(()),
    }
}

fn host_in_sip(reference: &str) -> String {
    format!(
        "`{{{{{reference}}}}}` can fill only the user part of a `sip:` address, since its value \
         would choose the host: write the host literally after it \
         (`sip:{{{{{reference}}}}}@pbx.example.com`), or write `{{{{raw {reference}}}}}` if the \
         value is trusted to choose"
    )
}

impl Templated {
    /// Checks the instruction with a well-formed stand-in in every template: unknown keys,
    /// missing parameters and wrong types fail here, at compile time, as do addresses whose
    /// literal text no value could complete.
    ///
    /// # Errors
    ///
    /// [`TemplateError::TemplatedInstruction`] for an instruction TaskRouter would refuse whatever
    /// fills it; [`TemplateError::MisplacedTemplate`] for an address template no value completes.
    pub(crate) fn new(node: Node) -> Result<Self, TemplateError> {
        let templated = Self { node };
        let Ok(stand_in) = templated
            .node
            .render(&mut |template: &Template| Ok::<_, Infallible>(template.stand_in()));
        Instruction::from_json(&stand_in).map_err(|source| {
            TemplateError::TemplatedInstruction {
                source: Box::new(source),
            }
        })?;
        for template in templated.node.templates() {
            if let Some(TextKind::Address(kinds)) = template.kind
                && !address_of(&template.stand_in(), kinds)
            {
                return Err(TemplateError::MisplacedTemplate {
                    field: template.field.clone(),
                    problem: format!(
                        "`{}` cannot be {} whatever fills it: a template fills a whole address, \
                         or {ADDRESS_PART} after literal text such as `client:`, `sip:` or `+1`",
                        template.source(),
                        AddressKind::describe(kinds)
                    ),
                });
            }
        }
        Ok(templated)
    }

    /// Fills the templates from the scope and validates the result; `Err` is the skip reason.
    pub(crate) fn fill(&self, scope: &impl Scope) -> Result<Answer, String> {
        let filled = self
            .node
            .render(&mut |template: &Template| template.fill(scope))?;
        let instruction =
            Instruction::from_json(&filled).map_err(|error| self.rejection(&error))?;
        Ok(Answer::Instruction(instruction))
    }

    /// One line per `{{raw …}}`, naming its field: what the document lets a value choose.
    pub(crate) fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        self.node.templates().flat_map(move |template| {
            let what = match template.kind {
                Some(TextKind::Url) => "where the URL points and its parameters",
                _ => "any address the field takes",
            };
            template.pieces.iter().filter_map(move |piece| match piece {
                Piece::Reference {
                    reference,
                    raw: true,
                    ..
                } => Some(format!(
                    "`{}` inserts `{{{{raw {}}}}}` as it is, so whoever sets that value \
                     chooses {what}; remove `raw` unless the value is trusted",
                    template.field,
                    reference.as_str()
                )),
                _ => None,
            })
        })
    }

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
                Piece::Reference { reference, raw, .. } => {
                    let raw = if *raw { "raw " } else { "" };
                    let _ = write!(text, "{{{{{raw}{}}}}}", reference.as_str());
                }
            }
        }
        text
    }

    /// The references, in order.
    pub(crate) fn references(&self) -> impl Iterator<Item = &Reference> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Reference { reference, .. } => Some(reference),
            Piece::Text(_) => None,
        })
    }

    /// The first `{{reference}}`, for messages.
    pub(crate) fn first_reference(&self) -> String {
        self.references()
            .next()
            .map(|reference| format!("{{{{{}}}}}", reference.as_str()))
            .unwrap_or_default()
    }

    /// Fills every reference from `scope`, each written as its place says (module docs); `Err`
    /// names the field and the reference, never the value.
    fn fill(&self, scope: &impl Scope) -> Result<String, String> {
        let mut text = String::new();
        // Where values landed in path segments, to check the segments they make.
        let mut in_path: Vec<(Range<usize>, &Reference)> = Vec::new();
        for piece in &self.pieces {
            let (reference, place) = match piece {
                Piece::Text(literal) => {
                    text.push_str(literal);
                    continue;
                }
                Piece::Reference {
                    reference, place, ..
                } => (reference, *place),
            };
            let unfilled = |what: &str| {
                format!(
                    "`{{{{{}}}}}` in `{}` {what}",
                    reference.as_str(),
                    self.field
                )
            };
            let value: Cow<'_, str> = match scope.resolve(reference) {
                Operand::String(value) => Cow::Borrowed(value),
                Operand::Integer(value) => Cow::Owned(value.to_string()),
                Operand::Float(value) => Cow::Owned(value.to_string()),
                Operand::Bool(value) => Cow::Owned(value.to_string()),
                Operand::Null => return Err(unfilled("is missing or null")),
                Operand::Array(..) => {
                    return Err(unfilled("is an array, which cannot fill text"));
                }
                Operand::Object => {
                    return Err(unfilled("is an object, which cannot fill text"));
                }
            };
            match place {
                Place::Verbatim => text.push_str(&value),
                Place::PathSegment => {
                    let start = text.len();
                    text.extend(utf8_percent_encode(&value, PATH_SEGMENT));
                    in_path.push((start..text.len(), reference));
                }
                Place::Query => text.extend(utf8_percent_encode(&value, QUERY)),
                Place::AddressPart => {
                    if !value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
                    {
                        return Err(unfilled(&format!(
                            "holds characters other than {ADDRESS_PART}, which part of an \
                             address cannot take"
                        )));
                    }
                    text.push_str(&value);
                }
            }
        }
        if let Some((_, reference)) = in_path.iter().find(|(range, _)| dot_segment(&text, range)) {
            return Err(format!(
                "`{{{{{}}}}}` in `{}` makes a path segment empty, `.` or `..`",
                reference.as_str(),
                self.field
            ));
        }
        if let Some(TextKind::Address(kinds)) = self.kind
            && !address_of(&text, kinds)
        {
            return Err(format!(
                "`{}` filled from `{}` is not {}",
                self.field,
                self.source(),
                AddressKind::describe(kinds)
            ));
        }
        Ok(text)
    }

    /// The string with each reference replaced by a well-formed value: the field's own shape for
    /// a reference that starts the string, a plain `0` after literal text, and `12` in part of an
    /// address (a value there holds only letters, digits, `_`, `.` and `-`, and `+{{digits}}`
    /// needs two digits to be a phone number).
    pub(crate) fn stand_in(&self) -> String {
        let mut text = String::new();
        for (position, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Text(literal) => text.push_str(literal),
                Piece::Reference {
                    place: Place::AddressPart,
                    ..
                } => text.push_str("12"),
                Piece::Reference { .. } if position == 0 => text.push_str(stand_in(&self.key)),
                Piece::Reference { .. } => text.push('0'),
            }
        }
        text
    }
}

/// Whether `text` is an address of one of `kinds`.
fn address_of(text: &str, kinds: &[AddressKind]) -> bool {
    AddressKind::of(text).is_some_and(|kind| kinds.contains(&kind))
}

/// Whether the path segment of `url` holding `filled` (a value's bytes) is empty, `.` or `..`,
/// percent-escapes decoded as a URL parser would before removing dot segments.
fn dot_segment(url: &str, filled: &Range<usize>) -> bool {
    // The literal text wrote the scheme and host, so the value sits after the `/` that ends
    // them, and its segment runs from the `/` before it to the next `/`, `?` or `#`.
    let start = url[..filled.start].rfind('/').map_or(0, |slash| slash + 1);
    let end = url[filled.end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |offset| filled.end + offset);
    let segment = percent_decode_str(&url[start..end]).decode_utf8_lossy();
    matches!(&*segment, "" | "." | "..")
}

/// A well-formed value for an instruction field, by its key: the shapes and value sets of
/// docs/taskrouter.md §2 as [`Instruction::from_json`] checks them.
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

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::{Value, json};

    use crate::callback::AssignmentCallback;
    use crate::form::FormParams;
    use crate::rules::{Rules, RulesError};

    const CALL_SID: &str = "CA0123456789abcdef0123456789abcdef";

    /// A callback with these task and worker attributes.
    fn callback(task: &Value, worker: &Value) -> AssignmentCallback {
        let pairs = [
            ("AccountSid", "AC00000000000000000000000000000001"),
            ("WorkspaceSid", "WS00000000000000000000000000000002"),
            ("WorkflowSid", "WW00000000000000000000000000000003"),
            ("TaskQueueSid", "WQ00000000000000000000000000000004"),
            ("WorkerSid", "WK00000000000000000000000000000005"),
            ("WorkerAttributes", &worker.to_string()),
            ("TaskSid", "WT00000000000000000000000000000006"),
            ("TaskAttributes", &task.to_string()),
            ("TaskAge", "42"),
            ("TaskPriority", "7"),
            ("ReservationSid", "WR00000000000000000000000000000007"),
        ];
        AssignmentCallback::try_from(FormParams::from_pairs(pairs)).expect("a valid callback")
    }

    fn noon() -> Timestamp {
        "2026-12-02T12:00:00Z".parse().expect("an instant")
    }

    /// A document whose rule `r` answers `instruction`, then accepts.
    fn document(instruction: &Value) -> String {
        json!({
            "rules": [{"name": "r", "when": "1 == 1", "instruction": instruction}],
            "default": {"instruction": "accept"}
        })
        .to_string()
    }

    /// The first error of `error`, as its place and message (no file, line or column).
    fn first_error(error: &RulesError) -> String {
        let problem = error.problems().errors().next().expect("an error");
        format!("{}: {}", problem.place, problem.message)
    }

    fn compile(instruction: &Value) -> Result<Rules, RulesError> {
        Rules::compile(&document(instruction))
    }

    /// A `redirect` to `url` for a call task.
    fn redirect(url: &str) -> Value {
        json!({"instruction": "redirect", "call_sid": CALL_SID, "url": url})
    }

    /// The URL `template` becomes with the task attribute `v` set to `value`.
    fn fill_url(template: &str, value: &Value) -> String {
        let rules = compile(&redirect(template)).expect("the document compiles");
        let decision = rules.decide(&callback(&json!({"v": value}), &json!({})), noon());
        assert_eq!(
            decision.rule.name(),
            "r",
            "{template}: {:?}",
            decision.skipped
        );
        let body: Value = serde_json::from_str(&decision.body).expect("JSON");
        body["url"].as_str().expect("a URL").to_owned()
    }

    #[test]
    fn url_values_are_percent_encoded_for_the_part_of_the_url_they_land_in() {
        #[rustfmt::skip]
        let cases = [
            ("https://example.com/twiml/{{task.v}}", json!("a/b?c#d%e f"),
             "https://example.com/twiml/a%2Fb%3Fc%23d%25e%20f", "a path segment: `/ ? # %` and space are data"),
            ("https://example.com/twiml/agent-{{task.v}}.xml", json!("x;y=1,z+"),
             "https://example.com/twiml/agent-x%3By%3D1%2Cz%2B.xml", "part of a segment: sub-delimiters encoded"),
            ("https://example.com/twiml?x={{task.v}}", json!("1&y=2+3#z%"),
             "https://example.com/twiml?x=1%26y%3D2%2B3%23z%25", "a query value: `& = + # %` are data"),
            ("https://example.com/twiml?{{task.v}}=1", json!("a=b&c"),
             "https://example.com/twiml?a%3Db%26c=1", "a query key"),
            ("https://example.com?x={{task.v}}", json!("a b"),
             "https://example.com?x=a%20b", "a query right after the host"),
            ("https://example.com/?next={{task.v}}", json!("https://a.example/b?c"),
             "https://example.com/?next=https://a.example/b?c", "a query keeps `: / ?` readable"),
            ("https://example.com/{{task.v}}", json!("é-_.~"),
             "https://example.com/%C3%A9-_.~", "UTF-8 bytes encoded, unreserved kept"),
            ("https://example.com/{{task.v}}", json!(12.5),
             "https://example.com/12.5", "a number as its JSON text"),
            ("https://example.com/?vip={{task.v}}", json!(true),
             "https://example.com/?vip=true", "a boolean as its JSON text"),
        ];
        for (template, value, expected, why) in cases {
            assert_eq!(fill_url(template, &value), expected, "{why}");
        }
    }

    #[test]
    fn a_url_template_that_could_choose_the_scheme_the_host_or_the_fragment_does_not_compile() {
        #[rustfmt::skip]
        let cases = [
            ("{{task.v}}", "the whole URL"),
            ("https://{{task.v}}/twiml", "the host"),
            ("https://{{task.v}}.example.com/twiml", "part of the host"),
            ("https://example.com{{task.v}}", "right after the host"),
            ("https://example.com:{{task.v}}/twiml", "the port"),
            ("https://user:{{task.v}}@example.com/twiml", "the user information"),
            ("http{{task.v}}://example.com/twiml", "the scheme"),
        ];
        for (url, why) in cases {
            let error = compile(&redirect(url)).expect_err(why);
            assert_eq!(
                first_error(&error),
                "rules[0] (`r`), `instruction`: `url`: `{{task.v}}` cannot fill the scheme or the host of the \
                 URL, since its value would choose where the URL points: write them literally \
                 before it and end the host with `/` or `?` \
                 (`https://example.com/twiml?value={{task.v}}`), or write `{{raw task.v}}` if the \
                 value is trusted to choose",
                "{why}"
            );
        }
        let error =
            compile(&redirect("https://example.com/twiml#{{task.v}}")).expect_err("the fragment");
        assert_eq!(
            first_error(&error),
            "rules[0] (`r`), `instruction`: `url`: `{{task.v}}` cannot fill the fragment (after `#`), which \
             Twilio reads as its own connection settings and never sends: put it in the query \
             (`?value={{task.v}}`)"
        );
        // Every URL parameter of every instruction is read the same way.
        for (instruction, field) in [
            (
                json!({"instruction": "call", "from": "+15005550006", "url": "https://example.com/"}),
                "status_callback_url",
            ),
            (json!({"instruction": "dequeue"}), "status_callback_url"),
            (json!({"instruction": "conference"}), "status_callback"),
            (json!({"instruction": "conference"}), "wait_url"),
            (
                json!({"instruction": "conference"}),
                "conference_status_callback",
            ),
            (
                json!({"instruction": "conference"}),
                "recording_status_callback",
            ),
            (
                json!({"instruction": "conference"}),
                "conference_recording_status_callback",
            ),
        ] {
            let mut instruction = instruction;
            instruction[field] = json!("https://example.com{{task.v}}");
            let error = compile(&instruction).expect_err(field);
            assert!(
                first_error(&error)
                    .starts_with(&format!("rules[0] (`r`), `instruction`: `{field}`: `{{{{task.v}}}}` cannot fill the scheme or the host")),
                "{field}: {error}"
            );
        }
    }

    #[test]
    fn a_value_that_makes_a_path_segment_empty_or_a_dot_segment_skips_the_rule() {
        #[rustfmt::skip]
        let cases = [
            ("https://example.com/twiml/{{task.v}}/connect", "", true, "an empty segment"),
            ("https://example.com/twiml/{{task.v}}", "", true, "an empty last segment"),
            ("https://example.com/twiml/{{task.v}}/connect", ".", true, "`.`"),
            ("https://example.com/twiml/{{task.v}}/connect", "..", true, "`..`"),
            ("https://example.com/twiml/{{task.v}}?x=1", "..", true, "`..` before the query"),
            ("https://example.com/twiml/.{{task.v}}/connect", ".", true, "`..` with the literal dot"),
            ("https://example.com/twiml/%2e{{task.v}}/connect", ".", true, "`%2e.`, decoded as a parser would"),
            ("https://example.com/twiml/{{task.v}}/connect", "...", false, "three dots are a name"),
            ("https://example.com/twiml/{{task.v}}/connect", "%2e%2e", false, "escapes in the value are data"),
            ("https://example.com/twiml/x{{task.v}}/connect", "", false, "a segment with literal text"),
            ("https://example.com/twiml?x={{task.v}}", "", false, "an empty query value"),
        ];
        for (url, value, skipped, why) in cases {
            let rules = compile(&redirect(url)).expect(why);
            let decision = rules.decide(&callback(&json!({"v": value}), &json!({})), noon());
            assert_eq!(
                decision.rule.name() == "default",
                skipped,
                "{why}: {}",
                decision.body
            );
            if skipped {
                assert_eq!(
                    decision.skipped[0].reason,
                    "`{{task.v}}` in `url` makes a path segment empty, `.` or `..`",
                    "{why}"
                );
            }
        }
    }

    #[test]
    fn addresses_filled_from_templates_must_be_addresses_the_field_takes() {
        let to =
            "a phone number in E.164 form (+14155550100), a `client:` address or a `sip:` address";
        let from = "a phone number in E.164 form (+14155550100), a `client:` address or a caller name of letters and digits";
        let part = "holds characters other than letters, digits, `_`, `.` and `-`, which part of an address cannot take";
        #[rustfmt::skip]
        let cases: Vec<(&str, &str, &str, Option<String>, &str)> = vec![
            ("to", "{{task.v}}", "+14155550100", None, "a phone number"),
            ("to", "{{task.v}}", "client:alice", None, "a client"),
            ("to", "{{task.v}}", "sip:alice@example.com;transport=tls", None, "a SIP address"),
            ("to", "{{task.v}}", "bob", Some(format!("`to` filled from `{{{{task.v}}}}` is not {to}")), "a caller name is no `to`"),
            ("from", "{{task.v}}", "bob", None, "but a `from` (Twilio error 40132)"),
            ("from", "{{task.v}}", "sip:alice@example.com", Some(format!("`from` filled from `{{{{task.v}}}}` is not {from}")), "a SIP `from`"),
            ("to", "{{task.v}}", "https://evil.example/", Some(format!("`to` filled from `{{{{task.v}}}}` is not {to}")), "a URL"),
            ("to", "{{task.v}}", "+1 415 555 0100", Some(format!("`to` filled from `{{{{task.v}}}}` is not {to}")), "a number not in E.164 form"),
            ("to", "client:{{task.v}}", "alice_40example_2Ecom", None, "an identity after `client:`"),
            ("to", "client:{{task.v}}", "alice?x=1", Some(format!("`{{{{task.v}}}}` in `to` {part}")), "a `?` after `client:`"),
            ("to", "sip:{{task.v}}@pbx.example.com", "1001", None, "an extension"),
            ("to", "sip:{{task.v}}@pbx.example.com", "a@evil.example;x=", Some(format!("`{{{{task.v}}}}` in `to` {part}")), "a value moving the SIP host"),
            ("to", "sip:{{task.v}}@pbx.example.com", "", Some(format!("`to` filled from `sip:{{{{task.v}}}}@pbx.example.com` is not {to}")), "an empty user"),
            ("to", "+1{{task.v}}", "4155550100", None, "digits after a country code"),
            ("to", "+1{{task.v}}", "415-555-0100", Some(format!("`to` filled from `+1{{{{task.v}}}}` is not {to}")), "dashes in a phone number"),
            ("from", "client:{{task.v}}", "bob", None, "a client `from`"),
        ];
        for (field, template, value, skipped, why) in cases {
            let mut instruction = json!({"instruction": "dequeue"});
            instruction[field] = json!(template);
            let rules = compile(&instruction).expect(why);
            let decision = rules.decide(&callback(&json!({"v": value}), &json!({})), noon());
            match skipped {
                None => {
                    assert_eq!(decision.rule.name(), "r", "{why}: {:?}", decision.skipped);
                    let body: Value = serde_json::from_str(&decision.body).expect("JSON");
                    assert_eq!(body[field], template.replace("{{task.v}}", value), "{why}");
                }
                Some(reason) => {
                    assert_eq!(decision.rule.name(), "default", "{why}: {}", decision.body);
                    assert_eq!(decision.skipped[0].reason, reason, "{why}");
                    if !value.is_empty() {
                        assert!(!reason.contains(value), "{why}: the value is not echoed");
                    }
                }
            }
        }
    }

    #[test]
    fn an_address_template_that_could_choose_a_sip_host_or_never_be_an_address_does_not_compile() {
        #[rustfmt::skip]
        let cases = [
            ("sip:agent@{{worker.v}}", "`{{worker.v}}` can fill only the user part of a `sip:` address, since its value would choose the host: write the host literally after it (`sip:{{worker.v}}@pbx.example.com`), or write `{{raw worker.v}}` if the value is trusted to choose", "the host"),
            ("sip:{{worker.v}}", "`{{worker.v}}` can fill only the user part of a `sip:` address, since its value would choose the host: write the host literally after it (`sip:{{worker.v}}@pbx.example.com`), or write `{{raw worker.v}}` if the value is trusted to choose", "no literal host"),
            ("clent:{{worker.v}}", "`clent:{{worker.v}}` cannot be a phone number in E.164 form (+14155550100), a `client:` address or a `sip:` address whatever fills it: a template fills a whole address, or letters, digits, `_`, `.` and `-` after literal text such as `client:`, `sip:` or `+1`", "a misspelt scheme"),
            ("{{worker.v}}@example.com", "`{{worker.v}}@example.com` cannot be a phone number in E.164 form (+14155550100), a `client:` address or a `sip:` address whatever fills it: a template fills a whole address, or letters, digits, `_`, `.` and `-` after literal text such as `client:`, `sip:` or `+1`", "a value that would have to bring its scheme"),
        ];
        for (to, problem, why) in cases {
            let error = compile(&json!({"instruction": "dequeue", "to": to})).expect_err(why);
            assert_eq!(
                first_error(&error),
                format!("rules[0] (`r`), `instruction`: `to`: {problem}"),
                "{why}"
            );
        }
    }

    #[test]
    fn raw_inserts_a_value_as_it_is_and_every_use_is_a_warning() {
        let rules = Rules::compile(
            &json!({"rules": [
                {"name": "whole", "when": "v != null", "instruction": redirect("{{raw task.v}}")},
                {"name": "path", "when": "1 == 1", "instruction": redirect("https://example.com/{{raw task.p}}?x={{task.x}}")},
                {"name": "sip", "when": "1 == 1", "instruction": {"instruction": "dequeue", "to": "sip:agent@{{raw worker.pbx}}"}},
                {"name": "plain", "when": "1 == 1", "instruction": redirect("https://example.com/?r={{raw}}")}
            ]})
            .to_string(),
        )
        .expect("the document compiles");
        assert_eq!(
            rules.warnings(),
            [
                "rules[0] (`whole`): `url` inserts `{{raw task.v}}` as it is, so whoever sets that value chooses where the URL points and its parameters; remove `raw` unless the value is trusted",
                "rules[1] (`path`): `url` inserts `{{raw task.p}}` as it is, so whoever sets that value chooses where the URL points and its parameters; remove `raw` unless the value is trusted",
                "rules[2] (`sip`): `to` inserts `{{raw worker.pbx}}` as it is, so whoever sets that value chooses any address the field takes; remove `raw` unless the value is trusted",
            ],
            "`{{raw}}` is the attribute named `raw`, not a raw template"
        );
        let decide = |task: Value, worker: Value| {
            let decision = rules.decide(&callback(&task, &worker), noon());
            (decision.rule.name(), decision.body.into_owned())
        };
        let url = "https://other.example/twiml?a=1&b=2";
        assert_eq!(
            decide(json!({"v": url}), json!({})),
            (
                "whole",
                format!(
                    r#"{{"instruction":"redirect","call_sid":"{CALL_SID}","url":"{url}","accept":false}}"#
                )
            ),
            "a whole URL"
        );
        assert_eq!(
            decide(json!({"p": "a/b", "x": "1&2"}), json!({})),
            (
                "path",
                format!(
                    r#"{{"instruction":"redirect","call_sid":"{CALL_SID}","url":"https://example.com/a/b?x=1%262","accept":false}}"#
                )
            ),
            "raw in the path, and the query still encoded"
        );
        assert_eq!(
            decide(json!({}), json!({"pbx": "pbx.example.com:5061"})),
            (
                "sip",
                r#"{"instruction":"dequeue","to":"sip:agent@pbx.example.com:5061"}"#.to_owned()
            ),
            "a raw SIP host"
        );
        assert_eq!(
            decide(json!({"raw": "1"}), json!({"pbx": "evil example"})),
            (
                "plain",
                format!(
                    r#"{{"instruction":"redirect","call_sid":"{CALL_SID}","url":"https://example.com/?r=1","accept":false}}"#
                )
            ),
            "a raw value is still validated: a SIP host with a space skips the rule"
        );
        let none = compile(&redirect("https://example.com/?x={{task.x}}")).expect("compiles");
        assert!(none.warnings().is_empty());
    }

    #[test]
    fn raw_is_refused_where_values_are_taken_as_they_are() {
        let error = compile(&json!({"instruction": "redirect", "call_sid": "{{raw task.call_sid}}", "url": "https://example.com/"}))
            .expect_err("raw in a SID");
        assert_eq!(
            first_error(&error),
            "rules[0] (`r`), `instruction`: `call_sid`: `{{raw task.call_sid}}`: `raw` only applies to URLs \
             and addresses, whose values are otherwise encoded or checked part by part; this \
             field takes its value as it is, so write `{{task.call_sid}}`"
        );
        let error = compile(
            &json!({"instruction": "call", "from": "+15005550006", "ur": "{{raw task.url}}"}),
        )
        .expect_err("raw in a misspelt key");
        assert!(
            error
                .to_string()
                .ends_with("`call` has no parameter `ur`: did you mean `url`?"),
            "the misspelling is what is reported: {error}"
        );
    }

    #[test]
    fn other_fields_fill_as_they_are_and_are_validated_once_filled() {
        let rules = Rules::compile(
            &json!({"rules": [
                {"name": "sid", "when": "1 == 1", "instruction": {"instruction": "reject", "activity_sid": "{{worker.offline}}"}},
                {"name": "choice", "when": "1 == 1", "instruction": {"instruction": "conference", "beep": "{{task.beep}}", "sip_auth_username": "{{worker.sip_user}}"}}
            ]})
            .to_string(),
        )
        .expect("compiles");
        let decision = rules.decide(
            &callback(
                &json!({"beep": "onEnter"}),
                &json!({"offline": "WA0123456789abcdef0123456789abcdef&x", "sip_user": "a\"b&c=d"}),
            ),
            noon(),
        );
        assert_eq!(
            decision.skipped[0].reason,
            "`activity_sid` filled from `{{worker.offline}}` is not a valid activity SID: expected `WA` followed by 32 hex digits"
        );
        assert_eq!(
            decision.body,
            r#"{"instruction":"conference","beep":"onEnter","sip_auth_username":"a\"b&c=d"}"#,
            "free text as it is, escaped once by the JSON serialiser"
        );
    }
}
