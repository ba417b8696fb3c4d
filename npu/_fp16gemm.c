/* Bit-true FP16 GEMM of npu/fp16.py (read its docstring: the arithmetic is defined there).
 *
 *   p      = fl16(x[m,k] * w[k,n])               product rounded to FP16
 *   s      = fl_a(s + p),  k = k0 ... k0+R-1      fold of R = chunk reductions, from +0
 *   total  = fold 0's s, then fl_a(total + s)    folds added in order
 *   total  = fl_a(total + fl16(b[n]))            bias last
 *   out    = fl16(total)                         FP16 output (its bits)
 *
 * fl16 is IEEE binary16 round-to-nearest-even (with subnormals and overflow to inf) and fl_a
 * that or the FP32 addition. Inputs arrive as float32 holding FP16 values, so a product is
 * exact in FP32 (22 significant bits, exponent in range) and one conversion rounds it; an
 * FP32 sum of two FP16 values converted to FP16 is the correctly rounded FP16 sum (double
 * rounding is innocuous since 24 >= 2*11 + 2; Figueroa, ACM SIGNUM Newsletter 30(3), 1995).
 *
 * Each output's accumulator lives in a register over the whole reduction: blocks of MR rows
 * by NR vectors of columns, one broadcast of x per (row, k) and one load per (vector, k) of
 * w's panel of NR vectors, packed first into an aligned buffer (see gemm1).
 * Vector paths: AVX-512F (16 lanes) or AVX + F16C (8 lanes), rounding with vcvtps2ph
 * (immediate round-to-nearest-even, independent of MXCSR) and back with vcvtph2ps. Without
 * them, GNU C vectors (any target gcc or clang supports) with an arithmetic rounding (see
 * vround16), else scalar C (bit manipulation plus one FPU addition for subnormals). The
 * portable paths need the default round-to-nearest mode. Compile with -ffp-contract=off
 * and without -ffast-math: a fused multiply-add would skip the product's rounding, and
 * reassociation would undo (p + c) - c.
 *
 * Speed, one thread of a shared 2-core AMD EPYC (Zen 4), GEMM 676 x 2304 x 512, FP16 / FP32
 * accumulator, GMAC/s, all under the same load (about 6): AVX-512 3.3 / 5.8, AVX + F16C
 * 3.4 / 5.5 (the conversions bound it), GNU vectors 0.9 / 1.5 (512-bit), 0.4 / 0.8 (SSE2),
 * scalar 0.09 / 0.21. At load 2 the AVX-512 path gives 6.4 (FP16, 676 x 2304 x 128).
 *
 * Defining FP16GEMM_NO_AVX512, FP16GEMM_PORTABLE or FP16GEMM_SCALAR at compile time forces
 * the 8-lane, GNU-vector or scalar path; the tests check every path against the reference.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(FP16GEMM_SCALAR) || (!defined(__GNUC__) && !defined(__AVX__))
#define FP16GEMM_ISA 0
#elif !defined(FP16GEMM_PORTABLE) && defined(__AVX512F__) && !defined(FP16GEMM_NO_AVX512)
#define FP16GEMM_ISA 2
#elif !defined(FP16GEMM_PORTABLE) && defined(__AVX__) && defined(__F16C__)
#define FP16GEMM_ISA 1
#elif defined(__GNUC__)
#define FP16GEMM_ISA 3
#else
#define FP16GEMM_ISA 0
#endif

#if FP16GEMM_ISA > 0
#include <immintrin.h>
#endif

#define ALWAYS static inline __attribute__((always_inline))

/* ---- portable FP16 rounding (also used for checks and by the portable path) ---- */

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* binary32 -> binary16 bits, round to nearest even; NaN stays NaN (quiet, payload's top
 * bits kept, as vcvtps2ph does). After F. Giesen's float_to_half_fast3_rtne (public domain). */
