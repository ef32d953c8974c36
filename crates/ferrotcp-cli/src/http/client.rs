//! A one-shot HTTP/1.1 GET client.

use std::fmt;
use std::io::{Read, Write};
use std::net::Ipv4Addr;

use super::{
    BUF_SIZE, Conn, Head, HttpError, MAX_HEAD, MAX_HEADERS, content_length, head_lines,
    header_values, transfer_codings, trim_ows,
};

/// Most interim (1xx) responses skipped before the final one.
const MAX_INTERIM: usize = 16;

/// An `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Lowercased host name or IPv4 literal.
    pub host: String,
    pub port: u16,
    /// Request target in origin form: the path plus any query, starting with `/`.
    /// Spaces and non-ASCII characters are percent-encoded; the fragment is dropped.
    pub path: String,
}

impl Url {
    /// Parses `http://host[:port][/path][?query][#fragment]`.
    pub fn parse(s: &str) -> Result<Url, HttpError> {
        let bad = |why: &str| HttpError::BadUrl(format!("{why}: {s:?}"));
        let s_trim = s.trim();
        let (scheme, rest) = s_trim
            .split_once("://")
            .ok_or_else(|| bad("expected http://host/path"))?;
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(bad("only http:// URLs are supported"));
        }
        let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(auth_end);
        if authority.contains('@') {
            return Err(bad("user information in URLs is not supported"));
        }
        if authority.starts_with('[') {
            return Err(bad("IPv6 literals are not supported"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, "")) => (host, 80),
            Some((host, port)) => {
                if !port.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("invalid port"));
                }
                match port.parse::<u16>() {
                    Ok(p) if p != 0 => (host, p),
                    _ => return Err(bad("port out of range")),
                }
            }
            None => (authority, 80),
        };
        let host = host.to_ascii_lowercase();
        if !valid_host(&host) {
            return Err(bad("invalid host"));
        }
        let tail = tail.split('#').next().unwrap_or("");
        let mut path = String::with_capacity(tail.len() + 1);
        if !tail.starts_with('/') {
            path.push('/');
        }
        for c in tail.chars() {
            if c.is_control() {
                return Err(bad("control character in path"));
            }
            if c.is_ascii() && !" \"<>\\^`{|}".contains(c) {
                path.push(c);
            } else {
                let mut utf8 = [0; 4];
                for b in c.encode_utf8(&mut utf8).bytes() {
                    path.push_str(&format!("%{b:02X}"));
                }
            }
        }
        Ok(Url { host, port, path })
    }

    /// The `Host` field value: the host, plus the port unless it is 80.
    pub fn host_header(&self) -> String {
        if self.port == 80 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.host_header(), self.path)
    }
}

/// A host name (letters, digits, `-`, `_`, `.`) or a valid IPv4 literal.
fn valid_host(host: &str) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return host.parse::<Ipv4Addr>().is_ok();
    }
    host.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The head of an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// Header fields in the order received; names as sent by the server.
    pub headers: Vec<(String, String)>,
    /// The `Content-Length`, if the response had one that frames its body (absent
    /// when `Transfer-Encoding` is used).
    pub content_length: Option<u64>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    #[allow(dead_code)] // API for callers; the CLI itself only prints the status
    pub fn header(&self, name: &str) -> Option<&str> {
        header_values(&self.headers, name).next()
    }
}

/// Sends `GET path` (Host, `Connection: close`, User-Agent `ferrotcp/<version>`),
/// reads the status line and headers, then streams the body into `out`, calling
/// `progress(done, total)` as bytes arrive (first with `done == 0`; `total` is the
/// Content-Length when known). Supports Content-Length, chunked transfer coding, and
/// read-to-EOF bodies. Returns the response head and the number of body bytes
/// written. Interim 1xx responses are skipped.
pub fn get<S: Read + Write, W: Write>(
    stream: S,
    url: &Url,
    mut out: W,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<(Response, u64), HttpError> {
    // The fields are public, so check them again: no header injection.
    if !valid_host(&url.host) {
        return Err(HttpError::BadUrl(format!("invalid host {:?}", url.host)));
    }
    if !url.path.starts_with('/') || !url.path.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(HttpError::BadUrl(format!("invalid path {:?}", url.path)));
    }
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ferrotcp/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path,
        url.host_header(),
        env!("CARGO_PKG_VERSION"),
    );
    let mut conn = Conn::new(stream);
    conn.get_mut().write_all(request.as_bytes())?;
    conn.get_mut().flush()?;
    let result = read_response(&mut conn, false, &mut out, &mut progress)?;
    out.flush()?;
    // We asked for `Connection: close`, so the server closes first (RFC 9112 §9.6): wait for
    // its FIN instead of racing it, which also leaves the TIME-WAIT on the server. Anything
    // after the body is ignored; a read error here no longer matters (the body is complete).
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match conn.get_mut().read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(result)
}

