"""The gatescope command: ``gatescope`` or ``gatescope serve --host --port --open --workers --trusted-proxies``,
``gatescope export --preset NAME --input TEXT --format html|json|npz|csv -o FILE`` (a view written to a file), and
``gatescope convert m.pt -o m.safetensors [--vocab FILE] [--prefix P]`` (a user's own file as a bundle)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
import threading
import webbrowser

import uvicorn
from uvicorn.supervisors import Multiprocess

from .serve_protocol import HeaderTimeoutProtocol


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="gatescope", description="See inside recurrent cells, step by step, in the browser.")
    sub = ap.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="start the web app (the default command)")
    for p in (ap, serve):
        p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
        p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        p.add_argument("--workers", type=int, default=1, help="worker processes (default 1); any number behaves as one")
        p.add_argument("--open", action="store_true", help="open the page in a browser once the server is up")
        p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
        p.add_argument("--trusted-proxies", metavar="ADDRS", help="space-separated addresses or networks (10.0.0.0/8) of reverse "
                       "proxies whose X-Forwarded-For names the client; sets GATESCOPE_TRUSTED_PROXIES (default: trust none)")
    export_parser(sub)
    convert_parser(sub)
    args = ap.parse_args(argv)
    if args.command == "export":
        sys.exit(export(args))
    if args.command == "convert":
        sys.exit(convert(args))
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{args.port}/"
    if args.open:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    if local := loopback_hosts(args.host):  # DNS rebinding: a page on attacker.example resolved to 127.0.0.1
        os.environ.setdefault("GATESCOPE_ALLOWED_HOSTS", local)  # sends Host: attacker.example
    if args.trusted_proxies is not None:  # the environment reaches the factory in every worker process
        os.environ["GATESCOPE_TRUSTED_PROXIES"] = args.trusted_proxies
    # One BLAS thread per computation: the server runs up to GATESCOPE_HEAVY_WORKERS of them side by side, and a
    # per-step matrix-vector product gains nothing from a second thread but its wake-up latency (seen: the same
    # 64 x 256 product at 32 us and 18 ms under load). Set before NumPy loads, in this process and every worker.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    print(f"gatescope: serving on {url}")
    # float32 step frames barely compress, and deflating them costs more than sending them;
    # proxy_headers=False: uvicorn would believe X-Forwarded-For from 127.0.0.1, create_app trusts only trusted_proxies
    # ws="wsproto": uvicorn's websockets-sansio protocol never answers a handshake whose request line is over 8 KB (the
    # connection hangs; seen for 240 s) and logs a traceback for every text frame that is not UTF-8
    # http: uvicorn's h11 protocol with a limit on the time a request's headers take (app/serve_protocol.py); uvicorn
    # has none, and a client that trickles its headers holds its connection for ever
    options = dict(factory=True, host=args.host, port=args.port, log_level=args.log_level, ws="wsproto", ws_max_size=4 * 1024 * 1024,
                   ws_per_message_deflate=False, proxy_headers=False, http=HeaderTimeoutProtocol)
    if args.workers > 1:
        run_workers(uvicorn.Config("gatescope.app.main:create_app", workers=args.workers, **options))
    else:
        uvicorn.run("gatescope.app.main:create_app", **options)


def loopback_hosts(host: str) -> str | None:
    """allowed_hosts for a server listening on ``host`` when none is set: on a loopback address (any of 127.0.0.0/8,
    such as Debian's 127.0.1.1, or ::1) or "localhost", the local names and that address; elsewhere None (any host).
    Addresses only, as the system reads a numeric host (127.1 is 127.0.0.1): no name is looked up."""
    name = host.strip().removeprefix("[").removesuffix("]")
    if name.lower() == "localhost":
        return LOCAL_HOSTS
    try:
        info = socket.getaddrinfo(name, None, flags=socket.AI_NUMERICHOST)
        address = ipaddress.ip_address(info[0][4][0].split("%")[0])
    except (OSError, ValueError, IndexError):
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.2, which is_loopback calls not loopback before 3.13
    if not (address.is_loopback or mapped and mapped.is_loopback):
        return None
    spelled = {str(address) if address.version == 4 else f"[{address}]", name if address.version == 4 else f"[{name}]"}
    extra = sorted(spelled - set(LOCAL_HOSTS.split()))
    return " ".join(["localhost", *extra, "127.0.0.1", "[::1]"])


LOCAL_HOSTS = "localhost 127.0.0.1 [::1]"


def export_parser(sub) -> None:
    p = sub.add_parser("export", help="write a view to a file: a standalone page that plays offline (html), or the trace (json, npz, csv)",
                       description="Write one view of a model to a file, as the page's Export menu does. The html format is one file "
                       "that plays from file:// with no server (about 2 MB: it holds plotly.js).")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", help="a shipped model (e.g. adding-lstm); the default preset when no model is named")
    src.add_argument("--model", metavar="PATH", help="a bundle or weights file (.safetensors, .npz, .keras, .weights.h5, .onnx), read as an upload is")
    p.add_argument("--kind", help="a random model of this kind (lstm, gru, ...); with --model: the kind of a plain weights file")
    p.add_argument("--prefix", help="with --model: which recurrent weights, when the file holds several (e.g. encoder.rnn.)")
    p.add_argument("--layout", choices=("torch", "keras", "tf1", "onnx"), help="with --model: how plain weights are named")
    p.add_argument("--input", help="the input: text, or numbers ('0.5 1; 0 1'); default: the model's own example")
    p.add_argument("--step", type=int, help="the step shown (default 0)")
    p.add_argument("--phase", help="the phase shown (a name of the kind's phases)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="any other view-state field (as in the page's URL), e.g. --set palette=colorblind --set names=h,c; repeatable")
    p.add_argument("--format", default="html", choices=FORMATS, help="what to write (default html)")
    p.add_argument("-o", "--output", metavar="FILE", help="where to write (default gatescope-export.FORMAT; - for stdout)")


def convert_parser(sub) -> None:
    p = sub.add_parser("convert", help="write your own weights file (.pt, .keras, .onnx, ...) as a gatescope bundle the server reads",
                       description="Read a weights file on your own machine (PyTorch .pt/.pth state_dicts and checkpoints are read "
                       "with torch.load(weights_only=True), so torch must be installed) and write a gatescope bundle: "
                       "the recurrent weights, their embedding and output layer, and the vocabulary that lets the page read text.")
    p.add_argument("file", help="the weights file: .pt/.pth, .safetensors, .npz, .keras, .weights.h5 or .onnx")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the bundle to write (.safetensors)")
    p.add_argument("--vocab", metavar="FILE", help="the vocabulary: a JSON list (token i is row i of the embedding) or "
                   "{token: id}, or a text file with one token per line")
    p.add_argument("--prefix", help="which recurrent weights, when the file holds several (e.g. encoder.rnn.)")
    p.add_argument("--kind", help="the cell kind, where the weights' shapes do not say it (lstm, gru, rnn, ...)")
    p.add_argument("--layout", choices=("torch", "keras", "tf1"), help="how plain weights are named (default torch)")
    p.add_argument("--embedding", metavar="NAME", help="the embedding's tensor (e.g. emb.weight), when not exactly one fits")
    p.add_argument("--decoder", metavar="NAME", help="the output layer (e.g. fc.weight, with fc.bias), when not exactly one fits")


def convert(args) -> int:
    """gatescope convert: 0 when the bundle is written; 2 with the reader's message when the file is refused."""
    from gatescope.cells import CellsError
    from gatescope.convert import convert as write_bundle
    try:
        m = write_bundle(args.file, args.output, vocab=args.vocab, kind=args.kind, layout=args.layout, prefix=args.prefix,
                         embedding=args.embedding, decoder=args.decoder)
    except (CellsError, OSError) as e:
        print(f"gatescope convert: {e}", file=sys.stderr)
        return 2
    parts = [f"{m.kind}, input {m.input_size}, hidden {m.hidden_size}, {m.num_layers} layer{'s' * (m.num_layers > 1)}"
             + (", bidirectional" if m.bidirectional else "")]
    parts += [f"vocabulary of {len(m.vocab)}"] if m.vocab is not None else ["no vocabulary (the page reads numbers; --vocab to read text)"]
    parts += [f"head of {m.n_outputs} outputs"] if m.decoder is not None else []
    print(f"gatescope convert: wrote {args.output}: {'; '.join(parts)}")
    for key, said in (m.assumed or {}).items():
        print(f"  assumed {key}: {said}")
    return 0


def export(args) -> int:
    """gatescope export: 0 when the file is written; 2 with the API's message (field, value, limit) when the view is refused."""
    from .errors import AppError
    from .schemas import ViewState
    sets = dict(s.split("=", 1) for s in args.set if "=" in s)
    wrong = [s for s in args.set if "=" not in s] + [name for name in sets if name not in ViewState.model_fields]
    if wrong:
        print(f"gatescope export: --set {wrong[0]!r} is not NAME=VALUE of a view-state field; the fields are "
              f"{', '.join(ViewState.model_fields)}", file=sys.stderr)
        return 2
    fields = {"preset": args.preset, "input": args.input, "step": args.step, "phase": args.phase, **sets}
    if args.kind and not args.model:
        fields["kind"] = args.kind
    fields = {k: v for k, v in fields.items() if v is not None}
    try:
        data = export_bytes(fields | ({"kind": args.kind} if args.model and args.kind else {}), args.format, args.model,
                            reading={k: v for k, v in (("prefix", args.prefix), ("layout", args.layout)) if v})
    except AppError as e:
        print(f"gatescope export: {e.detail}", file=sys.stderr)
        return 2
    out = args.output or f"gatescope-export.{args.format}"
    if out == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(out, "wb") as f:
            f.write(data)
        size = f"{len(data) / 1e6:.1f} MB" if len(data) > 1e5 else f"{len(data)} bytes"
        print(f"gatescope export: wrote {out} ({size})")
    return 0


FORMATS = ("html", "json", "npz", "csv")


def validated(fields: dict):
    """The view state as GET /api/trace reads its query; a bad field is the API's 422, as one line naming the field,
    the value and the rule it breaks."""
    from pydantic import ValidationError

    from .errors import AppError
    from .schemas import ViewState
    try:
        return ViewState.model_validate(fields)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise AppError(422, f"{field}: {err['msg']} (got {err.get('input')!r})", field) from None


def export_bytes(fields: dict, fmt: str, model_path: str | None = None, settings=None, reading: dict | None = None) -> bytes:
    """What ``gatescope export`` writes: the standalone page, or /api/trace's own json, npz or csv answer."""
    import tempfile
    from pathlib import Path

    from . import run, wire
    from .config import Settings
    from .errors import AppError
    from .standalone import page, payload_of
    from .store import ModelStore
    if fmt not in FORMATS:
        raise AppError(422, f"format: {fmt!r} is not one of {', '.join(FORMATS)}", "format")
    with tempfile.TemporaryDirectory(prefix="gatescope-export-") as tmp:
        settings = (settings or Settings()).model_copy(update={"upload_dir": tmp})
        store = ModelStore(settings)
        fields = dict(fields)
        if model_path and not Path(model_path).is_file():
            raise AppError(422, f"model: {model_path!r} is not a file; give a bundle or weights file (.safetensors, .npz, .keras, .weights.h5, .onnx)", "model")
        if model_path:  # the file is read as an upload is (limits and all), from a store that lives for this export
            reading = dict(reading or {})
            fields["model"], _ = store.add_file(Path(model_path), fields.pop("kind", None), reading.pop("layout", None), reading)
        view = validated({**fields, "format": "json" if fmt == "html" else fmt})
        r = run.resolve(view, settings, store)
        if fmt == "html":
            return page(payload_of(r, settings), settings).encode()
        body, _, _ = wire.trace_answer(r, fmt, settings)
        return body if isinstance(body, bytes) else b"".join(b if isinstance(b, bytes) else b.encode() for b in body)


def run_workers(config: uvicorn.Config) -> None:
    """uvicorn.run's --workers path, with the listening socket marked as TCP. uvicorn binds it with proto 0, so asyncio
    leaves Nagle's algorithm on in the workers, and each keep-alive request after the first waits ~40 ms for the
    peer's delayed ACK (uvicorn issue 3149): every request a proxy sends on its kept-alive upstream connections."""
    bound = config.bind_socket()
    sock = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


if __name__ == "__main__":
    main()
