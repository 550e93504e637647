//! The example service end to end: started on 127.0.0.1 over a SQLite
//! file whose directory the test sets up, and spoken to with `curl` as an
//! HTTP client would: bearer tokens name the caller, the access rules
//! hold (R20, R21), what the API stores is in the file, and no answer
//! holds a password.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use registry_credentials::CredentialStore;
use registry_credentials::scope::UserId;
use registry_credentials_cf::access::{GlobalRole, SpaceRole};
use registry_credentials_cf::directory::{DirectoryWriter, Name, SqliteDirectory};
use registry_credentials_cf::manage::Manager;
use registry_credentials_sql::{EncryptionKey, Keyring, SqliteStore};
use serde_json::{Value, json};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const ADMIN_TOKEN: &str = "admin-token-0123456789";
const DEV_TOKEN: &str = "dev-token-0123456789ab";
const NOBODY_TOKEN: &str = "nobody-token-012345678";
const SECRET: &str = "SERVICE-SECRET-";
const COLLECTION: &str = "/v3/registry_credentials";

fn store(db: &Path) -> SqliteStore {
    SqliteStore::open(
        db,
        Keyring::new(EncryptionKey::from_hex("api", KEY).unwrap()),
    )
    .unwrap()
}

/// The file with an organization `o`, its space `s`, an admin and a
/// Space Developer `dev` of `s`; the space's GUID.
fn set_up(db: &Path) -> String {
    let admin = UserId::new("admin").unwrap();
    store(db)
        .transaction(
            |tx| -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
                let directory = SqliteDirectory::open(tx)?;
                directory.grant_global(admin.clone(), GlobalRole::Admin)?;
                let m = Manager::new(tx, directory);
                let org = m.create_org(&admin, Name::new("o")?)?;
                let space = m.create_space(&admin, &org, Name::new("s")?)?;
                m.set_space_role(
                    &admin,
                    UserId::new("dev").unwrap(),
                    &space,
                    SpaceRole::Developer,
                )?;
                Ok(space.to_string())
            },
        )
        .unwrap()
}

/// The running service, killed when dropped.
struct Running {
    child: Child,
    url: String,
    bodies: Vec<String>,
}

