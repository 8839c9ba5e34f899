/* instance.c - one test's instance: its dir, network, nodes (node.c), the
 * poll loop and the teardown (see instance.h). What differs between
 * vkernels is the backend's (backend.h); what lands in result.json is the
 * caller's to write (result.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "node.h"
#include "platform.h"
#include "proc.h"
#include "rundir.h"
#include "banned.h"

static void reap(struct run *r)
{
	int st, i;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == r->net.pid) {
			r->net_reaped = 1;
			continue;
		}
		for (i = 0; i < r->nnodes; i++) {
			struct node *n = &r->node[i];

			if (p != n->pid || n->reaped)
				continue;
			n->reaped = 1;
			n->host.kernel_reaped = 1;
			n->host.kernel_status = st;
			if (WIFSIGNALED(st))
				note("vkernel %d died by signal %d", (int)p, WTERMSIG(st));
			else
				note("vkernel %d exited with %d", (int)p, WEXITSTATUS(st));
		}
	}
	for (i = 0; i < r->nnodes; i++) {
		struct node *n = &r->node[i];

		if (n->reaped && n->state != ST_DRAINING && n->state != ST_DONE) {
			/* anything left in the group (UML helpers, a stray) goes now */
			proc_kill_group(n->pid, SIGKILL);
			set_state(n, ST_DRAINING, DRAIN_MS);
		}
	}
}

static void handle_signals(struct run *r)
{
	int sig;

	while ((sig = plat_signals_next(r->sig_fd)) > 0) {
		if (sig == SIGCHLD)
			continue;   /* reaped below */
		if (!r->interrupted)
			r->interrupted = sig;
	}
}

/* The only poll loop: all nodes' channels, the signal fd, the nearest deadline. */
static void loop(struct run *r)
{
	for (;;) {
		struct pollfd pfd[2 + 2 * INSTANCE_MAX_NODES];
		struct { struct node *n; int serial; } who[2 + 2 * INSTANCE_MAX_NODES];
		long long next = -1, now;
		int np = 0, i, active = 0, timeout = -1;

		if (r->interrupted) {
			for (i = 0; i < r->nnodes; i++) {
				if (r->node[i].pid > 0 && !r->node[i].reaped)
					proc_kill_group(r->node[i].pid, SIGKILL);
				r->node[i].host.killed_by_host = 1;
			}
			return;
		}
		pfd[np].fd = r->sig_fd;
		pfd[np].events = POLLIN;
		who[np].n = NULL;
		np++;
		for (i = 0; i < r->nnodes; i++) {
			struct node *n = &r->node[i];

			if (n->state == ST_DONE)
				continue;
			active++;
			if (n->con_r >= 0) {
				pfd[np] = (struct pollfd){ .fd = n->con_r, .events = POLLIN };
				who[np].n = n;
				who[np++].serial = 0;
			}
			if (n->ser_r >= 0) {
				pfd[np] = (struct pollfd){ .fd = n->ser_r, .events = POLLIN };
				who[np].n = n;
				who[np++].serial = 1;
			}
			if (n->deadline >= 0 && (next < 0 || n->deadline < next))
				next = n->deadline;
		}
		if (!active)
			return;
		if (r->stdin_open && r->node[0].passthrough == 1) {
			pfd[np] = (struct pollfd){ .fd = 0, .events = POLLIN };
			who[np].n = NULL;
			who[np++].serial = -1;
		}
		if (next >= 0) {
			long long left = next - now_ms();

			timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
		}
		if (poll(pfd, (nfds_t)np, timeout) < 0 && errno != EINTR) {
			error_errno("poll failed");
			for (i = 0; i < r->nnodes; i++)
				fmt(r->node[i].host.infra_error, sizeof(r->node[i].host.infra_error),
				    "poll failed");
			r->interrupted = 0;
			for (i = 0; i < r->nnodes; i++)
				if (!r->node[i].reaped)
					proc_kill_group(r->node[i].pid, SIGKILL);
			return;
		}
		if (pfd[0].revents)
			handle_signals(r);
		/* serial before console: the exit record lands before the console's EOF */
		for (i = 1; i < np; i++)
			if (pfd[i].revents && who[i].serial == 1)
				node_read(who[i].n, &who[i].n->ser_r, 1);
		for (i = 1; i < np; i++)
			if (pfd[i].revents && !who[i].serial && who[i].n->con_r == pfd[i].fd)
				node_read(who[i].n, &who[i].n->con_r, 0);
		for (i = 1; i < np; i++)
			if (pfd[i].revents && who[i].serial == -1)
				read_stdin(r);
		reap(r);
		now = now_ms();
		for (i = 0; i < r->nnodes; i++) {
			struct node *n = &r->node[i];

			if (n->state == ST_DRAINING && n->con_r < 0 && n->ser_r < 0)
				set_state(n, ST_DONE, -1);
			else if (n->state != ST_DONE && n->deadline >= 0 && now >= n->deadline)
				node_expire(n);
		}
	}
}


