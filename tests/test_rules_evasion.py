"""Disguised words are caught, harmless words with rude-looking insides are not (the Scunthorpe
problem), group threats escalate, counter-speech does not, and the new routes (allegations
against staff, photo consent, media enquiries, complaints without a question mark) are found."""

from pathlib import Path

import pytest

from bot.config.settings import REPO_ROOT
from bot.core.errors import ConfigError
from classifiers.rules import RulesClassifier, load_rules, stretches, swapped_forms

RULES = REPO_ROOT / "config" / "rules"
TAKEN_DOWN = {
    "profanity",
    "insult",
    "identity_hate",
    "sexual_content",
    "threat",
    "bullying",
    "radicalisation",
    "self_harm",
    "abuse_disclosure",
    "grooming",
    "sexual_exploitation",
    "criminal_exploitation",
    "pupil_identification",
    "staff_allegation",
    "spam",
}


@pytest.fixture(scope="module")
def rules() -> RulesClassifier:
    return RulesClassifier.from_dir(RULES)


def categories(rules: RulesClassifier, text: str) -> set[str]:
    return {h.category.value for h in rules.classify([text])[0].hits}


def actions(rules: RulesClassifier, text: str) -> set[str]:
    return {h.action.value for h in rules.classify([text])[0].hits}


# --- 1. disguised lexicon words: at least 60 forms of at least 15 base words -------------------

DISGUISED = [
    # a swapped form stretched: a letter held three times or more ("cook" held twice is not)
    ("phuuuck off", "profanity"),
    ("fvvvck this", "profanity"),
    ("shyyyt school", "profanity"),
    # fuck
    ("f u c k", "profanity"),
    ("f.u.c.k off", "profanity"),
    ("f-u-c-k", "profanity"),
    ("f_u_c_k", "profanity"),
    ("f**k", "profanity"),
    ("f*ck", "profanity"),
    ("f@ck off", "profanity"),
    ("f#ck", "profanity"),
    ("fvck", "profanity"),
    ("phuck", "profanity"),
    ("fuk u", "profanity"),
    ("fuuuuck", "profanity"),
    ("f**king hell", "profanity"),
    ("f*cking", "profanity"),
    ("ｆｕｃｋ", "profanity"),
    ("f\u200bu\u200bc\u200bk", "profanity"),
    ("fυck", "profanity"),
    ("FUUUCKING", "profanity"),
    # cunt
    ("c u n t", "profanity"),
    ("c*nt", "profanity"),
    ("c**t", "profanity"),
    ("cvnt", "profanity"),
    ("kunt", "profanity"),
    ("c.u.n.t", "profanity"),
    ("cuuunt", "profanity"),
    # twat
    ("t.w.a.t", "profanity"),
    ("tw@t", "profanity"),
    ("tw4t", "profanity"),
    ("you absolute twat", "profanity"),
    ("t w a t", "profanity"),
    # shit and its compounds
    ("sh*th*le", "profanity"),
    ("sh1thole", "profanity"),
    ("shithole", "profanity"),
    ("sh!t", "profanity"),
    ("sh1t", "profanity"),
    ("$hit", "profanity"),
    ("shiiiiit", "profanity"),
    ("sh#thead", "profanity"),
    ("dipsh1t", "profanity"),
    ("bullsh*t", "profanity"),
    ("shyt", "profanity"),
    # whore
    ("wh0r3", "sexual_content"),
    ("wh*re", "sexual_content"),
    ("w h o r e", "sexual_content"),
    ("wh0re", "sexual_content"),
    # bitch
    ("b!tch", "profanity"),
    ("b*tch", "profanity"),
    ("b1tch", "profanity"),
    ("bytch", "profanity"),
    ("b***h", "profanity"),
    ("bitchez", "profanity"),
    # dick
    ("d1ck", "insult"),
    ("d!ck", "insult"),
    ("d1ckhead", "profanity"),
    ("what a dick", "insult"),
    # arsehole / asshole
    ("a**hole", "profanity"),
    ("a$$hole", "profanity"),
    ("you @ss", "profanity"),
    ("arseh0le", "profanity"),
    # wanker
    ("w@nker", "profanity"),
    ("wank3r", "profanity"),
    ("wanka", "profanity"),
    ("w4nker", "profanity"),
    # bellend
    ("what a bellend", "profanity"),
    ("b3llend", "profanity"),
    ("b e l l e n d", "profanity"),
    # motherfucker
    ("motherf*cker", "profanity"),
    ("m0therfucker", "profanity"),
    # slurs
    ("n*gger", "identity_hate"),
    ("n1gger", "identity_hate"),
    ("c00n", "identity_hate"),
    ("p@ki", "identity_hate"),
    ("p a k i", "identity_hate"),
    ("r3tard", "identity_hate"),
    ("r*tard", "identity_hate"),
    ("sp@z", "identity_hate"),
    ("sp4stic", "identity_hate"),
    ("m0ng", "identity_hate"),
    ("f@ggot", "identity_hate"),
    ("f4g", "identity_hate"),
    ("ch1nk", "identity_hate"),
    # slut, slag, tosser
    ("sl*t", "sexual_content"),
    ("s1ut", "sexual_content"),
    ("slvt", "sexual_content"),
    ("sl@g", "profanity"),
    ("t0sser", "profanity"),
    ("toss3r", "profanity"),
    # cock, cum
    ("c0ck", "sexual_content"),
    ("c*ck", "sexual_content"),
    ("cummm", "sexual_content"),
    # piss, prick, bastard
    ("p!ss off", "profanity"),
    ("pr1ck", "profanity"),
    ("b@stard", "profanity"),
    ("b4st4rd", "profanity"),
]


