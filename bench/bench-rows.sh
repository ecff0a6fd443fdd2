# bench/bench-rows.sh — the rows of bench/run (see its header). Sourced by bench-lib.sh.
# shellcheck shell=bash disable=SC2154  # the settings come from bench/run

# Row 1 (and 2): 1 GiB as many 5 MiB files and as a few 256 MiB files.
row1() {
  local shape n mib dir r bytes
  make_corpus "$corpus/small-$small_n-$small_mib" videos "$small_n" "$small_mib"
  make_corpus "$corpus/large-$large_n-$large_mib" videos "$large_n" "$large_mib"
  for shape in small large; do
    if [ "$shape" = small ]; then n=$small_n mib=$small_mib; else n=$large_n mib=$large_mib; fi
    record "r1.$shape.bytes" corpus $((n * mib * 1048576))
    record "r1.$shape.files" corpus "$n"
    cat "$corpus/$shape-$n-$mib"/* >/dev/null   # warm cache, for every program alike
  done
  for r in $(seq "$rounds"); do
    for shape in small large; do
      if [ "$shape" = small ]; then n=$small_n mib=$small_mib; else n=$large_n mib=$large_mib; fi
      dir=$corpus/$shape-$n-$mib
      log "row 1, round $r/$rounds: $n × $mib MiB"
      fresh_state r1-eider "$dir"
      eider_backup "r1.$shape" r1-eider
      drop_state r1-eider
      rm -rf "$work/restic-r1"
      restic_backup "r1.$shape" "$work/restic-r1" "$dir"
      rm -rf "$work/restic-r1"
      rclone_copy "r1.$shape" "$dir"
      if [ -n "$floor" ]; then
        measure "r1.$shape" floor "$floor" "$dir"/*
        bytes=$((n * mib * 1048576))
        grep -q "^floor: $bytes bytes" "$work/last.out" ||
          log "  bench-floor did not say 'floor: $bytes bytes': $(head -c 200 "$work/last.out")"
      fi
    done
  done
}

# Row 3: tiny files, first backup. The largest tree is backed up once (it takes longest)
# and its state is kept for rows 4–6; the smaller ones every round.
row3() {
  local sizes largest n r
  read -r -a sizes <<<"$tiny_sizes"
  largest=${sizes[-1]}
  for n in "${sizes[@]}"; do make_corpus "$corpus/tiny-$n" tiny "$n"; done
  for r in $(seq "$rounds"); do
    for n in "${sizes[@]}"; do
      [ "$n" = "$largest" ] && [ "$r" != 1 ] && continue
      log "row 3, round $r/$rounds: $n tiny files"
      if [ "$n" = "$largest" ]; then
        fresh_state r3-big "$corpus/tiny-$n"
        eider_backup "r3.$n" r3-big
        rm -rf "$work/restic-big"
        restic_backup "r3.$n" "$work/restic-big" "$corpus/tiny-$n"
      else
        fresh_state r3-eider "$corpus/tiny-$n"
        eider_backup "r3.$n" r3-eider
        drop_state r3-eider
        rm -rf "$work/restic-r3"
        restic_backup "r3.$n" "$work/restic-r3" "$corpus/tiny-$n"
        rm -rf "$work/restic-r3"
      fi
    done
  done
}

# The largest tiny tree, backed up (rows 4–6 start from it); made unmeasured when row 3 did
# not run.
big_tree() {
  local sizes
  read -r -a sizes <<<"$tiny_sizes"
  big_n=${sizes[-1]}
  big=$corpus/tiny-$big_n
  [ -d "$work/r3-big/data" ] && return 0
  make_corpus "$big" tiny "$big_n"
  log "backing up $big_n tiny files for rows 4–6 (not measured)"
  fresh_state r3-big "$big"
  server_start "$work/r3-big/server"
  eider r3-big backup --once >/dev/null
  server_stop
  if [ -n "$restic" ]; then
    rm -rf "$work/restic-big"
    export RESTIC_PASSWORD=bench-password RESTIC_CACHE_DIR=$work/restic-cache
    RESTIC_REPOSITORY=$work/restic-big "$restic" init -q >/dev/null
    RESTIC_REPOSITORY=$work/restic-big "$restic" backup -q --host bench "$big" >/dev/null
  fi
}

# Row 4: rescan of the unchanged tree.
row4() {
  local r
  big_tree
  record r4.files corpus "$big_n"
  for r in $(seq "$rounds"); do
    log "row 4, round $r/$rounds: rescan of $big_n files"
    eider_backup r4 r3-big
    restic_backup r4 "$work/restic-big" "$big"
    measure r4 find find "$big" -printf '%p %s %T@\n'
  done
  # Once more, untimed, under strace: which files of the tree does a rescan open?
  server_start "$work/r3-big/server"
  strace -f -qq --seccomp-bpf -e trace=open,openat,openat2 -o "$work/opens" \
    env EIDER_CONFIG_DIR="$work/r3-big/config" EIDER_DATA_DIR="$work/r3-big/data" \
    "$ctl" backup --once >/dev/null 2>&1 || true
  server_stop
  record r4.opened eider "$(grep -c "\"$big/[^\"]*\.jpg\"" "$work/opens" || true)"
}

# Row 5 and 6 share one daemon over the tree.
daemon_start() {
  server_start "$work/r3-big/server"
  EIDER_CONFIG_DIR="$work/r3-big/config" EIDER_DATA_DIR="$work/r3-big/data" \
    "$ctl" daemon >"$work/daemon.log" 2>&1 &
  dpid=$!
  # Wait until it runs, has walked the tree and has nothing left: its State is "idle".
  for _ in $(seq 1200); do
    if grep -q 'Eider is running' "$work/daemon.log" &&
      dbus-send --peer="unix:path=$work/r3-big/data/eider.sock" --print-reply \
        /io/github/eiderapp/Eider/Engine org.freedesktop.DBus.Properties.Get \
        string:io.github.eiderapp.Eider.Engine1 string:State 2>/dev/null | grep -q '"idle"' &&
      eider r3-big status --json 2>/dev/null | grep -q '"pending" : 0'; then
      return 0
    fi
    kill -0 "$dpid" 2>/dev/null || { cat "$work/daemon.log" >&2; return 1; }
    sleep 0.5
  done
  log "the daemon did not become idle"
  return 1
}

daemon_stop() {
  [ -n "$dpid" ] || return 0
  kill -TERM "$dpid" 2>/dev/null || true
  wait "$dpid" 2>/dev/null || true
  dpid=
  server_stop
}

# ctxsw PID: "TID N" per thread, N its voluntary + involuntary context switches.
ctxsw() {
  local status
  for status in /proc/"$1"/task/*/status; do
    awk '/^Pid:/ { tid = $2 } /^(non)?voluntary_ctxt_switches/ { n += $2 }
         END { if (tid != "") print tid, n + 0 }' "$status" 2>/dev/null || true
  done
}

