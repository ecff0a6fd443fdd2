#!/bin/sh
# validate-systemd-unit.sh UNIT EXEC_START BUILT_EIDERCTL
#
# Checks the configured systemd user unit: its ExecStart line is exactly
# EXEC_START (the installed eiderctl), and, when systemd-analyze is there,
# "systemd-analyze verify --user" accepts a copy of it that runs the
# eiderctl of the build tree (the installed one does not exist yet),
# without a single warning.
set -eu
unit=$1
exec_start=$2
built=$3

lines=$(grep -c '^ExecStart=' "$unit" || true)
if [ "$lines" != 1 ]; then
  echo "$unit: expected one ExecStart line, found $lines" >&2
  exit 1
fi
actual=$(sed -n 's/^ExecStart=//p' "$unit")
if [ "$actual" != "$exec_start" ]; then
  echo "$unit: ExecStart is “$actual”, expected “$exec_start”" >&2
  exit 1
fi

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze not found: only the ExecStart line was checked"
  exit 0
fi
if [ ! -x "$built" ]; then
  echo "$built is not built" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -m 700 "$work/run"
name=$(basename "$unit")
built_start=$(printf '%s' "$exec_start" | sed "s|^[^ ]*|$built|")
sed "s|^ExecStart=.*|ExecStart=$built_start|" "$unit" > "$work/$name"

# verify reports problems as warnings and still exits 0: any output fails.
if ! XDG_RUNTIME_DIR="$work/run" systemd-analyze verify --user "$work/$name" > "$work/log" 2>&1 ||
   [ -s "$work/log" ]; then
  cat "$work/log" >&2
  exit 1
fi
echo "$name: ExecStart=$exec_start; systemd-analyze verify --user: no warnings"
