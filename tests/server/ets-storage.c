/* ets-storage.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-test-server"
#define _GNU_SOURCE   /* copy_file_range() */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ets-private.h"

/* The S3 bucket behind the presigned URLs (spec/ente-server.md §2.13).
 *
 * URLs look like SigV4 query-presigned URLs: X-Amz-Date, X-Amz-Expires and
 * X-Amz-SignedHeaders are in the query, and X-Amz-Signature is an
 * HMAC-SHA256 (under a key kept in the database) over the method, the path,
 * the other query parameters and the values of the signed headers. As with
 * S3, a Content-Length or Content-MD5 header that differs from the signed one
 * is a 403 SignatureDoesNotMatch, and a body whose MD5 differs from the
 * (correctly signed) Content-MD5 is a 400 BadDigest.
 *
 * Objects live in DATA/objects/<userID>/<uuid>; a PUT's body is streamed
 * to a temporary file in DATA/incoming as it arrives (MD5'd on the way),
 * then renamed, so a reader never sees half an object. Nothing is
 * fsynced: a test double outlives a killed process (the page cache
 * keeps what was written), not a power cut, and fsync was most of its
 * CPU and wall time for many small files.
 * Multipart parts live in DATA/multipart/<uploadId>/<n>.
 */

#define ALGORITHM       "EIDER-HMAC-SHA256"
#define PATH_PREFIX     "/s3/"
#define MIN_PART_SIZE   (5 * ETS_MIB)

typedef struct
{
  char *name;
  char *value;
} QueryPair;

static int
compare_pairs (gconstpointer a,
               gconstpointer b)
{
  const QueryPair *pa = a, *pb = b;
  return strcmp (pa->name, pb->name);
}

static void
query_pair_clear (gpointer data)
{
  QueryPair *pair = data;

  g_free (pair->name);
  g_free (pair->value);
}

static char *
compute_signature (EtsServer  *ets,
                   const char *method,
                   const char *object_key,
                   GArray     *pairs,
                   const char *content_length,
                   const char *content_md5)
{
  GString *text = g_string_new (NULL);
  guint8 mac[crypto_auth_hmacsha256_BYTES];
  char hex[2 * sizeof mac + 1];

  g_array_sort (pairs, compare_pairs);
  g_string_append_printf (text, "%s\n%s%s\n", method, PATH_PREFIX, object_key);
  for (guint i = 0; i < pairs->len; i++)
    {
      QueryPair *pair = &g_array_index (pairs, QueryPair, i);

      if (g_str_equal (pair->name, "X-Amz-Signature"))
        continue;
      g_string_append_printf (text, "%s%s=%s", i > 0 ? "&" : "", pair->name, pair->value);
    }
  g_string_append_c (text, '\n');
  if (content_length != NULL)
    g_string_append_printf (text, "content-length:%s\n", content_length);
  if (content_md5 != NULL)
    g_string_append_printf (text, "content-md5:%s\n", content_md5);

  crypto_auth_hmacsha256 (mac, (const guint8 *) text->str, text->len, ets->signing_key);
  sodium_bin2hex (hex, sizeof hex, mac, sizeof mac);
  g_string_free (text, TRUE);
  return g_strdup (hex);
}

static void
add_pair (GArray     *pairs,
          const char *name,
          const char *value)
{
  QueryPair pair = { g_strdup (name), g_strdup (value) };
  g_array_append_val (pairs, pair);
}

/* extra_query: name, value, name, value… (may be NULL). content_length < 0
 * and content_md5 NULL sign only the host, as museum's legacy URLs. */
