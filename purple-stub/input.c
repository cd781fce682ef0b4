/*
 * purple-stub: reads commands from stdin, one per line. Words are separated
 * by spaces or tabs and each word is percent-decoded. Lines longer than
 * STUB_MAX_LINE are rejected as a whole.
 */
#include <errno.h>
#include <unistd.h>

#include "stub.h"

/** Longest accepted command line, in bytes (before decoding). */
#define STUB_MAX_LINE (1024 * 1024)

/** The last positional argument takes the rest of the line. */
#define REST 0x1
/** Trailing key=value words are options. */
#define OPTS 0x2

typedef struct {
	const char *name;
	guint min_args; /* required positional arguments */
	guint max_args; /* positional arguments at most */
	guint flags;    /* REST, OPTS */
	const char *const *keys; /* allowed option keys; NULL = any */
	void (*run)(const StubCmd *cmd);
} CommandSpec;

static void cmd_quit(const StubCmd *cmd);

static const char *const status_keys[] = { "message", NULL };
static const char *const buddy_keys[] = { "group", "alias", NULL };
static const char *const none_keys[] = { NULL };

static const CommandSpec commands[] = {
	{ "add-account", 2, 2, OPTS, NULL, cmd_add_account },
	{ "enable", 1, 1, 0, none_keys, cmd_enable },
	{ "disable", 1, 1, 0, none_keys, cmd_disable },
	{ "reconnect", 2, 2, 0, none_keys, cmd_reconnect },
	{ "status", 2, 2, OPTS, status_keys, cmd_status },
	{ "idle", 2, 2, 0, none_keys, cmd_idle },
	{ "protocol-info", 1, 1, 0, none_keys, cmd_protocol_info },
	{ "send-im", 3, 3, REST, none_keys, cmd_send_im },
	{ "typing", 3, 3, 0, none_keys, cmd_typing },
	{ "attention", 2, 3, 0, none_keys, cmd_attention },
	{ "open-im", 2, 2, 0, none_keys, cmd_open_im },
	{ "close-im", 2, 2, 0, none_keys, cmd_close_im },
	{ "buddy-menu", 3, 3, REST, none_keys, cmd_buddy_menu },
	{ "account-action", 2, 2, REST, none_keys, cmd_account_action },
	{ "tooltip", 2, 2, 0, none_keys, cmd_tooltip },
	{ "add-buddy", 2, 2, OPTS, buddy_keys, cmd_add_buddy },
	{ "remove-buddy", 2, 2, 0, none_keys, cmd_remove_buddy },
	{ "move-buddy", 3, 3, 0, none_keys, cmd_move_buddy },
	{ "alias-buddy", 2, 3, REST, none_keys, cmd_alias_buddy },
	{ "rename-group", 3, 3, 0, none_keys, cmd_rename_group },
	{ "remove-group", 2, 2, 0, none_keys, cmd_remove_group },
	{ "permit", 2, 2, 0, none_keys, cmd_privacy_list },
	{ "deny", 2, 2, 0, none_keys, cmd_privacy_list },
	{ "unpermit", 2, 2, 0, none_keys, cmd_privacy_list },
	{ "undeny", 2, 2, 0, none_keys, cmd_privacy_list },
	{ "privacy", 2, 2, 0, none_keys, cmd_privacy },
	{ "account-info", 1, 1, 0, none_keys, cmd_account_info },
	{ "public-alias", 2, 2, REST, none_keys, cmd_public_alias },
	{ "set-icon", 1, 2, 0, none_keys, cmd_set_icon },
	{ "buddy-icon", 2, 2, 0, none_keys, cmd_buddy_icon },
	{ "add-smiley", 2, 2, 0, none_keys, cmd_add_smiley },
	{ "auth", 2, 2, 0, none_keys, cmd_auth },
	{ "join-chat", 1, 1, OPTS, NULL, cmd_join_chat },
	{ "chat-send", 3, 3, REST, none_keys, cmd_chat_send },
	{ "chat-invite", 3, 4, REST, none_keys, cmd_chat_invite },
	{ "chat-leave", 2, 2, 0, none_keys, cmd_chat_leave },
	{ "accept-cert", 1, 1, 0, none_keys, cmd_accept_cert },
	{ "send-file", 3, 3, REST, none_keys, cmd_send_file },
	{ "xfer-accept", 2, 2, REST, none_keys, cmd_xfer_accept },
	{ "xfer-deny", 1, 1, 0, none_keys, cmd_xfer_deny },
	{ "xfer-cancel", 1, 1, 0, none_keys, cmd_xfer_cancel },
	{ "answer-fields", 1, 64, 0, none_keys, cmd_answer_fields },
	{ "stats", 0, 0, 0, none_keys, cmd_stats },
	{ "stats-reset", 0, 0, 0, none_keys, cmd_stats_reset },
	{ "sync", 0, 1, 0, none_keys, cmd_sync },
	{ "quit", 0, 0, 0, none_keys, cmd_quit },
};

