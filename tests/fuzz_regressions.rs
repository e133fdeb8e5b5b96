//! Inputs kept from fuzzing (`fuzz/regressions/`): each must be checked without a panic.

#[test]
fn fuzz_finds_stay_fixed() {
    let mut checked = 0;
    for entry in std::fs::read_dir("fuzz/regressions").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let Ok(text) = String::from_utf8(bytes) else { continue };
        let outcome = std::thread::Builder::new()
            .stack_size(stall::ANALYSIS_STACK)
            .spawn(move || stall::check_source(&text, &stall::Place::default(), &stall::Options::default()))
            .unwrap()
            .join();
        assert!(outcome.is_ok(), "{} panics", path.display());
        checked += 1;
    }
    assert!(checked > 0);
}
