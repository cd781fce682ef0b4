/*
 * purple-stub: automatic reconnection, as Pidgin's and Finch's connection UI
 * ops do it. libpurple itself never signs an account on again; after a
 * non-fatal connection error (purple_connection_error_is_fatal() false, e.g.
 * NETWORK_ERROR) those front ends call purple_account_connect() after a delay
 * that grows with each failed attempt. Here it is off until the `reconnect`
 * command turns it on for an account: first delay as given, doubled after each
 * attempt that does not reach signed-on (at most RECONNECT_MAX_DELAY_MS), at
 * most RECONNECT_MAX_ATTEMPTS attempts in a row; signing on resets it.
 */
#include <errno.h>
#include <stdlib.h>

#include "stub.h"

/** Longest delay between two attempts (Pidgin's cap is 600 s as well). */
#define RECONNECT_MAX_DELAY_MS 600000
/** Shortest first delay accepted (libpurple finishes the disconnect first). */
#define RECONNECT_MIN_DELAY_MS 10
/** Attempts in a row without signing on before the stub gives up. */
#define RECONNECT_MAX_ATTEMPTS 10

typedef struct {
	guint first_ms;   /**< first delay; 0 = off */
	guint delay_ms;   /**< delay of the next attempt */
	guint attempts;   /**< attempts since the last sign-on */
	guint timeout;    /**< pending attempt, 0 if none */
} Reconnect;

static GHashTable *policies; /* PurpleAccount * -> Reconnect * */
static int signal_handle;

static Reconnect *
policy_of(PurpleAccount *account)
{
	return policies ? g_hash_table_lookup(policies, account) : NULL;
}

static void
cancel_pending(Reconnect *r)
{
	if (r->timeout != 0) {
		purple_timeout_remove(r->timeout);
		r->timeout = 0;
	}
}

static gboolean
do_signon(gpointer data)
{
	PurpleAccount *account = data;
	Reconnect *r = policy_of(account);

	if (r == NULL)
		return FALSE;
	/* As Pidgin: only an enabled account whose status is online. */
	if (!purple_account_get_enabled(account, STUB_UI_ID)
	    || !purple_status_is_online(purple_account_get_active_status(account))) {
		r->timeout = 0;
		return FALSE;
	}
	/* libpurple drops the failed connection from a zero-delay timeout added after this one
	 * (purple_connection_error_reason): when a slow iteration makes both due at once, this one
	 * runs first and the account is not signed off yet; look again after the same delay. The
	 * wait ends with the disconnect, a sign-on (signed_on) or the account's disabling. */
	if (!purple_account_is_disconnected(account))
		return TRUE;
	r->timeout = 0;
	purple_account_connect(account);
	return FALSE;
}

/* Connection UI op: schedules the next attempt after a non-fatal error. */
void
reconnect_report_disconnect(PurpleConnection *gc, PurpleConnectionError reason, const char *text)
{
	PurpleAccount *account = purple_connection_get_account(gc);
	Reconnect *r = policy_of(account);
	StubEvent *ev;

	(void)text;
	if (r == NULL || r->first_ms == 0 || purple_connection_error_is_fatal(reason) || stub_quitting())
		return;
	cancel_pending(r);
	if (r->attempts >= RECONNECT_MAX_ATTEMPTS) {
		ev = ev_new_account("reconnect-gave-up", account);
		ev_int(ev, "attempts", r->attempts);
		ev_emit(ev);
		return;
	}
	r->attempts++;
	ev = ev_new_account("reconnect-scheduled", account);
	ev_int(ev, "delay_ms", r->delay_ms);
	ev_int(ev, "attempt", r->attempts);
	ev_emit(ev);
	r->timeout = purple_timeout_add(r->delay_ms, do_signon, account);
	r->delay_ms = MIN(r->delay_ms * 2, RECONNECT_MAX_DELAY_MS);
}

static void
signed_on(PurpleConnection *gc)
{
	Reconnect *r = policy_of(purple_connection_get_account(gc));

	if (r != NULL) {
		cancel_pending(r);
		r->delay_ms = r->first_ms;
		r->attempts = 0;
	}
}

static void
account_gone(PurpleAccount *account)
{
	Reconnect *r = policy_of(account);

	if (r != NULL)
		cancel_pending(r);
	if (policies != NULL)
		g_hash_table_remove(policies, account);
}

static void
account_disabled(PurpleAccount *account)
{
	Reconnect *r = policy_of(account);

	if (r != NULL)
		cancel_pending(r);
}

static void
free_policy(gpointer data)
{
	Reconnect *r = data;

	cancel_pending(r);
	g_free(r);
}

void
cmd_reconnect(const StubCmd *cmd)
{
	PurpleAccount *account = stub_account(cmd, cmd_arg(cmd, 0));
	const char *value = cmd_arg(cmd, 1);
	Reconnect *r;
	char *end;
	long ms;

	if (account == NULL)
		return;
	if (g_str_equal(value, "off")) {
		account_gone(account);
		return;
	}
	errno = 0;
	ms = strtol(value, &end, 10);
	if (*value == '\0' || *end != '\0' || errno != 0 || ms < RECONNECT_MIN_DELAY_MS
	    || ms > RECONNECT_MAX_DELAY_MS) {
		stub_error(cmd->name, "first delay must be off or %d-%d ms, not '%s'",
		           RECONNECT_MIN_DELAY_MS, RECONNECT_MAX_DELAY_MS, value);
		return;
	}
	if (policies == NULL) {
		void *accounts = purple_accounts_get_handle();

		policies = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free_policy);
		purple_signal_connect(purple_connections_get_handle(), "signed-on", &signal_handle,
		                      PURPLE_CALLBACK(signed_on), NULL);
		purple_signal_connect(accounts, "account-disabled", &signal_handle,
		                      PURPLE_CALLBACK(account_disabled), NULL);
		purple_signal_connect(accounts, "account-removed", &signal_handle,
		                      PURPLE_CALLBACK(account_gone), NULL);
	}
	r = policy_of(account);
	if (r == NULL) {
		r = g_new0(Reconnect, 1);
		g_hash_table_insert(policies, account, r);
	}
	r->first_ms = (guint)ms;
	r->delay_ms = (guint)ms;
	r->attempts = 0;
}

void
reconnect_stop(void)
{
	if (policies == NULL)
		return;
	purple_signals_disconnect_by_handle(&signal_handle);
	g_hash_table_destroy(policies);
	policies = NULL;
}
