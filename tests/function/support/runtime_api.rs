//! A Lambda Runtime API on 127.0.0.1, enough to drive the real function binary.
//!
//! It implements the four calls a custom runtime makes
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>): `GET …/invocation/next`
//! (long-polls until an event is queued), `POST …/invocation/{id}/response`,
//! `POST …/invocation/{id}/error` and `POST …/init/error`.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;
use tokio::sync::{Notify, oneshot};

const PREFIX: &str = "/2018-06-01/runtime";

/// What the function answered for one invocation.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// `…/response`: the handler's result.
    Response(Value),
    /// `…/error`: the invocation failed (a panic or a handler error).
    Error(Value),
}

#[derive(Default)]
struct State {
    queue: Mutex<VecDeque<(String, Value)>>,
    queued: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    next_id: AtomicU64,
}

/// A running emulator; dropped with the test.
pub(crate) struct RuntimeApi {
    /// Where it listens (`AWS_LAMBDA_RUNTIME_API` is `ip:port`).
    pub(crate) addr: SocketAddr,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Starts listening on a free loopback port.
    pub(crate) async fn start() -> Self {
        let state = Arc::new(State::default());
        let (addr, server) = super::loopback::serve(Arc::clone(&state), serve).await;
        Self {
            addr,
            state,
            server,
        }
    }

    /// Queues `event` and waits (up to 30 s) for the function's answer.
    pub(crate) async fn invoke(&self, event: Value) -> Outcome {
        let id = format!("req-{}", self.state.next_id.fetch_add(1, Ordering::Relaxed));
        let (sender, receiver) = oneshot::channel();
        self.state
            .waiting
            .lock()
            .expect("lock")
            .insert(id.clone(), sender);
        self.state
            .queue
            .lock()
            .expect("lock")
            .push_back((id, event));
        self.state.queued.notify_one();
        tokio::time::timeout(Duration::from_secs(30), receiver)
            .await
            .expect("the function answered within 30 s")
            .expect("the emulator kept the invocation")
    }
}

async fn next_event(state: &State) -> (String, Value) {
    loop {
        let notified = state.queued.notified();
        if let Some(item) = state.queue.lock().expect("lock").pop_front() {
            return item;
        }
        notified.await;
    }
}

async fn serve(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json = || serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let rest = path.strip_prefix(PREFIX).unwrap_or("");
    let reply = |status: StatusCode, body: Bytes| {
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = status;
        response
    };
    if method == Method::GET && rest == "/invocation/next" {
        let (id, event) = next_event(&state).await;
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis()
            + 30_000;
        let mut response = reply(StatusCode::OK, Bytes::from(event.to_string()));
        let headers = response.headers_mut();
        headers.insert("lambda-runtime-aws-request-id", id.parse().expect("header"));
        headers.insert(
            "lambda-runtime-deadline-ms",
            deadline.to_string().parse().expect("header"),
        );
        headers.insert(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:taskrouter-test"
                .parse()
                .expect("header"),
        );
        headers.insert(
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000"
                .parse()
                .expect("header"),
        );
        return Ok(response);
    }
    if method == Method::POST && rest == "/init/error" {
        // The function reports why it could not start; the tests read its log output instead.
        return Ok(reply(StatusCode::ACCEPTED, Bytes::new()));
    }
    if method == Method::POST
        && let Some(rest) = rest.strip_prefix("/invocation/")
    {
        let (id, kind) = rest.split_once('/').unwrap_or((rest, ""));
        let outcome = match kind {
            "response" => Some(Outcome::Response(json())),
            "error" => Some(Outcome::Error(json())),
            _ => None,
        };
        if let Some(outcome) = outcome {
            if let Some(sender) = state.waiting.lock().expect("lock").remove(id) {
                let _ = sender.send(outcome);
            }
            return Ok(reply(StatusCode::ACCEPTED, Bytes::new()));
        }
    }
    Ok(reply(StatusCode::NOT_FOUND, Bytes::new()))
}
