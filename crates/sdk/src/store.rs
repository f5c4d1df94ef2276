//! Where a [`Session`](crate::Session) keeps its thread key → agent id map.
//!
//! [`MemoryStore`] lives as long as the process; [`FileStore`] keeps the map in one JSON file
//! that is replaced atomically (write a temporary file beside it, flush it to disk, rename), so a
//! crash leaves either the old or the new map, never a torn one, and that several processes
//! can share (each change is made under a file lock on the current file).
//!
//! Both also keep each thread's latest [`TurnRecord`], written before a launch or follow-up is
//! sent, so a restarted process resumes the turn instead of sending it again (see
//! [`Session`](crate::Session#crash-safety)).

mod file_io;
mod format;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nomic_agent_core::wire::AgentId;

use crate::Error;
use crate::claim::{Claim, ClaimOwner, ClaimRecord, decide, held_by_other};
use crate::journal::{TurnRecord, unix_millis_now};
use format::{Entry, FileMap};

/// A map from an application thread key (a chat thread, a ticket) to one agent id.
///
/// Implementations must be safe to share between tasks; [`Session`](crate::Session) serializes
/// the calls for one key itself. A store shared between processes also implements
/// [`claim`](SessionStore::claim) and [`release`](SessionStore::release), so sessions in those
/// processes take turns on a thread.
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

    /// Claims the thread `key` for `owner` for `lease` from now, or renews `owner`'s claim.
    ///
    /// Grants it ([`Claim::Acquired`]) when nobody holds it, `owner` holds it (then `renewed`
    /// is true), or the holder's lease ran out or the holder is [gone](ClaimOwner::is_gone)
    /// (then `took_over` names it);
    /// otherwise answers [`Claim::Held`] and changes nothing. The check and the write must be
    /// atomic across everyone sharing the store. The default keeps no claims and answers
    /// [`Claim::Unsupported`]: sessions then exclude each other only within one `Session`
    /// (and its clones), as before claims existed.
    fn claim(
        &self,
        key: &str,
        owner: &ClaimOwner,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, Error>> + Send {
        let _ = (key, owner, lease);
        async { Ok(Claim::Unsupported) }
    }

    /// Ends `owner`'s claim on `key`; a claim held by someone else is left alone.
    fn release(
        &self,
        key: &str,
        owner: &ClaimOwner,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (key, owner);
        async { Ok(()) }
    }
}

/// An in-memory [`SessionStore`]; its contents are lost when the process ends.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    map: Arc<Mutex<BTreeMap<String, AgentId>>>,
    turns: Arc<Mutex<BTreeMap<String, TurnRecord>>>,
    claims: Arc<Mutex<BTreeMap<String, ClaimRecord>>>,
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

    async fn claim(&self, key: &str, owner: &ClaimOwner, lease: Duration) -> Result<Claim, Error> {
        let mut claims = lock(&self.claims);
        let (answer, next) = decide(
            claims.get(key),
            owner,
            lease,
            unix_millis_now(),
            ClaimOwner::is_gone,
        );
        if let Some(next) = next {
            claims.insert(key.to_owned(), next);
        }
        Ok(answer)
    }

    async fn release(&self, key: &str, owner: &ClaimOwner) -> Result<(), Error> {
        let mut claims = lock(&self.claims);
        if claims.get(key).is_some_and(|c| c.owner == *owner) {
            claims.remove(key);
        }
        Ok(())
    }
}

/// A [`SessionStore`] kept in one JSON file that survives a restart, safe to share between
/// processes on one machine.
///
/// The file maps each thread key to its agent id (`{"thread key": "agent id", …}`); while a
/// turn or a claim is recorded, the value is an object instead:
/// `{"agent": "agent id" | absent, "turn": {TurnRecord}, "claim": {owner, lease}}`. Both
/// forms are read.
///
/// # More than one process
///
/// Every change is a read-modify-write of one key under an exclusive advisory lock on a lock
/// file beside the store (`sessions.json.lock`, never removed): the file is read again under
/// the lock, only that key's entry is changed, and the result replaces the file atomically
/// (a uniquely named temporary file in the same directory, flushed to disk, renamed over the
/// store, the directory flushed). So concurrent writers in several processes lose no update,
/// and a crash at any point leaves the old or the new file, never a torn one. Reads take no
/// lock: they read the current file, which is only ever replaced whole.
///
/// Claims ([`SessionStore::claim`]) are kept in the file too, so a
/// [`Session`](crate::Session) in each of several processes makes one agent per thread and
/// runs their turns one after the other; see [`Session`](crate::Session#more-than-one-process).
///
/// The lock is `flock`-style (`std::fs::File::lock`); network file systems may not honour it.
/// Every change rewrites and flushes the whole file under that one lock, so the store suits
/// tens of changes per second, not thousands; a busier service wants a database-backed
/// [`SessionStore`].
///
/// ```
/// use nomic_agent::{FileStore, SessionStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), nomic_agent::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("sessions.json");
/// let id: nomic_agent::AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
/// let a = FileStore::open(&path)?;
/// let b = FileStore::open(&path)?; // as another process would
/// a.save("ticket-17", id).await?;
/// assert_eq!(b.load("ticket-17").await?, Some(id)); // reads see the current file
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    inner: Arc<FileInner>,
}

