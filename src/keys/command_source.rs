//! Runs a `[keys.environments.X] command`: `sh -c CMD` in the repository, no
//! stdin, a timeout, cancellation.
//!
//! What the environment holds is what the command printed before it exited.
//! A command may leave background processes behind that keep its pipes open
//! (and may go on writing): waiting for the pipes to close would hang the
//! check, and waiting "a while" loses or mixes output depending on timing.
//! So the pipes are read as they fill, drained once more when the command has
//! exited (everything it wrote is then in them), and closed; the command's
//! process group, background processes included, is then ended.

/// Standard output beyond this is an error: no environment prints 8 MB of variables.
const MAX_OUTPUT: usize = 8 << 20;
/// How much of standard error a note shows: its last lines, at most this many...
const STDERR_LINES: usize = 20;
/// ...and at most this many bytes.
const STDERR_BYTES: usize = 2048;

/// Runs `sh -c CMD` in `cwd` and returns its standard output; errors carry
/// why (exit status, timeout, cancellation) and the end of its standard
/// error, redacted.
#[cfg(unix)]
pub fn run_command(cmd: &str, cwd: &std::path::Path, timeout: std::time::Duration, cancel: Option<&std::sync::atomic::AtomicBool>) -> Result<String, String> {
    unix::run(cmd, cwd, timeout, cancel)
}

#[cfg(not(unix))]
pub fn run_command(_: &str, _: &std::path::Path, _: std::time::Duration, _: Option<&std::sync::atomic::AtomicBool>) -> Result<String, String> {
    Err("command sources need a Unix system (they run with `sh -c`)".into())
}

/// `why`, then the end of standard error: redacted as a whole first, so that
/// cutting it can never leave part of a key the redactor no longer recognises.
fn with_stderr(why: String, stderr: &[u8], earlier_cut: bool) -> String {
    let text = crate::secrets::redact(&String::from_utf8_lossy(stderr));
    let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return why;
    }
    let mut kept: Vec<String> = Vec::new();
    let mut bytes = 0;
    let mut cut = earlier_cut;
    for line in lines.iter().rev() {
        if kept.len() == STDERR_LINES || bytes >= STDERR_BYTES {
            cut = true;
            break;
        }
        let room = STDERR_BYTES - bytes;
        let line = if line.len() > room {
            cut = true;
            // The line's end, from a character boundary.
            let from = (line.len() - room..line.len()).find(|i| line.is_char_boundary(*i)).unwrap_or(line.len());
            format!("…{}", &line[from..])
        } else {
            line.to_string()
        };
        bytes += line.len();
        kept.push(line);
    }
    kept.reverse();
    let head = if cut { "stderr (its end; earlier output cut)" } else { "stderr" };
    format!("{why}; {head}: {}", kept.join(" | "))
}

#[cfg(unix)]
mod unix {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::{MAX_OUTPUT, with_stderr};

    /// Standard error kept while reading: its last bytes only (notes show less).
    const STDERR_KEPT: usize = 64 << 10;
    /// One drain reads at most this much: a pipe holds far less, and a
    /// background process writing without end must not keep the drain going.
    const DRAIN_LIMIT: usize = 4 << 20;

    /// One of the command's pipes, read without blocking.
    struct Stream<R> {
        pipe: Option<R>,
        data: Vec<u8>,
        /// Standard error keeps its end; standard output its start, up to the cap.
        keep_end: bool,
        /// Bytes were dropped (the start of standard error, or output past the cap).
        cut: bool,
    }

    impl<R: Read + AsRawFd> Stream<R> {
        fn new(pipe: Option<R>, keep_end: bool) -> Self {
            if let Some(p) = &pipe {
                // SAFETY: fcntl on a pipe descriptor this process owns; only its flags change.
                unsafe {
                    let fd = p.as_raw_fd();
                    let flags = libc::fcntl(fd, libc::F_GETFL);
                    libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
                }
            }
            Stream { pipe, data: Vec::new(), keep_end, cut: false }
        }

