//! `taskrouter sim replay` through the compiled CLI: the JSON's field names, determinism, the
//! table, located errors, and agreement with queueing theory (docs/taskrouter.md §13): the
//! exact FIFO recursion of the same trace, Erlang C and Erlang A. Traffic is generated here
//! from seeds; the closed forms are computed here, independently of the replay.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::support::TempFile;
use crate::support::cli::{taskrouter, text};

const QUEUE: &str = "WQ00000000000000000000000000000001";

/// A workspace of `workers` identical agents, one FIFO queue, every task routed to it.
fn workspace(workers: usize) -> String {
    let agents: Vec<Value> = (1..=workers)
        .map(|n| {
            json!({"sid": format!("WK{n:032}"), "friendly_name": format!("agent-{n}"),
                   "activity": "Available", "attributes": {"skills": ["support"]}})
        })
        .collect();
    json!({
        "sid": "WS00000000000000000000000000000001",
        "friendly_name": "Erlang",
        "activities": [
            {"sid": "WA00000000000000000000000000000001", "friendly_name": "Offline", "available": false},
            {"sid": "WA00000000000000000000000000000002", "friendly_name": "Available", "available": true}
        ],
        "workers": agents,
        "task_queues": [{"sid": QUEUE, "friendly_name": "Support", "target_workers": "skills HAS 'support'"}],
        "workflows": [{"sid": "WW00000000000000000000000000000001", "friendly_name": "Support",
                       "configuration": {"task_routing": {"default_filter": {"queue": QUEUE}}}}]
    })
    .to_string()
}

/// One generated task, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Task {
    arrival: u64,
    handle: u64,
    patience: Option<u64>,
}

/// Poisson arrivals at `rate` per second, exponential handle times of mean `handle` seconds
/// and, when given, exponential patience of mean `patience` seconds; times to the millisecond.
fn traffic(seed: u64, count: usize, rate: f64, handle: f64, patience: Option<f64>) -> Vec<Task> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut exponential = |mean: f64| -> u64 {
        let value = -mean * (1.0 - rng.f64()).ln() * 1000.0;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ms = value.round() as u64;
        ms
    };
    let mut now = 0;
    (0..count)
        .map(|_| {
            now += exponential(1.0 / rate);
            Task {
                arrival: now,
                handle: exponential(handle),
                patience: patience.map(&mut exponential),
            }
        })
        .collect()
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

fn csv(tasks: &[Task]) -> String {
    let mut out = String::from("arrival_seconds,attributes,handle_seconds,patience_seconds\n");
    for task in tasks {
        let _ = writeln!(
            out,
            "{},{{}},{},{}",
            seconds(task.arrival),
            seconds(task.handle),
            task.patience.map(seconds).unwrap_or_default()
        );
    }
    out
}

/// `sim replay --json` of `tasks` on `workers` agents, with `extra` arguments.
fn replay_json(workers: usize, tasks: &[Task], extra: &[&str]) -> Value {
    let workspace = TempFile::new("workspace.json", &workspace(workers));
    let tasks = TempFile::new("tasks.csv", &csv(tasks));
    let output = taskrouter()
        .args(["sim", "replay", "--workspace", workspace.path()])
        .args(["--tasks", tasks.path(), "--json"])
        .args(extra)
        .output()
        .expect("taskrouter runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    serde_json::from_str(&text(&output.stdout)).expect("JSON")
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("a number: {value}"))
}

#[test]
fn the_json_has_the_documented_fields_and_the_same_input_gives_the_same_figures() {
    let tasks = traffic(7, 2_000, 0.08, 100.0, Some(120.0));
    let first = replay_json(10, &tasks, &[]);
    let queue = &first["queues"][0];
    for field in [
        "friendly_name",
        "sid",
        "offered",
        "answered",
        "abandoned",
        "service_level",
        "wait_seconds",
    ] {
        assert!(queue.get(field).is_some(), "queues[0].{field} in {queue}");
    }
    for field in ["mean", "p50", "p90", "p99", "max"] {
        assert!(
            queue["wait_seconds"][field].is_number(),
            "wait_seconds.{field} in {queue}"
        );
    }
    assert_eq!(queue["friendly_name"], "Support");
    assert_eq!(queue["sid"], QUEUE);
    assert_eq!(queue["offered"], 2_000);
    assert_eq!(
        queue["answered"].as_u64().unwrap_or(0) + queue["abandoned"].as_u64().unwrap_or(0),
        2_000
    );
    assert_eq!(first["workers"].as_array().map(Vec::len), Some(10));
    assert!(number(&first["workers"][0]["occupancy"]) > 0.0);
    assert!(number(&first["simulated_seconds"]) > 0.0);
    assert!(first["wall_seconds"].is_number());
    let mut second = replay_json(10, &tasks, &[]);
    let mut first = first;
    first["wall_seconds"] = Value::Null;
    second["wall_seconds"] = Value::Null;
    assert_eq!(first, second, "two replays of the same input differ");
}

