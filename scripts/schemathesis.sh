#!/usr/bin/env bash
# The project's own schemathesis run over the whole spec (issue 14): starts the
# release binary on 127.0.0.1 with a throwaway store, lets schemathesis generate
# requests for every operation for about 60 s (examples, coverage and fuzzing
# phases, as the admin), and fails on a 5xx, a broken connection, a status the
# operation does not declare, a wrong content type, or a body that is not what
# the spec says (every error the JSON error shape included). Queued faults
# (/api/v1/test/faults) are left out: a generated fault would make the server
# answer 5xx or drop connections on purpose for the rest of the run.
#
# usage: bash scripts/schemathesis.sh [SECONDS]      (after `cargo build --release`)
# env:   LATCHKEY_BIN (default target/release/latchkey), ST_VENV (default target/schemathesis-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LATCHKEY_BIN:-target/release/latchkey}
VENV=${ST_VENV:-target/schemathesis-venv}
SECONDS_BUDGET=${1:-60}
REQ=scripts/schemathesis-requirements.txt
say() { echo "[schemathesis] $*" >&2; }

[ -x "$BIN" ] || { say "no binary at $BIN: cargo build --release first"; exit 1; }
if [ ! -x "$VENV/bin/st" ] || ! cmp -s "$REQ" "$VENV/requirements.installed"; then
  say "installing schemathesis into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$VENV/requirements.installed"
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PASSWORD=schemathesis-admin-password
LOG=$(mktemp)
LATCHKEY_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" --ephemeral --admin-password "$PASSWORD" \
  >/dev/null 2>"$LOG" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 100); do
  if python3 - "$PORT" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/ready", timeout=1)
PY
  sleep 0.1
done

say "running for ${SECONDS_BUDGET} s against 127.0.0.1:$PORT"
status=0
timeout $((SECONDS_BUDGET + 120)) "$VENV/bin/st" run openapi/openapi.json \
  --url "http://127.0.0.1:$PORT" --auth "admin:$PASSWORD" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --mode all --phases examples,coverage,fuzzing --max-time "$SECONDS_BUDGET" --max-examples 50 \
  --request-timeout 10 --generation-database none --seed 1 --warnings off --no-color \
  --exclude-path-regex '^/api/v1/test/faults' || status=$?
if ! kill -0 "$SERVER" 2>/dev/null; then
  say "the server died during the run:"; tail -50 "$LOG" >&2; exit 1
fi
if grep -q -E "panicked|ERROR" "$LOG"; then
  say "the server logged errors:"; grep -E "panicked|ERROR" "$LOG" | head -20 >&2; exit 1
fi
exit "$status"