static inline uint16_t half_bits(float f)
{
    uint32_t x = f2u(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x >= 0x47800000u) {                     /* |f| >= 65536: inf or NaN (or overflow) */
        if (x > 0x7f800000u)
            return (uint16_t)(sign | 0x7e00u | ((x >> 13) & 0x3ffu));
        return (uint16_t)(sign | 0x7c00u);
    }
    if (x < 0x38800000u) {                      /* |f| < 2^-14: an FP16 subnormal or zero */
        /* 0.5 has ulp 2^-24, the FP16 subnormal step: the FPU rounds |f| to it (RNE). */
        float t = u2f(x) + 0.5f;
        return (uint16_t)(sign | (uint16_t)(f2u(t) - 0x3f000000u));
    }
    /* normal: rebias the exponent by -112 and round the 13 dropped bits half to even; a
     * carry out of the fraction bumps the exponent (65520 and up become inf). */
    x += 0xc8000fffu + ((x >> 13) & 1u);
    return (uint16_t)(sign | (uint16_t)(x >> 13));
}

/* binary16 bits -> binary32 (exact). */
static inline float half_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1fu)
        return u2f(sign | 0x7f800000u | (m << 13));
    if (e == 0) {
        float v = (float)m * 5.9604644775390625e-8f;  /* m * 2^-24, exact */
        return sign ? -v : v;
    }
    return u2f(sign | ((e + 112u) << 23) | (m << 13));
}

static inline float round16(float f) { return half_float(half_bits(f)); }

/* ---- vector abstraction ---- */

#if FP16GEMM_ISA == 2
typedef __m512 vf;
#define VL 16
#define MR 4
#define NR 2
#define VLOAD(p) _mm512_loadu_ps(p)
#define VBCAST(p) _mm512_set1_ps(*(p))
#define VMUL(a, b) _mm512_mul_ps(a, b)
#define VADD(a, b) _mm512_add_ps(a, b)
#define VZERO() _mm512_setzero_ps()
#define VTOH(v) _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VR16(v) _mm512_cvtph_ps(VTOH(v))
#define VSTOREH(p, v) _mm256_storeu_si256((__m256i *)(p), VTOH(v))
#define VSTORE(p, v) _mm512_storeu_ps(p, v)
#elif FP16GEMM_ISA == 1
typedef __m256 vf;
#define VL 8
#define MR 4
#define NR 2
#define VLOAD(p) _mm256_loadu_ps(p)
#define VBCAST(p) _mm256_broadcast_ss(p)
#define VMUL(a, b) _mm256_mul_ps(a, b)
#define VADD(a, b) _mm256_add_ps(a, b)
#define VZERO() _mm256_setzero_ps()
#define VTOH(v) _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VR16(v) _mm256_cvtph_ps(VTOH(v))
#define VSTOREH(p, v) _mm_storeu_si128((__m128i *)(p), VTOH(v))
#define VSTORE(p, v) _mm256_storeu_ps(p, v)
#elif FP16GEMM_ISA == 3
/* GNU C vector extensions (gcc, clang; any target): the rounding in arithmetic, no
 * conversion instructions. For |p| in binade 2^E with E clamped to [-14, 16], adding
 * c = 1.5 * 2^(E+13) leaves a sum whose ulp is 2^(E-10), the FP16 spacing at p (2^-24 for
 * subnormals), so (p + c) - c is p rounded to FP16 precision by the FPU (nearest even:
 * c is an even multiple of that spacing); the second subtraction is exact (Sterbenz).
 * Then multiplying by 2^112 overflows to inf exactly from 65536 = 2^16 (what 65520 and up
 * round to) and 2^-112 scales back exactly. */
