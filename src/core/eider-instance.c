/* eider-instance.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-instance"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eider-instance.h"

struct _EiderInstance
{
  GObject               parent_instance;

  char                 *state_dir;
  char                 *lock_path;
  int                   lock_fd;
};

G_DEFINE_FINAL_TYPE (EiderInstance, eider_instance, G_TYPE_OBJECT)

G_DEFINE_QUARK (eider-instance-error-quark, eider_instance_error)

static void
eider_instance_dispose (GObject *object)
{
  EiderInstance *self = EIDER_INSTANCE (object);

  if (self->lock_fd >= 0)
    {
      if (ftruncate (self->lock_fd, 0) != 0)
        g_debug ("Could not empty %s: %s", self->lock_path, g_strerror (errno));
      close (self->lock_fd);
      self->lock_fd = -1;
    }

  G_OBJECT_CLASS (eider_instance_parent_class)->dispose (object);
}

static void
eider_instance_finalize (GObject *object)
{
  EiderInstance *self = EIDER_INSTANCE (object);

  g_free (self->state_dir);
  g_free (self->lock_path);

  G_OBJECT_CLASS (eider_instance_parent_class)->finalize (object);
}

static void
eider_instance_class_init (EiderInstanceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_instance_dispose;
  object_class->finalize = eider_instance_finalize;
}

static void
eider_instance_init (EiderInstance *self)
{
  self->lock_fd = -1;
}

/* The lock */

/* The holder writes its pid right after taking the lock; give it a moment
 * when we look in between. Returns 0 when the file stays empty. */
static gint64
read_holder_pid (int fd)
{
  for (guint attempt = 0; attempt < 20; attempt++)
    {
      char buf[32] = { 0 };
      ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
      gint64 pid = 0;

      if (n > 0)
        {
          g_strchomp (buf);
          if (g_ascii_string_to_signed (buf, 10, 1, G_MAXINT32, &pid, NULL))
            return pid;
        }
      g_usleep (5000);
    }

  return 0;
}

static gboolean
take_lock (EiderInstance  *self,
           GError        **error)
{
  g_autofree char *pid_text = NULL;
  int fd;

  fd = open (self->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not open %s: %s", self->lock_path, g_strerror (saved));
      return FALSE;
    }

  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;

      if (saved == EWOULDBLOCK)
        {
          gint64 pid = read_holder_pid (fd);

          if (pid > 0)
            g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_RUNNING,
                         "Another Eider (pid %" G_GINT64_FORMAT ") is already running with this "
                         "state directory (%s)", pid, self->state_dir);
          else
            g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_RUNNING,
                         "Another Eider is already running with this state directory (%s)",
                         self->state_dir);
        }
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                     "Could not lock %s: %s", self->lock_path, g_strerror (saved));
      close (fd);
      return FALSE;
    }

  pid_text = g_strdup_printf ("%d\n", (int) getpid ());
  if (ftruncate (fd, 0) != 0 ||
      pwrite (fd, pid_text, strlen (pid_text), 0) != (ssize_t) strlen (pid_text))
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not write %s: %s", self->lock_path, g_strerror (saved));
      close (fd);
      return FALSE;
    }

  self->lock_fd = fd;
  return TRUE;
}

/**
 * eider_instance_acquire:
 * @state_dir: the engine's state directory (it must exist)
 * @error: return location for an error
 *
 * Returns: (transfer full): the instance, which holds the directory until
 *   it is finalized
 */
EiderInstance *
eider_instance_acquire (const char  *state_dir,
                        GError     **error)
{
  g_autoptr(EiderInstance) self = NULL;

  g_return_val_if_fail (state_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (EIDER_TYPE_INSTANCE, NULL);
  self->state_dir = g_strdup (state_dir);
  self->lock_path = g_build_filename (state_dir, "eider.lock", NULL);

  if (!take_lock (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
eider_instance_get_state_dir (EiderInstance *self)
{
  g_return_val_if_fail (EIDER_IS_INSTANCE (self), NULL);

  return self->state_dir;
}
