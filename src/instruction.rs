//! Assignment instructions: what the function answers TaskRouter (docs/taskrouter.md §2).
//!
//! An [`Answer`] is either `{}` (defer: decide later through the REST API) or one
//! [`Instruction`]. [`Instruction::from_json`] reads the object exactly as users write it in a
//! rules file and as TaskRouter reads it (`{"instruction": "dequeue", "to": "...", ...}`) and
//! checks every parameter: unknown keys (with a did-you-mean, so a misspelt key never silently
//! vanishes), JSON types, required parameters, SIDs, URLs, ranges and enumerated values. The
//! parameter types ([`HttpUrl`], [`Timeout`], the enumerations, ...) can only hold valid values,
//! so an [`Instruction`] is valid by construction, and [`Answer::to_body`] serialises it exactly
//! once: TaskRouter rejects an escaped body with warning 40001 (docs/taskrouter.md §2).
//!
//! The same value is what a REST reservation update sends (docs/taskrouter.md §7): beside the
//! callback JSON, [`Instruction::to_form`] writes it as the PascalCase form parameters of
//! `UpdateTaskReservation` / `UpdateWorkerReservation`. Validated once, written two ways, each
//! pinned by its snapshot (`bodies`, `rest_forms`).
//!
//! Sources:
//! - the callback instructions and their parameters:
//!   <https://www.twilio.com/docs/taskrouter/handle-assignment-callbacks>;
//! - the conference parameters and their value sets: the Reservation resource
//!   (<https://www.twilio.com/docs/taskrouter/api/reservations>, operation
//!   `UpdateTaskReservation` in Twilio's OpenAPI description `twilio/twilio-oai`,
//!   `spec/json/twilio_taskrouter_v1.json`), where they are PascalCase form parameters. Their
//!   snake_case spelling in callback JSON is only seen in Twilio's error pages
//!   (docs/taskrouter.md §2).

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::document::{json_kind, suggest, unknown_keys};
use crate::sid::{ActivitySid, CallSid, SidError};

/// The body that defers the decision (docs/taskrouter.md §2: `200`, JSON, `{}`).
const DEFER_BODY: &str = "{}";

/// What the function answers TaskRouter: defer (`{}`) or one instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Decide later through the REST API (docs/taskrouter.md §7); the body is `{}`.
    Defer,
    /// Apply this instruction to the reservation now.
    Instruction(Instruction),
}

impl Answer {
    /// The exact JSON body: `{}` for Defer. Serialised once, never escaped twice.
    pub fn to_body(&self) -> String {
        match self {
            Self::Defer => DEFER_BODY.to_owned(),
            // Serialising these types cannot fail: they hold only strings, booleans and integers,
            // never a map with non-string keys. Should it ever fail, deferring is the safe answer:
            // the reservation stays pending for the REST API or the reservation timeout.
            Self::Instruction(instruction) => {
                serde_json::to_string(instruction).unwrap_or_else(|_| DEFER_BODY.to_owned())
            }
        }
    }

    /// `defer` or the instruction name, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Defer => "defer",
            Self::Instruction(instruction) => instruction.name(),
        }
    }
}

impl From<Instruction> for Answer {
    fn from(instruction: Instruction) -> Self {
        Self::Instruction(instruction)
    }
}

/// One assignment instruction, serialised as the JSON TaskRouter reads: `"instruction"` first,
/// then the parameters in snake_case, unset optional ones omitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "instruction", rename_all = "lowercase")]
pub enum Instruction {
    /// The worker accepts the task; nothing else happens.
    Accept,
    /// The worker rejects the task and moves to an activity.
    Reject(Reject),
    /// Connect the call waiting in `<Enqueue>` to the worker.
    Dequeue(Dequeue),
    /// Call the worker and run TwiML on the worker's leg.
    Call(Call),
    /// Send the call waiting in `<Enqueue>` to new TwiML.
    Redirect(Redirect),
    /// Join caller and worker in a conference (Twilio's recommended voice instruction).
    Conference(Box<Conference>),
}

impl Instruction {
    /// The instruction names, as written in the `instruction` key.
    pub const NAMES: [&'static str; 6] = [
        "accept",
        "reject",
        "dequeue",
        "call",
        "redirect",
        "conference",
    ];

    /// Parses and validates the object as users write it in a rules file and as TaskRouter reads
    /// it: `{"instruction": "dequeue", "to": "...", "from": "...", ...}`.
    ///
    /// # Errors
    ///
    /// [`InstructionError`] naming the instruction and the parameter when the value is not an
    /// object, names no known instruction, has a key the instruction does not take, lacks a
    /// required parameter, or holds a value of the wrong JSON type, a malformed SID or URL, a
    /// number out of range, or a value outside its documented set.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use taskrouter_lambda::instruction::{Answer, Instruction};
    ///
    /// let reject = Instruction::from_json(&json!({
    ///     "instruction": "reject",
    ///     "activity_sid": "WA0123456789abcdef0123456789abcdef",
    /// }))?;
    /// assert_eq!(
    ///     Answer::from(reject).to_body(),
    ///     r#"{"instruction":"reject","activity_sid":"WA0123456789abcdef0123456789abcdef"}"#,
    /// );
    ///
    /// let typo = Instruction::from_json(&json!({"instruction": "reject", "activty_sid": "WA"}));
    /// assert_eq!(
    ///     typo.expect_err("a misspelt key").to_string(),
    ///     "`reject` has no parameter `activty_sid`: did you mean `activity_sid`?",
    /// );
    /// # Ok::<(), taskrouter_lambda::instruction::InstructionError>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<Self, InstructionError> {
        let Value::Object(map) = value else {
            return Err(InstructionError::NotAnObject {
                got: describe(value),
            });
        };
        let name = match map.get("instruction") {
            None => return Err(InstructionError::MissingInstruction),
            Some(Value::String(name)) => name.as_str(),
            Some(other) => {
                return Err(InstructionError::UnknownInstruction {
                    got: describe(other),
                    suggestion: None,
                });
            }
        };
        match name {
            "accept" => Params::new("accept", map, &[]).map(|_| Self::Accept),
            "reject" => {
                Reject::parse(&Params::new("reject", map, Reject::PARAMETERS)?).map(Self::Reject)
            }
            "dequeue" => Dequeue::parse(&Params::new("dequeue", map, Dequeue::PARAMETERS)?)
                .map(Self::Dequeue),
            "call" => Call::parse(&Params::new("call", map, Call::PARAMETERS)?).map(Self::Call),
            "redirect" => Redirect::parse(&Params::new("redirect", map, Redirect::PARAMETERS)?)
                .map(Self::Redirect),
            "conference" => {
                Conference::parse(&Params::new("conference", map, Conference::PARAMETERS)?)
                    .map(|conference| Self::Conference(Box::new(conference)))
            }
            other => Err(InstructionError::UnknownInstruction {
                got: Value::from(other).to_string(),
                suggestion: suggest(other, Self::NAMES),
            }),
        }
    }

    /// The form parameters of the REST update that applies this instruction to a pending
    /// reservation (`UpdateTaskReservation` / `UpdateWorkerReservation`, docs/taskrouter.md §7):
    /// the PascalCase names of Twilio's OpenAPI description, in the order of the JSON body, unset
    /// optional parameters omitted, event lists as one repeated parameter per event (the form
    /// encoding of an OpenAPI array).
    ///
    /// `accept` and `reject` set `ReservationStatus` (`reject` with `WorkerActivitySid`); the
    /// others send `Instruction` and their own parameters, which the REST resource prefixes
    /// (`DequeueTo`, `CallUrl`, `RedirectCallSid`; conference parameters have no prefix).
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use taskrouter_lambda::instruction::Instruction;
    ///
    /// let dequeue = Instruction::from_json(&json!({
    ///     "instruction": "dequeue",
    ///     "from": "+18001234567",
    ///     "status_callback_events": "initiated,completed",
    /// }))?;
    /// assert_eq!(
    ///     dequeue.to_form(),
    ///     [
    ///         ("Instruction", "dequeue".to_owned()),
    ///         ("DequeueFrom", "+18001234567".to_owned()),
    ///         ("DequeueStatusCallbackEvent", "initiated".to_owned()),
    ///         ("DequeueStatusCallbackEvent", "completed".to_owned()),
    ///     ]
    /// );
    /// # Ok::<(), taskrouter_lambda::instruction::InstructionError>(())
    /// ```
    pub fn to_form(&self) -> Vec<(&'static str, String)> {
        let mut form = Form::default();
        match self {
            Self::Accept => form.put("ReservationStatus", "accepted"),
            Self::Reject(reject) => {
                form.put("ReservationStatus", "rejected");
                form.put("WorkerActivitySid", reject.activity_sid.as_str());
            }
            Self::Dequeue(dequeue) => {
                form.put("Instruction", "dequeue");
                form.text("DequeueTo", dequeue.to.as_ref().map(Address::as_str));
                form.text("DequeueFrom", dequeue.from.as_ref().map(Address::as_str));
                form.text(
                    "DequeuePostWorkActivitySid",
                    dequeue
                        .post_work_activity_sid
                        .as_ref()
                        .map(ActivitySid::as_str),
                );
                form.choice("DequeueRecord", dequeue.record);
                form.number("DequeueTimeout", dequeue.timeout.map(Timeout::seconds));
                form.text(
                    "DequeueStatusCallbackUrl",
                    dequeue.status_callback_url.as_ref().map(HttpUrl::as_str),
                );
                form.events(
                    "DequeueStatusCallbackEvent",
                    dequeue.status_callback_events.as_ref(),
                );
            }
            Self::Call(call) => {
                form.put("Instruction", "call");
                form.put("CallUrl", call.url.as_str());
                form.put("CallFrom", call.from.as_str());
                form.text("CallTo", call.to.as_ref().map(Address::as_str));
                form.flag("CallAccept", call.accept);
                form.choice("CallRecord", call.record);
                form.number("CallTimeout", call.timeout.map(Timeout::seconds));
                form.text(
                    "CallStatusCallbackUrl",
                    call.status_callback_url.as_ref().map(HttpUrl::as_str),
                );
            }
            Self::Redirect(redirect) => {
                form.put("Instruction", "redirect");
                form.put("RedirectCallSid", redirect.call_sid.as_str());
                form.put("RedirectUrl", redirect.url.as_str());
                form.flag("RedirectAccept", Some(redirect.accept));
                // The REST resource has no redirect-specific activity parameter; its one
                // `PostWorkActivitySid` is the only place this value can go.
                form.text(
                    "PostWorkActivitySid",
                    redirect
                        .post_work_activity_sid
                        .as_ref()
                        .map(ActivitySid::as_str),
                );
            }
            Self::Conference(conference) => conference.write_form(&mut form),
        }
        form.0
    }

    /// Reads the form parameters of a REST reservation update (`UpdateTaskReservation` /
    /// `UpdateWorkerReservation`, docs/taskrouter.md §7) as the instruction they carry: the inverse
    /// of [`Instruction::to_form`]. The PascalCase names become the callback's snake_case keys and
    /// the object goes through [`Instruction::from_json`], so an instruction is validated the
    /// same way whichever way it arrives.
    ///
    /// `Instruction` names `dequeue`, `call`, `redirect` or `conference`; without it,
    /// `ReservationStatus` `accepted` is `accept` and `rejected` with `WorkerActivitySid` is
    /// `reject`. Booleans (`true` / `false`) and integers are converted from their form text;
    /// an array parameter (`StatusCallbackEvent`, repeated once per event) becomes the
    /// comma-separated string of the callback. Parameters that belong to no instruction
    /// (`ReservationStatus`, `Supervisor`, …) or to another instruction are left out, as the
    /// REST API ignores what an operation does not use.
    ///
    /// # Errors
    ///
    /// [`InstructionError`] as [`Instruction::from_json`] says, naming the callback key; and
    /// [`InstructionError::MissingInstruction`] when the form holds neither an `Instruction`
    /// nor an `accepted` / `rejected` status.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskrouter_lambda::instruction::Instruction;
    ///
    /// let form = [("Instruction", "call"), ("CallUrl", "https://example.com/twiml"),
    ///     ("CallFrom", "+18001234567"), ("CallAccept", "true")];
    /// let pairs: Vec<(String, String)> =
    ///     form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    /// let call = Instruction::from_form(&pairs)?;
    /// assert_eq!(call.name(), "call");
    /// assert!(!call.leaves_pending(), "CallAccept=true accepts the reservation");
    /// # Ok::<(), taskrouter_lambda::instruction::InstructionError>(())
    /// ```
    pub fn from_form(pairs: &[(String, String)]) -> Result<Self, InstructionError> {
        let first = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let (name, parameters): (&str, &[FormParameter]) = match first("Instruction") {
            Some("dequeue") => ("dequeue", DEQUEUE_FORM),
            Some("call") => ("call", CALL_FORM),
            Some("redirect") => ("redirect", REDIRECT_FORM),
            Some("conference") => ("conference", CONFERENCE_FORM),
            Some(other) => {
                return Err(InstructionError::UnknownInstruction {
                    got: Value::from(other).to_string(),
                    suggestion: suggest(other, Self::NAMES),
                });
            }
            None => match first("ReservationStatus") {
                Some("accepted") => ("accept", &[]),
                Some("rejected") => ("reject", REJECT_FORM),
                _ => return Err(InstructionError::MissingInstruction),
            },
        };
        let mut object = Map::new();
        object.insert("instruction".to_owned(), Value::from(name));
        for &(form_name, key, kind) in parameters {
            let values: Vec<&str> = pairs
                .iter()
                .filter(|(pair, _)| pair == form_name)
                .map(|(_, value)| value.as_str())
                .collect();
            let Some(&first) = values.first() else {
                continue;
            };
            let value = match kind {
                FormKind::Text => Value::from(first),
                FormKind::List => Value::from(values.join(",")),
                FormKind::Flag => match first {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    // Left as text: from_json names the parameter and the boolean it expects.
                    other => Value::from(other),
                },
                FormKind::Integer => first
                    .parse::<u64>()
                    .map_or_else(|_| Value::from(first), Value::from),
            };
            object.insert(key.to_owned(), value);
        }
        Self::from_json(&Value::Object(object))
    }

    /// The instruction name: `accept`, `reject`, `dequeue`, `call`, `redirect` or `conference`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Reject(_) => "reject",
            Self::Dequeue(_) => "dequeue",
            Self::Call(_) => "call",
            Self::Redirect(_) => "redirect",
            Self::Conference(_) => "conference",
        }
    }

    /// Whether the reservation is still pending once TaskRouter has applied the instruction:
    /// `call` and `redirect` without `accept` (docs/taskrouter.md §2) leave it to be accepted or
    /// rejected later; every other instruction accepts or rejects it.
    pub fn leaves_pending(&self) -> bool {
        match self {
            Self::Call(call) => call.accept != Some(true),
            Self::Redirect(redirect) => !redirect.accept,
            Self::Accept | Self::Reject(_) | Self::Dequeue(_) | Self::Conference(_) => false,
        }
    }
}

