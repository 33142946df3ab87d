"""regime: a declarative policy-as-code engine. Load packs once, evaluate facts many times.

import engine
packs = engine.load("policies/")
decision = packs.evaluate("some_pack", facts, as_of=date(2020, 7, 1), audience="custodial")
"""

from engine.api import STAGES, Packs, as_date, check_paths, evaluate, load
from engine.evaluation.decision import Decision
from engine.problems import EvaluationError, FactsError, PackError, Problem

__all__ = [
    "Decision",
    "EvaluationError",
    "FactsError",
    "PackError",
    "STAGES",
    "Packs",
    "as_date",
    "Problem",
    "check_paths",
    "evaluate",
    "load",
]
