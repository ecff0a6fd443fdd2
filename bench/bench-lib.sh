# bench/bench-lib.sh — what bench/run's rows share: measuring a command, the test server,
# Eider's state folders, restic and rclone, the corpora. Sourced by bench/run.
# shellcheck shell=bash disable=SC2154  # the settings come from bench/run

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now_ns() { date +%s%N; }
# calc EXPRESSION: bc's answer with its leading zero ("0.5", not ".5").
calc() { echo "$1" | bc -l | sed -e 's/^\./0./' -e 's/^-\./-0./'; }
secs_since() { calc "scale=2; ($(now_ns) - $1) / 1000000000"; }
wanted() { case ",$rows," in *",$1,"*) return 0 ;; esac; return 1; }

# record KEY TOOL VALUE: one measured figure; the table shows the median of each KEY/TOOL.
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }

# CPU seconds (user + system, every thread, reaped children too) of a live process.
proc_cpu() {
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  # shellcheck disable=SC2086  # split the fields on purpose
  set -- $stat
  calc "scale=3; (${12} + ${13} + ${14} + ${15}) / $clk_tck"
}

# measure KEY TOOL COMMAND…: runs COMMAND, records KEY.wall (s), KEY.cpu (user + system s)
# and KEY.rss (peak MB). Its output is in $work/last.out and last.err. With $procio set,
# COMMAND is run with the bench-procio preload and /proc/PID/io at its exit lands there.
measure() {
  local key=$1 tool=$2 start wall user sys rss
  shift 2
  local pre=()
  [ -n "${procio:-}" ] &&
    pre=(env "LD_PRELOAD=$build/bench/bench-procio.so" "EIDER_BENCH_PROCIO=$procio")
  start=$(now_ns)
  if ! /usr/bin/time -f '%U %S %M' -o "$work/time.out" "${pre[@]}" "$@" \
    >"$work/last.out" 2>"$work/last.err"; then
    log "FAILED ($key, $tool): $*"
    tail -n 5 "$work/last.err" "$work/last.out" >&2
    return 1
  fi
  wall=$(secs_since "$start")
  read -r user sys rss < <(tail -n 1 "$work/time.out")
  record "$key.wall" "$tool" "$wall"
  record "$key.cpu" "$tool" "$(calc "$user + $sys")"
  record "$key.rss" "$tool" "$(calc "scale=1; $rss / 1024")"
  log "  $tool: $wall s, $(calc "$user + $sys") CPU-s, $((rss / 1024)) MB peak"
}

# The test server --------------------------------------------------------------------------

server_has() { "$server" --help 2>&1 | grep -q -- "--$1"; }

# server_start DATA_DIR [OPTIONS…]: one server at a time, always on $port (the accounts'
# endpoint); its stats (when it can write them) go to $work/server-stats.json.
server_start() {
  local dir=$1
  shift
  local extra=()
  rm -f "$work/server-stats.json"
  [ -n "$has_stats" ] && extra+=(--stats-file "$work/server-stats.json")
  "$server" --listen "127.0.0.1:${port:-0}" --data-dir "$dir" --fixed-ott 123456 \
    --quota 1099511627776 "${extra[@]}" "$@" >"$work/server.out" 2>"$work/server.err" &
  spid=$!
  for _ in $(seq 200); do
    grep -q '^listening on ' "$work/server.out" && break
    kill -0 "$spid" 2>/dev/null || { cat "$work/server.err" >&2; return 1; }
    sleep 0.05
  done
  url=$(sed -n 's/^listening on //p' "$work/server.out")
  [ -n "$url" ]
  server_cpu0=$(proc_cpu "$spid")
}

# The server's CPU seconds since server_start.
server_cpu() { calc "$(proc_cpu "$spid") - $server_cpu0"; }

server_stop() {
  [ -n "${spid:-}" ] || return 0
  kill -TERM "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  spid=
}

# server_counts: "requests connections" of the server that just stopped: from its stats
# file, else requests from its --log-requests lines; n/a for what it could not tell.
server_counts() {
  if [ -s "$work/server-stats.json" ]; then
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
print(d.get("requests","n/a"), d.get("connections","n/a"))' "$work/server-stats.json"
  elif grep -q '^request ' "$work/server.err"; then
    echo "$(grep -c '^request ' "$work/server.err") n/a"
  else
    echo "n/a n/a"
  fi
}

