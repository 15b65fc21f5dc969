"""The robustness matrix (issue 12): regimes x alphas against the transfer ceiling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.robustness import QUICK, run_robustness
from benchmark.robustness_tables import CEILING, CEILING_P, margin_fraction, robustness_table


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The ``--quick`` subset, run once through the real runner."""
    home = tmp_path_factory.mktemp("home")
    out = tmp_path_factory.mktemp("robustness")
    results = run_robustness(
        out,
        regimes=QUICK["regimes"],
        alphas=QUICK["alphas"],
        decoders=QUICK["decoders"],
        simulation=QUICK["simulation"],
        run={"n_jobs": 2},
        home=home,
    )
    return results, out, home


def test_csv_has_every_cell(quick):
    _, out, _ = quick
    table = pd.read_csv(out / "robustness.csv")
    cells = {(r, a, d) for r, a, d in zip(table["regime"], table["alpha"], table["decoder"], strict=True)}
    expected = {
        (r, float(a), d) for r in QUICK["regimes"] for a in QUICK["alphas"] for d in QUICK["decoders"]
    }
    assert cells == expected and len(table) == len(expected)
    assert (table["n_failed"] == 0).all(), table[table["n_failed"] > 0]
    # every cell pools the same trials: 2 subjects x 30 imagine trials
    assert (table["n_trials"] == 2 * 30).all()
    np.testing.assert_allclose(table["accuracy"], table["hits"] / table["n_trials"])


def test_transfer_ceiling_decodes_with_transfer_only(quick):
    _, out, _ = quick
    table = pd.read_csv(out / "robustness.csv")
    ceiling = table[table["decoder"] == CEILING].set_index(["regime", "alpha"])
    for regime in QUICK["regimes"]:
        at_one, at_zero = ceiling.loc[(regime, 1.0)], ceiling.loc[(regime, 0.0)]
        assert at_one["accuracy"] > 0.5 and at_one["p_binomial"] < 1e-6, (regime, at_one["accuracy"])
        # no transfer: the visual pattern is absent from imagery, so the ceiling is at chance
        assert at_zero["p_binomial"] > 0.001, (regime, at_zero["accuracy"])
        assert not ceiling.loc[(regime, 0.0), "eligible"]


def test_margin_fraction_formula_in_the_csv(quick):
    _, out, _ = quick
    table = pd.read_csv(out / "robustness.csv")
    defined = table["margin_fraction"].notna()
    assert defined.any()
    expected = (table["accuracy"] - 0.1) / (table["ceiling"] - 0.1)
    np.testing.assert_allclose(table.loc[defined, "margin_fraction"], expected[defined], rtol=1e-9)
    # defined exactly where the cell's ceiling is above chance at p < CEILING_P
    ceiling_p = table.set_index(["regime", "alpha", "decoder"])["p_binomial"]
    ceiling_sig = [
        ceiling_p[(r, a, CEILING)] < CEILING_P for r, a in zip(table["regime"], table["alpha"], strict=True)
    ]
    np.testing.assert_array_equal(defined.to_numpy(), np.asarray(ceiling_sig))
    np.testing.assert_allclose(table.loc[defined & (table["decoder"] == CEILING), "margin_fraction"], 1.0)


