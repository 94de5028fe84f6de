//! The hot path of an assignment callback: what one warm invocation costs in CPU.
//!
//! `cargo bench --bench hot_path` (criterion; `-- <filter>` picks benchmarks by name). Groups:
//!
//! - `whole`: the event as the Runtime API delivers it (JSON bytes) through `lambda_http`'s
//!   adapter, as [`http::function`] wraps it around [`http::handle`], to the serialised response: event parsing, routing, form
//!   decoding, signature verification, the typed callback, the rules' decision and the answer,
//!   for 1, 10 and 50 rules with the matching rule last. `from_str_handle` is the same without the
//!   adapter's response envelope (`lambda_http::request::from_str` + [`http::handle`]);
//!   `json_logs` adds the JSON log line the function writes per request (to a sink).
//!   `bare_adapter` is the floor of the group: the same event through the same adapter to
//!   `examples/bare_function.rs`'s handler, which answers `{}` without looking at the request.
//! - `pieces`: each step on its own, and `hmac_sha1_floor`, one HMAC-SHA1 of the signing string,
//!   the least any verifying implementation has to do.
//! - `expression`: evaluating `when` expressions against a callback.
//! - `init`: compiling a 50-rule document, which a cold start pays once.
//! - `unverified`: what a request that carries no valid signature makes the function do, whole
//!   invocations through the adapter as in `whole`. REST API (payload 1.0) events, whose query the
//!   function has to rebuild from decoded pairs and try in every order: a forged, well-formed
//!   `X-Twilio-Signature` over a body of one large parameter (`support/callback.rs`'s
//!   `one_large_parameter`), with 0 or 4 query parameters, at 3 MiB and at 128 KiB, on the default
//!   execute-api host with one token and on a custom domain with a base-path mapping and two
//!   tokens (two path candidates, two keys); and a 4 MiB body of one-letter parameters with no
//!   signature header at all. Each answer is checked to be a refusal (`403` or `413`) and printed.
//!
//! The callback is `benches/support/callback.rs`'s: about 1.7 KB of form body, signed with the
//! development token. No logging subscriber is installed except in `json_logs`, so elsewhere the
//! `tracing` calls cost what a disabled level costs.

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent, Service, service_fn};
use serde_json::Value;
use sha1::Sha1;
use taskrouter_lambda::app::App;
use taskrouter_lambda::callback::AssignmentCallback;
use taskrouter_lambda::config::Config;
use taskrouter_lambda::expression::Expression;
use taskrouter_lambda::form::FormParams;
use taskrouter_lambda::http;
use taskrouter_lambda::metrics::MetricsSink;
use taskrouter_lambda::rules::Rules;
use taskrouter_lambda::signature;

#[path = "support/callback.rs"]
mod callback;

/// The rule counts of the `whole` and `decide` benchmarks.
const RULE_COUNTS: [usize; 3] = [1, 10, 50];

/// Drops metric lines after making sure they were built, so a long run keeps no memory.
struct Discard;

impl MetricsSink for Discard {
    fn emit(&self, line: String) {
        black_box(line);
    }
}

/// The app as deployed with the token in the environment and `rules` inline.
fn app(runtime: &tokio::runtime::Runtime, rules: &str) -> App {
    app_with(
        runtime,
        &[
            ("TWILIO_AUTH_TOKEN", callback::TOKEN),
            ("ASSIGNMENT_RULES", rules),
        ],
    )
}

