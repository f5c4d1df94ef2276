//! Where a [`Session`](crate::Session) keeps its thread key → agent id map.
//!
//! [`MemoryStore`] lives as long as the process; [`FileStore`] keeps the map in one JSON file
//! that is replaced atomically (write a temporary file beside it, flush it to disk, rename), so a
//! crash leaves either the old or the new map, never a torn one.
//!
//! Both also keep each thread's latest [`TurnRecord`], written before a launch or follow-up is
//! sent, so a restarted process resumes the turn instead of sending it again (see
//! [`Session`](crate::Session#crash-safety)).

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use nomic_agent_core::wire::AgentId;

use crate::Error;
use crate::journal::TurnRecord;

/// A map from an application thread key (a chat thread, a ticket) to one agent id.
///
/// Implementations must be safe to share between tasks; [`Session`](crate::Session) serializes
/// the calls for one key itself.
pub trait SessionStore: Send + Sync + 'static {
    /// The agent id stored for `key`, if any.
    fn load(&self, key: &str) -> impl Future<Output = Result<Option<AgentId>, Error>> + Send;
    /// Stores `id` for `key`, replacing any previous id.
    fn save(&self, key: &str, id: AgentId) -> impl Future<Output = Result<(), Error>> + Send;
    /// Forgets `key` (its agent id and its turn record).
    fn remove(&self, key: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// The latest turn recorded for `key`. The default keeps nothing, which turns crash
    /// recovery off for this store; both built-in stores keep it.
    fn load_turn(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<TurnRecord>, Error>> + Send {
        let _ = key;
        async { Ok(None) }
    }

    /// Records (or, with `None`, clears) the latest turn of `key`. It must be durable when the
    /// future completes: the session sends the request right after.
    fn save_turn(
        &self,
        key: &str,
        turn: Option<TurnRecord>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (key, turn);
        async { Ok(()) }
    }
}

/// An in-memory [`SessionStore`]; its contents are lost when the process ends.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    map: Arc<Mutex<BTreeMap<String, AgentId>>>,
    turns: Arc<Mutex<BTreeMap<String, TurnRecord>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// How many keys are stored.
    pub fn len(&self) -> usize {
        lock(&self.map).len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the map half-updated (each operation is a
    // single insert or remove), so a poisoned lock is safe to keep using.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SessionStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<AgentId>, Error> {
        Ok(lock(&self.map).get(key).copied())
    }

    async fn save(&self, key: &str, id: AgentId) -> Result<(), Error> {
        lock(&self.map).insert(key.to_owned(), id);
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), Error> {
        lock(&self.map).remove(key);
        lock(&self.turns).remove(key);
        Ok(())
    }

    async fn load_turn(&self, key: &str) -> Result<Option<TurnRecord>, Error> {
        Ok(lock(&self.turns).get(key).cloned())
    }

    async fn save_turn(&self, key: &str, turn: Option<TurnRecord>) -> Result<(), Error> {
        let mut turns = lock(&self.turns);
        match turn {
            Some(t) => turns.insert(key.to_owned(), t),
            None => turns.remove(key),
        };
        Ok(())
    }
}

/// A [`SessionStore`] kept in one JSON file that survives a restart. Every change rewrites the
/// file atomically.
///
/// The file maps each thread key to its agent id (`{"thread key": "agent id", …}`); while a
/// turn is recorded, the value is an object instead:
/// `{"agent": "agent id" | absent, "turn": {TurnRecord}}`. Both forms are read.
///
/// Meant for one process at a time: two processes writing the same file do not corrupt it, but
/// the last writer wins.
#[derive(Debug, Clone)]
pub struct FileStore {
    inner: Arc<FileInner>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Entry {
    agent: Option<AgentId>,
    turn: Option<TurnRecord>,
}

type FileMap = BTreeMap<String, Entry>;

#[derive(Debug)]
struct FileInner {
    path: PathBuf,
    // The whole map is cached; the lock also serializes rewrites of the file.
    map: Mutex<FileMap>,
}

impl FileStore {
    /// Opens (or, when it does not exist yet, starts) the store at `path`.
    ///
    /// Fails with [`Error::Store`] when the file exists but is not a JSON object of agent ids,
    /// and with [`Error::Io`] when it cannot be read.
    pub fn open(path: impl Into<PathBuf>) -> Result<FileStore, Error> {
        let path = path.into();
        let map = match std::fs::read(&path) {
            Ok(bytes) => parse_map(&bytes, &path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                return Err(Error::io(
                    format!("could not read session store {}", path.display()),
                    e,
                ));
            }
        };
        Ok(FileStore {
            inner: Arc::new(FileInner {
                path,
                map: Mutex::new(map),
            }),
        })
    }

    /// The file the store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn update(
        &self,
        key: String,
        f: impl FnOnce(&mut Entry) + Send + 'static,
    ) -> Result<(), Error> {
        let inner = Arc::clone(&self.inner);
        // Blocking file IO off the async workers; the map lock is held across the rewrite so
        // two updates never race to rename.
        tokio::task::spawn_blocking(move || {
            let mut map = lock(&inner.map);
            let old = map.get(&key).cloned().unwrap_or_default();
            let mut entry = old.clone();
            f(&mut entry);
            if entry == old {
                return Ok(());
            }
            let mut next = map.clone();
            if entry == Entry::default() {
                next.remove(&key);
            } else {
                next.insert(key, entry);
            }
            write_atomically(&inner.path, &next)?;
            *map = next;
            Ok(())
        })
        .await
        .map_err(|e| Error::Store {
            message: format!("the store task failed: {e}"),
        })?
    }
}

fn parse_map(bytes: &[u8], path: &Path) -> Result<FileMap, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(BTreeMap::new());
    }
    let raw: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|e| Error::Store {
            message: format!(
                "{} is not a JSON object of thread keys to agent ids ({e}); fix or delete it",
                path.display()
            ),
        })?;
    let bad = |k: &str, what: String| Error::Store {
        message: format!("{}: key {k:?}: {what}", path.display()),
    };
    let id = |k: &str, v: &str| v.parse::<AgentId>().map_err(|e| bad(k, e.to_string()));
    raw.into_iter()
        .map(|(k, v)| {
            let entry = match &v {
                serde_json::Value::String(s) => Entry {
                    agent: Some(id(&k, s)?),
                    turn: None,
                },
                serde_json::Value::Object(o) => Entry {
                    agent: match o.get("agent") {
                        None | Some(serde_json::Value::Null) => None,
                        Some(serde_json::Value::String(s)) => Some(id(&k, s)?),
                        Some(_) => return Err(bad(&k, "`agent` is not a string".into())),
                    },
                    turn: match o.get("turn") {
                        None | Some(serde_json::Value::Null) => None,
                        Some(t) => Some(
                            TurnRecord::from_json_value(t).map_err(|e| bad(&k, e.to_string()))?,
                        ),
                    },
                },
                _ => return Err(bad(&k, "not an agent id".into())),
            };
            Ok((k, entry))
        })
        .collect()
}

