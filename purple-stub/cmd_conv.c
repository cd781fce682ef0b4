/*
 * purple-stub: conversation commands: instant messages, typing, attention
 * and (minimal) multi-user chats addressed by libpurple's chat id.
 */
#include <errno.h>
#include <stdlib.h>

#include "stub.h"

/* The connection of the account named by argument 0, or NULL after an error event. */
static PurpleConnection *
cmd_gc(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));

	return account ? stub_connection(cmd, account) : NULL;
}

static gboolean
parse_uint(const char *s, guint *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || !g_ascii_isdigit(*s))
		return FALSE;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > G_MAXINT)
		return FALSE;
	*out = (guint)v;
	return TRUE;
}

void
cmd_send_im(const StubCmd *cmd)
{
	PurpleConnection *gc = cmd_gc(cmd);
	const char *who = cmd_arg(cmd, 1);
	PurpleAccount *account;
	PurpleConversation *conv;

	if (gc == NULL)
		return;
	account = purple_connection_get_account(gc);
	conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, who, account);
	if (conv == NULL)
		conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, who);
	/* Sent messages, and send failures, come back through write_conv. */
	purple_conv_im_send(PURPLE_CONV_IM(conv), cmd_arg(cmd, 2));
}

void
cmd_typing(const StubCmd *cmd)
{
	PurpleConnection *gc = cmd_gc(cmd);
	const char *state = cmd_arg(cmd, 2);
	PurpleTypingState typing;

	if (gc == NULL)
		return;
	if (g_str_equal(state, "typing"))
		typing = PURPLE_TYPING;
	else if (g_str_equal(state, "typed"))
		typing = PURPLE_TYPED;
	else if (g_str_equal(state, "none"))
		typing = PURPLE_NOT_TYPING;
	else {
		stub_error(cmd->name, "typing state must be typing, typed or none");
		return;
	}
	serv_send_typing(gc, cmd_arg(cmd, 1), typing);
}

void
cmd_attention(const StubCmd *cmd)
{
	PurpleConnection *gc = cmd_gc(cmd);
	guint type = 0;

	if (gc == NULL)
		return;
	if (cmd_arg(cmd, 2) != NULL && !parse_uint(cmd_arg(cmd, 2), &type)) {
		stub_error(cmd->name, "attention type must be a non-negative integer");
		return;
	}
	purple_prpl_send_attention(gc, cmd_arg(cmd, 1), type);
}

void
cmd_open_im(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	const char *who = cmd_arg(cmd, 1);

	if (account == NULL)
		return;
	/* Finch and UI scripts open a window as soon as the account has a connection, signed in
	 * or still signing in; libpurple needs one. */
	if (purple_account_get_connection(account) == NULL) {
		stub_error(cmd->name, "account '%s' has no connection", purple_account_get_username(account));
		return;
	}
	/* A new window emits conversation-created, as when a user opens one. */
	if (purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, who, account) == NULL)
		purple_conversation_new(PURPLE_CONV_TYPE_IM, account, who);
}

void
cmd_close_im(const StubCmd *cmd)
{
	PurpleConnection *gc = cmd_gc(cmd);
	PurpleConversation *conv;

	if (gc == NULL)
		return;
	conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, cmd_arg(cmd, 1),
	                                             purple_connection_get_account(gc));
	if (conv == NULL) {
		stub_error(cmd->name, "no open conversation with %s", cmd_arg(cmd, 1));
		return;
	}
	/* The protocol hears of it through convo_closed. */
	purple_conversation_destroy(conv);
}

/* A menu label without its mnemonic underscores. */
char *
plain_label(const char *label)
{
	GString *out = g_string_new(NULL);

	for (; label != NULL && *label != '\0'; label++)
		if (*label != '_')
			g_string_append_c(out, *label);
	return g_string_free(out, FALSE);
}

void
cmd_buddy_menu(const StubCmd *cmd)
{
	PurpleConnection *gc = cmd_gc(cmd);
	PurpleBuddy *buddy;
	PurplePluginProtocolInfo *prpl;
	GList *menu, *l;
	gboolean done = FALSE;

	if (gc == NULL)
		return;
	buddy = purple_find_buddy(purple_connection_get_account(gc), cmd_arg(cmd, 1));
	if (buddy == NULL) {
		stub_error(cmd->name, "no buddy %s", cmd_arg(cmd, 1));
		return;
	}
	prpl = PURPLE_PLUGIN_PROTOCOL_INFO(purple_connection_get_prpl(gc));
	menu = prpl->blist_node_menu ? prpl->blist_node_menu((PurpleBlistNode *)buddy) : NULL;
	for (l = menu; l != NULL; l = l->next) {
		PurpleMenuAction *action = l->data;
		char *label = plain_label(action->label);

		if (!done && g_str_equal(label, cmd_arg(cmd, 2)) && action->callback != NULL) {
			((void (*)(PurpleBlistNode *, gpointer))action->callback)(
			    (PurpleBlistNode *)buddy, action->data);
			done = TRUE;
		}
		g_free(label);
		purple_menu_action_free(action);
	}
	g_list_free(menu);
	if (!done)
		stub_error(cmd->name, "no menu item \"%s\"", cmd_arg(cmd, 2));
}

