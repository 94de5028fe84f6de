//! The cold-start storm: many instances of the function start at once, each with one signed
//! callback queued, and all read the auth token from one store that throttles as the real one
//! does: SSM Parameter Store (40 `GetParameter`/`GetParameters` per second per account and
//! region; docs/taskrouter.md §11), or, with `--source secrets`, Secrets Manager (10,000
//! `GetSecretValue` a second).
//!
//! ```text
//! make storm                        # 100 instances of the release build, then the same unthrottled
//! make storm STORM='--sizes 40,60,100 --repeat 2'
//! cargo test --bench storm -- --bench --function target/release/taskrouter-lambda \
//!     [--sizes 100[,150,…]] [--rate 40] [--burst 40] [--spread-ms 1000] [--deadline-ms 5000]
//!     [--follow-up-ms 2000|none] [--forged N] [--secondary] [--repeat N] [--control]
//!     [--timeline] [--strict] [--source ssm|secrets]
//! ```
//!
//! `make storm` builds the function with the release profile, as deployed, and this harness with
//! the test profile (`cargo bench --bench storm` works too, at the price of a second whole-program
//! link); `--bench` selects the full defaults below rather than the smoke run.
//!
//! One storm: a stand-in for SSM (`tests/function/support/ssm.rs`) holding the development token
//! as a SecureString behind a token bucket of `--rate` per second holding `--burst` (`--rate 0`:
//! no limit); one Runtime API emulator per instance (`tests/function/support/runtime_api.rs`),
//! each with the signed callback of `events/assignment-http-api.json` queued; then the instances
//! are started at even intervals over `--spread-ms` (1 s: Lambda starts a storm's instances about
//! that fast), with Lambda's environment, the template's token setup
//! (`TWILIO_AUTH_TOKEN_PARAMETER`) and `AWS_ENDPOINT_URL_SSM` pointing at the stand-in. Each
//! instance gets its own access key id, so the stand-in can tell whose requests it throttled.
//! `--forged N` adds N instances whose callback carries a wrong signature: they must never be
//! answered `200`. `--secondary` configures a secondary token parameter as well (a rotation
//! under way, `TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER`), which the stand-in holds: the function
//! then reads both names in each request.
//!
//! `--source secrets` puts the Secrets Manager stand-in (`tests/function/support/secretsmanager.rs`)
//! in SSM's place, its bucket at Secrets Manager's 10,000 a second unless `--rate` and `--burst`
//! say otherwise, and configures the instances as the template does for a secret
//! (`TWILIO_AUTH_TOKEN_SECRET_ID`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`): each reads `AWSCURRENT`
//! and `AWSPENDING`, two requests sent together.
//!
//! Measured per storm: callbacks answered `200` within `--deadline-ms` (TaskRouter's 5 s),
//! answered `200` late, answered `503`, anything else; time from spawn to answer (p50, p99, max);
//! the SSM requests the stand-in received and throttled, and the most it received in
//! any one second; how long the instances that answered `503` had been reading; the CPU the
//! instances used to start. Then, `--follow-up-ms` after the last answer, every instance gets a
//! second callback at the same moment: whether each recovers. `--control` runs every storm a
//! second time without a limit, so what the machine's own load does (many processes starting on
//! few cores) is told apart from what throttling does.
//!
//! Nothing asserts on time. The run fails (exit 1) only on an answer that must never happen: a
//! forged callback answered `200`, a `200` with another body than the rules' `{}`, a genuine
//! callback answered neither `200` nor `503`, a crash or no answer at all. `--strict` also fails
//! unless every genuine callback of every storm, follow-ups included, was `200` within the
//! deadline: the bar a fix to the token store must meet.
//!
//! Without `--bench` (which `cargo bench` passes), as under `cargo test --benches`, the defaults
//! are a smoke run of the harness: 6 instances and a forged one against a bucket of 2 per second,
//! with the binary of the current profile.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::Child;
use tokio::sync::Barrier;

use measure::{cpu_time, file_size, percentile};
use runtime_api::{Outcome, RuntimeApi};
use secretsmanager::{SECRETS_MANAGER_DEFAULT, SecretsStandIn};
use ssm::{Answer, Limit, Recorded, SsmStandIn};

// `free_port` is for processes told their port (moto, Prism); the storm runs none.
#[allow(dead_code)]
#[path = "../tests/function/support/loopback.rs"]
mod loopback;
#[path = "support/measure.rs"]
mod measure;
#[path = "../tests/function/support/process.rs"]
mod process;
#[path = "../tests/function/support/runtime_api.rs"]
mod runtime_api;
#[path = "../tests/function/support/secretsmanager.rs"]
mod secretsmanager;
// The test suite uses every part of the stand-in; this harness needs only some of it.
#[allow(dead_code)]
#[path = "../tests/function/support/ssm.rs"]
mod ssm;

