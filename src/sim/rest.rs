//! The simulator's HTTP transport: TaskRouter's REST API v1 at the paths of Twilio's OpenAPI
//! description (`/v1/Workspaces/…`, docs/taskrouter.md §7), and the clock (`/sim/clock`).
//!
//! Thin by design: Basic auth, the path and its SIDs, the form or query parameters parsed into
//! typed values, one engine command, the resource serialised ([`super::model`]); errors as
//! Twilio's error JSON, `{"code", "message", "more_info", "status"}`:
//!
//! | what | status, code |
//! |---|---|
//! | no credentials, or not `TWILIO_ACCOUNT_SID` with `TWILIO_AUTH_TOKEN` | `401`, `20003` |
//! | a path that names nothing: an unknown path, a SID that is malformed or not there | `404`, `20404` |
//! | a method the path does not take | `405`, `20004` |
//! | a parameter missing, malformed, out of range, outside its values; an update of a reservation that left `pending` | `400`, `20001` |
//! | `If-Match` naming another version of the task | `412`, `20001` |
//! | a body that is not form-encoded | `415`, `20001` |
//! | a body over 4 MiB | `413`, `20001` |
//!
//! The Accounts API's auth-token operations are served at their own paths under the same base URL
//! (`/v1/AuthTokens/Secondary`, `/v1/AuthTokens/Promote`): point
//! `TWILIO_ACCOUNTS_API_URL` at the simulator. The secondary token, while there is one, logs in
//! as the primary does; callbacks are signed with the primary only.
//!
//! The simulator's own endpoints take the same credentials:
//!
//! - `GET /sim/clock`: `{"now": "<RFC 3339>", "mode": "manual"|"real"}`;
//! - `POST /sim/clock/advance?seconds=N`: moves a manual clock on N seconds (0: settles what is
//!   due now) and answers `{"now": …}` once every timer due has fired and every callback it
//!   caused has been delivered and its answer applied ([`Simulator::advance`]);
//! - `GET /sim/export[?WorkspaceSid=WS…]`: the workspace document of the running workspace
//!   ([`WorkspaceDocument`]).
//!
//! Answers' `url`, `links` and paging URLs use the scheme and `Host` the client called, so a
//! client following them stays on the simulator.

use secrecy::ExposeSecret;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::expression::{Expression, Scope};
use crate::form::FormParams;
use crate::instruction::{HttpUrl, Instruction};
use crate::rest::resources::ReservationStatus;
use crate::sid::{
    ActivitySid, EventSid, ReservationSid, SidError, TaskQueueSid, TaskSid, WorkerSid, WorkflowSid,
    WorkspaceSid,
};

use super::document::WorkspaceDocument;
use super::engine::{
    Engine, NewQueue, NewTask, NewWorker, NewWorkflow, NewWorkspace, QueueChanges,
    ReservationUpdate, SimError, TaskChanges, Through, WorkerChanges, WorkflowChanges,
    WorkspaceChanges,
};
use super::model::{self, ReachedBy, Urls, date};
use super::server::Simulator;
use super::state::{Order, Space, TaskStatus};

/// The largest request body read: a Workflow configuration (1 MB) form-encoded, with room.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// The page size of a list when none is asked for (the description's examples use 50).
const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page size (`PageSize`'s maximum in the description).
const MAX_PAGE_SIZE: usize = 1000;

/// An error answer: Twilio's error JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// Twilio's error code.
    pub code: u32,
    /// What was wrong.
    pub message: String,
}

impl Problem {
    fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn invalid(parameter: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(400, 20001, format!("{parameter}: {reason}"))
    }

    fn not_found(path: &str) -> Self {
        Self::new(
            404,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status,
        })
    }
}

impl From<SimError> for Problem {
    fn from(error: SimError) -> Self {
        Self::new(error.status(), error.code(), error.to_string())
    }
}

/// A successful answer: its status, JSON body and, for a task, its `ETag`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// `200` or `201`.
    pub status: u16,
    /// The resource or the list.
    pub body: Value,
    /// A task's version.
    pub etag: Option<String>,
}

impl Reply {
    fn ok(body: impl Serialize) -> Self {
        Self {
            status: 200,
            body: serde_json::to_value(body).unwrap_or(Value::Null),
            etag: None,
        }
    }

    fn created(body: impl Serialize) -> Self {
        Self {
            status: 201,
            ..Self::ok(body)
        }
    }

    /// `204` with no body (a deletion).
    fn no_content() -> Self {
        Self {
            status: 204,
            body: Value::Null,
            etag: None,
        }
    }
}

/// A request, parsed: what the dispatch reads.
#[derive(Debug, Clone)]
pub struct Call {
    /// `GET` or `POST` (anything else is refused).
    pub method: Method,
    /// The path as sent (for messages).
    pub path: String,
    /// The query parameters.
    pub query: Vec<(String, String)>,
    /// The form parameters of a `POST`.
    pub form: Vec<(String, String)>,
    /// The `If-Match` header.
    pub if_match: Option<String>,
    /// Where answers point.
    pub urls: Urls,
}

/// Serves HTTP/1.1 on `listener` until the process ends, one task per connection.
pub async fn serve(listener: tokio::net::TcpListener, sim: Arc<Simulator>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let sim = Arc::clone(&sim);
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| respond(Arc::clone(&sim), request));
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("a connection ended with an error: {error}");
            }
        });
    }
}

/// Serves one HTTP request.
pub async fn respond(
    sim: Arc<Simulator>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let answer = match parse(&sim, request).await {
        Ok(call) => dispatch(&sim, &call).await,
        Err(problem) => Err(problem),
    };
    Ok(match answer {
        Ok(reply) if reply.status == 204 => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = hyper::StatusCode::NO_CONTENT;
            response
        }
        Ok(reply) => {
            let mut response = json_response(reply.status, &reply.body);
            if let Some(etag) = reply
                .etag
                .and_then(|etag| HeaderValue::from_str(&etag).ok())
            {
                response.headers_mut().insert("etag", etag);
            }
            response
        }
        Err(problem) => {
            let mut response = json_response(problem.status, &problem.body());
            if problem.status == 401 {
                response.headers_mut().insert(
                    "www-authenticate",
                    HeaderValue::from_static("Basic realm=\"Twilio API\""),
                );
            }
            response
        }
    })
}

