//! Assignment rules: which answer each assignment callback gets.
//!
//! A rules document is JSON, compiled once at start by [`Rules::compile`] into a runtime
//! structure; [`Rules::decide`] then picks the answer for a callback at an instant and cannot
//! fail. Everything that can be checked without a callback is checked at compile time, so a
//! broken document stops the function from starting instead of failing requests.
//!
//! # Format
//!
//! ```json
//! {
//!   "description": "optional text, ignored",
//!   "rules": [
//!     {
//!       "name": "dequeue-voice-call",
//!       "description": "optional text, ignored",
//!       "when": "call_sid != null",
//!       "instruction": {
//!         "instruction": "dequeue",
//!         "to": "{{worker.contact_uri}}",
//!         "from": "{{task.to}}",
//!         "post_work_activity_sid": "WA00000000000000000000000000000000"
//!       }
//!     }
//!   ],
//!   "default": { "instruction": "accept" },
//!   "schedules": {
//!     "new_york": {
//!       "time_zone": "America/New_York",
//!       "open": { "Mon-Fri": ["08:00-18:00"] },
//!       "closed": ["2026-12-25"]
//!     }
//!   }
//! }
//! ```
//!
//! - `rules` (required) is tried in order; the **first rule whose `when` matches wins**.
//! - `default` (optional) answers when no rule does; absent, it is `{}`, the deferral
//!   (docs/taskrouter.md §2: TaskRouter waits for an accept or reject through the REST API).
//! - Every rule has a `name` (non-empty, unique: it is logged with every decision), a `when` and
//!   either an `instruction` or a `defer` (the decision handed to a slower service,
//!   [`crate::defer`]). `description` is allowed at the top level and in rules, for people.
//! - `reservation_timeout_seconds` (optional) states the Workflow's `TaskReservationTimeout`, so
//!   [`Rules::warnings`] can tell whether each `defer`'s `within_seconds` leaves room before it.
//! - `schedules` (optional) names opening hours in a time zone, with holidays, for rules to read
//!   as `schedules.<name>.open` ([`crate::schedule`] has the format). A name is letters, digits
//!   and `_`, not starting with a digit, since it is written in references.
//! - Any other key is an error, so a typo (`"whne"`, `"defualt"`) stops the start instead of
//!   silently changing what is answered.
//! - `instruction` is an assignment instruction exactly as TaskRouter expects it
//!   (docs/taskrouter.md §2, <https://www.twilio.com/docs/taskrouter/handle-assignment-callbacks>), validated by
//!   [`Instruction::from_json`]; `{}` means defer.
//!
//! # `when`
//!
//! A TaskRouter expression (docs/taskrouter.md §5,
//! <https://www.twilio.com/docs/taskrouter/expression-syntax>). An empty `when` is an error; a rule
//! that matches every callback says so with Twilio's own idiom, `"when": "1 == 1"`. References
//! read:
//!
//! | reference | reads |
//! |---|---|
//! | `call_sid`, `customer.tier` (bare) | the task's attributes, as in Workflow filters |
//! | `task.…`, `worker.…` | the task's and the worker's attributes, as in Workflow targets |
//! | `callback.TaskQueueSid`, … | a parameter of the callback itself, by its Twilio name |
//! | `taskrouter.currentTime`, `taskrouter.dayOfWeek`, … | TaskRouter's time-of-day attributes, in UTC ([`crate::time_of_day`]) |
//! | `schedules.new_york.open`, `schedules.new_york.currentTime`, … | a schedule of the document, on its own wall clock ([`crate::schedule`]) |
//!
//! The clock is read once per callback by the caller of [`Rules::decide`], so every rule of one
//! decision sees the same instant. A `schedules.` reference must name a schedule of the document
//! and one of its attributes, or the document does not compile.
//!
//! `callback.` names one parameter: `AccountSid`, `WorkspaceSid`, `WorkflowSid`, `TaskQueueSid`,
//! `WorkerSid`, `TaskSid`, `ReservationSid` and `Timestamp` are strings, `TaskAge` and
//! `TaskPriority` integers, and any other parameter received is a string (missing: `null`). A task
//! attribute literally named `task`, `worker`, `callback`, `taskrouter` or `schedules` is reached
//! as `task.task`, … .
//!
//! # Templates
//!
//! Any string in an instruction may contain `{{reference}}` (same references as `when`, spaces
//! inside the braces allowed), several per string, with text around them:
//! `"url": "https://example.com/twiml?reservation={{callback.ReservationSid}}"`. `{{` always
//! starts a template. At compile time every reference is checked, every template is checked for
//! its place (below), and the instruction is validated with a stand-in of the right shape in
//! each template (a `WA…` SID in `activity_sid`, `+15005550006` in `to`, …), so unknown keys,
//! missing parameters, wrong types and misplaced templates fail at start. When deciding:
//!
//! - a reference that is missing or `null`, or holds an array or an object, fills nothing: the rule
//!   does not apply and the next one is tried; [`Decision::skipped`] names the first such template
//!   (fields in alphabetical order) and its reference, never a value;
//! - strings fill as text, numbers and booleans as their JSON text;
//! - a value fills data, never structure, by the field's kind ([`crate::template`] has the
//!   details): in a URL it is percent-encoded for the path segment or the query it lands in, and
//!   a template cannot write the scheme, the host or the fragment; in `to` and `from` the filled
//!   string must be a phone number in E.164 form, a `client:` or a `sip:` address (or a caller
//!   name, for `from`), and a value next to literal text (`client:{{worker.name}}`) holds only
//!   letters, digits, `_`, `.` and `-`; other fields fill as they are;
//! - the filled instruction is validated again (a `call_sid` filled with something that is not a
//!   call SID skips the rule the same way, as does an address of the wrong kind).
//!
//! `{{raw reference}}` inserts the value as it is, anywhere in a URL or an address (the filled
//! string is still validated): for a value trusted to choose where a URL points. `taskrouter
//! check` warns about each one ([`Rules::warnings`]).
//!
//! The `default` may not contain templates, so every decision ends in a valid answer. Static
//! (template-free) instructions are serialised once, at compile time.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use jiff::Timestamp;

use crate::callback::AssignmentCallback;
use crate::defer::{Deferral, MAX_WITHIN_SECONDS};
use crate::document::{Keys, Node, Object, Problem, Problems, Reader, Severity};
use crate::expression::{Expression, Known, Operand, Reference, Scope, Segment, lookup};
use crate::instruction::{Answer, Instruction, InstructionError};
use crate::schedule::{self, Schedule};
use crate::template::{
    Node as TemplateNode, Template, TemplateError, Templated, check_callback_reference,
    scan_instruction,
};
use crate::time_of_day::TimeOfDay;
use crate::workflow::check::time_of_day;

/// The built-in document: defer every reservation.
const BUILTIN: &str = include_str!("../rules/default.json");

/// The name the document's `default` is logged and counted under; no rule may take it.
const DEFAULT_NAME: &str = "default";

/// The root of references to the document's schedules.
const SCHEDULES: &str = "schedules";

/// A rules document that cannot be compiled: every problem found in it, each with the file,
/// line and column, the place in the document's words (``rules[1] (`vip`)``, `default`,
/// ``schedule `ny` ``) and what to change. It stops the function from starting. Warnings found
/// with the errors are kept, after them in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RulesError(Problems);

impl RulesError {
    /// Every problem, errors and warnings, in document order.
    pub fn problems(&self) -> &Problems {
        &self.0
    }

    /// The problems, to report them with others.
    pub fn into_problems(self) -> Problems {
        self.0
    }
}

/// The keys of a rules document. `rules` is required, with its own hint ([`Object::require`]).
const DOCUMENT: Keys = Keys {
    what: "a rules document",
    required: &[],
    optional: &[
        "rules",
        "default",
        "schedules",
        "reservation_timeout_seconds",
        "description",
    ],
};

/// The keys of a rule: all required but `description`, each with its own hint.
const RULE: Keys = Keys {
    what: "a rule",
    required: &[],
    optional: &["name", "when", "instruction", "defer", "description"],
};

/// Compiled assignment rules.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: Vec<Rule>,
    default: Static,
    schedules: Schedules,
    /// Whether some rule reads the time (a `taskrouter.` or `schedules.` reference).
    reads_clock: bool,
    /// The Workflow's reservation timeout, when the document states it.
    reservation_timeout: Option<u32>,
}

/// The document's schedules by name, sorted for lookup.
#[derive(Debug, Clone, Default)]
struct Schedules(Vec<(String, Schedule)>);

impl Schedules {
    fn get(&self, name: &str) -> Option<&Schedule> {
        self.0
            .binary_search_by(|(known, _)| known.as_str().cmp(name))
            .ok()
            .map(|index| &self.0[index].1)
    }
}

/// One compiled rule.
#[derive(Debug, Clone)]
struct Rule {
    name: String,
    when: Expression,
    answer: Compiled,
}

impl Rule {
    /// Whether `when` or a template reads the time.
    fn reads_clock(&self) -> bool {
        let templates = match &self.answer {
            Compiled::Templated(templated) => Some(templated.node.templates()),
            Compiled::Static(_) | Compiled::Deferred(_) => None,
        };
        self.when.references().any(reads_clock)
            || templates
                .into_iter()
                .flatten()
                .any(|template| template.references().any(reads_clock))
    }
}

/// A rule's answer, ready to serve.
#[derive(Debug, Clone)]
enum Compiled {
    /// Validated and serialised at compile time.
    Static(Static),
    /// Filled and validated per callback.
    Templated(Templated),
    /// Handed to a decider: answered `{}` now, decided through the REST API later.
    Deferred(Box<Deferred>),
}

/// A `defer`, with the `{}` it answers serialised once.
#[derive(Debug, Clone)]
struct Deferred {
    deferral: Deferral,
    body: Static,
}

/// The [`Decision::answer`] of a rule that defers to a decider.
pub const DEFERRED_ANSWER: &str = "decider";

/// An answer serialised once.
#[derive(Debug, Clone)]
struct Static {
    answer: &'static str,
    body: String,
}

/// Which part of the document answered a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen<'a> {
    /// A rule whose `when` matched and whose templates filled.
    Rule {
        /// Its position in `rules`, from 0.
        index: usize,
        /// Its name.
        name: &'a str,
    },
    /// The document's `default` (the deferral when it has none): no rule answered.
    Default,
}

impl<'a> Chosen<'a> {
    /// The name logs and metrics carry: the rule's, or `default` (which no rule may take).
    pub fn name(self) -> &'a str {
        match self {
            Self::Rule { name, .. } => name,
            Self::Default => DEFAULT_NAME,
        }
    }
}

