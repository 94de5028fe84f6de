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
//! is the model: [`Deferral::from_json`] reads and validates the object, naming the key at fault.
//!
//! `within_seconds` must leave room before the Workflow's `TaskReservationTimeout` (default 120 s,
//! docs/taskrouter.md §3): past it TaskRouter times the reservation out and moves the worker to
//! the workspace's timeout activity, which is what `otherwise` is there to prevent.
//! [`Deferral::timeout_warning`] says when it may not.

pub mod decider;
pub mod queue;

use serde_json::{Map, Value, json};

use crate::document::{json_kind, suggest, unknown_keys};
use crate::instruction::{HttpUrl, Instruction, InstructionError};

/// The keys of a `defer` object.
const KEYS: [&str; 3] = ["decider", "within_seconds", "otherwise"];

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

/// A `defer` object that cannot be used. Messages name the key and say what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeferralError {
    /// The value is not an object.
    #[error("expected an object with `decider`, `within_seconds` and `otherwise`, found {found}")]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// A key the object does not define (often a typo).
    #[error("unknown key `{key}`: expected `decider`, `within_seconds` or `otherwise`{}", hint(.suggestion))]
    UnknownKey {
        /// The key.
        key: String,
        /// A known key close to it.
        suggestion: Option<&'static str>,
    },
    /// A required key is absent.
    #[error("missing key `{key}`: {what}")]
    MissingKey {
        /// The key.
        key: &'static str,
        /// What it holds.
        what: &'static str,
    },
    /// `decider` is not an absolute http(s) URL.
    #[error("`decider` must be an absolute https:// URL (the service that decides), found {found}")]
    Decider {
        /// The value found, as JSON (a URL, not a secret; any `user:password@` is not repeated).
        found: String,
    },
    /// `within_seconds` is not a whole number from 1 to 86,400.
    #[error(
        "`within_seconds` must be a whole number of seconds from 1 to {MAX_WITHIN_SECONDS} (the \
         longest reservation timeout), found {found}"
    )]
    WithinSeconds {
        /// The value found, as JSON.
        found: String,
    },
    /// `otherwise` is not a valid instruction.
    #[error("`otherwise` is not a valid instruction: {0}")]
    Otherwise(Box<InstructionError>),
    /// `otherwise` would leave the reservation pending, so TaskRouter's timeout would still log
    /// the worker out.
    #[error(
        "`otherwise` must accept or reject the reservation, but `{instruction}` without \
         `\"accept\": true` leaves it pending until TaskRouter times it out: add `\"accept\": true` \
         or choose `accept` or `reject`"
    )]
    OtherwiseLeavesPending {
        /// The instruction's name.
        instruction: &'static str,
    },
}

fn hint(suggestion: &Option<&'static str>) -> String {
    suggestion.map_or_else(String::new, |key| format!(": did you mean `{key}`?"))
}