#[derive(Debug)]
struct FileInner {
    path: PathBuf,
    lock_path: PathBuf,
    // Queues this process's writers without parking a blocking thread each on the file lock;
    // the guard moves into the blocking task, so a dropped future still finishes its write.
    writers: Arc<tokio::sync::Mutex<()>>,
    cache: file_io::MapCache,
}

impl FileStore {
    /// Opens (or, when it does not exist yet, starts) the store at `path`.
    ///
    /// Fails with [`Error::Store`] when the file exists but is not a JSON object of agent ids,
    /// and with [`Error::Io`] when it cannot be read.
    pub fn open(path: impl Into<PathBuf>) -> Result<FileStore, Error> {
        let path = path.into();
        file_io::read_map(&path)?;
        Ok(FileStore {
            inner: Arc::new(FileInner {
                lock_path: file_io::lock_path(&path),
                path,
                writers: Arc::default(),
                cache: file_io::MapCache::default(),
            }),
        })
    }

    /// The file the store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The current entry of `key`, read from the file.
    async fn entry(&self, key: &str) -> Result<Entry, Error> {
        let inner = Arc::clone(&self.inner);
        let key = key.to_owned();
        blocking(move || {
            let map = inner.cache.read(&inner.path)?;
            Ok(map.get(&key).cloned().unwrap_or_default())
        })
        .await
    }

    /// Applies `f` to the entry of `key` as it is in the file now, under the file lock, and
    /// writes the file when the entry changed.
    async fn update<R: Send + 'static>(
        &self,
        key: String,
        f: impl FnOnce(&mut Entry) -> R + Send + 'static,
    ) -> Result<R, Error> {
        let inner = Arc::clone(&self.inner);
        let queued = Arc::clone(&inner.writers).lock_owned().await;
        blocking(move || {
            let _queued = queued;
            let _lock = file_io::lock_exclusive(&inner.lock_path)?;
            // Re-read under the lock: another process may have written since.
            let mut map = FileMap::clone(&*inner.cache.read(&inner.path)?);
            let old = map.get(&key).cloned().unwrap_or_default();
            let mut entry = old.clone();
            let r = f(&mut entry);
            if entry == old {
                return Ok(r);
            }
            if entry == Entry::default() {
                map.remove(&key);
            } else {
                map.insert(key, entry);
            }
            let bytes = format::encode_map(&map)?;
            file_io::write_atomically(&inner.path, &bytes)?;
            inner.cache.wrote(bytes, map);
            Ok(r)
        })
        .await
    }
}

/// Runs blocking file IO off the async workers.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, Error> + Send + 'static,
) -> Result<R, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Store {
            message: format!("the store task failed: {e}"),
        })?
}

impl SessionStore for FileStore {
    async fn load(&self, key: &str) -> Result<Option<AgentId>, Error> {
        Ok(self.entry(key).await?.agent)
    }

    async fn save(&self, key: &str, id: AgentId) -> Result<(), Error> {
        self.update(key.to_owned(), move |e| e.agent = Some(id))
            .await
    }

    async fn remove(&self, key: &str) -> Result<(), Error> {
        self.update(key.to_owned(), |e| {
            e.agent = None;
            e.turn = None;
        })
        .await
    }

    async fn load_turn(&self, key: &str) -> Result<Option<TurnRecord>, Error> {
        Ok(self.entry(key).await?.turn)
    }

    async fn save_turn(&self, key: &str, turn: Option<TurnRecord>) -> Result<(), Error> {
        self.update(key.to_owned(), move |e| e.turn = turn).await
    }

    async fn claim(&self, key: &str, owner: &ClaimOwner, lease: Duration) -> Result<Claim, Error> {
        // Waiting sessions poll this: answer "held" from a plain read, without the lock.
        let current = self.entry(key).await?.claim;
        if let Some(held) = held_by_other(
            current.as_ref(),
            owner,
            unix_millis_now(),
            ClaimOwner::is_gone,
        ) {
            return Ok(held);
        }
        let owner = owner.clone();
        self.update(key.to_owned(), move |e| {
            let (answer, next) = decide(
                e.claim.as_ref(),
                &owner,
                lease,
                unix_millis_now(),
                ClaimOwner::is_gone,
            );
            if next.is_some() {
                e.claim = next;
            }
            answer
        })
        .await
    }

    async fn release(&self, key: &str, owner: &ClaimOwner) -> Result<(), Error> {
        let owner = owner.clone();
        self.update(key.to_owned(), move |e| {
            if e.claim.as_ref().is_some_and(|c| c.owner == owner) {
                e.claim = None;
            }
        })
        .await
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
        // No temporary file is left behind; the lock file stays.
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["sessions.json", "sessions.json.lock"]);
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

