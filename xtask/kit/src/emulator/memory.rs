//! Resident memory of a process tree, read from Linux's `/proc`: the current RSS (`VmRSS`, polled
//! during an invocation to catch a function going over its memory size) and the peak
//! (`VmHWM`, the "high water mark", for `Max Memory Used`). Parsing is pure; reading is
//! best-effort, since a process may end between two reads.

use std::collections::{HashSet, VecDeque};
use std::path::Path;

/// Resident figures of one process, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resident {
    /// `VmRSS`: resident now.
    pub current: u64,
    /// `VmHWM`: the most it has been resident.
    pub peak: u64,
}

impl std::ops::Add for Resident {
    type Output = Resident;
    fn add(self, other: Resident) -> Resident {
        Resident {
            current: self.current + other.current,
            peak: self.peak + other.peak,
        }
    }
}

/// Reads `VmRSS` and `VmHWM` from the text of `/proc/<pid>/status`; `None` when neither is
/// there (a zombie has none).
pub fn parse_status(status: &str) -> Option<Resident> {
    let mut current = None;
    let mut peak = None;
    for line in status.lines() {
        if let Some(value) = line.strip_prefix("VmRSS:") {
            current = parse_kb(value);
        } else if let Some(value) = line.strip_prefix("VmHWM:") {
            peak = parse_kb(value);
        }
    }
    if current.is_none() && peak.is_none() {
        return None;
    }
    let current = current.unwrap_or(0);
    Some(Resident {
        current,
        peak: peak.unwrap_or(current).max(current),
    })
}

/// `"   1234 kB"` → 1234 × 1024 bytes (the kernel's kB is 1024 bytes).
fn parse_kb(value: &str) -> Option<u64> {
    let number = value.trim().strip_suffix("kB")?.trim();
    number.parse::<u64>().ok()?.checked_mul(1024)
}

/// The parent pid from the text of `/proc/<pid>/stat`: the field after the command name, which
/// is in parentheses and may itself hold spaces and parentheses.
pub fn parse_stat_ppid(stat: &str) -> Option<u32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    let _state = fields.next()?;
    fields.next()?.parse().ok()
}

/// The resident figures of `root` and every descendant, summed; `None` when `root` is gone.
pub fn tree_resident(root: u32) -> Option<Resident> {
    let proc = Path::new("/proc");
    let mut total = read_resident(proc, root)?;
    for pid in descendants(proc, root) {
        if let Some(resident) = read_resident(proc, pid) {
            total = total + resident;
        }
    }
    Some(total)
}

fn read_resident(proc: &Path, pid: u32) -> Option<Resident> {
    let status = std::fs::read_to_string(proc.join(pid.to_string()).join("status")).ok()?;
    parse_status(&status)
}

/// Descendants of `root`, from each thread's `children` file when the kernel has them
/// (CONFIG_PROC_CHILDREN), else from a scan of every process's parent.
fn descendants(proc: &Path, root: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut seen = HashSet::from([root]);
    let mut queue = VecDeque::from([root]);
    while let Some(pid) = queue.pop_front() {
        let Some(children) = children_of(proc, pid) else {
            return scan_descendants(proc, root);
        };
        for child in children {
            if seen.insert(child) {
                found.push(child);
                queue.push_back(child);
            }
        }
    }
    found
}

fn children_of(proc: &Path, pid: u32) -> Option<Vec<u32>> {
    let tasks = std::fs::read_dir(proc.join(pid.to_string()).join("task")).ok()?;
    let mut children = Vec::new();
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).ok()?;
        children.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    Some(children)
}

fn scan_descendants(proc: &Path, root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            Some((pid, parse_stat_ppid(&stat)?))
        })
        .collect();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == parent && pid != root && !found.contains(&pid) {
                found.push(pid);
                frontier.push(pid);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_and_peak_from_status() {
        let status =
            "Name:\tbootstrap\nVmPeak:\t  20000 kB\nVmHWM:\t    9000 kB\nVmRSS:\t    8000 kB\n";
        assert_eq!(
            parse_status(status),
            Some(Resident {
                current: 8000 * 1024,
                peak: 9000 * 1024
            })
        );
        assert_eq!(parse_status("Name:\tzombie\nState:\tZ (zombie)\n"), None);
        assert_eq!(
            parse_status("VmRSS:\t 12 kB\n"),
            Some(Resident {
                current: 12 * 1024,
                peak: 12 * 1024
            })
        );
        assert_eq!(parse_status("VmRSS:\tlots kB\n"), None);
    }

    #[test]
    fn parent_pid_survives_odd_command_names() {
        assert_eq!(parse_stat_ppid("42 (bootstrap) S 7 42 42 0"), Some(7));
        assert_eq!(parse_stat_ppid("42 (a) b (c) R 9 1 1"), Some(9));
        assert_eq!(parse_stat_ppid("garbage"), None);
    }

    #[test]
    fn this_process_has_resident_memory() {
        let own = tree_resident(std::process::id()).expect("own /proc entry");
        assert!(own.current > 0 && own.peak >= own.current, "{own:?}");
        assert_eq!(tree_resident(u32::MAX), None);
    }
}