#if defined(__AVX512F__)
#define VBYTES 64
#elif defined(__AVX__)
#define VBYTES 32
#else
#define VBYTES 16
#endif
typedef float vf __attribute__((vector_size(VBYTES)));
typedef int32_t vi __attribute__((vector_size(VBYTES)));
#define VL (VBYTES / 4)
#define MR 4
#define NR 2
static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline vf vbcast(const float *p)
{
    vf v;
    for (int l = 0; l < VL; l++)
        v[l] = *p;
    return v;
}
static inline vf vround16(vf p)
{
    vi a = (vi)p & 0x7f800000;
    vi lo = a < (113 << 23), hi = a > (143 << 23);    /* lanes below 2^-14, above 2^16 */
    a = (a & ~lo) | ((113 << 23) & lo);
    a = (a & ~hi) | ((143 << 23) & hi);
    vf c = (vf)((a + (13 << 23)) | 0x00400000);
    vf r = (p + c) - c;
    return (r * 0x1p112f) * 0x1p-112f;
}
static inline void vstoreh(uint16_t *o, vf v)
{
    for (int l = 0; l < VL; l++)
        o[l] = half_bits(v[l]);
}
#define VLOAD(p) vload(p)
#define VBCAST(p) vbcast(p)
#define VMUL(a, b) ((a) * (b))
#define VADD(a, b) ((a) + (b))
#define VZERO() ((vf){0})
#define VR16(v) vround16(v)
#define VSTOREH(p, v) vstoreh(p, v)
#define VSTORE(p, v) memcpy(p, &(v), sizeof(vf))
#else
typedef float vf;
#define VL 1
#define MR 4
#define NR 4
#define VLOAD(p) (*(p))
#define VBCAST(p) (*(p))
#define VMUL(a, b) ((a) * (b))
#define VADD(a, b) ((a) + (b))
#define VZERO() 0.0f
#define VR16(v) round16(v)
#define VSTOREH(p, v) (*(p) = half_bits(v))
#define VSTORE(p, v) (*(p) = (v))
#endif

/* Where the results go: FP16 bits, or float32 holding the FP16 values. */
typedef struct {
    void *p;
    int64_t ld;   /* row stride, elements */
    int f32;      /* nonzero: float32 */
} dest;

/* One block of mr rows by nr vectors of columns. mr, nr and acc16 are constants at every
 * call site, so the loops unroll and the accumulators stay in registers. The bias is one
 * per column (vectors at bias) or, with bias_rows, one per row (bias[i]). */
ALWAYS void block(const float *x, int64_t ldx, const float *w, int64_t ldw, const float *bias,
                  int bias_rows, dest out, int64_t kk, int64_t chunk, int acc16, int mr,
                  int nr)
{
    vf tot[MR][NR], s[MR][NR], wv[NR];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            tot[i][j] = VZERO();
    for (int64_t k0 = 0; k0 < kk; k0 += chunk) {
        int64_t k1 = k0 + chunk < kk ? k0 + chunk : kk;
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
                s[i][j] = VZERO();
        for (int64_t k = k0; k < k1; k++) {
            for (int j = 0; j < nr; j++)
                wv[j] = VLOAD(w + k * ldw + j * VL);
            for (int i = 0; i < mr; i++) {
                vf xv = VBCAST(x + i * ldx + k);
                for (int j = 0; j < nr; j++) {
                    vf p = VR16(VMUL(xv, wv[j]));    /* exact product, rounded to FP16 */
                    s[i][j] = VADD(s[i][j], p);
                    if (acc16)
                        s[i][j] = VR16(s[i][j]);
                }
            }
        }
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) {
                if (k0 == 0) {
                    tot[i][j] = s[i][j];
                } else {
                    tot[i][j] = VADD(tot[i][j], s[i][j]);
                    if (acc16)
                        tot[i][j] = VR16(tot[i][j]);
                }
            }
    }
    if (bias)
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) {
                vf b = bias_rows ? VBCAST(bias + i) : VLOAD(bias + j * VL);
                tot[i][j] = VADD(tot[i][j], b);
                if (acc16)
                    tot[i][j] = VR16(tot[i][j]);
            }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            if (out.f32) {
                vf r = VR16(tot[i][j]);
                VSTORE((float *)out.p + i * out.ld + j * VL, r);
            } else {
                VSTOREH((uint16_t *)out.p + i * out.ld + j * VL, tot[i][j]);
            }
        }
}

static inline dest shift(dest d, int64_t rows, int64_t cols)
{
    d.p = d.f32 ? (void *)((float *)d.p + rows * d.ld + cols)
                : (void *)((uint16_t *)d.p + rows * d.ld + cols);
    return d;
}

