"""Route advice read as a busy DSL would read it: who, why, what next, for the school's nation.

The family tests read every line of advice for an instruction to tell the child's family and
fail on any that is not a prohibition; the self-harm test shows the same reader does find such
an instruction when one is meant to be there, so the family tests can fail.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safeguarding.routes import (
    CATEGORIES,
    NATIONS,
    Route,
    family_implicated,
    staff_named,
    suggest_route,
)

FGM_RULE = "abuse.fgm_forced_marriage"

# A sentence that tells the DSL to get in touch with the child's family.
_CONTACT = re.compile(
    r"\b(?:contact\w*|tell\w*|inform\w*|call\w*|ring\w*|phon\w*|speak\w*|notif\w*|let\w*"
    r"|alert\w*|warn\w*|reply\w*|invit\w*|meet\w*|discuss\w*|share\w*)\b"
    r"[^.;:]*\b(?:parents?|carers?|family|families|mum|dad|home|relatives?)\b",
    re.I,
)
_NEGATED = re.compile(r"\b(?:do not|don't|never|not)\s+(?:\w+\s+){0,2}$", re.I)


def contact_family_instructions(route: Route) -> list[str]:
    """Every place the advice tells someone to get in touch with the child's family."""
    found = []
    for line in (route.route, route.reason, *route.steps):
        for clause in re.split(r"(?<=[.;:])\s+|,\s+(?:and|or)\s+", line):
            for match in _CONTACT.finditer(clause):
                if not _NEGATED.search(clause[: match.start()]):
                    found.append(clause)
    return found


def everything(route: Route) -> str:
    return "\n".join((route.route, route.reason, *route.steps, route.urgent_call))


def advice(route: Route) -> str:
    """What the DSL is told to do (the reason may explain why a body does not apply)."""
    return "\n".join((route.route, *route.steps))


# --- the shape of every answer --------------------------------------------------------------

SAMPLE_TEXT = {
    "self_harm": "i cant do this anymore i want to end it",
    "abuse_disclosure": "someone keeps hurting me and i have bruises",
    "grooming": "a man online keeps asking me to send pics and meet up",
    "sexual_exploitation": "older lads give us vodka and make us do stuff",
    "criminal_exploitation": "they make me carry packages to another town",
    "radicalisation": "join us and fight, they deserve what is coming",
    "bullying": "everyone in year 8 laughs at her, she is a loser",
    "threat": "i am going to stab him after school",
    "staff_allegation": "that teacher is always messaging students",
    "pupil_identification": "that's Amy Smith from 7B, she lives on Park Road",
    "photo_consent": "please take down the photo of my son, we did not consent",
    "sexual_content": "sexy pics here",
    "identity_hate": "get them out of this country",
}


@pytest.mark.parametrize("nation", NATIONS)
@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_category_in_every_nation_gives_plain_one_line_advice(category, nation):
    route = suggest_route([category], [], SAMPLE_TEXT[category], False, nation)
    assert isinstance(route, Route)
    assert route.route and route.reason and route.steps
    assert route.route != "DSL to decide"
    for line in (route.route, route.reason, route.urgent_call, *route.steps):
        assert isinstance(line, str)
        assert "\n" not in line and "\r" not in line
        assert line == line.strip()
    assert isinstance(route.steps, tuple)
    assert all(len(step) <= 240 for step in route.steps), "a step a busy DSL can read at once"
    assert len(route.steps) <= 12
    assert len(set(route.steps)) == len(route.steps)


def test_a_route_is_a_frozen_record():
    route = suggest_route(["bullying"], [], "loser", False, "england")
    with pytest.raises(dataclasses.FrozenInstanceError):
        route.route = "someone else"  # type: ignore[misc]


# Bodies that belong to one nation must never be offered in another.
FOREIGN = {
    "england": ("PSNI", "Police Scotland", "Gateway", "HSC Trust", "Wales Safeguarding", "CCMS"),
    "wales": ("PSNI", "Police Scotland", "Gateway", "HSC Trust", "LADO", "MASH", "CCMS"),
    "scotland": ("PSNI", "Gateway", "HSC Trust", "LADO", "MASH", "Wales Safeguarding", "CCMS"),
    "northern_ireland": ("Police Scotland", "LADO", "MASH", "Wales Safeguarding", "Prevent"),
}


@pytest.mark.parametrize("nation", NATIONS)
@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_no_body_from_another_nation(category, nation):
    route = suggest_route([category], [], SAMPLE_TEXT[category], False, nation)
    for body in FOREIGN[nation]:
        assert body not in advice(route), f"{body} offered in {nation}"
    if nation != "england":
        assert "virtual school head" not in everything(route)


