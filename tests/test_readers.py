"""Bad input: a clear error naming the file, the record and the field; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.readers import Failed, Record, read_paths


def read_one(path: Path):
    [record] = list(read_paths([path]))
    return record


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_a_good_yaml_and_json_case(tmp_path):
    assert isinstance(read_one(write(tmp_path, "a.yaml", "id: a\n")), Record)
    assert read_one(write(tmp_path, "b.json", '{"id": "b", "courses": []}')).data["id"] == "b"


@pytest.mark.parametrize("name, content, message", [
    ("bad.yaml", "id: [unclosed", "not valid YAML/JSON"),
    ("list.yaml", "- id: a\n", "a case file holds one patient history (a mapping)"),
    ("latin1.yaml", b"id: caf\xe9\n", "not UTF-8 text (byte 7)"),
    ("bomb.yaml", "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "aliases (*name) are not allowed"),
])
def test_bad_files_become_errors_naming_the_problem(tmp_path, name, content, message):
    record = read_one(write(tmp_path, name, content))
    assert isinstance(record, Failed)
    assert record.source.endswith(name)
    assert message in record.message


def test_validation_errors_name_the_file_the_patient_and_the_field(tmp_path, book):
    from ladder.audit import audit_record
    path = write(tmp_path, "p.yaml", "id: p7\ncourses:\n  - {drug: cetirizine, dose: ten, unit: mg}\n")
    error = audit_record(read_one(path), book)
    assert (error.source, error.patient) == (str(path), "p7")
    assert error.message == "courses.0.dose: Input should be a valid number, unable to parse string as a number"


def test_missing_path_unknown_format_and_empty_folder(tmp_path):
    assert "no such file" in read_one(tmp_path / "nope.yaml").message
    assert "cannot read .txt files" in read_one(write(tmp_path, "x.txt", "")).message
    (tmp_path / "empty").mkdir()
    assert "no case files" in read_one(tmp_path / "empty").message


def test_a_folder_is_read_recursively_in_sorted_order(tmp_path):
    (tmp_path / "z").mkdir()
    write(tmp_path, "z/b.yaml", "id: b\n")
    write(tmp_path, "a.yaml", "id: a\n")
    write(tmp_path, "notes.txt", "ignored in folders")
    assert [r.data["id"] for r in read_paths([tmp_path])] == ["a", "b"]


@pytest.mark.parametrize("content", ["{drug: cetirizine, dose: .inf, unit: mg}",
                                     "{drug: cetirizine, dose: .nan, unit: mg}",
                                     "{drug: cetirizine, dose_multiple: .inf}"])
def test_infinite_or_nan_numbers_are_errors_naming_the_field(tmp_path, book, content):
    from ladder.audit import audit_record
    path = write(tmp_path, "p.yaml", f"id: p8\ncourses:\n  - {content}\n")
    error = audit_record(read_one(path), book)
    assert error.patient == "p8"
    assert error.message.startswith("courses.0.dose") and "finite number" in error.message


@pytest.mark.parametrize("line, message", [
    (b'{"id": "n", "courses": [{"drug": "cetirizine", "dose": NaN, "unit": "mg"}]}', "not valid JSON"),
    (b'{"id": "i", "courses": [{"drug": "cetirizine", "dose": Infinity, "unit": "mg"}]}', "not valid JSON"),
    (b'{"id": "h", "courses": [{"drug": "cetirizine", "dose": 1e400, "unit": "mg"}]}', "not valid JSON"),
    (b'{"id": "u", "colour": "blue"}', "colour: Extra inputs are not permitted"),
    (b'[1, 2]', "a line holds one patient history"),
])
def test_a_jsonl_line_is_judged_as_any_other_record(tmp_path, book, line, message):
    """Lines are validated straight from their bytes; whatever that refuses is judged again the
    ordinary way, so the error is the one every reader gives."""
    from ladder.audit import audit_record
    error = audit_record(read_one(write(tmp_path, "c.jsonl", line + b"\n")), book)
    assert message in error.message


def test_a_jsonl_line_reads_as_its_mapping_does(tmp_path):
    from ladder.audit import load_history
    import orjson
    line = (b'{"id": "s", "sex": "Female", "age": 38.0, "comorbidities": ["hypertension"], '
            b'"courses": [{"drug": "Xolair", "dose": "300", "unit": "MG", "frequency": "every 4 weeks",'
            b' "start": "2023-01-01", "duration": "6 months", "ongoing": "false"}],'
            b' "assessments": [{"instrument": "uas-7", "score": 30, "date": "2023-01-01"}]}')
    from_bytes = load_history(read_one(write(tmp_path, "c.jsonl", line + b"\n")))
    from_mapping = load_history(Record("x", orjson.loads(line)))
    assert from_bytes == from_mapping
