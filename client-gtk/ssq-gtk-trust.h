/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-trust.h: the desktop client's side of trust on first use: the
 * dialog that shows a server's key for confirmation, and the one that
 * refuses a changed key. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* @trusted: the person chose "Trust and Connect" (the key is then pinned). */
typedef void (*SsqGtkTrustDone) (gboolean  trusted,
                                 gpointer  user_data);

GtkWidget *ssq_gtk_trust_ask          (GtkWindow       *parent,
                                       const char      *url,
                                       const GError    *error,
                                       SsqGtkTrustDone  done,
                                       gpointer         user_data);
GtkWidget *ssq_gtk_trust_show_changed (GtkWindow       *parent,
                                       const char      *url,
                                       const GError    *error);

G_END_DECLS