impl std::fmt::Display for Chosen<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The answer chosen for one callback.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'a> {
    /// The rule that answered, or the default.
    pub rule: Chosen<'a>,
    /// `defer`, or the instruction's name (`accept`, `dequeue`, …).
    pub answer: &'static str,
    /// The exact JSON body to send: borrowed for static answers, built for templated ones.
    pub body: Cow<'a, str>,
    /// Rules whose `when` matched but whose templates could not be filled, in order. Empty, and
    /// not allocated, in the usual case.
    pub skipped: Vec<Skipped<'a>>,
    /// The rule's `defer`, when it hands the decision to a decider: the body is then `{}` and
    /// the caller queues the reservation ([`crate::defer::queue`]).
    pub deferral: Option<&'a Deferral>,
}

/// A rule that matched but could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped<'a> {
    /// The rule's name.
    pub rule: &'a str,
    /// Why: names the field, the template and the reference, never the value (customer data).
    pub reason: String,
}

impl Rules {
    /// The built-in rules, compiled from `rules/default.json`: defer every reservation with `{}`.
    pub fn builtin() -> Rules {
        // The shipped document is compiled by the test suite; should it ever be broken, deferring
        // is still the built-in behaviour.
        Rules::compile(BUILTIN).unwrap_or_else(|_| Rules {
            rules: Vec::new(),
            default: defer(),
            schedules: Schedules::default(),
            reads_clock: false,
            reservation_timeout: None,
        })
    }

    /// Compiles a rules document, named "the rules document" in messages.
    ///
    /// # Errors
    ///
    /// [`RulesError`] with every problem [`Rules::read`] finds.
    pub fn compile(json: &str) -> Result<Rules, RulesError> {
        Self::compile_named("the rules document", json)
    }

    /// Compiles the rules document `text`, called `source` in messages (its path, or the
    /// setting that held it), without looking for warnings: what the function does at start.
    ///
    /// # Errors
    ///
    /// [`RulesError`] with every problem [`Rules::read`] finds.
    pub fn compile_named(source: &str, text: &str) -> Result<Rules, RulesError> {
        Self::parse(source, text, false).map(|(rules, _)| rules)
    }

    /// Reads the rules document `text`, called `source` in messages (its path, or the setting
    /// that held it), and compiles it; with it, its warnings ([`Rules::read`]'s checks that
    /// find what is legal but almost certainly wrong).
    ///
    /// # Errors
    ///
    /// [`RulesError`] with every problem of the document: invalid JSON, an unknown or missing
    /// key, a value of the wrong type, an empty or duplicate name, an empty or invalid `when`,
    /// a malformed template, a template whose value could write a URL's scheme, host or
    /// fragment or a SIP address's host, a templated `default`, an instruction TaskRouter would
    /// refuse, a schedule that does not compile (an unknown time zone, a malformed date or
    /// period), or a reference to a schedule the document does not define.
    pub fn read(source: &str, text: &str) -> Result<(Rules, Problems), RulesError> {
        Self::parse(source, text, true)
    }

    /// Reads and compiles; the warnings only when asked for: their time-of-day checks try every
    /// minute of the week, a cost the function's cold start does not pay.
    fn parse(source: &str, text: &str, warnings: bool) -> Result<(Rules, Problems), RulesError> {
        let (reader, value) = Reader::parse(source, text).map_err(RulesError)?;
        let rules = read_document(&reader.root(&value));
        if warnings && let Some(rules) = &rules {
            reader.warn_repeated_keys();
            warn(&reader, rules);
        }
        let problems = reader.finish();
        match rules {
            Some(rules) if !problems.has_errors() => Ok((rules, problems)),
            _ if problems.has_errors() => Err(RulesError(problems)),
            // Every path that gives up records why; should one not, say so rather than start.
            _ => {
                let mut problems = problems;
                problems.push(Problem {
                    severity: Severity::Error,
                    source: source.to_owned(),
                    position: None,
                    pointer: String::new(),
                    place: String::new(),
                    message: "the document could not be compiled".to_owned(),
                });
                Err(RulesError(problems))
            }
        }
    }

    /// Chooses the answer for `callback` at `now`: the first rule whose `when` matches and whose
    /// templates fill, else the default. The same callback at the same instant always gets the
    /// same answer. `now` is read once by the caller, so every rule sees the same time; only
    /// `taskrouter.` and `schedules.` references read it.
    pub fn decide(&self, callback: &AssignmentCallback, now: Timestamp) -> Decision<'_> {
        let scope = Context {
            callback,
            instant: now,
            // Only rules that read the time pay for turning the instant into its attributes.
            utc: self.reads_clock.then(|| TimeOfDay::utc(now)),
            schedules: &self.schedules,
        };
        let mut skipped = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if !rule.when.evaluate(&scope) {
                continue;
            }
            match &rule.answer {
                Compiled::Static(answer) => {
                    return Decision {
                        rule: Chosen::Rule {
                            index,
                            name: &rule.name,
                        },
                        answer: answer.answer,
                        body: Cow::Borrowed(&answer.body),
                        skipped,
                        deferral: None,
                    };
                }
                Compiled::Deferred(deferred) => {
                    return Decision {
                        rule: Chosen::Rule {
                            index,
                            name: &rule.name,
                        },
                        answer: deferred.body.answer,
                        body: Cow::Borrowed(&deferred.body.body),
                        skipped,
                        deferral: Some(&deferred.deferral),
                    };
                }
                Compiled::Templated(templated) => match templated.fill(&scope) {
                    Ok(answer) => {
                        return Decision {
                            rule: Chosen::Rule {
                                index,
                                name: &rule.name,
                            },
                            answer: answer.name(),
                            body: Cow::Owned(answer.to_body()),
                            skipped,
                            deferral: None,
                        };
                    }
                    Err(reason) => skipped.push(Skipped {
                        rule: &rule.name,
                        reason,
                    }),
                },
            }
        }
        Decision {
            rule: Chosen::Default,
            answer: self.default.answer,
            body: Cow::Borrowed(&self.default.body),
            skipped,
            deferral: None,
        }
    }

    /// The number of rules, not counting the default.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules, so every callback gets the default.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The number of schedules the document defines.
    pub fn schedule_count(&self) -> usize {
        self.schedules.0.len()
    }

    /// Whether a decision can depend on the time: some rule reads a `taskrouter.` or
    /// `schedules.` reference, in its `when` or its templates.
    pub fn reads_clock(&self) -> bool {
        self.reads_clock
    }

    /// What the document lets a callback's values choose beyond what templates normally allow:
    /// one line per `{{raw …}}` ([`crate::template`]), naming the rule, the field and the
    /// template, for `taskrouter check` to print. Empty for most documents.
    pub fn warnings(&self) -> Vec<String> {
        (0..self.rules.len())
            .flat_map(|index| {
                let at = rule_place(index, &self.rules[index].name);
                self.answer_warnings(index)
                    .into_iter()
                    .map(move |(_, warning)| format!("{at}: {warning}"))
            })
            .collect()
    }

    /// The warnings about rule `index`'s answer, each with the key it is about: every `{{raw …}}`
    /// of a templated instruction, and a `defer` that may outlast the reservation timeout.
    fn answer_warnings(&self, index: usize) -> Vec<(&'static str, String)> {
        let rule = &self.rules[index];
        match &rule.answer {
            Compiled::Templated(templated) => templated
                .warnings()
                .map(|warning| ("instruction", warning))
                .collect(),
            Compiled::Deferred(deferred) => deferred
                .deferral
                .timeout_warning(self.reservation_timeout)
                .map(|warning| ("defer", warning))
                .into_iter()
                .collect(),
            Compiled::Static(_) => Vec::new(),
        }
    }

    /// Whether some rule defers to a decider, so callbacks may need the deferral queue.
    pub fn defers(&self) -> bool {
        self.rules
            .iter()
            .any(|rule| matches!(rule.answer, Compiled::Deferred(_)))
    }

    /// The rules' names, in order (the default, always possible, is not listed).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| rule.name.as_str())
    }
}

/// Reads a whole rules document at `root`, recording every problem; `None` when there was
/// any.
fn read_document(root: &Node<'_>) -> Option<Rules> {
    let document = root.object(&DOCUMENT)?;
    if let Some(description) = document.get("description") {
        description.string();
    }
    let (schedules, declared) = read_schedules(&document);
    let specs = document
        .require(
            "rules",
            "write `\"rules\": []` to answer every callback with the default",
        )
        .and_then(|rules| rules.array());
    let mut ok = specs.is_some();
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut rules = Vec::new();
    for (index, spec) in specs.into_iter().flatten().enumerate() {
        match read_rule(index, spec, &declared, &mut names) {
            Some(rule) => rules.push(rule),
            None => ok = false,
        }
    }
    let default = match document.get("default") {
        None => Some(defer()),
        Some(node) => read_default(&node),
    };
    let reservation_timeout = match document.get("reservation_timeout_seconds") {
        None => Some(None),
        Some(node) => {
            let seconds = node
                .value()
                .as_u64()
                .and_then(|seconds| u32::try_from(seconds).ok())
                .filter(|seconds| (1..=MAX_WITHIN_SECONDS).contains(seconds));
            if seconds.is_none() {
                node.error(format_args!(
                    "must be the Workflow's `TaskReservationTimeout`, a whole number of seconds \
                     from 1 to {MAX_WITHIN_SECONDS}, found {}",
                    node.value()
                ));
            }
            seconds.map(Some)
        }
    };
    let (schedules, default, reservation_timeout) = (schedules?, default?, reservation_timeout?);
    if !ok {
        return None;
    }
    let reads_clock = rules.iter().any(Rule::reads_clock);
    Some(Rules {
        rules,
        default,
        schedules,
        reads_clock,
        reservation_timeout,
    })
}

