//! The check of every request head before actix-web sees it, so that every
//! answer of the daemon is `{"error": …}` JSON with its status.
//!
//! actix-web's HTTP/1 dispatcher answers a request it cannot parse — a
//! malformed request line or header (400), a head over its buffer or with
//! too many fields (431), a head that does not arrive in time (408) —
//! itself, before any handler runs and with an empty body, and offers no
//! hook to change that. So each connection's head is read here first,
//! under colt's own named limits (smaller than actix's: 128 KiB and 96
//! fields), and checked by actix's own rules (`httparse`, then the header
//! rules of actix-http's `h1/decoder.rs`: one `Host` on HTTP/1.1, one
//! numeric `Content-Length`, `Transfer-Encoding` only as `chunked` on
//! HTTP/1.1 and never beside a `Content-Length`, a `Content-Length` on an
//! HTTP/1.0 POST). A refused head gets its JSON answer here and the
//! connection closes; a head that passes is handed to actix with the bytes
//! already read ([`Replayed`]). A connection carries one request (the
//! daemon serves with keep-alive off), so no head reaches actix unchecked.

use actix_web::web::{Bytes, BytesMut};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// Longest request head (request line and header fields) the daemon reads:
/// its requests' heads are a few hundred bytes (a bearer token of at most
/// 256 bytes included).
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// Most header fields in one request.
pub const MAX_HEADERS: usize = 64;

/// Longest a request head may take to arrive once the connection is open
/// (actix-web's own default for the same wait).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest the daemon reads what a refused client still sends after its
/// answer (so that closing the socket does not reset the connection and
/// lose the answer), and how much of it.
const DRAIN_FOR: Duration = Duration::from_secs(1);
const DRAIN_BYTES: usize = 1 << 20;

/// Why a head is refused: the status and the message of its JSON answer.
#[derive(Debug, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    fn bad(message: impl Into<String>) -> Refusal {
        Refusal { status: 400, message: message.into() }
    }

    fn too_large(message: impl Into<String>) -> Refusal {
        Refusal { status: 431, message: message.into() }
    }

    /// The whole HTTP answer: status line, headers, `{"error": message}`.
    pub fn answer(&self) -> Vec<u8> {
        let reason = match self.status {
            400 => "Bad Request",
            408 => "Request Timeout",
            431 => "Request Header Fields Too Large",
            _ => "Error",
        };
        let body = serde_json::json!({ "error": self.message }).to_string();
        format!(
            "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.status,
            body.len()
        )
        .into_bytes()
    }
}

/// The head at the start of `buf`: `Ok(None)` while it is incomplete and
/// within the limits, `Ok(Some(n))` once its `n` bytes are all there and
/// pass, or why it is refused.
pub fn check_head(buf: &[u8]) -> Result<Option<usize>, Refusal> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    let parsed = request.parse(buf).map_err(|e| match e {
        httparse::Error::TooManyHeaders => {
            Refusal::too_large(format!("the request has more than {MAX_HEADERS} header fields"))
        }
        e => Refusal::bad(format!("malformed request head: {e}")),
    })?;
    let length = match parsed {
        httparse::Status::Partial if buf.len() >= MAX_HEAD_BYTES => {
            return Err(Refusal::too_large(format!("the request head is over {MAX_HEAD_BYTES} bytes")))
        }
        httparse::Status::Partial => return Ok(None),
        httparse::Status::Complete(n) if n > MAX_HEAD_BYTES => {
            return Err(Refusal::too_large(format!("the request head is over {MAX_HEAD_BYTES} bytes")))
        }
        httparse::Status::Complete(n) => n,
    };
    // Complete: httparse filled in the method, the target and the version.
    let method = request.method.unwrap_or_default();
    let target = request.path.unwrap_or_default();
    actix_web::http::Method::from_bytes(method.as_bytes())
        .map_err(|_| Refusal::bad(format!("`{method}` is not a request method")))?;
    actix_web::http::Uri::try_from(target)
        .map_err(|e| Refusal::bad(format!("the request target `{target}` is not a URI: {e}")))?;
    check_fields(method, request.version == Some(1), request.headers)?;
    Ok(Some(length))
}

