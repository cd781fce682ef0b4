/*
 * purple-stub: main-loop dispatch timing and process resource usage.
 * The poll function of the default main context is wrapped; the time from
 * one poll's return to the next poll's start is one dispatch (the time the
 * UI thread was busy and could not react). The same stretch is also measured in the
 * thread's CPU time, which other processes on a loaded machine do not inflate.
 * Before each poll the events the iteration emitted are flushed to stdout.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "stub.h"

static GPollFunc real_poll;
static gint64 last_return; /* monotonic µs of the last poll return; 0 = none */
static guint64 dispatches;
static gint64 max_dispatch_us;
static gint64 total_dispatch_us;
static gint64 last_return_cpu; /* thread CPU µs at the last poll return */
static gint64 max_dispatch_cpu_us;

/* CPU time of the calling thread in µs. */
static gint64
thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (gint64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static gint
timed_poll(GPollFD *fds, guint nfds, gint timeout)
{
	gint64 now, cpu;
	gint ret;

	/* Events are written out once per main-loop iteration (json.c), as part of it. */
	fflush(stdout);
	now = g_get_monotonic_time();
	cpu = thread_cpu_us();

	if (last_return != 0) {
		gint64 busy = now - last_return;
		dispatches++;
		total_dispatch_us += busy;
		if (busy > max_dispatch_us)
			max_dispatch_us = busy;
		if (cpu - last_return_cpu > max_dispatch_cpu_us)
			max_dispatch_cpu_us = cpu - last_return_cpu;
	}
	ret = real_poll(fds, nfds, timeout);
	last_return = g_get_monotonic_time();
	last_return_cpu = thread_cpu_us();
	return ret;
}

void
stats_install(void)
{
	GMainContext *ctx = g_main_context_default();

	real_poll = g_main_context_get_poll_func(ctx);
	g_main_context_set_poll_func(ctx, timed_poll);
}

/* Resident set size in KiB from /proc/self/status, -1 if unknown. */
static gint64
rss_kb(void)
{
	gint64 kb = -1;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		long long v;
		if (sscanf(line, "VmRSS: %lld kB", &v) == 1) {
			kb = v;
			break;
		}
	}
	fclose(f);
	return kb;
}

void
cmd_stats(const StubCmd *cmd)
{
	StubEvent *ev = ev_new("stats");
	struct rusage ru;

	(void)cmd;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		memset(&ru, 0, sizeof(ru));
	ev_int(ev, "dispatches", (gint64)dispatches);
	ev_int(ev, "max_dispatch_us", max_dispatch_us);
	ev_int(ev, "total_dispatch_us", total_dispatch_us);
	ev_int(ev, "max_dispatch_cpu_us", max_dispatch_cpu_us);
	ev_int(ev, "rss_kb", rss_kb());
	ev_int(ev, "cpu_user_us", (gint64)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec);
	ev_int(ev, "cpu_sys_us", (gint64)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
	ev_emit(ev);
}

void
cmd_stats_reset(const StubCmd *cmd)
{
	(void)cmd;
	dispatches = 0;
	max_dispatch_us = 0;
	total_dispatch_us = 0;
	max_dispatch_cpu_us = 0;
	ev_emit(ev_new("stats-reset"));
}
