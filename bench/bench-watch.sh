#!/usr/bin/env bash
# bench-watch.sh SERVER EIDERCTL [FILES]
# eiderctl daemon watching FILES (default 100000) files in 1000 folders:
# prints the new-file latency (a photo closed → its "uploaded" line, which
# includes the 1 s quiet period and the upload itself) and the daemon's
# wake-ups per minute while idle (context switches of all its threads).
# Figures only: nothing here passes or fails on time.
set -euo pipefail
server=$1 ctl=$2 files=${3:-100000}
work=$(mktemp -d)
trap 'kill "$dpid" "$spid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
dpid=0

"$server" --listen 127.0.0.1:0 --data-dir "$work/server" --fixed-ott 123456 >"$work/out" 2>/dev/null &
spid=$!
for _ in $(seq 100); do grep -q listening "$work/out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/out")
export EIDER_CONFIG_DIR="$work/config" EIDER_DATA_DIR="$work/data"
"$ctl" account signup --endpoint "$url" --email watch@example.org --request-code >/dev/null 2>&1
echo bench-password | "$ctl" account signup --endpoint "$url" --email watch@example.org --code 123456 \
  --password-stdin --recovery-words-file "$work/words" --store-secrets-in-file >/dev/null 2>&1

# Many files the engine records and skips (empty), in 1000 folders.
tree="$work/Library"
per=$(( (files + 999) / 1000 ))
for d in $(seq 1 1000); do
  mkdir -p "$tree/d$d"
  (cd "$tree/d$d" && seq 1 "$per" | sed 's/$/.jpg/' | xargs touch)
done
"$ctl" watch add "$tree" >/dev/null

"$ctl" daemon >"$work/daemon.log" 2>&1 &
dpid=$!
# The first pass records every file; wait until it is idle.
for _ in $(seq 600); do
  grep -q "Eider is running" "$work/daemon.log" && [ "$("$ctl" status --json | grep -c '"pending" : 0')" = 1 ] && break
  sleep 1
done
sleep 3

sum=0; n=5
for i in $(seq 1 $n); do
  convert -size 64x64 "xc:rgb($((i*40)),80,120)" "$work/photo.jpg"
  start=$(date +%s%N)
  cp "$work/photo.jpg" "$tree/d1/new-$i.jpg"
  until grep -q "uploaded.*new-$i.jpg" "$work/daemon.log"; do sleep 0.02; done
  end=$(date +%s%N)
  sum=$(( sum + (end - start) / 1000000 ))
done
printf 'new-file latency (close → uploaded, incl. the 1 s quiet period): %d ms on average over %d files\n' \
  $(( sum / n )) "$n"

sleep 5
# Every main-loop iteration of every thread polls: count those over a minute.
timeout 60 strace -f -qq -e trace=poll,ppoll -o "$work/polls" -p "$dpid" 2>/dev/null || true
printf 'idle with %d files in 1000 folders watched: %d main-loop wake-ups in 60 s (all threads)\n' \
  "$files" "$(grep -c -E 'poll\(' "$work/polls" || true)"