/// actix-http's rules for the header fields of a request (`h1/decoder.rs`).
fn check_fields(method: &str, http11: bool, fields: &[httparse::Header<'_>]) -> Result<(), Refusal> {
    fn named<'a, 'h>(
        fields: &'a [httparse::Header<'h>],
        name: &'a str,
    ) -> impl Iterator<Item = &'a httparse::Header<'h>> {
        fields.iter().filter(move |f| f.name.eq_ignore_ascii_case(name))
    }
    fn text<'h>(field: &httparse::Header<'h>) -> Option<&'h str> {
        std::str::from_utf8(field.value).map(str::trim).ok()
    }
    let hosts = named(fields, "host").count();
    if hosts > 1 {
        return Err(Refusal::bad("the request has more than one `Host` field"));
    }
    if http11 && hosts == 0 {
        return Err(Refusal::bad("an HTTP/1.1 request needs a `Host` field"));
    }
    let lengths: Vec<&httparse::Header<'_>> = named(fields, "content-length").collect();
    if lengths.len() > 1 {
        return Err(Refusal::bad("the request has more than one `Content-Length` field"));
    }
    if let Some(field) = lengths.first() {
        let valid = text(field).is_some_and(|v| !v.starts_with('+') && v.parse::<u64>().is_ok());
        if !valid {
            return Err(Refusal::bad("the request's `Content-Length` is not a number of bytes"));
        }
    }
    let encodings: Vec<&httparse::Header<'_>> = named(fields, "transfer-encoding").collect();
    if let Some(field) = encodings.first() {
        if encodings.len() > 1 {
            return Err(Refusal::bad("the request has more than one `Transfer-Encoding` field"));
        }
        if !http11 {
            return Err(Refusal::bad("an HTTP/1.0 request may not have a `Transfer-Encoding`"));
        }
        if !text(field).is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            return Err(Refusal::bad("a request's `Transfer-Encoding` must be `chunked`"));
        }
        if !lengths.is_empty() {
            return Err(Refusal::bad("the request has both a `Content-Length` and a `Transfer-Encoding`"));
        }
    }
    if !http11 && method == "POST" && lengths.is_empty() {
        return Err(Refusal::bad("an HTTP/1.0 POST needs a `Content-Length`"));
    }
    Ok(())
}

/// Reads and checks the head of the one request `stream` carries: the
/// connection, its head replayed first, for actix; or None once a refusal
/// has been answered (or the client closed without a whole head).
pub async fn guard(mut stream: TcpStream) -> Option<Replayed> {
    let mut buf = BytesMut::with_capacity(1024);
    let read = async {
        loop {
            if let Some(_length) = check_head(&buf)? {
                return Ok(true);
            }
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return Ok(false),
                Ok(_) => {}
            }
        }
    };
    let refusal = match actix_web::rt::time::timeout(HEAD_TIMEOUT, read).await {
        Ok(Ok(true)) => return Some(Replayed { head: buf.freeze(), stream }),
        Ok(Ok(false)) => return None,
        Ok(Err(refusal)) => refusal,
        Err(_) => Refusal {
            status: 408,
            message: format!("the request head did not arrive within {} s", HEAD_TIMEOUT.as_secs()),
        },
    };
    if stream.write_all(&refusal.answer()).await.is_ok() && stream.shutdown().await.is_ok() {
        let mut sink = vec![0u8; 16 * 1024];
        let drain = async {
            let mut drained = 0;
            while drained < DRAIN_BYTES {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
        };
        let _ = actix_web::rt::time::timeout(DRAIN_FOR, drain).await;
    }
    None
}

/// A connection whose first bytes, already read by [`guard`], are read
/// again by the HTTP dispatcher before the rest.
pub struct Replayed {
    head: Bytes,
    stream: TcpStream,
}

impl Replayed {
    pub fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.stream.peer_addr().ok()
    }
}

impl AsyncRead for Replayed {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if !self.head.is_empty() {
            let n = self.head.len().min(out.remaining());
            let first = self.head.split_to(n);
            out.put_slice(&first);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, out)
    }
}

impl AsyncWrite for Replayed {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, bytes)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(head: &str) -> Refusal {
        check_head(head.as_bytes()).expect_err(head)
    }

    #[test]
    fn heads_pass_or_are_refused_by_actix_rules() {
        let fine = "GET /v1/jobs HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(check_head(fine.as_bytes()), Ok(Some(fine.len())));
        assert_eq!(check_head(b"GET /v1/jobs HTTP/1.1\r\nHost: x\r\n"), Ok(None));
        let post = "POST /v1/jobs HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(check_head(post.as_bytes()), Ok(Some(post.len() - 2)));
        for (head, status, says) in [
            ("GARBAGE\r\n\r\n", 400, "malformed request head"),
            ("GET / HTTP/1.1\r\n\r\n", 400, "needs a `Host`"),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one `Host`"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400, "not a number"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "more than one"),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "must be `chunked`"),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
                400,
                "both a `Content-Length` and",
            ),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "HTTP/1.0 request may not"),
            ("POST / HTTP/1.0\r\n\r\n", 400, "needs a `Content-Length`"),
            ("GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400, "malformed"),
        ] {
            let r = refused(head);
            assert_eq!(r.status, status, "{head:?}: {r:?}");
            assert!(r.message.contains(says), "{head:?}: {r:?}");
        }
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: y\r\n")).collect();
        let r = refused(&format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n"));
        assert_eq!((r.status, r.message.contains("64 header fields")), (431, true), "{r:?}");
        let long = format!("GET / HTTP/1.1\r\nHost: a\r\nX-Long: {}", "y".repeat(MAX_HEAD_BYTES));
        let r = refused(&long);
        assert_eq!((r.status, r.message.contains("32768 bytes")), (431, true), "{r:?}");
    }

    #[test]
    fn a_refusal_is_a_whole_json_answer() {
        let answer = String::from_utf8(Refusal::bad("no \"Host\"").answer()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n") && head.contains("application/json"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(body).unwrap()["error"], "no \"Host\"");
    }
}
