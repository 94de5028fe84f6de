//! Callbacks of any account, signed by Twilio's official Python helper
//! (`twilio.request_validator.RequestValidator`), delivered as API Gateway events.
//!
//! The events start from the `events/` fixtures (an HTTP API, payload 2.0, default stage), so
//! only the parameters and the signature change ([`signed_events`]); [`signatures`] signs for
//! any URL, as `twilio_python.rs` does for every deployment topology.

use std::io::Write as _;

use base64::Engine as _;
use serde_json::{Value, json};
use taskrouter_lambda::form::FormParams;

use crate::support::fixture;

/// The API the fixtures were sent to.
pub(crate) const HTTP_API: &str = "abc123defg.execute-api.us-east-1.amazonaws.com";

/// The fixtures' assignment callback (a chat task).
pub(crate) const ASSIGNMENT: &str = "assignment-http-api";
/// The fixtures' workspace event (a reservation accepted).
pub(crate) const EVENT: &str = "event-reservation-accepted";

/// The decoded form parameters of a fixture.
pub(crate) fn params(fixture_name: &str) -> FormParams {
    let event = fixture(fixture_name);
    let body = base64::engine::general_purpose::STANDARD
        .decode(event["body"].as_str().expect("a body"))
        .expect("a base64 body");
    FormParams::parse(&body).expect("a form body")
}

/// `params` with every value of `key` replaced by `value`.
pub(crate) fn with(params: &FormParams, key: &str, value: &str) -> FormParams {
    FormParams::from_pairs(params.pairs().iter().map(|(k, v)| {
        if k == key {
            (k.clone(), value.to_owned())
        } else {
            (k.clone(), v.clone())
        }
    }))
}

/// `params` without `key`.
pub(crate) fn without(params: &FormParams, key: &str) -> FormParams {
    FormParams::from_pairs(
        params
            .pairs()
            .iter()
            .filter(|(k, _)| k != key)
            .map(|(k, v)| (k.clone(), v.clone())),
    )
}

/// The URL Twilio calls for the fixture's route.
pub(crate) fn url(fixture_name: &str) -> String {
    let event = fixture(fixture_name);
    format!(
        "https://{HTTP_API}{}",
        event["rawPath"].as_str().expect("a raw path")
    )
}

/// The fixture's event carrying `params`, signed `signature`.
pub(crate) fn event(fixture_name: &str, params: &FormParams, signature: &str) -> Value {
    let mut event = fixture(fixture_name);
    event["headers"]["x-twilio-signature"] = json!(signature);
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(params.encode()));
    event
}

/// One callback to sign: the fixture whose route and shape it takes, the parameters, the token.
pub(crate) struct ToSign<'a> {
    /// The fixture the event is built from.
    pub(crate) fixture: &'a str,
    /// The parameters sent.
    pub(crate) params: FormParams,
    /// The auth token Twilio would sign with.
    pub(crate) token: &'a str,
}

/// Signs each callback with Twilio's Python helper (one `python3` process for all of them) and
/// returns the events, in order.
pub(crate) fn signed_events(callbacks: &[ToSign<'_>]) -> Vec<Value> {
    let urls: Vec<String> = callbacks
        .iter()
        .map(|callback| url(callback.fixture))
        .collect();
    let cases: Vec<(&str, &str, &FormParams)> = callbacks
        .iter()
        .zip(&urls)
        .map(|(callback, url)| (callback.token, url.as_str(), &callback.params))
        .collect();
    callbacks
        .iter()
        .zip(&signatures(&cases))
        .map(|(callback, signature)| event(callback.fixture, &callback.params, signature))
        .collect()
}

/// Signs each `(token, url, params)` with `RequestValidator.compute_signature`, in one `python3`
/// process. Fails the test, not skips it, without `pip install twilio`.
pub(crate) fn signatures(cases: &[(&str, &str, &FormParams)]) -> Vec<String> {
    let input: Vec<Value> = cases
        .iter()
        .map(|(token, url, params)| json!({"token": token, "url": url, "params": params.pairs()}))
        .collect();
    // A list of pairs becomes a dict, as Twilio's Flask and Django examples pass `request.form`.
    let script = "import json, sys\n\
                  from twilio.request_validator import RequestValidator\n\
                  cases = json.load(sys.stdin)\n\
                  print(json.dumps([RequestValidator(c['token']).compute_signature(c['url'], dict(c['params'])) for c in cases]))\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::Array(input).to_string().as_bytes())
        .expect("write the callbacks");
    let output = child.wait_with_output().expect("python3 finishes");
    assert!(
        output.status.success(),
        "Twilio's Python helper is needed: pip install twilio\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON list of signatures")
}
