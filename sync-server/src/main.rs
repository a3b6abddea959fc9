//! `logbook-relay serve` runs the relay; `logbook-relay admin ...` manages coops and
//! devices on the data directory (also while a relay is serving it).

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use logbook_protocol::{Grant, Role};
use logbook_relay::{Limits, RelayConfig, TlsFiles, admin, store};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "logbook-relay", version, about = "The Co-op Logbook relay")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API until SIGTERM or Ctrl-C (then finish in-flight requests).
    Serve(ServeArgs),
    /// Check a configuration (the same flags and environment as `serve`) without
    /// serving: data directory or database, TLS files, listen addresses. Exit code 0
    /// when every check passes, 1 otherwise.
    Check(ServeArgs),
    /// Operator commands on the data directory or database.
    Admin {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// Where the relay keeps its data: a data directory (SQLite, the default) or a
/// PostgreSQL database that several relay processes may share. One of the two is
/// required (checked in `StoreArgs::database`: clap refuses required global flags).
#[derive(clap::Args)]
struct StoreArgs {
    /// Data directory (holds relay.sqlite3); for `admin restore`, the new directory.
    /// Not needed with --database.
    #[arg(long, env = "LOGBOOK_RELAY_DATA", global = true)]
    data: Option<PathBuf>,
    /// PostgreSQL URL, e.g. postgres://relay@127.0.0.1:5432/logbook, used instead of
    /// --data (wins if both are set).
    #[arg(
        long,
        env = "LOGBOOK_RELAY_DATABASE",
        hide_env_values = true,
        global = true
    )]
    database: Option<String>,
}

impl StoreArgs {
    fn database(self) -> store::Database {
        match (self.database, self.data) {
            (Some(url), _) => store::Database::postgres(url),
            (None, Some(dir)) => store::Database::Sqlite(dir),
            // A usage error like clap's own (exit code 2).
            (None, None) => Cli::command()
                .error(
                    clap::error::ErrorKind::MissingRequiredArgument,
                    "--data DIR or --database URL (or LOGBOOK_RELAY_DATA / LOGBOOK_RELAY_DATABASE) is required",
                )
                .exit(),
        }
    }
}

/// What `serve` (and `check`) take.
#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "LOGBOOK_RELAY_LISTEN", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// PEM certificate chain; with --tls-key, serve HTTPS.
    #[arg(long, env = "LOGBOOK_RELAY_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key; with --tls-cert, serve HTTPS.
    #[arg(long, env = "LOGBOOK_RELAY_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve Prometheus metrics at http://ADDR/metrics (off unless given; keep it on
    /// loopback or a private network).
    #[arg(long, env = "LOGBOOK_RELAY_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    #[command(flatten)]
    limits: LimitArgs,
}

impl ServeArgs {
    fn config(self) -> RelayConfig {
        let mut config = match self.store.database() {
            store::Database::Sqlite(dir) => RelayConfig::new(dir, self.listen),
            store::Database::Postgres(target) => {
                let mut config = RelayConfig::new(PathBuf::new(), self.listen);
                config.postgres = Some(target);
                config
            }
        };
        config.tls = self
            .tls_cert
            .zip(self.tls_key)
            .map(|(cert, key)| TlsFiles { cert, key });
        config.limits = self.limits.into();
        config.metrics_listen = self.metrics_listen;
        config
    }
}

