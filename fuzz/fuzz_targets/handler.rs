//! Arbitrary bytes as the Lambda event API Gateway delivers: whatever `lambda_http` turns into a
//! request, `http::handle` answers with a documented status, a JSON content type and an empty or
//! JSON body, and every metrics line it writes is JSON.
//!
//! Each request goes to two applications built once: one enforcing `X-Twilio-Signature` with the
//! development token the fixtures in `events/` are signed with (built-in rules), and one with
//! verification switched off and templated rules, so that mutated bodies, which no longer match
//! their signature, still reach the callback, event and rules code.
//!
//! Seed with the fixtures: `cargo +nightly fuzz run handler fuzz/corpus/handler events`.

#![no_main]

use std::collections::BTreeSet;
use std::panic;
use std::sync::{Arc, LazyLock, Mutex};

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use taskrouter_lambda::app::{App, MetricsSink};
use taskrouter_lambda::config::Config;
use taskrouter_lambda::http;
use tokio::runtime::Runtime;

/// The statuses `http::handle` documents (`Rejection::status`, `200` for an answer, `204` for an
/// event).
const DOCUMENTED: &[StatusCode] = &[
    StatusCode::OK,
    StatusCode::NO_CONTENT,
    StatusCode::BAD_REQUEST,
    StatusCode::FORBIDDEN,
    StatusCode::NOT_FOUND,
    StatusCode::METHOD_NOT_ALLOWED,
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

/// The event as `lambda_http` turns it into a request, or `None` when it does not.
///
/// `lambda_http` panics while building the request for some events it deserialises: a body
/// flagged base64 that does not decode (`Body::from_maybe_encoded`), a `Host` header or domain name
/// that is not a URL host (`build_request_uri` unwraps `Url::parse`), and others. Those panics
/// happen upstream, before this crate sees the request; in Lambda the runtime turns them into one
/// failed invocation (tested in `tests/function/binary.rs`). Only that upstream conversion runs
/// inside `catch_unwind`, with libFuzzer's aborting panic hook set aside for its duration, so the
/// fuzzer keeps exploring this crate's code; `http::handle` runs outside it, where any panic is a
/// finding. Each new upstream panic location is printed once.
fn request_from(text: &str) -> Option<Request> {
    let fuzzer_hook = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map_or_else(|| "an unknown location".to_owned(), ToString::to_string);
        if let Ok(mut seen) = UPSTREAM_PANICS.lock()
            && seen.insert(location.clone())
        {
            eprintln!("skipped, a panic inside lambda_http: {info}");
        }
    }));
    let converted = panic::catch_unwind(|| lambda_http::request::from_str(text));
    panic::set_hook(fuzzer_hook);
    converted.ok()?.ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let harness = &*HARNESS;
    for app in [&harness.enforced, &harness.unverified] {
        // `handle` takes the request by value, so each application gets its own conversion.
        let Some(request) = request_from(text) else {
            return;
        };
        let response = harness.runtime.block_on(http::handle(app, request));
        let status = response.status();
        assert!(DOCUMENTED.contains(&status), "undocumented status {status}");
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|value| value.as_bytes()),
            Some(&b"application/json"[..]),
            "every answer is JSON-typed"
        );
        let body: &[u8] = match response.body() {
            Body::Empty => b"",
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => panic!("an unexpected body kind"),
        };
        if body.is_empty() {
            assert_eq!(
                status,
                StatusCode::NO_CONTENT,
                "an empty body with {status}"
            );
        } else {
            let value: Value = serde_json::from_slice(body).expect("the body is JSON");
            assert!(value.is_object(), "the body is not a JSON object");
            if status != StatusCode::OK {
                assert!(
                    value["error"]["code"].is_string(),
                    "an error body without a code"
                );
            }
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(
                response
                    .headers()
                    .get(header::ALLOW)
                    .map(|value| value.as_bytes()),
                Some(&b"POST"[..])
            );
        }
    }
});
