"""The evaluation harness: suites (`suite.py`), the run (`harness.py`, `running.py`), its report
(`report.py`), planted-instruction cases (`injection.py`) and the MLflow record (`tracking.py`).
What differs per task comes from the task registry."""