# Eider's state -----------------------------------------------------------------------------

# eider STATE ARGS…: eiderctl on the state folder $work/STATE (config, data, server).
eider() {
  local state=$1
  shift
  EIDER_CONFIG_DIR="$work/$state/config" EIDER_DATA_DIR="$work/$state/data" "$ctl" "$@"
}

# The account is made once (Argon2id takes seconds); each run starts from a copy of the
# server's database and the account's config taken right after the sign-up.
make_template() {
  local t=$work/template
  rm -rf "$t"
  mkdir -p "$t"
  port=
  server_start "$t/server"
  port=${url##*:}
  eider template account signup --endpoint "$url" --email bench@example.org --request-code \
    >/dev/null 2>&1
  echo bench-password | eider template account signup --endpoint "$url" \
    --email bench@example.org --code 123456 --password-stdin \
    --recovery-words-file "$t/words" --store-secrets-in-file >/dev/null
  server_stop
}

# fresh_state STATE FOLDER…: a state folder with the account, an empty server, FOLDERs watched.
fresh_state() {
  local state=$1 f
  shift
  rm -rf "${work:?}/$state"
  mkdir -p "$work/$state"
  cp -a "$work/template/server" "$work/template/config" "$work/$state/"
  for f in "$@"; do
    eider "$state" watch add "$f" >/dev/null
  done
}

drop_state() { [ -n "$keep" ] || rm -rf "${work:?}/$1"; }

# eider_backup KEY STATE [SERVER OPTIONS…]: a measured `eiderctl backup --once`; also records
# KEY.scpu (the server's CPU), KEY.rchar, .read_bytes, .wchar, .write_bytes (/proc/PID/io at
# exit), and the store's KEY.txns and KEY.pages when eiderctl prints them.
eider_backup() {
  local key=$1 state=$2 rchar read_bytes wchar write_bytes txns pages
  shift 2
  server_start "$work/$state/server" "$@"
  procio=$work/procio
  rm -f "$procio"
  # The store's closing line is a debug message; not the engine's per-file ones.
  G_MESSAGES_DEBUG=${BENCH_DEBUG_DOMAINS:-eider-store eiderctl eider-service} \
    EIDER_CONFIG_DIR="$work/$state/config" EIDER_DATA_DIR="$work/$state/data" \
    measure "$key" eider "$ctl" backup --once || { procio=; server_stop; return 1; }
  procio=
  record "$key.scpu" eider "$(server_cpu)"
  server_stop
  read -r rchar read_bytes wchar write_bytes < <(/usr/bin/python3 "$bench_dir/bench-util.py" \
    procio "$work/procio")
  record "$key.rchar" eider "$rchar"
  record "$key.read_bytes" eider "$read_bytes"
  record "$key.wchar" eider "$wchar"
  record "$key.write_bytes" eider "$write_bytes"
  read -r txns pages < <(/usr/bin/python3 "$bench_dir/bench-util.py" storeline \
    "$work/last.out" "$work/last.err")
  record "$key.txns" eider "$txns"
  record "$key.pages" eider "$pages"
}

# restic and rclone -------------------------------------------------------------------------

# restic_backup KEY REPO DIR: a measured `restic backup` (the repository is made when missing).
restic_backup() {
  [ -n "$restic" ] || return 0
  local key=$1 repo=$2 dir=$3
  export RESTIC_PASSWORD=bench-password RESTIC_CACHE_DIR=$work/restic-cache
  [ -d "$repo" ] || RESTIC_REPOSITORY=$repo "$restic" init -q >/dev/null
  RESTIC_REPOSITORY=$repo measure "$key" restic "$restic" backup -q --host bench "$dir"
}

# rclone_copy KEY DIR: a measured `rclone copy` of DIR to a new local crypt remote.
rclone_copy() {
  [ -n "$rclone" ] || return 0
  local key=$1 dir=$2
  rm -rf "$work/rclone-dest"
  RCLONE_CONFIG_BENCHCRYPT_TYPE=crypt RCLONE_CONFIG_BENCHCRYPT_REMOTE="$work/rclone-dest" \
    RCLONE_CONFIG_BENCHCRYPT_PASSWORD=$rclone_password RCLONE_CONFIG=$work/rclone.conf \
    measure "$key" rclone "$rclone" copy "$dir" benchcrypt:
  rm -rf "$work/rclone-dest"
}

# The corpora -------------------------------------------------------------------------------

# seeded SEED BYTES: BYTES of a deterministic AES-128-CTR stream keyed by SEED.
seeded() {
  # head closes the pipe early: openssl's SIGPIPE is expected.
  { openssl enc -aes-128-ctr -pass "pass:$1" -nosalt -md sha256 </dev/zero 2>/dev/null || true; } |
    head -c "$2"
}

# make_corpus DIR MAKER ARGS…: DIR made by `MAKER DIR ARGS…` unless an earlier run finished it.
make_corpus() {
  local dir=$1 maker=$2
  shift 2
  [ -f "$dir/.done" ] && return 0
  log "making $dir ($maker $*)"
  rm -rf "$dir"
  mkdir -p "$dir"
  "$maker" "$dir" "$@"
  touch "$dir/.done"
}

# videos DIR N MIB: N distinct seeded files of MIB MiB that Eider takes as MP4 videos.
videos() {
  local i
  for i in $(seq -w 1 "$2"); do
    { printf '\x00\x00\x00\x20ftypisom'; seeded "eider-bench-$3-$i" $(($3 * 1048576 - 12)); } \
      >"$1/clip-$i.mp4"
  done
}

# tiny DIR N: N distinct tiny JPEGs, 100 a folder.
tiny() { /usr/bin/python3 "$bench_dir/bench-util.py" tiny "$1" "$2"; }

# photos DIR N: N distinct 800 × 600 JPEG photos (ImageMagick plasma, seeded), ~100 KB each.
photos() {
  seq -w 1 "$2" | xargs -P "$(nproc)" -I{} convert -seed 1{} -size 800x600 plasma: \
    -quality 90 "$1/IMG_{}.jpg"
}

# Start and end -----------------------------------------------------------------------------

bench_init() {
  server=$build/tests/server/eider-test-server
  ctl=$build/src/cli/eiderctl
  floor=$build/bench/bench-floor
  if ! [ -x "$server" ] || ! [ -x "$ctl" ] || ! [ -f "$build/bench/bench-procio.so" ]; then
    echo "bench/run: build Eider with tests first (tools/setup -Dtests=all, or drop --no-setup)" >&2
    exit 1
  fi
  [ -x "$floor" ] || { floor=; log "no $build/bench/bench-floor: the floor column is n/a"; }
  restic=$(command -v restic || true)
  rclone=$(command -v rclone || true)
  [ -n "$restic" ] || log "restic is not installed: its column is n/a"
  [ -n "$rclone" ] || log "rclone is not installed: its column is n/a"
  has_stats=
  server_has stats-file && has_stats=1
  has_latency=
  server_has latency-ms && has_latency=1
  [ -n "$has_stats" ] ||
    log "the test server has no --stats-file: requests counted from --log-requests, connections n/a"
  [ -n "$has_latency" ] || log "the test server has no --latency-ms: row 8 runs at 0 ms only"
  clk_tck=$(getconf CLK_TCK)

  # Eider talks to no session bus, no display and no dconf here: its own state only.
  unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY
  export GSETTINGS_BACKEND=keyfile

  mkdir -p "$work/corpus"
  work=$(cd "$work" && pwd)
  corpus=$work/corpus
  rm -rf "$work/run" "$work/template" "$work"/r[0-9]-* "$work"/restic-*
  mkdir -p "$work/run"
  results=$work/run/results.tsv
  : >"$results"
  : >"$work/rclone.conf"
  [ -n "$rclone" ] && rclone_password=$("$rclone" obscure bench-password)
  spid='' dpid='' procio=''
  log "work folder $work; $rounds round(s); tiny trees: $tiny_sizes"
  make_template
}

bench_cleanup() {
  if [ -n "${dpid:-}" ]; then
    kill -TERM "$dpid" 2>/dev/null || true
    wait "$dpid" 2>/dev/null || true
  fi
  server_stop
  if [ -z "$keep" ]; then
    rm -rf "${work:?}/template" "$work/restic-cache" "$work/rclone-dest"
    local d
    for d in "$work"/r[0-9]-* "$work"/restic-*; do rm -rf "$d"; done
  fi
}

# shellcheck source=bench/bench-rows.sh
. "$bench_dir/bench-rows.sh"
