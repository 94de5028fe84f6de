//! What a request that carries no valid signature can make the compiled function do: the header
//! is looked at before the body, a body larger than any TaskRouter callback is refused `413`
//! without being parsed, and the query orders a REST API event forces the function to try are
//! bounded, while every callback Twilio signs still verifies.

use serde_json::{Value, json};
use taskrouter_lambda::form::{FormParams, MAX_BODY_BYTES};
use taskrouter_lambda::public_url::REORDERED_QUERY_BUDGET;

use crate::support::twilio::{self, ASSIGNMENT};
use crate::support::{DEV_TOKEN, Function, fixture};

const ROUTE: &str = "/taskrouter/assignment_callback";
/// The custom domain of the REST API events here, whose base-path mapping leads to the API: the
/// function has two paths to try, the mapped one first.
const DOMAIN: &str = "api.example.com";
/// The URL Twilio calls through [`DOMAIN`], without its query.
const MAPPED: &str = "https://api.example.com/contact-center/taskrouter/assignment_callback";
/// The secondary token of the deployments here: two tokens to try.
const SECONDARY: &str = "the-secondary-token";
/// A well-formed signature that is nobody's (the base64 of 20 zero bytes).
const FORGED: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=";
/// The query of the callback URLs here, as the REST API hands it over: decoded, order lost.
const QUERY: [(&str, &str); 4] = [
    ("tenant", "acme"),
    ("region", "us1"),
    ("team", "tier 2"),
    ("mode", "strict"),
];

/// A REST API (payload 1.0) event on [`DOMAIN`] carrying `body` (as text, as REST APIs pass form
/// bodies), `query` in both query maps and `signature`, if any, in `X-Twilio-Signature`.
fn rest_api_event(body: &str, query: &[(&str, &str)], signature: Option<&str>) -> Value {
    let mut event = fixture("assignment-rest-api");
    event["requestContext"]["domainName"] = json!(DOMAIN);
    event["requestContext"]["path"] = json!(format!("/contact-center{ROUTE}"));
    event["headers"]["Host"] = json!(DOMAIN);
    event["multiValueHeaders"]["Host"] = json!([DOMAIN]);
    for (map, value) in [
        ("headers", json!(signature)),
        ("multiValueHeaders", json!([signature])),
    ] {
        let headers = event[map].as_object_mut().expect("a header map");
        headers.remove("X-Twilio-Signature");
        if signature.is_some() {
            headers.insert("X-Twilio-Signature".to_owned(), value);
        }
    }
    if !query.is_empty() {
        event["queryStringParameters"] = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        event["multiValueQueryStringParameters"] = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!([v])))
            .collect();
    }
    event["body"] = json!(body);
    event
}

/// The fixture's assignment callback with a `Padding` parameter that makes its form body exactly
/// `bytes` long.
fn callback_of_size(bytes: usize) -> FormParams {
    let params = twilio::params(ASSIGNMENT);
    let base = params.encode().len() + "&Padding=".len();
    let mut pairs = params.pairs().to_vec();
    pairs.push(("Padding".to_owned(), "x".repeat(bytes - base)));
    let padded = FormParams::from_pairs(pairs);
    assert_eq!(padded.encode().len(), bytes, "the padding is exact");
    padded
}

