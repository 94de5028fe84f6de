//! Opening hours where the business is: named schedules in a time zone, with holidays.
//!
//! TaskRouter only knows UTC (docs/taskrouter.md §5), so teams convert their opening hours by hand
//! and break them twice a year when daylight-saving time starts and ends. A rules document declares
//! schedules instead, each in an IANA time zone, and rules read them under the `schedules.` root,
//! which is ours (TaskRouter's own `taskrouter.` attributes keep their UTC meaning):
//!
//! ```json
//! "schedules": {
//!   "new_york": {
//!     "time_zone": "America/New_York",
//!     "open": { "Mon-Fri": ["08:00-12:00", "13:00-18:00"], "Sat": ["10:00-14:00"] },
//!     "closed": ["2026-11-26", "2026-12-25"],
//!     "dates": { "2026-12-24": ["08:00-13:00"] }
//!   }
//! }
//! ```
//!
//! | key | meaning |
//! |---|---|
//! | `time_zone` (required) | an IANA time zone name of a place (`America/New_York`, `Europe/Paris`), or `UTC`; wall-clock hours follow its daylight-saving rules. An abbreviation (`EST`, `PST`, `CET`) or an offset (`UTC+2`, `Etc/GMT+5`) is refused with what it stands for: each is hours off the place it was meant for during part of the year, or ambiguous, so none is "corrected" to a zone |
//! | `open` (required) | the weekly hours: keys are days (`Mon` … `Sun`, any case), ranges (`Mon-Fri`, `Fri-Mon` wraps) or lists (`Sat,Sun`); values list `HH:MM-HH:MM` periods, start included, end excluded, `24:00` for the end of the day. A day listed nowhere is closed |
//! | `closed` | dates (`YYYY-MM-DD`, local) on which the schedule is closed all day: holidays |
//! | `dates` | dates with their own hours instead of the weekly ones, e.g. an early close (`[]` closes the whole day) |
//! | `description` | text for people |
//!
//! In a rule, `schedules.<name>.<attribute>` reads the schedule at the instant of the decision:
//!
//! | attribute | holds |
//! |---|---|
//! | `open` | `true` while the schedule is open, `false` otherwise |
//! | `dayOfWeek`, `currentTime`, `currentHour`, `currentMin` | TaskRouter's time-of-day attributes ([`crate::time_of_day`]), read on the schedule's wall clock instead of in UTC |
//!
//! Hours are wall-clock hours: `08:00-18:00` in `America/New_York` is 13:00–23:00 UTC in winter
//! and 12:00–22:00 UTC in summer. On the night clocks go forward the skipped hour never happens;
//! on the night they go back the repeated hour is open (or closed) both times. A period cannot
//! cross midnight (`22:00-06:00`): write it as two, on each day.
//!
//! The time zone database is compiled into the binary (jiff's bundled copy of the IANA
//! database), so zones resolve the same way on every machine, including Lambda's
//! `provided.al2023` runtime, and a zone unknown to it stops the start instead of failing
//! requests. The module is pure: the instant is passed in.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::document::{Keys, Node, Object, Problems, Reader, edit_distance};
use crate::expression::{self, Known, Operand};
use crate::time_of_day::{self, DAY_NAMES, TimeOfDay};

/// The keys of a schedule. `time_zone` and `open` are required, with their own hints
/// ([`Object::require`]).
const SCHEDULE: Keys = Keys {
    what: "a schedule",
    required: &[],
    optional: &["time_zone", "open", "closed", "dates", "description"],
};

/// Minutes in a day: the end of the last period of a day (`24:00`).
const MINUTES_PER_DAY: u16 = 24 * 60;

/// What can be wrong in a schedule beyond its JSON shape (which the [`Reader`] checks). Each
/// message quotes the input and says what to write; where it is (`time_zone`, `open`, `Mon-Fri`,
/// `closed[2]`, …) is the place of the problem the reader records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// `time_zone` names no zone of the bundled IANA database.
    #[error(
        "`{name}` is not a time zone of the IANA database{suggestion}: write a name such as America/New_York, Europe/Paris or UTC"
    )]
    UnknownZone {
        /// The name as written.
        name: String,
        /// ` (did you mean `…`?)`, or empty.
        suggestion: String,
    },
    /// `time_zone` names a time, not a place: an abbreviation (`EST`, `PST`) or an offset
    /// (`UTC+2`, `Etc/GMT+5`). A schedule follows the clock of a place, daylight-saving changes
    /// included, and these are hours off from it for part of the year, or ambiguous.
    #[error("`{name}` {explanation}")]
    NotAPlace {
        /// The name as written.
        name: String,
        /// What it stands for and what to write instead.
        explanation: String,
    },
    /// A key of `open` is not a day, a range or a list of them.
    #[error(
        "`{key}` is not a day: write Mon, Tue, Wed, Thu, Fri, Sat or Sun, a range such as Mon-Fri, or a list such as Sat,Sun"
    )]
    Days {
        /// The key as written.
        key: String,
    },
    /// A day appears under two keys of `open`, so its hours would be ambiguous.
    #[error("{day} is in both `{first}` and `{second}`: give each day its hours under one key")]
    RepeatedDay {
        /// The day.
        day: &'static str,
        /// The first key naming it.
        first: String,
        /// The second key naming it.
        second: String,
    },
    /// A period is not `HH:MM-HH:MM` with the start before the end.
    #[error("`{period}` {problem}")]
    Period {
        /// The period as written.
        period: String,
        /// What is wrong and what to write.
        problem: String,
    },
    /// A date is not a valid `YYYY-MM-DD`.
    #[error("`{date}` is not a date: write YYYY-MM-DD with a real month and day, e.g. 2026-12-25")]
    Date {
        /// The text as written.
        date: String,
    },
    /// A date is listed twice (in `closed`, in `dates`, or in both).
    #[error("{date} is already listed: give each date once, in `closed` or in `dates`")]
    RepeatedDate {
        /// The date.
        date: Date,
    },
}

/// Something a rule can read from a schedule: `schedules.<name>.<attribute>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    /// `open`: whether the schedule is open.
    Open,
    /// One of TaskRouter's time-of-day attributes on the schedule's wall clock.
    Local(time_of_day::Attribute),
}

