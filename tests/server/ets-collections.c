/* ets-collections.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-test-server"

#include "config.h"

#include <string.h>

#include "ets-private.h"

/* Collections, membership and the per-collection diff
 * (spec/ente-server.md §2.7, §3). Sharing is left out of this double, so the only
 * role a caller can have on a collection is OWNER. */

typedef enum
{
  COLLECTION_JSON_CREATED,   /* POST /collections: sharees/publicURLs null */
  COLLECTION_JSON_EXISTING,  /* special type created twice: thinner, app "" */
  COLLECTION_JSON_LISTED,    /* GET /collections/v2: sharees/publicURLs [] */
} CollectionJson;

#define COLLECTION_COLUMNS \
  "id, owner_id, encrypted_key, key_decryption_nonce, name, encrypted_name," \
  " name_decryption_nonce, type, attributes, magic_metadata, pub_magic_metadata," \
  " updation_time, is_deleted, app"

typedef struct
{
  gint64 id;
  char  *encrypted_key;
  char  *key_decryption_nonce;
} FileItem;

static void
file_item_clear (gpointer data)
{
  FileItem *item = data;

  g_free (item->encrypted_key);
  g_free (item->key_decryption_nonce);
}

static void
collection_to_json (JsonBuilder    *builder,
                    sqlite3_stmt   *row,
                    CollectionJson  variant)
{
  const char *attributes = (const char *) sqlite3_column_text (row, 8);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, sqlite3_column_int64 (row, 0));
  json_builder_set_member_name (builder, "owner");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, sqlite3_column_int64 (row, 1));
  json_builder_set_member_name (builder, "email");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, "");
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "encryptedKey");
  json_builder_add_string_value (builder, ets_column_text (row, 2));
  json_builder_set_member_name (builder, "keyDecryptionNonce");
  json_builder_add_string_value (builder, ets_column_text (row, 3));
  if (*ets_column_text (row, 4) != '\0')
    {
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, ets_column_text (row, 4));
    }
  json_builder_set_member_name (builder, "encryptedName");
  json_builder_add_string_value (builder, ets_column_text (row, 5));
  json_builder_set_member_name (builder, "nameDecryptionNonce");
  json_builder_add_string_value (builder, ets_column_text (row, 6));
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, ets_column_text (row, 7));
  if (attributes != NULL && *attributes != '\0')
    ets_builder_add_raw_json (builder, "attributes", attributes);
  else
    {
      json_builder_set_member_name (builder, "attributes");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "version");
      json_builder_add_int_value (builder, 0);
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "sharees");
  if (variant == COLLECTION_JSON_LISTED)
    {
      json_builder_begin_array (builder);
      json_builder_end_array (builder);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "publicURLs");
  if (variant == COLLECTION_JSON_LISTED)
    {
      json_builder_begin_array (builder);
      json_builder_end_array (builder);
    }
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "updationTime");
  json_builder_add_int_value (builder, sqlite3_column_int64 (row, 11));
  if (sqlite3_column_int (row, 12) != 0)
    {
      json_builder_set_member_name (builder, "isDeleted");
      json_builder_add_boolean_value (builder, TRUE);
    }
  ets_builder_add_raw_json (builder, "magicMetadata", (const char *) sqlite3_column_text (row, 9));
  if (variant != COLLECTION_JSON_EXISTING)
    ets_builder_add_raw_json (builder, "pubMagicMetadata", (const char *) sqlite3_column_text (row, 10));
  json_builder_set_member_name (builder, "app");
  json_builder_add_string_value (builder, variant == COLLECTION_JSON_EXISTING ? "" : ets_column_text (row, 13));
  json_builder_end_object (builder);
}

static sqlite3_stmt *
select_collection (EtsServer *ets,
                   gint64     collection_id)
{
  sqlite3_stmt *stmt = ets_db_prepare (ets, "SELECT " COLLECTION_COLUMNS " FROM collections WHERE id = ?");

  sqlite3_bind_int64 (stmt, 1, collection_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      return NULL;
    }
  return stmt;
}

