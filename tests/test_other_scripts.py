"""Writers of Chinese, Russian and Arabic, and of mixed texts: lengths, sentences and punctuation are
counted in their script; what rests on English word lists is not counted (None), and no 0 or
"third person" is handed on as a fact about them."""

import pytest

from hyperalign_dspy.tasks.authorship.checks.claims import check_hypotheses, is_quoted_from
from hyperalign_dspy.tasks.authorship.checks.output_fit import expectations, fit_of
from hyperalign_dspy.tasks.authorship.counting.instances import excerpt
from hyperalign_dspy.tasks.authorship.counting.measurements import measure_style
from hyperalign_dspy.tasks.authorship.counting.text_counts import count, measured_attributes, sentences_of, words_of

# Each text: (text, words, sentences, questions among them). "I" is 我, я, and the -tu ending in Arabic.
CHINESE = [
    ("我今天早上骑车去上班。路上下了一点雨，但是我不在乎！你们周末有什么计划？", 32, 3, 1),
    ("我喜欢在河边散步。每次走完，我都觉得很放松。", 19, 2, 0),
    ("昨天我和朋友一起吃饭。我们聊了很久，直到餐厅关门。", 22, 2, 0),
]
RUSSIAN = [
    ("Я вчера ходил в парк. Было холодно, но я не жалею! А вы любите гулять зимой?", 16, 3, 1),
    ("Мне нравится читать по вечерам. Обычно я беру книгу и чай.", 11, 2, 0),
    ("Сегодня я опоздал на поезд. Пришлось ждать целый час.", 9, 2, 0),
]
ARABIC = [
    ("ذهبت إلى السوق صباح اليوم. كان مزدحما جدا، لكنني وجدت ما أحتاجه. هل تحب التسوق؟", 15, 3, 1),
    ("أكتب كل مساء في دفتري. أحيانا أكتب صفحة كاملة.", 9, 2, 0),
    ("زرت جدتي يوم الجمعة. طبخت لنا أرزا ودجاجا.", 8, 2, 0),
]
WRITERS = {"Chinese": CHINESE, "Russian": RUSSIAN, "Arabic": ARABIC}


@pytest.mark.parametrize("language", WRITERS)
def test_words_and_sentences_are_counted_in_the_writers_script(language):
    for text, words, sentences, _ in WRITERS[language]:
        assert len(words_of(text)) == words, (text, words_of(text))
        assert len(sentences_of(text)) == sentences, (text, sentences_of(text))
    counts = count([text for text, *_ in WRITERS[language]])
    lengths = sorted(words for _, words, _, _ in WRITERS[language])
    assert (counts.shortest_text, counts.words_per_text, counts.longest_text) == tuple(lengths)
    assert counts.questions == pytest.approx(1 / 7)
    assert counts.exclamations == pytest.approx(1 / 7 if language != "Arabic" else 0)
    assert counts.punctuation["commas"] > 0 and counts.punctuation["question marks"] > 0
    assert counts.question_openings == 0 and counts.question_closings == 1


@pytest.mark.parametrize("language", WRITERS)
def test_no_english_word_list_count_is_a_fact_about_another_language(language):
    texts = [text for text, *_ in WRITERS[language]]
    counts = count(texts)
    assert not counts.english and counts.perspective is None
    assert counts.first_person is None and counts.hedges is None and counts.connectives is None
    assert measured_attributes(counts) == {"typical_length_words": sorted(w for _, w, _, _ in WRITERS[language])[1]}
    lines = "\n".join(measure_style(texts))
    assert " 0 words" not in lines and "0 of 0" not in lines and "person" not in lines
    assert [line.split(":")[0] for line in measure_style(texts)] == [
        "Argument", "Support", "Openings", "Closings", "Temperament", "Sentences", "Paragraphs", "Punctuation"]
    assert "questions are 14% of sentences" in lines


@pytest.mark.parametrize("language", WRITERS)
def test_a_claim_about_person_is_left_to_the_lm_and_numbers_are_still_checked(language):
    texts = [text for text, *_ in WRITERS[language]]
    counts = count(texts)
    kept, checks = check_hypotheses([
        "Voice: The writer tells everything in the first person",
        "Reader: The writer often addresses the reader",
        "Sentences: The writer writes sentences of about 40 words",
    ], texts, counts)
    # Nothing counted the person or the reader: the claims stand (the counts said "third person"
    # and no "you" before, and dropped both).
    assert kept[:2] == ["Voice: The writer tells everything in the first person",
                        "Reader: The writer often addresses the reader"]
    # The sentence length is counted: 40 becomes the writer's count (whole from 10 on).
    counted = counts.words_per_sentence
    shown = f"{counted:.0f}" if counted >= 10 else f"{counted:.1f}"
    assert kept[2] == f"Sentences: The writer writes sentences of about {shown} words"
    assert counts.words_per_sentence > 4 and [check.outcome for check in checks] == ["corrected"]


def test_the_person_writing_in_english_is_still_counted_and_checked():
    texts = ["I rode to work today. You should try it, honestly!", "We walked by the river and I laughed."]
    counts = count(texts)
    assert counts.english and counts.perspective == "first person"
    kept, checks = check_hypotheses(["Voice: The writer tells everything in the third person"], texts, counts)
    assert kept == [] and checks[0].reason == "counted: the texts are told in the first person"


def test_chinese_quotes_and_excerpts_are_characters_of_the_texts():
    texts = [text for text, *_ in CHINESE]
    assert is_quoted_from("骑车去上班", texts)
    assert not is_quoted_from("坐地铁去学校", texts)
    quote = excerpt(texts[0])
    assert quote == "我今天早上骑车去上班" and quote in texts[0]


def test_mixed_texts_count_every_word_and_follow_their_main_language():
    english_with_chinese = "I visited 北京 last spring. The food was great, and I learned to say 谢谢. Will you come next time?"
    chinese_with_english = "我在 Google 工作了三年。每天我都用 Python 写代码，周末去爬山。"
    mostly_english = count([english_with_chinese])
    assert mostly_english.english and mostly_english.perspective == "first person"
    assert len(words_of(english_with_chinese)) == 22 and len(sentences_of(english_with_chinese)) == 3
    mostly_chinese = count([chinese_with_english])
    assert not mostly_chinese.english and mostly_chinese.words_per_text == 22
    assert len(sentences_of(chinese_with_english)) == 2


def test_a_new_text_is_checked_only_against_what_was_counted():
    person = count([text for text, *_ in CHINESE])
    said = [expectation.says for expectation in expectations(person)]
    assert not any("person" in habit or "quotation" in habit or "greeting" in habit for habit in said)
    answer = "我今天走路去公园。天气很好，我拍了很多照片！你们去过那里吗？"
    assert fit_of(answer, person).share == 1.0
    assert fit_of("我。", person).share < 1.0  # one word: far from the person's length
