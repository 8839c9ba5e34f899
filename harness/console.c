/* console.c - crash triage over the kernel console; see console.h and
 * harness/CRASHES.md.
 *
 * Each console line loses its printk prefix (level, timestamp, caller id)
 * and is matched, anchored at its start, against one table of report
 * headers (classes[]). A header either starts a report or belongs to the
 * report already open (the WARNING that a WARN() message precedes, the
 * Oops that follows "BUG: unable to handle ...", the panic a report ends
 * in). The lines after a header feed its report: detail lines (KASAN's
 * "Read of size"), the faulting IP ("RIP:", "pc :"), lockdep's ", at:"
 * sites and the call trace, whose first frame that is not report,
 * sanitizer, lockdep, scheduler-wait, allocator or entry machinery
 * (skip[]) names the function of the title. */
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "banned.h"

/* ---- the table of report classes ------------------------------------------
 *
 * Header patterns are matched at the start of the line (prefix removed):
 *   literal text     matches itself
 *   %1 %2 %3         capture: the shortest text (at least one char) for which
 *                    the rest matches; at the end of a pattern: the rest of
 *                    the line
 *   %F               a symbol ([A-Za-z0-9_.$]+): the function the header names
 *   %w               a word (no blank)
 *   %d               digits
 *   %*               any text, possibly empty (shortest first)
 *   %?               an optional "subsystem: " prefix ("watchdog: ", "rcu: ")
 * A pattern matches a prefix of the line.
 *
 * Titles: %1..%3 are the captures, tidied (numbers, addresses and offsets
 * dropped, cut as the flags say); " in FUNCTION" is appended unless
 * F_NOFUNC. */
enum {
	F_AT = 1 << 0,       /* lockdep ", at: FUNC" sites name the function first */
	F_BT = 1 << 1,       /* only frames after "stack backtrace:" count (lockdep) */
	F_IP = 1 << 2,       /* the faulting IP (RIP:, pc :) names the function */
	F_IPBEFORE = 1 << 3, /* ... also when printed just before the header (UML's show_regs) */
	F_WARNMSG = 1 << 4,  /* printed by WARN()/BUG(): absorbs the WARNING/kernel BUG header after it */
	F_WARNHDR = 1 << 5,  /* a WARNING / kernel BUG header */
	F_PRELUDE = 1 << 6,  /* absorbs the Oops header after it (BUG: unable to handle, kernel BUG at) */
	F_OOPSHDR = 1 << 7,  /* an Oops header */
	F_PANIC = 1 << 8,    /* Kernel panic: absorbed as the end of a report just before it */
	F_LEAKSUM = 1 << 9,  /* kmemleak's summary: absorbed when a leak was reported */
	F_NOFUNC = 1 << 10,  /* the title names no function */
	F_CUTBUG = 1 << 11,  /* %1 is cut at ':', " - ", " at ", ',', '!', ... */
	F_CUTMSG = 1 << 12,  /* %1 is cut at '!', ", ", ". ", " at " */
	F_CUTSEMI = 1 << 13, /* %1 is cut at ';' or '.' */
	F_UMLFAULT = 1 << 14, /* UML's "Kernel mode fault at addr %1": NULL deref or paging request */
	F_OOPSNAME = 1 << 15, /* x86 "Oops: %1: ...": %1 cut at ','; "Oops" alone stays */
	F_CT = 1 << 16,      /* only frames after "Call Trace:" count (slab: its alloc/free tracks come first) */
};

struct crash_class {
	const char *id;       /* short stable name, for tests and figures */
	const char *pat;
	const char *title;
	enum crash_kind kind;
	unsigned flags;
	int detail;           /* KASAN: "Read of size"/"Write of size" fills %2 */
};