/* access.GetCollection: unknown → 404; not the owner → 403 when the owner
 * is required, else 404 (no share exists); deleted → 404 unless allowed.
 * On success returns the row (caller finalizes). */
static sqlite3_stmt *
collection_access (EtsRequest *req,
                   gint64      collection_id,
                   gboolean    verify_owner,
                   gboolean    include_deleted)
{
  g_autoptr(sqlite3_stmt) row = select_collection (req->ets, collection_id);

  if (row == NULL)
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return NULL;
    }
  if (sqlite3_column_int64 (row, 1) != req->user_id)
    {
      ets_reply_sentinel (req, verify_owner ? SOUP_STATUS_FORBIDDEN : SOUP_STATUS_NOT_FOUND);
      return NULL;
    }
  if (!include_deleted && sqlite3_column_int (row, 12) != 0)
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return NULL;
    }
  return g_steal_pointer (&row);
}

static gboolean
base64_of_size (const char *text,
                gsize       size)
{
  g_autoptr(GBytes) bytes = ets_b64_decode (text);
  return bytes != NULL && g_bytes_get_size (bytes) == size;
}

static char *
bind_attributes (EtsBind    *bind,
                 JsonObject *body)
{
  JsonObject *attributes = ets_bind_object (bind, body, "attributes");
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const char *path, *nonce;
  gint64 version;

  path = ets_bind_string (bind, attributes, "encryptedPath", FALSE);
  nonce = ets_bind_string (bind, attributes, "pathDecryptionNonce", FALSE);
  version = ets_bind_int (bind, attributes, "version", FALSE);

  json_builder_begin_object (builder);
  if (*path != '\0')
    {
      json_builder_set_member_name (builder, "encryptedPath");
      json_builder_add_string_value (builder, path);
    }
  if (*nonce != '\0')
    {
      json_builder_set_member_name (builder, "pathDecryptionNonce");
      json_builder_add_string_value (builder, nonce);
    }
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, version);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static void
reply_collection (EtsRequest     *req,
                  gint64          collection_id,
                  CollectionJson  variant)
{
  g_autoptr(sqlite3_stmt) row = select_collection (req->ets, collection_id);
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  if (row == NULL)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "collection");
  collection_to_json (builder, row, variant);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_create (EtsRequest *req)
{
  EtsServer *ets = req->ets;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *attributes = NULL;
  g_autofree char *magic = NULL;
  g_autofree char *pub_magic = NULL;
  g_autofree char *type = NULL;
  EtsBind bind = { TRUE };
  const char *encrypted_key, *nonce, *name, *encrypted_name, *name_nonce;
  gint64 existing;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  encrypted_key = ets_bind_string (&bind, body, "encryptedKey", TRUE);
  nonce = ets_bind_string (&bind, body, "keyDecryptionNonce", TRUE);
  type = g_strdup (ets_bind_string (&bind, body, "type", TRUE));
  name = ets_bind_string (&bind, body, "name", FALSE);
  encrypted_name = ets_bind_string (&bind, body, "encryptedName", FALSE);
  name_nonce = ets_bind_string (&bind, body, "nameDecryptionNonce", FALSE);
  attributes = bind_attributes (&bind, body);
  magic = ets_bind_magic_metadata (&bind, body, "magicMetadata");
  pub_magic = ets_bind_magic_metadata (&bind, body, "pubMagicMetadata");
  ets_bind_array (&bind, body, "sharees", FALSE);
  ets_bind_array (&bind, body, "publicURLs", FALSE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  /* key_validation.go: a plain error, hence 500. */
  if (!base64_of_size (encrypted_key, 48) || !base64_of_size (nonce, 24))
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }
  if (!ets_user_has_key_attributes (ets, req->user_id))
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return;
    }

  if (g_str_equal (type, "CollectionType.album"))
    {
      g_free (type);
      type = g_strdup ("album");
    }
  if (!g_str_equal (type, "album") && !g_str_equal (type, "folder") &&
      !g_str_equal (type, "favorites") && !g_str_equal (type, "uncategorized"))
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }

  if (g_str_equal (type, "favorites") || g_str_equal (type, "uncategorized"))
    {
      g_autoptr(sqlite3_stmt) lookup = ets_db_prepare (ets,
                                                       "SELECT id, is_deleted FROM collections"
                                                       " WHERE owner_id = ? AND app = ? AND type = ?");

      sqlite3_bind_int64 (lookup, 1, req->user_id);
      sqlite3_bind_text (lookup, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
      sqlite3_bind_text (lookup, 3, type, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (lookup) == SQLITE_ROW)
        {
          existing = sqlite3_column_int64 (lookup, 0);
          if (sqlite3_column_int (lookup, 1) != 0)
            ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
          else
            reply_collection (req, existing, COLLECTION_JSON_EXISTING);
          return;
        }
    }

  stmt = ets_db_prepare (ets,
                         "INSERT INTO collections (owner_id, encrypted_key, key_decryption_nonce, name,"
                         " encrypted_name, name_decryption_nonce, type, attributes, magic_metadata,"
                         " pub_magic_metadata, updation_time, app)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  sqlite3_bind_int64 (stmt, 1, req->user_id);
  sqlite3_bind_text (stmt, 2, encrypted_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, nonce, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, encrypted_name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, name_nonce, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 7, type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 8, attributes, -1, SQLITE_TRANSIENT);
  ets_bind_text_or_null (stmt, 9, magic);
  ets_bind_text_or_null (stmt, 10, pub_magic);
  sqlite3_bind_int64 (stmt, 11, ets_now (ets));
  sqlite3_bind_text (stmt, 12, ets_app_name (req->app), -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }
  reply_collection (req, sqlite3_last_insert_rowid (ets->db), COLLECTION_JSON_CREATED);
}

static void
handle_list (EtsRequest *req)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  if (!ets_require_storage_auth (req))
    return;

  stmt = ets_db_prepare (req->ets,
                         "SELECT " COLLECTION_COLUMNS " FROM collections"
                         " WHERE owner_id = ? AND app = ? AND updation_time > ? ORDER BY id");
  sqlite3_bind_int64 (stmt, 1, req->user_id);
  sqlite3_bind_text (stmt, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, ets_query_int (req, "sinceTime"));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "collections");
  json_builder_begin_array (builder);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    collection_to_json (builder, stmt, COLLECTION_JSON_LISTED);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_get_one (EtsRequest *req,
                const char *id_text)
{
  g_autoptr(sqlite3_stmt) row = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  gint64 id;

  if (!ets_require_storage_auth (req))
    return;
  if (!g_ascii_string_to_signed (id_text, 10, G_MININT64, G_MAXINT64, &id, NULL))
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if ((row = collection_access (req, id, FALSE, TRUE)) == NULL)
    return;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "collection");
  collection_to_json (builder, row, COLLECTION_JSON_LISTED);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_diff (EtsRequest *req)
{
  g_autoptr(sqlite3_stmt) collection = NULL;
  g_autoptr(sqlite3_stmt) times = NULL;
  g_autoptr(sqlite3_stmt) rows = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *sql = NULL;
  gint64 collection_id, since, upper;
  gboolean has_more;

  if (!ets_require_storage_auth (req))
    return;

  collection_id = ets_query_int (req, "collectionID");
  since = ets_query_int (req, "sinceTime");
  if ((collection = collection_access (req, collection_id, FALSE, FALSE)) == NULL)
    return;

  times = ets_db_prepare (req->ets,
                          "SELECT updation_time FROM collection_files"
                          " WHERE collection_id = ? AND updation_time > ?"
                          " ORDER BY updation_time LIMIT 2501");
  sqlite3_bind_int64 (times, 1, collection_id);
  sqlite3_bind_int64 (times, 2, since);
  upper = ets_page_upper (times, &has_more);

  sql = g_strdup_printf ("SELECT %s FROM collection_files cf JOIN files f ON f.id = cf.file_id"
                         " WHERE cf.collection_id = ? AND cf.updation_time > ? AND cf.updation_time <= ?"
                         " ORDER BY cf.updation_time, cf.file_id", ets_file_columns);
  rows = ets_db_prepare (req->ets, sql);
  sqlite3_bind_int64 (rows, 1, collection_id);
  sqlite3_bind_int64 (rows, 2, since);
  sqlite3_bind_int64 (rows, 3, upper);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "diff");
  json_builder_begin_array (builder);
  while (sqlite3_step (rows) == SQLITE_ROW)
    ets_file_to_json (req->ets, builder, rows, TRUE);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "hasMore");
  json_builder_add_boolean_value (builder, has_more);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_get_file (EtsRequest *req)
{
  g_autoptr(sqlite3_stmt) collection = NULL;
  g_autoptr(sqlite3_stmt) row = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *sql = NULL;
  gint64 collection_id = ets_query_int (req, "collectionID");
  gint64 file_id = ets_query_int (req, "fileID");

  if (!ets_require_storage_auth (req))
    return;

  collection = select_collection (req->ets, collection_id);
  if (collection != NULL && sqlite3_column_int64 (collection, 1) != req->user_id)
    {
      ets_reply_sentinel (req, SOUP_STATUS_FORBIDDEN);
      return;
    }

  sql = g_strdup_printf ("SELECT %s FROM collection_files cf JOIN files f ON f.id = cf.file_id"
                         " WHERE cf.collection_id = ? AND cf.file_id = ? AND cf.is_deleted = 0",
                         ets_file_columns);
  row = ets_db_prepare (req->ets, sql);
  sqlite3_bind_int64 (row, 1, collection_id);
  sqlite3_bind_int64 (row, 2, file_id);
  if (collection == NULL || sqlite3_step (row) != SQLITE_ROW)
    {
      ets_reply_api_error (req, SOUP_STATUS_NOT_FOUND, "FILE_NOT_FOUND_IN_ALBUM",
                           "File is not found in the given collection");
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "file");
  ets_file_to_json (req->ets, builder, row, TRUE);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

/* Parses "files":[{"id","encryptedKey","keyDecryptionNonce"}], all required. */
static GArray *
bind_file_items (EtsBind    *bind,
                 JsonObject *body)
{
  JsonArray *files = ets_bind_array (bind, body, "files", TRUE);
  GArray *items = g_array_new (FALSE, TRUE, sizeof (FileItem));

  g_array_set_clear_func (items, file_item_clear);
  if (files == NULL)
    return items;

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonNode *node = json_array_get_element (files, i);
      JsonObject *obj;
      FileItem item = { 0 };

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          bind->ok = FALSE;
          break;
        }
      obj = json_node_get_object (node);
      item.id = ets_bind_int (bind, obj, "id", TRUE);
      item.encrypted_key = g_strdup (ets_bind_string (bind, obj, "encryptedKey", TRUE));
      item.key_decryption_nonce = g_strdup (ets_bind_string (bind, obj, "keyDecryptionNonce", TRUE));
      g_array_append_val (items, item);
    }
  return items;
}

