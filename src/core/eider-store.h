/* eider-store.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "eider-core-enums.h"
#include "eider-reason.h"

G_BEGIN_DECLS

/* Eider's state in one SQLite database (WAL, schema versioned with
 * migrations): watched folders, every local file in exactly one state,
 * uploads in flight (enough to resume mid-file after a crash), and the
 * remote index (collections and their files) synced with sinceTime diffs.
 *
 * Nothing secret is stored in the clear: file keys of uploads in flight are
 * kept wrapped with their collection key, collection keys wrapped with the
 * master key, exactly as the server holds them.
 *
 * Thread contract: main-thread only (one connection, owned by the engine).
 * Other processes (eiderctl status while the daemon runs) open their own
 * connection; WAL lets them read concurrently.
 */

#define EIDER_STORE_ERROR (eider_store_error_quark ())

typedef enum
{
  EIDER_STORE_ERROR_FAILED,
  EIDER_STORE_ERROR_NOT_FOUND,
  EIDER_STORE_ERROR_EXISTS,
  EIDER_STORE_ERROR_TOO_NEW,
  EIDER_STORE_ERROR_INVALID_TRANSITION,  /* a file-state change the store does not allow */
} EiderStoreError;

GQuark eider_store_error_quark (void);

typedef enum
{
  EIDER_MAPPING_ONE_ALBUM,         /* Ente desktop "root" */
  EIDER_MAPPING_ALBUM_PER_FOLDER,  /* Ente desktop "parent" */
} EiderMapping;

typedef enum
{
  EIDER_FILE_PENDING,
  EIDER_FILE_WORKING,
  EIDER_FILE_UPLOADED,
  EIDER_FILE_SKIPPED,
  EIDER_FILE_FAILED,
} EiderFileState;

const char *eider_file_state_to_string (EiderFileState state);

typedef struct
{
  gint64        id;
  char         *path;        /* absolute, in the file system's encoding */
  EiderMapping  mapping;
  char         *album_name;  /* ONE_ALBUM: the album (default: the folder's name) */
  gboolean      paused;
  gboolean      keep_edits;    /* an edited file is uploaded as a new one (default: replaced) */
  gboolean      keep_deleted;  /* a deleted file stays in the album (default: leaves it) */
} EiderWatch;

void eider_watch_free (EiderWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderWatch, eider_watch_free)

/* What stat() said last time; a file whose stat is unchanged is not read. */
typedef struct
{
  guint64 dev;
  guint64 inode;
  gint64  size;
  gint64  mtime_ns;
  gint64  ctime_ns;
} EiderStat;

typedef struct
{
  gint64          id;
  gint64          watch_id;
  char           *path;
  char           *album_name;
  EiderStat       stat;
  EiderFileState  state;
  EiderReason     reason_code;     /* skipped/failed: why; uploaded: how */
  char           *reason_details;  /* what goes with it (eider_reason_describe()) */
  gint            attempts;
  gint64          next_retry_us;   /* failed: not before (µs, real time) */
  char           *hash;            /* BLAKE2b-512, base64, once known */
  gint            file_type;       /* 0 image, 1 video, 2 live photo, -1 unknown */
  gint64          remote_file_id;  /* uploaded: Ente's file id */
  gint64          collection_id;   /* uploaded: the album it went to */
} EiderFileRecord;

void eider_file_record_free (EiderFileRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderFileRecord, eider_file_record_free)

/* An upload in flight: everything needed to continue after a crash. Parts
 * are re-encrypted with the same file key and header (secretstream is
 * deterministic given both), so part MD5s and bytes come out identical. */
typedef struct
{
  gint64   file_id;            /* EiderFileRecord.id */
  gint64   collection_id;
  char    *hash;
  gint64   plain_size;
  gint64   mtime_ns;           /* the content this upload is of */
  char    *encrypted_key;      /* file key, secretbox'd with the collection key */
  char    *key_nonce;
  char    *file_header;        /* b64, 24 bytes */
  gint64   encrypted_size;
  char    *object_key;         /* NULL until URLs were obtained */
  gint64   part_size;          /* 0 = single PUT */
  GStrv    part_md5s;          /* one per part (a single PUT has one) */
  GStrv    part_urls;          /* presigned; may have expired */
  char    *complete_url;       /* multipart only */
  gint64   urls_expire_us;
  GStrv    etags;              /* one per part; "" = not acknowledged yet */
  gboolean file_done;          /* object stored (PUT ok / multipart completed) */
  GBytes  *thumb_data;         /* the encrypted thumbnail, kept for retries */
  char    *thumb_object_key;
  char    *thumb_header;
  gint64   thumb_size;
  gboolean thumb_done;
  char    *metadata_data;      /* b64 secretstream blob of the metadata JSON */
  char    *metadata_header;
  char    *pubmm_data;         /* NULL when there is no public magic metadata */
  char    *pubmm_header;
  gint     pubmm_count;
  gint64   replaces_id;        /* > 0: new content of this Ente file (PUT /files/update) */
} EiderUploadRecord;

void               eider_upload_record_free (EiderUploadRecord *record);
EiderUploadRecord *eider_upload_record_copy (const EiderUploadRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderUploadRecord, eider_upload_record_free)

