//! [`Body`]: request and response bodies that stream, so uploads of any size run in constant
//! memory.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::io::AsyncRead;

use crate::error::Error;

type BoxBody = Pin<Box<dyn http_body::Body<Data = Bytes, Error = Error> + Send + 'static>>;

/// An HTTP body: empty, in memory, or a stream.
///
/// In-memory bodies can be replayed, so requests carrying them may be retried; streamed bodies
/// are sent at most once (a request with a streamed body is retried only if the stream was never
/// handed to a connection — see the crate docs).
pub struct Body {
    inner: Inner,
}

enum Inner {
    Full(Option<Bytes>),
    /// A response from hyper, kept unboxed: the common case, read frame by frame.
    Incoming(hyper::body::Incoming),
    Stream(BoxBody),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Body {
        Body {
            inner: Inner::Full(None),
        }
    }

    /// A body from a stream of chunks; an `Err` chunk aborts the request.
    pub fn from_stream<S>(stream: S) -> Body
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        Body::wrap(http_body_util::StreamBody::new(StreamFrames { stream }))
    }

    /// A body read from an `AsyncRead` in fixed-size chunks.
    pub fn from_reader<R>(reader: R) -> Body
    where
        R: AsyncRead + Send + 'static,
    {
        Body::from_stream(tokio_util::io::ReaderStream::new(reader))
    }

    /// Wraps any `http_body::Body` whose errors are already ours.
    pub(crate) fn wrap<B>(body: B) -> Body
    where
        B: http_body::Body<Data = Bytes, Error = Error> + Send + 'static,
    {
        Body {
            inner: Inner::Stream(Box::pin(body)),
        }
    }

    /// True for an empty or in-memory body: reading it cannot block.
    pub(crate) fn is_in_memory(&self) -> bool {
        matches!(self.inner, Inner::Full(_))
    }

    pub(crate) fn from_incoming(body: hyper::body::Incoming) -> Body {
        Body {
            inner: Inner::Incoming(body),
        }
    }

    /// A copy that can be sent again, for in-memory bodies; `None` for streams.
    pub fn try_clone(&self) -> Option<Body> {
        match &self.inner {
            Inner::Full(b) => Some(Body {
                inner: Inner::Full(b.clone()),
            }),
            Inner::Incoming(_) | Inner::Stream(_) => None,
        }
    }

    /// The next chunk of data, skipping trailers; `None` at the end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, Error>> {
        loop {
            match self.frame().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        return Some(Ok(data));
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Reads the whole body into memory.
    ///
    /// Unbounded: bound it first (responses from `Transport::send_buffered` already are).
    pub async fn bytes(self) -> Result<Bytes, Error> {
        match self.inner {
            Inner::Full(b) => Ok(b.unwrap_or_default()),
            Inner::Incoming(_) | Inner::Stream(_) => Ok(self.collect().await?.to_bytes()),
        }
    }
}

impl Default for Body {
    fn default() -> Body {
        Body::empty()
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Body {
        Body {
            inner: Inner::Full(if b.is_empty() { None } else { Some(b) }),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Body {
        Body::from(Bytes::from(v))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Full(b) => write!(f, "Body(Full, {} bytes)", b.as_ref().map_or(0, Bytes::len)),
            Inner::Incoming(_) | Inner::Stream(_) => f.write_str("Body(Stream)"),
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match &mut self.inner {
            Inner::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Inner::Incoming(b) => Pin::new(b)
                .poll_frame(cx)
                .map_err(|e| Error::body(Box::new(e))),
            Inner::Stream(s) => s.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Full(b) => b.is_none(),
            Inner::Incoming(b) => b.is_end_stream(),
            Inner::Stream(s) => s.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Inner::Incoming(b) => b.size_hint(),
            Inner::Stream(s) => s.size_hint(),
        }
    }
}

pin_project_lite::pin_project! {
    /// Adapts a stream of byte chunks to a stream of frames with our error type.
    struct StreamFrames<S> {
        #[pin]
        stream: S,
    }
}

impl<S> Stream for StreamFrames<S>
where
    S: Stream<Item = Result<Bytes, std::io::Error>>,
{
    type Item = Result<Frame<Bytes>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project()
            .stream
            .poll_next(cx)
            .map(|o| o.map(|r| r.map(Frame::data).map_err(|e| Error::body(Box::new(e)))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_body_replays_and_streams_do_not() {
        let b = Body::from("hello");
        let copy = b.try_clone().expect("in-memory bodies replay");
        assert_eq!(b.bytes().await.unwrap(), "hello");
        assert_eq!(copy.bytes().await.unwrap(), "hello");
        let s = Body::from_reader(&b"abc"[..]);
        assert!(s.try_clone().is_none());
        assert_eq!(s.bytes().await.unwrap(), "abc");
    }

    #[tokio::test]
    async fn reader_streams_in_chunks() {
        // 200 KiB through ReaderStream arrives in several chunks, never as one allocation.
        let data = vec![7u8; 200 * 1024];
        let mut body = Body::from_reader(std::io::Cursor::new(data));
        let mut chunks = 0;
        let mut total = 0;
        while let Some(c) = body.chunk().await {
            let c = c.unwrap();
            assert!(c.len() <= 64 * 1024);
            total += c.len();
            chunks += 1;
        }
        assert_eq!(total, 200 * 1024);
        assert!(chunks >= 4, "got {chunks} chunks");
    }

    #[tokio::test]
    async fn stream_error_surfaces() {
        let items: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"a")),
            Err(std::io::Error::other("disk gone")),
        ];
        let body = Body::from_stream(StreamIter(items.into_iter()));
        let err = body.bytes().await.unwrap_err();
        assert!(err.to_string().contains("disk gone"), "{err}");
    }

    struct StreamIter<I>(I);
    impl<I: Iterator + Unpin> Stream for StreamIter<I> {
        type Item = I::Item;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<I::Item>> {
            Poll::Ready(self.0.next())
        }
    }
}
