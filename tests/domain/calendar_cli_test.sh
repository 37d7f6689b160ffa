#!/usr/bin/env bash
# `procedo calendar`: happy paths print hand-computed values; bad input is exit 2 with a message.
# Usage: calendar_cli_test.sh <procedo binary> <domain dir>
set -u
procedo=$1
export PROCEDO_DOMAIN_DIR=$2
export PROCEDO_SCHEMAS_DIR=$2/../schemas  # the closures are commands, checked against their schemas
failures=0

expect() {  # expect <expected stdout> <expected exit code> <stderr pattern or -> args...
  local want=$1 code=$2 pattern=$3
  shift 3
  local out err rc
  err=$(mktemp)
  out=$("$procedo" "$@" 2>"$err")
  rc=$?
  if [[ "$out" != "$want" || $rc -ne $code ]] || { [[ $pattern != - ]] && ! grep -q -- "$pattern" "$err"; }; then
    echo "FAIL: procedo $*"
    echo "  stdout '$out' (want '$want'), exit $rc (want $code), stderr: $(cat "$err")"
    failures=$((failures + 1))
  else
    echo "ok: procedo $* -> ${out:-exit $rc}"
  fi
  rm -f "$err"
}

# Thursday 08:00 + 30 business minutes on the help desk.
expect "2026-11-26T08:30:00+01:00" 0 - calendar deadline --calendar helpdesk \
  --from 2026-11-26T08:00:00+01:00 --add 30m
# Same instant given in UTC; 12:55 + 30m crosses the lunch break.
expect "2026-11-26T14:25:00+01:00" 0 - calendar deadline --calendar helpdesk \
  --from 2026-11-26T11:55:00Z --add 30m
# 3 business days from Friday 4 Dec 2026 in Milan: 7 (Sant'Ambrogio) and 8 Dec are holidays.
expect "2026-12-11T17:00:00+01:00" 0 - calendar deadline --calendar helpdesk --tenant comune-milano \
  --from 2026-12-04T10:00:00+01:00 --add 3bd
# 10 calendar days ending on Sunday 15 Nov 2026 move to Monday.
expect "2026-11-16T23:59:59.999999+01:00" 0 - calendar deadline --calendar support \
  --from 2026-11-05T10:00:00+01:00 --add 10d
# Friday 16:00 to Monday 09:00: 1 h + 1 h.
expect "7200" 0 - calendar elapsed --calendar helpdesk \
  --from 2026-11-27T16:00:00+01:00 --to 2026-11-30T09:00:00+01:00

expect "" 2 "unknown calendar 'nope'" calendar deadline --calendar nope \
  --from 2026-11-26T08:00:00+01:00 --add 30m
expect "" 2 "unknown tenant" calendar deadline --calendar helpdesk --tenant atlantide \
  --from 2026-11-26T08:00:00+01:00 --add 30m
expect "" 2 "RFC 3339" calendar deadline --calendar helpdesk --from "26/11/2026 08:00" --add 30m
expect "" 2 "bad term '30 minutes'" calendar deadline --calendar helpdesk \
  --from 2026-11-26T08:00:00+01:00 --add "30 minutes"
expect "" 2 "--to" calendar elapsed --calendar helpdesk --from 2026-11-26T08:00:00+01:00 \
  --to yesterday
# Past 2037, where Debian's tz files stop listing Rome's changes. Saturday 6 Nov 2038 counts as
# Monday 8 at 09:00 (the receipt rule), so 1bd ends on Tuesday 9 Nov at 17:00, in CET (DST ended
# on the last Sunday of October, the 31st).
expect "2038-11-09T17:00:00+01:00" 0 - calendar deadline --calendar helpdesk \
  --from 2038-11-06T10:00:00+01:00 --add 1bd
expect "2045-01-02T08:30:00+01:00" 0 - calendar deadline --calendar helpdesk \
  --from 2045-01-02T08:00:00+01:00 --add 30m
