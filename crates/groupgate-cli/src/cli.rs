//! Command-line arguments.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// groupgate: governed, audited Entra ID group membership changes from tickets.
#[derive(Debug, Parser)]
#[command(name = "groupgate", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Evaluate one request against a policy and print the decision.
    Check(CheckArgs),
    /// Work with policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run the demo: whole workflows through the real adapters, the worker
    /// and a SQLite store against the emulators on 127.0.0.1, as a timeline
    /// (`--simulated`: on in-memory fakes with simulated time).
    #[cfg(feature = "emulators")]
    Demo {
        /// Run on the simulated world (in-memory fakes, simulated time: the
        /// expiry at the end date is shown too).
        #[arg(long)]
        simulated: bool,
        /// Keep the demo's folder (settings, store, audit sink) here.
        #[arg(long, value_name = "DIR", conflicts_with = "simulated")]
        keep: Option<PathBuf>,
        /// Print the audit records (JSON Lines) instead of the timeline.
        #[arg(long)]
        json: bool,
        /// Also write the audit trail (JSON Lines) to this file.
        #[arg(long)]
        audit_out: Option<PathBuf>,
        /// Sign a checkpoint of the trail every 25 records with the key in
        /// this file (see `groupgate audit keygen`); simulated demo only.
        #[arg(long, value_name = "FILE", conflicts_with = "keep")]
        signing_key: Option<PathBuf>,
    },
    /// Work with audit trails.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run a service emulator on 127.0.0.1, for trying clients without a tenant.
    #[cfg(feature = "emulators")]
    #[command(subcommand)]
    Sim(SimCommand),
    /// Look things up in the directory through Microsoft Graph.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Read tickets from ServiceNow.
    #[command(subcommand)]
    Ticket(TicketCommand),
    /// Run the worker: take in new requested items, collect approvers'
    /// answers, fire due timers and carry out queued offboardings, one step
    /// at a time per workflow, until SIGTERM or Ctrl-C (the pass in hand
    /// finishes; exit 0).
    Worker {
        /// The settings file (see docs/operations.md).
        #[arg(long)]
        config: PathBuf,
        /// Recover, run one pass and exit (for cron and tests).
        #[arg(long)]
        once: bool,
        /// Log lines as text (default) or JSON; the level comes from RUST_LOG (default `info`).
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
    },
    /// Read the workflows in the store (no secrets needed).
    #[command(subcommand)]
    Workflows(WorkflowsCommand),
    /// Look after the store: back it up while the worker runs, check it.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Report drift: for every governed group, direct members no workflow
    /// accounts for, and workflows whose membership is gone (recorded in
    /// the audit trail; nothing is changed). Exit 1 when there is any.
    Drift {
        /// The settings file (the Graph secret comes from the environment).
        #[arg(long)]
        config: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Queue an offboarding of a user for the worker, or carry it out now:
    /// every governed membership ends, and memberships groupgate did not
    /// grant are removed and reported.
    Offboard {
        /// The user: UPN or object id.
        user: String,
        /// The settings file.
        #[arg(long)]
        config: PathBuf,
        /// Carry it out now instead of queueing it (needs the Graph and
        /// ServiceNow secrets in the environment).
        #[arg(long)]
        now: bool,
        /// Who asks, for the audit trail.
        #[arg(long, default_value = "cli")]
        operator: String,
        /// Print the report as JSON (with `--now`).
        #[arg(long)]
        json: bool,
    },
}

/// How `audit export` writes records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExportFormat {
    /// The records as stored: one JSON object per line (verifiable with
    /// `audit verify` when exported whole).
    Jsonl,
    /// One row per record with fixed columns, for spreadsheets and SIEM
    /// tables (the full record stays in the JSON Lines export).
    Csv,
}

