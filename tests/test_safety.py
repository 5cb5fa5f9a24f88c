"""Safeguarding: the detector catches every kind of harm in families' own words, look-alikes
stay quiet, and each category gets the right help first."""

from __future__ import annotations

import re

import pytest
import yaml
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.config import PROJECT_ROOT
from bot.safety import CATEGORY_KEYS, EMERGENCY_LINE, check_message, emergency_text
from bot.safety.categories import CATEGORIES_FILE, load_catalogue, parse_catalogue
from bot.safety.detector import pattern_categories
from bot.safety.embed import embed, encoder
from bot.safety.evaluate import evaluate, load_set
from bot.safety.learned import PATTERN_FLOOR, development_sets
from bot.sms import is_gsm7, to_gsm7
from components.safety_override import SafetyOverride
from tests.conftest import DATA

CATEGORY_SETS = [
    DATA / f"safety_dev{s}.yml"
    for s in ("", "_blind", "_blind2", "_blind3", "_blind4", *(f"_w{n}" for n in range(4, 17)))
]
FLAT_SETS = [DATA / "safety_dev_flat.yml", DATA / "safety_tuned_flat.yml"]


def _crisis(paths):
    return [
        pytest.param(text, id=f"{path.stem}:{key}:{n}")
        for path in paths
        for key, sets in load_set(path).items()
        for n, text in enumerate(sets["crisis"])
    ]


@pytest.mark.parametrize("text", _crisis(CATEGORY_SETS + FLAT_SETS))
def test_every_development_crisis_message_is_caught(text):
    assert check_message(text).crisis, text


@pytest.mark.parametrize("path", CATEGORY_SETS + FLAT_SETS, ids=lambda p: p.stem)
def test_false_alarms_on_look_alikes_stay_at_most_3_percent(path):
    tally = evaluate(load_set(path), lambda text: check_message(text).crisis)["all"]
    assert tally.false_alarm_rate <= 0.03, tally.false_alarms


def test_the_development_sets_have_15_of_each_per_category():
    sets = load_set(DATA / "safety_dev.yml")
    assert set(sets) == set(CATEGORY_KEYS)
    assert all(len(s["crisis"]) >= 15 and len(s["lookalike"]) >= 15 for s in sets.values())


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("my dad hits me", "physical_abuse"),
        ("I want to kill myself", "suicidal"),
        ("a worker at the respite home hurt my son", "staff_harm"),
        ("im 14 and my mum doesnt feed me", "neglect"),
        ("a man online is asking my 12 year old for pictures", "sexual_exploitation_grooming"),
        ("im 16 and my family are taking me abroad to get married", "forced_marriage_fgm_honour"),
        ("im being bullied and i might as well be dead", "suicidal"),
        ("my ex is banging on the door saying hes going to kill me", "domestic_abuse"),
        ("a young person i look after has been cutting themselves", "self_harm"),
        ("I feel like taking all my pills", "overdose_poisoning"),
        ("someone is sharing my nudes round school", "image_abuse"),
        ("my son is having a seizure and it wont stop", "medical_emergency"),
        ("my 12 year old hasnt come home and its midnight", "missing_child"),
    ],
)
def test_the_issue_examples_get_their_category(text, category):
    check = check_message(text)
    assert check.crisis and check.category == category, check


