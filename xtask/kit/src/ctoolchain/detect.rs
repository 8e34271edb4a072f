//! Which packages of a function's dependency graph compile C, read before building from
//! `cargo metadata --format-version 1 --filter-platform <target>` (the full resolve, not
//! `--no-deps`: the C is always in dependencies).
//!
//! The rule, per package:
//! - only packages **compiled for the target** count: the function's normal dependencies,
//!   transitively, but not below a proc-macro nor through build-dependencies (those are compiled
//!   for the host, by the host's C compiler; reported apart);
//! - the package has a build script, and its **resolved** build-dependencies (the resolve's
//!   edges, so optional ones only when a feature enabled them) include a C build tool: `cc`,
//!   `cmake`, `autotools`, `cxx-build` (C++) or `nasm-rs` → it compiles C for the target;
//! - else, with a `links` key and `pkg-config`/`vcpkg`/`system-deps` → it looks for a prebuilt
//!   library of the target: a C compiler does not help (libsqlite3-sys without `bundled`);
//! - `links` alone is no sign: pure-Rust crates use it to pass metadata or to forbid two
//!   versions (aws-lc-rs, rayon-core, prettyplease);
//! - a few known crates are told apart by name: `backtrace` ≤ 0.3.69 depends on `cc` but compiles
//!   C only for Android; `openssl-sys` depends on `cc` but needs the target's OpenSSL unless
//!   `openssl-src` (its `vendored` feature) is among its build-dependencies.
//!
//! `cargo metadata` resolves features for the whole workspace at once, while `cargo build -p`
//! resolves them for the packages it builds: in a workspace where one member turns on a
//! feature that brings C (rusqlite's `bundled`), another member may be reported too. Setting
//! up the C compiler for a function that turns out not to need it costs nothing.

use std::collections::{BTreeMap, HashMap, VecDeque};

use cargo_metadata::{DependencyKind, Metadata, Node, Package, PackageId, TargetKind};

/// Build-dependencies that compile C, C++ or assembly for the target.
pub const C_BUILD_TOOLS: [&str; 5] = ["cc", "cmake", "autotools", "cxx-build", "nasm-rs"];

