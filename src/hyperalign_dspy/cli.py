"""`hyperalign`: a thin command line over the Python API."""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import logging
import os
import shutil
import signal
import sys
import textwrap
import time
from pathlib import Path

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.registry import DEFAULT_TASK, get_task, task_names

PROGRAM_OPTIONS = ("spec",)  # the flags a task's program may take (`Task.personalize_options`)


STARTED = time.monotonic()


def _progress(message: str) -> None:
    """A progress line on stderr, stamped with the time since the command began."""
    minutes, seconds = divmod(int(time.monotonic() - STARTED), 60)
    print(f"[hyperalign {minutes}:{seconds:02d}] {message}", file=sys.stderr, flush=True)


def _lm_names(args, suite_lms=None):
    """The LM of each role by name: the flags first, then the suite's `[lms]`; the task (generate)
    LM defaults to the embedded one, and a role without a name of its own uses the task LM (a
    `--judge-api-base` alone serves the task LM's name from that server)."""
    from hyperalign_dspy.lms.names import DEFAULT_LM
    from hyperalign_dspy.lms.roles import LMChoice, LMNames

    suite_lms = suite_lms or LMNames()

    def choice(name, api_base, fallback, default_name=None):
        if name:
            return LMChoice(name=name, api_base=api_base)
        if api_base:
            return LMChoice(name=fallback.name if fallback else default_name, api_base=api_base)
        return fallback

    generate = choice(args.lm, args.api_base, suite_lms.generate, DEFAULT_LM) or LMChoice(name=DEFAULT_LM)
    return LMNames(
        generate=generate,
        infer=choice(getattr(args, "infer_lm", None), getattr(args, "infer_api_base", None), suite_lms.infer, generate.name),
        judge=choice(getattr(args, "judge_lm", None), getattr(args, "judge_api_base", None), suite_lms.judge, generate.name),
        reflection=choice(getattr(args, "reflection_lm", None), None, suite_lms.reflection),
    )


def _configure(args):
    """Configure DSPy with the task LM; the LMs of the other roles, for the program."""
    import dspy

    from hyperalign_dspy.lms.names import adapter_for
    from hyperalign_dspy.lms.roles import LMConfig

    names = _lm_names(args)
    lms = names.build()
    args.lm_name = names.generate.name
    dspy.configure(lm=lms.generate, adapter=adapter_for(lms.generate))
    return LMConfig(infer=lms.infer if lms.infer is not lms.generate else None)


def _refuse_other_tasks_options(args, task) -> None:
    for option in ("profile", "program", *PROGRAM_OPTIONS):
        if getattr(args, option, None) and option not in task.personalize_options:
            owners = [name for name in task_names() if option in get_task(name).personalize_options]
            raise HyperAlignError(f"--{option} applies to the {' and '.join(owners)} task only")


def _program_options(args) -> dict:
    return {option: getattr(args, option) for option in PROGRAM_OPTIONS if getattr(args, option, None)}


def _changes(args) -> dict:
    """The command line's `--set NAME=VALUE` changes of the program's settings (name -> value)."""
    from hyperalign_dspy.core.settings import parse_assignments

    return parse_assignments(args.set)


def _setting_changes(args, settings):
    """`settings` with the command line's `--set` changes, checked; None if there are none."""
    changes = _changes(args)
    return settings.updated(changes) if changes else None


def cmd_hypotheses(args) -> None:
    from hyperalign_dspy.core.files import check_writable_folder
    from hyperalign_dspy.core.user_texts import read_user_texts

    if args.out and Path(args.out).is_dir():
        raise HyperAlignError(f"--out {args.out} is a folder; give a file name such as profile.json")
    if args.out:
        check_writable_folder(Path(args.out).parent, f"--out {args.out}")
    task = get_task(args.task)
    settings = _setting_changes(args, task.default_settings)
    lms = _configure(args)
    program = task.new_program(settings, lms=lms)
    texts = read_user_texts(args.examples)
    _progress(f"inferring hypotheses from {len(texts)} texts")
    profile = program.infer_profile(texts)
    if args.out:
        profile.save(args.out)
        _progress(f"saved the profile to {args.out}")
    print(profile.model_dump_json(indent=2) if args.json else profile.as_text())


