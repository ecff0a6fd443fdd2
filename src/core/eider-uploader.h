/* eider-uploader.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "eider-api.h"
#include "eider-crypto.h"
#include "eider-store.h"

G_BEGIN_DECLS

/* Encrypting and uploading one file as Ente's web client does
 * (spec/ente-upload.md §2, §8, §9.1), resumably.
 *
 * 1. eider_upload_prepare() (any thread, no GObject): one read of the file
 *    gives the BLAKE2b hash, the secretstream ciphertext's size and the
 *    Content-MD5 of every S3 part; files up to 16 MiB stay in memory, as
 *    plaintext (for thumbnails) and as the ciphertext that is sent.
 * 2. eider_upload_record_set_blobs() (any thread): metadata, public magic
 *    metadata and thumbnail, encrypted with the file key.
 * 3. EiderUploader (main thread): upload URLs, PUT (the kept ciphertext,
 *    or the file re-encrypted part by part: same key and header, same
 *    bytes), completion, thumbnail, POST /files. Each step is saved in the
 *    store before the next begins, so a crash anywhere resumes without
 *    re-sending an acknowledged part and without a second file record.
 *
 * Thread contract: the free functions are thread-safe; EiderUploader is
 * main-thread only (signals are emitted on the thread-default main context
 * it was created in).
 */

#define EIDER_UPLOAD_ERROR (eider_upload_error_quark ())

typedef enum
{
  EIDER_UPLOAD_ERROR_CHANGED,      /* the file changed (or vanished) since it was read */
  EIDER_UPLOAD_ERROR_TRANSIENT,    /* network, 5xx or 429 even after retries: try later */
  EIDER_UPLOAD_ERROR_FAILED,       /* anything else (the message says what) */
  EIDER_UPLOAD_ERROR_NOT_REGULAR,  /* not a regular file (symlink, FIFO, device…) */
  EIDER_UPLOAD_ERROR_TOO_LARGE,    /* ≥ 10 GiB */
  EIDER_UPLOAD_ERROR_EMPTY,        /* 0 bytes: Ente never uploads those */
} EiderUploadError;

GQuark eider_upload_error_quark (void);

/* Ente's limits and web's part plan. */
#define EIDER_UPLOAD_MAX_PLAIN_SIZE     (G_GINT64_CONSTANT (10) * 1024 * 1024 * 1024)
#define EIDER_UPLOAD_SINGLE_MAX_PLAIN   (16 * 1024 * 1024)
#define EIDER_UPLOAD_CHUNKS_PER_PART    5
#define EIDER_UPLOAD_PART_SIZE          (EIDER_UPLOAD_CHUNKS_PER_PART * EIDER_STREAM_BLOCK_SIZE)

/* The object's plan for a plaintext of @plain_size bytes (> 0): its
 * encrypted size, the part length (0 for a single PUT) and the number of
 * parts (1 for a single PUT). */
void      eider_upload_plan_parts        (gint64               plain_size,
                                          gint64              *encrypted_size,
                                          gint64              *part_size,
                                          guint               *n_parts);
/* Length of part @index (0-based) of an object of @encrypted_size bytes. */
gint64    eider_upload_part_length       (gint64               encrypted_size,
                                          gint64               part_size,
                                          guint                index);
/* The CompleteMultipartUpload body, byte for byte as web builds it; ETags
 * are used verbatim (with their quotes). */
char     *eider_upload_completion_xml    (const char * const  *etags);

gboolean  eider_upload_prepare           (const char                *path,
                                          const EiderStat           *expected,
                                          gint64                     file_id,
                                          gint64                     collection_id,
                                          const EiderSecret         *collection_key,
                                          EiderUploadRecord        **record_out,
                                          char                     **hash_out,
                                          GBytes                   **content_out,
                                          GBytes                   **body_out,
                                          EiderCryptoProgress        progress,
                                          gpointer                   progress_data,
                                          GCancellable              *cancellable,
                                          GError                   **error);

gboolean  eider_upload_prepare_replacement (const char              *path,
                                            const EiderStat         *expected,
                                            gint64                   file_id,
                                            gint64                   replaces_id,
                                            gint64                   collection_id,
                                            const EiderSecret       *collection_key,
                                            const EiderSecret       *file_key,
                                            EiderUploadRecord      **record_out,
                                            char                   **hash_out,
                                            GBytes                 **content_out,
                                            GBytes                 **body_out,
                                            EiderCryptoProgress      progress,
                                            gpointer                 progress_data,
                                            GCancellable            *cancellable,
                                            GError                 **error);

gboolean  eider_upload_record_set_blobs  (EiderUploadRecord         *record,
                                          const EiderSecret         *collection_key,
                                          const char                *metadata_json,
                                          const char                *pubmm_json,
                                          guint                      pubmm_count,
                                          GBytes                    *thumbnail_jpeg,
                                          GError                   **error);

/* The POST /files body (§9.1) for a record whose objects are stored. */
JsonNode *eider_upload_record_to_json    (const EiderUploadRecord   *record);

#define EIDER_TYPE_UPLOADER (eider_uploader_get_type ())
G_DECLARE_FINAL_TYPE (EiderUploader, eider_uploader, EIDER, UPLOADER, GObject)

EiderUploader *eider_uploader_new           (EiderApi                 *api,
                                             EiderStore               *store);
EiderApi      *eider_uploader_get_api       (EiderUploader            *self);
EiderStore    *eider_uploader_get_store     (EiderUploader            *self);
guint          eider_uploader_get_retry_delay_ms (EiderUploader       *self);
void           eider_uploader_set_bandwidth_limit (EiderUploader      *self,
                                                   guint64             bytes_per_second);
void           eider_uploader_set_retry_delay_ms (EiderUploader       *self,
                                                  guint                delay_ms);

void           eider_uploader_upload_async  (EiderUploader            *self,
                                             const EiderUploadRecord  *record,
                                             const char               *path,
                                             GBytes                   *body,
                                             const EiderSecret        *collection_key,
                                             GCancellable             *cancellable,
                                             GAsyncReadyCallback       callback,
                                             gpointer                  user_data);
JsonNode      *eider_uploader_upload_finish (EiderUploader            *self,
                                             GAsyncResult             *result,
                                             GError                  **error);

G_END_DECLS
