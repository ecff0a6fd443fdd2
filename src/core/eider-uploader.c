/* eider-uploader.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-uploader"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gunixinputstream.h>
#include <libsoup/soup.h>
#include <sodium.h>

#include "eider-uploader.h"
#include "eider-throttle.h"

G_DEFINE_QUARK (eider-upload-error-quark, eider_upload_error)

/* Presigned URLs live 7 days (§8.2); an upload does not start on URLs with
 * less than this left. */
#define URL_MARGIN_US      (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)
#define URL_VALIDITY_US    (G_GINT64_CONSTANT (7) * 24 * 3600 * G_USEC_PER_SEC)
#define MAX_TRIES          6
#define MAX_DELAY_MS       30000
#define MAX_RETRY_AFTER_S  300
#define PROGRESS_STEP      (1024 * 1024)

/* Plan */

/**
 * eider_upload_plan_parts:
 *
 * Web's plan (§8.3): a plaintext of at most 16 MiB (4 chunks) is one PUT;
 * anything larger is an S3 multipart upload whose parts are 5 encrypted
 * chunks (20,971,605 bytes), the last one shorter.
 */
void
eider_upload_plan_parts (gint64  plain_size,
                         gint64 *encrypted_size,
                         gint64 *part_size,
                         guint  *n_parts)
{
  gint64 enc;

  g_return_if_fail (plain_size > 0);

  enc = (gint64) eider_crypto_encrypted_size ((guint64) plain_size);
  if (encrypted_size != NULL)
    *encrypted_size = enc;

  if (plain_size <= EIDER_UPLOAD_SINGLE_MAX_PLAIN)
    {
      if (part_size != NULL)
        *part_size = 0;
      if (n_parts != NULL)
        *n_parts = 1;
      return;
    }

  if (part_size != NULL)
    *part_size = EIDER_UPLOAD_PART_SIZE;
  if (n_parts != NULL)
    *n_parts = (guint) ((enc + EIDER_UPLOAD_PART_SIZE - 1) / EIDER_UPLOAD_PART_SIZE);
}

gint64
eider_upload_part_length (gint64 encrypted_size,
                          gint64 part_size,
                          guint  index)
{
  gint64 start;

  if (part_size <= 0)
    return index == 0 ? encrypted_size : 0;

  start = (gint64) index * part_size;
  if (start >= encrypted_size)
    return 0;

  return MIN (part_size, encrypted_size - start);
}

char *
eider_upload_completion_xml (const char * const *etags)
{
  GString *xml = g_string_new ("<CompleteMultipartUpload>\n");

  g_return_val_if_fail (etags != NULL, NULL);

  for (guint i = 0; etags[i] != NULL; i++)
    g_string_append_printf (xml, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>\n",
                            i + 1, etags[i]);
  g_string_append (xml, "</CompleteMultipartUpload>");

  return g_string_free (xml, FALSE);
}

/* Secretstream push state that can also be rebuilt from a known header:
 * libsodium's init_push draws the header and derives the state from it
 * exactly as init_pull does, so init_pull on the same key and header gives
 * the state init_push gave, and the same pushes give the same bytes. */

typedef crypto_secretstream_xchacha20poly1305_state PushState;

static void
push_state_free (PushState *state)
{
  eider_secure_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PushState, push_state_free)

static PushState *
push_state_new (const EiderSecret *key,
                guint8             header[EIDER_STREAM_HEADER_BYTES],
                gboolean           from_header)
{
  PushState *state = eider_secure_alloc (sizeof (PushState));

  if (from_header)
    crypto_secretstream_xchacha20poly1305_init_pull (state, header, eider_secret_peek (key));
  else
    crypto_secretstream_xchacha20poly1305_init_push (state, header, eider_secret_peek (key));

  return state;
}

static void
push_chunk (PushState    *state,
            const guint8 *chunk,
            gsize         len,
            gboolean      final,
            guint8       *out)
{
  crypto_secretstream_xchacha20poly1305_push (state, out, NULL, chunk, len, NULL, 0,
                                              final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                                    : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
}

/* Files */

static gint64
stat_mtime_ns (const struct stat *st)
{
  return (gint64) st->st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st->st_mtim.tv_nsec;
}

static gboolean
stat_same (const struct stat *st,
           gint64             size,
           gint64             mtime_ns,
           guint64            dev,
           guint64            inode)
{
  if ((gint64) st->st_size != size || stat_mtime_ns (st) != mtime_ns)
    return FALSE;
  if (inode != 0 && ((guint64) st->st_ino != inode || (guint64) st->st_dev != dev))
    return FALSE;

  return TRUE;
}

static void
set_changed_error (GError     **error,
                   const char  *path)
{
  g_autofree char *name = g_filename_display_name (path);

  g_set_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED,
               "“%s” changed while reading", name);
}

/* Opens @path for reading without following a symlink and without ever
 * blocking on a FIFO, refusing anything but a regular file. */
static int
open_regular (const char   *path,
              struct stat  *st,
              GError      **error)
{
  g_autofree char *name = g_filename_display_name (path);
  int fd;
  int saved;

  fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      saved = errno;
      if (saved == ELOOP)
        g_set_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_NOT_REGULAR,
                     "“%s” is a symbolic link, not a regular file", name);
      else if (saved == ENOENT)
        g_set_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED,
                     "“%s” vanished before it could be read", name);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                     "Could not open “%s”: %s", name, g_strerror (saved));
      return -1;
    }

  if (fstat (fd, st) != 0)
    {
      saved = errno;
      close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not stat “%s”: %s", name, g_strerror (saved));
      return -1;
    }

  if (!S_ISREG (st->st_mode))
    {
      close (fd);
      g_set_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_NOT_REGULAR,
                   "“%s” is not a regular file", name);
      return -1;
    }

  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);

  return fd;
}

static gboolean
read_exact (GInputStream  *in,
            guint8        *buf,
            gsize          len,
            const char    *path,
            GCancellable  *cancellable,
            GError       **error)
{
  gsize n = 0;

  if (!g_input_stream_read_all (in, buf, len, &n, cancellable, error))
    return FALSE;

  if (n != len)
    {
      set_changed_error (error, path);
      return FALSE;
    }

  return TRUE;
}

/* After the last expected byte, the file must be at its end. */
static gboolean
check_at_end (GInputStream  *in,
              const char    *path,
              GCancellable  *cancellable,
              GError       **error)
{
  guint8 extra;
  gssize n;

  n = g_input_stream_read (in, &extra, 1, cancellable, error);
  if (n < 0)
    return FALSE;
  if (n > 0)
    {
      set_changed_error (error, path);
      return FALSE;
    }

  return TRUE;
}

static GStrv
strv_of_empty (guint n)
{
  GStrv strv = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    strv[i] = g_strdup ("");

  return strv;
}

/**
 * eider_upload_prepare:
 * @expected: what the scanner saw; size and mtime must still match (and
 *   device and inode, when @expected has them)
 * @hash_out: (out) (optional): the BLAKE2b-512 hash, base64
 * @content_out: (out) (optional) (nullable): the plaintext when it is at
 *   most 16 MiB, else %NULL
 * @body_out: (out) (optional) (nullable): the ciphertext, the object as it
 *   is sent, when the plaintext is at most 16 MiB (one PUT), else %NULL
 *
 * Reads @path once: hash of the plaintext, secretstream encryption with a
 * new file key and header, Content-MD5 of each S3 part. Memory stays flat
 * for larger files (a 4 MiB read buffer and a few 4 MiB + 17 output
 * buffers); their ciphertext is not kept: EiderUploader encrypts again
 * (same key and header, same bytes) as it sends. A small file's ciphertext
 * (@body_out) is sent as it is, so a small file is read, hashed, encrypted
 * and MD5'd exactly once.
 *
 * Returns: %FALSE with %EIDER_UPLOAD_ERROR_CHANGED when the file changed
 *   (before or while reading), %EIDER_UPLOAD_ERROR_NOT_REGULAR,
 *   %EIDER_UPLOAD_ERROR_EMPTY, %EIDER_UPLOAD_ERROR_TOO_LARGE, or the
 *   system's error (%G_IO_ERROR) when the file cannot be read.
 */
gboolean
eider_upload_prepare (const char         *path,
                      const EiderStat    *expected,
                      gint64              file_id,
                      gint64              collection_id,
                      const EiderSecret  *collection_key,
                      EiderUploadRecord **record_out,
                      char              **hash_out,
                      GBytes            **content_out,
                      GBytes            **body_out,
                      EiderCryptoProgress progress,
                      gpointer            progress_data,
                      GCancellable       *cancellable,
                      GError            **error)
{
  return eider_upload_prepare_replacement (path, expected, file_id, 0, collection_id,
                                           collection_key, NULL, record_out, hash_out,
                                           content_out, body_out, progress, progress_data,
                                           cancellable, error);
}

/* MD5 of the ciphertext, beside the encryption: a file that is a
 * multipart upload is MD5'd in a thread of its own while the next chunk
 * is read, hashed and encrypted, so a big file keeps two cores busy. The
 * chunks go through a ring of RING_SLOTS output buffers. (A plain GThread,
 * not a pool task: a pool worker waiting for another task of the same
 * pool could wait for ever when the pool is full.) */

#define RING_SLOTS 2

typedef struct
{
  guint8   *data;
  gsize     len;
  gboolean  part_end;
} RingSlot;

typedef struct
{
  GAsyncQueue *full;         /* RingSlot *: to be MD5'd; the ring itself to stop */
  GAsyncQueue *free;         /* RingSlot *: MD5'd, to be filled again */
  RingSlot     slots[RING_SLOTS];
  GPtrArray   *md5s;         /* the parts' Content-MD5, written by the thread */
  GThread     *thread;
} Md5Ring;

