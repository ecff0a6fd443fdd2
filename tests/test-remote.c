/* test-remote.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * EiderRemote against a real eider-test-server: albums found or created
 * once (also under concurrent calls and after a restart), Uncategorized,
 * files made with raw API calls read back from collection diffs (title,
 * type, hash, editedName, legacy live-photo hashes), undecryptable entries
 * skipped, add-files and move-files with keys that really decrypt,
 * incremental sync, deleted albums, hidden albums and quick links.
 */
#include "config.h"

#include <string.h>
#include <libsoup/soup.h>

#include "eider-account.h"
#include "eider-remote.h"
#include "eider-signup.h"
#include "eider-store.h"
#include "eider-test-server-harness.h"

#define PASSWORD "correct horse battery staple"

static TestServer *server;
static guint email_counter;

/* Warnings about skipped entries are expected in one test: count them
 * instead of aborting; every other warning stays fatal. */
static guint skipped_warnings;
static gboolean expect_skips;
static char *last_skip_message;

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }

  if (expect_skips && (level & G_LOG_LEVEL_WARNING) != 0 &&
      g_strcmp0 (domain, "eider-remote") == 0 && message != NULL &&
      strstr (message, "skipped") != NULL)
    {
      g_atomic_int_inc (&skipped_warnings);
      g_free (last_skip_message);
      last_skip_message = g_strdup (message);
      return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_default (level, fields, n_fields, user_data);
}

typedef struct
{
  char         *config;
  EiderSession *session;
  EiderAccount *account;
  EiderStore   *store;
  EiderRemote  *remote;
  guint         n_stores;
} Ctx;

static void
ctx_open_store (Ctx *ctx)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("state-%u.sqlite3", ++ctx->n_stores);
  g_autofree char *path = g_build_filename (ctx->config, name, NULL);

  g_clear_object (&ctx->remote);
  g_clear_object (&ctx->store);
  ctx->store = eider_store_open (path, &error);
  g_assert_no_error (error);
  ctx->remote = eider_remote_new (ctx->account, ctx->store);
}

static Ctx *
ctx_new (void)
{
  Ctx *ctx = g_new0 (Ctx, 1);
  g_autofree char *email = g_strdup_printf ("remote%u-%u@example.org", ++email_counter, g_random_int ());
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
  ctx->session = eider_signup_steal_session (signup);

  ctx->config = test_make_tmpdir ("eider-remote-XXXXXX");
  ctx->account = eider_account_new (ctx->config);
  g_assert_true (eider_account_set_session (ctx->account, ctx->session, EIDER_SECRET_BACKEND_FILE, &error));
  g_assert_no_error (error);
  ctx_open_store (ctx);

  return ctx;
}

static void
ctx_free (Ctx *ctx)
{
  g_clear_object (&ctx->remote);
  g_clear_object (&ctx->store);
  g_clear_object (&ctx->account);
  eider_session_free (ctx->session);
  test_rm_rf (ctx->config);
  g_free (ctx->config);
  g_free (ctx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Ctx, ctx_free)

/* ---- raw API ---------------------------------------------------------- */

static JsonNode *
api_call (Ctx        *ctx,
          const char *method,
          const char *path,
          JsonNode   *body,
          GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  EiderApi *api = eider_account_get_api (ctx->account);

  eider_api_call_async (api, method, path, body, EIDER_API_CALL_AUTH, NULL, test_result_cb, &result);

  return eider_api_call_finish (api, test_wait (&result), error);
}

static JsonNode *
api_ok (Ctx        *ctx,
        const char *method,
        const char *path,
        JsonNode   *body)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = api_call (ctx, method, path, body, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);

  return node;
}

static char *
b64 (GBytes *bytes)
{
  return eider_base64_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* {"data","header"} (+ version, count) of a JSON text sealed as a blob. */
static void
add_blob (JsonBuilder       *builder,
          const char        *data_member,
          const char        *header_member,
          const char        *json_text,
          const EiderSecret *key)
{
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  g_autoptr(GBytes) ct = eider_blob_encrypt ((const guint8 *) json_text, strlen (json_text), key, header);
  g_autofree char *data_b64 = b64 (ct);
  g_autofree char *header_b64 = eider_base64_encode (header, sizeof header);

  json_builder_set_member_name (builder, data_member);
  json_builder_add_string_value (builder, data_b64);
  json_builder_set_member_name (builder, header_member);
  json_builder_add_string_value (builder, header_b64);
}

static void
add_magic (JsonBuilder       *builder,
           const char        *member,
           const char        *json_text,
           const EiderSecret *key)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "count");
  json_builder_add_int_value (builder, 1);
  add_blob (builder, "data", "header", json_text, key);
  json_builder_end_object (builder);
}

/* An album made behind EiderRemote's back, with optional private magic
 * metadata (JSON text). */
static gint64
raw_create_collection (Ctx        *ctx,
                       const char *name,
                       const char *magic_json)
{
  g_autoptr(EiderSecret) key = eider_secret_new_random (EIDER_KEY_BYTES);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autofree char *wrapped = NULL;
  g_autofree char *nonce_b64 = NULL;
  g_autofree char *name_b64 = NULL;
  g_autofree char *name_nonce_b64 = NULL;
  g_autofree guint8 *ct = g_malloc (strlen (name) + EIDER_MAC_BYTES);
  guint8 nonce[EIDER_NONCE_BYTES];

  eider_crypto_wrap_key (key, eider_account_get_master_key (ctx->account), &wrapped, &nonce_b64);
  eider_secretbox_seal ((const guint8 *) name, strlen (name), eider_secret_peek (key), nonce, ct);
  name_b64 = eider_base64_encode (ct, strlen (name) + EIDER_MAC_BYTES);
  name_nonce_b64 = eider_base64_encode (nonce, sizeof nonce);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "encryptedKey");
  json_builder_add_string_value (builder, wrapped);
  json_builder_set_member_name (builder, "keyDecryptionNonce");
  json_builder_add_string_value (builder, nonce_b64);
  json_builder_set_member_name (builder, "encryptedName");
  json_builder_add_string_value (builder, name_b64);
  json_builder_set_member_name (builder, "nameDecryptionNonce");
  json_builder_add_string_value (builder, name_nonce_b64);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "album");
  if (magic_json != NULL)
    add_magic (builder, "magicMetadata", magic_json, key);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  reply = api_ok (ctx, "POST", "/collections", body);

  return json_object_get_int_member (json_object_get_object_member (json_node_get_object (reply), "collection"), "id");
}