/// The parameter the instances read, as the template names it.
const PARAMETER: &str = "/taskrouter/auth-token";
/// The secret the instances read with `--source secrets`.
const SECRET: &str = "taskrouter/auth-token";
/// The account of `FIXTURE`, which the secret's value names.
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
/// The secondary parameter of `--secondary`.
const SECONDARY_PARAMETER: &str = "/taskrouter/auth-token-secondary";
/// The secondary token of `--secondary` (any token but the one the callbacks are signed with).
const SECONDARY_TOKEN: &str = "previous-dev-token";
/// The development token `events/` is signed with.
const TOKEN: &str = "local-dev-token";
/// The signed callback every instance is sent.
const FIXTURE: &str = "events/assignment-http-api.json";
/// A well-formed signature that matches nothing (20 zero bytes, base64).
const FORGED_SIGNATURE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=";
/// What the built-in rules answer.
const DEFERRED: &str = "{}";
/// How long an instance may take to answer before it counts as not answering (TaskRouter would
/// have given up long before).
const NO_ANSWER_AFTER: Duration = Duration::from_secs(20);
/// The most output kept per instance, for a failure's message.
const OUTPUT_KEPT: usize = 16 * 1024;
/// Quiet time between two storms, so one storm's processes are gone before the next starts.
const BETWEEN_STORMS: Duration = Duration::from_secs(3);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("storm: {message}");
            return ExitCode::from(2);
        }
    };
    // Two workers, and every fork/exec on the blocking pool: a process start blocks its thread for
    // milliseconds, and on one thread the emulators could not answer the instances already
    // started meanwhile, which would show up as slow answers that are the harness's own.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("storm: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The command line.
#[derive(Debug, Clone)]
struct Options {
    sizes: Vec<usize>,
    limit: Limit,
    control: bool,
    spread: Duration,
    deadline: Duration,
    follow_up: Option<Duration>,
    forged: usize,
    secondary: bool,
    repeat: usize,
    timeline: bool,
    strict: bool,
    function: PathBuf,
    source: Source,
}

/// Where the instances read their token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Ssm,
    Secrets,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Self::Ssm => "SSM",
            Self::Secrets => "Secrets Manager",
        }
    }
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let bench = args.iter().any(|arg| arg == "--bench");
        let mut options = Options {
            sizes: vec![100],
            limit: Limit::PARAMETER_STORE_DEFAULT,
            control: false,
            spread: Duration::from_millis(1000),
            deadline: Duration::from_millis(5000),
            follow_up: Some(Duration::from_millis(2000)),
            forged: 0,
            secondary: false,
            repeat: 1,
            timeline: false,
            strict: false,
            function: PathBuf::from(env!("CARGO_BIN_EXE_taskrouter-lambda")),
            source: Source::Ssm,
        };
        // The source first: it sets the default limit, which --rate and --burst then change.
        if let Some(at) = args.iter().position(|arg| arg == "--source") {
            options.source = match args.get(at + 1).map(String::as_str) {
                Some("ssm") => Source::Ssm,
                Some("secrets") => Source::Secrets,
                other => {
                    return Err(format!(
                        "--source takes `ssm` or `secrets`, got `{}`",
                        other.unwrap_or("")
                    ));
                }
            };
            if options.source == Source::Secrets {
                options.limit = SECRETS_MANAGER_DEFAULT;
            }
        }
        if !bench {
            options.sizes = vec![6];
            options.limit = Limit::Bucket {
                rate: 2.0,
                burst: 2.0,
            };
            options.spread = Duration::from_millis(200);
            options.follow_up = Some(Duration::from_millis(1500));
            options.forged = 1;
            options.timeline = true;
        }
        let (mut rate, mut burst) = match options.limit {
            Limit::Bucket { rate, burst } => (rate, burst),
            Limit::Unlimited => (0.0, 0.0),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            let whole = |name: &str, text: String| {
                text.parse::<u64>()
                    .map_err(|_| format!("{name} takes a whole number, got `{text}`"))
            };
            let real = |name: &str, text: String| {
                text.parse::<f64>()
                    .ok()
                    .filter(|value| value.is_finite() && *value >= 0.0)
                    .ok_or_else(|| format!("{name} takes a number ≥ 0, got `{text}`"))
            };
            match arg.as_str() {
                // Cargo passes `--bench` to every benchmark under `cargo bench`.
                "--bench" => {}
                "--sizes" => {
                    let text = value("--sizes")?;
                    options.sizes = text
                        .split(',')
                        .map(|size| whole("--sizes", size.trim().to_owned()))
                        .map(|size| size.map(|size| size as usize))
                        .collect::<Result<_, _>>()?;
                    if options.sizes.contains(&0) {
                        return Err("--sizes takes storm sizes of at least 1".to_owned());
                    }
                }
                "--rate" => rate = real("--rate", value("--rate")?)?,
                "--burst" => burst = real("--burst", value("--burst")?)?,
                "--spread-ms" => {
                    options.spread =
                        Duration::from_millis(whole("--spread-ms", value("--spread-ms")?)?);
                }
                "--deadline-ms" => {
                    options.deadline =
                        Duration::from_millis(whole("--deadline-ms", value("--deadline-ms")?)?);
                }
                "--follow-up-ms" => {
                    let text = value("--follow-up-ms")?;
                    options.follow_up = if text == "none" {
                        None
                    } else {
                        Some(Duration::from_millis(whole("--follow-up-ms", text)?))
                    };
                }
                "--forged" => options.forged = whole("--forged", value("--forged")?)? as usize,
                "--secondary" => options.secondary = true,
                "--repeat" => {
                    options.repeat = (whole("--repeat", value("--repeat")?)? as usize).max(1)
                }
                "--control" => options.control = true,
                "--timeline" => options.timeline = true,
                "--strict" => options.strict = true,
                "--function" => options.function = PathBuf::from(value("--function")?),
                // Read above.
                "--source" => {
                    value("--source")?;
                }
                other => {
                    return Err(format!(
                        "unknown argument `{other}`: expected --sizes, --rate, --burst, \
                         --spread-ms, --deadline-ms, --follow-up-ms, --forged, --secondary, \
                         --repeat, --control, --timeline, --strict, --function or --source"
                    ));
                }
            }
        }
        options.limit = if rate == 0.0 {
            Limit::Unlimited
        } else if burst < 1.0 {
            return Err(format!(
                "--burst {burst} would throttle every request: give at least 1"
            ));
        } else {
            Limit::Bucket { rate, burst }
        };
        if options.secondary && options.source == Source::Secrets {
            return Err(
                "--secondary is a Parameter Store setting: a secret's pending version is read \
                 with every read"
                    .to_owned(),
            );
        }
        if !options.function.is_file() {
            return Err(format!(
                "no function binary at {}: build it (cargo build --release) or pass --function",
                options.function.display()
            ));
        }
        Ok(options)
    }
}

