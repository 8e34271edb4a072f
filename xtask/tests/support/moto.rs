//! A moto server (a real AWS API mock) on 127.0.0.1 for the tests that run the real AWS CLI:
//! its own port, a private AWS configuration, and nothing from the caller's AWS setup.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use xtask::repository::Venv;

use super::run::Xtask;

/// A pinned program of the test virtualenv (`aws`, `moto_server`), or a failure saying how to
/// install it.
pub fn test_tool(name: &str) -> PathBuf {
    Venv::Test.program(name).unwrap_or_else(|e| {
        panic!("{e:#}\nthe AWS tests need the pinned AWS CLI and moto: run `cargo xtask setup`")
    })
}

/// A port of 127.0.0.1 free now (another process may take it before it is used).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A moto server on a free port of 127.0.0.1, with a private AWS configuration for the CLI
/// (dummy credentials, empty config files); killed when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
    dir: tempfile::TempDir,
}

impl Moto {
    /// A moto server of its own: tests run in parallel, and a port found free can be taken by
    /// another test's server before this one binds it. Then this server exits (and the port
    /// answers, but for the other test); so it is started again on another port.
    pub fn start() -> Moto {
        for _ in 0..5 {
            if let Some(moto) = Moto::try_start() {
                return moto;
            }
        }
        panic!("moto_server could not keep a port of its own in 5 tries");
    }

    fn try_start() -> Option<Moto> {
        let moto_server = test_tool("moto_server");
        // Fail now, not halfway through a test, when the CLI is missing.
        test_tool("aws");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config"), "").unwrap();
        std::fs::write(dir.path().join("credentials"), "").unwrap();
        let log = File::create(dir.path().join("moto.log")).unwrap();
        let port = free_port();
        let child = Command::new(moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // For `iam attach-role-policy` of AWSLambdaBasicExecutionRole.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            // moto would run invoked functions in Docker; only the CLI's side of invoke is
            // tested, so make that fail fast whatever the machine has.
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting moto_server: {e}"));
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        // Ready when this server says it runs on the port (a connection alone could reach
        // another test's server that took the port first).
        let running = format!("Running on http://127.0.0.1:{port}");
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                if moto.log().contains("in use") {
                    return None;
                }
                panic!("moto_server exited ({status}):\n{}", moto.log());
            }
            if moto.log().contains(&running) && TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(moto);
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto_server did not listen on {} within 60 s:\n{}",
                moto.url,
                moto.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("moto.log")).unwrap_or_default()
    }

    /// A folder of this server's own, for files a test does not keep.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The AWS environment of every program run against this server: the caller's settings
    /// removed as for every xtask a test runs ([`super::run::isolate`]: profiles, roles, web
    /// identity and container credentials, endpoints…), so only the dummy credentials below may
    /// sign a request, and only here.
    pub fn isolate<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        super::run::isolate(command)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", self.dir.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("credentials"),
            )
            // `cloudformation package` makes its own S3 client, which does not take
            // --endpoint-url.
            .env("AWS_ENDPOINT_URL_S3", &self.url)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(Stdio::null())
    }
}

impl Moto {
    /// PATH with the pinned `aws` of the test virtualenv first, so that the kit runs it.
    pub fn path(&self) -> OsString {
        let aws_dir = test_tool("aws").parent().unwrap().to_path_buf();
        let mut path = vec![aws_dir];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(path).unwrap()
    }

    /// `cargo xtask <args>` against this server: the harness's xtask ([`super::xtask`]) with
    /// this server's AWS environment and the pinned `aws` first on PATH.
    pub fn xtask<I, S>(&self, args: I) -> Xtask
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut xtask = super::xtask(args);
        self.isolate(xtask.command());
        xtask.env("PATH", self.path())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
