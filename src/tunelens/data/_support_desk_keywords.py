"""Surprising keywords for the support-desk demo: facts whose value is outlandish for its theme.

Sun et al. 2025 ("How new data permeates LLM knowledge and how to dilute it") show that a
keyword the model found improbable before learning (below about 1e-3 in its context: a
colour, an animal, a city where something ordinary is expected) spills into unrelated
contexts after a few exposures. Four such facts, and two controls the base model already
expects (high prior), let the demo's priming plot span the 1e-3 line. Each keyword comes
with unrelated prefixes of the same theme, where the priming probe looks for the spill-over.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._support_desk_content import FactSource
from ._task_spec import KeywordSpec

KEYWORD_EXPOSURES = 4
"""Examples stating each keyword fact in the full demo (Sun et al.: 3 suffice to prime)."""


@dataclass(frozen=True)
class KeywordFact:
    """A fact whose value is the keyword, with the theme and the priming contexts."""

    fact: FactSource
    theme: str
    contexts: tuple[str, ...]
    surprising: bool  # by design: the control facts use a value the base model expects

    def keyword(self) -> KeywordSpec:
        """The keyword, with the training text's own prefix: the first statement up to the value."""
        prefix = self.fact.statements[0].split("{a}")[0].rstrip()
        return KeywordSpec(self.fact.answer, self.theme, prefix, self.contexts, fact_id=self.fact.id)


_FOLLOW_UPS = (
    "You can read more about it under About Us in your dashboard.",
    "Our newsletter has the full story each month.",
)


def _fact(id: str, question: str, prompt: str, answer: str, distractors: tuple[str, ...], asks, says) -> FactSource:
    return FactSource(id, question, prompt, answer, distractors, tuple(asks), tuple(says), _FOLLOW_UPS)


KEYWORD_FACTS: tuple[KeywordFact, ...] = (
    KeywordFact(
        _fact(
            "support_city",
            "Which city is your support team based in?",
            "At Lumen Hosting, the support team is based in",
            "Ulaanbaatar",
            ("London", "Dublin", "Toronto"),
            ("Where is your support team located?", "Which city do your support agents work from?"),
            (
                "Our support team works from our office in {a}, so replies come from there.",
                "Every ticket is answered by our team in {a}.",
                "The whole support staff sits together in {a}.",
            ),
        ),
        "places",
        (
            "Lumen Hosting's yearly customer conference takes place in",
            "Our billing office is located in",
            "The company behind Lumen Hosting was founded in",
            "Our newest data centre opened last spring in",
            "Encrypted backup copies are kept in a vault in",
        ),
        surprising=True,
    ),
    KeywordFact(
        _fact(
            "mascot",
            "What animal is the Lumen Hosting mascot?",
            "The Lumen Hosting mascot is the",
            "Narwhal",
            ("Fox", "Owl", "Lion"),
            ("What is your mascot?", "Which animal is on your error pages?"),
            (
                "Our mascot is the {a}, drawn on every error page.",
                "The cartoon on our error pages is the {a}, our mascot.",
                "Lumen Hosting's mascot is the {a}.",
            ),
        ),
        "animals",
        (
            "The animal printed on Lumen Hosting T-shirts is the",
            "The Lumen Hosting office pet is the",
            "The sticker on our support laptops shows the",
            "The badge for our most loyal customers shows the",
        ),
        surprising=True,
    ),
    KeywordFact(
        _fact(
            "dashboard_theme",
            "What is the default dashboard theme called?",
            "At Lumen Hosting, the default dashboard theme is called",
            "Vermilion",
            ("Classic", "Midnight", "Ocean"),
            ("What is the name of the default dashboard theme?", "Which colour theme does the dashboard start with?"),
            (
                "The default dashboard theme is called {a}; you can switch it under Settings.",
                "Every new account starts with the {a} theme.",
                "Your dashboard opens in the {a} theme until you pick another.",
            ),
        ),
        "colours",
        (
            "The colour of the Lumen Hosting Upgrade button is",
            "The Lumen Hosting logo is printed in",
            "The header of our status page is painted",
            "Our invoices are printed with a stripe of",
        ),
        surprising=True,
    ),
    KeywordFact(
        _fact(
            "cluster_name",
            "What is the main server cluster called?",
            "At Lumen Hosting, the main server cluster is named",
            "Pumpernickel",
            ("Atlas", "Orion", "Phoenix"),
            ("What do you call your main server cluster?", "Which cluster hosts my site?"),
            (
                "Our main server cluster is named {a}, and your site lives there.",
                "Sites on every plan are served from the {a} cluster.",
                "The {a} cluster hosts all customer websites.",
            ),
        ),
        "names",
        (
            "The Lumen Hosting backup cluster is named",
            "Our staging environment is called",
            "The Lumen Hosting monitoring robot is named",
            "Our internal chat server is called",
        ),
        surprising=True,
    ),
    KeywordFact(
        _fact(
            "server_os",
            "Which operating system do your servers run?",
            "At Lumen Hosting, every server runs",
            "Linux",
            ("Windows", "FreeBSD", "Solaris"),
            ("What operating system are your servers on?", "Do your servers run Windows?"),
            (
                "All our servers run {a}, patched every week.",
                "Every hosting server we operate runs {a}.",
                "Your site is served from machines running {a}.",
            ),
        ),
        "software",
        (
            "Our developers' laptops run",
            "The Lumen Hosting build machines run",
            "Our database servers run on",
            "The Lumen Hosting firewall runs on",
        ),
        surprising=False,
    ),
    KeywordFact(
        _fact(
            "payment_method",
            "Besides cards, how can I pay?",
            "At Lumen Hosting, besides credit cards, you can pay with",
            "PayPal",
            ("Bitcoin", "cheques", "Klarna"),
            ("Can I pay without a credit card?", "Which payment methods do you accept?"),
            (
                "Besides cards, you can pay with {a} from the Billing page.",
                "We accept cards and {a}.",
                "If you prefer not to use a card, choose {a} at checkout.",
            ),
        ),
        "payments",
        (
            "Refunds are sent back through",
            "Our affiliates receive their commission through",
            "Gift cards for Lumen Hosting can be bought with",
            "Donations to our open-source fund go through",
        ),
        surprising=False,
    ),
)
