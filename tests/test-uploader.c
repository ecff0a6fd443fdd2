/* test-uploader.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * EiderUploader against a real eider-test-server: single PUT and multipart
 * uploads downloaded back and decrypted byte for byte, web's part plan and
 * completion XML (spec/ente-upload.md §16.6), resumption after a cancel
 * without re-sending acknowledged parts (counted in the server's request
 * log), idempotent POST /files, uploads through injected faults, and files
 * that change under the uploader.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <sodium.h>

#include "eider-signup.h"
#include "eider-store.h"
#include "eider-uploader.h"
#include "eider-test-server-harness.h"

#define PASSWORD "correct horse battery staple"
#define MIB      (1024 * 1024)

/* A server of our own: its --log-requests lines go to a file we read. */
typedef struct
{
  GSubprocess *process;
  char        *url;
  char        *data_dir;
  char        *log_path;
} Server;

static Server *main_server;
static char *work_dir;
static guint counter;

static void
server_stop (Server *server)
{
  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait (server->process, NULL, NULL);
  g_clear_object (&server->process);
  g_clear_pointer (&server->url, g_free);
}

static void
server_start (Server             *server,
              const char * const *extra)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  const char *binary = g_getenv ("EIDER_TEST_SERVER");

  g_assert_nonnull (binary);
  g_ptr_array_add (argv, (gpointer) binary);
  g_ptr_array_add (argv, (gpointer) "--listen");
  g_ptr_array_add (argv, (gpointer) "127.0.0.1:0");
  g_ptr_array_add (argv, (gpointer) "--data-dir");
  g_ptr_array_add (argv, server->data_dir);
  g_ptr_array_add (argv, (gpointer) "--fixed-ott");
  g_ptr_array_add (argv, (gpointer) "123456");
  g_ptr_array_add (argv, (gpointer) "--log-requests");
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra[i]);
  g_ptr_array_add (argv, NULL);

  /* Appends, so a restarted server keeps one log. */
  {
    int fd = open (server->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

    g_assert_cmpint (fd, >=, 0);
    g_subprocess_launcher_take_stderr_fd (launcher, fd);
  }

  server->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (out, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      if (g_str_has_prefix (line, "listening on "))
        {
          server->url = g_strdup (line + strlen ("listening on "));
          break;
        }
    }
}

static Server *
server_new (const char * const *extra)
{
  Server *server = g_new0 (Server, 1);

  server->data_dir = test_make_tmpdir ("eider-ets-XXXXXX");
  server->log_path = g_strdup_printf ("%s/server-%u.log", work_dir, ++counter);
  server_start (server, extra);

  return server;
}

static void
server_free (Server *server)
{
  if (server->process != NULL)
    server_stop (server);
  test_rm_rf (server->data_dir);
  g_free (server->data_dir);
  g_free (server->log_path);
  g_free (server);
}

/* Lines "request PUT /s3/<objectKey> 200" in the server's log. */
static guint
count_requests (Server     *server,
                const char *method,
                const char *path,
                guint       status)
{
  g_autofree char *contents = NULL;
  g_autofree char *line = g_strdup_printf ("request %s %s %u\n", method, path, status);
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  g_assert_true (g_file_get_contents (server->log_path, &contents, NULL, NULL));
  for (const char *p = contents; (p = strstr (p, line)) != NULL; p += strlen (line))
    if (p == contents || p[-1] == '\n')
      n++;

  return n;
}

/* Acknowledged PUTs of one object: part 0 is a single PUT, parts from 1
 * are multipart parts (the log names their partNumber). */
static guint
count_part_puts (Server     *server,
                 const char *object_key,
                 guint       part)
{
  g_autofree char *path = part == 0 ? g_strdup_printf ("/s3/%s", object_key)
                                    : g_strdup_printf ("/s3/%s?partNumber=%u", object_key, part);

  return count_requests (server, "PUT", path, 200);
}

/* All acknowledged PUTs of an object of @n_parts parts (0: single). */
static guint
count_object_puts (Server     *server,
                   const char *object_key,
                   guint       n_parts)
{
  guint n = count_part_puts (server, object_key, 0);

  for (guint i = 1; i <= n_parts; i++)
    n += count_part_puts (server, object_key, i);

  return n;
}

/* Accounts and albums */

typedef struct
{
  Server        *server;
  EiderSession  *session;
  EiderApi      *api;
  EiderSecret   *collection_key;
  gint64         collection_id;
  char          *dir;
  EiderStore    *store;
  char          *store_path;
  gint64         watch_id;
} Fixture;

static JsonNode *
api_call (EiderApi   *api,
          const char *method,
          const char *path,
          JsonNode   *body,
          GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  eider_api_call_async (api, method, path, body, EIDER_API_CALL_AUTH, NULL, test_result_cb, &result);

  return eider_api_call_finish (api, test_wait (&result), error);
}

