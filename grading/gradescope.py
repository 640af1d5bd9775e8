"""``python -m grading gradescope``: Gradescope's autograder zip, and the step it runs there.

Build (instructors)::

    python -m grading gradescope --out autograder.zip [--seed N] [--framework F] [--timeout S]

writes a zip in Gradescope's layout. Gradescope unpacks it into ``/autograder/source``, runs
``setup.sh`` there once (as root, with internet) to install the pinned environment, then runs
``run_autograder`` once per submission. ``run_autograder`` calls the second action of this
module::

    python -m grading.gradescope autograde [--root /autograder]

which grades the notebook in ``<root>/submission/`` with ``python -m grading`` and the seed
baked into the zip (``gradescope.json``), and writes ``<root>/results/results.json``: the
grader's own results (already in Gradescope's format) plus a line naming the isolation mode
that applied. It always writes a results file, with score 0 and a message in Portuguese when
there is no notebook or the grader failed.

Both scripts take the root from ``AUTOGRADER_ROOT`` (default ``/autograder``), the unpacked
zip from ``AUTOGRADER_SOURCE`` (default ``<root>/source``), the virtual environment from
``GRADING_VENV`` (default ``<root>/venv``) and ``run_autograder`` its interpreter from
``GRADING_PYTHON`` (default ``$GRADING_VENV/bin/python``), so a test can run them against an
existing environment.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from frametabs.frameworks import FRAMEWORKS
from frametabs.publish import package_folders
from grading.results import plural

PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", "requirements.txt")
CONFIG_NAME = "gradescope.json"
ASSIGNMENT = "exercises.ipynb"  # the student copy's name (chapters/exercises.ipynb)
ROOT_VARIABLE = "AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip holds: builds are byte-identical
SKIPPED_DIRS = frozenset({"__pycache__"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
GRADE_MARGIN = 300.0  # seconds past the submission timeout before the runner gives up
LOG_TAIL = 4000

NO_NOTEBOOK = (
    "Nenhum notebook (.ipynb) foi encontrado na sua submissão. Envie o arquivo "
    f"{ASSIGNMENT} preenchido (o notebook de exercícios do capítulo)."
)
GRADER_FAILED = (
    "Erro interno do corretor: a correção não produziu resultados (o professor foi avisado; "
    "envie de novo mais tarde)."
)

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root and with internet, when it builds the autograder image:
# Python 3.11, util-linux (unshare) and the project's pinned environment (requirements.txt).
# AUTOGRADER_ROOT (default /autograder), AUTOGRADER_SOURCE (default $ROOT/source, this zip),
# GRADING_VENV (default $ROOT/venv) and GRADING_BASE_PYTHON (default python3.11) move it.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="${AUTOGRADER_SOURCE:-$ROOT/source}"
VENV="${GRADING_VENV:-$ROOT/venv}"
BASE_PYTHON="${GRADING_BASE_PYTHON:-python3.11}"
# torch==2.13.0 is pinned as the CPU build: its index has the +cpu wheel (no CUDA packages).
TORCH_INDEX="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
export DEBIAN_FRONTEND=noninteractive

apt_install() { apt-get install -y -q --no-install-recommends "$@"; }

apt-get update -q
apt_install ca-certificates util-linux libgomp1
if ! command -v "$BASE_PYTHON" >/dev/null; then
  if ! apt_install python3.11 python3.11-venv python3.11-dev; then
    apt_install software-properties-common gpg-agent
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -q
    apt_install python3.11 python3.11-venv python3.11-dev
  fi
elif ! "$BASE_PYTHON" -c "import ensurepip" 2>/dev/null; then
  apt_install python3.11-venv
fi

"$BASE_PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet --extra-index-url "$TORCH_INDEX" \\
  -r "$SOURCE/requirements.txt"
"$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e "$SOURCE"
chmod 755 "$SOURCE/run_autograder"
"$VENV/bin/python" -c "import grading.gradescope, mxnet, torch, tensorflow"
echo "setup.sh: environment ready in $VENV"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission: grade the notebook in $ROOT/submission/ into
# $ROOT/results/results.json, which it always leaves behind (score 0 if the grader failed).
# AUTOGRADER_ROOT (default /autograder), AUTOGRADER_SOURCE (default $ROOT/source),
# GRADING_VENV (default $ROOT/venv) and GRADING_PYTHON (default $GRADING_VENV/bin/python).
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="${AUTOGRADER_SOURCE:-$ROOT/source}"
PYTHON="${GRADING_PYTHON:-${GRADING_VENV:-$ROOT/venv}/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
status=0
(cd "$SOURCE" && exec "$PYTHON" -m grading.gradescope autograde --root "$ROOT") || status=$?
if [ ! -s "$RESULTS" ]; then
  echo "run_autograder: the grader wrote no results (exit status $status)"
  cat > "$RESULTS" <<'JSON'
__FALLBACK__
JSON
fi
exit 0
"""


