"""The tasks, one package each: `authorship/` (write as this person) and `deliberative/` (answer
risky prompts as helpfully as is safe for the person asking). A task's whole method is its
`signatures.py` and `program.py`; `base.py` says what a task supplies; `registry.py` (beside this
package) finds a task by name."""
