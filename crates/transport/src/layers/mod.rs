//! The tower layers, outermost first: deadline → retry → pacing → per-attempt timeout → body
//! limit → tracing → auth and redirects → the pooled client.

pub(crate) mod auth;
pub(crate) mod deadline;
pub(crate) mod limit;
pub(crate) mod pacing;
pub(crate) mod retry;
pub(crate) mod timeout;
pub(crate) mod trace;

use std::future::Future;
use std::pin::Pin;

use http::Response;

use crate::body::Body;
use crate::error::Error;

/// The boxed future the async-bodied layers return.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;
