//! Cron schedules: when a ping source fires.
//!
//! The five fields of cron (minute, hour, day of month, month, day of week) and the
//! descriptors `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight` and
//! `@hourly`, as Knative's PingSource reads them (its parser is robfig/cron's standard
//! one), at a fixed offset from UTC. Pure: no clock is read here.
//!
//! ```
//! use motif_api::cron::{Schedule, parse_timezone};
//! use time::OffsetDateTime;
//! use time::format_description::well_known::Rfc3339;
//!
//! let schedule = Schedule::parse("30 9 * * MON-FRI")?.with_offset(parse_timezone("+02:00")?);
//! let friday = OffsetDateTime::parse("2024-06-07T08:00:00Z", &Rfc3339).unwrap();
//! let next = schedule.next_after(friday).unwrap();
//! assert_eq!(next.format(&Rfc3339).unwrap(), "2024-06-10T09:30:00+02:00"); // Monday
//! # Ok::<(), String>(())
//! ```
//!
//! # Fields
//!
//! Each field is `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (`a` to the
//! field's end, every `n`), or a comma-separated list of these. Months may be named
//! `JAN`..`DEC` and days of the week `SUN`..`SAT`, in any case; Sunday is `0` or `7`.
//! `?` stands for `*` in the day fields, as robfig/cron allows.
//!
//! # Caveats
//!
//! - When both day fields are restricted, a day matches if *either* does (cron's OR
//!   rule, `0 0 13 * FRI` fires on every 13th and every Friday); when one is `*`, only the
//!   other counts. As in robfig/cron, a field with a step other than 1 (`*/2`) counts as
//!   restricted; Vixie cron would count it as `*`.
//! - Ranges do not wrap: `FRI-SUN` is an error, `5-7` is what it means.
//! - Day of week `7` (Sunday, as in Vixie cron) is accepted here, but robfig/cron and
//!   so Knative's PingSource take only `0`-`6`: compiling for a cluster refuses it
//!   ([`crate::compile()`]), so write `0` or `SUN`.
//! - Time zones are fixed offsets: this crate has no time zone database, so a schedule
//!   in `+01:00` does not follow daylight saving time. Every local minute exists exactly
//!   once, so no tick is skipped or doubled.

use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset};

/// A parsed cron schedule at a fixed offset from UTC ([`UtcOffset::UTC`] unless
/// [`Schedule::with_offset`] says otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Bit `n` set: minute `n` matches.
    minutes: u64,
    hours: u64,
    /// Bits 1 to 31.
    days_of_month: u64,
    /// Bits 1 to 12.
    months: u64,
    /// Bits 0 (Sunday) to 6.
    days_of_week: u64,
    /// Whether the day-of-month field is anything but `*` (cron's OR rule).
    dom_restricted: bool,
    /// Whether the day-of-week field is anything but `*`.
    dow_restricted: bool,
    offset: UtcOffset,
}

/// One of the five fields: its name in messages, its range and its value names.
struct Field {
    name: &'static str,
    min: u8,
    max: u8,
    /// Names of the values from `min` on, matched case-insensitively.
    names: &'static [&'static str],
    /// The names' range, for messages.
    names_range: &'static str,
    /// A day field, where `?` means `*`.
    day: bool,
}

const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
    names_range: "",
    day: false,
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
    names_range: "",
    day: false,
};
const DAY_OF_MONTH: Field = Field {
    name: "day of month",
    min: 1,
    max: 31,
    names: &[],
    names_range: "",
    day: true,
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    names_range: "JAN-DEC",
    day: false,
};
/// 7 is Sunday as well as 0 (folded onto 0 after parsing).
const DAY_OF_WEEK: Field = Field {
    name: "day of week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    names_range: "SUN-SAT",
    day: true,
};

/// The descriptors and the five fields each stands for.
const DESCRIPTORS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// How many years [`Schedule::next_after`] looks ahead. Any schedule that can fire at
/// all fires at least once in this many years: the rarest is the 29th of February,
/// eight years apart around a century that is not a leap year (2096, then 2104).
const SEARCH_YEARS: i32 = 8;

