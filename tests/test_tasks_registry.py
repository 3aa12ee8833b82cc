"""Tasks are plug-ins: a task registered from outside the package runs through the suites, the
evaluation harness and the command line without a change anywhere else; unknown tasks and
systems are refused with one line."""

from __future__ import annotations

import json

import pytest
from word_authors import write_suite

import hyperalign_dspy as ha
from hyperalign_dspy import registry
from hyperalign_dspy.cli import main
from hyperalign_dspy.tasks.authorship.task import AuthorshipTask


class HeadlinesTask(AuthorshipTask):
    """A third task: authorship's method and judging, its own name and a smaller set of systems."""

    name = "headlines"
    description = "write headlines as the user would"
    systems = {"hyperalign": ha.HyPerAlign, "zero-shot": ha.ZeroShot}


@pytest.fixture
def headlines(monkeypatch):
    monkeypatch.setitem(registry._REGISTERED, "headlines", HeadlinesTask())
    return registry.get_task("headlines")


def headlines_suite(tmp_path, systems: list[str]):
    path = write_suite(tmp_path, authors=3, systems=systems, baselines=["zero-shot"], seed=0)
    path.write_text(path.read_text().replace('task = "authorship"', 'task = "headlines"'))
    return path


def test_a_registered_task_is_evaluated_by_name(headlines, server, tmp_path):
    suite = ha.load_suite(headlines_suite(tmp_path, ["hyperalign", "zero-shot"]))
    assert suite.task == "headlines"
    report = ha.evaluate(suite, lm=ha.lm("openai/test-model", api_base=server.base), limit=3)
    assert report.task == "headlines" and report.examples == 3
    assert [(c.system, c.baseline, c.n) for c in report.comparisons] == [("hyperalign", "zero-shot", 3)]
    assert set(report.attribution) == {"hyperalign", "zero-shot", "reference"}  # its report type: authorship's


def test_a_registered_task_is_a_choice_of_the_command_line(headlines, server, tmp_path, capsys):
    text = tmp_path / "mine.txt"
    text.write_text("Harbor cranes lift freight at dawn. The tide turns and the pier wakes.")
    argv = ["personalize", "--task", "headlines", "--examples", str(text), "--prompt", "Dock strike",
            "--lm", "openai/test-model", "--api-base", server.base, "--json"]
    assert main(argv) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["responses"][0]["response"].startswith("Personalized answer to Dock strike")


def test_a_suite_may_name_only_its_tasks_systems(headlines, tmp_path):
    with pytest.raises(ha.HyperAlignError, match="unknown system 'few-shot' for the headlines task"):
        ha.load_suite(headlines_suite(tmp_path, ["hyperalign", "zero-shot", "few-shot"]))


def test_an_unknown_task_is_refused(tmp_path, capsys):
    path = write_suite(tmp_path, authors=3, systems=["hyperalign", "zero-shot"], baselines=["zero-shot"], seed=0)
    path.write_text(path.read_text().replace('task = "authorship"', 'task = "poetry"'))
    with pytest.raises(ha.HyperAlignError, match="unknown task 'poetry'; known: authorship, deliberative"):
        ha.load_suite(path)
    assert main(["eval", str(path), "--lm", "openai/test-model"]) == 2
    assert "unknown task 'poetry'" in capsys.readouterr().err
    with pytest.raises(ha.HyperAlignError, match="unknown task 'poetry'"):
        ha.get_task("poetry")
