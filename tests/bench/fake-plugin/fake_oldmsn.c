/*
 * A small MSNP12 protocol plugin that behaves like the older MSN plugins (msn-pecan, Pidgin's
 * old prpl) in the two ways msnp-bench must cope with: it talks to fixed endpoints (the
 * notification server at 127.0.0.1:FAKE_NS_PORT and the Passport 1.4 login at
 * https://127.0.0.1:FAKE_HTTPS_PORT/login, both compiled in), and it adds every buddy of the
 * server's list before the connection reaches "signed on". It has no account options.
 * Built only for msnp-bench's own test (tests/bench/tests/fake_plugin.rs).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <purple.h>

#define FAKE_ID "prpl-fake-oldmsn"

typedef struct {
	PurpleConnection *gc;
	PurpleProxyConnectData *connect;
	PurpleUtilFetchUrlData *fetch;
	int fd;
	guint watch;
	GString *in;
	gsize skip;     /* payload bytes still to discard */
	long expected;  /* contacts announced by SYN, -1 before it */
	long listed;
} Fake;

static void
fake_send(Fake *f, const char *fmt, ...)
{
	va_list ap;
	char *line;
	size_t len, off = 0;

	va_start(ap, fmt);
	line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	len = strlen(line);
	while (off < len) {
		ssize_t n = write(f->fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	g_free(line);
}

static void
fake_fail(Fake *f, const char *why)
{
	purple_connection_error_reason(f->gc, PURPLE_CONNECTION_ERROR_NETWORK_ERROR, why);
}

static void
ticket_cb(PurpleUtilFetchUrlData *data, gpointer user, const gchar *text, gsize len,
          const gchar *error)
{
	Fake *f = user;
	const char *start;
	char *ticket;

	(void)data;
	(void)len;
	f->fetch = NULL;
	start = text ? strstr(text, "from-PP='") : NULL;
	if (start == NULL) {
		fake_fail(f, error ? error : "no Passport ticket");
		return;
	}
	start += strlen("from-PP='");
	ticket = g_strndup(start, strcspn(start, "'"));
	fake_send(f, "USR 4 TWN S %s\r\n", ticket);
	g_free(ticket);
}

static void
fetch_ticket(Fake *f)
{
	PurpleAccount *account = purple_connection_get_account(f->gc);
	char *user = g_strdup(purple_url_encode(purple_account_get_username(account)));
	char *pass = g_strdup(purple_url_encode(purple_connection_get_password(f->gc)));
	char *url = g_strdup_printf("https://127.0.0.1:%d/login", FAKE_HTTPS_PORT);
	char *request = g_strdup_printf(
		"GET /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Passport1.4 "
		"OrgVerb=GET,OrgURL=http%%3A%%2F%%2Fmessenger%%2Emsn%%2Ecom,sign-in=%s,pwd=%s,"
		"ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1\r\nConnection: close\r\n\r\n",
		FAKE_HTTPS_PORT, user, pass);

	g_free(user);
	g_free(pass);
	f->fetch = purple_util_fetch_url_request(url, TRUE, NULL, TRUE, request, TRUE,
	                                         ticket_cb, f);
	g_free(url);
	g_free(request);
}

/* The value of `key=` among the words of an LST line, percent-decoded. */
static char *
lst_field(char **words, const char *key)
{
	for (; *words != NULL; words++)
		if (g_str_has_prefix(*words, key))
			return g_strdup(purple_url_decode(*words + strlen(key)));
	return NULL;
}

static void
signed_on(Fake *f)
{
	purple_connection_set_state(f->gc, PURPLE_CONNECTED);
	fake_send(f, "CHG 6 NLN 0\r\n");
}

static void
add_listed(Fake *f, char **words)
{
	PurpleAccount *account = purple_connection_get_account(f->gc);
	char *who = lst_field(words, "N=");
	char *name = lst_field(words, "F=");

	if (who != NULL && purple_find_buddy(account, who) == NULL) {
		PurpleGroup *group = purple_find_group("Buddies");
		PurpleBuddy *buddy;

		if (group == NULL) {
			group = purple_group_new("Buddies");
			purple_blist_add_group(group, NULL);
		}
		buddy = purple_buddy_new(account, who, NULL);
		purple_blist_add_buddy(buddy, NULL, group, NULL);
		if (name != NULL)
			purple_blist_server_alias_buddy(buddy, name);
	}
	g_free(who);
	g_free(name);
	if (++f->listed == f->expected)
		signed_on(f);
}

static void
handle_line(Fake *f, const char *line)
{
	char **w = g_strsplit(line, " ", 0);
	guint n = g_strv_length(w);
	const char *cmd = n > 0 ? w[0] : "";

	if (!strcmp(cmd, "VER")) {
		fake_send(f, "CVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 7.5.0324 msmsgs %s\r\n",
		          purple_account_get_username(purple_connection_get_account(f->gc)));
	} else if (!strcmp(cmd, "CVR")) {
		fake_send(f, "USR 3 TWN I %s\r\n",
		          purple_account_get_username(purple_connection_get_account(f->gc)));
	} else if (!strcmp(cmd, "USR") && n > 3 && !strcmp(w[2], "TWN")) {
		purple_connection_update_progress(f->gc, "Authenticating", 1, 3);
		fetch_ticket(f);
	} else if (!strcmp(cmd, "USR") && n > 2 && !strcmp(w[2], "OK")) {
		purple_connection_update_progress(f->gc, "Syncing", 2, 3);
		fake_send(f, "SYN 5 0 0\r\n");
	} else if (!strcmp(cmd, "SYN") && n > 4) {
		f->expected = strtol(w[4], NULL, 10);
		if (f->expected == 0)
			signed_on(f);
	} else if (!strcmp(cmd, "LST")) {
		add_listed(f, w);
	} else if (!strcmp(cmd, "MSG") || !strcmp(cmd, "UBX") || !strcmp(cmd, "NOT") ||
	           !strcmp(cmd, "GCF")) {
		f->skip = n > 1 ? strtoul(w[n - 1], NULL, 10) : 0;
	} else if (g_ascii_isdigit(cmd[0])) {
		fake_fail(f, line);
	}
	g_strfreev(w);
}

static void
input_cb(gpointer data, gint fd, PurpleInputCondition cond)
{
	Fake *f = data;
	char buf[16384];
	ssize_t got = read(fd, buf, sizeof(buf));
	char *nl;

	(void)cond;
	if (got <= 0) {
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		fake_fail(f, "server closed the connection");
		return;
	}
	g_string_append_len(f->in, buf, got);
	for (;;) {
		if (f->skip > 0) {
			gsize drop = MIN(f->skip, f->in->len);
			g_string_erase(f->in, 0, drop);
			f->skip -= drop;
			if (f->skip > 0)
				return;
		}
		nl = memchr(f->in->str, '\n', f->in->len);
		if (nl == NULL)
			return;
		*nl = '\0';
		if (nl > f->in->str && nl[-1] == '\r')
			nl[-1] = '\0';
		{
			char *line = g_strdup(f->in->str);
			g_string_erase(f->in, 0, nl - f->in->str + 1);
			handle_line(f, line);
			g_free(line);
		}
		if (!PURPLE_CONNECTION_IS_VALID(f->gc) || f->gc->proto_data != f)
			return;
	}
}

static void
connect_cb(gpointer data, gint fd, const gchar *error)
{
	Fake *f = data;

	f->connect = NULL;
	if (fd < 0) {
		fake_fail(f, error ? error : "cannot connect");
		return;
	}
	f->fd = fd;
	f->watch = purple_input_add(fd, PURPLE_INPUT_READ, input_cb, f);
	fake_send(f, "VER 1 MSNP12 CVR0\r\n");
}

static void
fake_login(PurpleAccount *account)
{
	PurpleConnection *gc = purple_account_get_connection(account);
	Fake *f = g_new0(Fake, 1);

	f->gc = gc;
	f->fd = -1;
	f->expected = -1;
	f->in = g_string_new(NULL);
	gc->proto_data = f;
	purple_connection_update_progress(gc, "Connecting", 0, 3);
	f->connect = purple_proxy_connect(gc, account, "127.0.0.1", FAKE_NS_PORT, connect_cb, f);
	if (f->connect == NULL)
		fake_fail(f, "cannot connect");
}

static void
fake_close(PurpleConnection *gc)
{
	Fake *f = gc->proto_data;

	if (f == NULL)
		return;
	if (f->connect != NULL)
		purple_proxy_connect_cancel(f->connect);
	if (f->fetch != NULL)
		purple_util_fetch_url_cancel(f->fetch);
	if (f->watch != 0)
		purple_input_remove(f->watch);
	if (f->fd >= 0)
		close(f->fd);
	g_string_free(f->in, TRUE);
	g_free(f);
	gc->proto_data = NULL;
}

static const char *
fake_list_icon(PurpleAccount *account, PurpleBuddy *buddy)
{
	(void)account;
	(void)buddy;
	return "msn";
}

static GList *
fake_status_types(PurpleAccount *account)
{
	GList *types = NULL;

	(void)account;
	types = g_list_append(types, purple_status_type_new_full(PURPLE_STATUS_AVAILABLE, NULL,
	                                                         NULL, TRUE, TRUE, FALSE));
	types = g_list_append(types, purple_status_type_new_full(PURPLE_STATUS_OFFLINE, NULL,
	                                                         NULL, TRUE, TRUE, FALSE));
	return types;
}

static PurplePluginProtocolInfo prpl_info = {
	.list_icon = fake_list_icon,
	.status_types = fake_status_types,
	.login = fake_login,
	.close = fake_close,
	.struct_size = sizeof(PurplePluginProtocolInfo),
};

static PurplePluginInfo info = {
	.magic = PURPLE_PLUGIN_MAGIC,
	.major_version = PURPLE_MAJOR_VERSION,
	.minor_version = PURPLE_MINOR_VERSION,
	.type = PURPLE_PLUGIN_PROTOCOL,
	.priority = PURPLE_PRIORITY_DEFAULT,
	.id = FAKE_ID,
	.name = "Fake old MSN",
	.version = "1",
	.summary = "msnp-bench test plugin",
	.description = "An MSNP12 client with fixed endpoints that lists buddies before signing on",
	.extra_info = &prpl_info,
};

static void
init_plugin(PurplePlugin *plugin)
{
	(void)plugin;
}

PURPLE_INIT_PLUGIN(fake_oldmsn, init_plugin, info)
