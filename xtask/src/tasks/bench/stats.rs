//! Summaries of repeated measurements: medians and ranges, since on a shared, noisy machine a
//! single figure means little and a mean is dragged by outliers.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// The median (mean of the middle two for an even count), min and max; `None` when empty.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    Some(Summary {
        count: n,
        median,
        min: sorted[0],
        max: sorted[n - 1],
    })
}

/// "12.3 (11.9–13.0)" with `decimals` places.
pub fn format_summary(summary: Option<Summary>, decimals: usize) -> String {
    match summary {
        None => "–".to_string(),
        Some(s) if s.count == 1 => format!("{:.*}", decimals, s.median),
        Some(s) => format!(
            "{:.*} ({:.*}–{:.*})",
            decimals, s.median, decimals, s.min, decimals, s.max
        ),
    }
}

/// How many times faster `fast` is than `slow` ("12.4×"), from medians.
pub fn ratio(slow: Option<Summary>, fast: Option<Summary>) -> Option<f64> {
    match (slow, fast) {
        (Some(slow), Some(fast)) if fast.median > 0.0 => Some(slow.median / fast.median),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ranges() {
        assert_eq!(summarize(&[]), None);
        let odd = summarize(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!(
            (odd.median, odd.min, odd.max, odd.count),
            (3.0, 1.0, 5.0, 3)
        );
        let even = summarize(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(even.median, 2.5);
        assert_eq!(format_summary(Some(even), 1), "2.5 (1.0–4.0)");
        assert_eq!(format_summary(summarize(&[7.25]), 2), "7.25");
        assert_eq!(format_summary(None, 1), "–");
    }

    #[test]
    fn ratios_come_from_medians() {
        let slow = summarize(&[100.0, 120.0, 80.0]);
        let fast = summarize(&[2.0, 2.0, 50.0]);
        assert_eq!(ratio(slow, fast), Some(50.0));
        assert_eq!(ratio(slow, None), None);
        assert_eq!(ratio(slow, summarize(&[0.0])), None);
    }
}
