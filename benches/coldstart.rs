//! Cold start, peak memory and a long run of the release binary against a local Lambda Runtime
//! API, side by side with the smallest `lambda_http` function (`examples/bare_function.rs`).
//!
//! ```text
//! cargo build --profile bench --example bare_function
//! cargo bench --bench coldstart -- [--runs 20] [--load 100000] [--load-seconds 600]
//!                                  [--function PATH] [--bare PATH] [--compare PATH]
//!                                  [--accounts 10,100,1000] [SCENARIO ...]
//! ```
//!
//! A cold run starts a fresh Runtime API emulator (`tests/function/support/runtime_api.rs`) on
//! 127.0.0.1 with one event queued, spawns the binary with Lambda's environment and measures from
//! just before `spawn` to the moment the emulator receives the response: process start, runtime
//! and application initialisation, the first `GET …/invocation/next`, the handler and the
//! response `POST`. Peak RSS is `VmHWM` from `/proc/<pid>/status`, read right after that first
//! response. Runs of the scenarios are interleaved, so a busy moment of the machine spreads over
//! all of them instead of skewing one.
//!
//! Scenarios (all but `load-bare` run by default; names select the scenarios they begin, so
//! `ssm` selects both SSM ones):
//!
//! | name | binary | token | rules |
//! |---|---|---|---|
//! | `bare` | `bare_function` | none | none |
//! | `env` | `taskrouter-lambda` | `TWILIO_AUTH_TOKEN` | built-in |
//! | `env-50-rules` | `taskrouter-lambda` | `TWILIO_AUTH_TOKEN` | 50 rules, inline |
//! | `ssm-http` | `taskrouter-lambda` | SSM on `moto_server`, plain HTTP | built-in |
//! | `ssm-https` | `taskrouter-lambda` | SSM on `moto_server` over TLS, CA bundle in `SSL_CERT_FILE` | built-in |
//! | `secrets-http` | `taskrouter-lambda` | a Secrets Manager secret (`TWILIO_AUTH_TOKEN_SECRET_ID`) on `moto_server`, plain HTTP: `AWSCURRENT` and `AWSPENDING` read at init | built-in |
//! | `secrets-https` | `taskrouter-lambda` | the same over TLS | built-in |
//! | `accounts-http` | `taskrouter-lambda` | a token per account (`TWILIO_AUTH_TOKEN_PARAMETER_PREFIX`) on `moto_server`, plain HTTP: nothing read at start, the callback's account read on the first callback | built-in |
//! | `accounts-https` | `taskrouter-lambda` | the same over TLS | built-in |
//! | `load` | `taskrouter-lambda` | `TWILIO_AUTH_TOKEN` | 10 rules; `--load` invocations through one process |
//! | `load-bare` (only when named) | `bare_function` | none | none; the same long run, as the floor |
//! | `load-accounts` (only when named) | `taskrouter-lambda` | a token per account, moto over HTTP | 10 rules; the same long run for one known account |
//! | `refused-unsigned-4mib` (only when named, as all `refused-…`; `refused` names them all) | `taskrouter-lambda` | `TWILIO_AUTH_TOKEN` | built-in; a REST API event with 4 MiB of one-letter parameters (`a&a&…`) and no `X-Twilio-Signature`: what an unsigned request's body costs in memory |
//! | `refused-forged-3mib-0-pairs` | `taskrouter-lambda` | `TWILIO_AUTH_TOKEN` | built-in; a REST API event with a 3 MiB parameter and a forged, well-formed signature |
//! | `refused-forged-3mib-4-pairs` | `taskrouter-lambda` | `TWILIO_AUTH_TOKEN` | built-in; the same with four query parameters, which a REST API event hands over without their order |
//! | `refused-forged-128kib-0-pairs`, `…-4-pairs` | `taskrouter-lambda` | `TWILIO_AUTH_TOKEN` | built-in; the same at 128 KiB, the largest body accepted |
//! | `refused-forged-128kib-0-pairs-two-paths-two-tokens`, `…-4-pairs-…` | `taskrouter-lambda` | `TWILIO_AUTH_TOKEN` and `TWILIO_AUTH_TOKEN_SECONDARY` | built-in; the same on a custom domain with a base-path mapping: two paths, two tokens to try |
//! | `load-accounts-flood` (only when named) | `taskrouter-lambda` | the same | 10 rules; before each of the known account's callbacks, [`FLOOD_PER_CALLBACK`] callbacks of accounts never seen (each SID new, forged); the known account's round trips are reported apart from the flood's |
//! | `listing` (only when named) | `taskrouter-lambda` | a token per account, for each count of `--accounts` (10, 100 and 1,000 by default), in SSM parameters and in Secrets Manager secrets on a recording `moto_server` (plain HTTP) | built-in; per run, a fresh process: the first callback of a real account with the look-up budget left (its read alone), and with the budget spent by one invented account before it (the listing of the prefix, then the read); the requests moto received per run |
//!
//! The SSM and accounts scenarios need `moto_server` (PyPI `moto[server]`) and `openssl` on
//! `PATH`; without them they are skipped with a notice. `ssm-https` is the production shape (SSM is HTTPS-only):
//! it pays for the root certificates, the TLS handshake and the first use of AWS-LC's random
//! generator. The bundle is the system's plus a throw-away local CA, so as many roots are parsed
//! as on Lambda.
//!
//! Without `--bench` (which `cargo bench` passes), as under `cargo test --benches`, the defaults
//! are one run of each scenario and 100 invocations: a smoke test of the harness.
//!
//! `--compare PATH` adds, for each scenario of the function, a twin run with another build of
//! it (another profile, another feature set), interleaved with the first.
//!
//! Every answer is checked (status and body; for the `refused-…` scenarios, a `403` or `413` with
//! a JSON error code, which the table shows); a wrong answer aborts the run. Nothing here asserts
//! on time: the figures are printed as Markdown tables for `BENCHMARKS.md`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::{Child, Command};

use runtime_api::{Outcome, RuntimeApi};

