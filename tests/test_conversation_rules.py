"""The pure rules behind the turns after the first answer: the glossary, telling praise,
complaints and a "no" apart, who is writing, which service is named, other languages,
complaints routes, and SMS menus that keep a rating's own numbers."""

from __future__ import annotations

import pytest

from bot.directory import load_file
from bot.directory.naming import named_entries
from bot.feedback.parse import is_cancel
from bot.glossary import asked_term, glossary, sentences
from bot.kinds import explicit_rating, feedback_subject, kind_cue
from bot.language import detect, in_danger, reply_text, translations
from bot.person import PARENT, YOUNG_PERSON, about_another_child, speaker_of
from bot.routing.complaints import complaints
from bot.sms import is_gsm7, numbered_menu, pick_option, render
from tests.conftest import SAMPLE_DIRECTORY

RATING = [
    {"title": f"{n} {w}", "payload": str(n)}
    for n, w in ((5, "Very good"), (4, "Good"), (3, "OK"), (2, "Bad"), (1, "Very bad"))
]


def test_a_rating_menu_by_text_keeps_its_own_numbers():
    assert numbered_menu(RATING) == (
        "Reply 5 for Very good, 4 for Good, 3 for OK, 2 for Bad, 1 for Very bad."
    )
    assert [pick_option(str(n), RATING) for n in (5, 4, 3, 2, 1)] == ["5", "4", "3", "2", "1"]
    assert pick_option("6", RATING) is None and pick_option("0", RATING) is None


def test_a_reply_in_another_script_keeps_it_on_sms_and_the_rest_is_gsm7():
    reply = render([
        {"text": "مرحبًا"}, {"custom": {"unicode": True}},
        {"text": "Call \u201c999\u201d", "buttons": [{"title": "OK", "payload": "/affirm"}]},
    ])  # fmt: skip
    assert reply.text == 'مرحبًا\nCall "999"\nReply 1 OK.'
    assert is_gsm7(reply.text.split("\n", 1)[1])


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("what is an EHCP", "EHCP"), ("whats an ehcp", "EHCP"), ("What's an EHC plan?", "EHCP"),
        ("what does PfA mean", "Preparation for Adulthood"), ("LADO?", "LADO"),
        ("what is a personal budget", "personal budget"), ("what does SALT stand for", "SALT"),
        ("what is sendiass", "IASS"), ("explain direct payments", "direct payments"),
        ("what is a carer's assessment", "carer's assessment"), ("senco?", "SENCo"),
        ("what is the local offer", "Local Offer"), ("what's a tribunal", "tribunal"),
    ],
)  # fmt: skip
def test_glossary_questions_find_their_term(question, term):
    found = asked_term(question)
    assert found is not None and found.term == term


@pytest.mark.parametrize(
    "text",
    ["EHCP", "what is the waiting list for camhs", "what is happening with my case",
     "what is a wet room", "who helps with ehcps", "/explain_term"],
)  # fmt: skip
def test_other_questions_are_not_glossary_questions(text):
    assert asked_term(text) is None


def test_every_glossary_entry_is_two_easy_read_sentences_with_someone_who_helps():
    directory = load_file(SAMPLE_DIRECTORY)
    terms = glossary().terms
    assert len(terms) >= 40
    for term in terms:
        said = sentences(term.meaning)
        assert len(said) == 2 and all(len(s.split()) <= 15 for s in said), term.term
        helpers = [directory.entry(k) for k in term.who]
        helpers += directory.for_need(term.need) if term.need else []
        assert any(helpers), term.term
    wanted = ["EHCP", "EHC needs assessment", "SENCo", "IASS", "annual review", "personal budget",
              "direct payments", "short breaks", "Local Offer", "tribunal", "mediation",
              "Preparation for Adulthood", "LADO", "CAMHS", "OT", "SALT", "EP", "Portage",
              "respite", "DLA", "PIP", "carer's assessment", "transition", "resource base",
              "specialist school", "SEN support"]  # fmt: skip
    assert [w for w in wanted if glossary().find(w) is None] == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("PODS have been amazing with us this year, just want to say thanks", "praise"),
        ("shining stars playgroup is brilliant 5 stars", "praise"),
        ("no it's a compliment", "praise"),
        ("Turned down for a social care assessment twice, nobody told us where else to go",
         "turned_down"),
        ("they said she doesn't qualify for transport", "turned_down"),
        ("feedback: the portage visits", "feedback"),
        ("I want to give feedback about the taxi", "feedback"),
        ("the ot was really rude to me", "complaint"),
        ("how do i make a complaint about the send team", "complaint"),
        ("the taxi didnt come again", None),
        ("thanks", None),
        ("great thanks", None),
        ("thank you for your help. goodbye", None),  # ends the chat: no praise form
        ("thanks for all your help bye x", None),
        ("the send team were brilliant thank you, bye", "praise"),
        ("is portage any good?", None),
        ("my sons teacher is amazing but the senco never replies", None),
    ],
)  # fmt: skip
def test_clear_cues_tell_the_kinds_apart(text, kind):
    assert kind_cue(text) == kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # feedback given as an opinion or a suggestion, without the word "feedback"
        ("it would really help if the SEND team answered emails within a week", "feedback"),
        ("my opinion is that the annual review meetings are too short", "feedback"),
        ("in my view parents need more notice of transport changes", "feedback"),
        ("suggestion: put the portage contact on the health visitor leaflet", "feedback"),
        ("i think the council should run the parent workshops in the evening too", "feedback"),
        ("how can parents have a say in how short breaks are run", "feedback"),
        ("where can i give my views on the new local offer website", "feedback"),
        ("would be much better if letters came in easy read", "feedback"),
        ("we'd love the holiday club to run in half term too", "feedback"),
        ("is there a survey about school transport for parents to fill in", "feedback"),
        ("not a complaint, just an idea: evening sessions for working parents", "feedback"),
        # a no in other words
        ("the panel came back with a no for the specialist place", "turned_down"),
        ("camhs said she isnt unwell enough for their service", "turned_down"),
        ("the nursery said they cant keep him because of his needs", "turned_down"),
        ("the la decided not to issue a plan", "turned_down"),
        ("he doesnt meet their criteria for the learning disability team", "turned_down"),
        ("the college wont accept her on the course", "turned_down"),
        ("the ot wont see him now that he has turned 16", "turned_down"),
        ("the youth club said he is too young for it", "turned_down"),
        ("i am not at all happy with how the OT spoke to my son", "complaint"),
    ],
)  # fmt: skip
def test_feedback_and_a_no_in_other_words(text, kind):
    assert kind_cue(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "should i be worried that he isnt talking yet",
        "what should i do if the school wont listen",
        "it would help if someone could ring me back about his plan",
        "would be great if you could tell me what short breaks there are",
        "i think my son needs an autism assessment",
        "they should have sent the taxi at 8 and it never came",
        "the school should be giving him one to one support and they are not",
        "is he too young for an autism assessment",
        "can i refer my daughter to camhs myself",
        "the gp cant see him until next week",
        "i cant take her to the appointment on tuesday, can we change it",
        "my son has been discharged from hospital, what help is there at home",
        "the email to the send team bounced back",
        "the transport team closed our case without telling us",
        "my daughter wants a say in her ehcp, how does that work",
        "i have a consultation with the paediatrician next week, what should i ask",
        "any suggestions for a holiday club that takes autistic kids",
        "he needs a review of his medication",
        "I'd like the send team to call me about his plan",
    ],
)  # fmt: skip
def test_look_alike_questions_and_problems_get_no_feedback_or_no_cue(text):
    assert kind_cue(text) not in ("feedback", "turned_down")


