//! A progress line on stderr for runs that take a while: nothing for the first `DELAY` (most
//! runs end before it), then `stall: checking 1234 files (5s)` redrawn in place until the run
//! ends, when the line is cleared. Only when stderr is a terminal: logs and pipes stay clean.

use std::io::{self, IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a run goes before it shows progress. `STALL_PROGRESS_DELAY_MS` overrides it (for
/// tests).
const DELAY: Duration = Duration::from_secs(2);

pub struct Progress {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the indicator for checking `files` files, if stderr is a terminal.
    pub fn start(files: usize) -> Progress {
        if !io::stderr().is_terminal() {
            return Progress { stop: None, thread: None };
        }
        let delay = std::env::var("STALL_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(DELAY, Duration::from_millis);
        let (stop, stopped) = mpsc::channel::<()>();
        let started = Instant::now();
        let draw = move |frame: usize| {
            let spinner = ['|', '/', '-', '\\'];
            let what = if files == 1 { "1 file".to_string() } else { format!("{files} files") };
            let line =
                format!("\r{} stall: checking {what} ({}s)", spinner[frame % 4], started.elapsed().as_secs());
            let mut err = io::stderr().lock();
            let _ = err.write_all(line.as_bytes()).and_then(|_| err.flush());
        };
        // Without a delay the line shows at once (and so surely).
        let mut i = 0;
        if delay.is_zero() {
            draw(i);
            i += 1;
        }
        let thread = std::thread::spawn(move || {
            let running =
                |waited: Result<(), RecvTimeoutError>| matches!(waited, Err(RecvTimeoutError::Timeout));
            let clear = || {
                let mut err = io::stderr().lock();
                let _ = err.write_all(b"\r\x1b[2K").and_then(|_| err.flush());
            };
            let shown = i > 0;
            if !running(stopped.recv_timeout(delay)) {
                if shown {
                    clear();
                }
                return;
            }
            loop {
                draw(i);
                i += 1;
                if !running(stopped.recv_timeout(Duration::from_millis(120))) {
                    clear();
                    return;
                }
            }
        });
        Progress { stop: Some(stop), thread: Some(thread) }
    }

    /// Stops the indicator and clears its line.
    pub fn finish(self) {
        drop(self);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
