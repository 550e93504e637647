//! The arguments: every command with its options, as clap derive
//! definitions, and clap's answers turned into cf's habits.
//!
//! clap gives `--flag=value` as well as `--flag value`, `-h` and
//! `--help` on every command, `cf help COMMAND`, a "did you mean" for a
//! mistyped command or option, and each command's usage with its
//! required options shown as required. What this module adds is cf's
//! reporting: a usage error exits 1 (clap's own is 2) and prints
//! `Incorrect Usage:` with the command's help, and its message never
//! repeats an argument the person typed (a password pasted in the wrong
//! place would otherwise be echoed): it names the argument's position, or
//! quotes the option name alone.
//!
//! The values stay strings here; [`crate::commands`] checks them with the
//! library's own types (`Location`, `Reference`, `Username`, `Name`),
//! whose errors say what is wrong and how to fix it.

use clap::builder::TypedValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, Parser, Subcommand};
use registry_credentials::CredentialKind;

use crate::output::Failure;

/// What `cf version`, `cf -v` and `cf --version` print after `cf `: the
/// version and the package it comes from.
pub const VERSION: &str = concat!(
    "version ",
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("CARGO_PKG_NAME"),
    ")"
);

/// `cf`: registry credentials on a cf-style platform, one command per run.
#[derive(Debug, Parser)]
#[command(
    name = "cf",
    bin_name = "cf",
    version = VERSION,
    disable_version_flag = true,
    about = "A cf-style command line for registry credentials at four scopes, and pushes.",
    after_help = "Run `cf help COMMAND` (or `cf COMMAND -h`) for a command's options."
)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    command: Command,
    /// Print the version.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    version: (),
}

