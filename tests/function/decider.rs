//! The slow path end to end on one machine: the simulator reserves a worker and calls the
//! compiled function behind its HTTP front; a `defer` rule answers `{}` and queues the
//! reservation on moto's SQS; the compiled `taskrouter-decider`, fed the queue's messages as
//! Lambda's event source mapping feeds them (batches, `batchItemFailures` delivered again, the
//! others deleted), asks a scripted decider (Python, checking every signature with Twilio's
//! `RequestValidator`) and applies its answer over the simulator's REST API. The simulator's
//! clock is manual, so a reservation times out only when a test says so.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::support::cli::ACCOUNT;
use crate::support::gateway::Gateway;
use crate::support::loopback::free_port;
use crate::support::moto::Moto;
use crate::support::process::{self, Output, collect_output};
use crate::support::runtime_api::{Outcome, RuntimeApi};
use crate::support::sim::{SIM_TOKEN, Sim, WS};
use crate::support::{TempFile, json_lines, repo};

const OFFLINE: &str = "WA00000000000000000000000000000001";
const WW: &str = "WW00000000000000000000000000000001";
const SUPPORT: &str = "WQ00000000000000000000000000000001";
const ALICE: &str = "WK00000000000000000000000000000001";
/// The workers' names, `WK…01` first.
const NAMES: [&str; 3] = ["alice", "bob", "carol"];

/// The scripted decider (`support/decider.py`) on a free port.
struct ScriptedDecider {
    _child: Child,
    log: TempFile,
}

impl ScriptedDecider {
    async fn start_at(port: u16, script: &[&str], sim: &Sim) -> Self {
        let log = TempFile::new("decider.jsonl", "");
        let child = Command::new("python3")
            .arg(repo().join("tests/function/support/decider.py"))
            .arg(port.to_string())
            .env("TWILIO_AUTH_TOKEN", SIM_TOKEN)
            .env("TWILIO_ACCOUNT_SID", ACCOUNT)
            .env("SIM_URL", &sim.url)
            .env("DECIDER_SCRIPT", json!(script).to_string())
            .env("DECIDER_LOG", log.path())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the scripted decider");
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the scripted decider did not listen"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { _child: child, log }
    }

    /// One JSON object per request it received.
    fn requests(&self) -> Vec<Value> {
        json_lines(&std::fs::read_to_string(self.log.path()).unwrap_or_default())
    }
}

/// The compiled `taskrouter-decider` against a Runtime API emulator.
struct DeciderFunction {
    api: RuntimeApi,
    _child: tokio::process::Child,
    output: Arc<Mutex<Output>>,
}

impl DeciderFunction {
    async fn start(moto: &Moto, queue: &str, sim: &Sim) -> Self {
        Self::start_with(moto, queue, sim, &[]).await
    }

    async fn start_with(moto: &Moto, queue: &str, sim: &Sim, extra: &[(&str, &str)]) -> Self {
        let api = RuntimeApi::start().await;
        let mut command = process::lambda_command(
            env!("CARGO_BIN_EXE_taskrouter-decider"),
            &api,
            "taskrouter-decider-test",
            256,
        );
        command
            .envs(moto.function_env())
            .env("TWILIO_AUTH_TOKEN", SIM_TOKEN)
            .env("DEFERRED_QUEUE_URL", queue)
            .env("TASKROUTER_API_URL", &sim.url)
            .env("DECIDER_RETRY_SECONDS", "1")
            .envs(extra.iter().copied());
        if extra
            .iter()
            .any(|(name, _)| *name == "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX")
        {
            // A token per account instead of the one token.
            command.env_remove("TWILIO_AUTH_TOKEN");
        }
        let mut child = command.spawn().expect("spawn the decider binary");
        let output = collect_output(&mut child, usize::MAX);
        Self {
            api,
            _child: child,
            output,
        }
    }

    fn output(&self) -> String {
        self.output
            .lock()
            .map(|o| o.text.clone())
            .unwrap_or_default()
    }

