//! A stand-in for SSM Parameter Store on 127.0.0.1 that throttles as Parameter Store does.
//!
//! Parameter Store serves 40 `GetParameter` transactions per second per account and region by
//! default and answers `ThrottlingException` beyond that (docs/taskrouter.md §11;
//! <https://docs.aws.amazon.com/general/latest/gr/ssm.html>, "GetParameter … 40 per second").
//! `moto_server` never throttles, so reproducing a cold-start storm needs this stand-in. Like the
//! Runtime API emulator next to it, it is small and implements only what the function uses: the
//! `awsJson1_1` protocol's `GetParameter`, `GetParameters` and `GetParametersByPath`.
//!
//! - Request: `POST /` with `X-Amz-Target: AmazonSSM.GetParameter` and a JSON body
//!   `{"Name": …, "WithDecryption": …}`, or `AmazonSSM.GetParameters` and
//!   `{"Names": […], "WithDecryption": …}`. SigV4 is not checked; the access key id in the
//!   `Authorization` header is read only to tell the callers apart (the storm gives each instance
//!   its own).
//! - Answer: `200` with `{"Parameter": {"Name", "Type": "SecureString", "Value", …}}`, the value
//!   decrypted when `WithDecryption` is true (otherwise an opaque ciphertext, as SSM returns);
//!   for `GetParameters`, `{"Parameters": [those found], "InvalidParameters": [names not found]}`
//!   (<https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html>).
//! - `GetParametersByPath` with `{"Path": …, "Recursive": false, "MaxResults": …, "NextToken": …}`:
//!   the parameters one level below the path, at most 10 a page (more is a `ValidationException`,
//!   as SSM answers), `NextToken` for the next page
//!   (<https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html>).
//! - A name that does not exist: `400` `{"__type": "ParameterNotFound", …}` from `GetParameter`;
//!   listed in `InvalidParameters` by `GetParameters`, which is not an error.
//! - An operation [`SsmStandIn::deny`] was told to refuse: `400`
//!   `{"__type": "AccessDeniedException", …}`, as SSM answers a role without the permission.
//! - Over the rate: `400` `{"__type": "ThrottlingException", "message": "Rate exceeded"}`. The
//!   SDK reads the error code from `__type` (aws-smithy-json's `parse_error_envelope_metadata`,
//!   the awsJson error parser) and `ThrottlingException` is in the SDK's list of throttling codes
//!   (aws-runtime, `retries::classifiers::THROTTLING_ERRORS`), so the SDK retries it with its own
//!   throttling backoff, exactly as it would against SSM.
//!
//! The rate is a token bucket ([`TokenBucket`]): AWS publishes the sustained rate but not how
//! large a burst it absorbs, so the bucket holds one second's worth by default (a burst of 40);
//! the storm harness takes it as an option. Both operations share it, one token a request
//! however many names it asks for, as Parameter Store counts transactions (docs/taskrouter.md §11).
//! A throttled request takes no token, and every request is recorded with its time, its caller,
//! the names it asked for and its answer.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

/// The content type of every `awsJson1_1` answer.
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A token bucket: `rate` tokens per second, holding at most `capacity`, full at the start.
///
/// Time is passed in (the time since the bucket was made), so it can be tested without a clock.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket refilled at `rate` tokens per second up to `capacity`.
    pub(crate) fn new(rate: f64, capacity: f64) -> Self {
        Self {
            rate,
            capacity,
            tokens: capacity,
            last: Duration::ZERO,
        }
    }

    /// Takes a token at `now` if one is there; `false` means throttled.
    pub(crate) fn try_take(&mut self, now: Duration) -> bool {
        if now > self.last {
            let refill = (now - self.last).as_secs_f64() * self.rate;
            self.tokens = (self.tokens + refill).min(self.capacity);
            self.last = now;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// How the stand-in limits `GetParameter`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Limit {
    /// Every request is served (the control of an experiment).
    Unlimited,
    /// A token bucket of `rate` per second holding `burst`.
    Bucket {
        /// Sustained requests per second.
        rate: f64,
        /// Requests absorbed at once by a full bucket.
        burst: f64,
    },
}

impl Limit {
    /// Parameter Store's default: 40 per second, with a bucket of one second's worth.
    // The storm harness's default; the tests set their own limits.
    #[allow(dead_code)]
    pub(crate) const PARAMETER_STORE_DEFAULT: Limit = Limit::Bucket {
        rate: 40.0,
        burst: 40.0,
    };

    pub(crate) fn bucket(self) -> Option<TokenBucket> {
        match self {
            Limit::Unlimited => None,
            Limit::Bucket { rate, burst } => Some(TokenBucket::new(rate, burst)),
        }
    }
}

/// How one request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// `200` with the parameter.
    Served,
    /// `400 ThrottlingException`.
    Throttled,
    /// `400 ParameterNotFound`.
    NotFound,
    /// `400 AccessDeniedException`, for an operation the stand-in was told to deny.
    Denied,
    /// Anything else the stand-in does not implement (`400`).
    Refused,
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// When it arrived, since the stand-in started.
    pub(crate) at: Duration,
    /// The access key id of its `Authorization` header (`-` without one).
    pub(crate) caller: String,
    /// The operation, from `X-Amz-Target` without its `AmazonSSM.` prefix.
    pub(crate) operation: String,
    /// The parameter names it asked for.
    pub(crate) names: Vec<String>,
    /// How it was answered (`GetParameters` with a name missing: [`Answer::Served`], the rest
    /// is in its `InvalidParameters`).
    pub(crate) answer: Answer,
}

