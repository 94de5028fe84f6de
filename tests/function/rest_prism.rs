//! The REST client and its commands against Twilio's own description of the API: Stoplight Prism
//! serving `twilio_taskrouter_v1.json` (support/prism.rs). Every request the client can make must
//! be accepted; deliberate mistakes must come back as the client's clear errors. Prism's two
//! blind spots (docs/taskrouter.md §7: it refuses every array, and it accepts unknown parameter
//! names) are covered by [`every_form_key_the_client_sends_exists_in_its_operations_schema`], which
//! reads the description itself. The client's cases run against the simulator too, which keeps
//! state: there they act on tasks and reservations they create, and get Twilio's errors.

use std::process::Output;

use serde_json::{Map, Value, json};
use taskrouter_lambda::instruction::{HttpUrl, Instruction};
use taskrouter_lambda::rest::resources::{
    EventsFilter, NewTask, TaskFilter, TaskStatus, TaskTransition, TaskUpdate, WorkerFilter,
    WorkerUpdate, WorkflowUpdate, WorkspaceUpdate,
};
use taskrouter_lambda::rest::transport::{Replay, Request};
use taskrouter_lambda::rest::{Client, ReservationOf, RestConfig};
use taskrouter_lambda::sid::{
    ActivitySid, ReservationSid, TaskQueueSid, TaskSid, WorkerSid, WorkflowSid, WorkspaceSid,
};

use crate::support::cli::{
    ACCOUNT, CA, WA, WK, WR, WS, WT, WW, assert_no_secret, taskrouter_on, text,
};
use crate::support::prism::{Prism, SPEC_BYTES, spec, spec_bytes};
use crate::support::sim::{SIM_TOKEN, Sim};

const TOKEN: &str = "prism-token-that-must-stay-secret";

/// Every instruction with every parameter it takes (as in `instruction.rs`'s fixtures).
fn instructions() -> Vec<(&'static str, Instruction)> {
    let values = [
        ("accept", json!({"instruction": "accept"})),
        (
            "reject",
            json!({"instruction": "reject", "activity_sid": WA}),
        ),
        (
            "dequeue",
            json!({
                "instruction": "dequeue", "to": "client:alice", "from": "+18001234567",
                "post_work_activity_sid": WA, "record": "record-from-answer", "timeout": 30,
                "status_callback_url": "https://example.com/status",
                "status_callback_events": "initiated,ringing,answered,completed",
            }),
        ),
        (
            "call",
            json!({
                "instruction": "call", "url": "https://example.com/twiml", "from": "+18001234567",
                "to": "sip:alice@example.com", "accept": true, "record": "do-not-record",
                "timeout": 999, "status_callback_url": "http://example.com/status",
            }),
        ),
        (
            "redirect",
            json!({
                "instruction": "redirect", "call_sid": CA, "url": "https://example.com/hold",
                "accept": true, "post_work_activity_sid": WA,
            }),
        ),
        (
            "conference",
            json!({
                "instruction": "conference", "to": "client:alice", "from": "+18001234567",
                "post_work_activity_sid": WA, "timeout": 45,
                "status_callback": "https://example.com/leg", "status_callback_method": "GET",
                "status_callback_event": "ringing,answered", "record": true, "muted": false,
                "beep": "onEnter", "start_conference_on_enter": true,
                "end_conference_on_exit": false, "wait_url": "https://example.com/hold.mp3",
                "wait_method": "GET", "early_media": true, "max_participants": 2,
                "conference_status_callback": "https://example.com/conference",
                "conference_status_callback_method": "POST",
                "conference_status_callback_event": "start,end,join,leave,mute,hold,speaker",
                "conference_record": "record-from-start", "conference_trim": "do-not-trim",
                "recording_channels": "dual",
                "recording_status_callback": "https://example.com/recording",
                "recording_status_callback_method": "POST",
                "conference_recording_status_callback": "https://example.com/conference-recording",
                "conference_recording_status_callback_method": "GET", "region": "ie1",
                "sip_auth_username": "alice", "sip_auth_password": "s3cret",
                "end_conference_on_customer_exit": true, "beep_on_customer_entrance": false,
                "jitter_buffer_size": "medium",
            }),
        ),
    ];
    values
        .into_iter()
        .map(|(name, value)| (name, Instruction::from_json(&value).expect(name)))
        .collect()
}

fn attributes() -> Map<String, Value> {
    json!({"selected_language": "es", "type": "support"})
        .as_object()
        .cloned()
        .expect("an object")
}

fn url(text: &str) -> HttpUrl {
    HttpUrl::new(text).expect("a valid URL")
}

fn new_task() -> NewTask {
    NewTask {
        attributes: attributes(),
        workflow_sid: Some(WorkflowSid::parse(WW).expect("sid")),
        priority: Some(10),
        timeout: Some(3600),
        task_channel: Some("voice".to_owned()),
    }
}

fn task_update() -> TaskUpdate {
    TaskUpdate {
        attributes: Some(attributes()),
        assignment_status: Some(TaskTransition::Canceled),
        reason: Some("the caller hung up".to_owned()),
        priority: Some(5),
    }
}

