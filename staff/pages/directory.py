"""The Who's Who: list and search, add and edit with the importer's validation, previews of
the reply families get, history of changes, and file imports with a dry run first."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.directory.records import KINDS
from bot.directory.store import load_directory
from bot.staff import audit
from bot.staff.directory_edit import (
    FIELDS,
    apply_import,
    check_form,
    dry_run,
    entry_fields,
    history,
    preview,
    save_entry,
)
from staff.render import render
from staff.security import flash, form_value, page

SUFFIXES = (".json", ".yml", ".yaml", ".csv")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_UPLOAD = 5 * 1024 * 1024


@page("directory")
async def directory_list(request: Request) -> Response:
    directory = load_directory(request.app.state.engine)
    query = request.query_params.get("q", "").strip()
    entries = list(directory.entries)
    if query:
        words = query.lower().split()
        entries = [
            e
            for e in entries
            if all(
                w in " ".join((e.key, e.name, e.summary, *e.needs, *e.keywords)).lower()
                for w in words
            )
        ]
    return render(
        request, "directory.html", {"entries": entries, "q": query, "total": len(directory.entries)}
    )


def _entry_or_404(request: Request):  # type: ignore[no-untyped-def]
    entry = load_directory(request.app.state.engine).entry(request.path_params["key"])
    if entry is None:
        raise HTTPException(404)
    return entry


@page("directory")
async def entry_detail(request: Request) -> Response:
    entry = _entry_or_404(request)
    return render(
        request,
        "entry.html",
        {
            "entry": entry,
            "preview": preview(entry),
            "changes": history(request.app.state.engine, entry.key),
        },
    )


def _form_page(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    problems: list[str],
    key: str | None,
    status_code: int = 200,
    checked_preview: object = None,
) -> Response:
    needs = load_directory(request.app.state.engine).needs
    return render(
        request,
        "entry_form.html",
        {
            "values": values,
            "errors": errors,
            "problems": problems,
            "key": key,
            "kinds": KINDS,
            "needs": needs,
            "preview": checked_preview,
        },
        status_code=status_code,
    )


async def _edit(request: Request, key: str | None) -> Response:
    engine = request.app.state.engine
    if request.method == "GET":
        values = entry_fields(_entry_or_404(request)) if key else {"kind": "service"}
        return _form_page(request, {k: str(v) for k, v in values.items()}, {}, [], key)
    values = {name: form_value(request, name) for name in FIELDS}
    checked = check_form(engine, values, existing_key=key)
    if checked.entry is None:
        return _form_page(request, values, checked.field_errors, checked.problems, key, 400)
    if form_value(request, "action") != "save":
        return _form_page(request, values, {}, [], key, checked_preview=preview(checked.entry))
    account = request.state.account
    action = save_entry(engine, checked.entry, by=account.email)
    audit.record(engine, account.email, f"directory {action}", checked.entry.key)
    flash(
        request,
        f"{checked.entry.name}: {action}. Families get the new answer within " "a few seconds.",
    )
    return RedirectResponse(f"/directory/{checked.entry.key}", 303)


@page("directory")
async def entry_new(request: Request) -> Response:
    return await _edit(request, None)


@page("directory")
async def entry_edit(request: Request) -> Response:
    return await _edit(request, request.path_params["key"])


@page("directory")
async def directory_import(request: Request) -> Response:
    engine = request.app.state.engine
    folder: Path = request.app.state.import_dir
    if request.method == "GET":
        return render(request, "import.html", {"plan": None, "errors": {}})
    form = request.state.form
    replace = form_value(request, "replace") == "yes"
    token = form_value(request, "token")
    if token:  # the second step: apply the file that was checked
        suffix = form_value(request, "suffix")
        if not TOKEN_RE.match(token) or suffix not in SUFFIXES:
            raise HTTPException(400)
        path = folder / f"{token}{suffix}"
        if not path.is_file():
            return render(
                request,
                "import.html",
                {
                    "plan": None,
                    "errors": {"file": "That upload has expired. Choose the file again"},
                },
                400,
            )
        plan = apply_import(engine, path, by=request.state.account.email, replace=replace)
        path.unlink(missing_ok=True)
        if plan.problems:
            return render(request, "import.html", {"plan": plan, "errors": {}}, 400)
        audit.record(
            engine,
            request.state.account.email,
            "directory imported",
            "",
            f"{len(plan.added)} added, {len(plan.updated)} updated, "
            f"{len(plan.removed)} removed",
        )
        flash(
            request,
            f"Imported: {len(plan.added)} added, {len(plan.updated)} updated, "
            f"{len(plan.removed)} removed.",
        )
        return RedirectResponse("/directory", 303)
    upload = form.get("file")
    name = upload.filename if isinstance(upload, UploadFile) else ""
    suffix = Path(name or "").suffix.lower()
    if not isinstance(upload, UploadFile) or not name:
        return render(
            request,
            "import.html",
            {"plan": None, "errors": {"file": "Choose a file to check"}},
            400,
        )
    if suffix not in SUFFIXES:
        return render(
            request,
            "import.html",
            {
                "plan": None,
                "errors": {"file": "The file must be Open Referral UK JSON (.json), YAML or CSV"},
            },
            400,
        )
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return render(
            request,
            "import.html",
            {"plan": None, "errors": {"file": "The file must be smaller than 5 MB"}},
            400,
        )
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}{suffix}"
    path.write_bytes(data)
    plan = dry_run(engine, path, replace=replace)
    if plan.problems:
        path.unlink(missing_ok=True)
    audit.record(
        engine,
        request.state.account.email,
        "directory import checked",
        name[:100],
        f"{len(plan.problems)} problems",
    )
    return render(
        request,
        "import.html",
        {
            "plan": plan,
            "errors": {},
            "token": token,
            "suffix": suffix,
            "replace": replace,
            "filename": name,
        },
        400 if plan.problems else 200,
    )
