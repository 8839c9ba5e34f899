/* rundir.h - the hygiene of the run dir (the parent of instance dirs) on
 * builders that run for months.
 *
 * Every instance dir is *claimed* when it is created: a file .vkci-owner in
 * it names the vkci process that owns it (pid, the process's start time in
 * clock ticks since boot, the boot id), so a pid reused by another process is
 * not mistaken for the owner. A dir kept for a post-mortem (a failed test, or
 * --keep) is *marked kept* (.vkci-kept). A sweep of the run dir then
 *   - leaves alone the dirs whose owner is alive (a test running now);
 *   - removes the dirs whose owner is gone without marking them kept: what a
 *     SIGKILLed vkci (a dead worker, an OOM kill) left behind;
 *   - keeps, of the kept dirs, the newest that fit the policy (at most COUNT
 *     dirs, none older than AGE, SIZE bytes on disk in all) and removes the
 *     rest. Dirs of an older vkci (no .vkci-owner) that look like instance
 *     dirs (root.cow or node0/ inside) count as kept since their mtime.
 * Nothing else in the run dir is touched (only our own dirs whose names end
 * in .XXXXXX, as mkdtemp makes them). A dir is removed by renaming it to
 * .vkci-doomed.* first, so two sweeps never remove the same dir twice.
 *
 * The policy: VKCI_KEEP_POLICY="count=20,age=7d,size=1G" (the default; any
 * subset; a limit "inf" is no limit, count=0 keeps nothing). Ages take s, m,
 * h, d; sizes K, M, G. Hooked in: vkci exec sweeps its run dir before it
 * starts (instance dirs of dead owners go), the instance lifecycle claims
 * each dir it makes and marks the ones it keeps (which re-applies the
 * policy), `vkci rundir` prints the policy and the state and sweeps. */
#ifndef VKCI_RUNDIR_H
#define VKCI_RUNDIR_H

#include <stddef.h>

#define RUNDIR_NO_LIMIT (-1LL)
#define RUNDIR_DEFAULT_POLICY "count=20,age=7d,size=1G"

struct rundir_policy {
	long long count;   /* kept dirs at most; RUNDIR_NO_LIMIT: any number */
	long long age_s;   /* seconds since a dir was kept, at most */
	long long bytes;   /* disk usage of all kept dirs, at most */
};

struct rundir_stats {
	int live;            /* dirs whose owner runs */
	int kept;            /* kept dirs left after the sweep */
	long long kept_bytes;
	int stale_removed;   /* dirs of a dead owner, removed */
	int policy_removed;  /* kept dirs removed by the policy */
	int failed;          /* dirs that could not be removed */
};

/* Parse a policy ("count=N,age=7d,size=1G"; NULL or "" gives the default).
 * Returns 0, or -1 after reporting what is wrong and how to write it. */
int rundir_policy_parse(const char *s, struct rundir_policy *p);
/* The policy from VKCI_KEEP_POLICY (default when unset). -1 on a bad one. */
int rundir_policy_env(struct rundir_policy *p);
/* "at most 20 dirs, 7d old, 1G in all" into buf. */
void rundir_policy_describe(const struct rundir_policy *p, char *buf, size_t size);

/* Write DIR/.vkci-owner for this process. Returns 0 or -1 (reported). */
int rundir_claim(const char *dir);
/* The same for another process (vkci rundir --claim: the caller). */
int rundir_claim_for(const char *dir, long pid);
/* Mark DIR (inside RUN_DIR) kept, then sweep RUN_DIR with the policy of
 * VKCI_KEEP_POLICY. Returns 0 or -1 (reported; nothing else fails). */
int rundir_keep(const char *run_dir, const char *dir);
/* Sweep RUN_DIR as described above; stats may be NULL. With dry_run set
 * nothing is removed, stats say what would be. Returns 0, or -1 when the
 * run dir cannot be read (reported). */
int rundir_sweep(const char *run_dir, const struct rundir_policy *p, int dry_run,
		 struct rundir_stats *stats);
/* What vkci exec does before it starts: the policy from the environment,
 * one sweep. Returns -1 only for a bad VKCI_KEEP_POLICY (reported). */
int rundir_sweep_env(const char *run_dir);

/* `vkci rundir [-r DIR] [-n]`: print the run dir, the policy and what a
 * sweep found and removed. Exit 0, 2 for a bad policy, 3 when the run dir
 * cannot be read. */
int cmd_rundir(int argc, char **argv);

#endif
