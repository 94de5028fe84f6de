//! Time-of-day rules end to end: real API Gateway events through `lambda_http` and the handler
//! with the application's clock fixed, and the compiled function at the time it runs.
//!
//! The deployed function has no way to fix its clock (only code can set `App::clock`), so the
//! compiled-function tests build their rules from the test's own clock: a rule for each day, or a
//! schedule closed on today's date, and read the clock before and after the callback so a day
//! that changes in between is retried instead of failing.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};
use taskrouter_lambda::http;
use taskrouter_lambda::time_of_day::{TimeOfDay, day_name};

use crate::fixtures::dev_app;
use crate::support::{Function, fixture, json_lines, repo};

/// A clock as `App::clock` holds it.
type Clock = fn() -> Timestamp;

fn business_hours() -> String {
    repo()
        .join("rules/examples/business-hours.json")
        .to_str()
        .expect("a UTF-8 path")
        .to_owned()
}

#[tokio::test]
async fn a_real_voice_callback_gets_the_business_hours_rule_of_the_instant_on_both_sides_of_the_spring_change()
 {
    let path = business_hours();
    let (mut app, _) = dev_app(&[("ASSIGNMENT_RULES_FILE", path.as_str())]).await;
    // Fixed instants, as the transport would read them: the same UTC time of day, 12:30, on the
    // Friday before New York's clocks go forward (07:30 EST: closed) and the Monday after
    // (08:30 EDT: open), then Christmas Day (closed).
    let fixed: [(Clock, &str, Value); 3] = [
        (
            || "2026-03-06T12:30:00Z".parse().expect("an instant"),
            "before the change",
            json!({"instruction": "reject", "activity_sid": "WA00000000000000000000000000000002"}),
        ),
        (
            || "2026-03-09T12:30:00Z".parse().expect("an instant"),
            "after the change",
            json!({"instruction": "dequeue", "to": "client:alice", "from": "+18005550199",
                   "post_work_activity_sid": "WA00000000000000000000000000000001"}),
        ),
        (
            || "2026-12-25T17:00:00Z".parse().expect("an instant"),
            "on Christmas Day",
            json!({"instruction": "reject", "activity_sid": "WA00000000000000000000000000000002"}),
        ),
    ];
    for (clock, when, expected) in fixed {
        app.clock = clock;
        let request =
            lambda_http::request::from_str(&fixture("assignment-http-api-voice").to_string())
                .expect("a valid event");
        let response = http::handle(&app, request).await;
        assert_eq!(response.status().as_u16(), 200, "{when}");
        let body: Value =
            serde_json::from_slice(response.body().as_ref()).expect("the answer is JSON");
        assert_eq!(body, expected, "{when}");
    }
}

/// Starts the compiled function with `rules`, sends a signed callback, and returns the name of
/// the rule its log line reports and the answer's body.
async fn decide_through_the_binary(rules: &str) -> (String, String) {
    let function = Function::start(&[("ASSIGNMENT_RULES", rules)]).await;
    let answer = function.http(fixture("assignment-http-api")).await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, function.output());
    let output = function.output();
    let rule = json_lines(&output)
        .into_iter()
        .find(|line| line["message"] == "assignment answered")
        .and_then(|line| line["rule"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no `assignment answered` line:\n{output}"));
    (rule, answer.body)
}

#[tokio::test]
async fn the_compiled_function_answers_with_the_rule_for_todays_utc_day() {
    // One rule per day, each with its own answer; Twilio's `=` and an upper-case day name, as
    // users copy them from the time-of-day page.
    let rules: Vec<Value> = (0..7_u8)
        .map(|index| {
            let day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][usize::from(index)];
            json!({
                "name": format!("on-{day}"),
                "when": format!("taskrouter.dayOfWeek = '{}' AND taskrouter.currentTime >= 0000", day.to_uppercase()),
                "instruction": {"instruction": "reject", "activity_sid": format!("WA{index:032}")}
            })
        })
        .collect();
    let rules = json!({"rules": rules}).to_string();
    for _attempt in 0..2 {
        let before = day_name(TimeOfDay::utc(Timestamp::now()).weekday());
        let (rule, body) = decide_through_the_binary(&rules).await;
        let after = day_name(TimeOfDay::utc(Timestamp::now()).weekday());
        if before != after {
            // Midnight UTC passed during the callback: either day would be right; try again.
            continue;
        }
        assert_eq!(rule, format!("on-{before}"), "{body}");
        let index = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            .iter()
            .position(|day| *day == before)
            .expect("a day");
        assert_eq!(
            body,
            format!(r#"{{"instruction":"reject","activity_sid":"WA{index:032}"}}"#)
        );
        return;
    }
    panic!("the UTC day changed during both attempts");
}

#[tokio::test]
async fn the_compiled_function_reads_a_schedule_in_its_zone_with_the_bundled_database() {
    // A schedule closed on today's date in a zone whose date is not the UTC date answers
    // `closed-today` only if the zone is read. Kiritimati (UTC+14) has another date than UTC
    // from 10:00 UTC, Pago Pago (UTC−11) until 11:00 UTC, so one of them always does. The
    // function's environment is cleared, so no TZ or TZDIR helps it.
    let date_in = |zone: &str| {
        let zone = TimeZone::get(zone).expect("a zone of the IANA database");
        zone.to_datetime(Timestamp::now()).date().to_string()
    };
    for _attempt in 0..2 {
        let utc = Timestamp::now().to_zoned(TimeZone::UTC).date().to_string();
        let zone = ["Pacific/Kiritimati", "Pacific/Pago_Pago"]
            .into_iter()
            .find(|zone| date_in(zone) != utc)
            .expect("Kiritimati or Pago Pago has another date than UTC at any instant");
        let before = date_in(zone);
        let rules = json!({
            "schedules": {"far_away": {
                "time_zone": zone,
                "open": {"Mon-Sun": ["00:00-24:00"]},
                "closed": [before]
            }},
            "rules": [{
                "name": "closed-today",
                "when": "schedules.far_away.open == false",
                "instruction": {"instruction": "reject", "activity_sid": "WA00000000000000000000000000000009"}
            }],
            "default": {"instruction": "accept"}
        })
        .to_string();
        let (rule, body) = decide_through_the_binary(&rules).await;
        if date_in(zone) != before {
            continue;
        }
        assert_eq!(rule, "closed-today", "{body}");
        return;
    }
    panic!("the date in the chosen zone changed during both attempts");
}

#[tokio::test]
async fn an_unknown_time_zone_stops_the_compiled_function_at_start_naming_the_schedule_and_its_rule()
 {
    let rules = r#"{"schedules": {"ny": {"time_zone": "America/New_Yrok", "open": {}}},
        "rules": [{"name": "office-hours", "when": "schedules.ny.open == true", "instruction": {"instruction": "accept"}}]}"#;
    let mut function = Function::start(&[("ASSIGNMENT_RULES", rules)]).await;
    let code = function.exit_code().await;
    let output = function.output();
    assert_ne!(code, Some(0), "{output}");
    assert!(
        output.contains("error: schedule `ny` (read by rule `office-hours`), `time_zone`: `America/New_Yrok` is not a time zone of the IANA database (did you mean `America/New_York`?)"),
        "{output}"
    );
}
