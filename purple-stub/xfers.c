/*
 * purple-stub: file transfers. The transfer UI ops and libpurple's transfer
 * signals become events; `send-file` starts one as Pidgin's "Send File..."
 * does (serv_send_file); an incoming offer's accept/cancel prompt (libpurple's
 * purple_xfer_ask_recv) is held by requests.c until `xfer-accept <id> <path>`
 * (the save dialog that follows is answered with <path>) or `xfer-deny <id>`;
 * `xfer-cancel <id>` cancels as the transfer window's Cancel button does.
 * Transfers are numbered by the stub, in the order libpurple creates them.
 */
#include <stdlib.h>

#include "stub.h"

/** What the stub keeps for a transfer (its ui_data). */
typedef struct {
	guint id;
	char *save_as; /* the path to answer the save dialog with, once accepted */
} StubXfer;

static guint next_xfer_id = 1;

static StubXfer *
stub_xfer(PurpleXfer *xfer)
{
	return xfer != NULL ? xfer->ui_data : NULL;
}

guint
xfers_id(void *maybe_xfer)
{
	GList *l;

	if (maybe_xfer == NULL)
		return 0;
	for (l = purple_xfers_get_all(); l != NULL; l = l->next)
		if (l->data == maybe_xfer && stub_xfer(l->data) != NULL)
			return stub_xfer(l->data)->id;
	return 0;
}

const char *
xfers_save_as(void *xfer)
{
	return xfers_id(xfer) != 0 ? stub_xfer(xfer)->save_as : NULL;
}

static PurpleXfer *
xfer_by_id(const char *text)
{
	guint64 id;
	GList *l;

	if (text == NULL || !g_ascii_string_to_unsigned(text, 10, 1, G_MAXUINT, &id, NULL))
		return NULL;
	for (l = purple_xfers_get_all(); l != NULL; l = l->next)
		if (stub_xfer(l->data) != NULL && stub_xfer(l->data)->id == id)
			return l->data;
	return NULL;
}

static const char *
status_name(PurpleXferStatusType status)
{
	switch (status) {
	case PURPLE_XFER_STATUS_NOT_STARTED: return "not-started";
	case PURPLE_XFER_STATUS_ACCEPTED: return "accepted";
	case PURPLE_XFER_STATUS_STARTED: return "started";
	case PURPLE_XFER_STATUS_DONE: return "done";
	case PURPLE_XFER_STATUS_CANCEL_LOCAL: return "cancel-local";
	case PURPLE_XFER_STATUS_CANCEL_REMOTE: return "cancel-remote";
	default: return "unknown";
	}
}

/* An event about a transfer with its id, type, peer, names, size, bytes and status. */
StubEvent *
xfer_event(const char *name, PurpleXfer *xfer)
{
	StubEvent *ev = ev_new_account(name, purple_xfer_get_account(xfer));
	StubXfer *sx = stub_xfer(xfer);

	ev_int(ev, "id", sx != NULL ? sx->id : 0);
	ev_str(ev, "type", purple_xfer_get_type(xfer) == PURPLE_XFER_SEND ? "send" : "receive");
	ev_str(ev, "who", purple_xfer_get_remote_user(xfer));
	ev_str(ev, "filename", purple_xfer_get_filename(xfer));
	ev_str(ev, "local_filename", purple_xfer_get_local_filename(xfer));
	ev_int(ev, "size", (gint64)purple_xfer_get_size(xfer));
	ev_int(ev, "bytes", (gint64)purple_xfer_get_bytes_sent(xfer));
	ev_str(ev, "status", status_name(purple_xfer_get_status(xfer)));
	return ev;
}

static void
new_xfer(PurpleXfer *xfer)
{
	StubXfer *sx = g_new0(StubXfer, 1);

	sx->id = next_xfer_id++;
	xfer->ui_data = sx;
	ev_emit(xfer_event("xfer-new", xfer));
}

static void
destroy(PurpleXfer *xfer)
{
	StubXfer *sx = stub_xfer(xfer);

	ev_emit(xfer_event("xfer-destroyed", xfer));
	if (sx != NULL) {
		g_free(sx->save_as);
		g_free(sx);
		xfer->ui_data = NULL;
	}
}

static void
add_xfer(PurpleXfer *xfer)
{
	ev_emit(xfer_event("xfer-added", xfer));
}

static void
update_progress(PurpleXfer *xfer, double percent)
{
	StubEvent *ev = xfer_event("xfer-progress", xfer);

	ev_int(ev, "percent", (gint64)(percent * 100.0));
	ev_emit(ev);
}

static void
cancel_local(PurpleXfer *xfer)
{
	ev_emit(xfer_event("xfer-cancelled", xfer));
}

static void
cancel_remote(PurpleXfer *xfer)
{
	ev_emit(xfer_event("xfer-cancelled", xfer));
}

static PurpleXferUiOps xfer_ops = {
	.new_xfer = new_xfer,
	.destroy = destroy,
	.add_xfer = add_xfer,
	.update_progress = update_progress,
	.cancel_local = cancel_local,
	.cancel_remote = cancel_remote,
};

static void
xfer_signal(PurpleXfer *xfer, gpointer name)
{
	ev_emit(xfer_event(name, xfer));
}

void
xfers_install(void)
{
	void *h = purple_xfers_get_handle();
	static int handle;

	purple_xfers_set_ui_ops(&xfer_ops);
	purple_signal_connect(h, "file-send-start", &handle, PURPLE_CALLBACK(xfer_signal), "xfer-started");
	purple_signal_connect(h, "file-recv-start", &handle, PURPLE_CALLBACK(xfer_signal), "xfer-started");
	purple_signal_connect(h, "file-send-complete", &handle, PURPLE_CALLBACK(xfer_signal), "xfer-completed");
	purple_signal_connect(h, "file-recv-complete", &handle, PURPLE_CALLBACK(xfer_signal), "xfer-completed");
}

void
cmd_send_file(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	PurpleConnection *gc = account ? stub_connection(cmd, account) : NULL;

	if (gc == NULL)
		return;
	serv_send_file(gc, cmd_arg(cmd, 1), cmd_arg(cmd, 2));
}

void
cmd_xfer_accept(const StubCmd *cmd)
{
	PurpleXfer *xfer = xfer_by_id(cmd_arg(cmd, 0));

	if (xfer == NULL) {
		stub_error(cmd->name, "no transfer '%s'", cmd_arg(cmd, 0));
		return;
	}
	g_free(stub_xfer(xfer)->save_as);
	stub_xfer(xfer)->save_as = g_strdup(cmd_arg(cmd, 1));
	if (!requests_answer_xfer(xfer, TRUE))
		stub_error(cmd->name, "transfer '%s' is not waiting for an answer", cmd_arg(cmd, 0));
}

void
cmd_xfer_deny(const StubCmd *cmd)
{
	PurpleXfer *xfer = xfer_by_id(cmd_arg(cmd, 0));

	if (xfer == NULL || !requests_answer_xfer(xfer, FALSE))
		stub_error(cmd->name, "no transfer '%s' waiting for an answer", cmd_arg(cmd, 0));
}

void
cmd_xfer_cancel(const StubCmd *cmd)
{
	PurpleXfer *xfer = xfer_by_id(cmd_arg(cmd, 0));

	if (xfer == NULL) {
		stub_error(cmd->name, "no transfer '%s'", cmd_arg(cmd, 0));
		return;
	}
	purple_xfer_cancel_local(xfer);
}
