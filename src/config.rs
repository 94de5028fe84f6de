//! The function's configuration, read once at cold start.
//!
//! [`Config::from_lookup`] turns environment variables into typed settings and refuses anything it
//! cannot make sense of, naming the variable: a broken deploy must fail at start, loudly, never
//! answer a callback wrongly. It takes a lookup function instead of reading the process
//! environment so it stays pure and testable.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `TWILIO_AUTH_TOKEN` | the auth token itself (local runs, simple deploys) | — |
//! | `TWILIO_AUTH_TOKEN_SECONDARY` | a second accepted token, during a rotation | — |
//! | `TWILIO_AUTH_TOKEN_PARAMETER` | name of the SSM SecureString holding the token (production) | — |
//! | `TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER` | name of an SSM parameter with a second token | — |
//! | `TWILIO_AUTH_TOKEN_SECRET_ID` | name or ARN of the Secrets Manager secret holding `{"account_sid": …, "auth_token": …}` | — |
//! | `TWILIO_AUTH_TOKEN_PARAMETER_PREFIX` | many accounts: each account's token in `<prefix><AccountSid>` (secondary `<prefix>secondary/<AccountSid>`) | — |
//! | `TWILIO_AUTH_TOKEN_SECRET_PREFIX` | many accounts: each account's token in the Secrets Manager secret `<prefix><AccountSid>` | — |
//! | `TWILIO_ACCOUNT_SIDS` | many accounts: the only accounts served, comma-separated | any account with a parameter or secret |
//! | `ACCOUNT_LOOKUPS_PER_MINUTE` | many accounts: look-ups a minute of accounts not seen yet that unverified requests may cause before the prefix is listed instead | `10` |
//! | `AUTH_TOKEN_REFRESH_SECONDS` | how old the tokens held may get: re-read (in the background from half this age, before use at this age, or after a signature mismatch) at most twice per interval per account, so a token removed from its store stops verifying within it; how long an account without a readable parameter is remembered, and a listing of the prefix used | `60` |
//! | `AUTH_TOKEN_PREVIOUS_GRACE_SECONDS` | Secrets Manager: how long after a promotion the version rotated out (`AWSPREVIOUS`) still verifies, 0–900 | `60` |
//! | `PUBLIC_BASE_URL` | public base URL the routes are reached under (custom domain, tunnel) | derived per request |
//! | `ASSIGNMENT_RULES` | the rules document, inline JSON | the built-in rules |
//! | `ASSIGNMENT_RULES_FILE` | a path to the rules document | the built-in rules |
//! | `ASSIGNMENT_RULES_DIR` | a directory of tenant documents, `<AccountSid>.json` / `<AccountSid>/<WorkspaceSid>.json` (`<WorkspaceSid>.json` with one token) | none: the one document decides |
//! | `METRICS_NAMESPACE` | CloudWatch namespace of the embedded metrics | `TaskRouterCallback` |
//! | `TASKROUTER_INSECURE_SKIP_SIGNATURE` | `true` answers unsigned requests (local experiments only) | `false` |
//!
//! An empty value counts as unset, because SAM passes empty template parameters as `""`.
//!
//! The token settings come in two families that cannot be mixed: one account's token
//! (`TWILIO_AUTH_TOKEN…`, `TWILIO_AUTH_TOKEN_PARAMETER…` or `TWILIO_AUTH_TOKEN_SECRET_ID`) or a
//! token per account (`TWILIO_AUTH_TOKEN_PARAMETER_PREFIX` or `TWILIO_AUTH_TOKEN_SECRET_PREFIX`,
//! with `TWILIO_ACCOUNT_SIDS` and `ACCOUNT_LOOKUPS_PER_MINUTE`). A setting of one family next to
//! the other stops the start, and so do two sources of the same family (a parameter and a
//! secret), naming both.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use crate::public_url::{PublicBase, PublicUrlError};
use crate::sid::AccountSid;
use crate::token::accounts::{
    ACCOUNT_SIDS_VAR, DEFAULT_LOOKUPS_PER_MINUTE, LOOKUPS_VAR, MAX_LOOKUPS_PER_MINUTE, PREFIX_VAR,
};
use crate::token::secrets::{
    DEFAULT_PREVIOUS_GRACE, GRACE_VAR, MAX_PREVIOUS_GRACE, SECRET_ID_VAR, SECRET_PREFIX_VAR,
};
use crate::token::{
    AccountSettings, AuthToken, DEFAULT_REFRESH_INTERVAL, PARAMETER_VAR, SECONDARY_PARAMETER_VAR,
    SECONDARY_TOKEN_VAR, TOKEN_VAR, TokenSource,
};

/// The default CloudWatch namespace for embedded metrics.
pub const DEFAULT_METRICS_NAMESPACE: &str = "TaskRouterCallback";

