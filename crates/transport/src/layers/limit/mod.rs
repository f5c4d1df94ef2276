//! Caps response bodies with `http_body_util::Limited` when the request asks for a limit.

mod layer;

pub(crate) use layer::{LimitLayer, limit_body};