/* POST /files/upload-url + PUT with Content-MD5; returns the object key. */
static char *
put_object (Ctx    *ctx,
            GBytes *data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) reply = NULL;
  static SoupSession *session;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *md5 = eider_content_md5 (g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  JsonObject *object;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "contentLength");
  json_builder_add_int_value (builder, g_bytes_get_size (data));
  json_builder_set_member_name (builder, "contentMD5");
  json_builder_add_string_value (builder, md5);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);
  reply = api_ok (ctx, "POST", "/files/upload-url", body);
  object = json_node_get_object (reply);

  if (session == NULL)
    session = soup_session_new ();
  msg = soup_message_new ("PUT", json_object_get_string_member (object, "url"));
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Content-MD5", md5);
  soup_message_set_request_body_from_bytes (msg, NULL, data);
  response = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);

  return g_strdup (json_object_get_string_member (object, "objectKey"));
}

typedef struct
{
  const char *title;
  gint        file_type;
  const char *hash;         /* NULL: none */
  const char *image_hash;   /* legacy live photo */
  const char *video_hash;
  const char *edited_name;  /* pubMagicMetadata */
  gint64      creation_time;
  gboolean    wrong_key;    /* file key wrapped with an unrelated key */
} RawFile;

/* A whole file made with raw API calls (objects, metadata, POST /files).
 * Returns the POST /files reply. */
static JsonNode *
raw_upload (Ctx           *ctx,
            gint64         collection_id,
            const RawFile *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderSecret) collection_key = eider_remote_get_collection_key (ctx->remote, collection_id, &error);
  g_autoptr(EiderSecret) file_key = eider_secret_new_random (EIDER_KEY_BYTES);
  g_autoptr(EiderSecret) other_key = eider_secret_new_random (EIDER_KEY_BYTES);
  g_autoptr(JsonBuilder) meta = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) meta_root = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *content = g_strdup_printf ("content of %s %u", f->title, g_random_int ());
  g_autofree char *meta_text = NULL;
  g_autofree char *wrapped = NULL;
  g_autofree char *nonce = NULL;
  g_autofree char *file_header_b64 = NULL;
  g_autofree char *thumb_header_b64 = NULL;
  g_autofree char *file_object = NULL;
  g_autofree char *thumb_object = NULL;
  guint8 file_header[EIDER_STREAM_HEADER_BYTES];
  guint8 thumb_header[EIDER_STREAM_HEADER_BYTES];
  g_autoptr(GBytes) file_ct = NULL;
  g_autoptr(GBytes) thumb_ct = NULL;

  g_assert_no_error (error);

  /* One chunk marked FINAL: a blob and a one-chunk stream are the same. */
  file_ct = eider_blob_encrypt ((const guint8 *) content, strlen (content), file_key, file_header);
  thumb_ct = eider_blob_encrypt ((const guint8 *) "thumb", 5, file_key, thumb_header);
  file_object = put_object (ctx, file_ct);
  thumb_object = put_object (ctx, thumb_ct);
  file_header_b64 = eider_base64_encode (file_header, sizeof file_header);
  thumb_header_b64 = eider_base64_encode (thumb_header, sizeof thumb_header);

  json_builder_begin_object (meta);
  json_builder_set_member_name (meta, "fileType");
  json_builder_add_int_value (meta, f->file_type);
  json_builder_set_member_name (meta, "title");
  json_builder_add_string_value (meta, f->title);
  json_builder_set_member_name (meta, "creationTime");
  json_builder_add_int_value (meta, f->creation_time);
  json_builder_set_member_name (meta, "modificationTime");
  json_builder_add_int_value (meta, f->creation_time + 1);
  if (f->hash != NULL)
    {
      json_builder_set_member_name (meta, "hash");
      json_builder_add_string_value (meta, f->hash);
    }
  if (f->image_hash != NULL)
    {
      json_builder_set_member_name (meta, "imageHash");
      json_builder_add_string_value (meta, f->image_hash);
      json_builder_set_member_name (meta, "videoHash");
      json_builder_add_string_value (meta, f->video_hash);
    }
  json_builder_end_object (meta);
  meta_root = json_builder_get_root (meta);
  json_generator_set_root (generator, meta_root);
  meta_text = json_generator_to_data (generator, NULL);

  eider_crypto_wrap_key (file_key, f->wrong_key ? other_key : collection_key, &wrapped, &nonce);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "collectionID");
  json_builder_add_int_value (builder, collection_id);
  json_builder_set_member_name (builder, "encryptedKey");
  json_builder_add_string_value (builder, wrapped);
  json_builder_set_member_name (builder, "keyDecryptionNonce");
  json_builder_add_string_value (builder, nonce);
  json_builder_set_member_name (builder, "file");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "objectKey");
  json_builder_add_string_value (builder, file_object);
  json_builder_set_member_name (builder, "decryptionHeader");
  json_builder_add_string_value (builder, file_header_b64);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, g_bytes_get_size (file_ct));
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "thumbnail");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "objectKey");
  json_builder_add_string_value (builder, thumb_object);
  json_builder_set_member_name (builder, "decryptionHeader");
  json_builder_add_string_value (builder, thumb_header_b64);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, g_bytes_get_size (thumb_ct));
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "metadata");
  json_builder_begin_object (builder);
  add_blob (builder, "encryptedData", "decryptionHeader", meta_text, file_key);
  json_builder_end_object (builder);
  if (f->edited_name != NULL)
    {
      g_autofree char *pub = g_strdup_printf ("{\"editedName\":\"%s\"}", f->edited_name);

      add_magic (builder, "pubMagicMetadata", pub, file_key);
    }
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  return api_ok (ctx, "POST", "/files", body);
}

