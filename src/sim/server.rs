//! The running simulator: the engine behind a lock, the clock that drives it, and the outbox
//! of effects a single deliverer works through in order (narration, event callbacks,
//! assignment callbacks and their answers).
//!
//! **Clocks.** With [`ClockMode::Real`] the engine is advanced to the current time before every
//! command, and a ticker fires timers as they fall due. With [`ClockMode::Manual`] the engine's
//! clock moves only through [`Simulator::advance`] (`POST /sim/clock/advance`), which fires the
//! timers due in order, one instant at a time, and waits after each until every effect it caused
//! is delivered and every answer applied, so the answer comes once the simulation has settled.
//! Either way, time reaches the engine here and nowhere else.
//!
//! **Delivery** is sequential and in effect order, which keeps a run reproducible: the events
//! and callbacks of one moment arrive in the order TaskRouter emits them. A slow event endpoint
//! therefore delays the callbacks behind it (up to its 15 s limit).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio::sync::Notify;

use crate::instruction::{Answer, Instruction};
use crate::sid::{AccountSid, ReservationSid, WorkspaceSid};
use secrecy::{ExposeSecret, SecretString};

use super::engine::{Attempt, Callback, Effect, Engine, Occurred};

/// How long TaskRouter waits for an assignment callback's answer (docs/taskrouter.md §2).
pub const CALLBACK_DEADLINE: Duration = Duration::from_secs(5);
/// How long it waits for an event callback's answer (docs/taskrouter.md §6).
pub const EVENT_DEADLINE: Duration = Duration::from_secs(15);

/// How the engine's clock moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// With the wall clock: timers fire as they fall due.
    Real,
    /// Only when told (`POST /sim/clock/advance`).
    Manual,
}

impl ClockMode {
    /// `real` or `manual`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Real => "real",
            Self::Manual => "manual",
        }
    }
}

/// The account's auth tokens (docs/taskrouter.md §4, "Token rotation").
struct AuthTokens {
    /// Signs callbacks and logs in.
    primary: SecretString,
    /// Logs in too, from its creation until it is promoted or deleted.
    secondary: Option<SecretString>,
}

/// A new auth token: 32 lower-case hex digits, as Twilio's are. `fastrand` seeds from the system
/// once per thread; a simulator's token guards a loopback port, so that is enough here.
fn new_token() -> SecretString {
    use zeroize::Zeroize;
    let mut text: String = (0..32)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
        .collect();
    let token = SecretString::from(text.as_str());
    text.zeroize();
    token
}

