#!/usr/bin/env bash
# The layering and the one write path, checked on the sources: dependencies point one way
# (adapters -> projections (reactors -> views) -> domain -> engine, and inside engine/ base <-
# calendar, base <- log <- views, log + calendar + crypto <- workflow, base <- crypto); only engine/
# appends to the log;
# engine/ names neither Italy nor HTTP nor Kafka. Usage: architecture_test.sh <source dir>
set -u
cd "$1" || exit 2
failures=0
fail() {
  echo "FAIL: $1"
  [ -n "${2:-}" ] && echo "$2" | sed 's/^/  /'
  failures=$((failures + 1))
}
sources() { find "$@" -name '*.h' -o -name '*.cpp' -o -name '*.in' 2>/dev/null; }

# Which folders a folder's code may include from (its own always).
check_includes() {  # check_includes <folder> <allowed prefix regex>
  local hits
  hits=$(sources "$1" | xargs grep -nE '#include "' | grep -vE "#include \"($2)" | grep -E '#include "(engine|domain|projections|adapters)/')
  [ -z "$hits" ] || fail "$1 includes what it may not (allowed: $2)" "$hits"
}
check_includes engine/base 'engine/base/'
check_includes engine/calendar 'engine/base/|engine/calendar/'
check_includes engine/log 'engine/base/|engine/log/'
check_includes engine/views 'engine/base/|engine/log/|engine/views/'
check_includes engine/workflow 'engine/base/|engine/log/|engine/calendar/|engine/crypto/|engine/workflow/'
check_includes engine/crypto 'engine/base/|engine/crypto/'
check_includes domain 'engine/|domain/'
check_includes projections/views 'engine/|domain/|projections/views/'
check_includes projections/reactors 'engine/|domain/|projections/'

# One write path: outside engine/, nothing calls the log's append functions.
hits=$(sources domain projections adapters | xargs grep -nE '(\.|->)(Append|AppendAsync)\(')
[ -z "$hits" ] || fail "code outside engine/ appends to the log (send a command instead)" "$hits"
# ... and nothing outside engine/workflow builds a raw append request.
hits=$(sources domain projections adapters | xargs grep -nE '\b(AppendRequest|NewEvent)\b')
[ -z "$hits" ] || fail "code outside engine/ builds raw appends (send a command instead)" "$hits"

# The generic core stays generic.
hits=$(sources engine | xargs grep -niE 'kafka|beast|boost/|comune|regione|italia|pagopa' | grep -v '^engine/calendar/.*Europe/Rome')
[ -z "$hits" ] || fail "engine/ names Italy, HTTP or Kafka" "$hits"

# Errors are values: no caller decides on an error's message text.
hits=$(sources engine domain projections adapters | xargs grep -nE 'message\(\)\.(find|rfind|starts_with|compare)|message\(\) ==')
[ -z "$hits" ] || fail "code branches on an error's message text (use its code and sub-code)" "$hits"

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "ok: layering, one write path, a generic engine, errors as values"
