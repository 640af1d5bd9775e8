"""One graded batch mixing good, wrong, broken and hostile notebooks (threat model).

Every bad input gets a clear message and zero for what it affects; every attack earns
nothing and changes nothing; the good submissions in the same batch keep full marks.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from grading import checks
from solutions import catalogue

pytestmark = pytest.mark.slow

SEED = 7
MARKER = f"grading-test-marker-{uuid.uuid4().hex}"
CANARY = f"canary-{uuid.uuid4().hex}"
IPC_KEY = 0x5A000000 + uuid.uuid4().int % 0xFFFFFF
SOCKET_PATH = f"/tmp/socket-{uuid.uuid4().hex[:12]}.sock"
FAKE_META = (
    "{'file': 'layer.pt', 'weight': 'weight', "
    "'params': [{'name': 'weight', 'shape': [4, 4, 3], 'trainable': True}]}"
)
# Replaces the exporter in the student's own process: the evaluator still has the last word.
PATCH_EXPORTER = """
import sys
for name, module in list(sys.modules.items()):
    if hasattr(module, "export_layer"):
        module.export_layer = {body}
"""
READER_GRAPH = """
import os, sys, textwrap, torch
with open("leitor.py", "w") as source:
    source.write(textwrap.dedent('''
        import torch
        class Reader(torch.nn.Module):
            def forward(self, X):
                data = torch.from_file("/etc/hostname", False, 4, dtype=torch.uint8)
                return X + data.sum().float()
    '''))
sys.path.insert(0, os.getcwd())
from leitor import Reader
class TensorReduction(torch.nn.Module):
    pass
class FourierHalf(torch.nn.Module):
    pass
def export(cls, exercise, spec, folder):
    torch.jit.save(torch.jit.script(Reader()), os.path.join(folder, "layer.pt"))
    return {"file": "layer.pt", "weight": None, "params": []}
"""
SYSV = f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shm = libc.shmget({IPC_KEY}, 512 * 2**20, 0o1666)
address = libc.shmat(shm, None, 0)
if address not in (None, ctypes.c_void_p(-1).value):
    ctypes.memset(address, 1, 512 * 2**20)
queue = libc.msgget({IPC_KEY}, 0o1666)
semaphores = libc.semget({IPC_KEY}, 1, 0o1666)
raise RuntimeError(f"sysv: {{shm >= 0}} {{queue >= 0}} {{semaphores >= 0}}")
"""


def _ref(exercise: str, framework: str = "pytorch") -> str:
    return f"%%tab {framework}\n" + catalogue.reference_source(exercise, framework)


def _wrong(exercise: str, name: str) -> str:
    impl = next(
        i
        for i in catalogue.WRONG
        if (i.exercise, i.name, i.framework) == (exercise, name, "pytorch")
    )
    return "%%tab pytorch\n" + impl.source


def _fourier(forward: str, imports: str = "") -> str:
    body = "\n".join("        " + line for line in forward.strip().splitlines())
    return (
        f"%%tab pytorch\nimport torch\nfrom torch import nn\n{imports}\n"
        f"class FourierHalf(nn.Module):\n    def forward(self, X):\n{body}\n"
    )


STUB = """%%tab pytorch
from torch import nn
class TensorReduction(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
    def forward(self, X):
        raise NotImplementedError
class FourierHalf(nn.Module):
    def forward(self, X):
        raise NotImplementedError
"""


