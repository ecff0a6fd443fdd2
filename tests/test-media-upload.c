/* test-media-upload.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Media through the whole engine, against a real eider-test-server: files
 * made at test time (exiftool-written Exif with an offset, GPS and
 * orientation; a PNG dated by its name; a QuickTime clip with a creation
 * time and place; a Takeout sidecar; a live photo and a near miss) are
 * backed up, then read back from the outside — the collection's diff,
 * metadata and public magic metadata decrypted with each file's key, the
 * thumbnail and the body downloaded and decrypted, the live photo's zip
 * unpacked — and every value is checked exactly.
 */
#include "config.h"

#include <signal.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <libsoup/soup.h>

#include "eider-account.h"
#include "eider-crypto.h"
#include "eider-engine.h"
#include "eider-live-photo.h"
#include "eider-remote.h"
#include "eider-secret-store.h"
#include "eider-store.h"
#include "eider-test-daemon.h"
#include "eider-test-fixture.h"

/* Files ----------------------------------------------------------------------------- */

static char *
tree_path (TestFixture *fx,
           const char  *name)
{
  return g_build_filename (fx->tree, name, NULL);
}

/* A solid JPEG of @width × @height, then exiftool with @args. */
static void
make_jpeg (TestFixture        *fx,
           const char         *name,
           int                 width,
           int                 height,
           const char * const *args)
{
  g_autofree char *path = tree_path (fx, name);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  test_write_photo (fx->tree, name, width, height);
  if (args == NULL)
    return;

  g_ptr_array_add (argv, (char *) "exiftool");
  g_ptr_array_add (argv, (char *) "-q");
  g_ptr_array_add (argv, (char *) "-overwrite_original");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, NULL);
  g_assert_true (test_run_tool ((const char * const *) argv->pdata));
}

/* A QuickTime clip (Motion JPEG) of @n_frames at 25 frames per second,
 * with exiftool's QuickTime CreateDate (UTC) and optionally a place. */
static void
make_mov (TestFixture *fx,
          const char  *name,
          int          n_frames,
          const char  *create_date,
          const char  *gps)
{
  g_autofree char *path = tree_path (fx, name);
  g_autofree char *buffers = g_strdup_printf ("num-buffers=%d", n_frames);
  g_autofree char *location = g_strdup_printf ("location=%s", path);
  g_autofree char *date = g_strdup_printf ("-QuickTime:CreateDate=%s", create_date);
  g_autofree char *place = gps != NULL ? g_strdup_printf ("-UserData:GPSCoordinates=%s", gps) : NULL;
  const char *gst[] = { "gst-launch-1.0", "-q", "videotestsrc", buffers, "!",
                        "video/x-raw,format=I420,width=160,height=120,framerate=25/1", "!",
                        "jpegenc", "!", "qtmux", "!", "filesink", location, NULL };
  const char *tool[] = { "exiftool", "-q", "-overwrite_original", date, path, NULL, NULL };

  g_assert_true (test_run_tool (gst));
  if (place != NULL)
    {
      tool[4] = place;
      tool[5] = path;
    }
  g_assert_true (test_run_tool (tool));
}

static void
make_png (TestFixture *fx,
          const char  *name,
          int          width,
          int          height)
{
  g_autofree char *path = tree_path (fx, name);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_fill (pixbuf, 0x20a040ff);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "png", &error, NULL));
  g_assert_no_error (error);
}

static void
make_heic (TestFixture        *fx,
           const char         *name,
           const char * const *exif_args)
{
  g_autofree char *path = tree_path (fx, name);
  g_autofree char *jpeg = g_build_filename (fx->home, "heic-source.jpg", NULL);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 400, 300);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_fill (pixbuf, 0x3366ccff);
  g_assert_true (gdk_pixbuf_save (pixbuf, jpeg, "jpeg", &error, NULL));
  g_assert_no_error (error);
  g_assert_true (test_run_tool ((const char *[]) { "heif-enc", "-q", "60", "-o", path, jpeg, NULL }));

  g_ptr_array_add (argv, (char *) "exiftool");
  g_ptr_array_add (argv, (char *) "-q");
  g_ptr_array_add (argv, (char *) "-overwrite_original");
  for (guint i = 0; exif_args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) exif_args[i]);
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, NULL);
  g_assert_true (test_run_tool ((const char * const *) argv->pdata));
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);

  return g_bytes_new_take (contents, len);
}

static char *
hash_of (TestFixture *fx,
         const char  *name)
{
  g_autofree char *path = tree_path (fx, name);

  return test_hash_of (path);
}

