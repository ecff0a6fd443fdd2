/* eider-account-page.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "eider-dbus-generated.h"

G_BEGIN_DECLS

/* The Account page: the host's AccountEmail, AccountServer and storage
 * used against the quota, kept up to date from its properties; Log Out…
 * runs eider_account_logout in this process (as eiderctl account logout),
 * then asks the host to ReloadAccount.
 *
 * Thread contract: main-thread only. */

#define EIDER_TYPE_ACCOUNT_PAGE (eider_account_page_get_type ())

G_DECLARE_FINAL_TYPE (EiderAccountPage, eider_account_page, EIDER, ACCOUNT_PAGE, AdwBin)

void eider_account_page_set_engine (EiderAccountPage *self,
                                    EiderDBusEngine1 *engine);

G_END_DECLS
