"""ONNX models: the LSTM, GRU and RNN operators of a graph, read with the onnx package (the "onnx" extra).

Read: each recurrent node (op_type LSTM, GRU, RNN; its kind is cells.kinds.of_class(op_type), an LSTM with
peepholes P the kind its ``onnx_inputs`` names) with W, R, B and P from initializers or Constant nodes (through
Identity); direction forward or bidirectional; the GRU's linear_before_reset (the kind's ``onnx_flags``) and the
activations a kind computes (its ``onnx_activations``). The arrays come out in cells.layouts' "onnx" layout, one
slot per layer-direction, so the gate orders stay with the kinds.

Stacks: layer k's Y feeding layer k+1's X through Squeeze(axes=[1]) (one direction) or Transpose(perm=[0, 2, 1, 3])
then Reshape to [.., .., D*H] (two), as torch.onnx.export writes nn.LSTM(num_layers=2), is one stacked model when
kinds, options, sizes and directions agree. The group is named by its bottom node; prefix= naming a node higher
up reads that node alone. An embedding (a Gather on axis 0 from an initializer into the bottom node's X, maybe
through a Transpose for batch_first) and a per-step head (MatMul [+ Add] or Gemm from initializers on the top
node's Y reshaped as above, maybe transposed back to batch first or flattened to [T*batch, D*H]) become
embedding.weight and decoder.weight / decoder.bias; other heads (one on Y_h, a Softmax's) are not read.

Refused, naming the file, the node, the input or attribute, and the value: direction reverse alone (gatescope runs
a reverse direction only beside a forward one), clip (ONNX clips every pre-activation; no kind does, and
onnxruntime refuses clip=0), input_forget=1, other activations, weights that are computed or graph inputs, and
external data (never opened: a file does not get to name paths). Not read: sequence_lens (every sequence runs to
its end) and initial_h / initial_c when they are graph inputs or computed (runs start from zeros; Model.run takes
h0=, c0=); a constant one must be zeros. Shapes are checked against ``limits`` before any data becomes an array.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .. import kinds
from ..errors import CellsError, FormatError, shown
from ..io import BUNDLE_VERSION
from ..reading import Limits, decoded_bytes, label
from ..slots import suffix
from ..weight_groups import AmbiguousWeightsError

MAX_NODES = 100_000  # a graph's nodes, counted before any is looked at (an RNN exported by torch has tens)
INPUTS = ("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P")  # the operators' inputs, by position
DEFAULT_ACTIVATIONS = {"LSTM": ("sigmoid", "tanh", "tanh"), "GRU": ("sigmoid", "tanh"), "RNN": ("tanh",)}  # ONNX's
ATTRIBUTES = {"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout",
              "input_forget", "linear_before_reset"}
FLOATS = {TensorProto.FLOAT: np.float32, TensorProto.DOUBLE: np.float64, TensorProto.FLOAT16: np.float16}
INT_ATTRIBUTE = {"Squeeze": "axes", "Transpose": "perm", "Reshape": "shape"}  # (axes and shape: an input since opsets 13, 5)
HELD = {TensorProto.FLOAT: "float_data", TensorProto.DOUBLE: "double_data", TensorProto.FLOAT16: "int32_data",
        TensorProto.INT64: "int64_data", TensorProto.INT32: "int32_data"}


@dataclass
class Node:
    """One recurrent node as its attributes and its weights' declared shapes say (no data read yet)."""

    id: str                      # its name, or "LSTM#3" (op_type#position) when nameless or not unique
    proto: onnx.NodeProto
    kind: str
    options: dict
    directions: int
    hidden: int
    input_size: int
    inputs: dict[str, str] = field(default_factory=dict)  # X, W, ... -> the tensor's name, for those given


def read(path: str, limits: Limits, prefix: str | None) -> tuple[dict[str, np.ndarray], dict[str, str], None]:
    try:
        return _read(path, limits, prefix)
    except CellsError:
        raise
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as e:  # a graph malformed in a way not checked for
        raise FormatError(f"{label(path)}: a malformed ONNX model ({type(e).__name__}: {str(e)[:200]})") from None