#[path = "support/callback.rs"]
mod callback;
#[path = "support/measure.rs"]
mod measure;
// Only `spawn`, `sdk_config_loader` and `put_secure_string` are used here; the tests use the rest.
#[path = "../tests/function/support/loopback.rs"]
mod loopback;
#[allow(dead_code)]
#[path = "../tests/function/support/moto.rs"]
mod moto;
#[path = "../tests/function/support/process.rs"]
mod process;
#[path = "../tests/function/support/runtime_api.rs"]
mod runtime_api;

/// The SSM parameter holding the token in the SSM scenarios.
const PARAMETER: &str = "/taskrouter/auth-token";
/// The Secrets Manager secret holding the token in the secrets scenarios.
const SECRET: &str = "taskrouter/auth-token";
/// The secret name prefix of the listing experiment.
const SECRETS_PREFIX: &str = "taskrouter/accounts/";
/// The parameter prefix of the accounts scenarios.
const ACCOUNTS_PREFIX: &str = "/taskrouter/accounts/";
/// The account of the benchmark's callback (`support/callback.rs`), whose token the accounts
/// scenarios find under [`ACCOUNTS_PREFIX`].
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
/// Callbacks of never-seen accounts sent before each known-account callback in
/// `load-accounts-flood`.
const FLOOD_PER_CALLBACK: usize = 10;
/// How long creating a parameter may take (moto loads its SSM code on the first request).
const PUT_PARAMETER_TIMEOUT: Duration = Duration::from_secs(60);
/// A mebibyte, for the bodies of the `refused-…` scenarios.
const MIB: usize = 1024 * 1024;
/// The most output kept from a function, for the message when it misbehaves.
const OUTPUT_KEPT: usize = 16 * 1024;
/// Lambda's log level for the function: what the template deploys.
const LOG_LEVEL: &str = "INFO";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The child modes `--put-parameter` and `--put-secret` exist because the process
    // environment (`SSL_CERT_FILE`) is the only way to make the SDK trust the local CA without
    // another dependency.
    if args.first().map(String::as_str) == Some("--put-parameter") {
        return put_parameter_child(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("--put-secret") {
        return put_secret_child(&args[1..]);
    }
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("coldstart: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    match runtime.block_on(run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("coldstart: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The command line.
struct Options {
    runs: usize,
    load: usize,
    load_limit: Duration,
    function: PathBuf,
    bare: PathBuf,
    /// A second build of the function whose cold starts are measured alongside the first.
    compare: Option<PathBuf>,
    /// Scenario names to run; empty runs all.
    only: Vec<String>,
    /// The account counts of the `listing` experiment.
    accounts: Vec<usize>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options {
            runs: 20,
            load: 100_000,
            load_limit: Duration::from_secs(600),
            function: PathBuf::from(env!("CARGO_BIN_EXE_taskrouter-lambda")),
            bare: default_bare_path(),
            compare: None,
            only: Vec::new(),
            accounts: vec![10, 100, 1000],
        };
        if !args.iter().any(|arg| arg == "--bench") {
            options.runs = 1;
            options.load = 100;
        }
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            let number = |name: &str, text: String| {
                text.parse::<usize>()
                    .map_err(|_| format!("{name} takes a whole number, got `{text}`"))
            };
            match arg.as_str() {
                // Cargo passes `--bench` to every benchmark target under `cargo bench`; the
                // defaults above are for that. Without it (`cargo test --benches`), a smoke run.
                "--bench" => {}
                "--runs" => options.runs = number("--runs", value("--runs")?)?.max(1),
                "--load" => options.load = number("--load", value("--load")?)?,
                "--load-seconds" => {
                    let seconds = number("--load-seconds", value("--load-seconds")?)?;
                    options.load_limit = Duration::from_secs(seconds as u64);
                }
                "--function" => options.function = PathBuf::from(value("--function")?),
                "--bare" => options.bare = PathBuf::from(value("--bare")?),
                "--compare" => options.compare = Some(PathBuf::from(value("--compare")?)),
                "--accounts" => {
                    options.accounts = value("--accounts")?
                        .split(',')
                        .map(|count| number("--accounts", count.trim().to_owned()))
                        .collect::<Result<_, _>>()?;
                }
                flag if flag.starts_with('-') => {
                    return Err(format!(
                        "unknown option `{flag}`: expected --runs, --load, --load-seconds, \
                         --function, --bare, --compare, --accounts or scenario names"
                    ));
                }
                // `cargo bench -- <filter>` passes the filter to every benchmark target; a
                // filter that names no scenario here runs nothing here.
                name => options.only.push(name.to_owned()),
            }
        }
        Ok(options)
    }

    /// Whether a cold-start scenario runs: all do by default; a name selects the scenarios it
    /// begins (`ssm` selects `ssm-http` and `ssm-https`).
    fn wants(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.wants_named(scenario)
    }

    /// Whether a scenario that runs only when named runs: a name given selects the scenarios it
    /// begins.
    fn wants_named(&self, scenario: &str) -> bool {
        self.only
            .iter()
            .any(|name| scenario.starts_with(name.as_str()))
    }

    /// Whether a load scenario runs: `load` by default or when named, `load-bare` only when named.
    fn wants_load(&self, scenario: &str) -> bool {
        let named = self.only.iter().any(|name| name == scenario);
        named || (scenario == "load" && self.only.is_empty())
    }
}

/// `target/<profile>/examples/bare_function`, next to the `deps/` directory this benchmark runs
/// from.
fn default_bare_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            Some(
                exe.parent()?
                    .parent()?
                    .join("examples")
                    .join("bare_function"),
            )
        })
        .unwrap_or_else(|| PathBuf::from("bare_function"))
}

/// One way of starting the function.
struct Scenario {
    name: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    event: Value,
    expected: Expected,
}

