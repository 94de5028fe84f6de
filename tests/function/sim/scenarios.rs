//! Scenarios of the lifecycle under the manual clock that need more than one step: step
//! timeouts counted from the task's age (docs/taskrouter.md §12, Timers), Workflow filters on
//! `taskrouter.currentTime` at a chosen instant (docs/taskrouter.md §9), the compiled function's
//! logged decisions set beside what the simulator applied, and the fallback URL when the function
//! fails closed.

use serde_json::{Value, json};

use super::{
    AVAILABLE, BREAK, ESCALATIONS, SALES, SUPPORT, WW, activity_of, create_task, document,
    event_types, fetch_task, outcomes, pair, support_only, worker,
};
use crate::support::gateway::Gateway;
use crate::support::repo;
use crate::support::sim::Sim;
use crate::support::{Function, json_lines};

/// The function's log lines whose `message` is `message`, once there are at least `count` of
/// them: its output is read from a pipe as it comes, so the last line may trail the answer the
/// simulator already applied. Gives up after 10 s and returns what there is.
async fn logged(function: &Function, message: &str, count: usize) -> Vec<Value> {
    let started = std::time::Instant::now();
    loop {
        let lines: Vec<Value> = json_lines(&function.output())
            .into_iter()
            .filter(|line| line["message"] == message)
            .collect();
        if lines.len() >= count || started.elapsed() > std::time::Duration::from_secs(10) {
            return lines;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The task's queue name and status.
fn where_is(sim: &Sim, task: &str) -> (String, String) {
    let task = fetch_task(sim, task);
    (
        task["task_queue_friendly_name"]
            .as_str()
            .unwrap_or("?")
            .to_owned(),
        task["assignment_status"].as_str().unwrap_or("?").to_owned(),
    )
}

fn at(queue: &str, status: &str) -> (String, String) {
    (queue.to_owned(), status.to_owned())
}

fn sid(task: &Value) -> String {
    task["sid"].as_str().expect("a task SID").to_owned()
}

#[test]
fn a_waiting_task_moves_to_the_next_target_when_its_age_passes_each_steps_timeout() {
    // Nobody has the escalation skill and bob, the only sales worker, is on a break: the task
    // waits in each of the first two steps until its age passes 30 s, then 30 + 30 s.
    let mut bob = worker(2, "bob", &["sales"]);
    bob["activity"] = json!("Break");
    let configuration = json!({"task_routing": {"filters": [
        {"filter_friendly_name": "escalation", "expression": "1 == 1", "targets": [
            {"queue": ESCALATIONS, "timeout": 30},
            {"queue": SALES, "timeout": 30},
            {"queue": SUPPORT}
        ]}
    ]}});
    let sim = Sim::start(
        &document(
            &[worker(1, "alice", &["support"]), bob],
            &configuration,
            &json!({}),
            1,
            &json!({}),
        ),
        &[],
    );
    let task = sid(&create_task(&sim, &json!({}), &[]));
    #[rustfmt::skip]
    let steps = [
        (29, at("Escalations", "pending"), "age 29 s: the first step's 30 s have not passed"),
        (1, at("Sales", "pending"), "age 30 s: the second target; bob is on a break"),
        (29, at("Sales", "pending"), "age 59 s: the second step ends at 30 + 30 s of age, not 30 s after entering it"),
        (1, at("Support", "reserved"), "age 60 s: the last target, and alice"),
    ];
    for (seconds, expected, why) in steps {
        sim.advance(seconds);
        assert_eq!(where_is(&sim, &task), expected, "{why}\n{}", sim.log());
    }
    assert_eq!(outcomes(&sim, &task), [pair("alice", "pending")]);
    assert_eq!(
        event_types(&sim, &task)[4..],
        [
            "task-queue.timeout",
            "task-queue.entered",
            "workflow.target-matched",
            "task-queue.timeout",
            "task-queue.entered",
            "workflow.target-matched",
            "reservation.created"
        ],
        "each target entered is matched; the reservation comes with the last"
    );
}

#[test]
fn a_step_timeout_that_passes_while_the_task_is_reserved_moves_it_when_the_reservation_times_out() {
    // The task-evaluation page's worked example, in other numbers: the reservation outlives
    // the step, and the task goes to the next target only when the reservation ends.
    let configuration = json!({"task_routing": {"filters": [
        {"filter_friendly_name": "sales first", "expression": "1 == 1", "targets": [
            {"queue": SALES, "timeout": 10},
            {"queue": SUPPORT}
        ]}
    ]}});
    let sim = Sim::start(
        &document(
            &[
                worker(1, "alice", &["support"]),
                worker(2, "bob", &["sales"]),
            ],
            &configuration,
            &json!({"task_reservation_timeout": 15}),
            1,
            &json!({}),
        ),
        &[],
    );
    let task = sid(&create_task(&sim, &json!({}), &[]));
    assert_eq!(outcomes(&sim, &task), [pair("bob", "pending")]);
    sim.advance(10);
    assert_eq!(
        (where_is(&sim, &task), outcomes(&sim, &task)),
        (at("Sales", "reserved"), vec![pair("bob", "pending")]),
        "the step's 10 s have passed, but bob's reservation still runs"
    );
    sim.advance(5);
    assert_eq!(
        (where_is(&sim, &task), outcomes(&sim, &task)),
        (
            at("Support", "reserved"),
            vec![pair("bob", "timeout"), pair("alice", "pending")]
        ),
        "at 15 s the reservation times out and the task, past its step, goes to Support\n{}",
        sim.log()
    );
    assert_eq!(
        activity_of(&sim, "WK00000000000000000000000000000002"),
        "Offline"
    );
}

/// The sample workspace (`workflows/workspace.json`) with a Workflow routing by Twilio's
/// time-of-day example (`workflows/examples/time-of-day.json`): open hours to `Open Hours`
/// (WQ…04), the rest to `After Hours` (WQ…05).
fn time_of_day_workspace() -> Value {
    let read = |path: &str| -> Value {
        let text = std::fs::read_to_string(repo().join(path)).expect("a file of the repository");
        serde_json::from_str(&text).expect("JSON")
    };
    let mut workspace = read("workflows/workspace.json");
    workspace["workflows"] = json!([{
        "sid": WW,
        "friendly_name": "Time of day",
        "configuration": read("workflows/examples/time-of-day.json"),
    }]);
    workspace
}

fn create_in(sim: &Sim, workspace: &str) -> String {
    let (status, task) = sim.post(
        &format!("/v1/Workspaces/{workspace}/Tasks"),
        &[("Attributes", "{}"), ("WorkflowSid", WW)],
    );
    assert_eq!(status, 201, "{task}\n{}", sim.log());
    sid(&task)
}

#[test]
fn time_of_day_filters_route_by_the_simulators_clock_from_its_start_and_as_it_advances() {
    let workspace = time_of_day_workspace();
    let ws = workspace["sid"]
        .as_str()
        .expect("a workspace SID")
        .to_owned();
    let queue_of = |sim: &Sim, task: &str| -> String {
        let (status, body) = sim.get(&format!("/v1/Workspaces/{ws}/Tasks/{task}"));
        assert_eq!(status, 200, "{body}");
        body["task_queue_friendly_name"]
            .as_str()
            .unwrap_or("?")
            .to_owned()
    };
    #[rustfmt::skip]
    let cases = [
        ("2026-12-03T10:00:00Z", "Open Hours", "Thursday 10:00 UTC, inside 08:00-17:30"),
        ("2026-12-06T10:00:00Z", "After Hours", "Sunday: closed all day"),
        ("2026-12-05T11:00:30Z", "After Hours", "Saturday 11:00:30 is 1100, not after 1100: currentTime counts minutes"),
        ("2026-12-05T11:01:00Z", "Open Hours", "Saturday 11:01, inside 11:00-15:30"),
    ];
    for (start, queue, why) in cases {
        let sim = Sim::start_at(&workspace, start, &[]);
        let task = create_in(&sim, &ws);
        assert_eq!(queue_of(&sim, &task), queue, "{start}: {why}");
    }

    // One simulator across closing time: Thursday 17:29:59 is open, one second later closed.
    let sim = Sim::start_at(&workspace, "2026-12-03T17:29:59Z", &[]);
    let before = create_in(&sim, &ws);
    assert_eq!(
        sim.advance(1)["now"],
        "2026-12-03T17:30:00Z",
        "the clock moved by one second"
    );
    let after = create_in(&sim, &ws);
    assert_eq!(
        (queue_of(&sim, &before), queue_of(&sim, &after)),
        ("Open Hours".to_owned(), "After Hours".to_owned())
    );
}

/// What the simulator's log says each assignment callback was answered: (reservation, answer),
/// `defer` for `{}`, otherwise the instruction's name.
fn answers_narrated(log: &str) -> Vec<(String, String)> {
    log.lines()
        .filter(|line| line.contains("assignment callback answered in"))
        .map(|line| {
            let answer = line
                .split_once(" ms: ")
                .and_then(|(_, rest)| rest.split_once(" reservation="))
                .map_or("?", |(answer, _)| answer);
            let answer = if answer.starts_with("{}") {
                "defer"
            } else {
                answer
            };
            let reservation = line
                .split_once("reservation=")
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or("?");
            (reservation.to_owned(), answer.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_decision_the_function_logged_is_the_one_the_simulator_applied() {
    let rules = json!({"rules": [
        {"name": "vip", "when": "vip == true", "instruction": {"instruction": "accept"}},
        {"name": "spam", "when": "spam == true", "instruction": {"instruction": "reject", "activity_sid": BREAK}},
        {"name": "call", "when": "call_sid != null", "instruction": {
            "instruction": "dequeue", "from": "{{task.to}}", "post_work_activity_sid": AVAILABLE}}
    ]});
    let gateway = Gateway::start(&[("ASSIGNMENT_RULES", &rules.to_string())]).await;
    let callback = format!("{}/taskrouter/assignment_callback", gateway.url);
    let workers: Vec<Value> = ["alice", "bob", "carol", "dave", "erin"]
        .iter()
        .zip(1..)
        .map(|(name, n)| worker(n, name, &["support"]))
        .collect();
    let document = document(
        &workers,
        &support_only(),
        &json!({"assignment_callback_url": callback}),
        1,
        &json!({}),
    );
    let sim = tokio::task::spawn_blocking(move || Sim::start(&document, &[]))
        .await
        .expect("started");
    let sim = std::sync::Arc::new(sim);
    let played = std::sync::Arc::clone(&sim);
    tokio::task::spawn_blocking(move || {
        // An accept, a dequeue, a deferral (the three workers keep their tasks), then a spam
        // task rejected by the two workers left, in turn, into Break.
        for attributes in [
            json!({"vip": true}),
            json!({"call_sid": "CA0123456789abcdef0123456789abcdef", "to": "+14155550100"}),
            json!({}),
            json!({"spam": true}),
        ] {
            create_task(&played, &attributes, &[]);
            played.advance(0);
        }
    })
    .await
    .expect("the tasks were played");

    let logged = logged(&gateway.function, "assignment answered", 5).await;
    let mut decisions: Vec<&str> = logged
        .iter()
        .map(|line| line["decision"].as_str().unwrap_or("?"))
        .collect();
    decisions.sort_unstable();
    assert_eq!(
        decisions,
        ["accept", "defer", "dequeue", "reject", "reject"],
        "{}",
        gateway.function.output()
    );
    let log = sim.log();
    let narrated = answers_narrated(&log);
    let check = std::sync::Arc::clone(&sim);
    let applied = tokio::task::spawn_blocking(move || {
        logged
            .iter()
            .map(|line| {
                let field = |name: &str| line[name].as_str().unwrap_or("?").to_owned();
                let (task, reservation, worker) = (
                    field("task_sid"),
                    field("reservation_sid"),
                    field("worker_sid"),
                );
                let (status, body) = check.get(&Sim::ws(&format!(
                    "/Tasks/{task}/Reservations/{reservation}"
                )));
                assert_eq!(status, 200, "{body}");
                (
                    (reservation, field("decision")),
                    body["reservation_status"]
                        .as_str()
                        .unwrap_or("?")
                        .to_owned(),
                    activity_of(&check, &worker),
                )
            })
            .collect::<Vec<_>>()
    })
    .await
    .expect("read back");

    // The simulator narrates the same answers for the same reservations, in the same order...
    let logged_answers: Vec<(String, String)> = applied
        .iter()
        .map(|(answer, _, _)| answer.clone())
        .collect();
    assert_eq!(narrated, logged_answers, "{log}");
    // ...and applied each: the reservation's status, and the worker's activity after a reject.
    for ((reservation, decision), status, activity) in &applied {
        let expected = match decision.as_str() {
            "defer" => ("pending", "Available"),
            "reject" => ("rejected", "Break"),
            "accept" | "dequeue" => ("accepted", "Available"),
            other => panic!("an unexpected decision {other}"),
        };
        assert_eq!(
            (status.as_str(), activity.as_str()),
            expected,
            "{decision} of {reservation}\n{log}"
        );
    }
    assert!(
        log.contains("dequeue") && !log.contains("WARN"),
        "every answer applied:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_answering_503_sends_the_callback_to_the_fallback_function_which_decides() {
    // The primary function cannot read its token (SSM on a port nothing listens on) and fails
    // closed with 503; the fallback is a second function with its token at hand, accepting.
    let nowhere = format!("http://127.0.0.1:{}", crate::support::loopback::free_port());
    let primary = Gateway::start_with(&[
        ("TWILIO_AUTH_TOKEN_PARAMETER", "/taskrouter/auth-token"),
        ("AWS_ENDPOINT_URL", &nowhere),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ])
    .await;
    let accept = json!({"rules": [], "default": {"instruction": "accept"}});
    let fallback = Gateway::start(&[("ASSIGNMENT_RULES", &accept.to_string())]).await;
    let document = document(
        &[worker(1, "alice", &["support"])],
        &support_only(),
        &json!({
            "assignment_callback_url": format!("{}/taskrouter/assignment_callback", primary.url),
            "fallback_assignment_callback_url": format!("{}/taskrouter/assignment_callback", fallback.url),
        }),
        1,
        &json!({}),
    );
    let sim = tokio::task::spawn_blocking(move || {
        let sim = Sim::start(&document, &[]);
        let task = sid(&create_task(&sim, &json!({"type": "support"}), &[]));
        sim.advance(0);
        (sim, task)
    });
    let (sim, task) = sim.await.expect("played");
    let reservations = tokio::task::spawn_blocking({
        let task = task.clone();
        move || (outcomes(&sim, &task), sim.log())
    });
    let (outcomes, log) = reservations.await.expect("read back");
    assert_eq!(
        outcomes,
        [pair("alice", "accepted")],
        "the fallback's accept applied\n{log}"
    );
    let refused: Vec<Value> = logged(
        &primary.function,
        "request refused: auth token unavailable",
        1,
    )
    .await
    .into_iter()
    .filter(|line| line["status"] == 503)
    .collect();
    assert!(
        !refused.is_empty(),
        "the primary failed closed:\n{}",
        primary.function.output()
    );
    let decided: Vec<(String, String)> = logged(&fallback.function, "assignment answered", 1)
        .await
        .into_iter()
        .map(|line| {
            (
                line["task_sid"].as_str().unwrap_or("?").to_owned(),
                line["decision"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    assert_eq!(decided, [(task, "accept".to_owned())]);
    assert!(
        log.contains("assignment callback unusable after")
            && log.contains("(status 503, not 200): calling the FallbackAssignmentCallbackUrl")
            && log.contains("fallback assignment callback answered in"),
        "the simulator narrates the 503 and the fallback's answer:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_reservation_left_to_time_out_is_offered_again_and_the_function_sees_the_tasks_age()
 {
    // The function defers every reservation; nobody decides over REST.
    let gateway = Gateway::start(&[]).await;
    let callback = format!("{}/taskrouter/assignment_callback", gateway.url);
    let document = document(
        &[
            worker(1, "alice", &["support"]),
            worker(2, "bob", &["support"]),
        ],
        &support_only(),
        &json!({"assignment_callback_url": callback}),
        1,
        &json!({}),
    );
    let played = tokio::task::spawn_blocking(move || {
        let sim = Sim::start(&document, &[]);
        let task = sid(&create_task(&sim, &json!({}), &[]));
        sim.advance(0);
        let before = outcomes(&sim, &task);
        sim.advance(120);
        let after = outcomes(&sim, &task);
        let alice = activity_of(&sim, "WK00000000000000000000000000000001");
        (sim, task, before, after, alice)
    });
    let (sim, task, before, after, alice) = played.await.expect("played");
    assert_eq!(before, [pair("alice", "pending")], "deferred");
    assert_eq!(
        after,
        [pair("alice", "timeout"), pair("bob", "pending")],
        "at 120 s, the default TaskReservationTimeout\n{}",
        sim.log()
    );
    assert_eq!(alice, "Offline", "the workspace's TimeoutActivitySid");
    let seen: Vec<(String, String, u64)> = logged(&gateway.function, "assignment answered", 2)
        .await
        .into_iter()
        .map(|line| {
            (
                line["task_sid"].as_str().unwrap_or("?").to_owned(),
                line["worker_sid"].as_str().unwrap_or("?").to_owned(),
                line["task_age"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                task.clone(),
                "WK00000000000000000000000000000001".to_owned(),
                0
            ),
            (task, "WK00000000000000000000000000000002".to_owned(), 120),
        ],
        "two callbacks, the second with the task's age on the simulator's clock\n{}",
        gateway.function.output()
    );
}
