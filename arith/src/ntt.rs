//! Multiplication of large numbers by number-theoretic transforms (NTT): exact, no floating
//! point.
//!
//! Each 64-bit limb is one coefficient. The product's coefficients (convolution sums) are
//! below `min(len a, len b) · 2^128`, so three primes just under 2^62, whose product exceeds
//! 2^185, determine them by the Chinese remainder theorem for any operand below 2^57 limbs.
//! Per prime: two forward transforms (one for a square), a pointwise product and one inverse
//! transform, all of length L = the power of two at or above the product's limb count.
//!
//! The arithmetic mod p follows Harvey's lazy butterflies (values kept in [0, 2p) or [0, 4p),
//! reduced only where a bound would otherwise be exceeded, which 4p < 2^64 allows) with
//! Montgomery multiplication (R = 2^64) by twiddle factors stored in Montgomery form. The
//! forward transform is decimation in frequency (natural order in, bit-reversed out), the
//! inverse decimation in time (bit-reversed in, natural out), so no permutation is needed. Both
//! recurse depth-first until a block fits the L1 cache, then run their stages iteratively.
//!
//! The twiddle factors of every length up to [`TABLE_LEN`] are kept in one table per prime
//! (w_m^i at index m/2 + i), shared by all threads and grown on demand up to that length; the
//! inverse transform reads the same table backwards (w_m^−i = −w_m^(m/2 − i)). The few stages
//! of longer transforms compute their twiddles as they go (64 powers, then one multiplication
//! per twiddle), so that ten million digits do not keep 48 MB of tables.

use std::sync::{Arc, Mutex};

use crate::nat::Nat;

/// The primes: c·2^k + 1 just below 2^62 (k = 34, 36, 35), so 4p < 2^64 and transforms up to
/// 2^34 points exist. Each has 3 | p − 1 as well.
pub const PRIMES: [u64; 3] = [
    0x3fff_ffb4_0000_0001,
    0x3fff_ff30_0000_0001,
    0x3fff_ff18_0000_0001,
];
/// A generator of the multiplicative group of each prime.
const GENERATORS: [u64; 3] = [19, 5, 5];
/// The longest transform the primes allow.
pub const MAX_LOG_LEN: u32 = 34;

/// Below this many points a transform runs its stages iteratively, in cache.
const BLOCK: usize = 1 << 11;
/// The longest stage whose twiddles come from the table (1.5 MB for the three primes).
pub const TABLE_LEN: usize = 1 << 16;

/// The generator of P's multiplicative group.
const fn generator(p: u64) -> u64 {
    let mut i = 0;
    while i < PRIMES.len() {
        if PRIMES[i] == p {
            return GENERATORS[i];
        }
        i += 1;
    }
    panic!("not one of the NTT primes")
}

// ---- arithmetic mod P, with P a constant so that the compiler folds everything ----

const fn pow_mod(base: u64, mut e: u64, p: u64) -> u64 {
    let mut result = 1u128;
    let mut b = base as u128 % p as u128;
    while e > 0 {
        if e & 1 == 1 {
            result = result * b % p as u128;
        }
        b = b * b % p as u128;
        e >>= 1;
    }
    result as u64
}

/// −P⁻¹ mod 2^64, by Newton's iteration on the inverse (each step doubles the correct bits).
const fn neg_inverse(p: u64) -> u64 {
    let mut x = p; // correct to 3 bits for odd p
    let mut i = 0;
    while i < 6 {
        x = x.wrapping_mul(2u64.wrapping_sub(p.wrapping_mul(x)));
        i += 1;
    }
    x.wrapping_neg()
}

/// R mod P and R² mod P for R = 2^64.
const fn r_mod(p: u64) -> u64 {
    ((1u128 << 64) % p as u128) as u64
}
const fn r2_mod(p: u64) -> u64 {
    let r = r_mod(p) as u128;
    (r * r % p as u128) as u64
}

