//! Callbacks signed by Twilio's official Python helper (`twilio.request_validator`), accepted by
//! the compiled function for every deployment topology; tampered ones refused.
//!
//! The signatures come from a different implementation than the function's own, so these tests
//! would catch a shared misunderstanding of the algorithm that unit tests cannot. They need
//! `pip install twilio` (the Makefile's `tools` target and CI install it) and fail, not skip,
//! without it.

use base64::Engine;
use serde_json::{Value, json};
use taskrouter_lambda::form::FormParams;

use crate::support::twilio::{self, ASSIGNMENT, HTTP_API};
use crate::support::{DEV_TOKEN, Function, fixture};

const ROUTE: &str = "/taskrouter/assignment_callback";

/// An HTTP API (payload 2.0) event for `domain` + `raw_path` on `stage`, carrying `params`.
fn http_api_event(
    domain: &str,
    stage: &str,
    raw_path: &str,
    query: &str,
    params: &FormParams,
    signature: &str,
) -> Value {
    let mut event = fixture("assignment-http-api");
    event["rawPath"] = json!(raw_path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["domainName"] = json!(domain);
    event["requestContext"]["stage"] = json!(stage);
    event["requestContext"]["http"]["path"] = json!(raw_path);
    event["headers"]["host"] = json!(domain);
    event["headers"]["x-twilio-signature"] = json!(signature);
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(params.encode()));
    event
}

/// A REST API (payload 1.0) event whose context path (stage or base-path mapping included) is
/// `context_path`.
fn rest_api_event(domain: &str, context_path: &str, params: &FormParams, signature: &str) -> Value {
    let mut event = fixture("assignment-rest-api");
    event["requestContext"]["domainName"] = json!(domain);
    event["requestContext"]["path"] = json!(context_path);
    event["headers"]["Host"] = json!(domain);
    event["headers"]["X-Twilio-Signature"] = json!(signature);
    event["multiValueHeaders"]["Host"] = json!([domain]);
    event["multiValueHeaders"]["X-Twilio-Signature"] = json!([signature]);
    event["body"] = json!(params.encode());
    event
}

/// One deployment topology: how the function is configured, the URL Twilio calls, and the event
/// API Gateway (or the local tools) deliver for it.
struct Topology {
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    url: String,
    event: fn(&FormParams, &str) -> Value,
}

const REST_API: &str = "rst456hijk.execute-api.us-east-1.amazonaws.com";
const FUNCTION_URL: &str = "fnurl7890abcdefghijklmnopqrstuv.lambda-url.us-east-1.on.aws";

fn topologies() -> Vec<Topology> {
    vec![
        Topology {
            name: "HTTP API, default stage",
            env: &[],
            url: format!("https://{HTTP_API}{ROUTE}"),
            event: |p, s| http_api_event(HTTP_API, "$default", ROUTE, "", p, s),
        },
        Topology {
            name: "HTTP API, named stage",
            env: &[],
            url: format!("https://{HTTP_API}/live{ROUTE}"),
            event: |p, s| http_api_event(HTTP_API, "live", &format!("/live{ROUTE}"), "", p, s),
        },
        Topology {
            name: "HTTP API with a query string in the callback URL",
            env: &[],
            url: format!("https://{HTTP_API}{ROUTE}?tenant=acme&region=us1"),
            event: |p, s| {
                http_api_event(HTTP_API, "$default", ROUTE, "tenant=acme&region=us1", p, s)
            },
        },
        Topology {
            name: "REST API, stage Prod",
            env: &[],
            url: format!("https://{REST_API}/Prod{ROUTE}"),
            event: |p, s| rest_api_event(REST_API, &format!("/Prod{ROUTE}"), p, s),
        },
        Topology {
            name: "REST API on a custom domain with a base-path mapping",
            env: &[],
            url: format!("https://api.example.com/contact-center{ROUTE}"),
            event: |p, s| {
                rest_api_event("api.example.com", &format!("/contact-center{ROUTE}"), p, s)
            },
        },
        Topology {
            name: "HTTP API on a custom domain with a base-path mapping, via PUBLIC_BASE_URL",
            env: &[("PUBLIC_BASE_URL", "https://api.example.com/contact-center")],
            url: format!("https://api.example.com/contact-center{ROUTE}"),
            event: |p, s| http_api_event("api.example.com", "$default", ROUTE, "", p, s),
        },
        Topology {
            name: "Lambda function URL",
            env: &[],
            url: format!("https://{FUNCTION_URL}{ROUTE}"),
            event: |p, s| {
                let mut event = http_api_event(FUNCTION_URL, "$default", ROUTE, "", p, s);
                event["routeKey"] = json!("$default");
                event
            },
        },
        Topology {
            name: "cargo lambda watch behind an ngrok tunnel, via PUBLIC_BASE_URL",
            env: &[("PUBLIC_BASE_URL", "https://abcd-1-2-3-4.ngrok-free.app")],
            url: format!("https://abcd-1-2-3-4.ngrok-free.app{ROUTE}"),
            // `cargo lambda watch` reports the constant domain name `localhost`; the tunnel passes
            // its own host on and says the public scheme was https.
            event: |p, s| {
                let mut event = http_api_event("localhost", "$default", ROUTE, "", p, s);
                event["headers"]["host"] = json!("abcd-1-2-3-4.ngrok-free.app");
                event["headers"]["x-forwarded-proto"] = json!("https");
                event
            },
        },
    ]
}

