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


# Reproducers from the attack on bad input (issue 11 section 3): each raised a traceback before.

@pytest.mark.parametrize("start, message", [
    ("2023-13-01", "courses.0.start: Input should be a valid date"),
    ("2023-02-30", "courses.0.start: Input should be a valid date"),
    ("0000-01-01", "courses.0.start: Input should be a valid date"),
])
def test_an_unquoted_yaml_date_that_is_no_date_names_the_field(tmp_path, book, start, message):
    from ladder.audit import audit_record
    path = write(tmp_path, "p.yaml", f"id: a\ncourses:\n  - {{drug: cetirizine, start: {start}}}\n")
    error = audit_record(read_one(path), book)
    assert error.patient == "a" and error.message.startswith(message)


def test_unquoted_yaml_dates_still_read_as_dates(tmp_path):
    from ladder.audit import load_history
    history = load_history(read_one(write(tmp_path, "p.yaml", "id: a\ncourses:\n  - {drug: cetirizine, start: 2023-01-05}\n")))
    assert str(history.courses[0].start) == "2023-01-05"


@pytest.mark.parametrize("name, content", [
    ("p.yaml", 'id: "\\ud800"\n'),
    ("c.jsonl", '{"id": "\\ud800"}\n'),
    ("p.json", '{"id": "\\ud800"}'),
])
def test_a_lone_surrogate_is_an_error_every_output_can_write(tmp_path, book, name, content):
    import json

    from ladder.audit import audit_record_item
    item = audit_record_item(read_one(write(tmp_path, name, content)), book)
    assert "error" in item
    json.dumps(item, ensure_ascii=False).encode("utf-8")  # raised UnicodeEncodeError before


@pytest.mark.parametrize("course, message", [
    ('{"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": "every 1000000000000000000000000000000 weeks"}',
     "courses.0.frequency"),
    ('{"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": "every 0 weeks"}', "courses.0.frequency"),
    ('{"drug": "omalizumab", "dose": 1e308, "unit": "mg", "frequency": "daily", "start": "2020-01-01", "end": "2020-03-01"}',
     "courses.0.dose"),
    ('{"drug": "cetirizine", "dose_multiple": 1e300}', "courses.0.dose_multiple"),
])
def test_absurd_numbers_are_errors_naming_the_field(tmp_path, book, course, message):
    from ladder.audit import audit_record
    error = audit_record(read_one(write(tmp_path, "c.jsonl", f'{{"id": "d", "courses": [{course}]}}\n')), book)
    assert error.patient == "d" and error.message.startswith(message)


@pytest.mark.parametrize("name, content", [
    ("deep.yaml", "id: x\ncourses: " + "[" * 5000 + "]" * 5000 + "\n"),
    ("deep.json", '{"id": "x", "courses": ' + "[" * 5000 + "]" * 5000 + "}"),
    ("bundle.json", '{"resourceType": "Bundle", "type": "collection", "entry": ['
     + '{"resource": {"resourceType": "Bundle", "type": "collection", "entry": [' * 2000 + "]}}" * 2000 + "]}"),
])
def test_deep_nesting_is_an_error_naming_the_file(tmp_path, book, name, content):
    from ladder.audit import audit_record
    error = audit_record(read_one(write(tmp_path, name, content)), book)
    assert error.source.endswith(name) and "nested too deeply" in error.message


@pytest.mark.parametrize("resource, message", [
    ({"resourceType": "Foo", "id": "p"}, "entry.0.resource: 'Foo' is not an R4 resource type"),
    ({"resourceType": 5}, "entry.0.resource: 5 is not an R4 resource type"),
    ({"resourceType": "Patient", "id": "p", "contained": [{"resourceType": "X"}]},
     "entry.0.resource.contained.0: 'X' is not an R4 resource type"),
    ({"resourceType": "Patient", "id": "p", "name": [{"given": 5}]}, "entry.0.resource.name.0.given"),
])
def test_a_bundle_with_a_wrong_resource_type_is_an_error_naming_it(tmp_path, book, resource, message):
    import json

    from ladder.audit import audit_record
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": resource}]}
    error = audit_record(read_one(write(tmp_path, "b.json", json.dumps(bundle))), book)
    assert message in error.message


def test_a_csv_cell_over_the_field_limit_fails_its_row_only(tmp_path, book):
    """One cell over the csv module's 131,072-character limit ended the whole export before."""
    from ladder.audit import audit_record
    big = "x" * 140_000
    write(tmp_path, "patients.csv", "patient_id,notes\n" + "".join(
        f"p{i},{big if i == 3 else ''}\n" for i in range(10)))
    write(tmp_path, "courses.csv", "patient_id,drug,dose,unit,frequency,notes\n" + "".join(
        f"p{i},cetirizine,10,mg,daily,{big if i == 6 else ''}\n" for i in range(10)) + "\n")
    results = [audit_record(r, book) for r in read_paths([tmp_path])]
    assert len(results) == 10
    failed = {r.patient: r.message for r in results if not hasattr(r, "findings")}
    assert set(failed) == {"p3", "p6"}
    assert failed["p3"].startswith("row 5 cannot be read: field larger than field limit")
    assert failed["p6"].startswith("courses.csv row 8 cannot be read")


def test_any_failure_of_one_record_is_its_error_record(book, monkeypatch):
    """Whatever goes wrong inside one record's audit (here an unexpected OverflowError) is that
    record's error, never an exception that ends a cohort."""
    import importlib
    audit = importlib.import_module("ladder.audit")

    def boom(*args, **kwargs):
        raise OverflowError("date value out of range")
    monkeypatch.setattr(audit, "audit_item", boom)
    item = audit.audit_record_item(Record("x.yaml", {"id": "x"}), book)
    assert item["error"]["source"] == "x.yaml"
    assert "OverflowError: date value out of range" in item["error"]["message"]


def test_a_misspelt_field_or_term_gets_a_did_you_mean(book):
    from ladder.audit import audit_record
    error = audit_record(Record("x.yaml", {"id": "x", "sexx": "F", "courses": [
        {"drug": "cetirizine", "dosee": 10, "stop_reason": "remision"}]}), book)
    assert "courses.0.dosee: Extra inputs are not permitted (did you mean dose?)" in error.message
    assert "(did you mean remission?)" in error.message and "(did you mean sex?)" in error.message