@pytest.mark.parametrize(
    "text",
    [
        "my son is dying to join the scouts",
        "the school is killing me with paperwork",
        "i could kill for a day off",
        "my son got hurt at football and now he limps",
        "he kicked off at school again and they sent him home",
        "is there a shooting game club for kids with autism",
        "",
    ],
)
def test_look_alikes_do_not_fire(text):
    assert check_message(text).crisis is False


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # a ligature, or the marks one leaves
        ("my son pulled a dressing gown cord tight round his neck in the bathroom", "self_harm"),
        ("she has been looping a cable around her throat when she is alone", "self_harm"),
        ("there are red lines around my daughters neck and she wont say why", "self_harm"),
        ("the nurse on the ward found a ligature in his bag", "self_harm"),
        ("i punish myself by not eating", "self_harm"),
        # staff or adults mocking a child, or turning a group against them
        ("the coach yells at my son that hes an embarrassment", "emotional_abuse"),
        ("his tutor gets the other kids to laugh at him when he stammers", "emotional_abuse"),
        ("a carer at the home ridicules a resident who cannot speak", "emotional_abuse"),
        ("my husband keeps telling our son he is worthless", "emotional_abuse"),
        # seizures that cluster or go on after rescue medicine; a head injury sign
        ("his seizures are clustering and still coming after the buccal", "medical_emergency"),
        ("five fits since breakfast and she is not waking between them", "medical_emergency"),
        ("midazolam given ten minutes ago and he is still jerking", "medical_emergency"),
        ("after he fell his pupils are different sizes", "medical_emergency"),
        ("one pupil is much bigger than the other since she banged her head", "medical_emergency"),
        ("a child on the minibus is having a seizure right now", "medical_emergency"),
        # hurt by other children with an injury, or tipped out of a wheelchair
        ("a boy at school punched my daughter and her jaw is fractured", "bullying_harm"),
        ("my son got kicked in the playground until he was sick", "bullying_harm"),
        ("some older kids at the park tipped her out of her wheelchair", "bullying_harm"),
        # wishing for a sleep with no waking
        ("since the bullying she wishes she could fall asleep and stay asleep", "suicidal"),
        # round 5 (w8, w9): a medicine box empty too soon; pins under nails; hot metal on skin
        (
            "his packet of sertraline is empty and it should have lasted another fortnight",
            "overdose_poisoning",
        ),
        ("she has been pushing drawing pins under her fingernails", "self_harm"),
        ("she pressed the hot hair straighteners onto her own leg", "self_harm"),
        # gone off hours ago; a mouth taped shut; a baby shaken; silenced by a threat
        ("my daughter stormed out at teatime and its now 11pm", "missing_child"),
        ("the TA taped his mouth shut during the lesson", "staff_harm"),
        ("my partner shook our 6 week old because she would not settle", "physical_abuse"),
        ("his stepdad says he will be taken away if he tells anyone", "emotional_abuse"),
        # a young child left alone, with a long aside between
        (
            "she keeps leaving the toddler who has a feeding tube and epilepsy on her own while"
            " she goes out",
            "neglect",
        ),
    ],
)
def test_new_general_rules_fire_with_their_category(text, category):
    assert category in pattern_categories(text), pattern_categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "i have cut myself off from the school gate mums",
        "punishing myself by watching the whole tribunal video again",
        "he cant tie his school tie round his neck, are clip on ties allowed",
        "shaving my legs i nicked myself and it was bleeding everywhere",
        "his wobbly tooth came out and there was blood everywhere",
        "the first aid module covers the unconscious casualty position",
        "nursery says his food must be cut into small pieces",
        "she burnt her hand on the oven and held it under the cold tap",
        "my brother kicked me under the table at tea",
        "my sister hit me with a pillow",
        "how do i get him to go to sleep and stay asleep all night",
        "he wants to fall asleep and stay asleep but wakes at 3am",
        "my mum will be having a fit about my grades lol",
        "his care plan says what to do if seizures cluster, who keeps it",
        "the optician said she was born with one pupil bigger than the other",
        "he got kicked in football at school and broke his toe",
        "the teacher told a funny joke and got the class to laugh at him",
        "is male circumcision done on the nhs",
        "my son is getting circumcised next week, how long to heal",
        "we bought reins to stop him running into the road",
        "i never hit my kids, how do i stay calm when they fight",
        "the doctor says hes not hurting himself, it is just stimming",
        "the box of calpol is empty, can i give him nurofen instead",
        "my mum said if he tells anyone about the surprise party she will kill him",
        "she is scared the other kids will laugh if she tells anyone about her hearing aids",
        "the nurse pushed the needle into his arm for the blood test",
        "we left our 2 year old with nan while we went to the shops",
        "his medication has run out and the chemist has none in stock",
        "she got hit by a netball in pe and her nose was bleeding a bit",
        "he was wheezy, had his blue inhaler and settled straight away",
        "a neighbour asked me if he hurts himself on purpose because of his helmet",
    ],
)
def test_new_general_rules_leave_their_look_alikes_alone(text):
    assert pattern_categories(text) == (), pattern_categories(text)