@pytest.mark.parametrize("nation", NATIONS)
def test_fgm_and_forced_marriage_bodies_belong_to_the_nation(nation):
    for text in ("they cut me when i was little", "they will make me marry him in pakistan"):
        route = suggest_route(["abuse_disclosure"], [FGM_RULE], text, False, nation)
        for body in FOREIGN[nation]:
            assert body not in advice(route)


@pytest.mark.parametrize("nation", NATIONS)
def test_staff_route_bodies_belong_to_the_nation(nation):
    route = suggest_route(["abuse_disclosure"], [], "Mr Jones touched me", False, nation)
    for body in FOREIGN[nation]:
        assert body not in advice(route)


@pytest.mark.parametrize("nation", NATIONS)
def test_nothing_known_is_for_the_dsl_to_decide(nation):
    for categories in ([], ["spam"], ["media_enquiry"]):
        route = suggest_route(categories, [], "hello", False, nation)
        assert route.route == "DSL to decide"
        assert route.urgent_call == ""


def test_an_unknown_nation_is_refused_by_name():
    with pytest.raises(ValueError, match="england, wales, scotland, northern_ireland"):
        suggest_route(["bullying"], [], "x", False, "cornwall")


# --- the case that started it ---------------------------------------------------------------

STEPDAD = "my stepdad hits me and i want to die"
ABUSE_BODY = {
    "england": "children's social care",
    "wales": "local authority children's services",
    "scotland": "local authority social work services",
    "northern_ireland": "HSC Trust Gateway team",
}


@pytest.mark.parametrize("nation", NATIONS)
@pytest.mark.parametrize(
    "categories",
    [["self_harm", "abuse_disclosure"], ["abuse_disclosure", "self_harm"]],
)
def test_stepdad_hits_me_and_i_want_to_die(categories, nation):
    route = suggest_route(
        categories, ["self_harm.intent", "abuse.physical"], STEPDAD, False, nation
    )
    assert route.family_implicated
    assert route.reason == "Possible disclosure of abuse or neglect"
    assert ABUSE_BODY[nation].lower() in route.route.lower()
    assert "parent" not in everything(route).lower()
    assert "carer" not in everything(route).lower()
    assert contact_family_instructions(route) == []
    assert any("self-harm" in step for step in route.steps)
    assert route.urgent_call.startswith("999")
    assert "do not tell the child's family" in route.steps[0].lower()


def test_the_reader_finds_an_instruction_to_contact_parents_when_there_is_one():
    """Self-harm alone may suggest telling parents today: the reader must see that."""
    route = suggest_route(["self_harm"], [], "i want to die", False, "england")
    assert not route.family_implicated
    assert "parents or carers today" in route.route
    assert contact_family_instructions(route)


# --- family or carer implicated: never contact them first -----------------------------------

FAMILY_TEXTS = [
    "my stepdad hits me",
    "my step-dad hits me",
    "my step dad touches me",
    "ma dad batters me",
    "ma da hits me when he is drunk",
    "mums bf comes in my room at night",
    "my mum's boyfriend hurts me",
    "dad's girlfriend locks me out",
    "my dads gf hits me",
    "my stepmum starves me",
    "my parents hit me",
    "my uncle touches me",
    "my auntie hits me",
    "my aunt burns me",
    "my brother hurts me",
    "my big sister beats me up",
    "my cousin does stuff to me",
    "my nan locks me in",
    "my gran hits me with a belt",
    "my grandad touches me",
    "my carer shouts and hits me",
    "my foster carer hurts me",
    "it happens at home",
    "my family hurt me",
    "ma family dont feed me",
    "my mum’s bf hits me",
    "MY STEPDAD HITS ME",
]
FAMILY_CATEGORIES = [
    ["abuse_disclosure"],
    ["self_harm"],
    ["abuse_disclosure", "self_harm"],
    ["grooming"],
    ["sexual_exploitation"],
    ["criminal_exploitation"],
    ["bullying"],
    ["bullying", "self_harm"],
    ["threat", "self_harm"],
    ["radicalisation", "self_harm"],
    ["pupil_identification"],
    ["photo_consent"],
    ["staff_allegation"],
]


@pytest.mark.parametrize("text", FAMILY_TEXTS)
def test_family_words_and_text_speak_are_recognised(text):
    assert family_implicated(text)


