//! Times on the pages: absolute in UTC (RFC 3339) and relative to the server's clock.

use std::time::{Duration, UNIX_EPOCH};

/// `2026-12-04T18:00:00Z` for Unix seconds `t`.
pub(super) fn utc(t: u64) -> String {
    UNIX_EPOCH.checked_add(Duration::from_secs(t)).map_or_else(
        || format!("{t} (Unix seconds)"),
        |at| humantime::format_rfc3339_seconds(at).to_string(),
    )
}

/// `in 3 h 20 min` or `2 d 4 h ago` for `t` seen at `now`, to the two largest units.
pub(super) fn relative(t: u64, now: u64) -> String {
    let (secs, future) = if t >= now {
        (t - now, true)
    } else {
        (now - t, false)
    };
    if secs == 0 {
        return "now".to_owned();
    }
    let units = [(86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")];
    let mut parts = Vec::new();
    let mut left = secs;
    for (size, name) in units {
        if left >= size && parts.len() < 2 {
            parts.push(format!("{} {name}", left / size));
            left %= size;
        } else if !parts.is_empty() {
            break;
        }
    }
    let span = parts.join(" ");
    if future {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_people_write_them() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(relative(100, 100), "now");
        assert_eq!(
            relative(100 + 3 * 3_600 + 20 * 60 + 5, 100),
            "in 3 h 20 min"
        );
        assert_eq!(relative(100, 100 + 2 * 86_400 + 4 * 3_600), "2 d 4 h ago");
        assert_eq!(relative(100 + 86_400 + 5, 100), "in 1 d");
        assert_eq!(relative(59, 0), "in 59 s");
    }
}
