"""Declared cases and the generic pytest glue that runs them."""

from __future__ import annotations

import pytest
from hypothesis import Phase, given, reproduce_failure, settings
from hypothesis import strategies as st

from harness.cases.runner import RunConfig, case_opsets, run_case, run_model_case
from harness.cases.spec import CaseProgram, ModelCase, OpCase

__all__ = ["CaseProgram", "ModelCase", "OpCase", "RunConfig", "case_tests", "model_tests"]


def _params(cases):
    params = []
    for case in cases:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def case_tests(cases: list[OpCase]):
    """Return one pytest test that runs every case of ``cases``, ids ``<op>-<variant>``.

    Assign it to a ``test_<family>`` name in the family's case module.
    """

    @pytest.mark.parametrize("case", _params(cases))
    def test_op(case, harness_config):
        if not case_opsets(case, harness_config):
            pytest.skip(f"{case.id}: no selected opset is in the range this case runs at")
        _examples(case, harness_config)()

    return test_op


def _examples(case: OpCase, config: RunConfig):
    """Build the Hypothesis test drawing examples of ``case`` under the current profile."""

    def examples(data):
        run_case(case, data.draw(case.programs, label=case.id), config)

    # The name feeds Hypothesis's example database key: one key per case.
    ident = "".join(c if c.isalnum() else "_" for c in case.id)
    examples.__name__ = examples.__qualname__ = f"examples_{ident}"
    test = given(data=st.data())(examples)
    if case.xfail:
        # A declared gap only has to show itself once; shrinking its failure would rerun
        # capture and export dozens of times to minimise an example nobody reads.
        test = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])(test)
    if config.replay is not None:
        test = reproduce_failure(*config.replay)(test)
    return test


def model_tests(cases: list[ModelCase]):
    """Return one pytest test exporting and verifying every model of ``cases``."""

    @pytest.mark.model
    @pytest.mark.parametrize("case", _params(cases))
    def test_model(case, harness_config):
        run_model_case(case, harness_config)

    return test_model
