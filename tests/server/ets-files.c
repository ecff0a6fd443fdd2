/* ets-files.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-test-server"

#include "config.h"

#include <string.h>

#include "ets-private.h"

/* Upload URLs, POST /files, PUT /files/update, downloads and trash
 * (spec/ente-server.md §2.8–2.11, spec/ente-upload.md §8–9, §11, §13). */

#define MAX_UPLOAD_URLS      50
#define MAX_PARTS            10000
#define MIN_PART_SIZE        (5 * ETS_MIB)
#define MAX_PART_SIZE        (5 * ETS_GIB)

const char *ets_file_columns =
  "cf.file_id, f.owner_id, cf.collection_id, cf.c_owner_id, cf.created_at,"
  " cf.encrypted_key, cf.key_decryption_nonce, f.file_decryption_header,"
  " f.thumbnail_decryption_header, f.encrypted_metadata, f.metadata_decryption_header,"
  " f.magic_metadata, f.pub_magic_metadata, f.file_size, f.thumb_size,"
  " cf.is_deleted, cf.updation_time, cf.action, cf.action_user";

static void
add_part (JsonBuilder *builder,
          const char  *name,
          const char  *object_key,
          const char  *encrypted_data,
          const char  *header,
          gint64       size)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_object (builder);
  if (object_key != NULL)
    {
      json_builder_set_member_name (builder, "objectKey");
      json_builder_add_string_value (builder, object_key);
    }
  if (encrypted_data != NULL)
    {
      json_builder_set_member_name (builder, "encryptedData");
      json_builder_add_string_value (builder, encrypted_data);
    }
  json_builder_set_member_name (builder, "decryptionHeader");
  json_builder_add_string_value (builder, header);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, size);
  json_builder_end_object (builder);
}

static void
add_info (JsonBuilder *builder,
          gint64       file_size,
          gint64       thumb_size)
{
  json_builder_set_member_name (builder, "info");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "fileSize");
  json_builder_add_int_value (builder, file_size);
  json_builder_set_member_name (builder, "thumbSize");
  json_builder_add_int_value (builder, thumb_size);
  json_builder_end_object (builder);
}

/* A diff entry (convertRowsToFiles): no objectKey, sizes 0, sizes in info. */
void
ets_file_to_json (EtsServer    *ets,
                  JsonBuilder  *builder,
                  sqlite3_stmt *row,
                  gboolean      for_diff)
{
  const char *metadata = ets_column_text (row, 9);
  gboolean deleted = sqlite3_column_int (row, 15) != 0 || g_str_equal (metadata, "-");

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, sqlite3_column_int64 (row, 0));
  json_builder_set_member_name (builder, "ownerID");
  json_builder_add_int_value (builder, sqlite3_column_int64 (row, 1));
  json_builder_set_member_name (builder, "collectionID");
  json_builder_add_int_value (builder, sqlite3_column_int64 (row, 2));
  json_builder_set_member_name (builder, "collectionOwnerID");
  json_builder_add_int_value (builder, sqlite3_column_int64 (row, 3));
  json_builder_set_member_name (builder, "collectionAddedAt");
  json_builder_add_int_value (builder, sqlite3_column_int64 (row, 4));
  json_builder_set_member_name (builder, "encryptedKey");
  json_builder_add_string_value (builder, ets_column_text (row, 5));
  json_builder_set_member_name (builder, "keyDecryptionNonce");
  json_builder_add_string_value (builder, ets_column_text (row, 6));
  add_part (builder, "file", NULL, NULL, ets_column_text (row, 7), 0);
  add_part (builder, "thumbnail", NULL, NULL, ets_column_text (row, 8), 0);
  add_part (builder, "metadata", NULL, metadata, ets_column_text (row, 10), 0);
  json_builder_set_member_name (builder, "isDeleted");
  json_builder_add_boolean_value (builder, deleted);
  json_builder_set_member_name (builder, "updationTime");
  json_builder_add_int_value (builder, sqlite3_column_int64 (row, 16));
  ets_builder_add_raw_json (builder, "magicMetadata", (const char *) sqlite3_column_text (row, 11));
  ets_builder_add_raw_json (builder, "pubMagicMetadata", (const char *) sqlite3_column_text (row, 12));
  add_info (builder, sqlite3_column_int64 (row, 13), sqlite3_column_int64 (row, 14));
  if (sqlite3_column_type (row, 17) != SQLITE_NULL)
    {
      json_builder_set_member_name (builder, "action");
      json_builder_add_string_value (builder, ets_column_text (row, 17));
      json_builder_set_member_name (builder, "actionUser");
      json_builder_add_int_value (builder, sqlite3_column_int64 (row, 18));
    }
  json_builder_end_object (builder);
}

