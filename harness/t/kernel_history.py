"""kernel_history.py - a small git history of real kernel commits on top of
the default kernel source, for the bisect, nightly and patch-coverage tests
(harness/t/full/) and their benchmark (ci/bench/bisect.py).

    base = base_repo(cache_dir, source_dir)    # bare repo, one commit: the source as it is
    h = history(base, dest)                   # dest: bare repo with the branches below

The base repository is made once per source (~2 min: `git add` of ~87,000
files) and kept in the cache; `history` clones it (--shared, instant) and
adds the commits with git's plumbing (no work tree is written; the source
is only read). Commit dates and authors are fixed, so the commits have the
same ids every time: a bisection's work tree in the cache stays valid and
its builds incremental from one run of the tests to the next.

main, on top of "base" (what each commit does to the mremap test, which
calls mincore and MREMAP_DONTUNMAP):
   1 mm/mincore: reword the alignment comment              harmless
   2 fs/stat: a comment at the end                          harmless
   3 mm/msync: a stray line                                 does not build
   4 mm/msync: drop the stray line                          builds again
   5 mm/mlock: a comment at the end                         harmless
   6 mm/mincore: warn on every call                         unrelated crash (WARNING in mincore)
   7 mm/mincore: no warning                                 fixed again
   8 mm/mremap: refuse MREMAP_DONTUNMAP                      THE REGRESSION (mremap.c: not ok 12)
   9 mm/mremap: name the task that duplicates a mapping     changes a line no test runs
  10-12 comments at the end of fs/stat.c, mm/mlock.c, mm/msync.c
flaky, on top of "base":
   1 fs/stat comment, 2 mm/mremap: refuse MREMAP_DONTUNMAP one time in
   three (THE REGRESSION, flaky), 3-4 comments.
Standard library only.
"""
import os
import shutil
import subprocess

IDENT = {"GIT_AUTHOR_NAME": "vkci test", "GIT_AUTHOR_EMAIL": "vkci@example.invalid",
         "GIT_COMMITTER_NAME": "vkci test", "GIT_COMMITTER_EMAIL": "vkci@example.invalid"}
T0 = 1735689600   # 2025-01-01 00:00 UTC
APPEND = object()

MREMAP_FIXED_CHECK = "\tif (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE))\n\t\treturn ret;\n"
WARN_LINE = "\tWARN(1, \"vkci bisect test: an unrelated warning\");\n"


def _comment(n):
    return "\n/* vkci bisect test: comment %d */\n" % n


MAIN = [
    ("mm/mincore: reword the alignment comment",
     [("mm/mincore.c", "/* Check the start address: needs to be page-aligned.. */",
       "/* Check the start address: it must be page-aligned */")]),
    ("fs/stat: a comment at the end", [("fs/stat.c", APPEND, _comment(1))]),
    ("mm/msync: a stray line", [("mm/msync.c", "SYSCALL_DEFINE3(msync,", "this does not compile;\nSYSCALL_DEFINE3(msync,")]),
    ("mm/msync: drop the stray line", [("mm/msync.c", "this does not compile;\nSYSCALL_DEFINE3(msync,", "SYSCALL_DEFINE3(msync,")]),
    ("mm/mlock: a comment at the end", [("mm/mlock.c", APPEND, _comment(2))]),
    ("mm/mincore: warn on every call",
     [("mm/mincore.c", "\tstart = untagged_addr(start);\n\n\t/* Check the start address",
       WARN_LINE + "\tstart = untagged_addr(start);\n\n\t/* Check the start address")]),
    ("mm/mincore: no warning",
     [("mm/mincore.c", WARN_LINE + "\tstart = untagged_addr(start);\n", "\tstart = untagged_addr(start);\n")]),
    ("mm/mremap: refuse MREMAP_DONTUNMAP",
     [("mm/mremap.c", MREMAP_FIXED_CHECK,
       MREMAP_FIXED_CHECK + "\n\t/* vkci bisect test: the regression */\n\tif (flags & MREMAP_DONTUNMAP)\n\t\treturn ret;\n")]),
    ("mm/mremap: name the task that duplicates a mapping",
     [("mm/mremap.c", "attempted to duplicate a private mapping with mremap.  This is not supported.",
       "attempted to duplicate a private mapping with mremap: not supported.")]),
    ("fs/stat: another comment", [("fs/stat.c", APPEND, _comment(3))]),
    ("mm/mlock: another comment", [("mm/mlock.c", APPEND, _comment(4))]),
    ("mm/msync: a comment at the end", [("mm/msync.c", APPEND, _comment(5))]),
]
FLAKY = [
    ("fs/stat: a comment at the end", [("fs/stat.c", APPEND, _comment(1))]),
    ("mm/mremap: refuse MREMAP_DONTUNMAP one time in three",
     [("mm/mremap.c", "#include <linux/mempolicy.h>\n", "#include <linux/mempolicy.h>\n#include <linux/random.h>\n"),
      ("mm/mremap.c", MREMAP_FIXED_CHECK,
       MREMAP_FIXED_CHECK + "\n\t/* vkci bisect test: a flaky regression */\n"
       "\tif ((flags & MREMAP_DONTUNMAP) && get_random_u32_below(3) == 0)\n\t\treturn ret;\n")]),
    ("mm/mlock: a comment at the end", [("mm/mlock.c", APPEND, _comment(2))]),
    ("mm/msync: a comment at the end", [("mm/msync.c", APPEND, _comment(3))]),
]
ROLES = {"broken": ("main", 3), "build_fixed": ("main", 4), "crash": ("main", 6), "crash_fixed": ("main", 7),
         "culprit": ("main", 8), "unrun": ("main", 9), "flaky_culprit": ("flaky", 2)}


