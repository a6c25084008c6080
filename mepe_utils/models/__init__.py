"""Model builders: text classifier, face CNN, fusion unit."""