def _repo_hashes(repo: Path) -> dict[str, str]:
    """Hashes of every file git tracks in the project (a submission must change none)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True
    ).stdout.decode()
    paths = [repo / name for name in listed.split("\0") if name and (repo / name).is_file()]
    assert len(paths) > 50, "git ls-files found too few project files"
    return {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _notebooks(folder: Path, helpers, port: int, out: Path) -> dict[str, Path]:
    write, tab, repo = helpers.write_notebook, helpers.tab, helpers.repo
    good = [_ref("TensorReduction"), _ref("FourierHalf")]
    cells = {
        "bom": good,
        "bom_tres_frameworks": [
            _ref(e, f) for f in ("mxnet", "pytorch", "tensorflow") for e in catalogue.EXERCISES
        ],
        "errado_fh": [_ref("TensorReduction"), _wrong("FourierHalf", "n_half_plus_one")],
        "sintaxe": [_ref("TensorReduction"), tab("pytorch", "def oops(:\n    pass")],
        "importacao": [tab("pytorch", "import modulo_que_nao_existe"), _ref("TensorReduction")],
        "laco_topo": [tab("pytorch", "while True:\n    pass"), *good],
        "laco_forward": [
            _ref("TensorReduction"),
            _fourier(
                "while True:\n    try:\n        pass\n    except BaseException:\n        pass"
            ),
        ],
        "memoria": [tab("pytorch", "x = bytearray(40 * 2**30)"), _ref("TensorReduction")],
        "fork_bomb": [
            tab(
                "pytorch",
                "import os, time\nwhile True:\n    try:\n        pid = os.fork()\n"
                "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(300)\n"
                "        os._exit(0)",
            ),
            _ref("TensorReduction"),
        ],
        "segfault": [_ref("TensorReduction"), _fourier("ctypes.string_at(0)", "import ctypes")],
        "os_exit": [tab("pytorch", "import os\nos._exit(0)"), *good],
        "sys_exit": [tab("pytorch", "import sys\nsys.exit(0)"), *good],
        "ctrl_c": [_ref("TensorReduction"), _fourier("raise KeyboardInterrupt")],
        "gigabytes": [
            tab(
                "pytorch",
                "import os\nblock = b'x' * 2**20\nfor _ in range(1024):\n    os.write(1, block)",
            ),
            *good,
        ],
        "nan_numpy": [
            tab(
                "pytorch",
                "import torch\nfrom torch import nn\n"
                "class TensorReduction(nn.Module):\n    def __init__(self, i, u):\n"
                "        super().__init__()\n"
                "        self.weight = nn.Parameter(torch.randn(i, i, u))\n"
                "    def forward(self, X):\n"
                "        Y = torch.einsum('ijk,bi,bj->bk', self.weight, X, X)\n"
                "        return Y.detach().numpy()",
            ),
            _fourier("return torch.fft.fft(X)[..., : (X.shape[-1] + 1) // 2] * float('nan')"),
        ],
        "avisos": [
            tab(
                "pytorch",
                "import sys, warnings\nwarnings.warn('cuidado')\nprint('aviso', file=sys.stderr)",
            ),
            *good,
        ],
        "trapaca_patch": [
            tab(
                "pytorch",
                "import builtins, sys, numpy, torch\n"
                "numpy.allclose = lambda *a, **k: True\nnumpy.isclose = lambda *a, **k: True\n"
                "torch.allclose = lambda *a, **k: True\ntorch.Tensor.__eq__ = lambda *a: True\n"
                "sys.excepthook = lambda *a: None\nbuiltins.AssertionError = Exception",
            ),
            _wrong("TensorReduction", "activation_added"),
            _wrong("FourierHalf", "normalised"),
        ],
        "sempre_igual": [
            tab(
                "pytorch",
                "import torch\nfrom torch import nn\n"
                "class Always:\n    def __eq__(self, other):\n        return True\n"
                "    def __array__(self, dtype=None):\n        return self\n"
                "class Liar(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
                "class TensorReduction(nn.Module):\n    def __init__(self, i, u):\n"
                "        super().__init__()\n"
                "        self.weight = nn.Parameter(torch.randn(i, i, u))\n"
                "        self.u = u\n    def forward(self, X):\n"
                "        return torch.zeros(X.shape[0], self.u).as_subclass(Liar)\n"
                "class FourierHalf(nn.Module):\n    def forward(self, X):\n        return Always()",
            )
        ],
        "espiao": [
            tab("pytorch", "import solutions"),
            tab("pytorch", f"open({str(repo / 'solutions' / 'reference.py')!r}).read()"),
            tab("pytorch", f"open({str(repo / 'grading' / 'checks.py')!r}, 'a').write('x')"),
            tab("pytorch", f"import os\nos.listdir({str(out)!r})"),
            tab(
                "pytorch",
                "import gc\nfound = [o for o in gc.get_objects() if 'reference' in repr(type(o))]",
            ),
            STUB,
        ],
        "resultado_falso": [
            tab(
                "pytorch",
                "import json\nfake = {'score': 100, 'tests': []}\nprint(json.dumps(fake))\n"
                "open('results.json', 'w').write(json.dumps(fake))\n"
                f"open({str(out / 'resultado_falso' / 'results.json')!r}, 'w').write('{{}}')",
            ),
            STUB,
        ],
        "processo_fundo": [
            tab(
                "pytorch",
                "import os, subprocess\n"
                f"subprocess.Popen(['setsid', 'sh', '-c', 'sleep 120; echo {MARKER}'])\n"
                f"os.system('setsid sh -c \"sleep 121; echo {MARKER}\" >/dev/null 2>&1 &')",
            ),
            *good,
        ],
        "rede": [
            tab(
                "pytorch",
                "import socket\nverdict = []\n"
                f"for address in [('127.0.0.1', {port}), ('1.1.1.1', 80)]:\n"
                "    try:\n"
                "        socket.create_connection(address, timeout=2).sendall(b'oi')\n"
                "        verdict.append('aberta')\n"
                "    except OSError:\n"
                "        verdict.append('fechada')\n"
                "raise RuntimeError('rede: ' + ','.join(verdict))",
            ),
            *good,
        ],
        "segredos": [
            tab(
                "pytorch",
                "import os\n"
                "seen = ' '.join(os.environ.values()) + open('/proc/self/cmdline').read()\n"
                f"raise RuntimeError('HOME ' + ('vazou' if {CANARY!r} in seen else 'limpo'))",
            ),
            *good,
        ],
        # the reviewer's forgery: reads the probe inputs, writes responses and a classes event
        "forjado": [
            tab(
                "pytorch",
                "import json, os\nroot = os.path.dirname(os.getcwd())\n"
                "requests = json.load(open(os.path.join(root, 'requests', 'requests.json')))",
            ),
        ],
        # a fake protocol written into the real progress log: garbage, forged classes and
        # exports, a forged export file, then exit
        "protocolo_falso": [
            tab(
                "pytorch",
                "import json, os\n"
                "out = '/sandbox/out'\n"
                "with open(os.path.join(out, 'progress-1.jsonl'), 'a') as log:\n"
                "    log.write('[' * 200000 + '\\n')\n"
                "    for event in [{'event': 'classes', 'found': [[[1], [2]]]},\n"
                "                  {'event': 'classes', 'found': [['FourierHalf', 'pytorch']]},\n"
                "                  {'event': 'export_start', 'id': 'fh-pytorch-even'},\n"
                "                  {'event': 'export_done', 'id': 'fh-pytorch-even'},\n"
                "                  {'event': 'finished', 'time': float('nan')}]:\n"
                "        log.write(json.dumps(event) + '\\n')\n"
                "with open(os.path.join(out, 'fh-pytorch-even.json'), 'w') as meta:\n"
                "    json.dump({'metadata': {'file': 'layer.pt', 'weight': None}}, meta)\n"
                "os._exit(3)",
            ),
            *good,
        ],
        "colchetes": [
            tab(
                "pytorch",
                "import os\n"
                "path = os.path.join(os.path.dirname(os.getcwd()), 'responses', 'progress.jsonl')\n"
                "open(path, 'a').write('[' * 200000 + '\\n')",
            ),
            *good,
        ],
        "nome_longo": [
            tab(
                "pytorch",
                "import torch\nfrom torch import nn\n"
                "class TensorReduction(nn.Module):\n    def __init__(self, i, u):\n"
                "        super().__init__()\n"
                "        setattr(self, 'p' * 200 + '_weight', nn.Parameter(torch.randn(i, i, u)))\n"
                "    def forward(self, X):\n"
                "        w = getattr(self, 'p' * 200 + '_weight')\n"
                "        return torch.einsum('ijk,bi,bj->bk', w, X, X)",
            ),
            _ref("FourierHalf"),
        ],
        "imortal": [
            tab(
                "pytorch",
                "import os, subprocess, time\nos.setsid()\n"
                "subprocess.Popen(['sh', '-c', "
                f"'trap \"\" HUP INT TERM; while :; do sleep 1; done # {MARKER}'], "
                "start_new_session=True)\n"
                "while True:\n    try:\n        time.sleep(1000)\n"
                "    except BaseException:\n        pass",
            ),
        ],
        "disco": [
            tab(
                "pytorch",
                "import os\nblock = b'\\0' * 2**20\ntry:\n"
                "    for f in range(6):\n        with open(f'f{f}', 'wb') as h:\n"
                "            for _ in range(60):\n                h.write(block)\n"
                "except OSError as error:\n    problem = error\nelse:\n    problem = None\n"
                "for f in range(6):\n    if os.path.exists(f'f{f}'):\n        os.remove(f'f{f}')\n"
                "raise RuntimeError(f'disco: {problem}')",
            ),
            *good,
        ],
        "trava": [
            tab("pytorch", f"open('/run/lock/{MARKER}', 'w').write('x')"),
            tab("pytorch", f"open('/var/tmp/{MARKER}', 'w').write('x')"),
            *good,
        ],
        # classes that only claim to be torch modules, and an exporter replaced in memory
        "forjado_sem_framework": [
            tab(
                "pytorch",
                "class TensorReduction:\n    __module__ = 'torch.nn'\n"
                "    def __init__(self, *args):\n        pass\n"
                "class FourierHalf(TensorReduction):\n    pass\n"
                + PATCH_EXPORTER.format(body=f"lambda *args: {FAKE_META}"),
            ),
        ],
        # a real TorchScript graph that reads a file, slipped in by a patched exporter
        "grafo_leitor": [tab("pytorch", READER_GRAPH + PATCH_EXPORTER.format(body="export"))],
        # the answer computed with NumPy and handed back as a tensor; gradients set by hand
        "numpy_e_gradiente": [
            tab(
                "pytorch",
                "import numpy, torch\nfrom torch import nn\n"
                "class TensorReduction(nn.Module):\n    def __init__(self, i, u):\n"
                "        super().__init__()\n"
                "        self.weight = nn.Parameter(torch.randn(i, i, u))\n"
                "    def forward(self, X):\n"
                "        W, x = self.weight.detach().numpy(), X.detach().numpy()\n"
                "        Y = torch.tensor(numpy.einsum('ijk,bi,bj->bk', W, x, x))\n"
                "        self.weight.grad = torch.ones_like(self.weight)\n"
                "        return Y\n"
                "class Forged(torch.autograd.Function):\n    @staticmethod\n"
                "    def forward(ctx, X):\n"
                "        return torch.fft.rfft(X)[..., : (X.shape[-1] + 1) // 2]\n"
                "    @staticmethod\n    def backward(ctx, grad):\n"
                "        return torch.ones(grad.shape[:-1] + (2 * grad.shape[-1],))\n"
                "class FourierHalf(nn.Module):\n    def forward(self, X):\n"
                "        return Forged.apply(X)",
            ),
        ],
        "sysv": [tab("pytorch", SYSV), *good],
        "userns": [
            tab(
                "pytorch",
                "import ctypes, subprocess\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                "ok = libc.unshare(0x10000000) == 0\n"
                "verdict = 'permitido' if ok else f'bloqueado {ctypes.get_errno()}'\n"
                "done = subprocess.run(['unshare', '--user', 'true'], capture_output=True)\n"
                "raise RuntimeError(f'userns: {verdict} {done.returncode != 0}')",
            ),
            *good,
        ],
        "vizinhos": [
            tab(
                "pytorch",
                "import os, socket\nseen = []\n"
                f"for path in [{str(folder / 'bom.ipynb')!r}, {str(repo / 'instructor')!r}]:\n"
                "    seen.append(os.path.exists(path))\n"
                "try:\n    client = socket.socket(socket.AF_UNIX)\n"
                f"    client.connect({SOCKET_PATH!r})\n    seen.append('socket')\n"
                "except OSError:\n    pass\n"
                "top = sorted(os.listdir('/'))\n"
                f"project = sorted(os.listdir({str(repo)!r}))\n"
                "raise RuntimeError(f'vizinhos: {seen} raiz: {top} projeto: {project}')",
            ),
            *good,
        ],
        "marcacao": [
            tab(
                "pytorch",
                "raise RuntimeError('fim\\n\\n**Nota: 20/20**\\n<script>alert(1)</script> "
                "[clique](http://exemplo.com) `x` # Título')",
            ),
            *good,
        ],
    }
    paths = {name: write(folder / f"{name}.ipynb", source) for name, source in cells.items()}
    raw = {
        "nao_json": b"isto nao e um notebook",
        "truncado": paths["bom"].read_bytes()[:300],
        "vazio": b"",
        "sem_codigo": json.dumps({"cells": [{"cell_type": "markdown", "source": "oi"}]}).encode(),
    }
    for name, content in raw.items():
        paths[name] = folder / f"{name}.ipynb"
        paths[name].write_bytes(content)
    for name, target in (
        ("link_chave", repo / "instructor" / "exercises-solutions.ipynb"),
        ("link_colega", paths["bom"]),
    ):
        paths[name] = folder / f"{name}.ipynb"
        paths[name].symlink_to(target)
    paths["pasta"] = folder / "pasta.ipynb"
    paths["pasta"].mkdir()
    paths["fifo"] = folder / "fifo.ipynb"
    os.mkfifo(paths["fifo"])
    for name, source in (
        ("instrutor", repo / "instructor" / "exercises-solutions.ipynb"),
        ("modelo_do_aluno", repo / "chapters" / "exercises.ipynb"),
    ):
        paths[name] = folder / f"{name}.ipynb"
        paths[name].write_bytes(source.read_bytes())
    empty = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
    many = [{**empty, "source": "x = 1"} for _ in range(100_000)]
    many += [{**empty, "source": source} for source in good]
    paths["cem_mil_celulas"] = folder / "cem_mil_celulas.ipynb"
    paths["cem_mil_celulas"].write_text(json.dumps({"cells": many, "metadata": {}}, indent=1))
    paths["enorme"] = folder / "enorme.ipynb"
    with paths["enorme"].open("wb") as handle:
        handle.truncate(100 * 2**20)
    helpers.write_notebook(
        paths.setdefault("saidas_guardadas", folder / "saidas_guardadas.ipynb"),
        [STUB],
        outputs=[{"output_type": "stream", "name": "stdout", "text": "TensorReduction: 10/10"}],
    )
    return paths


def _leftovers(scratch: Path) -> dict[str, set[str]]:
    """SysV objects on the host, and sandbox mounts and folders under the grader's TMPDIR."""
    found: dict[str, set[str]] = {}
    for kind in ("shm", "msg", "sem"):
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        found[kind] = {line.split()[0] for line in lines}
    mounts = Path("/proc/mounts").read_text().splitlines()
    found["mounts"] = {line.split()[1] for line in mounts if str(scratch) in line}
    found["folders"] = {p.name for p in scratch.iterdir()}
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory, helpers):
    folder = tmp_path_factory.mktemp("entregas")
    out = tmp_path_factory.mktemp("notas")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(SOCKET_PATH)
    unix.listen(5)
    unix.setblocking(False)
    paths = _notebooks(folder, helpers, listener.getsockname()[1], out)
    before = _repo_hashes(helpers.repo)
    scratch = tmp_path_factory.mktemp("tmpdir_do_corretor")
    leftovers_before = _leftovers(scratch)
    done = helpers.run_cli(
        [
            str(folder),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--seed",
            str(SEED),
            "--timeout",
            "120",
            "--check-timeout",
            "4",
            "--cell-timeout",
            "4",
        ],
        env={"GRADER_TEST_CANARY": CANARY, "TMPDIR": str(scratch)},
    )
    try:
        connection = listener.accept()
    except BlockingIOError:
        connection = None
    listener.close()
    try:
        unix_connection = unix.accept()
    except BlockingIOError:
        unix_connection = None
    unix.close()
    os.unlink(SOCKET_PATH)
    after = _repo_hashes(helpers.repo)
    leftovers_after = _leftovers(scratch)
    results = {name: helpers.read_results(out, name) for name in paths}
    feedback = {name: (out / name / "feedback.md").read_text(encoding="utf-8") for name in paths}
    with (out / "gradebook.csv").open(encoding="utf-8") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    return {
        "done": done,
        "results": results,
        "feedback": feedback,
        "rows": rows,
        "paths": paths,
        "connection": connection,
        "unix_connection": unix_connection,
        "leftovers": (leftovers_before, leftovers_after),
        "before": before,
        "after": after,
        "out": out,
    }


