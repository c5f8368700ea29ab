"""The pytest plugin behind op_cases/, model_cases/ and tests/: options, fixtures, profile."""

import os

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

import harness.cases.profiles  # noqa: E402,F401  (registers the profiles)
from harness.cases.runner import RunConfig  # noqa: E402
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


@pytest.fixture(scope="session")
def harness_config(request):
    opt = request.config.getoption
    store = None if opt("--no-records") else ResultStore(opt("--records"))
    providers = [provider_name(p.strip()) for p in opt("--provider").split(",") if p.strip()]
    profile = settings.get_current_profile_name()
    return RunConfig(parse_opsets(opt("--opset")), providers, store, profile)
