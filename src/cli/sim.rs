//! `sim serve` and `sim export`: TaskRouter on this machine ([`crate::sim`]).
//!
//! `serve` runs until the process is stopped; it exits early, with 1, when it cannot start:
//! credentials missing, a workspace document with problems (every one printed, located), the
//! address taken. `export` prints (or writes) the running simulator's workspace document.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use jiff::Timestamp;

use crate::rest::config::{ACCOUNT_SID, API_URL, AUTH_TOKEN, secret};
use crate::rest::transport::Request;
use crate::sid::{AccountSid, WorkspaceSid};
use crate::sim::document::WorkspaceDocument;
use crate::sim::server::{ClockMode, Simulator};
use crate::sim::{Engine, rest};

use super::{CliError, FAILED, OK, Output, json_text, parse_now};

/// The port `serve` listens on unless told otherwise (Prism's, so the README's
/// `TASKROUTER_API_URL=http://127.0.0.1:4010` works with either).
pub const DEFAULT_PORT: u16 = 4010;

/// A `taskrouter sim` subcommand.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum SimCommand {
    /// Run a local TaskRouter: its REST API v1, assignment and event callbacks signed with
    /// TWILIO_AUTH_TOKEN, and a clock (docs/simulator.md). Log in with TWILIO_ACCOUNT_SID and
    /// TWILIO_AUTH_TOKEN; point the CLI at it with TASKROUTER_API_URL=http://127.0.0.1:PORT.
    Serve {
        /// The port to listen on.
        #[arg(long, default_value_t = DEFAULT_PORT)]
        port: u16,
        /// `real`: timers fire with the wall clock; `manual`: the clock moves only through
        /// POST /sim/clock/advance?seconds=N.
        #[arg(long, value_enum, default_value_t = Clock::Real)]
        clock: Clock,
        /// A workspace document to start from (activities, workers, queues, Workflows),
        /// e.g. workflows/workspace.json; repeatable.
        #[arg(long, value_name = "FILE")]
        workspace: Vec<PathBuf>,
        /// The address to listen on instead of 127.0.0.1. Anything but a loopback address
        /// exposes the simulator to the network.
        #[arg(long, value_name = "ADDR")]
        listen: Option<IpAddr>,
        /// The instant a manual clock starts at, e.g. 2026-12-01T09:00:00Z [default: now].
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        start: Option<Timestamp>,
        /// The seed of the SIDs the simulator makes: the same seed and the same requests give
        /// the same SIDs.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Print the running simulator's workspace as a workspace document (the format `serve
    /// --workspace` reads).
    Export {
        /// The simulator [default: $TASKROUTER_API_URL, else http://127.0.0.1:4010].
        #[arg(long)]
        url: Option<String>,
        /// The workspace (WS…), when the simulator holds several.
        #[arg(long, value_name = "WS…")]
        workspace: Option<WorkspaceSid>,
        /// Write the document to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Replay a day of tasks through a Workflow on a virtual clock, in seconds, and report
    /// what a contact centre measures: per queue offered, answered, abandoned, service level
    /// and waits; per worker occupancy (docs/replay.md).
    Replay(super::replay::ReplayArgs),
}

/// `--clock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Clock {
    /// The wall clock.
    Real,
    /// Moved by POST /sim/clock/advance.
    Manual,
}

pub(crate) fn run(
    command: SimCommand,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Output, CliError> {
    match command {
        SimCommand::Serve {
            port,
            clock,
            workspace,
            listen,
            start,
            seed,
        } => Ok(serve(
            &Settings {
                port,
                clock: match clock {
                    Clock::Real => ClockMode::Real,
                    Clock::Manual => ClockMode::Manual,
                },
                workspaces: workspace,
                listen,
                start,
                seed,
            },
            env,
        )),
        SimCommand::Export {
            url,
            workspace,
            output,
        } => export(url.as_deref(), workspace.as_ref(), output.as_deref(), env),
        SimCommand::Replay(args) => super::replay::run(&args),
    }
}

/// What `serve` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    port: u16,
    clock: ClockMode,
    workspaces: Vec<PathBuf>,
    listen: Option<IpAddr>,
    start: Option<Timestamp>,
    seed: u64,
}

fn failed(message: String) -> Output {
    Output {
        stdout: String::new(),
        stderr: format!("{message}\n"),
        code: FAILED,
    }
}

