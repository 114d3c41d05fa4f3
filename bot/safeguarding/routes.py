"""The suggested referral route shown to the DSL with each escalation.

A route is advice for a busy person, so it must never make a child less safe. Three rules shape
it: when a family member or carer is mentioned, nothing suggests telling the family before
children's social care or the police advise (modbot cannot tell a mention from an accusation,
and alerting an abuser is the worse mistake); child-protection concerns outrank self-harm, so
the child's home is not contacted first by default; and every body named is the right one for
the school's nation. Where unsure of a local name, the generic correct body is named instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

NATIONS = ("england", "wales", "scotland", "northern_ireland")
CATEGORIES = frozenset(
    {
        "self_harm",
        "abuse_disclosure",
        "grooming",
        "sexual_exploitation",
        "criminal_exploitation",
        "radicalisation",
        "bullying",
        "threat",
        "staff_allegation",
        "pupil_identification",
        "photo_consent",
        "sexual_content",
        "identity_hate",
    }
)
DANGER = "999 if a child is in immediate danger"
FORCED_MARRIAGE_UNIT = "the Forced Marriage Unit (020 7008 0151)"


@dataclass(frozen=True)
class Route:
    """Who to refer to, why, and what to do next. Every field is plain text on one line."""

    route: str
    reason: str
    steps: tuple[str, ...]
    urgent_call: str
    family_implicated: bool


# --- what the comment says -------------------------------------------------------------------

_POSSESSIVE = r"(?:my|ma|me|mi|muh|our|his|her|their)"
_FAMILY = re.compile(
    r"\b(?:"
    r"step[\s-]?(?:dad|mum|mom|mam|father|mother|parent|brother|sister|bro|sis)\w*"
    r"|(?:half[\s-]?)?(?:brother|sister(?!\s+school))s?|family|families"
    r"|mum|mums|mummy|mammy|mam|mams|mom|moms|mommy|mother|mothers"
    r"|dad|dads|daddy|father|fathers|parents?|grandparents?"
    r"|uncle|uncles|aunt|aunts|auntie|aunty|aunties|cousin|cousins"
    r"|nan|nans|nana|nanna|nanny|gran|grans|granny|grandma|grandmother|nain"
    r"|grandad|granddad|grandpa|grandfather|taid"
    r"|carers?|guardian|foster\s*(?:carer|mum|dad|parent|family|home)s?"
    rf"|{_POSSESSIVE}\s+(?:ma|da|bro|sis|fam|cuz|old man|oul fella|auld fella)"
    r"|family (?:member|friend)s?"
    r"|at home|at hame|(?:at|in) my (?:house|home)"
    r")(?:'s)?\b",
    re.I,
)

_TITLE = re.compile(r"\b(?:mr|mrs|ms|mx)\b\.?\s+[a-z]|\bsir\b", re.I)
_MISS_NAME = re.compile(r"\bMiss\s+[A-Z]")
_MISS_ACTS = re.compile(
    r"\bmiss\s+(?:touched|touches|kissed|kisses|hit|hits|grabbed|grabs|slapped|slaps|kicked"
    r"|kicks|pushed|pushes|hurt|hurts|sent|sends|messaged|texted|texts|dms|dmed|snapped|snaps"
    r"|added|follows|followed|said|says|told|tells|asked|asks|made|makes|keeps|kept|gave|gives"
    r"|took|takes|wants|wanted|showed|shows|called|calls|shouted|shouts|is|was|has|had)\b",
    re.I,
)
_STAFF_ROLE = re.compile(
    r"\b(?:teachers?|teaching assistants?|tutors?|form tutor|lsa|senco|(?:my|our|the)\s+ta"
    r"|coach(?!\s+(?:trip|journey|station|park|ride|holiday|driver))(?:es)?"
    r"|head\s?teachers?|headmaster|headmistress|head of (?:year|house|department)|deputy head"
    r"|(?:vice\s+)?principal|(?:mini)?bus driver|coach driver|school taxi|volunteers?"
    r"|caretaker|dinner lady|lunchtime supervisor|member of staff|staff member|staff"
    r"|youth worker|scout leader|instructor)\b",
    re.I,
)
_UPPER_TA = re.compile(r"\bTA\b")
# "the head" is staff, "hit me on the head" is not.
_THE_HEAD = re.compile(r"(?<!on )(?<!in )(?<!to )(?<!over )(?<!round )\bthe head\b(?!\s+of)", re.I)
_ABOUT_HEAD = re.compile(
    r"(?<!deputy )\b(?:head\s?teacher|headmaster|headmistress|(?<!vice )principal)\b", re.I
)

_FGM_WORDS = re.compile(
    r"\bfgm\b|genital mutilation|female circumcision|circumcis|\bcut\b|\bcutting\b|\bsunna\b"
    r"|\bkhatna\b|\btahoor\b",
    re.I,
)
_FGM_STRONG = re.compile(r"\bfgm\b|genital mutilation|female circumcision", re.I)
_MARRIAGE_WORDS = re.compile(r"\bmarr(?:y|ied|iage|ying)\b|\bwedding\b|\bhusband\b", re.I)
_FORCED_MARRIAGE_STRONG = re.compile(
    r"forced (?:to )?marr|make me marry|making me (?:get )?marr|marry me off", re.I
)
_FUTURE = re.compile(
    r"\b(?:going to|gonna|gna|about to|will|want(?:s)? (?:me|us|her) to|taking (?:me|us|her)"
    r"|take (?:me|us|her)|sending (?:me|us|her)|send (?:me|us|her)|plan(?:s|ning)?"
    r"|next (?:week|month|year|summer|holiday)"
    r"|this (?:summer|holiday|half[\s-]?term|easter|christmas)|in the (?:summer|holidays)"
    r"|be cut|get cut|getting cut|be done)\b|'ll\b",
    re.I,
)
_PAST = re.compile(
    r"\b(?:was cut|got cut|been cut|(?<!to )(?<!gonna )(?<!will )(?<!wanna )cut me|had fgm"
    r"|had it done|did it to me|done to me"
    r"|happened to me|when i was (?:little|small|a baby|younger|\d+)|already"
    r"|(?:i have|i've|ive) had|circumcised me|was circumcised)\b",
    re.I,
)


@dataclass(frozen=True)
class _Comment:
    """What the route needs to know about the comment, worked out once."""

    categories: frozenset[str]
    family: bool
    staff: bool
    about_head: bool
    fgm: str  # "", "known", "at_risk", "both" or "unclear"
    forced_marriage: bool
    sexual_attachment: bool


def family_implicated(text: str) -> bool:
    """True when a family member, carer or the child's home is mentioned at all."""
    return bool(_FAMILY.search(_plain(text)))


