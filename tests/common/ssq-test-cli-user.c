/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-cli-user.c: see the header. */
#include "ssq-test-cli-user.h"
#include "ssq-test-server.h"

CliUser *
cli_user_new (void)
{
  CliUser *user = g_new0 (CliUser, 1);
  g_autoptr(GError) error = NULL;

  user->home = g_dir_make_tmp ("ssq-cli-XXXXXX", &error);
  g_assert_no_error (error);
  user->password_file = g_build_filename (user->home, "password", NULL);
  g_file_set_contents (user->password_file, "password123\n", -1, &error);
  g_assert_no_error (error);
  return user;
}

void
cli_user_free (CliUser *user)
{
  ssq_test_remove_tree (user->home);
  g_free (user->home);
  g_free (user->password_file);
  g_free (user);
}
