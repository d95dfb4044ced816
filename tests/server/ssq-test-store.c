/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-store.c: a database path in a fresh temporary directory, a
 * message row to append, and a file size limit standing for a full disk. */
#include "ssq-test-store.h"

char *
ssq_test_store_temp_db (void)
{
  g_autofree char *dir = ssq_test_temp_dir ("ssq-unit-XXXXXX");

  return g_build_filename (dir, "test.db", NULL);
}

SsqMessageRow *
ssq_test_store_message (const char *conversation_id,
                        const char *sender,
                        const char *client_id)
{
  SsqMessageRow *m = g_new0 (SsqMessageRow, 1);

  m->id = ssq_server_store_new_id ('m');
  m->conversation_id = g_strdup (conversation_id);
  m->sender = g_strdup (sender);
  m->client_id = g_strdup (client_id);
  m->body = g_strdup ("body");
  m->created_at = 1;
  return m;
}

void
ssq_test_gate_init (SsqTestGate *gate)
{
  g_mutex_init (&gate->lock);
  g_cond_init (&gate->cond);
  gate->released = FALSE;
}

void
ssq_test_gate_clear (SsqTestGate *gate)
{
  g_mutex_clear (&gate->lock);
  g_cond_clear (&gate->cond);
}

/* On the thread held. */
void
ssq_test_gate_wait (SsqTestGate *gate)
{
  g_mutex_lock (&gate->lock);
  while (!gate->released)
    g_cond_wait (&gate->cond, &gate->lock);
  g_mutex_unlock (&gate->lock);
}

void
ssq_test_gate_release (SsqTestGate *gate)
{
  g_mutex_lock (&gate->lock);
  gate->released = TRUE;
  g_cond_signal (&gate->cond);
  g_mutex_unlock (&gate->lock);
}