impl Schedule {
    /// Parses five cron fields or a descriptor (`@daily`); the schedule is in UTC.
    ///
    /// The error names the field at fault and its allowed values.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(
                "the schedule is empty: write five fields (minute hour day-of-month \
                        month day-of-week), e.g. `*/5 * * * *`, or a descriptor such as `@hourly`"
                    .into(),
            );
        }
        let fields_text = if text.starts_with('@') {
            DESCRIPTORS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(text))
                .map(|(_, fields)| *fields)
                .ok_or_else(|| {
                    let names: Vec<_> = DESCRIPTORS.iter().map(|(name, _)| *name).collect();
                    format!(
                        "`{text}` is not a descriptor: use one of {}",
                        names.join(", ")
                    )
                })?
        } else {
            text
        };
        let fields: Vec<&str> = fields_text.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields[..] else {
            return Err(format!(
                "`{text}` has {} field{}; a schedule has five: minute hour day-of-month month \
                 day-of-week",
                fields.len(),
                if fields.len() == 1 { "" } else { "s" }
            ));
        };
        let (minutes, _) = parse_field(minute, &MINUTE)?;
        let (hours, _) = parse_field(hour, &HOUR)?;
        let (days_of_month, dom_star) = parse_field(dom, &DAY_OF_MONTH)?;
        let (months, _) = parse_field(month, &MONTH)?;
        let (mut days_of_week, dow_star) = parse_field(dow, &DAY_OF_WEEK)?;
        if days_of_week & (1 << 7) != 0 {
            days_of_week = (days_of_week & !(1 << 7)) | 1;
        }
        Ok(Schedule {
            minutes,
            hours,
            days_of_month,
            months,
            days_of_week,
            dom_restricted: !dom_star,
            dow_restricted: !dow_star,
            offset: UtcOffset::UTC,
        })
    }

    /// The same schedule, read at `offset` from UTC (`0 9 * * *` at `+02:00` fires at
    /// 07:00 UTC).
    #[must_use]
    pub fn with_offset(self, offset: UtcOffset) -> Schedule {
        Schedule { offset, ..self }
    }

    /// The offset the schedule's fields are read at.
    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// The first minute strictly after `t` that the schedule matches, at the schedule's
    /// offset; `None` if it never fires again (`0 0 30 2 *`, or past the year 9999).
    ///
    /// It skips whole months, days and hours that do not match, so a yearly schedule
    /// costs a few dozen steps, not half a million minutes.
    pub fn next_after(&self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        let local = t.to_offset(self.offset);
        let start = local
            .replace_time(Time::from_hms(local.hour(), local.minute(), 0).ok()?)
            .checked_add(Duration::MINUTE)?;
        let (mut year, mut month, mut day) = (start.year(), u8::from(start.month()), start.day());
        let (mut hour, mut minute) = (start.hour(), start.minute());
        let last_year = year.checked_add(SEARCH_YEARS)?;
        // A cursor that only moves forward: each step either finds the next matching
        // value of a field or carries into the field above, resetting those below.
        loop {
            if year > last_year {
                return None;
            }
            let Some(m) = next_set(self.months, month, 12) else {
                (year, month, day, hour, minute) = (year + 1, 1, 1, 0, 0);
                continue;
            };
            if m != month {
                (month, day, hour, minute) = (m, 1, 0, 0);
            }
            let last_day = days_in_month(year, month);
            let Some(d) = (day..=last_day).find(|&d| self.day_matches(year, month, d)) else {
                (month, day, hour, minute) = (month + 1, 1, 0, 0);
                continue;
            };
            if d != day {
                (day, hour, minute) = (d, 0, 0);
            }
            let Some(h) = next_set(self.hours, hour, 23) else {
                (day, hour, minute) = (day + 1, 0, 0);
                continue;
            };
            if h != hour {
                (hour, minute) = (h, 0);
            }
            let Some(mi) = next_set(self.minutes, minute, 59) else {
                (hour, minute) = (hour + 1, 0);
                continue;
            };
            let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
            let time = Time::from_hms(hour, mi, 0).ok()?;
            return Some(date.with_time(time).assume_offset(self.offset));
        }
    }

    /// Cron's day rule: both day fields when both are restricted match if either does;
    /// otherwise each must (and a `*` always does).
    fn day_matches(&self, year: i32, month: u8, day: u8) -> bool {
        let dom = self.days_of_month & (1 << day) != 0;
        let dow = self.days_of_week & (1 << weekday(year, month, day)) != 0;
        if self.dom_restricted && self.dow_restricted {
            dom || dow
        } else {
            dom && dow
        }
    }
}

