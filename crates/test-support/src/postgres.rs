//! The throwaway PostgreSQL server the `postgres` tests use: its address
//! comes from `REGISTRY_CREDENTIALS_PG_URL` (`.ci/postgres.sh setup` starts
//! one and prints it).
//!
//! Every test that needs the server is `#[ignore]`d with the reason
//! [`NEEDS_POSTGRES`], so a plain `cargo test` reports it as ignored,
//! never as passed. `--run-ignored only` (nextest) or `-- --include-ignored`
//! runs them; then a missing address is a panic that says what to set,
//! never a silent pass.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The variable that holds the server's address.
pub const URL_ENV: &str = "REGISTRY_CREDENTIALS_PG_URL";

/// Why the PostgreSQL tests are ignored by default; the `#[ignore = …]`
/// attributes repeat it (an attribute takes a literal only).
pub const NEEDS_POSTGRES: &str =
    "needs PostgreSQL: set REGISTRY_CREDENTIALS_PG_URL (.ci/postgres.sh setup starts one)";

/// The server's address.
///
/// # Panics
///
/// When `REGISTRY_CREDENTIALS_PG_URL` is missing or empty: a test that
/// needs the server runs only when asked for, and then it must not pass
/// without one.
pub fn url() -> String {
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{NEEDS_POSTGRES}"),
    }
}

/// A new, empty schema for one test, named after `name` (its first 30
/// letters and digits), the process and a counter, so that tests run side
/// by side on one database and never share tables.
///
/// # Panics
///
/// When the server cannot be reached or refuses the statement.
pub async fn fresh_schema(url: &str, name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let schema = format!(
        "t_{}_{}_{}",
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(30)
            .collect::<String>(),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .unwrap();
    drop(client);
    let _ = task.await;
    schema
}

/// A session of its own on `url`, for statements behind a store's back;
/// its connection runs on a task of its own until the client is dropped.
///
/// # Panics
///
/// When the server cannot be reached.
pub async fn session(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// `url` with `search_path` set to `schema`: every connection made with it
/// reads and writes that schema's tables.
pub fn url_in(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// [`url`] in a [`fresh_schema`] named after `name`.
///
/// # Panics
///
/// As [`url`] and [`fresh_schema`].
pub async fn fresh_url(name: &str) -> String {
    let url = url();
    let schema = fresh_schema(&url, name).await;
    url_in(&url, &schema)
}

/// A runtime for one test: two worker threads, I/O and timers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Of the `COMMIT`s the proxy forwards, one in this many has its answer
/// cut; as many again are cut before they reach the server.
pub const CUT_ONE_IN: u64 = 12;

/// A small deterministic generator (xorshift64*), seeded per task.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn draw(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// What the cutting proxy did.
#[derive(Default)]
pub struct ProxyCounts {
    /// `COMMIT`s seen.
    pub commits: AtomicU64,
    /// `COMMIT`s forwarded to the server, their answer cut.
    pub cut_after: AtomicU64,
    /// `COMMIT`s cut before the server had them.
    pub cut_before: AtomicU64,
}

/// Forwards one client connection to the server, cutting it at some
/// `COMMIT`s.
async fn pipe(client: TcpStream, server: SocketAddr, counts: Arc<ProxyCounts>, seed: u64) {
    let Ok(server) = TcpStream::connect(server).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let answers = {
        let cut = Arc::clone(&cut);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match from_server.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if cut.load(Ordering::SeqCst) || to_client.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        })
    };
    let mut rng = Rng(seed | 1);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from_client.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        if chunk.windows(7).any(|w| w == b"COMMIT\0") {
            counts.commits.fetch_add(1, Ordering::Relaxed);
            match rng.draw() % CUT_ONE_IN {
                0 => {
                    // The server gets the COMMIT; the client never hears.
                    cut.store(true, Ordering::SeqCst);
                    let _ = to_server.write_all(chunk).await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    counts.cut_after.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                1 => {
                    counts.cut_before.fetch_add(1, Ordering::Relaxed);
                    cut.store(true, Ordering::SeqCst);
                    break;
                }
                _ => {}
            }
        }
        if to_server.write_all(chunk).await.is_err() {
            break;
        }
    }
    answers.abort();
}

/// A proxy to `server` on a port of its own, which cuts some of the
/// connections through it at a `COMMIT` ([`CUT_ONE_IN`]): its address.
pub async fn proxy(server: SocketAddr, counts: Arc<ProxyCounts>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            n += 1;
            tokio::spawn(pipe(
                client,
                server,
                Arc::clone(&counts),
                n.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            ));
        }
    });
    addr
}

/// `url`, which names the server by its port on 127.0.0.1, through a new
/// [`proxy`] counting in `counts`.
pub async fn proxied(url: &str, counts: Arc<ProxyCounts>) -> String {
    let config: tokio_postgres::Config = url.parse().unwrap();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let server: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let via = proxy(server, counts).await;
    let proxied = url.replacen(&format!(":{port}/"), &format!(":{}/", via.port()), 1);
    assert_ne!(proxied, url, "the address names port {port}");
    proxied
}
