//! The peers the benches measure ours against, each written once for the
//! timing benches (criterion) and the instruction-count benches
//! (`benches/icount.rs`) alike.

use std::sync::Arc;

use registry_credentials::{App, Reference, RegistryCredential, ScopeKind};

/// The candidates built as owned strings from the normalized name: every
/// namespace prefix, the registry, then each parent domain down to the last
/// two labels (no Public Suffix List: the cheapest honest version).
pub fn vec_of_strings(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let slash = name.find('/').unwrap_or(name.len());
    let registry = &name[..slash];
    let parts: Vec<&str> = name[slash + 1..].split('/').collect();
    for k in (1..parts.len()).rev() {
        out.push(format!("{registry}/{}", parts[..k].join("/")));
    }
    out.push(registry.to_owned());
    let (host, port) = match registry.rfind(':') {
        Some(i) if !registry.ends_with(']') => (&registry[..i], &registry[i..]),
        _ => (registry, ""),
    };
    let labels: Vec<&str> = host.split('.').collect();
    for k in 1..labels.len().saturating_sub(1) {
        out.push(format!("{}{port}", labels[k..].join(".")));
    }
    out
}

/// A stored entry's place in the precedence order for `app`, by scope and
/// by candidate (lower is preferred), or `None` when it does not apply.
fn rank(e: &RegistryCredential, app: &App, candidates: &[&str]) -> Option<(usize, usize)> {
    let id = e.scope().id();
    let scope_rank = match e.scope().kind() {
        ScopeKind::App if id == Some(app.id().as_str()) => 0,
        ScopeKind::Space if id == Some(app.space().as_str()) => 1,
        ScopeKind::Org if id == Some(app.org().as_str()) => 2,
        ScopeKind::Foundation => 3,
        _ => return None,
    };
    let location = e.location().as_str();
    let rank = candidates.iter().position(|c| *c == location)?;
    Some((scope_rank, rank))
}

/// The image's candidates, up to 16, as a slice of `buffer`.
fn candidates<'r>(reference: &'r Reference, buffer: &mut [&'r str; 16]) -> usize {
    let mut n = 0;
    for c in reference.candidates().take(buffer.len()) {
        buffer[n] = c.as_str();
        n += 1;
    }
    n
}

/// What kubelet's keyring does to choose a credential: every stored entry
/// is tested against the reference and the best is kept, as
/// `BasicDockerKeyring::Lookup` tests every configured registry pattern
/// against the image. It computes the candidates once, so it is measured at
/// its best.
pub fn linear_scan<'e>(
    entries: &'e [Arc<RegistryCredential>],
    app: &App,
    image: &str,
) -> Option<&'e Arc<RegistryCredential>> {
    let reference = Reference::parse(image).ok()?;
    let mut buffer = [""; 16];
    let n = candidates(&reference, &mut buffer);
    let candidates = &buffer[..n];
    let mut best: Option<((usize, usize), &Arc<RegistryCredential>)> = None;
    for e in entries {
        let Some(r) = rank(e, app, candidates) else {
            continue;
        };
        if best.is_none_or(|(b, _)| r < b) {
            best = Some((r, e));
        }
    }
    best.map(|(_, e)| e)
}

/// Every stored entry that applies to the image, most preferred first: what
/// kubelet's `BasicDockerKeyring::Lookup` returns (all matches, sorted),
/// the peer of an explanation.
pub fn linear_scan_all<'e>(
    entries: &'e [Arc<RegistryCredential>],
    app: &App,
    image: &str,
) -> Vec<&'e Arc<RegistryCredential>> {
    let Ok(reference) = Reference::parse(image) else {
        return Vec::new();
    };
    let mut buffer = [""; 16];
    let n = candidates(&reference, &mut buffer);
    let candidates = &buffer[..n];
    let mut found: Vec<((usize, usize), &Arc<RegistryCredential>)> = entries
        .iter()
        .filter_map(|e| rank(e, app, candidates).map(|r| (r, e)))
        .collect();
    found.sort_by_key(|(r, _)| *r);
    found.into_iter().map(|(_, e)| e).collect()
}
