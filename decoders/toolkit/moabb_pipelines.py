"""MOABB pipeline files (YAML) run as decoders, unchanged.

A MOABB user keeps a pipeline as a YAML file (``name``, ``paradigms``,
``citations``, ``pipeline`` steps). Here each file becomes a decoder: the
steps are built by :func:`moabb.pipelines.utils.create_pipeline_from_config`
into a scikit-learn pipeline on windows ``(n_epochs, n_channels, n_times)``,
trained on one localizer window and scanned over imagery by
:class:`decoders.toolkit.scan.ImagineScan`, after a channel PCA fitted on the
localizer (tSSS data have rank ~70 of 306 channels: covariance methods fail
on the raw sensors). Its evidence is the pipeline's ``decision_function``,
else ``predict_log_proba``, else its ``transform`` read as distances (MDM).
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path

from benchmark.contract import DecoderContext, DecoderSpec

#: The localizer window every MOABB pipeline is trained on (s), and the channel PCA before it.
WINDOW: tuple[float, float] = (0.05, 0.6)
N_COMPONENTS = 30


def make(context: DecoderContext, *, steps: list[dict]):
    """Return a fresh scan of the MOABB pipeline built from ``steps`` (the file's ``pipeline``)."""
    from moabb.pipelines.utils import create_pipeline_from_config

    from decoders.toolkit.scan import METHODS, window_scan
    from decoders.toolkit.spatial import ChannelPCA

    pipeline = create_pipeline_from_config(copy.deepcopy(steps))
    method = next((m for m in METHODS if hasattr(pipeline, m)), "decision_function")
    return window_scan(pipeline, context, ChannelPCA(N_COMPONENTS), windows=(WINDOW,), method=method)


#: pyriemann modules whose steps make a pipeline Riemannian (covariance matrices as features).
_RIEMANNIAN = ("pyriemann.estimation", "pyriemann.classification", "pyriemann.tangentspace")


def _family(steps: list[dict]) -> str:
    """Leaderboard family: CSP -> spectral; covariance matrices -> riemannian; else linear."""
    names = " ".join(str(step.get("name", "")) for step in steps)
    if "CSP" in names:
        return "spectral"
    if any(str(step.get("from", "")).startswith(_RIEMANNIAN) for step in steps):
        return "riemannian"
    return "linear"


def pipeline_spec(path: Path) -> DecoderSpec:
    """Read one MOABB pipeline file into a :class:`DecoderSpec` (not yet validated).

    Parameters
    ----------
    path : Path
        A ``.yml`` / ``.yaml`` file with at least ``name`` and ``pipeline``.

    Returns
    -------
    DecoderSpec
        Named ``moabb-<slug of the file's name>``, with the file's citations
        as its reference.

    Raises
    ------
    ValueError
        If the file is not a MOABB pipeline; the message names the file.
    """
    import yaml

    try:
        config = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the MOABB pipeline file ({exc}).") from exc
    if not isinstance(config, dict) or not isinstance(config.get("pipeline"), list) or not config.get("name"):
        raise ValueError(
            f"{path}: a MOABB pipeline file needs a 'name' and a 'pipeline' list of steps "
            "(each with 'name', 'from' and optional 'parameters')."
        )
    steps = config["pipeline"]
    bad = [
        k
        for k, step in enumerate(steps)
        if not (isinstance(step, dict) and "name" in step and "from" in step)
    ]
    if bad:
        raise ValueError(f"{path}: pipeline steps {bad} need a 'name' and a 'from' (module).")
    slug = re.sub(r"[^a-z0-9]+", "-", str(config["name"]).lower()).strip("-")
    summary = " + ".join(str(step["name"]) for step in steps)
    return DecoderSpec(
        name=f"moabb-{slug}",
        family=_family(steps),
        description=(
            f"MOABB pipeline '{config['name']}' ({summary}) on PCA-{N_COMPONENTS} windows "
            f"{WINDOW[0]}-{WINDOW[1]} s, scanned over imagery."
        ),
        factory=functools.partial(make, steps=steps),
        reference="; ".join(str(c) for c in config.get("citations") or []) or "-",
    )
