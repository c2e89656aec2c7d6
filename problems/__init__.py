"""What the proposer draws from: the topic taxonomy and the verified seed problems."""

from problems.loader import SeedProblem, load_seeds
from problems.taxonomy import Difficulty, Taxonomy, Topic, load_taxonomy

__all__ = ["Difficulty", "SeedProblem", "Taxonomy", "Topic", "load_seeds", "load_taxonomy"]
