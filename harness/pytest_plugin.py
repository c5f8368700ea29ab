"""The pytest plugin behind op_cases/, model_cases/ and tests/: options, fixtures, profile."""

import os

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

import harness.cases.profiles  # noqa: E402,F401  (registers the profiles)
from harness.cases.runner import RunConfig, run_test_isolated  # noqa: E402
from harness.results import ResultStore  # noqa: E402
from harness.runtime import provider_name  # noqa: E402

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    group = parser.getgroup("harness")
    group.addoption(
        "--opset",
        default=None,
        help="opsets to export at: '13', '11,17' or '11-15' (default: all)",
    )
    group.addoption(
        "--provider",
        default="cpu",
        help="ONNX Runtime providers, comma separated: cpu, cuda (default: cpu)",
    )
    group.addoption(
        "--records", default=None, help="folder for result records (default: reports/records)"
    )
    group.addoption("--no-records", action="store_true", help="write no result records")
    group.addoption(
        "--replay",
        default=None,
        metavar="VERSION,BLOB",
        help="replay a failing example: the two arguments of the @reproduce_failure(...) "
        "line a failing case prints, e.g. --replay '6.170.17,AXicc2T...' (with -k <case>)",
    )
    group.addoption(
        "--isolate",
        action="store_true",
        help="run each case in a child process, so that a native crash is recorded as "
        "that case's result (against the example that caused it) and the run goes on "
        "(default in the nightly profile)",
    )
    group.addoption(
        "--no-isolate", action="store_true", help="never isolate, even in the nightly profile"
    )
    group.addoption(
        "--isolate-timeout",
        type=float,
        default=900.0,
        help="seconds before an isolated case is killed and recorded as a crash",
    )


def parse_opsets(text):
    if not text:
        return None
    opsets = set()
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-", 1)
            opsets.update(range(int(low), int(high) + 1))
        else:
            opsets.add(int(part))
    return sorted(opsets)


def isolate_by_default(opt, profile: str) -> bool:
    """Isolate on --isolate, and in the nightly profile unless --no-isolate says not to."""
    return bool(opt("--isolate") or (profile == "nightly" and not opt("--no-isolate")))


@pytest.fixture(scope="session")
def harness_config(request):
    opt = request.config.getoption
    store = None if opt("--no-records") else ResultStore(opt("--records"))
    providers = [provider_name(p.strip()) for p in opt("--provider").split(",") if p.strip()]
    profile = settings.get_current_profile_name()
    isolate = isolate_by_default(opt, profile)
    return RunConfig(
        parse_opsets(opt("--opset")),
        providers,
        store,
        profile,
        isolate=isolate,
        isolate_timeout=opt("--isolate-timeout"),
        replay=_replay(opt("--replay")),
    )


def _replay(text):
    if not text:
        return None
    version, _, blob = text.partition(",")
    blob = blob.strip().removeprefix("b").strip("'\"")
    if not blob:
        raise pytest.UsageError("--replay takes VERSION,BLOB as printed by @reproduce_failure")
    return version.strip().strip("'\""), blob.encode()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """With --isolate, run each case test in a forked child (see run_test_isolated)."""
    config = pyfuncitem.funcargs.get("harness_config")
    case = pyfuncitem.funcargs.get("case")
    if not isinstance(config, RunConfig) or not config.isolate or case is None:
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    run_test_isolated(pyfuncitem.obj, kwargs, case, config)
    return True


# --- the reliability tally --------------------------------------------------------------
# Reliability checks put their record in the test report's user_properties (which
# pytest-xdist carries to the controller); the controller adds them up for the summary.

_RELIABILITY: list[dict] = []


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    _RELIABILITY.extend(value for key, value in report.user_properties if key == "reliability")


def pytest_terminal_summary(terminalreporter):
    if not _RELIABILITY:
        return
    bad = sum(1 for r in _RELIABILITY if r.get("bad_input"))
    crashes = sum(1 for r in _RELIABILITY if r.get("status") == "crash")
    wrong = sum(1 for r in _RELIABILITY if r.get("status") not in ("pass", "crash"))
    terminalreporter.write_line(
        f"reliability: {bad} bad inputs tried, {crashes} crashes "
        f"({len(_RELIABILITY)} checks in all, {wrong} not handled as declared)"
    )
