"""The fixed texts of the safety layer: the one place they are written and reviewed.

``CRISIS_MESSAGE`` answers a message with crisis language instead of a generated reply.
It was written for MEPE to: acknowledge the person without judging, encourage reaching
out to someone now, name emergency services and crisis lines (with numbers that are
free and answer around the clock where given, and a directory for other countries),
and say plainly that MEPE is a program, not a substitute for professional help. Change
it only with the same care; ``tests/test_safety.py`` pins what it must say.

``NEUTRAL_REPLY`` is the last fallback when no generated or retrieved reply passes the screen.
"""

CRISIS_MESSAGE = (
    "I'm really sorry you're going through this, and I'm glad you told me. You deserve support right now, "
    "and you don't have to face this alone. Please reach out to someone you trust today. If you or someone "
    "else is in danger, or you might act on these thoughts, call your local emergency number now, or contact "
    "a crisis line: in the US and Canada call or text 988; in the UK and Ireland call Samaritans on 116 123; "
    "elsewhere, findahelpline.com lists free, confidential lines. I'm an automated program and not a "
    "substitute for professional help, but a trained person can listen and help you through this."
)
"""The answer to a message with crisis language (no reply is generated)."""

NEUTRAL_REPLY = "Thank you for telling me. I'm here and listening. Would you like to say more about what's going on?"
"""The reply shown when neither the generator nor the retrieval index gives one that passes the screen."""