struct State {
    started: Instant,
    parameters: HashMap<String, String>,
    bucket: Mutex<Option<TokenBucket>>,
    recorded: Mutex<Vec<Recorded>>,
    denied: Mutex<Vec<String>>,
}

/// A running stand-in; stops when dropped.
pub(crate) struct SsmStandIn {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for SsmStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl SsmStandIn {
    /// Starts on a free loopback port serving `parameters` (name, decrypted value) as
    /// SecureStrings under `limit`.
    pub(crate) async fn start(parameters: &[(&str, &str)], limit: Limit) -> Self {
        let state = Arc::new(State {
            started: Instant::now(),
            parameters: parameters
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            bucket: Mutex::new(limit.bucket()),
            recorded: Mutex::new(Vec::new()),
            denied: Mutex::new(Vec::new()),
        });
        let (addr, server) = super::loopback::serve(Arc::clone(&state), serve).await;
        Self {
            addr,
            state,
            server,
        }
    }

    /// The URL to give the SDK (`AWS_ENDPOINT_URL_SSM`).
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the limit from now on, with a full bucket.
    pub(crate) fn set_limit(&self, limit: Limit) {
        *self.state.bucket.lock().expect("lock") = limit.bucket().map(|mut bucket| {
            // The bucket's clock starts at the stand-in's, so it starts full from now.
            bucket.last = self.state.started.elapsed();
            bucket
        });
    }

    /// Answers `operation` (e.g. `GetParametersByPath`) with `AccessDeniedException` from now on,
    /// as SSM answers a role the operation is not allowed to.
    // The tests' only.
    #[allow(dead_code)]
    pub(crate) fn deny(&self, operation: &str) {
        self.state
            .denied
            .lock()
            .expect("lock")
            .push(operation.to_owned());
    }

    /// When the stand-in started: the zero of [`Recorded::at`].
    // The storm harness's; the tests compare recorded times with each other.
    #[allow(dead_code)]
    pub(crate) fn started(&self) -> Instant {
        self.state.started
    }

