/*
 * purple-stub: libpurple signals reported as events (accounts, connections,
 * buddy list, presence, typing, attention, chats).
 */
#include "stub.h"

/* The stub's handle for its signal connections. */
static int signal_handle;

static const char *const connection_error_names[] = {
	"NETWORK_ERROR",
	"INVALID_USERNAME",
	"AUTHENTICATION_FAILED",
	"AUTHENTICATION_IMPOSSIBLE",
	"NO_SSL_SUPPORT",
	"ENCRYPTION_ERROR",
	"NAME_IN_USE",
	"INVALID_SETTINGS",
	"CERT_NOT_PROVIDED",
	"CERT_UNTRUSTED",
	"CERT_EXPIRED",
	"CERT_NOT_ACTIVATED",
	"CERT_HOSTNAME_MISMATCH",
	"CERT_FINGERPRINT_MISMATCH",
	"CERT_SELF_SIGNED",
	"CERT_OTHER_ERROR",
	"OTHER_ERROR",
};

/* ---- accounts and connections ----------------------------------------- */

static void
account_event(PurpleAccount *account, gpointer name)
{
	ev_emit(ev_new_account(name, account));
}

static void
connection_event(PurpleConnection *gc, gpointer name)
{
	ev_emit(ev_new_account(name, purple_connection_get_account(gc)));
}

static void
connection_error(PurpleConnection *gc, PurpleConnectionError reason, const char *text)
{
	StubEvent *ev = ev_new_account("connection-error", purple_connection_get_account(gc));
	int r = (int)reason;

	ev_int(ev, "reason", r);
	ev_str(ev, "reason_name", (r >= 0 && (gsize)r < G_N_ELEMENTS(connection_error_names))
	                              ? connection_error_names[r] : "UNKNOWN");
	ev_str(ev, "text", text);
	ev_bool(ev, "fatal", purple_connection_error_is_fatal(reason));
	ev_emit(ev);
}

/* ---- buddy list -------------------------------------------------------- */

static void
ev_buddy_names(StubEvent *ev, PurpleBuddy *buddy)
{
	PurpleGroup *group = purple_buddy_get_group(buddy);

	ev_str(ev, "who", purple_buddy_get_name(buddy));
	ev_str(ev, "group", group ? purple_group_get_name(group) : NULL);
	ev_str(ev, "alias", purple_buddy_get_local_buddy_alias(buddy));
	ev_str(ev, "server_alias", purple_buddy_get_server_alias(buddy));
}

static void
buddy_added(PurpleBuddy *buddy)
{
	StubEvent *ev = ev_new_account("buddy-added", purple_buddy_get_account(buddy));

	ev_buddy_names(ev, buddy);
	ev_emit(ev);
}

static void
buddy_icon_changed(PurpleBuddy *buddy)
{
	StubEvent *ev = ev_new_account("buddy-icon-changed", purple_buddy_get_account(buddy));

	ev_str(ev, "who", purple_buddy_get_name(buddy));
	ev_buddy_icon(ev, buddy);
	ev_emit(ev);
}

static void
node_removed(PurpleBlistNode *node)
{
	PurpleBuddy *buddy;
	StubEvent *ev;

	if (!PURPLE_BLIST_NODE_IS_BUDDY(node))
		return; /* groups are reported by the blist UI ops */
	buddy = (PurpleBuddy *)node;
	ev = ev_new_account("buddy-removed", purple_buddy_get_account(buddy));
	ev_buddy_names(ev, buddy);
	ev_emit(ev);
}

static void
node_aliased(PurpleBlistNode *node, const char *old_alias)
{
	PurpleBuddy *buddy;
	StubEvent *ev;

	if (!PURPLE_BLIST_NODE_IS_BUDDY(node))
		return;
	buddy = (PurpleBuddy *)node;
	ev = ev_new_account("buddy-alias", purple_buddy_get_account(buddy));
	ev_buddy_names(ev, buddy);
	ev_str(ev, "old_alias", old_alias);
	ev_emit(ev);
}