static gint64
file_id_of (JsonNode *file)
{
  return json_object_get_int_member (json_node_get_object (file), "id");
}

/* ---- EiderRemote, synchronously ---------------------------------------- */

static void
sync_ok (Ctx *ctx)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  eider_remote_sync_async (ctx->remote, NULL, test_result_cb, &result);
  g_assert_true (eider_remote_sync_finish (ctx->remote, test_wait (&result), &error));
  g_assert_no_error (error);
}

static gint64
ensure_album (Ctx        *ctx,
              const char *name)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  eider_remote_ensure_album_async (ctx->remote, name, NULL, test_result_cb, &result);
  id = eider_remote_ensure_album_finish (ctx->remote, test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  return id;
}

static gint64
ensure_uncategorized (Ctx *ctx)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  eider_remote_ensure_uncategorized_async (ctx->remote, NULL, test_result_cb, &result);
  id = eider_remote_ensure_uncategorized_finish (ctx->remote, test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  return id;
}

static GPtrArray *
find (Ctx        *ctx,
      const char *title,
      gint        file_type,
      const char *hash)
{
  GPtrArray *found = eider_remote_find_duplicates (ctx->remote, title, file_type, hash);

  g_assert_nonnull (found);

  return found;
}

static EiderRemoteFileRecord *
find_one (Ctx        *ctx,
          const char *title,
          gint        file_type,
          const char *hash)
{
  g_autoptr(GPtrArray) found = find (ctx, title, file_type, hash);

  g_assert_cmpuint (found->len, ==, 1);

  return g_ptr_array_steal_index (found, 0);
}

/* Server-side: how many live collections of this type are named so. */
static guint
count_remote_collections (Ctx        *ctx,
                          const char *type,
                          const char *name)
{
  g_autoptr(JsonNode) reply = api_ok (ctx, "GET", "/collections/v2?sinceTime=0", NULL);
  JsonArray *list = json_object_get_array_member (json_node_get_object (reply), "collections");
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(EiderSecret) key = NULL;
      g_autoptr(GBytes) ct = NULL;
      guint8 nonce[EIDER_NONCE_BYTES];
      g_autofree char *plain = NULL;
      gsize len;

      if (json_object_get_boolean_member_with_default (c, "isDeleted", FALSE) ||
          g_strcmp0 (json_object_get_string_member (c, "type"), type) != 0)
        continue;

      key = eider_crypto_unwrap_key (json_object_get_string_member (c, "encryptedKey"),
                                     json_object_get_string_member (c, "keyDecryptionNonce"),
                                     eider_account_get_master_key (ctx->account), &error);
      g_assert_no_error (error);
      ct = eider_base64_decode (json_object_get_string_member (c, "encryptedName"), &error);
      g_assert_no_error (error);
      g_assert_true (eider_base64_decode_exact (json_object_get_string_member (c, "nameDecryptionNonce"),
                                                nonce, sizeof nonce, &error));
      len = g_bytes_get_size (ct) - EIDER_MAC_BYTES;
      plain = g_malloc0 (len + 1);
      g_assert_true (eider_secretbox_open (g_bytes_get_data (ct, NULL), g_bytes_get_size (ct),
                                          nonce, eider_secret_peek (key), (guint8 *) plain, &error));
      if (g_str_equal (plain, name))
        n++;
    }

  return n;
}

/* The raw diff entry of a file in a collection (NULL if absent); checks
 * that a live entry's key decrypts with the collection key and that its
 * metadata then gives @title. */
static JsonObject *
raw_diff_entry (Ctx        *ctx,
                gint64      collection_id,
                gint64      file_id,
                const char *title)
{
  g_autofree char *path = g_strdup_printf ("/collections/v2/diff?collectionID=%" G_GINT64_FORMAT "&sinceTime=0",
                                           collection_id);
  g_autoptr(JsonNode) reply = api_ok (ctx, "GET", path, NULL);
  JsonArray *diff = json_object_get_array_member (json_node_get_object (reply), "diff");

  for (guint i = 0; i < json_array_get_length (diff); i++)
    {
      JsonObject *entry = json_array_get_object_element (diff, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(EiderSecret) collection_key = NULL;
      g_autoptr(EiderSecret) file_key = NULL;
      g_autoptr(GBytes) ct = NULL;
      g_autoptr(GBytes) plain = NULL;
      g_autoptr(JsonNode) metadata = NULL;
      g_autofree char *text = NULL;
      JsonObject *m;
      guint8 header[EIDER_STREAM_HEADER_BYTES];

      if (json_object_get_int_member (entry, "id") != file_id)
        continue;
      if (json_object_get_boolean_member_with_default (entry, "isDeleted", FALSE))
        return json_object_ref (entry);

      collection_key = eider_remote_get_collection_key (ctx->remote, collection_id, &error);
      g_assert_no_error (error);
      file_key = eider_crypto_unwrap_key (json_object_get_string_member (entry, "encryptedKey"),
                                          json_object_get_string_member (entry, "keyDecryptionNonce"),
                                          collection_key, &error);
      g_assert_no_error (error);
      m = json_object_get_object_member (entry, "metadata");
      ct = eider_base64_decode (json_object_get_string_member (m, "encryptedData"), &error);
      g_assert_no_error (error);
      g_assert_true (eider_base64_decode_exact (json_object_get_string_member (m, "decryptionHeader"),
                                                header, sizeof header, &error));
      plain = eider_blob_decrypt (g_bytes_get_data (ct, NULL), g_bytes_get_size (ct), file_key, header, &error);
      g_assert_no_error (error);
      text = g_strndup (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain));
      metadata = json_from_string (text, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (metadata), "title"), ==, title);

      return json_object_ref (entry);
    }

  return NULL;
}

