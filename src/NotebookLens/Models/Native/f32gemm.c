// fp32 products x · wᵀ for F32Gemm, with AVX-512. libtorch's fp32 products go to MKL, which on AMD CPUs takes code
// paths that reach about half of the FMA units' rate: on an AMD EPYC Zen 5, 128 rows times Llama-3.2-1B's weights ran
// at 95-118 GF/s on two threads where these loops run at 160-280 (and OpenBLAS at 145-186).
//
// Not compiled by the build: build/native-code.sh compiles it with gcc into a position-independent leaf function (no
// calls, no data, no relocations) and writes its bytes into F32GemmCode.cs, which NativeCode maps executable at run
// time; `build/native-code.sh --check` (run by build/test.sh) holds the committed bytes to this source.
#include <immintrin.h>
#include <stdint.h>

// F32GemmArgs in F32Gemm.cs: the same fields in the same order.
typedef struct {
    int64_t op;        // PACK or MULTIPLY
    const float *x;    // PACK: the tile's first input row, k floats a row
    float *xp;         // the tile packed: for each of the k columns, `width` rows' values (zero past the last row)
    int64_t width;     // 16, 32, 48 or 64: the tile's rows rounded up to whole vectors
    int64_t k;         // columns of the inputs and the weights
    int64_t rows;      // the tile's rows, 1 .. width
    const float *w;    // MULTIPLY: the group's first weight row
    int64_t wrows;     // MULTIPLY: the group's weight rows, 1 .. ROWS
    float *c;          // MULTIPLY: the output of the tile's first row for the group's first weight row
    int64_t ldc;       // MULTIPLY: floats from one output row to the next
} gemm_args;

enum { PACK = 1, MULTIPLY = 2 };

// Weight rows a step: ROWS x width/16 sums (up to 24) stay in registers with the tile's vectors and a broadcast weight.
#define ROWS 6

// The tile's columns in blocks of 16, each block's rows one after the other: the reads stay on a few pages and the
// writes on a 4 KB block (one row at a time across the whole tile took 10 times as long, missing the TLB).
static inline __attribute__((always_inline)) void pack(const gemm_args *a) {
    const int64_t k = a->k, width = a->width;
    for (int64_t p0 = 0; p0 < k; p0 += 16) {
        const int64_t p1 = p0 + 16 < k ? p0 + 16 : k;
        for (int64_t i = 0; i < width; i++)
            for (int64_t p = p0; p < p1; p++) a->xp[p * width + i] = i < a->rows ? a->x[i * k + p] : 0.0f;
    }
}

// The tile's rows (V vectors of 16) times ROWS weight rows over all k columns: each step loads the tile's column and
// broadcasts one weight of each row, the weights read in order (the hardware prefetches them; the rows of a group
// stay in L2 for the next tile). A group of fewer rows repeats its last one and writes only its own. Every output is
// the same fused multiply-adds in column order, whatever the tile or group it falls in: a row's outputs do not depend
// on the other rows of its batch.
#define TILE(V)                                                                                                        \
    static inline __attribute__((always_inline)) void tile_##V(const gemm_args *a) {                                   \
        const float *w[ROWS];                                                                                          \
        _Pragma("GCC unroll 6") for (int r = 0; r < ROWS; r++) w[r] = a->w + (r < a->wrows ? r : a->wrows - 1) * a->k; \
        __m512 acc[ROWS][V];                                                                                           \
        _Pragma("GCC unroll 6") for (int r = 0; r < ROWS; r++)                                                         \
            _Pragma("GCC unroll 4") for (int v = 0; v < V; v++) acc[r][v] = _mm512_setzero_ps();                       \
        const float *x = a->xp;                                                                                        \
        for (int64_t p = 0; p < a->k; p++, x += 16 * V) {                                                              \
            __m512 xv[V];                                                                                              \
            _Pragma("GCC unroll 4") for (int v = 0; v < V; v++) xv[v] = _mm512_loadu_ps(x + 16 * v);                   \
            _Pragma("GCC unroll 6") for (int r = 0; r < ROWS; r++) {                                                   \
                const __m512 b = _mm512_set1_ps(w[r][p]);                                                              \
                _Pragma("GCC unroll 4") for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(xv[v], b, acc[r][v]);  \
            }                                                                                                          \
        }                                                                                                              \
        /* Each sum vector holds one weight row's outputs for 16 input rows: a column of the output, written a value */ \
        /* at a time (ROWS x 16V stores against ROWS x V x k multiply-adds). */                                         \
        float out[ROWS][16 * V];                                                                                       \
        _Pragma("GCC unroll 6") for (int r = 0; r < ROWS; r++)                                                         \
            _Pragma("GCC unroll 4") for (int v = 0; v < V; v++) _mm512_storeu_ps(out[r] + 16 * v, acc[r][v]);          \
        for (int64_t i = 0; i < a->rows; i++)                                                                          \
            for (int64_t r = 0; r < a->wrows; r++) a->c[i * a->ldc + r] = out[r][i];                                   \
    }
TILE(1)
TILE(2)
TILE(3)
TILE(4)

// The one entry point, at offset 0 of the code (the System V calling convention: the arguments' address in rdi).
void f32gemm(const gemm_args *a) {
    if (a->op == PACK) pack(a);
    else if (a->width == 64) tile_4(a);
    else if (a->width == 48) tile_3(a);
    else if (a->width == 32) tile_2(a);
    else tile_1(a);
}
