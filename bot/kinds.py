"""Telling praise, complaints, feedback and a "no" apart, by clear cues in the words.

The language model learns these from examples (``data/nlu/kinds.yml``); these rules catch
the unmistakable cases it may miss, and the NLU component ``components/kind_cues.py`` lets
them overrule it. Kinds: ``praise`` (thanks or good words about a service), ``complaint``
(unhappy with how they were treated, wants to complain), ``feedback`` (wants to give
feedback, or asks how), ``turned_down`` (refused, turned away, told they don't qualify).
A ``problem`` (something to fix or chase) and an ordinary question have no rule here.
"""

from __future__ import annotations

import re

from bot.text import normalise

FEEDBACK, PRAISE, COMPLAINT, TURNED_DOWN, PROBLEM, QUESTION = (
    "feedback", "praise", "complaint", "turned_down", "problem", "question",
)  # fmt: skip
KINDS = (PRAISE, COMPLAINT, PROBLEM, FEEDBACK, TURNED_DOWN, QUESTION)

_FEEDBACK = re.compile(
    r"^(?:feedback|review|rating)\b|"
    r"\b(?:give|leave|send|have|make|got|share|put in|submit|write|add|post)"
    r" (?:some |any |a bit of |my |our |a )?(?:feedback|review)\b|"
    r"\bhow (?:do|can|would) (?:i|we) (?:give|leave|send|make|share) (?:some )?"
    r"(?:feedback|review)\b|"
    r"\bwhere (?:do|can) (?:i|we) (?:give|leave|send) (?:some )?feedback\b|"
    r"\b(?:feed back|feedback) (?:on|about)\b|\bshare (?:my|our) (?:experience|views?|thoughts)\b|"
    r"\btell you (?:how|what) .{0,40}\b(?:went|was like|go)\b|\bhow .{0,30} went\b"
)
_COMPLAIN = re.compile(
    r"\b(?:complain|complaining|complaint|complaints procedure|formal complaint)\b|"
    r"\b(?:rude|disrespectful|unprofessional|patronising|patronizing|condescending)\b|"
    r"\b(?:spoke|talked|speak|talk) (?:to|down to) (?:me|us) like\b|"
    r"\btreated (?:me|us|him|her|them|my \w+) (?:badly|awfully|terribly|appallingly|"
    r"like \w+|with no respect|so badly|very badly)\b|"
    r"\b(?:not|never) happy with (?:the way|how)\b|\bunhappy with (?:the way|how)\b"
)
_NO = r"(?:refused|rejected|declined|denied|turned down|knocked back)"
_ASKED_FOR = (
    r"(?:assessment|application|request|referral|ehcp|ehc|plan|place|transport|support|help|"
    r"funding|short breaks?|respite|carers? assessment|dla|pip|dfg|grant|appeal|bus pass|"
    r"personal budget|direct payments?|reassessment|re assessment|transfer|claim|diagnosis|"
    r"service|care|package|tribunal|it)"
)
_TURNED_DOWN = re.compile(
    r"\b(?:turned|turning|turn) (?:us |me |him |her |them |it )?(?:down|away)\b|"
    r"\bsent (?:us |me |him |her |them )?away\b|"
    rf"\b(?:was|were|been|got|get|be|is|are|being) {_NO}\b|"
    rf"\b{_NO} (?:for |us |him |her |me |them |our |my |his |their |the |an |a |again )*"
    rf"{_ASKED_FOR}\b|"
    rf"\b{_ASKED_FOR} (?:was |were |got |has been |have been |been )?{_NO}\b|"
    r"\b(?:refused|declined|refuse|decline|wont|won t) to (?:assess|do|give|fund|provide|issue|"
    r"name|accept|refer|see|help|carry out|consider|apply|offer|support)\b|"
    r"\b(?:told|said) (?:us |me )?no\b|"
    r"\b(?:not|isnt|wasnt|arent|werent|isn t|wasn t|aren t) eligible\b|\bineligible\b|"
    r"\b(?:dont|doesnt|didnt|wont|do not|does not|did not|will not) "
    r"(?:qualify|meet (?:the|their|any) (?:criteria|threshold))\b|"
    r"\bdoesn t qualify\b|\bdon t qualify\b|"
    r"\b(?:said|told|says|say|saying|deemed|apparently|because)\b.{0,30}"
    r"\bnot (?:bad|severe|disabled|serious|ill) enough\b|"
    r"\b(?:below|under|not meet) (?:the|their) threshold\b|\bno (?:we|they) (?:cant|can t) help\b"
)
_POSITIVE = re.compile(
    r"\b(?:amazing|brilliant|fantastic|wonderful|excellent|superb|outstanding|fab|fabulous|"
    r"lovely|great|brill|awesome|incredible|marvellous|gem|gems|star|stars|angel|angels|"
    r"lifesaver|life saver|so helpful|really helpful|very helpful|so kind|really kind|"
    r"so good|really good|very good|grateful|thankful|compliment|praise|shout out|shoutout|"
    r"credit to|credit where|cant thank|can t thank|thank|thanks|thankyou|thx|recommend|"
    r"made a (?:real |huge |big )?difference|changed (?:our|his|her|my) li(?:fe|ves)|"
    r"couldnt have done it without|over the moon|so pleased|really pleased|happy with|"
    r"loves? (?:it|going|them|her|him)|went above and beyond|above and beyond|"
    r"10 ?10|5 ?5|five stars|5 stars|full marks)\b"
)
_NEGATIVE = re.compile(
    r"\b(?:not|never|no one|nobody|nothing|didnt|didn t|doesnt|wont|cant|couldnt|hasnt|havent|"
    r"isnt|wasnt|but|however|although|though|late|waiting|still|again|cancel\w*|awful|"
    r"terrible|rubbish|useless|worse|worst|bad|poor|angry|upset|disappointed|complain\w*|"
    r"problem|issue|help me|need|needs|help with|can i|can you|could you|should|would)\b"
)
_ASKING = re.compile(r"^(?:who|how|where|what|which|when|is|are|can|could|do|does|any)\b")
# A question anywhere, or words that only look like praise ("great aunt"), is not praise.
_NOT_PRAISE = re.compile(
    r"\b(?:are we|are they|can we|can i|do we|do i|is there|are there|how do|how can|"
    r"what can|who can|entitled|eligible)\b|\bgreat (?:aunt|uncle|grand\w*|nan|nana|niece|nephew)\b"
)
_THANKS_ONLY = re.compile(
    r"^(?:(?:ok|okay|great|brilliant|lovely|thats great|that s great|perfect|ah|oh) )?"
    r"(?:thanks?|thank you|thankyou|thx|ta|cheers)(?: (?:so much|very much|a lot|loads|"
    r"for (?:that|this|your help|the help|helping)))?$"
)
_STARS = re.compile(
    r"\b([1-5]|one|two|three|four|five) ?(?:stars?|\*|/ ?5|out of (?:5|five))(?!\w)|"
    r"\b(10|[1-9]) ?/ ?10\b|\b(10|[1-9]) out of (?:10|ten)\b"
)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def wants_to_give_feedback(text: str) -> bool:
    """ "feedback: ...", "I want to give feedback about X", "how do I leave a review"."""
    return bool(_FEEDBACK.search(normalise(text)))


