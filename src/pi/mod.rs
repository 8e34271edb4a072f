//! The digits of pi. Every algorithm returns the same string: the first N decimal digits,
//! `"31415…"`, without the point; [`format_pi`] places it.

pub mod chudnovsky;
pub mod spigot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// Gibbons' unbounded spigot: the benchmark workload.
    #[default]
    Spigot,
    /// Chudnovsky's series with binary splitting: for large N.
    Chudnovsky,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [Algorithm::Spigot, Algorithm::Chudnovsky];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Spigot => "spigot",
            Algorithm::Chudnovsky => "chudnovsky",
        }
    }
}

/// The first `n` decimal digits of pi with `algorithm`.
pub fn digits(algorithm: Algorithm, n: usize) -> String {
    match algorithm {
        Algorithm::Spigot => spigot::digits(n),
        Algorithm::Chudnovsky => chudnovsky::digits(n),
    }
}

/// `"31415"` → `"3.1415"`, `"3"` → `"3"`.
pub fn format_pi(digits: &str) -> String {
    match digits.split_at_checked(1) {
        Some((first, rest)) if !rest.is_empty() => format!("{first}.{rest}"),
        _ => digits.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_point_follows_the_three() {
        assert_eq!(format_pi("3"), "3");
        assert_eq!(format_pi("31"), "3.1");
        assert_eq!(format_pi("31415"), "3.1415");
    }
}