/// The app as deployed with exactly the environment `vars`.
fn app_with(runtime: &tokio::runtime::Runtime, vars: &[(&str, &str)]) -> App {
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .expect("the benchmark configuration is valid");
    runtime
        .block_on(App::build(config, Some("bench"), Arc::new(Discard)))
        .expect("the benchmark app builds")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

/// What the function must answer the benchmark callback with; checked once before measuring, so
/// a benchmark never times a refusal.
fn assert_answer(response: &Value) {
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(response["body"], callback::MATCHED_BODY, "{response}");
}

/// One invocation as the runtime performs it, minus the HTTP calls to the Runtime API: the event
/// bytes deserialised, the adapter and handler run, the response serialised.
fn invoke<S>(runtime: &tokio::runtime::Runtime, adapter: &mut S, event: &[u8]) -> Vec<u8>
where
    S: Service<LambdaEvent<LambdaRequest>>,
    S::Response: serde::Serialize,
    S::Error: std::fmt::Debug,
{
    let payload: LambdaRequest = serde_json::from_slice(event).expect("a valid API Gateway event");
    let future = adapter.call(LambdaEvent::new(payload, Context::default()));
    let response = runtime.block_on(future).expect("the handler never fails");
    serde_json::to_vec(&response).expect("the response serialises")
}

fn whole(c: &mut Criterion) {
    let runtime = runtime();
    let event = callback::event(&callback::params());
    let mut group = c.benchmark_group("whole");
    // The floor of this group: `examples/bare_function.rs`'s handler behind the same adapter, so
    // the event parsing and response serialisation every `lambda_http` function pays.
    let mut bare = Adapter::from(service_fn(|_request: lambda_http::Request| async {
        let mut response = lambda_http::Response::new(lambda_http::Body::Text("{}".to_owned()));
        response.headers_mut().insert(
            lambda_http::http::header::CONTENT_TYPE,
            lambda_http::http::HeaderValue::from_static("application/json"),
        );
        Ok::<_, Infallible>(response)
    }));
    group.bench_with_input("bare_adapter", &event, |b, event| {
        b.iter(|| invoke(&runtime, &mut bare, black_box(event.as_bytes())));
    });
    for count in RULE_COUNTS {
        let app = app(&runtime, &callback::rules(count));
        let app = &app;
        let mut adapter = http::function(app);
        let answer = invoke(&runtime, &mut adapter, event.as_bytes());
        assert_answer(&serde_json::from_slice(&answer).expect("the response is JSON"));
        group.bench_with_input(
            BenchmarkId::new("runtime_adapter", count),
            &event,
            |b, event| {
                b.iter(|| invoke(&runtime, &mut adapter, black_box(event.as_bytes())));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("from_str_handle", count),
            &event,
            |b, event| {
                b.iter(|| {
                    let request =
                        lambda_http::request::from_str(black_box(event)).expect("valid event");
                    runtime.block_on(http::handle(app, request))
                });
            },
        );
        if count == 10 {
            let subscriber = tracing_subscriber::fmt()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .with_ansi(false)
                .with_target(false)
                .with_writer(std::io::sink)
                .finish();
            tracing::subscriber::with_default(subscriber, || {
                group.bench_with_input(BenchmarkId::new("json_logs", count), &event, |b, event| {
                    b.iter(|| invoke(&runtime, &mut adapter, black_box(event.as_bytes())));
                });
            });
        }
    }
    group.finish();
}

/// The string Twilio signs: the URL, then every parameter's key and value, sorted
/// (docs/taskrouter.md §4).
fn signing_string(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut text = url.to_owned();
    for (key, value) in sorted {
        text.push_str(key);
        text.push_str(value);
    }
    text
}

fn pieces(c: &mut Criterion) {
    let params = callback::params();
    let event = callback::event(&params);
    let body = callback::form_body(&params);
    let url = callback::url();
    let urls = [url.clone()];
    let token = callback::TOKEN.as_bytes();
    let header = signature::sign(token, &url, &params);
    let rules = Rules::compile(&callback::rules(1)).expect("the rules compile");

    let mut group = c.benchmark_group("pieces");
    group.bench_function("lambda_http_from_str", |b| {
        b.iter(|| lambda_http::request::from_str(black_box(&event)).expect("valid event"));
    });
    group.bench_function("form_parse", |b| {
        b.iter(|| FormParams::parse(black_box(body.as_bytes())).expect("valid form"));
    });
    group.bench_function("form_parse_and_typed_callback", |b| {
        b.iter(|| {
            let params = FormParams::parse(black_box(body.as_bytes())).expect("valid form");
            AssignmentCallback::try_from(params).expect("a valid callback")
        });
    });
    group.bench_function("verify_signature", |b| {
        b.iter(|| {
            signature::verify_form(&[token], black_box(&urls), black_box(&params), &header)
                .expect("the signature verifies")
        });
    });
    let signed = signing_string(&url, &params);
    group.bench_function("hmac_sha1_floor", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha1>::new_from_slice(token).expect("HMAC takes any key length");
            mac.update(black_box(signed.as_bytes()));
            mac.finalize().into_bytes()
        });
    });
    let typed = AssignmentCallback::try_from(FormParams::from_pairs(params.clone()))
        .expect("a valid callback");
    // The instant is read once per callback by the transport; `whole` includes that read.
    let now = Timestamp::now();
    group.bench_function("decide_templated_1", |b| {
        b.iter(|| rules.decide(black_box(&typed), now).body.len());
    });
    for count in RULE_COUNTS {
        let rules = Rules::compile(&callback::rules(count)).expect("the rules compile");
        assert_eq!(rules.decide(&typed, now).body, callback::MATCHED_BODY);
        group.bench_with_input(BenchmarkId::new("decide", count), &typed, |b, typed| {
            b.iter(|| rules.decide(black_box(typed), now).body.len());
        });
    }
    group.finish();
}

