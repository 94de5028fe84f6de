//! Arbitrary text as a Workflow configuration (what `workflow check` reads from a file and what
//! `workflow diff` reads from Twilio): parsing never panics and its errors display; a
//! configuration that parses gives its warnings, and routes three fixed tasks (a voice task, a
//! chat task, empty attributes) at two instants against the sample workspace, the same route
//! twice.

#![no_main]

use std::sync::LazyLock;

use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use taskrouter_lambda::sim::document::WorkspaceDocument;
use taskrouter_lambda::workflow::{Workflow, Workspace};

/// The sample workspace document's workers and queues, and an empty workspace (workers unknown).
static WORKSPACES: LazyLock<Vec<Workspace>> = LazyLock::new(|| {
    let text = include_str!("../../workflows/workspace.json");
    let sample = WorkspaceDocument::read("workspace.json", text)
        .expect("the sample workspace document is valid")
        .routing();
    vec![sample, Workspace::default()]
});

static TASKS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    vec![
        json!({"type": "voice", "language": "es", "priority": 10, "skills": ["billing"]}),
        json!({"type": "chat", "channel": "web", "customer": {"vip": true, "tier": 3}}),
        json!({}),
    ]
});

static INSTANTS: LazyLock<Vec<Timestamp>> = LazyLock::new(|| {
    ["2026-12-02T12:00:00Z", "2026-12-05T23:59:00Z"]
        .iter()
        .map(|text| text.parse().expect("an instant"))
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let workflow = match Workflow::parse(text) {
        Ok(workflow) => workflow,
        Err(invalid) => {
            assert!(!invalid.errors.is_empty(), "refused without an error");
            for error in &invalid.errors {
                let _ = error.to_string();
            }
            return;
        }
    };
    for warning in workflow.warnings() {
        let _ = warning.to_string();
    }
    assert!(workflow.target_count() >= workflow.filters().len());
    for workspace in WORKSPACES.iter() {
        for task in TASKS.iter() {
            for &now in INSTANTS.iter() {
                let route = format!("{:?}", workflow.route(task, workspace, now));
                assert_eq!(
                    route,
                    format!("{:?}", workflow.route(task, workspace, now)),
                    "the same task at the same instant took another route"
                );
            }
        }
    }
});