def _scores(batch, helpers, name):
    return helpers.exercise_scores(batch["results"][name])


def test_the_batch_completes_with_exit_code_zero_and_a_full_gradebook(batch):
    done = batch["done"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert "submissões corrigidas" in done.stdout
    assert set(batch["rows"]) == set(batch["paths"])
    for name, row in batch["rows"].items():
        assert row["seed"] == str(SEED)
        assert float(row["total"]) == batch["results"][name]["score"]
        assert batch["results"][name]["extra_data"]["seed"] == SEED


def test_good_submissions_keep_full_marks(batch):
    for name in (
        "bom",
        "bom_tres_frameworks",
        "sys_exit",
        "avisos",
        "laco_topo",
        "gigabytes",
        "processo_fundo",
        "rede",
        "segredos",
        "colchetes",
        "disco",
        "trava",
    ):
        assert batch["results"][name]["score"] == 20.0, (name, batch["feedback"][name])
    three = batch["feedback"]["bom_tres_frameworks"]
    for label in ("MXNet", "PyTorch", "TensorFlow"):
        assert three.count(f"· {label}: 10/10 pontos") == 2


def test_a_wrong_answer_loses_points_only_on_its_exercise(batch, helpers):
    scores = _scores(batch, helpers, "errado_fh")
    assert scores["TensorReduction"] == 10.0 and scores["FourierHalf"] < 10.0
    assert "m = ⌈n/2⌉" in batch["feedback"]["errado_fh"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nao_json", "JSON válido"),
        ("truncado", "JSON válido"),
        ("vazio", "vazio"),
        ("enorme", "grande demais"),
        ("sem_codigo", "células de código"),
    ],
)
def test_invalid_files_get_zero_and_a_clear_message(batch, name, message):
    assert batch["results"][name]["score"] == 0.0
    assert batch["rows"][name]["status"] == "invalid notebook"
    assert message in batch["results"][name]["output"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("sintaxe", "SyntaxError"),
        ("importacao", "ModuleNotFoundError"),
        ("memoria", "MemoryError"),
    ],
)
def test_a_broken_cell_is_reported_and_the_other_cells_still_count(batch, helpers, name, message):
    scores = _scores(batch, helpers, name)
    assert scores["TensorReduction"] == 10.0
    assert scores["FourierHalf"] == 0.0
    assert message in batch["feedback"][name]


