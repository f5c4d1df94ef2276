//! Credentials and redirects: the only stage that sees the key, and the one that decides
//! where a request may go.

mod credentials;
mod policy;
mod redirect;

pub(crate) use credentials::Credentials;
pub use policy::RedirectMode;
pub(crate) use redirect::{follow, refuse_redirect};