/// What the instances are sent.
struct Events {
    genuine: Value,
    forged: Value,
}

impl Events {
    fn load() -> Result<Self, String> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let genuine: Value = serde_json::from_str(&text)
            .map_err(|error| format!("{} is not JSON: {error}", path.display()))?;
        let mut forged = genuine.clone();
        forged["headers"]["x-twilio-signature"] = Value::from(FORGED_SIGNATURE);
        Ok(Self { genuine, forged })
    }
}

async fn run(options: &Options) -> Result<(), String> {
    let events = Arc::new(Events::load()?);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "# Cold-start storm\n\nfunction: {} ({:.1} MB); {cores} cores; load average before: {}",
        options.function.display(),
        file_size(&options.function) as f64 / 1e6,
        load_average()
    );
    let mut results = Vec::new();
    let mut violations = Vec::new();
    for &size in &options.sizes {
        for round in 0..options.repeat {
            let mut limits = vec![options.limit];
            if options.control && options.limit != Limit::Unlimited {
                limits.push(Limit::Unlimited);
            }
            for limit in limits {
                if !results.is_empty() {
                    tokio::time::sleep(BETWEEN_STORMS).await;
                }
                let storm = Storm {
                    size,
                    limit,
                    round: round + 1,
                };
                let result = storm.run(options, &events).await?;
                let show_timeline =
                    options.timeline || (options.sizes.len() == 1 && options.repeat == 1);
                result.print(options, cores, show_timeline);
                violations.extend(result.violations(options));
                results.push(result);
            }
        }
    }
    summary(&results, options);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} answer(s) that must never happen:\n{}",
            violations.len(),
            violations.join("\n")
        ))
    }
}

/// One storm to run.
struct Storm {
    size: usize,
    limit: Limit,
    round: usize,
}

/// How one callback was answered.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// `200` with the rules' answer.
    Answered,
    /// `200` with another body.
    WrongBody(String),
    /// `503 token_unavailable`.
    Unavailable,
    /// `403`: the signature was refused.
    Forbidden,
    /// Another status.
    Other(u64, String),
    /// The invocation failed (a panic or a handler error).
    Failed(String),
    /// The process exited or did not answer in time.
    NoAnswer(String),
}

/// One callback's answer and how long it took.
#[derive(Debug, Clone)]
struct Reply {
    kind: Kind,
    /// From spawn (first callback) or from queueing (follow-up) to the answer.
    took: Duration,
    /// When it arrived, since the storm began.
    at: Duration,
}

/// One instance's story.
#[derive(Debug)]
struct InstanceResult {
    forged: bool,
    key: String,
    /// How long the fork/exec call itself took.
    spawn_took: Duration,
    spawned_at: Duration,
    first: Reply,
    follow_up: Option<Reply>,
    /// CPU time of the process up to its first answer.
    cpu: Option<Duration>,
    output: String,
}

/// Everything measured in one storm.
struct StormResult {
    size: usize,
    limit: Limit,
    round: usize,
    instances: Vec<InstanceResult>,
    requests: Vec<Recorded>,
    /// How long before the storm began the stand-in started: subtracted from its request times.
    requests_lead: Duration,
    /// When the follow-up callbacks were sent, since the storm began.
    follow_up_at: Option<Duration>,
    /// The last first answer, since the storm began.
    last_answer: Duration,
    load_before: String,
    /// CPU this harness used during the storm (its emulators, the stand-in, the spawning).
    harness_cpu: Option<Duration>,
}

