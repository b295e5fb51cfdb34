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
    const uint16_t *w;  // the first weight row
    int64_t cols;       // the weights' columns, which the inputs have too
    int64_t steps;      // steps of `rows` weight rows each, one after the other
    int64_t rows;       // weight rows a step: 2, or 1 (with n 1) for a last odd row
    const uint16_t *x;  // the first input row
    int64_t xstride;    // elements from one input row to the next
    int64_t c0, c1;     // the columns to take, [c0, c1), multiples of 32
    float *acc;         // for each step, rows x n vectors of 16 fp32 sums: input i's for the step's row q at rows x i + q
    int64_t n;          // inputs: 8, 4 or 1
    int64_t ahead;      // elements ahead of the weights being summed to prefetch into L2
} dot_args;

// Every input gets the same instructions in the same order, whatever n and rows are: a row's outputs depend neither
// on its batch nor on its neighbours. A function for each n and rows, whose arrays have constant sizes: the loops
// unroll and the sums stay in registers (with n and rows as arguments of one inlined function, gcc kept them on the
// stack, and eight rows took 1.2x the managed loops' time instead of 0.8x).
#define GROUP(N, R)                                                                                                    \
    static inline __attribute__((always_inline)) void group_##N##_##R(const dot_args *a) {                             \
        const int64_t cols = a->cols, s = a->xstride, ahead = a->ahead;                                                \
        for (int64_t p = 0; p < a->steps; p++) {                                                                       \
            const uint16_t *w = a->w + p * R * cols;                                                                   \
            float *acc = a->acc + p * (R * N * 16);                                                                    \
            __m512 sum[R * N];                                                                                         \
            _Pragma("GCC unroll 16") for (int k = 0; k < R * N; k++) sum[k] = _mm512_loadu_ps(acc + 16 * k);           \
            for (int64_t j = a->c0; j < a->c1; j += 32) {                                                              \
                __m512bh v[R];                                                                                         \
                _Pragma("GCC unroll 2") for (int q = 0; q < R; q++) {                                                  \
                    _mm_prefetch((const char *)(w + q * cols + j + ahead), _MM_HINT_T1);                               \
                    v[q] = (__m512bh)_mm512_loadu_si512(w + q * cols + j);                                             \
                }                                                                                                      \
                _Pragma("GCC unroll 8") for (int i = 0; i < N; i++) {                                                  \
                    __m512bh xi = (__m512bh)_mm512_loadu_si512(a->x + i * s + j);                                      \
                    _Pragma("GCC unroll 2") for (int q = 0; q < R; q++)                                                \
                        sum[R * i + q] = _mm512_dpbf16_ps(sum[R * i + q], v[q], xi);                                   \
                }                                                                                                      \
            }                                                                                                          \
            _Pragma("GCC unroll 16") for (int k = 0; k < R * N; k++) _mm512_storeu_ps(acc + 16 * k, sum[k]);           \
        }                                                                                                              \
    }
GROUP(8, 2)
GROUP(4, 2)
GROUP(1, 2)
GROUP(1, 1)

// The one entry point, at offset 0 of the code (the System V calling convention: the arguments' address in rdi).
void bf16dot(const dot_args *a) {
    if (a->rows == 1) group_1_1(a); // a last odd row, one input at a time
    else if (a->n == 8) group_8_2(a);
    else if (a->n == 4) group_4_2(a);
    else group_1_2(a);
}
