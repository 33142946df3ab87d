"""regime: a declarative policy-as-code engine. Load packs once, evaluate facts many times.

    import engine
    packs = engine.load("policies/")
    decision = packs.evaluate("some_pack", facts, as_of=date(2020, 7, 1), audience="custodial")
"""

from .decision import Decision
from .load import Packs, check_paths, evaluate, load
from .problems import EvaluationError, FactsError, PackError, Problem

__all__ = [
    "Decision",
    "EvaluationError",
    "FactsError",
    "PackError",
    "Packs",
    "Problem",
    "check_paths",
    "evaluate",
    "load",
]
