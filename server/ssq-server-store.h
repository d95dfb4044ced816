/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store.h: the server's SQLite storage. Two connections: the
 * writer thread's, through which every write goes (SsqServerWriter, so that
 * many share one commit), and the main thread's, which reads. */
#pragma once

#include <glib.h>

#include "ssq-wire.h"

G_BEGIN_DECLS

#define SSQ_STORE_SCHEMA_VERSION 10

typedef struct _SsqServerStore SsqServerStore;

typedef struct {
  char   *id;
  char   *username;
  char   *display_name;
  gint64  created_at;
  gint64  last_seen;
  gboolean disabled;       /* by the server's administrator: no login */
  gboolean server_admin;
} SsqUserRow;

typedef struct {
  char   *id;
  char   *kind;          /* "direct" or "group" */
  char   *title;         /* NULL for direct */
  gint64  created_at;
  gint64  updated_at;
  gint64  last_seq;
  gint64  rev;           /* bumped by every edit and deletion */
} SsqConversationRow;

typedef struct {
  char    *user_id;
  char    *role;         /* "owner", "admin" or "member" */
  gboolean muted;
  gint64   read_seq;
  gint64   delivered_seq;
  gint64   joined_at;
} SsqMemberRow;

typedef struct {
  char    *id;
  char    *conversation_id;
  gint64   seq;
  char    *sender;
  char    *client_id;
  char    *body;
  gint64   created_at;
  gint64   edited_at;    /* 0 = never */
  gboolean deleted;
  gint64   reply_to;     /* 0 = none */
  gint64   rev;          /* the conversation's rev at its last change; 0 = never changed */
  char    *json;         /* the stored wire form of the above; NULL when not read */
  JsonArray *media;      /* its media objects; NULL: none */
} SsqMessageRow;

/* An uploaded file: its metadata; the bytes are in the media store
 * (ssq-server-media.h) under their SHA-256, shared by equal uploads. */
typedef struct {
  char   *id;
  char   *uploader;      /* user id */
  char   *name;
  char   *mime;          /* sniffed from the content */
  gint64  size;
  char   *sha256;        /* hex */
  gint64  width;         /* 0 = unknown */
  gint64  height;
  char   *thumbnail_hash;  /* in the media store too; NULL: none (yet) */
  char   *thumbnail_mime;
  gint64  created_at;
  gboolean thumbnail_pending;  /* an image whose thumbnail is still to be made */
} SsqMediaRow;

/* A login session: whose, and the hash of its token. */
typedef struct {
  char   *user_id;
  GBytes *token_hash;
} SsqSessionRow;

/* The first character of a deleted account's stored username. */
#define SSQ_DELETED_USERNAME_MARK '~'

void ssq_user_row_free         (SsqUserRow         *row);
gboolean ssq_user_row_is_deleted (const SsqUserRow  *row);
void ssq_session_row_free      (SsqSessionRow      *row);
void ssq_conversation_row_free (SsqConversationRow *row);
void ssq_member_row_free       (SsqMemberRow       *row);
void ssq_message_row_free      (SsqMessageRow      *row);
void ssq_media_row_free        (SsqMediaRow        *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqUserRow, ssq_user_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqSessionRow, ssq_session_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqConversationRow, ssq_conversation_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqMemberRow, ssq_member_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqMessageRow, ssq_message_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqMediaRow, ssq_media_row_free)

char           *ssq_server_store_new_id        (char                prefix);
char           *ssq_server_store_new_message_id (void);

/* Connection and transactions (ssq-server-store.c) */
SsqServerStore *ssq_server_store_open          (const char         *path,
                                                gboolean            durable,
                                                GError            **error);
SsqServerStore *ssq_server_store_open_another  (const char         *path,
                                                gboolean            durable,
                                                GError            **error);
SsqServerStore *ssq_server_store_open_checkpointer (const char         *path,
                                                     gboolean            durable,
                                                     GError            **error);
