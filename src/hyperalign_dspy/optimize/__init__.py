"""Compiling (optimizing) a task's program with a DSPy teleprompter against the judge: recipes
(`recipe.py`), the compile run (`compiler.py`), compiled program files (`program_files.py`) and
the comparison of compile runs in MLflow (`comparison.py`)."""
