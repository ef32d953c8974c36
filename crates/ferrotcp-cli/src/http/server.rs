//! A static file server: GET and HEAD for the files under one root directory.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::{
    BUF_SIZE, Conn, Head, HttpError, MAX_HEAD, MAX_HEADERS, content_length, has_connection_token,
    head_lines, header_values, is_tchar, transfer_codings, trim_ows,
};

/// Request bodies (which GET and HEAD do not use) are read and discarded to keep the
/// connection in sync, up to this size; larger ones get 413 and the connection closes.
const MAX_REQUEST_BODY: u64 = 1024 * 1024;

/// Serves the files under `root` over HTTP/1.1.
pub struct FileServer {
    root: PathBuf,
}

/// How a request's body is framed (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    None,
    Length(u64),
    Chunked,
}

/// A parsed request head.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Request {
    pub method: String,
    pub target: String,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x).
    pub minor: u8,
    pub headers: Vec<(String, String)>,
    pub body: BodyKind,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
}

impl FileServer {
    /// A server for the files under `root`, which must be a directory. The root is
    /// canonicalized, so symlinks in the root path itself are fine.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into().canonicalize()?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(FileServer { root })
    }

    /// Serves requests on one connection until the client closes, sends
    /// `Connection: close`, or an error; returns how many requests were answered.
    ///
    /// Pipelined requests are answered in order. A malformed request gets a 4xx/5xx
    /// response and ends the connection. The stream is dropped on return, which
    /// closes it for stream types that close on drop.
    pub fn serve_connection<S: Read + Write>(&self, stream: S) -> io::Result<u64> {
        let mut conn = Conn::new(stream);
        let mut scratch = vec![0u8; BUF_SIZE];
        let mut answered = 0u64;
        loop {
            let head = match conn.read_head(MAX_HEAD)? {
                Head::Complete(h) => h,
                // The client closed (possibly mid-request): nothing to answer.
                Head::Closed | Head::Partial => return Ok(answered),
                Head::TooLarge => {
                    send_error(&mut conn, 431, false, true, false)?;
                    return Ok(answered + 1);
                }
            };
            let req = match parse_request(&head) {
                Ok(req) => req,
                Err(status) => {
                    send_error(&mut conn, status, false, true, false)?;
                    return Ok(answered + 1);
                }
            };
            // Read (and discard) any request body so the next request starts in the
            // right place.
            let discarded = match req.body {
                BodyKind::None => Ok(()),
                BodyKind::Length(n) if n > MAX_REQUEST_BODY => Err(HttpError::TooLarge),
                BodyKind::Length(n) => {
                    let got =
                        conn.copy_body(Some(n), &mut io::sink(), &mut scratch, &mut |_| {})?;
                    if got < n {
                        return Ok(answered); // client gone mid-body
                    }
                    Ok(())
                }
                BodyKind::Chunked => conn
                    .read_chunked(
                        &mut io::sink(),
                        Some(MAX_REQUEST_BODY),
                        &mut scratch,
                        &mut |_| {},
                    )
                    .map(|_| ()),
            };
            match discarded {
                Ok(()) => {}
                Err(HttpError::Io(e)) => return Err(e),
                Err(HttpError::Truncated { .. }) => return Ok(answered),
                Err(e) => {
                    let status = if matches!(e, HttpError::TooLarge) {
                        413
                    } else {
                        400
                    };
                    send_error(&mut conn, status, req.method == "HEAD", true, false)?;
                    return Ok(answered + 1);
                }
            }
            let close = !req.keep_alive;
            self.respond(&mut conn, &req, close, &mut scratch)?;
            answered += 1;
            if close {
                return Ok(answered);
            }
        }
    }

    /// Answers one well-formed request.
    fn respond<S: Read + Write>(
        &self,
        conn: &mut Conn<S>,
        req: &Request,
        close: bool,
        scratch: &mut [u8],
    ) -> io::Result<()> {
        let head_only = req.method == "HEAD";
        // An HTTP/1.0 client must be told that the connection persists.
        let keep_alive_10 = req.minor == 0 && !close;
        if req.method != "GET" && !head_only {
            return send_error(conn, 405, false, close, keep_alive_10);
        }
        let path = match self.resolve(&req.target) {
            Ok(p) => p,
            Err(status) => return send_error(conn, status, head_only, close, keep_alive_10),
        };
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                return send_error(conn, open_error_status(&e), head_only, close, keep_alive_10);
            }
        };
        let len = match file.metadata() {
            Ok(m) if m.is_file() => m.len(),
            _ => return send_error(conn, 404, head_only, close, keep_alive_10),
        };
        let head = response_head(200, content_type(&path), len, close, keep_alive_10, &[]);
        let w = conn.get_mut();
        w.write_all(head.as_bytes())?;
        if !head_only {
            let mut remaining = len;
            while remaining > 0 {
                let want = remaining.min(scratch.len() as u64) as usize;
                let n = match file.read(&mut scratch[..want]) {
                    Ok(0) => {
                        // The file shrank after we announced its length: the only
                        // honest thing left is to abort the connection.
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("{} shrank while being served", path.display()),
                        ));
                    }
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                w.write_all(&scratch[..n])?;
                remaining -= n as u64;
            }
        }
        w.flush()
    }

    /// Maps a request target to a regular file under the root, or an error status.
    ///
    /// The path is percent-decoded and split into segments; `..` segments are
    /// rejected outright (400), and the canonicalized result must still lie under
    /// the root (symlinks pointing outside give 404). Directories resolve to their
    /// `index.html`.
    pub(crate) fn resolve(&self, target: &str) -> Result<PathBuf, u16> {
        let path = origin_path(target).ok_or(400u16)?;
        let path = path.split(['?', '#']).next().unwrap_or("");
        let decoded = percent_decode(path).ok_or(400u16)?;
        let decoded = String::from_utf8(decoded).map_err(|_| 400u16)?;
        let mut candidate = self.root.clone();
        for seg in decoded.split('/') {
            match seg {
                "" | "." => {}
                ".." => return Err(400),
                _ if seg.contains(['\0', '\\']) || (cfg!(windows) && seg.contains(':')) => {
                    return Err(400);
                }
                _ => candidate.push(seg),
            }
        }
        let mut real = self.contained(&candidate)?;
        if real.is_dir() {
            real = self.contained(&real.join("index.html"))?;
        } else if decoded.ends_with('/') {
            return Err(404); // `/file.txt/` names a directory that is not there
        }
        if !real.is_file() {
            return Err(404);
        }
        Ok(real)
    }

    /// Canonicalizes `p` and checks that it is still under the root.
    fn contained(&self, p: &Path) -> Result<PathBuf, u16> {
        let real = p.canonicalize().map_err(|e| open_error_status(&e))?;
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(404)
        }
    }
}

