//! A pure, streaming encoder for the `multipart/form-data` body of `POST /files/upload`.
//!
//! The caller owns the IO: send [`Encoder::preamble`], then every content chunk through
//! [`Encoder::chunk`] (passed through without copying), then [`Encoder::finish`]. Memory use
//! is constant whatever the file size, and [`Encoder::encoded_len`] gives the exact
//! `Content-Length` up front.
//!
//! The boundary comes from a caller-supplied seed ([`Boundary::from_seed`]), so the body is
//! reproducible. Should the content ever contain the boundary delimiter (astronomically
//! unlikely with a 40-character random boundary, but checked, also across chunk edges),
//! `chunk` returns [`BoundaryCollision`]: discard what was sent and restart the upload with a
//! new seed.

mod boundary;
mod encoder;
mod form;

pub use boundary::Boundary;
pub use encoder::{BoundaryCollision, Encoder};
pub use form::UploadForm;
