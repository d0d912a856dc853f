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

/// Compress `path` to `path.gz` (gzip, no timestamp, so equal input gives equal bytes) and
/// remove the original; returns the new path. Large logs are kept this way.
pub fn gzip_in_place(path: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    let gz = std::path::PathBuf::from(format!("{}.gz", path.display()));
    let mut input = std::fs::File::open(path)?;
    let mut out = gzip_writer(&gz)?;
    std::io::copy(&mut input, &mut out)?;
    out.finish()?.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::remove_file(path)?;
    Ok(gz)
}

/// A gzip writer to a new file at `path` (no timestamp in the header).
pub fn gzip_writer(path: &std::path::Path) -> std::io::Result<flate2::write::GzEncoder<std::io::BufWriter<std::fs::File>>> {
    let file = std::fs::File::create(path)?;
    Ok(flate2::GzBuilder::new().mtime(0).write(std::io::BufWriter::new(file), flate2::Compression::default()))
}

/// Read a text file, gunzipping it when its name ends in `.gz`.
pub fn read_text(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_string(&mut text)?;
    } else {
        std::fs::File::open(path)?.read_to_string(&mut text)?;
    }
    Ok(text)
}
