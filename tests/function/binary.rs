//! The compiled function binary, served real API Gateway events over an emulated Lambda Runtime API.

use serde_json::Value;

use crate::fixtures::malformed_events;
use crate::support::{Function, fixture, json_lines, repo};

/// Customer data that appears in the fixtures' attributes and must never reach the logs at info.
const CUSTOMER_DATA: &[&str] = &[
    "+14155550100",
    "+18005550199",
    "+14155550111",
    "Dana Reyes",
    "client:alice",
];

#[tokio::test]
async fn valid_callbacks_from_every_api_gateway_shape_are_answered_with_the_deferral() {
    let function = Function::start(&[]).await;
    for name in [
        "assignment-http-api",
        "assignment-http-api-voice",
        "assignment-http-api-query-string",
        "assignment-rest-api",
        "assignment-function-url",
    ] {
        let answer = function.http(fixture(name)).await;
        assert_eq!(
            answer.status,
            200,
            "{name}: {}\n{}",
            answer.body,
            function.output()
        );
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{name}"
        );
        assert_eq!(answer.body, "{}", "{name}");
    }
}

#[tokio::test]
async fn events_lambda_http_panics_on_get_a_json_400_and_the_process_serves_the_next() {
    let function = Function::start(&[]).await;
    for name in malformed_events() {
        let answer = function.http(fixture(name)).await;
        assert_eq!(answer.status, 400, "{name}: {}", answer.body);
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(
            answer.json()["error"]["code"],
            "malformed_event",
            "{name}: {}",
            answer.body
        );
    }
    let answer = function.http(fixture("assignment-http-api")).await;
    assert_eq!(
        answer.status, 200,
        "the same process answers the next callback"
    );
    assert_eq!(answer.body, "{}");
    let refusals = json_lines(&function.output())
        .into_iter()
        .filter(|line| line["code"] == "malformed_event")
        .count();
    assert_eq!(
        refusals,
        malformed_events().count(),
        "one warning per malformed event"
    );
}

#[tokio::test]
async fn malformed_requests_get_json_errors_not_runtime_errors() {
    let function = Function::start(&[]).await;
    for (name, status) in [
        ("assignment-missing-task-sid", 400),
        ("assignment-empty-body", 400),
        ("assignment-json-content-type", 415),
        ("assignment-unsigned", 403),
        ("assignment-tampered-parameter", 403),
        ("assignment-get-method", 405),
        ("unknown-route", 404),
    ] {
        let answer = function.http(fixture(name)).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
        assert!(
            answer.json()["error"]["message"].is_string(),
            "{name}: {}",
            answer.body
        );
    }
}

#[tokio::test]
async fn each_callback_is_one_json_log_line_with_the_sids_decision_and_time_and_no_customer_data() {
    let function = Function::start(&[]).await;
    function.http(fixture("assignment-http-api-voice")).await;
    function.http(fixture("event-reservation-accepted")).await;
    function
        .http(fixture("assignment-attributes-not-object"))
        .await;
    let output = function.output();
    let lines = json_lines(&output);
    let answered: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "assignment answered")
        .collect();
    assert_eq!(answered.len(), 1, "{output}");
    let line = answered[0];
    assert_eq!(line["level"], "INFO");
    for (field, value) in [
        ("task_sid", "WT5123456789abcdef5123456789abcdef"),
        ("reservation_sid", "WR6123456789abcdef6123456789abcdef"),
        ("worker_sid", "WK4123456789abcdef4123456789abcdef"),
        ("workflow_sid", "WW2123456789abcdef2123456789abcdef"),
        ("task_queue_sid", "WQ3123456789abcdef3123456789abcdef"),
        ("decision", "defer"),
        ("rule", "default"),
    ] {
        assert_eq!(line[field], value, "{field} in {line}");
    }
    assert!(line["handling_us"].is_u64(), "{line}");
    for secret in CUSTOMER_DATA {
        assert!(
            !output.contains(secret),
            "`{secret}` leaked into the logs:\n{output}"
        );
    }
}

#[tokio::test]
async fn a_missing_token_setting_stops_the_function_at_start_naming_both_variables() {
    let mut function = Function::start_with(&[]).await;
    let code = function.exit_code().await;
    let output = function.output();
    assert_ne!(code, Some(0), "{output}");
    assert!(
        output.contains("TWILIO_AUTH_TOKEN") && output.contains("TWILIO_AUTH_TOKEN_PARAMETER"),
        "{output}"
    );
}

