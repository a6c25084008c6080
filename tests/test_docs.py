"""Rendered docs: the README's results and the shipped model cards come from results/*.json and manifests."""

import pytest

from mepe_utils import docs


def test_the_committed_readme_and_model_cards_are_what_render_docs_writes():
    stale = [str(path) for path, content in docs.rendered_files().items() if path.read_text() != content]
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
