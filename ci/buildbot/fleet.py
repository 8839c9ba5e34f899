"""ci/buildbot/fleet.py - the fleet's config: ci/nightly.py's JSON (checked
by nightly.load_config) plus a "buildbot" section:

  "buildbot": {
    "pb": "tcp:9989",                        the master's port for workers (a Twisted strport)
    "www": "tcp:8010:interface=127.0.0.1",   the REST API / web server
    "www_url": "http://ci.example.org:8010/",
    "workers": ["deb1", "deb2", "dfly1"],    the workers' names
    "passwords": "/etc/vkci/worker-passwords",   "NAME PASSWORD" lines, outside the repository
    "www_users": "/etc/vkci/www-users",      optional "USER PASSWORD" lines: who may force a night
    "shards": 4,                             shards per kernel (default: the number of workers)
    "nightly": {"hour": 1, "minute": 30},    Buildbot's Nightly scheduler (none: forced nights only)
    "vkci": {"git": "https://.../vkci.git", "branch": "main"}   the vkci tree the workers run
            or {"path": "/srv/vkci"}         (workers on the master's machine: copied from there)
  }

A kernel entry may say "workers": [...] to run only on those (a DragonFly
kernel on the DragonFly workers). Paths in the buildbot section are
relative to the config file. Kernel entries go to the workers as given (plus the top-level jobs, retries,
make_args and cache): "source", "kconfig" and "cache" are paths on the
worker ("~" its home; kconfig relative to the vkci tree). Standard library
only (master.cfg imports it; so do night.py and local.py).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import nightly  # noqa: E402


class ConfigError(Exception):
    pass


read_json = nightly.read_json   # one reader of the night's JSON files


def read_secrets(path, what):
    """{name: secret} from "NAME SECRET" lines (# comments). The file must not
    be readable by others: it holds passwords."""
    try:
        st = os.stat(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"cannot read {what} file '{path}': {e.strerror} (create it: one 'NAME PASSWORD' line each)")
    if st.st_mode & 0o077:
        raise ConfigError(f"{what} file '{path}' is readable by others (chmod 600 '{path}')")
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ConfigError(f"{what} file '{path}' line {n}: want 'NAME PASSWORD'")
        out[parts[0]] = parts[1]
    return out


def load(path):
    try:
        cfg = nightly.load_config(path)
    except nightly.ConfigError as e:
        raise ConfigError(str(e))
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    base = os.path.dirname(os.path.abspath(path))
    bb = raw.get("buildbot")
    if not isinstance(bb, dict):
        raise ConfigError(f"config '{path}' needs a \"buildbot\" section (see ci/buildbot/fleet.example.json)")
    names = bb.get("workers")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"config '{path}': \"buildbot\" needs a non-empty \"workers\" list of names")
    if "passwords" not in bb:
        raise ConfigError(f"config '{path}': \"buildbot\" needs \"passwords\": a file outside the repository")
    pw = read_secrets(os.path.join(base, os.path.expanduser(bb["passwords"])), "worker password")
    missing = [n for n in names if n not in pw]
    if missing:
        raise ConfigError(f"no password for worker(s) {', '.join(missing)} in '{bb['passwords']}' (add 'NAME PASSWORD' lines)")
    users = read_secrets(os.path.join(base, os.path.expanduser(bb["www_users"])), "www user") \
        if bb.get("www_users") else {}
    vk = bb.get("vkci") or {}
    if not (isinstance(vk, dict) and (vk.get("git") or vk.get("path"))):
        raise ConfigError(f"config '{path}': \"buildbot\" needs \"vkci\": {{\"git\": URL}} or {{\"path\": DIR}}")
    if vk.get("path"):
        vk = {"path": os.path.abspath(os.path.join(base, os.path.expanduser(vk["path"])))}
    shards = bb.get("shards", len(names))
    if not isinstance(shards, int) or shards < 1:
        raise ConfigError(f"config '{path}': \"shards\" must be a positive number")
    bb = dict(bb, vkci=vk, pb=bb.get("pb", "tcp:9989"), www=bb.get("www", "tcp:8010:interface=127.0.0.1"))
    kernels = []
    for k in raw["kernels"]:
        spec = {key: k[key] for key in ("name", "source", "git", "branch", "kconfig", "coverage",
                                        "jobs", "retries", "workers") if key in k}
        if "workers" in k and (not isinstance(k["workers"], list) or not k["workers"] or
                               not set(k["workers"]) <= set(names)):
            raise ConfigError(f"kernel '{k['name']}': \"workers\" must list some of the buildbot workers "
                              f"({', '.join(names)})")
        for key in ("jobs", "retries", "cache"):
            if key not in spec and key in raw:
                spec[key] = raw[key]
        spec["make_args"] = list(raw.get("make_args", [])) + list(k.get("make_args", []))
        kernels.append(spec)
    return {"results": cfg["results"], "kernels": kernels, "shards": shards, "buildbot": bb,
            "workers": [{"name": n, "password": pw[n]} for n in names], "www_users": users,
            "config": os.path.abspath(path)}