static gpointer
md5_ring_worker (gpointer data)
{
  Md5Ring *ring = data;
  g_autoptr(EiderMd5) md5 = eider_md5_new ();
  gpointer item;

  while ((item = g_async_queue_pop (ring->full)) != ring)
    {
      RingSlot *slot = item;

      eider_md5_update (md5, slot->data, slot->len);
      if (slot->part_end)
        g_ptr_array_add (ring->md5s, eider_md5_finish_base64 (md5));
      g_async_queue_push (ring->free, slot);
    }

  return NULL;
}

static Md5Ring *
md5_ring_new (void)
{
  Md5Ring *ring = g_new0 (Md5Ring, 1);

  ring->full = g_async_queue_new ();
  ring->free = g_async_queue_new ();
  for (guint i = 0; i < RING_SLOTS; i++)
    {
      ring->slots[i].data = g_malloc (EIDER_STREAM_BLOCK_SIZE);
      g_async_queue_push (ring->free, &ring->slots[i]);
    }
  ring->md5s = g_ptr_array_new_with_free_func (g_free);
  ring->thread = g_thread_new ("eider-md5", md5_ring_worker, ring);

  return ring;
}

/* Waits for every chunk pushed so far to be MD5'd. */
static void
md5_ring_drain (Md5Ring *ring)
{
  if (ring->thread == NULL)
    return;

  g_async_queue_push (ring->full, ring);
  g_thread_join (g_steal_pointer (&ring->thread));
}

static void
md5_ring_free (Md5Ring *ring)
{
  if (ring == NULL)
    return;

  md5_ring_drain (ring);
  for (guint i = 0; i < RING_SLOTS; i++)
    g_free (ring->slots[i].data);
  g_async_queue_unref (ring->full);
  g_async_queue_unref (ring->free);
  g_clear_pointer (&ring->md5s, g_ptr_array_unref);
  g_free (ring);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Md5Ring, md5_ring_free)

/**
 * eider_upload_prepare_replacement:
 * @replaces_id: the Ente file whose content this is (0: a new file)
 * @file_key: (nullable): that file's key (a replacement is encrypted with
 *   it: Ente keeps the file's key); %NULL for a new random key
 *
 * eider_upload_prepare(), for new content of an existing Ente file: the
 * upload ends with PUT /files/update instead of POST /files.
 */
gboolean
eider_upload_prepare_replacement (const char         *path,
                                  const EiderStat    *expected,
                                  gint64              file_id,
                                  gint64              replaces_id,
                                  gint64              collection_id,
                                  const EiderSecret  *collection_key,
                                  const EiderSecret  *file_key_in,
                                  EiderUploadRecord **record_out,
                                  char              **hash_out,
                                  GBytes            **content_out,
                                  GBytes            **body_out,
                                  EiderCryptoProgress progress,
                                  gpointer            progress_data,
                                  GCancellable       *cancellable,
                                  GError            **error)
{
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(EiderSecret) file_key = NULL;
  g_autoptr(EiderHash) hash = NULL;
  g_autoptr(PushState) state = NULL;
  g_autoptr(EiderMd5) md5 = NULL;
  g_autoptr(Md5Ring) ring = NULL;
  g_autoptr(GPtrArray) md5s = NULL;
  g_autoptr(EiderUploadRecord) record = NULL;
  g_autofree guint8 *plain = NULL;
  g_autofree guint8 *ct = NULL;
  g_autofree char *name = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  struct stat st;
  gint64 size, encrypted_size, part_size, done, part_bytes;
  gsize plain_len;
  guint n_parts, n_chunks;
  gboolean keep_plain, keep_body;
  int fd;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (expected != NULL, FALSE);
  g_return_val_if_fail (collection_key != NULL, FALSE);
  g_return_val_if_fail (record_out != NULL, FALSE);

  name = g_filename_display_name (path);

  fd = open_regular (path, &st, error);
  if (fd < 0)
    return FALSE;
  in = g_unix_input_stream_new (fd, TRUE);

  if (!stat_same (&st, expected->size, expected->mtime_ns, expected->dev, expected->inode))
    {
      set_changed_error (error, path);
      return FALSE;
    }

  size = st.st_size;
  if (size == 0)
    {
      g_set_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_EMPTY,
                   "“%s” is empty", name);
      return FALSE;
    }
  if (size >= EIDER_UPLOAD_MAX_PLAIN_SIZE)
    {
      g_set_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_TOO_LARGE,
                   "“%s” is too large for Ente (10 GiB at most)", name);
      return FALSE;
    }

  eider_upload_plan_parts (size, &encrypted_size, &part_size, &n_parts);
  n_chunks = (guint) ((size + EIDER_STREAM_CHUNK_SIZE - 1) / EIDER_STREAM_CHUNK_SIZE);
  keep_plain = content_out != NULL && size <= EIDER_UPLOAD_SINGLE_MAX_PLAIN;
  keep_body = body_out != NULL && size <= EIDER_UPLOAD_SINGLE_MAX_PLAIN;

  g_return_val_if_fail ((replaces_id > 0) == (file_key_in != NULL), FALSE);
  file_key = file_key_in != NULL ? eider_secret_copy (file_key_in)
                                 : eider_secret_new_random (EIDER_KEY_BYTES);
  state = push_state_new (file_key, header, FALSE);
  hash = eider_hash_new ();

  /* One PUT: one MD5, here. Multipart: the parts' MD5s beside, in the
   * ring's thread. */
  if (part_size > 0)
    ring = md5_ring_new ();
  else
    {
      md5 = eider_md5_new ();
      ct = g_malloc (keep_body ? (gsize) encrypted_size : EIDER_STREAM_BLOCK_SIZE);
    }
  plain_len = keep_plain ? (gsize) size : (gsize) MIN (size, (gint64) EIDER_STREAM_CHUNK_SIZE);
  plain = g_malloc (plain_len);

  done = 0;
  part_bytes = 0;
  for (guint i = 0; i < n_chunks; i++)
    {
      gsize len = (gsize) MIN ((gint64) EIDER_STREAM_CHUNK_SIZE, size - done);
      guint8 *buf = keep_plain ? plain + done : plain;
      RingSlot *slot = NULL;
      guint8 *out;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (!read_exact (in, buf, len, path, cancellable, error))
        return FALSE;

      eider_hash_update (hash, buf, len);
      if (ring != NULL)
        {
          slot = g_async_queue_pop (ring->free);
          out = slot->data;
        }
      else
        out = keep_body ? ct + done + (gint64) i * EIDER_STREAM_ABYTES : ct;
      push_chunk (state, buf, len, i + 1 == n_chunks, out);
      part_bytes += len + EIDER_STREAM_ABYTES;
      done += len;

      if (slot != NULL)
        {
          slot->len = len + EIDER_STREAM_ABYTES;
          slot->part_end = part_bytes == part_size || i + 1 == n_chunks;
          if (slot->part_end)
            part_bytes = 0;
          g_async_queue_push (ring->full, slot);
        }
      else
        eider_md5_update (md5, out, len + EIDER_STREAM_ABYTES);

      if (progress != NULL)
        progress ((guint64) done, progress_data);
    }

  if (ring != NULL)
    {
      md5_ring_drain (ring);
      md5s = g_steal_pointer (&ring->md5s);
    }
  else
    {
      md5s = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (md5s, eider_md5_finish_base64 (md5));
    }
  g_assert (md5s->len == n_parts);

  if (!check_at_end (in, path, cancellable, error))
    return FALSE;
  if (fstat (fd, &st) != 0 ||
      !stat_same (&st, expected->size, expected->mtime_ns, expected->dev, expected->inode))
    {
      set_changed_error (error, path);
      return FALSE;
    }

  record = g_new0 (EiderUploadRecord, 1);
  record->file_id = file_id;
  record->replaces_id = replaces_id;
  record->collection_id = collection_id;
  record->hash = eider_hash_finish_base64 (hash);
  record->plain_size = size;
  record->mtime_ns = stat_mtime_ns (&st);
  eider_crypto_wrap_key (file_key, collection_key, &record->encrypted_key, &record->key_nonce);
  record->file_header = eider_base64_encode (header, sizeof header);
  record->encrypted_size = encrypted_size;
  record->part_size = part_size;
  g_ptr_array_add (md5s, NULL);
  record->part_md5s = (GStrv) g_ptr_array_free (g_steal_pointer (&md5s), FALSE);
  record->etags = strv_of_empty (n_parts);

  if (hash_out != NULL)
    *hash_out = g_strdup (record->hash);
  if (content_out != NULL)
    *content_out = keep_plain ? g_bytes_new_take (g_steal_pointer (&plain), size) : NULL;
  if (body_out != NULL)
    *body_out = keep_body ? g_bytes_new_take (g_steal_pointer (&ct), encrypted_size) : NULL;
  if (plain != NULL)
    sodium_memzero (plain, plain_len);

  *record_out = g_steal_pointer (&record);

  return TRUE;
}

/* Blobs */

static void
encrypt_blob_b64 (const EiderSecret  *key,
                  const char         *text,
                  char              **data_out,
                  char              **header_out)
{
  g_autoptr(GBytes) ct = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  gsize len;
  const guint8 *data;

  ct = eider_blob_encrypt ((const guint8 *) text, strlen (text), key, header);
  data = g_bytes_get_data (ct, &len);
  *data_out = eider_base64_encode (data, len);
  *header_out = eider_base64_encode (header, sizeof header);
}

