//! The conformance runner: checks a file of vectors in the format of
//! `shared/conformance/README.md` against the crate. Shared by
//! `examples/conformance.rs` and `tests/conformance.rs`.

use registry_credentials::scope::{AppId, OrgId, SpaceId};
use registry_credentials::{
    App, Credential, CredentialStore, Location, MemoryStore, Reference, RegistryCredential, Scope,
    resolve,
};
use serde_json::Value;

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Cases that passed.
    pub passed: usize,
    /// One line per failed case: its input and what the crate gave.
    pub failures: Vec<String>,
}

impl Report {
    /// The closing line.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failures.len())
    }

    fn check(&mut self, ok: Result<(), String>) {
        match ok {
            Ok(()) => self.passed += 1,
            Err(e) => self.failures.push(e),
        }
    }
}

/// Runs every case of a vectors file.
///
/// # Errors
///
/// When the text is not JSON of the expected shape.
pub fn run(json: &str) -> Result<Report, String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(top) = &doc else {
        return Err("the file is not a JSON object of case lists".to_owned());
    };
    // A misspelled list (`resolution`) would otherwise be skipped in silence.
    if let Some(unknown) = top
        .keys()
        .find(|k| !["references", "locations", "resolutions"].contains(&k.as_str()))
    {
        return Err(format!(
            "unknown top-level key `{unknown}`; expected `references`, `locations` or `resolutions`"
        ));
    }
    let mut report = Report::default();
    for (list, check) in [
        (
            "references",
            reference_case as fn(&Value) -> Result<(), String>,
        ),
        ("locations", location_case),
        ("resolutions", resolution_case),
    ] {
        let cases = match doc.get(list) {
            None => continue,
            Some(Value::Array(a)) => a,
            Some(_) => return Err(format!("`{list}` is not a list")),
        };
        for case in cases {
            report.check(check(case));
        }
    }
    Ok(report)
}

fn text<'a>(case: &'a Value, field: &str) -> Result<&'a str, String> {
    case.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("case {case} has no string `{field}`"))
}

/// The case's string `field` is `got`, what the `kind` `input` parsed to
/// gives for it.
fn expect_field(
    case: &Value,
    kind: &str,
    input: &str,
    field: &str,
    got: &str,
) -> Result<(), String> {
    let want = text(case, field)?;
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{kind} {input:?}: {field} {got:?}, expected {want:?}"
        ))
    }
}

fn wants_error(case: &Value) -> bool {
    case.get("error").and_then(Value::as_bool).unwrap_or(false)
}

fn reference_case(case: &Value) -> Result<(), String> {
    let input = text(case, "input")?;
    let parsed = Reference::parse(input);
    if wants_error(case) {
        return match parsed {
            Err(_) => Ok(()),
            Ok(r) => Err(format!(
                "reference {input:?}: expected an error, got name {:?}",
                r.name()
            )),
        };
    }
    let r = parsed.map_err(|e| format!("reference {input:?}: expected success, got: {e}"))?;
    expect_field(case, "reference", input, "name", r.name())?;
    if let Some(expected) = case.get("candidates").and_then(Value::as_array) {
        let got: Vec<&str> = r.candidates().map(|c| c.as_str()).collect();
        let want: Vec<&str> = expected.iter().filter_map(Value::as_str).collect();
        if got != want {
            return Err(format!(
                "reference {input:?}: candidates {got:?}, expected {want:?}"
            ));
        }
    }
    Ok(())
}

fn location_case(case: &Value) -> Result<(), String> {
    let input = text(case, "input")?;
    let parsed = Location::parse(input);
    if wants_error(case) {
        return match parsed {
            Ok(l) => Err(format!(
                "location {input:?}: expected an error, got {:?}",
                l.as_str()
            )),
            Err(e) => match case.get("hint").and_then(Value::as_str) {
                Some(hint) if !e.to_string().contains(hint) => Err(format!(
                    "location {input:?}: error {:?} does not contain the hint {hint:?}",
                    e.to_string()
                )),
                _ => Ok(()),
            },
        };
    }
    let l = parsed.map_err(|e| format!("location {input:?}: expected success, got: {e}"))?;
    expect_field(case, "location", input, "normalized", l.as_str())?;
    Ok(())
}

fn scope_of(c: &Value) -> Result<Scope, String> {
    let id = |field: &str| text(c, field).map(str::to_owned);
    Ok(match text(c, "scope")? {
        "foundation" => Scope::Foundation,
        "org" => Scope::Org(OrgId::new(id("org")?).map_err(|e| e.to_string())?),
        "space" => Scope::Space(SpaceId::new(id("space")?).map_err(|e| e.to_string())?),
        "app" => Scope::App(AppId::new(id("app")?).map_err(|e| e.to_string())?),
        other => return Err(format!("unknown scope {other:?}")),
    })
}

fn resolution_case(case: &Value) -> Result<(), String> {
    let name = case
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)");
    let store = MemoryStore::new();
    // A credential the platform would refuse to create (a location refused
    // by R8/R9, an empty username, a second one at the same scope and
    // location, R16) is refused here too, and the case goes on: its
    // expectation says what resolution then finds.
    let mut refused = Vec::new();
    for c in case
        .get("credentials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let scope = scope_of(c).map_err(|e| format!("{name}: {e}"))?;
        let username = text(c, "username")?;
        let password = c
            .get("password")
            .and_then(Value::as_str)
            .map_or_else(|| format!("{username}-pw"), str::to_owned);
        let created = Location::parse(text(c, "location")?)
            .map_err(|e| e.to_string())
            .and_then(|location| {
                let credential = Credential::new(username, password).map_err(|e| e.to_string())?;
                store
                    .create(RegistryCredential::new(scope, location, credential))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = created {
            refused.push(e);
        }
    }
    let app = case.get("app").ok_or_else(|| format!("{name}: no app"))?;
    let app = App::new(text(app, "org")?, text(app, "space")?, text(app, "app")?)
        .map_err(|e| format!("{name}: {e}"))?;
    let image = text(case, "image")?;
    let reference = Reference::parse(image).map_err(|e| format!("{name}: image: {e}"))?;
    let got = resolve(&store, &app, &reference).map_err(|e| format!("{name}: {e}"))?;
    let got = got.map(|r| {
        (
            r.scope_kind(),
            r.location().as_str().to_owned(),
            r.credential().username().as_str().to_owned(),
        )
    });
    let want = match case.get("expect") {
        None | Some(Value::Null) => None,
        Some(e) => Some((
            match text(e, "scope")? {
                "app" => registry_credentials::ScopeKind::App,
                "space" => registry_credentials::ScopeKind::Space,
                "org" => registry_credentials::ScopeKind::Org,
                "foundation" => registry_credentials::ScopeKind::Foundation,
                other => return Err(format!("{name}: unknown scope {other:?}")),
            },
            text(e, "location")?.to_owned(),
            text(e, "username")?.to_owned(),
        )),
    };
    if got != want {
        return Err(format!(
            "resolution {name:?} ({image} for {app:?}): got {got:?}, expected {want:?}{}",
            if refused.is_empty() {
                String::new()
            } else {
                format!(" (refused to store: {})", refused.join("; "))
            }
        ));
    }
    Ok(())
}
