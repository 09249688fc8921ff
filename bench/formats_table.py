"""Issue 19's "format x path" table: one small model per file format, run through every way a file comes in, and
compared with what its own framework computed.

    python bench/formats_table.py

Formats: a PyTorch nn.LSTM (2 layers, a Linear head) saved as a state_dict .pt, a checkpoint .pth, safetensors and
.npz; the LSTM of tests/keras_files/char_lstm as a Keras-layout .npz; a bidirectional nn.GRU through
torch.onnx.export(dynamo=False); an onnx.helper GRU node (linear_before_reset=0); the Keras fixtures; and
torch.save(whole module). Paths: Python (gatescope.load, gatescope.run), the CLI (`gatescope export --model`, after
`gatescope convert` for a .pt), POST /api/models with the raw body and as a multipart form (then GET /api/trace
format=npz: full float32), and the page's upload, which is not driven: static/controls/upload.js sends the raw file
(application/octet-stream) to the same POST /api/models, so its cell repeats the raw one. References: torch's own
forward, onnxruntime, and the outputs Keras saved beside each fixture (tests/make_keras_files.py). Each cell is the
max abs difference of the recurrent output (and of the head's, where the path reads one), or the refusal's words.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import onnxruntime as ort
import safetensors.torch
import torch
from fastapi.testclient import TestClient
from onnx import TensorProto, helper, numpy_helper, save_model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gatescope.app.config import Settings  # noqa: E402
from gatescope.app.main import create_app  # noqa: E402

import gatescope  # noqa: E402
from gatescope import cells  # noqa: E402

KERAS = ROOT / "tests" / "keras_files"
PATHS = ("Python", "CLI", "API (raw)", "API (multipart)", "page upload")


class Refused(Exception):
    """A path said no: the exact words it said."""


@dataclass
class Case:
    name: str                      # the table's row
    path: Path
    xs: np.ndarray                 # the recurrent group's input, (T, input_size) float32
    rnn: np.ndarray                # the framework's recurrent output: (T, D*H), or the last step's (D*H,)
    out: np.ndarray | None = None  # the framework's head output, where the model has one
    text: str | None = None        # a text model: the input as the page reads it
    prefix: str | None = None
    pickle: bool = False           # a torch.save file: the CLI converts it first


class Net(torch.nn.Module):
    """A recurrent layer and a per-step Linear head, fed floats (copied from tests/test_onnx_files.py's Net)."""

    def __init__(self, rnn, outputs):
        super().__init__()
        self.rnn = rnn
        self.fc = torch.nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional else 1), outputs)

    def forward(self, x):
        return self.fc(self.rnn(x)[0])


def keras_case(name: str, file: str, prefix: str | None = None) -> Case:
    """A fixture and what Keras computed for it (tests/test_keras_files.py's keras_numbers, for the groups used here)."""
    with np.load(KERAS / f"{file.split('.')[0]}.npz") as z:
        k = {key: z[key] for key in z.files}
    if prefix == "encoder":
        return Case(name, KERAS / file, k["source"], k["encoder"], prefix=prefix)
    text = str(k["input"]) if k["input"].ndim == 0 else None
    return Case(name, KERAS / file, k["x"], k["rnn"], None if file.endswith(".h5") else k["out"], text=text)


