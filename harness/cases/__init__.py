"""Declared cases and the generic pytest glue that runs them."""

from __future__ import annotations

import pytest
from hypothesis import given
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
    @given(data=st.data())
    def test_op(case, data, harness_config):
        if not case_opsets(case, harness_config):
            pytest.skip(f"{case.id}: no selected opset is in the range this case runs at")
        program = data.draw(case.programs, label=case.id)
        run_case(case, program, harness_config)

    return test_op


def model_tests(cases: list[ModelCase]):
    """Return one pytest test exporting and verifying every model of ``cases``."""

    @pytest.mark.model
    @pytest.mark.parametrize("case", _params(cases))
    def test_model(case, harness_config):
        run_model_case(case, harness_config)

    return test_model
