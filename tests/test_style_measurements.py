"""Counted style facts, on texts whose counts are known."""

from hyperalign_dspy.tasks.authorship.signatures import ASPECTS
from hyperalign_dspy.tasks.authorship.style_measurements import measure_style

REPORTER = (
    'Acme Corp said on Monday profit rose 12 percent.\n'
    '"We had a strong year," chief executive Ann Lee said.\n'
    'Analysts said the result beat forecasts.'
)
DIARIST = "I went out today. We walked by the river and I laughed.\nMy sister told me you would come! Did you?"


def line(lines, start):
    return next(item for item in lines if item.startswith(start))


def test_there_is_one_measurement_per_aspect_in_the_signatures_order():
    for texts in ([REPORTER, REPORTER], [DIARIST]):
        assert [item.split(":")[0] for item in measure_style(texts)] == list(ASPECTS)


def test_reporter_counts():
    lines = measure_style([REPORTER, REPORTER])
    assert line(lines, "Openings:") == (
        "Openings: a text's first sentence has 9 words on average; 2 of 2 first sentences name a source with a "
        "reporting verb.")
    assert line(lines, "Paragraphs:") == (
        "Paragraphs: a text has 25 words (median of 2 texts; from 25 to 25) in 3 paragraphs (median); "
        "a paragraph has 1.0 sentences on average.")
    assert line(lines, "Sources:") == "Sources: 33% of paragraphs contain a direct quotation; reporting verbs: 'said' 6 times."
    assert line(lines, "Endings:").startswith("Endings: 0 of 2 texts end with a paragraph that contains a quotation;")
    assert "told in the third person" in line(lines, "Voice:")
    # every pair recurs in both texts, so ties are broken alphabetically
    assert line(lines, "Vocabulary:").startswith("Vocabulary: word pairs that recur across texts: 'acme corp', 'analysts said',")


def test_diarist_counts():
    lines = measure_style([DIARIST])
    assert "told in the first person" in line(lines, "Voice:")
    assert line(lines, "Voice:").endswith("questions: 1, exclamations: 1 in all texts together.")
    assert line(lines, "Sources:") == "Sources: 0% of paragraphs contain a direct quotation; reporting verbs: 'told' 1 times."
    assert line(lines, "Vocabulary:") == "Vocabulary: word pairs that recur across texts: none."
    assert line(lines, "Openings:").startswith("Openings: a text's first sentence has 4 words on average; 0 of 1")


def test_measurements_do_not_depend_on_the_process_hash_seed():
    import subprocess
    import sys

    script = "from hyperalign_dspy.tasks.authorship.style_measurements import measure_style; import sys; " \
             "print(measure_style([sys.argv[1], sys.argv[1]]))"
    runs = {
        subprocess.run([sys.executable, "-c", script, REPORTER], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(runs) == 1
