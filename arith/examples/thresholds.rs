//! Times schoolbook, Karatsuba (one level, then the usual dispatch) and the NTT side by side
//! for balanced products of n limbs: the crossovers are `mul`'s thresholds.
//! `cargo run --release -p pi-arith --example thresholds [n…]`

use std::time::Instant;

use pi_arith::{mul, ntt};

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![
            16, 24, 32, 48, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048, 4096,
        ]
    } else {
        sizes
    };
    println!("limbs  schoolbook_us  karatsuba_us  ntt_us");
    for n in sizes {
        let a = limbs(n, 1);
        let b = limbs(n, 2);
        let mut out = vec![0u64; 2 * n];
        let school = time(|| mul::schoolbook(&mut out, &a, &b));
        let kara = if n >= 4 {
            time(|| mul::karatsuba(&mut out, &a, &b))
        } else {
            f64::NAN
        };
        let ntt = time(|| ntt::mul_into(&mut out, &a, Some(&b)));
        println!("{n:5}  {school:13.2}  {kara:12.2}  {ntt:6.2}");
    }
}

/// The median of enough runs to fill some 20 ms, in microseconds.
fn time(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64();
    let reps = ((0.02 / once.max(1e-7)) as usize).clamp(3, 10_000);
    let mut samples: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..reps.div_ceil(7) {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / reps.div_ceil(7) as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[3]
}

fn limbs(n: usize, seed: u64) -> Vec<u64> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        })
        .collect()
}