/// Timeouts, connection cap, rate limits and quotas (docs/PROTOCOL.md, Operations). The
/// defaults are generous: a normal coop never meets them.
#[derive(clap::Args)]
struct LimitArgs {
    /// Seconds a client has to send a request's headers (also the longest idle wait of
    /// a keep-alive connection for its next request).
    #[arg(long, env = "LOGBOOK_RELAY_HEADER_TIMEOUT_SECS", default_value_t = Limits::default().header_timeout.as_secs())]
    header_timeout_secs: u64,
    /// Seconds one request may take, body upload included (then 408).
    #[arg(long, env = "LOGBOOK_RELAY_REQUEST_TIMEOUT_SECS", default_value_t = Limits::default().request_timeout.as_secs())]
    request_timeout_secs: u64,
    /// Seconds without a byte moving either way before a connection is closed.
    #[arg(long, env = "LOGBOOK_RELAY_IDLE_TIMEOUT_SECS", default_value_t = Limits::default().idle_timeout.as_secs())]
    idle_timeout_secs: u64,
    /// Most open connections; more wait up to the header timeout for a free slot.
    #[arg(long, env = "LOGBOOK_RELAY_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Joins per minute per client address (0: no limit).
    #[arg(long, env = "LOGBOOK_RELAY_JOIN_PER_MINUTE", default_value_t = Limits::default().join_per_minute)]
    join_per_minute: u32,
    /// Behind a reverse proxy: count joins by the last X-Forwarded-For address.
    #[arg(long, env = "LOGBOOK_RELAY_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
    /// Pushes per minute per device (0: no limit).
    #[arg(long, env = "LOGBOOK_RELAY_PUSH_PER_MINUTE", default_value_t = Limits::default().push_per_minute)]
    push_per_minute: u32,
    /// Pulls per minute per device (0: no limit).
    #[arg(long, env = "LOGBOOK_RELAY_PULL_PER_MINUTE", default_value_t = Limits::default().pull_per_minute)]
    pull_per_minute: u32,
    /// Pushes one device may have in flight at once.
    #[arg(long, env = "LOGBOOK_RELAY_PUSHES_IN_FLIGHT", default_value_t = Limits::default().pushes_in_flight_per_device)]
    pushes_in_flight: u32,
    /// Seconds between sweeps of tombstones every device has pulled past.
    #[arg(long, env = "LOGBOOK_RELAY_TOMBSTONE_SWEEP_SECS", default_value_t = Limits::default().tombstone_sweep.as_secs())]
    tombstone_sweep_secs: u64,
    /// Stored blob MiB per coop (0: no quota).
    #[arg(long, env = "LOGBOOK_RELAY_COOP_QUOTA_MIB", default_value_t = Limits::default().coop_quota_bytes >> 20)]
    coop_quota_mib: u64,
    /// Stored blob MiB per device (0: no quota).
    #[arg(long, env = "LOGBOOK_RELAY_DEVICE_QUOTA_MIB", default_value_t = Limits::default().device_quota_bytes >> 20)]
    device_quota_mib: u64,
}

impl From<LimitArgs> for Limits {
    fn from(a: LimitArgs) -> Limits {
        use std::time::Duration;
        Limits {
            header_timeout: Duration::from_secs(a.header_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(a.request_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(a.idle_timeout_secs.max(1)),
            max_connections: a.max_connections.max(1),
            join_per_minute: a.join_per_minute,
            trust_forwarded_for: a.trust_forwarded_for,
            push_per_minute: a.push_per_minute,
            pull_per_minute: a.pull_per_minute,
            pushes_in_flight_per_device: a.pushes_in_flight.max(1),
            tombstone_sweep: Duration::from_secs(a.tombstone_sweep_secs.max(1)),
            coop_quota_bytes: a.coop_quota_mib.saturating_mul(1 << 20),
            device_quota_bytes: a.device_quota_mib.saturating_mul(1 << 20),
        }
    }
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a coop and print its id and a one-time coordinator join code.
    CreateCoop {
        #[arg(long)]
        name: String,
    },
    /// Mint a one-time join code for a coop (same rules as POST /v1/invites).
    Invite {
        #[arg(long)]
        coop: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The person a worker device is bound to.
        #[arg(long)]
        person: Option<String>,
        /// The site a kiosk is bound to.
        #[arg(long)]
        site: Option<String>,
        /// A person a supporter supports (repeat for several).
        #[arg(long = "supports")]
        supports: Vec<String>,
        /// Hours until the code expires (default 72, at most 720).
        #[arg(long)]
        hours: Option<u32>,
    },
    /// List a coop's devices.
    Devices {
        #[arg(long)]
        coop: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Revoke a device: its next request is refused.
    Revoke {
        #[arg(long)]
        device: String,
    },
    /// Write a consistent copy of the database to FILE, also while a relay serves it.
    Backup {
        /// The backup file to create (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Make --data (a new directory) a relay data directory from a backup, under a new
    /// log generation: devices then pull from the start and push their documents again.
    Restore {
        /// A file written by `admin backup`.
        #[arg(long)]
        from: PathBuf,
    },
    /// Start a new log generation, for a database put back by other means than
    /// `restore` (a file-system snapshot, say). Run it while no relay serves --data.
    NewGeneration,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Coordinator,
    Worker,
    Supporter,
    Kiosk,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Coordinator => Role::Coordinator,
            RoleArg::Worker => Role::Worker,
            RoleArg::Supporter => Role::Supporter,
            RoleArg::Kiosk => Role::Kiosk,
        }
    }
}

fn unix_to_utc(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| secs.to_string())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args.config()),
        Command::Check(args) => check(args.config()),
        Command::Admin { store, command } => run_admin(&store.database(), command),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn check(config: RelayConfig) -> anyhow::Result<()> {
    let report = runtime()?.block_on(logbook_relay::check::check(&config));
    let mut out = std::io::stdout().lock();
    for f in &report.findings {
        writeln!(out, "{} {}", if f.ok { "ok  " } else { "FAIL" }, f.message)?;
    }
    if report.passed() {
        writeln!(out, "configuration ok")?;
        Ok(())
    } else {
        writeln!(out, "configuration has problems (see FAIL above)")?;
        out.flush()?;
        std::process::exit(1);
    }
}

fn serve(config: RelayConfig) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    runtime()?.block_on(async move {
        let relay = logbook_relay::start(config)
            .await
            .context("starting the relay")?;
        // Scripts and tests read this line to learn the bound address.
        println!("listening on {}", relay.url());
        if let Some(addr) = relay.metrics_addr() {
            println!("metrics on http://{addr}/metrics");
        }
        std::io::stdout().flush().ok();
        wait_for_shutdown_signal().await?;
        tracing::info!("shutting down: finishing in-flight requests");
        relay.shutdown().await;
        Ok(())
    })
}