/// What `task complete` sends.
fn task_completion() -> TaskUpdate {
    TaskUpdate {
        assignment_status: Some(TaskTransition::Completed),
        reason: Some("resolved on the first call".to_owned()),
        ..TaskUpdate::default()
    }
}

/// What `worker activity --reject-pending-reservations` sends.
fn worker_update() -> WorkerUpdate {
    WorkerUpdate {
        activity_sid: Some(ActivitySid::parse(WA).expect("sid")),
        reject_pending_reservations: true,
    }
}

/// `task list` with every filter.
fn task_filter() -> TaskFilter {
    TaskFilter {
        statuses: vec![TaskStatus::Pending, TaskStatus::Reserved],
        workflow: Some(WorkflowSid::parse(WW).expect("sid")),
        queue: Some(TaskQueueSid::parse(WQ).expect("sid")),
        expression: Some("type == 'support'".to_owned()),
    }
}

/// `worker list` with every filter.
fn worker_filter() -> WorkerFilter {
    WorkerFilter {
        activity: Some(ActivitySid::parse(WA).expect("sid")),
        available: true,
        queue: Some(TaskQueueSid::parse(WQ).expect("sid")),
        expression: Some("skills HAS 'billing'".to_owned()),
    }
}

/// A queue.
const WQ: &str = "WQ0123456789abcdef0123456789abcdef";

fn workflow_update() -> WorkflowUpdate {
    WorkflowUpdate {
        assignment_callback_url: Some(url("https://example.com/taskrouter/assignment_callback")),
        fallback_assignment_callback_url: Some(url(
            "https://example.com/taskrouter/assignment_callback",
        )),
        configuration: None,
    }
}

/// What `workflow apply` sends: the routing document alone.
fn configuration_update() -> WorkflowUpdate {
    WorkflowUpdate {
        configuration: Some(
            std::fs::read_to_string(
                crate::support::repo().join("workflows/examples/helpline.json"),
            )
            .expect("the example"),
        ),
        ..WorkflowUpdate::default()
    }
}

fn workspace_update() -> WorkspaceUpdate {
    WorkspaceUpdate {
        event_callback_url: Some(url("https://example.com/taskrouter/events")),
        events_filter: Some(
            EventsFilter::parse("reservation.accepted,task.canceled").expect("valid"),
        ),
    }
}

/// A form body: PascalCase names and values.
type Form = Vec<(&'static str, String)>;

/// Every form body the client sends, by the operation it is sent to (and what it is), each with
/// every parameter the client can set.
fn forms() -> Vec<(&'static str, String, Form)> {
    let mut forms = Vec::new();
    for (name, instruction) in instructions() {
        for operation in ["UpdateTaskReservation", "UpdateWorkerReservation"] {
            forms.push((operation, name.to_owned(), instruction.to_form()));
        }
    }
    forms.push(("CreateTask", "task".to_owned(), new_task().to_form()));
    forms.push(("UpdateTask", "task".to_owned(), task_update().to_form()));
    forms.push((
        "UpdateTask",
        "complete".to_owned(),
        task_completion().to_form(),
    ));
    forms.push((
        "UpdateWorker",
        "activity".to_owned(),
        worker_update().to_form(),
    ));
    forms.push((
        "UpdateWorkflow",
        "urls".to_owned(),
        workflow_update().to_form(),
    ));
    forms.push((
        "UpdateWorkflow",
        "configuration".to_owned(),
        configuration_update().to_form(),
    ));
    forms.push((
        "UpdateWorkspace",
        "events".to_owned(),
        workspace_update().to_form(),
    ));
    forms
}

/// The operation named `id` in the description.
fn operation<'a>(spec: &'a Value, id: &str) -> &'a Value {
    spec["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().into_iter().flat_map(|ops| ops.values()))
        .find(|operation| operation["operationId"] == id)
        .unwrap_or_else(|| panic!("the description has no operation {id}"))
}

/// A schema with a `$ref` resolved.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &spec["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Why `value` does not fit `schema`, if it does not.
fn misfit(spec: &Value, schema: &Value, value: &str) -> Option<String> {
    let schema = resolve(spec, schema);
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.iter().any(|item| item == value)
    {
        return Some(format!("not one of {allowed:?}"));
    }
    match schema["type"].as_str() {
        Some("integer") if value.parse::<i64>().is_err() => Some("not an integer".to_owned()),
        Some("boolean") if !matches!(value, "true" | "false") => Some("not a boolean".to_owned()),
        _ if schema["format"] == "uri" && !value.starts_with("http") => {
            Some("not a URI".to_owned())
        }
        _ => schema["pattern"].as_str().and_then(|pattern| {
            // Every pattern of these bodies is a SID: `^XX[0-9a-fA-F]{32}$`.
            let prefix = pattern.strip_prefix('^')?.get(..2)?;
            let well_formed = value.len() == 34
                && value.starts_with(prefix)
                && value[2..].bytes().all(|b| b.is_ascii_hexdigit());
            (!well_formed).then(|| format!("does not match {pattern}"))
        }),
    }
}

#[test]
fn the_description_is_the_pinned_file_from_twilio_cli_core() {
    // spec_bytes() checks the sha256; the size is docs/taskrouter.md §7.
    assert_eq!(spec_bytes().len(), SPEC_BYTES);
    assert_eq!(spec()["openapi"], "3.0.1");
}

