//! Ctrl-C: the first closes connections gracefully and stops; a second one aborts at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferrotcp_io::Runtime;

pub fn install(rt: &Runtime) -> Result<(), String> {
    let presses = Arc::new(AtomicUsize::new(0));
    let rt = rt.clone();
    ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("ferrotcp: closing connections (Ctrl-C again to abort)");
            let rt = rt.clone();
            std::thread::spawn(move || {
                rt.shutdown();
                std::process::exit(130);
            });
        } else {
            eprintln!("ferrotcp: aborting");
            rt.abort();
            std::process::exit(130);
        }
    })
    .map_err(|e| format!("installing the Ctrl-C handler: {e}"))
}
