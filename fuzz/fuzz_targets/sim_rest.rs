//! Arbitrary requests to the simulator's REST API: the first line is `METHOD path?query`, the
//! second an `If-Match` value (empty for none), the rest a form body. The query and the body are
//! read by the same form parser as the server's; each request goes to a fresh simulator loaded
//! with the sample workspace document, and the answer is an HTTP status the simulator documents
//! with a JSON object body (Twilio's error JSON when it is an error). Never a panic.

#![no_main]

use std::sync::LazyLock;

use hyper::Method;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use taskrouter_lambda::form::FormParams;
use taskrouter_lambda::sid::AccountSid;
use taskrouter_lambda::sim::document::WorkspaceDocument;
use taskrouter_lambda::sim::engine::Engine;
use taskrouter_lambda::sim::model::Urls;
use taskrouter_lambda::sim::rest::{Call, dispatch};
use taskrouter_lambda::sim::server::{ClockMode, Simulator};

/// The sample workspace document, with a Workflow that sends every task to its first queue.
static DOCUMENT: LazyLock<WorkspaceDocument> = LazyLock::new(|| {
    let mut document: serde_json::Value =
        serde_json::from_str(include_str!("../../workflows/workspace.json")).expect("JSON");
    document["workflows"] = serde_json::json!([{
        "sid": "WW00000000000000000000000000000001",
        "friendly_name": "Everything",
        "assignment_callback_url": "http://127.0.0.1:9/taskrouter/assignment_callback",
        "task_reservation_timeout": 120,
        "configuration": {"task_routing": {"filters": [], "default_filter": {
            "queue": "WQ00000000000000000000000000000001"
        }}}
    }]);
    WorkspaceDocument::read("workspace.json", &document.to_string())
        .expect("the sample workspace document is valid")
});

fn pairs(text: &str) -> Option<Vec<(String, String)>> {
    FormParams::parse(text.as_bytes())
        .ok()
        .map(|params| params.pairs().to_vec())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.splitn(3, '\n');
    let (Some(request), if_match, body) = (lines.next(), lines.next(), lines.next()) else {
        return;
    };
    let Some((method, target)) = request.split_once(' ') else {
        return;
    };
    let method = match method {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        _ => return,
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // The clock's endpoints wait for callbacks to be delivered, which this target does not run.
    if !path.starts_with('/') || path.starts_with("/sim/") {
        return;
    }
    let (Some(query), Some(form)) = (pairs(query), pairs(body.unwrap_or(""))) else {
        return;
    };
    let call = Call {
        method,
        path: path.to_owned(),
        query,
        form,
        if_match: if_match
            .filter(|value| !value.is_empty())
            .map(str::to_owned),
        urls: Urls::new("http://127.0.0.1:4010"),
    };
    let account = AccountSid::parse("AC0123456789abcdef0123456789abcdef").expect("a SID");
    let mut engine = Engine::new(
        account,
        "2026-12-07T09:00:00Z".parse().expect("an instant"),
        1,
    );
    DOCUMENT.load(&mut engine).expect("the sample loads");
    let sim = Simulator::new(engine, ClockMode::Manual, SecretString::from("fuzz-token"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    match runtime.block_on(dispatch(&sim, &call)) {
        Ok(reply) => {
            assert!(matches!(reply.status, 200 | 201 | 204), "{}", reply.status);
            assert!(
                reply.body.is_object() || reply.status == 204,
                "{}",
                reply.body
            );
        }
        Err(problem) => {
            assert!(
                matches!(
                    problem.status,
                    400 | 401 | 404 | 405 | 409 | 412 | 413 | 415 | 429
                ),
                "status {} for {call:?}",
                problem.status
            );
            let body = problem.body();
            assert!(
                body.get("code").is_some() && body.get("message").is_some(),
                "{body}"
            );
        }
    }
});
