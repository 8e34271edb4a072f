//! What one `cargo xtask bench` run measured: plain data, filled in by [`super::measure`],
//! rendered by [`super::report`] and written as `results.json` beside the report.

use serde::{Deserialize, Serialize};

use super::stats::{self, Summary};

/// The whole run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BenchResults {
    pub settings: Settings,
    pub machine: Machine,
    /// The function through the Runtime API emulator, one entry per architecture.
    pub functions: Vec<FunctionRuns>,
    /// Chudnovsky through the x86_64 bootstrap, one entry per digit count.
    pub chudnovsky: Vec<ChudnovskyRuns>,
    /// Programs timed side by side: the baselines, the in-process spigot, node.
    pub programs: Vec<ProgramRuns>,
    /// Why node was not timed, when it was not.
    pub node_missing: Option<String>,
    /// sha256 of the digit string ("31415…") the glibc baseline printed; every response was
    /// checked against it.
    pub reference_sha256: Option<String>,
    /// sha256 of `pi_timing chudnovsky <chudnovsky_digits>` (musl), when it was run.
    pub chudnovsky_reference_sha256: Option<String>,
    /// `pi_timing chudnovsky <chudnovsky_digits>` in-process, musl and glibc: how much of the
    /// bootstrap's time is the computation, and how much the C library's allocator weighs.
    #[serde(default)]
    pub chudnovsky_in_process: Vec<ProgramRuns>,
    /// Chudnovsky beside FLINT and MPFR at the spigot's digit count and the larger one.
    #[serde(default)]
    pub anchors: Vec<AnchorRuns>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settings {
    /// The command line, as typed.
    pub command: String,
    pub digits: u64,
    /// The event sent, e.g. `{"digits": "10_000"}`.
    pub payload: String,
    pub warm: u32,
    pub cold: u32,
    pub baseline_runs: u32,
    pub memory_size_mb: u32,
    pub timeout_s: u32,
    pub chudnovsky_digits: u64,
    pub chudnovsky_runs: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Machine {
    /// UTC, `2026-01-02T03:04:05Z`.
    pub started: String,
    pub commit: Option<String>,
    /// Whether the work tree had uncommitted changes.
    pub dirty: Option<bool>,
    pub cpu_model: Option<String>,
    pub cpus: usize,
    /// `/proc/loadavg`'s first three fields at the start and the end of the run.
    pub load_start: Option<String>,
    pub load_end: Option<String>,
    pub node_version: Option<String>,
    /// Wall-clock seconds the whole bench took.
    pub elapsed_s: f64,
}

/// The figures of one invocation, as the `REPORT` line gives them.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct InvocationFigures {
    pub duration_ms: f64,
    pub billed_duration_ms: u64,
    pub init_duration_ms: Option<f64>,
    pub max_memory_used_mb: u64,
}

/// One architecture's invocations of the benchmark event.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FunctionRuns {
    /// `x86_64` or `arm64`.
    pub arch: String,
    /// The emulator the bootstrap ran under (`qemu-aarch64`); `None` when native.
    pub emulated_by: Option<String>,
    /// The zip measured, as shown to the user.
    pub zip: String,
    /// Each a fresh process: Init Duration is set.
    pub cold: Vec<InvocationFigures>,
    /// In a row, in the process of the last cold start.
    pub warm: Vec<InvocationFigures>,
    /// Warm Durations of `{"digits": "1"}`, after the others: the fixed cost of an invocation
    /// (Runtime API round trip through the emulator, JSON), in ms.
    #[serde(default)]
    pub one_digit_ms: Vec<f64>,
}

impl FunctionRuns {
    /// "x86_64" or "arm64 (emulated, qemu-aarch64)".
    pub fn label(&self) -> String {
        match &self.emulated_by {
            Some(emulator) => format!("{} (emulated, {emulator})", self.arch),
            None => self.arch.clone(),
        }
    }

    pub fn warm_durations(&self) -> Vec<f64> {
        self.warm.iter().map(|i| i.duration_ms).collect()
    }

    pub fn init_durations(&self) -> Vec<f64> {
        self.cold
            .iter()
            .filter_map(|i| i.init_duration_ms)
            .collect()
    }

