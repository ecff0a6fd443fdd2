/* bench-procio.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An LD_PRELOAD module for the benchmarks: when the process it is loaded into
 * exits, it copies /proc/self/io (rchar, read_bytes, …: what the whole process,
 * every thread included, read and wrote) to the file named by
 * $EIDER_BENCH_PROCIO. The kernel forgets those counters once the process is
 * reaped, and polling them from outside misses the last moments.
 *
 * Thread contract: none needed; the destructor runs once, at exit().
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *procio_path;
static pid_t procio_pid;

__attribute__((constructor)) static void
procio_init (void)
{
  const char *path = getenv ("EIDER_BENCH_PROCIO");

  if (path == NULL || *path == '\0')
    return;
  procio_path = strdup (path);
  procio_pid = getpid ();
  /* Children (GStreamer's plugin scanner, …) are not measured. */
  unsetenv ("EIDER_BENCH_PROCIO");
  unsetenv ("LD_PRELOAD");
}

__attribute__((destructor)) static void
procio_fini (void)
{
  char buf[1024];
  ssize_t n;
  int in, out;

  if (procio_path == NULL || getpid () != procio_pid)
    return;
  in = open ("/proc/self/io", O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return;
  n = read (in, buf, sizeof buf);
  close (in);
  out = open (procio_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out >= 0)
    {
      if (n > 0 && write (out, buf, (size_t) n) != n)
        n = -1;
      close (out);
    }
}
