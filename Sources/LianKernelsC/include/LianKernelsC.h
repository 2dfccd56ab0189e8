#ifndef LIAN_KERNELS_C_H
#define LIAN_KERNELS_C_H

// What Swift cannot say, or cannot be relied on to compile to one instruction: cache prefetch and
// spin-wait hints, two-source lane permutes, a vector square root and compare-and-select. Static inline, so the Swift
// compiler inlines each as a single instruction wherever it is used.

/// Asks the processor to bring the cache line holding `address` into all cache levels, for writing.
static inline __attribute__((always_inline)) void lian_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Asks the processor to bring the cache line holding `address` into all cache levels, for reading.
static inline __attribute__((always_inline)) void lian_prefetch_for_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// A hint to the processor that this thread is spinning (x86 `pause`); nothing elsewhere.
static inline __attribute__((always_inline)) void lian_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Returns freed heap memory to the system (glibc keeps it resident otherwise); 0 elsewhere.
#if defined(__GLIBC__)
#include <malloc.h>
static inline int lian_release_free_memory(void) { return malloc_trim(0); }
#else
static inline int lian_release_free_memory(void) { return 0; }
#endif

/// 16 floats, which Swift sees as SIMD16<Float>.
typedef float lian_float16 __attribute__((ext_vector_type(16)));

/// The even lanes of a, then of b (a0 a2 … a14 b0 b2 … b14): one two-source permute, always.
/// Swift's SIMD32 evenHalf/oddHalf are sometimes left as function calls deep in an inlined loop.
static inline __attribute__((always_inline)) lian_float16 lian_even_lanes(lian_float16 a, lian_float16 b) {
    return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

/// The odd lanes of a, then of b (a1 a3 … a15 b1 b3 … b15): one two-source permute, always.
static inline __attribute__((always_inline)) lian_float16 lian_odd_lanes(lian_float16 a, lian_float16 b) {
    return __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}

/// max(x, floor) in each lane, NaN kept: one vector max. Swift's replacing(with:where:) with a
/// mask it cannot see the origin of compiles lane by lane (15× slower in a softmax row).
static inline __attribute__((always_inline)) lian_float16 lian_at_least16(lian_float16 x, float floor) {
    return x < floor ? (lian_float16)floor : x;
}

/// v, with 0 in the lanes where x < limit (NaN in x keeps v): one compare and a zeroing move.
static inline __attribute__((always_inline)) lian_float16 lian_zero_where_below16(lian_float16 v, lian_float16 x, float limit) {
    return x < limit ? (lian_float16)0 : v;
}

/// Stores 16 floats at a 64-byte-aligned `p` past the caches (a streaming store): no read of the
/// line before it is written, and the line does not displace cached data. Order such stores
/// before a hand-over with lian_store_fence.
static inline __attribute__((always_inline)) void lian_stream16(lian_float16 v, float *p) {
    __builtin_nontemporal_store(v, (lian_float16 *)p);
}

/// Orders every earlier store, streaming ones included, before any later one (x86 `sfence`).
static inline __attribute__((always_inline)) void lian_store_fence(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_sfence();
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/// The square root of each lane, correctly rounded (the same bits as sqrtf): one vector square
/// root. Swift's SIMD16 squareRoot() calls libm's sqrtf lane by lane.
static inline __attribute__((always_inline)) lian_float16 lian_sqrt16(lian_float16 x) {
    return __builtin_elementwise_sqrt(x);
}

/// An estimate of 1/x in each lane, within a relative 2^-14 (AVX-512 `vrcp14ps`); where the
/// compiler targets no AVX-512, the exact quotient. One Newton step (see SIMDMath.swift) makes
/// either good to about a float's rounding.
static inline __attribute__((always_inline)) lian_float16 lian_reciprocal_estimate16(lian_float16 x) {
#if defined(__AVX512F__)
    return (lian_float16)__builtin_ia32_rcp14ps512_mask(x, x, (unsigned short)0xFFFF);
#else
    return 1.0f / x;
#endif
}

#endif