# ctxsw_delta BEFORE AFTER: switches since BEFORE of the threads alive at AFTER (a thread
# that exited meanwhile takes its count with it; one that started counts whole).
ctxsw_delta() {
  awk 'NR == FNR { before[$1] = $2; next } { n += $2 - ($1 in before ? before[$1] : 0) }
       END { print n + 0 }' <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

row5() {
  local cpu0 sw0
  big_tree
  daemon_start
  sleep 3
  log "row 5: the daemon idle for $idle_s s over $big_n files"
  record r5.seconds corpus "$idle_s"
  record r5.files corpus "$big_n"
  cpu0=$(proc_cpu "$dpid")
  sw0=$(ctxsw "$dpid")
  # Every main-loop iteration of every thread polls: count those.
  timeout "$idle_s" strace -f -qq -e trace=poll,ppoll -o "$work/polls" -p "$dpid" \
    2>/dev/null || true
  record r5.cpu eider "$(calc "$(proc_cpu "$dpid") - $cpu0")"
  record r5.ctxsw eider "$(ctxsw_delta "$sw0" "$(ctxsw "$dpid")")"
  record r5.polls eider "$(grep -c -E 'poll\(' "$work/polls" || true)"
  record r5.rss eider "$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$dpid/status")"
  wanted 6 || daemon_stop
}

row6() {
  local start rec
  big_tree
  [ -n "$dpid" ] || daemon_start
  log "row 6: $latency_n new files, one at a time"
  while read -r start rec; do
    record r6.start eider "$start"
    record r6.record eider "$rec"
  done < <(/usr/bin/python3 "$bench_dir/bench-util.py" latency "$work/r3-big/data/eider.sock" \
    "$big/d0000" "$latency_n")
  rm -f "$big"/d0000/latency-*.jpg
  daemon_stop
}

# Row 7: one big file.
row7() {
  local dir=$corpus/big-$big_mib
  make_corpus "$dir" videos 1 "$big_mib"
  record r7.bytes corpus $((big_mib * 1048576))
  fresh_state r7-eider "$dir"
  log "row 7: one $big_mib MiB file"
  eider_backup r7 r7-eider
  drop_state r7-eider
}

# Row 8: small photos through a server answering after L ms.
row8() {
  local dir=$corpus/photos-$photos_n r lat opts requests connections
  make_corpus "$dir" photos "$photos_n"
  record r8.files corpus "$photos_n"
  for r in $(seq "$rounds"); do
    for lat in $latencies; do
      opts=()
      if [ -n "$has_latency" ]; then
        opts+=(--latency-ms "$lat")
      elif [ "$lat" != 0 ]; then
        continue
      fi
      [ -n "$has_stats" ] || opts+=(--log-requests)
      log "row 8, round $r/$rounds: $photos_n photos at $lat ms"
      fresh_state r8-eider "$dir"
      eider_backup "r8.$lat" r8-eider "${opts[@]}"
      read -r requests connections < <(server_counts)
      record "r8.$lat.requests" eider "$requests"
      record "r8.$lat.connections" eider "$connections"
      drop_state r8-eider
    done
  done
}
