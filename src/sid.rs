//! Twilio SIDs as validated newtypes.
//!
//! A SID is a two-letter prefix naming the resource type followed by 32 hexadecimal digits
//! (docs/taskrouter.md §1). Each resource gets its own type so a `WorkerSid` can never be passed
//! where a `TaskSid` is expected, and a value of any of these types is known to be well formed.
//!
//! # One spelling
//!
//! Twilio writes the hex digits in lower case, always, and compares SIDs as text: a SID spelled
//! with upper-case digits names nothing Twilio will ever send (Twilio's OpenAPI patterns accept
//! `[0-9a-fA-F]`, but no resource has such a SID). Accepted, such a spelling in configuration
//! (a tenant document's file name, `TWILIO_ACCOUNT_SIDS`, a CLI flag) would start fine and then
//! silently never match. So a SID is parsed only in its one canonical spelling, upper-case prefix
//! and lower-case digits, and the error for any other spelling of the right shape gives the
//! corrected one to copy. Nothing is normalised behind the user's back.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A string that is not a well-formed SID of the expected type.
///
/// Its message says what was expected and, when the input is the right SID in another case,
/// the spelling to use instead ([`SidError::corrected`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidError {
    /// What the SID should have named, e.g. `task`.
    pub kind: &'static str,
    /// The expected two-letter prefix.
    pub prefix: &'static str,
    /// The rejected input (SIDs are identifiers, not secrets, so echoing them is safe).
    pub input: String,
}

impl SidError {
    /// The canonical spelling of the input, when it is a SID of the expected type written in
    /// another case (`ac0123…ABCD` → `AC0123…abcd`).
    pub fn corrected(&self) -> Option<String> {
        let input = self.input.as_bytes();
        let shape = input.len() == self.prefix.len() + 32
            && input[..self.prefix.len()].eq_ignore_ascii_case(self.prefix.as_bytes())
            && input[self.prefix.len()..].iter().all(u8::is_ascii_hexdigit);
        shape.then(|| {
            format!(
                "{}{}",
                self.prefix,
                self.input[self.prefix.len()..].to_ascii_lowercase()
            )
        })
    }
}

impl fmt::Display for SidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            kind,
            prefix,
            input,
        } = self;
        write!(f, "`{input}` is not a valid {kind} SID: ")?;
        match self.corrected() {
            Some(corrected) => write!(
                f,
                "Twilio writes `{prefix}` and then 32 lower-case hex digits: use `{corrected}`"
            ),
            None => write!(f, "expected `{prefix}` followed by 32 hex digits"),
        }
    }
}

impl std::error::Error for SidError {}

/// Checks `input` against `prefix` + 32 lower-case hex digits without allocating.
fn is_well_formed(prefix: &str, input: &str) -> bool {
    input.len() == prefix.len() + 32
        && input.starts_with(prefix)
        && input.as_bytes()[prefix.len()..]
            .iter()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(byte))
}

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The two-letter prefix of this SID type.
            pub const PREFIX: &'static str = $prefix;

            /// Parses a SID of this type.
            ///
            /// # Errors
            ///
            /// [`SidError`] when `input` is not the prefix followed by 32 lower-case hex digits
            /// (see the module docs, "One spelling").
            pub fn parse(input: &str) -> Result<Self, SidError> {
                if is_well_formed($prefix, input) {
                    Ok(Self(input.to_owned()))
                } else {
                    Err(SidError {
                        kind: $kind,
                        prefix: $prefix,
                        input: input.to_owned(),
                    })
                }
            }

            /// The SID as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = SidError;

            fn from_str(input: &str) -> Result<Self, SidError> {
                Self::parse(input)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

sid_type!(
    /// An account (`AC…`).
    AccountSid, "AC", "account"
);
sid_type!(
    /// A TaskRouter workspace (`WS…`).
    WorkspaceSid, "WS", "workspace"
);
sid_type!(
    /// A workflow (`WW…`).
    WorkflowSid, "WW", "workflow"
);
sid_type!(
    /// A task queue (`WQ…`).
    TaskQueueSid, "WQ", "task queue"
);
sid_type!(
    /// A worker (`WK…`).
    WorkerSid, "WK", "worker"
);
sid_type!(
    /// A task (`WT…`).
    TaskSid, "WT", "task"
);
sid_type!(
    /// A reservation (`WR…`).
    ReservationSid, "WR", "reservation"
);
sid_type!(
    /// A worker activity (`WA…`).
    ActivitySid, "WA", "activity"
);
sid_type!(
    /// A voice call (`CA…`).
    CallSid, "CA", "call"
);
sid_type!(
    /// A task channel (`TC…`).
    TaskChannelSid, "TC", "task channel"
);
sid_type!(
    /// A workspace event (`EV…`).
    EventSid, "EV", "event"
);
sid_type!(
    /// A worker's channel (`WC…`).
    WorkerChannelSid, "WC", "worker channel"
);
sid_type!(
    /// An API key (`SK…`): with its secret, the REST API's preferred credentials.
    ApiKeySid, "SK", "API key"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_and_32_lower_case_hex_digits_is_accepted() {
        let lower = TaskSid::parse("WT0123456789abcdef0123456789abcdef").expect("lower-case hex");
        assert_eq!(lower.as_str(), "WT0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn another_spelling_of_a_sid_is_refused_with_the_one_to_use() {
        let cases = [
            ("WT0123456789ABCDEF0123456789ABCDEF", "upper-case digits"),
            ("WT0123456789abcdef0123456789abcdeF", "one upper-case digit"),
            (
                "wt0123456789ABCDEF0123456789abcdef",
                "every letter in the other case",
            ),
        ];
        for (input, why) in cases {
            let error = TaskSid::parse(input).expect_err(why);
            assert_eq!(
                error.corrected().as_deref(),
                Some("WT0123456789abcdef0123456789abcdef"),
                "{why}"
            );
            assert_eq!(
                error.to_string(),
                format!(
                    "`{input}` is not a valid task SID: Twilio writes `WT` and then 32 lower-case \
                     hex digits: use `WT0123456789abcdef0123456789abcdef`"
                ),
                "{why}"
            );
        }
    }

    #[test]
    fn malformed_sids_are_rejected_with_the_input_and_the_expected_shape() {
        let cases = [
            ("", "empty"),
            ("WT0123456789abcdef0123456789abcde", "one digit short"),
            ("WT0123456789abcdef0123456789abcdef0", "one digit long"),
            (
                "WK0123456789abcdef0123456789abcdef",
                "another resource's prefix",
            ),
            ("WT0123456789abcdef0123456789abcdeg", "a non-hex digit"),
            (
                "WT0123456789abcdef0123456789abcdé",
                "a multi-byte character",
            ),
        ];
        for (input, why) in cases {
            let error = TaskSid::parse(input).expect_err(why);
            assert_eq!(error.input, input, "{why}");
            assert_eq!(error.corrected(), None, "{why}");
            assert_eq!(
                error.to_string(),
                format!(
                    "`{input}` is not a valid task SID: expected `WT` followed by 32 hex digits"
                ),
                "{why}"
            );
        }
    }

    #[test]
    fn sids_deserialize_through_parse() {
        let ok: WorkerSid =
            serde_json::from_str("\"WK0123456789abcdef0123456789abcdef\"").expect("valid");
        assert_eq!(ok.to_string(), "WK0123456789abcdef0123456789abcdef");
        let error = serde_json::from_str::<WorkerSid>("\"WKnope\"").expect_err("invalid");
        assert!(
            error.to_string().contains("not a valid worker SID"),
            "{error}"
        );
    }
}