/* All m rows of one panel of nr vectors (MR rows at a time, then single rows). */
ALWAYS void panel(const float *x, int64_t ldx, const float *w, int64_t ldw, const float *bias,
                  int bias_rows, dest out, int64_t m, int64_t kk, int64_t chunk, int acc16,
                  int nr)
{
    int64_t i = 0;
    for (; i + MR <= m; i += MR)
        block(x + i * ldx, ldx, w, ldw, bias && bias_rows ? bias + i : bias, bias_rows,
              shift(out, i, 0), kk, chunk, acc16, MR, nr);
    for (; i < m; i++)
        block(x + i * ldx, ldx, w, ldw, bias && bias_rows ? bias + i : bias, bias_rows,
              shift(out, i, 0), kk, chunk, acc16, 1, nr);
}

static void panel_full(const float *x, int64_t ldx, const float *w, int64_t ldw,
                       const float *bias, int bias_rows, dest out, int64_t m, int64_t kk,
                       int64_t chunk, int acc16)
{
    if (acc16)
        panel(x, ldx, w, ldw, bias, bias_rows, out, m, kk, chunk, 1, NR);
    else
        panel(x, ldx, w, ldw, bias, bias_rows, out, m, kk, chunk, 0, NR);
}

static void panel_one(const float *x, int64_t ldx, const float *w, int64_t ldw,
                      const float *bias, int bias_rows, dest out, int64_t m, int64_t kk,
                      int64_t chunk, int acc16)
{
    if (acc16)
        panel(x, ldx, w, ldw, bias, bias_rows, out, m, kk, chunk, 1, 1);
    else
        panel(x, ldx, w, ldw, bias, bias_rows, out, m, kk, chunk, 0, 1);
}

/* Which path this build uses: 0 scalar C, 1 AVX + F16C (8 lanes), 2 AVX-512F (16 lanes),
 * 3 GNU C vectors with the arithmetic rounding. */
int fp16gemm_isa(void) { return FP16GEMM_ISA; }

/* The FP16 bits of fl16(f) for n floats (the portable rounding, for tests). */
void fp16gemm_half_bits(const float *f, uint16_t *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = half_bits(f[i]);
}

#define PW (NR * VL)   /* columns per panel */
#define SCR_ROWS 64    /* rows per pass through the scratch block of a ragged last panel */

/* nv (1 ... NR) vectors of a packed panel (row stride PW). */
static void panel_cols(int nv, const float *x, int64_t ldx, const float *pk, const float *bias,
                       int bias_rows, dest out, int64_t m, int64_t kk, int64_t chunk,
                       int acc16)
{
    if (nv == NR) {
        panel_full(x, ldx, pk, PW, bias, bias_rows, out, m, kk, chunk, acc16);
        return;
    }
    for (int v = 0; v < nv; v++)
        panel_one(x, ldx, pk + v * VL, PW, bias && !bias_rows ? bias + v * VL : bias,
                  bias_rows, shift(out, 0, v * VL), m, kk, chunk, acc16);
}

/* A convolution's right operand, read in place: the im2col columns (kk = C*kh*kw rows
 * ordered (c, r, s), n = Ho*Wo columns) of one image (C, H, W) with zero padding. */
typedef struct {
    const float *in;
    int64_t h, w, kh, kw, sh, sw, ph, pw, dh, dw, wo;
} conv;

/* Columns j ... j+cols-1 of the im2col matrix of cv into pk (row stride PW, zeros past). */
static void pack_conv(float *pk, const conv *cv, int64_t j, int64_t cols, int64_t kk)
{
    int64_t h0[PW], w0[PW];
    for (int64_t q = 0; q < cols; q++) {
        int64_t l = j + q;
        h0[q] = (l / cv->wo) * cv->sh - cv->ph;
        w0[q] = (l % cv->wo) * cv->sw - cv->pw;
    }
    int64_t taps = cv->kh * cv->kw;
    for (int64_t k = 0; k < kk; k++) {
        int64_t c = k / taps, r = (k % taps) / cv->kw, t = k % cv->kw;
        const float *plane = cv->in + c * cv->h * cv->w;
        float *row = pk + k * PW;
        for (int64_t q = 0; q < cols; q++) {
            int64_t ih = h0[q] + r * cv->dh, iw = w0[q] + t * cv->dw;
            row[q] = (uint64_t)ih < (uint64_t)cv->h && (uint64_t)iw < (uint64_t)cv->w
                         ? plane[ih * cv->w + iw] : 0.0f;
        }
        for (int64_t q = cols; q < PW; q++)
            row[q] = 0.0f;
    }
}

