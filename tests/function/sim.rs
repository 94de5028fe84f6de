//! `taskrouter sim serve`, the compiled binary, as its users drive it: over Twilio's REST API
//! (the project's own CLI, plain HTTP, Stoplight Prism validating every answer against Twilio's
//! OpenAPI description), with the compiled function answering its assignment callbacks behind
//! an API Gateway front, and with scripted endpoints where a callback must fail. The clock is
//! manual: `POST /sim/clock/advance` moves it, so no test waits through a timeout.

use std::collections::BTreeSet;
use std::process::Output;

use serde_json::{Value, json};

use crate::support::cli::{ACCOUNT, taskrouter_on, text};
use crate::support::gateway::Gateway;
use crate::support::json_lines;
use crate::support::prism::{Prism, accounts_spec, spec};
use crate::support::sim::{SIM_TOKEN, Sim, WS, call_with_headers};
use crate::support::standin::{Recorded, Reply, Server};
use crate::support::twilio::signatures;

const OFFLINE: &str = "WA00000000000000000000000000000001";
const AVAILABLE: &str = "WA00000000000000000000000000000002";
const BREAK: &str = "WA00000000000000000000000000000003";
const WW: &str = "WW00000000000000000000000000000001";
const SUPPORT: &str = "WQ00000000000000000000000000000001";
const SALES: &str = "WQ00000000000000000000000000000002";
const ESCALATIONS: &str = "WQ00000000000000000000000000000003";

/// Worker `n` (`WK…0n`), available, with these skills.
fn worker(n: u8, name: &str, skills: &[&str]) -> Value {
    json!({
        "sid": format!("WK0000000000000000000000000000000{n}"),
        "friendly_name": name,
        "activity": "Available",
        "attributes": {"skills": skills, "contact_uri": format!("client:{name}")},
    })
}

/// A workspace document: activities Offline (the default and timeout activity), Available and
/// Break; the three queues Support, Sales and Escalations (`skills HAS …`, `max_reserved`
/// reservations each); one Workflow `WW…01` with `configuration` and the keys of `workflow`
/// (callback URLs, reservation timeout); the workers given; `workspace` keys added at the top.
fn document(
    workers: &[Value],
    configuration: &Value,
    workflow: &Value,
    max_reserved: u32,
    workspace: &Value,
) -> Value {
    let mut flow =
        json!({"sid": WW, "friendly_name": "Support and sales", "configuration": configuration});
    for (key, value) in workflow.as_object().into_iter().flatten() {
        flow[key] = value.clone();
    }
    let mut document = json!({
        "sid": WS,
        "friendly_name": "Simulated",
        "default_activity": "Offline",
        "timeout_activity": "Offline",
        "activities": [
            {"sid": OFFLINE, "friendly_name": "Offline", "available": false},
            {"sid": AVAILABLE, "friendly_name": "Available", "available": true},
            {"sid": BREAK, "friendly_name": "Break", "available": false}
        ],
        "workers": workers,
        "task_queues": [
            {"sid": SUPPORT, "friendly_name": "Support", "target_workers": "skills HAS 'support'", "max_reserved_workers": max_reserved},
            {"sid": SALES, "friendly_name": "Sales", "target_workers": "skills HAS 'sales'", "max_reserved_workers": max_reserved},
            {"sid": ESCALATIONS, "friendly_name": "Escalations", "target_workers": "skills HAS 'escalation'"}
        ],
        "workflows": [flow],
    });
    for (key, value) in workspace.as_object().into_iter().flatten() {
        document[key] = value.clone();
    }
    document
}

/// Escalations wait 30 s in their own queue (nobody has the skill), then fall through to the
/// next filter that matches them, `sales`; support tasks go to the default queue.
fn routing() -> Value {
    json!({"task_routing": {"filters": [
        {"filter_friendly_name": "escalation", "expression": "type == 'escalation'", "targets": [{"queue": ESCALATIONS, "timeout": 30}]},
        {"filter_friendly_name": "sales", "expression": "type == 'sales' OR type == 'escalation'", "targets": [{"queue": SALES}]}
    ], "default_filter": {"queue": SUPPORT}}})
}

/// Everyone takes support tasks: the default queue is Support.
fn support_only() -> Value {
    json!({"task_routing": {"filters": [], "default_filter": {"queue": SUPPORT}}})
}

fn create_task(sim: &Sim, attributes: &Value, extra: &[(&str, &str)]) -> Value {
    let attributes = attributes.to_string();
    let mut form = vec![("Attributes", attributes.as_str()), ("WorkflowSid", WW)];
    form.extend_from_slice(extra);
    let (status, task) = sim.post(&Sim::ws("/Tasks"), &form);
    assert_eq!(status, 201, "CreateTask: {task}\n{}", sim.log());
    task
}

fn fetch_task(sim: &Sim, task: &str) -> Value {
    let (status, body) = sim.get(&Sim::ws(&format!("/Tasks/{task}")));
    assert_eq!(status, 200, "{body}");
    body
}

