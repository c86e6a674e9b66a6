"""Fine-tuning recipes (LoRA, full) over one shared SFT loop."""

from tunelens.tuning._recipes import RECIPES, Recipe
from tunelens.tuning._sft import TrainConfig, encode_conversation, train
from tunelens.tuning._tune import TuneResult, read_training_info, tune

__all__ = [
    "RECIPES",
    "Recipe",
    "TrainConfig",
    "TuneResult",
    "encode_conversation",
    "read_training_info",
    "train",
    "tune",
]
