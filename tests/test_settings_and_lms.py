"""The program's knobs as data (`ProgramSettings` from a suite's or a recipe's `[program]`, saved
with a compiled program, logged to MLflow) and one LM per role (`LMConfig`, `--infer-lm`, a
suite's `[lms]`)."""

from __future__ import annotations

import json

import dspy
import mlflow
import pytest
from fake_openai import FakeOpenAI
from helpers import json_lm, responses_lm
from lm_answers import sample_attributes, sample_hypotheses
from project import PROJECT_ROOT
from word_authors import write_suite

import hyperalign_dspy as ha
from hyperalign_dspy.cli import main
from hyperalign_dspy.program_files import metadata_path
from hyperalign_dspy.tasks.authorship.stages.write_as_person import note_of

NOTE = "The author quotes a named analyst in the second paragraph of nearly every article"
TEXTS = ["Harbor cranes lift freight at dawn, the dock foreman said.", "The tide turned and the pier woke, he said."]


def echoing_lm(count: int):
    """Answers that recite the profile's hypothesis, so that the program samples again every time."""
    return responses_lm([f"Attempt {n}: {NOTE}." for n in range(count)])


def profile() -> ha.UserProfile:
    return ha.UserProfile(hypotheses=[NOTE], source_ids=["a"], attributes=sample_attributes())


# --- settings ------------------------------------------------------------------------------------


def test_settings_set_in_a_table_go_over_the_defaults_and_only_those():
    defaults = ha.ProgramSettings(infer_text_tokens=3000)
    given = ha.ProgramSettings.model_validate({"attempts": 2})
    assert given.over(defaults) == ha.ProgramSettings(infer_text_tokens=3000, attempts=2)
    assert ha.ProgramSettings().over(defaults) == defaults
    assert ha.ProgramSettings(attempts=2).as_params()["program.attempts"] == 2


def test_the_programs_knobs_are_its_settings():
    settings = ha.ProgramSettings(attempts=2, temperature=0.3)
    lm = echoing_lm(5)
    with dspy.context(lm=lm, adapter=dspy.JSONAdapter()):
        out = ha.HyPerAlign(settings=settings)(profile=profile(), prompt="Write about shares.")
    assert len(lm.history) == 2 and out.response.startswith("Attempt 1:")
    assert {entry["kwargs"]["temperature"] for entry in lm.history} == {0.3}
    # The deliberative program reads more of the person's texts by default.
    assert ha.DeliberativeHyPerAlign().settings.infer_text_tokens == 3000 > ha.HyPerAlign().settings.infer_text_tokens


def test_a_suites_program_table_reaches_the_systems_and_mlflow(server, tmp_path):
    path = write_suite(tmp_path, authors=3, systems=["hyperalign", "zero-shot"], baselines=["zero-shot"], seed=0)
    path.write_text(path.read_text() + "[program]\nattempts = 2\ninfer_text_tokens = 900\n")
    suite = ha.load_suite(path)
    assert (suite.settings.attempts, suite.settings.infer_text_tokens, suite.settings.temperature) == (2, 900, 0.7)
    report = ha.evaluate(suite, lm=ha.lm("openai/test-model", api_base=server.base), limit=3)
    params = mlflow.get_run(report.mlflow_run_id).data.params
    assert (params["program.attempts"], params["program.infer_text_tokens"], params["program.temperature"]) == ("2", "900", "0.7")


def test_a_recipes_program_table_is_compiled_saved_and_restored(server, tmp_path, capsys):
    suite = write_suite(tmp_path, authors=6, systems=["hyperalign", "few-shot"], baselines=["few-shot"], seed=1)
    suite.write_text(suite.read_text() + "[program]\nattempts = 2\ninfer_text_tokens = 900\n")
    recipe = tmp_path / "recipe.toml"
    recipe.write_text((PROJECT_ROOT / "optimizers" / "bootstrap-fewshot.toml").read_text() + "\n[program]\nattempts = 3\n")
    out = tmp_path / "program.json"
    argv = ["compile", "--optimizer", str(recipe), "--suite", str(suite), "--out", str(out), "--limit", "2",
            "--lm", "openai/test-model", "--api-base", server.base, "--json"]
    assert main(argv) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    saved = json.loads(metadata_path(out).read_text())["program_settings"]
    assert (saved["attempts"], saved["infer_text_tokens"]) == (3, 900)  # the recipe's over the suite's
    assert ha.load_program(out).settings == ha.AuthorshipSettings(**saved)
    assert mlflow.get_run(result["mlflow_run_id"]).data.params["program.attempts"] == "3"


# --- LMs per role --------------------------------------------------------------------------------


