//! The bytes the applications send, and the check that the receiver got exactly those.

/// Period of the pattern: not a power of two, so stream offsets and buffer boundaries drift.
const PERIOD: usize = (1 << 20) + 13;

/// A pseudo-random byte pattern repeated forever. `window(off, n)` is the stream's bytes
/// `[off, off+n)` as one slice, for `n <= max_chunk`.
pub struct Pattern {
    bytes: Vec<u8>,
    max_chunk: usize,
}

impl Pattern {
    pub fn new(max_chunk: usize) -> Pattern {
        let mut bytes = Vec::with_capacity(PERIOD + max_chunk);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..PERIOD {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bytes.push((x >> 32) as u8);
        }
        // The tail repeats the head, so every window is contiguous.
        let head: Vec<u8> = bytes[..max_chunk].to_vec();
        bytes.extend_from_slice(&head);
        Pattern { bytes, max_chunk }
    }

    pub fn window(&self, offset: u64, len: usize) -> &[u8] {
        let len = len.min(self.max_chunk);
        let start = (offset % PERIOD as u64) as usize;
        &self.bytes[start..start + len]
    }

    /// Writes the stream's first `bytes` bytes to `w` in calls of at most `max_chunk` bytes.
    pub fn write_all(&self, w: &mut impl std::io::Write, bytes: u64) -> Result<(), String> {
        let mut sent = 0u64;
        while sent < bytes {
            let n = usize::try_from(bytes - sent)
                .map_or(self.max_chunk, |left| left.min(self.max_chunk));
            w.write_all(self.window(sent, n))
                .map_err(|e| format!("write after {sent} of {bytes} bytes: {e}"))?;
            sent += n as u64;
        }
        Ok(())
    }
}

/// Checks received data against the bytes sent at the same stream offset, as it arrives (a
/// `memcmp` per chunk: cheaper than hashing and stronger than comparing digests at the end).
/// The first mismatching offset is remembered.
pub struct Verifier<'a> {
    pattern: &'a Pattern,
    pub received: u64,
    pub first_mismatch: Option<u64>,
}

impl<'a> Verifier<'a> {
    pub fn new(pattern: &'a Pattern) -> Self {
        Verifier {
            pattern,
            received: 0,
            first_mismatch: None,
        }
    }

    /// Reads `r` to end of stream in `chunk`-byte calls, checking every byte; an error unless
    /// exactly `expected` bytes of the pattern arrived. Returns the time it took.
    pub fn read_all(
        r: &mut impl std::io::Read,
        pattern: &Pattern,
        expected: u64,
        chunk: usize,
    ) -> Result<std::time::Duration, String> {
        let start = std::time::Instant::now();
        let mut buf = vec![0u8; chunk];
        let mut check = Verifier::new(pattern);
        loop {
            let n = r
                .read(&mut buf)
                .map_err(|e| format!("read after {} of {expected} bytes: {e}", check.received))?;
            if n == 0 {
                break;
            }
            check.feed(&buf[..n]);
        }
        let elapsed = start.elapsed();
        if let Some(at) = check.first_mismatch {
            return Err(format!("data differs from what was sent at offset {at}"));
        }
        if check.received != expected {
            return Err(format!("received {} of {expected} bytes", check.received));
        }
        Ok(elapsed)
    }

    pub fn feed(&mut self, data: &[u8]) {
        if self.first_mismatch.is_none() && data != self.pattern.window(self.received, data.len()) {
            let expect = self.pattern.window(self.received, data.len());
            let at = data
                .iter()
                .zip(expect)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            self.first_mismatch = Some(self.received + at as u64);
        }
        self.received += data.len() as u64;
    }
}