/// `QUERY` in the order `order`, encoded as `+` for a space (a form, a browser) or `%20`.
fn query_string(order: &[usize], plus_for_space: bool) -> String {
    order
        .iter()
        .map(|&i| {
            let (key, value) = QUERY[i];
            let value = if plus_for_space {
                value.replace(' ', "+")
            } else {
                value.replace(' ', "%20")
            };
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Every order of `0..4`.
fn orders() -> Vec<Vec<usize>> {
    let mut all = Vec::new();
    for a in 0..4 {
        for b in (0..4).filter(|&b| b != a) {
            for c in (0..4).filter(|&c| c != a && c != b) {
                let d = 6 - a - b - c;
                all.push(vec![a, b, c, d]);
            }
        }
    }
    all
}

/// A number written just before `marker` in `text`: `N` of "… N URL(s) tried".
fn number_before(text: &str, marker: &str) -> Option<usize> {
    let before = &text[..text.find(marker)?];
    let digits: String = before
        .chars()
        .rev()
        .skip_while(|c| c.is_whitespace())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

#[tokio::test]
async fn a_request_without_a_usable_signature_header_is_refused_before_its_body_is_read() {
    let function = Function::start(&[]).await;
    // Each body would be refused `400` if it were parsed: the header decides first.
    let cases = [
        (
            "no header, a body that is not UTF-8",
            "A=%FF",
            None,
            403,
            "missing_signature",
        ),
        (
            "no header, an empty body",
            "",
            None,
            403,
            "missing_signature",
        ),
        (
            "a header that is not the base64 of 20 bytes, a body that is not UTF-8",
            "A=%FF",
            Some("not base64!"),
            403,
            "invalid_signature",
        ),
        (
            "a header that is not the base64 of 20 bytes, an empty body",
            "",
            Some("RSOYDt4T1cUTdK1PDd93/VVr8B8"),
            403,
            "invalid_signature",
        ),
        // The control: a well-formed header lets the body be read, and it is refused for itself.
        (
            "a well-formed header, a body that is not UTF-8",
            "A=%FF",
            Some(FORGED),
            400,
            "invalid_form",
        ),
    ];
    for (case, body, signature, status, code) in cases {
        let answer = function.http(rest_api_event(body, &[], signature)).await;
        assert_eq!(answer.status, status, "{case}: {}", answer.body);
        assert_eq!(answer.json()["error"]["code"], code, "{case}");
    }
}

#[tokio::test]
async fn a_body_larger_than_any_taskrouter_callback_is_refused_413_even_when_signed() {
    let function = Function::start(&[]).await;
    let at_limit = callback_of_size(MAX_BODY_BYTES);
    let over = callback_of_size(MAX_BODY_BYTES + 1);
    let url = format!("https://rst456hijk.execute-api.us-east-1.amazonaws.com/Prod{ROUTE}");
    let signatures = twilio::signatures(&[(DEV_TOKEN, &url, &at_limit), (DEV_TOKEN, &url, &over)]);
    let event = |params: &FormParams, signature: &str| {
        let mut event = fixture("assignment-rest-api");
        event["headers"]["X-Twilio-Signature"] = json!(signature);
        event["multiValueHeaders"]["X-Twilio-Signature"] = json!([signature]);
        event["body"] = json!(params.encode());
        event
    };

    let answer = function.http(event(&over, &signatures[1])).await;
    assert_eq!(
        answer.status, 413,
        "one byte over the limit: {}",
        answer.body
    );
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let error = &answer.json()["error"];
    assert_eq!(error["code"], "body_too_large", "{error}");
    let message = error["message"].as_str().expect("a message");
    assert!(
        message.contains(&(MAX_BODY_BYTES + 1).to_string())
            && message.contains(&MAX_BODY_BYTES.to_string()),
        "the message names the size and the limit: {message}"
    );

    let answer = function.http(event(&at_limit, &signatures[0])).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, "{}"),
        "a callback at the limit is answered by the same process\n{}",
        function.output()
    );
}

#[tokio::test]
async fn a_4_mib_body_without_a_valid_signature_costs_no_more_memory_than_its_event() {
    const MIB: u64 = 1024 * 1024;
    // Two million one-letter pairs: what costs a form parser the most memory per byte.
    let body = "a&".repeat(2 * 1024 * 1024);
    let cases = [
        ("no signature header", None, 403, "missing_signature"),
        (
            "a forged, well-formed signature",
            Some(FORGED),
            413,
            "body_too_large",
        ),
    ];
    for (case, signature, status, code) in cases {
        // A process of its own per case, so each peak is its own; the first callback's one-time
        // allocations (the rules, the logger, …) come before the baseline.
        let function = Function::start(&[]).await;
        let warm = function.http(fixture("assignment-rest-api")).await;
        assert_eq!(warm.status, 200, "{case}: {}", warm.body);
        let before = function.peak_rss_kib();
        let answer = function.http(rest_api_event(&body, &[], signature)).await;
        let grown = function.peak_rss_kib().saturating_sub(before);
        assert_eq!(answer.status, status, "{case}: {}", answer.body);
        assert_eq!(answer.json()["error"]["code"], code, "{case}");
        // Receiving the event holds the body a few times over (the Runtime API's bytes, the
        // deserialised event, the request); parsing it into pairs would take 40 times its size.
        assert!(
            grown * 1024 < 8 * 4 * MIB,
            "{case}: the peak grew by {grown} KiB for a 4 MiB body"
        );
    }
}

#[tokio::test]
async fn every_query_order_and_encoding_signed_by_twilio_still_verifies_with_either_token() {
    let function = Function::start(&[("TWILIO_AUTH_TOKEN_SECONDARY", SECONDARY)]).await;
    let params = twilio::params(ASSIGNMENT);
    let urls: Vec<String> = orders()
        .iter()
        .flat_map(|order| {
            [true, false].map(|plus| format!("{MAPPED}?{}", query_string(order, plus)))
        })
        .collect();
    let cases: Vec<(&str, &str, &FormParams)> = urls
        .iter()
        .flat_map(|url| {
            [
                (DEV_TOKEN, url.as_str(), &params),
                (SECONDARY, url.as_str(), &params),
            ]
        })
        .collect();
    let signatures = twilio::signatures(&cases);
    for ((token, url, _), signature) in cases.iter().zip(&signatures) {
        let token = if *token == DEV_TOKEN {
            "primary"
        } else {
            "secondary"
        };
        let answer = function
            .http(rest_api_event(&params.encode(), &QUERY, Some(signature)))
            .await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, "{}"),
            "signed for {url} with the {token} token\n{}",
            function.output()
        );
    }
}