#define LOCKDEP (F_BT)
static const struct crash_class classes[] = {
	/* sanitizers (mm/kasan/report.c, mm/kfence/report.c, mm/kmsan, kernel/kcsan, lib/ubsan.c) */
	{ "kasan", "BUG: KASAN: %1 in %F", "KASAN: %1%2", CRASH_BUG, 0, 1 },
	{ "kasan", "BUG: KASAN: %1", "KASAN: %1", CRASH_BUG, 0, 1 },
	{ "kfence", "BUG: KFENCE: %1 in %F", "KFENCE: %1", CRASH_BUG, 0, 0 },
	{ "kmsan", "BUG: KMSAN: %1 in %F", "KMSAN: %1", CRASH_BUG, 0, 0 },
	{ "kcsan", "BUG: KCSAN: %1 in %2", "KCSAN: %1 in %2", CRASH_BUG, F_NOFUNC, 0 },
	{ "ubsan", "UBSAN: %1 in ", "UBSAN: %1", CRASH_BUG, 0, 0 },
	/* lockdep (kernel/locking/lockdep.c) */
	{ "lockdep-deadlock", "WARNING: possible circular locking dependency detected", "possible deadlock", CRASH_WARNING, F_AT | LOCKDEP, 0 },
	{ "lockdep-deadlock", "WARNING: possible recursive locking detected", "possible deadlock", CRASH_WARNING, F_AT | LOCKDEP, 0 },
	{ "lockdep-deadlock", "WARNING: %w-safe -> %w-unsafe lock order detected", "possible deadlock", CRASH_WARNING, F_AT | LOCKDEP, 0 },
	{ "lockdep-deadlock", "WARNING: possible irq lock inversion dependency detected", "possible deadlock", CRASH_WARNING, F_AT | LOCKDEP, 0 },
	{ "lockdep-state", "WARNING: inconsistent lock state", "inconsistent lock state", CRASH_WARNING, F_AT | LOCKDEP, 0 },
	{ "lockdep-unlock", "WARNING: bad unlock balance detected!", "bad unlock balance", CRASH_WARNING, LOCKDEP, 0 },
	{ "lockdep-rcu", "WARNING: suspicious RCU usage", "suspicious RCU usage", CRASH_WARNING, LOCKDEP, 0 },
	{ "lockdep-freed", "WARNING: held lock freed!", "held lock freed", CRASH_WARNING, LOCKDEP, 0 },
	{ "lockdep-nested", "WARNING: Nested lock was not taken", "nested lock was not taken", CRASH_WARNING, LOCKDEP, 0 },
	{ "lockdep-contention", "WARNING: bad contention detected!", "bad contention", CRASH_WARNING, LOCKDEP, 0 },
	{ "lockdep-held", "WARNING: lock held when returning to user space!", "lock held when returning to user space", CRASH_WARNING, F_AT, 0 },
	{ "lockdep-held", "WARNING: %w still has locks held!", "lock held at task exit", CRASH_WARNING, F_AT | LOCKDEP, 0 },
	{ "lockdep-chain", "WARNING: chain_key collision", "chain_key collision", CRASH_WARNING, LOCKDEP, 0 },
	{ "lockdep-key", "INFO: trying to register non-static key.", "INFO: trying to register non-static key", CRASH_WARNING, 0, 0 },
	/* WARN() messages before their WARNING (lib/list_debug.c, lib/refcount.c, lib/debugobjects.c, mm/usercopy.c) */
	{ "list", "list_add corruption", "list_add corruption", CRASH_WARNING, F_WARNMSG | F_IP, 0 },
	{ "list", "list_del corruption", "list_del corruption", CRASH_WARNING, F_WARNMSG | F_IP, 0 },
	{ "list", "list_add double add", "list_add double add", CRASH_WARNING, F_WARNMSG | F_IP, 0 },
	{ "refcount", "refcount_t: saturated;", "refcount_t: saturated", CRASH_WARNING, F_WARNMSG | F_IP, 0 },
	{ "refcount", "refcount_t: addition on 0;", "refcount_t: addition on 0", CRASH_WARNING, F_WARNMSG | F_IP, 0 },
	{ "refcount", "refcount_t: underflow;", "refcount_t: underflow", CRASH_WARNING, F_WARNMSG | F_IP, 0 },
	{ "refcount", "refcount_t: decrement hit 0;", "refcount_t: decrement hit 0", CRASH_WARNING, F_WARNMSG | F_IP, 0 },
	{ "refcount", "refcount_t: unknown saturation event", "refcount_t: unknown saturation event", CRASH_WARNING, F_WARNMSG | F_IP, 0 },
	{ "odebug", "ODEBUG: %1 %2 (active state %*object type: %3 hint", "ODEBUG: %1 %2 %3", CRASH_WARNING, F_WARNMSG | F_IP, 0 },
	{ "usercopy", "usercopy: Kernel memory %1 attempt detected", "usercopy: kernel memory %1 attempt", CRASH_BUG, F_WARNMSG | F_PRELUDE | F_IP, 0 },
	/* WARNING (kernel/panic.c __warn, both formats) */
	{ "warning", "WARNING: CPU: %d PID: %d at %w %F+", "WARNING", CRASH_WARNING, F_WARNHDR | F_IP, 0 },
	{ "warning", "WARNING: CPU: %d PID: %d at %F+", "WARNING", CRASH_WARNING, F_WARNHDR | F_IP, 0 },
	{ "warning", "WARNING: at %w %F+", "WARNING", CRASH_WARNING, F_WARNHDR | F_IP, 0 },
	{ "warning", "WARNING: at %F+", "WARNING", CRASH_WARNING, F_WARNHDR | F_IP, 0 },
	{ "warning", "WARNING: %w at %F+", "WARNING", CRASH_WARNING, F_WARNHDR | F_IP, 0 },
	{ "warning", "WARNING: CPU: %d PID: %d at ", "WARNING", CRASH_WARNING, F_WARNHDR | F_IP, 0 },
	/* kernel BUG (lib/bug.c; asm-generic BUG() without GENERIC_BUG, as on UML) */
	{ "bug", "kernel BUG at ", "kernel BUG", CRASH_BUG, F_WARNHDR | F_PRELUDE | F_IP, 0 },
	{ "bug", "BUG: failure at %*/%F()!", "kernel BUG", CRASH_BUG, F_WARNHDR | F_PRELUDE | F_IP, 0 },
	/* faults (arch/x86/mm/fault.c, arch/arm64/mm/fault.c) */
	{ "fault", "BUG: kernel NULL pointer dereference", "BUG: kernel NULL pointer dereference", CRASH_BUG, F_PRELUDE | F_IP, 0 },
	{ "fault", "BUG: unable to handle kernel NULL pointer dereference", "BUG: kernel NULL pointer dereference", CRASH_BUG, F_PRELUDE | F_IP, 0 },
	{ "fault", "BUG: unable to handle page fault", "BUG: unable to handle kernel paging request", CRASH_BUG, F_PRELUDE | F_IP, 0 },
	{ "fault", "BUG: unable to handle kernel paging request", "BUG: unable to handle kernel paging request", CRASH_BUG, F_PRELUDE | F_IP, 0 },
	{ "fault", "Unable to handle kernel NULL pointer dereference", "BUG: kernel NULL pointer dereference", CRASH_BUG, F_PRELUDE | F_IP, 0 },
	{ "fault", "Unable to handle kernel paging request", "BUG: unable to handle kernel paging request", CRASH_BUG, F_PRELUDE | F_IP, 0 },
	{ "fault", "Unable to handle kernel %1 at virtual address", "BUG: unable to handle kernel %1", CRASH_BUG, F_PRELUDE | F_IP, 0 },
	/* Oops headers (arch/x86/kernel/dumpstack.c, traps.c; arm64 die()) */
	{ "oops", "Oops: %1: %w [#%d]", "%1", CRASH_OOPS, F_OOPSHDR | F_IP | F_OOPSNAME, 0 },
	{ "oops", "Oops: ", "Oops", CRASH_OOPS, F_OOPSHDR | F_IP, 0 },
	{ "oops", "Oops - ", "Oops", CRASH_OOPS, F_OOPSHDR | F_IP, 0 },
	{ "oops", "general protection fault%*: %w [#%d]", "general protection fault", CRASH_OOPS, F_OOPSHDR | F_IP, 0 },
	{ "oops", "divide error: %w [#%d]", "divide error", CRASH_OOPS, F_OOPSHDR | F_IP, 0 },
	{ "oops", "invalid opcode: %w [#%d]", "invalid opcode", CRASH_OOPS, F_OOPSHDR | F_IP, 0 },
	{ "oops", "stack segment: %w [#%d]", "stack segment", CRASH_OOPS, F_OOPSHDR | F_IP, 0 },
	{ "oops", "double fault: %w [#%d]", "double fault", CRASH_OOPS, F_OOPSHDR | F_IP, 0 },
	{ "oops", "Internal error: %1: %w [#%d]", "Internal error: %1", CRASH_OOPS, F_OOPSHDR | F_IP, 0 },
	/* hangs (kernel/hung_task.c, kernel/rcu/tree_stall.h, tree_exp.h, tasks.h, kernel/watchdog.c) */
	{ "hung-task", "INFO: task %* blocked %*for more than", "INFO: task hung", CRASH_HUNG_TASK, 0, 0 },
	{ "rcu-stall", "%?INFO: rcu_tasks%* detected stall", "INFO: rcu_tasks detected stall", CRASH_RCU_STALL, F_IP, 0 },
	{ "rcu-stall", "%?INFO: %w detected expedited stall", "INFO: rcu detected expedited stall", CRASH_RCU_STALL, F_IP, 0 },
	{ "rcu-stall", "%?INFO: %w self-detected stall", "INFO: rcu detected stall", CRASH_RCU_STALL, F_IP, 0 },
	{ "rcu-stall", "%?INFO: %w detected stall", "INFO: rcu detected stall", CRASH_RCU_STALL, F_IP, 0 },
	{ "lockup", "%?Watchdog detected hard LOCKUP", "BUG: hard lockup", CRASH_BUG, F_IP, 0 },
	{ "lockup", "%?BUG: soft lockup", "BUG: soft lockup", CRASH_BUG, F_IP, 0 },
	{ "lockup", "%?BUG: workqueue lockup", "BUG: workqueue lockup", CRASH_BUG, F_NOFUNC, 0 },
	/* slab (mm/slub.c slab_bug) and kmemleak (mm/kmemleak.c) */
	{ "slab", "BUG %1 (%*): %2", "BUG %1: %2", CRASH_BUG, F_CT, 0 },
	{ "leak", "%?unreferenced object 0x%w (size %d):", "memory leak", CRASH_WARNING, 0, 0 },
	{ "leak", "%?%d new suspected memory leak", "memory leak", CRASH_WARNING, F_LEAKSUM | F_NOFUNC, 0 },
	/* panic (kernel/panic.c); UML's kernel-mode faults end in one (arch/um/kernel/trap.c) */
	{ "panic", "Kernel panic - not syncing: Kernel mode fault at addr %1,", "", CRASH_PANIC, F_PANIC | F_UMLFAULT | F_IP | F_IPBEFORE, 0 },
	{ "panic", "Kernel panic - not syncing: %1", "kernel panic: %1", CRASH_PANIC, F_PANIC | F_CUTMSG | F_IP | F_IPBEFORE, 0 },
	{ "panic", "Kernel panic - not syncing", "kernel panic", CRASH_PANIC, F_PANIC | F_IP | F_IPBEFORE, 0 },
	{ "panic", "Attempted to kill init", "kernel panic: Attempted to kill init", CRASH_KILLED_INIT, F_PANIC, 0 },
	/* every other BUG: sleeping function called from invalid context,
	 * scheduling while atomic, Bad page state, stack guard page, ... */
	{ "bug-other", "%?BUG: %1", "BUG: %1", CRASH_BUG, F_CUTBUG | F_PRELUDE | F_IP, 0 },
};
#define NCLASSES ((int)(sizeof(classes) / sizeof(classes[0])))