def staff_named(text: str) -> bool:
    """True when a member of staff or volunteer is named by title or role."""
    text = _plain(text)
    return any(
        pattern.search(text)
        for pattern in (_TITLE, _MISS_NAME, _MISS_ACTS, _STAFF_ROLE, _UPPER_TA, _THE_HEAD)
    )


def _plain(text: str | None) -> str:
    return (text or "").replace("\u2019", "'").replace("\u2018", "'")


def _fgm_stage(text: str) -> str:
    """Known (done to her) or at risk (planned): the duty to report covers known cases only."""
    known, planned = bool(_PAST.search(text)), bool(_FUTURE.search(text))
    if known and planned:
        return "both"
    if known:
        return "known"
    return "at_risk" if planned else "unclear"


def _read(categories: Sequence[str], rules: Sequence[str], text: str, attachment: bool) -> _Comment:
    cats = frozenset(str(c).strip().lower() for c in categories) & CATEGORIES
    rule_ids = [str(r) for r in rules]
    text = _plain(text)
    fgm_rule = any(r.startswith("abuse.fgm") for r in rule_ids)
    marriage_rule = any(r.startswith("abuse.forced_marriage") for r in rule_ids)
    fgm = forced_marriage = False
    if fgm_rule and "forced_marriage" in " ".join(rule_ids):
        # One rule covers both: the words decide, and both apply when they do not.
        fgm = bool(_FGM_WORDS.search(text)) or not _MARRIAGE_WORDS.search(text)
        forced_marriage = bool(_MARRIAGE_WORDS.search(text)) or not _FGM_WORDS.search(text)
    elif fgm_rule:
        fgm = True
    disclosure = "abuse_disclosure" in cats
    fgm = fgm or (disclosure and bool(_FGM_STRONG.search(text)))
    forced_marriage = (
        forced_marriage
        or marriage_rule
        or (disclosure and bool(_FORCED_MARRIAGE_STRONG.search(text)))
    )
    return _Comment(
        categories=cats,
        family=family_implicated(text) or fgm or forced_marriage,
        staff="staff_allegation" in cats
        or (
            bool(cats & {"abuse_disclosure", "grooming", "sexual_exploitation"})
            and staff_named(text)
        ),
        about_head=bool(_ABOUT_HEAD.search(text) or _THE_HEAD.search(text)),
        fgm=_fgm_stage(text) if fgm else "",
        forced_marriage=forced_marriage,
        sexual_attachment=attachment
        and bool(cats & {"grooming", "sexual_exploitation", "sexual_content"}),
    )


