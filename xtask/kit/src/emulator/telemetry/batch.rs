//! When a subscriber's batch goes out: as soon as it holds `maxItems` events or `maxBytes`
//! bytes, else `timeoutMs` after its first event arrived; and whatever is left when the
//! environment shuts down. Pure: the caller passes the time.

use std::time::Instant;

use super::subscription::Buffering;

/// The events waiting for the next delivery to one subscriber, each already JSON.
#[derive(Debug)]
pub struct Batch {
    limits: Buffering,
    events: Vec<String>,
    bytes: usize,
    /// When its first event arrived.
    opened: Option<Instant>,
}

impl Batch {
    pub fn new(limits: Buffering) -> Batch {
        Batch {
            limits,
            events: Vec::new(),
            bytes: 0,
            opened: None,
        }
    }

    /// Adds an event at `now`; `true` when the batch is full and must go now.
    pub fn push(&mut self, event: String, now: Instant) -> bool {
        self.opened.get_or_insert(now);
        self.bytes += event.len();
        self.events.push(event);
        self.events.len() >= self.limits.max_items || self.bytes >= self.limits.max_bytes
    }

    /// When the batch must go if nothing fills it first; `None` when it is empty.
    pub fn deadline(&self) -> Option<Instant> {
        self.opened.map(|opened| opened + self.limits.timeout)
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Empties the batch; its events, oldest first.
    pub fn take(&mut self) -> Vec<String> {
        self.bytes = 0;
        self.opened = None;
        std::mem::take(&mut self.events)
    }
}

/// The body of an HTTP delivery: a JSON array of the events.
pub fn json_array(events: &[String]) -> String {
    let mut body = String::with_capacity(events.iter().map(|e| e.len() + 1).sum::<usize>() + 2);
    body.push('[');
    body.push_str(&events.join(","));
    body.push(']');
    body
}

/// The bytes of a TCP delivery: newline-delimited JSON.
pub fn ndjson(events: &[String]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(max_items: usize, max_bytes: usize) -> Buffering {
        Buffering {
            max_items,
            max_bytes,
            timeout: Duration::from_millis(100),
        }
    }

    #[test]
    fn the_first_limit_reached_sends_the_batch() {
        let now = Instant::now();
        let mut by_items = Batch::new(limits(3, 1_000));
        assert!(!by_items.push("1".into(), now));
        assert!(!by_items.push("2".into(), now));
        assert!(by_items.push("3".into(), now));
        assert_eq!(by_items.take(), ["1", "2", "3"]);
        assert!(by_items.is_empty() && by_items.deadline().is_none());

        let mut by_bytes = Batch::new(limits(1_000, 10));
        assert!(!by_bytes.push("12345".into(), now));
        assert!(by_bytes.push("67890".into(), now));
    }

    #[test]
    fn the_timeout_runs_from_the_first_event() {
        let start = Instant::now();
        let mut batch = Batch::new(limits(1_000, 1_000));
        assert_eq!(batch.deadline(), None);
        batch.push("a".into(), start);
        batch.push("b".into(), start + Duration::from_millis(60));
        assert_eq!(batch.deadline(), Some(start + Duration::from_millis(100)));
        batch.take();
        batch.push("c".into(), start + Duration::from_millis(150));
        assert_eq!(batch.deadline(), Some(start + Duration::from_millis(250)));
    }

    #[test]
    fn bodies() {
        let events = ["{\"a\":1}".to_string(), "{\"b\":2}".to_string()];
        assert_eq!(json_array(&events), "[{\"a\":1},{\"b\":2}]");
        assert_eq!(json_array(&[]), "[]");
        assert_eq!(ndjson(&events), "{\"a\":1}\n{\"b\":2}\n");
    }
}