/* Frames that say nothing about which bug it is: report printers, the
 * sanitizers, lockdep and locking primitives, scheduler waits, allocators,
 * string/copy helpers, interrupt, timer, entry and UML signal machinery.
 * "name*" is a prefix. */
static const char *const skip[] = {
	/* reporting */
	"dump_stack*", "__dump_stack*", "show_stack", "show_trace_log_lvl", "show_regs*", "__show_regs",
	"_printk", "printk*", "vprintk*", "__warn*", "warn_*", "report_bug", "handle_bug",
	"exc_invalid_op", "asm_exc_*", "exc_*", "do_error_trap", "do_trap", "die", "__die*",
	"die_addr", "oops_*", "panic", "vpanic", "nmi_panic", "check_panic_on_warn", "print_*",
	"__print_*", "bust_spinlocks", "trace_error_report_end", "lkdtm_do_action", "direct_entry",
	"__pfx_*", "error_report_end",
	/* sanitizers */
	"kasan_*", "__kasan_*", "__asan_*", "asan_*", "check_memory_region*", "kmsan_*", "__msan_*",
	"kcsan_*", "__kcsan_*", "__tsan_*", "kfence_*", "__kfence_*", "ubsan_*", "__ubsan_*",
	"report_*", "end_report", "start_report", "complete_report_info",
	/* lockdep and locks */
	"lock_acquire*", "lock_release", "lock_acquired", "lock_contended", "__lock_*", "lockdep_*",
	"debug_lockdep_*", "validate_chain", "check_prev_add", "check_prevs_add", "check_noncircular",
	"check_deadlock", "check_irq_usage", "mark_lock*", "mark_usage", "mark_held_locks",
	"valid_state", "__bfs*", "register_lock_class", "look_up_lock_class", "assign_lock_key",
	"lockdep_init_map*", "do_raw_*", "spin_bug", "spin_dump", "rwlock_bug", "debug_spin_*",
	"_raw_*", "__raw_*", "raw_spin_*", "spin_lock*", "spin_unlock*", "mutex_lock*",
	"__mutex_*", "mutex_unlock*", "mutex_trylock*", "down_read*", "down_write*", "up_read",
	"up_write", "__down*", "__up*", "down", "up", "rwsem_*", "__rwsem_*", "percpu_down_*",
	"percpu_up_*", "percpu_rwsem_*", "__percpu_down_*", "__percpu_up_*", "rt_mutex*", "__rt_mutex*", "rcu_lockdep_*", "__might_*", "might_*",
	"___might_sleep", "__cant_*", "debug_check_no_locks_*",
	/* scheduler waits */
	"__schedule*", "schedule*", "io_schedule*", "preempt_schedule*", "__cond_resched",
	"_cond_resched", "context_switch", "__switch_to*", "switch_to", "wait_for_completion*",
	"__wait_for_common", "do_wait_for_common", "wait_for_common*", "wait_woken",
	"__wait_event*", "prepare_to_wait*", "finish_wait", "__wait_on_bit*",
	"out_of_line_wait_on_bit*", "bit_wait*", "folio_wait_bit*", "__folio_lock*", "folio_lock*",
	"__wait_rcu_gp", "synchronize_rcu*", "__synchronize_srcu", "synchronize_srcu*",
	"__flush_work", "flush_work", "__flush_workqueue", "flush_workqueue", "msleep*",
	"usleep_range*", "do_nanosleep", "hrtimer_nanosleep", "common_nsleep", "schedule_idle",
	/* allocation and freeing */
	"kmalloc*", "__kmalloc*", "kmem_cache_*", "__kmem_cache_*", "kfree*", "kvfree*",
	"kvmalloc*", "__kvmalloc*", "kzalloc*", "kcalloc*", "krealloc*", "kmemdup*", "kstrdup*",
	"slab_*", "__slab_*", "___slab_*", "do_slab_free", "free_debug_processing",
	"alloc_debug_processing", "check_object", "check_bytes_and_report", "object_err",
	"on_freelist", "free_to_partial_list", "kmemleak_*", "__alloc_pages*", "alloc_pages*",
	"__get_free_pages", "__free_pages*", "free_pages*", "free_unref_page*", "__free_one_page",
	"vmalloc*", "__vmalloc*", "vzalloc*", "vfree*", "__vfree*", "__do_kmalloc*",
	"kmalloc_trace*",
	/* corruption checkers */
	"refcount_*", "__refcount_*", "__list_*", "list_add*", "list_del*", "debug_print_object",
	"debug_object_*", "debug_check_no_obj_freed", "__debug_check_no_obj_freed",
	"debug_objects_*", "__check_object_size", "check_object_size", "usercopy_abort",
	"__check_heap_object", "check_heap_object",
	/* string and user-copy helpers */
	"memcpy", "memset", "memmove", "memcmp", "__memcpy*", "__memset*", "__memmove*", "memcpy_orig",
	"memset_orig", "memmove_orig", "rep_movs_alternative", "rep_stos_alternative", "strlen",
	"strnlen", "strcpy", "strncpy", "strscpy*", "sized_strscpy", "strcmp", "strncmp", "strcat",
	"_copy_to_user", "_copy_from_user", "copy_to_user*", "copy_from_user*", "raw_copy_*",
	"__copy_*", "copy_user_*", "__get_user*", "__put_user*",
	/* interrupts, timers, softirqs, RCU and watchdog machinery */
	"irq_*", "__irq_*", "handle_irq*", "handle_*_irq", "generic_handle_*", "__handle_irq*",
	"__do_softirq", "handle_softirqs", "do_softirq*", "invoke_softirq", "__sysvec_*",
	"sysvec_*", "asm_sysvec_*", "asm_common_interrupt", "common_interrupt", "tick_*",
	"hrtimer_*", "__hrtimer_*", "update_process_times", "call_timer_fn", "__run_timers",
	"run_timer_softirq", "expire_timers", "rcu_*", "__rcu_*", "watchdog_*", "nmi_*",
	"arch_trigger_cpumask_backtrace", "trigger_*", "sched_show_task", "show_state*",
	"debug_show_all_locks", "dump_cpu_task", "sched_tick", "scheduler_tick",
	/* entry and task starts */
	"entry_SYSCALL*", "do_syscall_*", "x64_sys_call", "syscall_exit_*", "exit_to_user_mode*",
	"irqentry_*", "ret_from_fork*", "kthread", "smpboot_thread_fn", "worker_thread",
	"process_one_work", "process_scheduled_works", "el0_*", "el1_*", "el0t_*", "el1h_*",
	"do_el0_*", "invoke_syscall", "__invoke_syscall",
	/* UML: signals, the idle loop, syscall entry */
	"sig_handler*", "hard_handler", "timer_real_alarm_handler", "timer_handler",
	"unblock_signals*", "um_set_signals*", "um_irq_*", "do_IRQ", "relay_signal", "segv*",
	"bad_segv", "userspace", "new_thread_handler", "handle_syscall", "uml_finishsetup",
	"arch_local_irq_*", "local_irq_*", "fork_handler", "do_signal", "handle_trap",
	"uml_idle", "arch_cpu_idle",
};