static GString *line_buf;
static gboolean discarding; /* inside an over-long line */
static guint watch_id;
static GIOChannel *channel;

const char *
cmd_arg(const StubCmd *cmd, guint n)
{
	return n < cmd->args->len ? g_ptr_array_index(cmd->args, n) : NULL;
}

const char *
cmd_opt(const StubCmd *cmd, const char *key)
{
	guint i;

	for (i = 0; i < cmd->opt_keys->len; i++)
		if (g_str_equal(g_ptr_array_index(cmd->opt_keys, i), key))
			return g_ptr_array_index(cmd->opt_values, i);
	return NULL;
}

static void
cmd_quit(const StubCmd *cmd)
{
	(void)cmd;
	stub_quit();
}

/* Percent-decodes word; NULL for a malformed escape or an encoded NUL. */
static char *
percent_decode(const char *word)
{
	GString *out = g_string_sized_new(strlen(word));
	const char *p;

	for (p = word; *p; p++) {
		if (*p != '%') {
			g_string_append_c(out, *p);
			continue;
		}
		if (!g_ascii_isxdigit(p[1]) || !g_ascii_isxdigit(p[2])) {
			g_string_free(out, TRUE);
			return NULL;
		}
		char c = (char)(g_ascii_xdigit_value(p[1]) * 16 + g_ascii_xdigit_value(p[2]));
		if (c == '\0') {
			g_string_free(out, TRUE);
			return NULL;
		}
		g_string_append_c(out, c);
		p += 2;
	}
	return g_string_free(out, FALSE);
}