static gboolean
bytes_equal_file (GBytes     *bytes,
                  const char *path)
{
  g_autoptr(GBytes) local = read_file (path);

  return g_bytes_equal (bytes, local);
}

/* The engine, in this process (so that the time zone is the test's) */

static EiderStore *
open_store (TestFixture *fx)
{
  g_autofree char *db = g_build_filename (fx->data, "eider.db", NULL);
  g_autoptr(GError) error = NULL;
  EiderStore *store = eider_store_open (db, &error);

  g_assert_no_error (error);

  return store;
}

static void
run_once (EiderAccount *account,
          EiderStore   *store)
{
  g_autoptr(EiderEngine) engine = eider_engine_new (account, store);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  eider_engine_set_retry_base_ms (engine, 50);
  eider_engine_run_once_async (engine, NULL, test_result_cb, &result);
  g_assert_true (eider_engine_run_once_finish (engine, test_wait (&result), &error));
  g_assert_no_error (error);
}

/* What is in Ente, from the outside ------------------------------------------------- */

typedef struct
{
  EiderAccount *account;
  EiderStore   *store;
  EiderRemote  *remote;
  char         *dir;
  char         *token;
  gint64        album_id;
  JsonNode     *diff;       /* the album's whole diff */
} RemoteView;

static void
remote_view_free (RemoteView *view)
{
  g_clear_pointer (&view->diff, json_node_unref);
  g_clear_object (&view->remote);
  g_clear_object (&view->store);
  g_clear_object (&view->account);
  test_rm_rf (view->dir);
  g_free (view->dir);
  g_free (view->token);
  g_free (view);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RemoteView, remote_view_free)

static RemoteView *
remote_view_new (TestFixture *fx,
                 const char  *album)
{
  RemoteView *view = g_new0 (RemoteView, 1);
  g_autofree char *db = NULL;
  g_autofree char *secrets = g_build_filename (fx->config, "secrets.json", NULL);
  g_autofree char *path = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) collections = NULL;
  g_autoptr(EiderSecretStore) secret_store = NULL;
  g_autoptr(EiderSecret) master = NULL;
  g_autoptr(EiderSecret) token = NULL;

  view->dir = test_make_tmpdir ("eider-media-view-XXXXXX");
  db = g_build_filename (view->dir, "view.db", NULL);
  view->account = eider_account_new (fx->config);
  g_assert_true (eider_account_load (view->account, &error));
  view->store = eider_store_open (db, &error);
  g_assert_no_error (error);
  view->remote = eider_remote_new (view->account, view->store);

  eider_remote_sync_async (view->remote, NULL, test_result_cb, &result);
  g_assert_true (eider_remote_sync_finish (view->remote, test_wait (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  collections = eider_store_list_collections (view->store, NULL);
  for (guint i = 0; i < collections->len; i++)
    {
      EiderCollectionRecord *c = g_ptr_array_index (collections, i);

      if (!c->is_deleted && g_strcmp0 (c->name, album) == 0)
        {
          g_assert_cmpint (view->album_id, ==, 0);
          view->album_id = c->id;
        }
    }
  g_assert_cmpint (view->album_id, >, 0);

  secret_store = eider_secret_store_new (EIDER_SECRET_BACKEND_FILE, secrets);
  g_assert_true (eider_secret_store_load (secret_store, fx->server->url, fx->email, &master, &token,
                                          &error));
  view->token = g_strdup ((const char *) eider_secret_peek (token));

  /* The raw diff: what any Ente client reads. */
  path = g_strdup_printf ("/collections/v2/diff?collectionID=%" G_GINT64_FORMAT "&sinceTime=0",
                          view->album_id);
  eider_api_call_async (eider_account_get_api (view->account), "GET", path, NULL,
                        EIDER_API_CALL_AUTH, NULL, test_result_cb, &result);
  view->diff = eider_api_call_finish (eider_account_get_api (view->account), test_wait (&result),
                                      &error);
  g_assert_no_error (error);
  g_assert_nonnull (view->diff);

  return view;
}

static GBytes *
http_get (TestFixture *fx,
          RemoteView  *view,
          const char  *what,
          gint64       file_id)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  GBytes *body;

  url = g_strdup_printf ("%s/files/%s/%" G_GINT64_FORMAT, fx->server->url, what, file_id);
  msg = soup_message_new ("GET", url);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "X-Auth-Token",
                                view->token);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);

  return body;
}

