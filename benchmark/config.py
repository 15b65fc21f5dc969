"""The run configuration: one frozen dataclass built from the CLI flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

#: Where tasks can run (see :mod:`benchmark.executor`).
BACKENDS = ("local", "dask")


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run's results.

    Attributes
    ----------
    data : Path
        Dataset root in the challenge layout.
    out : Path
        Folder for reports.
    decoders : tuple of str or None
        Decoder names; None runs every registered decoder.
    subjects : tuple of str or None
        Subject names; None runs every subject.
    n_jobs : int
        Parallel tasks (joblib); BLAS is limited to one thread per task when > 1.
    seed : int
        Seed handed to every decoder as ``random_state`` and to the folds.
    localizer_folds : int
        Folds of the shared localizer cross-validation (0 skips it).
    progress : bool
        Show a progress bar over tasks.
    timeout : float or None
        Seconds after which a task is killed and recorded as ``timeout``.
    max_memory_mb : float or None
        Address-space cap per task; exceeding it records ``oom``.
    force : bool
        Recompute every task instead of reusing stored results.
    data_cache : Path or None
        Folder of the memory-mapped array cache of validated subject data
        (None: read the FIF files every time).
    backend : {"local", "dask"}
        Where tasks run: ``"local"`` forks one process per task on this
        machine; ``"dask"`` submits them to a dask.distributed cluster.
    scheduler : str or None
        Address of a running dask scheduler (``tcp://host:8786``); None with
        ``backend="dask"`` starts a ``LocalCluster`` for the run.
    """

    data: Path
    out: Path
    decoders: tuple[str, ...] | None = None
    subjects: tuple[str, ...] | None = None
    n_jobs: int = 1
    seed: int = 0
    localizer_folds: int = 5
    progress: bool = True
    timeout: float | None = 1800.0
    max_memory_mb: float | None = None
    force: bool = False
    data_cache: Path | None = None
    backend: str = "local"
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.n_jobs == 0 or self.n_jobs < -1:
            raise ValueError(f"n_jobs must be a positive integer or -1, got {self.n_jobs}.")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"timeout must be positive seconds, got {self.timeout}.")
        if self.localizer_folds == 1 or self.localizer_folds < 0:
            raise ValueError(f"localizer_folds must be 0 (skip) or >= 2, got {self.localizer_folds}.")
        if self.backend not in BACKENDS:
            allowed = " and ".join(repr(b) for b in BACKENDS)
            raise ValueError(f"backend: allowed values are {allowed}, but got {self.backend!r}.")
        if self.scheduler is not None and self.backend != "dask":
            raise ValueError(
                f"a scheduler address ({self.scheduler!r}) is only used with backend='dask', "
                f"got backend={self.backend!r}; add --backend dask or drop --scheduler."
            )

    def to_dict(self) -> dict:
        """JSON-ready representation (paths as strings)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
