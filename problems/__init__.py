"""What the proposer draws from: the topic taxonomy, the verified seed problems, and the run's
plan over them (a pure function of taxonomy, seeds and seed)."""

from problems.loader import SeedProblem, load_seeds
from problems.plan import SlotPlan, StratifiedPlan
from problems.taxonomy import Difficulty, Taxonomy, Topic, load_taxonomy

__all__ = [
    "Difficulty",
    "SeedProblem",
    "SlotPlan",
    "StratifiedPlan",
    "Taxonomy",
    "Topic",
    "load_seeds",
    "load_taxonomy",
]
