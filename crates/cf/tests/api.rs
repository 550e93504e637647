//! The platform's v3 resource for stored registry credentials (feature
//! `api`), through the handler over a `MemoryStore` and a
//! `MemoryDirectory`: every route, every error code, the read rules
//! (R20, R21), every list filter and page boundary (R22, R23), metadata
//! merged with `null` removing a key (R22), and no body ever holding a
//! password (R21).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use registry_credentials::scope::{AppId, OrgId, SpaceId, UserId};
use registry_credentials::store::{InlineStore, block_on_ready};
use registry_credentials::{Credential, CredentialStore, MemoryStore};
use registry_credentials_cf::access::{GlobalRole, SpaceRole};
use registry_credentials_cf::api::Api;
use registry_credentials_cf::directory::{DirectoryWriter, InlineDirectory, MemoryDirectory};
use registry_credentials_cf::manage::{AsyncManager, Manager};
use registry_credentials_test_support::cf::{World, name};
use serde_json::{Value, json};

/// Every password the tests send starts with this, so that one search of
/// every body finds any that leaked.
const SECRET: &str = "PW-SECRET-";

/// The seconds since 1970 the store's clock starts at:
/// 2026-12-06T22:47:13Z.
const T0: u64 = 1_796_597_233;

/// A manager with `o`/`s` (and `s2` of `o`, and an organization `o2`), an
/// admin, `dev` (Space Developer of `s`), `dev2` (of `s2`), a supporter of
/// `s`, a global auditor and a user with no role; a clock the test moves;
/// and a log of every body answered, searched for passwords when it is
/// dropped.
struct Env {
    w: World<Manager<MemoryStore>>,
    clock: Arc<AtomicU64>,
    api: Api,
    s2: SpaceId,
    o2: OrgId,
    dev2: UserId,
    supporter: UserId,
    auditor: UserId,
    nobody: UserId,
    bodies: RefCell<Vec<String>>,
}

impl Env {
    fn new() -> Self {
        Env::with_api(Api::new())
    }

    fn with_api(api: Api) -> Self {
        let clock = Arc::new(AtomicU64::new(T0));
        let now = Arc::clone(&clock);
        let store = MemoryStore::with_clock(move || {
            UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst))
        });
        let w = World::new(store);
        let s2 = w.add_space("s2");
        let o2 = w.m.create_org(&w.admin, name("o2")).unwrap();
        let dev2 = w.user("dev2", &s2, SpaceRole::Developer);
        let supporter = w.user("supporter", &w.space, SpaceRole::Supporter);
        let auditor = UserId::new("auditor").unwrap();
        w.m.directory()
            .grant_global(auditor.clone(), GlobalRole::GlobalAuditor)
            .unwrap();
        Env {
            w,
            clock,
            api,
            s2,
            o2,
            dev2,
            supporter,
            auditor,
            nobody: UserId::new("nobody").unwrap(),
            bodies: RefCell::default(),
        }
    }

    fn tick(&self, seconds: u64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    /// One request; the status and the body, parsed (`Null` for none).
    fn call(&self, user: &UserId, method: &str, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .api
            .handle_blocking(&self.w.m, user, method, path, body.as_bytes());
        self.bodies.borrow_mut().push(response.body().to_owned());
        let value = if response.body().is_empty() {
            assert_eq!(response.content_type(), None);
            Value::Null
        } else {
            assert_eq!(response.content_type(), Some("application/json"));
            serde_json::from_str(response.body()).expect("every body is JSON")
        };
        (response.status(), value)
    }

    /// `user` creates a credential; the resource, after checking 201.
    fn create(&self, user: &UserId, body: Value) -> Value {
        let (status, value) =
            self.call(user, "POST", "/v3/registry_credentials", &body.to_string());
        assert_eq!(status, 201, "{value}");
        value
    }

    /// The admin creates one for `location` at the scope `relationships`
    /// names; its GUID.
    fn stored(&self, location: &str, relationships: Value, labels: Value) -> String {
        let body = json!({
            "location": location,
            "username": "user",
            "password": format!("{SECRET}{location}"),
            "relationships": relationships,
            "metadata": {"labels": labels},
        });
        guid_of(&self.create(&self.w.admin, body))
    }

    /// The app `app` of the test space starts with `image`, bringing a
    /// credential with the password `{SECRET}{suffix}`; the app's id.
    fn started_app(&self, image: &str, suffix: &str) -> AppId {
        let w = &self.w;
        w.push(
            "app",
            image,
            Some(Credential::new("a", format!("{SECRET}{suffix}")).unwrap()),
        )
        .started()
        .unwrap();
        w.m.find_app(&w.admin, &w.space, "app").unwrap()
    }

    /// The locations a list answers, in its order, after checking 200.
    fn listed(&self, user: &UserId, query: &str) -> Vec<String> {
        let (status, value) =
            self.call(user, "GET", &format!("/v3/registry_credentials{query}"), "");
        assert_eq!(status, 200, "{query}: {value}");
        value["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["location"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        for body in self.bodies.borrow().iter() {
            assert!(
                !body.contains(SECRET),
                "R21: a body holds a password: {body}"
            );
            assert!(
                !body.contains("password\":"),
                "R21: a body has a password field: {body}"
            );
        }
    }
}

fn guid_of(resource: &Value) -> String {
    resource["guid"].as_str().unwrap().to_owned()
}

