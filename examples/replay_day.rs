//! Writes a contact centre's day for `taskrouter sim replay`: a workspace document and a tasks
//! file of Poisson arrivals with exponential handle and patience times, from a seed.
//!
//! ```text
//! cargo run --example replay_day -- DIR [WORKERS] [TASKS] [DAYS] [SEED]
//! ```
//!
//! `WORKERS` agents (default 300), a fifth of them speaking Spanish, the others English; two
//! queues (Spanish, English) and a Workflow that waits 30 s for a Spanish speaker before
//! offering a Spanish task to everyone. `TASKS` tasks a day (default 80,000) over `DAYS` days
//! (default 1), a fifth in Spanish, handle time 292 s and patience 3 min on average: with the
//! defaults 270 erlangs are offered to 300 agents, 90 % occupancy before abandonment. Writes `DIR/workspace.json`, `DIR/tasks.csv` and
//! `DIR/timeout-60.json` (the same Workflow with 60 s on the first step).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use serde_json::json;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("usage: replay_day DIR [WORKERS] [TASKS] [DAYS] [SEED]");
        std::process::exit(2);
    };
    let number = |index: usize, default: u64| {
        args.get(index)
            .and_then(|text| text.parse().ok())
            .unwrap_or(default)
    };
    let workers = number(1, 300);
    let per_day = number(2, 80_000);
    let days = number(3, 1);
    let seed = number(4, 1);
    std::fs::create_dir_all(&dir)?;
    let spanish = "WQ00000000000000000000000000000001";
    let english = "WQ00000000000000000000000000000002";
    let workflow = |first_timeout: u64| {
        json!({"task_routing": {"filters": [
            {"filter_friendly_name": "Spanish", "expression": "language == 'es'", "targets": [
                {"queue": spanish, "timeout": first_timeout},
                {"queue": english}
            ]}
        ], "default_filter": {"queue": english}}})
    };
    let agents: Vec<_> = (1..=workers)
        .map(|n| {
            let languages = if n % 5 == 0 {
                json!(["es", "en"])
            } else {
                json!(["en"])
            };
            json!({"sid": format!("WK{n:032}"), "friendly_name": format!("agent-{n}"),
                   "activity": "Available", "attributes": {"languages": languages}})
        })
        .collect();
    let workspace = json!({
        "sid": "WS00000000000000000000000000000001",
        "friendly_name": "Contact centre",
        "activities": [
            {"sid": "WA00000000000000000000000000000001", "friendly_name": "Offline", "available": false},
            {"sid": "WA00000000000000000000000000000002", "friendly_name": "Available", "available": true}
        ],
        "workers": agents,
        "task_queues": [
            {"sid": spanish, "friendly_name": "Spanish", "target_workers": "languages HAS 'es'"},
            {"sid": english, "friendly_name": "English", "target_workers": "languages HAS 'en'"}
        ],
        "workflows": [{"sid": "WW00000000000000000000000000000001", "friendly_name": "Languages",
                       "configuration": workflow(30)}]
    });
    std::fs::write(
        dir.join("workspace.json"),
        serde_json::to_string_pretty(&workspace)?,
    )?;
    std::fs::write(
        dir.join("timeout-60.json"),
        serde_json::to_string_pretty(&workflow(60))?,
    )?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let exponential = |rng: &mut fastrand::Rng, mean: f64| -mean * (1.0 - rng.f64()).ln();
    #[allow(clippy::cast_precision_loss)]
    let gap = 86_400.0 / per_day as f64;
    #[allow(clippy::cast_precision_loss)]
    let end = 86_400.0 * days as f64;
    let file = std::fs::File::create(dir.join("tasks.csv"))?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(
        out,
        "arrival_seconds,attributes,handle_seconds,patience_seconds"
    )?;
    let mut t = 0.0;
    let mut line = String::new();
    loop {
        t += exponential(&mut rng, gap);
        if t >= end {
            break;
        }
        let language = if rng.u8(0..5) == 0 { "es" } else { "en" };
        line.clear();
        let _ = write!(
            line,
            "{t:.3},\"{{\"\"language\"\": \"\"{language}\"\"}}\",{:.3},{:.3}",
            exponential(&mut rng, 292.0),
            exponential(&mut rng, 180.0)
        );
        writeln!(out, "{line}")?;
    }
    out.flush()
}
