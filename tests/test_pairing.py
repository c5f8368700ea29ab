"""The pairing invariant: every mapping has a case, every case names a mapping."""

from harness.cases.catalog import op_cases
from harness.export import registry


def _all_cases():
    return [c for cases in op_cases().values() for c in cases]


def test_every_mapping_has_a_passing_case():
    proven = {c.op for c in _all_cases() if not c.xfail}
    missing = sorted(set(registry()) - proven)
    assert not missing, f"mappings with no (non-xfail) case: {missing}"


def test_every_case_targets_a_mapping_or_declares_why_not():
    maps = registry()
    orphans = [c.id for c in _all_cases() if c.op not in maps and not c.xfail]
    assert not orphans, f"cases whose op has no mapping and no xfail reason: {orphans}"


def test_cases_live_in_the_family_of_their_mapping():
    maps = registry()
    misplaced = [
        f"{c.id} is in op_cases/test_{family}.py, its mapping in harness/export/"
        f"{maps[c.op].family}.py"
        for family, cases in op_cases().items()
        for c in cases
        if c.op in maps and maps[c.op].family != family
    ]
    assert not misplaced, "\n".join(misplaced)


def test_case_ids_are_unique():
    ids = [c.id for c in _all_cases()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_xfail_reasons_are_sentences():
    short = [c.id for c in _all_cases() if c.xfail is not None and len(c.xfail.strip()) < 15]
    assert not short, f"xfail reasons too short to explain the gap: {short}"
