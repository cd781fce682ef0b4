/*
 * purple-stub: buddy list and privacy commands. Each goes through the same
 * libpurple calls a real UI makes, so the plugin sees the usual prpl calls.
 */
#include "stub.h"

static PurpleBuddy *
find_buddy(const StubCmd *cmd, PurpleAccount *account, const char *who)
{
	PurpleBuddy *buddy = purple_find_buddy(account, who);

	if (buddy == NULL)
		stub_error(cmd->name, "no buddy '%s'", who);
	return buddy;
}

static PurpleGroup *
find_or_add_group(const char *name)
{
	PurpleGroup *group = purple_find_group(name);

	if (group == NULL) {
		group = purple_group_new(name);
		purple_blist_add_group(group, NULL);
	}
	return group;
}

void
cmd_add_buddy(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	const char *who = cmd_arg(cmd, 1);
	const char *group_name = cmd_opt(cmd, "group");
	const char *alias = cmd_opt(cmd, "alias");
	PurpleGroup *group = NULL;
	PurpleBuddy *buddy;

	if (account == NULL)
		return;
	if (purple_find_buddy(account, who) != NULL) {
		stub_error(cmd->name, "buddy '%s' is already on the list", who);
		return;
	}
	if (group_name != NULL && *group_name != '\0')
		group = find_or_add_group(group_name);
	buddy = purple_buddy_new(account, who, (alias && *alias) ? alias : NULL);
	/* A NULL group puts the buddy in libpurple's default group. */
	purple_blist_add_buddy(buddy, NULL, group, NULL);
	purple_account_add_buddy_with_invite(account, buddy, NULL);
}

void
cmd_remove_buddy(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	const char *who = cmd_arg(cmd, 1);
	GSList *buddies, *l;

	if (account == NULL)
		return;
	buddies = purple_find_buddies(account, who);
	if (buddies == NULL) {
		stub_error(cmd->name, "no buddy '%s'", who);
		return;
	}
	/* The same buddy may sit in several groups: remove every copy. */
	for (l = buddies; l != NULL; l = l->next) {
		PurpleBuddy *buddy = l->data;
		purple_account_remove_buddy(account, buddy, purple_buddy_get_group(buddy));
		purple_blist_remove_buddy(buddy);
	}
	g_slist_free(buddies);
}

void
cmd_move_buddy(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	PurpleBuddy *buddy;

	if (account == NULL || (buddy = find_buddy(cmd, account, cmd_arg(cmd, 1))) == NULL)
		return;
	/* libpurple tells the prpl (serv_move_buddy) when the group changes. */
	purple_blist_add_buddy(buddy, NULL, find_or_add_group(cmd_arg(cmd, 2)), NULL);
}

void
cmd_alias_buddy(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	const char *alias = cmd_arg(cmd, 2);
	PurpleBuddy *buddy;

	if (account == NULL || (buddy = find_buddy(cmd, account, cmd_arg(cmd, 1))) == NULL)
		return;
	purple_blist_alias_buddy(buddy, alias);
	serv_alias_buddy(buddy);
}

static PurpleGroup *
find_group(const StubCmd *cmd, const char *name)
{
	PurpleGroup *group = purple_find_group(name);

	if (group == NULL)
		stub_error(cmd->name, "no group '%s'", name);
	return group;
}

void
cmd_rename_group(const StubCmd *cmd)
{
	PurpleGroup *group;

	if (stub_account(cmd, cmd_arg(cmd, 0)) == NULL || (group = find_group(cmd, cmd_arg(cmd, 1))) == NULL)
		return;
	if (purple_find_group(cmd_arg(cmd, 2)) != NULL) {
		stub_error(cmd->name, "group '%s' already exists", cmd_arg(cmd, 2));
		return;
	}
	/* Renames locally and tells every connected account's prpl. */
	purple_blist_rename_group(group, cmd_arg(cmd, 2));
}