async fn wait_for_shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}

fn run_admin(data: &store::Database, command: AdminCommand) -> anyhow::Result<()> {
    // Write errors (a closed pipe, say) end the command with an error, not a panic.
    let mut out = std::io::stdout().lock();
    match command {
        AdminCommand::CreateCoop { name } => {
            let created = admin::create_coop(data, &name)?;
            writeln!(out, "coop id:          {}", created.coop_id)?;
            writeln!(out, "coordinator code: {}", created.coordinator_code)?;
            writeln!(
                out,
                "code expires:     {} (one-time use)",
                unix_to_utc(created.expires_at)
            )?;
        }
        AdminCommand::Invite {
            coop,
            role,
            person,
            site,
            supports,
            hours,
        } => {
            let grant = Grant {
                role: role.into(),
                person,
                site,
                supports,
            };
            let (code, expires_at) = admin::create_invite(data, &coop, &grant, hours)?;
            writeln!(out, "join code:    {code}")?;
            writeln!(
                out,
                "code expires: {} (one-time use)",
                unix_to_utc(expires_at)
            )?;
        }
        AdminCommand::Devices { coop, format } => {
            let devices = admin::list_devices(data, &coop)?;
            match format {
                Format::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&logbook_protocol::DevicesResponse { devices })?
                )?,
                Format::Text => {
                    writeln!(
                        out,
                        "{:<22} {:<12} {:<8} {:<20} {:<20} name",
                        "device", "role", "revoked", "created", "last seen"
                    )?;
                    for d in devices {
                        writeln!(
                            out,
                            "{:<22} {:<12} {:<8} {:<20} {:<20} {}",
                            d.device_id,
                            d.grant.role.as_str(),
                            if d.revoked { "yes" } else { "no" },
                            unix_to_utc(d.created_at),
                            d.last_seen_at
                                .map(unix_to_utc)
                                .unwrap_or_else(|| "-".into()),
                            d.name
                        )?;
                    }
                }
            }
        }
        AdminCommand::Revoke { device } => {
            admin::revoke_device(data, &device)?;
            writeln!(out, "revoked {device}")?;
        }
        AdminCommand::Backup { to } => {
            let info = admin::backup(sqlite_only(data, "backup")?, &to)?;
            writeln!(
                out,
                "backup written: {} ({} bytes)",
                to.display(),
                info.bytes
            )?;
            if let Some(g) = info.generation {
                writeln!(out, "log generation: {g}")?;
            }
        }
        AdminCommand::Restore { from } => {
            let data = sqlite_only(data, "restore")?;
            let info = admin::restore(&from, data)?;
            writeln!(out, "restored into:      {}", data.display())?;
            writeln!(out, "new log generation: {}", info.generation)?;
        }
        AdminCommand::NewGeneration => {
            let generation = admin::new_generation(data.clone())?;
            writeln!(out, "new log generation: {generation}")?;
        }
    }
    Ok(())
}

/// Backup and restore work on the SQLite data directory; a PostgreSQL
/// relay is backed up with PostgreSQL's own tools (docs/OPERATIONS-relay.md).
fn sqlite_only<'a>(
    data: &'a store::Database,
    command: &str,
) -> anyhow::Result<&'a std::path::Path> {
    match data {
        store::Database::Sqlite(dir) => Ok(dir),
        store::Database::Postgres(_) => anyhow::bail!(
            "admin {command} works on a SQLite data directory (--data); back up a PostgreSQL \
             relay with pg_dump or point-in-time recovery (docs/OPERATIONS-relay.md)"
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unix_times_print_as_utc() {
        assert_eq!(super::unix_to_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::unix_to_utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
