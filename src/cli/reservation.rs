//! `reservation accept|reject|dequeue|call|redirect|conference|show`: deciding a reservation over
//! the REST API, as the `{}` deferral promises (docs/taskrouter.md §7).
//!
//! The flags build the same [`Instruction`] a rules document builds, through the same validation
//! ([`Instruction::from_json`]), and [`Instruction::to_form`] writes it as the REST update.
//!
//! An update TaskRouter refuses is not the end of the story: the reservation is fetched and its
//! real status decides the exit code (docs/taskrouter.md §7; the codes are [`super::Exit`]'s):
//!
//! | outcome | exit |
//! |---|---|
//! | the update was applied, or the reservation already is in the requested state (an accept of an accepted reservation) | 0 |
//! | the reservation is no longer pending (timeout, canceled, rescinded, …) | 3, with what it means for the worker |
//! | Twilio refused it otherwise (bad parameters, credentials) or did not answer | 1, with Twilio's code and link |
//! | the flags do not make a valid instruction (checked before anything is sent) | 2 |

use clap::{Args, Subcommand};
use serde_json::{Map, Value};

use crate::instruction::Instruction;
use crate::rest::resources::{Reservation, ReservationStatus};
use crate::rest::{Answer, Client, ReservationOf, RestError};
use crate::sid::{ActivitySid, CallSid, ReservationSid, TaskSid, WorkerSid, WorkspaceSid};

use super::{CliError, FAILED, OK, Output, TOO_LATE, json_text, parse_param};

/// Which reservation.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Target {
    /// The workspace (WS…).
    #[arg(long, value_name = "WS…")]
    pub workspace: WorkspaceSid,
    /// The task the reservation is for, or its worker.
    #[command(flatten)]
    pub of: Of,
    /// The reservation (WR…), e.g. from the callback's ReservationSid.
    #[arg(long, value_name = "WR…")]
    pub reservation: ReservationSid,
    /// Print Twilio's answer as JSON (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// The task or the worker a reservation is reached through: exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[group(required = true, multiple = false)]
pub struct Of {
    /// The reserved task (WT…).
    #[arg(long, value_name = "WT…")]
    pub task: Option<TaskSid>,
    /// The reserved worker (WK…).
    #[arg(long, value_name = "WK…")]
    pub worker: Option<WorkerSid>,
}

impl Of {
    /// clap requires exactly one of the two; a value built by hand may have neither.
    fn path(&self) -> Result<ReservationOf, CliError> {
        match (&self.task, &self.worker) {
            (Some(task), _) => Ok(ReservationOf::Task(task.clone())),
            (None, Some(worker)) => Ok(ReservationOf::Worker(worker.clone())),
            (None, None) => Err(CliError::NoReservationPath),
        }
    }
}

