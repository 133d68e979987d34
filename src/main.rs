//! The `latchkey` binary: parse the command line, start logging, dispatch.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use latchkey::cli::{Cli, Command, LogFormat, ServeArgs};
use latchkey::clock::SystemClock;
use latchkey::config::Config;
use latchkey::secret::Redacted;
use latchkey::service::bootstrap::{self, Bootstrap, ADMIN_USERNAME};
use latchkey::store::{Location, Store, DEFAULT_CACHE_BYTES};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    match cli.command {
        Command::Openapi => {
            println!("{}", latchkey::api::api_service().spec());
            ExitCode::SUCCESS
        }
        Command::Healthcheck(args) => match latchkey::healthcheck::check(args.bind) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("unhealthy: {e}");
                ExitCode::FAILURE
            }
        },
        Command::CheckStore(args) => match check_store(&args.data_dir) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("latchkey check-store: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Serve(args) => match serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("latchkey: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Opens the store at `dir` (never creating one) and checks its indexes.
fn check_store(dir: &std::path::Path) -> Result<String, String> {
    let location = Location::Dir(dir.to_owned());
    if location.is_new() {
        return Err(format!("there is no store in {}", dir.display()));
    }
    let store = Store::open(&location, DEFAULT_CACHE_BYTES).map_err(|e| e.to_string())?;
    let report = store.check_indexes().map_err(|e| e.to_string())?;
    let counts: Vec<String> = report
        .records
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    if report.problems.is_empty() {
        Ok(format!("consistent: {}", counts.join(", ")))
    } else {
        Err(format!(
            "{} problems ({}):\n{}",
            report.problems.len(),
            counts.join(", "),
            report.problems.join("\n")
        ))
    }
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_env("LATCHKEY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    // A bad seed file is refused before anything starts.
    let seed = match &args.seed {
        Some(path) => Some(Arc::new(latchkey::seed::load(path)?)),
        None => None,
    };
    let location = if args.ephemeral {
        Location::Ephemeral
    } else {
        Location::Dir(args.data_dir.clone())
    };
    let config = Config {
        public_url: args.public_url.clone(),
        basic_auth: !args.no_basic_auth,
        test_control: !args.no_test_control,
        journal_size: if args.no_test_control {
            0
        } else {
            args.journal_size
        },
        admin_password: args.admin_password.clone().map(Redacted::new),
        access_token_ttl: args.access_token_ttl,
        refresh_token_ttl: args.refresh_token_ttl,
        seed,
        ..Config::default()
    };
    // A first start hashes the bootstrap admin's password: begin now, so the
    // hash runs while the store is created and the server is built.
    let prepared = location.is_new().then(|| bootstrap::prepare(&config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let store = Store::open(&location, DEFAULT_CACHE_BYTES).map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
        let launched = latchkey::startup::launch_prepared(
            listener,
            store,
            prepared,
            Arc::new(SystemClock),
            config,
            latchkey::server::shutdown_signal(),
        )
        .await
        .map_err(|e| e.to_string())?;
        print_banner(&args, &location, launched.addr, &launched.bootstrap);
        launched
            .server
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    })
}

fn print_banner(
    args: &ServeArgs,
    location: &Location,
    addr: std::net::SocketAddr,
    bootstrap: &Bootstrap,
) {
    let base = args.public_url.clone().unwrap_or_else(|| {
        let shown = if addr.ip().is_unspecified() {
            std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
        } else {
            addr
        };
        format!("http://{shown}")
    });
    let data = match location {
        Location::Ephemeral => "ephemeral (deleted at exit)".to_string(),
        Location::Dir(d) => d.display().to_string(),
    };
    let admin = match bootstrap {
        Bootstrap::Existing => "existing users kept".to_string(),
        Bootstrap::CreatedWithGivenPassword => {
            format!("created user {ADMIN_USERNAME:?} with the password from --admin-password")
        }
        Bootstrap::CreatedWithSeededPassword => {
            format!("created user {ADMIN_USERNAME:?} with the password from the seed file")
        }
        Bootstrap::CreatedWithGeneratedPassword(pw) => format!(
            "username {ADMIN_USERNAME:?}  password {:?}  (generated; shown only this once)",
            pw.expose()
        ),
    };
    println!(
        "latchkey {} listening on {addr}\n  API         {base}/api/v1\n  Swagger UI  {base}/docs\n  data        {data}\n  admin       {admin}",
        env!("CARGO_PKG_VERSION")
    );
}