impl Storm {
    async fn run(&self, options: &Options, events: &Arc<Events>) -> Result<StormResult, String> {
        let load_before = load_average();
        let stand_in = StandIn::start(options.source, self.limit).await;
        let endpoint = stand_in.endpoint();
        let count = self.size + options.forged;
        let mut apis = Vec::with_capacity(count);
        for _ in 0..count {
            apis.push(RuntimeApi::start().await);
        }
        let barrier = Arc::new(Barrier::new(count));
        let follow_up_sent: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let last_answer: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let harness_cpu_before = cpu_time(std::process::id());
        let began = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for (index, api) in apis.into_iter().enumerate() {
            // Forged instances are interleaved with the genuine ones, not started last.
            let step = (count / options.forged.max(1)).max(1);
            let forged =
                options.forged > 0 && index % step == step - 1 && index / step < options.forged;
            let offset = options.spread.mul_f64(index as f64 / count as f64);
            let launch = Launch {
                index,
                forged,
                api,
                start_at: began + offset,
                began,
                endpoint: endpoint.clone(),
                function: options.function.clone(),
                secondary: options.secondary,
                source: options.source,
                events: Arc::clone(events),
                barrier: Arc::clone(&barrier),
                follow_up: options.follow_up,
                follow_up_sent: Arc::clone(&follow_up_sent),
                last_answer: Arc::clone(&last_answer),
            };
            tasks.spawn(launch.run());
        }
        let mut instances = Vec::with_capacity(count);
        while let Some(joined) = tasks.join_next().await {
            instances.push(joined.map_err(|error| format!("an instance's task failed: {error}"))??);
        }
        let harness_cpu = cpu_time(std::process::id())
            .zip(harness_cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        instances.sort_by_key(|instance| instance.spawned_at);
        let requests = stand_in.recorded();
        let requests_lead = began.saturating_duration_since(stand_in.started());
        let follow_up_at = follow_up_sent
            .lock()
            .expect("lock")
            .map(|sent| sent.saturating_duration_since(began));
        let last_answer = last_answer
            .lock()
            .expect("lock")
            .map_or(Duration::ZERO, |at| at.saturating_duration_since(began));
        Ok(StormResult {
            size: self.size,
            limit: self.limit,
            round: self.round,
            instances,
            requests,
            requests_lead,
            follow_up_at,
            last_answer,
            load_before,
            harness_cpu,
        })
    }
}

/// One instance, from its spawn to its follow-up.
struct Launch {
    index: usize,
    forged: bool,
    api: RuntimeApi,
    start_at: Instant,
    began: Instant,
    endpoint: String,
    function: PathBuf,
    secondary: bool,
    source: Source,
    events: Arc<Events>,
    barrier: Arc<Barrier>,
    follow_up: Option<Duration>,
    follow_up_sent: Arc<Mutex<Option<Instant>>>,
    last_answer: Arc<Mutex<Option<Instant>>>,
}

impl Launch {
    async fn run(self) -> Result<InstanceResult, String> {
        let key = format!("STORM{:04}", self.index);
        let event = if self.forged {
            self.events.forged.clone()
        } else {
            self.events.genuine.clone()
        };
        tokio::time::sleep_until(self.start_at.into()).await;
        let mut command =
            process::lambda_command(&self.function, &self.api, "taskrouter-storm", 1024);
        command
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("storm-{}", self.index),
            )
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", &key)
            .env("AWS_SECRET_ACCESS_KEY", "storm-secret");
        match self.source {
            Source::Ssm => {
                command
                    .env("TWILIO_AUTH_TOKEN_PARAMETER", PARAMETER)
                    .envs(
                        self.secondary.then_some((
                            "TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER",
                            SECONDARY_PARAMETER,
                        )),
                    )
                    .env("AWS_ENDPOINT_URL_SSM", &self.endpoint);
            }
            Source::Secrets => {
                command
                    .env("TWILIO_AUTH_TOKEN_SECRET_ID", SECRET)
                    .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &self.endpoint);
            }
        }
        let started = tokio::task::spawn_blocking(move || {
            let spawned = Instant::now();
            let child = command.spawn();
            (spawned, spawned.elapsed(), child)
        })
        .await;
        let Ok((spawned, spawn_took, started)) = started else {
            self.barrier.wait().await;
            return Err("the task starting an instance panicked".to_owned());
        };
        let mut child = match started {
            Ok(child) => child,
            Err(error) => {
                // The others wait at the barrier for every instance.
                self.barrier.wait().await;
                return Err(format!("cannot start {}: {error}", self.function.display()));
            }
        };
        let pid = child.id();
        let output = process::collect_output(&mut child, OUTPUT_KEPT);

        let first = answer(&self.api, &mut child, event.clone(), spawned, self.began).await;
        let cpu = pid.and_then(cpu_time);
        {
            let mut last = self.last_answer.lock().expect("lock");
            let now = Instant::now();
            if last.is_none_or(|at| at < now) {
                *last = Some(now);
            }
        }
        self.barrier.wait().await;