/// What a parameter that takes a string reads in it, from the instruction's documentation
/// (docs/taskrouter.md §2): how a value filled into it from a template is treated
/// ([`crate::template`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// An absolute http(s) URL ([`HttpUrl`]): TwiML to run, a callback, hold music.
    Url,
    /// A call endpoint ([`Address`]) of one of these kinds.
    Address(&'static [AddressKind]),
    /// A SID with a fixed prefix ([`ActivitySid`], [`CallSid`]).
    Sid,
    /// A value, or a comma-separated list of values, from a documented set (`record`, `beep`,
    /// the `*_method`s, the event lists, `region`, ...).
    Choice,
    /// Free text: `sip_auth_username` and `sip_auth_password`.
    Free,
}

impl Instruction {
    /// How `parameter` of the instruction named `instruction` reads a string, or `None` when it
    /// takes no string (a boolean, an integer) or is not a parameter of that instruction.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskrouter_lambda::instruction::{AddressKind, Instruction, TextKind};
    ///
    /// assert_eq!(Instruction::text_kind("redirect", "url"), Some(TextKind::Url));
    /// assert_eq!(Instruction::text_kind("dequeue", "to"), Some(TextKind::Address(AddressKind::TO)));
    /// assert_eq!(Instruction::text_kind("dequeue", "record"), Some(TextKind::Choice));
    /// // `record` of `conference` is a boolean.
    /// assert_eq!(Instruction::text_kind("conference", "record"), None);
    /// ```
    pub fn text_kind(instruction: &str, parameter: &str) -> Option<TextKind> {
        let parameters = match instruction {
            "reject" => Reject::PARAMETERS,
            "dequeue" => Dequeue::PARAMETERS,
            "call" => Call::PARAMETERS,
            "redirect" => Redirect::PARAMETERS,
            "conference" => Conference::PARAMETERS,
            _ => &[],
        };
        if !parameters.contains(&parameter) {
            return None;
        }
        match parameter {
            "url"
            | "status_callback_url"
            | "status_callback"
            | "wait_url"
            | "conference_status_callback"
            | "recording_status_callback"
            | "conference_recording_status_callback" => Some(TextKind::Url),
            "to" => Some(TextKind::Address(AddressKind::TO)),
            "from" => Some(TextKind::Address(AddressKind::FROM)),
            "activity_sid" | "post_work_activity_sid" | "call_sid" => Some(TextKind::Sid),
            "sip_auth_username" | "sip_auth_password" => Some(TextKind::Free),
            // Booleans and integers; `record` is a boolean only in `conference`.
            "accept"
            | "timeout"
            | "muted"
            | "start_conference_on_enter"
            | "end_conference_on_exit"
            | "early_media"
            | "max_participants"
            | "end_conference_on_customer_exit"
            | "beep_on_customer_entrance" => None,
            "record" if instruction == "conference" => None,
            _ => Some(TextKind::Choice),
        }
    }
}

/// The `reject` instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// The activity the worker moves to. Twilio's page calls it both required and optional, and
    /// raises error 40100 when it is missing or invalid, so it is required here
    /// (docs/taskrouter.md §2). Use an *unavailable* activity, or TaskRouter reserves the same
    /// worker again.
    pub activity_sid: ActivitySid,
}

impl Reject {
    /// The keys `reject` takes besides `instruction`.
    pub const PARAMETERS: &'static [&'static str] = &["activity_sid"];

    fn parse(params: &Params<'_>) -> Result<Self, InstructionError> {
        Ok(Self {
            activity_sid: params.required("activity_sid", params.activity_sid("activity_sid")?)?,
        })
    }
}

/// The `dequeue` instruction; only for tasks created by TwiML `<Enqueue>` (docs/taskrouter.md §2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dequeue {
    /// Whom to call; TaskRouter defaults to the worker's `contact_uri` attribute (error 40131
    /// when neither is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Address>,
    /// The caller ID; TaskRouter defaults to the number the caller dialed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Address>,
    /// The activity the worker moves to after the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_work_activity_sid: Option<ActivitySid>,
    /// Whether to record the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<CallRecord>,
    /// How long the worker's phone rings (default 60 s; at most 600 s for a SIP `to`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Timeout>,
    /// Where Twilio posts call progress events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_callback_url: Option<HttpUrl>,
    /// Which call progress events to post, sent as a comma-separated string (the example on
    /// Twilio's error page 40134: `"initiated,ringing,answered,completed"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_callback_events: Option<EventList<CallEvent>>,
}

impl Dequeue {
    /// The keys `dequeue` takes besides `instruction`.
    pub const PARAMETERS: &'static [&'static str] = &[
        "to",
        "from",
        "post_work_activity_sid",
        "record",
        "timeout",
        "status_callback_url",
        "status_callback_events",
    ];

    /// The longest ring a SIP `to` allows, in seconds (docs/taskrouter.md §2).
    const SIP_MAX_TIMEOUT: u16 = 600;

    fn parse(params: &Params<'_>) -> Result<Self, InstructionError> {
        let dequeue = Self {
            to: params.address("to")?,
            from: params.address("from")?,
            post_work_activity_sid: params.activity_sid("post_work_activity_sid")?,
            record: params.choice("record")?,
            timeout: params.timeout("timeout")?,
            status_callback_url: params.url("status_callback_url")?,
            status_callback_events: params.events("status_callback_events")?,
        };
        // Only checkable when `to` is given: a SIP `contact_uri` on the worker is not visible here.
        if let (Some(to), Some(timeout)) = (&dequeue.to, dequeue.timeout)
            && to.is_sip()
            && timeout.seconds() > Self::SIP_MAX_TIMEOUT
        {
            return Err(InstructionError::SipTimeout {
                instruction: params.instruction,
                got: timeout.seconds(),
            });
        }
        Ok(dequeue)
    }
}

/// The `call` instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    /// The TwiML run when the worker answers.
    pub url: HttpUrl,
    /// The caller ID of the call to the worker.
    pub from: Address,
    /// Whom to call; TaskRouter defaults to the worker's `contact_uri` attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Address>,
    /// Whether to accept the reservation when the call starts (TaskRouter's default: `false`,
    /// and then it must still be accepted or rejected later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept: Option<bool>,
    /// Whether to record the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<CallRecord>,
    /// How long the worker's phone rings (default 60 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Timeout>,
    /// Where Twilio posts the completed call event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_callback_url: Option<HttpUrl>,
}

impl Call {
    /// The keys `call` takes besides `instruction`.
    pub const PARAMETERS: &'static [&'static str] = &[
        "url",
        "from",
        "to",
        "accept",
        "record",
        "timeout",
        "status_callback_url",
    ];

    fn parse(params: &Params<'_>) -> Result<Self, InstructionError> {
        Ok(Self {
            url: params.required("url", params.url("url")?)?,
            from: params.required("from", params.address("from")?)?,
            to: params.address("to")?,
            accept: params.bool("accept")?,
            record: params.choice("record")?,
            timeout: params.timeout("timeout")?,
            status_callback_url: params.url("status_callback_url")?,
        })
    }
}

/// The `redirect` instruction.
///
/// `accept` is always sent, `false` when not given: docs/taskrouter.md §2 asks for it explicitly,
/// and an explicit value makes the body say what happens to the reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redirect {
    /// The call parked in the queue.
    pub call_sid: CallSid,
    /// The TwiML the call is redirected to.
    pub url: HttpUrl,
    /// Whether to accept the reservation when redirecting.
    pub accept: bool,
    /// The activity the worker moves to afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_work_activity_sid: Option<ActivitySid>,
}

impl Redirect {
    /// The keys `redirect` takes besides `instruction`.
    pub const PARAMETERS: &'static [&'static str] =
        &["call_sid", "url", "accept", "post_work_activity_sid"];

    fn parse(params: &Params<'_>) -> Result<Self, InstructionError> {
        Ok(Self {
            call_sid: params.required("call_sid", params.call_sid("call_sid")?)?,
            url: params.required("url", params.url("url")?)?,
            accept: params.bool("accept")?.unwrap_or(false),
            post_work_activity_sid: params.activity_sid("post_work_activity_sid")?,
        })
    }
}

/// The `conference` instruction. Every parameter is optional; the value sets come from the
/// Reservation resource (`UpdateTaskReservation`, see the module docs).
///
/// Works out of the box only for `<Enqueue>` tasks; manual voice tasks need `call_sid` and `to`
/// in their attributes (docs/taskrouter.md §2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Conference {
    /// The worker's contact URI; TaskRouter defaults to the worker's `contact_uri` attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Address>,
    /// The caller ID of the call to the worker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Address>,
    /// The activity the worker moves to afterwards. Deprecated by Twilio and invalid in
    /// multitasking workspaces (docs/taskrouter.md §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_work_activity_sid: Option<ActivitySid>,
    /// How long the worker's phone rings: 1–999 s, default 60 (Twilio error 14233).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Timeout>,
    /// Where Twilio posts the worker leg's call progress events. Twilio's error page 40159
    /// spells this `status_callback_url`; the Reservation resource and docs/taskrouter.md say
    /// `status_callback`, which is what is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_callback: Option<HttpUrl>,
    /// The method for `status_callback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_callback_method: Option<HttpMethod>,
    /// Which call progress events go to `status_callback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_callback_event: Option<EventList<CallEvent>>,
    /// Whether to record the worker's participant; a boolean on the Reservation resource
    /// (`Record`), unlike `conference_record`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<bool>,
    /// Whether the worker joins muted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    /// When to beep as participants join or leave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beep: Option<Beep>,
    /// Whether the conference starts when the worker joins (Twilio's default: `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_conference_on_enter: Option<bool>,
    /// Whether the conference ends when the worker leaves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_conference_on_exit: Option<bool>,
    /// The hold music or TwiML played while waiting for the conference to start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_url: Option<HttpUrl>,
    /// The method for `wait_url` (`GET` lets Twilio cache a static file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_method: Option<HttpMethod>,
    /// Whether the worker hears the outbound call's ringing (Twilio's default: `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_media: Option<bool>,
    /// The conference's participant limit, 2–250.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_participants: Option<MaxParticipants>,
    /// Where Twilio posts conference events. Only the first participant's value counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conference_status_callback: Option<HttpUrl>,
    /// The method for `conference_status_callback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conference_status_callback_method: Option<HttpMethod>,
    /// Which conference events go to `conference_status_callback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conference_status_callback_event: Option<EventList<ConferenceEvent>>,
    /// Whether and when to record the whole conference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conference_record: Option<ConferenceRecord>,
    /// Whether to trim silence from the conference recording.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conference_trim: Option<ConferenceTrim>,
    /// Mono or dual-channel recording.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_channels: Option<RecordingChannels>,
    /// Where Twilio posts the participant recording's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_status_callback: Option<HttpUrl>,
    /// The method for `recording_status_callback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_status_callback_method: Option<HttpMethod>,
    /// Where Twilio posts the conference recording once available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conference_recording_status_callback: Option<HttpUrl>,
    /// The method for `conference_recording_status_callback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conference_recording_status_callback_method: Option<HttpMethod>,
    /// Where the conference audio is mixed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// The SIP username when `to` is a SIP address that needs authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip_auth_username: Option<String>,
    /// The SIP password; hidden from `Debug` and error messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip_auth_password: Option<SipAuthPassword>,
    /// Whether the conference ends when the customer leaves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_conference_on_customer_exit: Option<bool>,
    /// Whether to beep when the customer joins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beep_on_customer_entrance: Option<bool>,
    /// The jitter buffer applied to the worker's audio.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter_buffer_size: Option<JitterBufferSize>,
}

