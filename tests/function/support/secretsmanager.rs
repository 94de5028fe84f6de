//! A stand-in for AWS Secrets Manager on 127.0.0.1 that throttles as Secrets Manager does, for the
//! storm (`benches/storm.rs`): `moto_server` never throttles.
//!
//! Secrets Manager serves `GetSecretValue` and `DescribeSecret` together at 10,000 requests a
//! second per account and region, and answers over that rate with `ThrottlingException`
//! (<https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html>, "Combined
//! rate of DescribeSecret and GetSecretValue API requests"). Like the SSM stand-in next to it
//! (`ssm.rs`, whose token bucket, limits and records this shares), it implements only what the
//! function sends at start, in the `awsJson1_1` protocol:
//!
//! - `POST /` with `X-Amz-Target: secretsmanager.GetSecretValue` and
//!   `{"SecretId": …, "VersionStage": …}`: `200` with `{"ARN", "Name", "VersionId",
//!   "SecretString", "VersionStages": ["AWSCURRENT"], "CreatedDate"}` for `AWSCURRENT` (or no
//!   stage) of a secret it holds; `400` `{"__type": "ResourceNotFoundException", …}` for another
//!   stage (the stand-in's secrets have one version) or another secret, as Secrets Manager answers
//!   (<https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html>).
//! - Over the rate: `400` `{"__type": "ThrottlingException", "message": "Rate exceeded"}`, which
//!   the SDK reads as throttling (`THROTTLING_ERRORS`). AWS publishes the rate, not the burst: the
//!   bucket holds one second's worth, as the SSM stand-in's does. A throttled request takes no
//!   token; every request is recorded with its time, its caller and its answer.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::ssm::{Answer, Limit, Recorded, TokenBucket, access_key_id, error};

/// Secrets Manager's default rate for `GetSecretValue`, with a bucket of one second's worth.
// The storm's; the tests set their own limits.
#[allow(dead_code)]
pub(crate) const SECRETS_MANAGER_DEFAULT: Limit = Limit::Bucket {
    rate: 10_000.0,
    burst: 10_000.0,
};

struct State {
    started: Instant,
    /// The `CreatedDate` of every secret's version: a day before the stand-in started, so no
    /// reader is within the grace of a rotation (it would read `AWSPREVIOUS` too).
    created: f64,
    secrets: HashMap<String, String>,
    bucket: Mutex<Option<TokenBucket>>,
    recorded: Mutex<Vec<Recorded>>,
}

/// A running stand-in; stops when dropped.
pub(crate) struct SecretsStandIn {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for SecretsStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl SecretsStandIn {
    /// Starts on a free loopback port serving `secrets` (name, `SecretString`) under `limit`.
    pub(crate) async fn start(secrets: &[(&str, &str)], limit: Limit) -> Self {
        let day_ago = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |now| now.as_secs_f64() - 86_400.0);
        let state = Arc::new(State {
            started: Instant::now(),
            created: day_ago.floor(),
            secrets: secrets
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            bucket: Mutex::new(limit.bucket()),
            recorded: Mutex::new(Vec::new()),
        });
        let (addr, server) = super::loopback::serve(Arc::clone(&state), serve).await;
        Self {
            addr,
            state,
            server,
        }
    }

    /// The URL to give the SDK (`AWS_ENDPOINT_URL_SECRETS_MANAGER`).
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// When the stand-in started: the zero of [`Recorded::at`].
    // The storm's; the tests compare recorded times with each other.
    #[allow(dead_code)]
    pub(crate) fn started(&self) -> Instant {
        self.state.started
    }

    /// Every request so far, in order of arrival; `names` holds the secret and the stage asked.
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
        .strip_prefix("secretsmanager.")
        .unwrap_or(&target)
        .to_owned();
    let id = input["SecretId"].as_str().unwrap_or_default().to_owned();
    let stage = input["VersionStage"]
        .as_str()
        .unwrap_or("AWSCURRENT")
        .to_owned();

    let throttled = || {
        !state
            .bucket
            .lock()
            .expect("lock")
            .as_mut()
            .is_none_or(|bucket| bucket.try_take(at))
    };
    let (answer, status, body) = if operation != "GetSecretValue" {
        (
            Answer::Refused,
            StatusCode::BAD_REQUEST,
            error(
                "UnknownOperationException",
                &format!(
                    "the stand-in implements secretsmanager.GetSecretValue only, not `{target}`"
                ),
            ),
        )
    } else if throttled() {
        (
            Answer::Throttled,
            StatusCode::BAD_REQUEST,
            error("ThrottlingException", "Rate exceeded"),
        )
    } else {
        match state.secrets.get(&id) {
            Some(value) if stage == "AWSCURRENT" => (
                Answer::Served,
                StatusCode::OK,
                json!({
                    "ARN": format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{id}-AbCdEf"),
                    "Name": id,
                    "VersionId": "00000000-0000-4000-8000-000000000001",
                    "SecretString": value,
                    "VersionStages": ["AWSCURRENT"],
                    "CreatedDate": state.created
                }),
            ),
            Some(_) => (
                Answer::NotFound,
                StatusCode::BAD_REQUEST,
                error(
                    "ResourceNotFoundException",
                    &format!(
                        "Secrets Manager can't find the specified secret value for staging label: {stage}"
                    ),
                ),
            ),
            None => (
                Answer::NotFound,
                StatusCode::BAD_REQUEST,
                error(
                    "ResourceNotFoundException",
                    "Secrets Manager can't find the specified secret.",
                ),
            ),
        }
    };
    state.recorded.lock().expect("lock").push(Recorded {
        at,
        caller,
        operation,
        names: vec![id, stage],
        answer,
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        "application/x-amz-json-1.1".parse().expect("header"),
    );
    headers.insert(
        "x-amzn-requestid",
        "00000000-0000-4000-8000-000000000000"
            .parse()
            .expect("header"),
    );
    Ok(response)
}