static EiderSession *
signup (Server *server)
{
  g_autofree char *email = g_strdup_printf ("up%u-%u@example.org", ++counter, g_random_int ());
  g_autoptr(EiderSignup) signup = eider_signup_new (server->url, email);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  eider_signup_request_code_async (signup, NULL, test_result_cb, &result);
  g_assert_true (eider_signup_request_code_finish (signup, test_wait (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  eider_signup_complete_async (signup, "123456", PASSWORD, NULL, test_result_cb, &result);
  g_assert_true (eider_signup_complete_finish (signup, test_wait (&result), &error));
  g_assert_no_error (error);

  return eider_signup_steal_session (signup);
}

static EiderApi *
api_for (Server       *server,
         EiderSession *session)
{
  EiderApi *api = eider_api_new (server->url);

  eider_api_set_token (api, (const char *) eider_secret_peek (session->token));

  return api;
}

/* POST /collections with a new album key wrapped with the master key and
 * its name secretboxed with the album key (§9.3). */
static gint64
create_album (EiderApi          *api,
              const EiderSecret *master_key,
              const char        *name,
              EiderSecret      **key_out)
{
  g_autoptr(EiderSecret) key = eider_secret_new_random (EIDER_KEY_BYTES);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *encrypted_key = NULL, *key_nonce = NULL;
  g_autofree char *encrypted_name = NULL, *name_nonce = NULL;
  g_autofree guint8 *ct = g_malloc (strlen (name) + EIDER_MAC_BYTES);
  guint8 nonce[EIDER_NONCE_BYTES];
  JsonObject *collection;

  eider_crypto_wrap_key (key, master_key, &encrypted_key, &key_nonce);
  eider_secretbox_seal ((const guint8 *) name, strlen (name), eider_secret_peek (key), nonce, ct);
  encrypted_name = eider_base64_encode (ct, strlen (name) + EIDER_MAC_BYTES);
  name_nonce = eider_base64_encode (nonce, sizeof nonce);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "encryptedKey");
  json_builder_add_string_value (builder, encrypted_key);
  json_builder_set_member_name (builder, "keyDecryptionNonce");
  json_builder_add_string_value (builder, key_nonce);
  json_builder_set_member_name (builder, "encryptedName");
  json_builder_add_string_value (builder, encrypted_name);
  json_builder_set_member_name (builder, "nameDecryptionNonce");
  json_builder_add_string_value (builder, name_nonce);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "album");
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  answer = api_call (api, "POST", "/collections", body, &error);
  g_assert_no_error (error);
  collection = json_object_get_object_member (json_node_get_object (answer), "collection");
  g_assert_nonnull (collection);

  *key_out = g_steal_pointer (&key);

  return json_object_get_int_member (collection, "id");
}

static void
fixture_set_up (Fixture    *fx,
                Server     *server)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = NULL;

  fx->server = server;
  fx->session = signup (server);
  fx->api = api_for (server, fx->session);
  fx->collection_id = create_album (fx->api, fx->session->master_key, "Uploads", &fx->collection_key);
  fx->dir = g_build_filename (work_dir, "files-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (fx->dir));
  fx->store_path = g_build_filename (fx->dir, "eider.sqlite3", NULL);
  fx->store = eider_store_open (fx->store_path, &error);
  g_assert_no_error (error);
  watch = eider_store_add_watch (fx->store, fx->dir, EIDER_MAPPING_ONE_ALBUM, "Uploads", &error);
  g_assert_no_error (error);
  fx->watch_id = watch->id;
}

static void
fixture_tear_down (Fixture *fx)
{
  g_clear_object (&fx->store);
  g_clear_object (&fx->api);
  g_clear_pointer (&fx->session, eider_session_free);
  g_clear_pointer (&fx->collection_key, eider_secret_free);
  test_rm_rf (fx->dir);
  g_clear_pointer (&fx->dir, g_free);
  g_clear_pointer (&fx->store_path, g_free);
}

/* Files */

static void
fill_pattern (guint8 *buf,
              gsize   len,
              guint32 seed)
{
  /* Deterministic and incompressible enough: xorshift32. */
  guint32 x = seed != 0 ? seed : 0x9e3779b9;

  for (gsize i = 0; i < len; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      buf[i] = (guint8) x;
    }
}

static char *
make_file (Fixture *fx,
           gsize    size,
           guint32  seed)
{
  g_autofree guint8 *data = g_malloc (MAX (size, 1));
  g_autoptr(GError) error = NULL;
  char *path = g_strdup_printf ("%s/file-%u-%" G_GSIZE_FORMAT ".bin", fx->dir, ++counter, size);

  fill_pattern (data, size, seed);
  g_file_set_contents (path, (const char *) data, size, &error);
  g_assert_no_error (error);

  return path;
}

static void
stat_of (const char *path,
         EiderStat  *out)
{
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, 0);
  out->dev = st.st_dev;
  out->inode = st.st_ino;
  out->size = st.st_size;
  out->mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  out->ctime_ns = (gint64) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

static gint64
note_file (Fixture    *fx,
           const char *path)
{
  g_autoptr(GError) error = NULL;
  EiderStat st;
  gboolean changed = FALSE;
  gint64 id;

  stat_of (path, &st);
  id = eider_store_note_file (fx->store, fx->watch_id, path, "Uploads", &st, &changed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  return id;
}

static GBytes *
fake_thumbnail (void)
{
  guint8 *jpeg = g_malloc (1892);

  fill_pattern (jpeg, 1892, 7);
  jpeg[0] = 0xff;
  jpeg[1] = 0xd8;
  jpeg[1890] = 0xff;
  jpeg[1891] = 0xd9;

  return g_bytes_new_take (jpeg, 1892);
}

static char *
metadata_json (const char *path,
               const char *hash)
{
  g_autofree char *title = g_path_get_basename (path);

  return g_strdup_printf ("{\"fileType\":0,\"title\":\"%s\",\"creationTime\":1700000000000000,"
                          "\"modificationTime\":1700000000000000,\"hash\":\"%s\"}", title, hash);
}

/* prepare + blobs, as the engine does, and the record saved in the store. */
static EiderUploadRecord *
prepare (Fixture     *fx,
         const char  *path,
         gint64       file_id,
         GBytes     **body_out)
{
  g_autoptr(EiderUploadRecord) record = NULL;
  g_autoptr(GBytes) thumb = fake_thumbnail ();
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *meta = NULL;
  EiderStat st;

  stat_of (path, &st);
  g_assert_true (eider_upload_prepare (path, &st, file_id, fx->collection_id, fx->collection_key,
                                       &record, &hash, NULL, body_out, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (hash, ==, record->hash);

  meta = metadata_json (path, hash);
  g_assert_true (eider_upload_record_set_blobs (record, fx->collection_key, meta,
                                                "{\"w\":4032,\"h\":3024}", 2, thumb, &error));
  g_assert_no_error (error);
  g_assert_true (eider_store_save_upload (fx->store, record, &error));
  g_assert_no_error (error);

  return g_steal_pointer (&record);
}

typedef struct
{
  gint64 last_sent;
  gint64 total;
  guint  n;
} Progress;

static void
progress_cb (EiderUploader *uploader,
             gint64         file_id,
             gint64         sent,
             gint64         total,
             gpointer       user_data)
{
  Progress *p = user_data;

  g_assert_cmpint (sent, <=, total);
  p->last_sent = sent;
  p->total = total;
  p->n++;
}

static JsonNode *
upload (EiderUploader           *uploader,
        const EiderUploadRecord *record,
        const char              *path,
        GBytes                  *body,
        const EiderSecret       *key,
        GCancellable            *cancellable,
        GError                 **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  eider_uploader_upload_async (uploader, record, path, body, key, cancellable,
                               test_result_cb, &result);

  return eider_uploader_upload_finish (uploader, test_wait (&result), error);
}

/* Checks of what the server holds */

static GBytes *
http_get (Fixture    *fx,
          const char *path)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (fx->server->url, path, NULL);
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr(GError) error = NULL;
  GBytes *body;

  soup_message_headers_replace (soup_message_get_request_headers (message), "X-Auth-Token",
                                (const char *) eider_secret_peek (fx->session->token));
  soup_message_headers_replace (soup_message_get_request_headers (message), "X-Client-Package",
                                EIDER_API_CLIENT_PACKAGE);
  body = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (message), ==, 200);

  return body;
}

static const char *
member_path (JsonObject *obj,
             const char *parent,
             const char *name)
{
  return json_object_get_string_member (json_object_get_object_member (obj, parent), name);
}

/* Downloads the file and its thumbnail through the API, decrypts them with
 * what the server returned, and compares with the originals. */
static void
check_download (Fixture    *fx,
                JsonNode   *answer,
                const char *path)
{
  JsonObject *file = json_node_get_object (answer);
  gint64 id = json_object_get_int_member (file, "id");
  g_autofree char *download = g_strdup_printf ("/files/download/%" G_GINT64_FORMAT, id);
  g_autofree char *preview = g_strdup_printf ("/files/preview/%" G_GINT64_FORMAT, id);
  g_autoptr(GBytes) ct = http_get (fx, download);
  g_autoptr(GBytes) thumb_ct = http_get (fx, preview);
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GBytes) expected_thumb = fake_thumbnail ();
  g_autoptr(GBytes) meta = NULL;
  g_autoptr(GBytes) meta_ct = NULL;
  g_autoptr(EiderSecret) file_key = NULL;
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *original = NULL;
  g_autofree char *meta_text = NULL;
  g_autofree char *hash = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  gsize original_len = 0;

  g_assert_cmpint (json_object_get_int_member (file, "collectionID"), ==, fx->collection_id);
  file_key = eider_crypto_unwrap_key (json_object_get_string_member (file, "encryptedKey"),
                                      json_object_get_string_member (file, "keyDecryptionNonce"),
                                      fx->collection_key, &error);
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (path, &original, &original_len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (ct), ==, eider_crypto_encrypted_size (original_len));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (file, "file"), "size"),
                   ==, (gint64) g_bytes_get_size (ct));

  g_assert_true (eider_base64_decode_exact (member_path (file, "file", "decryptionHeader"), header,
                                            sizeof header, &error));
  g_assert_no_error (error);
  in = g_memory_input_stream_new_from_bytes (ct);
  out = g_memory_output_stream_new_resizable ();
  g_assert_true (eider_crypto_decrypt_stream (in, out, file_key, header,
                                              (gint64) g_bytes_get_size (ct), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  plain = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  g_assert_cmpuint (g_bytes_get_size (plain), ==, original_len);
  g_assert_true (memcmp (g_bytes_get_data (plain, NULL), original, original_len) == 0);

  g_assert_true (eider_base64_decode_exact (member_path (file, "thumbnail", "decryptionHeader"),
                                            header, sizeof header, &error));
  thumb = eider_blob_decrypt (g_bytes_get_data (thumb_ct, NULL), g_bytes_get_size (thumb_ct),
                              file_key, header, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (thumb, expected_thumb));

  meta_ct = eider_base64_decode (member_path (file, "metadata", "encryptedData"), &error);
  g_assert_no_error (error);
  g_assert_true (eider_base64_decode_exact (member_path (file, "metadata", "decryptionHeader"),
                                            header, sizeof header, &error));
  meta = eider_blob_decrypt (g_bytes_get_data (meta_ct, NULL), g_bytes_get_size (meta_ct),
                             file_key, header, &error);
  g_assert_no_error (error);
  meta_text = g_strndup (g_bytes_get_data (meta, NULL), g_bytes_get_size (meta));
  hash = eider_hash_data_base64 ((const guint8 *) original, original_len);
  g_assert_nonnull (strstr (meta_text, hash));

  g_assert_true (json_object_has_member (file, "pubMagicMetadata"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (file, "pubMagicMetadata"),
                                               "count"), ==, 2);
}

/* Files of the album, as GET /collections/v2/diff lists them. */
static guint
count_album_files (Fixture *fx)
{
  g_autofree char *path = g_strdup_printf ("/collections/v2/diff?collectionID=%" G_GINT64_FORMAT
                                           "&sinceTime=0", fx->collection_id);
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *diff;
  guint n = 0;

  answer = api_call (fx->api, "GET", path, NULL, &error);
  g_assert_no_error (error);
  diff = json_object_get_array_member (json_node_get_object (answer), "diff");
  for (guint i = 0; i < json_array_get_length (diff); i++)
    if (!json_object_get_boolean_member (json_array_get_object_element (diff, i), "isDeleted"))
      n++;

  return n;
}

/* Pure functions (§16.6) */

static void
test_plan (void)
{
  static const struct { gint64 plain, enc, part; guint n; } cases[] = {
    { 1, 18, 0, 1 },
    { 4194304, 4194321, 0, 1 },
    { 4194305, 4194339, 0, 1 },
    { 16777216, 16777284, 0, 1 },
    { 16777217, 16777302, 20971605, 1 },
    { 45 * MIB, 47186124, 20971605, 3 },
    { 104857600, 104858025, 20971605, 5 },
  };
  const char *etags[] = { "\"a\"", "\"b\"", NULL };
  const char *none[] = { NULL };
  g_autofree char *xml = NULL;
  g_autofree char *empty = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gint64 enc = -1, part = -1, sum = 0;
      guint n = 0;

      eider_upload_plan_parts (cases[i].plain, &enc, &part, &n);
      g_assert_cmpint (enc, ==, cases[i].enc);
      g_assert_cmpint (part, ==, cases[i].part);
      g_assert_cmpuint (n, ==, cases[i].n);

      for (guint p = 0; p < n; p++)
        {
          gint64 len = eider_upload_part_length (enc, part, p);

          g_assert_cmpint (len, >, 0);
          /* Every part but the last is a whole number of encrypted chunks. */
          if (p + 1 < n)
            g_assert_cmpint (len % EIDER_STREAM_BLOCK_SIZE, ==, 0);
          sum += len;
        }
      g_assert_cmpint (sum, ==, enc);
      g_assert_cmpint (eider_upload_part_length (enc, part, n), ==, 0);
    }

  /* 100 MiB: five full parts of 20,971,605 bytes. */
  g_assert_cmpint (eider_upload_part_length (104858025, 20971605, 4), ==, 20971605);
  g_assert_cmpint (EIDER_UPLOAD_PART_SIZE, ==, 20971605);

  xml = eider_upload_completion_xml (etags);
  g_assert_cmpstr (xml, ==,
                   "<CompleteMultipartUpload>\n"
                   "<Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag></Part>\n"
                   "<Part><PartNumber>2</PartNumber><ETag>\"b\"</ETag></Part>\n"
                   "</CompleteMultipartUpload>");
  empty = eider_upload_completion_xml (none);
  g_assert_cmpstr (empty, ==, "<CompleteMultipartUpload>\n</CompleteMultipartUpload>");
}

