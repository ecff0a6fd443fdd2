#!/usr/bin/env bash
# bench-backup.sh SERVER EIDERCTL [MiB]
# Backs up SIZE MiB (default 1024: eight 128 MiB videos) to a local
# eider-test-server with eiderctl, and prints throughput and eiderctl's peak
# RSS. Figures only: nothing here passes or fails on time.
set -euo pipefail
server=$1 ctl=$2 size=${3:-1024}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$server" --listen 127.0.0.1:0 --data-dir "$work/server" --fixed-ott 123456 >"$work/out" 2>/dev/null &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/out")
export EIDER_CONFIG_DIR="$work/config" EIDER_DATA_DIR="$work/data"

"$ctl" account signup --endpoint "$url" --email bench@example.org --request-code >/dev/null 2>&1
echo bench-password | "$ctl" account signup --endpoint "$url" --email bench@example.org --code 123456 \
  --password-stdin --recovery-words-file "$work/words" --store-secrets-in-file >/dev/null

mkdir -p "$work/Videos"
n=$(( (size + 127) / 128 ))
for i in $(seq 1 "$n"); do
  { printf '\x00\x00\x00\x20ftypisom'; head -c $(( 128 * 1024 * 1024 - 12 )) /dev/urandom; } >"$work/Videos/clip-$i.mp4"
done
"$ctl" watch add "$work/Videos" >/dev/null

start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$work/rss" "$ctl" backup --once >/dev/null
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc -l)
mib=$(( n * 128 ))
printf 'backup of %d MiB (%d files) to the local server: %.1f s, %.1f MiB/s, eiderctl peak RSS %.1f MB\n' \
  "$mib" "$n" "$secs" "$(echo "$mib / $secs" | bc -l)" "$(echo "$(cat "$work/rss") / 1024" | bc -l)"

start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$work/rss2" "$ctl" backup --once >/dev/null
end=$(date +%s.%N)
printf 'second run (nothing to do, stats only): %.2f s, peak RSS %.1f MB\n' \
  "$(echo "$end - $start" | bc -l)" "$(echo "$(cat "$work/rss2") / 1024" | bc -l)"
