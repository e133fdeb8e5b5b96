//! Drives `stall lsp` as an editor does: JSON-RPC with Content-Length framing over the real
//! binary's stdin and stdout. Every wait has a timeout, so a broken server fails the test
//! instead of hanging the suite.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use lsp_types::Url;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

const SLEEPY: &str = "async fn f() { std::thread::sleep(std::time::Duration::from_secs(1)); }\n";

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("stall"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start stall lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut reader) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let mut client = Client { child, stdin, incoming, next_id: 0 };
        let id =
            client.request("initialize", json!({"processId": null, "rootUri": null, "capabilities": {}}));
        let init = client.response(id);
        assert_eq!(init["capabilities"]["textDocumentSync"]["change"], 1, "{init}");
        assert!(init["capabilities"]["codeActionProvider"].is_object(), "{init}");
        let kinds = &init["capabilities"]["codeActionProvider"]["codeActionKinds"];
        assert_eq!(kinds, &json!(["quickfix", "source.fixAll"]), "{init}");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Reads messages until one matches; the others are dropped.
    fn wait_for(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(msg) if matches(&msg) => return msg,
                Ok(_) => {}
                Err(_) => panic!("no {what} within {WAIT:?}"),
            }
        }
    }

    fn response(&mut self, id: i64) -> Value {
        let msg = self.wait_for("response", |m| m["id"] == id && m.get("method").is_none());
        assert!(msg.get("error").is_none(), "{msg}");
        msg["result"].clone()
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &Url) -> Vec<Value> {
        let msg = self.wait_for("publishDiagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str()
        });
        msg["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn open(&mut self, uri: &Url, text: &str) {
        let doc = json!({"uri": uri, "languageId": "rust", "version": 1, "text": text});
        self.notify("textDocument/didOpen", json!({ "textDocument": doc }));
    }

    /// shutdown, exit, and the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let id = self.request("shutdown", Value::Null);
        self.response(id);
        self.notify("exit", Value::Null);
        drop(self.stdin);
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("stall lsp did not exit after `exit`");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn uri(path: &Path) -> Url {
    Url::from_file_path(path).unwrap()
}

/// Applies LSP text edits (UTF-16 positions) to a text.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |pos: &Value| -> usize {
        let line = pos["line"].as_u64().unwrap() as usize;
        let character = pos["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= character || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut spans: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| (offset(&e["range"]["start"]), offset(&e["range"]["end"]), e["newText"].as_str().unwrap()))
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (start, end, new) in spans {
        out.replace_range(start..end, new);
    }
    out
}

#[test]
fn diagnostics_code_action_and_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sleepy.rs");
    std::fs::write(&path, SLEEPY).unwrap();
    let uri = uri(&path);
    let mut client = Client::start();

    client.open(&uri, SLEEPY);
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "blocking-sleep");
    assert_eq!(d["source"], "stall");
    assert_eq!(d["severity"], 2);
    let start = SLEEPY.find("std::thread::sleep").unwrap();
    assert_eq!(d["range"]["start"], json!({"line": 0, "character": start}));
    assert_eq!(d["range"]["end"]["line"], 0);
    assert!(d["range"]["end"]["character"].as_u64().unwrap() > start as u64);
    // No link to a host that does not exist: `stall explain` prints the docs.
    assert!(d.get("codeDescription").is_none(), "{d}");
    let related = d["relatedInformation"].as_array().unwrap();
    assert!(related[0]["message"].as_str().unwrap().starts_with("help: "), "{related:?}");
    assert_eq!(related[0]["location"]["range"], d["range"]);

    let id = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let actions = client.response(id);
    let allow = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Allow blocking-sleep on this line: add `// stall: allow(blocking-sleep)`")
        .unwrap_or_else(|| panic!("no allow action in {actions}"));
    assert_eq!(allow["kind"], "quickfix");
    let edits = allow["edit"]["changes"][uri.as_str()].as_array().unwrap();
    let fixed = apply(SLEEPY, edits);
    assert_eq!(fixed, SLEEPY.replace("}\n", "} // stall: allow(blocking-sleep)\n"));

    // The suppression comment in the (unsaved) buffer silences the finding.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let after = client.diagnostics(&uri);
    assert_eq!(after, Vec::<Value>::new());

    client.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new());
    let status = client.stop();
    assert!(status.success(), "{status:?}");
}