def test_a_verdict_names_the_category_first_and_every_category_that_fired():
    check = check_message("dad hits mum and she says not to tell anyone")
    assert check.category == "domestic_abuse"
    assert check.categories[0] == "domestic_abuse" and len(set(check.categories)) == len(
        check.categories
    )
    assert all(": " in reason for reason in check.reasons)


def test_a_pattern_gives_way_only_when_the_learned_part_is_nearly_sure_it_is_no_crisis():
    check = check_message("What are the signs of grooming? for our parent carer forum leaflet")
    assert check.crisis is False and check.score < PATTERN_FLOOR
    assert check.reasons == (
        f"sexual_exploitation_grooming: pattern overruled, learned {check.score:.2f}",
    )
    # The same pattern in a disclosure stands.
    check = check_message("a man online has been grooming my 13 year old, he sends her gifts")
    assert check.crisis and check.category == "sexual_exploitation_grooming"


def test_the_patterns_decide_alone_when_asked():
    text = "What are the signs of grooming? for our parent carer forum leaflet"
    assert check_message(text, learned=False).crisis is True


def test_the_learned_part_learns_from_development_sets_and_never_from_the_held_out_set():
    paths = development_sets()
    assert all(DATA / f"safety_dev_w{n}.yml" in paths for n in range(4, 17))
    assert all(p.parent == DATA and "heldout" not in p.name for p in paths)


