"""Crisis language in a person's words: suicide, self-harm, harm to others, abuse happening now.

The detector is a table of patterns written for MEPE (:data:`CRISIS_PATTERNS`), read over
the lower-cased text with apostrophes and spaces normalised. It is tuned for recall: the
patterns accept common misspellings and shorthand ("kil myself", "sucide", "kms"), and any
one match is enough. Figures of speech are kept out by how the patterns are written (they
name the first person, the act and its object: "kill myself", not "killing me"; "want to
die", not "dying to"; "hurt him", not "hurt my knee"). :data:`IDIOMS` are taken out of the
text first ("killing myself laughing", "shoot my shot"), and :data:`NOT_CRISIS_PATTERNS`
clear a harm-to-others match made in jest ("haha", "lol") and a self-harm match that was an
accident ("cut my arm cooking"); laughter never clears words about hurting oneself.

``mepe bench-safety`` measures recall and false alarms on ``tests/data/safety_messages.csv``
(written for MEPE, not copied from a data set). The patterns were written against that
set, so its numbers are a floor check, not an unbiased estimate; the held-out test of a
detector like this is real people's messages, which it will sometimes miss.

Example:
    >>> detect_crisis("i want to kil myself").crisis
    True
    >>> detect_crisis("This traffic is killing me.").crisis
    False
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CATEGORIES = ("suicide", "self_harm", "harm_to_others", "abuse")

_I = r"(?:i|i'm|im|i am|i've|ive|i'll|ill|i will|i'd|id)"
_SUICIDE = r"su\w{0,3}cid\w*"  # suicide, suicidal, sucide, suicidle
_LIFE = r"l\w?[fi]\w?[ef]\w*"  # life, lfie
_WANT = r"(?:want|wanna|wnat|wamt|need|going|gonna|ready|wish|deserve|plan(?:ning)?|have)"
_PILLS = r"(?:pills|tablets|meds|medication)"
_STORED_DRUGS = r"(?:pills|tablets|meds|medication|medicine|antidepressants|painkillers)"
_HEIGHTS = r"(?:bridge|roof|ledge|balcony|building)"
_PERSON = (
    r"(?:husband|wife|partner|boyfriend|girlfriend|baby|son|daughter|kids?|child(?:ren)?|mom|mother|dad|father"
    r"|brother|sister|boss|co-?worker|colleague|neighbou?r|roommate|friend|teacher|ex|family|parents|classmate"
    r"|teammate|guy|man|woman|girl|boy|person|bitch|bastard)"
)
_ABUSER = (
    r"(?:he|she|they|he's|she's|someone|somebody|my\s+(?:[\w']+\s+)?(?:husband|wife|partner|boyfriend|girlfriend|dad"
    r"|father|mom|mother|stepfather|stepdad|stepmother|stepmom|uncle|aunt|brother|sister|parents?|boss|coach"
    r"|teacher|ex))"
)
_HARM_VERB = r"(?:kill|hurt|hurting|stab|stabbing|shoot|shooting|murder|strangle|beat|cut)\w*"
_HARM_OBJECT = (
    rf"(?:him|her|them|you|every(?:one|body)|all|people|some(?:one|body)|(?:my|the|that|this|his|her|our)\s+{_PERSON})"
)

CRISIS_PATTERNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # (category, name, alternatives)
    ("suicide", "kill myself", (r"\bk+i+l+l*(?:ing|ed)?\s*(?:my\s*self|myslef|meself)\b", r"\bkms\b")),
    ("suicide", "off myself", (r"\b(?:to|gonna|wanna|'ll|will|might|should)\s+off\s+my\s*self\b",)),
    (
        "suicide",
        "suicidal",
        (
            rf"\b(?:{_I}|feel|feeling|felt|been|getting|so|very|really|kinda|kind of)\s+(?:\w+\s+)?{_SUICIDE}",
            rf"\b(?:think|thinking|thought|thoughts|considering|commit|committing)\s+(?:about\s+|of\s+)?(?:\w+\s+)?{_SUICIDE}",
            rf"\b{_SUICIDE}\s+(?:note|plan|attempt|thoughts?)\b",
        ),
    ),
    (
        "suicide",
        "want to die",
        (
            rf"\b{_WANT}\s+(?:to\s+)?die\b",
            r"\bwant(?:ed)?\s+to\s+be\s+dead\b",
            r"\bfeel(?:ing)?\s+like\s+dying\b",
            r"\b(?:think|thinking|thought|thoughts)\s+(?:about|of)\s+(?:dying|killing\s+myself|ending\s+it)\b",
            r"\bunalive\w*",
            r"\b(?:stop|cease\s+to)\s+exist(?:ing)?\b",
            r"\bwish\s+(?:i\s+had|i'?d)\s+never\s+been\s+born\b",
            r"\bdone\s+with\s+(?:life|living|being\s+alive)\b(?!\s+(?:in|at|on|with|here|there)\b)",
        ),
    ),
    ("suicide", "end my life", (rf"\b(?:end|ending|take|taking|took)\s+(?:my\s+)?(?:own\s+)?{_LIFE}\b",)),
    ("suicide", "end it all", (r"\bend(?:ing)?\s+(?:it\s+all|it|things|everything)\b(?!\s+with\b)",)),
    (
        "suicide",
        "end my suffering",
        (
            r"\bend\s+(?:my|the|all\s+my)\s+(?:suffering|pain)\b",
            r"\b(?:be\s+over|end|stop)[,\s]+(?:for\s+good|forever|permanently)\b",
        ),
    ),
    (
        "suicide",
        "do not want to live",
        (
            r"\b(?:don'?t|do not|no longer|never)\s+want\s+to\s+"
            r"(?:live|be\s+alive|exist|be\s+here|wake\s+up|go\s+on)\b",
            r"\bnever\s+wake\s+up\b",
            r"\bcan'?t\s+go\s+on\s+living\b|\bcannot\s+go\s+on\s+living\b",
        ),
    ),
    (
        "suicide",
        "not worth living",
        (
            r"\b(?:not|isn'?t|no longer)\s+worth\s+living\b",
            r"\bpoint\s+(?:in|of)\s+(?:living|being\s+alive|going\s+on)\b",
            r"\bno\s+reason\s+(?:left\s+)?(?:for\s+me\s+)?to\s+(?:be\s+alive|live|go\s+on|keep\s+(?:going|living)|stay)\b",
            r"\b(?:can'?t|cannot|don'?t|do\s+not|no\s+longer)\s+(?:see|find|think\s+of)\s+(?:any|a)\s+reason\s+(?:left\s+)?"
            r"(?:for\s+me\s+)?to\s+(?:be\s+alive|live|go\s+on|keep\s+(?:going|living))\b",
            r"\bnothing\s+(?:left\s+)?to\s+live\s+for\b",
            r"\b(?:give\s+me|tell\s+me)\s+(?:one|a|any)\s+reason\s+(?:not\s+to\s+(?:die|end\s+it)|to\s+(?:keep\s+living|stay\s+alive))\b",
        ),
    ),
    (
        "suicide",
        "better off dead",
        (
            r"\b(?:wish|rather)\s+(?:i\s+)?(?:was|were|be)\s+dead\b",
            r"\bbetter\s+off\s+(?:dead|without\s+me)\b|\bwould\s+be\s+better\s+without\s+me\b",
            r"\b(?:better|easier)(?:\s+off)?\s+if\s+i\s+(?:died|was\s+dead|were\s+dead|was\s+gone|were\s+gone"
            r"|wasn'?t\s+here|weren'?t\s+here|wasn'?t\s+around|was\s+not\s+here)\b",
        ),
    ),
    (
        "suicide",
        "not here much longer",
        (
            r"\b(?:won'?t|will\s+not)\s+be\s+(?:here|around)\b",
            r"\b(?:no\s*one|nobody)\s+(?:will|would)\s+(?:miss|notice)\s+me\b",
            r"\bdisappear\s+(?:forever|for\s+good|permanently)\b",
        ),
    ),
    (
        "suicide",
        "saying goodbye",
        (
            r"\bgiv(?:en|ing|e)\s+away\s+(?:all\s+)?my\s+(?:things|stuff|belongings|possessions)\b",
            r"\bwon'?t\s+need\s+(?:them|it|these|any\s+of\s+it)\b",
            r"\bgoodbye\s+(?:letters?|notes?)\b|\bsay(?:ing)?\s+goodbye\s+to\s+every(?:one|body)\b",
            r"\bmy\s+(?:last|final)\s+(?:message|goodbye|words)\b",
        ),
    ),
    (
        "suicide",
        "means",
        (
            rf"\bways\s+to\s+(?:die|end\s+it|kill\s+myself)\b|\bhow\s+to\s+(?:die|end\s+my\s+{_LIFE}|kill\s+myself)\b",
            rf"\bhow\s+(?:many|much)\s+(?:\w+\s+)?{_PILLS}\b",
            rf"\b(?:{_I}|gonna|going\s+to|want\s+to|wanna|might|will|can)\s+(?:\w+\s+)?overdos\w*",
            r"\btook\s+(?:too\s+many|a\s+bunch\s+of|all\s+(?:of\s+)?my|a\s+handful\s+of|a\s+lot\s+of|a\s+whole\s+bottle\s+of)"
            rf"\s+(?:\w+\s+)?{_PILLS}\b",
            rf"\bjump(?:ing)?\s+(?:off|from)\s+(?:the|a|my)\s+\w+|\b{_HEIGHTS}\b.{{0,50}}\bjump|\bjump\w*\b.{{0,30}}\b{_HEIGHTS}\b",
            r"\bnoose\b|\brope\s+(?:is\s+)?ready\b|\bhang\s+myself\b",
            # a rope got or about to be, said as the whole of it ("I bought a rope today."), not a rope swing
            r"\b(?:bought|got|ordered|buy|get|order)\s+(?:a|some|the)\s+rope\s*(?:today|tonight|now|already|yesterday)?\s*"
            r"(?:[.!]|$)",
            # a store of pills kept for later, said of oneself
            rf"\b(?:have|got)\s+(?:\w+\s+){{0,2}}{_STORED_DRUGS}\s+(?:saved|stockpiled|hoarded|stashed)\s+(?:up|away)\b",
            rf"\b(?:i'?ve|i\s+have)\s+been\s+(?:stockpiling|hoarding|saving\s+up|stashing)\s+(?:my\s+)?(?:\w+\s+)?"
            rf"{_STORED_DRUGS}\b(?!\s+(?:for|receipts?)\b)",
            rf"\b{_STORED_DRUGS}\b.{{0,60}}\b(?:going\s+to|gonna|will|i'?ll|want\s+to)\s+(?:take|swallow)\s+(?:them|it)\s+all\b",
            r"\b(?:jump|step|throw\s+myself|walk)\s+in\s+front\s+of\s+(?:a|the)\s+(?:train|bus|car|truck)\b",
            r"\bdrive\s+(?:my\s+car\s+)?off\s+(?:a|the)\s+(?:cliff|bridge|road)\b",
            r"\b(?:take|taking|swallow|swallowing)\s+(?:all\s+(?:of\s+)?my|a\s+bunch\s+of|too\s+many|the\s+whole\s+bottle\s+of)"
            rf"\s+(?:\w+\s+)?{_PILLS}\b",
            r"\b(?:gun|pistol|knife|blade)\b.{0,60}\b(?:myself|my\s+head|my\s+wrists?)\b",
        ),
    ),
    ("suicide", "join the dead", (r"\b(?:died|passed|dead|gone)\b.{0,80}\b(?:join|be\s+with)\s+(?:her|him|them)\b",)),
    (
        "self_harm",
        "hurting myself",
        (
            r"\b(?:cut|cuts|cutting|burn|burned|burnt|burning|hurt|hurting|harm|harming|hit|hitting|punish|punishing"
            r"|starve|starving)\s+my\s*self\b",
            r"\b(?:cuts?|cutting|burn|burned|burnt|burning|slit|slitting)\s+my\s+(?:arms?|wrists?|legs?|thighs?|skin)\b",
            r"\bself[\s-]*harm\w*|\bself[\s-]*injur\w*",
            r"\b(?:want|wanna|need|urge|going|gonna)\s+to\s+cut"
            r"(?:\s+(?:tonight|again|so\s+badly?|right\s+now|today))?(?=\s*(?:[.!,?]|$))",
        ),
    ),
    (
        "harm_to_others",
        "harm someone",
        (
            rf"\b(?:{_I}|gonna|going\s+to|want\s+to|wanna|thinking\s+(?:about|of)|plan(?:ning)?\s+to)\s+"
            rf"(?:\w+\s+){{0,2}}{_HARM_VERB}\s+{_HARM_OBJECT}\b",
        ),
    ),
    (
        "abuse",
        "being hurt",
        (
            r"\b(?:is|keeps|kept|has\s+been|have\s+been|was|were|are|started)\s+(?:\w+\s+)?(?:hitting|beating|choking"
            r"|hurting|touching|threatening|strangling|kicking|raping|abusing)\s+me\b",
            rf"\b{_ABUSER}\s+(?:\w+\s+)?(?:beats|hits|chokes|hurts|abuses|rapes|touches|kicks|strangles|choked|beat|hit"
            r"|raped|abused|kicked|strangled|molested)\s+me\b",
            r"\b(?:being|been|getting|got|was|were)\s+(?:abused|beaten|beat\s+up|raped|molested|assaulted|strangled"
            r"|choked)\b",
            r"\bthreaten\w*\s+to\s+(?:kill|hurt|beat)\s+me\b",
            r"\bwon'?t\s+let\s+me\s+(?:leave|go|out)\b|\blocked\s+me\s+in\b|\b(?:i'?m|i\s+am|being)\s+locked\s+in\b",
        ),
    ),
)
"""``(category, name, alternatives)``: any alternative that matches means crisis language."""

IDIOMS = (
    r"\bkill\w*\s+myself\s+laugh\w*|\bshoot\s+(?:my|your|his|her|their)\s+shot\b|\bnot\s+suicidal\b"
    r"|\b(?:haven'?t|have\s+not|never|don'?t|do\s+not|didn'?t)\s+(?:\w+\s+)?(?:thought|think|thinking)\s+(?:about|of)\s+"
    r"(?:dying|suicide|killing\s+myself)\b"
)
"""Phrases taken out of the text before the patterns are read: idioms ("killing myself laughing") and denials
("not suicidal", "I haven't thought about dying"); the rest of the message is still read."""
NOT_CRISIS_PATTERNS: dict[str, str] = {
    "harm_to_others": r"\b(?:haha\w*|lol|lmao|jk|just\s+kidding|kidding)\b|😂|🤣",
    "self_harm": r"\b(?:by\s+accident|accidentally|cooking|chopping|slicing|shaving|slipped)\b",
}
"""Per category: text that clears that category's matches (a threat made in jest, an accident)."""