#[test]
fn the_table_names_each_queue_and_the_speed() {
    let workspace = TempFile::new("workspace.json", &workspace(2));
    let tasks = TempFile::new("tasks.csv", &csv(&traffic(1, 50, 0.01, 100.0, None)));
    let output = taskrouter()
        .args(["sim", "replay", "--workspace", workspace.path()])
        .args(["--tasks", tasks.path(), "--service-level-seconds", "30"])
        .output()
        .expect("taskrouter runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("SL30s"), "{stdout}");
    assert!(
        stdout.lines().any(|line| line.starts_with("Support ")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|line| line.starts_with("overall ")),
        "{stdout}"
    );
    assert!(stdout.contains("× real time"), "{stdout}");
}

#[test]
fn a_bad_tasks_file_is_refused_at_its_line_and_a_missing_one_is_a_usage_error() {
    let workspace = TempFile::new("workspace.json", &workspace(2));
    let tasks = TempFile::new(
        "tasks.csv",
        "arrival_seconds,attributes,handle_seconds\n0,{},10\n5,{},ten\n",
    );
    let output = taskrouter()
        .args(["sim", "replay", "--workspace", workspace.path()])
        .args(["--tasks", tasks.path()])
        .output()
        .expect("taskrouter runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("{}: line 3: handle_seconds `ten`", tasks.path())),
        "{stderr}"
    );
    let output = taskrouter()
        .args(["sim", "replay", "--workspace", workspace.path()])
        .args(["--tasks", "no/such/tasks.csv"])
        .output()
        .expect("taskrouter runs");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
}

/// The waits of FIFO service of `tasks` by `workers` identical agents, computed exactly: each
/// task in arrival order takes the agent free first (the Kiefer–Wolfowitz recursion).
fn fifo_waits(workers: usize, tasks: &[Task]) -> Vec<u64> {
    let mut free = vec![0_u64; workers];
    tasks
        .iter()
        .map(|task| {
            let (index, &earliest) = free
                .iter()
                .enumerate()
                .min_by_key(|&(_, &at)| at)
                .expect("a worker");
            let start = earliest.max(task.arrival);
            free[index] = start + task.handle;
            start - task.arrival
        })
        .collect()
}

#[test]
fn without_patience_every_wait_is_the_exact_fifo_wait_of_the_same_trace() {
    let (workers, count) = (10, 20_000);
    let tasks = traffic(11, count, 0.09, 100.0, None);
    let waits = fifo_waits(workers, &tasks);
    let replayed = replay_json(workers, &tasks, &[]);
    let queue = &replayed["queues"][0];
    #[allow(clippy::cast_precision_loss)]
    let (total, n) = (waits.iter().sum::<u64>() as f64, count as f64);
    let round = |value: f64| (value * 1000.0).round() / 1000.0;
    assert_eq!(
        number(&queue["wait_seconds"]["mean"]),
        round(total / n / 1000.0)
    );
    let max = waits.iter().copied().max().unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let max_seconds = max as f64 / 1000.0;
    assert_eq!(number(&queue["wait_seconds"]["max"]), max_seconds);
    #[allow(clippy::cast_precision_loss)]
    let waited = waits.iter().filter(|&&wait| wait > 0).count() as f64;
    assert_eq!(number(&queue["waited"]), round(waited / n));
    #[allow(clippy::cast_precision_loss)]
    let within = waits.iter().filter(|&&wait| wait <= 20_000).count() as f64;
    assert_eq!(number(&queue["service_level"]), round(within / n));
    let mut sorted = waits.clone();
    sorted.sort_unstable();
    for (field, p) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let exact = sorted[((p * n).ceil() as usize).max(1) - 1] as f64 / 1000.0;
        let got = number(&queue["wait_seconds"][field]);
        assert!(
            (got - exact).abs() <= exact / 64.0 + 0.001,
            "{field}: {got} against the exact {exact}"
        );
    }
}

