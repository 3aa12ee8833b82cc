"""Compiling (optimizing) a task's program with a DSPy teleprompter against the judge: recipes
(`recipe.py`), the compile run (`compiler.py`) and the comparison of compile runs in MLflow
(`comparison.py`). Compiled programs are written and read by `program_files.py`, beside this
package, which the command line and the evaluation harness read them with too."""
