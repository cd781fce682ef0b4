/*
 * purple-stub: conversation, connection, buddy list, notify, privacy and
 * debug UI ops, each reported as events (debug output goes to stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub.h"

static const struct {
	PurpleMessageFlags flag;
	const char *name;
} message_flags[] = {
	{ PURPLE_MESSAGE_SEND, "send" },
	{ PURPLE_MESSAGE_RECV, "recv" },
	{ PURPLE_MESSAGE_SYSTEM, "system" },
	{ PURPLE_MESSAGE_AUTO_RESP, "auto-resp" },
	{ PURPLE_MESSAGE_ACTIVE_ONLY, "active-only" },
	{ PURPLE_MESSAGE_NICK, "nick" },
	{ PURPLE_MESSAGE_NO_LOG, "no-log" },
	{ PURPLE_MESSAGE_WHISPER, "whisper" },
	{ PURPLE_MESSAGE_ERROR, "error" },
	{ PURPLE_MESSAGE_DELAYED, "delayed" },
	{ PURPLE_MESSAGE_RAW, "raw" },
	{ PURPLE_MESSAGE_IMAGES, "images" },
	{ PURPLE_MESSAGE_NOTIFY, "notify" },
	{ PURPLE_MESSAGE_NO_LINKIFY, "no-linkify" },
	{ PURPLE_MESSAGE_INVISIBLE, "invisible" },
	{ PURPLE_MESSAGE_REMOTE_SEND, "remote-send" },
};

static gboolean debug_enabled;
static GHashTable *group_names; /* PurpleBlistNode * (group) -> char * last seen name */

/* ---- conversations ---------------------------------------------------- */

static void
ev_conv(StubEvent *ev, PurpleConversation *conv)
{
	ev_str(ev, "conversation", purple_conversation_get_name(conv));
	if (purple_conversation_get_type(conv) == PURPLE_CONV_TYPE_CHAT)
		ev_int(ev, "chat_id", purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)));
}

/* Every `<IMG ID="n">` of an HTML message that names a stored image: id, size and the bytes in
 * hex, read while the message is written (the protocol may release the image right after). */
static void
ev_images(StubEvent *ev, const char *message)
{
	const char *p = message;
	GString *hex;
	size_t len, i;

	ev_arr_begin(ev, "images");
	while (p != NULL && (p = purple_strcasestr(p, "<img id=")) != NULL) {
		PurpleStoredImage *img;
		const guchar *data;
		int id;

		p += strlen("<img id=");
		if (*p == '"' || *p == '\'')
			p++;
		id = atoi(p);
		if (id <= 0 || (img = purple_imgstore_find_by_id(id)) == NULL)
			continue;
		data = purple_imgstore_get_data(img);
		len = purple_imgstore_get_size(img);
		hex = g_string_sized_new(len * 2);
		for (i = 0; i < len; i++)
			g_string_append_printf(hex, "%02x", data[i]);
		ev_obj_begin(ev, NULL);
		ev_int(ev, "id", id);
		ev_int(ev, "size", (gint64)len);
		ev_str(ev, "hex", hex->str);
		ev_obj_end(ev);
		g_string_free(hex, TRUE);
	}
	ev_arr_end(ev);
}