def cases(tmp: Path) -> list[Case]:
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    lstm = Net(torch.nn.LSTM(3, 5, num_layers=2), 4).eval()
    xs = rng.normal(size=(7, 3)).astype(np.float32)
    with torch.no_grad():
        rnn, out = lstm.rnn(torch.from_numpy(xs))[0].numpy(), lstm(torch.from_numpy(xs)).numpy()  # unbatched: (T, H)
    sd = lstm.state_dict()
    torch.save(sd, tmp / "lstm.pt")
    torch.save({"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": {}}, tmp / "lstm.pth")
    safetensors.torch.save_file(sd, tmp / "lstm.safetensors")
    np.savez(tmp / "lstm.npz", **{k: v.numpy() for k, v in sd.items()})
    torch.save(lstm, tmp / "whole.pt")
    with h5py.File(KERAS / "char_lstm.weights.h5") as f:  # a Keras user's get_weights(), saved under Keras' names
        vs = f["layers/lstm/cell/vars"]
        np.savez(tmp / "keras_layout.npz", **{n: vs[str(i)][()] for i, n in enumerate(("kernel", "recurrent_kernel", "bias"))})
    with np.load(KERAS / "char_lstm.npz") as z:
        char_x, char_rnn = z["x"], z["rnn"]

    gru = Net(torch.nn.GRU(3, 4, bidirectional=True), 2).eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(gru, (torch.from_numpy(xs)[:, None],), str(tmp / "gru_bi.onnx"), input_names=["x"], dynamo=False)
        gru_rnn = gru.rnn(torch.from_numpy(xs))[0].numpy()
    gru_out = ort.InferenceSession(str(tmp / "gru_bi.onnx")).run(None, {"x": xs[:, None]})[0][:, 0]

    helper_path, helper_rnn = helper_gru(tmp / "gru_lbr0.onnx", xs)
    return [
        Case("PyTorch state_dict .pt (nn.LSTM x2 + Linear)", tmp / "lstm.pt", xs, rnn, out, pickle=True),
        Case("PyTorch checkpoint .pth (model_state_dict)", tmp / "lstm.pth", xs, rnn, out, pickle=True),
        Case("safetensors (safetensors.torch.save_file)", tmp / "lstm.safetensors", xs, rnn, out),
        Case(".npz, torch layout (state_dict)", tmp / "lstm.npz", xs, rnn, out),
        Case(".npz, keras layout (char_lstm's LSTM)", tmp / "keras_layout.npz", char_x, char_rnn),
        Case("ONNX, torch.onnx.export GRU bi + Linear", tmp / "gru_bi.onnx", xs, gru_rnn, gru_out),
        Case("ONNX, onnx.helper GRU lbr=0", helper_path, xs, helper_rnn),
        keras_case("char_lstm.keras (text)", "char_lstm.keras"),
        keras_case("bigru.keras", "bigru.keras"),
        keras_case("stacked_lstm.keras", "stacked_lstm.keras"),
        keras_case("encoder_decoder.keras --prefix encoder", "encoder_decoder.keras", "encoder"),
        keras_case("bigru.weights.h5", "bigru.weights.h5"),
        Case("torch.save(whole module) .pt", tmp / "whole.pt", xs, rnn, out, pickle=True),
    ]


def helper_gru(path: Path, xs: np.ndarray, H: int = 4) -> tuple[Path, np.ndarray]:
    """One GRU node with linear_before_reset=0, built with onnx.helper as tests/test_onnx_files.py does; onnxruntime's Y."""
    rng, I = np.random.default_rng(1), xs.shape[1]
    inits = [numpy_helper.from_array((rng.uniform(-1.2, 1.2, shape) / np.sqrt(H)).astype(np.float32), name)
             for name, shape in (("W", (1, 3 * H, I)), ("R", (1, 3 * H, H)), ("B", (1, 6 * H)))]
    node = helper.make_node("GRU", ["X", "W", "R", "B"], ["Y"], name="gru", hidden_size=H, linear_before_reset=0)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", 1, I])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], inits)
    save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), str(path))
    y = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"X": xs[:, None]})[0]
    return path, y[:, :, 0].reshape(len(y), -1)  # Y [T, D, 1, H] -> (T, D*H)


def numbers(xs) -> str:
    """Rows of numbers as the page's numbers input reads them, each float32 exactly (repr round-trips it)."""
    return "; ".join(" ".join(repr(float(v)) for v in row) for row in xs)


def query(case: Case) -> dict:
    return {"input": case.text} if case.text else {"input": numbers(case.xs), "input_type": "numbers"}


# -- the paths: each gives (recurrent output, head output or None), or raises Refused ---------------------------------

def python(case: Case, tmp: Path):
    try:
        model = gatescope.load(case.path, **({"prefix": case.prefix} if case.prefix else {}))
        trace = gatescope.run(model, case.text if case.text else case.xs)
    except cells.CellsError as e:
        raise Refused(str(e)) from None
    return trace.output, model.outputs(trace.output) if model.decoder is not None else None