/* usage.go CanUploadFile. Returns 0, 402 or 426. */
guint
ets_quota_check (EtsServer *ets,
                 gint64     user_id,
                 gint64     size,
                 gboolean   with_size)
{
  g_autoptr(sqlite3_stmt) stmt = ets_db_prepare (ets,
                                                 "SELECT s.storage, s.expiry_time, u.usage FROM users u"
                                                 " JOIN subscriptions s ON s.user_id = u.id WHERE u.id = ?");
  gint64 storage, expiry, usage;

  sqlite3_bind_int64 (stmt, 1, user_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return SOUP_STATUS_PAYMENT_REQUIRED;
  storage = sqlite3_column_int64 (stmt, 0);
  expiry = sqlite3_column_int64 (stmt, 1);
  usage = sqlite3_column_int64 (stmt, 2);

  if (ets->no_subscription || expiry < g_get_real_time ())
    return SOUP_STATUS_PAYMENT_REQUIRED;
  if (with_size && usage + size > storage + ETS_QUOTA_SLACK)
    return ETS_STATUS_UPGRADE_REQUIRED;
  if (!with_size && usage > storage)
    return ETS_STATUS_UPGRADE_REQUIRED;
  return 0;
}

static gboolean
reply_if_over_quota (EtsRequest *req,
                     gint64      size,
                     gboolean    with_size)
{
  guint status = ets_quota_check (req->ets, req->user_id, size, with_size);

  if (status == 0)
    return FALSE;
  ets_reply_sentinel (req, status);
  return TRUE;
}

static void
handle_upload_eligibility (EtsRequest *req)
{
  if (!ets_require_storage_auth (req) || reply_if_over_quota (req, 0, FALSE))
    return;
  ets_reply_empty (req, SOUP_STATUS_OK);
}

/* normalizeMD5String: base64 first, hex only if base64 fails; 16 bytes. */
static char *
normalize_md5 (const char *text)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text));
  g_autoptr(GBytes) bytes = ets_b64_decode (trimmed);
  guint8 raw[16];

  if (bytes != NULL)
    {
      if (g_bytes_get_size (bytes) != 16)
        return NULL;
      return g_steal_pointer (&trimmed);
    }
  if (strlen (trimmed) != 32)
    return NULL;
  for (int i = 0; i < 16; i++)
    {
      int hi = g_ascii_xdigit_value (trimmed[2 * i]);
      int lo = g_ascii_xdigit_value (trimmed[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return NULL;
      raw[i] = (guint8) (hi << 4 | lo);
    }
  return ets_b64_encode (raw, sizeof raw);
}

static char *
new_object_key (EtsRequest *req,
                const char *upload_id)
{
  g_autofree char *uuid = ets_new_uuid ();
  g_autoptr(sqlite3_stmt) stmt = NULL;
  char *key = g_strdup_printf ("%" G_GINT64_FORMAT "/%s", req->user_id, uuid);

  stmt = ets_db_prepare (req->ets,
                         "INSERT INTO temp_objects (object_key, upload_id, user_id, expiry) VALUES (?, ?, ?, ?)");
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  ets_bind_text_or_null (stmt, 2, upload_id);
  sqlite3_bind_int64 (stmt, 3, req->user_id);
  sqlite3_bind_int64 (stmt, 4, g_get_real_time () + ETS_TEMP_OBJECT_EXPIRY);
  sqlite3_step (stmt);
  return key;
}

/* Museum's limiter on the four upload-URL paths (500 calls a minute per
 * user, rate_limit.go): here --upload-url-limit over the last 60 s. */
static void
call_times_free (gpointer data)
{
  g_queue_free_full (data, g_free);
}

static gboolean
reply_if_rate_limited (EtsRequest *req)
{
  EtsServer *ets = req->ets;
  gint64 now = g_get_monotonic_time ();
  gint64 *oldest;
  GQueue *times;

  if (ets->upload_url_limit == 0)
    return FALSE;
  if (ets->upload_url_calls == NULL)
    ets->upload_url_calls = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, call_times_free);
  times = g_hash_table_lookup (ets->upload_url_calls, &req->user_id);
  if (times == NULL)
    {
      times = g_queue_new ();
      g_hash_table_insert (ets->upload_url_calls, g_memdup2 (&req->user_id, sizeof req->user_id), times);
    }

  while ((oldest = g_queue_peek_head (times)) != NULL && now - *oldest >= 60 * G_USEC_PER_SEC)
    g_free (g_queue_pop_head (times));
  if (g_queue_get_length (times) >= ets->upload_url_limit)
    {
      ets_reply_middleware (req, ETS_STATUS_TOO_MANY_REQUESTS, "Rate limit breached, try later");
      return TRUE;
    }
  g_queue_push_tail (times, g_memdup2 (&now, sizeof now));

  return FALSE;
}

static void
handle_upload_url (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *md5 = NULL;
  g_autofree char *key = NULL;
  g_autofree char *url = NULL;
  EtsBind bind = { TRUE };
  gint64 length;
  const char *md5_text;

  if (!ets_require_storage_auth (req) || reply_if_rate_limited (req))
    return;

  body = ets_body_object (req);
  length = ets_bind_int (&bind, body, "contentLength", TRUE);
  md5_text = ets_bind_string (&bind, body, "contentMD5", TRUE);
  if (body == NULL || !bind.ok || length <= 0 || length > ETS_MAX_FILE_SIZE ||
      (md5 = normalize_md5 (md5_text)) == NULL)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if (reply_if_over_quota (req, length, TRUE))
    return;

  key = new_object_key (req, NULL);
  url = ets_storage_sign_url (req->ets, "PUT", key, NULL, length, md5);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "objectKey");
  json_builder_add_string_value (builder, key);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, url);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

/* partURLs and completeURL for a new multipart upload. lengths/md5s may be
 * NULL for the legacy flow (URLs that sign only the host). */
static gboolean
add_multipart (EtsRequest  *req,
               JsonBuilder *builder,
               guint        n_parts,
               gint64      *lengths,
               char       **md5s)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *upload_id = NULL;
  g_autofree char *complete = NULL;
  g_autofree char *uuid = ets_new_uuid ();
  g_autoptr(GPtrArray) query = NULL;
  g_autoptr(sqlite3_stmt) temp = NULL;

  key = g_strdup_printf ("%" G_GINT64_FORMAT "/%s", req->user_id, uuid);
  upload_id = ets_storage_new_upload (req->ets, key, &error);
  if (upload_id == NULL)
    {
      g_warning ("%s", error->message);
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return FALSE;
    }
  temp = ets_db_prepare (req->ets,
                         "INSERT INTO temp_objects (object_key, upload_id, user_id, expiry) VALUES (?, ?, ?, ?)");
  sqlite3_bind_text (temp, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (temp, 2, upload_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (temp, 3, req->user_id);
  sqlite3_bind_int64 (temp, 4, g_get_real_time () + ETS_TEMP_OBJECT_EXPIRY);
  sqlite3_step (temp);

  json_builder_set_member_name (builder, "objectKey");
  json_builder_add_string_value (builder, key);
  json_builder_set_member_name (builder, "partURLs");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n_parts; i++)
    {
      g_autofree char *url = NULL;

      query = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (query, g_strdup ("partNumber"));
      g_ptr_array_add (query, g_strdup_printf ("%u", i + 1));
      g_ptr_array_add (query, g_strdup ("uploadId"));
      g_ptr_array_add (query, g_strdup (upload_id));
      url = ets_storage_sign_url (req->ets, "PUT", key, query,
                                  lengths != NULL ? lengths[i] : -1,
                                  md5s != NULL ? md5s[i] : NULL);
      json_builder_add_string_value (builder, url);
      g_clear_pointer (&query, g_ptr_array_unref);
    }
  json_builder_end_array (builder);

  query = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (query, g_strdup ("uploadId"));
  g_ptr_array_add (query, g_strdup (upload_id));
  complete = ets_storage_sign_url (req->ets, "POST", key, query, -1, NULL);
  json_builder_set_member_name (builder, "completeURL");
  json_builder_add_string_value (builder, complete);
  return TRUE;
}

