//! A small seeded PRNG (SplitMix64) and deterministic UUIDv7 ids built from it.

use uuid::Uuid;

/// SplitMix64: tiny, fast, and good enough for ids and fault dice.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A UUIDv7 for the given unix milliseconds.
    pub fn uuid_v7(&mut self, ms: u64) -> Uuid {
        let a = self.next_u64().to_le_bytes();
        let b = self.next_u64().to_le_bytes();
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&a);
        bytes[8..].copy_from_slice(&b[..2]);
        uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid()
    }
}

/// The SplitMix64 finaliser; also used to derive stable ids from other ids.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable UUIDv7 derived from a parent id and an index (for conversation rows), so rows
/// computed lazily keep the same id across reads.
pub fn derived_uuid(parent: Uuid, index: u64, ms: u64) -> Uuid {
    let (hi, lo) = parent.as_u64_pair();
    let mut rng = Rng::new(mix(hi ^ mix(lo ^ mix(index))));
    rng.uuid_v7(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut c = Rng::new(8);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn uuids_are_v7_with_the_timestamp() {
        let mut r = Rng::new(1);
        let id = r.uuid_v7(1_777_118_400_000);
        assert_eq!(id.get_version_num(), 7);
        let (secs, nanos) = id.get_timestamp().expect("v7 has a timestamp").to_unix();
        assert_eq!(
            secs * 1000 + u64::from(nanos) / 1_000_000,
            1_777_118_400_000
        );
        assert_ne!(r.uuid_v7(1), r.uuid_v7(1));
    }

    #[test]
    fn floats_in_unit_interval() {
        let mut r = Rng::new(3);
        for _ in 0..1000 {
            let f = r.next_f64();
            assert!((0.0..1.0).contains(&f));
        }
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let p = Uuid::from_u128(42);
        assert_eq!(derived_uuid(p, 1, 5), derived_uuid(p, 1, 5));
        assert_ne!(derived_uuid(p, 1, 5), derived_uuid(p, 2, 5));
    }
}