/* One GEMM: out (m, n) = x (m, kk) @ w (kk, n) (+ bias). Each panel of PW columns of w is
 * first copied to pk (row stride PW, 64-byte aligned, zeros past n): the kernel's loads
 * then never straddle cache lines whatever w's row stride (a straddling row stride made it
 * 2x slower), and a ragged last panel needs no special loads. Its results go through the
 * scratch block scr (float32, SCR_ROWS x PW) and are copied out. */
static void gemm1(const float *x, int64_t ldx, const float *w, int64_t ldw, const conv *cv,
                  const float *bias, int bias_rows, dest out, int64_t m, int64_t kk, int64_t n,
                  int64_t chunk, int acc16, float *pk, float *bp, float *scr)
{
    for (int64_t j = 0; j < n; j += PW) {
        int64_t cols = n - j < PW ? n - j : PW;
        if (cv)
            pack_conv(pk, cv, j, cols, kk);
        else
            for (int64_t k = 0; k < kk; k++) {
                memcpy(pk + k * PW, w + k * ldw + j, (size_t)cols * sizeof(float));
                if (cols < PW)
                    memset(pk + k * PW + cols, 0, (size_t)(PW - cols) * sizeof(float));
            }
        const float *bj = bias;
        if (bias && !bias_rows) {
            memcpy(bp, bias + j, (size_t)cols * sizeof(float));
            if (cols < PW)
                memset(bp + cols, 0, (size_t)(PW - cols) * sizeof(float));
            bj = bp;
        }
        int nv = (int)((cols + VL - 1) / VL);
        if (cols % VL == 0) {
            panel_cols(nv, x, ldx, pk, bj, bias_rows, shift(out, 0, j), m, kk, chunk, acc16);
            continue;
        }
        for (int64_t i0 = 0; i0 < m; i0 += SCR_ROWS) {
            int64_t rows = m - i0 < SCR_ROWS ? m - i0 : SCR_ROWS;
            dest d = {scr, PW, 1};
            panel_cols(nv, x + i0 * ldx, ldx, pk, bj && bias_rows ? bj + i0 : bj, bias_rows, d,
                       rows, kk, chunk, acc16);
            for (int64_t i = 0; i < rows; i++) {
                if (out.f32)
                    memcpy((float *)out.p + (i0 + i) * out.ld + j, scr + i * PW,
                           (size_t)cols * sizeof(float));
                else
                    for (int64_t c = 0; c < cols; c++)
                        ((uint16_t *)out.p)[(i0 + i) * out.ld + j + c] = half_bits(scr[i * PW + c]);
            }
        }
    }
}

/* Work memory of one GEMM: the packed weight panel (kk x PW, 64-byte aligned), the bias
 * panel (PW) and the scratch rows (SCR_ROWS x PW). Returns the block to free (NULL when
 * out of memory) and sets the three pointers into it. */