/// Parses a schedule's time zone: `UTC` or a fixed offset `+HH:MM` / `-HH:MM` between
/// `-12:00` and `+14:00` (the offsets in use on Earth).
pub fn parse_timezone(text: &str) -> Result<UtcOffset, String> {
    if text == "UTC" {
        return Ok(UtcOffset::UTC);
    }
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 6
        && matches!(bytes[0], b'+' | b'-')
        && bytes[3] == b':'
        && [1, 2, 4, 5].iter().all(|&i| bytes[i].is_ascii_digit());
    if !shape_ok {
        let why = if text.contains('/') || text.chars().all(|c| c.is_ascii_alphabetic()) {
            " (motif has no time zone database, so named zones such as `Europe/Berlin` \
             are not supported)"
        } else {
            ""
        };
        return Err(format!(
            "`{text}` is not a time zone motif knows: use `UTC` or a fixed offset such as \
             `+02:00` or `-05:30`{why}"
        ));
    }
    let digits = |i: usize| (bytes[i] - b'0') as i8 * 10 + (bytes[i + 1] - b'0') as i8;
    let (hours, minutes) = (digits(1), digits(4));
    let sign = if bytes[0] == b'-' { -1 } else { 1 };
    let total = i32::from(sign) * (i32::from(hours) * 60 + i32::from(minutes));
    if minutes > 59 || !(-12 * 60..=14 * 60).contains(&total) {
        return Err(format!(
            "`{text}` is not an offset in use: offsets run from `-12:00` to `+14:00`"
        ));
    }
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|e| format!("`{text}`: {e}"))
}

/// Parses one field to a bit set of its values, and whether it is `*` (unrestricted,
/// for the day rule).
fn parse_field(text: &str, field: &Field) -> Result<(u64, bool), String> {
    let name = field.name;
    let (min, max) = (field.min, field.max);
    let mut bits = 0_u64;
    let mut star = false;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("{name}: `{text}` has an empty list item"));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let span = max - min + 1;
                let step = step
                    .parse::<u8>()
                    .ok()
                    .filter(|s| (1..=span).contains(s))
                    .ok_or_else(|| {
                        format!(
                            "{name}: the step in `{item}` must be a whole number from 1 to {span}"
                        )
                    })?;
                (range, Some(step))
            }
            None => (item, None),
        };
        let wildcard = range == "*" || (range == "?" && field.day);
        let (first, last) = if wildcard {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(a, item, field)?, value(b, item, field)?);
            if a > b {
                return Err(format!(
                    "{name}: the range `{item}` runs backwards; ranges do not wrap around \
                     (allowed: {})",
                    allowed(field)
                ));
            }
            (a, b)
        } else {
            let a = value(range, item, field)?;
            // `a/n`: from `a` to the field's end, as robfig/cron reads it.
            (a, if step.is_some() { max } else { a })
        };
        // `*` and `*/1` leave the field unrestricted; robfig/cron counts `*/2` as
        // restricted, and so does motif (see the module's caveats).
        star |= wildcard && step.unwrap_or(1) == 1;
        let step = step.unwrap_or(1);
        let mut v = first;
        while v <= last {
            bits |= 1 << v;
            v = match v.checked_add(step) {
                Some(next) => next,
                None => break,
            };
        }
    }
    Ok((bits, star))
}

/// One value of a field: a number in range or one of the field's names.
fn value(text: &str, item: &str, field: &Field) -> Result<u8, String> {
    let name = field.name;
    if let Some(i) = field
        .names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(text))
    {
        return Ok(field.min + i as u8);
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        let kind = if field.names.is_empty() {
            "a number"
        } else {
            "a number or a name"
        };
        let what = if text == item {
            format!("`{text}`")
        } else {
            format!("`{text}` in `{item}`")
        };
        return Err(format!(
            "{name}: {what} is not {kind} (allowed: {})",
            allowed(field)
        ));
    }
    match text.parse::<u8>() {
        Ok(v) if (field.min..=field.max).contains(&v) => Ok(v),
        _ => Err(format!(
            "{name}: `{text}` is out of range (allowed: {})",
            allowed(field)
        )),
    }
}

