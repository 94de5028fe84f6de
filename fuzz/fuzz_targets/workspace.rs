//! Arbitrary text as the simulator's workspace document (`taskrouter sim serve --workspace`, the
//! replay's input): reading never panics and every problem displays with its place; a document
//! that reads loads into a fresh engine (or says why not), and its routing view is built.

#![no_main]

use libfuzzer_sys::fuzz_target;
use taskrouter_lambda::sid::AccountSid;
use taskrouter_lambda::sim::document::WorkspaceDocument;
use taskrouter_lambda::sim::engine::Engine;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let document = match WorkspaceDocument::read("fuzz.json", text) {
        Ok(document) => document,
        Err(problems) => {
            let shown = problems.to_string();
            assert!(!shown.is_empty(), "problems that say nothing");
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