#[test]
fn every_form_key_the_client_sends_exists_in_its_operations_schema() {
    let spec = spec();
    for (operation_id, what, form) in forms() {
        let properties = &operation(&spec, operation_id)["requestBody"]["content"]["application/x-www-form-urlencoded"]
            ["schema"]["properties"];
        let label = format!("{operation_id} ({what})");
        assert!(!form.is_empty(), "{label}: a full body sends something");
        for (key, value) in &form {
            let property = &properties[*key];
            assert!(
                property.is_object(),
                "{label}: `{key}` is not a parameter of {operation_id} in Twilio's description (a typo Prism would let through)"
            );
            let repeated = form.iter().filter(|(other, _)| other == key).count();
            if property["type"] == "array" {
                // An array goes out as one key per value, never as one comma-joined value.
                assert!(
                    !value.contains(','),
                    "{label}: `{key}` joins values: {value}"
                );
                if let Some(why) = misfit(&spec, &property["items"], value) {
                    panic!("{label}: `{key}={value}` is {why}");
                }
            } else {
                assert_eq!(repeated, 1, "{label}: `{key}` is not an array but repeats");
                if let Some(why) = misfit(&spec, property, value) {
                    panic!("{label}: `{key}={value}` is {why}");
                }
            }
        }
    }
    // The event lists are arrays in the description, and the client sends them repeated.
    let conference = forms()
        .into_iter()
        .find(|(id, what, _)| *id == "UpdateTaskReservation" && what == "conference")
        .expect("the conference form")
        .2;
    let events: Vec<&str> = conference
        .iter()
        .filter(|(key, _)| *key == "ConferenceStatusCallbackEvent")
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(
        events,
        ["start", "end", "join", "leave", "mute", "hold", "speaker"]
    );
}

#[test]
fn every_query_key_the_client_sends_exists_in_its_operations_parameters() {
    let spec = spec();
    let queries = [
        ("ListTask", task_filter().to_query(1000)),
        ("ListWorker", worker_filter().to_query(1)),
    ];
    for (operation_id, query) in queries {
        let parameters = operation(&spec, operation_id)["parameters"]
            .as_array()
            .expect("parameters");
        for (key, value) in &query {
            let parameter = parameters
                .iter()
                .find(|parameter| parameter["name"] == *key && parameter["in"] == "query")
                .unwrap_or_else(|| {
                    panic!(
                        "{operation_id}: `{key}` is not a query parameter in Twilio's description"
                    )
                });
            let schema = &parameter["schema"];
            let repeated = query.iter().filter(|(other, _)| other == key).count();
            let item = if schema["type"] == "array" {
                &schema["items"]
            } else {
                assert_eq!(
                    repeated, 1,
                    "{operation_id}: `{key}` is not an array but repeats"
                );
                schema
            };
            if let Some(why) = misfit(&spec, item, value) {
                panic!("{operation_id}: `{key}={value}` is {why}");
            }
            if let (Some(minimum), Ok(number)) = (item["minimum"].as_i64(), value.parse::<i64>()) {
                assert!(
                    number >= minimum,
                    "{operation_id}: `{key}={value}` < {minimum}"
                );
            }
            if let (Some(maximum), Ok(number)) = (item["maximum"].as_i64(), value.parse::<i64>()) {
                assert!(
                    number <= maximum,
                    "{operation_id}: `{key}={value}` > {maximum}"
                );
            }
        }
    }
    // The documented statuses are the description's.
    let statuses: Vec<&str> = spec["components"]["schemas"]["task_enum_status"]["enum"]
        .as_array()
        .expect("an enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(statuses, TaskStatus::NAMES);
}

/// A client logged in to `url` with `token`.
fn client_of(url: &str, token: &str) -> Client {
    let vars = [
        ("TWILIO_ACCOUNT_SID", ACCOUNT.to_owned()),
        ("TWILIO_AUTH_TOKEN", token.to_owned()),
        ("TASKROUTER_API_URL", url.to_owned()),
    ];
    let config = RestConfig::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("valid");
    Client::new(&config).expect("a client")
}

/// The activity the simulator's worker is available in; [`WA`] is its unavailable `Break`, the
/// activity the cases reject into and move the worker to.
const AVAILABLE: &str = "WA00000000000000000000000000000002";

/// Where the client's cases run. Prism mocks Twilio's description: every SID exists and every
/// answer is one of its examples. The simulator keeps state: the cases make the tasks and
/// reservations they act on, in a workspace with the SIDs the cases name ([`WS`], [`WW`], [`WK`],
/// [`WA`], [`WQ`], and the queues of `workflows/workspace.json`, which `configuration_update`
/// routes to).
enum Server {
    Prism(Prism),
    Sim(Sim),
}

impl Server {
    fn simulator() -> Self {
        let sample: Value = serde_json::from_str(
            &std::fs::read_to_string(crate::support::repo().join("workflows/workspace.json"))
                .expect("the sample workspace"),
        )
        .expect("JSON");
        let mut queues = sample["task_queues"].as_array().cloned().expect("queues");
        queues.push(json!({"sid": WQ, "friendly_name": "Support", "target_workers": "1==1"}));
        let document = json!({
            "sid": WS,
            "friendly_name": "REST cases",
            "default_activity": "Offline",
            "timeout_activity": "Offline",
            "activities": [
                {"sid": "WA00000000000000000000000000000001", "friendly_name": "Offline", "available": false},
                {"sid": AVAILABLE, "friendly_name": "Available", "available": true},
                {"sid": WA, "friendly_name": "Break", "available": false}
            ],
            "workers": [{
                "sid": WK, "friendly_name": "alice", "activity": "Available",
                "attributes": {"skills": ["billing", "support"], "contact_uri": "client:alice"},
                "channels": {"default": 50, "voice": 50}
            }],
            "task_queues": queues,
            "workflows": [{
                "sid": WW, "friendly_name": "Support",
                "configuration": {"task_routing": {"filters": [], "default_filter": {"queue": WQ}}}
            }]
        });
        Self::Sim(Sim::start(&document, &[]))
    }

    fn url(&self) -> &str {
        match self {
            Self::Prism(prism) => &prism.url,
            Self::Sim(sim) => &sim.url,
        }
    }

    fn token(&self) -> &'static str {
        match self {
            Self::Prism(_) => TOKEN,
            Self::Sim(_) => SIM_TOKEN,
        }
    }

    fn log(&self) -> String {
        match self {
            Self::Prism(prism) => prism.log(),
            Self::Sim(sim) => sim.log(),
        }
    }

    fn client(&self) -> Client {
        client_of(self.url(), self.token())
    }

    /// A task and a reservation of it still pending: Prism's SIDs, or on the simulator a new
    /// task (routed to [`WK`] at once) and its reservation.
    fn pending(&self, client: &Client) -> (TaskSid, ReservationSid) {
        match self {
            Self::Prism(_) => (
                TaskSid::parse(WT).expect("sid"),
                ReservationSid::parse(WR).expect("sid"),
            ),
            Self::Sim(sim) => {
                let workspace = WorkspaceSid::parse(WS).expect("sid");
                let task = client
                    .create_task(&workspace, &new_task())
                    .unwrap_or_else(|error| panic!("CreateTask: {error}\n{}", sim.log()))
                    .resource
                    .sid;
                let (status, body) = sim.get(&format!(
                    "/v1/Workspaces/{WS}/Tasks/{}/Reservations?ReservationStatus=pending",
                    task.as_str()
                ));
                assert_eq!(status, 200, "{body}");
                let reservation = body["reservations"][0]["sid"]
                    .as_str()
                    .unwrap_or_else(|| panic!("a pending reservation: {body}\n{}", sim.log()));
                (task, ReservationSid::parse(reservation).expect("sid"))
            }
        }
    }
}

