/* eider-throttle.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* An upload bandwidth cap shared by every upload: a token bucket that
 * holds a quarter of a second of the rate. Request bodies are read through
 * eider_throttle_wrap_bytes(); each read takes its bytes from the bucket
 * and waits when the bucket is in debt, so all streams together stay at
 * the rate. A rate of 0 means no cap (reads never wait).
 *
 * The asynchronous read of a wrapped stream waits on a timeout source of
 * the thread-default main context (it never blocks it); the synchronous
 * read sleeps, and stops early when its cancellable is cancelled.
 *
 * Thread contract: all methods are thread-safe; one wrapped stream is used
 * by one thread at a time, as any GInputStream.
 */

#define EIDER_TYPE_THROTTLE (eider_throttle_get_type ())
G_DECLARE_FINAL_TYPE (EiderThrottle, eider_throttle, EIDER, THROTTLE, GObject)

EiderThrottle *eider_throttle_new        (guint64        bytes_per_second);
void           eider_throttle_set_rate   (EiderThrottle *self,
                                          guint64        bytes_per_second);
guint64        eider_throttle_get_rate   (EiderThrottle *self);
/* A seekable stream over @bytes whose reads are paced by @self. */
GInputStream  *eider_throttle_wrap_bytes (EiderThrottle *self,
                                          GBytes        *bytes);

G_END_DECLS
