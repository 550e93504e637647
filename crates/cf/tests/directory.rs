//! The `Directory` contract, checked on every directory of this crate:
//! names unique where cf wants them, removals that take what is inside
//! along, ids never used again (R13), space roles that make Org Users
//! (R21), and a refused change that changes nothing. `SqliteDirectory`
//! (feature `sqlite`) also keeps its rows and the cf session across
//! transactions, and refuses tables of a newer release.

use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials_cf::access::{GlobalRole, OrgRole, SpaceRole};
use registry_credentials_cf::directory::{
    DirectoryError, DirectoryReader, DirectoryWriter, MemoryDirectory, Name,
};

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn contract(d: &impl DirectoryWriter) {
    let (o1, o2) = (OrgId::new("o1").unwrap(), OrgId::new("o2").unwrap());
    let (s1, s2) = (SpaceId::new("s1").unwrap(), SpaceId::new("s2").unwrap());
    let (a1, a2) = (AppId::new("a1").unwrap(), AppId::new("a2").unwrap());
    d.add_org(o1.clone(), name("org")).unwrap();
    assert!(matches!(
        d.add_org(o2.clone(), name("org")),
        Err(DirectoryError::NameTaken { .. })
    ));
    assert!(matches!(
        d.add_org(o1.clone(), name("other")),
        Err(DirectoryError::IdTaken { .. })
    ));
    d.add_org(o2.clone(), name("other")).unwrap();
    d.add_space(s1.clone(), &o1, name("b-space")).unwrap();
    d.add_space(s2.clone(), &o1, name("a-space")).unwrap();
    // Space names are unique in their organization only.
    d.add_space(SpaceId::new("s3").unwrap(), &o2, name("a-space"))
        .unwrap();
    let e = d
        .add_space(SpaceId::new("s4").unwrap(), &o1, name("a-space"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "space `a-space` already exists in organization `org`; choose another name"
    );
    assert!(matches!(
        d.add_space(
            SpaceId::new("s5").unwrap(),
            &OrgId::new("nope").unwrap(),
            name("x")
        ),
        Err(DirectoryError::Unknown { .. })
    ));
    assert_eq!(
        d.spaces_in(&o1).unwrap(),
        [(s2.clone(), name("a-space")), (s1.clone(), name("b-space"))]
    );
    d.add_app(a1.clone(), &s1, name("web")).unwrap();
    d.add_app(a2.clone(), &s1, name("api")).unwrap();
    assert!(matches!(
        d.add_app(AppId::new("a3").unwrap(), &s1, name("web")),
        Err(DirectoryError::NameTaken { .. })
    ));
    let apps: Vec<Name> = d
        .apps_in(&s1)
        .unwrap()
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(apps, [name("api"), name("web")]);
    let (app, n) = d.app(&a1).unwrap().unwrap();
    assert_eq!((app.org(), app.space(), n), (&o1, &s1, name("web")));
    assert_eq!(d.app_by_name(&s1, "web").unwrap(), Some(a1.clone()));
    assert_eq!(d.space_by_name(&o1, "b-space").unwrap(), Some(s1.clone()));
    assert_eq!(d.org_by_name("org").unwrap(), Some(o1.clone()));

    // Roles; a space role makes an Org User (R21).
    let u = UserId::new("u").unwrap();
    d.grant_global(u.clone(), GlobalRole::GlobalAuditor)
        .unwrap();
    d.grant_org(u.clone(), &o2, OrgRole::Manager).unwrap();
    d.grant_space(u.clone(), &s1, SpaceRole::Developer).unwrap();
    let r = d.roles(&u).unwrap();
    assert!(r.has_global(GlobalRole::GlobalAuditor));
    assert!(r.has_org_role(&o2, OrgRole::Manager));
    assert!(r.has_org_role(&o1, OrgRole::User));
    assert!(r.has_space_role(&s1, SpaceRole::Developer));
    assert!(
        d.roles(&UserId::new("nobody").unwrap())
            .unwrap()
            .org_roles()
            .next()
            .is_none()
    );

    // Removing an app, a space, an organization: what is inside goes too,
    // and no id comes back (R13).
    d.remove_app(&a2).unwrap();
    assert!(d.app(&a2).unwrap().is_none());
    assert!(matches!(
        d.add_app(a2.clone(), &s1, name("api2")),
        Err(DirectoryError::IdTaken { .. })
    ));
    d.remove_space(&s1).unwrap();
    assert!(d.app(&a1).unwrap().is_none());
    assert!(!d.roles(&u).unwrap().in_space(&s1));
    assert!(matches!(
        d.add_space(s1.clone(), &o1, name("again")),
        Err(DirectoryError::IdTaken { .. })
    ));
    assert!(matches!(
        d.add_app(a1.clone(), &s2, name("web")),
        Err(DirectoryError::IdTaken { .. })
    ));
    d.remove_org(&o1).unwrap();
    assert!(d.org_by_name("org").unwrap().is_none());
    assert!(d.space(&s2).unwrap().is_none());
    assert!(!d.roles(&u).unwrap().in_org(&o1));
    assert!(d.roles(&u).unwrap().has_org_role(&o2, OrgRole::Manager));
    assert!(matches!(
        d.add_org(o1.clone(), name("org")),
        Err(DirectoryError::IdTaken { .. })
    ));
    // The name is free again, under a new id.
    d.add_org(OrgId::new("o9").unwrap(), name("org")).unwrap();
    for e in [
        d.remove_org(&o1).unwrap_err(),
        d.remove_space(&s1).unwrap_err(),
        d.remove_app(&a1).unwrap_err(),
    ] {
        assert!(matches!(e, DirectoryError::Unknown { .. }), "{e}");
    }
}

#[test]
fn r13_r21_memory_directory_keeps_the_contract() {
    contract(&MemoryDirectory::new());
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

    #[test]
    fn r13_r21_sqlite_directory_keeps_the_contract_and_its_rows() {
        let store = store("contract");
        store
            .transaction(|tx| -> Result<(), DirectoryError> {
                contract(&SqliteDirectory::open(tx)?);
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
}