    pub fn warm_summary(&self) -> Option<Summary> {
        stats::summarize(&self.warm_durations())
    }

    pub fn init_summary(&self) -> Option<Summary> {
        stats::summarize(&self.init_durations())
    }

    /// The highest Max Memory Used of any invocation, in MB.
    pub fn max_memory_used_mb(&self) -> Option<u64> {
        self.cold
            .iter()
            .chain(&self.warm)
            .map(|i| i.max_memory_used_mb)
            .max()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChudnovskyRuns {
    pub digits: u64,
    /// Warm Durations in ms.
    pub durations_ms: Vec<f64>,
    pub max_memory_used_mb: u64,
}

/// A program timed outside the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProgramKind {
    /// The plain BigInt transcription built for x86_64-unknown-linux-gnu.
    BaselineGlibc,
    /// The same built for x86_64-unknown-linux-musl.
    BaselineMusl,
    /// The function's own spigot, in-process (no Runtime API, no JSON), musl.
    SpigotMusl,
    /// benches/spigot.js under node.
    Node,
    /// The function's Chudnovsky, in-process, musl.
    ChudnovskyMusl,
    /// The same, glibc.
    ChudnovskyGlibc,
    /// FLINT (python-flint): `arb.pi()` and its decimal string, an anchor.
    Flint,
    /// GMP/MPFR (gmpy2): `const_pi()` and `digits(10, n)`, an anchor.
    Mpfr,
}

impl ProgramKind {
    pub fn label(self) -> &'static str {
        match self {
            ProgramKind::BaselineGlibc => "baseline, glibc",
            ProgramKind::BaselineMusl => "baseline, musl",
            ProgramKind::SpigotMusl => "spigot in-process, musl",
            ProgramKind::Node => "JavaScript BigInt (node)",
            ProgramKind::ChudnovskyMusl => "Chudnovsky in-process, musl",
            ProgramKind::ChudnovskyGlibc => "Chudnovsky in-process, glibc",
            ProgramKind::Flint => "FLINT arb.pi() + decimal string (python-flint)",
            ProgramKind::Mpfr => "GMP/MPFR const_pi() + digits (gmpy2)",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProgramRuns {
    pub kind: ProgramKind,
    /// The command run, as typed.
    pub command: String,
    /// The elapsed_ms each run printed (timed inside the program, start-up excluded).
    pub elapsed_ms: Vec<f64>,
    /// The highest peak resident set size a run printed, in KiB, where it prints one.
    pub peak_rss_kib: Option<u64>,
}

impl ProgramRuns {
    pub fn summary(&self) -> Option<Summary> {
        stats::summarize(&self.elapsed_ms)
    }
}

/// The function's Chudnovsky (in-process, musl, one thread) beside FLINT and MPFR (one thread
/// each) at one digit count: every program in a fresh process per run, the same digits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnchorRuns {
    pub digits: u64,
    pub programs: Vec<ProgramRuns>,
}

impl AnchorRuns {
    pub fn median(&self, kind: ProgramKind) -> Option<f64> {
        self.programs
            .iter()
            .find(|p| p.kind == kind)
            .and_then(ProgramRuns::summary)
            .map(|s| s.median)
    }

    /// Chudnovsky's median time over `anchor`'s (below 1: Chudnovsky is faster).
    pub fn ratio_to(&self, anchor: ProgramKind) -> Option<f64> {
        Some(self.median(ProgramKind::ChudnovskyMusl)? / self.median(anchor)?)
    }
}

impl BenchResults {
    pub fn anchors_at(&self, digits: u64) -> Option<&AnchorRuns> {
        self.anchors.iter().find(|a| a.digits == digits)
    }

    pub fn function(&self, arch: &str) -> Option<&FunctionRuns> {
        self.functions.iter().find(|f| f.arch == arch)
    }

    pub fn program(&self, kind: ProgramKind) -> Option<&ProgramRuns> {
        self.programs.iter().find(|p| p.kind == kind)
    }

    pub fn chudnovsky_at(&self, digits: u64) -> Option<&ChudnovskyRuns> {
        self.chudnovsky.iter().find(|c| c.digits == digits)
    }
}