/// Every command, with cf's names and argument order.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in as a user (`admin` holds the Admin role)
    Auth {
        /// The user
        #[arg(value_name = "USERNAME")]
        user: String,
    },
    /// Show or set the targeted organization and space
    Target {
        /// The organization to target
        #[arg(short = 'o', value_name = "ORG")]
        org: Option<String>,
        /// The space to target (of the organization given or targeted)
        #[arg(short = 's', value_name = "SPACE")]
        space: Option<String>,
    },
    /// Create an organization (Admin)
    CreateOrg {
        /// The organization's name
        #[arg(value_name = "ORG")]
        name: String,
    },
    /// Delete an organization and all in it (Admin)
    DeleteOrg {
        /// The organization
        #[arg(value_name = "ORG")]
        name: String,
        /// Force deletion without confirmation
        #[arg(short = 'f')]
        force: bool,
    },
    /// Create a space (Admin, Org Manager)
    CreateSpace {
        /// The space's name
        #[arg(value_name = "SPACE")]
        name: String,
        /// The organization (default: the targeted one)
        #[arg(short = 'o', value_name = "ORG")]
        org: Option<String>,
    },
    /// Delete a space and all in it (Admin, Org Manager)
    DeleteSpace {
        /// The space
        #[arg(value_name = "SPACE")]
        name: String,
        /// The organization (default: the targeted one)
        #[arg(short = 'o', value_name = "ORG")]
        org: Option<String>,
        /// Force deletion without confirmation
        #[arg(short = 'f')]
        force: bool,
    },
    /// Give a user a role in an organization
    SetOrgRole {
        /// The user
        #[arg(value_name = "USERNAME")]
        user: String,
        /// The organization
        #[arg(value_name = "ORG")]
        org: String,
        /// OrgManager, OrgAuditor, BillingManager or OrgUser
        #[arg(value_name = "ROLE")]
        role: String,
    },
    /// Give a user a role in a space
    SetSpaceRole {
        /// The user
        #[arg(value_name = "USERNAME")]
        user: String,
        /// The organization
        #[arg(value_name = "ORG")]
        org: String,
        /// The space
        #[arg(value_name = "SPACE")]
        space: String,
        /// SpaceDeveloper, SpaceManager, SpaceAuditor or SpaceSupporter
        #[arg(value_name = "ROLE")]
        role: String,
    },
    /// Create a registry credential for the foundation (Admin)
    CreateFoundationRegistryCredential(Create),
    /// Create a registry credential for the targeted org
    CreateOrgRegistryCredential(Create),
    /// Create a registry credential for the targeted space
    CreateSpaceRegistryCredential(Create),
    /// Change a registry credential of the foundation
    UpdateFoundationRegistryCredential(Update),
    /// Change a registry credential of the targeted org
    UpdateOrgRegistryCredential(Update),
    /// Change a registry credential of the targeted space
    UpdateSpaceRegistryCredential(Update),
    /// Delete a registry credential of the foundation
    DeleteFoundationRegistryCredential(Delete),
    /// Delete a registry credential of the targeted org
    DeleteOrgRegistryCredential(Delete),
    /// Delete a registry credential of the targeted space
    DeleteSpaceRegistryCredential(Delete),
    /// Delete an app's registry credential
    DeleteAppRegistryCredential {
        /// The credential's location
        #[arg(value_name = "LOCATION")]
        location: String,
        /// The app
        #[arg(value_name = "APP")]
        app: String,
        /// Force deletion without confirmation
        #[arg(short = 'f')]
        force: bool,
        /// List the apps whose registry credential the deletion would change, and delete nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// List the registry credentials available to the target
    #[command(
        after_help = "EXAMPLES:\n   cf registry-credentials --labels env=prod\n   \
        cf registry-credentials --labels 'env in (prod,staging),team.example.com/owner,!deprecated'"
    )]
    RegistryCredentials {
        /// Only the credentials whose labels the selector matches:
        /// requirements joined by `,`, each KEY=VALUE, KEY!=VALUE,
        /// `KEY in (V1,V2)`, `KEY notin (V1,V2)`, KEY or !KEY
        #[arg(long, value_name = "SELECTOR")]
        labels: Option<String>,
    },
    /// Set labels (key-value pairs) of a registry credential
    #[command(after_help = "RESOURCES:\n   registry-credential\n\n\
        EXAMPLES:\n   cf set-label registry-credential docker.io env=prod --scope foundation\n   \
        cf set-label registry-credential registry.example.com/team team.example.com/owner=ci tier= --scope space\n   \
        cf set-label registry-credential docker.io/library env=prod --app myapp")]
    SetLabel {
        /// The kind of resource: registry-credential
        #[arg(value_name = "RESOURCE")]
        resource: String,
        /// The credential's location
        #[arg(value_name = "LOCATION")]
        location: String,
        /// The labels to set, each KEY=VALUE (KEY= for an empty value)
        #[arg(value_name = "KEY=VALUE", required = true)]
        labels: Vec<String>,
        /// Which credential of LOCATION
        #[command(flatten)]
        holder: Holder,
    },
    /// Remove labels of a registry credential
    #[command(after_help = "RESOURCES:\n   registry-credential\n\n\
        EXAMPLES:\n   cf unset-label registry-credential docker.io env --scope foundation")]
    UnsetLabel {
        /// The kind of resource: registry-credential
        #[arg(value_name = "RESOURCE")]
        resource: String,
        /// The credential's location
        #[arg(value_name = "LOCATION")]
        location: String,
        /// The keys of the labels to remove
        #[arg(value_name = "KEY", required = true)]
        keys: Vec<String>,
        /// Which credential of LOCATION
        #[command(flatten)]
        holder: Holder,
    },
    /// List the labels of a registry credential
    #[command(after_help = "RESOURCES:\n   registry-credential\n\n\
        EXAMPLES:\n   cf labels registry-credential docker.io --scope foundation")]
    Labels {
        /// The kind of resource: registry-credential
        #[arg(value_name = "RESOURCE")]
        resource: String,
        /// The credential's location
        #[arg(value_name = "LOCATION")]
        location: String,
        /// Which credential of LOCATION
        #[command(flatten)]
        holder: Holder,
    },
    /// List the apps whose next pull uses a registry credential
    #[command(
        after_help = "Without a scope option, the foundation's credential for LOCATION. \
        An app is listed when the image of its last push resolves to the credential (R29).\n\n\
        EXAMPLES:\n   cf registry-credential-apps registry.example.com --org\n   \
        cf registry-credential-apps docker.io/library --app myapp"
    )]
    RegistryCredentialApps(Apps),
    /// Import a credentials file into the foundation
    ImportFoundationRegistryCredentials(Import),
    /// Import a credentials file into the targeted org
    ImportOrgRegistryCredentials(Import),
    /// Import a credentials file into the targeted space
    ImportSpaceRegistryCredentials(Import),
    /// Push an app from a Docker image
    Push {
        /// The app
        #[arg(value_name = "APP")]
        app: String,
        /// The image to run
        #[arg(long, value_name = "IMAGE", required = true)]
        docker_image: Option<String>,
        /// The registry username; the password comes from CF_DOCKER_PASSWORD
        /// or a prompt, and is stored as the app's registry credential
        #[arg(long, value_name = "USERNAME")]
        docker_username: Option<String>,
    },
    /// Delete an app and its registry credentials
    Delete {
        /// The app
        #[arg(value_name = "APP")]
        app: String,
        /// Force deletion without confirmation
        #[arg(short = 'f')]
        force: bool,
    },
    /// Send an API request as the logged-in user
    #[command(
        after_help = "By default `cf curl` performs a GET of PATH; with -d it performs a POST. \
        The response body is printed as indented JSON, whatever its status. \
        A password in DATA is visible to other users in the process list: \
        put the body in a file and give -d @FILE.\n\n\
        EXAMPLES:\n   cf curl /v3/registry_credentials?scopes=space\n   \
        cf curl /v3/registry_credentials -d @credential.json\n   \
        cf curl /v3/registry_credentials/GUID -X PATCH -d '{\"username\": \"ci\"}'"
    )]
    Curl {
        /// The API path, such as /v3/registry_credentials?per_page=10
        #[arg(value_name = "PATH")]
        path: String,
        /// The HTTP method (GET, POST, PATCH, DELETE); default GET, or POST with -d
        #[arg(short = 'X', value_name = "METHOD")]
        method: Option<String>,
        /// The request body, or `@` and a file name to read it from
        #[arg(short = 'd', value_name = "DATA")]
        data: Option<String>,
        /// Exit 22 when the API answers with an error (status 400 or more)
        #[arg(short = 'f', long = "fail")]
        fail: bool,
    },
    /// Print the version
    Version,
}