# Friday 26 Mar 2100, 16:00 + 2h: 1 h on Friday; Easter Sunday 28 Mar (also the DST change) and
# Easter Monday; 1 h on Tuesday 30 from 08:00 CEST.
expect "2100-03-30T09:00:00+02:00" 0 - calendar deadline --calendar helpdesk \
  --from 2100-03-26T16:00:00+01:00 --add 2h
expect "" 2 "2199-12-31" calendar deadline --calendar helpdesk \
  --from 2200-01-02T08:00:00+01:00 --add 30m
PROCEDO_DOMAIN_DIR=/nonexistent expect "" 1 "domain_dir" calendar deadline --calendar helpdesk \
  --from 2026-11-26T08:00:00+01:00 --add 30m

# Closures go to the log of a scratch data directory; "now" is today, so the dates are relative.
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export PROCEDO_DATA_DIR=$data
in_days() { date -d "+$1 days" +%F; }
expect_out() {  # expect_out <stdout substring> <expected exit code> <stderr pattern or -> args...
  local want=$1 code=$2 pattern=$3
  shift 3
  local out err rc
  err=$(mktemp)
  out=$("$procedo" "$@" 2>"$err")
  rc=$?
  if [[ "$out" != *"$want"* || $rc -ne $code ]] || { [[ $pattern != - ]] && ! grep -q -- "$pattern" "$err"; }; then
    echo "FAIL: procedo $*"
    echo "  stdout '$out' (want '$want' in it), exit $rc (want $code), stderr: $(cat "$err")"
    failures=$((failures + 1))
  else
    echo "ok: procedo $* -> exit $rc"
  fi
  rm -f "$err"
}
# A Wednesday at least 40 days ahead that no fixed holiday of Forli falls on (Easter Monday never
# does): a business day, so closing it moves deadlines.
n=40
while day=$(in_days $n); [[ $(date -d "$day" +%u) -ne 3 ]] ||
  [[ " 01-01 01-06 02-04 04-25 05-01 06-02 08-15 10-04 11-01 12-08 12-25 12-26 " == *" ${day:5} "* ]]; do
  n=$((n + 1))
done
expect_out '"type":"calendar.closure_announced"' 0 - calendar closure announce --calendar helpdesk \
  --tenant comune-forli --id patrono --from "$day" --to "$day" --reason "Chiusura per il patrono"
# The deadline with --closures skips the closed day.
base=$("$procedo" calendar deadline --calendar helpdesk --tenant comune-forli --from "${day}T08:00:00Z" --add 1bd)
with=$("$procedo" calendar deadline --calendar helpdesk --tenant comune-forli --from "${day}T08:00:00Z" --add 1bd --closures)
if [[ -z "$with" || "$with" == "$base" ]]; then
  echo "FAIL: --closures did not apply the closure of $day ($base / $with)"
  failures=$((failures + 1))
else
  echo "ok: calendar deadline --closures ($base without, $with with the closure of $day)"
fi
expect_out '' 2 "at least 5 days" calendar closure announce --calendar helpdesk \
  --tenant comune-forli --id urgente --from "$(in_days 2)" --to "$(in_days 2)" --reason "Guasto"
expect_out '' 2 "already used" calendar closure announce --calendar helpdesk \
  --tenant comune-forli --id patrono --from "$day" --to "$day" --reason "Di nuovo"
expect_out '' 2 "YYYY-MM-DD" calendar closure announce --calendar helpdesk \
  --tenant comune-forli --id x --from "domani" --to "$day" --reason "x"
expect_out '' 2 "no closure 'nope'" calendar closure cancel --calendar helpdesk \
  --tenant comune-forli --id nope
expect_out '"type":"calendar.closure_cancelled"' 0 - calendar closure cancel --calendar helpdesk \
  --tenant comune-forli --id patrono
expect_out '"stream":"calendar-comune-forli-helpdesk"' 0 - log read --stream calendar-comune-forli-helpdesk

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all calendar CLI checks passed"
