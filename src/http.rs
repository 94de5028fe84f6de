//! The transport: API Gateway requests in, HTTP responses out.
//!
//! This is the only module that knows about `lambda_http`. It routes, checks method and content
//! type, hands what the request offers to [`crate::verification`] (header, body, where it
//! arrived) before anything in the payload is trusted, hands the typed payload to the domain
//! modules and turns every outcome into an HTTP response. Nothing here returns an error to the
//! runtime: behind API Gateway that would be a bare `502`, so every failure is a JSON error with
//! the status [`Rejection::status`] gives.

use std::convert::Infallible;
use std::future::{self, Future};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{Adapter, Body, LambdaEvent, Request, RequestExt, Response, Service, service_fn};
use serde::Serialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::callback::{AssignmentCallback, CallbackError};
use crate::defer::queue::{Message, QueueError};
use crate::event::{EventError, WorkspaceEvent};
use crate::form::{FormError, FormParams};
use crate::public_url::{Origin, RequestFacts};
use crate::rulebook::CrossTenant;
use crate::sid::AccountSid;
use crate::token::Deadline;
use crate::verification::{Refusal, Unverified, Verification};

/// The assignment callback route (the Workflow's `AssignmentCallbackUrl`).
pub const ASSIGNMENT_ROUTE: &str = "/taskrouter/assignment_callback";
/// The workspace event route (the Workspace's `EventCallbackUrl`).
pub const EVENTS_ROUTE: &str = "/taskrouter/events";
/// The signature header Twilio sends on every webhook.
const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// The routes this function serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Assignment,
    Events,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Self::Assignment => ASSIGNMENT_ROUTE,
            Self::Events => EVENTS_ROUTE,
        }
    }
}

/// Why a request is refused. Each variant's doc gives its status.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    /// `404`: no such route.
    #[error("no route for `{0}`: POST to {ASSIGNMENT_ROUTE} or {EVENTS_ROUTE}")]
    NotFound(String),
    /// `405`: the route exists but only answers POST.
    #[error("method {0} is not allowed here: TaskRouter POSTs its callbacks")]
    MethodNotAllowed(Method),
    /// `415`: the body is not form-encoded.
    #[error("content type `{0}` is not supported: send application/x-www-form-urlencoded")]
    UnsupportedMediaType(String),
    /// Not verified ([`crate::verification`]): `400` when the form body cannot be read, `413`
    /// when it is longer than any TaskRouter callback; `403` without a signature, with one that
    /// does not match, or for an account not served here; `503` when the tokens cannot be had
    /// now (the auth token is unavailable, or an account not seen yet cannot be looked up), so
    /// TaskRouter tries the fallback URL.
    #[error(transparent)]
    Unverified(#[from] Refusal),
    /// `403`: a verified callback names a workspace whose tenant document is bound to another
    /// account (`crate::rulebook`): it is answered for nobody, and logged with both accounts.
    #[error(transparent)]
    CrossTenant(#[from] CrossTenant),
    /// `400`: the body is not a valid assignment callback.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// `400`: the body is not a valid workspace event.
    #[error(transparent)]
    Event(#[from] EventError),
    /// `503`: a rule deferred the decision to a decider but the reservation could not be queued
    /// in time (`crate::defer::queue`). Answering `{}` would leave it pending with nobody to
    /// decide: the `503` makes TaskRouter call the Workflow's fallback URL
    /// (docs/taskrouter.md §2, docs/taskrouter.md §3), which Twilio's own sample sets to this same
    /// function.
    #[error("the reservation could not be queued for its decider: {0}")]
    NotQueued(QueueError),
    /// `400`: `lambda_http` cannot build an HTTP request from the API Gateway event (see
    /// [`function`]); the detail is its panic message.
    #[error(
        "the API Gateway event cannot be read as an HTTP request (a Host header, domain name, \
         path or query string that is not valid in a URL, or a body flagged base64 that is not): \
         {0}"
    )]
    MalformedEvent(String),
}

