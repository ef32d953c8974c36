//! Initial sequence numbers (RFC 6528; RFC 9293 §3.4.1).
//!
//! RFC 9293 §3.4.1 MUST-8: the ISN generator is bound to a (possibly fictitious)
//! 32-bit clock whose low-order bit ticks about every 4 microseconds.
//! MUST-9 / SHLD-1 (RFC 6528 §3): ISN = M + F(localip, localport, remoteip,
//! remoteport, secretkey), where M is that timer and F is a keyed pseudorandom
//! function, so that off-path attackers cannot guess the ISN of another
//! connection while each 4-tuple still sees a monotonically advancing sequence
//! space (protecting against old duplicates from earlier incarnations).
//!
//! F is SipHash-2-4, implemented here because the crate takes no dependencies;
//! the stack also reuses [`siphash24`] as the keyed hash of its connection table
//! (a keyed hash stops remote peers from flooding one bucket).

use crate::time::Instant;
use core::net::SocketAddrV4;

/// One SipRound (SipHash paper, §2).
#[inline(always)]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-2-4 of `data` under the 128-bit key `key` (`key[0]` = k0 = the first
/// eight key bytes read little-endian, `key[1]` = k1).
///
/// Processes input eight bytes at a time and never allocates, so hashing a
/// 12-byte 4-tuple costs one full block plus the final block.
#[inline]
pub fn siphash24(key: [u64; 2], data: &[u8]) -> u64 {
    let [k0, k1] = key;
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];

    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let m = u64::from_le_bytes(word);
        v[3] ^= m;
        sip_round(&mut v);
        sip_round(&mut v);
        v[0] ^= m;
    }

    // Final block: remaining 0..=7 bytes, with the message length (mod 256) in
    // the top byte.
    let rest = chunks.remainder();
    let mut last = [0u8; 8];
    last[..rest.len()].copy_from_slice(rest);
    let b = u64::from_le_bytes(last) | ((data.len() as u64 & 0xff) << 56);
    v[3] ^= b;
    sip_round(&mut v);
    sip_round(&mut v);
    v[0] ^= b;

    v[2] ^= 0xff;
    sip_round(&mut v);
    sip_round(&mut v);
    sip_round(&mut v);
    sip_round(&mut v);
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// The 12 bytes identifying a connection: local IP, local port, remote IP,
/// remote port, addresses and ports in network byte order.
#[inline]
pub fn four_tuple_bytes(local: SocketAddrV4, remote: SocketAddrV4) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[0..4].copy_from_slice(&local.ip().octets());
    b[4..6].copy_from_slice(&local.port().to_be_bytes());
    b[6..10].copy_from_slice(&remote.ip().octets());
    b[10..12].copy_from_slice(&remote.port().to_be_bytes());
    b
}

/// SipHash-2-4 of a connection 4-tuple (see [`four_tuple_bytes`]); for the
/// connection table and for F in the ISN.
#[inline]
pub fn siphash24_tuple(key: [u64; 2], local: SocketAddrV4, remote: SocketAddrV4) -> u64 {
    siphash24(key, &four_tuple_bytes(local, remote))
}

/// SplitMix64 step: expands a 64-bit seed into well-mixed key words.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Derives a 128-bit SipHash key from a 64-bit seed.
///
/// The result is only as secret as the seed: in production the driver must
/// supply a seed from a CSPRNG (RFC 6528 §3: the secret key must not be
/// guessable); in simulation a fixed seed gives reproducible runs.
pub fn key_from_seed(seed: u64) -> [u64; 2] {
    let mut s = seed;
    [splitmix64(&mut s), splitmix64(&mut s)]
}

/// RFC 6528 ISN generator: ISN = M + F(4-tuple, secret).
#[derive(Clone, Debug)]
pub struct IsnGenerator {
    key: [u64; 2],
}

impl IsnGenerator {
    /// Generator keyed by a secret derived from `seed` (see [`key_from_seed`]).
    pub fn new(seed: u64) -> Self {
        IsnGenerator {
            key: key_from_seed(seed),
        }
    }

    /// Generator with an explicit 128-bit key.
    pub fn with_key(key: [u64; 2]) -> Self {
        IsnGenerator { key }
    }

    /// The ISN for a new connection from `local` to `remote` at time `now`.
    ///
    /// M = now in 4 µs ticks, wrapping at 2^32 (RFC 9293 §3.4.1 MUST-8; 250 000
    /// ticks per second, a full cycle every ~4.77 hours). F = low 32 bits of
    /// SipHash-2-4 over the 4-tuple (RFC 6528 §3, RFC 9293 MUST-9).
    pub fn isn(&self, now: Instant, local: SocketAddrV4, remote: SocketAddrV4) -> u32 {
        let m = (now.total_micros() / 4) as u32;
        let f = siphash24_tuple(self.key, local, remote) as u32;
        m.wrapping_add(f)
    }

