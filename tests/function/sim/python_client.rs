//! Twilio's Python helper library (`twilio` from PyPI, the version `make tools` pins) against
//! the simulator, unchanged but for its base URL: it creates a workspace, an activity, workers,
//! a queue and a Workflow, creates tasks, accepts and rejects reservations, follows pages, reads
//! events and gets Twilio's error JSON as its own exception (`twilio_client.py`).

use std::process::Command;

use serde_json::{Value, json};

use super::{document, support_only};
use crate::support::cli::ACCOUNT;
use crate::support::repo;
use crate::support::sim::{SIM_TOKEN, Sim};

#[test]
fn twilios_python_library_builds_a_workspace_and_assigns_a_task_with_only_its_base_url_changed() {
    let sim = Sim::start(
        &document(&[], &support_only(), &json!({}), 1, &json!({})),
        &[],
    );
    let script = repo().join("tests/function/sim/twilio_client.py");
    let output = Command::new("python3")
        .arg(&script)
        .env("SIM_URL", &sim.url)
        .env("TWILIO_ACCOUNT_SID", ACCOUNT)
        .env("TWILIO_AUTH_TOKEN", SIM_TOKEN)
        .env_remove("TWILIO_REGION")
        .env_remove("TWILIO_EDGE")
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the script failed (is twilio installed? make tools):\n{stderr}\n{}",
        sim.log()
    );
    let seen: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    let first = seen["first"]["sid"]
        .as_str()
        .expect("a task SID")
        .to_owned();
    let events = [
        "workflow.entered",
        "task-queue.entered",
        "task.created",
        "workflow.target-matched",
        "reservation.created",
        "reservation.accepted",
        "task.completed",
        "reservation.completed",
        "task.updated",
    ];
    assert_eq!(
        seen,
        json!({
            "default_activities": ["Available", "Offline", "Unavailable"],
            "break": {"sid": "WA", "available": false},
            "workers": ["alice", "bob", "carol"],
            "queue": {"target_workers": "skills HAS 'support'", "max_reserved_workers": 1},
            "workflow": {"task_reservation_timeout": 60},
            "first_reservations": [["alice", "pending"]],
            "accepted": "accepted",
            "first": {"sid": first, "created_status": "reserved", "status": "assigned", "priority": 5, "queue": "Support"},
            "late_reject": {"status": 400, "code": 20001},
            "pending_of_other": [true],
            "rejected": "rejected",
            "other_activity": "Break",
            "second_status": "pending",
            "workers_paged": ["alice", "bob", "carol"],
            "pending_tasks": [true],
            "completed": "completed",
            "events": events,
            "event_fetched": "workflow.entered",
        }),
        "what the library saw\n{}",
        sim.log()
    );

    // The simulator's own answers agree: the workspace the library made, its first task
    // completed, the same events.
    let (status, list) = sim.get("/v1/Workspaces?FriendlyName=From%20Python");
    assert_eq!(status, 200, "{list}");
    let ws = list["workspaces"][0]["sid"]
        .as_str()
        .unwrap_or_else(|| panic!("the library's workspace is listed: {list}"))
        .to_owned();
    let (_, task) = sim.get(&format!("/v1/Workspaces/{ws}/Tasks/{first}"));
    assert_eq!(task["assignment_status"], "completed", "{task}");
    let (_, listed) = sim.get(&format!("/v1/Workspaces/{ws}/Events?TaskSid={first}"));
    let types: Vec<&str> = listed["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|event| event["event_type"].as_str())
        .collect();
    assert_eq!(types, events);
}