impl Rejection {
    /// The HTTP status of this rejection.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unverified(Refusal::Form(FormError::TooLarge { .. })) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::Unverified(Refusal::Form(_))
            | Self::Callback(_)
            | Self::Event(_)
            | Self::MalformedEvent(_) => StatusCode::BAD_REQUEST,
            Self::Unverified(
                Refusal::MissingSignature
                | Refusal::InvalidSignature { .. }
                | Refusal::UnknownAccount(_),
            )
            | Self::CrossTenant(_) => StatusCode::FORBIDDEN,
            Self::Unverified(Refusal::TokenUnavailable(_) | Refusal::LookupsExhausted(_))
            | Self::NotQueued(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A stable machine-readable code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unverified(refusal) => match refusal {
                Refusal::Form(FormError::Empty) => "empty_body",
                Refusal::Form(FormError::NotUtf8 { .. }) => "invalid_form",
                Refusal::Form(FormError::TooLarge { .. }) => "body_too_large",
                Refusal::MissingSignature => "missing_signature",
                Refusal::InvalidSignature { .. } => "invalid_signature",
                Refusal::UnknownAccount(_) => "unknown_account",
                Refusal::LookupsExhausted(_) => "account_lookups_exhausted",
                Refusal::TokenUnavailable(_) => "token_unavailable",
            },
            Self::CrossTenant(_) => "cross_tenant_workspace",
            Self::Callback(error) => error.code(),
            Self::Event(error) => error.code(),
            Self::NotQueued(_) => "deferral_not_queued",
            Self::MalformedEvent(_) => "malformed_event",
        }
    }

    /// The account a refused request claimed, when it named a well-formed one and the deployment
    /// has a token per account. Not verified: for logs and metric properties, never dimensions.
    pub fn claimed_account(&self) -> Option<&AccountSid> {
        match self {
            Self::Unverified(refusal) => refusal.claimed_account(),
            _ => None,
        }
    }

    fn into_response(self) -> Response<Body> {
        let body = json!({"error": {"code": self.code(), "message": self.to_string()}});
        let mut response = json_response(self.status(), body.to_string());
        if matches!(self, Self::MethodNotAllowed(_)) {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        response
    }
}

fn json_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The function as the Lambda runtime calls it: an API Gateway event in, an API Gateway response
/// out. [`lambda_runtime::run`](lambda_http::lambda_runtime::run) serves it in `main.rs`; the tests
/// call it with the fixtures.
///
/// It is `lambda_http::run`'s own adapter around [`handle`], with one difference. `lambda_http`
/// (1.3) panics while turning some events it has deserialised into a request: a `Host` header or
/// domain name that is not a URL host, a raw query string with a space, a body flagged base64 that
/// does not decode (its `build_request_uri` and `Body::from_maybe_encoded` unwrap). Left alone, the
/// runtime reports that panic as a failed invocation, which API Gateway turns into a bare `502`.
/// Here the conversion runs under `catch_unwind` and such an event is answered `400` with the
/// `malformed_event` JSON error, like every other malformed request. (The adapter and
/// `LambdaRequest` are public but hidden from `lambda_http`'s docs; the version is pinned by
/// `Cargo.lock`, and the fixture tests exercise this path.)
pub fn function(
    app: &App,
) -> impl Service<LambdaEvent<LambdaRequest>, Response = impl Serialize, Error = Infallible> + '_ {
    let handler = service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(handle(app, request).await)
    });
    EventGuard {
        app,
        adapter: Adapter::from(handler),
    }
}

/// `lambda_http`'s adapter with its request conversion guarded against panics (see [`function`]).
struct EventGuard<'a, S> {
    app: &'a App,
    adapter: S,
}

/// What [`EventGuard`] answers: the adapter's response, or the error for an event it could not
/// convert, in the response shape both API Gateway payload formats and function URLs accept.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer<R> {
    Converted(R),
    Refused(Value),
}

impl<'a, S> Service<LambdaEvent<LambdaRequest>> for EventGuard<'a, S>
where
    S: Service<LambdaEvent<LambdaRequest>, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Answer<S::Response>;
    type Error = Infallible;
    type Future = Guarded<S::Future, S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.adapter.poll_ready(cx)
    }

    fn call(&mut self, event: LambdaEvent<LambdaRequest>) -> Self::Future {
        // The adapter converts the event synchronously inside `call` and only returns a future for
        // the handler, so this catches the conversion and nothing of ours. Unwind safety: the
        // adapter holds only the handler, which the conversion does not touch.
        match panic::catch_unwind(AssertUnwindSafe(|| self.adapter.call(event))) {
            Ok(future) => Guarded::Converting(future),
            Err(payload) => {
                let detail = payload
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_owned());
                let response = reject(self.app, None, Rejection::MalformedEvent(detail));
                Guarded::Refused(future::ready(Answer::Refused(gateway_response(response))))
            }
        }
    }
}

