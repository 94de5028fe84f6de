//! The REST client and its commands where Twilio's own behaviour matters and Prism cannot show
//! it (support/standin.rs says why): retries and their bounds, Twilio's error JSON, an update
//! refused and the reservation fetched, `connect` reading back and `--check` against the real
//! function's signature verification. The same operations against Twilio's OpenAPI description
//! are in rest_prism.rs.

use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use taskrouter_lambda::app::App;
use taskrouter_lambda::config::Config;
use taskrouter_lambda::http;
use taskrouter_lambda::metrics::MemorySink;
use taskrouter_lambda::rest::resources::{NewTask, ReservationStatus};
use taskrouter_lambda::rest::{Client, ReservationOf, RestConfig, RestError, RetryPolicy};
use taskrouter_lambda::sid::{ReservationSid, TaskSid, WorkspaceSid};

use crate::support::cli::{self, ACCOUNT, WK, WR, WS, WT, WW, taskrouter_on, text};
use crate::support::standin::{Recorded, Reply, Server, TestCa};

/// A token that must never appear in any output.
const TOKEN: &str = "auth-token-that-must-stay-secret";

/// Retries with delays short enough for tests.
fn quick() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
    }
}

fn config(url: &str) -> RestConfig {
    let vars = [
        ("TWILIO_ACCOUNT_SID", ACCOUNT.to_owned()),
        ("TWILIO_AUTH_TOKEN", TOKEN.to_owned()),
        ("TASKROUTER_API_URL", url.to_owned()),
    ];
    RestConfig::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("a valid configuration")
}

fn client(server: &Server) -> Client {
    Client::with_policy(&config(&server.url), quick()).expect("a client")
}

fn reservation(status: &str) -> String {
    json!({
        "sid": WR, "reservation_status": status, "task_sid": WT, "worker_sid": WK,
        "worker_name": "Alice", "workspace_sid": WS, "account_sid": ACCOUNT,
    })
    .to_string()
}

fn ids() -> (WorkspaceSid, ReservationOf, ReservationSid) {
    (
        WorkspaceSid::parse(WS).expect("sid"),
        ReservationOf::Task(TaskSid::parse(WT).expect("sid")),
        ReservationSid::parse(WR).expect("sid"),
    )
}

#[test]
fn a_429_is_retried_honouring_retry_after_and_requests_carry_basic_auth() {
    let server = Server::script(vec![
        Reply::twilio_error(429, 20429, "Too Many Requests").with_header("Retry-After", "0"),
        Reply::json(200, &reservation("pending")),
    ]);
    let (workspace, of, reservation) = ids();
    let answer = client(&server)
        .fetch_reservation(&workspace, &of, &reservation)
        .expect("the retry succeeds");
    assert_eq!(
        answer.resource.reservation_status,
        ReservationStatus::Pending
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one retry");
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    );
    for request in &requests {
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.path,
            format!("/v1/Workspaces/{WS}/Tasks/{WT}/Reservations/{WR}")
        );
        assert_eq!(request.header("authorization"), Some(expected.as_str()));
        assert!(
            request
                .header("user-agent")
                .is_some_and(|agent| agent.starts_with("taskrouter-lambda/")),
            "{request:?}"
        );
    }
}

