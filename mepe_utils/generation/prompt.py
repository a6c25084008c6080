"""The prompt a reply generator reads: the controls spelled out in words, an exemplar reply, the dialogue.

One format for every T5 (the one trained here and a fine-tuned Flan-T5)::

    empathy=high style=calm assertiveness=low formality=casual | exemplar: <a human reply to a similar
    message> | dialogue: supporter: ... seeker: ... supporter: ... seeker: <their latest words>

The controls come first as four ``name=value`` words (each one symbol of the trained tokenizer,
:data:`CONTROL_SYMBOLS`), so a long dialogue can never push them out of the encoder's window;
the dialogue is cut from its oldest end to a word budget, so the seeker's latest words, which the
reply answers, are always read. The exemplar is the retrieval backend's reply to the nearest
training message (:mod:`mepe_utils.generation.retrieval`): the model learns to adapt a human
reply to this dialogue and these controls (retrieve and refine).

Example:
    >>> controls = {"empathy_level": "High", "response_style": "Calm", "assertiveness": "Low", "formality": "Casual"}
    >>> build_prompt([("usr", "I lost my job.")], controls)
    'empathy=high style=calm assertiveness=low formality=casual | exemplar: none | dialogue: seeker: I lost my job.'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mepe_utils.data.esconv import SEEKER, SUPPORTER
from mepe_utils.errors import MepeError
from mepe_utils.persona.schema import CONTROLS

PROMPT_NAMES = {
    "empathy_level": "empathy",
    "response_style": "style",
    "assertiveness": "assertiveness",
    "formality": "formality",
}
"""Each control's name in the prompt."""
CONTROL_SYMBOLS = tuple(
    f"{PROMPT_NAMES[name]}={value.lower()}" for name, values in CONTROLS.items() for value in values
)
"""Every ``name=value`` word a prompt can hold (user-defined symbols of the trained tokenizer)."""
SPEAKER_NAMES = {SEEKER: "seeker:", SUPPORTER: "supporter:"}
NO_EXEMPLAR = "none"


@dataclass(frozen=True)
class PromptConfig:
    """How much of the dialogue and the exemplar a prompt keeps, in words.

    Attributes:
        dialogue_words: the dialogue's budget, filled from the newest turn back.
        exemplar_words: the exemplar's first words kept.
    """

    dialogue_words: int = 60
    exemplar_words: int = 30


def control_words(controls: Mapping[str, str]) -> str:
    """``empathy=high style=calm assertiveness=low formality=casual`` from a control -> value mapping.

    Raises:
        MepeError: a control missing or a value outside its set (:data:`~mepe_utils.persona.schema.CONTROLS`).
    """
    words = []
    for name, values in CONTROLS.items():
        value = controls.get(name)
        if value not in values:
            raise MepeError(f"control {name}: {value!r} is not one of {values}")
        words.append(f"{PROMPT_NAMES[name]}={value.lower()}")
    return " ".join(words)


def dialogue_words(context: Sequence[tuple[str, str]], budget: int) -> str:
    """The dialogue as ``speaker: words``: the newest turns that fit in ``budget`` words.

    The newest turn is always kept (cut to its last words when it alone exceeds the budget);
    an older turn that does not fit whole is left out with everything before it.
    """
    kept: list[str] = []
    for speaker, text in reversed(context):
        words = text.split()
        if not kept:
            kept = [SPEAKER_NAMES[speaker], *words[-(budget - 1) :]]
        elif len(kept) + len(words) + 1 <= budget:
            kept = [SPEAKER_NAMES[speaker], *words, *kept]
        else:
            break
    return " ".join(kept)


def build_prompt(
    context: Sequence[tuple[str, str]],
    controls: Mapping[str, str],
    exemplar: str | None = None,
    config: PromptConfig = PromptConfig(),
) -> str:
    """The prompt for a reply to ``context`` under ``controls``, with an exemplar reply when there is one.

    Args:
        context: the dialogue so far as ``(speaker, text)`` turns (``"usr"`` the seeker, ``"sys"``
            the supporter), oldest first; one seeker turn is enough.
        controls: control name -> value (:data:`~mepe_utils.persona.schema.CONTROLS`).
        exemplar: a human reply to a similar message, or None.
        config: the word budgets.

    Returns:
        The prompt string (the module docstring shows its format).

    Raises:
        MepeError: no seeker words in ``context``, or a control outside the schema.
    """
    if not any(speaker == SEEKER and text.strip() for speaker, text in context):
        raise MepeError("a prompt needs the seeker's words: the context has no seeker turn")
    exemplar_text = " ".join(exemplar.split()[: config.exemplar_words]) if exemplar else NO_EXEMPLAR
    dialogue = dialogue_words([(s, t) for s, t in context if t.strip()], config.dialogue_words)
    return f"{control_words(controls)} | exemplar: {exemplar_text} | dialogue: {dialogue}"
