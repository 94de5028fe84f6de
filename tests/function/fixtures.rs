//! Every fixture in `events/` has a documented outcome, and gets it.
//!
//! The fixtures are complete API Gateway events (HTTP API payload 2.0, REST API payload 1.0,
//! function URL), signed for the development token by Twilio's own Python helper
//! (`scripts/generate_events.py`). They go through `lambda_http`'s real event parsing and the
//! handler, so they cannot rot: a fixture that no longer gets its documented answer fails here,
//! and a new fixture without a documented answer fails too.

use std::sync::Arc;

use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt as _;
use lambda_http::{Context, LambdaEvent};
use serde_json::Value;
use taskrouter_lambda::app::App;
use taskrouter_lambda::config::Config;
use taskrouter_lambda::http;
use taskrouter_lambda::metrics::MemorySink;

use crate::support::{DEV_TOKEN, fixture, repo};

/// What a fixture is documented to get.
struct Expected {
    fixture: &'static str,
    status: u16,
    /// The error code for a 4xx/5xx; `None` for a success.
    code: Option<&'static str>,
}

const fn ok(fixture: &'static str, status: u16) -> Expected {
    Expected {
        fixture,
        status,
        code: None,
    }
}

const fn refused(fixture: &'static str, status: u16, code: &'static str) -> Expected {
    Expected {
        fixture,
        status,
        code: Some(code),
    }
}

const EXPECTED: &[Expected] = &[
    ok("assignment-http-api", 200),
    ok("assignment-http-api-voice", 200),
    ok("assignment-http-api-query-string", 200),
    ok("assignment-rest-api", 200),
    ok("assignment-function-url", 200),
    refused("assignment-missing-task-sid", 400, "missing_parameter"),
    refused("assignment-malformed-worker-sid", 400, "invalid_sid"),
    refused(
        "assignment-attributes-not-object",
        400,
        "invalid_attributes",
    ),
    refused("assignment-age-not-integer", 400, "invalid_integer"),
    refused("assignment-empty-body", 400, "empty_body"),
    refused(
        "assignment-json-content-type",
        415,
        "unsupported_media_type",
    ),
    refused("assignment-unsigned", 403, "missing_signature"),
    refused("assignment-tampered-parameter", 403, "invalid_signature"),
    refused(
        "assignment-signed-for-another-url",
        403,
        "invalid_signature",
    ),
    refused("assignment-get-method", 405, "method_not_allowed"),
    refused("unknown-route", 404, "not_found"),
    ok("event-reservation-accepted", 204),
    ok("event-reservation-timeout", 204),
    ok("event-task-created", 204),
    ok("event-worker-activity-update", 204),
    ok("event-unknown-type", 204),
    refused("event-missing-event-type", 400, "missing_parameter"),
    refused("assignment-body-not-base64", 400, "malformed_event"),
    refused("assignment-host-not-a-host", 400, "malformed_event"),
    refused("assignment-query-string-with-space", 400, "malformed_event"),
    refused("assignment-no-host-path-not-a-url", 400, "malformed_event"),
    refused(
        "assignment-rest-api-host-not-a-host",
        400,
        "malformed_event",
    ),
];

/// The fixtures `lambda_http` cannot turn into a request: it panics while building it, and
/// `http::function` answers `malformed_event` instead of failing the invocation.
pub(crate) fn malformed_events() -> impl Iterator<Item = &'static str> {
    EXPECTED
        .iter()
        .filter(|expected| expected.code == Some("malformed_event"))
        .map(|expected| expected.fixture)
}

/// An answer as API Gateway reads it from the function's response event.
struct Answer {
    status: u16,
    content_type: Option<String>,
    body: String,
}

/// Sends an API Gateway event through the function exactly as the Lambda runtime does (event
/// JSON → `http::function` → response JSON), minus the Runtime API's HTTP calls.
async fn answer(app: &App, event: &Value) -> Answer {
    let payload: LambdaRequest =
        serde_json::from_value(event.clone()).expect("the event deserialises");
    let response = http::function(app)
        .oneshot(LambdaEvent::new(payload, Context::default()))
        .await
        .unwrap_or_else(|never| match never {});
    let response = serde_json::to_value(&response).expect("the response serialises");
    // HTTP APIs get single-value `headers`; REST APIs get `multiValueHeaders` from lambda_http.
    let content_type = response["headers"]["content-type"]
        .as_str()
        .or_else(|| response["multiValueHeaders"]["content-type"][0].as_str())
        .map(str::to_owned);
    Answer {
        status: u16::try_from(response["statusCode"].as_u64().expect("a statusCode"))
            .expect("a status code"),
        content_type,
        body: response["body"].as_str().unwrap_or_default().to_owned(),
    }
}