def test_the_disguise_list_is_broad_enough():
    bases = {
        "fuck", "cunt", "twat", "shit", "whore", "bitch", "dick", "arse", "wanker", "bellend",
        "motherfucker", "nigger", "coon", "paki", "retard", "spaz", "mong", "faggot", "chink",
        "slut", "slag", "tosser", "cock", "cum", "piss", "prick", "bastard",
    }  # fmt: skip
    assert len(DISGUISED) >= 60 and len(bases) >= 15


# --- 2. harmless words with rude-looking insides: zero false hits ------------------------------

HARMLESS = [
    "Scunthorpe United",
    "Penistone Grammar School",
    "Cockermouth flood defences",
    "A trip to Clitheroe Castle",
    "Shitterton village fete",
    "Essex and Sussex",
    "the assessment results are out",
    "ass*ssment week starts Monday",
    "our c*t is called Tom",
    "a classic match",
    "Emily Dickinson poems",
    "grape juice",
    "our therapist visited",
    "Cumbria school games",
    "Cumbernauld Academy",
    "the Cumnock choir",
    "Chorlton-cum-Hardy primary",
    "Stow cum Quy church",
    "she graduated magna cum laude",
    "summa cum laude",
    "a kitchen-cum-diner",
    "a cucumber sandwich",
    "cumulative scores",
    "the document is attached",
    "Holiday in Twatt, Orkney",
    "Twatt, Shetland",
    "Bell End, Worcestershire",
    "the Bell End village fete",
    "the bell end road is closed",
    "we drove to bell end",
    "Dick Whittington is our panto this year",
    "Moby Dick in English",
    "Dick King-Smith wrote The Sheep-Pig",
    "Dick Turpin the highwayman",
    "spotted dick and custard for pudding",
    "every tom dick and harry",
    "Niger",
    "Nigeria",
    "our Nigerian families",
    "the River Niger",
    "pros and cons",
    "the cons of the plan",
    "clay pigeon shooting",
    "Plymouth Hoe",
    "the gardening club will hoe the allotment",
    "a slag heap from the old mine",
    "he pricked his finger",
    "prick your finger with the lancet",
    "the door knob is broken",
    "Hancock and peacock",
    "a shuttlecock",
    "cocktail sticks",
    "Dickens week",
    "Arsenal won",
    "assassin's creed",
    "a bass guitar",
    "passing the class",
    "Matsushita",
    "Phuket holiday",
    "the Fukushima disaster in geography",
    "a chink of light",
    "a chink in the armour",
    "blue tits at the bird feeder",
    "the big garden birdwatch saw great tits",
    "coq au vin in food tech",
    "a pussy willow",
    "Dick Van Dyke",
    "Offa's Dyke path",
    "the teachers on a fag break at the gate",
    "Mong Kok market",
    "pancake tosser of the year",
    "a therapist",
    "Titchmarsh",
    "Sussex uni",
    "shuttlecocks",
    "Cockburn",
    "Lightwater Primary",
    "Middlesex",
    "Scunthorpe 1 Grimsby 0",
    "Year 7 at 3pm",
    "u12s won 4-3",
    "gr8 job 2day",
    # ordinary words that a swapped form met once held letters were allowed ("cook" is "cok"
    # stretched, "cok" is "cock" swapped)
    "our school cook",
    "our school cook is sooo good",  # the held letters must be in the word itself
    "Mrs Winterbottom the cook",
    # words with an innocent sense, in a sentence that shows it (the rules' `senses`)
    "a cock pheasant strutting across the field",
    "Year 1 can tell a cock blackbird from a hen",
    "cock-a-doodle-doo all the way home",
    "bearded tits in the reedbeds on the RSPB trip",
    "a shag drying its wings on the rocks, next to the puffins",
    "the gardening club needs a new hoe for the potato plot",
    "six child-sized hoes for the allotment",
    "a brood bitch and her pups visited assembly",
    "Daisy the cocker spaniel won Best Bitch at the county show",
    "Cleopatra bathed in asses' milk",
    "a wild ass at the zoo",
    "the volume knob on the sound desk is fixed",
    "faggots and onion gravy at the community lunch",
    "my uncle Dick brought his tractor",
    "the dik-dik is a tiny antelope",
    "we holidayed in twatt on shetland",
    # a racist phrase reported as wrong is counter-speech
    "Saying 'go back to your own country' to a child is disgusting. Glad it was dealt with",
    # capitalised topics, places and book characters beside a year group are not a pupil
    "Year 5 South America topic",
    "Year 9's Midsummer Night's Dream",
    "eleven Willy Wonkas in Year 4",
    "Harry Potter from Year 3 won the costume prize",
    # rude_substrings_dev3 misses, reworded: tools, birding, jabs, surnames, pubs, book titles
    "start with a bastard file, then a smooth one",
    "birders call it the jizz: knowing a bird by its shape",
    "nasal flu vaccine, so no needle pricks this year",
    "a farewell to Mrs Cumming after 25 years",
    "lunch at the Cock Inn after the walk",
    "Class 2 loved The Animals of Farthing Wood in Year 2",
    "Year 8's Industrial Revolution topic",
    # harmless_dev misses, reworded: greetings and awareness months beside a year group
    "Happy Eid from Year 3!",
    "Year 6 Black History Month assembly",
    # harmless_dev misses, reworded: returns, the end of the holidays, a fond "sore loser"
    "the shoes came in the wrong size so I had to pay to send them back",
    "two more days and we can send them back to school 🙌",
    "he's a sore loser at Monopoly, just like his dad",
    "my daughter won't shut up about the Year 4 trip to the zoo",
    # dev5a/dev5b misses, reworded: grades, self-mockery, a husband's name, groups and trips
    "she got four A*s and two As, so proud",
    "I'm such an idiot, I packed his PE kit on the wrong day again",
    "my husband Dick is running the tombola, be nice to him",
    "well done to the Year 9 Young Enterprise team on their stall",
    "Year 8 Thorpe Park trip forms are due back Friday",
]