fn json_response(status: u16, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Checks the credentials and reads the parameters.
async fn parse(sim: &Simulator, request: Request<Incoming>) -> Result<Call, Problem> {
    let (parts, body) = request.into_parts();
    let authorized = parts
        .headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            let account = sim.account();
            sim.any_token(|token| logs_in(value, account.as_ref(), token))
        });
    if !authorized {
        return Err(Problem::new(401, 20003, "Authenticate"));
    }
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("127.0.0.1");
    let urls = Urls::new(format!("http://{host}"));
    let query = match parts.uri.query() {
        Some(query) if !query.is_empty() => pairs(query.as_bytes(), "the query string")?,
        _ => Vec::new(),
    };
    let body = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|_| {
            Problem::new(
                413,
                20001,
                format!("the body is larger than {MAX_BODY} bytes"),
            )
        })?
        .to_bytes();
    let form = if body.is_empty() {
        Vec::new()
    } else {
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(Problem::new(
                415,
                20001,
                format!(
                    "Content-Type `{content_type}`: TaskRouter takes its parameters form-encoded (application/x-www-form-urlencoded)"
                ),
            ));
        }
        pairs(&body, "the body")?
    };
    Ok(Call {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query,
        form,
        if_match: parts
            .headers
            .get(hyper::header::IF_MATCH)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        urls,
    })
}

fn pairs(bytes: &[u8], what: &str) -> Result<Vec<(String, String)>, Problem> {
    FormParams::parse(bytes)
        .map(|params| params.pairs().to_vec())
        .map_err(|error| Problem::new(400, 20001, format!("{what} cannot be read: {error}")))
}

/// Whether an `Authorization` header is HTTP Basic with `account` and `token`, compared in
/// constant time.
fn logs_in(header: &str, account: &str, token: &str) -> bool {
    use base64::Engine as _;
    let Some(encoded) = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{account}:{token}");
    decoded.ct_eq(expected.as_bytes()).into()
}

/// Routes a call to its operation.
pub async fn dispatch(sim: &Simulator, call: &Call) -> Result<Reply, Problem> {
    let segments: Vec<&str> = call.path.trim_end_matches('/').split('/').skip(1).collect();
    match (call.method.clone(), segments.as_slice()) {
        (Method::GET, ["sim", "clock"]) => Ok(Reply::ok(json!({
            "now": date(sim.now()),
            "mode": sim.mode().as_str(),
        }))),
        (Method::POST, ["sim", "clock", "advance"]) => {
            let seconds = param(&call.query, "seconds")
                .or_else(|| param(&call.form, "seconds"))
                .ok_or_else(|| {
                    Problem::invalid(
                        "seconds",
                        "required: how many seconds to move the clock on, e.g. ?seconds=120",
                    )
                })?;
            let seconds: u64 = seconds.parse().map_err(|_| {
                Problem::invalid(
                    "seconds",
                    format!("`{seconds}` is not a whole number of seconds from 0"),
                )
            })?;
            if sim.mode() == super::server::ClockMode::Real && seconds > 0 {
                return Err(Problem::invalid(
                    "seconds",
                    "the clock is real and moves by itself: start the simulator with --clock manual to move it, or send seconds=0 to settle what is due",
                ));
            }
            let now = sim.advance(seconds).await;
            Ok(Reply::ok(json!({ "now": date(now) })))
        }
        (Method::GET, ["sim", "export"]) => {
            let wanted = sid_param(&call.query, "WorkspaceSid", WorkspaceSid::parse)?;
            sim.with_engine(|engine| export(engine, wanted.as_ref()))
        }
        (method, ["v1", "AuthTokens", which @ ("Secondary" | "Promote")]) => {
            auth_tokens(sim, call, &method, which)
        }
        (method, ["v1", "Workspaces", rest @ ..])
            if method == Method::GET || method == Method::POST =>
        {
            sim.with_engine(|engine| workspaces(engine, call, rest))
        }
        (method, ["v1", "Workspaces", ..] | ["sim", "clock" | "export", ..])
            if method != Method::GET && method != Method::POST =>
        {
            Err(Problem::new(
                405,
                20004,
                format!("Method not allowed: {} {}", call.method, call.path),
            ))
        }
        _ => Err(Problem::not_found(&call.path)),
    }
}

/// The Accounts API's three operations on the account's auth tokens (`twilio_accounts_v1.json`):
/// `CreateSecondaryAuthToken` (`201`), `UpdateAuthTokenPromotion` (`200`; from then on callbacks
/// are signed with the promoted token and the old one logs nothing in), `DeleteSecondaryAuthToken`
/// (`204`). Promoting or deleting when there is no secondary is `404`, `20404`: the description
/// lists no error answer, and there is nothing to act on.
fn auth_tokens(
    sim: &Simulator,
    call: &Call,
    method: &Method,
    which: &str,
) -> Result<Reply, Problem> {
    let suppress = if *method == Method::DELETE {
        &call.query
    } else {
        &call.form
    };
    flag(suppress, "SuppressEmailNotification")?;
    let account = sim.account();
    let now = date(sim.now());
    let none = || Problem::new(404, 20404, "The account has no secondary auth token");
    match (method.clone(), which) {
        (Method::POST, "Secondary") => {
            let token = sim.create_secondary_token();
            Ok(Reply::created(json!({
                "account_sid": account,
                "date_created": now,
                "date_updated": now,
                "secondary_auth_token": token.expose_secret(),
                "url": call.urls.of("/v1/AuthTokens/Secondary"),
            })))
        }
        (Method::DELETE, "Secondary") => {
            if sim.delete_secondary_token() {
                Ok(Reply::no_content())
            } else {
                Err(none())
            }
        }
        (Method::POST, "Promote") => {
            let token = sim.promote_secondary_token().ok_or_else(none)?;
            Ok(Reply::ok(json!({
                "account_sid": account,
                "auth_token": token.expose_secret(),
                "date_created": now,
                "date_updated": now,
                "url": call.urls.of("/v1/AuthTokens/Promote"),
            })))
        }
        _ => Err(Problem::new(
            405,
            20004,
            format!("Method not allowed: {} {}", call.method, call.path),
        )),
    }
}

fn export(engine: &Engine, wanted: Option<&WorkspaceSid>) -> Result<Reply, Problem> {
    let ws = match (wanted, engine.spaces()) {
        (Some(ws), _) => ws.clone(),
        (None, [only]) => only.sid.clone(),
        (None, spaces) => {
            let sids: Vec<String> = spaces.iter().map(|space| space.sid.to_string()).collect();
            return Err(Problem::invalid(
                "WorkspaceSid",
                format!(
                    "required: the simulator holds {} workspaces ({})",
                    sids.len(),
                    sids.join(", ")
                ),
            ));
        }
    };
    let document = WorkspaceDocument::of(engine, &ws)?;
    Ok(Reply::ok(document.to_json()))
}