@pytest.mark.parametrize(
    "text",
    ["i want to die", "he hit me on the head", "a man online wants pics", "our sister school"],
)
def test_no_family_word_no_family(text):
    assert not family_implicated(text)


@pytest.mark.parametrize("nation", NATIONS)
@pytest.mark.parametrize("categories", FAMILY_CATEGORIES, ids="+".join)
@pytest.mark.parametrize("text", FAMILY_TEXTS)
def test_family_implicated_never_suggests_contacting_the_family(text, categories, nation):
    route = suggest_route(categories, [], f"{text} and i want to die", False, nation)
    assert route.family_implicated
    assert contact_family_instructions(route) == []
    words = everything(route).lower()
    assert not re.search(r"\bparents?\b|\bcarers?\b", words), words
    assert any(step.startswith("Do not tell the child's family") for step in route.steps)


@settings(max_examples=300, deadline=None)
@given(
    categories=st.lists(st.sampled_from(sorted(CATEGORIES)), max_size=4),
    family=st.sampled_from(FAMILY_TEXTS),
    before=st.text(alphabet="abcdefghij klmnop", max_size=30),
    attachment=st.booleans(),
    nation=st.sampled_from(NATIONS),
)
def test_any_mix_with_family_never_suggests_contacting_them(
    categories, family, before, attachment, nation
):
    route = suggest_route(categories, [], f"{before} {family}", attachment, nation)
    assert route.family_implicated
    assert contact_family_instructions(route) == []


# --- priority: child protection before self-harm --------------------------------------------


@pytest.mark.parametrize("nation", NATIONS)
@pytest.mark.parametrize(
    ("other", "reason"),
    [
        ("abuse_disclosure", "Possible disclosure of abuse or neglect"),
        ("grooming", "Possible online grooming or sexual exploitation of a child"),
        ("sexual_exploitation", "Possible online grooming or sexual exploitation of a child"),
    ],
)
def test_child_protection_outranks_self_harm_even_without_family(other, reason, nation):
    route = suggest_route(
        ["self_harm", other], [], "someone hurts me and i want to die", False, nation
    )
    assert route.reason == reason
    assert not route.family_implicated
    assert "parents or carers today" not in everything(route)
    assert any(step.startswith("Also a risk of self-harm") for step in route.steps)
    assert route.urgent_call.startswith("999")


@pytest.mark.parametrize("nation", NATIONS)
def test_fgm_outranks_self_harm(nation):
    route = suggest_route(
        ["self_harm", "abuse_disclosure"],
        [FGM_RULE],
        "they cut me and i want to die",
        False,
        nation,
    )
    assert "FGM" in route.reason
    assert any("self-harm" in step for step in route.steps)


@pytest.mark.parametrize("nation", NATIONS)
def test_self_harm_with_bullying_keeps_both(nation):
    route = suggest_route(
        ["bullying", "self_harm"], [], "they all hate me i want to die", False, nation
    )
    assert route.reason == "Risk of self-harm or suicide"
    assert any("anti-bullying" in step for step in route.steps)


# --- FGM and forced marriage ----------------------------------------------------------------

DUTY = (
    "Teachers must report known cases of FGM in under-18s to the police (101): "
    "the mandatory reporting duty"
)
KNOWN = [
    "they cut me when i was little",
    "i had fgm done in the summer",
    "my aunties did it to me, the cutting",
    "i was cut last year",
    "i had it done back home",
]
AT_RISK = [
    "my family are taking me to Somalia this summer to get cut",
    "im going to be cut in the holidays",
    "they want me to have fgm next summer",
    "they're going to cut me",
]


@pytest.mark.parametrize("nation", ["england", "wales"])
@pytest.mark.parametrize("text", KNOWN)
def test_known_fgm_is_the_mandatory_reporting_duty(text, nation):
    route = suggest_route(["abuse_disclosure"], [FGM_RULE], text, False, nation)
    assert "known case" in route.reason
    assert "mandatory reporting duty" in route.route
    assert "101" in route.route
    assert DUTY + "." in route.steps
    assert any("personally" in step for step in route.steps)
    assert ABUSE_BODY[nation] in route.route
    assert route.family_implicated
    assert contact_family_instructions(route) == []