fn expression(c: &mut Criterion) {
    let typed = AssignmentCallback::try_from(FormParams::from_pairs(callback::params()))
        .expect("a valid callback");
    let cases = [
        (
            "equality_miss",
            "type == 'sales' AND worker.skills HAS 'sales'",
            false,
        ),
        ("in_array", "task.required_skill IN worker.skills", true),
        (
            "three_clauses",
            "call_sid != null AND task.required_skill IN worker.skills AND customer.tier IN ['gold', 'platinum']",
            true,
        ),
        (
            "nested_or",
            "(customer.language == 'en' OR customer.language == 'es') AND worker.level >= 2.5",
            true,
        ),
    ];
    let mut group = c.benchmark_group("expression");
    for (name, source, expected) in cases {
        let parsed = Expression::parse(source).expect("a valid expression");
        assert_eq!(parsed.evaluate(&typed), expected, "{source}");
        group.bench_function(BenchmarkId::new("evaluate", name), |b| {
            b.iter(|| black_box(&parsed).evaluate(black_box(&typed)));
        });
    }
    group.bench_function("parse/three_clauses", |b| {
        b.iter(|| Expression::parse(black_box(cases[2].1)).expect("a valid expression"));
    });
    group.finish();
}

fn init(c: &mut Criterion) {
    let document = callback::rules(50);
    let mut group = c.benchmark_group("init");
    group.bench_function("compile_rules_50", |b| {
        b.iter(|| Rules::compile(black_box(&document)).expect("the rules compile"));
    });
    group.finish();
}

fn unverified(c: &mut Criterion) {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    let runtime = runtime();
    let one_token = app(&runtime, &callback::rules(1));
    let two_tokens = app_with(
        &runtime,
        &[
            ("TWILIO_AUTH_TOKEN", callback::TOKEN),
            ("TWILIO_AUTH_TOKEN_SECONDARY", "the-secondary-token"),
        ],
    );
    let forged = |bytes: usize, query: &[(&str, &str)]| {
        callback::rest_api_event(
            &callback::one_large_parameter(bytes),
            query,
            Some(callback::FORGED_SIGNATURE),
        )
    };
    let four = &callback::FOUR_QUERY_PAIRS[..];
    let cases: Vec<(String, &App, String)> = vec![
        (
            "forged_3MiB/0_query_pairs".into(),
            &one_token,
            forged(3 * MIB, &[]),
        ),
        (
            "forged_3MiB/4_query_pairs".into(),
            &one_token,
            forged(3 * MIB, four),
        ),
        (
            "forged_128KiB/0_query_pairs".into(),
            &one_token,
            forged(128 * KIB, &[]),
        ),
        (
            "forged_128KiB/4_query_pairs".into(),
            &one_token,
            forged(128 * KIB, four),
        ),
        (
            "forged_128KiB_custom_domain_two_tokens/0_query_pairs".into(),
            &two_tokens,
            callback::on_custom_domain(&forged(128 * KIB, &[])),
        ),
        (
            "forged_128KiB_custom_domain_two_tokens/4_query_pairs".into(),
            &two_tokens,
            callback::on_custom_domain(&forged(128 * KIB, four)),
        ),
        (
            "unsigned_4MiB_tiny_pairs".into(),
            &one_token,
            callback::rest_api_event(&callback::many_tiny_parameters(4 * MIB), &[], None),
        ),
    ];
    let mut group = c.benchmark_group("unverified");
    // Some of these take a large fraction of a second each (before the bound): few samples.
    group.sample_size(10);
    for (name, app, event) in &cases {
        let mut adapter = http::function(app);
        let answer: Value =
            serde_json::from_slice(&invoke(&runtime, &mut adapter, event.as_bytes()))
                .expect("the response is JSON");
        let status = answer["statusCode"].as_u64().unwrap_or(0);
        assert!(matches!(status, 403 | 413), "{name}: {answer}");
        let body: Value =
            serde_json::from_str(answer["body"].as_str().unwrap_or("")).unwrap_or_default();
        eprintln!(
            "unverified/{name}: answered {status} {}",
            body["error"]["code"]
        );
        group.bench_function(name.as_str(), |b| {
            b.iter(|| invoke(&runtime, &mut adapter, black_box(event.as_bytes())));
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    whole(&mut criterion);
    pieces(&mut criterion);
    expression(&mut criterion);
    init(&mut criterion);
    unverified(&mut criterion);
    criterion.final_summary();
}