static void
handle_multipart_upload_url (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(GPtrArray) md5s = g_ptr_array_new_with_free_func (g_free);
  g_autofree gint64 *lengths = NULL;
  EtsBind bind = { TRUE };
  JsonArray *part_md5s;
  gint64 length, part_length, count;

  if (!ets_require_storage_auth (req) || reply_if_rate_limited (req))
    return;

  body = ets_body_object (req);
  length = ets_bind_int (&bind, body, "contentLength", TRUE);
  part_length = ets_bind_int (&bind, body, "partLength", TRUE);
  part_md5s = ets_bind_array (&bind, body, "partMd5s", TRUE);
  if (body == NULL || !bind.ok || length <= 0 || length > ETS_MAX_FILE_SIZE ||
      json_array_get_length (part_md5s) == 0 ||
      part_length <= 0 || part_length > MAX_PART_SIZE ||
      (part_length < MIN_PART_SIZE && length > part_length))
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  count = MAX ((length + part_length - 1) / part_length, 1);
  if (count > MAX_PARTS || count != (gint64) json_array_get_length (part_md5s))
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  lengths = g_new (gint64, count);
  for (gint64 i = 0; i < count; i++)
    {
      JsonNode *node = json_array_get_element (part_md5s, i);
      char *md5 = NULL;

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        md5 = normalize_md5 (json_node_get_string (node));
      if (md5 == NULL)
        {
          ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
          return;
        }
      g_ptr_array_add (md5s, md5);
      lengths[i] = i < count - 1 ? part_length : length - (count - 1) * part_length;
    }
  if (reply_if_over_quota (req, 0, FALSE))
    return;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  if (!add_multipart (req, builder, count, lengths, (char **) md5s->pdata))
    return;
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_legacy_upload_urls (EtsRequest *req)
{
  g_autoptr(JsonBuilder) builder = NULL;
  gint64 count;

  if (!ets_require_storage_auth (req) || reply_if_rate_limited (req) || reply_if_over_quota (req, 0, FALSE))
    return;

  count = MIN (ets_query_int (req, "count"), MAX_UPLOAD_URLS);
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "urls");
  json_builder_begin_array (builder);
  for (gint64 i = 0; i < count; i++)
    {
      g_autofree char *key = new_object_key (req, NULL);
      g_autofree char *url = ets_storage_sign_url (req->ets, "PUT", key, NULL, -1, NULL);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "objectKey");
      json_builder_add_string_value (builder, key);
      json_builder_set_member_name (builder, "url");
      json_builder_add_string_value (builder, url);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_legacy_multipart_urls (EtsRequest *req)
{
  g_autoptr(JsonBuilder) builder = NULL;
  gint64 count;

  if (!ets_require_storage_auth (req) || reply_if_rate_limited (req))
    return;
  count = ets_query_int (req, "count");
  if (count < 1 || count > MAX_PARTS)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if (reply_if_over_quota (req, 0, FALSE))
    return;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "urls");
  json_builder_begin_object (builder);
  if (!add_multipart (req, builder, count, NULL, NULL))
    return;
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

/* A file changed: it comes again in the diff of every collection that
 * holds it. */
static void
bump_file (EtsServer *ets,
           gint64     file_id,
           gint64     now)
{
  g_autoptr(sqlite3_stmt) collections = NULL;
  g_autoptr(sqlite3_stmt) entries = NULL;

  collections = ets_db_prepare (ets,
                                "UPDATE collections SET updation_time = ? WHERE id IN"
                                " (SELECT collection_id FROM collection_files WHERE file_id = ? AND is_deleted = 0)");
  sqlite3_bind_int64 (collections, 1, now);
  sqlite3_bind_int64 (collections, 2, file_id);
  sqlite3_step (collections);

  entries = ets_db_prepare (ets,
                            "UPDATE collection_files SET updation_time = ? WHERE file_id = ? AND is_deleted = 0");
  sqlite3_bind_int64 (entries, 1, now);
  sqlite3_bind_int64 (entries, 2, file_id);
  sqlite3_step (entries);
}

/* The bound body of POST /files and PUT /files/update. */
typedef struct
{
  gint64       id;
  gint64       collection_id;
  const char  *encrypted_key;
  const char  *key_nonce;
  const char  *file_key;
  const char  *file_header;
  gint64       file_size;
  const char  *thumb_key;
  const char  *thumb_header;
  gint64       thumb_size;
  const char  *metadata;
  const char  *metadata_header;
  char        *magic;
  char        *pub_magic;
} FileRequest;

static void
file_request_clear (FileRequest *fr)
{
  g_free (fr->magic);
  g_free (fr->pub_magic);
}

static gboolean
bind_file_request (EtsBind     *bind,
                   JsonObject  *body,
                   FileRequest *fr)
{
  JsonObject *file, *thumb, *meta;

  fr->id = ets_bind_int (bind, body, "id", FALSE);
  fr->collection_id = ets_bind_int (bind, body, "collectionID", FALSE);
  fr->encrypted_key = ets_bind_string (bind, body, "encryptedKey", FALSE);
  fr->key_nonce = ets_bind_string (bind, body, "keyDecryptionNonce", FALSE);
  ets_bind_int (bind, body, "ownerID", FALSE);
  ets_bind_int (bind, body, "updationTime", FALSE);
  ets_bind_bool (bind, body, "isDeleted");
  ets_bind_object (bind, body, "info");

  file = ets_bind_object (bind, body, "file");
  thumb = ets_bind_object (bind, body, "thumbnail");
  meta = ets_bind_object (bind, body, "metadata");
  fr->file_key = ets_bind_string (bind, file, "objectKey", FALSE);
  fr->file_header = ets_bind_string (bind, file, "decryptionHeader", TRUE);
  fr->file_size = ets_bind_int (bind, file, "size", FALSE);
  fr->thumb_key = ets_bind_string (bind, thumb, "objectKey", FALSE);
  fr->thumb_header = ets_bind_string (bind, thumb, "decryptionHeader", TRUE);
  fr->thumb_size = ets_bind_int (bind, thumb, "size", FALSE);
  fr->metadata = ets_bind_string (bind, meta, "encryptedData", FALSE);
  fr->metadata_header = ets_bind_string (bind, meta, "decryptionHeader", TRUE);
  fr->magic = ets_bind_magic_metadata (bind, body, "magicMetadata");
  fr->pub_magic = ets_bind_magic_metadata (bind, body, "pubMagicMetadata");
  return bind->ok;
}

static gboolean
check_object_keys (EtsRequest  *req,
                   FileRequest *fr)
{
  g_autofree char *prefix = g_strdup_printf ("%" G_GINT64_FORMAT "/", req->user_id);

  if (!g_str_has_prefix (fr->file_key, prefix) || !g_str_has_prefix (fr->thumb_key, prefix) ||
      g_str_equal (fr->file_key, fr->thumb_key))
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return FALSE;
    }
  return TRUE;
}