def test_ratings_only_when_written_as_one_and_feedback_subjects():
    assert [explicit_rating(t) for t in ("5 stars", "four stars", "4/5", "10/10", "brilliant")] == [
        5, 4, 4, 5, None,
    ]  # fmt: skip
    assert feedback_subject("feedback: PODS") == "PODS"
    assert feedback_subject("I want to give feedback about the taxi firm") == "the taxi firm"
    assert feedback_subject("I want to give feedback") == ""


@pytest.mark.parametrize(
    ("text", "speaker"),
    [("I'm 19", YOUNG_PERSON), ("im 17 and need help with college", YOUNG_PERSON),
     ("I am autistic and at college", YOUNG_PERSON), ("she's 3", PARENT),
     ("my son is 8 and cant read", PARENT), ("hi", None), ("i'm 40 and tired", None)],
)  # fmt: skip
def test_who_is_writing(text, speaker):
    assert speaker_of(text) == speaker


def test_another_child():
    assert about_another_child("what about my other son, he's 5")
    assert about_another_child("and his sister needs help too")
    assert not about_another_child("he still needs help with reading")


def test_services_are_found_by_the_names_families_use():
    directory = load_file(SAMPLE_DIRECTORY)

    def keys(text: str) -> list[str]:
        return [e.key for e in named_entries(directory, text)]

    assert keys("PODS have been amazing") == ["pods"]
    assert keys("shining stars playgroup is brilliant") == ["short_breaks"]
    assert keys("is the IASS open now") == ["sendiass"]
    assert keys("the OT was great") == ["occupational_therapy"]
    assert keys("i want to give feedback about the complaints") == []
    assert keys("i cant do phone calls whats their email") == []


def test_languages_are_detected_only_when_sure_and_long_enough():
    assert [detect(t) for t in ("ok", "yes", "hiya", "ta", "cheers mate", "ok ta x")] == [None] * 6
    assert detect("my son needs help with school transport") is None
    cases = {
        "Dzień dobry, potrzebuję pomocy dla mojego syna": "pl",
        "Bună ziua, am nevoie de ajutor pentru fiul meu": "ro",
        "ਮੈਨੂੰ ਮਦਦ ਚਾਹੀਦੀ ਹੈ": "pa",
        "مجھے مدد کی ضرورت ہے": "ur",
        "أحتاج مساعدة لابني": "ar",
        "Labas, man reikia pagalbos dėl sūnaus": "lt",
    }
    assert {t: getattr(detect(t), "code", None) for t in cases} == cases


def test_replies_in_other_languages_are_marked_for_review_and_carry_the_numbers():
    assert translations().status == "awaiting review by a qualified translator"
    assert {"pl", "ro", "pa", "ur", "ar"} <= set(translations().languages)
    for language in translations().languages.values():
        text = reply_text(language, "01632 960126")
        assert "01632 960126" in text and "999" in text and "We read English here." in text
    polish = translations().languages["pl"]
    assert in_danger(polish, "Ojciec mnie bije i boję się wracać do domu")
    assert not in_danger(polish, "Dzień dobry, potrzebuję pomocy dla mojego syna")


def test_complaints_routes_and_appeals():
    routes = complaints()
    assert routes.route_for("send_team").name == "Council Complaints Team"
    assert routes.route_for("speech_language_therapy").case_service == "healthwatch"
    assert routes.route_for("senco").name == "Your child's school"
    assert routes.appeal_for(["social_care_disability", "ehcp"]).startswith(
        "You can appeal to the SEND Tribunal"
    )
    assert routes.appeal_for(["respite"]) == routes.default_appeal


def test_leaving_is_exit_or_back_and_never_needs_a_carrier_keyword():
    assert all(is_cancel(w) for w in ("exit", "back", "never mind", "forget it", "go back"))
    assert not is_cancel("the bus never stops outside")