def test_the_sentence_model_run_in_numpy_gives_the_published_similarities():
    """all-MiniLM-L6-v2's own example (sbert.net quickstart): 0.6660, 0.1046, 0.1411."""
    vectors = embed(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    similarity = vectors @ vectors.T
    assert vectors.shape == (3, 384)
    assert similarity[0, 1] == pytest.approx(0.6660, abs=1e-4)
    assert similarity[0, 2] == pytest.approx(0.1046, abs=1e-4)
    assert similarity[1, 2] == pytest.approx(0.1411, abs=1e-4)
    assert encoder().tokenizer.encode("Hello, world!") == [101, 7592, 1010, 2088, 999, 102]
    # One message alone embeds as it does in a batch (padding is masked out).
    assert abs(embed(["He drove to the stadium."])[0] - vectors[2]).max() < 1e-5


# --- the category data ------------------------------------------------------------------


def test_the_data_file_has_the_17_categories_with_patterns_examples_and_help():
    catalogue = load_catalogue()
    assert set(catalogue.keys) == set(CATEGORY_KEYS) and len(CATEGORY_KEYS) == 17
    for category in catalogue.categories:
        assert category.patterns and category.help and category.opening
        assert len(category.examples) >= 20 and len(category.lookalikes) >= 12


def test_every_national_number_cites_its_service_page():
    data = yaml.safe_load(CATEGORIES_FILE.read_text(encoding="utf-8"))
    for key, line in data["helplines"].items():
        assert line.get("local") or line["source"].startswith("http"), key


@pytest.mark.parametrize(
    ("helpline", "number"),
    [
        ("childline", "0800 1111"),
        ("shout", "85258"),
        ("samaritans", "116 123"),
        ("nspcc", "0808 800 5000"),
        ("domestic_abuse", "0808 2000 247"),
        ("forced_marriage", "020 7008 0151"),
        ("nhs111", "NHS 111"),
        ("ceop", "ceop.police.uk"),
        ("report_remove", "Report Remove"),
    ],
)
def test_national_numbers_are_the_published_ones(helpline, number):
    assert number in load_catalogue().helplines[helpline].text


@pytest.mark.parametrize(
    "text",
    ["goodbye", "GOODBYE", "Goodbye.", "thank you goodbye", "Thank you for your help. Goodbye",
     "Goodbye, have a nice day", "ok thanks bye x", "I'll leave it there, goodbye"],
)  # fmt: skip
def test_saying_goodbye_at_the_end_of_a_chat_is_not_a_crisis(text):
    """A bare "goodbye" scored 0.85 for suicidal thoughts: families ending a chat got
    the Samaritans. Only thanks and goodbyes: never a crisis on its own."""
    assert load_catalogue().only_closing(text)
    assert check_message(text).crisis is False


@pytest.mark.parametrize(
    "text",
    ["goodbye everyone", "this is goodbye", "goodbye forever", "goodbye cruel world",
     "bye forever x", "goodbye i love you all",
     "saying goodbye", "thank you for everything, goodbye", "night everyone, goodbye"],
)  # fmt: skip
def test_a_goodbye_with_any_other_word_is_read_as_usual_and_a_farewell_for_good_fires(text):
    assert not load_catalogue().only_closing(text)
    assert check_message(text).category == "suicidal"


def test_a_broken_data_file_is_refused_naming_what_is_wrong():
    with pytest.raises(
        ValueError, match="unknown helpline 'nowhere'.*category 'neglect' is missing"
    ):
        parse_catalogue(
            {"helplines": {}, "categories": {k: {"help": ["nowhere"]} for k in ["suicidal"]}}
        )


# --- the reply --------------------------------------------------------------------------


def test_the_general_emergency_text_lists_national_numbers_first(sample_directory):
    text = emergency_text(sample_directory.entry("family_connect"))
    lines = text.splitlines()
    assert lines[1] == EMERGENCY_LINE
    assert "Childline free on 0800 1111" in lines[2]
    assert "Samaritans free on 116 123" in lines[3]
    assert lines[4] == (
        "Worried about a child's safety? Call Family Connect on 01632 960111 (sample number)."
    )
    assert all(len(line.split()) <= 15 for line in lines if "Worried" not in line)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("physical_abuse", ["0800 1111", "0808 800 5000", "Family Connect on 01632 960111"]),
        ("suicidal", ["116 123", "0800 1111", "85258"]),
        ("self_harm", ["0800 1111", "85258", "116 123"]),
        ("image_abuse", ["Report Remove", "ceop.police.uk"]),
        ("sexual_exploitation_grooming", ["ceop.police.uk", "0800 1111"]),
        ("forced_marriage_fgm_honour", ["020 7008 0151"]),
        ("domestic_abuse", ["0808 2000 247"]),
        ("medical_emergency", ["ambulance", "NHS 111"]),
        ("overdose_poisoning", ["NHS 111", "116 123"]),
        ("missing_child", ["Call 999 now for a missing child"]),
        ("staff_harm", ["LADO", "01632 960151"]),
    ],
)
def test_each_category_gets_its_own_help_first_in_one_short_reply(
    sample_directory, category, expected
):
    text = emergency_text(
        sample_directory.entry("family_connect"), category, lado=sample_directory.entry("lado")
    )
    lines = text.splitlines()
    assert lines[1] == EMERGENCY_LINE
    assert all(piece in text for piece in expected), text
    assert len(lines) <= 8 and is_gsm7(to_gsm7(text))
    for line in lines:  # easy-read: sentences of at most 15 words, numbers aside
        for sentence in re.split(r"(?<=[.?!])\s+", line):
            words = [w for w in sentence.split() if not re.fullmatch(r"[\d()]+", w)]
            assert len(words) <= 15, sentence


def test_a_second_category_adds_its_first_helpline():
    text = emergency_text(None, "bullying_harm", also=("image_abuse",))
    assert "Report Remove" in text and "85258" in text


# --- the NLU override -------------------------------------------------------------------


def overridden(text: str, *ranking: tuple[str, float]) -> Message:
    """The message after the safety override, as the model ranked its intents."""
    message = Message(data={TEXT: text})
    ranked = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    message.set(INTENT, ranked[0], add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranked, add_to_output=True)
    SafetyOverride().process([message])
    return message


def test_nlu_override_turns_a_missed_crisis_into_the_crisis_intent():
    message = overridden("she has taken too many tablets", ("ask_signpost", 0.91), ("crisis", 0.05))
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["crisis", "ask_signpost"]


def test_nlu_override_leaves_ordinary_messages_alone():
    message = Message(data={TEXT: "who helps with school transport"})
    message.set(INTENT, {"name": "ask_signpost", "confidence": 0.91}, add_to_output=True)
    SafetyOverride().process([message])
    assert message.get(INTENT) == {"name": "ask_signpost", "confidence": 0.91}


