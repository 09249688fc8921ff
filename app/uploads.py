"""An upload's body to a file on disk: the raw bytes (curl --data-binary, the page), or the file part of a
multipart/form-data form (curl -F file=@m.pt, requests.post(files=...), an HTML form), parsed as it streams.

Either way the body is counted against max_upload_bytes as it arrives, a client that stalls is answered 408, and
nothing but the one file part is written. A form's text fields (kind, layout, prefix, ...) are small and few, each
checked against a limit before it is kept, and they join the query's parameters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from .errors import AppError, over_limit, setting

CLOSE = {"Connection": "close"}
MAX_FIELDS, MAX_FIELD_BYTES = 20, 1000  # a form's text fields: kind=lstm, prefix=encoder.rnn., ... (the query's own, in a form)


@dataclass
class Body:
    size: int = 0                   # bytes of the request body
    fields: dict[str, str] = field(default_factory=dict)  # a form's text fields
    form: bool = False              # whether the body was a multipart form


async def receive(request: Request, f, limit: int, idle: float) -> Body:
    """Write the upload's file to ``f``; a client that sends nothing for ``idle`` seconds, or takes longer than
    10 x idle in all, is answered 408, so a stalled upload cannot hold a temp file and a descriptor for ever."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind == b"application/x-www-form-urlencoded":  # an HTML form without enctype, requests' data= without files=
        raise AppError(422, "file: a form without a file (application/x-www-form-urlencoded); send the file as a multipart "
                            "form's file field (curl -F file=@model.safetensors), or its bytes as the body", "file")
    body = Body(form=kind == b"multipart/form-data")
    sink = _Form(f, options.get(b"boundary", b""), body) if body.form else None
    chunks, deadline = request.stream().__aiter__(), time.monotonic() + 10 * idle
    while True:
        wait = min(idle, deadline - time.monotonic())
        chunk = None
        with anyio.move_on_after(max(0.0, wait)):
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                if sink:
                    sink.finish()
                return body
        if chunk is None:
            what = f"nothing for {idle:g} s" if wait == idle else f"more than {10 * idle:g} s in all"
            raise AppError(408, f"file: the upload sent {what} after {body.size} bytes ({setting('upload_idle_seconds')}); "
                                "send the whole file at once", "file", headers=CLOSE)
        body.size += len(chunk)
        if body.size > limit:
            e = over_limit("file", f"more than {limit} bytes", limit, "max_upload_bytes")
            e.headers = CLOSE  # the rest of the body is not read: the connection cannot carry another request (RFC 9110 15.5.9)
            raise e
        if sink:
            sink.write(chunk)
        else:
            f.write(chunk)


class _Form:
    """python-multipart's streaming parser, keeping the one file part (written to ``f``) and the small text fields."""

    def __init__(self, f, boundary: bytes, body: Body):
        if not boundary:
            raise AppError(422, "file: a multipart/form-data body without a boundary in its Content-Type", "file")
        self.f, self.body = f, body
        self.files, self.ended = 0, False
        self._name = self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._part: str | None = None  # "file", or the text field's name
        self._text = bytearray()
        self.parser = MultipartParser(boundary, {
            "on_part_begin": self._begin, "on_header_field": self._header_field, "on_header_value": self._header_value,
            "on_header_end": self._header_end, "on_headers_finished": self._headers_done, "on_part_data": self._data,
            "on_part_end": self._end, "on_end": self._close})

    def write(self, chunk: bytes) -> None:
        try:
            self.parser.write(chunk)
        except MultipartParseError as e:
            raise AppError(422, f"file: the multipart/form-data body is malformed ({e})", "file") from None

    def finish(self) -> None:
        self.write(b"")
        self.parser.finalize()
        if not self.ended:
            raise AppError(422, "file: the multipart/form-data body ends before its closing boundary (was the upload cut short?)", "file")
        if self.files == 0:
            raise AppError(422, "file: the form holds no file; send it as a file field (curl -F file=@model.safetensors, "
                                "requests.post(url, files={'file': open(path, 'rb')}))", "file")

    def _close(self) -> None:
        self.ended = True

    def _begin(self) -> None:
        self._headers, self._part = {}, None
        self._text.clear()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._name.lower()] = self._value
        self._name = self._value = b""

    def _headers_done(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options or name == "file":
            self.files += 1
            if self.files > 1:
                raise AppError(422, f"file: the form holds more than 1 file ({name!r} is the second); upload one file at a time", "file")
            self._part = "file"
            return
        if len(self.body.fields) >= MAX_FIELDS:
            raise AppError(422, f"form: more than {MAX_FIELDS} fields (the limit); send the file and its few parameters", "form")
        self._part = name

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._part == "file":
            self.f.write(data[start:end])
            return
        self._text += data[start:end]
        if len(self._text) > MAX_FIELD_BYTES:
            raise AppError(422, f"{self._part[:60]}: a form field of more than {MAX_FIELD_BYTES} bytes (the limit)", self._part[:60])

    def _end(self) -> None:
        if self._part and self._part != "file":
            try:
                self.body.fields[self._part] = self._text.decode("utf-8")
            except UnicodeDecodeError:
                raise AppError(422, f"{self._part[:60]}: the form field is not UTF-8 text", self._part[:60]) from None
