//! What CloudWatch shows for an invocation, as pure functions: the `START`, `END` and `REPORT`
//! lines, the billed duration, and the error bodies and messages Lambda itself produces for
//! faults of the runtime (exit, timeout, out of memory). [`parse_report`] reads a `REPORT` line
//! back, for tests and for tasks that compare figures.

use std::time::Duration;

/// Lambda's MB, in `Memory Size` and `Max Memory Used`, is a mebibyte: the function with
/// `--memory-size 128` gets a 128 × 2^20-byte memory limit.
pub const BYTES_PER_MB: u64 = 1024 * 1024;

/// The version every invocation of an unpublished function runs.
pub const LATEST: &str = "$LATEST";

/// The figures of one invocation that the `REPORT` line shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// From the event handed to the runtime to its response (or the fault) received.
    pub duration: Duration,
    /// From the process start to its first `next` request; only on a cold invocation.
    pub init_duration: Option<Duration>,
    /// What Lambda bills for the invocation, in whole milliseconds: see [`billed_duration_ms`].
    pub billed_duration_ms: u64,
    /// The configured memory, in MB.
    pub memory_size_mb: u32,
    /// Peak resident memory of the function's processes, in bytes (VmHWM summed over the
    /// process tree, or the highest sampled RSS when the process is gone).
    pub max_memory_used_bytes: u64,
    /// The emulator the bootstrap ran under (`qemu-aarch64`), when it is not native: every figure
    /// then includes the emulator's own cost.
    pub emulated_by: Option<String>,
}

impl Metrics {
    /// `Max Memory Used` in MB as the `REPORT` line shows it: rounded up, so that it never
    /// under-states the peak.
    pub fn max_memory_used_mb(&self) -> u64 {
        self.max_memory_used_bytes.div_ceil(BYTES_PER_MB)
    }

    pub fn is_emulated(&self) -> bool {
        self.emulated_by.is_some()
    }
}

/// Billed Duration: Lambda bills in 1 ms steps, rounding up. For a custom runtime (the
/// `provided` family) the init phase of a cold start is billed too, so it is added in (and
/// since August 2025 Lambda bills the init phase of every runtime).
pub fn billed_duration_ms(duration: Duration, init_duration: Option<Duration>) -> u64 {
    let total = duration + init_duration.unwrap_or_default();
    let nanos = total.as_nanos();
    let ms = nanos.div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// How an invocation that did not succeed ended, for the `REPORT` line's `Status` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportStatus {
    /// A response, or an error the function itself reported: no `Status` field.
    Completed,
    /// `Status: timeout`.
    Timeout,
    /// `Status: error` with `Error Type: …` (Runtime.ExitError, Runtime.OutOfMemory, …).
    Error(String),
}

pub fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

pub fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// The `REPORT` line, tab-separated as Lambda writes it. An emulated run gets one more field,
/// `Emulated: qemu-aarch64`, at the end, so that its figures are never taken for native ones.
pub fn report_line(request_id: &str, metrics: &Metrics, status: &ReportStatus) -> String {
    let mut fields = vec![
        format!("REPORT RequestId: {request_id}"),
        format!("Duration: {:.2} ms", millis(metrics.duration)),
        format!("Billed Duration: {} ms", metrics.billed_duration_ms),
        format!("Memory Size: {} MB", metrics.memory_size_mb),
        format!("Max Memory Used: {} MB", metrics.max_memory_used_mb()),
    ];
    if let Some(init) = metrics.init_duration {
        fields.push(format!("Init Duration: {:.2} ms", millis(init)));
    }
    match status {
        ReportStatus::Completed => {}
        ReportStatus::Timeout => fields.push("Status: timeout".to_string()),
        ReportStatus::Error(error_type) => {
            fields.push("Status: error".to_string());
            fields.push(format!("Error Type: {error_type}"));
        }
    }
    if let Some(emulator) = &metrics.emulated_by {
        fields.push(format!("Emulated: {emulator}"));
    }
    fields.join("\t")
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A `REPORT` line read back.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedReport {
    pub request_id: String,
    pub duration_ms: f64,
    pub billed_duration_ms: u64,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: u64,
    pub init_duration_ms: Option<f64>,
    pub status: Option<String>,
    pub error_type: Option<String>,
    pub emulated_by: Option<String>,
}

/// Reads a `REPORT` line (Lambda's or the emulator's); `None` when it is not one or a required
/// field is missing or malformed.
pub fn parse_report(line: &str) -> Option<ParsedReport> {
    let mut fields = line.trim_end().split('\t');
    let request_id = fields.next()?.strip_prefix("REPORT RequestId: ")?.trim();
    let mut report = ParsedReport {
        request_id: request_id.to_string(),
        duration_ms: f64::NAN,
        billed_duration_ms: u64::MAX,
        memory_size_mb: 0,
        max_memory_used_mb: u64::MAX,
        init_duration_ms: None,
        status: None,
        error_type: None,
        emulated_by: None,
    };
    for field in fields {
        let (name, value) = field.split_once(": ")?;
        let value = value.trim();
        match name.trim() {
            "Duration" => report.duration_ms = value.strip_suffix(" ms")?.parse().ok()?,
            "Billed Duration" => {
                report.billed_duration_ms = value.strip_suffix(" ms")?.parse().ok()?
            }
            "Memory Size" => report.memory_size_mb = value.strip_suffix(" MB")?.parse().ok()?,
            "Max Memory Used" => {
                report.max_memory_used_mb = value.strip_suffix(" MB")?.parse().ok()?
            }
            "Init Duration" => {
                report.init_duration_ms = Some(value.strip_suffix(" ms")?.parse().ok()?)
            }
            "Status" => report.status = Some(value.to_string()),
            "Error Type" => report.error_type = Some(value.to_string()),
            "Emulated" => report.emulated_by = Some(value.to_string()),
            // Fields Lambda may add (XRAY TraceId, Restore Duration, …) are skipped.
            _ => {}
        }
    }
    let complete = report.duration_ms.is_finite()
        && report.billed_duration_ms != u64::MAX
        && report.memory_size_mb != 0
        && report.max_memory_used_mb != u64::MAX;
    complete.then_some(report)
}

/// How a process ended, in the words of Lambda's "Runtime exited with error: …" (Go's
/// `ProcessState` text): `exit status 3`, `signal: killed`, `signal: segmentation fault`.
pub fn describe_exit(code: Option<i32>, signal: Option<i32>, core_dumped: bool) -> String {
    match (code, signal) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => {
            let name = signal_name(signal);
            if core_dumped {
                format!("signal: {name} (core dumped)")
            } else {
                format!("signal: {name}")
            }
        }
        (None, None) => "exit status unknown".to_string(),
    }
}

