//! Which apps a credential reaches (R29): `registry-credential-apps`, and
//! `--dry-run` on the commands that create, update and delete registry
//! credentials. A dry run is checked as the command itself would be, runs
//! in a read transaction, asks for no password and no confirmation, and
//! prints the apps whose next pull the change would change, before and
//! after.

use std::time::SystemTime;

use registry_credentials::credential::{CredentialUpdate, Password};
use registry_credentials::scope::UserId;
use registry_credentials::{Credential, CredentialKind, Location, Scope, Username};
use registry_credentials_cf::manage::{AppRef, CredentialRef, Move, Proposal, Stored};

use super::{Level, State};
use crate::output::{Failure, shown};

/// The secret a dry run stands in for the one it does not ask for: random,
/// so it never equals a stored one, and never stored or shown. Which apps
/// a change moves does not depend on the secret's value, only on whether
/// the change brings one.
pub(super) fn unasked() -> Password {
    Password::new(uuid::Uuid::new_v4().to_string()).expect("a UUID is a valid password")
}

/// The change `update-*-registry-credential` would make with these
/// options, its new secret (if any) [`unasked`]: the same choice as the
/// command's own, without the question.
pub(super) fn update(
    username: Option<&Username>,
    kind: Option<CredentialKind>,
    expiry: Option<Option<SystemTime>>,
) -> CredentialUpdate {
    let new_kind = kind.unwrap_or(CredentialKind::Password);
    match (expiry, username, kind) {
        (Some(expiry), _, _) => CredentialUpdate::ExpiresAt(expiry),
        (None, Some(username), None) => CredentialUpdate::Username(username.clone()),
        (None, Some(username), Some(_)) => CredentialUpdate::Both(Credential::from_parts_of_kind(
            new_kind,
            username.clone(),
            unasked(),
        )),
        (None, None, _) => CredentialUpdate::Secret(new_kind, unasked()),
    }
}

/// Rows as columns padded to their widest cell, three spaces apart, as
/// `registry-credentials` prints its listing.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(&widths) {
            line.push_str(cell);
            line.push_str(&" ".repeat(w - cell.chars().count() + 3));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The cells of an app: its name, space, organization, escaped (R21).
fn app_cells(app: &AppRef) -> Vec<String> {
    vec![
        shown(app.name()),
        shown(app.space_name()),
        shown(app.org_name()),
    ]
}

/// A credential as a dry run shows it: scope, location and username.
fn credential(c: Option<&CredentialRef>) -> String {
    match c {
        Some(c) => format!(
            "{} {} ({})",
            c.scope_kind(),
            c.location(),
            shown(c.username())
        ),
        None => "none".to_owned(),
    }
}

impl State<'_, '_> {
    /// `--dry-run`: the apps `proposal` (described by `what`) would move,
    /// and nothing changed.
    pub(super) fn dry_run(
        &mut self,
        caller: &UserId,
        what: &str,
        proposal: Proposal,
    ) -> Result<(), Failure> {
        let moves = self.manager.dry_run(caller, proposal)?;
        self.say(format!("Dry run: {what} as {}...\n", shown(caller)));
        let rows: Vec<Vec<String>> = moves
            .iter()
            .map(|m: &Move| {
                let mut cells = app_cells(m.app());
                cells.push(credential(m.before()));
                cells.push(if m.keeps_the_credential() {
                    format!("{}, updated", credential(m.after()))
                } else {
                    credential(m.after())
                });
                cells
            })
            .collect();
        match moves.len() {
            0 => self.say("No app's registry credential would change.\n"),
            n => {
                let header = ["app", "space", "org", "now", "after"];
                self.say(table(&header, &rows));
                let apps = if n == 1 { "app" } else { "apps" };
                self.say(format!("{n} {apps}' next pull would change.\n"));
            }
        }
        self.say("OK: nothing was changed\n");
        Ok(())
    }

    /// `registry-credential-apps`: the apps whose next pull uses the
    /// credential at `location` of the scope `level` names, or of the app
    /// `app` in the targeted space.
    pub(super) fn apps(
        &mut self,
        location: &Location,
        level: Level,
        app: Option<&str>,
    ) -> Result<(), Failure> {
        let caller = self.caller()?;
        let (scope, label) = match app {
            Some(name) => {
                let space = self.target_space()?;
                let id = self.find_app(&caller, &space, name)?;
                (Scope::App(id), format!("app {}", shown(&name)))
            }
            None => self.scope(level)?,
        };
        let which = Stored::At(scope, location.clone());
        let apps = self.manager.apps_using(&caller, &which)?;
        self.say(format!(
            "Getting apps using registry credential {location} for {label} as {}...\n",
            shown(&caller)
        ));
        if apps.is_empty() {
            self.say("No app's next pull uses it.\n");
            return Ok(());
        }
        let rows: Vec<Vec<String>> = apps
            .iter()
            .map(|a| {
                let mut cells = app_cells(a);
                cells.push(shown(a.image()));
                cells
            })
            .collect();
        self.say(table(&["app", "space", "org", "image"], &rows));
        Ok(())
    }
}