SsqServerStore *ssq_server_store_open_at_version (const char       *path,
                                                  int               version,
                                                  GError          **error);
void            ssq_server_store_close         (SsqServerStore     *store);
int             ssq_server_store_get_version   (SsqServerStore     *store);
char           *ssq_server_store_dump_schema   (SsqServerStore     *store);
gboolean        ssq_server_store_exec          (SsqServerStore     *store,
                                                const char         *sql,
                                                GError            **error);
gboolean        ssq_server_store_tune_writer   (SsqServerStore     *store,
                                                GError            **error);
/* Runs on the committing thread after each commit, with the write-ahead
 * log's length in frames; it replaces SQLite's automatic checkpoint. */
typedef void (*SsqServerStoreCommitHook) (SsqServerStore *store,
                                          guint           wal_frames,
                                          gpointer        user_data);
void            ssq_server_store_set_commit_hook (SsqServerStore          *store,
                                                  SsqServerStoreCommitHook hook,
                                                  gpointer                 user_data);
gboolean        ssq_server_store_checkpoint    (SsqServerStore     *store,
                                                guint               restart_wait_ms,
                                                guint              *wal_frames,
                                                guint              *copied,
                                                gboolean           *complete,
                                                GError            **error);
guint64         ssq_server_store_wal_generation (SsqServerStore    *store);
gboolean        ssq_server_store_run           (SsqServerStore     *store,
                                                const char         *static_sql,
                                                GError            **error);
gboolean        ssq_server_store_begin         (SsqServerStore     *store,
                                                GError            **error);
gboolean        ssq_server_store_commit        (SsqServerStore     *store,
                                                GError            **error);
void            ssq_server_store_rollback      (SsqServerStore     *store);
gboolean        ssq_server_store_in_transaction (SsqServerStore    *store);

/* Counters a batch of sends holds back (ssq-server-store-deferred.c) */
void            ssq_server_store_defer_begin   (SsqServerStore     *store);
gboolean        ssq_server_store_defer_flush   (SsqServerStore     *store,
                                                GError            **error);
void            ssq_server_store_defer_end     (SsqServerStore     *store);
gboolean        ssq_server_store_member_mark_sent (SsqServerStore  *store,
                                                   const char      *conversation_id,
                                                   const char      *user_id,
                                                   gint64           seq,
                                                   GError         **error);

/* Accounts and sessions (ssq-server-store-users.c) */
gboolean        ssq_server_store_user_insert   (SsqServerStore     *store,
                                                const SsqUserRow   *user,
                                                const char         *pw_hash,
                                                GError            **error);
SsqUserRow     *ssq_server_store_user_by_id    (SsqServerStore     *store,
                                                const char         *id,
                                                GError            **error);
SsqUserRow     *ssq_server_store_user_by_name  (SsqServerStore     *store,
                                                const char         *username,
                                                char              **out_pw_hash,
                                                GError            **error);
char           *ssq_server_store_user_pw_hash  (SsqServerStore     *store,
                                                const char         *id,
                                                GError            **error);
gboolean        ssq_server_store_user_delete   (SsqServerStore     *store,
                                                const char         *user_id,
                                                GError            **error);
gboolean        ssq_server_store_user_update   (SsqServerStore     *store,
                                                const SsqUserRow   *user,
                                                GError            **error);
gboolean        ssq_server_store_user_set_pw_hash (SsqServerStore  *store,
                                                   const char      *user_id,
                                                   const char      *pw_hash,
                                                   GError         **error);
GPtrArray      *ssq_server_store_users_search  (SsqServerStore     *store,
                                                const char         *prefix,
                                                guint               limit,
                                                GError            **error);
gboolean        ssq_server_store_session_insert (SsqServerStore    *store,
                                                 const guint8      *token_hash,
                                                 gsize              hash_len,
                                                 const char        *user_id,
                                                 const char        *device,
                                                 gint64             now,
                                                 gint64             expires_at,
                                                 GError           **error);