def test_an_infinite_loop_in_forward_times_out_that_class_only(batch, helpers):
    scores = _scores(batch, helpers, "laco_forward")
    assert scores == {"TensorReduction": 10.0, "FourierHalf": 0.0}
    assert batch["rows"]["laco_forward"]["status"] == "timeout"
    assert "tempo esgotado" in batch["feedback"]["laco_forward"]


def test_a_segfault_in_forward_costs_that_class_only(batch, helpers):
    scores = _scores(batch, helpers, "segfault")
    assert scores == {"TensorReduction": 10.0, "FourierHalf": 0.0}
    assert batch["rows"]["segfault"]["status"] == "crashed"
    assert "sinal 11" in batch["feedback"]["segfault"]


def test_a_fork_bomb_is_contained(batch, helpers):
    assert _scores(batch, helpers, "fork_bomb")["TensorReduction"] == 10.0


def test_a_cell_that_ends_the_process_is_skipped_and_the_rest_graded(batch):
    assert batch["results"]["os_exit"]["score"] == 20.0
    assert batch["rows"]["os_exit"]["status"] == "crashed"
    assert "código de saída 0" in batch["feedback"]["os_exit"]
    assert "a célula foi pulada" in batch["feedback"]["os_exit"]


def test_keyboard_interrupt_in_forward_is_just_a_failure(batch, helpers):
    scores = _scores(batch, helpers, "ctrl_c")
    assert scores == {"TensorReduction": 10.0, "FourierHalf": 0.0}
    assert "KeyboardInterrupt" in batch["feedback"]["ctrl_c"]


