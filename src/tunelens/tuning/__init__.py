"""Fine-tuning recipes (LoRA, full, SVF) over one shared SFT loop, and options that compose
with them (ignore-k update pruning, parameter isolation, general-data mixing); ``split``
trains the patterns of a data set and sends its facts to a retrieval fact sheet."""

from tunelens.tuning._recipes import RECIPES, Recipe
from tunelens.tuning._sft import TrainConfig, encode_conversation, train
from tunelens.tuning._split import SPLIT, SPLIT_MODES, SplitOptions, plan_split, split_recipe
from tunelens.tuning._tune import MethodOptions, TuneResult, read_training_info, tune

__all__ = [
    "MethodOptions",
    "RECIPES",
    "Recipe",
    "SPLIT",
    "SPLIT_MODES",
    "SplitOptions",
    "TrainConfig",
    "TuneResult",
    "encode_conversation",
    "plan_split",
    "split_recipe",
    "read_training_info",
    "train",
    "tune",
]
