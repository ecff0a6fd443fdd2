/* ets-faults.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-test-server"

#include "config.h"

#include <string.h>

#include "ets-private.h"

/* Fault injection (--fault-rate, --fault-seed). The decision is taken once
 * per request, before any handler runs, so a failed request never leaves a
 * trace in the database or on disk. A given seed replays the same sequence
 * of decisions for the same sequence of requests. */

struct _EtsFaults
{
  GRand  *rand;
  double  rate;
};

EtsFaults *
ets_faults_new (double  rate,
                guint32 seed)
{
  EtsFaults *faults = g_new0 (EtsFaults, 1);

  faults->rand = g_rand_new_with_seed (seed);
  faults->rate = CLAMP (rate, 0.0, 1.0);
  return faults;
}

void
ets_faults_free (EtsFaults *faults)
{
  if (faults == NULL)
    return;
  g_rand_free (faults->rand);
  g_free (faults);
}

EtsFaultKind
ets_faults_decide (EtsFaults *faults)
{
  if (faults == NULL || faults->rate <= 0.0)
    return ETS_FAULT_NONE;
  if (g_rand_double (faults->rand) >= faults->rate)
    return ETS_FAULT_NONE;
  return (EtsFaultKind) g_rand_int_range (faults->rand, ETS_FAULT_500, ETS_FAULT_SLOW + 1);
}

/* 1.5–4 s: long enough to trip a short client timeout. */
guint
ets_faults_slow_ms (EtsFaults *faults)
{
  return (guint) g_rand_int_range (faults->rand, 1500, 4001);
}

/* Answers with headers that promise more bytes than are sent, then closes
 * the connection: the client sees a body cut short. */
void
ets_faults_cut (SoupServerMessage *msg,
                gboolean           is_object)
{
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);
  const char *partial = is_object
    ? "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 65536\r\n\r\n"
      "\x01\x02\x03\x04\x05\x06\x07\x08"
    : "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
      "{\"partial\":";
  GOutputStream *out;

  if (stream == NULL)
    return;
  out = g_io_stream_get_output_stream (stream);
  g_output_stream_write_all (out, partial, strlen (partial), NULL, NULL, NULL);
  g_output_stream_flush (out, NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}
