/*
 * purple-stub: custom smileys. The user's own store (add-smiley), and the smileys a protocol
 * adds to a conversation (custom_smiley_add/write/close), reported once closed with the size
 * and base64 SHA-1 of what was written.
 */
#include "stub.h"

/* "<conversation address> <shortcut>" -> GByteArray of the data written so far. */
static GHashTable *open_smileys;

static char *
smiley_key(PurpleConversation *conv, const char *smile)
{
	return g_strdup_printf("%p %s", (void *)conv, smile);
}

void
cmd_add_smiley(const StubCmd *cmd)
{
	const char *shortcut = cmd_arg(cmd, 0), *file = cmd_arg(cmd, 1);
	PurpleSmiley *smiley;
	StubEvent *ev;

	if (!g_file_test(file, G_FILE_TEST_IS_REGULAR)) {
		stub_error(cmd->name, "cannot read '%s'", file);
		return;
	}
	if (purple_smileys_find_by_shortcut(shortcut) != NULL) {
		stub_error(cmd->name, "a smiley with shortcut '%s' exists", shortcut);
		return;
	}
	/* Copies the image into libpurple's smiley directory and saves the list. */
	smiley = purple_smiley_new_from_file(shortcut, file);
	if (smiley == NULL) {
		stub_error(cmd->name, "libpurple refused the smiley '%s'", shortcut);
		return;
	}
	ev = ev_new("smiley-added");
	ev_str(ev, "shortcut", purple_smiley_get_shortcut(smiley));
	ev_str(ev, "checksum", purple_smiley_get_checksum(smiley));
	ev_emit(ev);
}

static gboolean
custom_smiley_add(PurpleConversation *conv, const char *smile, gboolean remote)
{
	StubEvent *ev = ev_new_account("custom-smiley-added", purple_conversation_get_account(conv));

	if (open_smileys == NULL)
		open_smileys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		                                     (GDestroyNotify)g_byte_array_unref);
	/* As Pidgin: a smiley added again (a new image on its way) starts over. */
	g_hash_table_replace(open_smileys, smiley_key(conv, smile), g_byte_array_new());
	ev_str(ev, "conversation", purple_conversation_get_name(conv));
	ev_str(ev, "shortcut", smile);
	ev_bool(ev, "remote", remote);
	ev_emit(ev);
	return TRUE;
}

static void
custom_smiley_write(PurpleConversation *conv, const char *smile, const guchar *data, gsize size)
{
	char *key = smiley_key(conv, smile);
	GByteArray *buf = open_smileys != NULL ? g_hash_table_lookup(open_smileys, key) : NULL;

	if (buf == NULL)
		stub_error(NULL, "custom smiley '%s' written without being added", smile);
	else
		g_byte_array_append(buf, data, (guint)size);
	g_free(key);
}

static void
custom_smiley_close(PurpleConversation *conv, const char *smile)
{
	char *key = smiley_key(conv, smile);
	GByteArray *buf = open_smileys != NULL ? g_hash_table_lookup(open_smileys, key) : NULL;
	StubEvent *ev;

	if (buf == NULL) {
		stub_error(NULL, "custom smiley '%s' closed without being added", smile);
		g_free(key);
		return;
	}
	ev = ev_new_account("custom-smiley", purple_conversation_get_account(conv));
	ev_str(ev, "conversation", purple_conversation_get_name(conv));
	ev_str(ev, "shortcut", smile);
	ev_int(ev, "size", buf->len);
	if (buf->len > 0) {
		guint8 digest[20];
		gsize digest_len = sizeof digest;
		GChecksum *sha1 = g_checksum_new(G_CHECKSUM_SHA1);
		char *b64;

		g_checksum_update(sha1, buf->data, buf->len);
		g_checksum_get_digest(sha1, digest, &digest_len);
		g_checksum_free(sha1);
		b64 = g_base64_encode(digest, digest_len);
		ev_str(ev, "sha1", b64);
		g_free(b64);
	} else {
		ev_null(ev, "sha1");
	}
	ev_emit(ev);
	g_hash_table_remove(open_smileys, key);
	g_free(key);
}

void
smileys_conversation_gone(PurpleConversation *conv)
{
	GHashTableIter iter;
	gpointer key;
	char *prefix;

	if (open_smileys == NULL)
		return;
	prefix = g_strdup_printf("%p ", (void *)conv);
	g_hash_table_iter_init(&iter, open_smileys);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		if (g_str_has_prefix(key, prefix))
			g_hash_table_iter_remove(&iter);
	g_free(prefix);
}

void
smileys_install(PurpleConversationUiOps *ops)
{
	ops->custom_smiley_add = custom_smiley_add;
	ops->custom_smiley_write = custom_smiley_write;
	ops->custom_smiley_close = custom_smiley_close;
}

void
smileys_free(void)
{
	if (open_smileys != NULL) {
		g_hash_table_destroy(open_smileys);
		open_smileys = NULL;
	}
}
