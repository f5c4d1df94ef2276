//! The harness: an emulator in the test process (its own runtime, so the test thread can
//! block on the `nomic-agent` child process), and a runner that checks every output for the
//! API key.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nomic_agent_emulator::{Emulator, EmulatorConfig, KeyConfig, RunningEmulator};
use serde_json::Value;

/// The key the tests use; it must never appear in any output.
pub const SECRET: &str = "npk_test_5EcReT_d0_n0t_pr1nt";
/// The user owning [`SECRET`].
pub const USER: &str = "tester";
/// Fast polling for a fast emulator (fractional seconds).
pub const FAST: [&str; 6] = [
    "--poll-initial",
    "0.01",
    "--poll-max",
    "0.05",
    "--followup-window",
    "5",
];

/// An emulator at 1/100 of real time that accepts only [`SECRET`].
pub struct Emu {
    pub emu: Option<RunningEmulator>,
    pub rt: tokio::runtime::Runtime,
    /// The working directory of every command (artifacts land here).
    pub dir: tempfile::TempDir,
}

impl Emu {
    pub fn start() -> Emu {
        Emu::with(|_| {})
    }

    pub fn with(tweak: impl FnOnce(&mut EmulatorConfig)) -> Emu {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let mut cfg = EmulatorConfig {
            time_scale: 0.01,
            include_default_key: false,
            keys: vec![KeyConfig {
                key: SECRET.into(),
                name: "test".into(),
                user: USER.into(),
                scopes: vec!["developer".into()],
            }],
            ..EmulatorConfig::default()
        };
        tweak(&mut cfg);
        let emu = rt.block_on(Emulator::start(cfg)).expect("emulator starts");
        Emu {
            emu: Some(emu),
            rt,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn emu(&self) -> &RunningEmulator {
        self.emu.as_ref().expect("running")
    }

    pub fn base_url(&self) -> String {
        self.emu().base_url()
    }

    /// `nomic-agent --base-url … --api-key … <fast polling> args…`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = bare(self.dir.path());
        c.args(["--base-url", &self.base_url(), "--api-key", SECRET]);
        c.args(FAST);
        c.args(args);
        c
    }

    /// Runs and checks the key is not in the output.
    pub fn run(&self, args: &[&str]) -> Out {
        Out::of(self.cmd(args))
    }

    /// Total API requests the emulator has seen.
    pub fn requests(&self) -> u64 {
        self.emu().counters().requests_per_route.values().sum()
    }

    /// Launches with `--no-wait` and returns the agent id.
    pub fn launch(&self, prompt: &str) -> String {
        let out = self.run(&["run", prompt, "--no-wait", "--json"]);
        out.code(0);
        out.json()["agentId"].as_str().expect("agentId").to_owned()
    }

    /// Runs a prompt to its end and returns the agent id.
    pub fn finished(&self, prompt: &str) -> String {
        let out = self.run(&["run", prompt, "--json"]);
        out.code(0);
        out.json()["agentId"].as_str().expect("agentId").to_owned()
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.shutdown());
        }
    }
}

/// The binary with a clean environment (no NOMIC_* from the machine running the tests).
pub fn bare(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nomic-agent"));
    c.current_dir(dir)
        .env_remove("NOMIC_BASE_URL")
        .env_remove("NOMIC_API_KEY")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    c
}

/// A finished command's output.
pub struct Out {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Runs `cmd` to completion; panics if the key appears anywhere in its output.
    pub fn of(mut cmd: Command) -> Out {
        let o = cmd.output().expect("nomic-agent runs");
        Out::from_output(o)
    }

    /// Like [`Out::of`], feeding `input` on stdin.
    pub fn with_stdin(mut cmd: Command, input: &str) -> Out {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nomic-agent starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        Out::from_output(child.wait_with_output().expect("nomic-agent ends"))
    }

    fn from_output(o: Output) -> Out {
        let out = Out {
            status: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        assert!(
            !out.stdout.contains(SECRET) && !out.stderr.contains(SECRET),
            "the API key leaked:\n{out}"
        );
        out
    }

    /// Asserts the exit code.
    pub fn code(&self, want: i32) -> &Out {
        assert_eq!(self.status, Some(want), "wrong exit code:\n{self}");
        self
    }

    /// stdout parsed as exactly one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{self}"))
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// The sample assets at the repository root.
pub fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets")
        .join(name)
}

/// The keys of a JSON object, sorted.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}