def test_the_harmless_list_is_long_enough():
    assert len(HARMLESS) >= 60


def test_place_exceptions_do_not_excuse_the_insult_beside_them(rules):
    assert "profanity" in categories(rules, "Twatt is lovely, unlike you, you twat")
    assert "profanity" in categories(rules, "you absolute twatt")  # the place is written Twatt
    assert "insult" in categories(rules, "Bell End is nice but you are a bell end")
    assert "insult" in categories(rules, "what a bell end")
    assert "insult" in categories(rules, "Dick Whittington was fun, and you're a dick")
    assert "sexual_content" in categories(rules, "Chorlton-cum-Hardy, send cum pics")


def test_an_innocent_sense_needs_its_sentence_and_an_undisguised_word(rules):
    assert "sexual_content" in categories(rules, "nice cock mate")
    assert "sexual_content" in categories(rules, "saw a pheasant today. nice cock mate")
    assert "sexual_content" in categories(rules, "a c*ck pheasant")  # masked: never excused
    assert "profanity" in categories(rules, "you bitch")
    assert "identity_hate" in categories(rules, "the faggots in year 10")
    assert "pupil_identification" in categories(rules, "Amelia Jones in Year 5")
    assert "pupil_identification" in categories(rules, "Tom Green in Year 4")
    assert "profanity" in categories(rules, "you pricks. the jab queue was a joke")
    assert "sexual_content" in categories(rules, "cumming all over")
    assert "pupil_identification" in categories(rules, "Year 4 Jack Smith")


