#!/usr/bin/python3
"""Real kernel reports on the debug variant (harness/debug.config): each
trigger provokes one report class through LKDTM
(/sys/kernel/debug/provoke-crash/DIRECT, harness/t/guest/lkdtm.c) or
another real trigger, and vkci must fail the test (exit 1) with the
expected crash kind and title in result.json and a '# crash title:' TAP
diagnostic. Every trigger runs twice, with printk.time=1 and printk.time=0
(the debug variant has caller ids, CONFIG_PRINTK_CALLER): the same title
and fingerprint both times (same trigger, one fingerprint); different
triggers never share a fingerprint. PANIC_ON_WARN=1's kernel argument turns
the WARNING into a panic with the same title.

Needs the debug kernel: VKCI_DEBUG_KERNEL (make check-full builds it with
`make kernel VARIANT=debug` and sets it); skipped without it.
--record saves each run's console.log as a fixture for 12-crash.t
(harness/t/data/crash/lkdtm-NAME-time.log and -notime.log) and prints the
expected.tsv lines. (The lkdtm-* fixtures in the tree were recorded on a
build that still had UBSAN_ALIGNMENT; their first line says what was cut.)"""
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from taplib import done, is_, ok  # noqa: E402

VKCI = os.environ.get("VKCI", os.path.join(TOP, "harness", "vkci"))
build = os.environ.get("VKCI_BUILD", os.path.join(TOP, "build"))
kernel = os.environ.get("VKCI_DEBUG_KERNEL")
image = os.environ.get("VKCI_IMAGE", os.path.join(TOP, "build", "image", "base.img"))
payload = os.path.join(build, "t", "payload.img")
mem = os.environ.get("VKCI_DEBUG_MEM", "256M")
jobs = int(os.environ.get("JOBS", "2"))
record = "--record" in sys.argv
if not kernel or not os.access(kernel, os.X_OK):
    print("1..0 # SKIP no debug kernel (VKCI_DEBUG_KERNEL; make check-full builds it)")
    sys.exit(0)
if not os.path.exists(payload):
    print("1..0 # SKIP no test payload (make test-payload)")
    sys.exit(0)

HUNG = ["kernel/hung_task_timeout_secs=1"]
LOCKUP = ["kernel/watchdog_thresh=1", "/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout=3"]
# (name, LKDTM type, lkdtm args, vkci options, crash kind, title). Not here:
# LKDTM types that report nothing on UML 6.12 (WRITE_RO: rodata is writable,
# no STRICT_KERNEL_RWX; SLAB_FREE_PAGE: KASAN says nothing about kfree() of
# a page) and classes no LKDTM type reaches (lockdep, slab, kmemleak, RCU
# stall, ODEBUG): those have fixtures written from the printers (src-*).
CASES = [
    ("warning", "WARNING", [], [], "kernel warning", "WARNING in lkdtm_WARNING"),
    ("warning-message", "WARNING_MESSAGE", [], [], "kernel warning", "WARNING in lkdtm_WARNING_MESSAGE"),
    ("bug", "BUG", [], [], "kernel bug", "kernel BUG in lkdtm_BUG"),
    ("exception", "EXCEPTION", [], [], "kernel panic", "BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION"),
    ("access-null", "ACCESS_NULL", [], [], "kernel panic", "BUG: kernel NULL pointer dereference in lkdtm_ACCESS_NULL"),
    ("ubsan-bounds", "ARRAY_BOUNDS", [], [], "kernel bug", "UBSAN: array-index-out-of-bounds in lkdtm_ARRAY_BOUNDS"),
    ("list-add", "CORRUPT_LIST_ADD", [], [], "kernel warning", "list_add corruption in lkdtm_CORRUPT_LIST_ADD"),
    ("list-del", "CORRUPT_LIST_DEL", [], [], "kernel warning", "list_del corruption in lkdtm_CORRUPT_LIST_DEL"),
    ("kasan-oob", "SLAB_LINEAR_OVERFLOW", [], [], "kernel bug", "KASAN: slab-out-of-bounds Write in lkdtm_SLAB_LINEAR_OVERFLOW"),
    ("kasan-uaf", "READ_AFTER_FREE", [], [], "kernel bug", "KASAN: slab-use-after-free Read in lkdtm_READ_AFTER_FREE"),
    ("kasan-page-uaf", "READ_BUDDY_AFTER_FREE", [], [], "kernel bug", "KASAN: use-after-free Read in lkdtm_READ_BUDDY_AFTER_FREE"),
    ("kasan-double-free", "SLAB_FREE_DOUBLE", [], [], "kernel bug", "KASAN: double-free in lkdtm_SLAB_FREE_DOUBLE"),
    ("refcount-saturated", "REFCOUNT_INC_OVERFLOW", [], [], "kernel warning", "refcount_t: saturated in lkdtm_REFCOUNT_INC_OVERFLOW"),
    ("refcount-zero", "REFCOUNT_DEC_ZERO", [], [], "kernel warning", "refcount_t: decrement hit 0 in lkdtm_REFCOUNT_DEC_ZERO"),
    ("refcount-add-zero", "REFCOUNT_ADD_ZERO", [], [], "kernel warning", "refcount_t: addition on 0 in lkdtm_REFCOUNT_ADD_ZERO"),
    ("refcount-underflow", "REFCOUNT_DEC_NEGATIVE", [], [], "kernel warning", "refcount_t: decrement hit 0 in lkdtm_REFCOUNT_DEC_NEGATIVE"),
    ("hung-task", "HUNG_TASK", HUNG, ["-t", "8"], "hung task", "INFO: task hung in lkdtm_HUNG_TASK"),
    ("soft-lockup", "SOFTLOCKUP", LOCKUP, ["-t", "6"], "kernel bug", "BUG: soft lockup in lkdtm_SOFTLOCKUP"),
]


