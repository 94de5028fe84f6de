//! A rule that defers to a decider, through the compiled function: the callback answers `{}` and
//! the reservation is on moto's SQS; a queue that refuses the message makes the callback answer
//! `503` (TaskRouter then calls the fallback URL); a deferring rule without a queue stops the
//! start.

use serde_json::Value;
use taskrouter_lambda::defer::queue::Message;

use crate::support::moto::Moto;
use crate::support::{Function, fixture, json_lines};

/// Every callback deferred for 90 s to a decider that accepts otherwise.
const DEFER_ALL: &str = r#"{"rules": [{"name": "crm-lookup", "when": "1 == 1", "defer": {
    "decider": "https://decider.example.com/assign",
    "within_seconds": 90,
    "otherwise": {"instruction": "accept"}}}]}"#;

/// The function's output once it contains `needle` (it is read as the process writes it, so a
/// line may arrive after the answer), or as it is after ten seconds.
async fn output_with(function: &Function, needle: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let output = function.output();
        if output.contains(needle) || started.elapsed() > std::time::Duration::from_secs(10) {
            return output;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn deferring_function(moto: &Moto, queue_url: &str) -> Function {
    let moto_env = moto.function_env();
    let mut env: Vec<(&str, &str)> = moto_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("ASSIGNMENT_RULES", DEFER_ALL));
    env.push(("DEFERRED_QUEUE_URL", queue_url));
    Function::start(&env).await
}

#[tokio::test]
async fn a_deferring_rule_answers_an_empty_object_and_queues_the_reservation_without_secrets() {
    let moto = Moto::start().await;
    let queue = moto.create_queue("deferred").await;
    let function = deferring_function(&moto, &queue).await;
    let answer = function.http(fixture("assignment-http-api-voice")).await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, function.output());
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.body, "{}");

    let bodies = moto.receive_all(&queue).await;
    assert_eq!(
        bodies.len(),
        1,
        "one message per deferred callback: {bodies:?}"
    );
    let deferred = Message::parse(&bodies[0]).expect("the decider can read the message");
    assert_eq!(deferred.rule, "crm-lookup");
    assert_eq!(
        deferred.decider.as_str(),
        "https://decider.example.com/assign"
    );
    assert_eq!(deferred.otherwise.name(), "accept");
    assert_eq!(
        deferred.callback.reservation_sid.as_str(),
        "WR6123456789abcdef6123456789abcdef"
    );
    assert_eq!(
        deferred.deadline.as_second() - deferred.arrived_at.as_second(),
        90
    );
    assert!(
        !bodies[0].contains(crate::support::DEV_TOKEN),
        "no token travels on the queue"
    );

    let output = output_with(&function, "assignment answered").await;
    let lines = json_lines(&output);
    let answered = lines
        .iter()
        .find(|line| line["message"] == "assignment answered")
        .unwrap_or_else(|| panic!("a decision line:\n{output}"));
    assert_eq!(answered["decision"], "decider", "{answered}");
    assert_eq!(answered["rule"], "crm-lookup", "{answered}");
}

#[tokio::test]
async fn a_deferral_the_queue_refuses_is_answered_503_logged_and_counted_never_a_silent_empty_object()
 {
    let moto = Moto::start().await;
    // A queue that does not exist: SendMessage answers an error.
    let missing = format!("{}/123456789012/never-created", moto.endpoint());
    let function = deferring_function(&moto, &missing).await;
    let answer = function.http(fixture("assignment-http-api")).await;
    assert_eq!(answer.status, 503, "{}\n{}", answer.body, function.output());
    assert_eq!(answer.json()["error"]["code"], "deferral_not_queued");

    let output = output_with(
        &function,
        "answered 503 so TaskRouter calls the fallback URL",
    )
    .await;
    let lines = json_lines(&output);
    assert!(
        lines.iter().any(|line| line["level"] == "ERROR"
            && line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("deferral not queued"))),
        "an error line says the deferral was not queued:\n{output}"
    );
    let counted: Vec<&Value> = lines.iter().filter(|line| line["Deferrals"] == 1).collect();
    assert_eq!(counted.len(), 1, "{output}");
    assert_eq!(counted[0]["Outcome"], "not_queued");
    assert!(
        !lines
            .iter()
            .any(|line| line["message"] == "assignment answered"),
        "no decision is logged as answered:\n{output}"
    );
}

#[tokio::test]
async fn a_deferring_rule_without_deferred_queue_url_stops_the_start_naming_the_variable() {
    let mut function = Function::start(&[("ASSIGNMENT_RULES", DEFER_ALL)]).await;
    let code = function.exit_code().await;
    let output = function.output();
    assert_ne!(code, Some(0), "{output}");
    assert!(
        output.contains("DEFERRED_QUEUE_URL is not set") && output.contains("`default`"),
        "{output}"
    );
}

#[tokio::test]
async fn without_a_deferring_rule_the_queue_url_is_not_needed_and_nothing_is_queued() {
    let moto = Moto::start().await;
    let queue = moto.create_queue("unused").await;
    let moto_env = moto.function_env();
    let mut env: Vec<(&str, &str)> = moto_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("DEFERRED_QUEUE_URL", queue.as_str()));
    let function = Function::start(&env).await;
    let answer = function.http(fixture("assignment-http-api")).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "{}"));
    assert_eq!(moto.receive_all(&queue).await, Vec::<String>::new());
}

#[tokio::test]
async fn with_the_token_in_ssm_a_deferring_function_still_verifies_and_queues() {
    let moto = Moto::start().await;
    moto.put_secure_string("/taskrouter/auth-token", crate::support::DEV_TOKEN)
        .await;
    let queue = moto.create_queue("deferred").await;
    let moto_env = moto.function_env();
    let mut env: Vec<(&str, &str)> = moto_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("TWILIO_AUTH_TOKEN_PARAMETER", "/taskrouter/auth-token"));
    env.push(("ASSIGNMENT_RULES", DEFER_ALL));
    env.push(("DEFERRED_QUEUE_URL", queue.as_str()));
    let function = Function::start_with(&env).await;
    let answer = function.http(fixture("assignment-http-api")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, "{}"),
        "{}",
        function.output()
    );
    assert_eq!(moto.receive_all(&queue).await.len(), 1);
    let forged = function
        .http(fixture("assignment-tampered-parameter"))
        .await;
    assert_eq!(forged.status, 403, "still verified: {}", forged.body);
}
