"""The typed attributes accept what an LM under a grammar can produce, within reason."""

import pytest

from hyperalign_dspy.signatures import UserAttributes


@pytest.mark.parametrize(("emitted", "kept"), [(1028769345, 100_000), (0, 1), (-5, 1), (540, 540)])
def test_typical_length_is_clamped_to_a_plausible_range(attributes, emitted, kept):
    assert UserAttributes(**{**attributes, "typical_length_words": emitted}).typical_length_words == kept