char *
ets_storage_sign_url (EtsServer  *ets,
                      const char *method,
                      const char *object_key,
                      GPtrArray  *extra_query,
                      gint64      content_length,
                      const char *content_md5)
{
  g_autoptr(GArray) pairs = g_array_new (FALSE, TRUE, sizeof (QueryPair));
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *length_text = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *escaped_key = g_uri_escape_string (object_key, "/", FALSE);
  gboolean sign_content = content_length >= 0 && content_md5 != NULL;
  GString *url;

  g_array_set_clear_func (pairs, query_pair_clear);
  add_pair (pairs, "X-Amz-Algorithm", ALGORITHM);
  add_pair (pairs, "X-Amz-Date", date);
  add_pair (pairs, "X-Amz-Expires", G_STRINGIFY (ETS_PRESIGN_SECONDS));
  add_pair (pairs, "X-Amz-SignedHeaders", sign_content ? "content-length;content-md5;host" : "host");
  for (guint i = 0; extra_query != NULL && i + 1 < extra_query->len; i += 2)
    add_pair (pairs, g_ptr_array_index (extra_query, i), g_ptr_array_index (extra_query, i + 1));

  if (sign_content)
    length_text = g_strdup_printf ("%" G_GINT64_FORMAT, content_length);
  signature = compute_signature (ets, method, object_key, pairs, length_text,
                                 sign_content ? content_md5 : NULL);

  url = g_string_new (ets->base_url);
  g_string_append (url, PATH_PREFIX);
  g_string_append (url, escaped_key);
  for (guint i = 0; i < pairs->len; i++)
    {
      QueryPair *pair = &g_array_index (pairs, QueryPair, i);
      g_autofree char *value = g_uri_escape_string (pair->value, NULL, FALSE);

      g_string_append_printf (url, "%c%s=%s", i == 0 ? '?' : '&', pair->name, value);
    }
  g_string_append_printf (url, "&X-Amz-Signature=%s", signature);
  return g_string_free (url, FALSE);
}

/* Only keys this server mints: "<digits>/<uuid>". */
static gboolean
valid_object_key (const char *key)
{
  const char *slash = strchr (key, '/');

  if (slash == NULL || slash == key)
    return FALSE;
  for (const char *p = key; p < slash; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return g_uuid_string_is_valid (slash + 1);
}

static char *
object_path (EtsServer  *ets,
             const char *key)
{
  g_auto(GStrv) parts = g_strsplit (key, "/", 2);
  return g_build_filename (ets->data_dir, "objects", parts[0], parts[1], NULL);
}

gboolean
ets_storage_head (EtsServer  *ets,
                  const char *object_key,
                  gint64     *size)
{
  g_autofree char *path = NULL;
  GStatBuf st;

  if (!valid_object_key (object_key))
    return FALSE;
  path = object_path (ets, object_key);
  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return FALSE;
  *size = st.st_size;
  return TRUE;
}

void
ets_storage_delete (EtsServer  *ets,
                    const char *object_key)
{
  g_autofree char *path = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!valid_object_key (object_key))
    return;
  path = object_path (ets, object_key);
  g_unlink (path);
  stmt = ets_db_prepare (ets, "DELETE FROM blobs WHERE object_key = ?");
  sqlite3_bind_text (stmt, 1, object_key, -1, SQLITE_TRANSIENT);
  sqlite3_step (stmt);
}

char *
ets_storage_new_upload (EtsServer   *ets,
                        const char  *object_key,
                        GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  guint8 raw[16];
  char hex[33];

  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (hex, sizeof hex, raw, sizeof raw);
  stmt = ets_db_prepare (ets,
                         "INSERT INTO multipart_uploads (upload_id, object_key, created_at) VALUES (?, ?, ?)");
  sqlite3_bind_text (stmt, 1, hex, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, object_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot record the upload: %s",
                   sqlite3_errmsg (ets->db));
      return NULL;
    }
  return g_strdup (hex);
}

/* S3 replies. */

static void
reply_s3_error (SoupServerMessage *msg,
                guint              status,
                const char        *code,
                const char        *message,
                const char        *key)
{
  g_autofree char *escaped = g_markup_escape_text (key != NULL ? key : "", -1);
  g_autofree char *body = NULL;
  guint8 raw[8];
  char request_id[17];

  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (request_id, sizeof request_id, raw, sizeof raw);
  body = g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<Error><Code>%s</Code><Message>%s</Message><Key>%s</Key>"
                          "<RequestId>%s</RequestId></Error>",
                          code, message, escaped, request_id);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&body), strlen (body));
}

/* An object PUT's body, streamed to a temporary file as it arrives: one
 * MD5 pass over each chunk libsoup read, no copy of the whole body in
 * memory. The file is renamed into place once the request is
 * verified, and removed otherwise (when the message goes). */
typedef struct
{
  char      *tmp_path;
  int        fd;
  GChecksum *md5;
  gint64     size;
  int        write_errno;   /* the first failed write, 0 if none */
} IncomingObject;

#define INCOMING_KEY "ets-incoming-object"

static void
incoming_object_free (gpointer data)
{
  IncomingObject *in = data;

  if (in->fd >= 0)
    close (in->fd);
  if (in->tmp_path != NULL)
    g_unlink (in->tmp_path);
  g_free (in->tmp_path);
  g_checksum_free (in->md5);
  g_free (in);
}

