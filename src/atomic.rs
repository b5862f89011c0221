//! Writing an output file so that a reader never sees half of it.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path`: into a temporary file beside it, then renamed over it. Creates the
/// directory.
///
/// What `path` names is kept: a symbolic link stays a link (the file it points to is replaced),
/// and a path that is not a regular file (`/dev/null`, a FIFO, `/dev/stdout`) is written in
/// place, since renaming over `/dev/null` as root would leave a regular file there, and every
/// later reader of `/dev/null` would read the reports.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let path = resolve(path);
    if let Ok(meta) = std::fs::metadata(&path) {
        if !meta.is_file() && !meta.is_dir() {
            let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
            return file.write_all(bytes).and_then(|()| file.flush());
        }
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = std::fs::File::create(&tmp).and_then(|mut f| f.write_all(bytes));
    let renamed = written.and_then(|()| std::fs::rename(&tmp, &path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed
}

/// The file a symbolic link at `path` ends at (or `path` itself).
fn resolve(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
        }
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("gatecheck-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn replaces_a_file_and_creates_the_directory() {
        let dir = scratch("file");
        let path = dir.join("a/b/report.md");
        write(&path, b"one").unwrap();
        write(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let left: Vec<_> = std::fs::read_dir(dir.join("a/b")).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_stays_a_link() {
        let dir = scratch("link");
        std::fs::write(dir.join("real.md"), "old").unwrap();
        std::os::unix::fs::symlink("real.md", dir.join("link.md")).unwrap();
        write(&dir.join("link.md"), b"new").unwrap();
        let meta = std::fs::symlink_metadata(dir.join("link.md")).unwrap();
        assert!(meta.file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(dir.join("real.md")).unwrap(), "new");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A FIFO stands for `/dev/null` and `/dev/stdout`: renaming over it would replace it.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        let dir = scratch("fifo");
        let fifo = dir.join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(
            made.is_ok_and(|s| s.success()),
            "mkfifo (coreutils) is needed"
        );
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write(&fifo, b"through the pipe").unwrap();
        // Before the join: had the FIFO been replaced, the reader would wait on it for ever.
        let meta = std::fs::symlink_metadata(&fifo).unwrap();
        assert!(meta.file_type().is_fifo(), "the FIFO is still a FIFO");
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
