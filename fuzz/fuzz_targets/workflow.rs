//! Arbitrary text as a Workflow configuration (what `workflow check` reads from a file and what
//! `workflow diff` reads from Twilio): reading never panics, every problem (error or warning) has
//! a line and column, checking and parsing agree; a configuration that parses routes three fixed
//! tasks (a voice task, a chat task, empty attributes) at two instants against the sample
//! workspace, the same route twice.

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
    let workflow = match Workflow::check("fuzz.json", text) {
        Ok((workflow, warnings)) => {
            assert!(!warnings.has_errors(), "accepted with an error");
            for warning in warnings.all() {
                assert!(warning.position.is_some(), "a warning without a place: {warning}");
            }
            workflow
        }
        Err(problems) => {
            assert!(problems.has_errors(), "refused without an error");
            for problem in problems.all() {
                assert!(problem.position.is_some(), "a problem without a place: {problem}");
            }
            return;
        }
    };
    assert_eq!(
        Workflow::parse(text).map(|parsed| parsed.filters().len()).ok(),
        Some(workflow.filters().len()),
        "check and parse disagree"
    );
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