static int skipped(const char *f)
{
	size_t i, n;

	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		n = strlen(skip[i]);
		if (skip[i][n - 1] == '*' ? !strncmp(f, skip[i], n - 1) : !strcmp(f, skip[i]))
			return 1;
	}
	return 0;
}

/* ---- small helpers ------------------------------------------------------- */

static int is_sym(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '$';
}

static int is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* Copy a function name of len bytes, normalised: compiler suffixes
 * (.cold, .isra.0, .part.1, .constprop.0, .llvm.123) cut off. */
static void set_func(char *dst, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i] != '.'; i++)
		;
	len = i < CONSOLE_FUNC_MAX - 1 ? i : CONSOLE_FUNC_MAX - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* ---- the matcher --------------------------------------------------------- */

struct match {
	const char *cap[3];
	size_t caplen[3];
	const char *func;
	size_t funclen;
	long budget;           /* steps left: bounds backtracking on hostile lines */
};

static int match_at(struct match *m, const char *p, const char *s)
{
	if (--m->budget < 0)
		return 0;
	while (*p) {
		if (p[0] != '%') {
			if (*s != *p)
				return 0;
			p++, s++;
			continue;
		}
		switch (p[1]) {
		case '1': case '2': case '3': {
			int k = p[1] - '1';
			const char *e;

			if (!p[2]) {     /* at the end: the rest of the line */
				if (!*s)
					return 0;
				m->cap[k] = s;
				m->caplen[k] = strlen(s);
				return 1;
			}
			for (e = s + 1; *(e - 1); e++) {
				if (match_at(m, p + 2, e)) {
					m->cap[k] = s;
					m->caplen[k] = (size_t)(e - s);
					return 1;
				}
				if (m->budget < 0)
					return 0;
				if (!*e)
					break;
			}
			return 0;
		}
		case 'F': {
			const char *e = s;

			while (is_sym(*e))
				e++;
			if (e == s)
				return 0;
			/* longest symbol only: a symbol is never followed by one */
			if (!match_at(m, p + 2, e))
				return 0;
			m->func = s;
			m->funclen = (size_t)(e - s);
			return 1;
		}
		case 'w':
			if (!*s || *s == ' ')
				return 0;
			while (*s && *s != ' ')
				s++;
			p += 2;
			continue;
		case 'd':
			if (!is_digit(*s))
				return 0;
			while (is_digit(*s))
				s++;
			p += 2;
			continue;
		case '*': {
			const char *e;

			for (e = s;; e++) {
				if (match_at(m, p + 2, e))
					return 1;
				if (!*e || m->budget < 0)
					return 0;
			}
		}
		case '?': {
			/* the optional prefix of a subsystem that prints reports
			 * through its pr_fmt (kernel/watchdog.c, kernel/rcu/, mm/kmemleak.c) */
			static const char *const pfx[] = { "watchdog: ", "NMI watchdog: ", "rcu: ", "kmemleak: " };
			size_t i;

			for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
				if (starts(s, pfx[i]) && match_at(m, p + 2, s + strlen(pfx[i])))
					return 1;
			p += 2;
			continue;
		}
		default:
			if (*s != '%')
				return 0;
			p += 2, s++;
			continue;
		}
	}
	return 1;
}