typedef struct
{
  gint64   id;
  gint64   owner_id;
  char    *type;            /* album, folder, favorites, uncategorized */
  char    *name;            /* decrypted */
  char    *encrypted_key;   /* as the server gives it (wrapped with the master key) */
  char    *key_nonce;
  gboolean is_deleted;
  gint64   updation_time;
  gint64   files_since;     /* diff cursor */
} EiderCollectionRecord;

void eider_collection_record_free (EiderCollectionRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderCollectionRecord, eider_collection_record_free)

typedef struct
{
  gint64  id;
  gint64  collection_id;
  char   *title;           /* editedName when set, else metadata.title */
  gint    file_type;
  char   *hash;
  char   *encrypted_key;   /* wrapped with the collection key */
  char   *key_nonce;
  char   *file_header;     /* to download and decrypt it (verify, export) */
  gint64  file_size;       /* info.fileSize: encrypted size, 0 when unknown */
  gint64  creation_time;
  gint64  updation_time;
  gint64  pubmm_version;   /* public magic metadata: version (0 = none) */
  char   *pubmm_json;      /* … and its decrypted data, NULL when none */
} EiderRemoteFileRecord;

void eider_remote_file_record_free (EiderRemoteFileRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderRemoteFileRecord, eider_remote_file_record_free)

typedef struct
{
  guint  n_by_state[EIDER_FILE_FAILED + 1];
  gint64 bytes_left;      /* sizes of pending + working + failed-to-retry */
} EiderStoreCounts;

#define EIDER_TYPE_STORE (eider_store_get_type ())
G_DECLARE_FINAL_TYPE (EiderStore, eider_store, EIDER, STORE, GObject)

EiderStore *eider_store_open                 (const char             *path,
                                              GError                **error);
const char *eider_store_get_path             (EiderStore             *self);
gint        eider_store_get_schema_version   (EiderStore             *self);
/* Write transactions committed and pages written since opening; closing
 * the store logs both (g_debug, "store closed: N transactions, M pages
 * written"). */
void        eider_store_get_write_counts     (EiderStore             *self,
                                              guint64                *transactions,
                                              guint64                *pages_written);

/* Transactions group writes; they nest (inner ones are no-ops). */
gboolean    eider_store_begin                (EiderStore             *self,
                                              GError                **error);
/* Grouped commits of the writes outside transactions (see the .c). */
void        eider_store_set_commit_delay     (EiderStore             *self,
                                              guint                   delay_ms);
gboolean    eider_store_flush                (EiderStore             *self,
                                              GError                **error);
gboolean    eider_store_commit               (EiderStore             *self,
                                              GError                **error);
void        eider_store_rollback             (EiderStore             *self);

/* Settings and cursors (small strings). */
char       *eider_store_get_meta             (EiderStore             *self,
                                              const char             *key);
gboolean    eider_store_set_meta             (EiderStore             *self,
                                              const char             *key,
                                              const char             *value,
                                              GError                **error);

/* Watches */
EiderWatch *eider_store_add_watch            (EiderStore             *self,
                                              const char             *path,
                                              EiderMapping            mapping,
                                              const char             *album_name,
                                              GError                **error);
GPtrArray  *eider_store_list_watches         (EiderStore             *self,
                                              GError                **error);
EiderWatch *eider_store_find_watch           (EiderStore             *self,
                                              const char             *path);
/* Forgets the watch and its local files' records; touches nothing remote. */
gboolean    eider_store_remove_watch         (EiderStore             *self,
                                              gint64                  watch_id,
                                              GError                **error);
gboolean    eider_store_set_watch_paused     (EiderStore             *self,
                                              gint64                  watch_id,
                                              gboolean                paused,
                                              GError                **error);
gboolean    eider_store_set_watch_options    (EiderStore             *self,
                                              gint64                  watch_id,
                                              gboolean                keep_edits,
                                              gboolean                keep_deleted,
                                              GError                **error);

/* Local files. A file's state changes only as one table in eider-store.c
 * allows (e.g. never uploaded → failed, skipped → anything but pending);
 * the functions below refuse any other change with
 * EIDER_STORE_ERROR_INVALID_TRANSITION and write nothing. */
EiderFileRecord *eider_store_get_file        (EiderStore             *self,
                                              gint64                  file_id);
EiderFileRecord *eider_store_find_file       (EiderStore             *self,
                                              const char             *path);
/* Inserts a new pending file, or — when the stat differs from the stored
 * one — resets an existing record to pending (new content). Returns the
 * record id; *changed tells whether anything was written. */
gint64      eider_store_note_file            (EiderStore             *self,
                                              gint64                  watch_id,
                                              const char             *path,
                                              const char             *album_name,
                                              const EiderStat        *stat,
                                              gboolean               *changed,
                                              GError                **error);
gboolean    eider_store_set_file_state       (EiderStore             *self,
                                              gint64                  file_id,
                                              EiderFileState          state,
                                              EiderReason             reason,
                                              const char             *details,
                                              GError                **error);
