"""Rendered docs: the README's results and the shipped model cards come from results/*.json and manifests."""

import pytest

from mepe_utils import docs


def test_the_committed_readme_and_model_cards_are_what_render_docs_writes():
    stale = [str(path) for path in docs.stale_files()]
    assert not stale, f"stale rendered files (run: mepe render-docs): {stale}"


def test_a_placeholder_without_a_value_is_named(tmp_path):
    template = tmp_path / "card.md"
    template.write_text("accuracy {bench_face[mepe][no_such_metric]:.3f}, braces {{kept}}")
    with pytest.raises(KeyError, match=r"\{bench_face\[mepe\]\[no_such_metric\]:?"):
        docs.render_template(template, {"bench_face": {"mepe": {}}})
    template.write_text("braces {{kept}} and {value:.1f}")
    assert docs.render_template(template, {"value": 0.25}) == "braces {kept} and 0.2"


def test_the_readme_block_is_replaced_between_its_markers_only(tmp_path):
    template = tmp_path / "results.md"
    template.write_text("## Results\n{value}\n")
    readme = f"# Title\nbefore\n{docs.RESULTS_BEGIN}\nold numbers\n{docs.RESULTS_END}\nafter\n"
    rendered = docs.render_readme(readme, {"value": 42}, template)
    assert rendered == f"# Title\nbefore\n{docs.RESULTS_BEGIN}\n## Results\n42\n{docs.RESULTS_END}\nafter\n"
    with pytest.raises(ValueError, match="lacks the results markers"):
        docs.render_readme("# no markers\n", {"value": 1}, template)


def test_the_architecture_diagram_is_drawn_from_the_models_manifests_and_stores_its_spec(
    tiny_text_model_dir, tiny_face_model_dir, tiny_fusion, tiny_persona, tiny_generator, tmp_path
):
    from mepe_utils import architecture
    from mepe_utils.artifacts import read_manifest

    models = tmp_path / "assets" / "models"
    models.mkdir(parents=True)
    for name, folder in [("text", tiny_text_model_dir), ("face", tiny_face_model_dir), ("fusion", tiny_fusion),
                         ("persona", tiny_persona), ("generator", tiny_generator)]:  # fmt: skip
        (models / name).symlink_to(folder)
    spec = architecture.architecture_spec(models)
    text_params = read_manifest(tiny_text_model_dir).extra["params"]
    assert any(f"{text_params / 1e3:.0f}k params" in line for line in spec["boxes"]["text"]["lines"])
    assert {tuple(arrow) for arrow in spec["arrows"]} >= {("fusion", "persona"), ("generator", "reply")}
    assert all(start in spec["boxes"] and end in spec["boxes"] for start, end in spec["arrows"])
    assert not architecture.architecture_is_current(tmp_path)
    assert architecture.render_architecture(tmp_path) == tmp_path / architecture.ARCHITECTURE_PNG
    assert architecture.committed_spec(tmp_path / architecture.ARCHITECTURE_PNG) == architecture.spec_text(spec)
    assert architecture.render_architecture(tmp_path) is None  # current: not redrawn
