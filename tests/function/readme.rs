//! The README's first command, `make run`, serves the function with working local defaults: a
//! signed callback from `taskrouter send` and an API Gateway fixture through `cargo lambda invoke`
//! both get their answer, with no AWS account.
//!
//! This runs the real `cargo lambda watch` (installed by `make test` / `make tools`); without it
//! the test fails and says how to install it.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::loopback::free_port;
use crate::support::repo;

/// `make run` and everything it starts (cargo lambda watch, cargo run, the function), stopped as
/// a process group when the test ends, pass or fail.
struct RunningMake {
    child: Child,
    log: std::path::PathBuf,
}

impl RunningMake {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for RunningMake {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}

#[test]
fn make_run_answers_signed_callbacks_and_api_gateway_fixtures_with_local_defaults() {
    assert!(
        Command::new("cargo")
            .args(["lambda", "--version"])
            .output()
            .is_ok_and(|o| o.status.success()),
        "cargo-lambda is needed for this test: pip install cargo-lambda (or make tools)"
    );
    let port = free_port();
    let log = std::env::temp_dir().join(format!("taskrouter-make-run-{port}.log"));
    let output = std::fs::File::create(&log).expect("a log file");
    let child = Command::new("make")
        .args(["run", &format!("PORT={port}")])
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(output.try_clone().expect("log handle"))
        .stderr(output)
        .process_group(0)
        .spawn()
        .expect("make runs");
    let running = RunningMake { child, log };

    // The first request waits for `cargo run` inside the watcher, which may have to build.
    let url = format!("http://127.0.0.1:{port}/taskrouter/assignment_callback");
    let started = Instant::now();
    let sent = loop {
        let sent = Command::new(env!("CARGO_BIN_EXE_taskrouter"))
            .args(["send", "--url", &url, "--token", "local-dev-token"])
            .output()
            .expect("taskrouter send runs");
        if sent.status.success() || started.elapsed() > Duration::from_secs(600) {
            break sent;
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    assert!(
        sent.status.success(),
        "taskrouter send failed: {}\n--- make run ---\n{}",
        String::from_utf8_lossy(&sent.stderr),
        running.log()
    );
    assert_eq!(
        String::from_utf8_lossy(&sent.stdout).trim(),
        "{}",
        "the built-in rules defer"
    );
    assert!(
        String::from_utf8_lossy(&sent.stderr).contains("200"),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );

    let invoked = Command::new("cargo")
        .args([
            "lambda",
            "invoke",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
            "--data-file",
            "events/assignment-http-api.json",
            "--output-format",
            "json",
        ])
        .current_dir(repo())
        .output()
        .expect("cargo lambda invoke runs");
    let answer: serde_json::Value = serde_json::from_slice(&invoked.stdout).unwrap_or_else(|e| {
        panic!(
            "cargo lambda invoke printed no JSON ({e}): {}\n--- make run ---\n{}",
            String::from_utf8_lossy(&invoked.stderr),
            running.log()
        )
    });
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(answer["body"], "{}", "{answer}");
}