#[tokio::test]
async fn invalid_rules_stop_the_function_at_start_naming_the_rule() {
    let rules = r#"{"rules": [{"name": "voice", "when": "call_sid != null AND", "instruction": {"instruction": "accept"}}]}"#;
    let mut function = Function::start(&[("ASSIGNMENT_RULES", rules)]).await;
    let code = function.exit_code().await;
    let output = function.output();
    assert_ne!(code, Some(0), "{output}");
    assert!(
        output.contains("ASSIGNMENT_RULES") && output.contains("voice"),
        "{output}"
    );
}

#[tokio::test]
async fn rules_from_a_file_answer_voice_tasks_with_a_dequeue_to_the_worker() {
    let path = repo().join("rules/examples/voice-dequeue.json");
    let function =
        Function::start(&[("ASSIGNMENT_RULES_FILE", path.to_str().expect("utf-8 path"))]).await;
    let voice = function.http(fixture("assignment-http-api-voice")).await;
    assert_eq!(voice.status, 200, "{}", function.output());
    let body = voice.json();
    assert_eq!(body["instruction"], "dequeue", "{body}");
    assert_eq!(body["to"], "client:alice", "{body}");
    assert_eq!(body["from"], "+18005550199", "{body}");
    let chat = function.http(fixture("assignment-http-api")).await;
    assert_eq!(chat.json()["instruction"], "accept", "{}", chat.body);
}

#[tokio::test]
async fn switching_verification_off_answers_unsigned_requests_and_says_so_every_time() {
    let function = Function::start_with(&[("TASKROUTER_INSECURE_SKIP_SIGNATURE", "true")]).await;
    for _ in 0..2 {
        let answer = function.http(fixture("assignment-unsigned")).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let output = function.output();
    let warnings = output.matches("X-Twilio-Signature NOT CHECKED").count();
    assert_eq!(warnings, 2, "one loud line per request:\n{output}");
}

#[tokio::test]
async fn workspace_events_are_one_queryable_log_line_each_without_customer_data() {
    let function = Function::start(&[]).await;
    for name in [
        "event-reservation-accepted",
        "event-worker-activity-update",
        "event-unknown-type",
    ] {
        let answer = function.http(fixture(name)).await;
        assert_eq!(answer.status, 204, "{name}: {}", answer.body);
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{name}"
        );
    }
    let output = function.output();
    let events: Vec<Value> = json_lines(&output)
        .into_iter()
        .filter(|line| line["message"] == "workspace event")
        .collect();
    let types: Vec<&str> = events
        .iter()
        .filter_map(|line| line["event_type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "reservation.accepted",
            "worker.activity.update",
            "task-queue.future-event"
        ],
        "{output}"
    );
    assert_eq!(events[0]["resource_type"], "reservation");
    assert_eq!(
        events[0]["reservation_sid"],
        "WR6123456789abcdef6123456789abcdef"
    );
    assert_eq!(events[1]["worker_activity_name"], "Available");
    for secret in CUSTOMER_DATA.iter().chain(&["alice", "Contact Center"]) {
        assert!(
            !output.contains(secret),
            "`{secret}` leaked into the logs:\n{output}"
        );
    }
}

#[test]
fn the_sam_template_can_never_switch_verification_off() {
    let template = std::fs::read_to_string(repo().join("template.yaml")).expect("template.yaml");
    assert!(
        !template.contains("TASKROUTER_INSECURE_SKIP_SIGNATURE"),
        "the deployed function must always verify signatures"
    );
    assert!(
        template.contains("TWILIO_AUTH_TOKEN_PARAMETER"),
        "the template wires the SSM token"
    );
}

#[test]
fn the_release_profile_unwinds_so_a_panic_in_lambda_http_is_answered_not_fatal() {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).expect("Cargo.toml");
    let release: Vec<&str> = manifest
        .lines()
        .skip_while(|line| line.trim() != "[profile.release]")
        .skip(1)
        .take_while(|line| !line.starts_with('['))
        .map(str::trim)
        .collect();
    assert!(
        release.contains(&r#"panic = "unwind""#),
        "http::function catches lambda_http's panics, which needs unwinding: {release:?}"
    );
}
