"""DSPy's per-call price lookup, remembered by hyperalign_dspy: the same answers as DSPy's own."""

from dspy.clients import costs, model_metadata

import hyperalign_dspy  # noqa: F401  (installs the remembered lookup)


def test_the_remembered_lookup_answers_as_dspy_does_for_known_and_unknown_models():
    assert costs.model_info is not model_metadata.model_info
    for provider, model in [("openai-chat", "gpt-4o-mini"), ("openai-chat", "a-local-server-model"),
                            ("anthropic", "claude-3-5-haiku-20241022")]:
        for _ in range(2):  # the second answer comes from the memory
            assert costs.model_info(provider, model) == model_metadata.model_info(provider, model)
    assert costs.model_info("openai-chat", "gpt-4o-mini")["input_cost_per_token"] > 0
    assert costs.model_info("openai-chat", "a-local-server-model") == {}


def test_each_caller_gets_its_own_copy():
    first = costs.model_info("openai-chat", "gpt-4o-mini")
    first["input_cost_per_token"] = -1.0
    assert costs.model_info("openai-chat", "gpt-4o-mini")["input_cost_per_token"] > 0


def test_installing_it_twice_keeps_one_layer():
    installed = costs.model_info
    hyperalign_dspy.remember_model_metadata()
    assert costs.model_info is installed
