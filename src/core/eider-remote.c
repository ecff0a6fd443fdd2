/* eider-remote.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-remote"
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "eider-remote.h"

/* Ente's batch limit for add-files and move-files (spec/ente-upload.md §10.4). */
#define BATCH_SIZE 1000

#define META_COLLECTIONS_SINCE "remote.collections-since"
#define META_FLAGS_PREFIX      "remote.collection-flags."

/* Owner-private collection magic metadata (spec/ente-auth.md §6.1). */
#define VISIBILITY_HIDDEN 2
#define SUB_TYPE_QUICK_LINK 2

struct _EiderRemote
{
  GObject       parent_instance;

  EiderAccount *account;
  EiderStore   *store;
  GHashTable   *keys;      /* gint64 * collection id → EiderSecret * */
  GHashTable   *pending;   /* "album:<name>" | "uncategorized" → GPtrArray of GTask * */
};

G_DEFINE_FINAL_TYPE (EiderRemote, eider_remote, G_TYPE_OBJECT)

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

static JsonObject *
member_object (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static gboolean
member_int (JsonObject *object,
            const char *name,
            gint64     *out)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    *out = json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE)
    *out = (gint64) json_node_get_double (node);
  else
    return FALSE;

  return TRUE;
}

static gint64
member_int_or (JsonObject *object,
               const char *name,
               gint64      fallback)
{
  gint64 value;

  return member_int (object, name, &value) ? value : fallback;
}

static gboolean
member_true (JsonObject *object,
             const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN && json_node_get_boolean (node);
}

static gint64 *
int64_dup (gint64 value)
{
  return g_memdup2 (&value, sizeof value);
}

static EiderRemoteFileRecord *
remote_file_record_copy (const EiderRemoteFileRecord *record)
{
  EiderRemoteFileRecord *copy = g_new0 (EiderRemoteFileRecord, 1);

  *copy = *record;
  copy->title = g_strdup (record->title);
  copy->hash = g_strdup (record->hash);
  copy->encrypted_key = g_strdup (record->encrypted_key);
  copy->key_nonce = g_strdup (record->key_nonce);
  copy->file_header = g_strdup (record->file_header);
  copy->pubmm_json = g_strdup (record->pubmm_json);

  return copy;
}

static GError *
missing_field (const char *what)
{
  return g_error_new (EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED,
                      "The server sent no %s", what);
}

/* secretbox_open of a b64 ciphertext and nonce, as a NUL-terminated UTF-8
 * string. */
static char *
open_string (const char        *ct_b64,
             const char        *nonce_b64,
             const EiderSecret *key,
             GError           **error)
{
  guint8 nonce[EIDER_NONCE_BYTES];
  g_autoptr(GBytes) ct = NULL;
  g_autofree char *text = NULL;
  const guint8 *data;
  gsize len;

  if (ct_b64 == NULL || nonce_b64 == NULL)
    {
      g_propagate_error (error, missing_field ("encrypted name"));
      return NULL;
    }
  if (!eider_base64_decode_exact (nonce_b64, nonce, sizeof nonce, error) ||
      (ct = eider_base64_decode (ct_b64, error)) == NULL)
    return NULL;

  data = g_bytes_get_data (ct, &len);
  if (len < EIDER_MAC_BYTES)
    {
      g_set_error_literal (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_LENGTH,
                           "The encrypted name is too short");
      return NULL;
    }

  text = g_malloc0 (len - EIDER_MAC_BYTES + 1);
  if (!eider_secretbox_open (data, len, nonce, eider_secret_peek (key), (guint8 *) text, error))
    return NULL;
  if (!g_utf8_validate (text, len - EIDER_MAC_BYTES, NULL) || strlen (text) != len - EIDER_MAC_BYTES)
    {
      g_set_error_literal (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_CORRUPT,
                           "The decrypted name is not UTF-8 text");
      return NULL;
    }

  return g_steal_pointer (&text);
}

/* Opens a one-shot secretstream blob (data, header both b64) and parses it as
 * a JSON object. */
