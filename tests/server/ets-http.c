/* ets-http.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-test-server"

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ets-private.h"

/* Replies. Museum has three error shapes (spec/ente-auth.md §1.3): typed
 * {"code","message"}, sentinel "{}", and middleware {"error"}. */

static void
set_common_headers (EtsRequest *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);

  if (g_str_equal (req->method, "GET") &&
      !g_str_has_prefix (req->path, "/files/download/") &&
      !g_str_has_prefix (req->path, "/files/preview/"))
    soup_message_headers_replace (headers, "Cache-Control", "no-store");
}

/* gin-contrib/gzip (spec/ente-auth.md §1.3): a request whose
 * Accept-Encoding lists gzip with a non-zero quality gets a gzipped body. */
static gboolean
accepts_gzip (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *accept = soup_message_headers_get_list (headers, "Accept-Encoding");
  GSList *codings;
  gboolean found = FALSE;

  if (accept == NULL)
    return FALSE;
  codings = soup_header_parse_quality_list (accept, NULL);
  for (GSList *l = codings; l != NULL && !found; l = l->next)
    found = g_ascii_strcasecmp (l->data, "gzip") == 0;
  soup_header_free_list (codings);
  return found;
}

static GBytes *
gzip_compress (const char *data,
               gsize       len)
{
  g_autoptr(GZlibCompressor) compressor = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
  g_autoptr(GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) out = g_converter_output_stream_new (memory, G_CONVERTER (compressor));

  if (!g_output_stream_write_all (out, data, len, NULL, NULL, NULL) ||
      !g_output_stream_close (out, NULL, NULL))
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (memory));
}

void
ets_set_json_response (SoupServerMessage *msg,
                       guint              status,
                       const char        *text)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *content_type = "application/json; charset=utf-8";
  gsize len = strlen (text);
  g_autoptr(GBytes) gzipped = NULL;

  soup_server_message_set_status (msg, status, NULL);
  if (len > 0)
    soup_message_headers_append (headers, "Vary", "Accept-Encoding");
  if (len > 0 && accepts_gzip (msg))
    gzipped = gzip_compress (text, len);
  if (gzipped == NULL)
    {
      soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, text, len);
      return;
    }
  soup_message_headers_replace (headers, "Content-Encoding", "gzip");
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY,
                                    g_bytes_get_data (gzipped, NULL),
                                    g_bytes_get_size (gzipped));
}

static void
reply_text (EtsRequest *req,
            guint       status,
            const char *text)
{
  set_common_headers (req);
  ets_set_json_response (req->msg, status, text);
}

void
ets_reply_empty (EtsRequest *req,
                 guint       status)
{
  set_common_headers (req);
  soup_server_message_set_status (req->msg, status, NULL);
}

void
ets_reply_sentinel (EtsRequest *req,
                    guint       status)
{
  reply_text (req, status, "{}");
}

void
ets_reply_api_error (EtsRequest *req,
                     guint       status,
                     const char *code,
                     const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);
  reply_text (req, status, text);
}

void
ets_reply_middleware (EtsRequest *req,
                      guint       status,
                      const char *error)
{
  g_autofree char *text = g_strdup_printf ("{\"error\":\"%s\"}", error);
  reply_text (req, status, text);
}

void
ets_reply_json (EtsRequest *req,
                guint       status,
                JsonNode   *node)
{
  g_autofree char *text = json_to_string (node, FALSE);
  reply_text (req, status, text);
}

void
ets_reply_builder (EtsRequest  *req,
                   JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  ets_reply_json (req, SOUP_STATUS_OK, root);
}

/* Binding: gin's ShouldBindJSON + validator rules (spec/ente-server.md §0):
 * malformed JSON or a wrong type is a 400, "required" means non-empty for
 * strings, non-zero for numbers and present-and-not-null for slices. */

