//! The file operations behind [`FileStore`](crate::FileStore): the advisory lock that makes a
//! read-modify-write exclusive across processes, and the atomic replace of the store file.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Error;

use super::format::{FileMap, parse_map};

/// The lock file beside the store: `sessions.json` → `sessions.json.lock`.
///
/// A separate file because the store file itself is replaced on every write: a lock on it
/// would be held on an inode that is no longer the store. The lock file is never removed
/// (removing it would let two processes lock two different inodes).
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "sessions".into());
    name.push(".lock");
    path.with_file_name(name)
}

/// Opens (creating when needed) and exclusively locks the lock file; the lock lasts until the
/// returned file is dropped, and the OS drops it when the process dies.
pub(crate) fn lock_exclusive(lock: &Path) -> Result<File, Error> {
    let io = |what: &str, e| Error::io(format!("could not {what} {}", lock.display()), e);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock)
        .map_err(|e| io("open the store lock", e))?;
    file.lock().map_err(|e| io("lock", e))?;
    Ok(file)
}

/// The map in the file; a missing file is an empty map. A plain read is consistent without
/// the lock: the file is only ever replaced by a rename, never written in place.
pub(crate) fn read_map(path: &Path) -> Result<FileMap, Error> {
    match std::fs::read(path) {
        Ok(bytes) => parse_map(&bytes, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileMap::new()),
        Err(e) => Err(Error::io(
            format!("could not read session store {}", path.display()),
            e,
        )),
    }
}

/// Replaces `path` with `bytes`: a uniquely named temporary file in the same directory (so the
/// rename cannot cross file systems and no two writers share it), flushed to disk, then
/// renamed over the store, and the directory flushed. A crash leaves the old or the new file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sessions".into());
    let io = |what: &str, e| {
        Error::io(
            format!("could not {what} a temporary file in {}", dir.display()),
            e,
        )
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| io("create", e))?;
    tmp.write_all(bytes).map_err(|e| io("write", e))?;
    tmp.as_file().sync_all().map_err(|e| io("flush", e))?;
    // On failure the temporary file is removed when the error drops it.
    tmp.persist(path)
        .map_err(|e| Error::io(format!("could not replace {}", path.display()), e.error))?;
    // Persist the rename itself; not every platform can open a directory, so failure is ignored.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_sits_beside_the_store() {
        assert_eq!(
            lock_path(Path::new("/a/b/sessions.json")),
            Path::new("/a/b/sessions.json.lock")
        );
        assert_eq!(lock_path(Path::new("s")), Path::new("s.lock"));
    }

    #[test]
    fn the_lock_excludes_a_second_holder_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("s.json.lock");
        let held = lock_exclusive(&lock).unwrap();
        // Another open file description of the same file: what another process would have.
        let other = File::options().write(true).open(&lock).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
        drop(held);
        other.try_lock().unwrap();
    }

    #[test]
    fn writes_replace_the_file_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        write_atomically(&path, b"{}").unwrap();
        write_atomically(&path, b"{ }").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{ }");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["s.json"]);
        assert!(
            read_map(&dir.path().join("missing.json"))
                .unwrap()
                .is_empty()
        );
    }
}