def cli(case: Case, tmp: Path):
    def gs(*args):
        done = subprocess.run([sys.executable, "-m", "gatescope", *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=600)
        if done.returncode != 0:
            raise Refused(done.stderr.strip())

    model = case.path
    if case.pickle:
        model = tmp / f"{case.path.stem}.bundle.safetensors"
        gs("convert", case.path, "-o", model)
    q = query(case)
    out = tmp / f"{case.path.name}.cli.npz"
    gs("export", "--model", model, "--format", "npz", "-o", out, "--input", q["input"],
       *(["--set", "input_type=numbers"] if "input_type" in q else []), *(["--prefix", case.prefix] if case.prefix else []))
    return trace_npz(out.read_bytes())


def api(client: TestClient, multipart: bool):
    def post(case: Case, tmp: Path):
        params = {"prefix": case.prefix} if case.prefix else {}
        body = case.path.read_bytes()
        r = (client.post("/api/models", params=params, files={"file": (case.path.name, body)}) if multipart
             else client.post("/api/models", params=params, content=body))
        if r.status_code != 201:
            raise Refused(r.json()["detail"])
        t = client.get("/api/trace", params={"model": r.json()["id"], "format": "npz", **query(case)})
        if t.status_code != 200:
            raise Refused(t.json()["detail"])
        return trace_npz(t.content)
    return post


def trace_npz(data: bytes):
    with np.load(io.BytesIO(data)) as z:
        return z["output"], z["prediction"] if "prediction" in z.files else None


# -- the table -------------------------------------------------------------------------------------------------------

def gap(got, want) -> float:
    """Max abs difference; the sequence's last step where the framework returned that step only."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.max(np.abs((got[-1] if want.ndim < got.ndim else got) - want)))


def cell(run, where: str, case: Case, tmp: Path, refusals: dict) -> str:
    try:
        output, prediction = run(case, tmp)
    except Refused as e:
        refusals.setdefault(str(e), []).append(f"{case.name} [{where}]")
        return "refused: " + " ".join(str(e).split())[:80]
    except Exception as e:  # not a refusal: a failure of the path (or of this script), shown, not hidden
        return f"error: {type(e).__name__}: {e}"[:90]
    text = f"{gap(output, case.rnn):.1e}"
    if prediction is not None and case.out is not None:
        text += f" (head {gap(prediction, case.out):.1e})"
    return text


def without_onnx(path: Path) -> str:
    """What cells.files says of an .onnx when the onnx package (the "onnx" extra) is missing, in a fresh process."""
    code = ("import sys; sys.modules['onnx'] = None; import gatescope\n"
            f"try: gatescope.load({str(path)!r})\nexcept Exception as e: print(e)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300).stdout.strip()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="gatescope-formats-") as t:
        tmp = Path(t)
        rows, refusals = cases(tmp), {}
        with TestClient(create_app(Settings(upload_dir=tmp / "models"))) as client:
            runs = [python, cli, api(client, multipart=False), api(client, multipart=True)]
            table = []
            for case in rows:
                cells_ = [cell(run, where, case, tmp, refusals) for run, where in zip(runs, PATHS)]
                table.append([case.name, *cells_, "as raw: " + cells_[2]])
        print("| format | " + " | ".join(PATHS) + " |")
        print("|" + " --- |" * (len(PATHS) + 1))
        for row in table:
            print("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
        print("\nmax abs diff of the recurrent output (head: of the head's output) against torch's forward, onnxruntime or "
              "Keras' saved outputs.\npage upload: static/controls/upload.js POSTs the raw file (application/octet-stream) "
              "to /api/models, so it is the API (raw) cell; no browser was driven.\n")
        print("## Refusals, in their own words\n")
        for words, names in refusals.items():
            print(f"- {'; '.join(names)}:\n  {words}\n")
        onnx_file = next(c.path for c in rows if c.path.suffix == ".onnx")
        print(f"- ONNX without the onnx extra (cells.files, the onnx package hidden):\n  {without_onnx(onnx_file)}\n")
        old = sorted(p.name for p in KERAS.glob("*.h5") if not p.name.endswith(".weights.h5"))
        print("- Keras 2 .h5: " + (", ".join(old) if old else "skipped: no Keras 2 .h5 fixture in tests/keras_files/"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
