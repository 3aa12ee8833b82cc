"""Counted style facts, on texts whose counts are known."""

from hyperalign_dspy.style_measurements import measure_style

REPORTER = (
    'Acme Corp said on Monday profit rose 12 percent.\n'
    '"We had a strong year," chief executive Ann Lee said.\n'
    'Analysts said the result beat forecasts.'
)
DIARIST = "I went out today. We walked by the river and I laughed.\nMy sister told me you would come! Did you?"


def line(lines, start):
    return next(item for item in lines if item.startswith(start))


def test_reporter_counts():
    lines = measure_style([REPORTER, REPORTER])
    assert line(lines, "A text is").startswith("A text is 25 words long (median of 2 texts; from 25 to 25)")
    assert "a paragraph has 1.0 sentences on average" in line(lines, "A text has 3 paragraphs")
    assert line(lines, "33% of paragraphs contain a direct quotation; 0 of 2 texts end")
    assert line(lines, "Reporting verbs:") == "Reporting verbs: 'said' 6 times."
    assert "told in the third person" in line(lines, "The texts are told")
    # every pair recurs in both texts, so ties are broken alphabetically
    assert line(lines, "Word pairs that recur").startswith("Word pairs that recur across texts: 'acme corp', 'analysts said',")


def test_diarist_counts():
    lines = measure_style([DIARIST])
    assert "told in the first person" in line(lines, "The texts are told")
    assert line(lines, "Questions:") == "Questions: 1; exclamations: 1 (in all texts together)."
    assert line(lines, "Reporting verbs:") == "Reporting verbs: 'told' 1 times."
    assert not any(item.startswith("Word pairs") for item in lines)


def test_measurements_do_not_depend_on_the_process_hash_seed():
    import subprocess
    import sys

    script = "from hyperalign_dspy.style_measurements import measure_style; import sys; " \
             "print(measure_style([sys.argv[1], sys.argv[1]]))"
    runs = {
        subprocess.run([sys.executable, "-c", script, REPORTER], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(runs) == 1
