"""What each subcommand of ``python -m benchmark`` does, given its parsed arguments."""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmark.errors import EXPECTED
from benchmark.parser import program_name, run_options

logger = logging.getLogger("benchmark")


def cmd_list(args: argparse.Namespace) -> int:
    """List the decoders the registry finds (``list``)."""
    from tabulate import tabulate

    from benchmark.registry import discover, markdown_table

    registry = discover(strict=False, pipelines=args.moabb_pipelines)
    if args.markdown:
        print(markdown_table(registry), end="")
        return 1 if registry.broken else 0
    rows = [(s.name, s.family, "yes" if s.ranked else "no", s.description) for s in registry.specs.values()]
    print(tabulate(rows, headers=["name", "family", "ranked", "description"], tablefmt="github"))
    for origin, message in registry.broken.items():
        print(f"BROKEN {origin}: {message}", file=sys.stderr)
    return 1 if registry.broken else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Write a simulated dataset in the official layout (``simulate``)."""
    from datasets.simulate import SimulationConfig, simulate_dataset

    overrides = {
        key: value
        for key, value in (
            ("n_train", args.n_train),
            ("n_test", args.n_test),
            ("alpha", args.alpha),
            ("snr", args.snr),
            ("seed", args.seed),
        )
        if value is not None
    }
    config = SimulationConfig.full(**overrides) if args.full else SimulationConfig(**overrides)
    truth = simulate_dataset(args.out, config, truth_dir=args.truth)
    print(f"dataset written to {args.out}; ground truth (not for decoders) in {truth}")
    return 0


def _did_you_mean(name: str, valid: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _check_decoders(names: Sequence[str] | None, pipelines: Sequence[Path] = ()) -> None:
    """Raise UnknownDecoderError with a suggestion for the first unknown decoder name."""
    if not names:
        return
    from benchmark.errors import UnknownDecoderError
    from benchmark.registry import discover

    valid = discover(strict=False, pipelines=pipelines).names
    for name in names:
        if name not in valid:
            raise UnknownDecoderError(
                f"Unknown decoder {name!r}.{_did_you_mean(name, valid)} Valid names: {', '.join(valid)}."
            )


def _check_subjects(names: Sequence[str] | None, data: Path) -> None:
    """Raise DatasetError with a suggestion for the first subject not in the dataset at ``data``."""
    if not names:
        return
    from benchmark.errors import DatasetError
    from datasets.adapter import ChallengeDataset

    valid = ChallengeDataset(data).subjects
    for name in names:
        if name not in valid:
            raise DatasetError(
                f"Unknown subject {name!r} in {data}.{_did_you_mean(name, valid)} "
                f"Available: {', '.join(valid)}."
            )


def cmd_run(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """Run decoders on a dataset and publish the reports (``run``)."""
    from benchmark.config import build_run_config

    options = run_options(args, argv)
    data = options["data"]
    if data is None or (options.get("config_file") and not Path(data).exists() and _is_cached_default(data)):
        from datasets.default import default_dataset

        if data is not None:
            logger.warning("%s (from %s) is not on this machine: using the simulated default dataset",
                           data, options["config_file"])  # fmt: skip
        else:
            logger.info("no --data given: using the simulated default dataset")
        data = default_dataset(on_generate=_announce_simulation, n_jobs=options.get("n_jobs") or 1)
    progress = options["progress"] and sys.stderr.isatty()  # never redraws in a redirected stderr
    config = build_run_config({**options, "data": data, "progress": progress})
    _check_decoders(config.decoders, config.moabb_pipelines or ())
    _check_subjects(config.subjects, config.data)
    if config.backend == "dask":  # distributed logs every worker's start and stop, and sets its own level
        import dask.config

        dask.config.set({"distributed.logging.distributed": "warning"})
    from benchmark.experiment import run_benchmark

    summary = run_benchmark(config)
    print((config.out / "leaderboard.md").read_text())
    config_file = options.get("config_file")
    if config_file is not None and Path(config_file).suffix == ".json":
        _warn_if_other_dataset(Path(config_file), config.out / "run.json")
    if summary.failures:
        print(f"{len(summary.failures)} task(s) failed:", file=sys.stderr)
        for row in summary.failures:
            print(f"  {row['decoder']} on {row['subject']}: {row['error']}", file=sys.stderr)
        for origin, message in summary.broken.items():
            print(f"  broken decoder file {origin}: {message}", file=sys.stderr)
        return 1
    return 0


def _announce_simulation(folder: Path) -> None:
    """Say on stderr that the first run simulates the default dataset (minutes with no other output)."""
    print(f"simulating the default dataset once into {folder} (a few minutes; later runs reuse it)",
          file=sys.stderr)  # fmt: skip


def _is_cached_default(data: Path) -> bool:
    """Whether ``data`` looks like a simulated default dataset's root (``.../simulated-<hash>/data``).

    A replayed ``run.json`` from another machine names that machine's cache
    folder; the default dataset is then generated here instead.
    """
    path = Path(data)
    return path.name == "data" and path.parent.name.startswith("simulated-")


def _warn_if_other_dataset(recorded: Path, written: Path) -> None:
    """Warn when a replayed run.json's dataset fingerprint differs from the new run's.

    The fingerprint reads file sizes, mtimes and blocks, so the same default
    simulation regenerated on another machine gets a new one. When both runs
    used the default simulated dataset of the same simulation key (the
    ``simulated-<key>`` folder: simulator version and every parameter), the
    data are the same by construction and only a note is printed.
    """
    import json

    try:
        old_info = json.loads(recorded.read_text())
        new_info = json.loads(written.read_text())
    except (OSError, ValueError):
        return
    old, new = old_info.get("fingerprint"), new_info.get("fingerprint")
    if not (old and new and old != new):
        return
    old_key, new_key = (simulation_key(info.get("dataset_root")) for info in (old_info, new_info))
    if old_key and old_key == new_key:
        print(
            f"note: the default simulated dataset {old_key} was regenerated here (fingerprint {new}, "
            f"recorded {old}): same simulator version and parameters, so the same data.",
            file=sys.stderr,
        )
        return
    print(
        f"warning: dataset fingerprint {new} differs from {old} recorded in {recorded}: either other "
        "data, or the same files rewritten (the fingerprint reads sizes, modification times and "
        "blocks); compare the scores with the recorded run's.",
        file=sys.stderr,
    )


def simulation_key(dataset_root: str | None) -> str | None:
    """Return the ``simulated-<key>`` folder name of a default simulated dataset's root, else None."""
    if not dataset_root:
        return None
    path = Path(str(dataset_root))
    return path.parent.name if _is_cached_default(path) else None


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the alpha sweep (``sweep``)."""
    from benchmark.sweep import run_sweep, simulation_overrides

    results = run_sweep(
        args.alpha,
        args.out,
        decoders=args.decoder,
        simulation=simulation_overrides(n_train=args.n_train, snr=args.snr, seed=args.seed),
        run={"n_jobs": args.n_jobs, "seed": args.seed, "localizer_folds": args.localizer_folds},
    )
    print((args.out / "simulation.md").read_text())
    failed = results[results["status"] != "ok"]
    return 1 if len(failed) else 0


def cmd_robustness(args: argparse.Namespace) -> int:
    """Run the robustness matrix (``robustness``)."""
    from benchmark.robustness import QUICK, ROBUSTNESS_ALPHAS, run_robustness

    simulation: dict = {"n_train": args.n_train, "seed": args.seed}
    regimes, alphas, decoders = args.regime, args.alpha or ROBUSTNESS_ALPHAS, args.decoder
    if args.quick:
        simulation = {**simulation, **QUICK["simulation"]}
        regimes = regimes or QUICK["regimes"]
        alphas = args.alpha or QUICK["alphas"]
        decoders = decoders or QUICK["decoders"]
    results = run_robustness(
        args.out,
        regimes=regimes,
        alphas=alphas,
        decoders=decoders,
        simulation=simulation,
        run={"n_jobs": args.n_jobs, "seed": args.seed, "localizer_folds": args.localizer_folds},
    )
    print((args.out / "robustness.md").read_text())
    failed = results[results["status"] != "ok"]
    return 1 if len(failed) else 0


def _reads_files(*where: str):
    """Turn any error a malformed stored file causes in a command into exit 2 naming the input.

    The commands that read stored files (report, compare, submit) check what
    they read and raise errors naming the file; this is the net under those
    checks: a KeyError or TypeError from an unforeseen malformation is
    reported as bad input, never as a traceback (which would exit 1, the code
    for failed tasks).
    """

    def wrap(command):
        @functools.wraps(command)
        def checked(args: argparse.Namespace) -> int:
            try:
                return command(args)
            except EXPECTED:  # already names the file or the name (UnknownDecoderError is a KeyError)
                raise
            except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
                logger.debug("traceback of the error below", exc_info=True)
                names = " or ".join(str(getattr(args, w)) for w in where if getattr(args, w, None))
                print(
                    f"error: malformed input in {names or 'the input files'}: {type(exc).__name__}: {exc}. "
                    "Were the files written by `python -m benchmark run`? (-vv shows the traceback)",
                    file=sys.stderr,
                )
                return 2

        return checked

    return wrap


@_reads_files("results_dir")
def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild the reports of a stored run (``report``)."""
    import shutil

    from benchmark.journal import TASKS_FILE, load_for_report
    from benchmark.outdir import OutputLock
    from benchmark.publish import publish_reports

    rows, run_info = load_for_report(args.results_dir)
    out = args.out or args.results_dir
    if args.append_history and out.resolve() != args.results_dir.resolve():
        history = args.results_dir / "history.csv"
        if history.is_file() and not (out / "history.csv").exists():
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(history, out / "history.csv")
    with OutputLock(out):
        publish_reports(rows, out, run_info, record_history=args.append_history, n_jobs=-1)
    if out.resolve() != args.results_dir.resolve():
        shutil.copyfile(args.results_dir / TASKS_FILE, out / TASKS_FILE)
    print((out / "leaderboard.md").read_text())
    return 0


