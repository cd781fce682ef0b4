/*
 * purple-stub: libpurple event-loop UI ops on the GLib default main context
 * (the nullclient recipe).
 */
#include "stub.h"

#define READ_COND (G_IO_IN | G_IO_HUP | G_IO_ERR)
#define WRITE_COND (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL)

typedef struct {
	PurpleInputFunction function;
	gpointer data;
} InputClosure;

static gboolean
input_dispatch(GIOChannel *source, GIOCondition condition, gpointer data)
{
	InputClosure *closure = data;
	int purple_cond = 0;

	if (condition & READ_COND)
		purple_cond |= PURPLE_INPUT_READ;
	if (condition & WRITE_COND)
		purple_cond |= PURPLE_INPUT_WRITE;
	closure->function(closure->data, g_io_channel_unix_get_fd(source), purple_cond);
	return TRUE;
}

static guint
input_add(gint fd, PurpleInputCondition condition, PurpleInputFunction function, gpointer data)
{
	InputClosure *closure = g_new0(InputClosure, 1);
	GIOCondition cond = 0;
	GIOChannel *channel;
	guint id;

	closure->function = function;
	closure->data = data;
	if (condition & PURPLE_INPUT_READ)
		cond |= READ_COND;
	if (condition & PURPLE_INPUT_WRITE)
		cond |= WRITE_COND;
	channel = g_io_channel_unix_new(fd);
	id = g_io_add_watch_full(channel, G_PRIORITY_DEFAULT, cond, input_dispatch, closure, g_free);
	g_io_channel_unref(channel);
	return id;
}

static PurpleEventLoopUiOps eventloop_ops = {
	.timeout_add = g_timeout_add,
	.timeout_remove = g_source_remove,
	.input_add = input_add,
	.input_remove = g_source_remove,
	/* input_get_error: libpurple's getsockopt default */
	.timeout_add_seconds = g_timeout_add_seconds,
};

PurpleEventLoopUiOps *
eventloop_ui_ops(void)
{
	return &eventloop_ops;
}