#[test]
fn retries_follow_the_policy_for_each_kind_of_failure() {
    struct Case {
        why: &'static str,
        replies: Vec<Reply>,
        create: bool,
        attempts: usize,
        message: &'static str,
    }
    let cases = [
        Case {
            why: "a 5xx on a read is retried up to the bound, then reported with Twilio's details",
            replies: vec![Reply::twilio_error(503, 20503, "Service Unavailable"); 4],
            create: false,
            attempts: 4,
            message: "answered 503, error 20503: Service Unavailable (https://www.twilio.com/docs/errors/20503) after 4 attempts; Twilio had a problem: try again later",
        },
        Case {
            why: "a 5xx on CreateTask is not repeated: the task may exist already",
            replies: vec![Reply::twilio_error(500, 20500, "Internal Server Error")],
            create: true,
            attempts: 1,
            message: "answered 500, error 20500: Internal Server Error (https://www.twilio.com/docs/errors/20500); Twilio had a problem: try again later",
        },
        Case {
            why: "a 429 on CreateTask is repeated: Twilio did not process it",
            replies: vec![
                Reply::twilio_error(429, 20429, "Too Many Requests"),
                Reply::twilio_error(400, 20001, "Invalid Attributes"),
            ],
            create: true,
            attempts: 2,
            message: "answered 400, error 20001: Invalid Attributes (https://www.twilio.com/docs/errors/20001) after 2 attempts",
        },
        Case {
            why: "a 4xx is never retried",
            replies: vec![Reply::twilio_error(
                404,
                20404,
                "The requested resource was not found",
            )],
            create: false,
            attempts: 1,
            message: "answered 404, error 20404: The requested resource was not found (https://www.twilio.com/docs/errors/20404); check the SIDs",
        },
        Case {
            why: "a Retry-After beyond the bound ends the retries and says when to come back",
            replies: vec![
                Reply::twilio_error(429, 20429, "Too Many Requests")
                    .with_header("Retry-After", "60"),
            ],
            create: false,
            attempts: 1,
            message: "answered 429, error 20429: Too Many Requests (https://www.twilio.com/docs/errors/20429); Twilio asks to retry after 60 s",
        },
    ];
    for case in cases {
        let server = Server::script(case.replies);
        let client = client(&server);
        let (workspace, of, reservation) = ids();
        let error = if case.create {
            let task = NewTask {
                attributes: serde_json::Map::new(),
                workflow_sid: None,
                priority: None,
                timeout: None,
                task_channel: None,
            };
            client.create_task(&workspace, &task).map(drop)
        } else {
            client
                .fetch_reservation(&workspace, &of, &reservation)
                .map(drop)
        }
        .expect_err(case.why);
        assert_eq!(server.requests().len(), case.attempts, "{}", case.why);
        let text = error.to_string();
        assert!(text.contains(case.message), "{}: {text}", case.why);
        assert!(
            !text.contains(TOKEN) && !format!("{error:?}").contains(TOKEN),
            "{}",
            case.why
        );
    }
}

#[test]
fn an_unreachable_api_is_retried_then_reported_without_secrets() {
    let port = crate::support::loopback::free_port();
    let client = Client::with_policy(&config(&format!("http://127.0.0.1:{port}")), quick())
        .expect("a client");
    let (workspace, _, _) = ids();
    let error = client
        .fetch_workspace(&workspace)
        .expect_err("nothing listens");
    assert!(
        matches!(error, RestError::Transport { attempts: 4, .. }),
        "a refused connection never reached the server, so it is retried: {error:?}"
    );
    assert!(
        error.to_string().starts_with(&format!(
            "GET http://127.0.0.1:{port}/v1/Workspaces/{WS}: no answer after 4 attempt(s): "
        )),
        "{error}"
    );
    assert!(!format!("{error} {error:?} {client:?}").contains(TOKEN));
}

/// Runs the compiled `taskrouter` with the REST variables pointing at `url` and `extra` on top.
fn taskrouter(url: &str, args: &[&str], extra: &[(&str, &str)]) -> Output {
    taskrouter_on(url, TOKEN)
        .args(args)
        .envs(extra.iter().copied())
        .output()
        .expect("the taskrouter binary runs")
}

fn assert_no_secret(output: &Output) {
    cli::assert_no_secret(output, TOKEN);
}