/// The simulator shared by the HTTP connections, the deliverer and the ticker.
pub struct Simulator {
    engine: Mutex<Engine>,
    mode: ClockMode,
    tokens: Mutex<AuthTokens>,
    outbox: Mutex<VecDeque<Effect>>,
    /// Effects queued or being delivered; 0 when everything has settled.
    work: AtomicUsize,
    /// Wakes the deliverer (new effects) and the ticker (timers may have changed).
    changed: Notify,
    ticked: Notify,
    /// Signals that `work` reached 0.
    quiet: Notify,
    /// One clock advance at a time.
    advancing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("mode", &self.mode)
            .field("work", &self.work)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulator around `engine`, signing callbacks with `token` (the account's auth token).
    pub fn new(engine: Engine, mode: ClockMode, token: SecretString) -> Arc<Self> {
        Arc::new(Self {
            engine: Mutex::new(engine),
            mode,
            tokens: Mutex::new(AuthTokens {
                primary: token,
                secondary: None,
            }),
            outbox: Mutex::new(VecDeque::new()),
            work: AtomicUsize::new(0),
            changed: Notify::new(),
            ticked: Notify::new(),
            quiet: Notify::new(),
            advancing: tokio::sync::Mutex::new(()),
        })
    }

    /// The clock mode.
    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// The account.
    pub fn account(&self) -> AccountSid {
        self.lock().account().clone()
    }

    /// The primary auth token: what callbacks are signed with, and (with the secondary, when
    /// there is one) what REST requests log in with.
    pub(crate) fn token(&self) -> SecretString {
        self.tokens().primary.clone()
    }

    /// Whether `check` holds for the primary token or for the secondary: both authenticate REST
    /// requests (docs/taskrouter.md §4, "Token rotation").
    pub(crate) fn any_token(&self, check: impl Fn(&str) -> bool) -> bool {
        let tokens = self.tokens();
        // Both are checked, whichever matches, so the time taken does not say which one did.
        let primary = check(tokens.primary.expose_secret());
        let secondary = tokens
            .secondary
            .as_ref()
            .is_some_and(|token| check(token.expose_secret()));
        primary | secondary
    }

    /// `CreateSecondaryAuthToken`: a new secondary token, replacing the one there was.
    pub(crate) fn create_secondary_token(&self) -> SecretString {
        let token = new_token();
        self.tokens().secondary = Some(token.clone());
        token
    }

    /// `UpdateAuthTokenPromotion`: the secondary becomes the primary, signs every callback from
    /// now on, and the old primary logs nothing in any more. `None` when there is no secondary.
    pub(crate) fn promote_secondary_token(&self) -> Option<SecretString> {
        let mut tokens = self.tokens();
        let promoted = tokens.secondary.take()?;
        tokens.primary = promoted.clone();
        Some(promoted)
    }

    /// `DeleteSecondaryAuthToken`: whether there was one.
    pub(crate) fn delete_secondary_token(&self) -> bool {
        self.tokens().secondary.take().is_some()
    }

    fn tokens(&self) -> MutexGuard<'_, AuthTokens> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock(&self) -> MutexGuard<'_, Engine> {
        // A panic while holding the lock leaves the engine as it was between two commands'
        // steps; serving on is better than refusing every later request.
        self.engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `command` on the engine (after moving a real clock to now) and queues the effects
    /// it produced; the ticker then looks again for the next timer, which may have changed.
    pub fn with_engine<T>(&self, command: impl FnOnce(&mut Engine) -> T) -> T {
        let value = self.run(command);
        self.ticked.notify_one();
        value
    }

    /// [`Simulator::with_engine`] without waking the ticker (the ticker's own turn).
    fn run<T>(&self, command: impl FnOnce(&mut Engine) -> T) -> T {
        let (value, effects) = {
            let mut engine = self.lock();
            if self.mode == ClockMode::Real {
                engine.advance_to(Timestamp::now());
            }
            let value = command(&mut engine);
            (value, engine.take_effects())
        };
        self.queue(effects);
        value
    }

    /// What the engine's clock reads (the wall clock in real mode).
    pub fn now(&self) -> Timestamp {
        match self.mode {
            ClockMode::Real => Timestamp::now(),
            ClockMode::Manual => self.lock().now(),
        }
    }

    fn queue(&self, effects: Vec<Effect>) {
        if effects.is_empty() {
            return;
        }
        self.work.fetch_add(effects.len(), Ordering::SeqCst);
        self.outbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(effects);
        self.changed.notify_one();
    }

    /// Waits until every queued effect is delivered and every answer applied.
    pub async fn settled(&self) {
        loop {
            let quiet = self.quiet.notified();
            if self.work.load(Ordering::SeqCst) == 0 {
                return;
            }
            quiet.await;
        }
    }

    /// Moves a manual clock `seconds` on: fires the timers due in order, settling after each
    /// instant, and answers the new time once everything has settled. `0` settles what is due
    /// now. In real mode, settles (time moves by itself).
    pub async fn advance(&self, seconds: u64) -> Timestamp {
        let _one_at_a_time = self.advancing.lock().await;
        if self.mode == ClockMode::Real {
            self.with_engine(|_| ());
            self.settled().await;
            return Timestamp::now();
        }
        let target = {
            let engine = self.lock();
            let span = SignedDuration::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX));
            engine.now().checked_add(span).unwrap_or(Timestamp::MAX)
        };
        loop {
            self.settled().await;
            let (fired, effects) = {
                let mut engine = self.lock();
                let fired = engine.fire_next(target);
                (fired, engine.take_effects())
            };
            self.queue(effects);
            if !fired {
                break;
            }
        }
        let effects = {
            let mut engine = self.lock();
            engine.advance_to(target);
            engine.take_effects()
        };
        self.queue(effects);
        self.settled().await;
        target
    }

    /// Starts the deliverer and, with a real clock, the ticker, on the current runtime.
    pub fn start(self: &Arc<Self>) {
        let deliverer = Arc::clone(self);
        tokio::spawn(async move { deliverer.deliver_forever().await });
        if self.mode == ClockMode::Real {
            let ticker = Arc::clone(self);
            tokio::spawn(async move { ticker.tick_forever().await });
        }
    }