// ---- Parameters -----------------------------------------------------------------------------

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn sid_param<T>(
    pairs: &[(String, String)],
    name: &str,
    parse: fn(&str) -> Result<T, SidError>,
) -> Result<Option<T>, Problem> {
    param(pairs, name)
        .map(|text| parse(text).map_err(|error| Problem::invalid(name, error)))
        .transpose()
}

fn flag(pairs: &[(String, String)], name: &str) -> Result<Option<bool>, Problem> {
    param(pairs, name)
        .map(|text| match text.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(Problem::invalid(
                name,
                format!("`{text}` is not true or false"),
            )),
        })
        .transpose()
}

fn integer<T: TryFrom<i64>>(pairs: &[(String, String)], name: &str) -> Result<Option<T>, Problem> {
    param(pairs, name)
        .map(|text| {
            text.parse::<i64>()
                .ok()
                .and_then(|number| T::try_from(number).ok())
                .ok_or_else(|| {
                    Problem::invalid(name, format!("`{text}` is not a whole number in range"))
                })
        })
        .transpose()
}

/// A URL parameter: `Some(None)` for an empty value (it clears the URL).
fn url_param(pairs: &[(String, String)], name: &str) -> Result<Option<Option<HttpUrl>>, Problem> {
    param(pairs, name)
        .map(|text| {
            if text.is_empty() {
                return Ok(None);
            }
            HttpUrl::new(text).map(Some).ok_or_else(|| {
                Problem::invalid(
                    name,
                    format!("`{text}` is not an absolute http:// or https:// URL"),
                )
            })
        })
        .transpose()
}

fn order_param(pairs: &[(String, String)], name: &str) -> Result<Option<Order>, Problem> {
    param(pairs, name)
        .map(|text| {
            Order::parse(text)
                .ok_or_else(|| Problem::invalid(name, format!("`{text}` is not FIFO or LIFO")))
        })
        .transpose()
}

fn date_param(pairs: &[(String, String)], name: &str) -> Result<Option<Timestamp>, Problem> {
    param(pairs, name)
        .map(|text| {
            text.parse::<Timestamp>().map_err(|_| {
                Problem::invalid(
                    name,
                    format!("`{text}` is not an RFC 3339 date-time such as 2026-12-01T14:30:00Z"),
                )
            })
        })
        .transpose()
}

fn reservation_status(text: &str, name: &str) -> Result<ReservationStatus, Problem> {
    match serde_json::from_value::<ReservationStatus>(Value::from(text)) {
        Ok(ReservationStatus::Other(_)) | Err(_) => Err(Problem::invalid(
            name,
            format!(
                "`{text}` is not one of pending, accepted, rejected, timeout, canceled, rescinded, wrapping, completed"
            ),
        )),
        Ok(status) => Ok(status),
    }
}

/// A SID in the path: malformed or absent, the path names nothing.
fn path_sid<T>(
    text: &str,
    parse: fn(&str) -> Result<T, SidError>,
    call: &Call,
) -> Result<T, Problem> {
    parse(text).map_err(|_| Problem::not_found(call.path.trim_start_matches("/v1")))
}

/// Page `Page` of `items`, `PageSize` to a page, the other query parameters kept in the paging
/// URLs.
fn list<T: Serialize>(call: &Call, key: &'static str, items: &[T]) -> Result<Reply, Problem> {
    let size = integer::<usize>(&call.query, "PageSize")?.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(Problem::invalid(
            "PageSize",
            format!("{size} is out of range: send 1 to {MAX_PAGE_SIZE}"),
        ));
    }
    let page = integer::<usize>(&call.query, "Page")?.unwrap_or(0);
    let filters: Vec<(String, String)> = call
        .query
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "PageSize" | "Page" | "PageToken"))
        .cloned()
        .collect();
    Ok(Reply::ok(model::page(
        key, items, page, size, &call.urls, &call.path, &filters,
    )))
}

// ---- Operations -----------------------------------------------------------------------------

fn workspaces(engine: &mut Engine, call: &Call, rest: &[&str]) -> Result<Reply, Problem> {
    let account = engine.account().clone();
    let urls = &call.urls;
    let get = call.method == Method::GET;
    let Some((first, rest)) = rest.split_first() else {
        if get {
            let name = param(&call.query, "FriendlyName");
            let items: Vec<model::Workspace> = engine
                .spaces()
                .iter()
                .filter(|space| name.is_none_or(|name| space.friendly_name == name))
                .map(|space| model::Workspace::of(&account, space, urls))
                .collect();
            return list(call, "workspaces", &items);
        }
        let form = &call.form;
        let ws = engine.create_workspace(NewWorkspace {
            friendly_name: param(form, "FriendlyName")
                .ok_or_else(|| Problem::invalid("FriendlyName", "required"))?
                .to_owned(),
            event_callback_url: url_param(form, "EventCallbackUrl")?.flatten(),
            events_filter: param(form, "EventsFilter").map(str::to_owned),
            multi_task_enabled: flag(form, "MultiTaskEnabled")?,
            prioritize_queue_order: order_param(form, "PrioritizeQueueOrder")?,
        })?;
        return Ok(Reply::created(model::Workspace::of(
            &account,
            engine.space(&ws)?,
            urls,
        )));
    };
    let ws = path_sid(first, WorkspaceSid::parse, call)?;
    engine.space(&ws)?;
    match rest {
        [] => {
            if !get {
                let form = &call.form;
                engine.update_workspace(
                    &ws,
                    WorkspaceChanges {
                        friendly_name: param(form, "FriendlyName").map(str::to_owned),
                        event_callback_url: url_param(form, "EventCallbackUrl")?,
                        events_filter: param(form, "EventsFilter")
                            .map(|text| (!text.is_empty()).then(|| text.to_owned())),
                        default_activity: sid_param(
                            form,
                            "DefaultActivitySid",
                            ActivitySid::parse,
                        )?,
                        timeout_activity: sid_param(
                            form,
                            "TimeoutActivitySid",
                            ActivitySid::parse,
                        )?,
                        multi_task_enabled: flag(form, "MultiTaskEnabled")?,
                        prioritize_queue_order: order_param(form, "PrioritizeQueueOrder")?,
                    },
                )?;
            }
            Ok(Reply::ok(model::Workspace::of(
                &account,
                engine.space(&ws)?,
                urls,
            )))
        }
        ["Activities", tail @ ..] => activities(engine, call, &ws, tail),
        ["Workers", tail @ ..] => workers(engine, call, &ws, tail),
        ["TaskQueues", tail @ ..] => queues(engine, call, &ws, tail),
        ["Workflows", tail @ ..] => workflows(engine, call, &ws, tail),
        ["Tasks", tail @ ..] => tasks(engine, call, &ws, tail),
        ["Events", tail @ ..] => events(engine, call, &ws, tail),
        ["TaskChannels", tail @ ..] => channels(engine, call, &ws, tail),
        _ => Err(Problem::not_found(&call.path)),
    }
}

