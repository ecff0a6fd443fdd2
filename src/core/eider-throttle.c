/* eider-throttle.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-throttle"
#include "config.h"

#include <math.h>
#include <string.h>

#include "eider-throttle.h"

/* The bucket holds this fraction of a second of the rate: short bursts are
 * smoothed, and a minute's average stays within a fraction of a percent. */
#define BUCKET_SECONDS 0.25
/* One read takes at most an eighth of a second of the rate, within these
 * bounds, so that waits stay short and the pace even. */
#define MIN_CHUNK 1024
#define MAX_CHUNK (256 * 1024)

struct _EiderThrottle
{
  GObject  parent_instance;

  GMutex   mutex;
  guint64  rate;       /* bytes per second; 0: no cap */
  double   tokens;     /* bytes that may go now; negative: debt to wait off */
  gint64   refilled;   /* monotonic time of the last refill */
};

G_DEFINE_FINAL_TYPE (EiderThrottle, eider_throttle, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_RATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static double
bucket_capacity (guint64 rate)
{
  return MAX ((double) rate * BUCKET_SECONDS, 1.0);
}

/* Takes @n bytes from the bucket. Returns how long (µs) the caller must
 * wait before sending them. */
static gint64
throttle_take (EiderThrottle *self,
               gsize          n)
{
  gint64 now = g_get_monotonic_time ();
  gint64 wait = 0;

  g_mutex_lock (&self->mutex);
  if (self->rate > 0)
    {
      double capacity = bucket_capacity (self->rate);

      self->tokens = MIN (capacity, self->tokens + (double) (now - self->refilled) * self->rate / G_USEC_PER_SEC);
      self->refilled = now;
      self->tokens -= (double) n;
      if (self->tokens < 0)
        wait = (gint64) ceil (-self->tokens * G_USEC_PER_SEC / self->rate);
    }
  g_mutex_unlock (&self->mutex);

  return wait;
}

/* A read that was cancelled while it waited gives its bytes back. */
static void
throttle_give_back (EiderThrottle *self,
                    gsize          n)
{
  g_mutex_lock (&self->mutex);
  if (self->rate > 0)
    self->tokens = MIN (bucket_capacity (self->rate), self->tokens + (double) n);
  g_mutex_unlock (&self->mutex);
}

static gsize
throttle_chunk (EiderThrottle *self,
                gsize          count)
{
  guint64 rate;

  g_mutex_lock (&self->mutex);
  rate = self->rate;
  g_mutex_unlock (&self->mutex);

  if (rate == 0)
    return count;

  return MIN (count, CLAMP (rate / 8, MIN_CHUNK, MAX_CHUNK));
}

static void
eider_throttle_finalize (GObject *object)
{
  EiderThrottle *self = EIDER_THROTTLE (object);

  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (eider_throttle_parent_class)->finalize (object);
}

static void
eider_throttle_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  EiderThrottle *self = EIDER_THROTTLE (object);

  switch (prop_id)
    {
    case PROP_RATE:
      g_value_set_uint64 (value, eider_throttle_get_rate (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_throttle_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  EiderThrottle *self = EIDER_THROTTLE (object);

  switch (prop_id)
    {
    case PROP_RATE:
      eider_throttle_set_rate (self, g_value_get_uint64 (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_throttle_class_init (EiderThrottleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = eider_throttle_finalize;
  object_class->get_property = eider_throttle_get_property;
  object_class->set_property = eider_throttle_set_property;

  /**
   * EiderThrottle:rate:
   *
   * The cap in bytes per second over all wrapped streams; 0 for none.
   */
  properties[PROP_RATE] =
    g_param_spec_uint64 ("rate", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
eider_throttle_init (EiderThrottle *self)
{
  g_mutex_init (&self->mutex);
  self->refilled = g_get_monotonic_time ();
}

/**
 * eider_throttle_new:
 * @bytes_per_second: the cap; 0 for none
 *
 * Returns: (transfer full): a new throttle
 */
EiderThrottle *
eider_throttle_new (guint64 bytes_per_second)
{
  return g_object_new (EIDER_TYPE_THROTTLE, "rate", bytes_per_second, NULL);
}

/**
 * eider_throttle_set_rate:
 * @self: a throttle
 * @bytes_per_second: the cap; 0 for none
 *
 * Changes the cap. Reads already waiting keep their wait; the next ones
 * follow the new rate.
 */
void
eider_throttle_set_rate (EiderThrottle *self,
                         guint64        bytes_per_second)
{
  gboolean changed;

  g_return_if_fail (EIDER_IS_THROTTLE (self));

  g_mutex_lock (&self->mutex);
  changed = self->rate != bytes_per_second;
  if (changed)
    {
      /* A new cap starts with a full bucket and no debt from the old one. */
      self->rate = bytes_per_second;
      self->tokens = bytes_per_second > 0 ? bucket_capacity (bytes_per_second) : 0;
      self->refilled = g_get_monotonic_time ();
    }
  g_mutex_unlock (&self->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RATE]);
}

guint64
eider_throttle_get_rate (EiderThrottle *self)
{
  guint64 rate;

  g_return_val_if_fail (EIDER_IS_THROTTLE (self), 0);

  g_mutex_lock (&self->mutex);
  rate = self->rate;
  g_mutex_unlock (&self->mutex);

  return rate;
}

/* The stream: bytes in memory, read at the throttle's pace. Private to
 * this file; callers only see a GInputStream that is also GSeekable, so
 * that libsoup can rewind it when it sends a request again. */

#define EIDER_TYPE_THROTTLED_STREAM (eider_throttled_stream_get_type ())
G_DECLARE_FINAL_TYPE (EiderThrottledStream, eider_throttled_stream, EIDER, THROTTLED_STREAM, GInputStream)

struct _EiderThrottledStream
{
  GInputStream   parent_instance;

  EiderThrottle *throttle;
  GBytes        *bytes;
  gsize          offset;
};

static void eider_throttled_stream_seekable_init (GSeekableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EiderThrottledStream, eider_throttled_stream, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_SEEKABLE, eider_throttled_stream_seekable_init))

static gsize
stream_next_chunk (EiderThrottledStream *self,
                   gsize                 count)
{
  gsize left = g_bytes_get_size (self->bytes) - self->offset;

  return throttle_chunk (self->throttle, MIN (count, left));
}

static void
stream_copy (EiderThrottledStream *self,
             void                 *buffer,
             gsize                 n)
{
  const guint8 *data = g_bytes_get_data (self->bytes, NULL);

  memcpy (buffer, data + self->offset, n);
  self->offset += n;
}

/* Sleeps @wait µs, or less when @cancellable is cancelled meanwhile. */
static gboolean
sleep_cancellable (gint64         wait,
                   GCancellable  *cancellable,
                   GError       **error)
{
  GPollFD pfd;

  if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, &pfd))
    {
      gint64 until = g_get_monotonic_time () + wait;
      gint64 now;

      while ((now = g_get_monotonic_time ()) < until && !g_cancellable_is_cancelled (cancellable))
        g_poll (&pfd, 1, (int) MIN ((until - now + 999) / 1000, G_MAXINT));
      g_cancellable_release_fd (cancellable);
    }
  else
    g_usleep (wait);

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static gssize
eider_throttled_stream_read (GInputStream  *stream,
                             void          *buffer,
                             gsize          count,
                             GCancellable  *cancellable,
                             GError       **error)
{
  EiderThrottledStream *self = EIDER_THROTTLED_STREAM (stream);
  gsize n = stream_next_chunk (self, count);
  gint64 wait;

  if (n == 0)
    return 0;

  wait = throttle_take (self->throttle, n);
  if (wait > 0 && !sleep_cancellable (wait, cancellable, error))
    {
      throttle_give_back (self->throttle, n);
      return -1;
    }

  stream_copy (self, buffer, n);

  return n;
}

static gssize
eider_throttled_stream_skip (GInputStream  *stream,
                             gsize          count,
                             GCancellable  *cancellable,
                             GError       **error)
{
  EiderThrottledStream *self = EIDER_THROTTLED_STREAM (stream);
  gsize n = MIN (count, g_bytes_get_size (self->bytes) - self->offset);

  /* Skipped bytes are not sent: nothing to pace. */
  self->offset += n;

  return n;
}

typedef struct
{
  void    *buffer;
  gsize    count;
  GSource *timer;
  GSource *cancelled;
} ReadData;

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
read_data_free (ReadData *data)
{
  clear_source (&data->timer);
  clear_source (&data->cancelled);
  g_free (data);
}

static gboolean
read_timer_cb (gpointer user_data)
{
  GTask *task = user_data;
  EiderThrottledStream *self = g_task_get_source_object (task);
  ReadData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->timer, g_source_unref);
  clear_source (&data->cancelled);
  stream_copy (self, data->buffer, data->count);
  g_task_return_int (task, data->count);

  return G_SOURCE_REMOVE;
}

static gboolean
read_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  GTask *task = user_data;
  EiderThrottledStream *self = g_task_get_source_object (task);
  ReadData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->cancelled, g_source_unref);
  clear_source (&data->timer);
  throttle_give_back (self->throttle, data->count);
  g_task_return_error_if_cancelled (task);

  return G_SOURCE_REMOVE;
}

static void
eider_throttled_stream_read_async (GInputStream        *stream,
                                   void                *buffer,
                                   gsize                count,
                                   int                  io_priority,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  EiderThrottledStream *self = EIDER_THROTTLED_STREAM (stream);
  g_autoptr(GTask) task = g_task_new (stream, cancellable, callback, user_data);
  ReadData *data;
  gsize n;
  gint64 wait;

  g_task_set_source_tag (task, eider_throttled_stream_read_async);
  g_task_set_priority (task, io_priority);

  if (g_task_return_error_if_cancelled (task))
    return;

  if ((n = stream_next_chunk (self, count)) == 0)
    {
      g_task_return_int (task, 0);
      return;
    }

  if ((wait = throttle_take (self->throttle, n)) == 0)
    {
      stream_copy (self, buffer, n);
      g_task_return_int (task, n);
      return;
    }

  /* Wait on the caller's main context: a timer, and the cancellable. Each
   * source holds a reference on the task until it fires or is destroyed. */
  data = g_new0 (ReadData, 1);
  data->buffer = buffer;
  data->count = n;
  g_task_set_task_data (task, data, (GDestroyNotify) read_data_free);

  data->timer = g_timeout_source_new ((guint) MIN ((wait + 999) / 1000, G_MAXUINT));
  g_source_set_priority (data->timer, io_priority);
  g_source_set_static_name (data->timer, "[eider] throttled read");
  g_source_set_callback (data->timer, read_timer_cb, g_object_ref (task), g_object_unref);
  g_source_attach (data->timer, g_task_get_context (task));

  if (cancellable != NULL)
    {
      data->cancelled = g_cancellable_source_new (cancellable);
      g_source_set_priority (data->cancelled, io_priority);
      g_source_set_callback (data->cancelled, G_SOURCE_FUNC (read_cancelled_cb),
                             g_object_ref (task), g_object_unref);
      g_source_attach (data->cancelled, g_task_get_context (task));
    }
}

static gssize
eider_throttled_stream_read_finish (GInputStream  *stream,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), -1);

  return g_task_propagate_int (G_TASK (result), error);
}

static gboolean
eider_throttled_stream_close (GInputStream  *stream,
                              GCancellable  *cancellable,
                              GError       **error)
{
  return TRUE;
}

static goffset
eider_throttled_stream_tell (GSeekable *seekable)
{
  return EIDER_THROTTLED_STREAM (seekable)->offset;
}

static gboolean
eider_throttled_stream_can_seek (GSeekable *seekable)
{
  return TRUE;
}

static gboolean
eider_throttled_stream_seek (GSeekable     *seekable,
                             goffset        offset,
                             GSeekType      type,
                             GCancellable  *cancellable,
                             GError       **error)
{
  EiderThrottledStream *self = EIDER_THROTTLED_STREAM (seekable);
  goffset size = g_bytes_get_size (self->bytes);
  goffset target;

  switch (type)
    {
    case G_SEEK_SET:
      target = offset;
      break;
    case G_SEEK_CUR:
      target = (goffset) self->offset + offset;
      break;
    case G_SEEK_END:
      target = size + offset;
      break;
    default:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Invalid seek type");
      return FALSE;
    }

  if (target < 0 || target > size)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Seek outside the stream");
      return FALSE;
    }

  self->offset = target;

  return TRUE;
}