/* Coverage: each node's tree to cfg->gcov_dir[/nodeK]. */
static void collect_gcov(struct run *r)
{
	char build[PATH_MAX] = "";
	int i;

	/* a fetched tree's paths are the kernel's build dir (as compiled) */
	if (r->be->coverage == COV_FETCH && backend_build_dir(r->be, r->cfg->kernel, build, sizeof(build)) < 0)
		build[0] = '\0';

	for (i = 0; i < r->nnodes; i++) {
		struct node *n = &r->node[i];
		char dst[PATH_MAX + 16];
		const char *why;
		int killed = n->host.killed_by_host ||
			     (n->host.kernel_reaped && WIFSIGNALED(n->host.kernel_status) &&
			      WTERMSIG(n->host.kernel_status) == SIGKILL);

		if ((i ? fmt(dst, sizeof(dst), "%s/node%d", r->cfg->gcov_dir, i) :
			 fmt(dst, sizeof(dst), "%s", r->cfg->gcov_dir)) < 0)
			continue;
		why = instdir_collect_gcov(n->dir, dst, killed, r->be->coverage == COV_AT_EXIT,
					   r->be->coverage == COV_FETCH && build[0] ? build : NULL);
		if (why && n->host.nnotes < VERDICT_MAX_NOTES)
			n->host.notes[n->host.nnotes++] = why;
	}
}

static void close_net_fds(struct run *r)
{
	int i;

	for (i = 0; i < VKNET_MAX_NODES; i++)
		close_fd(&r->net.fd[i]);
}

static int start(struct run *r)
{
	int i;

	if (instdir_create(r->cfg->run_dir, r->cfg->test, r->dir, sizeof(r->dir)) < 0)
		return -1;
	for (i = 0; i < r->nnodes; i++) {
		if (node_files(&r->node[i]) < 0)
			return -1;
		/* a fetched tree (COV_FETCH, or vkci.fetch= by hand) lands in the node's dir */
		if (xfer_rx_init(&r->node[i].xfer, r->node[i].dir, XFER_DIR, r->cfg->fetch_limits,
				 &r->node[i].v) < 0)
			return -1;
	}
	if (r->nnodes > 1 && r->be->net_start(r->dir, r->nnodes, &r->net) < 0)
		return -1;
	for (i = 0; i < r->nnodes; i++) {
		if (node_spawn(&r->node[i]) < 0)
			return -1;
		set_state(&r->node[i], ST_BOOTING, r->cfg->boot_timeout_s * 1000);
	}
	close_net_fds(r);   /* every node has its end now */
	return 0;
}

/* What happened, for the caller (result.json, retries, reports). */
static void fill_result(struct run *r, int rc, long long start_unix_ms, long long start_ms,
			struct vkci_result *res)
{
	const struct instance_config *c = r->cfg;
	const struct node *n = &r->node[0];
	const struct verdict *v = &n->v;
	const struct console_state *con = &n->con;

