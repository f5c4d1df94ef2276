//! Credentials and redirects: the only layer that sees the key, and the one that decides
//! where a request may go.

mod layer;
mod policy;

pub(crate) use layer::AuthLayer;
pub use policy::RedirectMode;