#[tokio::test]
async fn callbacks_signed_by_twilios_python_helper_are_accepted_in_every_topology() {
    let params = twilio::params(ASSIGNMENT);
    let topologies = topologies();
    let cases: Vec<(&str, &str, &FormParams)> = topologies
        .iter()
        .map(|t| (DEV_TOKEN, t.url.as_str(), &params))
        .collect();
    let signatures = twilio::signatures(&cases);
    for (topology, signature) in topologies.iter().zip(&signatures) {
        let function = Function::start(topology.env).await;
        let answer = function.http((topology.event)(&params, signature)).await;
        assert_eq!(
            answer.status,
            200,
            "{}: {} (signed for {})\n{}",
            topology.name,
            answer.body,
            topology.url,
            function.output()
        );
        assert_eq!(answer.body, "{}", "{}", topology.name);
    }
}

#[tokio::test]
async fn tampered_callbacks_signed_by_twilios_python_helper_are_refused() {
    let params = twilio::params(ASSIGNMENT);
    let changed = twilio::with(&params, "TaskPriority", "1000");
    let mut added = params.pairs().to_vec();
    added.push(("Injected".to_owned(), "1".to_owned()));
    let added = FormParams::from_pairs(added);
    let url = format!("https://{HTTP_API}{ROUTE}");

    let signatures = twilio::signatures(&[
        (DEV_TOKEN, &url, &params),
        (DEV_TOKEN, &format!("http://{HTTP_API}{ROUTE}"), &params),
        ("not-the-dev-token", &url, &params),
    ]);
    let (good, wrong_url, wrong_token) = (&signatures[0], &signatures[1], &signatures[2]);

    let function = Function::start(&[]).await;
    let cases = [
        (
            "a changed parameter",
            http_api_event(HTTP_API, "$default", ROUTE, "", &changed, good),
        ),
        (
            "an added parameter",
            http_api_event(HTTP_API, "$default", ROUTE, "", &added, good),
        ),
        (
            "signed for another URL (http)",
            http_api_event(HTTP_API, "$default", ROUTE, "", &params, wrong_url),
        ),
        (
            "signed with another token",
            http_api_event(HTTP_API, "$default", ROUTE, "", &params, wrong_token),
        ),
    ];
    for (why, event) in cases {
        let answer = function.http(event).await;
        assert_eq!(answer.status, 403, "{why}: {}", answer.body);
        assert_eq!(answer.json()["error"]["code"], "invalid_signature", "{why}");
    }
    // The untampered request is accepted by the same process: the refusals were about the tampering.
    let answer = function
        .http(http_api_event(
            HTTP_API, "$default", ROUTE, "", &params, good,
        ))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}
