"""Phase 5A and 5B: the persona (traits read from words and face) and the policy that turns it into controls."""
