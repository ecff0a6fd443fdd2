/* bench-floor.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bench-floor FILE...
 *
 * The crypto floor of a backup: the least work any client of Ente's format
 * must do per byte, in one process and one thread, with the primitives
 * Eider uses (eider-crypto): each file is read once in 4 MiB chunks, the
 * plaintext is hashed with BLAKE2b-512, encrypted with secretstream (FINAL
 * on the last chunk) and the ciphertext MD5'd (Content-MD5), one digest
 * per file (per part costs the same). Nothing is sent or kept. Prints "floor: <bytes> bytes"; its
 * CPU time (/usr/bin/time) is the floor Eider's CPU per GiB is compared
 * with.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eider-crypto.h"

/* Reads exactly @len bytes unless the file ends first. */
static gssize
read_full (int     fd,
           guint8 *buf,
           gsize   len)
{
  gsize done = 0;

  while (done < len)
    {
      gssize n = read (fd, buf + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      done += (gsize) n;
    }

  return (gssize) done;
}

static gboolean
floor_one (const char *path,
           guint8     *plain,
           guint8     *cipher,
           guint64    *bytes,
           GError    **error)
{
  g_autoptr(EiderSecret) key = eider_secret_new_random (EIDER_KEY_BYTES);
  g_autoptr(EiderStreamEncryptor) enc = NULL;
  g_autoptr(EiderHash) hash = eider_hash_new ();
  g_autoptr(EiderMd5) md5 = eider_md5_new ();
  g_autofree char *digest = NULL;
  g_autofree char *content_md5 = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  struct stat st;
  guint64 done = 0;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: %s", path, g_strerror (saved));
      return FALSE;
    }

  enc = eider_stream_encryptor_new (key, header);
  do
    {
      gsize want = (gsize) MIN ((guint64) EIDER_STREAM_CHUNK_SIZE, (guint64) st.st_size - done);
      gssize n = read_full (fd, plain, want);

      if (n != (gssize) want)
        {
          close (fd);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: short read", path);
          return FALSE;
        }
      done += (guint64) n;

      eider_hash_update (hash, plain, (gsize) n);
      if (!eider_stream_encryptor_push (enc, plain, (gsize) n, done == (guint64) st.st_size,
                                        cipher, error))
        {
          close (fd);
          return FALSE;
        }
      eider_md5_update (md5, cipher, (gsize) n + EIDER_STREAM_ABYTES);
    }
  while (done < (guint64) st.st_size);
  close (fd);

  digest = eider_hash_finish_base64 (hash);
  content_md5 = eider_md5_finish_base64 (md5);
  *bytes += done;

  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *plain = NULL;
  g_autofree guint8 *cipher = NULL;
  guint64 bytes = 0;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s FILE...\n", argv[0]);
      return 2;
    }

  if (!eider_crypto_init (&error))
    {
      fprintf (stderr, "bench-floor: %s\n", error->message);
      return 1;
    }

  plain = g_malloc (EIDER_STREAM_CHUNK_SIZE);
  cipher = g_malloc (EIDER_STREAM_BLOCK_SIZE);
  for (int i = 1; i < argc; i++)
    if (!floor_one (argv[i], plain, cipher, &bytes, &error))
      {
        fprintf (stderr, "bench-floor: %s\n", error->message);
        return 1;
      }

  printf ("floor: %" G_GUINT64_FORMAT " bytes\n", bytes);

  return 0;
}