/// A `reservation` action.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Action {
    /// Accept the reservation: the worker gets the task.
    Accept {
        /// Which reservation.
        #[command(flatten)]
        target: Target,
    },
    /// Reject the reservation and move the worker to an activity.
    Reject {
        /// Which reservation.
        #[command(flatten)]
        target: Target,
        /// The activity the worker moves to now (WA…; the instruction's activity_sid). Use an
        /// unavailable one, or TaskRouter reserves the same worker again.
        #[arg(long, value_name = "WA…")]
        activity: ActivitySid,
    },
    /// Connect the call waiting in a TwiML Enqueue to the worker (accepts the reservation).
    Dequeue {
        /// Which reservation.
        #[command(flatten)]
        target: Target,
        /// Whom to call [default: the worker's contact_uri].
        #[arg(long)]
        to: Option<String>,
        /// The caller ID [default: the number the caller dialed].
        #[arg(long)]
        from: Option<String>,
        /// The activity the worker moves to once the call ends (WA…; the instruction's
        /// post_work_activity_sid).
        #[arg(long, value_name = "WA…", alias = "post-work-activity")]
        activity: Option<ActivitySid>,
        /// Record the call from when the worker answers (record-from-answer).
        #[arg(long)]
        record: bool,
        /// Seconds the worker's phone rings, 1-999.
        #[arg(long)]
        timeout: Option<String>,
        /// Where Twilio posts call progress events.
        #[arg(long)]
        status_callback_url: Option<String>,
        /// Which events, comma-separated: initiated,ringing,answered,completed.
        #[arg(long)]
        status_callback_events: Option<String>,
    },
    /// Call the worker and run TwiML on the worker's leg.
    Call {
        /// Which reservation.
        #[command(flatten)]
        target: Target,
        /// The TwiML run when the worker answers.
        #[arg(long)]
        url: String,
        /// The caller ID of the call.
        #[arg(long)]
        from: String,
        /// Whom to call [default: the worker's contact_uri].
        #[arg(long)]
        to: Option<String>,
        /// Accept the reservation when the call starts (otherwise accept or reject later).
        #[arg(long)]
        accept: bool,
        /// Record the call from when the worker answers (record-from-answer).
        #[arg(long)]
        record: bool,
        /// Seconds the worker's phone rings, 1-999.
        #[arg(long)]
        timeout: Option<String>,
        /// Where Twilio posts the completed call event.
        #[arg(long)]
        status_callback_url: Option<String>,
    },
    /// Send the call waiting in a TwiML Enqueue to new TwiML.
    Redirect {
        /// Which reservation.
        #[command(flatten)]
        target: Target,
        /// The call to redirect (CA…), from the task's call_sid.
        #[arg(long = "call", value_name = "CA…")]
        call_sid: CallSid,
        /// The TwiML the call is redirected to.
        #[arg(long)]
        url: String,
        /// Accept the reservation when redirecting.
        #[arg(long)]
        accept: bool,
        /// The activity the worker moves to once the call ends (WA…; the instruction's
        /// post_work_activity_sid).
        #[arg(long, value_name = "WA…", alias = "post-work-activity")]
        activity: Option<ActivitySid>,
    },
    /// Join caller and worker in a conference (Twilio's recommended voice instruction).
    Conference {
        /// Which reservation.
        #[command(flatten)]
        target: Target,
        /// The worker's contact URI [default: the worker's contact_uri].
        #[arg(long)]
        to: Option<String>,
        /// The caller ID of the call to the worker.
        #[arg(long)]
        from: Option<String>,
        /// The activity the worker moves to once the conference ends (WA…; the instruction's
        /// post_work_activity_sid).
        #[arg(long, value_name = "WA…", alias = "post-work-activity")]
        activity: Option<ActivitySid>,
        /// Seconds the worker's phone rings, 1-999.
        #[arg(long)]
        timeout: Option<String>,
        /// Record the worker's participant (record: true).
        #[arg(long)]
        record: bool,
        /// Whether and when to record the conference: true, false, record-from-start, do-not-record.
        #[arg(long)]
        conference_record: Option<String>,
        /// Where Twilio posts conference events.
        #[arg(long)]
        conference_status_callback: Option<String>,
        /// Which conference events, comma-separated: start,end,join,leave,mute,hold,speaker.
        #[arg(long)]
        conference_status_callback_event: Option<String>,
        /// Any other conference parameter by its callback name, e.g. beep=onEnter,
        /// end_conference_on_exit=true, wait_url=https://…; repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
    },
    /// Print the reservation's status.
    Show {
        /// Which reservation.
        #[command(flatten)]
        target: Target,
    },
}

impl Action {
    fn target(&self) -> &Target {
        match self {
            Self::Accept { target }
            | Self::Reject { target, .. }
            | Self::Dequeue { target, .. }
            | Self::Call { target, .. }
            | Self::Redirect { target, .. }
            | Self::Conference { target, .. }
            | Self::Show { target } => target,
        }
    }

