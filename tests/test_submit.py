"""Kaggle export: `python -m benchmark submit` and the submission validator."""

import json
import re

import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.errors import SubmissionError
from benchmark.submissions import expected_submission_ids, validate_submission
from datasets.adapter import ChallengeDataset
from datasets.layout import CLASS_NAMES

EXPECTED = [f"sub-40_{i}" for i in range(1, 31)]  # the foreign dataset's one test subject, 30 imagine epochs


def _valid() -> pd.DataFrame:
    return pd.DataFrame({"ID": EXPECTED, "label": [CLASS_NAMES[i % 10] for i in range(30)]})


def test_expected_ids_count_test_imagine_epochs(foreign_root):
    assert expected_submission_ids(ChallengeDataset(foreign_root)) == EXPECTED


def test_submit_runs_decoder_on_test_subjects_and_validates(foreign_root, tmp_path, capsys):
    out = tmp_path / "sub" / "chance.csv"
    assert main(["submit", "--decoder", "chance", "--data", str(foreign_root), "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["ID", "label"]
    assert frame["ID"].tolist() == EXPECTED
    assert frame["label"].isin(CLASS_NAMES).all()
    printed = capsys.readouterr().out
    assert "30 rows for 1 test subject(s)" in printed and "scores all test rows" in printed


def test_submit_from_existing_run(foreign_root, tmp_path, capsys):
    run = tmp_path / "run"
    (run / "submissions").mkdir(parents=True)
    _valid().to_csv(run / "submissions" / "lda-peak.csv", index=False)
    (run / "run.json").write_text(json.dumps({"dataset_root": str(foreign_root)}))
    out = tmp_path / "checked.csv"
    assert main(["submit", "--decoder", "lda-peak", "--from-run", str(run), "--out", str(out)]) == 0
    assert pd.read_csv(out)["ID"].tolist() == EXPECTED
    assert main(["submit", "--decoder", "chance", "--from-run", str(run)]) == 2
    assert "submissions/chance.csv not found" in capsys.readouterr().err
    assert main(["submit", "--decoder", "lda-pek", "--from-run", str(run)]) == 2
    err = capsys.readouterr().err
    assert "Unknown decoder 'lda-pek'. Did you mean 'lda-peak'?" in err and "not found" not in err


def test_submit_rejects_invalid_stored_submission(foreign_root, tmp_path, capsys):
    run = tmp_path / "run"
    (run / "submissions").mkdir(parents=True)
    _valid().iloc[:-1].to_csv(run / "submissions" / "x.csv", index=False)
    code = main(["submit", "--decoder", "x", "--from-run", str(run), "--data", str(foreign_root),
                 "--out", str(tmp_path / "never.csv")])  # fmt: skip
    assert code == 2
    assert "1 test epoch(s) without a row, e.g. ['sub-40_30']" in capsys.readouterr().err
    assert not (tmp_path / "never.csv").exists()


def test_validate_accepts_a_valid_submission():
    validate_submission(_valid(), EXPECTED)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: f.rename(columns={"label": "Label"}), "columns ['ID', 'label']"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "1 duplicate ID(s), e.g. ['sub-40_1']"),
        (lambda f: f.assign(label=f["label"].where(f.index != 3, "banana")), "label(s) ['banana'] not among"),
        (lambda f: f.iloc[1:], "1 test epoch(s) without a row, e.g. ['sub-40_1']"),
        (lambda f: f.assign(ID=f["ID"].where(f.index != 0, "sub-41_1")), "1 ID(s) that match no test epoch"),
    ],
    ids=["columns", "duplicate", "label", "missing", "unexpected"],
)
def test_validate_names_each_problem(mutate, message):
    with pytest.raises(SubmissionError, match=re.escape(message)):
        validate_submission(mutate(_valid()), EXPECTED)


def test_submission_error_is_a_value_error():
    assert issubclass(SubmissionError, ValueError)


def test_submit_refuses_unranked_decoder_unless_forced(foreign_root, tmp_path, capsys):
    run = tmp_path / "run"
    (run / "submissions").mkdir(parents=True)
    _valid().to_csv(run / "submissions" / "oracle.csv", index=False)
    base = ["submit", "--decoder", "oracle", "--from-run", str(run), "--data", str(foreign_root)]
    out = tmp_path / "oracle.csv"
    assert main([*base, "--out", str(out)]) == 2
    assert "oracle is not ranked" in capsys.readouterr().err and not out.exists()
    assert main([*base, "--out", str(out), "--force-unranked"]) == 0
    assert out.is_file()


def test_submit_from_run_of_another_machine_names_run_json(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"dataset_root": "/elsewhere/imagine"}))
    assert main(["submit", "--decoder", "chance", "--from-run", str(run)]) == 2
    err = capsys.readouterr().err
    assert "/elsewhere/imagine recorded in" in err and "run.json" in err and "--data" in err


@pytest.mark.parametrize(
    "content, message",
    [('ID,label\n"sub-40_1,apple\n', "is not a readable CSV"), ("", "is not a readable CSV")],
    ids=["unclosed-quote", "empty"],
)
def test_submit_malformed_stored_csv_exits_2_naming_it(foreign_root, tmp_path, capsys, content, message):
    run = tmp_path / "run"
    (run / "submissions").mkdir(parents=True)
    (run / "submissions" / "chance.csv").write_text(content)
    code = main(["submit", "--decoder", "chance", "--from-run", str(run), "--data", str(foreign_root)])
    assert code == 2
    err = capsys.readouterr().err
    assert "chance.csv" in err and message in err and "Traceback" not in err
