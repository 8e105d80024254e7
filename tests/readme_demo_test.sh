#!/usr/bin/env bash
# The README's first command, scripts/demo.sh, on the binaries just built: it must print the per-minute
# table of the sales aggregation, with one row per window and category, well-formed, and with every sale
# counted once except those the generator reports as late by more than window + grace.
#
# Usage: tests/readme_demo_test.sh SOURCE_DIR
set -euo pipefail

SRC=${1:?usage: readme_demo_test.sh SOURCE_DIR}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-readme-demo.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail() {
  echo "readme_demo_test: FAIL: $*" >&2
  echo "--- demo output:" >&2
  cat "$TMP/out.txt" >&2 || true
  exit 1
}

EDDY_DEMO_SKIP_SETUP=1 EDDY_DEMO_DIR="$TMP/data" bash "$SRC/scripts/demo.sh" >"$TMP/out.txt" 2>&1 ||
  fail "scripts/demo.sh exited with $?"

generated=$(sed -n 's/^generated \([0-9]*\) sales (\([0-9]*\) late by more than window + grace).*/\1 \2/p' "$TMP/out.txt")
[[ -n "$generated" ]] || fail "no 'generated N sales (M late ...)' line"
read -r total late <<<"$generated"

grep -q '^date  *window  *category  *sales  *revenue$' "$TMP/out.txt" || fail "no table header"
# Rows: date, HH:MM-HH:MM, category, count, revenue with cents.
rows=$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}  [0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}  [a-z]+ +[0-9]+ +[0-9]+\.[0-9]{2}$' "$TMP/out.txt" || true)
table=$(awk '/^date  /{on=1; next} on' "$TMP/out.txt" | wc -l)
[[ "$rows" -eq "$table" ]] || fail "$table table rows, only $rows well-formed"
# 20,000 sales over 5 minutes in six categories: at least 5 windows x 6 categories.
[[ "$rows" -ge 30 ]] || fail "only $rows rows"
dups=$(awk '/^[0-9][0-9][0-9][0-9]-/{print $1, $2, $3}' "$TMP/out.txt" | sort | uniq -d | wc -l)
[[ "$dups" -eq 0 ]] || fail "$dups (window, category) pairs printed more than once: one final result per window expected"
counted=$(awk '/^[0-9][0-9][0-9][0-9]-/{s += $4} END {print s + 0}' "$TMP/out.txt")
[[ "$counted" -eq $((total - late)) ]] || fail "the table counts $counted sales, expected $total - $late late = $((total - late))"
zero=$(awk '/^[0-9][0-9][0-9][0-9]-/ && $4 > 0 && $5 <= 0' "$TMP/out.txt" | wc -l)
[[ "$zero" -eq 0 ]] || fail "$zero rows with sales but no revenue"
echo "readme_demo_test: ok ($rows rows, $counted of $total sales, $late late)"
