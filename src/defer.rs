//! Deferred decisions: a rule's `defer`, for work that takes longer than the callback's five
//! seconds (a CRM look-up, a fraud check, a supervisor's approval).
//!
//! TaskRouter waits at most five seconds for the assignment callback's answer
//! (docs/taskrouter.md §2); slow work answers `{}` at once and accepts or rejects the reservation
//! through the REST API within the Workflow's reservation timeout (docs/taskrouter.md §3,
//! docs/taskrouter.md §7). A rule that says
//!
//! ```json
//! "defer": {
//!   "decider": "https://decider.example.com/assignment",
//!   "within_seconds": 100,
//!   "otherwise": { "instruction": "reject", "activity_sid": "WA0123456789abcdef0123456789abcdef" }
//! }
//! ```
//!
//! instead of an `instruction` makes the callback answer `{}` and queue the reservation
//! ([`queue`]); the `taskrouter-decider` function then asks the `decider` URL until it answers an
//! instruction, and applies `otherwise` once `within_seconds` have passed without one. This module
//! is the model: [`Deferral::read`] reads and validates the object, naming the key at fault.
//!
//! `within_seconds` must leave room before the Workflow's `TaskReservationTimeout` (default 120 s,
//! docs/taskrouter.md §3): past it TaskRouter times the reservation out and moves the worker to
//! the workspace's timeout activity, which is what `otherwise` is there to prevent.
//! [`Deferral::timeout_warning`] says when it may not.

pub mod decider;
pub mod queue;

use serde_json::{Value, json};

use crate::document::{Keys, Node, Problems, Reader};
use crate::instruction::{HttpUrl, Instruction};

/// The keys of a `defer` object (all required, each with a message of its own).
const KEYS: Keys = Keys {
    what: "a `defer` object",
    required: &[],
    optional: &["decider", "within_seconds", "otherwise"],
};

/// The Workflow's reservation timeout when nobody changed it (docs/taskrouter.md §3,
/// docs/taskrouter.md §7: `TaskReservationTimeout`, default 120 s).
pub const DEFAULT_RESERVATION_TIMEOUT_SECONDS: u32 = 120;

/// The longest reservation timeout a Workflow can have (docs/taskrouter.md §7: ≤ 86,400 s), so
/// the longest a deferral can wait.
pub const MAX_WITHIN_SECONDS: u32 = 86_400;

/// How much of the reservation timeout `within_seconds` must leave for applying `otherwise`: a
/// fetch and an update over REST, with a retry each.
pub const OTHERWISE_MARGIN_SECONDS: u32 = 10;

/// A rule's `defer`: who decides, for how long, and what happens when no answer comes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferral {
    /// The URL the decider function POSTs the callback's parameters to, signed like Twilio's
    /// webhooks.
    pub decider: HttpUrl,
    /// How long after the callback arrived an answer is waited for, in seconds (1–86,400).
    pub within_seconds: u32,
    /// What is applied when no answer came within `within_seconds`: an instruction that accepts
    /// or rejects the reservation, so it never waits for TaskRouter's own timeout.
    pub otherwise: Instruction,
}

