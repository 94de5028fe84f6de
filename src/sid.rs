//! Twilio SIDs as validated newtypes.
//!
//! A SID is a two-letter prefix naming the resource type followed by 32 hexadecimal digits
//! (contract §1). Each resource gets its own type so a `WorkerSid` can never be passed where a
//! `TaskSid` is expected, and a value of any of these types is known to be well formed.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A string that is not a well-formed SID of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid {kind} SID: expected `{prefix}` followed by 32 hex digits")]
pub struct SidError {
    /// What the SID should have named, e.g. `task`.
    pub kind: &'static str,
    /// The expected two-letter prefix.
    pub prefix: &'static str,
    /// The rejected input (SIDs are identifiers, not secrets, so echoing them is safe).
    pub input: String,
}

/// Checks `input` against `prefix` + 32 hex digits without allocating.
fn is_well_formed(prefix: &str, input: &str) -> bool {
    input.len() == prefix.len() + 32
        && input.starts_with(prefix)
        && input.as_bytes()[prefix.len()..]
            .iter()
            .all(u8::is_ascii_hexdigit)
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
            /// [`SidError`] when `input` is not the prefix followed by 32 hex digits.
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
    /// An API key (`SK…`): with its secret, the REST API's preferred credentials.
    ApiKeySid, "SK", "API key"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_and_32_hex_digits_is_accepted_in_either_case() {
        let lower = TaskSid::parse("WT0123456789abcdef0123456789abcdef").expect("lower-case hex");
        assert_eq!(lower.as_str(), "WT0123456789abcdef0123456789abcdef");
        assert!(TaskSid::parse("WT0123456789ABCDEF0123456789ABCDEF").is_ok());
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
            ("wt0123456789abcdef0123456789abcdef", "lower-case prefix"),
            ("WT0123456789abcdef0123456789abcdeg", "a non-hex digit"),
            (
                "WT0123456789abcdef0123456789abcdé",
                "a multi-byte character",
            ),
        ];
        for (input, why) in cases {
            let error = TaskSid::parse(input).expect_err(why);
            assert_eq!(error.input, input, "{why}");
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