char           *ssq_server_store_session_user  (SsqServerStore     *store,
                                                const guint8       *token_hash,
                                                gsize               hash_len,
                                                gint64              now,
                                                gint64             *out_expires_at,
                                                GError            **error);
gboolean        ssq_server_store_session_revoke (SsqServerStore    *store,
                                                 const guint8      *token_hash,
                                                 gsize              hash_len,
                                                 GError           **error);
gboolean        ssq_server_store_sessions_revoke_user (SsqServerStore *store,
                                                       const char     *user_id,
                                                       GBytes         *except_hash,
                                                       GError        **error);
GPtrArray      *ssq_server_store_sessions_purge (SsqServerStore    *store,
                                                 gint64             now,
                                                 GError           **error);

/* Conversations and members (ssq-server-store-conversations.c) */
gboolean        ssq_server_store_conversation_insert (SsqServerStore           *store,
                                                      const SsqConversationRow *conv,
                                                      const char               *direct_key,
                                                      GError                  **error);
SsqConversationRow *ssq_server_store_conversation_get (SsqServerStore  *store,
                                                       const char      *id,
                                                       GError         **error);
SsqConversationRow *ssq_server_store_direct_find (SsqServerStore       *store,
                                                  const char           *direct_key,
                                                  GError              **error);
gboolean        ssq_server_store_conversation_touch (SsqServerStore    *store,
                                                     const char        *id,
                                                     const char        *title,
                                                     gint64             now,
                                                     GError           **error);
GPtrArray      *ssq_server_store_conversation_ids_for_user (SsqServerStore *store,
                                                            const char     *user_id,
                                                            GError        **error);
GPtrArray      *ssq_server_store_contacts      (SsqServerStore     *store,
                                                const char         *user_id,
                                                GError            **error);
GPtrArray      *ssq_server_store_members       (SsqServerStore     *store,
                                                const char         *conversation_id,
                                                GError            **error);
guint           ssq_server_store_member_count  (SsqServerStore     *store,
                                                const char         *conversation_id,
                                                GError            **error);
SsqMemberRow   *ssq_server_store_member_get    (SsqServerStore     *store,
                                                const char         *conversation_id,
                                                const char         *user_id,
                                                GError            **error);
gboolean        ssq_server_store_member_insert (SsqServerStore     *store,
                                                const char         *conversation_id,
                                                const char         *user_id,
                                                const char         *role,
                                                gint64              joined_at,
                                                GError            **error);
gboolean        ssq_server_store_member_delete (SsqServerStore     *store,
                                                const char         *conversation_id,
                                                const char         *user_id,
                                                GError            **error);
gboolean        ssq_server_store_member_set_role  (SsqServerStore  *store,
                                                   const char      *conversation_id,
                                                   const char      *user_id,
                                                   const char      *role,
                                                   GError         **error);
gboolean        ssq_server_store_member_set_muted (SsqServerStore  *store,
                                                   const char      *conversation_id,
                                                   const char      *user_id,
                                                   gboolean         muted,
                                                   GError         **error);
gboolean        ssq_server_store_member_mark   (SsqServerStore     *store,
                                                const char         *conversation_id,
                                                const char         *user_id,
                                                gint64              delivered_seq,
                                                gint64              read_seq,
                                                GError            **error);
gint64          ssq_server_store_unread_count  (SsqServerStore     *store,
                                                const char         *conversation_id,
                                                const char         *user_id,
                                                gint64              read_seq,
                                                GError            **error);

/* Messages (ssq-server-store-messages.c) */
SsqMessageRow  *ssq_server_store_message_by_client_id (SsqServerStore *store,
                                                       const char     *conversation_id,
                                                       const char     *sender,
                                                       const char     *client_id,
                                                       GError        **error);
SsqMessageRow  *ssq_server_store_message_get   (SsqServerStore     *store,
                                                const char         *conversation_id,
                                                gint64              seq,
                                                GError            **error);
gboolean        ssq_server_store_message_append (SsqServerStore    *store,
                                                 SsqMessageRow     *message,
                                                 GError           **error);
