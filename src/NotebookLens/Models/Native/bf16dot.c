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
    float *acc;         // for each step, rows x n vectors of 16 fp32 sums between tiles (from c0 = 0, not read): input i's for the step's row q at rows x i + q
    int64_t n;          // inputs: 8, 4 or 1
    int64_t ahead;      // elements ahead of the weights being summed to prefetch into L1 (prefetcht0): the next step's
                        // rows at these columns. Eight rows of the 525 MB output layer, read from memory on two threads
                        // of an AMD EPYC Zen 5 VM, streamed at 78-83 % of a plain read of it so, against 56 % with the
                        // prefetcht1 two steps ahead and prefetcht2 sixteen ahead this had before (that second one had
                        // helped on Zen 4 with tiles of 1,024 columns and 256 KB pieces; here it cost 10-25 % in every
                        // arrangement tried), 73 % with prefetcht1 one step ahead, 71-76 % with prefetcht0 two or three.
    uint16_t *out;      // null, or (the last columns) the outputs: input i's for the step's row q at out[i x ostride +
                        // step x rows + q], each sum rounded once to bf16 (nearest even; a NaN as 0x7FC0), instead of acc
    int64_t ostride;    // elements from one input's outputs to the next's
    const int16_t *shift; // 32 indices, k + the weights' elements past a cache line (w mod 64 / 2): see GROUP
} dot_args;

// The 16 lanes of each of 16 vectors summed, vector 4m + g's sum in lane 4g + m (lane 4m + g would take a permutation
// whose indices live in .rodata; the writes below read the lanes in this order). Every vector's lanes are added in the
// same tree whatever its place: lane j + lane j + 8, then j + 4, j + 2, j + 1. Lanes of different vectors are only
// moved, never added: zero vectors standing in for absent ones change nothing. Summed one vector at a time in C#, they
// were 3 % of a batch-8 decode's samples, 2 % here, and the step took 150-155 ms instead of 170-190 (AMD EPYC Zen 4).
static inline __attribute__((always_inline)) __m512 sum16(const __m512 *v) {
    __m512 t[8], u[4], w[2];
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 8; i++) // [v(2i) lanes j + j + 8 | v(2i + 1)'s]
        t[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44), _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE));
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 4; i++) // 128-bit group g: v(4i + g)'s four partial sums
        u[i] = _mm512_add_ps(_mm512_shuffle_f32x4(t[2 * i], t[2 * i + 1], 0x88), _mm512_shuffle_f32x4(t[2 * i], t[2 * i + 1], 0xDD));
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 2; i++) // group g: two sums of v(8i + g), then two of v(8i + 4 + g)
        w[i] = _mm512_add_ps(_mm512_shuffle_ps(u[2 * i], u[2 * i + 1], 0x44), _mm512_shuffle_ps(u[2 * i], u[2 * i + 1], 0xEE));
    // group g: the sums of v(g), v(4 + g), v(8 + g), v(12 + g)
    return _mm512_add_ps(_mm512_shuffle_ps(w[0], w[1], 0x88), _mm512_shuffle_ps(w[0], w[1], 0xDD));
}

// The 16 sums of sum16 rounded to bf16 as Bf16.Round rounds (nearest even; a NaN becomes 0x7FC0), one per 32-bit lane.
// Here rather than in C#, where the scattered writes of eight rows of the output layer took a quarter of its time.
static inline __attribute__((always_inline)) __m512i round16(__m512 sums) {
    __m512i bits = _mm512_castps_si512(sums);
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(0x7FFF)), odd), 16);
    return _mm512_mask_mov_epi32(rounded, _mm512_cmp_ps_mask(sums, sums, _CMP_UNORD_Q), _mm512_set1_epi32(0x7FC0));
}