/// The arguments of `create-*-registry-credential`.
#[derive(Debug, Args)]
pub struct Create {
    /// Where the credential applies: `HOST[:PORT][/PATH]`
    #[arg(value_name = "LOCATION")]
    pub location: String,
    /// The registry username; the password comes from CF_DOCKER_PASSWORD or a prompt
    #[arg(long, value_name = "USERNAME", required = true)]
    pub username: Option<String>,
    /// What the secret is: a password, an identity token (an OAuth refresh
    /// token) or a registry token (a bearer token)
    #[arg(long, value_name = "KIND", default_value = "password", value_parser = kinds())]
    pub kind: CredentialKind,
    /// When the credential stops being used (RFC 3339, e.g. 2027-01-01T00:00:00Z)
    #[arg(long, value_name = "TIME")]
    pub expires_at: Option<String>,
    /// List the apps that would move to the new credential, and create
    /// nothing (no password is asked for)
    #[arg(long)]
    pub dry_run: bool,
}

/// The values of `--kind`: the core's names of the kinds (R24), listed in
/// the help and read into the kind.
fn kinds() -> impl TypedValueParser<Value = CredentialKind> {
    clap::builder::PossibleValuesParser::new(CredentialKind::ALL.map(CredentialKind::as_str))
        .try_map(|name| name.parse::<CredentialKind>())
}

/// The arguments of `update-*-registry-credential`.
#[derive(Debug, Args)]
pub struct Update {
    /// The credential's location
    #[arg(value_name = "LOCATION")]
    pub location: String,
    /// A new username (the password prompt then takes an empty answer to
    /// keep the current password); without it, the password changes
    #[arg(long, value_name = "USERNAME")]
    pub username: Option<String>,
    /// What the new secret is (default: password)
    #[arg(long, value_name = "KIND", value_parser = kinds())]
    pub kind: Option<CredentialKind>,
    /// A new expiry (RFC 3339), or `never`; given alone, it changes nothing else
    #[arg(long, value_name = "TIME", conflicts_with_all = ["username", "kind"])]
    pub expires_at: Option<String>,
    /// List the apps whose registry credential the change would change,
    /// and change nothing (no password is asked for)
    #[arg(long)]
    pub dry_run: bool,
}

/// The arguments of `delete-*-registry-credential`.
#[derive(Debug, Args)]
pub struct Delete {
    /// The credential's location
    #[arg(value_name = "LOCATION")]
    pub location: String,
    /// Force deletion without confirmation
    #[arg(short = 'f')]
    pub force: bool,
    /// List the apps whose registry credential the deletion would change,
    /// and delete nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// The arguments of `registry-credential-apps`: a location, and the scope
/// of the credential (the foundation unless an option names another).
#[derive(Debug, Args)]
pub struct Apps {
    /// The credential's location
    #[arg(value_name = "LOCATION")]
    pub location: String,
    /// The targeted org's credential
    #[arg(long, conflicts_with_all = ["space", "app"])]
    pub org: bool,
    /// The targeted space's credential
    #[arg(long, conflicts_with_all = ["org", "app"])]
    pub space: bool,
    /// The credential of the app APP in the targeted space
    #[arg(long, value_name = "APP", conflicts_with_all = ["org", "space"])]
    pub app: Option<String>,
}

/// Which credential of a location the label commands name: the scope, as
/// the `update-*`, `delete-*` and `delete-app-registry-credential`
/// commands name it (the foundation, the targeted organization or space,
/// or an app of the targeted space).
#[derive(Debug, Args)]
pub struct Holder {
    /// Where the credential is stored: foundation, org (the targeted
    /// organization), space (the targeted space) or app (with --app)
    #[arg(
        long,
        value_name = "SCOPE",
        value_enum,
        required_unless_present = "app",
        requires_if("app", "app")
    )]
    pub scope: Option<ScopeArg>,
    /// The app of the targeted space whose credential it is (--scope app)
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,
}

