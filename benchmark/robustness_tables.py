"""The robustness matrix's tables: pooled accuracy against the ceiling, gaps, families, targets.

Pure functions of the matrix's rows (:func:`benchmark.robustness.run_robustness`);
:mod:`benchmark.robustness_report` writes them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from datasets.layout import CHANCE

#: The decoder whose pooled accuracy is the transfer ceiling of a cell.
CEILING = "oracle-transfer"
#: The diagnostic decoder that pools ``lda-peak``'s evidence over the true imagery interval.
TIMING_ORACLE = "oracle-timing"
#: Its counterpart for the power decoders: ``csp-lda``'s evidence over the true imagery interval.
POWER_TIMING_ORACLE = "oracle-timing-power"
#: The families that read power or covariance (the induced hypothesis).
POWER_FAMILIES = ("spectral", "riemannian")

#: A cell's margin fraction is defined only where the ceiling is above
#: chance at this one-sided binomial p over its pooled trials.
CEILING_P = 0.01

#: Columns of the matrix's table (one row per regime x alpha x decoder).
ROBUST_COLUMNS = [
    "regime",
    "alpha",
    "decoder",
    "ranked",
    "n_subjects",
    "n_failed",
    "n_trials",
    "hits",
    "accuracy",
    "subject_mean",
    "ceiling",
    "margin_fraction",
    "p_binomial",
]


def margin_fraction(accuracy: float, ceiling: float, chance: float = CHANCE) -> float:
    """Fraction of the ceiling's margin above chance that ``accuracy`` reaches.

    ``(accuracy - chance) / (ceiling - chance)``: 0 at chance, 1 at the
    ceiling, negative below chance; NaN when the ceiling is not above chance.

    Parameters
    ----------
    accuracy, ceiling : float
        Pooled imagine accuracies of a decoder and of the ceiling.
    chance : float
        Chance accuracy.

    Returns
    -------
    float
    """
    if not np.isfinite(accuracy) or not np.isfinite(ceiling) or ceiling <= chance:
        return float("nan")
    return float((accuracy - chance) / (ceiling - chance))


def robustness_table(results: pd.DataFrame, chance: float = CHANCE) -> pd.DataFrame:
    """Pooled accuracy, ceiling, margin fraction and binomial p per (regime, alpha, decoder).

    Parameters
    ----------
    results : DataFrame
        Rows of :func:`run_robustness` (``regime, alpha, decoder, ranked,
        imagine_accuracy, n_imagine, status``).
    chance : float
        Chance accuracy.

    Returns
    -------
    DataFrame
        Columns ``regime, alpha, decoder, ranked, n_subjects, n_failed,
        n_trials, hits, accuracy`` (pooled over trials), ``subject_mean``,
        ``ceiling`` (the :data:`CEILING` decoder's pooled accuracy in the
        cell), ``margin_fraction`` (NaN unless the ceiling is above chance
        at p < :data:`CEILING_P`) and ``p_binomial`` (one-sided, pooled trials).
    """
    from benchmark.stats import binomial_p

    rows = []
    for (regime, alpha, name), group in results.groupby(["regime", "alpha", "decoder"], sort=False):
        ok = group[group["status"] == "ok"]
        n = int(ok["n_imagine"].sum())
        hits = int(np.round(ok["imagine_accuracy"] * ok["n_imagine"]).sum())
        rows.append(
            {
                "regime": regime,
                "alpha": float(alpha),
                "decoder": name,
                "ranked": bool(group["ranked"].iloc[0]),
                "n_subjects": int(len(ok)),
                "n_failed": int(len(group) - len(ok)),
                "n_trials": n,
                "hits": hits,
                "accuracy": hits / n if n else float("nan"),
                "subject_mean": float(ok["imagine_accuracy"].mean()) if len(ok) else float("nan"),
                "p_binomial": binomial_p(hits, n, chance) if n else float("nan"),
            }
        )
    table = pd.DataFrame(rows, columns=[c for c in ROBUST_COLUMNS if c not in ("ceiling", "margin_fraction")])
    ceiling = table[table["decoder"] == CEILING].set_index(["regime", "alpha"])
    ceilings, fractions = [], []
    for row in table.itertuples():
        key = (row.regime, row.alpha)
        if key in ceiling.index:
            acc, p = ceiling.loc[key, "accuracy"], ceiling.loc[key, "p_binomial"]
        else:
            acc, p = float("nan"), float("nan")
        ceilings.append(acc)
        fractions.append(margin_fraction(row.accuracy, acc, chance) if p < CEILING_P else float("nan"))
    table["ceiling"] = ceilings
    table["margin_fraction"] = fractions
    return table.reindex(columns=ROBUST_COLUMNS)


def gap_table(
    table: pd.DataFrame, decoder: str = "lda-peak", timing_oracle: str = TIMING_ORACLE
) -> pd.DataFrame:
    """Split each cell's gap between ``decoder`` and the transfer ceiling into timing and classifier shares.

    ``decoder`` -> :data:`TIMING_ORACLE` (the same classifier, its evidence
    averaged over each trial's true imagery interval) is what not knowing
    when imagery happens costs; :data:`TIMING_ORACLE` -> the ceiling is what
    the localizer-trained classifier loses at the right time.

    Parameters
    ----------
    table : DataFrame
        :func:`robustness_table` output.
    decoder : str
        The decoder whose evidence the timing oracle pools.
    timing_oracle : str
        The timing oracle of ``decoder`` (:data:`TIMING_ORACLE` for
        ``lda-peak``, :data:`POWER_TIMING_ORACLE` for ``csp-lda``).

    Returns
    -------
    DataFrame
        One row per cell where the margin fraction is defined, with columns
        ``regime, alpha, best_ranked, best_fraction, decoder_fraction,
        timed_fraction, timing_share, classifier_share``; empty when the
        table has no :data:`TIMING_ORACLE` rows.
    """
    columns = ["regime", "alpha", "best_ranked", "best_fraction", "decoder_fraction", "timed_fraction",
               "timing_share", "classifier_share"]  # fmt: skip
    rows = []
    for (regime, alpha), part in table.groupby(["regime", "alpha"], sort=False):
        fraction = part.set_index("decoder")["margin_fraction"]
        if (
            decoder not in fraction
            or timing_oracle not in fraction
            or not np.isfinite(fraction[timing_oracle])
        ):
            continue
        ranked = part[part["ranked"] & part["margin_fraction"].notna()]
        best = ranked.loc[ranked["margin_fraction"].idxmax()] if len(ranked) else None
        own, timed = float(fraction[decoder]), float(fraction[timing_oracle])
        rows.append({
            "regime": regime, "alpha": float(alpha),
            "best_ranked": best["decoder"] if best is not None else "",
            "best_fraction": float(best["margin_fraction"]) if best is not None else float("nan"),
            "decoder_fraction": own, "timed_fraction": timed,
            "timing_share": timed - own, "classifier_share": 1.0 - timed,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def decoder_families(names) -> dict[str, str]:
    """Family of each decoder name, from the registry ("" for a name it does not know)."""
    from benchmark.registry import discover

    specs = discover(strict=False).specs
    return {name: specs[name].family if name in specs else "" for name in names}


def which_decoder_table(table: pd.DataFrame, families: dict[str, str], alpha: float = 1.0) -> pd.DataFrame:
    """Which decoder for which brain: per regime, the best ranked decoder and the best of each family.

    Parameters
    ----------
    table : DataFrame
        :func:`robustness_table` output.
    families : dict of str to str
        Decoder name -> family (:func:`decoder_families`).
    alpha : float
        The transfer weight read (1: full transfer).

    Returns
    -------
    DataFrame
        One row per regime at ``alpha``: ``regime``, ``best`` (decoder,
        family and margin fraction of the best ranked decoder), then one
        column per family with its best decoder's margin fraction (NaN where
        the ceiling is not above chance).
    """
    part = table[(table["alpha"] == alpha) & table["ranked"]].copy()
    part["family"] = [families.get(d, "") for d in part["decoder"]]
    from benchmark.contract import FAMILIES

    first = (*POWER_FAMILIES, "hybrid")
    order = [*first, *(f for f in FAMILIES if f not in (*first, "baseline", "oracle"))]
    rows = []
    for regime, cell in part.groupby("regime", sort=False):
        scored = cell[cell["margin_fraction"].notna()]
        row = {"regime": regime}
        if len(scored):
            best = scored.loc[scored["margin_fraction"].idxmax()]
            row["best"] = f"{best['decoder']} ({best['family']}) {best['margin_fraction']:.2f}"
        else:
            row["best"] = "–"
        for family in order:
            mine = scored[scored["family"] == family]
            if len(mine):
                top = mine.loc[mine["margin_fraction"].idxmax()]
                row[family] = f"{top['margin_fraction']:.2f} {top['decoder']}"
            elif family in set(cell["family"]):
                row[family] = "–"
        rows.append(row)
    return pd.DataFrame(rows)


def induced_only_regimes() -> set[str]:
    """Names of the regimes without a class-specific evoked code (where lda-peak's targets do not apply)."""
    from datasets.regimes import REGIMES

    return {name for name, r in REGIMES.items() if r.overrides.get("evoked_gain", 1.0) == 0}


def induced_regimes() -> set[str]:
    """Names of the regimes whose class code includes induced power."""
    from datasets.regimes import REGIMES

    return {name for name, r in REGIMES.items() if r.overrides.get("induced_separation", 0) > 0}


def targets(table: pd.DataFrame, families: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """Issues 12's and 23's targets, checked cell by cell: (target, regime, measured result).

    A missed alpha-1 target says where the gap goes when the cell has the
    timing oracle (:func:`gap_table`): the share of the margin that knowing
    when imagery happens would give ``lda-peak``, and the share its
    classifier loses even then.
    """
    checks = []
    ranked = table[table["ranked"]]
    gaps = gap_table(table).set_index(["regime", "alpha"])
    induced = induced_only_regimes()  # where the power families must carry the cell alone
    power_gaps = gap_table(table, "csp-lda", POWER_TIMING_ORACLE).set_index(["regime", "alpha"])

    def power_reason(regime: str) -> str:
        if (regime, 1.0) not in power_gaps.index:
            return ""
        gap = power_gaps.loc[(regime, 1.0)]
        return (
            f" (why: {POWER_TIMING_ORACLE} {gap['timed_fraction']:.2f}; timing costs csp-lda "
            f"{gap['timing_share']:.2f}, its classifier {gap['classifier_share']:.2f})"
        )

    def reason(regime: str) -> str:
        if regime in induced:  # the evoked timing oracle says nothing where the code is power only
            return power_reason(regime)
        if (regime, 1.0) not in gaps.index:
            return ""
        gap = gaps.loc[(regime, 1.0)]
        return (
            f" (why: {TIMING_ORACLE} {gap['timed_fraction']:.2f}; not knowing when imagery happens costs "
            f"lda-peak {gap['timing_share']:.2f} of the margin, its classifier {gap['classifier_share']:.2f})"
        )

    for regime, part in ranked[ranked["alpha"] == 1.0].groupby("regime", sort=False):
        best = part.loc[part["margin_fraction"].idxmax()] if part["margin_fraction"].notna().any() else None
        if best is not None:
            met = best["margin_fraction"] >= 0.4
            checks.append(
                (
                    "best ranked >= 40 % of margin at α=1",
                    regime,
                    f"{'met' if met else 'NOT met'}: {best['decoder']} {best['margin_fraction']:.2f}"
                    + ("" if met else reason(regime)),
                )
            )
        lda = part[part["decoder"] == "lda-peak"]
        if regime not in induced and len(lda) and np.isfinite(lda["margin_fraction"].iloc[0]):
            value = float(lda["margin_fraction"].iloc[0])
            checks.append(
                (
                    "lda-peak >= 25 % of margin at α=1",
                    regime,
                    f"{'met' if value >= 0.25 else 'NOT met'}: {value:.2f}"
                    + ("" if value >= 0.25 else reason(regime)),
                )
            )
    for regime, part in ranked[ranked["alpha"] == 1.0].groupby("regime", sort=False):
        if regime not in induced or families is None:
            continue
        power = part[[families.get(d, "") in POWER_FAMILIES for d in part["decoder"]]]
        power = power[power["margin_fraction"].notna()]
        if not len(power):
            continue
        best = power.loc[power["margin_fraction"].idxmax()]
        met = best["margin_fraction"] >= 0.4
        why = "" if met else power_reason(regime)
        checks.append(
            (
                "best spectral/Riemannian >= 40 % of margin at α=1",
                regime,
                f"{'met' if met else 'NOT met'}: {best['decoder']} {best['margin_fraction']:.2f}" + why,
            )
        )
    for regime, part in ranked[ranked["alpha"] == 0.0].groupby("regime", sort=False):
        above = part[part["p_binomial"] <= 0.001]
        verdict = (
            "met"
            if above.empty
            else "NOT met: "
            + ", ".join(
                f"{r.decoder} {100 * r.accuracy:.1f} % (p={r.p_binomial:.1e})" for r in above.itertuples()
            )
        )
        checks.append(("every ranked decoder at chance at α=0 (p > 0.001)", regime, verdict))
    return checks


def merged_hyperparameters(per_regime: dict[str, dict[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Every decoder's parameters over the regimes, and the decoders whose parameters differ between them.

    A decoder that runs in some regimes only (the power timing oracle) is
    compared where it runs.

    Parameters
    ----------
    per_regime : dict
        Regime -> decoder -> parameters (text).

    Returns
    -------
    parameters : dict of str to str
        Decoder -> its parameters in the first regime it runs in, decoders in
        order of first appearance.
    differ : list of str
        Decoders whose parameters are not the same in every regime they run in.
    """
    first: dict[str, str] = {}
    for parameters in per_regime.values():
        for name, text in parameters.items():
            first.setdefault(name, text)
    differ = [n for n in first if any(p.get(n, first[n]) != first[n] for p in per_regime.values())]
    return first, differ
