//! A scripted in-memory inner service that records when and what it was called with.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use nomic_agent_transport::{Body, Error};
use tokio::time::Instant;

/// One scripted reply.
pub enum Reply {
    /// A response with a status, headers and body.
    Status(StatusCode, Vec<(&'static str, String)>, &'static str),
    /// A failure before sending.
    NotSent,
    /// A failure after the request may have been received.
    MaybeSent,
    /// Never answers.
    Hang,
    /// A response head, then half of `body`, then the connection breaks.
    Truncated(StatusCode, &'static str),
}

pub fn status(code: u16) -> Reply {
    Reply::Status(StatusCode::from_u16(code).unwrap(), vec![], "")
}

pub fn with_headers(code: u16, headers: &[(&'static str, &str)]) -> Reply {
    Reply::Status(
        StatusCode::from_u16(code).unwrap(),
        headers.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        "",
    )
}

/// What the service saw.
#[derive(Clone, Debug)]
pub struct Call {
    pub at: Instant,
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
}

#[derive(Clone, Default)]
pub struct Mock {
    script: Arc<Mutex<VecDeque<Reply>>>,
    /// Used when the script is empty.
    fallback: Arc<Mutex<Option<u16>>>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Mock {
    pub fn new(script: Vec<Reply>) -> Mock {
        Mock {
            script: Arc::new(Mutex::new(script.into())),
            ..Mock::default()
        }
    }

    /// Answers `code` once the script runs out.
    pub fn then_always(self, code: u16) -> Mock {
        *self.fallback.lock().unwrap() = Some(code);
        self
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Gaps between consecutive calls, in milliseconds.
    pub fn gaps_ms(&self) -> Vec<u128> {
        let calls = self.calls();
        calls
            .windows(2)
            .map(|w| (w[1].at - w[0].at).as_millis())
            .collect()
    }
}

impl tower::Service<Request<Body>> for Mock {
    type Response = Response<Body>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        self.calls.lock().unwrap().push(Call {
            at: Instant::now(),
            method: req.method().clone(),
            uri: req.uri().clone(),
            headers: req.headers().clone(),
        });
        let reply = self.script.lock().unwrap().pop_front().unwrap_or_else(|| {
            let code = self.fallback.lock().unwrap().expect("the script ran out");
            status(code)
        });
        Box::pin(async move {
            match reply {
                Reply::Status(code, headers, body) => {
                    let mut resp = Response::new(Body::from(body));
                    *resp.status_mut() = code;
                    for (k, v) in headers {
                        resp.headers_mut().insert(k, v.parse().unwrap());
                    }
                    Ok(resp)
                }
                Reply::NotSent => Err(Error::not_sent("connection refused (scripted)")),
                Reply::MaybeSent => Err(Error::maybe_sent("connection reset (scripted)")),
                Reply::Hang => std::future::pending().await,
                Reply::Truncated(code, body) => {
                    let half = bytes::Bytes::from_static(&body.as_bytes()[..body.len() / 2]);
                    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
                        Ok(half),
                        Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "connection closed mid-body (scripted)",
                        )),
                    ];
                    let mut resp = Response::new(Body::from_stream(Chunks(chunks.into())));
                    *resp.status_mut() = code;
                    Ok(resp)
                }
            }
        })
    }
}

/// A stream over scripted chunks.
struct Chunks(VecDeque<Result<bytes::Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<bytes::Bytes, std::io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.pop_front())
    }
}