impl Conference {
    /// The keys `conference` takes besides `instruction`.
    pub const PARAMETERS: &'static [&'static str] = &[
        "to",
        "from",
        "post_work_activity_sid",
        "timeout",
        "status_callback",
        "status_callback_method",
        "status_callback_event",
        "record",
        "muted",
        "beep",
        "start_conference_on_enter",
        "end_conference_on_exit",
        "wait_url",
        "wait_method",
        "early_media",
        "max_participants",
        "conference_status_callback",
        "conference_status_callback_method",
        "conference_status_callback_event",
        "conference_record",
        "conference_trim",
        "recording_channels",
        "recording_status_callback",
        "recording_status_callback_method",
        "conference_recording_status_callback",
        "conference_recording_status_callback_method",
        "region",
        "sip_auth_username",
        "sip_auth_password",
        "end_conference_on_customer_exit",
        "beep_on_customer_entrance",
        "jitter_buffer_size",
    ];

    fn parse(params: &Params<'_>) -> Result<Self, InstructionError> {
        Ok(Self {
            to: params.address("to")?,
            from: params.address("from")?,
            post_work_activity_sid: params.activity_sid("post_work_activity_sid")?,
            timeout: params.timeout("timeout")?,
            status_callback: params.url("status_callback")?,
            status_callback_method: params.choice("status_callback_method")?,
            status_callback_event: params.events("status_callback_event")?,
            record: params.bool("record")?,
            muted: params.bool("muted")?,
            beep: params.choice("beep")?,
            start_conference_on_enter: params.bool("start_conference_on_enter")?,
            end_conference_on_exit: params.bool("end_conference_on_exit")?,
            wait_url: params.url("wait_url")?,
            wait_method: params.choice("wait_method")?,
            early_media: params.bool("early_media")?,
            max_participants: params.max_participants("max_participants")?,
            conference_status_callback: params.url("conference_status_callback")?,
            conference_status_callback_method: params
                .choice("conference_status_callback_method")?,
            conference_status_callback_event: params.events("conference_status_callback_event")?,
            conference_record: params.choice("conference_record")?,
            conference_trim: params.choice("conference_trim")?,
            recording_channels: params.choice("recording_channels")?,
            recording_status_callback: params.url("recording_status_callback")?,
            recording_status_callback_method: params.choice("recording_status_callback_method")?,
            conference_recording_status_callback: params
                .url("conference_recording_status_callback")?,
            conference_recording_status_callback_method: params
                .choice("conference_recording_status_callback_method")?,
            region: params.choice("region")?,
            sip_auth_username: params.non_empty("sip_auth_username")?.map(str::to_owned),
            sip_auth_password: params.secret("sip_auth_password")?,
            end_conference_on_customer_exit: params.bool("end_conference_on_customer_exit")?,
            beep_on_customer_entrance: params.bool("beep_on_customer_entrance")?,
            jitter_buffer_size: params.choice("jitter_buffer_size")?,
        })
    }
}

impl Conference {
    fn write_form(&self, form: &mut Form) {
        form.put("Instruction", "conference");
        form.text("To", self.to.as_ref().map(Address::as_str));
        form.text("From", self.from.as_ref().map(Address::as_str));
        form.text(
            "PostWorkActivitySid",
            self.post_work_activity_sid
                .as_ref()
                .map(ActivitySid::as_str),
        );
        form.number("Timeout", self.timeout.map(Timeout::seconds));
        form.text(
            "StatusCallback",
            self.status_callback.as_ref().map(HttpUrl::as_str),
        );
        form.choice("StatusCallbackMethod", self.status_callback_method);
        form.events("StatusCallbackEvent", self.status_callback_event.as_ref());
        form.flag("Record", self.record);
        form.flag("Muted", self.muted);
        form.choice("Beep", self.beep);
        form.flag("StartConferenceOnEnter", self.start_conference_on_enter);
        form.flag("EndConferenceOnExit", self.end_conference_on_exit);
        form.text("WaitUrl", self.wait_url.as_ref().map(HttpUrl::as_str));
        form.choice("WaitMethod", self.wait_method);
        form.flag("EarlyMedia", self.early_media);
        form.number(
            "MaxParticipants",
            self.max_participants.map(|limit| u16::from(limit.get())),
        );
        form.text(
            "ConferenceStatusCallback",
            self.conference_status_callback
                .as_ref()
                .map(HttpUrl::as_str),
        );
        form.choice(
            "ConferenceStatusCallbackMethod",
            self.conference_status_callback_method,
        );
        form.events(
            "ConferenceStatusCallbackEvent",
            self.conference_status_callback_event.as_ref(),
        );
        form.choice("ConferenceRecord", self.conference_record);
        form.choice("ConferenceTrim", self.conference_trim);
        form.choice("RecordingChannels", self.recording_channels);
        form.text(
            "RecordingStatusCallback",
            self.recording_status_callback.as_ref().map(HttpUrl::as_str),
        );
        form.choice(
            "RecordingStatusCallbackMethod",
            self.recording_status_callback_method,
        );
        form.text(
            "ConferenceRecordingStatusCallback",
            self.conference_recording_status_callback
                .as_ref()
                .map(HttpUrl::as_str),
        );
        form.choice(
            "ConferenceRecordingStatusCallbackMethod",
            self.conference_recording_status_callback_method,
        );
        form.choice("Region", self.region);
        form.text("SipAuthUsername", self.sip_auth_username.as_deref());
        form.text(
            "SipAuthPassword",
            self.sip_auth_password.as_ref().map(SipAuthPassword::expose),
        );
        form.flag(
            "EndConferenceOnCustomerExit",
            self.end_conference_on_customer_exit,
        );
        form.flag("BeepOnCustomerEntrance", self.beep_on_customer_entrance);
        form.choice("JitterBufferSize", self.jitter_buffer_size);
    }
}

/// How a REST form value becomes the callback JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    /// A string as it is.
    Text,
    /// `true` / `false`.
    Flag,
    /// A whole number.
    Integer,
    /// An OpenAPI array: the key repeated, joined with commas.
    List,
}

/// A REST form parameter: its PascalCase name, the callback key it stands for, its kind.
type FormParameter = (&'static str, &'static str, FormKind);

// The REST names of each instruction's parameters, the inverse of `to_form` (a round trip of
// every snapshot instruction pins the two together: `rest_forms_read_back_as_the_same_instruction`).

const REJECT_FORM: &[FormParameter] = &[("WorkerActivitySid", "activity_sid", FormKind::Text)];

const DEQUEUE_FORM: &[FormParameter] = &[
    ("DequeueTo", "to", FormKind::Text),
    ("DequeueFrom", "from", FormKind::Text),
    (
        "DequeuePostWorkActivitySid",
        "post_work_activity_sid",
        FormKind::Text,
    ),
    ("DequeueRecord", "record", FormKind::Text),
    ("DequeueTimeout", "timeout", FormKind::Integer),
    (
        "DequeueStatusCallbackUrl",
        "status_callback_url",
        FormKind::Text,
    ),
    (
        "DequeueStatusCallbackEvent",
        "status_callback_events",
        FormKind::List,
    ),
];

const CALL_FORM: &[FormParameter] = &[
    ("CallUrl", "url", FormKind::Text),
    ("CallFrom", "from", FormKind::Text),
    ("CallTo", "to", FormKind::Text),
    ("CallAccept", "accept", FormKind::Flag),
    ("CallRecord", "record", FormKind::Text),
    ("CallTimeout", "timeout", FormKind::Integer),
    (
        "CallStatusCallbackUrl",
        "status_callback_url",
        FormKind::Text,
    ),
];

const REDIRECT_FORM: &[FormParameter] = &[
    ("RedirectCallSid", "call_sid", FormKind::Text),
    ("RedirectUrl", "url", FormKind::Text),
    ("RedirectAccept", "accept", FormKind::Flag),
    (
        "PostWorkActivitySid",
        "post_work_activity_sid",
        FormKind::Text,
    ),
];

const CONFERENCE_FORM: &[FormParameter] = &[
    ("To", "to", FormKind::Text),
    ("From", "from", FormKind::Text),
    (
        "PostWorkActivitySid",
        "post_work_activity_sid",
        FormKind::Text,
    ),
    ("Timeout", "timeout", FormKind::Integer),
    ("StatusCallback", "status_callback", FormKind::Text),
    (
        "StatusCallbackMethod",
        "status_callback_method",
        FormKind::Text,
    ),
    (
        "StatusCallbackEvent",
        "status_callback_event",
        FormKind::List,
    ),
    ("Record", "record", FormKind::Flag),
    ("Muted", "muted", FormKind::Flag),
    ("Beep", "beep", FormKind::Text),
    (
        "StartConferenceOnEnter",
        "start_conference_on_enter",
        FormKind::Flag,
    ),
    (
        "EndConferenceOnExit",
        "end_conference_on_exit",
        FormKind::Flag,
    ),
    ("WaitUrl", "wait_url", FormKind::Text),
    ("WaitMethod", "wait_method", FormKind::Text),
    ("EarlyMedia", "early_media", FormKind::Flag),
    ("MaxParticipants", "max_participants", FormKind::Integer),
    (
        "ConferenceStatusCallback",
        "conference_status_callback",
        FormKind::Text,
    ),
    (
        "ConferenceStatusCallbackMethod",
        "conference_status_callback_method",
        FormKind::Text,
    ),
    (
        "ConferenceStatusCallbackEvent",
        "conference_status_callback_event",
        FormKind::List,
    ),
    ("ConferenceRecord", "conference_record", FormKind::Text),
    ("ConferenceTrim", "conference_trim", FormKind::Text),
    ("RecordingChannels", "recording_channels", FormKind::Text),
    (
        "RecordingStatusCallback",
        "recording_status_callback",
        FormKind::Text,
    ),
    (
        "RecordingStatusCallbackMethod",
        "recording_status_callback_method",
        FormKind::Text,
    ),
    (
        "ConferenceRecordingStatusCallback",
        "conference_recording_status_callback",
        FormKind::Text,
    ),
    (
        "ConferenceRecordingStatusCallbackMethod",
        "conference_recording_status_callback_method",
        FormKind::Text,
    ),
    ("Region", "region", FormKind::Text),
    ("SipAuthUsername", "sip_auth_username", FormKind::Text),
    ("SipAuthPassword", "sip_auth_password", FormKind::Text),
    (
        "EndConferenceOnCustomerExit",
        "end_conference_on_customer_exit",
        FormKind::Flag,
    ),
    (
        "BeepOnCustomerEntrance",
        "beep_on_customer_entrance",
        FormKind::Flag,
    ),
    ("JitterBufferSize", "jitter_buffer_size", FormKind::Text),
];

