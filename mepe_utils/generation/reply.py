"""What every reply generator returns, and the interface they share.

A :class:`ReplyGenerator` answers ``generate(context, controls, *, seed) -> Reply``;
the backends are the T5 (:mod:`mepe_utils.generation.t5`) and retrieval
(:mod:`mepe_utils.generation.retrieval`). ``context`` is the dialogue so far as
``(speaker, text)`` turns, ``"usr"`` for the person and ``"sys"`` for MEPE, or
just the person's words as a string.

Example:
    >>> reply = generator.generate("I feel overwhelmed.", controls)
    >>> reply.text, reply.backend, reply.controls_measured["empathy_level"]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from mepe_utils.data.esconv import SEEKER
from mepe_utils.errors import MepeError

Context = str | Sequence[tuple[str, str]]


@dataclass
class Reply:
    """A generated reply.

    Attributes:
        text: the reply.
        backend: ``t5``, ``retrieval`` ... (the generator that wrote it).
        controls_requested: the control values it was asked to follow.
        controls_measured: the control values measured on it (:mod:`mepe_utils.generation.measure`).
        prompt: what the generator read (the T5's prompt; the retrieved row for retrieval).
        seed: the sampling seed that drew it; None when nothing was drawn (greedy decoding,
            retrieval, a fixed text), so a record tells how to write the same reply again.
    """

    text: str
    backend: str
    controls_requested: dict[str, str]
    controls_measured: dict[str, str]
    prompt: str = ""
    seed: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class ReplyGenerator(Protocol):
    """A backend that writes replies under controls."""

    name: str

    def generate(self, context: Context, controls: Mapping[str, str], *, seed: int = 0) -> Reply:
        """A reply to ``context`` following ``controls`` (control name -> value)."""
        ...


def as_turns(context: Context) -> list[tuple[str, str]]:
    """The context as ``(speaker, text)`` turns: a string is one seeker turn.

    Raises:
        MepeError: no seeker words.
    """
    turns = [(SEEKER, context)] if isinstance(context, str) else [(s, t) for s, t in context]
    if not any(speaker == SEEKER and str(text).strip() for speaker, text in turns):
        raise MepeError("nothing to reply to: the context holds no words from the person")
    return turns


def latest_message(turns: Sequence[tuple[str, str]]) -> str:
    """The person's latest words."""
    return next(text for speaker, text in reversed(turns) if speaker == SEEKER and text.strip())
