//! The function's stdout and stderr, collected as CloudWatch lines and bounded: the pipes are
//! always read to the end (a function is never blocked on a full pipe, however much it writes),
//! but only so much is kept per invocation, and a note says what was dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::emulator::lifecycle::{LogSource, Observers};

/// The longest line kept: CloudWatch Logs' event size limit, 256 KB. The rest of a longer
/// line is dropped (and counted).
pub const MAX_LINE_BYTES: usize = 256 * 1024;
/// Log bytes kept per invocation (init included): 1 MiB, so that a function that writes
/// without end costs bounded memory; the bytes over it are dropped and counted.
pub const MAX_KEPT_BYTES: usize = 1024 * 1024;
/// How long log lines still in the pipes are waited for once an invocation has ended.
const LOG_SETTLE: Duration = Duration::from_millis(5);
/// The longest an invocation's log is collected after it ended; later lines go to the next one.
const LOG_DRAIN_LIMIT: Duration = Duration::from_millis(500);

#[derive(Default)]
struct Kept {
    lines: Vec<String>,
    bytes: usize,
    dropped_bytes: u64,
    dropped_lines: u64,
}

/// Where the reader tasks of an environment's pipes (the function's and its extensions', in
/// the order their lines arrive, as in CloudWatch) put its lines until an invocation takes
/// them; each line is also handed to the observers as it is read.
#[derive(Default)]
pub(super) struct LogSink {
    kept: Mutex<Kept>,
    /// Counts every line received, so that [`drain`] sees whether output is still arriving.
    received: AtomicU64,
    observers: Observers,
    log_stream: String,
}

impl LogSink {
    #[cfg(test)]
    pub(super) fn new() -> Arc<LogSink> {
        Arc::new(LogSink::default())
    }

    /// A sink whose lines also go to `observers`, as lines of `log_stream`.
    pub(super) fn observed(observers: Observers, log_stream: &str) -> Arc<LogSink> {
        Arc::new(LogSink {
            observers,
            log_stream: log_stream.to_string(),
            ..LogSink::default()
        })
    }

    fn push(&self, line: &[u8], cut: u64, source: &LogSource) {
        self.received.fetch_add(1, Ordering::Relaxed);
        if !self.observers.0.is_empty() {
            let text = String::from_utf8_lossy(line);
            self.observers.log_line(&self.log_stream, source, &text);
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.bytes + line.len() > MAX_KEPT_BYTES {
            kept.dropped_bytes += line.len() as u64 + cut;
            kept.dropped_lines += 1;
            return;
        }
        kept.bytes += line.len();
        kept.dropped_bytes += cut;
        let mut text = String::from_utf8_lossy(line).into_owned();
        if cut > 0 {
            text.push_str(&format!(
                " [emulator: {cut} more bytes of this line dropped]"
            ));
        }
        kept.lines.push(text);
    }

    /// The lines kept since the last take, with a closing note when some were dropped.
    pub(super) fn take(&self) -> Vec<String> {
        let kept = std::mem::take(&mut *self.kept.lock().unwrap_or_else(|e| e.into_inner()));
        let mut lines = kept.lines;
        if kept.dropped_lines > 0 {
            lines.push(format!(
                "emulator: log truncated: {} more lines ({} bytes) were dropped, over the \
                 {MAX_KEPT_BYTES} bytes kept per invocation",
                kept.dropped_lines, kept.dropped_bytes
            ));
        }
        lines
    }

    fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

/// Reads `stream` to its end, line by line, into `sink`; a line is cut at [`MAX_LINE_BYTES`],
/// so that even output without newlines costs bounded memory.
pub(super) async fn forward(stream: impl AsyncRead + Unpin, sink: Arc<LogSink>, source: LogSource) {
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = Vec::new();
    let mut cut = 0u64;
    loop {
        let buffer = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(buffer) => buffer,
        };
        let newline = buffer.iter().position(|&b| b == b'\n');
        let chunk = &buffer[..newline.unwrap_or(buffer.len())];
        let room = MAX_LINE_BYTES.saturating_sub(line.len());
        let keep = chunk.len().min(room);
        line.extend_from_slice(&chunk[..keep]);
        cut += (chunk.len() - keep) as u64;
        let consumed = newline.map_or(buffer.len(), |i| i + 1);
        reader.consume(consumed);
        if newline.is_some() {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            sink.push(&line, cut, &source);
            line.clear();
            cut = 0;
        }
    }
    if !line.is_empty() || cut > 0 {
        sink.push(&line, cut, &source);
    }
}

/// The lines already written, waiting briefly for those still in the pipes; bounded in time
/// even for a process that never stops writing.
pub(super) async fn drain(sink: &LogSink) -> Vec<String> {
    let give_up = Instant::now() + LOG_DRAIN_LIMIT;
    let mut seen = sink.received();
    loop {
        tokio::time::sleep(LOG_SETTLE).await;
        let now = sink.received();
        if now == seen || Instant::now() >= give_up {
            break;
        }
        seen = now;
    }
    sink.take()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: Vec<u8>) -> Vec<String> {
        let sink = LogSink::new();
        crate::emulator::tokio_runtime().unwrap().block_on(forward(
            &input[..],
            Arc::clone(&sink),
            LogSource::Function,
        ));
        sink.take()
    }

    #[test]
    fn lines_are_split_and_carriage_returns_dropped() {
        assert_eq!(collect(b"a\r\nb\n\nc".to_vec()), ["a", "b", "", "c"]);
    }

    #[test]
    fn long_lines_and_floods_are_bounded_and_said_to_be() {
        let lines = collect(vec![b'x'; 3 * MAX_LINE_BYTES]);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with(&"x".repeat(MAX_LINE_BYTES)));
        assert!(lines[0].ends_with(&format!(
            " [emulator: {} more bytes of this line dropped]",
            2 * MAX_LINE_BYTES
        )));

        let flood = "y\n".repeat(2 * MAX_KEPT_BYTES).into_bytes();
        let lines = collect(flood);
        let kept: usize = lines[..lines.len() - 1].iter().map(String::len).sum();
        assert_eq!(kept, MAX_KEPT_BYTES);
        let note = lines.last().unwrap();
        assert!(
            note.starts_with(&format!(
                "emulator: log truncated: {} more lines",
                MAX_KEPT_BYTES
            )),
            "{note}"
        );
    }
}
