"""Progress off a terminal: a line per stage and per tenth of its items, done/total, on stderr."""

from __future__ import annotations

import re
import threading

from helpers import BOOTSTRAP

from hyperalign_dspy.cli import main
from hyperalign_dspy.evaluation.progress import StageProgress

STAMP = re.compile(r"^\[hyperalign \d+:\d\d\] ")


def test_a_line_per_tenth_from_many_threads():
    lines = []
    counter = StageProgress(lines.append, "judging", 95, quiet=False)
    workers = [threading.Thread(target=lambda: [counter.tick() for _ in range(19)]) for _ in range(5)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(lines) == 10 and lines[-1] == "judging: 95/95 done (100%)"
    done = [int(re.search(r"(\d+)/95", line).group(1)) for line in lines]
    assert done == sorted(done) and [d * 10 // 95 for d in done] == list(range(1, 11))


def test_small_stages_report_every_item_and_open_ended_ones_every_few():
    lines = []
    counted = StageProgress(lines.append, "profiles", 3, quiet=False).counted(lambda x: 1 / x)
    assert counted(2) == 0.5
    try:
        counted(0)  # a failed item is done too
    except ZeroDivisionError:
        pass
    assert lines == ["profiles: 1/3 done (33%)", "profiles: 2/3 done (66%)"]
    open_ended = StageProgress(lines.append, "compiling", every=4, unit="outputs scored", quiet=False)
    for _ in range(9):
        open_ended.tick()
    assert lines[2:] == ["compiling: 4 outputs scored", "compiling: 8 outputs scored"]


def test_quiet_on_a_terminal():
    lines = []
    counter = StageProgress(lines.append, "judging", 2, quiet=True)
    counter.tick()
    counter.tick()
    assert lines == []


def test_compile_off_a_terminal_reports_each_stage_and_its_items(compiled):
    run = compiled(BOOTSTRAP)  # `compile --limit 2` on the six-author suite, its stderr no terminal
    assert run.code == 0, run.err
    lines = [line for line in run.err.splitlines() if STAMP.match(line)]
    assert lines and not STAMP.search(run.out)
    messages = [STAMP.sub("", line) for line in lines]
    stages = ["calibrating the", "compiling with BootstrapFewShot on 2 training prompts",
              "validating on 2 held-out authors", "inferring ", "writing ", "judging 2 prompts"]
    positions = [next(i for i, message in enumerate(messages) if message.startswith(stage)) for stage in stages]
    assert positions == sorted(positions), messages
    assert "calibrating: 1/2 done (50%)" in messages and "calibrating: 2/2 done (100%)" in messages
    assert "judging: 2/2 done (100%)" in messages
    assert any(re.fullmatch(r"compiling: \d+ outputs scored", message) for message in messages), messages
    assert any(re.fullmatch(r"answers from profiles: \d+/\d+ done \(100%\)", message) for message in messages)


def test_a_teleprompters_long_log_line_is_cut(capsys):
    import logging

    import dspy  # noqa: F401  (DSPy's loggers have their handler once it is imported)

    assert main(["compare", "--experiment", "nothing-here"]) == 2  # any command installs the filter
    capsys.readouterr()
    logging.getLogger("dspy.teleprompt.bootstrap").error("Failed to run example %s", "text " * 2000)
    line = capsys.readouterr().err.strip()
    assert "Failed to run example text text" in line and "[... 9,462 characters cut ...]" in line
    assert len(line) < 800 and "\n" not in line
