//! A realistic assignment callback, signed, as API Gateway hands it to the function, and rules
//! documents of any length whose matching rule comes last.
//!
//! The parameters are those of docs/taskrouter.md §1, with the attributes a voice task created
//! by `<Enqueue>` carries (Twilio's call parameters plus routing data) and a worker with skills and
//! languages: about 1.7 KB of form body, in the range real callbacks have.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use taskrouter_lambda::signature;

/// The development token the fixtures in `events/` are signed with.
pub(crate) const TOKEN: &str = "local-dev-token";

/// The API Gateway host the callback is addressed to.
pub(crate) const HOST: &str = "abc123defg.execute-api.us-east-1.amazonaws.com";

/// The route of the assignment callback.
pub(crate) const ROUTE: &str = "/taskrouter/assignment_callback";

/// The URL TaskRouter signs: the Workflow's `AssignmentCallbackUrl`.
pub(crate) fn url() -> String {
    format!("https://{HOST}{ROUTE}")
}

/// The decoded form parameters of the callback, in the order TaskRouter sends them.
pub(crate) fn params() -> Vec<(String, String)> {
    let task = json!({
        "type": "support",
        "required_skill": "billing",
        "priority_reason": "callback-requested",
        "from": "+14155550100",
        "to": "+14155550199",
        "called": "+14155550199",
        "call_sid": "CA0123456789abcdef0123456789abcdef",
        "account_sid": "AC0123456789abcdef0123456789abcdef",
        "api_version": "2010-04-01",
        "direction": "inbound",
        "caller_country": "US",
        "caller_state": "CA",
        "caller_city": "SAN FRANCISCO",
        "caller_zip": "94103",
        "called_country": "US",
        "called_state": "CA",
        "customer": {"id": "cust_0042", "name": "Dana Reyes", "tier": "gold", "language": "es"},
        "conversations": {"segment_link": "https://example.com/c/0042", "queue_time": 37}
    });
    let worker = json!({
        "contact_uri": "client:alice",
        "full_name": "Alice Example",
        "email": "alice@example.com",
        "skills": ["billing", "support", "returns"],
        "languages": ["en", "es"],
        "level": 3,
        "team": "emea-2",
        "routing": {"skills": ["billing", "support"], "levels": {"billing": 3, "support": 2}}
    });
    [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("WorkspaceSid", "WS1123456789abcdef1123456789abcdef"),
        ("WorkflowSid", "WW2123456789abcdef2123456789abcdef"),
        ("TaskQueueSid", "WQ3123456789abcdef3123456789abcdef"),
        ("WorkerSid", "WK4123456789abcdef4123456789abcdef"),
        ("WorkerAttributes", &worker.to_string()),
        ("TaskSid", "WT5123456789abcdef5123456789abcdef"),
        ("TaskAttributes", &task.to_string()),
        ("TaskAge", "37"),
        ("TaskPriority", "5"),
        ("ReservationSid", "WR6123456789abcdef6123456789abcdef"),
        ("Timestamp", "1795500000"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect()
}

/// The form body TaskRouter posts for `params`.
pub(crate) fn form_body(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// An API Gateway HTTP API (payload 2.0) event carrying `params`, signed with [`TOKEN`] for
/// [`url`], shaped like `events/assignment-http-api.json`: API Gateway base64-encodes form bodies.
pub(crate) fn event(params: &[(String, String)]) -> String {
    let body = form_body(params);
    let signature = signature::sign(TOKEN.as_bytes(), &url(), params);
    json!({
        "version": "2.0",
        "routeKey": format!("POST {ROUTE}"),
        "rawPath": ROUTE,
        "rawQueryString": "",
        "headers": {
            "content-length": body.len().to_string(),
            "content-type": "application/x-www-form-urlencoded",
            "host": HOST,
            "i-twilio-idempotency-token": "c0ffee00-0000-4000-8000-000000000001",
            "user-agent": "TwilioProxy/1.1",
            "x-amzn-trace-id": "Root=1-6742b8a0-0123456789abcdef01234567",
            "x-forwarded-for": "54.172.60.10",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            "x-twilio-signature": signature
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123defg",
            "domainName": HOST,
            "domainPrefix": "abc123defg",
            "http": {
                "method": "POST",
                "path": ROUTE,
                "protocol": "HTTP/1.1",
                "sourceIp": "54.172.60.10",
                "userAgent": "TwilioProxy/1.1"
            },
            "requestId": "Xy1AbCdEfGhIjKl=",
            "routeKey": format!("POST {ROUTE}"),
            "stage": "$default",
            "time": "24/Nov/2026:06:00:00 +0000",
            "timeEpoch": 1_795_500_000_000_u64
        },
        "isBase64Encoded": true,
        "body": STANDARD.encode(body)
    })
    .to_string()
}

/// The body the last rule of [`rules`] answers [`params`] with.
pub(crate) const MATCHED_BODY: &str = r#"{"instruction":"dequeue","to":"client:alice","from":"+14155550199","post_work_activity_sid":"WA00000000000000000000000000000000"}"#;

/// A rules document of `count` rules (at least 1) in which only the last matches [`params`].
///
/// The rules that do not match are of three shapes, in turn: one that fails on its first
/// comparison, one that evaluates both sides of an `OR` before failing, and one that reads a
/// callback parameter and an array. The last rule is `voice-dequeue.json`'s, with a
/// templated instruction, so the decision fills and validates an instruction.
pub(crate) fn rules(count: usize) -> String {
    let mut rules: Vec<serde_json::Value> = (0..count.saturating_sub(1))
        .map(|i| {
            let when = match i % 3 {
                0 => format!("type == 'sales-{i}' AND worker.skills HAS 'sales'"),
                1 => format!(
                    "customer.tier IN ['tier-{i}', 'trial'] OR worker.languages HAS 'lang-{i}'"
                ),
                _ => format!(
                    "callback.TaskQueueSid == 'WQ{i:032}' AND task.required_skill IN worker.skills"
                ),
            };
            json!({"name": format!("rule-{i}"), "when": when, "instruction": {"instruction": "accept"}})
        })
        .collect();
    rules.push(json!({
        "name": "dequeue-skilled-voice-call",
        "when": "call_sid != null AND task.required_skill IN worker.skills AND customer.tier IN ['gold', 'platinum']",
        "instruction": {
            "instruction": "dequeue",
            "to": "{{worker.contact_uri}}",
            "from": "{{task.to}}",
            "post_work_activity_sid": "WA00000000000000000000000000000000"
        }
    }));
    json!({"rules": rules, "default": {"instruction": "accept"}}).to_string()
}

/// The REST API (payload 1.0) the requests of [`rest_api_event`] arrive through: its default
/// execute-api host and stage.
pub(crate) const REST_API_HOST: &str = "rst456hijk.execute-api.us-east-1.amazonaws.com";

/// Four query parameters, one with a space, so each order is a different query in both
/// encodings a REST API event forces the function to try (`+` and `%20`): 4! × 2 = 48 queries.
pub(crate) const FOUR_QUERY_PAIRS: [(&str, &str); 4] = [
    ("tenant", "acme"),
    ("region", "us1"),
    ("team", "tier 2"),
    ("mode", "strict"),
];

/// A well-formed `X-Twilio-Signature` that is nobody's: the base64 of 20 zero bytes, what
/// anyone can send without a token.
pub(crate) const FORGED_SIGNATURE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// A form body of exactly `bytes` bytes (at least 9) whose one parameter, `Padding`, holds
/// nearly all of it: the signing string is as long as the body, so every HMAC over it is too.
pub(crate) fn one_large_parameter(bytes: usize) -> String {
    format!("Padding={}", "x".repeat(bytes - "Padding=".len()))
}

/// A form body of exactly `bytes` bytes (even) of one-letter parameters, `a&a&…`: the most
/// pairs, so the most memory, a body of that length can make a form parser hold.
pub(crate) fn many_tiny_parameters(bytes: usize) -> String {
    "a&".repeat(bytes / 2)
}

/// A REST API (payload 1.0) event on [`REST_API_HOST`], stage `Prod`, shaped like
/// `events/assignment-rest-api.json`: `body` as text (REST APIs do not base64-encode form bodies),
/// `query` in both query maps, `signature` in `X-Twilio-Signature` or no such header.
pub(crate) fn rest_api_event(
    body: &str,
    query: &[(&str, &str)],
    signature: Option<&str>,
) -> String {
    let mut headers = json!({
        "Content-Type": "application/x-www-form-urlencoded",
        "Host": REST_API_HOST,
        "User-Agent": "TwilioProxy/1.1",
        "X-Forwarded-For": "54.172.60.10",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https"
    });
    if let Some(signature) = signature {
        headers["X-Twilio-Signature"] = json!(signature);
    }
    let multi_value_headers: serde_json::Map<String, serde_json::Value> = headers
        .as_object()
        .expect("an object")
        .iter()
        .map(|(name, value)| (name.clone(), json!([value])))
        .collect();
    let (single, multi) = if query.is_empty() {
        (serde_json::Value::Null, serde_json::Value::Null)
    } else {
        (
            query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect(),
            query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!([v])))
                .collect(),
        )
    };
    json!({
        "resource": ROUTE,
        "path": ROUTE,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "queryStringParameters": single,
        "multiValueQueryStringParameters": multi,
        "pathParameters": null,
        "stageVariables": null,
        "requestContext": {
            "resourceId": "a1b2c3",
            "resourcePath": ROUTE,
            "httpMethod": "POST",
            "requestTime": "24/Nov/2026:06:00:00 +0000",
            "path": format!("/Prod{ROUTE}"),
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "Prod",
            "domainPrefix": "rst456hijk",
            "requestTimeEpoch": 1_795_500_000_000_u64,
            "requestId": "5f0e1c2d-0000-4000-8000-000000000002",
            "identity": {"sourceIp": "54.172.60.10", "userAgent": "TwilioProxy/1.1"},
            "domainName": REST_API_HOST,
            "apiId": "rst456hijk"
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

/// `event` (a [`rest_api_event`]) moved to a custom domain whose base-path mapping
/// `/contact-center` leads to the API: the function then has two paths to try.
pub(crate) fn on_custom_domain(event: &str) -> String {
    let mut event: serde_json::Value = serde_json::from_str(event).expect("the event is JSON");
    let domain = "api.example.com";
    event["headers"]["Host"] = domain.into();
    event["multiValueHeaders"]["Host"] = json!([domain]);
    event["requestContext"]["domainName"] = domain.into();
    event["requestContext"]["path"] = format!("/contact-center{ROUTE}").into();
    event.to_string()
}