@_reads_files("from_run", "data")
def cmd_submit(args: argparse.Namespace) -> int:
    """Write a Kaggle submission for one decoder (``submit``)."""
    import tempfile

    import pandas as pd

    from benchmark.config import expand_path
    from benchmark.errors import DatasetError
    from benchmark.files import read_json_object
    from benchmark.registry import discover
    from benchmark.submissions import expected_submission_ids, submission_frame, validate_submission
    from datasets.adapter import ChallengeDataset

    registry = discover(strict=False)
    stored = args.from_run / "submissions" / f"{args.decoder}.csv" if args.from_run is not None else None
    if stored is None or not stored.is_file():  # a stored file of a since-removed decoder stays usable
        _check_decoders([args.decoder])
    spec = registry.specs.get(args.decoder)
    if spec is not None and not spec.ranked:
        if not args.force_unranked:
            print(
                f"error: {args.decoder} is not ranked ({spec.description.rstrip('.')}); its predictions "
                "may use information a real submission cannot have (the oracle reads the simulation's "
                "ground truth). Pass --force-unranked to write it anyway.",
                file=sys.stderr,
            )
            return 2
        logger.warning("%s is not ranked: writing its submission because of --force-unranked", args.decoder)
    data = args.data
    if data is None and args.from_run is not None:
        info_file = args.from_run / "run.json"
        if info_file.is_file():
            recorded = read_json_object(info_file).get("dataset_root")
            data = expand_path(recorded) if recorded else None
            if data is not None and not data.is_dir():
                raise DatasetError(
                    f"the dataset root {recorded} recorded in {info_file} does not exist on this machine; "
                    "pass --data PATH to validate against your copy of the dataset."
                )
    dataset = ChallengeDataset(data)
    test_subjects = dataset.subjects_in("test")
    if not test_subjects:
        print(f"error: {dataset.root} has no test subjects to submit for", file=sys.stderr)
        return 2
    if args.from_run is not None:
        source = args.from_run / "submissions" / f"{args.decoder}.csv"
        if not source.is_file():
            print(
                f"error: {source} not found; run `python -m benchmark run` first or drop --from-run",
                file=sys.stderr,
            )
            return 2
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            print(f"error: {source} is not a readable CSV file ({exc}).", file=sys.stderr)
            return 2
    else:
        from benchmark.config import RunConfig
        from benchmark.experiment import run_benchmark

        with tempfile.TemporaryDirectory(prefix="imagine-submit-") as tmp:
            config = RunConfig(
                data=data, out=Path(tmp), decoders=(args.decoder,), subjects=tuple(test_subjects),
                n_jobs=args.n_jobs, seed=args.seed, localizer_folds=0, progress=False,
            )  # fmt: skip
            summary = run_benchmark(config)
        if summary.failures:
            for row in summary.failures:
                print(f"error: {row['decoder']} on {row['subject']}: {row['error']}", file=sys.stderr)
            return 1
        frame = submission_frame(summary.rows, args.decoder)
    validate_submission(frame, expected_submission_ids(dataset))
    out = args.out or Path(f"submission-{args.decoder}.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    from datasets.truth import find_truth_dir

    if find_truth_dir(dataset.root) is not None:
        print(
            f"SIMULATED DATA: {out} holds predictions for the simulated test subjects of {dataset.root}; "
            "Kaggle rejects it (it only shows the format). `python -m benchmark download` fetches the "
            "real data."
        )
    print(
        f"{out}: {len(frame)} rows for {len(test_subjects)} test subject(s), "
        f"validated against {dataset.root}. The public leaderboard scores all test rows: "
        "choose decoders on the train subjects, not by submitting."
    )
    return 0


@_reads_files("old", "new")
def cmd_compare(args: argparse.Namespace) -> int:
    """Compare two report folders (``compare``)."""
    from benchmark.compare import compare_runs

    result = compare_runs(args.old, args.new, runtime_tolerance=args.runtime_tolerance)
    print(result.to_markdown())
    if args.changes_json is not None:
        import json

        args.changes_json.parent.mkdir(parents=True, exist_ok=True)
        args.changes_json.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return 1 if result.failed else 0


def cmd_download(args: argparse.Namespace) -> int:
    """Download, verify and unpack the challenge's data (``download``)."""
    import shlex

    from benchmark.download import ZENODO_API, ZENODO_DOI, fetch_record, record_id
    from datasets.default import cache_home

    doi = args.doi or ZENODO_DOI
    dest = args.dest or cache_home() / f"zenodo-{record_id(doi)}"
    root = fetch_record(
        dest, doi, args.api or ZENODO_API, retries=args.retries,
        progressbar=not args.no_progress and sys.stderr.isatty(), keep_archives=not args.remove_archives,
    )  # fmt: skip
    print(f"doi:{doi} downloaded, verified and unpacked into {dest}.\nRun on it with:")
    print(f"  {program_name()} run --all --data {shlex.quote(str(root))}")
    return 0
