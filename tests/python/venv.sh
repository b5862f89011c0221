#!/usr/bin/env bash
# Creates (or reuses) a Python venv with pinned requirements:
#   tests/python/venv.sh DIR REQUIREMENTS
# Reused when DIR/.installed holds the same requirements; used by .ci/run and by the tests
# (tests/support/mod.rs) so both install exactly the same thing in the same place.
set -euo pipefail
dir=$1
reqs=$2
python=${PYTHON:-python3}
if [ -f "$dir/.installed" ] && cmp -s "$dir/.installed" "$reqs"; then
  exit 0
fi
rm -rf "$dir"
"$python" -m venv "$dir"
"$dir/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir -r "$reqs"
cp "$reqs" "$dir/.installed"