/// Records the document's warnings: what is legal but almost certainly not what was meant.
///
/// | warning | when |
/// |---|---|
/// | a rule is never reached | an earlier rule with a static answer (no template that could fail to fill) matches every callback (its `when` is always true), or has the very same `when` |
/// | a rule never matches | its `when` is false for every callback |
/// | a time-of-day test that never holds | a comparison of a `taskrouter.*` attribute with constants that holds at no minute of the week (`taskrouter.currentHour > 1700`), or a `when` reading only the time that no minute satisfies, such as a night shift written with `AND` (`taskrouter.currentTime >= 2200 AND taskrouter.currentTime < 600`); the same checks as `workflow check` ([`crate::workflow::check`]) |
/// | `{{raw …}}` | a value inserted as it is into a URL or an address ([`crate::template`]) |
///
/// A key given twice in one object is a warning too ([`Reader::warn_repeated_keys`]).
fn warn(reader: &Reader<'_>, rules: &Rules) {
    for (index, rule) in rules.rules.iter().enumerate() {
        let at = rule_place(index, &rule.name);
        let when = format!("/rules/{index}/when");
        let warn = |message: String| reader.report(Severity::Warning, &when, &at, message);
        let blocking = rules.rules[..index]
            .iter()
            .enumerate()
            .filter(|(_, earlier)| {
                matches!(earlier.answer, Compiled::Static(_) | Compiled::Deferred(_))
            })
            .find_map(|(position, earlier)| {
                let place = rule_place(position, &earlier.name);
                if earlier.when.constant() == Some(true) {
                    Some(format!(
                        "never reached: {place} matches every callback (`{}`) and answers it; \
                         move this rule above it",
                        earlier.when.source()
                    ))
                } else if earlier.when.same_condition(&rule.when) {
                    Some(format!(
                        "never reached: {place} has the same `when` and answers every callback \
                         it matches; merge the two rules or change one `when`"
                    ))
                } else {
                    None
                }
            });
        if let Some(message) = blocking {
            warn(message);
        }
        if rule.when.constant() == Some(false) {
            warn(format!(
                "`when`: `{}` is false for every callback, so the rule never matches; fix it or \
                 remove the rule",
                rule.when.source()
            ));
        }
        let mut times = Vec::new();
        time_of_day(&rule.when, &at, "when", &mut times);
        for time in times {
            warn(time.message());
        }
        for (key, warning) in rules.answer_warnings(index) {
            reader.report(
                Severity::Warning,
                &format!("/rules/{index}/{key}"),
                &at,
                warning,
            );
        }
    }
}

/// Records an invalid instruction at the key it names when the instruction object `node` has
/// it (a misspelt parameter, a wrong value), else at the object.
fn instruction_error(node: &Node<'_>, error: &InstructionError) {
    at_key(node, error.key()).error(format_args!("invalid instruction: {error}"));
}

/// The value of `key` in the object `node`, with `node`'s place (the message names the key),
/// or `node` itself when the key is `None` or absent.
fn at_key<'r>(node: &Node<'r>, key: Option<&str>) -> Node<'r> {
    key.and_then(|key| node.member(key)).map_or_else(
        || node.clone(),
        |value| value.named(node.place().to_owned()),
    )
}

/// A rule's place in messages: ``rules[1] (`vip`)``.
fn rule_place(index: usize, name: &str) -> String {
    format!("rules[{index}] (`{name}`)")
}

/// The document's `schedules`, each compiled, and the names of all it declares (a schedule
/// with a problem is still declared, so a rule reading it is not reported as well). `None`
/// for the schedules when any has a problem (recorded).
fn read_schedules(document: &Object<'_>) -> (Option<Schedules>, Vec<String>) {
    let Some(node) = document.get(SCHEDULES) else {
        return (Some(Schedules::default()), Vec::new());
    };
    let Some(specs) = node.value().as_object() else {
        node.wrong_type("an object of named schedules");
        return (None, Vec::new());
    };
    let rules = document.map().get("rules");
    let mut schedules = Vec::with_capacity(specs.len());
    let mut ok = true;
    for name in specs.keys() {
        let Some(spec) = node.member(name) else {
            continue;
        };
        let spec = spec.named(format!("schedule `{name}`{}", readers(name, rules)));
        let mut chars = name.chars();
        let writable = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !writable {
            spec.error(format_args!(
                "the name cannot be used in a reference such as `schedules.{name}.open`: use \
                 letters, digits and _, not starting with a digit, e.g. new_york"
            ));
            ok = false;
        }
        match Schedule::read(&spec) {
            Some(schedule) => schedules.push((name.clone(), schedule)),
            None => ok = false,
        }
    }
    schedules.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
    let mut declared: Vec<String> = specs.keys().cloned().collect();
    declared.sort_unstable();
    (ok.then_some(Schedules(schedules)), declared)
}

/// ` (read by rule `a`, rule `b`)` for the rules whose `when` or instruction mentions
/// `schedules.<name>.`, or empty. A text search: it only words a message.
fn readers(name: &str, rules: Option<&Value>) -> String {
    let needle = format!("{SCHEDULES}.{name}.");
    let names: Vec<String> = rules
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|rule| {
            ["when", "instruction"].iter().any(|key| {
                rule.get(key)
                    .is_some_and(|value| value.to_string().contains(&needle))
            })
        })
        .filter_map(|rule| rule.get("name").and_then(Value::as_str))
        .map(|rule| format!("rule `{rule}`"))
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" (read by {})", names.join(", "))
    }
}

/// The schedule name and attribute a `schedules.<name>.<attribute>` reference names, as written;
/// `None` for any other reference, including a `schedules.` one of another shape.
fn schedule_reference(reference: &Reference) -> Option<(&str, &str)> {
    match reference.segments() {
        [
            Segment::Key(root),
            Segment::Key(name),
            Segment::Key(attribute),
        ] if root == SCHEDULES => Some((name, attribute)),
        _ => None,
    }
}

/// What a `schedules.<name>.<attribute>` reference holds, for reading literals compared with it.
fn schedule_known(reference: &Reference) -> Option<Known> {
    let (_, attribute) = schedule_reference(reference)?;
    schedule::Attribute::from_name(attribute).map(schedule::Attribute::known)
}

/// Why a `schedules.` reference names no schedule the document declares (`declared`, sorted)
/// or no attribute of one; `None` when it does, or is no `schedules.` reference.
fn schedule_reference_problem(reference: &Reference, declared: &[String]) -> Option<String> {
    let defined = || {
        if declared.is_empty() {
            "the document defines no schedules: add one under `schedules`".to_owned()
        } else {
            format!("the document defines {}", declared.join(", "))
        }
    };
    let problem = |problem: String| Some(format!("`{}` {problem}", reference.as_str()));
    if let Some((name, attribute)) = schedule_reference(reference) {
        if declared
            .binary_search_by(|known| known.as_str().cmp(name))
            .is_err()
        {
            return problem(format!("names no schedule: {}", defined()));
        }
        return match schedule::Attribute::from_name(attribute) {
            Some(_) => None,
            None => problem(format!(
                "names no attribute of a schedule: write `schedules.{name}.` followed by one of {}",
                schedule::Attribute::names()
            )),
        };
    }
    match reference.segments() {
        // Any other shape under the root: `schedules`, `schedules.name`, `schedules.a.b.c`, ….
        [Segment::Key(root), ..] if root == SCHEDULES => problem(format!(
            "does not name an attribute of a schedule: write `schedules.<name>.open` (or {}); {}",
            schedule::Attribute::names(),
            defined()
        )),
        _ => None,
    }
}

/// Whether a reference reads the time. Only for references [`check_schedule_reference`] let
/// through, so every `schedules.` one names a schedule's attribute.
fn reads_clock(reference: &Reference) -> bool {
    reference.time_of_day().is_some() || schedule_reference(reference).is_some()
}

/// The `{}` deferral.
fn defer() -> Static {
    Static {
        answer: Answer::Defer.name(),
        body: Answer::Defer.to_body(),
    }
}

/// Reads rule `index` at `node`, recording every problem; `None` when there was any. `names`
/// holds the names of the rules before it, to refuse a repeated one.
fn read_rule<'r>(
    index: usize,
    node: Node<'r>,
    declared: &[String],
    names: &mut HashMap<&'r str, usize>,
) -> Option<Rule> {
    // The rule is called by its name as soon as it has a usable one.
    let written = node.value().get("name").and_then(Value::as_str);
    let place = match written {
        Some(name) if !name.trim().is_empty() => rule_place(index, name),
        _ => format!("rules[{index}]"),
    };
    let rule = node.named(place).object(&RULE)?;
    if let Some(description) = rule.get("description") {
        description.string();
    }
    let name = rule
        .require(
            "name",
            "give every rule a unique name, it is logged with each decision",
        )
        .and_then(|node| {
            let name = node.string()?;
            if name.trim().is_empty() {
                node.error(
                    "is empty: give every rule a unique name, it is logged with each decision",
                );
                return None;
            }
            if name == DEFAULT_NAME {
                node.error(
                    "the name `default` is reserved for the document's `default` answer, so \
                     logs and metrics can tell the two apart: rename the rule",
                );
                return None;
            }
            if let Some(&first) = names.get(name) {
                node.error(format_args!(
                    "the name is already used by rules[{first}]: rule names must be unique"
                ));
                return None;
            }
            names.insert(name, index);
            Some(name)
        });
    let when = rule
        .require(
            "when",
            "write `\"when\": \"1 == 1\"` for a rule that matches every callback",
        )
        .and_then(|node| read_when(&node, declared));
    let answer = read_outcome(&rule, declared);
    Some(Rule {
        name: name?.to_owned(),
        when: when?,
        answer: answer?,
    })
}

/// A rule's `when`: a non-empty expression whose `callback.` and `schedules.` references name
/// something that can exist.
fn read_when(node: &Node<'_>, declared: &[String]) -> Option<Expression> {
    let Some(text) = node.value().as_str() else {
        node.wrong_type("an expression string");
        return None;
    };
    if text.trim().is_empty() {
        node.error("is empty: write `\"when\": \"1 == 1\"` for a rule that matches every callback");
        return None;
    }
    let when = match Expression::parse_with(text, &schedule_known) {
        Ok(when) => when,
        Err(error) => {
            node.error(format_args!("is not a valid expression: {error}"));
            return None;
        }
    };
    let mut ok = true;
    for reference in when.references() {
        if let Err(error) = check_callback_reference(reference, None) {
            node.error(error);
            ok = false;
        }
        if let Some(problem) = schedule_reference_problem(reference, declared) {
            node.error(problem);
            ok = false;
        }
    }
    ok.then_some(when)
}

