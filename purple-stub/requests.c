/*
 * purple-stub: request UI ops and account UI ops (authorization requests,
 * own status changes).
 *
 * Every request prompt is reported as an event and answered from an idle
 * callback (never re-entrantly from inside the request call): certificate
 * prompts ("Accept certificate for <host>?" from libpurple's x509 tls_cached
 * verifier) are accepted for hosts named by accept-cert and rejected
 * otherwise; every other prompt is cancelled (an action prompt through its
 * Cancel/No/Reject/Deny/Decline/Ignore action if it has one), except a fields prompt
 * armed by `answer-fields`, which is answered OK with the named boolean fields ticked.
 * Authorization requests wait for an `auth <id> accept|deny` command; a file-transfer
 * offer's prompt waits for `xfer-accept`/`xfer-deny` (xfers.c), and the save dialog after
 * an accept is answered with the path given.
 */
#include "stub.h"

/** Title and primary-text prefix of libpurple's certificate prompt (2.x certificate.c). */
#define CERT_TITLE "SSL Certificate Verification"
#define CERT_PRIMARY_PREFIX "Accept certificate for "

typedef enum {
	ANSWER_ACTION, /* cb is a PurpleRequestActionCb, called with index */
	ANSWER_INPUT,  /* cb is a PurpleRequestInputCb, called with text */
	ANSWER_CHOICE, /* cb is a PurpleRequestChoiceCb, called with index */
	ANSWER_FIELDS, /* cb is a PurpleRequestFieldsCb, called with fields */
	ANSWER_FILE,   /* cb is a PurpleRequestFileCb, called with text (NULL: cancelled) */
} AnswerKind;

typedef struct {
	PurpleRequestType type;
	AnswerKind kind;
	GCallback cb; /* NULL: close without a callback */
	void *user_data;
	int index;
	char *text;
	PurpleRequestFields *fields; /* owned by the UI once requested */
	guint source;
	void *xfer;           /* a transfer's held offer prompt: answered by requests_answer_xfer */
	GCallback accept_cb;  /* its accept action */
	int accept_index;
} Request;

typedef struct {
	guint id;
	PurpleAccountRequestAuthorizationCb authorize_cb;
	PurpleAccountRequestAuthorizationCb deny_cb;
	void *user_data;
} AuthRequest;

static GList *pending;           /* Request *, not yet answered */
static GPtrArray *accepted_hosts; /* char *, from accept-cert */
static GHashTable *auth_requests; /* id -> AuthRequest * */
static guint next_auth_id = 1;
static GPtrArray *armed_fields;   /* char *: boolean field ids the next fields prompt ticks */

static void
request_free(Request *req)
{
	if (req->source != 0)
		g_source_remove(req->source);
	if (req->fields != NULL)
		purple_request_fields_destroy(req->fields);
	g_free(req->text);
	g_free(req);
}

static gboolean
answer_cb(gpointer data)
{
	Request *req = data;

	req->source = 0;
	if (req->cb != NULL) {
		switch (req->kind) {
		case ANSWER_ACTION:
		case ANSWER_CHOICE:
			((PurpleRequestActionCb)req->cb)(req->user_data, req->index);
			break;
		case ANSWER_INPUT:
			((PurpleRequestInputCb)req->cb)(req->user_data, req->text);
			break;
		case ANSWER_FIELDS:
			((PurpleRequestFieldsCb)req->cb)(req->user_data, req->fields);
			break;
		case ANSWER_FILE:
			((PurpleRequestFileCb)req->cb)(req->user_data, req->text);
			break;
		}
	}
	/* The callback may already have closed the request (close_request frees it). */
	if (g_list_find(pending, req) != NULL)
		purple_request_close(req->type, req);
	return FALSE;
}

static Request *
request_new(PurpleRequestType type, AnswerKind kind, GCallback cb, void *user_data)
{
	Request *req = g_new0(Request, 1);

	req->type = type;
	req->kind = kind;
	req->cb = cb;
	req->user_data = user_data;
	req->source = g_idle_add(answer_cb, req);
	pending = g_list_prepend(pending, req);
	return req;
}

static StubEvent *
request_event(const char *kind, const char *title, const char *primary, const char *secondary,
              PurpleAccount *account, const char *who)
{
	StubEvent *ev = ev_new_account("request", account);

	ev_str(ev, "kind", kind);
	ev_str(ev, "title", title);
	ev_str(ev, "primary", primary);
	ev_str(ev, "secondary", secondary);
	ev_str(ev, "who", who);
	return ev;
}

