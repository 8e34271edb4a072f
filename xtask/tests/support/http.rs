//! HTTP clients of the tests that call the emulator as users do: curl (its status, headers
//! and body read back) and Python scripts run by the test virtualenv's interpreter (boto3).

use std::process::Command;

use serde_json::Value;

/// A curl call: its status line's code, headers (lower-case names) and body.
pub struct Curl {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Curl {
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// `curl --silent --show-error --max-time 60 <args>`, which must succeed.
pub fn curl(args: &[&str]) -> Curl {
    let dir = tempfile::tempdir().unwrap();
    let headers_file = dir.path().join("headers");
    let output = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "60",
            "--dump-header",
        ])
        .arg(&headers_file)
        .args(args)
        .output()
        .expect("curl runs");
    assert!(
        output.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let headers = std::fs::read_to_string(&headers_file).unwrap();
    let mut lines = headers.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Curl {
        status,
        headers,
        body: output.stdout,
    }
}

/// What the test virtualenv's Python prints as JSON when it runs `script` with `args` (a
/// clean environment: nothing of the caller's AWS setup).
pub fn python_json(script: &str, args: &[&str]) -> Value {
    let python = xtask::repository::Venv::Test.program("python").unwrap();
    let output = Command::new(python)
        .args(["-c", script])
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
