#!/usr/bin/env python3
"""ci/nightpage.py - the nightly page: RESULTS/nights/NIGHT/index.html for a
night and RESULTS/nights/index.html across the nights.

  nightpage.py --results DIR [--night NAME]     (default: the last night)

Called by ci/nightly.py after each night and by the Buildbot night
(ci/buildbot/master.cfg) after the comparison and the bisection. Reads what
a night leaves (ci/nightly.py's layout): compare.json, KERNEL/run.json,
KERNEL/out/summary.json, KERNEL/out/logs/SUITE/TEST/result.json, and for a
Buildbot night night.json (which worker ran what).

A night's page: per kernel and variant the counts (pass, fail, crash, skip,
infra, flaky, quarantined), pass rate, run time and line coverage; new
failures first, each with its crash title (or failure reason), links to its
console log, serial log and result.json, and the bisected culprit when
compare.json has one (ci/bisect.py: a "culprit" {commit, subject, test,
reason, crash_title, log} per new failure, and "subtest_regressions");
then still failing, fixed, flaky and quarantined; which worker ran what;
and plots over the nights so far of pass rate, run time and line coverage.
Plain HTML and inline SVG drawn here: no JavaScript, no external file, and
a link only where its target exists. Standard library only.
"""
import argparse
import html
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nightly  # noqa: E402

SHOW = 10          # list items shown before the rest folds into a <details> (no JavaScript needed)
OUTCOMES = ("pass", "fail", "crash", "skip", "infra", "flaky", "quarantined")
COLOURS = ("#1f5fa8", "#d0700b", "#2a8a3a", "#b3262d", "#7446a6", "#7a5230", "#c2408f", "#5f6b73")
CSS = """body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .7em;text-align:left;border-bottom:1px solid #e4e4e4;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b3262d;font-weight:bold}.good{color:#2a8a3a}.muted{color:#777}.warn{color:#a66300}
.crash{font-family:monospace;font-size:.9em;overflow-wrap:anywhere}
details summary{cursor:pointer;color:#1f5fa8;margin:.3em 0}.culprit{background:#fff4e5;padding:.1em .4em}
.plots{display:flex;flex-wrap:wrap;gap:1em}.plot{border:1px solid #ddd;background:#fff}
nav a{margin-right:1em}code{font-size:.9em}table.kernels{font-size:.92em}table.kernels td,table.kernels th{padding:.25em .45em}
small a{margin-right:.5em}td:first-child{white-space:nowrap}table.kernels td:first-child{white-space:normal;min-width:9em}"""


def e(s):
    return html.escape(str(s), quote=True)


read_json = nightly.read_json   # one reader of the night's JSON files


def link(base, rel, text, cls=None):
    """<a> to rel (relative to the page in base) only when the file exists."""
    if rel and os.path.exists(os.path.join(base, rel)):
        return f"<a href='{e(rel)}'" + (f" class='{cls}'" if cls else "") + f">{e(text)}</a>"
    return ""


def fmt_secs(s):
    if s is None:
        return ""
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


# ---- what a night holds -----------------------------------------------------

def night_data(results, night):
    """Everything the pages need about one night."""
    ndir = os.path.join(results, "nights", night)
    cmp = read_json(os.path.join(ndir, "compare.json"))
    if cmp is None:
        cmp = nightly.compare(results, night)
    kernels = []
    for kc in cmp.get("kernels", []):
        name = kc["kernel"]
        kdir = os.path.join(ndir, name)
        run = read_json(os.path.join(kdir, "run.json")) or {}
        summary = read_json(os.path.join(kdir, "out", "summary.json")) or {}
        counts = {o: 0 for o in OUTCOMES}
        counts.update(kc.get("counts") or {})
        counted = sum(v for o, v in counts.items() if o not in ("skip", "quarantined"))
        passed = counts["pass"] + counts["flaky"]
        took = (run["finished"] - run["started"]) if run.get("finished") and run.get("started") else None
        kernels.append({"name": name, "cmp": kc, "run": run, "summary": summary, "counts": counts,
                        "pass_rate": 100.0 * passed / counted if counted else None, "run_s": took,
                        "coverage": kc.get("coverage")})
    return {"night": night, "dir": ndir, "cmp": cmp, "kernels": kernels,
            "meta": read_json(os.path.join(ndir, "night.json")) or {}}