/// The app as `make run` configures it: the development token, built-in rules.
pub(crate) async fn dev_app(extra: &[(&str, &str)]) -> (App, Arc<MemorySink>) {
    let vars: Vec<(String, String)> = [("TWILIO_AUTH_TOKEN", DEV_TOKEN)]
        .iter()
        .chain(extra)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let config = Config::from_lookup(|name| {
        vars.iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("valid development configuration");
    let sink = Arc::new(MemorySink::default());
    let app = App::build(config, Some("taskrouter-test"), sink.clone())
        .await
        .expect("the app builds");
    (app, sink)
}

#[test]
fn every_fixture_file_has_a_documented_outcome() {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("events"))
        .expect("events/ exists")
        .filter_map(|entry| {
            let name = entry
                .expect("dir entry")
                .file_name()
                .into_string()
                .expect("utf-8 name");
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    files.sort();
    let mut documented: Vec<String> = EXPECTED.iter().map(|e| e.fixture.to_owned()).collect();
    documented.sort();
    assert_eq!(
        files, documented,
        "events/*.json and the table of outcomes must list the same fixtures"
    );
}

#[tokio::test]
async fn every_fixture_gets_its_documented_answer_through_lambda_http_and_the_handler() {
    let (app, _) = dev_app(&[]).await;
    for expected in EXPECTED {
        let answer = answer(&app, &fixture(expected.fixture)).await;
        let body = answer.body;
        assert_eq!(
            answer.status, expected.status,
            "{}: {body}",
            expected.fixture
        );
        assert_eq!(
            answer.content_type.as_deref(),
            Some("application/json"),
            "{}: every answer is JSON-typed",
            expected.fixture
        );
        match expected.code {
            Some(code) => {
                let json: Value = serde_json::from_str(&body).unwrap_or_else(|e| {
                    panic!("{}: error body is JSON ({e}): {body}", expected.fixture)
                });
                assert_eq!(json["error"]["code"], code, "{}: {body}", expected.fixture);
                let message = json["error"]["message"].as_str().unwrap_or("");
                assert!(
                    !message.is_empty(),
                    "{}: the error says what is wrong",
                    expected.fixture
                );
            }
            None if expected.status == 200 => {
                assert_eq!(body, "{}", "{}: the built-in rules defer", expected.fixture);
            }
            None => assert_eq!(
                body, "",
                "{}: events are answered without a body",
                expected.fixture
            ),
        }
    }
}

#[tokio::test]
async fn a_wrong_method_is_answered_with_the_allowed_one() {
    let (app, _) = dev_app(&[]).await;
    let request = lambda_http::request::from_str(&fixture("assignment-get-method").to_string())
        .expect("valid event");
    let response = http::handle(&app, request).await;
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );
}

#[test]
fn lambda_http_still_panics_on_the_malformed_events_the_function_guards_against() {
    for name in malformed_events() {
        let event = fixture(name).to_string();
        let outcome = std::panic::catch_unwind(|| lambda_http::request::from_str(&event).map(drop));
        assert!(
            outcome.is_err(),
            "{name}: lambda_http now builds a request from this event without panicking; the \
             fixture's documented answer (malformed_event) and http::function's note need updating"
        );
    }
}

#[tokio::test]
async fn a_malformed_event_decides_nothing_and_the_next_event_is_answered() {
    let (app, sink) = dev_app(&[]).await;
    for name in malformed_events() {
        assert_eq!(answer(&app, &fixture(name)).await.status, 400, "{name}");
    }
    let next = answer(&app, &fixture("assignment-http-api")).await;
    assert_eq!((next.status, next.body.as_str()), (200, "{}"));
    assert_eq!(
        sink.lines().len(),
        1,
        "only the answered callback emits a metric: {:?}",
        sink.lines()
    );
}

#[tokio::test]
async fn fixtures_signed_for_the_dev_token_fail_with_any_other_token() {
    let (app, _) = dev_app(&[("TWILIO_AUTH_TOKEN", "another-token")]).await;
    for expected in EXPECTED
        .iter()
        .filter(|e| e.status == 200 || e.status == 204)
    {
        let request = lambda_http::request::from_str(&fixture(expected.fixture).to_string())
            .expect("valid event");
        let response = http::handle(&app, request).await;
        assert_eq!(
            response.status().as_u16(),
            403,
            "{} must not verify with another token",
            expected.fixture
        );
    }
}

#[tokio::test]
async fn answered_callbacks_and_signature_failures_emit_metrics_lines() {
    let (app, sink) = dev_app(&[]).await;
    for name in [
        "assignment-http-api",
        "assignment-unsigned",
        "event-reservation-accepted",
    ] {
        let request =
            lambda_http::request::from_str(&fixture(name).to_string()).expect("valid event");
        let _ = http::handle(&app, request).await;
    }
    let lines = sink.lines();
    let metric_names: Vec<String> = lines
        .iter()
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(line).expect("an EMF line is JSON");
            json["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
                .as_str()
                .expect("a metric name")
                .to_owned()
        })
        .collect();
    assert_eq!(
        metric_names,
        ["Decisions", "SignatureFailures", "ReservationOutcomes"],
        "{lines:#?}"
    );
}