def cmd_personalize(args) -> None:
    from hyperalign_dspy.core.user_texts import read_user_texts
    from hyperalign_dspy.program_files import load_program_for

    if not args.prompt or any(not prompt.strip() for prompt in args.prompt):
        raise HyperAlignError("give at least one non-empty --prompt")
    task = get_task(args.task)
    _refuse_other_tasks_options(args, task)
    changes = _changes(args)  # over a compiled program's own settings, else over the task's defaults
    settings = task.default_settings.updated(changes) if changes and not args.program else None
    lms = _configure(args)
    if args.program:
        program = load_program_for(task, args.program, _program_options(args), lms=lms, changes=changes)
    else:
        program = task.new_program(settings, lms=lms, options=_program_options(args))
    texts = read_user_texts(args.examples) if args.examples else None
    result = task.personalize(program, args.prompt, texts, args.profile, _progress)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else task.personalized_text(result))


def _side_by_side(left_title: str, left: str, right_title: str, right: str) -> str:
    width = max(40, (shutil.get_terminal_size((160, 40)).columns - 3) // 2)

    def column(title, text):
        lines = [title, "-" * len(title)]
        for paragraph in text.splitlines():
            lines.extend(textwrap.wrap(paragraph, width) or [""])
        return lines

    rows = itertools.zip_longest(column(left_title, left), column(right_title, right), fillvalue="")
    return "\n".join(f"{a:<{width}} | {b}" for a, b in rows)


def cmd_demo(args) -> None:
    from hyperalign_dspy.tasks.authorship.demo import run_demo
    from hyperalign_dspy.tasks.authorship.checks.output_fit import fit_summary
    from hyperalign_dspy.tasks.authorship.program import HyPerAlign

    settings = _setting_changes(args, HyPerAlign.default_settings)
    lms = _configure(args)
    started = time.perf_counter()
    result = run_demo(author=args.author, progress=_progress, program=HyPerAlign(settings, lms=lms))
    print(f"Author: {result.author} (profile from {len(result.profile.source_ids)} texts)\n")
    print(result.profile.as_text())
    for item in result.items:
        print(f"\nPrompt: {item.prompt}\n")
        print(_side_by_side("HyPerAlign's response", item.response, f"{result.author}'s real text", item.reference))
        if item.fit is not None:
            print(f"\nThe response {fit_summary(item.fit.as_json())}.")
    print(f"\ncost: profile {result.profile_cost.as_text()}")
    for number, item in enumerate(result.items, start=1):
        print(f"      response {number} {item.cost.as_text()}")
    print(f"wall time: {time.perf_counter() - started:.0f} s on LM '{args.lm_name}'")


def _run_lms(args, suite):
    """The LMs of an eval or compile run, and the task and judge LMs' adapters."""
    from hyperalign_dspy.lms.names import adapter_for

    lms = _lm_names(args, suite.lms).build()
    return lms, adapter_for(lms.generate), adapter_for(lms.judge)


def cmd_eval(args) -> None:
    from hyperalign_dspy.evaluation.harness import evaluate
    from hyperalign_dspy.evaluation.suite import load_suite

    suite = load_suite(args.suite)
    settings = _setting_changes(args, suite.settings)
    lms, adapter, judge_adapter = _run_lms(args, suite)
    # DSPy's progress bars and MLflow's notices write to stdout, which belongs to the result.
    with contextlib.redirect_stdout(sys.stderr):
        report = evaluate(
            suite, lms=lms, adapter=adapter, judge_adapter=judge_adapter, judge_kind=args.judge_kind,
            settings=settings, program_path=args.program, limit=args.limit, threads=args.threads,
            experiment=args.experiment, traces=args.traces, progress=_progress,
        )
    print(report.model_dump_json(indent=2) if args.json else report.table())


def cmd_compile(args) -> None:
    from hyperalign_dspy.evaluation.suite import load_suite
    from hyperalign_dspy.judges.pairwise import share_text
    from hyperalign_dspy.optimize.compiler import compile_program
    from hyperalign_dspy.optimize.recipe import load_recipe

    recipe = load_recipe(args.optimizer)
    suite = load_suite(args.suite)
    changes = _changes(args)
    if changes:  # over the recipe's [program] table, checked against the task's settings first
        suite.task_type.default_settings.updated(changes)
        recipe = recipe.model_copy(update={"program": {**recipe.program, **changes}})
    lms, adapter, judge_adapter = _run_lms(args, suite)
    with contextlib.redirect_stdout(sys.stderr):
        result = compile_program(
            recipe, suite, args.out, lms=lms, adapter=adapter, judge_adapter=judge_adapter, limit=args.limit,
            threads=args.threads, force=args.force, experiment=args.experiment, progress=_progress,
        )
    if args.json:
        print(result.model_dump_json(indent=2))
        return
    print(f"Compiled {result.recipe} -> {result.program_path} (metadata beside it)")
    print(f"training: {', '.join(result.train)}\nvalidation: {', '.join(result.validation)}")
    print(f"judge calibration on the training side: accuracy {share_text(result.judge_accuracy)} "
          f"[{share_text(result.judge_ci_low)}, {share_text(result.judge_ci_high)}]; metric failures {result.metric_failures}\n")
    print(result.validation_report.table())
    print(f"\ncompile: {result.lm_calls} LM calls, {result.wall_seconds / 60:.1f} min; MLflow run {result.mlflow_run_id}")
    print(f"servable model: {result.model_uri} (registered as {result.registered_model}, version "
          f"{result.registered_version}); serve it with\n  mlflow models serve -m {result.model_uri} --env-manager local")


def cmd_compare(args) -> None:
    from hyperalign_dspy.judges.pairwise import share_text
    from hyperalign_dspy.optimize.comparison import check_chart_path, compare_chart, compare_runs

    check_chart_path(args.chart)
    summaries = compare_runs(args.experiment)
    chart = compare_chart(summaries, args.chart, args.experiment) if summaries else None
    if args.json:
        print(json.dumps({"runs": [s.model_dump() for s in summaries], "chart": str(chart) if chart else None}, indent=2))
        return
    if not summaries:
        print(f"no finished compile runs in experiment {args.experiment}")
        return
    print(f"{'recipe':<26} {'LM':<28} {'vs uncompiled':>13}  {'95% CI':<14} {'vs baselines':<28} {'calls':>6} {'min':>6}")
    for s in summaries:
        baselines = ", ".join(f"{name} {value:.2f}" for name, value in sorted(s.vs_baseline.items())) or "n/a"
        print(f"{s.recipe:<26} {s.lm:<28} {share_text(s.vs_uncompiled):>13}  "
              f"[{share_text(s.vs_uncompiled_ci_low)}, {share_text(s.vs_uncompiled_ci_high)}] {baselines:<28} "
              f"{s.lm_calls if s.lm_calls is not None else 'n/a':>6} {s.minutes if s.minutes is None else round(s.minutes, 1)!s:>6}")
    print(f"\nchart: {chart}")


def cmd_serve(args) -> None:
    from hyperalign_dspy.lms.llama_server import LlamaServer, ServeSettings

    given = {"model": args.model, "slots": args.slots, "threads": args.threads, "port": args.port}
    settings = ServeSettings(**{name: value for name, value in given.items() if value is not None})
    server = LlamaServer(settings, log_path=Path(args.log) if args.log else None)

    _run_until_stopped(
        server, f"starting llama-server with '{settings.model}' ({settings.slots} slots, {settings.threads} threads)",
        f"serving '{settings.model}' at {settings.base_url} with {settings.slots} parallel slots "
        f"(log: {server.log_path}); use it with\n  --lm {settings.lm_name} --api-base {settings.base_url} "
        f"--threads {settings.slots}", "llama-server")


def cmd_tracking_server(args) -> None:
    from hyperalign_dspy.tracking.server import TrackingServer, TrackingServerSettings

    settings = TrackingServerSettings(folder=Path(args.folder), port=args.port, host=args.host,
                                      postgres_port=args.postgres_port, workers=args.workers)
    server = TrackingServer(settings)
    _run_until_stopped(
        server, f"starting PostgreSQL (port {settings.postgres_port}) and the MLflow tracking server in {server.folder}",
        f"MLflow tracking server at {settings.uri} (its UI too), runs in PostgreSQL, artifacts in "
        f"{server.folder / 'artifacts'} (log: {server.log_path}); send runs there with\n"
        f"  export MLFLOW_TRACKING_URI={settings.uri}", "the tracking server and PostgreSQL")


def _run_until_stopped(server, starting: str, serving: str, what: str) -> None:
    """Start `server`, say how to use it, and keep it until Ctrl-C or SIGTERM (`kill`, a service
    manager), stopping it with this process; a server that stops by itself is an error."""

    def stop_on_terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_terminate)
    _progress(starting)
    try:
        server.start()
        print(f"{serving}\nCtrl-C stops it.", flush=True)
        server.process.wait()
        raise HyperAlignError(f"{what} stopped with exit code {server.process.returncode}: {server.last_log_line()} "
                              f"(log: {server.log_path})")
    except KeyboardInterrupt:
        _progress(f"stopping {what}")
    finally:
        server.stop()


