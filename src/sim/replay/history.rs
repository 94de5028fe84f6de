//! Tasks derived from TaskRouter's own history: the Events API's events (the REST API's
//! `GET /v1/Workspaces/WS…/Events` answer, `{"events": [...]}`, or a bare list of events, in
//! any order), in the shape Twilio and the simulator give them (docs/taskrouter.md §12).
//!
//! Per task (`event_data.task_sid`):
//! - arrival: its `task.created`'s `event_date_ms`, from the earliest task created;
//! - attributes: `event_data.task_attributes` of `task.created` (a JSON object as text);
//! - channel: `event_data.task_channel_unique_name`, when given;
//! - handle time: from its `reservation.accepted` to its `task.wrapup`, else its
//!   `task.completed`;
//! - patience: a task canceled before any reservation was accepted waited that long and hung
//!   up: its patience is the time from creation to `task.canceled`. Answered tasks have no
//!   known patience (none).
//!
//! Tasks without `task.created`, and tasks neither answered and ended nor canceled (still open
//! when the export was taken) are left out. Unlike a CSV file, an export is read whole: it is
//! one JSON document.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::tasks::{TaskRow, TasksError};

#[derive(Debug, Default)]
struct Seen {
    created: Option<i64>,
    attributes: Option<Value>,
    channel: Option<String>,
    accepted: Option<i64>,
    ended: Option<i64>,
    wrapup: Option<i64>,
    canceled: Option<i64>,
}

/// The tasks of an Events API export `text`, called `source` in messages, in arrival order.
///
/// # Errors
///
/// [`TasksError::Line`] (line 1) when the text is not JSON, not a list of events, or an event
/// lacks its type or date.
pub fn read(source: &str, text: &str) -> Result<Vec<TaskRow>, TasksError> {
    let error = |message: String| TasksError::Line {
        file: source.to_owned(),
        line: 1,
        message,
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| error(format!("not a JSON export of events: {e}")))?;
    let events = match &value {
        Value::Array(events) => events,
        Value::Object(object) => match object.get("events") {
            Some(Value::Array(events)) => events,
            _ => {
                return Err(error(
                    "a JSON export must be a list of events or {\"events\": [...]}".to_owned(),
                ));
            }
        },
        _ => {
            return Err(error(
                "a JSON export must be a list of events or {\"events\": [...]}".to_owned(),
            ));
        }
    };
    let mut tasks: BTreeMap<String, Seen> = BTreeMap::new();
    let empty = Map::new();
    for (index, event) in events.iter().enumerate() {
        let kind = event
            .get("event_type")
            .and_then(Value::as_str)
            .ok_or_else(|| error(format!("events[{index}] has no event_type")))?;
        let date = event
            .get("event_date_ms")
            .and_then(Value::as_i64)
            .ok_or_else(|| error(format!("events[{index}] has no event_date_ms")))?;
        let data = event
            .get("event_data")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let Some(task) = data.get("task_sid").and_then(Value::as_str) else {
            continue;
        };
        let seen = tasks.entry(task.to_owned()).or_default();
        let earliest = |slot: &mut Option<i64>| *slot = Some(slot.map_or(date, |d| d.min(date)));
        match kind {
            "task.created" => {
                earliest(&mut seen.created);
                seen.attributes = data
                    .get("task_attributes")
                    .and_then(Value::as_str)
                    .and_then(|text| serde_json::from_str(text).ok())
                    .filter(Value::is_object);
                seen.channel = data
                    .get("task_channel_unique_name")
                    .and_then(Value::as_str)
                    .map(ToOwned::to_owned);
            }
            "reservation.accepted" => earliest(&mut seen.accepted),
            "task.wrapup" => earliest(&mut seen.wrapup),
            "task.completed" => earliest(&mut seen.ended),
            "task.canceled" => earliest(&mut seen.canceled),
            _ => {}
        }
    }
    let start = tasks
        .values()
        .filter_map(|seen| seen.created)
        .min()
        .unwrap_or(0);
    let ms = |from: i64, to: i64| u64::try_from(to - from).unwrap_or(0);
    let mut rows: Vec<TaskRow> = tasks
        .into_values()
        .filter_map(|seen| {
            let created = seen.created?;
            let (handle_ms, patience_ms) = match (seen.accepted, seen.wrapup.or(seen.ended)) {
                (Some(accepted), Some(ended)) => (ms(accepted, ended), None),
                (None, _) => (0, Some(ms(created, seen.canceled?))),
                (Some(_), None) => return None,
            };
            Some(TaskRow {
                line: 0,
                arrival_ms: ms(start, created),
                attributes: seen.attributes.unwrap_or_else(|| Value::Object(Map::new())),
                handle_ms,
                patience_ms,
                channel: seen.channel.unwrap_or_else(|| "default".to_owned()),
            })
        })
        .collect();
    rows.sort_by_key(|row| row.arrival_ms);
    for (index, row) in rows.iter_mut().enumerate() {
        row.line = index as u64 + 1;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(kind: &str, ms: i64, task: &str, extra: Value) -> Value {
        let mut data = json!({"task_sid": task});
        if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
            data.extend(extra);
        }
        json!({"event_type": kind, "event_date_ms": ms, "event_data": data})
    }

    #[test]
    fn an_export_newest_first_gives_arrivals_handle_times_and_the_patience_of_hang_ups() {
        let a = "WT00000000000000000000000000000001";
        let b = "WT00000000000000000000000000000002";
        let c = "WT00000000000000000000000000000003";
        let created = |ms, task| {
            event(
                "task.created",
                ms,
                task,
                json!({"task_attributes": "{\"language\": \"es\"}", "task_channel_unique_name": "voice"}),
            )
        };
        let mut events = vec![
            created(1_000_000, a),
            event("reservation.accepted", 1_002_000, a, json!({})),
            event("task.wrapup", 1_242_000, a, json!({})),
            event("task.completed", 1_300_000, a, json!({})),
            created(1_010_000, b),
            event("task.canceled", 1_070_000, b, json!({})),
            created(1_020_000, c),
            event("reservation.accepted", 1_030_000, c, json!({})),
        ];
        events.reverse();
        let rows = read("events.json", &json!({"events": events}).to_string()).expect("valid");
        assert_eq!(rows.len(), 2, "the open task is left out: {rows:?}");
        assert_eq!(rows[0].arrival_ms, 0);
        assert_eq!(rows[0].handle_ms, 240_000);
        assert_eq!(rows[0].patience_ms, None);
        assert_eq!(rows[0].attributes["language"], "es");
        assert_eq!(rows[0].channel, "voice");
        assert_eq!(rows[1].arrival_ms, 10_000);
        assert_eq!(rows[1].patience_ms, Some(60_000));
    }

    #[test]
    fn a_document_that_is_not_an_export_is_refused() {
        for text in ["[1", "{\"tasks\": []}", "[{\"event_date_ms\": 1}]"] {
            let error = read("events.json", text).expect_err(text).to_string();
            assert!(error.starts_with("events.json: line 1: "), "{error}");
        }
    }
}
