//! The checksum with x86 vectors: AVX2 (64 bytes per step) where the CPU has it, SSE2 (32
//! bytes per step; part of every x86_64 CPU) otherwise. Each 32-bit word is zero-extended
//! into one of four vectors of 64-bit lanes, so no carry is lost before 2^32 steps. AVX2 is
//! about 1.9x the portable code on 1480-byte segments in cache (58 against 31 GB/s,
//! `ferrotcp-bench checksum` on the machine of BENCHMARKS.md).
//!
//! The only `unsafe` of the protocol crate: the vector loads and stores, and the call into a
//! function compiled for AVX2, made only after the CPU was seen to have it.
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m128i, __m256i, _mm_add_epi64, _mm_loadu_si128, _mm_setzero_si128, _mm_storeu_si128,
    _mm_unpackhi_epi32, _mm_unpacklo_epi32, _mm256_add_epi64, _mm256_loadu_si256,
    _mm256_setzero_si256, _mm256_storeu_si256, _mm256_unpackhi_epi32, _mm256_unpacklo_epi32,
};

use super::{add_carry, portable};

/// Ones' complement sum of `data` as native-order words, not folded. The caller has checked
/// `is_x86_feature_detected!("avx2")`.
pub(super) fn native_sum_avx2(data: &[u8]) -> u64 {
    debug_assert!(std::is_x86_feature_detected!("avx2"));
    // SAFETY: the CPU supports AVX2 (checked by the caller, asserted above in debug builds).
    unsafe { sum_avx2(data) }
}

#[target_feature(enable = "avx2")]
fn sum_avx2(data: &[u8]) -> u64 {
    let zero = _mm256_setzero_si256();
    let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
    let mut blocks = data.chunks_exact(64);
    for block in &mut blocks {
        let p = block.as_ptr().cast::<__m256i>();
        // SAFETY: `block` is 64 readable bytes; `loadu` has no alignment requirement.
        let (v0, v1) = unsafe { (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1))) };
        a0 = _mm256_add_epi64(a0, _mm256_unpacklo_epi32(v0, zero));
        a1 = _mm256_add_epi64(a1, _mm256_unpackhi_epi32(v0, zero));
        a2 = _mm256_add_epi64(a2, _mm256_unpacklo_epi32(v1, zero));
        a3 = _mm256_add_epi64(a3, _mm256_unpackhi_epi32(v1, zero));
    }
    let total = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    let mut lanes = [0u64; 4];
    // SAFETY: `lanes` is 32 writable bytes; `storeu` has no alignment requirement.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast::<__m256i>(), total) };
    // Each lane holds at most 2^32 - 1 per step, so it cannot have wrapped; the rest starts
    // at a multiple of 64 bytes, so its words line up with the blocks'.
    let vector = lanes.into_iter().fold(0, add_carry);
    add_carry(vector, portable::native_sum(blocks.remainder()))
}

/// Appends `src` to `dst` and returns its ones' complement sum as native-order words, not
/// folded: the bytes are read once, summed in registers on their way to `dst`. The caller
/// has checked `is_x86_feature_detected!("avx2")`.
pub(super) fn native_copy_sum_avx2(dst: &mut Vec<u8>, src: &[u8]) -> u64 {
    debug_assert!(std::is_x86_feature_detected!("avx2"));
    dst.reserve(src.len());
    // SAFETY: the CPU supports AVX2 (checked by the caller, asserted above in debug builds);
    // `dst` has room for `src.len()` more bytes (reserved above).
    unsafe { copy_sum_avx2(dst, src) }
}

/// # Safety
/// `dst.capacity() - dst.len() >= src.len()`, and the CPU has AVX2.
#[target_feature(enable = "avx2")]
unsafe fn copy_sum_avx2(dst: &mut Vec<u8>, src: &[u8]) -> u64 {
    let zero = _mm256_setzero_si256();
    let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
    let start = dst.len();
    // SAFETY: `start` is within the allocation (the length of `dst`).
    let out = unsafe { dst.as_mut_ptr().add(start) };
    let mut blocks = src.chunks_exact(64);
    let mut written = 0;
    for block in &mut blocks {
        let p = block.as_ptr().cast::<__m256i>();
        // SAFETY: `block` is 64 readable bytes; `out + written` has 64 writable bytes of the
        // reserved room (`written + 64 <= src.len()`); `loadu`/`storeu` need no alignment.
        let (v0, v1) = unsafe {
            let q = out.add(written).cast::<__m256i>();
            let (v0, v1) = (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)));
            _mm256_storeu_si256(q, v0);
            _mm256_storeu_si256(q.add(1), v1);
            (v0, v1)
        };
        written += 64;
        a0 = _mm256_add_epi64(a0, _mm256_unpacklo_epi32(v0, zero));
        a1 = _mm256_add_epi64(a1, _mm256_unpackhi_epi32(v0, zero));
        a2 = _mm256_add_epi64(a2, _mm256_unpacklo_epi32(v1, zero));
        a3 = _mm256_add_epi64(a3, _mm256_unpackhi_epi32(v1, zero));
    }
    let rest = blocks.remainder();
    // SAFETY: the rest fits the reserved room after the blocks; the regions do not overlap
    // (`src` is borrowed shared while `dst` is borrowed mutably); then every byte up to
    // `start + src.len()` has been written, so the new length covers initialised bytes only.
    unsafe {
        core::ptr::copy_nonoverlapping(rest.as_ptr(), out.add(written), rest.len());
        dst.set_len(start + src.len());
    }
    let total = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    let mut lanes = [0u64; 4];
    // SAFETY: `lanes` is 32 writable bytes; `storeu` has no alignment requirement.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast::<__m256i>(), total) };
    let vector = lanes.into_iter().fold(0, add_carry);
    add_carry(vector, portable::native_sum(rest))
}

