//! The integration tests: one binary, one module per concern.

// Shared fixtures, the Runtime API emulator and the function process.
mod support;

// Every `events/*.json` fixture through the real `lambda_http` request parsing and the handler.
mod fixtures;

// The compiled function binary against an emulated Lambda Runtime API.
mod binary;

// Callbacks signed by Twilio's official Python helper, for every deployment topology.
mod twilio_python;

// What a request without a valid signature can make the compiled function do: the header read
// before the body, the size limit, the bounded query orders of REST API events.
mod unverified;

// The auth token from SSM Parameter Store, against a real moto server.
mod token_ssm;

// The auth token from Secrets Manager, against a real moto server: staged versions through a
// rotation, a secret per account after a flood, and the throttling stand-in of the storm.
mod token_secrets;

// The SSM stand-in that throttles like Parameter Store, against the real SDK and the function: a
// throttled read retried until the stand-in admits it, failing closed once its budget is spent.
mod ssm_throttling;

// The template's dashboard and alarms checked against the metrics and log lines really written.
mod dashboard;

// A rule that defers to a decider: the callback's `{}` and its message on moto's SQS, the `503`
// when the queue refuses it, the start refused without a queue.
mod defer;

// The slow path end to end: simulator → function → moto's SQS → the compiled decider → a
// scripted decider checking signatures with Twilio's helper → REST → simulator; each race.
mod decider;

// Many accounts, a token each under an SSM prefix: callbacks signed per account, forgeries, a
// flood of invented accounts with the SSM requests counted by moto.
mod accounts;

// Rules per tenant: a document per account or workspace in ASSIGNMENT_RULES_DIR.
mod tenant_rules;

// Templated instruction values through the compiled function: a task attribute fills a URL only
// as percent-encoded data, never as its host or as parameters of its own.
mod rule_templates;

// The SAM template resolved per configuration: IAM on SSM, environment, layers, deploy-time rules.
mod template;

// The `taskrouter` command-line tool, including `taskrouter test` over every rules example.
mod cli;

// Time-of-day and business-hours rules: real events at fixed instants through lambda_http, and
// the compiled function at the time it runs.
mod time_of_day;

// `taskrouter workflow check` and `route` on every example in workflows/examples/.
mod workflow;

// The TaskRouter REST client and its commands against a scripted stand-in for Twilio (retries,
// Twilio's error JSON, refused updates), `connect --check` against the real function, and
// `make connect` reading a stack's outputs from CloudFormation on moto.
mod rest;

// The REST client and its commands against Stoplight Prism serving Twilio's OpenAPI description,
// and the client's cases against the simulator.
mod rest_prism;

// `taskrouter workflow diff` and `apply` against a stand-in Workflow that keeps what is applied
// (equal, different, apply then read back, refusals) and against Prism serving Twilio's
// description (a live configuration that does not parse).
mod workflow_rest;

// The README's first command, `make run`, on the real `cargo lambda watch`.
mod readme;

// `make tutorial`: the simulator and `make run`'s function, two tasks assigned end to end.
mod tutorial;

// `taskrouter sim serve`: the REST API against Twilio's description (Prism as a validating
// proxy), the whole loop with the compiled function, and each lifecycle behaviour under a
// manual clock.
mod sim;

// `taskrouter sim replay`: the JSON's fields, determinism, located errors, and agreement with
// queueing theory (the exact FIFO recursion, Erlang C, Erlang A) on traffic generated from seeds.
mod replay;

// Every relative link of the Markdown files and every section citation resolves in the repository.
mod docs;

// Secrets in secret types: no plain-string token field anywhere in the crate; the simulator's
// help and errors never show its token.
mod secrets;

// Rotating an account's auth token without a human: the Accounts API client against Twilio's
// description; the four rotation steps against moto's Secrets Manager and the simulator, repeated
// and interrupted; the compiled rotation function; no callback refused while tasks keep coming
// through the compiled callback function during a whole rotation.
mod rotation;
