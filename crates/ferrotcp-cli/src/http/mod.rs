//! A small HTTP/1.1 file server and client (RFC 9110 / RFC 9112) that run over any
//! blocking byte stream: anything that is `Read + Write` (ferrotcp's `TcpStream`,
//! `std::net::TcpStream`, or an in-memory pipe in the tests).
//!
//! Everything is bounded: a response or request head may not exceed [`MAX_HEAD`]
//! bytes, bodies are streamed through a fixed 64 KiB buffer, and nothing is ever
//! read into memory whole. There are no timeouts here, because a generic stream has
//! none; set read timeouts on the stream itself if slow peers are a concern.

pub mod client;
pub mod server;

pub use client::{Url, get};
pub use server::FileServer;

use std::fmt;
use std::io::{self, Read, Write};

/// Largest request or response head (start line + header fields) accepted, in bytes.
pub const MAX_HEAD: usize = 64 * 1024;
/// Size of the buffers bodies are streamed through.
pub(crate) const BUF_SIZE: usize = 64 * 1024;
/// Largest number of header fields accepted in one head.
pub(crate) const MAX_HEADERS: usize = 256;
/// Longest chunk-size line (size + chunk extensions) accepted in a chunked body.
const MAX_CHUNK_LINE: usize = 4096;

/// Everything that can go wrong on the client side (and in shared parsing code).
#[derive(Debug)]
pub enum HttpError {
    /// The URL is not one this client can fetch.
    BadUrl(String),
    /// The byte stream failed.
    Io(io::Error),
    /// The peer sent something that is not valid HTTP/1.1.
    Malformed(String),
    /// The header block exceeded [`MAX_HEAD`] bytes (or a body exceeded its limit).
    TooLarge,
    /// The connection ended before the whole body arrived.
    Truncated { expected: u64, got: u64 },
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::BadUrl(why) => write!(f, "bad URL: {why}"),
            HttpError::Io(e) => write!(f, "I/O error: {e}"),
            HttpError::Malformed(why) => write!(f, "malformed HTTP message: {why}"),
            HttpError::TooLarge => {
                write!(f, "HTTP header block larger than {} KiB", MAX_HEAD / 1024)
            }
            HttpError::Truncated { expected, got } => {
                write!(f, "connection closed after {got} of {expected} body bytes")
            }
        }
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HttpError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for HttpError {
    fn from(e: io::Error) -> Self {
        HttpError::Io(e)
    }
}

/// What [`Conn::read_head`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Head {
    /// A complete head: every line still ends in `\n` (or `\r\n`); the blank line
    /// that ends the head has been consumed and is not included.
    Complete(Vec<u8>),
    /// Clean end of stream before any (non-blank) byte of a head.
    Closed,
    /// End of stream in the middle of a head.
    Partial,
    /// The head grew beyond the limit.
    TooLarge,
}

/// A byte stream with a read buffer, so that bytes read past the end of one message
/// (pipelined requests, the start of a body) are kept for the next read.
pub(crate) struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl<S> Conn<S> {
    pub(crate) fn new(stream: S) -> Self {
        Conn {
            stream,
            buf: vec![0; BUF_SIZE],
            start: 0,
            end: 0,
        }
    }

    /// The underlying stream, for writing. Reads must go through the `Conn`.
    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }
}