/* HEAD both objects and check the sizes (steps 4–6 of §2.9). */
static gboolean
check_object_sizes (EtsRequest  *req,
                    FileRequest *fr,
                    gint64      *file_size,
                    gint64      *thumb_size)
{
  if (!ets_storage_head (req->ets, fr->file_key, file_size) ||
      !ets_storage_head (req->ets, fr->thumb_key, thumb_size))
    {
      ets_reply_api_error (req, SOUP_STATUS_SERVICE_UNAVAILABLE, "OBJECT_SIZE_FETCH_FAILED", "");
      return FALSE;
    }
  if (*file_size > ETS_MAX_FILE_SIZE)
    {
      ets_reply_sentinel (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
      return FALSE;
    }
  if ((fr->file_size != 0 && fr->file_size != *file_size) ||
      (fr->thumb_size != 0 && fr->thumb_size != *thumb_size))
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return FALSE;
    }
  return TRUE;
}

static void
reply_created_file (EtsRequest  *req,
                    FileRequest *fr,
                    gint64       file_id,
                    gint64       now,
                    gint64       file_size,
                    gint64       thumb_size)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, file_id);
  json_builder_set_member_name (builder, "ownerID");
  json_builder_add_int_value (builder, req->user_id);
  json_builder_set_member_name (builder, "collectionID");
  json_builder_add_int_value (builder, fr->collection_id);
  json_builder_set_member_name (builder, "collectionOwnerID");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "encryptedKey");
  json_builder_add_string_value (builder, fr->encrypted_key);
  json_builder_set_member_name (builder, "keyDecryptionNonce");
  json_builder_add_string_value (builder, fr->key_nonce);
  add_part (builder, "file", fr->file_key, NULL, fr->file_header, file_size);
  add_part (builder, "thumbnail", fr->thumb_key, NULL, fr->thumb_header, thumb_size);
  add_part (builder, "metadata", NULL, fr->metadata, fr->metadata_header, 0);
  json_builder_set_member_name (builder, "isDeleted");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "updationTime");
  json_builder_add_int_value (builder, now);
  ets_builder_add_raw_json (builder, "magicMetadata", fr->magic);
  ets_builder_add_raw_json (builder, "pubMagicMetadata", fr->pub_magic);
  add_info (builder, file_size, thumb_size);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

/* onDuplicateObjectDetected: identical replay → echo with the existing id;
 * anything different → 400; key owned only by a deleted file → 500. */
static void
handle_duplicate (EtsRequest  *req,
                  FileRequest *fr,
                  gint64       now,
                  gint64       file_size,
                  gint64       thumb_size)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 file_id;
  gboolean same;

  stmt = ets_db_prepare (req->ets,
                         "SELECT f.id, f.owner_id, f.file_decryption_header, f.thumbnail_decryption_header,"
                         " f.metadata_decryption_header, f.encrypted_metadata, f.file_size, f.thumb_size,"
                         " (SELECT object_key FROM object_keys WHERE file_id = f.id AND o_type = 'file'"
                         "  AND is_deleted = 0),"
                         " (SELECT object_key FROM object_keys WHERE file_id = f.id AND o_type = 'thumbnail'"
                         "  AND is_deleted = 0)"
                         " FROM object_keys o JOIN files f ON f.id = o.file_id"
                         " WHERE o.object_key IN (?, ?) AND o.is_deleted = 0 LIMIT 1");
  sqlite3_bind_text (stmt, 1, fr->file_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, fr->thumb_key, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }

  file_id = sqlite3_column_int64 (stmt, 0);
  same = sqlite3_column_int64 (stmt, 1) == req->user_id &&
         g_str_equal (ets_column_text (stmt, 2), fr->file_header) &&
         g_str_equal (ets_column_text (stmt, 3), fr->thumb_header) &&
         g_str_equal (ets_column_text (stmt, 4), fr->metadata_header) &&
         g_str_equal (ets_column_text (stmt, 5), fr->metadata) &&
         sqlite3_column_int64 (stmt, 6) == file_size &&
         sqlite3_column_int64 (stmt, 7) == thumb_size &&
         g_str_equal (ets_column_text (stmt, 8), fr->file_key) &&
         g_str_equal (ets_column_text (stmt, 9), fr->thumb_key);
  if (!same)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  reply_created_file (req, fr, file_id, now, file_size, thumb_size);
}

static gboolean
any_key_registered (EtsServer  *ets,
                    const char *key_a,
                    const char *key_b)
{
  g_autoptr(sqlite3_stmt) stmt = ets_db_prepare (ets, "SELECT COUNT(*) FROM object_keys WHERE object_key IN (?, ?)");

  sqlite3_bind_text (stmt, 1, key_a, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, key_b, -1, SQLITE_TRANSIENT);
  return sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) > 0;
}

static void
insert_object_key (EtsServer  *ets,
                   const char *key,
                   gint64      file_id,
                   const char *type,
                   gint64      size)
{
  g_autoptr(sqlite3_stmt) stmt = ets_db_prepare (ets,
                                                 "INSERT INTO object_keys (object_key, file_id, o_type, size)"
                                                 " VALUES (?, ?, ?, ?)");
  g_autoptr(sqlite3_stmt) temp = ets_db_prepare (ets, "DELETE FROM temp_objects WHERE object_key = ?");

  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, file_id);
  sqlite3_bind_text (stmt, 3, type, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, size);
  sqlite3_step (stmt);
  sqlite3_bind_text (temp, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_step (temp);
}

static void
add_usage (EtsServer *ets,
           gint64     user_id,
           gint64     delta)
{
  g_autoptr(sqlite3_stmt) stmt = ets_db_prepare (ets, "UPDATE users SET usage = usage + ? WHERE id = ?");

  sqlite3_bind_int64 (stmt, 1, delta);
  sqlite3_bind_int64 (stmt, 2, user_id);
  sqlite3_step (stmt);
}