/// The future of [`EventGuard::call`].
enum Guarded<F, R> {
    Converting(F),
    Refused(future::Ready<Answer<R>>),
}

impl<F, R> Future for Guarded<F, R>
where
    F: Future<Output = Result<R, Infallible>> + Unpin,
{
    type Output = Result<Answer<R>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Both variants are `Unpin`, so the pin can be dropped.
        match self.get_mut() {
            Self::Converting(future) => Pin::new(future).poll(cx).map_ok(Answer::Converted),
            Self::Refused(ready) => Pin::new(ready).poll(cx).map(Ok),
        }
    }
}

/// A response as the Lambda proxy integration expects it: `statusCode`, single-value `headers`,
/// a text `body`. REST APIs (payload 1.0), HTTP APIs (2.0) and function URLs all read this shape.
fn gateway_response(response: Response<Body>) -> Value {
    let headers: serde_json::Map<String, Value> = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.into())))
        .collect();
    let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    json!({
        "statusCode": response.status().as_u16(),
        "headers": headers,
        "body": body,
        "isBase64Encoded": false,
    })
}

/// Answers one request. Never fails: every outcome is an HTTP response.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let started = Instant::now();
    // Read for every request, so the first one, whatever it is, is the one counted as the cold
    // start's.
    let deadline = app.read_deadline(started);
    let route = match route_of(&request) {
        Ok(route) => route,
        Err(rejection) => return reject(app, None, rejection),
    };
    let outcome = match route {
        Route::Assignment => assign(app, &request, started, deadline).await,
        Route::Events => record_event(app, &request, deadline).await,
    };
    outcome.unwrap_or_else(|rejection| reject(app, Some(route), rejection))
}

/// Logs a refused request and answers it.
fn reject(app: &App, route: Option<Route>, rejection: Rejection) -> Response<Body> {
    let status = rejection.status();
    let path = route.map_or("-", Route::path);
    // Claimed, not verified: a field to search by, never trusted.
    let claimed_account_sid = rejection.claimed_account().map(AccountSid::as_str);
    match &rejection {
        Rejection::Unverified(Refusal::TokenUnavailable(cause)) => {
            tracing::error!(route = path, status = status.as_u16(), %cause, "request refused: auth token unavailable");
        }
        Rejection::Unverified(Refusal::InvalidSignature { cause, .. }) => {
            // The candidates tried help diagnose a URL mismatch; they contain no secret.
            tracing::warn!(
                route = path,
                status = status.as_u16(),
                code = rejection.code(),
                claimed_account_sid,
                "request refused: {rejection}"
            );
            tracing::debug!(route = path, reason = %cause, "signature check failed");
        }
        Rejection::NotQueued(cause) => {
            tracing::error!(route = path, status = status.as_u16(), %cause, "deferral not queued: answered 503 so TaskRouter calls the fallback URL");
        }
        Rejection::CrossTenant(attempt) => {
            // Verified, so the SIDs are facts: who signed, and whose workspace it named.
            tracing::warn!(
                route = path,
                status = status.as_u16(),
                code = rejection.code(),
                account_sid = %attempt.account,
                workspace_sid = %attempt.workspace,
                workspace_owner_sid = %attempt.owner,
                "cross-tenant attempt refused: a callback signed by one account named a workspace \
                 bound to another"
            );
            app.sink.emit(app.metrics.cross_tenant_refusal(
                now_ms(),
                path,
                attempt.account.as_str(),
                attempt.workspace.as_str(),
                attempt.owner.as_str(),
            ));
        }
        _ => {
            tracing::warn!(
                route = path,
                status = status.as_u16(),
                code = rejection.code(),
                claimed_account_sid,
                "request refused: {rejection}"
            );
        }
    }
    // Every request refused before it could be verified counts, so a flood of invented accounts
    // shows in the alarm whether its look-ups found nothing or the budget was spent.
    if matches!(
        rejection,
        Rejection::Unverified(
            Refusal::MissingSignature
                | Refusal::InvalidSignature { .. }
                | Refusal::UnknownAccount(_)
                | Refusal::LookupsExhausted(_)
        )
    ) {
        app.sink.emit(app.metrics.signature_failure(
            now_ms(),
            path,
            rejection.code(),
            claimed_account_sid,
        ));
    }
    rejection.into_response()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// The route of a request, from its raw path (the stage of a named HTTP API stage removed).
fn route_of(request: &Request) -> Result<Route, Rejection> {
    let path = route_path(request);
    let route = match path {
        ASSIGNMENT_ROUTE => Route::Assignment,
        EVENTS_ROUTE => Route::Events,
        other => return Err(Rejection::NotFound(other.chars().take(200).collect())),
    };
    if request.method() != Method::POST {
        return Err(Rejection::MethodNotAllowed(request.method().clone()));
    }
    Ok(route)
}

/// The request's path relative to the API: an HTTP API on a named stage puts `/{stage}` in front.
fn route_path(request: &Request) -> &str {
    let raw = request.raw_http_path();
    let raw = if raw.is_empty() {
        request.uri().path()
    } else {
        raw
    };
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.as_deref(),
        _ => None,
    };
    match stage {
        Some(stage) if stage != "$default" => raw
            .strip_prefix('/')
            .and_then(|rest| rest.strip_prefix(stage))
            .filter(|rest| rest.starts_with('/'))
            .unwrap_or(raw),
        _ => raw,
    }
}