def test_innocent_text_makes_only_the_excused_words_neutral(rules):
    assert rules.innocent_text("Dick King-Smith wrote it") == "thing king smith wrote it"
    assert rules.innocent_text("a cock pheasant") == "a thing pheasant"
    assert rules.innocent_text("a cock pheasant. you cock") == "a thing pheasant you cock"
    assert rules.innocent_text("you absolute cock") is None
    assert rules.innocent_text("Well done Year 6!") is None


def test_masks_need_a_letter_each_side_and_the_same_length(rules):
    assert "profanity" not in categories(rules, "f*")
    assert "profanity" not in categories(rules, "*uck")
    assert "profanity" not in categories(rules, "f**kk**k")
    assert "identity_hate" not in categories(rules, "p*kistan")
    assert categories(rules, "sh*tterton") == set()


def test_swapped_forms_never_include_the_word_itself():
    forms = swapped_forms("fuck")
    assert {"fvck", "phuck", "fuk", "fuq"} <= forms and "fuck" not in forms


def test_stretching_holds_letters_longer_never_shorter():
    assert stretches("fuuck", "fuck")
    assert stretches("fuucking", "fuck", prefix=True)
    assert not stretches("shooting", "shotting")
    assert not stretches("cons", "coons")
    assert stretches("fuckk", "fuck")  # the k held longer


# --- 3. URL shorteners: only real links ------------------------------------------------------

SHORTENER_LOOKALIKES = [
    "ive planned exactly how im going to do it",
    "a bit lyrical",
    "it was a bit lyrical and a bit long",
    "the t.co-ordinator is Mrs Shah",
    "we read it bit by bit",
]


# a warning about spam is not spam (dev3b)
SPAM_WARNINGS = [
    "Don't click the link in the crypto comment above, it's a bot",
    "please do not click the link in that comment, report it",
]


SHORTENER_LINKS = [
    "free stuff bit.ly/abc",
    "see t.co/xyz",
    "https://tinyurl.com/abc123",
    "click https://bit.ly/3xYz now",
    "BIT.LY/Promo",
]


# --- 4. threats against a whole group ---------------------------------------------------------

