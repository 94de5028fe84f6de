//! `taskrouter sim`: TaskRouter on the local machine, speaking Twilio's REST API and calling the
//! function as TaskRouter does, with a clock the caller controls.
//!
//! A pure engine with transports around it (style guide §7b):
//!
//! | file | owns |
//! |---|---|
//! | [`engine`] | the workspace's state and one time-ordered queue of timers; commands in, [`engine::Effect`]s out; routing by [`crate::workflow`]; no I/O, no clock |
//! | [`server`] | the running simulator: the engine behind a lock, the clock (real or manual), the outbox of effects delivered in order: narration, event callbacks, signed assignment callbacks and their answers |
//! | [`rest`] | the HTTP transport: Basic auth, TaskRouter's REST API v1 and `/sim/clock`, Twilio's error JSON |
//! | `state.rs` | what the engine holds: workspaces, activities, workers, queues, Workflows, tasks, reservations, events |
//! | [`document`] | the workspace document: read with every problem located, loaded into the engine, exported from it |
//! | [`events`] | the event types and the fields each carries |
//! | [`model`] | the REST resources as Twilio's OpenAPI description gives them, built from the state; the paging envelope |
//!
//! The Lambda function never reaches this module: only the `taskrouter` command does.

pub mod document;
pub mod engine;
pub mod events;
pub mod model;
pub mod rest;
pub mod server;
mod state;

pub use engine::{Effect, Engine, SimError};
pub use state::Order;