	fmt(res->test, sizeof(res->test), "%s", c->test);
	res->backend = r->be->name;
	res->accel = n->accel;
	res->restored = n->restored;
	res->kernel = c->kernel;
	res->image = c->image;
	res->payload = c->payload;
	res->nodes = r->nnodes;
	res->timeout_s = c->timeout_s;
	res->mem = c->mem;
	res->start_unix_ms = start_unix_ms;
	res->duration_ms = now_ms() - start_ms;
	res->exit_status = rc;
	res->outcome = rc == EXIT_INFRA ? OUTCOME_INFRA : rc == EXIT_PASS ?
		       (v->skipped ? OUTCOME_SKIP : OUTCOME_PASS) :
		       con->first != CRASH_NONE ? OUTCOME_CRASH : OUTCOME_FAIL;
	fmt(res->reason, sizeof(res->reason), "%s", v->reason);
	res->planned = v->tap.planned;
	res->run = v->tap.tests;
	res->failed = v->tap.failed;
	result_add_tap_subtests(res, &v->tap);
	if (con->first != CRASH_NONE) {
		int k;

		fmt(res->crash_kind, sizeof(res->crash_kind), "%s", crash_name(con->first));
		fmt(res->crash_title, sizeof(res->crash_title), "%s", console_title(con));
		console_fingerprint(con, res->crash_fingerprint, sizeof(res->crash_fingerprint));
		fmt(res->crash_line, sizeof(res->crash_line), "%s", con->first_line);
		for (k = 1; k < con->nreports && res->ncrash_others < (int)ARRAY_SIZE(res->crash_others); k++)
			fmt(res->crash_others[res->ncrash_others++], sizeof(res->crash_others[0]), "%s",
			    con->reports[k].title);
	}
	fmt(res->console_log, sizeof(res->console_log), "%s", n->console_path);
	fmt(res->serial_log, sizeof(res->serial_log), "%s", n->serial_path);
	if (r->dir[0] && (rc != EXIT_PASS || c->keep))
		fmt(res->kept_dir, sizeof(res->kept_dir), "%s", r->dir);
	if (c->gcov_dir)
		fmt(res->coverage_dir, sizeof(res->coverage_dir), "%s", c->gcov_dir);
}

/* The base image rewritten in place under a running vkernel: blocks not yet
 * in the COW were read from the changed file, the guest's root disk is
 * undefined. (Renaming a new image over it is harmless: the vkernel keeps the
 * old file open.) */
static int image_changed(const struct stat *before, const char *image)
{
	struct stat after;

	return stat(image, &after) == 0 && after.st_dev == before->st_dev &&
	       after.st_ino == before->st_ino &&
	       (after.st_size != before->st_size || after.st_mtim.tv_sec != before->st_mtim.tv_sec ||
		after.st_mtim.tv_nsec != before->st_mtim.tv_nsec);
}

static void teardown(struct run *r)
{
	int i;

	for (i = 0; i < r->nnodes; i++)
		if (r->node[i].pid > 0 && !r->node[i].reaped)
			proc_kill_group(r->node[i].pid, SIGKILL);
	if (r->net.pid > 0 && !r->net_reaped)
		proc_kill_group(r->net.pid, SIGKILL);
	proc_kill_all_children(KILL_WAIT_MS);
	close_net_fds(r);
	for (i = 0; i < r->nnodes; i++) {
		struct node *n = &r->node[i];

		close_fd(&n->con_r);
		close_fd(&n->ser_r);
		close_fd(&n->ser_w);
		close_fd(&n->hold);
		serial_finish(&n->sp);
		xfer_rx_finish(&n->xfer, r->cfg->gcov_dir ? "gcov" : NULL);  /* before collect_gcov */
		console_finish(&n->con);
	}
}

