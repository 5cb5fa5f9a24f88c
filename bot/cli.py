"""The command line: ``python -m bot <group> <command>``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import load_settings
from bot.db import make_engine, upgrade
from bot.directory import Catalog, DirectoryError, load_file
from bot.directory.render import signpost_text
from bot.directory.store import load_directory, save_directory


def _engine():  # type: ignore[no-untyped-def]
    engine = make_engine(load_settings().database_url)
    upgrade(engine)
    return engine


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    _engine()
    print("Database schema is up to date.")
    return 0


def cmd_directory_import(args: argparse.Namespace) -> int:
    path = Path(args.file or load_settings().directory_file)
    try:
        directory = load_file(path, Path(args.needs) if args.needs else None)
    except DirectoryError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.check:
        print(
            f"{path}: {len(directory.entries)} entries and {len(directory.needs)} needs are valid."
        )
        return 0
    report = save_directory(_engine(), directory, replace=args.replace)
    flag = " (sample data)" if directory.sample_data else ""
    print(
        f"Imported {path}{flag}: {report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {report.needs} needs."
    )
    return 0


def cmd_directory_list(_args: argparse.Namespace) -> int:
    directory = load_directory(_engine())
    for entry in directory.entries:
        print(f"{entry.key:28} {entry.kind:8} {entry.age_min:>2}-{entry.age_max:<2} {entry.name}")
    print(f"{len(directory.entries)} entries.")
    return 0


def cmd_directory_search(args: argparse.Namespace) -> int:
    catalog = Catalog(load_directory(_engine()))
    matches = catalog.search(args.text, age=args.age, area=args.area)
    if not matches:
        print("No match.")
        return 1
    for match in matches:
        print(f"{match.score:6.2f}  {match.entry.key:28} needs: {', '.join(match.needs)}")
    print()
    print(signpost_text([m.entry for m in matches]))
    return 0


def cmd_privacy_retention(args: argparse.Namespace) -> int:
    from bot.retention import run_retention

    settings = load_settings()
    days = args.days if args.days is not None else settings.retention_days
    report = run_retention(_engine(), make_engine(settings.tracker_database_url), days)
    print(f"Retention: removed what was older than {days} days.")
    for kind, count in report.items():
        print(f"  {kind}: {count}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)

    db = groups.add_parser("db", help="database schema").add_subparsers(dest="cmd", required=True)
    db.add_parser("upgrade", help="run every migration").set_defaults(func=cmd_db_upgrade)

    directory = groups.add_parser("directory", help="the Who's Who").add_subparsers(
        dest="cmd", required=True
    )
    imp = directory.add_parser("import", help="import a YAML, CSV or Open Referral UK JSON file")
    imp.add_argument("file", nargs="?", help="default: DIRECTORY_FILE (the sample directory)")
    imp.add_argument("--needs", help="need taxonomy file (default: needs.yml beside the file)")
    imp.add_argument("--replace", action="store_true", help="remove entries not in the file")
    imp.add_argument("--check", action="store_true", help="validate only, change nothing")
    imp.set_defaults(func=cmd_directory_import)
    directory.add_parser("list", help="list entries").set_defaults(func=cmd_directory_list)
    search = directory.add_parser("search", help="who can help with a need")
    search.add_argument("text")
    search.add_argument("--age", type=int)
    search.add_argument("--area")
    search.set_defaults(func=cmd_directory_search)

    privacy = groups.add_parser("privacy", help="retention and erasure").add_subparsers(
        dest="cmd", required=True
    )
    retention = privacy.add_parser("retention", help="remove data older than RETENTION_DAYS")
    retention.add_argument("--days", type=int, help="override RETENTION_DAYS")
    retention.set_defaults(func=cmd_privacy_retention)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))
