#ifndef LIAN_KERNELS_C_H
#define LIAN_KERNELS_C_H

// The one thing Swift cannot say: a cache prefetch hint. Static inline, so the Swift compiler
// inlines it into the GEMM micro-kernel as a single prefetch instruction.

/// Asks the processor to bring the cache line holding `address` into all cache levels, for writing.
static inline __attribute__((always_inline)) void lian_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Asks the processor to bring the cache line holding `address` into all cache levels, for reading.
static inline __attribute__((always_inline)) void lian_prefetch_for_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
