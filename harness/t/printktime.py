"""printktime - a console log with PRINTK_TIME flipped, for the crash
parser's tests (12-crash.t) and its bench (ci/bench/triage.py), which must
both see the same second form of each fixture: timestamps removed where the
log has them, made up (increasing, well-formed) where it has none; caller
ids (`[ T123]`) kept either way. Standard library only."""
import re

TIME = re.compile(r"^(<\d>)?\[ *\d+\.\d+\] ?")
CALLER = re.compile(r"^\[ *[TC]\d+\] ?")


def toggle_time(text):
    """The same log with PRINTK_TIME flipped."""
    lines = text.split("\n")
    has_time = any(TIME.match(x) for x in lines)
    out = []
    for i, x in enumerate(lines):
        if has_time:
            out.append(TIME.sub("", x, count=1) if TIME.match(x) else x)
        elif x or i + 1 < len(lines):
            stamp = "[%5d.%06d]" % (10 + i // 1000, (i * 1537) % 1000000)
            out.append(stamp + (x if CALLER.match(x) else " " + x))
        else:
            out.append(x)
    return "\n".join(out)
