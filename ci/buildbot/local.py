#!/usr/bin/env python3
"""ci/buildbot/local.py - a Buildbot master and N workers on this machine,
one night, then everything stopped (`make buildbot-local`):

  local.py --dir DIR [--workers N] [--config NIGHTLY.json] [--kill-worker-during-shard NAME]

DIR holds everything: master/ (Buildbot's basedir: master.cfg is a link to
ci/buildbot/master.cfg, its sqlite state, twistd.log), worker-I/ (each
worker's basedir), secrets/worker-passwords (generated, mode 600; the
workers' buildbot.tac read their password from it), night.json (the fleet
config: NIGHTLY.json plus the "buildbot" section for this machine), run/
(the workers' VKCI_RUNDIR), results/nights/... (the nights) and local.json
(ports, pids, memory, the night's build ids and what was killed).

The master's PB port and its REST API listen on 127.0.0.1 only, on free
ports chosen at start. The night is forced through the REST API
(forceschedulers/force-night) and followed there until it completes. Every
process this script starts runs in its own session; at the end each is
stopped by its pid (SIGTERM, then SIGKILL), and whatever is left in those
sessions (the commands of a killed worker) is killed by pid too.

--kill-worker-during-shard NAME: once a shard build runs its tests on
worker NAME, SIGKILL that worker and what it started (a machine that dies);
Buildbot must re-run the shard on another worker. For the test of that.

Exit status: the night's (0 no regression, 1 a regression, 3 incomplete
results), 2 usage, 4 the fleet did not come up or the night did not finish
(see DIR/master/twistd.log).
"""
import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILDBOT = "/usr/bin/buildbot"
WORKER = "/usr/bin/buildbot-worker"
UP_TIMEOUT = 120
NIGHT_TIMEOUT = 3 * 3600


def say(msg):
    print("buildbot-local: " + msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path, text, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)


