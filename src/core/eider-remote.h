/* eider-remote.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "eider-account.h"
#include "eider-crypto.h"
#include "eider-store.h"

G_BEGIN_DECLS

/* The account's albums and the remote index (spec/ente-auth.md §6–7,
 * spec/ente-upload.md §9.3, §10, §11, §12.3).
 *
 * EiderRemote pulls the user's own collections and their files into the
 * EiderStore with sinceTime diffs, resolves album names to collections the
 * way Ente's desktop app does (creating albums when needed), links existing
 * files into other albums without re-uploading them, and answers Ente's
 * desktop de-duplication question.
 *
 * Only collections the user owns are indexed: uploads only ever go to owned
 * collections, and shared ones are ignored. Collection keys are kept wrapped
 * in the store; decrypted keys live in guarded memory for the life of the
 * object and are wiped on dispose.
 *
 * Errors: museum errors come through as EIDER_API_ERROR (a 401 is also
 * signalled by the account's EiderApi), decryption failures as
 * EIDER_CRYPTO_ERROR, a collection that is not in the index (or not owned)
 * as EIDER_STORE_ERROR_NOT_FOUND, no master key as
 * EIDER_ACCOUNT_ERROR_NOT_LOGGED_IN.
 *
 * Thread contract: main-thread only; results arrive on the thread-default
 * main context of the caller. Decryption of diff pages runs in a GTask
 * thread that touches no GObject.
 */

#define EIDER_TYPE_REMOTE (eider_remote_get_type ())
G_DECLARE_FINAL_TYPE (EiderRemote, eider_remote, EIDER, REMOTE, GObject)

/* @account must be logged in when the methods run; @store is where the
 * index lives. Both are referenced. */
EiderRemote *eider_remote_new                     (EiderAccount         *account,
                                                   EiderStore           *store);

/* Pulls collections changed since the stored cursor (tombstones delete
 * locally), then the file diff of every owned collection whose file cursor
 * is behind its updationTime, page by page. Each page and its cursor are
 * written in one transaction, so an interrupted sync resumes where it
 * stopped. Entries that fail to decrypt are skipped with a warning. */
void         eider_remote_sync_async              (EiderRemote          *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean     eider_remote_sync_finish             (EiderRemote          *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* The decrypted key of an owned collection in the index.
 * Returns: (transfer full): a copy the caller frees. */
EiderSecret *eider_remote_get_collection_key      (EiderRemote          *self,
                                                   gint64                collection_id,
                                                   GError              **error);

/* Whether a collection in the index is hidden (owner-private magic metadata
 * visibility 2). Files in hidden collections take no part in dedupe. */
gboolean     eider_remote_is_collection_hidden    (EiderRemote          *self,
                                                   gint64                collection_id);

/* Ente's matchExistingOrCreateAlbum: the first owned, non-deleted
 * collection of type album, folder or uncategorized named exactly @name
 * that is not a quick link (hidden ones included); if the index has none,
 * collections are pulled once more, and if there is still none an album is
 * created. Concurrent calls for one name share one request and one album.
 * finish returns the collection id, or 0 with @error set. */
void         eider_remote_ensure_album_async      (EiderRemote          *self,
                                                   const char           *name,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gint64       eider_remote_ensure_album_finish     (EiderRemote          *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* The user's Uncategorized collection, created (once) if missing. */
void         eider_remote_ensure_uncategorized_async  (EiderRemote      *self,
                                                       GCancellable     *cancellable,
                                                       GAsyncReadyCallback callback,
                                                       gpointer          user_data);
gint64       eider_remote_ensure_uncategorized_finish (EiderRemote      *self,
                                                       GAsyncResult     *result,
                                                       GError          **error);

/* Links existing files (entries of the index, EiderRemoteFileRecord *,
 * each in its current collection) into @target_collection_id: each file
 * key is re-wrapped with the target's key and a fresh nonce, sent with
 * POST /collections/add-files in batches of at most 1000, and the new
 * (file, target) entries are added to the index after each batch. */
/* The key of an Ente file, from its entry in @collection_id (0: any). */
EiderSecret *eider_remote_get_file_key            (EiderRemote          *self,
                                                   gint64                file_id,
                                                   gint64                collection_id,
                                                   GError              **error);
/* Renames a file through its public magic metadata ("editedName"). */
void         eider_remote_rename_file_async       (EiderRemote          *self,
                                                   gint64                file_id,
                                                   const char           *title,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean     eider_remote_rename_file_finish      (EiderRemote          *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
void         eider_remote_add_files_async         (EiderRemote          *self,
                                                   gint64                target_collection_id,
                                                   GPtrArray            *files,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean     eider_remote_add_files_finish        (EiderRemote          *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* Moves files (EiderRemoteFileRecord * entries of @from_collection_id) to
 * @to_collection_id with POST /collections/move-files (at most 1000 per
 * call); the index follows after each batch. */
void         eider_remote_move_files_async        (EiderRemote          *self,
                                                   gint64                from_collection_id,
                                                   gint64                to_collection_id,
                                                   GPtrArray            *files,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean     eider_remote_move_files_finish       (EiderRemote          *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* Records a file just created with POST /files (@file_json is its reply)
 * in the index, with the plain facts the uploader already knows. */
gboolean     eider_remote_note_uploaded           (EiderRemote          *self,
                                                   gint64                collection_id,
                                                   JsonNode             *file_json,
                                                   const char           *title,
                                                   gint                  file_type,
                                                   const char           *hash,
                                                   gint64                creation_time,
                                                   GError              **error);

/* Ente's desktop dedupe candidates (spec/ente-upload.md §10.1): every index
 * entry with this title, file type and hash, except files that sit in a
 * hidden collection. Returns: (transfer container) (element-type
 * EiderRemoteFileRecord): possibly empty, never NULL. */
GPtrArray   *eider_remote_find_duplicates         (EiderRemote          *self,
                                                   const char           *title,
                                                   gint                  file_type,
                                                   const char           *hash);

G_END_DECLS
