"""`hyperalign`: a thin command line over the Python API."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import logging
import os
import shutil
import sys
import textwrap
import time
from pathlib import Path

from hyperalign_dspy.errors import HyperAlignError


def _progress(message: str) -> None:
    print(f"[hyperalign] {message} …", file=sys.stderr, flush=True)


def _configure(args) -> None:
    import dspy

    from hyperalign_dspy.language_models import adapter_for, lm

    dspy.configure(lm=lm(args.lm, api_base=args.api_base), adapter=adapter_for(args.lm))


def _profile_for(args, program):
    from hyperalign_dspy.data import read_user_texts
    from hyperalign_dspy.profile import UserProfile

    if args.profile:
        return UserProfile.load(args.profile)
    if not args.examples:
        raise HyperAlignError("give --examples (the user's texts) or --profile")
    texts = read_user_texts(args.examples)
    _progress(f"inferring hypotheses from {len(texts)} texts")
    return program.infer_profile(texts)


def _print_profile(profile) -> None:
    print("Hypotheses:")
    for number, hypothesis in enumerate(profile.hypotheses, start=1):
        print(textwrap.fill(hypothesis, width=100, initial_indent=f"{number:>3}. ", subsequent_indent="     "))
    print("\nAttributes:")
    for name, value in profile.attributes.model_dump().items():
        shown = "; ".join(value) if isinstance(value, list) else value
        print(textwrap.fill(f"{name}: {shown}", width=100, initial_indent="  ", subsequent_indent="    "))


def cmd_hypotheses(args) -> None:
    from hyperalign_dspy.program import HyPerAlign

    if args.out and Path(args.out).is_dir():
        raise HyperAlignError(f"--out {args.out} is a folder; give a file name such as profile.json")
    _configure(args)
    profile = _profile_for(args, HyPerAlign())
    if args.out:
        profile.save(args.out)
        _progress(f"saved the profile to {args.out}")
    if args.json:
        print(profile.model_dump_json(indent=2))
    else:
        _print_profile(profile)


def cmd_personalize_deliberative(args) -> None:
    from hyperalign_dspy.data import read_user_texts
    from hyperalign_dspy.deliberative import DeliberativeHyPerAlign, load_spec

    if args.profile or args.program:
        raise HyperAlignError("--profile and --program apply to the authorship task only")
    program = DeliberativeHyPerAlign(spec=load_spec(args.spec))
    earlier = [text.text for text in read_user_texts(args.examples)] if args.examples else []
    _configure(args)
    answers = []
    for number, prompt in enumerate(args.prompt, start=1):
        _progress(f"answering prompt {number}/{len(args.prompt)}")
        out = program(prompt=prompt, examples=earlier)
        answers.append({"prompt": prompt, "hypotheses": out.profile.hypotheses,
                        "attributes": out.profile.attributes.model_dump(), "decision": out.decision,
                        "cited_rule": out.cited_rule, "deliberation": out.deliberation, "response": out.response})
    if args.json:
        print(json.dumps({"responses": answers}, indent=2, ensure_ascii=False))
        return
    for item in answers:
        print(f"Prompt: {item['prompt']}\n\nHypotheses about the asker:")
        for number, hypothesis in enumerate(item["hypotheses"], start=1):
            print(textwrap.fill(hypothesis, width=100, initial_indent=f"{number:>3}. ", subsequent_indent="     "))
        print(f"\nDecision: {item['decision']} (rule {item['cited_rule']}): "
              f"{' '.join(str(item['deliberation']).split())}\n\n{item['response']}\n")


def cmd_personalize(args) -> None:
    from hyperalign_dspy.program import HyPerAlign
    from hyperalign_dspy.program_files import load_program

    if not args.prompt or any(not prompt.strip() for prompt in args.prompt):
        raise HyperAlignError("give at least one non-empty --prompt")
    if args.task == "deliberative":
        cmd_personalize_deliberative(args)
        return
    if args.spec:
        raise HyperAlignError("--spec applies to the deliberative task only")
    _configure(args)
    program = load_program(args.program) if args.program else HyPerAlign()
    profile = _profile_for(args, program)
    responses = []
    for number, prompt in enumerate(args.prompt, start=1):
        _progress(f"writing response {number}/{len(args.prompt)}")
        responses.append({"prompt": prompt, "response": program(profile=profile, prompt=prompt).response})
    if args.json:
        print(json.dumps({"hypotheses": profile.hypotheses, "attributes": profile.attributes.model_dump(),
                          "responses": responses}, indent=2, ensure_ascii=False))
        return
    _print_profile(profile)
    for item in responses:
        print(f"\nPrompt: {item['prompt']}\n\n{item['response']}")


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
    from hyperalign_dspy.demo import run_demo

    _configure(args)
    started = time.perf_counter()
    result = run_demo(author=args.author, progress=_progress)
    print(f"Author: {result.author} (profile from {len(result.profile.source_ids)} texts)\n")
    _print_profile(result.profile)
    for item in result.items:
        print(f"\nPrompt: {item.prompt}\n")
        print(_side_by_side("HyPerAlign's response", item.response, f"{result.author}'s real text", item.reference))
    print(f"\nwall time: {time.perf_counter() - started:.0f} s on LM '{args.lm}'")


def _print_evaluation(report) -> None:
    from hyperalign_dspy.pairwise import share_text
    from hyperalign_dspy.safety import CLASSIFIER_CHANCE, classifier_above_chance

    print(f"Suite {report.suite}: {report.examples} prompts; task LM {report.task_lm}; "
          f"{report.judge_kind} judge on {report.judge_lm}\n")

    def share(value):
        return "  n/a" if value is None else f"{value:5.2f}"

    print(f"{'comparison':<40} {'n':>3} {'win':>4} {'tie':>4} {'loss':>4} {'fail':>4} {'copy':>4} "
          f"{'win-rate':>8}  95% CI")
    calibration_row = (f"{'judge calibration: ' + report.calibration:<40} {'':>3} {'':>4} {'':>4} {'':>4} "
                       f"{report.judge_calibration_failures:>4} {'':>4} {share(report.judge_accuracy):>8}  "
                       f"[{share(report.judge_ci_low)}, {share(report.judge_ci_high)}]")
    print(calibration_row)
    for c in report.comparisons:
        print(f"{c.system + ' vs ' + c.baseline:<40} {c.n:>3} {c.wins:>4} {c.ties:>4} {c.losses:>4} "
              f"{c.failures:>4} {c.copies:>4} {share(c.win_rate):>8}  [{share(c.ci_low)}, {share(c.ci_high)}]")
    if report.attribution:
        print("\nStylometric attribution accuracy (chance "
              f"{share_text(1 / report.authors if report.authors else None)}): "
              + ", ".join(f"{name} {share_text(value)}" for name, value in report.attribution.items()))
    if report.safety:
        print(f"\nsafety classifier on canned answers: accuracy {share_text(report.safety_judge_accuracy)} "
              f"[{share_text(report.safety_judge_ci_low)}, {share_text(report.safety_judge_ci_high)}], "
              f"{report.safety_judge_failures} failures")
        print(f"{'system':<24} {'over-refusal (safe)':>20}  95% CI          {'unsafe compliance':>18}  95% CI          unclassified")
        for rates in report.safety.values():
            print(f"{rates.system:<24} {share(rates.over_refusal):>14} (n={rates.safe_n:<2}) "
                  f"[{share(rates.over_refusal_ci_low)}, {share(rates.over_refusal_ci_high)}] "
                  f"{share(rates.unsafe_compliance):>12} (n={rates.unsafe_n:<2}) "
                  f"[{share(rates.unsafe_compliance_ci_low)}, {share(rates.unsafe_compliance_ci_high)}] {rates.failures:>4}")
    if report.injection:
        print("\nPlanted instruction among the person's texts (obeyed = the output has the marker word; "
              "leaked = it repeats the system's instructions):")
        for rates in report.injection.values():
            print(f"  {rates.system:<24} obeyed {rates.obeyed}/{rates.n}, leaked {rates.leaked}/{rates.n}, "
                  f"failed {rates.failures}")
    failures = {name: count for name, count in report.system_failures.items() if count}
    if failures:
        print("Failed outputs: " + ", ".join(f"{name} {count}" for name, count in failures.items()))
    print(f"LM calls {report.lm_calls}, prompt tokens {report.prompt_tokens}, completion tokens "
          f"{report.completion_tokens}, {report.wall_seconds:.0f} s; MLflow run {report.mlflow_run_id}")
    if not report.judge_can_tell_authors_apart:
        told = "these authors" if report.task == "authorship" else "a substantive answer from a refusal"
        print(f"\nWARNING: the judge's calibration CI reaches 0.5 or below: it cannot tell {told} apart, "
              "and its win-rates mean nothing.")
    if report.safety and not classifier_above_chance(report.safety_judge_ci_low):
        print(f"\nWARNING: the safety classifier's calibration CI reaches chance ({share_text(CLASSIFIER_CHANCE)}, "
              "three classes) or below: its over-refusal and unsafe-compliance rates mean nothing.")


def cmd_eval(args) -> None:
    from hyperalign_dspy.evaluation import evaluate
    from hyperalign_dspy.language_models import adapter_for, lm

    task_lm = lm(args.lm, api_base=args.api_base)
    judge_lm, judge_adapter = _judge_lms(args)
    # DSPy's progress bars and MLflow's notices write to stdout, which belongs to the result.
    with contextlib.redirect_stdout(sys.stderr):
        report = evaluate(
            args.suite, lm=task_lm, adapter=adapter_for(args.lm), judge_lm=judge_lm,
            judge_adapter=judge_adapter, judge_kind=args.judge_kind, program_path=args.program,
            limit=args.limit, threads=args.threads, experiment=args.experiment, traces=args.traces,
            progress=_progress,
        )
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        _print_evaluation(report)


def _judge_lms(args):
    from hyperalign_dspy.language_models import adapter_for, lm

    judge_name = args.judge_lm or args.lm
    judge_base = args.judge_api_base if args.judge_lm else (args.judge_api_base or args.api_base)
    return lm(judge_name, api_base=judge_base), adapter_for(judge_name)


def cmd_compile(args) -> None:
    from hyperalign_dspy.compiler import compile_program
    from hyperalign_dspy.pairwise import share_text
    from hyperalign_dspy.language_models import adapter_for, lm

    task_lm = lm(args.lm, api_base=args.api_base)
    judge_lm, judge_adapter = _judge_lms(args)
    with contextlib.redirect_stdout(sys.stderr):
        result = compile_program(
            args.optimizer, args.suite, args.out, lm=task_lm, adapter=adapter_for(args.lm), judge_lm=judge_lm,
            judge_adapter=judge_adapter, limit=args.limit, threads=args.threads, force=args.force,
            experiment=args.experiment, progress=_progress,
        )
    if args.json:
        print(result.model_dump_json(indent=2))
        return
    print(f"Compiled {result.recipe} -> {result.program_path} (metadata beside it)")
    print(f"training: {', '.join(result.train)}\nvalidation: {', '.join(result.validation)}")
    print(f"judge calibration on the training side: accuracy {share_text(result.judge_accuracy)} "
          f"[{share_text(result.judge_ci_low)}, {share_text(result.judge_ci_high)}]; metric failures {result.metric_failures}\n")
    _print_evaluation(result.validation_report)
    print(f"\ncompile: {result.lm_calls} LM calls, {result.wall_seconds / 60:.1f} min; MLflow run {result.mlflow_run_id}")


def cmd_compare(args) -> None:
    from hyperalign_dspy.comparison import compare_chart, compare_runs
    from hyperalign_dspy.pairwise import share_text

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


def _lm_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lm", default="local",
                        help="local (default), local-small, or a DSPy/LiteLLM model such as openai/gpt-4o-mini")
    parser.add_argument("--api-base", help="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hyperalign", description="Personalize LLM output from a few of a user's texts.")
    commands = parser.add_subparsers(dest="command", required=True)

    personalize = commands.add_parser("personalize", help="infer the user's hypotheses, then answer prompts as them")
    personalize.add_argument("--examples", nargs="+", metavar="PATH",
                             help=".txt files (one text each), folders of them, or .jsonl files with a 'text' field")
    personalize.add_argument("--prompt", action="append", help="a prompt to answer; repeat for several")
    personalize.add_argument("--profile", help="a saved profile JSON to use instead of --examples")
    personalize.add_argument("--program", help="a compiled program file")
    personalize.add_argument("--json", action="store_true", help="print one JSON object")
    personalize.add_argument("--task", choices=["authorship", "deliberative"], default="authorship",
                             help="authorship (write as the user; default) or deliberative (answer risky prompts "
                                  "as helpfully as the safety spec allows; --examples are the asker's earlier prompts)")
    personalize.add_argument("--spec", help="deliberative: a safety specification in Markdown (default: the packaged one)")
    _lm_options(personalize)
    personalize.set_defaults(handler=cmd_personalize)

    hypotheses = commands.add_parser("hypotheses", help="infer and print (or save) the user's profile")
    hypotheses.add_argument("--examples", nargs="+", metavar="PATH", required=True,
                            help=".txt files, folders of them, or .jsonl files with a 'text' field")
    hypotheses.add_argument("--out", help="save the profile as JSON here")
    hypotheses.add_argument("--json", action="store_true", help="print the profile as JSON")
    hypotheses.set_defaults(handler=cmd_hypotheses, profile=None)
    _lm_options(hypotheses)

    demo = commands.add_parser("demo", help="personalize two prompts for one dev author, beside their real texts")
    demo.add_argument("--author", help="a dev author's name (default: the first)")
    _lm_options(demo)
    demo.set_defaults(handler=cmd_demo)
    evaluation = commands.add_parser("eval", help="evaluate systems on a suite with a calibrated judge; one MLflow run")
    evaluation.add_argument("suite", help="a suite TOML file, e.g. evals/authorship-dev.toml")
    evaluation.add_argument("--program", help="a compiled program: evaluated as 'hyperalign' against the uncompiled one too")
    evaluation.add_argument("--judge-lm", help="the judge's LM (default: the task LM)")
    evaluation.add_argument("--judge-api-base", help="base URL of the judge's OpenAI-compatible server")
    evaluation.add_argument("--judge-kind", choices=["auto", "likelihood", "verdict"],
                            help="likelihood (default on the embedded LMs) or verdict (default elsewhere)")
    evaluation.add_argument("--limit", type=int, help="evaluate the first N prompts (authors interleaved)")
    evaluation.add_argument("--threads", type=int, help="parallel LM calls (default 8; 1 on the embedded LMs)")
    evaluation.add_argument("--experiment", default="hyperalign", help="MLflow experiment (default: hyperalign)")
    evaluation.add_argument("--traces", action="store_true",
                            help="log an MLflow trace of every DSPy call (about 11 ms of CPU per LM call)")
    evaluation.add_argument("--json", action="store_true", help="print the report as one JSON object")
    _lm_options(evaluation)
    evaluation.set_defaults(handler=cmd_eval)

    compiling = commands.add_parser("compile", help="tune the program with an optimizer recipe against the judge")
    compiling.add_argument("--optimizer", required=True, help="a recipe, e.g. optimizers/bootstrap-fewshot.toml")
    compiling.add_argument("--suite", required=True, help="a suite TOML whose authors are split into training and validation")
    compiling.add_argument("--out", required=True, help="where to write the program, e.g. programs/NAME.json")
    compiling.add_argument("--judge-lm", help="the judge's LM (default: the task LM)")
    compiling.add_argument("--judge-api-base", help="base URL of the judge's OpenAI-compatible server")
    compiling.add_argument("--limit", type=int, help="at most N training prompts and N validation prompts")
    compiling.add_argument("--threads", type=int, help="parallel LM calls (default 8; 1 on the embedded LMs)")
    compiling.add_argument("--force", action="store_true", help="compile even if the judge fails calibration")
    compiling.add_argument("--experiment", default="hyperalign", help="MLflow experiment (default: hyperalign)")
    compiling.add_argument("--json", action="store_true", help="print the result as one JSON object")
    _lm_options(compiling)
    compiling.set_defaults(handler=cmd_compile)

    compare = commands.add_parser("compare", help="list the compile runs of an MLflow experiment, best first")
    compare.add_argument("--experiment", default="hyperalign", help="MLflow experiment (default: hyperalign)")
    compare.add_argument("--chart", default="compare.png", help="where to write the chart (default: compare.png)")
    compare.add_argument("--json", action="store_true", help="print the runs as JSON")
    compare.set_defaults(handler=cmd_compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="[hyperalign] warning: %(message)s")
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # its store set-up notices are not news
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