/// REST form parameters being written: PascalCase name and value, in order.
#[derive(Default)]
struct Form(Vec<(&'static str, String)>);

impl Form {
    fn put(&mut self, name: &'static str, value: &str) {
        self.0.push((name, value.to_owned()));
    }

    fn text(&mut self, name: &'static str, value: Option<&str>) {
        if let Some(value) = value {
            self.put(name, value);
        }
    }

    fn number(&mut self, name: &'static str, value: Option<u16>) {
        if let Some(value) = value {
            self.0.push((name, value.to_string()));
        }
    }

    /// Booleans as the REST API reads them: `true` / `false`.
    fn flag(&mut self, name: &'static str, value: Option<bool>) {
        if let Some(value) = value {
            self.put(name, if value { "true" } else { "false" });
        }
    }

    fn choice<T: Enumerated>(&mut self, name: &'static str, value: Option<T>) {
        if let Some(value) = value {
            self.put(name, value.as_str());
        }
    }

    /// An OpenAPI array in a form body: the parameter repeated once per value.
    fn events<T: Enumerated>(&mut self, name: &'static str, list: Option<&EventList<T>>) {
        for event in list.map(EventList::events).unwrap_or_default() {
            self.put(name, event.as_str());
        }
    }
}

/// A call endpoint for `to` and `from`: an E.164 number, `client:alice`, `sip:...`. Any text that
/// is not blank; kept exactly as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Address(String);

impl Address {
    /// The address, or `None` when `text` is empty or only whitespace.
    pub fn new(text: impl Into<String>) -> Option<Self> {
        let text = text.into();
        (!text.trim().is_empty()).then_some(Self(text))
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn is_sip(&self) -> bool {
        self.0
            .get(..4)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("sip:"))
    }
}

/// The kinds of call endpoint TaskRouter documents for `to` and `from` (docs/taskrouter.md §2):
/// what a value filled into them from a template must be ([`AddressKind::of`]). A document's own
/// literal addresses are its author's, and stay any text that is not blank ([`Address`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// A phone number in E.164 form: `+` and at most 15 digits, the first not 0 (Twilio's
    /// glossary, "What is E.164?": `^\+[1-9]\d{1,14}$`).
    Phone,
    /// A Twilio Client: `client:` and an identity ([`AddressKind::of`] says which).
    Client,
    /// A SIP address: `sip:` and a URI ([`AddressKind::of`] says which).
    Sip,
    /// A bare caller name such as `bob`: what Twilio's own `dequeue` example sends as `from`
    /// (error 40132: "an acceptable caller field when connecting to client or SIP").
    CallerName,
}

impl AddressKind {
    /// What `to` of `dequeue`, `call` and `conference` takes: "the URI of the Twilio Client, the
    /// SIP URI for Programmable SIP, or the E.164 formatted phone number" (the Reservation
    /// resource's `DequeueTo`, `CallTo` and `To`; Twilio error 40131).
    pub const TO: &'static [AddressKind] = &[Self::Phone, Self::Client, Self::Sip];
    /// What `from` of `dequeue`, `call` and `conference` takes, the caller ID: "a validated
    /// caller ID if you're dialing the PSTN", "an acceptable caller field when connecting to
    /// client or SIP" (Twilio error 40132), which can be a `client:` address as in TwiML.
    pub const FROM: &'static [AddressKind] = &[Self::Phone, Self::Client, Self::CallerName];

    /// The kind of endpoint `text` is, read from its prefix (`+`, `client:`, `sip:`, in any
    /// case), or `None` when it is malformed for that kind.
    ///
    /// - a phone number: `+`, then 2 to 15 digits, the first not 0;
    /// - a client identity (after `client:`) and a caller name: 1 to 256 visible ASCII
    ///   characters, none of them a delimiter or "unwise" character (`<>#%"{}|\^[]` and the
    ///   backquote), as Twilio error 31105 ("invalid client name") words it; a caller name also
    ///   has no `:`, so it cannot pass for an address of another scheme;
    /// - a SIP URI (after `sip:`): a conservative subset of RFC 3261 §25.1,
    ///   `[user@]host[:port][;name[=value]]…[?name=value[&name=value]…]`, where the user part
    ///   holds letters, digits, `-_.!~*'()`, `&=+$,` and `%` escapes, and the host is a name, an
    ///   IPv4 address or a bracketed IPv6 address.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskrouter_lambda::instruction::AddressKind;
    ///
    /// assert_eq!(AddressKind::of("+14155550100"), Some(AddressKind::Phone));
    /// assert_eq!(AddressKind::of("client:alice"), Some(AddressKind::Client));
    /// assert_eq!(AddressKind::of("sip:alice@example.com;transport=tls"), Some(AddressKind::Sip));
    /// assert_eq!(AddressKind::of("bob"), Some(AddressKind::CallerName));
    /// assert_eq!(AddressKind::of("+1 415 555 0100"), None);
    /// assert_eq!(AddressKind::of("https://example.com/"), None);
    /// ```
    pub fn of(text: &str) -> Option<Self> {
        if let Some(digits) = text.strip_prefix('+') {
            let phone = (2..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0');
            return phone.then_some(Self::Phone);
        }
        if let Some(identity) = strip_scheme(text, "client:") {
            return client_identity(identity).then_some(Self::Client);
        }
        if let Some(uri) = strip_scheme(text, "sip:") {
            return sip_uri(uri).then_some(Self::Sip);
        }
        (client_identity(text) && !text.contains(':')).then_some(Self::CallerName)
    }

    /// The kinds, as messages name them: `a phone number in E.164 form (+14155550100), a
    /// `client:` address or a `sip:` address`.
    pub fn describe(kinds: &[AddressKind]) -> String {
        let names: Vec<&str> = kinds
            .iter()
            .map(|kind| match kind {
                Self::Phone => "a phone number in E.164 form (+14155550100)",
                Self::Client => "a `client:` address",
                Self::Sip => "a `sip:` address",
                Self::CallerName => "a caller name of letters and digits",
            })
            .collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

/// `text` without `scheme` (ASCII case-insensitive), or `None` when it does not start with it.
fn strip_scheme<'t>(text: &'t str, scheme: &str) -> Option<&'t str> {
    text.get(..scheme.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(scheme))
        .map(|_| &text[scheme.len()..])
}

/// A Twilio Client identity: 1–256 visible ASCII characters without RFC 2396's delimiters and
/// "unwise" characters (Twilio error 31105).
fn client_identity(identity: &str) -> bool {
    (1..=256).contains(&identity.len())
        && identity
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"<>#%\"{}|\\^[]`".contains(&b))
}

/// What follows `sip:`, as the subset of RFC 3261 §25.1 [`AddressKind::of`] describes.
fn sip_uri(uri: &str) -> bool {
    // RFC 3261 §25.1: `user-unreserved`, `param-unreserved` and `hnv-unreserved`, less the
    // characters that would make the split below ambiguous (`;`, `?` and `/` in the user part).
    const USER: &[u8] = b"&=+$,";
    const PARAM: &[u8] = b"[]/:&+$";
    const HEADER: &[u8] = b"[]/?:+$";
    let (before_headers, headers) = match uri.split_once('?') {
        Some((before, headers)) => (before, Some(headers)),
        None => (uri, None),
    };
    let mut parts = before_headers.split(';');
    let address = parts.next().unwrap_or_default();
    let parameters = parts.all(|parameter| {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        !name.is_empty() && sip_text(name, PARAM) && sip_text(value, PARAM)
    });
    let headers = headers.is_none_or(|headers| {
        headers.split('&').all(|header| {
            header.split_once('=').is_some_and(|(name, value)| {
                !name.is_empty() && sip_text(name, HEADER) && sip_text(value, HEADER)
            })
        })
    });
    let (user, host_port) = match address.split_once('@') {
        Some((user, host_port)) => (Some(user), host_port),
        None => (None, address),
    };
    let user = user.is_none_or(|user| !user.is_empty() && sip_text(user, USER));
    user && sip_host_port(host_port) && parameters && headers
}

/// RFC 3986's `unreserved` as RFC 3261 extends it (`!~*'()` included), `%` escapes, and `extra`.
fn sip_text(text: &str, extra: &[u8]) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    while let Some(&b) = bytes.get(index) {
        if b == b'%' {
            let escape = bytes.get(index + 1..index + 3);
            if !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            index += 3;
            continue;
        }
        if !(b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) || extra.contains(&b)) {
            return false;
        }
        index += 1;
    }
    true
}

/// `host[:port]`: a host name or IPv4 address (dot-separated labels of letters, digits and `-`),
/// or an IPv6 address in brackets; the port a number from 0 to 65535.
fn sip_host_port(host_port: &str) -> bool {
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((v6, after)) => {
                let v6 = !v6.is_empty()
                    && v6
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
                match after {
                    "" => return v6,
                    _ => match after.strip_prefix(':') {
                        Some(port) => (v6, Some(port)),
                        None => return false,
                    },
                }
            }
            None => return false,
        },
        None => {
            let (host, port) = match host_port.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            };
            let name = host.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
            (name, port)
        }
    };
    host && port.is_none_or(|port| {
        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok()
    })
}

/// An absolute `http://` or `https://` URL with a host, kept byte for byte as given: never
/// normalised, since Twilio signs its webhooks over the URL exactly as configured
/// (docs/taskrouter.md §4). `Debug` hides any `user:password@`.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct HttpUrl(String);

impl HttpUrl {
    /// The URL, or `None` when it is not absolute http(s) with a host, has a malformed port, or
    /// contains whitespace; [`Instruction::from_json`] says which.
    pub fn new(text: impl Into<String>) -> Option<Self> {
        let text = text.into();
        url_problem(&text).is_none().then_some(Self(text))
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpUrl({:?})", hide_userinfo(&self.0))
    }
}

/// Why `url` is not an absolute http(s) URL with a host, or `None` when it is one. A small check
/// on purpose: a URL crate would normalise the text (docs/taskrouter.md §4).
fn url_problem(url: &str) -> Option<&'static str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("it contains whitespace or a control character; percent-encode it");
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some("it is not absolute; start it with https://");
    };
    if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
        return Some("its scheme is not http or https");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, after)| after);
    let (host, port) = match host_and_port.strip_prefix('[') {
        // An IPv6 literal: `[::1]` or `[::1]:8080`.
        Some(bracketed) => match bracketed.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, after)) => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Some("its IPv6 host is followed by something other than a port"),
            },
            None => return Some("its IPv6 host has no closing `]`"),
        },
        None => match host_and_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_and_port, None),
        },
    };
    if host.is_empty() {
        return Some("it has no host");
    }
    if let Some(port) = port
        && !(port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok())
    {
        return Some("its port is not a number from 0 to 65535");
    }
    None
}

/// `url` with any `user:password@` replaced by `***@`, for messages and logs.
fn hide_userinfo(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{scheme}://***{}", &rest[at..]);
        }
    }
    url.to_owned()
}

/// A ring timeout in seconds, 1–999 (handle-assignment-callbacks page; Twilio error 14233).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Timeout(u16);

impl Timeout {
    /// The shortest timeout.
    pub const MIN: u16 = 1;
    /// The longest timeout TaskRouter accepts.
    pub const MAX: u16 = 999;

    /// The timeout, or `None` outside [`Self::MIN`]..=[`Self::MAX`].
    pub fn new(seconds: u16) -> Option<Self> {
        (Self::MIN..=Self::MAX)
            .contains(&seconds)
            .then_some(Self(seconds))
    }

    /// The timeout in seconds.
    pub fn seconds(self) -> u16 {
        self.0
    }
}

/// A conference's participant limit, 2–250 (Reservation resource, `MaxParticipants`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MaxParticipants(u8);

impl MaxParticipants {
    /// The smallest limit.
    pub const MIN: u8 = 2;
    /// The largest limit.
    pub const MAX: u8 = 250;

    /// The limit, or `None` outside [`Self::MIN`]..=[`Self::MAX`].
    pub fn new(participants: u8) -> Option<Self> {
        (Self::MIN..=Self::MAX)
            .contains(&participants)
            .then_some(Self(participants))
    }

    /// The limit.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// The SIP password of a conference instruction: sent to TaskRouter, shown nowhere else.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SipAuthPassword(String);

impl SipAuthPassword {
    /// The password, or `None` when it is empty.
    pub fn new(password: impl Into<String>) -> Option<Self> {
        let password = password.into();
        (!password.is_empty()).then_some(Self(password))
    }

    /// The password itself, for serialisation only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SipAuthPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SipAuthPassword(***)")
    }
}

/// A parameter whose values form a documented, closed set of strings.
pub trait Enumerated: Copy + 'static {
    /// Every value, in Twilio's documented order.
    const ALL: &'static [Self];

    /// The value as TaskRouter reads it.
    fn as_str(self) -> &'static str;
}

macro_rules! enumerated {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                #[doc = concat!("`", $text, "`")]
                $variant,
            )+
        }

        impl Enumerated for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];

            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

enumerated!(
    /// `record` of `dequeue` and `call`: `record-from-answer` or `do-not-record`
    /// (handle-assignment-callbacks page; docs/taskrouter.md §2).
    CallRecord {
        RecordFromAnswer => "record-from-answer",
        DoNotRecord => "do-not-record",
    }
);