fn org_rel(org: &OrgId) -> Value {
    json!({"organization": {"data": {"guid": org.as_str()}}})
}

fn space_rel(space: &SpaceId) -> Value {
    json!({"space": {"data": {"guid": space.as_str()}}})
}

fn error_of(value: &Value) -> (u64, &str, &str) {
    let e = &value["errors"][0];
    (
        e["code"].as_u64().unwrap(),
        e["title"].as_str().unwrap(),
        e["detail"].as_str().unwrap(),
    )
}

#[test]
fn r16_r22_post_creates_at_each_scope_and_shows_the_resource() {
    let env = Env::new();
    let (w, org, space) = (&env.w, env.w.org.as_str(), env.w.space.as_str());
    let at = "2026-12-06T22:47:13Z";
    for (relationships, scope, rel_org, rel_space, links) in [
        (Value::Null, "foundation", None, None, vec![]),
        (
            org_rel(&w.org),
            "organization",
            Some(org),
            None,
            vec![("organization", format!("/v3/organizations/{org}"))],
        ),
        (
            space_rel(&w.space),
            "space",
            Some(org),
            Some(space),
            vec![
                ("organization", format!("/v3/organizations/{org}")),
                ("space", format!("/v3/spaces/{space}")),
            ],
        ),
    ] {
        let mut body = json!({
            "location": "Registry.Example.com/team",
            "username": "ci-user",
            "password": format!("{SECRET}1"),
            "metadata": {"labels": {"env": "prod"}, "annotations": {"note": "hello world"}},
        });
        if !relationships.is_null() {
            body["relationships"] = relationships;
        }
        let r = env.create(&w.admin, body);
        let guid = guid_of(&r);
        assert!(
            guid.parse::<registry_credentials::identity::Guid>().is_ok(),
            "{guid}"
        );
        assert_eq!(r["created_at"], at);
        assert_eq!(r["updated_at"], at);
        // This crate's extensions (R24, R25).
        assert_eq!(r["kind"], "password");
        assert_eq!(r["expires_at"], Value::Null);
        assert_eq!(
            r["location"],
            "registry.example.com/Team".to_ascii_lowercase()
        );
        assert_eq!(r["username"], "ci-user");
        assert_eq!(r["scope"], scope);
        assert_eq!(
            r["relationships"]["organization"]["data"]["guid"].as_str(),
            rel_org
        );
        assert_eq!(
            r["relationships"]["space"]["data"]["guid"].as_str(),
            rel_space
        );
        assert_eq!(r["relationships"]["app"], json!({"data": null}));
        if rel_org.is_none() {
            assert_eq!(r["relationships"]["organization"], json!({"data": null}));
        }
        assert_eq!(
            r["metadata"],
            json!({"labels": {"env": "prod"}, "annotations": {"note": "hello world"}})
        );
        let mut expected = json!({"self": {"href": format!("/v3/registry_credentials/{guid}")}});
        for (name, href) in links {
            expected[name] = json!({"href": href});
        }
        assert_eq!(r["links"], expected);
        // GET answers the same resource.
        let (status, got) = env.call(
            &w.admin,
            "GET",
            &format!("/v3/registry_credentials/{guid}"),
            "",
        );
        assert_eq!((status, &got), (200, &r));
    }
}

#[test]
fn r22_an_app_credential_shows_its_app_space_and_organization_under_a_base_url() {
    let env = Env::with_api(Api::with_base_url("https://api.example.com/"));
    let w = &env.w;
    let app = env.started_app("app.example.com/x/img", "app");
    let (status, list) = env.call(&w.dev, "GET", "/v3/registry_credentials?scopes=app", "");
    assert_eq!(status, 200);
    let r = &list["resources"][0];
    assert_eq!(r["scope"], "app");
    assert_eq!(r["relationships"]["app"]["data"]["guid"], app.as_str());
    assert_eq!(
        r["relationships"]["space"]["data"]["guid"],
        w.space.as_str()
    );
    assert_eq!(
        r["relationships"]["organization"]["data"]["guid"],
        w.org.as_str()
    );
    assert_eq!(
        r["links"]["app"]["href"],
        format!("https://api.example.com/v3/apps/{}", app.as_str())
    );
    assert_eq!(
        r["links"]["self"]["href"],
        format!(
            "https://api.example.com/v3/registry_credentials/{}",
            guid_of(r)
        )
    );
    assert_eq!(
        list["pagination"]["first"]["href"],
        "https://api.example.com/v3/registry_credentials?page=1&per_page=50&scopes=app"
    );
}