/// The task's reservations, oldest first: (worker name, status, SID).
fn reservations(sim: &Sim, task: &str) -> Vec<(String, String, String)> {
    let (status, body) = sim.get(&Sim::ws(&format!("/Tasks/{task}/Reservations")));
    assert_eq!(status, 200, "{body}");
    body["reservations"]
        .as_array()
        .expect("reservations")
        .iter()
        .map(|reservation| {
            (
                reservation["worker_name"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned(),
                reservation["reservation_status"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned(),
                reservation["sid"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

/// (name, status) of each reservation.
fn outcomes(sim: &Sim, task: &str) -> Vec<(String, String)> {
    reservations(sim, task)
        .into_iter()
        .map(|(name, status, _)| (name, status))
        .collect()
}

fn pair(name: &str, status: &str) -> (String, String) {
    (name.to_owned(), status.to_owned())
}

/// The task's event types, in order.
fn event_types(sim: &Sim, task: &str) -> Vec<String> {
    let (status, body) = sim.get(&Sim::ws(&format!("/Events?TaskSid={task}&PageSize=1000")));
    assert_eq!(status, 200, "{body}");
    body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["event_type"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn activity_of(sim: &Sim, worker: &str) -> String {
    let (_, body) = sim.get(&Sim::ws(&format!("/Workers/{worker}")));
    body["activity_name"].as_str().unwrap_or("?").to_owned()
}

/// Runs the compiled `taskrouter` against the simulator, logged in as the test account.
fn cli(sim: &Sim, args: &[&str]) -> Output {
    taskrouter_on(&sim.url, SIM_TOKEN)
        .args(args)
        .output()
        .expect("taskrouter runs")
}

fn field<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .map_or("", str::trim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_travels_the_whole_loop_through_the_compiled_function_deferred_instructed_and_fallen_through()
 {
    // The function: deferral by default, accept for VIPs (a rules document).
    let rules = json!({"rules": [{"name": "vip", "when": "vip == true", "instruction": {"instruction": "accept"}}]});
    let gateway = Gateway::start(&[("ASSIGNMENT_RULES", &rules.to_string())]).await;
    let callback = format!("{}/taskrouter/assignment_callback", gateway.url);
    let events = format!("{}/taskrouter/events", gateway.url);
    let document = document(
        &[
            worker(1, "alice", &["support"]),
            worker(2, "bob", &["sales"]),
        ],
        &routing(),
        &json!({"assignment_callback_url": callback, "fallback_assignment_callback_url": callback}),
        1,
        &json!({"event_callback_url": events}),
    );
    let sim = tokio::task::spawn_blocking(move || Sim::start(&document, &[]))
        .await
        .expect("started");
    let sim = std::sync::Arc::new(sim);
    let run = {
        let sim = std::sync::Arc::clone(&sim);
        move || {
            // 1. Created over REST with the CLI, routed and reserved at once; the function
            //    defers; the reservation is accepted with the CLI.
            let created = cli(
                &sim,
                &[
                    "task",
                    "create",
                    "--workspace",
                    WS,
                    "--workflow",
                    WW,
                    "--attributes",
                    r#"{"type": "support"}"#,
                ],
            );
            assert_eq!(created.status.code(), Some(0), "{}", text(&created.stderr));
            let stdout = text(&created.stdout);
            let first = field(&stdout, "task:").to_owned();
            assert_eq!(field(&stdout, "status:"), "reserved", "{stdout}");
            assert!(field(&stdout, "queue:").starts_with(SUPPORT), "{stdout}");
            sim.advance(0);
            let [(name, status, reservation)] = reservations(&sim, &first)
                .try_into()
                .expect("one reservation");
            assert_eq!(
                (name.as_str(), status.as_str()),
                ("alice", "pending"),
                "the function answered {{}}"
            );
            let accepted = cli(
                &sim,
                &[
                    "reservation",
                    "accept",
                    "--workspace",
                    WS,
                    "--task",
                    &first,
                    "--reservation",
                    &reservation,
                ],
            );
            assert_eq!(
                accepted.status.code(),
                Some(0),
                "{}",
                text(&accepted.stderr)
            );
            assert_eq!(fetch_task(&sim, &first)["assignment_status"], "assigned");
            assert_eq!(
                event_types(&sim, &first),
                [
                    "workflow.entered",
                    "task-queue.entered",
                    "task.created",
                    "workflow.target-matched",
                    "reservation.created",
                    "reservation.accepted"
                ]
            );

            // 2. A VIP sales task: the function's rule accepts it in its answer.
            let second = create_task(&sim, &json!({"type": "sales", "vip": true}), &[]);
            let second = second["sid"].as_str().expect("a sid").to_owned();
            sim.advance(0);
            assert_eq!(outcomes(&sim, &second), [pair("bob", "accepted")]);
            assert_eq!(fetch_task(&sim, &second)["assignment_status"], "assigned");
            let (status, done) = sim.post(
                &Sim::ws(&format!("/Tasks/{second}")),
                &[("AssignmentStatus", "completed"), ("Reason", "sold")],
            );
            assert_eq!(
                (status, done["assignment_status"].as_str()),
                (200, Some("completed")),
                "{done}"
            );

            // 3. An escalation waits 30 s of age in Escalations, where nobody has the skill,
            //    then falls through to the next matching filter, `sales`, and bob.
            let third = create_task(&sim, &json!({"type": "escalation"}), &[]);
            let third = third["sid"].as_str().expect("a sid").to_owned();
            sim.advance(29);
            let waiting = fetch_task(&sim, &third);
            assert_eq!(
                (
                    waiting["task_queue_friendly_name"].as_str(),
                    waiting["assignment_status"].as_str(),
                    waiting["age"].as_u64()
                ),
                (Some("Escalations"), Some("pending"), Some(29))
            );
            sim.advance(1);
            let moved = fetch_task(&sim, &third);
            assert_eq!(
                (
                    moved["task_queue_friendly_name"].as_str(),
                    moved["assignment_status"].as_str()
                ),
                (Some("Sales"), Some("reserved")),
                "{moved}"
            );
            assert_eq!(
                outcomes(&sim, &third),
                [pair("bob", "pending")],
                "deferred by the function"
            );
            let types = event_types(&sim, &third);
            assert_eq!(
                &types[4..],
                [
                    "task-queue.timeout",
                    "task-queue.entered",
                    "workflow.target-matched",
                    "reservation.created"
                ],
                "{types:?}"
            );
            (first, reservation, second, third)
        }
    };
    let (first, reservation, second, third) = tokio::task::spawn_blocking(run)
        .await
        .expect("the scenario ran");

    // The function decided each callback and logged it; the simulator narrated each answer.
    let decisions: Vec<(String, String, String)> = json_lines(&gateway.function.output())
        .into_iter()
        .filter(|line| line["message"] == "assignment answered")
        .map(|line| {
            (
                line["task_sid"].as_str().unwrap_or("?").to_owned(),
                line["decision"].as_str().unwrap_or("?").to_owned(),
                line["rule"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            (first.clone(), "defer".to_owned(), "default".to_owned()),
            (second, "accept".to_owned(), "vip".to_owned()),
            (third, "defer".to_owned(), "default".to_owned()),
        ],
        "{}",
        gateway.function.output()
    );
    let log = sim.log();
    assert!(
        log.contains(&format!("reservation={reservation}"))
            && log.contains("assignment callback answered in")
            && log.contains(": accept"),
        "{log}"
    );
    let recorded_events = json_lines(&gateway.function.output())
        .into_iter()
        .filter(|line| line["message"] == "workspace event" && line["task_sid"] == first.as_str())
        .count();
    assert_eq!(
        recorded_events,
        6,
        "every event of the first task reached the function, signed\n{}",
        gateway.function.output()
    );
    assert!(!log.contains("WARN"), "no callback failed:\n{log}");
}

#[test]
fn a_reservation_that_times_out_moves_the_worker_to_the_timeout_activity_and_the_task_to_the_next_worker()
 {
    let document = document(
        &[
            worker(1, "alice", &["support"]),
            worker(2, "bob", &["support"]),
        ],
        &support_only(),
        &json!({}),
        1,
        &json!({}),
    );
    let sim = Sim::start(&document, &[]);
    let task = create_task(&sim, &json!({}), &[])["sid"]
        .as_str()
        .expect("a sid")
        .to_owned();
    assert_eq!(
        outcomes(&sim, &task),
        [pair("alice", "pending")],
        "alice, idle longest"
    );
    sim.advance(119);
    assert_eq!(outcomes(&sim, &task), [pair("alice", "pending")]);
    sim.advance(1);
    assert_eq!(
        outcomes(&sim, &task),
        [pair("alice", "timeout"), pair("bob", "pending")],
        "at 120 s, the default TaskReservationTimeout"
    );
    assert_eq!(
        activity_of(&sim, "WK00000000000000000000000000000001"),
        "Offline",
        "the workspace's TimeoutActivitySid"
    );
    assert_eq!(
        activity_of(&sim, "WK00000000000000000000000000000002"),
        "Available"
    );
}

#[test]
fn a_reject_into_an_activity_moves_the_worker_there_and_offers_the_task_to_the_next_worker() {
    let document = document(
        &[
            worker(1, "alice", &["support"]),
            worker(2, "bob", &["support"]),
        ],
        &support_only(),
        &json!({}),
        1,
        &json!({}),
    );
    let sim = Sim::start(&document, &[]);
    let task = create_task(&sim, &json!({}), &[])["sid"]
        .as_str()
        .expect("a sid")
        .to_owned();
    let [(_, _, reservation)] = reservations(&sim, &task)
        .try_into()
        .expect("one reservation");
    let rejected = cli(
        &sim,
        &[
            "reservation",
            "reject",
            "--workspace",
            WS,
            "--task",
            &task,
            "--reservation",
            &reservation,
            "--activity",
            BREAK,
        ],
    );
    assert_eq!(
        rejected.status.code(),
        Some(0),
        "{}",
        text(&rejected.stderr)
    );
    assert_eq!(
        outcomes(&sim, &task),
        [pair("alice", "rejected"), pair("bob", "pending")]
    );
    assert_eq!(
        activity_of(&sim, "WK00000000000000000000000000000001"),
        "Break"
    );
    let types = event_types(&sim, &task);
    assert_eq!(
        &types[4..],
        [
            "reservation.created",
            "reservation.rejected",
            "reservation.created"
        ],
        "{types:?}"
    );
}

/// The parameters of a recorded callback, in order.
fn form_of(request: &Recorded) -> Vec<(String, String)> {
    request.form()
}

#[test]
fn a_callback_answered_503_goes_to_the_fallback_url_and_both_are_signed_as_twilio_signs() {
    let server = Server::start(|request| {
        if request.path == "/primary" {
            Reply::json(503, r#"{"message": "unavailable"}"#)
        } else {
            Reply::json(200, r#"{"instruction": "accept"}"#)
        }
    });
    let primary = format!("{}/primary", server.url);
    let fallback = format!("{}/fallback?tenant=a", server.url);
    let document = document(
        &[worker(1, "alice", &["support"])],
        &support_only(),
        &json!({"assignment_callback_url": primary, "fallback_assignment_callback_url": fallback}),
        1,
        &json!({}),
    );
    let sim = Sim::start(&document, &[]);
    let task = create_task(&sim, &json!({"type": "support"}), &[])["sid"]
        .as_str()
        .expect("a sid")
        .to_owned();
    sim.advance(0);
    assert_eq!(
        outcomes(&sim, &task),
        [pair("alice", "accepted")],
        "the fallback's accept applied"
    );
    let requests = server.requests();
    let paths: Vec<&str> = requests
        .iter()
        .map(|request| request.path.as_str())
        .collect();
    assert_eq!(paths, ["/primary", "/fallback?tenant=a"]);
    assert_eq!(
        form_of(&requests[0]),
        form_of(&requests[1]),
        "the fallback gets the same parameters"
    );
    let names: Vec<String> = form_of(&requests[0])
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        [
            "AccountSid",
            "WorkspaceSid",
            "WorkflowSid",
            "TaskQueueSid",
            "WorkerSid",
            "WorkerAttributes",
            "TaskSid",
            "TaskAttributes",
            "TaskAge",
            "TaskPriority",
            "ReservationSid",
            "Timestamp"
        ],
        "every documented parameter (docs/taskrouter.md §1)"
    );
    // Twilio's own Python helper computes the signature each request should carry.
    let params: Vec<_> = requests
        .iter()
        .map(|request| taskrouter_lambda::form::FormParams::from_pairs(form_of(request)))
        .collect();
    let cases: Vec<(&str, &str, &taskrouter_lambda::form::FormParams)> = vec![
        (SIM_TOKEN, primary.as_str(), &params[0]),
        (SIM_TOKEN, fallback.as_str(), &params[1]),
    ];
    let expected = signatures(&cases);
    let received: Vec<&str> = requests
        .iter()
        .map(|request| request.header("x-twilio-signature").expect("signed"))
        .collect();
    assert_eq!(received, expected);
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(
        sim.log()
            .contains("status 503, not 200): calling the FallbackAssignmentCallbackUrl"),
        "{}",
        sim.log()
    );
}

#[test]
fn a_callback_without_a_usable_answer_and_no_fallback_leaves_the_reservation_to_its_timeout() {
    let server = Server::start(|_| Reply::json(500, r#"{"message": "down"}"#));
    let url = format!("{}/assign", server.url);
    let document = document(
        &[worker(1, "alice", &["support"])],
        &support_only(),
        &json!({"assignment_callback_url": url, "task_reservation_timeout": 30}),
        1,
        &json!({}),
    );
    let sim = Sim::start(&document, &[]);
    let task = create_task(&sim, &json!({}), &[])["sid"]
        .as_str()
        .expect("a sid")
        .to_owned();
    sim.advance(0);
    assert_eq!(server.requests().len(), 1, "called once: no fallback URL");
    assert_eq!(outcomes(&sim, &task), [pair("alice", "pending")]);
    assert!(
        sim.log()
            .contains("the reservation waits, pending, for its timeout"),
        "{}",
        sim.log()
    );
    sim.advance(30);
    assert_eq!(outcomes(&sim, &task), [pair("alice", "timeout")]);
}

#[test]
fn max_reserved_workers_reserves_several_and_an_accept_rescinds_the_others() {
    let document = document(
        &[
            worker(1, "alice", &["support"]),
            worker(2, "bob", &["support"]),
            worker(3, "carol", &["support"]),
        ],
        &support_only(),
        &json!({}),
        2,
        &json!({}),
    );
    let sim = Sim::start(&document, &[]);
    let task = create_task(&sim, &json!({}), &[])["sid"]
        .as_str()
        .expect("a sid")
        .to_owned();
    let pending = reservations(&sim, &task);
    assert_eq!(
        pending
            .iter()
            .map(|(name, status, _)| (name.as_str(), status.as_str()))
            .collect::<Vec<_>>(),
        [("alice", "pending"), ("bob", "pending")],
        "MaxReservedWorkers 2"
    );
    let bob = &pending[1].2;
    let (status, body) = sim.post(
        &Sim::ws(&format!(
            "/Workers/WK00000000000000000000000000000002/Reservations/{bob}"
        )),
        &[("ReservationStatus", "accepted")],
    );
    assert_eq!(
        (status, body["reservation_status"].as_str()),
        (200, Some("accepted")),
        "{body}"
    );
    assert_eq!(
        outcomes(&sim, &task),
        [pair("alice", "rescinded"), pair("bob", "accepted")]
    );
    let (_, rescinded) = sim.get(&Sim::ws(
        "/Workers/WK00000000000000000000000000000001/Reservations?ReservationStatus=rescinded",
    ));
    assert_eq!(
        rescinded["reservations"].as_array().map(Vec::len),
        Some(1),
        "{rescinded}"
    );
}

#[test]
fn a_task_whose_ttl_passes_while_it_waits_is_canceled() {
    let document = document(&[], &support_only(), &json!({}), 1, &json!({}));
    let sim = Sim::start(&document, &[]);
    let task = create_task(&sim, &json!({}), &[("Timeout", "60")]);
    assert_eq!(task["timeout"], 60);
    let sid = task["sid"].as_str().expect("a sid");
    sim.advance(59);
    assert_eq!(fetch_task(&sim, sid)["assignment_status"], "pending");
    sim.advance(1);
    let canceled = fetch_task(&sim, sid);
    assert_eq!(
        (
            canceled["assignment_status"].as_str(),
            canceled["reason"].as_str()
        ),
        (Some("canceled"), Some("Task TTL Exceeded"))
    );
    assert_eq!(
        event_types(&sim, sid).last().map(String::as_str),
        Some("task.canceled")
    );
}

#[test]
fn requests_without_the_accounts_credentials_get_twilios_401() {
    let sim = Sim::start(
        &document(&[], &support_only(), &json!({}), 1, &json!({})),
        &[],
    );
    #[rustfmt::skip]
    let cases = [
        ("/v1/Workspaces", None, "no credentials"),
        ("/v1/Workspaces", Some((ACCOUNT, "another-token")), "the wrong token"),
        ("/v1/Workspaces", Some(("AC00000000000000000000000000000009", SIM_TOKEN)), "another account"),
        ("/sim/clock", None, "the simulator's own endpoints too"),
    ];
    for (path, login, why) in cases {
        let (status, headers, body) = call_with_headers(&sim.url, "GET", path, &[], login);
        assert_eq!(status, 401, "{why}");
        assert_eq!(
            body,
            json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}),
            "{why}"
        );
        assert!(
            headers.iter().any(|(name, _)| name == "www-authenticate"),
            "{why}"
        );
    }
}

#[test]
fn invalid_requests_get_the_error_twilio_gives() {
    let sim = Sim::start(
        &document(
            &[worker(1, "alice", &["support"])],
            &support_only(),
            &json!({}),
            1,
            &json!({}),
        ),
        &[],
    );
    let task = create_task(&sim, &json!({}), &[])["sid"]
        .as_str()
        .expect("a sid")
        .to_owned();
    let [(_, _, reservation)] = reservations(&sim, &task)
        .try_into()
        .expect("one reservation");
    let (status, _) = sim.post(
        &Sim::ws(&format!("/Tasks/{task}/Reservations/{reservation}")),
        &[("ReservationStatus", "accepted")],
    );
    assert_eq!(status, 200);
    #[rustfmt::skip]
    type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, u16, u32, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "POST",
            Sim::ws(&format!("/Tasks/{task}/Reservations/{reservation}")),
            vec![("ReservationStatus", "rejected")],
            400,
            20001,
            "is accepted, not in expected state [pending]",
        ),
        (
            "POST",
            Sim::ws(&format!("/Tasks/{task}/Reservations/{reservation}")),
            vec![("ReservationStatus", "accept")],
            400,
            20001,
            "ReservationStatus: `accept` is not one of pending, accepted",
        ),
        (
            "GET",
            "/v1/Workspaces/WS1".to_owned(),
            vec![],
            404,
            20404,
            "The requested resource /Workspaces/WS1 was not found",
        ),
        (
            "GET",
            Sim::ws("/Tasks/WT00000000000000000000000000000009"),
            vec![],
            404,
            20404,
            "was not found",
        ),
        (
            "GET",
            Sim::ws("/Tasks?AssignmentStatus=done"),
            vec![],
            400,
            20001,
            "AssignmentStatus: `done` is not one of",
        ),
        (
            "POST",
            Sim::ws("/Tasks"),
            vec![("Attributes", "[1]"), ("WorkflowSid", WW)],
            400,
            20001,
            "Attributes: must be a JSON object, found an array",
        ),
        (
            "POST",
            Sim::ws("/Tasks"),
            vec![("WorkflowSid", "WW1")],
            400,
            20001,
            "WorkflowSid: `WW1` is not a valid workflow SID",
        ),
        (
            "POST",
            Sim::ws("/TaskQueues"),
            vec![("FriendlyName", "q"), ("TaskOrder", "RANDOM")],
            400,
            20001,
            "TaskOrder: `RANDOM` is not FIFO or LIFO",
        ),
        (
            "DELETE",
            Sim::ws(&format!("/Tasks/{task}")),
            vec![],
            405,
            20004,
            "Method not allowed",
        ),
        (
            "GET",
            "/v2/Workspaces".to_owned(),
            vec![],
            404,
            20404,
            "The requested resource /v2/Workspaces was not found",
        ),
    ];
    for (method, path, form, status, code, message) in cases {
        let (got, body) = sim.call(method, &path, &form, Some((ACCOUNT, SIM_TOKEN)));
        assert_eq!(
            (got, body["code"].as_u64()),
            (status, Some(u64::from(code))),
            "{method} {path}: {body}"
        );
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|text| text.contains(message)),
            "{method} {path}: {body}"
        );
        assert_eq!(body["status"], status, "{body}");
        assert_eq!(
            body["more_info"],
            format!("https://www.twilio.com/docs/errors/{code}")
        );
    }
    // The CLI reads that refusal as Twilio's and reports the reservation's real status.
    let again = cli(
        &sim,
        &[
            "reservation",
            "reject",
            "--workspace",
            WS,
            "--task",
            &task,
            "--reservation",
            &reservation,
            "--activity",
            BREAK,
        ],
    );
    assert_eq!(
        again.status.code(),
        Some(3),
        "no longer pending: {}",
        text(&again.stderr)
    );
    assert!(
        text(&again.stderr).contains("accepted"),
        "{}",
        text(&again.stderr)
    );
    let stale = call_with_headers(
        &sim.url,
        "GET",
        &Sim::ws(&format!("/Tasks/{task}")),
        &[],
        Some((ACCOUNT, SIM_TOKEN)),
    );
    let etag = stale
        .1
        .iter()
        .find(|(name, _)| name == "etag")
        .map(|(_, value)| value.clone())
        .expect("an ETag");
    let (status, body) = update_with_if_match(&sim, &task, "0");
    assert_eq!(
        (status, body["code"].as_u64()),
        (412, Some(20001)),
        "{body}"
    );
    let (status, body) = update_with_if_match(&sim, &task, &etag);
    assert_eq!(status, 200, "the current ETag: {body}");
}

fn update_with_if_match(sim: &Sim, task: &str, version: &str) -> (u16, Value) {
    use base64::Engine as _;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let login = base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{SIM_TOKEN}"));
    let mut response = agent
        .post(&format!(
            "{}{}",
            sim.url,
            Sim::ws(&format!("/Tasks/{task}"))
        ))
        .header("Authorization", &format!("Basic {login}"))
        .header("If-Match", version)
        .send_form([("Priority", "3")])
        .expect("an answer");
    let status = response.status().as_u16();
    let body = serde_json::from_str(&response.body_mut().read_to_string().unwrap_or_default())
        .unwrap_or(Value::Null);
    (status, body)
}

#[test]
fn events_are_listed_with_their_filters_and_posted_signed_as_the_events_filter_allows() {
    let server = Server::start(|_| Reply::json(204, ""));
    let events_url = format!("{}/events", server.url);
    let document = document(
        &[worker(1, "alice", &["support"])],
        &support_only(),
        &json!({}),
        1,
        &json!({"event_callback_url": events_url, "events_filter": "task.created,reservation.created"}),
    );
    let sim = Sim::start(&document, &[]);
    let first = create_task(&sim, &json!({}), &[])["sid"]
        .as_str()
        .expect("a sid")
        .to_owned();
    sim.advance(10);
    let second = create_task(&sim, &json!({}), &[])["sid"]
        .as_str()
        .expect("a sid")
        .to_owned();
    sim.advance(0);
    let list = |query: &str| -> Vec<String> {
        let (status, body) = sim.get(&Sim::ws(&format!("/Events?{query}")));
        assert_eq!(status, 200, "{query}: {body}");
        body["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|event| {
                format!(
                    "{} {}",
                    event["event_type"].as_str().unwrap_or("?"),
                    event["resource_sid"].as_str().unwrap_or("?")
                )
            })
            .collect()
    };
    assert_eq!(
        list(&format!("TaskSid={second}&EventType=task.created")),
        [format!("task.created {second}")]
    );
    assert_eq!(
        list("EventType=reservation.created").len(),
        1,
        "the second task waits: alice is busy"
    );
    assert_eq!(
        list("StartDate=2026-12-02T12:00:05Z").len(),
        4,
        "the second task's four events, 10 s later"
    );
    assert_eq!(
        list("EndDate=2026-12-02T12:00:05Z").len(),
        5,
        "the first task's five"
    );
    assert_eq!(
        list("WorkerSid=WK00000000000000000000000000000001"),
        list("EventType=reservation.created")
    );
    let (_, page) = sim.get(&Sim::ws("/Events?PageSize=2"));
    let next = page["meta"]["next_page_url"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (_, next_page) = sim.get(next.trim_start_matches(&sim.url));
    assert_eq!(next_page["meta"]["page"], 1, "{next_page}");
    let posted: Vec<Vec<(String, String)>> = server.requests().iter().map(Recorded::form).collect();
    let types: Vec<&str> = posted
        .iter()
        .map(|form| {
            form.iter()
                .find(|(name, _)| name == "EventType")
                .map_or("?", |(_, value)| value.as_str())
        })
        .collect();
    assert_eq!(
        types,
        ["task.created", "reservation.created", "task.created"],
        "only the filter's types, in order"
    );
    let first_posted = &posted[0];
    let common: Vec<&str> = first_posted
        .iter()
        .take(8)
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        common,
        [
            "EventType",
            "AccountSid",
            "WorkspaceSid",
            "WorkspaceName",
            "EventDescription",
            "ResourceType",
            "ResourceSid",
            "Timestamp"
        ],
        "docs/taskrouter.md §6's common fields first"
    );
    assert!(first_posted.contains(&("TaskSid".to_owned(), first.clone())));
    let params: Vec<_> = posted
        .iter()
        .map(|form| taskrouter_lambda::form::FormParams::from_pairs(form.clone()))
        .collect();
    let cases: Vec<_> = params
        .iter()
        .map(|params| (SIM_TOKEN, events_url.as_str(), params))
        .collect();
    let expected = signatures(&cases);
    let received: Vec<String> = server
        .requests()
        .iter()
        .map(|request| {
            request
                .header("x-twilio-signature")
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(received, expected, "signed as Twilio's Python helper signs");
}

#[test]
fn sim_export_writes_the_running_workspace_back_as_a_document_that_serves_again() {
    let original = document(
        &[worker(1, "alice", &["support"])],
        &routing(),
        &json!({"task_reservation_timeout": 45}),
        1,
        &json!({}),
    );
    let sim = Sim::start(&original, &[]);
    let (status, created) = sim.post(
        &Sim::ws("/Workers"),
        &[
            ("FriendlyName", "dana"),
            ("Attributes", r#"{"skills": ["sales"]}"#),
            ("ActivitySid", AVAILABLE),
        ],
    );
    assert_eq!(status, 201, "{created}");
    let exported = cli(&sim, &["sim", "export"]);
    assert_eq!(
        exported.status.code(),
        Some(0),
        "{}",
        text(&exported.stderr)
    );
    let document: Value = serde_json::from_slice(&exported.stdout).expect("a JSON document");
    let names: Vec<&str> = document["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .filter_map(|worker| worker["friendly_name"].as_str())
        .collect();
    assert_eq!(names, ["alice", "dana"]);
    assert_eq!(
        document["workflows"][0]["configuration"],
        routing(),
        "the configuration inline, as loaded"
    );
    assert_eq!(document["workflows"][0]["task_reservation_timeout"], 45);
    let queues = |document: &Value| -> Vec<(String, String)> {
        document["task_queues"]
            .as_array()
            .expect("queues")
            .iter()
            .map(|queue| {
                (
                    queue["sid"].as_str().unwrap_or("?").to_owned(),
                    queue["target_workers"].as_str().unwrap_or("?").to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(queues(&document), queues(&original));
    assert_eq!(
        document["task_queues"][0]["task_order"], "FIFO",
        "defaults written out"
    );
    let again = Sim::start(&document, &[]);
    let task = create_task(&again, &json!({"type": "sales"}), &[])["sid"]
        .as_str()
        .expect("a sid")
        .to_owned();
    assert_eq!(
        outcomes(&again, &task),
        [pair("dana", "pending")],
        "the exported workspace routes"
    );
}

#[test]
fn serve_refuses_to_start_without_credentials_or_with_a_broken_document() {
    let broken = crate::support::TempFile::new(
        "broken.json",
        "{\"sid\": \"WS00000000000000000000000000000001\", \"friendly_name\": \"x\",\n \"activities\": [], \"workerz\": []}",
    );
    #[rustfmt::skip]
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>, String);
    let cases: Vec<Case<'_>> = vec![
        (
            vec![("TWILIO_AUTH_TOKEN", SIM_TOKEN)],
            vec![],
            "error: TWILIO_ACCOUNT_SID is not set".to_owned(),
        ),
        (
            vec![("TWILIO_ACCOUNT_SID", ACCOUNT)],
            vec![],
            "error: TWILIO_AUTH_TOKEN is not set".to_owned(),
        ),
        (
            vec![
                ("TWILIO_ACCOUNT_SID", ACCOUNT),
                ("TWILIO_AUTH_TOKEN", SIM_TOKEN),
            ],
            vec!["--workspace", broken.path()],
            format!(
                "{path}:2:20: error: unknown key `workerz`: did you mean `workers`?\n\
              {path}:2:16: error: activities: a workspace needs at least one activity: its default activity",
                path = broken.path()
            ),
        ),
        (
            vec![
                ("TWILIO_ACCOUNT_SID", ACCOUNT),
                ("TWILIO_AUTH_TOKEN", SIM_TOKEN),
            ],
            vec!["--start", "2026-12-02T12:00:00Z"],
            "error: --start sets where a manual clock starts".to_owned(),
        ),
    ];
    for (env, args, message) in cases {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_taskrouter"))
            .args(["sim", "serve", "--port", "0"])
            .args(&args)
            .env_clear()
            .envs(env.iter().copied())
            .output()
            .expect("taskrouter runs");
        assert_eq!(output.status.code(), Some(1), "{message}");
        assert!(
            text(&output.stderr).starts_with(&message),
            "{}",
            text(&output.stderr)
        );
    }
}

#[test]
fn a_real_clock_fires_timers_by_itself() {
    let document = document(&[], &support_only(), &json!({}), 1, &json!({}));
    let file = crate::support::TempFile::new("workspace.json", &document.to_string());
    let port = crate::support::loopback::free_port();
    /// Stops the simulator however the test ends.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_taskrouter"))
        .args([
            "sim",
            "serve",
            "--clock",
            "real",
            "--port",
            &port.to_string(),
            "--workspace",
            file.path(),
        ])
        .env("TWILIO_ACCOUNT_SID", ACCOUNT)
        .env("TWILIO_AUTH_TOKEN", SIM_TOKEN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("taskrouter starts");
    let _stop = Stop(child);
    let url = format!("http://127.0.0.1:{port}");
    let login = Some((ACCOUNT, SIM_TOKEN));
    let started = std::time::Instant::now();
    while crate::support::sim::try_call(&url, "GET", "/sim/clock", &[], login)
        .is_none_or(|(status, _, _)| status != 200)
    {
        assert!(
            started.elapsed().as_secs() < 30,
            "the simulator did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (_, clock) = crate::support::sim::call(&url, "GET", "/sim/clock", &[], login);
    assert_eq!(clock["mode"], "real");
    let (status, refused) =
        crate::support::sim::call(&url, "POST", "/sim/clock/advance?seconds=5", &[], login);
    assert_eq!(status, 400, "a real clock is not moved by hand: {refused}");
    let (_, task) = crate::support::sim::call(
        &url,
        "POST",
        &Sim::ws("/Tasks"),
        &[("WorkflowSid", WW), ("Timeout", "1")],
        login,
    );
    let sid = task["sid"].as_str().expect("a sid").to_owned();
    // The TTL passes on its own: poll, without asserting on how long it took.
    let canceled = loop {
        let (_, task) =
            crate::support::sim::call(&url, "GET", &Sim::ws(&format!("/Tasks/{sid}")), &[], login);
        if task["assignment_status"] == "canceled" || started.elapsed().as_secs() > 60 {
            break task;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(canceled["assignment_status"], "canceled", "{canceled}");
}

// ---- Twilio's OpenAPI description ---------------------------------------------------------

/// Every operation the simulator serves, by `operationId`; the description's other operations
/// (deletes, statistics, task channel changes) get `404` or `405` from it.
const SERVED: [&str; 37] = [
    "ListWorkspace",
    "CreateWorkspace",
    "FetchWorkspace",
    "UpdateWorkspace",
    "ListActivity",
    "CreateActivity",
    "FetchActivity",
    "UpdateActivity",
    "ListWorker",
    "CreateWorker",
    "FetchWorker",
    "UpdateWorker",
    "ListWorkerChannel",
    "FetchWorkerChannel",
    "UpdateWorkerChannel",
    "ListWorkerReservation",
    "FetchWorkerReservation",
    "UpdateWorkerReservation",
    "ListTaskQueue",
    "CreateTaskQueue",
    "FetchTaskQueue",
    "UpdateTaskQueue",
    "ListWorkflow",
    "CreateWorkflow",
    "FetchWorkflow",
    "UpdateWorkflow",
    "ListTask",
    "CreateTask",
    "FetchTask",
    "UpdateTask",
    "ListTaskReservation",
    "FetchTaskReservation",
    "UpdateTaskReservation",
    "ListEvent",
    "FetchEvent",
    "ListTaskChannel",
    "FetchTaskChannel",
];

/// Every operation of the description: (operationId, method, path template).
fn operations(spec: &Value) -> Vec<(String, String, String)> {
    let mut all = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if let Some(id) = operation["operationId"].as_str() {
                all.push((id.to_owned(), method.to_uppercase(), path.clone()));
            }
        }
    }
    all
}

/// `$ref`s resolved.
fn resolve<'s>(spec: &'s Value, schema: &'s Value) -> &'s Value {
    match schema["$ref"].as_str() {
        Some(reference) => spec
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{reference} resolves")),
        None => schema,
    }
}

/// Checks that every object of `value` has exactly the properties its schema lists (Prism
/// checks each property's type, format and pattern, but not that none is missing or extra: the
/// description sets neither `required` nor `additionalProperties`).
fn same_keys(spec: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if let (Some(properties), Value::Object(object)) = (schema["properties"].as_object(), value) {
        let expected: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
        let found: BTreeSet<&str> = object.keys().map(String::as_str).collect();
        if expected != found {
            problems.push(format!(
                "{at}: missing {:?}, extra {:?}",
                expected.difference(&found).collect::<Vec<_>>(),
                found.difference(&expected).collect::<Vec<_>>()
            ));
        }
        for (key, property) in properties {
            if let Some(inner) = object.get(key) {
                same_keys(spec, property, inner, &format!("{at}.{key}"), problems);
            }
        }
    }
    if let (Some(items), Value::Array(values)) = (schema.get("items"), value) {
        for (index, item) in values.iter().enumerate() {
            same_keys(spec, items, item, &format!("{at}[{index}]"), problems);
        }
    }
}

/// A request of the walk through every served operation, and what it checks.
struct Step {
    operation: &'static str,
    method: &'static str,
    path: String,
    form: Vec<(String, String)>,
    status: u16,
}

fn step(
    operation: &'static str,
    method: &'static str,
    path: String,
    form: &[(&str, &str)],
    status: u16,
) -> Step {
    Step {
        operation,
        method,
        path,
        form: form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        status,
    }
}

#[test]
fn every_answer_of_every_operation_the_simulator_serves_validates_against_twilios_description() {
    let spec = spec();
    let sim = Sim::start(
        &document(
            &[
                worker(1, "alice", &["support"]),
                worker(2, "bob", &["sales"]),
            ],
            &routing(),
            &json!({}),
            2,
            &json!({}),
        ),
        &[],
    );
    let prism = Prism::proxy(&sim.url);
    let mut covered = BTreeSet::new();
    let mut problems = Vec::new();
    let ws = |tail: &str| Sim::ws(tail);
    let run = |step: &Step,
               covered: &mut BTreeSet<&'static str>,
               problems: &mut Vec<String>|
     -> Value {
        let form: Vec<(&str, &str)> = step
            .form
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, headers, body) = call_with_headers(
            &prism.url,
            step.method,
            &step.path,
            &form,
            Some((ACCOUNT, SIM_TOKEN)),
        );
        if status != step.status {
            problems.push(format!(
                "{} {} {}: status {status}, expected {}: {body}",
                step.operation, step.method, step.path, step.status
            ));
        }
        if let Some((_, violations)) = headers.iter().find(|(name, _)| name == "sl-violations") {
            problems.push(format!(
                "{} {}: Prism: {violations}",
                step.operation, step.path
            ));
        }
        let operation = spec["paths"]
            .as_object()
            .expect("paths")
            .values()
            .flat_map(|item| item.as_object().expect("an item").values())
            .find(|operation| operation["operationId"] == step.operation)
            .unwrap_or_else(|| panic!("{} is in the description", step.operation));
        let schema = &operation["responses"][step.status.to_string()]["content"]["application/json"]
            ["schema"];
        same_keys(&spec, schema, &body, step.operation, problems);
        covered.insert(step.operation);
        body
    };
    let task_form = [
        ("Attributes", r#"{"type": "sales"}"#),
        ("WorkflowSid", WW),
        ("Priority", "2"),
        ("Timeout", "600"),
    ];
    let walk1 = vec![
        step(
            "ListWorkspace",
            "GET",
            "/v1/Workspaces?FriendlyName=Simulated".to_owned(),
            &[],
            200,
        ),
        step("FetchWorkspace", "GET", ws(""), &[], 200),
        step(
            "UpdateWorkspace",
            "POST",
            ws(""),
            &[
                ("EventsFilter", "task.created"),
                ("TimeoutActivitySid", BREAK),
            ],
            200,
        ),
        step(
            "ListActivity",
            "GET",
            ws("/Activities?Available=true"),
            &[],
            200,
        ),
        step(
            "CreateActivity",
            "POST",
            ws("/Activities"),
            &[("FriendlyName", "Lunch"), ("Available", "false")],
            201,
        ),
        step(
            "FetchActivity",
            "GET",
            ws(&format!("/Activities/{OFFLINE}")),
            &[],
            200,
        ),
        step(
            "UpdateActivity",
            "POST",
            ws(&format!("/Activities/{BREAK}")),
            &[("FriendlyName", "Pause")],
            200,
        ),
        step(
            "ListWorker",
            "GET",
            ws("/Workers?TargetWorkersExpression=skills%20HAS%20'sales'"),
            &[],
            200,
        ),
        step(
            "CreateWorker",
            "POST",
            ws("/Workers"),
            &[
                ("FriendlyName", "carol"),
                ("Attributes", r#"{"skills": ["sales"]}"#),
                ("ActivitySid", AVAILABLE),
            ],
            201,
        ),
        step(
            "FetchWorker",
            "GET",
            ws("/Workers/WK00000000000000000000000000000001"),
            &[],
            200,
        ),
        step(
            "UpdateWorker",
            "POST",
            ws("/Workers/WK00000000000000000000000000000001"),
            &[("Attributes", r#"{"skills": ["support", "sales"]}"#)],
            200,
        ),
        step(
            "ListWorkerChannel",
            "GET",
            ws("/Workers/WK00000000000000000000000000000001/Channels"),
            &[],
            200,
        ),
        step(
            "FetchWorkerChannel",
            "GET",
            ws("/Workers/WK00000000000000000000000000000001/Channels/chat"),
            &[],
            200,
        ),
        step(
            "UpdateWorkerChannel",
            "POST",
            ws("/Workers/WK00000000000000000000000000000001/Channels/chat"),
            &[("Capacity", "3")],
            200,
        ),
        step(
            "ListTaskQueue",
            "GET",
            ws("/TaskQueues?WorkerSid=WK00000000000000000000000000000002"),
            &[],
            200,
        ),
        step(
            "CreateTaskQueue",
            "POST",
            ws("/TaskQueues"),
            &[
                ("FriendlyName", "Everyone"),
                ("TargetWorkers", "1==1"),
                ("MaxReservedWorkers", "3"),
                ("TaskOrder", "LIFO"),
            ],
            201,
        ),
        step(
            "FetchTaskQueue",
            "GET",
            ws(&format!("/TaskQueues/{SALES}")),
            &[],
            200,
        ),
        step(
            "UpdateTaskQueue",
            "POST",
            ws(&format!("/TaskQueues/{ESCALATIONS}")),
            &[("TargetWorkers", "skills HAS 'escalation' OR level > 3")],
            200,
        ),
        step("ListWorkflow", "GET", ws("/Workflows"), &[], 200),
        step(
            "CreateWorkflow",
            "POST",
            ws("/Workflows"),
            &[
                ("FriendlyName", "Sales only"),
                (
                    "Configuration",
                    &json!({"task_routing": {"default_filter": {"queue": SALES}}}).to_string(),
                ),
                ("AssignmentCallbackUrl", "http://127.0.0.1:9/assign"),
                ("TaskReservationTimeout", "60"),
            ],
            201,
        ),
        step(
            "FetchWorkflow",
            "GET",
            ws(&format!("/Workflows/{WW}")),
            &[],
            200,
        ),
        step(
            "UpdateWorkflow",
            "POST",
            ws(&format!("/Workflows/{WW}")),
            &[("TaskReservationTimeout", "90")],
            200,
        ),
        step("CreateTask", "POST", ws("/Tasks"), &task_form, 201),
        step(
            "ListTask",
            "GET",
            ws("/Tasks?AssignmentStatus=reserved&Ordering=DateCreated:desc"),
            &[],
            200,
        ),
        step("ListTaskChannel", "GET", ws("/TaskChannels"), &[], 200),
        step(
            "FetchTaskChannel",
            "GET",
            ws("/TaskChannels/voice"),
            &[],
            200,
        ),
    ];
    let mut task = Value::Null;
    for step in &walk1 {
        let body = run(step, &mut covered, &mut problems);
        if step.operation == "CreateTask" {
            task = body;
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n--- Prism ---\n{}",
        problems.join("\n"),
        prism.log()
    );
    let task = task["sid"].as_str().expect("a task was created").to_owned();
    let (_, listed) = sim.get(&ws(&format!("/Tasks/{task}/Reservations")));
    let pending: Vec<(String, String)> = listed["reservations"]
        .as_array()
        .expect("reservations")
        .iter()
        .map(|reservation| {
            (
                reservation["sid"].as_str().unwrap_or("?").to_owned(),
                reservation["worker_sid"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        pending.len(),
        2,
        "MaxReservedWorkers 2: two pending reservations {listed}"
    );
    let (first, _) = &pending[0];
    let (second, second_worker) = &pending[1];
    let (_, events) = sim.get(&ws(&format!("/Events?TaskSid={task}")));
    let event = events["events"][0]["sid"]
        .as_str()
        .expect("an event")
        .to_owned();
    let walk2 = vec![
        step("FetchTask", "GET", ws(&format!("/Tasks/{task}")), &[], 200),
        step(
            "ListTaskReservation",
            "GET",
            ws(&format!(
                "/Tasks/{task}/Reservations?ReservationStatus=pending"
            )),
            &[],
            200,
        ),
        step(
            "FetchTaskReservation",
            "GET",
            ws(&format!("/Tasks/{task}/Reservations/{first}")),
            &[],
            200,
        ),
        step(
            "ListWorkerReservation",
            "GET",
            ws(&format!("/Workers/{second_worker}/Reservations")),
            &[],
            200,
        ),
        step(
            "FetchWorkerReservation",
            "GET",
            ws(&format!("/Workers/{second_worker}/Reservations/{second}")),
            &[],
            200,
        ),
        // A conference with repeated StatusCallbackEvent keys: the instruction read by the
        // project's `Instruction`, accepted; the other reservation is rescinded.
        step(
            "UpdateWorkerReservation",
            "POST",
            ws(&format!("/Workers/{second_worker}/Reservations/{second}")),
            &[
                ("Instruction", "conference"),
                ("From", "+18005550100"),
                ("StatusCallbackEvent", "ringing"),
                ("StatusCallbackEvent", "answered"),
                ("ConferenceRecord", "true"),
                ("Beep", "onEnter"),
            ],
            200,
        ),
        step(
            "UpdateTask",
            "POST",
            ws(&format!("/Tasks/{task}")),
            &[("AssignmentStatus", "wrapping"), ("Reason", "call ended")],
            200,
        ),
        step(
            "UpdateTaskReservation",
            "POST",
            ws(&format!("/Tasks/{task}/Reservations/{second}")),
            &[("ReservationStatus", "completed")],
            200,
        ),
        step(
            "ListEvent",
            "GET",
            ws(&format!(
                "/Events?TaskSid={task}&StartDate=2026-12-02T12:00:00Z&EndDate=2026-12-02T13:00:00Z"
            )),
            &[],
            200,
        ),
        step(
            "FetchEvent",
            "GET",
            ws(&format!("/Events/{event}")),
            &[],
            200,
        ),
        step(
            "CreateWorkspace",
            "POST",
            "/v1/Workspaces".to_owned(),
            &[
                ("FriendlyName", "Second"),
                ("EventCallbackUrl", "http://127.0.0.1:9/events"),
                ("MultiTaskEnabled", "false"),
            ],
            201,
        ),
    ];
    for step in &walk2 {
        run(step, &mut covered, &mut problems);
    }
    assert_eq!(outcomes(&sim, &task).len(), 2);
    assert!(
        problems.is_empty(),
        "{}\n--- Prism ---\n{}",
        problems.join("\n"),
        prism.log()
    );
    let served: BTreeSet<&str> = SERVED.into_iter().collect();
    assert_eq!(covered, served, "the walk covers every operation served");
    // The description's other operations are not pretended.
    let sids = |template: &str| {
        template
            .replace("{WorkspaceSid}", WS)
            .replace("{Sid}", "WA00000000000000000000000000000001")
            .replace("{WorkerSid}", "WK00000000000000000000000000000001")
            .replace("{TaskSid}", &task)
            .replace("{TaskQueueSid}", SUPPORT)
            .replace("{WorkflowSid}", WW)
    };
    for (id, method, path) in operations(&spec) {
        if served.contains(id.as_str()) {
            continue;
        }
        let (status, body) = sim.call(
            &method,
            &sids(&path),
            &[("FriendlyName", "x")],
            Some((ACCOUNT, SIM_TOKEN)),
        );
        assert!(
            matches!(status, 404 | 405) && body["code"].is_u64(),
            "{id} ({method} {path}) is not served: {status} {body}"
        );
    }
}

/// (operationId, method, path, form, status) of one request of the Accounts API.
type AccountsStep = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    u16,
);

/// A request as a token of [`ACCOUNT`] logs in: the status and the JSON.
fn as_token(sim: &Sim, token: &str, method: &str, path: &str, form: &[(&str, &str)]) -> Value {
    let (status, body) = sim.call(method, path, form, Some((ACCOUNT, token)));
    json!({"status": status, "body": body})
}

#[test]
fn the_accounts_operations_the_simulator_serves_validate_against_twilios_description() {
    let spec = accounts_spec();
    let sim = Sim::start(
        &document(
            &[worker(1, "alice", &["support"])],
            &support_only(),
            &json!({}),
            1,
            &json!({}),
        ),
        &[],
    );
    let prism = Prism::accounts_proxy(&sim.url);
    let mut problems = Vec::new();
    let mut token = SIM_TOKEN.to_owned();
    // (operation, method, path, form, status): a rotation, then a secondary created and deleted.
    let walk: [AccountsStep; 4] = [
        (
            "CreateSecondaryAuthToken",
            "POST",
            "/v1/AuthTokens/Secondary",
            &[("SuppressEmailNotification", "true")],
            201,
        ),
        (
            "UpdateAuthTokenPromotion",
            "POST",
            "/v1/AuthTokens/Promote",
            &[("SuppressEmailNotification", "false")],
            200,
        ),
        (
            "CreateSecondaryAuthToken",
            "POST",
            "/v1/AuthTokens/Secondary",
            &[],
            201,
        ),
        (
            "DeleteSecondaryAuthToken",
            "DELETE",
            "/v1/AuthTokens/Secondary?SuppressEmailNotification=true",
            &[],
            204,
        ),
    ];
    for (id, method, path, form, expected) in walk {
        let (status, headers, body) =
            call_with_headers(&prism.url, method, path, form, Some((ACCOUNT, &token)));
        if status != expected {
            problems.push(format!(
                "{id}: status {status}, expected {expected}: {body}"
            ));
        }
        if let Some((_, violations)) = headers.iter().find(|(name, _)| name == "sl-violations") {
            problems.push(format!("{id}: Prism: {violations}"));
        }
        let operation = spec["paths"]
            .as_object()
            .expect("paths")
            .values()
            .flat_map(|item| item.as_object().expect("an item").values())
            .find(|operation| operation["operationId"] == id)
            .unwrap_or_else(|| panic!("{id} is in the description"));
        let content = &operation["responses"][expected.to_string()]["content"];
        if content.is_null() {
            assert_eq!(body, Value::Null, "{id}: no body");
        } else {
            same_keys(
                &spec,
                &content["application/json"]["schema"],
                &body,
                id,
                &mut problems,
            );
        }
        if id == "UpdateAuthTokenPromotion" {
            token = body["auth_token"].as_str().unwrap_or_default().to_owned();
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n--- Prism ---\n{}",
        problems.join("\n"),
        prism.log()
    );
    // Nothing left to act on, and methods the paths do not take.
    let cases = [
        (
            "POST",
            "/v1/AuthTokens/Promote",
            404,
            "no secondary to promote",
        ),
        ("DELETE", "/v1/AuthTokens/Secondary", 404, "none to delete"),
        ("GET", "/v1/AuthTokens/Secondary", 405, "not readable"),
        ("DELETE", "/v1/AuthTokens/Promote", 405, "not deletable"),
    ];
    for (method, path, expected, why) in cases {
        let (status, body) = sim.call(method, path, &[], Some((ACCOUNT, &token)));
        assert_eq!(status, expected, "{why}: {body}");
        assert!(body["code"].is_u64(), "{why}: Twilio's error JSON {body}");
    }
}

#[test]
fn a_promotion_switches_the_token_callbacks_are_signed_with_and_the_old_one_stops_logging_in() {
    use taskrouter_lambda::rest::accounts::AccountsClient;
    use taskrouter_lambda::rest::{Credentials, RetryPolicy};
    let server = Server::start(|_| Reply::json(200, r#"{"instruction": "accept"}"#));
    let callback = format!("{}/assignment", server.url);
    let sim = Sim::start(
        &document(
            &[
                worker(1, "alice", &["support"]),
                worker(2, "bob", &["support"]),
                worker(3, "carol", &["support"]),
            ],
            &support_only(),
            &json!({"assignment_callback_url": callback}),
            1,
            &json!({}),
        ),
        &[],
    );
    let accounts = |token: &str| {
        let credentials = Credentials::auth_token(
            taskrouter_lambda::sid::AccountSid::parse(ACCOUNT).expect("sid"),
            secrecy::SecretString::from(token),
        );
        AccountsClient::new(credentials, sim.url.clone(), RetryPolicy::default()).expect("a client")
    };
    let task_by = |token: &str| {
        let attributes = json!({"type": "support"}).to_string();
        let created = as_token(
            &sim,
            token,
            "POST",
            &Sim::ws("/Tasks"),
            &[("Attributes", &attributes), ("WorkflowSid", WW)],
        );
        assert_eq!(created["status"], 201, "{created}");
        let settled = as_token(&sim, token, "POST", "/sim/clock/advance?seconds=0", &[]);
        assert_eq!(settled["status"], 200, "{settled}");
    };
    let logs_in = |token: &str| as_token(&sim, token, "GET", &Sim::ws(""), &[])["status"] == 200;

    task_by(SIM_TOKEN);
    let secondary = accounts(SIM_TOKEN)
        .create_secondary_auth_token(true)
        .expect("CreateSecondaryAuthToken");
    let secondary = secrecy::ExposeSecret::expose_secret(&secondary).to_owned();
    assert_ne!(secondary, SIM_TOKEN);
    assert!(
        logs_in(&secondary) && logs_in(SIM_TOKEN),
        "both log in before the promotion"
    );
    task_by(&secondary);
    accounts(&secondary)
        .promote_auth_token(true)
        .expect("UpdateAuthTokenPromotion");
    assert!(logs_in(&secondary), "the promoted token logs in");
    assert!(!logs_in(SIM_TOKEN), "the old primary is refused");
    task_by(&secondary);
    assert!(
        !accounts(&secondary)
            .delete_secondary_auth_token(true)
            .expect("DeleteSecondaryAuthToken"),
        "the promotion left no secondary"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 3, "one callback per task");
    let params: Vec<_> = requests
        .iter()
        .map(|request| taskrouter_lambda::form::FormParams::from_pairs(request.form()))
        .collect();
    // The primary signs, never a secondary that is not promoted (docs/taskrouter.md §4).
    let cases: Vec<(&str, &str, &taskrouter_lambda::form::FormParams)> = vec![
        (SIM_TOKEN, callback.as_str(), &params[0]),
        (SIM_TOKEN, callback.as_str(), &params[1]),
        (secondary.as_str(), callback.as_str(), &params[2]),
    ];
    let expected = signatures(&cases);
    let received: Vec<&str> = requests
        .iter()
        .map(|request| request.header("x-twilio-signature").expect("signed"))
        .collect();
    assert_eq!(received, expected);
}

// Scenarios with several steps each: step timeouts, time of day, the function's decisions.
mod scenarios;

// Twilio's Python helper library against the simulator, only its base URL changed.
mod python_client;
