//! Shared test support. Here: the `events/` fixtures, the compiled function on an emulated
//! Runtime API ([`Function`]), its HTTP answers, temp files. In the modules:
//!
//! | module | holds |
//! |---|---|
//! | `runtime_api` | the Lambda Runtime API emulator |
//! | `process` | the function binary started as Lambda starts it, its output collected |
//! | `loopback` | free ports, and the accept loop of the in-process servers |
//! | `moto` | a real `moto_server` (SSM, Secrets Manager, CloudFormation), recording its requests |
//! | `ssm` | the SSM stand-in that throttles as Parameter Store does |
//! | `secretsmanager` | the Secrets Manager stand-in that throttles as Secrets Manager does |
//! | `twilio` | callbacks signed by Twilio's Python helper |
//! | `cli` | the compiled `taskrouter` as a user runs it, and the REST tests' SIDs |
//! | `standin` | a scripted stand-in for Twilio's REST API, and a throwaway TLS authority |
//! | `prism` | Stoplight Prism serving Twilio's OpenAPI description, as a mock or as a validating proxy |
//! | `sim` | the compiled `taskrouter sim serve` on a free port, and HTTP requests to it |
//! | `gateway` | an HTTP front turning requests into API Gateway events for the compiled function |
//!
//! `runtime_api`, `process`, `loopback`, `moto`, `ssm` and `secretsmanager` are also compiled into
//! the cold-start and storm benchmarks (`#[path]` modules), so they use nothing of the rest but
//! each other.

pub(crate) mod cli;
pub(crate) mod gateway;
pub(crate) mod loopback;
pub(crate) mod moto;
pub(crate) mod prism;
pub(crate) mod process;
pub(crate) mod runtime_api;
pub(crate) mod secretsmanager;
pub(crate) mod sim;
pub(crate) mod ssm;
pub(crate) mod standin;
pub(crate) mod twilio;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use tokio::process::Child;

use runtime_api::{Outcome, RuntimeApi};

/// The documented development token the fixtures are signed with.
pub(crate) const DEV_TOKEN: &str = "local-dev-token";

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The JSON lines of a process's output (the function's log lines; other lines skipped).
pub(crate) fn json_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .collect()
}

/// Reads `events/<name>.json`.
pub(crate) fn fixture(name: &str) -> Value {
    let path = repo().join("events").join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// A file in the temp directory, unique to this process and this call, removed on drop.
pub(crate) struct TempFile(PathBuf);

impl TempFile {
    /// Writes `contents` to a new file whose name ends with `name`.
    pub(crate) fn new(name: &str, contents: &str) -> Self {
        static CREATED: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "taskrouter-test-{}-{}-{name}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, contents).expect("the temp directory is writable");
        Self(path)
    }

    /// Its path, as an argument.
    pub(crate) fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An HTTP answer as the function returned it to API Gateway.
#[derive(Debug, Clone)]
pub(crate) struct HttpAnswer {
    /// `statusCode`.
    pub(crate) status: u16,
    /// `headers`, lower-cased names.
    pub(crate) headers: Vec<(String, String)>,
    /// `body`, decoded when base64.
    pub(crate) body: String,
}

impl HttpAnswer {
    /// Reads an API Gateway proxy response object.
    pub(crate) fn from_lambda(response: &Value) -> Self {
        let status = response["statusCode"].as_u64().expect("statusCode") as u16;
        let mut headers = Vec::new();
        for field in ["headers", "multiValueHeaders"] {
            if let Some(map) = response[field].as_object() {
                for (name, value) in map {
                    let values = match value {
                        Value::Array(values) => values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                        Value::String(value) => vec![value.clone()],
                        _ => Vec::new(),
                    };
                    for value in values {
                        headers.push((name.to_ascii_lowercase(), value));
                    }
                }
            }
        }
        let raw = response["body"].as_str().unwrap_or("");
        let body = if response["isBase64Encoded"].as_bool() == Some(true) {
            use base64::Engine;
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .expect("base64 body"),
            )
            .expect("utf-8 body")
        } else {
            raw.to_owned()
        };
        Self {
            status,
            headers,
            body,
        }
    }

    /// The first value of a header.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

/// The compiled function binary, serving an emulated Runtime API.
pub(crate) struct Function {
    /// The emulated Runtime API the function polls.
    pub(crate) api: RuntimeApi,
    child: Child,
    output: Arc<Mutex<process::Output>>,
}

impl Function {
    /// Starts the binary with the development token plus `env` (later entries win).
    pub(crate) async fn start(env: &[(&str, &str)]) -> Self {
        let mut vars = vec![("TWILIO_AUTH_TOKEN", DEV_TOKEN)];
        vars.extend_from_slice(env);
        Self::start_with(&vars).await
    }

    /// Starts the binary with exactly `env` (besides the Lambda runtime variables).
    pub(crate) async fn start_with(env: &[(&str, &str)]) -> Self {
        let api = RuntimeApi::start().await;
        let mut command = process::lambda_command(
            env!("CARGO_BIN_EXE_taskrouter-lambda"),
            &api,
            "taskrouter-test",
            256,
        );
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("spawn the function binary");
        let output = process::collect_output(&mut child, usize::MAX);
        Self { api, child, output }
    }

    /// Sends one event through the Runtime API.
    pub(crate) async fn invoke(&self, event: Value) -> Outcome {
        self.api.invoke(event).await
    }

    /// Sends one API Gateway event and reads the HTTP answer (a runtime error fails the test).
    pub(crate) async fn http(&self, event: Value) -> HttpAnswer {
        match self.invoke(event).await {
            Outcome::Response(response) => HttpAnswer::from_lambda(&response),
            Outcome::Error(error) => panic!(
                "the invocation failed: {error}\n--- output ---\n{}",
                self.output()
            ),
        }
    }

    /// Sends `event` until the answer is no longer `503`, at most 40 times 250 ms apart, and
    /// returns the last answer: after a failed read a token store reads again at most once a
    /// second, so a function recovering from an outage answers within a few tries.
    pub(crate) async fn http_once_recovered(&self, event: Value) -> HttpAnswer {
        let mut answer = self.http(event.clone()).await;
        for _ in 0..40 {
            if answer.status != 503 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            answer = self.http(event.clone()).await;
        }
        answer
    }

    /// The process's peak resident memory so far, in KiB (`VmHWM` in `/proc/<pid>/status`).
    pub(crate) fn peak_rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("the function is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmHWM in /proc/{pid}/status:\n{status}"))
    }

    /// Everything the function printed so far (stdout then stderr lines, interleaved by arrival).
    pub(crate) fn output(&self) -> String {
        self.output.lock().expect("lock").text.clone()
    }

    /// Waits for the process to exit (it should, on a misconfiguration) and returns its code.
    pub(crate) async fn exit_code(&mut self) -> Option<i32> {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the function exited within 30 s")
            .expect("wait for the function");
        // Let the readers drain the pipes.
        tokio::time::sleep(Duration::from_millis(100)).await;
        status.code()
    }
}
