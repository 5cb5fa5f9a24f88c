"""Safeguarding: spot messages that suggest someone is at risk, and the emergency reply.

The detector is a list of readable patterns, run on every incoming message before the
dialogue model, so a crisis gets emergency contacts whatever the model predicts.
It leans towards raising the alarm: a false alarm costs a family a few lines of text,
a missed crisis could cost a life.

Patterns run on ``bot.text.normalise(text)``: lower case, apostrophes dropped ("can't" ->
"cant", "he'll" -> "hell") and any other punctuation turned into single spaces. They are
general rules (who + does what + to whom, or a word family + a time or a place), never
copies of example sentences. ``(?! ...)`` after a rule lists the everyday uses of the same
words ("cut himself a slice", "went missing in the post"); a rule that starts with
``^(?!.*...)`` is skipped when the whole message is about something ordinary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.directory.records import Entry
from bot.text import normalise

# --- word families ------------------------------------------------------------------

_SELF = r"(?:my|him|her|them|your|our|ma) ?(?:sel(?:f|ves)|slef)"

# Grown-ups who might hurt a child or a partner (family, partners, staff, strangers).
_ADULT = (
    r"(?:dad|daddy|mum|mummy|mam|mom|father|mother|step ?dad|step ?mum|step ?father|"
    r"step ?mother|uncle|auntie|aunty|aunt|grandad|granddad|grandpa|grandma|granny|nan|nana|"
    r"gran|boyfriend|girlfriend|bf|gf|partner|husband|hubby|wife|ex|fiance|carer|carers|"
    r"foster (?:carer|mum|dad|parents?)|teacher|teachers|ta|teaching assistant|staff|"
    r"support worker|worker|taxi driver|driver|escort|coach|tutor|babysitter|childminder|"
    r"neighbour|lodger|man|men|guy|bloke|woman|adult|someone|somebody|lads|gang)"
)
_SIBLING = r"(?:brother|sister|bro|sis|cousin|step ?brother|step ?sister)"
# A child or young person ("ds"/"dd": dear son/daughter; "my 14 yr old").
_CHILD = (
    r"(?:son|daughter|child|children|kid|kids|boy|girl|lad|lass|ds|dd|baby|toddler|teen|"
    r"teenager|grandson|granddaughter|nephew|niece|little one|\d+ ?(?:yr|year|yo)s? old|"
    rf"foster (?:son|daughter|child)|{_SIBLING})"
)
# Who gets hurt in "X hits me / us / my mum / mum / the kids".
_VICTIM = (
    r"(?:me|us|ma|(?:(?:my|our|ma) )?(?:little |baby |big |younger |older |youngest |eldest )?"
    r"(?:mum|mom|mam|dad|son|daughter|child|children|kids?|baby|brother|sister|bro|sis|boy|"
    r"girl|lad|wife|husband|partner|nan|family|twins)|the (?:kids|children|baby|twins))"
)
_VIOLENT = (
    r"(?:hit|hits|hitting|beat|beats|beating|beaten|beat up|beats up|batter|batters|battered|"
    r"battering|punch|punches|punched|punching|kick|kicks|kicked|kicking|slap|slaps|slapped|"
    r"slapping|smack|smacks|smacked|smacking|choke|chokes|choked|strangle|strangles|"
    r"strangled|strangling|throttle|throttled|stab|stabs|stabbed|burn|burns|burned|burnt|"
    r"grab|grabs|grabbed|shake|shakes|shook|shaking|shove|shoves|shoved|push|pushes|pushed|"
    r"drag|drags|dragged|whack|whacks|whacked|thump|thumps|thumped|headbutt|headbutted|"
    r"bite|bites|bit|pinch|pinches|pinched|hurt|hurts|hurting|attack|attacks|attacked|"
    r"abuse|abuses|abused|abusing|rape|raped|belts|belted|whips|whipped|restrained|"
    r"restrains|pinned|pins|held down|holds down|tied up|ties up|spat on)"
)
# Violence that is never "just a meltdown".
_SEVERE = (
    r"(?:beat up|beats up|beaten up|beating up|batter|batters|battered|battering|strangle|"
    r"strangles|strangled|strangling|choke|chokes|choked|choking|throttle|throttles|throttled|"
    r"stab|stabs|stabbed|stabbing|headbutt|headbutts|headbutted)"
)
# Everyday endings of "pushed him / beat me": "pushed him to try", "beat me at chess".
_NOT_VIOLENCE = (
    r"(?! (?:away|to (?!the |a |my |his |her |our |floor|ground|wall)\w+|to it|into doing|"
    r"harder|feelings|at (?:chess|cards|football|fifa|games?|a game|the game))\b)"
)
_PILLS = (
    r"(?:tablets?|pills?|paracetamol|ibuprofen|co ?codamol|codeine|meds|medicine|"
    r"medication|painkillers?|pain killers?|sleeping tablets|anti ?depressants?|insulin|"
    r"sertraline|fluoxetine|calpol|nurofen|antihistamines?|cough (?:medicine|syrup)|drugs)"
)
# An amount that turns "took tablets" into an overdose: "a load of", "all his mums", "20".
_AMOUNT = (
    r"(?:too many|loads|a load|a lot|lots|load|a whole|whole|a (?:box|packet|pack|bottle|"
    r"strip|handful|tub|sheet|bunch|fistful)|handful|all|some of|a few of|extra|double|"
    r"someone elses|(?:his|her|my|their) (?:mums|dads|nans|grans|sisters|brothers)|mums|"
    r"dads|nans|grans|(?:like |about |around |over )?(?:[5-9]|\d\d+|ten|twelve|fifteen|"
    r"twenty|thirty|forty|fifty))"
)
# The start of a threat ("he'll" is "hell" once normalised).
_THREAT = (
    r"(?:will|ll|hell|shell|theyll|youll|gonna|gunna|going to|would|hed|shed|theyd|"
    r"threaten\w* to|threat\w* to|wants? to|tried to|trying to|try to|promised to|swore to|"
    r"swears to|(?:says|said|saying|keeps saying) (?:hes|shes|theyre|hell|shell|theyll) "
    r"(?:going to|gonna|gunna)?)"
)
_SEIZURE = (
    r"(?:seizures?|(?:a|an|epileptic|having|had|in) fits?|(?:is|hes|shes|been|still|keeps) "
    r"fitting|convulsi\w+)"
)
_NOT = r"(?:not|isnt|wont|hasnt|havent|didnt|doesnt|cant|is not|will not|has not|still not)"
_CANT = r"(?:cant|can not|cannot|can t)"

PATTERNS: dict[str, tuple[str, ...]] = {
    "suicide or self-harm": (
        r"\bsu(?:ic|ci|c)i?d",  # suicide, suicidal and common misspellings
        r"\bun ?aliv",
        r"\bself ?harm",
        r"\b(?:kms|kys)\b",  # "kill myself", "kill yourself"
        # kill / hurt / cut ... myself, but not "cut himself a slice of cake"
        r"\b(?:kill|killing|killed|kil|hurt|hurts|hurting|harm|harms|harming|cut|cuts|cutting|"
        r"burn|burns|burning|burnt|hang|hanging|hanged|strangle|strangling|starve|starving|"
        r"stab|stabbing|scratch|scratches|scratching|punch|punching|punches|poison|poisoning|"
        rf"drown|drowning|suffocate|suffocating|end) {_SELF}\b(?! (?:a|an|some|another)\b)",
        # cuts, scratches or burns on arms, wrists, legs; hurting till it bleeds
        r"\b(?:cut|cuts|cutting|scratch|scratches|scratching|scratched|burn|burns|burning|"
        r"slash|slashing|slashed|carve|carving|carved|marks) (?:on |all (?:up|over) |up |into )?"
        r"(?:her|his|my|their|your) (?:arms?|wrists?|legs?|thighs?|skin|stomach|tummy|body)\b",
        r"\b(?:till|until|til|untill) (?:it|they|she|he|i|you) (?:bleeds?|bled|bleeding)\b",
        # wanting to die, to be gone, to stop existing ("dye" is a common typo)
        r"\b(?:want|wants|wanted|wanna|wana|going|gonna|gunna|ready|trying|tried|plan|"
        r"planning|planned) (?:to )?(?:just )?(?:be dead\b|die\b(?! (?:my|his|her|their|the) hair)"
        r"|dye\b(?! (?:my|his|her|their|it|the)\b))",
        r"\b(?:want|wants|wanna|wana|wish) (?:to )?(?:just )?be gone\b"
        r"(?! (?:by|before|from|for the|at|when|in|on)\b)",
        r"\bwhy (?:am i|im|i am) (?:even |still )?alive\b",
        r"\bwish(?:es|ed)? (?:i|he|she|they|you) (?:was|were|could be|had) (?:dead|gone|"
        r"never (?:been )?born)",
        r"\bbetter off (?:dead|gone|not here|without (?:me|him|her|us)\b|if (?:i|he|she|they) "
        r"(?:was|were|wasnt|werent|died))",
        r"\b(?:better|happier|easier) without me\b",
        r"\b(?:dont|do not|doesnt|does not|didnt|never) (?:want|wanna|wanted) (?:to )?"
        r"(?:live|be alive|exist|wake up|be here\b(?! (?:at|in|with|for|on|today|tomorrow)\b))",
        r"\b(?:never|not) wak(?:e|ing) up\b"
        r"(?! (?:at|in|until|till|before|early|for|during|when)\b)",
        r"\bsleep (?:forever|for ever|and never)",
        r"\b(?:tired|sick|fed up) of (?:being alive|living|life|existing|being here)\b",
        r"\b(?:no ?one|noone|no ?1|nobody|no body) (?:would|will|wud|d|is going to|is gonna|"
        r"gonna)? ?(?:even )?(?:miss|care|notice|cares|misses|notices)\b"
        r"(?! (?:about )?(?:the|his|her|their|our|what|how|that|this|about)\b)",
        r"\bif i (?:was|were) (?:gone|dead|not here|not around)\b|\bif i (?:wasnt|werent|"
        r"was not|were not) (?:here|around|alive|born)\b",
        r"\b(?:disappear|vanish) (?:forever|for ever|for good)|\bshould (?:just )?disappear\b",
        r"\b(?:im|i am|feel like|feel) (?:such |just )?a burden\b",
        r"\b(?:end|ending|ended) (?:it all|my life|his life|her life|their life|me)\b",
        r"\btak(?:e|ing) (?:my|his|her|their) (?:own )?life\b",
        # "i want to end it", "gonna end it tonight", but not "end it with the provider"
        r"\b(?:want|wanna|wants|going|gonna|gunna|ready|plan|planning|thinking (?:of|about)|"
        r"think about|might|just|should|will|feel like|felt like|about to|considering) "
        r"(?:to )?(?:just )?end(?:ing)? (?:it|things|everything)\b"
        r"(?! (?:with|early|before|for|at|on)\b)",
        # "i cant go on", but not "i cant go on the trip"
        rf"\b{_CANT} (?:go on|carry on)\b(?! (?:the|a|an|this|that|these|those|his|her|my|our|"
        r"their|your|to|at|about|it|holiday|trip|monday|tuesday|wednesday|thursday|friday|"
        r"saturday|sunday)\b)",
        rf"\b{_CANT} (?:do this|take (?:it|this)|cope|live like this|handle (?:it|this|life)) ?"
        r"(?:any ?more|no more|no longer|any longer)",
        r"\bcant live like this\b",
        r"\bwhats the point (?:any ?more|in (?:living|life|going on|being here))",
        r"\b(?:no|dont see the|dont see any|cant see the|cant see any|whats the|not much) point "
        r"(?:in |of )?(?:living|being alive|life\b|being here|going on|carrying on|existing)",
        r"\b(?:want|wish) (?:it|everything) (?:all )?to (?:stop|end)\b",
        r"\bways to (?:die|kill|end)|\bhow to (?:kill|hang|end) (?:my|your)",
        # goodbye notes, giving things away
        r"\bgoodbye (?:notes?|letters?|messages?|texts?)\b|\b(?:saying|said|says|say) goodbye "
        r"to (?:every ?one|every ?body|us all|all of us)\b",
        r"\b(?:written|wrote|writing|write|left) (?:a |her |his )?(?:suicide )?(?:note|notes|"
        r"letters?) (?:saying |to say )?goodbye",
        r"\b(?:notes?|letters?|messages?|texts?) (?:\w+ ){0,4}?(?:saying|to say|that says|"
        r"said) goodbye\b",
        r"\bgiving (?:away )?(?:all )?(?:his|her|my) (?:things|stuff) away\b",
        # a high place, a rope, a blade or a voice telling them to
        r"\b(?:jump|jumping|jumped|standing|stood|sat|sitting|climb|climbed|climbing) (?:off|on|"
        r"from|onto|in front of|over) (?:the |a )?(?:bridge|roof|edge|cliff|ledge|railings?|"
        r"tracks?|balcony|train|car|bus|lorry|traffic|motorway|window)",
        r"\b(?:got|have|has|had|bought|buy|found|hid|hidden|hiding|with) (?:a|some) "
        r"(?:rope|noose)\b(?! (?:swing|ladder|bridge|course)\b)|\bnoose\b|\bligature",
        r"\b(?:(?:has|hes got|shes got|got|holding|carrying|carries|found|hid|hidden|hiding|"
        r"hides|pulled|took) (?:a |the |some |his |her )?|with (?:a|the|some|his|her) )"
        r"(?:knife|knives|blade|blades|razor|"
        r"razors|gun|weapon)\b(?! (?:and fork|phobia|fear|set|skills?|sharpener|block)\b)",
        r"\bvoices (?:keep |keeps )?(?:tell|telling|told|say|saying) (?:me|him|her) to\b",
    ),
    "overdose or poisoning": (
        r"\b(?:an|a|took|taken|take|taking|had) overdo(?:se|es|s)\b",
        # "overdose", but not "an overdose of information" or "overdosed on screen time"
        r"\boverdos\w*\b(?! (?:of|on)\b)",
        rf"\boverdos\w* (?:of|on) (?:(?:his|her|my|their|the|some|mums|dads) )?(?:\w+ )?{_PILLS}",
        # took / is going to take + an amount + pills
        r"\b(?:took|taken|swallowed|eaten|ate|downed|necked|had|has had|drank|drunk|"
        r"(?:going to|gonna|gunna|will|want to|wanna|planning to|plan to|thinking (?:of|about)) "
        rf"(?:take|taking|swallow|swallowing|down|neck)) {_AMOUNT} (?:of )?(?:\w+ ){{0,3}}?"
        rf"{_PILLS}",
        rf"\b(?:saving|saved|stockpiling|stockpiled|hoarding|hoarded|collecting|stashing) "
        rf"(?:up )?(?:\w+ ){{0,2}}{_PILLS}",
        rf"\b{_PILLS} (?:overdose|all at once)",
        # pills and alcohol together
        rf"\b(?:drank|drunk|drinking)\b.*\b(?:took|taken|swallowed|taking)\b(?: \w+){{0,3}}? "
        rf"{_PILLS}|\b(?:took|taken|swallowed)\b(?: \w+){{0,3}}? {_PILLS}\b.*\b(?:drank|drunk|"
        r"vodka|alcohol)\b",
        r"\b(?:drank|drunk|swallowed|swallow|ate|eaten|drinking|licked|had|drink) (?:some |a bit "
        r"of |the |a |loads of )?(?:bleach|detergent|washing (?:up )?liquid|dishwasher tablets?|"
        r"laundry (?:pods?|capsules?|tablets?)|fairy liquid|cleaning (?:stuff|products?|fluid)|"
        r"chemicals?|antifreeze|weed ?killer|poison|batter(?:y|ies)|button batter(?:y|ies)|"
        r"magnets?|white spirit|petrol|screenwash)",
        r"\b(?<!food )poison(?:ed|ing)\b",
    ),
    "abuse or violence": (
        # a grown-up + a few words + violent verb + me / us / family / him / her
        rf"\b{_ADULT}\b(?: \w+){{0,5}}? {_VIOLENT} (?:{_VICTIM}|him|her|them)\b{_NOT_VIOLENCE}",
        rf"\b{_SIBLING}\b(?: \w+){{0,3}}? {_VIOLENT} {_VICTIM}\b",
        # anyone + violent verb + me / us, unless the message is about a child's meltdowns
        # (a child's behaviour question); not "it hurt me to see him struggle"
        r"^(?!.*\b(?:meltdowns?|melt downs?|behaviou?r\w*|sensory|tantrums?|frustrat\w*|"
        r"overwhelm\w*|dysregulat\w*|kicks? off|kicking off|challenging|lash\w* out|autis\w*|"
        r"adhd|strategies|tips|advice)\b)"
        r".*(?<!\bit )(?<!\bthis )(?<!\bthat )(?<!\bwhich )(?<!\bit really )"
        rf"\b{_VIOLENT} (?:me|us|ma)\b{_NOT_VIOLENCE}",
        # severe violence, or any violence with an injury or a pregnancy, whatever the context
        rf"\b{_SEVERE} (?:me|us|ma)\b",
        rf"^(?=.*\b{_VIOLENT} (?:me|us|ma)\b).*\b(?:bleeding|blood|broken|broke my|hospital|"
        r"a and e|a e|concussion|concussed|pregnant|stitches|fractur\w*|black eye|knocked out|"
        r"unconscious)\b",
        r"\b(?:get|gets|getting|got|been|being|was|were|am|im|is|are|keep getting) (?:beaten|"
        r"battered|abused|raped|molested|assaulted|attacked|strangled|whipped|belted|punched|"
        r"slapped|smacked|stabbed|beaten up)\b",
        # "being hit at home", "gets smacked by his stepdad"
        r"\b(?:being|been|getting|gets|get|got|keeps? getting) (?:hit|kicked|smacked|slapped|"
        rf"punched|hurt)\b(?: \w+){{0,3}}? (?:at home|by (?:(?:his|her|their|my|our|the|a) )?"
        rf"{_ADULT})\b",
        r"\bstabb(?:ed|ing)\b(?! (?:\w+ )?in the back)",
        r"\b(?:threw|throws|thrown|throwing|chucked|chucks|lobbed) "
        r"(?!a (?:tantrum|wobbly|strop|fit|paddy|hissy)\b)(?:\w+ ){1,3}at "
        r"(?:me|us|him|her|my|the kids|the baby)\b",
        r"\b(?:hands?|arms?|fingers|belt|rope|cord) (?:a?round|on|over|across) (?:my|her|his|"
        r"their|your) (?:neck|throat)|\bby the (?:throat|neck|hair)\b",
        # threats: "he'll kill me", "said they would hurt my mum", "kill me if i leave"
        rf"\b(?<!\bthis )(?<!\bit )(?<!\bthat ){_THREAT} (?:\w+ )?(?:kill|hurt|stab|batter|beat|"
        rf"smash|murder|shoot|strangle|kidnap|rape|harm|burn|hit|punch|slap|knock) {_VICTIM}\b"
        r"(?! (?:a favour|good|proud)\b)",
        rf"\b(?:kill|hurt|stab|batter|beat|murder|harm|hit|burn) (?:{_VICTIM}|him|her)"
        r"(?: \w+){0,3} if (?:i|we|you|she|he) (?:leave|left|go|tell|told|call|report|say)\b",
        r"\b(?:what|things) (?:hes|shes|theyre|he is|she is|they are|hed|shed|theyd|hell|shell|"
        r"theyll|he was|she was|he will|she will|they will) (?:going to |gonna |gunna )?"
        r"do to (?:me|us|her|him|them|the kids|my)\b",
        # threatened to hurt or share pictures, not "threatened to fine us"
        r"\bthreat\w* (?:to |me |us |him |her |my \w+ )(?:\w+ ){0,2}?(?:kill|hurt|stab|beat|"
        r"batter|hit|punch|burn|harm|rape|share|post|leak|send|shoot|smash|take (?:the|my|our) "
        r"(?:kids|children|baby))|\bthreat\w* (?:me|us|him|her) with (?:a|his|her) (?:knife|gun|"
        r"weapon|bat|hammer)",
        # sexual abuse
        r"\b(?<!\bdont )(?<!\bnot )touch(?:ed|es|ing)? me\b",
        r"\b(?:touch|grope|fondl|feel)\w* (?:\w+ ){0,3}(?:private|privates|private parts|down "
        r"there|bum|breasts?|chest|willy|penis|vagina|genitals?|between (?:my|her|his) legs)",
        r"\btouch(?:ed|es|ing)? (?:me|my (?:son|daughter|child)|him|her) (?:inappropriately|"
        r"down there|in private)",
        r"\brap(?:e|ed|es|ing|ist)\b|\bmolest|\bsexual(?:ly)? (?:assault|abus)|\bpaedo|\bpedo"
        r"|\bincest\b",
        r"\b(?:makes?|making|made|forc\w*|pressur\w*) (?:me|him|her|us|them|my \w+) (?:to )?"
        r"(?:have sex|do (?:stuff|things|sexual|sex|it)\b|touch|watch (?:porn|videos|him|her)|"
        r"send (?:pics|pictures|photos|nudes)|suck|take (?:my|her|his) clothes off|undress|"
        r"get naked|sleep with|kiss)",
        r"\bforced (?:me|him|her|us) to\b",
        r"\bsex with (?:a |an )?(?:older|grown|adult|man|men|woman|\d\d)",
        # pictures, blackmail and online grooming
        r"\bnudes\b|\bnaked (?:pictures|pics|photos|images|videos)|\bblackmail|\bsextort",
        r"\b(?:ask\w*|want\w*|send|sent|sending|share|sharing|shared|post\w*|leak\w*|beg\w*|"
        r"pressur\w*) (?:\w+ ){0,4}(?:pictures|pics|photos|images|videos|vids|selfies)\b"
        r"(?: of (?:her|him|me|them|my|your)(?:sel(?:f|ves))?\b| (?:with|without) "
        r"(?:no |any |her |his )?clothes| naked| nude)",
        r"\b(?:will|ll|theyll|hell|shell|gonna|going to|threat\w* to|unless|or (?:theyll|hell|"
        r"shell|they will))(?: \w+){0,2} (?:post|share|leak|send|show|spread|put)\w* "
        r"(?:\w+ ){0,2}?(?:my|her|his|their|the) (?:pics|pictures|photos|videos|vids|images)",
        r"\b(?:man|guy|bloke|woman|men) (?:in (?:his|her|their) (?:[2-6]0s|twenties|thirties|"
        r"forties|fifties|sixties)|who is (?:[2-6]\d)|aged [2-6]\d)",
        # an older man or lad with money, gifts, lifts, meetings or secrets
        r"^(?=.*\b(?:older|grown ?up|grown|adult) (?:man|men|guy|guys|bloke|blokes|lads?|boys?|"
        r"woman|women|girls?)\b).*\b(?:giv\w*|gave|buy\w*|bought|money|gifts?|presents?|"
        r"messag\w*|meet\w*|cars?|pick\w* (?:him|her) up|stay\w*|boyfriend|girlfriend|sex|"
        r"pictures|pics|photos|secret|drugs|packages?|parcels?)\b",
        r"\b(?:man|men|guy|stranger|strangers|someone|somebody|adult|person|people|bloke)\b"
        r"(?: \w+){0,8}? (?:sending|sends|sent|giving|gives|gave|buying|buys|bought|offering|"
        r"offered|offers) (?:him|her|them|me|my \w+) (?:money|cash|gifts?|presents?|vouchers|"
        r"robux|v ?bucks|skins|credit|a phone|phones|clothes|drugs|vapes?|alcohol|lifts?)",
        r"\bgroom(?:ed|ing)\b|\bcounty lines\b|\bcriminal exploitation|\bsexual exploitation",
        # told to keep it secret: "said not to tell anyone"
        r"\b(?<!\bi )(?:said|says|told|tells|telling|asked|asks|wants|wanted|made) (?:me|him|"
        r"her|us|them)? ?(?:\w+ ){0,5}?(?:not|never) (?:to )?tell\b",
        r"\bour (?:little )?secret\b|\bkeep (?:it|this) (?:a )?secret\b"
        r"|\btrouble if (?:i|we|you) tell",
        r"\bif (?:i|you|we) tell (?:anyone|any one|anybody|any body|someone|no one)\b",
        # drugs and gangs: carrying packages to other towns
        r"\b(?:packages?|parcels?|packs|drugs|bags|stuff|gear)\b(?: \w+){0,3} (?:to|in|across) "
        r"(?:other|another|different) (?:towns?|cities|city|areas?|places)",
        r"\b(?:in|involved with|joined|hanging (?:round|around|about|out) with|running for|"
        r"working for|dealing for) (?:a |the |some )?gangs?\b|\bgang members?\b",
        r"\b(?:sell|sells|selling|sold|deal|deals|dealing|run|runs|running|carry|carries|"
        r"carrying|carried|hold|holds|holding|move|moving|deliver\w*|hide|hiding|stash\w*) "
        r"(?:\w+ )?(?:drugs|weed|coke|gear|crack)\b",
        # domestic abuse, coercive control, fear of someone or of home
        r"\bdomestic (?:abuse|violence)|\bcoercive|\bcontrolling (?:me|relationship|partner|"
        r"husband|boyfriend)|\bcontrols (?:all )?(?:the|my) (?:money|phone)|\bwont let me "
        r"(?:leave|see|go out|have|use|talk)",
        r"\b(?:physical(?:ly)?|emotional(?:ly)?|verbal(?:ly)?) abus|\babus(?:e|ed|es|ing|ive) "
        r"(?:me|us|him|her|my)\b|\b(?:being|been|was|is|am|were) abused\b",
        r"\bscared (?:he|she|they|hell|shell|theyll) (?:will|ll|is going to|might|may|would|"
        r"is gonna)? ?(?:do it again|hurt|hit|kill|come back|find (?:me|us))",
        r"\b(?:scared|afraid|frightened|terrified) (?:to|of) (?:go|going|be|being|stay|staying|"
        r"return|returning|sleep|sleeping)? ?(?:back )?(?:home|(?:to |at |in )?(?:my|our) "
        r"(?:house|flat|place|home))\b",
        rf"\b(?:scared|afraid|frightened|terrified) of (?:my |our |ma |mums |her |his )?{_ADULT}\b",
        r"\b(?:im|i am|were|we are|we re|i feel|we feel|hes|shes|they are|theyre) (?:so |really |"
        r"very |too )?(?:scared|afraid|frightened|terrified) of (?:him|her|them)\b",
        r"\b(?:not|dont feel|do not feel|never feel|doesnt feel|does not feel|dont|doesnt) "
        r"(?:feel )?safe (?:at home|at my house|in my house|in (?:my|our|the) house|with (?:him|"
        r"her|them|my))",
        # locked in a room or cupboard; an adult coming into a child's room at night
        r"\block(?:s|ed|ing)? (?:me|us|him|her|them|my \w+) (?:\w+ ){0,2}?in (?:my|his|her|their|"
        r"the|a|our) (?:room|bedroom|cupboard|shed|cellar|basement|garage|car|house|flat|toilet|"
        r"bathroom|cage)",
        r"\b(?:comes?|came|coming|gets?|got|getting|creeps?|crept|sneaks?|snuck) (?:in ?to|into|"
        r"in) (?:my|her|his|their|our) (?:room|bed|bedroom)\b(?=.*\b(?:night|touch|dad|step|"
        r"uncle|grandad|boyfriend|man|brother|cousin|lodger)\b)",
        # injuries that need explaining
        r"\b(?:got|has|have|had|with|left|covered in|came home with|full of|unexplained|all over|"
        r"ive got|hes got|shes got) (?:\w+ )?(?:bruises|bruising|black eye|finger ?marks|hand "
        r"?marks?|belt marks|burn marks|cigarette burns|marks? on (?:his|her|my|their) (?:arms?|"
        r"neck|face|body|legs?|back))\b",
    ),
    "carer at breaking point": (
        # "i could hurt him", "i feel like i could shake her", "im scared ill hit him"
        r"\b(?:i (?:\w+ )?(?:could|might|may|will|will end up|am going to|m going to|am gonna|"
        r"m gonna|feel like|want to|wanna)|(?:scared|afraid|frightened|terrified|worried|worry) "
        r"(?:that )?(?:i|ill|id)(?: will| might| could| would| ll)?) (?:really |actually )?"
        r"(?:hurt|harm|hit|shake|smother|strangle|throttle|suffocate|snap and hurt|lash out at|"
        r"lose it with|do something to) (?:him|her|them|the baby|my|the kids|the children|"
        r"someone|somebody)\b(?! (?:feelings|back|pride)\b)",
        # "kill" only when it is not the usual "i could kill him" figure of speech
        r"\bi (?:\w+ )?(?:might|am going to|m going to|am scared i(?:ll| will| might)|"
        r"m scared i(?:ll| will| might)|want to|wanna|feel like) kill (?:him|her|them|the baby|"
        r"my)\b",
        r"\bi (?:feel like|felt like|keep thinking about|think about) (?:hurting|hitting|shaking|"
        r"smothering|strangling|killing|suffocating) (?:him|her|them|the baby|my)\b",
        r"\b(?:scared|afraid|frightened|terrified|worried|worry) (?:of )?what i (?:might|could|"
        r"would|will|may|ll|d)(?: end up)? do\b",
        # "i lost it and hit him", "i shook the baby" ("might hurt her" is the rule above)
        r"\bi (?:\w+ ){0,4}?(?<!might )(?<!could )(?<!would )(?<!\bwill )(?<!\bmay )(?<!\bto )"
        r"(?:shook|shaken|hit|smacked|slapped|punched|kicked|hurt|choked|"
        rf"strangled|smothered|throttled|whacked|bit) (?:(?:my|the|our) {_CHILD}|him|her|them)\b"
        r"(?! (?:feelings|back|pride|with the)\b)",
        r"\b(?:shook|shaken|shaking|shake) (?:the|my|our|a|her|his) (?:baby|babies)\b"
        r"|\bshaken baby",
        r"\b(?:pillow|cushion|hand|hands|bag|blanket) over (?:his|her|their|the babys|babys) "
        r"(?:face|mouth|nose|head)",
        rf"\b(?:{_CANT}|unable to) keep (?:him|her|them|my \w+|the kids|the children|myself|us|"
        r"everyone) safe\b",
        r"\bdont trust myself (?:with|around|near)\b",
    ),
    "neglect or homelessness": (
        # "is being neglected", "they neglect the kids"; not "neglected by the council"
        r"\b(?:is|are|was|were|being|been|getting|gets) (?:being )?neglected\b"
        r"(?! by (?:the )?(?:council|school|services|system|send|local authority)\b)",
        r"\bneglect(?:s|ing|ed)? (?:him|her|them|the (?:kids|children|baby)|my \w+)\b",
        # no food + a stretch of time, or no food in the house at all
        r"\b(?:no|any|not had any|havent had any|havent had|hasnt had|not had|nothing|"
        r"no proper) (?:food|to eat|dinner|tea|meals?)\b(?: \w+){0,4}? (?:for|in|since) "
        r"(?:\w+ )?(?:days?|weeks?|yesterday|ages|\d+|two|three|four)\b",
        r"\bno (?:food|money for food|money to eat|electric|gas|heating) (?:in the (?:house|flat|"
        r"fridge|cupboards?)|at home|left)|\bno money for (?:food|nappies|milk)",
        r"\b(?:have|has|got|there is|theres|is|there s) no food\b",
        r"\b(?:hasnt|havent|hadnt|not|didnt|doesnt|wont|isnt|not been) (?:eaten|eating|eat|drunk|"
        r"drinking|drink|had (?:anything|any food|a drink|a meal))(?: properly)?(?: or (?:drunk|"
        r"drink|drinking|eaten|eat|eating)(?: anything)?)?(?: \w+){0,3}? (?:for|in|since) "
        r"(?:\w+ )?(?:days?|weeks?|yesterday|\d+|two|three|four|48)\b",
        r"\b(?:starving|hungry) (?:all the time|every day|for days)\b",
        r"\b(?:too|always|often|so) (?:drunk|high|out of it|off (?:his|her|their) face|wasted|"
        r"stoned) to (?:look after|care for|mind|feed|watch|get up)",
        # left alone for a night or more, or a parent who has not come home
        r"\b(?:left|leaves|leave|leaving) (?:\w+ ){0,4}?(?:alone|home alone|on (?:his|her|"
        r"their|our|my) own|by (?:him|her|them|my|our)sel(?:f|ves))(?: \w+){0,3}? "
        r"(?:all (?:day|night|weekend|week)|overnight|every (?:night|day|weekend|evening)|"
        r"for (?:days|hours|the (?:weekend|night)|\w+ days|nights)|nights|at night|while)",
        r"\b(?:mum|mom|mam|dad|parents?|carer|mother|father)\b(?: \w+){0,2}? (?:hasnt|havent|"
        r"not|didnt|never) (?:been|come|came) (?:home|back)\b",
        # kicked out, sleeping rough; not "kicked out of the after school club"
        r"\b(?:kicked|thrown|chucked|threw|kick|throw|chuck|kicking|throwing|chucking) (?:me|him|"
        r"her|us|them|my \w+) out\b(?! of (?:the |his |her |my )?(?:\w+ )?(?:school|club|class|"
        r"college|nursery|lessons?|group|course|session|team|pool|cinema|shop|car|game)\b)",
        r"\b(?:got|been|get|gets|being|was|were|am|is|im|hes|shes|getting) (?:kicked|thrown|"
        r"chucked) out\b(?! of (?:the |his |her |my )?(?:\w+ )?(?:school|club|class|college|"
        r"nursery|lessons?|group|course|session|team|pool|cinema|shop|game)\b)",
        r"\b(?:sleep|sleeping|slept|sleeps|living|live|staying) (?:rough|on the streets?|outside|"
        r"in (?:a|the|his|her|my) (?:park|car|street|bus station|station|doorway|stairwell|tent|"
        r"garage|shed|woods))",
        r"\bhomeless\b|\bon the streets\b|\bsofa surf",
        r"\bnowhere (?:to|else to) (?:sleep|stay|live)|\bnowhere to go (?:tonight|at night)",
    ),
    "missing or in danger now": (
        # a child (or he/she) has gone missing, but not "the draft went missing in the post"
        # or "he is missing his dad"
        rf"\b(?:{_CHILD}|he|she|they|hes|shes|theyre|theyve)\b(?: \w+){{0,4}}? (?:gone|went|go|"
        r"goes|going|been|reported|is|are|was|were|still) missing\b(?! (?:his|her|their|my|a|an|"
        r"the|out|loads|lots|some|most|half|school|lessons?|class|classes|breakfast|lunch|meals?|"
        r"from (?:the )?(?:class|photo|picture|register|list|team)|in (?:the )?(?:post|photo))\b)",
        r"\bmissing from (?:home|care|respite|hospital|the house|his room|her room|school|the "
        r"unit|foster|residential)|\breported (?:him|her|them)? ?missing|\bmissing person",
        # nobody can find them; "her" only as a person, not "cant find her coat"
        r"\b(?:cant|cannot|can not|couldnt|nobody can|no one can|noone can|we cant|police cant) "
        rf"find (?:him|them|(?:my|our|the|ma) {_CHILD}|her(?= *$| (?:anywhere|and|we|i|shes|she|"
        r"its|it|the|in|at|since|after|now|please|help|for)\b))\b(?! (?:a|an|any|the right|"
        r"somewhere|a place)\b)",
        r"\b(?:has|have|had|just|threaten\w* to|going to|gonna) (?:run|ran) away\b|\bran away "
        r"(?:from (?:home|care|foster|respite|the house|us|her|him|me|residential|the unit)|again|"
        r"last night|overnight)",
        rf"\b(?:he|she|they|hes|shes|theyve|{_CHILD})\b(?: \w+){{0,3}}? (?:hasnt|havent|not|"
        r"didnt|never|still not|isnt) (?:come|came|been|got|gotten|returned|gone) (?:back )?"
        r"home\b(?! (?:from work|yet from)\b)",
        # a child in the road or water, unless the parent is asking for tips
        r"^(?!.*\b(?:how (?:do|can|should) (?:i|we)|how to|tips|advice|strategies|any ideas)\b)"
        r".*\b(?:run|ran|running|runs|gone|went|bolted|wandered|walked|climbed|got) (?:out )?"
        r"(?:in ?to|onto|on to|out on|across|towards|near|in|off to|off towards) (?:the )?"
        r"(?:main )?(?:road|roads|traffic|motorway|dual carriageway|railway|train tracks?|tracks|"
        r"river|canal|sea|lake|water|reservoir)\b",
        r"\bcant catch (?:him|her|them)\b",
        r"\b(?:wandered|run|ran|gone|went) off\b(?=.*\b(?:cant find|nobody can find|no one can "
        r"find|lost|dark|road|police|hours)\b)",
        # a weapon in the house
        r"\b(?:has|got|holding|with|carrying|waving) a (?:knife|gun|weapon|blade|machete)\b"
        r"(?! (?:and fork|phobia|fear|set|skills?|sharpener|block)\b)",
        r"\b(?:says|said|saying|threatening|going) (?:hes|shes|he is|she is)? ?(?:going to|gonna) "
        r"use it\b",
    ),
    "medical emergency": (
        r"\bchoking\b(?! (?:hazard|risk|hazards|risks|back)\b)",
        r"\b(?:not|isnt|stopped|stopping|cant|cannot|can not|cant stop|barely|struggling|"
        r"struggling to|fighting for) (?:breathing|breathe|breath)\b(?! (?:through|a word))",
        r"\b(?:turning|going|gone|turned) blue\b|\blips (?:are |is |have |going |gone |"
        r"turned |turning )?blue\b|\bblue lips\b",
        r"\bunconscious\b|\bunresponsive\b|\bnot responding\b|\bpassed out\b|\bknocked out\b",
        r"\b(?:wont|cant|not|isnt|will not|cannot|can t) (?:wake (?:him|her|them|up)|waking up|"
        r"come round|coming round|come around|coming around)\b(?! (?:at|in|until|till|before|"
        r"early|for|during)\b)",
        r"\b(?:hes|shes|he|she|has|just|suddenly|baby|son|daughter) collapsed\b",
        # a head injury followed by drowsiness, sickness or confusion
        r"^(?=.*\b(?:head|skull)\b)(?=.*\b(?:hit|hits|banged|bumped|knocked|fell|fall|fallen|"
        r"landed|injur\w*)\b).*\b(?:sleepy|drowsy|being sick|been sick|vomit\w*|throwing up|"
        r"confused|dazed|wont wake|cant wake|not making sense|bleeding)\b",
        # a seizure that will not stop or lasts minutes; not "his seizure plan"
        rf"\b{_SEIZURE}\b(?! (?:plan|plans|care|training|nurse|diary|medication|meds|protocol)\b)"
        rf"(?: \w+){{0,8}}? {_NOT} (?:stop|stopping|stopped|come round|coming round|come around|"
        r"coming around|wake|waking|woken|breath\w*|responding|responsive)\b",
        rf"\b{_SEIZURE}\b(?: \w+){{0,6}}? (?:for |over |more than |longer than |been |its been )+"
        r"(?:\d+|five|ten|fifteen|twenty) (?:minutes|mins|min)\b",
        r"\b(?:rescue|emergency) med\w*(?: \w+){0,3}? (?:not|havent|hasnt|didnt|dont|isnt|arent|"
        r"wont) (?:work\w*|help\w*|stop\w*)",
        r"\b(?:inhaler|epipen|epi pen|pump)(?: \w+){0,2}? (?:not|isnt|hasnt|didnt|wont) "
        r"(?:work\w*|help\w*)",
        # allergic reaction, bleeding, drowning, falls and road accidents
        r"\b(?:throat|tongue|lips?|face|mouth) (?:is |are |has |have )?(?:swelling|swollen|"
        r"swelled|closing)",
        r"\banaphyla\w*\b(?! (?:plan|training|kit)\b)|\b(?:having|is having|hes having|shes "
        r"having) (?:an )?allergic reaction",
        r"\b(?:im|i am|hes|shes|he is|she is|theyre|were|we are) (?:still |really |badly )?"
        r"bleeding\b",
        r"\bbleeding (?:a lot|badly|heavily|everywhere|loads)|\b(?:wont|will not) stop "
        r"bleeding|\bblood everywhere\b|\blost (?:a lot of|loads of) blood",
        r"\b(?:nearly|almost|has|is|hes|shes|he|she|was|been) drown(?:ed|ing)\b"
        r"(?! (?:his|her|their|my|it|them|in (?!the |a |water)))",
        r"\b(?:hit|knocked (?:over|down)|run over) by a (?:car|van|bus|lorry|train|bike)",
        r"\bfell (?:from|out of|off) (?:a |the )?(?:window|balcony|roof|height|bridge|top floor)",
    ),
}


def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    r"""Compile one reason's patterns for speed.

    Messages are searched as " " + normalised text, so a leading ``\b`` can become a
    literal space: ``re`` then jumps from word start to word start instead of trying every
    character. Those patterns are joined into one alternation; the rest (``^`` rules) stay
    separate.
    """
    at_word = [p[2:] for p in patterns if p.startswith(r"\b")]
    others = [p for p in patterns if not p.startswith(r"\b")]
    joined = " (?:" + "|".join(f"(?:{p})" for p in at_word) + ")"
    return tuple(re.compile(p) for p in ([joined] if at_word else []) + others)


_COMPILED = {reason: _compile(patterns) for reason, patterns in PATTERNS.items()}


@dataclass(frozen=True)
class SafetyCheck:
    """The detector's verdict on one message."""

    crisis: bool
    reasons: tuple[str, ...] = ()


def check_message(text: str) -> SafetyCheck:
    """Return whether ``text`` suggests someone is at risk, and why."""
    plain = normalise(text or "")
    if not plain:
        return SafetyCheck(False)
    padded = " " + plain  # see _compile
    reasons = tuple(
        reason for reason, patterns in _COMPILED.items() if any(p.search(padded) for p in patterns)
    )
    return SafetyCheck(bool(reasons), reasons)


def is_crisis(text: str) -> bool:
    """True when ``text`` suggests a child or adult is at risk."""
    return check_message(text).crisis


def emergency_text(front_door: Entry | None) -> str:
    """The emergency contacts, first and in plain words."""
    lines = [
        "I am worried about what you said. You can get help now.",
        "If someone is in danger right now, call 999.",
        "Children and young people can call Childline free on 0800 1111.",
        "Anyone can call Samaritans free on 116 123, day or night.",
    ]
    if front_door and front_door.phone:
        note = " (sample number)" if front_door.sample_data else ""
        lines.append(
            f"Worried about a child's safety? Call {front_door.name} on {front_door.phone}{note}."
        )
    lines.append("You can keep talking to me too.")
    return "\n".join(lines)
