import numpy as np
import pytest

from mepe_utils.persona.writing_style import WRITING_STYLE_FEATURES, writing_style_features


def _row(text):
    return dict(zip(WRITING_STYLE_FEATURES, writing_style_features([text])[0]))


def test_casual_and_formal_writing_differ_where_an_uncased_encoder_is_blind():
    casual, formal = _row("i'm fine lol"), _row("I am well, thank you.")
    assert casual["all_lower_case"] == casual["lower_case_i"] == casual["contraction"] == casual["chat_words"] == 1
    assert formal["starts_capitalised"] == formal["ends_with_mark"] == 1
    assert formal["all_lower_case"] == formal["chat_words"] == formal["lower_case_i"] == 0


def test_shouting_and_repeated_marks_are_seen_through_punctuation():
    row = _row("WHAT?! No way!!")
    assert row["shouting_share"] == pytest.approx(1 / 3) and row["repeated_marks"] == 1
    assert row["exclamation"] == row["question"] == 1
    assert row["log_words"] == pytest.approx(np.log1p(3))


def test_a_text_without_words_gives_zeros_and_the_shape_is_fixed():
    assert writing_style_features([]).shape == (0, len(WRITING_STYLE_FEATURES))
    np.testing.assert_array_equal(writing_style_features(["   "]), 0.0)