/// `a·b·R⁻¹ mod P`, in [0, 2P) whenever a·b < 2^64·P.
#[inline(always)]
fn mont_mul<const P: u64>(a: u64, b: u64) -> u64 {
    let ninv: u64 = const { neg_inverse(P) };
    let t = a as u128 * b as u128;
    let m = (t as u64).wrapping_mul(ninv);
    // (t + m·P) / 2^64: the low halves add up to 0 mod 2^64, with a carry iff t's is not 0.
    let mp_high = ((m as u128 * P as u128) >> 64) as u64;
    ((t >> 64) as u64) + mp_high + (t as u64 != 0) as u64
}

/// `x` in [0, 2P) → [0, P).
#[inline(always)]
fn reduce_once<const P: u64>(x: u64) -> u64 {
    if x >= P {
        x - P
    } else {
        x
    }
}

/// `x` in [0, 4P) → [0, 2P).
#[inline(always)]
fn reduce_2p<const P: u64>(x: u64) -> u64 {
    if x >= 2 * P {
        x - 2 * P
    } else {
        x
    }
}

/// Montgomery form of `x < P`.
fn to_mont<const P: u64>(x: u64) -> u64 {
    reduce_once::<P>(mont_mul::<P>(x, const { r2_mod(P) }))
}

// ---- twiddle tables ----

/// `roots[m/2 + i] = w_m^i · R mod P` for every power of two m ≤ len, i < m/2, where w_m is a
/// primitive m-th root of unity with w_m = w_2m².
struct Roots {
    len: usize,
    tables: [Vec<u64>; 3],
}

static ROOTS: Mutex<Option<Arc<Roots>>> = Mutex::new(None);

/// The twiddle tables for transforms of up to `len` points (grown if needed).
fn roots(len: usize) -> Arc<Roots> {
    let mut cached = ROOTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(roots) = cached.as_ref() {
        if roots.len >= len {
            return Arc::clone(roots);
        }
    }
    // Grow to at least 2^12 points at once, and to at most TABLE_LEN.
    let len = len.clamp(1 << 12, TABLE_LEN);
    let roots = Arc::new(Roots {
        len,
        tables: [
            root_table::<{ PRIMES[0] }>(GENERATORS[0], len),
            root_table::<{ PRIMES[1] }>(GENERATORS[1], len),
            root_table::<{ PRIMES[2] }>(GENERATORS[2], len),
        ],
    });
    *cached = Some(Arc::clone(&roots));
    roots
}

fn root_table<const P: u64>(generator: u64, len: usize) -> Vec<u64> {
    debug_assert!(len.is_power_of_two() && len >= 2);
    let mut table = vec![0u64; len];
    let half = len / 2;
    // The top level, w_len^i for i < len/2, one multiplication each…
    let w = to_mont::<P>(pow_mod(generator, (P - 1) / len as u64, P));
    let mut x = const { r_mod(P) } % P; // 1 in Montgomery form
    for slot in &mut table[half..] {
        *slot = x;
        x = reduce_once::<P>(mont_mul::<P>(x, w));
    }
    // …and every lower level is every other entry of the level above: w_m^i = w_2m^(2i).
    let mut m = half;
    while m >= 2 {
        for i in 0..m / 2 {
            table[m / 2 + i] = table[m + 2 * i];
        }
        m /= 2;
    }
    table
}

// ---- transforms ----

/// Forward transform in place: natural order in [0, 2P) → bit-reversed order in [0, 2P).
fn forward<const P: u64>(x: &mut [u64], roots: &[u64]) {
    let m = x.len();
    if m <= BLOCK {
        forward_block::<P>(x, roots);
        return;
    }
    let half = m / 2;
    let (lo, hi) = x.split_at_mut(half);
    if m > TABLE_LEN {
        forward_stage_computed::<P>(lo, hi, root_of_unity::<P>(m, false));
    } else {
        forward_stage::<P>(lo, hi, &roots[half..m]);
    }
    forward::<P>(lo, roots);
    forward::<P>(hi, roots);
}

fn forward_block<const P: u64>(x: &mut [u64], roots: &[u64]) {
    let mut m = x.len();
    while m >= 2 {
        let half = m / 2;
        let twiddles = &roots[half..m];
        for chunk in x.chunks_exact_mut(m) {
            let (lo, hi) = chunk.split_at_mut(half);
            forward_stage::<P>(lo, hi, twiddles);
        }
        m = half;
    }
}

