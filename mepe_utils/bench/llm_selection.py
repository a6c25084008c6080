"""The 5A LLM selection table: Flan-T5 small / base / large and the shipped T5, side by side on this CPU.

For each model: parameters, the float32 weights' size, the process's peak memory
after building it and decoding, and the greedy latency of a 40-token reply (decoding
forced to 40 tokens, batch 1, a 128-token prompt). The Flan-T5 presets download from
Kaggle, which this machine cannot reach, so their rows are **built with random weights
in the presets' exact shapes** (checked against KerasHub's preset parameter counts):
the timing and memory of a shape do not depend on its weights. The shipped T5 is loaded
as the demo loads it. Each model is measured in a fresh process.

Example:
    python -m mepe_utils bench-llm-selection --json results/bench_llm_selection.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mepe_utils.errors import MepeError

FLAN_SHAPES = {
    "flan_small_multi": {"num_layers": 8, "num_heads": 6, "hidden_dim": 512, "intermediate_dim": 1024},
    "flan_base_multi": {"num_layers": 12, "num_heads": 12, "hidden_dim": 768, "intermediate_dim": 2048},
    "flan_large_multi": {"num_layers": 24, "num_heads": 16, "hidden_dim": 1024, "intermediate_dim": 2816},
}
"""The Flan-T5 presets' backbones (vocabulary 32,128, heads of 64, gated GELU, untied embeddings)."""
FLAN_COMMON = {"vocabulary_size": 32128, "key_value_dim": 64, "activation": "gelu", "use_gated_activation": True,
               "tie_embedding_weights": False}  # fmt: skip
PROMPT_TOKENS, NEW_TOKENS, CALLS = 128, 40, 5
SHIPPED = "shipped_t5"


def _build(name: str, generator_dir: str):
    """``(T5Seq2SeqLM without preprocessor, how its weights were made)``."""
    import keras
    import keras_hub

    if name == SHIPPED:
        from mepe_utils import artifacts

        model, _ = artifacts.load_model(generator_dir, kind=artifacts.GENERATOR_KIND)
        model.preprocessor = None  # every row is timed on token ids
        return model, "trained (assets/models/generator)"
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.T5Backbone(**FLAN_COMMON, **FLAN_SHAPES[name])
    expected = keras_hub.models.T5Backbone.presets[name]["metadata"]["params"]
    if backbone.count_params() != expected:
        raise MepeError(f"{name}: built {backbone.count_params()} parameters, the preset has {expected}")
    return keras_hub.models.T5Seq2SeqLM(backbone=backbone, preprocessor=None), "random (the preset's shape)"


def measure_in_this_process(name: str, generator_dir: str) -> dict:
    """Builds (or loads) one model and times its 40-token greedy replies. Run by the worker process."""
    import resource

    import numpy as np

    from mepe_utils.bench.timing import latency_ms

    model, weights = _build(name, generator_dir)
    model.compile(sampler="greedy")
    vocabulary = model.backbone.vocabulary_size
    rng = np.random.default_rng(0)
    inputs = {
        "encoder_token_ids": rng.integers(3, vocabulary, (1, PROMPT_TOKENS)).astype("int32"),
        "encoder_padding_mask": np.ones((1, PROMPT_TOKENS), bool),
        "decoder_token_ids": np.zeros((1, NEW_TOKENS + 1), "int32"),
        "decoder_padding_mask": np.eye(1, NEW_TOKENS + 1, dtype=bool),
    }
    latency = latency_ms(lambda: model.generate(inputs, stop_token_ids=None), calls=CALLS, warmup=1)
    params = int(model.count_params())
    return {
        "params_m": round(params / 1e6, 1),
        "weights_mb_float32": round(params * 4 / 2**20, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "reply_40_tokens_ms_p50": round(latency["p50"], 1),
        "weights": weights,
    }


def bench_llm_selection(
    generator_dir: str | Path | None = None, json_path: str | Path | None = None, command: str = ""
) -> dict:
    """Measures every row in a fresh process; writes ``json_path`` when given."""
    from mepe_utils import artifacts
    from mepe_utils.generation.t5 import SHIPPED_GENERATOR_MODEL
    from mepe_utils.runtime import machine_record

    generator_dir = str(generator_dir or SHIPPED_GENERATOR_MODEL)
    rows = {}
    for name in (SHIPPED, *FLAN_SHAPES):
        spec = json.dumps({"name": name, "generator": generator_dir})
        environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run([sys.executable, "-m", "mepe_utils.bench.llm_selection", spec], capture_output=True,
                              text=True, env=environment)  # fmt: skip
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output"
            raise MepeError(f"bench-llm-selection worker for {name} failed: {last}")
        rows[name] = json.loads(done.stdout.strip().splitlines()[-1])
    rows[SHIPPED]["file_mb"] = round((Path(generator_dir) / "model.keras").stat().st_size / 2**20, 2)
    results = {
        "models": rows,
        "setup": {
            "prompt_tokens": PROMPT_TOKENS,
            "new_tokens": NEW_TOKENS,
            "timed_calls": CALLS,
            "decoding": "greedy, forced to 40 new tokens, batch 1, no XLA",
            "flan_weights": "random in the presets' shapes (Kaggle is unreachable here); timing and memory only",
            **machine_record(),
            "command": command,
        },
    }
    if json_path:
        artifacts.write_json_atomic(json_path, results)
    return results


def print_llm_selection(results: dict) -> None:
    columns = ("params_m", "weights_mb_float32", "peak_rss_mb", "reply_40_tokens_ms_p50")
    print(f"{'model':18s}" + "".join(f"{c:>24s}" for c in columns) + "  weights")
    for name, row in results["models"].items():
        print(f"{name:18s}" + "".join(f"{row[c]:24}" for c in columns) + f"  {row['weights']}")


if __name__ == "__main__":  # the worker: one JSON argument {"name", "generator"}
    spec = json.loads(sys.argv[1])
    print(json.dumps(measure_in_this_process(spec["name"], spec["generator"])), flush=True)
