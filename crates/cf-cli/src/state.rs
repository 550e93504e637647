//! Where the tool keeps its state, and how it opens it: the directory
//! `$CF_HOME/.cf` (or `$HOME/.cf`, as cf keeps its own), one SQLite
//! database and its key file there, and the checks that report damage
//! instead of starting over.
//!
//! Everything — organizations, spaces, apps, roles, the current user and
//! target, and the credentials (passwords encrypted at rest) — lives in
//! the database [`DB_FILE`]. The key is `CF_REGISTRY_KEY` (64
//! hexadecimal digits) or, when that is unset, the key file
//! [`KEY_FILE`], made on first use (mode 0600, written under a unique
//! temporary name and linked into place, so a racing process never reads
//! half of it). A new database is built complete under a temporary name
//! and linked into place the same way, so no process ever sees half of
//! one. The directory is made (mode 0700) only by the command that
//! creates the database, `cf auth`: every other command, given no state,
//! fails as not logged in and creates nothing.
//!
//! Damage is reported, never repaired by starting over: a missing
//! database when the key file exists, an empty, truncated or corrupt
//! database, a file of the wrong kind (FIFO, directory, device, or a link
//! to one), a file others may read. Nothing is created or overwritten in
//! its place.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use registry_credentials::Password;
use registry_credentials::scope::UserId;
use registry_credentials_cf::access::GlobalRole;
use registry_credentials_cf::directory::{DirectoryError, DirectoryWriter, SqliteDirectory};
use registry_credentials_sql::{
    DatabaseError, EncryptionKey, KeyError, Keyring, OpenError, SchemaError, SqliteOptions,
    SqliteStore, SqliteTransaction,
};

use crate::output::{Failure, Kind, chain, database_failure, fail};

/// The directory under `$CF_HOME` (or `$HOME`) that holds the state, as
/// cf's own `.cf`.
pub const STATE_DIR: &str = ".cf";

/// The database's name in [`STATE_DIR`].
pub const DB_FILE: &str = "registry-credentials.db";

/// The key file's name in [`STATE_DIR`], used when `CF_REGISTRY_KEY` is
/// unset.
pub const KEY_FILE: &str = "registry-credentials.key";

/// The id the database records for its key.
const KEY_ID: &str = "cf";

/// The user who holds the Admin role in a new database.
pub const ADMIN: &str = "admin";

/// How long a command waits for another one holding the write lock.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long after a key file was written its database may still be on
/// its way (another process creating both).
const CREATION_GRACE: Duration = Duration::from_secs(3);

/// The longest key file read.
const MAX_KEY_FILE: u64 = 4096;

/// Opens the tool's database in the state directory `dir` (see
/// [`state_dir`]) with the same checks as every command, creating nothing:
/// `None` when there is no state. `env_key` is `CF_REGISTRY_KEY`'s value;
/// without it the key file is read. For programs that only read the
/// tool's state, such as a credential helper.
///
/// # Errors
///
/// What is wrong and what to do: damage, a missing or bad key, a database
/// that cannot be opened.
pub fn open_existing_state(
    dir: &Path,
    env_key: Option<&str>,
) -> Result<Option<SqliteStore>, String> {
    Files::new(dir).open(env_key, false).map_err(|f| f.message)
}

/// The directory that holds the state: `$CF_HOME/.cf` when `CF_HOME` is
/// set and not empty, else `$HOME/.cf`, as cf finds its own.
///
/// # Errors
///
/// When neither is set.
///
/// ```
/// use std::ffi::OsStr;
/// use std::path::Path;
/// use registry_credentials_cf_cli::state::state_dir;
///
/// let dir = state_dir(Some(OsStr::new("/srv/cf")), Some(OsStr::new("/home/me")));
/// assert_eq!(dir.unwrap(), Path::new("/srv/cf/.cf"));
/// assert_eq!(state_dir(None, Some(OsStr::new("/home/me"))).unwrap(), Path::new("/home/me/.cf"));
/// assert!(state_dir(Some(OsStr::new("")), None).is_err());
/// ```
pub fn state_dir(cf_home: Option<&OsStr>, home: Option<&OsStr>) -> Result<PathBuf, StateDirError> {
    [cf_home, home]
        .into_iter()
        .flatten()
        .find(|h| !h.is_empty())
        .map(|h| Path::new(h).join(STATE_DIR))
        .ok_or(StateDirError)
}

/// Neither `CF_HOME` nor `HOME` is set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "neither CF_HOME nor HOME is set; set CF_HOME to the directory under which `.cf` holds the state"
)]
pub struct StateDirError;