static void
update_file (EtsRequest  *req,
             FileRequest *fr)
{
  EtsServer *ets = req->ets;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) old_keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonBuilder) builder = NULL;
  gint64 owner, file_size, thumb_size, old_size, now;
  gboolean same_keys;
  guint status;

  if (!check_object_keys (req, fr))
    return;
  owner = ets_db_query_int (ets, 0, "SELECT owner_id FROM files WHERE id = ?", fr->id);
  if (owner == 0)
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return;
    }
  if (owner != req->user_id)
    {
      ets_reply_sentinel (req, SOUP_STATUS_FORBIDDEN);
      return;
    }
  if (!check_object_sizes (req, fr, &file_size, &thumb_size))
    return;

  old_size = ets_db_query_int (ets, 0, "SELECT file_size + thumb_size FROM files WHERE id = ?", fr->id);
  status = ets_quota_check (ets, req->user_id, file_size + thumb_size - old_size, TRUE);
  if (status != 0)
    {
      ets_reply_sentinel (req, status);
      return;
    }

  stmt = ets_db_prepare (ets,
                         "SELECT COUNT(*) FROM object_keys WHERE file_id = ? AND is_deleted = 0"
                         " AND ((o_type = 'file' AND object_key = ?) OR (o_type = 'thumbnail' AND object_key = ?))");
  sqlite3_bind_int64 (stmt, 1, fr->id);
  sqlite3_bind_text (stmt, 2, fr->file_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, fr->thumb_key, -1, SQLITE_TRANSIENT);
  same_keys = sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) == 2;
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (!same_keys && any_key_registered (ets, fr->file_key, fr->thumb_key))
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  ets_db_begin (ets);
  now = ets_now (ets);
  if (!same_keys)
    {
      ets_delete_file_objects (ets, fr->id, old_keys);
      insert_object_key (ets, fr->file_key, fr->id, "file", file_size);
      insert_object_key (ets, fr->thumb_key, fr->id, "thumbnail", thumb_size);
    }
  stmt = ets_db_prepare (ets,
                         "UPDATE files SET file_decryption_header = ?, thumbnail_decryption_header = ?,"
                         " metadata_decryption_header = ?, encrypted_metadata = ?, file_size = ?,"
                         " thumb_size = ?, updation_time = ? WHERE id = ?");
  sqlite3_bind_text (stmt, 1, fr->file_header, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, fr->thumb_header, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, fr->metadata_header, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, fr->metadata, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, file_size);
  sqlite3_bind_int64 (stmt, 6, thumb_size);
  sqlite3_bind_int64 (stmt, 7, now);
  sqlite3_bind_int64 (stmt, 8, fr->id);
  sqlite3_step (stmt);
  g_clear_pointer (&stmt, sqlite3_finalize);
  bump_file (ets, fr->id, now);
  if (same_keys)
    add_usage (ets, req->user_id, file_size + thumb_size - old_size);
  else
    add_usage (ets, req->user_id, file_size + thumb_size);
  ets_db_commit (ets);

  for (guint i = 0; i < old_keys->len; i++)
    ets_storage_delete (ets, g_ptr_array_index (old_keys, i));

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, fr->id);
  json_builder_set_member_name (builder, "updationTime");
  json_builder_add_int_value (builder, now);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_create_file (EtsRequest *req,
                    gboolean    update_only)
{
  EtsServer *ets = req->ets;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(sqlite3_stmt) collection = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  FileRequest fr = { 0 };
  EtsBind bind = { TRUE };
  gint64 file_size, thumb_size, now, file_id;
  guint status;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  if (body == NULL || !bind_file_request (&bind, body, &fr))
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      file_request_clear (&fr);
      return;
    }
  if (update_only || fr.id != 0)
    {
      update_file (req, &fr);
      file_request_clear (&fr);
      return;
    }

  /* validateFileCreateOrUpdateReq */
  if (!check_object_keys (req, &fr))
    goto out;
  if (*fr.encrypted_key == '\0' || *fr.key_nonce == '\0')
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      goto out;
    }
  collection = ets_db_prepare (ets, "SELECT owner_id, is_deleted, app FROM collections WHERE id = ?");
  sqlite3_bind_int64 (collection, 1, fr.collection_id);
  if (sqlite3_step (collection) != SQLITE_ROW)
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      goto out;
    }
  if (!g_str_equal (ets_column_text (collection, 2), ets_app_name (req->app)))
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      goto out;
    }
  if (sqlite3_column_int64 (collection, 0) != req->user_id)
    {
      ets_reply_sentinel (req, SOUP_STATUS_FORBIDDEN);
      goto out;
    }
  if (sqlite3_column_int (collection, 1) != 0)
    {
      ets_reply_api_error (req, SOUP_STATUS_NOT_FOUND, "COLLECTION_DELETED", "");
      goto out;
    }

  if (!check_object_sizes (req, &fr, &file_size, &thumb_size))
    goto out;
  status = ets_quota_check (ets, req->user_id, file_size + thumb_size, TRUE);
  if (status != 0)
    {
      ets_reply_sentinel (req, status);
      goto out;
    }

  now = ets_now (ets);
  if (any_key_registered (ets, fr.file_key, fr.thumb_key))
    {
      handle_duplicate (req, &fr, now, file_size, thumb_size);
      goto out;
    }

  ets_db_begin (ets);
  stmt = ets_db_prepare (ets,
                         "INSERT INTO files (owner_id, encrypted_metadata, file_decryption_header,"
                         " thumbnail_decryption_header, metadata_decryption_header, magic_metadata,"
                         " pub_magic_metadata, file_size, thumb_size, updation_time)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  sqlite3_bind_int64 (stmt, 1, req->user_id);
  sqlite3_bind_text (stmt, 2, fr.metadata, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, fr.file_header, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, fr.thumb_header, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, fr.metadata_header, -1, SQLITE_TRANSIENT);
  ets_bind_text_or_null (stmt, 6, fr.magic);
  ets_bind_text_or_null (stmt, 7, fr.pub_magic);
  sqlite3_bind_int64 (stmt, 8, file_size);
  sqlite3_bind_int64 (stmt, 9, thumb_size);
  sqlite3_bind_int64 (stmt, 10, now);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      ets_db_rollback (ets);
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      goto out;
    }
  file_id = sqlite3_last_insert_rowid (ets->db);
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = ets_db_prepare (ets,
                         "INSERT INTO collection_files (collection_id, file_id, encrypted_key,"
                         " key_decryption_nonce, updation_time, c_owner_id, f_owner_id, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  sqlite3_bind_int64 (stmt, 1, fr.collection_id);
  sqlite3_bind_int64 (stmt, 2, file_id);
  sqlite3_bind_text (stmt, 3, fr.encrypted_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, fr.key_nonce, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, now);
  sqlite3_bind_int64 (stmt, 6, req->user_id);
  sqlite3_bind_int64 (stmt, 7, req->user_id);
  sqlite3_bind_int64 (stmt, 8, now);
  sqlite3_step (stmt);
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = ets_db_prepare (ets, "UPDATE collections SET updation_time = ? WHERE id = ?");
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_int64 (stmt, 2, fr.collection_id);
  sqlite3_step (stmt);

  insert_object_key (ets, fr.file_key, file_id, "file", file_size);
  insert_object_key (ets, fr.thumb_key, file_id, "thumbnail", thumb_size);
  add_usage (ets, req->user_id, file_size + thumb_size);
  if (!ets_db_commit (ets))
    {
      ets_db_rollback (ets);
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      goto out;
    }
  reply_created_file (req, &fr, file_id, now, file_size, thumb_size);

out:
  file_request_clear (&fr);
}

