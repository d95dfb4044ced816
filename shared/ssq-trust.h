/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-trust.h: trust on first use. The fingerprint of a server's TLS public
 * key, the pins the clients keep per server (HOST:PORT) in a key file, the
 * check of a presented certificate against them, and the rule that plain
 * http:// goes only to loopback unless the user insists. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The pins' file in the user's configuration directory. */
#define SSQ_TRUST_FILE_NAME "known-servers.ini"

char     *ssq_trust_default_store          (void);
char     *ssq_trust_server_key             (const char       *url,
                                            GError          **error);
char     *ssq_trust_server_display         (const char       *url);
char     *ssq_trust_server_url             (const char       *url);
gboolean  ssq_trust_url_is_tls             (const char       *url);
gboolean  ssq_trust_url_is_loopback        (const char       *url);
gboolean  ssq_trust_check_transport        (const char       *url,
                                            gboolean          insecure,
                                            GError          **error);

char     *ssq_trust_lookup                 (const char       *store,
                                            const char       *url,
                                            GError          **error);
gboolean  ssq_trust_pin                    (const char       *store,
                                            const char       *url,
                                            const char       *fingerprint,
                                            GError          **error);
gboolean  ssq_trust_forget                 (const char       *store,
                                            const char       *url,
                                            gboolean         *out_found,
                                            GError          **error);

char     *ssq_trust_certificate_fingerprint (GTlsCertificate *certificate,
                                             GError         **error);
gboolean  ssq_trust_check_certificate      (const char       *store,
                                            const char       *url,
                                            GTlsCertificate  *certificate,
                                            GError          **error);
char     *ssq_trust_fingerprint_display    (const char       *fingerprint);
char     *ssq_trust_fingerprint_lines      (const char       *fingerprint,
                                            guint             pairs_per_line);

G_END_DECLS