fn activities(
    engine: &mut Engine,
    call: &Call,
    ws: &WorkspaceSid,
    rest: &[&str],
) -> Result<Reply, Problem> {
    let account = engine.account().clone();
    let get = call.method == Method::GET;
    match rest {
        [] if get => {
            let name = param(&call.query, "FriendlyName");
            let available = flag(&call.query, "Available")?;
            let space = engine.space(ws)?;
            let items: Vec<model::Activity> = space
                .activities
                .all()
                .iter()
                .filter(|activity| name.is_none_or(|name| activity.friendly_name == name))
                .filter(|activity| {
                    available.is_none_or(|available| activity.available == available)
                })
                .map(|activity| model::Activity::of(&account, space, activity, &call.urls))
                .collect();
            list(call, "activities", &items)
        }
        [] => {
            let name = param(&call.form, "FriendlyName")
                .ok_or_else(|| Problem::invalid("FriendlyName", "required"))?;
            let available = flag(&call.form, "Available")?.unwrap_or(true);
            let sid = engine.create_activity(ws, None, name, available)?;
            let space = engine.space(ws)?;
            let activity = space
                .activity(&sid)
                .ok_or_else(|| Problem::not_found(&call.path))?;
            Ok(Reply::created(model::Activity::of(
                &account, space, activity, &call.urls,
            )))
        }
        [sid] => {
            let sid = path_sid(sid, ActivitySid::parse, call)?;
            if !get {
                engine.update_activity(ws, &sid, param(&call.form, "FriendlyName"))?;
            }
            let space = engine.space(ws)?;
            let activity = space
                .activity(&sid)
                .ok_or_else(|| Problem::not_found(&call.path))?;
            Ok(Reply::ok(model::Activity::of(
                &account, space, activity, &call.urls,
            )))
        }
        _ => Err(Problem::not_found(&call.path)),
    }
}

fn workers(
    engine: &mut Engine,
    call: &Call,
    ws: &WorkspaceSid,
    rest: &[&str],
) -> Result<Reply, Problem> {
    let account = engine.account().clone();
    let get = call.method == Method::GET;
    let urls = &call.urls;
    match rest {
        [] if get => {
            let query = &call.query;
            let activity_name = param(query, "ActivityName");
            let activity_sid = sid_param(query, "ActivitySid", ActivitySid::parse)?;
            let available = flag(query, "Available")?;
            let name = param(query, "FriendlyName");
            let expression = param(query, "TargetWorkersExpression")
                .map(|text| {
                    Expression::parse(text)
                        .map_err(|error| Problem::invalid("TargetWorkersExpression", error))
                })
                .transpose()?;
            let space = engine.space(ws)?;
            let queue = match (
                sid_param(query, "TaskQueueSid", TaskQueueSid::parse)?,
                param(query, "TaskQueueName"),
            ) {
                (Some(sid), _) => Some(space.queues.find(&sid).ok_or_else(|| {
                    Problem::invalid(
                        "TaskQueueSid",
                        format!("task queue {sid} is not in workspace {ws}"),
                    )
                })?),
                (None, Some(name)) => Some(
                    (0..space.queues.len())
                        .find(|&q| space.routing_queue(q).friendly_name() == Some(name))
                        .ok_or_else(|| {
                            Problem::invalid(
                                "TaskQueueName",
                                format!("no task queue is called `{name}`"),
                            )
                        })?,
                ),
                (None, None) => None,
            };
            let now = crate::time_of_day::TimeOfDay::utc(engine.now());
            let items: Vec<model::Worker> = (0..space.workers.len())
                .filter(|&w| {
                    let worker = space.workers.at(w);
                    let routing = space.routing_worker(w);
                    let activity = space.activity(&worker.activity);
                    activity_name
                        .is_none_or(|name| activity.is_some_and(|a| a.friendly_name == name))
                        && activity_sid
                            .as_ref()
                            .is_none_or(|sid| &worker.activity == sid)
                        && available.is_none_or(|available| {
                            activity.is_some_and(|a| a.available) == available
                        })
                        && name.is_none_or(|name| routing.friendly_name() == Some(name))
                        && expression.as_ref().is_none_or(|expression| {
                            expression.evaluate(&Attributes {
                                value: routing.attributes(),
                                now,
                            })
                        })
                        && queue.is_none_or(|q| {
                            space
                                .routing_queue(q)
                                .target_workers()
                                .evaluate(&Attributes {
                                    value: routing.attributes(),
                                    now,
                                })
                        })
                })
                .map(|w| model::Worker::of(&account, space, w, urls))
                .collect();
            list(call, "workers", &items)
        }
        [] => {
            let form = &call.form;
            let sid = engine.create_worker(
                ws,
                NewWorker {
                    sid: None,
                    friendly_name: param(form, "FriendlyName")
                        .ok_or_else(|| Problem::invalid("FriendlyName", "required"))?
                        .to_owned(),
                    activity: sid_param(form, "ActivitySid", ActivitySid::parse)?,
                    attributes: param(form, "Attributes").map(str::to_owned),
                    capacities: Vec::new(),
                },
            )?;
            let space = engine.space(ws)?;
            let at = space
                .workers
                .find(&sid)
                .ok_or_else(|| Problem::not_found(&call.path))?;
            Ok(Reply::created(model::Worker::of(&account, space, at, urls)))
        }
        [sid, tail @ ..] => {
            let sid = path_sid(sid, WorkerSid::parse, call)?;
            let at = engine
                .space(ws)?
                .workers
                .find(&sid)
                .ok_or_else(|| Problem::not_found(call.path.trim_start_matches("/v1")))?;
            match tail {
                [] => {
                    if !get {
                        let form = &call.form;
                        engine.update_worker(
                            ws,
                            &sid,
                            WorkerChanges {
                                activity: sid_param(form, "ActivitySid", ActivitySid::parse)?,
                                attributes: param(form, "Attributes").map(str::to_owned),
                                friendly_name: param(form, "FriendlyName").map(str::to_owned),
                                reject_pending_reservations: flag(
                                    form,
                                    "RejectPendingReservations",
                                )?
                                .unwrap_or(false),
                            },
                        )?;
                    }
                    Ok(Reply::ok(model::Worker::of(
                        &account,
                        engine.space(ws)?,
                        at,
                        urls,
                    )))
                }
                ["Channels"] if get => {
                    let space = engine.space(ws)?;
                    let items: Vec<model::WorkerChannel> = space
                        .workers
                        .at(at)
                        .channels
                        .iter()
                        .map(|channel| model::WorkerChannel::of(&account, space, at, channel, urls))
                        .collect();
                    list(call, "channels", &items)
                }
                ["Channels", channel] => {
                    let name = {
                        let space = engine.space(ws)?;
                        space
                            .workers
                            .at(at)
                            .channels
                            .iter()
                            .find(|found| {
                                found.sid.as_str() == *channel || found.unique_name == *channel
                            })
                            .map(|found| found.unique_name.clone())
                            .ok_or_else(|| {
                                Problem::not_found(call.path.trim_start_matches("/v1"))
                            })?
                    };
                    if !get {
                        engine.update_worker_channel(
                            ws,
                            &sid,
                            &name,
                            integer::<u32>(&call.form, "Capacity")?,
                            flag(&call.form, "Available")?,
                        )?;
                    }
                    let space = engine.space(ws)?;
                    let found = space
                        .workers
                        .at(at)
                        .channel(&name)
                        .ok_or_else(|| Problem::not_found(&call.path))?;
                    Ok(Reply::ok(model::WorkerChannel::of(
                        &account, space, at, found, urls,
                    )))
                }
                ["Reservations"] if get => {
                    let status = param(&call.query, "ReservationStatus")
                        .map(|text| reservation_status(text, "ReservationStatus"))
                        .transpose()?;
                    let space = engine.space(ws)?;
                    let items: Vec<model::Reservation> = space
                        .reservations
                        .all()
                        .iter()
                        .filter(|reservation| reservation.worker == at)
                        .filter(|reservation| {
                            status
                                .as_ref()
                                .is_none_or(|status| &reservation.status == status)
                        })
                        .map(|reservation| {
                            model::Reservation::of(
                                &account,
                                space,
                                reservation,
                                ReachedBy::Worker,
                                urls,
                            )
                        })
                        .collect();
                    list(call, "reservations", &items)
                }
                ["Reservations", reservation] => {
                    let reservation = path_sid(reservation, ReservationSid::parse, call)?;
                    reservation_operation(engine, call, ws, Through::Worker(&sid), &reservation)
                }
                _ => Err(Problem::not_found(&call.path)),
            }
        }
    }
}

