//! A Twilio TaskRouter assignment callback for AWS Lambda.
//!
//! TaskRouter reserves a worker for a task and POSTs a signed, form-encoded *assignment callback*;
//! it waits at most five seconds for `200` + `application/json`: `{}` to decide later, or an
//! instruction. This crate answers that callback (and the workspace event callback) from a Lambda
//! behind API Gateway.
//!
//! # Layout
//!
//! [`http`] is the only module of the callback function that knows about Lambda or HTTP;
//! `defer/decider.rs` is its counterpart in the second function (SQS events in, partial batch
//! responses out, the signed POST to the decider); [`rest`] is the outbound HTTP to Twilio of the
//! CLI and of the decider, which the callback function never uses. The domain modules are pure (no
//! environment, no clock, no network: [`http`] reads the clock once per callback and passes the
//! instant in); [`token`] owns the callback's network call (SSM or Secrets Manager; a rule that
//! defers adds one SendMessage, `defer/queue.rs`),
//! [`config`] and [`telemetry`] read the environment, and [`app`] puts the pieces together once
//! per cold start.
//!
//! | module | owns |
//! |---|---|
//! | [`http`] | the function the Lambda runtime calls (events `lambda_http` cannot read answered `400`), routing, content type, what a request offers to verification, each refusal's status and JSON error body, the log line and metrics per request |
//! | [`verification`] | whether a request was sent by Twilio, step by step, each refusing before the next costs anything: the header's shape, the body, the tokens (one account's, or the claimed account's), the URLs and the HMAC |
//! | [`app`] | everything a request needs, built once: rules (default and per tenant), token store(s), metrics |
//! | [`config`] | environment variables → typed settings; start-up errors naming the variable |
//! | [`telemetry`] | JSON logs in Lambda, readable text locally |
//! | [`token`] | the auth tokens: from the environment, SSM Parameter Store or Secrets Manager (staged versions: current, pending, previous during a grace), cached, re-read as they age and after a mismatch (a token removed from its store stops verifying within the refresh interval), read within the waiting callback's deadline (throttled reads retried until then); one account's, or one per account chosen by `AccountSid` with bounds on what an unverified request can make it read, a listing of the prefix answering accounts not seen yet once the look-up budget is spent (`token/store.rs`, `token/ssm.rs`, `token/secrets.rs`, `token/retry.rs`, `token/accounts.rs`) |
//! | [`public_url`] | the URL TaskRouter called, from API Gateway's request context or `PUBLIC_BASE_URL`; a REST API query's other orders listed apart, with the budget that bounds trying them |
//! | [`signature`] | `X-Twilio-Signature`: the header's shape, HMAC-SHA1 over URL and sorted parameters, constant-time, the guesses tried within a budget of bytes hashed |
//! | [`form`] | the raw form body as ordered, lossless pairs, at most what a TaskRouter callback can need (128 KiB) |
//! | [`callback`] | the typed assignment callback |
//! | [`event`] | the typed workspace event |
//! | [`sid`] | Twilio SIDs as validated newtypes |
//! | [`document`] | the one reader of the JSON documents users write (rules and their `defer` objects, schedules, rule tests, Workflow configurations, workspace documents, workers and queues files): a cursor that knows the file, the pointer and (on a problem) the line and column of every value, every problem at once, keys declared once per object type, the nearest key suggested |
//! | [`expression`] | TaskRouter's expression language: parser and allocation-free evaluator |
//! | [`time_of_day`] | TaskRouter's `taskrouter.*` time-of-day attributes: an instant read once, in UTC |
//! | [`schedule`] | opening hours in an IANA time zone, with holidays (`schedules.*` in rules) |
//! | [`rules`] | the rules document, read through [`document`] and compiled once, with its warnings; the decision per callback at an instant, naming the rule that answered (`Chosen`) |
//! | [`template`] | the `{{reference}}` templates in a rules document's instructions: found and checked when compiling, filled per callback |
//! | [`rulebook`] | which rules document decides a callback: a tenant's (`AC…/WS….json`, `AC….json`) or the default; which account owns each, so one tenant's signed callback is never decided by another's rules |
//! | [`defer`] | decisions slower than the callback's 5 s: a rule's `defer` (the decider URL, how long to wait for it, the instruction applied otherwise, the warning when that may outlast the Workflow's reservation timeout); the SQS message and the client that queues it within the callback's deadline (`defer/queue.rs`); the second function, `taskrouter-decider`, which fetches each queued reservation, asks the decider with a signed POST and applies its answer or `otherwise` over REST, at most once (`defer/decider.rs`) |
//! | [`instruction`] | typed, validated assignment instructions and their exact JSON |
//! | [`limits`] | TaskRouter's documented limits that several parts rely on, defined once in the domain |
//! | [`metrics`] | CloudWatch Embedded Metric Format lines and where they go (stdout in Lambda, memory in tests), and the list of every metric published (the template's dashboard and alarms are checked against it) |
//! | [`workflow`] | Workflow configurations: a typed model read through [`document`] (`workflow/parse.rs`), warnings (`check.rs`), the routing engine as a pure step (`walk.rs`: where a task waits and until when, given its age, the workers and the instant; `step.rs`: one routing step's workers, order and `skip_if`), a task's whole walk explained (`route.rs`) against workers and queues (`workspace.rs`), semantic differences with filters paired by name (`diff.rs`) |
//! | [`rest`] | the outbound TaskRouter REST client of the CLI and the decider: credentials and host, rustls/AWS-LC transport with retries and Twilio's error JSON, typed operations (the callback function does not use it); the Accounts API's secondary auth token, created, promoted and deleted for a rotation (`rest/accounts.rs`) |
//! | [`rotate`] | rotating an account's auth token without a human: Secrets Manager's four steps (`createSecret`, `setSecret`, `testSecret`, `finishSecret`) driving Twilio's secondary token, each looking where the rotation stands and doing only what is left; the `taskrouter-rotate` binary is Secrets Manager's rotation function around it; the same steps for the two parameters of Parameter Store in the safe order (`taskrouter token rotate`) |
//! | [`sim`] | `taskrouter sim`: a local TaskRouter, a pure engine (state, one time-ordered queue of timers, routing by [`workflow`]) with transports around it: its REST API v1 (hyper) and the Accounts API's auth-token operations (a primary and a secondary token; a promotion switches the token callbacks are signed with), signed callbacks, a real or manual clock, the workspace document; `sim/replay/`: a day of tasks through a Workflow on a virtual clock, a lean event loop over [`workflow`]'s routing, measured per queue and worker; the function never reaches it |
//! | [`cli`] | the `taskrouter` command: check, decide, eval (`cli/rules.rs`); sign, send (`cli/callback.rs`); test (`cli/test.rs`); workflow check, route (`cli/workflow/mod.rs`, reading files with `cli/workflow/file.rs`); workflow diff, apply, pull (`cli/workflow/live.rs`); task (`cli/task.rs`); worker (`cli/worker.rs`); reservation (`cli/reservation.rs`); connect (`cli/connect.rs`); sim serve, export (`cli/sim.rs`); sim replay (`cli/replay.rs`); token rotate, Parameter Store's token rotated with Twilio's secondary (`cli/token.rs`); the findings of check, test and workflow check, as lines or one JSON shape (`cli/report.rs`); one table of exit codes (`cli::Exit`) |
//!
//! # The path of a request
//!
//! `main.rs` → [`http::function`] (the API Gateway event becomes a request) → [`http::handle`]:
//! route and method → content type → [`verification`]: the signature header's shape
//! ([`signature`], before the body is read) → [`form`] (a body over the limit refused unread) →
//! [`token`] (with a token per account, the unverified `AccountSid` only chooses whose) →
//! [`public_url`] + [`signature`] (before anything in the payload is trusted) → [`callback`] →
//! [`rulebook`] → the clock, read once → [`rules`] (which evaluates [`expression`]s, reading
//! [`time_of_day`] and [`schedule`]s at that instant, and fills [`instruction`] [`template`]s) →
//! the JSON body, one log line and one metrics line.
//! Workspace events take the same path up to the signature,
//! then [`event`] → a log line and, for reservation outcomes, a metrics line.

pub mod app;
pub mod callback;
pub mod cli;
pub mod config;
pub mod defer;
pub mod document;
pub mod event;
pub mod expression;
pub mod form;
pub mod http;
pub mod instruction;
pub mod limits;
pub mod metrics;
pub mod public_url;
pub mod rest;
pub mod rotate;
pub mod rulebook;
pub mod rules;
pub mod schedule;
pub mod sid;
pub mod signature;
pub mod sim;
pub mod telemetry;
pub mod template;
pub mod time_of_day;
pub mod token;
pub mod verification;
pub mod workflow;