/// Reads one response (skipping interim 1xx ones) and streams its body into `out`.
/// `head_request` says whether it answers a HEAD (and so has no body).
pub(crate) fn read_response<S: Read>(
    conn: &mut Conn<S>,
    head_request: bool,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<(Response, u64), HttpError> {
    let mut interim = 0;
    let response = loop {
        let head = match conn.read_head(MAX_HEAD)? {
            Head::Complete(h) => h,
            Head::Closed => {
                return Err(HttpError::Malformed(
                    "connection closed before a response".into(),
                ));
            }
            Head::Partial => {
                return Err(HttpError::Malformed(
                    "connection closed inside the response head".into(),
                ));
            }
            Head::TooLarge => return Err(HttpError::TooLarge),
        };
        let response = parse_response_head(&head)?;
        match response.status {
            101 => {
                return Err(HttpError::Malformed(
                    "unexpected 101 Switching Protocols".into(),
                ));
            }
            100..=199 => {
                interim += 1;
                if interim > MAX_INTERIM {
                    return Err(HttpError::Malformed("too many interim responses".into()));
                }
            }
            _ => break response,
        }
    };

    // Message body length, RFC 9112 §6.3.
    let codings = transfer_codings(&response.headers);
    let chunked = codings.last().map(String::as_str) == Some("chunked");
    let has_te = header_values(&response.headers, "transfer-encoding")
        .next()
        .is_some();
    let length = content_length(&response.headers).map_err(HttpError::Malformed)?;
    let response = Response {
        content_length: if has_te { None } else { length },
        ..response
    };
    let no_body = head_request || response.status == 204 || response.status == 304;
    let mut scratch = vec![0u8; BUF_SIZE];
    let mut done = 0u64;

    if no_body {
        progress(0, Some(0));
        return Ok((response, 0));
    }
    if has_te && chunked {
        progress(0, None);
        let n = conn.read_chunked(out, None, &mut scratch, &mut |k| {
            done += k;
            progress(done, None);
        })?;
        return Ok((response, n));
    }
    let total = if has_te { None } else { length };
    progress(0, total);
    let n = conn.copy_body(total, out, &mut scratch, &mut |k| {
        done += k;
        progress(done, total);
    })?;
    if let Some(expected) = total {
        if n < expected {
            return Err(HttpError::Truncated { expected, got: n });
        }
    }
    Ok((response, n))
}

/// Parses a status line and header fields, tolerantly: LF or CRLF, any case,
/// obsolete line folding, missing reason phrase.
fn parse_response_head(head: &[u8]) -> Result<Response, HttpError> {
    let lines = head_lines(head);
    let (status_line, field_lines) = lines
        .split_first()
        .ok_or_else(|| HttpError::Malformed("empty response head".into()))?;
    let bad_status = || {
        HttpError::Malformed(format!(
            "bad status line {:?}",
            String::from_utf8_lossy(status_line)
        ))
    };
    let rest = status_line
        .strip_prefix(b"HTTP/1.")
        .ok_or_else(bad_status)?;
    let (minor, rest) = rest.split_first().ok_or_else(bad_status)?;
    let rest = rest.strip_prefix(b" ").ok_or_else(bad_status)?;
    if !minor.is_ascii_digit() || rest.len() < 3 || !rest[..3].iter().all(u8::is_ascii_digit) {
        return Err(bad_status());
    }
    let status = rest[..3]
        .iter()
        .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
    let after = &rest[3..];
    if status < 100 || !(after.is_empty() || after[0] == b' ' || after[0] == b'\t') {
        return Err(bad_status());
    }
    let reason = String::from_utf8_lossy(trim_ows(after)).into_owned();

    if field_lines.len() > MAX_HEADERS {
        return Err(HttpError::TooLarge);
    }
    let mut headers: Vec<(String, String)> = Vec::with_capacity(field_lines.len());
    for line in field_lines {
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            // Obsolete line folding: continue the previous field value.
            let (_, value) = headers.last_mut().ok_or_else(|| {
                HttpError::Malformed("continuation line before any header field".into())
            })?;
            let more = String::from_utf8_lossy(trim_ows(line));
            if !more.is_empty() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(&more);
            }
            continue;
        }
        let colon = line.iter().position(|&b| b == b':').ok_or_else(|| {
            HttpError::Malformed(format!(
                "header line without a colon: {:?}",
                String::from_utf8_lossy(line)
            ))
        })?;
        let name = trim_ows(&line[..colon]);
        if name.is_empty() {
            return Err(HttpError::Malformed("empty header name".into()));
        }
        headers.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(trim_ows(&line[colon + 1..])).into_owned(),
        ));
    }
    Ok(Response {
        status,
        reason,
        headers,
        content_length: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::server::FileServer;
    use super::super::testutil::{Mock, TempDir, Trickle, duplex, pattern};
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn url_parsing_table() {
        let ok: &[(&str, &str, u16, &str)] = &[
            ("http://example.com", "example.com", 80, "/"),
            ("http://example.com/", "example.com", 80, "/"),
            (
                "HTTP://Example.COM:8080/a/b?c=d#frag",
                "example.com",
                8080,
                "/a/b?c=d",
            ),
            (
                "http://10.0.0.2:8000/file.bin",
                "10.0.0.2",
                8000,
                "/file.bin",
            ),
            ("http://10.0.0.2:/x", "10.0.0.2", 80, "/x"),
            ("http://host?q=1", "host", 80, "/?q=1"),
            ("http://host#top", "host", 80, "/"),
            ("http://host/a b/é", "host", 80, "/a%20b/%C3%A9"),
            ("http://host/%41", "host", 80, "/%41"),
            (
                "  http://my-host_1.local:65535/  ",
                "my-host_1.local",
                65535,
                "/",
            ),
        ];
        for (s, host, port, path) in ok {
            assert_eq!(
                url(s),
                Url {
                    host: host.to_string(),
                    port: *port,
                    path: path.to_string()
                },
                "{s:?}"
            );
        }
        let bad = [
            "",
            "example.com/x",
            "https://example.com/",
            "ftp://example.com/",
            "http://",
            "http:///path",
            "http://:80/",
            "http://host:0/",
            "http://host:65536/",
            "http://host:-1/",
            "http://host:8o/",
            "http://user@host/",
            "http://[::1]:80/",
            "http://300.1.1.1/",
            "http://1.2.3/",
            "http://ho st/",
            "http://host/a\r\nX: y",
            "http://host/a\tb",
        ];
        for s in bad {
            assert!(matches!(Url::parse(s), Err(HttpError::BadUrl(_))), "{s:?}");
        }
        assert_eq!(url("http://h:8080/x").to_string(), "http://h:8080/x");
        assert_eq!(url("http://h:80/x").host_header(), "h");
    }

    /// Runs `get` against a canned response; returns the result, the body, the
    /// progress calls, and the request bytes the client sent.
    #[allow(clippy::type_complexity)]
    fn fetch(
        response: &[u8],
        per_read: usize,
    ) -> (
        Result<(Response, u64), HttpError>,
        Vec<u8>,
        Vec<(u64, Option<u64>)>,
        Vec<u8>,
    ) {
        let mut stream = Trickle {
            inner: Mock::new(response),
            n: per_read,
        };
        let mut body = Vec::new();
        let mut calls = Vec::new();
        let r = get(
            &mut stream,
            &url("http://10.0.0.2:8080/f?x"),
            &mut body,
            |d, t| calls.push((d, t)),
        );
        (r, body, calls, stream.inner.output)
    }

    #[test]
    fn request_format() {
        let (_, _, _, request) = fetch(b"HTTP/1.1 204 No Content\r\n\r\n", 100);
        let expected = format!(
            "GET /f?x HTTP/1.1\r\nHost: 10.0.0.2:8080\r\nUser-Agent: ferrotcp/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(String::from_utf8(request).unwrap(), expected);
        // A hand-built Url cannot smuggle header lines.
        let evil = Url {
            host: "h".into(),
            port: 80,
            path: "/\r\nX: y".into(),
        };
        let r = get(Mock::new(""), &evil, Vec::new(), |_, _| {});
        assert!(matches!(r, Err(HttpError::BadUrl(_))));
    }

    #[test]
    fn content_length_body_with_progress() {
        let resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-LENGTH: 11\r\n\r\nhello worldEXTRA";
        for per_read in [1, 4, 1000] {
            let (r, body, calls, _) = fetch(resp, per_read);
            let (head, n) = r.unwrap();
            assert_eq!((head.status, head.reason.as_str()), (200, "OK"));
            assert_eq!(head.content_length, Some(11));
            assert_eq!(head.header("CONTENT-type"), Some("text/plain"));
            assert_eq!((n, &body[..]), (11, &b"hello world"[..]));
            assert_eq!(calls.first(), Some(&(0, Some(11))));
            assert_eq!(calls.last(), Some(&(11, Some(11))));
            assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
        }
    }

    #[test]
    fn chunked_body_hand_written() {
        let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 999\r\n\r\n\
                     7\r\nMozilla\r\n11;foo=bar\r\nDeveloper Network\r\n0\r\nX-Trailer: 1\r\n\r\n";
        for per_read in [1, 5, 1000] {
            let (r, body, calls, _) = fetch(resp, per_read);
            let (head, n) = r.unwrap();
            assert_eq!(head.content_length, None);
            assert_eq!(body, b"MozillaDeveloper Network");
            assert_eq!(n, 24);
            assert_eq!(calls.last(), Some(&(24, None)));
            assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
        }
        // LF-only framing throughout.
        let lf = b"HTTP/1.1 200 OK\nTransfer-Encoding: CHUNKED\n\n3\nabc\n0\n\n";
        let (r, body, _, _) = fetch(lf, 2);
        assert_eq!((r.unwrap().1, &body[..]), (3, &b"abc"[..]));
        // Truncated inside a chunk.
        let cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
        let (r, body, _, _) = fetch(cut, 100);
        assert!(matches!(
            r,
            Err(HttpError::Truncated {
                expected: 5,
                got: 2
            })
        ));
        assert_eq!(body, b"ab");
        // No terminating chunk.
        let cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n";
        assert!(matches!(fetch(cut, 100).0, Err(HttpError::Malformed(_))));
    }

    #[test]
    fn read_to_eof_bodies() {
        for resp in [
            &b"HTTP/1.0 200 OK\r\n\r\nuntil the end"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nuntil the end",
        ] {
            let (r, body, calls, _) = fetch(resp, 3);
            let (head, n) = r.unwrap();
            assert_eq!((head.content_length, n), (None, 13));
            assert_eq!(body, b"until the end");
            assert_eq!(calls.last(), Some(&(13, None)));
        }
    }

    #[test]
    fn truncated_content_length() {
        let (r, body, _, _) = fetch(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n1234", 100);
        assert!(matches!(
            r,
            Err(HttpError::Truncated {
                expected: 10,
                got: 4
            })
        ));
        assert_eq!(body, b"1234");
        let e = HttpError::Truncated {
            expected: 10,
            got: 4,
        };
        assert_eq!(e.to_string(), "connection closed after 4 of 10 body bytes");
    }

    #[test]
    fn tolerant_head_parsing() {
        let resp = b"\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\nLink: </x>\n\n\
                     HTTP/1.0 404\nX-Folded: a\n  b\nContent-Length:2\n\nno";
        let (r, body, _, _) = fetch(resp, 7);
        let (head, _) = r.unwrap();
        assert_eq!((head.status, head.reason.as_str()), (404, ""));
        assert_eq!(head.header("x-folded"), Some("a b"));
        assert_eq!(body, b"no");

        let (r, body, calls, _) = fetch(
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n",
            100,
        );
        assert_eq!(r.unwrap().1, 0);
        assert!(body.is_empty());
        assert_eq!(calls, vec![(0, Some(0))]);
    }

    #[test]
    fn malformed_responses() {
        let cases: &[&[u8]] = &[
            b"",
            b"HTTP/1.1 200 OK\r\nContent-",
            b"HTTP/2 200 OK\r\n\r\n",
            b"ICY 200 OK\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 099 Low\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n  folded first\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        ];
        for resp in cases {
            let r = fetch(resp, 100).0;
            assert!(
                matches!(r, Err(HttpError::Malformed(_))),
                "{:?}: {r:?}",
                String::from_utf8_lossy(resp)
            );
        }
        let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
        while huge.len() <= MAX_HEAD {
            huge.extend_from_slice(b"X-Pad: 0123456789abcdef0123456789abcdef\r\n");
        }
        huge.extend_from_slice(b"\r\n");
        assert!(matches!(fetch(&huge, 4096).0, Err(HttpError::TooLarge)));
        assert!(HttpError::TooLarge.to_string().contains("64 KiB"));
    }

    #[test]
    fn get_from_file_server_over_in_memory_duplex() {
        let tmp = TempDir::new("duplex");
        std::fs::write(tmp.path().join("index.html"), "<p>home</p>").unwrap();
        let server = FileServer::new(tmp.path()).unwrap();
        let (client_end, server_end) = duplex();
        let srv = thread::spawn(move || server.serve_connection(server_end).unwrap());
        let mut body = Vec::new();
        let (head, n) = get(client_end, &url("http://10.0.0.1/"), &mut body, |_, _| {}).unwrap();
        assert_eq!((head.status, n, &body[..]), (200, 11, &b"<p>home</p>"[..]));
        assert_eq!(head.header("connection"), Some("close"));
        assert_eq!(srv.join().unwrap(), 1);
    }

    #[test]
    fn pipelined_keep_alive_over_in_memory_duplex() {
        let tmp = TempDir::new("pipe");
        std::fs::write(tmp.path().join("a.txt"), "AAA").unwrap();
        std::fs::write(tmp.path().join("b.txt"), "BBBB").unwrap();
        let server = FileServer::new(tmp.path()).unwrap();
        let (mut client_end, server_end) = duplex();
        let srv = thread::spawn(move || server.serve_connection(server_end).unwrap());
        client_end
            .write_all(
                b"GET /a.txt HTTP/1.1\r\nHost: h\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: h\r\n\r\n",
            )
            .unwrap();
        let mut conn = Conn::new(client_end);
        let mut bodies = Vec::new();
        for _ in 0..2 {
            let mut body = Vec::new();
            let (head, _) = read_response(&mut conn, false, &mut body, &mut |_, _| {}).unwrap();
            assert_eq!(head.header("connection"), None);
            bodies.push(body);
        }
        assert_eq!(bodies, vec![b"AAA".to_vec(), b"BBBB".to_vec()]);
        conn.get_mut().shutdown_write(); // the server sees EOF and stops
        assert_eq!(srv.join().unwrap(), 2);
    }

    /// Serves `root` on a loopback listener for `connections` connections.
    fn loopback_server(
        root: &std::path::Path,
        connections: usize,
    ) -> (u16, thread::JoinHandle<Vec<u64>>) {
        let server = FileServer::new(root).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            (0..connections)
                .map(|_| {
                    let (stream, _) = listener.accept().unwrap();
                    server.serve_connection(stream).unwrap()
                })
                .collect()
        });
        (port, handle)
    }

    #[test]
    fn ten_mib_over_loopback_tcp() {
        let tmp = TempDir::new("tcp");
        let data = pattern(10 * 1024 * 1024, 42);
        std::fs::write(tmp.path().join("big.bin"), &data).unwrap();
        let (port, srv) = loopback_server(tmp.path(), 2);

        let u = url(&format!("http://127.0.0.1:{port}/big.bin"));
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut body = Vec::new();
        let mut calls: Vec<(u64, Option<u64>)> = Vec::new();
        let (head, n) = get(stream, &u, &mut body, |d, t| calls.push((d, t))).unwrap();
        let len = data.len() as u64;
        assert_eq!(head.status, 200);
        assert_eq!(head.content_length, Some(len));
        assert_eq!(
            head.header("content-type"),
            Some("application/octet-stream")
        );
        assert_eq!(n, len);
        assert!(body == data, "body differs");
        assert!(calls.len() > 2);
        assert_eq!(calls.first(), Some(&(0, Some(len))));
        assert_eq!(calls.last(), Some(&(len, Some(len))));
        assert!(
            calls.windows(2).all(|w| w[0].0 < w[1].0),
            "progress not monotonic"
        );
        assert!(calls.iter().all(|&(_, t)| t == Some(len)));

        // Two pipelined requests on one real TCP connection (the second a HEAD).
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(b"GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\nHEAD /big.bin HTTP/1.1\r\nHost: h\r\n\r\n")
            .unwrap();
        let mut conn = Conn::new(&mut stream);
        let mut body = Vec::new();
        let (head, n) = read_response(&mut conn, false, &mut body, &mut |_, _| {}).unwrap();
        assert_eq!((head.status, n), (200, len));
        assert!(body == data);
        let mut empty = Vec::new();
        let (head, n) = read_response(&mut conn, true, &mut empty, &mut |_, _| {}).unwrap();
        assert_eq!((head.status, head.content_length, n), (200, Some(len), 0));
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(srv.join().unwrap(), vec![1, 2]);
    }
}