static const CommandSpec *
find_spec(const char *name)
{
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(commands); i++)
		if (g_str_equal(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static gboolean
key_allowed(const CommandSpec *spec, const char *key)
{
	const char *const *k;

	if (spec->keys == NULL)
		return TRUE;
	for (k = spec->keys; *k; k++)
		if (g_str_equal(*k, key))
			return TRUE;
	return FALSE;
}

/* Sorts decoded words into arguments and options; FALSE after an error event. */
static gboolean
build_cmd(const CommandSpec *spec, char **words, guint n_words, StubCmd *cmd)
{
	guint i;

	for (i = 0; i < n_words; i++) {
		char *w = words[i];
		char *eq = strchr(w, '=');

		if ((spec->flags & OPTS) && cmd->args->len >= spec->min_args && eq != NULL && eq != w) {
			char *key = g_strndup(w, eq - w);
			if (!key_allowed(spec, key)) {
				stub_error(spec->name, "unknown option '%s'", key);
				g_free(key);
				return FALSE;
			}
			g_ptr_array_add(cmd->opt_keys, key);
			g_ptr_array_add(cmd->opt_values, g_strdup(eq + 1));
			continue;
		}
		if (cmd->opt_keys->len > 0) {
			stub_error(spec->name, "positional argument after options");
			return FALSE;
		}
		if ((spec->flags & REST) && cmd->args->len + 1 == spec->max_args) {
			/* The last argument is the rest of the line, re-joined. */
			char *rest = g_strjoinv(" ", words + i);
			g_ptr_array_add(cmd->args, rest);
			break;
		}
		if (cmd->args->len >= spec->max_args) {
			stub_error(spec->name, "too many arguments (at most %u)", spec->max_args);
			return FALSE;
		}
		g_ptr_array_add(cmd->args, g_strdup(w));
	}
	if (cmd->args->len < spec->min_args) {
		stub_error(spec->name, "expected %u argument(s), got %u", spec->min_args, cmd->args->len);
		return FALSE;
	}
	return TRUE;
}

static void
run_line(const char *line)
{
	char **raw = g_strsplit_set(line, " \t", -1);
	GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
	const CommandSpec *spec;
	char **raw_p;
	StubCmd cmd;

	for (raw_p = raw; *raw_p; raw_p++) {
		char *w;
		if (**raw_p == '\0')
			continue;
		w = percent_decode(*raw_p);
		if (w == NULL) {
			stub_error(words->len ? (char *)g_ptr_array_index(words, 0) : NULL,
			           "bad percent-encoding in '%s'", *raw_p);
			goto out;
		}
		g_ptr_array_add(words, w);
	}
	if (words->len == 0)
		goto out; /* blank line */
	g_ptr_array_add(words, NULL);

	spec = find_spec(g_ptr_array_index(words, 0));
	if (spec == NULL) {
		stub_error(g_ptr_array_index(words, 0), "unknown command");
		goto out;
	}
	cmd.name = spec->name;
	cmd.args = g_ptr_array_new_with_free_func(g_free);
	cmd.opt_keys = g_ptr_array_new_with_free_func(g_free);
	cmd.opt_values = g_ptr_array_new_with_free_func(g_free);
	if (build_cmd(spec, (char **)words->pdata + 1, words->len - 2, &cmd))
		spec->run(&cmd);
	g_ptr_array_free(cmd.args, TRUE);
	g_ptr_array_free(cmd.opt_keys, TRUE);
	g_ptr_array_free(cmd.opt_values, TRUE);
out:
	g_ptr_array_free(words, TRUE);
	g_strfreev(raw);
}

/* Runs every complete line in line_buf; keeps the unfinished tail. */
static void
run_buffered_lines(void)
{
	char *nl;

	while (!stub_quitting() && (nl = memchr(line_buf->str, '\n', line_buf->len)) != NULL) {
		gsize len = nl - line_buf->str;
		char *line = g_strndup(line_buf->str, len);

		g_string_erase(line_buf, 0, len + 1);
		if (discarding) {
			discarding = FALSE; /* end of the over-long line */
		} else {
			if (len > 0 && line[len - 1] == '\r')
				line[--len] = '\0';
			if (memchr(line, '\0', len) != NULL)
				stub_error(NULL, "NUL byte in command line");
			else
				run_line(line);
		}
		g_free(line);
	}
	if (!discarding && line_buf->len > STUB_MAX_LINE) {
		stub_error(NULL, "command line longer than %d bytes", STUB_MAX_LINE);
		discarding = TRUE;
	}
	if (discarding)
		g_string_truncate(line_buf, 0);
}

static gboolean
stdin_cb(GIOChannel *source, GIOCondition cond, gpointer data)
{
	char buf[65536];
	ssize_t n;

	(void)source;
	(void)cond;
	(void)data;
	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return TRUE;
	if (n <= 0) {
		/* EOF (or a broken stdin) means quit. */
		watch_id = 0;
		if (line_buf->len > 0 && !discarding) {
			g_string_append_c(line_buf, '\n');
			run_buffered_lines();
		}
		if (!stub_quitting())
			stub_quit();
		return FALSE;
	}
	g_string_append_len(line_buf, buf, n);
	run_buffered_lines();
	return TRUE;
}

void
input_start(void)
{
	line_buf = g_string_new(NULL);
	channel = g_io_channel_unix_new(STDIN_FILENO);
	watch_id = g_io_add_watch(channel, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_cb, NULL);
}

void
input_stop(void)
{
	if (watch_id != 0) {
		g_source_remove(watch_id);
		watch_id = 0;
	}
	if (channel != NULL) {
		g_io_channel_unref(channel);
		channel = NULL;
	}
	if (line_buf != NULL) {
		g_string_free(line_buf, TRUE);
		line_buf = NULL;
	}
}