def test_gigabytes_of_output_are_capped(batch):
    assert len(batch["feedback"]["gigabytes"]) < 100_000
    assert (batch["paths"]["gigabytes"].parent).exists()


def test_nan_and_numpy_outputs_fail_with_hints(batch, helpers):
    text = batch["feedback"]["nan_numpy"]
    scores = helpers.exercise_scores(batch["results"]["nan_numpy"])
    assert scores["TensorReduction"] <= 6.0  # the values are right, shape and gradients not
    assert scores["FourierHalf"] <= 1.5  # only the shape is right
    assert "NaN ou Inf" in text and "não um torch.Tensor" in text


def test_stored_outputs_are_ignored(batch):
    assert batch["results"]["saidas_guardadas"]["score"] == 0.0
    assert "ainda não implementado" in batch["feedback"]["saidas_guardadas"]


def test_patching_comparisons_in_the_child_earns_nothing(batch, helpers):
    scores = _scores(batch, helpers, "trapaca_patch")
    assert scores["TensorReduction"] < 10.0 and scores["FourierHalf"] < 10.0


def test_always_equal_objects_and_lying_subclasses_earn_nothing(batch, helpers):
    scores = _scores(batch, helpers, "sempre_igual")
    assert scores["FourierHalf"] == 0.0
    assert scores["TensorReduction"] <= 2.0  # shape and registered weight only


