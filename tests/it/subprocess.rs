//! Running helper programs from tests (Python, node): bounded waits, captured
//! output, and the directories they install into.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory, so `cargo clean` removes what tests install. A
/// relative CARGO_TARGET_DIR is taken from the repository root (joining an
/// absolute one replaces it).
pub fn target_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    repo().join(target)
}

/// Runs `cmd` with its output captured and kills it if it outlives `limit`.
/// Polls rather than blocks: the test server shares this test's runtime thread,
/// and the child may be talking to it.
pub async fn run_bounded(mut cmd: Command, limit: Duration) -> std::io::Result<Output> {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            // The pipes close with the child, unless it left children of its own holding them.
            tokio::time::sleep(Duration::from_millis(200)).await;
            panic!(
                "{what} did not finish within {limit:?} and was killed\n--- stdout\n{}\n--- stderr\n{}",
                finished_output(stdout),
                finished_output(stderr),
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    })
}

/// Reads a child's pipe to the end on its own thread, so a chatty child never blocks on a full pipe.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// What a drained pipe held, if it has been closed; never waits.
fn finished_output(reader: JoinHandle<Vec<u8>>) -> String {
    if reader.is_finished() {
        String::from_utf8_lossy(&reader.join().unwrap()).into_owned()
    } else {
        "(pipe still held open by a grandchild)".to_owned()
    }
}