/// Checks the database's pages before a command reads or writes it: a
/// truncated or corrupt file is reported, never used.
pub(crate) fn check_database(tx: &SqliteTransaction<'_>, db: &Path) -> Result<(), Failure> {
    let check = tx.with_connection(|c| {
        let mut stmt = c.prepare("PRAGMA quick_check(1)")?;
        let mut rows = stmt.query([])?;
        match rows.next()? {
            Some(r) => r.get::<_, String>(0),
            None => Ok(String::from("no answer")),
        }
    });
    match check {
        Ok(ok) if ok == "ok" => Ok(()),
        Ok(problem) => Err(damaged(db, &problem)),
        // A full disk or a writer past the wait is no damage.
        Err(e) => match DatabaseError::from_sqlite(&e, db, BUSY_TIMEOUT) {
            Some(explained) => Err(explained_failure(db, &explained)),
            None => Err(damaged(db, &chain(&e))),
        },
    }
}

/// A failure of the database at `db` as the store explained it: damage
/// reported as damage to the file, anything else with what to do.
fn explained_failure(db: &Path, e: &DatabaseError) -> Failure {
    let f = database_failure(e);
    if f.kind == Kind::Damage {
        damaged(db, &f.message)
    } else {
        f
    }
}

pub(crate) fn damaged(db: &Path, what: &str) -> Failure {
    fail(format!(
        "the database {} is damaged ({what}); restore it from a backup, or move it and the key file away to start afresh",
        db.display()
    ))
}

/// The tool's files.
pub(crate) struct Files {
    /// The directory that holds them ([`state_dir`]).
    dir: PathBuf,
    /// The database.
    pub(crate) db: PathBuf,
    /// The key file.
    key: PathBuf,
}