enumerated!(
    /// A call progress event: `status_callback_events` of `dequeue` (handle-assignment-callbacks
    /// page, error 40134) and `status_callback_event` of `conference` (Reservation resource,
    /// `task_reservation_enum_call_status`).
    CallEvent {
        Initiated => "initiated",
        Ringing => "ringing",
        Answered => "answered",
        Completed => "completed",
    }
);

enumerated!(
    /// A conference event for `conference_status_callback_event` (Reservation resource,
    /// `task_reservation_enum_conference_event`; TwiML `<Conference>` knows more, such as
    /// `modify`, but the Reservation resource lists only these).
    ConferenceEvent {
        Start => "start",
        End => "end",
        Join => "join",
        Leave => "leave",
        Mute => "mute",
        Hold => "hold",
        Speaker => "speaker",
    }
);

enumerated!(
    /// `beep`: `true`, `false`, `onEnter` or `onExit` (Reservation resource, `Beep`, a string).
    Beep {
        True => "true",
        False => "false",
        OnEnter => "onEnter",
        OnExit => "onExit",
    }
);

enumerated!(
    /// `conference_record`: `true`, `false`, `record-from-start` or `do-not-record`
    /// (Reservation resource, `ConferenceRecord`, a string).
    ConferenceRecord {
        True => "true",
        False => "false",
        RecordFromStart => "record-from-start",
        DoNotRecord => "do-not-record",
    }
);

enumerated!(
    /// `conference_trim`: `trim-silence` or `do-not-trim` (Reservation resource,
    /// `ConferenceTrim`).
    ConferenceTrim {
        TrimSilence => "trim-silence",
        DoNotTrim => "do-not-trim",
    }
);

enumerated!(
    /// `recording_channels`: `mono` or `dual` (Reservation resource, `RecordingChannels`).
    RecordingChannels {
        Mono => "mono",
        Dual => "dual",
    }
);

enumerated!(
    /// Every `*_method`: `GET` or `POST` (Reservation resource, `http-method` enums).
    HttpMethod {
        Get => "GET",
        Post => "POST",
    }
);

enumerated!(
    /// `region`, where the conference audio is mixed: `us1`, `ie1`, `de1`, `sg1`, `br1`, `au1`
    /// or `jp1` (Reservation resource, `Region`).
    Region {
        Us1 => "us1",
        Ie1 => "ie1",
        De1 => "de1",
        Sg1 => "sg1",
        Br1 => "br1",
        Au1 => "au1",
        Jp1 => "jp1",
    }
);

enumerated!(
    /// `jitter_buffer_size`: `small`, `medium`, `large` or `off` (Reservation resource,
    /// `JitterBufferSize`).
    JitterBufferSize {
        Small => "small",
        Medium => "medium",
        Large => "large",
        Off => "off",
    }
);

/// A non-empty list of events, sent as one comma-separated string (`"initiated,ringing"`), the
/// only list form documented for callback JSON (Twilio error 40134). The Reservation resource
/// takes repeated form parameters instead, which JSON cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventList<T>(Vec<T>);

impl<T: Enumerated> EventList<T> {
    /// The list, or `None` when `events` is empty.
    pub fn new(events: Vec<T>) -> Option<Self> {
        (!events.is_empty()).then_some(Self(events))
    }

    /// The events in the order given.
    pub fn events(&self) -> &[T] {
        &self.0
    }
}

impl<T: Enumerated> Serialize for EventList<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let names: Vec<&str> = self.0.iter().map(|event| event.as_str()).collect();
        serializer.serialize_str(&names.join(","))
    }
}

/// An instruction that cannot be sent: every message names the instruction and the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstructionError {
    /// The value is not a JSON object.
    #[error(
        "an instruction must be a JSON object such as {{\"instruction\": \"accept\"}}, got {got}"
    )]
    NotAnObject {
        /// The value given, described.
        got: String,
    },
    /// The object has no `instruction` key.
    #[error("the instruction object has no `instruction` key: add one naming {}", quoted(&Instruction::NAMES))]
    MissingInstruction,
    /// `instruction` names no known instruction.
    #[error("`instruction` must be one of {}, got {got}{}", quoted(&Instruction::NAMES), did_you_mean(.suggestion))]
    UnknownInstruction {
        /// The value given, as JSON.
        got: String,
        /// A known name close to it.
        suggestion: Option<&'static str>,
    },
    /// A key the instruction does not take: a misspelling must not silently vanish.
    #[error("`{instruction}` has no parameter `{key}`: {}", unknown_parameter_hint(.instruction, .suggestion, .known))]
    UnknownParameter {
        /// The instruction name.
        instruction: &'static str,
        /// The key given.
        key: String,
        /// A parameter close to it.
        suggestion: Option<&'static str>,
        /// The parameters the instruction takes.
        known: &'static [&'static str],
    },
    /// A required parameter is missing.
    #[error("`{instruction}` needs the parameter `{field}`: add it")]
    MissingParameter {
        /// The instruction name.
        instruction: &'static str,
        /// The missing parameter.
        field: &'static str,
    },
    /// A parameter holds the wrong JSON type.
    #[error("`{instruction}` parameter `{field}` must be {expected}, got {got}")]
    WrongType {
        /// The instruction name.
        instruction: &'static str,
        /// The parameter.
        field: &'static str,
        /// The JSON type wanted, e.g. `an integer`.
        expected: &'static str,
        /// The value given as JSON (only its type for a secret).
        got: String,
    },
    /// A text parameter is empty or blank.
    #[error("`{instruction}` parameter `{field}` must not be empty")]
    Empty {
        /// The instruction name.
        instruction: &'static str,
        /// The parameter.
        field: &'static str,
    },
    /// A SID parameter is malformed.
    #[error("`{instruction}` parameter `{field}` is invalid: {error}")]
    InvalidSid {
        /// The instruction name.
        instruction: &'static str,
        /// The parameter.
        field: &'static str,
        /// What is wrong with the SID.
        error: SidError,
    },
    /// A URL parameter is not an absolute http(s) URL with a host.
    #[error(
        "`{instruction}` parameter `{field}` must be an absolute http(s) URL with a host, got {got:?}: {reason}"
    )]
    InvalidUrl {
        /// The instruction name.
        instruction: &'static str,
        /// The parameter.
        field: &'static str,
        /// The URL given, any `user:password@` hidden.
        got: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A number is outside its range.
    #[error("`{instruction}` parameter `{field}` must be between {min} and {max}, got {got}")]
    OutOfRange {
        /// The instruction name.
        instruction: &'static str,
        /// The parameter.
        field: &'static str,
        /// The number given.
        got: String,
        /// The smallest value allowed.
        min: u16,
        /// The largest value allowed.
        max: u16,
    },
    /// A `timeout` above 600 s with a SIP `to` (docs/taskrouter.md §2).
    #[error(
        "`{instruction}` parameter `timeout` must be at most 600 when `to` is a SIP address, got {got}"
    )]
    SipTimeout {
        /// The instruction name.
        instruction: &'static str,
        /// The timeout given.
        got: u16,
    },
    /// A value outside its documented set.
    #[error("`{instruction}` parameter `{field}` must be one of {allowed}, got {got:?}{}", did_you_mean(.suggestion))]
    NotInSet {
        /// The instruction name.
        instruction: &'static str,
        /// The parameter.
        field: &'static str,
        /// The value given.
        got: String,
        /// The documented values.
        allowed: String,
        /// A documented value close to it.
        suggestion: Option<&'static str>,
    },
    /// An event list names an event outside its documented set.
    #[error(
        "`{instruction}` parameter `{field}` lists {got:?}, which is not one of {allowed}{}; separate events with commas and no spaces",
        did_you_mean(.suggestion)
    )]
    NotInList {
        /// The instruction name.
        instruction: &'static str,
        /// The parameter.
        field: &'static str,
        /// The event given.
        got: String,
        /// The documented events.
        allowed: String,
        /// A documented event close to it.
        suggestion: Option<&'static str>,
    },
}

impl InstructionError {
    /// The key of the instruction object the problem is about, when the object has it: the
    /// instruction's name, the parameter that is unknown, of the wrong type or out of range.
    /// `None` for a problem about the object as a whole or a parameter it lacks.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::NotAnObject { .. } | Self::MissingInstruction | Self::MissingParameter { .. } => {
                None
            }
            Self::UnknownInstruction { .. } => Some("instruction"),
            Self::UnknownParameter { key, .. } => Some(key),
            Self::SipTimeout { .. } => Some("timeout"),
            Self::WrongType { field, .. }
            | Self::Empty { field, .. }
            | Self::InvalidSid { field, .. }
            | Self::InvalidUrl { field, .. }
            | Self::OutOfRange { field, .. }
            | Self::NotInSet { field, .. }
            | Self::NotInList { field, .. } => Some(field),
        }
    }
}

/// `"a", "b", "c"`: values as they are written in JSON.
fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|value| format!("{value:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn did_you_mean(suggestion: &Option<&'static str>) -> String {
    suggestion.map_or_else(String::new, |suggestion| {
        format!(" (did you mean {suggestion:?}?)")
    })
}

fn unknown_parameter_hint(
    instruction: &str,
    suggestion: &Option<&'static str>,
    known: &[&str],
) -> String {
    match suggestion {
        Some(suggestion) => format!("did you mean `{suggestion}`?"),
        None if known.is_empty() => format!("remove it; `{instruction}` takes no parameters"),
        None => format!("remove it or use one of {}", known.join(", ")),
    }
}

/// A JSON value as shown in messages: scalars as JSON text (`"20"`, `20`, `null`), containers by
/// their kind, so a message stays one short line.
fn describe(value: &Value) -> String {
    match value {
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        scalar => scalar.to_string(),
    }
}

/// The parameters of one instruction object, after its keys were checked.
struct Params<'a> {
    instruction: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    /// Rejects any key other than `instruction` and `known`.
    fn new(
        instruction: &'static str,
        map: &'a Map<String, Value>,
        known: &'static [&'static str],
    ) -> Result<Self, InstructionError> {
        if let Some(key) = unknown_keys(map, known).find(|key| *key != "instruction") {
            return Err(InstructionError::UnknownParameter {
                instruction,
                key: key.clone(),
                suggestion: suggest(key, known.iter().copied()),
                known,
            });
        }
        Ok(Self { instruction, map })
    }

    fn required<T>(&self, field: &'static str, value: Option<T>) -> Result<T, InstructionError> {
        value.ok_or(InstructionError::MissingParameter {
            instruction: self.instruction,
            field,
        })
    }

    fn wrong_type(
        &self,
        field: &'static str,
        expected: &'static str,
        got: String,
    ) -> InstructionError {
        InstructionError::WrongType {
            instruction: self.instruction,
            field,
            expected,
            got,
        }
    }

    fn string(&self, field: &'static str) -> Result<Option<&'a str>, InstructionError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.wrong_type(field, "a string", describe(other))),
        }
    }

    fn non_empty(&self, field: &'static str) -> Result<Option<&'a str>, InstructionError> {
        match self.string(field)? {
            Some(text) if text.trim().is_empty() => Err(InstructionError::Empty {
                instruction: self.instruction,
                field,
            }),
            text => Ok(text),
        }
    }

    fn address(&self, field: &'static str) -> Result<Option<Address>, InstructionError> {
        Ok(self.non_empty(field)?.map(|text| Address(text.to_owned())))
    }

    fn secret(&self, field: &'static str) -> Result<Option<SipAuthPassword>, InstructionError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::String(text)) if text.is_empty() => Err(InstructionError::Empty {
                instruction: self.instruction,
                field,
            }),
            Some(Value::String(text)) => Ok(Some(SipAuthPassword(text.clone()))),
            // Only the kind: the value of a secret must not appear in messages.
            Some(other) => Err(self.wrong_type(field, "a string", json_kind(other).to_owned())),
        }
    }

    fn url(&self, field: &'static str) -> Result<Option<HttpUrl>, InstructionError> {
        let Some(text) = self.string(field)? else {
            return Ok(None);
        };
        match url_problem(text) {
            None => Ok(Some(HttpUrl(text.to_owned()))),
            Some(reason) => Err(InstructionError::InvalidUrl {
                instruction: self.instruction,
                field,
                got: hide_userinfo(text),
                reason,
            }),
        }
    }

    fn sid<T>(
        &self,
        field: &'static str,
        parse: fn(&str) -> Result<T, SidError>,
    ) -> Result<Option<T>, InstructionError> {
        let Some(text) = self.string(field)? else {
            return Ok(None);
        };
        parse(text)
            .map(Some)
            .map_err(|error| InstructionError::InvalidSid {
                instruction: self.instruction,
                field,
                error,
            })
    }

    fn activity_sid(&self, field: &'static str) -> Result<Option<ActivitySid>, InstructionError> {
        self.sid(field, ActivitySid::parse)
    }

    fn call_sid(&self, field: &'static str) -> Result<Option<CallSid>, InstructionError> {
        self.sid(field, CallSid::parse)
    }

    fn bool(&self, field: &'static str) -> Result<Option<bool>, InstructionError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(self.wrong_type(field, "a boolean", describe(other))),
        }
    }

    /// A JSON integer within `min..=max`; `20.0` and `"20"` are not integers.
    fn integer(
        &self,
        field: &'static str,
        min: u16,
        max: u16,
    ) -> Result<Option<u16>, InstructionError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Number(number)) if number.is_i64() || number.is_u64() => number
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| (min..=max).contains(n))
                .map(Some)
                .ok_or_else(|| InstructionError::OutOfRange {
                    instruction: self.instruction,
                    field,
                    got: number.to_string(),
                    min,
                    max,
                }),
            Some(other) => Err(self.wrong_type(field, "an integer", describe(other))),
        }
    }

    fn timeout(&self, field: &'static str) -> Result<Option<Timeout>, InstructionError> {
        Ok(self
            .integer(field, Timeout::MIN, Timeout::MAX)?
            .map(Timeout))
    }

    fn max_participants(
        &self,
        field: &'static str,
    ) -> Result<Option<MaxParticipants>, InstructionError> {
        let range = (
            u16::from(MaxParticipants::MIN),
            u16::from(MaxParticipants::MAX),
        );
        Ok(self
            .integer(field, range.0, range.1)?
            .and_then(|n| u8::try_from(n).ok())
            .map(MaxParticipants))
    }

    fn choice<T: Enumerated>(&self, field: &'static str) -> Result<Option<T>, InstructionError> {
        let Some(text) = self.string(field)? else {
            return Ok(None);
        };
        find_value::<T>(text)
            .map(Some)
            .ok_or_else(|| InstructionError::NotInSet {
                instruction: self.instruction,
                field,
                got: text.to_owned(),
                allowed: allowed::<T>(),
                suggestion: suggest(text, T::ALL.iter().map(|value| value.as_str())),
            })
    }

    fn events<T: Enumerated>(
        &self,
        field: &'static str,
    ) -> Result<Option<EventList<T>>, InstructionError> {
        let Some(text) = self.non_empty(field)? else {
            return Ok(None);
        };
        let events = text
            .split(',')
            .map(|item| {
                find_value::<T>(item).ok_or_else(|| InstructionError::NotInList {
                    instruction: self.instruction,
                    field,
                    got: item.to_owned(),
                    allowed: allowed::<T>(),
                    suggestion: suggest(item, T::ALL.iter().map(|value| value.as_str())),
                })
            })
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Some(EventList(events)))
    }
}

