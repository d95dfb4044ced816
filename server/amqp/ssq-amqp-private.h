/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-private.h: the AMQP front end's connections and channels, seen
 * by its own files: ssq-amqp-connection.c (the handshake, channel 0,
 * frames, heartbeats, errors), ssq-amqp-channel.c (the channel classes
 * mapped onto the broker), ssq-amqp-server.c (listeners, login). */
#pragma once

#include "ssq-amqp-frame.h"
#include "ssq-amqp-server.h"
#include "ssq-server-private.h"

G_BEGIN_DECLS

#define SSQ_AMQP_HANDSHAKE_TIMEOUT_MS 10000   /* from accept to connection.open-ok */
#define SSQ_AMQP_CLOSE_TIMEOUT_MS     3000    /* for the peer's close-ok */

typedef struct _SsqAmqpConnection SsqAmqpConnection;
typedef struct _SsqAmqpChannel    SsqAmqpChannel;

struct _SsqAmqpServer {
  SsqServer    *server;
  SsqNetServer *plain;
  SsqNetServer *tls;
  guint32       frame_max;
  guint16       channel_max;
  guint16       heartbeat;
  guint         max_channels;  /* open channels of all connections ([amqp] max_channels) */
  guint         n_channels;
  GQueue        connections;   /* SsqAmqpConnection * */
};

typedef enum {
  SSQ_AMQP_STATE_HEADER,    /* the protocol header is due */
  SSQ_AMQP_STATE_START_OK,  /* connection.start sent */
  SSQ_AMQP_STATE_LOGIN,     /* the password is being checked; reading paused */
  SSQ_AMQP_STATE_TUNE_OK,   /* connection.tune sent */
  SSQ_AMQP_STATE_OPEN,      /* connection.open is due */
  SSQ_AMQP_STATE_OPENED,
  SSQ_AMQP_STATE_CLOSING,   /* our connection.close sent: only close-ok counts */
  SSQ_AMQP_STATE_CLOSED,    /* the transport is gone or going */
} SsqAmqpState;

typedef struct _SsqAmqpLogin SsqAmqpLogin;

struct _SsqAmqpConnection {
  SsqAmqpServer      *server;
  SsqNetConn         *net;          /* a reference; NULL once closed */
  GList               link;         /* in server->connections */
  SsqAmqpState        state;
  guint8              header[8];
  guint               header_len;
  SsqAmqpFrameReader *reader;
  guint32             frame_max;
  guint16             channel_max;
  guint16             heartbeat;    /* seconds, 0 = none */
  gint64              accepted_ms;
  gint64              read_ms;      /* last frame in */
  gint64              write_ms;     /* last frame out */
  gint64              closing_ms;   /* our close was sent */
  char               *user_id;
  char               *username;
  gboolean            server_admin;
  SsqAmqpLogin       *login;        /* a password check in flight */
  SsqBrokerConnection *broker;      /* once open */
  GHashTable         *channels;     /* channel number -> SsqAmqpChannel */
  GByteArray         *out;          /* frames built, queued at the next flush */
  guint64             assembling;   /* bytes reserved by its channels' content being received */
  guint               confirm_idle; /* sends the confirms gathered this main-loop turn */
  gboolean            output_paused; /* not read until what it has to read drains */
};

/* ssq-amqp-connection.c */
SsqAmqpConnection *ssq_amqp_connection_new    (SsqAmqpServer     *server,
                                               SsqNetConn        *net);
void               ssq_amqp_connection_free   (SsqAmqpConnection *conn);
gsize              ssq_amqp_connection_feed   (SsqAmqpConnection *conn,
                                               const guint8      *data,
                                               gsize              len);
void               ssq_amqp_connection_timeout (SsqAmqpConnection *conn);
void               ssq_amqp_connection_drained (SsqAmqpConnection *conn);
/* Queues the frames built so far. */
void               ssq_amqp_connection_flush  (SsqAmqpConnection *conn);
/* A connection exception: connection.close with @code and @text, then
 * nothing but close-ok. */
void               ssq_amqp_connection_fail   (SsqAmqpConnection *conn,
                                               int                code,
                                               const char        *text,
                                               guint32            method_id);
/* The AMQP error of @error (its code a reply code) as a channel or a
 * connection exception, whichever the code is. */
void               ssq_amqp_connection_error  (SsqAmqpConnection *conn,
                                               guint16            channel,
                                               const GError      *error,
                                               guint32            method_id);
/* Confirms were gathered: they go out at the end of this main-loop turn. */
void               ssq_amqp_connection_confirms_later (SsqAmqpConnection *conn);
/* Sending is over its bound: deliveries stop until it drains. */
gboolean           ssq_amqp_connection_is_backed_up (SsqAmqpConnection *conn);
void               ssq_amqp_connection_logged_in (SsqAmqpConnection *conn,
                                                  const SsqUserRow  *user);
void               ssq_amqp_connection_login_refused (SsqAmqpConnection *conn,
                                                      const char        *text);

/* ssq-amqp-server.c: the login (PLAIN or AMQPLAIN), ending in
 * ssq_amqp_connection_logged_in or _login_refused, now or later. */
void               ssq_amqp_login_start       (SsqAmqpConnection *conn,
                                               const char        *mechanism,
                                               GBytes            *response);
void               ssq_amqp_login_cancel      (SsqAmqpLogin      *login);

/* ssq-amqp-channel.c */
SsqAmqpChannel    *ssq_amqp_channel_new       (SsqAmqpConnection *conn,
                                               guint16            number);
void               ssq_amqp_channel_free      (SsqAmqpChannel    *channel);
gboolean           ssq_amqp_channel_is_closing (SsqAmqpChannel   *channel);
void               ssq_amqp_channel_tell_outcomes (SsqAmqpChannel *channel);
/* A channel exception: channel.close sent, the broker's channel ended,
 * frames dropped until close-ok. */
void               ssq_amqp_channel_fail      (SsqAmqpChannel    *channel,
                                               const GError      *error,
                                               guint32            method_id);
/* A method of a class above channel's (and channel.flow). */
void               ssq_amqp_channel_method    (SsqAmqpChannel    *channel,
                                               guint32            id,
                                               SsqAmqpMethod     *method);
/* A content header or body frame. */
void               ssq_amqp_channel_content   (SsqAmqpChannel    *channel,
                                               const SsqAmqpFrame *frame);
/* The confirms gathered (basic.ack multiple) go out now. */
void               ssq_amqp_channel_send_confirms (SsqAmqpChannel *channel);
/* The connection's send queue has room again. */
void               ssq_amqp_channel_writable  (SsqAmqpChannel    *channel,
                                               gboolean           writable);

guint    ssq_amqp_server_user_channel_max (SsqAmqpServer *self);
guint    ssq_amqp_server_user_channels    (SsqAmqpServer *self,
                                           const char    *user_id);

G_END_DECLS
