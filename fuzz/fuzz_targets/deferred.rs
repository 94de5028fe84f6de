//! Arbitrary text as what the `taskrouter-decider` function reads: a deferral queue message and
//! the decider's answer. Reading never panics; a message that reads names an instruction that
//! settles the reservation as `otherwise`; an answer that is a valid instruction writes back to
//! the same instruction and to a REST update form.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use taskrouter_lambda::defer::queue::Message;
use taskrouter_lambda::instruction::{Answer, Instruction};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Message::parse(text) {
        Ok(deferred) => {
            let _ = deferred.otherwise.to_form();
        }
        Err(error) => assert!(!error.to_string().is_empty(), "an error that says nothing"),
    }
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if let Ok(instruction) = Instruction::from_json(&value) {
        let body = Answer::from(instruction.clone()).to_body();
        let again: Value = serde_json::from_str(&body).expect("an answer body is JSON");
        assert_eq!(
            Instruction::from_json(&again).expect("an answer body reads back"),
            instruction,
            "the instruction changed on its way through its answer body"
        );
        assert!(!instruction.to_form().is_empty(), "an update with no parameter");
    }
});
