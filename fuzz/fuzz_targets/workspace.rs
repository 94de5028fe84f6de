//! Arbitrary text as the simulator's workspace document (`taskrouter sim serve --workspace`, the
//! replay's input) and as the workers and queues files of `workflow route`: reading never panics
//! and every problem has a line and column; a document that reads loads into a fresh engine (or
//! says why not), and its routing view is built.

#![no_main]

use libfuzzer_sys::fuzz_target;
use taskrouter_lambda::sid::AccountSid;
use taskrouter_lambda::sim::document::WorkspaceDocument;
use taskrouter_lambda::sim::engine::Engine;
use taskrouter_lambda::workflow::{Queue, Worker};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for problems in [
        Worker::read_list("workers.json", text).err(),
        Queue::read_list("queues.json", text).err(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(problems.has_errors(), "a list refused without an error");
        for problem in problems.all() {
            assert!(problem.position.is_some(), "a problem without a place: {problem}");
        }
    }
    let document = match WorkspaceDocument::read("fuzz.json", text) {
        Ok(document) => document,
        Err(problems) => {
            assert!(problems.has_errors(), "refused without an error");
            for problem in problems.all() {
                assert!(problem.position.is_some(), "a problem without a place: {problem}");
            }
            return;
        }
    };
    let _ = document.routing();
    let account = AccountSid::parse("AC0123456789abcdef0123456789abcdef").expect("a SID");
    let start = "2026-12-07T09:00:00Z".parse().expect("an instant");
    let mut engine = Engine::new(account, start, 1);
    if let Err(error) = document.load(&mut engine) {
        let _ = error.to_string();
    }
});