/// Gentleman–Sande butterflies: (a, b) → (a + b, (a − b)·w).
#[inline(always)]
fn forward_stage<const P: u64>(lo: &mut [u64], hi: &mut [u64], twiddles: &[u64]) {
    for ((a, b), &w) in lo.iter_mut().zip(hi.iter_mut()).zip(twiddles) {
        let (x, y) = (*a, *b);
        *a = reduce_2p::<P>(x + y);
        *b = mont_mul::<P>(x + 2 * P - y, w);
    }
}

/// Inverse transform in place, without the 1/L: bit-reversed order in [0, 2P) → natural
/// order in [0, 4P).
fn inverse<const P: u64>(x: &mut [u64], roots: &[u64]) {
    let m = x.len();
    if m <= BLOCK {
        inverse_block::<P>(x, roots);
        return;
    }
    let half = m / 2;
    let (lo, hi) = x.split_at_mut(half);
    inverse::<P>(lo, roots);
    inverse::<P>(hi, roots);
    if m > TABLE_LEN {
        inverse_stage_computed::<P>(lo, hi, root_of_unity::<P>(m, true));
    } else {
        inverse_stage::<P>(lo, hi, &roots[half..m]);
    }
}

/// w_m (or w_m⁻¹) in Montgomery form: the same roots as the table's, whose w_m/2 is w_m².
fn root_of_unity<const P: u64>(m: usize, inverse: bool) -> u64 {
    let w = pow_mod(generator(P), (P - 1) / m as u64, P);
    to_mont::<P>(if inverse {
        pow_mod(w, m as u64 - 1, P)
    } else {
        w
    })
}

/// The twiddles w^i of a stage, i < lo.len() (a multiple of 64), 64 at a time: w^(64j + k) =
/// w^(64j)·w^k, with the 64 powers w^k and one running power w^(64j), all in Montgomery form.
#[inline(always)]
fn for_each_twiddle<const P: u64>(
    lo: &mut [u64],
    hi: &mut [u64],
    w: u64,
    mut butterfly: impl FnMut(&mut u64, &mut u64, u64),
) {
    let one = const { r_mod(P) } % P;
    let mut powers = [0u64; 64];
    powers[0] = one;
    for k in 1..64 {
        powers[k] = reduce_once::<P>(mont_mul::<P>(powers[k - 1], w));
    }
    let step = reduce_once::<P>(mont_mul::<P>(powers[63], w));
    let mut running = one;
    for (lo, hi) in lo.chunks_exact_mut(64).zip(hi.chunks_exact_mut(64)) {
        for ((a, b), &power) in lo.iter_mut().zip(hi.iter_mut()).zip(&powers) {
            butterfly(a, b, reduce_once::<P>(mont_mul::<P>(running, power)));
        }
        running = reduce_once::<P>(mont_mul::<P>(running, step));
    }
}

/// [`forward_stage`] with twiddles computed from w = w_m.
fn forward_stage_computed<const P: u64>(lo: &mut [u64], hi: &mut [u64], w: u64) {
    for_each_twiddle::<P>(lo, hi, w, |a, b, twiddle| {
        let (x, y) = (*a, *b);
        *a = reduce_2p::<P>(x + y);
        *b = mont_mul::<P>(x + 2 * P - y, twiddle);
    });
}

/// [`inverse_stage`] with twiddles computed from w = w_m⁻¹.
fn inverse_stage_computed<const P: u64>(lo: &mut [u64], hi: &mut [u64], w: u64) {
    for_each_twiddle::<P>(lo, hi, w, |a, b, twiddle| {
        let x = reduce_2p::<P>(*a);
        let t = mont_mul::<P>(*b, twiddle);
        *a = x + t;
        *b = x + 2 * P - t;
    });
}

fn inverse_block<const P: u64>(x: &mut [u64], roots: &[u64]) {
    let mut m = 2;
    while m <= x.len() {
        let half = m / 2;
        let twiddles = &roots[half..m];
        for chunk in x.chunks_exact_mut(m) {
            let (lo, hi) = chunk.split_at_mut(half);
            inverse_stage::<P>(lo, hi, twiddles);
        }
        m *= 2;
    }
}