/// What a scenario's function must answer.
#[derive(Debug, Clone, Copy)]
enum Expected {
    /// `200` with this body.
    Answer(&'static str),
    /// The refusal of a request without a valid signature: `403`, or `413` for a body over the
    /// limit, with a JSON error.
    Refusal,
}

async fn run(options: &Options) -> Result<(), String> {
    let params = callback::params();
    let event: Value = serde_json::from_str(&callback::event(&params)).expect("the event is JSON");
    let env_token = vec![("TWILIO_AUTH_TOKEN".to_owned(), callback::TOKEN.to_owned())];

    let mut scenarios = Vec::new();
    if options.wants("bare") {
        if options.bare.is_file() {
            scenarios.push(Scenario {
                name: "bare".to_owned(),
                binary: options.bare.clone(),
                env: Vec::new(),
                event: event.clone(),
                expected: Expected::Answer("{}"),
            });
        } else {
            println!(
                "notice: no bare function at {}, so no floor to compare with; build it first: \
                 cargo build --profile bench --example bare_function",
                options.bare.display()
            );
        }
    }
    if options.wants("env") {
        scenarios.push(Scenario {
            name: "env".to_owned(),
            binary: options.function.clone(),
            env: env_token.clone(),
            event: event.clone(),
            expected: Expected::Answer("{}"),
        });
    }
    if options.wants("env-50-rules") {
        let mut env = env_token.clone();
        env.push(("ASSIGNMENT_RULES".to_owned(), callback::rules(50)));
        scenarios.push(Scenario {
            name: "env-50-rules".to_owned(),
            binary: options.function.clone(),
            env,
            event: event.clone(),
            expected: Expected::Answer(callback::MATCHED_BODY),
        });
    }
    // Requests without a valid signature, REST API events (`support/callback.rs`), with the
    // token in the environment: only when named (`refused` selects them all).
    let refusals = [
        (
            "refused-unsigned-4mib",
            callback::rest_api_event(&callback::many_tiny_parameters(4 * MIB), &[], None),
        ),
        (
            "refused-forged-3mib-0-pairs",
            callback::rest_api_event(
                &callback::one_large_parameter(3 * MIB),
                &[],
                Some(callback::FORGED_SIGNATURE),
            ),
        ),
        (
            "refused-forged-3mib-4-pairs",
            callback::rest_api_event(
                &callback::one_large_parameter(3 * MIB),
                &callback::FOUR_QUERY_PAIRS,
                Some(callback::FORGED_SIGNATURE),
            ),
        ),
    ];
    let at_limit = |query: &[(&str, &str)]| {
        callback::rest_api_event(
            &callback::one_large_parameter(128 * 1024),
            query,
            Some(callback::FORGED_SIGNATURE),
        )
    };
    let mut two_tokens = env_token.clone();
    two_tokens.push((
        "TWILIO_AUTH_TOKEN_SECONDARY".to_owned(),
        "the-secondary-token".to_owned(),
    ));
    let refusals = refusals
        .into_iter()
        .map(|(name, event)| (name, event, &env_token))
        .chain([
            ("refused-forged-128kib-0-pairs", at_limit(&[]), &env_token),
            (
                "refused-forged-128kib-4-pairs",
                at_limit(&callback::FOUR_QUERY_PAIRS),
                &env_token,
            ),
            (
                "refused-forged-128kib-0-pairs-two-paths-two-tokens",
                callback::on_custom_domain(&at_limit(&[])),
                &two_tokens,
            ),
            (
                "refused-forged-128kib-4-pairs-two-paths-two-tokens",
                callback::on_custom_domain(&at_limit(&callback::FOUR_QUERY_PAIRS)),
                &two_tokens,
            ),
        ]);
    for (name, event, env) in refusals {
        if options.wants_named(name) {
            scenarios.push(Scenario {
                name: name.to_owned(),
                binary: options.function.clone(),
                env: env.clone(),
                event: serde_json::from_str(&event).expect("the event is JSON"),
                expected: Expected::Refusal,
            });
        }
    }
    // Kept alive until the runs end: dropping them stops the servers.
    let mut motos = Vec::new();
    let mut accounts_env = None;
    for (tls, ssm, accounts, secrets) in [
        (false, "ssm-http", "accounts-http", "secrets-http"),
        (true, "ssm-https", "accounts-https", "secrets-https"),
    ] {
        let plain_load = !tls
            && (options.wants_load("load-accounts") || options.wants_load("load-accounts-flood"));
        let wanted: Vec<&str> = [ssm, accounts, secrets]
            .into_iter()
            .filter(|name| options.wants(name))
            .collect();
        if wanted.is_empty() && !plain_load {
            continue;
        }
        let moto = match Moto::start(tls).await {
            Ok(moto) => moto,
            Err(reason) => {
                println!("notice: scenarios {ssm}, {accounts} skipped: {reason}");
                continue;
            }
        };
        let mut aws = vec![
            ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint()),
            ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
            ("AWS_DEFAULT_REGION".to_owned(), "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID".to_owned(), "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "testing".to_owned()),
            ("AWS_SESSION_TOKEN".to_owned(), "testing".to_owned()),
        ];
        if let Some(bundle) = moto.bundle() {
            aws.push(("SSL_CERT_FILE".to_owned(), bundle.display().to_string()));
        }
        let per_account: Vec<(String, String)> = [(
            "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX".to_owned(),
            ACCOUNTS_PREFIX.to_owned(),
        )]
        .into_iter()
        .chain(aws.iter().cloned())
        .collect();
        if plain_load {
            accounts_env = Some(per_account.clone());
        }
        for name in wanted {
            let token = if name == ssm {
                (
                    "TWILIO_AUTH_TOKEN_PARAMETER".to_owned(),
                    PARAMETER.to_owned(),
                )
            } else if name == secrets {
                ("TWILIO_AUTH_TOKEN_SECRET_ID".to_owned(), SECRET.to_owned())
            } else {
                (
                    "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX".to_owned(),
                    ACCOUNTS_PREFIX.to_owned(),
                )
            };
            // A secret's first minute is the grace of the version it replaced: without a grace
            // every run reads what every read outside that minute reads (AWSCURRENT and
            // AWSPENDING), whenever the run comes.
            let grace = (name == secrets).then(|| {
                (
                    "AUTH_TOKEN_PREVIOUS_GRACE_SECONDS".to_owned(),
                    "0".to_owned(),
                )
            });
            scenarios.push(Scenario {
                name: name.to_owned(),
                binary: options.function.clone(),
                env: [token]
                    .into_iter()
                    .chain(grace)
                    .chain(aws.iter().cloned())
                    .collect(),
                event: event.clone(),
                expected: Expected::Answer("{}"),
            });
        }
        motos.push(moto);
    }
    if options.only.iter().any(|name| name == "listing") {
        listing(options).await?;
    }

    if let Some(other) = &options.compare {
        // The same scenarios with the other binary, interleaved with the first, so both see the
        // same moments of the machine.
        let twins: Vec<Scenario> = scenarios
            .iter()
            .filter(|scenario| scenario.binary == options.function)
            .map(|scenario| Scenario {
                name: format!("{} [compare]", scenario.name),
                binary: other.clone(),
                env: scenario.env.clone(),
                event: scenario.event.clone(),
                expected: scenario.expected,
            })
            .collect();
        scenarios.extend(twins);
    }
    if !scenarios.is_empty() {
        cold_starts(&scenarios, options.runs).await?;
    }
    let mut env = env_token;
    env.push(("ASSIGNMENT_RULES".to_owned(), callback::rules(10)));
    let loads = [
        Scenario {
            name: "load".to_owned(),
            binary: options.function.clone(),
            env,
            event: event.clone(),
            expected: Expected::Answer(callback::MATCHED_BODY),
        },
        // The floor of a long run: the runtime's own cost per invocation.
        Scenario {
            name: "load-bare".to_owned(),
            binary: options.bare.clone(),
            env: Vec::new(),
            event,
            expected: Expected::Answer("{}"),
        },
    ];
    for scenario in &loads {
        if options.load > 0 && options.wants_load(&scenario.name) {
            load(scenario, options.load, options.load_limit).await?;
        }
    }
    if let Some(env) = accounts_env
        && options.load > 0
    {
        let mut env = env;
        env.push(("ASSIGNMENT_RULES".to_owned(), callback::rules(10)));
        let known = Scenario {
            name: "load-accounts".to_owned(),
            binary: options.function.clone(),
            env,
            event: loads[0].event.clone(),
            expected: Expected::Answer(callback::MATCHED_BODY),
        };
        if options.wants_load("load-accounts") {
            load(&known, options.load, options.load_limit).await?;
        }
        if options.wants_load("load-accounts-flood") {
            load_flood(&known, options.load, options.load_limit).await?;
        }
    }
    Ok(())
}

/// What one cold run measured.
struct Sample {
    first_response: Duration,
    peak_rss_kib: u64,
    /// CPU time of all the process's threads up to the first response.
    cpu: Duration,
    minor_faults: u64,
    /// What the function answered: `200`, or a refusal's status and error code.
    answer: String,
}

async fn cold_starts(scenarios: &[Scenario], runs: usize) -> Result<(), String> {
    println!("\n## Cold start: spawn → first response ({runs} runs each, interleaved)\n");
    let mut samples: Vec<Vec<Sample>> = scenarios.iter().map(|_| Vec::new()).collect();
    for round in 0..runs {
        for (scenario, samples) in scenarios.iter().zip(&mut samples) {
            let sample = cold_run(scenario)
                .await
                .map_err(|error| format!("{} (run {}): {error}", scenario.name, round + 1))?;
            samples.push(sample);
        }
        print!(".");
        let _ = std::io::stdout().flush();
    }
    println!("\n");
    let floor = scenarios
        .iter()
        .zip(&samples)
        .find(|(scenario, _)| scenario.name == "bare")
        .map(|(_, samples)| median(&first_responses(samples)));
    println!(
        "| scenario | median ms | p90 ms | min ms | max ms | × bare (median) | CPU ms median | minor faults median | peak RSS (VmHWM) median | binary size | answer |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (scenario, samples) in scenarios.iter().zip(&samples) {
        let times = first_responses(samples);
        let mut rss: Vec<u64> = samples.iter().map(|sample| sample.peak_rss_kib).collect();
        rss.sort_unstable();
        let mut cpu: Vec<Duration> = samples.iter().map(|sample| sample.cpu).collect();
        cpu.sort_unstable();
        let mut faults: Vec<u64> = samples.iter().map(|sample| sample.minor_faults).collect();
        faults.sort_unstable();
        let ratio = floor.map_or_else(
            || "–".to_owned(),
            |floor| format!("{:.2}", median(&times).as_secs_f64() / floor.as_secs_f64()),
        );
        let mut answers: Vec<&str> = samples
            .iter()
            .map(|sample| sample.answer.as_str())
            .collect();
        answers.dedup();
        println!(
            "| {} | {} | {} | {} | {} | {ratio} | {} | {} | {:.1} MiB | {:.2} MiB | {} |",
            scenario.name,
            ms(median(&times)),
            ms(percentile(&times, 90)),
            ms(times[0]),
            ms(times[times.len() - 1]),
            ms(median(&cpu)),
            faults[(faults.len() - 1) / 2],
            rss[(rss.len() - 1) / 2] as f64 / 1024.0,
            measure::file_size(&scenario.binary) as f64 / (1024.0 * 1024.0),
            answers.join(", "),
        );
    }
    Ok(())
}

fn first_responses(samples: &[Sample]) -> Vec<Duration> {
    let mut times: Vec<Duration> = samples.iter().map(|sample| sample.first_response).collect();
    times.sort_unstable();
    times
}

/// The nearest-rank percentile of sorted `values`, which are never empty here.
fn percentile(values: &[Duration], percent: usize) -> Duration {
    measure::percentile(values, percent).unwrap_or_default()
}

fn median(values: &[Duration]) -> Duration {
    percentile(values, 50)
}

fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

/// A started function process and the output it has written so far.
struct Running {
    api: RuntimeApi,
    child: Child,
    pid: u32,
    /// Every line counted, the last [`OUTPUT_KEPT`] bytes kept for error messages.
    output: Arc<Mutex<process::Output>>,
}

impl Running {
    /// Starts an emulator, then the binary against it. The clock for the cold start starts just
    /// before `spawn`, so it is returned with the process.
    async fn start(scenario: &Scenario) -> Result<(Self, Instant), String> {
        let api = RuntimeApi::start().await;
        let mut command = process::lambda_command(&scenario.binary, &api, "taskrouter-bench", 1024);
        command
            .env("AWS_LAMBDA_LOG_LEVEL", LOG_LEVEL)
            .envs(scenario.env.iter().map(|(name, value)| (name, value)));
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", scenario.binary.display()))?;
        let pid = child
            .id()
            .ok_or("the process ended before its id was read")?;
        let output = process::collect_output(&mut child, OUTPUT_KEPT);
        let running = Running {
            api,
            child,
            pid,
            output,
        };
        Ok((running, started))
    }

