//! Ctrl-C: the first closes connections gracefully and stops; a second one aborts at once.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ferrotcp_io::Runtime;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// A Ctrl-C (SIGINT/SIGTERM) arrived: the command should exit with status 130.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Best effort: a closed stderr must not kill the handler thread (eprintln! would panic).
fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

pub fn install(rt: &Runtime) -> Result<(), String> {
    let presses = Arc::new(AtomicUsize::new(0));
    let rt = rt.clone();
    ctrlc::set_handler(move || {
        INTERRUPTED.store(true, Ordering::SeqCst);
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            say("ferrotcp: closing connections (Ctrl-C again to abort)");
            let rt = rt.clone();
            std::thread::spawn(move || {
                rt.shutdown();
                std::process::exit(130);
            });
        } else {
            say("ferrotcp: aborting");
            rt.abort();
            std::process::exit(130);
        }
    })
    .map_err(|e| format!("installing the Ctrl-C handler: {e}"))
}
