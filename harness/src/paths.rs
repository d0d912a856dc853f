//! Where the repository is: the root for fixtures, the default venv and report folders.

use std::path::{Path, PathBuf};

/// The repository root: `DNSCHAOS_HOME` when set, else the workspace this crate was built in.
pub fn repo_root() -> PathBuf {
    if let Ok(home) = std::env::var("DNSCHAOS_HOME") {
        return PathBuf::from(home);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `path` relative to the repository when it lies inside it, for messages and replay commands.
pub fn shown(path: &Path) -> String {
    let root = repo_root();
    path.strip_prefix(&root).unwrap_or(path).display().to_string()
}
