/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-test-util.h: helpers the desktop client's tests share: finding
 * widgets, pressing keys as a controller receives them, screenshots, the
 * test's home, the people and the window of a conversation. */
#pragma once

#include <adwaita.h>

#include "ssq-gtk-application.h"
#include "ssq-gtk-window.h"
#include "ssq-test-server.h"

G_BEGIN_DECLS

void       ssq_gtk_test_screenshot     (GtkWidget       *widget,
                                        const char      *name);
gboolean   ssq_gtk_test_render_png     (GtkWidget       *widget,
                                        const char      *path);
gboolean   ssq_gtk_test_press          (GtkWidget       *widget,
                                        guint            keyval,
                                        GdkModifierType  state);
gboolean   ssq_gtk_test_shortcut       (GtkWidget       *widget,
                                        guint            keyval,
                                        GdkModifierType  state);
GtkWidget *ssq_gtk_test_find_by_type   (GtkWidget       *widget,
                                        GType            type,
                                        const char      *label);
GtkWidget *ssq_gtk_test_find_by_tooltip (GtkWidget      *widget,
                                         const char     *tooltip);
void       ssq_gtk_test_collect_labels (GtkWidget       *widget,
                                        GString         *out);
guint      ssq_gtk_test_count_unnamed  (GtkWidget       *widget);
GFile     *ssq_gtk_test_make_file      (const char      *dir,
                                        const char      *name);
void       ssq_gtk_test_assert_same_bytes (const char   *a,
                                           const char   *b);

/* The test's home, a new directory from @tmpl: XDG_CACHE_HOME, and
 * XDG_DATA_HOME and XDG_CONFIG_HOME below it ("data", "config"). Call it
 * before GLib reads them: it keeps the first answer. */
char      *ssq_gtk_test_make_home      (const char      *tmpl);
/* The main () of a test of one function, in a home of its own from
 * @home_tmpl: its pins, settings and keyring are nobody else's. */
int        ssq_gtk_test_main           (int             *argc,
                                        char          ***argv,
                                        const char      *home_tmpl,
                                        const char      *path,
                                        GTestFunc        func);
/* The user directory @key (XDG_PICTURES_DIR, …) made as @root/@name and
 * written to @root/config/user-dirs.dirs. */
void       ssq_gtk_test_set_user_dir   (const char      *root,
                                        const char      *key,
                                        const char      *name);

/* A client of a new account @username, its files in @root/@username (or
 * none, if @root is NULL); connected and synced if @connect. */
SsqClient       *ssq_gtk_test_client     (SsqTestServer *server,
                                          const char    *root,
                                          const char    *username,
                                          gboolean       connect);
SsqConversation *ssq_gtk_test_direct     (SsqClient     *from,
                                          const char    *to);
/* Writes a text message of @from's; it goes from the outbox. */
void             ssq_gtk_test_send_text  (SsqClient     *from,
                                          const char    *conversation_id,
                                          const char    *body);
/* A window of @app (registered) on @client's session, with
 * @conversation_id open. */
SsqGtkWindow    *ssq_gtk_test_open_window (SsqGtkApplication *app,
                                           SsqClient         *client,
                                           const char        *conversation_id);
/* The first visible toplevel of @type, once there is one. */
GtkWindow       *ssq_gtk_test_wait_toplevel (GType            type);
/* Waits until the file chooser @chooser would answer @file. */
void             ssq_gtk_test_wait_chooser_file (GtkWindow   *chooser,
                                                 GFile       *file);

G_END_DECLS
