//! A real PostgreSQL server for tests: a fresh cluster in a temporary
//! directory, on a free 127.0.0.1 port, stopped when the value is dropped.
//! `tools/test` installs the server from Debian's packages when it is missing.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

pub const ADMIN: &str = "bg_admin";
pub const ADMIN_PASSWORD: &str = "admin-Pw-4fQ9zX";

pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("BILLGUARD_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql (run tools/test, which installs them)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").is_file())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL server version under /usr/lib/postgresql/*/bin")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

impl PgServer {
    /// initdb + start. As root, the server runs as the `postgres` user, since
    /// PostgreSQL refuses to run as root.
    pub fn start() -> PgServer {
        let bin = bin_dir();
        let dir = tempfile::Builder::new().prefix("billguard-pg-").tempdir().unwrap();
        let as_postgres = is_root();
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, ADMIN_PASSWORD).unwrap();
        if as_postgres {
            let ok = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap();
            assert!(ok.success(), "chown of the cluster directory");
        }
        let server = PgServer { dir, bin, port: free_port(), as_postgres };
        let data = server.data();
        let data_s = data.to_str().unwrap().to_string();
        let pw_arg = format!("--pwfile={}", pwfile.display());
        server.run(
            "initdb",
            &["-D", &data_s, "-U", ADMIN, &pw_arg, "-A", "scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"],
        );
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            server.port,
            server.dir.path().display()
        );
        let log = server.dir.path().join("log");
        server.run("pg_ctl", &["-D", &data_s, "-o", &opts, "-l", log.to_str().unwrap(), "-w", "-t", "60", "start"]);
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).current_dir(self.dir.path()).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    pub fn url(&self, user: &str, password: &str, db: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }

    pub fn admin_url(&self, db: &str) -> String {
        self.url(ADMIN, ADMIN_PASSWORD, db)
    }

    /// Runs SQL as the superuser.
    pub fn sql(&self, db: &str, sql: &str) {
        let url = self.admin_url(db);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap_or_else(|e| panic!("{e}\n{sql}"));
            conn.close().await.unwrap();
        });
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-m", "immediate", "-w", "stop"]);
        }));
    }
}