impl Attribute {
    /// The attribute named `name` (case-sensitive, as TaskRouter's own names are).
    pub fn from_name(name: &str) -> Option<Attribute> {
        if name == "open" {
            return Some(Attribute::Open);
        }
        time_of_day::Attribute::from_name(name).map(Attribute::Local)
    }

    /// What the attribute holds, so literals compared with it are read in its terms.
    pub fn known(self) -> Known {
        match self {
            Attribute::Open => Known::Boolean,
            Attribute::Local(attribute) => Known::of(attribute),
        }
    }

    /// The names a schedule answers to, for messages.
    pub fn names() -> String {
        format!("open, {}", time_of_day::attribute_names())
    }
}

/// One period of opening, in minutes since local midnight: `start` included, `end` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Period {
    start: u16,
    end: u16,
}

impl Period {
    fn contains(self, minute: u16) -> bool {
        self.start <= minute && minute < self.end
    }
}

/// A compiled schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    zone: TimeZone,
    /// Opening periods per weekday, Monday first.
    weekly: [Vec<Period>; 7],
    /// Dates with their own periods (empty: closed), sorted by date.
    dates: Vec<(Date, Vec<Period>)>,
}

impl Schedule {
    /// Compiles a schedule from its JSON spec (module docs), read as a document of its own.
    ///
    /// # Errors
    ///
    /// Every problem [`Schedule::read`] finds.
    pub fn compile(spec: &Value) -> Result<Schedule, Problems> {
        let text = spec.to_string();
        let (reader, value) = Reader::parse("schedule", &text)?;
        let schedule = Schedule::read(&reader.root(&value));
        let problems = reader.finish();
        match schedule {
            Some(schedule) if !problems.has_errors() => Ok(schedule),
            _ => Err(problems),
        }
    }

    /// Reads the schedule at `node`, recording every problem there: a spec that is not an
    /// object, an unknown or missing key, a time zone the IANA database does not have (or an
    /// abbreviation or an offset), a key of `open` that is not a day, a day given hours twice, a
    /// period that is not `HH:MM-HH:MM` with its start before its end, a date that is not a real
    /// `YYYY-MM-DD`, or a date listed twice. `None` when there was any.
    pub fn read(node: &Node<'_>) -> Option<Schedule> {
        let spec = node.object(&SCHEDULE)?;
        if let Some(description) = spec.get("description") {
            description.string();
        }
        let zone = spec
            .require(
                "time_zone",
                "name the IANA time zone the hours are in, e.g. \"time_zone\": \"America/New_York\"",
            )
            .and_then(|node| {
                let Some(name) = node.value().as_str() else {
                    node.wrong_type("a time zone name such as \"America/New_York\"");
                    return None;
                };
                zone(name).map_err(|error| node.error(error)).ok()
            });
        let weekly = spec
            .require(
                "open",
                "give the weekly hours, e.g. \"open\": {\"Mon-Fri\": [\"08:00-18:00\"]}",
            )
            .and_then(|node| {
                if !node.value().is_object() {
                    node.wrong_type(
                        "an object of days and hours, e.g. {\"Mon-Fri\": [\"08:00-18:00\"]}",
                    );
                    return None;
                }
                weekly(&node)
            });
        let dates = dates(&spec);
        let (zone, weekly, mut dates) = (zone?, weekly?, dates?);
        dates.sort_unstable_by_key(|(date, _)| *date);
        Some(Schedule {
            zone,
            weekly,
            dates,
        })
    }

    /// Whether the schedule is open at `instant`.
    pub fn is_open(&self, instant: Timestamp) -> bool {
        let local = self.zone.to_datetime(instant);
        let reading = TimeOfDay::from_civil(local);
        let periods = match self
            .dates
            .binary_search_by_key(&local.date(), |(date, _)| *date)
        {
            Ok(index) => &self.dates[index].1,
            Err(_) => &self.weekly[time_of_day::day_index(reading.weekday())],
        };
        let minute = reading.minute_of_day();
        periods.iter().any(|period| period.contains(minute))
    }

    /// The value of `attribute` at `instant`.
    pub fn get(&self, attribute: Attribute, instant: Timestamp) -> Operand<'static> {
        match attribute {
            Attribute::Open => Operand::Bool(self.is_open(instant)),
            Attribute::Local(attribute) => {
                expression::reading(TimeOfDay::in_zone(instant, &self.zone).get(attribute))
            }
        }
    }
}

/// The zone named `name` in the bundled database.
fn zone(name: &str) -> Result<TimeZone, ScheduleError> {
    if let Some(explanation) = not_a_place(name) {
        return Err(ScheduleError::NotAPlace {
            name: name.to_owned(),
            explanation,
        });
    }
    // jiff also accepts POSIX TZ strings and fixed offsets through other routines; `get` reads
    // only the IANA database, which is what a reader of the document expects.
    TimeZone::get(name).map_err(|_| {
        if looks_like_an_abbreviation(name) {
            return ScheduleError::NotAPlace {
                name: name.to_owned(),
                explanation: format!(
                    "looks like an abbreviation, not a time zone: abbreviations name one half of the year and are shared by places hours apart (CST is both Chicago and Shanghai), so none is guessed; {WRITE_A_PLACE}"
                ),
            };
        }
        ScheduleError::UnknownZone {
            name: name.to_owned(),
            suggestion: zone_suggestion(name)
                .map(|known| format!(" (did you mean `{known}`?)"))
                .unwrap_or_default(),
        }
    })
}

/// What every "not a place" message asks for.
const WRITE_A_PLACE: &str = "write the place whose clock the business keeps, such as America/New_York, Europe/Paris or Asia/Kolkata, and its daylight-saving changes are followed too";