/// Linux signal descriptions as Go's `syscall.Signal.String` spells them.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "hangup",
        2 => "interrupt",
        3 => "quit",
        4 => "illegal instruction",
        5 => "trace/breakpoint trap",
        6 => "aborted",
        7 => "bus error",
        8 => "floating point exception",
        9 => "killed",
        10 => "user defined signal 1",
        11 => "segmentation fault",
        12 => "user defined signal 2",
        13 => "broken pipe",
        14 => "alarm clock",
        15 => "terminated",
        31 => "bad system call",
        other => return format!("signal {other}"),
    };
    name.to_string()
}

/// The `errorMessage` Lambda gives a runtime that exited: `RequestId: … Error: Runtime exited
/// with error: exit status 3`.
pub fn runtime_exit_message(request_id: &str, exit: &str) -> String {
    format!("RequestId: {request_id} Error: Runtime exited with error: {exit}")
}

/// The `errorMessage` of a timed-out invocation: `RequestId: … Error: Task timed out after 3.00
/// seconds`.
pub fn timeout_message(request_id: &str, timeout: Duration) -> String {
    format!(
        "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
        timeout.as_secs_f64()
    )
}

/// The JSON body Lambda returns to the invoker for a fault it detected itself.
pub fn error_body(error_type: &str, error_message: &str) -> Vec<u8> {
    serde_json::json!({ "errorType": error_type, "errorMessage": error_message })
        .to_string()
        .into_bytes()
}

/// The last `limit` bytes of `log`, cut at a character boundary: what `X-Amz-Log-Result`
/// carries (Lambda sends the last 4 KB).
pub fn log_tail(log: &str, limit: usize) -> &str {
    if log.len() <= limit {
        return log;
    }
    let mut start = log.len() - limit;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}

/// Calendar date and time in UTC of a Unix time in milliseconds:
/// `(year, month, day, hour, minute, second, millisecond)`.
/// Milliseconds since the Unix epoch (0 before it).
pub fn unix_ms(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub fn utc_civil(unix_ms: u64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let ms = (unix_ms % 1000) as u32;
    let secs = unix_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = (secs % 86_400) as u32;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem / 60 % 60, rem % 60, ms)
}