@pytest.mark.parametrize("nation", ["england", "wales"])
@pytest.mark.parametrize("text", AT_RISK)
def test_at_risk_fgm_is_social_care_and_police_not_the_duty(text, nation):
    route = suggest_route(["abuse_disclosure"], [FGM_RULE], text, False, nation)
    assert "at risk" in route.reason
    assert "not covered by the mandatory reporting duty" in route.reason
    assert "mandatory reporting duty" not in route.route
    assert DUTY + "." not in route.steps
    assert "police" in route.route.lower()
    assert ABUSE_BODY[nation] in route.route
    assert any("abroad soon, call 999" in step for step in route.steps)
    assert "abroad" in route.urgent_call
    assert contact_family_instructions(route) == []


def test_fgm_without_a_tense_explains_both_cases():
    route = suggest_route(["abuse_disclosure"], [FGM_RULE], "fgm", False, "england")
    assert any(step.startswith("If she says it has already been done") for step in route.steps)
    assert "police" in route.route.lower()


def test_an_fgm_only_rule_id_is_read_as_fgm():
    route = suggest_route(["abuse_disclosure"], ["abuse.fgm"], "they cut me", False, "england")
    assert "known case" in route.reason
    assert "Forced Marriage" not in everything(route)


@pytest.mark.parametrize("nation", ["scotland", "northern_ireland"])
@pytest.mark.parametrize("text", KNOWN + AT_RISK)
def test_no_fgm_mandatory_duty_in_scotland_or_northern_ireland(text, nation):
    route = suggest_route(["abuse_disclosure"], [FGM_RULE], text, False, nation)
    assert DUTY not in everything(route)
    assert "does not apply here" in route.reason
    police = "Police Scotland" if nation == "scotland" else "PSNI"
    care = "social work" if nation == "scotland" else "Gateway"
    assert police in route.route
    assert care in route.route


@pytest.mark.parametrize("nation", NATIONS)
@pytest.mark.parametrize(
    ("rules", "text"),
    [
        ([FGM_RULE], "my dad is making me get married to my cousin"),
        (["abuse.forced_marriage"], "they are going to marry me off"),
        ([], "forced marriage this summer"),
    ],
)
def test_forced_marriage_is_police_and_the_forced_marriage_unit(rules, text, nation):
    route = suggest_route(["abuse_disclosure"], rules, text, False, nation)
    assert "forced marriage" in route.reason.lower()
    assert "Forced Marriage Unit (020 7008 0151)" in route.route
    assert route.family_implicated
    assert any(step.startswith("Never contact the family") for step in route.steps)
    assert contact_family_instructions(route) == []
    assert "FGM" not in everything(route)


def test_fgm_words_alone_never_trigger_without_a_disclosure():
    route = suggest_route(["bullying"], [], "fgm awareness assembly was rubbish", False, "england")
    assert "FGM" not in everything(route)


# --- staff named: the allegations route -----------------------------------------------------

STAFF_TEXTS = [
    "Mr Jones touched me",
    "mrs smith sends me messages at night",
    "Miss Patel kissed me",
    "miss touched me in the store cupboard",
    "sir grabbed me",
    "our PE teacher hits us",
    "the coach touches the girls",
    "the TA hurt me",
    "the minibus driver showed me videos",
    "a volunteer at after school club asked for pics",
]
NOT_STAFF = [
    "i miss my mum, she hits me",
    "he punched me in the head",
    "on the coach trip he hit me",
    "ta for the help",
]


@pytest.mark.parametrize("text", STAFF_TEXTS)
def test_staff_are_recognised(text):
    assert staff_named(text)


@pytest.mark.parametrize("text", NOT_STAFF)
def test_everyday_words_are_not_staff(text):
    assert not staff_named(text)


@pytest.mark.parametrize("text", STAFF_TEXTS)
@pytest.mark.parametrize("category", ["abuse_disclosure", "grooming"])
def test_abuse_or_grooming_naming_staff_goes_to_the_lado_in_england(text, category):
    route = suggest_route([category], [], text, False, "england")
    assert route.route == "LADO (Local Authority Designated Officer)"
    assert "member of staff" in route.reason
    assert any("Do not contact or warn the member of staff" in step for step in route.steps)
    assert any("head teacher" in step for step in route.steps)


@pytest.mark.parametrize("nation", NATIONS)
def test_staff_allegation_category_alone_takes_the_allegations_route(nation):
    route = suggest_route(["staff_allegation"], [], "he is always too close", False, nation)
    assert "member of staff" in route.reason
    assert any("Do not contact or warn the member of staff" in step for step in route.steps)
    expected = {
        "england": "LADO",
        "wales": "designated officer for allegations",
        "scotland": "Police Scotland",
        "northern_ireland": "Child Protection Support Service",
    }[nation]
    assert expected in route.route