/// The values of `--scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScopeArg {
    /// The foundation
    Foundation,
    /// The targeted organization
    #[value(alias = "organization")]
    Org,
    /// The targeted space
    Space,
    /// An app of the targeted space, given with --app
    App,
}

/// The arguments of `import-*-registry-credentials`.
#[derive(Debug, Args)]
pub struct Import {
    /// A Docker config.json, containers auth.json, .dockercfg or
    /// Kubernetes dockerconfigjson Secret
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Import what can be imported and report the rest, instead of all or nothing
    #[arg(long)]
    pub skip_failures: bool,
}

/// What the arguments ask for: a command to run, or text to print (help,
/// the version) with nothing else done.
#[derive(Debug)]
pub(crate) enum Parsed {
    Run(Command),
    Print(String),
}

/// Parses the arguments (without the program's name).
///
/// # Errors
///
/// A usage error ([`Failure::usage`]) for arguments that do not fit.
pub(crate) fn parse(args: &[String]) -> Result<Parsed, Failure> {
    let argv = std::iter::once("cf").chain(args.iter().map(String::as_str));
    match Cli::try_parse_from(argv) {
        Ok(cli) => Ok(Parsed::Run(cli.command)),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            Ok(Parsed::Print(e.render().to_string()))
        }
        Err(e) => Err(usage_error(&e, args)),
    }
}

/// The help of `command` (`None`: the list of commands), as `cf help
/// COMMAND` prints it.
pub(crate) fn help_of(command: Option<&str>) -> String {
    let mut cli = Cli::command();
    cli.build();
    match command.and_then(|c| cli.find_subcommand_mut(c)) {
        Some(sub) => sub.render_help().to_string(),
        None => cli.render_help().to_string(),
    }
}

/// The name of the command the arguments start with, when it is one.
fn command_named(args: &[String]) -> Option<&str> {
    let first = args.first()?;
    Cli::command()
        .get_subcommands()
        .any(|s| s.get_name() == first)
        .then_some(first.as_str())
}

/// The strings of one piece of an error's context.
fn context(e: &clap::Error, kind: ContextKind) -> Vec<String> {
    match e.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(v)) => v.clone(),
        Some(ContextValue::StyledStr(s)) => vec![s.to_string()],
        Some(ContextValue::StyledStrs(v)) => v.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    }
}

/// `; did you mean `x`?` for clap's closest suggestion (a name of this
/// tool's own commands or options, never what was typed). clap lists its
/// suggestions from the least to the most alike.
fn suggestion(e: &clap::Error, kind: ContextKind) -> String {
    match context(e, kind).last() {
        None => String::new(),
        Some(best) => format!("; did you mean `{best}`?"),
    }
}

/// Where `arg` stands among the arguments, counted from 1 (the command
/// is argument 1).
/// `arg` may be what clap quotes of it: the name of `--name=value`, or
/// the first flag of a cluster of short ones (`-x` of `-xyz`).
fn position(args: &[String], arg: &str) -> String {
    let is = |a: &String| {
        a == arg
            || a.split_once('=').is_some_and(|(name, _)| name == arg)
            || (arg.len() == 2
                && arg.starts_with('-')
                && !a.starts_with("--")
                && a.starts_with(arg))
    };
    match args.iter().position(is) {
        Some(i) => format!("argument {}", i + 1),
        None => "an argument".to_owned(),
    }
}

/// The name of an option as typed (`--docker-imag` of
/// `--docker-imag=x`), when it looks like one: letters, digits and `-`
/// after the dashes. A value after `=` is never repeated.
fn option_name(arg: &str) -> Option<&str> {
    let name = arg.split_once('=').map_or(arg, |(n, _)| n);
    let body = name.trim_start_matches('-');
    let fits = name.starts_with('-')
        && !body.is_empty()
        && body.len() <= 40
        && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    fits.then_some(name)
}

