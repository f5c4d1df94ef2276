//! The emulator clock: real (monotonic, anchored to a wall-clock start) or manual (stepped by
//! tests). Everything time-dependent reads it, so tests can move time without sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of emulator time, in unix nanoseconds.
#[derive(Debug)]
pub struct Clock {
    inner: Mutex<Source>,
}

#[derive(Debug)]
enum Source {
    Real {
        anchor: Instant,
        anchor_nanos: u64,
        offset: u64,
    },
    Manual {
        nanos: u64,
    },
}

impl Clock {
    /// A clock that follows real time, starting at `start_ms` (unix ms) or the real time now.
    pub fn real(start_ms: Option<u64>) -> Self {
        let anchor_nanos = match start_ms {
            Some(ms) => ms.saturating_mul(1_000_000),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0),
        };
        Self {
            inner: Mutex::new(Source::Real {
                anchor: Instant::now(),
                anchor_nanos,
                offset: 0,
            }),
        }
    }

    /// A clock that only moves when [`Clock::advance`] is called.
    pub fn manual(start_ms: u64) -> Self {
        Self {
            inner: Mutex::new(Source::Manual {
                nanos: start_ms.saturating_mul(1_000_000),
            }),
        }
    }

    /// Emulator time now, unix nanoseconds.
    pub fn now_nanos(&self) -> u64 {
        match &*self.lock() {
            Source::Real {
                anchor,
                anchor_nanos,
                offset,
            } => anchor_nanos + offset + anchor.elapsed().as_nanos() as u64,
            Source::Manual { nanos } => *nanos,
        }
    }

    /// Emulator time now, unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.now_nanos() / 1_000_000
    }

    /// Moves the clock forward (both kinds: a real clock keeps running from the new point).
    pub fn advance(&self, by: Duration) {
        let by = by.as_nanos() as u64;
        match &mut *self.lock() {
            Source::Real { offset, .. } => *offset += by,
            Source::Manual { nanos } => *nanos += by,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Source> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Formats unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_rfc3339_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ms % 1000
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm: eras of 400 years starting in March).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_rfc3339_ms(1_777_118_400_000),
            "2026-04-25T12:00:00.000Z"
        );
        assert_eq!(
            format_rfc3339_ms(951_782_400_123),
            "2000-02-29T00:00:00.123Z"
        );
        assert_eq!(
            format_rfc3339_ms(4_107_542_399_999),
            "2100-02-28T23:59:59.999Z"
        );
    }

    #[test]
    fn agrees_with_httpdate_on_every_day_for_decades() {
        for day in (0..40_000u64).step_by(7) {
            let secs = day * 86_400 + 3_723;
            let ours = format_rfc3339_ms(secs * 1000);
            let http = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
            // httpdate: "Sun, 06 Nov 1994 08:49:37 GMT"; compare day, year and time.
            let parts: Vec<&str> = http.split(' ').collect();
            assert!(ours.starts_with(parts[3]), "{ours} vs {http}");
            assert_eq!(&ours[8..10], parts[1], "{ours} vs {http}");
            assert_eq!(&ours[11..19], parts[4]);
        }
    }

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let c = Clock::manual(1000);
        assert_eq!(c.now_ms(), 1000);
        c.advance(Duration::from_millis(250));
        assert_eq!(c.now_ms(), 1250);
        assert_eq!(c.now_nanos(), 1_250_000_000);
    }

    #[test]
    fn real_clock_starts_at_given_time_and_advances() {
        let c = Clock::real(Some(5_000));
        let a = c.now_ms();
        assert!((5_000..5_000 + 60_000).contains(&a));
        c.advance(Duration::from_secs(10));
        assert!(c.now_ms() >= a + 10_000);
    }
}
