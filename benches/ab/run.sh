#!/bin/sh
# Usage: benches/ab/run.sh REV [RECORDS.ndjson [QUERIES.txt [PAIRS]]]
# Compares the crate at git revision REV with the working tree (README.md).
set -eu
root=$(git rev-parse --show-toplevel)
before="$root/target/ab-before"
data="$root/benches/compare/data"
git -C "$root" worktree remove --force "$before" 2>/dev/null || rm -rf "$before"
git -C "$root" worktree prune
git -C "$root" worktree add --detach "$before" "$1" >/dev/null
trap 'git -C "$root" worktree remove --force "$before"' EXIT
# Rename the package (not the library) so that cargo takes both versions.
sed -i 's/^name = "image-groups"$/name = "image-groups-before"/' "$before/Cargo.toml"
cargo build --release --quiet --manifest-path "$root/benches/ab/Cargo.toml"
"$root/benches/ab/target/release/image-groups-ab" \
  "${2:-$data/records-1000000-100000.ndjson}" "${3:-$data/queries.txt}" "${4:-12}"