/**
 * eider_upload_record_set_blobs:
 * @pubmm_json: (nullable): the public magic metadata, or %NULL for none
 * @thumbnail_jpeg: the thumbnail (a JPEG, or Ente's black placeholder)
 *
 * Encrypts the metadata, the public magic metadata and the thumbnail with
 * the record's file key, each as one FINAL secretstream message with its own
 * fresh header (§2.4–2.5).
 */
gboolean
eider_upload_record_set_blobs (EiderUploadRecord  *record,
                               const EiderSecret  *collection_key,
                               const char         *metadata_json,
                               const char         *pubmm_json,
                               guint               pubmm_count,
                               GBytes             *thumbnail_jpeg,
                               GError            **error)
{
  g_autoptr(EiderSecret) file_key = NULL;
  g_autoptr(GBytes) thumb = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (collection_key != NULL, FALSE);
  g_return_val_if_fail (metadata_json != NULL, FALSE);
  g_return_val_if_fail (thumbnail_jpeg != NULL, FALSE);

  file_key = eider_crypto_unwrap_key (record->encrypted_key, record->key_nonce,
                                      collection_key, error);
  if (file_key == NULL)
    return FALSE;

  g_clear_pointer (&record->metadata_data, g_free);
  g_clear_pointer (&record->metadata_header, g_free);
  encrypt_blob_b64 (file_key, metadata_json, &record->metadata_data, &record->metadata_header);

  g_clear_pointer (&record->pubmm_data, g_free);
  g_clear_pointer (&record->pubmm_header, g_free);
  record->pubmm_count = 0;
  if (pubmm_json != NULL)
    {
      encrypt_blob_b64 (file_key, pubmm_json, &record->pubmm_data, &record->pubmm_header);
      record->pubmm_count = (gint) pubmm_count;
    }

  data = g_bytes_get_data (thumbnail_jpeg, &len);
  thumb = eider_blob_encrypt (data, len, file_key, header);
  g_clear_pointer (&record->thumb_data, g_bytes_unref);
  g_clear_pointer (&record->thumb_header, g_free);
  g_clear_pointer (&record->thumb_object_key, g_free);
  record->thumb_data = g_steal_pointer (&thumb);
  record->thumb_header = eider_base64_encode (header, sizeof header);
  record->thumb_size = (gint64) g_bytes_get_size (record->thumb_data);
  record->thumb_done = FALSE;

  return TRUE;
}

/* {"objectKey", "decryptionHeader", "size"}: a stored object in POST /files. */
static void
add_object_member (JsonBuilder *builder,
                   const char  *member,
                   const char  *object_key,
                   const char  *header,
                   gint64       size)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "objectKey");
  json_builder_add_string_value (builder, object_key);
  json_builder_set_member_name (builder, "decryptionHeader");
  json_builder_add_string_value (builder, header);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, size);
  json_builder_end_object (builder);
}

JsonNode *
eider_upload_record_to_json (const EiderUploadRecord *record)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (record != NULL, NULL);

  json_builder_begin_object (builder);
  if (record->replaces_id > 0)
    {
      /* PUT /files/update: the file keeps its key, albums and public
       * magic metadata (spec/ente-upload.md §9.2). */
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, record->replaces_id);
    }
  else
    {
      json_builder_set_member_name (builder, "collectionID");
      json_builder_add_int_value (builder, record->collection_id);
      json_builder_set_member_name (builder, "encryptedKey");
      json_builder_add_string_value (builder, record->encrypted_key);
      json_builder_set_member_name (builder, "keyDecryptionNonce");
      json_builder_add_string_value (builder, record->key_nonce);
    }

  add_object_member (builder, "file", record->object_key, record->file_header,
                     record->encrypted_size);
  add_object_member (builder, "thumbnail", record->thumb_object_key, record->thumb_header,
                     record->thumb_size);

  json_builder_set_member_name (builder, "metadata");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "encryptedData");
  json_builder_add_string_value (builder, record->metadata_data);
  json_builder_set_member_name (builder, "decryptionHeader");
  json_builder_add_string_value (builder, record->metadata_header);
  json_builder_end_object (builder);

  if (record->pubmm_data != NULL && record->replaces_id == 0)
    {
      json_builder_set_member_name (builder, "pubMagicMetadata");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "version");
      json_builder_add_int_value (builder, 1);
      json_builder_set_member_name (builder, "count");
      json_builder_add_int_value (builder, record->pubmm_count);
      json_builder_set_member_name (builder, "data");
      json_builder_add_string_value (builder, record->pubmm_data);
      json_builder_set_member_name (builder, "header");
      json_builder_add_string_value (builder, record->pubmm_header);
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* The object's bytes, part by part (worker threads, one at a time).
 *
 * A small file's ciphertext, made by prepare, is sent as it is. Otherwise
 * the file is read and encrypted again (same key and header, same bytes);
 * the first part opens it and checks it is still the content the record
 * describes (size and modification time).
 *
 * A part that is sent is not MD5'd again: it goes with the recorded
 * Content-MD5, which the object store checks, so a part whose bytes
 * changed since prepare is refused (BadDigest), and that is a changed
 * file. A part acknowledged before (a resumed upload) is not sent, so its
 * MD5 is checked here instead: a mismatch means the file changed. */

typedef struct
{
  char         *path;
  GBytes       *body;      /* the whole object, from prepare, or NULL */
  gboolean      opened;
  GInputStream *in;
  int           fd;
  EiderSecret  *file_key;
  guint8        header[EIDER_STREAM_HEADER_BYTES];
  PushState    *state;
  gint64        plain_size;
  gint64        mtime_ns;
  gint64        plain_done;
  guint8       *inbuf;
  GBytes       *partbuf;   /* one buffer for every part, so memory stays flat */
} PartSource;

static void
part_source_free (PartSource *src)
{
  if (src == NULL)
    return;

  g_clear_object (&src->in);
  g_clear_pointer (&src->body, g_bytes_unref);
  g_clear_pointer (&src->file_key, eider_secret_free);
  g_clear_pointer (&src->state, push_state_free);
  g_clear_pointer (&src->partbuf, g_bytes_unref);
  if (src->inbuf != NULL)
    sodium_memzero (src->inbuf, EIDER_STREAM_CHUNK_SIZE);
  g_free (src->inbuf);
  g_free (src->path);
  g_free (src);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PartSource, part_source_free)

static gboolean
part_source_open (PartSource    *src,
                  GCancellable  *cancellable,
                  GError       **error)
{
  struct stat st;

  if (src->body != NULL)
    {
      /* The bytes are the ones that were hashed; the file must still be
       * them too, or what is uploaded would be recorded against content
       * that no longer exists. */
      if (lstat (src->path, &st) != 0 || !S_ISREG (st.st_mode) ||
          !stat_same (&st, src->plain_size, src->mtime_ns, 0, 0))
        {
          set_changed_error (error, src->path);
          return FALSE;
        }
    }
  else
    {
      src->fd = open_regular (src->path, &st, error);
      if (src->fd < 0)
        return FALSE;
      src->in = g_unix_input_stream_new (src->fd, TRUE);
      if (!stat_same (&st, src->plain_size, src->mtime_ns, 0, 0))
        {
          set_changed_error (error, src->path);
          return FALSE;
        }
      src->inbuf = g_malloc (EIDER_STREAM_CHUNK_SIZE);
      src->state = push_state_new (src->file_key, src->header, TRUE);
    }

  src->opened = TRUE;

  return TRUE;
}

/* The next @part_len bytes of the object; @check_md5 (nullable): the
 * part is not sent, so its bytes are checked against it. */
static GBytes *
part_source_next (PartSource    *src,
                  gint64         part_len,
                  const char    *check_md5,
                  GCancellable  *cancellable,
                  GError       **error)
{
  gint64 produced = 0;
  guint8 *buf;

  if (!src->opened && !part_source_open (src, cancellable, error))
    return NULL;

  if (src->body != NULL)
    {
      if ((gint64) g_bytes_get_size (src->body) != part_len)
        {
          g_set_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                       "The upload's ciphertext does not fit its plan (%" G_GSIZE_FORMAT
                       " bytes for %" G_GINT64_FORMAT ")", g_bytes_get_size (src->body), part_len);
          return NULL;
        }
      return g_bytes_ref (src->body);
    }

  /* Parts are produced one after the other, and each is sent before the
   * next is made: one buffer (allocated in whichever thread comes first)
   * serves them all. A GBytes, so a request still holding a part keeps it
   * alive. */
  if (src->partbuf == NULL || (gint64) g_bytes_get_size (src->partbuf) < part_len)
    {
      g_clear_pointer (&src->partbuf, g_bytes_unref);
      src->partbuf = g_bytes_new_take (g_malloc (part_len), part_len);
    }
  buf = (guint8 *) g_bytes_get_data (src->partbuf, NULL);

  while (produced < part_len)
    {
      gsize len = (gsize) MIN ((gint64) EIDER_STREAM_CHUNK_SIZE, src->plain_size - src->plain_done);
      gboolean final = src->plain_done + (gint64) len == src->plain_size;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      if (len == 0 || produced + (gint64) len + EIDER_STREAM_ABYTES > part_len)
        {
          g_set_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                       "The upload's part plan does not fit its file (part of %" G_GINT64_FORMAT
                       " bytes)", part_len);
          return NULL;
        }

      if (!read_exact (src->in, src->inbuf, len, src->path, cancellable, error))
        return NULL;

      push_chunk (src->state, src->inbuf, len, final, buf + produced);
      produced += len + EIDER_STREAM_ABYTES;
      src->plain_done += len;
    }

  if (src->plain_done == src->plain_size)
    {
      struct stat st;

      if (!check_at_end (src->in, src->path, cancellable, error))
        return NULL;
      if (fstat (src->fd, &st) != 0 || !stat_same (&st, src->plain_size, src->mtime_ns, 0, 0))
        {
          set_changed_error (error, src->path);
          return NULL;
        }
    }

  if (check_md5 != NULL)
    {
      g_autofree char *md5 = eider_content_md5 (buf, part_len);

      if (g_strcmp0 (md5, check_md5) != 0)
        {
          set_changed_error (error, src->path);
          return NULL;
        }
    }

  return g_bytes_new_from_bytes (src->partbuf, 0, part_len);
}