static void *
request_input(const char *title, const char *primary, const char *secondary,
              const char *default_value, gboolean multiline, gboolean masked, gchar *hint,
              const char *ok_text, GCallback ok_cb, const char *cancel_text, GCallback cancel_cb,
              PurpleAccount *account, const char *who, PurpleConversation *conv, void *user_data)
{
	StubEvent *ev = request_event("input", title, primary, secondary, account, who);
	Request *req;

	(void)multiline; (void)masked; (void)hint; (void)ok_text; (void)ok_cb;
	(void)cancel_text; (void)conv;
	ev_emit(ev);
	req = request_new(PURPLE_REQUEST_INPUT, ANSWER_INPUT, cancel_cb, user_data);
	req->text = g_strdup(default_value ? default_value : "");
	return req;
}

static void *
request_choice(const char *title, const char *primary, const char *secondary, int default_value,
               const char *ok_text, GCallback ok_cb, const char *cancel_text, GCallback cancel_cb,
               PurpleAccount *account, const char *who, PurpleConversation *conv,
               void *user_data, va_list choices)
{
	StubEvent *ev = request_event("choice", title, primary, secondary, account, who);
	const char *label;
	Request *req;

	(void)ok_text; (void)ok_cb; (void)cancel_text; (void)conv;
	ev_arr_begin(ev, "choices");
	while ((label = va_arg(choices, const char *)) != NULL) {
		(void)va_arg(choices, int);
		ev_str(ev, NULL, label);
	}
	ev_arr_end(ev);
	ev_emit(ev);
	req = request_new(PURPLE_REQUEST_CHOICE, ANSWER_CHOICE, cancel_cb, user_data);
	req->index = default_value;
	return req;
}

static gboolean
host_accepted(const char *host)
{
	guint i;

	for (i = 0; i < accepted_hosts->len; i++)
		if (!g_ascii_strcasecmp(g_ptr_array_index(accepted_hosts, i), host))
			return TRUE;
	return FALSE;
}

/* The host of a certificate prompt, or NULL if it is not one (caller frees). */
static char *
cert_prompt_host(const char *title, const char *primary)
{
	gsize len;

	if (title == NULL || primary == NULL || !g_str_equal(title, CERT_TITLE) ||
	    !g_str_has_prefix(primary, CERT_PRIMARY_PREFIX))
		return NULL;
	primary += strlen(CERT_PRIMARY_PREFIX);
	len = strlen(primary);
	if (len > 0 && primary[len - 1] == '?')
		len--;
	return g_strndup(primary, len);
}

/* TRUE for the labels libpurple's helpers give their negative action
 * (purple_request_accept_cancel, _yes_no, _ok_cancel and friends). */
static gboolean
is_cancel_label(const char *label)
{
	static const char *const cancels[] = { "Cancel", "No", "Reject", "Deny", "Decline", "Ignore" };
	char *plain;
	gboolean found = FALSE;
	gsize i;

	if (label == NULL)
		return FALSE;
	/* Drop GTK mnemonic underscores ("_Cancel"). */
	plain = purple_strreplace(label, "_", "");
	for (i = 0; i < G_N_ELEMENTS(cancels) && !found; i++)
		found = g_ascii_strcasecmp(plain, cancels[i]) == 0;
	g_free(plain);
	return found;
}

/* A transfer offer's accept/cancel prompt: reported as xfer-request and held. */
static void *
request_xfer_offer(const char *primary, void *xfer, size_t action_count, va_list actions)
{
	StubEvent *ev = xfer_event("xfer-request", xfer);
	Request *req = request_new(PURPLE_REQUEST_ACTION, ANSWER_ACTION, NULL, xfer);
	size_t i;

	g_source_remove(req->source);
	req->source = 0;
	req->xfer = xfer;
	req->accept_index = -1;
	req->index = -1;
	ev_str(ev, "primary", primary);
	ev_arr_begin(ev, "actions");
	for (i = 0; i < action_count; i++) {
		const char *label = va_arg(actions, const char *);
		GCallback cb = va_arg(actions, GCallback);
		ev_str(ev, NULL, label);
		if (is_cancel_label(label) && req->index < 0) {
			req->cb = cb;
			req->index = (int)i;
		} else if (req->accept_index < 0) {
			req->accept_cb = cb;
			req->accept_index = (int)i;
		}
	}
	ev_arr_end(ev);
	ev_emit(ev);
	return req;
}

