//! The integration tests: one binary, one module per concern.

// Shared fixtures, the Runtime API emulator and the function process.
mod support;

// Every `events/*.json` fixture through the real `lambda_http` request parsing and the handler.
mod fixtures;

// The compiled function binary against an emulated Lambda Runtime API.
mod binary;

// Callbacks signed by Twilio's official Python helper, for every deployment topology.
mod twilio_python;

// The auth token from SSM Parameter Store, against a real moto server.
mod token_ssm;

// The `taskrouter` command-line tool, including `taskrouter test` over every rules example.
mod cli;

// Time-of-day and business-hours rules: real events at fixed instants through lambda_http, and
// the compiled function at the time it runs.
mod time_of_day;

// The README's first command, `make run`, on the real `cargo lambda watch`.
mod readme;