/// Time-zone abbreviations, upper case, with what they stand for. People write them in
/// `time_zone`, but they are not zones: each names one half of the year (`PST` is winter in Los
/// Angeles), several name places hours apart (`CST`, `IST`, `BST`), and the few the IANA
/// database keeps for compatibility are not what they seem (its `EST` and `MST` are fixed
/// offsets, an hour off New York and Denver in summer). The places are the IANA zones where the
/// abbreviation is in use (the database's own `northamerica`, `europe`, `asia`, `australasia`,
/// `africa` and `southamerica` files print them).
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("EST", "US Eastern time (America/New_York, America/Toronto)"),
    (
        "EDT",
        "US Eastern time in summer (America/New_York, America/Toronto)",
    ),
    (
        "EST5EDT",
        "US Eastern time (America/New_York), in POSIX style",
    ),
    (
        "CST",
        "US Central time (America/Chicago, America/Mexico_City), China (Asia/Shanghai) or Cuba (America/Havana)",
    ),
    (
        "CDT",
        "US Central time in summer (America/Chicago) or Cuba in summer (America/Havana)",
    ),
    (
        "CST6CDT",
        "US Central time (America/Chicago), in POSIX style",
    ),
    (
        "MST",
        "US Mountain time (America/Denver; America/Phoenix keeps it all year)",
    ),
    ("MDT", "US Mountain time in summer (America/Denver)"),
    (
        "MST7MDT",
        "US Mountain time (America/Denver), in POSIX style",
    ),
    (
        "PST",
        "US Pacific time (America/Los_Angeles, America/Vancouver) or the Philippines (Asia/Manila)",
    ),
    (
        "PDT",
        "US Pacific time in summer (America/Los_Angeles, America/Vancouver)",
    ),
    (
        "PST8PDT",
        "US Pacific time (America/Los_Angeles), in POSIX style",
    ),
    ("AKST", "Alaska (America/Anchorage)"),
    ("AKDT", "Alaska in summer (America/Anchorage)"),
    ("HST", "Hawaii (Pacific/Honolulu)"),
    (
        "AST",
        "Atlantic time (America/Halifax; America/Puerto_Rico keeps it all year) or Arabia (Asia/Riyadh)",
    ),
    ("ADT", "Atlantic time in summer (America/Halifax)"),
    ("NST", "Newfoundland (America/St_Johns)"),
    ("NDT", "Newfoundland in summer (America/St_Johns)"),
    ("BRT", "Brasília (America/Sao_Paulo)"),
    ("ART", "Argentina (America/Argentina/Buenos_Aires)"),
    (
        "BST",
        "the United Kingdom in summer (Europe/London) or Bangladesh (Asia/Dhaka)",
    ),
    (
        "IST",
        "India (Asia/Kolkata), Ireland in summer (Europe/Dublin) or Israel (Asia/Jerusalem)",
    ),
    (
        "WET",
        "Western European time (Europe/Lisbon, Atlantic/Canary)",
    ),
    (
        "WEST",
        "Western European time in summer (Europe/Lisbon, Atlantic/Canary)",
    ),
    (
        "CET",
        "Central European time (Europe/Paris, Europe/Berlin, Europe/Madrid, …)",
    ),
    (
        "CEST",
        "Central European time in summer (Europe/Paris, Europe/Berlin, Europe/Madrid, …)",
    ),
    (
        "MET",
        "Central European time (Europe/Paris, Europe/Berlin, Europe/Madrid, …)",
    ),
    (
        "MEST",
        "Central European time in summer (Europe/Paris, Europe/Berlin, Europe/Madrid, …)",
    ),
    (
        "EET",
        "Eastern European time (Europe/Athens, Europe/Helsinki, Europe/Bucharest, …)",
    ),
    (
        "EEST",
        "Eastern European time in summer (Europe/Athens, Europe/Helsinki, Europe/Bucharest, …)",
    ),
    ("MSK", "Moscow (Europe/Moscow)"),
    ("WAT", "West Africa (Africa/Lagos)"),
    ("CAT", "Central Africa (Africa/Maputo)"),
    ("EAT", "East Africa (Africa/Nairobi)"),
    ("SAST", "South Africa (Africa/Johannesburg)"),
    ("PKT", "Pakistan (Asia/Karachi)"),
    ("ICT", "Indochina (Asia/Bangkok, Asia/Ho_Chi_Minh)"),
    ("WIB", "western Indonesia (Asia/Jakarta)"),
    ("SGT", "Singapore (Asia/Singapore)"),
    ("HKT", "Hong Kong (Asia/Hong_Kong)"),
    ("PHT", "the Philippines (Asia/Manila)"),
    ("JST", "Japan (Asia/Tokyo)"),
    ("KST", "Korea (Asia/Seoul)"),
    ("AWST", "western Australia (Australia/Perth)"),
    (
        "ACST",
        "central Australia (Australia/Adelaide; Australia/Darwin keeps it all year)",
    ),
    ("ACDT", "central Australia in summer (Australia/Adelaide)"),
    (
        "AEST",
        "eastern Australia (Australia/Sydney, Australia/Melbourne; Australia/Brisbane keeps it all year)",
    ),
    (
        "AEDT",
        "eastern Australia in summer (Australia/Sydney, Australia/Melbourne)",
    ),
    ("NZST", "New Zealand (Pacific/Auckland)"),
    ("NZDT", "New Zealand in summer (Pacific/Auckland)"),
];

/// Why `name` names a time rather than a place ([`ScheduleError::NotAPlace`]), or `None`.
///
/// An offset is never turned into a zone: the database's `Etc/GMT` zones have their sign
/// inverted (POSIX style: `Etc/GMT+5` is five hours *behind* UTC), so `UTC+2` "corrected" to the
/// similar-looking `Etc/GMT+2` would be four hours off, and a fixed offset is an hour off the
/// place it was read from for half the year anyway. An offset of zero is UTC, which is said.
fn not_a_place(name: &str) -> Option<String> {
    let upper = name.trim().to_ascii_uppercase();
    if let Some((_, meaning)) = ABBREVIATIONS
        .iter()
        .find(|(abbreviation, _)| *abbreviation == upper)
    {
        let kept = match TimeZone::get(name) {
            Ok(zone) => {
                // Two instants half a year apart, fixed: the module stays pure.
                let winter = zone.to_offset(Timestamp::constant(1_767_268_800, 0));
                let summer = zone.to_offset(Timestamp::constant(1_782_907_200, 0));
                if winter == summer {
                    format!(
                        " (the IANA database keeps a `{upper}` for compatibility only: {} all year, with no daylight-saving time)",
                        utc_offset(winter.seconds() / 60)
                    )
                } else {
                    format!(" (the IANA database keeps a `{upper}` for compatibility only)")
                }
            }
            Err(_) => String::new(),
        };
        return Some(format!(
            "is an abbreviation, not a time zone: it stands for {meaning}{kept}; {WRITE_A_PLACE}"
        ));
    }
    let (posix, sign, minutes) = offset(&upper)?;
    if minutes == 0 {
        // `GMT+0`, `Etc/GMT-0` are database names for UTC: nothing is off.
        return if TimeZone::get(name).is_ok() {
            None
        } else {
            Some("is UTC written as an offset: write UTC".to_owned())
        };
    }
    // What the text means: the POSIX reading for the database's `Etc/GMT` names.
    let ahead = if posix { sign < 0 } else { sign > 0 };
    let minutes = i32::from(minutes);
    let shown = utc_offset(if ahead { minutes } else { -minutes });
    Some(if posix {
        format!(
            "is {shown} all year: in the IANA database's `Etc/GMT` names the sign is inverted (POSIX style: `Etc/GMT+5` is five hours behind UTC), the opposite of how offsets are usually written, and a fixed offset ignores daylight-saving time; {WRITE_A_PLACE}"
        )
    } else {
        format!(
            "is an offset ({shown}), not a time zone: a fixed offset ignores the daylight-saving changes of the place it was read from, and the database's similar-looking `Etc/GMT` names have the sign inverted (POSIX style), so none is suggested; {WRITE_A_PLACE}"
        )
    })
}