static void
write_conv(PurpleConversation *conv, const char *name, const char *alias, const char *message,
           PurpleMessageFlags flags, time_t mtime)
{
	gboolean chat = purple_conversation_get_type(conv) == PURPLE_CONV_TYPE_CHAT;
	gboolean plain = !(flags & (PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_ERROR | PURPLE_MESSAGE_NOTIFY));
	const char *event = "write";
	StubEvent *ev;
	gsize i;

	if (plain && chat && (flags & (PURPLE_MESSAGE_RECV | PURPLE_MESSAGE_SEND)))
		event = "chat-message";
	else if (plain && (flags & PURPLE_MESSAGE_RECV))
		event = "im";
	else if (plain && (flags & PURPLE_MESSAGE_SEND))
		event = "im-sent";
	ev = ev_new_account(event, purple_conversation_get_account(conv));
	ev_conv(ev, conv);
	ev_str(ev, "from", name);
	ev_str(ev, "alias", alias);
	ev_str(ev, "message", message);
	ev_images(ev, message);
	ev_arr_begin(ev, "flags");
	for (i = 0; i < G_N_ELEMENTS(message_flags); i++)
		if (flags & message_flags[i].flag)
			ev_str(ev, NULL, message_flags[i].name);
	ev_arr_end(ev);
	ev_int(ev, "timestamp", (gint64)mtime);
	ev_emit(ev);
}

static void
chat_add_users(PurpleConversation *conv, GList *cbuddies, gboolean new_arrivals)
{
	StubEvent *ev = ev_new_account("chat-buddies", purple_conversation_get_account(conv));
	GList *l;

	ev_conv(ev, conv);
	ev_bool(ev, "new_arrivals", new_arrivals);
	ev_arr_begin(ev, "joined");
	for (l = cbuddies; l != NULL; l = l->next)
		ev_str(ev, NULL, purple_conv_chat_cb_get_name(l->data));
	ev_arr_end(ev);
	ev_emit(ev);
}

static void
chat_remove_users(PurpleConversation *conv, GList *users)
{
	StubEvent *ev = ev_new_account("chat-buddies", purple_conversation_get_account(conv));
	GList *l;

	ev_conv(ev, conv);
	ev_arr_begin(ev, "left");
	for (l = users; l != NULL; l = l->next)
		ev_str(ev, NULL, l->data);
	ev_arr_end(ev);
	ev_emit(ev);
}

static void
chat_rename_user(PurpleConversation *conv, const char *old_name, const char *new_name,
                 const char *new_alias)
{
	StubEvent *ev = ev_new_account("chat-buddies", purple_conversation_get_account(conv));

	ev_conv(ev, conv);
	ev_obj_begin(ev, "renamed");
	ev_str(ev, "old", old_name);
	ev_str(ev, "new", new_name);
	ev_str(ev, "alias", new_alias);
	ev_obj_end(ev);
	ev_emit(ev);
}

static PurpleConversationUiOps conversation_ops = {
	.write_conv = write_conv,
	.chat_add_users = chat_add_users,
	.chat_rename_user = chat_rename_user,
	.chat_remove_users = chat_remove_users,
	.destroy_conversation = smileys_conversation_gone,
};

/* ---- connections ------------------------------------------------------ */

static void
connect_progress(PurpleConnection *gc, const char *text, size_t step, size_t step_count)
{
	StubEvent *ev = ev_new_account("progress", purple_connection_get_account(gc));

	ev_str(ev, "text", text);
	ev_int(ev, "step", (gint64)step);
	ev_int(ev, "count", (gint64)step_count);
	ev_emit(ev);
}

static void
connection_notice(PurpleConnection *gc, const char *text)
{
	StubEvent *ev = ev_new_account("notice", purple_connection_get_account(gc));

	ev_str(ev, "text", text);
	ev_emit(ev);
}

static PurpleConnectionUiOps connection_ops = {
	.connect_progress = connect_progress,
	.notice = connection_notice,
	.report_disconnect_reason = reconnect_report_disconnect,
};

/* ---- buddy list ------------------------------------------------------- */

/* Reports groups appearing and being renamed (libpurple has no signal for it). */
static void
blist_update(PurpleBuddyList *list, PurpleBlistNode *node)
{
	const char *name, *old;
	StubEvent *ev;

	(void)list;
	if (node == NULL || !PURPLE_BLIST_NODE_IS_GROUP(node))
		return;
	name = purple_group_get_name((PurpleGroup *)node);
	if (name == NULL)
		return;
	old = g_hash_table_lookup(group_names, node);
	if (old != NULL && g_str_equal(old, name))
		return;
	ev = ev_new(old ? "group-renamed" : "group-added");
	if (old)
		ev_str(ev, "old", old);
	ev_str(ev, "group", name);
	ev_emit(ev);
	g_hash_table_replace(group_names, node, g_strdup(name));
}