def _lm_options(parser: argparse.ArgumentParser, judge: bool = False) -> None:
    parser.add_argument("--lm", help="the task LM, which writes the answers: local (default), local-small, or a "
                                     "DSPy/LiteLLM model such as openai/gpt-4o-mini")
    parser.add_argument("--api-base", help="base URL of the task LM's OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--infer-lm", help="the LM that infers the hypotheses (stage 1; default: the task LM)")
    parser.add_argument("--infer-api-base", help="base URL of the infer LM's OpenAI-compatible server")
    if judge:
        parser.add_argument("--judge-lm", help="the judge's LM (default: the task LM)")
        parser.add_argument("--judge-api-base", help="base URL of the judge's OpenAI-compatible server")


def _settings_option(parser: argparse.ArgumentParser, over: str) -> None:
    parser.add_argument("--set", action="append", metavar="NAME=VALUE",
                        help=f"a program setting over {over}, e.g. --set attempts=1 (docs/settings.md); repeat for several")


def _task_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", choices=task_names(), default=DEFAULT_TASK,
                        help="; ".join(f"{name}: {get_task(name).description}" for name in task_names()))


class _Parser(argparse.ArgumentParser):
    """A usage error is one line (`hyperalign: error: <command>: ...`) and exit 2, as all bad input
    is; `--help` still shows the usage."""

    def error(self, message: str):
        command = self.prog.partition(" ")[2]
        self.exit(2, f"hyperalign: error: {command + ': ' if command else ''}{message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hyperalign", description="Personalize LLM output from a few of a user's texts.")
    commands = parser.add_subparsers(dest="command", required=True)

    personalize = commands.add_parser("personalize", help="infer the user's hypotheses, then answer prompts as them")
    personalize.add_argument("--examples", nargs="+", metavar="PATH",
                             help=".txt files (one text each), folders of them, or .jsonl files with a 'text' field")
    personalize.add_argument("--prompt", action="append", help="a prompt to answer; repeat for several")
    personalize.add_argument("--profile", help="a saved profile JSON to use instead of --examples")
    personalize.add_argument("--program", help="a compiled program file")
    personalize.add_argument("--json", action="store_true", help="print one JSON object")
    _task_option(personalize)
    personalize.add_argument("--spec", help="deliberative: a safety specification in Markdown (default: the packaged one)")
    _lm_options(personalize)
    _settings_option(personalize, "the task's defaults (or the --program's own)")
    personalize.set_defaults(handler=cmd_personalize)

    hypotheses = commands.add_parser("hypotheses", help="infer and print (or save) the user's profile")
    hypotheses.add_argument("--examples", nargs="+", metavar="PATH", required=True,
                            help=".txt files, folders of them, or .jsonl files with a 'text' field")
    hypotheses.add_argument("--out", help="save the profile as JSON here")
    hypotheses.add_argument("--json", action="store_true", help="print the profile as JSON")
    _task_option(hypotheses)
    _lm_options(hypotheses)
    _settings_option(hypotheses, "the task's defaults")
    hypotheses.set_defaults(handler=cmd_hypotheses)

    demo = commands.add_parser("demo", help="personalize two prompts for one dev author, beside their real texts")
    demo.add_argument("--author", help="a dev author's name (default: the first)")
    _lm_options(demo)
    _settings_option(demo, "the program's defaults")
    demo.set_defaults(handler=cmd_demo)

    evaluation = commands.add_parser("eval", help="evaluate systems on a suite with a calibrated judge; one MLflow run")
    evaluation.add_argument("suite", help="a suite TOML file, e.g. evals/authorship-dev.toml")
    evaluation.add_argument("--program", help="a compiled program: evaluated as 'hyperalign' against the uncompiled one too")
    evaluation.add_argument("--judge-kind", choices=["auto", "likelihood", "verdict"],
                            help="likelihood (default on the embedded LMs) or verdict (default elsewhere)")
    evaluation.add_argument("--limit", type=int, help="evaluate the first N prompts (authors interleaved)")
    evaluation.add_argument("--threads", type=int, help="parallel LM calls (default 8; 1 on the embedded LMs)")
    evaluation.add_argument("--experiment", default="hyperalign", help="MLflow experiment (default: hyperalign)")
    evaluation.add_argument("--traces", action="store_true",
                            help="log an MLflow trace of every DSPy call (about 11 ms of CPU per LM call)")
    evaluation.add_argument("--json", action="store_true", help="print the report as one JSON object")
    _settings_option(evaluation, "the suite's [program] table (a --program keeps its own)")
    _lm_options(evaluation, judge=True)
    evaluation.set_defaults(handler=cmd_eval)

    compiling = commands.add_parser("compile", help="tune the program with an optimizer recipe against the judge")
    compiling.add_argument("--optimizer", required=True, help="a recipe, e.g. optimizers/bootstrap-fewshot.toml")
    compiling.add_argument("--suite", required=True, help="a suite TOML whose authors are split into training and validation")
    compiling.add_argument("--out", required=True, help="where to write the program, e.g. programs/NAME.json")
    compiling.add_argument("--reflection-lm", help="the optimizer's reflection LM (GEPA), in the recipe's place")
    compiling.add_argument("--limit", type=int, help="at most N training prompts and N validation prompts")
    compiling.add_argument("--threads", type=int, help="parallel LM calls (default 8; 1 on the embedded LMs)")
    compiling.add_argument("--force", action="store_true", help="compile even if the judge fails calibration")
    compiling.add_argument("--experiment", default="hyperalign", help="MLflow experiment (default: hyperalign)")
    compiling.add_argument("--json", action="store_true", help="print the result as one JSON object")
    _settings_option(compiling, "the recipe's [program] table")
    _lm_options(compiling, judge=True)
    compiling.set_defaults(handler=cmd_compile)

    compare = commands.add_parser("compare", help="list the compile runs of an MLflow experiment, best first")
    compare.add_argument("--experiment", default="hyperalign", help="MLflow experiment (default: hyperalign)")
    compare.add_argument("--chart", default="compare.png", help="where to write the chart (default: compare.png)")
    compare.add_argument("--json", action="store_true", help="print the runs as JSON")
    compare.set_defaults(handler=cmd_compare)

    serve = commands.add_parser("serve", help="serve an embedded model with llama.cpp's own server (parallel slots) "
                                              "on loopback; build it first with `make llama-server`")
    serve.add_argument("--model", default="local", help="the embedded model to serve: local (default) or local-small")
    serve.add_argument("--slots", type=int, default=4, help="requests decoded together (default 4)")
    serve.add_argument("--threads", type=int, help="CPU threads (default: the cores this process may use)")
    serve.add_argument("--port", type=int, default=8080, help="loopback port (default 8080)")
    serve.add_argument("--log", help="write the server's log here (default: a temporary file)")
    serve.set_defaults(handler=cmd_serve)

    tracking = commands.add_parser("tracking-server", help="run MLflow's tracking server (and its UI) on a "
                                                           "PostgreSQL store of its own, until Ctrl-C")
    tracking.add_argument("--folder", default="mlflow-server",
                          help="where PostgreSQL's data, the artifacts and the logs live (default: mlflow-server)")
    tracking.add_argument("--port", type=int, default=5000, help="the server's port (default 5000)")
    tracking.add_argument("--host", default="127.0.0.1", help="the interface to listen on (default: loopback only)")
    tracking.add_argument("--postgres-port", type=int, default=5433, help="PostgreSQL's loopback port (default 5433)")
    tracking.add_argument("--workers", type=int, default=2, help="the server's worker processes (default 2)")
    tracking.set_defaults(handler=cmd_tracking_server)
    return parser


