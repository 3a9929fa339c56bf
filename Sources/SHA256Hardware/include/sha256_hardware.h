// SHA-256 block compression with the CPU's SHA instructions (x86-64 SHA-NI), for Builder's
// SHA256 (Sources/Builder/SHA256.swift), which stays the portable reference and fallback.
// Swift cannot call these instructions: the compiler refuses their intrinsics without the `sha`
// target feature for the whole module, and a build that required it would not run on CPUs
// without it. Here one C function carries the feature and is called only after CPUID says yes.

#ifndef FINETOK_SHA256_HARDWARE_H
#define FINETOK_SHA256_HARDWARE_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the SHA, SSSE3 and SSE4.1 instructions (x86-64), else 0.
int finetok_sha256_hardware_available(void);

/// Compresses `count` 64-byte blocks at `data` into `state` (h0…h7, host order), with the
/// round constants `k` (the Swift side's table, so there is one copy). Call only when
/// `finetok_sha256_hardware_available()` returned 1.
void finetok_sha256_hardware_blocks(uint32_t state[8], const uint8_t *data, size_t count, const uint32_t k[64]);

#endif