gboolean    eider_store_set_file_failed      (EiderStore             *self,
                                              gint64                  file_id,
                                              EiderReason             reason,
                                              const char             *details,
                                              gint64                  next_retry_us,
                                              GError                **error);
gboolean    eider_store_set_file_hash        (EiderStore             *self,
                                              gint64                  file_id,
                                              const char             *hash,
                                              gint                    file_type,
                                              GError                **error);
gboolean    eider_store_set_file_uploaded    (EiderStore             *self,
                                              gint64                  file_id,
                                              gint64                  remote_file_id,
                                              gint64                  collection_id,
                                              EiderReason             how,
                                              const char             *details,
                                              GError                **error);
gboolean    eider_store_delete_file          (EiderStore             *self,
                                              gint64                  file_id,
                                              GError                **error);
/* Files of a watch (all states), ordered by path. */
GPtrArray  *eider_store_list_files           (EiderStore             *self,
                                              gint64                  watch_id,
                                              GError                **error);
/* Files directly in @dir whose name starts with @name_prefix (any state),
 * by path; through the path index. */
GPtrArray  *eider_store_list_files_in_dir    (EiderStore             *self,
                                              const char             *dir,
                                              const char             *name_prefix,
                                              GError                **error);
/* Files that should be worked on now: pending, working (interrupted), and
 * failed whose retry time has come; at most @limit, oldest first. */
GPtrArray  *eider_store_list_due_files       (EiderStore             *self,
                                              gint64                  now_us,
                                              guint                   limit,
                                              GError                **error);
GPtrArray  *eider_store_list_files_in_state  (EiderStore             *self,
                                              EiderFileState          state,
                                              GError                **error);
/* A page of the files in @state, in path order. */
GPtrArray  *eider_store_list_files_page      (EiderStore             *self,
                                              EiderFileState          state,
                                              guint                   offset,
                                              guint                   limit,
                                              GError                **error);
/* Files with an upload in flight of content @hash as a new Ente file. */
GPtrArray  *eider_store_list_uploading_files (EiderStore             *self,
                                              const char             *hash,
                                              GError                **error);
/* Failed → pending, attempts reset (eiderctl retry). Returns how many. */
guint       eider_store_retry_failed         (EiderStore             *self,
                                              GError                **error);
gboolean    eider_store_get_counts           (EiderStore             *self,
                                              EiderStoreCounts       *counts,
                                              GError                **error);
gboolean    eider_store_get_watch_counts     (EiderStore             *self,
                                              gint64                  watch_id,
                                              EiderStoreCounts       *counts,
                                              GError                **error);

/* Uploads in flight */
gboolean           eider_store_save_upload   (EiderStore             *self,
                                              const EiderUploadRecord *record,
                                              GError                **error);
gboolean           eider_store_save_upload_progress (EiderStore              *self,
                                                     const EiderUploadRecord *record,
                                                     GError                 **error);
EiderUploadRecord *eider_store_get_upload    (EiderStore             *self,
                                              gint64                  file_id);
gboolean           eider_store_set_part_etag (EiderStore             *self,
                                              gint64                  file_id,
                                              guint                   part_index,
                                              const char             *etag,
                                              GError                **error);
gboolean           eider_store_delete_upload (EiderStore             *self,
                                              gint64                  file_id,
                                              GError                **error);

/* Remote index */
gboolean    eider_store_upsert_collection    (EiderStore             *self,
                                              const EiderCollectionRecord *record,
                                              GError                **error);
gboolean    eider_store_delete_collection    (EiderStore             *self,
                                              gint64                  collection_id,
                                              GError                **error);
EiderCollectionRecord *eider_store_get_collection (EiderStore        *self,
                                                   gint64             collection_id);
GPtrArray  *eider_store_list_collections     (EiderStore             *self,
                                              GError                **error);
gboolean    eider_store_set_collection_cursor (EiderStore            *self,
                                               gint64                 collection_id,
                                               gint64                 files_since,
                                               GError               **error);
gboolean    eider_store_upsert_remote_file   (EiderStore             *self,
                                              const EiderRemoteFileRecord *record,
                                              GError                **error);
gboolean    eider_store_update_remote_file   (EiderStore             *self,
                                              const EiderRemoteFileRecord *record,
                                              GError                **error);
EiderRemoteFileRecord *eider_store_get_remote_file (EiderStore       *self,
                                              gint64                  file_id,
                                              gint64                  collection_id);
GPtrArray  *eider_store_list_remote_file_entries (EiderStore       *self,
                                              gint64                  file_id);
gboolean    eider_store_remote_file_in_use   (EiderStore             *self,
                                              gint64                  remote_file_id,
                                              gint64                  collection_id,
                                              gint64                  except_file_id);
gboolean    eider_store_delete_remote_file   (EiderStore             *self,
                                              gint64                  file_id,
                                              gint64                  collection_id,
                                              GError                **error);
/* Ente's desktop dedupe key: every remote entry with this title, type and
 * hash, in any collection. */
GPtrArray  *eider_store_find_remote_files    (EiderStore             *self,
                                              const char             *title,
                                              gint                    file_type,
                                              const char             *hash,
                                              GError                **error);

G_END_DECLS
