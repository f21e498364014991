"""English cues of intent: the patterns ``listening.intent`` looks for, each with its kind and weight.

Patterns read lowercased text with typographic quotes folded (a curly apostrophe reads as a straight one). A weight of 1.0
decides on its own; 0.5 and 0.75 need company. Keep a cue general: a new one should name a way
people complain, ask or praise, not one sentence of a labelled set.
"""

from __future__ import annotations


def _alt(*options: str) -> str:
    return "(?:" + "|".join(options) + ")"


EN_NUM = _alt(
    r"\d+",
    "a",
    "an",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fifteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "ninety",
    "several",
    "a few",
    "few",
    "many",
    "a couple of",
    "couple of",
)
EN_UNIT = r"(?:min(?:ute)?s?|hours?|hrs?|days?|weeks?|months?)"
EN_DAY = _alt(
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "yesterday",
    "this morning",
    "last night",
    r"last \w+",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    r"the \d+(?:st|nd|rd|th)?",
    r"\d+(?:st|nd|rd|th)",
)
EN_NTH = _alt(
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "nth",
    r"(?:[2-9]|\d{2,})(?:st|nd|rd|th)",
)
EN_NEG_AUX = (
    r"(?:doesn'?t|does not|won'?t|will not|didn'?t|did not|isn'?t|is not|aren'?t|can'?t|cannot|couldn'?t|not|never)"
)
EN_WORKS = _alt(
    "work",
    "working",
    "turn on",
    "switch on",
    "charge",
    "charging",
    "connect",
    "connecting",
    "load",
    "loading",
    "open",
    "sync",
    "start",
    "scan",
    "log in",
    "login",
    "sign in",
    "come up",
    "let me",
    "get in",
    "get back in",
    "access",
    "boot",
    "print",
    "play",
    "pair",
    "arrive",
    "go through",
)
EN_STILL = _alt(
    "waiting",
    r"no\b",
    r"not\b",
    "nothing",
    "none",
    "without",
    r"hasn'?t",
    r"haven'?t",
    r"isn'?t",
    r"aren'?t",
    r"can'?t",
    "cannot",
    r"doesn'?t",
    r"don'?t",
    r"won'?t",
    r"didn'?t",
    "being",
    "broken",
    r"down\b",
    "missing",
    "showing",
    "stuck",
    "on hold",
    "charging me",
    "getting charged",
)

