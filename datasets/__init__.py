"""Dataset side of imagine-bench: the challenge-layout adapter and the simulator.

This package knows files and arrays, nothing about decoders or scores. Note that
its import name, ``datasets``, is also that of Hugging Face's package: install
imagine-bench in its own virtual environment.
"""

from datasets.adapter import ChallengeDataset
from datasets.layout import CHANCE, CLASS_NAMES, EVENT_ID
from datasets.records import Block, SubjectData

__all__ = ["Block", "ChallengeDataset", "SubjectData", "CHANCE", "CLASS_NAMES", "EVENT_ID"]
