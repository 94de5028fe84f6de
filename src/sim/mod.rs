//! `taskrouter sim`: TaskRouter on the local machine, speaking Twilio's REST API and calling the
//! function as TaskRouter does, with a clock the caller controls.
//!
//! A pure engine with transports around it:
//!
//! | file | owns |
//! |---|---|
//! | [`engine`] | the workspace's state and one time-ordered queue of timers; commands in, [`engine::Effect`]s out; routing by [`crate::workflow`]; no I/O, no clock |
//! | [`server`] | the running simulator: the engine behind a lock, the clock (real or manual), the outbox of effects delivered in order: narration, event callbacks, signed assignment callbacks and their answers |
//! | [`rest`] | the HTTP transport: Basic auth, TaskRouter's REST API v1 and `/sim/clock`, Twilio's error JSON |
//! | `state.rs` | what the engine holds: workspaces, activities, workers, queues, Workflows, tasks, reservations, events |
//! | [`document`] | the workspace document: read with every problem located, loaded into the engine, exported from it |
//! | [`events`] | the fields each event family carries (the types are `state.rs`'s, re-exported) |
//! | [`replay`] | `sim replay`: a day of tasks through a Workflow on a virtual clock, a lean event loop over [`crate::workflow`]'s routing (not the engine: see its documentation), measured per queue and worker; the tasks file (`replay/tasks.rs`) or an Events API export (`replay/history.rs`), the figures in memory that does not grow with the day (`replay/stats.rs`), the HTML report with its SVG charts (`replay/report.rs`) |
//! | [`model`] | the REST resources as Twilio's OpenAPI description gives them, built from the state; the paging envelope |
//!
//! The Lambda function never reaches this module: only the `taskrouter` command does.
//! `docs/simulator.md` is the user's guide: the operations served, the clock, the workspace
//! document, and what is not modelled (telephony, Flex, Voice `<Enqueue>`, the worker SDK).
//!
//! # Decisions where Twilio is silent
//!
//! | question | decision |
//! |---|---|
//! | a new workspace's activities | `Offline` (default and timeout activity), `Available`, `Unavailable` ([`engine::DEFAULT_ACTIVITIES`]) |
//! | multitasking of a new workspace | on; each worker channel takes 1 task unless given a capacity |
//! | `workers.available` in `skip_if` | the workers that could take this task now (available
//! activity, room on its channel): `skip_if` is evaluated only when nobody can be reserved at once
//! (docs/taskrouter.md §12), and the counts agree with that |
//! | a waiting task's attributes updated | routed again from the top, with its age |
//! | `ReEvaluateTasks` | routes the tasks waiting without a reservation again; otherwise tasks keep the configuration they started with |
//! | the Events list without dates | every event, oldest first |
//! | a `200` JSON answer that is not an object (escaped JSON) | unusable: the fallback URL (TaskRouter's warning 40001) |
//! | an instruction that cannot be applied (an activity the workspace lacks) | logged, the reservation left as it is (TaskRouter's Console errors 40100–40157) |
//! | `Timestamp` in callbacks | seconds since the epoch (the function keeps it opaque,
//! docs/taskrouter.md §1) |
//! | delivery of callbacks | one at a time, in the order emitted, so a run is reproducible |

pub mod document;
pub mod engine;
pub mod events;
pub mod model;
pub mod replay;
pub mod rest;
pub mod server;
mod state;

pub use engine::{Effect, Engine, SimError};
pub use state::Order;
