"""The turns after an emergency reply: the person stays with the safeguarding conversation.

``read_followup`` says what a message in that conversation asks for; ``followup_reply``
answers it. A worry about secrecy gets an honest, kind answer; wanting to text gets routes
without talking; fear gets 999 again; anything unclear gets a gentle check ("Are you safe
right now?") before any topic menu, case offer or feedback form. The conversation ends when
the person says they are safe, says goodbye, or clearly asks about something else.
Pure functions: no Rasa, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.safety.reply import EMERGENCY_LINE
from bot.text import normalise

SCARED, SECRECY, TEXT_ROUTE, SAFE, GOODBYE, LEAVE, CHECK = (
    "scared", "secrecy", "text_route", "safe", "goodbye", "leave", "check",
)  # fmt: skip

# Intents that clearly ask about something else, when the model is sure and the words
# carry no worry: the person has moved on, and the ordinary dialogue answers.
LEAVING_INTENTS = frozenset(
    {"ask_signpost", "case_status", "what_changed", "delete_my_data", "give_feedback"}
)
LEAVING_CONFIDENCE = 0.85

_RULES: dict[str, re.Pattern[str]] = {
    SCARED: re.compile(
        r"\b(?:scared|scarred|frightened|terrified|afraid|petrified|panicking|not safe|unsafe|"
        r"dont feel safe|in danger|help me|please help|hes coming|shes coming|theyre coming|"
        r"hes here|shes here|theyre here|hes back|shes back|hes outside|at the door|"
        r"banging on|coming home|coming back|hiding|locked myself|he will hurt|hell hurt|"
        r"going to hurt|gonna hurt|hes angry|shes angry|hes drunk|shes drunk|"
        # danger described without naming fear: a weapon, someone getting in or following,
        # a fight or a beating going on now, things getting worse
        r"(?:a |got a |has a |with a )(?:knife|gun|weapon|blade|machete|bat)|knives|"
        r"coming (?:up|in|round|over|for)|trying to get in|(?:kicking|banging|smashing) "
        r"(?:the |my |at the )?(?:door|window)|keeps? (?:kicking|banging|hitting)|"
        r"(?:is |are |keeps? |still )(?:hitting|beating|punching|kicking|strangling|"
        r"choking|attacking|hurting) (?:me|her|him|them|my|us)|throwing (?:things|stuff)|"
        r"smashing (?:things|stuff|the place)|fighting|getting worse|(?:its|it is|hes|shes) "
        r"worse|(?:drinking|been drinking|off (?:his|her) head|kicking off)|"
        r"(?:shaking|cant breathe|cant stop crying)|following (?:me|us)|knows where i am|"
        r"found (?:me|us|out where)|come back (?:tonight|later|for)|will come back|"
        r"shouting at|screaming at|(?:took|taken|smashed) my phone|(?:hes|shes|theyre|he is|"
        r"she is|they are) still (?:here|there|outside|in the house|downstairs|upstairs|"
        r"shouting|angry|drunk|hitting))\b"
    ),
    SECRECY: re.compile(
        r"\b(?:dont tell|do not tell|not tell|wont tell|dont want (?:anyone|anybody|him|her|"
        r"them|my \w+) to (?:know|find out)|will you tell|are you (?:going to|gonna) tell|"
        r"who (?:will|do) you tell|keep (?:it|this) (?:a )?secret|secret|private|"
        r"confidential|anonymous|find out|(?:he|she|they|hell|shell|theyll|mum|dad) (?:will|"
        r"would|might) (?:know|find out|see|kill me)|he(?:ll| will) know|she(?:ll| will) "
        r"know|theyll know|get (?:in|into) trouble|does anyone (?:see|read)|who (?:can|will) "
        r"(?:see|read)|is this (?:private|secret|safe)|tell (?:social services|the police|"
        r"my mum|my dad|school)|social services|police|"
        # who will know, and what happens to the family: care, records, the school
        r"tell (?:my |the )?(?:school|teacher|parents|mum|dad|carer|social worker)|"
        r"(?:call|ring|phone|contact)s? (?:my|your) (?:parents|mum|dad|school)|"
        r"(?:take|took|taking) (?:my |the |our )?(?:kids|children|child|son|daughter|baby|"
        r"boy|girl|grandson|granddaughter)s? (?:off|away)|(?:in|into) care|"
        r"social worker|on (?:my|his|her|our) (?:record|file)|(?:delete|remove|wipe|erase) "
        r"(?:what|this|it|that|my|everything)|(?:is|are) (?:someone|anyone|somebody|a "
        r"person|people|you) (?:reading|watching|listening)|reading this|(?:a bot|a robot|"
        r"a real person)|(?:saves|save|saved|record|recorded|records) (?:it|this|what)|"
        r"promised? (?:not to|i wouldnt|i wont) tell|(?:say|know) it was me|"
        r"(?:will|would|wont|does|do) (?:he|she|they|my \w+|anyone) (?:know|find out|see)|"
        r"finds? out|(?:sees?|see|read|reads|check|checks) (?:this|my phone|my messages)|"
        r"(?:wont|will not|wouldnt|would not) (?:know|find out|see))\b"
    ),
    TEXT_ROUTE: re.compile(
        r"\b(?:by text|text (?:someone|them|instead|you|a person)|texting|cant (?:talk|call|"
        r"phone|ring|speak)|can not (?:talk|call|phone|speak)|cannot (?:talk|call|phone|speak)|"
        r"not (?:on )?(?:the )?phone|no (?:credit|phone)|without (?:calling|talking|phoning|"
        r"speaking)|online|chat|message (?:someone|them|a person)|email|whatsapp|type|"
        r"(?:he|she|they) (?:will|would|might) hear|hear me|too scared to (?:call|talk|ring)|"
        r"dont want to (?:call|ring|talk|phone)|can i text|rather text|not talk|"
        # ways without a voice call, and no credit
        r"shout|85258|text (?:not call|instead|rather|only)|number to text|"
        r"no (?:minutes|data|money|signal|calls)|(?:only|just) (?:wifi|text|texts)|"
        r"(?:can i|could i|i can|i like) (?:write|writing|message|msg|dm|type)|"
        r"write it|(?:message|msg|dm|email) (?:the council|someone|a person|instead)|"
        r"(?:talking|speaking|phone calls|calls|calling) (?:is|are) (?:hard|difficult|too "
        r"hard)|(?:dont|do not|cant|can not) like (?:talking|calling|phones)|deaf|"
        r"hard of hearing|cant hear|non verbal|nonverbal|(?:cant|can not|cannot) speak|"
        r"is (?:999|it|childline|shout) free|cost (?:money|anything))\b"
    ),
    SAFE: re.compile(
        r"\b(?:(?:im|i am|were|we are|i feel|we feel|feel|she is|he is|shes|hes|theyre|they "
        r"are|everyone is|all) (?:ok|okay|fine|safe|alright|all right|good) now|(?:im|i am|"
        r"were|we are) safe|(?:i am|im|were|we are) (?:ok|okay|fine|alright) (?:thanks|thank "
        r"you)|(?:its|it is|everything is|all) (?:ok|okay|fine|sorted) now|false alarm|"
        r"(?:i was|only|just) joking|(?:yes|yeah|yep) (?:im|i am) (?:safe|ok|okay|fine)|"
        r"(?:hes|shes|theyve|he has|she has) (?:gone|left) (?:now|out)|found (?:him|her|them)|"
        # help has come, or they are somewhere safe now
        r"safe now|now safe|(?:hes|shes|theyve|theyre|he has|she has|they have|he|she) "
        r"(?:gone|left)(?: now)?$|(?:hes|shes|theyve|he has|she has) (?:gone|left)(?: now)? "
        r"(?:were|we are|im|i am|and)|(?:police|officers|ambulance|paramedics|crisis team) "
        r"(?:are |is |have |has )?(?:here|arrived|came|come|with (?:her|him|us|me|them))|"
        r"(?:with|at) the (?:police|crisis team|hospital) now|(?:called|rang|rung|phoned) "
        r"(?:999|the police|an ambulance)|(?:on the way|on their way)(?: now)?$|"
        r"(?:calmed|calmer|settled) (?:down )?now|its calm now|danger is (?:over|gone)|"
        r"misunderstanding|(?:not|no longer) (?:on my own|alone) (?:anymore|any more|now)|"
        r"(?:at|to) my (?:aunties|aunts|grans|nans|mates|friends|neighbours)"
        r"(?: now| house| place)?|(?:we|i) got out|at the neighbours|(?:she|he|they|nan|gran) "
        r"let me in)\b"
    ),
    GOODBYE: re.compile(
        r"^(?:bye|goodbye|bye bye|see you|cya|ok bye|thanks bye|night|gn|stop|end|ta ra|tara|"
        r"ttyl|gtg)\b|\b(?:bye|goodbye|cya|ttyl|gtg|ta ra|goodnight|good night|night night|"
        r"gotta go|got to go|have to go|need to go|(?:ill|i will|im) go(?:ing)? now|"
        r"end (?:the )?chat|(?:thats|that is) (?:all|everything)|im done|leave it there|"
        r"god bless)\b"
    ),
    LEAVE: re.compile(
        r"\b(?:something else|another question|different (?:question|thing)|change the "
        r"subject|(?:not|nothing) (?:about|to do with) that|new question|back to my question|"
        r"(?:can|could) (?:i|you) (?:ask|help) (?:about|with)|i (?:want|need|wanted) to ask "
        r"about|ask about something)\b"
    ),
}
# Help has come (the police or an ambulance are there): the person is safe now, even though
# "police" also reads as a worry about who will be told.
_HELP_CAME = re.compile(
    r"\b(?:police|officers|ambulance|paramedics|crisis team|social worker) (?:are |is |have |"
    r"has )?(?:here|arrived|came|come|with (?:her|him|us|me|them))\b|\bthe police came\b"
)
# Words that undo "safe" ("I haven't called the police", "is she safe now?" is asked with
# a question mark): then the gentle check, never the end of the conversation.
_UNDONE = re.compile(
    r"\b(?:havent|hasnt|didnt|did not|have not|has not|cant|cannot|can not|couldnt|wont|"
    r"will not|isnt|arent|not yet|never|if|should i|should we|but|still|no (?:police|"
    r"ambulance|officers|one came))\b|"
    r"\bnot\b(?! (?:on my own|alone))"
)
# Ending the chat in so many words ("end chat"), not asking for a chat.
_END_CHAT = re.compile(r"^(?:end|stop|close|exit|quit|leave)(?: the| this)? chat\b")
_NOT_SAFE = re.compile(
    r"\b(?:not|dont|do not|never|isnt|arent|wasnt|im not) (?:feel )?(?:safe|ok|okay|fine)\b"
)


@dataclass(frozen=True)
class FollowUp:
    """What a message in the safeguarding conversation asks for, in the order to answer."""

    kinds: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ends(self) -> bool:
        """True when the safeguarding conversation is over after this message."""
        return bool(self.kinds) and self.kinds[0] in (SAFE, GOODBYE, LEAVE)


def read_followup(
    text: str,
    intent: str | None = None,
    confidence: float = 0.0,
    *,
    asked_if_safe: bool = False,
    crisis: bool = False,
) -> FollowUp:
    """Read a message sent after an emergency reply.

    ``asked_if_safe`` is True when the last reply asked "Are you safe right now?", so a
    plain yes or no answers it. ``crisis`` is the detector's verdict on the message."""
    plain = normalise(text or "")
    kinds = [k for k in (SCARED, SECRECY, TEXT_ROUTE) if _RULES[k].search(plain)]
    if _END_CHAT.search(plain) and SCARED not in kinds:
        return FollowUp((GOODBYE,))
    settled = "?" not in (text or "") and not _UNDONE.search(plain)
    if _HELP_CAME.search(plain) and SCARED not in kinds and settled:
        return FollowUp((SAFE,))
    if _NOT_SAFE.search(plain) and SCARED not in kinds:
        kinds.insert(0, SCARED)
    if asked_if_safe and not kinds:
        if intent == "deny" or re.fullmatch(r"(?:no|nope|nah|not really|no im not)\b.*", plain):
            kinds.append(SCARED)
        elif intent == "affirm" or re.fullmatch(r"(?:yes|yeah|yep|ye|yh|i am|i think so)\b.*",
                                                plain):  # fmt: skip
            kinds.append(SAFE)
    if kinds:
        return FollowUp(tuple(kinds[:2]))
    if crisis:
        return FollowUp((CHECK,))
    for kind in (SAFE, GOODBYE, LEAVE):
        if _RULES[kind].search(plain) and (kind != SAFE or settled):
            return FollowUp((kind,))
    if intent == "goodbye":
        return FollowUp((GOODBYE,))
    if intent in LEAVING_INTENTS and confidence >= LEAVING_CONFIDENCE and len(plain.split()) >= 3:
        return FollowUp((LEAVE,))
    return FollowUp((CHECK,))