fn find_value<T: Enumerated>(text: &str) -> Option<T> {
    T::ALL.iter().copied().find(|value| value.as_str() == text)
}

fn allowed<T: Enumerated>() -> String {
    quoted(
        &T::ALL
            .iter()
            .map(|value| value.as_str())
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    const ACTIVITY: &str = "WA0123456789abcdef0123456789abcdef";
    const CALL: &str = "CA0123456789abcdef0123456789abcdef";

    fn parse(value: Value) -> Instruction {
        Instruction::from_json(&value).expect("the fixture is a valid instruction")
    }

    /// A minimal and a full version of every instruction, as written in a rules file.
    fn fixtures() -> Vec<(&'static str, Value)> {
        vec![
            ("accept", json!({"instruction": "accept"})),
            (
                "reject",
                json!({"instruction": "reject", "activity_sid": ACTIVITY}),
            ),
            ("dequeue (minimal)", json!({"instruction": "dequeue"})),
            (
                "dequeue (full)",
                json!({
                    "instruction": "dequeue",
                    "to": "client:alice",
                    "from": "+18001234567",
                    "post_work_activity_sid": ACTIVITY,
                    "record": "record-from-answer",
                    "timeout": 30,
                    "status_callback_url": "https://example.com/status?queue=sales&x='1'",
                    "status_callback_events": "initiated,ringing,answered,completed",
                }),
            ),
            (
                "call (minimal)",
                json!({"instruction": "call", "url": "https://example.com/twiml", "from": "+18001234567"}),
            ),
            (
                "call (full)",
                json!({
                    "instruction": "call",
                    "url": "https://Example.com:443/twiml/worker",
                    "from": "+18001234567",
                    "to": "sip:alice@example.com",
                    "accept": true,
                    "record": "do-not-record",
                    "timeout": 999,
                    "status_callback_url": "http://example.com/status",
                }),
            ),
            (
                "redirect (minimal)",
                json!({"instruction": "redirect", "call_sid": CALL, "url": "https://example.com/hold"}),
            ),
            (
                "redirect (full)",
                json!({
                    "instruction": "redirect",
                    "call_sid": CALL,
                    "url": "https://example.com/hold",
                    "accept": true,
                    "post_work_activity_sid": ACTIVITY,
                }),
            ),
            ("conference (minimal)", json!({"instruction": "conference"})),
            (
                "conference (full)",
                json!({
                    "instruction": "conference",
                    "to": "client:alice",
                    "from": "+18001234567",
                    "post_work_activity_sid": ACTIVITY,
                    "timeout": 45,
                    "status_callback": "https://example.com/leg",
                    "status_callback_method": "GET",
                    "status_callback_event": "ringing,answered",
                    "record": true,
                    "muted": false,
                    "beep": "onEnter",
                    "start_conference_on_enter": true,
                    "end_conference_on_exit": false,
                    "wait_url": "https://example.com/hold.mp3",
                    "wait_method": "GET",
                    "early_media": true,
                    "max_participants": 2,
                    "conference_status_callback": "https://example.com/conference",
                    "conference_status_callback_method": "POST",
                    "conference_status_callback_event": "start,end,join,leave,mute,hold,speaker",
                    "conference_record": "record-from-start",
                    "conference_trim": "do-not-trim",
                    "recording_channels": "dual",
                    "recording_status_callback": "https://example.com/recording",
                    "recording_status_callback_method": "POST",
                    "conference_recording_status_callback": "https://example.com/conference-recording",
                    "conference_recording_status_callback_method": "GET",
                    "region": "ie1",
                    "sip_auth_username": "alice",
                    "sip_auth_password": "s3cret",
                    "end_conference_on_customer_exit": true,
                    "beep_on_customer_entrance": false,
                    "jitter_buffer_size": "medium",
                }),
            ),
        ]
    }

    #[test]
    fn every_answer_body_is_pinned_byte_for_byte() {
        let mut bodies = format!("defer: {}\n", Answer::Defer.to_body());
        for (label, value) in fixtures() {
            let answer = Answer::from(parse(value));
            bodies.push_str(&format!("{label}: {}\n", answer.to_body()));
        }
        insta::assert_snapshot!("bodies", bodies);
    }

    #[test]
    fn every_rest_form_is_pinned_byte_for_byte() {
        let mut forms = String::new();
        for (label, value) in fixtures() {
            let form = parse(value).to_form();
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter().map(|(name, value)| (*name, value.as_str())))
                .finish();
            forms.push_str(&format!("{label}: {encoded}\n"));
        }
        insta::assert_snapshot!("rest_forms", forms);
    }

    #[test]
    fn rest_forms_set_the_status_or_name_the_instruction_first() {
        for (label, value) in fixtures() {
            let instruction = parse(value);
            let form = instruction.to_form();
            let expected = match instruction.name() {
                "accept" => ("ReservationStatus", "accepted".to_owned()),
                "reject" => ("ReservationStatus", "rejected".to_owned()),
                name => ("Instruction", name.to_owned()),
            };
            assert_eq!(form.first(), Some(&expected), "{label}");
        }
    }

    #[test]
    fn rest_forms_read_back_as_the_same_instruction() {
        for (label, value) in fixtures() {
            let instruction = parse(value);
            let pairs: Vec<(String, String)> = instruction
                .to_form()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect();
            assert_eq!(
                Instruction::from_form(&pairs).as_ref(),
                Ok(&instruction),
                "{label}"
            );
        }
    }

    #[test]
    fn rest_forms_that_do_not_make_an_instruction_say_why_in_callback_words() {
        let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
            items
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        #[rustfmt::skip]
        let cases = [
            (pairs(&[("ReservationStatus", "rejected")]), "`reject` needs the parameter `activity_sid`: add it", "a reject without its activity"),
            (pairs(&[("Instruction", "call"), ("CallUrl", "https://example.com/t")]), "`call` needs the parameter `from`: add it", "a call without its caller ID"),
            (pairs(&[("Instruction", "call"), ("CallUrl", "https://example.com/t"), ("CallFrom", "+1"), ("CallAccept", "yes")]), "`call` parameter `accept` must be a boolean, got \"yes\"", "a flag that is not true or false"),
            (pairs(&[("Instruction", "dequeue"), ("DequeueTimeout", "1000")]), "`dequeue` parameter `timeout` must be between 1 and 999, got 1000", "a ring timeout out of range"),
            (pairs(&[("Instruction", "supervise")]), "`instruction` must be one of", "an instruction the callback does not have"),
            (pairs(&[("ReservationStatus", "timeout")]), "the instruction object has no `instruction` key", "a status that is no instruction"),
        ];
        for (form, message, why) in cases {
            let error = Instruction::from_form(&form).expect_err(why);
            assert!(error.to_string().starts_with(message), "{why}: {error}");
        }
    }

    #[test]
    fn every_json_parameter_has_its_rest_form_parameter() {
        // The form holds one entry per JSON parameter, except event lists, which become one
        // entry per event.
        for (label, value) in fixtures() {
            let instruction = parse(value.clone());
            let form = instruction.to_form();
            let object = serde_json::to_value(&instruction).expect("serialisable");
            let list_entries: usize = object
                .as_object()
                .expect("an object")
                .iter()
                .filter(|(key, _)| key.ends_with("_event") || key.ends_with("_events"))
                .map(|(_, events)| events.as_str().expect("a string").split(',').count() - 1)
                .sum();
            let parameters = object.as_object().expect("an object").len() - 1;
            // Plus `ReservationStatus` or `Instruction`.
            assert_eq!(
                form.len(),
                parameters + list_entries + 1,
                "{label}: {form:?}"
            );
        }
    }

    #[test]
    fn defer_is_an_empty_object() {
        assert_eq!(Answer::Defer.to_body(), "{}");
        assert_eq!(Answer::Defer.name(), "defer");
    }

    #[test]
    fn every_body_is_json_whose_instruction_key_matches_the_name() {
        for (label, value) in fixtures() {
            let answer = Answer::from(parse(value));
            let body: Value = serde_json::from_str(&answer.to_body()).expect(label);
            assert_eq!(body["instruction"], answer.name(), "{label}");
            // Serialised once: the body is an object, never a string holding JSON.
            assert!(body.is_object(), "{label}");
        }
    }

    #[test]
    fn the_instruction_key_comes_first() {
        for (label, value) in fixtures() {
            let body = Answer::from(parse(value)).to_body();
            assert!(body.starts_with("{\"instruction\":"), "{label}: {body}");
        }
    }

    #[test]
    fn full_fixtures_send_every_documented_parameter_and_nothing_else() {
        let documented: [(&str, &[&str]); 6] = [
            ("accept", &[]),
            ("reject", Reject::PARAMETERS),
            ("dequeue (full)", Dequeue::PARAMETERS),
            ("call (full)", Call::PARAMETERS),
            ("redirect (full)", Redirect::PARAMETERS),
            ("conference (full)", Conference::PARAMETERS),
        ];
        let fixtures = fixtures();
        for (label, parameters) in documented {
            let (_, value) = fixtures
                .iter()
                .find(|(name, _)| *name == label)
                .expect("a fixture per instruction");
            let body: Value =
                serde_json::from_str(&Answer::from(parse(value.clone())).to_body()).expect(label);
            let mut sent: Vec<&str> = body
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .filter(|key| *key != "instruction")
                .collect();
            let mut expected = parameters.to_vec();
            sent.sort_unstable();
            expected.sort_unstable();
            assert_eq!(sent, expected, "{label}");
        }
    }

    #[test]
    fn parsing_what_was_serialised_gives_back_the_same_instruction() {
        for (label, value) in fixtures() {
            let instruction = parse(value.clone());
            let reparsed =
                Instruction::from_json(&serde_json::to_value(&instruction).expect("serialisable"))
                    .expect(label);
            assert_eq!(reparsed, instruction, "{label}");
            // Every fixture is already in its canonical form, except that `redirect` gains an
            // explicit `accept`.
            if !label.starts_with("redirect (minimal)") {
                assert_eq!(
                    serde_json::to_value(&instruction).expect("serialisable"),
                    value,
                    "{label}"
                );
            }
        }
    }

    #[test]
    fn redirect_sends_accept_false_when_it_is_not_given() {
        let redirect = parse(
            json!({"instruction": "redirect", "call_sid": CALL, "url": "https://example.com/hold"}),
        );
        let body: Value = serde_json::from_str(&Answer::from(redirect).to_body()).expect("json");
        assert_eq!(body["accept"], json!(false));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let conference = parse(json!({
            "instruction": "conference",
            "sip_auth_password": "s3cret",
            "wait_url": "https://user:pa55@example.com/hold",
        }));
        let debug = format!("{conference:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(!debug.contains("pa55"), "{debug}");
        assert!(debug.contains("https://***@example.com/hold"), "{debug}");
    }

    #[test]
    fn urls_are_kept_exactly_as_given() {
        let cases = [
            (
                "https://Example.COM/a%20b?x='1'&y=2#frag",
                "case, escapes, quote and fragment",
            ),
            (
                "https://example.com:443/path/",
                "default port and trailing slash",
            ),
            ("http://example.com", "no path"),
            ("HTTPS://example.com/upper-case-scheme", "upper-case scheme"),
            ("https://user:pass@example.com/basic-auth", "credentials"),
            ("https://[2001:db8::1]:8443/v6", "IPv6 literal with port"),
        ];
        for (url, why) in cases {
            let parsed = parse(json!({"instruction": "call", "url": url, "from": "+1"}));
            let Instruction::Call(call) = parsed else {
                panic!("{why}: not a call");
            };
            assert_eq!(call.url.as_str(), url, "{why}");
            assert!(
                Answer::from(Instruction::Call(call))
                    .to_body()
                    .contains(&Value::from(url).to_string()),
                "{why}"
            );
        }
    }

    #[test]
    fn constructors_refuse_values_that_could_not_be_sent() {
        assert_eq!(Timeout::new(0), None);
        assert_eq!(Timeout::new(1).map(Timeout::seconds), Some(1));
        assert_eq!(Timeout::new(999).map(Timeout::seconds), Some(999));
        assert_eq!(Timeout::new(1000), None);
        assert_eq!(MaxParticipants::new(1), None);
        assert_eq!(MaxParticipants::new(2).map(MaxParticipants::get), Some(2));
        assert_eq!(
            MaxParticipants::new(250).map(MaxParticipants::get),
            Some(250)
        );
        assert_eq!(MaxParticipants::new(251), None);
        assert_eq!(Address::new(" \t"), None);
        assert_eq!(
            Address::new("client:alice").as_ref().map(Address::as_str),
            Some("client:alice")
        );
        assert!(HttpUrl::new("/relative").is_none());
        assert!(HttpUrl::new("https://example.com").is_some());
        assert!(SipAuthPassword::new("").is_none());
        assert!(EventList::<CallEvent>::new(Vec::new()).is_none());
    }

    #[test]
    fn every_parameter_is_read_as_its_text_kind_says() {
        // A string that is no URL, SID or documented value: how each parameter refuses it (or
        // takes it) must agree with the kind templates rely on.
        let text = "not a url, not a SID";
        let minimal = [
            (
                "reject",
                json!({"activity_sid": ACTIVITY}),
                Reject::PARAMETERS,
            ),
            ("dequeue", json!({}), Dequeue::PARAMETERS),
            (
                "call",
                json!({"url": "https://example.com/twiml", "from": "+18001234567"}),
                Call::PARAMETERS,
            ),
            (
                "redirect",
                json!({"call_sid": CALL, "url": "https://example.com/hold"}),
                Redirect::PARAMETERS,
            ),
            ("conference", json!({}), Conference::PARAMETERS),
        ];
        for (name, base, parameters) in minimal {
            for parameter in parameters {
                let mut value = base.clone();
                value["instruction"] = json!(name);
                value[*parameter] = json!(text);
                let result = Instruction::from_json(&value);
                let kind = Instruction::text_kind(name, parameter);
                let agrees = match (kind, &result) {
                    (Some(TextKind::Url), Err(InstructionError::InvalidUrl { field, .. }))
                    | (Some(TextKind::Sid), Err(InstructionError::InvalidSid { field, .. }))
                    | (Some(TextKind::Choice), Err(InstructionError::NotInSet { field, .. }))
                    | (Some(TextKind::Choice), Err(InstructionError::NotInList { field, .. }))
                    | (None, Err(InstructionError::WrongType { field, .. })) => field == parameter,
                    (Some(TextKind::Address(_) | TextKind::Free), Ok(_)) => true,
                    _ => false,
                };
                assert!(agrees, "{name} `{parameter}`: {kind:?}, but {result:?}");
            }
        }
        assert_eq!(
            Instruction::text_kind("accept", "to"),
            None,
            "accept takes nothing"
        );
        assert_eq!(
            Instruction::text_kind("redirect", "to"),
            None,
            "not a redirect parameter"
        );
        assert_eq!(
            Instruction::text_kind("transfer", "url"),
            None,
            "no such instruction"
        );
    }

    #[test]
    fn addresses_are_read_by_their_prefix_and_malformed_ones_are_none() {
        use AddressKind::{CallerName, Client, Phone, Sip};
        #[rustfmt::skip]
        let cases = [
            ("+14155550100", Some(Phone), "E.164"),
            ("+442071838750", Some(Phone), "another country"),
            ("+123456789012345", Some(Phone), "15 digits"),
            ("+1234567890123456", None, "16 digits"),
            ("+1", None, "one digit"),
            ("+04155550100", None, "a leading 0"),
            ("+1 415 555 0100", None, "spaces"),
            ("+1415555010a", None, "a letter"),
            ("client:alice", Some(Client), "a client"),
            ("CLIENT:alice", Some(Client), "the scheme in any case"),
            ("client:alice_40example_2Ecom", Some(Client), "a Flex identity"),
            ("client:alice@example.com", Some(Client), "an e-mail identity"),
            ("client:", None, "no identity"),
            ("client:alice smith", None, "a space"),
            ("client:alice#1", None, "a delimiter"),
            ("client:a{b}", None, "unwise characters"),
            ("sip:alice@example.com", Some(Sip), "a SIP address"),
            ("sip:alice@example.sip.twilio.com;transport=tls", Some(Sip), "a parameter"),
            ("sip:1001@10.0.0.5:5060;transport=tcp?X-Queue=sales&X-Priority=1", Some(Sip), "port, parameter and headers"),
            ("sip:alice@[2001:db8::1]:5061", Some(Sip), "IPv6"),
            ("sip:pbx.example.com", Some(Sip), "no user"),
            ("sip:alice@", None, "no host"),
            ("sip:a@b@example.com", None, "two @"),
            ("sip:alice:secret@example.com", None, "a password"),
            ("sip:alice@example.com;", None, "an empty parameter"),
            ("sip:alice@example.com?X-A", None, "a header without a value"),
            ("sip:alice@exa mple.com", None, "a space"),
            ("sip:alice@example..com", None, "an empty label"),
            ("sip:alice@example.com:99999", None, "a port out of range"),
            ("bob", Some(CallerName), "Twilio's caller name example (error 40132)"),
            ("18001234567", Some(CallerName), "digits without + (error 40133's example)"),
            ("mailto:bob", None, "another scheme"),
            ("https://example.com/", None, "a URL"),
            ("", None, "empty"),
        ];
        for (text, kind, why) in cases {
            assert_eq!(AddressKind::of(text), kind, "{why}: {text:?}");
        }
        assert_eq!(
            AddressKind::describe(AddressKind::TO),
            "a phone number in E.164 form (+14155550100), a `client:` address or a `sip:` address"
        );
        assert_eq!(
            AddressKind::describe(&[Phone]),
            "a phone number in E.164 form (+14155550100)"
        );
    }

    #[test]
    fn typos_are_suggested_but_distant_words_are_not() {
        let cases = [
            (
                "post_work_activty_sid",
                Some("post_work_activity_sid"),
                "one letter missing",
            ),
            (
                "PostWorkActivitySid",
                Some("post_work_activity_sid"),
                "the REST spelling",
            ),
            ("form", Some("from"), "two letters swapped"),
            ("timeuot", Some("timeout"), "swap inside a word"),
            ("colour", None, "an unrelated word"),
            ("", None, "nothing"),
        ];
        for (input, expected, why) in cases {
            assert_eq!(
                suggest(input, Dequeue::PARAMETERS.iter().copied()),
                expected,
                "{why}"
            );
        }
    }

    #[test]
    fn invalid_instructions_are_rejected_with_a_message_naming_instruction_and_parameter() {
        let cases: Vec<(Value, &str, &str)> = vec![
            (
                json!(["accept"]),
                "an instruction must be a JSON object such as {\"instruction\": \"accept\"}, got an array",
                "not an object",
            ),
            (
                json!({"to": "client:alice"}),
                "the instruction object has no `instruction` key: add one naming \"accept\", \"reject\", \"dequeue\", \"call\", \"redirect\", \"conference\"",
                "no instruction key",
            ),
            (
                json!({"instruction": 1}),
                "`instruction` must be one of \"accept\", \"reject\", \"dequeue\", \"call\", \"redirect\", \"conference\", got 1",
                "instruction is not a string",
            ),
            (
                json!({"instruction": "Dequeu"}),
                "`instruction` must be one of \"accept\", \"reject\", \"dequeue\", \"call\", \"redirect\", \"conference\", got \"Dequeu\" (did you mean \"dequeue\"?)",
                "misspelt instruction",
            ),
            (
                json!({"instruction": "supervise"}),
                "`instruction` must be one of \"accept\", \"reject\", \"dequeue\", \"call\", \"redirect\", \"conference\", got \"supervise\"",
                "an instruction this crate does not send",
            ),
            (
                json!({"instruction": "accept", "activity_sid": ACTIVITY}),
                "`accept` has no parameter `activity_sid`: remove it; `accept` takes no parameters",
                "accept takes nothing",
            ),
            (
                json!({"instruction": "dequeue", "post_work_activty_sid": ACTIVITY}),
                "`dequeue` has no parameter `post_work_activty_sid`: did you mean `post_work_activity_sid`?",
                "misspelt key",
            ),
            (
                json!({"instruction": "dequeue", "PostWorkActivitySid": ACTIVITY}),
                "`dequeue` has no parameter `PostWorkActivitySid`: did you mean `post_work_activity_sid`?",
                "REST spelling of a key",
            ),
            (
                json!({"instruction": "redirect", "call_sid": CALL, "url": "https://example.com", "colour": "red"}),
                "`redirect` has no parameter `colour`: remove it or use one of call_sid, url, accept, post_work_activity_sid",
                "unknown key with nothing close",
            ),
            (
                json!({"instruction": "reject"}),
                "`reject` needs the parameter `activity_sid`: add it",
                "reject without activity_sid",
            ),
            (
                json!({"instruction": "call", "from": "+18001234567"}),
                "`call` needs the parameter `url`: add it",
                "call without url",
            ),
            (
                json!({"instruction": "call", "url": "https://example.com/twiml"}),
                "`call` needs the parameter `from`: add it",
                "call without from",
            ),
            (
                json!({"instruction": "redirect", "url": "https://example.com/hold"}),
                "`redirect` needs the parameter `call_sid`: add it",
                "redirect without call_sid",
            ),
            (
                json!({"instruction": "redirect", "call_sid": CALL}),
                "`redirect` needs the parameter `url`: add it",
                "redirect without url",
            ),
            (
                json!({"instruction": "dequeue", "timeout": "20"}),
                "`dequeue` parameter `timeout` must be an integer, got \"20\"",
                "timeout as a string",
            ),
            (
                json!({"instruction": "call", "url": "https://example.com", "from": "+1", "timeout": 20.5}),
                "`call` parameter `timeout` must be an integer, got 20.5",
                "timeout as a fraction",
            ),
            (
                json!({"instruction": "dequeue", "timeout": 0}),
                "`dequeue` parameter `timeout` must be between 1 and 999, got 0",
                "timeout too short",
            ),
            (
                json!({"instruction": "conference", "timeout": 1000}),
                "`conference` parameter `timeout` must be between 1 and 999, got 1000",
                "timeout too long",
            ),
            (
                json!({"instruction": "dequeue", "timeout": -5}),
                "`dequeue` parameter `timeout` must be between 1 and 999, got -5",
                "negative timeout",
            ),
            (
                json!({"instruction": "dequeue", "to": "sip:alice@example.com", "timeout": 601}),
                "`dequeue` parameter `timeout` must be at most 600 when `to` is a SIP address, got 601",
                "SIP ring timeout",
            ),
            (
                json!({"instruction": "conference", "max_participants": 1}),
                "`conference` parameter `max_participants` must be between 2 and 250, got 1",
                "too few participants",
            ),
            (
                json!({"instruction": "conference", "max_participants": 251}),
                "`conference` parameter `max_participants` must be between 2 and 250, got 251",
                "too many participants",
            ),
            (
                json!({"instruction": "reject", "activity_sid": "WAnope"}),
                "`reject` parameter `activity_sid` is invalid: `WAnope` is not a valid activity SID: expected `WA` followed by 32 hex digits",
                "malformed activity SID",
            ),
            (
                json!({"instruction": "dequeue", "post_work_activity_sid": CALL}),
                "`dequeue` parameter `post_work_activity_sid` is invalid: `CA0123456789abcdef0123456789abcdef` is not a valid activity SID: expected `WA` followed by 32 hex digits",
                "post-work activity of another resource type",
            ),
            (
                json!({"instruction": "redirect", "call_sid": ACTIVITY, "url": "https://example.com"}),
                "`redirect` parameter `call_sid` is invalid: `WA0123456789abcdef0123456789abcdef` is not a valid call SID: expected `CA` followed by 32 hex digits",
                "call SID of another resource type",
            ),
            (
                json!({"instruction": "call", "url": "/twiml", "from": "+1"}),
                "`call` parameter `url` must be an absolute http(s) URL with a host, got \"/twiml\": it is not absolute; start it with https://",
                "relative URL",
            ),
            (
                json!({"instruction": "call", "url": "ftp://example.com/twiml", "from": "+1"}),
                "`call` parameter `url` must be an absolute http(s) URL with a host, got \"ftp://example.com/twiml\": its scheme is not http or https",
                "other scheme",
            ),
            (
                json!({"instruction": "dequeue", "status_callback_url": "https:///status"}),
                "`dequeue` parameter `status_callback_url` must be an absolute http(s) URL with a host, got \"https:///status\": it has no host",
                "no host",
            ),
            (
                json!({"instruction": "conference", "wait_url": "https://example.com:80a/hold"}),
                "`conference` parameter `wait_url` must be an absolute http(s) URL with a host, got \"https://example.com:80a/hold\": its port is not a number from 0 to 65535",
                "bad port",
            ),
            (
                json!({"instruction": "conference", "status_callback": "https://example.com/a b"}),
                "`conference` parameter `status_callback` must be an absolute http(s) URL with a host, got \"https://example.com/a b\": it contains whitespace or a control character; percent-encode it",
                "whitespace in a URL",
            ),
            (
                json!({"instruction": "redirect", "call_sid": CALL, "url": "ftp://user:pa55@example.com/"}),
                "`redirect` parameter `url` must be an absolute http(s) URL with a host, got \"ftp://***@example.com/\": its scheme is not http or https",
                "credentials hidden in the message",
            ),
            (
                json!({"instruction": "dequeue", "record": "yes"}),
                "`dequeue` parameter `record` must be one of \"record-from-answer\", \"do-not-record\", got \"yes\"",
                "call record outside its set",
            ),
            (
                json!({"instruction": "call", "url": "https://example.com", "from": "+1", "record": "record-from-start"}),
                "`call` parameter `record` must be one of \"record-from-answer\", \"do-not-record\", got \"record-from-start\"",
                "a conference recording value on a call",
            ),
            (
                json!({"instruction": "conference", "beep": "onenter"}),
                "`conference` parameter `beep` must be one of \"true\", \"false\", \"onEnter\", \"onExit\", got \"onenter\" (did you mean \"onEnter\"?)",
                "beep in the wrong case",
            ),
            (
                json!({"instruction": "conference", "beep": false}),
                "`conference` parameter `beep` must be a string, got false",
                "beep as a JSON boolean",
            ),
            (
                json!({"instruction": "conference", "record": "record-from-start"}),
                "`conference` parameter `record` must be a boolean, got \"record-from-start\"",
                "conference record is a boolean",
            ),
            (
                json!({"instruction": "conference", "conference_record": "always"}),
                "`conference` parameter `conference_record` must be one of \"true\", \"false\", \"record-from-start\", \"do-not-record\", got \"always\"",
                "conference_record outside its set",
            ),
            (
                json!({"instruction": "conference", "conference_trim": "trim"}),
                "`conference` parameter `conference_trim` must be one of \"trim-silence\", \"do-not-trim\", got \"trim\"",
                "conference_trim outside its set",
            ),
            (
                json!({"instruction": "conference", "recording_channels": "stereo"}),
                "`conference` parameter `recording_channels` must be one of \"mono\", \"dual\", got \"stereo\"",
                "recording_channels outside its set",
            ),
            (
                json!({"instruction": "conference", "wait_method": "get"}),
                "`conference` parameter `wait_method` must be one of \"GET\", \"POST\", got \"get\" (did you mean \"GET\"?)",
                "method in lower case",
            ),
            (
                json!({"instruction": "conference", "recording_status_callback_method": "PUT"}),
                "`conference` parameter `recording_status_callback_method` must be one of \"GET\", \"POST\", got \"PUT\"",
                "method outside GET and POST",
            ),
            (
                json!({"instruction": "conference", "region": "us2"}),
                "`conference` parameter `region` must be one of \"us1\", \"ie1\", \"de1\", \"sg1\", \"br1\", \"au1\", \"jp1\", got \"us2\" (did you mean \"us1\"?)",
                "unknown region",
            ),
            (
                json!({"instruction": "conference", "jitter_buffer_size": "huge"}),
                "`conference` parameter `jitter_buffer_size` must be one of \"small\", \"medium\", \"large\", \"off\", got \"huge\"",
                "jitter buffer outside its set",
            ),
            (
                json!({"instruction": "dequeue", "status_callback_events": "initiated,rung"}),
                "`dequeue` parameter `status_callback_events` lists \"rung\", which is not one of \"initiated\", \"ringing\", \"answered\", \"completed\"; separate events with commas and no spaces",
                "unknown call event",
            ),
            (
                json!({"instruction": "dequeue", "status_callback_events": "initiated, ringing"}),
                "`dequeue` parameter `status_callback_events` lists \" ringing\", which is not one of \"initiated\", \"ringing\", \"answered\", \"completed\" (did you mean \"ringing\"?); separate events with commas and no spaces",
                "space after a comma",
            ),
            (
                json!({"instruction": "dequeue", "status_callback_events": "initiated,"}),
                "`dequeue` parameter `status_callback_events` lists \"\", which is not one of \"initiated\", \"ringing\", \"answered\", \"completed\"; separate events with commas and no spaces",
                "trailing comma",
            ),
            (
                json!({"instruction": "dequeue", "status_callback_events": ["initiated"]}),
                "`dequeue` parameter `status_callback_events` must be a string, got an array",
                "events as a JSON array",
            ),
            (
                json!({"instruction": "conference", "status_callback_event": ""}),
                "`conference` parameter `status_callback_event` must not be empty",
                "empty event list",
            ),
            (
                json!({"instruction": "conference", "conference_status_callback_event": "start,finish"}),
                "`conference` parameter `conference_status_callback_event` lists \"finish\", which is not one of \"start\", \"end\", \"join\", \"leave\", \"mute\", \"hold\", \"speaker\"; separate events with commas and no spaces",
                "unknown conference event",
            ),
            (
                json!({"instruction": "dequeue", "to": ""}),
                "`dequeue` parameter `to` must not be empty",
                "empty to",
            ),
            (
                json!({"instruction": "call", "url": "https://example.com", "from": "  "}),
                "`call` parameter `from` must not be empty",
                "blank from",
            ),
            (
                json!({"instruction": "conference", "to": null}),
                "`conference` parameter `to` must be a string, got null",
                "null is not absent",
            ),
            (
                json!({"instruction": "redirect", "call_sid": CALL, "url": "https://example.com", "accept": "true"}),
                "`redirect` parameter `accept` must be a boolean, got \"true\"",
                "accept as a string",
            ),
            (
                json!({"instruction": "conference", "sip_auth_password": 123_456}),
                "`conference` parameter `sip_auth_password` must be a string, got a number",
                "a password value never appears",
            ),
            (
                json!({"instruction": "conference", "sip_auth_username": ""}),
                "`conference` parameter `sip_auth_username` must not be empty",
                "empty SIP username",
            ),
        ];
        for (value, expected, why) in cases {
            let error = Instruction::from_json(&value).expect_err(why);
            assert_eq!(error.to_string(), expected, "{why}");
        }
    }

    fn address() -> impl Strategy<Value = Address> {
        "\\PC{1,24}".prop_filter_map("not blank", Address::new)
    }

    fn url() -> impl Strategy<Value = HttpUrl> {
        (
            prop::sample::select(vec!["http://", "https://", "HTTPS://"]),
            "[A-Za-z0-9.-]{1,20}",
            prop::option::of(0..=u16::MAX),
            "(/[A-Za-z0-9%'~._-]{0,10}){0,3}",
            prop::option::of("[a-z0-9=&%+]{0,20}"),
        )
            .prop_map(|(scheme, host, port, path, query)| {
                let port = port.map(|port| format!(":{port}")).unwrap_or_default();
                let query = query.map(|query| format!("?{query}")).unwrap_or_default();
                format!("{scheme}{host}{port}{path}{query}")
            })
            .prop_map(|text| HttpUrl::new(text).expect("the strategy builds valid URLs"))
    }

    fn sid_hex() -> impl Strategy<Value = String> {
        "[0-9a-f]{32}"
    }

    fn activity() -> impl Strategy<Value = Option<ActivitySid>> {
        prop::option::of(
            sid_hex().prop_map(|hex| {
                ActivitySid::parse(&format!("WA{hex}")).expect("a well-formed SID")
            }),
        )
    }

    fn instruction() -> impl Strategy<Value = Instruction> {
        let timeout = prop::option::of((1..=999u16).prop_filter_map("in range", Timeout::new));
        let record = prop::option::of(prop::sample::select(CallRecord::ALL.to_vec()));
        let events = prop::option::of(
            prop::collection::vec(prop::sample::select(CallEvent::ALL.to_vec()), 1..6)
                .prop_filter_map("non-empty", EventList::new),
        );
        prop_oneof![
            Just(Instruction::Accept),
            sid_hex().prop_map(|hex| Instruction::Reject(Reject {
                activity_sid: ActivitySid::parse(&format!("WA{hex}")).expect("a well-formed SID"),
            })),
            (
                prop::option::of(address()),
                prop::option::of(address()),
                activity(),
                record.clone(),
                // A SIP `to` limits the timeout; keep generated ones within that limit.
                prop::option::of((1..=600u16).prop_filter_map("in range", Timeout::new)),
                prop::option::of(url()),
                events,
            )
                .prop_map(
                    |(
                        to,
                        from,
                        post_work_activity_sid,
                        record,
                        timeout,
                        status_callback_url,
                        status_callback_events,
                    )| {
                        Instruction::Dequeue(Dequeue {
                            to,
                            from,
                            post_work_activity_sid,
                            record,
                            timeout,
                            status_callback_url,
                            status_callback_events,
                        })
                    }
                ),
            (
                url(),
                address(),
                prop::option::of(address()),
                prop::option::of(any::<bool>()),
                record,
                timeout,
                prop::option::of(url())
            )
                .prop_map(
                    |(url, from, to, accept, record, timeout, status_callback_url)| {
                        Instruction::Call(Call {
                            url,
                            from,
                            to,
                            accept,
                            record,
                            timeout,
                            status_callback_url,
                        })
                    }
                ),
            (sid_hex(), url(), any::<bool>(), activity()).prop_map(
                |(hex, url, accept, post_work_activity_sid)| {
                    Instruction::Redirect(Redirect {
                        call_sid: CallSid::parse(&format!("CA{hex}")).expect("a well-formed SID"),
                        url,
                        accept,
                        post_work_activity_sid,
                    })
                }
            ),
        ]
    }

    proptest! {
        #[test]
        fn any_instruction_survives_serialising_and_parsing(instruction in instruction()) {
            let value = serde_json::to_value(&instruction).expect("serialisable");
            prop_assert_eq!(Instruction::from_json(&value).expect("valid"), instruction.clone());
            let body: Value = serde_json::from_str(&Answer::from(instruction.clone()).to_body()).expect("json");
            prop_assert_eq!(Instruction::from_json(&body).expect("valid"), instruction);
        }

        #[test]
        fn any_timeout_outside_1_to_999_is_rejected(timeout in prop_oneof![Just(0i64), 1000i64..=i64::MAX, i64::MIN..0]) {
            let error = Instruction::from_json(&json!({"instruction": "dequeue", "timeout": timeout}))
                .expect_err("out of range");
            prop_assert_eq!(
                error.to_string(),
                format!("`dequeue` parameter `timeout` must be between 1 and 999, got {timeout}")
            );
        }
    }
}