/// `UTC+05:30`, `UTC-05:00`.
fn utc_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let minutes = minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `text` (upper case) as an offset: `UTC+2`, `GMT-03:30`, `+0530`, `Z`, `Etc/GMT+5`. Returns
/// whether it is a database `Etc/GMT` name (POSIX signs), the sign as written (+1 or -1) and
/// the offset in minutes.
fn offset(text: &str) -> Option<(bool, i8, u16)> {
    if text == "Z" {
        return Some((false, 1, 0));
    }
    let (posix, rest) = match text.strip_prefix("ETC/GMT") {
        Some(rest) => (true, rest),
        None => {
            let rest = ["UTC", "GMT", "UT"]
                .iter()
                .find_map(|prefix| text.strip_prefix(prefix))
                .unwrap_or(text);
            (false, rest.trim_start())
        }
    };
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (hours, minutes) = match digits.split_once(':') {
        Some((hours, minutes)) => (hours, minutes),
        None if digits.len() > 2 => digits.split_at(digits.len() - 2),
        None => (digits, "0"),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if hours.len() > 2 || minutes.len() > 2 || !all_digits(hours) || !all_digits(minutes) {
        return None;
    }
    let (hours, minutes) = (hours.parse::<u16>().ok()?, minutes.parse::<u16>().ok()?);
    (hours <= 14 && minutes < 60).then_some((posix, sign, hours * 60 + minutes))
}

/// A short run of capital letters (`XST`, `WAST`): what an abbreviation looks like, and too short
/// for a spelling correction to be more than a guess.
fn looks_like_an_abbreviation(name: &str) -> bool {
    (2..=5).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_uppercase())
}

/// The zone name closest to a misspelled one, when one is close enough to be the likely intent.
///
/// Never a name [`not_a_place`] refuses (an abbreviation, an `Etc/GMT` offset), and a fuzzy
/// match only for names long enough that one edit is a typo rather than another place: a city
/// given without its region (`Paris`) is found at any length.
fn zone_suggestion(name: &str) -> Option<String> {
    let wanted = name.to_ascii_lowercase().replace(' ', "_");
    let last = |text: &str| text.rsplit('/').next().unwrap_or(text).to_owned();
    let fuzzy = wanted.contains('/') || wanted.chars().count() > 5;
    jiff::tz::db()
        .available()
        .map(|known| known.as_str().to_owned())
        .filter(|known| !known.starts_with("Etc/") && not_a_place(known).is_none())
        .filter_map(|known| {
            let folded = known.to_ascii_lowercase();
            // A city given without its region (`New_York`) is as likely as a typo.
            let distance = if last(&folded) == wanted {
                0
            } else if fuzzy {
                edit_distance(&wanted, &folded)
            } else {
                return None;
            };
            (distance <= (folded.len() / 6).max(1)).then_some((distance, known))
        })
        .min()
        .map(|(_, known)| known)
}

/// `closed` and `dates`, each date once; `None` when either has a problem (recorded).
fn dates(spec: &Object<'_>) -> Option<Vec<(Date, Vec<Period>)>> {
    let mut dates: Vec<(Date, Vec<Period>)> = Vec::new();
    let mut ok = true;
    if let Some(closed) = spec.get("closed") {
        if closed.value().is_array() {
            for item in closed.array().into_iter().flatten() {
                let Some(text) = item.value().as_str() else {
                    item.wrong_type("a date such as \"2026-12-25\"");
                    ok = false;
                    continue;
                };
                ok &= date(text)
                    .and_then(|day| add_date(&mut dates, day, Vec::new()))
                    .map_err(|error| item.error(error))
                    .is_ok();
            }
        } else {
            closed.wrong_type("an array of dates such as [\"2026-12-25\"]");
            ok = false;
        }
    }
    if let Some(special) = spec.get("dates") {
        match special.value().as_object() {
            Some(map) => {
                for key in map.keys() {
                    let Some(item) = special.member(key) else {
                        continue;
                    };
                    let day = date(key).map_err(|error| item.error(error)).ok();
                    let periods = periods(&item);
                    match (day, periods) {
                        (Some(day), Some(periods)) => {
                            ok &= add_date(&mut dates, day, periods)
                                .map_err(|error| item.error(error))
                                .is_ok();
                        }
                        _ => ok = false,
                    }
                }
            }
            None => {
                special.wrong_type(
                    "an object of dates and hours, e.g. {\"2026-12-24\": [\"08:00-13:00\"]}",
                );
                ok = false;
            }
        }
    }
    ok.then_some(dates)
}