static float *panels(int64_t kk, float **pk, float **bp, float **scr)
{
    int64_t kp = kk > 0 ? kk : 1;
    float *raw = malloc(((size_t)kp * PW + PW + (size_t)SCR_ROWS * PW + 16) * sizeof(float));
    if (!raw)
        return NULL;
    *pk = (float *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    *bp = *pk + kp * PW;
    *scr = *bp + PW;
    return raw;
}

/* The nb products of fp16gemm_batched (cv0 NULL: w_b = w + b*sw) and fp16gemm_conv (the
 * columns of cv0's image b, at cv0->in + b*sin), with one set of packing panels. */
static int gemms(const float *x, int64_t ldx, int64_t sx, const float *w, int64_t ldw,
                 int64_t sw, const conv *cv0, int64_t sin, const float *bias, int bias_rows,
                 void *out, int64_t ldo, int64_t so, int out_f32, int64_t m, int64_t kk,
                 int64_t n, int64_t nb, int64_t chunk, int acc16)
{
    if (m <= 0 || n <= 0)
        return 0;
    if (chunk < 1)
        chunk = kk > 0 ? kk : 1;
    float *pk, *bp, *scr;
    float *raw = panels(kk, &pk, &bp, &scr);
    if (!raw)
        return -1;
    for (int64_t b = 0; b < nb; b++) {
        dest d = {out, ldo, out_f32};
        d = shift(d, 0, b * so);
        if (cv0) {
            conv cv = *cv0;
            cv.in += b * sin;
            gemm1(x + b * sx, ldx, 0, 0, &cv, bias, bias_rows, d, m, kk, n, chunk, acc16, pk,
                  bp, scr);
        } else {
            gemm1(x + b * sx, ldx, w + b * sw, ldw, 0, bias, bias_rows, d, m, kk, n, chunk,
                  acc16, pk, bp, scr);
        }
    }
    free(raw);
    return 0;
}

/* nb GEMMs out_b (m, n) = x_b (m, kk) @ w_b (kk, n) (+ bias), b = 0 ... nb-1 (sx = 0: one
 * x shared by all).
 *
 * x, w, bias: float32 holding FP16 values (the caller rounds them). Row strides ldx, ldw,
 * ldo and batch strides sx, sw, so (elements). bias: none (NULL), one per column (n,) or, with
 * bias_rows, one per row (m,). out: FP16 bits, or with out_f32 float32 holding the FP16
 * values. chunk >= 1: the fold (kk or more for none). acc16 nonzero: FP16 accumulator, else
 * FP32. Returns 0, or -1 if the packing buffer cannot be allocated.
 *
 * With x the weights (C_out, K) and w the im2col columns (K, L) of each image, out is a
 * convolution's output (C_out, L) as NCHW stores it: the products commute exactly and the
 * order over k is the same, so this is the GEMM of npu/fp16.py transposed. */
int fp16gemm_batched(const float *x, int64_t ldx, int64_t sx, const float *w, int64_t ldw,
                     int64_t sw,
                     const float *bias, int bias_rows, void *out, int64_t ldo, int64_t so,
                     int out_f32, int64_t m, int64_t kk, int64_t n, int64_t nb, int64_t chunk,
                     int acc16)
{
    return gemms(x, ldx, sx, w, ldw, sw, 0, 0, bias, bias_rows, out, ldo, so, out_f32, m, kk, n,
                 nb, chunk, acc16);
}

/* nb convolutions, one per image, without an im2col matrix: out_b (m, Ho*Wo) = x (m, kk) @
 * im2col(in_b) (kk = C*kh*kw, (c, r, s) order as torch's unfold) (+ bias (m,) per row).
 * in: images (C, H, W) at batch stride sin; x the weights (m, kk), row stride ldx; out
 * row stride ldo, batch stride so, FP16 bits or float32 (out_f32). The columns are
 * gathered straight into the packed panel; the arithmetic is fp16gemm_batched's. */
int fp16gemm_conv(const float *x, int64_t ldx, const float *in, int64_t sin, int64_t h,
                  int64_t w, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                  int64_t pw, int64_t dh, int64_t dw, int64_t ho, int64_t wo, const float *bias,
                  void *out, int64_t ldo, int64_t so, int out_f32, int64_t m, int64_t kk,
                  int64_t nb, int64_t chunk, int acc16)
{
    conv cv = {in, h, w, kh, kw, sh, sw, ph, pw, dh, dw, wo};
    return gemms(x, ldx, 0, 0, 0, 0, &cv, sin, bias, 1, out, ldo, so, out_f32, m, kk, ho * wo,
                 nb, chunk, acc16);
}

/* out (m, n) FP16 bits = x (m, kk) @ w (kk, n) (+ bias (n,)): fp16gemm_batched with nb = 1. */
int fp16gemm_f32(const float *x, int64_t ldx, const float *w, int64_t ldw, const float *bias,
                 uint16_t *out, int64_t ldo, int64_t m, int64_t kk, int64_t n, int64_t chunk,
                 int acc16)
{
    return fp16gemm_batched(x, ldx, 0, w, ldw, 0, bias, 0, out, ldo, 0, 0, m, kk, n, 1, chunk,
                            acc16);
}