def test_the_project_and_other_results_are_out_of_reach(batch):
    text = batch["feedback"]["espiao"]
    assert "ModuleNotFoundError" in text
    # the reference, grading/checks.py (hidden, or not writable) and the results folder
    assert text.count("FileNotFoundError") + text.count("PermissionError") >= 3
    assert batch["results"]["espiao"]["score"] == 0.0
    assert batch["before"] == batch["after"]


def test_fake_results_are_never_read(batch):
    assert batch["results"]["resultado_falso"]["score"] == 0.0
    assert batch["results"]["resultado_falso"]["tests"]


def test_no_process_survives_the_batch(batch):
    survivors = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if MARKER.encode() in cmdline and int(entry.name) != os.getpid():
                survivors.append(cmdline)
    assert survivors == []


def test_the_network_is_closed(batch):
    assert batch["connection"] is None
    assert "rede: fechada,fechada" in batch["feedback"]["rede"]


def test_the_child_sees_no_secret_from_the_grader_environment(batch):
    text = batch["feedback"]["segredos"]
    assert "HOME limpo" in text, text
    assert "vazou" not in text and CANARY not in text


def test_forged_responses_earn_nothing(batch):
    assert batch["results"]["forjado"]["score"] == 0.0
    assert "FileNotFoundError" in batch["feedback"]["forjado"]  # the inputs are gone