/* ---- tests ------------------------------------------------------------ */

/* Created once; found by name again, also from a fresh store after a
 * restart; the store keeps the wrapped key only. */
static void
test_ensure_album (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(EiderCollectionRecord) record = NULL;
  g_autoptr(EiderCollectionRecord) again = NULL;
  g_autoptr(EiderSecret) key = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *key_b64 = NULL;
  gint64 id, other;

  id = ensure_album (ctx, "Holidays 🏖");
  g_assert_cmpint (ensure_album (ctx, "Holidays 🏖"), ==, id);
  g_assert_cmpuint (count_remote_collections (ctx, "album", "Holidays 🏖"), ==, 1);

  record = eider_store_get_collection (ctx->store, id);
  g_assert_nonnull (record);
  g_assert_cmpstr (record->name, ==, "Holidays 🏖");
  g_assert_cmpstr (record->type, ==, "album");
  g_assert_cmpint (record->owner_id, ==, eider_account_get_user_id (ctx->account));
  key = eider_remote_get_collection_key (ctx->remote, id, &error);
  g_assert_no_error (error);
  key_b64 = eider_base64_encode (eider_secret_peek (key), EIDER_KEY_BYTES);
  g_assert_cmpstr (record->encrypted_key, !=, key_b64);
  g_assert_false (test_dir_contains (ctx->config, eider_secret_peek (key), EIDER_KEY_BYTES));
  g_assert_false (test_dir_contains (ctx->config, (const guint8 *) key_b64, strlen (key_b64)));

  /* Names are exact: another case is another album. */
  other = ensure_album (ctx, "holidays 🏖");
  g_assert_cmpint (other, !=, id);

  /* A restart with a fresh store: sync, then the same album. */
  ctx_open_store (ctx);
  g_assert_null (eider_store_get_collection (ctx->store, id));
  sync_ok (ctx);
  again = eider_store_get_collection (ctx->store, id);
  g_assert_nonnull (again);
  g_assert_cmpstr (again->name, ==, "Holidays 🏖");
  g_assert_cmpint (ensure_album (ctx, "Holidays 🏖"), ==, id);

  /* Without a sync first: ensure_album pulls before it creates. */
  ctx_open_store (ctx);
  g_assert_cmpint (ensure_album (ctx, "holidays 🏖"), ==, other);
  g_assert_cmpuint (count_remote_collections (ctx, "album", "Holidays 🏖"), ==, 1);
  g_assert_cmpuint (count_remote_collections (ctx, "album", "holidays 🏖"), ==, 1);
}

static void
test_concurrent_ensure (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GAsyncResult) r3 = NULL;
  g_autoptr(GAsyncResult) r4 = NULL;
  g_autoptr(GError) error = NULL;
  gint64 a, b, c, d;

  eider_remote_ensure_album_async (ctx->remote, "Same", NULL, test_result_cb, &r1);
  eider_remote_ensure_album_async (ctx->remote, "Same", NULL, test_result_cb, &r2);
  eider_remote_ensure_album_async (ctx->remote, "Other", NULL, test_result_cb, &r3);
  eider_remote_ensure_album_async (ctx->remote, "Same", NULL, test_result_cb, &r4);

  a = eider_remote_ensure_album_finish (ctx->remote, test_wait (&r1), &error);
  g_assert_no_error (error);
  b = eider_remote_ensure_album_finish (ctx->remote, test_wait (&r2), &error);
  g_assert_no_error (error);
  c = eider_remote_ensure_album_finish (ctx->remote, test_wait (&r3), &error);
  g_assert_no_error (error);
  d = eider_remote_ensure_album_finish (ctx->remote, test_wait (&r4), &error);
  g_assert_no_error (error);

  g_assert_cmpint (a, >, 0);
  g_assert_cmpint (a, ==, b);
  g_assert_cmpint (a, ==, d);
  g_assert_cmpint (c, >, 0);
  g_assert_cmpint (c, !=, a);
  g_assert_cmpuint (count_remote_collections (ctx, "album", "Same"), ==, 1);
  g_assert_cmpuint (count_remote_collections (ctx, "album", "Other"), ==, 1);
}

