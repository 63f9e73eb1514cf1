//! The command line as clap reads it: the commands, their flags, and the flags every command
//! shares.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// osnap: snapshots of OpenSearch and Elasticsearch domains, from a terminal or a script.
///
/// Every command runs the same operations as osnap's Lambda functions, with the same
/// endpoint guard, the same safety rules and, with --json, the same answers.
#[derive(Debug, Parser)]
#[command(
    name = "osnap",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

const AFTER_HELP: &str = "\
The domain and repository default to OSNAP_DOMAIN_ENDPOINT, OSNAP_DOMAIN_REGION and
OSNAP_REPOSITORY. Credentials come from the default AWS chain (environment, AWS_PROFILE,
shared files, SSO, instance role), or the profile given with --profile.
Exit codes: 0 done, 2 usage, 3 not confirmed, 4 stopped by the preflight, 10-59 the errorType
(see the README).";

/// Flags every command takes, before or after the command's name.
#[derive(Debug, Args)]
pub struct Common {
    /// The domain endpoint (default: OSNAP_DOMAIN_ENDPOINT)
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// The domain's region; read from an AWS domain host name (default: OSNAP_DOMAIN_REGION)
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// The snapshot repository (default: OSNAP_REPOSITORY)
    #[arg(long, short = 'r', global = true)]
    pub repository: Option<String>,
    /// A profile of the shared AWS config files, as the AWS CLI's --profile
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// A role to assume for the domain (a domain in another account)
    #[arg(long, global = true, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Print the operation's answer as JSON, the shape the functions return
    #[arg(long, global = true)]
    pub json: bool,
    /// Do what a destructive command plans without asking
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Log requests on stderr (-v: info, -vv: debug)
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the domain's snapshot repositories
    Repos,
    /// List snapshots, newest first (a brief listing, fast on any repository)
    List(ListArgs),
    /// Register (or check) the S3 snapshot repository
    Register(RegisterArgs),
    /// Take a snapshot
    Snapshot(SnapshotArgs),
    /// Follow a snapshot's progress, or a restore's recovery
    Status(StatusArgs),
    /// Check a snapshot, a restore's recovery, or restored document counts
    Verify(VerifyArgs),
    /// Restore indices from a snapshot (shows the plan and asks first)
    Restore(RestoreArgs),
    /// Delete snapshots by retention (shows the plan and asks first)
    Prune(PruneArgs),
    /// Migrate indices from one domain to another (preflight first, then asks)
    Migrate(MigrateArgs),
    /// Start a local stand-in (S3 and a domain on loopback) and print its environment
    Standin(StandinArgs),
    /// Migrate sample indices between two domains on the local stand-in
    Demo,
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only snapshots whose names match (`*` wildcards)
    #[arg(long = "match", default_value = "*", value_name = "PATTERN")]
    pub pattern: String,
    /// Show at most this many (the shown ones are read by name for duration and shards)
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The S3 bucket
    #[arg(long)]
    pub bucket: String,
    /// The role the domain assumes to write to the bucket
    #[arg(long, value_name = "ARN")]
    pub snapshot_role: String,
    /// The bucket's region (asked of S3 when neither this nor --s3-endpoint is given)
    #[arg(long)]
    pub bucket_region: Option<String>,
    /// The S3 endpoint the domain writes to, for a bucket in another region
    #[arg(long, value_name = "HOST")]
    pub s3_endpoint: Option<String>,
    /// A folder in the bucket
    #[arg(long)]
    pub base_path: Option<String>,
    /// Ask S3 to encrypt what the domain writes
    #[arg(long)]
    pub server_side_encryption: bool,
    /// Register read-only (a domain that restores another's snapshots)
    #[arg(long)]
    pub readonly: bool,
    /// Do not ask the domain to verify it can reach the bucket
    #[arg(long)]
    pub no_verify: bool,
    /// Update a repository registered with other settings
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// A name or a template (default: nightly-{now:%Y.%m.%d-%H%M%S}, UTC)
    pub snapshot: Option<String>,
    /// Index patterns (default: every index but system indices)
    #[arg(long = "index", value_name = "PATTERN")]
    pub indices: Vec<String>,
    /// Metadata to store with the snapshot, a JSON object
    #[arg(long, value_name = "JSON")]
    pub metadata: Option<String>,
    #[arg(long)]
    pub include_global_state: bool,
    /// Snapshot what can be taken when some shards are unavailable
    #[arg(long)]
    pub partial: bool,
    /// Follow the snapshot until it ends (progress on stderr); fails unless it succeeds
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub poll: PollArgs,
}

