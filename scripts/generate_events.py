#!/usr/bin/env python3
"""Writes the API Gateway event fixtures in events/.

Each fixture is a complete event as API Gateway (HTTP API payload 2.0, REST API payload 1.0) or a
Lambda function URL delivers it. Signatures are made with Twilio's official helper library
(`twilio.request_validator.RequestValidator`) for the development token, so the fixtures are an
independent check of the function's own verification and `cargo lambda invoke --data-file` gets a
real answer from a function started with `make run`.

Run `make events` (or `python3 scripts/generate_events.py`) after changing this file; the test
suite checks every fixture's documented outcome (tests/function/fixtures.rs).
"""

import base64
import json
import pathlib
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

DEV_TOKEN = "local-dev-token"
OUT = pathlib.Path(__file__).resolve().parent.parent / "events"

HTTP_API = "abc123defg.execute-api.us-east-1.amazonaws.com"
REST_API = "rst456hijk.execute-api.us-east-1.amazonaws.com"
FUNCTION_URL = "fnurl7890abcdefghijklmnopqrstuv.lambda-url.us-east-1.on.aws"
ASSIGNMENT = "/taskrouter/assignment_callback"
EVENTS = "/taskrouter/events"

ACCOUNT = "AC" + "0123456789abcdef" * 2
WORKSPACE = "WS" + "1123456789abcdef" * 2
WORKFLOW = "WW" + "2123456789abcdef" * 2
QUEUE = "WQ" + "3123456789abcdef" * 2
WORKER = "WK" + "4123456789abcdef" * 2
TASK = "WT" + "5123456789abcdef" * 2
RESERVATION = "WR" + "6123456789abcdef" * 2
ACTIVITY = "WA" + "7123456789abcdef" * 2
CHANNEL = "TC" + "8123456789abcdef" * 2
CALL = "CA" + "9123456789abcdef" * 2

WORKER_ATTRIBUTES = {
    "contact_uri": "client:alice",
    "skills": ["billing", "support"],
    "languages": ["en", "es"],
    "phone": "+14155550111",
}
CHAT_TASK = {"type": "chat", "channel": "web", "customer_name": "Dana Reyes", "required_skill": "billing"}
VOICE_TASK = {
    "call_sid": CALL,
    "account_sid": ACCOUNT,
    "from": "+14155550100",
    "to": "+18005550199",
    "caller": "+14155550100",
    "called": "+18005550199",
    "direction": "inbound",
    "call_status": "in-progress",
    "type": "voice",
}


def assignment_params(task=CHAT_TASK):
    """The parameters of an assignment callback, in the order TaskRouter lists them."""
    return [
        ("AccountSid", ACCOUNT),
        ("WorkspaceSid", WORKSPACE),
        ("WorkflowSid", WORKFLOW),
        ("TaskQueueSid", QUEUE),
        ("WorkerSid", WORKER),
        ("WorkerAttributes", json.dumps(WORKER_ATTRIBUTES, separators=(",", ":"))),
        ("TaskSid", TASK),
        ("TaskAttributes", json.dumps(task, separators=(",", ":"))),
        ("TaskAge", "37"),
        ("TaskPriority", "5"),
        ("ReservationSid", RESERVATION),
        ("Timestamp", "1795500000"),
    ]


def event_params(event_type, resource_type, resource_sid, extra):
    return [
        ("EventType", event_type),
        ("AccountSid", ACCOUNT),
        ("WorkspaceSid", WORKSPACE),
        ("WorkspaceName", "Contact Center"),
        ("EventDescription", f"{resource_type} {resource_sid} {event_type}"),
        ("ResourceType", resource_type),
        ("ResourceSid", resource_sid),
        ("Timestamp", "1795500001"),
        ("Sid", "EV" + "a123456789abcdef" * 2),
    ] + extra


RESERVATION_FIELDS = [
    ("TaskSid", TASK),
    ("TaskAttributes", json.dumps(VOICE_TASK, separators=(",", ":"))),
    ("TaskAge", "41"),
    ("TaskPriority", "5"),
    ("TaskAssignmentStatus", "assigned"),
    ("TaskChannelSid", CHANNEL),
    ("TaskChannelUniqueName", "voice"),
    ("TaskQueueSid", QUEUE),
    ("TaskQueueName", "Billing"),
    ("WorkflowSid", WORKFLOW),
    ("WorkflowName", "Default"),
    ("WorkerSid", WORKER),
    ("WorkerName", "alice"),
    ("WorkerAttributes", json.dumps(WORKER_ATTRIBUTES, separators=(",", ":"))),
    ("WorkerActivitySid", ACTIVITY),
    ("WorkerActivityName", "Busy"),
    ("ReservationSid", RESERVATION),
]


