//! Numbers with units, escaping and dates: the small vocabulary every view shares.

/// Escape text for HTML and XML (content and attribute values alike).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0; drop them rather than emit an
            // unparsable file.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// A duration in milliseconds, readable at a glance: `267 ms`, `3.55 s`, `12 min 05 s`.
pub fn ms(v: u64) -> String {
    if v < 1_000 {
        format!("{v} ms")
    } else if v < 600_000 {
        format!("{:.2} s", v as f64 / 1000.0)
    } else {
        let s = v / 1000;
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

/// A latency in microseconds: `291 µs`, `2.58 ms`.
pub fn us(v: u64) -> String {
    if v < 1_000 {
        format!("{v} µs")
    } else {
        format!("{:.2} ms", v as f64 / 1000.0)
    }
}

/// A percentage with two decimals: `39.10 %`.
pub fn pct(v: f64) -> String {
    format!("{v:.2} %")
}

/// Time to recovery: `None` means the outage never ended within the run.
pub fn recovery(v: Option<u64>) -> String {
    v.map(ms).unwrap_or_else(|| "never".into())
}

/// Time to recovery after a fault ended. `None` is "never" when the run never recovered at all,
/// and "no window" when no bad window followed a fault.
pub fn recovery_after_fault(v: Option<u64>, ttr: Option<u64>) -> String {
    match (v, ttr) {
        (Some(t), _) => ms(t),
        (None, None) => "never".into(),
        (None, Some(_)) => "no window".into(),
    }
}

/// Time to detect: `None` is "not detected" when there was a bad window, else "no window".
pub fn detect(v: Option<u64>, had_window: bool) -> String {
    match (v, had_window) {
        (Some(t), _) => ms(t),
        (None, true) => "not detected".into(),
        (None, false) => "no window".into(),
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` from Unix milliseconds (no time-zone database needed).
pub fn utc(epoch_ms: u64) -> String {
    let secs = epoch_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Today's date as `YYYY-MM-DD` (UTC).
pub fn today() -> String {
    let now = crate::clock::Clock::wall().epoch_ms();
    utc(now)[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_units() {
        for (v, want) in [(0, "0 ms"), (267, "267 ms"), (3548, "3.55 s"), (75_748, "75.75 s"), (725_000, "12 min 05 s")] {
            assert_eq!(ms(v), want);
        }
        assert_eq!(us(291), "291 µs");
        assert_eq!(us(2577), "2.58 ms");
        assert_eq!(recovery(None), "never");
        assert_eq!(recovery_after_fault(None, Some(0)), "no window");
        assert_eq!(recovery_after_fault(None, None), "never");
        assert_eq!(detect(None, true), "not detected");
    }

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(esc("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_761_000_000_000), "2025-10-20 22:40:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }
}
