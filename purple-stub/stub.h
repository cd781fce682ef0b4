/*
 * purple-stub: headless libpurple front end driven by a line protocol.
 * Shared declarations of the stub's modules.
 */
#ifndef PURPLE_STUB_H
#define PURPLE_STUB_H

#include <glib.h>
#include <purple.h>

/** UI id used for purple_core_init() and account enable flags. */
#define STUB_UI_ID "purple-stub"

/* ---- json.c: one JSON event per stdout line ---------------------------- */

/** An event being built; emitted (and freed) by ev_emit(). */
typedef struct StubEvent StubEvent;

/** Starts an event object {"event":name. */
StubEvent *ev_new(const char *name);
/** Starts an event with an "account" (username) and "protocol" field. */
StubEvent *ev_new_account(const char *name, PurpleAccount *account);
/** Adds a string member (key NULL inside an array); NULL value gives null. */
void ev_str(StubEvent *ev, const char *key, const char *value);
/** Adds an integer member. */
void ev_int(StubEvent *ev, const char *key, gint64 value);
/** Adds a boolean member. */
void ev_bool(StubEvent *ev, const char *key, gboolean value);
/** Adds a null member. */
void ev_null(StubEvent *ev, const char *key);
/** Opens a nested object member. */
void ev_obj_begin(StubEvent *ev, const char *key);
/** Closes the innermost nested object. */
void ev_obj_end(StubEvent *ev);
/** Opens a nested array member. */
void ev_arr_begin(StubEvent *ev, const char *key);
/** Closes the innermost nested array. */
void ev_arr_end(StubEvent *ev);
/** Closes the event, writes it as one line to stdout, flushes and frees it. */
void ev_emit(StubEvent *ev);
/** Emits {"event":"error","command":cmd,"message":...}. */
void stub_error(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* ---- input.c: stdin reader and command dispatch ------------------------ */

/** A parsed command line: positional arguments and key=value options. */
typedef struct {
	const char *name;      /**< command word */
	GPtrArray *args;       /**< positional arguments (char *) */
	GPtrArray *opt_keys;   /**< option keys (char *), in input order */
	GPtrArray *opt_values; /**< option values (char *), parallel to opt_keys */
} StubCmd;

/** Returns the n-th positional argument or NULL. */
const char *cmd_arg(const StubCmd *cmd, guint n);
/** Returns the value of option key or NULL. */
const char *cmd_opt(const StubCmd *cmd, const char *key);
/** Starts watching stdin for commands. */
void input_start(void);
/** Stops watching stdin and frees the reader. */
void input_stop(void);

/* ---- main.c: lifecycle ----------------------------------------------- */

/** Disables accounts, shuts libpurple down and leaves the main loop. */
void stub_quit(void);
/** TRUE once stub_quit() has started. */
gboolean stub_quitting(void);

/* ---- cmd_account.c ---------------------------------------------------- */

/** Looks an account up by username; emits an error event if missing. */
PurpleAccount *stub_account(const StubCmd *cmd, const char *username);
/** Returns the account's connection; emits an error event if offline. */
PurpleConnection *stub_connection(const StubCmd *cmd, PurpleAccount *account);
/** add-account command. */
void cmd_add_account(const StubCmd *cmd);
/** enable command. */
void cmd_enable(const StubCmd *cmd);
/** disable command. */
void cmd_disable(const StubCmd *cmd);
/** status command. */
void cmd_status(const StubCmd *cmd);
/** idle command. */
void cmd_idle(const StubCmd *cmd);
/** protocol-info command. */
void cmd_protocol_info(const StubCmd *cmd);

/* ---- cmd_buddy.c ------------------------------------------------------ */

/** add-buddy command. */
void cmd_add_buddy(const StubCmd *cmd);
/** remove-buddy command. */
void cmd_remove_buddy(const StubCmd *cmd);
/** move-buddy command. */
void cmd_move_buddy(const StubCmd *cmd);
/** alias-buddy command. */
void cmd_alias_buddy(const StubCmd *cmd);
/** rename-group command. */
void cmd_rename_group(const StubCmd *cmd);
/** remove-group command. */
void cmd_remove_group(const StubCmd *cmd);
/** permit, deny, unpermit and undeny commands. */
void cmd_privacy_list(const StubCmd *cmd);
/** privacy command. */
void cmd_privacy(const StubCmd *cmd);
/** account-info command. */
void cmd_account_info(const StubCmd *cmd);
/** public-alias command. */
void cmd_public_alias(const StubCmd *cmd);
/** set-icon command. */
void cmd_set_icon(const StubCmd *cmd);
/** buddy-icon command. */
void cmd_buddy_icon(const StubCmd *cmd);
/** Adds a buddy's icon fields (checksum, size, hex) to an event. */
void ev_buddy_icon(StubEvent *ev, PurpleBuddy *buddy);

/* ---- cmd_conv.c ------------------------------------------------------- */

/** send-im command. */
void cmd_send_im(const StubCmd *cmd);
/** typing command. */
void cmd_typing(const StubCmd *cmd);
/** attention command. */
void cmd_attention(const StubCmd *cmd);
/** tooltip command. */
void cmd_tooltip(const StubCmd *cmd);
/** open-im command. */
void cmd_open_im(const StubCmd *cmd);
/** close-im command. */
void cmd_close_im(const StubCmd *cmd);
/** buddy-menu command. */
void cmd_buddy_menu(const StubCmd *cmd);
/** account-action command. */
void cmd_account_action(const StubCmd *cmd);
/** A menu label without its mnemonic underscores (g_free it). */
char *plain_label(const char *label);
/** join-chat command. */
void cmd_join_chat(const StubCmd *cmd);
/** chat-send command. */
void cmd_chat_send(const StubCmd *cmd);
/** chat-invite command. */
void cmd_chat_invite(const StubCmd *cmd);
/** chat-leave command. */
void cmd_chat_leave(const StubCmd *cmd);

/* ---- requests.c: request and account UI ops, certificates ------------- */

/** The request UI ops (auto-answer, certificate policy). */
PurpleRequestUiOps *requests_ui_ops(void);
/** The account UI ops (authorization requests). */
PurpleAccountUiOps *requests_account_ui_ops(void);
/** accept-cert command. */
void cmd_accept_cert(const StubCmd *cmd);
/** auth command. */
void cmd_auth(const StubCmd *cmd);
/** Answers the held offer prompt of a transfer; FALSE if none is waiting. */
gboolean requests_answer_xfer(void *xfer, gboolean accept);
/** answer-fields command. */
void cmd_answer_fields(const StubCmd *cmd);
/** Closes every pending request through libpurple (before core quit). */
void requests_close_all(void);
/** Frees the request module's own state (after core quit). */
void requests_free(void);

/* ---- xfers.c: file transfers ------------------------------------------- */

/** Installs the transfer UI ops and connects to the transfer signals. */
void xfers_install(void);
/** The stub's id of a live transfer, or 0 if the pointer is none. */
guint xfers_id(void *maybe_xfer);
/** The path an accepted transfer is saved to, or NULL. */
const char *xfers_save_as(void *xfer);
/** Starts an event about a transfer (id, type, who, names, size, bytes, status). */
StubEvent *xfer_event(const char *name, PurpleXfer *xfer);
/** send-file command. */
void cmd_send_file(const StubCmd *cmd);
/** xfer-accept command. */
void cmd_xfer_accept(const StubCmd *cmd);
/** xfer-deny command. */
void cmd_xfer_deny(const StubCmd *cmd);
/** xfer-cancel command. */
void cmd_xfer_cancel(const StubCmd *cmd);

/* ---- uiops.c: the remaining UI ops ------------------------------------ */

/** Installs conversation, connection, blist, notify and privacy UI ops. */
void uiops_install(void);
/** The debug UI ops (printing only when enabled). */
PurpleDebugUiOps *uiops_debug(gboolean enabled);
/** Frees the UI ops' own state (after core quit). */
void uiops_free(void);

/* ---- smileys.c ------------------------------------------------------- */

/** add-smiley command. */
void cmd_add_smiley(const StubCmd *cmd);
/** Sets the custom smiley ops of the conversation UI ops. */
void smileys_install(PurpleConversationUiOps *ops);
/** Forgets the smileys still open in a conversation being destroyed. */
void smileys_conversation_gone(PurpleConversation *conv);
/** Frees what smileys.c holds. */
void smileys_free(void);

/* ---- signals.c -------------------------------------------------------- */

/** Connects to the libpurple signals the stub reports. */
void signals_connect(void);

/* ---- reconnect.c: automatic reconnection ------------------------------ */

/** reconnect command. */
void cmd_reconnect(const StubCmd *cmd);
/** Connection UI op: schedules a reconnection after a non-fatal error. */
void reconnect_report_disconnect(PurpleConnection *gc, PurpleConnectionError reason, const char *text);
/** Cancels every pending reconnection and forgets the policies (before core quit). */
void reconnect_stop(void);

/* ---- eventloop.c ------------------------------------------------------ */

/** The GLib based event-loop UI ops. */
PurpleEventLoopUiOps *eventloop_ui_ops(void);

/* ---- stats.c ---------------------------------------------------------- */

/** Wraps the default main context's poll function to time dispatches. */
void stats_install(void);
/** stats command. */
void cmd_stats(const StubCmd *cmd);
/** stats-reset command. */
void cmd_stats_reset(const StubCmd *cmd);

/* ---- sync.c ----------------------------------------------------------- */

/** sync command: emits `sync` once the main loop has nothing else ready. */
void cmd_sync(const StubCmd *cmd);

#endif /* PURPLE_STUB_H */
