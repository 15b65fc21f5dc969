"""Fits shared by the cells of one regime (benchmark.fits): reused only where their inputs are identical."""

import pickle

import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from benchmark.fits import fit_key, load_fit, localizer_digest, save_fit, shared_fit, shares_fit
from benchmark.sweep import run_cell
from datasets.simulate import SimulationConfig

SIM = {"n_train": 2, "n_test": 0, "n_localizer_per_class": 8, "n_imagine_per_class": (3, 3), "seed": 5}


def _fit_once(calls: list):
    def fit():
        calls.append(1)
        rng = np.random.default_rng(0)
        return LinearDiscriminantAnalysis().fit(rng.normal(size=(20, 3)), np.repeat([0, 1], 10)), {
            "localizer_accuracy": 0.5,
            "fit_time": 1.25,
        }

    return fit


def test_a_stored_fit_is_reused_with_its_fields_and_is_the_same_estimator(tmp_path):
    calls: list = []
    path = tmp_path / "fits" / "k.pkl"
    first, fields = shared_fit(path, "lda", _fit_once(calls))
    assert path.is_file() and "fit_reused" not in fields and "fit_cache_error" not in fields
    second, reused = shared_fit(path, "lda", _fit_once(calls))
    assert len(calls) == 1
    assert reused == {"localizer_accuracy": 0.5, "fit_time": 1.25, "fit_reused": True}
    np.testing.assert_array_equal(first.coef_, second.coef_)


@pytest.mark.parametrize(
    "content", [b"", b"not a pickle", pickle.dumps({"decoder": "other", "estimator": 1})]
)
def test_an_unusable_or_foreign_file_is_refitted_and_overwritten(tmp_path, content):
    path = tmp_path / "k.pkl"
    path.write_bytes(content)
    assert load_fit(path, "lda") is None
    calls: list = []
    _, fields = shared_fit(path, "lda", _fit_once(calls))
    assert len(calls) == 1 and "fit_reused" not in fields
    assert load_fit(path, "lda") is not None


def test_a_fit_that_cannot_be_stored_is_used_and_says_why(tmp_path):
    def fit():
        estimator = LinearDiscriminantAnalysis()
        estimator.hook = lambda x: x  # a lambda does not pickle
        return estimator, {"localizer_accuracy": 0.5, "fit_time": 1.0}

    path = tmp_path / "k.pkl"
    estimator, fields = shared_fit(path, "lda", fit)
    assert isinstance(estimator, LinearDiscriminantAnalysis)
    assert "PicklingError" in fields["fit_cache_error"] or "AttributeError" in fields["fit_cache_error"]
    assert not path.exists() and not list(tmp_path.iterdir())  # no partial file left
    assert save_fit(tmp_path / "ok.pkl", "lda", LinearDiscriminantAnalysis(), {}) is None


def test_the_key_follows_every_input_of_the_fit():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 3, 5))
    y = list("aabbcc")
    times, names = np.linspace(0, 1, 5), ["MEG0111", "MEG0112", "MEG0113"]
    base = localizer_digest(X, y, times, names)
    assert localizer_digest(X.copy(), list(y), times.copy(), list(names)) == base
    changed = X.copy()
    changed[2, 1, 3] += 1e-12
    assert localizer_digest(changed, y, times, names) != base
    assert localizer_digest(X, list("aabbcd"), times, names) != base
    assert localizer_digest(X, y, times + 0.01, names) != base
    assert localizer_digest(X, y, times, names[::-1]) != base
    fields = {"decoder": "lda-peak", "code": "c", "seed": 0}
    key = fit_key(fields, base)
    assert fit_key(dict(fields), base) == key
    assert fit_key({**fields, "seed": 1}, base) != key
    assert fit_key({**fields, "code": "d"}, base) != key
    assert fit_key(fields, base, ["other"]) != key