/// A setting that stops the function from starting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No way to obtain the auth token.
    #[error(
        "no auth token configured: set TWILIO_AUTH_TOKEN (the token itself, for local runs), \
         TWILIO_AUTH_TOKEN_PARAMETER (the name of an SSM SecureString holding it) or \
         TWILIO_AUTH_TOKEN_SECRET_ID (a Secrets Manager secret holding it), or \
         TWILIO_AUTH_TOKEN_PARAMETER_PREFIX or TWILIO_AUTH_TOKEN_SECRET_PREFIX (one per account \
         under that prefix)"
    )]
    NoToken,
    /// A single-account token setting and a per-account prefix are both set.
    #[error(
        "{single} (one account's token) and {many} (a token per account) are both set: a \
         deployment verifies with one or the other, so unset one of them"
    )]
    MixedTokenSettings {
        /// The single-account variable that is set.
        single: &'static str,
        /// The per-account prefix that is set.
        many: &'static str,
    },
    /// Two settings that exclude each other are both set.
    #[error("{first} and {second} are both set: set only one of them")]
    Conflict {
        /// One variable.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// A variable holds a value that cannot be used.
    #[error("{variable} is invalid: {reason}")]
    Invalid {
        /// The variable's name.
        variable: &'static str,
        /// What is wrong and what is expected (never the value of a secret).
        reason: String,
    },
}

/// Where the rules document comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesSource {
    /// The rules compiled into the binary (`rules/default.json`).
    Builtin,
    /// Inline JSON from `ASSIGNMENT_RULES`.
    Inline(String),
    /// A file named by `ASSIGNMENT_RULES_FILE`.
    File(PathBuf),
}

/// How callbacks are verified: the one place that says so, so no combination of settings can
/// leave it ambiguous.
#[derive(Debug)]
pub enum Signatures {
    /// With one account's tokens (`TWILIO_AUTH_TOKEN…`, `TWILIO_AUTH_TOKEN_PARAMETER…`,
    /// `TWILIO_AUTH_TOKEN_SECRET_ID`).
    OneAccount(TokenSource),
    /// With the tokens of the account each callback names, under a prefix
    /// (`TWILIO_AUTH_TOKEN_PARAMETER_PREFIX` or `TWILIO_AUTH_TOKEN_SECRET_PREFIX`).
    PerAccount(AccountSettings),
    /// Not at all: `TASKROUTER_INSECURE_SKIP_SIGNATURE=true`, for local experiments only; every
    /// request is logged as unverified.
    Unchecked,
}

impl Signatures {
    /// The one account's token source, when that is how callbacks are verified.
    pub fn one_account(&self) -> Option<&TokenSource> {
        match self {
            Self::OneAccount(source) => Some(source),
            Self::PerAccount(_) | Self::Unchecked => None,
        }
    }

    /// The per-account settings, when that is how callbacks are verified.
    pub fn per_account(&self) -> Option<&AccountSettings> {
        match self {
            Self::PerAccount(settings) => Some(settings),
            Self::OneAccount(_) | Self::Unchecked => None,
        }
    }
}

/// The function's settings.
#[derive(Debug)]
pub struct Config {
    /// How callbacks are verified, and with which tokens.
    pub signatures: Signatures,
    /// How old the tokens held may get (`AUTH_TOKEN_REFRESH_SECONDS`): see
    /// [`crate::token::TokenStore`].
    pub token_refresh: Duration,
    /// The public base URL, when the request cannot tell it (custom domains, tunnels).
    pub public_base: Option<PublicBase>,
    /// Where the assignment rules come from: the default document.
    pub rules: RulesSource,
    /// A directory of tenant documents (`ASSIGNMENT_RULES_DIR`), each deciding for the account or
    /// workspace it is named after.
    pub tenant_rules: Option<PathBuf>,
    /// CloudWatch namespace for embedded metrics.
    pub metrics_namespace: String,
    /// The SQS queue deferred reservations are sent to (`DEFERRED_QUEUE_URL`); needed when a
    /// rule defers to a decider ([`crate::defer`]).
    pub deferred_queue_url: Option<String>,
}