/// How the worker writes its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WorkflowsCommand {
    /// Workflows with their phase, next wake-up and last error.
    List {
        /// The settings file.
        #[arg(long)]
        config: PathBuf,
        /// Only open workflows.
        #[arg(long)]
        open: bool,
        /// Only workflows in this phase (e.g. `awaiting_approval`).
        #[arg(long)]
        phase: Option<String>,
        /// Only workflows for this target (directory object id).
        #[arg(long)]
        target: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 200)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One workflow: its index row and its history.
    Show {
        /// The ticket, e.g. `RITM0010001`.
        ticket: String,
        /// The settings file.
        #[arg(long)]
        config: PathBuf,
        /// Print JSON (the row and the records).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum StoreCommand {
    /// Write a consistent copy of the store to a new file (safe while the
    /// worker runs), then check the copy.
    Backup {
        /// The settings file.
        #[arg(long)]
        config: PathBuf,
        /// The new file.
        #[arg(long)]
        to: PathBuf,
    },
    /// Check every page of the store (exit 1 when it is damaged).
    Check {
        /// The settings file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Bring a PostgreSQL store's schema up to date (the password comes
    /// from GROUPGATE_POSTGRES_PASSWORD).
    Migrate {
        /// `postgres:postgres://USER@HOST:PORT/DB`.
        #[arg(long)]
        to: String,
    },
    /// Copy a SQLite store into an empty PostgreSQL one and verify the
    /// copy's trail (the password comes from GROUPGATE_POSTGRES_PASSWORD).
    Copy {
        /// `sqlite:PATH` (the store file).
        #[arg(long)]
        from: String,
        /// `postgres:postgres://USER@HOST:PORT/DB` (an empty database).
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TicketCommand {
    /// Read a requested item (RITM) into the request groupgate would act on,
    /// with the configured variable mapping, and print it as JSON.
    Show {
        /// The RITM number, e.g. `RITM0010001`.
        number: String,
        /// A ServiceNow settings file (YAML); `GROUPGATE_SNOW_*` variables
        /// override it, and passwords and secrets come only from them.
        #[arg(long)]
        servicenow_config: Option<PathBuf>,
    },
}

#[cfg(feature = "emulators")]
#[derive(Debug, Subcommand)]
pub(crate) enum SimCommand {
    /// The Microsoft Graph emulator, serving a tenant file until interrupted.
    Graph {
        /// The tenant: a directory snapshot (users, groups, members), YAML or JSON.
        #[arg(long)]
        tenant: PathBuf,
        /// The port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The tenant id accepted in token URLs.
        #[arg(long, default_value = "contoso.onmicrosoft.com")]
        tenant_id: String,
        /// The client id accepted by the token endpoint.
        #[arg(long, default_value = "00000000-0000-0000-0000-0000000000c1")]
        client_id: String,
        /// The client secret accepted by the token endpoint.
        #[arg(long, default_value = "emulator-secret")]
        client_secret: String,
        /// Share of calls that fail at random (429, 503, 504), from 0 to 1.
        #[arg(long, default_value_t = 0.0)]
        fault_rate: f64,
        /// Seed of the random faults.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Milliseconds before membership writes show in reads.
        #[arg(long, default_value_t = 0)]
        replication_lag_ms: i64,
    },
    /// The Teams (Bot Framework) emulator: token endpoint, signing keys, the
    /// connector's conversations, and control endpoints that play clicks to a
    /// bot (`POST /_emulator/click`), until interrupted.
    Teams {
        /// The tenant's people: a directory snapshot (its users become Teams users).
        #[arg(long)]
        tenant: PathBuf,
        /// The port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The bot's client secret accepted by the token endpoint.
        #[arg(long, default_value = "emulator-bot-secret")]
        app_secret: String,
    },
    /// The ServiceNow Table API emulator, serving a data file until interrupted.
    Servicenow {
        /// The instance data: users, catalog items, RITMs with variables (YAML or JSON).
        #[arg(long)]
        data: PathBuf,
        /// The port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The integration user's password (Basic and the OAuth password grant).
        #[arg(long, default_value = "emulator-password")]
        password: String,
        /// Answer no rows for query conditions it cannot read (default: ignore them, like an instance).
        #[arg(long)]
        strict_queries: bool,
        /// Share of calls that fail at random (429, 503), from 0 to 1.
        #[arg(long, default_value_t = 0.0)]
        fault_rate: f64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DirectoryCommand {
    /// A user by object id or UPN.
    User {
        /// The object id or UPN.
        key: String,
        /// A Graph settings file (YAML); `GROUPGATE_GRAPH_*` variables override it.
        #[arg(long)]
        graph_config: Option<PathBuf>,
    },
    /// A group's attributes by object id.
    Group {
        /// The object id.
        id: String,
        /// A Graph settings file (YAML); `GROUPGATE_GRAPH_*` variables override it.
        #[arg(long)]
        graph_config: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check a trail: its hash chain (any edit, deletion, insertion or
    /// reordering fails), strict records (no repeated keys, time never
    /// backwards), the anchors given (a cut or rewritten trail fails), and
    /// with a public key every signed checkpoint.
    Verify {
        /// The trail (JSON Lines).
        file: PathBuf,
        /// A chain head recorded outside the store, e.g. from a ticket's work
        /// note: `SEQ:HASH`. Repeatable.
        #[arg(long = "expect-head", value_name = "SEQ:HASH")]
        expect_head: Vec<String>,
        /// A file of anchors, one `SEQ:HASH` (or `seq=… hash=…`) per line.
        #[arg(long, value_name = "FILE")]
        anchors: Option<PathBuf>,
        /// The checkpoint signing key's public half (base64 or hex), or a
        /// file holding it.
        #[arg(long = "public-key", value_name = "KEY|FILE")]
        public_key: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a new checkpoint signing key: the secret seed is written to FILE
    /// (readable by its owner only), the public key printed.
    Keygen {
        /// Where to write the signing key (it must not exist yet).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the store's trail as JSON Lines (for `audit verify`,
    /// archiving or a SIEM) or CSV.
    Export {
        /// The settings file naming the store.
        #[arg(long)]
        config: PathBuf,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// `jsonl` (the records as stored) or `csv` (fixed columns).
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        /// Only records at or after this time (RFC 3339, or a date meaning
        /// its start in UTC). A partial export does not start at the
        /// chain's genesis, so `audit verify` checks only whole exports.
        #[arg(long)]
        since: Option<String>,
    },
    /// Re-evaluate every recorded decision from its recorded inputs and report any that differ.
    Replay {
        /// The trail (JSON Lines).
        file: PathBuf,
        /// The policy to replay against.
        #[arg(long)]
        policy: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The policy file (YAML or JSON).
    #[arg(long)]
    pub(crate) policy: PathBuf,
    /// The request file (YAML or JSON).
    #[arg(long)]
    pub(crate) request: PathBuf,
    /// Directory facts: a `Facts` document, or a directory snapshot (users and groups).
    #[arg(long)]
    pub(crate) facts: PathBuf,
    /// The evaluation time, RFC 3339 (e.g. 2026-11-25T10:00:00Z). Default: now.
    #[arg(long)]
    pub(crate) now: Option<String>,
    /// Print the decision as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Report errors and warnings in a policy file.
    Lint {
        /// The policy file.
        file: PathBuf,
        /// Treat warnings as findings (exit 1).
        #[arg(long)]
        strict: bool,
        /// Print findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the expectations shipped beside a policy (`<name>.tests.yaml`).
    Test {
        /// The policy file.
        file: PathBuf,
        /// The tests file. Default: `<policy stem>.tests.yaml` beside the policy.
        #[arg(long)]
        tests: Option<PathBuf>,
        /// Print results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate past requests against two policy versions and report what changes.
    Diff {
        /// The current policy.
        #[arg(long)]
        old: PathBuf,
        /// The proposed policy.
        #[arg(long)]
        new: PathBuf,
        /// Past requests, one JSON object per line: {"request", "now", "facts"?}.
        #[arg(long)]
        requests: PathBuf,
        /// A directory snapshot to derive facts from for lines without `facts`.
        #[arg(long)]
        directory: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the policy file format.
    Schema,
}