static void
note_progress (guint64  done,
               gpointer user_data)
{
  guint64 *last = user_data;

  g_assert_cmpuint (done, >, *last);
  *last = done;
}

/* Prepare: what it refuses, what it returns. */
static void
test_prepare (void)
{
  g_autoptr(EiderSecret) key = eider_secret_new_random (EIDER_KEY_BYTES);
  g_autofree char *dir = test_make_tmpdir ("eider-prep-XXXXXX");
  g_autofree char *empty = g_build_filename (dir, "empty.jpg", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo.jpg", NULL);
  g_autofree char *link = g_build_filename (dir, "link.jpg", NULL);
  g_autofree char *huge = g_build_filename (dir, "huge.mov", NULL);
  g_autofree char *small = g_build_filename (dir, "small.jpg", NULL);
  g_autofree char *large = g_build_filename (dir, "large.mov", NULL);
  g_autofree guint8 *data = g_malloc (20 * MIB);
  g_autoptr(EiderUploadRecord) record = NULL;
  g_autoptr(GBytes) content = NULL;
  g_autoptr(GBytes) object = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *expected_hash = NULL;
  g_autoptr(EiderSecret) file_key = NULL;
  guint64 last_progress = 0;
  EiderStat st = { 0 };
  int fd;

  fill_pattern (data, 20 * MIB, 42);

  /* Empty, FIFO (never opened for blocking), symlink, 10 GiB (sparse). */
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  stat_of (empty, &st);
  g_assert_false (eider_upload_prepare (empty, &st, 1, 1, key, &record, NULL, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_EMPTY);
  g_clear_error (&error);

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  stat_of (fifo, &st);
  g_assert_false (eider_upload_prepare (fifo, &st, 1, 1, key, &record, NULL, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_NOT_REGULAR);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (small, (const char *) data, 1000, NULL));
  g_assert_cmpint (symlink (small, link), ==, 0);
  stat_of (small, &st);
  g_assert_false (eider_upload_prepare (link, &st, 1, 1, key, &record, NULL, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_NOT_REGULAR);
  g_clear_error (&error);

  fd = open (huge, O_WRONLY | O_CREAT, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, EIDER_UPLOAD_MAX_PLAIN_SIZE), ==, 0);
  close (fd);
  stat_of (huge, &st);
  g_assert_false (eider_upload_prepare (huge, &st, 1, 1, key, &record, NULL, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* A stat that no longer matches: changed. */
  stat_of (small, &st);
  st.mtime_ns += 1000;
  g_assert_false (eider_upload_prepare (small, &st, 1, 1, key, &record, NULL, NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED);
  g_clear_error (&error);

  /* Small: kept in memory, plaintext and ciphertext, one MD5, no part
   * size. */
  stat_of (small, &st);
  g_assert_true (eider_upload_prepare (small, &st, 7, 9, key, &record, &hash, &content, &object,
                                       NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  expected_hash = eider_hash_data_base64 (data, 1000);
  g_assert_cmpstr (hash, ==, expected_hash);
  g_assert_cmpstr (record->hash, ==, expected_hash);
  g_assert_nonnull (content);
  g_assert_cmpuint (g_bytes_get_size (content), ==, 1000);
  g_assert_true (memcmp (g_bytes_get_data (content, NULL), data, 1000) == 0);
  g_assert_cmpint (record->file_id, ==, 7);
  g_assert_cmpint (record->collection_id, ==, 9);
  g_assert_cmpint (record->plain_size, ==, 1000);
  g_assert_cmpint (record->mtime_ns, ==, st.mtime_ns);
  g_assert_cmpint (record->encrypted_size, ==, 1017);
  g_assert_cmpint (record->part_size, ==, 0);
  g_assert_cmpuint (g_strv_length (record->part_md5s), ==, 1);
  g_assert_cmpuint (g_strv_length (record->etags), ==, 1);
  g_assert_cmpstr (record->etags[0], ==, "");
  g_assert_null (record->object_key);
  g_assert_false (record->file_done);
  file_key = eider_crypto_unwrap_key (record->encrypted_key, record->key_nonce, key, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (record->file_header), ==, 32);

  /* The ciphertext kept is the object: its size, its recorded MD5, and it
   * decrypts with the file key and header to the file. */
  {
    g_autofree char *object_md5 = NULL;
    g_autoptr(EiderStreamDecryptor) dec = NULL;
    guint8 header[EIDER_STREAM_HEADER_BYTES];
    guint8 plain[1000];
    gsize plain_len = 0;
    gboolean final = FALSE;

    g_assert_nonnull (object);
    g_assert_cmpuint (g_bytes_get_size (object), ==, 1017);
    object_md5 = eider_content_md5 (g_bytes_get_data (object, NULL), g_bytes_get_size (object));
    g_assert_cmpstr (object_md5, ==, record->part_md5s[0]);
    g_assert_true (eider_base64_decode_exact (record->file_header, header, sizeof header, &error));
    dec = eider_stream_decryptor_new (file_key, header, &error);
    g_assert_no_error (error);
    g_assert_true (eider_stream_decryptor_pull (dec, g_bytes_get_data (object, NULL), 1017, plain,
                                                &plain_len, &final, &error));
    g_assert_no_error (error);
    g_assert_true (final);
    g_assert_cmpmem (plain, plain_len, data, 1000);
  }

  /* Blobs: fresh headers, decryptable with the file key. */
  {
    g_autoptr(GBytes) thumb = fake_thumbnail ();
    g_autoptr(GBytes) meta_ct = NULL;
    g_autoptr(GBytes) meta = NULL;
    g_autoptr(GBytes) plain_thumb = NULL;
    guint8 header[EIDER_STREAM_HEADER_BYTES];

    g_assert_true (eider_upload_record_set_blobs (record, key, "{\"title\":\"small.jpg\"}", NULL, 0,
                                                  thumb, &error));
    g_assert_no_error (error);
    g_assert_null (record->pubmm_data);
    g_assert_cmpint (record->thumb_size, ==, 1892 + 17);
    g_assert_cmpstr (record->thumb_header, !=, record->metadata_header);
    g_assert_cmpstr (record->thumb_header, !=, record->file_header);

    meta_ct = eider_base64_decode (record->metadata_data, &error);
    g_assert_no_error (error);
    g_assert_true (eider_base64_decode_exact (record->metadata_header, header, sizeof header, &error));
    meta = eider_blob_decrypt (g_bytes_get_data (meta_ct, NULL), g_bytes_get_size (meta_ct),
                               file_key, header, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (meta, NULL), g_bytes_get_size (meta),
                     "{\"title\":\"small.jpg\"}", strlen ("{\"title\":\"small.jpg\"}"));

    g_assert_true (eider_base64_decode_exact (record->thumb_header, header, sizeof header, &error));
    plain_thumb = eider_blob_decrypt (g_bytes_get_data (record->thumb_data, NULL),
                                      g_bytes_get_size (record->thumb_data), file_key, header, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (plain_thumb, thumb));

    /* The POST /files body leaves pubMagicMetadata out when there is none. */
    {
      g_autoptr(JsonNode) body = eider_upload_record_to_json (record);

      g_assert_false (json_object_has_member (json_node_get_object (body), "pubMagicMetadata"));
      g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_node_get_object (body),
                                                                                  "file"), "size"),
                       ==, 1017);
    }
  }
  g_clear_pointer (&record, eider_upload_record_free);
  g_clear_pointer (&content, g_bytes_unref);
  g_clear_pointer (&object, g_bytes_unref);
  g_clear_pointer (&hash, g_free);
  g_clear_pointer (&expected_hash, g_free);

  /* Large (20 MiB): multipart, nothing kept, hash over everything, and
   * progress reaching the size. */
  g_assert_true (g_file_set_contents (large, (const char *) data, 20 * MIB, NULL));
  stat_of (large, &st);
  g_assert_true (eider_upload_prepare (large, &st, 1, 1, key, &record, &hash, &content, &object,
                                       NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_null (content);
  g_assert_null (object);
  expected_hash = eider_hash_data_base64 (data, 20 * MIB);
  g_assert_cmpstr (hash, ==, expected_hash);
  g_assert_cmpint (record->part_size, ==, EIDER_UPLOAD_PART_SIZE);
  g_assert_cmpint (record->encrypted_size, ==, 20 * MIB + 5 * 17);
  g_assert_cmpuint (g_strv_length (record->part_md5s), ==, 1);
  g_assert_cmpuint (g_strv_length (record->etags), ==, 1);
  g_clear_pointer (&record, eider_upload_record_free);

  g_assert_true (eider_upload_prepare (large, &st, 1, 1, key, &record, NULL, NULL, NULL,
                                       note_progress, &last_progress, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (last_progress, ==, 20 * MIB);
  g_clear_pointer (&record, eider_upload_record_free);

  test_rm_rf (dir);
}

/* Upload, download, decrypt, compare; count PUTs in the server's log. */
static void
upload_and_check (Fixture  *fx,
                  gsize     size,
                  gboolean  keep_body)
{
  g_autofree char *path = make_file (fx, size, (guint32) size);
  gint64 file_id = note_file (fx, path);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(EiderUploadRecord) record = prepare (fx, path, file_id, &body);
  g_autoptr(EiderUploadRecord) stored = NULL;
  g_autoptr(EiderUploader) uploader = eider_uploader_new (fx->api, fx->store);
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  Progress progress = { 0 };
  gint64 enc, part;
  guint n_parts;

  eider_upload_plan_parts (size, &enc, &part, &n_parts);
  g_assert_cmpint (record->encrypted_size, ==, enc);
  g_assert_cmpint (record->part_size, ==, part);
  g_assert_true ((body != NULL) == (size <= 16 * MIB));

  g_signal_connect (uploader, "progress", G_CALLBACK (progress_cb), &progress);
  answer = upload (uploader, record, path, keep_body ? body : NULL, fx->collection_key, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (answer);

  g_assert_cmpint (progress.total, ==, enc + record->thumb_size);
  g_assert_cmpint (progress.last_sent, ==, progress.total);

  /* Every step was saved: the object, its parts and the thumbnail. */
  stored = eider_store_get_upload (fx->store, file_id);
  g_assert_nonnull (stored);
  g_assert_true (stored->file_done);
  g_assert_true (stored->thumb_done);
  g_assert_nonnull (stored->object_key);
  g_assert_nonnull (stored->thumb_object_key);
  g_assert_cmpstr (stored->object_key, ==, member_path (json_node_get_object (answer), "file", "objectKey"));
  for (guint i = 0; i < n_parts; i++)
    {
      g_assert_true (g_str_has_prefix (stored->etags[i], "\""));
      g_assert_true (g_str_has_suffix (stored->etags[i], "\""));
    }

  check_download (fx, answer, path);
  g_assert_cmpuint (count_object_puts (fx->server, stored->object_key, part > 0 ? n_parts : 0), ==, n_parts);
  for (guint i = 1; part > 0 && i <= n_parts; i++)
    g_assert_cmpuint (count_part_puts (fx->server, stored->object_key, i), ==, 1);
  g_assert_cmpuint (count_part_puts (fx->server, stored->thumb_object_key, 0), ==, 1);
  if (part > 0)
    {
      g_autofree char *complete = g_strdup_printf ("/s3/%s", stored->object_key);

      g_assert_cmpuint (count_requests (fx->server, "POST", complete, 200), ==, 1);
    }
}

static void
test_sizes (void)
{
  Fixture fx = { 0 };

  fixture_set_up (&fx, main_server);
  upload_and_check (&fx, 1, TRUE);
  upload_and_check (&fx, 16 * MIB, TRUE);
  upload_and_check (&fx, 16 * MIB, FALSE);      /* re-read from the file */
  upload_and_check (&fx, 16 * MIB + 1, FALSE);  /* multipart, 1 part */
  upload_and_check (&fx, 45 * MIB, FALSE);      /* 3 parts */
  g_assert_cmpuint (count_album_files (&fx), ==, 5);
  fixture_tear_down (&fx);
}

/* Peak memory: a 45 MiB upload (prepare and send) must not hold the file. */
static gint64
read_status_kib (const char *field)
{
  g_autofree char *status = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  p = strstr (status, field);
  if (p == NULL)
    return -1;

  return g_ascii_strtoll (p + strlen (field), NULL, 10);
}

static gboolean
reset_peak_rss (void)
{
  int fd;
  gboolean ok;

  /* Freed memory that malloc kept would hide growth: give it back first. */
  malloc_trim (0);
  fd = open ("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    return FALSE;
  ok = write (fd, "5", 1) == 1;
  close (fd);

  return ok;
}

static void
test_memory (void)
{
  Fixture fx = { 0 };
  g_autofree char *path = NULL;
  g_autoptr(EiderUploadRecord) record = NULL;
  g_autoptr(EiderUploader) uploader = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  gint64 base, peak;
  gint64 file_id;

#ifdef __SANITIZE_ADDRESS__
  g_test_skip ("AddressSanitizer's quarantine keeps freed memory resident");
  return;
#endif

  fixture_set_up (&fx, main_server);
  path = make_file (&fx, 45 * MIB, 4545);
  file_id = note_file (&fx, path);
  uploader = eider_uploader_new (fx.api, fx.store);

  /* Writing "5" to clear_refs resets the peak RSS to the current RSS. */
  if (!reset_peak_rss ())
    {
      g_test_skip ("/proc/self/clear_refs is not writable here");
      fixture_tear_down (&fx);
      return;
    }
  base = read_status_kib ("VmRSS:");

  record = prepare (&fx, path, file_id, NULL);
  answer = upload (uploader, record, path, NULL, fx.collection_key, NULL, &error);
  g_assert_no_error (error);

  peak = read_status_kib ("VmHWM:");
  g_test_message ("peak RSS grew by %" G_GINT64_FORMAT " KiB for a 45 MiB file", peak - base);
  /* prepare's 4 MiB read buffer and two 4 MiB output buffers, then one
   * 20 MiB part and a 4 MiB read buffer; holding the file would add 45 MiB. */
  g_assert_cmpint (peak - base, <, 40 * 1024);
  fixture_tear_down (&fx);
}

/* A cancel after the first part is acknowledged, then a second uploader
 * (a new process, as far as the store is concerned) finishes: no part the
 * server acknowledged is sent twice, and there is exactly one file. A
 * replay of the finished upload returns the same file. */
typedef struct
{
  EiderStore   *store;
  gint64        file_id;
  GCancellable *cancellable;
} CancelAfterFirst;

static void
cancel_after_first_cb (EiderUploader *uploader,
                       gint64         file_id,
                       gint64         sent,
                       gint64         total,
                       gpointer       user_data)
{
  CancelAfterFirst *c = user_data;
  g_autoptr(EiderUploadRecord) stored = eider_store_get_upload (c->store, c->file_id);

  if (stored != NULL && stored->etags != NULL && stored->etags[0] != NULL && stored->etags[0][0] != '\0')
    g_cancellable_cancel (c->cancellable);
}

static void
test_resume (void)
{
  Fixture fx = { 0 };
  g_autofree char *path = NULL;
  g_autoptr(EiderUploadRecord) record = NULL;
  g_autoptr(EiderUploadRecord) stored = NULL;
  g_autoptr(EiderUploadRecord) again = NULL;
  g_autoptr(EiderUploader) first = NULL;
  g_autoptr(EiderUploader) second = NULL;
  g_autoptr(EiderStore) reopened = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(JsonNode) replay = NULL;
  g_autoptr(GError) error = NULL;
  CancelAfterFirst c;
  gint64 file_id;

  fixture_set_up (&fx, main_server);
  path = make_file (&fx, 45 * MIB, 777);
  file_id = note_file (&fx, path);
  record = prepare (&fx, path, file_id, NULL);

  first = eider_uploader_new (fx.api, fx.store);
  c.store = fx.store;
  c.file_id = file_id;
  c.cancellable = cancellable;
  g_signal_connect (first, "progress", G_CALLBACK (cancel_after_first_cb), &c);
  answer = upload (first, record, path, NULL, fx.collection_key, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (answer);
  g_clear_error (&error);
  g_clear_object (&first);

  stored = eider_store_get_upload (fx.store, file_id);
  g_assert_nonnull (stored->object_key);
  g_assert_false (stored->file_done);
  g_assert_cmpstr (stored->etags[0], !=, "");
  g_assert_cmpstr (stored->etags[2], ==, "");
  g_assert_cmpuint (count_part_puts (fx.server, stored->object_key, 1), ==, 1);
  g_assert_cmpuint (count_object_puts (fx.server, stored->object_key, 3), ==, 1);
  g_assert_cmpuint (count_album_files (&fx), ==, 0);

  /* "Restart": a new store connection and a new uploader. */
  g_clear_object (&fx.store);
  reopened = eider_store_open (fx.store_path, &error);
  g_assert_no_error (error);
  fx.store = g_object_ref (reopened);
  g_clear_pointer (&stored, eider_upload_record_free);
  stored = eider_store_get_upload (reopened, file_id);
  g_assert_nonnull (stored);

  /* Handed the stale record from prepare (no object key, no ETags), the
   * uploader still goes on from what the store holds. */
  g_assert_null (record->object_key);
  second = eider_uploader_new (fx.api, reopened);
  answer = upload (second, record, path, NULL, fx.collection_key, NULL, &error);
  g_assert_no_error (error);
  check_download (&fx, answer, path);

  /* Three parts, each acknowledged exactly once; the same object key. */
  for (guint i = 1; i <= 3; i++)
    g_assert_cmpuint (count_part_puts (fx.server, stored->object_key, i), ==, 1);
  g_assert_cmpuint (count_object_puts (fx.server, stored->object_key, 3), ==, 3);
  g_assert_cmpstr (member_path (json_node_get_object (answer), "file", "objectKey"), ==, stored->object_key);
  g_assert_cmpuint (count_album_files (&fx), ==, 1);

  /* A crash between POST /files and recording its result: the replay
   * sends nothing and gets the same file back. */
  again = eider_store_get_upload (reopened, file_id);
  g_assert_true (again->file_done);
  g_assert_true (again->thumb_done);
  replay = upload (second, again, path, NULL, fx.collection_key, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (replay), "id"), ==,
                   json_object_get_int_member (json_node_get_object (answer), "id"));
  g_assert_cmpuint (count_object_puts (fx.server, stored->object_key, 3), ==, 3);
  g_assert_cmpuint (count_part_puts (fx.server, again->thumb_object_key, 0), ==, 1);
  g_assert_cmpuint (count_album_files (&fx), ==, 1);

  fixture_tear_down (&fx);
}

/* URLs that expired (an upload left alone for 7 days): a new multipart
 * upload under a new object key, every part sent once there, one file. */
static void
test_expired (void)
{
  Fixture fx = { 0 };
  g_autofree char *path = NULL;
  g_autofree char *old_key = NULL;
  g_autoptr(EiderUploadRecord) record = NULL;
  g_autoptr(EiderUploadRecord) stored = NULL;
  g_autoptr(EiderUploadRecord) done = NULL;
  g_autoptr(EiderUploader) uploader = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  CancelAfterFirst c;
  gint64 file_id;

  fixture_set_up (&fx, main_server);
  path = make_file (&fx, 25 * MIB, 2525);
  file_id = note_file (&fx, path);
  record = prepare (&fx, path, file_id, NULL);

  uploader = eider_uploader_new (fx.api, fx.store);
  c.store = fx.store;
  c.file_id = file_id;
  c.cancellable = cancellable;
  g_signal_connect (uploader, "progress", G_CALLBACK (cancel_after_first_cb), &c);
  answer = upload (uploader, record, path, NULL, fx.collection_key, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_signal_handlers_disconnect_by_func (uploader, cancel_after_first_cb, &c);

  stored = eider_store_get_upload (fx.store, file_id);
  g_assert_cmpstr (stored->etags[0], !=, "");
  old_key = g_strdup (stored->object_key);
  g_assert_cmpint (stored->urls_expire_us, >, g_get_real_time () + 6 * 24 * G_TIME_SPAN_HOUR);
  stored->urls_expire_us = g_get_real_time () - 1;
  g_assert_true (eider_store_save_upload (fx.store, stored, &error));
  g_assert_no_error (error);

  answer = upload (uploader, stored, path, NULL, fx.collection_key, NULL, &error);
  g_assert_no_error (error);
  check_download (&fx, answer, path);

  done = eider_store_get_upload (fx.store, file_id);
  g_assert_cmpstr (done->object_key, !=, old_key);
  g_assert_cmpuint (count_part_puts (fx.server, done->object_key, 1), ==, 1);
  g_assert_cmpuint (count_part_puts (fx.server, done->object_key, 2), ==, 1);
  g_assert_cmpuint (count_object_puts (fx.server, old_key, 2), ==, 1);
  g_assert_cmpuint (count_album_files (&fx), ==, 1);
  fixture_tear_down (&fx);
}

/* Several uploads at once on one uploader. */
static void
test_concurrent (void)
{
  static const gsize sizes[] = { 1 * MIB, 17 * MIB, 5 * MIB + 3, 30 * MIB };
  Fixture fx = { 0 };
  g_autoptr(EiderUploader) uploader = NULL;
  GAsyncResult *results[G_N_ELEMENTS (sizes)] = { NULL, };
  char *paths[G_N_ELEMENTS (sizes)];
  GBytes *contents[G_N_ELEMENTS (sizes)];

  fixture_set_up (&fx, main_server);
  uploader = eider_uploader_new (fx.api, fx.store);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(EiderUploadRecord) record = NULL;

      paths[i] = make_file (&fx, sizes[i], 300 + i);
      record = prepare (&fx, paths[i], note_file (&fx, paths[i]), &contents[i]);
      eider_uploader_upload_async (uploader, record, paths[i], contents[i], fx.collection_key, NULL,
                                   test_result_cb, &results[i]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(JsonNode) answer = NULL;
      g_autoptr(GError) error = NULL;

      answer = eider_uploader_upload_finish (uploader, test_wait (&results[i]), &error);
      g_assert_no_error (error);
      check_download (&fx, answer, paths[i]);
      g_clear_object (&results[i]);
      g_free (paths[i]);
      g_clear_pointer (&contents[i], g_bytes_unref);
    }

  g_assert_cmpuint (count_album_files (&fx), ==, G_N_ELEMENTS (sizes));
  fixture_tear_down (&fx);
}

/* Overwrites 8 bytes at @offset and puts size and mtime back, as an
 * editor that keeps times would. */
static void
tamper_keeping_stat (const char *path,
                     gint64      offset)
{
  struct timespec times[2];
  struct stat st;
  int fd;

  g_assert_cmpint (stat (path, &st), ==, 0);
  fd = open (path, O_WRONLY);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, "tampered", 8, offset), ==, 8);
  close (fd);
  times[0] = st.st_atim;
  times[1] = st.st_mtim;
  g_assert_cmpint (utimensat (AT_FDCWD, path, times, 0), ==, 0);
}

/* Files that change between prepare and upload. */
static void
test_changed (void)
{
  Fixture fx = { 0 };
  g_autoptr(EiderUploader) uploader = NULL;
  g_autoptr(GError) error = NULL;

  fixture_set_up (&fx, main_server);
  uploader = eider_uploader_new (fx.api, fx.store);

  /* Small, kept in memory: the file on disk was rewritten. */
  {
    g_autofree char *path = make_file (&fx, 1000, 1);
    gint64 file_id = note_file (&fx, path);
    g_autoptr(GBytes) content = NULL;
    g_autoptr(EiderUploadRecord) record = prepare (&fx, path, file_id, &content);
    g_autoptr(JsonNode) answer = NULL;
    g_autofree guint8 *other = g_malloc (1001);

    fill_pattern (other, 1001, 2);
    g_assert_true (g_file_set_contents (path, (const char *) other, 1001, NULL));
    answer = upload (uploader, record, path, content, fx.collection_key, NULL, &error);
    g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED);
    g_assert_null (answer);
    g_clear_error (&error);
  }

  /* Vanished. */
  {
    g_autofree char *path = make_file (&fx, 20 * MIB, 3);
    gint64 file_id = note_file (&fx, path);
    g_autoptr(EiderUploadRecord) record = prepare (&fx, path, file_id, NULL);
    g_autoptr(JsonNode) answer = NULL;

    g_assert_cmpint (g_unlink (path), ==, 0);
    answer = upload (uploader, record, path, NULL, fx.collection_key, NULL, &error);
    g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED);
    g_clear_error (&error);
  }

  /* Multipart, bytes of part 2 changed between the two reads with size
   * and mtime put back: part 2 is sent with the Content-MD5 of what was
   * read first, so the object store refuses it (BadDigest), and that is a
   * changed file: part 1 goes, part 2 is never stored. */
  {
    g_autofree char *path = make_file (&fx, 45 * MIB, 5);
    gint64 file_id = note_file (&fx, path);
    g_autoptr(EiderUploadRecord) record = prepare (&fx, path, file_id, NULL);
    g_autoptr(EiderUploadRecord) stored = NULL;
    g_autoptr(JsonNode) answer = NULL;
    g_autofree char *part2 = NULL;

    tamper_keeping_stat (path, 30 * MIB);
    answer = upload (uploader, record, path, NULL, fx.collection_key, NULL, &error);
    g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED);
    g_clear_error (&error);

    stored = eider_store_get_upload (fx.store, file_id);
    g_assert_cmpstr (stored->etags[0], !=, "");
    g_assert_cmpstr (stored->etags[1], ==, "");
    g_assert_cmpuint (count_part_puts (fx.server, stored->object_key, 1), ==, 1);
    g_assert_cmpuint (count_object_puts (fx.server, stored->object_key, 3), ==, 1);
    part2 = g_strdup_printf ("/s3/%s?partNumber=2", stored->object_key);
    g_assert_cmpuint (count_requests (fx.server, "PUT", part2, 400), ==, 1);
  }

  /* The same in part 1, then tried again as the engine does (a new
   * prepare of what the file is now): the upload that read the old bytes
   * stores nothing, the new one uploads the new bytes. */
  {
    g_autofree char *path = make_file (&fx, 45 * MIB, 6);
    gint64 file_id = note_file (&fx, path);
    g_autoptr(EiderUploadRecord) record = prepare (&fx, path, file_id, NULL);
    g_autoptr(EiderUploadRecord) stored = NULL;
    g_autoptr(EiderUploadRecord) retried = NULL;
    g_autoptr(JsonNode) answer = NULL;
    g_autofree char *old_key = NULL;

    tamper_keeping_stat (path, 1 * MIB);
    answer = upload (uploader, record, path, NULL, fx.collection_key, NULL, &error);
    g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED);
    g_assert_null (answer);
    g_clear_error (&error);
    stored = eider_store_get_upload (fx.store, file_id);
    old_key = g_strdup (stored->object_key);
    g_assert_cmpstr (stored->etags[0], ==, "");
    g_assert_cmpuint (count_object_puts (fx.server, old_key, 3), ==, 0);

    g_assert_true (eider_store_delete_upload (fx.store, file_id, &error));
    g_assert_no_error (error);
    retried = prepare (&fx, path, file_id, NULL);
    answer = upload (uploader, retried, path, NULL, fx.collection_key, NULL, &error);
    g_assert_no_error (error);
    check_download (&fx, answer, path);
    g_assert_cmpstr (member_path (json_node_get_object (answer), "file", "objectKey"), !=, old_key);
    g_assert_cmpuint (count_album_files (&fx), ==, 1);
    g_clear_pointer (&answer, json_node_unref);
  }

  /* A resumed upload whose acknowledged part 1 changed since: part 1 is
   * not sent again, so its bytes are checked here, against the recorded
   * MD5, and nothing more goes out. */
  {
    g_autofree char *path = make_file (&fx, 45 * MIB, 7);
    gint64 file_id = note_file (&fx, path);
    g_autoptr(EiderUploadRecord) record = prepare (&fx, path, file_id, NULL);
    g_autoptr(EiderUploadRecord) stored = NULL;
    g_autoptr(EiderUploader) first = eider_uploader_new (fx.api, fx.store);
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(JsonNode) answer = NULL;
    g_autofree char *part2 = NULL;
    CancelAfterFirst c = { fx.store, file_id, cancellable };

    g_signal_connect (first, "progress", G_CALLBACK (cancel_after_first_cb), &c);
    answer = upload (first, record, path, NULL, fx.collection_key, cancellable, &error);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);

    tamper_keeping_stat (path, 2 * MIB);
    answer = upload (uploader, record, path, NULL, fx.collection_key, NULL, &error);
    g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED);
    g_clear_error (&error);

    stored = eider_store_get_upload (fx.store, file_id);
    part2 = g_strdup_printf ("/s3/%s?partNumber=2", stored->object_key);
    g_assert_cmpuint (count_part_puts (fx.server, stored->object_key, 1), ==, 1);
    g_assert_cmpuint (count_requests (fx.server, "PUT", part2, 200) +
                      count_requests (fx.server, "PUT", part2, 400), ==, 0);
  }

  g_assert_cmpuint (count_album_files (&fx), ==, 1);
  fixture_tear_down (&fx);
}

/* Errors that are not retried come back as the server said them. */
static void
test_unauthorized (void)
{
  Fixture fx = { 0 };
  g_autoptr(EiderUploader) uploader = NULL;
  g_autoptr(EiderApi) stale = NULL;
  g_autofree char *path = NULL;
  g_autoptr(EiderUploadRecord) record = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;

  fixture_set_up (&fx, main_server);
  path = make_file (&fx, 5000, 9);
  record = prepare (&fx, path, note_file (&fx, path), NULL);

  stale = eider_api_new (fx.server->url);
  eider_api_set_token (stale, "not-a-token");
  uploader = eider_uploader_new (stale, fx.store);
  answer = upload (uploader, record, path, NULL, fx.collection_key, NULL, &error);
  g_assert_error (error, EIDER_API_ERROR, EIDER_API_ERROR_UNAUTHORIZED);
  g_assert_cmpuint (eider_api_error_get_status (error), ==, 401);
  fixture_tear_down (&fx);
}

/* With 30 % of requests failing (500, 503, 429, cut, slow), uploads still
 * arrive, each exactly once. A TRANSIENT failure is retried from the
 * stored record, as the engine does. */
static void
test_faults (void)
{
  const char *faulty[] = { "--fault-rate", "0.3", "--fault-seed", "5", NULL };
  static const gsize sizes[] = { 1, 3 * MIB, 16 * MIB + 1, 30 * MIB };
  Server *server = server_new (NULL);
  Fixture fx = { 0 };
  g_autoptr(EiderUploader) uploader = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) answers = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  guint transient = 0;

  /* The account and album on a healthy server, then the same data with
   * faults. */
  fixture_set_up (&fx, server);
  server_stop (server);
  server_start (server, faulty);
  g_clear_object (&fx.api);
  fx.api = api_for (server, fx.session);

  uploader = eider_uploader_new (fx.api, fx.store);
  eider_uploader_set_retry_delay_ms (uploader, 50);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      char *path = make_file (&fx, sizes[i], 100 + i);
      gint64 file_id = note_file (&fx, path);
      g_autoptr(EiderUploadRecord) record = prepare (&fx, path, file_id, NULL);
      JsonNode *answer = NULL;

      g_ptr_array_add (paths, path);
      for (guint attempt = 0; answer == NULL && attempt < 10; attempt++)
        {
          g_autoptr(EiderUploadRecord) stored = eider_store_get_upload (fx.store, file_id);
          g_autoptr(GError) error = NULL;

          answer = upload (uploader, stored, path, NULL, fx.collection_key, NULL, &error);
          if (answer == NULL)
            {
              g_assert_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_TRANSIENT);
              transient++;
            }
        }
      g_assert_nonnull (answer);
      g_ptr_array_add (answers, answer);
    }
  g_test_message ("%u uploads gave up transiently and were resumed", transient);

  /* Check on a healthy server again. */
  server_stop (server);
  server_start (server, NULL);
  g_clear_object (&fx.api);
  fx.api = api_for (server, fx.session);
  for (guint i = 0; i < answers->len; i++)
    check_download (&fx, answers->pdata[i], paths->pdata[i]);
  g_assert_cmpuint (count_album_files (&fx), ==, G_N_ELEMENTS (sizes));
  {
    g_autofree char *log = NULL;
    g_auto(GStrv) lines = NULL;
    guint faults = 0, object_faults = 0;

    g_assert_true (g_file_get_contents (server->log_path, &log, NULL, NULL));
    lines = g_strsplit (log, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      if (g_str_has_suffix (lines[i], " 500") || g_str_has_suffix (lines[i], " 503") ||
          g_str_has_suffix (lines[i], " 429"))
        {
          faults++;
          if (strstr (lines[i], " /s3/") != NULL)
            object_faults++;
        }
    g_test_message ("%u requests answered with a fault (%u of them object requests)",
                    faults, object_faults);
    g_assert_cmpuint (faults, >, 0);
  }

  fixture_tear_down (&fx);
  server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (eider_crypto_init (NULL));

  work_dir = test_make_tmpdir ("eider-uploader-XXXXXX");

  g_test_add_func ("/uploader/plan", test_plan);
  g_test_add_func ("/uploader/prepare", test_prepare);
  g_test_add_func ("/uploader/memory", test_memory);
  g_test_add_func ("/uploader/sizes", test_sizes);
  g_test_add_func ("/uploader/resume", test_resume);
  g_test_add_func ("/uploader/expired", test_expired);
  g_test_add_func ("/uploader/concurrent", test_concurrent);
  g_test_add_func ("/uploader/changed", test_changed);
  g_test_add_func ("/uploader/unauthorized", test_unauthorized);
  g_test_add_func ("/uploader/faults", test_faults);

  main_server = server_new (NULL);
  ret = g_test_run ();
  server_free (main_server);
  test_rm_rf (work_dir);
  g_free (work_dir);

  return ret;
}