static void
incoming_append (IncomingObject *in,
                 const guint8   *data,
                 gsize           len)
{
  gsize done = 0;

  g_checksum_update (in->md5, data, len);
  in->size += len;
  while (in->write_errno == 0 && done < len)
    {
      ssize_t n = write (in->fd, data + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        in->write_errno = errno;
      else
        done += n;
    }
}

static void
incoming_chunk_cb (SoupServerMessage *msg,
                   GBytes            *chunk,
                   IncomingObject    *in)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (chunk, &len);

  incoming_append (in, data, len);
}

static IncomingObject *
incoming_object_new (EtsServer  *ets,
                     GError    **error)
{
  g_autofree char *dir = g_build_filename (ets->data_dir, "incoming", NULL);
  IncomingObject *in;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create %s: %s", dir, g_strerror (errno));
      return NULL;
    }
  in = g_new0 (IncomingObject, 1);
  in->tmp_path = g_build_filename (dir, "object-XXXXXX", NULL);
  in->fd = g_mkstemp_full (in->tmp_path, O_WRONLY, 0600);
  if (in->fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create %s: %s", in->tmp_path, g_strerror (errno));
      g_clear_pointer (&in->tmp_path, g_free);
      incoming_object_free (in);
      return NULL;
    }
  in->md5 = g_checksum_new (G_CHECKSUM_MD5);
  return in;
}

/* Called when a request's headers are in: an object PUT's body goes to a
 * file instead of memory. Anything else is left to libsoup. */
void
ets_storage_stream_body (EtsServer         *ets,
                         SoupServerMessage *msg)
{
  g_autoptr(GError) error = NULL;
  IncomingObject *in;

  if (g_strcmp0 (soup_server_message_get_method (msg), "PUT") != 0 ||
      !g_str_has_prefix (g_uri_get_path (soup_server_message_get_uri (msg)), PATH_PREFIX))
    return;

  in = incoming_object_new (ets, &error);
  if (in == NULL)
    {
      /* handle_put() finds no stream and answers InternalError. */
      g_warning ("%s", error->message);
      return;
    }
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  g_object_set_data_full (G_OBJECT (msg), INCOMING_KEY, in, incoming_object_free);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (incoming_chunk_cb), in);
}

/* Moves the verified body to path: a rename (a reader never sees half
 * an object). */
static gboolean
incoming_commit (IncomingObject  *in,
                 const char      *path,
                 GError         **error)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (in->write_errno != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (in->write_errno),
                   "Cannot write %s: %s", in->tmp_path, g_strerror (in->write_errno));
      return FALSE;
    }
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create %s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  if (close (in->fd) != 0)
    {
      in->fd = -1;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot close %s: %s", in->tmp_path, g_strerror (errno));
      return FALSE;
    }
  in->fd = -1;
  if (g_rename (in->tmp_path, path) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot rename %s: %s", in->tmp_path, g_strerror (errno));
      return FALSE;
    }
  g_clear_pointer (&in->tmp_path, g_free);
  return TRUE;
}

/* Checks X-Amz-* query parameters and the signature. Replies and returns
 * FALSE on failure. */