/// A field's allowed values, for messages.
fn allowed(field: &Field) -> String {
    let mut text = format!("{}-{}", field.min, field.max);
    if !field.names.is_empty() {
        text.push_str(&format!(" or {}", field.names_range));
    }
    if field.name == DAY_OF_WEEK.name {
        text.push_str(", 0 and 7 both Sunday");
    }
    text
}

/// The least value from `from` to `max` whose bit is set.
fn next_set(bits: u64, from: u8, max: u8) -> Option<u8> {
    if from > max {
        return None;
    }
    let rest = bits >> from;
    if rest == 0 {
        return None;
    }
    let v = from + rest.trailing_zeros() as u8;
    (v <= max).then_some(v)
}

fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day of the week, 0 for Sunday (Sakamoto's method: pure arithmetic, so it holds
/// for any year the search reaches, not only those `time` can represent).
fn weekday(year: i32, month: u8, day: u8) -> u8 {
    const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if month < 3 { year - 1 } else { year };
    let w = y + y.div_euclid(4) - y.div_euclid(100)
        + y.div_euclid(400)
        + T[usize::from(month - 1)]
        + i32::from(day);
    w.rem_euclid(7) as u8
}

#[cfg(test)]
mod tests {
    use time::format_description::well_known::Rfc3339;

    use super::*;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn next(schedule: &str, after: &str) -> Option<String> {
        let schedule = Schedule::parse(schedule).unwrap_or_else(|e| panic!("{schedule}: {e}"));
        schedule
            .next_after(at(after))
            .map(|t| t.format(&Rfc3339).unwrap())
    }

    /// The fire times after a start, one after the other.
    fn fires(schedule: &Schedule, after: &str, n: usize) -> Vec<String> {
        let mut t = at(after);
        (0..n)
            .map(|_| {
                t = schedule.next_after(t).expect("fires");
                t.format(&Rfc3339).unwrap()
            })
            .collect()
    }

    #[test]
    fn schedules_fire_at_their_known_next_minutes() {
        #[rustfmt::skip]
        let cases = [
            // every minute: the next whole minute, strictly after
            ("* * * * *", "2024-03-10T10:15:00Z", "2024-03-10T10:16:00Z"),
            ("* * * * *", "2024-03-10T10:15:59.999Z", "2024-03-10T10:16:00Z"),
            ("*/1 * * * *", "2024-03-10T10:15:30Z", "2024-03-10T10:16:00Z"),
            ("*/15 * * * *", "2024-03-10T10:15:00Z", "2024-03-10T10:30:00Z"),
            ("*/15 * * * *", "2024-03-10T10:46:00Z", "2024-03-10T11:00:00Z"),
            ("5/20 * * * *", "2024-03-10T10:46:00Z", "2024-03-10T11:05:00Z"),
            ("10-20/5 * * * *", "2024-03-10T10:16:00Z", "2024-03-10T10:20:00Z"),
            ("10-20/5 * * * *", "2024-03-10T10:20:00Z", "2024-03-10T11:10:00Z"),
            ("0,30 9-17 * * *", "2024-03-10T17:30:00Z", "2024-03-11T09:00:00Z"),
            ("0 0 * * *", "2024-12-31T23:59:00Z", "2025-01-01T00:00:00Z"),
            ("0 12 1 * *", "2024-01-31T12:00:00Z", "2024-02-01T12:00:00Z"),
            // the 31st skips the months without one
            ("0 0 31 * *", "2024-01-31T00:00:00Z", "2024-03-31T00:00:00Z"),
            ("0 0 31 * *", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z"),
            // names, in any case
            ("0 8 * jun-Aug *", "2024-01-01T00:00:00Z", "2024-06-01T08:00:00Z"),
            ("30 9 * * MON-FRI", "2024-06-07T10:00:00Z", "2024-06-10T09:30:00Z"),
            ("0 0 * * sat,SUN", "2024-06-05T00:00:00Z", "2024-06-08T00:00:00Z"),
            // 7 is Sunday, as 0 is
            ("0 0 * * 7", "2024-06-05T00:00:00Z", "2024-06-09T00:00:00Z"),
            ("0 0 * * 5-7", "2024-06-09T00:00:00Z", "2024-06-14T00:00:00Z"),
            ("0 0 * * 0", "2024-06-05T00:00:00Z", "2024-06-09T00:00:00Z"),
            // descriptors
            ("@yearly", "2024-06-05T00:00:00Z", "2025-01-01T00:00:00Z"),
            ("@annually", "2024-06-05T00:00:00Z", "2025-01-01T00:00:00Z"),
            ("@monthly", "2024-06-05T00:00:00Z", "2024-07-01T00:00:00Z"),
            ("@weekly", "2024-06-05T00:00:00Z", "2024-06-09T00:00:00Z"),
            ("@daily", "2024-06-05T00:00:00Z", "2024-06-06T00:00:00Z"),
            ("@MIDNIGHT", "2024-06-05T13:00:00Z", "2024-06-06T00:00:00Z"),
            ("@hourly", "2024-06-05T13:00:00Z", "2024-06-05T14:00:00Z"),
            // an input at another offset is the same instant
            ("0 * * * *", "2024-06-05T13:30:00+02:00", "2024-06-05T12:00:00Z"),
            // extra spaces and tabs between fields
            ("  0\t0  1 1 * ", "2024-06-05T00:00:00Z", "2025-01-01T00:00:00Z"),
        ];
        for (schedule, after, expected) in cases {
            assert_eq!(
                next(schedule, after).as_deref(),
                Some(expected),
                "`{schedule}` after {after}"
            );
        }
    }

    #[test]
    fn the_29th_of_february_waits_for_a_leap_year() {
        let leap = "0 0 29 2 *";
        assert_eq!(
            next(leap, "2023-03-01T00:00:00Z").as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
        assert_eq!(
            next(leap, "2024-02-29T00:00:00Z").as_deref(),
            Some("2028-02-29T00:00:00Z")
        );
        // 2100 is not a leap year (divisible by 100), 2000 was (divisible by 400).
        assert_eq!(
            next(leap, "2096-03-01T00:00:00Z").as_deref(),
            Some("2104-02-29T00:00:00Z")
        );
        assert_eq!(
            next(leap, "1997-01-01T00:00:00Z").as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(
            next("0 0 28-31 2 *", "2023-02-28T00:00:00Z").as_deref(),
            Some("2024-02-28T00:00:00Z")
        );
    }

    #[test]
    fn a_schedule_that_cannot_fire_gives_none() {
        for never in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 feb *"] {
            assert_eq!(next(never, "2024-01-01T00:00:00Z"), None, "{never}");
        }
        // With both day fields restricted the OR rule still finds a day.
        assert_eq!(
            next("0 0 30 2 MON", "2024-01-01T00:00:00Z").as_deref(),
            Some("2024-02-05T00:00:00Z")
        );
        // Past the last year `time` represents.
        assert_eq!(next("0 0 1 1 *", "9999-06-01T00:00:00Z"), None);
    }

    #[test]
    fn both_day_fields_restricted_match_either() {
        // Friday the 13th's schedule fires on every 13th and on every Friday.
        let schedule = Schedule::parse("0 0 13 * FRI").unwrap();
        assert_eq!(
            fires(&schedule, "2024-09-01T00:00:00Z", 4),
            [
                "2024-09-06T00:00:00Z", // Friday
                "2024-09-13T00:00:00Z", // the 13th (and a Friday)
                "2024-09-20T00:00:00Z",
                "2024-09-27T00:00:00Z",
            ]
        );
        assert_eq!(
            fires(&schedule, "2024-10-05T00:00:00Z", 2),
            ["2024-10-11T00:00:00Z", "2024-10-13T00:00:00Z"] // Friday, then Sunday the 13th
        );
        // One of them `*`: only the other counts.
        assert_eq!(
            next("0 0 13 * *", "2024-09-01T00:00:00Z").as_deref(),
            Some("2024-09-13T00:00:00Z")
        );
        assert_eq!(
            next("0 0 * * FRI", "2024-09-07T00:00:00Z").as_deref(),
            Some("2024-09-13T00:00:00Z")
        );
        assert_eq!(
            next("0 0 ? * FRI", "2024-09-07T00:00:00Z").as_deref(),
            Some("2024-09-13T00:00:00Z")
        );
        // A stepped star restricts (robfig/cron's rule): the 1st, 3rd, ... or a Monday.
        assert_eq!(
            fires(
                &Schedule::parse("0 0 */2 * 1").unwrap(),
                "2024-09-01T00:00:00Z",
                3
            ),
            [
                "2024-09-02T00:00:00Z", // Monday
                "2024-09-03T00:00:00Z",
                "2024-09-05T00:00:00Z",
            ]
        );
    }

    #[test]
    fn offsets_move_the_fire_times() {
        let berlin_summer = parse_timezone("+02:00").unwrap();
        let schedule = Schedule::parse("0 9 * * *")
            .unwrap()
            .with_offset(berlin_summer);
        assert_eq!(schedule.offset(), berlin_summer);
        let t = schedule.next_after(at("2024-06-05T08:00:00Z")).unwrap();
        assert_eq!(t.offset(), berlin_summer);
        assert_eq!(t, at("2024-06-06T07:00:00Z"));
        assert_eq!(t.format(&Rfc3339).unwrap(), "2024-06-06T09:00:00+02:00");

        // Half-hour offsets, and the local date deciding the day of the week.
        let india = Schedule::parse("0 0 * * MON")
            .unwrap()
            .with_offset(parse_timezone("+05:30").unwrap());
        // Sunday 19:00 UTC is already Monday 00:30 in India: the next Monday midnight
        // there is a week on.
        assert_eq!(
            india.next_after(at("2024-06-09T19:00:00Z")),
            Some(at("2024-06-16T18:30:00Z"))
        );
        let new_york = Schedule::parse("30 23 31 12 *")
            .unwrap()
            .with_offset(parse_timezone("-05:00").unwrap());
        // 03:00 UTC on New Year's Day is still the 31st in New York.
        assert_eq!(
            new_york.next_after(at("2025-01-01T03:00:00Z")),
            Some(at("2025-01-01T04:30:00Z"))
        );
        assert_eq!(
            new_york.next_after(at("2025-01-01T04:30:00Z")),
            Some(at("2026-01-01T04:30:00Z"))
        );
    }

    #[test]
    fn time_zones_are_utc_or_fixed_offsets() {
        assert_eq!(parse_timezone("UTC"), Ok(UtcOffset::UTC));
        assert_eq!(parse_timezone("+00:00"), Ok(UtcOffset::UTC));
        assert_eq!(
            parse_timezone("-05:30"),
            Ok(UtcOffset::from_hms(-5, -30, 0).unwrap())
        );
        assert_eq!(
            parse_timezone("+14:00"),
            Ok(UtcOffset::from_hms(14, 0, 0).unwrap())
        );
        assert!(parse_timezone("-12:00").is_ok());
        let named = parse_timezone("Europe/Berlin").unwrap_err();
        assert!(named.contains("no time zone database"), "{named}");
        assert!(
            parse_timezone("CET")
                .unwrap_err()
                .contains("no time zone database")
        );
        for bad in [
            "", "utc", "+2", "+02", "0200", "+0200", "+02:0", "+2:00", "+02:60", "+15:00",
            "-12:30", "++2:00",
        ] {
            let err = parse_timezone(bad).expect_err(bad);
            assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
        }
        assert!(parse_timezone("+02:60").unwrap_err().contains("-12:00"));
    }

    #[test]
    fn every_malformed_schedule_is_refused_naming_its_field() {
        #[rustfmt::skip]
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            ("* * * *", "has 4 fields"),
            ("* * * * * *", "has 6 fields"),
            ("@every 5m", "not a descriptor"),
            ("@fortnightly", "@yearly, @annually"),
            ("60 * * * *", "minute: `60` is out of range (allowed: 0-59)"),
            ("* 24 * * *", "hour: `24` is out of range (allowed: 0-23)"),
            ("* * 0 * *", "day of month: `0` is out of range (allowed: 1-31)"),
            ("* * 32 * *", "day of month: `32`"),
            ("* * * 13 *", "month: `13` is out of range (allowed: 1-12 or JAN-DEC)"),
            ("* * * 0 *", "month: `0`"),
            ("* * * * 8", "day of week: `8` is out of range (allowed: 0-7 or SUN-SAT"),
            ("* * * JANUARY *", "month: `JANUARY` is not a number or a name (allowed: 1-12 or JAN"),
            ("* * * 1-JANUARY *", "month: `JANUARY` in `1-JANUARY` is not a number or a name"),
            ("* * * * MONDAY", "day of week: `MONDAY`"),
            ("* * * MON *", "month: `MON`"),
            ("* * * * JAN", "day of week: `JAN`"),
            ("x * * * *", "minute: `x` is not a number (allowed: 0-59)"),
            ("*/61 * * * *", "minute: the step in `*/61` must be a whole number from 1 to 60"),
            ("* * * * */9", "day of week: the step in `*/9` must be a whole number from 1 to 8"),
            ("-1 * * * *", "minute: `` in `-1`"),
            ("1- * * * *", "minute: `` in `1-`"),
            ("1-2-3 * * * *", "minute: `2-3` in `1-2-3`"),
            ("30-10 * * * *", "minute: the range `30-10` runs backwards"),
            ("* * * * FRI-SUN", "day of week: the range `FRI-SUN` runs backwards"),
            ("*/0 * * * *", "minute: the step in `*/0` must be a whole number from 1 to 60"),
            ("*/x * * * *", "minute: the step in `*/x`"),
            ("*/ * * * *", "minute: the step"),
            ("* */-1 * * *", "hour: the step in `*/-1` must be a whole number from 1 to 24"),
            ("1,,2 * * * *", "minute: `1,,2` has an empty list item"),
            ("1, * * * *", "minute: `1,` has an empty list item"),
            ("? * * * *", "minute: `?`"),
            ("* ? * * *", "hour: `?`"),
            ("* * * ? *", "month: `?`"),
            ("* * 1/2/3 * *", "day of month: the step in `1/2/3`"),
            ("* * * * 1.5", "day of week: `1.5`"),
            ("300 * * * *", "minute: `300` is out of range"),
        ];
        for (schedule, expected) in cases {
            let err = Schedule::parse(schedule).expect_err(schedule);
            assert!(err.contains(expected), "`{schedule}`: {err}");
        }
    }

    #[test]
    fn lists_ranges_and_steps_combine() {
        let schedule = Schedule::parse("0-10/5,58 1,3-4 * * *").unwrap();
        assert_eq!(
            fires(&schedule, "2024-01-01T00:00:00Z", 6),
            [
                "2024-01-01T01:00:00Z",
                "2024-01-01T01:05:00Z",
                "2024-01-01T01:10:00Z",
                "2024-01-01T01:58:00Z",
                "2024-01-01T03:00:00Z",
                "2024-01-01T03:05:00Z",
            ]
        );
        // A step larger than the range keeps only its start.
        assert_eq!(
            next("7/60 * * * *", "2024-01-01T00:00:00Z").as_deref(),
            Some("2024-01-01T00:07:00Z")
        );
        assert_eq!(
            Schedule::parse("0 0 * * 0").unwrap(),
            Schedule::parse("0 0 * * 7").unwrap()
        );
        assert_eq!(
            Schedule::parse("@daily").unwrap(),
            Schedule::parse("0 0 * * *").unwrap()
        );
    }

    #[test]
    fn a_year_of_minutes_is_walked_in_order() {
        // Every fire time is strictly after the one before and matches; none is skipped.
        let schedule = Schedule::parse("*/7 */5 * * *").unwrap();
        let mut t = at("2023-12-31T23:00:00Z");
        let mut count = 0;
        while t < at("2025-01-01T00:00:00Z") {
            let n = schedule.next_after(t).unwrap();
            assert!(n > t);
            assert!(
                n.minute().is_multiple_of(7) && n.hour().is_multiple_of(5),
                "{n}"
            );
            if n.date() == t.date() && n.hour() == t.hour() {
                assert_eq!(n - t, Duration::minutes(7), "{t} -> {n}");
            }
            t = n;
            count += 1;
        }
        // 9 minutes (0, 7, ..., 56) in 5 hours (0, 5, ..., 20) of 366 days, plus the
        // first of 2025.
        assert_eq!(count, 9 * 5 * 366 + 1);
    }

    #[test]
    fn weekdays_agree_with_the_time_crate() {
        let mut date = Date::from_calendar_date(1899, Month::December, 25).unwrap();
        for _ in 0..2000 {
            assert_eq!(
                weekday(date.year(), u8::from(date.month()), date.day()),
                date.weekday().number_days_from_sunday(),
                "{date}"
            );
            date = date.checked_add(Duration::days(53)).unwrap();
        }
    }
}
