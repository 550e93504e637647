//! The workload's promises (feature `workload`): every push is answered at
//! the scope its kind names, by the credential it names (R14), misses find
//! nothing (R15), and the same seed gives the same store and pushes.

use std::collections::{BTreeSet, HashSet};

use registry_credentials::workload::{MIN_CREDENTIALS, PushKind, Workload};
use registry_credentials::{
    CredentialStore, MemoryStore, Reference, RegistryCredential, ScopeKind, resolve,
};

/// What identifies a credential and what it holds.
fn fingerprint(c: &RegistryCredential) -> (String, String, String, String) {
    (
        c.scope().to_string(),
        c.location().to_string(),
        c.username().to_string(),
        c.password().expose().to_owned(),
    )
}

fn filled(w: &Workload) -> MemoryStore {
    let store = MemoryStore::new();
    assert_eq!(w.fill(&store).unwrap(), w.len());
    store
}

/// R14, R15: each push of each kind is answered at the kind's scope, by the
/// credential the push names; a miss by nothing.
#[test]
fn r14_r15_pushes_hit_at_the_scope_their_kind_names() {
    for (n, seed) in [
        (MIN_CREDENTIALS, 1),
        (300, 2),
        (5_000, Workload::DEFAULT_SEED),
    ] {
        let w = Workload::with_seed(n, seed);
        let store = filled(&w);
        for kind in PushKind::ALL {
            for push in w.pushes(kind).take(500) {
                assert_eq!(push.kind, kind);
                let image: Reference = push.image.parse().unwrap();
                let found = resolve(&store, &push.app, &image).unwrap();
                assert_eq!(
                    found.as_ref().map(|r| r.scope_kind()),
                    kind.scope(),
                    "{n} credentials, {kind}: {} for {:?}",
                    push.image,
                    push.app
                );
                assert_eq!(
                    found.as_ref().map(|r| r.location()),
                    push.expected.as_ref(),
                    "{kind}: {}",
                    push.image
                );
            }
        }
    }
}

/// The foundation hit is the plan's last key and the app hit its first;
/// a miss tries all twelve (what the resolve bench's cases say).
#[test]
fn r14_foundation_hits_are_last_app_hits_first_misses_try_twelve() {
    use registry_credentials::resolve::explain;
    let w = Workload::new(2_000);
    let store = filled(&w);
    for kind in [PushKind::AppHit, PushKind::FoundationHit, PushKind::Miss] {
        for push in w.pushes(kind).take(200) {
            let image: Reference = push.image.parse().unwrap();
            let why = explain(&store, &push.app, &image).unwrap();
            let keys = why.attempts().len();
            match kind {
                PushKind::AppHit => assert_eq!(why.winner_index(), Some(0), "{}", push.image),
                PushKind::FoundationHit => {
                    assert_eq!(keys, 12, "{}", push.image);
                    assert_eq!(why.winner_index(), Some(keys - 1), "{}", push.image);
                }
                _ => {
                    assert_eq!(keys, 12, "{}", push.image);
                    assert_eq!(why.winner_index(), None, "{}", push.image);
                }
            }
        }
    }
}

/// The same seed gives the same credentials and pushes; another seed
/// another store.
#[test]
fn same_seed_same_store_and_pushes() {
    let a = Workload::with_seed(1_000, 7);
    let b = Workload::with_seed(1_000, 7);
    let all = |w: &Workload| filled(w).list_all().unwrap();
    let (sa, sb) = (all(&a), all(&b));
    assert_eq!(
        sa.iter().map(|c| fingerprint(c)).collect::<Vec<_>>(),
        sb.iter().map(|c| fingerprint(c)).collect::<Vec<_>>()
    );
    assert!(
        a.credentials()
            .zip(b.credentials())
            .all(|(x, y)| fingerprint(&x) == fingerprint(&y))
    );
    for kind in PushKind::ALL {
        let pa: Vec<_> = a.pushes(kind).take(100).collect();
        let pb: Vec<_> = b.pushes(kind).take(100).collect();
        assert_eq!(pa, pb, "{kind}");
    }
    let other = all(&Workload::with_seed(1_000, 8));
    assert_ne!(
        sa.iter().map(|c| fingerprint(c)).collect::<Vec<_>>(),
        other.iter().map(|c| fingerprint(c)).collect::<Vec<_>>()
    );
}

/// The mix holds every scope, Docker Hub (with `library` and user
/// namespaces), ports, IP hosts, namespaces of depth 1 to 3; and users
/// write Docker Hub's aliases in pushes and locations.
#[test]
fn the_mix_covers_scopes_registries_and_namespaces() {
    let w = Workload::new(10_000);
    let creds: Vec<RegistryCredential> = w.credentials().collect();
    assert_eq!(creds.len(), 10_000);
    let kinds: BTreeSet<ScopeKind> = creds.iter().map(|c| c.scope().kind()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ScopeKind::ALL);
    let has = |p: &dyn Fn(&RegistryCredential) -> bool| creds.iter().any(p);
    assert!(has(&|c| c.location().as_str() == "docker.io/library"));
    assert!(has(&|c| c
        .location()
        .as_str()
        .starts_with("docker.io/user")));
    assert!(has(&|c| c
        .location()
        .as_str()
        .starts_with("docker.io/team")));
    assert!(has(&|c| c.location().port().is_some()));
    assert!(has(&|c| c.location().registry().starts_with('[')));
    assert!(has(&|c| c
        .location()
        .registry()
        .parse::<std::net::Ipv4Addr>()
        .is_ok()));
    let depths: HashSet<usize> = creds
        .iter()
        .filter_map(|c| c.location().path())
        .map(|p| p.split('/').count())
        .collect();
    assert!((1..=3).all(|d| depths.contains(&d)), "{depths:?}");
    let images: Vec<String> = PushKind::ALL
        .iter()
        .flat_map(|k| w.pushes(*k).take(2_000).map(|p| p.image))
        .collect();
    for alias in ["index.docker.io/", "registry-1.docker.io/"] {
        assert!(images.iter().any(|i| i.starts_with(alias)), "{alias}");
    }
    // A Docker Hub image written without a host (R3).
    assert!(
        images
            .iter()
            .any(|i| !i.split('/').next().unwrap().contains(['.', ':']))
    );
    // Every key is distinct: filling a store conflicts nowhere (R13).
    assert_eq!(filled(&w).len(), 10_000);
}
