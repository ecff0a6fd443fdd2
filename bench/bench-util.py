#!/usr/bin/python3
# bench/bench-util.py — the helpers of bench/run that are clearer in Python.
#
#   bench-util.py tiny DIR N [PER_FOLDER]   N distinct tiny JPEGs (a few hundred bytes each,
#                                           a seeded comment makes each one unique), PER_FOLDER
#                                           (default 100) to a folder: d0000/t000000.jpg …
#   bench-util.py procio FILE               "rchar read_bytes wchar write_bytes" from a copy of
#                                           /proc/PID/io
#   bench-util.py storeline FILE…           "transactions pages" from eiderctl's debug line
#                                           "store closed: N transactions, M pages written"
#                                           ("n/a n/a" when no file has it)
#   bench-util.py latency SOCKET DIR N      writes N new photos into DIR, one at a time, while a
#                                           daemon whose D-Bus socket is SOCKET watches it; prints
#                                           for each "START_MS RECORD_MS": close → FileStarted and
#                                           close → FileFinished (uploaded)
#   bench-util.py table RESULTS [NOTE]      the markdown table: medians of every figure in
#                                           RESULTS (lines "key<TAB>tool<TAB>value"), under NOTE
#
# Run with Debian's python (/usr/bin/python3): the latency command needs python3-gi.
import os
import re
import statistics
import sys
import time

# An 8 × 8 grey baseline JPEG (made once with ImageMagick: convert -size 8x8 xc:#808080
# -strip -quality 50); every tiny file is this picture with its own comment segment.
TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e12111013"
    "18281a181616183123251d283a333d3c3933383740485c4e404457453738506d51575f62676867"
    "3e4d71797064785c656763ffc0000b080008000801011100ffc400140001000000000000000000"
    "00000000000000ffc40014100100000000000000000000000000000000ffda0008010100003f00"
    "3fffd9")


