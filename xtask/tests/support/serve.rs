//! `cargo xtask serve` as a test runs it: started on a free port, its stdout and stderr lines
//! echoed and read as they come, stopped with Ctrl-C (SIGINT) as a user would, or killed when
//! the test ends.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::run::Xtask;

pub struct Served {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    /// `127.0.0.1:<port>`.
    pub address: String,
}

impl Served {
    /// Runs `serve` (a `cargo xtask serve …` command with `--port 0`) until it listens.
    pub fn spawn(serve: Xtask) -> Served {
        let mut child = serve
            .with(|c| c.stdout(Stdio::piped()).stderr(Stdio::piped()))
            .spawn();
        let (sender, lines) = mpsc::channel::<String>();
        let stderr = child.stderr.take().unwrap();
        let err_sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("serve: {line}");
                let _ = err_sender.send(line);
            }
        });
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("serve: {line}");
                let _ = sender.send(line);
            }
        });
        let mut served = Served {
            child,
            lines,
            address: String::new(),
        };
        let listening = served.wait_for(
            &|l| l.starts_with("Listening on http://"),
            Duration::from_secs(600),
        );
        served.address = listening["Listening on http://".len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        served
    }

    /// The first line from now on that `what` accepts.
    pub fn wait_for(&mut self, what: &dyn Fn(&str) -> bool, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if what(&line) => return line,
                Ok(_) => {}
                Err(_) => panic!("serve did not print the expected line within {within:?}"),
            }
        }
    }

    /// Stops it with SIGINT (Ctrl-C) and returns every line it printed from now until it
    /// exited, and how long it took to exit.
    pub fn interrupt(mut self) -> (Vec<String>, Duration) {
        let started = Instant::now();
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) sends a signal; it touches no memory.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
        let status = self.child.wait().unwrap();
        let took = started.elapsed();
        assert!(status.success(), "serve ended with {status}");
        let lines = std::iter::from_fn(|| self.lines.recv_timeout(Duration::from_secs(5)).ok());
        (lines.collect(), took)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
