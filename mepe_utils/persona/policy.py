"""The declarative policy: a rule table (``policy.toml``, shipped in the package) from persona to controls.

Each rule sets one control to one value when its conditions hold: trait levels
(``when``) and missing signals (``missing``). For every control the matching
rules of the highest priority decide, and every decision names the rules that
made it; when none matches, the table's default row does. Loading checks the
table against the schema (controls, values, traits, levels, signals, unique
names), so a typo fails at load time with one line naming the rule.

Example:
    >>> policy = Policy.load()
    >>> controls = policy.decide(persona)
    >>> controls.value("empathy_level"), controls.decisions["empathy_level"].rules
    ('Medium', ['stress_medium_empathy', 'sadness_medium_empathy'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from mepe_utils.persona.schema import CONTROLS, LEVELS, MODALITIES, TRAITS, Controls, Decision, Persona, SchemaError

POLICY_FILE = Path(__file__).with_name("policy.toml")
DEFAULT_RULE = "default"
"""The rule name a decision carries when no rule matched."""


@dataclass
class Rule:
    """One row of the table.

    Attributes:
        name: unique name (shown in explanations).
        control: the control it sets.
        value: the value it sets.
        priority: higher wins; matching rules of equal priority must agree.
        when: trait -> the levels at which the rule holds (all traits must match).
        missing: signals that must be missing for the rule to hold.
        reason: one sentence, for people.
    """

    name: str
    control: str
    value: str
    priority: int
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    reason: str = ""

    def matches(self, levels: dict[str, str], missing: set[str]) -> bool:
        return set(self.missing) <= missing and all(levels[t] in allowed for t, allowed in self.when.items())


@dataclass
class Policy:
    """A checked rule table.

    Attributes:
        rules: the rules, in file order.
        defaults: control -> the value when no rule matches.
    """

    rules: list[Rule]
    defaults: dict[str, str]

    @classmethod
    def load(cls, path: str | Path = POLICY_FILE) -> Policy:
        """Reads and checks a TOML rule table.

        Raises:
            SchemaError: unreadable TOML, a missing default, an unknown control, value, trait, level or
                signal, a duplicate rule name.
        """
        path = Path(path)
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SchemaError(f"{path}: not a readable TOML rule table ({error})") from None
        defaults = table.get("defaults", {})
        if set(defaults) != set(CONTROLS):
            raise SchemaError(f"{path}: [defaults] must set exactly {sorted(CONTROLS)}, got {sorted(defaults)}")
        for control, value in defaults.items():
            _check_value(path, "defaults", control, value)
        rules, names = [], set()
        for raw in table.get("rule", []):
            rule = _read_rule(path, raw)
            if rule.name in names:
                raise SchemaError(f"{path}: rule name {rule.name!r} is used twice")
            names.add(rule.name)
            rules.append(rule)
        return cls(rules, dict(defaults))

    def decide(self, persona: Persona) -> Controls:
        """The controls for ``persona``: per control, the top-priority matching rules, else the default.

        Raises:
            SchemaError: matching rules of the same top priority disagree (the table is ambiguous there).
        """
        levels = {name: trait.level for name, trait in persona.traits.items()}
        return self.decide_levels(levels, set(persona.missing))

    def decide_levels(self, levels: dict[str, str], missing: set[str]) -> Controls:
        """:meth:`decide` from trait levels and missing signals alone."""
        decisions = {}
        for control in CONTROLS:
            matching = [r for r in self.rules if r.control == control and r.matches(levels, missing)]
            if not matching:
                decisions[control] = Decision(self.defaults[control], [DEFAULT_RULE])
                continue
            top = max(rule.priority for rule in matching)
            winners = [rule for rule in matching if rule.priority == top]
            values = {rule.value for rule in winners}
            if len(values) > 1:
                raise SchemaError(
                    f"ambiguous policy for {control}: rules {[r.name for r in winners]} (priority {top}) "
                    f"give {sorted(values)} for levels {levels}, missing {sorted(missing)}"
                )
            decisions[control] = Decision(values.pop(), [rule.name for rule in winners])
        return Controls(decisions)

    def reasons(self) -> dict[str, str]:
        """Rule name -> its reason (the default rule included)."""
        return {DEFAULT_RULE: "no rule matched: the table's default", **{r.name: r.reason for r in self.rules}}


def _check_value(path: Path, where: str, control: str, value: str) -> None:
    if control not in CONTROLS:
        raise SchemaError(f"{path}: {where}: unknown control {control!r}; expected one of {sorted(CONTROLS)}")
    if value not in CONTROLS[control]:
        raise SchemaError(f"{path}: {where}: {control} cannot be {value!r}; expected one of {CONTROLS[control]}")


def _read_rule(path: Path, raw: dict) -> Rule:
    name = raw.get("name")
    if not name:
        raise SchemaError(f"{path}: a rule has no name")
    unknown = set(raw) - {"name", "control", "value", "priority", "when", "missing", "reason"}
    if unknown:
        raise SchemaError(f"{path}: rule {name!r}: unknown key(s) {sorted(unknown)}")
    _check_value(path, f"rule {name!r}", raw.get("control"), raw.get("value"))
    if not isinstance(raw.get("priority"), int):
        raise SchemaError(f"{path}: rule {name!r}: priority must be an integer")
    when = {}
    for trait, levels in raw.get("when", {}).items():
        if trait not in TRAITS:
            raise SchemaError(f"{path}: rule {name!r}: unknown trait {trait!r}; expected one of {TRAITS}")
        if not levels or not set(levels) <= set(LEVELS):
            raise SchemaError(f"{path}: rule {name!r}: levels {levels} of {trait} must be among {LEVELS}")
        when[trait] = tuple(levels)
    missing = tuple(raw.get("missing", ()))
    if not set(missing) <= set(MODALITIES) or len(missing) == len(MODALITIES):
        raise SchemaError(f"{path}: rule {name!r}: missing {list(missing)} must name one of {MODALITIES}")
    return Rule(name, raw["control"], raw["value"], raw["priority"], when, missing, raw.get("reason", ""))
