//! Client-side validation: every rule the server enforces with a 400 that can be checked
//! before sending, reported all at once as typed [`Problem`]s.
//!
//! - [`validate_launch`] / [`validate_follow_up`]: the body rules of `docs/wire.md`;
//! - [`validate_against_workflow`]: slot rules, once the workflow is known;
//! - [`validate_image`]: the image rules, cheap even for huge images;
//! - [`validate_launch_json`] / [`validate_follow_up_json`]: the same rules for callers that
//!   build their own JSON, plus the type errors typed requests cannot have.

mod image;
mod json;
mod problem;
mod rules;

pub(crate) use image::base64_decoded_len;
pub use image::validate_image;
pub use json::{validate_follow_up_json, validate_launch_json};
pub use problem::{InvalidRequest, Problem, ProblemKind};
pub use rules::{validate_against_workflow, validate_follow_up, validate_launch};
