"""Kaggle submissions: one decoder's ``ID,label`` frame, the expected IDs, validation, README."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from benchmark.errors import SubmissionError
from datasets.layout import CLASS_NAMES, submission_id


def submission_frame(rows: Sequence[dict], decoder: str) -> pd.DataFrame:
    """Kaggle rows ``ID,label`` of one decoder's test-subject predictions."""
    records = []
    for row in rows:
        if row["decoder"] != decoder or row.get("split") != "test" or row["status"] != "ok":
            continue
        labels = np.asarray(CLASS_NAMES)[np.asarray(row["proba"]).argmax(axis=1)]
        records += [
            {"ID": submission_id(row["subject"], i), "label": lab}
            for i, lab in zip(row["trial_idx"], labels, strict=True)
        ]
    return pd.DataFrame(records, columns=["ID", "label"])


def expected_submission_ids(dataset) -> list[str]:
    """Kaggle IDs of every test imagine epoch of ``dataset``, in file order.

    Counts the epochs of each test subject's ``-epo.fif`` (header only, no
    data loaded); ``trial_idx`` is the 1-based position in the file.

    Parameters
    ----------
    dataset : datasets.adapter.ChallengeDataset
        The dataset whose test subjects the submission is for.
    """
    import mne

    from datasets import layout

    ids: list[str] = []
    for subject in dataset.subjects_in("test"):
        fname = layout.imagine_epochs_file(dataset.ref(subject).path, subject)
        n = len(mne.read_epochs(fname, preload=False, verbose="error"))
        ids += [submission_id(subject, i) for i in range(1, n + 1)]
    return ids


def validate_submission(frame: pd.DataFrame, expected_ids: Sequence[str]) -> None:
    """Check a Kaggle submission against the test imagine epochs.

    Parameters
    ----------
    frame : DataFrame
        The submission (columns ``ID, label``).
    expected_ids : sequence of str
        One ``sub-XX_<i>`` per test imagine epoch (:func:`expected_submission_ids`).

    Raises
    ------
    SubmissionError
        Listing every problem found: wrong columns, duplicate IDs, unknown
        labels, missing or unexpected IDs.
    """
    if list(frame.columns) != ["ID", "label"]:
        raise SubmissionError(f"a submission has the columns ['ID', 'label'], got {list(frame.columns)}.")
    problems = []
    ids = frame["ID"].astype(str)
    duplicated = sorted(set(ids[ids.duplicated()]))
    if duplicated:
        problems.append(f"{len(duplicated)} duplicate ID(s), e.g. {duplicated[:3]}")
    bad = sorted(set(frame["label"].astype(str)) - set(CLASS_NAMES))
    if bad:
        problems.append(f"label(s) {bad[:5]} not among the ten item names {list(CLASS_NAMES)}")
    expected = set(expected_ids)
    missing = [i for i in expected_ids if i not in set(ids)]
    extra = sorted(set(ids) - expected)
    if missing:
        problems.append(f"{len(missing)} test epoch(s) without a row, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} ID(s) that match no test epoch, e.g. {extra[:3]}")
    if problems:
        raise SubmissionError(
            f"invalid submission ({len(frame)} rows, {len(expected)} test imagine epochs expected): "
            + "; ".join(problems)
            + "."
        )


def submissions_readme(run_info: dict, simulated: bool) -> str:
    """Text of ``submissions/README.md``: what the CSV files are and whether they are simulated."""
    what = (
        "**These submissions are for SIMULATED test subjects** (dataset `imagine-simulated`): their IDs "
        "do not match the challenge's 680 test epochs and Kaggle will reject them. They show the format "
        "and let `python -m benchmark submit --from-run` be tried. Make real ones with "
        "`python -m benchmark submit --decoder NAME --data PATH/TO/REAL/DATA`."
        if simulated
        else "Submissions for the IMAGINE challenge's test subjects (dataset `imagine`)."
    )
    return (
        "# Kaggle submissions\n\n"
        f"{what}\n\n"
        "One file per decoder, columns `ID,label` (`ID = sub-XX_<trial_idx>`, `label` the item name). "
        "The public leaderboard scores all test rows: choose decoders on the train subjects, not by "
        "submitting. The oracle (unranked) reads the simulation's truth and is never submitted; "
        "`python -m benchmark submit` refuses unranked decoders.\n\n"
        f"Dataset fingerprint `{run_info.get('fingerprint', '?')}`, "
        f"code `{run_info.get('git_revision', '?')}`.\n"
    )
