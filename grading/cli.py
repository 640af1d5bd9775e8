"""``python -m grading`` / ``grade-notebooks``: grade a batch of notebooks in parallel."""

from __future__ import annotations

import argparse
import importlib
import os
import secrets
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from frametabs.frameworks import FRAMEWORKS
from grading.gradebook import STATUS_TEXT, Gradebook
from grading.grader import GradeOptions, SubmissionReport, grade_submission, submission_id
from grading.report import write_reports
from grading.sandbox import Limits, isolation_mode

ISOLATION_TEXT = {
    "namespaces": (
        "namespaces de PID, rede, montagem, IPC, UTS e cgroup; raiz só com o ambiente do "
        "Python (somente leitura); usuário sem privilégios e exclusivo"
    ),
    "userns": "namespace de usuário, PID, rede, montagem, IPC, UTS e cgroup",
    "none": "só limites de recursos e grupo de processos (sem namespaces nesta máquina)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grading",
        description="Corrige notebooks de exercícios (TensorReduction e FourierHalf).",
    )
    parser.add_argument("submissions", nargs="+", type=Path, help="notebooks ou pastas")
    parser.add_argument("--out", type=Path, required=True, help="pasta dos resultados")
    cores = os.cpu_count() or 1
    parser.add_argument("--jobs", type=int, default=cores, help="correções em paralelo")
    parser.add_argument("--seed", type=int, default=None, help="semente (padrão: aleatória)")
    parser.add_argument("--framework", choices=FRAMEWORKS, help="exigir um framework")
    parser.add_argument("--timeout", type=float, default=300.0, help="segundos por submissão")
    parser.add_argument("--check-timeout", type=float, default=20.0, help="s por verificação")
    parser.add_argument("--cell-timeout", type=float, default=60.0, help="segundos por célula")
    parser.add_argument("--memory-gib", type=float, default=8.0, help="memória virtual (GiB)")
    parser.add_argument("--quiet", action="store_true", help="sem barra de progresso")
    return parser


def collect(paths: list[Path]) -> list[Path]:
    """Notebook entries from files and folders (non-recursive), each once, sorted by id.

    Every entry of a folder named ``*.ipynb`` is listed as it is, whatever it is (a link, a
    folder, a FIFO): links are never followed nor resolved, so each entry gets its own row
    and ``read_submission`` says what is wrong with it. A path given twice (compared as
    written, made absolute without resolving links nor ``..``) counts once.
    """
    found: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():  # the instructor's folder (a link to one is followed)
            with os.scandir(path) as entries:
                names = sorted(entry.name for entry in entries if entry.name.endswith(".ipynb"))
            candidates = [path / name for name in names]
        else:
            candidates = [path]
        for candidate in candidates:
            found.setdefault(str(candidate.absolute()), candidate)
    return sorted(found.values(), key=lambda p: (submission_id(p), str(p)))


def _summary(reports: list[SubmissionReport], seconds: float, seed: int, out: Path) -> str:
    counts = Counter(report.status for report in reports)
    parts = ", ".join(f"{STATUS_TEXT.get(s, s)}: {n}" for s, n in sorted(counts.items()))
    rate = 60 * len(reports) / seconds if seconds else 0.0
    return (
        f"{len(reports)} submissões corrigidas em {seconds:.1f} s ({rate:.1f} por minuto); "
        f"{parts}; semente {seed}; resultados em {out}"
    )


SUBCOMMANDS = {
    "gradescope": "grading.gradescope",  # write Gradescope's autograder zip
    "merge": "grading.merge",  # join the reports of sharded runs
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SUBCOMMANDS:  # ``./gradescope`` still names a folder
        return importlib.import_module(SUBCOMMANDS[argv[0]]).main(argv[1:])
    return grade(argv)


def grade(argv: list[str]) -> int:
    """Grade the notebooks ``argv`` names (the default command)."""
    args = build_parser().parse_args(argv)
    paths = collect(args.submissions)
    if not paths:
        print("nenhum notebook encontrado", file=sys.stderr)
        return 2
    ids = [submission_id(p) for p in paths]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        print(f"ids repetidos (nomes de arquivo iguais): {', '.join(duplicated)}", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    args.out.mkdir(parents=True, exist_ok=True)
    limits = Limits(
        submission_timeout=args.timeout,
        check_timeout=args.check_timeout,
        cell_timeout=args.cell_timeout,
        address_space=int(args.memory_gib * 2**30),
    )
    options = GradeOptions(seed=seed, framework=args.framework, limits=limits)
    mode = isolation_mode()
    print(f"isolamento: {ISOLATION_TEXT[mode]}; semente {seed}", file=sys.stderr)
    gradebook = Gradebook(args.out / "gradebook.csv")
    reports: list[SubmissionReport] = []
    failures = 0
    started = time.monotonic()
    progress = _progress(len(paths), args.quiet)
    with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        futures = {pool.submit(grade_submission, path, options): path for path in paths}
        for future in as_completed(futures):
            try:
                report = future.result()
                write_reports(report, args.out)
                gradebook.add(report)
                reports.append(report)
                failures += report.status == "grader_error"
            except Exception as error:  # the grader's own failure: say so, keep going
                failures += 1
                print(f"falha do corretor em {futures[future]}: {error!r}", file=sys.stderr)
            progress.update(1)
    progress.close()
    print(_summary(reports, time.monotonic() - started, seed, args.out))
    return 1 if failures else 0


def _progress(total: int, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="corrigindo", unit="notebook", disable=quiet, file=sys.stderr)
