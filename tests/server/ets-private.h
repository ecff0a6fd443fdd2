/* ets-private.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* eider-test-server internals. Everything runs on the main context: the
 * SoupServer delivers requests there and the single SQLite connection is
 * only ever touched from there.
 */

#define ETS_MICROS_PER_SECOND    G_GINT64_CONSTANT (1000000)
#define ETS_STATUS_TOO_MANY_REQUESTS 429
#define ETS_STATUS_UPGRADE_REQUIRED  426
#define ETS_GIB                  G_GINT64_CONSTANT (1073741824)
#define ETS_MIB                  G_GINT64_CONSTANT (1048576)
#define ETS_FREE_PLAN_STORAGE    (10 * ETS_GIB)
#define ETS_MAX_FILE_SIZE        (10 * ETS_GIB)
#define ETS_QUOTA_SLACK          (50 * ETS_MIB)
#define ETS_BATCH_LIMIT          1000
#define ETS_DIFF_LIMIT           2500
#define ETS_OTT_VALIDITY         (60 * 60 * ETS_MICROS_PER_SECOND)
#define ETS_OTT_ACTIVE_LIMIT     10
#define ETS_OTT_WRONG_LIMIT      20
#define ETS_PRESIGN_SECONDS      604800
#define ETS_TRASH_DELETE_AFTER   (G_GINT64_CONSTANT (30) * 24 * 3600 * ETS_MICROS_PER_SECOND)
#define ETS_TEMP_OBJECT_EXPIRY   (G_GINT64_CONSTANT (14) * 24 * 3600 * ETS_MICROS_PER_SECOND)
#define ETS_TWO_FACTOR_VALIDITY  (10 * 60 * ETS_MICROS_PER_SECOND)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

typedef struct _EtsServer EtsServer;
typedef struct _EtsFaults EtsFaults;

typedef enum
{
  ETS_APP_PHOTOS,
  ETS_APP_AUTH,
  ETS_APP_LOCKER,
} EtsApp;

struct _EtsServer
{
  SoupServer  *soup;
  GMainLoop   *loop;
  sqlite3     *db;
  char        *data_dir;
  char        *base_url;          /* "http://127.0.0.1:PORT", no trailing slash */
  char        *fixed_ott;
  char        *totp_secret;       /* handed out by /users/two-factor/setup, or NULL */
  gint64       quota;             /* plan storage for every account, -1 = 10 GiB */
  gboolean     no_subscription;   /* every plan is expired → 402 */
  gboolean     disable_registration;
  gboolean     log_requests;
  guint8       signing_key[32];
  gint64       last_time;         /* strictly increasing clock, µs */
  EtsFaults   *faults;
  guint        latency_ms;        /* --latency-ms: every answer waits this long */
  guint        upload_url_limit;  /* --upload-url-limit: calls a minute per user, 0 = none */
  GHashTable  *upload_url_calls;  /* user id → GQueue of the last minute's call times */
  guint64      n_requests;        /* requests started */
  guint64      n_connections;     /* connections that carried a request */
  guint64      bytes_received;    /* request body bytes */
};

/* One request as the route handlers see it. */
typedef struct
{
  EtsServer         *ets;
  SoupServerMessage *msg;
  const char        *method;
  const char        *path;
  GHashTable        *query;       /* decoded, never NULL */
  EtsApp             app;
  gint64             user_id;     /* set by ets_require_auth() */
  const char        *token;
} EtsRequest;

/* ets-db.c */
gboolean     ets_db_open            (EtsServer    *ets,
                                     GError      **error);
void         ets_db_close           (EtsServer    *ets);
gint64       ets_now                (EtsServer    *ets);
sqlite3_stmt *ets_db_prepare        (EtsServer    *ets,
                                     const char   *sql);
gboolean     ets_db_exec            (EtsServer    *ets,
                                     const char   *sql);
gboolean     ets_db_begin           (EtsServer    *ets);
gboolean     ets_db_commit          (EtsServer    *ets);
void         ets_db_rollback        (EtsServer    *ets);
gint64       ets_db_query_int       (EtsServer    *ets,
                                     gint64        fallback,
                                     const char   *sql,
                                     ...);
void         ets_bind_text_or_null  (sqlite3_stmt *stmt,
                                     int           index,
                                     const char   *text);
const char  *ets_column_text        (sqlite3_stmt *stmt,
                                     int           index);

gint64       ets_page_upper         (sqlite3_stmt *times,
                                     gboolean     *has_more);

/* ets-http.c: replies */
void         ets_set_json_response  (SoupServerMessage *msg,
                                     guint         status,
                                     const char   *text);
void         ets_reply_empty        (EtsRequest   *req,
                                     guint         status);
void         ets_reply_sentinel     (EtsRequest   *req,
                                     guint         status);
void         ets_reply_api_error    (EtsRequest   *req,
                                     guint         status,
                                     const char   *code,
                                     const char   *message);
void         ets_reply_middleware   (EtsRequest   *req,
                                     guint         status,
                                     const char   *error);
void         ets_reply_json         (EtsRequest   *req,
                                     guint         status,
                                     JsonNode     *node);
