//! The file operations behind [`FileStore`](crate::FileStore): the advisory lock that makes a
//! read-modify-write exclusive across processes, and the atomic replace of the store file.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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

/// The bytes of the file; a missing file reads as empty. A plain read is consistent without
/// the lock: the file is only ever replaced by a rename, never written in place.
fn read_bytes(path: &Path) -> Result<Vec<u8>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(
            format!("could not read session store {}", path.display()),
            e,
        )),
    }
}

/// The map in the file; a missing file is an empty map.
pub(crate) fn read_map(path: &Path) -> Result<FileMap, Error> {
    parse_map(&read_bytes(path)?, path)
}

/// The last map read or written by this handle, with the bytes it came from.
///
/// Every read still reads the file (another process may have replaced it); only the parse is
/// skipped when the bytes are the same, which they are for most of the looks a waiting
/// session takes. File metadata would not do: a replaced file can reuse the inode, size and
/// (coarse) modification time of the one before.
#[derive(Debug, Default)]
pub(crate) struct MapCache {
    last: Mutex<Option<(Vec<u8>, Arc<FileMap>)>>,
}

impl MapCache {
    fn last(&self) -> std::sync::MutexGuard<'_, Option<(Vec<u8>, Arc<FileMap>)>> {
        // Replaced whole under the lock, so a poisoned value is still a consistent pair.
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The map in the file now.
    pub(crate) fn read(&self, path: &Path) -> Result<Arc<FileMap>, Error> {
        let bytes = read_bytes(path)?;
        if let Some((b, map)) = &*self.last()
            && *b == bytes
        {
            return Ok(Arc::clone(map));
        }
        let map = Arc::new(parse_map(&bytes, path)?);
        *self.last() = Some((bytes, Arc::clone(&map)));
        Ok(map)
    }

    /// Remembers what was just written.
    pub(crate) fn wrote(&self, bytes: Vec<u8>, map: FileMap) {
        *self.last() = Some((bytes, Arc::new(map)));
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
    fn the_cache_reads_the_file_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let cache = MapCache::default();
        assert!(cache.read(&path).unwrap().is_empty());
        let id = "019abc12-3456-7890-abcd-ef1234567890";
        write_atomically(&path, format!(r#"{{"a":"{id}"}}"#).as_bytes()).unwrap();
        assert_eq!(cache.read(&path).unwrap().len(), 1);
        // Same length, other content: still seen.
        write_atomically(&path, format!(r#"{{"b":"{id}"}}"#).as_bytes()).unwrap();
        assert!(cache.read(&path).unwrap().contains_key("b"));
        std::fs::write(&path, b"[").unwrap();
        assert!(cache.read(&path).is_err());
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
