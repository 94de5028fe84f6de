//! Arbitrary bytes as an answer of Twilio's REST API, read by the `taskrouter` command's client:
//! an error body (Twilio's error JSON, an RFC 7807 problem, anything else) becomes an error that
//! displays without panicking, and a success body is read as each resource the client reads
//! (tasks, reservations, workers, Workflows, workspaces) without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use taskrouter_lambda::rest::resources::{Reservation, Task, Worker, Workflow, Workspace};
use taskrouter_lambda::rest::transport::ApiError;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    for status in [400, 401, 404, 409, 429, 500, 503] {
        let error = ApiError::from_body(
            "POST",
            "https://taskrouter.twilio.com/v1/Workspaces".to_owned(),
            status,
            body,
            1,
            None,
        );
        assert_eq!(error.status, status);
        let _ = error.to_string();
    }
    let _ = serde_json::from_str::<Task>(body);
    let _ = serde_json::from_str::<Reservation>(body);
    let _ = serde_json::from_str::<Worker>(body);
    let _ = serde_json::from_str::<Workflow>(body);
    let _ = serde_json::from_str::<Workspace>(body);
});
