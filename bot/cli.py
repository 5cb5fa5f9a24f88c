"""The command line: ``python -m bot <group> <command>``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.config import PROJECT_ROOT, exit_if_unsafe, load_settings
from bot.db import make_engine, upgrade
from bot.directory import DirectoryError
from bot.directory.easyread import MAX_SUMMARY_WORDS
from bot.directory.importer import (
    EXIT_NOTHING,
    EXIT_SKIPPED,
    ImportResult,
    ReadOptions,
    read_source,
)
from bot.directory.render import signpost_text
from bot.directory.store import load_directory, save_directory
from bot.text import printable


def say(*parts: object, file: TextIO | None = None, end: str = "\n") -> None:
    """Print, with any terminal control characters in the text shown, not acted on
    (case text, feedback and errors can hold what a client sent)."""
    print(*(printable(part) for part in parts), file=file, end=end)


def one_line(value: object) -> str:
    """A value for a one-line listing: control characters and newlines shown escaped."""
    return printable(value, keep_newlines=False)


def _engine():  # type: ignore[no-untyped-def]
    engine = make_engine(load_settings().database_url)
    upgrade(engine)
    return engine


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    _engine()
    say("Database schema is up to date.")
    return 0


SHOWN = 20  # lines per section of the import report, unless --all


def _section(title: str, lines: list[str], show_all: bool) -> None:
    if not lines:
        return
    say(f"\n{title} ({len(lines)}):")
    shown = lines if show_all else lines[:SHOWN]
    for line in shown:
        say(f"  - {line}")
    if len(lines) > len(shown):
        say(f"  ... and {len(lines) - len(shown)} more (--all lists every one)")


def _import_report(result: ImportResult, show_all: bool) -> None:
    """Everything an officer should know about what was read, one section each."""
    for note in result.notes:
        say(note)
    _section("Not imported, as the source says they are closed or not for under-26s",
             result.not_imported, show_all)  # fmt: skip
    _section("Skipped rows: not in the directory", result.skipped, show_all)
    _section("Values left out: the rest of each row was imported", result.left_out, show_all)
    _section(
        "Summaries cut from a long description: please write a one-line summary "
        f"({MAX_SUMMARY_WORDS} words at most) for",
        result.rewrite,
        show_all,
    )
    _section(
        "Taxonomy terms no rule maps to a need (add them to the taxonomy map), "
        "with how many services each would affect",
        [f"{term.label}: {count} service(s)" for term, count in result.unmapped],
        show_all,
    )
    if result.without_need:
        keys = ", ".join(result.without_need[:SHOWN])
        more = len(result.without_need) - SHOWN
        say(
            f"\n{len(result.without_need)} entries have no need: they are found only by their "
            f"own words: {keys}{f' ... and {more} more' if more > 0 else ''}"
        )


def cmd_directory_import(args: argparse.Namespace) -> int:
    location = args.file or str(load_settings().directory_file)
    options = ReadOptions(
        needs_path=Path(args.needs) if args.needs else None,
        taxonomy_map=Path(args.taxonomy_map) if args.taxonomy_map else None,
        source=args.source,
        per_page=args.per_page,
    )
    try:
        result = read_source(location, options)
    except DirectoryError as exc:
        say(exc, file=sys.stderr)
        say(f"Nothing was imported (exit code {exc.exit_code}).", file=sys.stderr)
        return exc.exit_code
    directory = result.directory
    _import_report(result, args.all)
    if not directory.entries:
        say(f"\n{location}: no entry could be imported. Nothing changed.", file=sys.stderr)
        return EXIT_NOTHING
    if args.check:
        say(
            f"\n{location}: {len(directory.entries)} entries and {len(directory.needs)} needs "
            "can be imported (--check: nothing changed)."
        )
        return result.exit_code
    replace = args.replace
    if replace and not result.complete:
        say("\n--replace ignored: not every page of the source was read, so nothing is removed.")
        replace = False
    engine = _engine()
    report = save_directory(engine, directory, replace=replace)
    flag = " (sample data)" if directory.sample_data else ""
    say(
        f"\nImported {location}{flag} as source '{directory.source}': {report.added} added, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.removed} removed, "
        f"{report.needs} needs."
    )
    _section(
        "Not changed: these keys belong to another source (use --source to name it)",
        list(report.clashes),
        args.all,
    )
    if report.kept:
        say(
            "Kept, although --replace would remove them, because the assistant needs them: "
            + ", ".join(report.kept)
        )
    if report.unused_needs:
        say("Needs no entry helps with: " + ", ".join(report.unused_needs))
    _build_index(engine)
    code = EXIT_SKIPPED if report.clashes else result.exit_code
    if code:
        say(f"Exit code {code}: some rows were skipped or some values left out (see above).")
    return code


def _build_index(engine) -> None:  # type: ignore[no-untyped-def]
    """Build and save the search index now, so servers load it instead of building it."""
    import time

    from bot.directory.catalog import load_catalog

    started = time.monotonic()
    try:
        version, catalog = load_catalog(engine)
    except Exception as exc:  # the import itself is done; servers will build it instead
        say(f"The search index was not saved ({exc}); the servers will build it.")
        return
    say(
        f"Search index ready: version {version}, {len(catalog.directory.entries)} entries "
        f"({time.monotonic() - started:.1f} s)."
    )


def cmd_directory_list(_args: argparse.Namespace) -> int:
    directory = load_directory(_engine())
    for entry in directory.entries:
        say(f"{entry.key:28} {entry.kind:8} {entry.age_min:>2}-{entry.age_max:<2} {entry.name}")
    say(f"{len(directory.entries)} entries.")
    return 0


def cmd_directory_search(args: argparse.Namespace) -> int:
    from bot.directory.catalog import load_catalog

    _, catalog = load_catalog(_engine())
    matches = catalog.search(args.text, age=args.age, area=args.area)
    if not matches:
        say("No match.")
        return 1
    for match in matches:
        say(f"{match.score:6.2f}  {match.entry.key:28} needs: {', '.join(match.needs)}")
    say()
    say(signpost_text([m.entry for m in matches]))
    return 0


def cmd_directory_publish(args: argparse.Namespace) -> int:
    from datetime import date

    from bot.publish.writer import PublishError, publish
    from bot.speech.cache import SpeechCache
    from bot.speech.config import load_speech_settings
    from bot.speech.engines import build_engines

    settings = load_settings()
    engine = _engine()
    cache = None
    if not args.no_audio:
        speech = load_speech_settings()
        cache = SpeechCache(engine, settings.audio_dir, build_engines(speech), speech.language)
    out = Path(args.out or settings.publish_dir)
    search = f"{settings.public_url}/whos-who/search"
    try:
        publication = publish(engine, out, date.today(), search, cache)
    except PublishError as exc:
        say(exc, file=sys.stderr)
        return 2
    say(publication.report, end="")
    say(f"Open {out.resolve() / 'index.html'} (or /whos-who/ on the running Rasa server).")
    return 1 if publication.audio_failed else 0


def cmd_privacy_retention(args: argparse.Namespace) -> int:
    from bot.retention import run_retention

    settings = load_settings()
    days = args.days if args.days is not None else settings.retention_days
    tracker = make_engine(settings.tracker_database_url)
    audio = (settings.audio_dir, PROJECT_ROOT / "domain.yml")
    audit_days = args.audit_days if args.audit_days is not None else settings.audit_retention_days
    report = run_retention(_engine(), tracker, days, audio=audio, audit_days=audit_days)
    say(f"Retention: removed what was older than {days} days.")
    say(f"The staff audit log: removed entries older than {audit_days} days.")
    for kind, count in report.items():
        say(f"  {kind}: {count}")
    return 0


def _routing():  # type: ignore[no-untyped-def]
    from bot.routing.rules import load_routing

    return load_routing()


def cmd_cases_list(args: argparse.Namespace) -> int:
    from bot.routing.cases import list_cases

    cases = list_cases(_engine(), status=args.status)
    for case in cases:
        say(
            f"{one_line(case.reference)}  {case.status:12} {case.urgency:7} "
            f"{one_line(case.service_key):26} {case.created_at:%Y-%m-%d %H:%M}  "
            f"{one_line(case.summary[:50])}"
        )
    say(f"{len(cases)} case(s).")
    return 0


def cmd_cases_show(args: argparse.Namespace) -> int:
    from bot.routing.cases import get_case, history

    engine = _engine()
    case = get_case(engine, args.reference)
    say(f"{case.reference}: {case.status}, {case.urgency}, for {case.service_key}")
    say(f"Channel: {case.channel}. Due: {case.due_at:%Y-%m-%d %H:%M}.")
    say(f"What the family said: {one_line(case.summary)}")
    from bot.routing.callbacks import call_back_number, wants_call_back

    if wants_call_back(engine, case.reference):
        number = call_back_number(engine, case.reference) or "no longer kept (erased)"
        say(f"Call back: yes, on {one_line(number)}")
    for event in history(engine, args.reference):
        note = f" - {one_line(event.note)}" if event.note else ""
        say(f"  {event.at:%Y-%m-%d %H:%M} {event.status} by {one_line(event.by)}{note}")
    return 0


def _staff_change(status: str):  # type: ignore[no-untyped-def]
    def command(args: argparse.Namespace) -> int:
        from bot.routing.cases import CaseNotFound, InvalidTransition, staff_update

        try:
            case = staff_update(_engine(), args.reference, status, by=args.by, message=args.message)
        except (CaseNotFound, InvalidTransition) as exc:
            say(exc, file=sys.stderr)
            return 2
        say(f"{case.reference} is now {case.status}. The family will be told if they can be.")
        return 0

    return command


def cmd_cases_escalate(_args: argparse.Namespace) -> int:
    from bot.routing.cases import escalate_overdue

    escalated = escalate_overdue(_engine(), _routing())
    say(f"Escalated {len(escalated)} case(s): {', '.join(c.reference for c in escalated)}")
    return 0


def cmd_outbox_deliver(_args: argparse.Namespace) -> int:
    import asyncio

    from bot.notify.registry import build_senders
    from bot.notify.worker import close_senders, one_round

    settings = load_settings()
    engine = _engine()
    senders = build_senders(settings)

    async def deliver():  # type: ignore[no-untyped-def]
        try:
            return await one_round(engine, senders, settings.operations_contact)
        finally:
            await close_senders(senders)

    report = asyncio.run(deliver())
    say(
        f"Sent {report.sent}, retrying {report.retrying}, dead {report.dead}, "
        f"suppressed {report.suppressed}."
    )
    return 0


def cmd_outbox_run(_args: argparse.Namespace) -> int:
    from bot.notify.worker import main as run_worker

    settings = load_settings()
    exit_if_unsafe(settings)  # it sends with the real credentials
    _engine()  # migrate first
    logging.getLogger().setLevel(logging.INFO)
    return run_worker(settings)


def cmd_outbox_dead(_args: argparse.Namespace) -> int:
    from bot.notify.outbox import alert_line, dead_letters

    rows = dead_letters(_engine())
    for row in rows:
        say(f"{row.created_at:%Y-%m-%d %H:%M}  {one_line(alert_line(row))}")
    say(f"{len(rows)} message(s) need attention. Send one again: python -m bot outbox retry ID")
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    from bot.notify.outbox import get_message, retry

    engine = _engine()
    if retry(engine, args.id):
        say(f"Message {args.id} will be sent again within a few seconds.")
        return 0
    row = get_message(engine, args.id)
    why = "there is no such message" if row is None else f"it is {row.status}, not dead"
    say(f"Message {args.id} was not queued again: {why}.", file=sys.stderr)
    return 2


def cmd_privacy_inventory(args: argparse.Namespace) -> int:
    from bot.inventory import markdown, replace_section

    text = markdown()
    if not args.write:
        say(text, end="")
        return 0
    path = Path(args.write)
    path.write_text(replace_section(path.read_text(encoding="utf-8"), text), encoding="utf-8")
    say(f"Wrote the inventory into {path}.")
    return 0


def cmd_feedback_publish(args: argparse.Namespace) -> int:
    from bot.feedback.you_said import publish_and_notify

    if not args.service and not args.theme:
        say("Say which feedback this answers: --service KEY and/or --theme THEME.")
        return 2
    item_id, told, unreachable = publish_and_notify(
        _engine(), args.you_said, args.we_did, args.service, args.theme
    )
    say(
        f"Published item {item_id}. {told} family(ies) will be told on their channel; "
        f"{unreachable} will see it when they ask what has changed."
    )
    return 0


def cmd_feedback_report(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from bot.feedback.report import bar_chart_svg, count, summary, to_csv
    from bot.feedback.store import feedback_between

    start = datetime.fromisoformat(args.start).replace(tzinfo=timezone.utc)
    end = datetime.fromisoformat(args.end).replace(tzinfo=timezone.utc)
    counts = count(feedback_between(_engine(), start, end))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    period = f"from {args.start} to {args.end}"
    (out / "feedback.csv").write_text(to_csv(counts), encoding="utf-8")
    (out / "summary.txt").write_text(summary(counts, period) + "\n", encoding="utf-8")
    (out / "themes.svg").write_text(
        bar_chart_svg(counts.by_theme, f"Feedback themes {period}"), encoding="utf-8"
    )
    say(summary(counts, period))
    say(f"Wrote {out / 'feedback.csv'}, {out / 'summary.txt'} and {out / 'themes.svg'}.")
    return 0


def cmd_speech_prerender(args: argparse.Namespace) -> int:
    from bot.speech.prerender import prerender

    settings = load_settings()
    report = prerender(_engine(), settings, Path(args.domain), progress=not args.quiet)
    say(
        f"Speech in {settings.audio_dir}: {report.new} new, {report.reused} reused, "
        f"{report.failed} failed."
    )
    for text, reason in report.failures[:10]:
        say(f"  not made: {text[:60]!r}: {reason}")
    return 1 if report.failed else 0


def cmd_staff_add(args: argparse.Namespace) -> int:
    """Make a staff console account; the password is asked without echo, or read from stdin."""
    import getpass

    from bot.staff import audit
    from bot.staff.accounts import AccountError, create_account

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("The same password again: ") != password:
            say("The two passwords are not the same. Nothing was made.", file=sys.stderr)
            return 2
    engine = _engine()
    try:
        account = create_account(engine, args.email, password, args.role, args.service)
    except AccountError as exc:
        say(exc, file=sys.stderr)
        return 2
    audit.record(engine, "command line", "account created", account.email, account.role)
    say(f"Made an account for {account.email} ({account.role_name}). Log in at /login.")
    return 0


def cmd_staff_list(_args: argparse.Namespace) -> int:
    from bot.staff.accounts import list_accounts

    accounts = list_accounts(_engine())
    for account in accounts:
        state = "on" if account.active else "off"
        say(f"{account.email:40} {account.role:13} {account.service_key or '':26} {state}")
    say(f"{len(accounts)} account(s).")
    return 0


def cmd_safety_eval(args: argparse.Namespace) -> int:
    from bot.safety import check_message
    from bot.safety.evaluate import evaluate, load_set, table

    def detect(text: str) -> bool:
        return check_message(
            text, learned=not args.patterns_only, threshold=args.threshold, floor=args.floor
        ).crisis

    for path in args.files:
        say(f"{path} (detector only{', patterns alone' if args.patterns_only else ''})")
        say(table(evaluate(load_set(Path(path)), detect), show_texts=not args.quiet))
    return 0


def cmd_safety_followups(args: argparse.Namespace) -> int:
    from bot.safety.followup_eval import evaluate_followups, followup_table, load_followups

    for path in args.files:
        say(f"{path} (the turns after an emergency reply, rules alone)")
        say(followup_table(evaluate_followups(load_followups(Path(path))), not args.quiet))
    return 0


def cmd_safety_check(args: argparse.Namespace) -> int:
    from bot.safety import check_message, emergency_text

    check = check_message(" ".join(args.text))
    say(check)
    if check.crisis:
        say(emergency_text(None, check.category, also=check.categories[1:]))
    return 0


def cmd_safety_train(args: argparse.Namespace) -> int:
    from bot.safety.learned import load_or_train

    load_or_train()
    say("The learned part of the crisis detector is trained and cached in var/cache/.")
    return 0


def cmd_safety_cv(args: argparse.Namespace) -> int:
    from bot.safety.crossval import leave_one_writer_out, report, report_for

    scored = leave_one_writer_out()
    say(report(scored, show_texts=args.show and not args.writers))
    if args.writers:
        say(report_for(scored, args.writers.split(","), show_texts=args.show))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)

    db = groups.add_parser("db", help="database schema").add_subparsers(dest="cmd", required=True)
    db.add_parser("upgrade", help="run every migration").set_defaults(func=cmd_db_upgrade)

    directory = groups.add_parser("directory", help="the Who's Who").add_subparsers(
        dest="cmd", required=True
    )
    imp = directory.add_parser(
        "import",
        help="import a YAML/CSV file, Open Referral JSON, an HSDS CSV package or a live feed",
        description="Exit codes: 0 all imported; 1 imported, but some rows were skipped or "
        "values left out; 2 nothing imported; 3 the live feed failed part-way, nothing changed.",
    )
    imp.add_argument(
        "file",
        nargs="?",
        help="a file, an HSDS data package (folder, datapackage.json or zip), or an "
        "http(s) address of an Open Referral services API; default: DIRECTORY_FILE",
    )
    imp.add_argument("--needs", help="need taxonomy file (default: needs.yml beside the file)")
    imp.add_argument(
        "--taxonomy-map",
        help="the source's taxonomy terms to our needs (default: data/directory/taxonomy_map.yml)",
    )
    imp.add_argument(
        "--source", help="name this source (default: the file's name, or the feed's address)"
    )
    imp.add_argument("--per-page", type=int, help="services per page to ask a live feed for")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="also remove this source's entries it no longer lists (after every page is read)",
    )
    imp.add_argument("--check", action="store_true", help="read and report only, change nothing")
    imp.add_argument("--all", action="store_true", help="list every line of the report")
    imp.set_defaults(func=cmd_directory_import)
    directory.add_parser("list", help="list entries").set_defaults(func=cmd_directory_list)
    search = directory.add_parser("search", help="who can help with a need")
    search.add_argument("text")
    search.add_argument("--age", type=int)
    search.add_argument("--area")
    search.set_defaults(func=cmd_directory_search)
    pub = directory.add_parser("publish", help="write the page, the booklets and the audio guide")
    pub.add_argument("--out", help="folder to write to (default: PUBLISH_DIR, var/publish)")
    pub.add_argument("--no-audio", action="store_true", help="skip the audio guide")
    pub.set_defaults(func=cmd_directory_publish)

    privacy = groups.add_parser("privacy", help="retention and erasure").add_subparsers(
        dest="cmd", required=True
    )
    retention = privacy.add_parser("retention", help="remove data older than RETENTION_DAYS")
    retention.add_argument("--days", type=int, help="override RETENTION_DAYS")
    retention.add_argument("--audit-days", type=int, help="override AUDIT_RETENTION_DAYS")
    retention.set_defaults(func=cmd_privacy_retention)
    inventory = privacy.add_parser("inventory", help="every personal column and its rules")
    inventory.add_argument("--write", metavar="FILE", help="update that section of FILE")
    inventory.set_defaults(func=cmd_privacy_inventory)

    cases = groups.add_parser("cases", help="cases raised by families").add_subparsers(
        dest="cmd", required=True
    )
    listing = cases.add_parser("list", help="list cases")
    listing.add_argument("--status")
    listing.set_defaults(func=cmd_cases_list)
    show = cases.add_parser("show", help="a case and its history")
    show.add_argument("reference")
    show.set_defaults(func=cmd_cases_show)
    for name, status, text in (
        ("ack", "acknowledged", "acknowledge a case"),
        ("progress", "in_progress", "mark a case in progress"),
        ("close", "closed", "close a case"),
    ):
        change = cases.add_parser(name, help=text)
        change.add_argument("reference")
        change.add_argument("--message", help="a reply sent to the family on their channel")
        change.add_argument("--by", default="staff", help="who made the change")
        change.set_defaults(func=_staff_change(status))
    cases.add_parser("escalate", help="escalate cases not acknowledged in time").set_defaults(
        func=cmd_cases_escalate
    )
    feedback = groups.add_parser("feedback", help="feedback reports and You said, we did")
    feedback_cmds = feedback.add_subparsers(dest="cmd", required=True)
    publish = feedback_cmds.add_parser("publish", help='publish a "You said, we did" item')
    publish.add_argument("--you-said", required=True)
    publish.add_argument("--we-did", required=True)
    publish.add_argument("--service", help="directory key the feedback was about")
    publish.add_argument("--theme", help="theme key, e.g. transport")
    publish.set_defaults(func=cmd_feedback_publish)
    report = feedback_cmds.add_parser("report", help="counts as CSV, a summary and a chart")
    report.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
    report.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD (not included)")
    report.add_argument("--out", default="var/reports")
    report.set_defaults(func=cmd_feedback_report)

    speech = groups.add_parser("speech", help="spoken audio for the phone line").add_subparsers(
        dest="cmd", required=True
    )
    prerender = speech.add_parser("prerender", help="make the audio for every fixed text now")
    prerender.add_argument("--domain", default=str(PROJECT_ROOT / "domain.yml"))
    prerender.add_argument("--quiet", action="store_true", help="no progress bar")
    prerender.set_defaults(func=cmd_speech_prerender)

    outbox = groups.add_parser("outbox", help="outbound messages").add_subparsers(
        dest="cmd", required=True
    )
    outbox.add_parser("deliver", help="send what is due, once (for cron)").set_defaults(
        func=cmd_outbox_deliver
    )
    outbox.add_parser("run", help="the outbox worker: deliver until stopped").set_defaults(
        func=cmd_outbox_run
    )
    outbox.add_parser("dead", help="messages that need staff (dead or overdue)").set_defaults(
        func=cmd_outbox_dead
    )
    again = outbox.add_parser("retry", help="send a dead message again")
    again.add_argument("id", type=int)
    again.set_defaults(func=cmd_outbox_retry)

    from bot.staff.accounts import ROLES

    staff = groups.add_parser("staff", help="staff console accounts").add_subparsers(
        dest="cmd", required=True
    )
    add = staff.add_parser("add", help="make an account (the first admin, for example)")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=sorted(ROLES))
    add.add_argument("--service", help="directory key of their service (service staff)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=cmd_staff_add)
    staff.add_parser("list", help="list accounts").set_defaults(func=cmd_staff_list)

    safety = groups.add_parser("safety", help="the crisis detector").add_subparsers(
        dest="cmd", required=True
    )
    evaluation = safety.add_parser("eval", help="recall per category and false alarms of a set")
    evaluation.add_argument("files", nargs="+")
    evaluation.add_argument("--patterns-only", action="store_true")
    evaluation.add_argument("--threshold", type=float, default=None)
    evaluation.add_argument("--floor", type=float, default=None)
    evaluation.add_argument("--quiet", action="store_true", help="figures only")
    evaluation.set_defaults(func=cmd_safety_eval)
    followups = safety.add_parser(
        "followups", help="how the turns after an emergency reply are read, for a set"
    )
    followups.add_argument("files", nargs="+")
    followups.add_argument("--quiet", action="store_true", help="figures only")
    followups.set_defaults(func=cmd_safety_followups)
    check = safety.add_parser("check", help="what the detector says about a message")
    check.add_argument("text", nargs="+")
    check.set_defaults(func=cmd_safety_check)
    safety.add_parser("train", help="train and cache the learned part").set_defaults(
        func=cmd_safety_train
    )
    cv = safety.add_parser(
        "cv", help="leave-one-writer-out cross-validation on the development sets (minutes)"
    )
    cv.add_argument("--writers", help="also a table for these sets only, e.g. safety_dev_w4")
    cv.add_argument("--show", action="store_true", help="list the misses and false alarms")
    cv.set_defaults(func=cmd_safety_cv)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))
