//! Request bodies: the JSON of a create and of a change, read field by
//! field so that every refusal names the field, what was wrong and what
//! to give instead; a password is taken out of the body, never quoted.

use registry_credentials::credential::{Credential, CredentialUpdate, Password, Username};
use registry_credentials::metadata::{Metadata, MetadataPatch};
use registry_credentials::scope::{OrgId, SpaceId};
use registry_credentials::{Location, RegistryCredential, Scope};
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::text;

/// The body as a JSON object.
fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(ApiError::message_parse(
            "Request invalid due to parse error: the body is JSON but not an object; send an object such as {\"username\": \"...\"}",
        )),
        Err(e) => Err(ApiError::message_parse(format!(
            "Request invalid due to parse error: the body is not JSON (line {}, column {}); send a JSON object",
            e.line(),
            e.column()
        ))),
    }
}

/// The JSON type of `value`, in words.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(field: &str, expected: &str, value: &Value) -> ApiError {
    ApiError::message_parse(format!(
        "Request invalid due to parse error: '{field}' must be {expected}, not {}",
        kind(value)
    ))
}

/// Field `field` of `fields`, taken out, as a string.
fn take_string(fields: &mut Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match fields.remove(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong_type(field, "a string", &other)),
    }
}

/// Field `field` of `fields`, taken out; `null` is the same as leaving it
/// out.
fn optional(fields: &mut Map<String, Value>, field: &str) -> Option<Value> {
    fields.remove(field).filter(|v| !v.is_null())
}

/// The keys of `fields` not in `known`, refused as the platform refuses
/// unknown fields.
fn no_other_fields(fields: &Map<String, Value>, known: &str) -> Result<(), ApiError> {
    if fields.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = fields
        .keys()
        .map(|k| format!("'{}'", text::quote(k)))
        .collect();
    Err(ApiError::unprocessable(format!(
        "Unknown field(s): {}; the fields are {known}",
        names.join(", ")
    )))
}

fn required(field: &str) -> ApiError {
    ApiError::unprocessable(format!("'{field}' is required; give it as a string"))
}

fn username(given: &str) -> Result<Username, ApiError> {
    Username::new(given)
        .map_err(|e| ApiError::unprocessable(format!("'username' is not valid: {e}")))
}

fn password(given: String) -> Result<Password, ApiError> {
    Password::new(given)
        .map_err(|e| ApiError::unprocessable(format!("'password' is not valid: {e}")))
}

/// The `metadata` field: `labels` and `annotations`, each an object of
/// strings, or `null` to remove a key (R22).
fn metadata_patch(value: Value) -> Result<MetadataPatch, ApiError> {
    let Value::Object(mut fields) = value else {
        return Err(wrong_type("metadata", "an object", &value));
    };
    let mut part = |name: &str| -> Result<Vec<(String, Option<String>)>, ApiError> {
        let field = format!("metadata.{name}");
        match optional(&mut fields, name) {
            None => Ok(Vec::new()),
            Some(Value::Object(entries)) => entries
                .into_iter()
                .map(|(key, value)| match value {
                    Value::String(v) => Ok((key, Some(v))),
                    Value::Null => Ok((key, None)),
                    other => Err(wrong_type(
                        &format!("{field}.{}", text::quote(&key)),
                        "a string or null",
                        &other,
                    )),
                })
                .collect(),
            Some(other) => Err(wrong_type(&field, "an object", &other)),
        }
    };
    let (labels, annotations) = (part("labels")?, part("annotations")?);
    no_other_fields(&fields, "'labels' and 'annotations' in 'metadata'")?;
    Ok(MetadataPatch::labels(pairs(&labels)).with_annotations(pairs(&annotations)))
}

/// Owned pairs, borrowed as [`MetadataPatch`] takes them.
fn pairs(v: &[(String, Option<String>)]) -> impl Iterator<Item = (&str, Option<&str>)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
}

fn metadata_error(e: registry_credentials::metadata::MetadataError) -> ApiError {
    ApiError::unprocessable(format!("'metadata' is not valid: {e}"))
}

/// The GUID of a to-one relationship, `{"data": {"guid": "..."}}`;
/// `None` for `{"data": null}`.
fn relationship(name: &str, value: Value) -> Result<Option<String>, ApiError> {
    let field = format!("relationships.{name}");
    let Value::Object(mut fields) = value else {
        return Err(wrong_type(&field, "an object", &value));
    };
    let data = fields.remove("data");
    no_other_fields(&fields, &format!("'data' in '{field}'"))?;
    match data {
        None => Err(ApiError::unprocessable(format!(
            "'{field}' needs 'data', as {{\"data\": {{\"guid\": \"...\"}}}}"
        ))),
        Some(Value::Null) => Ok(None),
        Some(Value::Object(mut data)) => {
            let guid = match data.remove("guid") {
                None => None,
                Some(Value::String(guid)) => Some(guid),
                Some(other) => {
                    return Err(wrong_type(
                        &format!("{field}.data.guid"),
                        "a string",
                        &other,
                    ));
                }
            };
            no_other_fields(&data, &format!("'guid' in '{field}.data'"))?;
            guid.map(Some)
                .ok_or_else(|| ApiError::unprocessable(format!("'{field}.data.guid' is required")))
        }
        Some(other) => Err(wrong_type(
            &format!("{field}.data"),
            "an object or null",
            &other,
        )),
    }
}

