//! A small raw TCP/HTTP/1.1 server that misbehaves on purpose, for the hostile-server tests.
//!
//! Each connection reads one request head (bounded), records its method, path and headers,
//! drains a `Content-Length` body, then answers with what the [`Script`] says for that path.
//! Bodies can be generated lazily (a 1 GiB body is produced chunk by chunk, never allocated)
//! or be endless.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target (path and query).
    pub path: String,
    /// Every header, as received (name lowercased).
    pub headers: Vec<(String, String)>,
}

/// What to send back.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response: status, extra headers and a body (Content-Length is added).
    Full {
        /// Status code.
        status: u16,
        /// Header lines (`name`, `value`).
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// A `Content-Length: len` JSON body streamed from a generator (never held in memory).
    Huge {
        /// Bytes to send.
        len: u64,
    },
    /// A chunked JSON body that never ends.
    Endless,
    /// A 200 with this many header lines.
    ManyHeaders {
        /// How many.
        count: usize,
    },
    /// These bytes as they are (status line, headers and all), then the connection closes:
    /// for responses no well-behaved server would send.
    Raw(Arc<[u8]>),
}

impl Reply {
    /// A response with a content type.
    pub fn with(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A JSON response.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::with(status, "application/json", body)
    }
}

/// Chooses the reply for the n-th request (0-based) to a path.
pub type Script = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

/// A running hostile server.
#[derive(Clone)]
pub struct Hostile {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl std::fmt::Debug for Hostile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hostile").field("addr", &self.addr).finish()
    }
}

impl Hostile {
    /// Starts a server on a loopback port; it lives as long as the runtime.
    pub async fn start(script: Script) -> Hostile {
        crate::trace_capture::install();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let script = Arc::clone(&script);
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let _ = serve(sock, script, log).await;
                });
            }
        });
        Hostile { addr, seen }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/api/v0`.
    pub fn base_url(&self) -> String {
        format!("{}/api/v0", self.origin())
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

async fn serve(
    mut sock: TcpStream,
    script: Script,
    log: Arc<Mutex<Vec<Seen>>>,
) -> std::io::Result<()> {
    loop {
        // Read the head, at most 64 KiB.
        let mut head = Vec::new();
        let mut byte = [0u8; 1024];
        let end = loop {
            if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if head.len() > 64 * 1024 {
                return Ok(());
            }
            let n = sock.read(&mut byte).await?;
            if n == 0 {
                return Ok(());
            }
            head.extend_from_slice(&byte[..n]);
        };
        let rest = head.split_off(end + 4);
        let text = String::from_utf8_lossy(&head[..end]).into_owned();
        let mut lines = text.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let method = first.next().unwrap_or_default().to_owned();
        let path = first.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        // Drain the body.
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut have = rest.len();
        while have < len {
            let n = sock.read(&mut byte).await?;
            if n == 0 {
                return Ok(());
            }
            have += n;
        }
        let seen = Seen {
            method,
            path,
            headers,
        };
        let n = {
            let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
            let n = l.iter().filter(|s| s.path == seen.path).count();
            l.push(seen.clone());
            n
        };
        match script(&seen, n) {
            Reply::Full {
                status,
                headers,
                body,
            } => {
                let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                sock.write_all(out.as_bytes()).await?;
                sock.write_all(&body).await?;
            }
            Reply::Huge { len } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
                );
                sock.write_all(head.as_bytes()).await?;
                let chunk = vec![b' '; 64 * 1024];
                let mut left = len;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    sock.write_all(&chunk[..n]).await?;
                    left -= n as u64;
                }
                return Ok(());
            }
            Reply::Endless => {
                sock.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
                )
                .await?;
                let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
                chunk.extend(std::iter::repeat_n(b'[', 64 * 1024));
                chunk.extend_from_slice(b"\r\n");
                loop {
                    sock.write_all(&chunk).await?;
                }
            }
            Reply::ManyHeaders { count } => {
                sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n")
                    .await?;
                let mut block = Vec::new();
                for i in 0..count {
                    block.extend_from_slice(format!("x-h{i}: v\r\n").as_bytes());
                    if block.len() > 32 * 1024 {
                        sock.write_all(&block).await?;
                        block.clear();
                    }
                }
                block.extend_from_slice(b"content-length: 2\r\n\r\n{}");
                sock.write_all(&block).await?;
            }
            Reply::Raw(bytes) => {
                // The client may hang up mid-way (it stops reading a head over its limit).
                let _ = sock.write_all(&bytes).await;
                return Ok(());
            }
        }
    }
}