/// The weekly periods of `open` (an object), Monday first; `None` when any key or period has a
/// problem (recorded).
fn weekly(open: &Node<'_>) -> Option<[Vec<Period>; 7]> {
    let mut weekly: [Vec<Period>; 7] = Default::default();
    let mut given: [Option<&str>; 7] = [None; 7];
    let mut ok = true;
    for key in open
        .value()
        .as_object()
        .into_iter()
        .flat_map(|map| map.keys())
    {
        let Some(item) = open.member(key) else {
            continue;
        };
        let periods = periods(&item);
        let days = days(key).map_err(|error| item.error(error)).ok();
        let (Some(periods), Some(days)) = (periods, days) else {
            ok = false;
            continue;
        };
        for day in days {
            if let Some(first) = given[day] {
                item.error(ScheduleError::RepeatedDay {
                    day: DAY_NAMES[day],
                    first: first.to_owned(),
                    second: key.clone(),
                });
                ok = false;
                continue;
            }
            given[day] = Some(key);
            weekly[day].clone_from(&periods);
        }
    }
    ok.then_some(weekly)
}

/// The days a key of `open` names, Monday = 0: `Mon`, `Mon-Fri`, `Fri-Mon`, `Sat,Sun`.
fn days(key: &str) -> Result<Vec<usize>, ScheduleError> {
    let bad = || ScheduleError::Days {
        key: key.to_owned(),
    };
    let day = |name: &str| {
        time_of_day::parse_day(name.trim())
            .map(time_of_day::day_index)
            .ok_or_else(bad)
    };
    let mut days = Vec::new();
    for part in key.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (day(first)?, day(last)?);
                let mut current = first;
                loop {
                    days.push(current);
                    if current == last {
                        break;
                    }
                    current = (current + 1) % 7;
                }
            }
            None => days.push(day(part)?),
        }
    }
    // A day named twice in one key (`Mon,Mon-Fri`) is the same hours twice: harmless, kept once.
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

/// The periods of an array of `HH:MM-HH:MM` strings; `None` when any has a problem (recorded).
fn periods(node: &Node<'_>) -> Option<Vec<Period>> {
    if !node.value().is_array() {
        node.wrong_type("an array of periods such as [\"08:00-18:00\"] ([] for closed)");
        return None;
    }
    let mut periods = Vec::new();
    let mut ok = true;
    for item in node.array().into_iter().flatten() {
        let Some(text) = item.value().as_str() else {
            item.wrong_type("a period written as \"HH:MM-HH:MM\"");
            ok = false;
            continue;
        };
        match period(text) {
            Ok(period) => periods.push(period),
            Err(error) => {
                item.error(error);
                ok = false;
            }
        }
    }
    ok.then_some(periods)
}

/// `HH:MM-HH:MM`, start before end, `24:00` allowed as an end.
fn period(text: &str) -> Result<Period, ScheduleError> {
    let problem = |problem: &str| ScheduleError::Period {
        period: text.to_owned(),
        problem: problem.to_owned(),
    };
    let shape = "is not a period: write HH:MM-HH:MM on a 24-hour clock, e.g. 08:00-18:00";
    let (start, end) = text.split_once('-').ok_or_else(|| problem(shape))?;
    let (start, end) = (
        clock(start).ok_or_else(|| problem(shape))?,
        clock(end).ok_or_else(|| problem(shape))?,
    );
    if start >= MINUTES_PER_DAY {
        return Err(problem(
            "starts at the end of the day: a period starts at 00:00 to 23:59",
        ));
    }
    if end <= start {
        return Err(problem(
            "does not end after it starts: periods cannot cross midnight, so split one such as \
             22:00-06:00 into 22:00-24:00 on the first day and 00:00-06:00 on the next",
        ));
    }
    Ok(Period { start, end })
}

/// `HH:MM` as minutes since midnight, `00:00` to `24:00`; exactly two digits each.
fn clock(text: &str) -> Option<u16> {
    let bytes = text.as_bytes();
    if bytes.len() != 5 || bytes[2] != b':' {
        return None;
    }
    let two = |high: u8, low: u8| -> Option<u16> {
        (high.is_ascii_digit() && low.is_ascii_digit())
            .then(|| u16::from(high - b'0') * 10 + u16::from(low - b'0'))
    };
    let (hour, minute) = (two(bytes[0], bytes[1])?, two(bytes[3], bytes[4])?);
    match (hour, minute) {
        (0..=23, 0..=59) | (24, 0) => Some(hour * 60 + minute),
        _ => None,
    }
}

/// `YYYY-MM-DD`, exactly, naming a real day.
fn date(text: &str) -> Result<Date, ScheduleError> {
    let bad = || ScheduleError::Date {
        date: text.to_owned(),
    };
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i16> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(bad());
    }
    let (year, month, day) = (
        digits(0..4).ok_or_else(bad)?,
        digits(5..7).ok_or_else(bad)?,
        digits(8..10).ok_or_else(bad)?,
    );
    let month = i8::try_from(month).map_err(|_| bad())?;
    let day = i8::try_from(day).map_err(|_| bad())?;
    Date::new(year, month, day).map_err(|_| bad())
}