// Every input gets the same instructions in the same order, whatever n and rows are: a row's outputs depend neither
// on its batch nor on its neighbours. A function for each n and rows, whose arrays have constant sizes: the loops
// unroll and the sums stay in registers (with n and rows as arguments of one inlined function, gcc kept them on the
// stack, and eight rows took 1.2x the managed loops' time instead of 0.8x).
//
// The weights are read a whole cache line at a time, one line ahead: each step's 32 columns are the part of two lines
// they straddle, put together by one permutation (vpermt2w: any even offset). A checkpoint's tensors start where its
// header ends, rarely on a line (the benchmark's 1B-shaped file 40 bytes past one, its 3B-shaped one 24), and a load
// across two lines costs two. In a harness of these loops over eight rows of the 525 MB output layer from memory (two
// threads, AMD EPYC Zen 5 VM): 10.8-11.4 ms against 12.8-13.3 with loads at the rows' own offsets, 40 or 42 bytes past
// a line; 11.3 against 12.9 on a line, where the loads ahead are what gains. The line after a tile's last columns is
// read only if some of them are in it: a line that holds any of a tensor's bytes is in a page that is mapped.
#define GROUP(N, R)                                                                                                    \
    /* Columns [j, j + 32) of the step's rows into its sums; the lines after them read only if ahead. */             \
    static inline __attribute__((always_inline)) void tile_##N##_##R(const dot_args *a, const uint16_t *w,            \
            const uint16_t *line, int64_t j, __m512i shift, __m512i *held, __m512 *sum, int ahead) {                   \
        __m512bh v[R];                                                                                                 \
        _Pragma("GCC unroll 2") for (int q = 0; q < R; q++) {                                                          \
            _mm_prefetch((const char *)(w + q * a->cols + j + a->ahead), _MM_HINT_T0);                                 \
            __m512i next = ahead ? _mm512_load_si512(line + q * a->cols + j + 32) : held[q];                           \
            v[q] = (__m512bh)_mm512_permutex2var_epi16(held[q], shift, next);                                          \
            held[q] = next;                                                                                            \
        }                                                                                                              \
        _Pragma("GCC unroll 8") for (int i = 0; i < N; i++) {                                                          \
            __m512bh xi = (__m512bh)_mm512_loadu_si512(a->x + i * a->xstride + j);                                     \
            _Pragma("GCC unroll 2") for (int q = 0; q < R; q++)                                                        \
                sum[R * i + q] = _mm512_dpbf16_ps(sum[R * i + q], v[q], xi);                                           \
        }                                                                                                              \
    }                                                                                                                  \
    static inline __attribute__((always_inline)) void group_##N##_##R(const dot_args *a) {                             \
        const int64_t cols = a->cols, past = (int64_t)((uintptr_t)a->w & 63) / 2;                                      \
        const __m512i shift = _mm512_loadu_si512(a->shift);                                                            \
        for (int64_t p = 0; p < a->steps; p++) {                                                                       \
            const uint16_t *w = a->w + p * R * cols, *line = w - past;                                                 \
            float *acc = a->acc + p * (R * N * 16);                                                                    \
            __m512 sum[R * N];                                                                                         \
            _Pragma("GCC unroll 16") for (int k = 0; k < R * N; k++)                                                   \
                sum[k] = a->c0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(acc + 16 * k); /* the first tile */         \
            __m512i held[R];                                                                                           \
            _Pragma("GCC unroll 2") for (int q = 0; q < R; q++) held[q] = _mm512_load_si512(line + q * cols + a->c0);  \
            int64_t j = a->c0;                                                                                         \
            for (; j + 32 < a->c1; j += 32) tile_##N##_##R(a, w, line, j, shift, held, sum, 1);                         \
            if (past) tile_##N##_##R(a, w, line, j, shift, held, sum, 1);                                              \
            else tile_##N##_##R(a, w, line, j, shift, held, sum, 0);                                                   \
            if (a->out) {                                                                                              \
                __m512 all[16];                                                                                        \
                _Pragma("GCC unroll 16") for (int k = 0; k < 16; k++) all[k] = k < R * N ? sum[k] : _mm512_setzero_ps(); \
                uint32_t lanes[16]; /* vector k's rounded sum at lane 4 (k mod 4) + k / 4 (sum16) */                   \
                _mm512_storeu_si512(lanes, round16(sum16(all)));                                                       \
                _Pragma("GCC unroll 8") for (int i = 0; i < N; i++)                                                   \
                    _Pragma("GCC unroll 2") for (int q = 0; q < R; q++)                                               \
                        a->out[i * a->ostride + p * R + q] = (uint16_t)lanes[4 * ((R * i + q) & 3) + (R * i + q) / 4]; \
            } else {                                                                                                   \
                _Pragma("GCC unroll 16") for (int k = 0; k < R * N; k++) _mm512_storeu_ps(acc + 16 * k, sum[k]);       \
            }                                                                                                          \
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
