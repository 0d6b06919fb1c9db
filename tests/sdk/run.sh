#!/usr/bin/env bash
# The end-to-end test with the official Python SDK (issue 13, item 9), from the
# repository root or anywhere:
#
#     tests/sdk/run.sh
#
# 1. makes a virtual environment under target/sdk-venv (outside the Rust build,
#    like benches/compare) with the pinned SDK from PyPI (requirements.txt);
# 2. checks that tests/sdk/signer_vectors.json is still what that SDK's signer
#    gives (make_vectors.py --check), since the Rust signature tests use it;
# 3. builds examples/http_server, writes seeded records, a credentials file and
#    the cases (sdk_e2e.py setup) into a temporary directory;
# 4. answers every case with the project's own CLI over the same records: the
#    expected pages;
# 5. starts the server with --credentials, waits for its `listening on ADDR`
#    line, and runs sdk_e2e.py against it; the server is stopped on any exit.
#
# Prints `N passed, M failed` last and exits non-zero on any failure.
# SDK_E2E_KEEP=1 keeps the temporary directory (records, cases, server log).
set -euo pipefail

# The CLI that gives the expected pages; takes `--records FILE --queries FILE`.
IMAGES_GROUP="cargo run --quiet --bin images-group --"
SDK_VENV=target/sdk-venv
START_TIMEOUT=120 # seconds for the server's first line (a cold debug start on a busy machine)

cd "$(dirname "$0")/../.."
here=tests/sdk

work=$(mktemp -d "${TMPDIR:-/tmp}/sdk-e2e.XXXXXX")
server_pid=
cleanup() {
  status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    # It drains the requests in flight (none by now); do not wait forever.
    for _ in $(seq 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "${SDK_E2E_KEEP:-}" = 1 ] || [ "$status" != 0 ]; then
    echo "sdk e2e: files kept in $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Requests to the local server must not go to a proxy.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"
mkdir -p "$work/home"

if [ ! -x "$SDK_VENV/bin/python" ]; then
  python3 -m venv "$SDK_VENV"
fi
# Quiet and quick once installed; --disable-pip-version-check avoids a network
# round trip that is not needed.
"$SDK_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
# The SDK writes an application id under $HOME/.huaweicloud: keep it in the
# temporary directory (only for Python: cargo and rustup need the real HOME).
py() { HOME="$work/home" "$SDK_VENV/bin/python" "$@"; }

py "$here/make_vectors.py" --check

cargo build --quiet --example http_server
py "$here/sdk_e2e.py" setup "$work"
# shellcheck disable=SC2086 # IMAGES_GROUP is a command and its arguments
$IMAGES_GROUP --records "$(cat "$work/cases_records")" --queries "$work/queries.txt" >"$work/expected.ndjson"

# RUST_LOG=debug: the most the server logs, all of it checked for secrets.
RUST_LOG=debug "${CARGO_TARGET_DIR:-target}/debug/examples/http_server" --data-dir "$work/data" --addr 127.0.0.1:0 \
  --credentials "$work/credentials.json" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
addr=
for _ in $(seq $((START_TIMEOUT * 10))); do
  line=$(head -n 1 "$work/server.out" 2>/dev/null || true)
  case "$line" in
    "listening on "*)
      addr=${line#listening on }
      break
      ;;
  esac
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "sdk e2e: the server exited before listening:" >&2
    cat "$work/server.err" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "sdk e2e: no 'listening on' line from the server within ${START_TIMEOUT}s" >&2
  cat "$work/server.err" >&2
  exit 1
fi

py "$here/sdk_e2e.py" run "$work" "$addr"