/// `base` with `suffix` added to its name.
fn beside(base: &Path, suffix: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// What a file is, when it is not a regular file.
pub(crate) fn kind_of(meta: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

impl Files {
    /// The files in `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        Files {
            dir: dir.to_owned(),
            db: dir.join(DB_FILE),
            key: dir.join(KEY_FILE),
        }
    }

    pub(crate) fn damaged(&self, what: &str) -> Failure {
        damaged(&self.db, what)
    }

    /// Whether `path` exists; if it does, that it is a regular file (a
    /// link to one counts) that others may not read or write. Never
    /// opens it.
    fn check(&self, path: &Path, what: &str) -> Result<Option<fs::Metadata>, Failure> {
        let shown = path.display();
        match fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail(format!("cannot inspect {what} {shown}: {e}"))),
            Ok(_) => {}
        }
        let meta = fs::metadata(path).map_err(|e| {
            fail(format!(
                "{what} {shown} is a link that leads nowhere ({e}); restore what it pointed to, or remove the link"
            ))
        })?;
        if !meta.is_file() {
            return Err(fail(format!(
                "{what} {shown} is {}, not a regular file; move it away (nothing was read from it)",
                kind_of(&meta)
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(fail(format!(
                    "{what} {shown} holds secrets but others may access it (mode {:o}); run `chmod 600 {shown}`",
                    mode & 0o777
                )));
            }
        }
        Ok(Some(meta))
    }

    /// Opens the database. When nothing of the tool's exists yet, creates
    /// it (with the key file and the directory) if `create`, and returns
    /// `None` otherwise, having created nothing.
    pub(crate) fn open(
        &self,
        env_key: Option<&str>,
        create: bool,
    ) -> Result<Option<SqliteStore>, Failure> {
        let db = self.check(&self.db, "the database")?;
        for suffix in ["-wal", "-shm"] {
            self.check(&beside(&self.db, suffix), "the database's journal")?;
        }
        let key_file = match env_key {
            Some(_) => None,
            None => self.check(&self.key, "the key file")?,
        };
        if let Some(meta) = &db {
            self.check_header(meta.len())?;
        }
        let key = match env_key {
            Some(hex) => Some(EncryptionKey::from_hex(KEY_ID, hex).map_err(|_| {
                fail("CF_REGISTRY_KEY is not 64 hexadecimal digits; set it to the database's key, or unset it to use the key file")
            })?),
            None if key_file.is_some() => Some(self.read_key()?),
            None => None,
        };
        match (db, key) {
            (Some(_), Some(key)) => self.open_existing(key).map(Some),
            (Some(_), None) => Err(fail(format!(
                "the database {} exists but the key file {} does not; set CF_REGISTRY_KEY to the database's key, or restore the key file",
                self.db.display(),
                self.key.display()
            ))),
            (None, key) => {
                let key_exists = fs::symlink_metadata(&self.key).is_ok();
                if key_exists {
                    // Another process may be creating both: its key file
                    // goes first, its database a moment later.
                    if self.wait_for_db()? {
                        let key = match key {
                            Some(k) => k,
                            None => self.read_key()?,
                        };
                        return self.open_existing(key).map(Some);
                    }
                    return Err(fail(format!(
                        "the database {} is missing but the key file {} exists, so there was one; \
                         restore the database from a backup, or move the key file away to start afresh",
                        self.db.display(),
                        self.key.display()
                    )));
                }
                if !create {
                    return Ok(None);
                }
                self.create(key).map(Some)
            }
        }
    }

    /// Checks the database's header against its length: an SQLite file is
    /// whole pages, and as long as its header says when no WAL file holds
    /// pages of it. Reads the first 100 bytes of a regular file.
    fn check_header(&self, len: u64) -> Result<(), Failure> {
        if len == 0 {
            return Err(self.damaged("it is empty"));
        }
        let mut header = [0u8; 100];
        let read = open_nonblocking(&self.db).and_then(|f| {
            if f.metadata()?.is_file() {
                f.take(100).read_exact(&mut header)
            } else {
                Err(io::Error::other("not a regular file"))
            }
        });
        if read.is_err() || &header[..16] != b"SQLite format 3\0" {
            return Err(self.damaged("it is not an SQLite database, or is cut short"));
        }
        let page = match u16::from_be_bytes([header[16], header[17]]) {
            1 => 65_536,
            n => u64::from(n),
        };
        if page < 512 || len % page != 0 {
            return Err(self.damaged(&format!(
                "its {len} bytes are not a whole number of {page}-byte pages: it was cut short"
            )));
        }
        let be = |at: usize| {
            u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        let pages = u64::from(be(28));
        let valid = be(24) == be(92);
        let wal_pages = fs::metadata(beside(&self.db, "-wal")).is_ok_and(|m| m.len() > 0);
        if valid && !wal_pages && pages * page > len {
            return Err(self.damaged(&format!(
                "its header counts {pages} pages but the file holds {}: it was cut short",
                len / page
            )));
        }
        Ok(())
    }

    /// Waits a moment for a database another process is creating; true
    /// when it appeared.
    fn wait_for_db(&self) -> Result<bool, Failure> {
        let written = fs::metadata(&self.key)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        // However the key file's time reads (a clock set back, a file
        // restored with a time ahead), the wait ends.
        let deadline = Instant::now() + CREATION_GRACE;
        loop {
            if self.check(&self.db, "the database")?.is_some() {
                return Ok(true);
            }
            let age = SystemTime::now()
                .duration_since(written)
                .unwrap_or(Duration::ZERO);
            if age > CREATION_GRACE || Instant::now() > deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Reads the key file: a regular file, never more than a few bytes,
    /// opened without blocking (a FIFO swapped in after the check cannot
    /// hang it).
    fn read_key(&self) -> Result<EncryptionKey, Failure> {
        let shown = self.key.display();
        let file = open_nonblocking(&self.key)
            .map_err(|e| fail(format!("cannot read the key file {shown}: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| fail(format!("cannot read the key file {shown}: {e}")))?;
        if !meta.is_file() {
            return Err(fail(format!(
                "the key file {shown} is {}, not a regular file; move it away",
                kind_of(&meta)
            )));
        }
        let mut text = String::new();
        file.take(MAX_KEY_FILE)
            .read_to_string(&mut text)
            .map_err(|e| fail(format!("cannot read the key file {shown}: {e}")))?;
        let text = Password::new(text).map_err(|_| self.bad_key())?;
        EncryptionKey::from_hex(KEY_ID, text.expose()).map_err(|_| self.bad_key())
    }

    fn bad_key(&self) -> Failure {
        fail(format!(
            "the key file {} does not hold 64 hexadecimal digits; restore it, or set CF_REGISTRY_KEY",
            self.key.display()
        ))
    }

    fn options() -> SqliteOptions {
        SqliteOptions::default().busy_timeout(BUSY_TIMEOUT)
    }

    fn open_existing(&self, key: EncryptionKey) -> Result<SqliteStore, Failure> {
        let store = self.open_store(key)?;
        // Commands that only read open the directory in a read
        // transaction, which cannot migrate it: tables of an earlier
        // release are brought up to date here, once.
        if let Err(e) = SqliteDirectory::migrate(&store) {
            let failure = Failure::from(e).on_database(&self.db, BUSY_TIMEOUT);
            return Err(match failure.kind {
                Kind::Damage => self.damaged(&failure.message),
                _ => failure,
            });
        }
        Ok(store)
    }

    /// The store in the existing database, opened.
    fn open_store(&self, key: EncryptionKey) -> Result<SqliteStore, Failure> {
        let shown = self.db.display();
        SqliteStore::open_with(&self.db, Keyring::new(key), Self::options().create(false)).map_err(|e| {
            if let OpenError::Database(explained) = &e {
                return explained_failure(&self.db, explained);
            }
            match &e {
            OpenError::Key(KeyError::WrongKey { .. }) => fail(format!(
                "the database {shown} was encrypted with another key: {}; set CF_REGISTRY_KEY to its key, or unset it to use the key file",
                chain(&e)
            )),
            OpenError::Schema(SchemaError::NotAStore) => self.damaged("it holds no credential store"),
            OpenError::Backend { retryable: true, .. } => fail(format!(
                "the database {shown} is busy: {}; retry",
                chain(&e)
            )),
            _ => self.damaged(&chain(&e)),
        }})
    }

    /// A unique temporary name beside `path`.
    fn temp(path: &Path) -> PathBuf {
        beside(
            path,
            &format!(
                ".tmp-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ),
        )
    }

    /// Creates the database, complete, under a temporary name, then the
    /// key file (when the key is not given), then links the database into
    /// place: no process ever sees half of either.
    fn create(&self, key: Option<EncryptionKey>) -> Result<SqliteStore, Failure> {
        let (key, key_text) = match key {
            Some(k) => (k, None),
            None => {
                let hex = EncryptionKey::generate_hex().map_err(|e| fail(chain(&e)))?;
                let k =
                    EncryptionKey::from_hex(KEY_ID, hex.expose()).map_err(|e| fail(chain(&e)))?;
                (k, Some(hex))
            }
        };
        self.make_dir()?;
        let temp_db = Self::temp(&self.db);
        let built = self.build(&temp_db, key.clone());
        let linked = built.and_then(|()| {
            if let Some(hex) = &key_text {
                if !self.write_key(hex.expose())? {
                    // Another process made the key file first: its
                    // database is on its way.
                    return Ok(false);
                }
            }
            match fs::hard_link(&temp_db, &self.db) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(fail(format!(
                    "cannot create the database {}: {e}",
                    self.db.display()
                ))),
            }
        });
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = fs::remove_file(beside(&temp_db, suffix));
        }
        if linked? {
            return self.open_existing(key);
        }
        // Someone else created it; use theirs.
        if !self.wait_for_db()? {
            return Err(fail(format!(
                "the database {} did not appear although the key file {} was written; retry",
                self.db.display(),
                self.key.display()
            )));
        }
        let key = match key_text {
            Some(_) => self.read_key()?,
            None => key,
        };
        self.open_existing(key)
    }

    /// Makes the state's directory, and any missing parent, mode 0700; an
    /// existing one is used as it is.
    fn make_dir(&self) -> Result<(), Failure> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir).map_err(|e| {
            fail(format!(
                "cannot create the directory {}: {e}",
                self.dir.display()
            ))
        })
    }

    /// A complete new database at `path`: the store, the directory's
    /// tables, and the admin.
    fn build(&self, path: &Path, key: EncryptionKey) -> Result<(), Failure> {
        let fail_build = |e: &dyn std::error::Error| {
            fail(format!(
                "cannot create the database {}: {}",
                self.db.display(),
                chain(e)
            ))
        };
        let store = SqliteStore::open_with(path, Keyring::new(key), Self::options())
            .map_err(|e| fail_build(&e))?;
        store
            .transaction(|tx| -> Result<(), DirectoryError> {
                let d = SqliteDirectory::open(tx)?;
                d.grant_global(UserId::new(ADMIN).expect("a valid id"), GlobalRole::Admin)?;
                Ok(())
            })
            .map_err(|e| fail_build(&e))?;
        Ok(())
    }

    /// Writes the key file atomically (mode 0600); false when it exists.
    fn write_key(&self, hex: &str) -> Result<bool, Failure> {
        let temp = Self::temp(&self.key);
        let shown = self.key.display();
        let write = || -> io::Result<bool> {
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temp)?;
            file.write_all(format!("{hex}\n").as_bytes())?;
            file.sync_all()?;
            match fs::hard_link(&temp, &self.key) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(e),
            }
        };
        let result = write();
        let _ = fs::remove_file(&temp);
        result.map_err(|e| fail(format!("cannot write the key file {shown}: {e}")))
    }
}

/// Opens `path` for reading without blocking: a FIFO swapped in after a
/// check of its kind cannot hang the open.
pub(crate) fn open_nonblocking(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}