def test_name(entry):
    """The test of a compare.json list entry: "vm/mremap (fail, was pass)" or {"test": ...}."""
    if isinstance(entry, dict):
        return entry.get("test") or "?"
    return str(entry).split(" (", 1)[0]


def test_detail(entry):
    if isinstance(entry, dict):
        return entry.get("detail") or entry.get("outcome") or ""
    s = str(entry)
    return s.split(" (", 1)[1].rstrip(")") if " (" in s else ""


def culprit_of(k, entry):
    if isinstance(entry, dict) and "culprit" in entry:
        return entry["culprit"]
    cul = k["cmp"].get("culprits")
    if isinstance(cul, dict):
        return cul.get(test_name(entry))
    return None


def test_record(ndir, k, test):
    """(summary.json's entry, result.json, logs dir relative to the night) of SUITE/TEST."""
    suite, _, name = test.partition("/")
    s = ((k["summary"].get("suites") or {}).get(suite) or {}).get("tests", {}).get(name) or {}
    rel = os.path.join(k["name"], "out", "logs", suite, name)
    return s, read_json(os.path.join(ndir, rel, "result.json")) or {}, rel


def crash_title(s, r):
    for v in (r.get("crash_title"), r.get("crash_line"), s.get("crash_line")):
        if v:
            return v
    kind = r.get("crash_kind") or s.get("crash_kind")
    reason = r.get("reason") or s.get("reason")
    return (f"{kind}: {reason}" if kind and reason else kind or reason or "")


# ---- SVG plots -----------------------------------------------------------------

