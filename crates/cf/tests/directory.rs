//! The directory contract (`DirectoryReader`, `DirectoryWriter`), checked
//! by the conformance suite on every directory of this crate: names unique
//! where cf wants them, removals that take what is inside along, ids never
//! used again (R13), space roles that make Org Users (R21), and a refused
//! change that changes nothing. `SqliteDirectory` (feature `sqlite`) also
//! keeps its rows and the cf session across transactions, and refuses
//! tables of a newer release. `PostgresDirectory` runs the suite in
//! `manage_postgres.rs`, beside the server it needs.

#[cfg(feature = "sqlite")]
use registry_credentials::Scope;
#[cfg(feature = "sqlite")]
use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
#[cfg(feature = "sqlite")]
use registry_credentials_cf::access::GlobalRole;
#[cfg(feature = "sqlite")]
use registry_credentials_cf::directory::{DirectoryError, DirectoryReader, DirectoryWriter, Name};

#[cfg(feature = "sqlite")]
fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

mod memory_directory_conformance {
    use registry_credentials::store::block_on_ready;
    use registry_credentials_cf::directory::conformance::Check;
    use registry_credentials_cf::directory::{InlineDirectory, MemoryDirectory};

    fn run(check: Check) {
        block_on_ready(check(&InlineDirectory(MemoryDirectory::new())));
    }