/* VerifyFileOwner: duplicates or unknown ids → 400, others' files → 403. */
static gboolean
verify_file_owner (EtsRequest *req,
                   GArray     *ids)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  gboolean foreign = FALSE;

  if (ids->len == 0)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return FALSE;
    }
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 *id = &g_array_index (ids, gint64, i);
      gint64 owner;

      if (g_hash_table_contains (seen, id))
        {
          ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
          return FALSE;
        }
      g_hash_table_add (seen, id);
      owner = ets_db_query_int (req->ets, 0, "SELECT owner_id FROM files WHERE id = ?", *id);
      if (owner == 0)
        {
          ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
          return FALSE;
        }
      if (owner != req->user_id)
        foreign = TRUE;
    }
  if (foreign)
    {
      ets_reply_sentinel (req, SOUP_STATUS_FORBIDDEN);
      return FALSE;
    }
  return TRUE;
}

static gboolean
reject_trashed (EtsRequest *req,
                GArray     *ids)
{
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);

      if (ets_db_query_int (req->ets, 0,
                            "SELECT COUNT(*) FROM trash WHERE file_id = ? AND is_restored = 0", id) > 0)
        {
          ets_reply_api_error (req, SOUP_STATUS_CONFLICT, "FILE_IN_TRASH",
                               "File is in trash or deleted");
          return TRUE;
        }
    }
  return FALSE;
}

