"""What the phone line says in its own words: short, easy-read sentences (15 words at most).

Kept here, not in the channel, so ``prerender`` can make their audio ahead of time.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.directory.topics import MENU_TOPICS

WELCOME = "Hello. This is the Local Offer helper, for children and young people with special needs."
ASK = (
    "Tell me what your family needs, in your own words. Or press 0 to hear a list of topics. "
    "Press 8 to hear the whole Who's Who."
)
NOT_HEARD = "Sorry, I did not hear you. Please tell me what you need."
NOT_UNDERSTOOD = "Sorry, I did not understand. Please tell me again, in other words."
TRY_AGAIN = "Please tell me what your family needs, in other words."
AFTER_ANSWER = (
    "Press 9 to hear that again. Press 5 to get it by text. "
    "Press 7 to leave a message about a service. "
    "Press 8 to hear the whole Who's Who. "
    "Press 0 to talk about something else. Or ask me something else."
)
MENU_INTRO = "Here are the topics."
MENU_OUTRO = "Press 9 to hear the topics again. Or tell me in your own words."
ANYTHING_ELSE = "Is there anything else? Tell me now, or hang up to finish."
TEXT_SENT = "I will send that to this phone by text. It may take a minute."
NO_TEXT = "Sorry, I cannot send a text to this phone."
NO_TEXT_HIDDEN = "Sorry, your number is hidden, so I cannot text you. Press 9 to hear it again."
NOTHING_TO_SEND = "Sorry, I have no answer to send yet. Please ask me first."
RECORD_PROMPT = (
    "Please leave your message after the beep. Say which service it is about. "
    "Press the hash key when you finish."
)
CALL_BACK_QUESTION = (
    "Do you want a call back on this number? We keep it only for that. "
    "Press 1 for yes. Press 2 for no."
)
HIDDEN_NUMBER = "Your number is hidden, so we cannot call you back."
NO_RECORDING = "Sorry, I did not get a message."
SLOW = "Sorry, I am still looking. Press 9 in a moment to hear the answer."
ERROR = "Sorry, something went wrong. Please try again in a few minutes."
GOODBYE = "Thank you for calling. Goodbye."

PROMPTS = (
    WELCOME, ASK, NOT_HEARD, NOT_UNDERSTOOD, TRY_AGAIN, AFTER_ANSWER, MENU_INTRO, MENU_OUTRO,
    ANYTHING_ELSE, TEXT_SENT, NO_TEXT, NO_TEXT_HIDDEN, NOTHING_TO_SEND, RECORD_PROMPT,
    CALL_BACK_QUESTION, HIDDEN_NUMBER, NO_RECORDING, SLOW, ERROR, GOODBYE,
)  # fmt: skip

# The keypad menu: the same main topics, in the same order, as the chat's topic menu.
VOICE_MENU_TOPICS = MENU_TOPICS


def message_sent(reference: str, team: str, days: int, call_back: bool) -> str:
    """What happened to a phone message, exactly: a case with its reference, and whether
    the team will ring back (the reference is spelled out when spoken)."""
    when = f"within {days} working day{'s' if days != 1 else ''}"
    then = (
        f"They will call you back on this number, {when}."
        if call_back
        else "They will listen to it. They will not call you back, as you asked."
    )
    return f"Thank you. Your message is now case {reference}. It has gone to {team}. {then}"


def option_line(digit: int | str, label: str) -> str:
    """'Press 1 for extra help at school.' (a name like "Housing Adaptations" keeps capitals)"""
    label = label.strip().rstrip(".")
    words = label.split()
    if label[1:2].islower() and (len(words) == 1 or words[1][:1].islower()):
        label = label[:1].lower() + label[1:]
    return f"Press {digit} for {label}."


def keypad_menu_text(labels: Sequence[str]) -> str:
    """The spoken keypad menu: one 'Press N for ...' line per topic label, from 1."""
    lines = [MENU_INTRO]
    lines += [option_line(n, label) for n, label in enumerate(labels, start=1)]
    lines.append(MENU_OUTRO)
    return "\n".join(lines)