def test_report_prints_hyperparameters_once_and_thetargets(quick):
    _, out, _ = quick
    text = (out / "robustness.md").read_text()
    for name in QUICK["decoders"]:
        assert text.count(f"- `{name}`: `") == 1, name
    assert "identical in every regime" in text
    assert "OfficialExampleDecoder(C=10.0" in text
    assert " at 0x" not in text  # stable across runs (stable_repr)
    assert "## Where the gap to the ceiling goes (lda-peak)" in text  # oracle-timing is in the quick set
    assert (
        "## At alpha 0: one-sided binomial p" in text and "## Issues 12 and 23 targets, as measured" in text
    )
    png = (out / "robustness.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    subjects = pd.read_csv(out / "robustness-subjects.csv")
    assert set(subjects["regime"]) == set(QUICK["regimes"])
    assert len(subjects) == 2 * 2 * 2 * len(QUICK["decoders"])


def test_cells_read_subjects_through_the_array_cache(quick):
    """Each cell's tasks load memory-mapped arrays under ``<home>/arrays``, as ``run`` does, not the FIFs."""
    import json

    _, out, home = quick
    run = json.loads((out / "robustness" / "brief" / "alpha-1" / "run.json").read_text())
    assert run["config"]["data_cache"] == str(home / "arrays")
    assert any((home / "arrays").iterdir())


def test_cells_reuse_the_runner_cache(quick, tmp_path):
    """A second run of a cell reads its tasks from the cell's cache instead of recomputing."""
    import json
    import shutil

    results, out, home = quick
    cell = Path("robustness") / "brief" / "alpha-1"
    shutil.copytree(out / cell, tmp_path / cell)
    again = run_robustness(
        tmp_path,
        regimes=["brief"],
        alphas=[1.0],
        decoders=["lda-peak"],
        simulation=QUICK["simulation"],
        run={"n_jobs": 1},
        home=home,
    )
    first = results[(results["regime"] == "brief") & (results["alpha"] == 1.0)]
    for name, group in again.groupby("decoder"):
        old = first[first["decoder"] == name]["imagine_accuracy"].to_numpy()
        np.testing.assert_array_equal(group["imagine_accuracy"].to_numpy(), old)
    rows = [json.loads(line) for line in (tmp_path / cell / "tasks.jsonl").read_text().splitlines()]
    assert rows and all(r["cached"] for r in rows)


def test_regimes_with_the_same_localizers_share_fits_across_the_matrix(quick):
    """``brief`` changes only the imagery: its first cell reuses ``default``'s fits (one folder)."""
    import json

    _, out, _ = quick

    def rows(cell):
        path = out / "robustness" / cell / "tasks.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]

    first, other_regime = rows("default/alpha-0"), rows("brief/alpha-0")
    assert not any(r.get("fit_reused") for r in first)
    shared = {r["decoder"] for r in other_regime if r.get("fit_reused")}
    assert shared == {"lda-peak", "official-example"}  # the oracles read the truth, which brief changes
    assert any((out / "robustness" / "fits").glob("*.pkl"))
    assert not list((out / "robustness").glob("*/fits"))


def test_margin_fraction_by_hand():
    assert margin_fraction(0.3, 0.5) == pytest.approx(0.5)
    assert margin_fraction(0.1, 0.9) == 0.0
    assert margin_fraction(0.05, 0.6) == pytest.approx(-0.1)
    assert np.isnan(margin_fraction(0.3, 0.1)) and np.isnan(margin_fraction(0.3, 0.08))
    assert np.isnan(margin_fraction(float("nan"), 0.5))


def _rows(regime, alpha, name, ranked, scores, n=40):
    return [
        {"regime": regime, "alpha": alpha, "decoder": name, "ranked": ranked, "subject": f"sub-{i:02d}",
         "imagine_accuracy": s, "n_imagine": n, "status": "ok"}
        for i, s in enumerate(scores)
    ]  # fmt: skip


def test_table_pools_trials_and_gates_the_ceiling():
    rows = (
        _rows("a", 1.0, CEILING, False, [0.9, 0.7])
        + _rows("a", 1.0, "x", True, [0.3, 0.2])
        + _rows("a", 0.0, CEILING, False, [0.1, 0.125])  # 9/80: not above chance
        + _rows("a", 0.0, "x", True, [0.15, 0.1])
    )
    rows.append({**rows[-1], "subject": "sub-09", "status": "error", "imagine_accuracy": float("nan")})
    table = robustness_table(pd.DataFrame(rows)).set_index(["alpha", "decoder"])
    x1 = table.loc[(1.0, "x")]
    assert (x1["hits"], x1["n_trials"]) == (20, 80)
    assert x1["ceiling"] == pytest.approx(0.8)
    assert x1["margin_fraction"] == pytest.approx((0.25 - 0.1) / (0.8 - 0.1))
    x0 = table.loc[(0.0, "x")]
    assert np.isnan(x0["margin_fraction"]) and x0["n_failed"] == 1 and x0["n_subjects"] == 2
    assert x0["p_binomial"] > 0.05


def test_unknown_regime_fails_before_running(tmp_path, capsys):
    with pytest.raises(ValueError, match="valid regimes: default"):
        run_robustness(tmp_path, regimes=["default", "nope"])
    assert not any(tmp_path.iterdir())
    assert main(["robustness", "--regime", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown regime" in capsys.readouterr().err


def test_stable_repr_drops_memory_addresses():
    """Two runs print the same hyperparameters: no ``at 0x...`` addresses."""
    from benchmark.robustness import stable_repr

    text = "BatchCovariances(estimator=<function oas_covariance at 0x7f63107896c0>), k=<object at 0xABC>"
    assert stable_repr(text) == "BatchCovariances(estimator=<function oas_covariance>), k=<object>"
    assert stable_repr("LDA(shrinkage='auto')") == "LDA(shrinkage='auto')"


def test_gap_table_splits_the_margin_into_timing_and_classifier_shares():
    from benchmark.robustness_tables import gap_table

    def row(regime, alpha, decoder, fraction, ranked=True):
        return {"regime": regime, "alpha": alpha, "decoder": decoder, "ranked": ranked,
                "margin_fraction": fraction}  # fmt: skip

    table = pd.DataFrame([
        row("brief", 1.0, "lda-peak", 0.2), row("brief", 1.0, "prototype-correlation", 0.35),
        row("brief", 1.0, "oracle-timing", 0.7, False), row("brief", 1.0, "oracle-transfer", 1.0, False),
        row("brief", 0.0, "lda-peak", np.nan), row("brief", 0.0, "oracle-timing", np.nan, False),
        row("late", 1.0, "lda-peak", 0.5),  # no timing oracle in this cell
    ])  # fmt: skip
    gaps = gap_table(table)
    assert len(gaps) == 1
    got = gaps.iloc[0]
    assert (got["regime"], got["alpha"], got["best_ranked"]) == ("brief", 1.0, "prototype-correlation")
    assert got["timing_share"] == pytest.approx(0.5) and got["classifier_share"] == pytest.approx(0.3)
    assert got["decoder_fraction"] + got["timing_share"] + got["classifier_share"] == pytest.approx(1.0)
    assert gap_table(table[table["decoder"] != "oracle-timing"]).empty
    # a missed target says where the gap goes
    from benchmark.robustness_tables import targets

    targets = targets(table.assign(p_binomial=0.5))
    checks = {(target[:8], regime): result for target, regime, result in targets}
    assert checks[("lda-peak", "brief")].startswith("NOT met: 0.20 (why: oracle-timing 0.70;")
    assert "costs lda-peak 0.50 of the margin, its classifier 0.30" in checks[("best ran", "brief")]
    assert checks[("lda-peak", "late")] == "met: 0.50"


def test_which_decoder_table_names_the_best_family_per_regime():
    from benchmark.robustness_tables import targets, which_decoder_table

    def row(regime, decoder, fraction, ranked=True, alpha=1.0):
        return {"regime": regime, "alpha": alpha, "decoder": decoder, "ranked": ranked,
                "margin_fraction": fraction, "p_binomial": 0.5}  # fmt: skip

    table = pd.DataFrame([
        row("default", "lda-peak", 0.6), row("default", "csp-lda", 0.0), row("default", "mdm", np.nan),
        row("induced", "lda-peak", 0.0), row("induced", "csp-lda", 0.5), row("induced", "mdm", 0.3),
        row("induced", "oracle-transfer", 1.0, ranked=False), row("induced", "csp-lda", 0.9, alpha=0.5),
    ])  # fmt: skip
    families = {"lda-peak": "linear", "csp-lda": "spectral", "mdm": "riemannian", "oracle-transfer": "oracle"}
    which = which_decoder_table(table, families).set_index("regime")
    assert which.loc["default", "best"] == "lda-peak (linear) 0.60"
    assert which.loc["induced", "best"] == "csp-lda (spectral) 0.50"  # alpha 1 only, ranked only
    assert which.loc["induced", "riemannian"] == "0.30 mdm" and which.loc["default", "riemannian"] == "–"
    assert "oracle" not in which.columns and list(which.columns[:3]) == ["best", "spectral", "riemannian"]
    # the induced regimes get the power-family target; lda-peak's target skips regimes without evoked code
    checks = {(t, r): v for t, r, v in targets(table, families)}
    assert checks[("best spectral/Riemannian >= 40 % of margin at α=1", "induced")] == "met: csp-lda 0.50"
    assert ("lda-peak >= 25 % of margin at α=1", "induced") not in checks
    assert ("best spectral/Riemannian >= 40 % of margin at α=1", "default") not in checks


def test_hyperparameters_are_compared_where_each_decoder_runs():
    """The power timing oracle runs on induced regimes only: its absence elsewhere is no difference."""
    from benchmark.robustness_tables import merged_hyperparameters

    per_regime = {
        "default": {"lda-peak": "A()", "csp-lda": "B()"},
        "induced": {"lda-peak": "A()", "csp-lda": "B()", "oracle-timing-power": "C()"},
    }
    parameters, differ = merged_hyperparameters(per_regime)
    assert parameters == {"lda-peak": "A()", "csp-lda": "B()", "oracle-timing-power": "C()"} and differ == []
    per_regime["mixed"] = {"lda-peak": "A()", "csp-lda": "B(n=2)", "oracle-timing-power": "C()"}
    assert merged_hyperparameters(per_regime)[1] == ["csp-lda"]


def test_the_power_timing_oracle_runs_only_where_the_class_code_includes_induced_power():
    from benchmark.robustness import default_decoders
    from benchmark.robustness_tables import POWER_TIMING_ORACLE

    induced, evoked = default_decoders(True), default_decoders(False)
    assert POWER_TIMING_ORACLE in induced and POWER_TIMING_ORACLE not in evoked
    assert set(induced) - set(evoked) == {POWER_TIMING_ORACLE} and len(evoked) > 15


def test_a_missed_induced_cell_is_explained_by_the_power_timing_oracle_not_the_evoked_one():
    from benchmark.robustness_tables import targets

    def row(decoder, fraction, ranked=True):
        return {"regime": "induced", "alpha": 1.0, "decoder": decoder, "ranked": ranked,
                "margin_fraction": fraction, "p_binomial": 0.5}  # fmt: skip

    table = pd.DataFrame([
        row("lda-peak", 0.0), row("csp-lda", 0.3), row("oracle-timing", 0.0, False),
        row("oracle-timing-power", 0.5, False), row("oracle-transfer", 1.0, False),
    ])  # fmt: skip
    checks = {(t, r): v for t, r, v in targets(table, {"csp-lda": "spectral", "lda-peak": "linear"})}
    best = checks[("best ranked >= 40 % of margin at α=1", "induced")]
    why = "(why: oracle-timing-power 0.50; timing costs csp-lda 0.20, its classifier 0.50)"
    assert best == f"NOT met: csp-lda 0.30 {why}"
    assert "lda-peak" not in best
    assert checks[("best spectral/Riemannian >= 40 % of margin at α=1", "induced")] == best


def test_a_matrix_short_of_disk_space_is_warned_before_it_simulates(quick, tmp_path, monkeypatch, caplog):
    """Datasets already simulated cost nothing; the rest are estimated and compared with the free space."""
    import shutil
    from collections import namedtuple

    from benchmark.robustness import BYTES_PER_SUBJECT, warn_if_short_of_space
    from datasets.regimes import regime_config

    _, _, home = quick
    fields = {"n_test": 0, **QUICK["simulation"]}  # as run_robustness completes them
    done = [regime_config(r, alpha=float(a), **fields) for r in QUICK["regimes"] for a in QUICK["alphas"]]
    new = regime_config("late", alpha=1.0, n_train=4, n_test=0)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 0, 10**8))  # 0.1 GB free
    with caplog.at_level("WARNING", logger="benchmark.robustness"):
        assert warn_if_short_of_space(done, home) == 0
        assert not caplog.records
        assert warn_if_short_of_space([*done, new], home) == 4 * BYTES_PER_SUBJECT
    assert len(caplog.records) == 1 and str(home) in caplog.text and "0.1 GB free" in caplog.text
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 0, 10**12))
    caplog.clear()
    warn_if_short_of_space([new], tmp_path / "not-yet-created" / "home")  # enough space: silent
    assert not caplog.records
