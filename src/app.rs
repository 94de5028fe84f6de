//! The application: everything a request needs, built once at cold start.
//!
//! [`App::build`] turns a [`Config`] into compiled rules, a token store and a metrics writer, and
//! fails with a message naming the setting when any of them cannot be built. The transport
//! ([`crate::http`]) borrows the `App` for every request.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::config::{Config, RulesSource};
use crate::metrics::{Metrics, MetricsError};
use crate::public_url::PublicBase;
use crate::rules::{Rules, RulesError};
use crate::token::TokenStore;

/// The function's name as Lambda reports it, used as the metrics dimension.
const LOCAL_FUNCTION_NAME: &str = "local";

/// A reason the function cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `ASSIGNMENT_RULES_FILE` cannot be read.
    #[error("ASSIGNMENT_RULES_FILE `{path}` cannot be read: {source}")]
    RulesFile {
        /// The configured path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The rules document is invalid.
    #[error("{setting} is invalid: {source}")]
    Rules {
        /// Which setting held the rules.
        setting: &'static str,
        /// What is wrong, naming the rule.
        source: RulesError,
    },
    /// `METRICS_NAMESPACE` is invalid.
    #[error("METRICS_NAMESPACE is invalid: {0}")]
    Metrics(#[from] MetricsError),
}

/// Where embedded-metric lines go: stdout in Lambda (CloudWatch Logs extracts them), a buffer
/// in tests.
pub trait MetricsSink: Send + Sync {
    /// Writes one complete EMF line.
    fn emit(&self, line: String);
}

/// Writes each metrics line to stdout, where Lambda's log capture picks it up.
#[derive(Debug, Default)]
pub struct StdoutSink;

impl MetricsSink for StdoutSink {
    fn emit(&self, line: String) {
        println!("{line}");
    }
}

/// Keeps metrics lines in memory, for tests and tools that inspect them.
#[derive(Debug, Default)]
pub struct MemorySink {
    lines: Mutex<Vec<String>>,
}

impl MemorySink {
    /// Every line emitted so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default()
    }
}

impl MetricsSink for MemorySink {
    fn emit(&self, line: String) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(line);
        }
    }
}

/// Whether and how requests are verified.
pub enum Verification {
    /// Every request must carry a valid `X-Twilio-Signature` for one of these tokens.
    Enforced(Box<TokenStore>),
    /// `TASKROUTER_INSECURE_SKIP_SIGNATURE=true`: requests are answered unverified, and every one
    /// is logged as such.
    Disabled,
}

impl std::fmt::Debug for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Enforced(store) => write!(f, "Enforced({})", store.describe_source()),
            Self::Disabled => f.write_str("Disabled"),
        }
    }
}

/// Everything a request needs.
pub struct App {
    /// The public base URL, when configured.
    pub public_base: Option<PublicBase>,
    /// How `X-Twilio-Signature` is checked.
    pub verification: Verification,
    /// The compiled assignment rules.
    pub rules: Rules,
    /// Builds embedded-metric lines.
    pub metrics: Metrics,
    /// Where metric lines are written.
    pub sink: Arc<dyn MetricsSink>,
    /// The clock the transport reads once per assignment callback: [`system_clock`]. The one
    /// seam through which time enters; in-process tests put a fixed instant here. No setting
    /// changes it, so a deployed function always decides at the real time.
    pub clock: fn() -> Timestamp,
}

/// The system's clock: the current time.
pub fn system_clock() -> Timestamp {
    Timestamp::now()
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("public_base", &self.public_base)
            .field("verification", &self.verification)
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl App {
    /// Builds the application from its configuration; metrics go to `sink`.
    ///
    /// `function_name` is the metrics dimension (Lambda's `AWS_LAMBDA_FUNCTION_NAME`).
    ///
    /// # Errors
    ///
    /// [`StartError`] naming the setting when the rules or the metrics namespace are invalid.
    /// A token parameter that cannot be read is not an error here: the store keeps trying and
    /// requests get `503` until it succeeds (fail closed, recover without a restart).
    pub async fn build(
        config: Config,
        function_name: Option<&str>,
        sink: Arc<dyn MetricsSink>,
    ) -> Result<Self, StartError> {
        let rules = match &config.rules {
            RulesSource::Builtin => Rules::builtin(),
            RulesSource::Inline(json) => {
                Rules::compile(json).map_err(|source| StartError::Rules {
                    setting: "ASSIGNMENT_RULES",
                    source,
                })?
            }
            RulesSource::File(path) => {
                let json =
                    std::fs::read_to_string(path).map_err(|source| StartError::RulesFile {
                        path: path.display().to_string(),
                        source,
                    })?;
                Rules::compile(&json).map_err(|source| StartError::Rules {
                    setting: "ASSIGNMENT_RULES_FILE",
                    source,
                })?
            }
        };
        let metrics = Metrics::new(
            &config.metrics_namespace,
            function_name.unwrap_or(LOCAL_FUNCTION_NAME),
        )?;
        let verification = match config.token {
            _ if config.skip_signature => Verification::Disabled,
            Some(source) => Verification::Enforced(Box::new(
                TokenStore::new(source, config.token_refresh).await,
            )),
            // `Config` refuses to start without a token unless verification is off.
            None => Verification::Disabled,
        };
        Ok(Self {
            public_base: config.public_base,
            verification,
            rules,
            metrics,
            sink,
            clock: system_clock,
        })
    }
}