GROUP_THREATS = [
    "immigrants should all be killed",
    "muslims should all be burned",
    "the gays should all be locked up",
    "jews should all be gassed",
    "travellers should all be shot",
    "refugees should all be deported and hanged",
    "kill all the teachers",
    "someone should bomb that mosque",
    "all the teachers should be shot",
    "all immigrants must die",
    "they deserve to be gassed",
    "that synagogue should be bombed",
    "kill every last one of them",
    "i'm going to burn down the school",
    "somebody needs to blow up that mosque",
    "Polish people should all be deported",
    "kill everyone in Year 9",
    "teachers deserve to die",
]


GROUP_THREAT_LOOKALIKES = [
    "soap will kill all the germs",
    "we need to kill all the weeds in the garden",
    "the pictures should be hung in the hall",
    "calories need to be burned",
    "phones should be put down in lessons",
    "a bath bomb the kids made",
    "we need to blow up the balloons",
    "shoot all the photos in daylight",
    "she shot up the rankings",
    "Minecraft: kill all the zombies",
]


# --- 5. negation and counter-speech do not escalate -------------------------------------------

COUNTER_SPEECH = [
    "No Muslim deserves to die",
    "Threatening to kill all immigrants will get you jailed",
    "no child deserves to be hurt",
    "nobody should ever be bullied",
    "it's never ok to say kill yourself",
    "no one deserves to die like that",
    "not a single child should be killed in a war",
    "don't tell people to kill themselves",
    "never say kill yourself to anyone",
    "telling someone to kill yourself is never ok",
    "saying kill all immigrants is a hate crime",
    "the comment saying all foreigners should be burned is vile, reported it",
    "people saying immigrants should be shot need to take a long hard look at themselves",
    "it is not okay to tell someone to kys",
    "the person who posted kill all immigrants has been reported",
]


# dev3b and harmless_dev: the writer of a racist phrase reported, not repeated
REPORTED_PHRASES = [
    'whoever wrote "go back to your own country" under the Eid post, this is their country',
    "the 'go back where you came from' comments under the Eid post were vile, report them",
    "someone has commented 'go back where you came from' under the Eid post. Vile",
]


# the guard does not excuse real threats
REAL_THREATS = [
    "kill yourself",
    "no, kill yourself",
    "nobody likes you",
    "no one would miss you",
    "I'll kill you",
    "don't tell anyone, I'll kill you",
    "No, Muslims deserve to die",
    "nobody should care, you should just die",
    "people saying immigrants should be shot are right",
    "Muslims deserve to die",
    "someone said kill all the teachers",  # a threat passed on still reaches the DSL
]


def test_self_harm_is_never_excused_by_a_negation(rules):
    assert "self_harm" in categories(rules, "nobody should care, i want to die")
    assert "self_harm" in categories(rules, "it's never ok, i want to kill myself")


# --- 6. new routes ------------------------------------------------------------------------------

STAFF_ALLEGATIONS = [
    "the teacher touched my daughter",
    "Mr Smith hit my son",
    "coach messages my daughter at night",
    "the coach sends my 13 year old messages at midnight",
    "sir grabbed him by the neck",
    "Mrs Jones slapped my son in class",
    "my son was hit by a teacher",
    "the PE teacher keeps messaging my daughter on snapchat",
    "the caretaker has been inappropriate with the girls",
    "Mr Brown asked my daughter to keep it a secret",
    "the swimming teacher touched her inappropriately",
    "the music teacher texts my son late at night",
]


def test_an_allegation_is_not_categorised_as_an_insult(rules):
    found = categories(rules, "Mr Jones is a useless idiot and he hit my son, Mr Jones hit my son")
    assert "staff_allegation" in found and "insult" not in found
    assert "insult" in categories(rules, "Mr Jones is a useless idiot")


PRAISE_AND_ACCIDENTS = [
    "Thank you Mrs Hughes, you really touched our hearts",
    "Mrs Hughes has touched so many lives",
    "Miss Jones hurt her ankle at sports day",
    "the coach hurt his back",
    "the PE teacher hit the ball over the fence",
    "the teacher emailed me at 9pm about parents evening",
    "Mr Smith really touched me with his speech",
]


