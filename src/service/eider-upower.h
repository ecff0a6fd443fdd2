/* eider-upower.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The power supply as UPower sees it, on the system bus (GDBus honours
 * DBUS_SYSTEM_BUS_ADDRESS, so tests bring their own): "on-battery" from
 * org.freedesktop.UPower's OnBattery, "battery-percentage" from the
 * display device's Percentage. Without UPower (or without a system bus),
 * the computer counts as plugged in at 100 %; when UPower appears later,
 * it is followed.
 *
 * Thread contract: main-thread only; notifications come on the main
 * context of the thread that created it.
 */

#define EIDER_TYPE_UPOWER (eider_upower_get_type ())
G_DECLARE_FINAL_TYPE (EiderUPower, eider_upower, EIDER, UPOWER, GObject)

EiderUPower *eider_upower_new                    (void);
gboolean     eider_upower_get_on_battery         (EiderUPower *self);
double       eider_upower_get_battery_percentage (EiderUPower *self);

G_END_DECLS