#[test]
fn a_refused_update_is_settled_by_the_reservations_real_status() {
    let refusal = || {
        // The code TaskRouter uses for this refusal is not documented; the client does not
        // depend on it, only on the format.
        Reply::twilio_error(400, 20001, "Reservation is not pending")
    };
    let accept = [
        "reservation",
        "accept",
        "--workspace",
        WS,
        "--task",
        WT,
        "--reservation",
        WR,
    ];
    struct Case {
        why: &'static str,
        replies: Vec<Reply>,
        args: Vec<&'static str>,
        code: i32,
        requests: usize,
        stdout: &'static str,
        stderr: &'static str,
    }
    let cases = [
        Case {
            why: "applied: the answer's status",
            replies: vec![Reply::json(200, &reservation("accepted"))],
            args: accept.to_vec(),
            code: 0,
            requests: 1,
            stdout: "status:      accepted",
            stderr: "",
        },
        Case {
            why: "accepting an accepted reservation is success",
            replies: vec![refusal(), Reply::json(200, &reservation("accepted"))],
            args: accept.to_vec(),
            code: 0,
            requests: 2,
            stdout: "status:      accepted",
            stderr: "the reservation was already accepted: nothing to do",
        },
        Case {
            why: "accepting one that moved on to wrap-up is success too",
            replies: vec![refusal(), Reply::json(200, &reservation("wrapping"))],
            args: accept.to_vec(),
            code: 0,
            requests: 2,
            stdout: "status:      wrapping",
            stderr: "the reservation was already wrapping: nothing to do",
        },
        Case {
            why: "a timed-out reservation exits 3 and says what it means for the worker",
            replies: vec![refusal(), Reply::json(200, &reservation("timeout"))],
            args: accept.to_vec(),
            code: 3,
            requests: 2,
            stdout: "status:      timeout",
            stderr: "error: the reservation is no longer pending: it is timeout: nobody answered in time: the worker was moved to the workspace's timeout activity and the task is routed again",
        },
        Case {
            why: "rejecting an accepted reservation exits 3",
            replies: vec![refusal(), Reply::json(200, &reservation("accepted"))],
            args: vec![
                "reservation",
                "reject",
                "--workspace",
                WS,
                "--worker",
                WK,
                "--reservation",
                WR,
                "--activity",
                "WA0123456789abcdef0123456789abcdef",
            ],
            code: 3,
            requests: 2,
            stdout: "status:      accepted",
            stderr: "error: the reservation is no longer pending: it is accepted: the worker has the task",
        },
        Case {
            why: "still pending: the refusal was about the request, shown with Twilio's code and link",
            replies: vec![
                Reply::twilio_error(400, 20001, "Invalid DequeueTo"),
                Reply::json(200, &reservation("pending")),
            ],
            args: vec![
                "reservation",
                "dequeue",
                "--workspace",
                WS,
                "--task",
                WT,
                "--reservation",
                WR,
                "--to",
                "nobody",
            ],
            code: 1,
            requests: 2,
            stdout: "",
            stderr: "answered 400, error 20001: Invalid DequeueTo (https://www.twilio.com/docs/errors/20001)\n(the reservation is still pending: nothing was applied)",
        },
        Case {
            why: "bad credentials: no fetch, the variables named",
            replies: vec![Reply::twilio_error(401, 20003, "Authenticate")],
            args: accept.to_vec(),
            code: 1,
            requests: 1,
            stdout: "",
            stderr: "answered 401, error 20003: Authenticate (https://www.twilio.com/docs/errors/20003); check TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET",
        },
    ];
    for case in cases {
        let server = Server::script(case.replies);
        let output = taskrouter(&server.url, &case.args, &[]);
        assert_eq!(
            output.status.code(),
            Some(case.code),
            "{}: {}",
            case.why,
            text(&output.stderr)
        );
        assert!(
            text(&output.stdout).contains(case.stdout),
            "{}: {}",
            case.why,
            text(&output.stdout)
        );
        assert!(
            text(&output.stderr).contains(case.stderr),
            "{}: {}",
            case.why,
            text(&output.stderr)
        );
        let requests = server.requests();
        assert_eq!(requests.len(), case.requests, "{}", case.why);
        assert_eq!(requests[0].method, "POST", "{}", case.why);
        if case.requests > 1 {
            assert_eq!(requests[1].method, "GET", "{}: then fetched", case.why);
        }
        assert_no_secret(&output);
    }
}

