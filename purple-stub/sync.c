/*
 * purple-stub: the sync command, a barrier for tests. Its answer comes from a
 * lowest-priority idle callback, which GLib runs only in a main-loop pass
 * where nothing else is ready: every earlier command has been run and every
 * socket that had input ready, every due timeout and every idle callback of
 * higher priority (libpurple's and the plugins') has been dispatched.
 */
#include "stub.h"

static gboolean
sync_cb(gpointer data)
{
	char *id = data;
	StubEvent *ev = ev_new("sync");

	ev_str(ev, "id", id);
	ev_emit(ev);
	return FALSE;
}

void
cmd_sync(const StubCmd *cmd)
{
	const char *id = cmd_arg(cmd, 0);

	g_idle_add_full(G_PRIORITY_LOW, sync_cb, g_strdup(id ? id : ""), g_free);
}