    async fn tick_forever(self: Arc<Self>) {
        loop {
            let wake = self.ticked.notified();
            let next = self.lock().next_timer();
            let wait = next.map(|at| {
                let left = at.duration_since(Timestamp::now());
                Duration::try_from(left).unwrap_or(Duration::ZERO)
            });
            match wait {
                Some(wait) => {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = wake => {}
                    }
                }
                None => wake.await,
            }
            self.run(|_| ());
        }
    }

    async fn deliver_forever(self: Arc<Self>) {
        loop {
            let wake = self.changed.notified();
            let next = self
                .outbox
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop_front();
            let Some(effect) = next else {
                wake.await;
                continue;
            };
            self.deliver(effect).await;
            if self.work.fetch_sub(1, Ordering::SeqCst) == 1 {
                self.quiet.notify_waiters();
            }
        }
    }

    async fn deliver(&self, effect: Effect) {
        match effect {
            Effect::Note(note) => tracing::info!("{note}"),
            Effect::Event(event) => self.post_event(event).await,
            Effect::Callback(callback) => self.call(callback).await,
        }
    }

    async fn post_event(&self, event: Occurred) {
        tracing::info!(
            event = event.event_type.as_str(),
            workspace = %event.workspace,
            "{}",
            event.description
        );
        let Some((url, params)) = event.delivery else {
            return;
        };
        let started = Instant::now();
        let outcome = post(&self.token(), url.as_str(), params, EVENT_DEADLINE).await;
        let elapsed = started.elapsed().as_millis();
        match outcome {
            Ok(answer) if (200..300).contains(&answer.status) => tracing::debug!(
                event = event.event_type.as_str(),
                "event callback answered {} in {elapsed} ms",
                answer.status
            ),
            Ok(answer) => tracing::warn!(
                event = event.event_type.as_str(),
                "the event callback answered {} in {elapsed} ms; TaskRouter expects 204 (docs/taskrouter.md §6)",
                answer.status
            ),
            Err(reason) => tracing::warn!(
                event = event.event_type.as_str(),
                "the event callback got no answer after {elapsed} ms: {reason}"
            ),
        }
    }

    /// POSTs an assignment callback, then applies its answer or falls back (docs/taskrouter.md §2,
    /// docs/taskrouter.md §3).
    async fn call(&self, callback: Callback) {
        let Callback {
            workspace,
            reservation,
            attempt,
            url,
            params,
        } = callback;
        let which = match attempt {
            Attempt::Primary => "assignment callback",
            Attempt::Fallback => "fallback assignment callback",
        };
        let started = Instant::now();
        // Read as the callback leaves: a promotion a moment before signs it with the new token.
        let outcome = post(&self.token(), url.as_str(), params, CALLBACK_DEADLINE).await;
        let elapsed = started.elapsed().as_millis();
        let answer = match outcome {
            Ok(answer) => read_answer(&answer),
            Err(reason) => Err(format!("no answer within 5 s: {reason}")),
        };
        match answer {
            Ok(answer) => {
                tracing::info!(
                    reservation = %reservation,
                    "{which} answered in {elapsed} ms: {}",
                    describe(&answer)
                );
                let applied = self.with_engine(|engine| {
                    engine.callback_answered(&workspace, &reservation, &answer)
                });
                if let Err(error) = applied {
                    // TaskRouter shows these in the Console (errors 40100 to 40157); the
                    // reservation is left as it is.
                    tracing::warn!(reservation = %reservation, "the answer could not be applied: {error}");
                }
            }
            Err(reason) => {
                self.fall_back(&workspace, &reservation, attempt, which, &reason, elapsed)
            }
        }
    }

    fn fall_back(
        &self,
        workspace: &WorkspaceSid,
        reservation: &ReservationSid,
        attempt: Attempt,
        which: &str,
        reason: &str,
        elapsed: u128,
    ) {
        let fallback = self
            .with_engine(|engine| engine.callback_failed(workspace, reservation, attempt))
            .unwrap_or(false);
        let next = if fallback {
            "calling the FallbackAssignmentCallbackUrl"
        } else {
            "the reservation waits, pending, for its timeout"
        };
        tracing::warn!(
            reservation = %reservation,
            "{which} unusable after {elapsed} ms ({reason}): {next}"
        );
    }
}

/// An HTTP answer to a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Posted {
    status: u16,
    content_type: Option<String>,
    body: String,
}

