//! Directories for one test, and a small full disk.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh, empty directory under `root` (a test's `CARGO_TARGET_TMPDIR`)
/// for the test `name`, unique per process and call.
pub fn temp_dir(root: &Path, name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = root.join(format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A tmpfs of 1 MiB mounted for one test, unmounted when dropped.
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts one at `at` (made if missing).
    ///
    /// # Panics
    ///
    /// When mounting fails: the tests that ask for one need root, and
    /// must not pass without it.
    pub fn mount(at: PathBuf) -> Self {
        std::fs::create_dir_all(&at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&at)
            .status();
        match status {
            Ok(s) if s.success() => Tmpfs(at),
            other => panic!(
                "needs root: mounting a 1 MiB tmpfs at {} failed ({other:?}); run as root",
                at.display()
            ),
        }
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Fills what is left with a file, and returns its path: remove it to
    /// free the space.
    pub fn fill(&self) -> PathBuf {
        let filler = self.0.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        while f.write_all(&[0u8; 4096]).is_ok() {}
        // Byte by byte, the last page's rest.
        while f.write_all(&[0]).is_ok() {}
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}