static GArray *
item_ids (GArray *items)
{
  GArray *ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), items->len);

  for (guint i = 0; i < items->len; i++)
    g_array_append_val (ids, g_array_index (items, FileItem, i).id);
  return ids;
}

/* The add-files upsert: an existing row (live or deleted) keeps its key and
 * nonce; only is_deleted, the time, the action and created_at change. */
static void
upsert_rows (EtsServer *ets,
             gint64     collection_id,
             gint64     collection_owner,
             GArray    *items,
             gint64     now)
{
  g_autoptr(sqlite3_stmt) stmt = ets_db_prepare (ets,
                                                 "INSERT INTO collection_files (collection_id, file_id,"
                                                 " encrypted_key, key_decryption_nonce, is_deleted,"
                                                 " updation_time, c_owner_id, f_owner_id, created_at)"
                                                 " SELECT ?, id, ?, ?, 0, ?, ?, owner_id, ? FROM files"
                                                 " WHERE id = ?"
                                                 " ON CONFLICT (collection_id, file_id) DO UPDATE SET"
                                                 " is_deleted = 0, updation_time = excluded.updation_time,"
                                                 " action = NULL, action_user = NULL,"
                                                 " created_at = excluded.created_at");
  g_autoptr(sqlite3_stmt) touch = ets_db_prepare (ets, "UPDATE collections SET updation_time = ? WHERE id = ?");

  for (guint i = 0; i < items->len; i++)
    {
      FileItem *item = &g_array_index (items, FileItem, i);

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, collection_id);
      sqlite3_bind_text (stmt, 2, item->encrypted_key, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, item->key_decryption_nonce, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 4, now);
      sqlite3_bind_int64 (stmt, 5, collection_owner);
      sqlite3_bind_int64 (stmt, 6, now);
      sqlite3_bind_int64 (stmt, 7, item->id);
      sqlite3_step (stmt);
    }
  sqlite3_bind_int64 (touch, 1, now);
  sqlite3_bind_int64 (touch, 2, collection_id);
  sqlite3_step (touch);
}

