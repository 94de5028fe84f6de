//! `make tutorial`, the README's tutorial on one machine: the real make target starts the
//! simulator and `make run`'s function (real `cargo lambda watch`, real HTTP), plays both tasks
//! and stops everything it started.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use crate::support::loopback::free_port;
use crate::support::repo;

#[test]
fn make_tutorial_assigns_a_deferred_task_over_rest_and_an_instructed_one_then_stops_its_processes()
{
    let (port, sim_port) = (free_port(), free_port());
    let output = Command::new("make")
        .args([
            "tutorial",
            &format!("PORT={port}"),
            &format!("SIM_PORT={sim_port}"),
        ])
        .current_dir(repo())
        .env_remove("TWILIO_API_KEY")
        .env_remove("TWILIO_API_SECRET")
        .stdin(Stdio::null())
        // Its own group, so a killed test does not leave make's children behind it.
        .process_group(0)
        .output()
        .expect("make runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "make tutorial failed:\n{stdout}\n{stderr}"
    );

    // Each stage printed, in order: deferred then accepted with the CLI, then accepted by the
    // function's rule; the SIDs are the simulator's.
    let assigned: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("==> task "))
        .filter_map(|rest| rest.strip_suffix(": assigned"))
        .collect();
    assert_eq!(assigned.len(), 2, "two tasks assigned:\n{stdout}");
    assert!(
        assigned
            .iter()
            .all(|sid| sid.starts_with("WT") && sid.len() == 34),
        "{assigned:?}"
    );
    let order: Vec<usize> = [
        "decision=\"defer\" rule=\"default\"",
        "==> taskrouter reservation accept",
        &format!("==> task {}: assigned", assigned[0]),
        "decision=\"accept\" rule=\"vip\"",
        &format!("==> task {}: assigned", assigned[1]),
        "==> done: both tasks assigned",
    ]
    .iter()
    .map(|text| {
        stdout
            .find(text)
            .unwrap_or_else(|| panic!("`{text}` not printed:\n{stdout}"))
    })
    .collect();
    assert!(order.is_sorted(), "stages out of order:\n{stdout}");

    // Nothing it started still listens, and no process is left with this run's settings (the
    // function itself listens on nothing: it polls cargo lambda's Runtime API).
    for port in [port, sim_port] {
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still answers after make tutorial ended"
        );
    }
    let marker = format!("PUBLIC_BASE_URL=http://127.0.0.1:{port}");
    assert_eq!(
        processes_with(&marker),
        Vec::<String>::new(),
        "processes left behind"
    );
}

/// The command lines of the running processes whose environment holds `entry` (`NAME=value`).
fn processes_with(entry: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter(|process| {
            std::fs::read(process.path().join("environ")).is_ok_and(|environ| {
                environ
                    .split(|byte| *byte == 0)
                    .any(|variable| variable == entry.as_bytes())
            })
        })
        .map(|process| {
            let cmdline = std::fs::read(process.path().join("cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmdline).replace('\0', " ")
        })
        .filter(|cmdline| !cmdline.is_empty())
        .collect()
}
