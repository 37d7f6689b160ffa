#!/usr/bin/env bash
# The README's "Try it", run as written: its first block in one shell, its second in another once
# the first says it is serving. Only the address (a free port instead of 8080), the token file and
# the data directory are moved out of the way, and the endless live feed is cut after a moment.
# Usage: readme_test.sh <source dir> <build dir>
set -u
src=$1 build=$2
tmp=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/serve.out" ] && tail -20 "$tmp/serve.out"; exit 1; }

# The two code blocks after "Try it".
awk '/^Try it/{on=1} on && /^```$/{n++; next} on && n==1{print > "'"$tmp"'/block1"} on && n==3{print > "'"$tmp"'/block2"} n>=4{exit}' "$src/README.md"
[ "$(cat "$tmp/block1")" = "scripts/run" ] || fail "the first block is not 'scripts/run': $(cat "$tmp/block1")"
grep -q 'procedo token' "$tmp/block2" || fail "the second block makes no token"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PROCEDO_DATA_DIR=$tmp/data PROCEDO_HTTP_LISTEN=127.0.0.1:$port PROCEDO_LOG_SYNC=false
cd "$src" || exit 2
PROCEDO_RUN_PREBUILT=$build bash -c "$(cat "$tmp/block1")" >"$tmp/serve.out" 2>&1 &
server=$!
for _ in $(seq 1 200); do
  grep -q 'procedo: serving' "$tmp/serve.out" && break
  kill -0 "$server" 2>/dev/null || fail "scripts/run exited"
  sleep 0.1
done
grep -q 'procedo: serving' "$tmp/serve.out" || fail "the server never said it was serving"

# The second block, line by line as a shell reads it; the live feed runs for two seconds.
sed -e "s#localhost:8080#localhost:$port#g" -e "s#/tmp/token#$tmp/token#g" \
    -e "s#^build/bin/procedo#$build/bin/procedo#" -e "s#^curl -sN#timeout 2 curl -sN#" \
    "$tmp/block2" >"$tmp/block2.sh"
bash "$tmp/block2.sh" >"$tmp/out" 2>&1
grep -q '"type":"case.started"' "$tmp/out" || fail "start_case did not answer its event: $(head -c 600 "$tmp/out")"
grep -q '"state":"open"' "$tmp/out" || fail "the state is not open: $(head -c 600 "$tmp/out")"
grep -q '^event: case.started' "$tmp/out" || fail "the live feed did not show the case: $(tail -c 600 "$tmp/out")"

kill -TERM "$server"
wait "$server"
code=$?
[ "$code" -eq 0 ] || fail "the server exited with $code"
echo "ok: the README's Try it works as written"