gboolean
requests_answer_xfer(void *xfer, gboolean accept)
{
	GList *l;

	for (l = pending; l != NULL; l = l->next) {
		Request *req = l->data;
		if (req->xfer != xfer || req->source != 0)
			continue;
		if (accept) {
			req->cb = req->accept_cb;
			req->index = req->accept_index;
		}
		req->source = g_idle_add(answer_cb, req);
		return TRUE;
	}
	return FALSE;
}

static void *
request_action(const char *title, const char *primary, const char *secondary, int default_action,
               PurpleAccount *account, const char *who, PurpleConversation *conv,
               void *user_data, size_t action_count, va_list actions)
{
	char *host = cert_prompt_host(title, primary);
	const char *wanted = NULL;
	GCallback chosen = NULL;
	int chosen_index = -1;
	StubEvent *ev;
	Request *req;
	size_t i;

	(void)default_action; (void)conv;
	if (host == NULL && xfers_id(user_data) != 0)
		return request_xfer_offer(primary, user_data, action_count, actions);
	if (host != NULL) {
		gboolean accept = host_accepted(host);
		wanted = accept ? "Accept" : "Reject";
		ev = ev_new(accept ? "cert-accepted" : "cert-rejected");
		ev_str(ev, "host", host);
		ev_str(ev, "reason", secondary);
	} else {
		ev = request_event("action", title, primary, secondary, account, who);
	}
	ev_arr_begin(ev, "actions");
	for (i = 0; i < action_count; i++) {
		const char *label = va_arg(actions, const char *);
		GCallback cb = va_arg(actions, GCallback);
		gboolean take = wanted != NULL ? (label != NULL && g_str_equal(label, wanted))
		                               : (chosen == NULL && is_cancel_label(label));
		ev_str(ev, NULL, label);
		if (take) {
			chosen = cb;
			chosen_index = (int)i;
		}
	}
	ev_arr_end(ev);
	/* No cancel-like action: like closing the dialog, no action is taken. */
	ev_int(ev, "answer", chosen_index);
	ev_emit(ev);
	g_free(host);
	req = request_new(PURPLE_REQUEST_ACTION, ANSWER_ACTION, chosen, user_data);
	req->index = chosen_index;
	return req;
}

static const char *
field_type_name(PurpleRequestFieldType type)
{
	switch (type) {
	case PURPLE_REQUEST_FIELD_STRING: return "string";
	case PURPLE_REQUEST_FIELD_INTEGER: return "integer";
	case PURPLE_REQUEST_FIELD_BOOLEAN: return "boolean";
	case PURPLE_REQUEST_FIELD_CHOICE: return "choice";
	case PURPLE_REQUEST_FIELD_LIST: return "list";
	case PURPLE_REQUEST_FIELD_LABEL: return "label";
	case PURPLE_REQUEST_FIELD_IMAGE: return "image";
	case PURPLE_REQUEST_FIELD_ACCOUNT: return "account";
	default: return "other";
	}
}

/* Ticks the armed boolean fields; FALSE (and an error event) if one is missing. */
static gboolean
tick_armed_fields(PurpleRequestFields *fields)
{
	guint i;

	for (i = 0; i < armed_fields->len; i++) {
		const char *id = g_ptr_array_index(armed_fields, i);
		/* get_field complains (g_return_val_if_fail) about an unknown id: ask first. */
		PurpleRequestField *field = purple_request_fields_exists(fields, id)
		                                    ? purple_request_fields_get_field(fields, id)
		                                    : NULL;

		if (field == NULL ||
		    purple_request_field_get_type(field) != PURPLE_REQUEST_FIELD_BOOLEAN) {
			stub_error("answer-fields", "the prompt has no boolean field '%s'", id);
			return FALSE;
		}
		purple_request_field_bool_set_value(field, TRUE);
	}
	return TRUE;
}

static void *
request_fields(const char *title, const char *primary, const char *secondary,
               PurpleRequestFields *fields, const char *ok_text, GCallback ok_cb,
               const char *cancel_text, GCallback cancel_cb, PurpleAccount *account,
               const char *who, PurpleConversation *conv, void *user_data)
{
	StubEvent *ev = request_event("fields", title, primary, secondary, account, who);
	gboolean ok = FALSE;
	GList *g, *f;
	Request *req;

	(void)ok_text; (void)cancel_text; (void)conv;
	ev_arr_begin(ev, "fields");
	for (g = purple_request_fields_get_groups(fields); g != NULL; g = g->next) {
		for (f = purple_request_field_group_get_fields(g->data); f != NULL; f = f->next) {
			ev_obj_begin(ev, NULL);
			ev_str(ev, "id", purple_request_field_get_id(f->data));
			ev_str(ev, "label", purple_request_field_get_label(f->data));
			ev_str(ev, "type", field_type_name(purple_request_field_get_type(f->data)));
			ev_obj_end(ev);
		}
	}
	ev_arr_end(ev);
	if (armed_fields != NULL) {
		ok = tick_armed_fields(fields);
		g_ptr_array_free(armed_fields, TRUE);
		armed_fields = NULL;
	}
	ev_str(ev, "answer", ok ? "ok" : "cancel");
	ev_emit(ev);
	req = request_new(PURPLE_REQUEST_FIELDS, ANSWER_FIELDS, ok ? ok_cb : cancel_cb, user_data);
	req->fields = fields;
	return req;
}