        let follow_up = match self.follow_up {
            Some(delay) => {
                let sent = {
                    let mut sent = self.follow_up_sent.lock().expect("lock");
                    // Every instance waits for the same moment: the first to get here sets it.
                    *sent.get_or_insert_with(|| Instant::now() + delay)
                };
                tokio::time::sleep_until(sent.into()).await;
                Some(answer(&self.api, &mut child, event, Instant::now(), self.began).await)
            }
            None => None,
        };
        let _ = child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        let output = output.lock().expect("lock").text.clone();
        Ok(InstanceResult {
            forged: self.forged,
            key,
            spawn_took,
            spawned_at: spawned.saturating_duration_since(self.began),
            first,
            follow_up,
            cpu,
            output,
        })
    }
}

/// Queues `event` and classifies the answer.
async fn answer(
    api: &RuntimeApi,
    child: &mut Child,
    event: Value,
    since: Instant,
    began: Instant,
) -> Reply {
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(NO_ANSWER_AFTER, api.invoke(event)) => outcome.ok(),
        status = child.wait() => {
            let now = Instant::now();
            return Reply {
                kind: Kind::NoAnswer(format!("the process exited ({status:?})")),
                took: now - since,
                at: now.saturating_duration_since(began),
            };
        }
    };
    let now = Instant::now();
    let kind = match outcome {
        None => Kind::NoAnswer(format!("no answer within {NO_ANSWER_AFTER:?}")),
        Some(Outcome::Error(error)) => Kind::Failed(error.to_string()),
        Some(Outcome::Response(response)) => classify(&response),
    };
    Reply {
        kind,
        took: now - since,
        at: now.saturating_duration_since(began),
    }
}

