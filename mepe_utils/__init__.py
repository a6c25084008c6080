"""MEPE: the Multimodal Emotion Persona Engine.

Text and face emotion models, their fusion into a persona, and persona-driven
reply generation. Every notebook and command is a thin layer over this package.
"""

__version__ = "0.1.0"
