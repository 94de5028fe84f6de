//! How long a decision takes: 1, 10 and 50 rules where only the last matches (the worst case),
//! with a static and a templated answer, and one expression evaluated alone; and what the time
//! costs: reading the clock once per callback, turning it into TaskRouter's UTC attributes, and
//! deciding with time-of-day rules and with a schedule in a time zone.
//!
//! Run with `cargo bench --bench decide`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use serde_json::{Value, json};
use taskrouter_lambda::callback::AssignmentCallback;
use taskrouter_lambda::expression::{Expression, JsonScope};
use taskrouter_lambda::form::FormParams;
use taskrouter_lambda::rules::Rules;
use taskrouter_lambda::schedule::Schedule;
use taskrouter_lambda::time_of_day::TimeOfDay;

/// The instant the decisions are made at: a Wednesday, 14:30 UTC (09:30 in New York).
fn now() -> Timestamp {
    "2026-12-02T14:30:00Z".parse().expect("an instant")
}

/// An inbound call queued with `<Enqueue>`, with the CRM fields a contact centre adds.
fn task() -> Value {
    json!({
        "account_sid": "AC0123456789abcdef0123456789abcdef",
        "call_sid": "CA0123456789abcdef0123456789abcdef",
        "call_status": "in-progress",
        "api_version": "2010-04-01",
        "called": "+18005550199",
        "called_city": "",
        "called_country": "US",
        "called_state": "",
        "called_zip": "",
        "caller": "+14155550100",
        "caller_city": "SAN FRANCISCO",
        "caller_country": "US",
        "caller_state": "CA",
        "caller_zip": "94105",
        "direction": "inbound",
        "from": "+14155550100",
        "from_city": "SAN FRANCISCO",
        "from_country": "US",
        "from_state": "CA",
        "from_zip": "94105",
        "to": "+18005550199",
        "to_country": "US",
        "type": "voice",
        "selected_language": "en",
        "selected_product": "billing",
        "customer": {
            "id": "cus_8fj29dk3",
            "tier": "gold",
            "lifetime_value": 12840.5,
            "open_tickets": 2,
            "tags": ["renewal", "priority", "west"]
        }
    })
}

fn worker() -> Value {
    json!({
        "contact_uri": "client:alice",
        "full_name": "Alice Example",
        "email": "alice@example.com",
        "skills": ["billing", "support", "renewals", "escalations"],
        "languages": ["en", "es"],
        "level": 3,
        "team": "west",
        "routing": { "max_concurrent": 1, "sip": false }
    })
}

