/* test-throttle.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * EiderThrottle: reads through a wrapped stream keep to the rate, alone
 * and together, synchronously and on a main context that stays free; a
 * cancelled wait ends at once; the stream rewinds; a real libsoup PUT of
 * 20 MiB at 2 MiB/s takes 10 s (± 15 %) and arrives intact.
 */
#include "config.h"

#include <string.h>
#include <libsoup/soup.h>

#include "eider-throttle.h"

#define KiB 1024
#define MiB (1024 * 1024)

static GBytes *
random_bytes (gsize size)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = g_random_int_range (0, 256);

  return g_bytes_new_take (data, size);
}

static double
seconds_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

/* The bucket starts full with a quarter of a second of the rate. */
static double
expected_seconds (gsize   size,
                  guint64 rate)
{
  return ((double) size - rate / 4.0) / rate;
}

static void
test_throttle_no_cap (void)
{
  g_autoptr(EiderThrottle) throttle = eider_throttle_new (0);
  g_autoptr(GBytes) bytes = random_bytes (8 * MiB);
  g_autoptr(GInputStream) stream = eider_throttle_wrap_bytes (throttle, bytes);
  g_autofree guint8 *out = g_malloc (8 * MiB);
  g_autoptr(GError) error = NULL;
  gsize got = 0;
  gint64 start = g_get_monotonic_time ();

  g_assert_true (g_input_stream_read_all (stream, out, 8 * MiB, &got, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (got, ==, 8 * MiB);
  g_assert_cmpmem (out, got, g_bytes_get_data (bytes, NULL), 8 * MiB);
  g_assert_cmpfloat (seconds_since (start), <, 0.5);
  g_assert_cmpint (g_input_stream_read (stream, out, 10, NULL, &error), ==, 0);
}

static void
test_throttle_sync (void)
{
  g_autoptr(EiderThrottle) throttle = eider_throttle_new (256 * KiB);
  g_autoptr(GBytes) bytes = random_bytes (640 * KiB);
  g_autoptr(GInputStream) stream = eider_throttle_wrap_bytes (throttle, bytes);
  g_autofree guint8 *out = g_malloc (640 * KiB);
  g_autoptr(GError) error = NULL;
  double want = expected_seconds (640 * KiB, 256 * KiB);
  double took;
  gsize got = 0;
  gint64 start = g_get_monotonic_time ();

  g_assert_cmpuint (eider_throttle_get_rate (throttle), ==, 256 * KiB);
  g_assert_true (g_input_stream_read_all (stream, out, 640 * KiB, &got, NULL, &error));
  g_assert_no_error (error);
  took = seconds_since (start);
  g_assert_cmpuint (got, ==, 640 * KiB);
  g_assert_cmpmem (out, got, g_bytes_get_data (bytes, NULL), got);
  g_test_message ("640 KiB at 256 KiB/s: %.2f s (expected %.2f s)", took, want);
  g_assert_cmpfloat (took, >, want * 0.9);
  g_assert_cmpfloat (took, <, want * 1.15);
}

typedef struct
{
  GInputStream *stream;
  guint8       *buffer;
  gsize         size;
  gsize         got;
  gboolean      done;
  GError       *error;
} AsyncRead;

static void
read_all_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  AsyncRead *read = user_data;

  g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &read->got, &read->error);
  read->done = TRUE;
}

static gboolean
tick_cb (gpointer user_data)
{
  guint *ticks = user_data;

  (*ticks)++;
  return G_SOURCE_CONTINUE;
}

/* Two streams read together on the main context share the rate, and the
 * main context keeps turning meanwhile. */
