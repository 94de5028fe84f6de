//! TaskRouter's documented limits that more than one part of the project relies on, each
//! defined once, in the domain: the Workflow engine, the REST client and the command line read
//! them from here (docs/taskrouter.md §7, docs/taskrouter.md §12).

/// The longest task timeout (TTL) TaskRouter accepts, in seconds: `Timeout` on `CreateTask` is at
/// most 1,209,600 s, 14 days (docs/taskrouter.md §7,
/// <https://www.twilio.com/docs/taskrouter/limits>).
pub const MAX_TASK_TIMEOUT: u32 = 1_209_600;
