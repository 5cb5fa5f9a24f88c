"""Safeguarding: no crisis message may be missed, and few ordinary messages alarm."""

from __future__ import annotations

import pytest
import yaml
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.config import PROJECT_ROOT
from bot.safety import check_message, emergency_text
from components.safety_override import SafetyOverride
from tests.conftest import DATA


def _examples(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))["examples"]


EVAL = _examples(PROJECT_ROOT / "eval" / "safety.yml")
DEV = _examples(DATA / "safety_dev.yml")
CRISIS = [e["text"] for e in EVAL + DEV if e["crisis"]]


@pytest.mark.parametrize("text", CRISIS)
def test_every_crisis_message_is_caught(text):
    assert check_message(text).crisis, text


@pytest.mark.parametrize(("examples", "limit"), [(EVAL, 0.05), (DEV, 0.10)])
def test_false_alarms_stay_low(examples, limit):
    ordinary = [e["text"] for e in examples if not e["crisis"]]
    alarms = [t for t in ordinary if check_message(t).crisis]
    assert len(alarms) / len(ordinary) < limit, alarms


def test_the_issue_examples():
    for text in (
        "my son says he wants to kill himself",
        "I can't go on",
        "my dad hits me",
        "she has taken too many tablets",
        "I'm scared to go home",
    ):
        assert check_message(text).crisis, text
    assert not check_message("the school is killing me with paperwork").crisis
    assert check_message("").crisis is False


def test_emergency_text_lists_national_numbers_first(sample_directory):
    text = emergency_text(sample_directory.entry("family_connect"))
    lines = text.splitlines()
    assert lines[1] == "If someone is in danger right now, call 999."
    assert "Childline free on 0800 1111" in lines[2]
    assert "Samaritans free on 116 123" in lines[3]
    assert lines[4] == (
        "Worried about a child's safety? Call Family Connect on 01632 960111 (sample number)."
    )
    assert all(len(line.split()) <= 15 for line in lines if "Worried" not in line)


def test_nlu_override_turns_a_missed_crisis_into_the_crisis_intent():
    message = Message(data={TEXT: "she has taken too many tablets"})
    message.set(INTENT, {"name": "ask_signpost", "confidence": 0.91}, add_to_output=True)
    message.set(
        INTENT_RANKING_KEY,
        [{"name": "ask_signpost", "confidence": 0.91}, {"name": "crisis", "confidence": 0.05}],
        add_to_output=True,
    )
    SafetyOverride().process([message])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["crisis", "ask_signpost"]


def test_nlu_override_leaves_ordinary_messages_alone():
    message = Message(data={TEXT: "who helps with school transport"})
    message.set(INTENT, {"name": "ask_signpost", "confidence": 0.91}, add_to_output=True)
    SafetyOverride().process([message])
    assert message.get(INTENT) == {"name": "ask_signpost", "confidence": 0.91}
