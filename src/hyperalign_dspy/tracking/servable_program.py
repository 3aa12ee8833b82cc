"""A compiled program as an MLflow model that `mlflow models serve` answers with: logged from code
(`servable_program_code.py`), never pickled.

What is logged: the program's JSON state and metadata (and a deliberative program's safety
specification) as artifacts, and as `model_config` the task and each stage's LM by *name* (with
its server's address, if any). The LMs are built when the model loads, from those names and the
serving process's environment, where an API key stays: nothing logged holds one, and an embedded
model (which holds a lock and cannot be pickled) is simply loaded again.

A request: `{"dataframe_records": [{"prompt": "...", "examples": ["a text the person wrote", ...]}]}`
(deliberative: `examples` are the asker's earlier prompts). The answer, per record: `response`,
and the task's whole result (`hypotheses`, `attributes`, ...) as `hyperalign personalize --json`
prints it; or, for a record that failed (bad texts, an LM failure after its retries, a profile with
no hypothesis borne out), `response: null` and the `error`.
"""

from __future__ import annotations

import contextlib
import threading
from importlib.metadata import version
from pathlib import Path

import dspy
import mlflow
from mlflow.models import ModelSignature
from mlflow.types.schema import Array, ColSpec, DataType, Schema

from hyperalign_dspy.errors import HyperAlignError
from hyperalign_dspy.lms.roles import LMConfig, LMNames

MODEL_CODE = Path(__file__).with_name("servable_program_code.py")
SIGNATURE = ModelSignature(inputs=Schema([ColSpec(DataType.string, "prompt"),
                                          ColSpec(Array(DataType.string), "examples")]))


def log_servable_program(program_path: str | Path, task: str, lms: LMNames, spec: str | Path | None = None,
                         registered_name: str | None = None) -> mlflow.models.model.ModelInfo:
    """Log the program file as a servable model named `servable_program` in the active run (registered as
    a new version of `registered_name`, if given). `lms`: the stages' LMs by name."""
    from hyperalign_dspy.program_files import metadata_path

    program_path = Path(program_path)
    artifacts = {"program": str(program_path), "metadata": str(metadata_path(program_path))}
    if spec is not None:
        artifacts["spec"] = str(spec)
    return mlflow.pyfunc.log_model(
        name="servable_program", python_model=str(MODEL_CODE), artifacts=artifacts, signature=SIGNATURE,
        model_config={"task": task, "lms": lms.model_dump(mode="json", exclude_none=True)},
        registered_model_name=registered_name,
        # Given, so that MLflow does not load the model (and its LM) to infer them.
        pip_requirements=[f"hyperalign-dspy=={version('hyperalign-dspy')}", f"mlflow=={mlflow.__version__}",
                          f"dspy=={dspy.__version__}"],
    )


class ServableProgram(mlflow.pyfunc.PythonModel):
    """The program, its task and its LMs, built from the logged model's files and config."""

    # MLflow checks `predict`'s type hints when the class is defined and, finding none, warns on
    # stderr (in every command that imports this module) that it cannot validate the input from
    # them. The model's signature (SIGNATURE) checks the input: no check from type hints is wanted,
    # as for MLflow's own ChatModel.
    _skip_type_hint_validation = True

    def load_context(self, context) -> None:
        from hyperalign_dspy.lms.names import adapter_for, runs_in_process
        from hyperalign_dspy.program_files import load_program_for
        from hyperalign_dspy.registry import get_task

        self.task = get_task(context.model_config["task"])
        lms = LMNames.model_validate(context.model_config["lms"]).build()
        if lms.generate is None:
            raise HyperAlignError("the logged model names no task LM")
        options = {"spec": context.artifacts["spec"]} if "spec" in context.artifacts else {}
        self.program = load_program_for(self.task, context.artifacts["program"], options,
                                        lms=LMConfig(infer=lms.infer if lms.infer is not lms.generate else None))
        self.lm, self.adapter = lms.generate, adapter_for(lms.generate)
        # The server calls predict from several threads; an embedded model runs one call at a time.
        self.one_at_a_time = threading.Lock() if runs_in_process(self.lm) else contextlib.nullcontext()

    def predict(self, context, model_input, params=None) -> list[dict]:
        from hyperalign_dspy.core.user_texts import as_user_texts

        records = model_input.to_dict("records") if hasattr(model_input, "to_dict") else list(model_input)
        answers = []
        for record in records:
            try:
                examples = list(record.get("examples") or [])
                texts = as_user_texts(examples) if examples else None
                with self.one_at_a_time, dspy.context(lm=self.lm, adapter=self.adapter):
                    result = self.task.personalize(self.program, [record["prompt"]], texts, None, lambda message: None)
            except Exception as exc:  # this record's failure, after the LM's retries; the others still answer
                answers.append({"response": None, "error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}"})
                continue
            answers.append({"response": result["responses"][0]["response"], "result": result})
        return answers
