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

// Many accounts, a token each under an SSM prefix: callbacks signed per account, forgeries, a
// flood of invented accounts with the SSM requests counted by moto.
mod accounts;

// Rules per tenant: a document per account or workspace in ASSIGNMENT_RULES_DIR.
mod tenant_rules;

// The SAM template resolved per configuration: IAM on SSM, environment, layers, deploy-time rules.
mod template;

// The `taskrouter` command-line tool.
mod cli;

// The README's first command, `make run`, on the real `cargo lambda watch`.
mod readme;