    registry_credentials_cf::directory_conformance!();
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use registry_credentials_cf::directory::{SQLITE_DIRECTORY_VERSION, Session, SqliteDirectory};
    use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};

    fn store(name: &str) -> SqliteStore {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("dir-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        SqliteStore::open(
            dir.join("cf.db"),
            Keyring::new(EncryptionKey::new("k", [3; 32]).unwrap()),
        )
        .unwrap()
    }

    mod conformance {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use registry_credentials::store::block_on_ready;
        use registry_credentials_cf::directory::conformance::Check;
        use registry_credentials_cf::directory::{
            DirectoryError, InlineDirectory, SqliteDirectory,
        };

        /// Each check in a fresh file, inside one write transaction.
        fn run(check: Check) {
            static N: AtomicUsize = AtomicUsize::new(0);
            let store = super::store(&format!(
                "conformance-{}",
                N.fetch_add(1, Ordering::Relaxed)
            ));
            store
                .transaction(|tx| -> Result<(), DirectoryError> {
                    block_on_ready(check(&InlineDirectory(SqliteDirectory::open(tx)?)));
                    Ok(())
                })
                .unwrap();
        }

        registry_credentials_cf::directory_conformance!();
    }

    #[test]
    fn r13_sqlite_directory_keeps_its_rows_across_transactions() {
        let store = store("rows");
        store
            .transaction(|tx| -> Result<(), DirectoryError> {
                let d = SqliteDirectory::open(tx)?;
                d.add_org(OrgId::new("o1").unwrap(), name("first"))?;
                d.remove_org(&OrgId::new("o1").unwrap())?;
                d.add_org(OrgId::new("o9").unwrap(), name("org"))?;
                d.grant_global(UserId::new("u").unwrap(), GlobalRole::GlobalAuditor)?;
                Ok(())
            })
            .unwrap();
        // Committed: another transaction, a read one, sees it all, and
        // the removed ids stay retired.
        store
            .read_transaction(|tx| -> Result<(), DirectoryError> {
                let d = SqliteDirectory::open(tx)?;
                assert!(d.org_by_name("org")?.is_some());
                assert!(d.org_name(&OrgId::new("o1").unwrap())?.is_none());
                assert!(
                    d.roles(&UserId::new("u").unwrap())?
                        .has_global(GlobalRole::GlobalAuditor)
                );
                // A read transaction changes nothing.
                assert!(d.add_org(OrgId::new("o7").unwrap(), name("seven")).is_err());
                Ok(())
            })
            .unwrap();
        store
            .transaction(|tx| -> Result<(), DirectoryError> {
                let d = SqliteDirectory::open(tx)?;
                assert!(matches!(
                    d.add_org(OrgId::new("o1").unwrap(), name("back")),
                    Err(DirectoryError::IdTaken { .. })
                ));
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_refused_change_in_a_transaction_leaves_nothing() {
        let store = store("rollback");
        let e = store
            .transaction(|tx| -> Result<(), DirectoryError> {
                let d = SqliteDirectory::open(tx)?;
                d.add_org(OrgId::new("o1").unwrap(), name("org"))?;
                d.add_org(OrgId::new("o2").unwrap(), name("org"))?;
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(e, DirectoryError::NameTaken { .. }), "{e}");
        let found = store
            .transaction(|tx| SqliteDirectory::open(tx)?.org_by_name("org"))
            .unwrap();
        assert_eq!(found, None);
    }

    #[test]
    fn the_session_persists_and_newer_tables_are_refused() {
        let store = store("session");
        let session = Session {
            user: Some(UserId::new("dev").unwrap()),
            org: Some(OrgId::new("o1").unwrap()),
            space: None,
        };
        store
            .transaction(|tx| SqliteDirectory::open(tx)?.set_session(&session))
            .unwrap();
        let read = store
            .read_transaction(|tx| SqliteDirectory::open(tx)?.session())
            .unwrap();
        assert_eq!(read, session);
        store
            .transaction(|tx| -> Result<(), DirectoryError> {
                tx.with_connection(|c| {
                    c.execute(
                        "UPDATE registry_credentials_cf_schema SET version = ?1",
                        [SQLITE_DIRECTORY_VERSION + 1],
                    )
                })
                .unwrap();
                Ok(())
            })
            .unwrap();
        let e = store
            .read_transaction(|tx| SqliteDirectory::open(tx).map(|_| ()))
            .unwrap_err();
        assert!(matches!(e, DirectoryError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains("newer than"), "{e}");
    }

    /// Tables of the first schema, as a release before the apps' images
    /// wrote them: the current tables without the image column, at
    /// version 1.
    fn first_schema(store: &SqliteStore) {
        store
            .transaction(|tx| -> Result<(), DirectoryError> {
                let d = SqliteDirectory::open(tx)?;
                d.add_org(OrgId::new("o1").unwrap(), name("org"))?;
                d.add_space(
                    SpaceId::new("s1").unwrap(),
                    &OrgId::new("o1").unwrap(),
                    name("space"),
                )?;
                d.add_app(
                    AppId::new("a1").unwrap(),
                    &SpaceId::new("s1").unwrap(),
                    name("web"),
                )?;
                tx.with_connection(|c| {
                    c.execute_batch(
                        "ALTER TABLE cf_apps DROP COLUMN image; \
                         UPDATE registry_credentials_cf_schema SET version = 1;",
                    )
                })
                .unwrap();
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn r29_first_schema_tables_migrate_keeping_their_apps_without_images() {
        let store = store("migrate");
        first_schema(&store);
        // A read transaction cannot migrate, and says how.
        let e = store
            .read_transaction(|tx| SqliteDirectory::open(tx).map(|_| ()))
            .unwrap_err();
        assert!(e.to_string().contains("older than 2"), "{e}");
        SqliteDirectory::migrate(&store).unwrap();
        // Migrated once: a second call has nothing to do.
        SqliteDirectory::migrate(&store).unwrap();
        let app = AppId::new("a1").unwrap();
        store
            .read_transaction(|tx| -> Result<(), DirectoryError> {
                let d = SqliteDirectory::open(tx)?;
                let (found, n) = d.app(&app)?.expect("the app is kept");
                assert_eq!((found.space().as_str(), n.as_str()), ("s1", "web"));
                // Pushed before images were recorded: none until its next push.
                assert!(d.app_images(&Scope::Foundation)?.is_empty());
                Ok(())
            })
            .unwrap();
        store
            .transaction(|tx| -> Result<(), DirectoryError> {
                let d = SqliteDirectory::open(tx)?;
                d.set_app_image(&app, &"registry.example.com/team/web:2".parse().unwrap())?;
                let images = d.app_images(&Scope::Space(SpaceId::new("s1").unwrap()))?;
                assert_eq!(images.len(), 1);
                assert_eq!(images[0].2.as_str(), "registry.example.com/team/web:2");
                Ok(())
            })
            .unwrap();
    }
}
