// bf16 dot products for Bf16MatVec's grouped loops, with AVX512_BF16's vdpbf16ps: one instruction multiplies 16 pairs
// of bf16 weights by 16 pairs of bf16 inputs and adds both products of each pair to an fp32 lane, where the managed
// loops (.NET has no intrinsic for it) widen each weight to fp32 and take two FMAs: on an AMD EPYC Zen 4 eight rows of
// a decode batch were bound by the FMAs, not by memory.
//
// Not compiled by the build: build/native-code.sh compiles it with gcc into a position-independent leaf function (no
// calls, no data, no relocations) and writes its bytes into Bf16DotCode.cs, which NativeCode maps executable at run
// time; `build/native-code.sh --check` (run by build/test.sh) holds the committed bytes to this source.
#include <immintrin.h>
#include <stdint.h>

// Bf16DotArgs in Bf16MatVec.cs: the same fields in the same order.
typedef struct {
    const uint16_t *w;  // the first weight row of the first pair
    int64_t cols;       // the weights' columns, which the inputs have too
    int64_t pairs;      // pairs of weight rows, one after the other
    int64_t second;     // a pair's second row from its first: cols, or 0 for a lone last row (its sums are not read)
    const uint16_t *x;  // the first input row
    int64_t xstride;    // elements from one input row to the next
    int64_t c0, c1;     // the columns to take, [c0, c1), multiples of 32
    float *acc;         // for each pair, 2n vectors of 16 fp32 sums: input i's for the first row at 2i, the second's at 2i + 1
    int64_t n;          // inputs: 8, 4 or 1
    int64_t ahead;      // elements ahead of the weights being summed to prefetch into L2
} dot_args;

// Every input gets the same instructions in the same order, whatever n is: a row's outputs do not depend on its batch.
#define GROUP(N)                                                                                                   \
    static inline __attribute__((always_inline)) void group##N(const dot_args *a) {                                \
        const int64_t cols = a->cols, s = a->xstride, ahead = a->ahead;                                            \
        for (int64_t p = 0; p < a->pairs; p++) {                                                                   \
            const uint16_t *w0 = a->w + 2 * p * cols, *w1 = w0 + a->second;                                       \
            float *acc = a->acc + p * (2 * N * 16);                                                                \
            __m512 r0[N], r1[N];                                                                                   \
            _Pragma("GCC unroll 8") for (int k = 0; k < N; k++) {                                                  \
                r0[k] = _mm512_loadu_ps(acc + 32 * k);                                                             \
                r1[k] = _mm512_loadu_ps(acc + 32 * k + 16);                                                        \
            }                                                                                                      \
            for (int64_t j = a->c0; j < a->c1; j += 32) {                                                          \
                _mm_prefetch((const char *)(w0 + j + ahead), _MM_HINT_T1);                                         \
                _mm_prefetch((const char *)(w1 + j + ahead), _MM_HINT_T1);                                         \
                __m512bh v0 = (__m512bh)_mm512_loadu_si512(w0 + j), v1 = (__m512bh)_mm512_loadu_si512(w1 + j);    \
                _Pragma("GCC unroll 8") for (int k = 0; k < N; k++) {                                              \
                    __m512bh xk = (__m512bh)_mm512_loadu_si512(a->x + k * s + j);                                  \
                    r0[k] = _mm512_dpbf16_ps(r0[k], v0, xk);                                                       \
                    r1[k] = _mm512_dpbf16_ps(r1[k], v1, xk);                                                       \
                }                                                                                                  \
            }                                                                                                      \
            _Pragma("GCC unroll 8") for (int k = 0; k < N; k++) {                                                  \
                _mm512_storeu_ps(acc + 32 * k, r0[k]);                                                             \
                _mm512_storeu_ps(acc + 32 * k + 16, r1[k]);                                                        \
            }                                                                                                      \
        }                                                                                                          \
    }
GROUP(8)
GROUP(4)
GROUP(1)

// The one entry point, at offset 0 of the code (the System V calling convention: the arguments' address in rdi).
void bf16dot(const dot_args *a) {
    if (a->n == 8) group8(a);
    else if (a->n == 4) group4(a);
    else group1(a);
}