    /// Sends one event and checks the answer, which it returns as `200`, or the status and the
    /// error code of a refusal; fails if the process exits instead.
    async fn invoke(&mut self, scenario: &Scenario) -> Result<String, String> {
        let outcome = tokio::select! {
            outcome = self.api.invoke(scenario.event.clone()) => outcome,
            status = self.child.wait() => {
                return Err(format!("the function exited ({status:?})\n{}", self.tail()));
            }
        };
        match (outcome, scenario.expected) {
            (Outcome::Response(response), Expected::Answer(body))
                if response["statusCode"] == 200 && response["body"] == body =>
            {
                Ok("200".to_owned())
            }
            (Outcome::Response(response), Expected::Refusal)
                if matches!(response["statusCode"].as_u64(), Some(403 | 413)) =>
            {
                let code = serde_json::from_str::<Value>(response["body"].as_str().unwrap_or(""))
                    .ok()
                    .and_then(|body| body["error"]["code"].as_str().map(str::to_owned))
                    .ok_or_else(|| format!("a refusal without a JSON error code: {response}"))?;
                Ok(format!("{} {code}", response["statusCode"]))
            }
            (Outcome::Response(response), expected) => Err(format!(
                "unexpected answer {response} (expected {expected:?})\n{}",
                self.tail()
            )),
            (Outcome::Error(error), _) => {
                Err(format!("the invocation failed: {error}\n{}", self.tail()))
            }
        }
    }

