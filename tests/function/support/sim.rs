//! The compiled `taskrouter sim serve`, as a user runs it: a process on a free loopback port,
//! logged in as [`ACCOUNT`] with [`SIM_TOKEN`], with a manual clock starting at [`START`] and a
//! workspace document; stopped (with its process group) when dropped. [`Sim`] speaks to it over
//! HTTP with the same credentials, as any REST client would.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use super::TempFile;
use super::cli::ACCOUNT;
use super::loopback::free_port;

/// The auth token the simulator logs requests in with and signs its callbacks with.
pub(crate) const SIM_TOKEN: &str = "local-dev-token";
/// Where the manual clock starts: a Wednesday noon, UTC.
pub(crate) const START: &str = "2026-12-02T12:00:00Z";
/// The workspace of the documents the tests write.
pub(crate) const WS: &str = "WS00000000000000000000000000000001";

/// A running simulator.
pub(crate) struct Sim {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    log: PathBuf,
    _document: TempFile,
}

/// An answer: status and JSON body (`Null` when the body is not JSON).
pub(crate) type Answer = (u16, Value);

/// An answer with its headers (names lower-cased).
pub(crate) type Full = (u16, Vec<(String, String)>, Value);

impl Sim {
    /// Starts `taskrouter sim serve --clock manual --start START --workspace <document>` plus
    /// `args`, and waits until `GET /sim/clock` answers.
    pub(crate) fn start(document: &Value, args: &[&str]) -> Self {
        Self::start_at(document, START, args)
    }

    /// As [`Sim::start`], with the manual clock starting at `start` (RFC 3339).
    pub(crate) fn start_at(document: &Value, start: &str, args: &[&str]) -> Self {
        let file = TempFile::new("workspace.json", &document.to_string());
        let port = free_port();
        let log = std::env::temp_dir().join(format!("taskrouter-sim-{port}.log"));
        let output = std::fs::File::create(&log).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_taskrouter"))
            .args(["sim", "serve", "--clock", "manual", "--start", start])
            .args(["--port", &port.to_string(), "--workspace", file.path()])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TWILIO_ACCOUNT_SID", ACCOUNT)
            .env("TWILIO_AUTH_TOKEN", SIM_TOKEN)
            .env("RUST_LOG", "info")
            // Plain log lines (tracing-subscriber honours https://no-color.org).
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("log handle"))
            .stderr(output)
            .process_group(0)
            .spawn()
            .expect("the taskrouter binary starts");
        let sim = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _document: file,
        };
        let started = Instant::now();
        loop {
            if let Some((200, _, _)) = try_call(
                &sim.url,
                "GET",
                "/sim/clock",
                &[],
                Some((ACCOUNT, SIM_TOKEN)),
            ) {
                return sim;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the simulator did not answer within 30 s:\n{}",
                sim.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the simulator logged so far (its narration).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` with the credentials.
    pub(crate) fn get(&self, path: &str) -> Answer {
        self.call("GET", path, &[], Some((ACCOUNT, SIM_TOKEN)))
    }

    /// `POST path` with a form body and the credentials.
    pub(crate) fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.call("POST", path, form, Some((ACCOUNT, SIM_TOKEN)))
    }

    /// A request with any method, form and credentials (`None`: no `Authorization`).
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        form: &[(&str, &str)],
        login: Option<(&str, &str)>,
    ) -> Answer {
        call(&self.url, method, path, form, login)
    }

    /// `POST /sim/clock/advance?seconds=N`: the simulation has settled when it answers.
    pub(crate) fn advance(&self, seconds: u64) -> Value {
        let (status, body) = self.post(&format!("/sim/clock/advance?seconds={seconds}"), &[]);
        assert_eq!(status, 200, "advance: {body}\n{}", self.log());
        body
    }

    /// `/v1/Workspaces/WS…` + `tail`.
    pub(crate) fn ws(tail: &str) -> String {
        format!("/v1/Workspaces/{WS}{tail}")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One HTTP request to `base` + `path`: form-encoded when `form` is not empty, Basic auth with
/// `login`; the status and the JSON body.
pub(crate) fn call(
    base: &str,
    method: &str,
    path: &str,
    form: &[(&str, &str)],
    login: Option<(&str, &str)>,
) -> Answer {
    let (status, _, body) = call_with_headers(base, method, path, form, login);
    (status, body)
}

/// As [`call`], with the answer's headers (names lower-cased).
pub(crate) fn call_with_headers(
    base: &str,
    method: &str,
    path: &str,
    form: &[(&str, &str)],
    login: Option<(&str, &str)>,
) -> Full {
    try_call(base, method, path, form, login)
        .unwrap_or_else(|| panic!("{method} {base}{path}: no answer"))
}

/// As [`call_with_headers`]; `None` when nothing answered (not started yet, or gone).
pub(crate) fn try_call(
    base: &str,
    method: &str,
    path: &str,
    form: &[(&str, &str)],
    login: Option<(&str, &str)>,
) -> Option<Full> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let url = format!("{base}{path}");
    let authorization = login.map(|(user, password)| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    });
    let result = match method {
        "GET" | "DELETE" => {
            let mut request = if method == "GET" {
                agent.get(&url)
            } else {
                agent.delete(&url)
            };
            if let Some(authorization) = &authorization {
                request = request.header("Authorization", authorization);
            }
            request.call()
        }
        _ => {
            let mut request = agent.post(&url);
            if let Some(authorization) = &authorization {
                request = request.header("Authorization", authorization);
            }
            if form.is_empty() {
                request.send_empty()
            } else {
                request.send_form(form.iter().copied())
            }
        }
    };
    let mut response = result.ok()?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Some((status, headers, body))
}
