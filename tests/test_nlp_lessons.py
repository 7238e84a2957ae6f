"""Lessons: cue sentences with exact offsets, and the teller's own lesson field."""

import pytest

from nlp.lessons import find_lessons, is_lesson, story_lessons, teller_lesson


@pytest.mark.parametrize("sentence", [
    "Wat ik heb geleerd is dat je moet blijven komen.",
    "Ik heb hiervan geleerd dat snelheid telt.",
    "Voortaan bel ik eerst de huisarts.",
    "Het verschil maakte dat ik bleef komen.",
    "Wat het verschil maakte was de buurvrouw.",
    "Mijn tip: schrijf eerst op wat je voelde.",
    "Achteraf had ik eerder moeten doorvragen.",
    "De volgende keer vraag ik meteen naar de post.",
    "Les voor mezelf: niet alles zelf oplossen.",
    "Ik neem mee dat stilte geen leegte is.",
    "Wat werkte was dat hij zelf de stappen bepaalde.",
    "Wat goed werkte, was samen bellen.",
    "Ik realiseerde me dat ik te snel ging.",
    "Mijn inzicht: vertrouwen kost tijd.",  # no other cue word: missed before the keyword index
    "Het belangrijkste inzicht was dat zij de regie wilde houden.",
    "Zou ik het nu doen, dan zou ik eerder bellen.",
])
def test_lesson_cues(sentence):
    assert is_lesson(sentence)


@pytest.mark.parametrize("sentence", [
    "De les begon om negen uur.",
    "Achteraf bleek de huur al betaald.",
    "Moeder had geen geld voor boodschappen.",
    "Ik had geen tijd.",
    "Het inzicht in de cijfers ontbrak.",
    "Ik neem de trein mee naar huis? Nee.",
    "",
])
def test_not_lessons(sentence):
    assert not is_lesson(sentence)


def test_each_lesson_sentence_is_listed_once_in_text_order():
    text = ("Ik ging mee. Les voor mezelf: eerst luisteren. Les voor mezelf: minder praten.\n"
            "Het belangrijkste inzicht was haar eigen plan. Meer niet.")
    assert [lesson.text for lesson in find_lessons(text)] == [
        "Les voor mezelf: eerst luisteren.", "Les voor mezelf: minder praten.",
        "Het belangrijkste inzicht was haar eigen plan."]


def test_offsets_index_the_text_and_bullets_are_left_out():
    text = ("Moeder belde in paniek.\r\nWe gingen langs.\n\n- Voortaan bel ik eerst de huisarts.\n"
            "* Gewoon een punt.\n1. Mijn tip: ga langs zonder afspraak 😀.")
    lessons = find_lessons(text)
    assert [lesson.text for lesson in lessons] == [
        "Voortaan bel ik eerst de huisarts.", "Mijn tip: ga langs zonder afspraak 😀."]
    for lesson in lessons:
        assert text[lesson.start:lesson.end] == lesson.text
        assert lesson.to_dict() == {"start": lesson.start, "end": lesson.end, "text": lesson.text}


def test_a_capital_i_with_a_dot_still_reads_as_i():
    # "İ".lower() is two characters; the old case-insensitive patterns matched it as "i".
    assert is_lesson("Wat İK heb geleerd: rust.")
    assert not is_lesson("İwat ik meeneem")
    text = "In İzmir zei ze het al.\nMijn inzicht: İK moet eerder bellen."
    assert [lesson.text for lesson in find_lessons(text)] == [
        "Mijn inzicht: İK moet eerder bellen."]


@pytest.mark.parametrize("city", ["İzmir", "Izmir"])
def test_cues_are_found_whatever_lower_casing_does_to_the_length(city):
    # "İ".lower() is two characters: offsets from lower-cased text would point 20 characters
    # too far here, past the short lesson into the next sentence.
    text = f"We spraken over {', '.join([city] * 20)}.\nVOORTAAN bel ik. Ze sliep slecht."
    lessons = find_lessons(text)
    assert [lesson.text for lesson in lessons] == ["VOORTAAN bel ik."]
    assert text[lessons[0].start:lessons[0].end] == lessons[0].text


def test_teller_field_comes_first():
    field = "  Ga er snel en persoonlijk op af.  \n"
    own = teller_lesson(field)
    assert own.source == "teller" and field[own.start:own.end] == "Ga er snel en persoonlijk op af."
    lessons = story_lessons("Het ging goed. Wat werkte was het huisbezoek.", field)
    assert [lesson.source for lesson in lessons] == ["teller", "story"]
    assert teller_lesson("   ") is None and teller_lesson(None) is None
    assert story_lessons("Geen les hier.", "") == []