PHOTO_CONSENT = [
    "please take down the photo of my son",
    "can you take down the picture of my daughter, she is in foster care",
    "please remove my child's picture",
    "remove the photo of my daughter please",
    "take the picture of my son down",
    "I didn't give consent for photos",
    "we never gave permission for her photo to be used",
    "this was posted without my permission",
    "my son is not allowed to be photographed",
    "please delete the video with my kids in it",
]


PHOTOS_AND_PERMISSION_SLIPS = [
    "lovely photos, thank you",
    "I can't take my eyes off this picture",
    "I did not sign the permission slip for the trip",
    "no girl deserves to be touched without consent",
]


MEDIA = [
    "I'm a journalist at the Echo, could the school comment",
    "Hi, I'm a reporter from the BBC",
    "press enquiry: please call our newsdesk",
    "we'd like a comment for our story about the closure",
    "Would the school like to comment on the Ofsted report",
    "I am writing an article about school uniform costs",
    "reporter at the Evening Gazette here",
]


# a job title alone is not a media enquiry
JOB_TITLES = [
    "my son wants to be a journalist",
    "great comments from parents about the play",
]


# complaints without a question mark need a reply
COMPLAINTS = [
    "please sort out the parking",
    "I expect a reply",
    "this is unacceptable",
    "nobody has got back to me",
    "I want to make a complaint",
    "parking at pickup is dangerous and nobody does anything",
    "still not heard back about the refund",
]


# a stranger asking where or when to find a particular child (dev and dev2 misses, reworded)
LOCATING_A_CHILD = [
    "the blonde girl in the netball pic, what time does she finish training?",
    "cute kids! which gate do the year 3s come out of?",
    "the lad in the red shorts, does he walk home on his own?",
    "which changing rooms do the girls in the gala photo use? not a parent, just curious",
    "which one is Sophie? I'm a friend of the family, I'll pick her up",
]


# parents asking about their own children, and questions with no child picked out
LOCATING_LOOKALIKES = [
    "Which entrance should Year 7s use on their first day?",
    "what time do the reception kids come out on Friday?",
    "my son walks home on his own now, is that ok from year 6?",
    "aww cute kids, what time does the nativity start?",
    "the boy with the trophy is my nephew, which time does the match start?",
    "the kids in the photo look so happy, which park is that?",
]


# --- one table: every text above, the category it is about, and what the rules must say -------

ANY = "any category"


def _about(category: str, expect: str, texts: list[str]) -> list[tuple[str, str, str]]:
    return [(text, category, expect) for text in texts]


# expect: "found" / "absent" (a hit of the category, or none); an action ("escalate",
# "respond") taken by the category's first hit, "quietly" when it posts no notice; for ANY:
# "harmless" (nothing but question or complaint), an action some hit takes, "not <action>"
JUDGED = [
    *[(text, category, "found") for text, category in DISGUISED],
    *_about(ANY, "harmless", HARMLESS),
    *_about("spam", "absent", SHORTENER_LOOKALIKES),
    *_about("spam", "absent", SPAM_WARNINGS),
    *_about("spam", "found", ["click the link in my bio, don't click the link in theirs"]),
    *_about("spam", "found", SHORTENER_LINKS),
    *_about("threat", "escalate", GROUP_THREATS),
    *_about("threat", "absent", GROUP_THREAT_LOOKALIKES),
    *_about(ANY, "not escalate", COUNTER_SPEECH),
    *_about(ANY, "escalate", REAL_THREATS),
    *_about("identity_hate", "absent", REPORTED_PHRASES),
    *_about(
        "identity_hate", "found", ["someone wrote go back to your own country and they're right"]
    ),
    *_about("identity_hate", "found", ["the refugees? send them back where they came from"]),
    *_about("insult", "found", ["shut up you sad loser", "you're a l0ser and everyone knows"]),
    *_about("insult", "found", ["you're such an idiot", "my husband is a dick"]),
    *_about("profanity", "found", ["kiss my a*s"]),
    *_about("pupil_identification", "found", ["Year 6 Amelia Jones won the spelling bee"]),
    *_about("identity_hate", "found", ["go back where you came from, those comments are right"]),
    *_about("staff_allegation", "escalate quietly", STAFF_ALLEGATIONS),
    *_about("staff_allegation", "absent", PRAISE_AND_ACCIDENTS),
    *_about("photo_consent", "respond", PHOTO_CONSENT),
    *_about("photo_consent", "absent", PHOTOS_AND_PERMISSION_SLIPS),
    *_about("media_enquiry", "respond", MEDIA),
    *_about("media_enquiry", "absent", JOB_TITLES),
    *_about("complaint", "found", COMPLAINTS),
    *_about("grooming", "escalate quietly", LOCATING_A_CHILD),
    *_about("grooming", "absent", LOCATING_LOOKALIKES),
]