static int match(struct match *m, const char *pat, const char *s)
{
	memset(m, 0, sizeof(*m));
	m->budget = 20000;
	return match_at(m, pat, s);
}

/* ---- line shapes --------------------------------------------------------- */

/* Remove the printk prefix: "<4>", "[   12.345678]", "[    T123]",
 * "[     C0]", in any order, each followed by at most one blank. The caller
 * id goes to caller (without blanks). */
static const char *strip_prefix(const char *l, char *caller, size_t csize)
{
	int i;

	caller[0] = '\0';
	for (i = 0; i < 4; i++) {
		const char *p = l, *q;

		if (p[0] == '<' && is_digit(p[1])) {
			q = p + 1;
			while (is_digit(*q))
				q++;
			if (*q != '>')
				break;
			l = q + 1;
			continue;
		}
		if (p[0] != '[')
			break;
		q = p + 1;
		while (*q == ' ')
			q++;
		if ((q[0] == 'T' || q[0] == 'C') && is_digit(q[1])) {
			const char *id = q;

			q++;
			while (is_digit(*q))
				q++;
			if (*q != ']' || (size_t)(q - id) >= csize)
				break;
			memcpy(caller, id, (size_t)(q - id));
			caller[q - id] = '\0';
		} else if (is_digit(*q)) {
			while (is_digit(*q))
				q++;
			if (*q != '.' || !is_digit(q[1]))
				break;
			q++;
			while (is_digit(*q))
				q++;
			if (*q != ']')
				break;
		} else {
			break;
		}
		l = q + 1;
		if (*l == ' ')
			l++;
	}
	return l;
}

/* A call-trace frame: "  foo+0x1a/0x40", " [<6026c97a>] ? foo+0x1a/0x40",
 * "[c000000000123456] [c000000000123456] foo+0x1a/0x40 (unreliable)",
 * "foo+0x1a/0x40 [module]", "foo (mm/x.c:12)" (decoded). Returns 1 with
 * the name, and whether it is reliable: not "? ", not "(unreliable)", not
 * at offset 0 (a function's first byte is never a return address: on UML
 * such frames are pointers found on the stack). */
static int parse_frame(const char *l, const char **name, size_t *len, int *reliable)
{
	const char *s = l, *e;
	int i;

	*reliable = 1;
	while (*s == ' ' || *s == '\t')
		s++;
	for (i = 0; i < 3 && s[0] == '['; i++) {
		e = s + 1 + (s[1] == '<');
		while (is_hex(*e))
			e++;
		if (e == s + 1 + (s[1] == '<'))
			return 0;
		if (s[1] == '<' && *e++ != '>')
			return 0;
		if (*e != ']')
			return 0;
		s = e + 1;
		while (*s == ' ')
			s++;
	}
	if (s[0] == '?' && s[1] == ' ') {
		*reliable = 0;
		s += 2;
	}
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (e = s; is_sym(*e); e++)
		;
	*name = s;
	*len = (size_t)(e - s);
	if (e[0] == '+' && e[1] == '0' && e[2] == 'x' && is_hex(e[3])) {
		const char *o = e + 3;
		int zero = 1;

		for (; is_hex(*o); o++)
			if (*o != '0')
				zero = 0;
		if (o[0] != '/' || o[1] != '0' || o[2] != 'x')
			return 0;
		if (zero)
			*reliable = 0;
		o += 3;
		while (is_hex(*o))
			o++;
		if (strstr(o, "(unreliable)"))
			*reliable = 0;
		return *o == '\0' || *o == ' ' || *o == '\t';
	}
	if (e[0] == ' ' && e[1] != '(' && strstr(e, " [inline]")) {
		/* symbolized by syzkaller/decode_stacktrace.sh: "foo mm/x.c:12 [inline]" */
		const char *o = e + 1, *colon = NULL;

		for (; *o && *o != ' '; o++)
			if (*o == ':' && is_digit(o[1]))
				colon = o;
		return colon && starts(o, " [inline]");
	}
	if (e[0] == ' ' && e[1] == '(') {
		/* decoded by decode_stacktrace.sh: "foo (mm/x.c:12)", "foo (mm/x.c:12:5)" */
		const char *o = e + 2, *colon = NULL;

		for (; *o && *o != ')' && *o != ' '; o++)
			if (*o == ':' && is_digit(o[1]) && !colon)
				colon = o;
		return *o == ')' && colon != NULL;
	}
	return 0;
}

/* "RIP: 0010:foo+0x1a/0x40", "RIP: 0033:[<...>] foo+0x..", "pc : foo+0x..",
 * "PC is at foo+0x..", "EIP: foo+0x..", "NIP [c00..] foo+0x..": the
 * faulting function. */
static int parse_ip(const char *l, char *func)
{
	static const char *const tags[] = { "RIP: ", "EIP: ", "pc : ", "PC is at ", "NIP ", "NIP: ", "epc : " };
	const char *s = l, *plus, *b;
	size_t i;

	while (*s == ' ')
		s++;
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (starts(s, tags[i]))
			break;
	if (i == sizeof(tags) / sizeof(tags[0]))
		return 0;
	for (plus = strstr(s, "+0x"); plus; plus = strstr(plus + 1, "+0x")) {
		for (b = plus; b > s && is_sym(b[-1]); b--)
			;
		if (b < plus && !is_digit(*b)) {
			set_func(func, b, (size_t)(plus - b));
			return func[0] != '\0';
		}
	}
	return 0;
}

/* Lines inside a call trace that are not frames: "<IRQ>", "</TASK>",
 * "Code: ...", register dumps ("RSP: 0018:...", "R10: ...", "FS:  ...",
 * "CR2: ..."), "RIP: ..." of a nested exception frame. */