    /// The offset of this connection's TSval clock (RFC 7323 §7.1, like Linux's secure
    /// tsoffset): the hash's high half, so it tells nothing about the ISN's low half.
    pub fn ts_offset(&self, local: SocketAddrV4, remote: SocketAddrV4) -> u32 {
        (siphash24_tuple(self.key, local, remote) >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    /// Key 00 01 .. 0f, as in the SipHash paper's test vectors.
    fn ref_key() -> [u64; 2] {
        let mut k = [0u8; 16];
        for (i, b) in k.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut k0 = [0u8; 8];
        let mut k1 = [0u8; 8];
        k0.copy_from_slice(&k[..8]);
        k1.copy_from_slice(&k[8..]);
        [u64::from_le_bytes(k0), u64::from_le_bytes(k1)]
    }

    fn msg(len: usize) -> Vec<u8> {
        (0..len).map(|i| i as u8).collect()
    }

    /// Reference vectors (vectors.h of the SipHash reference implementation):
    /// key 00..0f, message 00 01 .. (len-1), output as little-endian bytes.
    const VECTORS: [(usize, [u8; 8]); 13] = [
        (0, [0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72]),
        (1, [0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74]),
        (2, [0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d]),
        (3, [0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85]),
        (4, [0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf]),
        (5, [0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18]),
        (6, [0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb]),
        (7, [0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab]),
        (8, [0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93]),
        (9, [0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e]),
        (12, [0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75]),
        (15, [0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1]),
        (16, [0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f]),
    ];

    #[test]
    fn siphash_reference_vectors() {
        let key = ref_key();
        for (len, expected) in VECTORS {
            assert_eq!(
                siphash24(key, &msg(len)),
                u64::from_le_bytes(expected),
                "vector for length {len}"
            );
        }
    }

    #[test]
    fn siphash_paper_example() {
        // SipHash paper, Appendix A: 15-byte message 00..0e -> a129ca6149be45e5.
        assert_eq!(siphash24(ref_key(), &msg(15)), 0xa129_ca61_49be_45e5);
    }

    #[test]
    #[allow(deprecated)]
    fn siphash_matches_std_siphasher_all_lengths() {
        use core::hash::{Hasher, SipHasher};
        let key = ref_key();
        for len in 0..64 {
            let data = msg(len);
            let mut h = SipHasher::new_with_keys(key[0], key[1]);
            h.write(&data);
            assert_eq!(siphash24(key, &data), h.finish(), "length {len}");
        }
    }

    fn sa(a: [u8; 4], port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(a), port)
    }

    #[test]
    fn four_tuple_layout() {
        let b = four_tuple_bytes(sa([10, 0, 0, 1], 0x1234), sa([192, 168, 1, 2], 80));
        assert_eq!(b, [10, 0, 0, 1, 0x12, 0x34, 192, 168, 1, 2, 0, 80]);
    }

    #[test]
    fn same_inputs_same_isn() {
        let g1 = IsnGenerator::new(42);
        let g2 = IsnGenerator::new(42);
        let now = Instant::from_millis(123_456);
        let l = sa([10, 0, 0, 1], 40000);
        let r = sa([10, 0, 0, 2], 80);
        assert_eq!(g1.isn(now, l, r), g2.isn(now, l, r));
        assert_eq!(g1.isn(now, l, r), g1.isn(now, l, r));
    }

    #[test]
    fn isn_advances_250k_per_second() {
        let g = IsnGenerator::new(7);
        let l = sa([10, 0, 0, 1], 40000);
        let r = sa([10, 0, 0, 2], 80);
        let t0 = Instant::from_secs(1000);
        let a = g.isn(t0, l, r);
        let b = g.isn(Instant::from_secs(1001), l, r);
        assert_eq!(b.wrapping_sub(a), 250_000);
        // One tick every 4 µs.
        assert_eq!(g.isn(Instant::from_micros(1_000_000_003), l, r), a);
        assert_eq!(
            g.isn(Instant::from_micros(1_000_000_004), l, r)
                .wrapping_sub(a),
            1
        );
    }

    #[test]
    fn isn_wraps_without_panic() {
        let g = IsnGenerator::new(1);
        let l = sa([1, 2, 3, 4], 1);
        let r = sa([5, 6, 7, 8], 2);
        // 2^32 ticks later, M wraps back to the same value.
        let period = (1u64 << 32) * 4;
        let t = Instant::from_micros(12_345);
        assert_eq!(
            g.isn(t, l, r),
            g.isn(Instant::from_micros(12_345 + period), l, r)
        );
        let _ = g.isn(Instant::from_micros(u64::MAX), l, r);
    }

    #[test]
    fn different_tuples_and_keys_differ() {
        let g = IsnGenerator::new(99);
        let now = Instant::from_secs(5);
        let l = sa([10, 0, 0, 1], 40000);
        let r = sa([10, 0, 0, 2], 80);
        let base = g.isn(now, l, r);
        assert_ne!(base, g.isn(now, sa([10, 0, 0, 1], 40001), r));
        assert_ne!(base, g.isn(now, l, sa([10, 0, 0, 2], 81)));
        assert_ne!(base, g.isn(now, sa([10, 0, 0, 3], 40000), r));
        assert_ne!(base, g.isn(now, l, sa([10, 0, 0, 4], 80)));
        // Swapping ends is a different connection.
        assert_ne!(base, g.isn(now, r, l));
        assert_ne!(base, IsnGenerator::new(100).isn(now, l, r));
        assert_ne!(key_from_seed(0), key_from_seed(1));
    }

    #[test]
    fn with_key_matches_siphash() {
        let key = ref_key();
        let g = IsnGenerator::with_key(key);
        let l = sa([10, 0, 0, 1], 1);
        let r = sa([10, 0, 0, 2], 2);
        assert_eq!(
            g.isn(Instant::ZERO, l, r),
            siphash24_tuple(key, l, r) as u32
        );
    }
}
