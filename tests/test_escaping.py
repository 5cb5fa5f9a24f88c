"""What a client sends is escaped where it is written: spreadsheet formulas in CSV cells,
terminal control characters in everything the staff command line prints."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from bot.cli import main
from bot.feedback.report import count, to_csv
from bot.feedback.store import FeedbackRow
from bot.notify.outbox import DEAD, OutboxRow, enqueue
from bot.routing.cases import create_case, staff_update
from bot.routing.rules import Decision, load_routing
from bot.text import csv_cell, printable

NASTY = "\x1b[2J\x1b]0;owned\x07\rTW-AAAAAA closed\u202etxt.exe\x9b31m"


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped():
    rows = [
        FeedbackRow(service_key=key, channel=channel, themes=[theme], rating=None)
        for key, channel, theme in (
            ('=HYPERLINK("http://x.example.org","click")', "rest", "transport"),
            ("+SUM(1,2)", "-2+3", "@cmd"),
            ("\tlooks blank", "\rreturn", "plain"),
        )
    ]
    parsed = list(csv.reader(io.StringIO(to_csv(count(rows)))))
    cells = {cell for row in parsed[1:] for cell in row[:2]}
    assert '\'=HYPERLINK("http://x.example.org","click")' in cells
    assert {"'+SUM(1,2)", "'-2+3", "'@cmd", "'\tlooks blank", "'\rreturn", "plain"} <= cells
    assert not any(c[:1] in "=+-@\t\r" for c in cells)
    assert csv_cell(-3) == -3 and csv_cell("3") == "3"


def test_printable_shows_control_characters_instead_of_obeying_them():
    assert printable(NASTY) == (
        "\\x1b[2J\\x1b]0;owned\\x07\\x0dTW-AAAAAA closed\\u202etxt.exe\\x9b31m"
    )
    assert printable("two\nlines") == "two\nlines"
    assert printable("two\nlines", keep_newlines=False) == "two\\nlines"
    assert printable("Crèche – 5 ✓") == "Crèche – 5 ✓"


@pytest.fixture
def app_db(engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    return engine


def test_the_cases_commands_print_a_clients_text_harmlessly(app_db, tmp_path, capsys):
    path = tmp_path / "routing.yml"
    path.write_text(
        "fallback_owner: local_offer\ndefault_target_hours: 72\nservices:\n"
        "  travel_assistance: {notify: email, address: travel@example.org, target_hours: 48}\n"
        "rules:\n  - category: transport\n    service: travel_assistance\n    phrases: [taxi]\n"
    )
    decision = Decision("travel_assistance", "transport", "normal", "rule")
    case = create_case(
        app_db, load_routing(path), decision, f"taxi {NASTY}\nline two", NASTY, "rest-x", True, "1"
    )
    staff_update(app_db, case.reference, "acknowledged", by=NASTY, message=NASTY)

    assert main(["cases", "list"]) == 0
    assert main(["cases", "show", case.reference]) == 0
    out = capsys.readouterr().out
    assert not set(out) & {"\x1b", "\x07", "\r", "\x9b", "\u202e"}
    assert "taxi \\x1b[2J\\x1b]0;owned\\x07\\x0dTW-AAAAAA closed" in out
    assert "line two" in out and "taxi" in out.splitlines()[0]  # one line per case
    assert "What the family said: taxi \\x1b[2J" in out
    assert "by \\x1b[2J" in out  # the staff name and note too


def test_outbox_dead_and_retry_from_the_command_line(app_db, capsys):
    message_id = enqueue(app_db, "email", "x@example.org", "hello", kind="service")
    from bot.db import session_scope

    with session_scope(app_db) as session:
        row = session.get(OutboxRow, message_id)
        row.status, row.attempts = DEAD, 6
        row.last_error = f"refused +447700900123 someone@example.org {NASTY}"
    assert main(["outbox", "dead"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(
        f"#{message_id} service by email: dead after 6 attempt(s); last error: refused "
        "[number] [address] \\x1b[2J\\x1b]0;owned\\x07\\x0dTW-AAAAAA closed\\u202etxt.exe\\x9b31m"
    )
    assert out[1] == "1 message(s) need attention. Send one again: python -m bot outbox retry ID"

    assert main(["outbox", "retry", str(message_id)]) == 0
    assert capsys.readouterr().out == (
        f"Message {message_id} will be sent again within a few seconds.\n"
    )
    assert main(["outbox", "retry", str(message_id)]) == 2
    assert capsys.readouterr().err == (
        f"Message {message_id} was not queued again: it is pending, not dead.\n"
    )
    assert main(["outbox", "retry", "999"]) == 2
    assert "there is no such message" in capsys.readouterr().err
    assert main(["outbox", "dead"]) == 0
    assert capsys.readouterr().out.startswith("0 message(s) need attention.")


def test_the_feedback_report_prints_channels_harmlessly(app_db, tmp_path, capsys):
    from bot.feedback.store import NewFeedback, record_feedback

    record_feedback(app_db, NewFeedback(f"=cmd{NASTY}", "c", "t", "general", 4, "ok", (), False))
    today = datetime.now(timezone.utc).date()
    out_dir = tmp_path / "reports"
    assert main([
        "feedback", "report", "--from", str(today.replace(day=1)), "--to", "2999-01-01",
        "--out", str(out_dir),
    ]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "=cmd\\x1b[2J" in printed
    report = (out_dir / "feedback.csv").read_text(encoding="utf-8")
    (channel_row,) = (r for r in csv.reader(io.StringIO(report)) if r[0] == "channel")
    assert channel_row[1].startswith("'=cmd\x1b[2J")  # the file keeps the data, made inert