impl Config {
    /// Reads the settings from the process environment.
    ///
    /// # Errors
    ///
    /// See [`Config::from_lookup`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (a variable's name to its value).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the variable when a value is invalid, when exclusive settings are
    /// both set, or when no auth token source is configured and verification is on.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let skip_signature = match get("TASKROUTER_INSECURE_SKIP_SIGNATURE").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    variable: "TASKROUTER_INSECURE_SKIP_SIGNATURE",
                    reason: format!("expected `true` or `false`, got `{other}`"),
                });
            }
        };

        let grace = Self::previous_grace(&get)?;
        let accounts = Self::account_settings(&get, grace)?;
        let token = if accounts.is_some() {
            None
        } else {
            Self::token_source(&get, grace)?
        };
        let signatures = match (skip_signature, token, accounts) {
            // Switched off explicitly: whatever tokens are configured are not used.
            (true, _, _) => Signatures::Unchecked,
            (false, Some(source), _) => Signatures::OneAccount(source),
            (false, None, Some(settings)) => Signatures::PerAccount(settings),
            (false, None, None) => return Err(ConfigError::NoToken),
        };

        let token_refresh = match get("AUTH_TOKEN_REFRESH_SECONDS") {
            None => DEFAULT_REFRESH_INTERVAL,
            Some(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|&seconds| (1..=86_400).contains(&seconds))
                .map(Duration::from_secs)
                .ok_or_else(|| ConfigError::Invalid {
                    variable: "AUTH_TOKEN_REFRESH_SECONDS",
                    reason: format!("expected whole seconds from 1 to 86400, got `{text}`"),
                })?,
        };

        let public_base = get("PUBLIC_BASE_URL")
            .map(|text| PublicBase::parse(text.trim()))
            .transpose()
            .map_err(|error: PublicUrlError| ConfigError::Invalid {
                variable: "PUBLIC_BASE_URL",
                reason: error.to_string(),
            })?;

        let rules = match (get("ASSIGNMENT_RULES"), get("ASSIGNMENT_RULES_FILE")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Conflict {
                    first: "ASSIGNMENT_RULES",
                    second: "ASSIGNMENT_RULES_FILE",
                });
            }
            (Some(inline), None) => RulesSource::Inline(inline),
            (None, Some(path)) => RulesSource::File(PathBuf::from(path.trim())),
            (None, None) => RulesSource::Builtin,
        };

        let tenant_rules = get("ASSIGNMENT_RULES_DIR").map(|path| PathBuf::from(path.trim()));

        let metrics_namespace = get("METRICS_NAMESPACE")
            .map(|text| text.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_owned());

        let deferred_queue_url = get("DEFERRED_QUEUE_URL").map(|url| url.trim().to_owned());

        Ok(Self {
            signatures,
            token_refresh,
            public_base,
            rules,
            tenant_rules,
            metrics_namespace,
            deferred_queue_url,
        })
    }

    /// The per-account settings, when `TWILIO_AUTH_TOKEN_PARAMETER_PREFIX` or
    /// `TWILIO_AUTH_TOKEN_SECRET_PREFIX` is set (not both); none of the single-account token
    /// variables may be set with it, and its companions need it.
    fn account_settings(
        get: &impl Fn(&str) -> Option<String>,
        grace: Option<Duration>,
    ) -> Result<Option<AccountSettings>, ConfigError> {
        let (many, prefix) = match (get(PREFIX_VAR), get(SECRET_PREFIX_VAR)) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Conflict {
                    first: PREFIX_VAR,
                    second: SECRET_PREFIX_VAR,
                });
            }
            (Some(prefix), None) => (PREFIX_VAR, prefix),
            (None, Some(prefix)) => (SECRET_PREFIX_VAR, prefix),
            (None, None) => {
                for variable in [ACCOUNT_SIDS_VAR, LOOKUPS_VAR] {
                    if get(variable).is_some() {
                        return Err(ConfigError::Invalid {
                            variable,
                            reason: format!(
                                "it applies to a token per account, which needs {PREFIX_VAR} or \
                                 {SECRET_PREFIX_VAR}; a single token serves one account"
                            ),
                        });
                    }
                }
                return Ok(None);
            }
        };
        for single in [
            TOKEN_VAR,
            SECONDARY_TOKEN_VAR,
            PARAMETER_VAR,
            SECONDARY_PARAMETER_VAR,
            SECRET_ID_VAR,
        ] {
            if get(single).is_some() {
                return Err(ConfigError::MixedTokenSettings { single, many });
            }
        }
        let allowed = get(ACCOUNT_SIDS_VAR)
            .map(|list| account_list(&list))
            .transpose()?;
        let lookups = match get(LOOKUPS_VAR) {
            None => DEFAULT_LOOKUPS_PER_MINUTE,
            Some(text) => text
                .trim()
                .parse::<NonZeroU32>()
                .ok()
                .filter(|count| count.get() <= MAX_LOOKUPS_PER_MINUTE)
                .ok_or_else(|| ConfigError::Invalid {
                    variable: LOOKUPS_VAR,
                    reason: format!(
                        "expected a whole number of look-ups from 1 to {MAX_LOOKUPS_PER_MINUTE}, got `{text}`"
                    ),
                })?,
        };
        let prefix = prefix.trim().to_owned();
        let settings = if many == PREFIX_VAR {
            AccountSettings::new(prefix, allowed, lookups)
        } else {
            let grace = grace.unwrap_or(DEFAULT_PREVIOUS_GRACE);
            AccountSettings::secrets(prefix, allowed, lookups, grace)
        };
        settings.map(Some).map_err(|error| ConfigError::Invalid {
            variable: many,
            reason: error.to_string(),
        })
    }

    /// `AUTH_TOKEN_PREVIOUS_GRACE_SECONDS`, which only a Secrets Manager source reads.
    fn previous_grace(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Duration>, ConfigError> {
        let Some(text) = get(GRACE_VAR) else {
            return Ok(None);
        };
        if get(SECRET_ID_VAR).is_none() && get(SECRET_PREFIX_VAR).is_none() {
            return Err(ConfigError::Invalid {
                variable: GRACE_VAR,
                reason: format!(
                    "it applies to tokens in Secrets Manager ({SECRET_ID_VAR} or \
                     {SECRET_PREFIX_VAR}), whose versions rotated out it keeps for a while; \
                     other sources keep no such version"
                ),
            });
        }
        text.trim()
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
            .filter(|grace| *grace <= MAX_PREVIOUS_GRACE)
            .map(Some)
            .ok_or_else(|| ConfigError::Invalid {
                variable: GRACE_VAR,
                reason: format!(
                    "expected whole seconds from 0 to {}, got `{text}`",
                    MAX_PREVIOUS_GRACE.as_secs()
                ),
            })
    }

    /// `TWILIO_AUTH_TOKEN_SECRET_ID` goes alone; `TWILIO_AUTH_TOKEN` wins over
    /// `TWILIO_AUTH_TOKEN_PARAMETER`; a secondary belongs to the source of its primary.
    fn token_source(
        get: &impl Fn(&str) -> Option<String>,
        grace: Option<Duration>,
    ) -> Result<Option<TokenSource>, ConfigError> {
        if let Some(id) = get(SECRET_ID_VAR) {
            for other in [
                TOKEN_VAR,
                SECONDARY_TOKEN_VAR,
                PARAMETER_VAR,
                SECONDARY_PARAMETER_VAR,
            ] {
                if get(other).is_some() {
                    return Err(ConfigError::Conflict {
                        first: other,
                        second: SECRET_ID_VAR,
                    });
                }
            }
            let grace = grace.unwrap_or(DEFAULT_PREVIOUS_GRACE);
            return TokenSource::secret(id.trim().to_owned(), grace)
                .map(Some)
                .map_err(|error| ConfigError::Invalid {
                    variable: SECRET_ID_VAR,
                    reason: error.to_string(),
                });
        }
        let token = |variable: &'static str| {
            get(variable)
                .map(AuthToken::new)
                .transpose()
                .map_err(|error| ConfigError::Invalid {
                    variable,
                    reason: error.to_string(),
                })
        };
        if let Some(primary) = token("TWILIO_AUTH_TOKEN")? {
            if get("TWILIO_AUTH_TOKEN_PARAMETER").is_some() {
                return Err(ConfigError::Conflict {
                    first: "TWILIO_AUTH_TOKEN",
                    second: "TWILIO_AUTH_TOKEN_PARAMETER",
                });
            }
            if get("TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER").is_some() {
                return Err(ConfigError::Invalid {
                    variable: "TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER",
                    reason:
                        "a secondary parameter needs TWILIO_AUTH_TOKEN_PARAMETER as its primary"
                            .to_owned(),
                });
            }
            let secondary = token("TWILIO_AUTH_TOKEN_SECONDARY")?;
            return Ok(Some(TokenSource::Env { primary, secondary }));
        }
        if get("TWILIO_AUTH_TOKEN_SECONDARY").is_some() {
            return Err(ConfigError::Invalid {
                variable: "TWILIO_AUTH_TOKEN_SECONDARY",
                reason: "a secondary token needs TWILIO_AUTH_TOKEN as its primary".to_owned(),
            });
        }
        match get("TWILIO_AUTH_TOKEN_PARAMETER") {
            Some(name) => Ok(Some(TokenSource::Parameter {
                name: name.trim().to_owned(),
                secondary: get("TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER")
                    .map(|name| name.trim().to_owned()),
            })),
            None if get("TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER").is_some() => {
                Err(ConfigError::Invalid {
                    variable: "TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER",
                    reason:
                        "a secondary parameter needs TWILIO_AUTH_TOKEN_PARAMETER as its primary"
                            .to_owned(),
                })
            }
            None => Ok(None),
        }
    }
}

