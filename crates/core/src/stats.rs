//! Statistics: Wilson intervals, the exact McNemar test, Holm's correction, a seeded paired
//! bootstrap and the chi-square upper tail. Pure functions of counts, no IO.

use crate::rng::SplitMix64;

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for `successes` out of `n` at the given z. Returns (low, high);
/// (0, 1) when n is 0, since nothing is known.
pub fn wilson(successes: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = successes as f64 / n_f;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denominator;
    let half = z * ((p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt()) / denominator;
    // At the edges the exact bound is 0 or 1; floating point would land a hair inside and
    // exclude the point estimate itself.
    let low = if successes == 0 { 0.0 } else { (centre - half).max(0.0) };
    let high = if successes == n { 1.0 } else { (centre + half).min(1.0) };
    (low, high)
}

fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// Lanczos approximation of ln Γ(x) for x > 0 (accurate to ~1e-13, plenty for p-values).
pub fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (index, coefficient) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += coefficient / (x + index as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Exact two-sided McNemar p-value from the discordant counts: b = only A right, c = only B
/// right. Under H0 the discordant pairs split as Binomial(b + c, 1/2).
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    let ln_half_n = n as f64 * 0.5f64.ln();
    let tail: f64 = (0..=k).map(|i| (ln_choose(n, i) + ln_half_n).exp()).sum();
    (2.0 * tail).min(1.0)
}

/// Holm–Bonferroni adjusted p-values, in the input order. Each adjusted value is at least its
/// raw value and never exceeds 1.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running_max: f64 = 0.0;
    for (rank, &index) in order.iter().enumerate() {
        let value = ((m - rank) as f64 * p_values[index]).min(1.0);
        running_max = running_max.max(value);
        adjusted[index] = running_max;
    }
    adjusted
}

/// Paired bootstrap 95% interval of mean(b) − mean(a) over paired outcomes, seeded.
/// Returns (low, high); (0, 0) when there are no pairs.
pub fn paired_bootstrap(pairs: &[(bool, bool)], resamples: usize, seed: u64) -> (f64, f64) {
    if pairs.is_empty() || resamples == 0 {
        return (0.0, 0.0);
    }
    let differences: Vec<i8> = pairs.iter().map(|&(a, b)| b as i8 - a as i8).collect();
    let n = differences.len();
    let mut rng = SplitMix64::new(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            let total: i64 = (0..n).map(|_| differences[rng.below(n as u64) as usize] as i64).sum();
            total as f64 / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let quantile = |q: f64| -> f64 {
        let position = q * (means.len() - 1) as f64;
        let low = position.floor() as usize;
        let high = position.ceil() as usize;
        means[low] + (means[high] - means[low]) * (position - low as f64)
    };
    (quantile(0.025), quantile(0.975))
}

/// Upper tail P(X ≥ x) of the chi-square distribution with `df` degrees of freedom, through the
/// regularised upper incomplete gamma function Q(df/2, x/2).
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    if x <= 0.0 || df <= 0.0 {
        return 1.0;
    }
    let a = df / 2.0;
    let x = x / 2.0;
    let log_prefix = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        // Series for the lower function P, then Q = 1 − P.
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut n = 0.0;
        while term.abs() > 1e-15 * sum.abs() && n < 10_000.0 {
            n += 1.0;
            term *= x / (a + n);
            sum += term;
        }
        (1.0 - sum * log_prefix.exp()).clamp(0.0, 1.0)
    } else {
        // Lentz's continued fraction for Q.
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (log_prefix.exp() * h).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() < tolerance
    }

    #[test]
    fn wilson_known_values() {
        // 8 of 10: textbook Wilson interval 0.4902–0.9433.
        let (low, high) = wilson(8, 10, Z95);
        assert!(close(low, 0.4902, 1e-4) && close(high, 0.9433, 1e-4), "{low} {high}");
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
        let (low, _) = wilson(0, 20, Z95);
        assert_eq!(low, 0.0);
    }

    #[test]
    fn mcnemar_known_values() {
        // b=0, c=5: 2 * 0.5^5 = 0.0625.
        assert!(close(mcnemar_exact(0, 5), 0.0625, 1e-12));
        assert!(close(mcnemar_exact(5, 0), 0.0625, 1e-12));
        assert_eq!(mcnemar_exact(3, 3), 1.0);
        // b=2, c=10: 2 * P(X<=2 | n=12) = 2 * (1+12+66)/4096.
        assert!(close(mcnemar_exact(2, 10), 2.0 * 79.0 / 4096.0, 1e-12));
    }

    #[test]
    fn holm_known_values() {
        let adjusted = holm(&[0.01, 0.04, 0.03]);
        assert!(close(adjusted[0], 0.03, 1e-12));
        assert!(close(adjusted[2], 0.06, 1e-12));
        assert!(close(adjusted[1], 0.06, 1e-12));
    }

    #[test]
    fn chi_square_known_values() {
        assert!(close(chi_square_sf(3.841_458_820_694_124, 1.0), 0.05, 1e-9));
        assert!(close(chi_square_sf(13.276_704_135_987_6, 4.0), 0.01, 1e-9));
        assert!(close(chi_square_sf(11.344_866_730_144_37, 3.0), 0.01, 1e-9));
        assert!(close(chi_square_sf(100.0, 3.0), 0.0, 1e-12));
    }

    proptest! {
        #[test]
        fn wilson_contains_the_point_estimate(n in 1u64..5000, fraction in 0.0f64..=1.0) {
            let successes = ((n as f64) * fraction).round() as u64;
            let (low, high) = wilson(successes, n, Z95);
            let p = successes as f64 / n as f64;
            prop_assert!(low <= p + 1e-12 && p <= high + 1e-12);
            prop_assert!((0.0..=1.0).contains(&low) && (0.0..=1.0).contains(&high));
        }

        #[test]
        fn mcnemar_is_a_probability_and_symmetric(b in 0u64..300, c in 0u64..300) {
            let p = mcnemar_exact(b, c);
            prop_assert!((0.0..=1.0).contains(&p));
            prop_assert!((p - mcnemar_exact(c, b)).abs() < 1e-12);
        }

        #[test]
        fn holm_never_lowers_a_p_value(p_values in proptest::collection::vec(0.0f64..=1.0, 1..25)) {
            let adjusted = holm(&p_values);
            for (raw, adjusted) in p_values.iter().zip(&adjusted) {
                prop_assert!(*adjusted >= *raw - 1e-15 && *adjusted <= 1.0);
            }
        }

        #[test]
        fn bootstrap_interval_contains_the_observed_difference(pairs in proptest::collection::vec((any::<bool>(), any::<bool>()), 20..200), seed in any::<u64>()) {
            let observed = pairs.iter().map(|&(a, b)| b as i64 - a as i64).sum::<i64>() as f64 / pairs.len() as f64;
            let (low, high) = paired_bootstrap(&pairs, 500, seed);
            prop_assert!(low <= high);
            // The bootstrap distribution centres on the observed mean; a 95% interval that
            // excludes it by more than a small margin would mean a broken resampler.
            prop_assert!(low - 0.05 <= observed && observed <= high + 0.05, "{low} {observed} {high}");
        }
    }
}