static void
test_throttle_async_shared (void)
{
  g_autoptr(EiderThrottle) throttle = eider_throttle_new (512 * KiB);
  g_autoptr(GBytes) a = random_bytes (512 * KiB);
  g_autoptr(GBytes) b = random_bytes (512 * KiB);
  AsyncRead reads[2] = {
    { eider_throttle_wrap_bytes (throttle, a), g_malloc (512 * KiB), 512 * KiB },
    { eider_throttle_wrap_bytes (throttle, b), g_malloc (512 * KiB), 512 * KiB },
  };
  double want = expected_seconds (1024 * KiB, 512 * KiB);
  guint ticks = 0;
  guint tick_id;
  double took;
  gint64 start = g_get_monotonic_time ();

  tick_id = g_timeout_add (20, tick_cb, &ticks);
  for (guint i = 0; i < 2; i++)
    g_input_stream_read_all_async (reads[i].stream, reads[i].buffer, reads[i].size, G_PRIORITY_DEFAULT,
                                   NULL, read_all_cb, &reads[i]);
  while (!reads[0].done || !reads[1].done)
    g_main_context_iteration (NULL, TRUE);
  took = seconds_since (start);
  g_source_remove (tick_id);

  g_test_message ("2 x 512 KiB at 512 KiB/s: %.2f s (expected %.2f s), %u ticks of 20 ms", took, want, ticks);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_no_error (reads[i].error);
      g_assert_cmpuint (reads[i].got, ==, reads[i].size);
      g_object_unref (reads[i].stream);
    }
  g_assert_cmpmem (reads[0].buffer, 512 * KiB, g_bytes_get_data (a, NULL), 512 * KiB);
  g_assert_cmpmem (reads[1].buffer, 512 * KiB, g_bytes_get_data (b, NULL), 512 * KiB);
  g_assert_cmpfloat (took, >, want * 0.9);
  g_assert_cmpfloat (took, <, want * 1.15);
  /* The waits were timers, not sleeps: the context ran its other sources. */
  g_assert_cmpuint (ticks, >=, (guint) (took * 50 * 0.5));
  g_free (reads[0].buffer);
  g_free (reads[1].buffer);
}

typedef struct
{
  gssize   n;
  GError  *error;
  gboolean done;
} ReadOne;

static void
read_one_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  ReadOne *one = user_data;

  one->n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &one->error);
  one->done = TRUE;
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* A read waiting for its turn ends as soon as it is cancelled, and its
 * bytes go back to the bucket; the stream reads on afterwards. */
