"""ci/t/pagecheck.py - checks of a generated HTML page for the tests:
every link and image resolves to an existing file, the plots are there, and
Debian's headless Chromium renders it (a screenshot) without a console
message (the pages have no JavaScript: any console message is an error).
Standard library only (+ chromium)."""
import html.parser
import os
import re
import shutil
import subprocess
import tempfile

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.ids, self.svgs, self.points, self.polylines = [], set(), [], 0, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            if a.get(key) is not None:
                self.refs.append(a[key])
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "svg" and "plot" in (a.get("class") or ""):
            self.svgs.append(a.get("aria-label"))
        if tag == "circle" and a.get("class") == "point":
            self.points += 1
        if tag == "polyline" and a.get("class") == "series":
            self.polylines += 1


def parse(path):
    p = _Links()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p


def bad_links(path):
    """The hrefs/srcs of the page that do not resolve to an existing file
    (or, for #x, to an element id); external URLs count as bad."""
    p = parse(path)
    base = os.path.dirname(os.path.abspath(path))
    bad = []
    for ref in p.refs:
        if ref.startswith("#"):
            if ref[1:] not in p.ids:
                bad.append(ref)
        elif re.match(r"^[a-z]+:", ref) or ref.startswith("//"):
            bad.append(ref)
        elif not os.path.exists(os.path.join(base, ref.split("#")[0])):
            bad.append(ref)
    return bad


def chromium(path, png, size="1200,1400"):
    """Render path to png; (exit status, console messages, stderr)."""
    ud = tempfile.mkdtemp(prefix="vkci-chromium.")
    try:
        r = subprocess.run(["chromium"] + CHROMIUM_FLAGS + ["--user-data-dir=" + ud, "--window-size=" + size,
                            "--screenshot=" + png, "file://" + os.path.abspath(path)],
                           capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(ud, ignore_errors=True)
    console = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]
    return r.returncode, console, r.stderr


def png_size(png):
    """(width, height) of a PNG, or None."""
    try:
        with open(png, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