COMPLAINT: list[tuple[str, float, str]] = [
    # Waiting.
    (
        "waiting",
        1.0,
        rf"\b(?:waiting|waited|wait|queue|queued|queuing|queueing|on hold|holding|stuck|sat|sitting|"
        rf"connecting|pending|processing)\b[^.!?]{{0,40}}?\b(?:for )?(?:over |nearly |almost |about )?"
        rf"{EN_NUM} {EN_UNIT}",
    ),
    ("waiting", 1.0, rf"\b(?:delayed|late) (?:by )?(?:over |nearly |almost |about )?{EN_NUM} {EN_UNIT}"),
    (
        "waiting",
        1.0,
        rf"\b{EN_NUM} {EN_UNIT} (?:on hold|in (?:the|a|their) (?:\w+ )?(?:queue|line)|waiting|of waiting|"
        rf"later|and counting|and still|and no|and nothing|without|late|delayed|behind)",
    ),
    ("waiting", 1.0, r"\b(?:still|been|keep|kept) (?:waiting|on hold|stuck|chasing)\b"),
    (
        "waiting",
        1.0,
        r"\b(?:day|week|month) (?:\d+|two|three|four|five|six|seven|eight|nine|ten) (?:without|of no|of waiting|"
        r"and still|and no|of chasing)\b",
    ),
    ("waiting", 0.5, r"(?:^|[.!?]\s*)(?:day|week|month) (?:\d+|two|three|four|five|six|seven|eight|nine|ten)\b"),
    (
        "waiting",
        1.0,
        r"\b(?:hasn'?t|haven'?t|has not|have not|still not|not yet|never) (?:been )?(?:arrived|moved|shipped|come|"
        r"delivered|dispatched|turned up|showed up|fixed|sorted|resolved|updated|processed|sent|received|"
        r"replaced|repaired|credited|back)",
    ),
    ("waiting", 1.0, r"\b(?:yet to|still to) (?:arrive|receive|hear|get|be)\b"),
    (
        "waiting",
        1.0,
        rf"\b(?:it'?s|it has) (?:now )?been (?:over |more than |almost |nearly )?{EN_NUM} {EN_UNIT}\b|"
        r"\bwhat'?s (?:going on|happening) with (?:my|our)\b|\bany (?:update|news|word) on (?:my|our)\b",
    ),
    (
        "waiting",
        1.0,
        r"\b(?:has|have|had) been [\"']?(?:out for delivery|in transit|processing|pending|under review|"
        r"being processed|on its way|in progress|with the \w+|open|stuck|sitting)",
    ),
    (
        "waiting",
        1.0,
        r"\bnever (?:arrived|came|showed up|showed|turned up|ran|happened|received|reached|arrives|sent|"
        r"delivered|got it|got them)",
    ),
    (
        "waiting",
        1.0,
        r"\bwhere(?:'s| is| are) (?:my|our) (?:order|parcel|package|refund|money|delivery|bag|luggage|"
        r"engineer|technician|driver|food|card|replacement|sofa|stuff|things)",
    ),
    ("waiting", 0.5, rf"\bfor {EN_NUM} {EN_UNIT}\b"),
    ("waiting", 0.5, rf"\bsince {EN_DAY}\b"),
    ("waiting", 0.5, rf"\bto take {EN_NUM} {EN_UNIT}"),
    ("waiting", 0.5, rf"\b(?:it'?s|it is|it'?s now|that was|now it'?s) (?:now )?{EN_DAY}[.,]"),
    ("waiting", 0.75, r"\b(?:delayed|postponed|rescheduled|late) again\b"),
    ("waiting", 0.75, r"\b(?:delayed|postponed|overdue|keeps moving)\b"),
    (
        "waiting",
        0.75,
        r"\b(?:supposed|due|meant|promised|booked) to (?:arrive|be delivered|come|be here|call|ring|be fixed|"
        r"be back|be repaired)",
    ),
    (
        "waiting",
        0.5,
        r"\b(?:ordered|paid|booked|requested|reported|asked|submitted|applied|returned|sent|opened|"
        r"raised|filed) [^.!?]{0,40}\b(?:in|on|last|since|back in) "
        r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|"
        r"may|june|july|august|september|october|november|december|week|month|\d)",
    ),
    ("waiting", 0.5, r"\b(?:ago|open since|still open|ever since)\b"),
    ("waiting", 0.5, rf"\b(?:takes|took|taking|take) (?:over |nearly |almost |about )?{EN_NUM} {EN_UNIT}"),
    # Repetition.
    ("repetition", 1.0, rf"\bfor the {EN_NTH} time\b"),
    (
        "repetition",
        1.0,
        rf"(?:^|[.!?]\s*|\b(?:my|this is the) ){EN_NTH} (?:time|email|call|message|complaint|attempt|chat|"
        rf"visit|engineer|technician|delay|reminder)s?\b",
    ),
    ("repetition", 1.0, r"\b(?:every single time|how many (?:more )?times)"),
    (
        "repetition",
        1.0,
        r"\bnot the first time\b|\b(?:twice|three times) (?:this|in a|in one|a) (?:week|month|day|morning|"
        r"year)\b",
    ),
    (
        "repetition",
        1.0,
        r"\bthe same (?:form|question|questions|details|documents|information|info|paperwork|story|"
        r"answer|excuse|thing)s?\b[^.!?]{0,20}\bagain\b",
    ),
    ("repetition", 0.75, r"\b(?:once again|yet again|over and over)"),
    ("repetition", 1.0, rf"\bstill {EN_STILL}"),
    (
        "repetition",
        1.0,
        r"\bkeeps? (?:on )?(?:freezing|crashing|dropping|disconnecting|restarting|rebooting|failing|logging|"
        r"sending me|moving|buffering|cutting|cancell?ing|declining|rejecting|asking|happening|breaking|"
        r"losing|charging|telling|changing|getting worse|going down|going off|timing out|saying|showing|"
        r"switching off|turning off|shutting|blocking|delaying|pushing|leaking|glitching|lagging|hanging|"
        r"closing|stalling|jamming|beeping|flashing|tripping|ringing out|putting me)\b",
    ),
    ("repetition", 1.0, r"\banother \w+(?: \w+)?, another\b"),
    (
        "repetition",
        1.0,
        r"\b(?:\d+|two|three|four|five|six|seven|eight|nine|ten) times (?:now|already|so far|today|"
        r"this|in (?:a|one|the|two|three|\d+))\b",
    ),
    (
        "repetition",
        0.75,
        r"\b(?:\d+|two|three|four|five|six|seven|eight|nine|ten) (?:times|calls|emails|chats|messages|"
        r"engineers|visits|letters|attempts|tickets)\b",
    ),
    # "again" of a returning customer ("will order again") is no complaint.
    (
        "repetition",
        0.75,
        r"(?<!buy )(?<!use )(?<!fly )(?<!shop )(?<!book )(?<!stay )(?<!come )(?<!visit )(?<!order )"
        r"(?<!thanks )(?<!thank you )(?<!once )(?<!yet )\bagain\b",
    ),
    ("repetition", 0.5, r"\bevery (?:single )?(?:time|month|morning|day|week|call|order|night)\b"),
    ("repetition", 0.5, r"\b(?:third|fourth|fifth) (?:morning|day|week|month)\b"),
    # Money gone wrong.
    (
        "money",
        1.0,
        r"\b(?:charged|billed|debited|took|taken|paid)\b[^.!?]{0,25}?\b(?:twice|double|two times|again|"
        r"\d+ times)\b",
    ),
    (
        "money",
        1.0,
        r"\b(?:double|twice|duplicate|second|extra) (?:charged|charge|charges|billed|billing|payment|debit)",
    ),
    ("money", 1.0, r"\b(?:overcharged|over-charged|overbilled)\b"),
    ("money", 1.0, r"\b(?:still|keep|kept|keeps) (?:being |getting )?(?:charg|bill|debit)\w*"),
    (
        "money",
        1.0,
        r"\b(?:never|not|wasn'?t|hasn'?t been|haven'?t been|still not|yet to be|no) (?:been )?refund(?:ed)?\b",
    ),
    ("money", 1.0, r"\bwhere(?:'s| is) (?:my|the) (?:refund|money)|\brefund (?:still|hasn'?t|has not|never|not)\b"),
    (
        "money",
        1.0,
        r"\b(?:money|refund|deposit)\b[^.!?]{0,20}?\b(?:still )?(?:isn'?t|is not|hasn'?t|not) "
        r"(?:back|been|arrived|returned)",
    ),
    ("money", 1.0, r"\b(?:took|taken|take) (?:my|our) money\b"),
    ("money", 1.0, r"\b(?:love|loving|enjoy|nothing like) paying (?:£|\$|€)?\d"),
    (
        "money",
        1.0,
        r"\bcharged (?:me )?(?:for (?:a|an|the|my)?[^.!?]{0,40}?(?:never|didn'?t|not|cancel|returned|after)|"
        r"roaming|a cancellation)",
    ),
    (
        "money",
        0.75,
        r"\b(?<!no )(?:surprise|hidden|unexpected|extra|cancellation|admin|cleaning|penalty|late)\b[^.!?]{0,15}?"
        r"\b(?:fee|charge)s?\b",
    ),
    (
        "money",
        0.75,
        r"\b(?:has|have|had|'s|'ve) (?:gone|went) up\b|\bgone up by\b|\bup (?:by )?\d+%|\b(?:price|bill|renewal|premium|tariff) (?:hike|rise|increase)|"
        r"\b(?:price|prices|bill|cost|premium|renewal|tariff|fee|subscription)\b[^.!?]{0,30}\b(?:went|gone|rose|"
        r"risen|jumped|increased|doubled|tripled)\b",
    ),
    ("money", 0.75, r"\b(?:overdrawn|in arrears|debt collectors?)\b"),
    ("money", 1.0, r"\boverdraft (?:interest|fee|fees|charge|charges)\b|\bsurge pricing\b|\bparking (?:fine|ticket)\b"),
    ("money", 0.75, r"\bfrom £?\$?€?\d+ to £?\$?€?\d+\b"),
    ("money", 0.5, r"\bsame (?:items|usage|plan|service|store|basket|order|tariff|policy)\b"),
    ("money", 0.75, r"\b(?:get|have|want) (?:the|my|our) (?:£|\$|€)?\d*\s?(?:money |second one )?back\b"),
    ("money", 0.75, r"\b(?:bill|invoice|payment)\b[^.!?]{0,25}\b(?:i(?:'ve| have)?|already|was) paid\b"),
    (
        "money",
        0.5,
        r"\bestimated (?:bill|reading)\b|\bgot charged\b|\bcharged me\b|\bfinal (?:demand|notice|reminder)\b",
    ),
    # Things that do not work.
    ("broken", 1.0, rf"\b{EN_NEG_AUX} (?:even )?{EN_WORKS}\b"),
    ("broken", 1.0, r"\bstopped (?:working|charging|connecting|loading|syncing|responding|scanning)"),
    (
        "broken",
        1.0,
        r"\b(?:app|site|website|server|servers|service|system|network|line|internet|wifi|broadband|"
        r"platform|portal|lift|elevator)s? (?:is |are |was |has been |went |goes |still )?down\b|\bdown again\b",
    ),
    (
        "broken",
        1.0,
        r"\b(?:app|site|website|it|phone|laptop|system|game|page|form|tv|router|computer|screen|checkout) "
        r"(?:keeps )?(?:crash(?:es|ed|ing)?|freez(?:es|ing)|froze|hangs|hung)\b|\b(?:unusable|buffering|outage|"
        r"glitch(?:es|y)?|not responding|error (?:code|message)|dead on arrival|wiped)\b",
    ),
    ("broken", 0.5, r"\b(?:crash(?:es|ed|ing)?|freez(?:es|ing)|froze)\b"),
    (
        "broken",
        1.0,
        r"\bno (?:signal|internet|service|connection|power|electricity|water|heating|hot water|wifi|wi-fi|"
        r"broadband|dial tone|network|signal|water pressure|coverage|landline|seats)\b",
    ),
    (
        "broken",
        1.0,
        r"\b(?:arrived|came|delivered|turned up|showed up|was|is|were|got it) (?:completely |all )?"
        r"(?:broken|damaged|cracked|smashed|dented|opened|wet|soaked|leaking|cold|missing|ripped|torn|"
        r"faulty|dead|empty|crushed)\b",
    ),
    (
        "broken",
        1.0,
        r"\bwrong (?:item|size|order|colou?r|product|address|bill|amount|parcel|food|meal|car|room|name|"
        r"date|time|price|one|shoes?|part)s?\b",
    ),
    (
        "broken",
        1.0,
        r"\b(?:is|are|was|were|went|goes|still|now|all) missing\b|\bmissing (?:item|part|piece|bag|parcel|"
        r"items|parts|pieces|order|delivery)\b|\bnone of (?:my|the) (?:items|order|things)",
    ),
    (
        "broken",
        1.0,
        r"\b(?:lost|misplaced|damaged|broke|dropped|threw|crushed|blocked|blocks|froze|closed) (?:my|our|the) "
        r"(?:bag|luggage|suitcase|parcel|package|order|return|pram|card|case|item|delivery|documents|"
        r"phone|account|booking|wardrobe|sofa|box|tv|laptop|fridge)",
    ),
    ("broken", 1.0, r"\b(?:leaking|leaks)\b"),
    (
        "broken",
        1.0,
        r"\b(?:lost|misplaced|damaged|broke|smashed|scratched|ruined|crushed|froze|blocked|deleted|wiped|"
        r"shrank|shrunk|stained|ripped|dented|reset|switched off|cut off|overcharged|double charged)\b "
        r"(?:my|our|all my|all our)\b(?! (?:mind|voice|way|patience|temper|keys)\b)",
    ),
    ("broken", 1.0, r"\b(?:been|is|was|keeps|still) showing (?:zero|nothing|an error|blank|offline|the wrong)\b"),
    ("broken", 0.5, r"\b(?:not|isn'?t|no longer) available\b|\bunavailable\b"),
    (
        "broken",
        1.0,
        r"\bfound (?:a|an|some) (?:hair|bug|insect|fly|cockroach|slug|worm|piece of (?:glass|plastic|metal)|"
        r"mould|mold)\b",
    ),
    ("broken", 1.0, r"\bmarked (?:as )?[\"']?(?:delivered|resolved|closed|complete|completed|received|fixed)"),
    ("broken", 0.5, r"\b(?:broken|damaged|faulty|defective|cracked|crack|leak|error|bug|buggy|slow|fault|dead|cold)\b"),
    (
        "broken",
        0.5,
        r"\b(?:arrived|came|turned up) with\b(?! a (?:smile|note|handwritten))|\b(?:isn'?t|not) anywhere\b",
    ),
    ("broken", 0.5, r"\b(?:half|some|most) (?:of )?(?:the|my) (?:items|order|transactions|shopping|list)\b"),
    # Unanswered contact.
    (
        "unanswered",
        1.0,
        r"\b(?:nobody|no one|no-one|noone|nobody's|no one's) (?:to )?(?:picks up|answers|replies|responds|"
        r"gets back|called|calls|came|comes|come|turned up|turn up|showed up|show up|is working|takes|"
        r"has (?:replied|answered|called|responded|been in touch)|knows|can tell|seems)",
    ),
    (
        "unanswered",
        1.0,
        r"\b(?:zero|no|not a single|not one|without a single|without any|with no) (?:reply|replies|"
        r"response|responses|answer|answers|callback|callbacks|call ?backs?|call|email|emails|update|"
        r"updates|contact|word|news|explanation|apology|human|letter|warning|notice|acknowledge?ment)\b",
    ),
    (
        "unanswered",
        1.0,
        r"\b(?:never|still haven'?t|haven'?t|hasn'?t|didn'?t|did not|not|no one has|nobody has) "
        r"(?:heard back|got back|gotten back|received a reply|had a reply|replied|responded|answered|"
        r"called back|rung back|got a response|got an answer|gets back|been in touch|called)",
    ),
    ("unanswered", 1.0, r"\b(?:ignored|ignoring|ignore|ghosted|left on read)\b"),
    (
        "unanswered",
        1.0,
        r"\b(?:trying to|tried to) (?:reach|contact|get through|get hold|speak to|talk to|call)\b|"
        r"\bcan'?t (?:get through|get hold of|reach|contact)\b|\b(?:going to|gonna|ever) (?:reply|respond|"
        r"answer|get back|call back)\b",
    ),
    (
        "unanswered",
        1.0,
        r"\b(?:anyone|anybody|someone|somebody) (?:there|home|out there|awake|reading|listening|working)\?|"
        r"\b(?:anyone|anybody|someone|somebody) at \w+ actually\b",
    ),
    (
        "unanswered",
        1.0,
        r"\b(?:hung up|cut off|line (?:went|going|goes) dead|got disconnected|call dropped|rings? out|"
        r"goes to voicemail|went to voicemail|copy-?paste|from scratch|passed (?:around|from))",
    ),
    (
        "unanswered",
        0.75,
        r"\b(?:promised|told|assured) (?:me |us )?(?:a )?(?:call ?back|callback|refund|reply)|"
        r"\b(?:automated|generic|canned) (?:reply|response|email|message|answer)s?\b|"
        r"\bhello\?+|\bactually (?:read|answer|reply)\b",
    ),
    # Let down: cancelled, moved, changed without a word.
    (
        "let_down",
        1.0,
        r"\bwithout (?:telling|notice|warning|asking|explanation|any explanation|a word(?! of complaint)|"
        r"letting|informing|consent|my consent|a single|reason|any reason)\b|\bno reason given\b",
    ),
    (
        "let_down",
        1.0,
        r"\b(?:being|been|was|were|am|get|got) (?:asked|told|made|forced|expected) to (?:pay|wait|call|send|"
        r"explain|repeat|start|ring|chase)",
    ),
    (
        "let_down",
        0.5,
        r"\b(?:says|saying|claims|claiming|insists|shows)\b(?: that)? (?:my|i|i'?m|it'?s|there'?s|in stock|"
        r"the|a|\"|')",
    ),
    (
        "let_down",
        0.75,
        r"\b(?:was|were|got|has been|have been|been|is) (?:cancelled|canceled|postponed|rescheduled|"
        r"moved|changed|closed|declined|rejected|refused)\b",
    ),
    (
        "let_down",
        0.75,
        r"\b(?:cancelled|canceled) (?:my|our|the) (?:order|booking|flight|appointment|reservation|visit|"
        r"train|table)|\bgave away\b|\b(?:moved|changed|switched|put) (?:me|us|my \w+) (?:to|on|onto)\b",
    ),
    (
        "let_down",
        0.75,
        r"\b(?:instead of|not what i|not as (?:described|advertised|pictured)|got (?:a|an|another) \w+"
        r"(?: \w+)? (?:instead|again)|half the list)",
    ),
    ("let_down", 0.75, r"\bsubstitut\w+"),
    (
        "let_down",
        0.75,
        r"\b(?:gave|sent|brought|served|delivered|sold) (?:me|us)\b[^.!?]{1,40}\b(?:when|but|instead|"
        r"although)\b|\b(?:old|previous|wrong) address\b",
    ),
    (
        "let_down",
        1.0,
        r"\b(?:says|claims|claimed|said) (?:they |the driver |he |she )?(?:attempted|tried) (?:to )?deliver|"
        r"\b(?:attempted|tried to) deliver\b[^.!?]{0,40}\bi was (?:home|in|at home|at the door)",
    ),
    (
        "let_down",
        1.0,
        r"\b(?:ordered|asked for|paid for|booked|requested)\b[^.!?]{0,60}[,.;]\s*(?:but |and )?(?:got|received|"
        r"given|they sent|sent me)\b",
    ),
    (
        "let_down",
        1.0,
        r"\b(?:doesn'?t|does not|won'?t|wouldn'?t|refuse to|refused to|refusing to) (?:cover|pay out|refund|"
        r"honou?r|accept|replace|take)\b",
    ),
    (
        "let_down",
        1.0,
        r"\b(?:left|leaving|leave|leaves|dumped|threw|thrown) (?:my|the|our) (?:parcel|package|shopping|"
        r"delivery|order|box|groceries)\b|\b(?:parcel|package|shopping|delivery|box|groceries) (?:was |got )?"
        r"(?:left|dumped|thrown)\b",
    ),
    (
        "let_down",
        0.5,
        r"\b(?:missed|miss) my (?:flight|train|appointment|meeting)|\bmissed (?:twice|again)\b|"
        r"\bfor nothing\b",
    ),
    # Demands and churn.
    (
        "demand",
        1.0,
        r"\b(?:please |pls |plz )?(?:fix|sort out|sort) (?:this|it)(?: (?:now|asap|already|please))?[.!]|\b(?:i want|i need|i demand|give me|"
        r"can i have) (?:my money back|a refund|a full refund|to speak|to cancel|compensation|an explanation|"
        r"the second one back|someone)",
    ),
    (
        "demand",
        1.0,
        r"\b(?:please |pls )?refund (?:me|us|my)\b|\b(?:filed|raised|made|lodged|submitted|opened) a "
        r"(?:formal )?complaint\b|\b(?:is|are|what) (?:a|an absolute|a total|such a) (?:joke|farce|shambles|"
        r"disgrace|circus|nightmare)\b",
    ),
    (
        "demand",
        1.0,
        r"\b(?:speak|talk) to (?:a|an|your) (?:manager|human|real person|supervisor)|\bhow (?:hard|difficult) "
        r"(?:is|can) it\b|\bhow is it (?:that|possible)\b",
    ),
    (
        "demand",
        1.0,
        r"(?:^|[.!?]\s*)avoid\b|\bnever again\b|\bi'?m done with\b|\bnever (?:ordering|buying|using|flying|"
        r"shopping|booking|going back)\b|\bnot impressed\b|\bstay classy\b|\bthanks for nothing\b|"
        r"\bcounts? for nothing\b|\bliving the dream\b|\bnothing was (?:resolved|fixed|done)\b",
    ),
    (
        "demand",
        0.75,
        r"\b(?:seriously|really)\?|(?:^|[.!?]\s*)seriously\b|\bare you (?:kidding|serious|joking)\b|\bwhat (?:exactly|on earth) "
        r"(?:did|do|am|is|are)\b|\bexplain why\b|\bis it normal\b|\bwho do i (?:need to )?(?:talk|speak) to\b",
    ),
    (
        "demand",
        0.5,
        r"\bwhy (?:is|are|does|do|did|has|have|was|were|am|can'?t|won'?t|isn'?t|doesn'?t|hasn'?t|haven'?t)\b"
        r"[^.!?]{0,60}\b(?:my|i|me|we|our|us)\b",
    ),
]

