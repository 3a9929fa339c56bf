// SHA-256 with x86-64 SHA-NI (see include/sha256_hardware.h for why this is C).
//
// The instructions keep the eight working variables in two registers, ABEF and CDGH.
// `sha256rnds2(cdgh, abef, wk)` runs two rounds with the low two words of `wk` (message words
// plus round constants) and returns the new ABEF; the old ABEF is then the new CDGH, so the
// two registers swap roles every two rounds. The message schedule runs four words at a time:
// for words 4g…4g+3 (g ≥ 4), `sha256msg1(W[g-4], W[g-3])` adds σ0 of the words 15 back to the
// words 16 back, the words 7 back are added as `alignr(W[g-1], W[g-2], 4)`, and
// `sha256msg2(…, W[g-1])` adds σ1 of the words 2 back (two of which it has just made).
// About 2 cycles a byte against ~12 for the portable Swift loop.

#include "sha256_hardware.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

int finetok_sha256_hardware_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int sha = (b >> 29) & 1;
    return ssse3 && sse41 && sha;
}

__attribute__((target("sha,sse4.1,ssse3")))
void finetok_sha256_hardware_blocks(uint32_t state[8], const uint8_t *data, size_t count, const uint32_t k[64]) {
    // Big-endian words: reverse the bytes of each 32-bit lane.
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    // h0…h3 = A B C D and h4…h7 = E F G H (lane 0 first) → ABEF and CDGH as the instructions
    // want them (highest lane first: A in lane 3 of abef, C in lane 3 of cdgh).
    __m128i abcd = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i efgh = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i badc = _mm_shuffle_epi32(abcd, 0xB1);   // lanes B A D C
    __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);   // lanes H G F E
    __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);
    __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xF0);
    for (size_t n = 0; n < count; n++, data += 64) {
        const __m128i abef0 = abef, cdgh0 = cdgh;
        __m128i w[4];
        for (int g = 0; g < 16; g++) {
            __m128i x;
            if (g < 4) {
                x = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * g)), swap);
            } else {
                x = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
                x = _mm_sha256msg2_epu32(x, w[(g + 3) & 3]);
            }
            w[g & 3] = x;
            __m128i wk = _mm_add_epi32(x, _mm_loadu_si128((const __m128i *)&k[4 * g]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    // Back to A B C D and E F G H (lane 0 first from here on, as the loads above).
    __m128i a_b_e_f = _mm_shuffle_epi32(abef, 0x1B);
    __m128i g_h_c_d = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(a_b_e_f, g_h_c_d, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(g_h_c_d, a_b_e_f, 8));
}

#else

int finetok_sha256_hardware_available(void) { return 0; }
void finetok_sha256_hardware_blocks(uint32_t state[8], const uint8_t *data, size_t count, const uint32_t k[64]) {
    (void)state; (void)data; (void)count; (void)k;
}

#endif