#[test]
fn the_update_sends_the_instruction_as_rest_form_parameters() {
    let server = Server::script(vec![Reply::json(200, &reservation("accepted"))]);
    let output = taskrouter(
        &server.url,
        &[
            "reservation",
            "conference",
            "--workspace",
            WS,
            "--worker",
            WK,
            "--reservation",
            WR,
            "--from",
            "+18005550100",
            "--record",
            "--conference-status-callback-event",
            "start,end",
            "--param",
            "beep=onEnter",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let requests: Vec<Recorded> = server.requests();
    assert_eq!(
        requests[0].path,
        format!("/v1/Workspaces/{WS}/Workers/{WK}/Reservations/{WR}")
    );
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        requests[0].form(),
        pairs(&[
            ("Instruction", "conference"),
            ("From", "+18005550100"),
            ("Record", "true"),
            ("Beep", "onEnter"),
            ("ConferenceStatusCallbackEvent", "start"),
            ("ConferenceStatusCallbackEvent", "end"),
        ])
    );
}

/// The assignment callback route of the real function (`http::handle`), served over HTTP on a
/// loopback port as `cargo lambda watch` serves it: each request becomes an API Gateway HTTP API
/// event. Verifies signatures with `token` for the URL it is reached at.
fn function_bridge(token: &str) -> Server {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    // The function verifies against its public URL, known once the port is bound (as `make run`
    // sets PUBLIC_BASE_URL for `cargo lambda watch`).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let public = format!("http://{}", listener.local_addr().expect("bound"));
    let token = token.to_owned();
    let app: Arc<App> = Arc::new(runtime.block_on(async move {
        let vars = [
            ("TWILIO_AUTH_TOKEN".to_owned(), token),
            ("PUBLIC_BASE_URL".to_owned(), public),
        ];
        let config = Config::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
        .expect("a valid function configuration");
        App::build(
            config,
            Some("taskrouter-test"),
            Arc::new(MemorySink::default()),
        )
        .await
        .expect("the app builds")
    }));
    Server::serve(listener, move |request: &Recorded| {
        let host = request.header("host").unwrap_or("127.0.0.1").to_owned();
        let (path, query) = request
            .path
            .split_once('?')
            .unwrap_or((request.path.as_str(), ""));
        let mut headers = serde_json::Map::new();
        for (name, value) in &request.headers {
            headers.insert(name.clone(), Value::String(value.clone()));
        }
        headers.insert("x-forwarded-proto".to_owned(), json!("http"));
        let event = json!({
            "version": "2.0",
            "routeKey": format!("{} {path}", request.method),
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012", "apiId": "local", "domainName": host,
                "domainPrefix": "local",
                "http": { "method": request.method, "path": path, "protocol": "HTTP/1.1",
                          "sourceIp": "127.0.0.1", "userAgent": "taskrouter" },
                "requestId": "local", "routeKey": format!("{} {path}", request.method),
                "stage": "$default", "time": "24/Nov/2026:06:00:00 +0000", "timeEpoch": 1795500000000_u64,
            },
            "isBase64Encoded": true,
            "body": base64::engine::general_purpose::STANDARD.encode(&request.body),
        });
        let lambda_request =
            lambda_http::request::from_str(&event.to_string()).expect("a valid event");
        let response = runtime.block_on(http::handle(&app, lambda_request));
        let status = response.status().as_u16();
        let body = match response.body() {
            lambda_http::Body::Text(text) => text.clone(),
            lambda_http::Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => String::new(),
        };
        Reply::json(status, &body)
    })
}

fn workflow(url: Option<&str>) -> String {
    json!({
        "sid": WW, "workspace_sid": WS, "account_sid": ACCOUNT, "friendly_name": "Tutorial",
        "assignment_callback_url": url, "fallback_assignment_callback_url": url,
        "task_reservation_timeout": 120,
    })
    .to_string()
}