class Fleet:
    def __init__(self, a):
        self.dir = os.path.abspath(a.dir)
        self.n = a.workers
        self.names = [f"worker-{i}" for i in range(1, self.n + 1)]
        self.procs = {}          # name -> Popen
        self.state = {"dir": self.dir, "workers": self.names, "pids": {}, "killed": []}
        self.api = None

    # ---- set-up ---------------------------------------------------------
    def prepare(self, config):
        d = self.dir
        os.makedirs(d, exist_ok=True)
        for sub in ("secrets", "run", "results"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        os.chmod(os.path.join(d, "secrets"), 0o700)
        pwfile = os.path.join(d, "secrets", "worker-passwords")
        if not os.path.exists(pwfile):
            write(pwfile, "".join(f"{n} {secrets.token_hex(16)}\n" for n in self.names), 0o600)
        else:  # a second run in the same dir: add passwords for new workers
            have = {ln.split()[0] for ln in open(pwfile, encoding="utf-8") if ln.strip()}
            with open(pwfile, "a", encoding="utf-8") as f:
                for n in self.names:
                    if n not in have:
                        f.write(f"{n} {secrets.token_hex(16)}\n")
        with open(config, encoding="utf-8") as f:
            cfg = json.load(f)
        base = os.path.dirname(os.path.abspath(config))
        # paths of the nightly config stay meaningful from DIR
        for k in cfg.get("kernels", []):
            if k.get("source") and not os.path.isabs(os.path.expanduser(k["source"])):
                k["source"] = os.path.join(base, k["source"])
        self.pb, self.www = free_port(), free_port()
        cfg["results"] = os.path.join(d, "results")
        cfg.setdefault("cache", os.path.join(d, "cache"))
        cfg["buildbot"] = {
            "title": "vkci nightly (buildbot-local)",
            "pb": f"tcp:{self.pb}:interface=127.0.0.1",
            "www": f"tcp:{self.www}:interface=127.0.0.1",
            "www_url": f"http://127.0.0.1:{self.www}/",
            "workers": self.names,
            "passwords": pwfile,
            "shards": cfg.get("buildbot", {}).get("shards", self.n),
            "nightly": None,
            "vkci": {"path": TOP},
        }
        self.config = os.path.join(d, "night.json")
        write(self.config, json.dumps(cfg, indent=1) + "\n")
        self.api = f"http://127.0.0.1:{self.www}/api/v2"
        self.state.update(pb_port=self.pb, www_port=self.www, config=self.config)

        master = os.path.join(d, "master")
        if not os.path.exists(os.path.join(master, "buildbot.tac")):
            r = subprocess.run([BUILDBOT, "create-master", "-q", "-r", master], capture_output=True, text=True)
            if r.returncode:
                raise SystemExit(self.fail(f"buildbot create-master failed: {r.stdout}{r.stderr}"))
        link = os.path.join(master, "master.cfg")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.join(HERE, "master.cfg"), link)
        r = subprocess.run([BUILDBOT, "checkconfig", master], capture_output=True, text=True,
                           env=dict(os.environ, VKCI_NIGHT_CONFIG=self.config,
                                    PYTHONPATH=os.path.join(HERE, "www")))
        if r.returncode:
            raise SystemExit(self.fail(f"the master's config does not load: {(r.stdout + r.stderr).strip()[-2000:]}", 2))
        for n in self.names:
            wdir = os.path.join(d, n)
            if not os.path.exists(os.path.join(wdir, "buildbot.tac")):
                r = subprocess.run([WORKER, "create-worker", "-q", "--umask=0o22", wdir,
                                    f"127.0.0.1:{self.pb}", n, "placeholder"], capture_output=True, text=True)
                if r.returncode:
                    raise SystemExit(self.fail(f"buildbot-worker create-worker failed: {r.stdout}{r.stderr}"))
            # the password from the secrets file, the master's current port
            tac = os.path.join(wdir, "buildbot.tac")
            lines = []
            for line in open(tac, encoding="utf-8"):
                if line.startswith("passwd = "):
                    line = (f"passwd = dict(l.split() for l in open({pwfile!r}) if l.strip())[{n!r}]\n")
                elif line.startswith("buildmaster_host = "):
                    line = "buildmaster_host = '127.0.0.1'\n"
                elif line.startswith("port = "):
                    line = f"port = {self.pb}\n"
                lines.append(line)
            write(tac, "".join(lines), 0o600)

    # ---- processes ------------------------------------------------------
    def start(self, name, argv, cwd, env):
        log = open(os.path.join(self.dir, f"{name}.out"), "ab")
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True)
        self.procs[name] = p
        self.state["pids"][name] = p.pid
        return p

    def start_all(self):
        # Debian has no buildbot-www (the JavaScript UI): ci/buildbot/www is the web root's plugin
        pp = os.path.join(HERE, "www") + (":" + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
        env = dict(os.environ, VKCI_NIGHT_CONFIG=self.config, PYTHONPATH=pp)
        self.start("master", [BUILDBOT, "start", "--nodaemon", os.path.join(self.dir, "master")],
                   self.dir, env)
        wenv = dict(os.environ, VKCI_RUNDIR=os.path.join(self.dir, "run"))
        wenv.pop("VKCI_NIGHT_CONFIG", None)
        for n in self.names:
            self.start(n, [WORKER, "start", "--nodaemon", os.path.join(self.dir, n)],
                       os.path.join(self.dir, n), wenv)
        self.save()
        deadline = time.time() + UP_TIMEOUT
        while time.time() < deadline:
            if self.procs["master"].poll() is not None:
                raise SystemExit(self.fail("the master exited at start (see master/twistd.log)"))
            try:
                ws = self.get("/workers")["workers"]
                up = {w["name"] for w in ws if w.get("connected_to")}
                if set(self.names) <= up:
                    say(f"master on 127.0.0.1:{self.pb} (REST API {self.api}), {self.n} worker(s) connected")
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        raise SystemExit(self.fail(f"the workers did not connect within {UP_TIMEOUT} s (see */twistd.log)"))

    def session_pids(self, sid):
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open(f"/proc/{p}/stat", encoding="utf-8", errors="replace") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[3]) == sid:
                    out.append(int(p))
            except (OSError, IndexError, ValueError):
                pass
        return out

    def kill_session(self, name, sig=signal.SIGKILL):
        """The process NAME (by its pid) and everything left in its session."""
        pid = self.state["pids"][name]
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        for p in self.session_pids(pid):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def peak_rss_kib(self, pid):
        try:
            with open(f"/proc/{pid}/status", encoding="utf-8") as f:
                for line in f:
                    if line.startswith(("VmHWM:", "VmRSS:")):
                        key, val = line.split(":")
                        self.state.setdefault("memory_kib", {}).setdefault(str(pid), {})[key] = int(val.split()[0])
        except OSError:
            pass

    def stop_all(self):
        for name, p in self.procs.items():
            if p.poll() is None:
                self.peak_rss_kib(p.pid)
                mem = self.state.get("memory_kib", {}).pop(str(p.pid), None)
                if mem:
                    self.state.setdefault("memory", {})[name] = {"peak_rss_kib": mem.get("VmHWM"),
                                                                 "rss_kib": mem.get("VmRSS")}
        for name, p in self.procs.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.time() + 30
        for name, p in self.procs.items():
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                say(f"{name} (pid {p.pid}) did not stop on SIGTERM: SIGKILL")
                p.kill()
                p.wait()
        for name in self.procs:
            self.kill_session(name)      # leftovers of a killed worker's commands
        self.save()

    # ---- the REST API -----------------------------------------------------
    def get(self, path):
        with urllib.request.urlopen(self.api + path, timeout=10) as r:
            return json.load(r)

    def force_night(self):
        body = json.dumps({"jsonrpc": "2.0", "method": "force", "id": 1,
                           "params": {"builderNames": ["night"], "reason": "buildbot-local"}}).encode()
        req = urllib.request.Request(self.api + "/forceschedulers/force-night", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            res = json.load(r)
        if "error" in res:
            raise SystemExit(self.fail(f"forcing the night failed: {res['error']}"))
        bsid = res["result"][0]
        say(f"night forced (buildset {bsid})")
        return bsid

    def night_build(self, bsid):
        brs = self.get(f"/buildrequests?buildsetid={bsid}")["buildrequests"]
        if not brs:
            return None
        builds = self.get(f"/builds?buildrequestid={brs[0]['buildrequestid']}")["builds"]
        return builds[-1] if builds else None

    def watch_kill(self, victim):
        """SIGKILL worker VICTIM once one of its shard builds runs its tests."""
        if not victim or self.state["killed"]:
            return
        wid = {w["name"]: w["workerid"] for w in self.get("/workers")["workers"]}.get(victim)
        bid = {b["name"]: b["builderid"] for b in self.get("/builders")["builders"]}["vkci-shard"]
        for b in self.get(f"/builders/{bid}/builds?complete=false")["builds"]:
            if b["workerid"] != wid:
                continue
            st = self.get(f"/builds/{b['buildid']}/steps")["steps"]
            running = [s for s in st if s["started_at"] and not s["complete"] and "shard" in s["name"]]
            if running:
                time.sleep(3)      # into the tests, not their start
                say(f"killing {victim} (pid {self.state['pids'][victim]}) during {running[0]['name']}")
                props = self.get(f"/builds/{b['buildid']}/properties")["properties"][0]
                self.kill_session(victim)
                self.state["killed"].append({"worker": victim, "pid": self.state["pids"][victim],
                                             "build": b["buildid"], "step": running[0]["name"],
                                             "kernel": props.get("kernel", [None])[0],
                                             "shard": props.get("shard", [None])[0], "at": time.time()})
                self.save()
                return

    def wait_night(self, bsid, victim):
        deadline = time.time() + NIGHT_TIMEOUT
        while time.time() < deadline:
            if self.procs["master"].poll() is not None:
                raise SystemExit(self.fail("the master died during the night (see master/twistd.log)"))
            try:
                b = self.night_build(bsid)
                if b and b["complete"]:
                    return b
                self.watch_kill(victim)
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(1)
        raise SystemExit(self.fail(f"the night did not finish within {NIGHT_TIMEOUT} s"))

    def save(self):
        write(os.path.join(self.dir, "local.json"), json.dumps(self.state, indent=1, sort_keys=True) + "\n")

    def fail(self, msg, status=4):
        say(msg)
        try:
            self.stop_all()
        except Exception as e:  # noqa: BLE001 - stopping must not hide the first error
            say(f"while stopping: {e}")
        return status


def main(argv=None):
    ap = argparse.ArgumentParser(prog="local.py", description=__doc__.split("\n")[1])
    ap.add_argument("--dir", required=True, help="all state: master, workers, secrets, results")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--config", default=os.path.join(HERE, "local.example.json"),
                    help="the nightly config (ci/nightly.py's JSON)")
    ap.add_argument("--kill-worker-during-shard", metavar="NAME")
    a = ap.parse_args(argv)
    if a.workers < 1 or a.workers > 16:
        say("WORKERS must be 1..16")
        return 2
    for exe, pkg in ((BUILDBOT, "buildbot"), (WORKER, "buildbot-worker")):
        if not os.access(exe, os.X_OK):
            say(f"no {exe} (run: ci/deps.sh buildbot, or apt-get install {pkg})")
            return 2
    if not os.path.isfile(a.config):
        say(f"no nightly config '{a.config}' (give CONFIG=... , see ci/nightly.example.json)")
        return 2
    f = Fleet(a)
    t0 = time.time()
    f.prepare(a.config)
    f.start_all()
    f.state["up_s"] = round(time.time() - t0, 1)
    bsid = f.force_night()
    b = f.wait_night(bsid, a.kill_worker_during_shard)
    props = f.get(f"/builds/{b['buildid']}/properties")["properties"][0]
    night = props.get("night", [None])[0]
    f.state.update(night=night, night_build=b["buildid"], night_results=b["results"],
                   wall_s=round(time.time() - t0, 1))
    builds = []
    for bl in f.get("/builders")["builders"]:
        for x in f.get(f"/builders/{bl['builderid']}/builds")["builds"]:
            builds.append({"builder": bl["name"], "number": x["number"], "workerid": x["workerid"],
                           "results": x["results"], "started_at": x["started_at"], "complete_at": x["complete_at"]})
    wnames = {w["workerid"]: w["name"] for w in f.get("/workers")["workers"]}
    for x in builds:
        x["worker"] = wnames.get(x.pop("workerid"))
    f.state["builds"] = builds
    f.stop_all()
    ndir = os.path.join(f.dir, "results", "nights", night or "?")
    info = {}
    try:
        with open(os.path.join(ndir, "night.json"), encoding="utf-8") as fh:
            info = json.load(fh)
    except (OSError, ValueError):
        say(f"the night left no night.json in '{ndir}' (see {f.dir}/master/twistd.log)")
        return 4
    say(f"night {night}: status {info.get('status')}, {f.state['wall_s']} s in all; "
        f"page {os.path.join(ndir, 'index.html')}")
    return info.get("status", 4)


if __name__ == "__main__":
    sys.exit(main())