static gboolean
verify_request (EtsRequest *req,
                const char *method,
                const char *object_key)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  g_autoptr(GArray) pairs = g_array_new (FALSE, TRUE, sizeof (QueryPair));
  g_autofree char *expected = NULL;
  g_autoptr(GDateTime) signed_at = NULL;
  const char *signature = ets_query_string (req, "X-Amz-Signature");
  const char *date = ets_query_string (req, "X-Amz-Date");
  const char *expires = ets_query_string (req, "X-Amz-Expires");
  const char *signed_headers = ets_query_string (req, "X-Amz-SignedHeaders");
  const char *content_length = NULL, *content_md5 = NULL;
  gboolean sign_content;
  GHashTableIter iter;
  gpointer name, value;
  int y, mo, d, h, mi, s;
  gint64 expires_s;

  if (signature == NULL || date == NULL || expires == NULL || signed_headers == NULL ||
      g_strcmp0 (ets_query_string (req, "X-Amz-Algorithm"), ALGORITHM) != 0)
    {
      reply_s3_error (req->msg, SOUP_STATUS_FORBIDDEN, "AccessDenied",
                      "Query-string authentication requires the X-Amz-Algorithm, X-Amz-Date,"
                      " X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature parameters",
                      object_key);
      return FALSE;
    }

  sign_content = g_str_equal (signed_headers, "content-length;content-md5;host");
  if (sign_content)
    {
      content_length = soup_message_headers_get_one (headers, "Content-Length");
      content_md5 = soup_message_headers_get_one (headers, "Content-MD5");
    }

  g_array_set_clear_func (pairs, query_pair_clear);
  g_hash_table_iter_init (&iter, req->query);
  while (g_hash_table_iter_next (&iter, &name, &value))
    add_pair (pairs, name, value);
  expected = compute_signature (req->ets, method, object_key, pairs,
                                sign_content ? (content_length != NULL ? content_length : "") : NULL,
                                sign_content ? (content_md5 != NULL ? content_md5 : "") : NULL);
  if (strlen (signature) != strlen (expected) ||
      sodium_memcmp (signature, expected, strlen (expected)) != 0)
    {
      reply_s3_error (req->msg, SOUP_STATUS_FORBIDDEN, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you provided.",
                      object_key);
      return FALSE;
    }

  if (sscanf (date, "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &s) != 6 ||
      (signed_at = g_date_time_new_utc (y, mo, d, h, mi, s)) == NULL ||
      !g_ascii_string_to_signed (expires, 10, 1, ETS_PRESIGN_SECONDS, &expires_s, NULL))
    {
      reply_s3_error (req->msg, SOUP_STATUS_FORBIDDEN, "AccessDenied", "Invalid date or expiry", object_key);
      return FALSE;
    }
  if (g_get_real_time () / ETS_MICROS_PER_SECOND > g_date_time_to_unix (signed_at) + expires_s)
    {
      reply_s3_error (req->msg, SOUP_STATUS_FORBIDDEN, "AccessDenied", "Request has expired", object_key);
      return FALSE;
    }
  return TRUE;
}

/* Content-MD5, when present, must match the body (BadDigest). */
static gboolean
check_body_md5 (EtsRequest   *req,
                const guint8 *digest,
                const char   *object_key)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *content_md5 = soup_message_headers_get_one (headers, "Content-MD5");
  g_autoptr(GBytes) claimed = NULL;

  if (content_md5 == NULL)
    return TRUE;
  claimed = ets_b64_decode (content_md5);
  if (claimed == NULL || g_bytes_get_size (claimed) != 16)
    {
      reply_s3_error (req->msg, SOUP_STATUS_BAD_REQUEST, "InvalidDigest",
                      "The Content-MD5 you specified was invalid.", object_key);
      return FALSE;
    }
  if (memcmp (digest, g_bytes_get_data (claimed, NULL), 16) != 0)
    {
      reply_s3_error (req->msg, SOUP_STATUS_BAD_REQUEST, "BadDigest",
                      "The Content-MD5 you specified did not match what we received.", object_key);
      return FALSE;
    }
  return TRUE;
}

static void
record_blob (EtsServer  *ets,
             const char *object_key,
             gint64      size,
             const char *etag)
{
  g_autoptr(sqlite3_stmt) stmt = ets_db_prepare (ets,
                                                 "INSERT OR REPLACE INTO blobs (object_key, size, etag)"
                                                 " VALUES (?, ?, ?)");

  sqlite3_bind_text (stmt, 1, object_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, size);
  sqlite3_bind_text (stmt, 3, etag, -1, SQLITE_TRANSIENT);
  sqlite3_step (stmt);
}

static void
reply_etag (EtsRequest *req,
            const char *etag)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", etag);

  soup_message_headers_replace (headers, "ETag", quoted);
  soup_server_message_set_status (req->msg, SOUP_STATUS_OK, NULL);
}

static void
reply_internal_error (EtsRequest   *req,
                      const GError *error,
                      const char   *object_key)
{
  g_warning ("%s", error->message);
  reply_s3_error (req->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "InternalError",
                  "We encountered an internal error. Please try again.", object_key);
}

/* The body as ets_storage_stream_body() wrote it; a body libsoup kept in
 * memory (no stream was set up) is written out the same way here. */