impl Deferral {
    /// Reads a `defer` object, the value `node` of a rules document: every problem is recorded
    /// on the document's reader at the key at fault (an unknown or missing key, a `decider`
    /// that is not an absolute http(s) URL, a `within_seconds` that is not a whole number from
    /// 1 to 86,400, an `otherwise` that is not a valid instruction or leaves the reservation
    /// pending). `None` when there was any.
    pub fn read(node: &Node<'_>) -> Option<Deferral> {
        let object = node.object(&KEYS)?;
        let decider = object
            .require("decider", "the URL of the service that decides")
            .and_then(|value| match value.value() {
                Value::String(url) => {
                    let decider = HttpUrl::new(url.as_str());
                    if decider.is_none() {
                        // Credentials in a URL are not repeated in a message.
                        let found = if url.contains('@') {
                            "a URL with `@` in it".to_owned()
                        } else {
                            format!("{url:?}")
                        };
                        value.error(format_args!(
                            "must be an absolute https:// URL (the service that decides), found {found}"
                        ));
                    }
                    decider
                }
                _ => {
                    value.wrong_type("an absolute https:// URL (the service that decides)");
                    None
                }
            });
        let within_seconds = object
            .require(
                "within_seconds",
                "how long to wait for the decider's answer, e.g. 100",
            )
            .and_then(|value| {
                let seconds = value
                    .value()
                    .as_u64()
                    .and_then(|seconds| u32::try_from(seconds).ok())
                    .filter(|seconds| (1..=MAX_WITHIN_SECONDS).contains(seconds));
                if seconds.is_none() {
                    value.error(format_args!(
                        "must be a whole number of seconds from 1 to {MAX_WITHIN_SECONDS} (the \
                         longest reservation timeout), found {}",
                        value.value()
                    ));
                }
                seconds
            });
        let otherwise = object
            .require(
                "otherwise",
                "the instruction applied when no answer came in time, e.g. {\"instruction\": \"reject\", \"activity_sid\": \"WA…\"}",
            )
            .and_then(|value| match Instruction::from_json(value.value()) {
                Ok(otherwise) if otherwise.leaves_pending() => {
                    value.error(format_args!(
                        "must accept or reject the reservation, but `{}` without \
                         `\"accept\": true` leaves it pending until TaskRouter times it out: add \
                         `\"accept\": true` or choose `accept` or `reject`",
                        otherwise.name()
                    ));
                    None
                }
                Ok(otherwise) => Some(otherwise),
                Err(error) => {
                    value.error(format_args!("not a valid instruction: {error}"));
                    None
                }
            });
        Some(Self {
            decider: decider?,
            within_seconds: within_seconds?,
            otherwise: otherwise?,
        })
    }

    /// Reads a `defer` object from its JSON text alone, called `defer` in messages (a rules
    /// document's are read by [`Deferral::read`]).
    ///
    /// # Errors
    ///
    /// [`Problems`] with every problem of the object, each at its line and column.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskrouter_lambda::defer::Deferral;
    ///
    /// let deferral = Deferral::parse(r#"{
    ///     "decider": "https://decider.example.com/assignment",
    ///     "within_seconds": 100,
    ///     "otherwise": {"instruction": "accept"}
    /// }"#)?;
    /// assert_eq!(deferral.within_seconds, 100);
    ///
    /// let typo = Deferral::parse(r#"{"decidr": "https://example.com"}"#);
    /// assert_eq!(
    ///     typo.expect_err("a misspelt key").to_string(),
    ///     "defer:1:2: error: unknown key `decidr`: did you mean `decider`?\n\
    ///      defer:1:1: error: missing key `decider`: the URL of the service that decides\n\
    ///      defer:1:1: error: missing key `within_seconds`: how long to wait for the decider's answer, e.g. 100\n\
    ///      defer:1:1: error: missing key `otherwise`: the instruction applied when no answer came in time, e.g. {\"instruction\": \"reject\", \"activity_sid\": \"WA…\"}",
    /// );
    /// # Ok::<(), taskrouter_lambda::document::Problems>(())
    /// ```
    pub fn parse(text: &str) -> Result<Deferral, Problems> {
        let (reader, value) = Reader::parse("defer", text)?;
        let deferral = Self::read(&reader.root(&value));
        let problems = reader.finish();
        match deferral {
            Some(deferral) if !problems.has_errors() => Ok(deferral),
            _ => Err(problems),
        }
    }

    /// The object as a rules document writes it, for `taskrouter decide` and `taskrouter test`.
    pub fn to_json(&self) -> Value {
        json!({
            "decider": self.decider.as_str(),
            "within_seconds": self.within_seconds,
            "otherwise": serde_json::to_value(&self.otherwise).unwrap_or(Value::Null),
        })
    }