def test_each_stage_runs_on_its_own_lm():
    reader = json_lm([{"hypotheses": sample_hypotheses(2), "attributes": sample_attributes()}])
    writer = responses_lm(["Cranes lifted the last freight of the year on Friday, the foreman said."])
    with dspy.context(lm=writer, adapter=dspy.JSONAdapter()):
        out = ha.HyPerAlign(lms=ha.LMConfig(infer=reader))(examples=TEXTS, prompt="Write about the harbor.")
    assert out.response.startswith("Cranes lifted")
    assert len(reader.history) == len(writer.history) == 1
    assert "dock foreman" in json.dumps(reader.history[0]["messages"])
    assert "dock foreman" not in json.dumps(writer.history[0]["messages"])


def test_lm_names_share_one_lm_per_name_and_fall_back_to_the_task_lm():
    config = ha.LMNames(generate="openai/a", judge={"name": "openai/a"}, infer="openai/b").build()
    assert config.judge is config.generate and config.infer is not config.generate
    assert config.of("reflection") is config.generate and config.of("infer").model == "openai/b"


def test_infer_lm_on_the_command_line(server, tmp_path, capsys):
    text = tmp_path / "mine.txt"
    text.write_text(TEXTS[0])
    argv = ["personalize", "--examples", str(text), "--prompt", "A", "--prompt", "B", "--lm", "openai/writer",
            "--api-base", server.base, "--infer-lm", "openai/reader", "--infer-api-base", server.base, "--json"]
    assert main(argv) == 0, capsys.readouterr().err
    assert [request["body"]["model"] for request in server.requests] == ["reader", "writer", "writer"]


def suite_with_lms(tmp_path, server, lms: str):
    path = write_suite(tmp_path, authors=3, systems=["hyperalign", "zero-shot"], baselines=["zero-shot"], seed=0)
    path.write_text(path.read_text() + lms.replace("BASE", server.base))
    return path


