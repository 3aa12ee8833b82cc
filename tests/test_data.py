"""load_authors and read_user_texts on small files written here, and on the shipped dev data."""

from __future__ import annotations

import json

import dspy
import pytest

from hyperalign_dspy import HyperAlignError, UserText, load_authors, read_user_texts
from hyperalign_dspy.core.tables import read_table
from hyperalign_dspy.tasks.authorship.data.authors import DEV_AUTHORS


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def numbered_author_row(name: str, fewshot: int, test: int) -> dict:
    return {
        "author": name,
        "fewshot": [{"doc_id": f"{name}/f{n}", "prompt": f"p{n}", "text": f"{name} wrote few-shot text {n}."}
                    for n in range(fewshot)],
        "test": [{"doc_id": f"{name}/t{n}", "prompt": f"{name} test prompt {n}", "text": f"{name} real text {n}."}
                 for n in range(test)],
    }


# --- load_authors ----------------------------------------------------------------------------------


def test_load_authors_small_file(tmp_path):
    path = write_jsonl(tmp_path / "authors.jsonl", [numbered_author_row("Ann", 2, 3), numbered_author_row("Bob", 1, 1)])
    examples = load_authors(path)
    assert len(examples) == 4
    assert [e.author for e in examples] == ["Ann", "Ann", "Ann", "Bob"]
    first = examples[0]
    assert isinstance(first, dspy.Example)
    assert set(first.inputs().keys()) == {"examples", "prompt"}
    assert first.prompt == "Ann test prompt 0"
    assert first.reference == "Ann real text 0."
    assert first.doc_id == "Ann/t0"
    assert first.examples == [UserText(id="Ann/f0", text="Ann wrote few-shot text 0."),
                              UserText(id="Ann/f1", text="Ann wrote few-shot text 1.")]
    assert [e.prompt for e in examples[:3]] == [f"Ann test prompt {n}" for n in range(3)]
    assert examples[3].examples == [UserText(id="Bob/f0", text="Bob wrote few-shot text 0.")]


@pytest.mark.parametrize("missing", ["author", "fewshot", "test"])
def test_load_authors_row_without_a_key_is_an_error(tmp_path, missing):
    bad = numbered_author_row("Bob", 1, 1)
    bad[missing] = [] if missing != "author" else ""
    path = write_jsonl(tmp_path / "authors.jsonl", [numbered_author_row("Ann", 1, 1), bad])
    with pytest.raises(HyperAlignError, match=f"row 2 has no '{missing}'"):
        load_authors(path)


def test_load_authors_missing_file_or_wrong_suffix_is_an_error(tmp_path):
    with pytest.raises(HyperAlignError, match="no such file"):
        load_authors(tmp_path / "absent.jsonl")
    other = tmp_path / "authors.txt"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(HyperAlignError, match="expected one of .jsonl"):
        load_authors(other)


def test_load_authors_malformed_jsonl_is_a_one_line_error(tmp_path):
    path = tmp_path / "authors.jsonl"
    path.write_text('{"author": "Ann", "fewshot": [\n', encoding="utf-8")
    with pytest.raises(HyperAlignError, match="line 1 is not valid JSON") as caught:
        load_authors(path)
    assert "\n" not in str(caught.value)


def test_load_authors_shipped_dev_data():
    examples = load_authors()
    assert len(examples) == 48
    authors = {e.author for e in examples}
    assert len(authors) == 12
    assert all(sum(e.author == a for e in examples) == 4 for a in authors)
    for example in examples:
        assert set(example.inputs().keys()) == {"examples", "prompt"}
        assert set(example.labels().keys()) == {"author", "reference", "doc_id"}
        assert example.prompt.startswith("Write an article that starts with the following:")
        assert len(example.examples) == 6
        assert all(isinstance(t, UserText) and t.text.strip() for t in example.examples)
        # The reference is the user's held-out text: it must never be among the texts the program reads.
        assert example.doc_id not in {t.id for t in example.examples}
        assert example.reference not in {t.text for t in example.examples}
    assert load_authors(DEV_AUTHORS)[0].prompt == examples[0].prompt


# --- read_user_texts -------------------------------------------------------------------------------


def test_read_txt_files(tmp_path):
    (tmp_path / "a.txt").write_text("First text.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Second text, with é.\n", encoding="utf-8")
    texts = read_user_texts([tmp_path / "b.txt", str(tmp_path / "a.txt")])
    assert texts == [UserText(id="b.txt", text="Second text, with é.\n"), UserText(id="a.txt", text="First text.\n")]


def test_read_a_folder_sorted_and_filtered(tmp_path):
    folder = tmp_path / "user"
    folder.mkdir()
    (folder / "b.txt").write_text("Text b.", encoding="utf-8")
    (folder / "a.TXT").write_text("Text a.", encoding="utf-8")
    (folder / "notes.md").write_text("Not a user text.", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "c.txt").write_text("Not read: subfolders are not searched.", encoding="utf-8")
    write_jsonl(folder / "c.jsonl", [{"id": "row-1", "text": "Text from a row."}])
    texts = read_user_texts([folder])
    assert [t.id for t in texts] == ["a.TXT", "b.txt", "row-1"]
    assert [t.text for t in texts] == ["Text a.", "Text b.", "Text from a row."]


def test_read_jsonl_with_text_field_and_ids(tmp_path):
    path = write_jsonl(tmp_path / "user.jsonl", [
        {"id": "given", "text": "One."},
        {"doc_id": "from-doc-id", "text": "Two."},
        {"text": "Three.", "other": 1},
    ])
    texts = read_user_texts([path])
    assert texts == [UserText(id="given", text="One."), UserText(id="from-doc-id", text="Two."),
                     UserText(id="user.jsonl:3", text="Three.")]


def test_read_csv_with_text_column(tmp_path):
    path = tmp_path / "user.csv"
    path.write_text('id,text\nc1,"A text, with a comma."\nc2,Another text.\n', encoding="utf-8")
    assert read_user_texts([path]) == [UserText(id="c1", text="A text, with a comma."),
                                       UserText(id="c2", text="Another text.")]


def test_jsonl_row_with_blank_text_is_an_error(tmp_path):
    path = write_jsonl(tmp_path / "user.jsonl", [{"id": "r1", "text": "Fine."}, {"id": "r2", "text": "  "}])
    with pytest.raises(HyperAlignError, match=r"text 2 \(r2\) is empty"):
        read_user_texts([path])


def test_read_table_rejects_unknown_suffix(tmp_path):
    path = tmp_path / "table.xlsx"
    path.write_bytes(b"not a table")
    with pytest.raises(HyperAlignError, match="expected one of"):
        read_table(path)


@pytest.mark.parametrize("missing", ["prompt", "text"])
def test_load_authors_test_item_without_a_field_is_an_error(tmp_path, missing):
    row = numbered_author_row("Ann", 1, 1)
    del row["test"][0][missing]
    path = write_jsonl(tmp_path / "authors.jsonl", [row])
    with pytest.raises(HyperAlignError, match=missing):
        load_authors(path)


def test_files_of_the_same_name_in_two_folders_keep_distinct_ids(tmp_path):
    from hyperalign_dspy import read_user_texts

    for folder, body in (("a", "First text."), ("b", "Second text.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "post.txt").write_text(body)
    texts = read_user_texts([tmp_path / "a", tmp_path / "b"])
    assert [t.id for t in texts] == ["post.txt", str(tmp_path / "b" / "post.txt")]