static gboolean
eider_throttled_stream_can_truncate (GSeekable *seekable)
{
  return FALSE;
}

static gboolean
eider_throttled_stream_truncate (GSeekable     *seekable,
                                 goffset        offset,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Cannot truncate a request body");

  return FALSE;
}

static void
eider_throttled_stream_seekable_init (GSeekableIface *iface)
{
  iface->tell = eider_throttled_stream_tell;
  iface->can_seek = eider_throttled_stream_can_seek;
  iface->seek = eider_throttled_stream_seek;
  iface->can_truncate = eider_throttled_stream_can_truncate;
  iface->truncate_fn = eider_throttled_stream_truncate;
}

static void
eider_throttled_stream_finalize (GObject *object)
{
  EiderThrottledStream *self = EIDER_THROTTLED_STREAM (object);

  g_clear_object (&self->throttle);
  g_clear_pointer (&self->bytes, g_bytes_unref);

  G_OBJECT_CLASS (eider_throttled_stream_parent_class)->finalize (object);
}

static void
eider_throttled_stream_class_init (EiderThrottledStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = eider_throttled_stream_finalize;
  stream_class->read_fn = eider_throttled_stream_read;
  stream_class->skip = eider_throttled_stream_skip;
  stream_class->read_async = eider_throttled_stream_read_async;
  stream_class->read_finish = eider_throttled_stream_read_finish;
  stream_class->close_fn = eider_throttled_stream_close;
}

static void
eider_throttled_stream_init (EiderThrottledStream *self)
{
}

/**
 * eider_throttle_wrap_bytes:
 * @self: a throttle
 * @bytes: the body to send
 *
 * Returns: (transfer full): a seekable stream over @bytes whose reads are
 *   paced by @self
 */
GInputStream *
eider_throttle_wrap_bytes (EiderThrottle *self,
                           GBytes        *bytes)
{
  EiderThrottledStream *stream;

  g_return_val_if_fail (EIDER_IS_THROTTLE (self), NULL);
  g_return_val_if_fail (bytes != NULL, NULL);

  stream = g_object_new (EIDER_TYPE_THROTTLED_STREAM, NULL);
  stream->throttle = g_object_ref (self);
  stream->bytes = g_bytes_ref (bytes);

  return G_INPUT_STREAM (stream);
}