/// Reads an API Gateway proxy response.
fn classify(response: &Value) -> Kind {
    let status = response["statusCode"].as_u64().unwrap_or(0);
    let body = response["body"].as_str().unwrap_or_default();
    let code = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|body| body["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    match (status, code.as_str()) {
        (200, _) if body == DEFERRED => Kind::Answered,
        (200, _) => Kind::WrongBody(body.to_owned()),
        (503, "token_unavailable") => Kind::Unavailable,
        (403, _) => Kind::Forbidden,
        _ => Kind::Other(status, code),
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn seconds(duration: Option<Duration>) -> String {
    duration.map_or_else(|| "–".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()))
}

fn describe(limit: Limit) -> String {
    match limit {
        Limit::Unlimited => "no limit".to_owned(),
        Limit::Bucket { rate, burst } => format!("{rate}/s, burst {burst}"),
    }
}

/// The first-round figures of one storm, for the summary table.
struct Figures {
    genuine: usize,
    in_time: usize,
    late: usize,
    unavailable: usize,
    other: usize,
    p50: Option<Duration>,
    p99: Option<Duration>,
    max: Option<Duration>,
    sent: usize,
    throttled: usize,
    peak: usize,
    follow_up_ok: Option<(usize, usize)>,
}

impl StormResult {
    fn genuine(&self) -> impl Iterator<Item = &InstanceResult> {
        self.instances.iter().filter(|instance| !instance.forged)
    }

    /// The stand-in's requests as (time since the storm began, record).
    fn timed_requests(&self) -> Vec<(Duration, &Recorded)> {
        self.requests
            .iter()
            .map(|request| (request.at.saturating_sub(self.requests_lead), request))
            .collect()
    }

    /// Requests of the first round: before the follow-up callbacks were sent.
    fn first_round_requests(&self) -> Vec<(Duration, &Recorded)> {
        self.timed_requests()
            .into_iter()
            .filter(|(at, _)| self.follow_up_at.is_none_or(|follow_up| *at < follow_up))
            .collect()
    }

    fn figures(&self, options: &Options) -> Figures {
        let genuine: Vec<&InstanceResult> = self.genuine().collect();
        let in_time = genuine
            .iter()
            .filter(|i| i.first.kind == Kind::Answered && i.first.took <= options.deadline)
            .count();
        let late = genuine
            .iter()
            .filter(|i| i.first.kind == Kind::Answered && i.first.took > options.deadline)
            .count();
        let unavailable = genuine
            .iter()
            .filter(|i| i.first.kind == Kind::Unavailable)
            .count();
        let mut took: Vec<Duration> = genuine
            .iter()
            .filter(|i| !matches!(i.first.kind, Kind::NoAnswer(_)))
            .map(|i| i.first.took)
            .collect();
        took.sort_unstable();
        let requests = self.first_round_requests();
        let follow_up_ok = self.follow_up_at.map(|_| {
            let replies: Vec<&Reply> = genuine
                .iter()
                .filter_map(|i| i.follow_up.as_ref())
                .collect();
            let ok = replies
                .iter()
                .filter(|reply| reply.kind == Kind::Answered && reply.took <= options.deadline)
                .count();
            (ok, replies.len())
        });
        Figures {
            genuine: genuine.len(),
            in_time,
            late,
            unavailable,
            other: genuine.len() - in_time - late - unavailable,
            p50: percentile(&took, 50),
            p99: percentile(&took, 99),
            max: took.last().copied(),
            sent: requests.len(),
            throttled: requests
                .iter()
                .filter(|(_, request)| request.answer == Answer::Throttled)
                .count(),
            peak: peak_per_second(&requests.iter().map(|(at, _)| *at).collect::<Vec<_>>()),
            follow_up_ok,
        }
    }

    fn print(&self, options: &Options, cores: usize, show_timeline: bool) {
        let figures = self.figures(options);
        println!(
            "\n## {} instances over {} ms, {} {}{} (run {}; load average before: {})\n",
            self.size,
            options.spread.as_millis(),
            options.source.name(),
            describe(self.limit),
            if options.secondary {
                ", with a secondary token parameter"
            } else {
                ""
            },
            self.round,
            self.load_before
        );
        let spawned_over = self
            .instances
            .last()
            .map_or(Duration::ZERO, |last| last.spawned_at);
        println!(
            "| callbacks | 200 within {:.0} s | 200 late | 503 | other | spawn → answer p50 | p99 | max |",
            options.deadline.as_secs_f64()
        );
        println!("|---|---|---|---|---|---|---|---|");
        println!(
            "| {} | **{}** | {} | **{}** | {} | {} | {} | {} |",
            figures.genuine,
            figures.in_time,
            figures.late,
            figures.unavailable,
            figures.other,
            seconds(figures.p50),
            seconds(figures.p99),
            seconds(figures.max),
        );
        let by_kind = |wanted: &dyn Fn(&Kind) -> bool| {
            let mut took: Vec<Duration> = self
                .genuine()
                .filter(|i| wanted(&i.first.kind))
                .map(|i| i.first.took)
                .collect();
            took.sort_unstable();
            took
        };
        let ok = by_kind(&|kind| *kind == Kind::Answered);
        let refused = by_kind(&|kind| *kind == Kind::Unavailable);
        let mut spawn_calls: Vec<Duration> = self.instances.iter().map(|i| i.spawn_took).collect();
        spawn_calls.sort_unstable();
        println!(
            "\nspawn → answer: 200s p50 {} max {}; 503s p50 {} max {}. All {} processes spawned \
             within {:.2} s (one fork/exec call: p50 {:.1} ms, max {:.1} ms); the last first \
             answer came {:.2} s after the first spawn.",
            seconds(percentile(&ok, 50)),
            seconds(ok.last().copied()),
            seconds(percentile(&refused, 50)),
            seconds(refused.last().copied()),
            self.instances.len(),
            spawned_over.as_secs_f64(),
            percentile(&spawn_calls, 50)
                .unwrap_or_default()
                .as_secs_f64()
                * 1000.0,
            spawn_calls
                .last()
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1000.0,
            self.last_answer.as_secs_f64(),
        );

        // The store as the stand-in saw it.
        let requests = self.first_round_requests();
        let served = requests
            .iter()
            .filter(|(_, request)| request.answer == Answer::Served)
            .count();
        println!(
            "\nRequests to the stand-in (first callbacks): {} sent, {} throttled, {} served; at most {} in \
             one second.",
            figures.sent, figures.throttled, served, figures.peak
        );
        let mut reads_per_instance = std::collections::BTreeMap::<(usize, usize), usize>::new();
        let mut gave_up_after = Vec::new();
        for instance in self.instances.iter() {
            let own: Vec<&(Duration, &Recorded)> = requests
                .iter()
                .filter(|(_, request)| request.caller == instance.key)
                .collect();
            let throttled = own
                .iter()
                .filter(|(_, request)| request.answer == Answer::Throttled)
                .count();
            *reads_per_instance
                .entry((own.len(), throttled))
                .or_default() += 1;
            if instance.first.kind == Kind::Unavailable
                && let Some((first_read, _)) = own.first()
            {
                gave_up_after.push(instance.first.at.saturating_sub(*first_read));
            }
        }
        let spread: Vec<String> = reads_per_instance
            .iter()
            .map(|((reads, throttled), instances)| {
                format!("{instances} × {reads} request(s), {throttled} throttled")
            })
            .collect();
        println!("Requests per instance: {}.", spread.join("; "));
        gave_up_after.sort_unstable();
        if !gave_up_after.is_empty() {
            println!(
                "Instances that answered 503 had been reading for p50 {} (max {}) between their \
                 first request and their answer.",
                seconds(percentile(&gave_up_after, 50)),
                seconds(gave_up_after.last().copied())
            );
        }
        if let Limit::Bucket { rate, burst } = self.limit {
            // Arithmetic, not a measurement: the bucket's last token for this storm.
            let needed = (self.instances.len() as f64 - burst).max(0.0) / rate;
            println!(
                "A bucket of {burst} refilled at {rate}/s has a token for the last of {} reads \
                 {:.2} s after the first: an instance that kept asking, spaced out, within its \
                 budget would be served by then.",
                self.instances.len(),
                needed
            );
        }
        let mut causes = std::collections::BTreeMap::<&str, usize>::new();
        for instance in self.genuine().filter(|i| i.first.kind == Kind::Unavailable) {
            let cause = token_failure(&instance.output).unwrap_or_default();
            let kind = if cause.contains("ThrottlingException") {
                "ThrottlingException"
            } else if cause.contains("timed out") || cause.contains("timeout") {
                "timeout"
            } else {
                "other"
            };
            *causes.entry(kind).or_default() += 1;
        }
        if !causes.is_empty() {
            let causes: Vec<String> = causes
                .iter()
                .map(|(cause, count)| format!("{count} × {cause}"))
                .collect();
            println!("Why the 503s' token read failed: {}.", causes.join(", "));
        }
        if let Some(cause) = self
            .instances
            .iter()
            .find(|i| i.first.kind == Kind::Unavailable)
            .and_then(|i| token_failure(&i.output))
        {
            // The SDK's description goes on with the whole raw response; its head says it all.
            let cause = cause.split(" (ServiceError").next().unwrap_or(&cause);
            println!("The refused instances logged: `{cause}`");
        }

        // CPU: what the machine's own load did.
        let cpu: Duration = self.instances.iter().filter_map(|i| i.cpu).sum();
        let busy = cpu.as_secs_f64() / (self.last_answer.as_secs_f64() * cores as f64).max(1e-9);
        println!(
            "\nCPU: the {} processes used {:.2} s of CPU up to their first answers ({:.1} ms each \
             on average); over the {:.2} s to the last answer that is {:.0} % of {cores} cores.",
            self.instances.len(),
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1000.0 / self.instances.len().max(1) as f64,
            self.last_answer.as_secs_f64(),
            busy * 100.0
        );
        if let Some(harness) = self.harness_cpu {
            println!(
                "The harness itself (emulators, stand-in, spawning) used {:.2} s of CPU over the \
                 whole storm, follow-up included.",
                harness.as_secs_f64()
            );
        }

        let forged: Vec<&InstanceResult> = self.instances.iter().filter(|i| i.forged).collect();
        if !forged.is_empty() {
            let kinds: Vec<String> = forged
                .iter()
                .map(|i| format!("{:?}", i.first.kind))
                .collect();
            println!(
                "Forged callbacks ({}): {} (never 200).",
                forged.len(),
                kinds.join(", ")
            );
        }

        if let (Some(at), Some((ok, total))) = (self.follow_up_at, figures.follow_up_ok) {
            let mut took: Vec<Duration> = self
                .genuine()
                .filter_map(|i| i.follow_up.as_ref())
                .map(|reply| reply.took)
                .collect();
            took.sort_unstable();
            let unavailable = self
                .genuine()
                .filter_map(|i| i.follow_up.as_ref())
                .filter(|reply| reply.kind == Kind::Unavailable)
                .count();
            let later: Vec<(Duration, &Recorded)> = self
                .timed_requests()
                .into_iter()
                .filter(|(request_at, _)| *request_at >= at)
                .collect();
            let throttled = later
                .iter()
                .filter(|(_, request)| request.answer == Answer::Throttled)
                .count();
            println!(
                "\nFollow-up, a second callback to every instance at once {:.2} s after the last \
                 answer: {ok} of {total} answered 200 within the deadline, {unavailable} answered \
                 503 (queue → answer p50 {}, max {}); {} requests sent, {throttled} throttled.",
                at.saturating_sub(self.last_answer).as_secs_f64(),
                seconds(percentile(&took, 50)),
                seconds(took.last().copied()),
                later.len()
            );
        }
        if show_timeline {
            self.print_timeline();
        }
    }

    /// Reads and answers per quarter second of the first round.
    fn print_timeline(&self) {
        const STEP: Duration = Duration::from_millis(250);
        let requests = self.first_round_requests();
        let end = requests
            .iter()
            .map(|(at, _)| *at)
            .chain(self.instances.iter().map(|i| i.first.at))
            .max()
            .unwrap_or(Duration::ZERO);
        println!(
            "\n| from (s) | spawned | requests sent | throttled | answered 200 | answered 503 |"
        );
        println!("|---|---|---|---|---|---|");
        let mut from = Duration::ZERO;
        while from <= end {
            let to = from + STEP;
            let within = |at: Duration| at >= from && at < to;
            let sent = requests.iter().filter(|(at, _)| within(*at)).count();
            let throttled = requests
                .iter()
                .filter(|(at, request)| within(*at) && request.answer == Answer::Throttled)
                .count();
            let spawned = self
                .instances
                .iter()
                .filter(|i| within(i.spawned_at))
                .count();
            let ok = self
                .genuine()
                .filter(|i| i.first.kind == Kind::Answered && within(i.first.at))
                .count();
            let refused = self
                .genuine()
                .filter(|i| i.first.kind == Kind::Unavailable && within(i.first.at))
                .count();
            println!(
                "| {:.2} | {spawned} | {sent} | {throttled} | {ok} | {refused} |",
                from.as_secs_f64()
            );
            from = to;
        }
    }

    /// Answers that must never happen, and with `--strict` any callback short of the bar.
    fn violations(&self, options: &Options) -> Vec<String> {
        let mut found = Vec::new();
        let name = format!(
            "storm of {} ({}, run {})",
            self.size,
            describe(self.limit),
            self.round
        );
        for instance in &self.instances {
            let replies = std::iter::once(("first callback", &instance.first))
                .chain(instance.follow_up.iter().map(|reply| ("follow-up", reply)));
            for (which, reply) in replies {
                let bad = match (&reply.kind, instance.forged) {
                    (Kind::Answered | Kind::WrongBody(_), true) => {
                        Some("a forged callback was answered 200".to_owned())
                    }
                    (Kind::Forbidden | Kind::Unavailable, true) => None,
                    (Kind::WrongBody(body), false) => Some(format!("200 with body {body}")),
                    (Kind::Answered, false) if options.strict && reply.took > options.deadline => {
                        Some(format!("200 after {:.2} s", reply.took.as_secs_f64()))
                    }
                    (Kind::Answered, false) => None,
                    (Kind::Unavailable, false) if options.strict => Some("503".to_owned()),
                    (Kind::Unavailable, false) => None,
                    (Kind::Forbidden, false) => Some("403 for a genuine callback".to_owned()),
                    (Kind::Other(status, code), _) => Some(format!("{status} {code}")),
                    (Kind::Failed(error), _) => Some(format!("the invocation failed: {error}")),
                    (Kind::NoAnswer(why), _) => Some(why.clone()),
                };
                if let Some(bad) = bad {
                    found.push(format!(
                        "- {name}, instance {} ({which}): {bad}\n{}",
                        instance.key,
                        indent(&instance.output)
                    ));
                }
            }
        }
        found
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The reason in the function's `auth token not loaded` log line, if any.
fn token_failure(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let line: Value = serde_json::from_str(line).ok()?;
        (line["message"] == "auth token not loaded")
            .then(|| line["error"].as_str().map(str::to_owned))
            .flatten()
    })
}

/// The most of `times` (sorted or not) that fall within any one second.
fn peak_per_second(times: &[Duration]) -> usize {
    let mut times = times.to_vec();
    times.sort_unstable();
    let mut peak = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= Duration::from_secs(1) {
            start += 1;
        }
        peak = peak.max(end - start + 1);
    }
    peak
}