    /// Sends one event and returns the function's response, whatever it is; fails if the
    /// process exits or the invocation fails.
    async fn respond(&mut self, event: Value) -> Result<Value, String> {
        let outcome = tokio::select! {
            outcome = self.api.invoke(event) => outcome,
            status = self.child.wait() => {
                return Err(format!("the function exited ({status:?})\n{}", self.tail()));
            }
        };
        match outcome {
            Outcome::Response(response) => Ok(response),
            Outcome::Error(error) => {
                Err(format!("the invocation failed: {error}\n{}", self.tail()))
            }
        }
    }

    fn tail(&self) -> String {
        self.output.lock().expect("output lock").text.clone()
    }

    fn lines(&self) -> u64 {
        self.output.lock().expect("output lock").lines
    }

    /// `VmHWM` and `VmRSS` of the process, in KiB.
    fn memory(&self) -> Result<(u64, u64), String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .map_err(|error| format!("cannot read /proc/{}/status: {error}", self.pid))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .ok_or_else(|| format!("no {name} in /proc/{}/status", self.pid))
        };
        Ok((field("VmHWM:")?, field("VmRSS:")?))
    }

    /// CPU time summed over the threads ([`measure::cpu_time`]) and minor page faults
    /// (`/proc/<pid>/stat`). CPU time is what a busy machine inflates least.
    fn cpu_and_faults(&self) -> Result<(Duration, u64), String> {
        let proc = format!("/proc/{}", self.pid);
        let cpu = measure::cpu_time(self.pid)
            .ok_or_else(|| format!("{proc}/task/*/schedstat is unreadable or unexpected"))?;
        let stat = std::fs::read_to_string(format!("{proc}/stat"))
            .map_err(|error| format!("{proc}/stat: {error}"))?;
        // Field 10 (minflt) counts from 1 and the command in parentheses may hold spaces, so
        // count from the field after it (field 3).
        let minor_faults = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(10 - 3))
            .and_then(|field| field.parse::<u64>().ok())
            .ok_or_else(|| format!("{proc}/stat is unexpected: {stat}"))?;
        Ok((cpu, minor_faults))
    }

    /// Ends the process with SIGTERM, as Lambda does when it shuts a sandbox down, so a wrapper
    /// such as `valgrind` can write its report; SIGKILL after 30 s.
    async fn stop(mut self) {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await
            .is_ok_and(|status| status.success());
        let exited = terminated
            && tokio::time::timeout(Duration::from_secs(30), self.child.wait())
                .await
                .is_ok();
        if !exited {
            let _ = self.child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        }
    }
}

async fn cold_run(scenario: &Scenario) -> Result<Sample, String> {
    let (mut running, started) = Running::start(scenario).await?;
    let answer = running.invoke(scenario).await?;
    let first_response = started.elapsed();
    let (peak_rss_kib, _) = running.memory()?;
    let (cpu, minor_faults) = running.cpu_and_faults()?;
    running.stop().await;
    Ok(Sample {
        first_response,
        peak_rss_kib,
        cpu,
        minor_faults,
        answer,
    })
}

