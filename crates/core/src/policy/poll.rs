//! The status-poll schedule: 2 s, doubling, capped at 30 s, with jitter and an optional deadline.

use std::time::{Duration, Instant};

use super::{Curve, PolicyError, positive};
use crate::rng::Rng;

#[cfg(test)]
use super::exponential; // the unit tests check delays against the nominal curve

/// How often to poll an active agent (SKILL.md: start at 2 s, double toward 30 s, small jitter).
///
/// [`delay`](PollSchedule::delay) for attempt `n` is `min(initial * factor^n, max)` with jitter,
/// and always lies within `[min(initial * (1 - jitter), max), max]`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PollSchedule {
    /// Delay before the first poll (attempt 0). Default 2 s.
    pub initial: Duration,
    /// Growth per attempt. Default 2.0.
    pub factor: f64,
    /// Largest delay between polls. Default 30 s.
    pub max: Duration,
    /// Jitter fraction in `[0, 1)`: each delay is scaled by a uniform factor in
    /// `[1 - jitter, 1 + jitter]`, then clamped. Default 0.1.
    pub jitter: f64,
    /// Overall time budget measured from the start of polling; `None` polls forever.
    pub deadline: Option<Duration>,
}

impl Default for PollSchedule {
    fn default() -> Self {
        PollSchedule {
            initial: Duration::from_secs(2),
            factor: 2.0,
            max: Duration::from_secs(30),
            jitter: 0.1,
            deadline: None,
        }
    }
}

impl PollSchedule {
    /// Sets [`initial`](Self::initial).
    pub fn with_initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// Sets [`factor`](Self::factor).
    pub fn with_factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Sets [`max`](Self::max).
    pub fn with_max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// Sets [`jitter`](Self::jitter).
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets [`deadline`](Self::deadline).
    pub fn with_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Rejects settings that cannot work: zero durations, a factor below 1 or NaN, a jitter
    /// outside `[0, 1)`, or `max < initial`.
    pub fn validate(&self) -> Result<(), PolicyError> {
        self.curve().validate()?;
        if let Some(d) = self.deadline {
            positive("deadline", d)?;
        }
        Ok(())
    }

    /// The smallest delay [`delay`](Self::delay) can return: `min(initial * (1 - jitter), max)`.
    pub fn floor(&self) -> Duration {
        let j = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        crate::rng::scale_duration(self.initial, 1.0 - j).min(self.max)
    }

    /// The wait before poll number `attempt` (0 for the first poll).
    ///
    /// Bounds: `floor() <= delay <= max`. Draws exactly one number from `rng`, so traces stay
    /// reproducible whatever the settings.
    pub fn delay(&self, attempt: u32, rng: &mut Rng) -> Duration {
        self.curve().delay(attempt, rng).max(self.floor())
    }

    fn curve(&self) -> Curve {
        Curve::new(self.initial, self.factor, self.max, self.jitter)
    }
}

/// A [`PollSchedule`] anchored at the instant polling started, so it can honour the deadline.
#[derive(Debug, Clone)]
pub struct PollClock {
    schedule: PollSchedule,
    deadline_at: Option<Instant>,
    last_poll_scheduled: bool,
}

impl PollClock {
    /// Starts the clock at `started`. A deadline too far away to represent counts as none.
    pub fn new(schedule: PollSchedule, started: Instant) -> Self {
        let deadline_at = schedule.deadline.and_then(|d| started.checked_add(d));
        PollClock {
            schedule,
            deadline_at,
            last_poll_scheduled: false,
        }
    }

    /// The schedule this clock follows.
    pub fn schedule(&self) -> &PollSchedule {
        &self.schedule
    }

    /// The instant the deadline falls on, if any.
    pub fn deadline_at(&self) -> Option<Instant> {
        self.deadline_at
    }

    /// True once the last poll (the one at the deadline) has been handed out.
    pub fn is_exhausted(&self) -> bool {
        self.last_poll_scheduled
    }

