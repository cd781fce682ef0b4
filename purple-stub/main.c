/*
 * purple-stub: a headless libpurple front end. Commands arrive on stdin, one
 * per line; events leave on stdout as one JSON object per line. See README.md.
 *
 * Usage: purple-stub --plugins DIR --user-dir DIR [--debug]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "stub.h"

#define STUB_VERSION "0.1.0"
/* Version of the line protocol (purple-stub/README.md): raised only on an incompatible change. */
#define STUB_PROTOCOL 1

static GMainLoop *loop;
static gboolean quitting;
static GHashTable *ui_info;

/* Keeps libpurple quiet on the network: no UPnP/NAT-PMP/STUN discovery, a
 * loopback public IP, no idle reporting of its own (idle is set by the idle command), no logs. */
static void
apply_prefs(void)
{
	purple_prefs_add_none("/purple/network");
	purple_prefs_add_bool("/purple/network/map_ports", FALSE);
	purple_prefs_set_bool("/purple/network/map_ports", FALSE);
	purple_prefs_add_bool("/purple/network/auto_ip", FALSE);
	purple_prefs_set_bool("/purple/network/auto_ip", FALSE);
	/* Network preferences' public IP: what a protocol advertises as our
	 * external address (direct connections between two stubs stay on this
	 * machine). */
	purple_prefs_add_string("/purple/network/public_ip", "127.0.0.1");
	purple_prefs_set_string("/purple/network/public_ip", "127.0.0.1");
	purple_prefs_add_none("/purple/away");
	purple_prefs_add_string("/purple/away/idle_reporting", "none");
	purple_prefs_set_string("/purple/away/idle_reporting", "none");
	purple_prefs_add_bool("/purple/away/away_when_idle", FALSE);
	purple_prefs_set_bool("/purple/away/away_when_idle", FALSE);
	purple_prefs_add_none("/purple/logging");
	purple_prefs_add_bool("/purple/logging/log_ims", FALSE);
	purple_prefs_set_bool("/purple/logging/log_ims", FALSE);
	purple_prefs_add_bool("/purple/logging/log_chats", FALSE);
	purple_prefs_set_bool("/purple/logging/log_chats", FALSE);
	purple_prefs_add_bool("/purple/logging/log_system", FALSE);
	purple_prefs_set_bool("/purple/logging/log_system", FALSE);
}

static void
ui_init(void)
{
	uiops_install();
	purple_request_set_ui_ops(requests_ui_ops());
	purple_accounts_set_ui_ops(requests_account_ui_ops());
	xfers_install();
}

static GHashTable *
get_ui_info(void)
{
	if (ui_info == NULL) {
		ui_info = g_hash_table_new(g_str_hash, g_str_equal);
		g_hash_table_insert(ui_info, "name", "purple-stub");
		g_hash_table_insert(ui_info, "version", STUB_VERSION);
		g_hash_table_insert(ui_info, "client_type", "bot");
	}
	return ui_info;
}

static PurpleCoreUiOps core_ops = {
	.ui_prefs_init = apply_prefs,
	.ui_init = ui_init,
	.get_ui_info = get_ui_info,
};

gboolean
stub_quitting(void)
{
	return quitting;
}

void
stub_quit(void)
{
	GList *l;

	if (quitting)
		return;
	quitting = TRUE;
	reconnect_stop();
	for (l = purple_accounts_get_all(); l != NULL; l = l->next)
		if (purple_account_get_enabled(l->data, STUB_UI_ID))
			purple_account_set_enabled(l->data, STUB_UI_ID, FALSE);
	requests_close_all();
	purple_core_quit();
	g_main_loop_quit(loop);
}

static void
print_to_stderr(const gchar *text)
{
	/* stdout carries only JSON: anything libpurple g_print()s goes to stderr. */
	fputs(text, stderr);
}

static void
report_plugins(void)
{
	GList *l;

	for (l = purple_plugins_get_all(); l != NULL; l = l->next) {
		PurplePlugin *plugin = l->data;
		PurplePluginInfo *info = plugin->info;
		StubEvent *ev = ev_new("plugin-loaded");

		ev_str(ev, "id", purple_plugin_get_id(plugin));
		ev_str(ev, "name", purple_plugin_get_name(plugin));
		ev_str(ev, "version", purple_plugin_get_version(plugin));
		ev_str(ev, "type", info == NULL ? "unknown"
		                   : info->type == PURPLE_PLUGIN_PROTOCOL ? "protocol"
		                   : info->type == PURPLE_PLUGIN_LOADER ? "loader" : "standard");
		ev_bool(ev, "loaded", purple_plugin_is_loaded(plugin));
		ev_str(ev, "path", plugin->path);
		ev_emit(ev);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: purple-stub --plugins DIR --user-dir DIR [--debug]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *plugins_dir = NULL, *user_dir = NULL;
	gboolean debug = FALSE;
	StubEvent *ev;
	int i;

	for (i = 1; i < argc; i++) {
		if (g_str_equal(argv[i], "--plugins") && i + 1 < argc)
			plugins_dir = argv[++i];
		else if (g_str_equal(argv[i], "--user-dir") && i + 1 < argc)
			user_dir = argv[++i];
		else if (g_str_equal(argv[i], "--debug"))
			debug = TRUE;
		else
			usage();
	}
	if (plugins_dir == NULL || user_dir == NULL)
		usage();

	signal(SIGPIPE, SIG_IGN);
	g_set_print_handler(print_to_stderr);
	/* Never join (or autolaunch) a D-Bus session bus. */
	g_setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/purple-stub", TRUE);
	g_unsetenv("DBUS_STARTER_ADDRESS");

	purple_util_set_user_dir(user_dir);
	purple_debug_set_ui_ops(uiops_debug(debug));
	purple_core_set_ui_ops(&core_ops);
	purple_eventloop_set_ui_ops(eventloop_ui_ops());
	purple_plugins_add_search_path(plugins_dir);
	stats_install();

	if (!purple_core_init(STUB_UI_ID)) {
		ev = ev_new("error");
		ev_str(ev, "message", "purple_core_init failed");
		ev_emit(ev);
		return 1;
	}
	purple_set_blist(purple_blist_new());
	purple_blist_load();
	purple_prefs_load();
	apply_prefs();
	signals_connect();

	ev = ev_new("ready");
	/* Loads the SSL plugins (core-ssl and ssl-nss) on first use. */
	ev_bool(ev, "ssl", purple_ssl_is_supported());
	report_plugins();
	ev_str(ev, "version", purple_core_get_version());
	ev_str(ev, "stub_version", STUB_VERSION);
	ev_int(ev, "protocol", STUB_PROTOCOL);
	ev_str(ev, "user_dir", purple_user_dir());
	ev_emit(ev);

	loop = g_main_loop_new(NULL, FALSE);
	input_start();
	g_main_loop_run(loop);

	input_stop();
	requests_free();
	uiops_free();
	g_main_loop_unref(loop);
	if (ui_info != NULL)
		g_hash_table_destroy(ui_info);
	return 0;
}