#[tokio::test]
async fn a_forged_callback_at_the_size_limit_hashes_at_most_the_budget_for_other_query_orders() {
    let function = Function::start(&[
        ("TWILIO_AUTH_TOKEN_SECONDARY", SECONDARY),
        ("RUST_LOG", "info,taskrouter_lambda=debug"),
    ])
    .await;
    let params = callback_of_size(MAX_BODY_BYTES);
    let answer = function
        .http(rest_api_event(&params.encode(), &QUERY, Some(FORGED)))
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(answer.json()["error"]["code"], "invalid_signature");

    let output = function.output();
    let reason = crate::support::json_lines(&output)
        .into_iter()
        .find(|line| line["message"] == "signature check failed")
        .and_then(|line| line["reason"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no debug line with the reason:\n{output}"));
    let tried = number_before(&reason, "URL(s) tried").expect("the count of URLs tried");
    let not_tried = number_before(&reason, "more URL(s) with the query in another order")
        .unwrap_or_else(|| panic!("the reason says what was left untried: {reason}"));
    // Two paths (the mapped one, the bare one), each with the query as received in both
    // encodings, at both port variants: always tried.
    let as_received = 2 * 2 * 2;
    // The 46 other orders and encodings, each at both port variants.
    let reordered_tried = tried - as_received;
    let tokens = 2;
    let signed_bytes: usize = params
        .pairs()
        .iter()
        .map(|(key, value)| key.len() + value.len())
        .sum();
    assert!(
        reordered_tried * tokens * signed_bytes <= REORDERED_QUERY_BUDGET,
        "{reordered_tried} reordered URL variants tried with {tokens} tokens over {signed_bytes} \
         bytes each exceed the budget of {REORDERED_QUERY_BUDGET} bytes: {reason}"
    );
    assert!(
        reordered_tried >= 46 * 2,
        "every order of the most likely path is tried, whatever the size: {reason}"
    );
    assert!(
        not_tried > 0 && (reordered_tried / 2 + not_tried) == 2 * 46,
        "what was not tried is counted ({reordered_tried} variants tried, {not_tried} URLs not): \
         {reason}"
    );
}