def sign(url, params, token=DEV_TOKEN):
    # The fixtures repeat no key, so a plain dict carries every parameter.
    return RequestValidator(token).compute_signature(url, dict(params))


def http_api(domain, path, body, signature, *, query="", method="POST",
             content_type="application/x-www-form-urlencoded", function_url=False,
             base64_body=True):
    headers = {
        "content-length": str(len(body.encode())),
        "host": domain,
        "i-twilio-idempotency-token": "c0ffee00-0000-4000-8000-000000000001",
        "user-agent": "TwilioProxy/1.1",
        "x-amzn-trace-id": "Root=1-6742b8a0-0123456789abcdef01234567",
        "x-forwarded-for": "54.172.60.10",
        "x-forwarded-proto": "https",
    }
    if not function_url:
        headers["x-forwarded-port"] = "443"
    if content_type is not None:
        headers["content-type"] = content_type
    if signature is not None:
        headers["x-twilio-signature"] = signature
    api_id = domain.split(".")[0]
    route_key = "$default" if function_url else f"POST {path}"
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous" if function_url else "123456789012",
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "54.172.60.10",
                "userAgent": "TwilioProxy/1.1",
            },
            "requestId": "Xy1AbCdEfGhIjKl=",
            "routeKey": route_key,
            "stage": "$default",
            "time": "24/Nov/2026:06:00:00 +0000",
            "timeEpoch": 1795500000000,
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(pair.split("=", 1) for pair in query.split("&"))
    if body:
        event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
    return event


def rest_api(domain, stage, path, body, signature):
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Host": domain,
        "User-Agent": "TwilioProxy/1.1",
        "X-Amzn-Trace-Id": "Root=1-6742b8a0-0123456789abcdef01234567",
        "X-Forwarded-For": "54.172.60.10",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        "X-Twilio-Signature": signature,
    }
    api_id = domain.split(".")[0]
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3",
            "resourcePath": path,
            "httpMethod": "POST",
            "extendedRequestId": "Xy1AbCdEfGhIjKl=",
            "requestTime": "24/Nov/2026:06:00:00 +0000",
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": api_id,
            "requestTimeEpoch": 1795500000000,
            "requestId": "5f0e1c2d-0000-4000-8000-000000000002",
            "identity": {"sourceIp": "54.172.60.10", "userAgent": "TwilioProxy/1.1"},
            "domainName": domain,
            "apiId": api_id,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def signed_http_api(path, params, **options):
    domain = options.pop("domain", HTTP_API)
    query = options.get("query", "")
    url = f"https://{domain}{path}" + (f"?{query}" if query else "")
    return http_api(domain, path, urlencode(params), sign(url, params), **options)


def without(params, key):
    return [(k, v) for k, v in params if k != key]


def replaced(params, key, value):
    return [(k, value if k == key else v) for k, v in params]