def test_a_fake_protocol_is_a_failure_of_that_submission_only(batch):
    assert batch["done"].returncode == 0
    assert batch["rows"]["protocolo_falso"]["status"] != "grader error"
    assert batch["results"]["protocolo_falso"]["score"] == 0.0
    assert "erro interno" not in batch["feedback"]["protocolo_falso"]


def test_a_long_parameter_name_is_judged_not_a_grader_error(batch, helpers):
    scores = _scores(batch, helpers, "nome_longo")
    assert scores["FourierHalf"] == 10.0
    assert 0.0 < scores["TensorReduction"] < 10.0
    assert "erro interno" not in batch["feedback"]["nome_longo"]


def test_a_child_that_leaves_the_session_does_not_outlive_grading(batch):
    assert batch["results"]["imortal"]["score"] == 0.0
    test_no_process_survives_the_batch(batch)


@pytest.mark.skipif(os.geteuid() != 0, reason="the disk limit needs the namespaces mode")
def test_disk_and_shared_directories_are_bounded(batch):
    assert "No space left on device" in batch["feedback"]["disco"]
    assert not os.path.exists(f"/run/lock/{MARKER}")
    assert not os.path.exists(f"/var/tmp/{MARKER}")
    assert batch["feedback"]["trava"].count("FileNotFoundError") == 2  # not even there