/* The protocol's tooltip for a buddy (what Pidgin shows on hovering), as a tooltip event. */
void
cmd_tooltip(const StubCmd *cmd)
{
	PurpleConnection *gc = cmd_gc(cmd);
	PurpleBuddy *buddy;
	PurplePluginProtocolInfo *prpl;
	PurpleNotifyUserInfo *info;
	StubEvent *ev;
	GList *l;

	if (gc == NULL)
		return;
	buddy = purple_find_buddy(purple_connection_get_account(gc), cmd_arg(cmd, 1));
	if (buddy == NULL) {
		stub_error(cmd->name, "no buddy %s", cmd_arg(cmd, 1));
		return;
	}
	info = purple_notify_user_info_new();
	prpl = PURPLE_PLUGIN_PROTOCOL_INFO(purple_connection_get_prpl(gc));
	if (prpl->tooltip_text != NULL)
		prpl->tooltip_text(buddy, info, TRUE);
	ev = ev_new_account("tooltip", purple_connection_get_account(gc));
	ev_str(ev, "who", purple_buddy_get_name(buddy));
	ev_arr_begin(ev, "entries");
	for (l = purple_notify_user_info_get_entries(info); l != NULL; l = l->next) {
		ev_obj_begin(ev, NULL);
		ev_str(ev, "label", purple_notify_user_info_entry_get_label(l->data));
		ev_str(ev, "value", purple_notify_user_info_entry_get_value(l->data));
		ev_obj_end(ev);
	}
	ev_arr_end(ev);
	ev_emit(ev);
	purple_notify_user_info_destroy(info);
}

void
cmd_join_chat(const StubCmd *cmd)
{
	PurpleConnection *gc = cmd_gc(cmd);
	GHashTable *components;
	guint i;

	if (gc == NULL)
		return;
	components = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (i = 0; i < cmd->opt_keys->len; i++)
		g_hash_table_replace(components, g_strdup(g_ptr_array_index(cmd->opt_keys, i)),
		                     g_strdup(g_ptr_array_index(cmd->opt_values, i)));
	/* The prpl only reads the components; chat-joined follows on success. */
	serv_join_chat(gc, components);
	g_hash_table_destroy(components);
}

/* The open chat conversation with the id in argument 1, or NULL after an error event. */
static PurpleConversation *
find_chat(const StubCmd *cmd, PurpleConnection *gc)
{
	PurpleConversation *conv;
	guint id;

	if (!parse_uint(cmd_arg(cmd, 1), &id)) {
		stub_error(cmd->name, "chat id must be a non-negative integer");
		return NULL;
	}
	conv = purple_find_chat(gc, (int)id);
	if (conv == NULL)
		stub_error(cmd->name, "no open chat %u", id);
	return conv;
}

void
cmd_chat_send(const StubCmd *cmd)
{
	PurpleConnection *gc = cmd_gc(cmd);
	PurpleConversation *conv;

	if (gc == NULL || (conv = find_chat(cmd, gc)) == NULL)
		return;
	purple_conv_chat_send(PURPLE_CONV_CHAT(conv), cmd_arg(cmd, 2));
}

void
cmd_chat_invite(const StubCmd *cmd)
{
	PurpleConnection *gc = cmd_gc(cmd);
	PurpleConversation *conv;

	if (gc == NULL || (conv = find_chat(cmd, gc)) == NULL)
		return;
	serv_chat_invite(gc, purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)), cmd_arg(cmd, 3),
	                 cmd_arg(cmd, 2));
}

void
cmd_chat_leave(const StubCmd *cmd)
{
	PurpleConnection *gc = cmd_gc(cmd);
	PurpleConversation *conv;

	if (gc == NULL || (conv = find_chat(cmd, gc)) == NULL)
		return;
	/* Leaves the chat (serv_chat_leave) and frees the conversation. */
	purple_conversation_destroy(conv);
}