static IncomingObject *
incoming_of (EtsRequest  *req,
             GError     **error)
{
  IncomingObject *in = g_object_get_data (G_OBJECT (req->msg), INCOMING_KEY);
  SoupMessageBody *request_body;
  g_autoptr(GBytes) body = NULL;

  if (in != NULL)
    return in;
  in = incoming_object_new (req->ets, error);
  if (in == NULL)
    return NULL;
  g_object_set_data_full (G_OBJECT (req->msg), INCOMING_KEY, in, incoming_object_free);
  request_body = soup_server_message_get_request_body (req->msg);
  body = soup_message_body_flatten (request_body);
  incoming_append (in, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  return in;
}

static void
handle_put (EtsRequest *req,
            const char *object_key)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  const char *upload_id = ets_query_string (req, "uploadId");
  const char *part_number = ets_query_string (req, "partNumber");
  IncomingObject *in;
  guint8 digest[16];
  gsize digest_len = sizeof digest;
  char etag[33];

  if (!verify_request (req, "PUT", object_key))
    return;
  in = incoming_of (req, &error);
  if (in == NULL)
    {
      reply_internal_error (req, error, object_key);
      return;
    }
  g_checksum_get_digest (in->md5, digest, &digest_len);
  if (!check_body_md5 (req, digest, object_key))
    return;
  sodium_bin2hex (etag, sizeof etag, digest, sizeof digest);

  if (upload_id != NULL || part_number != NULL)
    {
      g_autoptr(sqlite3_stmt) upload = NULL;
      g_autoptr(sqlite3_stmt) part = NULL;
      gint64 number;

      if (upload_id == NULL || part_number == NULL ||
          !g_ascii_string_to_signed (part_number, 10, 1, 10000, &number, NULL))
        {
          reply_s3_error (req->msg, SOUP_STATUS_BAD_REQUEST, "InvalidArgument",
                          "Part number must be an integer between 1 and 10000, inclusive", object_key);
          return;
        }
      upload = ets_db_prepare (req->ets,
                               "SELECT COUNT(*) FROM multipart_uploads WHERE upload_id = ? AND object_key = ?"
                               " AND completed_etag IS NULL");
      sqlite3_bind_text (upload, 1, upload_id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (upload, 2, object_key, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (upload) != SQLITE_ROW || sqlite3_column_int64 (upload, 0) == 0 ||
          strchr (upload_id, '/') != NULL || strchr (upload_id, '.') != NULL)
        {
          reply_s3_error (req->msg, SOUP_STATUS_NOT_FOUND, "NoSuchUpload",
                          "The specified multipart upload does not exist.", object_key);
          return;
        }

      path = g_strdup_printf ("%s/multipart/%s/%" G_GINT64_FORMAT, req->ets->data_dir, upload_id, number);
      if (!incoming_commit (in, path, &error))
        {
          reply_internal_error (req, error, object_key);
          return;
        }
      part = ets_db_prepare (req->ets,
                             "INSERT OR REPLACE INTO multipart_parts (upload_id, part_number, size, etag)"
                             " VALUES (?, ?, ?, ?)");
      sqlite3_bind_text (part, 1, upload_id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (part, 2, number);
      sqlite3_bind_int64 (part, 3, in->size);
      sqlite3_bind_text (part, 4, etag, -1, SQLITE_TRANSIENT);
      sqlite3_step (part);
      reply_etag (req, etag);
      return;
    }

  path = object_path (req->ets, object_key);
  if (!incoming_commit (in, path, &error))
    {
      reply_internal_error (req, error, object_key);
      return;
    }
  record_blob (req->ets, object_key, in->size, etag);
  reply_etag (req, etag);
}

/* CompleteMultipartUpload body: <Part><PartNumber>n</PartNumber><ETag>x</ETag></Part>… */
typedef struct
{
  GArray   *numbers;
  GPtrArray *etags;
  GString  *text;
  gint64    number;
  char     *etag;
  gboolean  in_part;
  gboolean  bad;
} CompleteParse;

static void
complete_start (GMarkupParseContext  *context,
                const char           *element,
                const char          **attribute_names,
                const char          **attribute_values,
                gpointer              user_data,
                GError              **error)
{
  CompleteParse *cp = user_data;

  g_string_truncate (cp->text, 0);
  if (g_str_equal (element, "Part"))
    {
      cp->in_part = TRUE;
      cp->number = 0;
      g_clear_pointer (&cp->etag, g_free);
    }
}

static void
complete_end (GMarkupParseContext  *context,
              const char           *element,
              gpointer              user_data,
              GError              **error)
{
  CompleteParse *cp = user_data;

  if (!cp->in_part)
    return;
  if (g_str_equal (element, "PartNumber"))
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (cp->text->str));

      if (!g_ascii_string_to_signed (trimmed, 10, 1, 10000, &cp->number, NULL))
        cp->bad = TRUE;
    }
  else if (g_str_equal (element, "ETag"))
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (cp->text->str));
      GString *stripped = g_string_new (NULL);

      for (const char *p = trimmed; *p != '\0'; p++)
        if (*p != '"')
          g_string_append_c (stripped, g_ascii_tolower (*p));
      g_free (cp->etag);
      cp->etag = g_string_free (stripped, FALSE);
    }
  else if (g_str_equal (element, "Part"))
    {
      if (cp->number == 0 || cp->etag == NULL)
        cp->bad = TRUE;
      else
        {
          g_array_append_val (cp->numbers, cp->number);
          g_ptr_array_add (cp->etags, g_steal_pointer (&cp->etag));
        }
      cp->in_part = FALSE;
    }
}

