//! Delivery to one subscriber: its events batched ([`super::batch`]) and sent as Lambda sends
//! them, an HTTP POST of a JSON array (over a kept-alive connection) or newline-delimited JSON
//! over TCP. A failed delivery is retried with backoff, as Lambda does when the listener is not
//! up yet or answers an error; after the last try the batch is dropped.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use super::batch::{self, Batch};
use super::records::Record;
use super::subscription::{Destination, Stream, Subscription};
use crate::emulator::report;

/// The waits between tries of one delivery: about 1.5 s in all.
const RETRY_DELAYS_MS: [u64; 5] = [10, 40, 160, 320, 960];

/// What waits for a subscriber's task, bounded as Lambda bounds a subscriber's buffer: past
/// [`Queue::limit`] bytes, events are dropped and counted, and the next delivery starts with a
/// `platform.logsDropped` event that says how many.
#[derive(Debug, Default)]
pub struct Queue {
    limit: usize,
    queued: AtomicUsize,
    dropped_records: AtomicU64,
    dropped_bytes: AtomicU64,
}

impl Queue {
    /// A queue of at most `limit` bytes.
    pub fn new(limit: usize) -> Queue {
        Queue {
            limit,
            ..Queue::default()
        }
    }

    /// Whether an event of `bytes` may wait; when not, it is counted as dropped.
    pub fn admit(&self, bytes: usize) -> bool {
        if self.queued.load(Ordering::Relaxed) + bytes > self.limit {
            self.dropped_records.fetch_add(1, Ordering::Relaxed);
            self.dropped_bytes
                .fetch_add(bytes as u64, Ordering::Relaxed);
            return false;
        }
        self.queued.fetch_add(bytes, Ordering::Relaxed);
        true
    }

    /// An event of `bytes` was taken into a batch.
    fn taken(&self, bytes: usize) {
        self.queued.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// The records and bytes dropped since the last call.
    pub fn take_dropped(&self) -> (u64, u64) {
        (
            self.dropped_records.swap(0, Ordering::Relaxed),
            self.dropped_bytes.swap(0, Ordering::Relaxed),
        )
    }
}

/// What the subscriber's task is sent.
#[derive(Debug)]
pub enum Command {
    /// An event, as JSON.
    Event(String),
    /// Send what is batched now; answer when it was sent (or dropped).
    Flush(oneshot::Sender<()>),
}

/// Runs until every sender is gone: batches `commands` and delivers them to `subscription`'s
/// destination, each batch led by a `platform.logsDropped` event when `queue` dropped some.
pub async fn run(
    subscription: Subscription,
    queue: Arc<Queue>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut sink = Sink::new(&subscription.destination);
    let mut batch = Batch::new(subscription.buffering);
    let dropped = |batch: &mut Batch| {
        let (records, bytes) = queue.take_dropped();
        if records == 0 || !subscription.wants(Stream::Platform) {
            return;
        }
        let time_ms = report::unix_ms(std::time::SystemTime::now());
        let record = Record::LogsDropped { records, bytes };
        for event in record.render(subscription.api, &subscription.schema_version, time_ms) {
            batch.push(event.to_string(), std::time::Instant::now());
        }
    };
    loop {
        let deadline = batch.deadline();
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Event(event)) => {
                    queue.taken(event.len());
                    if batch.is_empty() {
                        dropped(&mut batch);
                    }
                    if batch.push(event, std::time::Instant::now()) {
                        sink.deliver(&batch.take()).await;
                    }
                }
                Some(Command::Flush(done)) => {
                    if !batch.is_empty() {
                        sink.deliver(&batch.take()).await;
                    }
                    let _ = done.send(());
                }
                None => {
                    if !batch.is_empty() {
                        sink.deliver(&batch.take()).await;
                    }
                    return;
                }
            },
            () = timer => {
                sink.deliver(&batch.take()).await;
            }
        }
    }
}

enum Sink {
    Http {
        url: String,
        client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    },
    Tcp {
        port: u16,
        stream: Option<tokio::net::TcpStream>,
    },
}

impl Sink {
    fn new(destination: &Destination) -> Sink {
        match destination {
            Destination::Http { url, .. } => Sink::Http {
                url: url.clone(),
                client: Client::builder(TokioExecutor::new()).build_http(),
            },
            Destination::Tcp { port } => Sink::Tcp {
                port: *port,
                stream: None,
            },
        }
    }

    /// Sends `events`, retrying with backoff; `false` when every try failed.
    async fn deliver(&mut self, events: &[String]) -> bool {
        for delay in std::iter::once(0).chain(RETRY_DELAYS_MS) {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            if self.try_deliver(events).await {
                return true;
            }
        }
        false
    }

    async fn try_deliver(&mut self, events: &[String]) -> bool {
        match self {
            Sink::Http { url, client } => {
                let request = hyper::Request::post(url.as_str())
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(batch::json_array(events))));
                let Ok(request) = request else {
                    return false;
                };
                match client.request(request).await {
                    Ok(response) => response.status().is_success(),
                    Err(_) => false,
                }
            }
            Sink::Tcp { port, stream } => {
                if stream.is_none() {
                    *stream = tokio::net::TcpStream::connect(("127.0.0.1", *port))
                        .await
                        .ok();
                }
                let Some(open) = stream else {
                    return false;
                };
                let written = open.write_all(batch::ndjson(events).as_bytes()).await;
                if written.is_err() {
                    *stream = None; // reconnect on the next try
                }
                written.is_ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts() {
        let queue = Queue::new(10);
        assert!(queue.admit(6));
        assert!(!queue.admit(5));
        assert!(!queue.admit(7));
        assert!(queue.admit(4));
        assert_eq!(queue.take_dropped(), (2, 12));
        assert_eq!(queue.take_dropped(), (0, 0));
        queue.taken(6);
        assert!(queue.admit(6));
    }
}