def said(rules: RulesClassifier, text: str, category: str) -> set[str]:
    """What the rules say of `text`, in the words of the table's `expect`."""
    hits = rules.classify([text])[0].hits
    if category == ANY:
        found = {h.category.value for h in hits}
        return {h.action.value for h in hits} | ({"harmless"} if found <= HARMLESS_ONLY else set())
    mine = [h for h in hits if h.category.value == category]
    if not mine:
        return {"absent"}
    return {"found", mine[0].action.value} | ({"quietly"} if mine[0].notice is None else set())


HARMLESS_ONLY = {"question", "complaint"}


@pytest.mark.parametrize(("text", "category", "expect"), JUDGED)
def test_the_rules_judge_each_text_as_the_table_says(rules, text, category, expect):
    verdict = said(rules, text, category)
    if expect.startswith("not "):
        assert expect.removeprefix("not ") not in verdict, (text, verdict)
    else:
        assert set(expect.split()) <= verdict, (text, verdict)


# --- the new rule keys are checked like the old ones ------------------------------------------


def test_bad_raw_exception_and_unknown_override_are_refused_with_file_and_line(tmp_path: Path):
    d = tmp_path / "rules"
    d.mkdir()
    (d / "bad.yaml").write_text(
        """category: profanity
action: hide
rules:
  - id: a
    phrases: [x]
    raw_exceptions: ['(unclosed']
  - id: b
    phrases: [y]
    overrides: [gossip]
  - id: c
    phrases: [z]
    lexicon: maybe
  - id: d
    phrases: [w]
    senses: [bird]
  - id: e
    phrases: [v]
    senses:
      v: bird
"""
    )
    with pytest.raises(ConfigError) as info:
        load_rules(d)
    text = "\n".join(info.value.problems)
    assert f"{d / 'bad.yaml'}:4: raw_exceptions[0] is not a valid regex" in text
    assert f"{d / 'bad.yaml'}:7: overrides 'gossip' is not one of" in text
    assert f"{d / 'bad.yaml'}:10: `lexicon` must be true or false" in text
    assert f"{d / 'bad.yaml'}:13: `senses` must map a word to a list of words" in text
    assert f"{d / 'bad.yaml'}:16: senses.v must be a non-empty list of words" in text


def test_vulgar_insults_are_not_mild_so_the_model_cannot_overrule_them(rules):
    """Mild words (low severity) the semantic model does not bear out go to a person unhidden
    (moderation/policy.py); "dick" and "bell end" are vulgar and hide whatever it says."""
    from bot.moderation.policy import DOUBTABLE_SEVERITY

    for text in ["what a dick", "Mr Jones is a bell end"]:
        hits = [h for h in rules.classify([text])[0].hits if h.category.value == "insult"]
        assert hits and all(h.severity.rank > DOUBTABLE_SEVERITY.rank for h in hits), text