static void
blist_remove(PurpleBuddyList *list, PurpleBlistNode *node)
{
	StubEvent *ev;

	(void)list;
	if (node == NULL || !PURPLE_BLIST_NODE_IS_GROUP(node))
		return;
	if (!g_hash_table_remove(group_names, node))
		return;
	ev = ev_new("group-removed");
	ev_str(ev, "group", purple_group_get_name((PurpleGroup *)node));
	ev_emit(ev);
}

static void
request_add_buddy(PurpleAccount *account, const char *username, const char *group, const char *alias)
{
	StubEvent *ev = ev_new_account("request-add-buddy", account);

	ev_str(ev, "who", username);
	ev_str(ev, "group", group);
	ev_str(ev, "alias", alias);
	ev_emit(ev);
}

static PurpleBlistUiOps blist_ops = {
	.update = blist_update,
	.remove = blist_remove,
	.request_add_buddy = request_add_buddy,
};

/* ---- notify ----------------------------------------------------------- */

/* Notifications are reported and closed at once (a NULL UI handle). */
static void *
notify_message(PurpleNotifyMsgType type, const char *title, const char *primary, const char *secondary)
{
	StubEvent *ev = ev_new("notify");

	ev_str(ev, "type", type == PURPLE_NOTIFY_MSG_ERROR ? "error"
	                   : type == PURPLE_NOTIFY_MSG_WARNING ? "warning" : "info");
	ev_str(ev, "title", title);
	ev_str(ev, "primary", primary);
	ev_str(ev, "secondary", secondary);
	ev_emit(ev);
	return NULL;
}

static void *
notify_email(PurpleConnection *gc, const char *subject, const char *from, const char *to, const char *url)
{
	StubEvent *ev = ev_new_account("notify", purple_connection_get_account(gc));

	ev_str(ev, "type", "email");
	ev_str(ev, "subject", subject);
	ev_str(ev, "from", from);
	ev_str(ev, "to", to);
	ev_str(ev, "url", url);
	ev_emit(ev);
	return NULL;
}

static void *
notify_emails(PurpleConnection *gc, size_t count, gboolean detailed, const char **subjects,
              const char **froms, const char **tos, const char **urls)
{
	StubEvent *ev = ev_new_account("notify", purple_connection_get_account(gc));

	(void)subjects; (void)froms; (void)urls;
	ev_str(ev, "type", "emails");
	ev_int(ev, "count", (gint64)count);
	ev_bool(ev, "detailed", detailed);
	ev_str(ev, "to", (tos != NULL && count > 0) ? tos[0] : NULL);
	ev_emit(ev);
	return NULL;
}

static void *
notify_formatted(const char *title, const char *primary, const char *secondary, const char *text)
{
	StubEvent *ev = ev_new("notify");

	ev_str(ev, "type", "formatted");
	ev_str(ev, "title", title);
	ev_str(ev, "primary", primary);
	ev_str(ev, "secondary", secondary);
	ev_str(ev, "text", text);
	ev_emit(ev);
	return NULL;
}

static void *
notify_searchresults(PurpleConnection *gc, const char *title, const char *primary,
                     const char *secondary, PurpleNotifySearchResults *results, gpointer user_data)
{
	StubEvent *ev = ev_new_account("notify", purple_connection_get_account(gc));

	(void)results; (void)user_data;
	ev_str(ev, "type", "searchresults");
	ev_str(ev, "title", title);
	ev_str(ev, "primary", primary);
	ev_str(ev, "secondary", secondary);
	ev_emit(ev);
	return NULL;
}

