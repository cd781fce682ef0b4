/*
 * purple-stub: account commands (add-account, enable, disable, status, idle)
 * and protocol-info.
 */
#include <errno.h>
#include <stdlib.h>

#include "stub.h"

/** Username of the throw-away account protocol-info asks for status types. */
#define PROBE_NAME "protocol-info-probe"

PurpleAccount *
stub_account(const StubCmd *cmd, const char *username)
{
	GList *l;

	/* Any protocol; names compare as the protocol normalizes them. */
	for (l = purple_accounts_get_all(); l != NULL; l = l->next) {
		PurpleAccount *account = l->data;
		char *own = g_strdup(purple_normalize(account, purple_account_get_username(account)));
		gboolean match = g_str_equal(own, purple_normalize(account, username));

		g_free(own);
		if (match)
			return account;
	}
	stub_error(cmd->name, "no account '%s'", username);
	return NULL;
}

PurpleConnection *
stub_connection(const StubCmd *cmd, PurpleAccount *account)
{
	PurpleConnection *gc = purple_account_get_connection(account);

	if (gc == NULL || purple_connection_get_state(gc) != PURPLE_CONNECTED) {
		stub_error(cmd->name, "account '%s' is not signed on", purple_account_get_username(account));
		return NULL;
	}
	return gc;
}

static PurplePluginProtocolInfo *
find_prpl_info(const StubCmd *cmd, const char *protocol_id, PurplePlugin **plugin_out)
{
	PurplePlugin *plugin = purple_find_prpl(protocol_id);

	if (plugin == NULL) {
		stub_error(cmd->name, "no protocol plugin '%s'", protocol_id);
		return NULL;
	}
	if (plugin_out != NULL)
		*plugin_out = plugin;
	return PURPLE_PLUGIN_PROTOCOL_INFO(plugin);
}

static PurpleAccountOption *
find_option(PurplePluginProtocolInfo *info, const char *key)
{
	GList *l;

	for (l = info->protocol_options; l != NULL; l = l->next)
		if (g_str_equal(purple_account_option_get_setting(l->data), key))
			return l->data;
	return NULL;
}

static gboolean
parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < G_MININT || v > G_MAXINT)
		return FALSE;
	*out = (int)v;
	return TRUE;
}

static gboolean
parse_bool(const char *s, gboolean *out)
{
	if (!g_ascii_strcasecmp(s, "true") || !g_ascii_strcasecmp(s, "yes") || g_str_equal(s, "1"))
		*out = TRUE;
	else if (!g_ascii_strcasecmp(s, "false") || !g_ascii_strcasecmp(s, "no") || g_str_equal(s, "0"))
		*out = FALSE;
	else
		return FALSE;
	return TRUE;
}

static gboolean
list_has_value(PurpleAccountOption *opt, const char *value)
{
	GList *l;

	for (l = purple_account_option_get_list(opt); l != NULL; l = l->next) {
		PurpleKeyValuePair *kvp = l->data;
		if (kvp != NULL && kvp->value != NULL && g_str_equal((const char *)kvp->value, value))
			return TRUE;
	}
	return FALSE;
}

/* Checks one setting against the protocol's options; applies it when account is set. */
static gboolean
apply_setting(const StubCmd *cmd, PurplePluginProtocolInfo *info, PurpleAccount *account,
              const char *key, const char *value)
{
	PurpleAccountOption *opt = find_option(info, key);
	gboolean b;
	int i;

	if (opt == NULL) {
		stub_error(cmd->name, "protocol has no option '%s'", key);
		return FALSE;
	}
	switch (purple_account_option_get_type(opt)) {
	case PURPLE_PREF_BOOLEAN:
		if (!parse_bool(value, &b)) {
			stub_error(cmd->name, "option '%s' needs true or false, not '%s'", key, value);
			return FALSE;
		}
		if (account)
			purple_account_set_bool(account, key, b);
		return TRUE;
	case PURPLE_PREF_INT:
		if (!parse_int(value, &i)) {
			stub_error(cmd->name, "option '%s' needs an integer, not '%s'", key, value);
			return FALSE;
		}
		if (account)
			purple_account_set_int(account, key, i);
		return TRUE;
	case PURPLE_PREF_STRING_LIST:
		if (!list_has_value(opt, value)) {
			stub_error(cmd->name, "option '%s' has no choice '%s'", key, value);
			return FALSE;
		}
		/* List settings are stored as strings. */
		G_GNUC_FALLTHROUGH;
	case PURPLE_PREF_STRING:
		if (account)
			purple_account_set_string(account, key, value);
		return TRUE;
	default:
		stub_error(cmd->name, "option '%s' has an unsupported type", key);
		return FALSE;
	}
}

