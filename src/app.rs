//! The application: everything a request needs, built once at cold start.
//!
//! [`App::build`] turns a [`Config`] into compiled rules (the default document and any tenant
//! documents), a token store (one account's, or one per account) and a metrics writer, and fails
//! with a message naming the setting when any of them cannot be built. The transport
//! ([`crate::http`]) borrows the `App` for every request.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::config::{Config, RulesSource, Signatures};
use crate::defer::queue::DeferralQueue;
use crate::metrics::{Metrics, MetricsError, MetricsSink};
use crate::public_url::PublicBase;
use crate::rulebook::{RuleBook, RuleBookError};
use crate::rules::{Rules, RulesError};
use crate::sid::AccountSid;
use crate::token::{AccountTokens, Deadline, SystemClock, TokenStore};
use crate::verification::Verification;

/// The function's name as Lambda reports it, used as the metrics dimension.
const LOCAL_FUNCTION_NAME: &str = "local";

/// A first request delivered within this long of the end of init is the one the cold start was
/// for: Lambda hands it over as soon as the runtime asks for work. One delivered later found an
/// instance prepared ahead of time (provisioned concurrency, or Lambda initialising an instance
/// before it is needed), so TaskRouter's 5 s began when it arrived.
const COLD_START_HANDOVER: Duration = Duration::from_secs(1);

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
        source: Box<RulesError>,
    },
    /// `METRICS_NAMESPACE` is invalid.
    #[error("METRICS_NAMESPACE is invalid: {0}")]
    Metrics(#[from] MetricsError),
    /// `ASSIGNMENT_RULES_DIR`, or a file in it, cannot be read.
    #[error("ASSIGNMENT_RULES_DIR: `{path}` cannot be read: {source}")]
    RulesDir {
        /// The directory or file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A rule defers to a decider but there is no queue to send the reservation to.
    #[error(
        "the rules document `{document}` has a rule that defers to a decider, but \
         DEFERRED_QUEUE_URL is not set: set it to the URL of the SQS queue the decider function \
         reads, or replace the `defer` with an `instruction`"
    )]
    NoDeferredQueue {
        /// The first document with a deferring rule (`default` or a tenant document's path).
        document: String,
    },
    /// A tenant document is misnamed or invalid.
    #[error("ASSIGNMENT_RULES_DIR is invalid: {0}")]
    TenantRules(#[from] RuleBookError),
    /// A tenant document is bound to an account that `TWILIO_ACCOUNT_SIDS` does not list, so it
    /// could never decide anything: most likely a SID missing from the list or a stale file.
    #[error(
        "ASSIGNMENT_RULES_DIR holds `{file}` for account `{account}`, which TWILIO_ACCOUNT_SIDS \
         does not list: add the account to the list or remove the file"
    )]
    TenantNotServed {
        /// The document's path in the directory.
        file: String,
        /// The account it is bound to.
        account: AccountSid,
    },
    /// With a token per account, a workspace document at the top of the directory names no
    /// account: any tenant could have its callbacks decided by it (crate::rulebook).
    #[error(
        "ASSIGNMENT_RULES_DIR holds `{file}` at its top level, which binds it to no account: \
         with a token per account (TWILIO_AUTH_TOKEN_PARAMETER_PREFIX) every tenant signs its own \
         callbacks and could name this workspace, so a workspace document must live in the \
         directory of the account that owns it: move it to `<AccountSid>/{file}` inside \
         ASSIGNMENT_RULES_DIR (e.g. `AC0123…/{file}`)"
    )]
    UnboundWorkspace {
        /// The document's path in the directory.
        file: String,
    },
}

/// Everything a request needs.
pub struct App {
    /// The public base URL, when configured.
    pub public_base: Option<PublicBase>,
    /// How `X-Twilio-Signature` is checked.
    pub verification: Verification,
    /// The compiled assignment rules: the default document and the tenants' own.
    pub rules: RuleBook,
    /// Builds embedded-metric lines.
    pub metrics: Metrics,
    /// Where metric lines are written.
    pub sink: Arc<dyn MetricsSink>,
    /// The queue deferred reservations go to: built only when a rule defers.
    pub deferrals: Option<DeferralQueue>,
    /// The clock the transport reads once per assignment callback: [`system_clock`]. The one
    /// seam through which time enters; in-process tests put a fixed instant here. No setting
    /// changes it, so a deployed function always decides at the real time.
    pub clock: fn() -> Timestamp,
    /// When [`App::build`] began: the start of init, as near the process start as the function
    /// can observe.
    started: Instant,
    /// When [`App::build`] ended.
    ready: Instant,
    /// Whether a request has been handled yet.
    served: AtomicBool,
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
            .field("rules", &self.rules.default_rules().len())
            .field("tenant_documents", &self.rules.tenant_documents())
            .finish_non_exhaustive()
    }
}