static void
test_uncategorized (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderCollectionRecord) record = NULL;
  gint64 a, b;

  eider_remote_ensure_uncategorized_async (ctx->remote, NULL, test_result_cb, &r1);
  eider_remote_ensure_uncategorized_async (ctx->remote, NULL, test_result_cb, &r2);
  a = eider_remote_ensure_uncategorized_finish (ctx->remote, test_wait (&r1), &error);
  g_assert_no_error (error);
  b = eider_remote_ensure_uncategorized_finish (ctx->remote, test_wait (&r2), &error);
  g_assert_no_error (error);
  g_assert_cmpint (a, >, 0);
  g_assert_cmpint (a, ==, b);

  record = eider_store_get_collection (ctx->store, a);
  g_assert_cmpstr (record->type, ==, "uncategorized");
  g_assert_cmpstr (record->name, ==, "Uncategorized");

  /* A watch folder named Uncategorized targets it (§12.3). */
  g_assert_cmpint (ensure_album (ctx, "Uncategorized"), ==, a);

  ctx_open_store (ctx);
  g_assert_cmpint (ensure_uncategorized (ctx), ==, a);
  g_assert_cmpuint (count_remote_collections (ctx, "uncategorized", "Uncategorized"), ==, 1);
  g_assert_cmpuint (count_remote_collections (ctx, "album", "Uncategorized"), ==, 0);
}

/* Files made with raw API calls come back with the right title, type and
 * hash; editedName wins; legacy live-photo hashes are rebuilt; an entry
 * that does not decrypt is skipped with a warning naming it. */
static void
test_sync_files (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(JsonNode) plain = NULL;
  g_autoptr(JsonNode) live = NULL;
  g_autoptr(JsonNode) edited = NULL;
  g_autoptr(JsonNode) video = NULL;
  g_autoptr(JsonNode) broken = NULL;
  g_autoptr(EiderRemoteFileRecord) r = NULL;
  g_autoptr(EiderRemoteFileRecord) l = NULL;
  g_autoptr(EiderRemoteFileRecord) e = NULL;
  g_autoptr(EiderRemoteFileRecord) v = NULL;
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(EiderCollectionRecord) record = NULL;
  g_autofree char *skip_id = NULL;
  gint64 album = ensure_album (ctx, "Camera");
  JsonObject *p;

  plain = raw_upload (ctx, album, &(RawFile) { "IMG_0001.JPG", 0, "aGFzaDE=", .creation_time = 1692794580000000 });
  live = raw_upload (ctx, album, &(RawFile) { "IMG_0002.HEIC", 2, NULL, "aW1n", "dmlk", .creation_time = 1692794581000000 });
  edited = raw_upload (ctx, album, &(RawFile) { "orig.jpg", 0, "aGFzaDM=", .edited_name = "renamed.jpg",
                                                .creation_time = 1692794582000000 });
  video = raw_upload (ctx, album, &(RawFile) { "clip.mp4", 1, "aGFzaDQ=", .creation_time = 1692794583000000 });
  broken = raw_upload (ctx, album, &(RawFile) { "broken.jpg", 0, "aGFzaDU=", .wrong_key = TRUE });

  expect_skips = TRUE;
  skipped_warnings = 0;
  sync_ok (ctx);
  expect_skips = FALSE;
  g_assert_cmpuint (skipped_warnings, ==, 1);
  skip_id = g_strdup_printf ("File %" G_GINT64_FORMAT " ", file_id_of (broken));
  g_assert_nonnull (strstr (last_skip_message, skip_id));

  p = json_node_get_object (plain);
  r = find_one (ctx, "IMG_0001.JPG", 0, "aGFzaDE=");
  g_assert_cmpint (r->id, ==, file_id_of (plain));
  g_assert_cmpint (r->collection_id, ==, album);
  g_assert_cmpint (r->creation_time, ==, 1692794580000000);
  g_assert_cmpstr (r->file_header, ==,
                   json_object_get_string_member (json_object_get_object_member (p, "file"), "decryptionHeader"));
  g_assert_cmpint (r->file_size, ==,
                   json_object_get_int_member (json_object_get_object_member (p, "file"), "size"));
  g_assert_cmpint (r->file_size, >, 0);
  g_assert_cmpstr (r->encrypted_key, ==, json_object_get_string_member (p, "encryptedKey"));

  /* Type and hash are part of the key. */
  none = find (ctx, "IMG_0001.JPG", 1, "aGFzaDE=");
  g_assert_cmpuint (none->len, ==, 0);
  g_clear_pointer (&none, g_ptr_array_unref);
  none = find (ctx, "IMG_0001.JPG", 0, "aGFzaDI=");
  g_assert_cmpuint (none->len, ==, 0);
  g_clear_pointer (&none, g_ptr_array_unref);

  l = find_one (ctx, "IMG_0002.HEIC", 2, "aW1n:dmlk");
  g_assert_cmpint (l->id, ==, file_id_of (live));

  e = find_one (ctx, "renamed.jpg", 0, "aGFzaDM=");
  g_assert_cmpint (e->id, ==, file_id_of (edited));
  none = find (ctx, "orig.jpg", 0, "aGFzaDM=");
  g_assert_cmpuint (none->len, ==, 0);
  g_clear_pointer (&none, g_ptr_array_unref);

  v = find_one (ctx, "clip.mp4", 1, "aGFzaDQ=");
  g_assert_cmpint (v->id, ==, file_id_of (video));

  none = find (ctx, "broken.jpg", 0, "aGFzaDU=");
  g_assert_cmpuint (none->len, ==, 0);

  /* The album is complete up to its updationTime. */
  record = eider_store_get_collection (ctx->store, album);
  g_assert_cmpint (record->files_since, ==, record->updation_time);
}

/* The cursor: a second sync asks only for entries after it. An entry the
 * local index lost stays lost (it is not fetched again), a new one comes. */
