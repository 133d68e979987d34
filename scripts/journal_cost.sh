#!/bin/bash
# Token issuance with and without the journal, same binary, same run (pinned as the load script).
set -e
BIN=${LATCHKEY_BIN:-target/release/latchkey}
for round in 1 2 3; do
for size in 1000 0; do
  D=$(mktemp -d); PORT=$((20000 + RANDOM % 20000))
  taskset -c 0 $BIN serve --bind 127.0.0.1:$PORT --data-dir $D --admin-password load-test-admin-password --journal-size $size --seed ../shared/bench/peers/latchkey-seed.toml >/dev/null 2>&1 &
  PID=$!
  for i in $(seq 1 200); do curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/ready 2>/dev/null | grep -q 200 && break; sleep 0.05; done
  cat > /tmp/tok.lua <<'L'
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&client_id=bench-client&client_secret=lk_cs_bench-secret-0123456789abcdef"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
L
  R=$(taskset -c 1 wrk -t1 -c32 -d6s -s /tmp/tok.lua http://127.0.0.1:$PORT/oauth/token | grep Requests/sec | awk '{print $2}')
  echo "round $round journal-size $size: token $R req/s"
  kill $PID; wait $PID 2>/dev/null || true; rm -rf $D
done
done