typedef struct
{
  PartSource *source;
  gint64      part_len;
  char       *md5;
} PartRequest;

static void
part_request_free (PartRequest *req)
{
  g_free (req->md5);
  g_free (req);
}

static void
produce_part_worker (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  PartRequest *req = task_data;
  GError *error = NULL;
  GBytes *bytes;

  bytes = part_source_next (req->source, req->part_len, req->md5, cancellable, &error);
  if (bytes == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
}

/* EiderUploader */

struct _EiderUploader
{
  GObject      parent_instance;

  EiderApi    *api;
  EiderStore  *store;
  SoupSession *session;
  guint        retry_delay_ms;
  EiderThrottle *throttle;   /* the bandwidth cap over all object uploads */

  /* Single-part object URLs (see "The URL pool" below). */
  GQueue       url_pool;     /* PooledUrl */
  GQueue       url_waiters;  /* UrlWaiter */
  gboolean     url_filling;
};

G_DEFINE_FINAL_TYPE (EiderUploader, eider_uploader, G_TYPE_OBJECT)

typedef struct
{
  char   *key;
  char   *url;
  gint64  usable_until_us;
} PooledUrl;

static void
pooled_url_free (PooledUrl *u)
{
  g_free (u->key);
  g_free (u->url);
  g_free (u);
}

enum {
  PROP_0,
  PROP_API,
  PROP_STORE,
  PROP_RETRY_DELAY_MS,
  N_PROPS
};

enum {
  PROGRESS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
eider_uploader_dispose (GObject *object)
{
  EiderUploader *self = (EiderUploader *) object;

  g_clear_object (&self->session);
  g_clear_object (&self->throttle);
  /* Waiters hold their jobs, which hold the uploader: none is left here. */
  g_queue_clear_full (&self->url_pool, (GDestroyNotify) pooled_url_free);
  g_clear_object (&self->api);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (eider_uploader_parent_class)->dispose (object);
}

static void
eider_uploader_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  EiderUploader *self = EIDER_UPLOADER (object);

  switch (prop_id)
    {
    case PROP_API:
      g_value_set_object (value, self->api);
      break;

    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_RETRY_DELAY_MS:
      g_value_set_uint (value, self->retry_delay_ms);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_uploader_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  EiderUploader *self = EIDER_UPLOADER (object);

  switch (prop_id)
    {
    case PROP_API:
      self->api = g_value_dup_object (value);
      break;

    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    case PROP_RETRY_DELAY_MS:
      eider_uploader_set_retry_delay_ms (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_uploader_constructed (GObject *object)
{
  EiderUploader *self = (EiderUploader *) object;

  G_OBJECT_CLASS (eider_uploader_parent_class)->constructed (object);

  /* Object PUTs share the API's session: its kept-alive connections serve
   * the next file's requests (against a server that answers the API and
   * the objects on one host, both kinds of request). */
  if (self->api != NULL)
    self->session = g_object_ref (eider_api_get_session (self->api));
  else
    self->session = soup_session_new ();
}

static void
eider_uploader_class_init (EiderUploaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = eider_uploader_constructed;
  object_class->dispose = eider_uploader_dispose;
  object_class->get_property = eider_uploader_get_property;
  object_class->set_property = eider_uploader_set_property;

  properties[PROP_API] =
    g_param_spec_object ("api", NULL, NULL,
                         EIDER_TYPE_API,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         EIDER_TYPE_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * EiderUploader:retry-delay-ms:
   *
   * The first back-off after a transient failure; each further try waits
   * twice as long (with jitter), up to 30 s, for 6 tries in all.
   */
  properties[PROP_RETRY_DELAY_MS] =
    g_param_spec_uint ("retry-delay-ms", NULL, NULL,
                       1, MAX_DELAY_MS, 1000,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EiderUploader::progress:
   * @file_id: the upload's EiderUploadRecord.file_id
   * @sent: encrypted bytes on the server or on their way (file and thumbnail)
   * @total: encrypted size of the file plus the thumbnail
   *
   * Emitted as request bodies are written, at most once per MiB, and when a
   * part that the server already has is skipped.
   */
  signals[PROGRESS] =
    g_signal_new ("progress",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_INT64, G_TYPE_INT64, G_TYPE_INT64);
}

static void
eider_uploader_init (EiderUploader *self)
{
  self->retry_delay_ms = 1000;
  self->throttle = eider_throttle_new (0);
}

EiderUploader *
eider_uploader_new (EiderApi   *api,
                    EiderStore *store)
{
  g_return_val_if_fail (EIDER_IS_API (api), NULL);
  g_return_val_if_fail (EIDER_IS_STORE (store), NULL);

  return g_object_new (EIDER_TYPE_UPLOADER, "api", api, "store", store, NULL);
}

EiderApi *
eider_uploader_get_api (EiderUploader *self)
{
  g_return_val_if_fail (EIDER_IS_UPLOADER (self), NULL);

  return self->api;
}

EiderStore *
eider_uploader_get_store (EiderUploader *self)
{
  g_return_val_if_fail (EIDER_IS_UPLOADER (self), NULL);

  return self->store;
}

guint
eider_uploader_get_retry_delay_ms (EiderUploader *self)
{
  g_return_val_if_fail (EIDER_IS_UPLOADER (self), 0);

  return self->retry_delay_ms;
}

/* Object bodies (file parts, thumbnails) go out at most this fast, all
 * uploads together; 0 lifts the cap. */
void
eider_uploader_set_bandwidth_limit (EiderUploader *self,
                                    guint64        bytes_per_second)
{
  g_return_if_fail (EIDER_IS_UPLOADER (self));

  eider_throttle_set_rate (self->throttle, bytes_per_second);
}

void
eider_uploader_set_retry_delay_ms (EiderUploader *self,
                                   guint          delay_ms)
{
  g_return_if_fail (EIDER_IS_UPLOADER (self));

  delay_ms = CLAMP (delay_ms, 1, MAX_DELAY_MS);
  if (self->retry_delay_ms == delay_ms)
    return;

  self->retry_delay_ms = delay_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_DELAY_MS]);
}

/* One upload: a small state machine on the main context. Every step
 * starts from what the record says, and the record is saved in the store
 * as soon as a step's result is known:
 *
 *   !file_done, no URLs or URLs about to expire → request URLs (single or
 *     multipart); a new multipart upload forgets all ETags (Ente has no way
 *     to re-sign the parts of an existing upload, and presigned URLs last
 *     7 days, so this only happens to an upload left alone that long)
 *   !file_done → re-encrypt part by part from the start (checking each
 *     part's MD5), skip parts with an ETag, PUT the others, save each ETag;
 *     multipart: POST the completion XML → file_done
 *   !thumb_done → upload URL + PUT of the encrypted thumbnail → thumb_done,
 *     in a lane of its own that runs beside the file's steps from the
 *     start (both save the one record, so either's progress survives)
 *   both done → POST /files (idempotent: replaying the same body gives the
 *     same id)
 *
 * A small file thus costs five requests but three round trips one after
 * another: its URL and the thumbnail's, its PUT and the thumbnail's, then
 * POST /files.
 */

typedef void (*JobStep) (GTask *task);

typedef struct _UploadJob UploadJob;
struct _UploadJob
{
  EiderUploader     *self;
  EiderUploadRecord *record;
  char              *path;
  GBytes            *ciphertext;     /* the object, when prepare kept it */
  EiderSecret       *collection_key;
  PartSource        *source;
  guint              n_parts;
  guint              part;
  guint              attempt;
  gboolean           renewed;
  gint64             acked;
  gint64             in_flight;
  gint64             reported;
  gint64             total;
  GBytes            *body;
  SoupMessage       *message;
  char              *thumb_url;
  char              *thumb_key;
  GSource           *wait_source;
  GSource           *cancel_source;
  JobStep            again;

  /* The thumbnail goes up in a lane beside the file's steps: an UploadJob
   * of its own (its own request, tries and waits) on the job's record. */
  UploadJob         *thumb_lane;   /* the job: its lane while it runs */
  GError            *thumb_error;  /* the job: why its lane failed */
  gboolean           waiting;      /* the job: the file is done, the lane is not */
  UploadJob         *root;         /* a lane: the job it works for */
  GTask             *root_task;    /* a lane: the job's task (the lane's callback holds it) */
};

static void
job_clear_wait (UploadJob *job)
{
  if (job->cancel_source != NULL)
    {
      g_source_destroy (job->cancel_source);
      g_clear_pointer (&job->cancel_source, g_source_unref);
    }
  if (job->wait_source != NULL)
    {
      g_source_destroy (job->wait_source);
      g_clear_pointer (&job->wait_source, g_source_unref);
    }
}

static void
upload_job_free (UploadJob *job)
{
  job_clear_wait (job);
  g_clear_object (&job->message);
  g_clear_pointer (&job->body, g_bytes_unref);
  g_clear_pointer (&job->source, part_source_free);
  if (job->root == NULL)
    g_clear_pointer (&job->record, eider_upload_record_free);
  g_clear_error (&job->thumb_error);
  g_clear_pointer (&job->ciphertext, g_bytes_unref);
  g_clear_pointer (&job->collection_key, eider_secret_free);
  g_free (job->path);
  g_free (job->thumb_url);
  g_free (job->thumb_key);
  g_clear_object (&job->self);
  g_free (job);
}

static void job_continue (GTask *task);

static UploadJob *
job_of (GTask *task)
{
  return g_task_get_task_data (task);
}

/* Progress of the whole upload, the file's steps and the thumbnail's lane
 * together: called for either. */
static void
job_progress (UploadJob *job,
              gboolean   force)
{
  UploadJob *root = job->root != NULL ? job->root : job;
  gint64 sent = root->acked + root->in_flight;

  if (root->thumb_lane != NULL)
    sent += root->thumb_lane->in_flight;
  sent = MIN (sent, root->total);
  if (!force && sent - root->reported < PROGRESS_STEP)
    return;

  root->reported = sent;
  g_signal_emit (root->self, signals[PROGRESS], 0, root->record->file_id, sent, root->total);
}

static gboolean
job_save_full (GTask    *task,
               gboolean  durable)
{
  UploadJob *job = job_of (task);
  g_autoptr(GError) error = NULL;
  gboolean saved;

  if (durable)
    saved = eider_store_save_upload (job->self->store, job->record, &error);
  else
    saved = eider_store_save_upload_progress (job->self->store, job->record, &error);
  if (!saved)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return FALSE;
    }

  return TRUE;
}

static gboolean
job_save (GTask *task)
{
  return job_save_full (task, TRUE);
}

/* A single PUT or a thumbnail acknowledged: grouped with other writes
 * (a crash sends it again), so that a small file costs the store two
 * commits (its URLs, its end) rather than four. */
static gboolean
job_save_progress (GTask *task)
{
  return job_save_full (task, FALSE);
}

static gboolean
wait_over_cb (gpointer user_data)
{
  g_autoptr(GTask) task = g_object_ref (user_data);
  UploadJob *job = job_of (task);

  job_clear_wait (job);
  if (g_task_return_error_if_cancelled (task))
    return G_SOURCE_REMOVE;

  job->again (task);

  return G_SOURCE_REMOVE;
}

static gboolean
wait_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  return wait_over_cb (user_data);
}

/* A transient failure of one request: try it again after a back-off (and
 * at least Retry-After), or give up with EIDER_UPLOAD_ERROR_TRANSIENT. */
static void
job_retry (GTask   *task,
           GError  *error,
           guint    retry_after_s,
           JobStep  again)
{
  UploadJob *job = job_of (task);
  guint64 delay;

  job->attempt++;
  if (job->attempt >= MAX_TRIES)
    {
      g_task_return_new_error (task, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_TRANSIENT,
                               "Gave up after %u tries: %s", job->attempt, error->message);
      g_error_free (error);
      return;
    }

  g_debug ("Try %u failed (%s), trying again", job->attempt, error->message);
  g_error_free (error);

  delay = MIN ((guint64) job->self->retry_delay_ms << (job->attempt - 1), MAX_DELAY_MS);
  delay = delay / 2 + g_random_int_range (0, (gint32) (delay / 2) + 1);
  if (retry_after_s > 0)
    delay = MAX (delay, (guint64) MIN (retry_after_s, MAX_RETRY_AFTER_S) * 1000);

  job->again = again;
  job->wait_source = g_timeout_source_new ((guint) delay);
  g_source_set_callback (job->wait_source, wait_over_cb, g_object_ref (task), g_object_unref);
  g_source_attach (job->wait_source, g_task_get_context (task));

  if (g_task_get_cancellable (task) != NULL)
    {
      job->cancel_source = g_cancellable_source_new (g_task_get_cancellable (task));
      g_source_set_callback (job->cancel_source, (GSourceFunc) (void (*) (void)) wait_cancelled_cb,
                             task, NULL);
      g_source_attach (job->cancel_source, g_task_get_context (task));
    }
}

static gboolean
api_error_is_transient (const GError *error)
{
  return g_error_matches (error, EIDER_API_ERROR, EIDER_API_ERROR_NETWORK) ||
         g_error_matches (error, EIDER_API_ERROR, EIDER_API_ERROR_SERVER) ||
         g_error_matches (error, EIDER_API_ERROR, EIDER_API_ERROR_RATE_LIMITED) ||
         g_error_matches (error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE);
}

/* An API call failed: retry the transient, return the rest unchanged. */
static void
job_api_failed (GTask   *task,
                GError  *error,
                JobStep  again)
{
  if (api_error_is_transient (error))
    job_retry (task, error, eider_api_error_get_retry_after (error), again);
  else
    g_task_return_error (task, error);
}

/* URLs */

static gint64
url_expiry_us (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(GDateTime) date = NULL;
  const char *date_text, *expires_text;
  guint64 expires = 0;
  int y, mo, d, h, mi, s;

  if (uri == NULL || g_uri_get_query (uri) == NULL)
    return 0;
  params = g_uri_parse_params (g_uri_get_query (uri), -1, "&", G_URI_PARAMS_NONE, NULL);
  if (params == NULL)
    return 0;

  date_text = g_hash_table_lookup (params, "X-Amz-Date");
  expires_text = g_hash_table_lookup (params, "X-Amz-Expires");
  if (date_text == NULL || expires_text == NULL ||
      sscanf (date_text, "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &s) != 6 ||
      !g_ascii_string_to_unsigned (expires_text, 10, 1, 7 * 24 * 3600, &expires, NULL))
    return 0;

  date = g_date_time_new_utc (y, mo, d, h, mi, s);
  if (date == NULL)
    return 0;

  return g_date_time_to_unix (date) * G_USEC_PER_SEC + (gint64) expires * G_USEC_PER_SEC;
}

/* When the URLs stop working: from the URL itself (X-Amz-Date +
 * X-Amz-Expires), else 7 days from now, as museum signs them. */
static gint64
urls_expiry_us (const char *url)
{
  gint64 expiry = url != NULL ? url_expiry_us (url) : 0;

  return expiry > 0 ? expiry : g_get_real_time () + URL_VALIDITY_US;
}

static gboolean
urls_usable (const EiderUploadRecord *r)
{
  return r->object_key != NULL &&
         r->part_urls != NULL &&
         (r->part_size == 0 || r->complete_url != NULL) &&
         r->urls_expire_us - g_get_real_time () > URL_MARGIN_US;
}

static void
job_forget_urls (UploadJob *job)
{
  EiderUploadRecord *r = job->record;

  g_clear_pointer (&r->object_key, g_free);
  g_clear_pointer (&r->part_urls, g_strfreev);
  g_clear_pointer (&r->complete_url, g_free);
  r->urls_expire_us = 0;
  g_strfreev (r->etags);
  r->etags = strv_of_empty (job->n_parts);
  r->file_done = FALSE;

  /* The next parts are produced from the start again. */
  g_clear_pointer (&job->source, part_source_free);
  job->part = 0;
  job->acked = 0;
}

static const char *
member_string (JsonObject *obj,
               const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

/* The URL pool. A single-part object (a small file, every thumbnail) is
 * put to a URL from a pool filled by GET /files/upload-urls?count=N, as
 * Ente's own clients do: one call for up to 50 objects instead of one per
 * object, which keeps a big first backup far below museum's limit of 500
 * upload-URL calls a minute per user (one per object would be about four
 * small files a second). Those URLs sign only the host; every PUT still
 * carries the body's Content-MD5, which the object store checks. */

#define URL_POOL_MAX 50   /* museum's most per call */

typedef void (*UrlReady) (GTask      *task,
                          const char *key,
                          const char *url,
                          GError     *error);

typedef struct
{
  GTask    *task;
  UrlReady  ready;
} UrlWaiter;

static void url_pool_serve (EiderUploader *self);

static void
url_pool_filled_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(EiderUploader) self = user_data;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj;
  JsonArray *urls = NULL;

  self->url_filling = FALSE;
  node = eider_api_call_finish (EIDER_API (object), result, &error);
  obj = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (obj != NULL && json_object_has_member (obj, "urls") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "urls")))
    urls = json_object_get_array_member (obj, "urls");

  for (guint i = 0; urls != NULL && i < json_array_get_length (urls); i++)
    {
      JsonNode *item = json_array_get_element (urls, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
      const char *key = entry != NULL ? member_string (entry, "objectKey") : NULL;
      const char *url = entry != NULL ? member_string (entry, "url") : NULL;
      gint64 now = g_get_real_time ();
      gint64 expires;
      PooledUrl *pooled;

      if (key == NULL || url == NULL)
        continue;
      /* Kept until an hour before it expires, or half its life when that
       * is shorter, and for a minute at least (a clock far from the
       * server's: the PUT is then refused, and tried again as any). */
      expires = urls_expiry_us (url);
      pooled = g_new0 (PooledUrl, 1);
      pooled->key = g_strdup (key);
      pooled->url = g_strdup (url);
      pooled->usable_until_us = MAX (expires - MIN (URL_MARGIN_US, MAX (expires - now, 0) / 2),
                                     now + 60 * G_USEC_PER_SEC);
      g_queue_push_tail (&self->url_pool, pooled);
    }

  if (error == NULL && g_queue_is_empty (&self->url_pool))
    error = g_error_new_literal (EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                                 "The server's upload URLs answer has no URL");
  if (error != NULL)
    {
      /* Each waiting job retries (or gives up) on its own. */
      GQueue waiters = self->url_waiters;
      UrlWaiter *w;

      g_queue_init (&self->url_waiters);
      while ((w = g_queue_pop_head (&waiters)) != NULL)
        {
          w->ready (w->task, NULL, NULL, g_error_copy (error));
          g_object_unref (w->task);
          g_free (w);
        }
      return;
    }

  url_pool_serve (self);
}

static void
url_pool_fill (EiderUploader *self)
{
  g_autofree char *path = NULL;

  if (self->url_filling)
    return;

  /* As many as museum gives: the objects waiting and those to follow
   * (files become ready one by one, so asking for just the waiting ones
   * made a call every file or two). What is left keeps for the next
   * files, for days (see usable_until_us). */
  path = g_strdup_printf ("/files/upload-urls?count=%u", URL_POOL_MAX);
  self->url_filling = TRUE;
  eider_api_call_async (self->api, "GET", path, NULL, EIDER_API_CALL_AUTH, NULL,
                        url_pool_filled_cb, g_object_ref (self));
}

/* Hands URLs to the waiting jobs, first come first served; fills the
 * pool when it runs dry. */
static void
url_pool_serve (EiderUploader *self)
{
  while (!g_queue_is_empty (&self->url_waiters))
    {
      PooledUrl *pooled = g_queue_pop_head (&self->url_pool);
      UrlWaiter *w;

      if (pooled == NULL)
        {
          url_pool_fill (self);
          return;
        }
      if (g_get_real_time () >= pooled->usable_until_us)
        {
          pooled_url_free (pooled);
          continue;
        }

      w = g_queue_pop_head (&self->url_waiters);
      if (g_task_return_error_if_cancelled (w->task))
        g_queue_push_head (&self->url_pool, pooled);
      else
        {
          w->ready (w->task, pooled->key, pooled->url, NULL);
          pooled_url_free (pooled);
        }
      g_object_unref (w->task);
      g_free (w);
    }
}

/* Calls @ready with an object key and its URL for @task's job, or with
 * the error that kept the pool from filling. */
static void
url_take (GTask    *task,
          UrlReady  ready)
{
  EiderUploader *self = job_of (task)->self;
  UrlWaiter *w = g_new0 (UrlWaiter, 1);

  w->task = g_object_ref (task);
  w->ready = ready;
  g_queue_push_tail (&self->url_waiters, w);
  url_pool_serve (self);
}

static void request_urls (GTask *task);

/* The job's object has URLs: kept with the upload before any byte goes. */
static void
job_got_urls (GTask      *task,
              const char *object_key)
{
  UploadJob *job = job_of (task);
  EiderUploadRecord *r = job->record;

  r->object_key = g_strdup (object_key);
  r->urls_expire_us = urls_expiry_us (r->part_urls[0]);

  if (!job_save (task))
    return;

  job->attempt = 0;
  job_continue (task);
}

static void
file_url_ready (GTask      *task,
                const char *key,
                const char *url,
                GError     *error)
{
  UploadJob *job = job_of (task);

  if (error != NULL)
    {
      job_api_failed (task, error, request_urls);
      return;
    }

  job_forget_urls (job);
  job->record->part_urls = g_new0 (char *, 2);
  job->record->part_urls[0] = g_strdup (url);
  job_got_urls (task, key);
}

static void
request_urls_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  UploadJob *job = job_of (task);
  EiderUploadRecord *r = job->record;
  g_autoptr(JsonNode) node = NULL;
  GError *error = NULL;
  JsonObject *obj;
  JsonArray *urls;
  const char *object_key, *complete;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      job_api_failed (task, error, request_urls);
      return;
    }

  obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  object_key = obj != NULL ? member_string (obj, "objectKey") : NULL;
  if (object_key == NULL)
    {
      g_task_return_new_error (task, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                               "The server's upload URL answer has no object key");
      return;
    }

  job_forget_urls (job);
  urls = json_object_has_member (obj, "partURLs") &&
         JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "partURLs"))
         ? json_object_get_array_member (obj, "partURLs") : NULL;
  complete = member_string (obj, "completeURL");

  if (urls == NULL || complete == NULL || json_array_get_length (urls) != job->n_parts)
    {
      g_task_return_new_error (task, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                               "The server's multipart answer does not match the %u parts asked for",
                               job->n_parts);
      return;
    }
  r->part_urls = g_new0 (char *, job->n_parts + 1);
  for (guint i = 0; i < job->n_parts; i++)
    {
      JsonNode *item = json_array_get_element (urls, i);

      if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING)
        {
          g_task_return_new_error (task, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                                   "The server's multipart answer has a bad part URL");
          return;
        }
      r->part_urls[i] = g_strdup (json_node_get_string (item));
    }
  r->complete_url = g_strdup (complete);

  job_got_urls (task, object_key);
}