#[test]
fn every_request_the_client_can_make_is_accepted_and_mistakes_come_back_clear() {
    requests_are_accepted_and_mistakes_come_back_clear(&Server::Prism(Prism::start()));
}

#[test]
fn every_request_the_client_can_make_is_accepted_by_the_simulator_and_mistakes_come_back_clear() {
    requests_are_accepted_and_mistakes_come_back_clear(&Server::simulator());
}

fn requests_are_accepted_and_mistakes_come_back_clear(server: &Server) {
    let client = server.client();
    let simulated = matches!(server, Server::Sim(_));
    let workspace = WorkspaceSid::parse(WS).expect("sid");
    let workflow = WorkflowSid::parse(WW).expect("sid");
    let worker = WorkerSid::parse(WK).expect("sid");
    let available = WorkerUpdate {
        activity_sid: Some(ActivitySid::parse(AVAILABLE).expect("sid")),
        reject_pending_reservations: false,
    };
    // On the simulator: an instruction that accepts leaves a task assigned, to complete below.
    let mut assigned = TaskSid::parse(WT).expect("sid");
    let mut last = None;
    for through_task in [true, false] {
        for (name, instruction) in instructions() {
            let (task, reservation) = server.pending(&client);
            let of = if through_task {
                ReservationOf::Task(task.clone())
            } else {
                ReservationOf::Worker(worker.clone())
            };
            let answer = client
                .update_reservation(&workspace, &of, &reservation, &instruction)
                .unwrap_or_else(|error| panic!("{name} via {of:?}: {error}\n{}", server.log()));
            assert!(answer.resource.sid.as_str().starts_with("WR"), "{name}");
            if simulated {
                let expected = if name == "reject" {
                    "rejected"
                } else {
                    "accepted"
                };
                assert_eq!(
                    answer.json["reservation_status"], expected,
                    "{name} via {of:?}: every instruction here accepts but reject"
                );
                if name == "reject" {
                    // Rejected into Break: back to work for the next case.
                    client
                        .update_worker(&workspace, &worker, &available)
                        .expect("UpdateWorker");
                } else {
                    assigned = task.clone();
                }
            }
            last = Some((of, reservation));
        }
    }
    let (of, reservation) = last.expect("a reservation updated");
    let fetched = client
        .fetch_reservation(&workspace, &of, &reservation)
        .unwrap_or_else(|error| panic!("fetch via {of:?}: {error}"));
    if simulated {
        assert_eq!(fetched.resource.sid, reservation);
    }
    // Deliberate mistakes, past the client's own validation through its transport. Prism
    // answers 422 with its validator's words; the simulator answers what Twilio answers.
    let (task, reservation) = server.pending(&client);
    let reservation_path = format!(
        "/v1/Workspaces/{WS}/Tasks/{}/Reservations/{}",
        task.as_str(),
        reservation.as_str()
    );
    #[rustfmt::skip]
    let mistakes = [
        (
            Request::post(reservation_path.clone(), vec![("ReservationStatus", "accept".to_owned())], Replay::Safe),
            (422, "Request body property ReservationStatus must be equal to one of the allowed values: pending, accepted, rejected, timeout, canceled, rescinded, wrapping, completed"),
            (400, "ReservationStatus"),
            "a bad enum",
        ),
        (
            Request::get(format!("/v1/Workspaces/WS{}/Tasks/{WT}", "0".repeat(31))),
            (422, "Request path parameter workspacesid must match pattern \"^WS[0-9a-fA-F]{32}$\""),
            (404, "was not found"),
            "a SID one digit short",
        ),
        (
            Request::post(format!("/v1/Workspaces/{WS}/Tasks"), vec![("Priority", "high".to_owned())], Replay::Unsafe),
            (422, "Request body property Priority must be integer"),
            (400, "Priority"),
            "a wrong type",
        ),
        (
            Request::post(reservation_path, vec![("Instruction", "dequeue".to_owned()), ("DequeueStatusCallbackUrl", "not a url".to_owned())], Replay::Safe),
            (422, "DequeueStatusCallbackUrl"),
            (400, "`status_callback_url` must be an absolute http(s) URL"),
            "a malformed URL",
        ),
    ];
    for (request, prism, sim, why) in mistakes {
        let (status, message) = if simulated { sim } else { prism };
        let error = client.transport().send(&request).expect_err(why);
        let api = error.api().unwrap_or_else(|| panic!("{why}: {error}"));
        assert_eq!(api.status, status, "{why}: {error}");
        assert!(error.to_string().contains(message), "{why}: {error}");
        assert!(
            !format!("{error} {error:?}").contains(server.token()),
            "{why}"
        );
    }
    let created = client
        .create_task(&workspace, &new_task())
        .expect("CreateTask");
    assert!(created.resource.sid.as_str().starts_with("WT"));
    assert_eq!(
        created.json["sid"],
        created.resource.sid.as_str(),
        "the JSON is kept whole"
    );
    let task = if simulated {
        created.resource.sid.clone()
    } else {
        TaskSid::parse(WT).expect("sid")
    };
    client.fetch_task(&workspace, &task).expect("FetchTask");
    let canceled = client
        .update_task(&workspace, &task, &task_update())
        .expect("UpdateTask");
    let completed = client
        .update_task(&workspace, &assigned, &task_completion())
        .expect("UpdateTask completing");
    if simulated {
        assert_eq!(
            (
                canceled.json["assignment_status"].as_str(),
                completed.json["assignment_status"].as_str()
            ),
            (Some("canceled"), Some("completed"))
        );
    }
    // Prism's list answers have several examples; the served copy's keys are sorted, so its
    // first is an empty one: ask for the full one, which the typed answer must read.
    let full = match server {
        Server::Prism(_) => server.client().with_header("Prefer", "example=readFull"),
        Server::Sim(_) => server.client(),
    };
    let tasks = full
        .list_tasks(&workspace, &task_filter(), 10)
        .unwrap_or_else(|error| panic!("ListTask: {error}\n{}", server.log()));
    assert_eq!(
        tasks.resources.len(),
        if simulated { 3 } else { 1 },
        "Prism: the description's example lists a task; the simulator: the two tasks rejected, \
         reserved again once the worker was back, and the one the mistakes were sent about: \
         {tasks:?}"
    );
    assert_eq!(tasks.json.len(), tasks.resources.len());
    let workers = full
        .list_workers(&workspace, &worker_filter(), 10)
        .unwrap_or_else(|error| panic!("ListWorker: {error}\n{}", server.log()));
    assert_eq!(
        workers.resources.len(),
        if simulated { 0 } else { 1 },
        "Prism: the description's example lists a worker; the simulator: nobody is available \
         in Break: {workers:?}"
    );
    client
        .fetch_worker(&workspace, &worker)
        .expect("FetchWorker");
    client
        .update_worker(&workspace, &worker, &worker_update())
        .expect("UpdateWorker");
    client
        .fetch_workflow(&workspace, &workflow)
        .expect("FetchWorkflow");
    client
        .update_workflow(&workspace, &workflow, &workflow_update())
        .expect("UpdateWorkflow");
    client
        .update_workflow(&workspace, &workflow, &configuration_update())
        .unwrap_or_else(|error| {
            panic!(
                "UpdateWorkflow with Configuration: {error}\n{}",
                server.log()
            )
        });
    client.fetch_workspace(&workspace).expect("FetchWorkspace");
    client
        .update_workspace(&workspace, &workspace_update())
        .expect("UpdateWorkspace");

    if simulated {
        return;
    }
    // Prism answers the status a request prefers: an error path through the typed client.
    let error = client
        .with_header("Prefer", "code=404")
        .fetch_workspace(&workspace)
        .expect_err("Prism answers 404");
    assert_eq!(
        error.to_string(),
        format!(
            "GET {}/v1/Workspaces/{WS} answered 404: The server cannot find the requested content: Requested status code 404 is not defined in the document.; check the SIDs: they must belong to this account and workspace",
            server.url()
        )
    );
}

