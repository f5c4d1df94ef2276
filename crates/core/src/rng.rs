//! A small seeded PRNG (SplitMix64) so core can jitter without a global random source.
//!
//! Same seed, same sequence, on every platform. Not for cryptography.

use std::time::Duration;

/// A deterministic SplitMix64 generator.
///
/// ```
/// use nomic_agent_core::rng::Rng;
/// let mut a = Rng::seed(7);
/// let mut b = Rng::seed(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole future sequence is fixed by `seed`.
    pub fn seed(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // The top 53 bits fill an f64 mantissa exactly, so 1.0 is never reached.
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `[0, n)`; `0` when `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift: the bias is at most n / 2^64, negligible for jitter.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// `base` scaled by a uniform factor in `[1 - fraction, 1 + fraction]`.
    ///
    /// `fraction` is clamped to `[0, 1]` (NaN counts as 0), and the result saturates instead of
    /// overflowing.
    pub fn jitter(&mut self, base: Duration, fraction: f64) -> Duration {
        let f = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        let unit = self.next_f64();
        if f == 0.0 {
            return base;
        }
        let scale = 1.0 - f + 2.0 * f * unit;
        scale_duration(base, scale)
    }
}

/// `d * scale`, saturating at `Duration::MAX` and flooring at zero for any finite or infinite
/// `scale` (NaN gives zero).
pub(crate) fn scale_duration(d: Duration, scale: f64) -> Duration {
    let secs = d.as_secs_f64() * scale;
    if secs.is_nan() || secs <= 0.0 {
        Duration::ZERO
    } else {
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_different_seed_differs() {
        let mut a = Rng::seed(42);
        let mut b = Rng::seed(42);
        let mut c = Rng::seed(43);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn splitmix_reference_value() {
        // First output of SplitMix64 seeded with 0 (published reference value).
        assert_eq!(Rng::seed(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn f64_in_unit_interval_and_below_in_range() {
        let mut r = Rng::seed(1);
        for _ in 0..10_000 {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
            assert!(r.below(7) < 7);
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.below(1), 0);
    }

    #[test]
    fn below_covers_every_value() {
        let mut r = Rng::seed(9);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            seen[r.below(5) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn jitter_bounds() {
        let mut r = Rng::seed(3);
        let base = Duration::from_secs(10);
        let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
        for _ in 0..10_000 {
            let d = r.jitter(base, 0.1);
            assert!(
                d >= Duration::from_secs(9) && d <= Duration::from_secs(11),
                "{d:?}"
            );
            lo = lo.min(d);
            hi = hi.max(d);
        }
        // It really spreads over the interval.
        assert!(lo < Duration::from_millis(9_100) && hi > Duration::from_millis(10_900));
        assert_eq!(r.jitter(base, 0.0), base);
        assert_eq!(r.jitter(base, f64::NAN), base);
        assert!(r.jitter(Duration::MAX, 1.0) <= Duration::MAX);
    }
}
