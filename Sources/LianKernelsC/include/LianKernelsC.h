#ifndef LIAN_KERNELS_C_H
#define LIAN_KERNELS_C_H

// What Swift cannot say: cache prefetch and spin-wait hints. Static inline, so the Swift compiler
// inlines each as a single instruction.

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

#endif
