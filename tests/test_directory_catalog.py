"""The catalog every process shares: built once per directory version, then loaded."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.directory import Catalog
from bot.directory.catalog import load_catalog
from bot.directory.records import Entry
from bot.directory.store import save_directory


def test_catalog_is_built_once_per_version_and_loaded_by_every_other_process(
    loaded_engine, sample_directory, tmp_path, monkeypatch
):
    version, built = load_catalog(loaded_engine, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("catalog-*.pickle"))) == 1
    text = "my 3 year old isnt talking yet, just a few words"
    expected = [(m.entry.key, m.score) for m in built.search(text)]
    assert expected[0][0] == "speech_language_therapy"

    real_init = Catalog.__init__
    monkeypatch.setattr(Catalog, "__init__", lambda *a, **k: pytest.fail("built again"))
    again_version, loaded = load_catalog(loaded_engine, cache_dir=tmp_path)
    assert again_version == version
    assert loaded is not built
    assert loaded.classifier is not None  # the classifier comes from its own cache
    assert [(m.entry.key, m.score) for m in loaded.search(text)] == expected

    monkeypatch.setattr(Catalog, "__init__", real_init)
    extra = Entry(
        key="riverside_play", name="Riverside Play", kind="service",
        summary="Play sessions for disabled children.", needs=("short_breaks_activities",),
    )  # fmt: skip
    save_directory(loaded_engine, replace(sample_directory, entries=(extra,), source="feed"))
    new_version, changed = load_catalog(loaded_engine, cache_dir=tmp_path)
    assert new_version == version + 1
    assert changed.directory.entry("riverside_play") is not None
    assert len(list(tmp_path.glob("catalog-*.pickle"))) == 2