def fixtures():
    valid = assignment_params()
    voice = assignment_params(VOICE_TASK)
    rest_body = urlencode(valid)
    yield "assignment-http-api", signed_http_api(ASSIGNMENT, valid)
    yield "assignment-http-api-voice", signed_http_api(ASSIGNMENT, voice)
    yield "assignment-http-api-query-string", signed_http_api(ASSIGNMENT, valid, query="tenant=acme&region=us1")
    yield "assignment-rest-api", rest_api(
        REST_API, "Prod", ASSIGNMENT, rest_body,
        sign(f"https://{REST_API}/Prod{ASSIGNMENT}", valid),
    )
    yield "assignment-function-url", signed_http_api(ASSIGNMENT, valid, domain=FUNCTION_URL, function_url=True)

    yield "assignment-missing-task-sid", signed_http_api(ASSIGNMENT, without(valid, "TaskSid"))
    yield "assignment-malformed-worker-sid", signed_http_api(ASSIGNMENT, replaced(valid, "WorkerSid", "WK123"))
    yield "assignment-attributes-not-object", signed_http_api(ASSIGNMENT, replaced(valid, "TaskAttributes", '["voice"]'))
    yield "assignment-age-not-integer", signed_http_api(ASSIGNMENT, replaced(valid, "TaskAge", "forty"))
    yield "assignment-empty-body", http_api(HTTP_API, ASSIGNMENT, "", sign(f"https://{HTTP_API}{ASSIGNMENT}", []))
    json_body = json.dumps(dict(valid))
    yield "assignment-json-content-type", http_api(
        HTTP_API, ASSIGNMENT, json_body, sign(f"https://{HTTP_API}{ASSIGNMENT}", []),
        content_type="application/json",
    )
    yield "assignment-unsigned", http_api(HTTP_API, ASSIGNMENT, urlencode(valid), None)
    tampered = signed_http_api(ASSIGNMENT, valid)
    tampered["body"] = base64.b64encode(urlencode(replaced(valid, "TaskPriority", "500")).encode()).decode()
    yield "assignment-tampered-parameter", tampered
    yield "assignment-signed-for-another-url", http_api(
        HTTP_API, ASSIGNMENT, urlencode(valid), sign(f"https://attacker.example.com{ASSIGNMENT}", valid),
    )
    yield "assignment-get-method", http_api(HTTP_API, ASSIGNMENT, "", None, method="GET", content_type=None)
    yield "unknown-route", signed_http_api("/taskrouter/assignment", valid)
    # Events lambda_http cannot turn into a request (it panics; the function answers 400
    # malformed_event). API Gateway itself does not send these, but hand-made test events do.
    broken = signed_http_api(ASSIGNMENT, valid)
    broken["body"] = "this is not base64!"
    yield "assignment-body-not-base64", broken
    bad_host = signed_http_api(ASSIGNMENT, valid)
    bad_host["headers"]["host"] = "^" + HTTP_API
    yield "assignment-host-not-a-host", bad_host
    yield "assignment-query-string-with-space", signed_http_api(ASSIGNMENT, valid, query="tenant=acme corp")
    rest_bad_host = rest_api(REST_API, "Prod", ASSIGNMENT, rest_body, sign(f"https://{REST_API}/Prod{ASSIGNMENT}", valid))
    rest_bad_host["headers"]["Host"] = "abc{def}.example.com"
    rest_bad_host["multiValueHeaders"]["Host"] = ["abc{def}.example.com"]
    yield "assignment-rest-api-host-not-a-host", rest_bad_host
    # No host at all and a path that makes `http://localhost{path}` no URL (a port out of range).
    no_host = signed_http_api(ASSIGNMENT, valid)
    del no_host["headers"]["host"]
    del no_host["requestContext"]["domainName"]
    no_host["rawPath"] = ":99999" + ASSIGNMENT
    yield "assignment-no-host-path-not-a-url", no_host

    yield "event-reservation-accepted", signed_http_api(
        EVENTS, event_params("reservation.accepted", "reservation", RESERVATION, RESERVATION_FIELDS))
    yield "event-reservation-timeout", signed_http_api(
        EVENTS, event_params("reservation.timeout", "reservation", RESERVATION, RESERVATION_FIELDS))
    yield "event-task-created", signed_http_api(
        EVENTS, event_params("task.created", "task", TASK, RESERVATION_FIELDS[:9]))
    yield "event-worker-activity-update", signed_http_api(
        EVENTS, event_params("worker.activity.update", "worker", WORKER, [
            ("WorkerSid", WORKER),
            ("WorkerName", "alice"),
            ("WorkerAttributes", json.dumps(WORKER_ATTRIBUTES, separators=(",", ":"))),
            ("WorkerActivitySid", ACTIVITY),
            ("WorkerActivityName", "Available"),
            ("WorkerPreviousActivitySid", "WA" + "b123456789abcdef" * 2),
            ("WorkerPreviousActivityName", "Offline"),
            ("WorkerTimeInPreviousActivity", "3600"),
        ]))
    yield "event-unknown-type", signed_http_api(
        EVENTS, event_params("task-queue.future-event", "task-queue", QUEUE, [("TaskQueueSid", QUEUE)]))
    yield "event-missing-event-type", signed_http_api(
        EVENTS, without(event_params("task.created", "task", TASK, []), "EventType"))


def main():
    OUT.mkdir(exist_ok=True)
    names = set()
    for name, event in fixtures():
        names.add(f"{name}.json")
        (OUT / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
    for stale in OUT.glob("*.json"):
        if stale.name not in names:
            stale.unlink()
    print(f"wrote {len(names)} fixtures to {OUT}")


if __name__ == "__main__":
    main()
