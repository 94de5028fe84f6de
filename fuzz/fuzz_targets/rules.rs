//! Arbitrary text as a rules document: compiling never panics, and a document that compiles
//! decides every callback, at instants around daylight-saving changes and holidays, with a body
//! TaskRouter accepts: JSON, `{}` for a deferral, otherwise an instruction that validates again
//! and serialises to the same bytes. Schedules (time zones, hours, dates) are part of the
//! document, so they are fuzzed too.

#![no_main]

use std::sync::LazyLock;

use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use taskrouter_lambda::callback::AssignmentCallback;
use taskrouter_lambda::form::FormParams;
use taskrouter_lambda::instruction::{Answer, Instruction};
use taskrouter_lambda::rules::Rules;

/// A callback with these attributes, in the shape TaskRouter sends (docs/taskrouter.md §1).
fn callback(task: &Value, worker: &Value) -> AssignmentCallback {
    let pairs = [
        (
            "AccountSid",
            "AC0123456789abcdef0123456789abcdef".to_owned(),
        ),
        (
            "WorkspaceSid",
            "WS1123456789abcdef1123456789abcdef".to_owned(),
        ),
        (
            "WorkflowSid",
            "WW2123456789abcdef2123456789abcdef".to_owned(),
        ),
        (
            "TaskQueueSid",
            "WQ3123456789abcdef3123456789abcdef".to_owned(),
        ),
        ("WorkerSid", "WK4123456789abcdef4123456789abcdef".to_owned()),
        ("WorkerAttributes", worker.to_string()),
        ("TaskSid", "WT5123456789abcdef5123456789abcdef".to_owned()),
        ("TaskAttributes", task.to_string()),
        ("TaskAge", "37".to_owned()),
        ("TaskPriority", "5".to_owned()),
        (
            "ReservationSid",
            "WR6123456789abcdef6123456789abcdef".to_owned(),
        ),
        ("Timestamp", "1795500000".to_owned()),
        ("Extra", "a parameter Twilio added".to_owned()),
    ];
    AssignmentCallback::try_from(FormParams::from_pairs(pairs)).expect("a valid callback")
}

/// A voice task queued with `<Enqueue>`, a chat task, and a task with empty attributes.
static CALLBACKS: LazyLock<Vec<AssignmentCallback>> = LazyLock::new(|| {
    let worker = json!({
        "contact_uri": "client:alice",
        "skills": ["billing", "support"],
        "languages": ["en", "es"],
        "phone": "+14155550111",
        "level": 3,
    });
    vec![
        callback(
            &json!({
                "call_sid": "CA0123456789abcdef0123456789abcdef",
                "account_sid": "AC0123456789abcdef0123456789abcdef",
                "from": "+14155550100",
                "to": "+14155550199",
                "caller": "+14155550100",
                "called": "+14155550199",
                "direction": "inbound",
                "call_status": "ringing",
                "required_skill": "billing",
            }),
            &worker,
        ),
        callback(
            &json!({
                "type": "chat",
                "channel": "web",
                "customer_name": "Dana Reyes",
                "required_skill": "sales",
                "priority": 10,
                "tags": ["vip", "returning"],
            }),
            &worker,
        ),
        callback(&json!({}), &json!({})),
    ]
});

/// Instants: a weekday afternoon, both daylight-saving changes in New York, a leap day,
/// Christmas, and the ends of the range jiff represents.
static INSTANTS: LazyLock<Vec<Timestamp>> = LazyLock::new(|| {
    [
        "2026-12-02T14:30:00Z",
        "2026-03-08T07:00:00Z",
        "2026-11-01T06:30:00Z",
        "2028-02-29T12:00:00Z",
        "2026-12-25T00:00:00Z",
    ]
    .iter()
    .map(|text| text.parse().expect("an instant"))
    .chain([Timestamp::MIN, Timestamp::MAX])
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    // Read as `taskrouter check` reads it, so the warnings' checks are fuzzed too.
    let rules = match Rules::read("fuzz.json", json) {
        Ok((rules, warnings)) => {
            assert!(!warnings.has_errors(), "a compiled document has no errors");
            for warning in warnings.all() {
                assert!(
                    warning.position.is_some(),
                    "every warning is located in the text: {warning}"
                );
            }
            rules
        }
        Err(error) => {
            let _ = error.to_string();
            assert!(
                error.problems().has_errors(),
                "a refused document names an error: {error}"
            );
            for problem in error.problems().all() {
                assert!(
                    problem.position.is_some(),
                    "every problem is located in the text: {problem}"
                );
            }
            return;
        }
    };
    for (callback, now) in CALLBACKS
        .iter()
        .flat_map(|callback| INSTANTS.iter().map(move |now| (callback, *now)))
    {
        let decision = rules.decide(callback, now);
        let body: Value = serde_json::from_str(&decision.body).expect("the body is JSON");
        let Value::Object(object) = &body else {
            panic!("the body is not a JSON object: {}", decision.body);
        };
        if decision.answer == "defer" {
            assert!(
                object.is_empty(),
                "a deferral that is not {{}}: {}",
                decision.body
            );
        } else {
            let instruction =
                Instruction::from_json(&body).expect("the body is a valid instruction");
            assert_eq!(instruction.name(), decision.answer);
            assert_eq!(
                Answer::from(instruction).to_body(),
                decision.body,
                "the body is not canonical"
            );
        }
        for skipped in &decision.skipped {
            assert_ne!(
                skipped.rule,
                decision.rule.name(),
                "the chosen rule was also skipped"
            );
        }
        assert_eq!(
            rules.decide(callback, now),
            decision,
            "the same callback at the same instant got another answer"
        );
    }
});
