//! The Internet checksum (RFC 1071).
//!
//! RFC 1071 §2(B): the ones' complement sum is byte-order independent, so we add native-order
//! words with end-around carry, fold to 16 bits and convert to big-endian order once. On
//! x86_64 the sum runs with AVX2 where the CPU has it (checked at run time) and SSE2
//! otherwise; `portable` is the reference they are tested against and the code everywhere
//! else.

use core::net::Ipv4Addr;

mod portable;
#[cfg(target_arch = "x86_64")]
mod x86;

/// `a + b` with end-around carry (ones' complement addition modulo 2^64 - 1).
#[inline(always)]
fn add_carry(a: u64, b: u64) -> u64 {
    let (s, c) = a.overflowing_add(b);
    s + c as u64
}

/// Below this length the vector kernel's set-up costs more than it saves (headers, ACKs).
#[cfg(target_arch = "x86_64")]
const VECTOR_MIN_LEN: usize = 128;

/// Ones' complement sum of `data` as native-order words, not folded.
fn native_sum(data: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if data.len() >= VECTOR_MIN_LEN {
        return if std::is_x86_feature_detected!("avx2") {
            x86::native_sum_avx2(data)
        } else {
            x86::native_sum_sse2(data)
        };
    }
    portable::native_sum(data)
}

/// Un-folded sum of `data` as 16-bit big-endian words (an odd trailing byte is padded with
/// zero). Results of pieces can be added together (then [`fold`]ed) as long as every piece
/// but the last has even length. The result is at most `0xFFFF`.
pub fn sum(data: &[u8]) -> u64 {
    let native = fold(native_sum(data));
    // Native-order 16-bit sum -> big-endian word sum (identity on big-endian targets).
    u64::from(u16::from_be(native))
}

/// Appends `src` to `dst` and returns [`sum`] of `src`, reading the bytes once where the CPU
/// has vectors (a segment's payload copied into its frame is checksummed on the way).
pub fn copy_and_sum(dst: &mut Vec<u8>, src: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if src.len() >= VECTOR_MIN_LEN && std::is_x86_feature_detected!("avx2") {
        let native = fold(x86::native_copy_sum_avx2(dst, src));
        return u64::from(u16::from_be(native));
    }
    dst.extend_from_slice(src);
    sum(src)
}

/// The sum of bytes that follow an odd number of others: [`sum`] pairs them the other way
/// round, so their words are byte-swapped (RFC 1071 §2(B)).
pub fn sum_at_odd_offset(sum: u64) -> u64 {
    u64::from(fold(sum).swap_bytes())
}

/// [`sum`] without vector instructions: the reference the vector kernel is tested against,
/// public for comparisons (the bench's `bulk_csum_*` context lines).
pub fn sum_portable(data: &[u8]) -> u64 {
    u64::from(u16::from_be(fold(portable::native_sum(data))))
}

/// [`sum`] with the SSE2 kernel alone, as on an x86_64 CPU without AVX2 (for the bench's
/// `bulk_csum_*` context lines).
#[cfg(target_arch = "x86_64")]
pub fn sum_sse2(data: &[u8]) -> u64 {
    u64::from(u16::from_be(fold(x86::native_sum_sse2(data))))
}

/// Folds an accumulator to 16 bits with end-around carry (ones' complement sum), not inverted.
pub fn fold(acc: u64) -> u16 {
    let mut x = (acc & 0xFFFF_FFFF) + (acc >> 32);
    x = (x & 0xFFFF) + (x >> 16);
    x = (x & 0xFFFF) + (x >> 16);
    x = (x & 0xFFFF) + (x >> 16);
    x as u16
}

/// RFC 1071 checksum of `data`: `!fold(sum(data))`.
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(data))
}