fn callback() -> AssignmentCallback {
    let params = FormParams::from_pairs([
        (
            "AccountSid",
            "AC0123456789abcdef0123456789abcdef".to_owned(),
        ),
        (
            "WorkspaceSid",
            "WS0123456789abcdef0123456789abcdef".to_owned(),
        ),
        (
            "WorkflowSid",
            "WW0123456789abcdef0123456789abcdef".to_owned(),
        ),
        (
            "TaskQueueSid",
            "WQ0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("WorkerSid", "WK0123456789abcdef0123456789abcdef".to_owned()),
        ("WorkerAttributes", worker().to_string()),
        ("TaskSid", "WT0123456789abcdef0123456789abcdef".to_owned()),
        ("TaskAttributes", task().to_string()),
        ("TaskAge", "37".to_owned()),
        ("TaskPriority", "10".to_owned()),
        (
            "ReservationSid",
            "WR0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("Timestamp", "1700000000".to_owned()),
    ]);
    AssignmentCallback::try_from(params).expect("the benchmark callback is valid")
}

/// `count` rules of which only the last matches the benchmark callback.
fn document(count: usize, templated: bool) -> String {
    let mut rules: Vec<Value> = (1..count)
        .map(|index| {
            json!({
                "name": format!("queue-{index}"),
                "when": format!(
                    "(type == 'chat' AND worker.skills HAS 'sales-{index}') OR callback.TaskQueueSid == 'WQ{index:032x}'"
                ),
                "instruction": {"instruction": "accept"}
            })
        })
        .collect();
    let instruction = if templated {
        json!({
            "instruction": "dequeue",
            "to": "{{worker.contact_uri}}",
            "from": "{{task.to}}",
            "post_work_activity_sid": "WA0123456789abcdef0123456789abcdef"
        })
    } else {
        json!({"instruction": "accept"})
    };
    rules.push(json!({
        "name": "voice",
        "when": "call_sid != null AND (selected_language IN ['en', 'es'] AND worker.skills HAS selected_product)",
        "instruction": instruction
    }));
    json!({"rules": rules, "default": {}}).to_string()
}

fn decide(c: &mut Criterion) {
    let callback = callback();
    let now = now();
    let size: usize = callback
        .params
        .pairs()
        .iter()
        .map(|(key, value)| key.len() + value.len())
        .sum();
    eprintln!("callback parameters: {size} bytes");
    for (group, templated) in [("decide/static", false), ("decide/templated", true)] {
        let mut group = c.benchmark_group(group);
        for count in [1, 10, 50] {
            let rules = Rules::compile(&document(count, templated)).expect("the document compiles");
            assert_eq!(
                rules.decide(&callback, now).rule.name(),
                "voice",
                "the last rule matches"
            );
            group.bench_with_input(BenchmarkId::from_parameter(count), &rules, |b, rules| {
                b.iter(|| black_box(rules.decide(black_box(&callback), black_box(now))));
            });
        }
        group.finish();
    }
}

fn evaluate(c: &mut Criterion) {
    let expression = Expression::parse(
        "call_sid != null AND (selected_language IN ['en', 'es'] AND worker.skills HAS selected_product)",
    )
    .expect("the expression parses");
    let (task, worker) = (task(), worker());
    let scope = JsonScope {
        task: &task,
        worker: &worker,
        now: None,
    };
    assert!(expression.evaluate(&scope));
    c.bench_function("evaluate", |b| {
        b.iter(|| black_box(expression.evaluate(black_box(&scope))));
    });
}

/// The time: the clock read the transport does once per callback, the UTC attributes made of it,
/// a schedule read at an instant, and whole decisions whose rules read the time.
fn time(c: &mut Criterion) {
    let mut group = c.benchmark_group("time");
    group.bench_function("read_clock", |b| b.iter(Timestamp::now));
    group.bench_function("utc_attributes", |b| {
        b.iter(|| TimeOfDay::utc(black_box(now())));
    });
    let schedule = Schedule::compile(&json!({
        "time_zone": "America/New_York",
        "open": {"Mon-Fri": ["08:00-18:00"], "Sat": ["10:00-14:00"]},
        "closed": ["2026-11-26", "2026-12-25", "2027-01-01"],
        "dates": {"2026-12-24": ["08:00-13:00"], "2026-12-31": ["08:00-13:00"]}
    }))
    .expect("the schedule compiles");
    assert!(schedule.is_open(now()));
    group.bench_function("schedule_is_open", |b| {
        b.iter(|| schedule.is_open(black_box(now())));
    });
    let examples = format!("{}/rules/examples", env!("CARGO_MANIFEST_DIR"));
    let business = std::fs::read_to_string(format!("{examples}/business-hours.json"))
        .expect("the business-hours example");
    // Once per cold start: the time zone is looked up in the bundled database and parsed.
    group.bench_function("compile_business_hours", |b| {
        b.iter(|| Rules::compile(black_box(&business)).expect("the example compiles"));
    });
    let callback = callback();
    for (name, file, rule) in [
        (
            "decide_twilio_time_of_day",
            "twilio-time-of-day.json",
            "opening-hours",
        ),
        (
            "decide_business_hours",
            "business-hours.json",
            "office-hours-voice",
        ),
    ] {
        let text = std::fs::read_to_string(format!("{examples}/{file}")).expect("the example");
        let rules = Rules::compile(&text).expect("the example compiles");
        assert_eq!(rules.decide(&callback, now()).rule.name(), rule, "{file}");
        group.bench_function(name, |b| {
            b.iter(|| black_box(rules.decide(black_box(&callback), black_box(now()))));
        });
    }
    group.finish();
}

criterion_group!(benches, decide, evaluate, time);
criterion_main!(benches);