/* One Ente file as a client sees it: decrypted. */
typedef struct
{
  gint64      id;
  EiderSecret *key;
  JsonObject *metadata;
  JsonObject *pubmm;        /* NULL when the file has none */
  gint64      pubmm_count;
  GBytes     *thumbnail;    /* JPEG */
  GBytes     *body;
  JsonParser *parsers[2];
} Seen;

static void
seen_free (Seen *seen)
{
  g_clear_pointer (&seen->key, eider_secret_free);
  g_clear_pointer (&seen->thumbnail, g_bytes_unref);
  g_clear_pointer (&seen->body, g_bytes_unref);
  g_clear_object (&seen->parsers[0]);
  g_clear_object (&seen->parsers[1]);
  g_free (seen);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Seen, seen_free)

static JsonObject *
decrypt_json (JsonParser        *parser,
              const EiderSecret *key,
              const char        *data_b64,
              const char        *header_b64)
{
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_autoptr(GError) error = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];

  data = eider_base64_decode (data_b64, &error);
  g_assert_no_error (error);
  g_assert_true (eider_base64_decode_exact (header_b64, header, sizeof header, &error));
  plain = eider_blob_decrypt (g_bytes_get_data (data, NULL), g_bytes_get_size (data), key, header,
                              &error);
  g_assert_no_error (error);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (plain, NULL),
                                             g_bytes_get_size (plain), &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_node_get_object (json_parser_get_root (parser));
}

static GBytes *
decrypt_body (const EiderSecret *key,
              const char        *header_b64,
              GBytes            *encrypted)
{
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes (encrypted);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];

  g_assert_true (eider_base64_decode_exact (header_b64, header, sizeof header, &error));
  g_assert_true (eider_crypto_decrypt_stream (in, out, key, header, g_bytes_get_size (encrypted),
                                              NULL, &error));
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, NULL);

  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* The one file of the album with this title, type and hash (Ente's dedupe
 * key), decrypted completely. */
static Seen *
see (TestFixture *fx,
     RemoteView  *view,
     const char  *title,
     int          file_type,
     const char  *hash)
{
  g_autoptr(GPtrArray) matches = eider_remote_find_duplicates (view->remote, title, file_type, hash);
  g_autoptr(EiderSecret) collection_key = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *diff = json_object_get_array_member (json_node_get_object (view->diff), "diff");
  JsonObject *file = NULL;
  EiderRemoteFileRecord *entry = NULL;
  Seen *seen = g_new0 (Seen, 1);

  for (guint i = 0; i < matches->len; i++)
    {
      EiderRemoteFileRecord *m = g_ptr_array_index (matches, i);

      if (m->collection_id == view->album_id)
        {
          if (entry != NULL)
            g_error ("%s is in the album more than once", title);
          entry = m;
        }
    }
  if (entry == NULL)
    g_error ("%s (type %d) is not in the album with hash %s", title, file_type, hash);
  seen->id = entry->id;

  for (guint i = 0; i < json_array_get_length (diff); i++)
    {
      JsonObject *o = json_array_get_object_element (diff, i);

      if (json_object_get_int_member (o, "id") == entry->id)
        file = o;
    }
  g_assert_nonnull (file);
  g_assert_false (json_object_get_boolean_member_with_default (file, "isDeleted", FALSE));

  collection_key = eider_remote_get_collection_key (view->remote, view->album_id, &error);
  g_assert_no_error (error);
  seen->key = eider_crypto_unwrap_key (json_object_get_string_member (file, "encryptedKey"),
                                       json_object_get_string_member (file, "keyDecryptionNonce"),
                                       collection_key, &error);
  g_assert_no_error (error);

  {
    JsonObject *md = json_object_get_object_member (file, "metadata");

    seen->parsers[0] = json_parser_new ();
    seen->metadata = decrypt_json (seen->parsers[0], seen->key,
                                   json_object_get_string_member (md, "encryptedData"),
                                   json_object_get_string_member (md, "decryptionHeader"));
  }
  if (json_object_has_member (file, "pubMagicMetadata") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (file, "pubMagicMetadata")))
    {
      JsonObject *pm = json_object_get_object_member (file, "pubMagicMetadata");

      g_assert_cmpint (json_object_get_int_member (pm, "version"), ==, 1);
      seen->pubmm_count = json_object_get_int_member (pm, "count");
      seen->parsers[1] = json_parser_new ();
      seen->pubmm = decrypt_json (seen->parsers[1], seen->key,
                                  json_object_get_string_member (pm, "data"),
                                  json_object_get_string_member (pm, "header"));
      g_assert_cmpint (seen->pubmm_count, ==, json_object_get_size (seen->pubmm));
    }

  {
    g_autoptr(GBytes) thumb = http_get (fx, view, "preview", entry->id);
    g_autoptr(GBytes) body = http_get (fx, view, "download", entry->id);
    JsonObject *t = json_object_get_object_member (file, "thumbnail");
    JsonObject *f = json_object_get_object_member (file, "file");
    guint8 header[EIDER_STREAM_HEADER_BYTES];

    g_assert_true (eider_base64_decode_exact (json_object_get_string_member (t, "decryptionHeader"),
                                              header, sizeof header, &error));
    seen->thumbnail = eider_blob_decrypt (g_bytes_get_data (thumb, NULL), g_bytes_get_size (thumb),
                                          seen->key, header, &error);
    g_assert_no_error (error);
    seen->body = decrypt_body (seen->key, json_object_get_string_member (f, "decryptionHeader"), body);
  }

  /* What the metadata says of itself. */
  g_assert_cmpstr (json_object_get_string_member (seen->metadata, "title"), ==, title);
  g_assert_cmpint (json_object_get_int_member (seen->metadata, "fileType"), ==, file_type);
  g_assert_cmpstr (json_object_get_string_member (seen->metadata, "hash"), ==, hash);
  g_assert_false (json_object_has_member (seen->metadata, "imageHash"));
  g_assert_false (json_object_has_member (seen->metadata, "localID"));

  return seen;
}