    /// The outcomes once `done` holds for them (its output is read as the process writes it, so
    /// the last line of an invocation may arrive after the invocation's answer), or as they are
    /// after ten seconds.
    async fn outcomes_when(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let started = Instant::now();
        loop {
            let outcomes = self.outcomes();
            if done(&outcomes) || started.elapsed() > Duration::from_secs(10) {
                return outcomes;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The `Outcome` of every `Deferrals` metric line, in order.
    fn outcomes(&self) -> Vec<String> {
        json_lines(&self.output())
            .iter()
            .filter(|line| line["Deferrals"] == 1)
            .filter_map(|line| line["Outcome"].as_str().map(str::to_owned))
            .collect()
    }
}

/// What Lambda's event source mapping does, once: receive a batch (waiting up to `wait`), invoke
/// the function with it, delete the messages it did not report failed. The number of messages.
async fn deliver(
    moto: &Moto,
    queue: &str,
    decider: &DeciderFunction,
    duplicate: bool,
    wait: i32,
) -> usize {
    let sqs = moto.sqs_client().await;
    let received = sqs
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .wait_time_seconds(wait)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("moto receives");
    let messages = received.messages();
    if messages.is_empty() {
        return 0;
    }
    let mut records: Vec<Value> = messages
        .iter()
        .map(|message| {
            let attributes: serde_json::Map<String, Value> = message
                .attributes()
                .into_iter()
                .flatten()
                .map(|(key, value)| (key.as_str().to_owned(), Value::from(value.as_str())))
                .collect();
            json!({
                "messageId": message.message_id(),
                "receiptHandle": message.receipt_handle(),
                "body": message.body(),
                "attributes": attributes,
                "eventSource": "aws:sqs",
            })
        })
        .collect();
    if duplicate {
        // At-least-once: the same message delivered twice, in the same batch.
        let copies = records.clone();
        records.extend(copies);
    }
    let response = match decider.api.invoke(json!({"Records": records})).await {
        Outcome::Response(response) => response,
        Outcome::Error(error) => panic!("the decider failed: {error}\n{}", decider.output()),
    };
    let failed: HashSet<&str> = response["batchItemFailures"]
        .as_array()
        .expect("a partial batch response")
        .iter()
        .filter_map(|failure| failure["itemIdentifier"].as_str())
        .collect();
    for message in messages {
        if !failed.contains(message.message_id().unwrap_or_default()) {
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("moto deletes");
        }
    }
    messages.len()
}

/// Delivers until the queue holds no message, visible or not: at most `rounds` batches, and at
/// most a minute (moto's long poll may answer at once while a retried message is hidden, so an
/// empty answer is followed by a short pause, not counted as a batch).
async fn drain(moto: &Moto, queue: &str, decider: &DeciderFunction, rounds: usize) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let started = Instant::now();
    let mut batches = 0;
    while batches < rounds && started.elapsed() < Duration::from_secs(60) {
        if deliver(moto, queue, decider, false, 5).await > 0 {
            batches += 1;
            continue;
        }
        let attributes = moto
            .sqs_client()
            .await
            .get_queue_attributes()
            .queue_url(queue)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("moto answers");
        let held: u64 = attributes
            .attributes()
            .into_iter()
            .flatten()
            .filter_map(|(_, count)| count.parse::<u64>().ok())
            .sum();
        if held == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "the queue was not drained ({batches} batches delivered)\n{}",
        decider.output()
    );
}

/// The whole loop: the simulator (alice, available, support tasks), the function deferring every
/// callback to the scripted decider for `within` seconds (otherwise: reject into Offline), the
/// queue and the decider function.
struct Slow {
    moto: Moto,
    queue: String,
    gateway: Gateway,
    sim: Arc<Sim>,
    scripted: ScriptedDecider,
    decider: DeciderFunction,
}

impl Slow {
    async fn start(script: &[&str], within: u32) -> Self {
        Self::start_with(script, within, 1).await
    }

    /// As [`Slow::start`], with `workers` workers (alice, bob, …) and the queue reserving up to
    /// that many at once.
    async fn start_with(script: &[&str], within: u32, workers: u8) -> Self {
        let moto = Moto::start().await;
        let queue = moto.create_queue("deferred").await;
        // The simulator needs the function's URL and the function the decider's: a port for the
        // scripted decider is chosen once both exist, so the rules are written last.
        let listener_port = free_port();
        let decider_url = format!("http://127.0.0.1:{listener_port}/decide");
        let rules = json!({"rules": [{"name": "ask-the-crm", "when": "1 == 1", "defer": {
            "decider": decider_url, "within_seconds": within,
            "otherwise": {"instruction": "reject", "activity_sid": OFFLINE}}}]});
        let moto_env = moto.function_env();
        let rules_text = rules.to_string();
        let mut env: Vec<(&str, &str)> = moto_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.push(("ASSIGNMENT_RULES", &rules_text));
        env.push(("DEFERRED_QUEUE_URL", &queue));
        let gateway = Gateway::start(&env).await;
        let callback = format!("{}/taskrouter/assignment_callback", gateway.url);
        let document = json!({
            "sid": WS, "friendly_name": "Simulated",
            "default_activity": "Offline", "timeout_activity": "Offline",
            "activities": [
                {"sid": OFFLINE, "friendly_name": "Offline", "available": false},
                {"sid": "WA00000000000000000000000000000002", "friendly_name": "Available", "available": true}
            ],
            "workers": (1..=workers).map(|n| json!({
                "sid": format!("WK0000000000000000000000000000000{n}"),
                "friendly_name": NAMES[usize::from(n - 1) % NAMES.len()],
                "activity": "Available", "attributes": {"skills": ["support"]}})).collect::<Vec<_>>(),
            "task_queues": [{"sid": SUPPORT, "friendly_name": "Support",
                "target_workers": "skills HAS 'support'", "max_reserved_workers": workers}],
            "workflows": [{"sid": WW, "friendly_name": "Support",
                "configuration": {"task_routing": {"filters": [], "default_filter": {"queue": SUPPORT}}},
                "assignment_callback_url": callback, "task_reservation_timeout": 120}],
        });
        let sim = tokio::task::spawn_blocking(move || Sim::start(&document, &[]))
            .await
            .expect("the simulator starts");
        let scripted = ScriptedDecider::start_at(listener_port, script, &sim).await;
        let decider = DeciderFunction::start(&moto, &queue, &sim).await;
        Self {
            moto,
            queue,
            gateway,
            sim: Arc::new(sim),
            scripted,
            decider,
        }
    }

    /// Creates a support task; once the simulation settles, alice holds a pending reservation,
    /// deferred by the function. The task's and the reservation's SIDs.
    async fn reserve(&self) -> (String, String) {
        let sim = Arc::clone(&self.sim);
        tokio::task::spawn_blocking(move || {
            let (status, task) = sim.post(
                &Sim::ws("/Tasks"),
                &[
                    ("Attributes", r#"{"type": "support"}"#),
                    ("WorkflowSid", WW),
                ],
            );
            assert_eq!(status, 201, "{task}");
            sim.advance(0);
            let task = task["sid"].as_str().expect("a task SID").to_owned();
            let (_, listed) = sim.get(&Sim::ws(&format!("/Tasks/{task}/Reservations")));
            let reservation = listed["reservations"][0]["sid"]
                .as_str()
                .unwrap_or_else(|| panic!("a reservation: {listed}\n{}", sim.log()))
                .to_owned();
            (task, reservation)
        })
        .await
        .expect("reserved")
    }

    async fn get(&self, path: String) -> Value {
        let sim = Arc::clone(&self.sim);
        tokio::task::spawn_blocking(move || sim.get(&path).1)
            .await
            .expect("fetched")
    }

    async fn reservation(&self, task: &str, reservation: &str) -> Value {
        self.get(Sim::ws(&format!(
            "/Tasks/{task}/Reservations/{reservation}"
        )))
        .await
    }

    /// The event types of the task, in order.
    async fn events(&self, task: &str) -> Vec<String> {
        let events = self
            .get(Sim::ws(&format!("/Events?TaskSid={task}&PageSize=1000")))
            .await;
        events["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|event| event["event_type"].as_str().map(str::to_owned))
            .collect()
    }

    fn context(&self) -> String {
        format!(
            "--- decider\n{}\n--- function\n{}\n--- simulator\n{}",
            self.decider.output(),
            self.gateway.function.output(),
            self.sim.log()
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decider_that_accepts_after_two_not_yets_gets_the_task_assigned_with_every_ask_signed() {
    let slow = Slow::start(&["empty", "empty", "accept"], 60).await;
    let (task, reservation) = slow.reserve().await;
    assert_eq!(
        slow.reservation(&task, &reservation).await["reservation_status"],
        "pending",
        "the function answered {{}}\n{}",
        slow.context()
    );
    drain(&slow.moto, &slow.queue, &slow.decider, 10).await;
    assert_eq!(
        slow.reservation(&task, &reservation).await["reservation_status"],
        "accepted",
        "{}",
        slow.context()
    );
    let task_now = slow.get(Sim::ws(&format!("/Tasks/{task}"))).await;
    assert_eq!(task_now["assignment_status"], "assigned");
    let asks = slow.scripted.requests();
    assert_eq!(asks.len(), 3, "{asks:?}");
    for ask in &asks {
        assert_eq!(
            ask["valid"], true,
            "every ask verifies with Twilio's validator: {ask}"
        );
        assert_eq!(ask["reservation"], reservation.as_str());
        assert!(
            ask["deadline"].as_str().is_some_and(|d| d.ends_with('Z')),
            "{ask}"
        );
    }
    assert_eq!(
        slow.decider.outcomes_when(|o| o.len() >= 3).await,
        ["retried", "retried", "applied"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decider_that_never_answers_gets_otherwise_applied_before_the_reservation_times_out() {
    let slow = Slow::start(&["fail"], 3).await;
    let (task, reservation) = slow.reserve().await;
    drain(&slow.moto, &slow.queue, &slow.decider, 20).await;
    assert_eq!(
        slow.reservation(&task, &reservation).await["reservation_status"],
        "rejected",
        "otherwise rejects into Offline\n{}",
        slow.context()
    );
    let alice = slow.get(Sim::ws(&format!("/Workers/{ALICE}"))).await;
    assert_eq!(alice["activity_name"], "Offline");
    let outcomes = slow
        .decider
        .outcomes_when(|o| o.last().is_some_and(|last| last != "retried"))
        .await;
    assert_eq!(
        outcomes.last().map(String::as_str),
        Some("otherwise"),
        "{outcomes:?}"
    );
    assert!(
        outcomes[..outcomes.len() - 1]
            .iter()
            .all(|o| o == "retried"),
        "{outcomes:?}"
    );
    assert!(
        !slow
            .events(&task)
            .await
            .contains(&"reservation.timeout".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_timed_out_before_the_decider_runs_is_never_asked_nor_updated() {
    let slow = Slow::start(&["accept"], 60).await;
    // Timed out while the message waited on the queue.
    let (first, timed_out) = slow.reserve().await;
    let sim = Arc::clone(&slow.sim);
    tokio::task::spawn_blocking(move || sim.advance(121))
        .await
        .expect("advanced");
    drain(&slow.moto, &slow.queue, &slow.decider, 5).await;
    assert_eq!(
        slow.reservation(&first, &timed_out).await["reservation_status"],
        "timeout"
    );
    assert_eq!(
        slow.decider.outcomes_when(|o| !o.is_empty()).await,
        ["gone"],
        "{}",
        slow.context()
    );
    assert!(
        slow.scripted.requests().is_empty(),
        "the decider was never asked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn races_with_the_reservation_apply_no_second_decision_and_never_fail_the_message_for_good() {
    // 1. The worker accepts in their own UI while the decider thinks; the decider then answers
    //    reject: the update is refused, the reservation stays accepted.
    let slow = Slow::start(&["accept-elsewhere", "accept", "accept"], 60).await;
    let (task, reservation) = slow.reserve().await;
    drain(&slow.moto, &slow.queue, &slow.decider, 5).await;
    assert_eq!(
        slow.reservation(&task, &reservation).await["reservation_status"],
        "accepted",
        "{}",
        slow.context()
    );
    assert_eq!(
        slow.decider.outcomes_when(|o| !o.is_empty()).await,
        ["gone"]
    );
    let accepted = slow
        .events(&task)
        .await
        .iter()
        .filter(|event| *event == "reservation.accepted")
        .count();
    assert_eq!(accepted, 1);

    // 2. Complete that task so alice is free, then a duplicate delivery of a new one: both
    //    copies in one batch; one applies, the other finds it no longer pending.
    let sim = Arc::clone(&slow.sim);
    let done = task.clone();
    tokio::task::spawn_blocking(move || {
        sim.post(
            &Sim::ws(&format!("/Tasks/{done}")),
            &[("AssignmentStatus", "completed"), ("Reason", "done")],
        )
    })
    .await
    .expect("completed");
    let (second, duplicated) = slow.reserve().await;
    assert!(deliver(&slow.moto, &slow.queue, &slow.decider, true, 5).await > 0);
    drain(&slow.moto, &slow.queue, &slow.decider, 5).await;
    assert_eq!(
        slow.reservation(&second, &duplicated).await["reservation_status"],
        "accepted",
        "{}",
        slow.context()
    );
    let accepted = slow
        .events(&second)
        .await
        .iter()
        .filter(|event| *event == "reservation.accepted")
        .count();
    assert_eq!(accepted, 1, "one decision applied");
    assert_eq!(
        slow.decider.outcomes_when(|o| o.len() >= 3).await[1..],
        ["applied", "gone"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_that_times_out_between_the_fetch_and_the_update_is_reported_gone() {
    // The decider, asked, lets the simulated clock pass the reservation timeout, then accepts.
    let slow = Slow::start(&["advance:121"], 60).await;
    let (task, reservation) = slow.reserve().await;
    drain(&slow.moto, &slow.queue, &slow.decider, 5).await;
    assert_eq!(
        slow.reservation(&task, &reservation).await["reservation_status"],
        "timeout",
        "{}",
        slow.context()
    );
    assert_eq!(
        slow.decider.outcomes_when(|o| !o.is_empty()).await,
        ["gone"]
    );
}

#[tokio::test]
async fn the_example_decider_verifies_the_signature_with_twilios_helper_and_answers_like_a_callback()
 {
    let port = free_port();
    let _child = Command::new("python3")
        .arg(repo().join("examples/decider.py"))
        .arg(port.to_string())
        .env("TWILIO_AUTH_TOKEN", SIM_TOKEN)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs the example decider");
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the example did not listen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("http://127.0.0.1:{port}/decide");
    let ask = |tier: Option<&str>, token: &str| {
        let attributes = tier.map_or_else(|| json!({}), |tier| json!({"customer_tier": tier}));
        let params = vec![
            ("TaskAttributes".to_owned(), attributes.to_string()),
            (
                "ReservationSid".to_owned(),
                "WR00000000000000000000000000000001".to_owned(),
            ),
            ("Deadline".to_owned(), "2026-12-07T12:01:30Z".to_owned()),
        ];
        let signature = taskrouter_lambda::signature::sign(token.as_bytes(), &url, &params);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        let url = url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut answer = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .new_agent()
                    .post(&url)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("X-Twilio-Signature", &signature)
                    .send(body.as_str())
                    .expect("the example answers");
                let status = answer.status().as_u16();
                let text = answer.body_mut().read_to_string().unwrap_or_default();
                (
                    status,
                    serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
                )
            })
            .await
            .expect("asked")
        }
    };
    assert_eq!(
        ask(Some("premium"), SIM_TOKEN).await,
        (200, json!({"instruction": "accept"}))
    );
    assert_eq!(
        ask(Some("standard"), SIM_TOKEN).await.1["instruction"],
        "reject"
    );
    assert_eq!(ask(None, SIM_TOKEN).await, (200, json!({})), "not yet");
    assert_eq!(ask(Some("premium"), "another-token").await.0, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_locally_the_decider_polls_the_queue_itself_and_decides() {
    // `make decider`: no Lambda, the binary reads the queue as the event source mapping would.
    let slow = Slow::start(&["empty", "accept"], 60).await;
    let polling = DeciderFunction::start_with(
        &slow.moto,
        &slow.queue,
        &slow.sim,
        &[("DECIDER_POLL", "true")],
    )
    .await;
    let (task, reservation) = slow.reserve().await;
    let started = Instant::now();
    loop {
        let status = slow.reservation(&task, &reservation).await["reservation_status"].clone();
        if status == "accepted" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "still {status}\n{}\n{}",
            polling.output(),
            slow.context()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let started = Instant::now();
    while polling.outcomes() != ["retried", "applied"] {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}\n{}",
            polling.outcomes(),
            polling.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_rescinded_because_another_worker_accepted_is_never_asked_nor_updated() {
    // Two workers reserved at once: the first deferral accepted by the decider rescinds the other
    // reservation, whose deferral is then `gone` without an ask.
    let slow = Slow::start_with(&["accept"], 60, 2).await;
    let sim = Arc::clone(&slow.sim);
    let task = tokio::task::spawn_blocking(move || {
        let (status, task) = sim.post(
            &Sim::ws("/Tasks"),
            &[
                ("Attributes", r#"{"type": "support"}"#),
                ("WorkflowSid", WW),
            ],
        );
        assert_eq!(status, 201, "{task}");
        sim.advance(0);
        task["sid"].as_str().expect("a task SID").to_owned()
    })
    .await
    .expect("created");
    drain(&slow.moto, &slow.queue, &slow.decider, 10).await;
    let listed = slow
        .get(Sim::ws(&format!("/Tasks/{task}/Reservations")))
        .await;
    let mut statuses: Vec<&str> = listed["reservations"]
        .as_array()
        .expect("reservations")
        .iter()
        .filter_map(|reservation| reservation["reservation_status"].as_str())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["accepted", "rescinded"], "{}", slow.context());
    assert_eq!(
        slow.decider.outcomes_when(|o| o.len() >= 2).await,
        ["applied", "gone"]
    );
    assert_eq!(
        slow.scripted.requests().len(),
        1,
        "the rescinded one was never asked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_per_account_the_decider_signs_with_the_token_of_the_callbacks_account() {
    let slow = Slow::start(&["accept"], 60).await;
    slow.moto
        .put_secure_string(&format!("/taskrouter/accounts/{ACCOUNT}"), SIM_TOKEN)
        .await;
    let per_account = DeciderFunction::start_with(
        &slow.moto,
        &slow.queue,
        &slow.sim,
        &[(
            "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX",
            "/taskrouter/accounts/",
        )],
    )
    .await;
    let (task, reservation) = slow.reserve().await;
    drain(&slow.moto, &slow.queue, &per_account, 5).await;
    assert_eq!(
        slow.reservation(&task, &reservation).await["reservation_status"],
        "accepted",
        "{}\n{}",
        per_account.output(),
        slow.context()
    );
    let asks = slow.scripted.requests();
    assert_eq!(asks.len(), 1);
    assert_eq!(
        asks[0]["valid"], true,
        "signed with the account's token from SSM"
    );
    assert_eq!(
        per_account.outcomes_when(|o| !o.is_empty()).await,
        ["applied"]
    );
}