    /// The instruction object the flags describe, as a rules document would write it; `None`
    /// for `show`.
    fn instruction_json(&self) -> Option<Value> {
        let mut object = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                object.insert(key.to_owned(), value);
            }
        };
        let text = |value: &Option<String>| value.clone().map(Value::String);
        let sid = |value: &Option<ActivitySid>| value.as_ref().map(|sid| Value::from(sid.as_str()));
        let record_from_answer = |record: bool| record.then(|| Value::from("record-from-answer"));
        let name = match self {
            Self::Show { .. } => return None,
            Self::Accept { .. } => "accept",
            Self::Reject { activity, .. } => {
                put("activity_sid", Some(Value::String(activity.to_string())));
                "reject"
            }
            Self::Dequeue {
                to,
                from,
                activity,
                record,
                timeout,
                status_callback_url,
                status_callback_events,
                ..
            } => {
                put("to", text(to));
                put("from", text(from));
                put("post_work_activity_sid", sid(activity));
                put("record", record_from_answer(*record));
                put("timeout", timeout.as_deref().map(number_or_text));
                put("status_callback_url", text(status_callback_url));
                put("status_callback_events", text(status_callback_events));
                "dequeue"
            }
            Self::Call {
                url,
                from,
                to,
                accept,
                record,
                timeout,
                status_callback_url,
                ..
            } => {
                put("url", Some(Value::String(url.clone())));
                put("from", Some(Value::String(from.clone())));
                put("to", text(to));
                put("accept", accept.then_some(Value::Bool(true)));
                put("record", record_from_answer(*record));
                put("timeout", timeout.as_deref().map(number_or_text));
                put("status_callback_url", text(status_callback_url));
                "call"
            }
            Self::Redirect {
                call_sid,
                url,
                accept,
                activity,
                ..
            } => {
                put("call_sid", Some(Value::String(call_sid.to_string())));
                put("url", Some(Value::String(url.clone())));
                put("accept", Some(Value::Bool(*accept)));
                put("post_work_activity_sid", sid(activity));
                "redirect"
            }
            Self::Conference {
                to,
                from,
                activity,
                timeout,
                record,
                conference_record,
                conference_status_callback,
                conference_status_callback_event,
                params,
                ..
            } => {
                put("to", text(to));
                put("from", text(from));
                put("post_work_activity_sid", sid(activity));
                put("timeout", timeout.as_deref().map(number_or_text));
                put("record", record.then_some(Value::Bool(true)));
                put("conference_record", text(conference_record));
                put(
                    "conference_status_callback",
                    text(conference_status_callback),
                );
                put(
                    "conference_status_callback_event",
                    text(conference_status_callback_event),
                );
                for (key, value) in params {
                    put(key, Some(scalar(value)));
                }
                "conference"
            }
        };
        object.insert("instruction".to_owned(), Value::String(name.to_owned()));
        Some(Value::Object(object))
    }
}

/// A number flag as a JSON integer when it is one; otherwise as text, so the instruction's
/// validation names the parameter and shows what was given.
fn number_or_text(text: &str) -> Value {
    text.parse::<u64>()
        .map_or_else(|_| Value::String(text.to_owned()), Value::from)
}

/// A `--param` value: `true`, `false` and integers as JSON scalars, anything else as text.
fn scalar(text: &str) -> Value {
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => number_or_text(text),
    }
}

/// The status an instruction asks for, when it asks for one: `accept` (and instructions that
/// accept: `dequeue`, `conference`, `call --accept`, `redirect --accept`) → accepted, `reject` →
/// rejected. `call` and `redirect` without `--accept` leave the reservation pending.
fn requested_status(instruction: &Instruction) -> Option<ReservationStatus> {
    match instruction {
        _ if instruction.leaves_pending() => None,
        Instruction::Reject(_) => Some(ReservationStatus::Rejected),
        _ => Some(ReservationStatus::Accepted),
    }
}

/// Whether `status` satisfies `requested`: an accepted reservation that moved on to wrap-up or
/// completion was accepted too.
fn satisfies(status: &ReservationStatus, requested: &ReservationStatus) -> bool {
    status == requested
        || (*requested == ReservationStatus::Accepted
            && matches!(
                status,
                ReservationStatus::Wrapping | ReservationStatus::Completed
            ))
}