/// `count` invocations through one process: every answer checked, memory read along the way.
async fn load(scenario: &Scenario, count: usize, limit: Duration) -> Result<(), String> {
    println!(
        "\n## Load ({}): {count} invocations through one process\n",
        scenario.name
    );
    let (mut running, _) = Running::start(scenario).await?;
    running.invoke(scenario).await?;
    let (_, rss_start) = running.memory()?;
    let checkpoints = [1_000, 10_000, 50_000, count];
    let mut memory = vec![(1, rss_start)];
    let mut latencies = Vec::with_capacity(count);
    let began = Instant::now();
    let mut done = 1;
    let mut errors = 0_usize;
    let mut first_error = None;
    while done < count {
        if began.elapsed() > limit {
            println!("notice: stopped after {done} invocations: --load-seconds reached");
            break;
        }
        let sent = Instant::now();
        let answered = running.invoke(scenario).await;
        latencies.push(sent.elapsed());
        done += 1;
        if let Err(error) = answered {
            errors += 1;
            if first_error.is_none() {
                first_error = Some(format!("invocation {done}: {error}"));
            }
            if running
                .child
                .try_wait()
                .is_ok_and(|status| status.is_some())
            {
                break;
            }
        }
        if checkpoints.contains(&done) {
            memory.push((done, running.memory()?.1));
        }
    }
    let elapsed = began.elapsed();
    let (peak, rss_end) = running.memory()?;
    let lines = running.lines();
    running.stop().await;
    latencies.sort_unstable();
    println!(
        "| invocations | errors | wall time | invocations/s | round trip p50 | p90 | p99 | max |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    if let Some(last) = latencies.last() {
        println!(
            "| {done} | {errors} | {:.1} s | {:.0} | {} µs | {} µs | {} µs | {} µs |",
            elapsed.as_secs_f64(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 50).as_micros(),
            percentile(&latencies, 90).as_micros(),
            percentile(&latencies, 99).as_micros(),
            last.as_micros(),
        );
    }
    println!("\n| after invocation | VmRSS |\n|---|---|");
    for (at, rss) in &memory {
        println!("| {at} | {:.1} MiB |", *rss as f64 / 1024.0);
    }
    println!(
        "\nVmRSS {:.1} MiB after the first invocation, {:.1} MiB after the last (VmHWM {:.1} MiB); \
         {lines} log and metric lines written.",
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        peak as f64 / 1024.0,
    );
    match first_error {
        None => Ok(()),
        Some(error) => Err(format!(
            "{errors} of {done} invocations failed; the first: {error}"
        )),
    }
}

/// `count` callbacks of a known account through one process in per-account mode, each after
/// [`FLOOD_PER_CALLBACK`] callbacks of accounts the process has never seen (a new, invented SID
/// each time, signed with a token that is not theirs). The known account's round trips are
/// reported apart from the flood's, next to how the flood was answered.
async fn load_flood(scenario: &Scenario, count: usize, limit: Duration) -> Result<(), String> {
    println!(
        "\n## Load (load-accounts-flood): {count} callbacks of a known account, each after \
         {FLOOD_PER_CALLBACK} of invented accounts\n"
    );
    let (mut running, _) = Running::start(scenario).await?;
    running.invoke(scenario).await?;
    let (_, rss_start) = running.memory()?;
    let mut known = Vec::with_capacity(count);
    let mut flood = Vec::with_capacity(count * FLOOD_PER_CALLBACK);
    let (mut refused_unknown, mut refused_unavailable) = (0_usize, 0_usize);
    let mut params = callback::params();
    let began = Instant::now();
    let mut invented = 0_u64;
    for _ in 1..count {
        if began.elapsed() > limit {
            println!("notice: stopped: --load-seconds reached");
            break;
        }
        for _ in 0..FLOOD_PER_CALLBACK {
            invented += 1;
            for (key, value) in &mut params {
                if key == "AccountSid" {
                    *value = format!("AC{invented:032x}");
                }
            }
            let event: Value =
                serde_json::from_str(&callback::event(&params)).expect("the event is JSON");
            let sent = Instant::now();
            let response = running.respond(event).await?;
            flood.push(sent.elapsed());
            let code = serde_json::from_str::<Value>(response["body"].as_str().unwrap_or(""))
                .ok()
                .and_then(|body| body["error"]["code"].as_str().map(str::to_owned));
            match (response["statusCode"].as_u64(), code.as_deref()) {
                (Some(403), Some("unknown_account")) => refused_unknown += 1,
                (Some(503), _) => refused_unavailable += 1,
                _ => return Err(format!("an invented account got {response}")),
            }
        }
        let sent = Instant::now();
        running.invoke(scenario).await?;
        known.push(sent.elapsed());
    }
    let elapsed = began.elapsed();
    let (peak, rss_end) = running.memory()?;
    running.stop().await;
    known.sort_unstable();
    flood.sort_unstable();
    println!("| callbacks | count | round trip p50 | p90 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    for (what, latencies) in [("known account", &known), ("invented accounts", &flood)] {
        if let Some(last) = latencies.last() {
            println!(
                "| {what} | {} | {} µs | {} µs | {} µs | {} µs |",
                latencies.len(),
                percentile(latencies, 50).as_micros(),
                percentile(latencies, 90).as_micros(),
                percentile(latencies, 99).as_micros(),
                last.as_micros(),
            );
        }
    }
    println!(
        "\n{:.1} s; invented accounts: {refused_unknown} refused 403 (after a look-up or from \
         the listing of the prefix), {refused_unavailable} refused 503; VmRSS {:.1} MiB after the \
         first callback, {:.1} MiB after the last (VmHWM {:.1} MiB).",
        elapsed.as_secs_f64(),
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        peak as f64 / 1024.0,
    );
    Ok(())
}

/// Where the listing experiment keeps the accounts' tokens.
#[derive(Debug, Clone, Copy)]
enum Kept {
    Parameters,
    Secrets,
}

/// What one run of the listing experiment measured.
struct ListingRun {
    /// From spawn to the real account's answer (the time between the invented account's answer
    /// and the real account's callback, when the harness counts requests, left out).
    cold: Duration,
    /// The real account's callback alone.
    callback: Duration,
    /// Reads (`GetParameters`, `GetSecretValue`) and listing pages (`GetParametersByPath`,
    /// `ListSecrets`) moto received for the real account's callback.
    reads: usize,
    pages: usize,
}