    /// A warning when `within_seconds` may not leave room for `otherwise` before the Workflow's
    /// reservation timeout: with the timeout stated (`reservation_timeout_seconds`), when less
    /// than [`OTHERWISE_MARGIN_SECONDS`] remain; without it, when `within_seconds` reaches the
    /// default timeout of 120 s (a Workflow may have raised it, but the document does not say).
    pub fn timeout_warning(&self, reservation_timeout: Option<u32>) -> Option<String> {
        match reservation_timeout {
            Some(timeout)
                if self.within_seconds.saturating_add(OTHERWISE_MARGIN_SECONDS) > timeout =>
            {
                Some(format!(
                    "`defer`: `within_seconds` is {} but the Workflow's reservation timeout is {timeout} s \
                     (`reservation_timeout_seconds`): leave at least {OTHERWISE_MARGIN_SECONDS} s for \
                     `otherwise`, or TaskRouter times the reservation out and logs the worker out",
                    self.within_seconds
                ))
            }
            None if self.within_seconds >= DEFAULT_RESERVATION_TIMEOUT_SECONDS => Some(format!(
                "`defer`: `within_seconds` is {} but a Workflow's reservation timeout is \
                 {DEFAULT_RESERVATION_TIMEOUT_SECONDS} s unless raised: state the Workflow's \
                 `TaskReservationTimeout` as `reservation_timeout_seconds` at the top of the \
                 document, or lower `within_seconds`",
                self.within_seconds
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn otherwise() -> Value {
        json!({"instruction": "reject", "activity_sid": "WA0123456789abcdef0123456789abcdef"})
    }

    #[test]
    fn a_valid_defer_object_is_read_with_its_otherwise_instruction() {
        let deferral = Deferral::parse(
            &json!({
                "decider": "https://decider.example.com/assign?team=a",
                "within_seconds": 100,
                "otherwise": otherwise(),
            })
            .to_string(),
        )
        .expect("valid");
        assert_eq!(
            deferral.decider.as_str(),
            "https://decider.example.com/assign?team=a"
        );
        assert_eq!(deferral.within_seconds, 100);
        assert_eq!(deferral.otherwise.name(), "reject");
        assert_eq!(
            deferral.to_json(),
            json!({
                "decider": "https://decider.example.com/assign?team=a",
                "within_seconds": 100,
                "otherwise": otherwise(),
            })
        );
    }

    #[test]
    fn invalid_defer_objects_are_refused_naming_the_key() {
        let cases = [
            (
                json!([]),
                "expected a `defer` object (an object), found an array",
            ),
            (
                json!({"decider": "https://d.example", "within_seconds": 5, "otherwise": {"instruction": "accept"}, "within": 3}),
                "unknown key `within`: a `defer` object has `decider`, `within_seconds` or `otherwise`",
            ),
            (
                json!({"within_seconds": 5, "otherwise": {"instruction": "accept"}}),
                "missing key `decider`",
            ),
            (
                json!({"decider": "ftp://d.example", "within_seconds": 5, "otherwise": {"instruction": "accept"}}),
                "decider: must be an absolute https:// URL",
            ),
            (
                json!({"decider": 3, "within_seconds": 5, "otherwise": {"instruction": "accept"}}),
                "found a number",
            ),
            (
                json!({"decider": "https://d.example", "within_seconds": 0, "otherwise": {"instruction": "accept"}}),
                "within_seconds: must be a whole number of seconds from 1 to 86400 (the longest reservation timeout), found 0",
            ),
            (
                json!({"decider": "https://d.example", "within_seconds": 86401, "otherwise": {"instruction": "accept"}}),
                "found 86401",
            ),
            (
                json!({"decider": "https://d.example", "within_seconds": 2.5, "otherwise": {"instruction": "accept"}}),
                "found 2.5",
            ),
            (
                json!({"decider": "https://d.example", "within_seconds": 5}),
                "missing key `otherwise`",
            ),
            (
                json!({"decider": "https://d.example", "within_seconds": 5, "otherwise": {"instruction": "reject"}}),
                "otherwise: not a valid instruction: `reject` needs the parameter `activity_sid`",
            ),
            (
                json!({"decider": "https://d.example", "within_seconds": 5, "otherwise": {"instruction": "redirect", "call_sid": "CA0123456789abcdef0123456789abcdef", "url": "https://t.example/twiml"}}),
                "otherwise: must accept or reject the reservation, but `redirect`",
            ),
        ];
        for (value, expected) in cases {
            let error = Deferral::parse(&value.to_string()).expect_err(&value.to_string());
            assert!(error.to_string().contains(expected), "{value}: {error}");
        }
    }

    #[test]
    fn the_timeout_warning_leaves_room_for_otherwise_before_the_reservation_timeout() {
        let deferral = |within_seconds| Deferral {
            decider: HttpUrl::new("https://d.example").expect("url"),
            within_seconds,
            otherwise: Instruction::Accept,
        };
        assert_eq!(deferral(119).timeout_warning(None), None);
        let unstated = deferral(120).timeout_warning(None).expect("a warning");
        assert!(
            unstated.contains("`reservation_timeout_seconds`"),
            "{unstated}"
        );
        assert_eq!(deferral(290).timeout_warning(Some(300)), None);
        let stated = deferral(291).timeout_warning(Some(300)).expect("a warning");
        assert!(stated.contains("reservation timeout is 300 s"), "{stated}");
        assert!(deferral(100).timeout_warning(Some(100)).is_some());
    }
}
