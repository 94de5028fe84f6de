//! Arbitrary text as an expression and as a lone reference: parsing never panics, an expression
//! that parses evaluates against fixed scopes (with and without an instant for the
//! `taskrouter.` time-of-day attributes) and parses again from its own source to the same tree,
//! and every reference it holds parses alone to the same reference. The same text is parsed with
//! the rules engine's extra known kinds (days, numbers, booleans) too.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use taskrouter_lambda::expression::{Expression, JsonScope, Known, Reference, Scope};
use taskrouter_lambda::time_of_day::TimeOfDay;

/// Instants for the time-of-day attributes: none, a Thursday morning, a Saturday at midnight.
static INSTANTS: LazyLock<Vec<Option<TimeOfDay>>> = LazyLock::new(|| {
    let at = |text: &str| Some(TimeOfDay::utc(text.parse().expect("an instant")));
    vec![None, at("2026-12-03T08:05:00Z"), at("2026-12-05T00:00:00Z")]
});

/// Kinds the rules engine knows for its schedules' attributes, keyed here by a few references.
fn known(reference: &Reference) -> Option<Known> {
    match reference.as_str() {
        "day" => Some(Known::DayOfWeek),
        "hour" => Some(Known::Number),
        "open" => Some(Known::Boolean),
        _ => None,
    }
}

/// Task and worker attributes to evaluate against: a realistic pair, empty objects, and values
/// that are not objects at all.
static SCOPES: LazyLock<Vec<(Value, Value)>> = LazyLock::new(|| {
    vec![
        (
            json!({
                "type": "ticket",
                "language": "en",
                "skill_rating": 5.1,
                "priority": 3,
                "vip": true,
                "skills": ["support", "billing"],
                "required_skill": "billing",
                "customer": {"tier": "gold", "ids": [1, 2, 3], "name": "Dana Reyes"},
                "call_sid": "CA0123456789abcdef0123456789abcdef",
                "nothing": null,
                "in": "a key that is a keyword",
                "ünïcode": "ñ",
            }),
            json!({
                "skills": ["support", "billing"],
                "spoken_languages": ["en", "fr"],
                "contact_uri": "client:alice",
                "level": 2,
                "ratings": [4.5, -1, 0],
            }),
        ),
        (json!({}), json!({})),
        (json!([1, "a", null, [true]]), Value::Null),
    ]
});

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(expression) = Expression::parse_with(source, &known) {
        for (task, worker) in SCOPES.iter() {
            for now in INSTANTS.iter() {
                let _ = expression.evaluate(&JsonScope {
                    task,
                    worker,
                    now: *now,
                });
            }
        }
    }

    match Expression::parse(source) {
        Ok(expression) => {
            let scopes = || {
                SCOPES.iter().flat_map(|(task, worker)| {
                    INSTANTS.iter().map(move |now| JsonScope {
                        task,
                        worker,
                        now: *now,
                    })
                })
            };
            let outcomes: Vec<bool> = scopes().map(|scope| expression.evaluate(&scope)).collect();

            let again = Expression::parse(expression.source())
                .expect("an expression parses again from its own source");
            assert_eq!(
                again, expression,
                "parsing the source again gave another tree"
            );
            for (scope, outcome) in scopes().zip(&outcomes) {
                assert_eq!(again.evaluate(&scope), *outcome);
            }

            for reference in expression.references() {
                let alone = Reference::parse(reference.as_str())
                    .expect("a reference from an expression parses alone");
                assert_eq!(&alone, reference, "a reference parsed alone differs");
            }
        }
        Err(error) => {
            let _ = (
                error.to_string(),
                error.column(),
                error.message(),
                error.help(),
            );
        }
    }

    match Reference::parse(source) {
        Ok(reference) => {
            let again = Reference::parse(reference.as_str())
                .expect("a reference parses again from its own text");
            assert_eq!(
                again, reference,
                "parsing the reference again gave another one"
            );
            for (task, worker) in SCOPES.iter() {
                for now in INSTANTS.iter() {
                    let _ = JsonScope {
                        task,
                        worker,
                        now: *now,
                    }
                    .resolve(&reference);
                }
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