/// Cooley–Tukey butterflies with w^−i: (a, b) → (a + b·w^−i, a − b·w^−i), where
/// w^−i = −w^(half − i) for i > 0 (so the table of w^i serves, read backwards).
#[inline(always)]
fn inverse_stage<const P: u64>(lo: &mut [u64], hi: &mut [u64], twiddles: &[u64]) {
    let half = lo.len();
    // i = 0: w^0 = 1.
    let a = reduce_2p::<P>(lo[0]);
    let t = reduce_2p::<P>(hi[0]);
    lo[0] = a + t;
    hi[0] = a + 2 * P - t;
    for i in 1..half {
        let a = reduce_2p::<P>(lo[i]);
        // u = b·w^(half − i) = −b·w^−i
        let u = mont_mul::<P>(hi[i], twiddles[half - i]);
        lo[i] = a + 2 * P - u;
        hi[i] = a + u;
    }
}

/// `x mod P` in natural order, zero-padded to `len` points, then transformed.
fn load_forward<const P: u64>(x: &[u64], len: usize, roots: &[u64]) -> Vec<u64> {
    let mut v = Vec::with_capacity(len);
    v.extend(x.iter().map(|&limb| limb % P));
    v.resize(len, 0);
    forward::<P>(&mut v, roots);
    v
}

/// Inverse transform and the scaling that undoes the pointwise products' factor R⁻¹ and the
/// inverse's factor `len`: coefficients mod P in [0, P), natural order.
fn inverse_scaled<const P: u64>(x: &mut [u64], roots: &[u64]) {
    inverse::<P>(x, roots);
    let scale = mont_mul::<P>(
        to_mont::<P>(pow_mod(x.len() as u64, P - 2, P)),
        const { r2_mod(P) },
    );
    let scale = reduce_once::<P>(scale);
    for v in x.iter_mut() {
        *v = reduce_once::<P>(mont_mul::<P>(*v, scale));
    }
}

/// The product's coefficients mod P, in natural order, in [0, P): `a·b` (or `a²` when `b` is
/// `None`) as a cyclic convolution of length `len`.
fn convolve<const P: u64>(a: &[u64], b: Option<&[u64]>, len: usize, roots: &[u64]) -> Vec<u64> {
    let mut fa = load_forward::<P>(a, len, roots);
    match b {
        None => {
            for x in fa.iter_mut() {
                *x = mont_mul::<P>(*x, *x);
            }
        }
        Some(b) => {
            let fb = load_forward::<P>(b, len, roots);
            for (x, &y) in fa.iter_mut().zip(&fb) {
                *x = mont_mul::<P>(*x, y);
            }
        }
    }
    inverse_scaled::<P>(&mut fa, roots);
    fa
}

/// For each output, the coefficients mod P of its sum of products of inputs, each input
/// transformed once however many products use it.
fn sums_of_products_mod<const P: u64>(
    inputs: &[&[u64]],
    outputs: &[&[(usize, usize)]],
    len: usize,
    roots: &[u64],
) -> Vec<Vec<u64>> {
    let transformed: Vec<Vec<u64>> = inputs
        .iter()
        .map(|x| load_forward::<P>(x, len, roots))
        .collect();
    outputs
        .iter()
        .map(|pairs| {
            // Each pointwise product is in [0, 2P); two of them stay below 4P, which the
            // inverse transform accepts.
            let mut sum = vec![0u64; len];
            for &(i, j) in pairs.iter() {
                let (x, y) = (&transformed[i], &transformed[j]);
                for ((s, &a), &b) in sum.iter_mut().zip(x).zip(y) {
                    *s += mont_mul::<P>(a, b);
                }
            }
            inverse_scaled::<P>(&mut sum, roots);
            sum
        })
        .collect()
}

/// The longest transform [`sums_of_products`] is used for by Chudnovsky's merge: above it the
/// shared transforms (five inputs and two outputs for each prime, 11 arrays of this length
/// instead of a product's 4) would dominate the peak memory of ten million digits.
pub const SHARED_TRANSFORMS_MAX_LEN: usize = 1 << 19;