static JsonObject *
open_json_blob (const char        *data_b64,
                const char        *header_b64,
                const EiderSecret *key,
                GError           **error)
{
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  g_autoptr(GBytes) ct = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  const guint8 *data;
  gsize len;

  if (data_b64 == NULL || header_b64 == NULL)
    {
      g_propagate_error (error, missing_field ("encrypted data or header"));
      return NULL;
    }
  if (!eider_base64_decode_exact (header_b64, header, sizeof header, error) ||
      (ct = eider_base64_decode (data_b64, error)) == NULL)
    return NULL;

  data = g_bytes_get_data (ct, &len);
  if ((plain = eider_blob_decrypt (data, len, key, header, error)) == NULL)
    return NULL;

  data = g_bytes_get_data (plain, &len);
  if (!json_parser_load_from_data (parser, (const char *) data, len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (root = json_parser_get_root (parser)))
    {
      g_set_error_literal (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_CORRUPT,
                           "The decrypted metadata is not a JSON object");
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

static const EiderSecret *
master_key (EiderRemote  *self,
            GError      **error)
{
  const EiderSecret *key = eider_account_get_master_key (self->account);

  if (key == NULL)
    g_set_error_literal (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_NOT_LOGGED_IN,
                         "Not logged in");

  return key;
}

static char *
flags_key (gint64 collection_id)
{
  return g_strdup_printf (META_FLAGS_PREFIX "%" G_GINT64_FORMAT, collection_id);
}

static void
get_flags (EiderRemote *self,
           gint64       collection_id,
           gint        *visibility,
           gint        *sub_type)
{
  g_autofree char *key = flags_key (collection_id);
  g_autofree char *value = eider_store_get_meta (self->store, key);
  int v = 0, s = 0;

  if (value != NULL && sscanf (value, "%d %d", &v, &s) != 2)
    v = s = 0;
  *visibility = v;
  *sub_type = s;
}

static void
forget_collection_key (EiderRemote *self,
                       gint64       collection_id)
{
  g_hash_table_remove (self->keys, &collection_id);
}

/* ------------------------------------------------------------------------ */
/* Collections                                                              */

/* Decrypts one collection of GET /collections/v2 or POST /collections and
 * writes it to the store (a tombstone deletes it). Collections owned by
 * someone else are left out. On success, *id_out is the collection's id. */
static gboolean
apply_collection (EiderRemote  *self,
                  JsonObject   *object,
                  gint64       *id_out,
                  GError      **error)
{
  g_autoptr(EiderCollectionRecord) existing = NULL;
  g_autoptr(EiderSecret) key = NULL;
  g_autofree char *name = NULL;
  g_autofree char *flags = NULL;
  g_autofree char *meta_key = NULL;
  EiderCollectionRecord record = { 0 };
  const EiderSecret *master;
  JsonObject *magic;
  const char *plain_name;
  gint64 id, owner_id;
  gint64 visibility = 0, sub_type = 0;

  if (!member_int (object, "id", &id) || !member_int (member_object (object, "owner"), "id", &owner_id))
    {
      g_set_error_literal (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED,
                           "A collection without id or owner");
      return FALSE;
    }
  if (id_out != NULL)
    *id_out = id;

  /* Shared with us: uploads never go there; nothing to record. */
  if (owner_id != eider_account_get_user_id (self->account))
    return TRUE;

  meta_key = flags_key (id);
  if (member_true (object, "isDeleted"))
    {
      forget_collection_key (self, id);
      return eider_store_delete_collection (self->store, id, error) &&
             eider_store_set_meta (self->store, meta_key, NULL, error);
    }

  if ((master = master_key (self, error)) == NULL ||
      (key = eider_crypto_unwrap_key (member_string (object, "encryptedKey"),
                                      member_string (object, "keyDecryptionNonce"),
                                      master, error)) == NULL)
    return FALSE;

  plain_name = member_string (object, "name");
  if (plain_name != NULL && *plain_name != '\0')
    name = g_strdup (plain_name);
  else if ((name = open_string (member_string (object, "encryptedName"),
                                member_string (object, "nameDecryptionNonce"),
                                key, error)) == NULL)
    return FALSE;

  if ((magic = member_object (object, "magicMetadata")) != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(JsonObject) data = open_json_blob (member_string (magic, "data"),
                                                   member_string (magic, "header"),
                                                   key, &local_error);

      if (data == NULL)
        g_warning ("Collection %" G_GINT64_FORMAT ": private metadata unreadable: %s",
                   id, local_error->message);
      visibility = member_int_or (data, "visibility", 0);
      sub_type = member_int_or (data, "subType", 0);
    }

  existing = eider_store_get_collection (self->store, id);
  record.id = id;
  record.owner_id = owner_id;
  record.type = (char *) (member_string (object, "type") ? member_string (object, "type") : "album");
  record.name = name;
  record.encrypted_key = (char *) member_string (object, "encryptedKey");
  record.key_nonce = (char *) member_string (object, "keyDecryptionNonce");
  record.is_deleted = FALSE;
  record.updation_time = member_int_or (object, "updationTime", 0);
  record.files_since = existing != NULL ? existing->files_since : 0;

  flags = g_strdup_printf ("%d %d", (int) visibility, (int) sub_type);
  if (!eider_store_upsert_collection (self->store, &record, error) ||
      !eider_store_set_meta (self->store, meta_key, flags, error))
    return FALSE;

  g_hash_table_replace (self->keys, int64_dup (id), g_steal_pointer (&key));

  return TRUE;
}

static gint64
stored_collections_since (EiderRemote *self)
{
  g_autofree char *value = eider_store_get_meta (self->store, META_COLLECTIONS_SINCE);

  return value != NULL ? g_ascii_strtoll (value, NULL, 10) : 0;
}

static void
pull_collections_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderRemote *self = g_task_get_source_object (task);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *since_text = NULL;
  JsonNode *list;
  JsonArray *array;
  gint64 since;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  list = JSON_NODE_HOLDS_OBJECT (node) ? json_object_get_member (json_node_get_object (node), "collections") : NULL;
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    {
      g_task_return_new_error (task, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                               "The server's collection list has no collections");
      return;
    }
  array = json_node_get_array (list);

  /* Another pull may have moved the cursor meanwhile: never go back. */
  since = stored_collections_since (self);
  if (!eider_store_begin (self->store, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autoptr(GError) local_error = NULL;
      JsonObject *collection;
      gint64 id = 0;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      collection = json_node_get_object (element);
      since = MAX (since, member_int_or (collection, "updationTime", 0));

      if (!apply_collection (self, collection, &id, &local_error))
        {
          if (local_error->domain == EIDER_STORE_ERROR || local_error->domain == EIDER_ACCOUNT_ERROR)
            {
              eider_store_rollback (self->store);
              g_task_return_error (task, g_steal_pointer (&local_error));
              return;
            }
          g_warning ("Collection %" G_GINT64_FORMAT " skipped: %s", id, local_error->message);
        }
    }

  since_text = g_strdup_printf ("%" G_GINT64_FORMAT, since);
  if (!eider_store_set_meta (self->store, META_COLLECTIONS_SINCE, since_text, &error) ||
      !eider_store_commit (self->store, &error))
    {
      eider_store_rollback (self->store);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/* GET /collections/v2?sinceTime=<stored cursor>, applied to the store. */
static void
pull_collections_async (EiderRemote         *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *path = NULL;

  g_task_set_source_tag (task, pull_collections_async);
  path = g_strdup_printf ("/collections/v2?sinceTime=%" G_GINT64_FORMAT, stored_collections_since (self));
  eider_api_call_async (eider_account_get_api (self->account), "GET", path, NULL,
                        EIDER_API_CALL_AUTH, cancellable, pull_collections_cb, task);
}

static gboolean
pull_collections_finish (EiderRemote   *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
is_own_live (EiderRemote                 *self,
             const EiderCollectionRecord *record)
{
  return record->owner_id == eider_account_get_user_id (self->account) && !record->is_deleted;
}

/* matchExistingOrCreateAlbum's match (spec/ente-upload.md §12.3). */
static gint64
find_album (EiderRemote *self,
            const char  *name,
            GError     **error)
{
  g_autoptr(GPtrArray) list = eider_store_list_collections (self->store, error);

  if (list == NULL)
    return -1;

  for (guint i = 0; i < list->len; i++)
    {
      EiderCollectionRecord *record = g_ptr_array_index (list, i);
      gint visibility, sub_type;

      if (!is_own_live (self, record) || g_strcmp0 (record->name, name) != 0)
        continue;
      if (g_strcmp0 (record->type, "album") != 0 && g_strcmp0 (record->type, "folder") != 0 &&
          g_strcmp0 (record->type, "uncategorized") != 0)
        continue;
      get_flags (self, record->id, &visibility, &sub_type);
      if (sub_type == SUB_TYPE_QUICK_LINK)
        continue;

      return record->id;
    }

  return 0;
}

static gint64
find_uncategorized (EiderRemote *self,
                    GError     **error)
{
  g_autoptr(GPtrArray) list = eider_store_list_collections (self->store, error);

  if (list == NULL)
    return -1;

  for (guint i = 0; i < list->len; i++)
    {
      EiderCollectionRecord *record = g_ptr_array_index (list, i);

      if (is_own_live (self, record) && g_strcmp0 (record->type, "uncategorized") == 0)
        return record->id;
    }

  return 0;
}

EiderSecret *
eider_remote_get_collection_key (EiderRemote  *self,
                                 gint64        collection_id,
                                 GError      **error)
{
  g_autoptr(EiderCollectionRecord) record = NULL;
  const EiderSecret *master;
  EiderSecret *key;

  g_return_val_if_fail (EIDER_IS_REMOTE (self), NULL);

  if ((key = g_hash_table_lookup (self->keys, &collection_id)) != NULL)
    return eider_secret_copy (key);

  record = eider_store_get_collection (self->store, collection_id);
  if (record == NULL || !is_own_live (self, record))
    {
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND,
                   "Album %" G_GINT64_FORMAT " is not one of this account's albums", collection_id);
      return NULL;
    }

  if ((master = master_key (self, error)) == NULL ||
      (key = eider_crypto_unwrap_key (record->encrypted_key, record->key_nonce, master, error)) == NULL)
    return NULL;

  g_hash_table_replace (self->keys, int64_dup (collection_id), key);

  return eider_secret_copy (key);
}

gboolean
eider_remote_is_collection_hidden (EiderRemote *self,
                                   gint64       collection_id)
{
  gint visibility, sub_type;

  g_return_val_if_fail (EIDER_IS_REMOTE (self), FALSE);

  get_flags (self, collection_id, &visibility, &sub_type);

  return visibility == VISIBILITY_HIDDEN;
}

/* ------------------------------------------------------------------------ */
/* File diffs                                                               */

typedef struct
{
  /* in */
  JsonNode    *page;
  EiderSecret *key;
  gint64       collection_id;
  gint64       user_id;
  gint64       since;
  /* out */
  GPtrArray   *records;
  GArray      *deleted;
  gint64       max_time;
  gboolean     has_more;
  guint        n_entries;
} DiffPage;

static void
diff_page_free (DiffPage *page)
{
  g_clear_pointer (&page->page, json_node_unref);
  g_clear_pointer (&page->key, eider_secret_free);
  g_clear_pointer (&page->records, g_ptr_array_unref);
  g_clear_pointer (&page->deleted, g_array_unref);
  g_free (page);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DiffPage, diff_page_free)

/* One live diff entry → an index record (spec/ente-auth.md §7.3). */
static EiderRemoteFileRecord *
decrypt_entry (JsonObject        *entry,
               gint64             id,
               const EiderSecret *collection_key,
               GError           **error)
{
  g_autoptr(EiderRemoteFileRecord) record = g_new0 (EiderRemoteFileRecord, 1);
  g_autoptr(EiderSecret) file_key = NULL;
  g_autoptr(JsonObject) metadata = NULL;
  JsonObject *encrypted_metadata, *pub;
  const char *title, *hash, *image_hash, *video_hash;
  gint64 file_type;

  file_key = eider_crypto_unwrap_key (member_string (entry, "encryptedKey"),
                                      member_string (entry, "keyDecryptionNonce"),
                                      collection_key, error);
  if (file_key == NULL)
    return NULL;

  encrypted_metadata = member_object (entry, "metadata");
  metadata = open_json_blob (member_string (encrypted_metadata, "encryptedData"),
                             member_string (encrypted_metadata, "decryptionHeader"),
                             file_key, error);
  if (metadata == NULL)
    return NULL;

  title = member_string (metadata, "title");
  if (title == NULL)
    {
      g_propagate_error (error, missing_field ("title in the metadata"));
      return NULL;
    }

  /* Very old files may lack fileType: readers take image (§7.3). */
  if (!member_int (metadata, "fileType", &file_type))
    file_type = id <= 100000000 ? 0 : -1;

  hash = member_string (metadata, "hash");
  image_hash = member_string (metadata, "imageHash");
  video_hash = member_string (metadata, "videoHash");
  if (hash != NULL && *hash != '\0')
    record->hash = g_strdup (hash);
  else if (image_hash != NULL && video_hash != NULL)
    record->hash = g_strconcat (image_hash, ":", video_hash, NULL);

  record->title = g_strdup (title);
  if ((pub = member_object (entry, "pubMagicMetadata")) != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(JsonObject) data = open_json_blob (member_string (pub, "data"),
                                                   member_string (pub, "header"),
                                                   file_key, &local_error);
      const char *edited_name = member_string (data, "editedName");

      if (data == NULL)
        g_warning ("File %" G_GINT64_FORMAT ": public metadata unreadable: %s",
                   id, local_error->message);
      else
        {
          g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), data);

          record->pubmm_json = json_to_string (node, FALSE);
        }
      record->pubmm_version = member_int_or (pub, "version", 0);
      if (edited_name != NULL && *edited_name != '\0')
        {
          g_free (record->title);
          record->title = g_strdup (edited_name);
        }
    }

  record->id = id;
  record->collection_id = member_int_or (entry, "collectionID", 0);
  record->file_type = (gint) file_type;
  record->encrypted_key = g_strdup (member_string (entry, "encryptedKey"));
  record->key_nonce = g_strdup (member_string (entry, "keyDecryptionNonce"));
  record->file_header = g_strdup (member_string (member_object (entry, "file"), "decryptionHeader"));
  record->file_size = member_int_or (member_object (entry, "info"), "fileSize", 0);
  record->creation_time = member_int_or (metadata, "creationTime", 0);
  record->updation_time = member_int_or (entry, "updationTime", 0);

  return g_steal_pointer (&record);
}

static void
decrypt_page_worker (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  DiffPage *page = task_data;
  JsonObject *root = JSON_NODE_HOLDS_OBJECT (page->page) ? json_node_get_object (page->page) : NULL;
  JsonNode *diff = root != NULL ? json_object_get_member (root, "diff") : NULL;
  JsonArray *array;

  if (diff == NULL || !JSON_NODE_HOLDS_ARRAY (diff))
    {
      g_task_return_new_error (task, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                               "The server's file diff has no entries");
      return;
    }

  array = json_node_get_array (diff);
  page->has_more = member_true (root, "hasMore");
  page->n_entries = json_array_get_length (array);
  page->max_time = page->since;
  page->records = g_ptr_array_new_with_free_func ((GDestroyNotify) eider_remote_file_record_free);
  page->deleted = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < page->n_entries; i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autoptr(GError) error = NULL;
      EiderRemoteFileRecord *record;
      JsonObject *entry;
      gint64 id;

      if (g_task_return_error_if_cancelled (task))
        return;
      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      entry = json_node_get_object (element);
      page->max_time = MAX (page->max_time, member_int_or (entry, "updationTime", 0));
      if (!member_int (entry, "id", &id))
        continue;

      /* Never decrypt a tombstone: its fields may be scrubbed (§7.2). */
      if (member_true (entry, "isDeleted"))
        {
          g_array_append_val (page->deleted, id);
          continue;
        }

      /* Only the user's own files take part in dedupe and add-files. */
      if (member_int_or (entry, "ownerID", page->user_id) != page->user_id)
        continue;

      record = decrypt_entry (entry, id, page->key, &error);
      if (record == NULL)
        {
          g_warning ("File %" G_GINT64_FORMAT " in album %" G_GINT64_FORMAT " skipped: %s",
                     id, page->collection_id, error->message);
          continue;
        }
      record->collection_id = page->collection_id;
      g_ptr_array_add (page->records, record);
    }

  g_task_return_boolean (task, TRUE);
}

/* One collection to diff; files_since is the running cursor. */
typedef struct
{
  gint64 id;
  gint64 updation_time;
  gint64 files_since;
} SyncItem;

typedef struct
{
  GArray *queue;   /* SyncItem */
  guint   next;
} SyncData;

static void
sync_data_free (SyncData *data)
{
  g_clear_pointer (&data->queue, g_array_unref);
  g_free (data);
}

static void sync_next_collection (GTask *task);

static void
diff_page_done_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderRemote *self = g_task_get_source_object (task);
  SyncData *data = g_task_get_task_data (task);
  SyncItem *item = &g_array_index (data->queue, SyncItem, data->next);
  DiffPage *page = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gint64 cursor;
  gboolean done;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* A tombstone applied meanwhile (another pull): nothing to write. */
  {
    g_autoptr(EiderCollectionRecord) still = eider_store_get_collection (self->store, item->id);

    if (still == NULL || still->is_deleted)
      {
        data->next++;
        sync_next_collection (g_steal_pointer (&task));
        return;
      }
  }

  /* An empty page, or the last one: the collection is complete up to its
   * updationTime (which is ≥ every file's). */
  done = page->n_entries == 0 || !page->has_more || page->max_time <= item->files_since;
  cursor = done ? MAX (page->max_time, item->updation_time) : page->max_time;

  if (!eider_store_begin (self->store, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  for (guint i = 0; i < page->deleted->len; i++)
    if (!eider_store_delete_remote_file (self->store, g_array_index (page->deleted, gint64, i),
                                         item->id, &error))
      goto failed;
  for (guint i = 0; i < page->records->len; i++)
    if (!eider_store_upsert_remote_file (self->store, g_ptr_array_index (page->records, i), &error))
      goto failed;
  if (!eider_store_set_collection_cursor (self->store, item->id, cursor, &error) ||
      !eider_store_commit (self->store, &error))
    goto failed;

  item->files_since = cursor;
  if (done)
    data->next++;
  sync_next_collection (g_steal_pointer (&task));
  return;

failed:
  eider_store_rollback (self->store);
  g_task_return_error (task, g_steal_pointer (&error));
}

static void
diff_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderRemote *self = g_task_get_source_object (task);
  SyncData *data = g_task_get_task_data (task);
  SyncItem *item = &g_array_index (data->queue, SyncItem, data->next);
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) worker = NULL;
  DiffPage *page;
  JsonNode *node;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      /* Deleted or unshared meanwhile: the next collection pull says so. */
      if (g_error_matches (error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_FOUND) ||
          g_error_matches (error, EIDER_API_ERROR, EIDER_API_ERROR_FORBIDDEN))
        {
          g_debug ("Album %" G_GINT64_FORMAT " is gone: %s", item->id, error->message);
          data->next++;
          sync_next_collection (g_steal_pointer (&task));
          return;
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  page = g_new0 (DiffPage, 1);
  page->page = node;
  page->collection_id = item->id;
  page->user_id = eider_account_get_user_id (self->account);
  page->since = item->files_since;
  if ((page->key = eider_remote_get_collection_key (self, item->id, &error)) == NULL)
    {
      diff_page_free (page);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  worker = g_task_new (self, g_task_get_cancellable (task), diff_page_done_cb, g_object_ref (task));
  g_task_set_source_tag (worker, decrypt_page_worker);
  g_task_set_task_data (worker, page, (GDestroyNotify) diff_page_free);
  g_task_run_in_thread (worker, decrypt_page_worker);
}

static void
sync_next_collection (GTask *task)
{
  EiderRemote *self = g_task_get_source_object (task);
  SyncData *data = g_task_get_task_data (task);
  g_autofree char *path = NULL;
  SyncItem *item;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  if (data->next >= data->queue->len)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  item = &g_array_index (data->queue, SyncItem, data->next);
  path = g_strdup_printf ("/collections/v2/diff?collectionID=%" G_GINT64_FORMAT
                          "&sinceTime=%" G_GINT64_FORMAT, item->id, item->files_since);
  eider_api_call_async (eider_account_get_api (self->account), "GET", path, NULL,
                        EIDER_API_CALL_AUTH, g_task_get_cancellable (task), diff_cb, task);
}

static void
sync_collections_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderRemote *self = EIDER_REMOTE (object);
  SyncData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;

  if (!pull_collections_finish (self, result, &error) ||
      (list = eider_store_list_collections (self->store, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < list->len; i++)
    {
      EiderCollectionRecord *record = g_ptr_array_index (list, i);
      SyncItem item = { record->id, record->updation_time, record->files_since };

      if (is_own_live (self, record) && record->files_since < record->updation_time)
        g_array_append_val (data->queue, item);
    }

  sync_next_collection (g_steal_pointer (&task));
}

void
eider_remote_sync_async (EiderRemote         *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task;
  SyncData *data;

  g_return_if_fail (EIDER_IS_REMOTE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_remote_sync_async);
  data = g_new0 (SyncData, 1);
  data->queue = g_array_new (FALSE, FALSE, sizeof (SyncItem));
  g_task_set_task_data (task, data, (GDestroyNotify) sync_data_free);

  pull_collections_async (self, cancellable, sync_collections_cb, task);
}

gboolean
eider_remote_sync_finish (EiderRemote   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------ */
/* Finding or creating albums                                               */

typedef struct
{
  EiderRemote *self;
  char        *pending_key;
  char        *name;           /* NULL: Uncategorized */
  gboolean     pulled;
} EnsureData;

static void
ensure_data_free (EnsureData *data)
{
  g_clear_object (&data->self);
  g_free (data->pending_key);
  g_free (data->name);
  g_free (data);
}

/* Hands the outcome to every caller waiting for this name, and ends. */
static void
ensure_complete (EnsureData *data,
                 gint64      id,
                 GError     *error)
{
  g_autoptr(GPtrArray) waiters = NULL;
  gpointer key;

  if (g_hash_table_steal_extended (data->self->pending, data->pending_key, &key, (gpointer *) &waiters))
    g_free (key);

  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    {
      GTask *waiter = g_ptr_array_index (waiters, i);

      if (error != NULL)
        g_task_return_error (waiter, g_error_copy (error));
      else
        g_task_return_int (waiter, id);
    }

  g_clear_error (&error);
  ensure_data_free (data);
}

static void
ensure_created_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  EnsureData *data = user_data;
  g_autoptr(JsonNode) node = NULL;
  GError *error = NULL;
  JsonObject *collection = NULL;
  gint64 id = 0;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node != NULL)
    {
      collection = JSON_NODE_HOLDS_OBJECT (node) ? member_object (json_node_get_object (node), "collection") : NULL;
      if (collection == NULL)
        error = g_error_new_literal (EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                                     "The server did not return the new album");
    }

  if (error == NULL && !apply_collection (data->self, collection, &id, &error))
    id = 0;

  ensure_complete (data, id, error);
}

/* POST /collections (spec/ente-upload.md §9.3): a fresh key wrapped with the
 * master key, the name sealed with the new key. */
static void
ensure_create (EnsureData *data)
{
  g_autoptr(EiderSecret) key = eider_secret_new_random (EIDER_KEY_BYTES);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *wrapped = NULL;
  g_autofree char *wrapped_nonce = NULL;
  g_autofree char *name_b64 = NULL;
  g_autofree char *name_nonce_b64 = NULL;
  g_autofree guint8 *ct = NULL;
  const char *name = data->name != NULL ? data->name : "Uncategorized";
  guint8 nonce[EIDER_NONCE_BYTES];
  const EiderSecret *master;
  GError *error = NULL;
  gsize len = strlen (name);

  if ((master = master_key (data->self, &error)) == NULL)
    {
      ensure_complete (data, 0, error);
      return;
    }

  eider_crypto_wrap_key (key, master, &wrapped, &wrapped_nonce);
  ct = g_malloc (len + EIDER_MAC_BYTES);
  eider_secretbox_seal ((const guint8 *) name, len, eider_secret_peek (key), nonce, ct);
  name_b64 = eider_base64_encode (ct, len + EIDER_MAC_BYTES);
  name_nonce_b64 = eider_base64_encode (nonce, sizeof nonce);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "encryptedKey");
  json_builder_add_string_value (builder, wrapped);
  json_builder_set_member_name (builder, "keyDecryptionNonce");
  json_builder_add_string_value (builder, wrapped_nonce);
  json_builder_set_member_name (builder, "encryptedName");
  json_builder_add_string_value (builder, name_b64);
  json_builder_set_member_name (builder, "nameDecryptionNonce");
  json_builder_add_string_value (builder, name_nonce_b64);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, data->name != NULL ? "album" : "uncategorized");
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  eider_api_call_async (eider_account_get_api (data->self->account), "POST", "/collections", body,
                        EIDER_API_CALL_AUTH, NULL, ensure_created_cb, data);
}

static void ensure_step (EnsureData *data);

static void
ensure_pulled_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  EnsureData *data = user_data;
  GError *error = NULL;

  if (!pull_collections_finish (EIDER_REMOTE (object), result, &error))
    {
      ensure_complete (data, 0, error);
      return;
    }

  data->pulled = TRUE;
  ensure_step (data);
}