#[test]
fn r17_r22_patch_merges_metadata_with_null_removing_and_delete_answers_204() {
    let env = Env::new();
    let w = &env.w;
    let guid = env.stored(
        "registry.example.com",
        space_rel(&w.space),
        json!({"env": "prod", "tier": "gold"}),
    );
    let path = format!("/v3/registry_credentials/{guid}");
    env.tick(90);
    let body = json!({
        "username": "new-user",
        "password": format!("{SECRET}new"),
        "metadata": {"labels": {"env": null, "team": "ci"}, "annotations": {"why": "rotation"}},
    });
    let (status, r) = env.call(&w.dev, "PATCH", &path, &body.to_string());
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["username"], "new-user");
    assert_eq!(r["guid"], guid.as_str());
    assert_eq!(
        r["metadata"],
        json!({"labels": {"team": "ci", "tier": "gold"}, "annotations": {"why": "rotation"}})
    );
    assert_eq!(r["created_at"], "2026-12-06T22:47:13Z");
    assert_eq!(r["updated_at"], "2026-12-06T22:48:43Z");
    assert_eq!(r["location"], "registry.example.com");
    let stored =
        w.m.store()
            .get_by_guid(guid.parse().unwrap())
            .unwrap()
            .unwrap();
    assert_eq!(stored.password().expose(), format!("{SECRET}new"));
    // A PATCH of metadata alone keeps username and password.
    let (status, r) = env.call(
        &w.dev,
        "PATCH",
        &path,
        &json!({"metadata": {"annotations": {"why": null}}}).to_string(),
    );
    assert_eq!(status, 200);
    assert_eq!(r["metadata"]["annotations"], json!({}));
    assert_eq!(r["username"], "new-user");
    // A refused patch changes nothing (R22): too many labels.
    let labels: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    let (status, e) = env.call(
        &w.dev,
        "PATCH",
        &path,
        &json!({"username": "other", "metadata": {"labels": labels}}).to_string(),
    );
    assert_eq!(status, 422, "{e}");
    assert!(error_of(&e).2.contains("labels would be 52"), "{e}");
    let (_, r) = env.call(&w.dev, "GET", &path, "");
    assert_eq!(r["username"], "new-user");

    let (status, body) = env.call(&w.dev, "DELETE", &path, "");
    assert_eq!((status, body), (204, Value::Null));
    let (status, e) = env.call(&w.admin, "GET", &path, "");
    assert_eq!(status, 404);
    assert_eq!(error_of(&e).0, 10010);
    assert!(w.m.store().is_empty());
}

