//! An HTTP front for the compiled function, as API Gateway is in production: each HTTP request
//! on a loopback port becomes an HTTP API (payload 2.0) event, the same shape as
//! `events/assignment-http-api.json`, handed to the function binary through the Runtime API
//! emulator ([`Function`]); the function's response becomes the HTTP answer. The function
//! verifies signatures against `PUBLIC_BASE_URL`, set to this front's URL, exactly as a deployed
//! function behind a custom domain does.

use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::Function;

/// The function behind its HTTP front.
pub(crate) struct Gateway {
    /// `http://127.0.0.1:PORT`: the function's public base URL.
    pub(crate) url: String,
    /// The function.
    pub(crate) function: Arc<Function>,
    server: JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Gateway {
    /// Starts the function with `env` (plus `PUBLIC_BASE_URL`, this front's URL) and serves it.
    pub(crate) async fn start(env: &[(&str, &str)]) -> Self {
        Self::serve(env, false).await
    }

    /// As [`Gateway::start`] without the development token: `env` says where the token is.
    pub(crate) async fn start_with(env: &[(&str, &str)]) -> Self {
        Self::serve(env, true).await
    }

    async fn serve(env: &[(&str, &str)], exactly: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("a bound address"));
        let mut vars: Vec<(&str, &str)> = env.to_vec();
        vars.push(("PUBLIC_BASE_URL", &url));
        let function = Arc::new(if exactly {
            Function::start_with(&vars).await
        } else {
            Function::start(&vars).await
        });
        let serving = Arc::clone(&function);
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let function = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request| forward(Arc::clone(&function), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            url,
            function,
            server,
        }
    }
}

async fn forward(
    function: Arc<Function>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        headers.insert(
            name.as_str().to_ascii_lowercase(),
            json!(value.to_str().unwrap_or_default()),
        );
    }
    let path = parts.uri.path();
    let method = parts.method.as_str();
    let event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": parts.uri.query().unwrap_or(""),
        "headers": Value::Object(headers),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "127",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": parts.headers.get("user-agent").and_then(|value| value.to_str().ok()).unwrap_or(""),
            },
            "requestId": "local-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "02/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1_796_212_800_000_u64,
        },
        "isBase64Encoded": true,
        "body": base64::engine::general_purpose::STANDARD.encode(&body),
    });
    let answer = function.http(event).await;
    let mut response = Response::new(Full::new(Bytes::from(answer.body.clone())));
    *response.status_mut() =
        hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    for (name, value) in &answer.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    Ok(response)
}