static void
test_incremental_sync (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(JsonNode) first = NULL;
  g_autoptr(JsonNode) second = NULL;
  g_autoptr(JsonNode) third = NULL;
  g_autoptr(GPtrArray) gone = NULL;
  g_autoptr(EiderRemoteFileRecord) found = NULL;
  g_autoptr(EiderRemoteFileRecord) found3 = NULL;
  g_autoptr(EiderCollectionRecord) before = NULL;
  g_autoptr(EiderCollectionRecord) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *since = NULL;
  gint64 album = ensure_album (ctx, "Incremental");
  gint64 quiet = ensure_album (ctx, "Quiet");

  first = raw_upload (ctx, album, &(RawFile) { "one.jpg", 0, "b25l", .creation_time = 1 });
  sync_ok (ctx);
  g_clear_pointer (&found, eider_remote_file_record_free);
  found = find_one (ctx, "one.jpg", 0, "b25l");
  before = eider_store_get_collection (ctx->store, album);
  since = eider_store_get_meta (ctx->store, "remote.collections-since");
  g_assert_nonnull (since);
  g_assert_cmpint (g_ascii_strtoll (since, NULL, 10), >=, before->updation_time);

  g_assert_true (eider_store_delete_remote_file (ctx->store, file_id_of (first), album, &error));
  g_assert_no_error (error);

  second = raw_upload (ctx, album, &(RawFile) { "two.jpg", 0, "dHdv", .creation_time = 2 });
  third = raw_upload (ctx, quiet, &(RawFile) { "three.jpg", 0, "dGhyZWU=", .creation_time = 3 });
  sync_ok (ctx);

  gone = find (ctx, "one.jpg", 0, "b25l");
  g_assert_cmpuint (gone->len, ==, 0);
  g_clear_pointer (&found, eider_remote_file_record_free);
  found = find_one (ctx, "two.jpg", 0, "dHdv");
  g_assert_cmpint (found->id, ==, file_id_of (second));
  found3 = find_one (ctx, "three.jpg", 0, "dGhyZWU=");
  g_assert_cmpint (found3->collection_id, ==, quiet);

  after = eider_store_get_collection (ctx->store, album);
  g_assert_cmpint (after->files_since, >, before->files_since);
  g_assert_cmpint (after->files_since, ==, after->updation_time);

  /* A full sync from a fresh store has all three. */
  ctx_open_store (ctx);
  sync_ok (ctx);
  g_clear_pointer (&found, eider_remote_file_record_free);
  found = find_one (ctx, "one.jpg", 0, "b25l");
  g_assert_cmpint (found->id, ==, file_id_of (first));
}

/* add-files: the file shows in the target's diff with a key that decrypts
 * under the target's key; the index has both entries, before and after a
 * fresh sync. */
static void
test_add_files (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(JsonNode) file = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) entry = NULL;
  gint64 a = ensure_album (ctx, "Source");
  gint64 b = ensure_album (ctx, "Target");
  EiderRemoteFileRecord *in_b = NULL;

  file = raw_upload (ctx, a, &(RawFile) { "shared.jpg", 0, "c2hhcmVk", .creation_time = 7 });
  sync_ok (ctx);
  found = find (ctx, "shared.jpg", 0, "c2hhcmVk");
  g_assert_cmpuint (found->len, ==, 1);

  eider_remote_add_files_async (ctx->remote, b, found, NULL, test_result_cb, &result);
  g_assert_true (eider_remote_add_files_finish (ctx->remote, test_wait (&result), &error));
  g_assert_no_error (error);

  entry = raw_diff_entry (ctx, b, file_id_of (file), "shared.jpg");
  g_assert_nonnull (entry);
  g_assert_false (json_object_get_boolean_member_with_default (entry, "isDeleted", FALSE));

  again = find (ctx, "shared.jpg", 0, "c2hhcmVk");
  g_assert_cmpuint (again->len, ==, 2);
  for (guint i = 0; i < again->len; i++)
    {
      EiderRemoteFileRecord *r = g_ptr_array_index (again, i);

      g_assert_cmpint (r->id, ==, file_id_of (file));
      if (r->collection_id == b)
        in_b = r;
    }
  g_assert_nonnull (in_b);
  g_assert_cmpstr (in_b->encrypted_key, ==, json_object_get_string_member (entry, "encryptedKey"));
  g_assert_cmpstr (in_b->key_nonce, ==, json_object_get_string_member (entry, "keyDecryptionNonce"));
  g_assert_cmpstr (in_b->key_nonce, !=, ((EiderRemoteFileRecord *) g_ptr_array_index (found, 0))->key_nonce);

  ctx_open_store (ctx);
  sync_ok (ctx);
  g_clear_pointer (&again, g_ptr_array_unref);
  again = find (ctx, "shared.jpg", 0, "c2hhcmVk");
  g_assert_cmpuint (again->len, ==, 2);
}

/* More than one batch: 1001 files (the server answers 413 above 1000 per
 * request) are linked in two requests, and every key decrypts. */
static void
test_add_files_batches (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) eider_remote_file_record_free);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 a = ensure_album (ctx, "Batch source");
  gint64 b = ensure_album (ctx, "Batch target");
  g_autofree char *path = NULL;
  g_autoptr(JsonNode) page = NULL;
  guint i, n = 1001;

  for (i = 0; i < n; i++)
    {
      g_autofree char *title = g_strdup_printf ("b%04u.jpg", i);

      g_ptr_array_add (files, raw_upload (ctx, a, &(RawFile) { title, 0, "Yg==", .creation_time = i }));
    }
  sync_ok (ctx);
  for (i = 0; i < n; i++)
    {
      g_autofree char *title = g_strdup_printf ("b%04u.jpg", i);

      g_ptr_array_add (records, find_one (ctx, title, 0, "Yg=="));
    }

  eider_remote_add_files_async (ctx->remote, b, records, NULL, test_result_cb, &result);
  g_assert_true (eider_remote_add_files_finish (ctx->remote, test_wait (&result), &error));
  g_assert_no_error (error);

  path = g_strdup_printf ("/collections/v2/diff?collectionID=%" G_GINT64_FORMAT "&sinceTime=0", b);
  page = api_ok (ctx, "GET", path, NULL);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (page), "diff")), ==, n);
  {
    g_autoptr(JsonObject) first = raw_diff_entry (ctx, b, file_id_of (g_ptr_array_index (files, 0)), "b0000.jpg");
    g_autoptr(JsonObject) last = raw_diff_entry (ctx, b, file_id_of (g_ptr_array_index (files, n - 1)), "b1000.jpg");
    g_autoptr(GPtrArray) both = find (ctx, "b1000.jpg", 0, "Yg==");

    g_assert_nonnull (first);
    g_assert_nonnull (last);
    g_assert_cmpuint (both->len, ==, 2);
  }
}