/// Ones' complement sum of `data` as native-order words, not folded, with SSE2 (which the
/// x86_64 target always has: no check needed).
pub(super) fn native_sum_sse2(data: &[u8]) -> u64 {
    // SAFETY: SSE2 is part of the x86_64 baseline: every CPU this code runs on has it.
    unsafe { sum_sse2(data) }
}

#[target_feature(enable = "sse2")]
fn sum_sse2(data: &[u8]) -> u64 {
    let zero = _mm_setzero_si128();
    let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
    let mut blocks = data.chunks_exact(32);
    for block in &mut blocks {
        let p = block.as_ptr().cast::<__m128i>();
        // SAFETY: `block` is 32 readable bytes; `loadu` has no alignment requirement.
        let (v0, v1) = unsafe { (_mm_loadu_si128(p), _mm_loadu_si128(p.add(1))) };
        a0 = _mm_add_epi64(a0, _mm_unpacklo_epi32(v0, zero));
        a1 = _mm_add_epi64(a1, _mm_unpackhi_epi32(v0, zero));
        a2 = _mm_add_epi64(a2, _mm_unpacklo_epi32(v1, zero));
        a3 = _mm_add_epi64(a3, _mm_unpackhi_epi32(v1, zero));
    }
    let total = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
    let mut lanes = [0u64; 2];
    // SAFETY: `lanes` is 16 writable bytes; `storeu` has no alignment requirement.
    unsafe { _mm_storeu_si128(lanes.as_mut_ptr().cast::<__m128i>(), total) };
    let vector = lanes.into_iter().fold(0, add_carry);
    add_carry(vector, portable::native_sum(blocks.remainder()))
}

#[cfg(test)]
mod tests {
    use super::super::{fold, portable};
    use super::*;

    /// Every kernel against the portable code: all short lengths, segment sizes, four
    /// alignments, and all-ones words (where every lane and step carries).
    fn agrees_with_the_portable_code(kernel: fn(&[u8]) -> u64) {
        let data: Vec<u8> = (0..9000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for start in 0..4 {
            for len in (0..700).chain([1448, 1460, 8948, 8996 - start]) {
                let d = &data[start..start + len];
                assert_eq!(
                    fold(kernel(d)),
                    fold(portable::native_sum(d)),
                    "start {start} len {len}"
                );
            }
        }
        let ff = vec![0xFFu8; 65_535];
        assert_eq!(fold(kernel(&ff)), fold(portable::native_sum(&ff)));
    }

    #[test]
    fn avx2_agrees_with_the_portable_code_at_every_length_and_alignment() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: the dispatch never calls this kernel");
            return;
        }
        agrees_with_the_portable_code(native_sum_avx2);
    }

    #[test]
    fn sse2_agrees_with_the_portable_code_at_every_length_and_alignment() {
        agrees_with_the_portable_code(native_sum_sse2);
    }

    #[test]
    fn avx2_copy_and_sum_copies_exactly_and_agrees_with_the_portable_code() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: the dispatch never calls this kernel");
            return;
        }
        let data: Vec<u8> = (0..9000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        for start in 0..4 {
            for len in (0..300).chain([1448, 1460, 8948]) {
                let src = &data[start..start + len];
                // Appending after bytes already there, as after a frame's headers.
                let mut dst = vec![0xAB; 54];
                let sum = native_copy_sum_avx2(&mut dst, src);
                assert_eq!(&dst[..54], &[0xAB; 54][..], "start {start} len {len}");
                assert_eq!(&dst[54..], src, "start {start} len {len}");
                assert_eq!(
                    fold(sum),
                    fold(portable::native_sum(src)),
                    "start {start} len {len}"
                );
            }
        }
    }
}