static void
request_urls (GTask *task)
{
  UploadJob *job = job_of (task);
  EiderUploadRecord *r = job->record;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) body = NULL;

  if (r->part_size == 0)
    {
      url_take (task, file_url_ready);
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "contentLength");
  json_builder_add_int_value (builder, r->encrypted_size);
  json_builder_set_member_name (builder, "partLength");
  json_builder_add_int_value (builder, r->part_size);
  json_builder_set_member_name (builder, "partMd5s");
  json_builder_begin_array (builder);
  for (guint i = 0; i < job->n_parts; i++)
    json_builder_add_string_value (builder, r->part_md5s[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  /* Asking again only mints other URLs for the same upload. */
  eider_api_call_async (job->self->api, "POST", "/files/multipart-upload-url", body,
                        EIDER_API_CALL_AUTH | EIDER_API_CALL_IDEMPOTENT,
                        g_task_get_cancellable (task), request_urls_cb, g_object_ref (task));
}

/* Object storage requests */

static void
wrote_body_data_cb (SoupMessage *message,
                    guint        chunk_size,
                    gpointer     user_data)
{
  UploadJob *job = user_data;

  job->in_flight += chunk_size;
  job_progress (job, FALSE);
}

static void
job_send (GTask               *task,
          const char          *method,
          const char          *url,
          GBytes              *body,
          const char          *content_type,
          const char          *content_md5,
          GAsyncReadyCallback  callback)
{
  UploadJob *job = job_of (task);
  SoupMessageHeaders *headers;

  g_clear_object (&job->message);
  job->message = soup_message_new (method, url);
  if (job->message == NULL)
    {
      g_task_return_new_error (task, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                               "The server gave an invalid object URL");
      return;
    }

  headers = soup_message_get_request_headers (job->message);
  if (content_md5 != NULL)
    soup_message_headers_replace (headers, "Content-MD5", content_md5);
  if (eider_throttle_get_rate (job->self->throttle) > 0)
    {
      g_autoptr(GInputStream) paced = eider_throttle_wrap_bytes (job->self->throttle, body);

      soup_message_set_request_body (job->message, content_type, paced, g_bytes_get_size (body));
    }
  else
    soup_message_set_request_body_from_bytes (job->message, content_type, body);
  job->in_flight = 0;
  g_signal_connect (job->message, "wrote-body-data", G_CALLBACK (wrote_body_data_cb), job);

  soup_session_send_and_read_async (job->self->session, job->message, G_PRIORITY_DEFAULT,
                                    g_task_get_cancellable (task), callback, g_object_ref (task));
}

/* S3 error bodies: <Error><Code>BadDigest</Code>…</Error>. */
static char *
s3_error_code (GBytes *body)
{
  g_autofree char *text = NULL;
  const char *start, *end;
  gsize len = 0;
  const char *data;

  if (body == NULL)
    return NULL;
  data = g_bytes_get_data (body, &len);
  if (data == NULL || len == 0)
    return NULL;
  text = g_strndup (data, len);
  if (strstr (text, "<Error>") == NULL)
    return NULL;

  start = strstr (text, "<Code>");
  end = start != NULL ? strstr (start, "</Code>") : NULL;
  if (start == NULL || end == NULL)
    return g_strdup ("");

  start += strlen ("<Code>");
  return g_strndup (start, end - start);
}

typedef enum
{
  S3_OK,
  S3_DONE,       /* the task was returned or a retry is scheduled */
  S3_RENEW,      /* the URLs no longer work: get new ones */
} S3Outcome;

/* Classifies the answer of an object request. */
static S3Outcome
s3_check (GTask        *task,
          GAsyncResult *result,
          GBytes      **body_out,
          const char   *what,
          JobStep       again)
{
  UploadJob *job = job_of (task);
  g_autoptr(GBytes) body = NULL;
  g_autofree char *code = NULL;
  GError *error = NULL;
  guint status;

  body = soup_session_send_and_read_finish (job->self->session, result, &error);
  if (body == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, error);
      else
        {
          GError *wrapped = g_error_new (EIDER_API_ERROR, EIDER_API_ERROR_NETWORK,
                                         "%s: %s", what, error->message);
          g_error_free (error);
          job_retry (task, wrapped, 0, again);
        }
      return S3_DONE;
    }

  status = soup_message_get_status (job->message);
  code = s3_error_code (body);

  if (status >= 200 && status < 300 && code == NULL)
    {
      if (body_out != NULL)
        *body_out = g_steal_pointer (&body);
      return S3_OK;
    }

  if (g_strcmp0 (code, "BadDigest") == 0)
    {
      set_changed_error (&error, job->path);
      g_task_return_error (task, error);
      return S3_DONE;
    }

  if (status >= 500 || status == 429 || status == 408 ||
      g_strcmp0 (code, "InternalError") == 0 || g_strcmp0 (code, "SlowDown") == 0 ||
      g_strcmp0 (code, "ServiceUnavailable") == 0 || g_strcmp0 (code, "RequestTimeout") == 0)
    {
      const char *retry = soup_message_headers_get_one (soup_message_get_response_headers (job->message),
                                                        "Retry-After");
      guint retry_after = retry != NULL ? (guint) g_ascii_strtoull (retry, NULL, 10) : 0;

      job_retry (task,
                 g_error_new (EIDER_API_ERROR, status == 429 ? EIDER_API_ERROR_RATE_LIMITED
                                                             : EIDER_API_ERROR_SERVER,
                              "%s: HTTP %u %s", what, status, code != NULL ? code : ""),
                 retry_after, again);
      return S3_DONE;
    }

  if (!job->renewed &&
      (g_strcmp0 (code, "AccessDenied") == 0 || g_strcmp0 (code, "NoSuchUpload") == 0 ||
       g_strcmp0 (code, "ExpiredToken") == 0))
    {
      job->renewed = TRUE;
      return S3_RENEW;
    }

  g_task_return_new_error (task, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                           "%s was refused: HTTP %u %s", what, status,
                           code != NULL ? code : soup_message_get_reason_phrase (job->message));
  return S3_DONE;
}