static _Noreturn void interrupted(struct run *r)
{
	int i, sig = r->interrupted;

	for (i = 0; i < r->nnodes; i++) {
		logfile_close(&r->node[i].con_log);
		logfile_close(&r->node[i].ser_log);
	}
	if (r->dir[0])
		rm_rf(r->dir);
	plat_signals_close(r->sig_fd);
	if (r->cfg->on_interrupt)
		r->cfg->on_interrupt();
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

/* Every node's verdict: the other nodes' first, node 0's reports on them. */
static int verdicts(struct run *r)
{
	int i, rc;

	for (i = 1; i < r->nnodes; i++) {
		struct node *n = &r->node[i];

		node_notes(r, n);
		n->rc = verdict_finish(&n->v, &n->host);
		r->peers[i - 1].node = i;
		r->peers[i - 1].rc = n->rc;
		r->peers[i - 1].output = n->captured.data ? n->captured.data : "";
		r->peers[i - 1].console_path = n->console_path;
	}
	node_notes(r, &r->node[0]);
	r->node[0].host.peers = r->peers;
	r->node[0].host.npeers = r->nnodes - 1;
	rc = verdict_finish(&r->node[0].v, &r->node[0].host);
	if (r->cfg->interactive && rc != EXIT_INFRA) {
		/* a shell session has no TAP: it went well if the shell ended and
		 * the kernel did not crash */
		rc = r->node[0].v.end != SER_GARBAGE && r->node[0].con.first == CRASH_NONE ?
		     EXIT_PASS : EXIT_FAIL;
		if (rc != EXIT_PASS)
			error("the session ended abnormally: %s (instance kept: '%s')",
			      r->node[0].v.reason[0] ? r->node[0].v.reason : "see the console log", r->dir);
	}
	return rc;
}

int instance_run(const struct instance_config *cfg, verdict_emit emit, void *ctx,
		 struct vkci_result *res)
{
	static const int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, 0 };
	struct run *r = calloc(1, sizeof(*r));
	long long start_ms, start_unix_ms;
	struct timespec ts;
	struct stat img;
	int rc, i, have_img, check_fds = getenv("VKCI_CHECK_FDS") != NULL;

	if (!r) {
		error("out of memory");
		return EXIT_INFRA;
	}
	if (check_fds)
		proc_fds_note();
	r->cfg = cfg;
	r->be = cfg->backend ? cfg->backend : &backend_uml;
	for (i = 0; i < VKNET_MAX_NODES; i++)
		r->net.fd[i] = -1;
	start_ms = now_ms();
	clock_gettime(CLOCK_REALTIME, &ts);
	start_unix_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	r->nnodes = cfg->nodes < 1 ? 1 : cfg->nodes > INSTANCE_MAX_NODES ? INSTANCE_MAX_NODES :
		    (int)cfg->nodes;
	r->stdin_open = cfg->interactive;
	for (i = 0; i < r->nnodes; i++) {
		node_init(r, &r->node[i], i, emit, ctx);
		/* until it runs, a node is DONE: nothing to wait for */
		r->node[i].state = ST_DONE;
	}

	have_img = stat(cfg->image, &img) == 0;
	proc_become_supervisor();
	r->sig_fd = plat_signals_open(sigs);
	if (r->sig_fd < 0 || start(r) < 0) {
		fmt(r->node[0].host.infra_error, sizeof(r->node[0].host.infra_error),
		    "cannot start the vkernel for '%s' (see vkci's error above)", cfg->test);
		for (i = 0; i < r->nnodes; i++)
			if (r->node[i].pid > 0)
				r->node[i].host.killed_by_host = 1;
	} else {
		loop(r);
	}

	/* Teardown: nothing of this test survives. */
	teardown(r);
	if (have_img && !r->interrupted && !r->node[0].host.infra_error[0] && image_changed(&img, cfg->image))
		fmt(r->node[0].host.infra_error, sizeof(r->node[0].host.infra_error),
		    "base image '%s' was modified in place while the test ran (replace an image by renaming a new file over it)",
		    cfg->image);
	if (r->interrupted)
		interrupted(r);
	if (cfg->gcov_dir)
		collect_gcov(r);
	rc = verdicts(r);
	fill_result(r, rc, start_unix_ms, start_ms, res);

	for (i = 0; i < r->nnodes; i++) {
		logfile_close(&r->node[i].con_log);
		logfile_close(&r->node[i].ser_log);
	}
	if (r->dir[0] && (rc != EXIT_PASS || cfg->keep))
		rundir_keep(cfg->run_dir, r->dir);   /* marked kept, the keep policy applied */
	if (r->dir[0] && (rc != EXIT_PASS || cfg->keep))
		rundir_keep(cfg->run_dir, r->dir);   /* marked kept, the keep policy applied */
	if (r->dir[0] && rc == EXIT_PASS && !cfg->keep)
		rm_rf(r->dir);
	else if (r->dir[0] && rc != EXIT_PASS)
		note("kept instance dir '%s'", r->dir);
	plat_signals_close(r->sig_fd);
	for (i = 0; i < r->nnodes; i++) {
		verdict_free(&r->node[i].v);
		sbuf_free(&r->node[i].captured);
	}
	free(r);
	if (check_fds && proc_fds_leaked() > 0 && rc == EXIT_PASS)
		rc = res->exit_status = EXIT_INFRA;
	return rc;
}