def test_only_decoders_fitted_on_localizers_alone_share():
    assert shares_fit(frozenset()) and shares_fit({"others", "memo"})
    assert not shares_fit({"imagine"}) and not shares_fit({"truth"}) and not shares_fit({"others", "truth"})


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    """One regime at alpha 0 then 1 (sharing fits), and alpha 1 alone without the fit cache."""
    home = tmp_path_factory.mktemp("home")
    out = tmp_path_factory.mktemp("out")
    decoders = ("lda-peak", "aligned-cross-subject", "self-training", "oracle-timing")
    run = {"n_jobs": 2, "localizer_folds": 0}
    frames = {}
    for alpha in (0.0, 1.0):
        sim = SimulationConfig(**SIM, alpha=alpha)
        frames[alpha], _ = run_cell(
            sim, out / "regime" / f"alpha-{alpha:g}", decoders=decoders, run=run, home=home
        )
    # a damaged stored fit: the task is sent without its localizer, asks for it, fits and stores again
    damaged = sorted((out / "regime" / "fits").glob("*.pkl"))[0]
    damaged.write_bytes(b"truncated")
    again, _ = run_cell(
        SimulationConfig(**SIM, alpha=1.0), out / "regime" / "again", decoders=decoders,
        run={**run, "force": True}, home=home,
    )  # fmt: skip
    alone, _ = run_cell(
        SimulationConfig(**SIM, alpha=1.0), out / "alone" / "alpha-1", decoders=decoders,
        run={**run, "fit_cache": None}, home=home,
    )  # fmt: skip
    return frames, alone, out, damaged


def _rows(out, cell):
    import json

    path = out / cell / "tasks.jsonl"
    return {(r["decoder"], r["subject"]): r for r in map(json.loads, path.read_text().splitlines())}


def test_the_second_cell_of_a_regime_reuses_the_first_cells_fits_and_scores_as_a_fresh_fit(cells):
    _, _, out, _ = cells
    first, second, alone = (
        _rows(out, "regime/alpha-0"),
        _rows(out, "regime/alpha-1"),
        _rows(out, "alone/alpha-1"),
    )
    assert all(r["status"] == "ok" for r in [*first.values(), *second.values(), *alone.values()])
    assert not any(r.get("fit_reused") for r in first.values())
    for (decoder, subject), row in second.items():
        # self-training fits on the imagine epochs too, oracle-timing on the truth: their fits differ
        # from cell to cell; both are handed the stored fit of lda-peak, which they build on
        assert bool(row.get("fit_reused")) == (decoder in ("lda-peak", "aligned-cross-subject")), decoder
        builds = decoder in ("oracle-timing", "self-training")
        assert row.get("fit_bases_reused") == (["lda-peak"] if builds else None), decoder
        assert "fit_cache_error" not in row
        assert row["fit_time"] == first[(decoder, subject)]["fit_time"] if row.get("fit_reused") else True
        fresh = alone[(decoder, subject)]
        assert row["imagine_accuracy"] == fresh["imagine_accuracy"]
        # identical fits; only the order the imagine batch is handed in differs (aligned-cross-subject's
        # batch sums depend on it, to ~1e-5)
        np.testing.assert_allclose(row["proba"], fresh["proba"], atol=1e-4, rtol=0)
    assert not any(r.get("fit_reused") or "fit_bases_reused" in r for r in alone.values())
    stored = sorted((out / "regime" / "fits").glob("*.pkl"))
    assert len(stored) == 4  # lda-peak and aligned-cross-subject on two subjects
    assert not (out / "alone" / "fits").exists()


def test_a_task_whose_stored_fit_is_damaged_asks_for_its_localizer_and_fits_again(cells):
    _, _, out, damaged = cells
    again, alone = _rows(out, "regime/again"), _rows(out, "alone/alpha-1")
    refitted = [key for key, row in again.items() if not row.get("fit_reused")]
    damaged_task = [
        key for key in refitted if key[0] not in ("self-training", "oracle-timing")
    ]  # never share
    assert len(damaged_task) == 1 and len(refitted) == 5
    assert all(row["status"] == "ok" for row in again.values())
    for key in refitted:
        np.testing.assert_allclose(again[key]["proba"], alone[key]["proba"], atol=1e-4, rtol=0)
    assert load_fit(damaged, "lda-peak") is not None or load_fit(damaged, "aligned-cross-subject") is not None
