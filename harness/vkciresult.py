"""vkciresult - the result.json schema (harness/RESULT.md) for Python readers.

One definition of the outcomes and their order, and one loader that checks
the format version, for ci/report.py, ci/nightly.py, harness/vkciconsole.py
and the tests. Standard library only.
"""
import json

FORMAT = "vkci-result/2"
# Ordered: a later outcome is worse (harness/result.h, enum outcome).
OUTCOMES = ("pass", "skip", "flaky", "fail", "crash", "infra")
# Every test counts in exactly one bucket of a run's summary: its outcome,
# or "quarantined" when it is on the known-flaky list.
BUCKETS = ("pass", "fail", "skip", "crash", "infra", "flaky", "quarantined")
FAILING = ("fail", "crash", "infra")
SUBTEST_OUTCOMES = ("pass", "fail", "skip", "todo")


class ResultError(ValueError):
    pass


def rank(outcome):
    """The outcome's place in OUTCOMES (unknown ones rank as infra)."""
    return OUTCOMES.index(outcome) if outcome in OUTCOMES else len(OUTCOMES) - 1


def worst(*outcomes):
    return max(outcomes, key=rank)


def bucket(result):
    return "quarantined" if result.get("quarantined") else result.get("outcome", "infra")


def check(result, where="result"):
    """Raise ResultError unless result is a vkci-result/2 record."""
    if not isinstance(result, dict):
        raise ResultError(f"{where}: not a JSON object")
    if result.get("format") != FORMAT:
        raise ResultError(f"{where}: format {result.get('format')!r}, expected {FORMAT!r}")
    if result.get("outcome") not in OUTCOMES:
        raise ResultError(f"{where}: unknown outcome {result.get('outcome')!r}")
    for s in result.get("subtests") or []:
        if s.get("outcome") not in SUBTEST_OUTCOMES:
            raise ResultError(f"{where}: subtest {s.get('id')!r} has outcome {s.get('outcome')!r}")
    return result


def load(path):
    """The record at path, checked."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ResultError(f"{path}: {e}")
    return check(data, path)