impl<S: Read> Conn<S> {
    /// Refills the (empty) buffer; returns the number of bytes now buffered (0 = EOF).
    fn fill(&mut self) -> io::Result<usize> {
        debug_assert_eq!(self.start, self.end);
        self.start = 0;
        self.end = 0;
        loop {
            match self.stream.read(&mut self.buf) {
                Ok(n) => {
                    self.end = n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads one message head: lines up to and including the first empty line.
    /// Empty lines before the head are skipped (RFC 9112 §2.2), but count toward
    /// `limit`. Accepts both CRLF and bare LF line endings.
    pub(crate) fn read_head(&mut self, limit: usize) -> io::Result<Head> {
        let mut head = Vec::new();
        let mut line_start = 0;
        let mut consumed = 0usize;
        loop {
            if self.start == self.end && self.fill()? == 0 {
                return Ok(if head.is_empty() {
                    Head::Closed
                } else {
                    Head::Partial
                });
            }
            let avail = &self.buf[self.start..self.end];
            match avail.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    head.extend_from_slice(&avail[..=i]);
                    self.start += i + 1;
                    consumed += i + 1;
                    if consumed > limit {
                        return Ok(Head::TooLarge);
                    }
                    let line = &head[line_start..];
                    if line == b"\n" || line == b"\r\n" {
                        if line_start == 0 {
                            head.clear(); // blank line before the head: skip it
                            continue;
                        }
                        head.truncate(line_start);
                        return Ok(Head::Complete(head));
                    }
                    line_start = head.len();
                }
                None => {
                    consumed += avail.len();
                    if consumed > limit {
                        return Ok(Head::TooLarge);
                    }
                    head.extend_from_slice(avail);
                    self.start = self.end;
                }
            }
        }
    }

    /// Reads one line (without its CRLF / LF). `Ok(None)` at end of stream before
    /// any byte of the line; an error if the line is longer than `limit` or the
    /// stream ends inside it.
    fn read_line(&mut self, limit: usize) -> Result<Option<Vec<u8>>, HttpError> {
        let mut line = Vec::new();
        loop {
            if self.start == self.end && self.fill()? == 0 {
                if line.is_empty() {
                    return Ok(None);
                }
                return Err(HttpError::Malformed(
                    "connection closed in the middle of a line".into(),
                ));
            }
            let avail = &self.buf[self.start..self.end];
            let (take, done) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            if line.len() + take > limit {
                return Err(HttpError::Malformed("line too long".into()));
            }
            line.extend_from_slice(&avail[..take]);
            self.start += take;
            if done {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
        }
    }

    /// Reads whatever is available (buffered bytes first), at most `dst.len()`.
    fn read_some(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        if self.start < self.end {
            let n = dst.len().min(self.end - self.start);
            dst[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
            self.start += n;
            return Ok(n);
        }
        loop {
            match self.stream.read(dst) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }

    /// Copies body bytes to `out` until `max` bytes were copied (or end of stream if
    /// `max` is `None`). Calls `on_data(n)` after each `n` bytes written. Returns the
    /// number of bytes copied, which is less than `max` only if the stream ended.
    pub(crate) fn copy_body(
        &mut self,
        max: Option<u64>,
        out: &mut dyn Write,
        scratch: &mut [u8],
        on_data: &mut dyn FnMut(u64),
    ) -> io::Result<u64> {
        let mut copied = 0u64;
        loop {
            let want = match max {
                Some(m) if copied >= m => return Ok(copied),
                Some(m) => (m - copied).min(scratch.len() as u64) as usize,
                None => scratch.len(),
            };
            let n = self.read_some(&mut scratch[..want])?;
            if n == 0 {
                return Ok(copied);
            }
            out.write_all(&scratch[..n])?;
            copied += n as u64;
            on_data(n as u64);
        }
    }

    /// Decodes a chunked body (RFC 9112 §7.1) into `out`, discarding chunk
    /// extensions and trailer fields. Fails with `TooLarge` if the decoded body would
    /// exceed `limit`. Calls `on_data(n)` after each `n` bytes written.
    pub(crate) fn read_chunked(
        &mut self,
        out: &mut dyn Write,
        limit: Option<u64>,
        scratch: &mut [u8],
        on_data: &mut dyn FnMut(u64),
    ) -> Result<u64, HttpError> {
        let mut done = 0u64;
        loop {
            let line = self.read_line(MAX_CHUNK_LINE)?.ok_or_else(|| {
                HttpError::Malformed("connection closed before the last chunk".into())
            })?;
            let size = parse_chunk_size(&line)?;
            if size == 0 {
                break;
            }
            let expected = done.checked_add(size).ok_or(HttpError::TooLarge)?;
            if limit.is_some_and(|l| expected > l) {
                return Err(HttpError::TooLarge);
            }
            let got = self.copy_body(Some(size), out, scratch, on_data)?;
            done += got;
            if got < size {
                return Err(HttpError::Truncated {
                    expected,
                    got: done,
                });
            }
            match self.read_line(2)? {
                Some(l) if l.is_empty() => {}
                Some(_) => {
                    return Err(HttpError::Malformed(
                        "chunk data not followed by CRLF".into(),
                    ));
                }
                None => {
                    return Err(HttpError::Malformed(
                        "connection closed before the last chunk".into(),
                    ));
                }
            }
        }
        // Trailer section: field lines up to an empty line. A peer that closes right
        // after the last chunk has still sent the whole body; tolerate that.
        let mut trailer_bytes = 0usize;
        while let Some(line) = self.read_line(MAX_HEAD)? {
            if line.is_empty() {
                break;
            }
            trailer_bytes += line.len() + 2;
            if trailer_bytes > MAX_HEAD {
                return Err(HttpError::TooLarge);
            }
        }
        Ok(done)
    }
}

/// Parses `chunk-size [ BWS ; chunk-ext ]` (hex, at most 16 digits).
fn parse_chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let digits_end = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    let digits = &line[..digits_end];
    let rest = &line[digits_end..];
    let rest_ok = rest
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .is_none_or(|i| rest[i] == b';');
    if digits.is_empty() || digits.len() > 16 || !rest_ok {
        return Err(HttpError::Malformed(format!(
            "bad chunk size line {:?}",
            String::from_utf8_lossy(line)
        )));
    }
    let digits = std::str::from_utf8(digits).expect("hex digits are ASCII");
    Ok(u64::from_str_radix(digits, 16).expect("at most 16 hex digits fit in u64"))
}

/// Splits a head into lines, dropping the `\n` / `\r\n` line endings.
pub(crate) fn head_lines(head: &[u8]) -> Vec<&[u8]> {
    let head = head.strip_suffix(b"\n").unwrap_or(head);
    head.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect()
}

/// `tchar` from RFC 9110 §5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Trims optional whitespace (SP / HTAB) from both ends.
pub(crate) fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &s[start..end]
}

/// Values of every field called `name` (case-insensitive), in order.
pub(crate) fn header_values<'a>(
    headers: &'a [(String, String)],
    name: &str,
) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The comma-separated list elements of every field called `name`, trimmed and
/// without empty elements.
pub(crate) fn header_list<'a>(
    headers: &'a [(String, String)],
    name: &str,
) -> impl Iterator<Item = &'a str> {
    header_values(headers, name)
        .flat_map(|v| v.split(','))
        .map(|e| e.trim_matches([' ', '\t']))
        .filter(|e| !e.is_empty())
}