fn open_error_status(e: &io::Error) -> u16 {
    if e.kind() == io::ErrorKind::PermissionDenied {
        403
    } else {
        404
    }
}

/// The path part of an origin-form (`/a/b?q`) or absolute-form (`http://h/a/b`)
/// request target (RFC 9112 §3.2).
fn origin_path(target: &str) -> Option<&str> {
    if target.starts_with('/') {
        return Some(target);
    }
    let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &target[7..]
    } else if lower.starts_with("https://") {
        &target[8..]
    } else {
        return None;
    };
    match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => Some(&rest[i..]),
        _ => Some("/"),
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or a decoded NUL.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    if out.contains(&0) {
        return None;
    }
    Some(out)
}

/// Parses a request head (without its final blank line). `Err(status)` for a
/// request that must be refused: 400, 431 (too many fields) or 505.
pub(crate) fn parse_request(head: &[u8]) -> Result<Request, u16> {
    let lines = head_lines(head);
    let (request_line, field_lines) = lines.split_first().ok_or(400u16)?;
    if lines.iter().any(|l| l.contains(&b'\r') || l.contains(&0)) {
        return Err(400); // bare CR or NUL
    }
    let parts: Vec<&[u8]> = request_line.split(|&b| b == b' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(400);
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(400);
    }
    if target.is_empty() || !target.iter().all(|&b| (0x21..0x7f).contains(&b)) {
        return Err(400);
    }
    let minor = match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            if *major != b'1' {
                return Err(505);
            }
            if *minor == b'0' { 0 } else { 1 }
        }
        _ => return Err(400),
    };
    if field_lines.len() > MAX_HEADERS {
        return Err(431);
    }
    let mut headers = Vec::with_capacity(field_lines.len());
    for line in field_lines {
        // Obsolete line folding and whitespace before the colon are both rejected
        // (RFC 9112 §5.1, §5.2).
        let colon = line.iter().position(|&b| b == b':').ok_or(400u16)?;
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(400);
        }
        let value = trim_ows(&line[colon + 1..]);
        headers.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value).into_owned(),
        ));
    }
    let hosts = header_values(&headers, "host").count();
    if hosts > 1 || (minor == 1 && hosts == 0) {
        return Err(400); // RFC 9112 §3.2
    }
    let codings = transfer_codings(&headers);
    let length = content_length(&headers).map_err(|_| 400u16)?;
    let has_te = header_values(&headers, "transfer-encoding")
        .next()
        .is_some();
    let body = if has_te {
        // Chunked must be the final coding of a request (RFC 9112 §6.3), and
        // HTTP/1.0 has no transfer codings at all.
        if minor == 0 || codings.last().map(String::as_str) != Some("chunked") {
            return Err(400);
        }
        BodyKind::Chunked
    } else {
        match length {
            None | Some(0) => BodyKind::None,
            Some(n) => BodyKind::Length(n),
        }
    };
    let keep_alive = if has_connection_token(&headers, "close") {
        false
    } else if minor == 0 {
        has_connection_token(&headers, "keep-alive")
    } else {
        true
    };
    // Both Transfer-Encoding and Content-Length: possible smuggling; the body is
    // read as chunked, but the connection must close afterwards (RFC 9112 §6.3).
    let keep_alive = keep_alive && !(has_te && length.is_some());
    Ok(Request {
        method: String::from_utf8_lossy(method).into_owned(),
        target: String::from_utf8_lossy(target).into_owned(),
        minor,
        headers,
        body,
        keep_alive,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        505 => "HTTP Version Not Supported",
        _ => "Internal Server Error",
    }
}

