import numpy as np

from mepe_utils.plots import plot_embedding_projection, plot_gate_histograms, plot_history


def test_gate_histograms_draw_one_labelled_histogram_per_condition(tmp_path):
    gates = {"clean": np.full(50, 0.3), "blur": np.full(50, 0.8)}
    figure = plot_gate_histograms(gates, path=tmp_path / "gates.png")
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels == ["clean (mean 0.30)", "blur (mean 0.80)"]
    assert (tmp_path / "gates.png").stat().st_size > 0


def test_an_embedding_projection_draws_each_present_class_in_its_own_colour():
    points = np.random.default_rng(0).normal(size=(30, 2))
    classes = np.repeat([0, 2, 3], 10)
    figure = plot_embedding_projection(points, classes, ["a", "b", "c", "d"], title="t")
    axis = figure.axes[0]
    assert [text.get_text() for text in axis.get_legend().get_texts()] == ["a", "c", "d"]
    assert [len(c.get_offsets()) for c in axis.collections] == [10, 10, 10]


def test_history_skips_metrics_that_were_not_logged():
    history = [{"epoch": 0, "loss": 1.0, "val_loss": 1.2}, {"epoch": 1, "loss": 0.8, "val_loss": 1.1}]
    figure = plot_history(history, metrics=("loss", "accuracy"))
    assert [axis.get_title() for axis in figure.axes] == ["loss"]


def test_faces_are_boxed_and_labelled_largest_first(tmp_path):
    from types import SimpleNamespace

    from mepe_utils.plots import plot_faces

    faces = [
        SimpleNamespace(box=(10, 10, 40, 50), top_label="happy", probabilities={"happy": 0.8}, landmarks=None),
        SimpleNamespace(box=(70, 20, 20, 25), top_label="sad", probabilities={"sad": 0.55}, landmarks=[[75, 30]] * 5),
    ]
    figure = plot_faces(np.zeros((100, 120, 3), np.uint8), faces, path=tmp_path / "faces.png")
    axis = figure.axes[0]
    assert [t.get_text() for t in axis.texts] == ["1 happy 0.80", "2 sad 0.55"] and len(axis.patches) == 2
    assert axis.get_title() == "2 faces, largest first" and (tmp_path / "faces.png").stat().st_size > 0