/// A finding that needs the whole package: async code in `lib.rs` calls a sync fn in another
/// file that sleeps. Unsaved edits count: the buffer, not the file on disk, is checked.
#[test]
fn transitive_findings_come_from_the_package_with_unsaved_buffers() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"napper\"\nversion = \"0.1.0\"\n").unwrap();
    std::fs::create_dir(root.join("src")).unwrap();
    std::fs::write(
        root.join("src/util.rs"),
        "pub fn nap() {\n    std::thread::sleep(std::time::Duration::from_secs(1));\n}\n",
    )
    .unwrap();
    let lib = "mod util;\n\npub async fn run() {\n    util::nap();\n}\n";
    std::fs::write(root.join("src/lib.rs"), lib).unwrap();
    let uri = uri(&root.join("src/lib.rs"));
    let mut client = Client::start();

    client.open(&uri, lib);
    // The first publication may come from the file alone; the package's follows.
    let found =
        |ds: &[Value]| ds.iter().any(|d| d["code"] == "blocking-sleep" && d["range"]["start"]["line"] == 3);
    let mut diagnostics = client.diagnostics(&uri);
    if !found(&diagnostics) {
        diagnostics = client.diagnostics(&uri);
    }
    assert!(found(&diagnostics), "{diagnostics:?}");
    let notes = diagnostics[0]["relatedInformation"].to_string();
    assert!(notes.contains("note: `nap` calls `std::thread::sleep`"), "{notes}");

    // An unsaved edit that removes the call: the package run sees the buffer.
    let edited = lib.replace("    util::nap();\n", "");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new());
    assert!(client.stop().success());
}

/// Time from didOpen to the first diagnostics for it, after one warm-up document.
fn first_diagnostics_latency(client: &mut Client, dir: &Path, name: &str) -> Duration {
    let path = dir.join(name);
    std::fs::write(&path, SLEEPY).unwrap();
    let uri = uri(&path);
    let sent = Instant::now();
    client.open(&uri, SLEEPY);
    let diagnostics = client.diagnostics(&uri);
    let took = sent.elapsed();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    took
}

#[test]
fn first_diagnostics_arrive_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let mut client = Client::start();
    first_diagnostics_latency(&mut client, dir.path(), "warm.rs");
    let took = first_diagnostics_latency(&mut client, dir.path(), "second.rs");
    assert!(took < Duration::from_secs(1), "first diagnostics took {took:?}");
    assert!(client.stop().success());
}

/// Prints latencies; for the release build: `cargo test --release --test lsp -- --ignored --nocapture`.
/// Opens a file alone, and files of this repository (a package of a few hundred .rs files), whose first
/// diagnostics come from the file alone and the second from the package run.
#[test]
#[ignore]
fn measure_latency() {
    let dir = tempfile::tempdir().unwrap();
    let mut client = Client::start();
    first_diagnostics_latency(&mut client, dir.path(), "warm.rs");
    let mut alone: Vec<Duration> =
        (0..20).map(|i| first_diagnostics_latency(&mut client, dir.path(), &format!("f{i}.rs"))).collect();
    alone.sort();
    println!("file alone, first diagnostics: median {:?}, max {:?}", alone[10], alone[19]);

    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["linter/engine/mod.rs", "linter/semantic/resolve.rs", "linter/lsp.rs"] {
        let path = repo.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let uri = uri(&path);
        let sent = Instant::now();
        client.open(&uri, &text);
        client.diagnostics(&uri);
        let first = sent.elapsed();
        client.diagnostics(&uri);
        let package = sent.elapsed();
        println!("{file}: first diagnostics {first:?}, with the package run {package:?}");
        client.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
        client.diagnostics(&uri);
    }
    assert!(client.stop().success());
}

/// The README's Lua snippet that starts with `heading`, with `stall` replaced by this build.
fn readme_snippet(heading: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let at = readme.find(heading).unwrap_or_else(|| panic!("README: no {heading}"));
    let block = readme[at..].split("```lua\n").nth(1).unwrap().split("```").next().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("stall");
    block.replace(
        "cmd = { \"stall\", \"lsp\" }",
        &format!("cmd = {{ {:?}, \"lsp\" }}", bin.display().to_string()),
    )
}

