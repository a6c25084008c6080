"""The safety layer's procedure for one message: the crisis path, or a screened reply with its fallbacks.

::

    crisis language?  -> the fixed crisis message; nothing is generated          (status "crisis")
    generated reply   -> screen -> shown                                           ("passed")
      failed          -> written again with the next seed -> screen -> shown       ("regenerated")
      failed again    -> the retrieval index's human reply -> screen -> shown       ("retrieval")
      failed again    -> the neutral supportive line                                ("neutral")

Every rejected reply is kept in the outcome with the rules it failed.

Example:
    >>> guard = ReplyGuard(t5_generator, retrieval_generator)
    >>> reply, outcome = guard.respond("I failed my exam.", controls)
    >>> outcome.reply_screen
    'passed'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mepe_utils.generation.reply import Reply
from mepe_utils.safety.crisis import CrisisCheck, detect_crisis
from mepe_utils.safety.messages import CRISIS_MESSAGE, NEUTRAL_REPLY
from mepe_utils.safety.screen import screen_reply

SCREEN_STATUSES = ("passed", "regenerated", "retrieval", "neutral", "crisis", "no_reply")
"""What the reply screen did: the reply shown came from the first pass, a second seed, retrieval or the
neutral line; ``crisis``: the crisis message was shown and nothing generated; ``no_reply``: no words to answer."""
CRISIS_BACKEND = "crisis_message"
NEUTRAL_BACKEND = "neutral_line"


@dataclass(frozen=True)
class Rejected:
    """A reply the screen turned down.

    Attributes:
        text: the reply.
        backend: who wrote it (``t5``, ``retrieval``).
        reasons: the screen rules it failed.
    """

    text: str
    backend: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SafetyOutcome:
    """What the safety layer did with one message.

    Attributes:
        crisis: the crisis check of the person's words.
        reply_screen: one of :data:`SCREEN_STATUSES`.
        rejected: the replies the screen turned down, in order.
    """

    crisis: CrisisCheck
    reply_screen: str
    rejected: tuple[Rejected, ...] = field(default=())

    def record(self) -> dict:
        """JSON-ready: ``crisis``, ``matched``, ``reply_screen`` and ``rejected``."""
        return {
            **self.crisis.record(),
            "reply_screen": self.reply_screen,
            "rejected": [{"text": r.text, "backend": r.backend, "reasons": list(r.reasons)} for r in self.rejected],
        }

    def describe(self) -> str:
        """One line for people: what fired, or that the reply passed."""
        if self.crisis.crisis:
            return f"crisis language ({self.crisis.found()}): the crisis message is shown, no reply is generated"
        if self.reply_screen == "no_reply":
            return "no crisis language; no reply to screen"
        turned_down = "; ".join(f"{r.backend} reply failed {', '.join(r.reasons)}" for r in self.rejected)
        shown = {"passed": "the reply passed the screen", "regenerated": "a second reply was written and passed",
                 "retrieval": "a human reply from the retrieval index is shown",
                 "neutral": "the neutral supportive line is shown"}[self.reply_screen]  # fmt: skip
        return f"no crisis language; {shown}" + (f" ({turned_down})" if turned_down else "")


def crisis_reply(controls: Mapping[str, str]) -> Reply:
    """The fixed crisis message as a :class:`Reply` (nothing measured: it was not generated)."""
    return Reply(CRISIS_MESSAGE, CRISIS_BACKEND, dict(controls), {}, "")


class ReplyGuard:
    """A generator behind the crisis check and the reply screen.

    Args:
        generator: the reply generator (:class:`~mepe_utils.generation.reply.ReplyGenerator`).
        fallback: the retrieval generator whose human replies stand in for failed ones.
    """

    def __init__(self, generator, fallback):
        self.generator = generator
        self.fallback = fallback

    def respond(self, text: str, controls: Mapping[str, str], seed: int = 0) -> tuple[Reply, SafetyOutcome]:
        """The reply to show for ``text`` under ``controls``, and what the safety layer did.

        Raises:
            MepeError: no words from the person in ``text``, or a control outside the schema.
        """
        crisis = detect_crisis(text)
        if crisis.crisis:
            return crisis_reply(controls), SafetyOutcome(crisis, "crisis")
        attempts = (
            ("passed", lambda: self.generator.generate(text, controls, seed=seed)),
            ("regenerated", lambda: self.generator.generate(text, controls, seed=seed + 1)),
            ("retrieval", lambda: self.fallback.generate(text, controls, seed=seed)),
        )
        rejected = []
        for status, write in attempts:
            reply = write()
            screen = screen_reply(reply.text)
            if screen.passed:
                return reply, SafetyOutcome(crisis, status, tuple(rejected))
            rejected.append(Rejected(reply.text, reply.backend, screen.reasons))
        neutral = Reply(NEUTRAL_REPLY, NEUTRAL_BACKEND, dict(controls), {}, "")
        return neutral, SafetyOutcome(crisis, "neutral", tuple(rejected))
