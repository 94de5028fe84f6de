//! The compiled `taskrouter` as a user runs it, and the SIDs its REST tests name.

use std::process::{Command, Output};

use super::repo;

/// The account of the REST tests. Prism accepts any: it checks only that Basic credentials are
/// present.
pub(crate) const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
/// A workspace.
pub(crate) const WS: &str = "WS0123456789abcdef0123456789abcdef";
/// A Workflow.
pub(crate) const WW: &str = "WW0123456789abcdef0123456789abcdef";
/// A task.
pub(crate) const WT: &str = "WT0123456789abcdef0123456789abcdef";
/// A reservation.
pub(crate) const WR: &str = "WR0123456789abcdef0123456789abcdef";
/// A worker.
pub(crate) const WK: &str = "WK0123456789abcdef0123456789abcdef";
/// An activity.
pub(crate) const WA: &str = "WA0123456789abcdef0123456789abcdef";
/// A call.
pub(crate) const CA: &str = "CA0123456789abcdef0123456789abcdef";

/// The compiled `taskrouter`, run from the repository root so paths read as in the README.
pub(crate) fn taskrouter() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taskrouter"));
    command.current_dir(repo());
    command
}

/// [`taskrouter`] logged in to the REST API at `url` as [`ACCOUNT`] with the auth token `token`,
/// with none of the caller's other Twilio settings (an API key, a region, an edge).
pub(crate) fn taskrouter_on(url: &str, token: &str) -> Command {
    let mut command = taskrouter();
    command
        .env_remove("TWILIO_API_KEY")
        .env_remove("TWILIO_API_SECRET")
        .env_remove("TWILIO_REGION")
        .env_remove("TWILIO_EDGE")
        .env("TWILIO_ACCOUNT_SID", ACCOUNT)
        .env("TWILIO_AUTH_TOKEN", token)
        .env("TASKROUTER_API_URL", url);
    command
}

/// A command's output as text.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// Fails unless `secret` is absent from both of the command's streams.
pub(crate) fn assert_no_secret(output: &Output, secret: &str) {
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert!(!all.contains(secret), "the token leaked: {all}");
}