static void
complete_text (GMarkupParseContext  *context,
               const char           *text,
               gsize                 len,
               gpointer              user_data,
               GError              **error)
{
  CompleteParse *cp = user_data;
  g_string_append_len (cp->text, text, len);
}

static void
reply_complete (EtsRequest *req,
                const char *object_key,
                const char *etag)
{
  g_autofree char *escaped = g_markup_escape_text (object_key, -1);
  g_autofree char *body = NULL;

  body = g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                          "<Location>%s%s%s</Location><Bucket>eider</Bucket><Key>%s</Key>"
                          "<ETag>\"%s\"</ETag></CompleteMultipartUploadResult>",
                          req->ets->base_url, PATH_PREFIX, escaped, escaped, etag);
  soup_server_message_set_status (req->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (req->msg, "application/xml", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&body), strlen (body));
}

/* Appends the part at part_path to fd with copy_file_range(). FALSE (and
 * nothing to rely on in fd past its old end) when that cannot be done. */
static gboolean
copy_part (const char *part_path,
           int         fd,
           gsize      *len_out)
{
  struct stat st;
  gsize done = 0;
  int part_fd = open (part_path, O_RDONLY | O_CLOEXEC);

  if (part_fd < 0)
    return FALSE;
  if (fstat (part_fd, &st) != 0)
    {
      close (part_fd);
      return FALSE;
    }
  while (done < (gsize) st.st_size)
    {
      ssize_t n = copy_file_range (part_fd, NULL, fd, NULL, st.st_size - done, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          close (part_fd);
          return FALSE;
        }
      done += n;
    }
  close (part_fd);
  *len_out = done;
  return TRUE;
}

/* Concatenates the parts into the object: temp file, rename. */
static gboolean
assemble_parts (EtsServer   *ets,
                const char  *upload_id,
                GArray      *numbers,
                const char  *object_key,
                gint64      *size_out,
                GError     **error)
{
  g_autofree char *path = object_path (ets, object_key);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *tmp = g_strdup_printf ("%s.partial-XXXXXX", path);
  gint64 total = 0;
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0 || (fd = g_mkstemp_full (tmp, O_WRONLY, 0600)) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create %s: %s", tmp, g_strerror (errno));
      return FALSE;
    }

  for (guint i = 0; i < numbers->len; i++)
    {
      g_autofree char *part_path = g_strdup_printf ("%s/multipart/%s/%" G_GINT64_FORMAT, ets->data_dir,
                                                    upload_id, g_array_index (numbers, gint64, i));
      g_autoptr(GMappedFile) mapped = NULL;
      const char *data;
      gsize len, done = 0;

      /* In the kernel, without mapping the part or copying it through
       * user space; a file system that cannot falls back to write(). */
      if (copy_part (part_path, fd, &len))
        {
          total += len;
          continue;
        }
      mapped = g_mapped_file_new (part_path, FALSE, error);
      if (mapped == NULL)
        goto fail;
      data = g_mapped_file_get_contents (mapped);
      len = g_mapped_file_get_length (mapped);
      if (lseek (fd, total, SEEK_SET) < 0 || ftruncate (fd, total) != 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                       "Cannot write %s: %s", tmp, g_strerror (errno));
          goto fail;
        }
      while (done < len)
        {
          ssize_t n = write (fd, data + done, len - done);

          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                           "Cannot write %s: %s", tmp, g_strerror (errno));
              goto fail;
            }
          done += n;
        }
      total += len;
    }

  if (close (fd) != 0)
    {
      fd = -1;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot close %s: %s", tmp, g_strerror (errno));
      goto fail;
    }
  fd = -1;
  if (g_rename (tmp, path) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot rename %s: %s", tmp, g_strerror (errno));
      goto fail;
    }
  *size_out = total;
  return TRUE;

fail:
  if (fd >= 0)
    close (fd);
  g_unlink (tmp);
  return FALSE;
}

