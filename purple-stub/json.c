/*
 * purple-stub: JSON event writer. Every event is one line on stdout, flushed
 * before the main loop next waits. Strings are escaped; invalid UTF-8 becomes U+FFFD so the output
 * is always valid JSON whatever bytes the plugin hands over.
 */
#include <stdio.h>

#include "stub.h"

struct StubEvent {
	GString *buf;
	gboolean need_comma;
};

static void
put_escaped(GString *buf, const char *s, gsize len)
{
	const char *p = s;
	const char *end = s + len;

	g_string_append_c(buf, '"');
	while (p < end) {
		const gchar *valid_end;
		const char *q;

		g_utf8_validate(p, end - p, &valid_end);
		for (q = p; q < valid_end; q++) {
			unsigned char c = (unsigned char)*q;
			switch (c) {
			case '"': g_string_append(buf, "\\\""); break;
			case '\\': g_string_append(buf, "\\\\"); break;
			case '\n': g_string_append(buf, "\\n"); break;
			case '\r': g_string_append(buf, "\\r"); break;
			case '\t': g_string_append(buf, "\\t"); break;
			default:
				if (c < 0x20 || c == 0x7f)
					g_string_append_printf(buf, "\\u%04x", c);
				else
					g_string_append_c(buf, (char)c);
			}
		}
		p = valid_end;
		if (p < end) {
			/* An invalid byte: replace it and go on with the next one. */
			g_string_append(buf, "\\ufffd");
			p++;
		}
	}
	g_string_append_c(buf, '"');
}

static void
put_key(StubEvent *ev, const char *key)
{
	if (ev->need_comma)
		g_string_append_c(ev->buf, ',');
	if (key != NULL) {
		put_escaped(ev->buf, key, strlen(key));
		g_string_append_c(ev->buf, ':');
	}
	ev->need_comma = TRUE;
}

StubEvent *
ev_new(const char *name)
{
	StubEvent *ev = g_new0(StubEvent, 1);

	ev->buf = g_string_new("{");
	ev_str(ev, "event", name);
	return ev;
}

StubEvent *
ev_new_account(const char *name, PurpleAccount *account)
{
	StubEvent *ev = ev_new(name);

	ev_str(ev, "account", account ? purple_account_get_username(account) : NULL);
	ev_str(ev, "protocol", account ? purple_account_get_protocol_id(account) : NULL);
	return ev;
}

void
ev_str(StubEvent *ev, const char *key, const char *value)
{
	put_key(ev, key);
	if (value == NULL)
		g_string_append(ev->buf, "null");
	else
		put_escaped(ev->buf, value, strlen(value));
}

void
ev_int(StubEvent *ev, const char *key, gint64 value)
{
	put_key(ev, key);
	g_string_append_printf(ev->buf, "%" G_GINT64_FORMAT, value);
}

void
ev_bool(StubEvent *ev, const char *key, gboolean value)
{
	put_key(ev, key);
	g_string_append(ev->buf, value ? "true" : "false");
}

void
ev_null(StubEvent *ev, const char *key)
{
	put_key(ev, key);
	g_string_append(ev->buf, "null");
}

void
ev_obj_begin(StubEvent *ev, const char *key)
{
	put_key(ev, key);
	g_string_append_c(ev->buf, '{');
	ev->need_comma = FALSE;
}

void
ev_obj_end(StubEvent *ev)
{
	g_string_append_c(ev->buf, '}');
	ev->need_comma = TRUE;
}

void
ev_arr_begin(StubEvent *ev, const char *key)
{
	put_key(ev, key);
	g_string_append_c(ev->buf, '[');
	ev->need_comma = FALSE;
}

void
ev_arr_end(StubEvent *ev)
{
	g_string_append_c(ev->buf, ']');
	ev->need_comma = TRUE;
}

void
ev_emit(StubEvent *ev)
{
	g_string_append(ev->buf, "}\n");
	/* A closed stdout (reader gone) is not an error worth dying for. Written out before the
	 * main loop next polls (stats.c), not one system call per event: a 5,000-buddy list
	 * emits 10,000 events in a few passes. */
	(void)fwrite(ev->buf->str, 1, ev->buf->len, stdout);
	g_string_free(ev->buf, TRUE);
	g_free(ev);
}

void
stub_error(const char *cmd, const char *fmt, ...)
{
	StubEvent *ev = ev_new("error");
	va_list args;
	char *msg;

	va_start(args, fmt);
	msg = g_strdup_vprintf(fmt, args);
	va_end(args);
	ev_str(ev, "command", cmd);
	ev_str(ev, "message", msg);
	ev_emit(ev);
	g_free(msg);
}
