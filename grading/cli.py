"""``python -m grading`` / ``grade-notebooks``: grade a batch of notebooks in parallel."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TextIO

from frametabs.frameworks import FRAMEWORKS
from grading import shards
from grading.gradebook import STATUS_TEXT, Gradebook
from grading.grader import GradeOptions, SubmissionReport, grade_submission, submission_id
from grading.report import write_reports
from grading.results import plural
from grading.sandbox import Limits, isolation_mode
from grading.serve import EvaluatorPool
from grading.shards import WHOLE, Shard, parse_shard
from grading.templates import TemplatePool, template_environment

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
        epilog="Juntar shards: python -m grading merge NOTAS_0 ... NOTAS_N-1 --out NOTAS",
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
    parser.add_argument(
        "--shard",
        type=parse_shard,
        metavar="I/N",
        help="corrigir só a parte I de N (0 ≤ I < N) das submissões ordenadas; exige --seed",
    )
    parser.add_argument("--quiet", action="store_true", help="sem barra de progresso (scripts)")
    parser.add_argument(
        "--fresh-processes",
        action="store_true",
        help="um avaliador novo por submissão (mais lento; as notas são as mesmas)",
    )
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


def status_counts(statuses: Iterable[str]) -> str:
    """``corrigida: 3, tempo esgotado: 0, ...``: every status, in Portuguese, in a fixed order."""
    counts = Counter(statuses)
    known = [f"{text}: {counts.pop(status, 0)}" for status, text in STATUS_TEXT.items()]
    unknown = [f"{status}: {n}" for status, n in sorted(counts.items())]
    return ", ".join(known + unknown)


def _summary(
    reports: list[SubmissionReport],
    seconds: float,
    seed: int,
    out: Path,
    failed: int = 0,
    shard: Shard = WHOLE,
) -> str:
    """The last line: counts per status (``failed``: grader failures without a report)."""
    statuses = [report.status for report in reports] + ["grader_error"] * failed
    rate = 60 * len(statuses) / seconds if seconds else 0.0
    where = f"shard {shard}: " if shard != WHOLE else ""
    return (
        f"{where}{plural(len(statuses), 'submissão corrigida', 'submissões corrigidas')} "
        f"em {seconds:.1f} s "
        f"({rate:.1f} por minuto); {status_counts(statuses)}; semente {seed}; "
        f"resultados em {out}"
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.shard is not None and args.seed is None:
        parser.error("--shard exige --seed (todos os shards precisam da mesma semente)")
    paths = collect(args.submissions)
    if not paths:
        print("nenhum notebook encontrado", file=sys.stderr)
        return 2
    ids = [submission_id(p) for p in paths]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        print(f"ids repetidos (nomes de arquivo iguais): {', '.join(duplicated)}", file=sys.stderr)
        return 2
    shard = args.shard or WHOLE
    mine = shards.select(paths, shard)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    options = _options(args, seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / shards.MANIFEST).unlink(missing_ok=True)  # written again once this run is done
    mode = isolation_mode()
    part = f"; shard {shard}: {len(mine)} de {len(paths)} submissões" if args.shard else ""
    print(f"isolamento: {ISOLATION_TEXT[mode]}; semente {seed}{part}", file=sys.stderr)
    started = time.monotonic()
    reports, failed = _grade_all(mine, options, args)
    graded = [submission_id(path) for path in mine]
    document = shards.manifest(options, shard, ids, graded, failed, mode)
    shards.write_manifest(args.out, document)
    seconds = time.monotonic() - started
    print(_summary(reports, seconds, seed, args.out, len(failed), shard))
    errors = sum(report.status == "grader_error" for report in reports)
    return 1 if failed or errors else 0


def _options(args: argparse.Namespace, seed: int) -> GradeOptions:
    limits = Limits(
        submission_timeout=args.timeout,
        check_timeout=args.check_timeout,
        cell_timeout=args.cell_timeout,
        address_space=int(args.memory_gib * 2**30),
    )
    return GradeOptions(seed=seed, framework=args.framework, limits=limits)


def _grade_all(
    paths: list[Path], options: GradeOptions, args: argparse.Namespace
) -> tuple[list[SubmissionReport], list[str]]:
    """Grade ``paths`` in parallel; the reports and the ids whose grading itself raised."""
    gradebook = Gradebook(args.out / "gradebook.csv")
    gradebook.write()  # a run with nothing to grade still leaves a (header-only) gradebook
    reports: list[SubmissionReport] = []
    failed: list[str] = []
    progress = _progress(len(paths), args.quiet)
    evaluators = templates = None
    if not args.fresh_processes:
        if isolation_mode() == "namespaces":
            timeout = options.limits.import_timeout
            templates = TemplatePool(template_environment(), timeout)
        evaluators = EvaluatorPool(  # one server per framework per four grading threads
            options.limits, size=-(-args.jobs // 4), templates=templates
        )
    options = dataclasses.replace(options, evaluators=evaluators, templates=templates)
    with contextlib.ExitStack() as stack:
        for shared in (evaluators, templates):
            if shared is not None:
                stack.callback(shared.close)
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=max(args.jobs, 1)))
        futures = {pool.submit(grade_submission, path, options): path for path in paths}
        for future in as_completed(futures):
            try:
                report = future.result()
                write_reports(report, args.out)
                gradebook.add(report)
                reports.append(report)
            except Exception as error:  # the grader's own failure: say so, keep going
                failed.append(submission_id(futures[future]))
                print(f"falha do corretor em {futures[future]}: {error!r}", file=sys.stderr)
            progress.update(1)
    progress.close()
    return reports, failed


BAR_FORMAT = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
    "[{elapsed} passados, faltam ~{remaining}, {rate_noinv_fmt}]"
)


def _progress(total: int, quiet: bool, file: TextIO | None = None):
    """The bar on stderr: done/total, submissions per second and the time left (estimate).

    The rate is the average since the start (``smoothing=0``): parallel workers finish in
    bursts, and a running average would make the estimate jump with each burst.
    """
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc="corrigindo",
        unit=" submissões",
        bar_format=BAR_FORMAT,
        smoothing=0,
        disable=quiet,
        file=file if file is not None else sys.stderr,
    )