# --- who does what in each nation -------------------------------------------------------------


@dataclass(frozen=True)
class _Bodies:
    social_care: str
    social_care_short: str
    police: str
    head: str
    chair: str


_BODIES = {
    "england": _Bodies(
        "children's social care (a MASH / front door referral)",
        "children's social care",
        "the police",
        "head teacher",
        "chair of governors",
    ),
    "wales": _Bodies(
        "local authority children's services (Wales Safeguarding Procedures)",
        "local authority children's services",
        "the police",
        "head teacher",
        "chair of governors",
    ),
    "scotland": _Bodies(
        "local authority social work services (National Guidance for Child Protection in Scotland)",
        "local authority social work services",
        "Police Scotland",
        "head teacher",
        "local authority's education service",
    ),
    "northern_ireland": _Bodies(
        "the HSC Trust Gateway team",
        "the HSC Trust Gateway team",
        "the PSNI",
        "principal",
        "chair of the Board of Governors",
    ),
}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass
class _Advice:
    route: str
    reason: str
    steps: list[str]


_Builder = Callable[[_Comment, str], _Advice]


def _family_warning(b: _Bodies) -> str:
    return (
        f"Do not tell the child's family or anyone at home before {b.social_care_short} or "
        f"{b.police} advise you: it could put the child at more risk."
    )