/* Look in the index; if absent, pull collections and look again; if still
 * absent, create. */
static void
ensure_step (EnsureData *data)
{
  GError *error = NULL;
  gint64 id;

  if (data->name != NULL)
    id = find_album (data->self, data->name, &error);
  else
    id = find_uncategorized (data->self, &error);

  if (id != 0)
    ensure_complete (data, id, error);
  else if (!data->pulled)
    pull_collections_async (data->self, NULL, ensure_pulled_cb, data);
  else
    ensure_create (data);
}

static void
ensure_start (EiderRemote         *self,
              const char          *name,
              gpointer             source_tag,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  g_autofree char *pending_key = name != NULL ? g_strconcat ("album:", name, NULL) : g_strdup ("uncategorized");
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  GPtrArray *waiters;
  EnsureData *data;

  g_task_set_source_tag (task, source_tag);

  /* The shared work runs to its end whoever cancels: one caller's cancel
   * must not fail the others; a cancelled caller gets G_IO_ERROR_CANCELLED. */
  if ((waiters = g_hash_table_lookup (self->pending, pending_key)) != NULL)
    {
      g_ptr_array_add (waiters, task);
      return;
    }

  waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (waiters, task);
  g_hash_table_insert (self->pending, g_strdup (pending_key), waiters);

  data = g_new0 (EnsureData, 1);
  data->self = g_object_ref (self);
  data->pending_key = g_steal_pointer (&pending_key);
  data->name = g_strdup (name);
  ensure_step (data);
}