static void
test_move_files (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(JsonNode) file = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) old_entry = NULL;
  g_autoptr(JsonObject) new_entry = NULL;
  g_autoptr(EiderRemoteFileRecord) moved = NULL;
  gint64 a = ensure_album (ctx, "Before");
  gint64 c = ensure_uncategorized (ctx);

  file = raw_upload (ctx, a, &(RawFile) { "move.jpg", 0, "bW92ZQ==", .creation_time = 9 });
  sync_ok (ctx);
  found = find (ctx, "move.jpg", 0, "bW92ZQ==");
  g_assert_cmpuint (found->len, ==, 1);

  eider_remote_move_files_async (ctx->remote, a, c, found, NULL, test_result_cb, &result);
  g_assert_true (eider_remote_move_files_finish (ctx->remote, test_wait (&result), &error));
  g_assert_no_error (error);

  moved = find_one (ctx, "move.jpg", 0, "bW92ZQ==");
  g_assert_cmpint (moved->collection_id, ==, c);

  old_entry = raw_diff_entry (ctx, a, file_id_of (file), "move.jpg");
  g_assert_nonnull (old_entry);
  g_assert_true (json_object_get_boolean_member_with_default (old_entry, "isDeleted", FALSE));
  new_entry = raw_diff_entry (ctx, c, file_id_of (file), "move.jpg");
  g_assert_nonnull (new_entry);
  g_assert_false (json_object_get_boolean_member_with_default (new_entry, "isDeleted", FALSE));
  g_assert_cmpstr (moved->encrypted_key, ==, json_object_get_string_member (new_entry, "encryptedKey"));

  /* The diff agrees: a sync leaves the index as it is. */
  sync_ok (ctx);
  g_clear_pointer (&moved, eider_remote_file_record_free);
  moved = find_one (ctx, "move.jpg", 0, "bW92ZQ==");
  g_assert_cmpint (moved->collection_id, ==, c);

  /* An entry that is not in the source album is refused, before any request. */
  {
    g_autoptr(GPtrArray) wrong = g_ptr_array_new ();

    g_ptr_array_add (wrong, moved);
    g_clear_object (&result);
    eider_remote_move_files_async (ctx->remote, a, c, wrong, NULL, test_result_cb, &result);
    g_assert_false (eider_remote_move_files_finish (ctx->remote, test_wait (&result), &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_deleted_collection (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(JsonNode) file = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderRemoteFileRecord) r = NULL;
  g_autoptr(EiderSecret) key = NULL;
  g_autoptr(EiderCollectionRecord) kept = NULL;
  g_autofree char *path = NULL;
  gint64 album = ensure_album (ctx, "Doomed");
  gint64 keep = ensure_album (ctx, "Kept");
  gint64 recreated;

  file = raw_upload (ctx, album, &(RawFile) { "gone.jpg", 0, "Z29uZQ==", .creation_time = 10 });
  sync_ok (ctx);
  r = find_one (ctx, "gone.jpg", 0, "Z29uZQ==");

  path = g_strdup_printf ("/collections/v3/%" G_GINT64_FORMAT "?collectionID=%" G_GINT64_FORMAT "&keepFiles=false",
                          album, album);
  reply = api_ok (ctx, "DELETE", path, NULL);
  sync_ok (ctx);

  g_assert_null (eider_store_get_collection (ctx->store, album));
  kept = eider_store_get_collection (ctx->store, keep);
  g_assert_nonnull (kept);
  found = find (ctx, "gone.jpg", 0, "Z29uZQ==");
  g_assert_cmpuint (found->len, ==, 0);
  key = eider_remote_get_collection_key (ctx->remote, album, &error);
  g_assert_null (key);
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);

  recreated = ensure_album (ctx, "Doomed");
  g_assert_cmpint (recreated, !=, album);
}

/* Hidden albums are found by name (watch uploads include them) but their
 * files take no part in dedupe; quick links are never reused. */
static void
test_hidden_and_quick_link (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(JsonNode) seen = NULL;
  g_autoptr(JsonNode) hid = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(GPtrArray) both = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 hidden = raw_create_collection (ctx, "Secret", "{\"visibility\":2}");
  gint64 archived = raw_create_collection (ctx, "Old", "{\"visibility\":1}");
  gint64 quick = raw_create_collection (ctx, "Trip", "{\"subType\":2}");
  gint64 visible, trip;

  sync_ok (ctx);
  g_assert_true (eider_remote_is_collection_hidden (ctx->remote, hidden));
  g_assert_false (eider_remote_is_collection_hidden (ctx->remote, archived));
  g_assert_false (eider_remote_is_collection_hidden (ctx->remote, quick));

  g_assert_cmpint (ensure_album (ctx, "Secret"), ==, hidden);
  g_assert_cmpint (ensure_album (ctx, "Old"), ==, archived);
  trip = ensure_album (ctx, "Trip");
  g_assert_cmpint (trip, !=, quick);
  g_assert_cmpint (ensure_album (ctx, "Trip"), ==, trip);

  visible = ensure_album (ctx, "Visible");
  seen = raw_upload (ctx, visible, &(RawFile) { "a.jpg", 0, "YQ==", .creation_time = 11 });
  hid = raw_upload (ctx, hidden, &(RawFile) { "h.jpg", 0, "aA==", .creation_time = 12 });
  sync_ok (ctx);

  found = find (ctx, "a.jpg", 0, "YQ==");
  g_assert_cmpuint (found->len, ==, 1);
  none = find (ctx, "h.jpg", 0, "aA==");
  g_assert_cmpuint (none->len, ==, 0);

  /* Once a.jpg is also in the hidden album, none of its entries count. */
  eider_remote_add_files_async (ctx->remote, hidden, found, NULL, test_result_cb, &result);
  g_assert_true (eider_remote_add_files_finish (ctx->remote, test_wait (&result), &error));
  g_assert_no_error (error);
  both = find (ctx, "a.jpg", 0, "YQ==");
  g_assert_cmpuint (both->len, ==, 0);

  /* A fresh store learns the flags again from the collections. */
  ctx_open_store (ctx);
  sync_ok (ctx);
  g_assert_true (eider_remote_is_collection_hidden (ctx->remote, hidden));
  g_assert_cmpint (ensure_album (ctx, "Trip"), ==, trip);
  g_clear_pointer (&none, g_ptr_array_unref);
  none = find (ctx, "h.jpg", 0, "aA==");
  g_assert_cmpuint (none->len, ==, 0);
}

/* A file recorded straight from the POST /files reply, then confirmed by
 * the diff without a second entry. */
static void
test_note_uploaded (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(JsonNode) file = NULL;
  g_autoptr(EiderRemoteFileRecord) r = NULL;
  g_autoptr(EiderRemoteFileRecord) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) bad = json_from_string ("{\"collectionID\":1}", NULL);
  gint64 album = ensure_album (ctx, "Fresh");
  JsonObject *f;

  sync_ok (ctx);
  file = raw_upload (ctx, album, &(RawFile) { "new.jpg", 0, "bmV3", .creation_time = 13 });
  f = json_node_get_object (file);
  g_assert_true (eider_remote_note_uploaded (ctx->remote, album, file, "new.jpg", 0, "bmV3", 13, &error));
  g_assert_no_error (error);

  r = find_one (ctx, "new.jpg", 0, "bmV3");
  g_assert_cmpint (r->id, ==, file_id_of (file));
  g_assert_cmpint (r->collection_id, ==, album);
  g_assert_cmpint (r->creation_time, ==, 13);
  g_assert_cmpstr (r->encrypted_key, ==, json_object_get_string_member (f, "encryptedKey"));
  g_assert_cmpstr (r->file_header, ==,
                   json_object_get_string_member (json_object_get_object_member (f, "file"), "decryptionHeader"));
  g_assert_cmpint (r->file_size, ==,
                   json_object_get_int_member (json_object_get_object_member (f, "file"), "size"));

  sync_ok (ctx);
  again = find_one (ctx, "new.jpg", 0, "bmV3");
  g_assert_cmpint (again->id, ==, r->id);

  g_assert_false (eider_remote_note_uploaded (ctx->remote, album, bad, "x", 0, "eA==", 1, &error));
  g_assert_error (error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE);
}

