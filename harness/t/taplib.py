"""taplib.py - TAP for the harness's Python tests (the Python twin of lib.sh).

    sys.path.insert(0, os.path.join(TOP, "harness", "t"))
    from taplib import ok, is_, done
    ok(cond, "description", *diagnostics)   # prints "ok N - ..." / "not ok N - ..."
    is_(got, want, "description")
    done()                                  # the plan, and exit 1 if anything failed

Diagnostics are printed (first 40 lines of each) only for a failure.
Standard library only.
"""
import sys

_n = 0
_failed = 0


def ok(cond, desc, *diag):
    global _n, _failed
    _n += 1
    print(("ok" if cond else "not ok") + f" {_n} - {desc}", flush=True)
    if not cond:
        _failed += 1
        for d in diag:
            for line in str(d).splitlines()[:40]:
                print("#   " + line)
    return cond


def is_(got, want, desc):
    return ok(got == want, desc, f"got:      {got!r}", f"expected: {want!r}")


def done():
    print(f"1..{_n}", flush=True)
    sys.exit(1 if _failed else 0)