/* Parts */

static void put_part (GTask *task);

static void
put_part_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  UploadJob *job = job_of (task);
  EiderUploadRecord *r = job->record;
  g_autoptr(GError) error = NULL;
  const char *etag;
  gint64 len;

  switch (s3_check (task, result, NULL, "Sending the file", put_part))
    {
    case S3_OK:
      break;
    case S3_RENEW:
      job_forget_urls (job);
      job_continue (task);
      return;
    case S3_DONE:
    default:
      return;
    }

  etag = soup_message_headers_get_one (soup_message_get_response_headers (job->message), "ETag");
  if (etag == NULL || etag[0] == '\0')
    {
      g_task_return_new_error (task, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                               "The object store gave no ETag for part %u", job->part + 1);
      return;
    }

  g_free (r->etags[job->part]);
  r->etags[job->part] = g_strdup (etag);
  if (r->part_size == 0)
    {
      r->file_done = TRUE;
      if (!job_save_progress (task))
        return;
    }
  else if (!eider_store_set_part_etag (job->self->store, r->file_id, job->part, etag, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  len = (gint64) g_bytes_get_size (job->body);
  g_clear_pointer (&job->body, g_bytes_unref);
  job->acked += len;
  job->in_flight = 0;
  job->part++;
  job->attempt = 0;
  job_progress (job, TRUE);
  job_continue (task);
}

static void
put_part (GTask *task)
{
  UploadJob *job = job_of (task);
  EiderUploadRecord *r = job->record;

  job_send (task, "PUT", r->part_urls[job->part], job->body, "application/octet-stream",
            r->part_md5s[job->part], put_part_cb);
}

static void
produce_part_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  UploadJob *job = job_of (task);
  EiderUploadRecord *r = job->record;
  GError *error = NULL;
  GBytes *bytes;

  bytes = g_task_propagate_pointer (G_TASK (result), &error);
  if (bytes == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    {
      g_bytes_unref (bytes);
      return;
    }

  if (r->etags[job->part][0] != '\0')
    {
      /* Acknowledged before: never sent again. */
      job->acked += (gint64) g_bytes_get_size (bytes);
      g_bytes_unref (bytes);
      job->part++;
      job_progress (job, TRUE);
      job_continue (task);
      return;
    }

  g_clear_pointer (&job->body, g_bytes_unref);
  job->body = bytes;
  job->attempt = 0;
  put_part (task);
}

static void
produce_part (GTask *task)
{
  UploadJob *job = job_of (task);
  EiderUploadRecord *r = job->record;
  g_autoptr(GTask) worker = NULL;
  PartRequest *req;

  if (job->source == NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EiderSecret) file_key = NULL;

      file_key = eider_crypto_unwrap_key (r->encrypted_key, r->key_nonce, job->collection_key, &error);
      if (file_key == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      job->source = g_new0 (PartSource, 1);
      job->source->fd = -1;
      job->source->path = g_strdup (job->path);
      job->source->body = job->ciphertext != NULL ? g_bytes_ref (job->ciphertext) : NULL;
      job->source->file_key = g_steal_pointer (&file_key);
      job->source->plain_size = r->plain_size;
      job->source->mtime_ns = r->mtime_ns;
      if (!eider_base64_decode_exact (r->file_header, job->source->header,
                                      EIDER_STREAM_HEADER_BYTES, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }

  req = g_new0 (PartRequest, 1);
  req->source = job->source;
  req->part_len = eider_upload_part_length (r->encrypted_size, r->part_size, job->part);
  /* Only a part that is not sent is checked here (see part_source_next). */
  req->md5 = r->etags[job->part][0] != '\0' ? g_strdup (r->part_md5s[job->part]) : NULL;

  worker = g_task_new (NULL, g_task_get_cancellable (task), produce_part_cb, g_object_ref (task));
  g_task_set_source_tag (worker, produce_part);
  g_task_set_task_data (worker, req, (GDestroyNotify) part_request_free);
  g_task_run_in_thread (worker, produce_part_worker);
}

/* Completion */

static void complete_upload (GTask *task);

static void
complete_upload_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  UploadJob *job = job_of (task);

  switch (s3_check (task, result, NULL, "Completing the multipart upload", complete_upload))
    {
    case S3_OK:
      break;
    case S3_RENEW:
      job_forget_urls (job);
      job_continue (task);
      return;
    case S3_DONE:
    default:
      return;
    }

  job->record->file_done = TRUE;
  if (!job_save (task))
    return;

  job->attempt = 0;
  job_continue (task);
}

static void
complete_upload (GTask *task)
{
  UploadJob *job = job_of (task);
  g_autofree char *xml = eider_upload_completion_xml ((const char * const *) job->record->etags);
  g_autoptr(GBytes) body = g_bytes_new_take (g_steal_pointer (&xml), strlen (xml));

  job_send (task, "POST", job->record->complete_url, body, "text/xml", NULL, complete_upload_cb);
}

/* Thumbnail */

static void request_thumb_url (GTask *task);
static void put_thumb (GTask *task);

static void
put_thumb_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  UploadJob *job = job_of (task);
  EiderUploadRecord *r = job->record;

  switch (s3_check (task, result, NULL, "Sending the thumbnail", put_thumb))
    {
    case S3_OK:
      break;
    case S3_RENEW:
      g_clear_pointer (&job->thumb_url, g_free);
      g_clear_pointer (&job->thumb_key, g_free);
      request_thumb_url (task);
      return;
    case S3_DONE:
    default:
      return;
    }

  /* The job may have ended meanwhile (its file failed): its record is not
   * saved behind the caller's back. */
  if (g_task_get_completed (job->root_task))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The upload ended");
      return;
    }

  g_free (r->thumb_object_key);
  r->thumb_object_key = g_steal_pointer (&job->thumb_key);
  r->thumb_done = TRUE;
  if (!job_save_progress (task))
    return;

  job->root->acked += r->thumb_size;
  job->in_flight = 0;
  job->attempt = 0;
  job_progress (job, TRUE);
  g_task_return_boolean (task, TRUE);
}

