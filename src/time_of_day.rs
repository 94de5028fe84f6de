//! TaskRouter's time-of-day attributes: one instant, turned once into what expressions read.
//!
//! TaskRouter fills four attributes into Workflow filter and target expressions, always in UTC
//! (docs/taskrouter.md §5, <https://www.twilio.com/docs/taskrouter/time-of-day-routing>):
//!
//! | reference | holds | at 08:05 UTC on a Thursday |
//! |---|---|---|
//! | `taskrouter.currentTime` | hours and minutes as one integer, `HHMM` | `805` |
//! | `taskrouter.currentHour` | the hour, 0–23 | `8` |
//! | `taskrouter.currentMin` | the minute, 0–59 | `5` |
//! | `taskrouter.dayOfWeek` | the day: `Mon`, `Tue`, `Wed`, `Thu`, `Fri`, `Sat` or `Sun` | `'Thu'` |
//!
//! Twilio documents `currentHour` as a two-digit string yet compares it with numbers in its own
//! example (`taskrouter.currentHour > 8 AND taskrouter.currentHour < 18`); here it is a number, and
//! a string literal of digits compared with it is read as that number (the `expression` module's
//! table of decisions says how literals compared with these attributes are read).
//!
//! The module is pure: it never reads the clock. Whoever owns the clock (the transport, once per
//! callback; the `taskrouter` command, from `--now`) reads one instant and passes it in, so every
//! rule of one decision sees the same time and tests can fix it. [`TimeOfDay::utc`] turns the
//! instant into the attributes once; the expression language answers a `taskrouter.` reference
//! from them (this module knows nothing of expressions: [`TimeOfDay::get`] gives a [`Reading`]). Any
//! [`Scope`](crate::expression::Scope) gains the attributes by giving its instant as
//! [`Scope::now`](crate::expression::Scope::now), as [`JsonScope`](crate::expression::JsonScope)
//! does:
//!
//! ```
//! use serde_json::json;
//! use taskrouter_lambda::expression::{Expression, JsonScope};
//! use taskrouter_lambda::time_of_day::TimeOfDay;
//!
//! let open = Expression::parse(
//!     "taskrouter.dayOfWeek IN ['Mon', 'Tue', 'THU'] AND taskrouter.currentTime > 800",
//! )?;
//! let thursday_morning = TimeOfDay::utc("2026-12-03T08:05:00Z".parse()?);
//! let task = json!({});
//! let scope = JsonScope { task: &task, worker: &task, now: Some(thursday_morning) };
//! assert!(open.evaluate(&scope));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Local time (opening hours in a time zone, holidays) is not TaskRouter's: rules documents add it
//! with named schedules ([`crate::schedule`]).

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;

/// The root every TaskRouter time-of-day reference starts with.
pub const ROOT: &str = "taskrouter";

/// Day names as TaskRouter writes them, Monday first.
pub const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// One of TaskRouter's time-of-day attributes (the part after `taskrouter.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute {
    /// `currentTime`: `HHMM` as an integer.
    CurrentTime,
    /// `currentHour`: the hour as an integer.
    CurrentHour,
    /// `currentMin`: the minute as an integer.
    CurrentMin,
    /// `dayOfWeek`: `Mon` … `Sun`.
    DayOfWeek,
}

impl Attribute {
    /// Every attribute, in the order the documentation lists them.
    pub const ALL: [Attribute; 4] = [
        Attribute::CurrentTime,
        Attribute::CurrentHour,
        Attribute::CurrentMin,
        Attribute::DayOfWeek,
    ];

    /// The attribute named `name` exactly as Twilio spells it (names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Attribute> {
        Attribute::ALL
            .into_iter()
            .find(|attribute| attribute.name() == name)
    }

    /// The name as Twilio spells it, e.g. `currentTime`.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::CurrentTime => "currentTime",
            Attribute::CurrentHour => "currentHour",
            Attribute::CurrentMin => "currentMin",
            Attribute::DayOfWeek => "dayOfWeek",
        }
    }
}