JsonObject *
ets_body_object (EtsRequest *req)
{
  SoupMessageBody *body = soup_server_message_get_request_body (req->msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (len == 0 || !json_parser_load_from_data (parser, data, len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

static JsonNode *
member (JsonObject *obj,
        const char *name)
{
  JsonNode *node;

  if (obj == NULL)
    return NULL;
  node = json_object_get_member (obj, name);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  return node;
}

const char *
ets_bind_string (EtsBind    *bind,
                 JsonObject *obj,
                 const char *name,
                 gboolean    required)
{
  JsonNode *node = member (obj, name);
  const char *value = "";

  if (node != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          bind->ok = FALSE;
          return "";
        }
      value = json_node_get_string (node);
    }
  if (required && *value == '\0')
    bind->ok = FALSE;
  return value;
}

gint64
ets_bind_int (EtsBind    *bind,
              JsonObject *obj,
              const char *name,
              gboolean    required)
{
  JsonNode *node = member (obj, name);
  gint64 value = 0;

  if (node != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
        {
          bind->ok = FALSE;
          return 0;
        }
      value = json_node_get_int (node);
    }
  if (required && value == 0)
    bind->ok = FALSE;
  return value;
}

gboolean
ets_bind_bool (EtsBind    *bind,
               JsonObject *obj,
               const char *name)
{
  JsonNode *node = member (obj, name);

  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      bind->ok = FALSE;
      return FALSE;
    }
  return json_node_get_boolean (node);
}

JsonObject *
ets_bind_object (EtsBind    *bind,
                 JsonObject *obj,
                 const char *name)
{
  JsonNode *node = member (obj, name);

  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      bind->ok = FALSE;
      return NULL;
    }
  return json_node_get_object (node);
}

JsonArray *
ets_bind_array (EtsBind    *bind,
                JsonObject *obj,
                const char *name,
                gboolean    required)
{
  JsonNode *node = member (obj, name);

  if (node == NULL)
    {
      if (required)
        bind->ok = FALSE;
      return NULL;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      bind->ok = FALSE;
      return NULL;
    }
  return json_node_get_array (node);
}

gboolean
ets_bind_uuid (EtsBind     *bind,
               JsonObject  *obj,
               const char  *name,
               const char **out)
{
  const char *value = ets_bind_string (bind, obj, name, TRUE);

  *out = value;
  if (!bind->ok || !g_uuid_string_is_valid (value) ||
      g_str_equal (value, "00000000-0000-0000-0000-000000000000"))
    {
      bind->ok = FALSE;
      return FALSE;
    }
  return TRUE;
}

/* {version,count,data,header}: optional, but every field is required once
 * the object is present. Returns canonical JSON text, or NULL if absent. */
char *
ets_bind_magic_metadata (EtsBind    *bind,
                         JsonObject *obj,
                         const char *name)
{
  JsonObject *mm = ets_bind_object (bind, obj, name);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  gint64 version, count;
  const char *data, *header;

  if (mm == NULL)
    return NULL;

  version = ets_bind_int (bind, mm, "version", TRUE);
  count = ets_bind_int (bind, mm, "count", TRUE);
  data = ets_bind_string (bind, mm, "data", TRUE);
  header = ets_bind_string (bind, mm, "header", TRUE);
  if (!bind->ok)
    return NULL;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, version);
  json_builder_set_member_name (builder, "count");
  json_builder_add_int_value (builder, count);
  json_builder_set_member_name (builder, "data");
  json_builder_add_string_value (builder, data);
  json_builder_set_member_name (builder, "header");
  json_builder_add_string_value (builder, header);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/* Like museum's strconv.ParseInt with the error ignored: garbage is 0. */
gint64
ets_parse_id (const char *text)
{
  gint64 value;

  if (text == NULL || !g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64,
                                                 &value, NULL))
    return 0;
  return value;
}

gint64
ets_query_int (EtsRequest *req,
               const char *name)
{
  return ets_parse_id (g_hash_table_lookup (req->query, name));
}

const char *
ets_query_string (EtsRequest *req,
                  const char *name)
{
  return g_hash_table_lookup (req->query, name);
}

/* Auth middleware (spec/ente-server.md §2.0). */

EtsApp
ets_app_from_package (const char *package)
{
  if (package != NULL && g_str_has_prefix (package, "io.ente.auth"))
    return ETS_APP_AUTH;
  if (package != NULL && g_str_has_prefix (package, "io.ente.locker"))
    return ETS_APP_LOCKER;
  return ETS_APP_PHOTOS;
}