static void
put_thumb (GTask *task)
{
  UploadJob *job = job_of (task);
  g_autofree char *md5 = eider_content_md5 (g_bytes_get_data (job->record->thumb_data, NULL),
                                            g_bytes_get_size (job->record->thumb_data));

  job_send (task, "PUT", job->thumb_url, job->record->thumb_data, "application/octet-stream",
            md5, put_thumb_cb);
}

static void
thumb_url_ready (GTask      *task,
                 const char *key,
                 const char *url,
                 GError     *error)
{
  UploadJob *job = job_of (task);

  if (error != NULL)
    {
      job_api_failed (task, error, request_thumb_url);
      return;
    }

  /* The thumbnail's URL is not kept: after a crash a new one is asked for,
   * and the object sent before (if any) is an orphan the server forgets. */
  g_free (job->thumb_key);
  g_free (job->thumb_url);
  job->thumb_key = g_strdup (key);
  job->thumb_url = g_strdup (url);
  job->attempt = 0;
  put_thumb (task);
}

static void
request_thumb_url (GTask *task)
{
  UploadJob *job = job_of (task);
  EiderUploadRecord *r = job->record;

  if (r->thumb_data == NULL || r->thumb_header == NULL)
    {
      g_task_return_new_error (task, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                               "The upload has no thumbnail (eider_upload_record_set_blobs)");
      return;
    }

  url_take (task, thumb_url_ready);
}

static void
thumb_lane_done_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  UploadJob *job = job_of (task);
  GError *error = NULL;

  job->thumb_lane = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_clear_error (&job->thumb_error);
      job->thumb_error = error;
    }

  /* Nobody waits when the file's steps are still going (they come back to
   * job_continue) or when they ended the job with an error. */
  if (!job->waiting)
    return;
  job->waiting = FALSE;
  job_continue (task);
}

/* The thumbnail's upload URL and PUT run beside the file's: a small file
 * then costs three round trips one after another (URL, PUT, POST /files)
 * instead of five. */