#[test]
fn connect_sets_both_urls_reads_them_back_and_check_proves_the_signature_verifies() {
    let function = function_bridge(TOKEN);
    let url = format!("{}/taskrouter/assignment_callback", function.url);
    let old = "https://old.example.com/callback";
    let twilio = Server::script(vec![
        Reply::json(200, &workflow(Some(old))),  // before
        Reply::json(200, &workflow(Some(&url))), // the update's answer
        Reply::json(200, &workflow(Some(&url))), // read back: the URL --check signs for
    ]);
    let output = taskrouter(
        &twilio.url,
        &[
            "connect",
            "--workspace",
            WS,
            "--workflow",
            WW,
            "--assignment-url",
            &url,
            "--check",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for line in [
        format!("workflow AssignmentCallbackUrl           {old} → {url}"),
        format!("workflow FallbackAssignmentCallbackUrl   {old} → {url}"),
        format!("check: {url} verified a callback signed for this URL and answered 200: {{}}"),
    ] {
        assert!(stdout.contains(&line), "missing `{line}` in:\n{stdout}");
    }
    let update = &twilio.requests()[1];
    assert_eq!(update.method, "POST");
    assert_eq!(
        update.form(),
        vec![
            ("AssignmentCallbackUrl".to_owned(), url.clone()),
            ("FallbackAssignmentCallbackUrl".to_owned(), url.clone()),
        ]
    );
    let callback = &function.requests()[0];
    let form: Vec<(String, String)> = callback.form();
    for (name, value) in [
        ("AccountSid", ACCOUNT),
        ("WorkspaceSid", WS),
        ("WorkflowSid", WW),
    ] {
        assert!(
            form.contains(&(name.to_owned(), value.to_owned())),
            "the check callback carries the real {name}: {form:?}"
        );
    }
    assert_no_secret(&output);
}

#[test]
fn connect_check_reports_a_403_and_what_to_look_at() {
    // The function holds another token than the one the check signs with: every real callback
    // would be refused the same way.
    let function = function_bridge("the-functions-token");
    let url = format!("{}/taskrouter/assignment_callback", function.url);
    let twilio = Server::script(vec![Reply::json(200, &workflow(Some(&url)))]);
    let output = taskrouter(
        &twilio.url,
        &[
            "connect",
            "--workspace",
            WS,
            "--workflow",
            WW,
            "--assignment-url",
            &url,
            "--dry-run",
            "--check",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!("error: check: {url} refused a callback signed for this URL with the auth token: 403 {{\"error\":{{\"code\":\"invalid_signature\"")),
        "{stderr}"
    );
    assert!(stderr.contains("set PUBLIC_BASE_URL"), "{stderr}");
    assert!(
        text(&output.stdout).contains("(unchanged)"),
        "the dry run showed the plan: {}",
        text(&output.stdout)
    );
    assert_eq!(twilio.requests().len(), 1, "a dry run only reads");
    assert_no_secret(&output);
}

#[test]
fn connect_check_with_only_an_api_key_asks_for_the_auth_token_before_changing_anything() {
    let twilio = Server::script(Vec::new());
    let output = cli::taskrouter()
        .args([
            "connect",
            "--workspace",
            WS,
            "--workflow",
            WW,
            "--assignment-url",
            "https://example.com/taskrouter/assignment_callback",
            "--check",
        ])
        .env_remove("TWILIO_AUTH_TOKEN")
        .env("TWILIO_ACCOUNT_SID", ACCOUNT)
        .env("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef")
        .env("TWILIO_API_SECRET", TOKEN)
        .env("TASKROUTER_API_URL", &twilio.url)
        .output()
        .expect("the binary runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "the environment is incomplete: usage"
    );
    assert_eq!(
        text(&output.stderr),
        "error: connect --check needs the auth token: Twilio signs callbacks with the account's auth token, and an API key cannot stand in for it; set TWILIO_AUTH_TOKEN as well (API keys still log in)\n"
    );
    assert!(twilio.requests().is_empty());
    assert_no_secret(&output);
}

#[test]
fn missing_credentials_are_named_and_help_shows_no_secret() {
    let output = cli::taskrouter()
        .args(["task", "create", "--workspace", WS, "--workflow", WW])
        .env_remove("TWILIO_ACCOUNT_SID")
        .env_remove("TWILIO_AUTH_TOKEN")
        .env_remove("TWILIO_API_KEY")
        .env_remove("TWILIO_API_SECRET")
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2), "missing credentials: usage");
    assert_eq!(
        text(&output.stderr),
        "error: no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET (preferred in production)\n"
    );
    for args in [
        vec!["--help"],
        vec!["task", "create", "--help"],
        vec!["reservation", "accept", "--help"],
        vec!["reservation", "conference", "--help"],
        vec!["connect", "--help"],
        vec!["send", "--help"],
        vec!["sign", "--help"],
        vec!["task", "list", "--help"],
        vec!["worker", "activity", "--help"],
        vec!["workflow", "pull", "--help"],
    ] {
        let output = cli::taskrouter()
            .args(&args)
            .env("TWILIO_ACCOUNT_SID", ACCOUNT)
            .env("TWILIO_AUTH_TOKEN", TOKEN)
            .env("TWILIO_API_SECRET", TOKEN)
            .output()
            .expect("the binary runs");
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert_no_secret(&output);
    }
}

/// A deployed stack as CloudFormation describes it, on moto: only its outputs matter here.
fn create_stack(endpoint: &str, name: &str, assignment: &str, events: &str) {
    let template = json!({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "AssignmentCallbackUrl": {"Value": assignment},
            "EventCallbackUrl": {"Value": events},
            "LogGroupName": {"Value": "/aws/lambda/taskrouter"},
        },
    });
    let status = Command::new("python3")
        .args([
            "-c",
            "import boto3, sys; boto3.client('cloudformation').create_stack(StackName=sys.argv[1], TemplateBody=sys.argv[2])",
            name,
            &template.to_string(),
        ])
        .envs(aws_env(endpoint))
        .status()
        .expect("python3 runs (boto3 comes with moto and the SAM CLI)");
    assert!(status.success(), "moto created the stack");
}

fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("SAM_CLI_TELEMETRY", "0".to_owned()),
    ]
}

#[tokio::test]
async fn make_connect_takes_the_urls_from_the_deployed_stacks_outputs() {
    let moto = crate::support::moto::Moto::start().await;
    let assignment =
        "https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/assignment_callback";
    let events = "https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/events";
    create_stack(
        &moto.endpoint(),
        "taskrouter-connect-test",
        assignment,
        events,
    );
    let workspace = json!({"sid": WS, "friendly_name": "Tutorial", "event_callback_url": "", "events_filter": null}).to_string();
    let twilio = Server::script(vec![
        Reply::json(200, &workflow(Some(assignment))),
        Reply::json(200, &workspace),
    ]);
    let endpoint = moto.endpoint();
    let url = twilio.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("make")
            .args([
                "--no-print-directory",
                "connect",
                &format!("WORKSPACE={WS}"),
                &format!("WORKFLOW={WW}"),
                "STACK=taskrouter-connect-test",
                "EVENTS_FILTER=reservation.accepted",
                "DRY_RUN=1",
            ])
            .current_dir(crate::support::repo())
            .envs(aws_env(&endpoint))
            .env("TWILIO_ACCOUNT_SID", ACCOUNT)
            .env("TWILIO_AUTH_TOKEN", TOKEN)
            .env("TASKROUTER_API_URL", url)
            .output()
            .expect("make runs")
    })
    .await
    .expect("the command finished");
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    for line in [
        format!("workflow AssignmentCallbackUrl           {assignment} (unchanged)"),
        format!("workspace EventCallbackUrl               (none) → {events}"),
        "workspace EventsFilter                   (none) → reservation.accepted".to_owned(),
    ] {
        assert!(stdout.contains(&line), "missing `{line}` in:\n{stdout}");
    }
    assert!(
        twilio
            .requests()
            .iter()
            .all(|request| request.method == "GET"),
        "a dry run only reads"
    );
    assert_no_secret(&output);
}

#[test]
fn send_posts_over_https_with_the_same_client_and_verifies_the_certificate() {
    let ca = TestCa::new();
    let server = Server::start_tls(&ca, |_| Reply::json(200, "{}"));
    let url = format!("{}/taskrouter/assignment_callback", server.url);
    let send = |ca_file: Option<&std::path::Path>| {
        let mut command = cli::taskrouter();
        command
            .args(["send", "--url", &url, "--token", "local-dev-token"])
            .env_remove("SSL_CERT_DIR");
        match ca_file {
            Some(path) => command.env("SSL_CERT_FILE", path),
            None => command.env_remove("SSL_CERT_FILE"),
        };
        command.output().expect("the binary runs")
    };
    let trusted = send(Some(&ca.ca_file));
    assert_eq!(trusted.status.code(), Some(0), "{}", text(&trusted.stderr));
    assert_eq!(text(&trusted.stdout), "{}\n");
    assert_eq!(text(&trusted.stderr), "status: 200 OK\n");
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert!(
        request.header("x-twilio-signature").is_some(),
        "{request:?}"
    );
    // The system's roots do not include the test authority: the handshake must fail.
    let untrusted = send(None);
    assert_eq!(untrusted.status.code(), Some(1));
    assert!(
        text(&untrusted.stderr).starts_with(&format!("error: cannot POST to {url}: ")),
        "{}",
        text(&untrusted.stderr)
    );
    assert_eq!(
        server.requests().len(),
        1,
        "no request without a verified certificate"
    );
}

fn task_answer(status: &str) -> String {
    json!({
        "sid": WT, "assignment_status": status, "workspace_sid": WS, "account_sid": ACCOUNT,
        "task_queue_sid": "WQ0123456789abcdef0123456789abcdef", "task_queue_friendly_name": "Support",
        "workflow_sid": WW, "workflow_friendly_name": "Main", "priority": 0, "age": 42,
        "attributes": "{\"type\":\"support\"}", "reason": null,
    })
    .to_string()
}