void
cmd_remove_group(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	PurpleGroup *group;

	if (account == NULL || (group = find_group(cmd, cmd_arg(cmd, 1))) == NULL)
		return;
	if (purple_blist_node_get_first_child((PurpleBlistNode *)group) != NULL) {
		stub_error(cmd->name, "group '%s' is not empty", cmd_arg(cmd, 1));
		return;
	}
	purple_account_remove_group(account, group);
	purple_blist_remove_group(group);
}

void
cmd_privacy_list(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	const char *who = cmd_arg(cmd, 1);
	gboolean changed;

	if (account == NULL)
		return;
	if (g_str_equal(cmd->name, "permit"))
		changed = purple_privacy_permit_add(account, who, FALSE);
	else if (g_str_equal(cmd->name, "deny"))
		changed = purple_privacy_deny_add(account, who, FALSE);
	else if (g_str_equal(cmd->name, "unpermit"))
		changed = purple_privacy_permit_remove(account, who, FALSE);
	else
		changed = purple_privacy_deny_remove(account, who, FALSE);
	if (!changed)
		stub_error(cmd->name, "'%s' left the list unchanged", who);
}

static const struct {
	const char *name;
	PurplePrivacyType type;
} privacy_modes[] = {
	{ "allow-all", PURPLE_PRIVACY_ALLOW_ALL },
	{ "deny-all", PURPLE_PRIVACY_DENY_ALL },
	{ "allow-users", PURPLE_PRIVACY_ALLOW_USERS },
	{ "deny-users", PURPLE_PRIVACY_DENY_USERS },
	{ "allow-buddylist", PURPLE_PRIVACY_ALLOW_BUDDYLIST },
};

void
cmd_privacy(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	const char *mode = cmd_arg(cmd, 1);
	PurpleConnection *gc;
	StubEvent *ev;
	gsize i;

	if (account == NULL)
		return;
	for (i = 0; i < G_N_ELEMENTS(privacy_modes); i++)
		if (g_str_equal(privacy_modes[i].name, mode))
			break;
	if (i == G_N_ELEMENTS(privacy_modes)) {
		stub_error(cmd->name, "unknown privacy mode '%s'", mode);
		return;
	}
	purple_account_set_privacy_type(account, privacy_modes[i].type);
	gc = purple_account_get_connection(account);
	if (gc != NULL && purple_connection_get_state(gc) == PURPLE_CONNECTED)
		serv_set_permit_deny(gc);
	ev = ev_new_account("privacy", account);
	ev_str(ev, "mode", privacy_modes[i].name);
	ev_emit(ev);
}

static void
ev_names(StubEvent *ev, const char *key, GSList *names)
{
	GSList *l;

	ev_arr_begin(ev, key);
	for (l = names; l != NULL; l = l->next)
		ev_str(ev, NULL, l->data);
	ev_arr_end(ev);
}

/* The account's buddies in buddy-list order (groups, contacts, buddies, as a UI shows them
 * unsorted), where purple_find_buddies answers in hash-table order. */
static GSList *
buddies_in_list_order(PurpleAccount *account)
{
	GSList *out = NULL;
	PurpleBlistNode *node;

	for (node = purple_blist_get_root(); node != NULL; node = purple_blist_node_next(node, TRUE))
		if (PURPLE_BLIST_NODE_IS_BUDDY(node)
		    && purple_buddy_get_account((PurpleBuddy *)node) == account)
			out = g_slist_prepend(out, node);
	return g_slist_reverse(out);
}