void
eider_remote_ensure_album_async (EiderRemote         *self,
                                 const char          *name,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (EIDER_IS_REMOTE (self));
  g_return_if_fail (name != NULL && g_utf8_validate (name, -1, NULL));

  ensure_start (self, name, eider_remote_ensure_album_async, cancellable, callback, user_data);
}

gint64
eider_remote_ensure_album_finish (EiderRemote   *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  gint64 id;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);

  id = g_task_propagate_int (G_TASK (result), error);

  return id > 0 ? id : 0;
}

void
eider_remote_ensure_uncategorized_async (EiderRemote         *self,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (EIDER_IS_REMOTE (self));

  ensure_start (self, NULL, eider_remote_ensure_uncategorized_async, cancellable, callback, user_data);
}

gint64
eider_remote_ensure_uncategorized_finish (EiderRemote   *self,
                                          GAsyncResult  *result,
                                          GError       **error)
{
  gint64 id;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);

  id = g_task_propagate_int (G_TASK (result), error);

  return id > 0 ? id : 0;
}

/* ------------------------------------------------------------------------ */
/* add-files and move-files                                                 */

typedef struct
{
  gint64     from;       /* move only; 0 for add */
  gint64     to;
  GPtrArray *files;      /* EiderRemoteFileRecord * (borrowed from the caller, referenced) */
  guint      next;
  GPtrArray *batch;      /* the new entries of the batch in flight */
} LinkData;

