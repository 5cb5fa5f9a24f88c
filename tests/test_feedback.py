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


def _feedback(
    conversation="sms-abc", turn="m1", consent=False, service="travel_assistance", channel="sms"
):
    return NewFeedback(
        channel=channel,
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


def test_publish_tells_only_consenting_families_on_channels_that_can_carry_it(engine):
    from bot.feedback.you_said import latest_text, notice_text, publish_and_notify
    from bot.notify.outbox import messages_for

    record_feedback(engine, _feedback("sms-yes", "m1", consent=True))
    record_feedback(engine, _feedback("rest-yes", "m2", consent=True, channel="rest"))
    record_feedback(engine, _feedback("sms-no", "m3", consent=False))
    _, told, unreachable = publish_and_notify(
        engine, "Taxis were late.", "We changed two routes.", None, "transport"
    )
    assert (told, unreachable) == (1, 1)
    (message,) = messages_for(engine, "sms-yes")
    assert message.body == notice_text("Taxis were late.", "We changed two routes.")
    assert messages_for(engine, "sms-no") == [] and messages_for(engine, "rest-yes") == []
    assert latest_text(engine).splitlines() == [
        "Here is what changed because of feedback:",
        "You said: Taxis were late. We did: We changed two routes.",
    ]


def test_report_counts_csv_summary_and_chart(engine):
    import xml.etree.ElementTree as ET
    from datetime import datetime, timedelta, timezone

    from bot.feedback.report import bar_chart_svg, count, summary, to_csv
    from bot.feedback.store import feedback_between

    record_feedback(engine, _feedback("a", "1"))
    record_feedback(engine, _feedback("b", "2", service="portage"))
    now = datetime.now(timezone.utc)
    counts = count(feedback_between(engine, now - timedelta(days=1), now + timedelta(days=1)))
    assert counts.total == 2
    assert to_csv(counts).splitlines() == [
        "dimension,value,count",
        "service,portage,1",
        "service,travel_assistance,1",
        "theme,transport,2",
        "rating,2,2",
        "channel,sms,2",
        "kind,feedback,2",
    ]
    assert summary(counts, "this week").splitlines()[0] == (
        "Feedback this week: 2 pieces. Average rating: 2.0 out of 5."
    )
    svg = ET.fromstring(bar_chart_svg(counts.by_theme, "Themes"))  # noqa: S314 (our own SVG)
    assert len(svg.findall("{http://www.w3.org/2000/svg}rect")) == 1