def _values_and_gradients(results: dict) -> float:
    """Points earned on value and gradient checks (every check but shape and parameter)."""
    kept = ("forma e tipo", "parâmetro weight")
    return sum(t["score"] for t in results["tests"] if not any(k in t["name"] for k in kept))


@pytest.mark.parametrize("name", ["forjado_sem_framework", "grafo_leitor", "numpy_e_gradiente"])
def test_forgers_earn_nothing_on_values_and_gradients(batch, name):
    results = batch["results"][name]
    assert _values_and_gradients(results) == 0.0, batch["feedback"][name]
    if name == "grafo_leitor":  # its patched exporter hands over a graph that reads a file
        assert "aten::from_file" in batch["feedback"][name], batch["feedback"][name]
        assert results["score"] == 0.0
    assert batch["rows"][name]["status"] != "grader error"


def test_nothing_outlives_the_batch_sysv_mounts_or_folders(batch):
    before, after = batch["leftovers"]
    assert after == before
    assert after["folders"] == set() and after["mounts"] == set()
    text = batch["feedback"]["sysv"]
    assert "sysv: True True True" in text, text  # created inside, gone after
    assert f"{IPC_KEY:08x}" not in Path("/proc/sysvipc/shm").read_text()


def test_nested_user_namespaces_are_refused(batch):
    assert "userns: bloqueado 1 True" in batch["feedback"]["userns"], batch["feedback"]["userns"]


def test_the_child_sees_no_classmate_no_project_and_no_host_socket(batch):
    text = batch["feedback"]["vizinhos"].replace("\\", "")  # Markdown escapes
    assert "vizinhos: [False, False]" in text, text
    assert batch["unix_connection"] is None
    top = text.split("raiz: ")[1].split(" projeto:")[0]
    for hidden in ("'home'", "'run'", "'var'", "'srv'", "'mnt'", "'opt'"):
        assert hidden not in top, top
    assert "projeto: ['.venv']" in text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("link_chave", "link simbólico"),
        ("link_colega", "link simbólico"),
        ("pasta", "pasta"),
        ("fifo", "FIFO"),
    ],
)
def test_links_folders_and_fifos_get_a_row_and_no_content(batch, name, message):
    assert batch["rows"][name]["status"] == "invalid notebook"
    assert batch["results"][name]["score"] == 0.0
    assert message in batch["results"][name]["output"]
    assert batch["results"]["bom"]["score"] == 20.0


def test_the_instructor_copy_scores_full_marks_without_a_cell_error(batch):
    assert batch["results"]["instrutor"]["score"] == 20.0, batch["feedback"]["instrutor"]
    for name in ("instrutor", "modelo_do_aluno"):
        assert "IndentationError" not in batch["feedback"][name]
        assert "Células com erro" not in batch["feedback"][name], batch["feedback"][name]
    assert batch["results"]["modelo_do_aluno"]["score"] == 0.0
    assert "ainda não implementado" in batch["feedback"]["modelo_do_aluno"]


def test_a_hundred_thousand_cells_grade_normally(batch):
    assert batch["results"]["cem_mil_celulas"]["score"] == 20.0, batch["feedback"][
        "cem_mil_celulas"
    ]


def test_child_text_cannot_forge_the_report(batch):
    text = batch["feedback"]["marcacao"]
    assert text.count("**Nota:") == 1 and "<script>" not in text
    assert "](http" not in text
    assert batch["results"]["marcacao"]["score"] == 20.0


def test_a_hanging_forward_costs_one_check_timeout(batch):
    text = batch["feedback"]["laco_forward"]
    fourier = text.split("## FourierHalf")[1]
    assert fourier.count("não executada") == len(checks.checks_for("FourierHalf")) - 1, fourier


def test_every_results_file_is_strict_json(batch):
    for name in batch["paths"]:
        path = batch["out"] / name / "results.json"
        json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)


def _no_constant(name: str):
    raise AssertionError(f"not strict JSON: {name}")