static void
assert_thumbnail (Seen *seen,
                  int   width,
                  int   height)
{
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new_with_type ("jpeg", NULL);
  g_autoptr(GError) error = NULL;
  const guint8 *data;
  gsize len;
  GdkPixbuf *pixbuf;

  g_assert_false (json_object_get_boolean_member_with_default (seen->metadata,
                                                               "hasStaticThumbnail", FALSE));
  data = g_bytes_get_data (seen->thumbnail, &len);
  g_assert_cmpuint (len, >, 3);
  g_assert_cmpuint (data[0], ==, 0xff);
  g_assert_cmpuint (data[1], ==, 0xd8);
  g_assert_true (gdk_pixbuf_loader_write (loader, data, len, &error));
  g_assert_true (gdk_pixbuf_loader_close (loader, &error));
  g_assert_no_error (error);
  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  g_assert_nonnull (pixbuf);
  g_assert_cmpint (MAX (gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf)), <=, 720);
  /* Upright, the aspect kept. */
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, width);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, height);
}

static void
assert_place (Seen   *seen,
              double  latitude,
              double  longitude)
{
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (seen->metadata, "latitude"),
                                  latitude, 1e-6);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (seen->metadata, "longitude"),
                                  longitude, 1e-6);
}

static gint64
md_int (Seen       *seen,
        const char *member)
{
  JsonNode *node = json_object_get_member (seen->metadata, member);

  g_assert_nonnull (node);
  /* Ente wants JSON integers: no fraction, no exponent. */
  g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_INT64);

  return json_node_get_int (node);
}

static const char *
pubmm_str (Seen       *seen,
           const char *member)
{
  g_assert_nonnull (seen->pubmm);

  return json_object_get_string_member_with_default (seen->pubmm, member, NULL);
}

static gint64
pubmm_int (Seen       *seen,
           const char *member)
{
  g_assert_nonnull (seen->pubmm);

  return json_object_get_int_member_with_default (seen->pubmm, member, -1);
}

static gint64
mtime_us (TestFixture *fx,
          const char  *name)
{
  g_autofree char *path = tree_path (fx, name);
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);

  /* Ente's rule: milliseconds × 1000. */
  return (gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000000 * 1000;
}

/* The tree of the test */

static const char *const JPEG_EXIF[] = {
  "-EXIF:DateTimeOriginal=2023:08:23 18:03:00", "-EXIF:OffsetTimeOriginal=+05:30",
  "-EXIF:GPSLatitude=12.97", "-EXIF:GPSLatitudeRef=N",
  "-EXIF:GPSLongitude=77.59", "-EXIF:GPSLongitudeRef=E",
  "-EXIF:Orientation#=6", "-EXIF:Make=Eider Optics ", "-EXIF:Model=Test Camera 1", NULL
};
static const char *const HEIC_EXIF[] = {
  "-EXIF:DateTimeOriginal=2024:05:01 10:00:00", "-EXIF:OffsetTimeOriginal=+02:00",
  "-EXIF:Make=Apple", "-EXIF:Model=iPhone 15", NULL
};
static const char *const NEAR_EXIF[] = {
  "-EXIF:DateTimeOriginal=2024:05:01 10:00:00", "-EXIF:OffsetTimeOriginal=+00:00", NULL
};