/* proxy=http:HOST:PORT (an HTTP CONNECT proxy for this account) or proxy=none. */
static gboolean
apply_proxy(const StubCmd *cmd, PurpleAccount *account, const char *value)
{
	PurpleProxyInfo *proxy;
	const char *hostport;
	const char *colon;
	int port;

	if (g_str_equal(value, "none")) {
		if (account) {
			proxy = purple_proxy_info_new();
			purple_proxy_info_set_type(proxy, PURPLE_PROXY_NONE);
			purple_account_set_proxy_info(account, proxy);
		}
		return TRUE;
	}
	if (!g_str_has_prefix(value, "http:")) {
		stub_error(cmd->name, "proxy must be http:HOST:PORT or none, not '%s'", value);
		return FALSE;
	}
	hostport = value + strlen("http:");
	colon = strrchr(hostport, ':');
	if (colon == NULL || colon == hostport || !parse_int(colon + 1, &port) || port <= 0 || port > 65535) {
		stub_error(cmd->name, "proxy must be http:HOST:PORT, not '%s'", value);
		return FALSE;
	}
	if (account) {
		char *host = g_strndup(hostport, colon - hostport);
		proxy = purple_proxy_info_new();
		purple_proxy_info_set_type(proxy, PURPLE_PROXY_HTTP);
		purple_proxy_info_set_host(proxy, host);
		purple_proxy_info_set_port(proxy, port);
		purple_account_set_proxy_info(account, proxy); /* the account owns it now */
		g_free(host);
	}
	return TRUE;
}

void
cmd_add_account(const StubCmd *cmd)
{
	const char *protocol_id = cmd_arg(cmd, 0);
	const char *username = cmd_arg(cmd, 1);
	PurplePluginProtocolInfo *info = find_prpl_info(cmd, protocol_id, NULL);
	PurpleAccount *account;
	guint i;
	int pass;

	if (info == NULL)
		return;
	if (purple_accounts_find(username, protocol_id) != NULL) {
		stub_error(cmd->name, "account '%s' already exists", username);
		return;
	}
	/* Pass 0 validates every setting, pass 1 applies them to the new account. */
	account = NULL;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < cmd->opt_keys->len; i++) {
			const char *key = g_ptr_array_index(cmd->opt_keys, i);
			const char *value = g_ptr_array_index(cmd->opt_values, i);

			if (g_str_equal(key, "password")) {
				if (account)
					purple_account_set_password(account, value);
				continue;
			}
			if (g_str_equal(key, "proxy")) {
				if (!apply_proxy(cmd, account, value))
					return;
				continue;
			}
			if (!apply_setting(cmd, info, account, key, value))
				return;
		}
		if (pass == 0)
			account = purple_account_new(username, protocol_id);
	}
	/* Remembered, so that disable/enable can sign on again without a prompt. */
	purple_account_set_remember_password(account, TRUE);
	purple_accounts_add(account);
}

static void
set_enabled(const StubCmd *cmd, gboolean enabled)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));

	if (account != NULL)
		purple_account_set_enabled(account, STUB_UI_ID, enabled);
}

void
cmd_enable(const StubCmd *cmd)
{
	set_enabled(cmd, TRUE);
}

void
cmd_disable(const StubCmd *cmd)
{
	set_enabled(cmd, FALSE);
}

void
cmd_status(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	const char *status_id = cmd_arg(cmd, 1);
	const char *message = cmd_opt(cmd, "message");
	PurpleStatusType *type;

	if (account == NULL)
		return;
	type = purple_account_get_status_type(account, status_id);
	if (type == NULL) {
		stub_error(cmd->name, "protocol has no status '%s'", status_id);
		return;
	}
	if (message != NULL) {
		if (purple_status_type_get_attr(type, "message") == NULL) {
			stub_error(cmd->name, "status '%s' takes no message", status_id);
			return;
		}
		purple_account_set_status(account, status_id, TRUE, "message", message, NULL);
	} else {
		purple_account_set_status(account, status_id, TRUE, NULL);
	}
}

void
cmd_idle(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	int seconds;

	/* Offline, libpurple would hit a NULL connection: idle is for signed-on accounts. */
	if (account == NULL || stub_connection(cmd, account) == NULL)
		return;
	if (!parse_int(cmd_arg(cmd, 1), &seconds) || seconds < 0) {
		stub_error(cmd->name, "idle seconds must be a non-negative integer");
		return;
	}
	purple_presence_set_idle(purple_account_get_presence(account), seconds > 0,
	                         seconds > 0 ? time(NULL) - seconds : 0);
}

static const char *
pref_type_name(PurplePrefType type)
{
	switch (type) {
	case PURPLE_PREF_BOOLEAN: return "bool";
	case PURPLE_PREF_INT: return "int";
	case PURPLE_PREF_STRING: return "string";
	case PURPLE_PREF_STRING_LIST: return "list";
	default: return "unknown";
	}
}

