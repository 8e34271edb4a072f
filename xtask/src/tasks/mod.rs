//! One module per `cargo xtask` task.

pub mod bench_serve;
pub mod clean;
pub mod deploy;
pub mod image;
pub mod invoke;
pub mod package;
pub mod serve;
pub mod setup;
pub mod template;
pub mod test;

/// `invoke`, `serve` and `bench` run the function's Linux bootstrap on this machine: they stop
/// here, before starting anything, on any other host.
pub fn require_linux_host(task: &str) -> anyhow::Result<()> {
    if cfg!(target_os = "linux") {
        return Ok(());
    }
    anyhow::bail!(
        "`cargo xtask {task}` runs the function's Linux bootstrap on this machine, so it needs \
         Linux: run it in WSL 2 on Windows, or in a Linux VM or container (on macOS too); \
         package, deploy and image work here"
    )
}