static void
test_throttle_cancel (void)
{
  g_autoptr(EiderThrottle) throttle = eider_throttle_new (4 * KiB);
  g_autoptr(GBytes) bytes = random_bytes (64 * KiB);
  g_autoptr(GInputStream) stream = eider_throttle_wrap_bytes (throttle, bytes);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  guint8 buffer[4 * KiB];
  ReadOne one = { 0 };
  gint64 start;

  /* Reads go a KiB at a time at this rate: the first empties the bucket,
   * the second waits a quarter of a second. */
  g_assert_cmpint (g_input_stream_read (stream, buffer, 2 * KiB, NULL, &error), ==, 1 * KiB);
  g_assert_cmpint (g_input_stream_read (stream, buffer, 1 * KiB, NULL, &error), ==, 1 * KiB);
  g_assert_no_error (error);

  /* The next one would wait another quarter of a second. */
  start = g_get_monotonic_time ();
  g_input_stream_read_async (stream, buffer, sizeof buffer, G_PRIORITY_DEFAULT, cancellable, read_one_cb, &one);
  g_timeout_add (50, cancel_cb, cancellable);
  while (!one.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (one.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (one.n, ==, -1);
  g_assert_cmpfloat (seconds_since (start), <, 0.2);
  g_clear_error (&one.error);
  g_assert_cmpint (g_seekable_tell (G_SEEKABLE (stream)), ==, 2 * KiB);

  /* Its KiB went back: the stream reads on from where it was. */
  g_cancellable_reset (cancellable);
  one = (ReadOne) { 0 };
  g_input_stream_read_async (stream, buffer, sizeof buffer, G_PRIORITY_DEFAULT, cancellable, read_one_cb, &one);
  while (!one.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (one.error);
  g_assert_cmpint (one.n, ==, 1 * KiB);
  g_assert_cmpmem (buffer, KiB, (const guint8 *) g_bytes_get_data (bytes, NULL) + 2 * KiB, KiB);
}

static gpointer
sync_read_worker (gpointer data)
{
  gpointer *args = data;
  GInputStream *stream = args[0];
  GCancellable *cancellable = args[1];
  GError **error = args[2];
  guint8 buffer[KiB];

  return GSIZE_TO_POINTER (g_input_stream_read (stream, buffer, sizeof buffer, cancellable, error) + 1);
}

static void
test_throttle_cancel_sync (void)
{
  g_autoptr(EiderThrottle) throttle = eider_throttle_new (2 * KiB);
  g_autoptr(GBytes) bytes = random_bytes (64 * KiB);
  g_autoptr(GInputStream) stream = eider_throttle_wrap_bytes (throttle, bytes);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gpointer args[3] = { stream, cancellable, &error };
  guint8 buffer[KiB];
  GThread *thread;
  gssize n;
  gint64 start;

  /* The first KiB drains the bucket and owes half a second; the next
   * read would wait about a second. */
  g_assert_cmpint (g_input_stream_read (stream, buffer, sizeof buffer, NULL, &error), ==, KiB);
  start = g_get_monotonic_time ();
  thread = g_thread_new ("read", sync_read_worker, args);
  g_usleep (50000);
  g_cancellable_cancel (cancellable);
  n = (gssize) GPOINTER_TO_SIZE (g_thread_join (thread)) - 1;
  g_assert_cmpint (n, ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpfloat (seconds_since (start), <, 0.3);
  g_assert_cmpint (g_seekable_tell (G_SEEKABLE (stream)), ==, KiB);
}

/* libsoup rewinds a request body it sends again: the stream seeks. */
static void
test_throttle_seek (void)
{
  g_autoptr(EiderThrottle) throttle = eider_throttle_new (0);
  g_autoptr(GBytes) bytes = random_bytes (100 * KiB);
  g_autoptr(GInputStream) stream = eider_throttle_wrap_bytes (throttle, bytes);
  g_autofree guint8 *out = g_malloc (100 * KiB);
  g_autoptr(GError) error = NULL;
  gsize got = 0;

  g_assert_true (G_IS_SEEKABLE (stream));
  g_assert_true (g_seekable_can_seek (G_SEEKABLE (stream)));
  g_assert_false (g_seekable_can_truncate (G_SEEKABLE (stream)));
  g_assert_cmpint (g_input_stream_read (stream, out, 30 * KiB, NULL, &error), ==, 30 * KiB);
  g_assert_cmpint (g_input_stream_skip (stream, 10 * KiB, NULL, &error), ==, 10 * KiB);
  g_assert_cmpint (g_seekable_tell (G_SEEKABLE (stream)), ==, 40 * KiB);
  g_assert_true (g_seekable_seek (G_SEEKABLE (stream), 0, G_SEEK_SET, NULL, &error));
  g_assert_true (g_input_stream_read_all (stream, out, 100 * KiB, &got, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (got, ==, 100 * KiB);
  g_assert_cmpmem (out, got, g_bytes_get_data (bytes, NULL), got);

  g_assert_true (g_seekable_seek (G_SEEKABLE (stream), -10, G_SEEK_END, NULL, &error));
  g_assert_cmpint (g_seekable_tell (G_SEEKABLE (stream)), ==, 100 * KiB - 10);
  g_assert_false (g_seekable_seek (G_SEEKABLE (stream), 1, G_SEEK_END, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
rate_notify_cb (GObject    *object,
                GParamSpec *pspec,
                gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* A new rate applies to the next reads; lifting the cap ends the pacing. */
static void
test_throttle_set_rate (void)
{
  g_autoptr(EiderThrottle) throttle = eider_throttle_new (64 * KiB);
  g_autoptr(GBytes) bytes = random_bytes (4 * MiB);
  g_autoptr(GInputStream) stream = eider_throttle_wrap_bytes (throttle, bytes);
  g_autofree guint8 *out = g_malloc (4 * MiB);
  g_autoptr(GError) error = NULL;
  guint notified = 0;
  gsize got = 0;
  gint64 start;

  g_signal_connect (throttle, "notify::rate", G_CALLBACK (rate_notify_cb), &notified);
  eider_throttle_set_rate (throttle, 64 * KiB);
  g_assert_cmpuint (notified, ==, 0);
  eider_throttle_set_rate (throttle, 0);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpuint (eider_throttle_get_rate (throttle), ==, 0);

  start = g_get_monotonic_time ();
  g_assert_true (g_input_stream_read_all (stream, out, 4 * MiB, &got, NULL, &error));
  g_assert_cmpfloat (seconds_since (start), <, 0.5);

  g_object_set (throttle, "rate", (guint64) (2 * MiB), NULL);
  g_assert_cmpuint (notified, ==, 2);
  g_assert_true (g_seekable_seek (G_SEEKABLE (stream), 0, G_SEEK_SET, NULL, &error));
  start = g_get_monotonic_time ();
  g_assert_true (g_input_stream_read_all (stream, out, 4 * MiB, &got, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (seconds_since (start), >, expected_seconds (4 * MiB, 2 * MiB) * 0.9);
  g_assert_cmpfloat (seconds_since (start), <, expected_seconds (4 * MiB, 2 * MiB) * 1.15);
}

/* A real upload: a PUT whose body is a throttled stream, to a libsoup
 * server on loopback, as the uploader sends S3 parts. */

typedef struct
{
  GChecksum *received;
  gsize      size;
} Received;

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Received *received = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  g_checksum_update (received->received, (const guchar *) body->data, body->length);
  received->size += body->length;
  soup_server_message_set_status (msg, 200, NULL);
}

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_throttle_soup_upload (void)
{
  g_autoptr(EiderThrottle) throttle = eider_throttle_new (2 * MiB);
  g_autoptr(GBytes) bytes = random_bytes (20 * MiB);
  g_autoptr(GInputStream) body = eider_throttle_wrap_bytes (throttle, bytes);
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GChecksum) sent = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  g_autoptr(GBytes) reply = NULL;
  g_autofree char *url = NULL;
  Received received = { g_checksum_new (G_CHECKSUM_SHA256), 0 };
  double took;
  gint64 start;

  soup_server_add_handler (server, NULL, server_cb, &received, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  url = g_uri_to_string (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  msg = soup_message_new ("PUT", url);
  soup_message_set_request_body (msg, "application/octet-stream", body, 20 * MiB);
  start = g_get_monotonic_time ();
  {
    g_autoptr(GAsyncResult) result = NULL;

    soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, store_result_cb, &result);
    while (result == NULL)
      g_main_context_iteration (NULL, TRUE);
    reply = soup_session_send_and_read_finish (session, result, &error);
  }
  took = seconds_since (start);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);

  g_checksum_update (sent, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_cmpuint (received.size, ==, 20 * MiB);
  g_assert_cmpstr (g_checksum_get_string (received.received), ==, g_checksum_get_string (sent));
  g_test_message ("20 MiB PUT at 2 MiB/s: %.2f s", took);
  g_assert_cmpfloat (took, >, 10.0 * 0.85);
  g_assert_cmpfloat (took, <, 10.0 * 1.15);
  g_checksum_free (received.received);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/throttle/no-cap", test_throttle_no_cap);
  g_test_add_func ("/throttle/sync", test_throttle_sync);
  g_test_add_func ("/throttle/async-shared", test_throttle_async_shared);
  g_test_add_func ("/throttle/cancel", test_throttle_cancel);
  g_test_add_func ("/throttle/cancel-sync", test_throttle_cancel_sync);
  g_test_add_func ("/throttle/seek", test_throttle_seek);
  g_test_add_func ("/throttle/set-rate", test_throttle_set_rate);
  g_test_add_func ("/throttle/soup-upload", test_throttle_soup_upload);

  return g_test_run ();
}