        /// Reads what is in the pipe now; closes it at its end or on an error.
        fn drain(&mut self) {
            let mut buf = [0u8; 16 << 10];
            let mut read = 0;
            while let Some(pipe) = self.pipe.as_mut() {
                match pipe.read(&mut buf) {
                    Ok(0) => self.pipe = None,
                    Ok(n) => {
                        self.keep(&buf[..n]);
                        read += n;
                        if read >= DRAIN_LIMIT {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                    Err(_) => self.pipe = None,
                }
            }
        }

        fn keep(&mut self, bytes: &[u8]) {
            self.data.extend_from_slice(bytes);
            if self.keep_end && self.data.len() > STDERR_KEPT {
                let over = self.data.len() - STDERR_KEPT;
                // Dropped up to a line's end: a line cut at its start could hold
                // the end of a key without the prefix the redactor looks for.
                let at = self.data[over..].iter().position(|b| *b == b'\n').map_or(self.data.len(), |p| over + p + 1);
                self.data.drain(..at);
                self.cut = true;
            } else if !self.keep_end && self.data.len() > MAX_OUTPUT {
                self.data.truncate(MAX_OUTPUT);
                self.cut = true;
            }
        }

        fn pollfd(&self) -> Option<libc::pollfd> {
            self.pipe.as_ref().map(|p| libc::pollfd { fd: p.as_raw_fd(), events: libc::POLLIN, revents: 0 })
        }
    }

    /// Waits up to `ms` for either pipe to have something, then drains both.
    fn pump<A: Read + AsRawFd, B: Read + AsRawFd>(out: &mut Stream<A>, err: &mut Stream<B>, ms: i32) {
        let mut fds: Vec<libc::pollfd> = [out.pollfd(), err.pollfd()].into_iter().flatten().collect();
        if fds.is_empty() {
            std::thread::sleep(Duration::from_millis(ms as u64));
        } else {
            // SAFETY: `fds` is a live array of `fds.len()` pollfd structs; poll only writes their `revents`.
            unsafe {
                libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms);
            }
        }
        out.drain();
        err.drain();
    }