static int trace_noise(const char *l)
{
	const char *s = l;
	int n = 0;

	while (*s == ' ' || *s == '	')
		s++;
	if (*s == '<' || starts(s, "Code:") || starts(s, "Exception stack"))
		return 1;
	while (n < 4 && s[n] >= 'A' && s[n] <= 'Z')
		n++;
	while (n < 4 && is_digit(s[n]))
		n++;
	return n >= 2 && s[n] == ':';
}

/* ---- titles ---------------------------------------------------------------- */

/* Is this word a number, an address or a key=number? ("0x1f", "ffff8880",
 * "12", "exitcode=0x0000000b", "CPU#0", "pfn:1234", "[00000000]") */
static int numeric_word(const char *w, size_t n)
{
	size_t i, digits = 0, hex = 0;

	while (n && strchr("([{", w[0]))
		w++, n--;
	while (n && strchr(")]},.:;!", w[n - 1]))
		n--;
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		if (is_digit(w[i]))
			digits++;
		if (is_hex(w[i]))
			hex++;
	}
	if (!digits)
		return 0;
	if (hex == n || (n > 2 && w[0] == '0' && w[1] == 'x'))
		return 1;
	for (i = 0; i < n; i++)
		if (w[i] == '=' || w[i] == '#' || w[i] == ':')
			return i + 1 < n && (is_digit(w[i + 1]) || (w[i + 1] == '0'));
	return 0;
}

/* Append text to a title: words that are numbers dropped, "sym+0x1/0x2"
 * reduced to "sym", blanks collapsed; cut at the first of the flags'
 * separators. */
static void put_text(char *t, size_t size, const char *s, size_t len, unsigned flags)
{
	static const char *const cut_bug[] = { ": ", " - ", " at ", " in process", ", ", "! ", " on CPU", " (", "; " };
	static const char *const cut_msg[] = { "! ", ", ", ". ", " at ", " - " };
	static const char *const cut_semi[] = { ";", ". " };
	const char *const *cuts = NULL;
	size_t ncuts = 0, i, used = strlen(t), end = len;

	if (flags & F_CUTBUG)
		cuts = cut_bug, ncuts = sizeof(cut_bug) / sizeof(cut_bug[0]);
	else if (flags & F_CUTMSG)
		cuts = cut_msg, ncuts = sizeof(cut_msg) / sizeof(cut_msg[0]);
	else if (flags & F_CUTSEMI)
		cuts = cut_semi, ncuts = sizeof(cut_semi) / sizeof(cut_semi[0]);
	for (i = 0; i < ncuts; i++) {
		size_t k, cl = strlen(cuts[i]);

		for (k = 0; k + cl <= end; k++)
			if (!memcmp(s + k, cuts[i], cl)) {
				end = k;
				break;
			}
	}
	len = end;
	i = 0;
	while (i < len) {
		size_t w0, wl;

		while (i < len && s[i] == ' ')
			i++;
		w0 = i;
		while (i < len && s[i] != ' ')
			i++;
		wl = i - w0;
		if (!wl)
			break;
		{
			const char *plus = memchr(s + w0, '+', wl);

			if (plus && plus + 2 < s + w0 + wl && plus[1] == '0' && plus[2] == 'x') {
				/* a symbol: offsets and compiler suffixes go */
				const char *dot = memchr(s + w0, '.', (size_t)(plus - (s + w0)));

				wl = (size_t)((dot ? dot : plus) - (s + w0));
			}
		}
		if (!wl || numeric_word(s + w0, wl))
			continue;
		if (s[w0 + wl - 1] == ')') {
			/* "unknown-block(98,0)": the numbers in parentheses go */
			const char *o = memchr(s + w0, '(', wl);

			if (o && o > s + w0 && strspn(o + 1, "0123456789abcdefx,:") == (size_t)(s + w0 + wl - 1 - (o + 1)))
				wl = (size_t)(o - (s + w0));
		}
		/* drop trailing sentence punctuation of the last word */
		if (i >= len)
			while (wl > 1 && strchr(".!:;,", s[w0 + wl - 1]))
				wl--;
		if (used + wl + 2 >= size)
			break;
		if (used && t[used - 1] != ' ' && t[used - 1] != '(')
			t[used++] = ' ';
		memcpy(t + used, s + w0, wl);
		used += wl;
		t[used] = '\0';
	}
	while (used && t[used - 1] == ' ')
		t[--used] = '\0';
}

static const char *report_func(const struct crash_report *r)
{
	if (r->atfunc[0])
		return r->atfunc;
	if (r->hfunc[0])
		return r->hfunc;
	if (r->ipfunc[0])
		return r->ipfunc;
	if (r->nframes)
		return r->frames[0];
	return NULL;
}

static void make_title(struct crash_report *r)
{
	const struct crash_class *k = &classes[r->cls];
	const char *p, *fn = report_func(r);
	char *t = r->title;
	size_t used = 0;

	t[0] = '\0';
	if (k->flags & F_UMLFAULT) {
		/* "Kernel mode fault at addr 0x0, ip 0x..": the page below 4096 is NULL */
		unsigned long long a = 0;
		const char *s = r->cap[0];

		if (s[0] == '0' && s[1] == 'x')
			s += 2;
		for (; is_hex(*s) && a < (1ULL << 40); s++)
			a = a * 16 + (unsigned long long)(is_digit(*s) ? *s - '0' : (*s | 0x20) - 'a' + 10);
		snprintf(t, CONSOLE_TITLE_MAX, "%s", a < 4096 ? "BUG: kernel NULL pointer dereference" :
			 "BUG: unable to handle kernel paging request");
	} else {
		for (p = k->title; *p && used < CONSOLE_TITLE_MAX - 1; p++) {
			if (p[0] == '%' && p[1] >= '1' && p[1] <= '3') {
				const char *cap = r->cap[p[1] - '1'];
				unsigned fl = p[1] == '1' ? k->flags : 0;

				if ((k->flags & F_OOPSNAME) && p[1] == '1')
					fl = F_CUTMSG;
				if (p[1] == '2' && !strcmp(k->id, "kasan") && cap[0])
					t[used++] = ' ', t[used] = '\0';   /* "... Read" */
				put_text(t, CONSOLE_TITLE_MAX, cap, strlen(cap), fl);
				used = strlen(t);
				p++;
				continue;
			}
			t[used++] = *p;
			t[used] = '\0';
		}
	}
	used = strlen(t);
	if (!used)
		snprintf(t, CONSOLE_TITLE_MAX, "%s", k->id);
	if (fn && !(k->flags & F_NOFUNC)) {
		used = strlen(t);
		snprintf(t + used, CONSOLE_TITLE_MAX - used, " in %s", fn);
	}
}