/// How the platform refuses a request: the status, code and title.
type Refusal = (u16, u64, &'static str);
const PARSE: Refusal = (400, 1001, "CF-MessageParseError");
const UNPROCESSABLE: Refusal = (422, 10008, "CF-UnprocessableEntity");
const NOT_AUTHORIZED: Refusal = (403, 10003, "CF-NotAuthorized");
const NO_SUCH_RESOURCE: Refusal = (404, 10010, "CF-ResourceNotFound");
const UNKNOWN_ROUTE: Refusal = (404, 10000, "CF-NotFound");
const BAD_QUERY: Refusal = (400, 10005, "CF-BadQueryParameter");

const COLLECTION: &str = "/v3/registry_credentials";

/// Requests that are refused, one a line: `user, method, path, body =>
/// refusal, what the detail says;`.
macro_rules! refusals {
    ($($user:expr, $method:literal, $path:expr, $body:expr => $refusal:expr, $says:literal;)*) => {
        vec![$(($user, $method, String::from($path), String::from($body), $refusal, $says)),*]
    };
}

#[test]
fn every_error_has_the_platforms_status_code_title_and_a_detail_that_says_what_to_do() {
    let env = Env::new();
    let w = &env.w;
    let taken = env.stored("taken.example.com", org_rel(&w.org), json!({}));
    let member = format!("/v3/registry_credentials/{taken}");
    let pw = format!("{SECRET}x");
    let create = |extra: Value| {
        let mut body = json!({"location": "registry.example.com", "username": "u", "password": pw});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body.to_string()
    };
    let random = registry_credentials::identity::Guid::random();
    let admin = &w.admin;
    let cases = refusals! {
        // Bodies that are not JSON objects, and fields of the wrong JSON type.
        admin, "POST", COLLECTION, "{not json" => PARSE, "not JSON";
        admin, "POST", COLLECTION, "" => PARSE, "not JSON";
        admin, "POST", COLLECTION, "[1]" => PARSE, "not an object";
        admin, "POST", COLLECTION, create(json!({"username": 7})) => PARSE, "'username' must be a string, not a number";
        admin, "POST", COLLECTION, create(json!({"metadata": {"labels": {"env": true}}})) => PARSE, "'metadata.labels.env' must be a string or null";
        admin, "POST", COLLECTION, create(json!({"relationships": {"space": {"data": {"guid": 5}}}})) => PARSE, "'relationships.space.data.guid' must be a string";
        admin, "PATCH", &member, r#"{"password": ["x"]}"# => PARSE, "'password' must be a string, not an array";
        // Missing, unknown and invalid fields; a conflict.
        admin, "POST", COLLECTION, create(json!({"password": null})) => UNPROCESSABLE, "'password' is required";
        admin, "POST", COLLECTION, create(json!({"password": ""})) => UNPROCESSABLE, "'password' is not valid";
        admin, "POST", COLLECTION, create(json!({"username": "a:b"})) => UNPROCESSABLE, "'username' is not valid";
        admin, "POST", COLLECTION, create(json!({"location": "https://registry.example.com"})) => UNPROCESSABLE, "leave out the protocol";
        admin, "POST", COLLECTION, create(json!({"colour": "red"})) => UNPROCESSABLE, "Unknown field(s): 'colour'";
        admin, "POST", COLLECTION, create(json!({"relationships": {"app": {"data": {"guid": "a"}}}})) => UNPROCESSABLE, "pushing the app";
        admin, "POST", COLLECTION, create(json!({"relationships": {"organization": {"data": {"guid": w.org.as_str()}}, "space": {"data": {"guid": w.space.as_str()}}}})) => UNPROCESSABLE, "give one of them";
        admin, "POST", COLLECTION, create(json!({"metadata": {"labels": {"cloudfoundry.org/x": "y"}}})) => UNPROCESSABLE, "reserved";
        admin, "POST", COLLECTION, create(json!({"location": "taken.example.com", "relationships": org_rel(&w.org)})) => UNPROCESSABLE, "already exists";
        admin, "POST", COLLECTION, create(json!({"relationships": org_rel(&OrgId::new("no-such-org").unwrap())})) => UNPROCESSABLE, "Invalid organization. Ensure that the organization exists and you have access to it";
        &env.dev2, "POST", COLLECTION, create(json!({"relationships": space_rel(&w.space)})) => UNPROCESSABLE, "Invalid space";
        admin, "PATCH", &member, r#"{"location": "other.example.com"}"# => UNPROCESSABLE, "'location' cannot be changed";
        admin, "PATCH", &member, r#"{"relationships": {}}"# => UNPROCESSABLE, "'relationships' cannot be changed";
        admin, "PATCH", &member, r#"{"name": "x"}"# => UNPROCESSABLE, "the fields are 'username', 'password' and 'metadata'";
        admin, "PATCH", &member, r#"{"username": "two words"}"# => UNPROCESSABLE, "U+0020";
        // Not authorized: seen, but not to be changed (R20).
        &w.dev, "POST", COLLECTION, create(json!({"relationships": org_rel(&w.org)})) => NOT_AUTHORIZED, "only an admin or an org manager";
        &w.dev, "POST", COLLECTION, create(json!({})) => NOT_AUTHORIZED, "only an admin may";
        &w.dev, "PATCH", &member, r#"{"username": "x"}"# => NOT_AUTHORIZED, "may not update";
        &w.dev, "DELETE", &member, "" => NOT_AUTHORIZED, "may not delete";
        &env.auditor, "DELETE", &member, "" => NOT_AUTHORIZED, "may not delete";
        // Not found: no such GUID, or not one the caller may see (R21).
        admin, "GET", format!("/v3/registry_credentials/{random}"), "" => NO_SUCH_RESOURCE, "list the registry credentials";
        admin, "GET", "/v3/registry_credentials/not-a-guid", "" => NO_SUCH_RESOURCE, "is not a GUID";
        admin, "PATCH", format!("/v3/registry_credentials/{random}"), "{}" => NO_SUCH_RESOURCE, "list the registry credentials";
        admin, "DELETE", format!("/v3/registry_credentials/{random}"), "" => NO_SUCH_RESOURCE, "list the registry credentials";
        &env.nobody, "GET", &member, "" => NO_SUCH_RESOURCE, "list the registry credentials";
        &env.nobody, "DELETE", &member, "" => NO_SUCH_RESOURCE, "list the registry credentials";
        // Unknown routes and methods: the platform's 404 CF-NotFound.
        admin, "GET", "/v3/registry_credential", "" => UNKNOWN_ROUTE, "Unknown request";
        admin, "GET", "/v3/apps", "" => UNKNOWN_ROUTE, "Unknown request";
        admin, "PUT", COLLECTION, "" => UNKNOWN_ROUTE, "use GET or POST /v3/registry_credentials";
        admin, "DELETE", COLLECTION, "" => UNKNOWN_ROUTE, "Unknown request";
        admin, "POST", &member, "{}" => UNKNOWN_ROUTE, "Unknown request";
        admin, "get", &member, "" => UNKNOWN_ROUTE, "Unknown request";
        admin, "GET", format!("{member}/extra"), "" => UNKNOWN_ROUTE, "Unknown request";
        admin, "GET", "/v3/registry_credentials/", "" => UNKNOWN_ROUTE, "Unknown request";
        // Bad query parameters.
        admin, "GET", "/v3/registry_credentials?names=x", "" => BAD_QUERY, "Unknown query parameter(s): 'names'. Valid parameters are: 'page'";
        admin, "GET", "/v3/registry_credentials?per_page=5001", "" => BAD_QUERY, "give 1 to 5000";
        admin, "GET", "/v3/registry_credentials?page=0", "" => BAD_QUERY, "numbered from 1";
        admin, "GET", "/v3/registry_credentials?label_selector=a%20b", "" => BAD_QUERY, "label selector";
        admin, "GET", format!("{member}?page=1"), "" => BAD_QUERY, "takes no query parameters";
        admin, "POST", "/v3/registry_credentials?x=1", create(json!({})) => BAD_QUERY, "takes no query parameters";
    };
    for (user, method, path, body, (status, code, title), says) in cases {
        let (got, value) = env.call(user, method, &path, &body);
        let what = format!("{method} {path} {body} by {user}: {value}");
        assert_eq!(got, status, "{what}");
        let (got_code, got_title, detail) = error_of(&value);
        assert_eq!((got_code, got_title), (code, title), "{what}");
        assert!(detail.contains(says), "{what}: {detail}");
        assert_eq!(value["errors"].as_array().unwrap().len(), 1, "{what}");
    }
    // Nothing refused changed anything: the one credential is as stored.
    assert_eq!(w.m.store().len(), 1);
    let kept =
        w.m.store()
            .get_by_guid(taken.parse().unwrap())
            .unwrap()
            .unwrap();
    assert_eq!(kept.username().as_str(), "user");
}

#[test]
fn r20_r21_the_read_rules_hold_for_every_route() {
    let env = Env::new();
    let w = &env.w;
    let foundation = env.stored("docker.io", Value::Null, json!({}));
    let org = env.stored("org.example.com", org_rel(&w.org), json!({}));
    let other_org = env.stored("o2.example.com", org_rel(&env.o2), json!({}));
    let space = env.stored("s.example.com", space_rel(&w.space), json!({}));
    let space2 = env.stored("s2.example.com", space_rel(&env.s2), json!({}));
    let all = [&foundation, &org, &other_org, &space, &space2];
    let seen = |user: &UserId| -> BTreeSet<String> {
        env.listed(user, "?per_page=5000").into_iter().collect()
    };
    let set = |items: &[&str]| {
        items
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>()
    };
    // R21: the foundation's for every user; an organization's for anyone
    // in it (a space role makes an Org User); a space's for its members.
    assert_eq!(seen(&env.nobody), set(&["docker.io"]));
    assert_eq!(
        seen(&w.dev),
        set(&["docker.io", "org.example.com", "s.example.com"])
    );
    assert_eq!(
        seen(&env.dev2),
        set(&["docker.io", "org.example.com", "s2.example.com"])
    );
    assert_eq!(seen(&env.supporter), seen(&w.dev));
    let everything = set(&[
        "docker.io",
        "org.example.com",
        "o2.example.com",
        "s.example.com",
        "s2.example.com",
    ]);
    assert_eq!(seen(&w.admin), everything);
    assert_eq!(seen(&env.auditor), everything);
    // The count is of what the caller may see.
    let (_, list) = env.call(&w.dev, "GET", "/v3/registry_credentials", "");
    assert_eq!(list["pagination"]["total_results"], 3);

    // GET by GUID agrees with the list for every user and credential.
    for user in [
        &env.nobody,
        &w.dev,
        &env.dev2,
        &env.supporter,
        &env.auditor,
        &w.admin,
    ] {
        let visible = seen(user);
        for guid in all {
            let (status, r) =
                env.call(user, "GET", &format!("/v3/registry_credentials/{guid}"), "");
            let shown = status == 200;
            assert!(shown || status == 404, "{status} {r}");
            if shown {
                assert!(
                    visible.contains(r["location"].as_str().unwrap()),
                    "{user}: {r}"
                );
            }
        }
        let got = all
            .iter()
            .filter(|g| {
                env.call(user, "GET", &format!("/v3/registry_credentials/{g}"), "")
                    .0
                    == 200
            })
            .count();
        assert_eq!(got, visible.len(), "{user}");
    }
    // A space's credential is not found by a user of another space, for
    // every route; the supporter sees it but may not change it (R20).
    let path = format!("/v3/registry_credentials/{space}");
    for (method, body) in [
        ("GET", ""),
        ("PATCH", r#"{"username": "x"}"#),
        ("DELETE", ""),
    ] {
        let (status, e) = env.call(&env.dev2, method, &path, body);
        assert_eq!((status, error_of(&e).0), (404, 10010), "{method}");
    }
    for (method, body) in [("PATCH", r#"{"username": "x"}"#), ("DELETE", "")] {
        let (status, e) = env.call(&env.supporter, method, &path, body);
        assert_eq!((status, error_of(&e).0), (403, 10003), "{method}");
    }
    // A filter never widens what the caller may see.
    assert!(
        env.listed(&env.dev2, &format!("?space_guids={}", w.space))
            .is_empty()
    );
    assert_eq!(
        env.listed(&env.dev2, &format!("?organization_guids={}", w.org))
            .into_iter()
            .collect::<BTreeSet<_>>(),
        set(&["org.example.com", "s2.example.com"])
    );
    assert!(
        env.listed(&w.dev, &format!("?organization_guids={}", env.o2))
            .is_empty()
    );
    // The developer changes what R20 lets them.
    let (status, _) = env.call(&w.dev, "PATCH", &path, r#"{"username": "x"}"#);
    assert_eq!(status, 200);
}

#[test]
fn r22_r23_every_list_filter() {
    let env = Env::new();
    let w = &env.w;
    // Each stored, then the clock moved on by the seconds given.
    let [f, o, s, s2, _] = [
        ("docker.io", Value::Null, json!({"env": "prod"}), 10),
        (
            "org.example.com",
            org_rel(&w.org),
            json!({"env": "dev", "team": "a"}),
            10,
        ),
        (
            "s.example.com",
            space_rel(&w.space),
            json!({"team": "b"}),
            10,
        ),
        (
            "s2.example.com",
            space_rel(&env.s2),
            json!({"env": "prod", "team": "a"}),
            10,
        ),
        ("o2.example.com", org_rel(&env.o2), json!({}), 1),
    ]
    .map(|(location, relationships, labels, seconds)| {
        let guid = env.stored(location, relationships, labels);
        env.tick(seconds);
        guid
    });
    let app = env.started_app("app.example.com/x/i", "a");
    env.tick(100);
    // updated_at moves for `s` alone.
    let (status, _) = env.call(
        &w.admin,
        "PATCH",
        &format!("/v3/registry_credentials/{s}"),
        r#"{"username": "moved"}"#,
    );
    assert_eq!(status, 200);
    let t = |offset: u64| {
        registry_credentials_cf::text::utc_time(UNIX_EPOCH + Duration::from_secs(T0 + offset))
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            String::new(),
            vec![
                "docker.io",
                "org.example.com",
                "s.example.com",
                "s2.example.com",
                "o2.example.com",
                "app.example.com/x",
            ],
        ),
        (
            format!("guids={f},{s2}"),
            vec!["docker.io", "s2.example.com"],
        ),
        (format!("guids={o}&scopes=space"), vec![]),
        ("guids=".into(), vec![]),
        (
            format!("organization_guids={}", w.org),
            vec![
                "org.example.com",
                "s.example.com",
                "s2.example.com",
                "app.example.com/x",
            ],
        ),
        (
            format!("organization_guids={},{}", w.org, env.o2),
            vec![
                "org.example.com",
                "s.example.com",
                "s2.example.com",
                "o2.example.com",
                "app.example.com/x",
            ],
        ),
        (
            format!("space_guids={}", w.space),
            vec!["s.example.com", "app.example.com/x"],
        ),
        (
            format!("space_guids={}&organization_guids={}", w.space, env.o2),
            vec![],
        ),
        (format!("app_guids={app}"), vec!["app.example.com/x"]),
        ("app_guids=no-such-app".into(), vec![]),
        (
            "scopes=space,organization".into(),
            vec![
                "org.example.com",
                "s.example.com",
                "s2.example.com",
                "o2.example.com",
            ],
        ),
        ("scopes=foundation".into(), vec!["docker.io"]),
        ("scopes=app".into(), vec!["app.example.com/x"]),
        (
            "locations=Docker.io,s.example.com,nowhere.example.com".into(),
            vec!["docker.io", "s.example.com"],
        ),
        (
            "label_selector=env=prod".into(),
            vec!["docker.io", "s2.example.com"],
        ),
        (
            "label_selector=env%3D%3Dprod,team=a".into(),
            vec!["s2.example.com"],
        ),
        (
            "label_selector=env!=prod".into(),
            vec![
                "org.example.com",
                "s.example.com",
                "o2.example.com",
                "app.example.com/x",
            ],
        ),
        (
            "label_selector=env+in+(dev,prod),!team".into(),
            vec!["docker.io"],
        ),
        (
            "label_selector=team%20notin%20(a)".into(),
            vec![
                "docker.io",
                "s.example.com",
                "o2.example.com",
                "app.example.com/x",
            ],
        ),
        (
            "label_selector=team".into(),
            vec!["org.example.com", "s.example.com", "s2.example.com"],
        ),
        (
            format!("created_ats={},{}", t(0), t(20)),
            vec!["docker.io", "s.example.com"],
        ),
        (
            format!("created_ats[lt]={}", t(20)),
            vec!["docker.io", "org.example.com"],
        ),
        (
            format!("created_ats[lte]={}", t(20)),
            vec!["docker.io", "org.example.com", "s.example.com"],
        ),
        (
            format!("created_ats[gt]={}&created_ats[lte]={}", t(20), t(30)),
            vec!["s2.example.com"],
        ),
        (
            format!("created_ats[gte]={}", t(40)),
            vec!["o2.example.com", "app.example.com/x"],
        ),
        (format!("updated_ats[gt]={}", t(41)), vec!["s.example.com"]),
        (format!("updated_ats={}", t(141)), vec!["s.example.com"]),
        (
            "updated_ats=2026-12-07T00:47:13%2B02:00".into(),
            vec!["docker.io"],
        ),
        (
            "order_by=-created_at&scopes=organization".into(),
            vec!["o2.example.com", "org.example.com"],
        ),
        (
            "order_by=created_at&scopes=organization,space".into(),
            vec![
                "org.example.com",
                "s.example.com",
                "s2.example.com",
                "o2.example.com",
            ],
        ),
        (
            "order_by=-updated_at&scopes=organization,space".into(),
            vec![
                "s.example.com",
                "o2.example.com",
                "s2.example.com",
                "org.example.com",
            ],
        ),
        (
            "order_by=updated_at&scopes=space".into(),
            vec!["s2.example.com", "s.example.com"],
        ),
    ];
    for (query, expected) in cases {
        let query = if query.is_empty() {
            query
        } else {
            format!("?{query}")
        };
        let got = env.listed(&w.admin, &query);
        if query.contains("order_by") {
            assert_eq!(got, expected, "{query}");
        } else {
            let got: BTreeSet<_> = got.iter().map(String::as_str).collect();
            let expected: BTreeSet<_> = expected.into_iter().collect();
            assert_eq!(got, expected, "{query}");
        }
    }
    // Oldest first by default; the app credential was created last.
    assert_eq!(
        env.listed(&w.admin, "").last().unwrap(),
        "app.example.com/x"
    );
}

#[test]
fn r22_pages_count_link_and_stop_at_their_ends() {
    let env = Env::new();
    let w = &env.w;
    for i in 0..5 {
        env.stored(
            &format!("r{i}.example.com"),
            Value::Null,
            json!({"env": "prod"}),
        );
        env.tick(1);
    }
    let page = |query: &str| {
        let (status, value) = env.call(
            &w.admin,
            "GET",
            &format!("/v3/registry_credentials?{query}"),
            "",
        );
        assert_eq!(status, 200, "{value}");
        value
    };
    let href = |n: u64| json!({"href": format!("/v3/registry_credentials?page={n}&per_page=2&label_selector=env%3Dprod&order_by=created_at")});
    let q = |n: u64| format!("page={n}&per_page=2&label_selector=env=prod&order_by=created_at");
    for (n, locations, previous, next) in [
        (
            1,
            vec!["r0.example.com", "r1.example.com"],
            Value::Null,
            href(2),
        ),
        (
            2,
            vec!["r2.example.com", "r3.example.com"],
            href(1),
            href(3),
        ),
        (3, vec!["r4.example.com"], href(2), Value::Null),
        (4, vec![], href(3), Value::Null),
    ] {
        let value = page(&q(n));
        let p = &value["pagination"];
        assert_eq!(p["total_results"], 5, "{n}");
        assert_eq!(p["total_pages"], 3, "{n}");
        assert_eq!(p["first"], href(1), "{n}");
        assert_eq!(p["last"], href(3), "{n}");
        assert_eq!(p["previous"], previous, "{n}");
        assert_eq!(p["next"], next, "{n}");
        let got: Vec<&str> = value["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["location"].as_str().unwrap())
            .collect();
        assert_eq!(got, locations, "{n}");
    }
    // Defaults: page 1 of 50; one page at least, even with nothing found.
    let value = page("scopes=space");
    assert_eq!(value["pagination"]["total_results"], 0);
    assert_eq!(value["pagination"]["total_pages"], 1);
    assert_eq!(value["pagination"]["next"], Value::Null);
    assert_eq!(value["pagination"]["previous"], Value::Null);
    assert_eq!(
        value["pagination"]["last"]["href"],
        "/v3/registry_credentials?page=1&per_page=50&scopes=space"
    );
    assert_eq!(value["resources"], json!([]));
    // The edges of per_page.
    assert_eq!(page("per_page=1")["pagination"]["total_pages"], 5);
    assert_eq!(page("per_page=5000")["pagination"]["total_pages"], 1);
    assert_eq!(page("per_page=5")["pagination"]["next"], Value::Null);
    assert_eq!(
        page("per_page=4")["pagination"]["next"]["href"],
        "/v3/registry_credentials?page=2&per_page=4"
    );
}

#[test]
fn r21_no_body_ever_holds_a_password_whatever_the_route_or_refusal() {
    let env = Env::new();
    let w = &env.w;
    let pw = format!("{SECRET}leak-check");
    let guid = env.stored("registry.example.com", space_rel(&w.space), json!({}));
    let member = format!("/v3/registry_credentials/{guid}");
    let bodies = [
        json!({"location": "registry.example.com", "username": "u", "password": pw, "relationships": space_rel(&w.space)}),
        json!({"location": "other.example.com", "username": "bad user", "password": pw}),
        json!({"location": "https://x.example.com", "username": "u", "password": pw}),
        json!({"location": "x.example.com", "username": "u", "password": pw, "extra": pw}),
        json!({"location": "x.example.com", "username": "u", "password": format!("{pw}{}", "x".repeat(5000))}),
        json!({"username": pw.clone() + " ", "password": pw}),
        json!({"password": pw, "metadata": {"labels": {"k!": "v"}}}),
    ];
    for user in [&w.admin, &w.dev, &env.dev2, &env.nobody] {
        for body in &bodies {
            env.call(user, "POST", "/v3/registry_credentials", &body.to_string());
            env.call(user, "PATCH", &member, &body.to_string());
        }
        env.call(user, "GET", &member, "");
        env.call(user, "GET", "/v3/registry_credentials", "");
    }
    let answered = env.bodies.borrow();
    assert!(answered.len() > 60);
    for body in answered.iter() {
        assert!(!body.contains(SECRET), "R21: {body}");
    }
    // The PATCH that went through stored its password.
    assert!(answered.iter().any(|b| b.contains(r#""guid""#)));
}

#[test]
fn r22_the_async_handler_is_the_same_handler() {
    let directory = MemoryDirectory::new();
    let m = AsyncManager::new(
        InlineStore(MemoryStore::new()),
        InlineDirectory(directory.clone()),
    );
    let admin = UserId::new("admin").unwrap();
    directory
        .grant_global(admin.clone(), GlobalRole::Admin)
        .unwrap();
    let body =
        json!({"location": "docker.io", "username": "u", "password": format!("{SECRET}async")});
    let api = Api::new();
    let created = block_on_ready(api.handle(
        &m,
        &admin,
        "POST",
        "/v3/registry_credentials",
        body.to_string().as_bytes(),
    ));
    assert_eq!(created.status(), 201, "{}", created.body());
    assert!(!created.body().contains(SECRET));
    let listed = block_on_ready(api.handle(&m, &admin, "GET", "/v3/registry_credentials", b""));
    let value: Value = serde_json::from_str(listed.body()).unwrap();
    assert_eq!(value["resources"][0]["location"], "docker.io");
}

/// A store whose writes fail while `mode` says so: 1, a retryable
/// backend failure; 2, a lost answer (R28).
#[derive(Default)]
struct Failing {
    mode: std::sync::atomic::AtomicU8,
}

impl registry_credentials::store::conformance::Hooks for Failing {
    fn before(
        &self,
        call: registry_credentials::store::conformance::Call<'_>,
    ) -> Result<(), registry_credentials::StoreError> {
        let source =
            || -> Box<dyn std::error::Error + Send + Sync> { "the disk is on fire".into() };
        match (call.is_write(), self.mode.load(Ordering::SeqCst)) {
            (true, 1) => Err(registry_credentials::StoreError::Backend {
                retryable: true,
                source: source(),
            }),
            (true, 2) => Err(registry_credentials::StoreError::OutcomeUnknown { source: source() }),
            _ => Ok(()),
        }
    }
}

#[test]
fn r28_store_failures_answer_503_or_500_and_say_what_happened() {
    use registry_credentials::store::conformance::Hooked;
    let w = World::new(Hooked::new(MemoryStore::new(), Failing::default()));
    let api = Api::new();
    let body = json!({"location": "docker.io", "username": "u", "password": format!("{SECRET}f")})
        .to_string();
    let post = || api.handle_blocking(&w.m, &w.admin, "POST", COLLECTION, body.as_bytes());
    for (mode, status, code, says) in [
        (1, 503, 10015, "retry later"),
        (2, 500, 10001, "read it back to see"),
    ] {
        w.m.store().mode.store(mode, Ordering::SeqCst);
        let r = post();
        assert_eq!(r.status(), status, "{}", r.body());
        let value: Value = serde_json::from_str(r.body()).unwrap();
        let (got, _, detail) = error_of(&value);
        assert_eq!(got, code);
        assert!(detail.contains(says), "{detail}");
        assert!(!r.body().contains(SECRET));
        assert!(!r.body().contains("on fire"), "{}", r.body());
    }
    w.m.store().mode.store(0, Ordering::SeqCst);
    let r = post();
    assert_eq!(r.status(), 201);
}

/// R27: `GET /v3/audit_events` lists the events of the writes made through
/// the API in the platform's shape, filtered and paged, only those of the
/// credentials the caller may see, and never a secret.
#[test]
fn r27_audit_events_list_each_write_with_actor_target_and_changes() {
    let env = Env::new();
    let w = &env.w;
    let in_space = env.stored("registry.example.com", space_rel(&w.space), json!({}));
    env.tick(1);
    let patch = json!({"username": "renamed", "password": format!("{SECRET}new")});
    let (status, _) = env.call(
        &w.dev,
        "PATCH",
        &format!("/v3/registry_credentials/{in_space}"),
        &patch.to_string(),
    );
    assert_eq!(status, 200);
    env.tick(1);
    let other = env.stored("quay.io", space_rel(&env.s2), json!({}));
    let (status, _) = env.call(
        &w.admin,
        "DELETE",
        &format!("/v3/registry_credentials/{other}"),
        "",
    );
    assert_eq!(status, 204);

    let (status, all) = env.call(&w.admin, "GET", "/v3/audit_events", "");
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["pagination"]["total_results"], 4);
    let update = &all["resources"][1];
    assert_eq!(update["type"], "audit.registry_credential.update");
    assert_eq!(update["actor"]["guid"], w.dev.as_str());
    assert_eq!(update["actor"]["type"], "user");
    assert_eq!(update["target"]["guid"], in_space.as_str());
    assert_eq!(update["target"]["type"], "registry_credential");
    assert_eq!(update["target"]["name"], "registry.example.com");
    assert_eq!(update["data"]["username"]["before"], "user");
    assert_eq!(update["data"]["username"]["after"], "renamed");
    assert_eq!(update["data"]["password_changed"], true);
    assert_eq!(update["space"]["guid"], w.space.as_str());
    assert_eq!(update["organization"]["guid"], w.org.as_str());

    let (_, deletes) = env.call(
        &w.admin,
        "GET",
        &format!("/v3/audit_events?types=audit.registry_credential.delete&target_guids={other}"),
        "",
    );
    assert_eq!(deletes["pagination"]["total_results"], 1);
    assert_eq!(
        deletes["resources"][0]["data"]["username"]["before"],
        "user"
    );
    let (_, paged) = env.call(
        &w.admin,
        "GET",
        "/v3/audit_events?order_by=-created_at&per_page=3&page=2",
        "",
    );
    assert_eq!(paged["resources"].as_array().unwrap().len(), 1);
    assert_eq!(
        paged["resources"][0]["type"],
        "audit.registry_credential.create"
    );
    assert_eq!(
        paged["pagination"]["previous"]["href"],
        "/v3/audit_events?page=1&per_page=3&order_by=-created_at"
    );

    // The developer of the first space sees its events, not the second's.
    let (_, seen) = env.call(&w.dev, "GET", "/v3/audit_events", "");
    assert_eq!(seen["pagination"]["total_results"], 2);
    let (_, seen) = env.call(&env.dev2, "GET", "/v3/audit_events", "");
    assert_eq!(seen["pagination"]["total_results"], 2);
    assert!(
        seen["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["target"]["name"] == "quay.io")
    );

    for bad in [
        "/v3/audit_events?types=audit.app.create",
        "/v3/audit_events?target_guids=nope",
        "/v3/audit_events?locations=docker.io",
        "/v3/audit_events?order_by=updated_at",
    ] {
        let (status, body) = env.call(&w.admin, "GET", bad, "");
        assert_eq!((status, error_of(&body).0), (400, 10005), "{bad}: {body}");
    }
    let (status, _) = env.call(&w.admin, "POST", "/v3/audit_events", "{}");
    assert_eq!(status, 404);
}