def run(name, typ, args, opts, time_on, extra=()):
    logs = tempfile.mkdtemp(prefix=f"vkci-dbg-{name}.")
    argv = [VKCI, "exec", "-k", kernel, "-i", image, "-p", payload, "-m", mem, "-l", logs,
            "-a", f"printk.time={1 if time_on else 0}"] + list(extra) + opts + \
        [os.path.join(TOP, "harness", "t", "guest", "lkdtm.c"), "--", typ] + args
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=dict(os.environ, VKCI_RUNDIR=logs + "/run"))
    res = {}
    con = ""
    try:
        with open(os.path.join(logs, "guest", "lkdtm", "result.json"), encoding="utf-8") as f:
            res = json.load(f)
        with open(os.path.join(logs, "guest", "lkdtm", "console.log"), encoding="utf-8",
                  errors="replace") as f:
            con = f.read()
    except OSError:
        pass
    shutil.rmtree(logs, ignore_errors=True)
    return r.returncode, r.stdout, res, con


todo = []
for name, typ, args, opts, kind, title in CASES:
    for t in (1, 0):
        todo.append((name, typ, args, opts, t))
with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
    futs = {ex.submit(run, n, ty, a, o, t): (n, t) for n, ty, a, o, t in todo}
    runs = {futs[f]: f.result() for f in concurrent.futures.as_completed(futs)}

fps = {}
tsv = []
for name, typ, args, opts, kind, title in CASES:
    for t in (1, 0):
        rc, out, res, con = runs[(name, t)]
        form = "printk.time=1" if t else "printk.time=0"
        is_(rc, 1, f"{name} ({typ}, {form}): the test fails")
        is_((res.get("crash_kind"), res.get("crash_title")), (kind, title),
            f"{name} ({form}): kind '{kind}', title '{title}'") or print(
                "\n".join("#   | " + x for x in out.splitlines()[:30]))
        ok(f"# crash title: {title}" in out, f"{name} ({form}): the TAP diagnostics carry the title")
        fps.setdefault(name, set()).add(res.get("crash_fingerprint"))
        if record and con:
            fn = f"lkdtm-{name}-{'time' if t else 'notime'}.log"
            with open(os.path.join(TOP, "harness", "t", "data", "crash", fn), "w", encoding="utf-8") as f:
                f.write(con)
            tsv.append((fn, res.get("crash_kind"), res.get("crash_title")))
    ok(len(fps[name]) == 1 and None not in fps[name],
       f"{name}: both runs of the trigger share one fingerprint", fps[name])
seen = {}
for name, f in fps.items():
    for fp in f:
        if fp in seen and seen[fp] != name:
            ok(False, f"{name} and {seen[fp]} share a fingerprint")
        seen.setdefault(fp, name)
ok(len(seen) == len(CASES), f"{len(CASES)} different triggers, {len(seen)} fingerprints")

# PANIC_ON_WARN=1: the same WARNING, now a panic
rc, out, res, con = run("panic-on-warn", "WARNING", [], [], 1, ("-a", "panic_on_warn=1"))
ok(rc == 1 and "Kernel panic - not syncing" in con and res.get("crash_title") == "WARNING in lkdtm_WARNING",
   "panic_on_warn=1: the WARNING panics the vkernel, the title stays", res.get("crash_title"))
mk = subprocess.run(["make", "-s", "-n", "-C", TOP, "check", "PANIC_ON_WARN=1", "KERNEL=/bin/true"],
                    capture_output=True, text=True).stdout
ok('VKCI_KERNEL_ARGS="panic_on_warn=1"' in mk, "make check PANIC_ON_WARN=1 passes panic_on_warn=1 to every vkernel")

if record:
    for fn, kind, title in tsv:
        print(f"# {fn}\t{kind}\t?\t{title}")
done()
