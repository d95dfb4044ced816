/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-private.h: what the command runner (ssq-cli.c) and the output
 * (ssq-cli-output.c) of supersoniq-cli share. */
#pragma once

#include "ssq-cli.h"
#include "ssq-client.h"
#include "ssq-proto.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _Cli Cli;
typedef void (*CliStep) (Cli *cli, const GError *offline);

struct _Cli
{
  GMainLoop  *loop;
  SsqClient  *client;
  int         exit_code;

  /* Options. */
  char       *server;
  char       *user;
  char       *password_file;
  char       *display_name;
  char       *data_dir;
  char       *trust;         /* --trust FINGERPRINT */
  gboolean    insecure;      /* --insecure */
  gboolean    json;
  int         limit;
  int         timeout;
  char      **args;          /* the command's arguments */

  char      **files;         /* send --file */
  char       *output;        /* download -o, export -o */
  char       *media_dir;     /* export --media */
  int         uses;          /* invite create --uses; 0: not given */
  char       *expires;       /* invite create --expires */
  gpointer    export;        /* the export under way (ssq-cli-export.c) */
  char      **arguments;     /* queue declare --arg KEY=VALUE */
  char      **headers;       /* queue publish --header KEY=VALUE */
  char       *content_type;  /* queue publish --content-type */
  int         priority;      /* queue publish --priority; -1: not given */
  gboolean    transient;     /* queue declare and publish --transient */
  int         count;         /* queue get and consume --count; 0: not given */
  int         wait;          /* queue get --wait; -1: not given */
  gint64      taken;         /* messages get or consume printed so far */

  /* Connecting. */
  CliStep     after_connect;
  guint       timeout_source;
  GSourceFunc timeout_func;
  gboolean    connecting;
  gboolean    settling;      /* synced; waiting for the outbox to empty */

  /* send and tail. */
  char       *conversation_id;
  char       *client_id;
  CliStep     after_queue;

  /* Progress shown on standard error (ssq-cli-media.c). */
  SsqTransfer *watched;
  int          shown_percent;
};

/* Quitting and failing: errors go to stderr sanitized (and as JSON on
 * stdout with --json), with the exit code scripts rely on. */
void        ssq_cli_quit              (Cli              *cli,
                                       int               exit_code);
int         ssq_cli_exit_code_for     (const GError     *error);
void        ssq_cli_fail_with         (Cli              *cli,
                                       const GError     *error,
                                       int               exit_code);
void        ssq_cli_fail              (Cli              *cli,
                                       const GError     *error);
void        ssq_cli_fail_code         (Cli              *cli,
                                       SsqError          code,
                                       const char       *message);

/* Output: exact JSON with --json, sanitized lines for people otherwise. */
void        ssq_cli_print_json        (JsonNode         *node);
void        ssq_cli_print_json_object (JsonObject       *object);
void        ssq_cli_print_message     (Cli              *cli,
                                       SsqMessage       *message);
void        ssq_cli_print_messages    (Cli              *cli,
                                       GPtrArray        *messages);
JsonObject *ssq_cli_conversation_to_json (Cli           *cli,
                                          SsqConversation *conversation,
                                          GError       **error);
void        ssq_cli_print_conversation_line (SsqConversation *conversation);
gboolean    ssq_cli_print_conversation (Cli             *cli,
                                        SsqConversation *conversation);

void        ssq_cli_arm_timeout       (Cli              *cli,
                                       GSourceFunc       func);
void        ssq_cli_rearm_timeout     (Cli              *cli);

/* Connecting and naming conversations (ssq-cli.c). */
void        ssq_cli_connect           (Cli              *cli,
                                       CliStep           step);
SsqConversation *ssq_cli_find_conversation (Cli         *cli,
                                            const char  *name,
                                            GError     **error);
void        ssq_cli_fail_lookup       (Cli              *cli,
                                       const GError     *error);

/* Registering and logging in (ssq-cli.c). */
char       *ssq_cli_read_password     (Cli              *cli,
                                       const char       *prompt,
                                       GError          **error);
void        ssq_cli_session_done      (GObject          *source,
                                       GAsyncResult     *result,
                                       gpointer          user_data);

/* Clients and their server's key; forget-server (ssq-cli-trust.c). */
SsqClient  *ssq_cli_client_new        (Cli              *cli,
                                       const char       *url,
                                       const char       *fingerprint,
                                       GError          **error);
int         ssq_cli_forget_server     (Cli              *cli);

/* join and invite (ssq-cli-invite.c). */
int         ssq_cli_join              (Cli              *cli);
int         ssq_cli_invite            (Cli              *cli);

/* discover (ssq-cli-discover.c). */
int         ssq_cli_discover          (Cli              *cli);

/* queue (ssq-cli-queue.c). */
int         ssq_cli_queue             (Cli              *cli);
const char *ssq_cli_queue_usage       (void);

/* send (ssq-cli-send.c). */
int         ssq_cli_send              (Cli              *cli);

/* export (ssq-cli-export.c). */
void        ssq_cli_export_step       (Cli              *cli,
                                       const GError     *offline);
void        ssq_cli_export_abandon    (Cli              *cli,
                                       gboolean          interrupted);

/* Media (ssq-cli-media.c). */
int         ssq_cli_download          (Cli              *cli);
void        ssq_cli_watch_transfer    (Cli              *cli,
                                       SsqTransfer      *transfer);
void        ssq_cli_unwatch_transfer  (Cli              *cli);

G_END_DECLS
