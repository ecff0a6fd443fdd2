/* eider-test-fixture.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the backup and daemon tests share: a real eider-test-server, a fresh
 * account signed up on it (keys in a 0600 file under the test's config
 * folder), a photo tree to back up, generated photos and videos, and
 * eiderctl run against that state.
 */
#pragma once

#include "eider-store.h"
#include "eider-test-server-harness.h"

G_BEGIN_DECLS

#define TEST_PASSWORD "eider test password"
#define TEST_MiB      (1024 * 1024)

typedef struct
{
  TestServer *server;
  char       *home;     /* config, data and the photo tree live here */
  char       *config;
  char       *data;
  char       *tree;
  char       *email;
} TestFixture;

void         test_fixture_set_up    (TestFixture        *fx,
                                     const char * const *server_args);
void         test_fixture_tear_down (TestFixture        *fx);

void         test_write_bytes       (const char         *path,
                                     const guint8       *data,
                                     gsize               len);
void         test_write_text        (const char         *root,
                                     const char         *rel,
                                     const char         *data,
                                     gsize               len);
/* A JPEG of one random colour. */
void         test_write_photo       (const char         *root,
                                     const char         *rel,
                                     int                 width,
                                     int                 height);
/* A video-looking file: an ISO ftyp box, then random bytes. */
void         test_write_video       (const char         *root,
                                     const char         *rel,
                                     gsize               size);

/* eiderctl with the fixture's state; @prefix (nullable) runs it under
 * another program (strace). */
GSubprocess *test_eiderctl_spawn    (TestFixture        *fx,
                                     const char * const *prefix,
                                     const char * const *args);
/* Runs eiderctl to the end; its exit status, its output in *out. */
int          test_eiderctl          (TestFixture        *fx,
                                     const char * const *prefix,
                                     char              **out,
                                     const char         *first,
                                     ...) G_GNUC_NULL_TERMINATED;
/* The same, for a %NULL-terminated @args. */
int          test_eiderctl_argv     (TestFixture        *fx,
                                     const char * const *prefix,
                                     const char * const *args,
                                     char              **out);

/* The part numbers ("1", "2", …) of uploads in flight that the fixture's
 * database records as acknowledged, read through a second connection. */
GPtrArray   *test_acknowledged_parts (TestFixture       *fx);

/* Waits (running the main context) until an upload in flight has a part
 * acknowledged; fails the test after @seconds. */
void         test_wait_acknowledged_part (TestFixture  *fx,
                                          guint         seconds);

/* Each of these part numbers was PUT (with success) exactly once, by the
 * server's request log. */
void         test_assert_parts_sent_once (TestFixture  *fx,
                                          GPtrArray    *parts);

/* BLAKE2b of the file at @path, in Ente's base64. */
char        *test_hash_of           (const char         *path);

/* The same file in several watched folders (albums): copies
 * @folders[0]/@name (written already) into each other folder of the
 * %NULL-terminated @folders, under the tree, and watches every folder.
 * Returns the content's hash. */
char        *test_watch_copies      (TestFixture        *fx,
                                     const char * const *folders,
                                     const char         *name);
/* The same with a 45 MiB video, @folders[0]/same.mp4, sent at 8 MiB/s (a
 * bandwidth cap in settings kept in a key file: GSETTINGS_BACKEND is set),
 * so that the copies are hashed long before its upload ends. */
char        *test_watch_slow_copies (TestFixture        *fx,
                                     const char * const *folders);
/* The fixture's store, opened beside a running daemon's (WAL). */
EiderStore  *test_open_store        (TestFixture        *fx);
/* A meta value of the fixture's store. */
char        *test_store_meta        (TestFixture        *fx,
                                     const char         *key);

/* Wait (running the main context) until the store records the file at
 * @path as uploaded with content @hash, or until it has no record of
 * @path; fail the test after 60 s. @store may be a second connection to a
 * daemon's database. */
void         test_wait_uploaded_as  (EiderStore         *store,
                                     const char         *path,
                                     const char         *hash);
void         test_wait_forgotten    (EiderStore         *store,
                                     const char         *path);

G_END_DECLS