@dataclass(frozen=True)
class Config:
    """What the zip fixes for every submission (``gradescope.json``)."""

    seed: int
    framework: str | None = None
    timeout: float | None = None
    assignment: str = ASSIGNMENT

    @classmethod
    def load(cls, path: Path) -> Config:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})

    def dumps(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


# --- the zip ----------------------------------------------------------------------------


def project_root() -> Path:
    """The folder holding ``pyproject.toml`` and the packages (the checkout or the zip)."""
    return Path(__file__).resolve().parents[1]


def _package_files(root: Path, package: str) -> list[str]:
    """Every file of ``package`` (data included), relative to ``root``, in sorted order."""
    found = []
    for folder, dirs, files in os.walk(root / package):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name.endswith(SKIPPED_SUFFIXES):
                continue
            found.append((Path(folder) / name).relative_to(root).as_posix())
    return found


def project_files(root: Path | None = None) -> list[str]:
    """The project's files the zip carries: the packages and what ``pip install`` needs."""
    root = project_root() if root is None else root
    missing = [name for name in PROJECT_FILES if not (root / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{root} is not the project's checkout (no {', '.join(missing)})")
    names = list(PROJECT_FILES)
    for folder in package_folders(root):  # pyproject.toml's package search, as for the wheel
        names += _package_files(root, folder.name)
    return sorted(names)


def fallback_results(message: str, status: str, seed: int | None = None) -> dict[str, Any]:
    """Score 0: every check of both exercises failed with ``message`` (Gradescope's format)."""
    from grading import checks

    tests = [
        {
            "name": f"{exercise} · — · {check.title}",
            "score": 0.0,
            "max_score": float(check.points),
            "status": "failed",
            "output": message,
            "visibility": "visible",
        }
        for exercise in checks.EXERCISES
        for check in checks.checks_for(exercise)
    ]
    return {
        "score": 0.0,
        "output": message,
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"seed": seed, "status": status},
    }


def generated_files(config: Config) -> dict[str, tuple[bytes, int]]:
    """The files the zip adds to the project's: name -> (content, permission bits)."""
    fallback = json.dumps(
        fallback_results(GRADER_FAILED, "grader_error", config.seed), ensure_ascii=False
    )
    run = RUN_AUTOGRADER.replace("__FALLBACK__", fallback)
    return {
        "setup.sh": (SETUP_SH.encode(), 0o755),
        "run_autograder": (run.encode(), 0o755),
        CONFIG_NAME: (config.dumps().encode(), 0o644),
    }


def _member(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix: unzip restores the permission bits below
    info.external_attr = (stat.S_IFREG | mode) << 16
    return info


def build_zip(out: Path, config: Config, root: Path | None = None) -> list[str]:
    """Write the autograder zip to ``out``; return its member names (sorted)."""
    root = project_root() if root is None else root
    members = {name: ((root / name).read_bytes(), 0o644) for name in project_files(root)}
    members.update(generated_files(config))
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(temporary, "w") as archive:
        for name in sorted(members):
            data, mode = members[name]
            archive.writestr(_member(name, mode), data)
    os.replace(temporary, out)
    return sorted(members)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grading gradescope",
        description="Gera o zip do autograder do Gradescope (setup.sh e run_autograder).",
        epilog="No Gradescope, run_autograder chama: python -m grading.gradescope autograde",
    )
    parser.add_argument("--out", type=Path, required=True, help="o zip a escrever")
    parser.add_argument("--seed", type=int, default=None, help="semente (padrão: aleatória)")
    parser.add_argument("--framework", choices=FRAMEWORKS, help="exigir um framework")
    parser.add_argument("--timeout", type=float, default=None, help="segundos por submissão")
    parser.add_argument("--quiet", action="store_true", help="não imprimir onde está o zip")
    return parser


def build(argv: list[str]) -> int:
    """``python -m grading gradescope --out ZIP``: write the zip, say where it is."""
    args = build_parser().parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    config = Config(seed=seed, framework=args.framework, timeout=args.timeout)
    members = build_zip(args.out, config)
    if not args.quiet:
        print(
            f"autograder do Gradescope em {args.out.resolve()} "
            f"({plural(len(members), 'arquivo', 'arquivos')}; "
            f"semente {seed}): envie-o em Configure Autograder > Zip file upload"
        )
    return 0


# --- the step Gradescope runs per submission ----------------------------------------------


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def find_notebooks(submission: Path) -> list[Path]:
    """The submission's notebooks: ``*.ipynb`` at the top, else anywhere below (sorted).

    Top-level entries are listed whatever they are (the grader says what is wrong with a
    link or a folder); below the top, only files, no links followed, no hidden folders.
    """
    if not submission.is_dir():
        return []
    top = sorted(p for p in submission.iterdir() if p.name.endswith(".ipynb"))
    if top:
        return top
    found = []
    for folder, dirs, files in os.walk(submission):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if name.endswith(".ipynb") and not _hidden(path.relative_to(submission)):
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(submission).as_posix())


def choose_notebook(
    notebooks: list[Path], submission: Path, assignment: str = ASSIGNMENT
) -> tuple[Path | None, str | None]:
    """The notebook to grade and, when there were several, a line saying which one."""
    if not notebooks:
        return None, None
    named = [p for p in notebooks if p.name == assignment]
    chosen = (named or notebooks)[0]
    if len(notebooks) == 1:
        return chosen, None
    from grading.report import plain_text

    def shown(path: Path) -> str:
        return plain_text(path.relative_to(submission).as_posix(), 120)

    listed = ", ".join(shown(p) for p in notebooks[:10])
    more = f" e mais {len(notebooks) - 10}" if len(notebooks) > 10 else ""
    why = f"o de nome {assignment}" if named else "o primeiro em ordem alfabética"
    note = (
        f"Foram enviados {plural(len(notebooks), 'notebook', 'notebooks')} ({listed}{more}); "
        f"corrigido só {shown(chosen)} ({why})."
    )
    return chosen, note


def isolation_line(results: dict[str, Any]) -> str:
    """The Portuguese line naming the isolation mode the grader reported it used."""
    from grading.cli import ISOLATION_TEXT
    from grading.report import plain_text

    mode = str(results.get("extra_data", {}).get("isolation", ""))
    text = ISOLATION_TEXT.get(mode, plain_text(mode or "desconhecido", 40))
    return f"Isolamento desta correção: {text}."


def _grade_command(notebook: Path, out: Path, config: Config) -> list[str]:
    command = [sys.executable, "-m", "grading", str(notebook), "--out", str(out)]
    command += ["--seed", str(config.seed), "--jobs", "1", "--quiet"]
    if config.framework:
        command += ["--framework", config.framework]
    if config.timeout is not None:
        command += ["--timeout", str(config.timeout)]
    return command


def grade_notebook(notebook: Path, config: Config, scratch: Path) -> dict[str, Any] | None:
    """``python -m grading NOTEBOOK`` in a fresh interpreter; its results.json, or None.

    The grader's own messages go to this process's standard output, which Gradescope
    shows the instructor only.
    """
    from grading.grader import submission_id

    limit = (config.timeout if config.timeout is not None else 300.0) + GRADE_MARGIN
    try:
        done = subprocess.run(
            _grade_command(notebook, scratch, config),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=limit,
            cwd=project_root(),
        )
    except subprocess.TimeoutExpired:
        print(f"autograde: python -m grading ran past {limit:.0f} s")
        return None
    print(f"autograde: python -m grading exited with {done.returncode}")
    print(done.stderr[-LOG_TAIL:] + done.stdout[-LOG_TAIL:])
    path = scratch / submission_id(notebook) / "results.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"autograde: no readable results at {path}: {error!r}")
        return None


def with_lines(results: dict[str, Any], lines: list[str]) -> dict[str, Any]:
    """``results`` with ``lines`` appended to its ``output``, and stdout kept hidden."""
    output = "\n".join([results.get("output") or "", *lines]).strip("\n")
    return {**results, "output": output, "stdout_visibility": "hidden"}


def write_results(root: Path, results: dict[str, Any]) -> Path:
    """Write ``<root>/results/results.json`` (strict JSON, atomically)."""
    folder = root / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    temporary = folder / ".results.json.tmp"
    document = json.dumps(results, ensure_ascii=False, indent=2, allow_nan=False)
    temporary.write_text(document + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def grade_submission_folder(root: Path, config: Config) -> dict[str, Any]:
    """The results document for the submission in ``<root>/submission``."""
    submission = root / "submission"
    notebook, note = choose_notebook(find_notebooks(submission), submission, config.assignment)
    if notebook is None:
        return fallback_results(NO_NOTEBOOK, "no_notebook", config.seed)
    print(f"autograde: grading {notebook} with seed {config.seed}")
    scratch = Path(tempfile.mkdtemp(prefix="gradescope-"))
    try:
        results = grade_notebook(notebook, config, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if results is None:
        return fallback_results(GRADER_FAILED, "grader_error", config.seed)
    return with_lines(results, [line for line in (note, isolation_line(results)) if line])


def autograde_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grading.gradescope autograde",
        description="Corrige a submissão do Gradescope (o que run_autograder chama).",
    )
    default_root = Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)
    parser.add_argument("--root", type=Path, default=default_root, help="a raiz /autograder")
    parser.add_argument("--config", type=Path, default=project_root() / CONFIG_NAME)
    return parser


def autograde(argv: list[str]) -> int:
    """Grade ``<root>/submission`` into ``<root>/results/results.json``, whatever happens."""
    args = autograde_parser().parse_args(argv)
    try:
        config = Config.load(args.config)
        results = grade_submission_folder(args.root, config)
    except Exception as error:  # the runner's own failure: still leave a results file
        print(f"autograde: internal error: {error!r}")
        results = fallback_results(GRADER_FAILED, "grader_error")
    path = write_results(args.root, results)
    print(f"autograde: score {results['score']}; results in {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``gradescope --out ZIP ...`` builds the zip; ``gradescope autograde`` grades."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["autograde"]:
        return autograde(argv[1:])
    return build(argv)


if __name__ == "__main__":
    sys.exit(main())