fn add_date(
    dates: &mut Vec<(Date, Vec<Period>)>,
    date: Date,
    periods: Vec<Period>,
) -> Result<(), ScheduleError> {
    if dates.iter().any(|(known, _)| *known == date) {
        return Err(ScheduleError::RepeatedDate { date });
    }
    dates.push((date, periods));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schedule(spec: Value) -> Schedule {
        Schedule::compile(&spec).unwrap_or_else(|error| panic!("the schedule compiles: {error}"))
    }

    fn instant(text: &str) -> Timestamp {
        text.parse().expect("an RFC 3339 instant")
    }

    /// New York office hours: weekdays 08:00-18:00, Saturday mornings, two holidays, an early
    /// close on Christmas Eve.
    fn new_york() -> Schedule {
        schedule(json!({
            "time_zone": "America/New_York",
            "open": {"Mon-Fri": ["08:00-18:00"], "Sat": ["10:00-14:00"]},
            "closed": ["2026-11-26", "2026-12-25"],
            "dates": {"2026-12-24": ["08:00-13:00"]}
        }))
    }

    #[test]
    fn opening_hours_hold_in_the_zone_on_both_sides_of_both_daylight_saving_changes() {
        let schedule = new_york();
        #[rustfmt::skip]
        let cases = [
            // 2026-03-08 (Sunday): New York moves from EST (UTC-5) to EDT (UTC-4).
            ("2026-03-06T12:30:00Z", false, "Friday before the change: 07:30 EST, not open yet"),
            ("2026-03-06T13:00:00Z", true, "Friday before the change: 08:00 EST opens"),
            ("2026-03-06T22:59:00Z", true, "Friday before the change: 17:59 EST"),
            ("2026-03-06T23:00:00Z", false, "Friday before the change: 18:00 EST closes"),
            ("2026-03-09T12:00:00Z", true, "Monday after the change: 08:00 EDT opens, an hour earlier in UTC"),
            ("2026-03-09T11:59:00Z", false, "Monday after the change: 07:59 EDT"),
            ("2026-03-09T22:00:00Z", false, "Monday after the change: 18:00 EDT closes, an hour earlier in UTC"),
            // 2026-11-01 (Sunday): New York moves back from EDT to EST.
            ("2026-10-30T12:00:00Z", true, "Friday before the change: 08:00 EDT"),
            ("2026-10-30T21:59:00Z", true, "Friday before the change: 17:59 EDT"),
            ("2026-10-30T22:00:00Z", false, "Friday before the change: 18:00 EDT"),
            ("2026-11-02T12:00:00Z", false, "Monday after the change: 07:00 EST, not open yet"),
            ("2026-11-02T13:00:00Z", true, "Monday after the change: 08:00 EST opens"),
            ("2026-11-02T22:30:00Z", true, "Monday after the change: 17:30 EST, later in UTC"),
            // Saturdays, Sundays, holidays and the early close.
            ("2026-11-07T15:00:00Z", true, "Saturday 10:00 EST"),
            ("2026-11-07T19:00:00Z", false, "Saturday 14:00 EST closes"),
            ("2026-11-08T16:00:00Z", false, "Sunday is not listed: closed"),
            ("2026-11-26T16:00:00Z", false, "Thanksgiving, a Thursday, is closed"),
            ("2026-11-27T16:00:00Z", true, "the Friday after is open"),
            ("2026-12-24T17:59:00Z", true, "Christmas Eve 12:59 EST"),
            ("2026-12-24T18:00:00Z", false, "Christmas Eve closes at 13:00 EST"),
            ("2026-12-25T16:00:00Z", false, "Christmas is closed"),
        ];
        for (at, open, message) in cases {
            assert_eq!(schedule.is_open(instant(at)), open, "{message}: {at}");
        }
    }

    #[test]
    fn holidays_are_local_dates_not_utc_dates() {
        // Auckland is UTC+13 in December: its Christmas starts at 11:00 UTC on the 24th.
        let schedule = schedule(json!({
            "time_zone": "Pacific/Auckland",
            "open": {"Mon-Sun": ["00:00-24:00"]},
            "closed": ["2026-12-25"]
        }));
        #[rustfmt::skip]
        let cases = [
            ("2026-12-24T10:59:00Z", true, "23:59 on the 24th in Auckland"),
            ("2026-12-24T11:00:00Z", false, "00:00 on the 25th in Auckland, still the 24th in UTC"),
            ("2026-12-25T10:59:00Z", false, "23:59 on the 25th in Auckland"),
            ("2026-12-25T11:00:00Z", true, "the 26th in Auckland, still the 25th in UTC"),
        ];
        for (at, open, message) in cases {
            assert_eq!(schedule.is_open(instant(at)), open, "{message}: {at}");
        }
    }

    #[test]
    fn hours_on_the_change_nights_follow_the_wall_clock() {
        let schedule = schedule(json!({
            "time_zone": "America/New_York",
            "open": {"Sun": ["01:00-02:00", "03:00-04:00"]}
        }));
        #[rustfmt::skip]
        let cases = [
            ("2026-03-08T06:59:00Z", true, "01:59 EST, the last minute before clocks skip to 03:00"),
            ("2026-03-08T07:00:00Z", true, "03:00 EDT, one UTC minute later"),
            ("2026-03-08T08:00:00Z", false, "04:00 EDT"),
            ("2026-11-01T05:30:00Z", true, "the first 01:30 (EDT)"),
            ("2026-11-01T06:30:00Z", true, "the second 01:30 (EST): the repeated hour is open again"),
            ("2026-11-01T07:00:00Z", false, "02:00 EST"),
        ];
        for (at, open, message) in cases {
            assert_eq!(schedule.is_open(instant(at)), open, "{message}: {at}");
        }
    }

    #[test]
    fn local_attributes_are_twilios_names_read_on_the_schedules_wall_clock() {
        let schedule = new_york();
        let read = |at: &str, name: &str| {
            schedule.get(
                Attribute::from_name(name).expect("an attribute"),
                instant(at),
            )
        };
        #[rustfmt::skip]
        let cases = [
            ("2026-03-06T13:05:00Z", "currentTime", Operand::Integer(805), "EST"),
            ("2026-03-09T13:05:00Z", "currentTime", Operand::Integer(905), "EDT"),
            ("2026-03-09T13:05:00Z", "currentHour", Operand::Integer(9), "EDT hour"),
            ("2026-03-09T13:05:00Z", "currentMin", Operand::Integer(5), "minute"),
            ("2026-03-10T03:00:00Z", "dayOfWeek", Operand::String("Mon"), "still Monday in New York"),
            ("2026-03-09T13:05:00Z", "open", Operand::Bool(true), "open"),
            ("2026-03-08T13:05:00Z", "open", Operand::Bool(false), "closed on Sunday"),
        ];
        for (at, name, expected, message) in cases {
            assert_eq!(read(at, name), expected, "{message}: {name} at {at}");
        }
        assert_eq!(
            Attribute::from_name("Open"),
            None,
            "names are case-sensitive"
        );
        assert_eq!(
            Attribute::names(),
            "open, currentTime, currentHour, currentMin, dayOfWeek"
        );
    }

    #[test]
    fn the_earliest_and_latest_instants_are_read_without_panicking() {
        let schedule = new_york();
        for extreme in [Timestamp::MIN, Timestamp::MAX] {
            let _ = schedule.is_open(extreme);
            for name in ["open", "dayOfWeek", "currentTime"] {
                let _ = schedule.get(Attribute::from_name(name).expect("an attribute"), extreme);
            }
        }
    }

    #[test]
    fn days_ranges_and_lists_name_the_weekdays_they_cover() {
        #[rustfmt::skip]
        let cases: [(&str, &[usize], &str); 6] = [
            ("Mon", &[0], "one day"),
            ("mon-FRI", &[0, 1, 2, 3, 4], "a range, in any case"),
            ("Fri-Mon", &[0, 4, 5, 6], "a range wrapping over the weekend"),
            ("Sat,Sun", &[5, 6], "a list"),
            ("Mon-Wed, Fri", &[0, 1, 2, 4], "a range and a day, with a space"),
            ("Sun-Sat", &[0, 1, 2, 3, 4, 5, 6], "the whole week"),
        ];
        for (key, expected, message) in cases {
            assert_eq!(days(key).expect(message), expected, "{message}: {key}");
        }
    }

    #[test]
    fn periods_are_exact_24_hour_clock_times() {
        assert_eq!(
            period("00:00-24:00"),
            Ok(Period {
                start: 0,
                end: 1440
            })
        );
        assert_eq!(
            period("08:30-17:45"),
            Ok(Period {
                start: 510,
                end: 1065
            })
        );
        for bad in [
            "8:00-18:00",
            "08:00-25:00",
            "08:60-09:00",
            "08:00",
            "08:00–18:00",
            "24:00-24:00",
            "",
            "08:00-18:00-19:00",
        ] {
            assert!(period(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_mistake_stops_the_compile_with_a_message_quoting_the_input() {
        let base =
            || json!({"time_zone": "America/New_York", "open": {"Mon-Fri": ["08:00-18:00"]}});
        let with = |key: &str, value: Value| {
            let mut spec = base();
            spec[key] = value;
            spec
        };
        #[rustfmt::skip]
        let cases = [
            (json!("America/New_York"), "expected a schedule (an object), found a string", "not an object"),
            (json!({"open": {}}), "missing key `time_zone`: name the IANA time zone the hours are in, e.g. \"time_zone\": \"America/New_York\"", "no zone"),
            (json!({"time_zone": "UTC"}), "missing key `open`: give the weekly hours, e.g. \"open\": {\"Mon-Fri\": [\"08:00-18:00\"]}", "no hours"),
            (with("timezone", json!("UTC")), "unknown key `timezone`: did you mean `time_zone`?", "a typo in a key"),
            (with("time_zone", json!("America/New_Yrok")), "time_zone: `America/New_Yrok` is not a time zone of the IANA database (did you mean `America/New_York`?): write a name such as America/New_York, Europe/Paris or UTC", "a misspelled zone"),
            (with("time_zone", json!("New_York")), "time_zone: `New_York` is not a time zone of the IANA database (did you mean `America/New_York`?): write a name such as America/New_York, Europe/Paris or UTC", "a city without its region"),
            (with("time_zone", json!("Mars/Olympus_Mons")), "time_zone: `Mars/Olympus_Mons` is not a time zone of the IANA database: write a name such as America/New_York, Europe/Paris or UTC", "no zone close to it"),
            (with("time_zone", json!(-5)), "time_zone: expected a time zone name such as \"America/New_York\", found a number", "an offset instead of a zone"),
            (with("open", json!({"Weekdays": ["08:00-18:00"]})), "open, `Weekdays`: `Weekdays` is not a day: write Mon, Tue, Wed, Thu, Fri, Sat or Sun, a range such as Mon-Fri, or a list such as Sat,Sun", "a key that is not a day"),
            (with("open", json!({"Mon-Fri": ["08:00-18:00"], "Fri": ["08:00-12:00"]})), "open, `Mon-Fri`: Fri is in both `Fri` and `Mon-Fri`: give each day its hours under one key", "a day twice"),
            (with("open", json!({"Mon": ["22:00-06:00"]})), "open, `Mon`[0]: `22:00-06:00` does not end after it starts: periods cannot cross midnight, so split one such as 22:00-06:00 into 22:00-24:00 on the first day and 00:00-06:00 on the next", "a period across midnight"),
            (with("open", json!({"Mon": ["8am-6pm"]})), "open, `Mon`[0]: `8am-6pm` is not a period: write HH:MM-HH:MM on a 24-hour clock, e.g. 08:00-18:00", "a 12-hour clock"),
            (with("open", json!({"Mon": "08:00-18:00"})), "open, `Mon`: expected an array of periods such as [\"08:00-18:00\"] ([] for closed), found a string", "a period outside an array"),
            (with("closed", json!(["2026-12-25", "2026-13-01"])), "closed[1]: `2026-13-01` is not a date: write YYYY-MM-DD with a real month and day, e.g. 2026-12-25", "month 13"),
            (with("closed", json!(["2026-02-29"])), "closed[0]: `2026-02-29` is not a date: write YYYY-MM-DD with a real month and day, e.g. 2026-12-25", "not a leap year"),
            (with("closed", json!(["12/25/2026"])), "closed[0]: `12/25/2026` is not a date: write YYYY-MM-DD with a real month and day, e.g. 2026-12-25", "a US date"),
            (with("closed", json!(["2026-12-25", "2026-12-25"])), "closed[1]: 2026-12-25 is already listed: give each date once, in `closed` or in `dates`", "a date twice"),
            (with("closed", json!("2026-12-25")), "closed: expected an array of dates such as [\"2026-12-25\"], found a string", "a date outside an array"),
            (with("dates", json!({"2026-12-24T00:00": ["08:00-13:00"]})), "dates, `2026-12-24T00:00`: `2026-12-24T00:00` is not a date: write YYYY-MM-DD with a real month and day, e.g. 2026-12-25", "a date with a time"),
            (json!({"time_zone": "UTC", "open": {}, "closed": ["2026-12-24"], "dates": {"2026-12-24": []}}), "dates, `2026-12-24`: 2026-12-24 is already listed: give each date once, in `closed` or in `dates`", "a date in closed and in dates"),
        ];
        for (spec, message, why) in cases {
            let problems = Schedule::compile(&spec).expect_err(why);
            let problem = &problems.all()[0];
            let shown = if problem.place.is_empty() {
                problem.message.clone()
            } else {
                format!("{}: {}", problem.place, problem.message)
            };
            assert_eq!(shown, message, "{why}");
        }
    }

    #[test]
    fn the_bundled_database_knows_zones_without_reading_the_system() {
        // The IANA database is compiled in (jiff's `tzdb-bundle-always`, without
        // `tzdb-zoneinfo`), so a zone resolves the same on a machine without /usr/share/zoneinfo,
        // such as Lambda's provided.al2023 image.
        assert_eq!(
            format!("{:?}", jiff::tz::db()),
            "TimeZoneDatabase(Bundled(available))"
        );
        for name in [
            "America/New_York",
            "Europe/Paris",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "UTC",
        ] {
            assert!(TimeZone::get(name).is_ok(), "{name}");
        }
    }

    /// The error for `time_zone: name`.
    fn zone_error(name: &str) -> String {
        Schedule::compile(&json!({"time_zone": name, "open": {}}))
            .expect_err(name)
            .all()[0]
            .message
            .clone()
    }

    #[test]
    fn an_abbreviation_is_explained_never_corrected_to_a_zone_hours_away() {
        const PLACE: &str = "write the place whose clock the business keeps, such as America/New_York, Europe/Paris or Asia/Kolkata, and its daylight-saving changes are followed too";
        #[rustfmt::skip]
        let cases = [
            // Before: `PST` → `EST` (3 h off), `CST` → `CET` (7 h), `IST` → `EST`, `JST` → `EST`.
            ("PST", format!("`PST` is an abbreviation, not a time zone: it stands for US Pacific time (America/Los_Angeles, America/Vancouver) or the Philippines (Asia/Manila); {PLACE}"), "not in the database"),
            ("CST", format!("`CST` is an abbreviation, not a time zone: it stands for US Central time (America/Chicago, America/Mexico_City), China (Asia/Shanghai) or Cuba (America/Havana); {PLACE}"), "ambiguous"),
            ("ist", format!("`ist` is an abbreviation, not a time zone: it stands for India (Asia/Kolkata), Ireland in summer (Europe/Dublin) or Israel (Asia/Jerusalem); {PLACE}"), "any case"),
            // In the database, but a fixed offset: an hour off New York in summer.
            ("EST", format!("`EST` is an abbreviation, not a time zone: it stands for US Eastern time (America/New_York, America/Toronto) (the IANA database keeps a `EST` for compatibility only: UTC-05:00 all year, with no daylight-saving time); {PLACE}"), "a fixed offset in the database"),
            ("CET", format!("`CET` is an abbreviation, not a time zone: it stands for Central European time (Europe/Paris, Europe/Berlin, Europe/Madrid, …) (the IANA database keeps a `CET` for compatibility only); {PLACE}"), "kept for compatibility"),
            ("PST8PDT", format!("`PST8PDT` is an abbreviation, not a time zone: it stands for US Pacific time (America/Los_Angeles), in POSIX style (the IANA database keeps a `PST8PDT` for compatibility only); {PLACE}"), "POSIX style"),
            ("XYZT", format!("`XYZT` looks like an abbreviation, not a time zone: abbreviations name one half of the year and are shared by places hours apart (CST is both Chicago and Shanghai), so none is guessed; {PLACE}"), "an unknown abbreviation"),
        ];
        for (name, message, why) in cases {
            assert_eq!(zone_error(name), message, "{why}");
        }
    }

    #[test]
    fn an_offset_is_read_as_written_and_never_turned_into_an_etc_gmt_zone() {
        const PLACE: &str = "write the place whose clock the business keeps, such as America/New_York, Europe/Paris or Asia/Kolkata, and its daylight-saving changes are followed too";
        let offset = |shown: &str| {
            format!(
                "is an offset ({shown}), not a time zone: a fixed offset ignores the daylight-saving changes of the place it was read from, and the database's similar-looking `Etc/GMT` names have the sign inverted (POSIX style), so none is suggested; {PLACE}"
            )
        };
        let posix = |shown: &str| {
            format!(
                "is {shown} all year: in the IANA database's `Etc/GMT` names the sign is inverted (POSIX style: `Etc/GMT+5` is five hours behind UTC), the opposite of how offsets are usually written, and a fixed offset ignores daylight-saving time; {PLACE}"
            )
        };
        #[rustfmt::skip]
        let cases = [
            // Before: `GMT+5` → `Etc/GMT+5`, which is UTC-05:00: ten hours off.
            ("GMT+5", offset("UTC+05:00"), "GMT and a sign"),
            ("GMT-3", offset("UTC-03:00"), "a negative offset"),
            ("UTC+2", offset("UTC+02:00"), "UTC and a sign"),
            ("UTC+05:30", offset("UTC+05:30"), "hours and minutes"),
            ("+0530", offset("UTC+05:30"), "ISO 8601 basic"),
            ("-03:00", offset("UTC-03:00"), "ISO 8601 extended"),
            // In the database, with the sign people do not expect.
            ("Etc/GMT+5", posix("UTC-05:00"), "five hours behind UTC"),
            ("Etc/GMT-14", posix("UTC+14:00"), "the largest"),
            ("Z", "is UTC written as an offset: write UTC".to_owned(), "ISO 8601's Z"),
            ("UTC+0", "is UTC written as an offset: write UTC".to_owned(), "a zero offset"),
        ];
        for (name, explanation, why) in cases {
            assert_eq!(zone_error(name), format!("`{name}` {explanation}"), "{why}");
        }
        for name in ["UTC", "GMT", "Etc/UTC", "GMT+0", "Etc/GMT-0", "utc"] {
            assert!(
                Schedule::compile(&json!({"time_zone": name, "open": {}})).is_ok(),
                "{name} is UTC"
            );
        }
    }

    #[test]
    fn typos_and_cities_are_still_corrected_and_suggestions_are_never_abbreviations() {
        #[rustfmt::skip]
        let cases = [
            ("America/Los_Angelas", Some("America/Los_Angeles"), "a typo"),
            ("Paris", Some("Europe/Paris"), "a city without its region"),
            ("Europe/Londn", Some("Europe/London"), "a missing letter"),
            ("Mumbai", None, "a city the database names otherwise (Asia/Kolkata)"),
            ("NZT", None, "short: no fuzzy guess"),
        ];
        for (name, expected, why) in cases {
            assert_eq!(zone_suggestion(name).as_deref(), expected, "{why}");
        }
        // The short names are the ones a refused name could be one edit away from.
        for known in jiff::tz::db().available() {
            let known = known.as_str();
            if known.len() > 8 {
                continue;
            }
            if let Some(suggested) = zone_suggestion(&format!("{known}x")) {
                assert!(
                    not_a_place(&suggested).is_none() && !suggested.starts_with("Etc/"),
                    "{known}x → {suggested}"
                );
            }
        }
    }
}