def text(v: object) -> str:
    """A string attribute as the onnx package gives it (bytes), for comparing and for messages."""
    return v.decode(errors="replace") if isinstance(v, bytes) else str(v)


def _read(path: str, limits: Limits, prefix: str | None) -> tuple[dict[str, np.ndarray], dict[str, str], None]:
    graph = Graph(path, limits)
    found = graph.recurrent()
    chains = graph.chains(found)
    chain = graph.pick(chains, found, prefix)
    limits.check(graph.file, len(chain), "max_layers", f"{len(chain)} stacked layers ({shown(repr(n.id[:100]) for n in chain)})")
    arrays, source = graph.weights(chain)
    source["unused"] = [repr(k[:100]) for k in found if k not in source["nodes"]][:20]  # the other recurrent nodes
    source.update(graph.extras(chain, arrays))
    metadata = {"gatescope": BUNDLE_VERSION, "kind": chain[0].kind, "layout": "onnx", "options": json.dumps(chain[0].options),
                "source": json.dumps({k: v for k, v in source.items() if v not in ([], None)})}
    return arrays, metadata, None


class Graph:
    """A parsed model's main graph: who makes and who reads each tensor, and the constants it holds."""

    def __init__(self, path: str, limits: Limits):
        self.file, self.limits, self.total = label(path), limits, 0
        with open(path, "rb") as f:  # the caller has capped the file's size
            data = f.read()
        try:
            model = onnx.ModelProto.FromString(data)
        except Exception as e:  # protobuf's DecodeError, or RecursionError on hostile nesting
            raise FormatError(f"{self.file}: not a valid ONNX model ({type(e).__name__}: {str(e)[:200]})") from None
        g = model.graph
        if len(g.node) > MAX_NODES:
            raise FormatError(f"{self.file}: the graph holds {len(g.node)} nodes; at most {MAX_NODES} are read")
        limits.check(self.file, len(g.initializer), "max_tensors", f"{len(g.initializer)} initializers")
        self.nodes = list(g.node)
        self.init = {t.name: t for t in g.initializer}
        self.inputs = {i.name for i in g.input} - set(self.init)
        self.producer = {o: n for n in self.nodes for o in n.output if o}
        self.readers: dict[str, list[onnx.NodeProto]] = {}
        for n in self.nodes:
            for i in filter(None, n.input):  # "" is an optional input left out
                self.readers.setdefault(i, []).append(n)
        for t in [*g.initializer, *(a.t for n in self.nodes if n.op_type == "Constant" for a in n.attribute if a.name == "value")]:
            if t.data_location == TensorProto.EXTERNAL:
                raise FormatError(f"{self.file}: tensor {t.name[:100]!r} is stored in another file (external data), which "
                                  "gatescope never opens; save the model whole: onnx.save_model(model, 'm.onnx', "
                                  "save_as_external_data=False) after onnx.load('m.onnx')")

    # -- constants ----------------------------------------------------------------------------------------
    def tensor(self, name: str) -> onnx.TensorProto | None:
        """The constant tensor ``name`` is (an initializer or a Constant's value, through Identity), else None."""
        for _ in range(16):
            if name in self.init:
                return self.init[name]
            node = self.producer.get(name)
            if node is None or node.op_type not in ("Constant", "Identity"):
                return None
            if node.op_type == "Identity":
                name = node.input[0]
                continue
            return next((a.t for a in node.attribute if a.name == "value"), None)
        return None

    def made_by(self, name: str) -> str:
        """What a tensor that is not a constant is, for messages."""
        node = self.producer.get(name)
        return f"computed by the {node.op_type} node {node.name[:100]!r}" if node else "a graph input" if name in self.inputs else "missing"

    def array(self, t: onnx.TensorProto, where: str) -> np.ndarray:
        """A constant's data, once its declared shape, dtype and size are known to fit the limits and the bytes held."""
        dims = list(t.dims)
        kind = FLOATS.get(t.data_type)
        if kind is None and t.data_type not in (TensorProto.INT64, TensorProto.INT32):
            raise FormatError(f"{self.file}: {where} ({t.name[:100]!r}) holds {TensorProto.DataType.Name(t.data_type)} values; "
                              "weights are read as float, double or float16")
        if any(d < 0 for d in dims):
            raise FormatError(f"{self.file}: {where} ({t.name[:100]!r}) declares the shape {tuple(dims)}")
        count, size = math.prod(dims), np.dtype(kind or np.int64).itemsize
        self.total += decoded_bytes(count, size)
        self.limits.check(self.file, self.total, "max_bytes", f"tensors of {self.total} bytes once decoded (at {where})")
        held = len(t.raw_data) // size if t.HasField("raw_data") else len(getattr(t, HELD[t.data_type]))
        if held != count:
            raise FormatError(f"{self.file}: {where} ({t.name[:100]!r}) declares the shape {tuple(dims)} ({count} values) "
                              f"but holds {held}")
        return numpy_helper.to_array(t)

    def constant(self, name: str, where: str) -> np.ndarray:
        t = self.tensor(name)
        if t is None:
            raise FormatError(f"{self.file}: {where} ({name[:100]!r}) is {self.made_by(name)}, not an initializer or a "
                              "Constant; gatescope reads the weights a file holds")
        return self.array(t, where)

    # -- the recurrent nodes ------------------------------------------------------------------------------
    def recurrent(self) -> dict[str, Node | CellsError]:
        """Each recurrent node by id: what it is, or why it cannot be read."""
        mine = [(i, n) for i, n in enumerate(self.nodes) if n.op_type in DEFAULT_ACTIVATIONS and n.domain in ("", "ai.onnx")
                and kinds.of_class(n.op_type)]
        names = [n.name for _, n in mine]
        out: dict[str, Node | CellsError] = {}
        for i, n in mine:
            nid = n.name if n.name and names.count(n.name) == 1 else f"{n.name or n.op_type}#{i}"
            try:
                out[nid] = self.describe(nid, n)
            except CellsError as e:  # FormatError, or UnknownKindError for an input naming a kind not registered
                out[nid] = e
        if not out:
            ops = sorted({n.op_type for n in self.nodes})
            raise FormatError(f"{self.file}: an ONNX graph with no LSTM, GRU or RNN node (its operators: {shown(ops, 12) or 'none'})")
        return out

    def describe(self, nid: str, n: onnx.NodeProto) -> Node:
        """A node's kind, options and sizes, from its attributes and its weights' declared shapes."""
        where = f"{self.file}: node {nid[:100]!r}"
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if set(attrs) - ATTRIBUTES:
            raise FormatError(f"{where}: attribute {sorted(set(attrs) - ATTRIBUTES)[0][:40]!r} is not one of the {n.op_type} operator's")
        direction = text(attrs.get("direction", b"forward"))
        if direction not in ("forward", "bidirectional"):
            raise FormatError(f"{where}: direction {direction[:20]!r}; gatescope reads forward and bidirectional nodes (a reverse "
                              "direction runs only beside a forward one, as in PyTorch's bidirectional=True)")
        if "clip" in attrs:
            raise FormatError(f"{where}: clip {attrs['clip']!r}; ONNX clips every gate's pre-activation to ±clip, which no "
                              "gatescope kind computes (export the model without clip)")
        if attrs.get("input_forget"):
            raise FormatError(f"{where}: input_forget {attrs['input_forget']}; the coupled forget gate f = 1 − i (a CIFG LSTM) "
                              "is not read from ONNX")
        inputs = {k: v for k, v in zip(INPUTS, n.input) if v}
        kind = kinds.of_class(n.op_type)
        for extra, other in kinds.get(kind).onnx_inputs.items():
            kind = other if extra in inputs else kind
        spec, D = kinds.get(kind), 2 if direction == "bidirectional" else 1
        options = self.activations(where, n.op_type, spec, attrs, D)
        options.update({opt: bool(attrs.get(flag, 0)) for flag, opt in spec.onnx_flags.items()})
        G = len(spec.blocks)
        tensors = {k: self.tensor(inputs.get(k, "")) for k in ("W", "R", "B", "P") if k in inputs or k in "WR"}
        for k, t in tensors.items():
            if t is None:
                self.constant(inputs.get(k, ""), f"node {nid[:100]!r} input {k}")  # the error that says what it is
        shapes = {k: tuple(t.dims) for k, t in tensors.items()}
        H = shapes["R"][-1] if len(shapes["R"]) == 3 else -1
        I = shapes["W"][-1] if len(shapes["W"]) == 3 else -1
        want = {"W": (D, G * H, I), "R": (D, G * H, H), "B": (D, 2 * G * H), "P": (D, 3 * H)}
        for k, shape in shapes.items():
            if shape != want[k] or H < 1 or I < 1:
                raise FormatError(f"{where}: input {k} has shape {shape}; a {direction} {n.op_type} of {G} gate blocks "
                                  f"({', '.join(spec.blocks)}) has {want[k]}")
        if attrs.get("hidden_size", H) != H:
            raise FormatError(f"{where}: hidden_size {attrs['hidden_size']} but R has shape {shapes['R']}: hidden size {H}")
        self.limits.check(self.file, H, "max_hidden", f"hidden size {H} (node {nid[:100]!r}, input R)")
        return Node(nid, n, kind, options, D, H, I, inputs)

    def activations(self, where: str, op: str, spec, attrs: dict, D: int) -> dict:
        """The options a node's activations set, one direction's list at a time (ONNX lists both directions')."""
        default = DEFAULT_ACTIVATIONS[op]
        given = [text(a).lower() for a in attrs.get("activations", [])] or list(default) * D
        found = [tuple(given[d * len(default):(d + 1) * len(default)]) for d in range(D)]
        if len(given) != len(default) * D or any(f not in spec.onnx_activations for f in found) or len(set(found)) > 1:
            known = "; ".join(", ".join(k) for k in spec.onnx_activations)
            raise FormatError(f"{where}: activations {', '.join(given)[:200]}; the {spec.name} kind computes "
                              f"{known} (each direction alike)")
        return dict(spec.onnx_activations[found[0]])

    # -- stacks, and which group ------------------------------------------------------------------------------
    def reshaped(self, n: Node) -> str | None:
        """The tensor [T, batch, D*H] made of node ``n``'s Y [T, D, batch, H] as torch does it, if the graph makes it."""
        name = n.proto.output[0] if n.proto.output else ""
        if not name or any(a.name == "layout" and a.i for a in n.proto.attribute):  # layout=1: batch first, not joined
            return None
        for op, fits in ((("Squeeze", lambda v: v == [1]),) if n.directions == 1 else
                         (("Transpose", lambda v: v == [0, 2, 1, 3]), ("Reshape", lambda v: len(v) == 3 and v[2] in (-1, 2 * n.hidden)))):
            step = next((r for r in self.readers.get(name, []) if r.op_type == op and r.input[0] == name
                         and fits(self.ints(r, INT_ATTRIBUTE[op]) or [])), None)
            if step is None:
                return None
            name = step.output[0]
        return name

    def ints(self, node: onnx.NodeProto, attr: str) -> list[int] | None:
        """A small integer list a node takes as an attribute (perm; axes before opset 13) or as its second input."""
        for a in node.attribute:
            if a.name == attr:
                return list(a.ints)
        t = self.tensor(node.input[1]) if len(node.input) > 1 else None
        if t is None or t.data_type not in (TensorProto.INT64, TensorProto.INT32) or math.prod(t.dims) > 8:
            return None
        return [int(v) for v in self.array(t, f"node {node.name[:100]!r} input 1").ravel()]

    def chains(self, found: dict[str, Node | CellsError]) -> list[list[Node]]:
        """Each readable node with the nodes stacked on it, bottom first; a node read as layer k+1 starts no group."""
        nodes = [n for n in found.values() if isinstance(n, Node)]
        by_proto = {id(n.proto): n for n in nodes}
        above: dict[str, Node] = {}
        for n in nodes:
            y = self.reshaped(n)
            ups = [by_proto[id(r)] for r in self.readers.get(y or "", []) if id(r) in by_proto and r.input[0] == y]
            if len(ups) == 1 and (ups[0].kind, ups[0].options, ups[0].directions, ups[0].hidden, ups[0].input_size) == \
                    (n.kind, n.options, n.directions, n.hidden, n.directions * n.hidden):
                above[n.id] = ups[0]
        stacked = {u.id for u in above.values()}
        out = []
        for n in nodes:
            if n.id not in stacked:
                chain = [n]
                while chain[-1].id in above and len(chain) <= len(nodes):
                    chain.append(above[chain[-1].id])
                out.append(chain)
        return out

    def pick(self, chains: list[list[Node]], found: dict[str, Node | CellsError], prefix: str | None) -> list[Node]:
        """The group ``prefix`` names (a node's id: its stack from there up if it is a stack's bottom), or the only one."""
        groups: list[list[Node] | CellsError] = [*chains, *(e for e in found.values() if isinstance(e, CellsError))]
        if prefix is None and len(groups) == 1 or prefix in found:
            hit = found[prefix] if prefix is not None else groups[0]
            if isinstance(hit, CellsError):
                raise hit
            return hit if isinstance(hit, list) else next((c for c in chains if c[0] is hit), [hit])

        def said(g: list[Node] | CellsError) -> str:
            if isinstance(g, CellsError):
                return f"{next(k for k, v in found.items() if v is g)[:100]!r} (not readable: {str(g).split(': ', 2)[-1][:80]})"
            more = f", {len(g)} layers: {', '.join(repr(n.id[:100]) for n in g)}" if len(g) > 1 else ""
            return f"{g[0].id[:100]!r} ({g[0].kind}{', bidirectional' if g[0].directions == 2 else ''}{more})"

        listed, first = "; ".join(said(g) for g in groups[:10]), (chains[0][0].id if chains else next(iter(found)))[:100]
        if prefix is not None:
            raise AmbiguousWeightsError(f"{self.file}: prefix {prefix[:100]!r} names no LSTM, GRU or RNN node; the graph "
                                        f"holds {listed}", list(found))
        raise AmbiguousWeightsError(f"{self.file}: the graph holds {len(groups)} groups of recurrent nodes: {listed}; pick one "
                                    f"with prefix= (a node's name; the page: Group), e.g. cells.load(..., prefix={first!r}), or ?prefix={first} "
                                    "when uploading", list(found))

    # -- the arrays ----------------------------------------------------------------------------------------
    def weights(self, chain: list[Node]) -> tuple[dict[str, np.ndarray], dict]:
        """The chain's weights in the onnx layout, one slot per layer-direction, and how they were found."""
        arrays, notes = {}, []
        single = len(chain) == 1 and chain[0].directions == 1
        for k, n in enumerate(chain):
            got = {key: self.constant(n.inputs[key], f"node {n.id[:100]!r} input {key}") for key in ("W", "R", "B", "P") if key in n.inputs}
            if "B" not in got:  # ONNX: no B is zero biases
                got["B"] = np.zeros((n.directions, 2 * got["W"].shape[1]), got["W"].dtype)
                notes.append(f"B of {n.id[:100]!r}: not given, zeros")
            for d in range(n.directions):  # ONNX's [num_directions, ...]: 0 forward, 1 reverse
                arrays.update({key + ("" if single else suffix(k, d)): a[d] for key, a in got.items()})
            notes += self.state(n)
        return arrays, {"format": "onnx", "layout": "onnx", "prefix": chain[0].id[:100], "nodes": [n.id[:100] for n in chain],
                        "not_read": notes[:20]}

    def state(self, n: Node) -> list[str]:
        """What is said of a node's sequence_lens and initial state; a constant nonzero initial state is refused."""
        notes = [f"sequence_lens of {n.id[:100]!r}: every sequence runs to its end"] if "sequence_lens" in n.inputs else []
        for key in ("initial_h", "initial_c"):
            name = n.inputs.get(key, "")
            made = self.producer.get(name)
            t = self.tensor(made.input[0] if made is not None and made.op_type == "Expand" else name)  # torch: zeros, expanded
            if name and t is None:
                notes.append(f"{key} of {n.id[:100]!r} ({self.made_by(name)}): runs start from zeros (Model.run takes h0=, c0=)")
            elif name and np.any(self.array(t, f"node {n.id[:100]!r} input {key}")):
                raise FormatError(f"{self.file}: node {n.id[:100]!r} input {key} ({name[:100]!r}) holds a nonzero initial state, "
                                  "which a gatescope model does not keep; its runs start from zeros (Model.run takes h0=, c0=)")
        return notes

    def extras(self, chain: list[Node], arrays: dict[str, np.ndarray]) -> dict:
        """The embedding under the bottom node and the head on the top one, where the graph has them plainly."""
        out, bottom, top = {}, chain[0], chain[-1]
        feed = self.producer.get(bottom.inputs["X"])
        while feed is not None and feed.op_type in ("Identity", "Transpose") and self.keeps_features(feed):  # batch_first
            feed = self.producer.get(feed.input[0])
        table = self.tensor(feed.input[0]) if feed is not None and feed.op_type == "Gather" and not self.axis(feed) else None
        if table is not None and len(table.dims) == 2 and table.dims[1] == bottom.input_size:
            arrays["embedding.weight"] = self.array(table, f"node {feed.name[:100]!r} input data (the embedding)")
            out["embedding"] = feed.name[:100]
        head = self.head(top)
        if head is not None:
            arrays["decoder.weight"], arrays["decoder.bias"], out["decoder"] = head
        return out

    def keeps_features(self, node: onnx.NodeProto) -> bool:
        perm = self.ints(node, INT_ATTRIBUTE["Transpose"]) if node.op_type == "Transpose" else None
        return node.op_type == "Identity" or bool(perm) and perm[-1] == len(perm) - 1

    def axis(self, node: onnx.NodeProto) -> int:
        return next((a.i for a in node.attribute if a.name == "axis"), 0)

    def head(self, top: Node) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
        """MatMul (+ Add) or Gemm on the top node's [T, batch, D*H] output: a per-step linear head, as decoder.* holds it."""
        y, width = self.reshaped(top) or "", top.directions * top.hidden
        ys = [y] + [r.output[0] for r in self.readers.get(y, []) if r.input[0] == y and (  # batch first again, or [T*batch, D*H]
            r.op_type == "Transpose" and self.keeps_features(r)
            or r.op_type == "Reshape" and self.ints(r, INT_ATTRIBUTE["Reshape"]) in ([-1, width], [0, width]))]
        step = next((r for v in ys for r in self.readers.get(v, []) if r.op_type in ("MatMul", "Gemm") and r.input[0] == v), None)
        t = self.tensor(step.input[1]) if step is not None else None
        attrs = {a.name: helper.get_attribute_value(a) for a in step.attribute} if step is not None else {}
        if t is None or len(t.dims) != 2 or t.dims[1 if attrs.get("transB") else 0] != width or attrs.get("transA"):
            return None
        w = self.array(t, f"node {step.name[:100]!r} input B (the head)")
        w = (w if attrs.get("transB") else w.T) * attrs.get("alpha", 1.0)  # decoder.weight is (outputs, D*H)
        names, bias = [step.name[:100]], np.zeros(len(w), w.dtype)
        if step.op_type == "Gemm" and len(step.input) > 2 and step.input[2]:
            c = self.tensor(step.input[2])
            fits = c is not None and math.prod(c.dims) == len(w)
            bias = self.array(c, f"node {step.name[:100]!r} input C").ravel() * attrs.get("beta", 1.0) if fits else None
        add = next((r for r in self.readers.get(step.output[0], []) if r.op_type == "Add"), None) if step.op_type == "MatMul" else None
        if add is not None:
            c = self.tensor(next((i for i in add.input if i != step.output[0]), ""))
            if c is not None and math.prod(c.dims) == len(w):
                bias, names = self.array(c, f"node {add.name[:100]!r} (the head's bias)").ravel(), names + [add.name[:100]]
        return None if bias is None else (np.ascontiguousarray(w), bias, names)