/* Errors come through: an unknown album, and a session that has ended. */
static void
test_errors (void)
{
  g_autoptr(Ctx) ctx = ctx_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderSecret) key = NULL;
  g_autoptr(JsonNode) reply = NULL;
  gint64 id;

  key = eider_remote_get_collection_key (ctx->remote, 12345, &error);
  g_assert_null (key);
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The server ends the session (logout elsewhere): a 401 reaches the caller. */
  reply = api_ok (ctx, "POST", "/users/logout", NULL);
  eider_remote_ensure_album_async (ctx->remote, "Never", NULL, test_result_cb, &result);
  id = eider_remote_ensure_album_finish (ctx->remote, test_wait (&result), &error);
  g_assert_cmpint (id, ==, 0);
  g_assert_error (error, EIDER_API_ERROR, EIDER_API_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  g_clear_object (&result);
  eider_remote_sync_async (ctx->remote, NULL, test_result_cb, &result);
  g_assert_false (eider_remote_sync_finish (ctx->remote, test_wait (&result), &error));
  g_assert_error (error, EIDER_API_ERROR, EIDER_API_ERROR_UNAUTHORIZED);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (log_writer, NULL, NULL);

  server = test_server_start ((const char *[]) { "--fixed-ott", "123456", NULL });

  g_test_add_func ("/remote/ensure-album", test_ensure_album);
  g_test_add_func ("/remote/concurrent-ensure", test_concurrent_ensure);
  g_test_add_func ("/remote/uncategorized", test_uncategorized);
  g_test_add_func ("/remote/sync-files", test_sync_files);
  g_test_add_func ("/remote/incremental-sync", test_incremental_sync);
  g_test_add_func ("/remote/add-files", test_add_files);
  g_test_add_func ("/remote/add-files-batches", test_add_files_batches);
  g_test_add_func ("/remote/move-files", test_move_files);
  g_test_add_func ("/remote/deleted-collection", test_deleted_collection);
  g_test_add_func ("/remote/hidden-and-quick-link", test_hidden_and_quick_link);
  g_test_add_func ("/remote/note-uploaded", test_note_uploaded);
  g_test_add_func ("/remote/errors", test_errors);

  status = g_test_run ();
  test_server_stop (server);
  g_free (last_skip_message);

  return status;
}
