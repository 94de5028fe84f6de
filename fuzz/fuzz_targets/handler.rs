//! Arbitrary bytes as the Lambda event API Gateway delivers: whatever deserialises as an API
//! Gateway event, `http::function` (the function as the Lambda runtime calls it) answers with a
//! documented status, a JSON content type and an empty or JSON body, and every metrics line it
//! writes is JSON.
//!
//! Each request goes to two applications built once: one enforcing `X-Twilio-Signature` with the
//! development token the fixtures in `events/` are signed with (built-in rules), and one with
//! verification switched off and templated rules, so that mutated bodies, which no longer match
//! their signature, still reach the callback, event and rules code.
//!
//! Seed with the fixtures: `cargo +nightly fuzz run handler fuzz/corpus/handler events`.

#![no_main]

use std::collections::BTreeSet;
use std::future::Future;
use std::panic;
use std::sync::{Arc, LazyLock, Mutex};

use lambda_http::http::StatusCode;
use lambda_http::request::LambdaRequest;
use lambda_http::{Context, LambdaEvent, Service as _};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use taskrouter_lambda::app::App;
use taskrouter_lambda::metrics::MetricsSink;
use taskrouter_lambda::config::Config;
use taskrouter_lambda::http;
use tokio::runtime::Runtime;

/// The statuses `http::function` documents (`Rejection::status`, `200` for an answer, `204` for an
/// event).
const DOCUMENTED: &[StatusCode] = &[
    StatusCode::OK,
    StatusCode::NO_CONTENT,
    StatusCode::BAD_REQUEST,
    StatusCode::FORBIDDEN,
    StatusCode::NOT_FOUND,
    StatusCode::METHOD_NOT_ALLOWED,
    StatusCode::PAYLOAD_TOO_LARGE,
    StatusCode::UNSUPPORTED_MEDIA_TYPE,
    StatusCode::SERVICE_UNAVAILABLE,
];

/// Checks every metrics line and keeps none: a sink that kept them (like `MemorySink`) would grow
/// by a line per execution and, over millions of executions, reach libFuzzer's memory limit.
#[derive(Debug, Default)]
struct CheckingSink;

impl MetricsSink for CheckingSink {
    fn emit(&self, line: String) {
        let value: Value = serde_json::from_str(&line).expect("a metrics line is JSON");
        assert!(
            value.get("_aws").is_some(),
            "a metrics line without `_aws`: {line}"
        );
    }
}

struct Harness {
    runtime: Runtime,
    enforced: App,
    unverified: App,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let build = |variables: &'static [(&'static str, &'static str)]| {
        let config = Config::from_lookup(|name| {
            variables
                .iter()
                .find(|(variable, _)| *variable == name)
                .map(|(_, value)| (*value).to_owned())
        })
        .expect("a valid configuration");
        runtime
            .block_on(App::build(config, Some("fuzz"), Arc::new(CheckingSink)))
            .expect("the application builds")
    };
    let enforced = build(&[("TWILIO_AUTH_TOKEN", "local-dev-token")]);
    let unverified = build(&[
        ("TASKROUTER_INSECURE_SKIP_SIGNATURE", "true"),
        (
            "ASSIGNMENT_RULES",
            include_str!("../../rules/examples/voice-dequeue.json"),
        ),
    ]);
    Harness {
        runtime,
        enforced,
        unverified,
    }
});

/// Where `lambda_http` has panicked so far, each reported once on stderr.
static UPSTREAM_PANICS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Calls `http::function` with the event, as the Lambda runtime does, and returns its future.
///
/// The call itself is where `lambda_http` turns the event into a request, and it panics on some
/// events (a body flagged base64 that does not decode, a `Host` that is not a URL host, a query
/// string with a space); `http::function` catches those and answers `400` `malformed_event`. That
/// catch needs unwinding, so libFuzzer's panic hook, which aborts, is set aside for the call only;
/// the handler runs later, when the future is awaited, with the fuzzer's hook back in place, so any
/// panic there is a finding. Each upstream panic location is printed once.
fn call(app: &App, payload: LambdaRequest) -> impl Future<Output = Value> + '_ {
    let fuzzer_hook = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map_or_else(|| "an unknown location".to_owned(), ToString::to_string);
        if let Ok(mut seen) = UPSTREAM_PANICS.lock()
            && seen.insert(location.clone())
        {
            eprintln!("caught by http::function, a panic inside lambda_http: {info}");
        }
    }));
    let future = http::function(app).call(LambdaEvent::new(payload, Context::default()));
    panic::set_hook(fuzzer_hook);
    async move {
        let response = future.await.unwrap_or_else(|never| match never {});
        serde_json::to_value(&response).expect("the response serialises")
    }
}

/// A response header, from `headers` (payload 2.0, and the guard's own answers) or
/// `multiValueHeaders` (payload 1.0).
fn header<'a>(response: &'a Value, name: &str) -> Option<&'a str> {
    response["headers"][name]
        .as_str()
        .or_else(|| response["multiValueHeaders"][name][0].as_str())
}

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let harness = &*HARNESS;
    for app in [&harness.enforced, &harness.unverified] {
        // Each application gets its own event: the call consumes it.
        let Ok(event) = serde_json::from_value::<LambdaRequest>(payload.clone()) else {
            return;
        };
        let response = harness.runtime.block_on(call(app, event));
        let status = response["statusCode"]
            .as_u64()
            .and_then(|code| StatusCode::from_u16(u16::try_from(code).ok()?).ok())
            .expect("a status code");
        assert!(DOCUMENTED.contains(&status), "undocumented status {status}");
        assert_eq!(
            header(&response, "content-type"),
            Some("application/json"),
            "every answer is JSON-typed"
        );
        assert_eq!(response["isBase64Encoded"], false, "every answer is text");
        let body = response["body"].as_str().unwrap_or_default();
        if body.is_empty() {
            assert_eq!(
                status,
                StatusCode::NO_CONTENT,
                "an empty body with {status}"
            );
        } else {
            let value: Value = serde_json::from_str(body).expect("the body is JSON");
            assert!(value.is_object(), "the body is not a JSON object");
            if status != StatusCode::OK {
                assert!(
                    value["error"]["code"].is_string(),
                    "an error body without a code"
                );
            }
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(header(&response, "allow"), Some("POST"));
        }
    }
});