QUESTION: list[tuple[str, float, str]] = [
    ("question", 1.0, r"\?"),
    (
        "question",
        1.0,
        r"\b(?:does|do) (?:anyone|anybody|someone|somebody) know\b|\b(?:anyone|anybody) (?:know|knows|tried|"
        r"used|else)\b|\bany (?:idea|ideas|news|update|tips|advice)\b|\bwondering (?:if|whether|how|why|"
        r"when|what)\b|\b(?:i'?d|i would) like to know\b|\bquick question\b|\blet me know (?:if|whether|how|"
        r"what|when)\b",
    ),
    (
        "question",
        0.75,
        r"(?:^|[.!?]\s+)(?:how|what|when|where|which|who|whom|whose|why|can|could|would|will|do|does|did|"
        r"is|are|am|was|were|has|have|should|shall|may)\b(?!'t)",
    ),
]

PRAISE: list[tuple[str, float, str]] = [
    (
        "thanks",
        1.0,
        r"\b(?:thanks|thank you|thank u|thx|ty|cheers|much appreciated|appreciate (?:it|you|the|your|that)|"
        r"grateful|kudos|shout ?out|props to|hats off|big up|bravo)\b",
    ),
    (
        "praise",
        1.0,
        r"\b(?:love|loving|loved|adore) (?:it|this|my|the|your|how|that|them|you|their)\b|"
        r"\b(?:well|nicely) done\b|\b(?:legend|legends|lifesaver|life saver|game ?changer|hero|heroes|gem)\b|"
        r"\bmade my (?:day|week)\b|\bdeserves? a (?:raise|medal|promotion|pay rise)\b|"
        r"\b(?:above and beyond|extra mile|out of (?:their|his|her|the) way)\b|"
        r"\brecommend(?:ed)?\b|\bimpressed\b|\b(?:rock solid|spot on|painless|seamless|flawless|"
        r"effortless|top stuff|top notch|stunning|worth (?:it|every|the))\b|"
        r"\b(?:lovely|nice|great|thoughtful|classy|personal) touch\b|\bsaved my (?:[\w-]+ ){0,2}(?:day|life|flight|trip|"
        r"holiday|bacon|weekend|journey|wedding|evening)\b",
    ),
    (
        "praise",
        1.0,
        r"\b(?:honest|helpful|lovely|kind|friendly|amazing|brilliant|great|fantastic|wonderful|excellent|"
        r"professional|patient|polite|cheerful|good) (?:people|staff|team|driver|drivers|crew|engineer|guy|"
        r"lady|man|woman|person|nurse|agent|folks|lot|service)\b|"
        r"\b(?:were|was|are|is|been) (?:absolutely |just |so |really )?(?:brilliant|amazing|fantastic|"
        r"excellent|superb|wonderful|outstanding|incredible|fab|fabulous|a star|stars|lovely|perfect|great|"
        r"the best|spot on)\b",
    ),
    # A closing exclamation: "… Easy." "Legend." "Top stuff!"
    (
        "praise",
        1.5,
        r"(?:^|[.!?]\s+)(?:nice|easy|lovely|brilliant|great|perfect|amazing|awesome|excellent|superb|legend|"
        r"impressed|painless|sorted|spot on|well done|fab|fabulous|wonderful|fantastic|stunning|smooth|"
        r"converted|chuffed|delighted|happy days|result|magic)(?: \w+)?[.!]*\s*$",
    ),
    # Praise said with a negation, which the lexicon reads as cross: it weighs more.
    (
        "praise",
        1.5,
        r"\bcan'?t fault\b|\bno (?:complaints|fuss|arguments|questions asked|hassle|issues|problems)\b|"
        r"\bnever (?:misses|disappoints|fails|lets (?:me|us) down|had to chase|had (?:a|any) (?:problem|"
        r"issue)s?)\b|\bwon'?t (?:shop|go|fly|bank|order|buy) anywhere else\b|\bcan'?t recommend\b|"
        r"\bnot a single (?:drop|problem|issue|complaint)\b",
    ),
    (
        "praise",
        1.0,
        r"\b(?:so|very|super|really|incredibly|extremely|always so|always) (?:helpful|friendly|fast|quick|"
        r"easy|patient|kind|efficient|professional|polite|responsive|clean|cleaner|smooth|simple)\b|"
        r"\b(?:better|faster|cleaner|easier|simpler|cheaper) than (?:i|expected|ever|before|the)\b|"
        r"\bbest (?:purchase|service|experience|decision|thing|airline|bank|app|customer|team|ever)\b|"
        r"\b(?:simplest|easiest|friendliest|fastest|quickest|nicest)\b",
    ),
    (
        "solved",
        1.5,
        r"\b(?:sorted|fixed|resolved|solved|replaced|refunded|swapped|exchanged|rerouted|upgraded|repaired|"
        r"paid|answered|changed|delivered|arrived|replied|found|spotted|got me)\b[^.!?]{0,70}?\b(?:(?:in|within|"
        r"under|the same|same|next|over) (?:\d+|one|two|three|four|five|ten|twenty|a|an|one|single|a few|"
        r"less than|under)?\s?(?:minutes?|mins?|hours?|day|days|afternoon|morning|call|phone call|chat|"
        r"message|email|go|week|weekend|an hour)|instantly|straight away|right away|immediately|"
        r"on the spot|in no time)\b",
    ),
    (
        "solved",
        1.5,
        r"\b(?:arrived|came|delivered|turned up|got here) (?:nice and |piping )?(?:hot|quick|quickly|fast|early|on "
        r"time|in perfect condition|perfectly|intact|safe and sound|fresh|warm)\b|\b(?:fix|solution|"
        r"workaround|answer) that (?:worked|works)\b",
    ),
    (
        "solved",
        1.5,
        r"\b(?:a|one|two) days? early\b|\bahead of (?:time|schedule)\b|\b(?:was|were|arrived|turned up) early\b|"
        r"\bno (?:extra|additional) (?:cost|charge)\b|\bfor free\b|\bunder warranty\b|\bexactly (?:as|when)\b",
    ),
]