def test_a_suites_lms_table_names_the_roles_and_the_flags_come_first(server, tmp_path, capsys):
    path = suite_with_lms(tmp_path, server, '[lms]\ngenerate = { name = "openai/writer", api_base = "BASE" }\n'
                                            'judge = { name = "openai/judge", api_base = "BASE" }\n')
    assert main(["eval", str(path), "--limit", "3", "--json"]) == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert (report["task_lm"], report["judge_lm"]) == ("openai-compatible/writer", "openai-compatible/judge")
    assert {request["body"]["model"] for request in server.requests} == {"writer", "judge"}
    server.requests.clear()
    assert main(["eval", str(path), "--limit", "3", "--json", "--judge-lm", "openai/other", "--judge-api-base",
                 server.base]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["judge_lm"] == "openai-compatible/other"
    assert {request["body"]["model"] for request in server.requests} == {"other"}  # the answers came from the cache


@pytest.mark.parametrize(("lms", "fragment"), [
    ('[lms]\ngenerate = "gpt-nothing"\n', "unknown LM 'gpt-nothing'"),
    ('[lms]\ncritic = "openai/m"\n', "lms.critic"),
    ("[program]\nattempts = 0\n", "program.attempts"),
])
def test_bad_lms_or_program_tables_are_one_line_errors(lms, fragment, server, tmp_path, capsys):
    assert main(["eval", str(suite_with_lms(tmp_path, server, lms))]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("hyperalign: error: ") and fragment in error and "\n" not in error
    assert server.requests == []


def test_a_cross_model_variant_is_a_system_of_the_suite(server, tmp_path, capsys):
    path = write_suite(tmp_path, authors=3, systems=["hyperalign", "zero-shot"], baselines=["zero-shot"], seed=0)
    path.write_text(path.read_text().replace(
        'systems = ["hyperalign", "zero-shot"]', 'systems = ["hyperalign", "zero-shot", "reader-hypotheses", "other-answers"]')
        .replace('baseline = "zero-shot" }]', 'baseline = "zero-shot" }, { system = "reader-hypotheses", baseline = "hyperalign" }]')
        + '[variants.reader-hypotheses]\nsystem = "hyperalign"\ninfer = { name = "openai/reader", api_base = "BASE" }\n'
          '[variants.other-answers]\nsystem = "hyperalign"\ngenerate = { name = "openai/other", api_base = "BASE" }\n'
        .replace("BASE", server.base))
    argv = ["eval", str(path), "--limit", "3", "--lm", "openai/writer", "--api-base", server.base, "--json"]
    assert main(argv) == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert ("reader-hypotheses", "hyperalign", 3) in [(c["system"], c["baseline"], c["n"]) for c in report["comparisons"]]
    assert report["system_failures"] == {"hyperalign": 0, "zero-shot": 0, "reader-hypotheses": 0, "other-answers": 0}
    stage_one = [r["body"]["model"] for r in server.requests if "style_measurements" in json.dumps(r["body"])]
    answers = [r["body"]["model"] for r in server.requests
               if "[[ ## hypotheses ## ]]" in json.dumps(r["body"]) and "style_measurements" not in json.dumps(r["body"])]
    # Stage 1 once per author on the reader variant's own LM, and on the task LM for the other two
    # programs; answers on the task LM, but the other variant's on its own. (A call identical to an
    # earlier one, as the fake LM's answers make many, is answered from DSPy's cache.)
    assert stage_one.count("reader") == 3 and set(stage_one) == {"reader", "writer"}
    assert answers.count("other") == 3 and set(answers) == {"writer", "other"}
    params = mlflow.get_run(report["mlflow_run_id"]).data.params
    assert json.loads(params["variant.reader-hypotheses"])["infer"]["name"] == "openai/reader"
    assert {p["system"] for p in report["profiles"]} == {"hyperalign", "reader-hypotheses", "other-answers"}


def test_an_ablation_variant_tells_stage_two_only_its_notes(server, tmp_path, capsys):
    path = write_suite(tmp_path, authors=3, systems=["hyperalign", "zero-shot"], baselines=["zero-shot"], seed=0)
    path.write_text(path.read_text().replace(
        'systems = ["hyperalign", "zero-shot"]', 'systems = ["hyperalign", "zero-shot", "attributes-only"]')
        + '[variants.attributes-only]\nsystem = "hyperalign"\ngenerate = { name = "openai/ablated", api_base = "BASE" }\n'
          'program = { stage_two_notes = ["attributes"], fit_share = 0.0 }\n'.replace("BASE", server.base))
    argv = ["eval", str(path), "--limit", "3", "--lm", "openai/writer", "--api-base", server.base, "--json"]
    assert main(argv) == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert report["system_failures"]["attributes-only"] == 0
    stage_two = [(r["body"]["model"], r["body"]["messages"][-1]["content"]) for r in server.requests
                 if "[[ ## measured_habits ## ]]" in r["body"]["messages"][-1]["content"]]
    ablated = [user for model, user in stage_two if model == "ablated"]
    whole = [user for model, user in stage_two if model == "writer"]
    assert len(ablated) == 3 and len(whole) >= 3
    # The ablated variant is told the attributes only; the whole program all three notes.
    assert all("[[ ## hypotheses ## ]]\n[]" in user and "[[ ## measured_habits ## ]]\n[]" in user for user in ablated)
    assert all('"domain"' in user for user in ablated)
    assert not any("[[ ## hypotheses ## ]]\n[]" in user or "[[ ## measured_habits ## ]]\n[]" in user for user in whole)
    params = mlflow.get_run(report["mlflow_run_id"]).data.params
    assert json.loads(params["variant.attributes-only"])["program"]["stage_two_notes"] == ["attributes"]


def test_a_variant_of_an_unknown_system_is_refused(tmp_path):
    path = write_suite(tmp_path, authors=3, systems=["hyperalign", "zero-shot"], baselines=["zero-shot"], seed=0)
    path.write_text(path.read_text() + '[variants.mine]\nsystem = "oracle"\ninfer = "local-small"\n')
    with pytest.raises(ha.HyperAlignError, match="variant 'mine': unknown system 'oracle'"):
        ha.load_suite(path)


def test_a_profile_saved_from_one_lm_drives_another(server, tmp_path, capsys):
    text, saved = tmp_path / "mine.txt", tmp_path / "me.json"
    text.write_text(TEXTS[0])
    base = ["--api-base", server.base]
    assert main(["hypotheses", "--examples", str(text), "--out", str(saved), "--lm", "openai/reader", *base]) == 0
    assert main(["personalize", "--profile", str(saved), "--prompt", "A", "--lm", "openai/writer", *base]) == 0
    assert [request["body"]["model"] for request in server.requests] == ["reader", "writer"]
    claim = note_of(ha.UserProfile.load(saved).hypothesis_texts[0])  # stage 2 is told the claims
    assert claim in json.dumps(server.requests[1]["body"])


def test_a_served_model_is_asked_for_json_with_the_signatures_schema():
    # `openai/<name>` at an api_base is an OpenAI-compatible server (llama-server, vLLM), which
    # turns a JSON schema in `response_format` into a grammar: the schema is sent.
    with FakeOpenAI() as server:
        served = ha.lm("openai/writer", api_base=server.base, cache=False)
        assert served.model == "openai-compatible/writer"
        with dspy.context(lm=served, adapter=dspy.JSONAdapter()):
            dspy.Predict("question -> answer")(question="What is two and two?")
        response_format = server.requests[-1]["body"]["response_format"]
        assert response_format["type"] == "json_schema"
        assert response_format["json_schema"]["schema"]["properties"]["answer"]["type"] == "string"
        # The name a run records makes the same LM again.
        assert ha.lm(served.model, api_base=server.base).model == served.model