    /// Whether the command has exited, without reaping it: a zombie leader
    /// keeps its process group id reserved, so ending the group afterwards
    /// cannot reach an unrelated process that was given the same number.
    fn exited(child: &Child) -> Result<bool, String> {
        // SAFETY: siginfo_t is plain data for which all zeroes is valid; waitid
        // writes into it and, with WNOWAIT, leaves the child waitable.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::waitid(libc::P_PID, child.id() as libc::id_t, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT) };
        if rc != 0 {
            return Err(format!("waiting for the command failed: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: si_pid is set by waitid (0 when no child has changed state).
        Ok(unsafe { info.si_pid() } != 0)
    }

    /// Ends the command's process group (it was started as the group's leader), then reaps it.
    fn end_group(child: &mut Child) -> Option<std::process::ExitStatus> {
        // SAFETY: kill(2) with a negative pid signals the process group the
        // child leads; the child is not reaped yet, so the group id is still its own.
        unsafe {
            libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
        }
        child.wait().ok()
    }

    pub fn run(cmd: &str, cwd: &Path, timeout: Duration, cancel: Option<&AtomicBool>) -> Result<String, String> {
        let mut command = Command::new("sh");
        command.arg("-c").arg(cmd).current_dir(cwd).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().map_err(|e| format!("cannot start `sh`: {e}"))?;
        let mut out = Stream::new(child.stdout.take(), false);
        let mut err = Stream::new(child.stderr.take(), true);
        let start = Instant::now();
        loop {
            pump(&mut out, &mut err, 10);
            let done = match exited(&child) {
                Ok(done) => done,
                Err(e) => {
                    end_group(&mut child);
                    return Err(e);
                }
            };
            if done {
                // Everything the command wrote is in the pipes now: take it, then stop listening.
                out.drain();
                err.drain();
                let status = end_group(&mut child);
                if out.cut {
                    return Err(format!("printed more than {} MB", MAX_OUTPUT >> 20));
                }
                return match status {
                    Some(s) if s.success() => Ok(String::from_utf8_lossy(&out.data).into_owned()),
                    Some(s) => Err(with_stderr(format!("exited with {s}"), &err.data, err.cut)),
                    None => Err("its exit status could not be read".into()),
                };
            }
            let cancelled = cancel.is_some_and(|c| c.load(Ordering::Relaxed));
            if out.cut || start.elapsed() >= timeout || cancelled {
                end_group(&mut child);
                err.drain();
                let why = if cancelled {
                    "cancelled".to_string()
                } else if out.cut {
                    format!("printed more than {} MB and was killed", MAX_OUTPUT >> 20)
                } else {
                    format!("timed out after {} s and was killed", timeout.as_secs())
                };
                return Err(with_stderr(why, &err.data, err.cut));
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::keys::evaluate_tests::fake_key;

    fn run(cmd: &str, dir: &std::path::Path) -> Result<String, String> {
        run_command(cmd, dir, Duration::from_secs(10), None)
    }

    #[test]
    fn output_is_what_the_command_printed_before_it_exited() {
        let dir = tempfile::tempdir().unwrap();
        let key = fake_key("sk_test_");
        let start = Instant::now();
        let out = run(&format!("sleep 30 & echo STRIPE_SECRET_KEY={key}; echo PLAN=pro"), dir.path()).unwrap();
        assert_eq!(out, format!("STRIPE_SECRET_KEY={key}\nPLAN=pro\n"));
        // Held, it would run into the 10 s timeout (an error); the bound leaves room for a loaded machine.
        assert!(start.elapsed() < Duration::from_secs(8), "a background process held the check: {:?}", start.elapsed());

        // A background process that writes on and on neither holds the check nor adds to the output.
        let start = Instant::now();
        let pid = dir.path().join("pid");
        let out = run("(while :; do echo TICK=1; sleep 0.02; done) & echo $! > pid; sleep 0.1; echo A=1", dir.path()).unwrap();
        assert!(start.elapsed() < Duration::from_secs(8), "took {:?}", start.elapsed());
        // Lines the writer got in between the command's exit and its reaping may follow (a
        // loaded machine widens that window), but the output stops there.
        let after: Vec<&str> = out.lines().skip_while(|l| *l != "A=1").skip(1).collect();
        assert!(out.lines().any(|l| l == "A=1") && after.len() <= 5, "{out:?}");
        // What it printed after the command exited is not the command's.
        let out = run("(sleep 0.2; echo LATE=1) & echo A=1", dir.path()).unwrap();
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(out, "A=1\n");
        // The background processes were ended with the command (a zombie waiting for init is ended).
        let pid = std::fs::read_to_string(pid).unwrap().trim().to_string();
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            let state = stat.rsplit(") ").next().unwrap_or("").chars().next();
            assert_eq!(state, Some('Z'), "background process {pid} is still running: {stat}");
        }
    }

    #[test]
    fn commands_run_in_the_repo_and_fail_or_hang_clearly() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("marker"), "x").unwrap();
        let out = run("ls; echo A=1", dir.path()).unwrap();
        assert!(out.contains("marker") && out.contains("A=1"), "{out}");
        let key = fake_key("sk_live_");
        let err = run(&format!("echo 'boom {key}' >&2; exit 3"), dir.path()).unwrap_err();
        assert!(err.contains("exit status: 3") && err.contains("boom"), "{err}");
        assert!(!err.contains(&key) && err.contains("sk_live_…"), "stderr is redacted: {err}");
        let start = Instant::now();
        let err = run_command("echo partial; sleep 30", dir.path(), Duration::from_millis(300), None).unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(5), "the hung command was killed: {:?}", start.elapsed());
        let cancel = AtomicBool::new(true);
        assert!(run_command("sleep 30", dir.path(), Duration::from_secs(30), Some(&cancel)).unwrap_err().contains("cancelled"));
    }

    #[test]
    fn a_failing_command_s_stderr_is_redacted_then_cut_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let key = fake_key("sk_live_");
        // 30 numbered lines, the key on the last: the note keeps the last 20 and says so.
        let err = run(&format!("for i in $(seq 1 29); do echo \"E$i\" >&2; done; echo \"auth {key}\" >&2; exit 1"), dir.path()).unwrap_err();
        assert!(err.contains("earlier output cut"), "{err}");
        assert!(err.contains("E11 | E12") && err.contains("E29 | auth sk_live_…"), "{err}");
        assert!(!err.contains("E10 "), "{err}");
        assert!(!err.contains(&key) && !err.contains(&key[8..]), "{err}");
        // One endless line: its end, at most 2 KB, with a key that straddles the cut still redacted.
        let long = format!("{} {key} {}", "x".repeat(100), "y".repeat(STDERR_BYTES - key.len() + 5));
        let err = run(&format!("echo '{long}' >&2; exit 1"), dir.path()).unwrap_err();
        assert!(err.len() < STDERR_BYTES + 200 && err.contains("earlier output cut"), "{} bytes: {err}", err.len());
        assert!(!err.contains(&key[12..]), "{err}");
        // A short stderr is shown whole.
        let err = run("echo 'not logged in' >&2; exit 1", dir.path()).unwrap_err();
        assert!(err.ends_with("; stderr: not logged in"), "{err}");
    }
}