/// Builds the simulator, then serves until the process ends; returns only when it cannot start.
fn serve(settings: &Settings, env: &dyn Fn(&str) -> Option<String>) -> Output {
    let get = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let Some(account) = get(ACCOUNT_SID) else {
        return failed(format!(
            "error: {ACCOUNT_SID} is not set: the simulator's REST API logs in with {ACCOUNT_SID} and {AUTH_TOKEN}, as Twilio's does; set both (any AC… SID and any token will do locally)"
        ));
    };
    let account = match AccountSid::parse(account.trim()) {
        Ok(account) => account,
        Err(error) => return failed(format!("error: {ACCOUNT_SID}: {error}")),
    };
    let Some(token) = get(AUTH_TOKEN) else {
        return failed(format!(
            "error: {AUTH_TOKEN} is not set: the simulator logs REST requests in with it and signs its callbacks with it, as Twilio does; set it to the token the function verifies with (local-dev-token under make run)"
        ));
    };
    if settings.clock == ClockMode::Real && settings.start.is_some() {
        return failed(
            "error: --start sets where a manual clock starts: add --clock manual, or leave --start out"
                .to_owned(),
        );
    }
    let start = settings.start.unwrap_or_else(Timestamp::now);
    let mut engine = Engine::new(account, start, settings.seed);
    for path in &settings.workspaces {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                return failed(format!("error: cannot read `{}`: {error}", path.display()));
            }
        };
        let document = match WorkspaceDocument::read(&path.display().to_string(), &text) {
            Ok(document) => document,
            Err(problems) => return failed(problems.to_string()),
        };
        if let Err(error) = document.load(&mut engine) {
            return failed(format!("error: {}: {error}", path.display()));
        }
    }
    let summary: Vec<String> = engine
        .spaces()
        .iter()
        .map(|space| {
            format!(
                "{} ({}): {} workers, {} queues, {} workflows",
                space.sid,
                space.friendly_name,
                space.workers.len(),
                space.queues.len(),
                space.workflows.len()
            )
        })
        .collect();
    let address = SocketAddr::new(
        settings.listen.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        settings.port,
    );
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return failed(format!("error: cannot start the runtime: {error}")),
    };
    crate::telemetry::LogSettings::from_env().install();
    let mode = settings.clock;
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => listener,
            Err(error) => {
                return failed(format!(
                    "error: cannot listen on {address}: {error}; pick another --port"
                ));
            }
        };
        let bound = listener.local_addr().unwrap_or(address);
        if !bound.ip().is_loopback() {
            tracing::warn!(
                "listening on {bound}, not on a loopback address: anyone who can reach this machine and knows the credentials can use the simulator"
            );
        }
        let sim = Simulator::new(engine, mode, secret(token));
        sim.start();
        tracing::info!(
            "TaskRouter simulator on http://{bound} (clock {}, now {}): set TASKROUTER_API_URL=http://{bound}",
            mode.as_str(),
            crate::sim::model::date(sim.now())
        );
        for line in &summary {
            tracing::info!("workspace {line}");
        }
        rest::serve(listener, sim).await;
        Output {
            code: OK,
            ..Output::default()
        }
    })
}

/// `sim export`: GET /sim/export with the CLI's credentials.
fn export(
    url: Option<&str>,
    workspace: Option<&WorkspaceSid>,
    output: Option<&std::path::Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Output, CliError> {
    let default = format!("http://127.0.0.1:{DEFAULT_PORT}");
    let base = url
        .map(str::to_owned)
        .or_else(|| env(API_URL).filter(|value| !value.trim().is_empty()))
        .unwrap_or(default);
    let lookup = |name: &str| {
        if name == API_URL {
            Some(base.clone())
        } else {
            env(name)
        }
    };
    let (client, _) = super::rest_client(&lookup)?;
    let path = match workspace {
        Some(ws) => format!("/sim/export?WorkspaceSid={ws}"),
        None => "/sim/export".to_owned(),
    };
    let response = client.transport().send(&Request::get(path))?;
    let document: serde_json::Value = match serde_json::from_str(&response.body) {
        Ok(document) => document,
        Err(error) => {
            return Ok(failed(format!(
                "error: {base}/sim/export answered something other than JSON ({error}): is it a TaskRouter simulator?"
            )));
        }
    };
    let text = json_text(&document);
    match output {
        Some(path) => match std::fs::write(path, &text) {
            Ok(()) => Ok(Output {
                stdout: String::new(),
                stderr: format!("wrote {}\n", path.display()),
                code: OK,
            }),
            Err(error) => Ok(failed(format!(
                "error: cannot write `{}`: {error}",
                path.display()
            ))),
        },
        None => Ok(Output {
            stdout: text,
            stderr: String::new(),
            code: OK,
        }),
    }
}
