/* bench-stream-encrypt.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Streams a file of SIZE MiB (default 1024) through BLAKE2b, secretstream
 * encryption and decryption, file to file, and prints throughput and the
 * process's peak RSS. Figures only: nothing here passes or fails on time.
 */
#include "config.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "eider-crypto.h"

#define MiB (1024 * 1024)

static long
peak_rss_kib (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

static gboolean
write_pattern_file (const char  *path,
                    guint64      size,
                    GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = NULL;
  g_autofree guint8 *buf = g_malloc (EIDER_STREAM_CHUNK_SIZE);
  guint64 done = 0;

  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error);
  if (out == NULL)
    return FALSE;

  while (done < size)
    {
      gsize n = MIN (EIDER_STREAM_CHUNK_SIZE, size - done);

      for (gsize i = 0; i < n; i++)
        buf[i] = (guint8) ((done + i) % 251);
      if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), buf, n, NULL, NULL, error))
        return FALSE;
      done += n;
    }

  return g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error);
}

static void
report (const char *what,
        guint64     bytes,
        gint64      usec)
{
  g_print ("%-28s %8.1f MiB in %6.2f s  = %7.1f MiB/s   peak RSS so far %6.1f MB\n",
           what, bytes / (double) MiB, usec / 1e6, (bytes / (double) MiB) / (usec / 1e6),
           peak_rss_kib () / 1024.0);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderSecret) key = NULL;
  g_autoptr(GFile) plain_file = NULL;
  g_autoptr(GFile) ct_file = NULL;
  g_autoptr(GFile) back_file = NULL;
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GFileOutputStream) out = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *plain_path = NULL;
  g_autofree char *ct_path = NULL;
  g_autofree char *back_path = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *hash_back = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  guint64 size;
  gint64 t0;
  long rss_before;

  if (!eider_crypto_init (&error))
    g_error ("%s", error->message);

  size = (argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 1024) * MiB;
  dir = g_dir_make_tmp ("eider-bench-XXXXXX", &error);
  g_assert_no_error (error);
  plain_path = g_build_filename (dir, "plain", NULL);
  ct_path = g_build_filename (dir, "encrypted", NULL);
  back_path = g_build_filename (dir, "decrypted", NULL);
  plain_file = g_file_new_for_path (plain_path);
  ct_file = g_file_new_for_path (ct_path);
  back_file = g_file_new_for_path (back_path);

  if (!write_pattern_file (plain_path, size, &error))
    g_error ("%s", error->message);

  rss_before = peak_rss_kib ();
  g_print ("stream benchmark: %" G_GUINT64_FORMAT " MiB file, libsodium %s\n",
           size / MiB, sodium_version_string ());
  g_print ("peak RSS before the benchmark: %.1f MB\n", rss_before / 1024.0);

  /* hash */
  t0 = g_get_monotonic_time ();
  in = g_file_read (plain_file, NULL, &error);
  g_assert_no_error (error);
  hash = eider_hash_stream_base64 (G_INPUT_STREAM (in), NULL, &error);
  g_assert_no_error (error);
  report ("BLAKE2b-512 hash", size, g_get_monotonic_time () - t0);
  g_clear_object (&in);

  /* encrypt */
  key = eider_secret_new_random (EIDER_KEY_BYTES);
  t0 = g_get_monotonic_time ();
  in = g_file_read (plain_file, NULL, &error);
  g_assert_no_error (error);
  out = g_file_replace (ct_file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, &error);
  g_assert_no_error (error);
  if (!eider_crypto_encrypt_stream (G_INPUT_STREAM (in), G_OUTPUT_STREAM (out), key, header,
                                    NULL, NULL, NULL, NULL, &error) ||
      !g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error))
    g_error ("%s", error->message);
  report ("secretstream encrypt", size, g_get_monotonic_time () - t0);
  g_clear_object (&in);
  g_clear_object (&out);

  /* decrypt */
  t0 = g_get_monotonic_time ();
  in = g_file_read (ct_file, NULL, &error);
  g_assert_no_error (error);
  out = g_file_replace (back_file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, &error);
  g_assert_no_error (error);
  if (!eider_crypto_decrypt_stream (G_INPUT_STREAM (in), G_OUTPUT_STREAM (out), key, header,
                                    eider_crypto_encrypted_size (size), NULL, &error) ||
      !g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error))
    g_error ("%s", error->message);
  report ("secretstream decrypt", size, g_get_monotonic_time () - t0);
  g_clear_object (&in);
  g_clear_object (&out);

  in = g_file_read (back_file, NULL, &error);
  g_assert_no_error (error);
  hash_back = eider_hash_stream_base64 (G_INPUT_STREAM (in), NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&in);

  g_print ("round trip: %s\n", g_strcmp0 (hash, hash_back) == 0 ? "identical" : "DIFFERENT");
  g_print ("peak RSS: %.1f MB (budget 32 MB for streaming a file of any size)\n",
           peak_rss_kib () / 1024.0);

  g_unlink (plain_path);
  g_unlink (ct_path);
  g_unlink (back_path);
  g_rmdir (dir);

  return g_strcmp0 (hash, hash_back) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