/// `taskrouter.*` and the attributes as bare keys: a `TargetWorkersExpression`,
/// `EvaluateWorkerAttributes`, `EvaluateTaskAttributes` or a queue's `target_workers`.
struct Attributes<'a> {
    value: &'a Value,
    now: crate::time_of_day::TimeOfDay,
}

impl Scope for Attributes<'_> {
    fn now(&self) -> Option<&crate::time_of_day::TimeOfDay> {
        Some(&self.now)
    }

    fn value(&self, reference: &crate::expression::Reference) -> crate::expression::Operand<'_> {
        crate::expression::lookup(self.value, reference.segments())
    }
}

fn reservation_operation(
    engine: &mut Engine,
    call: &Call,
    ws: &WorkspaceSid,
    through: Through<'_>,
    reservation: &ReservationSid,
) -> Result<Reply, Problem> {
    let account = engine.account().clone();
    if call.method == Method::POST {
        let update = reservation_update(&call.form)?;
        engine.update_reservation(ws, through, reservation, update)?;
    }
    let space = engine.space(ws)?;
    let at = engine.reservation_at(ws, through, reservation)?;
    let by = match through {
        Through::Task(_) => ReachedBy::Task,
        Through::Worker(_) => ReachedBy::Worker,
    };
    Ok(Reply::ok(model::Reservation::of(
        &account,
        space,
        space.reservations.at(at),
        by,
        &call.urls,
    )))
}

/// The form of `UpdateTaskReservation` / `UpdateWorkerReservation` as an update: an
/// `Instruction` (read by [`Instruction::from_form`]) or a `ReservationStatus`.
fn reservation_update(form: &[(String, String)]) -> Result<ReservationUpdate, Problem> {
    let status = param(form, "ReservationStatus")
        .map(|text| reservation_status(text, "ReservationStatus"))
        .transpose()?;
    let instruction = || {
        Instruction::from_form(form)
            .map(ReservationUpdate::Instruction)
            .map_err(|error| Problem::invalid("Instruction", error))
    };
    if let Some(name) = param(form, "Instruction") {
        if name == "supervise" {
            return Err(Problem::invalid(
                "Instruction",
                "`supervise` joins a supervisor to a live conference, which the simulator does not model",
            ));
        }
        return instruction();
    }
    match status {
        Some(ReservationStatus::Accepted) => instruction(),
        Some(ReservationStatus::Rejected) if param(form, "WorkerActivitySid").is_some() => {
            instruction()
        }
        Some(ReservationStatus::Rejected) => Ok(ReservationUpdate::RejectInPlace),
        Some(ReservationStatus::Wrapping) => Ok(ReservationUpdate::Wrapping),
        Some(ReservationStatus::Completed) => Ok(ReservationUpdate::Completed),
        Some(other) => Err(Problem::invalid(
            "ReservationStatus",
            format!(
                "`{other}` is set by TaskRouter itself: send accepted, rejected, wrapping or completed, or an Instruction"
            ),
        )),
        None => Err(Problem::invalid(
            "ReservationStatus",
            "send ReservationStatus (accepted, rejected, wrapping, completed) or an Instruction",
        )),
    }
}