/// Build-dependencies that look for a prebuilt library.
pub const LIBRARY_FINDERS: [&str; 3] = ["pkg-config", "vcpkg", "system-deps"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// It compiles C for the target (the tools among its build-dependencies).
    CCompiler { tools: Vec<String> },
    /// It links a prebuilt library of the target, found by pkg-config/vcpkg: a C compiler does
    /// not help; the advice says what does.
    TargetLibrary { links: String, advice: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CPackage {
    pub name: String,
    pub version: String,
    pub need: Need,
    /// How the function reaches it: the function's package first, this package last.
    pub via: Vec<String>,
    /// What else its build needs or does (CMake, libclang, make…), for the messages.
    pub notes: Vec<String>,
}

/// What compiles C in one function's graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CReport {
    /// Compiled for the target: the kit's C toolchain (zig) is for these.
    pub target: Vec<CPackage>,
    /// Compiled for the host (build-dependencies, proc-macros): the host's own C compiler.
    pub host: Vec<CPackage>,
}

impl CReport {
    pub fn needs_target_c_compiler(&self) -> bool {
        self.target
            .iter()
            .any(|p| matches!(p.need, Need::CCompiler { .. }))
    }

    /// The target's packages that compile C, one line each.
    pub fn compiler_lines(&self) -> Vec<String> {
        self.target_lines(|need| matches!(need, Need::CCompiler { .. }))
    }

    /// The target's packages that link a prebuilt library of the target, one line each.
    pub fn library_lines(&self) -> Vec<String> {
        self.target_lines(|need| matches!(need, Need::TargetLibrary { .. }))
    }

    fn target_lines(&self, keep: impl Fn(&Need) -> bool) -> Vec<String> {
        let kept = CReport {
            target: self
                .target
                .iter()
                .filter(|p| keep(&p.need))
                .cloned()
                .collect(),
            host: Vec::new(),
        };
        kept.lines()
    }

    /// One line per package, for the kit's "before building" message.
    pub fn lines(&self) -> Vec<String> {
        let line = |p: &CPackage, side: &str| {
            let what = match &p.need {
                Need::CCompiler { tools } => {
                    format!("compiles C for the {side} ({})", tools.join(", "))
                }
                Need::TargetLibrary { links, advice } => {
                    format!("links the {side}'s prebuilt `{links}` library: {advice}")
                }
            };
            let notes = if p.notes.is_empty() {
                String::new()
            } else {
                format!("; {}", p.notes.join("; "))
            };
            format!(
                "{} {} {what}{notes} (via {})",
                p.name,
                p.version,
                p.via.join(" → ")
            )
        };
        self.target
            .iter()
            .map(|p| line(p, "target"))
            .chain(self.host.iter().map(|p| line(p, "host")))
            .collect()
    }
}

/// The packages of `function`'s graph that compile C, for the platform the metadata was
/// filtered for (`target_os`: "linux" for the Lambda targets).
pub fn c_packages(metadata: &Metadata, function: &PackageId, target_os: &str) -> CReport {
    let packages: HashMap<&PackageId, &Package> =
        metadata.packages.iter().map(|p| (&p.id, p)).collect();
    let nodes: HashMap<&PackageId, &Node> = metadata
        .resolve
        .as_ref()
        .map(|r| r.nodes.iter().map(|n| (&n.id, n)).collect())
        .unwrap_or_default();
    let name = |id: &PackageId| {
        packages
            .get(id)
            .map_or_else(|| id.repr.clone(), |p| p.name.clone())
    };

    // Target side: normal edges, stopping at proc-macros. Every build-dependency, and every
    // proc-macro's dependency, starts the host side.
    let target_paths = walk(
        &nodes,
        &packages,
        [(function.clone(), vec![name(function)])],
        Side::Target,
    );
    let host_roots: Vec<(PackageId, Vec<String>)> = target_paths
        .iter()
        .flat_map(|(id, via)| {
            let proc_macro = packages.get(id).is_some_and(|p| is_proc_macro(p));
            nodes.get(id).into_iter().flat_map(move |node| {
                node.deps.iter().filter_map(move |dep| {
                    let build = has_kind(dep, DependencyKind::Build);
                    let normal = has_kind(dep, DependencyKind::Normal);
                    (build || (proc_macro && normal)).then(|| (dep.pkg.clone(), via.clone()))
                })
            })
        })
        .map(|(id, mut via)| {
            via.push(name(&id));
            (id, via)
        })
        .collect();
    let host_paths = walk(&nodes, &packages, host_roots, Side::Host);

    let classify_all = |paths: &BTreeMap<PackageId, Vec<String>>| {
        let mut found: Vec<CPackage> = paths
            .iter()
            .filter_map(|(id, via)| {
                let package = packages.get(id)?;
                let node = nodes.get(id)?;
                classify(package, node, &packages, target_os).map(|(need, notes)| CPackage {
                    name: package.name.clone(),
                    version: package.version.to_string(),
                    need,
                    via: via.clone(),
                    notes,
                })
            })
            .collect();
        found.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        found
    };
    CReport {
        target: classify_all(&target_paths),
        host: classify_all(&host_paths),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Target,
    Host,
}

/// Breadth first, so each package keeps a shortest path from its root.
fn walk(
    nodes: &HashMap<&PackageId, &Node>,
    packages: &HashMap<&PackageId, &Package>,
    roots: impl IntoIterator<Item = (PackageId, Vec<String>)>,
    side: Side,
) -> BTreeMap<PackageId, Vec<String>> {
    let mut seen: BTreeMap<PackageId, Vec<String>> = BTreeMap::new();
    let mut queue: VecDeque<(PackageId, Vec<String>)> = roots.into_iter().collect();
    while let Some((id, via)) = queue.pop_front() {
        if seen.contains_key(&id) {
            continue;
        }
        seen.insert(id.clone(), via.clone());
        let Some(node) = nodes.get(&id) else { continue };
        if side == Side::Target && packages.get(&id).is_some_and(|p| is_proc_macro(p)) {
            continue;
        }
        for dep in &node.deps {
            let follow = has_kind(dep, DependencyKind::Normal)
                || (side == Side::Host && has_kind(dep, DependencyKind::Build));
            if follow && !seen.contains_key(&dep.pkg) {
                let mut next = via.clone();
                next.push(
                    packages
                        .get(&dep.pkg)
                        .map_or_else(|| dep.name.clone(), |p| p.name.clone()),
                );
                queue.push_back((dep.pkg.clone(), next));
            }
        }
    }
    seen
}

/// The rule of the module documentation for one package; `None`: it compiles no C.
fn classify(
    package: &Package,
    node: &Node,
    packages: &HashMap<&PackageId, &Package>,
    target_os: &str,
) -> Option<(Need, Vec<String>)> {
    if !package
        .targets
        .iter()
        .any(|t| t.kind.contains(&TargetKind::CustomBuild))
    {
        return None;
    }
    let build_deps: Vec<&str> = node
        .deps
        .iter()
        .filter(|d| has_kind(d, DependencyKind::Build))
        .filter_map(|d| packages.get(&d.pkg).map(|p| p.name.as_str()))
        .collect();
    let tools: Vec<String> = C_BUILD_TOOLS
        .iter()
        .filter(|t| build_deps.contains(t))
        .map(|t| t.to_string())
        .collect();
    let finds_library = LIBRARY_FINDERS.iter().any(|f| build_deps.contains(f));
    let links = package.links.clone();

    let mut notes = Vec::new();
    if build_deps.contains(&"bindgen") {
        notes.push("runs bindgen: needs libclang on the host".to_string());
    }
    match package.name.as_str() {
        // It depends on cc for one thing: reading Android's API level.
        "backtrace" if target_os != "android" => return None,
        "openssl-sys" if !build_deps.contains(&"openssl-src") => {
            return Some((
                Need::TargetLibrary {
                    links: links.unwrap_or_else(|| "openssl".to_string()),
                    advice: "enable the `vendored` feature of the openssl crate (builds OpenSSL from source; needs perl and make on the host), or use rustls".to_string(),
                },
                notes,
            ))
        }
        "openssl-sys" => notes.push("builds OpenSSL with its Configure script: needs perl and make on the host".to_string()),
        "aws-lc-sys" => notes.push("its cc builder covers both Lambda targets: no CMake, NASM or bindgen needed".to_string()),
        "aws-lc-fips-sys" => notes.push("FIPS builds need CMake and Go on the host".to_string()),
        "tikv-jemalloc-sys" | "jemalloc-sys" => {
            notes.push("runs jemalloc's configure and make: needs a POSIX shell and make on the host".to_string())
        }
        _ => {
            if tools.iter().any(|t| t == "cmake") {
                notes.push("may run CMake: needs cmake (and, on Windows, ninja) on the host".to_string());
            }
        }
    }
    if !tools.is_empty() {
        return Some((Need::CCompiler { tools }, notes));
    }
    match links {
        Some(links) if finds_library => {
            let advice = match package.name.as_str() {
                "libsqlite3-sys" => "enable rusqlite's (or libsqlite3-sys's) `bundled` feature".to_string(),
                _ => "a library built for the Lambda target, or the crate's feature that builds it from source".to_string(),
            };
            Some((Need::TargetLibrary { links, advice }, notes))
        }
        _ => None,
    }
}

fn has_kind(dep: &cargo_metadata::NodeDep, kind: DependencyKind) -> bool {
    dep.dep_kinds.iter().any(|k| k.kind == kind)
}

fn is_proc_macro(package: &Package) -> bool {
    package
        .targets
        .iter()
        .any(|t| t.kind.contains(&TargetKind::ProcMacro))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Metadata {
        let path = format!(
            "{}/tests/fixtures/metadata/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn member(metadata: &Metadata, name: &str) -> PackageId {
        metadata
            .workspace_members
            .iter()
            .find(|id| {
                metadata
                    .packages
                    .iter()
                    .any(|p| &p.id == *id && p.name == name)
            })
            .unwrap_or_else(|| panic!("no member {name}"))
            .clone()
    }

    fn names(packages: &[CPackage]) -> Vec<&str> {
        packages.iter().map(|p| p.name.as_str()).collect()
    }

    fn report(file: &str, function: &str) -> CReport {
        let metadata = fixture(file);
        let id = member(&metadata, function);
        c_packages(&metadata, &id, "linux")
    }

    #[test]
    fn an_s3_function_compiles_aws_lc_and_ring() {
        let r = report("sdk-and-c-crates.x86_64-musl.json", "fn-s3");
        // ring comes with the SDK too: aws-smithy-http-client's legacy hyper-rustls 0.24 →
        // rustls 0.21 → ring.
        assert_eq!(names(&r.target), ["aws-lc-sys", "ring"]);
        assert!(r.needs_target_c_compiler());
        let aws_lc = &r.target[0];
        assert_eq!(
            aws_lc.need,
            Need::CCompiler {
                tools: vec!["cc".into(), "cmake".into()]
            }
        );
        assert!(aws_lc.notes[0].contains("no CMake"), "{:?}", aws_lc.notes);
        assert_eq!(aws_lc.via.first().map(String::as_str), Some("fn-s3"));
        assert_eq!(aws_lc.via.last().map(String::as_str), Some("aws-lc-sys"));
        assert!(
            aws_lc.via.contains(&"aws-lc-rs".to_string()),
            "{:?}",
            aws_lc.via
        );
        assert!(r.host.is_empty(), "{:?}", r.host);
    }

    #[test]
    fn links_alone_is_not_c() {
        // aws-lc-rs has `links` and a build script, and no C build tool.
        let r = report("sdk-and-c-crates.x86_64-musl.json", "fn-ddb");
        assert_eq!(names(&r.target), ["aws-lc-sys", "ring"]);
    }

    #[test]
    fn each_c_crate_of_its_own_function() {
        let file = "sdk-and-c-crates.x86_64-musl.json";
        assert_eq!(names(&report(file, "fn-ring").target), ["ring"]);
        assert_eq!(names(&report(file, "fn-zstd").target), ["zstd-sys"]);
        let sqlite = report(file, "fn-sqlite");
        assert_eq!(names(&sqlite.target), ["libsqlite3-sys"]);
        assert_eq!(
            sqlite.target[0].need,
            Need::CCompiler {
                tools: vec!["cc".into()]
            }
        );
    }

    #[test]
    fn a_pure_rust_function_needs_nothing() {
        let r = report("other-c-crates.x86_64-musl.json", "pure");
        assert_eq!(r, CReport::default());
        assert!(r.lines().is_empty());
    }

    #[test]
    fn system_sqlite_needs_a_library_not_a_compiler() {
        let r = report("other-c-crates.x86_64-musl.json", "sqlite-system");
        assert_eq!(names(&r.target), ["libsqlite3-sys"]);
        assert!(!r.needs_target_c_compiler());
        match &r.target[0].need {
            Need::TargetLibrary { links, advice } => {
                assert_eq!(links, "sqlite3");
                assert!(advice.contains("`bundled`"), "{advice}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn openssl_needs_the_targets_library_unless_vendored() {
        let system = report("other-c-crates.x86_64-musl.json", "openssl-system");
        assert_eq!(names(&system.target), ["openssl-sys"]);
        assert!(
            matches!(&system.target[0].need, Need::TargetLibrary { advice, .. } if advice.contains("vendored"))
        );
        // reqwest's default features: native-tls → openssl on Linux.
        let reqwest = report("other-c-crates.x86_64-musl.json", "reqwest-default");
        assert!(
            names(&reqwest.target).contains(&"openssl-sys"),
            "{:?}",
            reqwest.target
        );
        let vendored = report("openssl-vendored.x86_64-musl.json", "openssl-vendored");
        assert_eq!(names(&vendored.target), ["openssl-sys"]);
        assert!(vendored.needs_target_c_compiler());
        assert!(
            vendored.target[0].notes.iter().any(|n| n.contains("perl")),
            "{:?}",
            vendored.target[0].notes
        );
    }

    #[test]
    fn features_are_unified_across_the_workspace() {
        // This member asks reqwest for rustls only, but its sibling `reqwest-default` turns on
        // native-tls: `cargo metadata` has one reqwest with both, so openssl-sys is reported
        // here too, while `cargo build -p reqwest-rustls` would not build it. The documented
        // over-approximation.
        let r = report("other-c-crates.x86_64-musl.json", "reqwest-rustls");
        assert_eq!(names(&r.target), ["openssl-sys", "ring"]);
    }

    #[test]
    fn allocators() {
        let jemalloc = report("other-c-crates.x86_64-musl.json", "jemalloc");
        assert_eq!(names(&jemalloc.target), ["tikv-jemalloc-sys"]);
        assert!(
            jemalloc.target[0].notes[0].contains("make"),
            "{:?}",
            jemalloc.target[0].notes
        );
        assert_eq!(
            names(&report("other-c-crates.x86_64-musl.json", "mimalloc").target),
            ["libmimalloc-sys"]
        );
    }

    #[test]
    fn old_backtrace_depends_on_cc_but_compiles_c_only_for_android() {
        let metadata = fixture("other-c-crates.x86_64-musl.json");
        let id = member(&metadata, "backtrace-old");
        assert_eq!(c_packages(&metadata, &id, "linux"), CReport::default());
        assert_eq!(
            names(&c_packages(&metadata, &id, "android").target),
            ["backtrace"]
        );
    }

    #[test]
    fn a_build_dependency_compiles_c_for_the_host_only() {
        // zstd used by build.rs (say, to compress assets): zstd-sys is compiled for the host.
        let r = report("other-c-crates.x86_64-musl.json", "buildtime-zstd");
        assert!(r.target.is_empty(), "{:?}", r.target);
        assert!(!r.needs_target_c_compiler());
        assert_eq!(names(&r.host), ["zstd-sys"]);
        assert_eq!(
            r.host[0].via,
            ["buildtime-zstd", "zstd", "zstd-safe", "zstd-sys"]
        );
        assert!(
            r.lines()[0].contains("compiles C for the host"),
            "{:?}",
            r.lines()
        );
    }

    #[test]
    fn the_message_names_the_path() {
        let lines = report("sdk-and-c-crates.x86_64-musl.json", "fn-zstd").lines();
        assert_eq!(lines, ["zstd-sys 2.1.3+zstd.1.5.7 compiles C for the target (cc) (via fn-zstd → zstd → zstd-safe → zstd-sys)"]);
    }
}
