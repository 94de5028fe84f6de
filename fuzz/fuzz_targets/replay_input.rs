//! Arbitrary bytes as the traffic `taskrouter sim replay` reads: a tasks CSV file and an Events API
//! export. Reading never panics; a problem names the file and a line; every task read has a line
//! after the header, an arrival within the replay clock's range, attributes that are a JSON
//! object and a channel; an export's tasks come in arrival order.

#![no_main]

use libfuzzer_sys::fuzz_target;
use taskrouter_lambda::sim::replay::history;
use taskrouter_lambda::sim::replay::tasks::{TaskReader, TaskRow};

/// A year in milliseconds: the longest time a tasks file can name.
const YEAR_MS: u64 = 366 * 86_400 * 1_000;

fn check(row: &TaskRow) {
    assert!(row.attributes.is_object(), "attributes that are not an object");
    assert!(row.arrival_ms <= YEAR_MS, "an arrival beyond a year");
    assert!(!row.channel.is_empty(), "a task without a channel");
}

fuzz_target!(|data: &[u8]| {
    match TaskReader::new("tasks.csv", data) {
        Ok(reader) => {
            // A file of many bad lines must not take long: stop at the first problem, as the
            // replay does.
            for row in reader.take(10_000) {
                match row {
                    Ok(row) => {
                        assert!(row.line >= 2, "a task read from the header line");
                        check(&row);
                    }
                    Err(error) => {
                        assert!(error.to_string().starts_with("tasks.csv: line "), "{error}");
                        break;
                    }
                }
            }
        }
        Err(error) => assert!(error.to_string().starts_with("tasks.csv"), "{error}"),
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match history::read("events.json", text) {
        Ok(rows) => {
            for row in &rows {
                check(row);
            }
            assert!(
                rows.windows(2).all(|pair| pair[0].arrival_ms <= pair[1].arrival_ms),
                "an export's tasks out of arrival order"
            );
        }
        Err(error) => assert!(error.to_string().starts_with("events.json: line "), "{error}"),
    }
});