#[derive(Debug, Args)]
pub struct PollArgs {
    /// How often to poll while following
    #[arg(long, default_value = "1s", value_parser = parse_interval)]
    pub interval: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The snapshot (default: the newest one matching --match)
    pub snapshot: Option<String>,
    /// With no SNAPSHOT: which snapshots count
    #[arg(long = "match", default_value = "*", value_name = "PATTERN")]
    pub pattern: String,
    /// Follow a restore instead: the recoveries of these indices (all restored ones
    /// when none is named)
    #[arg(long)]
    pub restore: bool,
    /// With --restore: the restored indices to follow
    #[arg(long = "index", value_name = "INDEX")]
    pub indices: Vec<String>,
    /// Print the status once instead of following it to the end
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub poll: PollArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Check {
    Snapshot,
    Restore,
    Counts,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A snapshot name, or `latest`
    #[arg(default_value = "latest")]
    pub snapshot: String,
    /// With `latest`: only snapshots whose names match
    #[arg(long = "match", default_value = "nightly-*", value_name = "PATTERN")]
    pub pattern: String,
    /// Indices the snapshot must hold
    #[arg(long = "expect-index", value_name = "INDEX")]
    pub expect_indices: Vec<String>,
    /// Older than this is not ok (e.g. 26h; the default for `latest`)
    #[arg(long)]
    pub max_age: Option<String>,
    #[arg(long, value_enum, default_value = "snapshot")]
    pub check: Check,
    /// With --check restore or counts: the restore as it was asked (SNAPSHOT is the one it
    /// restored from; the restored indices are worked out from it as the restore did)
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// With --check counts: the domain the indices were restored from
    #[arg(long, value_name = "URL")]
    pub source_endpoint: Option<String>,
    /// Print a failed snapshot's report and exit 0 instead of failing with its errorType
    #[arg(long)]
    pub report_only: bool,
    /// Prove the snapshot restorable: restore a sample under a prefix, judge each copy by the
    /// snapshot's manifest, delete the copies (see the README, Restore drills)
    #[arg(long)]
    pub drill: bool,
    /// With --drill: `all`, `random:N` or `largest:N` of the snapshot's indices
    #[arg(long, default_value = "all", value_parser = parse_sample, requires = "drill")]
    pub sample: operations::requests::DrillSample,
    /// With --drill: only these indices or patterns
    #[arg(
        long = "drill-index",
        value_name = "PATTERN",
        requires = "drill",
        conflicts_with = "sample"
    )]
    pub drill_indices: Vec<String>,
    /// With --drill: the prefix of the drill's copies (the only indices it deletes)
    #[arg(long, default_value = operations::requests::DEFAULT_DRILL_PREFIX, requires = "drill")]
    pub drill_prefix: String,
    /// With --drill: drill on this scratch domain (the repository registered there)
    #[arg(long, value_name = "URL", requires = "drill")]
    pub drill_on: Option<String>,
    /// With --drill: how often to look at the drill's restore
    #[arg(long, default_value = "2s", value_parser = parse_interval)]
    pub interval: std::time::Duration,
}

fn parse_sample(text: &str) -> Result<operations::requests::DrillSample, String> {
    use operations::requests::DrillSample;
    let count = |n: &str| {
        n.parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("`{n}` is not a count of indices (1 or more)"))
    };
    match text.split_once(':') {
        None if text == "all" => Ok(DrillSample::All),
        Some(("random", n)) => Ok(DrillSample::Random(count(n)?)),
        Some(("largest", n)) => Ok(DrillSample::Largest(count(n)?)),
        _ => Err("expected `all`, `random:N` or `largest:N`".to_owned()),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnConflict {
    Fail,
    Rename,
    Replace,
}

/// Which indices of a snapshot a restore takes and the names it gives them (`restore`, and
/// `verify` of a restore).
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Index patterns to restore (default: every index but system indices)
    #[arg(long = "index", value_name = "PATTERN")]
    pub indices: Vec<String>,
    /// What to do about an open index with a target name
    #[arg(long, value_enum, default_value = "fail")]
    pub on_conflict: OnConflict,
    /// Restore under new names: a regular expression and its replacement
    #[arg(long, num_args = 2, value_names = ["PATTERN", "REPLACEMENT"])]
    pub rename: Vec<String>,
}