def feedback_subject(text: str) -> str:
    """What the feedback request is about: after "feedback:", "feedback about/on/for"."""
    plain = text.strip()
    found = re.match(r"^\s*(?:feedback|review)\s*[:\-]\s*(.+)$", plain, re.IGNORECASE | re.S)
    if found:
        return found.group(1).strip()
    found = re.search(
        r"\b(?:feedback|review)\s+(?:about|on|for|of|regarding)\s+(.+)$", plain, re.I | re.S
    )
    return found.group(1).strip() if found else ""


def explicit_rating(text: str) -> int | None:
    """A rating written as one: "5 stars", "4/5", "five stars", "10/10" (out of 10 halves)."""
    found = _STARS.search(text.lower())
    if found is None:
        return None
    if found.group(1):
        word = found.group(1)
        return int(word) if word.isdigit() else _NUMBER_WORDS[word]
    out_of_ten = int(found.group(2) or found.group(3))
    return max(1, min(5, round(out_of_ten / 2)))


def is_praise(text: str) -> bool:
    """Good words about a service, with nothing negative and no question."""
    plain = normalise(text)
    if not plain or _THANKS_ONLY.match(plain) or text.strip().endswith("?"):
        return False
    if len(plain.split()) < 3 or _ASKING.match(plain) or _NOT_PRAISE.search(plain):
        return False
    if "compliment" in plain.split():
        return True
    idioms = re.sub(
        r"\b(?:couldnt|could not|couldn t) have done it without|\bcan ?t thank", "", plain
    )
    return bool(_POSITIVE.search(plain)) and not _NEGATIVE.search(idioms)


def is_complaint(text: str) -> bool:
    plain = normalise(text)
    return bool(_COMPLAIN.search(plain)) and "compliment" not in plain.split()


def is_turned_down(text: str) -> bool:
    return bool(_TURNED_DOWN.search(normalise(text)))


def kind_cue(text: str) -> str | None:
    """The kind clear cues give a message, or None when only the model can tell."""
    if text.startswith("/"):
        return None
    plain = normalise(text)
    if re.match(r"^(?:feedback|review)\b", plain) or (
        wants_to_give_feedback(text) and not is_complaint(text)
    ):
        return FEEDBACK
    if "compliment" in plain.split():
        return PRAISE
    if is_complaint(text):
        return COMPLAINT
    if is_turned_down(text):
        return TURNED_DOWN
    if is_praise(text):
        return PRAISE
    return None
