//! The HTTP layer of the REST client: TLS, authentication, timeouts, retries and Twilio's error
//! JSON. Everything above it deals in paths, form pairs and typed answers.
//!
//! **One TLS stack.** [`http_agent`] is the project's only outbound HTTP client besides the AWS
//! SDK, and both use rustls with AWS-LC: `ureq` is built without a crypto provider and handed
//! AWS-LC's, and trusts the system's root certificates (`rustls-native-certs`, as the SDK does;
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` override them). `deny.toml` bans OpenSSL and ring so a
//! dependency cannot bring a second stack in.
//!
//! **Retries** ([`RetryPolicy`]): every attempt is bounded by a connect timeout and a whole-request
//! timeout. A `429` is always retried: Twilio did not process the request. A `5xx`, or a
//! connection lost after the request was sent, leaves the outcome unknown, so it is retried only
//! for requests marked [`Replay::Safe`]:
//!
//! - reads;
//! - updates that set values (a Workflow's or Workspace's URLs, a task's fields): applying them
//!   twice leaves the same state;
//! - reservation updates. TaskRouter applies an update only to a *pending* reservation (errors
//!   40123 / 40135, docs/taskrouter.md §3), so a repeated accept or reject is refused, and the
//!   client then fetches the reservation and reports its real status ([`super::Client::update_reservation`]
//!   callers do; see `src/cli/reservation.rs`). The exceptions are `call` and `redirect`
//!   without `accept`, which leave the reservation pending: a repeat would place or redirect a
//!   call twice, so they are [`Replay::Unsafe`].
//!
//! [`Replay::Unsafe`] requests (those two, and `CreateTask`, whose repeat would create a second
//! task) are retried only when the request certainly did not arrive: a `429`, or a connection
//! that could not be opened. Any other `4xx` is never retried. Delays grow exponentially from
//! [`RetryPolicy::base_delay`] with full jitter (Twilio's own `twilio-node` backs off the same
//! way on `429`: `RequestClient.js`, `getExponentialBackoffResponseHandler`), and a `Retry-After`
//! in seconds is honoured up to [`RetryPolicy::max_retry_after`]; a longer one ends the retries
//! with an error that says when to try again.
//!
//! **Secrets.** The `Authorization` header is built once and held as a [`SecretString`]; URLs never hold
//! credentials (the configuration refuses them), so no error or log line can carry one.

use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use serde::Deserialize;

use secrecy::{ExposeSecret, SecretString};

use super::config::RestConfig;

/// How the client waits and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff's upper bound; each retry doubles it.
    pub base_delay: Duration,
    /// The largest backoff.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one ends the retries.
    pub max_retry_after: Duration,
    /// The limit for opening a connection (DNS, TCP, TLS).
    pub connect_timeout: Duration,
    /// The limit for one whole attempt, answer included.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, backoff from 250 ms up to 4 s, `Retry-After` up to 10 s, 5 s to connect and
    /// 15 s per attempt: at most about a minute in the worst case, and a reservation waits
    /// 120 s by default (docs/taskrouter.md §3).
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
        }
    }
}

impl RetryPolicy {
    /// The full-jitter backoff before retry number `retry` (0 for the first): a uniformly random
    /// duration up to `base_delay · 2^retry`, capped at `max_delay`. `random` is any `u64`.
    pub fn backoff(&self, retry: u32, random: u64) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2_u32.saturating_pow(retry.min(16)))
            .min(self.max_delay);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(random % millis.saturating_add(1))
    }
}

/// An HTTP method the REST API uses here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read a resource.
    Get,
    /// Create or update a resource (a form body).
    Post,
    /// Remove a resource (answered `204` with no body).
    Delete,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// Whether a request may be sent again when its outcome is unknown (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Sending it twice leaves the same state, or the second is refused and checked.
    Safe,
    /// Sending it twice could act twice: retried only when it certainly did not arrive.
    Unsafe,
}

/// One request: a path under the base URL and, for a POST, form pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, starting with `/v1/`.
    pub path: String,
    /// The form parameters of a POST, in order; a repeated name is an array
    /// (docs/taskrouter.md §7).
    pub form: Vec<(String, String)>,
    /// Whether it may be repeated.
    pub replay: Replay,
}

impl Request {
    /// A GET, which is always safe to repeat.
    pub fn get(path: String) -> Self {
        Self {
            method: Method::Get,
            path,
            form: Vec::new(),
            replay: Replay::Safe,
        }
    }

    /// A DELETE, safe to repeat: the second finds nothing to remove and is refused (`404`).
    pub fn delete(path: String) -> Self {
        Self {
            method: Method::Delete,
            path,
            form: Vec::new(),
            replay: Replay::Safe,
        }
    }

    /// A POST of `form`.
    pub fn post(path: String, form: Vec<(&'static str, String)>, replay: Replay) -> Self {
        Self {
            method: Method::Post,
            path,
            form: form
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            replay,
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status (2xx).
    pub status: u16,
    /// The body.
    pub body: String,
}

/// The HTTP client of the project's outbound requests (the REST API, `send`, `connect --check`):
/// rustls with AWS-LC, the system's root certificates, no redirects followed, no error on a
/// non-2xx status (callers read it), the whole exchange bounded by `timeout`.
///
/// Root certificates are loaded only when `url` is https: plain-http uses (a local function, a
/// mock) then cost nothing.
///
/// # Errors
///
/// [`RestError::NoRootCertificates`] when `url` is https and the system has no readable root
/// certificate.
pub fn http_agent(
    url: &str,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<ureq::Agent, RestError> {
    let https = url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider);
    if https {
        let loaded = rustls_native_certs::load_native_certs();
        if loaded.certs.is_empty() {
            let reasons: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
            return Err(RestError::NoRootCertificates {
                reason: if reasons.is_empty() {
                    "none found".to_owned()
                } else {
                    reasons.join("; ")
                },
            });
        }
        let roots: Vec<ureq::tls::Certificate<'static>> = loaded
            .certs
            .iter()
            .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
            .collect();
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&roots));
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Basic auth must never follow a redirect to another host; TaskRouter does not redirect.
        .max_redirects(0)
        .timeout_connect(Some(connect_timeout))
        .timeout_global(Some(timeout))
        .user_agent(concat!("taskrouter-lambda/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls.build())
        .build()
        .into())
}

/// Sends requests to the REST API with credentials, timeouts and retries.
pub struct Transport {
    agent: ureq::Agent,
    base_url: String,
    authorization: SecretString,
    policy: RetryPolicy,
    extra_headers: Vec<(String, String)>,
    sleep: fn(Duration),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base_url", &self.base_url)
            .field("authorization", &self.authorization)
            .field("policy", &self.policy)
            .field("extra_headers", &self.extra_headers)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport for `config` with `policy`.
    ///
    /// # Errors
    ///
    /// [`RestError::NoRootCertificates`] for an https base URL on a system without root
    /// certificates.
    pub fn new(config: &RestConfig, policy: RetryPolicy) -> Result<Self, RestError> {
        Ok(Self {
            agent: http_agent(
                &config.base_url,
                policy.connect_timeout,
                policy.request_timeout,
            )?,
            base_url: config.base_url.clone(),
            authorization: config.credentials.authorization(),
            policy,
            extra_headers: Vec::new(),
            sleep: std::thread::sleep,
        })
    }

    /// Adds a header to every request. For tests against a mock (Prism's `Prefer: code=404`
    /// chooses its answer) and for proxies that need one; never for credentials.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.extra_headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends `request`, retrying as the module docs say, and returns a 2xx answer.
    ///
    /// # Errors
    ///
    /// [`RestError::Api`] for an error status (after the retries a `429` or `5xx` allows),
    /// [`RestError::Transport`] when no answer came.
    pub fn send(&self, request: &Request) -> Result<Response, RestError> {
        let url = format!("{}{}", self.base_url, request.path);
        let mut retry = 0;
        loop {
            let attempt = retry + 1;
            let outcome = self.attempt(request, &url);
            let wait = match &outcome {
                Attempt::Answer(status, _, _) if (200..300).contains(status) => None,
                Attempt::Answer(status, retry_after, _) => {
                    let unknown_outcome = *status >= 500;
                    let retryable =
                        *status == 429 || (unknown_outcome && request.replay == Replay::Safe);
                    match (retryable, retry_after) {
                        (false, _) => None,
                        // Told to wait longer than we would: stop and say when to come back.
                        (true, Some(after)) if *after > self.policy.max_retry_after => None,
                        (true, Some(after)) => Some(*after),
                        (true, None) => Some(self.policy.backoff(retry, random_u64())),
                    }
                }
                Attempt::NoAnswer { sent, .. } => (!sent || request.replay == Replay::Safe)
                    .then(|| self.policy.backoff(retry, random_u64())),
            };
            match (wait, retry < self.policy.max_retries) {
                (Some(delay), true) => {
                    tracing::debug!(
                        method = request.method.as_str(),
                        path = %request.path,
                        attempt,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "retrying a TaskRouter request"
                    );
                    (self.sleep)(delay);
                    retry += 1;
                }
                _ => return self.finish(request, url, outcome, attempt),
            }
        }
    }

    fn finish(
        &self,
        request: &Request,
        url: String,
        outcome: Attempt,
        attempts: u32,
    ) -> Result<Response, RestError> {
        match outcome {
            Attempt::Answer(status, _, body) if (200..300).contains(&status) => {
                Ok(Response { status, body })
            }
            Attempt::Answer(status, retry_after, body) => {
                Err(RestError::Api(Box::new(ApiError::from_body(
                    request.method.as_str(),
                    url,
                    status,
                    &body,
                    attempts,
                    retry_after,
                ))))
            }
            Attempt::NoAnswer { reason, .. } => Err(RestError::Transport {
                method: request.method.as_str(),
                url,
                reason,
                attempts,
            }),
        }
    }

    fn attempt(&self, request: &Request, url: &str) -> Attempt {
        let result = match request.method {
            Method::Delete => {
                let mut builder = self
                    .agent
                    .delete(url)
                    .header("Authorization", self.authorization.expose_secret())
                    .header("Accept", "application/json");
                for (name, value) in &self.extra_headers {
                    builder = builder.header(name, value);
                }
                builder.call()
            }
            Method::Get => {
                let mut builder = self
                    .agent
                    .get(url)
                    .header("Authorization", self.authorization.expose_secret())
                    .header("Accept", "application/json");
                for (name, value) in &self.extra_headers {
                    builder = builder.header(name, value);
                }
                builder.call()
            }
            Method::Post => {
                let mut builder = self
                    .agent
                    .post(url)
                    .header("Authorization", self.authorization.expose_secret())
                    .header("Accept", "application/json");
                for (name, value) in &self.extra_headers {
                    builder = builder.header(name, value);
                }
                builder.send_form(
                    request
                        .form
                        .iter()
                        .map(|(name, value)| (name.as_str(), value.as_str())),
                )
            }
        };
        match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(parse_retry_after);
                match response.body_mut().read_to_string() {
                    Ok(body) => Attempt::Answer(status, retry_after, body),
                    Err(error) => Attempt::NoAnswer {
                        reason: format!("the answer ({status}) could not be read: {error}"),
                        sent: true,
                    },
                }
            }
            Err(error) => Attempt::NoAnswer {
                sent: !not_sent(&error),
                reason: describe_transport_error(&error),
            },
        }
    }
}

/// What one attempt produced.
enum Attempt {
    /// A status, its `Retry-After`, and the body.
    Answer(u16, Option<Duration>, String),
    /// No answer; `sent` is false when the request certainly never reached the server.
    NoAnswer { reason: String, sent: bool },
}

/// Errors that happen before a request is on the wire: resolving, connecting, the TLS handshake.
fn not_sent(error: &ureq::Error) -> bool {
    use std::io::ErrorKind;
    match error {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::BadUri(_)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_) => true,
        ureq::Error::Timeout(timeout) => {
            matches!(timeout, ureq::Timeout::Resolve | ureq::Timeout::Connect)
        }
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable | ErrorKind::NotFound
        ),
        _ => false,
    }
}

fn describe_transport_error(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(timeout) => format!("timed out ({timeout})"),
        ureq::Error::HostNotFound => "the host name does not resolve".to_owned(),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "the connection was refused".to_owned()
        }
        other => other.to_string(),
    }
}

/// `Retry-After` as delay-seconds. The HTTP-date form is not used by Twilio as far as its
/// documentation shows; it is ignored and the backoff applies.
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A random `u64` for the jitter, from `fastrand`'s generator for this thread: spreading retries
/// needs no cryptographic randomness, so the TLS stack's generator is left to TLS.
fn random_u64() -> u64 {
    fastrand::u64(..)
}

/// Twilio's error answer (docs/taskrouter.md §7):
/// `{"code": 20404, "message": "…", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}`.
#[derive(Debug, Deserialize)]
struct TwilioErrorBody {
    code: Option<u32>,
    message: Option<String>,
    more_info: Option<String>,
}

/// An RFC 9457 problem, which a validating mock (Prism) answers with.
#[derive(Debug, Deserialize)]
struct ProblemBody {
    title: Option<String>,
    detail: Option<String>,
    #[serde(default)]
    validation: Vec<ProblemItem>,
}

#[derive(Debug, Deserialize)]
struct ProblemItem {
    message: Option<String>,
}

/// An error status from the REST API, with what Twilio said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The URL requested (never holds credentials).
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// Twilio's error code, e.g. `20404`.
    pub code: Option<u32>,
    /// Twilio's message, or the mock's problem description, or the start of the body.
    pub message: String,
    /// Twilio's link to the error's page.
    pub more_info: Option<String>,
    /// How many attempts were made.
    pub attempts: u32,
    /// The server's `Retry-After`, when it asked for a wait longer than the client makes.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// The error of an answer with `status` and `body`: Twilio's error JSON (`code`, `message`,
    /// `more_info`), an RFC 7807 problem (what Prism answers), or the body itself, shortened.
    pub fn from_body(
        method: &'static str,
        url: String,
        status: u16,
        body: &str,
        attempts: u32,
        retry_after: Option<Duration>,
    ) -> Self {
        let mut error = Self {
            method,
            url,
            status,
            code: None,
            message: String::new(),
            more_info: None,
            attempts,
            retry_after,
        };
        if let Ok(twilio) = serde_json::from_str::<TwilioErrorBody>(body)
            && (twilio.code.is_some() || twilio.message.is_some())
        {
            error.code = twilio.code;
            error.message = twilio.message.unwrap_or_default();
            error.more_info = twilio.more_info;
        } else if let Ok(problem) = serde_json::from_str::<ProblemBody>(body)
            && (problem.title.is_some() || problem.detail.is_some())
        {
            let details: Vec<String> = problem
                .validation
                .into_iter()
                .filter_map(|item| item.message)
                .collect();
            error.message = if details.is_empty() {
                [problem.title, problem.detail]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ")
            } else {
                details.join("; ")
            };
        } else {
            error.message = snippet(body);
        }
        error
    }

    /// What to look at, by status.
    fn hint(&self) -> Option<&'static str> {
        match self.status {
            401 => Some(
                "check TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET",
            ),
            403 => Some(
                "the credentials may not act on this resource (a subaccount's, or a restricted API key?)",
            ),
            404 => Some("check the SIDs: they must belong to this account and workspace"),
            429 => Some("Twilio is rate-limiting this account: wait and try again"),
            500..=599 => Some("Twilio had a problem: try again later"),
            _ => None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} answered {}", self.method, self.url, self.status)?;
        if let Some(code) = self.code {
            write!(f, ", error {code}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(link) = &self.more_info {
            write!(f, " ({link})")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        if let Some(after) = self.retry_after {
            write!(f, "; Twilio asks to retry after {} s", after.as_secs())?;
        }
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// The start of a body for a message: one line, at most 200 characters.
fn snippet(body: &str) -> String {
    let line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    let line = line.trim();
    if line.is_empty() {
        "(empty body)".to_owned()
    } else {
        line.to_owned()
    }
}

/// A REST request that failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The API answered with an error status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// No answer came (connection, TLS, timeout).
    #[error("{method} {url}: no answer after {attempts} attempt(s): {reason}")]
    Transport {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A 2xx answer that is not the JSON the operation returns.
    #[error("{method} {url}: the answer is not the expected JSON: {reason}")]
    Decode {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL.
        url: String,
        /// The parser's message.
        reason: String,
    },
    /// https was needed and the system trusts no root certificate.
    #[error(
        "no trusted root certificates on this system ({reason}): install the ca-certificates package, or point SSL_CERT_FILE at a PEM bundle"
    )]
    NoRootCertificates {
        /// Why none were loaded.
        reason: String,
    },
}

impl RestError {
    /// The API error, when the API answered.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(error) => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_by_a_doubling_ceiling_and_the_maximum() {
        let policy = RetryPolicy::default();
        let cases = [
            (0, u64::MAX, 250, "first retry: up to the base delay"),
            (1, u64::MAX, 500, "second: doubled"),
            (2, u64::MAX, 1000, "third: doubled again"),
            (5, u64::MAX, 4000, "capped at the maximum"),
            (40, u64::MAX, 4000, "no overflow for a large retry number"),
            (3, 0, 0, "the jitter reaches zero"),
        ];
        for (retry, random, max_millis, why) in cases {
            let delay = policy.backoff(retry, random);
            assert!(
                delay <= Duration::from_millis(max_millis),
                "{why}: {delay:?}"
            );
        }
        // Full jitter: the delay is `random` modulo the ceiling + 1.
        assert_eq!(policy.backoff(0, 100), Duration::from_millis(100));
        assert_eq!(policy.backoff(0, 251), Duration::from_millis(0));
    }

    #[test]
    fn twilio_error_json_becomes_code_message_and_link() {
        let body = r#"{"code": 20404, "message": "The requested resource /Workspaces/WS1 was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}"#;
        let error = ApiError::from_body(
            "GET",
            "https://taskrouter.twilio.com/v1/Workspaces/WS1".to_owned(),
            404,
            body,
            1,
            None,
        );
        assert_eq!(
            error.to_string(),
            "GET https://taskrouter.twilio.com/v1/Workspaces/WS1 answered 404, error 20404: The requested resource /Workspaces/WS1 was not found (https://www.twilio.com/docs/errors/20404); check the SIDs: they must belong to this account and workspace"
        );
    }

    #[test]
    fn other_error_bodies_still_say_what_went_wrong() {
        let cases = [
            (
                422,
                r#"{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","title":"Invalid request","status":422,"detail":"Your request is not valid","validation":[{"location":["body","ReservationStatus"],"severity":"Error","code":"enum","message":"Request body property ReservationStatus must be equal to one of the allowed values: pending, accepted"}]}"#,
                "POST u answered 422: Request body property ReservationStatus must be equal to one of the allowed values: pending, accepted",
                "a problem with validation details",
            ),
            (
                404,
                r#"{"type":"x","title":"Not found","status":404,"detail":"Requested status code 404 is not defined"}"#,
                "POST u answered 404: Not found: Requested status code 404 is not defined; check the SIDs: they must belong to this account and workspace",
                "a problem without details",
            ),
            (
                502,
                "<html>\n<body>Bad Gateway</body></html>",
                "POST u answered 502: <html> <body>Bad Gateway</body></html> after 4 attempts; Twilio had a problem: try again later",
                "an HTML body from a proxy, after retries",
            ),
            (
                503,
                "",
                "POST u answered 503: (empty body) after 4 attempts; Twilio had a problem: try again later",
                "an empty body",
            ),
        ];
        for (status, body, expected, why) in cases {
            let attempts = if status >= 500 { 4 } else { 1 };
            let error = ApiError::from_body("POST", "u".to_owned(), status, body, attempts, None);
            assert_eq!(error.to_string(), expected, "{why}");
        }
    }

    #[test]
    fn a_long_retry_after_is_reported() {
        let error = ApiError::from_body(
            "GET",
            "u".to_owned(),
            429,
            r#"{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}"#,
            1,
            Some(Duration::from_secs(60)),
        );
        assert_eq!(
            error.to_string(),
            "GET u answered 429, error 20429: Too Many Requests (https://www.twilio.com/docs/errors/20429); Twilio asks to retry after 60 s; Twilio is rate-limiting this account: wait and try again"
        );
    }

    #[test]
    fn retry_after_is_read_as_seconds_only() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn the_random_source_varies() {
        let draws: std::collections::HashSet<u64> = (0..8).map(|_| random_u64()).collect();
        assert!(draws.len() > 1, "eight draws of a 64-bit generator differ");
    }
}
