"""MEPE: the Multimodal Emotion Persona Engine.

Text and face emotion models, their fusion into a persona, and persona-driven
reply generation. Every notebook and command is a thin layer over this package.
"""

from mepe_utils import quiet_startup

__version__ = "0.1.0"

quiet_startup.install()