class ShortLogLines(logging.Filter):
    """Cuts the middle out of a long log line: DSPy's teleprompters log a failed example whole,
    every text of the person with it, which in a log file is pages per line."""

    limit = 600

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if len(message) > self.limit:
            cut = len(message) - 560  # what is left stays under the limit: a second filter keeps it
            record.msg, record.args = f"{message[:360]} [... {cut:,} characters cut ...] {message[-200:]}", ()
        return True


def _no_bars_off_a_terminal() -> None:
    """Off a terminal (a log, CI), tqdm's bars, which DSPy's teleprompters draw, are carriage-return
    noise, and the progress line after one was glued onto it: they are switched off as
    `TQDM_DISABLE=1` would have done, had it been set before tqdm was imported (tqdm reads it then)."""
    import tqdm

    if sys.stderr.isatty() or getattr(tqdm.tqdm, "_hyperalign_quiet", False):
        return
    tqdm.tqdm.__init__ = functools.partialmethod(tqdm.tqdm.__init__, disable=True)
    tqdm.tqdm._hyperalign_quiet = True


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _no_bars_off_a_terminal()
    logging.basicConfig(level=logging.WARNING, format="[hyperalign] warning: %(message)s")
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # its store set-up notices are not news
    for handler in logging.getLogger("dspy").handlers:  # DSPy's loggers write through their own handler
        if not any(isinstance(existing, ShortLogLines) for existing in handler.filters):
            handler.addFilter(ShortLogLines())
    try:
        args.handler(args)
    except HyperAlignError as exc:
        print(f"hyperalign: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hyperalign: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an LM or runtime failure, after DSPy's retries
        if os.environ.get("HYPERALIGN_DEBUG"):
            raise
        message = " ".join(str(exc).split())[:300]
        print(f"hyperalign: failed: {type(exc).__name__}: {message} (HYPERALIGN_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
