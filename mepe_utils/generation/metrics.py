"""Reply quality against references: ROUGE-L, BLEU-2, distinct-n, and control adherence.

Words are lower-cased word and punctuation tokens (``\\w+(?:'\\w+)?`` or one mark), as
ESConv papers tokenise with NLTK.

- **ROUGE-L** (Lin 2004): the F1 of the longest common subsequence of reply and
  reference, averaged over replies, in percent.
- **BLEU-2** (Papineni et al. 2002): corpus-level, the geometric mean of the clipped
  1- and 2-gram precisions times the brevity penalty, in percent.
- **distinct-n** (Li et al. 2016): distinct n-grams over all n-grams of all replies,
  a fraction (the diversity of what a model says across contexts).
- **adherence**: for pairs of replies asked for a control's lowest and highest value,
  the share where the "high" reply measures higher, ties counting half (so a model
  that ignores the control scores 0.5).

Example:
    >>> round(rouge_l("i am sorry to hear that", "sorry to hear that !"), 3)
    0.727
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def words(text: str) -> list[str]:
    """The lower-cased word and punctuation tokens of ``text``."""
    return _WORD.findall(text.lower())


def _lcs(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for column, other in enumerate(b, start=1):
            current.append(previous[column - 1] + 1 if token == other else max(previous[column], current[-1]))
        previous = current
    return previous[-1]


def rouge_l(reply: str, reference: str) -> float:
    """ROUGE-L F1 of one reply against its reference, in [0, 1]."""
    a, b = words(reply), words(reference)
    if not a or not b:
        return 0.0
    common = _lcs(a, b)
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(replies: Sequence[str], references: Sequence[str], max_n: int = 2) -> float:
    """Corpus BLEU with 1..``max_n``-grams, uniform weights, one reference per reply, in [0, 1]."""
    matched, total = [0] * max_n, [0] * max_n
    reply_length = reference_length = 0
    for reply, reference in zip(replies, references, strict=True):
        a, b = words(reply), words(reference)
        reply_length += len(a)
        reference_length += len(b)
        for n in range(1, max_n + 1):
            grams, reference_grams = _ngrams(a, n), _ngrams(b, n)
            matched[n - 1] += sum(min(count, reference_grams[gram]) for gram, count in grams.items())
            total[n - 1] += max(len(a) - n + 1, 0)
    if min(matched) == 0 or reply_length == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matched, total, strict=True)) / max_n
    brevity = 1.0 if reply_length > reference_length else math.exp(1 - reference_length / reply_length)
    return brevity * math.exp(log_precision)


def distinct_n(replies: Sequence[str], n: int) -> float:
    """Distinct n-grams over all n-grams across ``replies`` (0 when there are none)."""
    grams = Counter()
    for reply in replies:
        grams.update(_ngrams(words(reply), n))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def quality(replies: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """``rouge_l`` and ``bleu_2`` (percent), ``distinct_1`` and ``distinct_2`` (fractions), ``mean_words``."""
    return {
        "rouge_l": 100.0 * float(np.mean([rouge_l(r, t) for r, t in zip(replies, references, strict=True)])),
        "bleu_2": 100.0 * corpus_bleu(replies, references, 2),
        "distinct_1": distinct_n(replies, 1),
        "distinct_2": distinct_n(replies, 2),
        "mean_words": float(np.mean([len(r.split()) for r in replies])) if replies else 0.0,
    }


def adherence(low_scores: Sequence[float], high_scores: Sequence[float]) -> float:
    """The share of pairs whose "high" reply measures above its "low" reply, ties counting half."""
    low, high = np.asarray(low_scores, np.float64), np.asarray(high_scores, np.float64)
    if len(low) == 0:
        raise ValueError("adherence needs at least one pair")
    return float(np.mean((high > low) + 0.5 * (high == low)))