def svg_plot(title, unit, series, labels, ymin=None, ymax=None, width=460, height=230):
    """A line plot: series {name: [value or None per label]}; labels: the nights."""
    left, right, top, bottom = 64, 34, 28, 48
    pw, ph = width - left - right, height - top - bottom
    vals = [v for vs in series.values() for v in vs if v is not None]
    out = [f"<svg class='plot' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}' role='img' aria-label='{e(title)}'>",
           f"<text x='{left}' y='18' font-size='14' font-weight='bold'>{e(title)}</text>"]
    if not vals:
        out.append(f"<text x='{left}' y='{top + ph / 2}' font-size='12' fill='#777'>no data yet</text></svg>")
        return "".join(out)
    lo = min(vals) if ymin is None else min(ymin, min(vals))
    hi = max(vals) if ymax is None else max(ymax, max(vals))
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    # round ticks: a step of 1, 2, 2.5 or 5 times a power of ten
    raw = (hi - lo) / 4
    mag = 10 ** math.floor(math.log10(raw))
    tick = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    lo, hi = math.floor(lo / tick) * tick, math.ceil(hi / tick) * tick
    if ymin is not None and lo < ymin <= min(vals):
        lo = ymin
    decimals = 0
    while decimals < 6 and abs(tick * 10 ** decimals - round(tick * 10 ** decimals)) > 1e-6:
        decimals += 1
    n = len(labels)

    def x(i):
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v):
        return top + ph - (v - lo) / (hi - lo) * ph

    for j in range(int(round((hi - lo) / tick)) + 1):
        v = lo + tick * j
        out.append(f"<line x1='{left}' x2='{left + pw}' y1='{y(v):.1f}' y2='{y(v):.1f}' stroke='#e6e6e6'/>"
                   f"<text x='{left - 6}' y='{y(v) + 4:.1f}' font-size='11' text-anchor='end'>"
                   f"{v:.{decimals}f}{e(unit)}</text>")
    out.append(f"<line x1='{left}' x2='{left}' y1='{top}' y2='{top + ph}' stroke='#999'/>"
               f"<line x1='{left}' x2='{left + pw}' y1='{top + ph}' y2='{top + ph}' stroke='#999'/>")
    step = max(1, (n + 5) // 6)
    for i, lab in enumerate(labels):
        if i % step == 0 or i == n - 1:
            out.append(f"<text x='{x(i):.1f}' y='{top + ph + 16}' font-size='10' text-anchor='middle'>{e(lab)}</text>")
    for c, (name, vs) in enumerate(sorted(series.items())):
        col = COLOURS[c % len(COLOURS)]
        pts = [(x(i), y(v), v, labels[i]) for i, v in enumerate(vs) if v is not None]
        if len(pts) > 1:
            out.append(f"<polyline class='series' fill='none' stroke='{col}' stroke-width='2' points='" +
                       " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in pts) + "'/>")
        for px, py, v, lab in pts:
            out.append(f"<circle class='point' cx='{px:.1f}' cy='{py:.1f}' r='3.5' fill='{col}'>"
                       f"<title>{e(name)} {e(lab)}: {v:.4g}{e(unit)}</title></circle>")
        lx = left + (c % 3) * (pw / 3)
        ly = height - 10 - 14 * (c // 3)
        out.append(f"<rect x='{lx:.1f}' y='{ly - 9}' width='10' height='10' fill='{col}'/>"
                   f"<text x='{lx + 14:.1f}' y='{ly}' font-size='11'>{e(name)}</text>")
    out.append("</svg>")
    return "".join(out)


def trend_plots(results, upto):
    names = [n for n in nightly.nights(results) if nightly.night_key(n) <= nightly.night_key(upto)][-60:]
    data = [night_data(results, n) for n in names]
    kernels = sorted({k["name"] for d in data for k in d["kernels"]})
    ser = {m: {k: [] for k in kernels} for m in ("pass_rate", "run_s", "coverage")}
    for d in data:
        by = {k["name"]: k for k in d["kernels"]}
        for m in ser:
            for k in kernels:
                v = by.get(k, {}).get(m)
                ser[m][k].append(v / 60.0 if (m == "run_s" and v is not None) else v)
    cov = {k: v for k, v in ser["coverage"].items() if any(x is not None for x in v)}
    return ("<div class='plots'>" +
            svg_plot("pass rate", "%", ser["pass_rate"], names, ymax=100) +
            svg_plot("run time", " min", ser["run_s"], names, ymin=0) +
            svg_plot("line coverage", "%", cov, names) + "</div>")


# ---- pages ---------------------------------------------------------------------------

def head(title):
    return ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>{e(title)}</title><style>{CSS}</style></head><body>"]


def night_page(results, night):
    d = night_data(results, night)
    ndir, cmp, meta = d["dir"], d["cmp"], d["meta"]
    regs = cmp.get("regressions", 0)
    out = head(f"vkci nightly {night}")
    out.append(f"<nav>{link(ndir, '../index.html', 'all nights')}"
               f"{link(ndir, 'summary.txt', 'summary.txt')}{link(ndir, 'compare.json', 'compare.json')}"
               f"{link(ndir, 'night.json', 'night.json')}</nav>")
    out.append(f"<h1>vkci nightly {e(night)}</h1>")
    prev = cmp.get("previous")
    when = [f"compared with {link(ndir, '../' + prev + '/index.html', prev) or e(prev)}" if prev
            else "no previous night to compare with"]
    if meta.get("wall_s"):
        when.append(f"{fmt_secs(meta['wall_s'])} on {len(meta.get('workers') or [])} Buildbot worker(s)")
    out.append(f"<p>{' · '.join(when)} · <span class='{'bad' if regs else 'good'}'>{regs} new "
               f"failure{'s' if regs != 1 else ''}</span></p>")

    # new failures first
    out.append("<h2 id='new'>New failures</h2>")
    rows = []
    for k in d["kernels"]:
        for n, entry in enumerate(k["cmp"].get("new_failures", [])):
            if n == SHOW:
                rows.append(f"<tr><td colspan='6'><details><summary>{e(k['name'])}: "
                            f"{len(k['cmp']['new_failures']) - SHOW} more new failures</summary><table>")
            t = test_name(entry)
            cul = culprit_of(k, entry)
            if t == "(kernel)":
                rows.append(f"<tr><td>{e(k['name'])}</td><td colspan='3' class='bad'>the kernel: "
                            f"{e(test_detail(entry) or str(entry))}</td><td>"
                            f"{link(ndir, k['name'] + '/make.log', 'make.log')}</td><td></td></tr>")
                continue
            s, r, rel = test_record(ndir, k, t)
            logs = " ".join(x for x in (link(ndir, rel + "/console.log", "console"),
                                        link(ndir, rel + "/serial.log", "serial"),
                                        link(ndir, rel + "/session.log", "session"),
                                        link(ndir, rel + "/result.json", "result.json")) if x)
            rows.append(f"<tr><td>{e(k['name'])}</td><td><b>{e(t)}</b></td><td>{e(test_detail(entry))}</td>"
                        f"<td class='crash'>{e(crash_title(s, r))}</td><td>{logs}</td>"
                        f"<td>{culprit_html(ndir, cul)}</td></tr>")
        if len(k["cmp"].get("new_failures", [])) > SHOW:
            rows.append("</table></details></td></tr>")
    if rows:
        out.append("<table><tr><th>kernel</th><th>test</th><th>outcome</th><th>crash title / reason</th>"
                   "<th>logs</th><th>culprit</th></tr>" + "".join(rows) + "</table>")
    else:
        out.append("<p class='good'>none</p>")
    subs = [(k, x) for k in d["kernels"] for x in (k["cmp"].get("subtest_regressions") or [])]
    if subs:
        out.append("<h3>Subtest regressions</h3><ul>")
        for k, x in subs:
            if isinstance(x, dict):
                desc = " ".join(f"{e(a)}: {e(b)}" for a, b in x.items() if a != "culprit" and b is not None)
                cul = culprit_html(ndir, x.get("culprit"))
            else:
                desc, cul = e(x), ""
            out.append(f"<li>{e(k['name'])}: {desc}{' — ' + cul if cul else ''}</li>")
        out.append("</ul>")

    # kernels
    commits = any(k["cmp"].get("commit") for k in d["kernels"])
    out.append("<h2 id='kernels'>Kernels</h2><table class='kernels'><tr><th>kernel</th>" +
               ("<th>commit</th>" if commits else "") +
               "".join(f"<th>{o}</th>" for o in OUTCOMES) +
               "<th>pass rate</th><th>run time</th><th>line coverage</th></tr>")
    broken_list = []
    for k in d["kernels"]:
        c, kc = k["counts"], k["cmp"]
        cov = "" if k["coverage"] is None else f"{k['coverage']:.2f}%" + (
            "" if kc.get("coverage_delta") is None else f" ({kc['coverage_delta']:+.2f})")
        cells = "".join(f"<td class='n{' bad' if o in nightly.FAILING and c[o] else ''}'>{c[o]}</td>"
                        for o in OUTCOMES)
        pr = "" if k["pass_rate"] is None else f"{k['pass_rate']:.1f}%"
        files = " ".join(x for x in (
            link(ndir, k["name"] + "/out/summary.json", "summary.json"),
            link(ndir, k["name"] + "/out/junit.xml", "junit.xml"),
            link(ndir, k["name"] + "/make.log", "make.log"),
            link(ndir, k["name"] + "/run.json", "run.json"),
            link(ndir, k["name"] + "/out/coverage/html/index.html", "coverage")) if x)
        broken = ""
        if kc.get("broken"):
            broken_list.append(f"<li class='bad'>{e(k['name'])} is broken: {e(kc['broken'])}</li>")
        out.append(f"<tr><td><b>{e(k['name'])}</b>{' (coverage)' if k['run'].get('coverage') else ''}"
                   f"<br><small>{files}</small></td>"
                   + (f"<td><code>{e((kc.get('commit') or '')[:12])}</code></td>" if commits else "") +
                   f"{cells}<td class='n'>{pr}</td>"
                   f"<td class='n'>{fmt_secs(k['run_s'])}</td><td class='n'>{cov}</td></tr>{broken}")
    out.append("</table>")
    if broken_list:
        out.append("<ul>" + "".join(broken_list) + "</ul>")

    # the rest, per kernel
    for key, title, cls in (("still_failing", "Still failing", "warn"), ("fixed", "Fixed", "good"),
                            ("flaky", "Flaky (passed on a retry)", "muted"),
                            ("quarantined", "Quarantined (not counted)", "muted")):
        items = [(k, x) for k in d["kernels"] for x in k["cmp"].get(key, [])]
        if not items:
            continue
        out.append(f"<h2>{title} ({len(items)})</h2><ul>")
        for n, (k, x) in enumerate(items):
            if n == SHOW:
                out.append(f"</ul><details><summary>{len(items) - SHOW} more</summary><ul>")
            t = test_name(x)
            s, r, rel = test_record(ndir, k, t)
            why = crash_title(s, r) if key == "still_failing" else ""
            logs = link(ndir, rel + "/console.log", "console")
            out.append(f"<li class='{cls}'>{e(k['name'])}: <b>{e(t)}</b> {e(test_detail(x))}"
                       f"{' — <span class=crash>' + e(why) + '</span>' if why else ''}"
                       f"{' · ' + logs if logs else ''}</li>")
        out.append("</ul></details>" if len(items) > SHOW else "</ul>")

    # which worker ran what (a Buildbot night)
    if meta.get("work"):
        out.append("<h2 id='workers'>Workers</h2><table><tr><th>worker</th><th>busy</th><th>what it ran</th></tr>")
        busy = meta.get("busy") or {}
        for w in sorted({x.get("worker") or "?" for x in meta["work"]}):
            what = ", ".join(f"{x['kernel']} {x['step']} ({fmt_secs((x['finished'] or 0) - (x['started'] or 0))})"
                             for x in meta["work"] if (x.get("worker") or "?") == w)
            b = busy.get(w) or {}
            share = f"{b['share']:.0%} of {fmt_secs(meta.get('wall_s'))}" if b.get("share") is not None else ""
            out.append(f"<tr><td>{e(w)}</td><td class='n'>{share}</td><td>{e(what)}</td></tr>")
        out.append("</table>")

    out.append("<h2 id='trends'>Over the nights</h2>")
    out.append(trend_plots(results, night))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def culprit_html(ndir, c):
    if not c:
        return ""
    if not isinstance(c, dict):
        return f"<span class='culprit'>{e(c)}</span>"
    parts = [f"<code>{e((c.get('commit') or '')[:12])}</code>"] if c.get("commit") else []
    if c.get("subject"):
        parts.append(e(c["subject"]))
    why = c.get("crash_title") or c.get("reason")
    if why:
        parts.append(f"<span class='crash'>{e(why)}</span>")
    logp = c.get("log")
    if logp:
        rel = os.path.relpath(logp, ndir) if os.path.isabs(logp) else logp
        parts.append(link(ndir, rel, "bisect log") or "")
    return "<span class='culprit'>" + " · ".join(p for p in parts if p) + "</span>"


def index_page(results, upto):
    names = nightly.nights(results)
    ndirs = os.path.join(results, "nights")
    out = head("vkci nightly")
    out.append("<h1>vkci nightly</h1>")
    out.append(f"<p>{len(names)} night{'s' if len(names) != 1 else ''}, newest first.</p>")
    out.append("<table><tr><th>night</th><th>new failures</th><th>kernels</th></tr>")
    for n in reversed(names):
        cmp = read_json(os.path.join(ndirs, n, "compare.json"))
        target = link(ndirs, f"{n}/index.html", n) or link(ndirs, f"{n}/summary.html", n) or e(n)
        if cmp is None:
            out.append(f"<tr><td>{target}</td><td class='muted'>no comparison</td><td></td></tr>")
            continue
        ks = "; ".join(f"{e(k['kernel'])}: " + ("<span class='bad'>broken</span>" if k.get("broken") else
                       ", ".join(f"{v} {e(o)}" for o, v in sorted(k.get("counts", {}).items())))
                       for k in cmp.get("kernels", []))
        r = cmp.get("regressions", 0)
        out.append(f"<tr><td>{target}</td><td class='n {'bad' if r else 'good'}'>{r}</td><td>{ks}</td></tr>")
    out.append("</table><h2>Over the nights</h2>")
    out.append(trend_plots(results, upto) if names else "<p>no nights yet</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_atomic(path, text):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def write_pages(results, night=None):
    """nights/NIGHT/index.html and nights/index.html; returns their paths."""
    names = nightly.nights(results)
    if not names:
        raise ValueError(f"no nights under '{results}/nights'")
    night = night or names[-1]
    if night not in names:
        raise ValueError(f"no night '{night}' under '{results}/nights'")
    page = os.path.join(results, "nights", night, "index.html")
    write_atomic(page, night_page(results, night))
    index = os.path.join(results, "nights", "index.html")
    write_atomic(index, index_page(results, names[-1]))
    return page, index


def main(argv=None):
    ap = argparse.ArgumentParser(prog="nightpage.py", description=__doc__.split("\n")[1])
    ap.add_argument("--results", required=True)
    ap.add_argument("--night")
    a = ap.parse_args(argv)
    try:
        page, index = write_pages(os.path.abspath(a.results), a.night)
    except (ValueError, OSError) as ex:
        print(f"nightpage: {ex}", file=sys.stderr)
        return 2
    print(f"nightpage: {page}, {index}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