#[test]
fn complete_and_cancel_are_settled_by_the_tasks_real_status() {
    let refusal = || Reply::twilio_error(400, 20001, "Task is not in a state that allows it");
    let verb = |verb: &'static str| {
        vec![
            "task",
            verb,
            "--workspace",
            WS,
            "--task",
            WT,
            "--reason",
            "resolved",
        ]
    };
    struct Case {
        why: &'static str,
        verb: &'static str,
        replies: Vec<Reply>,
        code: i32,
        requests: usize,
        stdout: &'static str,
        stderr: &'static str,
    }
    let cases = [
        Case {
            why: "completed: the answer is printed",
            verb: "complete",
            replies: vec![Reply::json(200, &task_answer("completed"))],
            code: 0,
            requests: 1,
            stdout: "status:     completed",
            stderr: "",
        },
        Case {
            why: "completing a completed task is success",
            verb: "complete",
            replies: vec![refusal(), Reply::json(200, &task_answer("completed"))],
            code: 0,
            requests: 2,
            stdout: "status:     completed",
            stderr: "the task was already completed: nothing to do",
        },
        Case {
            why: "completing a canceled task is too late: 3",
            verb: "complete",
            replies: vec![refusal(), Reply::json(200, &task_answer("canceled"))],
            code: 3,
            requests: 2,
            stdout: "status:     canceled",
            stderr: "error: the task is canceled: it was canceled\n(TaskRouter refused to complete it: ",
        },
        Case {
            why: "completing a pending task is too early: 1, and what to do instead",
            verb: "complete",
            replies: vec![refusal(), Reply::json(200, &task_answer("pending"))],
            code: 1,
            requests: 2,
            stdout: "status:     pending",
            stderr: "error: the task is pending: it waits for a worker: only a task a worker accepted can be completed; cancel it instead",
        },
        Case {
            why: "canceling an assigned task is too late: 3, complete it instead",
            verb: "cancel",
            replies: vec![refusal(), Reply::json(200, &task_answer("assigned"))],
            code: 3,
            requests: 2,
            stdout: "status:     assigned",
            stderr: "error: the task is assigned: a worker accepted it: complete it instead",
        },
        Case {
            why: "bad credentials: no fetch",
            verb: "cancel",
            replies: vec![Reply::twilio_error(401, 20003, "Authenticate")],
            code: 1,
            requests: 1,
            stdout: "",
            stderr: "answered 401, error 20003: Authenticate",
        },
    ];
    for case in cases {
        let server = Server::script(case.replies);
        let output = taskrouter(&server.url, &verb(case.verb), &[]);
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(
            output.status.code(),
            Some(case.code),
            "{}: {stderr}",
            case.why
        );
        assert!(stdout.contains(case.stdout), "{}: {stdout}", case.why);
        assert!(stderr.contains(case.stderr), "{}: {stderr}", case.why);
        let requests = server.requests();
        assert_eq!(requests.len(), case.requests, "{}", case.why);
        assert_eq!(requests[0].method, "POST", "{}", case.why);
        assert_eq!(requests[0].path, format!("/v1/Workspaces/{WS}/Tasks/{WT}"));
        let status = if case.verb == "complete" {
            "completed"
        } else {
            "canceled"
        };
        assert_eq!(
            requests[0].form(),
            [
                ("AssignmentStatus".to_owned(), status.to_owned()),
                ("Reason".to_owned(), "resolved".to_owned())
            ],
            "{}",
            case.why
        );
        if case.requests > 1 {
            assert_eq!(requests[1].method, "GET", "{}: then fetched", case.why);
        }
        assert_no_secret(&output);
    }
}