pub(crate) fn run(action: &Action, client: &Client) -> Result<Output, CliError> {
    let target = action.target();
    let of = target.of.path()?;
    let Some(json) = action.instruction_json() else {
        let answer = client.fetch_reservation(&target.workspace, &of, &target.reservation)?;
        return Ok(print_reservation(&answer, target.json, None));
    };
    let instruction = Instruction::from_json(&json).map_err(CliError::Instruction)?;
    match client.update_reservation(&target.workspace, &of, &target.reservation, &instruction) {
        Ok(answer) => Ok(print_reservation(&answer, target.json, None)),
        Err(refused) => Ok(after_refusal(client, target, &of, &instruction, refused)),
    }
}

/// The update failed: unless the failure says nothing about the reservation (credentials, rate
/// limit), fetch it and let its status decide.
fn after_refusal(
    client: &Client,
    target: &Target,
    of: &ReservationOf,
    instruction: &Instruction,
    refused: RestError,
) -> Output {
    let failed = |refused: &RestError, note: &str| Output {
        stdout: String::new(),
        stderr: format!("error: {refused}{note}\n"),
        code: FAILED,
    };
    if refused
        .api()
        .is_some_and(|api| matches!(api.status, 401 | 403 | 429))
    {
        return failed(&refused, "");
    }
    let answer = match client.fetch_reservation(&target.workspace, of, &target.reservation) {
        Ok(answer) => answer,
        Err(fetch) => {
            return failed(
                &refused,
                &format!("\n(the reservation could not be fetched either: {fetch})"),
            );
        }
    };
    let status = &answer.resource.reservation_status;
    let requested = requested_status(instruction);
    if requested
        .as_ref()
        .is_some_and(|requested| satisfies(status, requested))
    {
        let note = format!(
            "the reservation was already {status}: nothing to do (TaskRouter refused the {} again: {refused})\n",
            instruction.name()
        );
        return print_reservation(&answer, target.json, Some(note));
    }
    if *status == ReservationStatus::Pending {
        return failed(
            &refused,
            "\n(the reservation is still pending: nothing was applied)",
        );
    }
    let mut output = print_reservation(&answer, target.json, None);
    output.stderr = format!(
        "error: the reservation is no longer pending: it is {status}: {}\n(TaskRouter refused the {}: {refused})\n",
        status.meaning(),
        instruction.name()
    );
    output.code = TOO_LATE;
    output
}