def test_ordinary_signposting_questions_rarely_fire():
    """Questions for the safeguarding front door or the LADO are worries, not counted."""
    examples = [
        e
        for name in ("signpost_dev.yml", "signpost_dev_hard.yml")
        for e in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["examples"]
    ]
    worries = [e["text"] for e in examples if {"family_connect", "lado"} & set(e["keys"])]
    ordinary = [e["text"] for e in examples if e["text"] not in worries]
    fired = [t for t in ordinary if check_message(t).crisis]
    assert len(worries) == 6 and len(fired) / len(ordinary) <= 0.03, fired


def test_the_old_held_out_set_was_moved_to_the_development_side():
    assert not (PROJECT_ROOT / "eval" / "safety.yml").exists()


def test_a_crisis_only_the_language_model_saw_is_dropped_unless_the_detector_leans_that_way():
    message = overridden(
        "my son hurt his wrist at trampolining", ("crisis", 0.7), ("ask_signpost", 0.2)
    )
    # The next intent is under the FallbackClassifier's threshold: the search decides.
    assert message.get(INTENT) == {"name": "nlu_fallback", "confidence": 0.45}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["nlu_fallback", "ask_signpost"]


def test_beside_words_of_distance_the_language_model_alone_never_calls_a_crisis():
    """Tried over REST: a question about a past seizure for a benefits form got the
    emergency reply from the language model alone, though the detector said no (its
    learned part 0.77, under the 0.95 it needs beside "when he was 4")."""
    text = (
        "when he was 4 he stopped breathing in a seizure, hes 12 now and fine. "
        "does that go on the DLA form"
    )
    check = check_message(text)
    assert not check.crisis and check.score >= 0.7  # the floor alone would let it stand
    message = overridden(text, ("crisis", 0.6), ("ask_signpost", 0.3))
    assert message.get(INTENT) == {"name": "nlu_fallback", "confidence": 0.45}


def test_a_dropped_crisis_keeps_the_next_intent_the_model_is_sure_enough_of():
    message = overridden(
        "my son hurt his wrist at trampolining, who can help",
        ("crisis", 0.5), ("ask_signpost", 0.46),
    )  # fmt: skip
    assert message.get(INTENT) == {"name": "ask_signpost", "confidence": 0.46}


def test_the_override_falls_back_where_the_fallback_classifier_does():
    from components.safety_override import FALLBACK_THRESHOLD

    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    fallback = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    assert fallback["threshold"] == FALLBACK_THRESHOLD


def test_cross_validation_counts_by_the_detectors_own_rule():
    from bot.safety.crossval import ORDINARY, Scored, tallies

    def item(category, crisis, score, pattern=False, distanced=False, best="neglect"):
        return Scored("w", category, crisis, score, pattern, distanced, "text", best)

    scored = [
        item("neglect", True, 0.75),  # the learned part alone, over 0.7
        item("neglect", True, 0.30, pattern=True),  # a pattern the model does not overrule
        item("neglect", True, 0.65),  # missed: under 0.7, no pattern
        item("suicidal", True, 0.65, best="suicidal"),  # 0.6 is enough for suicide
        item("neglect", True, 0.96, distanced=True),  # words of distance: over 0.95 alone
        item("neglect", False, 0.05, pattern=True),  # a pattern overruled (under 0.1)
        item("neglect", False, 0.70, pattern=True, distanced=True),  # overruled (under 0.8)
        item("suicidal", False, 0.90, distanced=True, best="suicidal"),  # under 0.95 alone
        item("neglect", False, 0.90),  # a false alarm
        item(ORDINARY, False, 0.95),  # an ordinary question: counted apart
    ]
    result = tallies(scored)
    assert (result["all"].caught, result["all"].crisis) == (4, 5)
    assert (result["all"].alarms, result["all"].lookalikes) == (1, 4)
    assert (result[ORDINARY].alarms, result[ORDINARY].lookalikes) == (1, 1)
    assert result["neglect"].misses == ["[w] text"]