def test_wales_names_the_procedures_section_on_practitioners():
    route = suggest_route(["staff_allegation"], [], "sir hit me", False, "wales")
    assert "Wales Safeguarding Procedures" in route.route
    assert any("practitioners" in step for step in route.steps)


def test_scotland_has_no_lado():
    for categories, text in [
        (["staff_allegation"], "sir hit me"),
        (["abuse_disclosure"], "Mr Jones touched me"),
        (["grooming"], "miss sent me pics"),
    ]:
        route = suggest_route(categories, [], text, False, "scotland")
        assert "LADO" not in advice(route)
        assert "social work" in route.route and "Police Scotland" in route.route


def test_northern_ireland_names_the_designated_teacher_cpss_ccms_and_gateway():
    route = suggest_route(["staff_allegation"], [], "sir hit me", False, "northern_ireland")
    text = everything(route)
    for body in ("Designated Teacher", "Child Protection Support Service", "CCMS", "Gateway"):
        assert body in text
    assert any("principal" in step for step in route.steps)


@pytest.mark.parametrize("nation", ["england", "wales", "northern_ireland"])
def test_an_allegation_about_the_head_goes_to_the_chair_not_the_head(nation):
    text = "the principal touched me" if nation == "northern_ireland" else "the headteacher hit me"
    route = suggest_route(["staff_allegation"], [], text, False, nation)
    step = next(s for s in route.steps if s.startswith("Tell the chair"))
    assert "not the" in step


def test_an_allegation_not_about_the_head_tells_the_head():
    route = suggest_route(["staff_allegation"], [], "Mr Jones hit me", False, "england")
    assert "Tell the head teacher (the chair of governors if it is about the head teacher)." in (
        route.steps
    )


def test_staff_named_with_family_also_keeps_the_family_out():
    route = suggest_route(
        ["abuse_disclosure"],
        [],
        "Mr Jones touched me and my mum doesnt believe me",
        False,
        "england",
    )
    assert route.route.startswith("LADO")
    assert route.family_implicated
    assert contact_family_instructions(route) == []


def test_an_fgm_disclosure_naming_a_teacher_still_follows_fgm():
    route = suggest_route(
        ["abuse_disclosure"],
        [FGM_RULE],
        "Miss Khan said to tell someone, they cut me",
        False,
        "england",
    )
    assert "known case" in route.reason


# --- online sexual abuse, CEOP and the IWF --------------------------------------------------


@pytest.mark.parametrize("nation", NATIONS)
@pytest.mark.parametrize("category", ["grooming", "sexual_exploitation"])
def test_online_sexual_abuse_goes_to_ceop_and_police(category, nation):
    route = suggest_route([category], [], SAMPLE_TEXT[category], False, nation)
    assert "CEOP" in route.route
    assert any("CEOP Safety Centre" in s and "named" in s for s in route.steps)
    assert ABUSE_BODY[nation].lower() in route.route.lower()
    assert "Internet Watch Foundation" not in everything(route)


@pytest.mark.parametrize("nation", NATIONS)
@pytest.mark.parametrize("category", ["grooming", "sexual_exploitation", "sexual_content"])
def test_a_sexual_attachment_goes_to_the_iwf_by_url_only(category, nation):
    route = suggest_route([category], [], "look at this", True, nation)
    assert route.route.startswith("Internet Watch Foundation (report the URL only)")
    assert any("URL" in s and "only" in s for s in route.steps)
    assert any(s.startswith("Never open, download, save") for s in route.steps)


@pytest.mark.parametrize("category", ["bullying", "threat", "self_harm", "photo_consent"])
def test_an_attachment_without_a_sexual_concern_is_not_an_iwf_report(category):
    route = suggest_route([category], [], "look at this", True, "england")
    assert "Internet Watch Foundation" not in everything(route)


def test_ceop_is_not_offered_for_bullying():
    route = suggest_route(["bullying"], [], "loser", False, "england")
    assert "CEOP" not in everything(route)


# --- the other routes, nation by nation -----------------------------------------------------


@pytest.mark.parametrize("nation", NATIONS)
def test_criminal_exploitation_is_police_and_social_care(nation):
    route = suggest_route(["criminal_exploitation"], [], "county lines", False, nation)
    police = {"scotland": "Police Scotland", "northern_ireland": "PSNI"}.get(nation, "police")
    assert police in route.route
    assert ABUSE_BODY[nation].lower() in route.route.lower()
    assert "101" in route.route


