#!/usr/bin/env bash
# Runs one pytest suite on several databases at the same time and fails if any run failed.
#
#   scripts/test_suites.sh unit        sqlite postgres://... mysql://...
#   scripts/test_suites.sh integration postgres://... mysql://...
#
# Why at the same time: most of the suite's wall time is spent waiting (a live server, Chromium,
# database commits, Asterisk and sipp answering), not computing, so the runs overlap well even
# on 2 cores: run one after the other, the three unit suites took 54 min of CI's 64; together
# they take about as long as the slowest one. Each run writes its own log (they would interleave
# unreadably otherwise); a log is printed whole as soon as its run ends, with its exit status
# and wall time. The runs share nothing: each database server gets its own test database, the
# SQLite run a file of its own, and every live server, Asterisk and sipp picks a free port.
#
# PYTHON (default .venv/bin/python) and PYTEST_ARGS (extra arguments) come from the caller.
set -uo pipefail

kind=${1:?usage: test_suites.sh unit|integration DATABASE...}
shift
case $kind in
  unit) selection=(-m "not integration") ;;
  integration) selection=(-m integration -rfEs telephony/tests/integration) ;;
  *) echo "test_suites.sh: unknown suite '$kind' (unit or integration)" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || { echo "test_suites.sh: no database given" >&2; exit 2; }

python=${PYTHON:-.venv/bin/python}
logs=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$logs"' EXIT
# shellcheck disable=SC2206  # PYTEST_ARGS is a list of words on purpose
extra=(${PYTEST_ARGS:-})

run_on() {  # run_on DATABASE: the suite on one database, in the foreground
  if [ "$1" = sqlite ]; then
    env -u DATABASE_URL DEBUG=false SECRET_KEY=test "$python" -m pytest "${selection[@]}" "${extra[@]}"
  else
    env DATABASE_URL="$1" DEBUG=false SECRET_KEY=test "$python" -m pytest "${selection[@]}" "${extra[@]}"
  fi
}

if [ $# -eq 1 ]; then  # one database: its output live, as pytest prints it
  echo "=== $kind suite on $1 ==="
  run_on "$1"
  exit
fi

pids=() names=()
for db in "$@"; do
  i=${#pids[@]}
  run_on "$db" >"$logs/$i" 2>&1 &
  pids+=($!) names+=("$db")
  echo "=== $kind suite on $db started (pid $!) ==="
done

start=$(date +%s) failed=0 left=${#pids[@]}
declare -A done_
while [ "$left" -gt 0 ]; do
  wait -n "${pids[@]}" 2>/dev/null
  for i in "${!pids[@]}"; do
    [ -n "${done_[$i]:-}" ] && continue
    kill -0 "${pids[$i]}" 2>/dev/null && continue
    wait "${pids[$i]}"; rc=$?
    done_[$i]=1 left=$((left - 1))
    echo "=== $kind suite on ${names[$i]}: exit $rc after $(( $(date +%s) - start )) s ==="
    cat "$logs/$i"
    echo "=== end of $kind suite on ${names[$i]} (exit $rc) ==="
    [ "$rc" -eq 0 ] || failed=1
  done
done
exit $failed