/// `Content-Type` from the file name's extension.
pub(crate) fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "text" | "log" | "md" => "text/plain; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn response_head(
    status: u16,
    content_type: &str,
    len: u64,
    close: bool,
    keep_alive_10: bool,
    extra: &[(&str, &str)],
) -> String {
    let mut h = format!(
        "HTTP/1.1 {status} {}\r\nServer: ferrotcp/{}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n",
        reason(status),
        env!("CARGO_PKG_VERSION"),
    );
    for (name, value) in extra {
        h.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        h.push_str("Connection: close\r\n");
    } else if keep_alive_10 {
        h.push_str("Connection: keep-alive\r\n");
    }
    h.push_str("\r\n");
    h
}

/// Sends a short plain-text error response.
fn send_error<S: Write>(
    conn: &mut Conn<S>,
    status: u16,
    head_only: bool,
    close: bool,
    keep_alive_10: bool,
) -> io::Result<()> {
    let body = format!("{status} {}\n", reason(status));
    let extra: &[(&str, &str)] = if status == 405 {
        &[("Allow", "GET, HEAD")]
    } else {
        &[]
    };
    let head = response_head(
        status,
        "text/plain; charset=utf-8",
        body.len() as u64,
        close,
        keep_alive_10,
        extra,
    );
    let w = conn.get_mut();
    w.write_all(head.as_bytes())?;
    if !head_only {
        w.write_all(body.as_bytes())?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::super::client::{Response, read_response};
    use super::super::testutil::{Mock, TempDir, Trickle, pattern};
    use super::*;
    use std::fs;

    /// A root with `index.html`, `a.txt`, `data.bin`, `sub/` (no index), `docs/`
    /// (with index), and a secret file next to (outside) the root.
    fn fixture() -> (TempDir, FileServer) {
        let tmp = TempDir::new("srv");
        let root = tmp.path().join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(root.join("docs")).unwrap();
        fs::write(root.join("index.html"), "<h1>hi</h1>\n").unwrap();
        fs::write(root.join("a.txt"), "hello\n").unwrap();
        fs::write(root.join("data.bin"), [0u8, 1, 2, 255]).unwrap();
        fs::write(root.join("sub").join("b.json"), "{}").unwrap();
        fs::write(root.join("sub").join("sp ace.txt"), "space").unwrap();
        fs::write(root.join("docs").join("index.html"), "docs").unwrap();
        fs::write(tmp.path().join("secret.txt"), "secret").unwrap();
        let server = FileServer::new(&root).unwrap();
        (tmp, server)
    }

    /// Plays `input` against the server; returns (requests answered, responses
    /// with bodies). `heads[i]` says whether response i answers a HEAD.
    fn play(server: &FileServer, input: &[u8], heads: &[bool]) -> (u64, Vec<(Response, Vec<u8>)>) {
        let mut mock = Mock::new(input);
        let n = server.serve_connection(&mut mock).unwrap();
        let mut conn = Conn::new(&mock.output[..]);
        let mut out = Vec::new();
        for &head in heads.iter().take(n as usize) {
            let mut body = Vec::new();
            let (resp, len) = read_response(&mut conn, head, &mut body, &mut |_, _| {}).unwrap();
            assert_eq!(len, body.len() as u64);
            // Content-Length on every response.
            assert!(resp.content_length.is_some(), "{resp:?}");
            if !head {
                assert_eq!(resp.content_length, Some(len));
            }
            out.push((resp, body));
        }
        let mut rest = Vec::new();
        conn.copy_body(None, &mut rest, &mut [0; 64], &mut |_| {})
            .unwrap();
        assert!(rest.is_empty(), "unexpected trailing output {rest:?}");
        assert_eq!(out.len() as u64, n);
        (n, out)
    }

    fn one(server: &FileServer, input: &str) -> (Response, Vec<u8>) {
        let head = input.starts_with("HEAD ");
        let (n, mut out) = play(server, input.as_bytes(), &[head]);
        assert_eq!(n, 1);
        out.pop().unwrap()
    }

    #[test]
    fn new_requires_a_directory() {
        let (tmp, _) = fixture();
        assert!(FileServer::new(tmp.path().join("root/a.txt")).is_err());
        assert!(FileServer::new(tmp.path().join("missing")).is_err());
    }

    #[test]
    fn request_parsing_table() {
        let ok: &[(&str, &str, &str, u8, BodyKind, bool)] = &[
            // (head, method, target, minor, body, keep_alive)
            (
                "GET / HTTP/1.1\r\nHost: x\r\n",
                "GET",
                "/",
                1,
                BodyKind::None,
                true,
            ),
            (
                "GET /a HTTP/1.1\nHost: x\n",
                "GET",
                "/a",
                1,
                BodyKind::None,
                true,
            ),
            (
                "HEAD /a?b=c HTTP/1.0\r\n",
                "HEAD",
                "/a?b=c",
                0,
                BodyKind::None,
                false,
            ),
            (
                "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n",
                "GET",
                "/",
                0,
                BodyKind::None,
                true,
            ),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
                "GET",
                "/",
                1,
                BodyKind::None,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, CLOSE\r\n",
                "GET",
                "/",
                1,
                BodyKind::None,
                false,
            ),
            (
                "GET / HTTP/1.9\r\nHost: x\r\n",
                "GET",
                "/",
                1,
                BodyKind::None,
                true,
            ),
            (
                "get / HTTP/1.1\r\nHost: x\r\n",
                "get",
                "/",
                1,
                BodyKind::None,
                true,
            ),
            (
                "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n",
                "POST",
                "/f",
                1,
                BodyKind::Length(5),
                true,
            ),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n",
                "GET",
                "/",
                1,
                BodyKind::None,
                true,
            ),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n",
                "POST",
                "/",
                1,
                BodyKind::Chunked,
                true,
            ),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                "POST",
                "/",
                1,
                BodyKind::Chunked,
                false,
            ),
            (
                "GET http://x/a HTTP/1.1\r\nhOsT:   x  \r\nX-Empty:\r\n",
                "GET",
                "http://x/a",
                1,
                BodyKind::None,
                true,
            ),
        ];
        for (head, method, target, minor, body, keep_alive) in ok {
            let r = parse_request(head.as_bytes()).unwrap_or_else(|s| panic!("{head:?} -> {s}"));
            assert_eq!(
                (
                    r.method.as_str(),
                    r.target.as_str(),
                    r.minor,
                    r.body,
                    r.keep_alive
                ),
                (*method, *target, *minor, *body, *keep_alive),
                "{head:?}"
            );
        }
        let bad: &[(&str, u16)] = &[
            ("", 400),
            ("GET /\r\n", 400),
            ("GET / HTTP/1.1 extra\r\nHost: x\r\n", 400),
            ("GET  / HTTP/1.1\r\nHost: x\r\n", 400),
            ("GET / http/1.1\r\nHost: x\r\n", 400),
            ("GET / HTTP/1.10\r\nHost: x\r\n", 400),
            ("GET / HTTP/2.0\r\nHost: x\r\n", 505),
            ("G(T / HTTP/1.1\r\nHost: x\r\n", 400),
            ("GET /a\x7fb HTTP/1.1\r\nHost: x\r\n", 400),
            ("GET / HTTP/1.1\r\n", 400),                       // no Host
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n", 400), // two Hosts
            ("GET / HTTP/1.1\r\nHost : x\r\n", 400),           // space before colon
            ("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n", 400), // obs-fold
            ("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\rY: z\r\n", 400), // bare CR
            ("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n", 400),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n",
                400,
            ),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n",
                400,
            ),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n",
                400,
            ),
            ("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n", 400),
        ];
        for (head, status) in bad {
            assert_eq!(parse_request(head.as_bytes()), Err(*status), "{head:?}");
        }
        let many = format!(
            "GET / HTTP/1.1\r\nHost: x\r\n{}",
            "A: b\r\n".repeat(MAX_HEADERS)
        );
        assert_eq!(parse_request(many.as_bytes()), Err(431));
    }

    #[test]
    fn resolve_table_and_traversal_attempts() {
        let (tmp, server) = fixture();
        let root = server.root.to_path_buf();
        let ok: &[(&str, &str)] = &[
            ("/", "index.html"),
            ("/index.html", "index.html"),
            ("/a.txt", "a.txt"),
            ("/a.txt?x=1&y=/../..", "a.txt"),
            ("/a.txt#frag", "a.txt"),
            ("/./a.txt", "a.txt"),
            ("//a.txt", "a.txt"),
            ("/%61%2Etxt", "a.txt"),
            ("/sub%2Fb.json", "sub/b.json"),
            ("/sub/sp%20ace.txt", "sub/sp ace.txt"),
            ("/docs", "docs/index.html"),
            ("/docs/", "docs/index.html"),
            ("http://example.com/a.txt", "a.txt"),
            ("HTTP://example.com", "index.html"),
            ("http://example.com?q", "index.html"),
        ];
        for (target, rel) in ok {
            assert_eq!(server.resolve(target), Ok(root.join(rel)), "{target:?}");
        }
        let secret = tmp.path().join("secret.txt");
        let bad: &[(&str, u16)] = &[
            ("/missing", 404),
            ("/sub", 404), // directory without index.html
            ("/sub/", 404),
            ("/a.txt/", 404),
            ("/a.txt/x", 404),
            ("/../secret.txt", 400),
            ("/../etc/passwd", 400),
            ("/%2e%2e/secret.txt", 400),
            ("/%2E%2E%2Fsecret.txt", 400),
            ("/%2e%2e%5csecret.txt", 400),
            ("/sub/../a.txt", 400),
            ("/sub/..", 400),
            ("/..%2f..%2f..%2fetc/passwd", 400),
            ("/etc/passwd", 404), // absolute paths stay under the root
            ("//etc/passwd", 404),
            ("///etc/passwd", 404),
            ("http://x/../secret.txt", 400),
            ("a.txt", 400),
            ("*", 400),
            ("/%zz", 400),
            ("/%4", 400),
            ("/a%00.txt", 400),
            ("/%ff", 400), // not UTF-8
            ("/a\\..\\secret.txt", 400),
        ];
        for (target, status) in bad {
            assert_eq!(server.resolve(target), Err(*status), "{target:?}");
        }
        let abs = format!("{}", secret.display());
        assert_eq!(server.resolve(&abs), Err(404), "{abs:?}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_escaping_the_root_are_not_followed() {
        use std::os::unix::fs::symlink;
        let (tmp, server) = fixture();
        let root = server.root.to_path_buf();
        symlink(tmp.path().join("secret.txt"), root.join("leak.txt")).unwrap();
        symlink(tmp.path(), root.join("up")).unwrap();
        symlink("/etc", root.join("etc")).unwrap();
        symlink(root.join("a.txt"), root.join("inside.txt")).unwrap();
        fs::create_dir(tmp.path().join("outdir")).unwrap();
        fs::write(tmp.path().join("outdir/index.html"), "x").unwrap();
        symlink(
            tmp.path().join("outdir/index.html"),
            root.join("sub/index.html"),
        )
        .unwrap();
        assert_eq!(server.resolve("/leak.txt"), Err(404));
        assert_eq!(server.resolve("/up/secret.txt"), Err(404));
        assert_eq!(server.resolve("/etc/passwd"), Err(404));
        assert_eq!(server.resolve("/sub/"), Err(404));
        assert_eq!(server.resolve("/inside.txt"), Ok(root.join("a.txt")));
        let (resp, body) = one(&server, "GET /leak.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(resp.status, 404);
        assert!(!body.starts_with(b"secret"));
    }

    #[test]
    fn get_serves_files_with_type_and_length() {
        let (_tmp, server) = fixture();
        let cases: &[(&str, &str, &[u8])] = &[
            ("/", "text/html; charset=utf-8", b"<h1>hi</h1>\n"),
            ("/a.txt", "text/plain; charset=utf-8", b"hello\n"),
            ("/data.bin", "application/octet-stream", &[0, 1, 2, 255]),
            ("/sub/b.json", "application/json", b"{}"),
        ];
        for (path, ctype, content) in cases {
            let (resp, body) = one(
                &server,
                &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            );
            assert_eq!((resp.status, resp.reason.as_str()), (200, "OK"));
            assert_eq!(resp.header("content-type"), Some(*ctype));
            assert_eq!(resp.header("connection"), Some("close"));
            assert_eq!(body, *content);
        }
    }

    #[test]
    fn content_types() {
        for (name, t) in [
            ("a.HTML", "text/html; charset=utf-8"),
            ("a.png", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.jpeg", "image/jpeg"),
            ("a.css", "text/css; charset=utf-8"),
            ("a.js", "text/javascript; charset=utf-8"),
            ("a.bin", "application/octet-stream"),
            ("noext", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(name)), t, "{name}");
        }
    }

    #[test]
    fn error_statuses_and_bodies() {
        let (_tmp, server) = fixture();
        let (resp, body) = one(
            &server,
            "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(resp.status, 404);
        assert_eq!(body, b"404 Not Found\n");

        for method in ["POST", "PUT", "DELETE", "OPTIONS", "get"] {
            let (resp, body) = one(
                &server,
                &format!("{method} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            );
            assert_eq!(resp.status, 405, "{method}");
            assert_eq!(resp.header("allow"), Some("GET, HEAD"));
            assert_eq!(body, b"405 Method Not Allowed\n");
        }

        for target in ["/../etc/passwd", "/%2e%2e/", "/%2e%2e/%2e%2e/etc/passwd"] {
            let (resp, _) = one(
                &server,
                &format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            );
            assert_eq!(resp.status, 400, "{target}");
        }
        let (resp, _) = one(
            &server,
            "GET /etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(resp.status, 404);
    }

    #[test]
    fn malformed_request_gets_400_and_closes() {
        let (_tmp, server) = fixture();
        for bad in [
            "GARBAGE\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n  fold\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        ] {
            let (n, out) = play(&server, bad.as_bytes(), &[false, false]);
            assert_eq!(n, 1, "{bad:?}");
            assert_eq!(out[0].0.status, 400);
            assert_eq!(out[0].0.header("connection"), Some("close"));
        }
        let (n, out) = play(&server, b"GET / HTTP/3.0\r\n\r\n", &[false]);
        assert_eq!((n, out[0].0.status), (1, 505));
    }

    #[test]
    fn head_has_headers_but_no_body() {
        let (_tmp, server) = fixture();
        let (resp, body) = one(
            &server,
            "HEAD /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(resp.status, 200);
        assert_eq!(resp.content_length, Some(6));
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert!(body.is_empty());
        // Errors to HEAD are body-less too.
        let (resp, body) = one(
            &server,
            "HEAD /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(resp.status, 404);
        assert_eq!(resp.content_length, Some(14));
        assert!(body.is_empty());
        // The raw bytes end right after the head.
        let mut mock = Mock::new("HEAD /a.txt HTTP/1.0\r\n\r\n");
        assert_eq!(server.serve_connection(&mut mock).unwrap(), 1);
        assert!(
            mock.output
                .ends_with(b"Content-Length: 6\r\nConnection: close\r\n\r\n")
        );
    }

    #[test]
    fn keep_alive_with_pipelined_requests() {
        let (_tmp, server) = fixture();
        let input = "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n\
                     HEAD /sub/b.json HTTP/1.1\r\nHost: x\r\n\r\n\
                     GET /missing HTTP/1.1\r\nHost: x\r\n\r\n\
                     GET /sub/b.json HTTP/1.1\r\nHost: x\r\n\r\n";
        // Whole input at once, and one byte per read.
        let (n, out) = play(&server, input.as_bytes(), &[false, true, false, false]);
        assert_eq!(n, 4);
        let got: Vec<(u16, &[u8])> = out.iter().map(|(r, b)| (r.status, &b[..])).collect();
        assert_eq!(
            got,
            vec![
                (200, &b"hello\n"[..]),
                (200, b""),
                (404, b"404 Not Found\n"),
                (200, b"{}")
            ]
        );
        assert!(out.iter().all(|(r, _)| r.header("connection").is_none()));

        let mut slow = Trickle {
            inner: Mock::new(input),
            n: 1,
        };
        assert_eq!(server.serve_connection(&mut slow).unwrap(), 4);
        assert_eq!(slow.inner.output, Mock::new(input).tap(&server));
    }

    impl Mock {
        fn tap(mut self, server: &FileServer) -> Vec<u8> {
            server.serve_connection(&mut self).unwrap();
            self.output
        }
    }

    #[test]
    fn connection_close_and_http10_rules() {
        let (_tmp, server) = fixture();
        let two = |first: &str| {
            let input = format!("{first}\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
            play(&server, input.as_bytes(), &[false, false])
        };
        // Connection: close on HTTP/1.1 ends the connection after one response.
        let (n, out) = two("GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close");
        assert_eq!((n, out[0].0.header("connection")), (1, Some("close")));
        // HTTP/1.0 closes by default...
        let (n, out) = two("GET /a.txt HTTP/1.0");
        assert_eq!((n, out[0].0.header("connection")), (1, Some("close")));
        // ...unless it asks for keep-alive.
        let (n, out) = two("GET /a.txt HTTP/1.0\r\nConnection: keep-alive");
        assert_eq!(n, 2);
        assert_eq!(out[0].0.header("connection"), Some("keep-alive"));
        assert_eq!(out[1].1, b"hello\n");
        let (n, out) = two("GET /missing HTTP/1.0\r\nConnection: keep-alive");
        assert_eq!((n, out[0].0.status), (2, 404));
        assert_eq!(out[0].0.header("connection"), Some("keep-alive"));
        // A client that closes mid-request gets nothing and no error.
        let mut mock = Mock::new("GET /a.txt HTTP/1.1\r\nHo");
        assert_eq!(server.serve_connection(&mut mock).unwrap(), 0);
        assert!(mock.output.is_empty());
    }

    #[test]
    fn request_bodies_are_skipped() {
        let (_tmp, server) = fixture();
        let input = "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nGET / HTTP/\
                     GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\n\r\n\
                     GET /sub/b.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        let (n, out) = play(&server, input.as_bytes(), &[false, false, false]);
        assert_eq!(n, 3);
        let got: Vec<(u16, &[u8])> = out.iter().map(|(r, b)| (r.status, &b[..])).collect();
        assert_eq!(
            got,
            vec![
                (405, &b"405 Method Not Allowed\n"[..]),
                (200, b"hello\n"),
                (200, b"{}")
            ]
        );

        let big = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            MAX_REQUEST_BODY + 1
        );
        let (n, out) = play(&server, big.as_bytes(), &[false]);
        assert_eq!((n, out[0].0.status), (1, 413));
        let bad_chunks = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n";
        let (n, out) = play(&server, bad_chunks.as_bytes(), &[false]);
        assert_eq!((n, out[0].0.status), (1, 400));
    }

    /// Sends a request line and then header fields forever.
    struct EndlessHeaders {
        sent_request_line: bool,
        reads: u64,
    }

    impl Read for EndlessHeaders {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            assert!(self.reads < 10_000, "server kept reading an endless head");
            let src: &[u8] = if self.sent_request_line {
                b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
            } else {
                self.sent_request_line = true;
                b"GET / HTTP/1.1\r\nHost: x\r\n"
            };
            let n = src.len().min(buf.len());
            buf[..n].copy_from_slice(&src[..n]);
            Ok(n)
        }
    }

    #[test]
    fn endless_headers_are_cut_off_with_431() {
        let (_tmp, server) = fixture();
        let mut out = Vec::new();
        let stream = ReadWrite {
            r: EndlessHeaders {
                sent_request_line: false,
                reads: 0,
            },
            w: &mut out,
        };
        assert_eq!(server.serve_connection(stream).unwrap(), 1);
        let mut body = Vec::new();
        let (resp, _) =
            read_response(&mut Conn::new(&out[..]), false, &mut body, &mut |_, _| {}).unwrap();
        assert_eq!(resp.status, 431);
        assert_eq!(resp.header("connection"), Some("close"));

        // Exactly at the limit is fine; one byte more is not.
        let prefix = "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX: ";
        let fill = MAX_HEAD - prefix.len() - 4;
        let at_limit = format!("{prefix}{}\r\n\r\n", "a".repeat(fill));
        assert_eq!(at_limit.len(), MAX_HEAD);
        let (_, out) = play(&server, at_limit.as_bytes(), &[false]);
        assert_eq!(out[0].0.status, 200);
        let over = format!("{prefix}{}\r\n\r\n", "a".repeat(fill + 1));
        let (_, out) = play(&server, over.as_bytes(), &[false]);
        assert_eq!(out[0].0.status, 431);
    }

    struct ReadWrite<R, W> {
        r: R,
        w: W,
    }

    impl<R: Read, W> Read for ReadWrite<R, W> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.r.read(buf)
        }
    }

    impl<R, W: Write> Write for ReadWrite<R, W> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.w.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            self.w.flush()
        }
    }

    #[test]
    fn large_file_is_streamed_in_order() {
        let (tmp, server) = fixture();
        let data = pattern(3 * BUF_SIZE + 123, 7);
        fs::write(tmp.path().join("root/big.bin"), &data).unwrap();
        let (resp, body) = one(
            &server,
            "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(resp.content_length, Some(data.len() as u64));
        assert!(body == data);
    }
}