gboolean        ssq_server_store_message_update (SsqServerStore    *store,
                                                 SsqMessageRow     *message,
                                                 GError           **error);
GPtrArray      *ssq_server_store_messages_changed (SsqServerStore  *store,
                                                   const char      *conversation_id,
                                                   gint64           after_rev,
                                                   gint64           max_seq,
                                                   guint            limit,
                                                   GError         **error);
void            ssq_message_row_to_wire         (const SsqMessageRow *message,
                                                 SsqWireMessage     *out);
char           *ssq_server_store_message_encode (const SsqMessageRow *message,
                                                 gsize              *out_length);
gboolean        ssq_server_store_messages_page  (SsqServerStore    *store,
                                                 const char        *conversation_id,
                                                 gint64             after_seq,
                                                 gint64             before_seq,
                                                 guint              limit,
                                                 gboolean           newest,
                                                 GString           *out,
                                                 gboolean          *out_has_more,
                                                 GError           **error);
typedef void  (*SsqStoredJsonFunc)               (const char        *json,
                                                 gsize              length,
                                                 gpointer           user_data);
gboolean        ssq_server_store_messages_json_foreach (SsqServerStore    *store,
                                                 const char        *conversation_id,
                                                 gint64             after_seq,
                                                 guint              limit,
                                                 SsqStoredJsonFunc  each,
                                                 gpointer           user_data,
                                                 gboolean          *out_more,
                                                 GError           **error);
GPtrArray      *ssq_server_store_messages_range (SsqServerStore    *store,
                                                 const char        *conversation_id,
                                                 gint64             after_seq,
                                                 gint64             before_seq,
                                                 guint              limit,
                                                 gboolean           newest,
                                                 GError           **error);

/* Media (ssq-server-store-media.c) */
gboolean        ssq_server_store_media_insert   (SsqServerStore    *store,
                                                 const SsqMediaRow *media,
                                                 guint64            quota,
                                                 GError           **error);
SsqMediaRow    *ssq_server_store_media_get      (SsqServerStore    *store,
                                                 const char        *id,
                                                 GError           **error);
SsqMediaRow    *ssq_server_store_media_get_for  (SsqServerStore    *store,
                                                 const char        *id,
                                                 const char        *user_id,
                                                 GError           **error);
gboolean        ssq_server_store_media_usage    (SsqServerStore    *store,
                                                 const char        *user_id,
                                                 guint64           *out_bytes,
                                                 GError           **error);
gboolean        ssq_server_store_media_holds_size (SsqServerStore  *store,
                                                   const char      *user_id,
                                                   guint64          size,
                                                   gboolean        *out_held,
                                                   GError         **error);
gboolean        ssq_server_store_media_check_attachable (SsqServerStore     *store,
                                                         const char *const  *media_ids,
                                                         const char         *user_id,
                                                         GError            **error);
gboolean        ssq_server_store_message_attach_media (SsqServerStore     *store,
                                                       SsqMessageRow      *message,
                                                       const char *const  *media_ids,
                                                       GError            **error);
gboolean        ssq_server_store_message_detach_media (SsqServerStore     *store,
                                                       const SsqMessageRow *message,
                                                       GPtrArray          *out_freed,
                                                       GError            **error);
gboolean        ssq_server_store_media_set_image (SsqServerStore   *store,
                                                  const char       *id,
                                                  gint64            width,
                                                  gint64            height,
                                                  const char       *thumbnail_hash,
                                                  const char       *thumbnail_mime,
                                                  GPtrArray        *out_messages,
                                                  GPtrArray        *out_freed,
                                                  GError          **error);
gboolean        ssq_server_store_media_share_image (SsqServerStore *store,
                                                    SsqMediaRow    *media,
                                                    GError        **error);
GPtrArray      *ssq_server_store_media_thumbnails_pending (SsqServerStore  *store,
                                                           guint            limit,
                                                           GError         **error);