/// Reads and verifies the form body of a request to `route` ([`crate::verification`]); a
/// token that has to be read for it is read by `deadline`.
async fn verified_form(
    app: &App,
    request: &Request,
    route: Route,
    deadline: Deadline,
) -> Result<FormParams, Rejection> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(Rejection::UnsupportedMediaType(
            content_type.chars().take(100).collect(),
        ));
    }
    let query_pairs = v1_query_pairs(request);
    let unverified = Unverified {
        // A value that is not visible ASCII cannot be base64 either: refused as malformed.
        signature: request
            .headers()
            .get(SIGNATURE_HEADER)
            .map(|value| value.to_str().unwrap_or("")),
        body: request.body().as_ref(),
        facts: request_facts(request, &query_pairs),
    };
    let checked = app
        .verification
        .verify(app.public_base.as_ref(), unverified, deadline)
        .await?;
    match &checked.matched {
        Some(verified) => {
            tracing::debug!(route = route.path(), url = %verified.url, "signature verified");
        }
        None if matches!(app.verification, Verification::Disabled) => tracing::warn!(
            route = route.path(),
            "X-Twilio-Signature NOT CHECKED: TASKROUTER_INSECURE_SKIP_SIGNATURE=true; never run this way in production"
        ),
        None => {}
    }
    Ok(checked.params)
}

/// A REST API (payload 1.0) event carries its query only as decoded maps; an HTTP API event's
/// query is read raw from the URI instead, so this is empty for it.
fn v1_query_pairs(request: &Request) -> Vec<(String, String)> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(_)) => request
            .query_string_parameters_ref()
            .map(|query| {
                query
                    .iter()
                    .map(|(key, value)| (key.to_owned(), value.to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// What the request tells about the URL it arrived at.
fn request_facts<'a>(
    request: &'a Request,
    query_pairs: &'a [(String, String)],
) -> RequestFacts<'a> {
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
    };
    let (kind, domain_name, stage, context_path, raw_query) = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => (
            Origin::HttpApi,
            context.domain_name.as_deref(),
            context.stage.as_deref(),
            None,
            // For payload v2 `lambda_http` appends `rawQueryString` to the URI unchanged.
            request.uri().query(),
        ),
        Some(RequestContext::ApiGatewayV1(context)) => (
            Origin::RestApi,
            context.domain_name.as_deref(),
            context.stage.as_deref(),
            context.path.as_deref(),
            None,
        ),
        _ => (Origin::Unknown, None, None, None, request.uri().query()),
    };
    RequestFacts {
        kind,
        domain_name,
        stage,
        host_header: header(header::HOST.as_str()),
        forwarded_proto: header("x-forwarded-proto"),
        raw_path: request.raw_http_path(),
        context_path,
        raw_query,
        query_pairs,
    }
}