/// Does a `Connection` field list `token` (case-insensitive)?
pub(crate) fn has_connection_token(headers: &[(String, String)], token: &str) -> bool {
    header_list(headers, "connection").any(|t| t.eq_ignore_ascii_case(token))
}

/// The `Content-Length`, if any. Repeated fields or lists are accepted only if every
/// value is the same (RFC 9110 §8.6); anything else is an error.
pub(crate) fn content_length(headers: &[(String, String)]) -> Result<Option<u64>, String> {
    let mut found: Option<u64> = None;
    for v in header_values(headers, "content-length") {
        for e in v.split(',') {
            let e = e.trim_matches([' ', '\t']);
            if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("invalid Content-Length {v:?}"));
            }
            let n: u64 = e
                .parse()
                .map_err(|_| format!("Content-Length {v:?} out of range"))?;
            if found.is_some_and(|f| f != n) {
                return Err("conflicting Content-Length values".into());
            }
            found = Some(n);
        }
    }
    Ok(found)
}

/// Transfer codings listed in `Transfer-Encoding` fields, lowercased. Empty if absent.
pub(crate) fn transfer_codings(headers: &[(String, String)]) -> Vec<String> {
    header_list(headers, "transfer-encoding")
        .map(|c| {
            // Drop transfer parameters (`gzip;q=1`), keep the coding name.
            c.split(';')
                .next()
                .unwrap_or("")
                .trim_matches([' ', '\t'])
                .to_ascii_lowercase()
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod testutil {
    //! In-memory streams for the tests.

    use std::io::{self, Cursor, Read, Write};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc::{Receiver, Sender, channel};

    /// Canned input, captured output: a request/response played against a server or
    /// client without any concurrency.
    pub struct Mock {
        input: Cursor<Vec<u8>>,
        pub output: Vec<u8>,
    }

    impl Mock {
        pub fn new(input: impl Into<Vec<u8>>) -> Self {
            Mock {
                input: Cursor::new(input.into()),
                output: Vec::new(),
            }
        }
    }

    impl Read for Mock {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Mock {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Delivers its input at most `n` bytes per `read`, to exercise partial reads.
    pub struct Trickle<R> {
        pub inner: R,
        pub n: usize,
    }

    impl<R: Read> Read for Trickle<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.n);
            self.inner.read(&mut buf[..n])
        }
    }

    impl<R: Write> Write for Trickle<R> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.inner.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            self.inner.flush()
        }
    }

    /// One end of an in-memory full-duplex byte stream built on two channels.
    /// Dropping an end (or calling `shutdown_write`) is seen as EOF by the peer.
    pub struct PipeEnd {
        tx: Option<Sender<Vec<u8>>>,
        rx: Receiver<Vec<u8>>,
        pending: Vec<u8>,
        pos: usize,
    }

    pub fn duplex() -> (PipeEnd, PipeEnd) {
        let (tx_a, rx_b) = channel();
        let (tx_b, rx_a) = channel();
        let end = |tx, rx| PipeEnd {
            tx: Some(tx),
            rx,
            pending: Vec::new(),
            pos: 0,
        };
        (end(tx_a, rx_a), end(tx_b, rx_b))
    }

    impl PipeEnd {
        pub fn shutdown_write(&mut self) {
            self.tx = None;
        }
    }

    impl Read for PipeEnd {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            while self.pos == self.pending.len() {
                match self.rx.recv() {
                    Ok(data) => {
                        self.pending = data;
                        self.pos = 0;
                    }
                    Err(_) => return Ok(0), // peer's write side is gone: EOF
                }
            }
            let n = buf.len().min(self.pending.len() - self.pos);
            buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    impl Write for PipeEnd {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let tx = self
                .tx
                .as_ref()
                .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "write side shut"))?;
            tx.send(buf.to_vec())
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "peer gone"))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A fresh, empty directory under the system temp dir, removed on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> Self {
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let dir = std::env::temp_dir().join(format!(
                "ferrotcp-http-{tag}-{}-{n}-{nanos}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Deterministic pseudo-random bytes.
    pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::Trickle;
    use super::*;

    fn heads(input: &[u8], per_read: usize, limit: usize) -> Vec<Head> {
        let mut conn = Conn::new(Trickle {
            inner: input,
            n: per_read,
        });
        let mut out = Vec::new();
        loop {
            let h = conn.read_head(limit).unwrap();
            let stop = !matches!(h, Head::Complete(_));
            out.push(h);
            if stop {
                return out;
            }
        }
    }

    #[test]
    fn read_head_splits_messages_across_any_read_size() {
        let input = b"\r\n\nA\r\nB: 1\r\n\r\nC\nD: 2\n\n\r\nE\r\n";
        for per_read in [1, 2, 3, 5, 64, 100_000] {
            assert_eq!(
                heads(input, per_read, MAX_HEAD),
                vec![
                    Head::Complete(b"A\r\nB: 1\r\n".to_vec()),
                    Head::Complete(b"C\nD: 2\n".to_vec()),
                    Head::Partial,
                ],
                "per_read={per_read}"
            );
        }
        assert_eq!(heads(b"", 10, MAX_HEAD), vec![Head::Closed]);
        assert_eq!(heads(b"\r\n\r\n\n", 10, MAX_HEAD), vec![Head::Closed]);
    }

    #[test]
    fn read_head_enforces_the_limit() {
        assert_eq!(heads(b"0123456789\r\n\r\n", 4, 13), vec![Head::TooLarge]);
        assert_eq!(
            heads(b"0123456789\r\n\r\n", 4, 14),
            vec![Head::Complete(b"0123456789\r\n".to_vec()), Head::Closed]
        );
        // One endless line, and endless blank lines, are both cut off.
        assert_eq!(heads(&[b'x'; 70_000], 1000, MAX_HEAD), vec![Head::TooLarge]);
        assert_eq!(
            heads(&[b'\n'; 70_000], 1000, MAX_HEAD),
            vec![Head::TooLarge]
        );
    }

    #[test]
    fn head_lines_strip_line_endings() {
        assert_eq!(
            head_lines(b"A\r\nB: 1\nC\r\n"),
            vec![&b"A"[..], &b"B: 1"[..], &b"C"[..]]
        );
    }

    #[test]
    fn chunk_size_lines() {
        let ok: &[(&[u8], u64)] = &[
            (b"0", 0),
            (b"a", 10),
            (b"1F", 31),
            (b"10;name=value", 16),
            (b"10 ; ext", 16),
            (b"ffffffffffffffff", u64::MAX),
        ];
        for (line, want) in ok {
            assert_eq!(parse_chunk_size(line).unwrap(), *want, "{line:?}");
        }
        let bad: &[&[u8]] = &[b"", b"g", b"+5", b" 5", b"5 x", b"10000000000000000", b"-1"];
        for line in bad {
            assert!(parse_chunk_size(line).is_err(), "{line:?}");
        }
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn content_length_values() {
        assert_eq!(content_length(&h(&[])), Ok(None));
        assert_eq!(
            content_length(&h(&[("content-LENGTH", "42")])),
            Ok(Some(42))
        );
        assert_eq!(
            content_length(&h(&[("Content-Length", "7, 7")])),
            Ok(Some(7))
        );
        assert_eq!(
            content_length(&h(&[("Content-Length", "7"), ("content-length", "7")])),
            Ok(Some(7))
        );
        for bad in [
            "",
            "-1",
            "+1",
            "1 2",
            "0x10",
            "7, 8",
            "99999999999999999999",
        ] {
            assert!(
                content_length(&h(&[("Content-Length", bad)])).is_err(),
                "{bad:?}"
            );
        }
        assert!(content_length(&h(&[("Content-Length", "7"), ("Content-Length", "8")])).is_err());
    }

    #[test]
    fn list_headers() {
        let hs = h(&[
            ("Connection", "Keep-Alive, Upgrade"),
            ("connection", " close "),
            ("Transfer-Encoding", "gzip;q=1, Chunked"),
        ]);
        assert!(has_connection_token(&hs, "keep-alive"));
        assert!(has_connection_token(&hs, "CLOSE"));
        assert!(!has_connection_token(&hs, "te"));
        assert_eq!(transfer_codings(&hs), vec!["gzip", "chunked"]);
    }

    #[test]
    fn chunked_decoding_with_extensions_trailers_and_partial_reads() {
        let body = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nNEXT";
        for per_read in [1, 3, 1000] {
            let mut conn = Conn::new(Trickle {
                inner: &body[..],
                n: per_read,
            });
            let mut out = Vec::new();
            let mut seen = 0;
            let n = conn
                .read_chunked(&mut out, None, &mut [0; 7], &mut |k| seen += k)
                .unwrap();
            assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
            assert_eq!((n, seen), (23, 23));
            // The bytes after the body are left for the next message.
            let mut rest = Vec::new();
            conn.copy_body(None, &mut rest, &mut [0; 7], &mut |_| {})
                .unwrap();
            assert_eq!(rest, b"NEXT");
        }
    }

    #[test]
    fn chunked_decoding_errors() {
        let run = |body: &[u8], limit| {
            let mut conn = Conn::new(body);
            conn.read_chunked(&mut Vec::new(), limit, &mut [0; 16], &mut |_| {})
        };
        assert!(matches!(
            run(b"a\r\n0123", None),
            Err(HttpError::Truncated {
                expected: 10,
                got: 4
            })
        ));
        assert!(matches!(
            run(b"3\r\nabc\r\n", None),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(
            run(b"3\r\nabcX\r\n0\r\n\r\n", None),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(run(b"zz\r\n", None), Err(HttpError::Malformed(_))));
        assert!(matches!(run(b"11\r\n", Some(16)), Err(HttpError::TooLarge)));
        // LF-only framing and a missing final CRLF after the last chunk are tolerated.
        assert_eq!(run(b"3\nabc\n0\n", None).unwrap(), 3);
    }
}