/// Erlang C (docs/taskrouter.md §13): the probability that a task waits, with `workers` agents
/// and an offered load of `load` erlangs.
fn erlang_c(workers: usize, load: f64) -> f64 {
    // Erlang B by its recursion, then C from B: stable for any number of agents.
    let mut b = 1.0;
    for k in 1..=workers {
        #[allow(clippy::cast_precision_loss)]
        let k = k as f64;
        b = load * b / (k + load * b);
    }
    #[allow(clippy::cast_precision_loss)]
    let n = workers as f64;
    n * b / (n - load * (1.0 - b))
}

/// Erlang A, the M/M/N+M queue (docs/taskrouter.md §13), from its birth–death chain: the
/// probability that a task waits and that it abandons, with arrivals at `rate`, service at
/// `service` and patience at `patience` per second.
fn erlang_a(workers: usize, rate: f64, service: f64, patience: f64) -> (f64, f64) {
    // Unnormalised state probabilities: k busy agents (k ≤ N), then N busy and k − N waiting.
    let mut weights = vec![1.0_f64];
    for k in 1..=workers {
        #[allow(clippy::cast_precision_loss)]
        let k = k as f64;
        let last = weights[weights.len() - 1];
        weights.push(last * rate / (k * service));
    }
    #[allow(clippy::cast_precision_loss)]
    let n = workers as f64;
    let mut queued = 0_u32;
    loop {
        queued += 1;
        let last = weights[weights.len() - 1];
        let next = last * rate / (n * service + f64::from(queued) * patience);
        weights.push(next);
        if next < 1e-15 * weights.iter().sum::<f64>() {
            break;
        }
    }
    let total: f64 = weights.iter().sum();
    // Arrivals see time averages (PASTA): a task waits when every agent is busy.
    let waits: f64 = weights[workers..].iter().sum::<f64>() / total;
    #[allow(clippy::cast_precision_loss)]
    let mean_queue: f64 = weights[workers..]
        .iter()
        .enumerate()
        .map(|(k, w)| k as f64 * w)
        .sum::<f64>()
        / total;
    // Tasks abandon at θ per waiting task: the abandonment rate over the arrival rate.
    (waits, patience * mean_queue / rate)
}

/// The mean of `values` and its standard error.
fn mean_and_error(values: &[f64]) -> (f64, f64) {
    #[allow(clippy::cast_precision_loss)]
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (variance / n).sqrt())
}

/// Runs `seeds` independent replays of `count` tasks and returns, per field, the values.
fn replications(
    seeds: u64,
    workers: usize,
    count: usize,
    traffic_of: impl Fn(u64) -> Vec<Task>,
    fields: &[&dyn Fn(&Value) -> f64],
) -> Vec<Vec<f64>> {
    let mut values = vec![Vec::new(); fields.len()];
    for seed in 1..=seeds {
        let tasks = traffic_of(seed);
        assert_eq!(tasks.len(), count);
        let replayed = replay_json(workers, &tasks, &[]);
        let queue = &replayed["queues"][0];
        for (field, values) in fields.iter().zip(&mut values) {
            values.push(field(queue));
        }
    }
    values
}

/// Fails unless `values` average within four standard errors (and `floor`, for the rounding
/// of the JSON) of `expected`.
fn agrees(name: &str, values: &[f64], expected: f64, floor: f64) {
    let (mean, error) = mean_and_error(values);
    assert!(
        (mean - expected).abs() <= 4.0 * error + floor,
        "{name}: replayed {mean:.4} ± {error:.4} over {} seeds, theory {expected:.4}",
        values.len()
    );
}

