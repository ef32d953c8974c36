//! The checksum in plain Rust, 16 bytes per step in two independent 64-bit accumulators: the
//! reference for the vector kernel, and the code wherever there is none.

use super::add_carry;

/// Ones' complement sum of `data` as native-order words, not folded (an odd trailing byte is
/// padded with zero, RFC 1071's padding).
pub(super) fn native_sum(data: &[u8]) -> u64 {
    let mut a0 = 0u64;
    let mut a1 = 0u64;
    let mut blocks = data.chunks_exact(16);
    for b in &mut blocks {
        let (lo, hi) = b.split_at(8);
        // Both halves are exactly 8 bytes: `try_into` cannot fail.
        a0 = add_carry(a0, u64::from_ne_bytes(lo.try_into().unwrap_or([0; 8])));
        a1 = add_carry(a1, u64::from_ne_bytes(hi.try_into().unwrap_or([0; 8])));
    }
    let rest = blocks.remainder();
    let mut words = rest.chunks_exact(8);
    for w in &mut words {
        a0 = add_carry(a0, u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])));
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        // The tail starts at an offset that is a multiple of 8, so zero padding at its end
        // is the RFC 1071 padding of an odd trailing byte.
        let mut pad = [0u8; 8];
        pad[..tail.len()].copy_from_slice(tail);
        a1 = add_carry(a1, u64::from_ne_bytes(pad));
    }
    add_carry(a0, a1)
}