static void
handle_add_files (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GArray) items = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(sqlite3_stmt) collection = NULL;
  EtsBind bind = { TRUE };
  gint64 collection_id, now;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  collection_id = ets_bind_int (&bind, body, "collectionID", TRUE);
  items = bind_file_items (&bind, body);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if (items->len > ETS_BATCH_LIMIT)
    {
      ets_reply_sentinel (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
      return;
    }
  if ((collection = collection_access (req, collection_id, FALSE, FALSE)) == NULL)
    return;
  if (!g_str_equal (ets_column_text (collection, 13), ets_app_name (req->app)))
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }

  ids = item_ids (items);
  if (!verify_file_owner (req, ids) || reject_trashed (req, ids))
    return;

  ets_db_begin (req->ets);
  now = ets_now (req->ets);
  upsert_rows (req->ets, collection_id, sqlite3_column_int64 (collection, 1), items, now);
  ets_db_commit (req->ets);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

static void
handle_move_files (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GArray) items = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(sqlite3_stmt) from = NULL;
  g_autoptr(sqlite3_stmt) to = NULL;
  g_autoptr(sqlite3_stmt) remove = NULL;
  EtsBind bind = { TRUE };
  gint64 from_id, to_id, now;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  from_id = ets_bind_int (&bind, body, "fromCollectionID", TRUE);
  to_id = ets_bind_int (&bind, body, "toCollectionID", TRUE);
  items = bind_file_items (&bind, body);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if (items->len > ETS_BATCH_LIMIT)
    {
      ets_reply_sentinel (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
      return;
    }
  if (from_id == to_id)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if ((from = collection_access (req, from_id, TRUE, FALSE)) == NULL ||
      (to = collection_access (req, to_id, TRUE, FALSE)) == NULL)
    return;
  if (!g_str_equal (ets_column_text (from, 13), ets_column_text (to, 13)) ||
      !g_str_equal (ets_column_text (to, 13), ets_app_name (req->app)))
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }

  ids = item_ids (items);
  if (!verify_file_owner (req, ids) || reject_trashed (req, ids))
    return;

  ets_db_begin (req->ets);
  now = ets_now (req->ets);
  upsert_rows (req->ets, to_id, req->user_id, items, now);
  remove = ets_db_prepare (req->ets,
                           "UPDATE collection_files SET is_deleted = 1, updation_time = ?"
                           " WHERE collection_id = ? AND file_id = ?");
  for (guint i = 0; i < ids->len; i++)
    {
      sqlite3_reset (remove);
      sqlite3_bind_int64 (remove, 1, now);
      sqlite3_bind_int64 (remove, 2, from_id);
      sqlite3_bind_int64 (remove, 3, g_array_index (ids, gint64, i));
      sqlite3_step (remove);
    }
  g_clear_pointer (&remove, sqlite3_finalize);
  remove = ets_db_prepare (req->ets, "UPDATE collections SET updation_time = ? WHERE id = ?");
  sqlite3_bind_int64 (remove, 1, now);
  sqlite3_bind_int64 (remove, 2, from_id);
  sqlite3_step (remove);
  ets_db_commit (req->ets);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