/// What a rule answers: its `instruction`, an assignment instruction (or `{}` to defer),
/// possibly with templates. The one place a rule's outcome is read.
fn read_outcome(rule: &Object<'_>, declared: &[String]) -> Option<Compiled> {
    match (rule.get("instruction"), rule.get("defer")) {
        (Some(_), Some(defer)) => {
            defer.error("a rule has both `instruction` and `defer`: keep one");
            return None;
        }
        (None, Some(defer)) => {
            return Deferral::read(&defer).map(|deferral| {
                Compiled::Deferred(Box::new(Deferred {
                    deferral,
                    body: Static {
                        answer: DEFERRED_ANSWER,
                        body: Answer::Defer.to_body(),
                    },
                }))
            });
        }
        _ => {}
    }
    let node = rule.require(
        "instruction",
        "write an instruction object, {} to defer, or a `defer` object to hand the decision to \
         a decider",
    )?;
    let Some(spec) = node.value().as_object() else {
        node.wrong_type("an instruction object, or {} to defer");
        return None;
    };
    if spec.is_empty() {
        return Some(Compiled::Static(defer()));
    }
    if let Some(Value::String(name)) = spec.get("instruction")
        && name.contains("{{")
    {
        node.error(
            "the instruction's name cannot be a template: write one of `accept`, `reject`, \
             `dequeue`, `call`, `redirect`, `conference`",
        );
        return None;
    }
    let template = match scan_instruction(spec) {
        Ok(template) => template,
        Err(error) => {
            node.error(error);
            return None;
        }
    };
    if let TemplateNode::Fixed(value) = template {
        return match Instruction::from_json(&value) {
            Ok(instruction) => {
                let answer = Answer::Instruction(instruction);
                Some(Compiled::Static(Static {
                    answer: answer.name(),
                    body: answer.to_body(),
                }))
            }
            Err(error) => {
                instruction_error(&node, &error);
                None
            }
        };
    }
    let templated = match Templated::new(template) {
        Ok(templated) => templated,
        Err(error) => {
            let key = match &error {
                TemplateError::TemplatedInstruction { source } => source.key(),
                _ => None,
            };
            at_key(&node, key).error(error);
            return None;
        }
    };
    let mut ok = true;
    for template in templated.node.templates() {
        for reference in template.references() {
            if let Some(problem) = schedule_reference_problem(reference, declared) {
                node.error(format_args!("`{}`: {problem}", template.field));
                ok = false;
            }
        }
    }
    ok.then_some(Compiled::Templated(templated))
}

/// The document's `default`: a static instruction, or `{}` to defer.
fn read_default(node: &Node<'_>) -> Option<Static> {
    let Some(spec) = node.value().as_object() else {
        node.wrong_type("an instruction object, or {} to defer");
        return None;
    };
    if spec.is_empty() {
        return Some(defer());
    }
    match scan_instruction(spec) {
        Err(error) => {
            node.error(error);
            None
        }
        Ok(TemplateNode::Fixed(value)) => match Instruction::from_json(&value) {
            Ok(instruction) => {
                let answer = Answer::Instruction(instruction);
                Some(Static {
                    answer: answer.name(),
                    body: answer.to_body(),
                })
            }
            Err(error) => {
                instruction_error(node, &error);
                None
            }
        },
        Ok(templated) => {
            let template = templated.first_template();
            node.error(format_args!(
                "`{}` holds the template `{}`, but the default cannot use templates: it must \
                 always be a valid answer; put the templated instruction in a rule with \
                 `\"when\": \"1 == 1\"`",
                template.map(|t| t.field.clone()).unwrap_or_default(),
                template.map(Template::first_reference).unwrap_or_default(),
            ));
            None
        }
    }
}

/// What one decision's rules read: the callback, and the instant it is decided at.
struct Context<'a> {
    callback: &'a AssignmentCallback,
    instant: Timestamp,
    /// `instant` read in UTC once, for the `taskrouter.` attributes; `None` when no rule reads
    /// the time (so no reference can ask for it).
    utc: Option<TimeOfDay>,
    schedules: &'a Schedules,
}

impl Scope for Context<'_> {
    /// The time of day in UTC, for `taskrouter.`.
    fn now(&self) -> Option<&TimeOfDay> {
        self.utc.as_ref()
    }

    /// As the callback's own scope, plus `schedules.name.attribute` (a schedule) at the instant.
    /// Nothing is allocated.
    fn value(&self, reference: &Reference) -> Operand<'_> {
        // Every `schedules.` reference names a schedule's attribute: the document's references
        // were checked when it was compiled.
        match schedule_reference(reference) {
            Some((name, attribute)) => self
                .schedules
                .get(name)
                .zip(schedule::Attribute::from_name(attribute))
                .map_or(Operand::Null, |(schedule, attribute)| {
                    schedule.get(attribute, self.instant)
                }),
            None => self.callback.value(reference),
        }
    }
}

impl Scope for AssignmentCallback {
    /// Bare references read the task's attributes, `task.` and `worker.` the task's and the
    /// worker's, `callback.Name` the callback's parameter `Name`. The callback alone carries no
    /// instant, so `taskrouter.` attributes are null here; [`Rules::decide`] adds the instant it
    /// is given (and the document's schedules). Nothing is allocated.
    fn value(&self, reference: &Reference) -> Operand<'_> {
        match reference.segments() {
            [Segment::Key(root), rest @ ..] if root == "task" => {
                lookup(&self.task_attributes, rest)
            }
            [Segment::Key(root), rest @ ..] if root == "worker" => {
                lookup(&self.worker_attributes, rest)
            }
            [Segment::Key(root), rest @ ..] if root == "callback" => match rest {
                [Segment::Key(name)] => callback_parameter(self, name),
                _ => Operand::Null,
            },
            all => lookup(&self.task_attributes, all),
        }
    }
}