static void
link_data_free (LinkData *data)
{
  g_clear_pointer (&data->files, g_ptr_array_unref);
  g_clear_pointer (&data->batch, g_ptr_array_unref);
  g_free (data);
}

static void link_next_batch (GTask *task);

static void
link_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderRemote *self = g_task_get_source_object (task);
  LinkData *data = g_task_get_task_data (task);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!eider_store_begin (self->store, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  for (guint i = 0; i < data->batch->len; i++)
    {
      EiderRemoteFileRecord *record = g_ptr_array_index (data->batch, i);

      if ((data->from != 0 && !eider_store_delete_remote_file (self->store, record->id, data->from, &error)) ||
          !eider_store_upsert_remote_file (self->store, record, &error))
        {
          eider_store_rollback (self->store);
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }
  if (!eider_store_commit (self->store, &error))
    {
      eider_store_rollback (self->store);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  link_next_batch (g_steal_pointer (&task));
}

static void
link_next_batch (GTask *task)
{
  EiderRemote *self = g_task_get_source_object (task);
  LinkData *data = g_task_get_task_data (task);
  g_autoptr(EiderSecret) target_key = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) body = NULL;
  GError *error = NULL;
  guint end;

  if (data->next >= data->files->len)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  if ((target_key = eider_remote_get_collection_key (self, data->to, &error)) == NULL)
    goto failed;

  g_clear_pointer (&data->batch, g_ptr_array_unref);
  data->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) eider_remote_file_record_free);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  if (data->from != 0)
    {
      json_builder_set_member_name (builder, "fromCollectionID");
      json_builder_add_int_value (builder, data->from);
      json_builder_set_member_name (builder, "toCollectionID");
      json_builder_add_int_value (builder, data->to);
    }
  else
    {
      json_builder_set_member_name (builder, "collectionID");
      json_builder_add_int_value (builder, data->to);
    }
  json_builder_set_member_name (builder, "files");
  json_builder_begin_array (builder);

  end = MIN (data->files->len, data->next + BATCH_SIZE);
  for (; data->next < end; data->next++)
    {
      EiderRemoteFileRecord *source = g_ptr_array_index (data->files, data->next);
      g_autoptr(EiderSecret) source_key = NULL;
      g_autoptr(EiderSecret) file_key = NULL;
      EiderRemoteFileRecord *record;

      if (data->from != 0 && source->collection_id != data->from)
        {
          error = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "File %" G_GINT64_FORMAT " is not in album %" G_GINT64_FORMAT,
                               source->id, data->from);
          goto failed;
        }
      if ((source_key = eider_remote_get_collection_key (self, source->collection_id, &error)) == NULL ||
          (file_key = eider_crypto_unwrap_key (source->encrypted_key, source->key_nonce,
                                               source_key, &error)) == NULL)
        goto failed;

      record = remote_file_record_copy (source);
      record->collection_id = data->to;
      g_clear_pointer (&record->encrypted_key, g_free);
      g_clear_pointer (&record->key_nonce, g_free);
      eider_crypto_wrap_key (file_key, target_key, &record->encrypted_key, &record->key_nonce);
      g_ptr_array_add (data->batch, record);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, record->id);
      json_builder_set_member_name (builder, "encryptedKey");
      json_builder_add_string_value (builder, record->encrypted_key);
      json_builder_set_member_name (builder, "keyDecryptionNonce");
      json_builder_add_string_value (builder, record->key_nonce);
      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  eider_api_call_async (eider_account_get_api (self->account), "POST",
                        data->from != 0 ? "/collections/move-files" : "/collections/add-files",
                        body, EIDER_API_CALL_AUTH, g_task_get_cancellable (task), link_cb, task);
  return;