impl Running {
    fn start(db: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_registry-credentials-api"))
            .args(["--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .env("REGISTRY_CREDENTIALS_KEY", KEY)
            .env(
                "REGISTRY_CREDENTIALS_API_TOKENS",
                format!("admin={ADMIN_TOKEN} dev={DEV_TOKEN}\nnobody={NOBODY_TOKEN}"),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the service said {line:?}"))
            .to_owned();
        Running {
            child,
            url,
            bodies: Vec::new(),
        }
    }

    /// One request with `curl`: the status and the body (`Null` for
    /// none).
    fn curl(
        &mut self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, Value) {
        let mut c = Command::new("curl");
        c.args(["-sS", "-X", method, "-w", "\n%{http_code}"]);
        if let Some(token) = token {
            c.args(["-H", &format!("Authorization: bearer {token}")]);
        }
        if let Some(body) = body {
            c.args([
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                body,
            ]);
        }
        let out = c
            .arg(format!("{}{path}", self.url))
            .output()
            .expect("curl runs");
        assert!(
            out.status.success(),
            "curl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let (body, status) = text.rsplit_once('\n').unwrap();
        self.bodies.push(body.to_owned());
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"))
        };
        (status.parse().unwrap(), value)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn r20_r21_r22_the_service_serves_the_api_from_its_file_to_callers_known_by_token() {
    let dir = dir("api-service");
    let db = dir.join("credentials.db");
    let space = set_up(&db);
    let mut s = Running::start(&db);

    // Without a token, or with one the service was not given: 401.
    let (status, e) = s.curl(None, "GET", COLLECTION, None);
    assert_eq!((status, &e["errors"][0]["code"]), (401, &json!(10002)));
    let (status, e) = s.curl(Some("not-a-known-token-at-all"), "GET", COLLECTION, None);
    assert_eq!((status, &e["errors"][0]["code"]), (401, &json!(1000)));

    // The developer stores a space credential (R16, R20).
    let body = json!({
        "location": "registry.example.com",
        "username": "ci",
        "password": format!("{SECRET}1"),
        "relationships": {"space": {"data": {"guid": space}}},
        "metadata": {"labels": {"env": "prod"}},
    })
    .to_string();
    let (status, created) = s.curl(Some(DEV_TOKEN), "POST", COLLECTION, Some(&body));
    assert_eq!(status, 201, "{created}");
    let guid = created["guid"].as_str().unwrap().to_owned();
    let member = format!("/v3/registry_credentials/{guid}");
    // …but not one for the foundation (R20), and a conflict changes
    // nothing (R16).
    let foundation =
        json!({"location": "docker.io", "username": "u", "password": format!("{SECRET}2")})
            .to_string();
    let (status, _) = s.curl(Some(DEV_TOKEN), "POST", COLLECTION, Some(&foundation));
    assert_eq!(status, 403);
    let (status, _) = s.curl(Some(DEV_TOKEN), "POST", COLLECTION, Some(&body));
    assert_eq!(status, 422);

    // R21: the developer and the admin see it; a user with no role does not.
    let (_, list) = s.curl(
        Some(DEV_TOKEN),
        "GET",
        "/v3/registry_credentials?label_selector=env%3Dprod",
        None,
    );
    assert_eq!(list["pagination"]["total_results"], 1);
    assert_eq!(
        list["resources"][0]["relationships"]["space"]["data"]["guid"],
        space.as_str()
    );
    let (status, _) = s.curl(Some(ADMIN_TOKEN), "GET", &member, None);
    assert_eq!(status, 200);
    let (_, list) = s.curl(Some(NOBODY_TOKEN), "GET", COLLECTION, None);
    assert_eq!(list["pagination"]["total_results"], 0);
    let (status, _) = s.curl(Some(NOBODY_TOKEN), "DELETE", &member, None);
    assert_eq!(status, 404);

    // A PATCH is in the file at once: another reader of it sees it.
    let patch = json!({"password": format!("{SECRET}3"), "metadata": {"labels": {"env": null}}})
        .to_string();
    let (status, patched) = s.curl(Some(DEV_TOKEN), "PATCH", &member, Some(&patch));
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["metadata"]["labels"], json!({}));
    let stored = store(&db)
        .get_by_guid(guid.parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(stored.password().expose(), format!("{SECRET}3"));

    // Unknown routes are the platform's 404; DELETE answers 204.
    let (status, e) = s.curl(Some(DEV_TOKEN), "GET", "/v3/apps", None);
    assert_eq!((status, &e["errors"][0]["code"]), (404, &json!(10000)));
    let (status, body) = s.curl(Some(DEV_TOKEN), "DELETE", &member, None);
    assert_eq!((status, body), (204, Value::Null));
    assert!(store(&db).list_all().unwrap().is_empty());

    // Every write above is in the file's audit events, the last a delete
    // by the developer (R27).
    let (status, events) = s.curl(
        Some(ADMIN_TOKEN),
        "GET",
        &format!("/v3/audit_events?target_guids={guid}&order_by=-created_at"),
        None,
    );
    assert_eq!(status, 200, "{events}");
    let resources = events["resources"].as_array().unwrap();
    for written in [
        "audit.registry_credential.delete",
        "audit.registry_credential.create",
    ] {
        assert!(
            resources.iter().any(|e| e["type"] == written),
            "no {written}: {events}"
        );
    }
    let (status, e) = s.curl(Some(ADMIN_TOKEN), "GET", "/v3/audit_events?types=x", None);
    assert_eq!((status, &e["errors"][0]["code"]), (400, &json!(10005)));

    for body in &s.bodies {
        assert!(
            !body.contains(SECRET),
            "R21: an answer holds a password: {body}"
        );
    }
}
