#!/usr/bin/env bash
# Vendor a corpus of real async Rust crates for stall's tests and benchmarks.
#
# usage: benches/vendor-corpus.sh [--force] [DEST]   (DEST defaults to /tmp/stall-corpus)
#
# Copies benches/corpus/Cargo.toml into DEST, adds a stub lib.rs and runs
# `cargo vendor --versioned-dirs vendor` there (needs crates.io). Nothing is
# built. Skips the vendoring when DEST/vendor already holds crates, unless
# --force is given. Prints the number of crates, .rs files and lines.
set -euo pipefail

force=0
dest=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option: $arg" >&2; exit 2 ;;
    *) [[ -z "$dest" ]] || { echo "only one DEST allowed" >&2; exit 2; }; dest="$arg" ;;
  esac
done
dest="${dest:-/tmp/stall-corpus}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$here/corpus/Cargo.toml"
[[ -f "$manifest" ]] || { echo "missing $manifest" >&2; exit 1; }

mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

have_crates() {
  [[ -d "$dest/vendor" ]] && [[ -n "$(find "$dest/vendor" -mindepth 1 -maxdepth 1 -type d -print -quit)" ]]
}

if have_crates && [[ $force -eq 0 ]]; then
  echo "corpus already vendored in $dest/vendor (use --force to redo)" >&2
else
  cp "$manifest" "$dest/Cargo.toml"
  [[ -f "$dest/lib.rs" ]] || printf '// stub: this package only exists to be vendored\n' > "$dest/lib.rs"
  rm -rf "$dest/vendor"
  echo "vendoring into $dest/vendor ..." >&2
  # cargo vendor prints the source-replacement config on stdout; keep it quiet.
  (cd "$dest" && cargo vendor --quiet --versioned-dirs vendor > .cargo-vendor-config.toml)
fi

crates=$(find "$dest/vendor" -mindepth 1 -maxdepth 1 -type d | wc -l)
rs_files=$(find "$dest/vendor" -type f -name '*.rs' | wc -l)
lines=$(find "$dest/vendor" -type f -name '*.rs' -print0 | xargs -0 cat | wc -l)
size=$(du -sh "$dest/vendor" | cut -f1)

echo "corpus:   $dest/vendor"
echo "crates:   $crates"
echo "rs files: $rs_files"
echo "lines:    $lines"
echo "size:     $size"
