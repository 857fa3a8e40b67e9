"""The stop rule as one value: every map-iterating API takes ``rule=`` or the five keywords."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import eosfast
from eosfast.stoprule import StopRule

RULE = StopRule(steps=700, tol=1e-10, escape=500.0, max_period=16, period_tol=1e-6)
KEYWORDS = dict(steps=700, tol=1e-10, escape=500.0, max_period=16, period_tol=1e-6)


def test_a_rule_and_its_keywords_give_the_same_grid_and_the_same_params():
    a = eosfast.grid(res=24, rule=RULE)
    b = eosfast.grid(res=24, **KEYWORDS)
    for name in ("status", "steps", "period", "sharpness"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    assert a.params == b.params
    assert {k: a.params[k] for k in KEYWORDS} == KEYWORDS  # the file's params hold the rule


def test_refine_and_zoom_take_the_rule_too(tmp_path):
    a = eosfast.refine(base=9, levels=1, verify=0, rule=RULE)
    b = eosfast.refine(base=9, levels=1, verify=0, **KEYWORDS)
    assert a.spec == b.spec and a.spec.rule == RULE
    assert np.array_equal(a.raster().status, b.raster().status)
    z = eosfast.zoom(levels=1, res=64, rule=RULE, out=tmp_path / "z.h5", animation=None,
                     filmstrip=None)
    assert {k: z.params[k] for k in KEYWORDS} == KEYWORDS


@pytest.mark.parametrize("call", [
    lambda: eosfast.grid(res=8, rule=RULE, steps=10),
    lambda: eosfast.refine(base=9, levels=1, rule=RULE, escape=10.0),
])
def test_a_rule_and_keywords_at_once_are_refused_naming_rule(call):
    with pytest.raises(eosfast.InvalidArgument, match="not both") as info:
        call()
    assert info.value.names[0] == "rule"


def test_a_rule_is_checked_like_the_keywords():
    with pytest.raises(eosfast.InvalidArgument, match="steps"):
        eosfast.grid(res=8, rule=StopRule(steps=0))
    with pytest.raises(eosfast.InvalidArgument, match="StopRule"):
        eosfast.grid(res=8, rule=(700, 1e-10))


def test_a_rule_travels_to_worker_processes_whole():
    assert pickle.loads(pickle.dumps(RULE)) == RULE
    assert StopRule.from_params(RULE.params()) == RULE
