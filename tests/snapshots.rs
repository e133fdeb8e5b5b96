//! Snapshot tests: the real binary's human and JSON output on each fixture directory.
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test`).

use assert_cmd::Command;

fn run(args: &[&str]) -> String {
    let out = Command::cargo_bin("stall").unwrap().args(args).env("NO_COLOR", "1").output().unwrap();
    let mut text = String::from_utf8(out.stdout).unwrap();
    text.push_str(&format!("--- exit code: {}\n", out.status.code().unwrap_or(-1)));
    text
}

macro_rules! snapshot_dir {
    ($($test:ident => $dir:literal,)*) => {$(
        #[test]
        fn $test() {
            let dir = concat!("fixtures/", $dir);
            insta::assert_snapshot!(concat!(stringify!($test), "_human"), run(&["check", "--color", "never", dir]));
            insta::assert_snapshot!(
                concat!(stringify!($test), "_json"),
                run(&["check", "--output-format", "json", dir])
            );
        }
    )*};
}

snapshot_dir! {
    blocking_sleep => "blocking-sleep",
    blocking_fs => "blocking-fs",
    blocking_net => "blocking-net",
    blocking_stdio => "blocking-stdio",
    blocking_process => "blocking-process",
    blocking_http => "blocking-http",
    blocking_db => "blocking-db",
    blocking_wait => "blocking-wait",
    block_on_in_async => "block-on-in-async",
    async_context => "async-context",
    resolve => "resolve",
    serial_await_loop => "serial-await-loop",
    serial_await_sequence => "serial-await-sequence",
    demo => "demo",
    transitive => "transitive",
    exposure => "exposure",
}
