//! TaskRouter's REST API (docs/taskrouter.md §7): the outbound transport of the `taskrouter`
//! command.
//!
//! No Rust library covers TaskRouter's REST API and Twilio publishes none, so this is a small
//! one, written against Twilio's OpenAPI description (`twilio_taskrouter_v1.json`) and tested
//! against it (Stoplight Prism serving that file, `tests/function/rest_prism.rs`).
//!
//! | file | owns |
//! |---|---|
//! | [`config`] | credentials (`TWILIO_ACCOUNT_SID` with an auth token or an API key), the host from `TWILIO_REGION` / `TWILIO_EDGE`, the `TASKROUTER_API_URL` override |
//! | [`transport`] | the HTTP layer: one TLS stack (rustls with AWS-LC), Basic auth, bounded timeouts, retries with jittered backoff, Twilio's error JSON |
//! | [`resources`] | typed answers (reservation, task, worker, workflow, workspace), typed request bodies and list filters |
//! | [`accounts`] | the Accounts API (`accounts.twilio.com`, `TWILIO_ACCOUNTS_API_URL`): the secondary auth token created, promoted, deleted, for a rotation |
//! | [`client`] | the operations, one method each, named after their `operationId`; list operations follow Twilio's pages up to a limit |
//!
//! The Lambda function does not use this module: it answers callbacks and never calls Twilio.
//! The domain types it sends ([`crate::instruction::Instruction`], the SIDs) are the ones the
//! function validates; [`crate::instruction::Instruction::to_form`] writes an instruction as
//! REST form parameters beside its callback JSON.

pub mod accounts;
pub mod client;
pub mod config;
pub mod resources;
pub mod transport;

pub use accounts::AccountsClient;
pub use client::{Answer, Client, Listing, ReservationOf};
pub use config::{ConfigError, Credentials, RestConfig};
pub use transport::{ApiError, RestError, RetryPolicy};
