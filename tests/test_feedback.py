"""Feedback: reading answers, theme tagging, storing once, and "You said, we did"."""

from __future__ import annotations

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.feedback.parse import is_cancel, parse_rating, parse_yes_no
from bot.feedback.store import NewFeedback, latest_items, publish, record_feedback
from bot.feedback.themes import load_themes, tag_themes
from bot.privacy import erase_person


@pytest.mark.parametrize(
    ("answer", "rating"),
    [
        ("5", 5), ("five", 5), ("really good", 5), ("4 stars", 4), ("3/5", 3),
        ("2 out of 5", 2), ("meh", 3), ("it was ok I guess", 3), ("not good", 2),
        ("rubbish", 1), ("\U0001f44d", 4), ("\U0001f621", 1), ("10", None),
        ("banana", None), ("", None),
    ],
)  # fmt: skip
def test_ratings_are_read_the_way_people_give_them(answer, rating):
    assert parse_rating(answer) == rating


@pytest.mark.parametrize(
    ("answer", "value"),
    [("yes", True), ("yeah go on", True), ("no thanks", False),
     ("keep me anonymous", False), ("maybe", None)],
)  # fmt: skip
def test_yes_no(answer, value):
    assert parse_yes_no(answer) is value


def test_cancel_words():
    assert is_cancel("stop") and is_cancel("Cancel") and is_cancel("never mind")
    assert not is_cancel("the bus never stops outside")


def test_themes_are_tagged_transparently():
    themes = load_themes()
    assert tag_themes("the taxi was late every day and nobody rang me back", themes) == (
        "communicate", "transport",
    )  # fmt: skip
    assert tag_themes("", themes) == ()


def test_theme_tagging_meets_its_target_on_the_held_out_set():
    themes = load_themes()
    examples = yaml.safe_load((PROJECT_ROOT / "eval" / "themes.yml").read_text())["examples"]
    tp = fp = fn = 0
    for example in examples:
        expected, got = set(example["themes"]), set(tag_themes(example["text"], themes))
        tp, fp, fn = tp + len(expected & got), fp + len(got - expected), fn + len(expected - got)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert len(examples) >= 60
    assert precision >= 0.85 and recall >= 0.85, (precision, recall)


def _feedback(conversation="sms-abc", turn="m1", consent=False, service="travel_assistance"):
    return NewFeedback(
        channel="sms",
        conversation_id=conversation,
        turn_id=turn,
        service_key=service,
        rating=2,
        text="the taxi is always late",
        themes=("transport",),
        consent=consent,
    )


def test_the_same_submission_is_stored_once(engine):
    first = record_feedback(engine, _feedback())
    again = record_feedback(engine, _feedback())
    assert first == (first[0], True)
    assert again == (first[0], False)


def test_anonymous_feedback_keeps_no_identity(engine):
    from sqlalchemy import select

    from bot.db import session_scope
    from bot.feedback.store import FeedbackRow

    record_feedback(engine, _feedback(consent=False))
    with session_scope(engine) as session:
        row = session.scalars(select(FeedbackRow)).one()
    assert (row.sender, row.conversation_id, row.consent, row.consent_at) == (
        None, None, False, None,
    )  # fmt: skip
    assert erase_person(engine, "sms-abc")["feedback you asked us to reply to"] == 0


def test_you_said_we_did_reaches_only_consenting_related_feedback(engine):
    record_feedback(engine, _feedback("sms-yes", "m1", consent=True))
    record_feedback(engine, _feedback("sms-no", "m2", consent=False))
    record_feedback(engine, _feedback("sms-other", "m3", consent=True, service="portage"))
    item_id, related = publish(
        engine,
        you_said="School taxis were often late.",
        we_did="We changed the taxi company on two routes.",
        service_key="travel_assistance",
        theme=None,
    )
    assert [r.conversation_id for r in related] == ["sms-yes"]
    assert [i.id for i in latest_items(engine)] == [item_id]