/// Sums of products, each input transformed once: `outputs[k]` lists the pairs (i, j) of
/// `inputs` whose products add up to the k-th result (at most two pairs each). For
/// Chudnovsky's merge, T = T1·Q2 + P1·T2 and Q = Q1·Q2 share Q2's transform and need one
/// inverse transform each: 7 transforms instead of 9.
pub fn sums_of_products(inputs: &[&[u64]], outputs: &[&[(usize, usize)]]) -> Vec<Nat> {
    assert!(
        outputs.iter().all(|pairs| pairs.len() <= 2),
        "at most two products per sum"
    );
    let product_len = |pairs: &[(usize, usize)]| {
        pairs
            .iter()
            .map(|&(i, j)| inputs[i].len() + inputs[j].len())
            .max()
            .unwrap_or(0)
    };
    let len = transform_len(
        outputs
            .iter()
            .map(|p| product_len(p))
            .max()
            .unwrap_or(1)
            .max(1),
    );
    assert!(
        len.trailing_zeros() <= MAX_LOG_LEN,
        "product too large for the NTT primes"
    );
    let roots = roots(len);
    let [t0, t1, t2] = &roots.tables;
    let r0 = sums_of_products_mod::<{ PRIMES[0] }>(inputs, outputs, len, t0);
    let r1 = sums_of_products_mod::<{ PRIMES[1] }>(inputs, outputs, len, t1);
    let r2 = sums_of_products_mod::<{ PRIMES[2] }>(inputs, outputs, len, t2);
    outputs
        .iter()
        .enumerate()
        .map(|(k, pairs)| {
            // The sum of two products may carry into one more limb.
            let mut out = vec![0u64; product_len(pairs) + 1];
            let carry = crt_into(&mut out, &r0[k], &r1[k], &r2[k]);
            debug_assert_eq!(carry, 0, "the sum fits its limbs");
            Nat::from_limbs(out)
        })
        .collect()
}

/// The number of transform points for a product of `limbs` limbs.
pub fn transform_len(limbs: usize) -> usize {
    limbs.next_power_of_two()
}

/// `out = a·b` (`out.len() == a.len() + b.len()`), or `a²` when `b` is `None`.
pub fn mul_into(out: &mut [u64], a: &[u64], b: Option<&[u64]>) {
    let product_len = a.len() + b.map_or(a.len(), <[u64]>::len);
    debug_assert_eq!(out.len(), product_len);
    let len = transform_len(product_len);
    assert!(
        len.trailing_zeros() <= MAX_LOG_LEN,
        "product too large for the NTT primes"
    );
    let roots = roots(len);
    let [t0, t1, t2] = &roots.tables;
    let r0 = convolve::<{ PRIMES[0] }>(a, b, len, t0);
    let r1 = convolve::<{ PRIMES[1] }>(a, b, len, t1);
    let r2 = convolve::<{ PRIMES[2] }>(a, b, len, t2);
    let carry = crt_into(out, &r0, &r1, &r2);
    debug_assert_eq!(carry, 0, "the product fits its limbs");
}

/// `a·b mod (B^len − 1)` (B = 2^64) for a power of two `len` ≥ both lengths: one cyclic
/// convolution of `len` points, half the length of the full product's when the operands
/// nearly fill it. The result has `len` limbs (0 may come out as B^len − 1).
pub fn mul_wrapped(a: &[u64], b: &[u64], len: usize) -> Vec<u64> {
    assert!(len.is_power_of_two() && a.len() <= len && b.len() <= len);
    assert!(
        len.trailing_zeros() <= MAX_LOG_LEN,
        "product too large for the NTT primes"
    );
    let roots = roots(len);
    let [t0, t1, t2] = &roots.tables;
    let r0 = convolve::<{ PRIMES[0] }>(a, Some(b), len, t0);
    let r1 = convolve::<{ PRIMES[1] }>(a, Some(b), len, t1);
    let r2 = convolve::<{ PRIMES[2] }>(a, Some(b), len, t2);
    let mut out = vec![0u64; len];
    // The convolution is cyclic: what carries out of the top limb wraps to the bottom, as
    // B^len ≡ 1.
    let mut carry = crt_into(&mut out, &r0, &r1, &r2);
    while carry != 0 {
        let wrapped = [carry as u64, (carry >> 64) as u64];
        carry = crate::limbs::add_assign(&mut out, &wrapped) as u128;
    }
    out
}