# Praise said of a complaint: only read as sarcasm when the text also complains.
SARCASM = [
    r"(?:^|[.!?]\s*)(?:great|brilliant|wonderful|fantastic|lovely|perfect|amazing|awesome|excellent|superb|nice|"
    r"cheers|thanks|thank you|oh good|oh great|well done|good job|great job|nice one|bravo|congrats|so glad|"
    r"glad)\b",
    r"\b(?:great|fantastic|brilliant|amazing|excellent|wonderful|superb|stellar|top-?notch|lovely|awesome|nice) "
    r"(?:service|job|work|support|stuff|customer service|value|experience|touch)\b",
    r"\b(?:love|loving|appreciate|glad|nice to know|thanks|thank you|cheers)\b[^.!?]{0,30}\b(?:how|that|when|for|paying)\b"
    r"(?! (?:sorting|fixing|helping|the help|your help|getting back|replying|resolving|refunding|replacing|coming)\b)",
    r"\b(?:really|so|much) appreciated?\b(?: it)?",
    r"\b(?:really|so|very|super|ever so) (?:helpful|useful|kind|thoughtful|considerate|reassuring)\b",
    r"(?:^|[.!?]\s+)(?:nice|lovely|brilliant|great|perfect|amazing|awesome|excellent|superb|fab|wonderful|fantastic|"
    r"classy|charming|marvellous|splendid|impressive|great stuff|good job|well done|nice work|bravo)(?: \w+)?[.!]*\s*$",
]