static void
make_tree (TestFixture *fx)
{
  static const char sidecar[] =
    "{\"title\": \"takeout.jpg\", \"description\": \"From Takeout\",\n"
    " \"photoTakenTime\": {\"timestamp\": \"1600000000\", \"formatted\": \"13 Sep 2020\"},\n"
    " \"geoData\": {\"latitude\": 40.7128, \"longitude\": -74.006, \"altitude\": 0}}\n";

  make_jpeg (fx, "exif.jpg", 400, 300, JPEG_EXIF);
  make_png (fx, "Screenshot_20220115-093000.png", 64, 48);
  make_mov (fx, "clip.mov", 40, "2019:03:04 05:06:07", "48.8577 N, 2.2950 E");

  /* A live photo: names, sizes and capture dates (two seconds apart) fit. */
  make_heic (fx, "IMG_0001.HEIC", (const char *const *) HEIC_EXIF);
  make_mov (fx, "IMG_0001.MOV", 30, "2024:05:01 08:00:03", NULL);

  /* A near miss: names and sizes fit, the dates are two days apart. */
  make_jpeg (fx, "IMG_0002.JPG", 320, 240, NEAR_EXIF);
  make_mov (fx, "IMG_0002.MOV", 30, "2024:05:03 10:00:00", NULL);

  /* Google Takeout: the JSON next to the photo gives its date and place. */
  make_jpeg (fx, "takeout.jpg", 120, 80, NULL);
  test_write_text (fx->tree, "takeout.jpg.json", sidecar, strlen (sidecar));
}