/// POSTs `params` form-encoded to `url`, signed with `token` (docs/taskrouter.md §4), within
/// `deadline`.
async fn post(
    token: &SecretString,
    url: &str,
    params: Vec<(String, String)>,
    deadline: Duration,
) -> Result<Posted, String> {
    let signature = crate::signature::sign(token.expose_secret().as_bytes(), url, &params);
    let url = url.to_owned();
    let sent = tokio::task::spawn_blocking(move || {
        let agent = crate::rest::transport::http_agent(&url, deadline, deadline)
            .map_err(|error| error.to_string())?;
        let mut response = agent
            .post(&url)
            .header("X-Twilio-Signature", &signature)
            .send_form(
                params
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str())),
            )
            .map_err(|error| error.to_string())?;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|error| error.to_string())?;
        Ok(Posted {
            status,
            content_type,
            body,
        })
    })
    .await;
    sent.unwrap_or_else(|error| Err(format!("the sender stopped: {error}")))
}

/// What TaskRouter makes of a callback's answer (docs/taskrouter.md §2): `200` with
/// `application/json` and a JSON body is usable: `{}`, or any object without `instruction` (warning
/// 40005), defers; an instruction is read by [`Instruction::from_json`]. Anything else is unusable
/// (the fallback URL is called).
fn read_answer(answer: &Posted) -> Result<Answer, String> {
    if answer.status != 200 {
        return Err(format!("status {}, not 200", answer.status));
    }
    let json = answer.content_type.as_deref().is_some_and(|value| {
        value
            .trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    if !json {
        return Err(format!(
            "Content-Type {}, not application/json",
            answer.content_type.as_deref().unwrap_or("absent")
        ));
    }
    let body: Value = serde_json::from_str(&answer.body)
        .map_err(|error| format!("the body is not valid JSON (warning 40001): {error}"))?;
    if !body.is_object() {
        return Err(
            "the body is JSON but not an object: ensure it is not escaped (warning 40001)"
                .to_owned(),
        );
    }
    if body.get("instruction").is_none() {
        return Ok(Answer::Defer);
    }
    Instruction::from_json(&body)
        .map(Answer::Instruction)
        .map_err(|error| format!("the instruction is invalid (error 40100): {error}"))
}

fn describe(answer: &Answer) -> String {
    match answer {
        Answer::Defer => "{} (decide later over REST)".to_owned(),
        Answer::Instruction(instruction) => instruction.name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(status: u16, content_type: Option<&str>, body: &str) -> Posted {
        Posted {
            status,
            content_type: content_type.map(str::to_owned),
            body: body.to_owned(),
        }
    }

    #[test]
    fn only_a_200_json_answer_is_applied_and_what_it_holds_decides() {
        #[rustfmt::skip]
        let cases = [
            (posted(200, Some("application/json"), "{}"), Ok("defer"), "{} defers"),
            (posted(200, Some("application/json; charset=utf-8"), r#"{"instruction": "accept"}"#), Ok("accept"), "an instruction"),
            (posted(200, Some("application/json"), r#"{"note": "later"}"#), Ok("defer"), "no instruction key: deferred (warning 40005)"),
            (posted(200, Some("text/plain"), "{}"), Err("Content-Type text/plain, not application/json"), "the wrong content type"),
            (posted(200, None, "{}"), Err("Content-Type absent, not application/json"), "no content type"),
            (posted(503, Some("application/json"), "{}"), Err("status 503, not 200"), "an error status"),
            (posted(204, Some("application/json"), ""), Err("status 204, not 200"), "204 is for events"),
            (posted(200, Some("application/json"), r#""{\"instruction\":\"accept\"}""#), Err("the body is JSON but not an object"), "escaped JSON: a string holding JSON"),
            (posted(200, Some("application/json"), "{"), Err("the body is not valid JSON (warning 40001)"), "not JSON"),
            (posted(200, Some("application/json"), r#"{"instruction": "reject"}"#), Err("the instruction is invalid (error 40100)"), "an invalid instruction"),
        ];
        for (answer, expected, why) in cases {
            let read = read_answer(&answer).map(|answer| match answer {
                Answer::Defer => "defer",
                Answer::Instruction(instruction) => instruction.name(),
            });
            match (read, expected) {
                (Ok(name), Ok(expected)) => assert_eq!(name, expected, "{why}"),
                (Err(reason), Err(expected)) => {
                    assert!(reason.starts_with(expected), "{why}: {reason}");
                }
                (read, expected) => panic!("{why}: {read:?}, expected {expected:?}"),
            }
        }
    }
}
