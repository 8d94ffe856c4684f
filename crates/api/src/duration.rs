//! ISO 8601 durations, as Knative's delivery options write them (`PT0.5S`, `PT2M`, `P1D`).

use std::time::Duration;

/// Parses an ISO 8601 duration of days, hours, minutes and seconds (`P1DT2H3M4.5S`,
/// `PT0.5S`); weeks are allowed alone (`P2W`). Years and months are refused: their length
/// depends on a calendar date. Only the seconds may have a fraction (`.` or `,`).
pub fn parse_iso8601(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| format!("`{text}` is not an ISO 8601 duration ({why}), e.g. `PT0.5S`");
    let rest = text
        .strip_prefix('P')
        .ok_or_else(|| bad("it must start with `P`"))?;
    if rest.is_empty() {
        return Err(bad("it has no amount"));
    }
    let (date, time) = match rest.split_once('T') {
        Some((_, "")) => return Err(bad("nothing follows `T`")),
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    let mut seconds = 0f64;
    for (amount, unit) in parts(date).map_err(|why| bad(&why))? {
        seconds += match unit {
            'W' if time.is_none() && date.len() == amount.len() + 1 => 7.0 * 86_400.0,
            'W' => return Err(bad("weeks cannot be combined with other units")),
            'D' => 86_400.0,
            'Y' | 'M' => return Err(bad("years and months have no fixed length")),
            _ => return Err(bad(&format!("`{unit}` is not a date unit"))),
        } * whole(amount).map_err(|why| bad(&why))?;
    }
    for (amount, unit) in parts(time.unwrap_or("")).map_err(|why| bad(&why))? {
        seconds += match unit {
            'H' => 3_600.0 * whole(amount).map_err(|why| bad(&why))?,
            'M' => 60.0 * whole(amount).map_err(|why| bad(&why))?,
            'S' => amount
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && amount.starts_with(|c: char| c.is_ascii_digit()))
                .ok_or_else(|| bad(&format!("`{amount}` is not a number of seconds")))?,
            _ => return Err(bad(&format!("`{unit}` is not a time unit"))),
        };
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| bad("it is too long"))
}

/// Splits `1D2H` into `[("1", 'D'), ("2", 'H')]`, in order, each unit once.
fn parts(text: &str) -> Result<Vec<(&str, char)>, String> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii_alphabetic() {
            let amount = &text[start..i];
            if amount.is_empty() {
                return Err(format!("`{c}` has no amount"));
            }
            if parts.iter().any(|(_, u)| *u == c) {
                return Err(format!("`{c}` appears twice"));
            }
            parts.push((amount, c));
            start = i + 1;
        }
    }
    if start != text.len() {
        return Err(format!("`{}` has no unit", &text[start..]));
    }
    Ok(parts)
}

fn whole(amount: &str) -> Result<f64, String> {
    amount
        .parse::<u64>()
        .map(|n| n as f64)
        .map_err(|_| format!("`{amount}` is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_durations() {
        for (text, seconds) in [
            ("PT0.5S", 0.5),
            ("PT2S", 2.0),
            ("PT0,25S", 0.25),
            ("PT1M", 60.0),
            ("PT1H30M", 5_400.0),
            ("P1D", 86_400.0),
            ("P1DT1S", 86_401.0),
            ("P2W", 1_209_600.0),
            ("PT0S", 0.0),
        ] {
            assert_eq!(
                parse_iso8601(text),
                Ok(Duration::from_secs_f64(seconds)),
                "{text}"
            );
        }
    }

    #[test]
    fn invalid_durations() {
        for text in [
            "", "P", "PT", "1S", "PT1", "PTS", "P1M", "P1Y", "PT1.5M", "PT-1S", "PT1S1S", "P1W1D",
            "PT.5S", "2s", "PT1X",
        ] {
            let err = parse_iso8601(text).unwrap_err();
            assert!(err.contains("ISO 8601"), "{text}: {err}");
        }
    }
}