static void
ev_status_attrs(StubEvent *ev, PurpleStatus *status)
{
	GList *l;

	ev_obj_begin(ev, "attrs");
	for (l = purple_status_type_get_attrs(purple_status_get_type(status)); l != NULL; l = l->next) {
		const char *id = purple_status_attr_get_id(l->data);
		PurpleValue *value = purple_status_get_attr_value(status, id);

		if (value == NULL)
			continue;
		switch (purple_value_get_type(value)) {
		case PURPLE_TYPE_STRING:
			ev_str(ev, id, purple_value_get_string(value));
			break;
		case PURPLE_TYPE_INT:
			ev_int(ev, id, purple_value_get_int(value));
			break;
		case PURPLE_TYPE_BOOLEAN:
			ev_bool(ev, id, purple_value_get_boolean(value));
			break;
		default:
			break;
		}
	}
	ev_obj_end(ev);
}

/* The buddy's names and presence: status id, primitive, idle, attributes. */
static void
ev_buddy_presence(StubEvent *ev, PurpleBuddy *buddy)
{
	PurplePresence *presence = purple_buddy_get_presence(buddy);
	PurpleStatus *status = purple_presence_get_active_status(presence);
	GList *l;

	ev_buddy_names(ev, buddy);
	if (status == NULL)
		return;
	ev_str(ev, "status", purple_status_get_id(status));
	ev_str(ev, "primitive", purple_primitive_get_id_from_type(
	                            purple_status_type_get_primitive(purple_status_get_type(status))));
	ev_bool(ev, "online", purple_presence_is_online(presence));
	ev_bool(ev, "idle", purple_presence_is_idle(presence));
	ev_int(ev, "idle_since", (gint64)purple_presence_get_idle_time(presence));
	ev_str(ev, "message", purple_status_get_attr_string(status, "message"));
	ev_status_attrs(ev, status);
	ev_arr_begin(ev, "independent");
	for (l = purple_presence_get_statuses(presence); l != NULL; l = l->next)
		if (purple_status_is_independent(l->data) && purple_status_is_active(l->data))
			ev_str(ev, NULL, purple_status_get_id(l->data));
	ev_arr_end(ev);
	/* "Now playing" (the independent tune status), as a UI shows it. */
	status = purple_presence_get_status(presence, "tune");
	if (status != NULL && purple_status_is_active(status)) {
		ev_str(ev, "tune_title", purple_status_get_attr_string(status, "tune_title"));
		ev_str(ev, "tune_artist", purple_status_get_attr_string(status, "tune_artist"));
		ev_str(ev, "tune_album", purple_status_get_attr_string(status, "tune_album"));
	}
}

static void
buddy_status_event(PurpleBuddy *buddy, const char *why)
{
	StubEvent *ev = ev_new_account("buddy-status", purple_buddy_get_account(buddy));

	ev_str(ev, "why", why);
	ev_buddy_presence(ev, buddy);
	ev_emit(ev);
}

static void
buddy_status_changed(PurpleBuddy *buddy, PurpleStatus *old, PurpleStatus *new_status)
{
	(void)old;
	(void)new_status;
	buddy_status_event(buddy, "status");
}

static void
buddy_signed(PurpleBuddy *buddy, gpointer why)
{
	buddy_status_event(buddy, why);
}

static void
buddy_idle_changed(PurpleBuddy *buddy, gboolean old_idle, gboolean new_idle)
{
	(void)old_idle;
	(void)new_idle;
	buddy_status_event(buddy, "idle");
}

/* ---- conversations ---------------------------------------------------- */

static void
typing_event(PurpleAccount *account, const char *who, gpointer state)
{
	StubEvent *ev = ev_new_account("typing", account);

	ev_str(ev, "who", who);
	ev_str(ev, "state", state);
	ev_emit(ev);
}

static void
got_attention(PurpleAccount *account, const char *who, PurpleConversation *conv, guint type)
{
	StubEvent *ev = ev_new_account("attention", account);

	(void)conv;
	ev_str(ev, "who", who);
	ev_int(ev, "type", type);
	ev_emit(ev);
}

static void
chat_event(PurpleConversation *conv, gpointer name)
{
	StubEvent *ev = ev_new_account(name, purple_conversation_get_account(conv));

	ev_str(ev, "conversation", purple_conversation_get_name(conv));
	ev_int(ev, "chat_id", purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)));
	ev_emit(ev);
}

