"""Hypothesis settings profiles, registered in one place.

- ``ci``: the quick default under pytest; derandomized so CI is reproducible.
- ``dev``: more examples, random seeds, for working on one op.
- ``nightly``: many examples for the regression sweep.
"""

from hypothesis import HealthCheck, Phase, settings

_COMMON = dict(
    deadline=None,  # the first example of a case pays for tracing and imports
    print_blob=True,  # a failure prints the @reproduce_failure line that replays it
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)

settings.register_profile("ci", max_examples=8, derandomize=True, database=None, **_COMMON)
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile(
    "nightly", max_examples=150, phases=list(Phase), database=None, **_COMMON
)
PROFILES = ("ci", "dev", "nightly")