/// `2025-01-02T03:04:05.006Z`, the timestamp Lambda puts on its own log lines.
pub fn utc_timestamp(unix_ms: u64) -> String {
    let (y, mo, d, h, mi, s, ms) = utc_civil(unix_ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// `2025/01/02`, the date that starts a log stream's name.
pub fn utc_date_path(unix_ms: u64) -> String {
    let (y, mo, d, ..) = utc_civil(unix_ms);
    format!("{y:04}/{mo:02}/{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> Metrics {
        Metrics {
            duration: Duration::from_micros(1_234_567),
            init_duration: Some(Duration::from_micros(25_005)),
            billed_duration_ms: billed_duration_ms(
                Duration::from_micros(1_234_567),
                Some(Duration::from_micros(25_005)),
            ),
            memory_size_mb: 128,
            max_memory_used_bytes: 14 * BYTES_PER_MB + 1,
            emulated_by: None,
        }
    }

    #[test]
    fn billed_duration_rounds_up_to_the_millisecond_and_includes_init() {
        assert_eq!(billed_duration_ms(Duration::from_micros(1_000), None), 1);
        assert_eq!(billed_duration_ms(Duration::from_micros(1_001), None), 2);
        assert_eq!(billed_duration_ms(Duration::from_nanos(1), None), 1);
        assert_eq!(billed_duration_ms(Duration::ZERO, None), 0);
        assert_eq!(
            billed_duration_ms(
                Duration::from_micros(1_234_567),
                Some(Duration::from_micros(25_005))
            ),
            1260
        );
    }

    #[test]
    fn report_line_in_lambdas_format() {
        let line = report_line("abc", &metrics(), &ReportStatus::Completed);
        assert_eq!(
            line,
            "REPORT RequestId: abc\tDuration: 1234.57 ms\tBilled Duration: 1260 ms\t\
             Memory Size: 128 MB\tMax Memory Used: 15 MB\tInit Duration: 25.00 ms"
        );
        let warm = Metrics {
            init_duration: None,
            ..metrics()
        };
        let line = report_line("abc", &warm, &ReportStatus::Timeout);
        assert!(
            line.ends_with("Max Memory Used: 15 MB\tStatus: timeout"),
            "{line}"
        );
        let emulated = Metrics {
            emulated_by: Some("qemu-aarch64".into()),
            ..warm
        };
        let line = report_line(
            "abc",
            &emulated,
            &ReportStatus::Error("Runtime.ExitError".into()),
        );
        assert!(
            line.ends_with(
                "\tStatus: error\tError Type: Runtime.ExitError\tEmulated: qemu-aarch64"
            ),
            "{line}"
        );
    }

    #[test]
    fn report_lines_parse_back() {
        let line = report_line("abc", &metrics(), &ReportStatus::Completed);
        let parsed = parse_report(&line).unwrap();
        assert_eq!(parsed.request_id, "abc");
        assert!((parsed.duration_ms - 1234.57).abs() < 1e-9);
        assert_eq!(parsed.billed_duration_ms, 1260);
        assert_eq!(parsed.memory_size_mb, 128);
        assert_eq!(parsed.max_memory_used_mb, 15);
        assert_eq!(parsed.init_duration_ms, Some(25.0));
        assert_eq!(parsed.status, None);

        // A line as Lambda writes it, with a field the emulator does not produce.
        let aws = "REPORT RequestId: 8f5e-1\tDuration: 2.05 ms\tBilled Duration: 3 ms\t\
                   Memory Size: 128 MB\tMax Memory Used: 17 MB\tXRAY TraceId: 1-2-3\t";
        let parsed = parse_report(aws).unwrap();
        assert_eq!(parsed.billed_duration_ms, 3);
        assert_eq!(parsed.init_duration_ms, None);

        for bad in [
            "",
            "START RequestId: x Version: $LATEST",
            "REPORT RequestId: x\tDuration: fast ms",
            "REPORT RequestId: x\tDuration: 1.00 ms",
        ] {
            assert_eq!(parse_report(bad), None, "{bad}");
        }
    }

    #[test]
    fn exits_are_described_as_lambda_does() {
        assert_eq!(describe_exit(Some(3), None, false), "exit status 3");
        assert_eq!(describe_exit(None, Some(9), false), "signal: killed");
        assert_eq!(
            describe_exit(None, Some(11), true),
            "signal: segmentation fault (core dumped)"
        );
        assert_eq!(describe_exit(None, Some(6), false), "signal: aborted");
        assert_eq!(describe_exit(None, Some(40), false), "signal: signal 40");
        assert_eq!(
            runtime_exit_message("r1", "exit status 3"),
            "RequestId: r1 Error: Runtime exited with error: exit status 3"
        );
        assert_eq!(
            timeout_message("r1", Duration::from_secs(3)),
            "RequestId: r1 Error: Task timed out after 3.00 seconds"
        );
    }

    #[test]
    fn error_bodies_are_lambda_json() {
        let body: serde_json::Value =
            serde_json::from_slice(&error_body("Runtime.ExitError", "say \"why\"")).unwrap();
        assert_eq!(body["errorType"], "Runtime.ExitError");
        assert_eq!(body["errorMessage"], "say \"why\"");
    }

    #[test]
    fn log_tails_keep_the_end_and_whole_characters() {
        assert_eq!(log_tail("short", 4096), "short");
        assert_eq!(log_tail("abcdef", 3), "def");
        // "é" is two bytes: a cut inside it moves forward.
        assert_eq!(log_tail("aéb", 2), "b");
        assert_eq!(log_tail("aéb", 3), "éb");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T12:34:56.789Z, a leap day.
        assert_eq!(utc_timestamp(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        assert_eq!(utc_date_path(1_735_689_600_000), "2025/01/01");
    }
}