    /// When to send poll number `attempt`, asked at `now`.
    ///
    /// Without a deadline this is `now + delay(attempt)`. With one, a poll that would land after
    /// the deadline is moved to the deadline itself (or to `now` if that has already passed) and
    /// becomes the last one: every later call returns `None`.
    pub fn next_poll(&mut self, now: Instant, attempt: u32, rng: &mut Rng) -> Option<Instant> {
        if self.last_poll_scheduled {
            return None;
        }
        let delay = self.schedule.delay(attempt, rng);
        let candidate = now.checked_add(delay);
        match (self.deadline_at, candidate) {
            (None, Some(at)) => Some(at),
            // Unrepresentable and no deadline: poll as late as we can still say.
            (None, None) => Some(now),
            (Some(deadline), Some(at)) if at < deadline => Some(at),
            (Some(deadline), _) => {
                self.last_poll_scheduled = true;
                Some(deadline.max(now))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn defaults_are_the_skill_numbers() {
        let s = PollSchedule::default();
        assert_eq!(s.initial, secs(2));
        assert_eq!(s.factor, 2.0);
        assert_eq!(s.max, secs(30));
        assert_eq!(s.jitter, 0.1);
        assert_eq!(s.deadline, None);
        assert!(s.validate().is_ok());
    }

    #[test]
    fn without_jitter_the_sequence_is_exact() {
        let s = PollSchedule::default().with_jitter(0.0);
        let mut rng = Rng::seed(1);
        let got: Vec<Duration> = (0..7).map(|n| s.delay(n, &mut rng)).collect();
        assert_eq!(
            got,
            vec![
                secs(2),
                secs(4),
                secs(8),
                secs(16),
                secs(30),
                secs(30),
                secs(30)
            ]
        );
        assert_eq!(s.delay(u32::MAX, &mut rng), secs(30));
    }

    #[test]
    fn jittered_delays_stay_within_documented_bounds() {
        let s = PollSchedule::default();
        assert_eq!(s.floor(), Duration::from_millis(1800));
        let mut rng = Rng::seed(99);
        for attempt in 0..40 {
            for _ in 0..200 {
                let d = s.delay(attempt, &mut rng);
                let nominal = exponential(s.initial, s.factor, attempt, s.max);
                assert!(d >= s.floor() && d <= s.max, "attempt {attempt}: {d:?}");
                assert!(d >= nominal.mul_f64(0.9) - Duration::from_nanos(1));
                assert!(d <= nominal.mul_f64(1.1) + Duration::from_nanos(1));
            }
        }
    }

    #[test]
    fn validate_rejects_unworkable_settings() {
        let bad = [
            PollSchedule::default().with_initial(Duration::ZERO),
            PollSchedule::default().with_max(Duration::ZERO),
            PollSchedule::default().with_factor(f64::NAN),
            PollSchedule::default().with_factor(0.5),
            PollSchedule::default().with_factor(-2.0),
            PollSchedule::default().with_factor(f64::INFINITY),
            PollSchedule::default().with_jitter(-0.1),
            PollSchedule::default().with_jitter(1.0),
            PollSchedule::default().with_jitter(f64::NAN),
            PollSchedule::default().with_max(secs(1)),
            PollSchedule::default().with_deadline(Some(Duration::ZERO)),
        ];
        for s in bad {
            assert!(s.validate().is_err(), "{s:?}");
        }
        let err = PollSchedule::default()
            .with_initial(Duration::ZERO)
            .validate()
            .unwrap_err();
        assert_eq!(err.field, "initial");
    }

    #[test]
    fn exactly_one_last_poll_at_the_deadline() {
        #[allow(clippy::disallowed_methods)] // a test needs one base instant; only offsets matter
        let t0 = Instant::now();
        let s = PollSchedule::default()
            .with_jitter(0.0)
            .with_deadline(Some(secs(10)));
        let mut clock = PollClock::new(s, t0);
        let mut rng = Rng::seed(5);
        assert_eq!(clock.deadline_at(), Some(t0 + secs(10)));
        // 2 s, then 2+4 = 6 s, then 6+8 = 14 s is past the deadline: moved to 10 s.
        let p0 = clock.next_poll(t0, 0, &mut rng).unwrap();
        assert_eq!(p0, t0 + secs(2));
        let p1 = clock.next_poll(p0, 1, &mut rng).unwrap();
        assert_eq!(p1, t0 + secs(6));
        assert!(!clock.is_exhausted());
        let p2 = clock.next_poll(p1, 2, &mut rng).unwrap();
        assert_eq!(p2, t0 + secs(10));
        assert!(clock.is_exhausted());
        assert_eq!(clock.next_poll(p2, 3, &mut rng), None);
        assert_eq!(clock.next_poll(p2 + secs(100), 4, &mut rng), None);
    }

    #[test]
    fn a_late_caller_gets_its_last_poll_now() {
        #[allow(clippy::disallowed_methods)] // a test needs one base instant; only offsets matter
        let t0 = Instant::now();
        let s = PollSchedule::default().with_deadline(Some(secs(5)));
        let mut clock = PollClock::new(s, t0);
        let mut rng = Rng::seed(5);
        let late = t0 + secs(60);
        assert_eq!(clock.next_poll(late, 0, &mut rng), Some(late));
        assert_eq!(clock.next_poll(late, 1, &mut rng), None);
    }

    #[test]
    fn no_deadline_never_runs_out() {
        #[allow(clippy::disallowed_methods)] // a test needs one base instant; only offsets matter
        let t0 = Instant::now();
        let mut clock = PollClock::new(PollSchedule::default(), t0);
        let mut rng = Rng::seed(5);
        let mut now = t0;
        for n in 0..100 {
            let next = clock.next_poll(now, n, &mut rng).unwrap();
            assert!(next > now);
            now = next;
        }
        assert!(!clock.is_exhausted());
    }
}
