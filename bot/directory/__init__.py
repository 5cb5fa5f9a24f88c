"""The Local Offer Who's Who: records, import, storage, search and easy-read text."""

from bot.directory.importer import DirectoryError, load_file
from bot.directory.records import Directory, Entry, Need
from bot.directory.search import Catalog, Match, extract_age

__all__ = [
    "Catalog",
    "Directory",
    "DirectoryError",
    "Entry",
    "Match",
    "Need",
    "extract_age",
    "load_file",
]
