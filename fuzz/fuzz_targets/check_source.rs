//! Fuzzes the check of one source text: any input must come back as findings or nothing,
//! never a panic, a hang or a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let text = text.to_owned();
    // The CLI analyses on threads with this stack; so must the fuzzer.
    std::thread::Builder::new()
        .stack_size(stall::ANALYSIS_STACK)
        .spawn(move || {
            let _ = stall::check_source(&text, &stall::Place::default(), &stall::Options::default());
        })
        .expect("spawn")
        .join()
        .expect("check_source panicked");
});
