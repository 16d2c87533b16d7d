#!/usr/bin/env bash
# Run libFuzzer targets built by `make fuzz-build` (build-fuzz/fuzz_<name>).
# Usage: FUZZ_SECONDS=60 scripts/fuzz.sh hline psp qs table
#
# Each target runs for FUZZ_SECONDS on a scratch copy of its committed seed
# corpus (test/fuzz/corpus/<name>/), so the run never rewrites the
# repository; set FUZZ_MERGE=1 to merge new interesting inputs back into
# the committed corpus afterwards.  A crash leaves its reproducer in
# build-fuzz/ (<name>-crash-*, -leak-*, -timeout-*) and fails the run; fix
# it, add a test to the suite, and commit the input under
# test/fuzz/regressions/<name>/ (added to every later run's corpus).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
export LSAN_OPTIONS="suppressions=$ROOT/test/fuzz/lsan.supp:print_suppressions=0"
[ $# -gt 0 ] || set -- hline psp qs table
failed=()
for t in "$@"; do
    bin="build-fuzz/fuzz_$t"
    [ -x "$bin" ] || { echo "fuzz: $bin missing (make fuzz-build)" >&2; exit 2; }
    seeds="test/fuzz/corpus/$t"
    work="build-fuzz/corpus-$t"
    rm -rf "$work" && mkdir -p "$work"
    cp "$seeds"/* "$work"/ 2>/dev/null
    # inputs that once failed are always replayed first
    [ -d "test/fuzz/regressions/$t" ] && cp "test/fuzz/regressions/$t"/* "$work"/
    dict=()
    [ -f "test/fuzz/$t.dict" ] && dict=(-dict="test/fuzz/$t.dict")
    echo "fuzz: $t for ${SECONDS_EACH}s" >&2
    # -rss_limit_mb: the Python targets keep an interpreter alive
    "$bin" "${dict[@]}" -max_total_time="$SECONDS_EACH" -timeout=25 \
        -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="build-fuzz/$t-" \
        "$work" > "build-fuzz/$t.log" 2>&1
    rc=$?
    tail -20 "build-fuzz/$t.log" | grep -E "^(stat::|#[0-9]+.*DONE|Done)" >&2
    if [ $rc -ne 0 ]; then
        echo "fuzz: $t FAILED (exit $rc), see build-fuzz/$t.log:" >&2
        grep -E "ERROR|SUMMARY|Test unit written" "build-fuzz/$t.log" | head -5 >&2
        failed+=("$t")
    elif [ "${FUZZ_MERGE:-0}" = 1 ]; then
        "$bin" -merge=1 "$seeds" "$work" > "build-fuzz/$t-merge.log" 2>&1
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILURES: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: $* clean, ${SECONDS_EACH}s each" >&2