/// Answers an assignment callback with the rules' decision.
async fn assign(
    app: &App,
    request: &Request,
    started: Instant,
    deadline: Deadline,
) -> Result<Response<Body>, Rejection> {
    let params = verified_form(app, request, Route::Assignment, deadline).await?;
    let callback = AssignmentCallback::try_from(params)?;
    let (rules, document) = app.rules.select(&callback)?;
    // The clock is read once per callback, so every rule of the decision sees the same instant.
    let now = (app.clock)();
    let decision = rules.decide(&callback, now);
    for skipped in &decision.skipped {
        tracing::info!(
            reservation_sid = %callback.reservation_sid,
            rule = skipped.rule,
            reason = %skipped.reason,
            "rule matched but could not be applied; trying the next one"
        );
    }
    if let Some(deferral) = decision.deferral {
        let message = Message::new(decision.rule.name(), deferral, &callback, now);
        let sent = match &app.deferrals {
            Some(queue) => queue.send(&message, deadline).await,
            // App::build refuses to start without a queue when a rule defers.
            None => Err(QueueError::Send(
                "no deferral queue is configured".to_owned(),
            )),
        };
        if let Err(cause) = sent {
            app.sink.emit(app.metrics.deferral(
                now_ms(),
                "not_queued",
                Some(callback.account_sid.as_str()),
                None,
            ));
            tracing::info!(
                reservation_sid = %callback.reservation_sid,
                rule = decision.rule.name(),
                "deferral not queued"
            );
            return Err(Rejection::NotQueued(cause));
        }
    }
    let handling_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        account_sid = %callback.account_sid,
        task_sid = %callback.task_sid,
        reservation_sid = %callback.reservation_sid,
        worker_sid = %callback.worker_sid,
        workflow_sid = %callback.workflow_sid,
        task_queue_sid = %callback.task_queue_sid,
        task_age = callback.task_age,
        decision = decision.answer,
        rule = decision.rule.name(),
        rules_document = %document,
        handling_us,
        "assignment answered"
    );
    app.sink.emit(app.metrics.decision(
        now_ms(),
        decision.answer,
        decision.rule.name(),
        handling_us as f64 / 1000.0,
        i64::try_from(callback.task_age).ok(),
        callback.account_sid.as_str(),
    ));
    Ok(json_response(StatusCode::OK, decision.body.into_owned()))
}

/// Records a workspace event: one log line, and a metric for reservation outcomes.
async fn record_event(
    app: &App,
    request: &Request,
    deadline: Deadline,
) -> Result<Response<Body>, Rejection> {
    let params = verified_form(app, request, Route::Events, deadline).await?;
    let event = WorkspaceEvent::try_from(&params)?;
    app.rules
        .check_owner(&event.account_sid, &event.workspace_sid)?;
    let fields = event.log_fields();
    tracing::info!(
        account_sid = %event.account_sid,
        event_type = fields.event_type,
        resource_type = fields.resource_type,
        resource_sid = fields.resource_sid,
        workspace_sid = fields.workspace_sid,
        timestamp = fields.timestamp,
        reservation_sid = fields.reservation_sid,
        task_sid = fields.task_sid,
        task_queue_sid = fields.task_queue_sid,
        workflow_sid = fields.workflow_sid,
        worker_sid = fields.worker_sid,
        task_age = fields.task_age_s,
        task_priority = fields.task_priority,
        task_assignment_status = fields.task_assignment_status,
        task_canceled_reason = fields.task_canceled_reason,
        task_completed_reason = fields.task_completed_reason,
        worker_activity_sid = fields.worker_activity_sid,
        worker_activity_name = fields.worker_activity_name,
        worker_previous_activity_sid = fields.worker_previous_activity_sid,
        worker_previous_activity_name = fields.worker_previous_activity_name,
        worker_time_in_previous_activity = fields.worker_time_in_previous_activity_s,
        "workspace event"
    );
    if let Some(outcome) = event.reservation_outcome() {
        app.sink.emit(app.metrics.reservation_outcome(
            now_ms(),
            outcome.as_str(),
            event.account_sid.as_str(),
        ));
    }
    // docs/taskrouter.md §6: TaskRouter expects `204` with a JSON content type.
    let mut response = json_response(StatusCode::NO_CONTENT, String::new());
    *response.body_mut() = Body::Empty;
    Ok(response)
}