void
cmd_account_info(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	PurpleConnection *gc;
	GSList *buddies, *l;
	StubEvent *ev;
	const char *mode = NULL;
	gsize i;

	if (account == NULL)
		return;
	for (i = 0; i < G_N_ELEMENTS(privacy_modes); i++)
		if (privacy_modes[i].type == purple_account_get_privacy_type(account))
			mode = privacy_modes[i].name;
	gc = purple_account_get_connection(account);
	ev = ev_new_account("account-info", account);
	ev_str(ev, "display_name", gc != NULL ? purple_connection_get_display_name(gc) : NULL);
	ev_str(ev, "privacy", mode);
	ev_names(ev, "permit", account->permit);
	ev_names(ev, "deny", account->deny);
	buddies = buddies_in_list_order(account);
	ev_int(ev, "count", g_slist_length(buddies));
	ev_arr_begin(ev, "buddies");
	for (l = buddies; l != NULL; l = l->next) {
		PurpleBuddy *buddy = l->data;
		PurpleGroup *group = purple_buddy_get_group(buddy);

		ev_obj_begin(ev, NULL);
		ev_str(ev, "who", purple_buddy_get_name(buddy));
		ev_str(ev, "group", group != NULL ? purple_group_get_name(group) : NULL);
		ev_str(ev, "alias", purple_buddy_get_local_buddy_alias(buddy));
		ev_str(ev, "server_alias", purple_buddy_get_server_alias(buddy));
		ev_obj_end(ev);
	}
	ev_arr_end(ev);
	g_slist_free(buddies);
	ev_emit(ev);
}

static void
public_alias_done(PurpleAccount *account, const char *alias, const char *error)
{
	StubEvent *ev = ev_new_account("public-alias", account);

	ev_str(ev, "alias", alias);
	ev_bool(ev, "ok", error == NULL);
	ev_str(ev, "error", error);
	ev_emit(ev);
}

static void
public_alias_ok(PurpleAccount *account, const char *alias)
{
	public_alias_done(account, alias, NULL);
}

static void
public_alias_failed(PurpleAccount *account, const char *error)
{
	public_alias_done(account, NULL, error != NULL ? error : "failed");
}

void
cmd_public_alias(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));

	if (account == NULL)
		return;
	purple_account_set_public_alias(account, cmd_arg(cmd, 1), public_alias_ok, public_alias_failed);
}

void
cmd_set_icon(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	const char *file = cmd_arg(cmd, 1);
	gchar *data = NULL;
	gsize len = 0;
	GError *error = NULL;

	if (account == NULL)
		return;
	if (file != NULL && !g_file_get_contents(file, &data, &len, &error)) {
		stub_error(cmd->name, "cannot read '%s': %s", file, error->message);
		g_error_free(error);
		return;
	}
	/* libpurple takes the data over and tells the prpl (set_buddy_icon) when online. */
	purple_buddy_icons_set_account_icon(account, (guchar *)data, len);
	ev_emit(ev_new_account("icon-set", account));
}

/** Adds the icon fields of a buddy: checksum, size and the data in hex (null when none). */
void
ev_buddy_icon(StubEvent *ev, PurpleBuddy *buddy)
{
	PurpleBuddyIcon *icon = purple_buddy_get_icon(buddy);
	const guchar *data;
	size_t len = 0, i;
	GString *hex;

	ev_str(ev, "checksum", purple_buddy_icons_get_checksum_for_user(buddy));
	if (icon == NULL || (data = purple_buddy_icon_get_data(icon, &len)) == NULL) {
		ev_null(ev, "size");
		ev_null(ev, "hex");
		return;
	}
	hex = g_string_sized_new(len * 2);
	for (i = 0; i < len; i++)
		g_string_append_printf(hex, "%02x", data[i]);
	ev_int(ev, "size", (gint64)len);
	ev_str(ev, "hex", hex->str);
	g_string_free(hex, TRUE);
}

void
cmd_buddy_icon(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	PurpleBuddy *buddy;
	StubEvent *ev;

	if (account == NULL || (buddy = find_buddy(cmd, account, cmd_arg(cmd, 1))) == NULL)
		return;
	ev = ev_new_account("buddy-icon", account);
	ev_str(ev, "who", purple_buddy_get_name(buddy));
	ev_buddy_icon(ev, buddy);
	ev_emit(ev);
}