/// The scope of a create: the foundation without relationships, else the
/// organization or the space given (R16: not an app).
fn scope(value: Option<Value>) -> Result<Scope, ApiError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Scope::Foundation);
    };
    let Value::Object(mut fields) = value else {
        return Err(wrong_type("relationships", "an object", &value));
    };
    if fields.remove("app").is_some() {
        return Err(ApiError::unprocessable(
            "'relationships.app' is not accepted: app credentials are stored by pushing the app with a username and password (R19); give an organization or a space",
        ));
    }
    let org = fields
        .remove("organization")
        .map(|v| relationship("organization", v))
        .transpose()?
        .flatten();
    let space = fields
        .remove("space")
        .map(|v| relationship("space", v))
        .transpose()?
        .flatten();
    no_other_fields(&fields, "'organization' or 'space' in 'relationships'")?;
    let invalid = |what: &str, id: &str, e: registry_credentials::scope::IdError| {
        ApiError::unprocessable(format!(
            "the {what} GUID `{}` is not valid: {e}",
            text::quote(id)
        ))
    };
    match (org, space) {
        (Some(_), Some(_)) => Err(ApiError::unprocessable(
            "'relationships' names both an organization and a space; a registry credential lives at one scope (R13): give one of them",
        )),
        (Some(org), None) => OrgId::new(&org)
            .map(Scope::Org)
            .map_err(|e| invalid("organization", &org, e)),
        (None, Some(space)) => SpaceId::new(&space)
            .map(Scope::Space)
            .map_err(|e| invalid("space", &space, e)),
        (None, None) => Ok(Scope::Foundation),
    }
}

/// The credential a `POST` body describes (R16, R22).
pub(super) fn create(body: &[u8]) -> Result<RegistryCredential, ApiError> {
    let mut fields = object(body)?;
    let location = take_string(&mut fields, "location")?;
    let user = take_string(&mut fields, "username")?;
    let secret = take_string(&mut fields, "password")?;
    let scope = scope(fields.remove("relationships"))?;
    let patch = optional(&mut fields, "metadata")
        .map(metadata_patch)
        .transpose()?;
    no_other_fields(
        &fields,
        "'location', 'username', 'password', 'relationships' and 'metadata'",
    )?;
    let location = location.ok_or_else(|| required("location"))?;
    let location = Location::parse(&location)
        .map_err(|e| ApiError::unprocessable(format!("'location' is not valid: {e}")))?;
    let user = username(&user.ok_or_else(|| required("username"))?)?;
    let secret = password(secret.ok_or_else(|| required("password"))?)?;
    let mut metadata = Metadata::default();
    if let Some(patch) = patch {
        metadata.merge(&patch).map_err(metadata_error)?;
    }
    Ok(
        RegistryCredential::new(scope, location, Credential::from_parts(user, secret))
            .with_metadata(metadata),
    )
}

/// The change a `PATCH` body describes (R17, R22): username, password and
/// metadata, in one step; location and relationships never change.
pub(super) fn update(body: &[u8]) -> Result<CredentialUpdate, ApiError> {
    let mut fields = object(body)?;
    for fixed in ["location", "relationships", "scope"] {
        if fields.contains_key(fixed) {
            return Err(ApiError::unprocessable(format!(
                "'{fixed}' cannot be changed: a registry credential keeps its location and scope (R17, R22); delete it and create a new one"
            )));
        }
    }
    let user = take_string(&mut fields, "username")?;
    let secret = take_string(&mut fields, "password")?;
    let patch = optional(&mut fields, "metadata")
        .map(metadata_patch)
        .transpose()?;
    no_other_fields(&fields, "'username', 'password' and 'metadata'")?;
    let mut updates = Vec::new();
    if let Some(user) = user {
        updates.push(CredentialUpdate::Username(username(&user)?));
    }
    if let Some(secret) = secret {
        updates.push(CredentialUpdate::Password(password(secret)?));
    }
    if let Some(patch) = patch {
        // Checked here, so that a refused patch is a 422 before the store
        // is asked; the store checks it again against what it holds.
        Metadata::default().merge(&patch).map_err(metadata_error)?;
        updates.push(CredentialUpdate::Metadata(patch));
    }
    Ok(CredentialUpdate::All(updates))
}
