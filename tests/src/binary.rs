//! Finding the `floe` binary under test and the repository's folders.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The folder of the `floe-tests` crate (`<repo>/tests`).
pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The repository root (the workspace folder).
pub fn repo_root() -> PathBuf {
    crate_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| crate_dir().to_path_buf())
}

/// Locates the `floe` binary to test.
///
/// `FLOE_BIN` wins when set. Otherwise the folders above the running test executable
/// (`target/debug/deps/floe_tests-…`) are searched for `floe`, so this works with a
/// `CARGO_TARGET_DIR` outside the repository too. The binary is not built here: run
/// `cargo build -p floe-agent --bin floe` (or `scripts/test.sh`) first.
pub fn floe_bin() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("FLOE_BIN") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("FLOE_BIN={} is not a file", path.display());
        }
        return Ok(path);
    }
    let exe = std::env::current_exe().context("cannot find the running test executable")?;
    for dir in exe.ancestors().skip(1) {
        let candidate = dir.join("floe");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "no `floe` binary found above {}; build it with `cargo build -p floe-agent --bin floe` \
         or set FLOE_BIN",
        exe.display()
    )
}

/// A note for failure messages when the `floe` binary is older than the newest source
/// file of the agent or metadata crates (a test may be running a stale build).
pub fn stale_note(bin: &Path) -> Option<String> {
    let built = std::fs::metadata(bin).and_then(|m| m.modified()).ok()?;
    let root = repo_root();
    let newest = [
        "agent/src",
        "metadata/src",
        "agent/Cargo.toml",
        "metadata/Cargo.toml",
    ]
    .iter()
    .filter_map(|p| newest_mtime(&root.join(p)))
    .max()?;
    (newest > built).then(|| {
        format!(
            "note: {} is older than the agent's sources; rebuild it with \
             `cargo build -p floe-agent --bin floe` (scripts/test.sh does)",
            bin.display()
        )
    })
}

/// The newest modification time of a file or of any file below a folder.
fn newest_mtime(path: &Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| newest_mtime(&entry.path()))
        .max()
}