/// The accounts of `TWILIO_ACCOUNT_SIDS`: SIDs separated by commas or whitespace, duplicates
/// ignored.
fn account_list(text: &str) -> Result<Vec<AccountSid>, ConfigError> {
    let mut accounts: Vec<AccountSid> = Vec::new();
    for item in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
    {
        let account = AccountSid::parse(item).map_err(|error| ConfigError::Invalid {
            variable: ACCOUNT_SIDS_VAR,
            reason: format!("{error}; list the served accounts' SIDs separated by commas"),
        })?;
        if !accounts.contains(&account) {
            accounts.push(account);
        }
    }
    if accounts.is_empty() {
        return Err(ConfigError::Invalid {
            variable: ACCOUNT_SIDS_VAR,
            reason: format!(
                "`{text}` lists no account SID: list the served accounts' SIDs separated by \
                 commas, or leave it unset to serve every account with a parameter"
            ),
        });
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn a_token_alone_gives_working_defaults() {
        let config = config(&[("TWILIO_AUTH_TOKEN", "local-dev-token")]).expect("valid");
        assert!(matches!(
            config.signatures,
            Signatures::OneAccount(TokenSource::Env {
                secondary: None,
                ..
            })
        ));
        assert_eq!(config.token_refresh, DEFAULT_REFRESH_INTERVAL);
        assert!(config.public_base.is_none());
        assert_eq!(config.rules, RulesSource::Builtin);
        assert_eq!(config.metrics_namespace, DEFAULT_METRICS_NAMESPACE);
    }

    #[test]
    fn a_parameter_name_selects_ssm_and_empty_values_count_as_unset() {
        let config = config(&[
            ("TWILIO_AUTH_TOKEN", ""),
            ("TWILIO_AUTH_TOKEN_PARAMETER", "/taskrouter/auth-token"),
            ("TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER", ""),
            ("PUBLIC_BASE_URL", ""),
            ("ASSIGNMENT_RULES", ""),
        ])
        .expect("valid");
        match config.signatures {
            Signatures::OneAccount(TokenSource::Parameter { name, secondary }) => {
                assert_eq!(name, "/taskrouter/auth-token");
                assert_eq!(secondary, None);
            }
            other => panic!("expected the SSM source, got {other:?}"),
        }
        assert_eq!(config.rules, RulesSource::Builtin);
    }

    #[test]
    fn settings_are_read_into_their_types() {
        let config = config(&[
            ("TWILIO_AUTH_TOKEN", "one"),
            ("TWILIO_AUTH_TOKEN_SECONDARY", "two"),
            ("AUTH_TOKEN_REFRESH_SECONDS", "5"),
            ("PUBLIC_BASE_URL", "https://api.example.com/contact-center"),
            ("ASSIGNMENT_RULES_FILE", "rules/examples/accept-all.json"),
            ("METRICS_NAMESPACE", "ContactCenter"),
        ])
        .expect("valid");
        assert!(matches!(
            config.signatures,
            Signatures::OneAccount(TokenSource::Env {
                secondary: Some(_),
                ..
            })
        ));
        assert_eq!(config.token_refresh, Duration::from_secs(5));
        assert_eq!(
            config.public_base.as_ref().map(PublicBase::as_str),
            Some("https://api.example.com/contact-center")
        );
        assert_eq!(
            config.rules,
            RulesSource::File("rules/examples/accept-all.json".into())
        );
        assert_eq!(config.metrics_namespace, "ContactCenter");
    }

    #[test]
    fn verification_can_be_switched_off_only_explicitly_and_then_needs_no_token() {
        let alone = config(&[("TASKROUTER_INSECURE_SKIP_SIGNATURE", "true")]).expect("valid");
        assert!(matches!(alone.signatures, Signatures::Unchecked));
        let with_token = config(&[
            ("TASKROUTER_INSECURE_SKIP_SIGNATURE", "true"),
            ("TWILIO_AUTH_TOKEN", "configured but not used"),
        ])
        .expect("valid");
        assert!(
            matches!(with_token.signatures, Signatures::Unchecked),
            "switched off explicitly, whatever token is set"
        );
    }

    #[test]
    fn misconfigurations_are_refused_with_a_message_naming_the_setting() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[],
                "no auth token configured: set TWILIO_AUTH_TOKEN (the token itself, for local runs), \
                 TWILIO_AUTH_TOKEN_PARAMETER (the name of an SSM SecureString holding it) or \
                 TWILIO_AUTH_TOKEN_SECRET_ID (a Secrets Manager secret holding it), or \
                 TWILIO_AUTH_TOKEN_PARAMETER_PREFIX or TWILIO_AUTH_TOKEN_SECRET_PREFIX (one per \
                 account under that prefix)",
            ),
            (
                &[
                    ("TWILIO_AUTH_TOKEN", "a"),
                    ("TWILIO_AUTH_TOKEN_PARAMETER", "/p"),
                ],
                "TWILIO_AUTH_TOKEN and TWILIO_AUTH_TOKEN_PARAMETER are both set: set only one of them",
            ),
            (
                &[
                    ("TWILIO_AUTH_TOKEN_SECONDARY", "b"),
                    ("TWILIO_AUTH_TOKEN_PARAMETER", "/p"),
                ],
                "TWILIO_AUTH_TOKEN_SECONDARY is invalid: a secondary token needs TWILIO_AUTH_TOKEN as its primary",
            ),
            (
                &[
                    ("TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER", "/s"),
                    ("TWILIO_AUTH_TOKEN", "a"),
                ],
                "TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER is invalid: a secondary parameter needs TWILIO_AUTH_TOKEN_PARAMETER as its primary",
            ),
            (
                &[
                    ("TWILIO_AUTH_TOKEN", "a"),
                    ("TASKROUTER_INSECURE_SKIP_SIGNATURE", "yes"),
                ],
                "TASKROUTER_INSECURE_SKIP_SIGNATURE is invalid: expected `true` or `false`, got `yes`",
            ),
            (
                &[
                    ("TWILIO_AUTH_TOKEN", "a"),
                    ("AUTH_TOKEN_REFRESH_SECONDS", "0"),
                ],
                "AUTH_TOKEN_REFRESH_SECONDS is invalid: expected whole seconds from 1 to 86400, got `0`",
            ),
            (
                &[
                    ("TWILIO_AUTH_TOKEN", "a"),
                    ("ASSIGNMENT_RULES", "{}"),
                    ("ASSIGNMENT_RULES_FILE", "r.json"),
                ],
                "ASSIGNMENT_RULES and ASSIGNMENT_RULES_FILE are both set: set only one of them",
            ),
        ];
        for (vars, message) in cases {
            let error = config(vars).expect_err(message);
            assert_eq!(error.to_string(), *message, "{vars:?}");
        }
    }

    const ACCOUNT_A: &str = "AC0000000000000000000000000000000a";
    const ACCOUNT_B: &str = "AC0000000000000000000000000000000b";

    #[test]
    fn a_prefix_selects_a_token_per_account_with_the_default_budget_and_no_list() {
        let config = config(&[
            (
                "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX",
                " /taskrouter/accounts/ ",
            ),
            ("TWILIO_ACCOUNT_SIDS", ""),
            ("TWILIO_AUTH_TOKEN", ""),
        ])
        .expect("valid: empty values count as unset");
        let Signatures::PerAccount(accounts) = config.signatures else {
            panic!("per-account tokens, no single-account token");
        };
        assert_eq!(accounts.prefix(), "/taskrouter/accounts/");
        assert_eq!(accounts.allowed(), None);
        assert_eq!(accounts.lookups_per_minute(), DEFAULT_LOOKUPS_PER_MINUTE);
    }

    #[test]
    fn a_list_of_accounts_and_a_budget_are_read_with_the_prefix() {
        let config = config(&[
            ("TWILIO_AUTH_TOKEN_PARAMETER_PREFIX", "/t/"),
            (
                "TWILIO_ACCOUNT_SIDS",
                &format!("{ACCOUNT_A}, {ACCOUNT_B}\n{ACCOUNT_A},"),
            ),
            ("ACCOUNT_LOOKUPS_PER_MINUTE", "3"),
        ])
        .expect("valid");
        let Signatures::PerAccount(accounts) = config.signatures else {
            panic!("per-account tokens");
        };
        let listed: Vec<&str> = accounts
            .allowed()
            .expect("a list")
            .iter()
            .map(AccountSid::as_str)
            .collect();
        assert_eq!(
            listed,
            [ACCOUNT_A, ACCOUNT_B],
            "separated by commas or whitespace, once each"
        );
        assert_eq!(accounts.lookups_per_minute().get(), 3);
    }

    #[test]
    fn tenant_rules_come_from_a_directory_next_to_the_default_document() {
        let config = config(&[
            ("TWILIO_AUTH_TOKEN", "a"),
            ("ASSIGNMENT_RULES_FILE", "rules/examples/accept-all.json"),
            ("ASSIGNMENT_RULES_DIR", "rules/tenants"),
        ])
        .expect("valid");
        assert_eq!(config.tenant_rules, Some(PathBuf::from("rules/tenants")));
        assert_eq!(
            config.rules,
            RulesSource::File("rules/examples/accept-all.json".into())
        );
    }

    #[test]
    fn single_and_per_account_token_settings_cannot_be_mixed() {
        let per_account = (
            "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX",
            "/taskrouter/accounts/",
        );
        for single in [
            "TWILIO_AUTH_TOKEN",
            "TWILIO_AUTH_TOKEN_SECONDARY",
            "TWILIO_AUTH_TOKEN_PARAMETER",
            "TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER",
        ] {
            let error = config(&[per_account, (single, "/x")]).expect_err(single);
            assert_eq!(
                error.to_string(),
                format!(
                    "{single} (one account's token) and TWILIO_AUTH_TOKEN_PARAMETER_PREFIX (a \
                     token per account) are both set: a deployment verifies with one or the \
                     other, so unset one of them"
                ),
            );
        }
        for companion in ["TWILIO_ACCOUNT_SIDS", "ACCOUNT_LOOKUPS_PER_MINUTE"] {
            let error = config(&[("TWILIO_AUTH_TOKEN_PARAMETER", "/p"), (companion, "5")])
                .expect_err(companion);
            assert_eq!(
                error.to_string(),
                format!(
                    "{companion} is invalid: it applies to a token per account, which needs \
                     TWILIO_AUTH_TOKEN_PARAMETER_PREFIX or TWILIO_AUTH_TOKEN_SECRET_PREFIX; a \
                     single token serves one account"
                ),
            );
        }
    }

    #[test]
    fn invalid_per_account_settings_are_refused_naming_the_variable_and_the_input() {
        let prefix = ("TWILIO_AUTH_TOKEN_PARAMETER_PREFIX", "/t/");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("TWILIO_AUTH_TOKEN_PARAMETER_PREFIX", "/taskrouter/accounts")],
                "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX is invalid: `/taskrouter/accounts` is not a \
                 usable ssm parameter prefix: give a path that starts and ends with `/`, without \
                 spaces, at most 900 characters, e.g. `/taskrouter/accounts/`",
            ),
            (
                &[
                    prefix,
                    (
                        "TWILIO_ACCOUNT_SIDS",
                        "AC123, AC0000000000000000000000000000000a",
                    ),
                ],
                "TWILIO_ACCOUNT_SIDS is invalid: `AC123` is not a valid account SID: expected \
                 `AC` followed by 32 hex digits; list the served accounts' SIDs separated by commas",
            ),
            (
                &[
                    prefix,
                    ("TWILIO_ACCOUNT_SIDS", "AC0000000000000000000000000000000A"),
                ],
                "TWILIO_ACCOUNT_SIDS is invalid: `AC0000000000000000000000000000000A` is not a \
                 valid account SID: Twilio writes `AC` and then 32 lower-case hex digits: use \
                 `AC0000000000000000000000000000000a`; list the served accounts' SIDs separated \
                 by commas",
            ),
            (
                &[prefix, ("TWILIO_ACCOUNT_SIDS", " , ")],
                "TWILIO_ACCOUNT_SIDS is invalid: ` , ` lists no account SID: list the served \
                 accounts' SIDs separated by commas, or leave it unset to serve every account \
                 with a parameter",
            ),
            (
                &[prefix, ("ACCOUNT_LOOKUPS_PER_MINUTE", "0")],
                "ACCOUNT_LOOKUPS_PER_MINUTE is invalid: expected a whole number of look-ups from \
                 1 to 600, got `0`",
            ),
            (
                &[prefix, ("ACCOUNT_LOOKUPS_PER_MINUTE", "601")],
                "ACCOUNT_LOOKUPS_PER_MINUTE is invalid: expected a whole number of look-ups from \
                 1 to 600, got `601`",
            ),
        ];
        for (vars, message) in cases {
            let error = config(vars).expect_err(message);
            assert_eq!(error.to_string(), *message, "{vars:?}");
        }
    }

    #[test]
    fn a_secret_id_selects_secrets_manager_with_the_default_grace_or_the_one_given() {
        let by_name =
            config(&[("TWILIO_AUTH_TOKEN_SECRET_ID", " taskrouter/auth-token ")]).expect("valid");
        match by_name.signatures {
            Signatures::OneAccount(TokenSource::Secret { id, grace }) => {
                assert_eq!(id, "taskrouter/auth-token");
                assert_eq!(grace, DEFAULT_PREVIOUS_GRACE);
            }
            other => panic!("expected the Secrets Manager source, got {other:?}"),
        }
        let arn =
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:taskrouter/auth-token-AbCdEf";
        let by_arn = config(&[
            ("TWILIO_AUTH_TOKEN_SECRET_ID", arn),
            ("AUTH_TOKEN_PREVIOUS_GRACE_SECONDS", "15"),
        ])
        .expect("valid");
        assert!(
            matches!(
                by_arn.signatures,
                Signatures::OneAccount(TokenSource::Secret { ref id, grace }) if id == arn && grace == Duration::from_secs(15)
            ),
            "{:?}",
            by_arn.signatures
        );
    }

    #[test]
    fn a_secret_prefix_selects_a_secret_per_account() {
        let config = config(&[
            ("TWILIO_AUTH_TOKEN_SECRET_PREFIX", "taskrouter/accounts/"),
            ("AUTH_TOKEN_PREVIOUS_GRACE_SECONDS", "0"),
            ("ACCOUNT_LOOKUPS_PER_MINUTE", "4"),
        ])
        .expect("valid");
        let Signatures::PerAccount(accounts) = config.signatures else {
            panic!("per-account tokens");
        };
        assert_eq!(accounts.prefix(), "taskrouter/accounts/");
        assert_eq!(
            accounts.source(),
            &crate::token::accounts::PrefixSource::SecretsManager {
                grace: Duration::ZERO
            }
        );
        assert_eq!(accounts.lookups_per_minute().get(), 4);
    }

    #[test]
    fn two_sources_of_the_same_token_stop_the_start_naming_both() {
        let secret = ("TWILIO_AUTH_TOKEN_SECRET_ID", "taskrouter/auth-token");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[
                    secret,
                    ("TWILIO_AUTH_TOKEN_PARAMETER", "/taskrouter/auth-token"),
                ],
                "TWILIO_AUTH_TOKEN_PARAMETER and TWILIO_AUTH_TOKEN_SECRET_ID are both set: set only one of them",
            ),
            (
                &[secret, ("TWILIO_AUTH_TOKEN", "local")],
                "TWILIO_AUTH_TOKEN and TWILIO_AUTH_TOKEN_SECRET_ID are both set: set only one of them",
            ),
            (
                &[
                    secret,
                    ("TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER", "/taskrouter/next"),
                ],
                "TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER and TWILIO_AUTH_TOKEN_SECRET_ID are both set: set only one of them",
            ),
            (
                &[
                    (
                        "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX",
                        "/taskrouter/accounts/",
                    ),
                    ("TWILIO_AUTH_TOKEN_SECRET_PREFIX", "taskrouter/accounts/"),
                ],
                "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX and TWILIO_AUTH_TOKEN_SECRET_PREFIX are both set: set only one of them",
            ),
            (
                &[
                    secret,
                    ("TWILIO_AUTH_TOKEN_SECRET_PREFIX", "taskrouter/accounts/"),
                ],
                "TWILIO_AUTH_TOKEN_SECRET_ID (one account's token) and TWILIO_AUTH_TOKEN_SECRET_PREFIX (a token per account) are both set: a deployment verifies with one or the other, so unset one of them",
            ),
            (
                &[
                    ("TWILIO_AUTH_TOKEN_PARAMETER", "/taskrouter/auth-token"),
                    ("TWILIO_AUTH_TOKEN_SECRET_PREFIX", "taskrouter/accounts/"),
                ],
                "TWILIO_AUTH_TOKEN_PARAMETER (one account's token) and TWILIO_AUTH_TOKEN_SECRET_PREFIX (a token per account) are both set: a deployment verifies with one or the other, so unset one of them",
            ),
        ];
        for (vars, message) in cases {
            let error = config(vars).expect_err(message);
            assert_eq!(error.to_string(), *message, "{vars:?}");
        }
    }

    #[test]
    fn invalid_secrets_manager_settings_are_refused_naming_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[
                    ("TWILIO_AUTH_TOKEN_PARAMETER", "/taskrouter/auth-token"),
                    ("AUTH_TOKEN_PREVIOUS_GRACE_SECONDS", "30"),
                ],
                "AUTH_TOKEN_PREVIOUS_GRACE_SECONDS is invalid: it applies to tokens in Secrets \
                 Manager (TWILIO_AUTH_TOKEN_SECRET_ID or TWILIO_AUTH_TOKEN_SECRET_PREFIX), whose \
                 versions rotated out it keeps for a while; other sources keep no such version",
            ),
            (
                &[
                    ("TWILIO_AUTH_TOKEN_SECRET_ID", "taskrouter/auth-token"),
                    ("AUTH_TOKEN_PREVIOUS_GRACE_SECONDS", "901"),
                ],
                "AUTH_TOKEN_PREVIOUS_GRACE_SECONDS is invalid: expected whole seconds from 0 to \
                 900, got `901`",
            ),
            (
                &[("TWILIO_AUTH_TOKEN_SECRET_ID", "taskrouter/auth token")],
                "TWILIO_AUTH_TOKEN_SECRET_ID is invalid: `taskrouter/auth token` is not a usable \
                 secrets manager secret id: give the secret's name or ARN without spaces, e.g. \
                 `taskrouter/auth-token`",
            ),
            (
                &[("TWILIO_AUTH_TOKEN_SECRET_PREFIX", "taskrouter/accounts")],
                "TWILIO_AUTH_TOKEN_SECRET_PREFIX is invalid: `taskrouter/accounts` is not a usable \
                 secrets manager name prefix: give letters, digits and / _ + = . @ - only, at \
                 most 400 characters, ending with `/`, e.g. `taskrouter/accounts/`",
            ),
        ];
        for (vars, message) in cases {
            let error = config(vars).expect_err(message);
            assert_eq!(error.to_string(), *message, "{vars:?}");
        }
    }

    #[test]
    fn a_bad_public_base_url_is_refused_naming_the_variable() {
        let error = config(&[
            ("TWILIO_AUTH_TOKEN", "a"),
            ("PUBLIC_BASE_URL", "api.example.com"),
        ])
        .expect_err("no scheme");
        assert!(
            error
                .to_string()
                .starts_with("PUBLIC_BASE_URL is invalid: "),
            "{error}"
        );
    }
}