#[test]
fn waiting_probability_mean_wait_and_service_level_agree_with_erlang_c() {
    // 10 agents, 100 s handle time, 0.08 tasks/s: 8 erlangs, 80 % occupancy.
    let (workers, rate, handle, count) = (10, 0.08, 100.0, 20_000);
    let load = rate * handle;
    let c = erlang_c(workers, load);
    #[allow(clippy::cast_precision_loss)]
    let n = workers as f64;
    let service = 1.0 / handle;
    let mean_wait = c / (n * service - rate);
    let service_level = 1.0 - c * (-(n - load) * service * 20.0).exp();
    let values = replications(
        6,
        workers,
        count,
        |seed| traffic(seed, count, rate, handle, None),
        &[
            &|queue| number(&queue["waited"]),
            &|queue| number(&queue["wait_seconds"]["mean"]),
            &|queue| number(&queue["service_level"]),
        ],
    );
    agrees("probability of waiting", &values[0], c, 0.001);
    agrees("mean wait", &values[1], mean_wait, 0.001);
    agrees("service level", &values[2], service_level, 0.001);
}

#[test]
fn with_impatient_callers_waiting_and_abandonment_agree_with_erlang_a() {
    // 10 agents, 100 s handle time, 0.1 tasks/s (10 erlangs, full load), patience 60 s.
    let (workers, rate, handle, patience, count) = (10, 0.1, 100.0, 60.0, 20_000);
    let (waits, abandons) = erlang_a(workers, rate, 1.0 / handle, 1.0 / patience);
    let values = replications(
        6,
        workers,
        count,
        |seed| traffic(seed, count, rate, handle, Some(patience)),
        &[&|queue| number(&queue["waited"]), &|queue| {
            number(&queue["abandonment"])
        }],
    );
    agrees("probability of waiting", &values[0], waits, 0.001);
    agrees("probability of abandoning", &values[1], abandons, 0.001);
}

/// One Spanish speaker and one English speaker; Spanish tasks wait `timeout` seconds in the
/// Spanish queue, then go to the English one.
fn languages(timeout: u64) -> Value {
    json!({"task_routing": {"filters": [
        {"filter_friendly_name": "Spanish", "expression": "language == 'es'", "targets": [
            {"queue": "WQ00000000000000000000000000000001", "timeout": timeout},
            {"queue": "WQ00000000000000000000000000000002"}
        ]}
    ], "default_filter": {"queue": "WQ00000000000000000000000000000002"}}})
}