static void
start_thumb_lane (GTask *task)
{
  UploadJob *job = job_of (task);
  g_autoptr(GTask) lane_task = NULL;
  UploadJob *lane;

  lane = g_new0 (UploadJob, 1);
  lane->self = g_object_ref (job->self);
  lane->record = job->record;
  lane->path = g_strdup (job->path);
  lane->total = job->total;
  lane->root = job;
  lane->root_task = task;
  job->thumb_lane = lane;
  g_clear_error (&job->thumb_error);

  lane_task = g_task_new (NULL, g_task_get_cancellable (task), thumb_lane_done_cb, g_object_ref (task));
  g_task_set_source_tag (lane_task, start_thumb_lane);
  g_task_set_task_data (lane_task, lane, (GDestroyNotify) upload_job_free);
  request_thumb_url (lane_task);
}

/* The file record */

static void create_file (GTask *task);

static void
create_file_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  UploadJob *job = job_of (task);
  g_autoptr(JsonNode) node = NULL;
  GError *error = NULL;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      /* The objects are gone (an upload left for weeks, its objects
       * collected as orphans): send them again next time. */
      if (eider_api_error_has_code (error, "OBJECT_SIZE_FETCH_FAILED") &&
          job->attempt + 1 >= MAX_TRIES)
        {
          EiderUploadRecord *r = job->record;

          job_forget_urls (job);
          g_clear_pointer (&r->thumb_object_key, g_free);
          r->thumb_done = FALSE;
          if (!job_save (task))
            {
              g_error_free (error);
              return;
            }
        }
      job_api_failed (task, error, create_file);
      return;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node) ||
      json_object_get_int_member_with_default (json_node_get_object (node), "id", 0) <= 0)
    {
      g_task_return_new_error (task, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                               "The server's answer to the file record has no file id");
      return;
    }

  job->acked = job->total;
  job_progress (job, TRUE);
  g_task_return_pointer (task, g_steal_pointer (&node), (GDestroyNotify) json_node_unref);
}

static void
create_file (GTask *task)
{
  UploadJob *job = job_of (task);
  g_autoptr(JsonNode) body = eider_upload_record_to_json (job->record);
  gboolean replace = job->record->replaces_id > 0;

  /* Both are idempotent: the same body again gives the same answer. */
  eider_api_call_async (job->self->api, replace ? "PUT" : "POST",
                        replace ? "/files/update" : "/files", body,
                        EIDER_API_CALL_AUTH | EIDER_API_CALL_IDEMPOTENT,
                        g_task_get_cancellable (task), create_file_cb, g_object_ref (task));
}

static void
job_continue (GTask *task)
{
  UploadJob *job = job_of (task);
  EiderUploadRecord *r = job->record;

  if (g_task_return_error_if_cancelled (task))
    return;

  if ((!r->thumb_done || r->thumb_object_key == NULL) &&
      job->thumb_lane == NULL && job->thumb_error == NULL)
    start_thumb_lane (task);

  if (!r->file_done)
    {
      if (!urls_usable (r))
        request_urls (task);
      else if (job->part < job->n_parts)
        produce_part (task);
      else if (r->part_size > 0)
        complete_upload (task);
      else
        {
          /* A single PUT whose ETag is recorded is stored. */
          r->file_done = TRUE;
          if (job_save_progress (task))
            job_continue (task);
        }
      return;
    }

  if (job->thumb_lane != NULL)
    {
      job->waiting = TRUE;
      return;
    }

  if (job->thumb_error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&job->thumb_error));
      return;
    }

  create_file (task);
}

/* A caller may hand in an older copy of an upload the store has moved on
 * from (the record from prepare, after a transient failure): the store's
 * progress on the same encryption wins, so nothing acknowledged is lost. */
static void
adopt_stored_progress (EiderUploadRecord       *r,
                       const EiderUploadRecord *stored)
{
  if (stored == NULL ||
      g_strcmp0 (stored->encrypted_key, r->encrypted_key) != 0 ||
      g_strcmp0 (stored->file_header, r->file_header) != 0 ||
      stored->plain_size != r->plain_size || stored->mtime_ns != r->mtime_ns ||
      stored->part_size != r->part_size)
    return;

  if (stored->object_key != NULL && g_strcmp0 (stored->object_key, r->object_key) != 0)
    {
      g_free (r->object_key);
      r->object_key = g_strdup (stored->object_key);
      g_strfreev (r->part_urls);
      r->part_urls = g_strdupv (stored->part_urls);
      g_free (r->complete_url);
      r->complete_url = g_strdup (stored->complete_url);
      r->urls_expire_us = stored->urls_expire_us;
      g_strfreev (r->etags);
      r->etags = g_strdupv (stored->etags);
      r->file_done = stored->file_done;
    }
  else if (stored->object_key != NULL && stored->etags != NULL)
    {
      /* Same object: keep every ETag either copy knows. */
      for (guint i = 0; r->etags != NULL && r->etags[i] != NULL && stored->etags[i] != NULL; i++)
        if (r->etags[i][0] == '\0' && stored->etags[i][0] != '\0')
          {
            g_free (r->etags[i]);
            r->etags[i] = g_strdup (stored->etags[i]);
          }
      r->file_done = r->file_done || stored->file_done;
    }

  /* The thumbnail went up, so POST /files may have been sent with the
   * stored blobs: replay exactly those. */
  if (stored->thumb_done && stored->thumb_object_key != NULL && !r->thumb_done &&
      g_strcmp0 (stored->thumb_header, r->thumb_header) == 0)
    {
      g_free (r->thumb_object_key);
      r->thumb_object_key = g_strdup (stored->thumb_object_key);
      r->thumb_done = TRUE;
      g_free (r->metadata_data);
      r->metadata_data = g_strdup (stored->metadata_data);
      g_free (r->metadata_header);
      r->metadata_header = g_strdup (stored->metadata_header);
      g_free (r->pubmm_data);
      r->pubmm_data = g_strdup (stored->pubmm_data);
      g_free (r->pubmm_header);
      r->pubmm_header = g_strdup (stored->pubmm_header);
      r->pubmm_count = stored->pubmm_count;
    }
}

static gboolean
record_is_valid (const EiderUploadRecord *r,
                 guint                   *n_parts)
{
  gint64 encrypted_size, part_size;

  if (r->plain_size <= 0 || r->plain_size >= EIDER_UPLOAD_MAX_PLAIN_SIZE ||
      r->encrypted_key == NULL || r->key_nonce == NULL || r->file_header == NULL ||
      r->metadata_data == NULL || r->metadata_header == NULL ||
      r->part_md5s == NULL)
    return FALSE;

  eider_upload_plan_parts (r->plain_size, &encrypted_size, &part_size, n_parts);
  if (encrypted_size != r->encrypted_size || part_size != r->part_size ||
      g_strv_length (r->part_md5s) != *n_parts)
    return FALSE;

  return TRUE;
}

/**
 * eider_uploader_upload_async:
 * @record: the upload, as eider_upload_prepare() and
 *   eider_upload_record_set_blobs() made it, or as the store kept it
 * @path: the file (read and encrypted again unless @body is given)
 * @body: (nullable): the ciphertext eider_upload_prepare() kept, sent as
 *   it is
 * @collection_key: the key @record's file key is wrapped with
 *
 * Stores @record (so it survives a crash from here on; progress the store
 * already holds for the same encryption is kept), then brings the upload
 * to its end. The upload record stays in the store: the caller
 * records the result (the file id) and deletes it, in one transaction.
 * Several uploads may run at once.
 */
void
eider_uploader_upload_async (EiderUploader           *self,
                             const EiderUploadRecord *record,
                             const char              *path,
                             GBytes                  *body,
                             const EiderSecret       *collection_key,
                             GCancellable            *cancellable,
                             GAsyncReadyCallback      callback,
                             gpointer                 user_data)
{
  g_autoptr(GTask) task = NULL;
  UploadJob *job;

  g_return_if_fail (EIDER_IS_UPLOADER (self));
  g_return_if_fail (record != NULL);
  g_return_if_fail (path != NULL);
  g_return_if_fail (collection_key != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_uploader_upload_async);

  job = g_new0 (UploadJob, 1);
  job->self = g_object_ref (self);
  job->record = eider_upload_record_copy (record);
  job->path = g_strdup (path);
  job->ciphertext = body != NULL ? g_bytes_ref (body) : NULL;
  job->collection_key = eider_secret_copy (collection_key);
  g_task_set_task_data (task, job, (GDestroyNotify) upload_job_free);

  {
    g_autoptr(EiderUploadRecord) stored = eider_store_get_upload (self->store, record->file_id);

    adopt_stored_progress (job->record, stored);
  }

  if (!record_is_valid (job->record, &job->n_parts))
    {
      g_task_return_new_error (task, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_FAILED,
                               "The upload record is incomplete or does not match its file's size");
      return;
    }

  if (job->record->etags == NULL || g_strv_length (job->record->etags) != job->n_parts)
    {
      g_strfreev (job->record->etags);
      job->record->etags = strv_of_empty (job->n_parts);
    }

  job->total = job->record->encrypted_size + job->record->thumb_size;
  if (job->record->file_done)
    job->acked += job->record->encrypted_size;
  if (job->record->thumb_done)
    job->acked += job->record->thumb_size;

  if (!job_save (task))
    return;

  job_continue (task);
}

/**
 * eider_uploader_upload_finish:
 *
 * Returns: (transfer full): the server's answer to POST /files (the file,
 *   with its "id"), or %NULL with an error: %EIDER_UPLOAD_ERROR (CHANGED,
 *   TRANSIENT, FAILED), %EIDER_API_ERROR as the server answered (401, 402,
 *   426, 413, 400…), %G_IO_ERROR (the file could not be read, or
 *   %G_IO_ERROR_CANCELLED) or %EIDER_STORE_ERROR.
 */
JsonNode *
eider_uploader_upload_finish (EiderUploader  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (EIDER_IS_UPLOADER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
