//! Templated instruction values through the compiled function, with callbacks signed by Twilio's
//! Python helper: a task attribute (often what a customer typed) fills a URL only as data, never
//! as its host or as parameters of its own.

use serde_json::{Value, json};
use taskrouter_lambda::form::FormParams;

use crate::support::twilio::{self, ToSign};
use crate::support::{DEV_TOKEN, Function};

/// The voice fixture: a call queued with `<Enqueue>`, routed to a worker.
const VOICE: &str = "assignment-http-api-voice";
/// The fixture's call and reservation.
const CALL_SID: &str = "CA9123456789abcdef9123456789abcdef";
const RESERVATION_SID: &str = "WR6123456789abcdef6123456789abcdef";

/// A document whose one rule redirects every call to `url`.
fn redirect(url: &str) -> String {
    json!({"rules": [{
        "name": "redirect-to-twiml",
        "when": "call_sid != null",
        "instruction": {"instruction": "redirect", "call_sid": "{{task.call_sid}}", "url": url, "accept": true}
    }]})
    .to_string()
}

/// The voice callback with these task attributes, signed with the development token.
fn voice_callback(task: &Value) -> Value {
    let params = twilio::with(&twilio::params(VOICE), "TaskAttributes", &task.to_string());
    twilio::signed_events(&[ToSign {
        fixture: VOICE,
        params,
        token: DEV_TOKEN,
    }])
    .remove(0)
}

#[tokio::test]
async fn a_task_attribute_cannot_add_query_parameters_or_path_segments_to_a_redirect_url() {
    let rules = redirect(
        "https://twiml.example.com/connect/{{task.queue}}?step={{task.step}}&reservation={{callback.ReservationSid}}",
    );
    let function = Function::start(&[("ASSIGNMENT_RULES", rules.as_str())]).await;
    // What a caller could have typed into an IVR or a chat form.
    let queue = "sales/../admin?debug=1#";
    let step = "1&next=https://evil.example/twiml#top";
    let answer = function
        .http(voice_callback(
            &json!({"call_sid": CALL_SID, "queue": queue, "step": step}),
        ))
        .await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, function.output());
    let body = answer.json();
    assert_eq!(body["instruction"], "redirect", "{body}");
    let url = body["url"].as_str().expect("a URL");
    assert_eq!(
        url,
        format!(
            "https://twiml.example.com/connect/sales%2F..%2Fadmin%3Fdebug%3D1%23?step=1%26next%3Dhttps://evil.example/twiml%23top&reservation={RESERVATION_SID}"
        ),
        "each value percent-encoded for the part of the URL it lands in"
    );
    // Read back as TwiML's server would: the same host, one path segment, two parameters.
    let (path, query) = url
        .strip_prefix("https://twiml.example.com/connect/")
        .and_then(|rest| rest.split_once('?'))
        .expect("the host and the path prefix are the document's");
    assert_eq!(
        percent_encoding::percent_decode_str(path).decode_utf8_lossy(),
        queue,
        "the attribute is one path segment"
    );
    let pairs: Vec<(String, String)> = FormParams::parse(query.as_bytes())
        .expect("a query string")
        .pairs()
        .to_vec();
    assert_eq!(
        pairs,
        [
            ("step".to_owned(), step.to_owned()),
            ("reservation".to_owned(), RESERVATION_SID.to_owned())
        ],
        "the attribute is one parameter's value"
    );
}

#[tokio::test]
async fn a_template_that_could_move_a_redirect_urls_host_stops_the_function_at_start() {
    for (url, place) in [
        (
            "https://twiml.example.com{{task.path}}",
            "directly after the host",
        ),
        ("{{task.twiml_url}}", "the whole URL"),
        (
            "https://{{task.region}}.twiml.example.com/connect",
            "in the host",
        ),
    ] {
        let rules = redirect(url);
        let mut function = Function::start(&[("ASSIGNMENT_RULES", rules.as_str())]).await;
        let code = function.exit_code().await;
        let output = function.output();
        assert_ne!(code, Some(0), "{place}: {output}");
        assert!(
            output.contains("rules[0] (`redirect-to-twiml`), `instruction`: `url`")
                && output.contains("cannot fill the scheme or the host")
                && output.contains("{{raw "),
            "{place}: the message names the rule, the field and the way out:\n{output}"
        );
    }
}

#[tokio::test]
async fn a_raw_template_lets_a_trusted_attribute_choose_the_whole_url() {
    let rules = redirect("{{raw task.twiml_url}}");
    let function = Function::start(&[("ASSIGNMENT_RULES", rules.as_str())]).await;
    let chosen = "https://other.example.com/twiml?queue=sales&step=2";
    let answer = function
        .http(voice_callback(
            &json!({"call_sid": CALL_SID, "twiml_url": chosen}),
        ))
        .await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, function.output());
    assert_eq!(answer.json()["url"], chosen, "inserted as it is");
}