gboolean        ssq_server_store_media_thumbnails_owed (SsqServerStore  *store,
                                                        guint64         *out_count,
                                                        GError         **error);
gboolean        ssq_server_store_media_thumbnail_failed (SsqServerStore  *store,
                                                         const char      *id,
                                                         GError         **error);
gboolean        ssq_server_store_media_expire   (SsqServerStore    *store,
                                                 gint64             created_before,
                                                 guint              limit,
                                                 GPtrArray         *out_freed,
                                                 GError           **error);
gboolean        ssq_server_store_media_hash_used (SsqServerStore   *store,
                                                  const char       *sha256,
                                                  gboolean         *out_used,
                                                  GError          **error);
GHashTable     *ssq_server_store_media_hashes   (SsqServerStore    *store,
                                                 GError           **error);

/* Administration (ssq-server-store-admin.c) */
gboolean        ssq_server_store_user_set_disabled (SsqServerStore *store,
                                                    const char     *user_id,
                                                    gboolean        disabled,
                                                    GError        **error);
gboolean        ssq_server_store_user_set_server_admin (SsqServerStore *store,
                                                        const char     *user_id,
                                                        gboolean        server_admin,
                                                        GError        **error);
gboolean        ssq_server_store_user_set_reset_code (SsqServerStore  *store,
                                                      const char      *user_id,
                                                      GBytes          *code_hash,
                                                      gint64           expires_at,
                                                      GError         **error);
GBytes         *ssq_server_store_user_reset_code (SsqServerStore      *store,
                                                  const char          *user_id,
                                                  gint64               now,
                                                  GError             **error);
JsonArray      *ssq_server_store_admin_users   (SsqServerStore     *store,
                                                gint64              now,
                                                GError            **error);
JsonObject     *ssq_server_store_admin_user    (SsqServerStore     *store,
                                                const char         *username,
                                                gint64              now,
                                                GError            **error);
JsonArray      *ssq_server_store_admin_conversations (SsqServerStore *store,
                                                      GError        **error);
JsonObject     *ssq_server_store_admin_conversation  (SsqServerStore *store,
                                                      const char     *id,
                                                      GError        **error);
JsonArray      *ssq_server_store_admin_sessions (SsqServerStore    *store,
                                                 const char        *user_id,
                                                 gint64             now,
                                                 GError           **error);
SsqSessionRow  *ssq_server_store_admin_session_find (SsqServerStore *store,
                                                     const char     *id,
                                                     gint64          now,
                                                     GError        **error);
JsonObject     *ssq_server_store_admin_counts  (SsqServerStore     *store,
                                                gint64              now,
                                                GError            **error);

/* Invites (ssq-server-store-invites.c) */
typedef struct {
  char   *id;
  guint8  token_hash[32];   /* SSQ_TOKEN_HASH_BYTES */
  char   *created_by;     /* a user id; NULL: the administration socket */
  gint64  created_at;
  gint64  expires_at;
  gint64  uses_left;
} SsqInviteRow;

void            ssq_invite_row_free            (SsqInviteRow       *row);
gboolean        ssq_server_store_invite_insert (SsqServerStore     *store,
                                                const SsqInviteRow *invite,
                                                GError            **error);
gboolean        ssq_server_store_invite_check  (SsqServerStore     *store,
                                                const guint8       *token_hash,
                                                gint64              now,
                                                GError            **error);
gboolean        ssq_server_store_invite_use    (SsqServerStore     *store,
                                                const guint8       *token_hash,
                                                gint64              now,
                                                GError            **error);
gboolean        ssq_server_store_invite_delete (SsqServerStore     *store,
                                                const char         *id,
                                                GError            **error);
JsonObject     *ssq_server_store_invite_get    (SsqServerStore     *store,
                                                const char         *id,
                                                GError            **error);
JsonArray      *ssq_server_store_invites_list  (SsqServerStore     *store,
                                                GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqInviteRow, ssq_invite_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerStore, ssq_server_store_close)

G_END_DECLS