#[test]
fn task_list_follows_twilios_pages_up_to_the_limit_and_sends_its_filters() {
    let task = |sid: &str, status: &str| {
        json!({"sid": sid, "assignment_status": status, "age": 5, "priority": 10,
               "task_queue_sid": "WQ0123456789abcdef0123456789abcdef", "task_queue_friendly_name": "Support"})
    };
    let page = |tasks: Vec<Value>, next: Option<&str>| {
        Reply::json(
            200,
            &json!({"tasks": tasks, "meta": {"key": "tasks", "next_page_url": next}}).to_string(),
        )
    };
    let (first, second, third) = (
        "WT00000000000000000000000000000001",
        "WT00000000000000000000000000000002",
        "WT00000000000000000000000000000003",
    );
    // Twilio's next page URL is absolute, on Twilio's host: only its path and query are followed.
    let next = format!(
        "https://taskrouter.twilio.com/v1/Workspaces/{WS}/Tasks?AssignmentStatus=pending&PageSize=2&Page=1&PageToken=PT1"
    );
    let server = Server::script(vec![
        page(
            vec![task(first, "pending"), task(second, "pending")],
            Some(&next),
        ),
        page(vec![task(third, "pending")], None),
    ]);
    let output = taskrouter(
        &server.url,
        &[
            "task",
            "list",
            "--workspace",
            WS,
            "--status",
            "pending",
            "--expression",
            "type == 'support'",
            "--limit",
            "2",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            "{first}  pending    age 5 s        priority 10    Support\n{second}  pending    age 5 s        priority 10    Support\n"
        )
    );
    assert_eq!(
        text(&output.stderr),
        "2 tasks shown; there are more: raise --limit or narrow the filters\n"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "the limit was reached on the first page");
    assert_eq!(
        requests[0].path,
        format!(
            "/v1/Workspaces/{WS}/Tasks?AssignmentStatus=pending&EvaluateTaskAttributes=type+%3D%3D+%27support%27&PageSize=2"
        )
    );

    let server = Server::script(vec![
        page(
            vec![task(first, "pending"), task(second, "pending")],
            Some(&next),
        ),
        page(vec![task(third, "pending")], None),
    ]);
    let output = taskrouter(
        &server.url,
        &["task", "list", "--workspace", WS, "--json"],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let listed: Value = serde_json::from_str(&text(&output.stdout)).expect("a JSON array");
    let sids: Vec<&str> = listed
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|task| task["sid"].as_str())
        .collect();
    assert_eq!(sids, [first, second, third], "every page, in order");
    assert_eq!(text(&output.stderr), "3 tasks\n");
    let requests = server.requests();
    assert_eq!(
        requests[1].path,
        format!(
            "/v1/Workspaces/{WS}/Tasks?AssignmentStatus=pending&PageSize=2&Page=1&PageToken=PT1"
        ),
        "the next page, under the configured base URL"
    );
    assert_no_secret(&output);
}

#[test]
fn worker_activity_moves_the_worker_and_rejects_its_pending_reservations_on_request() {
    const WA: &str = "WA0123456789abcdef0123456789abcdef";
    let worker = json!({
        "sid": WK, "friendly_name": "Alice", "activity_sid": WA, "activity_name": "Offline",
        "available": false, "date_status_changed": "2026-12-02T14:30:00Z", "attributes": "{}",
    })
    .to_string();
    let server = Server::script(vec![Reply::json(200, &worker)]);
    let output = taskrouter(
        &server.url,
        &[
            "worker",
            "activity",
            "--workspace",
            WS,
            "--worker",
            WK,
            "--activity",
            WA,
            "--reject-pending-reservations",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            "worker:     {WK} (Alice)\nactivity:   {WA} (Offline)\navailable:  no\nsince:      2026-12-02T14:30:00Z\n"
        )
    );
    assert_eq!(
        text(&output.stderr),
        "its pending reservations were rejected\n"
    );
    let requests = server.requests();
    assert_eq!(requests[0].method, "POST");
    assert_eq!(
        requests[0].path,
        format!("/v1/Workspaces/{WS}/Workers/{WK}")
    );
    assert_eq!(
        requests[0].form(),
        [
            ("ActivitySid".to_owned(), WA.to_owned()),
            ("RejectPendingReservations".to_owned(), "true".to_owned())
        ]
    );

    let listed = json!({"workers": [
        {"sid": WK, "friendly_name": "Alice", "activity_name": "Available", "available": true},
        {"sid": "WK00000000000000000000000000000002", "activity_name": "Offline", "available": false},
    ], "meta": {"key": "workers", "next_page_url": null}})
    .to_string();
    let server = Server::script(vec![Reply::json(200, &listed)]);
    let output = taskrouter(
        &server.url,
        &["worker", "list", "--workspace", WS, "--available"],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            "{WK}  available    Available     Alice\nWK00000000000000000000000000000002  unavailable  Offline       -\n"
        )
    );
    assert_eq!(text(&output.stderr), "2 workers\n");
    assert_eq!(
        server.requests()[0].path,
        format!("/v1/Workspaces/{WS}/Workers?Available=true&PageSize=50")
    );
}
