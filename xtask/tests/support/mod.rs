//! What the test binaries share: one way to run `cargo xtask` ([`run`]: an isolated
//! environment, the output echoed), the reference digits ([`digits`]), the fixture workspace,
//! the printed commands built as the tasks build them ([`commands`]), a moto server for the
//! real AWS CLI ([`moto`]), the HTTP clients that call the emulator (curl, boto3: [`http`]), and
//! `serve` run as a user runs it ([`serve`]).
#![allow(dead_code)] // each test file uses its part

pub mod commands;
pub mod digits;
pub mod http;
pub mod moto;
pub mod run;
#[cfg(unix)] // Ctrl-C is a signal
pub mod serve;

#[allow(unused_imports)] // each test file uses its part
pub use digits::pi_digits;
#[allow(unused_imports)]
pub use run::{isolate, xtask, Xtask};

use std::path::{Path, PathBuf};

/// The fixture workspace `tests/fixtures/two-packages` (two packages, three functions, settings
/// at all three levels), copied below the test target directory: its `dist/` and `target/` go
/// there, not into the repository, and the copy's `target/` is kept between runs so that a
/// rerun is warm. Test binaries run one after another, so they share one copy and its build.
pub fn fixture(copy_name: &str) -> PathBuf {
    fixture_of("two-packages", copy_name)
}

/// The fixture workspace `tests/fixtures/<source>`, copied as [`fixture`] copies its own.
pub fn fixture_of(source: &str, copy_name: &str) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(source);
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join(copy_name);
    let _ = std::fs::remove_dir_all(copy.join("dist"));
    copy_tree(&source, &copy);
    copy
}

/// Copies a folder's files and subfolders, overwriting.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