@pytest.mark.parametrize("nation", ["england", "wales", "scotland"])
def test_radicalisation_is_prevent_in_great_britain(nation):
    route = suggest_route(["radicalisation"], [], "x", False, nation)
    assert route.route.startswith("Prevent: the local authority Prevent lead")
    assert "101" in route.route and "999" in route.route


def test_northern_ireland_has_no_prevent():
    route = suggest_route(["radicalisation"], [], "x", False, "northern_ireland")
    assert "Prevent" not in advice(route)
    assert "PSNI" in route.route
    assert "does not apply in Northern Ireland" in route.reason


@pytest.mark.parametrize(
    ("nation", "police", "head"),
    [
        ("england", "The police", "head teacher"),
        ("wales", "The police", "head teacher"),
        ("scotland", "Police Scotland", "head teacher"),
        ("northern_ireland", "The PSNI", "principal"),
    ],
)
def test_threat_is_police_and_the_head(nation, police, head):
    route = suggest_route(["threat"], [], SAMPLE_TEXT["threat"], False, nation)
    assert route.route.startswith(f"{police}: 999 if the danger is immediate, otherwise 101")
    assert head in route.route
    assert route.urgent_call.startswith("999")


@pytest.mark.parametrize("nation", NATIONS)
def test_bullying_is_the_pastoral_lead_and_threats_add_the_police(nation):
    alone = suggest_route(["bullying"], [], "loser", False, nation)
    assert alone.route == "Pastoral lead, under the anti-bullying policy"
    assert alone.urgent_call == ""
    with_threat = suggest_route(["bullying", "threat"], [], "loser, ill stab u", False, nation)
    assert "999" in with_threat.route
    assert any("anti-bullying" in step for step in with_threat.steps)


@pytest.mark.parametrize("nation", NATIONS)
@pytest.mark.parametrize("category", ["pupil_identification", "photo_consent"])
def test_a_childs_details_go_to_the_dpo_and_never_in_public(category, nation):
    route = suggest_route([category], [], SAMPLE_TEXT[category], False, nation)
    assert route.route.startswith("Data protection officer; for a looked-after or adopted child")
    assert "social worker" in route.route
    assert ("virtual school head" in route.route) == (nation == "england")
    assert any(step.startswith("Never post or reply in public") for step in route.steps)


def test_a_parent_who_must_not_find_the_child_is_not_told():
    route = suggest_route(
        ["pupil_identification"],
        [],
        "her dad isnt allowed to know what school she goes to",
        False,
        "england",
    )
    assert route.family_implicated
    assert contact_family_instructions(route) == []
    assert "Do not confirm the child's school or whereabouts to anyone." in route.steps


@pytest.mark.parametrize("nation", NATIONS)
def test_identity_hate_is_the_head_and_the_police(nation):
    route = suggest_route(["identity_hate"], [], "x", False, nation)
    assert "hate incident" in route.route
    assert "101" in route.route


@pytest.mark.parametrize(
    ("categories", "urgent"),
    [
        (["self_harm"], True),
        (["abuse_disclosure"], True),
        (["grooming"], True),
        (["threat"], True),
        (["staff_allegation"], True),
        (["bullying"], False),
        (["photo_consent"], False),
        (["bullying", "self_harm"], True),
    ],
)
def test_urgent_call_is_999_for_danger_and_empty_otherwise(categories, urgent):
    route = suggest_route(categories, [], "x", False, "england")
    assert route.urgent_call.startswith("999") if urgent else route.urgent_call == ""


def test_category_values_from_the_enum_are_accepted():
    from bot.core.models import Category

    route = suggest_route(
        [Category.ABUSE_DISCLOSURE, Category.SELF_HARM], [], STEPDAD, False, "england"
    )
    assert route.reason == "Possible disclosure of abuse or neglect"


def test_one_rule_for_fgm_and_forced_marriage_with_neither_word_gives_both():
    route = suggest_route(
        ["abuse_disclosure"],
        [FGM_RULE],
        "they are sending me back for the summer",
        False,
        "england",
    )
    assert "FGM" in route.reason and "forced marriage" in route.reason
    assert (
        route.route
        == "The police (101); the Forced Marriage Unit (020 7008 0151); children's social care"
    )


def test_grooming_with_sexual_content_is_one_route_not_two():
    route = suggest_route(["grooming", "sexual_content"], [], "send pics", False, "england")
    assert route.reason == "Possible online grooming or sexual exploitation of a child"
    assert not any(step.startswith("Also sexual content") for step in route.steps)
