/* crashtab.c - the console parser's table of report classes, the frames
 * that never name a bug, and the matcher of report headers; see crashtab.h.
 * The shapes come from the kernel's own printers (the files each group's
 * comment names). */
#include <string.h>

#include "crashtab.h"
#include "banned.h"

/* Header patterns are matched at the start of the line (prefix removed):
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
#define LOCKDEP (F_BT)
const struct crash_class crash_classes[] = {
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
const int crash_nclasses = (int)(sizeof(crash_classes) / sizeof(crash_classes[0]));

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

int crash_skipped(const char *f)
{
	size_t i, n;

	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		n = strlen(skip[i]);
		if (skip[i][n - 1] == '*' ? !strncmp(f, skip[i], n - 1) : !strcmp(f, skip[i]))
			return 1;
	}
	return 0;
}

/* ---- the matcher --------------------------------------------------------- */

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

int crash_match(struct match *m, const char *pat, const char *s)
{
	memset(m, 0, sizeof(*m));
	m->budget = 20000;
	return match_at(m, pat, s);
}
