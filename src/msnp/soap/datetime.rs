//! Timestamps of offline messages as seconds since the Unix epoch, parsed from their text
//! (ISO 8601 in `Mail-Data`, RFC 2822 in message headers). No clock is read.

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM|±HHMM]` (no zone means UTC).
pub(crate) fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', 't', ' '])?;
    let mut date_parts = date.splitn(3, '-');
    let year = number(date_parts.next()?, 4, 4)?;
    let month = number(date_parts.next()?, 2, 2)?;
    let day = number(date_parts.next()?, 2, 2)?;
    let zone_start = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_start);
    let offset = match zone {
        "" | "Z" | "z" => 0,
        zone => numeric_zone(zone)?,
    };
    let seconds = clock_seconds(clock)?;
    Some(epoch_days(year, month, day)? * 86_400 + seconds - offset)
}

/// Parses `[Day,] DD Mon YYYY HH:MM[:SS[.fraction]] [zone]`, where the zone is `±HHMM`, `UT`,
/// `GMT`, `Z` or a North American name; no zone or a comment such as `(UTC)` means UTC, and
/// anything after the zone (e.g. `FILETIME=[…]`) is ignored.
pub(crate) fn parse_rfc2822(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = match text.split_once(',') {
        Some((_, rest)) => rest,
        None => text,
    };
    let mut tokens = text.split_whitespace();
    let day = number(tokens.next()?, 1, 2)?;
    let month = month_number(tokens.next()?)?;
    let year = number(tokens.next()?, 4, 4)?;
    let seconds = clock_seconds(tokens.next()?)?;
    let offset = match tokens.next() {
        None => 0,
        Some(zone) if zone.starts_with('(') => 0,
        Some(zone) if zone.starts_with(['+', '-']) => numeric_zone(zone)?,
        Some(zone) => named_zone(zone)?,
    };
    Some(epoch_days(year, month, day)? * 86_400 + seconds - offset)
}

/// `HH:MM[:SS[.fraction]]` as seconds since midnight (fraction dropped, leap second kept).
fn clock_seconds(clock: &str) -> Option<i64> {
    let clock = clock.split_once('.').map_or(clock, |(whole, fraction)| {
        match fraction.bytes().all(|b| b.is_ascii_digit()) {
            true => whole,
            false => "",
        }
    });
    let mut parts = clock.splitn(3, ':');
    let hour = number(parts.next()?, 2, 2)?;
    let minute = number(parts.next()?, 2, 2)?;
    let second = parts.next().map_or(Some(0), |s| number(s, 2, 2))?;
    (hour < 24 && minute < 60 && second <= 60).then_some(hour * 3600 + minute * 60 + second)
}

/// `±HHMM` or `±HH:MM` as seconds east of UTC.
fn numeric_zone(zone: &str) -> Option<i64> {
    let (sign, digits) = match zone.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let digits = digits.replacen(':', "", 1);
    if digits.len() != 4 {
        return None;
    }
    let hours = number(digits.get(..2)?, 2, 2)?;
    let minutes = number(digits.get(2..)?, 2, 2)?;
    (hours < 24 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
}

/// The obsolete RFC 2822 zone names, as seconds east of UTC.
fn named_zone(zone: &str) -> Option<i64> {
    let hours = match zone.to_ascii_uppercase().as_str() {
        "UT" | "UTC" | "GMT" | "Z" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        _ => return None,
    };
    Some(hours * 3600)
}

fn month_number(name: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if name.len() != 3 {
        return None;
    }
    let name = name.to_ascii_lowercase();
    let index = MONTHS.iter().position(|m| *m == name)?;
    i64::try_from(index + 1).ok()
}

/// A decimal number of `min..=max` ASCII digits.
fn number(text: &str, min: usize, max: usize) -> Option<i64> {
    let ok = (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse().ok()).flatten()
}

/// Days from 1970-01-01 to the given proleptic Gregorian date, which must exist.
fn epoch_days(year: i64, month: i64, day: i64) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_len = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if year < 1 || !(1..=month_len).contains(&day) {
        return None;
    }
    // Count from March so the leap day is the last day of the counting year.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24T22:28:57Z, the time of the recorded OIM (`date -u -d @1795559337`).
    const RECORDED: i64 = 1_795_559_337;

    #[test]
    fn recorded_formats_agree() {
        assert_eq!(parse_iso8601("2026-11-24T22:28:57Z"), Some(RECORDED));
        assert_eq!(parse_iso8601("2026-11-24T22:28:57.000Z"), Some(RECORDED));
        assert_eq!(parse_iso8601("2026-11-24T14:28:57-08:00"), Some(RECORDED));
        assert_eq!(parse_iso8601("2026-11-25T00:28:57+0200"), Some(RECORDED));
        assert_eq!(parse_rfc2822("24 Nov 2026 14:28:57 -0800"), Some(RECORDED));
        assert_eq!(
            parse_rfc2822("Tue, 24 Nov 2026 22:28:57 GMT"),
            Some(RECORDED)
        );
        assert_eq!(
            parse_rfc2822("Tue, 24 Nov 2026 14:28:57 PST"),
            Some(RECORDED)
        );
        assert_eq!(
            parse_rfc2822("24 Nov 2026 22:28:57.0000 (UTC) FILETIME=[31CB5A80:01DD7C63]"),
            Some(RECORDED)
        );
        assert_eq!(parse_rfc2822("24 Nov 2026 22:28:57"), Some(RECORDED));
        assert_eq!(parse_rfc2822("24 Nov 2026 22:28"), Some(RECORDED - 57));
    }

    #[test]
    fn calendar_edges() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601("1969-12-31T23:59:59Z"), Some(-1));
        assert_eq!(parse_iso8601("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(
            parse_iso8601("2000-03-01T00:00:00Z"),
            Some(951_782_400 + 86_400)
        );
        assert_eq!(parse_iso8601("1900-02-29T00:00:00Z"), None);
        assert_eq!(parse_iso8601("0001-01-01T00:00:00"), Some(-62_135_596_800));
    }

    #[test]
    fn junk_is_rejected_without_panicking() {
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-24T24:00:00Z",
            "2026-11-24T22:61:00Z",
            "2026-11-24",
            "2026-11-24T22:28:57+5",
            "2026-11-24T22:28:57.x",
            "+026-11-24T22:28:57",
            "2026-11-24T22:28:57é",
            "é",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
        for bad in [
            "",
            "Tue,",
            "24 Foo 2026 14:28:57",
            "24 Nov 26 14:28:57",
            "32 Nov 2026 14:28:57",
            "24 Nov 2026 14:28:57 XYZ",
            "24 Nov 2026 14:28:57 +08",
            "24 Nov 2026 1:2:3",
            "24 N",
            "24 Nové 2026 14:28:57",
        ] {
            assert_eq!(parse_rfc2822(bad), None, "{bad}");
        }
    }
}
