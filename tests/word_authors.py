"""Synthetic authors for suite tests: each writes with a vocabulary of its own, so a judge that
reads words (the fake server's) can tell them apart."""

from __future__ import annotations

import json
from pathlib import Path

VOCABULARIES = {
    "Harbor": "harbor ships cargo tide dock crane freight pier",
    "Orchard": "orchard apples harvest blossom cider ladder branch frost",
    "Circuit": "circuit voltage resistor current solder board signal ground",
    "Meadow": "meadow grass sheep fence clover hay barn shepherd",
    "Comet": "comet orbit telescope nebula crater planet dust tail",
    "Bakery": "bakery dough oven crust flour yeast loaf butter",
}
# The suite that compiles use: six authors (4 for training, 2 held out), hyperalign against few-shot.
SIX_AUTHORS = dict(authors=6, systems=["hyperalign", "few-shot"], baselines=["few-shot"], seed=1)


def author_row(name: str, words: str) -> dict:
    """Two few-shot texts and two test items, all drawn from the author's vocabulary."""
    vocabulary = words.split()

    def text(n: int) -> str:
        return " ".join(vocabulary[(n + i) % len(vocabulary)] for i in range(30)) + "."

    return {
        "author": name,
        "fewshot": [{"doc_id": f"{name}-few-{n}", "text": text(n)} for n in range(2)],
        "test": [{"doc_id": f"{name}-test-{n}", "prompt": f"Write about topic {n} of {name}.", "text": text(n + 3)}
                 for n in range(2)],
    }


def write_suite(folder: Path, authors: int, systems: list[str], baselines: list[str], seed: int) -> Path:
    """A suite TOML over the first `authors` synthetic authors, comparing hyperalign with each baseline."""
    data = folder / "data" / "authors.jsonl"
    data.parent.mkdir(parents=True)
    names = list(VOCABULARIES)[:authors]
    data.write_text("".join(json.dumps(author_row(name, VOCABULARIES[name])) + "\n" for name in names))
    comparisons = ", ".join(f'{{ system = "hyperalign", baseline = "{baseline}" }}' for baseline in baselines)
    path = folder / "suite.toml"
    path.write_text(
        f'name = "words"\ntask = "authorship"\ndata = "data/authors.jsonl"\nseed = {seed}\n'
        f"systems = {json.dumps(systems)}\ncomparisons = [{comparisons}]\n[judge]\nneutral_authors = 1\n"
    )
    return path
