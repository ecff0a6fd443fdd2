/* eider-suspend-inhibitor.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Keeps the computer from suspending while "active" is TRUE: a "sleep"
 * block inhibitor taken from logind (org.freedesktop.login1.Manager.Inhibit
 * on the system bus), held as the file descriptor logind returns and
 * released by closing it. "held" is TRUE while the descriptor is held.
 * Without logind nothing is held, and that is said once in the debug log.
 *
 * Thread contract: main-thread only.
 */

#define EIDER_TYPE_SUSPEND_INHIBITOR (eider_suspend_inhibitor_get_type ())
G_DECLARE_FINAL_TYPE (EiderSuspendInhibitor, eider_suspend_inhibitor, EIDER, SUSPEND_INHIBITOR, GObject)

/* @why: shown by "systemd-inhibit --list" and the desktop. */
EiderSuspendInhibitor *eider_suspend_inhibitor_new        (const char            *why);
void                   eider_suspend_inhibitor_set_active (EiderSuspendInhibitor *self,
                                                           gboolean               active);
gboolean               eider_suspend_inhibitor_get_active (EiderSuspendInhibitor *self);
gboolean               eider_suspend_inhibitor_get_held   (EiderSuspendInhibitor *self);

G_END_DECLS
