//! Client-side pacing with core's GCRA per tier: requests wait for a permit rather than run
//! into 429s, and 429s and `X-RateLimit-Remaining: 0` push the limiter back.

mod pacer;
mod policy;
mod registry;

pub(crate) use pacer::Pacer;
pub(crate) use registry::shared_limiter;
