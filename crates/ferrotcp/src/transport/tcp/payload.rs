//! A segment's text as TCP input sees it: one slice, or the slices of consecutive segments
//! that arrived together and were coalesced before TCP processing (the stack's software GRO,
//! `stack/gro.rs`), in sequence order with nothing between them.

use super::ring::Ring;

#[derive(Clone, Copy, Debug)]
pub struct Payload<'a> {
    first: &'a [u8],
    more: &'a [&'a [u8]],
    len: usize,
}

impl<'a> Payload<'a> {
    /// The text of one segment.
    pub fn one(data: &'a [u8]) -> Self {
        Payload {
            first: data,
            more: &[],
            len: data.len(),
        }
    }

    /// The texts of `parts.len()` consecutive segments, in order.
    pub fn coalesced(parts: &'a [&'a [u8]]) -> Self {
        match parts.split_first() {
            Some((first, more)) => Payload {
                first,
                more,
                len: parts.iter().map(|p| p.len()).sum(),
            },
            None => Payload::one(&[]),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many segments this text arrived in.
    pub fn segments(&self) -> u32 {
        1 + self.more.len() as u32
    }

    /// Where the last segment's text starts (0 for one segment).
    pub fn last_offset(&self) -> usize {
        self.len - self.more.last().map_or(self.first.len(), |p| p.len())
    }

    fn parts(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        core::iter::once(self.first).chain(self.more.iter().copied())
    }

    /// Writes the text after its first `skip` bytes into `ring` at `offset` past its stored
    /// bytes (`Ring::write_unallocated`); returns how many bytes fit.
    pub fn write_unallocated(&self, ring: &mut Ring, offset: usize, skip: usize) -> usize {
        let mut skip = skip;
        let mut written = 0;
        for part in self.parts() {
            if skip >= part.len() {
                skip -= part.len();
                continue;
            }
            let data = &part[skip..];
            skip = 0;
            let n = ring.write_unallocated(offset + written, data);
            written += n;
            if n < data.len() {
                break;
            }
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesced_text_is_written_as_one_with_any_skip() {
        let whole: Vec<u8> = (0..100u8).collect();
        let parts: [&[u8]; 3] = [&whole[..40], &whole[40..70], &whole[70..]];
        let p = Payload::coalesced(&parts);
        assert_eq!((p.len(), p.segments(), p.last_offset()), (100, 3, 70));
        for skip in [0, 1, 39, 40, 41, 99] {
            let mut ring = Ring::new(64);
            let n = p.write_unallocated(&mut ring, 0, skip);
            let fits = (100 - skip).min(64);
            assert_eq!(n, fits, "skip {skip}");
            ring.commit(n);
            let mut out = vec![0; n];
            ring.read_at(0, &mut out);
            assert_eq!(out, whole[skip..skip + n], "skip {skip}");
        }
        let one = Payload::one(&whole);
        assert_eq!((one.len(), one.segments(), one.last_offset()), (100, 1, 0));
    }
}