def tiny_jpeg(label):
    """The grey picture with a comment of about 160 bytes made from LABEL."""
    text = (label + " ").encode() * (160 // (len(label) + 1) + 1)
    text = text[:160]
    segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    return TINY_JPEG[:2] + segment + TINY_JPEG[2:]


def cmd_tiny(root, n, per_folder=100):
    n, per_folder = int(n), int(per_folder)
    for i in range(n):
        folder = os.path.join(root, "d%04d" % (i // per_folder))
        if i % per_folder == 0:
            os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "t%06d.jpg" % i), "wb") as f:
            f.write(tiny_jpeg("eider-bench tiny file %d" % i))


def cmd_procio(path):
    fields = {}
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    print(*(fields.get(k, "n/a") for k in ("rchar", "read_bytes", "wchar", "write_bytes")))


def cmd_storeline(*paths):
    pattern = re.compile(r"store closed: (\d+) transactions?, (\d+) pages? written")
    found = None
    for path in paths:
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    m = pattern.search(line)
                    if m:
                        found = m.groups()
        except OSError:
            pass
    print(*(found or ("n/a", "n/a")))


def cmd_latency(socket, folder, n):
    import gi
    gi.require_version("Gio", "2.0")
    from gi.repository import Gio, GLib

    conn = Gio.DBusConnection.new_for_address_sync(
        "unix:path=" + socket, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT, None, None)
    events = {}
    loop = GLib.MainLoop()
    waiting = {}

    def as_path(value):
        # PyGObject gives an "ay" as str, bytes or a list of numbers, by version.
        if isinstance(value, str):
            return value.rstrip("\0")
        return bytes(value).rstrip(b"\0").decode("utf-8", "replace")

    def on_signal(_conn, _sender, _path, _iface, name, params):
        now = time.monotonic()
        if name == "FileStarted":
            events.setdefault(as_path(params[1]), {}).setdefault("started", now)
        elif name == "FileFinished":
            events.setdefault(as_path(params[1]), {}).setdefault("finished:" + params[2], now)
        target = waiting.get("path")
        if target and any(k.startswith("finished") for k in events.get(target, {})):
            loop.quit()

    conn.signal_subscribe(None, "io.github.eiderapp.Eider.Engine1", None,
                          "/io/github/eiderapp/Eider/Engine", None,
                          Gio.DBusSignalFlags.NONE, on_signal)
    for i in range(int(n)):
        path = os.path.join(folder, "latency-%03d.jpg" % i)
        data = tiny_jpeg("eider-bench latency photo %d" % i)
        waiting["path"] = path
        with open(path, "wb") as f:
            f.write(data)
        closed = time.monotonic()
        timed_out = []

        def give_up():
            timed_out.append(True)
            loop.quit()
            return GLib.SOURCE_REMOVE

        timeout = GLib.timeout_add_seconds(60, give_up)
        loop.run()
        if not timed_out:
            GLib.source_remove(timeout)
        seen = events.get(path, {})
        started = seen.get("started")
        recorded = seen.get("finished:uploaded")
        print("%s %s" % ("%.0f" % ((started - closed) * 1000) if started else "n/a",
                         "%.0f" % ((recorded - closed) * 1000) if recorded else "n/a"),
              flush=True)
        # The next file comes after a pause, as a photo from a camera does.
        ctx = GLib.MainContext.default()
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            ctx.iteration(False)
            time.sleep(0.01)


# The table ---------------------------------------------------------------------------------

TOOLS = ("eider", "restic", "rclone", "floor")


def load(path):
    values = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue
            key, tool, value = parts
            try:
                values.setdefault((key, tool), []).append(float(value))
            except ValueError:
                pass
    return values


class Table:
    def __init__(self, values):
        self.values = values
        self.rows = []

    def med(self, key, tool="eider"):
        vals = self.values.get((key, tool))
        return statistics.median(vals) if vals else None

    def count(self, key, tool="eider"):
        return len(self.values.get((key, tool), []))

    def row(self, what, figure, cells, ratio="", target=""):
        self.rows.append((what, figure) + tuple(cells) + (ratio, target))

    def render(self):
        head = ("row", "figure", "Eider", "restic", "rclone crypt", "floor / other",
                "Eider vs. others", "target")
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            out.append("| " + " | ".join(c if c else "—" for c in r) + " |")
        return "\n".join(out)


def fmt(x, digits=2):
    if x is None:
        return "n/a"
    if digits == 0:
        return "%.0f" % x
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.*f" % (digits, x)


def times(x, what):
    """A ratio as "1.23× WHAT", or n/a."""
    return "n/a" if x is None else "%s× %s" % (fmt(x), what)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def div(a, b):
    return None if a is None or b is None or b == 0 else a / b


def cmd_table(path, note=""):
    t = Table(load(path))
    GiB = 1024 ** 3

    def file_mib(k):
        return t.med(k + ".bytes", "corpus") / t.med(k + ".files", "corpus") / 2 ** 20

    for shape in ("small", "large"):
        k = "r1." + shape
        size = t.med(k + ".bytes", "corpus")
        if size is None:
            continue
        n = t.med(k + ".files", "corpus")
        what = "1 · %d × %d MiB files" % (n, file_mib(k))
        walls = [t.med(k + ".wall", tool) for tool in TOOLS]
        t.row(what, "wall, s", [fmt(w) for w in walls])
        mbs = [div(size / 1e6, w) for w in walls]
        r_restic = ratio(mbs[0], mbs[1])
        r_rclone = ratio(mbs[0], mbs[2])
        t.row(what, "throughput, MB/s", [fmt(x) for x in mbs],
              "%s, %s" % (times(r_restic, "restic"), times(r_rclone, "rclone")),
              "≥ 1.5× restic, ≥ 1.2× rclone")
        cpus = [div(t.med(k + ".cpu", tool), size / GiB) for tool in TOOLS]
        t.row(what, "client CPU-s per GiB", [fmt(x) for x in cpus],
              times(ratio(cpus[0], cpus[3]), "floor"), "≤ 1.3× floor")
        t.row(what, "server CPU-s per GiB (test server)",
              [fmt(div(t.med(k + ".scpu"), size / GiB)), "", "", ""])
        t.row(what, "peak RSS, MB", [fmt(t.med(k + ".rss", tool), 1) for tool in TOOLS])

    for shape, label, target in (("small", "files ≤ 16 MiB", "1 (one read)"),
                                 ("large", "files > 16 MiB", "2 (two reads)")):
        k = "r1." + shape
        size = t.med(k + ".bytes", "corpus")
        if size is None:
            continue
        label += " (%d MiB)" % file_mib(k)
        rchar = div(t.med(k + ".rchar"), size)
        rbytes = div(t.med(k + ".read_bytes"), size)
        t.row("2 · bytes read per byte, " + label, "rchar (read_bytes from disk)",
              ["%s (%s)" % (fmt(rchar, 3), fmt(rbytes, 3)), "", "", ""], "", target)

    sizes = sorted({int(key.split(".")[1]) for key, _ in t.values if key.startswith("r3.")
                    and key.endswith(".wall")})
    rates = {}
    for n in sizes:
        k = "r3.%d" % n
        what = "3 · %s tiny files, first backup" % format(n, ",")
        walls = [t.med(k + ".wall", tool) for tool in ("eider", "restic")]
        rates[n] = div(n, walls[0])
        rounds = t.count(k + ".wall")
        t.row(what, "files/s (wall, s)%s" % ("" if rounds != 1 else "; 1 run"),
              ["%s (%s)" % (fmt(div(n, w)), fmt(w)) for w in walls] + ["", ""],
              times(ratio(walls[0], walls[1]), "restic's time"),
              "≤ 5× restic's time at 10,000" if n == 10000 else "")
        t.row(what, "store: transactions, page writes per file",
              ["%s, %s" % (fmt(div(t.med(k + ".txns"), n)), fmt(div(t.med(k + ".pages"), n))),
               "", "", ""], "", "≤ 2, ≈ 20")
        t.row(what, "written to disk by eiderctl per file, KB (write_bytes)",
              [fmt(div(t.med(k + ".write_bytes"), n * 1000)), "", "", ""])
        t.row(what, "server CPU-s per 1,000 files",
              [fmt(div(t.med(k + ".scpu"), n / 1000)), "", "", ""])
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        t.row("3 · flatness",
              "files/s at %s ÷ files/s at %s" % (format(hi, ","), format(lo, ",")),
              [fmt(ratio(rates[hi], rates[lo])), "", "", ""], "", "≥ 0.8")

    n = t.med("r4.files", "corpus")
    if n is not None:
        what = "4 · rescan of %s unchanged files" % format(int(n), ",")
        walls = [t.med("r4.wall", tool) for tool in ("eider", "restic", "find")]
        t.row(what, "time to up to date, s (restic: next snapshot; other: find -printf)",
              [fmt(walls[0]), fmt(walls[1]), "", fmt(walls[2])],
              times(ratio(walls[1], walls[0]), "faster than restic"),
              "≤ 1.0 s, ≥ 2.5× restic")
        t.row(what, "server CPU-s (test server)", [fmt(t.med("r4.scpu")), "", "", ""])
        t.row(what, "bytes read by eiderctl (rchar); tree files opened",
              ["%s B; %s" % (fmt(t.med("r4.rchar"), 0), fmt(t.med("r4.opened"), 0)), "", "", ""],
              "", "0 bytes hashed")
        t.row(what,
              "written to disk by eiderctl, MB (write_bytes); store transactions, page writes",
              ["%s; %s, %s" % (fmt(div(t.med("r4.write_bytes"), 1e6)), fmt(t.med("r4.txns"), 0),
                               fmt(t.med("r4.pages"), 0)), "", "", ""])

    if t.med("r5.seconds", "corpus") is not None:
        what = "5 · idle daemon, %d s, %s files watched" % (
            t.med("r5.seconds", "corpus"), format(int(t.med("r5.files", "corpus")), ","))
        t.row(what, "CPU-s; wake-ups (poll calls, all threads); context switches",
              ["%s; %s; %s" % (fmt(t.med("r5.cpu"), 3), fmt(t.med("r5.polls"), 0),
                               fmt(t.med("r5.ctxsw"), 0)), "", "", ""], "", "0 wake-ups")
        t.row(what, "RSS, MB", [fmt(t.med("r5.rss"), 1), "", "", ""], "", "≤ 40 MB")

    if t.count("r6.start") or t.count("r6.record"):
        what = "6 · new file, median of %d" % max(t.count("r6.start"), t.count("r6.record"))
        t.row(what, "close → upload starts, ms", [fmt(t.med("r6.start"), 0), "", "", ""])
        t.row(what, "close → recorded in Ente, ms", [fmt(t.med("r6.record"), 0), "", "", ""],
              "", "≤ 2,000 ms")

    size = t.med("r7.bytes", "corpus")
    if size is not None:
        what = "7 · one %s GiB file" % fmt(size / GiB, 1)
        t.row(what, "peak RSS, MB (wall, s)",
              ["%s (%s)" % (fmt(t.med("r7.rss"), 1), fmt(t.med("r7.wall"))), "", "", ""],
              "", "≤ 64 MB")
        t.row(what, "client, server CPU-s per GiB",
              ["%s, %s" % (fmt(div(t.med("r7.cpu"), size / GiB)),
                           fmt(div(t.med("r7.scpu"), size / GiB))), "", "", ""])

    lats = sorted({int(key.split(".")[1]) for key, _ in t.values if key.startswith("r8.")
                   and key.endswith(".wall")})
    photos = t.med("r8.files", "corpus")
    for lat in lats:
        k = "r8.%d" % lat
        what = "8 · %d photos, %d ms server latency" % (photos, lat)
        t.row(what, "files/s; requests, connections per file; server CPU-s",
              ["%s; %s, %s; %s" % (fmt(div(photos, t.med(k + ".wall"))),
                                   fmt(div(t.med(k + ".requests"), photos)),
                                   fmt(div(t.med(k + ".connections"), photos)),
                                   fmt(t.med(k + ".scpu"))), "", "", ""],
              "", "≥ 40 files/s at 50 ms" if lat == 50 else "")

    if note:
        print("*%s*\n" % note)
    print(t.render())


def main():
    commands = {"tiny": cmd_tiny, "procio": cmd_procio, "storeline": cmd_storeline,
                "latency": cmd_latency, "table": cmd_table}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit("usage: bench-util.py tiny|procio|storeline|latency|table …")
    commands[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