void
cmd_answer_fields(const StubCmd *cmd)
{
	StubEvent *ev = ev_new("answer-fields");
	guint i;

	if (armed_fields != NULL)
		g_ptr_array_free(armed_fields, TRUE);
	armed_fields = g_ptr_array_new_with_free_func(g_free);
	ev_arr_begin(ev, "ids");
	for (i = 0; i < cmd->args->len; i++) {
		g_ptr_array_add(armed_fields, g_strdup(cmd_arg(cmd, i)));
		ev_str(ev, NULL, cmd_arg(cmd, i));
	}
	ev_arr_end(ev);
	ev_emit(ev);
}

static void *
request_file(const char *title, const char *filename, gboolean savedialog, GCallback ok_cb,
             GCallback cancel_cb, PurpleAccount *account, const char *who,
             PurpleConversation *conv, void *user_data)
{
	StubEvent *ev = request_event("file", title, filename, NULL, account, who);
	const char *save_as = xfers_save_as(user_data);
	Request *req;

	(void)savedialog; (void)conv;
	ev_str(ev, "answer", save_as);
	ev_emit(ev);
	if (save_as == NULL)
		return request_new(PURPLE_REQUEST_FILE, ANSWER_FILE, cancel_cb, user_data);
	req = request_new(PURPLE_REQUEST_FILE, ANSWER_FILE, ok_cb, user_data);
	req->text = g_strdup(save_as);
	return req;
}

static void *
request_folder(const char *title, const char *dirname, GCallback ok_cb, GCallback cancel_cb,
               PurpleAccount *account, const char *who, PurpleConversation *conv,
               void *user_data)
{
	StubEvent *ev = request_event("folder", title, dirname, NULL, account, who);

	(void)ok_cb; (void)conv;
	ev_emit(ev);
	return request_new(PURPLE_REQUEST_FOLDER, ANSWER_FILE, cancel_cb, user_data);
}

static void
close_request(PurpleRequestType type, void *ui_handle)
{
	Request *req = ui_handle;

	(void)type;
	if (g_list_find(pending, req) == NULL)
		return;
	pending = g_list_remove(pending, req);
	request_free(req);
}

static PurpleRequestUiOps request_ops = {
	.request_input = request_input,
	.request_choice = request_choice,
	.request_action = request_action,
	.request_fields = request_fields,
	.request_file = request_file,
	.close_request = close_request,
	.request_folder = request_folder,
};

PurpleRequestUiOps *
requests_ui_ops(void)
{
	if (accepted_hosts == NULL)
		accepted_hosts = g_ptr_array_new_with_free_func(g_free);
	if (auth_requests == NULL)
		auth_requests = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	return &request_ops;
}

void
cmd_accept_cert(const StubCmd *cmd)
{
	StubEvent *ev = ev_new("accept-cert");

	if (!host_accepted(cmd_arg(cmd, 0)))
		g_ptr_array_add(accepted_hosts, g_strdup(cmd_arg(cmd, 0)));
	ev_str(ev, "host", cmd_arg(cmd, 0));
	ev_emit(ev);
}

static void *
request_authorize(PurpleAccount *account, const char *remote_user, const char *id,
                  const char *alias, const char *message, gboolean on_list,
                  PurpleAccountRequestAuthorizationCb authorize_cb,
                  PurpleAccountRequestAuthorizationCb deny_cb, void *user_data)
{
	AuthRequest *auth = g_new0(AuthRequest, 1);
	StubEvent *ev = ev_new_account("auth-request", account);

	(void)id;
	auth->id = next_auth_id++;
	auth->authorize_cb = authorize_cb;
	auth->deny_cb = deny_cb;
	auth->user_data = user_data;
	g_hash_table_insert(auth_requests, GUINT_TO_POINTER(auth->id), auth);
	ev_int(ev, "id", auth->id);
	ev_str(ev, "who", remote_user);
	ev_str(ev, "alias", alias);
	ev_str(ev, "message", message);
	ev_bool(ev, "on_list", on_list);
	ev_emit(ev);
	return auth;
}