/* Returns 0: libpurple then asks through a request, which the stub cancels. */
static gint
chat_invited(PurpleAccount *account, const char *inviter, const char *chat, const char *message,
             GHashTable *components)
{
	StubEvent *ev = ev_new_account("chat-invited", account);

	(void)components;
	ev_str(ev, "who", inviter);
	ev_str(ev, "chat", chat);
	ev_str(ev, "message", message);
	ev_emit(ev);
	return 0;
}

/* A conversation window opened: by a command, a message or the protocol. */
static void
conversation_created(PurpleConversation *conv, gpointer data)
{
	StubEvent *ev = ev_new_account("conversation-created", purple_conversation_get_account(conv));

	(void)data;
	ev_str(ev, "conversation", purple_conversation_get_name(conv));
	ev_str(ev, "type", purple_conversation_get_type(conv) == PURPLE_CONV_TYPE_CHAT ? "chat" : "im");
	ev_emit(ev);
}

void
signals_connect(void)
{
	void *h = &signal_handle;
	void *accounts = purple_accounts_get_handle();
	void *connections = purple_connections_get_handle();
	void *blist = purple_blist_get_handle();
	void *convs = purple_conversations_get_handle();

	purple_signal_connect(accounts, "account-added", h, PURPLE_CALLBACK(account_event), "account-added");
	purple_signal_connect(accounts, "account-connecting", h, PURPLE_CALLBACK(account_event), "connecting");
	purple_signal_connect(accounts, "account-enabled", h, PURPLE_CALLBACK(account_event), "account-enabled");
	purple_signal_connect(accounts, "account-disabled", h, PURPLE_CALLBACK(account_event), "account-disabled");

	purple_signal_connect(connections, "signed-on", h, PURPLE_CALLBACK(connection_event), "signed-on");
	purple_signal_connect(connections, "signed-off", h, PURPLE_CALLBACK(connection_event), "signed-off");
	purple_signal_connect(connections, "connection-error", h, PURPLE_CALLBACK(connection_error), NULL);

	purple_signal_connect(blist, "buddy-added", h, PURPLE_CALLBACK(buddy_added), NULL);
	purple_signal_connect(blist, "blist-node-removed", h, PURPLE_CALLBACK(node_removed), NULL);
	purple_signal_connect(blist, "blist-node-aliased", h, PURPLE_CALLBACK(node_aliased), NULL);
	purple_signal_connect(blist, "buddy-status-changed", h, PURPLE_CALLBACK(buddy_status_changed), NULL);
	purple_signal_connect(blist, "buddy-idle-changed", h, PURPLE_CALLBACK(buddy_idle_changed), NULL);
	purple_signal_connect(blist, "buddy-icon-changed", h, PURPLE_CALLBACK(buddy_icon_changed), NULL);
	purple_signal_connect(blist, "buddy-signed-on", h, PURPLE_CALLBACK(buddy_signed), "signed-on");
	purple_signal_connect(blist, "buddy-signed-off", h, PURPLE_CALLBACK(buddy_signed), "signed-off");

	purple_signal_connect(convs, "buddy-typing", h, PURPLE_CALLBACK(typing_event), "typing");
	purple_signal_connect(convs, "buddy-typed", h, PURPLE_CALLBACK(typing_event), "typed");
	purple_signal_connect(convs, "buddy-typing-stopped", h, PURPLE_CALLBACK(typing_event), "none");
	purple_signal_connect(convs, "got-attention", h, PURPLE_CALLBACK(got_attention), NULL);
	purple_signal_connect(convs, "chat-joined", h, PURPLE_CALLBACK(chat_event), "chat-joined");
	purple_signal_connect(convs, "chat-left", h, PURPLE_CALLBACK(chat_event), "chat-left");
	purple_signal_connect(convs, "chat-invited", h, PURPLE_CALLBACK(chat_invited), NULL);
	purple_signal_connect(convs, "conversation-created", h, PURPLE_CALLBACK(conversation_created), NULL);
}