/// The `listing` experiment: for each account count, the first callback of a real account on a
/// fresh process with the look-up budget left (today's path, and the path of every account when
/// no flood came first) and with it spent by one invented account (the listing, then the read:
/// what a cold instance pays after a flood, and what listing the prefix at every cold start would
/// cost). Requests are counted by moto's recorder.
async fn listing(options: &Options) -> Result<(), String> {
    println!(
        "\n## Accounts not seen yet: the first callback of a real account, budget left or spent \
         ({} runs each, interleaved)\n",
        options.runs
    );
    println!(
        "| accounts | kept in | budget | spawn → answer median | p90 | the callback alone median | p90 | reads | listing pages |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &count in &options.accounts {
        for kept in [Kept::Parameters, Kept::Secrets] {
            let moto = moto::Moto::start().await;
            let (variable, prefix) = match kept {
                Kept::Parameters => ("TWILIO_AUTH_TOKEN_PARAMETER_PREFIX", ACCOUNTS_PREFIX),
                Kept::Secrets => ("TWILIO_AUTH_TOKEN_SECRET_PREFIX", SECRETS_PREFIX),
            };
            // The benchmark's account and `count - 1` others.
            for n in 0..count {
                let account = if n == 0 {
                    ACCOUNT.to_owned()
                } else {
                    format!("AC{:032x}", 0xf000_0000_u64 + n as u64)
                };
                match kept {
                    Kept::Parameters => {
                        moto.put_secure_string(&format!("{prefix}{account}"), callback::TOKEN)
                            .await
                    }
                    Kept::Secrets => {
                        moto.create_secret(
                            &format!("{prefix}{account}"),
                            &secret_value(&account, callback::TOKEN),
                        )
                        .await
                    }
                }
            }
            let mut env: Vec<(String, String)> = moto
                .function_env()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect();
            env.push((variable.to_owned(), prefix.to_owned()));
            if let Kept::Secrets = kept {
                // As in `secrets-http`: what a read outside the minute after a rotation sends.
                env.push((
                    "AUTH_TOKEN_PREVIOUS_GRACE_SECONDS".to_owned(),
                    "0".to_owned(),
                ));
            }
            let params = callback::params();
            let event: Value =
                serde_json::from_str(&callback::event(&params)).expect("the event is JSON");
            let invented: Vec<(String, String)> = params
                .iter()
                .map(|(key, value)| {
                    let value = if key == "AccountSid" {
                        format!("AC{:032x}", 7)
                    } else {
                        value.clone()
                    };
                    (key.clone(), value)
                })
                .collect();
            let invented: Value =
                serde_json::from_str(&callback::event(&invented)).expect("the event is JSON");
            let scenario = |spent: bool| {
                let mut env = env.clone();
                if spent {
                    env.push(("ACCOUNT_LOOKUPS_PER_MINUTE".to_owned(), "1".to_owned()));
                }
                Scenario {
                    name: format!("listing-{count}"),
                    binary: options.function.clone(),
                    env,
                    event: event.clone(),
                    expected: Expected::Answer("{}"),
                }
            };
            let scenarios = [scenario(false), scenario(true)];
            let mut runs: [Vec<ListingRun>; 2] = [Vec::new(), Vec::new()];
            for round in 0..options.runs {
                for (spent, scenario) in scenarios.iter().enumerate() {
                    let run = listing_run(&moto, scenario, (spent == 1).then_some(&invented))
                        .await
                        .map_err(|error| format!("listing {count} (run {}): {error}", round + 1))?;
                    runs[spent].push(run);
                }
            }
            for (spent, runs) in runs.iter().enumerate() {
                let mut cold: Vec<Duration> = runs.iter().map(|run| run.cold).collect();
                let mut alone: Vec<Duration> = runs.iter().map(|run| run.callback).collect();
                cold.sort_unstable();
                alone.sort_unstable();
                let counts = |of: fn(&ListingRun) -> usize| {
                    let mut counts: Vec<usize> = runs.iter().map(of).collect();
                    counts.sort_unstable();
                    counts.dedup();
                    counts
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join("–")
                };
                println!(
                    "| {count} | {kept:?} | {} | {} | {} | {} | {} | {} | {} |",
                    if spent == 1 {
                        "spent by one invented account"
                    } else {
                        "left"
                    },
                    ms(median(&cold)),
                    ms(percentile(&cold, 90)),
                    ms(median(&alone)),
                    ms(percentile(&alone, 90)),
                    counts(|run| run.reads),
                    counts(|run| run.pages),
                );
            }
        }
    }
    Ok(())
}

/// One run: a fresh process, `before` answered first when given (it must be refused), then the
/// scenario's callback; the requests moto received for the latter.
async fn listing_run(
    moto: &moto::Moto,
    scenario: &Scenario,
    before: Option<&Value>,
) -> Result<ListingRun, String> {
    // Counted before the clock starts, and between the two callbacks with the clock stopped:
    // reading moto's recording takes the harness milliseconds.
    let mut seen = moto.requests().len();
    let (mut running, started) = Running::start(scenario).await?;
    let mut before_it = Duration::ZERO;
    if let Some(before) = before {
        let response = running.respond(before.clone()).await?;
        before_it = started.elapsed();
        if response["statusCode"] != 403 {
            return Err(format!("the invented account was answered {response}"));
        }
        seen = moto.requests().len();
    }
    let sent = Instant::now();
    running.invoke(scenario).await?;
    let callback = sent.elapsed();
    let cold = if before.is_some() {
        before_it + callback
    } else {
        started.elapsed()
    };
    running.stop().await;
    let requests = moto.requests();
    let ours = &requests[seen.min(requests.len())..];
    let count = |targets: &[&str]| {
        ours.iter()
            .filter(|(target, _)| targets.contains(&target.as_str()))
            .count()
    };
    Ok(ListingRun {
        cold,
        callback,
        reads: count(&[
            "AmazonSSM.GetParameter",
            "AmazonSSM.GetParameters",
            "secretsmanager.GetSecretValue",
        ]),
        pages: count(&[
            "AmazonSSM.GetParametersByPath",
            "secretsmanager.ListSecrets",
        ]),
    })
}

/// A `moto_server` child process, killed when dropped, with the token parameters created: the
/// single-account one and the benchmark account's under [`ACCOUNTS_PREFIX`].
struct Moto {
    _child: Child,
    port: u16,
    /// The certificates of the TLS variant, removed when dropped.
    tls: Option<TempDir>,
}