/// The names `taskrouter.` may be followed by, for messages: `currentTime, currentHour, …`.
pub fn attribute_names() -> String {
    Attribute::ALL
        .iter()
        .map(|attribute| attribute.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A wall-clock reading: a day of the week, an hour and a minute. What the time-of-day
/// attributes are made of, in UTC ([`TimeOfDay::utc`]) or in a schedule's zone
/// ([`TimeOfDay::in_zone`]). Seconds are not kept: every attribute stops at the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay {
    weekday: Weekday,
    hour: u8,
    minute: u8,
}

impl TimeOfDay {
    /// The reading TaskRouter's attributes give at `instant`: in UTC.
    pub fn utc(instant: Timestamp) -> TimeOfDay {
        TimeOfDay::in_zone(instant, &TimeZone::UTC)
    }

    /// The reading of a wall clock in `zone` at `instant`, daylight-saving time included.
    pub fn in_zone(instant: Timestamp, zone: &TimeZone) -> TimeOfDay {
        TimeOfDay::from_civil(zone.to_datetime(instant))
    }

    /// The reading of a civil (zone-less) date and time.
    pub fn from_civil(datetime: jiff::civil::DateTime) -> TimeOfDay {
        TimeOfDay {
            weekday: datetime.weekday(),
            // jiff keeps hours in 0..=23 and minutes in 0..=59.
            hour: u8::try_from(datetime.hour()).unwrap_or(0),
            minute: u8::try_from(datetime.minute()).unwrap_or(0),
        }
    }

    /// The day of the week.
    pub fn weekday(&self) -> Weekday {
        self.weekday
    }

    /// The hour, 0–23.
    pub fn hour(&self) -> u8 {
        self.hour
    }

    /// The minute, 0–59.
    pub fn minute(&self) -> u8 {
        self.minute
    }

    /// Minutes since midnight, 0–1439.
    pub fn minute_of_day(&self) -> u16 {
        u16::from(self.hour) * 60 + u16::from(self.minute)
    }

    /// The value of `attribute` at this reading.
    pub fn get(&self, attribute: Attribute) -> Reading {
        match attribute {
            Attribute::CurrentTime => {
                Reading::Number(i64::from(self.hour) * 100 + i64::from(self.minute))
            }
            Attribute::CurrentHour => Reading::Number(i64::from(self.hour)),
            Attribute::CurrentMin => Reading::Number(i64::from(self.minute)),
            Attribute::DayOfWeek => Reading::Day(day_name(self.weekday)),
        }
    }
}

/// The value of one attribute at a reading: the expression language turns it into an operand
/// (`crate::expression`), so this module knows nothing of expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// `currentTime` (`HHMM`), `currentHour`, `currentMin`.
    Number(i64),
    /// `dayOfWeek`: TaskRouter's name of the day.
    Day(&'static str),
}

/// Every reading of a week, one per minute, Monday 00:00 first: the whole domain of the
/// attributes, for checks that ask whether a test of the time of day can ever hold
/// (`taskrouter workflow check`). 10,080 readings.
pub fn every_minute_of_the_week() -> impl Iterator<Item = TimeOfDay> {
    (0..7_i8).flat_map(|day| {
        // 0..7 is always a valid Monday-zero offset.
        let weekday = Weekday::from_monday_zero_offset(day).unwrap_or(Weekday::Monday);
        (0..24_u8).flat_map(move |hour| {
            (0..60_u8).map(move |minute| TimeOfDay {
                weekday,
                hour,
                minute,
            })
        })
    })
}

/// TaskRouter's name of a day: `Mon` … `Sun`.
pub fn day_name(weekday: Weekday) -> &'static str {
    DAY_NAMES[day_index(weekday)]
}

/// The day's place in the week, Monday 0 … Sunday 6, as in [`DAY_NAMES`].
pub(crate) fn day_index(weekday: Weekday) -> usize {
    usize::from(weekday.to_monday_zero_offset().unsigned_abs())
}

