"""The persona schema and the policy table, checked over every persona the schema allows."""

import itertools

import pytest

from mepe_utils.persona.policy import DEFAULT_RULE, Policy
from mepe_utils.persona.schema import CONTROLS, LEVELS, TRAITS, Controls, Persona, SchemaError, Trait

POLICY = Policy.load()
MISSING_STATES = (set(), {"face"}, {"text"})
ALL_LEVELS = [dict(zip(TRAITS, combo)) for combo in itertools.product(LEVELS, repeat=len(TRAITS))]
MISSION_PERSONA = {
    "stress": "Medium",
    "sadness": "Medium",
    "emotional_intensity": "Medium",
    "confidence": "High",
    "formality_preference": "Low",
}
MISSION_CONTROLS = {
    "empathy_level": "Medium",
    "response_style": "Calm",
    "assertiveness": "Medium",
    "formality": "Casual",
}


def _raised(levels, trait):
    """``levels`` with ``trait`` one level higher (None at High)."""
    index = LEVELS.index(levels[trait])
    return None if index == len(LEVELS) - 1 else {**levels, trait: LEVELS[index + 1]}


def test_there_are_243_trait_level_combinations():
    assert len(ALL_LEVELS) == 3**5 == 243


@pytest.mark.parametrize("missing", MISSING_STATES, ids=lambda m: "missing " + ("/".join(m) or "nothing"))
def test_every_persona_gets_one_valid_value_per_control_with_its_reasons(missing):
    reasons = POLICY.reasons()
    for levels in ALL_LEVELS:
        controls = POLICY.decide_levels(levels, missing)  # raises on an ambiguous row
        assert set(controls.decisions) == set(CONTROLS)
        for name, decision in controls.decisions.items():
            assert decision.value in CONTROLS[name] and decision.rules
            assert all(rule in reasons for rule in decision.rules)


@pytest.mark.parametrize("missing", MISSING_STATES, ids=lambda m: "missing " + ("/".join(m) or "nothing"))
@pytest.mark.parametrize(
    ("trait", "control"),
    [("sadness", "empathy_level"), ("stress", "empathy_level"), ("formality_preference", "formality")],
)
def test_the_policy_is_monotone_where_it_should_be(trait, control, missing):
    order = CONTROLS[control]
    for levels in ALL_LEVELS:
        higher = _raised(levels, trait)
        if higher is None:
            continue
        before = POLICY.decide_levels(levels, missing).value(control)
        after = POLICY.decide_levels(higher, missing).value(control)
        assert order.index(after) >= order.index(before), f"more {trait} lowered {control}: {levels} -> {higher}"


def test_the_missions_example_persona_gets_the_missions_controls():
    controls = POLICY.decide_levels(MISSION_PERSONA, set())
    assert {name: d.value for name, d in controls.decisions.items()} == MISSION_CONTROLS
    assert controls.decisions["assertiveness"].rules == [DEFAULT_RULE]
    assert "stress_medium_empathy" in controls.decisions["empathy_level"].rules
    assert "empathy_level   Medium   <- stress_medium_empathy" in controls.explain()


def test_without_words_the_reply_asks_and_keeps_a_neutral_register():
    controls = POLICY.decide_levels({**MISSION_PERSONA, "formality_preference": "High"}, {"text"})
    assert controls.value("assertiveness") == "Low" and controls.value("formality") == "Neutral"


def _persona(**levels):
    traits = {name: Trait(0.5, levels.get(name, "Medium")) for name in TRAITS}
    return Persona(traits, {"sad": 0.6, "neutral": 0.4}, {"text": 0.7, "face": 0.3}, ["face"])


def test_persona_and_controls_round_trip_through_json_records():
    import json

    persona = _persona(stress="High")
    again = Persona.from_dict(json.loads(json.dumps(persona.to_dict())))
    assert again == persona and again.level("stress") == "High"
    controls = POLICY.decide(persona)
    assert Controls.from_dict(json.loads(json.dumps(controls.to_dict()))) == controls


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(schema_version=99), "schema version 99"),
        (lambda r: r["traits"].pop("stress"), "persona traits"),
        (lambda r: r["traits"]["stress"].update(score=1.5), "score 1.5 outside"),
        (lambda r: r["traits"]["stress"].update(level="Extreme"), "level 'Extreme'"),
        (lambda r: r.update(missing=["voice"]), "missing modalities"),
    ],
)
def test_a_bad_persona_record_is_named(change, message):
    record = _persona().to_dict()
    change(record)
    with pytest.raises(SchemaError, match=message):
        Persona.from_dict(record)


DEFAULTS = (
    '[defaults]\nempathy_level = "Low"\nresponse_style = "Neutral"\nassertiveness = "Medium"\nformality = "Neutral"\n'
)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[defaults]\nempathy_level = 'Low'\n", r"\[defaults\] must set exactly"),
        (DEFAULTS + '[[rule]]\nname = "a"\ncontrol = "tone"\nvalue = "Low"\npriority = 1\n', "unknown control 'tone'"),
        (DEFAULTS + '[[rule]]\nname = "a"\ncontrol = "formality"\nvalue = "Low"\npriority = 1\n', "cannot be 'Low'"),
        (
            DEFAULTS + '[[rule]]\nname = "a"\ncontrol = "formality"\nvalue = "Formal"\npriority = 1\n'
            'when = { mood = ["High"] }\n',
            "unknown trait 'mood'",
        ),
        (
            DEFAULTS + '[[rule]]\nname = "a"\ncontrol = "formality"\nvalue = "Formal"\npriority = 1\n'
            'when = { stress = ["Huge"] }\n',
            "levels",
        ),
        (DEFAULTS + '[[rule]]\nname = "a"\ncontrol = "formality"\nvalue = "Formal"\npriority = "1"\n', "integer"),
        (
            DEFAULTS + ('[[rule]]\nname = "a"\ncontrol = "formality"\nvalue = "Formal"\npriority = 1\n') * 2,
            "used twice",
        ),
        ("not toml [", "not a readable TOML"),
    ],
)
def test_a_bad_rule_table_is_refused_with_the_rule_named(tmp_path, table, message):
    path = tmp_path / "policy.toml"
    path.write_text(table)
    with pytest.raises(SchemaError, match=message):
        Policy.load(path)


def test_rules_of_equal_priority_that_disagree_are_reported(tmp_path):
    path = tmp_path / "policy.toml"
    rule = '[[rule]]\nname = "{}"\ncontrol = "formality"\nvalue = "{}"\npriority = 5\nwhen = {{ stress = ["High"] }}\n'
    path.write_text(DEFAULTS + rule.format("a", "Formal") + rule.format("b", "Casual"))
    policy = Policy.load(path)
    with pytest.raises(SchemaError, match=r"ambiguous policy for formality: rules \['a', 'b'\]"):
        policy.decide(_persona(stress="High"))
    assert policy.decide(_persona(stress="Low")).value("formality") == "Neutral"