void         ets_reply_builder      (EtsRequest   *req,
                                     JsonBuilder  *builder);

/* ets-http.c: request parsing ("binding", with museum's rules) */
typedef struct
{
  gboolean ok;
} EtsBind;

JsonObject  *ets_body_object        (EtsRequest   *req);
const char  *ets_bind_string        (EtsBind      *bind,
                                     JsonObject   *obj,
                                     const char   *name,
                                     gboolean      required);
gint64       ets_bind_int           (EtsBind      *bind,
                                     JsonObject   *obj,
                                     const char   *name,
                                     gboolean      required);
gboolean     ets_bind_bool          (EtsBind      *bind,
                                     JsonObject   *obj,
                                     const char   *name);
JsonObject  *ets_bind_object        (EtsBind      *bind,
                                     JsonObject   *obj,
                                     const char   *name);
JsonArray   *ets_bind_array         (EtsBind      *bind,
                                     JsonObject   *obj,
                                     const char   *name,
                                     gboolean      required);
gboolean     ets_bind_uuid          (EtsBind      *bind,
                                     JsonObject   *obj,
                                     const char   *name,
                                     const char  **out);
char        *ets_bind_magic_metadata (EtsBind     *bind,
                                      JsonObject  *obj,
                                      const char  *name);
gint64       ets_query_int          (EtsRequest   *req,
                                     const char   *name);
const char  *ets_query_string       (EtsRequest   *req,
                                     const char   *name);
gint64       ets_parse_id           (const char   *text);

/* ets-http.c: auth middleware */
EtsApp       ets_app_from_package   (const char   *package);
const char  *ets_app_name           (EtsApp        app);
gboolean     ets_require_auth       (EtsRequest   *req);
gboolean     ets_require_storage_auth (EtsRequest *req);

/* ets-http.c: encodings */
GBytes      *ets_b64_decode         (const char   *text);
char        *ets_b64_encode         (const guint8 *data,
                                     gsize         len);
char        *ets_b64_url_encode     (const guint8 *data,
                                     gsize         len);
char        *ets_new_uuid           (void);
char        *ets_normalize_email    (const char   *email);
void         ets_builder_add_raw_json (JsonBuilder *builder,
                                       const char  *member,
                                       const char  *json_text);

/* Route handlers. Each returns TRUE when it handled the path. */
gboolean     ets_users_route        (EtsRequest   *req);
gboolean     ets_collections_route  (EtsRequest   *req);
gboolean     ets_files_route        (EtsRequest   *req);
gboolean     ets_storage_route      (EtsRequest   *req);

/* ets-users.c, used by other modules */
gboolean     ets_user_has_key_attributes (EtsServer *ets,
                                          gint64     user_id);
char        *ets_totp_code          (const char   *base32_secret,
                                     gint64        unix_seconds,
                                     GError      **error);

/* ets-files.c, used by collections */
guint        ets_quota_check        (EtsServer    *ets,
                                     gint64        user_id,
                                     gint64        size,
                                     gboolean      with_size);
void         ets_file_to_json       (EtsServer    *ets,
                                     JsonBuilder  *builder,
                                     sqlite3_stmt *row,
                                     gboolean      for_diff);
extern const char *ets_file_columns;
gboolean     ets_trash_file_rows    (EtsServer    *ets,
                                     gint64        user_id,
                                     gint64        file_id,
                                     gint64        collection_id,
                                     gint64        now);
gint64       ets_delete_file_objects (EtsServer   *ets,
                                      gint64       file_id,
                                      GPtrArray   *keys_out);

/* ets-storage.c */
char        *ets_storage_sign_url   (EtsServer    *ets,
                                     const char   *method,
                                     const char   *object_key,
                                     GPtrArray    *extra_query,
                                     gint64        content_length,
                                     const char   *content_md5);
gboolean     ets_storage_head       (EtsServer    *ets,
                                     const char   *object_key,
                                     gint64       *size);
void         ets_storage_delete     (EtsServer    *ets,
                                     const char   *object_key);
char        *ets_storage_new_upload (EtsServer    *ets,
                                     const char   *object_key,
                                     GError      **error);
void         ets_storage_stream_body (EtsServer        *ets,
                                      SoupServerMessage *msg);

/* ets-traffic.c: connections kept alive, counted, closed when idle and
 * closed by the client */
void         ets_traffic_attach     (EtsServer    *ets);
gboolean     ets_traffic_write_stats (EtsServer   *ets,
                                      const char  *path,
                                      GError     **error);

/* ets-faults.c */
typedef enum
{
  ETS_FAULT_NONE,
  ETS_FAULT_500,
  ETS_FAULT_503,
  ETS_FAULT_429,
  ETS_FAULT_CUT,
  ETS_FAULT_SLOW,
} EtsFaultKind;

EtsFaults   *ets_faults_new         (double        rate,
                                     guint32       seed);
void         ets_faults_free        (EtsFaults    *faults);
EtsFaultKind ets_faults_decide      (EtsFaults    *faults);
guint        ets_faults_slow_ms     (EtsFaults    *faults);
void         ets_faults_cut         (SoupServerMessage *msg,
                                     gboolean      is_object);

G_END_DECLS
