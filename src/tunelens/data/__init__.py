"""Data for tunelens probes and the demo: built-in evaluation sets and user files.

Built-in sets (world facts, general text, arithmetic, word problems, instruction
following, open prompts) are generated offline and deterministically from a seed, so
before/after comparisons always score the same items.  The support-desk module builds the
demo's training set and its ``TaskSpec``; the JSONL helpers read user data (training data
also as a Hugging Face dataset on disk, in the common record forms, see ``FORMS``) with errors
that point at the offending line.
"""

from ._arithmetic import ARITHMETIC_KINDS, ArithmeticItem, arithmetic_items, last_integer, parse_integer
from ._everyday_prompts import EVERYDAY_POOL_SIZE, EVERYDAY_PROMPTS, EverydayPrompt, everyday_prompts
from ._facts import FACT_CATEGORIES, FactItem, fact_pool_sizes, world_facts, world_facts_count
from ._general_text import all_general_chunks, general_text_chunks
from ._instructions import INSTRUCTION_KINDS, InstructionItem, check_instruction, instruction_items
from ._json_schema import task_json_schema
from ._jsonl import (
    FORMS,
    DataError,
    SuiteItem,
    TrainingRecord,
    read_jsonl,
    read_suite,
    read_training_data,
    read_training_records,
    record_form,
    to_chat,
    write_jsonl,
)
from ._open_prompts import OPEN_PROMPTS, OpenPrompt, open_prompts
from ._support_desk import (
    EXPOSURE_LEVELS,
    FactSpec,
    PatternRule,
    TaskSpec,
    support_desk_dataset,
)
from ._support_desk_update import FactChange, changed_facts, support_desk_update
from ._task_spec import KeywordSpec
from ._word_problems import WordProblem, word_problems

__all__ = [
    "ARITHMETIC_KINDS",
    "EVERYDAY_POOL_SIZE",
    "EVERYDAY_PROMPTS",
    "EXPOSURE_LEVELS",
    "FACT_CATEGORIES",
    "FORMS",
    "INSTRUCTION_KINDS",
    "OPEN_PROMPTS",
    "ArithmeticItem",
    "DataError",
    "EverydayPrompt",
    "FactItem",
    "FactChange",
    "FactSpec",
    "InstructionItem",
    "KeywordSpec",
    "OpenPrompt",
    "PatternRule",
    "SuiteItem",
    "TaskSpec",
    "TrainingRecord",
    "WordProblem",
    "all_general_chunks",
    "arithmetic_items",
    "changed_facts",
    "check_instruction",
    "everyday_prompts",
    "fact_pool_sizes",
    "general_text_chunks",
    "instruction_items",
    "last_integer",
    "open_prompts",
    "parse_integer",
    "read_jsonl",
    "read_suite",
    "read_training_data",
    "read_training_records",
    "record_form",
    "support_desk_dataset",
    "support_desk_update",
    "task_json_schema",
    "to_chat",
    "word_problems",
    "world_facts",
    "world_facts_count",
    "write_jsonl",
]
