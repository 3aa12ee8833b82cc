"""The code MLflow loads a servable program from (models from code: `servable_program.py`)."""

import mlflow

from hyperalign_dspy.tracking.servable_program import ServableProgram

mlflow.models.set_model(ServableProgram())