impl Deferral {
    /// Reads and validates a `defer` object as written in a rules document.
    ///
    /// # Errors
    ///
    /// [`DeferralError`] for a value that is not an object, an unknown or missing key, a
    /// `decider` that is not an absolute http(s) URL, a `within_seconds` that is not a whole
    /// number from 1 to 86,400, or an `otherwise` that is not a valid instruction or leaves the
    /// reservation pending.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use taskrouter_lambda::defer::Deferral;
    ///
    /// let deferral = Deferral::from_json(&json!({
    ///     "decider": "https://decider.example.com/assignment",
    ///     "within_seconds": 100,
    ///     "otherwise": {"instruction": "accept"},
    /// }))?;
    /// assert_eq!(deferral.within_seconds, 100);
    ///
    /// let typo = Deferral::from_json(&json!({"decidr": "https://example.com"}));
    /// assert_eq!(
    ///     typo.expect_err("a misspelt key").to_string(),
    ///     "unknown key `decidr`: expected `decider`, `within_seconds` or `otherwise`: did you mean `decider`?",
    /// );
    /// # Ok::<(), taskrouter_lambda::defer::DeferralError>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<Self, DeferralError> {
        let Value::Object(map) = value else {
            return Err(DeferralError::NotAnObject {
                found: json_kind(value),
            });
        };
        if let Some(key) = unknown_keys(map, &KEYS).next() {
            return Err(DeferralError::UnknownKey {
                key: key.clone(),
                suggestion: suggest(key, KEYS),
            });
        }
        let decider = match required(map, "decider", "the URL of the service that decides")? {
            Value::String(url) => {
                HttpUrl::new(url.as_str()).ok_or_else(|| DeferralError::Decider {
                    // Credentials in a URL are not repeated in a message.
                    found: if url.contains('@') {
                        "a URL with `@` in it".to_owned()
                    } else {
                        format!("{url:?}")
                    },
                })?
            }
            other => {
                return Err(DeferralError::Decider {
                    found: json_kind(other).to_owned(),
                });
            }
        };
        let within = required(
            map,
            "within_seconds",
            "how long to wait for the decider's answer, e.g. 100",
        )?;
        let within_seconds = within
            .as_u64()
            .and_then(|seconds| u32::try_from(seconds).ok())
            .filter(|seconds| (1..=MAX_WITHIN_SECONDS).contains(seconds))
            .ok_or_else(|| DeferralError::WithinSeconds {
                found: within.to_string(),
            })?;
        let otherwise = required(
            map,
            "otherwise",
            "the instruction applied when no answer came in time, e.g. {\"instruction\": \"reject\", \"activity_sid\": \"WA…\"}",
        )?;
        let otherwise = Instruction::from_json(otherwise)
            .map_err(|error| DeferralError::Otherwise(Box::new(error)))?;
        if otherwise.leaves_pending() {
            return Err(DeferralError::OtherwiseLeavesPending {
                instruction: otherwise.name(),
            });
        }
        Ok(Self {
            decider,
            within_seconds,
            otherwise,
        })
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

fn required<'v>(
    map: &'v Map<String, Value>,
    key: &'static str,
    what: &'static str,
) -> Result<&'v Value, DeferralError> {
    map.get(key).ok_or(DeferralError::MissingKey { key, what })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn otherwise() -> Value {
        json!({"instruction": "reject", "activity_sid": "WA0123456789abcdef0123456789abcdef"})
    }

    #[test]
    fn a_valid_defer_object_is_read_with_its_otherwise_instruction() {
        let deferral = Deferral::from_json(&json!({
            "decider": "https://decider.example.com/assign?team=a",
            "within_seconds": 100,
            "otherwise": otherwise(),
        }))
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
                "expected an object with `decider`, `within_seconds` and `otherwise`, found an array",
            ),
            (
                json!({"decider": "https://d.example", "within_seconds": 5, "otherwise": {"instruction": "accept"}, "within": 3}),
                "unknown key `within`",
            ),
            (
                json!({"within_seconds": 5, "otherwise": {"instruction": "accept"}}),
                "missing key `decider`",
            ),
            (
                json!({"decider": "ftp://d.example", "within_seconds": 5, "otherwise": {"instruction": "accept"}}),
                "`decider` must be an absolute https:// URL",
            ),
            (
                json!({"decider": 3, "within_seconds": 5, "otherwise": {"instruction": "accept"}}),
                "found a number",
            ),
            (
                json!({"decider": "https://d.example", "within_seconds": 0, "otherwise": {"instruction": "accept"}}),
                "`within_seconds` must be a whole number of seconds from 1 to 86400 (the longest reservation timeout), found 0",
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
                "`otherwise` is not a valid instruction: `reject` needs the parameter `activity_sid`",
            ),
            (
                json!({"decider": "https://d.example", "within_seconds": 5, "otherwise": {"instruction": "redirect", "call_sid": "CA0123456789abcdef0123456789abcdef", "url": "https://t.example/twiml"}}),
                "`otherwise` must accept or reject the reservation, but `redirect`",
            ),
        ];
        for (value, expected) in cases {
            let error = Deferral::from_json(&value).expect_err(&value.to_string());
            assert!(
                error.to_string().starts_with(expected) || error.to_string().contains(expected),
                "{value}: {error}"
            );
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