/// Recombines the residues (Garner's algorithm) and adds the coefficients, each shifted by
/// its index in limbs, into `out`.
/// Returns what carries out of `out`'s top limb.
fn crt_into(out: &mut [u64], r0: &[u64], r1: &[u64], r2: &[u64]) -> u128 {
    const P0: u64 = PRIMES[0];
    const P1: u64 = PRIMES[1];
    const P2: u64 = PRIMES[2];
    // Montgomery forms of the constants: mont_mul(x, c·R) = x·c.
    let inv_p0_mod_p1 = const { mont_const::<P1>(pow_mod(P0 % P1, P1 - 2, P1)) };
    let p0_mod_p2 = const { mont_const::<P2>(P0 % P2) };
    let inv_p0p1_mod_p2 = const {
        let p0p1 = (P0 as u128 * P1 as u128 % P2 as u128) as u64;
        mont_const::<P2>(pow_mod(p0p1, P2 - 2, P2))
    };
    let p0p1 = P0 as u128 * P1 as u128;
    let (p0p1_lo, p0p1_hi) = (p0p1 as u64, (p0p1 >> 64) as u64);

    // carry: the sum of the coefficients so far above the limbs written, < 2^128.
    let mut carry: u128 = 0;
    let n = out.len().min(r0.len());
    for i in 0..n {
        let v0 = r0[i];
        // v1 = (r1 − v0)·P0⁻¹ mod P1 (v0 < P0 < 2·P1).
        let v0_mod_p1 = reduce_once::<P1>(v0);
        let v1 = reduce_once::<P1>(mont_mul::<P1>(r1[i] + P1 - v0_mod_p1, inv_p0_mod_p1));
        // v2 = (r2 − v0 − v1·P0)·(P0·P1)⁻¹ mod P2.
        let low = reduce_once::<P2>(
            reduce_once::<P2>(v0) + reduce_once::<P2>(mont_mul::<P2>(v1, p0_mod_p2)),
        );
        let low = reduce_once::<P2>(low);
        let v2 = reduce_once::<P2>(mont_mul::<P2>(r2[i] + P2 - low, inv_p0p1_mod_p2));
        // x = v0 + v1·P0 + v2·P0·P1 < 2^186, as three limbs.
        let a = v1 as u128 * P0 as u128 + v0 as u128; // < 2^124
        let b_lo = v2 as u128 * p0p1_lo as u128;
        let b_hi = v2 as u128 * p0p1_hi as u128;
        let x0 = a as u64 as u128 + b_lo as u64 as u128 + carry as u64 as u128;
        let x1 = (a >> 64) + (b_lo >> 64) + b_hi as u64 as u128 + (carry >> 64) + (x0 >> 64);
        let x2 = (b_hi >> 64) + (x1 >> 64);
        out[i] = x0 as u64;
        carry = (x2 << 64) | (x1 as u64 as u128);
    }
    // Past the coefficients (a sum of products may be one limb longer than the transform).
    for limb in out[n..].iter_mut() {
        *limb = carry as u64;
        carry >>= 64;
    }
    carry
}

const fn mont_const<const P: u64>(x: u64) -> u64 {
    ((x as u128 * (1u128 << 64)) % P as u128) as u64
}