fn write_atomically(path: &Path, map: &FileMap) -> Result<(), Error> {
    let raw: serde_json::Map<String, serde_json::Value> = map
        .iter()
        .map(|(k, e)| {
            let v = match (&e.agent, &e.turn) {
                (Some(a), None) => serde_json::Value::String(a.to_string()),
                _ => {
                    let mut o = serde_json::Map::new();
                    if let Some(a) = e.agent {
                        o.insert("agent".into(), a.to_string().into());
                    }
                    if let Some(t) = &e.turn {
                        o.insert("turn".into(), t.to_json_value());
                    }
                    serde_json::Value::Object(o)
                }
            };
            (k.clone(), v)
        })
        .collect();
    let json = serde_json::to_vec_pretty(&raw).map_err(|e| Error::Store {
        message: format!("could not encode the session map: {e}"),
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sessions".into());
    // Same directory, so the rename cannot cross file systems; the pid keeps two processes
    // from sharing a temporary file.
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let io = |what: &str, e| Error::io(format!("could not {what} {}", tmp.display()), e);
    let mut file = std::fs::File::create(&tmp).map_err(|e| io("create", e))?;
    file.write_all(&json).map_err(|e| io("write", e))?;
    file.sync_all().map_err(|e| io("flush", e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("could not replace {}", path.display()), e)
    })?;
    // Persist the rename itself; not every platform can open a directory, so failure is ignored.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

impl SessionStore for FileStore {
    async fn load(&self, key: &str) -> Result<Option<AgentId>, Error> {
        Ok(lock(&self.inner.map).get(key).and_then(|e| e.agent))
    }

    async fn save(&self, key: &str, id: AgentId) -> Result<(), Error> {
        self.update(key.to_owned(), move |e| e.agent = Some(id))
            .await
    }

    async fn remove(&self, key: &str) -> Result<(), Error> {
        self.update(key.to_owned(), |e| *e = Entry::default()).await
    }

    async fn load_turn(&self, key: &str) -> Result<Option<TurnRecord>, Error> {
        Ok(lock(&self.inner.map).get(key).and_then(|e| e.turn.clone()))
    }

    async fn save_turn(&self, key: &str, turn: Option<TurnRecord>) -> Result<(), Error> {
        self.update(key.to_owned(), move |e| e.turn = turn).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> AgentId {
        format!("019abc12-3456-7890-abcd-ef12345678{n:02x}")
            .parse()
            .unwrap()
    }

    #[tokio::test]
    async fn memory_store_round_trip() {
        let s = MemoryStore::new();
        assert_eq!(s.load("t").await.unwrap(), None);
        s.save("t", id(1)).await.unwrap();
        s.save("t", id(2)).await.unwrap();
        assert_eq!(s.load("t").await.unwrap(), Some(id(2)));
        assert_eq!(s.len(), 1);
        s.remove("t").await.unwrap();
        assert!(s.is_empty());
    }

    #[tokio::test]
    async fn file_store_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessions.json");
        {
            let s = FileStore::open(&path).unwrap();
            s.save("a", id(1)).await.unwrap();
            s.save("b", id(2)).await.unwrap();
            s.remove("a").await.unwrap();
        }
        let s = FileStore::open(&path).unwrap();
        assert_eq!(s.load("a").await.unwrap(), None);
        assert_eq!(s.load("b").await.unwrap(), Some(id(2)));
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["sessions.json"]);
    }

    #[test]
    fn file_store_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, b"[1,2]").unwrap();
        assert!(matches!(FileStore::open(&path), Err(Error::Store { .. })));
        std::fs::write(&path, br#"{"k":"not-an-id"}"#).unwrap();
        let err = FileStore::open(&path).unwrap_err();
        assert!(err.to_string().contains("\"k\""), "{err}");
    }

    #[tokio::test]
    async fn turn_records_survive_reopen_and_old_files_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, format!(r#"{{"old":"{}"}}"#, id(1))).unwrap();
        let s = FileStore::open(&path).unwrap();
        assert_eq!(s.load("old").await.unwrap(), Some(id(1)));
        let rec = TurnRecord::launch("hello", Some("m1"));
        s.save_turn("new", Some(rec.clone())).await.unwrap();
        let s2 = FileStore::open(&path).unwrap();
        assert_eq!(s2.load_turn("new").await.unwrap(), Some(rec));
        assert_eq!(s2.load("new").await.unwrap(), None);
        s2.save("new", id(2)).await.unwrap();
        s2.save_turn("new", None).await.unwrap();
        // Without a record the entry is written in the original form again.
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(raw.contains(&format!("\"new\": \"{}\"", id(2))), "{raw}");
        s2.remove("new").await.unwrap();
        assert_eq!(
            FileStore::open(&path).unwrap().load("new").await.unwrap(),
            None
        );
        // MemoryStore keeps records too.
        let m = MemoryStore::new();
        m.save_turn("k", Some(TurnRecord::launch("x", None)))
            .await
            .unwrap();
        assert!(m.load_turn("k").await.unwrap().is_some());
        m.remove("k").await.unwrap();
        assert!(m.load_turn("k").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn failed_write_keeps_the_old_map() {
        let dir = tempfile::tempdir().unwrap();
        // The parent directory does not exist, so the temporary file cannot be created.
        let s = FileStore::open(dir.path().join("missing-dir").join("s.json")).unwrap();
        assert!(matches!(s.save("k", id(3)).await, Err(Error::Io { .. })));
        assert_eq!(s.load("k").await.unwrap(), None);
    }
}