/// One line per storm, and the breaking point.
fn summary(results: &[StormResult], options: &Options) {
    println!("\n## Summary\n");
    println!(
        "| instances | {} | run | 200 within {:.0} s | 200 late | 503 | other | spawn → answer p50 | p99 | max | requests sent | throttled | most in 1 s | follow-up 200 |",
        options.source.name(),
        options.deadline.as_secs_f64()
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for result in results {
        let f = result.figures(options);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            result.size,
            describe(result.limit),
            result.round,
            f.in_time,
            f.late,
            f.unavailable,
            f.other,
            seconds(f.p50),
            seconds(f.p99),
            seconds(f.max),
            f.sent,
            f.throttled,
            f.peak,
            f.follow_up_ok
                .map_or_else(|| "–".to_owned(), |(ok, total)| format!("{ok}/{total}")),
        );
    }
    for limit in [options.limit, Limit::Unlimited] {
        let of_limit: Vec<&StormResult> = results.iter().filter(|r| r.limit == limit).collect();
        if of_limit.is_empty() {
            continue;
        }
        let passing = |size: usize| {
            of_limit.iter().filter(|r| r.size == size).all(|r| {
                let f = r.figures(options);
                f.in_time == f.genuine
            })
        };
        let mut sizes: Vec<usize> = of_limit.iter().map(|r| r.size).collect();
        sizes.sort_unstable();
        sizes.dedup();
        let held: Vec<usize> = sizes
            .iter()
            .copied()
            .filter(|&size| passing(size))
            .collect();
        let broke: Vec<usize> = sizes
            .iter()
            .copied()
            .filter(|&size| !passing(size))
            .collect();
        println!(
            "\n{} {}: every callback 200 within {:.0} s in every run of: {}; not in: {}.",
            options.source.name(),
            describe(limit),
            options.deadline.as_secs_f64(),
            if held.is_empty() {
                "none".to_owned()
            } else {
                format!("{held:?}")
            },
            if broke.is_empty() {
                "none".to_owned()
            } else {
                format!("{broke:?}")
            },
        );
    }
}