/// Un-folded sum of the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768): source, destination,
/// zero + protocol, and the transport length.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u64 {
    let s = u32::from(src);
    let d = u32::from(dst);
    u64::from(s >> 16)
        + u64::from(s & 0xFFFF)
        + u64::from(d >> 16)
        + u64::from(d & 0xFFFF)
        + u64::from(protocol)
        + u64::from(length)
}

/// `!fold(acc + sum(data))`: the checksum of `data` with a pre-computed partial sum.
pub fn checksum_with(acc: u64, data: &[u8]) -> u16 {
    !fold(add_carry(acc, sum(data)))
}

/// The RFC 1071 definition, word by word: the reference of the tests.
#[cfg(test)]
fn naive(data: &[u8]) -> u16 {
    let mut acc = 0u32;
    for pair in data.chunks(2) {
        let hi = u32::from(pair[0]) << 8;
        let lo = pair.get(1).map_or(0, |&b| u32::from(b));
        acc += hi | lo;
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_and_alignment_matches_the_definition() {
        let data: Vec<u8> = (0..4200u32).map(|i| (i * 37 + 11) as u8).collect();
        for start in 0..8 {
            for len in (0..1600).chain([2047, 2048, 4096, 4192]) {
                let d = &data[start..start + len];
                assert_eq!(fold(sum(d)), naive(d), "start {start} len {len}");
            }
        }
        let ff = [0xFFu8; 3001];
        assert_eq!(fold(sum(&ff)), naive(&ff));
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&d)), 0xddf2);
        assert_eq!(checksum(&d), !0xddf2);
    }

    #[test]
    fn copy_and_sum_appends_and_sums_pieces_split_anywhere() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 + i / 5) as u8).collect();
        for split in [0, 1, 2, 3, 127, 128, 1459, 1460, 2999, 3000] {
            let (a, b) = data.split_at(split);
            let mut out = vec![1, 2, 3];
            let sa = copy_and_sum(&mut out, a);
            let sb = copy_and_sum(&mut out, b);
            assert_eq!(&out[3..], &data[..], "split {split}");
            let sb = if a.len() % 2 == 1 {
                sum_at_odd_offset(sb)
            } else {
                sb
            };
            assert_eq!(!fold(sa + sb), naive_checksum(&data), "split {split}");
        }
    }

    fn naive_checksum(data: &[u8]) -> u16 {
        !naive(data)
    }

    #[test]
    fn odd_lengths_and_long_buffers_match_naive() {
        let data: Vec<u8> = (0..1001u32).map(|i| (i * 37 + 11) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(fold(sum(&data[..len])), naive(&data[..len]), "len {len}");
        }
        let ff = [0xFFu8; 77];
        assert_eq!(fold(sum(&ff)), naive(&ff));
        assert_eq!(fold(sum(&[])), 0);
    }

    #[test]
    fn fold_carries_everything() {
        assert_eq!(fold(0), 0);
        assert_eq!(fold(0x1_0000), 1);
        assert_eq!(fold(u64::MAX), 0xFFFF);
        assert_eq!(fold(0xFFFF_FFFF), 0xFFFF);
        assert_eq!(fold(0x0001_0000_0000_0000), 1);
    }

    #[test]
    fn ipv4_header_example() {
        // A classic IPv4 header whose checksum is 0xb861.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0xb861);
        h[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert_eq!(checksum(&h), 0);
    }

    #[test]
    fn pseudo_header_combines() {
        let src = Ipv4Addr::new(10, 0, 0, 1);
        let dst = Ipv4Addr::new(10, 0, 0, 2);
        let mut manual = Vec::new();
        manual.extend_from_slice(&src.octets());
        manual.extend_from_slice(&dst.octets());
        manual.extend_from_slice(&[0, 6, 0, 3]);
        manual.extend_from_slice(&[1, 2, 3]);
        let acc = pseudo_header_v4(src, dst, 6, 3);
        assert_eq!(checksum_with(acc, &[1, 2, 3]), checksum(&manual));
    }
}