/// The day a name stands for, in any case (`Thu`, `THU`, `thu`); `None` for anything else.
pub fn parse_day(name: &str) -> Option<Weekday> {
    let index = DAY_NAMES
        .iter()
        .position(|day| day.eq_ignore_ascii_case(name))?;
    Weekday::from_monday_zero_offset(i8::try_from(index).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> TimeOfDay {
        TimeOfDay::utc(text.parse().expect("an RFC 3339 instant"))
    }

    #[test]
    fn the_attributes_are_read_in_utc_whatever_offset_the_instant_was_written_with() {
        #[rustfmt::skip]
        let cases = [
            ("2026-12-03T08:05:00Z", 805, 8, 5, "Thu", "a Thursday morning"),
            ("2026-12-03T00:00:00Z", 0, 0, 0, "Thu", "midnight is 0, not 2400"),
            ("2026-12-06T23:59:59Z", 2359, 23, 59, "Sun", "seconds are dropped, not rounded"),
            ("2026-12-07T09:30:00+05:30", 400, 4, 0, "Mon", "an offset is converted to UTC"),
            ("2026-12-06T22:00:00-05:00", 300, 3, 0, "Mon", "a negative offset can change the day"),
        ];
        for (instant, time, hour, minute, day, message) in cases {
            let now = at(instant);
            assert_eq!(
                [
                    now.get(Attribute::CurrentTime),
                    now.get(Attribute::CurrentHour),
                    now.get(Attribute::CurrentMin),
                    now.get(Attribute::DayOfWeek),
                ],
                [
                    Reading::Number(time),
                    Reading::Number(hour),
                    Reading::Number(minute),
                    Reading::Day(day),
                ],
                "{message}: {instant}"
            );
        }
    }

    #[test]
    fn a_zone_reading_follows_daylight_saving_time() {
        let new_york = TimeZone::get("America/New_York").expect("a bundled zone");
        #[rustfmt::skip]
        let cases = [
            // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
            ("2026-03-08T06:59:00Z", 1, 59, "one minute before the spring change: EST, UTC-5"),
            ("2026-03-08T07:00:00Z", 3, 0, "at the change: EDT, UTC-4"),
            // 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST; 01:30 happens twice.
            ("2026-11-01T05:30:00Z", 1, 30, "the first 01:30, EDT"),
            ("2026-11-01T06:30:00Z", 1, 30, "the second 01:30, EST"),
            ("2026-11-01T07:00:00Z", 2, 0, "after the change: EST, UTC-5"),
        ];
        for (instant, hour, minute, message) in cases {
            let now = TimeOfDay::in_zone(instant.parse().expect("an instant"), &new_york);
            assert_eq!((now.hour(), now.minute()), (hour, minute), "{message}");
            assert_eq!(now.weekday(), Weekday::Sunday, "{message}");
        }
    }

    #[test]
    fn only_the_four_documented_names_are_attributes_and_names_are_case_sensitive() {
        for attribute in Attribute::ALL {
            assert_eq!(Attribute::from_name(attribute.name()), Some(attribute));
        }
        for name in [
            "currenttime",
            "CurrentTime",
            "dayofweek",
            "currentMinute",
            "",
        ] {
            assert_eq!(Attribute::from_name(name), None, "{name}");
        }
        assert_eq!(
            attribute_names(),
            "currentTime, currentHour, currentMin, dayOfWeek"
        );
    }

    #[test]
    fn day_names_are_read_in_any_case_and_written_as_twilio_writes_them() {
        assert_eq!(parse_day("THU"), Some(Weekday::Thursday));
        assert_eq!(parse_day("thu"), Some(Weekday::Thursday));
        assert_eq!(parse_day("Sun"), Some(Weekday::Sunday));
        for other in ["Thurs", "Thursday", "T", "", " Thu"] {
            assert_eq!(parse_day(other), None, "{other:?}");
        }
        for (index, name) in DAY_NAMES.iter().enumerate() {
            let weekday = parse_day(name).expect("a day");
            assert_eq!(day_name(weekday), *name);
            assert_eq!(
                usize::from(weekday.to_monday_zero_offset().unsigned_abs()),
                index
            );
        }
    }

    #[test]
    fn the_week_has_every_minute_once_in_order() {
        let week: Vec<TimeOfDay> = every_minute_of_the_week().collect();
        assert_eq!(week.len(), 7 * 24 * 60);
        assert_eq!(week[0], at("2026-11-30T00:00:00Z"), "a Monday, midnight");
        assert_eq!(week[8 * 60 + 5], at("2026-11-30T08:05:00Z"), "Monday 08:05");
        assert_eq!(
            week[week.len() - 1],
            at("2026-12-06T23:59:00Z"),
            "Sunday 23:59"
        );
        let mut sorted = week.clone();
        sorted.sort_by_key(|now| (now.weekday().to_monday_zero_offset(), now.minute_of_day()));
        sorted.dedup();
        assert_eq!(sorted, week, "no reading twice, already in order");
    }
}