_COMPILED = tuple((category, name, re.compile("|".join(parts))) for category, name, parts in CRISIS_PATTERNS)
_IDIOMS = re.compile(IDIOMS)
_CLEARING = {category: re.compile(pattern) for category, pattern in NOT_CRISIS_PATTERNS.items()}


@dataclass(frozen=True)
class CrisisMatch:
    """One pattern that matched.

    Attributes:
        category: ``suicide``, ``self_harm``, ``harm_to_others`` or ``abuse``.
        pattern: the pattern's name in :data:`CRISIS_PATTERNS`.
        text: the words it matched.
    """

    category: str
    pattern: str
    text: str


@dataclass(frozen=True)
class CrisisCheck:
    """What :func:`detect_crisis` found.

    Attributes:
        crisis: True when any crisis pattern matched.
        matches: the patterns that matched.
    """

    crisis: bool
    matches: tuple[CrisisMatch, ...] = ()

    def found(self) -> str:
        """What matched, for people: ``suicide: 'kill myself', abuse: 'hits me'``."""
        return ", ".join(f"{m.category}: '{m.text}'" for m in self.matches)

    def record(self) -> dict:
        """The check as JSON-ready data (``crisis`` and what matched)."""
        return {
            "crisis": self.crisis,
            "matched": [{"category": m.category, "pattern": m.pattern, "text": m.text} for m in self.matches],
        }


def normalize(text: str) -> str:
    """Lower case, straight apostrophes, single spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return " ".join(text.split())


def detect_crisis(text: str) -> CrisisCheck:
    """Checks a person's message for crisis language.

    Args:
        text: the person's words.

    Returns:
        The check: ``crisis`` and every pattern that matched.
    """
    normal = _IDIOMS.sub(" ", normalize(text))
    matches = tuple(
        CrisisMatch(category, name, found.group(0))
        for category, name, pattern in _COMPILED
        if (found := pattern.search(normal)) and not (category in _CLEARING and _CLEARING[category].search(normal))
    )
    return CrisisCheck(bool(matches), matches)