static void *
notify_userinfo(PurpleConnection *gc, const char *who, PurpleNotifyUserInfo *user_info)
{
	StubEvent *ev = ev_new_account("notify", purple_connection_get_account(gc));
	GList *l;

	ev_str(ev, "type", "userinfo");
	ev_str(ev, "who", who);
	ev_arr_begin(ev, "entries");
	for (l = purple_notify_user_info_get_entries(user_info); l != NULL; l = l->next) {
		ev_obj_begin(ev, NULL);
		ev_str(ev, "label", purple_notify_user_info_entry_get_label(l->data));
		ev_str(ev, "value", purple_notify_user_info_entry_get_value(l->data));
		ev_obj_end(ev);
	}
	ev_arr_end(ev);
	ev_emit(ev);
	return NULL;
}

static void *
notify_uri(const char *uri)
{
	StubEvent *ev = ev_new("notify");

	ev_str(ev, "type", "uri");
	ev_str(ev, "uri", uri);
	ev_emit(ev);
	return NULL;
}

static PurpleNotifyUiOps notify_ops = {
	.notify_message = notify_message,
	.notify_email = notify_email,
	.notify_emails = notify_emails,
	.notify_formatted = notify_formatted,
	.notify_searchresults = notify_searchresults,
	.notify_userinfo = notify_userinfo,
	.notify_uri = notify_uri,
};

/* ---- privacy ---------------------------------------------------------- */

static void
privacy_event(const char *name, PurpleAccount *account, const char *who)
{
	StubEvent *ev = ev_new_account(name, account);

	ev_str(ev, "who", who);
	ev_emit(ev);
}

static void
permit_added(PurpleAccount *account, const char *name)
{
	privacy_event("permit-added", account, name);
}

static void
permit_removed(PurpleAccount *account, const char *name)
{
	privacy_event("permit-removed", account, name);
}

static void
deny_added(PurpleAccount *account, const char *name)
{
	privacy_event("deny-added", account, name);
}

static void
deny_removed(PurpleAccount *account, const char *name)
{
	privacy_event("deny-removed", account, name);
}

static PurplePrivacyUiOps privacy_ops = {
	.permit_added = permit_added,
	.permit_removed = permit_removed,
	.deny_added = deny_added,
	.deny_removed = deny_removed,
};

/* ---- debug ------------------------------------------------------------ */

static void
debug_print(PurpleDebugLevel level, const char *category, const char *text)
{
	static const char *const names[] = { "all", "misc", "info", "warning", "error", "fatal" };
	const char *name = (level >= 0 && (gsize)level < G_N_ELEMENTS(names)) ? names[level] : "unknown";
	gsize len = text ? strlen(text) : 0;

	if (!debug_enabled)
		return;
	fprintf(stderr, "DEBUG %s %s: %s%s", name, category ? category : "-", text ? text : "",
	        (len > 0 && text[len - 1] == '\n') ? "" : "\n");
}

static gboolean
debug_is_enabled(PurpleDebugLevel level, const char *category)
{
	(void)level;
	(void)category;
	return debug_enabled;
}

static PurpleDebugUiOps debug_ops = {
	.print = debug_print,
	.is_enabled = debug_is_enabled,
};

PurpleDebugUiOps *
uiops_debug(gboolean enabled)
{
	debug_enabled = enabled;
	return &debug_ops;
}

void
uiops_install(void)
{
	group_names = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	smileys_install(&conversation_ops);
	purple_conversations_set_ui_ops(&conversation_ops);
	purple_connections_set_ui_ops(&connection_ops);
	purple_blist_set_ui_ops(&blist_ops);
	purple_notify_set_ui_ops(&notify_ops);
	purple_privacy_set_ui_ops(&privacy_ops);
}

void
uiops_free(void)
{
	smileys_free();
	if (group_names != NULL) {
		g_hash_table_destroy(group_names);
		group_names = NULL;
	}
}
