//! A real MariaDB server for tests: a fresh data directory in a temporary
//! directory, on a free 127.0.0.1 port, killed when the value is dropped.
//! `tools/test` installs it from Debian's packages when it is missing.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MariaServer {
    dir: tempfile::TempDir,
    child: Child,
    pub port: u16,
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

impl MariaServer {
    pub fn start() -> MariaServer {
        let dir = tempfile::Builder::new().prefix("billguard-mariadb-").tempdir().unwrap();
        let root = is_root();
        if root {
            assert!(Command::new("chown").args(["-R", "mysql:mysql"]).arg(dir.path()).status().unwrap().success());
        }
        let data = dir.path().join("data");
        let mut init = Command::new("mariadb-install-db");
        init.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if root {
            init.arg("--user=mysql");
        }
        let out = init.output().expect("mariadb-install-db (run tools/test, which installs mariadb-server)");
        assert!(out.status.success(), "mariadb-install-db: {}", String::from_utf8_lossy(&out.stderr));

        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = Command::new("mariadbd");
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", dir.path().join("sock").display()))
            .args(["--skip-log-bin", "--innodb-buffer-pool-size=32M", "--skip-name-resolve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if root {
            cmd.arg("--user=mysql");
        }
        let child = cmd.spawn().expect("start mariadbd");
        let server = MariaServer { dir, child, port };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = self.root_url("mysql");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        loop {
            let ok = rt.block_on(async {
                use sqlx::Connection;
                sqlx::MySqlConnection::connect(&url).await.is_ok()
            });
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "mariadbd did not accept connections within 60 s ({})", self.dir.path().display());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn url(&self, user: &str, password: &str, db: &str) -> String {
        format!("mysql://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }

    fn root_url(&self, db: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs SQL as root, one statement at a time.
    pub fn sql(&self, db: &str, statements: &[&str]) {
        let url = self.root_url(db);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
            for s in statements {
                sqlx::raw_sql(sqlx::AssertSqlSafe(s.to_string())).execute(&mut conn).await.unwrap_or_else(|e| panic!("{e}\n{s}"));
            }
            conn.close().await.unwrap();
        });
    }
}

impl Drop for MariaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