static void
handle_complete (EtsRequest *req,
                 const char *object_key)
{
  EtsServer *ets = req->ets;
  SoupMessageBody *request_body = soup_server_message_get_request_body (req->msg);
  g_autoptr(GBytes) body = soup_message_body_flatten (request_body);
  g_autoptr(sqlite3_stmt) upload = NULL;
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) etags = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GChecksum) combined = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *parts_dir = NULL;
  static const GMarkupParser parser = { complete_start, complete_end, complete_text, NULL, NULL };
  CompleteParse cp = { numbers, etags, g_string_new (NULL), 0, NULL, FALSE, FALSE };
  const char *upload_id = ets_query_string (req, "uploadId");
  gboolean parsed;
  gint64 size;

  if (!verify_request (req, "POST", object_key))
    goto out;

  upload = ets_db_prepare (ets, "SELECT completed_etag FROM multipart_uploads WHERE upload_id = ? AND object_key = ?");
  sqlite3_bind_text (upload, 1, upload_id != NULL ? upload_id : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (upload, 2, object_key, -1, SQLITE_TRANSIENT);
  if (upload_id == NULL || sqlite3_step (upload) != SQLITE_ROW)
    {
      reply_s3_error (req->msg, SOUP_STATUS_NOT_FOUND, "NoSuchUpload",
                      "The specified multipart upload does not exist.", object_key);
      goto out;
    }
  if (sqlite3_column_type (upload, 0) != SQLITE_NULL)
    {
      /* A retried completion of a finished upload gets the same answer. */
      reply_complete (req, object_key, ets_column_text (upload, 0));
      goto out;
    }

  context = g_markup_parse_context_new (&parser, 0, &cp, NULL);
  parsed = g_markup_parse_context_parse (context, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL) &&
           g_markup_parse_context_end_parse (context, NULL);
  if (!parsed || cp.bad || numbers->len == 0)
    {
      reply_s3_error (req->msg, SOUP_STATUS_BAD_REQUEST, "MalformedXML",
                      "The XML you provided was not well-formed or did not validate against our published schema.",
                      object_key);
      goto out;
    }

  combined = g_checksum_new (G_CHECKSUM_MD5);
  for (guint i = 0; i < numbers->len; i++)
    {
      g_autoptr(sqlite3_stmt) part = NULL;
      gint64 number = g_array_index (numbers, gint64, i);
      guint8 raw[16];
      gsize raw_len;

      if (i > 0 && number <= g_array_index (numbers, gint64, i - 1))
        {
          reply_s3_error (req->msg, SOUP_STATUS_BAD_REQUEST, "InvalidPartOrder",
                          "The list of parts was not in ascending order.", object_key);
          goto out;
        }
      part = ets_db_prepare (ets, "SELECT size, etag FROM multipart_parts WHERE upload_id = ? AND part_number = ?");
      sqlite3_bind_text (part, 1, upload_id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (part, 2, number);
      if (sqlite3_step (part) != SQLITE_ROW ||
          !g_str_equal (ets_column_text (part, 1), g_ptr_array_index (etags, i)))
        {
          reply_s3_error (req->msg, SOUP_STATUS_BAD_REQUEST, "InvalidPart",
                          "One or more of the specified parts could not be found. The part may not have"
                          " been uploaded, or the specified entity tag may not match the part's entity tag.",
                          object_key);
          goto out;
        }
      if (i + 1 < numbers->len && sqlite3_column_int64 (part, 0) < MIN_PART_SIZE)
        {
          reply_s3_error (req->msg, SOUP_STATUS_BAD_REQUEST, "EntityTooSmall",
                          "Your proposed upload is smaller than the minimum allowed object size.",
                          object_key);
          goto out;
        }
      raw_len = sodium_hex2bin (raw, sizeof raw, ets_column_text (part, 1), 32, NULL, &raw_len, NULL) == 0
                ? sizeof raw : 0;
      g_checksum_update (combined, raw, raw_len);
    }

  if (!assemble_parts (ets, upload_id, numbers, object_key, &size, &error))
    {
      g_warning ("%s", error->message);
      reply_s3_error (req->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "InternalError",
                      "We encountered an internal error. Please try again.", object_key);
      goto out;
    }

  etag = g_strdup_printf ("%s-%u", g_checksum_get_string (combined), numbers->len);
  record_blob (ets, object_key, size, etag);
  {
    g_autoptr(sqlite3_stmt) done = ets_db_prepare (ets,
                                                   "UPDATE multipart_uploads SET completed_etag = ? WHERE upload_id = ?");
    g_autoptr(sqlite3_stmt) parts = ets_db_prepare (ets, "DELETE FROM multipart_parts WHERE upload_id = ?");

    sqlite3_bind_text (done, 1, etag, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (done, 2, upload_id, -1, SQLITE_TRANSIENT);
    sqlite3_step (done);
    sqlite3_bind_text (parts, 1, upload_id, -1, SQLITE_TRANSIENT);
    sqlite3_step (parts);
  }

  parts_dir = g_build_filename (ets->data_dir, "multipart", upload_id, NULL);
  {
    g_autoptr(GDir) dir = g_dir_open (parts_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *file = g_build_filename (parts_dir, name, NULL);
        g_unlink (file);
      }
    g_rmdir (parts_dir);
  }
  reply_complete (req, object_key, etag);

out:
  g_string_free (cp.text, TRUE);
  g_free (cp.etag);
}

static void
handle_get (EtsRequest *req,
            const char *object_key,
            gboolean    head)
{
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (req->msg);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(sqlite3_stmt) blob = NULL;
  g_autofree char *path = NULL;
  const char *content_type = ets_query_string (req, "response-content-type");
  const char *disposition = ets_query_string (req, "response-content-disposition");
  SoupRange *ranges = NULL;
  int n_ranges = 0;
  gsize total;

  /* A presigned GET also authorises HEAD on the same URL. */
  if (!verify_request (req, "GET", object_key))
    return;

  path = object_path (req->ets, object_key);
  mapped = g_mapped_file_new (path, FALSE, NULL);
  if (mapped == NULL)
    {
      reply_s3_error (req->msg, SOUP_STATUS_NOT_FOUND, "NoSuchKey", "The specified key does not exist.", object_key);
      return;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  total = g_bytes_get_size (bytes);

  blob = ets_db_prepare (req->ets, "SELECT etag FROM blobs WHERE object_key = ?");
  sqlite3_bind_text (blob, 1, object_key, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (blob) == SQLITE_ROW)
    {
      g_autofree char *quoted = g_strdup_printf ("\"%s\"", ets_column_text (blob, 0));
      soup_message_headers_replace (headers, "ETag", quoted);
    }
  soup_message_headers_replace (headers, "Accept-Ranges", "bytes");
  if (disposition != NULL)
    soup_message_headers_replace (headers, "Content-Disposition", disposition);
  soup_message_headers_set_content_type (headers, content_type != NULL ? content_type : "binary/octet-stream", NULL);

  if (!head && soup_message_headers_get_one (request_headers, "Range") != NULL)
    {
      if (!soup_message_headers_get_ranges (request_headers, total, &ranges, &n_ranges))
        {
          g_autofree char *range = g_strdup_printf ("bytes */%" G_GSIZE_FORMAT, total);

          soup_message_headers_replace (headers, "Content-Range", range);
          reply_s3_error (req->msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, "InvalidRange",
                          "The requested range is not satisfiable", object_key);
          return;
        }
      if (n_ranges == 1)
        {
          g_autoptr(GBytes) slice = g_bytes_new_from_bytes (bytes, ranges[0].start,
                                                            ranges[0].end - ranges[0].start + 1);

          soup_message_headers_set_content_range (headers, ranges[0].start, ranges[0].end, total);
          soup_message_headers_free_ranges (request_headers, ranges);
          soup_server_message_set_status (req->msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
          soup_message_body_append_bytes (soup_server_message_get_response_body (req->msg), slice);
          return;
        }
      soup_message_headers_free_ranges (request_headers, ranges);
    }

  soup_server_message_set_status (req->msg, SOUP_STATUS_OK, NULL);
  if (head)
    soup_message_headers_set_content_length (headers, total);
  else
    soup_message_body_append_bytes (soup_server_message_get_response_body (req->msg), bytes);
}

gboolean
ets_storage_route (EtsRequest *req)
{
  const char *object_key;

  if (!g_str_has_prefix (req->path, PATH_PREFIX))
    return FALSE;

  object_key = req->path + strlen (PATH_PREFIX);
  if (!valid_object_key (object_key))
    {
      reply_s3_error (req->msg, SOUP_STATUS_NOT_FOUND, "NoSuchKey", "The specified key does not exist.", object_key);
      return TRUE;
    }

  if (g_str_equal (req->method, "PUT"))
    handle_put (req, object_key);
  else if (g_str_equal (req->method, "POST"))
    handle_complete (req, object_key);
  else if (g_str_equal (req->method, "GET"))
    handle_get (req, object_key, FALSE);
  else if (g_str_equal (req->method, "HEAD"))
    handle_get (req, object_key, TRUE);
  else
    reply_s3_error (req->msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "MethodNotAllowed",
                    "The specified method is not allowed against this resource.", object_key);
  return TRUE;
}
