/*
 * Fast exact Gaussian draws fused with the ADC of the crossbar's fused forward.
 *
 * Compiled at first use by crossbar/fastnoise.py with the system C compiler and loaded with
 * ctypes; plain C99, no libm, no headers beyond <stdint.h>/<stdlib.h>/<string.h>.
 *
 * Generator: xoshiro256++ (Blackman & Vigna, "Scrambled linear pseudorandom number
 * generators", ACM TOMS 47(4), 2021, https://prng.di.unimi.it/xoshiro256plusplus.c), 16
 * independent lanes stepped together so that the compiler vectorises the step; the lanes
 * are seeded with SplitMix64 (Steele, Lea & Flood, OOPSLA 2014), as the xoshiro authors
 * recommend: the state of input vector v is outputs 64 v + 1 ... 64 v + 64 of the SplitMix64
 * sequence that starts at the call's seed (distinct, since SplitMix64 is a bijection of its
 * counter), so a vector's noise depends only on the seed and its index in the batch: a
 * batch gives the same numbers in one piece, in chunks or split over threads.
 *
 * Normals: the Box-Muller transform (Box & Muller, Ann. Math. Stat. 29(2):610-611, 1958):
 * for U1 uniform on (0, 1] and theta uniform on [0, 2*pi), R = sqrt(-2 ln U1) and
 * (R cos theta, R sin theta) are two independent standard normals, exactly. Here
 *   U1    = (k1 + 1/2) * 2^-31 rounded to float, k1 the top 31 bits of a 32-bit draw: the
 *           smallest U1 is 2^-32, so |z| reaches sqrt(64 ln 2) = 6.66 (the normal puts
 *           2.7e-11 of its mass beyond; nothing else is cut);
 *   theta = (pi/2) q + a, q = 2 bits (the quadrant), a = (pi/2) (f + 1/2) / 2^24 - pi/4
 *           from 24 more bits, uniform on [-pi/4, pi/4): a uniform angle on a full turn.
 * ln m for m in [sqrt(1/2), sqrt(2)) is 2 atanh(s), s = (m - 1)/(m + 1), |s| < 0.172, by
 * its series to s^9 (truncation 2e-9 relative; 1.5e-7 worst relative error in float over
 * all U1, checked against libm); sin and cos are Cephes' single-precision minimax
 * polynomials (S. L. Moshier, Cephes Math Library, sinf.c; ~1 ulp on [-pi/4, pi/4]). No
 * branches, so that the loops vectorise; no call into libm.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LANES 16
#define PAIRS 32 /* normal pairs per block: two 32-bit halves of each lane's word */
#define BLOCK (2 * PAIRS)

typedef struct {
    uint64_t s[4][LANES];
} fn_state;

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

#define GAMMA 0x9e3779b97f4a7c15ULL

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The lanes of input vector v: SplitMix64 outputs 64 v + 1 ... 64 v + 64 from seed. */
static inline void fn_seed_at(fn_state *st, uint64_t seed, uint64_t v) {
    uint64_t *w = &st->s[0][0];
    uint64_t base = seed + 4 * LANES * v * GAMMA;
    for (int i = 0; i < 4 * LANES; i++) w[i] = mix64(base + (uint64_t)(i + 1) * GAMMA);
}

/* One xoshiro256++ step of every lane: LANES 64-bit words. */
static inline void fn_step(fn_state *restrict st, uint64_t *restrict out) {
    for (int i = 0; i < LANES; i++) {
        uint64_t s0 = st->s[0][i], s1 = st->s[1][i], s2 = st->s[2][i], s3 = st->s[3][i];
        out[i] = rotl64(s0 + s3, 23) + s0;
        uint64_t t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = rotl64(s3, 45);
        st->s[0][i] = s0;
        st->s[1][i] = s1;
        st->s[2][i] = s2;
        st->s[3][i] = s3;
    }
}

static inline float as_float(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint32_t as_uint(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Natural log of x in [2^-32, 1]: x = m 2^e, m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s). */
static inline float fn_logf(float x) {
    uint32_t b = as_uint(x) - 0x3f3504f3u; /* 0x3f3504f3: sqrt(1/2) */
    int32_t e = (int32_t)b >> 23;
    float m = as_float((b & 0x007fffffu) + 0x3f3504f3u);
    float s = (m - 1.0f) / (m + 1.0f);
    float z = s * s;
    float p = ((0.2222222222f * z + 0.2857142857f) * z + 0.4f) * z + 0.6666666667f;
    float fe = (float)e; /* ln 2 = 0.693359375 - 2.12194440e-4, the first part exact */
    return fe * 0.693359375f + (2.0f * s + (s * z * p + fe * -2.12194440e-4f));
}

/* 64 standard normals from two steps of the generator (32 Box-Muller pairs). */
static inline void fn_block(fn_state *restrict st, float *restrict out) {
    uint64_t wa[LANES], wb[LANES];
    uint32_t ka[PAIRS], kb[PAIRS];
    fn_step(st, wa);
    fn_step(st, wb);
    memcpy(ka, wa, sizeof ka);
    memcpy(kb, wb, sizeof kb);
    for (int i = 0; i < PAIRS; i++) {
        /* radius: U1 = (k1 + 1/2) 2^-31 in (0, 1] */
        float u1 = ((float)(int32_t)(ka[i] >> 1) + 0.5f) * 4.656612873077393e-10f;
        float rad = -2.0f * fn_logf(u1);
        rad = rad > 0.0f ? rad : 0.0f; /* U1 = 1 (rounded): radius 0, not sqrt(-0) */
        rad = __builtin_sqrtf(rad);
        /* angle: quadrant q (top 2 bits), a uniform on [-pi/4, pi/4) (next 24 bits) */
        uint32_t q = kb[i] >> 30;
        float f = (float)((int32_t)((kb[i] >> 6) & 0xffffffu) - 0x800000) + 0.5f;
        float a = f * 9.362405085e-8f; /* (pi/2) / 2^24 */
        float z = a * a;
        float sn = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * a + a;
        float cs = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z
                    + 4.166664568298827e-2f) * z * z - 0.5f * z + 1.0f;
        /* rotate (cos a, sin a) by q quarter turns */
        float c = (q & 1) ? -sn : cs;
        float s = (q & 1) ? cs : sn;
        c = (q & 2) ? -c : c;
        s = (q & 2) ? -s : s;
        out[i] = rad * c;
        out[PAIRS + i] = rad * s;
    }
}