    /// Every request so far, in order of arrival.
    pub(crate) fn recorded(&self) -> Vec<Recorded> {
        self.state.recorded.lock().expect("lock").clone()
    }
}

async fn serve(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let at = state.started.elapsed();
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let target = header("x-amz-target").unwrap_or_default();
    let caller = header("authorization")
        .as_deref()
        .and_then(access_key_id)
        .unwrap_or("-")
        .to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let operation = target
        .strip_prefix("AmazonSSM.")
        .unwrap_or(&target)
        .to_owned();
    let names: Vec<String> = match operation.as_str() {
        "GetParameter" => input["Name"]
            .as_str()
            .map(str::to_owned)
            .into_iter()
            .collect(),
        "GetParametersByPath" => input["Path"]
            .as_str()
            .map(str::to_owned)
            .into_iter()
            .collect(),
        _ => input["Names"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    };
    let decrypted = input["WithDecryption"] == true;

    let denied = state.denied.lock().expect("lock").contains(&operation);
    let (answer, status, body) = if !matches!(
        operation.as_str(),
        "GetParameter" | "GetParameters" | "GetParametersByPath"
    ) {
        (
            Answer::Refused,
            StatusCode::BAD_REQUEST,
            error(
                "UnknownOperationException",
                &format!(
                    "the stand-in implements AmazonSSM.GetParameter, GetParameters and GetParametersByPath only, not `{target}`"
                ),
            ),
        )
    } else if denied {
        (
            Answer::Denied,
            StatusCode::BAD_REQUEST,
            error(
                "AccessDeniedException",
                &format!(
                    "User: arn:aws:sts::123456789012:assumed-role/stand-in is not authorized to perform: ssm:{operation}"
                ),
            ),
        )
    } else if !take(&state, at) {
        // SSM's own words for it.
        (
            Answer::Throttled,
            StatusCode::BAD_REQUEST,
            error("ThrottlingException", "Rate exceeded"),
        )
    } else if operation == "GetParametersByPath" {
        by_path(&state, &input, decrypted)
    } else if operation == "GetParameters" {
        let (found, invalid): (Vec<&String>, Vec<&String>) = names
            .iter()
            .partition(|name| state.parameters.contains_key(name.as_str()));
        let found: Vec<Value> = found
            .into_iter()
            .map(|name| parameter(name, &state.parameters[name.as_str()], decrypted))
            .collect();
        (
            Answer::Served,
            StatusCode::OK,
            json!({"Parameters": found, "InvalidParameters": invalid}),
        )
    } else {
        let name = names.first().map(String::as_str).unwrap_or_default();
        match state.parameters.get(name) {
            Some(value) => (
                Answer::Served,
                StatusCode::OK,
                json!({"Parameter": parameter(name, value, decrypted)}),
            ),
            None => (
                Answer::NotFound,
                StatusCode::BAD_REQUEST,
                error("ParameterNotFound", &format!("Parameter {name} not found.")),
            ),
        }
    };
    state.recorded.lock().expect("lock").push(Recorded {
        at,
        caller,
        operation,
        names,
        answer,
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", CONTENT_TYPE.parse().expect("header"));
    headers.insert(
        "x-amzn-requestid",
        "00000000-0000-4000-8000-000000000000"
            .parse()
            .expect("header"),
    );
    Ok(response)
}

/// One page of `GetParametersByPath`: the parameters one level below `Path` (every level below
/// with `Recursive`), in name order, `MaxResults` (at most 10, by default 10) from `NextToken`.
fn by_path(state: &State, input: &Value, decrypted: bool) -> (Answer, StatusCode, Value) {
    let path = input["Path"].as_str().unwrap_or_default();
    let path = format!("{}/", path.trim_end_matches('/'));
    let recursive = input["Recursive"] == true;
    let page = input["MaxResults"].as_u64().unwrap_or(10);
    if page > 10 {
        return (
            Answer::Refused,
            StatusCode::BAD_REQUEST,
            error(
                "ValidationException",
                &format!(
                    "1 validation error detected: Value {page} at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10"
                ),
            ),
        );
    }
    let from: usize = input["NextToken"]
        .as_str()
        .and_then(|token| token.parse().ok())
        .unwrap_or(0);
    let mut names: Vec<&String> = state
        .parameters
        .keys()
        .filter(|name| {
            name.strip_prefix(&path)
                .is_some_and(|rest| recursive || !rest.contains('/'))
        })
        .collect();
    names.sort();
    let end = (from + page as usize).min(names.len());
    let found: Vec<Value> = names[from.min(end)..end]
        .iter()
        .map(|name| parameter(name, &state.parameters[name.as_str()], decrypted))
        .collect();
    let mut body = json!({ "Parameters": found });
    if end < names.len() {
        body["NextToken"] = Value::from(end.to_string());
    }
    (Answer::Served, StatusCode::OK, body)
}

/// Whether the limit lets a request through at `at`.
fn take(state: &State, at: Duration) -> bool {
    state
        .bucket
        .lock()
        .expect("lock")
        .as_mut()
        .is_none_or(|bucket| bucket.try_take(at))
}

/// `AKID` from `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ssm/aws4_request, …`.
pub(crate) fn access_key_id(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    credential.split('/').next()
}

/// An `awsJson1_1` error body.
pub(crate) fn error(code: &str, message: &str) -> Value {
    json!({"__type": code, "message": message})
}

/// A SecureString as `GetParameter` and `GetParameters` describe it.
fn parameter(name: &str, value: &str, decrypted: bool) -> Value {
    let value = if decrypted {
        value.to_owned()
    } else {
        // What SSM returns without decryption: the KMS ciphertext, base64. Here an opaque
        // stand-in for it that is not the value.
        format!("AQICAHh-encrypted-{}", value.len())
    };
    json!({
        "ARN": format!("arn:aws:ssm:us-east-1:123456789012:parameter{name}"),
        "DataType": "text",
        "LastModifiedDate": 1_795_500_000.0,
        "Name": name,
        "Type": "SecureString",
        "Value": value,
        "Version": 1
    })
}