def _git(args, git_dir, env=None, stdin=None):
    e = dict(os.environ, GIT_DIR=git_dir, LC_ALL="C", **IDENT, **(env or {}))
    e.pop("GIT_WORK_TREE", None)
    r = subprocess.run(["git"] + args, env=e, input=stdin, capture_output=True)
    if r.returncode:
        raise RuntimeError("git %s: %s" % (" ".join(args), r.stderr.decode(errors="replace")[-500:]))
    return r.stdout


def base_repo(cache, src):
    """CACHE/linux-base-NAME.git: one commit, "base", of SRC as it is (made
    once; SRC is only read)."""
    dest = os.path.join(cache, "linux-base-%s.git" % os.path.basename(os.path.normpath(src)))
    if os.path.isdir(dest):
        return dest
    os.makedirs(cache, exist_ok=True)
    tmp = dest + ".new"
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["git", "init", "--quiet", "--bare", tmp], check=True)
    env = {"GIT_WORK_TREE": src, "GIT_INDEX_FILE": os.path.join(tmp, "vkci-index")}
    e = dict(os.environ, GIT_DIR=tmp, LC_ALL="C", **IDENT, **env)
    # -f: Debian's source ignores everything at its top level (.gitignore)
    r = subprocess.run(["git", "-c", "core.looseCompression=1", "add", "-f", "-A", "."], cwd=src, env=e,
                       capture_output=True)
    if r.returncode:
        raise RuntimeError("git add of '%s' failed: %s" % (src, r.stderr.decode(errors="replace")[-500:]))
    tree = subprocess.run(["git", "write-tree"], env=e, capture_output=True, check=True).stdout.strip()
    commit = _commit(tmp, tree.decode(), None, "base: %s as it is" % os.path.basename(src), 0)
    _git(["update-ref", "refs/heads/main", commit], tmp)
    _git(["update-ref", "refs/tags/base", commit], tmp)
    os.unlink(os.path.join(tmp, "vkci-index"))
    os.rename(tmp, dest)
    return dest


def _commit(git_dir, tree, parent, msg, i):
    when = "%d +0000" % (T0 + 60 * i)
    args = ["commit-tree", tree, "-m", msg] + (["-p", parent] if parent else [])
    return _git(args, git_dir, env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}).decode().strip()


def _apply(git_dir, commit, edits, index_env):
    for path, old, new in edits:
        data = _git(["cat-file", "blob", "%s:%s" % (commit, path)], git_dir).decode()
        if old is APPEND:
            data += new
        else:
            if data.count(old) != 1:
                raise RuntimeError("%s: expected one '%s' in %s" % (commit[:12], old[:40], path))
            data = data.replace(old, new)
        blob = _git(["hash-object", "-w", "--stdin"], git_dir, stdin=data.encode()).decode().strip()
        _git(["update-index", "--cacheinfo", "100644,%s,%s" % (blob, path)], git_dir, env=index_env)
    return _git(["write-tree"], git_dir, env=index_env).decode().strip()


def history(base, dest):
    """DEST: a bare repository sharing BASE's objects, with branches main and
    flaky (see the top); returns {"base", "main", "flaky": [ids...], and
    the roles of ROLES: commit id}. Made afresh, with the same ids each time."""
    shutil.rmtree(dest, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", "--bare", "--shared", base, dest], check=True,
                   capture_output=True)
    base_commit = _git(["rev-parse", "refs/heads/main"], dest).decode().strip()
    out = {"base": base_commit}
    index_env = {"GIT_INDEX_FILE": os.path.join(dest, "vkci-index")}
    n = 1
    for branch, spec in (("main", MAIN), ("flaky", FLAKY)):
        _git(["read-tree", base_commit], dest, env=index_env)
        parent, ids = base_commit, []
        for msg, edits in spec:
            tree = _apply(dest, parent, edits, index_env)
            parent = _commit(dest, tree, parent, msg, n)
            ids.append(parent)
            n += 1
        _git(["update-ref", "refs/heads/" + branch, parent], dest)
        out[branch] = ids
    os.unlink(os.path.join(dest, "vkci-index"))
    for role, (branch, k) in ROLES.items():
        out[role] = out[branch][k - 1]
    return out


def snapshot(path):
    """Every file under path (the repository): its name, size, mtime and
    content hash of the small ones (refs, HEAD, config, index), to show it
    was left byte for byte as it was."""
    import hashlib
    snap = {}
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for f in files:
            p = os.path.join(root, f)
            st = os.lstat(p)
            h = None
            if st.st_size < 1 << 20 and not os.path.islink(p):
                with open(p, "rb") as fh:
                    h = hashlib.sha1(fh.read()).hexdigest()
            snap[os.path.relpath(p, path)] = (st.st_size, st.st_mtime_ns, st.st_mode, h)
    return snap