static void
ev_option(StubEvent *ev, PurpleAccountOption *opt)
{
	PurplePrefType type = purple_account_option_get_type(opt);
	GList *l;

	ev_obj_begin(ev, NULL);
	ev_str(ev, "key", purple_account_option_get_setting(opt));
	ev_str(ev, "type", pref_type_name(type));
	ev_str(ev, "label", purple_account_option_get_text(opt));
	switch (type) {
	case PURPLE_PREF_BOOLEAN:
		ev_bool(ev, "default", purple_account_option_get_default_bool(opt));
		break;
	case PURPLE_PREF_INT:
		ev_int(ev, "default", purple_account_option_get_default_int(opt));
		break;
	case PURPLE_PREF_STRING:
		ev_str(ev, "default", purple_account_option_get_default_string(opt));
		ev_bool(ev, "masked", purple_account_option_get_masked(opt));
		break;
	case PURPLE_PREF_STRING_LIST:
		ev_str(ev, "default", purple_account_option_get_default_list_value(opt));
		ev_arr_begin(ev, "choices");
		for (l = purple_account_option_get_list(opt); l != NULL; l = l->next) {
			PurpleKeyValuePair *kvp = l->data;
			ev_obj_begin(ev, NULL);
			ev_str(ev, "label", kvp->key);
			ev_str(ev, "value", kvp->value);
			ev_obj_end(ev);
		}
		ev_arr_end(ev);
		break;
	default:
		ev_null(ev, "default");
	}
	ev_obj_end(ev);
}

static void
ev_status_type(StubEvent *ev, PurpleStatusType *type)
{
	GList *l;

	ev_obj_begin(ev, NULL);
	ev_str(ev, "id", purple_status_type_get_id(type));
	ev_str(ev, "name", purple_status_type_get_name(type));
	ev_str(ev, "primitive", purple_primitive_get_id_from_type(purple_status_type_get_primitive(type)));
	ev_bool(ev, "message", purple_status_type_get_attr(type, "message") != NULL);
	ev_bool(ev, "user_settable", purple_status_type_is_user_settable(type));
	ev_bool(ev, "independent", purple_status_type_is_independent(type));
	ev_bool(ev, "saveable", purple_status_type_is_saveable(type));
	ev_arr_begin(ev, "attrs");
	for (l = purple_status_type_get_attrs(type); l != NULL; l = l->next)
		ev_str(ev, NULL, purple_status_attr_get_id(l->data));
	ev_arr_end(ev);
	ev_obj_end(ev);
}

void
cmd_protocol_info(const StubCmd *cmd)
{
	PurplePlugin *plugin = NULL;
	PurplePluginProtocolInfo *info = find_prpl_info(cmd, cmd_arg(cmd, 0), &plugin);
	PurpleAccount *probe, *existing;
	StubEvent *ev;
	GList *l;

	if (info == NULL)
		return;
	ev = ev_new("protocol-info");
	ev_str(ev, "id", purple_plugin_get_id(plugin));
	ev_str(ev, "name", purple_plugin_get_name(plugin));
	ev_str(ev, "version", purple_plugin_get_version(plugin));
	ev_int(ev, "options_flags", info->options);
	ev_arr_begin(ev, "user_splits");
	for (l = info->user_splits; l != NULL; l = l->next) {
		char sep[2] = { purple_account_user_split_get_separator(l->data), '\0' };
		ev_obj_begin(ev, NULL);
		ev_str(ev, "label", purple_account_user_split_get_text(l->data));
		ev_str(ev, "default", purple_account_user_split_get_default_value(l->data));
		ev_str(ev, "separator", sep);
		ev_obj_end(ev);
	}
	ev_arr_end(ev);
	ev_arr_begin(ev, "options");
	for (l = info->protocol_options; l != NULL; l = l->next)
		ev_option(ev, l->data);
	ev_arr_end(ev);
	/* Status types are per account: ask them of a throw-away account
	 * (purple_account_new returns an existing account of that name). */
	existing = purple_accounts_find(PROBE_NAME, purple_plugin_get_id(plugin));
	probe = existing ? existing : purple_account_new(PROBE_NAME, purple_plugin_get_id(plugin));
	ev_arr_begin(ev, "status_types");
	for (l = purple_account_get_status_types(probe); l != NULL; l = l->next)
		ev_status_type(ev, l->data);
	ev_arr_end(ev);
	if (existing == NULL)
		purple_account_destroy(probe);
	ev_emit(ev);
}

/* Runs the protocol's account action (Pidgin's Accounts menu) whose label, without mnemonic
 * underscores, is the second argument. */
void
cmd_account_action(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	PurpleConnection *gc = account ? stub_connection(cmd, account) : NULL;
	PurplePlugin *prpl;
	GList *actions, *l;
	gboolean done = FALSE;

	if (gc == NULL)
		return;
	prpl = purple_connection_get_prpl(gc);
	if (!PURPLE_PLUGIN_HAS_ACTIONS(prpl)) {
		stub_error(cmd->name, "the protocol has no account actions");
		return;
	}
	actions = PURPLE_PLUGIN_ACTIONS(prpl, gc);
	for (l = actions; l != NULL; l = l->next) {
		PurplePluginAction *action = l->data;
		char *label;

		if (action == NULL)
			continue; /* a separator */
		label = plain_label(action->label);
		if (!done && g_str_equal(label, cmd_arg(cmd, 1)) && action->callback != NULL) {
			action->plugin = prpl;
			action->context = gc;
			action->callback(action);
			done = TRUE;
		}
		g_free(label);
		purple_plugin_action_free(action);
	}
	g_list_free(actions);
	if (!done)
		stub_error(cmd->name, "no account action \"%s\"", cmd_arg(cmd, 1));
}
