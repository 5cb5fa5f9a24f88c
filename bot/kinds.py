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
# Feedback without the word: an opinion or a suggestion for a service ("you should put the
# hours on the front page", "it would help if the letters came earlier", "my view is"), or
# asking to have a say (a consultation, a survey, a parents' panel). A request for oneself
# ("it would help if someone rang me") and a question about one's own child are not.
_SUGGESTION = re.compile(
    r"\b(?:my|our) (?:view|opinion|two pence|2p|thoughts?) (?:is|are|on|for|about)\b|"
    r"\bin (?:my|our) (?:view|opinion)\b|\bfor what (?:its|it s) worth\b|\bmy opinion\b|"
    r"^(?:just )?(?:a |an |one |my )?(?:suggestion|idea|thought|observation)\b|"
    r"\bjust (?:a |an )?(?:suggestion|thought|idea|observation|saying)\b|"
    r"\b(?:a|one|my|our|small|quick) suggestion\b|\bsuggestion box\b|"
    r"\b(?:a few|a couple of|a couple|couple of|couple|some|few) (?:ideas|points|thoughts|"
    r"suggestions) (?:on|about|for|of|how)\b|"
    r"\b(?:would|d|could|might) (?:really |also |honestly |definitely )?help "
    r"(?:if (?!(?:someone|somebody|anyone|you|they|u) (?:could|can|would|will) )|to |"
    r"parents|families|people|folk|others|other (?:parents|families|people)|kids|children|"
    r"young people|everyone|a lot of|no end|loads)|"
    r"\b(?:would|itd|id|wed|thatd|twould|it d|that d) be (?:so |much |a lot |far |really |even |"
    r"loads |way )*(?:easier|better|nicer|good|great|lovely|handy|helpful|useful|mint|"
    r"brilliant|ace|fab|amazing|fairer|kinder|clearer|simpler) "
    r"(?:if (?!(?:someone|somebody|anyone|you|they|u) (?:could|can|would|will) )|to have|"
    r"to get|to see|for (?:parents|families|kids|children|young people))|"
    r"\bwould (?:go|work|run) (?:a lot |much |so much |far )?(?:better|smoother|easier)\b|"
    r"\b(?:you|they|council|la|someone|somebody|services|staff|team|service|site|website|page|"
    r"pages|letters|forms|leaflets?|clinic|panel|schools|forum|group) should (?:really |also |"
    r"all |just |maybe |definitely )?(?!(?:have|be|of|i|we|not|know|hear|get|receive|arrive|"
    r"come|qualify|he|she|they|it)\b)\w+|"
    r"\bi (?:think|reckon|feel|believe) (?:that )?(?:the|they|you|council|la|services|schools|"
    r"parents|families|there) (?:[a-z]+ ){0,4}(?:needs? (?:a|an|more|to (?:be|have|change|stop|"
    r"start|think|look))|should|ought to|would (?:be|go|work) better|could (?:be|do))\b|"
    r"\bneeds? (?:a )?(?:rethink|re think|overhaul|shake up)\b|"
    r"\b(?:id|wed|i would|we would) (?:really )?love (?:the|you|them|it if|there to be|"
    r"more|to see|a|an|some)\b|\b(?:id|wed|i would|we would) like to see\b|"
    r"\bmaybe (?:\w+ ){0,2}(?:look at|sort|think about|consider|try|change|move|add|offer|"
    r"put|have|run|do)\b|"
    r"\bcould (?:\w+ ){1,3}do the same\b|"
    r"\b(?:pass|feed|send|give) (?:this |that |it )?(?:on |back )?to (?:whoever|the people who|"
    r"someone who|the person who)\b|\btell whoever\b|\bif it helps? other\b"
)
_HAVE_A_SAY = re.compile(
    r"\b(?:have|having) (?:my|our|a) say (?:on|about|in how|in what|in which)\b|"
    r"\b(?:give|giv|share|say|put across|get across|air|tell you) (?:my|our|his|her|their) "
    r"(?:views?|opinions?|thoughts|ideas|suggestions?)\b|"
    r"\bsay what (?:i|we|they|parents|families|young people|kids|carers) think\b|"
    r"\b(?:the|a|this|that) consultation (?:on|about|for)\b|\btake part in (?:the|a|any) "
    r"consultation\b|\b(?:a|the|any) survey (?:for|where|about|on)\b|"
    r"\bhelp (?:to )?shape\b|\b(?:young people|parents|families|we|i|kids) comment on\b|"
    r"\b(?:parents?|carers?|young peoples?) (?:panel|reference group)\b|\breference group\b"
)
_COMPLAIN = re.compile(
    r"\b(?:complain|complaining|complaint|complaints procedure|formal complaint)\b|"
    r"\b(?:rude|disrespectful|unprofessional|patronising|patronizing|condescending)\b|"
    r"\b(?:spoke|talked|spoken|speak|talk) (?:to|down to|about|over) (?:me|us|him|her) like\b|"
    r"\blaughed (?:at (?:me|us|him|her)|when i)\b|\bwant (?:that|this|it) on (?:the )?record\b|"
    r"\bescalate (?:it |this )?to stage\b|\bstage (?:2|two) complaint\b|"
    r"\btreated (?:me|us|him|her|them|my \w+) (?:badly|awfully|terribly|appallingly|"
    r"like \w+|with no respect|so badly|very badly)\b|"
    r"\b(?:not|never) (?:at all )?happy (?:at all )?with (?:the way|how)\b|"
    r"\bunhappy with (?:the way|how)\b"
)
_NO = r"(?:refused|rejected|declined|denied|turned down|knocked back)"
_ASKED_FOR = (
    r"(?:assessment|application|request|referral|ehcp|ehc|plan|place|transport|support|help|"
    r"funding|short breaks?|respite|carers? assessment|dla|pip|dfg|grant|appeal|bus pass|"
    r"personal budget|direct payments?|reassessment|re assessment|transfer|claim|diagnosis|"
    r"service|care|package|tribunal|it)"
)
# "won't", "can't", "refused to": not after "I" or "we" (a family that can't take her).
_WONT = (
    r"(?<!\bi )(?<!\bwe )\b(?:wont|will not|would not|wouldnt|cant|cannot|can not|unable to|"
    r"refuses to|refused to|declined to|not able to|no longer) (?:\w+ )?"
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
    r"\b(?:below|under|not meet) (?:the|their) threshold\b|\bno (?:we|they) (?:cant|can t) help\b|"
    # the no in other words: closed, bounced back, discharged, won't accept or see him
    r"\bcame back (?:as |with )?(?:a )?no\b|"
    r"\bbounced (?:the |our |his |her |my )(?:\w+ )?(?:referral|application|request) back\b|"
    r"\b(?:referral|application|request) (?:was |got |has been )?bounced back\b|"
    rf"{_WONT}(?:accept|assess|fund|include|approve|put (?:\w+ ){{1,2}}in (?:his|her|the|their) "
    r"plan|offer (?:him |her |them |us |my \w+ )?(?:a place|a service|any support))\b"
    r"(?!.{0,40}\b(?:until|till|til|before|for another|this week|today|tomorrow)\b)|"
    # softer words for a no ("won't see her", "won't refer"): with a reason or a "said"
    rf"{_WONT}(?:see|refer|take|keep|come out|offer|have)\b.{{0,60}}\b(?:now|because|cos|"
    r"since|said|say|says|saying|told|unless|anymore|any more|after)\b|"
    rf"\b(?:said|says|told|tell|tells|saying)\b.{{0,20}}{_WONT}(?:see|refer|take|keep|"
    r"come out|offer|have)\b|"
    r"\b(?:decided|decide|deciding) not to (?:proceed|assess|go ahead|issue|fund|carry out|"
    r"offer|refer|continue)\b|\bnot to proceed\b|"
    r"\b(?:dont|doesnt|didnt|do not|does not|did not|not|wont|will not) (?:reach|meet|fit|hit) "
    r"(?:the |their |your |its |any )?(?:level|threshold|criteria|bar)\b|"
    r"\bonly (?:work with|see|take|accept|support|deal with|help) (?:children|kids|young people|"
    r"people|families|those)\b|\b(?:asked|told) (?:us|me|him|her) to leave\b|"
    # a reason for a no: "said she's not at risk enough", "told our income is too high"
    r"\b(?:said|says|say|saying|told|tell|tells|apparently|deemed|decided|because|cos)\b"
    r".{0,40}\b(?:(?:not|isnt|arent|wasnt|werent) (?:\w+ )?(?:autistic|disabled|bad|severe|"
    r"serious|ill|poorly|complex|struggling|unwell|at risk|high|significant|behind|affected|"
    r"delayed|deaf|needy) enough|too (?:old|young|complex|able|high|mild|well|near|close|"
    r"much)\b|(?:only|just) (?:mild|moderate|a phase|behaviour|behavioural|a late talker|"
    r"shy|naughty)|(?:not|isnt|arent|wasnt) (?:significant|severe enough|needed|necessary|"
    r"appropriate)|(?:dont|doesnt|didnt|do not|does not) (?:need|reach|meet|fit) (?:a|an|the|"
    r"any|their|our)\b|no (?:space|spaces|places|room|capacity)\b|thats the decision|"
    r"better off (?:with|going to))"
)
_POSITIVE = re.compile(
    r"\b(?:amazing|brilliant|fantastic|wonderful|excellent|superb|outstanding|fab|fabulous|"
    r"lovely|great|brill|awesome|incredible|marvellous|gem|gems|star|stars|angel|angels|"
    r"lifesaver|life saver|so helpful|really helpful|very helpful|so kind|really kind|"
    r"so good|really good|very good|grateful|thankful|compliment|praise|shout ?out(?! for send)|"
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
    r"for (?:that|this|your help|the help|helping|all your help|all the help)))?"
    r"(?: (?:and )?(?:good ?bye|bye(?: bye| now| for now)?|cya|see you|ta ra))?(?: x+)?$"
)
_STARS = re.compile(
    r"\b([1-5]|one|two|three|four|five) ?(?:stars?|\*|/ ?5|out of (?:5|five))(?!\w)|"
    r"\b(10|[1-9]) ?/ ?10\b|\b(10|[1-9]) out of (?:10|ten)\b"
)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def wants_to_give_feedback(text: str) -> bool:
    """ "feedback: ...", "I want to give feedback about X", "how do I leave a review", "how
    do I have my say", or an opinion or a suggestion for a service given as one."""
    plain = normalise(text)
    return bool(_FEEDBACK.search(plain) or _HAVE_A_SAY.search(plain) or is_suggestion(text))


def is_suggestion(text: str) -> bool:
    """An opinion or a suggestion for a service, given without the word feedback: "it would
    help if the letters came earlier", "you should put the hours on the front page"."""
    return bool(_SUGGESTION.search(normalise(text)))


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
        r"\b(?:couldnt|could not|couldn t) have (?:\w+ ){0,3}(?:without|alone|on my own)|"
        r"\bcan ?t thank",
        "",
        plain,
    )
    return bool(_POSITIVE.search(plain)) and not _NEGATIVE.search(idioms)


_NOT_A_COMPLAINT = re.compile(
    r"\b(?:not|isnt|this isnt|its not|not really|dont want to make|not making) (?:a |to )?"
    r"(?:complaint|complain|complaining)\b"
)


def is_complaint(text: str) -> bool:
    plain = _NOT_A_COMPLAINT.sub(" ", normalise(text))
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