fn queues(
    engine: &mut Engine,
    call: &Call,
    ws: &WorkspaceSid,
    rest: &[&str],
) -> Result<Reply, Problem> {
    let account = engine.account().clone();
    let get = call.method == Method::GET;
    let urls = &call.urls;
    match rest {
        [] if get => {
            let query = &call.query;
            let name = param(query, "FriendlyName");
            let attributes = param(query, "EvaluateWorkerAttributes")
                .map(|text| {
                    super::engine::attributes("EvaluateWorkerAttributes", text)
                        .map_err(Problem::from)
                })
                .transpose()?;
            let worker = sid_param(query, "WorkerSid", WorkerSid::parse)?;
            let space = engine.space(ws)?;
            let worker_attributes = match &worker {
                Some(sid) => Some(
                    space
                        .workers
                        .find(sid)
                        .map(|w| space.routing_worker(w).attributes().clone())
                        .ok_or_else(|| {
                            Problem::invalid(
                                "WorkerSid",
                                format!("worker {sid} is not in workspace {ws}"),
                            )
                        })?,
                ),
                None => None,
            };
            let now = crate::time_of_day::TimeOfDay::utc(engine.now());
            let items: Vec<model::TaskQueue> = (0..space.queues.len())
                .filter(|&q| {
                    let routing = space.routing_queue(q);
                    name.is_none_or(|name| routing.friendly_name() == Some(name))
                        && [&attributes, &worker_attributes]
                            .into_iter()
                            .flatten()
                            .all(|value| {
                                routing
                                    .target_workers()
                                    .evaluate(&Attributes { value, now })
                            })
                })
                .map(|q| model::TaskQueue::of(&account, space, q, urls))
                .collect();
            list(call, "task_queues", &items)
        }
        [] => {
            let form = &call.form;
            let sid = engine.create_queue(
                ws,
                NewQueue {
                    sid: None,
                    friendly_name: param(form, "FriendlyName")
                        .ok_or_else(|| Problem::invalid("FriendlyName", "required"))?
                        .to_owned(),
                    target_workers: param(form, "TargetWorkers").map(str::to_owned),
                    max_reserved_workers: integer(form, "MaxReservedWorkers")?,
                    task_order: order_param(form, "TaskOrder")?,
                },
            )?;
            let space = engine.space(ws)?;
            let at = space
                .queues
                .find(&sid)
                .ok_or_else(|| Problem::not_found(&call.path))?;
            Ok(Reply::created(model::TaskQueue::of(
                &account, space, at, urls,
            )))
        }
        [sid] => {
            let sid = path_sid(sid, TaskQueueSid::parse, call)?;
            let at = engine
                .space(ws)?
                .queues
                .find(&sid)
                .ok_or_else(|| Problem::not_found(call.path.trim_start_matches("/v1")))?;
            if !get {
                let form = &call.form;
                engine.update_queue(
                    ws,
                    &sid,
                    QueueChanges {
                        friendly_name: param(form, "FriendlyName").map(str::to_owned),
                        target_workers: param(form, "TargetWorkers").map(str::to_owned),
                        max_reserved_workers: integer(form, "MaxReservedWorkers")?,
                        task_order: order_param(form, "TaskOrder")?,
                    },
                )?;
            }
            Ok(Reply::ok(model::TaskQueue::of(
                &account,
                engine.space(ws)?,
                at,
                urls,
            )))
        }
        _ => Err(Problem::not_found(&call.path)),
    }
}

fn workflows(
    engine: &mut Engine,
    call: &Call,
    ws: &WorkspaceSid,
    rest: &[&str],
) -> Result<Reply, Problem> {
    let account = engine.account().clone();
    let get = call.method == Method::GET;
    let urls = &call.urls;
    match rest {
        [] if get => {
            let name = param(&call.query, "FriendlyName");
            let space = engine.space(ws)?;
            let items: Vec<model::Workflow> = space
                .workflows
                .all()
                .iter()
                .filter(|workflow| name.is_none_or(|name| workflow.friendly_name == name))
                .map(|workflow| model::Workflow::of(&account, space, workflow, urls))
                .collect();
            list(call, "workflows", &items)
        }
        [] => {
            let form = &call.form;
            let sid = engine.create_workflow(
                ws,
                NewWorkflow {
                    sid: None,
                    friendly_name: param(form, "FriendlyName")
                        .ok_or_else(|| Problem::invalid("FriendlyName", "required"))?
                        .to_owned(),
                    configuration: param(form, "Configuration")
                        .ok_or_else(|| {
                            Problem::invalid(
                                "Configuration",
                                "required: the routing document as JSON text",
                            )
                        })?
                        .to_owned(),
                    assignment_callback_url: url_param(form, "AssignmentCallbackUrl")?.flatten(),
                    fallback_assignment_callback_url: url_param(
                        form,
                        "FallbackAssignmentCallbackUrl",
                    )?
                    .flatten(),
                    task_reservation_timeout: integer(form, "TaskReservationTimeout")?,
                },
            )?;
            let space = engine.space(ws)?;
            let workflow = space
                .workflows
                .get(&sid)
                .ok_or_else(|| Problem::not_found(&call.path))?;
            Ok(Reply::created(model::Workflow::of(
                &account, space, workflow, urls,
            )))
        }
        [sid] => {
            let sid = path_sid(sid, WorkflowSid::parse, call)?;
            if engine.space(ws)?.workflows.find(&sid).is_none() {
                return Err(Problem::not_found(call.path.trim_start_matches("/v1")));
            }
            if !get {
                let form = &call.form;
                engine.update_workflow(
                    ws,
                    &sid,
                    WorkflowChanges {
                        friendly_name: param(form, "FriendlyName").map(str::to_owned),
                        configuration: param(form, "Configuration").map(str::to_owned),
                        assignment_callback_url: url_param(form, "AssignmentCallbackUrl")?,
                        fallback_assignment_callback_url: url_param(
                            form,
                            "FallbackAssignmentCallbackUrl",
                        )?,
                        task_reservation_timeout: integer(form, "TaskReservationTimeout")?,
                        re_evaluate_tasks: flag(form, "ReEvaluateTasks")?.unwrap_or(false),
                    },
                )?;
            }
            let space = engine.space(ws)?;
            let workflow = space
                .workflows
                .get(&sid)
                .ok_or_else(|| Problem::not_found(&call.path))?;
            Ok(Reply::ok(model::Workflow::of(
                &account, space, workflow, urls,
            )))
        }
        _ => Err(Problem::not_found(&call.path)),
    }
}