impl App {
    /// The deadline of any token read the request that arrived at `arrived` has to wait for:
    /// [`crate::token::READ_BUDGET`] after TaskRouter's 5 s began for it. For the first request,
    /// when it arrives as init ends (the request the cold start was for), that is the start of
    /// init, so the init's own time is charged to it; for every other request, its arrival.
    pub fn read_deadline(&self, arrived: Instant) -> Deadline {
        let first = !self.served.swap(true, Ordering::Relaxed);
        let cold_start =
            first && arrived.saturating_duration_since(self.ready) < COLD_START_HANDOVER;
        Deadline::after(if cold_start { self.started } else { arrived })
    }

    /// Builds the application from its configuration; metrics go to `sink`.
    ///
    /// `function_name` is the metrics dimension (Lambda's `AWS_LAMBDA_FUNCTION_NAME`).
    ///
    /// # Errors
    ///
    /// [`StartError`] naming the setting (and the file) when a rules document or the metrics
    /// namespace is invalid. A token parameter that cannot be read is not an error here: the
    /// store keeps trying and requests get `503` until it succeeds (fail closed, recover without
    /// a restart). With a token per account nothing is read at start: each account's token is
    /// read on its first callback.
    pub async fn build(
        config: Config,
        function_name: Option<&str>,
        sink: Arc<dyn MetricsSink>,
    ) -> Result<Self, StartError> {
        let started = Instant::now();
        let rules =
            match &config.rules {
                RulesSource::Builtin => Rules::builtin(),
                RulesSource::Inline(json) => Rules::compile_named("ASSIGNMENT_RULES", json)
                    .map_err(|source| StartError::Rules {
                        setting: "ASSIGNMENT_RULES",
                        source: Box::new(source),
                    })?,
                RulesSource::File(path) => {
                    let json =
                        std::fs::read_to_string(path).map_err(|source| StartError::RulesFile {
                            path: path.display().to_string(),
                            source,
                        })?;
                    Rules::compile_named(&path.display().to_string(), &json).map_err(|source| {
                        StartError::Rules {
                            setting: "ASSIGNMENT_RULES_FILE",
                            source: Box::new(source),
                        }
                    })?
                }
            };
        let mut book = RuleBook::new(rules);
        if let Some(directory) = &config.tenant_rules {
            add_tenant_documents(&mut book, directory)?;
        }
        if config.signatures.per_account().is_some()
            && let Some(file) = book.unbound_workspaces().first()
        {
            return Err(StartError::UnboundWorkspace {
                file: (*file).to_owned(),
            });
        }
        let allowed = config
            .signatures
            .per_account()
            .and_then(|accounts| accounts.allowed());
        if let Some(allowed) = allowed
            && let Some((account, file)) = book
                .accounts()
                .into_iter()
                .find(|(account, _)| !allowed.contains(account))
        {
            return Err(StartError::TenantNotServed {
                file: file.to_owned(),
                account: account.clone(),
            });
        }
        // No SQS client, and no SDK configuration loaded for one, unless a rule defers. When one
        // does, the configuration is loaded once, for the queue and the token store alike.
        let (deferrals, sdk_config) = match (book.deferring_document(), config.deferred_queue_url) {
            (None, _) => (None, None),
            (Some(document), None) => {
                return Err(StartError::NoDeferredQueue {
                    document: document.to_owned(),
                });
            }
            (Some(_), Some(url)) => {
                let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .load()
                    .await;
                (Some(DeferralQueue::new(url, &sdk_config)), Some(sdk_config))
            }
        };
        let metrics = Metrics::new(
            &config.metrics_namespace,
            function_name.unwrap_or(LOCAL_FUNCTION_NAME),
        )?;
        let verification = match config.signatures {
            Signatures::Unchecked => Verification::Disabled,
            // The init read waits for the callback this cold start is for (if it is one).
            Signatures::OneAccount(source) => Verification::Enforced(match &sdk_config {
                Some(sdk_config) => {
                    TokenStore::with_sdk_config(
                        source,
                        config.token_refresh,
                        sdk_config,
                        Deadline::after(started),
                    )
                    .await
                }
                None => {
                    TokenStore::new(source, config.token_refresh, Deadline::after(started)).await
                }
            }),
            Signatures::PerAccount(accounts) => {
                Verification::PerAccount(Box::new(match &sdk_config {
                    Some(sdk_config) => AccountTokens::with_sdk_config(
                        accounts,
                        config.token_refresh,
                        sdk_config,
                        Arc::new(SystemClock),
                    ),
                    None => AccountTokens::new(accounts, config.token_refresh).await,
                }))
            }
        };
        Ok(Self {
            public_base: config.public_base,
            verification,
            rules: book,
            metrics,
            sink,
            deferrals,
            clock: system_clock,
            started,
            ready: Instant::now(),
            served: AtomicBool::new(false),
        })
    }
}