static void
handle_restore_files (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GArray) items = NULL;
  g_autoptr(sqlite3_stmt) collection = NULL;
  g_autoptr(sqlite3_stmt) restore = NULL;
  EtsBind bind = { TRUE };
  gint64 collection_id, now;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  collection_id = ets_bind_int (&bind, body, "collectionID", TRUE);
  items = bind_file_items (&bind, body);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if (items->len > ETS_BATCH_LIMIT)
    {
      ets_reply_sentinel (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
      return;
    }
  if ((collection = collection_access (req, collection_id, TRUE, FALSE)) == NULL)
    return;

  for (guint i = 0; i < items->len; i++)
    {
      gint64 id = g_array_index (items, FileItem, i).id;
      gint64 owner = ets_db_query_int (req->ets, 0, "SELECT owner_id FROM files WHERE id = ?", id);

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
      if (ets_db_query_int (req->ets, 0,
                            "SELECT COUNT(*) FROM trash WHERE file_id = ? AND is_deleted = 0"
                            " AND is_restored = 0", id) == 0)
        {
          ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
          return;
        }
    }

  ets_db_begin (req->ets);
  now = ets_now (req->ets);
  upsert_rows (req->ets, collection_id, req->user_id, items, now);
  restore = ets_db_prepare (req->ets, "UPDATE trash SET is_restored = 1, updated_at = ? WHERE file_id = ?");
  for (guint i = 0; i < items->len; i++)
    {
      sqlite3_reset (restore);
      sqlite3_bind_int64 (restore, 1, now);
      sqlite3_bind_int64 (restore, 2, g_array_index (items, FileItem, i).id);
      sqlite3_step (restore);
    }
  ets_db_commit (req->ets);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

static void
handle_remove_files (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(sqlite3_stmt) collection = NULL;
  EtsBind bind = { TRUE };
  JsonArray *file_ids;
  gint64 collection_id;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  collection_id = ets_bind_int (&bind, body, "collectionID", TRUE);
  file_ids = ets_bind_array (&bind, body, "fileIDs", TRUE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if (json_array_get_length (file_ids) > ETS_BATCH_LIMIT)
    {
      ets_reply_sentinel (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
      return;
    }
  if ((collection = collection_access (req, collection_id, FALSE, FALSE)) == NULL)
    return;

  /* Without sharing, every file in a caller's collection is the caller's
   * own, and museum refuses to remove those. */
  ets_reply_api_error (req, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                       "can not remove files owned collection owner, admins can perform remove suggestion");
}

static void
handle_rename (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(sqlite3_stmt) collection = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  EtsBind bind = { TRUE };
  const char *name, *nonce;
  gint64 collection_id;

  if (!ets_require_storage_auth (req))
    return;

  body = ets_body_object (req);
  collection_id = ets_bind_int (&bind, body, "collectionID", TRUE);
  name = ets_bind_string (&bind, body, "encryptedName", TRUE);
  nonce = ets_bind_string (&bind, body, "nameDecryptionNonce", TRUE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if ((collection = collection_access (req, collection_id, TRUE, FALSE)) == NULL)
    return;

  stmt = ets_db_prepare (req->ets,
                         "UPDATE collections SET encrypted_name = ?, name_decryption_nonce = ?,"
                         " updation_time = ? WHERE id = ?");
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, nonce, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, ets_now (req->ets));
  sqlite3_bind_int64 (stmt, 4, collection_id);
  sqlite3_step (stmt);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

static void
handle_delete (EtsRequest *req,
               const char *id_text)
{
  EtsServer *ets = req->ets;
  g_autoptr(sqlite3_stmt) collection = NULL;
  g_autoptr(sqlite3_stmt) files = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) ids = NULL;
  const char *keep_files = ets_query_string (req, "keepFiles");
  const char *type;
  gint64 collection_id, now;

  if (!ets_require_storage_auth (req))
    return;

  collection_id = ets_parse_id (id_text);
  if (collection_id == 0)
    collection_id = ets_query_int (req, "collectionID");
  if (keep_files == NULL || (!g_str_equal (keep_files, "true") && !g_str_equal (keep_files, "false")))
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if ((collection = collection_access (req, collection_id, TRUE, TRUE)) == NULL)
    return;

  type = ets_column_text (collection, 7);
  if (g_str_equal (type, "uncategorized") || g_str_equal (type, "favorites"))
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if (sqlite3_column_int (collection, 12) != 0)
    {
      ets_reply_empty (req, SOUP_STATUS_OK);
      return;
    }

  files = ets_db_prepare (ets, "SELECT file_id FROM collection_files WHERE collection_id = ? AND is_deleted = 0");
  sqlite3_bind_int64 (files, 1, collection_id);
  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  while (sqlite3_step (files) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (files, 0);
      g_array_append_val (ids, id);
    }
  if (g_str_equal (keep_files, "true") && ids->len > 0)
    {
      ets_reply_api_error (req, SOUP_STATUS_CONFLICT, "COLLECTION_NOT_EMPTY", "Collection is not empty");
      return;
    }

  /* Museum queues this and a worker trashes the files later; the double
   * does it at once, in one transaction. */
  ets_db_begin (ets);
  now = ets_now (ets);
  for (guint i = 0; i < ids->len; i++)
    ets_trash_file_rows (ets, req->user_id, g_array_index (ids, gint64, i), collection_id, now);
  stmt = ets_db_prepare (ets, "UPDATE collections SET is_deleted = 1, updation_time = ? WHERE id = ?");
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_int64 (stmt, 2, collection_id);
  sqlite3_step (stmt);
  ets_db_commit (ets);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

gboolean
ets_collections_route (EtsRequest *req)
{
  const char *m = req->method;
  const char *p = req->path;
  gboolean get = g_str_equal (m, "GET");
  gboolean post = g_str_equal (m, "POST");

  if (post && g_str_equal (p, "/collections"))
    handle_create (req);
  else if (get && (g_str_equal (p, "/collections/v2") || g_str_equal (p, "/collections")))
    handle_list (req);
  else if (get && g_str_equal (p, "/collections/v2/diff"))
    handle_diff (req);
  else if (get && g_str_equal (p, "/collections/file"))
    handle_get_file (req);
  else if (post && g_str_equal (p, "/collections/add-files"))
    handle_add_files (req);
  else if (post && g_str_equal (p, "/collections/move-files"))
    handle_move_files (req);
  else if (post && g_str_equal (p, "/collections/restore-files"))
    handle_restore_files (req);
  else if (post && g_str_equal (p, "/collections/v3/remove-files"))
    handle_remove_files (req);
  else if (post && g_str_equal (p, "/collections/rename"))
    handle_rename (req);
  else if (g_str_equal (m, "DELETE") && g_str_has_prefix (p, "/collections/v3/") &&
           strchr (p + strlen ("/collections/v3/"), '/') == NULL)
    handle_delete (req, p + strlen ("/collections/v3/"));
  else if (get && g_str_has_prefix (p, "/collections/") &&
           strchr (p + strlen ("/collections/"), '/') == NULL)
    handle_get_one (req, p + strlen ("/collections/"));
  else
    return FALSE;
  return TRUE;
}