const char *
ets_app_name (EtsApp app)
{
  switch (app)
    {
    case ETS_APP_AUTH:
      return "auth";
    case ETS_APP_LOCKER:
      return "locker";
    case ETS_APP_PHOTOS:
    default:
      return "photos";
    }
}

gboolean
ets_require_auth (EtsRequest *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *token = soup_message_headers_get_one (headers, "X-Auth-Token");
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) touch = NULL;
  gint64 now = g_get_real_time ();
  gint64 last_used;

  if (token == NULL || *token == '\0')
    token = ets_query_string (req, "token");
  if (token == NULL || *token == '\0')
    {
      ets_reply_middleware (req, SOUP_STATUS_UNAUTHORIZED, "missing token");
      return FALSE;
    }

  stmt = ets_db_prepare (req->ets,
                         "SELECT user_id, last_used_at FROM tokens"
                         " WHERE token = ? AND app = ? AND is_deleted = 0");
  sqlite3_bind_text (stmt, 1, token, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      ets_reply_middleware (req, SOUP_STATUS_UNAUTHORIZED, "invalid token");
      return FALSE;
    }

  last_used = sqlite3_column_int64 (stmt, 1);
  if (now - last_used > G_GINT64_CONSTANT (365) * 24 * 3600 * ETS_MICROS_PER_SECOND)
    {
      ets_reply_middleware (req, SOUP_STATUS_UNAUTHORIZED, "token expired");
      return FALSE;
    }

  req->user_id = sqlite3_column_int64 (stmt, 0);
  req->token = token;

  touch = ets_db_prepare (req->ets,
                          "UPDATE tokens SET last_used_at = ?, user_agent = ?"
                          " WHERE token = ? AND app = ?");
  sqlite3_bind_int64 (touch, 1, now);
  ets_bind_text_or_null (touch, 2, soup_message_headers_get_one (headers, "User-Agent"));
  sqlite3_bind_text (touch, 3, token, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (touch, 4, ets_app_name (req->app), -1, SQLITE_STATIC);
  sqlite3_step (touch);
  return TRUE;
}

gboolean
ets_require_storage_auth (EtsRequest *req)
{
  if (!ets_require_auth (req))
    return FALSE;
  if (req->app == ETS_APP_AUTH)
    {
      ets_reply_middleware (req, SOUP_STATUS_FORBIDDEN, "invalid app for endpoint");
      return FALSE;
    }
  return TRUE;
}

/* Encodings (spec/ente-auth.md §1.5). */

GBytes *
ets_b64_decode (const char *text)
{
  gsize len = strlen (text);
  gsize out_len = 0;
  guint8 *out = g_malloc (len / 4 * 3 + 3);
  const char *end = NULL;

  if (sodium_base642bin (out, len / 4 * 3 + 3, text, len, NULL, &out_len, &end,
                         sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text + len)
    {
      g_free (out);
      return NULL;
    }
  return g_bytes_new_take (out, out_len);
}

char *
ets_b64_encode (const guint8 *data,
                gsize         len)
{
  gsize max = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_ORIGINAL);
  char *out = g_malloc (max);

  sodium_bin2base64 (out, max, data, len, sodium_base64_VARIANT_ORIGINAL);
  return out;
}

char *
ets_b64_url_encode (const guint8 *data,
                    gsize         len)
{
  gsize max = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_URLSAFE);
  char *out = g_malloc (max);

  sodium_bin2base64 (out, max, data, len, sodium_base64_VARIANT_URLSAFE);
  return out;
}

char *
ets_new_uuid (void)
{
  return g_uuid_string_random ();
}

char *
ets_normalize_email (const char *email)
{
  g_autofree char *copy = g_strdup (email != NULL ? email : "");

  g_strstrip (copy);
  return g_utf8_strdown (copy, -1);
}

void
ets_builder_add_raw_json (JsonBuilder *builder,
                          const char  *member_name,
                          const char  *json_text)
{
  g_autoptr(JsonParser) parser = NULL;

  if (json_text == NULL || *json_text == '\0')
    return;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json_text, -1, NULL))
    return;
  json_builder_set_member_name (builder, member_name);
  json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
}
