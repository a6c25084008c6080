"""``mepe serve``: MEPE in the browser, a Gradio app over the same pipeline as ``mepe demo``.

A text box, a photo (upload or webcam), and what MEPE reads and answers (the
page opens on the mission's demo sentence, read and answered): the
fused emotion, how much each signal counted (modality weights), the persona,
the controls it calls for, the reply and what the safety layer did. The app
holds one loaded :class:`~mepe_utils.pipeline.MepePipeline`; a bad input (no
words and no face, a photo that is not an image) is shown as one sentence.

Gradio is an optional extra: ``pip install "mepe[app]"``. The app needs no
internet (no analytics, no web fonts) and listens on the loopback address
unless told otherwise.

Example:
    >>> from mepe_utils.app import build_app
    >>> build_app(MepePipeline.load()).launch()     # http://127.0.0.1:7860
"""

from __future__ import annotations

import math
import os

from mepe_utils.demo import DEFAULT_TEXT
from mepe_utils.errors import MepeError
from mepe_utils.persona.schema import display_name
from mepe_utils.pipeline import CONTROLS_OVERRIDDEN, MepePipeline, MepeResponse, response_record

APP_EXTRA = 'the web demo needs Gradio: pip install "mepe[app]" (or pip install gradio)'
API_NAME = "read"
"""The app's one endpoint: ``gradio_client.Client(url).predict(text, photo, seed, api_name="/read")``."""
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
TITLE = "MEPE: the Multimodal Emotion Persona Engine"
INTRO = (
    "Write how you feel and, if you like, add a photo of your face. MEPE reads the emotion in both, weighs "
    "the two signals, reads a persona from them and answers in the style the persona calls for. "
    "It is a research demo, not a counsellor: see the README's *Limitations and responsible use*."
)


def import_gradio():
    """Gradio, imported quietly (no analytics calls), or a one-line :class:`MepeError` naming the extra."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio
    except ImportError:
        raise MepeError(APP_EXTRA) from None
    return gradio


def response_views(response: MepeResponse) -> tuple[dict, dict, str, str, dict]:
    """What the app shows for one response.

    Returns:
        ``(fused emotion probabilities, modality weights, persona and controls as Markdown,
        reply and safety as Markdown, the full JSON record)``.
    """
    reading = response.reading
    persona = reading.persona
    traits = "\n".join(f"| {display_name(name)} | {trait.level} |" for name, trait in persona.traits.items())
    controls = "\n".join(
        f"| {display_name(name)} | {decision.value} |" for name, decision in reading.controls.decisions.items()
    )
    missing = (
        f"\n\nMissing signal: {', '.join(persona.missing)} (read from the other one alone)" if persona.missing else ""
    )
    persona_md = f"| Persona | Level |\n|---|---|\n{traits}\n\n| Control | Value |\n|---|---|\n{controls}{missing}"
    if response.safety.crisis.crisis:
        persona_md += f"\n\n*Controls not used: {CONTROLS_OVERRIDDEN}.*"
    if response.reply is None:
        reply_md = "*No words to answer: a reply needs the person's text.*"
    else:
        reply_md = f"> {response.reply.text}\n\n*{response.reply.backend}*"
    reply_md += f"\n\n**Safety:** {response.safety.describe()}"
    fused = {label: float(p) for label, p in reading.fused.probabilities.items()}
    return fused, dict(persona.modality_weights), persona_md, reply_md, response_record(response)


def whole_number(value):
    """A number box's value as the int it shows (0 when empty); anything else is passed on for the seed
    check to name (a fraction, infinity, NaN, text)."""
    if value is None:
        return 0
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def build_app(pipeline: MepePipeline):
    """The Gradio Blocks app over ``pipeline`` (not launched)."""
    gr = import_gradio()

    def read(text: str | None, photo: str | None, seed: float | None):
        text = text if text and text.strip() else None
        try:
            response = pipeline.respond(text, photo, seed=whole_number(seed))
        except MepeError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return response_views(response)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Row():
            with gr.Column():
                text = gr.Textbox(label="What you wrote", value=DEFAULT_TEXT, lines=3)
                # MEPE reads the uploaded file itself, as on the command line (GIFs, EXIF turns, one-line errors);
                # image_mode None: Gradio's default "RGB" re-encodes other modes (an RGBA PNG's clear pixels go black)
                photo = gr.Image(
                    label="A photo of your face (optional)",
                    sources=["upload", "webcam"],
                    type="filepath",
                    image_mode=None,
                )
                seed = gr.Number(label="Reply seed", value=0, precision=0)
                button = gr.Button("Read and answer", variant="primary")
            with gr.Column():
                fused = gr.Label(label="Fused emotion", num_top_classes=4)
                weights = gr.Label(label="Modality weights (how much each signal counted)")
                reply = gr.Markdown(label="Reply")
                persona = gr.Markdown(label="Persona and controls")
        with gr.Accordion("The full record (JSON)", open=False):
            record = gr.JSON()
        outputs = [fused, weights, persona, reply, record]
        button.click(read, [text, photo, seed], outputs, api_name=API_NAME)
        app.load(read, [text, photo, seed], outputs, api_name=False)  # opens on the demo sentence's reading
    return app


def serve(pipeline: MepePipeline, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, share: bool = False) -> None:
    """Serves the app until interrupted (``share`` asks Gradio for a public link, which needs internet)."""
    gr = import_gradio()
    theme = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"])  # no web fonts to fetch
    build_app(pipeline).launch(server_name=host, server_port=port, share=share, theme=theme, footer_links=["api"])