fn taskrouter(prism: &Prism, args: &[&str]) -> Output {
    taskrouter_on(&prism.url, TOKEN)
        .args(args)
        .output()
        .expect("the taskrouter binary runs")
}

#[test]
fn the_commands_run_end_to_end_against_twilios_description() {
    let prism = Prism::start();
    let target = |verb: &'static str, by: &'static str, sid: &'static str| {
        vec![
            "reservation",
            verb,
            "--workspace",
            WS,
            by,
            sid,
            "--reservation",
            WR,
        ]
    };
    let with = |mut args: Vec<&'static str>, extra: &[&'static str]| {
        args.extend_from_slice(extra);
        args
    };
    // (arguments, exit code, expected stdout (exact, or a part when it starts with "…"), why)
    let cases: Vec<(Vec<&str>, i32, String, &str)> = vec![
        (
            vec!["task", "create", "--workspace", WS, "--workflow", WW, "--attributes", r#"{"selected_language":"es"}"#, "--priority", "5", "--timeout", "600", "--channel", "voice"],
            0,
            "task:       WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nstatus:     pending\nqueue:      WQaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (Example Task Queue)\nworkflow:   WWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (Example Workflow)\npriority:   1\nage:        25200 s\nchannel:    unique\nreason:     Test Reason\n".to_owned(),
            "task create prints the task",
        ),
        (
            vec!["task", "create", "--workspace", WS, "--workflow", WW, "--json"],
            0,
            "…\"sid\": \"WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"".to_owned(),
            "task create --json prints Twilio's answer",
        ),
        (
            target("accept", "--task", WT),
            0,
            "reservation: WRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nstatus:      accepted\ntask:        WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nworker:      WKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (Doug)\n".to_owned(),
            "accept through the task",
        ),
        (target("accept", "--worker", WK), 0, "…status:      accepted".to_owned(), "accept through the worker"),
        (with(target("reject", "--task", WT), &["--activity", WA]), 0, "…reservation: WR".to_owned(), "reject"),
        (
            with(target("dequeue", "--task", WT), &["--to", "client:alice", "--from", "+18005550100", "--activity", WA, "--record", "--timeout", "30", "--status-callback-url", "https://example.com/status", "--status-callback-events", "initiated,completed"]),
            0,
            "…reservation: WR".to_owned(),
            "dequeue with every flag",
        ),
        (
            with(target("call", "--worker", WK), &["--url", "https://example.com/twiml", "--from", "+18005550100", "--to", "client:alice", "--accept", "--record", "--timeout", "20", "--status-callback-url", "https://example.com/status"]),
            0,
            "…reservation: WR".to_owned(),
            "call with every flag",
        ),
        (
            with(target("dequeue", "--worker", WK), &["--post-work-activity", WA]),
            0,
            "…reservation: WR".to_owned(),
            "dequeue with the older spelling of --activity",
        ),
        (
            with(target("redirect", "--task", WT), &["--call", CA, "--url", "https://example.com/hold", "--accept", "--activity", WA]),
            0,
            "…reservation: WR".to_owned(),
            "redirect",
        ),
        (
            with(target("conference", "--task", WT), &["--to", "client:alice", "--from", "+18005550100", "--activity", WA, "--timeout", "30", "--record", "--conference-record", "record-from-start", "--conference-status-callback", "https://example.com/conference", "--conference-status-callback-event", "start,end", "--param", "beep=onEnter", "--param", "end_conference_on_exit=true", "--param", "max_participants=10", "--param", "region=ie1"]),
            0,
            "…reservation: WR".to_owned(),
            "conference with flags and --param",
        ),
        (target("show", "--worker", WK), 0, "…status:      accepted".to_owned(), "show"),
        (
            vec!["task", "show", "--workspace", WS, "--task", WT],
            0,
            "task:       WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nstatus:     pending\nqueue:      WQaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (Test Queue)\nworkflow:   WWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (Test Workflow)\npriority:   0\nage:        25200 s\nchannel:    task-channel\nreason:     Test Reason\nattributes: {\"body\": \"hello\"}\n".to_owned(),
            "task show",
        ),
        (
            // Prism answers the first example of the served copy, an empty list (above); the
            // lines of a list are checked against the stand-in (rest.rs).
            vec!["task", "list", "--workspace", WS, "--status", "pending,reserved", "--queue", WQ, "--workflow", WW, "--expression", "type == 'support'", "--limit", "5"],
            0,
            String::new(),
            "task list with every filter",
        ),
        (
            vec!["task", "list", "--workspace", WS, "--json"],
            0,
            "[]\n".to_owned(),
            "task list --json",
        ),
        (
            vec!["task", "complete", "--workspace", WS, "--task", WT, "--reason", "resolved"],
            0,
            "…task:       WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned(),
            "task complete",
        ),
        (
            vec!["task", "cancel", "--workspace", WS, "--task", WT, "--reason", "the caller hung up"],
            0,
            "…task:       WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned(),
            "task cancel",
        ),
        (
            vec!["worker", "list", "--workspace", WS, "--activity", WA, "--available", "--queue", WQ, "--expression", "skills HAS 'billing'"],
            0,
            String::new(),
            "worker list with every filter",
        ),
        (
            vec!["worker", "show", "--workspace", WS, "--worker", WK],
            0,
            "worker:     WKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (NewWorker3)\nactivity:   WAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (available)\navailable:  no\nsince:      2017-05-30T23:32:39Z\nattributes: {}\n".to_owned(),
            "worker show",
        ),
        (
            vec!["worker", "activity", "--workspace", WS, "--worker", WK, "--activity", WA, "--reject-pending-reservations"],
            0,
            "…worker:     WK".to_owned(),
            "worker activity",
        ),
        (
            vec!["workflow", "pull", "--workspace", WS, "--workflow", WW],
            1,
            String::new(),
            "workflow pull: the description's example configuration is not JSON",
        ),
        (
            vec!["connect", "--workspace", WS, "--workflow", WW, "--assignment-url", "https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/assignment_callback", "--events-url", "https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/events", "--events-filter", "reservation.accepted,reservation.timeout", "--dry-run"],
            0,
            "plan (--dry-run: nothing is changed):\n  \
             workflow AssignmentCallbackUrl           http://example.com → https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/assignment_callback\n  \
             workflow FallbackAssignmentCallbackUrl   (none) → https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/assignment_callback\n  \
             workspace EventCallbackUrl               (none) → https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/events\n  \
             workspace EventsFilter                   (none) → reservation.accepted,reservation.timeout\n".to_owned(),
            "connect --dry-run prints the plan",
        ),
        (
            vec!["connect", "--workspace", WS, "--workflow", WW, "--assignment-url", "https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/assignment_callback"],
            1,
            "…connected:".to_owned(),
            "connect reads back and notices the mock did not keep the URL",
        ),
    ];
    for (args, code, expected, why) in cases {
        let output = taskrouter(&prism, &args);
        let stdout = text(&output.stdout);
        let stderr = text(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{why}: {stderr}\n{}",
            prism.log()
        );
        match expected.strip_prefix('…') {
            Some(part) => assert!(stdout.contains(part), "{why}: {stdout}"),
            None => assert_eq!(stdout, expected, "{why}"),
        }
        assert_no_secret(&output, TOKEN);
    }
    let output = taskrouter(
        &prism,
        &[
            "connect",
            "--workspace",
            WS,
            "--workflow",
            WW,
            "--assignment-url",
            "https://example.com/cb",
        ],
    );
    assert_eq!(
        text(&output.stderr),
        "error: Twilio does not hold what was set:\n  \
         workflow AssignmentCallbackUrl reads http://example.com after the update, not https://example.com/cb\n  \
         workflow FallbackAssignmentCallbackUrl reads (none) after the update, not https://example.com/cb\n"
    );
}