    #[tokio::test]
    async fn two_handles_on_one_file_lose_no_update() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        // Two handles, as two processes have: each change re-reads the file under the lock.
        let a = FileStore::open(&path).unwrap();
        let b = FileStore::open(&path).unwrap();
        a.save("a", id(1)).await.unwrap();
        b.save("b", id(2)).await.unwrap();
        a.save_turn("b", Some(TurnRecord::launch("x", None)))
            .await
            .unwrap();
        assert_eq!(a.load("b").await.unwrap(), Some(id(2)));
        assert_eq!(b.load("a").await.unwrap(), Some(id(1)));
        assert!(b.load_turn("b").await.unwrap().is_some());
        b.remove("a").await.unwrap();
        assert_eq!(a.load("a").await.unwrap(), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_on_separate_handles_keep_every_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let mut tasks = Vec::new();
        for w in 0..4u8 {
            let s = FileStore::open(&path).unwrap();
            tasks.push(tokio::spawn(async move {
                for k in 0..10u8 {
                    s.save(&format!("w{w}-k{k}"), id(w * 10 + k)).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let s = FileStore::open(&path).unwrap();
        for w in 0..4u8 {
            for k in 0..10u8 {
                assert_eq!(
                    s.load(&format!("w{w}-k{k}")).await.unwrap(),
                    Some(id(w * 10 + k))
                );
            }
        }
    }

    async fn claims_exclude_and_release<S: SessionStore>(s: &S) {
        let (a, b) = (ClaimOwner::new(), ClaimOwner::new());
        let long = Duration::from_secs(3600);
        assert!(matches!(
            s.claim("t", &a, long).await.unwrap(),
            Claim::Acquired {
                took_over: None,
                ..
            }
        ));
        // Renewing is allowed; another owner is refused.
        assert!(matches!(
            s.claim("t", &a, long).await.unwrap(),
            Claim::Acquired { .. }
        ));
        match s.claim("t", &b, long).await.unwrap() {
            Claim::Held { owner, .. } => assert_eq!(owner, a),
            other => panic!("{other:?}"),
        }
        // Other keys are independent.
        assert!(matches!(
            s.claim("u", &b, long).await.unwrap(),
            Claim::Acquired { .. }
        ));
        // Releasing someone else's claim does nothing; the holder's release frees it.
        s.release("t", &b).await.unwrap();
        assert!(matches!(
            s.claim("t", &b, long).await.unwrap(),
            Claim::Held { .. }
        ));
        s.release("t", &a).await.unwrap();
        assert!(matches!(
            s.claim("t", &b, long).await.unwrap(),
            Claim::Acquired {
                took_over: None,
                ..
            }
        ));
        // A lapsed lease is taken over, and says from whom.
        s.claim("v", &a, Duration::ZERO).await.unwrap();
        assert_eq!(
            match s.claim("v", &b, long).await.unwrap() {
                Claim::Acquired { took_over, .. } => took_over,
                other => panic!("{other:?}"),
            },
            Some(a.clone())
        );
        // Forgetting a thread keeps its claim.
        s.save("t", id(9)).await.unwrap();
        s.remove("t").await.unwrap();
        assert!(matches!(
            s.claim("t", &a, long).await.unwrap(),
            Claim::Held { .. }
        ));
    }

    #[tokio::test]
    async fn both_stores_keep_claims() {
        claims_exclude_and_release(&MemoryStore::new()).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        claims_exclude_and_release(&FileStore::open(&path).unwrap()).await;
        // The claims are in the file, next to the agent ids.
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(
            raw.contains("\"claim\"") && raw.contains("expiresAtMs"),
            "{raw}"
        );
        let other = FileStore::open(&path).unwrap();
        assert!(matches!(
            other
                .claim("u", &ClaimOwner::new(), Duration::from_secs(1))
                .await
                .unwrap(),
            Claim::Held { .. }
        ));
    }

    #[tokio::test]
    async fn a_claim_by_a_gone_process_is_taken_over_at_once() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return; // without /proc only the lease tells (covered above)
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        // A process that ran and ended, holding a claim for an hour.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let mut dead = ClaimOwner::new().to_json_value();
        dead["owner"] = format!("{pid}.dead.0").into();
        dead["pid"] = pid.into();
        dead.as_object_mut().unwrap().remove("start");
        dead["expiresAtMs"] = (unix_millis_now() + 3_600_000).into();
        std::fs::write(&path, serde_json::json!({"t": {"claim": dead}}).to_string()).unwrap();
        let s = FileStore::open(&path).unwrap();
        match s
            .claim("t", &ClaimOwner::new(), Duration::from_secs(1))
            .await
            .unwrap()
        {
            Claim::Acquired { took_over, .. } => {
                assert_eq!(took_over.map(|o| o.pid()), Some(pid))
            }
            other => panic!("{other:?}"),
        }
    }
}