# Numbers and routes as in data/safety/categories.yml (each with its source there). "Press 55"
# is the police's Silent Solution for 999 calls from a mobile when the caller cannot speak
# (https://www.centre56.org.uk/domestic-abuse). Childline's confidentiality as it publishes
# it: https://www.childline.org.uk/about/confidentiality-promise/
CHILDLINE = "Childline is free on 0800 1111, or chat at childline.org.uk."
SAFE_BUTTONS = (
    ("Yes, safe now", "We are safe now"),
    ("No, not safe", "Not safe"),
    ("Something else", "I want to ask about something else"),
)
PARTS: dict[str, tuple[str, ...]] = {
    SCARED: (
        EMERGENCY_LINE,
        "If you cannot speak, call 999 on a mobile and press 55 when asked.",
        "Go somewhere safer if you can, like a locked room or a neighbour.",
    ),
    SECRECY: (
        "I understand. Here is what happens with what you told me.",
        "I am a computer, so I cannot call anyone.",
        "This chat is saved. The council's safeguarding team may read it to check you are safe.",
        "Childline keeps what you say private, unless they are very worried about your safety.",
        CHILDLINE,
        "999 is for danger right now.",
    ),
    TEXT_ROUTE: (
        "You can get help without talking out loud.",
        "Text SHOUT to 85258. It is free, any time.",
        "Under 19? Chat or email Childline at childline.org.uk.",
        "In danger and cannot speak? Call 999 on a mobile and press 55 when asked.",
        "Calls to 999 and Childline are free from any phone.",
    ),
    SAFE: (
        "I am glad you are safe now.",
        "If things change, call 999 in danger, or Childline on 0800 1111.",
        "What else can I help with?",
    ),
    GOODBYE: (
        "Take care. You can message me any time.",
        "If you are ever in danger, call 999.",
    ),
    CHECK: (
        "I am still here for you. Is everyone safe right now?",
        EMERGENCY_LINE,  # a fear in words no rule knows still gets 999
        "You can tell me more, or ask about something else.",
    ),
}


def followup_reply(followup: FollowUp, *, crisis: bool = False) -> tuple[str, bool]:
    """The reply to a follow-up message, and whether it asks "Are you safe right now?"
    (then its buttons are ``SAFE_BUTTONS``). A message the detector reads as a crisis always
    gets the 999 line."""
    kinds = tuple(k for k in followup.kinds if k in PARTS) or (CHECK,)
    lines: list[str] = []
    for kind in kinds:
        lines += [line for line in PARTS[kind] if line not in lines]
    if crisis:  # the 999 line first
        lines = [EMERGENCY_LINE, *(line for line in lines if line != EMERGENCY_LINE)]
    if kinds[0] not in (SAFE, GOODBYE) and not any("Childline" in line for line in lines):
        lines.append(CHILDLINE)
    return "\n".join(lines), CHECK in kinds