impl Moto {
    async fn start(tls: bool) -> Result<Self, String> {
        let port = loopback::free_port();
        let certificates = if tls {
            Some(make_certificates()?)
        } else {
            None
        };
        let child = moto::spawn(port, |command| {
            if let Some(dir) = &certificates {
                command.arg("-c").arg(dir.path.join("leaf.pem"));
                command.arg("-k").arg(dir.path.join("leaf.key"));
            }
        })
        .await?;
        let moto = Moto {
            _child: child,
            port,
            tls: certificates,
        };
        moto.put_parameter(PARAMETER).await?;
        moto.put_parameter(&format!("{ACCOUNTS_PREFIX}{ACCOUNT}"))
            .await?;
        moto.put_secret(SECRET).await?;
        Ok(moto)
    }

    fn endpoint(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    fn bundle(&self) -> Option<PathBuf> {
        self.tls.as_ref().map(|dir| dir.path.join("bundle.pem"))
    }

    /// Creates the token parameter `name`, in a child process of this benchmark whose
    /// environment points the SDK at the bundle when moto speaks TLS. Its first request also
    /// makes moto load its SSM code, which would otherwise land in the first measured run.
    async fn put_parameter(&self, name: &str) -> Result<(), String> {
        self.put("--put-parameter", name).await
    }

    /// Creates the secret `name` holding the benchmark account's token, as `put_parameter` does.
    async fn put_secret(&self, name: &str) -> Result<(), String> {
        self.put("--put-secret", name).await
    }

    async fn put(&self, mode: &str, name: &str) -> Result<(), String> {
        let exe = std::env::current_exe().map_err(|error| format!("own path: {error}"))?;
        let mut command = Command::new(exe);
        command.args([mode, &self.endpoint(), name, callback::TOKEN]);
        if let Some(bundle) = self.bundle() {
            command.env("SSL_CERT_FILE", bundle);
        }
        let status = tokio::time::timeout(PUT_PARAMETER_TIMEOUT, command.status())
            .await
            .map_err(|_| format!("creating {name} took over a minute"))?
            .map_err(|error| format!("cannot run the writer of {name}: {error}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("creating {name} failed ({status})"))
        }
    }
}

/// `--put-parameter ENDPOINT NAME VALUE`: writes one SecureString, as an operator would.
fn put_parameter_child(args: &[String]) -> ExitCode {
    let [endpoint, name, value] = args else {
        eprintln!("--put-parameter takes ENDPOINT NAME VALUE");
        return ExitCode::from(2);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let written = runtime.block_on(async {
        let config = moto::sdk_config_loader(endpoint).load().await;
        moto::put_secure_string(&aws_sdk_ssm::Client::new(&config), name, value).await
    });
    match written {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "PutParameter on {endpoint} failed: {}",
                aws_sdk_ssm::error::DisplayErrorContext(&error)
            );
            ExitCode::FAILURE
        }
    }
}

/// `--put-secret ENDPOINT NAME TOKEN`: creates a secret holding the benchmark account's `TOKEN`.
fn put_secret_child(args: &[String]) -> ExitCode {
    let [endpoint, name, token] = args else {
        eprintln!("--put-secret takes ENDPOINT NAME TOKEN");
        return ExitCode::from(2);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let written = runtime.block_on(async {
        let config = moto::sdk_config_loader(endpoint).load().await;
        aws_sdk_secretsmanager::Client::new(&config)
            .create_secret()
            .name(name)
            .secret_string(secret_value(ACCOUNT, token))
            .send()
            .await
    });
    match written {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "CreateSecret on {endpoint} failed: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&error)
            );
            ExitCode::FAILURE
        }
    }
}

/// A secret's value for `account` and `token`.
fn secret_value(account: &str, token: &str) -> String {
    serde_json::json!({"account_sid": account, "auth_token": token}).to_string()
}

/// A directory removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A throw-away CA, a certificate for 127.0.0.1 signed by it, and a bundle of the system's roots
/// plus that CA, made with the `openssl` command.
fn make_certificates() -> Result<TempDir, String> {
    let dir = TempDir {
        path: std::env::temp_dir().join(format!("coldstart-tls-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir.path).map_err(|error| format!("temp dir: {error}"))?;
    let file = |name: &str| dir.path.join(name).display().to_string();
    std::fs::write(
        file("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|error| format!("leaf.ext: {error}"))?;
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let steps: [Vec<String>; 3] = [
        ["req", "-x509"]
            .iter()
            .chain(&ec)
            .map(|s| (*s).to_owned())
            .chain([
                "-keyout".into(),
                file("ca.key"),
                "-out".into(),
                file("ca.pem"),
            ])
            .chain(["-days", "2", "-subj", "/CN=coldstart-ca"].map(str::to_owned))
            .collect(),
        ["req"]
            .iter()
            .chain(&ec)
            .map(|s| (*s).to_owned())
            .chain([
                "-keyout".into(),
                file("leaf.key"),
                "-out".into(),
                file("leaf.csr"),
            ])
            .chain(["-subj", "/CN=127.0.0.1"].map(str::to_owned))
            .collect(),
        vec![
            "x509".into(),
            "-req".into(),
            "-in".into(),
            file("leaf.csr"),
            "-CA".into(),
            file("ca.pem"),
            "-CAkey".into(),
            file("ca.key"),
            "-set_serial".into(),
            "1".into(),
            "-days".into(),
            "2".into(),
            "-extfile".into(),
            file("leaf.ext"),
            "-out".into(),
            file("leaf.pem"),
        ],
    ];
    for step in steps {
        let output = std::process::Command::new("openssl")
            .args(&step)
            .stdin(Stdio::null())
            .output()
            .map_err(|error| format!("cannot run openssl ({error}); it makes the test CA"))?;
        if !output.status.success() {
            return Err(format!(
                "openssl {} failed: {}",
                step.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    // The system's roots, where Debian and Amazon Linux keep them, then the local CA.
    let system = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .iter()
    .find_map(|path| std::fs::read_to_string(path).ok())
    .unwrap_or_default();
    let ca = std::fs::read_to_string(file("ca.pem")).map_err(|error| format!("ca.pem: {error}"))?;
    std::fs::write(file("bundle.pem"), format!("{system}\n{ca}"))
        .map_err(|error| format!("bundle.pem: {error}"))?;
    Ok(dir)
}