#[test]
fn the_commands_run_end_to_end_against_the_simulator() {
    let server = Server::simulator();
    let client = server.client();
    let run = |args: &[&str]| -> (Option<i32>, String) {
        let output = taskrouter_on(server.url(), SIM_TOKEN)
            .args(args)
            .output()
            .expect("the taskrouter binary runs");
        assert_no_secret(&output, SIM_TOKEN);
        let stdout = text(&output.stdout);
        let shown = format!("{stdout}{}", text(&output.stderr));
        (output.status.code(), shown)
    };
    let expect = |args: &[&str], code: i32, part: &str, why: &str| {
        let (status, shown) = run(args);
        assert_eq!(status, Some(code), "{why}: {shown}\n{}", server.log());
        assert!(shown.contains(part), "{why}: `{part}` not in\n{shown}");
    };
    let back_to_work = || {
        let available = WorkerUpdate {
            activity_sid: Some(ActivitySid::parse(AVAILABLE).expect("sid")),
            reject_pending_reservations: false,
        };
        client
            .update_worker(
                &WorkspaceSid::parse(WS).expect("sid"),
                &WorkerSid::parse(WK).expect("sid"),
                &available,
            )
            .expect("UpdateWorker");
    };

    expect(
        &[
            "task",
            "create",
            "--workspace",
            WS,
            "--workflow",
            WW,
            "--attributes",
            r#"{"selected_language":"es"}"#,
            "--priority",
            "5",
            "--timeout",
            "600",
            "--channel",
            "voice",
        ],
        0,
        &format!(
            "status:     reserved\nqueue:      {WQ} (Support)\nworkflow:   {WW} (Support)\npriority:   5\nage:        0 s\nchannel:    voice\n"
        ),
        "task create prints the task, reserved at once",
    );
    // Each decision on a reservation of its own, through its task or its worker.
    #[rustfmt::skip]
    let decisions: [(&str, &str, &[&str], &str); 8] = [
        ("accept", "--task", &[], "status:      accepted"),
        ("accept", "--worker", &[], "status:      accepted"),
        ("reject", "--task", &["--activity", WA], "status:      rejected"),
        ("dequeue", "--task", &["--to", "client:alice", "--from", "+18005550100", "--activity", WA, "--record", "--timeout", "30", "--status-callback-url", "https://example.com/status", "--status-callback-events", "initiated,completed"], "status:      accepted"),
        ("call", "--worker", &["--url", "https://example.com/twiml", "--from", "+18005550100", "--to", "client:alice", "--accept", "--record", "--timeout", "20", "--status-callback-url", "https://example.com/status"], "status:      accepted"),
        ("dequeue", "--worker", &["--post-work-activity", WA], "status:      accepted"),
        ("redirect", "--task", &["--call", CA, "--url", "https://example.com/hold", "--accept", "--activity", WA], "status:      accepted"),
        ("conference", "--task", &["--to", "client:alice", "--from", "+18005550100", "--activity", WA, "--timeout", "30", "--record", "--conference-record", "record-from-start", "--conference-status-callback", "https://example.com/conference", "--conference-status-callback-event", "start,end", "--param", "beep=onEnter", "--param", "end_conference_on_exit=true", "--param", "max_participants=10", "--param", "region=ie1"], "status:      accepted"),
    ];
    let mut assigned = String::new();
    let mut last = String::new();
    for (verb, by, flags, part) in decisions {
        let (task, reservation) = server.pending(&client);
        let through = if by == "--task" { task.as_str() } else { WK };
        let mut args = vec![
            "reservation",
            verb,
            "--workspace",
            WS,
            by,
            through,
            "--reservation",
            reservation.as_str(),
        ];
        args.extend_from_slice(flags);
        expect(&args, 0, part, &format!("{verb} {by}"));
        if verb == "reject" {
            back_to_work();
        } else {
            assigned = task.as_str().to_owned();
        }
        last = reservation.as_str().to_owned();
    }
    expect(
        &[
            "reservation",
            "show",
            "--workspace",
            WS,
            "--worker",
            WK,
            "--reservation",
            &last,
        ],
        0,
        "status:      accepted",
        "show",
    );
    expect(
        &[
            "reservation",
            "accept",
            "--workspace",
            WS,
            "--worker",
            WK,
            "--reservation",
            &last,
        ],
        0,
        "already",
        "accepting an accepted reservation: nothing left to do",
    );
    expect(
        &["task", "show", "--workspace", WS, "--task", &assigned],
        0,
        "status:     assigned",
        "task show",
    );
    expect(
        &[
            "task",
            "list",
            "--workspace",
            WS,
            "--status",
            "pending,reserved",
            "--queue",
            WQ,
            "--workflow",
            WW,
            "--expression",
            "selected_language == 'es'",
            "--limit",
            "5",
        ],
        0,
        "2 tasks",
        "task list with every filter: the task created first, still undecided, and the rejected \
         one, reserved again",
    );
    expect(
        &["task", "list", "--workspace", WS, "--json"],
        0,
        "\"sid\": \"WT",
        "task list --json",
    );
    expect(
        &[
            "task",
            "complete",
            "--workspace",
            WS,
            "--task",
            &assigned,
            "--reason",
            "resolved",
        ],
        0,
        "status:     completed",
        "task complete",
    );
    // The conference's post-work activity (Break) applied when its task ended.
    expect(
        &["worker", "show", "--workspace", WS, "--worker", WK],
        0,
        &format!("activity:   {WA} (Break)"),
        "the post-work activity",
    );
    back_to_work();
    let (open, _) = server.pending(&client);
    expect(
        &[
            "task",
            "cancel",
            "--workspace",
            WS,
            "--task",
            open.as_str(),
            "--reason",
            "the caller hung up",
        ],
        0,
        "status:     canceled",
        "task cancel",
    );
    expect(
        &[
            "worker",
            "list",
            "--workspace",
            WS,
            "--activity",
            AVAILABLE,
            "--available",
            "--queue",
            WQ,
            "--expression",
            "skills HAS 'billing'",
        ],
        0,
        WK,
        "worker list with every filter",
    );
    expect(
        &["worker", "show", "--workspace", WS, "--worker", WK],
        0,
        &format!("worker:     {WK} (alice)"),
        "worker show",
    );
    expect(
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
        0,
        &format!("worker:     {WK}"),
        "worker activity",
    );
    expect(
        &["workflow", "pull", "--workspace", WS, "--workflow", WW],
        0,
        "default_filter",
        "workflow pull: the simulator keeps the configuration as JSON",
    );
    expect(
        &[
            "connect",
            "--workspace",
            WS,
            "--workflow",
            WW,
            "--assignment-url",
            "https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/assignment_callback",
            "--events-url",
            "https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/events",
            "--events-filter",
            "reservation.accepted,reservation.timeout",
            "--dry-run",
        ],
        0,
        "workflow AssignmentCallbackUrl           (none) → https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/assignment_callback",
        "connect --dry-run prints the plan",
    );
    expect(
        &[
            "connect",
            "--workspace",
            WS,
            "--workflow",
            WW,
            "--assignment-url",
            "https://example.com/cb",
        ],
        0,
        "connected:",
        "connect reads back what the simulator kept",
    );
}
