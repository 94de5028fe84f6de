//! Stoplight Prism serving Twilio's OpenAPI description of TaskRouter on a free loopback port,
//! one process per test (nextest runs each test in its own process), stopped when dropped.
//!
//! Both come from the npm registry, pinned by `tests/prism/package-lock.json` and installed by
//! `make prism` (part of `make test` and `make tools`): `@stoplight/prism-cli@5.14.2` and
//! `@twilio/cli-core@9.0.0`, which ships the description (docs/taskrouter.md §7).

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::repo;

/// The description's sha256, checked before any test trusts it.
pub(crate) const SPEC_SHA256: &str =
    "f431d2bc66ba14373a452e0e6d3795cb1576cf6c2e15352b5330b22a4d34d0bf";
/// Its size (docs/taskrouter.md §7: 569,558 bytes, identical to twilio-oai's).
pub(crate) const SPEC_BYTES: usize = 569_558;
/// The Accounts API's description (the secondary auth token's three operations) from the same
/// package, pinned the same way.
pub(crate) const ACCOUNTS_SHA256: &str =
    "7f489a631e1b46a163a255e56ad02c6cdc68f607de0cb4bf5e0c8916ee700387";
/// Its size.
pub(crate) const ACCOUNTS_BYTES: usize = 89_195;
/// How long Prism may take to load the description and listen (it parses 61 operations).
const STARTUP: Duration = Duration::from_secs(120);

fn node_modules() -> PathBuf {
    repo().join("tests/prism/node_modules")
}

/// The description as shipped, after its checksum is verified.
pub(crate) fn spec_bytes() -> Vec<u8> {
    pinned("twilio_taskrouter_v1.json", SPEC_SHA256, SPEC_BYTES)
}

/// The Accounts API's description as JSON, after its checksum is verified.
pub(crate) fn accounts_spec() -> Value {
    serde_json::from_slice(&pinned(
        "twilio_accounts_v1.json",
        ACCOUNTS_SHA256,
        ACCOUNTS_BYTES,
    ))
    .expect("the description is JSON")
}

/// A description file of `@twilio/cli-core`, checked against its pinned digest and size.
fn pinned(file: &str, sha256: &str, size: usize) -> Vec<u8> {
    let path = node_modules()
        .join("@twilio/cli-core/src/services/twilio-api")
        .join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "{} is missing ({error}): install the test tools with `make prism` (npm ci in tests/prism)",
            path.display()
        )
    });
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(
        (digest.as_str(), bytes.len()),
        (sha256, size),
        "{} is not the pinned description of @twilio/cli-core@9.0.0",
        path.display()
    );
    bytes
}

/// The description as JSON.
pub(crate) fn spec() -> Value {
    serde_json::from_slice(&spec_bytes()).expect("the description is JSON")
}

/// The description Prism serves: Twilio's, with one change. Prism's form parser keeps one value
/// per key and then validates that single string against `type: array`, so it refuses every
/// array parameter, even a correct one (docs/taskrouter.md §7, measured with 5.14.2). In this copy
/// each array property of a form body accepts one of its items instead: the value Prism keeps is
/// still checked against the item's schema (an enum, a type). That arrays go out as repeated keys
/// is checked by `rest_prism::every_form_key_the_client_sends_exists_in_its_operations_schema`.
pub(crate) fn patched_spec() -> Value {
    let mut spec = spec();
    if let Some(paths) = spec["paths"].as_object_mut() {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            // Besides operations, a path item holds `parameters`, `servers` and descriptions.
            for operation in item
                .values_mut()
                .filter(|value| value.get("requestBody").is_some())
            {
                let Some(properties) = operation
                    .pointer_mut(
                        "/requestBody/content/application~1x-www-form-urlencoded/schema/properties",
                    )
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                for property in properties.values_mut() {
                    if property["type"] == "array" {
                        *property = property["items"].clone();
                    }
                }
            }
        }
    }
    spec
}

/// A running Prism.
pub(crate) struct Prism {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    log: PathBuf,
    spec: PathBuf,
}

impl Prism {
    /// Writes the patched description to a temp file and serves it; waits until Prism answers.
    pub(crate) fn start() -> Self {
        Self::launch(&patched_spec(), "mock", &[], |answer| {
            answer.starts_with("HTTP/1.1 200")
        })
    }

    /// Prism as a validating proxy in front of `upstream` for the Accounts API's description
    /// (it has no arrays, so nothing to patch).
    pub(crate) fn accounts_proxy(upstream: &str) -> Self {
        Self::launch(
            &accounts_spec(),
            "proxy",
            &[upstream, "--errors"],
            |answer| answer.starts_with("HTTP/1.1 "),
        )
    }

    /// Prism mocking the Accounts API's description.
    pub(crate) fn accounts_mock() -> Self {
        Self::launch(&accounts_spec(), "mock", &[], |answer| {
            answer.starts_with("HTTP/1.1 ")
        })
    }

    /// Prism as a validating proxy in front of `upstream` (`http://127.0.0.1:PORT`): it
    /// forwards each request and, with `--errors`, answers `500` with its `sl-violations` header
    /// and a problem+json body listing them when the upstream's answer does not validate against
    /// the description (a `4xx` the description does not list passes with a `Warning`).
    pub(crate) fn proxy(upstream: &str) -> Self {
        // Any answer proves Prism listens: the upstream decides what it is.
        Self::launch(
            &patched_spec(),
            "proxy",
            &[upstream, "--errors"],
            |answer| answer.starts_with("HTTP/1.1 "),
        )
    }

    /// `prism MODE -h 127.0.0.1 -p PORT SPEC ARGS…` serving `description`, once it answers the probe as `ready` says.
    fn launch(description: &Value, mode: &str, args: &[&str], ready: fn(&str) -> bool) -> Self {
        let port = super::loopback::free_port();
        let spec = std::env::temp_dir().join(format!("taskrouter-prism-{port}.json"));
        std::fs::write(&spec, description.to_string()).expect("the temp dir is writable");
        let log = std::env::temp_dir().join(format!("taskrouter-prism-{port}.log"));
        let output = std::fs::File::create(&log).expect("a log file");
        let binary = node_modules().join(".bin/prism");
        let child = Command::new(&binary)
            .args([mode, "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(&spec)
            .args(args)
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("log handle"))
            .stderr(output)
            // Its own process group, so dropping it stops node and anything it started.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {} ({error}): install the test tools with `make prism`",
                    binary.display()
                )
            });
        let mut prism = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            spec,
        };
        prism.wait_until_ready(port, ready);
        prism
    }

    fn wait_until_ready(&mut self, port: u16, ready: fn(&str) -> bool) {
        use std::io::{Read, Write};
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Prism exited ({status}) before listening:\n{}", self.log());
            }
            let probe = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
                // Basic AC…:token, as any client sends it.
                stream.write_all(
                    b"GET /v1/Workspaces/WS00000000000000000000000000000000 HTTP/1.1\r\n\
                      Host: 127.0.0.1\r\nAuthorization: Basic QUM6dG9rZW4=\r\nConnection: close\r\n\r\n",
                )?;
                let mut answer = String::new();
                stream.read_to_string(&mut answer)?;
                Ok(answer)
            });
            if probe.is_ok_and(|answer| ready(&answer)) {
                return;
            }
            assert!(
                started.elapsed() < STARTUP,
                "Prism did not answer on port {port} within {STARTUP:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// What Prism printed (its request log), for failure messages.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.spec);
        let _ = std::fs::remove_file(&self.log);
    }
}