impl SelectionArgs {
    /// The selection's fields as a restore event (or `restore_of`) writes them.
    pub fn fields(&self) -> serde_json::Value {
        let mut fields = serde_json::json!({
            "on_conflict": match self.on_conflict {
                OnConflict::Fail => "fail",
                OnConflict::Rename => "rename",
                OnConflict::Replace => "replace",
            },
        });
        if !self.indices.is_empty() {
            fields["indices"] = serde_json::json!(self.indices);
        }
        if let [pattern, replacement] = self.rename.as_slice() {
            fields["rename_pattern"] = serde_json::json!(pattern);
            fields["rename_replacement"] = serde_json::json!(replacement);
        }
        fields
    }
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A snapshot name, or `latest`
    #[arg(default_value = "latest")]
    pub snapshot: String,
    /// With `latest`: only snapshots whose names match
    #[arg(long = "match", default_value = "nightly-*", value_name = "PATTERN")]
    pub pattern: String,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Restore the snapshot's aliases too (with renaming: refused while they are in use)
    #[arg(long)]
    pub include_aliases: bool,
    #[arg(long)]
    pub include_global_state: bool,
    /// Restore the complete indices of a PARTIAL snapshot
    #[arg(long)]
    pub partial: bool,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Only snapshots whose names match are pruned
    #[arg(long = "match", default_value = "nightly-*", value_name = "PATTERN")]
    pub pattern: String,
    /// Keep this many newest successful snapshots
    #[arg(long)]
    pub keep_last: Option<usize>,
    /// Delete snapshots older than this (e.g. 30d, the default without --keep-last)
    #[arg(long)]
    pub max_age: Option<String>,
    /// Never go below this many successful snapshots
    #[arg(long, default_value_t = 1)]
    pub min_count: usize,
    /// Never delete the newest successful copy of an index matching this
    #[arg(long = "protect-last-copy-of", value_name = "PATTERN")]
    pub protect_last_copy_of: Vec<String>,
    /// Never delete this snapshot
    #[arg(long = "pinned", value_name = "SNAPSHOT")]
    pub pinned: Vec<String>,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The source domain's endpoint
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The target domain's endpoint
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// The S3 bucket both domains use (registered writable on the source, read-only on the
    /// target)
    #[arg(long)]
    pub bucket: String,
    /// The role the domains assume to reach the bucket (the target's; and the source's when
    /// it is an AWS domain)
    #[arg(long, value_name = "ARN")]
    pub snapshot_role: String,
    /// The source is a self-managed cluster (listed in OSNAP_ALLOWED_HOSTS) whose login, for
    /// basic authentication, is in this Secrets Manager secret
    #[arg(long, value_name = "ARN", conflicts_with = "from_no_auth")]
    pub from_secret_arn: Option<String>,
    /// The source's user name, when the secret holds the password alone
    #[arg(long, value_name = "NAME", requires = "from_secret_arn")]
    pub from_user: Option<String>,
    /// The source is a self-managed cluster without authentication (listed in
    /// OSNAP_ALLOWED_HOSTS)
    #[arg(long)]
    pub from_no_auth: bool,
    /// A self-managed source's repository-s3 client (`default` when not given)
    #[arg(long, value_name = "NAME")]
    pub from_client: Option<String>,
    /// The bucket's region (asked of S3 when neither this nor --s3-endpoint is given)
    #[arg(long)]
    pub bucket_region: Option<String>,
    /// The S3 endpoint the domains reach the bucket by, for a bucket in another region
    #[arg(long, value_name = "HOST")]
    pub s3_endpoint: Option<String>,
    /// A folder in the bucket
    #[arg(long)]
    pub base_path: Option<String>,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Show the preflight report and the plan, and change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub poll: PollArgs,
}

#[derive(Debug, Args)]
pub struct StandinArgs {
    /// Where the stand-in's S3 keeps its objects (default: a temporary folder, removed on exit)
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The domain's engine: opensearch[:VERSION] or elasticsearch[:VERSION]
    #[arg(long, default_value = "opensearch")]
    pub engine: String,
    /// How long a snapshot runs on the stand-in
    #[arg(long, default_value = "3s", value_parser = parse_interval)]
    pub snapshot_time: std::time::Duration,
    /// How long a restored index recovers on the stand-in
    #[arg(long, default_value = "3s", value_parser = parse_interval)]
    pub recovery_time: std::time::Duration,
    /// Start with no sample indices
    #[arg(long)]
    pub empty: bool,
}

/// `500ms`, `2s`, `1m`.
fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    if let Some(ms) = text.strip_suffix("ms") {
        return ms
            .parse()
            .map(std::time::Duration::from_millis)
            .map_err(|_| format!("`{text}` is not a number of milliseconds"));
    }
    policy::duration::parse_duration(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn intervals_read_milliseconds_and_durations() {
        assert_eq!(
            parse_interval("250ms"),
            Ok(std::time::Duration::from_millis(250))
        );
        assert_eq!(parse_interval("2s"), Ok(std::time::Duration::from_secs(2)));
        assert!(parse_interval("soon").is_err());
    }
}