/// Whether `a·b` stays within what the transform lengths and primes allow.
pub fn supports(product_limbs: usize) -> bool {
    (transform_len(product_limbs).trailing_zeros()) <= MAX_LOG_LEN
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limbs;

    fn schoolbook(a: &[u64], b: &[u64]) -> Vec<u64> {
        let mut out = vec![0u64; a.len() + b.len()];
        for (j, &y) in b.iter().enumerate() {
            let c = limbs::add_mul_1(&mut out[j..j + a.len()], a, y);
            out[j + a.len()] = c;
        }
        out
    }

    #[test]
    fn primes_have_the_roots_they_claim() {
        for (&p, &g) in PRIMES.iter().zip(&GENERATORS) {
            assert!(p < 1 << 62);
            assert_eq!((p - 1) % (1u64 << MAX_LOG_LEN), 0);
            let w = pow_mod(g, (p - 1) >> MAX_LOG_LEN, p);
            assert_eq!(pow_mod(w, 1 << MAX_LOG_LEN, p), 1);
            assert_eq!(pow_mod(w, 1 << (MAX_LOG_LEN - 1), p), p - 1);
        }
    }

    #[test]
    fn transforms_longer_than_the_table() {
        // 2·TABLE_LEN points: the top stage's twiddles are computed, not read.
        let a: Vec<u64> = (0..TABLE_LEN as u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let b = vec![u64::MAX; 300];
        let mut out = vec![0; a.len() + b.len()];
        mul_into(&mut out, &a, Some(&b));
        assert_eq!(transform_len(out.len()), 2 * TABLE_LEN);
        assert_eq!(out, schoolbook(&a, &b));
    }

    #[test]
    fn wrapped_products_are_products_mod_b_to_the_len_minus_one() {
        use num_bigint::BigUint;
        let big = |x: &[u64]| {
            BigUint::from_slice(
                &x.iter()
                    .flat_map(|&l| [l as u32, (l >> 32) as u32])
                    .collect::<Vec<u32>>(),
            )
        };
        for (na, nb, len) in [
            (5, 3, 8),
            (64, 64, 64),
            (1000, 700, 1024),
            (1024, 1024, 1024),
        ] {
            let a: Vec<u64> = (0..na as u64)
                .map(|i| (i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
                .collect();
            let b = vec![u64::MAX; nb];
            let modulus = (BigUint::from(1u32) << (64 * len)) - 1u32;
            let got = big(&mul_wrapped(&a, &b, len)) % &modulus;
            assert_eq!(
                got,
                big(&a) * big(&b) % &modulus,
                "{na} × {nb} mod B^{len} − 1"
            );
        }
    }

    #[test]
    fn sums_of_products_share_transforms() {
        let a: Vec<u64> = (1..=300u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let b = vec![u64::MAX; 250];
        let c: Vec<u64> = (0..90u64).map(|i| !i).collect();
        let d = vec![u64::MAX; 310];
        let nat = |x: &[u64]| Nat::from_limbs(x.to_vec());
        let got = sums_of_products(
            &[&a, &b, &c, &d],
            &[&[(0, 1), (2, 3)], &[(1, 1)], &[(3, 0)]],
        );
        let ab = nat(&schoolbook(&a, &b));
        let cd = nat(&schoolbook(&c, &d));
        assert_eq!(got[0], &ab + &cd);
        assert_eq!(got[1], nat(&schoolbook(&b, &b)));
        assert_eq!(got[2], nat(&schoolbook(&d, &a)));
        // A sum one limb longer than the transform: all-ones operands of a power-of-two size.
        let ones = vec![u64::MAX; 128];
        let got = sums_of_products(&[&ones], &[&[(0, 0), (0, 0)]]);
        let square = nat(&schoolbook(&ones, &ones));
        assert_eq!(got[0], &square + &square);
    }

    #[test]
    fn montgomery_multiplication() {
        const P: u64 = PRIMES[1];
        for (a, b) in [
            (0, 5),
            (1, 1),
            (P - 1, P - 1),
            (2 * P - 1, 2 * P - 1),
            (123456789, 987654321),
        ] {
            let got = reduce_once::<P>(mont_mul::<P>(to_mont::<P>(a % P), b)) % P;
            assert_eq!(got as u128, a as u128 % P as u128 * b as u128 % P as u128);
        }
    }

    #[test]
    fn small_products_match_schoolbook() {
        let cases: Vec<(Vec<u64>, Vec<u64>)> = vec![
            (vec![1], vec![1]),
            (vec![u64::MAX; 7], vec![u64::MAX; 5]),
            (vec![u64::MAX; 64], vec![u64::MAX; 64]),
            (
                (0..100u64)
                    .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                    .collect(),
                vec![3, 0, u64::MAX],
            ),
        ];
        for (a, b) in cases {
            let mut out = vec![0; a.len() + b.len()];
            mul_into(&mut out, &a, Some(&b));
            assert_eq!(out, schoolbook(&a, &b));
            let mut sq = vec![0; 2 * a.len()];
            mul_into(&mut sq, &a, None);
            assert_eq!(sq, schoolbook(&a, &a));
        }
    }
}