/* ---- reports ----------------------------------------------------------------- */

static void set_cap(char *dst, const char *s, size_t len)
{
	if (len > 79)
		len = 79;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* A candidate function for a report: kept unless it is machinery. */
static void offer(char *dst, const char *s, size_t len)
{
	char f[CONSOLE_FUNC_MAX];

	if (dst[0])
		return;
	set_func(f, s, len);
	if (f[0] && !skipped(f))
		memcpy(dst, f, strlen(f) + 1);
}

static int classify(const char **msg, struct match *m)
{
	const char *p;
	int i;

	for (i = 0; i < NCLASSES; i++)
		if (match(m, classes[i].pat, *msg))
			return i;
	/* a panic is a panic wherever it starts in the line (after an
	 * unterminated line of UML's own stdout, say); the end marker
	 * "---[ end Kernel panic - not syncing: ... ]---" is not one */
	p = strstr(*msg, "Kernel panic - not syncing");
	if (p && p != *msg && !strstr(*msg, "---[ end Kernel panic")) {
		*msg = p;
		return classify(msg, m);
	}
	return -1;
}

/* Does report r take the header of class k (line n) as part of itself? */
static int absorbs(const struct console_state *c, const struct crash_report *r, int k, unsigned long n)
{
	unsigned f = classes[k].flags;
	int i;

	if ((r->flags & F_WARNMSG) && (f & F_WARNHDR) && n - r->last <= 6)
		return 1;
	/* asm-generic WARN() (UML, ...) prints its message after the WARNING line */
	if (!strcmp(classes[r->cls].id, "warning") && (f & F_WARNMSG) && n - r->line <= 2 && !r->nframes)
		return 1;
	if ((r->flags & F_PRELUDE) && (f & F_OOPSHDR) && n - r->last <= 15)
		return 1;
	if (f & F_PANIC) {
		/* the panic a report ends in: right after it, or one that only
		 * panic_on_warn, panic_on_oops, hung_task_panic, ... make */
		static const char *const why[] = {
			"Fatal exception", "panic_on_warn", "panic_on_oops", "hung_task: blocked tasks",
			"softlockup: hung tasks", "hardlockup: ", "Hard LOCKUP", "RCU Stall",
			"kasan.fault=panic", "BUG!", "Aiee, killing interrupt handler",
		};
		size_t j;

		if (n - r->last <= 60)
			return 1;
		for (j = 0; j < sizeof(why) / sizeof(why[0]); j++)
			if (strstr(c->cur_line, why[j]))
				return 1;
		return 0;
	}
	if (f & F_LEAKSUM)
		for (i = 0; i < c->nreports; i++)
			if (!strcmp(classes[c->reports[i].cls].id, "leak"))
				return 1;
	return 0;
}

/* The last report is complete when the next starts: if an earlier one has
 * its title (a WARN_ON in a loop, a task that stays hung), it only counts. */
static void fold_last(struct console_state *c)
{
	struct crash_report *r;
	int i;

	if (c->nreports < 2)
		return;
	r = &c->reports[c->nreports - 1];
	for (i = 0; i < c->nreports - 1; i++)
		if (!strcmp(c->reports[i].title, r->title)) {
			c->reports[i].repeats++;
			if (c->cur == c->nreports - 1)
				c->cur = -1;
			c->nreports--;
			return;
		}
}

static void start_report(struct console_state *c, int k, const struct match *m,
			 const char *caller, const char *line, unsigned long n,
			 const char *lastip, unsigned long lastip_line)
{
	struct crash_report *r;
	int i;

	fold_last(c);
	if (c->nreports >= CONSOLE_REPORTS) {
		c->reports_dropped++;
		c->cur = -1;
		return;
	}
	r = &c->reports[c->nreports];
	memset(r, 0, sizeof(*r));
	r->kind = classes[k].kind;
	r->cls = k;
	r->line = n;
	r->last = n;
	r->flags = classes[k].flags;
	r->trace = (r->flags & (F_BT | F_CT)) ? -1 : 0;
	memcpy(r->caller, caller, strlen(caller) + 1);
	for (i = 0; i < 3; i++)
		if (m->cap[i])
			set_cap(r->cap[i], m->cap[i], m->caplen[i]);
	if (m->func)
		offer(r->hfunc, m->func, m->funclen);
	if ((r->flags & F_IPBEFORE) && lastip[0] && n - lastip_line <= 30)
		offer(r->ipfunc, lastip, strlen(lastip));
	make_title(r);
	if (c->nreports == 0) {
		c->first = r->kind;
		memcpy(c->first_line, line, strlen(line) + 1);
	}
	c->cur = c->nreports++;
}

/* A line of the open report r (not a header). */
static void report_line(struct crash_report *r, const char *msg, unsigned long n)
{
	const struct crash_class *k = &classes[r->cls];
	const char *name;
	size_t len;
	int reliable, changed = 0;

	if (n - r->line > 400) {
		/* a report whose trace never came: it does not swallow the log */
		r->closed = 1;
		return;
	}
	r->last = n;
	if (starts(msg, "kmemleak: "))
		msg += 10;    /* kmemleak prints every line of its report with its prefix */
	if (k->detail && !r->cap[1][0]) {
		/* "Read of size 8 at addr", "Write at addr", "Free of addr" */
		static const char *const acc[] = { "Read ", "Write " };
		size_t i;

		for (i = 0; i < 2; i++)
			if (starts(msg, acc[i]) && (strstr(msg, " at addr ") || starts(msg + strlen(acc[i]), "of size "))) {
				set_cap(r->cap[1], acc[i], strlen(acc[i]) - 1);
				changed = 1;
			}
	}
	if (starts(msg, "---[ end trace") ||
	    (starts(msg, "==========") && msg[strspn(msg, "=")] == '\0' && n > r->line + 1)) {
		r->closed = 1;
		return;
	}
	if ((r->flags & F_IP) && !r->ipfunc[0]) {
		char f[CONSOLE_FUNC_MAX];

		if (parse_ip(msg, f)) {
			offer(r->ipfunc, f, strlen(f));
			changed = 1;
		}
	}
	if ((r->flags & F_AT) && !r->atfunc[0]) {
		const char *at = strstr(msg, ", at: ");

		if (at && parse_frame(at + 6, &name, &len, &reliable)) {
			offer(r->atfunc, name, len);
			changed = 1;
		}
	}
	if (r->trace == -1) {
		if ((r->flags & F_BT) ? starts(msg, "stack backtrace:") :
		    (strstr(msg, "Call Trace:") || strstr(msg, "Call trace:")))
			r->trace = 0;
	} else if (r->trace < 2) {
		if (parse_frame(msg, &name, &len, &reliable)) {
			r->trace = 1;
			if (reliable && r->nframes < CONSOLE_FRAMES) {
				offer(r->frames[r->nframes], name, len);
				if (r->frames[r->nframes][0]) {
					r->nframes++;
					changed = 1;
				}
			}
		} else if (r->trace == 1 && !trace_noise(msg) && !strstr(msg, "Call Trace:")) {
			r->trace = 2;     /* the report ends with its first call trace */
			r->closed = 1;
		}
	}
	if (changed)
		make_title(r);
}

/* ---- the line loop ------------------------------------------------------------- */

static void line_done(struct console_state *c)
{
	char caller[12];
	const char *msg, *hdr;
	struct match m;
	size_t i;
	int k;
	unsigned long n;

	/* the line is clipped to CONSOLE_LINE_MAX-1; make it printable */
	for (i = 0; i < c->cur_len; i++)
		if ((unsigned char)c->cur_line[i] < 0x20 && c->cur_line[i] != '\t')
			c->cur_line[i] = '?';
	c->cur_line[c->cur_len] = '\0';
	n = ++c->lines;
	msg = strip_prefix(c->cur_line, caller, sizeof(caller));

	hdr = msg;
	k = classify(&hdr, &m);
	if (k >= 0) {
		struct crash_report *r = c->nreports ? &c->reports[c->nreports - 1] : NULL;

		/* a header of the same caller (or without caller ids) may belong
		 * to the report just before it */
		if (r && (!caller[0] || !r->caller[0] || !strcmp(caller, r->caller)) && absorbs(c, r, k, n)) {
			unsigned f = classes[k].flags;

			if ((f & F_WARNMSG) && !strcmp(classes[r->cls].id, "warning")) {
				/* the WARNING becomes the report its message names */
				int i;

				r->cls = k;
				r->flags |= f;
				for (i = 0; i < 3; i++)
					if (m.cap[i])
						set_cap(r->cap[i], m.cap[i], m.caplen[i]);
			}
			if (!(f & F_PANIC) && !(f & F_LEAKSUM)) {
				r->flags |= f & (F_IP | F_PRELUDE | F_WARNHDR);
				if (m.func)
					offer(r->hfunc, m.func, m.funclen);
				r->last = n;
				r->closed = 0;
				c->cur = c->nreports - 1;
				make_title(r);
			}
		} else {
			start_report(c, k, &m, caller, msg, n, c->lastip, c->lastip_line);
		}
		if (classes[k].kind > c->worst)
			c->worst = classes[k].kind;
	} else if (c->cur >= 0) {
		struct crash_report *r = &c->reports[c->cur];

		if (!r->closed && (!caller[0] || !r->caller[0] || !strcmp(caller, r->caller)))
			report_line(r, msg, n);
	}
	if (k < 0) {
		char f[CONSOLE_FUNC_MAX];

		if (parse_ip(msg, f)) {
			memcpy(c->lastip, f, strlen(f) + 1);
			c->lastip_line = n;
		}
	}

	if (c->cur_len == 0)
		return;   /* blank lines say nothing in an excerpt */
	if (c->nreports && c->excerpt_len < CONSOLE_EXCERPT_LINES)
		memcpy(c->excerpt[c->excerpt_len++], c->cur_line, c->cur_len + 1);
	memcpy(c->tail[c->tail_pos], c->cur_line, c->cur_len + 1);
	c->tail_pos = (c->tail_pos + 1) % CONSOLE_TAIL_LINES;
	if (c->tail_len < CONSOLE_TAIL_LINES)
		c->tail_len++;
	c->cur_len = 0;
}

void console_init(struct console_state *c)
{
	memset(c, 0, sizeof(*c));
	c->cur = -1;
}

void console_feed(struct console_state *c, const char *buf, size_t len)
{
	size_t i;

	c->bytes += len;
	for (i = 0; i < len; i++) {
		char ch = buf[i];

		if (ch == '\n') {
			line_done(c);
			c->cur_len = 0;
			continue;
		}
		if (ch == '\r')
			continue;
		if (c->cur_len < CONSOLE_LINE_MAX - 1)
			c->cur_line[c->cur_len++] = ch;
	}
}

void console_finish(struct console_state *c)
{
	if (c->cur_len)
		line_done(c);
	fold_last(c);
	c->cur_len = 0;
}

/* ---- accessors ------------------------------------------------------------------ */

const char *crash_name(enum crash_kind k)
{
	switch (k) {
	case CRASH_NONE: return "none";
	case CRASH_WARNING: return "kernel warning";
	case CRASH_HUNG_TASK: return "hung task";
	case CRASH_RCU_STALL: return "rcu stall";
	case CRASH_BUG: return "kernel bug";
	case CRASH_OOPS: return "kernel oops";
	case CRASH_KILLED_INIT: return "init killed";
	case CRASH_PANIC: return "kernel panic";
	}
	return "unknown";
}

int crash_fails(enum crash_kind k)
{
	return k != CRASH_NONE;
}

const char *crash_class_id(int cls)
{
	return cls >= 0 && cls < NCLASSES ? classes[cls].id : "none";
}

const char *console_title(const struct console_state *c)
{
	return c->nreports ? c->reports[0].title : "";
}

void crash_title_fingerprint(const char *title, char *buf, size_t size)
{
	unsigned long long h = 0xcbf29ce484222325ULL;   /* FNV-1a, 64 bits */
	const unsigned char *p;

	if (!size)
		return;
	buf[0] = '\0';
	if (!title || !*title)
		return;
	for (p = (const unsigned char *)title; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	snprintf(buf, size, "%016llx", h);
}

void console_fingerprint(const struct console_state *c, char *buf, size_t size)
{
	crash_title_fingerprint(console_title(c), buf, size);
}