/// Adds the tenant documents of `directory` to `book`: every `*.json` file at the top, and every
/// `*.json` file in a subdirectory (an account's), in path order so an error is always the same
/// one. Other files (a README, `.gitkeep`) and hidden entries are left alone; anything deeper is
/// refused, since it would otherwise be silently ignored.
fn add_tenant_documents(book: &mut RuleBook, directory: &Path) -> Result<(), StartError> {
    let mut documents = Vec::new();
    for entry in entries(directory)? {
        if entry.is_dir() {
            for inner in entries(&entry)? {
                if inner.is_dir() {
                    return Err(RuleBookError::Name {
                        path: relative(directory, &inner),
                    }
                    .into());
                }
                if is_json(&inner) {
                    documents.push(inner);
                }
            }
        } else if is_json(&entry) {
            documents.push(entry);
        }
    }
    documents.sort();
    for path in documents {
        let json = std::fs::read_to_string(&path).map_err(|error| unreadable(&path, error))?;
        book.add(&relative(directory, &path), &json)?;
    }
    Ok(())
}

/// The entries of `directory` but hidden ones (`.git`, `.DS_Store`).
fn entries(directory: &Path) -> Result<Vec<PathBuf>, StartError> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(directory).map_err(|error| unreadable(directory, error))? {
        let entry = entry.map_err(|error| unreadable(directory, error))?;
        if !entry.file_name().to_string_lossy().starts_with('.') {
            paths.push(entry.path());
        }
    }
    Ok(paths)
}

fn is_json(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("json"))
}

/// `path` relative to `directory`, `/`-separated, as [`RuleBook::add`] reads it.
fn relative(directory: &Path, path: &Path) -> String {
    path.strip_prefix(directory)
        .unwrap_or(path)
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn unreadable(path: &Path, source: std::io::Error) -> StartError {
    StartError::RulesDir {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MemorySink;
    use crate::token::READ_BUDGET;

    async fn app() -> App {
        let config = Config::from_lookup(|name| {
            (name == "TWILIO_AUTH_TOKEN").then(|| "local-dev-token".to_owned())
        })
        .expect("a token is all it needs");
        App::build(config, None, Arc::new(MemorySink::default()))
            .await
            .expect("the app builds")
    }

    #[tokio::test]
    async fn the_callback_a_cold_start_is_for_is_charged_the_init_and_later_ones_are_not() {
        let app = app().await;
        let arrived = app.ready + Duration::from_millis(5);
        assert_eq!(
            app.read_deadline(arrived),
            Deadline::after(app.started),
            "the first request, handed over as init ends: TaskRouter's 5 s began before init"
        );
        let later = app.ready + Duration::from_secs(30);
        assert_eq!(
            app.read_deadline(later),
            Deadline::after(later),
            "every later request: its own arrival"
        );
        assert_eq!(
            Deadline::after(later).instant() - tokio::time::Instant::from_std(later),
            READ_BUDGET
        );
    }

    #[tokio::test]
    async fn a_first_request_long_after_init_found_an_instance_prepared_ahead_and_is_not_charged() {
        // Provisioned concurrency, or an instance Lambda initialised before it was needed.
        let app = app().await;
        let arrived = app.ready + COLD_START_HANDOVER + Duration::from_millis(1);
        assert_eq!(app.read_deadline(arrived), Deadline::after(arrived));
    }
}