/// The stand-in of the store the instances read.
enum StandIn {
    Ssm(SsmStandIn),
    Secrets(SecretsStandIn),
}

impl StandIn {
    /// Starts the stand-in of `source` under `limit`, holding the development token: as the
    /// parameter and the secondary of `--secondary`, or as the secret of the fixture's account.
    async fn start(source: Source, limit: Limit) -> Self {
        match source {
            Source::Ssm => Self::Ssm(
                SsmStandIn::start(
                    &[(PARAMETER, TOKEN), (SECONDARY_PARAMETER, SECONDARY_TOKEN)],
                    limit,
                )
                .await,
            ),
            Source::Secrets => {
                let value =
                    serde_json::json!({"account_sid": ACCOUNT, "auth_token": TOKEN}).to_string();
                Self::Secrets(SecretsStandIn::start(&[(SECRET, &value)], limit).await)
            }
        }
    }

    fn endpoint(&self) -> String {
        match self {
            Self::Ssm(stand_in) => stand_in.endpoint(),
            Self::Secrets(stand_in) => stand_in.endpoint(),
        }
    }

    fn recorded(&self) -> Vec<Recorded> {
        match self {
            Self::Ssm(stand_in) => stand_in.recorded(),
            Self::Secrets(stand_in) => stand_in.recorded(),
        }
    }

    fn started(&self) -> Instant {
        match self {
            Self::Ssm(stand_in) => stand_in.started(),
            Self::Secrets(stand_in) => stand_in.started(),
        }
    }
}