/* Fill out[0..n) with standard normals: the stream of vector 0 of seed. */
void fn_normal_f32(uint64_t seed, float *out, int64_t n) {
    fn_state st;
    float buf[BLOCK];
    fn_seed_at(&st, seed, 0);
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) fn_block(&st, out + i);
    if (i < n) {
        fn_block(&st, buf);
        memcpy(out + i, buf, (size_t)(n - i) * sizeof(float));
    }
}

/*
 * The crossbar's fused conversion of one chunk of vectors: for each vector b, row tile t
 * and tile-output column j (m = Tc*Kw*S columns),
 *     v = sig[t, b, j] + eps * noise[t, j]        (eps: a fresh standard normal)
 *     v = round(clamp(v, -half, half - 1))        (ADC, if half > 0; ties to even)
 *     out[b, j / s] += v * post[t, j] * r[b, t]   (scales, slices, input range; sum over t)
 * sig rows are at sig + t * sig_ts + b * sig_bs (m contiguous floats); noise may be NULL
 * (no output noise, no draw); r at r + b * r_bs + t * r_ts (strides 0 for one range). The
 * normals of vector b (index v0 + b in the batch) are the stream of that index from seed,
 * ceil(m / 64) blocks per row tile in the order of t.
 * Returns 0, or -1 if the scratch buffer cannot be allocated.
 */
int fn_fused_adc_f32(const float *sig, int64_t tr, int64_t nb, int64_t m, int64_t sig_ts,
                     int64_t sig_bs, const float *noise, const float *post, const float *r,
                     int64_t r_bs, int64_t r_ts, float half, int64_t s, uint64_t seed,
                     int64_t v0, float *out, int64_t out_bs) {
    int64_t mb = (m + BLOCK - 1) / BLOCK * BLOCK;
    float *eps = (float *)malloc((size_t)(mb + m) * sizeof(float));
    if (eps == NULL) return -1;
    float *acc = eps + mb;
    fn_state st;
    const float lo = -half, hi = half - 1.0f;
    const float magic = 12582912.0f; /* 1.5 * 2^23: x + magic - magic rounds |x| < 2^22 */
    for (int64_t b = 0; b < nb; b++) {
        for (int64_t j = 0; j < m; j++) acc[j] = 0.0f;
        if (noise != NULL) fn_seed_at(&st, seed, (uint64_t)(v0 + b));
        for (int64_t t = 0; t < tr; t++) {
            const float *row = sig + t * sig_ts + b * sig_bs;
            const float *pt = post + t * m;
            const float rr = r[b * r_bs + t * r_ts];
            if (noise != NULL) {
                for (int64_t j = 0; j < mb; j += BLOCK) fn_block(&st, eps + j);
                const float *nt = noise + t * m;
                if (half > 0.0f) {
                    for (int64_t j = 0; j < m; j++) {
                        float v = row[j] + eps[j] * nt[j];
                        v = v < lo ? lo : v;
                        v = v > hi ? hi : v;
                        v = (v + magic) - magic;
                        acc[j] += v * (pt[j] * rr);
                    }
                } else {
                    for (int64_t j = 0; j < m; j++) acc[j] += (row[j] + eps[j] * nt[j]) * (pt[j] * rr);
                }
            } else if (half > 0.0f) {
                for (int64_t j = 0; j < m; j++) {
                    float v = row[j];
                    v = v < lo ? lo : v;
                    v = v > hi ? hi : v;
                    v = (v + magic) - magic;
                    acc[j] += v * (pt[j] * rr);
                }
            } else {
                for (int64_t j = 0; j < m; j++) acc[j] += row[j] * (pt[j] * rr);
            }
        }
        float *o = out + b * out_bs;
        if (s == 1) {
            memcpy(o, acc, (size_t)m * sizeof(float));
        } else {
            for (int64_t j = 0; j < m / s; j++) {
                float v = 0.0f;
                for (int64_t k = 0; k < s; k++) v += acc[j * s + k];
                o[j] = v;
            }
        }
    }
    free(eps);
    return 0;
}
