"""The gatescope command: ``gatescope`` or ``gatescope serve --host --port --open --workers``."""

from __future__ import annotations

import argparse
import threading
import webbrowser

import uvicorn


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
    args = ap.parse_args(argv)
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    if args.open:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    print(f"gatescope: serving on {url}")
    # float32 step frames barely compress, and deflating them costs more than sending them
    uvicorn.run("app.main:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, ws_max_size=4 * 1024 * 1024, ws_per_message_deflate=False)


if __name__ == "__main__":
    main()