fn task_reply(
    engine: &Engine,
    ws: &WorkspaceSid,
    sid: &TaskSid,
    call: &Call,
    created: bool,
) -> Result<Reply, Problem> {
    let space = engine.space(ws)?;
    let task = space
        .tasks
        .get(sid)
        .ok_or_else(|| Problem::not_found(call.path.trim_start_matches("/v1")))?;
    let view = model::Task::of(engine.account(), space, task, engine.now(), &call.urls);
    let mut reply = if created {
        Reply::created(view)
    } else {
        Reply::ok(view)
    };
    reply.etag = Some(task.version.to_string());
    Ok(reply)
}

fn tasks(
    engine: &mut Engine,
    call: &Call,
    ws: &WorkspaceSid,
    rest: &[&str],
) -> Result<Reply, Problem> {
    let account = engine.account().clone();
    let get = call.method == Method::GET;
    match rest {
        [] if get => list_tasks(engine, call, ws),
        [] => {
            let form = &call.form;
            if param(form, "TaskQueueSid").is_some() {
                return Err(Problem::invalid(
                    "TaskQueueSid",
                    "tasks put straight into a queue are not modelled by the simulator: route them through a Workflow (WorkflowSid)",
                ));
            }
            let sid = engine.create_task(
                ws,
                NewTask {
                    attributes: param(form, "Attributes").map(str::to_owned),
                    workflow: sid_param(form, "WorkflowSid", WorkflowSid::parse)?,
                    priority: integer(form, "Priority")?,
                    timeout: integer(form, "Timeout")?,
                    channel: param(form, "TaskChannel").map(str::to_owned),
                    virtual_start_time: date_param(form, "VirtualStartTime")?,
                    routing_target: param(form, "RoutingTarget").map(str::to_owned),
                    ignore_capacity: flag(form, "IgnoreCapacity")?,
                },
            )?;
            task_reply(engine, ws, &sid, call, true)
        }
        [sid, tail @ ..] => {
            let sid = path_sid(sid, TaskSid::parse, call)?;
            let t = engine
                .space(ws)?
                .tasks
                .find(&sid)
                .ok_or_else(|| Problem::not_found(call.path.trim_start_matches("/v1")))?;
            match tail {
                [] => {
                    if !get {
                        let form = &call.form;
                        engine.update_task(
                            ws,
                            &sid,
                            TaskChanges {
                                attributes: param(form, "Attributes").map(str::to_owned),
                                assignment_status: param(form, "AssignmentStatus")
                                    .map(str::to_owned),
                                reason: param(form, "Reason").map(str::to_owned),
                                priority: integer(form, "Priority")?,
                                if_match: call.if_match.clone(),
                            },
                        )?;
                    }
                    task_reply(engine, ws, &sid, call, false)
                }
                ["Reservations"] if get => {
                    let status = param(&call.query, "ReservationStatus")
                        .map(|text| reservation_status(text, "ReservationStatus"))
                        .transpose()?;
                    let worker = sid_param(&call.query, "WorkerSid", WorkerSid::parse)?;
                    let space = engine.space(ws)?;
                    let items: Vec<model::Reservation> = space
                        .reservations
                        .all()
                        .iter()
                        .filter(|reservation| reservation.task == t)
                        .filter(|reservation| {
                            status
                                .as_ref()
                                .is_none_or(|status| &reservation.status == status)
                        })
                        .filter(|reservation| {
                            worker.as_ref().is_none_or(|worker| {
                                &space.workers.at(reservation.worker).sid == worker
                            })
                        })
                        .map(|reservation| {
                            model::Reservation::of(
                                &account,
                                space,
                                reservation,
                                ReachedBy::Task,
                                &call.urls,
                            )
                        })
                        .collect();
                    list(call, "reservations", &items)
                }
                ["Reservations", reservation] => {
                    let reservation = path_sid(reservation, ReservationSid::parse, call)?;
                    reservation_operation(engine, call, ws, Through::Task(&sid), &reservation)
                }
                _ => Err(Problem::not_found(&call.path)),
            }
        }
    }
}

/// `ListTask` with its filters: `AssignmentStatus` (one or more, repeated or comma-separated),
/// `Priority`, `WorkflowSid`, `WorkflowName`, `TaskQueueSid`, `TaskQueueName`,
/// `EvaluateTaskAttributes`, and `Ordering` (`DateCreated` or `Priority`, `:asc` or `:desc`,
/// comma-separated).
fn list_tasks(engine: &Engine, call: &Call, ws: &WorkspaceSid) -> Result<Reply, Problem> {
    let query = &call.query;
    let statuses: Vec<TaskStatus> = query
        .iter()
        .filter(|(name, _)| name == "AssignmentStatus")
        .flat_map(|(_, value)| value.split(','))
        .map(|text| {
            TaskStatus::parse(text).ok_or_else(|| {
                Problem::invalid("AssignmentStatus", format!("`{text}` is not one of pending, reserved, assigned, canceled, completed, wrapping"))
            })
        })
        .collect::<Result<_, _>>()?;
    let priority = integer::<i64>(query, "Priority")?;
    let workflow = sid_param(query, "WorkflowSid", WorkflowSid::parse)?;
    let workflow_name = param(query, "WorkflowName");
    let queue = sid_param(query, "TaskQueueSid", TaskQueueSid::parse)?;
    let queue_name = param(query, "TaskQueueName");
    let expression = param(query, "EvaluateTaskAttributes")
        .map(|text| {
            Expression::parse(text)
                .map_err(|error| Problem::invalid("EvaluateTaskAttributes", error))
        })
        .transpose()?;
    let ordering = ordering(param(query, "Ordering"))?;
    let space = engine.space(ws)?;
    let now = crate::time_of_day::TimeOfDay::utc(engine.now());
    let mut found: Vec<&super::state::TaskState> = space
        .tasks
        .all()
        .iter()
        .filter(|task| statuses.is_empty() || statuses.contains(&task.status))
        .filter(|task| priority.is_none_or(|priority| task.priority == priority))
        .filter(|task| {
            workflow
                .as_ref()
                .is_none_or(|workflow| &task.workflow == workflow)
        })
        .filter(|task| {
            workflow_name.is_none_or(|name| {
                space
                    .workflows
                    .get(&task.workflow)
                    .is_some_and(|workflow| workflow.friendly_name == name)
            })
        })
        .filter(|task| {
            queue
                .as_ref()
                .is_none_or(|queue| task.queue.as_ref() == Some(queue))
        })
        .filter(|task| {
            queue_name.is_none_or(|name| queue_named(space, task.queue.as_ref()) == Some(name))
        })
        .filter(|task| {
            expression.as_ref().is_none_or(|expression| {
                expression.evaluate(&Attributes {
                    value: &task.attributes,
                    now,
                })
            })
        })
        .collect();
    found.sort_by(|a, b| {
        ordering
            .iter()
            .map(|(field, descending)| {
                let order = match field {
                    OrderField::DateCreated => a.created.cmp(&b.created),
                    OrderField::Priority => a.priority.cmp(&b.priority),
                };
                if *descending { order.reverse() } else { order }
            })
            .find(|order| order.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let items: Vec<model::Task> = found
        .into_iter()
        .map(|task| model::Task::of(engine.account(), space, task, engine.now(), &call.urls))
        .collect();
    list(call, "tasks", &items)
}

fn queue_named<'s>(space: &'s Space, queue: Option<&TaskQueueSid>) -> Option<&'s str> {
    let at = space.queues.find(queue?)?;
    space.routing_queue(at).friendly_name()
}

#[derive(Debug, Clone, Copy)]
enum OrderField {
    DateCreated,
    Priority,
}

fn ordering(text: Option<&str>) -> Result<Vec<(OrderField, bool)>, Problem> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(|clause| {
            let (field, direction) = clause.split_once(':').unwrap_or((clause, "asc"));
            let field = match field {
                "DateCreated" => OrderField::DateCreated,
                "Priority" => OrderField::Priority,
                _ => {
                    return Err(Problem::invalid(
                        "Ordering",
                        format!("`{field}`: order by DateCreated or Priority"),
                    ));
                }
            };
            match direction {
                "asc" => Ok((field, false)),
                "desc" => Ok((field, true)),
                _ => Err(Problem::invalid(
                    "Ordering",
                    format!("`{direction}`: write asc or desc"),
                )),
            }
        })
        .collect()
}

