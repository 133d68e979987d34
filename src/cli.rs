//! Command line: `serve`, `openapi`, `healthcheck`. Every flag is also an
//! environment variable `LATCHKEY_*`, which is how the Docker image is configured.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)] // no Debug: may hold --admin-password
#[command(
    name = "latchkey",
    version,
    about = "A dev/test identity provider: API keys, OAuth 2.0 clients and tokens, Basic logins."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log line format on stderr.
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
    /// Exit 0 if a server answers 200 on /ready, 1 otherwise (for images without curl).
    Healthcheck(HealthcheckArgs),
    /// Check a stopped server's store: it opens, every record decodes, and the
    /// indexes (usernames, API-key hashes, owners) agree with the records.
    /// Exit 0 when consistent, 1 otherwise.
    CheckStore(CheckStoreArgs),
}

#[derive(Debug, Args)]
pub struct CheckStoreArgs {
    /// Directory of the database (as given to `serve --data-dir`).
    #[arg(long, env = "LATCHKEY_DATA_DIR", default_value = "latchkey-data")]
    pub data_dir: PathBuf,
}

#[derive(Args)] // no Debug: holds --admin-password
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "LATCHKEY_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Directory of the database; created if missing.
    #[arg(
        long,
        env = "LATCHKEY_DATA_DIR",
        default_value = "latchkey-data",
        conflicts_with = "ephemeral"
    )]
    pub data_dir: PathBuf,
    /// Use a temporary database that is deleted at exit.
    #[arg(long, env = "LATCHKEY_EPHEMERAL")]
    pub ephemeral: bool,
    /// Public base URL (issuer and links), e.g. https://auth.example.test; default: derived from each request.
    #[arg(long, env = "LATCHKEY_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// Password of the `admin` user made on first start; default: random, printed once.
    #[arg(long, env = "LATCHKEY_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Access-token lifetime in seconds for clients that do not set their own (1 s to 30 days).
    #[arg(long, env = "LATCHKEY_ACCESS_TOKEN_TTL", default_value_t = crate::config::DEFAULT_ACCESS_TOKEN_TTL, value_parser = parse_ttl)]
    pub access_token_ttl: i64,
    /// Refresh-token lifetime in seconds (1 s to a year); every rotation starts a new one.
    #[arg(long, env = "LATCHKEY_REFRESH_TOKEN_TTL", default_value_t = crate::config::DEFAULT_REFRESH_TOKEN_TTL, value_parser = parse_refresh_ttl)]
    pub refresh_token_ttl: i64,
    /// A TOML file of users, scopes, clients and API keys with fixed secrets, applied at every start (idempotent).
    #[arg(long, env = "LATCHKEY_SEED")]
    pub seed: Option<PathBuf>,
    /// Refuse `Authorization: Basic` on the API.
    #[arg(long, env = "LATCHKEY_NO_BASIC_AUTH")]
    pub no_basic_auth: bool,
    /// Turn off test control (`/api/v1/test`: the clock, minted tokens): it answers 404.
    #[arg(long, env = "LATCHKEY_NO_TEST_CONTROL")]
    pub no_test_control: bool,
    /// Requests each realm's journal keeps for test control (0: record none).
    #[arg(long, env = "LATCHKEY_JOURNAL_SIZE", default_value_t = crate::config::DEFAULT_JOURNAL_SIZE)]
    pub journal_size: usize,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The server's listen address (as given to `serve --bind`); 0.0.0.0 and :: mean this host.
    #[arg(long, env = "LATCHKEY_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
}

fn parse_ttl(s: &str) -> Result<i64, String> {
    let n: i64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    crate::domain::client::check_ttl(n)?;
    Ok(n)
}

fn parse_refresh_ttl(s: &str) -> Result<i64, String> {
    let n: i64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if (1..=crate::config::MAX_REFRESH_TOKEN_TTL).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "must be between 1 and {} seconds",
            crate::config::MAX_REFRESH_TOKEN_TTL
        ))
    }
}

/// `http(s)://host[:port][/path]`, stored without a trailing slash.
fn parse_public_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("must name a host".into());
    }
    if s.contains(['?', '#', ' ']) {
        return Err("must not contain a query, fragment or space".into());
    }
    Ok(s.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_checked_and_trimmed() {
        assert_eq!(
            parse_public_url("https://a.test/").unwrap(),
            "https://a.test"
        );
        assert_eq!(
            parse_public_url("http://127.0.0.1:9/x").unwrap(),
            "http://127.0.0.1:9/x"
        );
        assert!(parse_public_url("ftp://a").is_err());
        assert!(parse_public_url("https://").is_err());
        assert!(parse_public_url("https://a.test/?x=1").is_err());
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn ephemeral_and_data_dir_conflict() {
        let r = Cli::try_parse_from(["latchkey", "serve", "--ephemeral", "--data-dir", "x"]);
        assert!(r.is_err());
    }
}
