"""Safeguarding: spot messages that suggest someone is at risk, and answer with the right help.

* ``categories`` - the 17 categories as data (``data/safety/categories.yml``)
* ``detector`` - ``check_message``: readable patterns and a learned model, recall first
* ``learned`` - the learned part (scikit-learn on TF-IDF and sentence embeddings), trained
  once and cached
* ``embed`` - all-MiniLM-L6-v2 sentence embeddings, run in numpy
* ``crossval`` - leave-one-writer-out cross-validation (``python -m bot safety cv``)
* ``reply`` - ``emergency_text``: the category's help, first, in one short reply
* ``followup`` - the turns after an emergency reply
"""

from bot.safety.categories import CATEGORY_KEYS, Catalogue, Category, load_catalogue
from bot.safety.detector import SafetyCheck, check_message, is_crisis, warm_up
from bot.safety.reply import EMERGENCY_LINE, emergency_text, is_emergency_reply

__all__ = [
    "CATEGORY_KEYS",
    "EMERGENCY_LINE",
    "Catalogue",
    "Category",
    "SafetyCheck",
    "check_message",
    "emergency_text",
    "is_crisis",
    "is_emergency_reply",
    "load_catalogue",
    "warm_up",
]