/// A callback parameter by its Twilio name (docs/taskrouter.md §1).
fn callback_parameter<'a>(callback: &'a AssignmentCallback, name: &str) -> Operand<'a> {
    match name {
        "AccountSid" => Operand::String(callback.account_sid.as_str()),
        "WorkspaceSid" => Operand::String(callback.workspace_sid.as_str()),
        "WorkflowSid" => Operand::String(callback.workflow_sid.as_str()),
        "TaskQueueSid" => Operand::String(callback.task_queue_sid.as_str()),
        "WorkerSid" => Operand::String(callback.worker_sid.as_str()),
        "TaskSid" => Operand::String(callback.task_sid.as_str()),
        "ReservationSid" => Operand::String(callback.reservation_sid.as_str()),
        "TaskAge" => Operand::Integer(i64::try_from(callback.task_age).unwrap_or(i64::MAX)),
        "TaskPriority" => Operand::Integer(i64::from(callback.task_priority)),
        "Timestamp" => callback
            .timestamp
            .as_deref()
            .map_or(Operand::Null, Operand::String),
        other => callback.param(other).map_or(Operand::Null, Operand::String),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_rule_named_default_is_refused_so_logs_can_tell_it_from_the_fallback() {
        // Found while fuzzing: a rule named `default` and the fallback both logged `rule=default`.
        let json = r#"{"rules":[{"name":"default","when":"1 == 1","instruction":{"instruction":"accept"}}]}"#;
        let error = Rules::compile(json).expect_err("the name is reserved");
        assert_eq!(
            first_error(&error),
            "rules[0] (`default`), `name`: the name `default` is reserved for the document's \
             `default` answer, so logs and metrics can tell the two apart: rename the rule"
        );
    }

    use super::*;
    use crate::form::FormParams;

    const TASK_SID: &str = "WT00000000000000000000000000000006";
    const RESERVATION_SID: &str = "WR00000000000000000000000000000007";
    const CALL_SID: &str = "CA0123456789abcdef0123456789abcdef";

    /// A complete callback with these attributes and extra parameters.
    fn callback(task: Value, worker: Value, extra: &[(&str, &str)]) -> AssignmentCallback {
        let mut pairs = vec![
            (
                "AccountSid".to_owned(),
                "AC00000000000000000000000000000001".to_owned(),
            ),
            (
                "WorkspaceSid".to_owned(),
                "WS00000000000000000000000000000002".to_owned(),
            ),
            (
                "WorkflowSid".to_owned(),
                "WW00000000000000000000000000000003".to_owned(),
            ),
            (
                "TaskQueueSid".to_owned(),
                "WQ00000000000000000000000000000004".to_owned(),
            ),
            (
                "WorkerSid".to_owned(),
                "WK00000000000000000000000000000005".to_owned(),
            ),
            ("WorkerAttributes".to_owned(), worker.to_string()),
            ("TaskSid".to_owned(), TASK_SID.to_owned()),
            ("TaskAttributes".to_owned(), task.to_string()),
            ("TaskAge".to_owned(), "42".to_owned()),
            ("TaskPriority".to_owned(), "7".to_owned()),
            ("ReservationSid".to_owned(), RESERVATION_SID.to_owned()),
            ("Timestamp".to_owned(), "1700000000".to_owned()),
        ];
        pairs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        AssignmentCallback::try_from(FormParams::from_pairs(pairs)).expect("a valid callback")
    }

    /// An inbound call queued with `<Enqueue>`: the attributes TaskRouter gives such a task
    /// (docs/taskrouter.md §1).
    fn voice_task() -> Value {
        json!({
            "account_sid": "AC00000000000000000000000000000001",
            "call_sid": CALL_SID,
            "call_status": "in-progress",
            "called": "+18005550199",
            "caller": "+14155550100",
            "caller_city": "SAN FRANCISCO",
            "caller_country": "US",
            "direction": "inbound",
            "from": "+14155550100",
            "to": "+18005550199",
            "type": "voice"
        })
    }

    fn worker() -> Value {
        json!({
            "contact_uri": "client:alice",
            "skills": ["billing", "support"],
            "languages": ["en", "es"],
            "level": 3
        })
    }

    /// The instant of decisions that do not depend on the time: a Wednesday, 12:00 UTC.
    fn noon() -> Timestamp {
        "2026-12-02T12:00:00Z".parse().expect("an instant")
    }

    /// The first error of `error`, as its place and message (no file, line or column).
    fn first_error(error: &RulesError) -> String {
        let problem = error.problems().errors().next().expect("an error");
        if problem.place.is_empty() {
            problem.message.clone()
        } else {
            format!("{}: {}", problem.place, problem.message)
        }
    }

    fn rules(json: &str) -> Rules {
        Rules::compile(json).expect("a valid rules document")
    }

    fn example(name: &str) -> Rules {
        let path = format!("{}/rules/examples/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("the example exists");
        Rules::compile(&text).unwrap_or_else(|error| panic!("{path} compiles: {error}"))
    }

    #[test]
    fn the_built_in_rules_defer_every_callback_with_an_empty_object() {
        Rules::compile(BUILTIN).expect("rules/default.json compiles");
        let rules = Rules::builtin();
        assert!(rules.is_empty());
        assert_eq!(rules.len(), 0);
        for task in [json!({}), voice_task()] {
            let decision = rules.decide(&callback(task, worker(), &[]), noon());
            assert_eq!(decision.rule.name(), "default");
            assert_eq!(decision.answer, "defer");
            assert_eq!(decision.body, "{}");
            assert!(decision.skipped.is_empty());
        }
    }

    #[test]
    fn a_missing_default_defers() {
        let rules = rules(r#"{"rules": []}"#);
        let decision = rules.decide(&callback(json!({}), json!({}), &[]), noon());
        assert_eq!(
            (decision.rule.name(), decision.answer, &*decision.body),
            ("default", "defer", "{}")
        );
    }

    #[test]
    fn invalid_documents_are_refused_with_a_message_naming_the_rule_and_the_problem() {
        let accept = r#"{"instruction": "accept"}"#;
        let cases: Vec<(String, &str, &str)> = vec![
            (
                "{\"rules\": [".to_owned(),
                "not valid JSON: EOF while parsing a list",
                "truncated JSON",
            ),
            (
                "[]".to_owned(),
                "expected a rules document (an object), found an array",
                "not an object",
            ),
            (
                r#"{"rules": [], "defualt": {}}"#.to_owned(),
                "unknown key `defualt`: did you mean `default`?",
                "a misspelt top-level key",
            ),
            (
                r#"{"default": {}}"#.to_owned(),
                "missing key `rules`: write `\"rules\": []` to answer every callback with the default",
                "no rules key",
            ),
            (
                r#"{"rules": {}}"#.to_owned(),
                "rules: expected an array, found an object",
                "rules is not an array",
            ),
            (
                r#"{"rules": [], "description": 1}"#.to_owned(),
                "description: expected a string, found a number",
                "description is not text",
            ),
            (
                r#"{"rules": ["accept"]}"#.to_owned(),
                "rules[0]: expected a rule (an object), found a string",
                "a rule that is not an object",
            ),
            (
                format!(r#"{{"rules": [{{"when": "1 == 1", "instruction": {accept}}}]}}"#),
                "rules[0]: missing key `name`: give every rule a unique name, it is logged with each decision",
                "a rule without a name",
            ),
            (
                format!(r#"{{"rules": [{{"name": " ", "when": "1 == 1", "instruction": {accept}}}]}}"#),
                "rules[0], `name`: is empty: give every rule a unique name, it is logged with each decision",
                "a blank name",
            ),
            (
                format!(r#"{{"rules": [{{"name": 7, "when": "1 == 1", "instruction": {accept}}}]}}"#),
                "rules[0], `name`: expected a string, found a number",
                "a name that is not text",
            ),
            (
                format!(
                    r#"{{"rules": [{{"name": "a", "when": "1 == 1", "instruction": {accept}}},
                                   {{"name": "vip", "whn": "1 == 1", "instruction": {accept}}}]}}"#
                ),
                "rules[1] (`vip`): unknown key `whn`: did you mean `when`?",
                "a misspelt rule key",
            ),
            (
                format!(
                    r#"{{"rules": [{{"name": "vip", "when": "1 == 1", "instruction": {accept}}},
                                   {{"name": "b", "when": "1 == 1", "instruction": {accept}}},
                                   {{"name": "vip", "when": "1 == 1", "instruction": {accept}}}]}}"#
                ),
                "rules[2] (`vip`), `name`: the name is already used by rules[0]: rule names must be unique",
                "a duplicate name",
            ),
            (
                format!(r#"{{"rules": [{{"name": "vip", "instruction": {accept}}}]}}"#),
                "rules[0] (`vip`): missing key `when`: write `\"when\": \"1 == 1\"` for a rule that matches every callback",
                "no when",
            ),
            (
                format!(r#"{{"rules": [{{"name": "vip", "when": "  ", "instruction": {accept}}}]}}"#),
                "rules[0] (`vip`), `when`: is empty: write `\"when\": \"1 == 1\"` for a rule that matches every callback",
                "an empty when",
            ),
            (
                format!(r#"{{"rules": [{{"name": "vip", "when": true, "instruction": {accept}}}]}}"#),
                "rules[0] (`vip`), `when`: expected an expression string, found a boolean",
                "a when that is not text",
            ),
            (
                format!(
                    r#"{{"rules": [{{"name": "a", "when": "1 == 1", "instruction": {accept}}},
                                   {{"name": "vip", "when": "skills HAS )", "instruction": {accept}}}]}}"#
                ),
                "rules[1] (`vip`), `when`: is not a valid expression: unexpected `)` at column 12\n  skills HAS )\n             ^ expected a value after HAS",
                "a syntax error shows the rule, the column and a caret",
            ),
            (
                r#"{"rules": [{"name": "voice", "when": "1 == 1", "instruction": {"instruction": "dequeue", "to": "{{worker.contact-uri}}"}}]}"#
                    .to_owned(),
                "rules[0] (`voice`), `instruction`: `to` holds a malformed template: `{{worker.contact-uri}}` is not a valid reference: hyphens are not allowed in keys at column 15 of the reference: TaskRouter keys hold letters, digits and underscores; rename the attribute",
                "a template whose reference does not parse",
            ),
            (
                format!(
                    r#"{{"rules": [{{"name": "vip", "when": "callback.taskage > 5", "instruction": {accept}}}]}}"#
                ),
                "rules[0] (`vip`), `when`: `callback.taskage` does not name a parameter: parameter names are case-sensitive, write `callback.TaskAge`",
                "a callback parameter in the wrong case",
            ),
            (
                format!(
                    r#"{{"rules": [{{"name": "vip", "when": "callback.TaskAge.seconds > 5", "instruction": {accept}}}]}}"#
                ),
                "rules[0] (`vip`), `when`: `callback.TaskAge.seconds` does not name a parameter: write `callback.` and one parameter name, e.g. `callback.TaskQueueSid`",
                "a callback reference below a parameter",
            ),
            (
                r#"{"rules": [{"name": "vip", "when": "1 == 1"}]}"#.to_owned(),
                "rules[0] (`vip`): missing key `instruction`: write an instruction object, {} to defer, or a `defer` object to hand the decision to a decider",
                "no instruction",
            ),
            (
                r#"{"rules": [{"name": "vip", "when": "1 == 1", "instruction": "accept"}]}"#.to_owned(),
                "rules[0] (`vip`), `instruction`: expected an instruction object, or {} to defer, found a string",
                "an instruction that is not an object",
            ),
            (
                r#"{"rules": [{"name": "vip", "when": "1 == 1", "instruction": {"instruction": "reject"}}]}"#
                    .to_owned(),
                "rules[0] (`vip`), `instruction`: invalid instruction: `reject` needs the parameter `activity_sid`: add it",
                "a static instruction missing a required parameter",
            ),
            (
                r#"{"rules": [{"name": "vip", "when": "1 == 1", "instruction": {"instruction": "accept", "to": "x"}}]}"#
                    .to_owned(),
                "rules[0] (`vip`), `instruction`: invalid instruction: `accept` has no parameter `to`: remove it; `accept` takes no parameters",
                "a static instruction with an unknown key",
            ),
            (
                r#"{"rules": [{"name": "voice", "when": "1 == 1", "instruction": {"instruction": "dequeue", "too": "{{worker.contact_uri}}"}}]}"#
                    .to_owned(),
                "rules[0] (`voice`), `instruction`: invalid instruction with its templates filled with stand-in values (a template always fills a string): `dequeue` has no parameter `too`: did you mean `to`?",
                "a templated instruction with an unknown key",
            ),
            (
                r#"{"rules": [{"name": "voice", "when": "1 == 1", "instruction": {"instruction": "redirect", "call_sid": "{{call_sid}}"}}]}"#
                    .to_owned(),
                "rules[0] (`voice`), `instruction`: invalid instruction with its templates filled with stand-in values (a template always fills a string): `redirect` needs the parameter `url`: add it",
                "a templated instruction missing a required parameter",
            ),
            (
                r#"{"rules": [{"name": "voice", "when": "1 == 1", "instruction": {"instruction": "redirect", "call_sid": "{{call_sid}}", "url": "https://example.com/twiml", "accept": "{{accept}}"}}]}"#
                    .to_owned(),
                "rules[0] (`voice`), `instruction`: invalid instruction with its templates filled with stand-in values (a template always fills a string): `redirect` parameter `accept` must be a boolean, got \"+15005550006\"",
                "a template in a boolean parameter",
            ),
            (
                r#"{"rules": [{"name": "voice", "when": "1 == 1", "instruction": {"instruction": "dequeue", "to": "client:{{worker.name"}}]}"#
                    .to_owned(),
                "rules[0] (`voice`), `instruction`: `to` holds a malformed template: `{{worker.name` is not closed with `}}`",
                "an unclosed template",
            ),
            (
                r#"{"rules": [{"name": "voice", "when": "1 == 1", "instruction": {"instruction": "dequeue", "to": "{{ }}"}}]}"#
                    .to_owned(),
                "rules[0] (`voice`), `instruction`: `to` holds a malformed template: `{{ }}` names no reference",
                "an empty template",
            ),
            (
                r#"{"rules": [{"name": "voice", "when": "1 == 1", "instruction": {"instruction": "call", "from": "+18005550199", "url": "https://example.com/twiml?reservation={{callback.reservationSid}}"}}]}"#
                    .to_owned(),
                "rules[0] (`voice`), `instruction`: `url`: `callback.reservationSid` does not name a parameter: parameter names are case-sensitive, write `callback.ReservationSid`",
                "a callback template in the wrong case",
            ),
            (
                r#"{"rules": [{"name": "voice", "when": "1 == 1", "instruction": {"instruction": "{{task.instruction}}"}}]}"#
                    .to_owned(),
                "rules[0] (`voice`), `instruction`: the instruction's name cannot be a template: write one of `accept`, `reject`, `dequeue`, `call`, `redirect`, `conference`",
                "a templated instruction name",
            ),
            (
                r#"{"rules": [], "default": {"instruction": "dequeue", "to": "{{worker.contact_uri}}"}}"#.to_owned(),
                "default: `to` holds the template `{{worker.contact_uri}}`, but the default cannot use templates: it must always be a valid answer; put the templated instruction in a rule with `\"when\": \"1 == 1\"`",
                "a templated default",
            ),
            (
                r#"{"rules": [], "default": {"instruction": "reject", "activity_sid": "WA123"}}"#.to_owned(),
                "default: invalid instruction: `reject` parameter `activity_sid` is invalid: `WA123` is not a valid activity SID: expected `WA` followed by 32 hex digits",
                "an invalid default",
            ),
            (
                r#"{"rules": [], "default": "accept"}"#.to_owned(),
                "default: expected an instruction object, or {} to defer, found a string",
                "a default that is not an object",
            ),
        ];
        for (document, message, why) in cases {
            let error = Rules::compile(&document).expect_err(why);
            assert_eq!(first_error(&error), message, "{why}");
        }
    }

    /// `line:column pointer` of each problem, in order.
    fn positions(error: &RulesError) -> Vec<String> {
        error
            .problems()
            .all()
            .iter()
            .map(|problem| {
                let (line, column) = problem.position.expect("located");
                format!("{line}:{column} {}", problem.pointer)
            })
            .collect()
    }

    #[test]
    fn an_instruction_problem_is_located_at_the_parameter_it_names() {
        let text = r#"{"rules": [
  {"name": "a", "when": "1 == 1", "instruction": {"instruction": "reject",
     "activity_sd": "WA0123456789abcdef0123456789abcdef"}},
  {"name": "b", "when": "1 == 1", "instruction": {"instruction": "dequeue",
     "to": "{{task.to}}", "timeout": "soon"}},
  {"name": "c", "when": "1 == 1", "instruction": {"instruction": "reject"}}
]}"#;
        let error = Rules::read("rules.json", text).expect_err("three problems");
        let found = positions(&error);
        assert_eq!(
            found,
            [
                "3:21 /rules/0/instruction/activity_sd",
                "5:38 /rules/1/instruction/timeout",
                "6:50 /rules/2/instruction",
            ],
            "a misspelt parameter, a templated instruction's wrong value, a missing parameter \
             (at the object): {error}"
        );
        assert!(
            error.problems().all()[0]
                .to_string()
                .starts_with("rules.json:3:21: error: rules[0] (`a`), `instruction`: invalid instruction: `reject` has no parameter `activity_sd`"),
            "{error}"
        );
    }

    #[test]
    fn every_problem_of_a_document_is_reported_at_once_with_its_line_and_column() {
        let text = r#"{
  "rules": [
    {"name": "vip", "whn": "tier == 'gold'", "instruction": {"instruction": "accept"}},
    {"name": "vip", "when": "tier ==", "instruction": {"instruction": "reject"}},
    {"name": "late", "when": "schedules.nyc.open == true", "instruction": {}}
  ],
  "schedules": {"ny": {"time_zone": "America/New_Yrok", "open": {"Mon": ["9-5"]}}},
  "defualt": {}
}"#;
        let error = Rules::read("rules.json", text).expect_err("nine problems");
        let lines = positions(&error);
        assert_eq!(
            lines,
            [
                "8:3 /defualt",
                "7:37 /schedules/ny/time_zone",
                "7:74 /schedules/ny/open/Mon/0",
                "3:21 /rules/0/whn",
                "3:5 /rules/0",
                "4:14 /rules/1/name",
                "4:29 /rules/1/when",
                "4:55 /rules/1/instruction",
                "5:30 /rules/2/when",
            ],
            "{error}"
        );
        assert!(
            error.problems().all()[0]
                .message
                .ends_with("did you mean `default`?"),
            "{error}"
        );
    }

    #[test]
    fn checking_warns_about_a_key_given_twice_which_json_silently_drops() {
        let text = "{\"rules\": [{\"name\": \"a\", \"when\": \"vip == true\",\n  \"when\": \"1 == 1\", \"instruction\": {}}]}";
        let (rules, warnings) = Rules::read("rules.json", text).expect("the document compiles");
        assert_eq!(
            warnings.to_string(),
            "rules.json:2:3: warning: `when` is given more than once in the same object: only the \
             last one is read; remove the others"
        );
        assert_eq!(rules.len(), 1);
        assert!(
            Rules::compile(text).is_ok(),
            "the function's start does not look for warnings"
        );
    }

    #[test]
    fn a_decision_names_the_rule_by_position_and_name_or_the_default_by_type() {
        let rules = rules(
            r#"{"rules": [
                {"name": "gold", "when": "tier == 'gold'", "instruction": {"instruction": "accept"}},
                {"name": "silver", "when": "tier == 'silver'", "instruction": {}}
            ]}"#,
        );
        let decide = |tier: &str| {
            rules
                .decide(&callback(json!({"tier": tier}), json!({}), &[]), noon())
                .rule
        };
        assert_eq!(
            decide("silver"),
            Chosen::Rule {
                index: 1,
                name: "silver"
            }
        );
        assert_eq!(decide("bronze"), Chosen::Default);
        assert_eq!(decide("bronze").to_string(), "default");
        assert_eq!(decide("gold").to_string(), "gold");
    }

    #[test]
    fn a_callback_parameter_name_in_the_wrong_case_is_refused_but_unknown_names_are_not() {
        // Twilio adds parameters without notice (docs/taskrouter.md §1), so a name that is not
        // documented may still arrive; only a case variant of a documented one is certainly a typo.
        let document = r#"{"rules": [{"name": "new", "when": "callback.BrandNewParameter == 'x'",
                            "instruction": {"instruction": "accept"}}]}"#;
        assert_eq!(rules(document).len(), 1);
    }

    #[test]
    fn the_first_matching_rule_wins_and_the_default_answers_when_none_matches() {
        let rules = rules(
            r#"{"rules": [
                {"name": "billing", "when": "type == 'billing'", "instruction": {"instruction": "accept"}},
                {"name": "voice", "when": "type == 'voice'", "instruction": {}},
                {"name": "everything", "when": "1 == 1", "instruction": {"instruction": "accept"}}
            ], "default": {"instruction": "reject", "activity_sid": "WA00000000000000000000000000000009"}}"#,
        );
        assert_eq!(rules.len(), 3);
        let cases = [
            (
                json!({"type": "billing"}),
                "billing",
                "accept",
                r#"{"instruction":"accept"}"#,
            ),
            (json!({"type": "voice"}), "voice", "defer", "{}"),
            (
                json!({"type": "chat"}),
                "everything",
                "accept",
                r#"{"instruction":"accept"}"#,
            ),
        ];
        for (task, rule, answer, body) in cases {
            let decision = rules.decide(&callback(task.clone(), worker(), &[]), noon());
            assert_eq!(
                (decision.rule.name(), decision.answer, &*decision.body),
                (rule, answer, body),
                "{task}"
            );
        }
        let none = super::Rules::compile(
            r#"{"rules": [{"name": "billing", "when": "type == 'billing'", "instruction": {}}],
                "default": {"instruction": "reject", "activity_sid": "WA00000000000000000000000000000009"}}"#,
        )
        .expect("valid");
        let decision = none.decide(&callback(json!({"type": "chat"}), worker(), &[]), noon());
        assert_eq!(decision.rule.name(), "default");
        assert_eq!(decision.answer, "reject");
        assert_eq!(
            decision.body,
            r#"{"instruction":"reject","activity_sid":"WA00000000000000000000000000000009"}"#
        );
    }

    #[test]
    fn references_read_the_task_the_worker_and_the_callback() {
        let callback = callback(
            voice_task(),
            worker(),
            &[
                ("BrandNewParameter", "hello"),
                ("TaskAttributes.extra", "x"),
            ],
        );
        let cases = [
            (
                "direction == 'inbound'",
                true,
                "a bare reference reads the task",
            ),
            ("task.direction == 'inbound'", true, "task. reads the task"),
            (
                "worker.contact_uri == 'client:alice'",
                true,
                "worker. reads the worker",
            ),
            (
                "contact_uri == 'client:alice'",
                false,
                "a bare reference does not read the worker",
            ),
            (
                "worker.direction == 'inbound'",
                false,
                "worker. does not read the task",
            ),
            ("worker.skills HAS 'billing'", true, "arrays of the worker"),
            ("worker.languages[1] == 'es'", true, "array indexes"),
            ("worker.level >= 3", true, "numbers of the worker"),
            ("missing == null", true, "a missing attribute is null"),
            (
                "callback.TaskQueueSid == 'WQ00000000000000000000000000000004'",
                true,
                "a SID parameter is a string",
            ),
            (
                "callback.WorkflowSid == 'WW00000000000000000000000000000003'",
                true,
                "WorkflowSid",
            ),
            (
                "callback.WorkerSid == 'WK00000000000000000000000000000005'",
                true,
                "WorkerSid",
            ),
            (
                "callback.TaskSid == 'WT00000000000000000000000000000006'",
                true,
                "TaskSid",
            ),
            (
                "callback.ReservationSid == 'WR00000000000000000000000000000007'",
                true,
                "ReservationSid",
            ),
            (
                "callback.WorkspaceSid == 'WS00000000000000000000000000000002'",
                true,
                "WorkspaceSid",
            ),
            (
                "callback.AccountSid == 'AC00000000000000000000000000000001'",
                true,
                "AccountSid",
            ),
            ("callback.TaskAge > 41", true, "TaskAge is an integer"),
            (
                "callback.TaskAge > 42",
                false,
                "TaskAge compares as a number",
            ),
            (
                "callback.TaskPriority == 7",
                true,
                "TaskPriority is an integer",
            ),
            (
                "callback.Timestamp == '1700000000'",
                true,
                "Timestamp is a string",
            ),
            (
                "callback.BrandNewParameter == 'hello'",
                true,
                "any received parameter, as a string",
            ),
            (
                "callback.NeverSent == null",
                true,
                "a parameter not received is null",
            ),
            ("task.call_sid CONTAINS 'CA'", true, "strings of the task"),
        ];
        for (expression, expected, why) in cases {
            let rules = rules(&format!(
                r#"{{"rules": [{{"name": "r", "when": {}, "instruction": {{"instruction": "accept"}}}}]}}"#,
                Value::from(expression)
            ));
            let matched = rules.decide(&callback, noon()).rule.name() == "r";
            assert_eq!(matched, expected, "{why}: {expression}");
        }
    }

    #[test]
    fn templates_fill_from_references_with_text_around_them() {
        let rules = rules(
            r#"{"rules": [{"name": "voice", "when": "call_sid != null", "instruction": {
                "instruction": "call",
                "url": "https://example.com/twiml?task={{callback.TaskSid}}&level={{worker.level}}&vip={{task.vip}}&age={{ callback.TaskAge }}",
                "from": "{{task.to}}",
                "to": "{{worker.contact_uri}}",
                "accept": true
            }}]}"#,
        );
        let mut task = voice_task();
        task["vip"] = json!(true);
        let decision = rules.decide(&callback(task, worker(), &[]), noon());
        assert_eq!(decision.rule.name(), "voice");
        assert_eq!(decision.answer, "call");
        assert!(decision.skipped.is_empty());
        assert_eq!(
            decision.body,
            format!(
                r#"{{"instruction":"call","url":"https://example.com/twiml?task={TASK_SID}&level=3&vip=true&age=42","from":"+18005550199","to":"client:alice","accept":true}}"#
            )
        );
    }

    #[test]
    fn a_template_without_a_value_skips_the_rule_and_says_why_without_the_value() {
        let rules = rules(
            r#"{"rules": [
                {"name": "from-dialed", "when": "call_sid != null", "instruction":
                    {"instruction": "dequeue", "to": "{{worker.contact_uri}}", "from": "{{task.to}}"}},
                {"name": "from-skills", "when": "call_sid != null", "instruction":
                    {"instruction": "dequeue", "from": "{{worker.skills}}"}},
                {"name": "from-worker", "when": "call_sid != null", "instruction":
                    {"instruction": "dequeue", "from": "{{worker}}"}},
                {"name": "plain", "when": "call_sid != null", "instruction": {"instruction": "dequeue"}}
            ]}"#,
        );
        let mut task = voice_task();
        task["to"] = Value::Null;
        let decision = rules.decide(&callback(task, worker(), &[]), noon());
        assert_eq!(decision.rule.name(), "plain");
        assert_eq!(decision.body, r#"{"instruction":"dequeue"}"#);
        assert_eq!(
            decision.skipped,
            vec![
                Skipped {
                    rule: "from-dialed",
                    reason: "`{{task.to}}` in `from` is missing or null".to_owned(),
                },
                Skipped {
                    rule: "from-skills",
                    reason: "`{{worker.skills}}` in `from` is an array, which cannot fill text"
                        .to_owned(),
                },
                Skipped {
                    rule: "from-worker",
                    reason: "`{{worker}}` in `from` is an object, which cannot fill text"
                        .to_owned(),
                },
            ]
        );
        let missing = rules.decide(&callback(voice_task(), json!({}), &[]), noon());
        assert_eq!(
            missing.skipped[0].reason,
            "`{{worker.contact_uri}}` in `to` is missing or null"
        );
    }

    #[test]
    fn a_filled_instruction_that_is_invalid_skips_the_rule_without_quoting_the_value() {
        let rules = rules(
            r#"{"rules": [
                {"name": "redirect", "when": "1 == 1", "instruction": {"instruction": "redirect",
                    "call_sid": "{{call_sid}}", "url": "https://example.com/twiml", "accept": true}},
                {"name": "hold-music", "when": "1 == 1", "instruction": {"instruction": "conference",
                    "wait_url": "{{raw wait}}"}}
            ], "default": {"instruction": "accept"}}"#,
        );
        let task = json!({"call_sid": "+14155550100", "wait": "ftp://files.example.com/music"});
        let decision = rules.decide(&callback(task, worker(), &[]), noon());
        assert_eq!(decision.rule.name(), "default");
        assert_eq!(decision.answer, "accept");
        assert_eq!(
            decision.skipped,
            vec![
                Skipped {
                    rule: "redirect",
                    reason: "`call_sid` filled from `{{call_sid}}` is not a valid call SID: expected `CA` followed by 32 hex digits".to_owned(),
                },
                Skipped {
                    rule: "hold-music",
                    reason: "`wait_url` filled from `{{raw wait}}` is not an absolute http(s) URL with a host: its scheme is not http or https".to_owned(),
                },
            ]
        );
        for skipped in &decision.skipped {
            assert!(!skipped.reason.contains("4155550100"), "{}", skipped.reason);
            assert!(
                !skipped.reason.contains("files.example.com"),
                "{}",
                skipped.reason
            );
        }
    }

    #[test]
    fn static_answers_are_borrowed_and_nothing_is_skipped_or_allocated() {
        let rules = rules(
            r#"{"rules": [{"name": "all", "when": "1 == 1", "instruction": {"instruction": "accept"}}]}"#,
        );
        let decision = rules.decide(&callback(json!({}), json!({}), &[]), noon());
        assert!(matches!(decision.body, Cow::Borrowed(_)));
        assert_eq!(decision.skipped.capacity(), 0);
    }

    #[test]
    fn the_same_callback_always_gets_the_same_answer() {
        let rules = example("voice-dequeue.json");
        let callback = callback(voice_task(), worker(), &[]);
        let first = rules.decide(&callback, noon());
        for _ in 0..5 {
            assert_eq!(rules.decide(&callback, noon()), first);
        }
    }

    #[test]
    fn every_example_document_compiles() {
        let directory = format!("{}/rules/examples", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(&directory)
            .expect("rules/examples exists")
            .map(|entry| {
                entry
                    .expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| !name.ends_with(".test.json"))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "accept-all.json",
                "business-hours.json",
                "defer.json",
                "redirect-to-twiml.json",
                "reject-missing-skill.json",
                "twilio-time-of-day.json",
                "voice-conference.json",
                "voice-dequeue.json"
            ],
            "a new example needs a test document beside it (run by tests/function/cli.rs)"
        );
        for name in &names {
            example(name);
        }
    }

    #[test]
    fn accept_all_accepts_voice_and_other_tasks() {
        let rules = example("accept-all.json");
        for task in [voice_task(), json!({"type": "chat"})] {
            let decision = rules.decide(&callback(task, worker(), &[]), noon());
            assert_eq!(
                (decision.rule.name(), &*decision.body),
                ("default", r#"{"instruction":"accept"}"#)
            );
        }
    }

    #[test]
    fn voice_dequeue_connects_calls_to_the_worker_from_the_dialed_number() {
        let rules = example("voice-dequeue.json");
        let decision = rules.decide(&callback(voice_task(), worker(), &[]), noon());
        assert_eq!(decision.rule.name(), "dequeue-from-dialed-number");
        assert_eq!(
            decision.body,
            r#"{"instruction":"dequeue","to":"client:alice","from":"+18005550199","post_work_activity_sid":"WA00000000000000000000000000000000"}"#
        );

        let mut called_only = voice_task();
        called_only.as_object_mut().expect("an object").remove("to");
        let decision = rules.decide(&callback(called_only, worker(), &[]), noon());
        assert_eq!(decision.rule.name(), "dequeue-from-called-number");
        assert_eq!(
            decision.skipped[0].reason,
            "`{{task.to}}` in `from` is missing or null"
        );
        assert!(
            decision.body.contains(r#""from":"+18005550199""#),
            "{}",
            decision.body
        );

        let decision = rules.decide(&callback(voice_task(), json!({"skills": []}), &[]), noon());
        assert_eq!(
            (decision.rule.name(), decision.answer),
            ("voice-call-not-dequeued", "defer")
        );
        assert_eq!(decision.skipped.len(), 2);

        let decision = rules.decide(&callback(json!({"type": "chat"}), worker(), &[]), noon());
        assert_eq!(
            (decision.rule.name(), &*decision.body),
            ("default", r#"{"instruction":"accept"}"#)
        );
    }

    #[test]
    fn voice_conference_joins_calls_and_accepts_other_tasks() {
        let rules = example("voice-conference.json");
        let decision = rules.decide(&callback(voice_task(), worker(), &[]), noon());
        assert_eq!(decision.rule.name(), "conference-from-dialed-number");
        assert_eq!(
            decision.body,
            r#"{"instruction":"conference","from":"+18005550199","end_conference_on_exit":true}"#
        );
        let mut no_to = voice_task();
        no_to["to"] = Value::Null;
        let decision = rules.decide(&callback(no_to, worker(), &[]), noon());
        assert_eq!(decision.rule.name(), "conference");
        assert_eq!(
            decision.body,
            r#"{"instruction":"conference","end_conference_on_exit":true}"#
        );
        let decision = rules.decide(&callback(json!({"type": "chat"}), worker(), &[]), noon());
        assert_eq!(decision.answer, "accept");
    }

    #[test]
    fn reject_missing_skill_rejects_only_workers_without_the_required_skill() {
        let rules = example("reject-missing-skill.json");
        let reject =
            r#"{"instruction":"reject","activity_sid":"WA00000000000000000000000000000000"}"#;
        let accept = r#"{"instruction":"accept"}"#;
        let cases = [
            (
                json!({"type": "chat"}),
                worker(),
                "no-skill-required",
                accept,
                "no skill required",
            ),
            (
                json!({"required_skill": "billing"}),
                worker(),
                "worker-has-required-skill",
                accept,
                "the worker has the skill",
            ),
            (
                json!({"required_skill": "sales"}),
                worker(),
                "default",
                reject,
                "the worker lacks the skill",
            ),
            (
                json!({"required_skill": "billing"}),
                json!({"contact_uri": "client:bob"}),
                "default",
                reject,
                "the worker has no skills at all",
            ),
        ];
        for (task, worker, rule, body, why) in cases {
            let decision = rules.decide(&callback(task, worker, &[]), noon());
            assert_eq!(
                (decision.rule.name(), &*decision.body),
                (rule, body),
                "{why}"
            );
        }
    }

    #[test]
    fn redirect_to_twiml_redirects_the_queued_call() {
        let rules = example("redirect-to-twiml.json");
        let decision = rules.decide(&callback(voice_task(), worker(), &[]), noon());
        assert_eq!(decision.rule.name(), "redirect-voice-call");
        assert_eq!(
            decision.body,
            format!(
                r#"{{"instruction":"redirect","call_sid":"{CALL_SID}","url":"https://example.com/twiml/connect-agent?reservation={RESERVATION_SID}","accept":true}}"#
            )
        );
        let decision = rules.decide(&callback(json!({"type": "chat"}), worker(), &[]), noon());
        assert_eq!(
            (decision.rule.name(), decision.answer),
            ("default", "accept")
        );
    }

    fn at(instant: &str) -> Timestamp {
        instant.parse().expect("an RFC 3339 instant")
    }

    #[test]
    fn time_of_day_rules_decide_at_the_instant_passed_in() {
        let rules = example("twilio-time-of-day.json");
        let chat = || callback(json!({"type": "chat"}), worker(), &[]);
        #[rustfmt::skip]
        let cases = [
            ("2026-12-03T10:00:00Z", "opening-hours", "Thursday ('THU') 10:00 UTC"),
            ("2026-12-05T12:00:00Z", "opening-hours", "Saturday (`= 'Sat'`) 12:00 UTC"),
            ("2026-12-03T17:30:00Z", "daytime", "Thursday 17:30 UTC: closed, hour 17"),
            ("2026-12-02T08:30:00Z", "default", "Wednesday 08:30 UTC: closed, hour 8"),
        ];
        for (instant, rule, message) in cases {
            assert_eq!(
                rules.decide(&chat(), at(instant)).rule.name(),
                rule,
                "{message}"
            );
        }
    }

    #[test]
    fn schedules_decide_by_the_wall_clock_of_their_zone_across_both_changes() {
        let rules = example("business-hours.json");
        let call = || callback(voice_task(), worker(), &[]);
        #[rustfmt::skip]
        let cases = [
            ("2026-03-06T12:30:00Z", "after-hours-reject", "Friday before the spring change: 07:30 EST"),
            ("2026-03-09T12:30:00Z", "office-hours-voice", "Monday after it: 08:30 EDT"),
            ("2026-10-30T22:30:00Z", "after-hours-reject", "Friday before the autumn change: 18:30 EDT"),
            ("2026-11-02T22:30:00Z", "office-hours-voice", "Monday after it: 17:30 EST"),
            ("2026-12-25T15:00:00Z", "after-hours-reject", "Christmas"),
        ];
        for (instant, rule, message) in cases {
            assert_eq!(
                rules.decide(&call(), at(instant)).rule.name(),
                rule,
                "{message}"
            );
        }
    }

    #[test]
    fn templates_fill_from_the_time_of_day_and_schedules_at_the_instant() {
        let rules = rules(
            r#"{"schedules": {"paris": {"time_zone": "Europe/Paris", "open": {"Mon-Fri": ["09:00-17:00"]}}},
                "rules": [{"name": "r", "when": "1 == 1", "instruction": {"instruction": "call", "from": "+15005550006",
                    "url": "https://example.com/twiml?utc={{taskrouter.dayOfWeek}}{{taskrouter.currentTime}}&paris={{schedules.paris.dayOfWeek}}{{schedules.paris.currentTime}}&open={{schedules.paris.open}}"}}]}"#,
        );
        assert!(rules.reads_clock());
        // 23:30 UTC on a Sunday is 00:30 on Monday in Paris (CET, UTC+1).
        let decision = rules.decide(
            &callback(json!({}), worker(), &[]),
            at("2026-12-06T23:30:00Z"),
        );
        assert_eq!(
            decision.body,
            r#"{"instruction":"call","url":"https://example.com/twiml?utc=Sun2330&paris=Mon30&open=false","from":"+15005550006"}"#
        );
    }

    #[test]
    fn a_document_reads_the_clock_only_when_a_rule_reads_the_time() {
        #[rustfmt::skip]
        let cases = [
            ("voice-dequeue.json", false),
            ("accept-all.json", false),
            ("twilio-time-of-day.json", true),
            ("business-hours.json", true),
        ];
        for (name, reads) in cases {
            assert_eq!(example(name).reads_clock(), reads, "{name}");
        }
        let unused = rules(
            r#"{"schedules": {"paris": {"time_zone": "Europe/Paris", "open": {}}}, "rules": []}"#,
        );
        assert!(
            !unused.reads_clock(),
            "a schedule no rule reads does not make decisions depend on time"
        );
        assert_eq!(unused.schedule_count(), 1);
    }

    #[test]
    fn schedule_problems_stop_the_compile_naming_the_schedule_or_the_rule() {
        let document = |schedules: &str, when: &str| {
            format!(
                r#"{{"schedules": {schedules}, "rules": [{{"name": "open", "when": {}, "instruction": {{"instruction": "accept"}}}}]}}"#,
                Value::from(when)
            )
        };
        let ny =
            r#"{"ny": {"time_zone": "America/New_York", "open": {"Mon-Fri": ["08:00-18:00"]}}}"#;
        #[rustfmt::skip]
        let cases = [
            (document(r#"{"ny": {"time_zone": "America/NewYork", "open": {}}}"#, "1 == 1"),
             "schedule `ny`, `time_zone`: `America/NewYork` is not a time zone of the IANA database (did you mean `America/New_York`?): write a name such as America/New_York, Europe/Paris or UTC", "an unknown zone"),
            (document(r#"{"ny": {"time_zone": "UTC", "open": {}, "closed": ["2026-12-32"]}}"#, "1 == 1"),
             "schedule `ny`, `closed`[0]: `2026-12-32` is not a date: write YYYY-MM-DD with a real month and day, e.g. 2026-12-25", "a malformed date"),
            (document(r#"{"new-york": {"time_zone": "UTC", "open": {}}}"#, "1 == 1"),
             "schedule `new-york`: the name cannot be used in a reference such as `schedules.new-york.open`: use letters, digits and _, not starting with a digit, e.g. new_york", "a name with a hyphen"),
            (document("[]", "1 == 1"), "schedules: expected an object of named schedules, found an array", "not an object"),
            (document(r#"{"ny": {"time_zone": "America/New York", "open": {}}}"#, "schedules.ny.open == true"),
             "schedule `ny` (read by rule `open`), `time_zone`: `America/New York` is not a time zone of the IANA database (did you mean `America/New_York`?): write a name such as America/New_York, Europe/Paris or UTC", "an unknown zone, naming the rule that reads it"),
            (document(ny, "schedules.paris.open == true"),
             "rules[0] (`open`), `when`: `schedules.paris.open` names no schedule: the document defines ny", "an undefined schedule"),
            (document("{}", "schedules.ny.open == true"),
             "rules[0] (`open`), `when`: `schedules.ny.open` names no schedule: the document defines no schedules: add one under `schedules`", "no schedules at all"),
            (document(ny, "schedules.ny.isOpen == true"),
             "rules[0] (`open`), `when`: `schedules.ny.isOpen` names no attribute of a schedule: write `schedules.ny.` followed by one of open, currentTime, currentHour, currentMin, dayOfWeek", "an unknown attribute"),
            (document(ny, "schedules.ny == null"),
             "rules[0] (`open`), `when`: `schedules.ny` does not name an attribute of a schedule: write `schedules.<name>.open` (or open, currentTime, currentHour, currentMin, dayOfWeek); the document defines ny", "a schedule without an attribute"),
            (document(ny, "schedules.ny.open == 'yes'"),
             "rules[0] (`open`), `when`: is not a valid expression: `'yes'` is not true or false at column 22\n  schedules.ny.open == 'yes'\n                       ^ `schedules.ny.open` is true or false: compare it with one, e.g. `schedules.ny.open == true`", "a string for open"),
            (document(ny, "schedules.ny.dayOfWeek IN ['Sat', 'Sunday']"),
             "rules[0] (`open`), `when`: is not a valid expression: `'Sunday'` is not a day of the week at column 35\n  schedules.ny.dayOfWeek IN ['Sat', 'Sunday']\n                                    ^ `schedules.ny.dayOfWeek` holds a day: did you mean 'Sun'? write Mon, Tue, Wed, Thu, Fri, Sat or Sun (in any case)", "a local day that is no day"),
            (format!(r#"{{"schedules": {ny}, "rules": [{{"name": "t", "when": "1 == 1", "instruction": {{"instruction": "call", "from": "+15005550006", "url": "https://example.com/?d={{{{schedules.la.dayOfWeek}}}}"}}}}]}}"#),
             "rules[0] (`t`), `instruction`: `url`: `schedules.la.dayOfWeek` names no schedule: the document defines ny", "an undefined schedule in a template"),
        ];
        for (json, message, why) in cases {
            let error = Rules::compile(&json).expect_err(why);
            assert_eq!(first_error(&error), message, "{why}");
        }
    }

    #[test]
    fn a_deferring_rule_answers_an_empty_object_and_carries_its_deferral() {
        let rules = rules(
            r#"{"rules": [
                {"name": "crm-lookup", "when": "call_sid != null", "defer": {
                    "decider": "https://decider.example.com/assign",
                    "within_seconds": 100,
                    "otherwise": {"instruction": "accept"}}},
                {"name": "everyone", "when": "1 == 1", "instruction": {"instruction": "accept"}}
            ]}"#,
        );
        assert!(rules.defers());
        let voice = rules.decide(&callback(voice_task(), worker(), &[]), noon());
        assert_eq!(voice.rule.name(), "crm-lookup");
        assert_eq!(voice.answer, DEFERRED_ANSWER);
        assert_eq!(voice.body, "{}");
        let deferral = voice.deferral.expect("the rule defers");
        assert_eq!(
            deferral.decider.as_str(),
            "https://decider.example.com/assign"
        );
        assert_eq!(deferral.within_seconds, 100);
        assert_eq!(deferral.otherwise, Instruction::Accept);
        let other = rules.decide(&callback(json!({}), worker(), &[]), noon());
        assert_eq!((other.rule.name(), other.deferral), ("everyone", None));
        assert!(!example("accept-all.json").defers());
    }

    #[test]
    fn defer_problems_stop_the_compile_naming_the_rule() {
        let cases = [
            (
                r#"{"rules": [{"name": "slow", "when": "1 == 1", "instruction": {}, "defer": {}}]}"#,
                "rules[0] (`slow`), `defer`: a rule has both `instruction` and `defer`: keep one",
            ),
            (
                r#"{"rules": [{"name": "slow", "when": "1 == 1", "defer": {"decider": "https://d.example", "within_seconds": 0, "otherwise": {"instruction": "accept"}}}]}"#,
                "rules[0] (`slow`), `defer`, `within_seconds`: must be a whole number of seconds from 1 to 86400 (the longest reservation timeout), found 0",
            ),
            (
                r#"{"rules": [{"name": "slow", "when": "1 == 1"}]}"#,
                "rules[0] (`slow`): missing key `instruction`: write an instruction object, {} to defer, or a `defer` object to hand the decision to a decider",
            ),
            (
                r#"{"rules": [], "reservation_timeout_seconds": "120"}"#,
                "reservation_timeout_seconds: must be the Workflow's `TaskReservationTimeout`, a whole number of seconds from 1 to 86400, found \"120\"",
            ),
        ];
        for (json, expected) in cases {
            let error = Rules::compile(json).expect_err(json);
            assert_eq!(first_error(&error), expected, "{json}");
        }
    }

    #[test]
    fn a_long_deferral_is_warned_about_unless_the_reservation_timeout_leaves_room() {
        let document = |within: u32, timeout: &str| {
            rules(&format!(
                r#"{{{timeout}"rules": [{{"name": "slow", "when": "1 == 1", "defer": {{
                    "decider": "https://d.example", "within_seconds": {within},
                    "otherwise": {{"instruction": "accept"}}}}}}]}}"#
            ))
        };
        assert_eq!(document(100, "").warnings(), Vec::<String>::new());
        let warnings = document(120, "").warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("rules[0] (`slow`): `defer`: `within_seconds` is 120"),
            "{warnings:?}"
        );
        assert_eq!(
            document(200, r#""reservation_timeout_seconds": 300, "#).warnings(),
            Vec::<String>::new()
        );
        assert_eq!(
            document(295, r#""reservation_timeout_seconds": 300, "#)
                .warnings()
                .len(),
            1
        );
    }
}