fn print_reservation(answer: &Answer<Reservation>, as_json: bool, note: Option<String>) -> Output {
    let reservation = &answer.resource;
    let stdout = if as_json {
        json_text(&answer.json)
    } else {
        let worker = reservation
            .worker_name
            .as_deref()
            .map(|name| format!(" ({name})"))
            .unwrap_or_default();
        format!(
            "reservation: {}\nstatus:      {}\ntask:        {}\nworker:      {}{worker}\n",
            reservation.sid,
            reservation.reservation_status,
            reservation.task_sid,
            reservation.worker_sid
        )
    };
    Output {
        stdout,
        stderr: note.unwrap_or_default(),
        code: OK,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;
    use crate::cli::{Cli, Command};

    const WS: &str = "WS0123456789abcdef0123456789abcdef";
    const WT: &str = "WT0123456789abcdef0123456789abcdef";
    const WR: &str = "WR0123456789abcdef0123456789abcdef";

    fn action(args: &[&str]) -> Action {
        let mut full = vec!["taskrouter", "reservation"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full).expect("valid arguments").command {
            Command::Reservation { action } => action,
            other => panic!("not a reservation command: {other:?}"),
        }
    }

    fn target(verb: &str) -> Vec<&str> {
        vec![verb, "--workspace", WS, "--task", WT, "--reservation", WR]
    }

    #[test]
    fn flags_become_the_instruction_a_rules_document_would_write() {
        let with = |verb: &str, extra: &[&str]| {
            let mut args = target(verb);
            args.extend_from_slice(extra);
            action(&args).instruction_json()
        };
        let cases = [
            (
                with("accept", &[]),
                Some(json!({"instruction": "accept"})),
                "accept",
            ),
            (
                with(
                    "reject",
                    &["--activity", "WA0123456789abcdef0123456789abcdef"],
                ),
                Some(
                    json!({"instruction": "reject", "activity_sid": "WA0123456789abcdef0123456789abcdef"}),
                ),
                "reject",
            ),
            (
                with(
                    "dequeue",
                    &[
                        "--from",
                        "+18005550100",
                        "--timeout",
                        "30",
                        "--status-callback-events",
                        "initiated,completed",
                        "--activity",
                        "WA0123456789abcdef0123456789abcdef",
                        "--record",
                    ],
                ),
                Some(
                    json!({"instruction": "dequeue", "from": "+18005550100", "timeout": 30, "status_callback_events": "initiated,completed", "post_work_activity_sid": "WA0123456789abcdef0123456789abcdef", "record": "record-from-answer"}),
                ),
                "dequeue: --activity is the activity after the call, --record a switch",
            ),
            (
                with(
                    "dequeue",
                    &["--post-work-activity", "WA0123456789abcdef0123456789abcdef"],
                ),
                Some(
                    json!({"instruction": "dequeue", "post_work_activity_sid": "WA0123456789abcdef0123456789abcdef"}),
                ),
                "the older spelling --post-work-activity still works",
            ),
            (
                with(
                    "call",
                    &[
                        "--url",
                        "https://example.com/t",
                        "--from",
                        "+1",
                        "--accept",
                        "--record",
                    ],
                ),
                Some(
                    json!({"instruction": "call", "url": "https://example.com/t", "from": "+1", "accept": true, "record": "record-from-answer"}),
                ),
                "call",
            ),
            (
                with(
                    "redirect",
                    &[
                        "--call",
                        "CA0123456789abcdef0123456789abcdef",
                        "--url",
                        "https://example.com/t",
                    ],
                ),
                Some(
                    json!({"instruction": "redirect", "call_sid": "CA0123456789abcdef0123456789abcdef", "url": "https://example.com/t", "accept": false}),
                ),
                "redirect sends accept explicitly",
            ),
            (
                with(
                    "conference",
                    &[
                        "--record",
                        "--activity",
                        "WA0123456789abcdef0123456789abcdef",
                        "--param",
                        "beep=onEnter",
                        "--param",
                        "max_participants=2",
                        "--param",
                        "end_conference_on_exit=true",
                    ],
                ),
                Some(
                    json!({"instruction": "conference", "record": true, "post_work_activity_sid": "WA0123456789abcdef0123456789abcdef", "beep": "onEnter", "max_participants": 2, "end_conference_on_exit": true}),
                ),
                "conference with --param",
            ),
            (with("show", &[]), None, "show updates nothing"),
        ];
        for (got, expected, why) in cases {
            assert_eq!(got, expected, "{why}");
        }
    }

    #[test]
    fn invalid_flags_fail_the_instructions_own_validation() {
        let cases = [
            (
                vec!["--timeout", "abc"],
                "`dequeue` parameter `timeout` must be an integer, got \"abc\"",
            ),
            (
                vec!["--status-callback-url", "example.com/status"],
                "`dequeue` parameter `status_callback_url` must be an absolute http(s) URL with a host, got \"example.com/status\": it is not absolute; start it with https://",
            ),
        ];
        for (extra, expected) in cases {
            let mut args = target("dequeue");
            args.extend_from_slice(&extra);
            let json = action(&args).instruction_json().expect("an update");
            let error = Instruction::from_json(&json).expect_err(expected);
            assert_eq!(error.to_string(), expected);
        }
        let mut args = target("conference");
        args.extend_from_slice(&["--param", "beeep=true"]);
        let json = action(&args).instruction_json().expect("an update");
        assert_eq!(
            Instruction::from_json(&json)
                .expect_err("a typo")
                .to_string(),
            "`conference` has no parameter `beeep`: did you mean `beep`?"
        );
    }

    #[test]
    fn a_reservation_is_named_through_its_task_or_its_worker_never_both() {
        let both = Cli::try_parse_from([
            "taskrouter",
            "reservation",
            "accept",
            "--workspace",
            WS,
            "--task",
            WT,
            "--worker",
            "WK0123456789abcdef0123456789abcdef",
            "--reservation",
            WR,
        ]);
        assert!(both.is_err(), "--task and --worker together");
        let neither = Cli::try_parse_from([
            "taskrouter",
            "reservation",
            "accept",
            "--workspace",
            WS,
            "--reservation",
            WR,
        ]);
        assert!(neither.is_err(), "neither --task nor --worker");
        let bad = Cli::try_parse_from([
            "taskrouter",
            "reservation",
            "accept",
            "--workspace",
            WS,
            "--task",
            "WT123",
            "--reservation",
            WR,
        ])
        .expect_err("a malformed SID");
        assert!(
            bad.to_string().contains("`WT123` is not a valid task SID"),
            "{bad}"
        );
    }

    #[test]
    fn the_requested_status_is_the_one_the_instruction_leads_to() {
        let cases = [
            (
                json!({"instruction": "accept"}),
                Some(ReservationStatus::Accepted),
            ),
            (
                json!({"instruction": "reject", "activity_sid": "WA0123456789abcdef0123456789abcdef"}),
                Some(ReservationStatus::Rejected),
            ),
            (
                json!({"instruction": "dequeue"}),
                Some(ReservationStatus::Accepted),
            ),
            (
                json!({"instruction": "conference"}),
                Some(ReservationStatus::Accepted),
            ),
            (
                json!({"instruction": "call", "url": "https://e.com", "from": "+1"}),
                None,
            ),
            (
                json!({"instruction": "redirect", "call_sid": "CA0123456789abcdef0123456789abcdef", "url": "https://e.com", "accept": true}),
                Some(ReservationStatus::Accepted),
            ),
        ];
        for (value, expected) in cases {
            let instruction = Instruction::from_json(&value).expect("valid");
            assert_eq!(requested_status(&instruction), expected, "{value}");
        }
        assert!(satisfies(
            &ReservationStatus::Completed,
            &ReservationStatus::Accepted
        ));
        assert!(satisfies(
            &ReservationStatus::Wrapping,
            &ReservationStatus::Accepted
        ));
        assert!(!satisfies(
            &ReservationStatus::Accepted,
            &ReservationStatus::Rejected
        ));
        assert!(!satisfies(
            &ReservationStatus::Timeout,
            &ReservationStatus::Accepted
        ));
    }

    #[test]
    fn activity_and_record_are_spelled_and_shaped_the_same_for_every_verb() {
        const WA: &str = "WA0123456789abcdef0123456789abcdef";
        // Every verb that moves the worker takes `--activity WA…`; every verb that records takes
        // `--record` as a switch.
        let verbs: [(&str, &[&str]); 4] = [
            ("reject", &[]),
            ("dequeue", &["--record"]),
            (
                "redirect",
                &[
                    "--call",
                    "CA0123456789abcdef0123456789abcdef",
                    "--url",
                    "https://example.com/t",
                ],
            ),
            ("conference", &["--record"]),
        ];
        for (verb, extra) in verbs {
            let mut args = target(verb);
            args.extend_from_slice(&["--activity", WA]);
            args.extend_from_slice(extra);
            let json = action(&args).instruction_json().expect("an update");
            let key = if verb == "reject" {
                "activity_sid"
            } else {
                "post_work_activity_sid"
            };
            assert_eq!(json[key], WA, "{verb}: {json}");
            let mut bad = target(verb);
            bad.extend_from_slice(&["--activity", "WA1"]);
            bad.extend_from_slice(extra);
            let mut full = vec!["taskrouter", "reservation"];
            full.extend_from_slice(&bad);
            let error = Cli::try_parse_from(full).expect_err("a malformed SID");
            assert_eq!(error.exit_code(), 2, "{verb}");
            assert!(
                error
                    .to_string()
                    .contains("`WA1` is not a valid activity SID"),
                "{verb}: {error}"
            );
        }
        let mut value = target("dequeue");
        value.extend_from_slice(&["--record", "record-from-answer"]);
        let mut full = vec!["taskrouter", "reservation"];
        full.extend_from_slice(&value);
        assert!(
            Cli::try_parse_from(full).is_err(),
            "--record takes no value: it is a switch"
        );
    }
}