/// `ListEvent` with its filters (`TaskSid`, `ReservationSid`, `WorkerSid`, `TaskQueueSid`,
/// `WorkflowSid`, `TaskChannel`, `EventType`, `Sid`, `StartDate`, `EndDate`, `Minutes`), oldest
/// first; and `FetchEvent`.
fn events(
    engine: &mut Engine,
    call: &Call,
    ws: &WorkspaceSid,
    rest: &[&str],
) -> Result<Reply, Problem> {
    if call.method != Method::GET {
        return Err(Problem::new(
            405,
            20004,
            format!("Method not allowed: {} {}", call.method, call.path),
        ));
    }
    let account = engine.account().clone();
    let space = engine.space(ws)?;
    match rest {
        [] => {
            let query = &call.query;
            let task = sid_param(query, "TaskSid", TaskSid::parse)?;
            let reservation = sid_param(query, "ReservationSid", ReservationSid::parse)?;
            let worker = sid_param(query, "WorkerSid", WorkerSid::parse)?;
            let queue = sid_param(query, "TaskQueueSid", TaskQueueSid::parse)?;
            let workflow = sid_param(query, "WorkflowSid", WorkflowSid::parse)?;
            let sid = sid_param(query, "Sid", EventSid::parse)?;
            let channel = param(query, "TaskChannel");
            let event_type = param(query, "EventType");
            let end = date_param(query, "EndDate")?;
            let minutes = integer::<i64>(query, "Minutes")?;
            let start = match (date_param(query, "StartDate")?, minutes) {
                (Some(start), _) => Some(start),
                (None, Some(minutes)) => {
                    let to = end.unwrap_or_else(|| engine.now());
                    Some(
                        to.checked_sub(SignedDuration::from_mins(minutes))
                            .unwrap_or(Timestamp::MIN),
                    )
                }
                (None, None) => None,
            };
            let items: Vec<model::Event> = space
                .events
                .all()
                .iter()
                .filter(|event| task.is_none() || event.task == task)
                .filter(|event| reservation.is_none() || event.reservation == reservation)
                .filter(|event| worker.is_none() || event.worker == worker)
                .filter(|event| queue.is_none() || event.queue == queue)
                .filter(|event| workflow.is_none() || event.workflow == workflow)
                .filter(|event| sid.as_ref().is_none_or(|sid| &event.sid == sid))
                .filter(|event| {
                    channel.is_none_or(|channel| event.channel.as_deref() == Some(channel))
                })
                .filter(|event| event_type.is_none_or(|wanted| event.event_type.as_str() == wanted))
                .filter(|event| start.is_none_or(|start| event.date >= start))
                .filter(|event| end.is_none_or(|end| event.date <= end))
                .map(|event| model::Event::of(&account, space, event, &call.urls))
                .collect();
            list(call, "events", &items)
        }
        [sid] => {
            let sid = path_sid(sid, EventSid::parse, call)?;
            let event = space
                .events
                .get(&sid)
                .ok_or_else(|| Problem::not_found(call.path.trim_start_matches("/v1")))?;
            Ok(Reply::ok(model::Event::of(
                &account, space, event, &call.urls,
            )))
        }
        _ => Err(Problem::not_found(&call.path)),
    }
}

/// `ListTaskChannel` and `FetchTaskChannel` (by SID or unique name).
fn channels(
    engine: &mut Engine,
    call: &Call,
    ws: &WorkspaceSid,
    rest: &[&str],
) -> Result<Reply, Problem> {
    if call.method != Method::GET {
        return Err(Problem::new(
            405,
            20004,
            format!(
                "Method not allowed: {} {}: the simulator's task channels are the six every workspace has",
                call.method, call.path
            ),
        ));
    }
    let account = engine.account().clone();
    let space = engine.space(ws)?;
    match rest {
        [] => {
            let items: Vec<model::TaskChannel> = space
                .channels
                .all()
                .iter()
                .map(|channel| model::TaskChannel::of(&account, space, channel, &call.urls))
                .collect();
            list(call, "channels", &items)
        }
        [sid] => {
            let channel = space
                .channels
                .all()
                .iter()
                .find(|channel| channel.sid.as_str() == *sid || channel.unique_name == *sid)
                .ok_or_else(|| Problem::not_found(call.path.trim_start_matches("/v1")))?;
            Ok(Reply::ok(model::TaskChannel::of(
                &account, space, channel, &call.urls,
            )))
        }
        _ => Err(Problem::not_found(&call.path)),
    }
}