#[test]
fn compare_replays_the_same_tasks_through_a_second_workflow_and_gives_the_differences() {
    let workspace = json!({
        "sid": "WS00000000000000000000000000000001",
        "friendly_name": "Two",
        "activities": [{"sid": "WA00000000000000000000000000000001", "friendly_name": "Available", "available": true}],
        "workers": [
            {"sid": "WK00000000000000000000000000000001", "friendly_name": "ana", "attributes": {"languages": ["es"]}},
            {"sid": "WK00000000000000000000000000000002", "friendly_name": "bob", "attributes": {"languages": ["en"]}}
        ],
        "task_queues": [
            {"sid": "WQ00000000000000000000000000000001", "friendly_name": "Spanish", "target_workers": "languages HAS 'es'"},
            {"sid": "WQ00000000000000000000000000000002", "friendly_name": "English", "target_workers": "languages HAS 'en'"}
        ],
        "workflows": [{"sid": "WW00000000000000000000000000000001", "friendly_name": "Languages",
                       "configuration": languages(30)}]
    });
    let workspace = TempFile::new("workspace.json", &workspace.to_string());
    let longer = TempFile::new("longer.json", &languages(200).to_string());
    let tasks = TempFile::new(
        "tasks.csv",
        "arrival_seconds,attributes,handle_seconds,patience_seconds\n\
         0,\"{\"\"language\"\": \"\"es\"\"}\",100,\n\
         1,\"{\"\"language\"\": \"\"es\"\"}\",100,\n\
         2,\"{\"\"language\"\": \"\"es\"\"}\",100,\n\
         3,\"{\"\"language\"\": \"\"es\"\"}\",100,50\n",
    );
    let output = taskrouter()
        .args(["sim", "replay", "--workspace", workspace.path()])
        .args([
            "--tasks",
            tasks.path(),
            "--compare",
            longer.path(),
            "--json",
        ])
        .output()
        .expect("taskrouter runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let replayed: Value = serde_json::from_str(&text(&output.stdout)).expect("JSON");
    // 30 s: Ana answers at 0; the next two move to Bob's English queue at 31 and 32 and wait
    // 30 s and 129 s; the last hangs up. 200 s: Ana answers all three (waits 0, 99, 198).
    let spanish = &replayed["filters"][0];
    assert_eq!(spanish["friendly_name"], "Spanish");
    assert_eq!(number(&spanish["wait_seconds"]["mean"]), 53.0);
    assert_eq!(replayed["queues"][1]["answered"], 2);
    let other = &replayed["compare"];
    assert_eq!(number(&other["filters"][0]["wait_seconds"]["mean"]), 99.0);
    assert_eq!(other["queues"][0]["answered"], 3);
    assert_eq!(other["queues"][1]["answered"], 0);
    let differences = &replayed["differences"];
    assert_eq!(
        number(&differences["filters"][0]["wait_seconds"]["mean"]),
        46.0
    );
    assert_eq!(differences["queues"][0]["answered"], 2);
    assert_eq!(differences["queues"][1]["answered"], -2);
    assert_eq!(differences["overall"]["abandoned"], 0);
}

#[test]
fn the_report_loads_in_a_headless_browser_without_errors_and_draws_every_chart() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .expect("chromium is installed: `make tools` (or `make test`) installs Debian's chromium");
    let workspace = TempFile::new("workspace.json", &workspace(10));
    let tasks = TempFile::new(
        "tasks.csv",
        &csv(&traffic(3, 3_000, 0.08, 100.0, Some(120.0))),
    );
    let slower = TempFile::new(
        "slower.json",
        &json!({"task_routing": {"filters": [], "default_filter": {"queue": QUEUE}}}).to_string(),
    );
    let report = TempFile::new("report.html", "");
    let output = taskrouter()
        .args(["sim", "replay", "--workspace", workspace.path()])
        .args(["--tasks", tasks.path(), "--compare", slower.path()])
        .args(["--report", report.path()])
        .output()
        .expect("taskrouter runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let page = std::fs::read_to_string(report.path()).expect("the report");
    // Self-contained: nothing to fetch.
    assert!(
        !page.contains("src=") && !page.contains("href=") && !page.contains("@import"),
        "the report loads something"
    );
    let browser = |args: &[&str]| {
        std::process::Command::new("timeout")
            .args([
                "120",
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
            ])
            .args(["--hide-scrollbars", "--window-size=1100,2000"])
            .args(args)
            .arg(report.path())
            .output()
            .expect("chromium runs")
    };
    let dom = browser(&["--dump-dom"]);
    assert!(dom.status.success(), "{}", text(&dom.stderr));
    let dom = text(&dom.stdout);
    let body = dom
        .split("<body")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .expect("a body element");
    assert!(body.contains("data-loaded=\"yes\""), "not loaded: {body}");
    assert!(!body.contains("data-errors"), "script errors: {body}");
    for (chart, lines) in [("waits", 2), ("service-level", 2), ("occupancy", 2)] {
        assert!(
            body.contains(&format!("data-drawn-{chart}=\"{lines}\"")),
            "{chart}: {lines} lines expected in {body}"
        );
    }
    let png = TempFile::new("report.png", "");
    let shot = browser(&[&format!("--screenshot={}", png.path())]);
    assert!(shot.status.success(), "{}", text(&shot.stderr));
    let image = std::fs::read(png.path()).expect("the screenshot");
    assert!(image.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        image.len() > 20_000,
        "a near-empty page: {} bytes",
        image.len()
    );
}

/// `sim replay --json` of a two-worker workspace (bob without skills listed first, ana with
/// `billing`) with `extra` arguments.
fn two_workers(tasks: &str, extra: &[&str]) -> Value {
    let workspace = json!({
        "sid": "WS00000000000000000000000000000001",
        "friendly_name": "Skills",
        "activities": [{"sid": "WA00000000000000000000000000000001", "friendly_name": "Available", "available": true}],
        "workers": [
            {"sid": "WK00000000000000000000000000000001", "friendly_name": "bob", "attributes": {"skills": []}},
            {"sid": "WK00000000000000000000000000000002", "friendly_name": "ana", "attributes": {"skills": ["billing"]}}
        ],
        "task_queues": [{"sid": QUEUE, "friendly_name": "Everyone"}],
        "workflows": [{"sid": "WW00000000000000000000000000000001", "friendly_name": "All",
                       "configuration": {"task_routing": {"default_filter": {"queue": QUEUE}}}}]
    });
    let workspace = TempFile::new("workspace.json", &workspace.to_string());
    let tasks = TempFile::new("tasks.csv", tasks);
    let output = taskrouter()
        .args(["sim", "replay", "--workspace", workspace.path()])
        .args(["--tasks", tasks.path(), "--json"])
        .args(extra)
        .output()
        .expect("taskrouter runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    serde_json::from_str(&text(&output.stdout)).expect("JSON")
}

const SKILLED: &str = "arrival_seconds,attributes,handle_seconds\n\
    0,\"{\"\"required_skill\"\": \"\"billing\"\"}\",100\n\
    1,\"{\"\"required_skill\"\": \"\"billing\"\"}\",100\n\
    2,{},100\n";

#[test]
fn with_rules_a_rejected_task_goes_to_the_next_worker_and_a_deferred_one_waits_to_be_accepted() {
    // Accepted at once: bob takes the first, ana the second, the third waits for bob (98 s).
    let plain = two_workers(SKILLED, &[]);
    assert_eq!(plain["workers"][0]["answered"], 2);
    assert_eq!(number(&plain["queues"][0]["wait_seconds"]["max"]), 98.0);
    // The repository's rules rejecting a missing skill: bob rejects the first, ana takes it;
    // bob rejects the second too, which waits for ana (99 s); bob takes the third at once.
    let rejecting = two_workers(
        SKILLED,
        &["--rules", "rules/examples/reject-missing-skill.json"],
    );
    let queue = &rejecting["queues"][0];
    assert_eq!(queue["answered"], 3);
    assert_eq!(number(&queue["wait_seconds"]["max"]), 99.0);
    assert_eq!(number(&queue["wait_seconds"]["mean"]), 33.0);
    assert_eq!(rejecting["workers"][0]["answered"], 1);
    assert_eq!(rejecting["workers"][1]["answered"], 2);
    // The built-in rules defer everything: each reservation is accepted 7 s after it is made,
    // the worker held meanwhile: waits 7, 7, and 112 (bob free at 107, accepted at 114).
    let deferring = two_workers(
        SKILLED,
        &["--rules", "rules/default.json", "--defer-seconds", "7"],
    );
    let queue = &deferring["queues"][0];
    assert_eq!(number(&queue["wait_seconds"]["mean"]), 42.0);
    assert_eq!(number(&queue["wait_seconds"]["max"]), 112.0);
    assert_eq!(number(&deferring["simulated_seconds"]), 214.0);
}

#[test]
fn an_events_api_export_is_replayed_as_the_tasks_it_records() {
    // As the REST API lists them, newest first: one task answered after 2 s and handled for
    // 240 s, one that hung up after 60 s without an answer.
    let data = |task: &str, extra: Value| {
        let mut data = json!({"task_sid": task});
        if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
            data.extend(extra);
        }
        data
    };
    let a = "WT00000000000000000000000000000001";
    let b = "WT00000000000000000000000000000002";
    let created = json!({"task_attributes": "{\"skill\": \"support\"}"});
    let events = json!({"events": [
        {"event_type": "task.canceled", "event_date_ms": 1_070_000, "event_data": data(b, json!({}))},
        {"event_type": "task.completed", "event_date_ms": 1_242_000, "event_data": data(a, json!({}))},
        {"event_type": "task.created", "event_date_ms": 1_010_000, "event_data": data(b, created.clone())},
        {"event_type": "reservation.accepted", "event_date_ms": 1_002_000, "event_data": data(a, json!({}))},
        {"event_type": "task.created", "event_date_ms": 1_000_000, "event_data": data(a, created)}
    ], "meta": {}});
    let workspace = TempFile::new("workspace.json", &workspace(1));
    let history = TempFile::new("events.json", &events.to_string());
    let output = taskrouter()
        .args(["sim", "replay", "--workspace", workspace.path()])
        .args(["--tasks", history.path(), "--json"])
        .output()
        .expect("taskrouter runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let replayed: Value = serde_json::from_str(&text(&output.stdout)).expect("JSON");
    // One agent: the first is answered at once and held 240 s; the second, 10 s later, waits
    // and hangs up after its 60 s of patience.
    let queue = &replayed["queues"][0];
    assert_eq!(replayed["tasks"], 2);
    assert_eq!(
        (&queue["answered"], &queue["abandoned"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(number(&queue["abandoned_wait_seconds"]["max"]), 60.0);
    assert_eq!(number(&replayed["workers"][0]["busy_seconds"]), 240.0);
}