static void
handle_download (EtsRequest *req,
                 const char *id_text,
                 const char *type)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) query = NULL;
  g_autofree char *url = NULL;
  SoupMessageHeaders *headers;
  gint64 file_id = ets_parse_id (id_text);

  if (!ets_require_storage_auth (req))
    return;

  stmt = ets_db_prepare (req->ets,
                         "SELECT f.owner_id, o.object_key, o.is_deleted FROM files f"
                         " LEFT JOIN object_keys o ON o.file_id = f.id AND o.o_type = ? AND o.is_deleted = 0"
                         " WHERE f.id = ?");
  sqlite3_bind_text (stmt, 1, type, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, file_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return;
    }
  if (sqlite3_column_int64 (stmt, 0) != req->user_id)
    {
      ets_reply_sentinel (req, SOUP_STATUS_FORBIDDEN);
      return;
    }
  if (sqlite3_column_type (stmt, 1) == SQLITE_NULL)
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return;
    }

  query = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (query, g_strdup ("response-content-disposition"));
  g_ptr_array_add (query, g_strdup ("attachment"));
  g_ptr_array_add (query, g_strdup ("response-content-type"));
  g_ptr_array_add (query, g_strdup ("application/octet-stream"));
  url = ets_storage_sign_url (req->ets, "GET", ets_column_text (stmt, 1), query, -1, NULL);

  headers = soup_server_message_get_response_headers (req->msg);
  soup_message_headers_replace (headers, "Location", url);
  ets_reply_empty (req, SOUP_STATUS_TEMPORARY_REDIRECT);
}

/* Trash one file: every collection_files row of it (live or not) is marked
 * deleted at `now`, the collections that had live rows are bumped, and the
 * trash row is upserted (§2.11). Call inside a transaction. */
gboolean
ets_trash_file_rows (EtsServer *ets,
                     gint64     user_id,
                     gint64     file_id,
                     gint64     collection_id,
                     gint64     now)
{
  g_autoptr(sqlite3_stmt) bump = NULL;
  g_autoptr(sqlite3_stmt) rows = NULL;
  g_autoptr(sqlite3_stmt) trash = NULL;

  bump = ets_db_prepare (ets,
                         "UPDATE collections SET updation_time = ? WHERE id IN"
                         " (SELECT collection_id FROM collection_files WHERE file_id = ? AND is_deleted = 0)");
  sqlite3_bind_int64 (bump, 1, now);
  sqlite3_bind_int64 (bump, 2, file_id);
  sqlite3_step (bump);

  rows = ets_db_prepare (ets, "UPDATE collection_files SET is_deleted = 1, updation_time = ? WHERE file_id = ?");
  sqlite3_bind_int64 (rows, 1, now);
  sqlite3_bind_int64 (rows, 2, file_id);
  sqlite3_step (rows);

  trash = ets_db_prepare (ets,
                          "INSERT INTO trash (file_id, collection_id, user_id, created_at, updated_at, delete_by)"
                          " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (file_id) DO UPDATE SET"
                          " collection_id = excluded.collection_id, is_restored = 0,"
                          " updated_at = excluded.updated_at, delete_by = excluded.delete_by");
  sqlite3_bind_int64 (trash, 1, file_id);
  sqlite3_bind_int64 (trash, 2, collection_id);
  sqlite3_bind_int64 (trash, 3, user_id);
  sqlite3_bind_int64 (trash, 4, now);
  sqlite3_bind_int64 (trash, 5, now);
  sqlite3_bind_int64 (trash, 6, now + ETS_TRASH_DELETE_AFTER);
  return sqlite3_step (trash) == SQLITE_DONE;
}

/* Marks the live object rows of a file deleted; returns their total size
 * and appends their keys (to remove from disk after the commit). */
gint64
ets_delete_file_objects (EtsServer *ets,
                         gint64     file_id,
                         GPtrArray *keys_out)
{
  g_autoptr(sqlite3_stmt) select = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;
  gint64 total = 0;

  select = ets_db_prepare (ets, "SELECT object_key, size FROM object_keys WHERE file_id = ? AND is_deleted = 0");
  sqlite3_bind_int64 (select, 1, file_id);
  while (sqlite3_step (select) == SQLITE_ROW)
    {
      g_ptr_array_add (keys_out, g_strdup (ets_column_text (select, 0)));
      total += sqlite3_column_int64 (select, 1);
    }
  update = ets_db_prepare (ets, "UPDATE object_keys SET is_deleted = 1 WHERE file_id = ?");
  sqlite3_bind_int64 (update, 1, file_id);
  sqlite3_step (update);
  return total;
}

