//! `serve --watch`: the source changes of a workspace, debounced (an editor's save is several
//! file events; a `git checkout` is hundreds), as batches of changed paths on a channel.
//! Which paths count is [`is_source`] (pure).

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{new_debouncer, DebounceEventResult, Debouncer};

/// The watcher could not start.
#[derive(Debug, thiserror::Error)]
#[error("watching {} for changes", root.display())]
pub struct Error {
    root: PathBuf,
    #[source]
    source: notify_debouncer_mini::notify::Error,
}

/// How long the files must be quiet before a batch of changes is reported.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// A change that may change the binary: Rust sources, manifests, the lock file, build
/// scripts' inputs under `src/`; not what builds write (`ignored`: the target and dist
/// folders), nor VCS data, nor editors' swap and backup files.
pub fn is_source(path: &Path, ignored: &[PathBuf]) -> bool {
    if ignored.iter().any(|dir| path.starts_with(dir)) {
        return false;
    }
    if path
        .components()
        .any(|c| matches!(c.as_os_str().to_str(), Some(".git" | "target" | "dist")))
    {
        return false;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with(".#") || name.ends_with('~') || name.ends_with(".swp") {
        return false;
    }
    name == "Cargo.lock"
        || matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("rs" | "toml")
        )
}

/// Watches `root` recursively; keep it alive as long as changes are wanted.
pub struct SourceWatch {
    _debouncer: Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>,
    /// Each batch of changed source paths, once the files are quiet for [`DEBOUNCE`].
    pub changes: tokio::sync::mpsc::UnboundedReceiver<Vec<PathBuf>>,
}

/// Starts watching `root`, reporting the changes [`is_source`] keeps.
pub fn watch(root: &Path, ignored: Vec<PathBuf>) -> Result<SourceWatch, Error> {
    let (sender, changes) = tokio::sync::mpsc::unbounded_channel();
    let failed = |source| Error {
        root: root.to_path_buf(),
        source,
    };
    // Reading a file is an event too (cargo reads Cargo.toml and Cargo.lock on each build):
    // a path counts when its modification time moved past the last one seen, or it is gone.
    let started = std::time::SystemTime::now();
    let mut seen: std::collections::HashMap<PathBuf, std::time::SystemTime> = Default::default();
    let mut modified = move |path: &Path| {
        let Ok(time) = std::fs::metadata(path).and_then(|m| m.modified()) else {
            return true;
        };
        let last = seen.insert(path.to_path_buf(), time).unwrap_or(started);
        time > last
    };
    let mut debouncer = new_debouncer(DEBOUNCE, move |result: DebounceEventResult| {
        if let Ok(events) = result {
            let mut paths: Vec<PathBuf> = events
                .into_iter()
                .map(|e| e.path)
                .filter(|p| is_source(p, &ignored) && modified(p))
                .collect();
            paths.sort();
            paths.dedup();
            if !paths.is_empty() {
                let _ = sender.send(paths);
            }
        }
    })
    .map_err(failed)?;
    debouncer
        .watcher()
        .watch(root, RecursiveMode::Recursive)
        .map_err(failed)?;
    Ok(SourceWatch {
        _debouncer: debouncer,
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sources_trigger_a_rebuild() {
        let ignored = [PathBuf::from("/ws/build-out")];
        for source in [
            "/ws/src/handler.rs",
            "/ws/Cargo.toml",
            "/ws/Cargo.lock",
            "/ws/fns/a/build.rs",
        ] {
            assert!(is_source(Path::new(source), &ignored), "{source}");
        }
        for other in [
            "/ws/build-out/x/lambda-dev/a.rs",
            "/ws/target/debug/build/x/out.rs",
            "/ws/dist/lambda-x86_64.zip",
            "/ws/.git/index",
            "/ws/src/.#handler.rs",
            "/ws/src/handler.rs~",
            "/ws/src/.handler.rs.swp",
            "/ws/README.md",
        ] {
            assert!(!is_source(Path::new(other), &ignored), "{other}");
        }
    }

    /// A real file system event arrives as one batch.
    #[tokio::test]
    async fn an_edit_arrives_once_debounced() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("src")).unwrap();
        let mut watch = watch(&root, vec![]).unwrap();
        let file = root.join("src/main.rs");
        std::fs::write(&file, "fn main() {}").unwrap();
        std::fs::write(root.join("notes.txt"), "not a source").unwrap();
        std::fs::write(&file, "fn main() { }").unwrap();
        let batch = tokio::time::timeout(Duration::from_secs(10), watch.changes.recv())
            .await
            .expect("a change within 10 s")
            .unwrap();
        assert_eq!(batch, std::slice::from_ref(&file));
        // Reading it (as cargo reads its manifests) is no change.
        std::fs::read(&file).unwrap();
        let quiet = tokio::time::timeout(DEBOUNCE * 5, watch.changes.recv()).await;
        assert!(quiet.is_err(), "{quiet:?}");
    }
}