static void
close_account_request(void *ui_handle)
{
	AuthRequest *auth = ui_handle;
	StubEvent *ev;

	if (auth == NULL || g_hash_table_lookup(auth_requests, GUINT_TO_POINTER(auth->id)) != auth)
		return;
	ev = ev_new("auth-closed");
	ev_int(ev, "id", auth->id);
	ev_emit(ev);
	g_hash_table_remove(auth_requests, GUINT_TO_POINTER(auth->id));
}

static void
notify_added(PurpleAccount *account, const char *remote_user, const char *id, const char *alias,
             const char *message)
{
	StubEvent *ev = ev_new_account("added-by", account);

	(void)id;
	ev_str(ev, "who", remote_user);
	ev_str(ev, "alias", alias);
	ev_str(ev, "message", message);
	ev_bool(ev, "on_list", TRUE);
	ev_emit(ev);
}

static void
request_add(PurpleAccount *account, const char *remote_user, const char *id, const char *alias,
            const char *message)
{
	StubEvent *ev = ev_new_account("added-by", account);

	(void)id;
	ev_str(ev, "who", remote_user);
	ev_str(ev, "alias", alias);
	ev_str(ev, "message", message);
	ev_bool(ev, "on_list", FALSE);
	ev_emit(ev);
}

/* Called for every change of the account's own status, enabled or not. */
static void
status_changed(PurpleAccount *account, PurpleStatus *status)
{
	StubEvent *ev;

	/* Not for accounts being built (add-account) or probed (protocol-info). */
	if (g_list_find(purple_accounts_get_all(), account) == NULL)
		return;
	ev = ev_new_account("account-status", account);
	ev_str(ev, "status", purple_status_get_id(status));
	ev_str(ev, "message", purple_status_get_attr_string(status, "message"));
	ev_emit(ev);
}

static PurpleAccountUiOps account_ops = {
	.notify_added = notify_added,
	.status_changed = status_changed,
	.request_add = request_add,
	.request_authorize = request_authorize,
	.close_account_request = close_account_request,
};

PurpleAccountUiOps *
requests_account_ui_ops(void)
{
	return &account_ops;
}

void
cmd_auth(const StubCmd *cmd)
{
	const char *id_text = cmd_arg(cmd, 0);
	const char *answer = cmd_arg(cmd, 1);
	gboolean accept = g_str_equal(answer, "accept");
	AuthRequest *auth;
	StubEvent *ev;
	guint64 id;

	if (!accept && !g_str_equal(answer, "deny")) {
		stub_error(cmd->name, "answer must be accept or deny");
		return;
	}
	if (!g_ascii_string_to_unsigned(id_text, 10, 1, G_MAXUINT, &id, NULL) ||
	    (auth = g_hash_table_lookup(auth_requests, GUINT_TO_POINTER((guint)id))) == NULL) {
		stub_error(cmd->name, "no pending authorization request '%s'", id_text);
		return;
	}
	/* Out of the table first: libpurple forgets the request when answered. */
	g_hash_table_steal(auth_requests, GUINT_TO_POINTER(auth->id));
	ev = ev_new("auth-answered");
	ev_int(ev, "id", auth->id);
	ev_bool(ev, "accepted", accept);
	ev_emit(ev);
	if (accept)
		auth->authorize_cb(auth->user_data);
	else
		auth->deny_cb(auth->user_data);
	g_free(auth);
}

void
requests_close_all(void)
{
	GList *auths, *l;

	while (pending != NULL) {
		Request *req = pending->data;
		purple_request_close(req->type, req);
		/* If libpurple did not know the handle, drop it here. */
		if (pending != NULL && pending->data == req) {
			pending = g_list_remove(pending, req);
			request_free(req);
		}
	}
	auths = g_hash_table_get_values(auth_requests);
	for (l = auths; l != NULL; l = l->next)
		purple_account_request_close(l->data);
	g_list_free(auths);
}

void
requests_free(void)
{
	if (armed_fields != NULL) {
		g_ptr_array_free(armed_fields, TRUE);
		armed_fields = NULL;
	}
	if (auth_requests != NULL) {
		g_hash_table_destroy(auth_requests);
		auth_requests = NULL;
	}
	if (accepted_hosts != NULL) {
		g_ptr_array_free(accepted_hosts, TRUE);
		accepted_hosts = NULL;
	}
}