static void
handle_trash (EtsRequest *req)
{
  EtsServer *ets = req->ets;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GArray) file_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) collection_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  EtsBind bind = { TRUE };
  JsonArray *items;
  gboolean foreign = FALSE;
  gint64 now;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  items = ets_bind_array (&bind, body, "items", TRUE);
  for (guint i = 0; bind.ok && items != NULL && i < json_array_get_length (items); i++)
    {
      JsonNode *node = json_array_get_element (items, i);
      gint64 file_id, collection_id;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          bind.ok = FALSE;
          break;
        }
      file_id = ets_bind_int (&bind, json_node_get_object (node), "fileID", TRUE);
      collection_id = ets_bind_int (&bind, json_node_get_object (node), "collectionID", TRUE);
      g_array_append_val (file_ids, file_id);
      g_array_append_val (collection_ids, collection_id);
    }
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if (file_ids->len > ETS_BATCH_LIMIT)
    {
      ets_reply_sentinel (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
      return;
    }

  for (guint i = 0; i < file_ids->len; i++)
    {
      gint64 *id = &g_array_index (file_ids, gint64, i);
      gint64 owner;

      if (g_hash_table_contains (seen, id))
        {
          ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
          return;
        }
      g_hash_table_add (seen, id);
      owner = ets_db_query_int (ets, 0, "SELECT owner_id FROM files WHERE id = ?", *id);
      if (owner == 0)
        {
          ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
          return;
        }
      if (owner != req->user_id)
        foreign = TRUE;
    }
  if (file_ids->len == 0)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if (foreign)
    {
      ets_reply_sentinel (req, SOUP_STATUS_FORBIDDEN);
      return;
    }
  for (guint i = 0; i < collection_ids->len; i++)
    {
      gint64 owner = ets_db_query_int (ets, 0, "SELECT owner_id FROM collections WHERE id = ?",
                                       g_array_index (collection_ids, gint64, i));
      if (owner == 0)
        {
          ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
          return;
        }
      if (owner != req->user_id)
        {
          ets_reply_sentinel (req, SOUP_STATUS_FORBIDDEN);
          return;
        }
    }
  for (guint i = 0; i < file_ids->len; i++)
    {
      /* The trash table's foreign key onto collection_files. */
      if (ets_db_query_int (ets, 0, "SELECT COUNT(*) FROM collection_files WHERE file_id = ? AND collection_id = ?",
                            g_array_index (file_ids, gint64, i),
                            g_array_index (collection_ids, gint64, i)) == 0)
        {
          ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
          return;
        }
    }

  ets_db_begin (ets);
  now = ets_now (ets);
  for (guint i = 0; i < file_ids->len; i++)
    ets_trash_file_rows (ets, req->user_id, g_array_index (file_ids, gint64, i),
                         g_array_index (collection_ids, gint64, i), now);
  ets_db_commit (ets);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

static void
handle_trash_diff (EtsRequest *req)
{
  g_autoptr(sqlite3_stmt) times = NULL;
  g_autoptr(sqlite3_stmt) rows = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  gint64 since, upper;
  gboolean has_more;

  if (!ets_require_storage_auth (req))
    return;
  since = ets_query_int (req, "sinceTime");

  times = ets_db_prepare (req->ets,
                          "SELECT t.updated_at FROM trash t JOIN collections c ON c.id = t.collection_id"
                          " WHERE t.user_id = ? AND c.app = ? AND t.updated_at > ?"
                          " ORDER BY t.updated_at LIMIT 2501");
  sqlite3_bind_int64 (times, 1, req->user_id);
  sqlite3_bind_text (times, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (times, 3, since);
  upper = ets_page_upper (times, &has_more);

  /* Same column layout as ets_file_columns, with the file's own time. */
  rows = ets_db_prepare (req->ets,
                         "SELECT t.file_id, f.owner_id, t.collection_id, c.owner_id, cf.created_at,"
                         " cf.encrypted_key, cf.key_decryption_nonce, f.file_decryption_header,"
                         " f.thumbnail_decryption_header, f.encrypted_metadata, f.metadata_decryption_header,"
                         " f.magic_metadata, f.pub_magic_metadata, f.file_size, f.thumb_size,"
                         " 0, f.updation_time, NULL, NULL,"
                         " t.is_deleted, t.is_restored, t.delete_by, t.created_at, t.updated_at"
                         " FROM trash t JOIN files f ON f.id = t.file_id"
                         " JOIN collections c ON c.id = t.collection_id"
                         " LEFT JOIN collection_files cf ON cf.file_id = t.file_id AND cf.collection_id = t.collection_id"
                         " WHERE t.user_id = ? AND c.app = ? AND t.updated_at > ? AND t.updated_at <= ?"
                         " ORDER BY t.updated_at, t.file_id");
  sqlite3_bind_int64 (rows, 1, req->user_id);
  sqlite3_bind_text (rows, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (rows, 3, since);
  sqlite3_bind_int64 (rows, 4, upper);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "diff");
  json_builder_begin_array (builder);
  while (sqlite3_step (rows) == SQLITE_ROW)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "file");
      ets_file_to_json (req->ets, builder, rows, FALSE);
      json_builder_set_member_name (builder, "isDeleted");
      json_builder_add_boolean_value (builder, sqlite3_column_int (rows, 19) != 0);
      json_builder_set_member_name (builder, "isRestored");
      json_builder_add_boolean_value (builder, sqlite3_column_int (rows, 20) != 0);
      json_builder_set_member_name (builder, "deleteBy");
      json_builder_add_int_value (builder, sqlite3_column_int64 (rows, 21));
      json_builder_set_member_name (builder, "createdAt");
      json_builder_add_int_value (builder, sqlite3_column_int64 (rows, 22));
      json_builder_set_member_name (builder, "updatedAt");
      json_builder_add_int_value (builder, sqlite3_column_int64 (rows, 23));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "hasMore");
  json_builder_add_boolean_value (builder, has_more);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

/* Permanently deletes the given trashed files of the caller (§2.11). */
static void
delete_from_trash (EtsRequest *req,
                   GArray     *file_ids)
{
  EtsServer *ets = req->ets;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(sqlite3_stmt) mark = NULL;
  gint64 freed = 0, now;

  ets_db_begin (ets);
  now = ets_now (ets);
  mark = ets_db_prepare (ets,
                         "UPDATE trash SET is_deleted = 1, updated_at = ?"
                         " WHERE file_id = ? AND user_id = ? AND is_deleted = 0 AND is_restored = 0");
  for (guint i = 0; i < file_ids->len; i++)
    {
      gint64 id = g_array_index (file_ids, gint64, i);

      sqlite3_reset (mark);
      sqlite3_bind_int64 (mark, 1, now);
      sqlite3_bind_int64 (mark, 2, id);
      sqlite3_bind_int64 (mark, 3, req->user_id);
      sqlite3_step (mark);
      if (sqlite3_changes (ets->db) > 0)
        freed += ets_delete_file_objects (ets, id, keys);
    }
  add_usage (ets, req->user_id, -freed);
  ets_db_commit (ets);

  for (guint i = 0; i < keys->len; i++)
    ets_storage_delete (ets, g_ptr_array_index (keys, i));
}

static void
handle_trash_delete (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  EtsBind bind = { TRUE };
  JsonArray *array;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  array = ets_bind_array (&bind, body, "fileIDs", TRUE);
  for (guint i = 0; bind.ok && array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      gint64 id;

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
        {
          bind.ok = FALSE;
          break;
        }
      id = json_node_get_int (node);
      g_array_append_val (ids, id);
    }
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if (ids->len > ETS_DIFF_LIMIT)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }
  delete_from_trash (req, ids);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

static void
handle_trash_empty (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(sqlite3_stmt) stmt = NULL;
  EtsBind bind = { TRUE };
  gint64 last_updated_at;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  last_updated_at = ets_bind_int (&bind, body, "lastUpdatedAt", TRUE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  stmt = ets_db_prepare (req->ets,
                         "SELECT file_id FROM trash WHERE user_id = ? AND is_deleted = 0"
                         " AND is_restored = 0 AND updated_at <= ?");
  sqlite3_bind_int64 (stmt, 1, req->user_id);
  sqlite3_bind_int64 (stmt, 2, last_updated_at);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  delete_from_trash (req, ids);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

/* PUT /files/public-magic-metadata: {"metadataList": [{id, magicMetadata}]}.
 * Owner only; the version sent must be the one stored (when one is), and
 * the key count may not drop by more than 2 (409 otherwise); the server
 * stores version + 1 and bumps the file in every collection's diff. */
static void
handle_public_magic_metadata (EtsRequest *req)
{
  EtsServer *ets = req->ets;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  EtsBind bind = { TRUE };
  JsonArray *list;
  gint64 now;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  list = ets_bind_array (&bind, body, "metadataList", TRUE);
  for (guint i = 0; bind.ok && list != NULL && i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(JsonObject) sent = NULL;
      char *text;
      gint64 id, owner;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          bind.ok = FALSE;
          break;
        }
      id = ets_bind_int (&bind, json_node_get_object (node), "id", TRUE);
      text = ets_bind_magic_metadata (&bind, json_node_get_object (node), "magicMetadata");
      if (!bind.ok || text == NULL)
        {
          g_free (text);
          bind.ok = FALSE;
          break;
        }
      g_ptr_array_add (texts, text);
      g_array_append_val (ids, id);

      owner = ets_db_query_int (ets, 0, "SELECT owner_id FROM files WHERE id = ?", id);
      if (owner != req->user_id)
        {
          ets_reply_sentinel (req, owner == 0 ? SOUP_STATUS_NOT_FOUND : SOUP_STATUS_FORBIDDEN);
          return;
        }

      {
        g_autoptr(sqlite3_stmt) stmt = NULL;

        stmt = ets_db_prepare (ets, "SELECT pub_magic_metadata FROM files WHERE id = ?");
        sqlite3_bind_int64 (stmt, 1, id);
        if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL &&
            json_parser_load_from_data (parser, (const char *) sqlite3_column_text (stmt, 0), -1, NULL) &&
            JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
          {
            JsonObject *old = json_node_get_object (json_parser_get_root (parser));
            g_autoptr(JsonParser) sent_parser = json_parser_new ();
            JsonObject *new_mm;

            json_parser_load_from_data (sent_parser, text, -1, NULL);
            new_mm = json_node_get_object (json_parser_get_root (sent_parser));
            if (json_object_get_int_member (old, "version") != json_object_get_int_member (new_mm, "version") ||
                json_object_get_int_member (old, "count") - json_object_get_int_member (new_mm, "count") > 2)
              {
                ets_reply_sentinel (req, SOUP_STATUS_CONFLICT);
                return;
              }
          }
      }
    }
  if (body == NULL || !bind.ok || ids->len == 0)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  ets_db_begin (ets);
  now = ets_now (ets);
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(JsonNode) stored = NULL;
      g_autofree char *stored_text = NULL;
      g_autoptr(sqlite3_stmt) stmt = NULL;
      JsonObject *mm;

      json_parser_load_from_data (parser, g_ptr_array_index (texts, i), -1, NULL);
      stored = json_node_copy (json_parser_get_root (parser));
      mm = json_node_get_object (stored);
      json_object_set_int_member (mm, "version", json_object_get_int_member (mm, "version") + 1);
      stored_text = json_to_string (stored, FALSE);

      stmt = ets_db_prepare (ets, "UPDATE files SET pub_magic_metadata = ?, updation_time = ? WHERE id = ?");
      sqlite3_bind_text (stmt, 1, stored_text, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, now);
      sqlite3_bind_int64 (stmt, 3, id);
      sqlite3_step (stmt);
      g_clear_pointer (&stmt, sqlite3_finalize);
      bump_file (ets, id, now);
    }
  ets_db_commit (ets);

  ets_reply_empty (req, SOUP_STATUS_OK);
}

gboolean
ets_files_route (EtsRequest *req)
{
  const char *m = req->method;
  const char *p = req->path;
  gboolean get = g_str_equal (m, "GET");
  gboolean post = g_str_equal (m, "POST");

  if (get && g_str_equal (p, "/files/upload-eligibility"))
    handle_upload_eligibility (req);
  else if (post && g_str_equal (p, "/files/upload-url"))
    handle_upload_url (req);
  else if (post && g_str_equal (p, "/files/multipart-upload-url"))
    handle_multipart_upload_url (req);
  else if (get && g_str_equal (p, "/files/upload-urls"))
    handle_legacy_upload_urls (req);
  else if (get && g_str_equal (p, "/files/multipart-upload-urls"))
    handle_legacy_multipart_urls (req);
  else if (post && g_str_equal (p, "/files"))
    handle_create_file (req, FALSE);
  else if (g_str_equal (m, "PUT") && g_str_equal (p, "/files/update"))
    handle_create_file (req, TRUE);
  else if (g_str_equal (m, "PUT") && g_str_equal (p, "/files/public-magic-metadata"))
    handle_public_magic_metadata (req);
  else if (get && g_str_has_prefix (p, "/files/download/"))
    handle_download (req, p + strlen ("/files/download/"), "file");
  else if (get && g_str_has_prefix (p, "/files/preview/"))
    handle_download (req, p + strlen ("/files/preview/"), "thumbnail");
  else if (post && g_str_equal (p, "/files/trash"))
    handle_trash (req);
  else if (get && g_str_equal (p, "/trash/v2/diff"))
    handle_trash_diff (req);
  else if (post && g_str_equal (p, "/trash/delete"))
    handle_trash_delete (req);
  else if (post && g_str_equal (p, "/trash/empty"))
    handle_trash_empty (req);
  else
    return FALSE;
  return TRUE;
}