static void
test_media_upload (void)
{
  TestFixture fx = { 0 };
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(RemoteView) view = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *album = NULL;
  g_autofree char *live_hash = NULL;
  g_autofree char *heic_path = NULL;
  g_autofree char *mov_path = NULL;

  test_fixture_set_up (&fx, NULL);
  make_tree (&fx);
  album = g_filename_display_basename (fx.tree);
  heic_path = tree_path (&fx, "IMG_0001.HEIC");
  mov_path = tree_path (&fx, "IMG_0001.MOV");

  account = eider_account_new (fx.config);
  g_assert_true (eider_account_load (account, &error));
  store = open_store (&fx);
  watch = eider_store_add_watch (store, fx.tree, EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_no_error (error);

  run_once (account, store);

  /* Seven Ente files: the live photo is one. */
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, 7);

  /* Both halves are recorded as uploaded, as the same Ente file. */
  {
    g_autoptr(EiderFileRecord) image = eider_store_find_file (store, heic_path);
    g_autoptr(EiderFileRecord) video = eider_store_find_file (store, mov_path);
    g_autofree char *sidecar = tree_path (&fx, "takeout.jpg.json");
    g_autoptr(EiderFileRecord) json = eider_store_find_file (store, sidecar);
    g_autofree char *image_hash = hash_of (&fx, "IMG_0001.HEIC");
    g_autofree char *video_hash = hash_of (&fx, "IMG_0001.MOV");
    g_autofree char *zips = NULL;

    live_hash = g_strconcat (image_hash, ":", video_hash, NULL);
    g_assert_cmpint (image->state, ==, EIDER_FILE_UPLOADED);
    g_assert_cmpint (video->state, ==, EIDER_FILE_UPLOADED);
    g_assert_cmpint (image->remote_file_id, >, 0);
    g_assert_cmpint (video->remote_file_id, ==, image->remote_file_id);
    g_assert_cmpint (video->collection_id, ==, image->collection_id);
    g_assert_cmpint (image->file_type, ==, 2);
    g_assert_cmpint (video->file_type, ==, 2);
    g_assert_cmpstr (image->hash, ==, live_hash);
    g_assert_cmpstr (video->hash, ==, live_hash);
    g_assert_cmpint (image->reason_code, ==, EIDER_REASON_NONE);
    g_assert_null (image->reason_details);
    g_assert_cmpint (video->reason_code, ==, EIDER_REASON_LIVE_PHOTO_PART);
    g_assert_cmpstr (video->reason_details, ==, "IMG_0001.HEIC");
    g_assert_cmpint (json->state, ==, EIDER_FILE_SKIPPED);
    g_assert_cmpint (json->reason_code, ==, EIDER_REASON_SIDECAR_JSON);

    /* The zip was only needed until the upload was recorded. */
    zips = g_build_filename (fx.data, "live-photos", NULL);
    if (g_file_test (zips, G_FILE_TEST_IS_DIR))
      {
        g_autoptr(GDir) dir = g_dir_open (zips, 0, NULL);

        g_assert_null (g_dir_read_name (dir));
      }
  }

  view = remote_view_new (&fx, album);

  /* Exif with an offset, GPS, orientation 6, camera. */
  {
    g_autofree char *hash = hash_of (&fx, "exif.jpg");
    g_autoptr(Seen) s = see (&fx, view, "exif.jpg", 0, hash);
    g_autofree char *path = tree_path (&fx, "exif.jpg");

    g_assert_cmpint (md_int (s, "creationTime"), ==, G_GINT64_CONSTANT (1692793980000000));
    g_assert_cmpint (md_int (s, "modificationTime"), ==, mtime_us (&fx, "exif.jpg"));
    assert_place (s, 12.97, 77.59);
    g_assert_false (json_object_has_member (s->metadata, "duration"));
    g_assert_cmpint (s->pubmm_count, ==, 6);
    g_assert_cmpstr (pubmm_str (s, "dateTime"), ==, "2023-08-23T18:03:00.000");
    g_assert_cmpstr (pubmm_str (s, "offsetTime"), ==, "+05:30");
    g_assert_cmpint (pubmm_int (s, "w"), ==, 300);
    g_assert_cmpint (pubmm_int (s, "h"), ==, 400);
    g_assert_cmpstr (pubmm_str (s, "cameraMake"), ==, "Eider Optics");
    g_assert_cmpstr (pubmm_str (s, "cameraModel"), ==, "Test Camera 1");
    assert_thumbnail (s, 300, 400);
    g_assert_true (bytes_equal_file (s->body, path));
  }

  /* No Exif: the date in the name (local time; the test runs in UTC). */
  {
    g_autofree char *hash = hash_of (&fx, "Screenshot_20220115-093000.png");
    g_autoptr(Seen) s = see (&fx, view, "Screenshot_20220115-093000.png", 0, hash);

    g_assert_cmpint (md_int (s, "creationTime"), ==, G_GINT64_CONSTANT (1642239000000000));
    g_assert_false (json_object_has_member (s->metadata, "latitude"));
    g_assert_cmpint (s->pubmm_count, ==, 2);
    g_assert_null (pubmm_str (s, "dateTime"));
    g_assert_cmpint (pubmm_int (s, "w"), ==, 64);
    g_assert_cmpint (pubmm_int (s, "h"), ==, 48);
    assert_thumbnail (s, 64, 48);
  }

  /* A video: the container's time and place, the duration rounded up. */
  {
    g_autofree char *hash = hash_of (&fx, "clip.mov");
    g_autoptr(Seen) s = see (&fx, view, "clip.mov", 1, hash);

    g_assert_cmpint (md_int (s, "creationTime"), ==, G_GINT64_CONSTANT (1551675967000000));
    assert_place (s, 48.8577, 2.295);
    g_assert_cmpint (md_int (s, "duration"), ==, 2);
    /* Web writes no w/h for videos. */
    g_assert_true (s->pubmm == NULL || !json_object_has_member (s->pubmm, "w"));
    assert_thumbnail (s, 160, 120);
  }

  /* The Takeout sidecar's date, place and description. */
  {
    g_autofree char *hash = hash_of (&fx, "takeout.jpg");
    g_autoptr(Seen) s = see (&fx, view, "takeout.jpg", 0, hash);

    g_assert_cmpint (md_int (s, "creationTime"), ==, G_GINT64_CONSTANT (1600000000000000));
    assert_place (s, 40.7128, -74.006);
    g_assert_cmpstr (pubmm_str (s, "caption"), ==, "From Takeout");
    g_assert_null (pubmm_str (s, "dateTime"));
    g_assert_cmpint (pubmm_int (s, "w"), ==, 120);
    g_assert_cmpint (pubmm_int (s, "h"), ==, 80);
  }

  /* The live photo: one file, the image's metadata, the zip of both. */
  {
    g_autoptr(Seen) s = see (&fx, view, "IMG_0001.HEIC", 2, live_hash);
    g_autoptr(GBytes) image = NULL;
    g_autoptr(GBytes) video = NULL;
    g_autofree char *image_ext = NULL;
    g_autofree char *video_ext = NULL;

    g_assert_cmpint (md_int (s, "creationTime"), ==, G_GINT64_CONSTANT (1714550400000000));
    g_assert_cmpint (md_int (s, "modificationTime"), ==, mtime_us (&fx, "IMG_0001.HEIC"));
    g_assert_false (json_object_has_member (s->metadata, "duration"));
    g_assert_cmpint (s->pubmm_count, ==, 6);
    g_assert_cmpstr (pubmm_str (s, "dateTime"), ==, "2024-05-01T10:00:00.000");
    g_assert_cmpstr (pubmm_str (s, "offsetTime"), ==, "+02:00");
    g_assert_cmpint (pubmm_int (s, "w"), ==, 400);
    g_assert_cmpint (pubmm_int (s, "h"), ==, 300);
    g_assert_cmpstr (pubmm_str (s, "cameraMake"), ==, "Apple");
    g_assert_cmpstr (pubmm_str (s, "cameraModel"), ==, "iPhone 15");
    assert_thumbnail (s, 400, 300);

    g_assert_true (eider_live_photo_unpack (s->body, &image, &image_ext, &video, &video_ext,
                                            &error));
    g_assert_no_error (error);
    g_assert_cmpstr (image_ext, ==, "HEIC");
    g_assert_cmpstr (video_ext, ==, "MOV");
    g_assert_true (bytes_equal_file (image, heic_path));
    g_assert_true (bytes_equal_file (video, mov_path));
  }

  /* The near miss: two files of their own. */
  {
    g_autofree char *jpg_hash = hash_of (&fx, "IMG_0002.JPG");
    g_autofree char *mov_hash = hash_of (&fx, "IMG_0002.MOV");
    g_autofree char *jpg_path = tree_path (&fx, "IMG_0002.JPG");
    g_autofree char *near_mov = tree_path (&fx, "IMG_0002.MOV");
    g_autoptr(Seen) jpg = see (&fx, view, "IMG_0002.JPG", 0, jpg_hash);
    g_autoptr(Seen) mov = see (&fx, view, "IMG_0002.MOV", 1, mov_hash);

    g_assert_cmpint (md_int (jpg, "creationTime"), ==, G_GINT64_CONSTANT (1714557600000000));
    g_assert_cmpint (md_int (mov, "creationTime"), ==, G_GINT64_CONSTANT (1714730400000000));
    g_assert_cmpint (md_int (mov, "duration"), ==, 2);
    g_assert_true (bytes_equal_file (jpg->body, jpg_path));
    g_assert_true (bytes_equal_file (mov->body, near_mov));
  }
  g_clear_pointer (&view, remote_view_free);

  /* A second pass finds nothing to do. */
  run_once (account, store);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, 7);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /files/update 200"), ==, 0);

  /* The video half edited: the live photo gets the new pair in place. */
  {
    g_autofree char *image_hash = NULL;
    g_autofree char *video_hash = NULL;
    g_autofree char *new_hash = NULL;
    g_autoptr(EiderFileRecord) image = NULL;
    g_autoptr(EiderFileRecord) video = NULL;
    g_autoptr(Seen) s = NULL;
    g_autoptr(GBytes) image_bytes = NULL;
    g_autoptr(GBytes) video_bytes = NULL;
    g_autofree char *image_ext = NULL;
    g_autofree char *video_ext = NULL;
    gint64 remote_id;

    {
      g_autoptr(EiderFileRecord) before = eider_store_find_file (store, heic_path);

      remote_id = before->remote_file_id;
    }
    make_mov (&fx, "IMG_0001.MOV", 35, "2024:05:01 08:00:05", NULL);
    image_hash = hash_of (&fx, "IMG_0001.HEIC");
    video_hash = hash_of (&fx, "IMG_0001.MOV");
    new_hash = g_strconcat (image_hash, ":", video_hash, NULL);
    g_assert_cmpstr (new_hash, !=, live_hash);

    run_once (account, store);
    g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, 7);
    g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /files/update 200"), ==, 1);

    image = eider_store_find_file (store, heic_path);
    video = eider_store_find_file (store, mov_path);
    g_assert_cmpint (image->state, ==, EIDER_FILE_UPLOADED);
    g_assert_cmpint (video->state, ==, EIDER_FILE_UPLOADED);
    g_assert_cmpint (image->remote_file_id, ==, remote_id);
    g_assert_cmpint (video->remote_file_id, ==, remote_id);
    g_assert_cmpstr (image->hash, ==, new_hash);
    g_assert_cmpstr (video->hash, ==, new_hash);

    view = remote_view_new (&fx, album);
    s = see (&fx, view, "IMG_0001.HEIC", 2, new_hash);
    g_assert_cmpint (s->id, ==, remote_id);
    g_assert_true (eider_live_photo_unpack (s->body, &image_bytes, &image_ext, &video_bytes,
                                            &video_ext, &error));
    g_assert_no_error (error);
    g_assert_true (bytes_equal_file (image_bytes, heic_path));
    g_assert_true (bytes_equal_file (video_bytes, mov_path));
  }

  g_clear_object (&store);
  test_fixture_tear_down (&fx);
}