def _honour_based(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    steps: list[str] = []
    reasons: list[str] = []
    whom: list[str] = []
    if c.fgm:
        _fgm(c, nation, steps, reasons, whom)
    if c.forced_marriage:
        reasons.append("possible forced marriage")
        police_named = any(b.police in who for who in whom)
        whom.append(
            FORCED_MARRIAGE_UNIT if police_named else f"{b.police} and {FORCED_MARRIAGE_UNIT}"
        )
        steps.append(
            f"Call {b.police} (999 if she may be taken abroad or married soon, otherwise 101) "
            f"and {FORCED_MARRIAGE_UNIT}."
        )
        steps.append(
            "Never contact the family or anyone in their community, and never try to mediate: "
            "it can put her in danger."
        )
    steps.append(f"Refer to {b.social_care} today.")
    whom.append(b.social_care_short)
    return _Advice(_cap("; ".join(dict.fromkeys(whom))), _cap("; ".join(reasons)), steps)


def _fgm(c: _Comment, nation: str, steps: list[str], reasons: list[str], whom: list[str]) -> None:
    """Known cases fall under the mandatory reporting duty (England and Wales); others do not."""
    b = _BODIES[nation]
    duty = (
        "Teachers must report known cases of FGM in under-18s to the police (101): "
        "the mandatory reporting duty"
    )
    if nation not in ("england", "wales"):
        reasons.append(
            "possible FGM; the England and Wales FGM mandatory reporting duty does not apply "
            "here, so report under child protection procedures"
        )
        whom.append(f"{b.police} (101)")
        steps.append(f"Report to {b.police} on 101 (999 if she is in immediate danger).")
    else:
        known = c.fgm in ("known", "both")
        if known:
            reasons.append(
                "the child says FGM was carried out on her: a known case, so the mandatory "
                "reporting duty applies"
            )
            whom.append(f"{b.police} on 101 (FGM mandatory reporting duty)")
            steps.append(f"{duty}.")
            steps.append(
                "The teacher who learned of it rings 101 personally, ideally by the end of the "
                "next working day, and notes the police reference; the DSL supports them."
            )
        if c.fgm != "known":
            reasons.append(
                "a girl may be at risk of FGM: a suspected or at-risk case is not covered by the "
                "mandatory reporting duty, so refer to social care and police under safeguarding "
                "procedures"
            )
            if not known:
                whom.append(f"{b.police} (101)")
                steps.append(f"Tell {b.police} on 101 under safeguarding procedures.")
        if c.fgm == "unclear":
            steps.append(
                f"If she says it has already been done to her, it is a known case: {duty}."
            )
    steps.append(f"If she may be taken abroad soon, call 999 now: {b.police} can act to stop it.")
    if c.fgm in ("known", "both"):
        steps.append(f"Ask {b.social_care_short} about sisters who may also be at risk.")


def _staff(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    if c.about_head:
        tell = f"Tell the {b.chair}, not the {b.head}: the concern may be about the {b.head}."
    else:
        tell = f"Tell the {b.head} (the {b.chair} if it is about the {b.head})."
    child_protection = f"If a child may be at risk of harm, also refer to {b.social_care}."
    if nation == "england":
        route = "LADO (Local Authority Designated Officer)"
        first = "Ring the LADO (Local Authority Designated Officer) for advice today."
    elif nation == "wales":
        route = (
            "The local authority's designated officer for allegations about practitioners "
            "(Wales Safeguarding Procedures)"
        )
        first = (
            "Tell the local authority's designated officer for allegations within 24 hours "
            "(Wales Safeguarding Procedures: concerns about practitioners and those in "
            "positions of trust)."
        )
    elif nation == "scotland":
        route = "Local authority social work services and Police Scotland"
        first = (
            "Refer to local authority social work services and Police Scotland (101) under "
            "child protection procedures."
        )
        child_protection = ""
    else:
        route = (
            "The Education Authority's Child Protection Support Service (CCMS for Catholic "
            "maintained schools) and the HSC Trust Gateway team"
        )
        first = (
            "As Designated Teacher, take advice from the Education Authority's Child Protection "
            "Support Service (CCMS for Catholic maintained schools)."
        )
        child_protection = "Refer to the HSC Trust Gateway team if a child may be at risk."
    steps = [first, tell]
    if child_protection:
        steps.append(child_protection)
    steps += [
        f"If a crime may have happened, tell {b.police} on 101 (999 if a child is in danger now).",
        "Do not contact or warn the member of staff, and do not investigate yourself.",
    ]
    reason = "The concern may be about a member of staff or volunteer"
    if nation == "scotland":
        reason += " (there is no LADO in Scotland: child protection procedures apply)"
    return _Advice(route, reason, steps)


def _online_sexual(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    steps = [
        "Report to CEOP: a named member of staff (usually the DSL) completes the CEOP Safety "
        "Centre form; there is no anonymous report.",
        f"Tell {b.police} on 101 (999 if a meeting is planned or the child is in danger now).",
        f"Refer to {b.social_care}.",
        "Do not contact or reply to the account; the evidence record keeps its links and times.",
    ]
    if not c.family:
        steps.append(
            f"Tell the child's parents or carers, unless {b.police} or "
            f"{b.social_care_short} advise you not to."
        )
    return _Advice(
        f"CEOP (National Crime Agency) and {b.police}; {b.social_care_short}",
        "Possible online grooming or sexual exploitation of a child",
        steps,
    )


def _abuse(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    route = {
        "england": "Children's social care: a MASH / front door referral",
        "wales": "Local authority children's services (Wales Safeguarding Procedures)",
        "scotland": (
            "Local authority social work services or Police Scotland (child protection, "
            "National Guidance for Child Protection in Scotland)"
        ),
        "northern_ireland": "The HSC Trust Gateway team or the PSNI",
    }[nation]
    steps = [
        f"Refer to {b.social_care} today, by phone, then in writing as they ask.",
        f"Call 999 if the child is in immediate danger; otherwise {b.police} on 101 if a crime "
        "may have happened.",
        "Do not question the child further or investigate: record what you know.",
    ]
    if not c.family:
        steps.append(f"Ask {b.social_care_short} before telling the child's family.")
    return _Advice(route, "Possible disclosure of abuse or neglect", steps)


def _criminal(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    return _Advice(
        _cap(f"{b.police} (101; 999 if a child is in immediate danger) and {b.social_care_short}"),
        "Possible criminal exploitation of a child (for example county lines)",
        [
            f"Report to {b.police} on 101, or 999 if a child is in danger now.",
            f"Refer to {b.social_care}.",
            f"If the child is missing, report it to {b.police} at once.",
            "Do not contact the people or accounts named.",
        ],
    )


def _radicalisation(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    if nation == "northern_ireland":
        return _Advice(
            "The PSNI (101; 999 if there is an immediate risk)",
            "Possible radicalisation; the Prevent duty does not apply in Northern Ireland, so "
            "report to the PSNI",
            [
                "Report to the PSNI on 101, or 999 if anyone is at immediate risk.",
                f"If the child may be at risk of harm, also refer to {b.social_care}.",
            ],
        )
    police = "Police Scotland" if nation == "scotland" else "police"
    return _Advice(
        f"Prevent: the local authority Prevent lead, or {police} on 101 (999 if urgent)",
        "Possible radicalisation or extremist content",
        [
            "Make a Prevent referral through the local authority's Prevent lead.",
            f"Call 999 if anyone is at immediate risk; otherwise {police} on 101.",
            f"If the child may be at risk of other harm, also refer to {b.social_care}.",
        ],
    )


def _threat(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    return _Advice(
        _cap(f"{b.police}: 999 if the danger is immediate, otherwise 101; and the {b.head}"),
        "A threat of violence to a person or the school",
        [
            "If anyone is in immediate danger, call 999 now.",
            f"Otherwise report to {b.police} on 101 and keep the reference.",
            f"Tell the {b.head} today: they decide on site safety.",
            "If a pupil is the target, support them through the pastoral lead; never name them "
            "in public.",
        ],
    )


def _self_harm(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    steps = [
        "If the child may be in immediate danger (a plan, the means or a time), call 999 now; if "
        f"you cannot identify them, {b.police} can ask the platform who they are.",
    ]
    if c.family:
        route = _cap(f"{b.social_care} today; 999 if in immediate danger")
        steps.append(f"Refer to {b.social_care} today: the child's home may be part of the risk.")
    else:
        route = "Contact the child's parents or carers today; 999 if in immediate danger"
        steps.append(
            "Contact the child's parents or carers today, unless that could put the child at "
            f"risk (then ask {b.social_care_short} first)."
        )
    steps += [
        "Make sure a trusted adult (the mental health or pastoral lead) sees the child today.",
        "The child can call Childline on 0800 1111 or text SHOUT to 85258 at any time.",
    ]
    return _Advice(route, "Risk of self-harm or suicide", steps)


def _bullying(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    steps = [
        "Pass it to the pastoral lead to follow the school's anti-bullying policy.",
        f"If it includes threats, sexual images or hate, it may be a crime: {b.police} on 101.",
        "Do not reply in public or name the children involved.",
    ]
    if not c.family:
        steps.insert(1, "Tell the parents or carers of the children involved, as the policy says.")
    return _Advice("Pastoral lead, under the anti-bullying policy", "Bullying of a child", steps)


def _identity_hate(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    return _Advice(
        _cap(f"The {b.head}, and {b.police} (101) as a hate incident"),
        "Hate aimed at a person's identity (race, religion, disability, sexuality or gender)",
        [
            "Record it as a hate incident under the school's policy.",
            f"Report it to {b.police} on 101 if it targets someone (999 if anyone is in danger).",
            "Support any pupil targeted through the pastoral lead.",
        ],
    )


def _sexual_content(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    return _Advice(
        _cap(f"{b.police} (101) if it sexualises or targets a child; otherwise the platform"),
        "Sexual content on a school account",
        [
            "If it is sexual talk aimed at a child, treat it as possible grooming: CEOP and "
            f"{b.police}.",
            "If it is between pupils, follow the school's policy on child-on-child abuse.",
            "Report the account to the platform.",
        ],
    )


def _looked_after(nation: str) -> str:
    if nation == "england":
        return "their social worker and the virtual school head"
    if nation == "northern_ireland":
        return "their social worker at the HSC Trust"
    return "their social worker"


def _personal_data(c: _Comment, nation: str, what: str, first: str) -> _Advice:
    b = _BODIES[nation]
    steps = [
        first,
        "Tell the data protection officer today: they decide whether it is a data breach to "
        "report to the ICO (within 72 hours).",
        "Check whether the child is looked after or adopted, or has someone who must not find "
        f"them (a court order, an estranged relative): if so, tell {_looked_after(nation)} "
        "today.",
        f"If someone is trying to find or contact the child, tell {b.police} (999 if the child "
        "is in immediate danger).",
        "Never post or reply in public about it: that draws attention to the child.",
    ]
    if c.family:
        steps.append("Do not confirm the child's school or whereabouts to anyone.")
    else:
        steps.append("Tell the child's parents or carers what was posted and what you did.")
    return _Advice(
        f"Data protection officer; for a looked-after or adopted child, {_looked_after(nation)}",
        what,
        steps,
    )


def _pupil_identification(c: _Comment, nation: str) -> _Advice:
    return _personal_data(
        c,
        nation,
        "A child's personal details were posted in public",
        "Keep the comment hidden.",
    )


def _photo_consent(c: _Comment, nation: str) -> _Advice:
    return _personal_data(
        c,
        nation,
        "A child's photo may have been posted without consent",
        "Check the consent record; take the school's post down until consent is confirmed.",
    )


def _unknown(c: _Comment, nation: str) -> _Advice:
    b = _BODIES[nation]
    return _Advice(
        "DSL to decide",
        "A safeguarding concern with no set route",
        [
            "Read the comment and decide the route under the school's safeguarding policy.",
            f"If a child may be at risk of harm, refer to {b.social_care}.",
        ],
    )


# Checked in this order: the first concern present decides the route, the rest add a step.
_CONCERNS: tuple[tuple[str, _Builder], ...] = (
    ("honour_based", _honour_based),
    ("staff", _staff),
    ("online_sexual", _online_sexual),
    ("abuse", _abuse),
    ("criminal", _criminal),
    ("radicalisation", _radicalisation),
    ("threat", _threat),
    ("self_harm", _self_harm),
    ("bullying", _bullying),
    ("identity_hate", _identity_hate),
    ("sexual_content", _sexual_content),
    ("pupil_identification", _pupil_identification),
    ("photo_consent", _photo_consent),
)
_BUILDERS = dict(_CONCERNS)
# A parent may be told first only for these; a child-protection route asks the agency first.
_PARENTS_FIRST_OK = frozenset(
    {
        "radicalisation",
        "threat",
        "self_harm",
        "bullying",
        "identity_hate",
        "sexual_content",
        "pupil_identification",
        "photo_consent",
    }
)
_URGENT = {
    "honour_based": "999 if a child is in immediate danger or may be taken abroad soon",
    "staff": DANGER,
    "online_sexual": DANGER,
    "abuse": DANGER,
    "criminal": DANGER,
    "radicalisation": "999 if anyone is at immediate risk",
    "threat": "999 if anyone is in immediate danger",
    "self_harm": DANGER,
}


def _concerns(c: _Comment) -> list[str]:
    cats = c.categories
    present = {
        "honour_based": bool(c.fgm) or c.forced_marriage,
        "staff": c.staff,
        "online_sexual": bool(cats & {"grooming", "sexual_exploitation"}),
        "abuse": "abuse_disclosure" in cats,
        "criminal": "criminal_exploitation" in cats,
        "radicalisation": "radicalisation" in cats,
        "threat": "threat" in cats,
        "self_harm": "self_harm" in cats,
        "bullying": "bullying" in cats,
        "identity_hate": "identity_hate" in cats,
        "sexual_content": "sexual_content" in cats,
        "pupil_identification": "pupil_identification" in cats,
        "photo_consent": "photo_consent" in cats,
    }
    return [name for name, _ in _CONCERNS if present[name]]


# An extra concern already covered by the route that was chosen adds no step.
_COVERED_BY = {
    "honour_based": frozenset({"abuse"}),
    "staff": frozenset({"abuse"}),
    "online_sexual": frozenset({"abuse", "sexual_content"}),
}


def _also(name: str, c: _Comment, nation: str, parents_ok: bool) -> str:
    """One step for a concern that did not decide the route, so it is not lost."""
    b = _BODIES[nation]
    if name == "self_harm":
        if parents_ok:
            tail = " and tell the child's parents or carers today"
        elif c.family:
            tail = ""
        else:
            tail = f"; tell the family only when {b.social_care_short} or {b.police} advise"
        return (
            "Also a risk of self-harm or suicide: call 999 if the child is in immediate danger; "
            f"make sure a trusted adult sees the child today{tail}."
        )
    advice = _BUILDERS[name](c, nation)
    return f"Also {advice.reason[:1].lower()}{advice.reason[1:]}. Route: {advice.route}."


def _iwf_steps() -> list[str]:
    return [
        "Report the image's web address (URL) only to the Internet Watch Foundation (IWF).",
        "Never open, download, save, screenshot, print or forward the image, and never ask "
        "anyone to send it.",
        "If it may be an image of a pupil, they can use Report Remove (Childline and IWF).",
    ]


def suggest_route(
    categories: Sequence[str],
    rules: Sequence[str],
    text: str,
    has_attachment: bool,
    nation: str,
) -> Route:
    """The route a DSL is offered for one escalated comment, for the school's nation."""
    if nation not in NATIONS:
        raise ValueError(f"nation must be one of {', '.join(NATIONS)}, not {nation!r}")
    c = _read(categories, rules, text, has_attachment)
    names = _concerns(c)
    primary = names[0] if names else ""
    advice = _BUILDERS[primary](c, nation) if primary else _unknown(c, nation)
    steps: list[str] = []
    if c.family:
        steps.append(_family_warning(_BODIES[nation]))
    steps += advice.steps
    parents_ok = primary in _PARENTS_FIRST_OK and not c.family
    covered = _COVERED_BY.get(primary, frozenset())
    steps += [_also(name, c, nation, parents_ok) for name in names[1:] if name not in covered]
    route = advice.route
    if c.sexual_attachment:
        steps += _iwf_steps()
        route = f"Internet Watch Foundation (report the URL only); {route}"
    urgent = _URGENT.get(primary) or next((DANGER for n in names if n in _URGENT), "")
    return Route(
        route=route,
        reason=advice.reason,
        steps=tuple(dict.fromkeys(steps)),
        urgent_call=urgent,
        family_implicated=c.family,
    )