/// clap's error as a usage error in cf's words.
fn usage_error(e: &clap::Error, args: &[String]) -> Failure {
    let command = command_named(args);
    let invalid = context(e, ContextKind::InvalidArg);
    let definitions = invalid
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match e.kind() {
        ErrorKind::InvalidSubcommand => {
            let typed = context(e, ContextKind::InvalidSubcommand);
            let at = typed
                .first()
                .map_or("an argument".to_owned(), |t| position(args, t));
            format!(
                "{at} is not a command{}",
                suggestion(e, ContextKind::SuggestedSubcommand)
            )
        }
        ErrorKind::UnknownArgument => {
            let typed = invalid.first().map(String::as_str).unwrap_or_default();
            // An option's name is repeated only when clap finds it close
            // to one of this command's own (a typo of `--docker-image`);
            // anything else typed after `-` is named by its position, as
            // it may be a password put in the wrong place.
            let near_miss = !context(e, ContextKind::SuggestedArg).is_empty();
            let what = match option_name(typed).filter(|_| near_miss) {
                Some(name) => format!("`{name}` is not an option of this command"),
                None if typed.starts_with('-') => {
                    format!("{} is not an option of this command", position(args, typed))
                }
                None => format!("{} is one argument too many", position(args, typed)),
            };
            format!("{what}{}", suggestion(e, ContextKind::SuggestedArg))
        }
        ErrorKind::MissingRequiredArgument if invalid.len() > 1 => {
            format!("the required {definitions} were not given")
        }
        ErrorKind::MissingRequiredArgument => {
            format!("the required {definitions} was not given")
        }
        // A value that is not one of the option's own (`--scope`,
        // `--kind`): those are listed, what was typed is not repeated.
        ErrorKind::InvalidValue if !context(e, ContextKind::ValidValue).is_empty() => {
            let valid = context(e, ContextKind::ValidValue).join(", ");
            format!("{definitions} takes one of: {valid}")
        }
        ErrorKind::InvalidValue | ErrorKind::NoEquals | ErrorKind::TooFewValues => {
            format!("{definitions} needs a value")
        }
        ErrorKind::ArgumentConflict => {
            format!("{definitions} was given more than once, or with an option it excludes")
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "no command given".to_owned()
        }
        _ => "the arguments do not fit the command".to_owned(),
    };
    Failure::usage(command, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flag_equals_value_and_flag_space_value_parse_alike() {
        for line in [
            "push app --docker-image=nginx --docker-username=u",
            "push app --docker-image nginx --docker-username u",
        ] {
            let Ok(Parsed::Run(Command::Push {
                app,
                docker_image,
                docker_username,
            })) = parse(&strings(line))
            else {
                panic!("{line}");
            };
            assert_eq!(
                (
                    app.as_str(),
                    docker_image.as_deref(),
                    docker_username.as_deref()
                ),
                ("app", Some("nginx"), Some("u"))
            );
        }
    }

    #[test]
    fn r21_usage_errors_never_repeat_what_was_typed() {
        let e = parse(&strings("push app --docker-image nginx hunter2-Secret")).unwrap_err();
        assert_eq!(e.message, "argument 5 is one argument too many");
        let e = parse(&strings("push app --docker-image nginx --password=hunter2")).unwrap_err();
        assert_eq!(e.message, "argument 5 is not an option of this command");
        let e = parse(&strings("target -o o --Hunter2-Secret")).unwrap_err();
        assert_eq!(e.message, "argument 4 is not an option of this command");
        let e = parse(&strings("target -o o -Hunter2")).unwrap_err();
        assert_eq!(e.message, "argument 4 is not an option of this command");
        // A near miss of one of the command's own options is a typo, and
        // is named, with the option meant.
        let e = parse(&strings("push app --docker-imag nginx")).unwrap_err();
        assert_eq!(
            e.message,
            "`--docker-imag` is not an option of this command; did you mean `--docker-image`?"
        );
        let e = parse(&strings("hunter2-Secret")).unwrap_err();
        assert_eq!(e.message, "argument 1 is not a command");
    }

    #[test]
    fn option_names_are_quoted_without_their_values() {
        assert_eq!(option_name("--docker-imag=nginx"), Some("--docker-imag"));
        assert_eq!(option_name("-x"), Some("-x"));
        assert_eq!(option_name("--pass\u{1b}word"), None);
        assert_eq!(option_name("-"), None);
    }
}