STORY = {
    "person": r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|we|we're|we've|us|our|ours)\b",
    "service": r"\b(?:order|orders|ordered|delivery|delivered|parcel|package|bill|bills|billing|invoice|account|card|app|"
    r"website|site|support|service|driver|engineer|technician|booking|booked|flight|train|trains|bus|"
    r"refund|payment|paid|pay|subscription|plan|contract|store|shop|staff|agent|helpline|chat|ticket|claim|"
    r"policy|appointment|meter|router|connection|fee|charge|charged|price|tariff|signal|broadband|"
    r"internet|wifi|room|hotel|taxi|ride|seat|bag|luggage|prescription|pharmacy|bank|insurance|"
    r"insurer|transfer|balance|number|line|sailing|crossing|sync|update|server|stamps|checkout|"
    r"receipt|quote|quoted|repair|repaired|replaced|cleaners|dosage|slot|listing|cabin|reply|email|"
    r"boots|shoes|jacket|coat|laptop|tv|sofa|bed|fridge|oven|boiler|tent|parking|car park|ads|plan)\b",
    "marks": [
        r"\b(?:no|not|never|nothing|nobody|none|nowhere|without|cannot)\b|n't\b",
        r"\b(?:but|even though|although|though|despite|yet|instead|whereas|only to|apparently|supposedly|"
        r"meant to|supposed to|while i|when i)\b",
        r"[£$€]\s?\d|\b\d+(?:[.,]\d+)?\s?(?:€|euros?|pounds?|dollars?|quid|%)|\b\d{1,2}(?::\d\d)?\s?(?:am|pm)\b|"
        r"\b(?:\d+|an?|two|three|four|five|six|ten|twenty|half an?)\s?(?:min(?:ute)?s?|hours?|hrs?|days?|weeks?|"
        r"months?|seconds?)\b|\b(?:day|week) \d+\b|\b\d+x\b",
        r"\b(?:wrong|missing|lost|late|delayed|cancell?ed|broken|stuck|frozen|raw|stale|expired|mouldy|damaged|"
        r"cracked|split|snapped|torn|shrank|shrunk|stain|noise|noisy|offline|unavailable|overdrawn|fine|"
        r"surcharge|declined|rejected|refused|blocked|closed|accused|mess|disconnect\w*|reset|deleted|removed|"
        r"duplicat\w*|soaked|dirty|filthy|rude|unreachable|chasing|green|kept|took|switched off|green|"
        r"mistake|error|problem|issue|fault|twice|old address|half|fine|allergic|melted|gone)\b",
    ],
}