/* A live photo's upload killed hard mid-way (the daemon, slowed by the
 * bandwidth cap) resumes from its acknowledged part: the zip is packed
 * again to the same bytes, no part goes twice, one Ente file results. */
static void
test_media_upload_live_resume (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autoptr(GPtrArray) acked = NULL;
  g_autoptr(RemoteView) view = NULL;
  g_autoptr(Seen) s = NULL;
  g_autoptr(GBytes) image = NULL;
  g_autoptr(GBytes) video = NULL;
  g_autofree char *image_ext = NULL;
  g_autofree char *video_ext = NULL;
  g_autofree char *image_path = NULL;
  g_autofree char *video_path = NULL;
  g_autofree char *image_hash = NULL;
  g_autofree char *video_hash = NULL;
  g_autofree char *joint = NULL;
  g_autofree char *album = NULL;
  g_autofree char *zips = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;

  test_fixture_set_up (&fx, NULL);
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);

  /* Two halves of 12 MiB (a 24 MiB zip: two S3 parts). The video has no
   * date of its own, the image's comes from its Takeout sidecar: exactly
   * one sidecar makes a pair (spec §7.1). */
  test_write_photo (fx.tree, "IMG_1234.JPG", 64, 48);
  image_path = tree_path (&fx, "IMG_1234.JPG");
  video_path = tree_path (&fx, "IMG_1234.MOV");
  {
    g_autoptr(GBytes) head = read_file (image_path);
    gsize n = g_bytes_get_size (head);
    gsize total = 12 * TEST_MiB;
    g_autofree guint8 *data = g_malloc (total);

    memcpy (data, g_bytes_get_data (head, NULL), n);
    for (gsize i = n; i < total; i++)
      data[i] = (guint8) g_random_int ();
    test_write_bytes (image_path, data, total);

    for (gsize i = 0; i < total; i++)
      data[i] = (guint8) g_random_int ();
    memcpy (data, "\x00\x00\x00\x14" "ftypqt  \x00\x00\x00\x00" "qt  ", 20);
    test_write_bytes (video_path, data, total);
  }
  {
    const char *sidecar = "{\"title\": \"IMG_1234.JPG\", \"photoTakenTime\": {\"timestamp\": \"1700000000\"}}";

    test_write_text (fx.tree, "IMG_1234.JPG.json", sidecar, strlen (sidecar));
  }
  image_hash = hash_of (&fx, "IMG_1234.JPG");
  video_hash = hash_of (&fx, "IMG_1234.MOV");
  joint = g_strconcat (image_hash, ":", video_hash, NULL);

  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "config", "set", "bandwidth-limit", "4096", NULL), ==, 0);
  d = test_daemon_spawn (&fx, NULL);

  test_wait_acknowledged_part (&fx, 120);
  test_daemon_stop (d, SIGKILL, 30);
  acked = test_acknowledged_parts (&fx);
  g_assert_cmpuint (acked->len, ==, 1);

  /* Resumed by a plain pass (no cap there). */
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "backup", "--once", NULL), ==, 0);
  test_assert_parts_sent_once (&fx, acked);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, 1);

  album = g_filename_display_basename (fx.tree);
  view = remote_view_new (&fx, album);
  s = see (&fx, view, "IMG_1234.JPG", 2, joint);
  g_assert_cmpint (md_int (s, "creationTime"), ==, G_GINT64_CONSTANT (1700000000000000));
  g_assert_true (eider_live_photo_unpack (s->body, &image, &image_ext, &video, &video_ext, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (image_ext, ==, "JPG");
  g_assert_cmpstr (video_ext, ==, "MOV");
  g_assert_true (bytes_equal_file (image, image_path));
  g_assert_true (bytes_equal_file (video, video_path));

  /* Nothing left behind. */
  zips = g_build_filename (fx.data, "live-photos", NULL);
  if (g_file_test (zips, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (zips, 0, NULL);

      g_assert_null (g_dir_read_name (dir));
    }

  g_unsetenv ("GSETTINGS_BACKEND");
  test_fixture_tear_down (&fx);
}

int
main (int   argc,
      char *argv[])
{
  /* Dates in file names are local time: pin the zone. */
  g_setenv ("TZ", "UTC", TRUE);
  tzset ();

  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media-upload/tree", test_media_upload);
  g_test_add_func ("/media-upload/live-resume", test_media_upload_live_resume);

  return g_test_run ();
}