/// The installed Neovim's (major, minor) version, if there is one.
fn neovim() -> Option<(u32, u32)> {
    let out = Command::new("nvim").arg("--version").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.lines().next()?.strip_prefix("NVIM v")?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

/// Opens a Rust file in headless Neovim with `init` as its init.lua and returns the
/// diagnostics it shows: `source|code|line|col` per line.
fn neovim_diagnostics(init: &str, wait: Duration) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"nv\"\nversion = \"0.1.0\"\n").unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    let file = dir.path().join("src/lib.rs");
    std::fs::write(&file, SLEEPY).unwrap();
    let out = dir.path().join("diagnostics.txt");
    std::fs::write(dir.path().join("init.lua"), init).unwrap();
    let script = dir.path().join("check.lua");
    std::fs::write(
        &script,
        r#"
local out = io.open(os.getenv("STALL_OUT"), "w")
local buf = vim.api.nvim_get_current_buf()
vim.wait(tonumber(os.getenv("STALL_WAIT_MS")), function() return #vim.diagnostic.get(buf) > 0 end, 20)
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local lsp = (d.user_data or {}).lsp or {}
  out:write(string.format("%s|%s|%d|%d\n", d.source, d.code or lsp.code, d.lnum, d.col))
end
out:close()
vim.lsp.stop_client(vim.lsp.get_active_clients())
vim.wait(5000, function() return #vim.lsp.get_active_clients() == 0 end, 20)
vim.cmd("qa!")
"#,
    )
    .unwrap();
    let mut nvim = Command::new("nvim")
        .args(["--headless", "-i", "NONE", "-n", "-u"])
        .arg(dir.path().join("init.lua"))
        .arg(&file)
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .current_dir(dir.path())
        .env("STALL_OUT", &out)
        .env("STALL_WAIT_MS", wait.as_millis().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while nvim.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = nvim.kill();
            panic!("nvim did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::read_to_string(&out).unwrap_or_default()
}

/// Neovim's own LSP client, configured with the README's snippets, starts `stall lsp` and shows
/// the diagnostics: the 0.7 form on any Neovim, the 0.8+ form on 0.8 and newer. Needs `nvim`
/// (CI installs it; `.ci/run` runs the ignored tests).
#[test]
#[ignore = "end to end with Neovim: `cargo test --test lsp -- --ignored`"]
fn neovim_shows_the_diagnostics_with_the_readme_snippets() {
    let version = neovim().expect("this test needs Neovim (`nvim`) on PATH");
    let start = SLEEPY.find("std::thread::sleep").unwrap();
    let expected = format!("stall|blocking-sleep|0|{start}\n");
    let snippet =
        |heading: &str, wait: u64| neovim_diagnostics(&readme_snippet(heading), Duration::from_secs(wait));
    assert_eq!(snippet("Neovim 0.7 (", 20), expected, "the 0.7 snippet");
    if version >= (0, 8) {
        assert_eq!(snippet("Neovim 0.8+ (", 20), expected, "the 0.8+ snippet");
    } else {
        // Neovim 0.7 has no `vim.lsp.start`: the 0.8 snippet shows nothing there.
        assert_eq!(snippet("Neovim 0.8+ (", 2), "", "the 0.8 snippet on {version:?}");
    }
}

/// In a package that uses tokio, `std::thread::sleep` has a fix; its code action applies it.
#[test]
fn a_fix_is_offered_as_the_preferred_action() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let manifest = "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\ntokio = { version = \"1\", features = [\"full\"] }\n";
    std::fs::write(root.join("Cargo.toml"), manifest).unwrap();
    std::fs::create_dir(root.join("src")).unwrap();
    let main = format!("{SLEEPY}\nfn main() {{}}\n");
    std::fs::write(root.join("src/main.rs"), &main).unwrap();
    let uri = uri(&root.join("src/main.rs"));
    let mut client = Client::start();

    client.open(&uri, &main);
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let id = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": diagnostics[0]["range"], "context": {"diagnostics": diagnostics}}),
    );
    let actions = client.response(id);
    let fix = &actions[0];
    assert_eq!(fix["isPreferred"], true, "{actions}");
    // The title says what changes.
    assert_eq!(
        fix["title"],
        "Replace `std::thread::sleep(std::time::Duration::from_secs(1))` with \
         `tokio::time::sleep(std::time::Duration::from_secs(1)).await`"
    );
    for a in actions.as_array().unwrap() {
        let title = a["title"].as_str().unwrap();
        assert_eq!(title.trim(), title, "padded title");
    }
    let fixed = apply(&main, fix["edit"]["changes"][uri.as_str()].as_array().unwrap());
    assert!(fixed.contains("tokio::time::sleep(std::time::Duration::from_secs(1)).await"), "{fixed}");

    // source.fixAll, as editors ask on save: every safe fix of the file in one edit.
    let twice =
        format!("{main}\nasync fn g() {{ std::thread::sleep(std::time::Duration::from_secs(2)); }}\n");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": twice}]}),
    );
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 9, "character": 0}});
    let id = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
    );
    let actions = client.response(id);
    let all = actions.as_array().unwrap();
    assert_eq!(all.len(), 1, "{actions}");
    assert_eq!(all[0]["kind"], "source.fixAll");
    assert_eq!(all[0]["title"], "Apply 2 safe stall fixes in this file");
    let fixed = apply(&twice, all[0]["edit"]["changes"][uri.as_str()].as_array().unwrap());
    assert!(!fixed.contains("std::thread::sleep"), "{fixed}");
    assert!(fixed.contains("tokio::time::sleep(std::time::Duration::from_secs(2)).await"), "{fixed}");
    // Quick fixes only: no fix-all.
    let id = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": [], "only": ["quickfix"]}}),
    );
    assert_eq!(client.response(id), json!([]));
    assert!(client.stop().success());
}