failed:
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
link_start (EiderRemote         *self,
            gpointer             source_tag,
            gint64               from,
            gint64               to,
            GPtrArray           *files,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  LinkData *data = g_new0 (LinkData, 1);

  g_task_set_source_tag (task, source_tag);
  data->from = from;
  data->to = to;
  data->files = g_ptr_array_ref (files);
  g_task_set_task_data (task, data, (GDestroyNotify) link_data_free);

  link_next_batch (task);
}

void
eider_remote_add_files_async (EiderRemote         *self,
                              gint64               target_collection_id,
                              GPtrArray           *files,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (EIDER_IS_REMOTE (self));
  g_return_if_fail (files != NULL);

  link_start (self, eider_remote_add_files_async, 0, target_collection_id, files,
              cancellable, callback, user_data);
}

gboolean
eider_remote_add_files_finish (EiderRemote   *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
eider_remote_move_files_async (EiderRemote         *self,
                               gint64               from_collection_id,
                               gint64               to_collection_id,
                               GPtrArray           *files,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (EIDER_IS_REMOTE (self));
  g_return_if_fail (files != NULL);
  g_return_if_fail (from_collection_id != 0 && from_collection_id != to_collection_id);

  link_start (self, eider_remote_move_files_async, from_collection_id, to_collection_id, files,
              cancellable, callback, user_data);
}

gboolean
eider_remote_move_files_finish (EiderRemote   *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------ */
/* Renames: public magic metadata                                           */

EiderSecret *
eider_remote_get_file_key (EiderRemote  *self,
                           gint64        file_id,
                           gint64        collection_id,
                           GError      **error)
{
  g_autoptr(EiderRemoteFileRecord) entry = NULL;
  g_autoptr(EiderSecret) collection_key = NULL;

  g_return_val_if_fail (EIDER_IS_REMOTE (self), NULL);

  entry = eider_store_get_remote_file (self->store, file_id, collection_id);
  if (entry == NULL)
    {
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND,
                   "File %" G_GINT64_FORMAT " is not in the album any more", file_id);
      return NULL;
    }

  if ((collection_key = eider_remote_get_collection_key (self, entry->collection_id, error)) == NULL)
    return NULL;

  return eider_crypto_unwrap_key (entry->encrypted_key, entry->key_nonce, collection_key, error);
}

typedef struct
{
  EiderRemoteFileRecord *entry;
  char                  *pubmm_json;
} RenameData;

static void
rename_data_free (RenameData *data)
{
  eider_remote_file_record_free (data->entry);
  g_free (data->pubmm_json);
  g_free (data);
}

static void
rename_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderRemote *self = g_task_get_source_object (task);
  RenameData *data = g_task_get_task_data (task);
  g_autoptr(JsonNode) reply = NULL;
  GError *error = NULL;

  reply = eider_api_call_finish (EIDER_API (object), result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* The server keeps version + 1; the index follows at once, so that the
   * dedupe sees the new name before the next diff. */
  data->entry->pubmm_version++;
  g_free (data->entry->pubmm_json);
  data->entry->pubmm_json = g_steal_pointer (&data->pubmm_json);
  if (!eider_store_update_remote_file (self->store, data->entry, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/**
 * eider_remote_rename_file_async:
 * @self: a remote
 * @file_id: an Ente file of this account
 * @title: its new name
 *
 * Renames a file as Ente's apps do: the name goes into its public magic
 * metadata ("editedName"), merged with the keys already there, at the
 * version the server holds. Nothing is uploaded again.
 */
void
eider_remote_rename_file_async (EiderRemote         *self,
                                gint64               file_id,
                                const char          *title,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(EiderSecret) file_key = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonObject) data_object = NULL;
  g_autoptr(JsonNode) data_node = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(GBytes) ct = NULL;
  g_autofree char *data_b64 = NULL;
  g_autofree char *header_b64 = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  RenameData *data;
  GError *error = NULL;

  g_return_if_fail (EIDER_IS_REMOTE (self));
  g_return_if_fail (title != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_remote_rename_file_async);
  data = g_new0 (RenameData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) rename_data_free);

  data->entry = eider_store_get_remote_file (self->store, file_id, 0);
  if (data->entry == NULL ||
      (file_key = eider_remote_get_file_key (self, file_id, data->entry->collection_id, &error)) == NULL)
    {
      if (error == NULL)
        error = g_error_new (EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND,
                             "File %" G_GINT64_FORMAT " is not in Ente any more", file_id);
      g_task_return_error (task, error);
      return;
    }

  /* Every key already there stays (Ente refuses a count that drops). */
  if (data->entry->pubmm_json != NULL &&
      json_parser_load_from_data (parser, data->entry->pubmm_json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    data_object = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
  else
    data_object = json_object_new ();
  json_object_set_string_member (data_object, "editedName", title);
  data_node = json_node_init_object (json_node_alloc (), data_object);
  data->pubmm_json = json_to_string (data_node, FALSE);

  ct = eider_blob_encrypt ((const guint8 *) data->pubmm_json, strlen (data->pubmm_json),
                           file_key, header);
  data_b64 = eider_base64_encode (g_bytes_get_data (ct, NULL), g_bytes_get_size (ct));
  header_b64 = eider_base64_encode (header, sizeof header);

  g_free (data->entry->title);
  data->entry->title = g_strdup (title);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "metadataList");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, file_id);
  json_builder_set_member_name (builder, "magicMetadata");
  json_builder_begin_object (builder);
  /* A file without public magic metadata starts at version 1, as Ente's
   * apps do (museum requires a non-zero version). */
  if (data->entry->pubmm_version == 0)
    data->entry->pubmm_version = 1;
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, data->entry->pubmm_version);
  json_builder_set_member_name (builder, "count");
  json_builder_add_int_value (builder, json_object_get_size (data_object));
  json_builder_set_member_name (builder, "data");
  json_builder_add_string_value (builder, data_b64);
  json_builder_set_member_name (builder, "header");
  json_builder_add_string_value (builder, header_b64);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  eider_api_call_async (eider_account_get_api (self->account), "PUT",
                        "/files/public-magic-metadata", body, EIDER_API_CALL_AUTH,
                        cancellable, rename_cb, g_steal_pointer (&task));
}

gboolean
eider_remote_rename_file_finish (EiderRemote   *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------ */
/* Uploads and dedupe                                                       */

gboolean
eider_remote_note_uploaded (EiderRemote  *self,
                            gint64        collection_id,
                            JsonNode     *file_json,
                            const char   *title,
                            gint          file_type,
                            const char   *hash,
                            gint64        creation_time,
                            GError      **error)
{
  EiderRemoteFileRecord record = { 0 };
  g_autoptr(EiderRemoteFileRecord) full = NULL;
  JsonObject *file;
  gint64 size;

  g_return_val_if_fail (EIDER_IS_REMOTE (self), FALSE);
  g_return_val_if_fail (file_json != NULL, FALSE);
  g_return_val_if_fail (title != NULL, FALSE);

  file = JSON_NODE_HOLDS_OBJECT (file_json) ? json_node_get_object (file_json) : NULL;
  if (!member_int (file, "id", &record.id) ||
      member_string (file, "encryptedKey") == NULL ||
      member_string (file, "keyDecryptionNonce") == NULL)
    {
      g_set_error_literal (error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                           "The server's reply to POST /files has no file id or key");
      return FALSE;
    }

  if (!member_int (member_object (file, "info"), "fileSize", &size))
    size = member_int_or (member_object (file, "file"), "size", 0);

  record.collection_id = collection_id;
  record.title = (char *) title;
  record.file_type = file_type;
  record.hash = (char *) hash;
  record.encrypted_key = (char *) member_string (file, "encryptedKey");
  record.key_nonce = (char *) member_string (file, "keyDecryptionNonce");
  record.file_header = (char *) member_string (member_object (file, "file"), "decryptionHeader");
  record.file_size = size;
  record.creation_time = creation_time;
  record.updation_time = member_int_or (file, "updationTime", 0);

  /* Sent with public magic metadata: its version and keys, for renames. */
  if (member_object (file, "pubMagicMetadata") != NULL)
    {
      g_autoptr(EiderSecret) collection_key = NULL;

      collection_key = eider_remote_get_collection_key (self, collection_id, NULL);
      if (collection_key != NULL &&
          (full = decrypt_entry (file, record.id, collection_key, NULL)) != NULL)
        {
          record.pubmm_version = full->pubmm_version;
          record.pubmm_json = full->pubmm_json;
        }
    }

  return eider_store_upsert_remote_file (self->store, &record, error);
}

GPtrArray *
eider_remote_find_duplicates (EiderRemote *self,
                              const char  *title,
                              gint         file_type,
                              const char  *hash)
{
  g_autoptr(GPtrArray) matches = NULL;
  g_autoptr(GHashTable) hidden = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GError) error = NULL;
  GPtrArray *result;

  g_return_val_if_fail (EIDER_IS_REMOTE (self), NULL);

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) eider_remote_file_record_free);
  if (title == NULL || hash == NULL || *hash == '\0')
    return result;

  matches = eider_store_find_remote_files (self->store, title, file_type, hash, &error);
  if (matches == NULL)
    {
      g_warning ("Cannot search the remote index: %s", error->message);
      return result;
    }

  /* A file that sits in any hidden album takes no part (§10.1). Every entry
   * of one file has the same title, type and hash, so all are here. */
  for (guint i = 0; i < matches->len; i++)
    {
      EiderRemoteFileRecord *record = g_ptr_array_index (matches, i);

      if (eider_remote_is_collection_hidden (self, record->collection_id))
        g_hash_table_add (hidden, &record->id);
    }

  for (guint i = 0; i < matches->len; i++)
    {
      EiderRemoteFileRecord *record = g_ptr_array_index (matches, i);

      if (!g_hash_table_contains (hidden, &record->id))
        g_ptr_array_add (result, remote_file_record_copy (record));
    }

  return result;
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static void
eider_remote_dispose (GObject *object)
{
  EiderRemote *self = EIDER_REMOTE (object);

  /* Wipes every decrypted collection key (EiderSecret frees are wiping). */
  g_hash_table_remove_all (self->keys);
  g_clear_object (&self->account);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (eider_remote_parent_class)->dispose (object);
}

static void
eider_remote_finalize (GObject *object)
{
  EiderRemote *self = EIDER_REMOTE (object);

  g_clear_pointer (&self->keys, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);

  G_OBJECT_CLASS (eider_remote_parent_class)->finalize (object);
}

static void
eider_remote_class_init (EiderRemoteClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_remote_dispose;
  object_class->finalize = eider_remote_finalize;
}

static void
eider_remote_init (EiderRemote *self)
{
  self->keys = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                      (GDestroyNotify) eider_secret_free);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);
}

EiderRemote *
eider_remote_new (EiderAccount *account,
                  EiderStore   *store)
{
  EiderRemote *self;

  g_return_val_if_fail (EIDER_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (EIDER_IS_STORE (store), NULL);

  self = g_object_new (EIDER_TYPE_REMOTE, NULL);
  self->account = g_object_ref (account);
  self->store = g_object_ref (store);

  return self;
}
